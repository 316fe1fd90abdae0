/* Outbound TCP through the net gofer. The sentry holds no host socket: for each
 * connection it makes two pipes, keeps one end of each and passes the other to the net
 * gofer with a CONNECT request; the net gofer decides against the allowlist, connects
 * the host socket and relays between it and the pipes. To the guest the socket is an
 * ordinary TCP socket: the bytes the relay brings are moved into its receive queue
 * (so recv, MSG_PEEK, MSG_WAITALL, timeouts and poll are the loopback code's), and a
 * send writes into the outbound pipe, keeping what does not fit as a backlog (the send
 * buffer) that the event loop flushes when the pipe has room.
 *
 * The net gofer's answers arrive on the channel in any order; the event loop watches
 * the channel while a request or connection is outstanding. Its replies are hostile
 * input: an unknown tag or a malformed message closes the channel, after which every
 * outbound attempt fails (ENETUNREACH) and pending ones are refused. */
#include "sentry/net/inet.h"
#include "gofer/net_wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define EGRESS_CHUNK 65536

struct net_pending {
	struct list_head link;
	uint32_t tag;
	struct egress *eg;   /* a CONNECT */
	struct dns_pending *dns; /* a RESOLVE */
};

struct net_chan {
	struct kernel *k;
	int fd;
	struct host_watch watch;
	uint32_t next_tag;
	struct list_head pending; /* struct net_pending */
	struct list_head conns;   /* struct egress, connected or connecting */
	bool dead;
	/* Refused UDP attempts reported for the audit log (egress_report_denied). */
	uint64_t denied_window; /* start of the current one-second window */
	unsigned denied_lines;  /* reports sent in it */
	struct net_msg denied_held; /* the latest unreported attempt; .denied.count: how many */
	struct ktimer denied_flush;
};

struct egress {
	struct kernel *k;
	struct sock *sk; /* NULL once the socket is closed (a backlog may still drain) */
	uint32_t tag;
	int tx_fd, rx_fd;
	struct host_watch txw, rxw;
	uint8_t *buf;        /* the backlog: buf[boff, boff + blen) */
	size_t blen, boff;
	bool tx_close;       /* close tx_fd once the backlog is out */
	bool listed;         /* in chan->conns */
	struct list_head link;
};


static struct net_chan *chan_of(struct kernel *k)
{
	struct net_state *n = net_of(k);
	return n && n->chan && !n->chan->dead ? n->chan : NULL;
}

bool net_egress_available(struct kernel *k)
{
	return chan_of(k) != NULL;
}

static void chan_ready(struct host_watch *w);

static void chan_rearm(struct net_chan *c)
{
	if (c->dead)
		return;
	if (!list_empty(&c->pending) || !list_empty(&c->conns))
		host_watch_arm(c->k, &c->watch, EPOLLIN);
}

int net_egress_init(struct kernel *k, int fd)
{
	struct net_state *n = net_of(k);
	if (!n)
		return -ENOMEM;
	struct net_chan *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->k = k;
	c->fd = fd;
	c->watch.fd = fd;
	c->watch.ready = chan_ready;
	c->next_tag = 1;
	list_init(&c->pending);
	list_init(&c->conns);
	n->chan = c;
	return 0;
}

/* Sends m (with fds, if any). A failed send closes the channel. */
static int chan_send(struct net_chan *c, const struct net_msg *m, const int *fds, int nfds)
{
	uint8_t buf[NET_MSG_MAX];
	int len = net_encode(buf, sizeof(buf), m);
	if (len < 0)
		return len;
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 2)];
	} cbuf;
	struct iovec iov = {.iov_base = buf, .iov_len = (size_t)len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (nfds) {
		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
	}
	for (;;) {
		ssize_t n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		if (n == len)
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = {.fd = c->fd, .events = POLLOUT};
			poll(&p, 1, 1000);
			continue;
		}
		c->dead = true;
		return -ENETUNREACH;
	}
}

static struct net_pending *pending_add(struct net_chan *c)
{
	struct net_pending *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->tag = c->next_tag++;
	if (c->next_tag == 0)
		c->next_tag = 1;
	list_add_tail(&p->link, &c->pending);
	return p;
}

/* ---- one connection ---- */

static void close_watched(struct kernel *k, struct host_watch *w, int *fd)
{
	if (*fd < 0)
		return;
	host_watch_remove(k, w);
	close(*fd);
	*fd = -1;
}

static void egress_free(struct egress *eg)
{
	close_watched(eg->k, &eg->txw, &eg->tx_fd);
	close_watched(eg->k, &eg->rxw, &eg->rx_fd);
	if (eg->listed)
		list_del_init(&eg->link);
	if (eg->sk)
		eg->sk->egress = NULL;
	free(eg->buf);
	free(eg);
}

/* Writes the backlog; true when it is all out (or can never be: the relay is gone). */
static bool flush(struct egress *eg)
{
	while (eg->blen) {
		ssize_t n = write(eg->tx_fd, eg->buf + eg->boff, eg->blen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return false;
		if (n <= 0) { /* EPIPE: the net gofer dropped the connection */
			eg->blen = 0;
			close_watched(eg->k, &eg->txw, &eg->tx_fd);
			break;
		}
		eg->boff += (size_t)n;
		eg->blen -= (size_t)n;
	}
	eg->boff = 0;
	if (eg->tx_close)
		close_watched(eg->k, &eg->txw, &eg->tx_fd);
	return true;
}

static void tx_ready(struct host_watch *w)
{
	struct egress *eg = list_entry(w, struct egress, txw);
	if (!flush(eg)) {
		host_watch_arm(eg->k, &eg->txw, EPOLLOUT);
		return;
	}
	if (!eg->sk) {
		egress_free(eg); /* an orphan whose last bytes are out */
		return;
	}
	sock_wake(eg->sk);
}

/* Moves what the relay brought into the receive queue, up to rcvbuf; true if anything
 * changed for a reader. */
static bool fill(struct egress *eg)
{
	struct sock *sk = eg->sk;
	bool changed = false;
	uint8_t buf[EGRESS_CHUNK];
	while (sk && eg->rx_fd >= 0 && sk->rx_bytes < (size_t)sk->rcvbuf) {
		size_t room = (size_t)sk->rcvbuf - sk->rx_bytes;
		ssize_t n = read(eg->rx_fd, buf, room < sizeof(buf) ? room : sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			host_watch_arm(eg->k, &eg->rxw, EPOLLIN);
			break;
		}
		changed = true;
		if (n <= 0) { /* the remote's FIN (or the relay is gone) */
			close_watched(eg->k, &eg->rxw, &eg->rx_fd);
			sk->shutdown |= SHUT_RCV;
			sk->fin = true;
			break;
		}
		struct kmsg km = {0};
		iter_init_kernel(&km.iter, buf, (size_t)n);
		struct skb *skb;
		if (skb_from_msg(&km, (size_t)n, &skb) < 0)
			break;
		skb_queue(sk, skb);
	}
	return changed;
}

static void rx_ready(struct host_watch *w)
{
	struct egress *eg = list_entry(w, struct egress, rxw);
	if (eg->sk && fill(eg))
		sock_wake(eg->sk);
}

void egress_after_recv(struct sock *sk)
{
	if (sk->egress && fill(sk->egress))
		waitqueue_wake_all(&sk->wq);
}

int egress_connect(struct sock *sk, struct task *t, const struct sockaddr_in6 *dst, bool nonblock)
{
	struct net_chan *c = chan_of(sk->k);
	if (!c)
		return -ENETUNREACH;
	int berr = inet_bind_interface(sk, dst);
	if (berr < 0)
		return berr;
	struct egress *eg = calloc(1, sizeof(*eg));
	int up[2] = {-1, -1}, down[2] = {-1, -1};
	struct net_pending *p = NULL;
	if (!eg || pipe2(up, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2(down, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    !(p = pending_add(c))) {
		int err = errno ? -errno : -ENOMEM;
		for (int i = 0; i < 2; i++) {
			if (up[i] >= 0)
				close(up[i]);
			if (down[i] >= 0)
				close(down[i]);
		}
		free(eg);
		return err == -EMFILE || err == -ENFILE ? -ENOBUFS : err;
	}
	eg->k = sk->k;
	eg->sk = sk;
	eg->tag = p->tag;
	eg->tx_fd = up[1];
	eg->rx_fd = down[0];
	eg->txw = (struct host_watch){.fd = up[1], .ready = tx_ready};
	eg->rxw = (struct host_watch){.fd = down[0], .ready = rx_ready};
	list_add_tail(&eg->link, &c->conns);
	eg->listed = true;
	p->eg = eg;
	sk->egress = eg;

	struct net_msg m = {.op = NET_OP_CONNECT, .tag = p->tag};
	memcpy(m.connect.addr, &dst->sin6_addr, 16);
	m.connect.port = ntohs(dst->sin6_port);
	m.connect.pid = (uint32_t)t->tg->tgid;
	memcpy(m.connect.comm, t->tg->comm, strnlen(t->tg->comm, NET_COMM_LEN));
	int fds[2] = {up[0], down[1]};
	int err = chan_send(c, &m, fds, 2);
	close(up[0]);
	close(down[1]);
	if (err < 0) {
		list_del_init(&p->link);
		free(p);
		egress_free(eg);
		return err;
	}
	chan_rearm(c);
	sk->state = SS_CONNECTING;
	*in6_of(&sk->remote) = *dst;
	return (int)sock_connect_in_progress(sk, t, nonblock);
}

static void connect_answered(struct egress *eg, int err)
{
	struct sock *sk = eg->sk;
	if (!sk) {
		egress_free(eg);
		return;
	}
	if (err == 0) {
		sk->state = SS_CONNECTED;
		fill(eg);
	} else {
		sk->err = err;
		sk->state = SS_FREE;
		sk->shutdown = SHUT_RCV | SHUT_SEND;
		if (sk->ephemeral_port) {
			port_unbind(sk);
			in6_of(&sk->local)->sin6_port = 0;
			memset(&in6_of(&sk->local)->sin6_addr, 0, 16);
			if (sk->family == AF_INET)
				in6_of(&sk->local)->sin6_addr.s6_addr[10] =
					in6_of(&sk->local)->sin6_addr.s6_addr[11] = 0xff;
		}
		egress_free(eg);
	}
	sock_wake(sk);
}

static void connection_reset(struct egress *eg, int err)
{
	struct sock *sk = eg->sk;
	if (sk) {
		sk->err = err;
		sk->state = SS_DISCONNECTED;
		sk->shutdown = SHUT_RCV | SHUT_SEND;
		sock_wake(sk);
	}
	egress_free(eg);
}

/* The channel broke (the net gofer died or lied): every outstanding thing fails. */
static void chan_fail(struct net_chan *c)
{
	c->dead = true;
	host_watch_remove(c->k, &c->watch);
	while (!list_empty(&c->pending)) {
		struct net_pending *p = list_entry(c->pending.next, struct net_pending, link);
		list_del_init(&p->link);
		if (p->eg)
			connect_answered(p->eg, ENETUNREACH);
		if (p->dns)
			dns_abandon(p->dns);
		free(p);
	}
	while (!list_empty(&c->conns))
		connection_reset(list_entry(c->conns.next, struct egress, link), ECONNRESET);
}

static struct net_pending *take_pending(struct net_chan *c, uint32_t tag)
{
	struct list_head *pos;
	list_for_each(pos, &c->pending)
	{
		struct net_pending *p = list_entry(pos, struct net_pending, link);
		if (p->tag == tag) {
			list_del_init(&p->link);
			return p;
		}
	}
	return NULL;
}

static bool handle(struct net_chan *c, const struct net_msg *m)
{
	if (m->op == NET_OP_RESET) {
		struct list_head *pos;
		list_for_each(pos, &c->conns)
		{
			struct egress *eg = list_entry(pos, struct egress, link);
			if (eg->tag == m->tag) {
				int err = m->reset.err;
				connection_reset(eg, err > 0 && err < 512 ? err : ECONNRESET);
				return true;
			}
		}
		return true; /* a connection the sentry already dropped */
	}
	struct net_pending *p = take_pending(c, m->tag);
	if (!p)
		return false;
	bool ok = true;
	if (p->eg && m->op == (NET_OP_CONNECT | NET_REPLY)) {
		/* Only errors a connect may give reach the guest. */
		int err = (int)m->connect_rep.err;
		switch (err) {
		case 0: case ECONNREFUSED: case ENETUNREACH: case EHOSTUNREACH: case ETIMEDOUT:
		case ECONNRESET: case ENOBUFS: case EADDRNOTAVAIL:
			break;
		default:
			err = ECONNREFUSED;
		}
		connect_answered(p->eg, err);
	} else if (p->dns && m->op == (NET_OP_RESOLVE | NET_REPLY)) {
		dns_answer(p->dns, m);
	} else {
		ok = false;
		if (p->eg)
			connect_answered(p->eg, ECONNREFUSED);
		if (p->dns)
			dns_abandon(p->dns);
	}
	free(p);
	return ok;
}

static void chan_ready(struct host_watch *w)
{
	struct net_chan *c = list_entry(w, struct net_chan, watch);
	for (;;) {
		uint8_t buf[NET_MSG_MAX];
		struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
		/* No control buffer: a descriptor the net gofer sends is discarded by the
		 * kernel (MSG_CTRUNC), and the channel closed for it. */
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
		ssize_t n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		struct net_msg m;
		if (n <= 0 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || net_decode(buf, (size_t)n, &m) < 0 ||
		    !handle(c, &m)) {
			kernel_log("the net gofer %s; no more outbound connections",
				   n <= 0 ? "went away" : "sent a malformed message");
			chan_fail(c);
			return;
		}
	}
	chan_rearm(c);
}

/* ---- attempts the sentry refuses itself ---- */

/* A flood (a guest sending UDP packets at an outside address in a loop) must neither
 * fill the audit log nor the channel, which the sentry would then wait on: past this
 * many reports a second, attempts are summed up in one report at the window's end. */
#define DENIED_REPORTS_PER_SEC 10
#define NSEC_PER_SEC 1000000000ull

static void denied_send_held(struct net_chan *c)
{
	if (!c->denied_held.denied.count)
		return;
	if (!c->dead)
		chan_send(c, &c->denied_held, NULL, 0);
	c->denied_held.denied.count = 0;
}

static void denied_window_end(struct kernel *k, struct ktimer *tm)
{
	(void)k;
	struct net_chan *c = container_of(tm, struct net_chan, denied_flush);
	denied_send_held(c);
	c->denied_window = now_ns();
	c->denied_lines = 1;
}

void egress_report_denied(struct kernel *k, struct task *t, const struct sockaddr_in6 *dst)
{
	struct net_chan *c = chan_of(k);
	if (!c)
		return;
	struct net_msg m = {.op = NET_OP_DENIED};
	memcpy(m.denied.addr, &dst->sin6_addr, 16);
	m.denied.port = ntohs(dst->sin6_port);
	m.denied.proto = NET_PROTO_UDP;
	if (t) {
		m.denied.pid = (uint32_t)t->tg->tgid;
		memcpy(m.denied.comm, t->tg->comm, strnlen(t->tg->comm, NET_COMM_LEN));
	}
	uint64_t now = now_ns();
	if (now - c->denied_window >= NSEC_PER_SEC) {
		if (c->denied_flush.armed)
			timer_cancel(k, &c->denied_flush);
		denied_send_held(c);
		c->denied_window = now;
		c->denied_lines = 0;
	}
	if (c->denied_lines < DENIED_REPORTS_PER_SEC) {
		c->denied_lines++;
		m.denied.count = 1;
		chan_send(c, &m, NULL, 0);
		return;
	}
	m.denied.count = c->denied_held.denied.count + 1;
	c->denied_held = m;
	if (!c->denied_flush.armed) {
		c->denied_flush.fire = denied_window_end;
		timer_arm(k, &c->denied_flush, c->denied_window + NSEC_PER_SEC);
	}
}

void net_egress_finish(struct kernel *k)
{
	struct net_state *n = net_of(k);
	if (n && n->chan)
		denied_send_held(n->chan);
}

/* DNS (dns.c) sends its RESOLVE requests here; the pending entry carries d. */
int egress_resolve(struct kernel *k, struct dns_pending *d, const char *name, uint16_t qtype, struct task *t)
{
	struct net_chan *c = chan_of(k);
	if (!c)
		return -ENETUNREACH;
	struct net_pending *p = pending_add(c);
	if (!p)
		return -ENOMEM;
	p->dns = d;
	struct net_msg m = {.op = NET_OP_RESOLVE, .tag = p->tag};
	m.resolve.qtype = qtype;
	if (t) { /* NULL: a write from inside the sentry (splice, sendfile) */
		m.resolve.pid = (uint32_t)t->tg->tgid;
		memcpy(m.resolve.comm, t->tg->comm, strnlen(t->tg->comm, NET_COMM_LEN));
	}
	snprintf(m.resolve.name, sizeof(m.resolve.name), "%s", name);
	int err = chan_send(c, &m, NULL, 0);
	if (err < 0) {
		list_del_init(&p->link);
		free(p);
		return err;
	}
	chan_rearm(c);
	return 0;
}

/* ---- the socket's side ---- */

long egress_send(struct sock *sk, struct task *t, struct kmsg *m)
{
	struct egress *eg = sk->egress;
	size_t done = (t && t->restarting) ? (size_t)t->partial : 0;
	if (!eg->buf && !(eg->buf = malloc(EGRESS_CHUNK)))
		return -ENOBUFS;
	while (done < m->len) {
		if (eg->blen && !flush(eg)) {
			host_watch_arm(eg->k, &eg->txw, EPOLLOUT);
			if (!t || (m->flags & MSG_DONTWAIT))
				return done ? (long)done : -EAGAIN;
			return sock_wait(sk, t, sk->sndtimeo_ns, (long)done);
		}
		if (eg->tx_fd < 0) {
			sk->shutdown |= SHUT_SEND;
			return done ? (long)done : sock_epipe(t, m->flags);
		}
		size_t n = m->len - done < EGRESS_CHUNK ? m->len - done : EGRESS_CHUNK;
		if (iter_copy_from(&m->iter, eg->buf, n) < 0)
			return done ? (long)done : -EFAULT;
		ssize_t w = write(eg->tx_fd, eg->buf, n);
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			close_watched(eg->k, &eg->txw, &eg->tx_fd);
			sk->shutdown |= SHUT_SEND;
			return done ? (long)done : sock_epipe(t, m->flags);
		}
		if (w < 0)
			w = 0;
		eg->boff = (size_t)w;
		eg->blen = n - (size_t)w;
		done += n;
	}
	if (eg->blen)
		host_watch_arm(eg->k, &eg->txw, EPOLLOUT);
	return (long)done;
}

unsigned egress_poll(struct sock *sk)
{
	struct egress *eg = sk->egress;
	unsigned mask = 0;
	if (sk->err)
		mask |= POLLERR;
	if (sk->state == SS_CONNECTING)
		return mask;
	if (sk->shutdown == (SHUT_RCV | SHUT_SEND) || sk->state != SS_CONNECTED)
		mask |= POLLHUP;
	if ((sk->shutdown & SHUT_RCV) || sk->rx_bytes)
		mask |= POLLIN | POLLRDNORM;
	if (sk->shutdown & SHUT_RCV)
		mask |= POLLRDHUP;
	if ((sk->shutdown & SHUT_SEND) || !eg || !eg->blen)
		mask |= POLLOUT | POLLWRNORM;
	return mask;
}

void egress_shutdown_send(struct sock *sk)
{
	struct egress *eg = sk->egress;
	if (!eg)
		return;
	eg->tx_close = true;
	if (!eg->blen)
		close_watched(eg->k, &eg->txw, &eg->tx_fd);
}

void egress_release(struct sock *sk)
{
	struct egress *eg = sk->egress;
	if (!eg)
		return;
	sk->egress = NULL;
	eg->sk = NULL;
	close_watched(eg->k, &eg->rxw, &eg->rx_fd);
	if (sk->state == SS_CONNECTING)
		return; /* the CONNECT's answer frees it */
	eg->tx_close = true;
	if (eg->blen && eg->tx_fd >= 0 && !flush(eg)) {
		host_watch_arm(eg->k, &eg->txw, EPOLLOUT); /* the last bytes still go out */
		return;
	}
	egress_free(eg);
}
