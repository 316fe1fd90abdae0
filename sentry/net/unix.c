/* AF_UNIX sockets: stream, datagram and seqpacket, named by a path in the sandbox's VFS
 * (bind makes a socket inode; connect finds the socket bound to that inode), by an
 * abstract name (a leading NUL; a per-sandbox table), or by autobind. Messages carry the
 * sender's credentials (SCM_CREDENTIALS) and passed files (SCM_RIGHTS). */
#include "sentry/net/net.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

#define SOMAXCONN_LINUX 4096
/* net.unix.max_dgram_qlen: datagrams a socket not connected back to the sender holds */
#define UNIX_MAX_DGRAM_QLEN 10
#define UNIX_PATH_OFF offsetof(struct sockaddr_un, sun_path)

static const struct proto_ops unix_ops;

static struct sockaddr_un *un(struct sockaddr_storage *ss)
{
	return (struct sockaddr_un *)ss;
}

static bool is_abstract(const struct sockaddr_storage *a, socklen_t len)
{
	return len > UNIX_PATH_OFF && ((const struct sockaddr_un *)a)->sun_path[0] == 0;
}

/* Checks a guest sockaddr_un; for a path, the NUL-terminated path is returned in path. */
static int unix_addr_check(const struct sockaddr_storage *a, socklen_t len, char *path)
{
	if (len < UNIX_PATH_OFF + 1 || len > sizeof(struct sockaddr_un))
		return len == UNIX_PATH_OFF && a->ss_family == AF_UNIX ? 0 : -EINVAL;
	if (a->ss_family != AF_UNIX)
		return -EINVAL;
	if (!is_abstract(a, len)) {
		size_t n = len - UNIX_PATH_OFF;
		memcpy(path, ((const struct sockaddr_un *)a)->sun_path, n);
		path[n] = 0;
	}
	return 0;
}

/* The length Linux reports for a bound path: up to and including the NUL. */
static socklen_t path_addr_len(const char *path)
{
	return (socklen_t)(UNIX_PATH_OFF + strlen(path) + 1);
}

static struct sock *find_abstract(struct net_state *n, const struct sockaddr_storage *a, socklen_t len)
{
	struct list_head *pos;
	list_for_each(pos, &n->unix_bound) {
		struct sock *s = list_entry(pos, struct sock, bind_link);
		if (s->bind_ino == 0 && s->local_len == len && memcmp(&s->local, a, len) == 0)
			return s;
	}
	return NULL;
}

static struct sock *find_inode(struct net_state *n, uint64_t dev, uint64_t ino)
{
	struct list_head *pos;
	list_for_each(pos, &n->unix_bound) {
		struct sock *s = list_entry(pos, struct sock, bind_link);
		if (s->bind_ino == ino && s->bind_dev == dev)
			return s;
	}
	return NULL;
}

static int autobind(struct sock *sk)
{
	struct net_state *n = net_of(sk->k);
	for (int tries = 0; tries < 0x100000; tries++) {
		struct sockaddr_storage a = {0};
		un(&a)->sun_family = AF_UNIX;
		uint32_t id = n->unix_autobind_next++ & 0xfffff;
		snprintf(un(&a)->sun_path + 1, sizeof(un(&a)->sun_path) - 1, "%05x", id);
		socklen_t len = UNIX_PATH_OFF + 6;
		if (find_abstract(n, &a, len))
			continue;
		sk->local = a;
		sk->local_len = len;
		sk->bound = true;
		list_add_tail(&sk->bind_link, &n->unix_bound);
		return 0;
	}
	return -ENOSPC;
}

static int unix_bind(struct sock *sk, struct task *t, const struct sockaddr_storage *a, socklen_t len)
{
	char path[sizeof(struct sockaddr_un)];
	int err = unix_addr_check(a, len, path);
	if (err < 0)
		return err;
	if (sk->bound && (len == UNIX_PATH_OFF || is_abstract(a, len)))
		return -EINVAL;
	if (len == UNIX_PATH_OFF)
		return autobind(sk);
	struct net_state *n = net_of(sk->k);
	if (is_abstract(a, len)) {
		if (find_abstract(n, a, len))
			return -EADDRINUSE;
		memcpy(&sk->local, a, len);
		sk->local_len = len;
	} else {
		if (!path[0])
			return -ENOENT;
		struct dentry *dir, *d;
		const char *last;
		if ((err = vfs_walk_parent(t->fs, NULL, path, &dir, &last)) < 0)
			return err;
		if (!last[0] || strchr(last, '/')) {
			dentry_put(dir);
			return -EEXIST;
		}
		err = vfs_create(dir, last, S_IFSOCK | (0777 & ~t->fs->umask), NULL, &d);
		if (err == -EEXIST) {
			dentry_put(dir);
			return -EADDRINUSE;
		}
		if (err < 0) {
			dentry_put(dir);
			return err;
		}
		if (sk->bound) { /* Linux makes the node, then finds the socket bound: undone */
			dentry_put(d);
			vfs_unlink(dir, last, false);
			dentry_put(dir);
			return -EINVAL;
		}
		dentry_put(dir);
		struct kstat st;
		inode_getattr(d->inode, &st);
		dentry_put(d);
		sk->bind_dev = st.dev;
		sk->bind_ino = st.ino ? st.ino : 1;
		un(&sk->local)->sun_family = AF_UNIX;
		memcpy(un(&sk->local)->sun_path, path, strlen(path) + 1);
		sk->local_len = path_addr_len(path);
	}
	sk->bound = true;
	list_add_tail(&sk->bind_link, &n->unix_bound);
	return 0;
}

/* The socket an address names: -ENOENT (no such path), -ECONNREFUSED (nobody bound),
 * -EPROTOTYPE (another socket type). */
static int unix_find(struct sock *sk, struct task *t, const struct sockaddr_storage *a, socklen_t len,
		     struct sock **out)
{
	char path[sizeof(struct sockaddr_un)];
	int err = unix_addr_check(a, len, path);
	if (err < 0)
		return err;
	if (len == UNIX_PATH_OFF)
		return -EINVAL;
	struct net_state *n = net_of(sk->k);
	struct sock *other;
	if (is_abstract(a, len)) {
		other = find_abstract(n, a, len);
	} else {
		if (!path[0])
			return -ENOENT;
		struct dentry *d;
		if ((err = vfs_walk(t->fs, NULL, path, WALK_FOLLOW, &d)) < 0)
			return err;
		struct kstat st;
		inode_getattr(d->inode, &st);
		dentry_put(d);
		if (!S_ISSOCK(st.mode))
			return -ECONNREFUSED;
		other = find_inode(n, st.dev, st.ino ? st.ino : 1);
	}
	if (!other || other->closed)
		return -ECONNREFUSED;
	if (other->type != sk->type)
		return -EPROTOTYPE;
	*out = other;
	return 0;
}

static struct sock *unix_alloc(struct kernel *k, int type)
{
	return sock_alloc(k, AF_UNIX, type, 0, &unix_ops);
}

static int unix_connect(struct sock *sk, struct task *t, const struct sockaddr_storage *a, socklen_t len,
			bool nonblock)
{
	if (sk->type == SOCK_DGRAM) {
		if (len >= sizeof(sa_family_t) && a->ss_family == AF_UNSPEC) {
			sock_unlink_peer(sk);
			sk->state = SS_FREE;
			return 0;
		}
		struct sock *other;
		int err = unix_find(sk, t, a, len, &other);
		if (err < 0)
			return err;
		if (sk->passcred && !sk->bound && (err = autobind(sk)) < 0)
			return err;
		if (sk->peer)
			sock_unlink_peer(sk);
		sock_get(other);
		sk->peer = other;
		sk->state = SS_CONNECTED;
		sk->remote = other->local;
		sk->remote_len = other->local_len;
		return 0;
	}
	if (sk->state == SS_CONNECTED || sk->state == SS_DISCONNECTED)
		return -EISCONN;
	if (sk->state == SS_LISTENING)
		return -EINVAL;
	struct sock *listener;
	int err = unix_find(sk, t, a, len, &listener);
	if (err < 0)
		return err;
	if (listener->state != SS_LISTENING)
		return -ECONNREFUSED;
	if (listener->acceptq_len > listener->backlog) {
		/* The backlog is full: wait for an accept to make room. */
		if (nonblock)
			return -EAGAIN;
		return (int)sock_wait(listener, t, sk->sndtimeo_ns, 0);
	}
	if (sk->passcred && !sk->bound && (err = autobind(sk)) < 0)
		return err;
	struct sock *child = unix_alloc(sk->k, sk->type);
	if (!child)
		return -ENOMEM;
	child->cred = listener->cred;
	child->local = listener->local;
	child->local_len = listener->local_len;
	child->passcred = listener->passcred;
	child->rcvbuf = listener->rcvbuf;
	child->sndbuf = listener->sndbuf;
	sock_set_cred(sk, t);
	sock_connect_pair(sk, child);
	/* SO_PEERCRED of the client: the listener's credentials (from listen()). */
	sk->peercred = listener->cred;
	sk->remote = listener->local;
	sk->remote_len = listener->local_len;
	child->remote = sk->local;
	child->remote_len = sk->local_len;
	list_add_tail(&child->qlink, &listener->acceptq); /* the queue owns child's reference */
	listener->acceptq_len++;
	waitqueue_wake_all(&listener->wq);
	return 0;
}

static int unix_listen(struct sock *sk, struct task *t, int backlog)
{
	if (sk->type == SOCK_DGRAM)
		return -EOPNOTSUPP;
	if (!sk->bound)
		return -EINVAL;
	if (sk->state != SS_FREE && sk->state != SS_LISTENING)
		return -EINVAL;
	if ((unsigned)backlog > SOMAXCONN_LINUX)
		backlog = SOMAXCONN_LINUX;
	sk->backlog = backlog;
	sock_set_cred(sk, t);
	sk->state = SS_LISTENING;
	waitqueue_wake_all(&sk->wq); /* connects waiting for room may find some */
	return 0;
}

static int unix_accept(struct sock *sk, struct task *t, struct sock **out)
{
	(void)t;
	if (sk->type == SOCK_DGRAM)
		return -EOPNOTSUPP;
	if (sk->state != SS_LISTENING)
		return -EINVAL;
	if (list_empty(&sk->acceptq))
		return -EAGAIN;
	struct sock *child = list_entry(sk->acceptq.next, struct sock, qlink);
	list_del_init(&child->qlink);
	sk->acceptq_len--;
	waitqueue_wake_all(&sk->wq); /* room for a waiting connect */
	*out = child;
	return 0;
}

static void attach_cred(struct sock *sk, struct task *t, struct kmsg *m)
{
	if (!m->has_cred && t) {
		m->cred.pid = t->tg->tgid;
		m->cred.uid = t->tg->cred.euid;
		m->cred.gid = t->tg->cred.egid;
		m->has_cred = true;
	}
	(void)sk;
}

static long unix_send_stream(struct sock *sk, struct task *t, struct kmsg *m)
{
	if (m->addrlen)
		return sk->state == SS_CONNECTED ? -EISCONN : -EOPNOTSUPP;
	if (sk->err)
		return sock_take_error(sk);
	if (sk->state != SS_CONNECTED && sk->state != SS_DISCONNECTED)
		return -ENOTCONN;
	struct sock *peer = sk->peer;
	if (!peer || peer->closed || (sk->shutdown & SHUT_SEND) || (peer->shutdown & SHUT_RCV))
		return sock_epipe(t, m->flags);
	attach_cred(sk, t, m);
	if (sk->type == SOCK_STREAM)
		return stream_send(sk, peer, t, m, (size_t)sk->sndbuf);
	/* seqpacket: one record, whole or not at all */
	if (m->len > (size_t)sk->sndbuf - 32)
		return -EMSGSIZE;
	if (peer->rx_bytes && peer->rx_bytes + m->len > (size_t)sk->sndbuf) {
		if (!t || (m->flags & MSG_DONTWAIT))
			return -EAGAIN;
		return sock_wait(sk, t, sk->sndtimeo_ns, 0);
	}
	struct skb *skb;
	int err = skb_from_msg(m, m->len, &skb);
	if (err < 0)
		return err;
	skb->from = sk->local;
	skb->fromlen = sk->local_len;
	skb_queue(peer, skb);
	waitqueue_wake_all(&peer->wq);
	return (long)m->len;
}

static long unix_send_dgram(struct sock *sk, struct task *t, struct kmsg *m)
{
	struct sock *other;
	int err;
	if (sk->err)
		return sock_take_error(sk);
	if (sk->shutdown & SHUT_SEND)
		return sock_epipe(t, m->flags);
	if (m->addrlen) {
		if ((err = unix_find(sk, t, &m->addr, m->addrlen, &other)) < 0)
			return err;
	} else {
		other = sk->peer;
		if (!other)
			return -ENOTCONN;
		if (other->closed) {
			/* The peer is gone: this connection is over (Linux drops it too). */
			sock_unlink_peer(sk);
			sk->state = SS_FREE;
			return -ECONNREFUSED;
		}
	}
	if (m->len > (size_t)sk->sndbuf - 32)
		return -EMSGSIZE;
	if (other->peer && other->peer != sk)
		return -EPERM;
	if (other->shutdown & SHUT_RCV)
		return sock_epipe(t, m->flags);
	if (sk->passcred && !sk->bound && (err = autobind(sk)) < 0)
		return err;
	bool full = (other->peer != sk && other->rx_count > UNIX_MAX_DGRAM_QLEN) ||
		    (other->rx_bytes && other->rx_bytes + m->len > (size_t)sk->sndbuf);
	if (full) {
		if (!t || (m->flags & MSG_DONTWAIT))
			return -EAGAIN;
		return sock_wait(other, t, sk->sndtimeo_ns, 0);
	}
	attach_cred(sk, t, m);
	struct skb *skb;
	if ((err = skb_from_msg(m, m->len, &skb)) < 0)
		return err;
	skb->from = sk->local;
	skb->fromlen = sk->bound ? sk->local_len : 0;
	skb_queue(other, skb);
	waitqueue_wake_all(&other->wq);
	return (long)m->len;
}

static long unix_sendmsg(struct sock *sk, struct task *t, struct kmsg *m)
{
	if (sk->type == SOCK_DGRAM)
		return unix_send_dgram(sk, t, m);
	return unix_send_stream(sk, t, m);
}

static long unix_recvmsg(struct sock *sk, struct task *t, struct kmsg *m)
{
	if (sk->state == SS_LISTENING)
		return -EINVAL;
	if (sk->type == SOCK_STREAM) {
		if (sk->state == SS_FREE)
			return -EINVAL;
		return stream_recv(sk, t, m);
	}
	if (sk->type == SOCK_SEQPACKET && sk->state == SS_FREE)
		return -ENOTCONN;
	long r = record_recv(sk, t, m);
	if (r >= 0 && sk->type == SOCK_SEQPACKET)
		m->out_flags |= MSG_EOR;
	return r;
}

static int unix_shutdown(struct sock *sk, int how)
{
	int mask = how + 1; /* SHUT_RD 0 -> SHUT_RCV, SHUT_WR 1 -> SHUT_SEND, SHUT_RDWR both */
	sk->shutdown |= mask;
	if (sk->type != SOCK_DGRAM && sk->peer) {
		struct sock *p = sk->peer;
		if (mask & SHUT_RCV)
			p->shutdown |= SHUT_SEND;
		if (mask & SHUT_SEND)
			p->shutdown |= SHUT_RCV;
	}
	sock_wake(sk);
	return 0;
}

static int unix_getname(struct sock *sk, bool peer, struct sockaddr_storage *a, socklen_t *len)
{
	if (peer) {
		if (sk->type == SOCK_DGRAM ? !sk->peer : (sk->state != SS_CONNECTED && sk->state != SS_DISCONNECTED))
			return -ENOTCONN;
		struct sock *p = sk->peer;
		if (sk->type == SOCK_DGRAM || (p && p->bound)) {
			*a = p->local;
			*len = p->local_len;
		} else {
			*a = sk->remote;
			*len = sk->remote_len;
		}
		if (!*len) {
			a->ss_family = AF_UNIX;
			*len = sizeof(sa_family_t);
		}
		return 0;
	}
	if (sk->bound) {
		*a = sk->local;
		*len = sk->local_len;
	} else {
		memset(a, 0, sizeof(*a));
		a->ss_family = AF_UNIX;
		*len = sizeof(sa_family_t);
	}
	return 0;
}

static unsigned unix_poll(struct sock *sk)
{
	unsigned mask = 0;
	if (sk->err)
		mask |= POLLERR;
	if (sk->shutdown == (SHUT_RCV | SHUT_SEND))
		mask |= POLLHUP;
	if (sk->shutdown & SHUT_RCV)
		mask |= POLLRDHUP | POLLIN | POLLRDNORM;
	if (!list_empty(&sk->rxq) || (sk->state == SS_LISTENING && sk->acceptq_len))
		mask |= POLLIN | POLLRDNORM;
	if (sk->type != SOCK_DGRAM && sk->state == SS_FREE)
		mask |= POLLHUP;
	if (sk->state == SS_LISTENING)
		return mask;
	struct sock *p = sk->peer;
	bool writable;
	if (sk->type == SOCK_DGRAM)
		writable = !p || p->closed || p->peer == sk || p->rx_count <= UNIX_MAX_DGRAM_QLEN;
	else
		writable = !p || p->rx_bytes * 4 <= (size_t)sk->sndbuf;
	if (writable)
		mask |= POLLOUT | POLLWRNORM | POLLWRBAND;
	return mask;
}

static void unix_release(struct sock *sk)
{
	if (sk->bound) {
		list_del_init(&sk->bind_link);
		sk->bound = false;
	}
	/* Connections nobody accepted end with the listener. */
	while (!list_empty(&sk->acceptq)) {
		struct sock *child = list_entry(sk->acceptq.next, struct sock, qlink);
		list_del_init(&child->qlink);
		sk->acceptq_len--;
		child->closed = true;
		unix_release(child);
		sock_put(child);
	}
	struct sock *p = sk->peer;
	if (p && sk->type != SOCK_DGRAM) {
		p->shutdown = SHUT_RCV | SHUT_SEND;
		if (!list_empty(&sk->rxq))
			p->err = ECONNRESET;
		p->state = SS_DISCONNECTED;
		/* The peer keeps answering getpeername with our address. */
		p->remote = sk->local;
		p->remote_len = sk->local_len;
		if (p->peer == sk)
			sock_unlink_peer(p);
	}
	sock_unlink_peer(sk);
	rxq_purge(sk);
}

static const struct proto_ops unix_ops = {
	.bind = unix_bind,
	.connect = unix_connect,
	.listen = unix_listen,
	.accept = unix_accept,
	.sendmsg = unix_sendmsg,
	.recvmsg = unix_recvmsg,
	.shutdown = unix_shutdown,
	.getname = unix_getname,
	.poll = unix_poll,
	.release = unix_release,
};

static int check_type(int type, int protocol)
{
	if (protocol != 0 && protocol != AF_UNIX)
		return -EPROTONOSUPPORT;
	if (type != SOCK_STREAM && type != SOCK_DGRAM && type != SOCK_SEQPACKET && type != SOCK_RAW)
		return -ESOCKTNOSUPPORT;
	return 0;
}

int unix_create(struct task *t, int type, int protocol, struct sock **out)
{
	int err = check_type(type, protocol);
	if (err < 0)
		return err;
	if (type == SOCK_RAW)
		type = SOCK_DGRAM; /* as Linux's unix_create */
	*out = unix_alloc(t->k, type);
	return *out ? 0 : -ENOMEM;
}

int unix_socketpair(struct task *t, int type, int protocol, struct sock **a, struct sock **b)
{
	int err = unix_create(t, type, protocol, a);
	if (err < 0)
		return err;
	if ((err = unix_create(t, type, protocol, b)) < 0) {
		sock_put(*a);
		return err;
	}
	sock_set_cred(*a, t);
	sock_set_cred(*b, t);
	sock_connect_pair(*a, *b);
	return 0;
}
