/* The sandbox's resolver over TCP (RFC 1035 4.2.2, RFC 7766): a connect to 10.0.2.3:53
 * is accepted by the sentry itself (nothing reaches the net gofer but the lookups), and
 * the guest's socket is an ordinary TCP socket whose peer is this code. Each message is
 * a 2-byte length and a query, read as the bytes come (a length split across sends is
 * fine) and answered by dns_start exactly as over UDP; answers go back in the order the
 * queries came, each with its length.
 *
 * What a guest can make the sentry hold is bounded: DNS_TCP_MAX_CONNS connections (a
 * connect beyond is refused), and per connection the first DNS_MAX bytes of the message
 * being read (the rest of a longer one is read and dropped) and DNS_TCP_MAX_QUERIES
 * queries not yet answered into the receive queue: at that many, or while the guest
 * leaves rcvbuf bytes of answers unread, the resolver reads no more (the guest's send
 * waits, or says EAGAIN). A connection with no query outstanding for DNS_TCP_IDLE_NS is
 * closed by the resolver (FIN), as real servers close idle ones, so connections that
 * send nothing or trickle a message byte by byte do not keep their place. */
#include "sentry/net/dns.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DNS_TCP_MAX_CONNS 64
#define DNS_TCP_MAX_QUERIES 16
#define DNS_TCP_IDLE_NS (10ull * 1000000000ull)

struct dns_conn {
	struct sock *sk;          /* the guest's socket (no reference: it owns the connection) */
	struct list_head queries; /* struct dns_pending, oldest first, until written out */
	int nqueries;
	unsigned have_len;        /* bytes of the length prefix read (0-2) */
	uint8_t len_bytes[2];
	size_t msg_len, msg_have; /* the message being read */
	bool eof;                 /* the guest half-closed: close once every answer is out */
	bool closed;              /* the resolver closed its end (FIN sent) */
	struct ktimer idle;
	uint8_t msg[DNS_MAX];     /* its first DNS_MAX bytes */
};

static void pending_free(struct dns_pending *d)
{
	list_del_init(&d->link);
	free(d);
}

/* The resolver's close: FIN to the guest; answers not yet written are dropped. */
static void conn_close(struct dns_conn *c)
{
	if (c->closed)
		return;
	c->closed = true;
	struct list_head *pos = c->queries.next;
	while (pos != &c->queries) {
		struct dns_pending *d = list_entry(pos, struct dns_pending, link);
		pos = pos->next;
		if (d->answered) {
			pending_free(d);
			c->nqueries--;
		}
	}
	timer_cancel(c->sk->k, &c->idle);
	net_of(c->sk->k)->dns_tcp_conns--;
	c->sk->shutdown |= SHUT_RCV;
	c->sk->fin = true;
	sock_wake(c->sk);
}

static void idle_expired(struct kernel *k, struct ktimer *t)
{
	(void)k;
	conn_close(list_entry(t, struct dns_conn, idle));
}

/* Writes the answers that are ready, in order, while the guest's receive queue has room;
 * then closes after a half-close, or starts the idle clock. */
static void conn_flush(struct dns_conn *c)
{
	struct sock *sk = c->sk;
	bool moved = false;
	while (!list_empty(&c->queries) && !c->closed) {
		struct dns_pending *d = list_entry(c->queries.next, struct dns_pending, link);
		if (!d->answered || sk->rx_bytes >= (size_t)sk->rcvbuf)
			break;
		uint8_t out[2 + DNS_ANSWER_MAX];
		out[0] = (uint8_t)(d->alen >> 8);
		out[1] = (uint8_t)d->alen;
		memcpy(out + 2, d->answer, d->alen);
		struct kmsg km = {0};
		iter_init_kernel(&km.iter, out, 2 + d->alen);
		struct skb *skb;
		if (skb_from_msg(&km, 2 + d->alen, &skb) < 0)
			break; /* no memory now: the next flush tries again */
		skb_queue(sk, skb);
		pending_free(d);
		c->nqueries--;
		moved = true;
	}
	if (moved)
		sock_wake(sk);
	if (c->closed)
		return;
	struct list_head *pos;
	list_for_each(pos, &c->queries)
	{
		if (!list_entry(pos, struct dns_pending, link)->answered)
			return; /* the net gofer is still looking: not idle */
	}
	if (c->eof && list_empty(&c->queries))
		conn_close(c);
	else /* idle, or holding answers the guest does not read */
		timer_arm(sk->k, &c->idle, now_ns() + DNS_TCP_IDLE_NS);
}

void dns_tcp_answered(struct dns_pending *d)
{
	d->answered = true;
	if (!d->conn) { /* the guest closed the connection while the net gofer looked */
		free(d);
		return;
	}
	conn_flush(d->conn);
}

int dns_tcp_connect(struct sock *sk, struct task *t, const struct sockaddr_in6 *dst, bool nonblock)
{
	(void)t;
	struct net_state *net = net_of(sk->k);
	if (net->dns_tcp_conns >= DNS_TCP_MAX_CONNS)
		return -ECONNREFUSED;
	struct dns_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOBUFS;
	int err = inet_bind_interface(sk, dst);
	if (err < 0) {
		free(c);
		return err;
	}
	c->sk = sk;
	list_init(&c->queries);
	c->idle.fire = idle_expired;
	list_init(&c->idle.link);
	net->dns_tcp_conns++;
	sk->dns = c;
	sk->shutdown = 0;
	sk->fin = false;
	sk->remote.ss_family = AF_INET6;
	*in6_of(&sk->remote) = *dst;
	sk->state = SS_CONNECTED;
	timer_arm(sk->k, &c->idle, now_ns() + DNS_TCP_IDLE_NS);
	if (nonblock) {
		sk->connect_unreported = true;
		return -EINPROGRESS;
	}
	return 0;
}

/* A whole message has been read: answer it (or drop it, as UDP would). */
static void conn_message(struct dns_conn *c, struct task *t)
{
	size_t len = c->msg_len < DNS_MAX ? c->msg_len : DNS_MAX;
	c->have_len = 0;
	c->msg_len = c->msg_have = 0;
	struct dns_pending *d = calloc(1, sizeof(*d));
	if (!d)
		return; /* as a server short of memory: no answer */
	d->k = c->sk->k;
	d->tcp = true;
	d->conn = c;
	list_add_tail(&d->link, &c->queries);
	c->nqueries++;
	timer_cancel(c->sk->k, &c->idle);
	if (!dns_start(d, c->msg, len, t)) {
		pending_free(d);
		c->nqueries--;
		conn_flush(c); /* the idle clock again, if nothing is outstanding */
	}
}

static bool conn_reading(const struct dns_conn *c)
{
	return c->nqueries < DNS_TCP_MAX_QUERIES && c->sk->rx_bytes < (size_t)c->sk->rcvbuf;
}

long dns_tcp_send(struct sock *sk, struct task *t, struct kmsg *m)
{
	struct dns_conn *c = sk->dns;
	size_t done = (t && t->restarting) ? (size_t)t->partial : 0;
	if (c->closed)
		return sock_send_to_closed(sk, m->len); /* the server's RST */
	while (done < m->len) {
		if (!conn_reading(c)) {
			if (!t || (m->flags & MSG_DONTWAIT))
				return done ? (long)done : -EAGAIN;
			return sock_wait(sk, t, sk->sndtimeo_ns, (long)done);
		}
		size_t left = m->len - done, n;
		if (c->have_len < 2) {
			n = 2 - c->have_len < left ? 2 - c->have_len : left;
			if (iter_copy_from(&m->iter, c->len_bytes + c->have_len, n) < 0)
				return done ? (long)done : -EFAULT;
			c->have_len += (unsigned)n;
			if (c->have_len == 2)
				c->msg_len = (size_t)c->len_bytes[0] << 8 | c->len_bytes[1];
		} else {
			n = c->msg_len - c->msg_have < left ? c->msg_len - c->msg_have : left;
			uint8_t scratch[512];
			if (c->msg_have < DNS_MAX) {
				if (n > DNS_MAX - c->msg_have)
					n = DNS_MAX - c->msg_have;
				if (iter_copy_from(&m->iter, c->msg + c->msg_have, n) < 0)
					return done ? (long)done : -EFAULT;
			} else { /* beyond what is kept: read and dropped */
				if (n > sizeof(scratch))
					n = sizeof(scratch);
				if (iter_copy_from(&m->iter, scratch, n) < 0)
					return done ? (long)done : -EFAULT;
			}
			c->msg_have += n;
		}
		done += n;
		if (c->have_len == 2 && c->msg_have == c->msg_len)
			conn_message(c, t);
	}
	return (long)done;
}

void dns_tcp_after_recv(struct sock *sk)
{
	struct dns_conn *c = sk->dns;
	bool was_reading = conn_reading(c);
	conn_flush(c);
	if (!was_reading && conn_reading(c))
		sock_wake(sk); /* a sender waiting for the resolver to read on */
}

bool dns_tcp_writable(struct sock *sk)
{
	return sk->dns->closed || conn_reading(sk->dns);
}

void dns_tcp_shutdown_send(struct sock *sk)
{
	struct dns_conn *c = sk->dns;
	c->eof = true; /* a message cut short by the half-close is never answered */
	conn_flush(c);
}

void dns_tcp_release(struct sock *sk)
{
	struct dns_conn *c = sk->dns;
	if (!c)
		return;
	sk->dns = NULL;
	if (!c->closed) {
		timer_cancel(sk->k, &c->idle);
		net_of(sk->k)->dns_tcp_conns--;
	}
	while (!list_empty(&c->queries)) {
		struct dns_pending *d = list_entry(c->queries.next, struct dns_pending, link);
		list_del_init(&d->link);
		if (d->answered)
			free(d);
		else
			d->conn = NULL; /* the net gofer's reply frees it */
	}
	free(c);
}
