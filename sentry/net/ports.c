/* The port tables (one for TCP, one for UDP): which socket holds which address and port,
 * the bind conflicts Linux reports as EADDRINUSE (with SO_REUSEADDR and SO_REUSEPORT
 * exceptions), ephemeral ports (32768-60999, net.ipv4.ip_local_port_range), and which
 * socket a connection or datagram to an address reaches. */
#include "sentry/net/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#define EPHEMERAL_LOW 32768
#define EPHEMERAL_HIGH 60999

/* The addresses a socket bound to local covers, per IP version: NONE, ANY, or one. */
enum cover { COVER_NONE, COVER_ANY, COVER_ONE };

struct coverage {
	enum cover v4, v6;
	struct in6_addr addr;
};

static struct coverage coverage_of(int family, bool v6only, const struct in6_addr *a)
{
	struct coverage c = {COVER_NONE, COVER_NONE, *a};
	bool any = inet_is_any(a);
	if (family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(a)) {
		c.v6 = COVER_ANY; /* [::] also takes IPv4 unless IPV6_V6ONLY */
		c.v4 = v6only ? COVER_NONE : COVER_ANY;
		return c;
	}
	if (family == AF_INET || inet_is_v4mapped(a)) {
		c.v4 = any ? COVER_ANY : COVER_ONE;
		return c;
	}
	c.v6 = any ? COVER_ANY : COVER_ONE;
	return c;
}

static bool part_overlaps(enum cover x, enum cover y, const struct in6_addr *a, const struct in6_addr *b)
{
	if (x == COVER_NONE || y == COVER_NONE)
		return false;
	if (x == COVER_ANY || y == COVER_ANY)
		return true;
	return memcmp(a, b, sizeof(*a)) == 0;
}

static bool overlaps(const struct coverage *x, const struct coverage *y)
{
	return part_overlaps(x->v4, y->v4, &x->addr, &y->addr) ||
	       part_overlaps(x->v6, y->v6, &x->addr, &y->addr);
}

static uint16_t port_of(struct sock *s)
{
	return ntohs(in6_of(&s->local)->sin6_port);
}

/* Whether sk may share its port with o (addresses that overlap). */
static bool may_share(struct sock *sk, struct sock *o, bool sk_listening)
{
	if (sk->reuseport && o->reuseport && sk->owner_uid == o->owner_uid)
		return true;
	if (sk->reuseaddr && o->reuseaddr) {
		if (sk->type == SOCK_DGRAM)
			return true;
		return o->state != SS_LISTENING && !sk_listening;
	}
	return false;
}

static bool conflicts(struct sock *sk, struct list_head *table, const struct in6_addr *addr, uint16_t port,
		      bool sk_listening)
{
	struct coverage mine = coverage_of(sk->family, sk->v6only, addr);
	struct list_head *pos;
	list_for_each(pos, table) {
		struct sock *o = list_entry(pos, struct sock, bind_link);
		if (o == sk || port_of(o) != port)
			continue;
		struct coverage theirs = coverage_of(o->family, o->v6only, &in6_of(&o->local)->sin6_addr);
		if (overlaps(&mine, &theirs) && !may_share(sk, o, sk_listening))
			return true;
	}
	return false;
}

int port_bind(struct sock *sk, struct list_head *table, const struct sockaddr_in6 *addr)
{
	struct net_state *n = net_of(sk->k);
	uint16_t port = ntohs(addr->sin6_port);
	if (port == 0) {
		uint32_t range = EPHEMERAL_HIGH - EPHEMERAL_LOW + 1;
		uint32_t i;
		for (i = 0; i < range; i++) {
			uint16_t p = (uint16_t)(EPHEMERAL_LOW + (n->ephemeral_next + i) % range);
			if (!conflicts(sk, table, &addr->sin6_addr, p, false)) {
				port = p;
				break;
			}
		}
		if (i == range)
			return -EADDRINUSE; /* Linux: EADDRINUSE for bind, EADDRNOTAVAIL on connect */
		n->ephemeral_next = (n->ephemeral_next + i + 1) % range;
		sk->ephemeral_port = true;
	} else if (conflicts(sk, table, &addr->sin6_addr, port, false)) {
		return -EADDRINUSE;
	}
	struct sockaddr_in6 *l = in6_of(&sk->local);
	*l = *addr;
	l->sin6_family = AF_INET6;
	l->sin6_port = htons(port);
	sk->bound = true;
	list_add_tail(&sk->bind_link, table);
	return 0;
}

void port_add(struct sock *sk, struct list_head *table)
{
	sk->bound = true;
	list_add_tail(&sk->bind_link, table);
}

void port_unbind(struct sock *sk)
{
	if (!sk->bound)
		return;
	list_del_init(&sk->bind_link);
	sk->bound = false;
}

bool port_listen_conflict(struct sock *sk, struct list_head *table)
{
	return conflicts(sk, table, &in6_of(&sk->local)->sin6_addr, port_of(sk), true);
}

struct sock *port_lookup(struct list_head *table, const struct sockaddr_in6 *dst, int family_of_sender,
			 int state_filter)
{
	(void)family_of_sender;
	uint16_t port = ntohs(dst->sin6_port);
	bool v4 = inet_is_v4mapped(&dst->sin6_addr);
	struct sock *best = NULL;
	int best_score = 0;
	struct list_head *pos;
	list_for_each(pos, table) {
		struct sock *o = list_entry(pos, struct sock, bind_link);
		if (port_of(o) != port || o->closed)
			continue;
		if (state_filter >= 0 && (int)o->state != state_filter)
			continue;
		struct coverage c = coverage_of(o->family, o->v6only, &in6_of(&o->local)->sin6_addr);
		enum cover part = v4 ? c.v4 : c.v6;
		int score = 0;
		if (part == COVER_ONE && memcmp(&c.addr, &dst->sin6_addr, sizeof(c.addr)) == 0)
			score = 2;
		else if (part == COVER_ANY)
			score = 1;
		if (score > best_score) {
			best = o;
			best_score = score;
		}
	}
	return best;
}
