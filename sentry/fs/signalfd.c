/* signalfd: reading takes pending signals in the file's mask from the *reading* task
 * (its own queue first, then its thread group's) instead of delivering them. Pollable:
 * readable when the polling task has one pending in the mask.
 *
 * Readers and pollers all wait on one queue, woken by signalfd_notify() whenever any
 * signal is queued (signal_send calls it); they then look at their own queues again. */
#include "sentry/fs/fs.h"
#include "sentry/syscalls/syscalls.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>

#define SIGNALFD_UNBLOCKABLE (SIGBIT(SIGKILL) | SIGBIT(SIGSTOP))

struct signalfd {
	struct kernel *k;
	uint64_t mask;
};

/* Every signalfd reader and poller (Linux keeps one queue per sighand). */
static struct waitqueue signalfd_wq = {LIST_HEAD_INIT(signalfd_wq.waiters)};

void signalfd_notify(struct task *t)
{
	(void)t;
	if (!list_empty(&signalfd_wq.waiters))
		waitqueue_wake_all(&signalfd_wq);
}

/* Linux's signalfd_copyinfo: which fields are set depends on the siginfo layout. */
static void fill_siginfo(struct signalfd_siginfo *o, int sig, const siginfo_t *si)
{
	memset(o, 0, sizeof(*o));
	o->ssi_signo = (uint32_t)sig;
	o->ssi_errno = si->si_errno;
	o->ssi_code = si->si_code;
	int code = si->si_code;
	if (code > SI_USER && code < SI_KERNEL) {
		switch (sig) {
		case SIGILL:
		case SIGFPE:
		case SIGSEGV:
		case SIGBUS:
		case SIGTRAP:
			o->ssi_addr = (uint64_t)(uintptr_t)si->si_addr;
			if (sig == SIGBUS && (code == BUS_MCEERR_AR || code == BUS_MCEERR_AO))
				o->ssi_addr_lsb = (uint16_t)si->si_addr_lsb;
			return;
		case SIGCHLD:
			o->ssi_pid = (uint32_t)si->si_pid;
			o->ssi_uid = si->si_uid;
			o->ssi_status = si->si_status;
			o->ssi_utime = (uint64_t)si->si_utime;
			o->ssi_stime = (uint64_t)si->si_stime;
			return;
		case SIGSYS:
			o->ssi_call_addr = (uint64_t)(uintptr_t)si->si_call_addr;
			o->ssi_syscall = si->si_syscall;
			o->ssi_arch = si->si_arch;
			return;
		default:
			if (code <= POLL_HUP) {
				o->ssi_band = (uint32_t)si->si_band;
				o->ssi_fd = si->si_fd;
				return;
			}
			break;
		}
	} else if (code == SI_TIMER) {
		o->ssi_tid = (uint32_t)si->si_timerid;
		o->ssi_overrun = (uint32_t)si->si_overrun;
		o->ssi_ptr = (uint64_t)(uintptr_t)si->si_ptr;
		o->ssi_int = si->si_int;
		return;
	} else if (code == SI_SIGIO) {
		o->ssi_band = (uint32_t)si->si_band;
		o->ssi_fd = si->si_fd;
		return;
	} else if (code < 0) {
		o->ssi_pid = (uint32_t)si->si_pid;
		o->ssi_uid = si->si_uid;
		o->ssi_ptr = (uint64_t)(uintptr_t)si->si_ptr;
		o->ssi_int = si->si_int;
		return;
	}
	o->ssi_pid = (uint32_t)si->si_pid;
	o->ssi_uid = si->si_uid;
}

static long signalfd_read(struct file *f, struct task *t, void *buf, size_t len, uint64_t *pos)
{
	(void)pos;
	struct signalfd *sf = f->priv;
	size_t max = len / sizeof(struct signalfd_siginfo), n = 0;
	if (max == 0)
		return -EINVAL;
	if (!t)
		return -EAGAIN;
	while (n < max) {
		siginfo_t si;
		int sig = signal_dequeue(t, sf->mask, &si);
		if (!sig)
			break;
		struct signalfd_siginfo out;
		fill_siginfo(&out, sig, &si);
		memcpy((char *)buf + n * sizeof(out), &out, sizeof(out));
		n++;
	}
	if (n)
		return (long)(n * sizeof(struct signalfd_siginfo));
	if (f->flags & O_NONBLOCK)
		return -EAGAIN;
	return task_block(t, &signalfd_wq, 0);
}

static unsigned signalfd_poll(struct file *f, struct poll_table *pt)
{
	struct signalfd *sf = f->priv;
	poll_wait(pt, &signalfd_wq);
	struct task *t = sf->k->current; /* Linux looks at the polling task's signals */
	if (!t)
		return 0;
	uint64_t pending = t->pending.pending | t->tg->shared.pending;
	return pending & sf->mask ? POLLIN | POLLRDNORM : 0;
}

static void signalfd_release(struct file *f)
{
	free(f->priv);
}

/* As Linux's signalfd_show_fdinfo: the signals the descriptor accepts. */
static int signalfd_fdinfo(struct file *f, char *buf, size_t size)
{
	struct signalfd *sf = f->priv;
	return snprintf(buf, size, "sigmask:\t%016llx\n", (unsigned long long)sf->mask);
}

static const struct file_ops signalfd_ops = {
	.fdinfo = signalfd_fdinfo,
	.read = signalfd_read,
	.poll = signalfd_poll,
	.release = signalfd_release,
	.stream = true,
	.llseek = anon_noop_llseek,
};

SYSCALL(signalfd4)
{
	int fd = (int)a[0];
	int flags = (int)a[3];
	uint64_t mask;
	if (flags & ~(SFD_CLOEXEC | SFD_NONBLOCK))
		return -EINVAL;
	if (a[2] != sizeof(uint64_t))
		return -EINVAL;
	if (copy_from_user(t->tg->mm, &mask, a[1], sizeof(mask)) < 0)
		return -EFAULT;
	mask &= ~SIGNALFD_UNBLOCKABLE;
	if (fd != -1) {
		struct file *f = fget(t, fd);
		if (!f || (f->flags & O_PATH))
			return -EBADF;
		if (f->ops != &signalfd_ops)
			return -EINVAL;
		((struct signalfd *)f->priv)->mask = mask;
		signalfd_notify(t); /* readers and pollers look again with the new mask */
		return fd;
	}
	struct signalfd *sf = calloc(1, sizeof(*sf));
	if (!sf)
		return -ENOMEM;
	sf->k = t->k;
	sf->mask = mask;
	struct file *f = anon_file_new("[signalfd]", &signalfd_ops, O_RDWR | (flags & O_NONBLOCK), sf);
	if (!f) {
		free(sf);
		return -ENOMEM;
	}
	fd = fdt_install(t->fdt, f, 0, flags & SFD_CLOEXEC, fd_limit(t));
	file_put(f);
	return fd;
}

SYSCALL(signalfd)
{
	const uint64_t b[6] = {a[0], a[1], a[2], 0, 0, 0};
	return sys_signalfd4(t, b);
}
