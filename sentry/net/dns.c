/* The sandbox's resolver (10.0.2.3:53, named by the sandbox's /etc/resolv.conf): a DNS
 * server over UDP in the sentry. A and AAAA questions are asked of the net gofer, which
 * answers only for names on the allowlist (NXDOMAIN for every other, without any host
 * lookup: DNS is no way out). host.ward.internal is answered here. Other question types
 * get NOTIMP; anything that is not a well-formed single-question query is dropped, as
 * a server would. */
#include "sentry/net/inet.h"
#include "gofer/net_wire.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DNS_MAX 1500 /* what the sentry reads of a query */
#define DNS_TTL 60
#define RCODE_NOTIMP 4

struct dns_pending {
	struct sock *sk; /* a reference */
	struct sockaddr_in6 resolver;
	uint16_t id, flags, qtype;
	uint8_t question[DNS_MAX]; /* the question section, echoed in the answer */
	size_t qlen;
};


static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Queues a response to the asking socket, from the resolver's address. */
static void respond(struct dns_pending *d, int rcode, const uint8_t (*addrs)[16], int n)
{
	struct sock *sk = d->sk;
	uint8_t out[DNS_MAX + 16 * 28 + 64];
	size_t len = 12;
	put16(out, d->id);
	/* QR, the query's RD, RA, and the code */
	put16(out + 2, (uint16_t)(0x8000 | (d->flags & 0x0100) | 0x0080 | (rcode & 0xf)));
	put16(out + 4, 1);
	put16(out + 8, 0);
	put16(out + 10, 0);
	memcpy(out + len, d->question, d->qlen);
	len += d->qlen;
	int an = 0;
	for (int i = 0; i < n; i++) {
		bool v4 = inet_is_v4mapped((const struct in6_addr *)addrs[i]);
		if (v4 != (d->qtype == NET_QTYPE_A))
			continue;
		size_t rdlen = v4 ? 4 : 16;
		put16(out + len, 0xc00c); /* the name: a pointer to the question's */
		put16(out + len + 2, d->qtype);
		put16(out + len + 4, 1); /* IN */
		put16(out + len + 6, 0);
		put16(out + len + 8, DNS_TTL);
		put16(out + len + 10, (uint16_t)rdlen);
		memcpy(out + len + 12, v4 ? addrs[i] + 12 : addrs[i], rdlen);
		len += 12 + rdlen;
		an++;
	}
	put16(out + 6, (uint16_t)an);
	if (sk->closed || (sk->shutdown & SHUT_RCV) || sk->rx_bytes + len > (size_t)sk->rcvbuf)
		return; /* dropped, as UDP does */
	struct kmsg km = {0};
	iter_init_kernel(&km.iter, out, len);
	struct skb *skb;
	if (skb_from_msg(&km, len, &skb) < 0)
		return;
	memcpy(&skb->from, &d->resolver, sizeof(d->resolver));
	skb->fromlen = sizeof(d->resolver);
	skb_queue(sk, skb);
	waitqueue_wake_all(&sk->wq);
}

static void dns_free(struct dns_pending *d)
{
	sock_put(d->sk);
	free(d);
}

void dns_answer(struct dns_pending *d, const struct net_msg *rep)
{
	int rcode = rep->resolve_rep.rcode;
	if (rcode != NET_RCODE_NOERROR && rcode != NET_RCODE_NXDOMAIN)
		rcode = NET_RCODE_SERVFAIL;
	respond(d, rcode, rep->resolve_rep.addrs, rcode ? 0 : rep->resolve_rep.count);
	dns_free(d);
}

void dns_abandon(struct dns_pending *d)
{
	respond(d, NET_RCODE_SERVFAIL, NULL, 0);
	dns_free(d);
}

/* The question's name as text (lowercase), and its end; -1 if malformed. Compression
 * pointers have no place in a question and are refused. */
static long parse_name(const uint8_t *p, size_t len, size_t off, char *name, size_t cap)
{
	size_t o = 0;
	for (;;) {
		if (off >= len)
			return -1;
		uint8_t l = p[off++];
		if (l == 0)
			break;
		if (l > 63 || off + l > len || o + l + 2 > cap)
			return -1;
		if (o)
			name[o++] = '.';
		for (unsigned i = 0; i < l; i++) {
			uint8_t ch = p[off + i];
			if (ch <= 0x20 || ch >= 0x7f || ch == '.')
				return -1;
			name[o++] = (char)tolower(ch);
		}
		off += l;
	}
	if (o == 0)
		return -1; /* the root */
	name[o] = '\0';
	return (long)off;
}

long dns_query(struct sock *sk, struct task *t, struct kmsg *m, const struct sockaddr_in6 *resolver)
{
	uint8_t q[DNS_MAX];
	size_t len = m->len < sizeof(q) ? m->len : sizeof(q);
	if (iter_copy_from(&m->iter, q, len) < 0)
		return -EFAULT;
	if (len < 12)
		return (long)m->len;
	uint16_t id = (uint16_t)(q[0] << 8 | q[1]), flags = (uint16_t)(q[2] << 8 | q[3]);
	uint16_t qd = (uint16_t)(q[4] << 8 | q[5]);
	if ((flags & 0x8000) || ((flags >> 11) & 0xf) != 0 || qd != 1)
		return (long)m->len; /* a response, another opcode, or not one question */
	char name[256];
	long end = parse_name(q, len, 12, name, sizeof(name));
	if (end < 0 || (size_t)end + 4 > len)
		return (long)m->len;
	uint16_t qtype = (uint16_t)(q[end] << 8 | q[end + 1]), qclass = (uint16_t)(q[end + 2] << 8 | q[end + 3]);
	struct dns_pending *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOBUFS;
	sock_get(sk);
	d->sk = sk;
	d->resolver = *resolver;
	d->id = id;
	d->flags = flags;
	d->qtype = qtype;
	d->qlen = (size_t)end + 4 - 12;
	memcpy(d->question, q + 12, d->qlen);
	if (qclass != 1 || (qtype != NET_QTYPE_A && qtype != NET_QTYPE_AAAA)) {
		respond(d, RCODE_NOTIMP, NULL, 0);
		dns_free(d);
		return (long)m->len;
	}
	if (strcmp(name, "host.ward.internal") == 0) {
		uint8_t a[1][16] = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 2, 2}};
		respond(d, NET_RCODE_NOERROR, a, qtype == NET_QTYPE_A ? 1 : 0);
		dns_free(d);
		return (long)m->len;
	}
	if (egress_resolve(sk->k, d, name, qtype, t) < 0)
		dns_abandon(d);
	return (long)m->len;
}
