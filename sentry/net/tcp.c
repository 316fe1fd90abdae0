/* TCP on the sandbox's loopback, without packets: a connect to a listening port makes the
 * server's socket at once and puts it in the accept queue; bytes go straight into the
 * peer's receive queue. What programs can observe follows Linux: a full accept queue
 * (more than backlog connections) holds further connects until an accept makes room; a
 * non-blocking connect answers EINPROGRESS (and SO_ERROR later); a closed port refuses;
 * close sends FIN (EOF), or RST when unread data is left or SO_LINGER is {1, 0}
 * (ECONNRESET); writing to a closed peer is answered by RST (the next write: EPIPE). */
#include "sentry/net/inet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <string.h>

#define SOMAXCONN_LINUX 4096

static struct list_head *tcp_table(struct sock *sk)
{
	return &net_of(sk->k)->tcp_ports;
}

static void set_loopback_source(struct sock *sk, const struct sockaddr_in6 *dst)
{
	struct sockaddr_in6 *l = in6_of(&sk->local);
	if (!inet_is_any(&l->sin6_addr))
		return;
	memset(&l->sin6_addr, 0, sizeof(l->sin6_addr));
	if (inet_is_v4mapped(&dst->sin6_addr)) {
		l->sin6_addr.s6_addr[10] = l->sin6_addr.s6_addr[11] = 0xff;
		l->sin6_addr.s6_addr[12] = 127;
		l->sin6_addr.s6_addr[15] = 1;
	} else {
		l->sin6_addr.s6_addr[15] = 1;
	}
}

/* The server side of a new connection, queued for accept. */
static int establish(struct sock *client, struct sock *listener, const struct sockaddr_in6 *dst)
{
	struct sock *child = sock_alloc(client->k, listener->family, SOCK_STREAM, IPPROTO_TCP, &tcp_ops);
	if (!child)
		return -ENOBUFS;
	child->rcvbuf = listener->rcvbuf;
	child->sndbuf = listener->sndbuf;
	child->reuseaddr = listener->reuseaddr;
	child->reuseport = listener->reuseport;
	child->keepalive = listener->keepalive;
	child->nodelay = listener->nodelay;
	child->linger_on = listener->linger_on;
	child->linger_secs = listener->linger_secs;
	child->v6only = listener->v6only;
	child->owner_uid = listener->owner_uid;
	child->tcp_keepidle = listener->tcp_keepidle;
	child->tcp_keepintvl = listener->tcp_keepintvl;
	child->tcp_keepcnt = listener->tcp_keepcnt;
	child->tcp_maxseg = listener->tcp_maxseg;
	child->cred = listener->cred;
	*in6_of(&child->local) = *dst;
	child->remote = client->local;
	client->remote.ss_family = AF_INET6;
	*in6_of(&client->remote) = *dst;
	sock_connect_pair(client, child);
	/* SO_PEERCRED is an AF_UNIX thing: TCP sockets report nobody. */
	client->has_peercred = child->has_peercred = false;
	port_add(child, tcp_table(client));
	list_add_tail(&child->qlink, &listener->acceptq); /* the queue owns child's reference */
	listener->acceptq_len++;
	waitqueue_wake_all(&listener->wq);
	return 0;
}

/* Clients waiting for room in the accept queue get in while there is room. */
static void admit_pending(struct sock *listener)
{
	while (!list_empty(&listener->pendingq) && listener->acceptq_len <= listener->backlog) {
		struct sock *c = list_entry(listener->pendingq.next, struct sock, qlink);
		list_del_init(&c->qlink);
		c->listener = NULL;
		struct sockaddr_in6 dst = *in6_of(&c->remote);
		if (establish(c, listener, &dst) < 0) {
			c->err = ECONNREFUSED;
			c->state = SS_FREE;
		}
		sock_wake(c);
	}
}

static int tcp_bind(struct sock *sk, struct task *t, const struct sockaddr_storage *a, socklen_t len)
{
	return inet_bind(sk, t, tcp_table(sk), a, len);
}

/* The outcome of a connect that was started earlier (EINPROGRESS, or parked). */
static int connect_outcome(struct sock *sk, struct task *t)
{
	if (sk->state == SS_CONNECTING) {
		if (t->restarting) /* a parked blocking connect, woken: keep waiting */
			return (int)sock_wait(sk, t, sk->sndtimeo_ns, 0);
		return -EALREADY;
	}
	sk->connect_unreported = false;
	if (sk->state == SS_CONNECTED || sk->state == SS_DISCONNECTED)
		return 0;
	int err = sock_take_error(sk);
	return err ? err : -ECONNABORTED;
}

/* The peer answered the SYN with RST: at once, or through SO_ERROR when non-blocking. */
static int connect_refused(struct sock *sk, bool nonblock)
{
	if (!nonblock)
		return -ECONNREFUSED;
	sk->err = ECONNREFUSED;
	sk->shutdown = SHUT_RCV | SHUT_SEND; /* the RST closes it (tcp_done) */
	sk->connect_unreported = true;
	sock_wake(sk);
	return -EINPROGRESS;
}

static int tcp_connect(struct sock *sk, struct task *t, const struct sockaddr_storage *a, socklen_t len,
		       bool nonblock)
{
	if (sk->connect_unreported)
		return connect_outcome(sk, t);
	if (len >= sizeof(sa_family_t) && a->ss_family == AF_UNSPEC) {
		if (sk->state == SS_LISTENING || sk->state == SS_FREE)
			return 0;
		return -EISCONN; /* disconnecting an established TCP socket is not served */
	}
	if (sk->state != SS_FREE)
		return sk->state == SS_CONNECTING ? -EALREADY : -EISCONN;
	struct sockaddr_in6 dst;
	int err = inet_route(sk, a, len, &dst);
	if (err < 0)
		return err;
	if (err == ROUTE_RESOLVER) {
		/* The resolver serves port 53 in the sentry; nothing else listens there. */
		err = ntohs(dst.sin6_port) == 53 ? dns_tcp_connect(sk, t, &dst, nonblock) : -ECONNREFUSED;
		return err == -ECONNREFUSED ? connect_refused(sk, nonblock) : err;
	}
	if (err != ROUTE_LOCAL) {
		/* Off the sandbox: the net gofer decides. */
		if (!net_egress_available(sk->k))
			return -ENETUNREACH;
		sk->shutdown = 0;
		sk->fin = false;
		return egress_connect(sk, t, &dst, nonblock);
	}
	sk->shutdown = 0;
	sk->fin = false;
	bool was_bound = sk->bound;
	if ((err = inet_autobind(sk, tcp_table(sk), &dst)) < 0)
		return err;
	set_loopback_source(sk, &dst);
	struct sock *listener = port_lookup(tcp_table(sk), &dst, sk->family, SS_LISTENING);
	if (!listener) {
		if (!was_bound) { /* the port taken for this connect is given back */
			port_unbind(sk);
			memset(&in6_of(&sk->local)->sin6_addr, 0, sizeof(struct in6_addr));
			if (sk->family == AF_INET)
				in6_of(&sk->local)->sin6_addr.s6_addr[10] = in6_of(&sk->local)->sin6_addr.s6_addr[11] = 0xff;
			in6_of(&sk->local)->sin6_port = 0;
		}
		return connect_refused(sk, nonblock);
	}
	if (listener->acceptq_len > listener->backlog) {
		/* Linux drops the SYN and retries: the connect waits for room. */
		sk->state = SS_CONNECTING;
		sk->listener = listener;
		*in6_of(&sk->remote) = dst;
		list_add_tail(&sk->qlink, &listener->pendingq);
		return (int)sock_connect_in_progress(sk, t, nonblock);
	}
	if ((err = establish(sk, listener, &dst)) < 0)
		return err;
	if (nonblock) {
		sk->connect_unreported = true;
		return -EINPROGRESS; /* Linux answers so even when loopback completes at once */
	}
	return 0;
}

static int tcp_listen(struct sock *sk, struct task *t, int backlog)
{
	(void)t;
	if (sk->state != SS_FREE && sk->state != SS_LISTENING)
		return -EINVAL;
	if (sk->state == SS_FREE) {
		int err;
		if (!sk->bound)
			err = inet_autobind(sk, tcp_table(sk), NULL);
		else
			err = port_listen_conflict(sk, tcp_table(sk)) ? -EADDRINUSE : 0;
		if (err < 0)
			return err;
	}
	if ((unsigned)backlog > SOMAXCONN_LINUX)
		backlog = SOMAXCONN_LINUX;
	sk->backlog = backlog;
	sk->state = SS_LISTENING;
	admit_pending(sk);
	return 0;
}

static int tcp_accept(struct sock *sk, struct task *t, struct sock **out)
{
	(void)t;
	if (sk->state != SS_LISTENING)
		return -EINVAL;
	if (list_empty(&sk->acceptq))
		return -EAGAIN;
	struct sock *child = list_entry(sk->acceptq.next, struct sock, qlink);
	list_del_init(&child->qlink);
	sk->acceptq_len--;
	admit_pending(sk);
	*out = child;
	return 0;
}

static size_t stream_cap(struct sock *sk, struct sock *peer)
{
	return (size_t)peer->rcvbuf + (size_t)sk->sndbuf;
}

static long tcp_sendmsg(struct sock *sk, struct task *t, struct kmsg *m)
{
	if (sk->err) {
		int e = sk->err;
		sk->err = 0;
		return e == EPIPE ? sock_epipe(t, m->flags) : -e;
	}
	if (sk->state == SS_CONNECTING) {
		if (!t || (m->flags & MSG_DONTWAIT))
			return -EAGAIN;
		return sock_wait(sk, t, sk->sndtimeo_ns, 0);
	}
	if (sk->state == SS_CONNECTED && !(sk->shutdown & SHUT_SEND) && sk->egress)
		return egress_send(sk, t, m);
	if (sk->state == SS_CONNECTED && !(sk->shutdown & SHUT_SEND) && sk->dns)
		return dns_tcp_send(sk, t, m);
	if (sk->state != SS_CONNECTED || (sk->shutdown & SHUT_SEND) || !sk->peer)
		return sock_epipe(t, m->flags);
	struct sock *peer = sk->peer;
	if (peer->closed)
		return sock_send_to_closed(sk, m->len);
	return stream_send(sk, peer, t, m, stream_cap(sk, peer));
}

static long tcp_recvmsg(struct sock *sk, struct task *t, struct kmsg *m)
{
	if (sk->state == SS_LISTENING)
		return -ENOTCONN;
	if (sk->state == SS_FREE && !sk->err)
		return -ENOTCONN;
	long r = stream_recv(sk, t, m);
	if (sk->egress && r > 0 && !(m->flags & MSG_PEEK))
		egress_after_recv(sk);
	if (sk->dns && r > 0 && !(m->flags & MSG_PEEK))
		dns_tcp_after_recv(sk);
	return r;
}

static int tcp_shutdown(struct sock *sk, int how)
{
	int mask = how + 1;
	if (sk->state == SS_LISTENING) {
		if (mask & SHUT_RCV) /* Linux stops listening */
			sk->state = SS_FREE;
		sock_wake(sk);
		return 0;
	}
	sk->shutdown |= mask;
	if ((mask & SHUT_SEND) && sk->egress)
		egress_shutdown_send(sk);
	if ((mask & SHUT_SEND) && sk->dns)
		dns_tcp_shutdown_send(sk);
	if (sk->state != SS_CONNECTED) {
		sock_wake(sk);
		return -ENOTCONN;
	}
	struct sock *p = sk->peer;
	if ((mask & SHUT_SEND) && p && !p->closed) {
		p->shutdown |= SHUT_RCV; /* FIN */
		p->fin = true;
	}
	sock_wake(sk);
	return 0;
}

static unsigned tcp_poll(struct sock *sk)
{
	unsigned mask = 0;
	if (sk->egress)
		return egress_poll(sk);
	if (sk->err)
		mask |= POLLERR;
	if (sk->state == SS_LISTENING)
		return sk->acceptq_len ? POLLIN | POLLRDNORM : 0;
	if (sk->state == SS_CONNECTING)
		return mask;
	if (sk->shutdown == (SHUT_RCV | SHUT_SEND) || sk->state == SS_FREE || sk->state == SS_DISCONNECTED)
		mask |= POLLHUP;
	if (sk->shutdown & SHUT_RCV)
		mask |= POLLIN | POLLRDNORM | POLLRDHUP;
	if (sk->rx_bytes)
		mask |= POLLIN | POLLRDNORM;
	if (sk->shutdown & SHUT_SEND)
		mask |= POLLOUT | POLLWRNORM;
	else if (sk->dns)
		mask |= dns_tcp_writable(sk) ? POLLOUT | POLLWRNORM : 0;
	else if (!sk->peer || sk->peer->closed || sk->peer->rx_bytes < stream_cap(sk, sk->peer))
		mask |= POLLOUT | POLLWRNORM;
	return mask;
}

/* The close of a connected socket as its peer sees it: FIN, or RST. */
static void tcp_close_connection(struct sock *sk, bool rst)
{
	struct sock *p = sk->peer;
	if (p && !p->closed && p->peer == sk) {
		if (rst) {
			p->err = ECONNRESET;
			p->shutdown = SHUT_RCV | SHUT_SEND;
			p->state = SS_DISCONNECTED;
		} else {
			p->shutdown |= SHUT_RCV;
			p->fin = true;
		}
		waitqueue_wake_all(&p->wq);
	}
	sock_unlink_peer(sk);
}

static void tcp_release(struct sock *sk)
{
	egress_release(sk);
	dns_tcp_release(sk);
	port_unbind(sk);
	if (sk->state == SS_LISTENING || !list_empty(&sk->pendingq) || !list_empty(&sk->acceptq)) {
		while (!list_empty(&sk->pendingq)) {
			struct sock *c = list_entry(sk->pendingq.next, struct sock, qlink);
			list_del_init(&c->qlink);
			c->listener = NULL;
			c->state = SS_FREE;
			c->err = ECONNREFUSED;
			sock_wake(c);
		}
		/* Connections nobody accepted are reset. */
		while (!list_empty(&sk->acceptq)) {
			struct sock *child = list_entry(sk->acceptq.next, struct sock, qlink);
			list_del_init(&child->qlink);
			sk->acceptq_len--;
			child->closed = true;
			port_unbind(child);
			tcp_close_connection(child, true);
			rxq_purge(child);
			sock_put(child);
		}
	}
	if (sk->state == SS_CONNECTING) {
		list_del_init(&sk->qlink);
		sk->listener = NULL;
	}
	bool rst = !list_empty(&sk->rxq) || (sk->linger_on && sk->linger_secs == 0);
	tcp_close_connection(sk, rst);
	rxq_purge(sk);
}

const struct proto_ops tcp_ops = {
	.bind = tcp_bind,
	.connect = tcp_connect,
	.listen = tcp_listen,
	.accept = tcp_accept,
	.sendmsg = tcp_sendmsg,
	.recvmsg = tcp_recvmsg,
	.shutdown = tcp_shutdown,
	.getname = inet_getname,
	.poll = tcp_poll,
	.release = tcp_release,
	.setsockopt = inet_setsockopt,
	.getsockopt = inet_getsockopt,
};
