/* Sockets as files: the sockfs inode, read/write/poll/ioctl on a socket, its life cycle,
 * and the helpers every family shares (waiting, errors, peers, credentials). */
#include "sentry/net/net.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>

struct net_state *net_of(struct kernel *k)
{
	if (!k->net) {
		struct net_state *n = calloc(1, sizeof(*n));
		if (!n)
			return NULL;
		list_init(&n->unix_bound);
		list_init(&n->tcp_ports);
		list_init(&n->udp_ports);
		n->netlink_next_portid = 1;
		list_init(&n->netlink_bound);
		k->net = n;
	}
	return k->net;
}

/* ---- the sockfs inode ---- */

struct sock_inode {
	struct sock *sk;
	uint32_t uid, gid;
	struct timespec ctime;
};

static int sock_getattr(struct inode *ino, struct kstat *st)
{
	struct sock_inode *si = ino->priv;
	st->mode = S_IFSOCK | 0777;
	st->uid = si->uid;
	st->gid = si->gid;
	st->blksize = 4096;
	st->nlink = 1;
	st->atime = st->mtime = st->ctime = si->ctime;
	return 0;
}

static void sock_inode_release(struct inode *ino)
{
	free(ino->priv);
}

static const struct inode_ops sock_inode_ops = {
	.getattr = sock_getattr,
	.release = sock_inode_release,
};

static struct superblock sockfs = {.fstype = "sockfs", .dev = 0x8, .magic = 0x534F434B};

/* ---- reference counting ---- */

void sock_get(struct sock *sk)
{
	sk->refs++;
}

void sock_put(struct sock *sk)
{
	if (!sk || --sk->refs > 0)
		return;
	rxq_purge(sk);
	free(sk);
}

struct sock *sock_alloc(struct kernel *k, int family, int type, int protocol, const struct proto_ops *ops)
{
	struct sock *sk = calloc(1, sizeof(*sk));
	if (!sk)
		return NULL;
	sk->refs = 1;
	sk->k = k;
	sk->family = family;
	sk->type = type;
	sk->protocol = protocol;
	sk->ops = ops;
	waitqueue_init(&sk->wq);
	list_init(&sk->rxq);
	list_init(&sk->acceptq);
	list_init(&sk->pendingq);
	list_init(&sk->qlink);
	list_init(&sk->bind_link);
	/* net.core.rmem_default / wmem_default */
	sk->rcvbuf = 212992;
	sk->sndbuf = 212992;
	sk->rcvlowat = 1;
	sk->ip_ttl = 64;
	return sk;
}

struct sock *sock_from_file(struct file *f)
{
	if (!f || !f->inode || f->inode->sb != &sockfs)
		return NULL;
	return ((struct sock_inode *)f->inode->priv)->sk;
}

/* ---- helpers ---- */

void sock_wake(struct sock *sk)
{
	waitqueue_wake_all(&sk->wq);
	if (sk->peer)
		waitqueue_wake_all(&sk->peer->wq);
}

int sock_take_error(struct sock *sk)
{
	int e = sk->err;
	sk->err = 0;
	return -e;
}

void sock_set_cred(struct sock *sk, struct task *t)
{
	if (!t)
		return;
	sk->cred.pid = t->tg->tgid;
	sk->cred.uid = t->tg->cred.euid;
	sk->cred.gid = t->tg->cred.egid;
}

uint64_t sock_deadline(struct task *t, uint64_t timeo_ns)
{
	if (!timeo_ns)
		return 0;
	if (!t->restarting || !t->deadline)
		t->deadline = now_ns() + timeo_ns;
	return t->deadline;
}

long sock_wait(struct sock *sk, struct task *t, uint64_t timeo_ns, long done)
{
	uint64_t deadline = sock_deadline(t, timeo_ns);
	t->partial = done;
	long r = task_block(t, &sk->wq, deadline);
	/* A signal ends the wait with what was moved, else EINTR, or a restart when there
	 * is no timeout (Linux's sock_intr_errno). */
	t->intr_result = done ? done : (timeo_ns ? -EINTR : -ERESTARTSYS);
	t->timeout_result = done ? done : -EAGAIN;
	return r;
}

long sock_connect_in_progress(struct sock *sk, struct task *t, bool nonblock)
{
	sk->connect_unreported = true;
	if (nonblock)
		return -EINPROGRESS;
	long r = sock_wait(sk, t, sk->sndtimeo_ns, 0);
	t->timeout_result = -EINPROGRESS;
	return r;
}

long sock_send_to_closed(struct sock *sk, size_t len)
{
	sk->err = EPIPE;
	sk->shutdown = SHUT_RCV | SHUT_SEND;
	sk->state = SS_DISCONNECTED;
	sock_wake(sk);
	return (long)len;
}

long sock_epipe(struct task *t, int flags)
{
	if (t && !(flags & MSG_NOSIGNAL)) {
		siginfo_t si = {0};
		si.si_signo = SIGPIPE;
		si.si_code = SI_USER;
		si.si_pid = t->tg->tgid;
		si.si_uid = t->tg->cred.ruid;
		signal_send(t, SIGPIPE, &si, false);
	}
	return -EPIPE;
}

void sock_connect_pair(struct sock *a, struct sock *b)
{
	sock_get(b);
	a->peer = b;
	sock_get(a);
	b->peer = a;
	a->state = b->state = SS_CONNECTED;
	a->peercred = b->cred;
	b->peercred = a->cred;
	a->has_peercred = b->has_peercred = true;
}

void sock_unlink_peer(struct sock *sk)
{
	struct sock *p = sk->peer;
	if (!p)
		return;
	sk->peer = NULL;
	waitqueue_wake_all(&p->wq);
	sock_put(p);
}

/* ---- the file ---- */

static long sock_file_read(struct file *f, struct task *t, void *buf, size_t len, uint64_t *pos)
{
	(void)pos;
	struct sock *sk = sock_from_file(f);
	struct kmsg m = {0};
	iter_init_kernel(&m.iter, buf, len);
	m.len = len;
	m.flags = (f->flags & O_NONBLOCK) ? MSG_DONTWAIT : 0;
	if (t && t->restarting && t->partial)
		iter_skip(&m.iter, (size_t)t->partial);
	long r = sk->ops->recvmsg(sk, t, &m);
	kmsg_drop_fds(&m);
	return r;
}

static long sock_file_write(struct file *f, struct task *t, const void *buf, size_t len, uint64_t *pos)
{
	(void)pos;
	struct sock *sk = sock_from_file(f);
	struct kmsg m = {0};
	iter_init_kernel(&m.iter, (void *)buf, len);
	m.len = len;
	m.flags = (f->flags & O_NONBLOCK) ? MSG_DONTWAIT : 0;
	if (t && t->restarting && t->partial)
		iter_skip(&m.iter, (size_t)t->partial);
	return sk->ops->sendmsg(sk, t, &m);
}

static unsigned sock_file_poll(struct file *f, struct poll_table *pt)
{
	struct sock *sk = sock_from_file(f);
	poll_wait(pt, &sk->wq);
	return sk->ops->poll(sk);
}

static long sock_file_ioctl(struct file *f, struct task *t, unsigned long cmd, uint64_t arg)
{
	struct sock *sk = sock_from_file(f);
	int v;
	switch (cmd) {
	case FIONREAD: /* == SIOCINQ */
		if (sk->state == SS_LISTENING)
			return -EINVAL;
		if (sk->type == SOCK_STREAM || sk->family == AF_UNIX)
			v = (int)sk->rx_bytes;
		else /* a datagram socket: the size of the next datagram */
			v = list_empty(&sk->rxq) ? 0 : (int)list_entry(sk->rxq.next, struct skb, link)->len;
		break;
	case SIOCOUTQ:
		if (sk->state == SS_LISTENING)
			return -EINVAL;
		/* Sent bytes live in the receiver's queue here; nothing waits on this side. */
		v = 0;
		break;
	case SIOCGIFFLAGS: case SIOCGIFINDEX: case SIOCGIFNAME: case SIOCGIFMTU:
		return net_iface_ioctl(t, cmd, arg); /* the sandbox's interfaces (netlink.c) */
	case SIOCGIFCONF:
		return -ENOTTY; /* not served: use netlink */
	default:
		return -ENOTTY;
	}
	return copy_to_user(t->tg->mm, arg, &v, sizeof(v)) < 0 ? -EFAULT : 0;
}

static void sock_file_release(struct file *f)
{
	struct sock *sk = sock_from_file(f);
	sk->closed = true;
	sk->ops->release(sk);
	sock_wake(sk);
	sock_put(sk);
}

static const struct file_ops sock_file_ops = {
	.read = sock_file_read,
	.write = sock_file_write,
	.poll = sock_file_poll,
	.ioctl = sock_file_ioctl,
	.release = sock_file_release,
	.stream = true,
};

struct file *sock_file_new(struct sock *sk, int flags)
{
	struct sock_inode *si = calloc(1, sizeof(*si));
	if (!si)
		return NULL;
	si->sk = sk;
	struct task *cur = sk->k->current;
	si->uid = cur ? cur->tg->cred.euid : 0;
	si->gid = cur ? cur->tg->cred.egid : 0;
	clock_gettime(CLOCK_REALTIME, &si->ctime);
	struct inode *ino = inode_new(&sockfs, &sock_inode_ops, S_IFSOCK | 0777, si);
	if (!ino) {
		free(si);
		return NULL;
	}
	struct file *f = file_new(NULL, ino, O_RDWR | (flags & O_NONBLOCK));
	inode_put(ino);
	if (!f)
		return NULL;
	f->ops = &sock_file_ops;
	f->priv = sk;
	return f;
}

int sock_create(struct task *t, int family, int type, int protocol, struct sock **out)
{
	if (!net_of(t->k))
		return -ENOMEM;
	int err;
	switch (family) {
	case AF_UNIX:
		err = unix_create(t, type, protocol, out);
		break;
	case AF_INET:
	case AF_INET6:
		err = inet_create(t, family, type, protocol, out);
		break;
	case AF_NETLINK:
		err = netlink_create(t, type, protocol, out);
		break;
	case AF_PACKET:
		/* An unprivileged Linux user gets EPERM for packet sockets. */
		return -EPERM;
	default:
		return -EAFNOSUPPORT;
	}
	if (err == 0) {
		sock_set_cred(*out, t);
		(*out)->owner_uid = t->tg->cred.euid;
	}
	return err;
}
