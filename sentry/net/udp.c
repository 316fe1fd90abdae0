/* UDP on the sandbox's loopback: each datagram goes whole into the receiving socket's
 * queue, with the sender's address; a full queue drops it (as UDP does). A socket
 * connected socket sending to a port nobody holds learns of it as Linux's does from the ICMP "port
 * unreachable": its next call fails with ECONNREFUSED. */
#include "sentry/net/inet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <string.h>

#define UDP_MAX_V4 65507 /* 65535 - IPv4 header - UDP header */
#define UDP_MAX_V6 65527

static struct list_head *udp_table(struct sock *sk)
{
	return &net_of(sk->k)->udp_ports;
}

static int udp_bind(struct sock *sk, struct task *t, const struct sockaddr_storage *a, socklen_t len)
{
	return inet_bind(sk, t, udp_table(sk), a, len);
}

static int udp_connect(struct sock *sk, struct task *t, const struct sockaddr_storage *a, socklen_t len,
		       bool nonblock)
{
	(void)t;
	(void)nonblock;
	if (len >= sizeof(sa_family_t) && a->ss_family == AF_UNSPEC) {
		sk->state = SS_FREE;
		memset(&sk->remote, 0, sizeof(sk->remote));
		if (sk->ephemeral_port) {
			port_unbind(sk);
			in6_of(&sk->local)->sin6_port = 0;
		}
		return 0;
	}
	struct sockaddr_in6 dst;
	int err = inet_route(sk, a, len, &dst);
	if (err < 0)
		return err;
	if (err == ROUTE_OUT || (err == ROUTE_RESOLVER && ntohs(dst.sin6_port) != 53)) {
		egress_report_denied(sk->k, sk->k->current, &dst);
		return -ENETUNREACH; /* no UDP leaves the sandbox, only DNS to its resolver */
	}
	if ((err = inet_autobind(sk, udp_table(sk), &dst)) < 0)
		return err;
	*in6_of(&sk->remote) = dst;
	sk->state = SS_CONNECTED;
	return 0;
}

static bool same_endpoint(const struct sockaddr_in6 *a, const struct sockaddr_in6 *b)
{
	return a->sin6_port == b->sin6_port && memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr)) == 0;
}

static long udp_sendmsg(struct sock *sk, struct task *t, struct kmsg *m)
{
	if (sk->err)
		return sock_take_error(sk);
	if (sk->shutdown & SHUT_SEND)
		return sock_epipe(t, m->flags);
	struct sockaddr_in6 dst;
	int err;
	if (m->addrlen) {
		if ((err = inet_route(sk, &m->addr, m->addrlen, &dst)) < 0)
			return err;
		if (err == ROUTE_OUT || (err == ROUTE_RESOLVER && ntohs(dst.sin6_port) != 53)) {
			egress_report_denied(sk->k, t, &dst);
			return -ENETUNREACH;
		}
	} else if (sk->state == SS_CONNECTED) {
		dst = *in6_of(&sk->remote);
	} else {
		return -EDESTADDRREQ;
	}
	if (m->len > (inet_is_v4mapped(&dst.sin6_addr) ? UDP_MAX_V4 : UDP_MAX_V6))
		return -EMSGSIZE;
	if ((err = inet_autobind(sk, udp_table(sk), &dst)) < 0)
		return err;
	if (inet_is_v4(&dst.sin6_addr, NET_RESOLVER_ADDR))
		return dns_query(sk, t, m, &dst);
	/* The source: our address, or the loopback when bound to the wildcard. */
	struct sockaddr_in6 src = *in6_of(&sk->local);
	if (inet_is_any(&src.sin6_addr)) {
		memset(&src.sin6_addr, 0, sizeof(src.sin6_addr));
		if (inet_is_v4mapped(&dst.sin6_addr)) {
			src.sin6_addr.s6_addr[10] = src.sin6_addr.s6_addr[11] = 0xff;
			src.sin6_addr.s6_addr[12] = 127;
		}
		src.sin6_addr.s6_addr[15] = 1;
	}
	struct sock *r = port_lookup(udp_table(sk), &dst, sk->family, -1);
	if (r && r->state == SS_CONNECTED && !same_endpoint(in6_of(&r->remote), &src))
		r = NULL;
	if (!r) {
		if (sk->state == SS_CONNECTED) { /* ICMP errors reach connected sockets */
			sk->err = ECONNREFUSED;
			sock_wake(sk);
		}
		return (long)m->len;
	}
	if (r->shutdown & SHUT_RCV || r->rx_bytes + m->len > (size_t)r->rcvbuf)
		return (long)m->len; /* dropped */
	struct skb *skb;
	if ((err = skb_from_msg(m, m->len, &skb)) < 0)
		return err;
	memcpy(&skb->from, &src, sizeof(src));
	skb->fromlen = sizeof(src);
	skb_queue(r, skb);
	waitqueue_wake_all(&r->wq);
	return (long)m->len;
}

static long udp_recvmsg(struct sock *sk, struct task *t, struct kmsg *m)
{
	long r = record_recv(sk, t, m);
	if (r >= 0 && m->addrlen) {
		struct sockaddr_in6 from;
		memcpy(&from, &m->addr, sizeof(from));
		m->addrlen = inet_addr_out(sk->family, &from, &m->addr);
	}
	return r;
}

static int udp_shutdown(struct sock *sk, int how)
{
	sk->shutdown |= how + 1;
	sock_wake(sk);
	return sk->state == SS_CONNECTED ? 0 : -ENOTCONN;
}

static unsigned udp_poll(struct sock *sk)
{
	unsigned mask = POLLOUT | POLLWRNORM | POLLWRBAND;
	if (sk->err)
		mask |= POLLERR;
	if (!list_empty(&sk->rxq))
		mask |= POLLIN | POLLRDNORM;
	if (sk->shutdown & SHUT_RCV)
		mask |= POLLIN | POLLRDNORM | POLLRDHUP;
	if (sk->shutdown == (SHUT_RCV | SHUT_SEND))
		mask |= POLLHUP;
	return mask;
}

static void udp_release(struct sock *sk)
{
	port_unbind(sk);
	rxq_purge(sk);
}

const struct proto_ops udp_ops = {
	.bind = udp_bind,
	.connect = udp_connect,
	.sendmsg = udp_sendmsg,
	.recvmsg = udp_recvmsg,
	.shutdown = udp_shutdown,
	.getname = inet_getname,
	.poll = udp_poll,
	.release = udp_release,
	.setsockopt = inet_setsockopt,
	.getsockopt = inet_getsockopt,
};
