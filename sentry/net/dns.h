/* Between the sandbox's resolver (dns.c: reading a query, asking the net gofer, building
 * the answer) and its two transports: UDP datagrams (dns.c) and TCP connections
 * (dns_tcp.c), so that a query is answered the same way whichever way it came. */
#ifndef WARD_NET_DNS_H
#define WARD_NET_DNS_H

#include "sentry/net/inet.h"
#include "gofer/net_wire.h"

#define DNS_MAX 1500 /* what the resolver reads of a query; the rest of a longer one is ignored */
#define DNS_QUESTION_MAX 260 /* the question echoed: a name of at most 256 bytes, type, class */
#define DNS_ANSWER_MAX (12 + DNS_QUESTION_MAX + NET_RESOLVE_MAX * 28)

struct dns_conn;

/* One query, from when it is read until its answer is delivered. */
struct dns_pending {
	struct list_head link; /* TCP: its connection's queries, oldest first */
	struct sock *sk;       /* UDP: the asking socket (a reference) */
	struct sockaddr_in6 resolver; /* UDP: the address the answer comes from */
	struct dns_conn *conn; /* TCP: the connection; NULL once the guest closed it */
	struct kernel *k;
	bool tcp;
	bool answered;
	uint16_t id, flags, qtype;
	uint8_t question[DNS_QUESTION_MAX];
	size_t qlen; /* 0: the answer echoes no question */
	uint8_t answer[DNS_ANSWER_MAX];
	size_t alen;
};

/* Reads the query q[0, len) into d, whose transport fields are set, and answers it: at
 * once (the answer is delivered before this returns) or when the net gofer replies.
 * false: the message is not a query to answer (too short for a header, a response); d
 * is still the caller's. */
bool dns_start(struct dns_pending *d, const uint8_t *q, size_t len, struct task *t);
/* dns_tcp.c: d's answer is built (d->answer); write it to its connection in turn. */
void dns_tcp_answered(struct dns_pending *d);

#endif
