/* pipe2 and readiness: poll, ppoll, select, pselect6. A waiting poll is woken by any of
 * its files' wait queues (or its deadline) and then looks at every file again. */
#include "sentry/fs/fs.h"
#include "sentry/syscalls/syscalls.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/time.h>

SYSCALL(pipe2)
{
	int flags = (int)a[1];
	struct file *rd, *wr;
	if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT))
		return -EINVAL; /* notification pipes (O_NOTIFICATION_PIPE) are not served */
	int err = pipe_create(t->k, flags, &rd, &wr);
	if (err < 0)
		return err;
	int fds[2];
	fds[0] = fdt_install(t->fdt, rd, 0, flags & O_CLOEXEC, fd_limit(t));
	fds[1] = fds[0] < 0 ? fds[0] : fdt_install(t->fdt, wr, 0, flags & O_CLOEXEC, fd_limit(t));
	file_put(rd);
	file_put(wr);
	if (fds[1] < 0) {
		if (fds[0] >= 0)
			fdt_close(t->fdt, fds[0]);
		return fds[1];
	}
	if (copy_to_user(t->tg->mm, a[0], fds, sizeof(fds)) < 0) {
		fdt_close(t->fdt, fds[0]);
		fdt_close(t->fdt, fds[1]);
		return -EFAULT;
	}
	return 0;
}

SYSCALL(pipe)
{
	const uint64_t b[6] = {a[0], 0, 0, 0, 0, 0};
	return sys_pipe2(t, b);
}

#define DEFAULT_POLLMASK (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)

struct task_poll_table {
	struct poll_table pt;
	struct task *t;
};

static void queue_task(struct poll_table *pt, struct waitqueue *wq)
{
	task_wait_also(((struct task_poll_table *)pt)->t, wq);
}

unsigned file_poll(struct file *f, struct poll_table *pt)
{
	return f->ops && f->ops->poll ? f->ops->poll(f, pt) : DEFAULT_POLLMASK;
}

/* One pass over fds: fills revents, returns how many are ready. With t, registers t on
 * every file's wait queue (the caller then blocks). */
static int poll_pass(struct task *t, struct pollfd *fds, size_t n, bool reg)
{
	int ready = 0;
	for (size_t i = 0; i < n; i++) {
		fds[i].revents = 0;
		if (fds[i].fd < 0)
			continue;
		struct file *f = fget(t, fds[i].fd);
		if (!f) {
			fds[i].revents = POLLNVAL;
			ready++;
			continue;
		}
		struct task_poll_table tpt = {{queue_task}, t};
		unsigned m = file_poll(f, reg ? &tpt.pt : NULL);
		fds[i].revents = (short)(m & ((unsigned)fds[i].events | POLLERR | POLLHUP));
		if (fds[i].revents)
			ready++;
	}
	return ready;
}

/* deadline_ns: 0 = wait forever, UINT64_MAX = do not wait. Returns ready count, or
 * SYSCALL_BLOCKED after parking t. */
static long poll_or_block(struct task *t, struct pollfd *fds, size_t n, uint64_t deadline)
{
	int ready = poll_pass(t, fds, n, false);
	if (ready || deadline == UINT64_MAX || t->timed_out ||
	    (deadline && deadline <= now_ns()))
		return ready;
	if (signal_pending_unblocked(t))
		return -ERESTARTNOHAND;
	poll_pass(t, fds, n, true);
	long r = task_block(t, NULL, deadline);
	t->timeout_result = TIMEOUT_RETRY;
	t->intr_result = -ERESTARTNOHAND;
	return r;
}

/* The deadline of a poll-style call, fixed on its first run and kept across re-runs. */
static uint64_t first_deadline(struct task *t, int64_t ns)
{
	if (!t->restarting)
		t->deadline = ns < 0 ? 0 : ns == 0 ? UINT64_MAX : now_ns() + (uint64_t)ns;
	return t->deadline;
}

static long do_poll(struct task *t, uint64_t ufds, uint64_t nfds, int64_t timeout_ns)
{
	if (nfds > (uint64_t)fd_limit(t))
		return -EINVAL;
	size_t size = nfds * sizeof(struct pollfd);
	struct pollfd *fds = malloc(size ? size : 1);
	if (!fds)
		return -ENOMEM;
	long r;
	if (nfds && copy_from_user(t->tg->mm, fds, ufds, size) < 0) {
		r = -EFAULT;
		goto out;
	}
	r = poll_or_block(t, fds, nfds, first_deadline(t, timeout_ns));
	if (r >= 0 && nfds && copy_to_user(t->tg->mm, ufds, fds, size) < 0)
		r = -EFAULT;
out:
	free(fds);
	return r;
}

SYSCALL(poll)
{
	int ms = (int)a[2];
	return do_poll(t, a[0], a[1], ms < 0 ? -1 : (int64_t)ms * 1000000);
}

static int read_timespec_ns(struct task *t, uint64_t uts, int64_t *ns)
{
	struct timespec ts;
	if (!uts) {
		*ns = -1;
		return 0;
	}
	if (copy_from_user(t->tg->mm, &ts, uts, sizeof(ts)) < 0)
		return -EFAULT;
	if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
		return -EINVAL;
	*ns = ts.tv_sec * 1000000000ll + ts.tv_nsec;
	return 0;
}

/* ppoll/pselect6: the signal mask given is in force only while the call waits. */
static int temp_sigmask(struct task *t, uint64_t umask, uint64_t size)
{
	uint64_t mask;
	if (!umask || t->restarting)
		return 0;
	if (size != 8)
		return -EINVAL;
	if (copy_from_user(t->tg->mm, &mask, umask, 8) < 0)
		return -EFAULT;
	t->saved_sigmask = t->sigmask;
	t->restore_sigmask = true;
	t->sigmask = mask & ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP));
	return 0;
}

/* ppoll and pselect6 write back the time that was left, as Linux does. */
static void write_time_left(struct task *t, uint64_t uts)
{
	uint64_t left = 0, dl = t->deadline, now = now_ns();
	if (dl && dl != UINT64_MAX && dl > now)
		left = dl - now;
	struct timespec ts = {(time_t)(left / 1000000000ull), (long)(left % 1000000000ull)};
	copy_to_user(t->tg->mm, uts, &ts, sizeof(ts));
}

SYSCALL(ppoll)
{
	int64_t ns = -1;
	int err = t->restarting ? 0 : read_timespec_ns(t, a[2], &ns);
	if (err < 0)
		return err;
	if ((err = temp_sigmask(t, a[3], a[4])) < 0)
		return err;
	long r = do_poll(t, a[0], a[1], ns);
	if (r != SYSCALL_BLOCKED && a[2])
		write_time_left(t, a[2]);
	if (r != SYSCALL_BLOCKED && r != -ERESTARTNOHAND && t->restore_sigmask && !signal_pending_unblocked(t)) {
		t->sigmask = t->saved_sigmask;
		t->restore_sigmask = false;
	}
	return r;
}

static long do_select(struct task *t, int nfds, uint64_t uin, uint64_t uout, uint64_t uex, int64_t ns)
{
	if (nfds < 0 || nfds > fd_limit(t))
		return -EINVAL;
	size_t bytes = ((size_t)nfds + 63) / 64 * 8;
	uint64_t sets[3][FD_SETSIZE / 64] = {{0}};
	uint64_t *dyn = NULL;
	uint64_t *in = sets[0], *out = sets[1], *ex = sets[2];
	if (nfds > FD_SETSIZE) {
		dyn = calloc(3, bytes);
		if (!dyn)
			return -ENOMEM;
		in = dyn;
		out = dyn + bytes / 8;
		ex = dyn + 2 * bytes / 8;
	}
	uint64_t users[3] = {uin, uout, uex};
	uint64_t *mine[3] = {in, out, ex};
	long r = 0;
	for (int s = 0; s < 3; s++)
		if (users[s] && copy_from_user(t->tg->mm, mine[s], users[s], bytes) < 0) {
			r = -EFAULT;
			goto done;
		}
	/* As poll entries: one per fd named in any set. */
	struct pollfd *fds = calloc((size_t)nfds + 1, sizeof(*fds));
	if (!fds) {
		r = -ENOMEM;
		goto done;
	}
	size_t n = 0;
	for (int fd = 0; fd < nfds; fd++) {
		uint64_t bit = 1ull << (fd % 64);
		int w = fd / 64;
		short ev = 0;
		if (in[w] & bit)
			ev |= POLLIN | POLLRDNORM | POLLHUP | POLLERR;
		if (out[w] & bit)
			ev |= POLLOUT | POLLWRNORM | POLLERR;
		if (ex[w] & bit)
			ev |= POLLPRI;
		if (!ev)
			continue;
		if (!fget(t, fd)) {
			free(fds);
			r = -EBADF;
			goto done;
		}
		fds[n].fd = fd;
		fds[n].events = ev;
		n++;
	}
	r = poll_or_block(t, fds, n, first_deadline(t, ns));
	if (r >= 0) {
		int count = 0;
		uint64_t rin[FD_SETSIZE / 64] = {0}, rout[FD_SETSIZE / 64] = {0}, rex[FD_SETSIZE / 64] = {0};
		uint64_t *res[3] = {rin, rout, rex};
		uint64_t *rdyn = NULL;
		if (nfds > FD_SETSIZE) {
			rdyn = calloc(3, bytes);
			if (!rdyn) {
				free(fds);
				r = -ENOMEM;
				goto done;
			}
			for (int s = 0; s < 3; s++)
				res[s] = rdyn + s * bytes / 8;
		}
		for (size_t i = 0; i < n; i++) {
			int fd = fds[i].fd, w = fd / 64;
			uint64_t bit = 1ull << (fd % 64);
			short re = fds[i].revents;
			if ((in[w] & bit) && (re & (POLLIN | POLLRDNORM | POLLHUP | POLLERR))) {
				res[0][w] |= bit;
				count++;
			}
			if ((out[w] & bit) && (re & (POLLOUT | POLLWRNORM | POLLERR))) {
				res[1][w] |= bit;
				count++;
			}
			if ((ex[w] & bit) && (re & POLLPRI)) {
				res[2][w] |= bit;
				count++;
			}
		}
		for (int s = 0; s < 3 && r >= 0; s++)
			if (users[s] && copy_to_user(t->tg->mm, users[s], res[s], bytes) < 0)
				r = -EFAULT;
		if (r >= 0)
			r = count;
		free(rdyn);
	}
	free(fds);
done:
	free(dyn);
	return r;
}

SYSCALL(select)
{
	int64_t ns = -1;
	if (a[4] && !t->restarting) {
		struct timeval tv;
		if (copy_from_user(t->tg->mm, &tv, a[4], sizeof(tv)) < 0)
			return -EFAULT;
		if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000)
			return -EINVAL;
		ns = tv.tv_sec * 1000000000ll + tv.tv_usec * 1000ll;
	}
	long r = do_select(t, (int)a[0], a[1], a[2], a[3], ns);
	if (r >= 0 && a[4]) {
		/* Linux writes back the time that was left. */
		uint64_t left = 0, dl = t->deadline;
		if (dl && dl != UINT64_MAX && dl > now_ns())
			left = dl - now_ns();
		struct timeval tv = {(time_t)(left / 1000000000ull), (suseconds_t)(left % 1000000000ull / 1000)};
		copy_to_user(t->tg->mm, a[4], &tv, sizeof(tv));
	}
	return r;
}

SYSCALL(pselect6)
{
	int64_t ns = -1;
	int err = t->restarting ? 0 : read_timespec_ns(t, a[4], &ns);
	if (err < 0)
		return err;
	if (a[5] && !t->restarting) {
		uint64_t sig[2];
		if (copy_from_user(t->tg->mm, sig, a[5], sizeof(sig)) < 0)
			return -EFAULT;
		if ((err = temp_sigmask(t, sig[0], sig[1])) < 0)
			return err;
	}
	long r = do_select(t, (int)a[0], a[1], a[2], a[3], ns);
	if (r != SYSCALL_BLOCKED && a[4])
		write_time_left(t, a[4]);
	if (r != SYSCALL_BLOCKED && r != -ERESTARTNOHAND && t->restore_sigmask && !signal_pending_unblocked(t)) {
		t->sigmask = t->saved_sigmask;
		t->restore_sigmask = false;
	}
	return r;
}
