/* The sandbox's resolver (10.0.2.3:53, named by the sandbox's /etc/resolv.conf): a DNS
 * server in the sentry, over UDP (here) and TCP (dns_tcp.c), both answering through
 * dns_start. A and AAAA questions are asked of the net gofer, which answers only for
 * names on the allowlist (NXDOMAIN for every other, without any host lookup: DNS is no
 * way out). host.ward.internal is answered here. Other question types, classes and
 * opcodes get NOTIMP; a query whose header is readable but whose question is not (or
 * that asks other than one question) gets FORMERR; a message too short for a header,
 * and a response, get nothing, as from a real server. */
#include "sentry/net/dns.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DNS_TTL 60
#define RCODE_FORMERR 1
#define RCODE_NOTIMP 4
/* UDP queries waiting for the net gofer at once, in the whole sandbox; beyond, a query is
 * dropped as by a busy server (the client retries). TCP is bounded by its connections. */
#define DNS_UDP_MAX_LOOKUPS 256

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The answer into d->answer: the header, the question echoed, the addresses of the
 * asked family. */
static void build_answer(struct dns_pending *d, int rcode, const uint8_t (*addrs)[16], int n)
{
	uint8_t *out = d->answer;
	size_t len = 12;
	put16(out, d->id);
	/* QR, the query's opcode and RD, RA, and the code */
	put16(out + 2, (uint16_t)(0x8000 | (d->flags & 0x7900) | 0x0080 | (rcode & 0xf)));
	put16(out + 4, d->qlen ? 1 : 0);
	put16(out + 8, 0);
	put16(out + 10, 0);
	memcpy(out + len, d->question, d->qlen);
	len += d->qlen;
	int an = 0;
	for (int i = 0; i < n && i < NET_RESOLVE_MAX; i++) {
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
	d->alen = len;
}

/* UDP: the answer is one datagram to the asking socket, from the resolver's address. */
static void udp_deliver(struct dns_pending *d)
{
	struct sock *sk = d->sk;
	if (sk->closed || (sk->shutdown & SHUT_RCV) || sk->rx_bytes + d->alen > (size_t)sk->rcvbuf)
		return; /* dropped, as UDP does */
	struct kmsg km = {0};
	iter_init_kernel(&km.iter, d->answer, d->alen);
	struct skb *skb;
	if (skb_from_msg(&km, d->alen, &skb) < 0)
		return;
	memcpy(&skb->from, &d->resolver, sizeof(d->resolver));
	skb->fromlen = sizeof(d->resolver);
	skb_queue(sk, skb);
	waitqueue_wake_all(&sk->wq);
}

/* Answers d and hands it to its transport, which frees it. */
static void finish(struct dns_pending *d, int rcode, const uint8_t (*addrs)[16], int n)
{
	build_answer(d, rcode, addrs, n);
	if (d->tcp) {
		dns_tcp_answered(d);
		return;
	}
	udp_deliver(d);
	sock_put(d->sk);
	free(d);
}

static void lookup_done(struct dns_pending *d)
{
	if (!d->tcp)
		net_of(d->k)->dns_udp_lookups--;
}

void dns_answer(struct dns_pending *d, const struct net_msg *rep)
{
	int rcode = rep->resolve_rep.rcode;
	if (rcode != NET_RCODE_NOERROR && rcode != NET_RCODE_NXDOMAIN)
		rcode = NET_RCODE_SERVFAIL;
	lookup_done(d);
	finish(d, rcode, rep->resolve_rep.addrs, rcode ? 0 : rep->resolve_rep.count);
}

void dns_abandon(struct dns_pending *d)
{
	lookup_done(d);
	finish(d, NET_RCODE_SERVFAIL, NULL, 0);
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

bool dns_start(struct dns_pending *d, const uint8_t *q, size_t len, struct task *t)
{
	if (len < 12)
		return false;
	d->id = (uint16_t)(q[0] << 8 | q[1]);
	d->flags = (uint16_t)(q[2] << 8 | q[3]);
	uint16_t qd = (uint16_t)(q[4] << 8 | q[5]);
	if (d->flags & 0x8000)
		return false; /* a response: answering it could start a loop */
	if ((d->flags >> 11) & 0xf) {
		finish(d, RCODE_NOTIMP, NULL, 0); /* only QUERY is served */
		return true;
	}
	char name[256];
	long end = qd == 1 ? parse_name(q, len, 12, name, sizeof(name)) : -1;
	if (end < 0 || (size_t)end + 4 > len || (size_t)end + 4 - 12 > sizeof(d->question)) {
		finish(d, RCODE_FORMERR, NULL, 0);
		return true;
	}
	d->qtype = (uint16_t)(q[end] << 8 | q[end + 1]);
	uint16_t qclass = (uint16_t)(q[end + 2] << 8 | q[end + 3]);
	d->qlen = (size_t)end + 4 - 12;
	memcpy(d->question, q + 12, d->qlen);
	if (qclass != 1 || (d->qtype != NET_QTYPE_A && d->qtype != NET_QTYPE_AAAA)) {
		finish(d, RCODE_NOTIMP, NULL, 0);
		return true;
	}
	if (strcmp(name, "host.ward.internal") == 0) {
		uint8_t a[1][16] = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 2, 2}};
		finish(d, NET_RCODE_NOERROR, a, d->qtype == NET_QTYPE_A ? 1 : 0);
		return true;
	}
	struct net_state *net = net_of(d->k);
	if (!d->tcp && net->dns_udp_lookups >= DNS_UDP_MAX_LOOKUPS)
		return false;
	if (egress_resolve(d->k, d, name, d->qtype, t) < 0) {
		finish(d, NET_RCODE_SERVFAIL, NULL, 0);
		return true;
	}
	if (!d->tcp)
		net->dns_udp_lookups++;
	return true;
}

long dns_query(struct sock *sk, struct task *t, struct kmsg *m, const struct sockaddr_in6 *resolver)
{
	uint8_t q[DNS_MAX];
	size_t len = m->len < sizeof(q) ? m->len : sizeof(q);
	if (iter_copy_from(&m->iter, q, len) < 0)
		return -EFAULT;
	struct dns_pending *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOBUFS;
	sock_get(sk);
	d->sk = sk;
	d->k = sk->k;
	d->resolver = *resolver;
	if (!dns_start(d, q, len, t)) {
		sock_put(sk);
		free(d);
	}
	return (long)m->len;
}
