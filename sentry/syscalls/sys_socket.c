/* The socket system calls: arguments taken apart and checked here (addresses, msghdr,
 * control messages, flags), the work done by the socket layer in sentry/net. */
#include "sentry/net/net.h"
#include "sentry/syscalls/syscalls.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#ifndef UIO_MAXIOV
#define UIO_MAXIOV 1024
#endif

/* The socket an fd names: -EBADF, -ENOTSOCK. */
static int sockfd(struct task *t, int fd, struct file **fp, struct sock **skp)
{
	struct file *f = fget(t, fd);
	if (!f)
		return -EBADF;
	struct sock *sk = sock_from_file(f);
	if (!sk)
		return -ENOTSOCK;
	*fp = f;
	*skp = sk;
	return 0;
}

static int install_sock(struct task *t, struct sock *sk, int flags)
{
	struct file *f = sock_file_new(sk, (flags & SOCK_NONBLOCK) ? O_NONBLOCK : 0);
	if (!f) {
		sk->closed = true;
		sk->ops->release(sk);
		sock_put(sk);
		return -ENFILE;
	}
	int fd = fdt_install(t->fdt, f, 0, flags & SOCK_CLOEXEC, fd_limit(t));
	file_put(f);
	return fd;
}

SYSCALL(socket)
{
	int family = (int)a[0], type = (int)a[1], protocol = (int)a[2];
	int flags = type & (SOCK_NONBLOCK | SOCK_CLOEXEC);
	type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (type & ~0xf)
		return -EINVAL;
	struct sock *sk;
	int err = sock_create(t, family, type, protocol, &sk);
	if (err < 0)
		return err;
	return install_sock(t, sk, flags);
}

SYSCALL(socketpair)
{
	int family = (int)a[0], type = (int)a[1], protocol = (int)a[2];
	int flags = type & (SOCK_NONBLOCK | SOCK_CLOEXEC);
	type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (type & ~0xf)
		return -EINVAL;
	if (family == AF_INET || family == AF_INET6 || family == AF_NETLINK) {
		struct sock *probe;
		int err = sock_create(t, family, type, protocol, &probe);
		if (err < 0)
			return err;
		probe->closed = true;
		probe->ops->release(probe);
		sock_put(probe);
		return -EOPNOTSUPP;
	}
	if (family != AF_UNIX)
		return -EAFNOSUPPORT;
	if (!net_of(t->k))
		return -ENOMEM;
	struct sock *s0, *s1;
	int err = unix_socketpair(t, type, protocol, &s0, &s1);
	if (err < 0)
		return err;
	int fds[2];
	fds[0] = install_sock(t, s0, flags);
	if (fds[0] < 0) {
		s1->closed = true;
		s1->ops->release(s1);
		sock_put(s1);
		return fds[0];
	}
	fds[1] = install_sock(t, s1, flags);
	if (fds[1] < 0) {
		fdt_close(t->fdt, fds[0]);
		return fds[1];
	}
	if (copy_to_user(t->tg->mm, a[3], fds, sizeof(fds)) < 0) {
		fdt_close(t->fdt, fds[0]);
		fdt_close(t->fdt, fds[1]);
		return -EFAULT;
	}
	return 0;
}

static int copy_addr_in(struct task *t, uint64_t uaddr, uint64_t ulen, struct sockaddr_storage *a,
			socklen_t *len)
{
	if ((int)ulen < 0 || ulen > sizeof(*a))
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	if (ulen && copy_from_user(t->tg->mm, a, uaddr, ulen) < 0)
		return -EFAULT;
	*len = (socklen_t)ulen;
	return 0;
}

/* Writes an address back as Linux's move_addr_to_user: truncated to the guest's buffer,
 * the full length reported. */
static int copy_addr_out(struct task *t, const struct sockaddr_storage *a, socklen_t len, uint64_t uaddr,
			 uint64_t ulenp)
{
	if (!ulenp)
		return 0;
	int ulen;
	if (copy_from_user(t->tg->mm, &ulen, ulenp, sizeof(ulen)) < 0)
		return -EFAULT;
	if (ulen < 0)
		return -EINVAL;
	size_t n = (size_t)ulen < len ? (size_t)ulen : len;
	if (n && copy_to_user(t->tg->mm, uaddr, a, n) < 0)
		return -EFAULT;
	int l = (int)len;
	return copy_to_user(t->tg->mm, ulenp, &l, sizeof(l)) < 0 ? -EFAULT : 0;
}

SYSCALL(bind)
{
	struct file *f;
	struct sock *sk;
	struct sockaddr_storage addr;
	socklen_t len;
	int err = sockfd(t, (int)a[0], &f, &sk);
	if (err < 0)
		return err;
	if ((err = copy_addr_in(t, a[1], a[2], &addr, &len)) < 0)
		return err;
	return sk->ops->bind(sk, t, &addr, len);
}

SYSCALL(connect)
{
	struct file *f;
	struct sock *sk;
	struct sockaddr_storage addr;
	socklen_t len;
	int err = sockfd(t, (int)a[0], &f, &sk);
	if (err < 0)
		return err;
	if ((err = copy_addr_in(t, a[1], a[2], &addr, &len)) < 0)
		return err;
	return sk->ops->connect(sk, t, &addr, len, (f->flags & O_NONBLOCK) != 0);
}

SYSCALL(listen)
{
	struct file *f;
	struct sock *sk;
	int err = sockfd(t, (int)a[0], &f, &sk);
	if (err < 0)
		return err;
	if (!sk->ops->listen)
		return -EOPNOTSUPP;
	return sk->ops->listen(sk, t, (int)a[1]);
}

static long do_accept(struct task *t, int fd, uint64_t uaddr, uint64_t ulenp, int flags)
{
	struct file *f;
	struct sock *sk, *child;
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	int err = sockfd(t, fd, &f, &sk);
	if (err < 0)
		return err;
	if (!sk->ops->accept)
		return -EOPNOTSUPP;
	err = sk->ops->accept(sk, t, &child);
	if (err == -EAGAIN && !(f->flags & O_NONBLOCK))
		return sock_wait(sk, t, sk->rcvtimeo_ns, 0);
	if (err < 0)
		return err;
	if (uaddr) {
		struct sockaddr_storage pa;
		socklen_t plen = 0;
		memset(&pa, 0, sizeof(pa));
		child->ops->getname(child, true, &pa, &plen);
		if ((err = copy_addr_out(t, &pa, plen, uaddr, ulenp)) < 0) {
			child->closed = true;
			child->ops->release(child);
			sock_put(child);
			return err;
		}
	}
	return install_sock(t, child, flags);
}

SYSCALL(accept)
{
	return do_accept(t, (int)a[0], a[1], a[2], 0);
}

SYSCALL(accept4)
{
	return do_accept(t, (int)a[0], a[1], a[2], (int)a[3]);
}

static long do_getname(struct task *t, const uint64_t a[6], bool peer)
{
	struct file *f;
	struct sock *sk;
	struct sockaddr_storage addr;
	socklen_t len = 0;
	int err = sockfd(t, (int)a[0], &f, &sk);
	if (err < 0)
		return err;
	memset(&addr, 0, sizeof(addr));
	if ((err = sk->ops->getname(sk, peer, &addr, &len)) < 0)
		return err;
	if (!a[2])
		return -EFAULT;
	return copy_addr_out(t, &addr, len, a[1], a[2]);
}

SYSCALL(getsockname)
{
	return do_getname(t, a, false);
}

SYSCALL(getpeername)
{
	return do_getname(t, a, true);
}

SYSCALL(shutdown)
{
	struct file *f;
	struct sock *sk;
	int err = sockfd(t, (int)a[0], &f, &sk);
	if (err < 0)
		return err;
	if (a[1] > SHUT_RDWR)
		return -EINVAL;
	return sk->ops->shutdown(sk, (int)a[1]);
}

SYSCALL(setsockopt)
{
	struct file *f;
	struct sock *sk;
	int err = sockfd(t, (int)a[0], &f, &sk);
	if (err < 0)
		return err;
	int len = (int)a[4];
	if (len < 0)
		return -EINVAL;
	uint8_t val[256] = {0};
	size_t n = (size_t)len < sizeof(val) ? (size_t)len : sizeof(val);
	if (n && copy_from_user(t->tg->mm, val, a[3], n) < 0)
		return -EFAULT;
	return sock_setsockopt(sk, t, (int)a[1], (int)a[2], val, (socklen_t)len);
}

SYSCALL(getsockopt)
{
	struct file *f;
	struct sock *sk;
	int err = sockfd(t, (int)a[0], &f, &sk);
	if (err < 0)
		return err;
	int ulen;
	if (copy_from_user(t->tg->mm, &ulen, a[4], sizeof(ulen)) < 0)
		return -EFAULT;
	if (ulen < 0)
		return -EINVAL;
	uint8_t val[256] = {0};
	socklen_t len = (size_t)ulen < sizeof(val) ? (socklen_t)ulen : sizeof(val);
	if ((err = sock_getsockopt(sk, t, (int)a[1], (int)a[2], val, &len)) < 0)
		return err;
	if (len && copy_to_user(t->tg->mm, a[3], val, len) < 0)
		return -EFAULT;
	int l = (int)len;
	return copy_to_user(t->tg->mm, a[4], &l, sizeof(l)) < 0 ? -EFAULT : 0;
}

/* ---- sending and receiving ---- */

/* The guest's iovec array, checked as Linux's import_iovec. */
static int copy_iov(struct task *t, uint64_t uiov, uint64_t cnt, struct iovec **out, size_t *total)
{
	if (cnt > UIO_MAXIOV)
		return -EMSGSIZE;
	struct iovec *iov = calloc(cnt ? cnt : 1, sizeof(*iov));
	if (!iov)
		return -ENOMEM;
	if (cnt && copy_from_user(t->tg->mm, iov, uiov, cnt * sizeof(*iov)) < 0) {
		free(iov);
		return -EFAULT;
	}
	uint64_t sum = 0;
	for (uint64_t i = 0; i < cnt; i++) {
		if ((int64_t)iov[i].iov_len < 0) {
			free(iov);
			return -EINVAL;
		}
		/* Linux clamps the total to MAX_RW_COUNT rather than failing. */
		uint64_t room = (uint64_t)(INT_MAX & ~4095) - sum;
		if (iov[i].iov_len > room)
			iov[i].iov_len = room;
		sum += iov[i].iov_len;
	}
	*out = iov;
	*total = sum;
	return 0;
}

/* SCM_RIGHTS and SCM_CREDENTIALS from a sendmsg control buffer. */
static int parse_control(struct task *t, struct sock *sk, uint64_t uctl, size_t ctllen, struct kmsg *m)
{
	if (!ctllen)
		return 0;
	if (ctllen > 65536)
		return -ENOBUFS;
	uint8_t *buf = malloc(ctllen);
	if (!buf)
		return -ENOMEM;
	int err = 0;
	if (copy_from_user(t->tg->mm, buf, uctl, ctllen) < 0) {
		free(buf);
		return -EFAULT;
	}
	size_t off = 0;
	while (off + sizeof(struct cmsghdr) <= ctllen) {
		struct cmsghdr c;
		memcpy(&c, buf + off, sizeof(c));
		if (c.cmsg_len < sizeof(struct cmsghdr) || c.cmsg_len > ctllen - off) {
			err = -EINVAL;
			break;
		}
		const uint8_t *data = buf + off + CMSG_LEN(0);
		size_t dlen = c.cmsg_len - CMSG_LEN(0);
		if (c.cmsg_level == SOL_SOCKET) {
			if (sk->family != AF_UNIX) {
				err = -EINVAL;
				break;
			}
			if (c.cmsg_type == SCM_RIGHTS) {
				int n = (int)(dlen / sizeof(int));
				if (m->nfds + n > SCM_MAX_FD) {
					err = -EINVAL;
					break;
				}
				struct net_state *ns = net_of(t->k);
				if (ns->fds_in_flight + m->nfds + n > NET_MAX_FDS_IN_FLIGHT) {
					err = -ETOOMANYREFS;
					break;
				}
				struct file **fds = realloc(m->fds, sizeof(*fds) * (size_t)(m->nfds + n + 1));
				if (!fds) {
					err = -ENOMEM;
					break;
				}
				m->fds = fds;
				for (int i = 0; i < n; i++) {
					int fd;
					memcpy(&fd, data + (size_t)i * sizeof(int), sizeof(fd));
					struct file *f = fget(t, fd);
					if (!f || (f->flags & O_PATH)) {
						err = -EBADF;
						break;
					}
					file_get(f);
					m->fds[m->nfds++] = f;
				}
				if (err)
					break;
			} else if (c.cmsg_type == SCM_CREDENTIALS) {
				struct ucred u;
				if (dlen < sizeof(u)) {
					err = -EINVAL;
					break;
				}
				memcpy(&u, data, sizeof(u));
				const struct creds *cr = &t->tg->cred;
				/* root (CAP_SYS_ADMIN, CAP_SETUID) may name anyone */
				if (cr->euid != 0 && (u.pid != t->tg->tgid ||
				    (u.uid != cr->ruid && u.uid != cr->euid && u.uid != cr->suid) ||
				    (u.gid != cr->rgid && u.gid != cr->egid && u.gid != cr->sgid))) {
					err = -EPERM;
					break;
				}
				m->cred.pid = u.pid;
				m->cred.uid = u.uid;
				m->cred.gid = u.gid;
				m->has_cred = true;
			} else {
				err = -EINVAL;
				break;
			}
		}
		off += CMSG_ALIGN(c.cmsg_len);
	}
	free(buf);
	return err;
}

/* Builds the receive control buffer: credentials (SO_PASSCRED) then passed files, which
 * are installed as new descriptors; what does not fit is closed and MSG_CTRUNC set. */
static int build_control(struct task *t, struct sock *sk, struct kmsg *m, uint64_t uctl, size_t ctllen,
			 int flags, size_t *used)
{
	uint8_t buf[CMSG_SPACE(sizeof(int) * SCM_MAX_FD) + CMSG_SPACE(sizeof(struct ucred))];
	size_t off = 0;
	*used = 0;
	if (ctllen > sizeof(buf))
		ctllen = sizeof(buf);
	if (sk->family == AF_UNIX && sk->passcred) {
		struct ucred u = {.pid = 0, .uid = 65534, .gid = 65534};
		if (m->has_cred) {
			u.pid = m->cred.pid;
			u.uid = m->cred.uid;
			u.gid = m->cred.gid;
		}
		if (ctllen - off < CMSG_LEN(sizeof(u))) {
			m->out_flags |= MSG_CTRUNC;
		} else {
			struct cmsghdr c = {.cmsg_len = CMSG_LEN(sizeof(u)), .cmsg_level = SOL_SOCKET,
					    .cmsg_type = SCM_CREDENTIALS};
			memset(buf + off, 0, CMSG_SPACE(sizeof(u)));
			memcpy(buf + off, &c, sizeof(c));
			memcpy(buf + off + CMSG_LEN(0), &u, sizeof(u));
			size_t sp = CMSG_SPACE(sizeof(u));
			off += sp < ctllen - off ? sp : ctllen - off;
		}
	}
	if (m->nfds) {
		int fit = ctllen - off >= CMSG_LEN(0) ? (int)((ctllen - off - CMSG_LEN(0)) / sizeof(int)) : 0;
		if (fit > m->nfds)
			fit = m->nfds;
		int installed = 0;
		for (int i = 0; i < fit; i++) {
			int fd = fdt_install(t->fdt, m->fds[i], 0, (flags & MSG_CMSG_CLOEXEC) != 0, fd_limit(t));
			if (fd < 0)
				break;
			memcpy(buf + off + CMSG_LEN(0) + (size_t)i * sizeof(int), &fd, sizeof(fd));
			installed++;
		}
		if (installed < m->nfds)
			m->out_flags |= MSG_CTRUNC;
		if (installed) {
			struct cmsghdr c = {.cmsg_len = CMSG_LEN(sizeof(int) * (size_t)installed),
					    .cmsg_level = SOL_SOCKET, .cmsg_type = SCM_RIGHTS};
			memcpy(buf + off, &c, sizeof(c));
			size_t sp = CMSG_SPACE(sizeof(int) * (size_t)installed);
			off += sp < ctllen - off ? sp : ctllen - off;
		}
		kmsg_drop_fds(m); /* the fd table holds what was installed */
	}
	if (off && copy_to_user(t->tg->mm, uctl, buf, off) < 0)
		return -EFAULT;
	*used = off;
	return 0;
}

static int send_flags(struct file *f, int flags)
{
	if (f->flags & O_NONBLOCK)
		flags |= MSG_DONTWAIT;
	return flags;
}

/* The data part of a message for sendmsg or recvmsg: the guest's iovec copied in (*iov,
 * freed by the caller), what a blocked earlier run of the call already moved skipped. */
static int kmsg_prepare(struct task *t, struct file *f, const struct msghdr *mh, int flags,
			struct iovec **iov, struct kmsg *m)
{
	size_t total;
	int err;
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if ((err = copy_iov(t, (uint64_t)mh->msg_iov, mh->msg_iovlen, iov, &total)) < 0)
		return err;
	iter_init_user(&m->iter, t->tg->mm, *iov, (int)mh->msg_iovlen);
	m->iter.left = total;
	m->len = total;
	m->flags = send_flags(f, flags);
	if (t->restarting && t->partial)
		iter_skip(&m->iter, (size_t)t->partial);
	return 0;
}

/* One sendmsg: the message header already in sentry memory. */
static long send_one(struct task *t, struct file *f, struct sock *sk, const struct msghdr *mh, int flags)
{
	struct iovec *iov;
	struct kmsg m = {0};
	int err;
	if ((err = kmsg_prepare(t, f, mh, flags, &iov, &m)) < 0)
		return err;
	if (mh->msg_name && mh->msg_namelen &&
	    (err = copy_addr_in(t, (uint64_t)mh->msg_name, mh->msg_namelen, &m.addr, &m.addrlen)) < 0)
		goto out;
	if ((err = parse_control(t, sk, (uint64_t)mh->msg_control, mh->msg_controllen, &m)) < 0)
		goto out;
	long r = sk->ops->sendmsg(sk, t, &m);
	kmsg_drop_fds(&m);
	free(iov);
	return r;
out:
	kmsg_drop_fds(&m);
	free(iov);
	return err;
}

/* One recvmsg: the header in sentry memory, written back to uhdr (NULL: recvfrom, which
 * writes only the address). */
static long recv_one(struct task *t, struct file *f, struct sock *sk, struct msghdr *mh, int flags,
		     uint64_t uaddrlenp)
{
	struct iovec *iov;
	struct kmsg m = {0};
	int err;
	if ((err = kmsg_prepare(t, f, mh, flags, &iov, &m)) < 0)
		return err;
	long r = sk->ops->recvmsg(sk, t, &m);
	free(iov);
	if (r < 0) {
		kmsg_drop_fds(&m);
		return r;
	}
	if (uaddrlenp) { /* recvfrom */
		kmsg_drop_fds(&m);
		if (mh->msg_name && (err = copy_addr_out(t, &m.addr, m.addrlen, (uint64_t)mh->msg_name, uaddrlenp)) < 0)
			return err;
		return r;
	}
	size_t n = m.addrlen < mh->msg_namelen ? m.addrlen : mh->msg_namelen;
	if (mh->msg_name && n && copy_to_user(t->tg->mm, (uint64_t)mh->msg_name, &m.addr, n) < 0) {
		kmsg_drop_fds(&m);
		return -EFAULT;
	}
	mh->msg_namelen = mh->msg_name ? m.addrlen : 0;
	size_t used;
	if ((err = build_control(t, sk, &m, (uint64_t)mh->msg_control, mh->msg_control ? mh->msg_controllen : 0,
				 flags, &used)) < 0)
		return err;
	mh->msg_controllen = used;
	mh->msg_flags = m.out_flags;
	return r;
}

SYSCALL(sendto)
{
	struct file *f;
	struct sock *sk;
	int err = sockfd(t, (int)a[0], &f, &sk);
	if (err < 0)
		return err;
	struct iovec v = {.iov_base = (void *)a[1], .iov_len = a[2]};
	struct kmsg m = {0};
	if (a[3] & MSG_OOB)
		return -EOPNOTSUPP;
	iter_init_user(&m.iter, t->tg->mm, &v, 1);
	m.len = a[2] > (size_t)(INT_MAX & ~4095) ? (size_t)(INT_MAX & ~4095) : a[2];
	m.iter.left = m.len;
	m.flags = send_flags(f, (int)a[3]);
	if (a[4] && (err = copy_addr_in(t, a[4], a[5], &m.addr, &m.addrlen)) < 0)
		return err;
	if (t->restarting && t->partial)
		iter_skip(&m.iter, (size_t)t->partial);
	return sk->ops->sendmsg(sk, t, &m);
}

SYSCALL(recvfrom)
{
	struct file *f;
	struct sock *sk;
	int err = sockfd(t, (int)a[0], &f, &sk);
	if (err < 0)
		return err;
	if (a[3] & MSG_OOB)
		return -EOPNOTSUPP;
	struct iovec v = {.iov_base = (void *)a[1], .iov_len = a[2]};
	struct kmsg m = {0};
	iter_init_user(&m.iter, t->tg->mm, &v, 1);
	m.len = a[2] > (size_t)(INT_MAX & ~4095) ? (size_t)(INT_MAX & ~4095) : a[2];
	m.iter.left = m.len;
	m.flags = send_flags(f, (int)a[3]);
	if (t->restarting && t->partial)
		iter_skip(&m.iter, (size_t)t->partial);
	long r = sk->ops->recvmsg(sk, t, &m);
	kmsg_drop_fds(&m);
	if (r >= 0 && a[4] && (err = copy_addr_out(t, &m.addr, m.addrlen, a[4], a[5])) < 0)
		return err;
	return r;
}

SYSCALL(sendmsg)
{
	struct file *f;
	struct sock *sk;
	struct msghdr mh;
	int err = sockfd(t, (int)a[0], &f, &sk);
	if (err < 0)
		return err;
	if (copy_from_user(t->tg->mm, &mh, a[1], sizeof(mh)) < 0)
		return -EFAULT;
	return send_one(t, f, sk, &mh, (int)a[2]);
}

/* The fields of struct msghdr that recvmsg writes back. */
static int write_back_msghdr(struct task *t, uint64_t uhdr, const struct msghdr *mh)
{
	if (copy_to_user(t->tg->mm, uhdr + offsetof(struct msghdr, msg_namelen), &mh->msg_namelen,
			 sizeof(mh->msg_namelen)) < 0 ||
	    copy_to_user(t->tg->mm, uhdr + offsetof(struct msghdr, msg_controllen), &mh->msg_controllen,
			 sizeof(mh->msg_controllen)) < 0 ||
	    copy_to_user(t->tg->mm, uhdr + offsetof(struct msghdr, msg_flags), &mh->msg_flags,
			 sizeof(mh->msg_flags)) < 0)
		return -EFAULT;
	return 0;
}

SYSCALL(recvmsg)
{
	struct file *f;
	struct sock *sk;
	struct msghdr mh;
	int err = sockfd(t, (int)a[0], &f, &sk);
	if (err < 0)
		return err;
	if (copy_from_user(t->tg->mm, &mh, a[1], sizeof(mh)) < 0)
		return -EFAULT;
	long r = recv_one(t, f, sk, &mh, (int)a[2], 0);
	if (r < 0)
		return r;
	if ((err = write_back_msghdr(t, a[1], &mh)) < 0)
		return err;
	return r;
}

/* sendmmsg/recvmmsg: the first message may wait; later ones are taken only if ready (as
 * with MSG_WAITFORONE), so a re-run never repeats a message already moved. */
SYSCALL(sendmmsg)
{
	struct file *f;
	struct sock *sk;
	int err = sockfd(t, (int)a[0], &f, &sk);
	if (err < 0)
		return err;
	unsigned vlen = (unsigned)a[2] > UIO_MAXIOV ? UIO_MAXIOV : (unsigned)a[2];
	unsigned i;
	for (i = 0; i < vlen; i++) {
		struct mmsghdr mm;
		uint64_t u = a[1] + i * sizeof(struct mmsghdr);
		if (copy_from_user(t->tg->mm, &mm, u, sizeof(mm)) < 0) {
			err = -EFAULT;
			break;
		}
		long r = send_one(t, f, sk, &mm.msg_hdr, (int)a[3] | (i ? MSG_DONTWAIT : 0));
		if (r == SYSCALL_BLOCKED)
			return r;
		if (r < 0) {
			err = (int)r;
			break;
		}
		unsigned len = (unsigned)r;
		if (copy_to_user(t->tg->mm, u + offsetof(struct mmsghdr, msg_len), &len, sizeof(len)) < 0) {
			err = -EFAULT;
			break;
		}
	}
	return i ? (long)i : err;
}

SYSCALL(recvmmsg)
{
	struct file *f;
	struct sock *sk;
	int err = sockfd(t, (int)a[0], &f, &sk);
	if (err < 0)
		return err;
	if (a[4]) {
		struct timespec ts;
		if (copy_from_user(t->tg->mm, &ts, a[4], sizeof(ts)) < 0)
			return -EFAULT;
		if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
			return -EINVAL;
	}
	unsigned vlen = (unsigned)a[2] > UIO_MAXIOV ? UIO_MAXIOV : (unsigned)a[2];
	unsigned i;
	for (i = 0; i < vlen; i++) {
		struct mmsghdr mm;
		uint64_t u = a[1] + i * sizeof(struct mmsghdr);
		if (copy_from_user(t->tg->mm, &mm, u, sizeof(mm)) < 0) {
			err = -EFAULT;
			break;
		}
		int flags = (int)a[3] & ~MSG_WAITFORONE;
		long r = recv_one(t, f, sk, &mm.msg_hdr, flags | (i ? MSG_DONTWAIT : 0), 0);
		if (r == SYSCALL_BLOCKED)
			return r;
		if (r < 0) {
			err = (int)r;
			break;
		}
		mm.msg_len = (unsigned)r;
		if (write_back_msghdr(t, u, &mm.msg_hdr) < 0 ||
		    copy_to_user(t->tg->mm, u + offsetof(struct mmsghdr, msg_len), &mm.msg_len,
				 sizeof(mm.msg_len)) < 0) {
			err = -EFAULT;
			break;
		}
	}
	return i ? (long)i : err;
}

long sock_file_iov(struct task *t, struct file *f, uint64_t uiov, uint64_t cnt, bool is_write)
{
	struct sock *sk = sock_from_file(f);
	struct msghdr mh = {.msg_iov = (struct iovec *)uiov, .msg_iovlen = cnt};
	if (cnt > UIO_MAXIOV)
		return -EINVAL;
	if (is_write)
		return send_one(t, f, sk, &mh, 0);
	return recv_one(t, f, sk, &mh, 0, 0);
}
