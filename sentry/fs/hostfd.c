/* The guest's inherited stdio: files over the host descriptors `ward run` was given
 * (terminal, pipes or regular files). Reads and writes that would block park the task and
 * wait in the event loop, so one guest reading its terminal, or writing to a pipe nobody
 * drains, never stalls the others: `ward run` gives the sentry its own non-blocking open
 * file descriptions of pipes and terminals (tools/cli/sandbox_stdio.c). */
#include "sentry/fs/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

/* The kernel's struct termios for TCGETS/TCSETS (asm/termbits.h), not glibc's larger one:
 * the guest passes a buffer of this size. */
#define KERNEL_TERMIOS_SIZE 36

struct hostfd {
	struct kernel *k;
	int fd;
	int idx; /* which of the sentry's stdio fds */
	bool pollable;
	bool tty;
	bool sock; /* not reopenable non-blocking (sandbox_stdio.c): MSG_DONTWAIT instead */
};

static ssize_t host_read(struct hostfd *h, void *buf, size_t len)
{
	return h->sock ? recv(h->fd, buf, len, MSG_DONTWAIT) : read(h->fd, buf, len);
}

static ssize_t host_write(struct hostfd *h, const void *buf, size_t len)
{
	/* MSG_NOSIGNAL: EPIPE is the guest's SIGPIPE (below), not the sentry's. */
	return h->sock ? send(h->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) : write(h->fd, buf, len);
}

/* Job control on the console: a process of the console's session that is not in the
 * foreground group and touches the terminal gets SIGTTIN (read) or SIGTTOU (write, with
 * TOSTOP) sent to its group, or EIO if it blocks or ignores that signal. Returns 0 to go
 * on, or what the syscall returns. */
static long tty_background_check(struct hostfd *h, struct task *t, int sig)
{
	struct kernel *k = h->k;
	if (!h->tty || !t || !k->init || t->tg->sid != k->init->sid || t->tg->pgid == k->fg_pgrp)
		return 0;
	if (sig == SIGTTOU) {
		struct termios tio;
		if (tcgetattr(h->fd, &tio) < 0 || !(tio.c_lflag & TOSTOP))
			return 0;
	}
	uint64_t h_ = t->tg->sighand->action[sig - 1].handler;
	if ((t->sigmask & SIGBIT(sig)) || h_ == (uint64_t)SIG_IGN)
		return sig == SIGTTOU ? 0 : -EIO; /* a write goes on if SIGTTOU is ignored */
	siginfo_t si = {0};
	si.si_signo = sig;
	si.si_code = SI_KERNEL;
	signal_pgrp(k, t->tg->pgid, sig, &si);
	return -ERESTARTSYS;
}

/* A file of the stdio inode, or /dev/tty opened on the console (its own struct). */
static struct hostfd *hostfd_of(struct file *f)
{
	return f->priv ? f->priv : f->inode->priv;
}

static int hostfd_getattr(struct inode *ino, struct kstat *st)
{
	struct hostfd *h = ino->priv;
	struct stat hs;
	if (fstat(h->fd, &hs) < 0)
		return -errno;
	st->dev = hs.st_dev;
	st->ino = hs.st_ino;
	st->mode = hs.st_mode;
	st->nlink = hs.st_nlink;
	st->uid = hs.st_uid;
	st->gid = hs.st_gid;
	st->rdev = hs.st_rdev;
	st->size = S_ISREG(hs.st_mode) ? (uint64_t)hs.st_size : 0;
	st->blksize = (uint32_t)hs.st_blksize;
	st->blocks = (uint64_t)hs.st_blocks;
	st->atime = hs.st_atim;
	st->mtime = hs.st_mtim;
	st->ctime = hs.st_ctim;
	return 0;
}

static void hostfd_release_inode(struct inode *ino)
{
	free(ino->priv);
}

static const struct inode_ops hostfd_inode_ops = {
	.getattr = hostfd_getattr,
	.release = hostfd_release_inode,
};

static long hostfd_read(struct file *f, struct task *t, void *buf, size_t len, uint64_t *pos)
{
	struct hostfd *h = hostfd_of(f);
	(void)pos;
	long bg = tty_background_check(h, t, SIGTTIN);
	if (bg)
		return bg;
	if (h->pollable) {
		struct pollfd p = {h->fd, POLLIN, 0};
		while (poll(&p, 1, 0) > 0) {
			ssize_t n = host_read(h, buf, len);
			if (n >= 0)
				return n;
			if (errno == EAGAIN)
				break; /* another reader of the terminal was first */
			if (errno != EINTR)
				return -errno;
		}
		if (!t || (f->flags & O_NONBLOCK))
			return -EAGAIN;
		host_fd_arm(h->k, h->idx, EPOLLIN);
		return task_block(t, &h->k->host_wq[h->idx], 0);
	}
	ssize_t n = read(h->fd, buf, len);
	return n < 0 ? -errno : n;
}

static long hostfd_write(struct file *f, struct task *t, const void *buf, size_t len, uint64_t *pos)
{
	struct hostfd *h = hostfd_of(f);
	(void)pos;
	long bg = tty_background_check(h, t, SIGTTOU);
	if (bg)
		return bg;
	/* A blocking write that already moved some bytes before waiting resumes after them. */
	size_t done = t ? (size_t)t->partial : 0;
	if (t)
		t->partial = 0; /* taken: the next buffer of a writev starts at its beginning */
	while (done < len) {
		ssize_t n = host_write(h, (const char *)buf + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN && h->pollable) {
				if (!t || (f->flags & O_NONBLOCK))
					return done ? (long)done : -EAGAIN;
				/* Linux's blocking write returns only when everything is written. */
				host_fd_arm(h->k, h->idx, EPOLLOUT);
				t->partial = (long)done;
				long r = task_block(t, &h->k->host_wq[h->idx], 0);
				if (done)
					t->intr_result = (long)done;
				return r;
			}
			if (done)
				break;
			if (errno == EPIPE && t)
				signal_send(t, SIGPIPE, NULL, false);
			return -errno;
		}
		done += (size_t)n;
	}
	return (long)done;
}

/* Terminal ioctls a guest may make on the user's terminal. Anything that could inject
 * input (TIOCSTI) or change ownership of the terminal is refused. */
static long hostfd_ioctl(struct file *f, struct task *t, unsigned long cmd, uint64_t arg)
{
	struct hostfd *h = hostfd_of(f);
	union {
		uint8_t tio[KERNEL_TERMIOS_SIZE];
		struct winsize ws;
		int i;
	} u;
	size_t size;
	bool in = false, out = false;
	switch (cmd) {
	case TCGETS:
		size = KERNEL_TERMIOS_SIZE;
		out = true;
		break;
	case TCSETS:
	case TCSETSW:
	case TCSETSF:
		size = KERNEL_TERMIOS_SIZE;
		in = true;
		break;
	case TIOCGWINSZ:
		size = sizeof(u.ws);
		out = true;
		break;
	case FIONREAD:
		size = sizeof(u.i);
		out = true;
		break;
	/* The console's foreground process group and session are the sandbox's own: the
	 * host terminal keeps ward in its foreground, and ward forwards what it types. */
	case TIOCGPGRP: {
		if (!isatty(h->fd))
			return -ENOTTY;
		int pg = h->k->fg_pgrp;
		return copy_to_user(t->tg->mm, arg, &pg, sizeof(pg));
	}
	case TIOCSPGRP: {
		int pg;
		if (!isatty(h->fd))
			return -ENOTTY;
		if (copy_from_user(t->tg->mm, &pg, arg, sizeof(pg)) < 0)
			return -EFAULT;
		if (pg <= 0)
			return -EINVAL;
		if (t->tg->sid != h->k->init->sid)
			return -ENOTTY;
		bool exists = false;
		for (int i = 1; i < h->k->task_cap && !exists; i++) {
			struct task *o = task_lookup(h->k, i);
			exists = o && o->tg->pgid == pg && o->tg->sid == t->tg->sid;
		}
		if (!exists)
			return -EPERM;
		h->k->fg_pgrp = pg;
		return 0;
	}
	case TIOCGSID: {
		if (!isatty(h->fd))
			return -ENOTTY;
		int sid = h->k->init->sid;
		return copy_to_user(t->tg->mm, arg, &sid, sizeof(sid));
	}
	case TIOCSCTTY:
		return isatty(h->fd) ? 0 : -ENOTTY;
	default:
		return -ENOTTY;
	}
	if (in && copy_from_user(t->tg->mm, &u, arg, size) < 0)
		return -EFAULT;
	if (ioctl(h->fd, cmd, &u) < 0)
		return -errno;
	if (out && copy_to_user(t->tg->mm, arg, &u, size) < 0)
		return -EFAULT;
	return 0;
}

static unsigned hostfd_poll(struct file *f, struct poll_table *pt)
{
	struct hostfd *h = hostfd_of(f);
	struct pollfd p = {h->fd, POLLIN | POLLOUT, 0};
	if (poll(&p, 1, 0) < 0)
		return POLLERR;
	unsigned m = (unsigned)p.revents;
	if (pt && (m & (POLLIN | POLLOUT)) != (POLLIN | POLLOUT)) {
		/* What a waiter can still wait for (a writer ignores POLLIN and vice versa). */
		host_fd_arm(h->k, h->idx, (m & POLLIN ? 0 : EPOLLIN) | (m & POLLOUT ? 0 : EPOLLOUT));
		poll_wait(pt, &h->k->host_wq[h->idx]);
	}
	return m;
}

static long hostfd_seek_end(struct file *f)
{
	struct kstat st;
	int err = inode_getattr(f->inode, &st);
	return err < 0 ? err : (long)st.size;
}

static const struct file_ops hostfd_stream_ops = {
	.read = hostfd_read,
	.write = hostfd_write,
	.ioctl = hostfd_ioctl,
	.poll = hostfd_poll,
	.stream = true,
};

static const struct file_ops hostfd_regular_ops = {
	.read = hostfd_read,
	.write = hostfd_write,
	.ioctl = hostfd_ioctl,
	.seek_end = hostfd_seek_end,
};

static void hostfd_console_release(struct file *f)
{
	free(f->priv);
}

static const struct file_ops hostfd_console_ops = {
	.read = hostfd_read,
	.write = hostfd_write,
	.ioctl = hostfd_ioctl,
	.poll = hostfd_poll,
	.release = hostfd_console_release,
	.stream = true,
};

static int stdio_index(struct kernel *k, int hostfd)
{
	for (int i = 0; i < 3; i++)
		if (k->host_stdio[i] == hostfd)
			return i;
	return 0;
}

int hostfd_open_console(struct kernel *k, int hostfd, struct file *f)
{
	struct hostfd *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->k = k;
	h->fd = hostfd;
	h->idx = stdio_index(k, hostfd);
	h->pollable = true;
	h->tty = true;
	f->priv = h;
	f->ops = &hostfd_console_ops;
	return 0;
}

struct file *hostfd_file(struct kernel *k, int hostfd, int flags)
{
	static struct superblock sb = {.fstype = "hoststdio", .dev = 0x1d};
	struct stat st;
	if (fstat(hostfd, &st) < 0)
		return NULL;
	struct hostfd *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->k = k;
	h->fd = hostfd;
	h->idx = stdio_index(k, hostfd);
	h->pollable = !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
	h->tty = isatty(hostfd);
	h->sock = S_ISSOCK(st.st_mode);
	struct inode *ino = inode_new(&sb, &hostfd_inode_ops, st.st_mode, h);
	if (!ino) {
		free(h);
		return NULL;
	}
	struct file *f = file_new(NULL, ino, flags);
	inode_put(ino);
	if (!f)
		return NULL;
	f->ops = h->pollable ? &hostfd_stream_ops : &hostfd_regular_ops;
	return f;
}
