/* timerfd: a timer as a file. Reading gives the number of expirations since the last read
 * (blocking while there were none). The timer is one of the kernel's ktimers, always on
 * CLOCK_MONOTONIC: CLOCK_REALTIME and CLOCK_BOOTTIME absolute times are converted when the
 * timer is set (a later change of the host's wall clock does not move it, unlike Linux). */
#include "sentry/fs/fs.h"
#include "sentry/syscalls/syscalls.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>

#define NSEC 1000000000ull

struct timerfd {
	struct kernel *k;
	clockid_t clock;
	struct ktimer timer;
	uint64_t expiry;   /* next expiration, CLOCK_MONOTONIC ns; 0 = disarmed */
	uint64_t interval; /* ns, 0 = one-shot */
	uint64_t ticks;    /* expirations not yet read */
	int settime_flags; /* of the last timerfd_settime, for fdinfo */
	struct waitqueue wq;
};

static const struct file_ops timerfd_ops;

/* Counts the expirations up to now (all the intervals missed, as Linux's overrun count)
 * and moves expiry to the next one. Returns true when new ones were counted.
 *
 * The ktimer is armed whenever expiry is set, at expiry or earlier: a read or poll that
 * counts an expiration before the event loop has run the ktimer leaves it armed, so the
 * wake-up still comes from timerfd_fire (poll ops never wake queues themselves). */
static bool timerfd_advance(struct timerfd *tf, uint64_t now)
{
	if (!tf->expiry || now < tf->expiry)
		return false;
	if (tf->interval) {
		uint64_t n = 1 + (now - tf->expiry) / tf->interval;
		tf->ticks += n;
		tf->expiry += n * tf->interval;
	} else {
		tf->ticks++;
		tf->expiry = 0;
	}
	return true;
}

/* The ktimer callback: runs from the event loop with the timer already off the list.
 * It re-arms (interval) and wakes, never frees. */
static void timerfd_fire(struct kernel *k, struct ktimer *kt)
{
	struct timerfd *tf = container_of(kt, struct timerfd, timer);
	timerfd_advance(tf, now_ns());
	if (tf->expiry)
		timer_arm(k, &tf->timer, tf->expiry);
	waitqueue_wake_all(&tf->wq);
}

static long timerfd_read(struct file *f, struct task *t, void *buf, size_t len, uint64_t *pos)
{
	(void)pos;
	struct timerfd *tf = f->priv;
	if (len < sizeof(uint64_t))
		return -EINVAL;
	timerfd_advance(tf, now_ns());
	if (tf->ticks == 0) {
		if (!t || (f->flags & O_NONBLOCK))
			return -EAGAIN;
		return task_block(t, &tf->wq, 0);
	}
	memcpy(buf, &tf->ticks, sizeof(tf->ticks));
	tf->ticks = 0;
	return sizeof(uint64_t);
}

static unsigned timerfd_poll(struct file *f, struct poll_table *pt)
{
	struct timerfd *tf = f->priv;
	poll_wait(pt, &tf->wq);
	timerfd_advance(tf, now_ns());
	return tf->ticks ? POLLIN | POLLRDNORM : 0;
}

static void timerfd_release(struct file *f)
{
	struct timerfd *tf = f->priv;
	timer_cancel(tf->k, &tf->timer);
	waitqueue_wake_all(&tf->wq); /* blocked readers retry (EBADF); no epoll items left */
	free(tf);
}

static void timerfd_current(struct timerfd *tf, struct itimerspec *its);

/* As Linux's timerfd_show. */
static int timerfd_fdinfo(struct file *f, char *buf, size_t size)
{
	struct timerfd *tf = f->priv;
	struct itimerspec its;
	timerfd_current(tf, &its);
	return snprintf(buf, size,
			"clockid: %d\nticks: %llu\nsettime flags: 0%o\nit_value: (%llu, %llu)\n"
			"it_interval: (%llu, %llu)\n",
			(int)tf->clock, (unsigned long long)tf->ticks, (unsigned)tf->settime_flags,
			(unsigned long long)its.it_value.tv_sec, (unsigned long long)its.it_value.tv_nsec,
			(unsigned long long)its.it_interval.tv_sec, (unsigned long long)its.it_interval.tv_nsec);
}

static const struct file_ops timerfd_ops = {
	.fdinfo = timerfd_fdinfo,
	.read = timerfd_read,
	.poll = timerfd_poll,
	.release = timerfd_release,
	.stream = true,
	.llseek = anon_noop_llseek,
};

SYSCALL(timerfd_create)
{
	clockid_t clock = (clockid_t)a[0];
	int flags = (int)a[1];
	if (flags & ~(TFD_CLOEXEC | TFD_NONBLOCK))
		return -EINVAL;
	switch (clock) {
	case CLOCK_REALTIME:
	case CLOCK_MONOTONIC:
	case CLOCK_BOOTTIME:
		break;
	case CLOCK_REALTIME_ALARM:
	case CLOCK_BOOTTIME_ALARM:
		return -EPERM; /* needs CAP_WAKE_ALARM, which the sandbox never has */
	default:
		return -EINVAL;
	}
	struct timerfd *tf = calloc(1, sizeof(*tf));
	if (!tf)
		return -ENOMEM;
	tf->k = t->k;
	tf->clock = clock;
	list_init(&tf->timer.link);
	tf->timer.fire = timerfd_fire;
	waitqueue_init(&tf->wq);
	struct file *f = anon_file_new("[timerfd]", &timerfd_ops, O_RDWR | (flags & O_NONBLOCK), tf);
	if (!f) {
		free(tf);
		return -ENOMEM;
	}
	int fd = fdt_install(t->fdt, f, 0, flags & TFD_CLOEXEC, fd_limit(t));
	file_put(f);
	return fd;
}

static int timerfd_get(struct task *t, int fd, struct timerfd **out)
{
	struct file *f = fget(t, fd);
	if (!f || (f->flags & O_PATH))
		return -EBADF;
	if (f->ops != &timerfd_ops)
		return -EINVAL;
	*out = f->priv;
	return 0;
}

static struct timespec ns_to_ts(uint64_t ns)
{
	return (struct timespec){(time_t)(ns / NSEC), (long)(ns % NSEC)};
}

static void timerfd_current(struct timerfd *tf, struct itimerspec *its)
{
	uint64_t now = now_ns();
	timerfd_advance(tf, now);
	its->it_interval = ns_to_ts(tf->interval);
	/* After timerfd_advance an armed timer's expiry is in the future. */
	its->it_value = ns_to_ts(tf->expiry > now ? tf->expiry - now : 0);
}

static bool ts_valid(const struct timespec *ts)
{
	return ts->tv_sec >= 0 && ts->tv_nsec >= 0 && ts->tv_nsec < (long)NSEC;
}

static uint64_t ts_ns(const struct timespec *ts)
{
	if ((uint64_t)ts->tv_sec >= UINT64_MAX / NSEC / 2)
		return UINT64_MAX / 2; /* practically never */
	return (uint64_t)ts->tv_sec * NSEC + (uint64_t)ts->tv_nsec;
}

SYSCALL(timerfd_settime)
{
	int flags = (int)a[1];
	struct itimerspec nv, old;
	if (copy_from_user(t->tg->mm, &nv, a[2], sizeof(nv)) < 0)
		return -EFAULT;
	if ((flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) || !ts_valid(&nv.it_value) ||
	    !ts_valid(&nv.it_interval))
		return -EINVAL;
	struct timerfd *tf;
	int err = timerfd_get(t, (int)a[0], &tf);
	if (err < 0)
		return err;
	timerfd_current(tf, &old);
	uint64_t now = now_ns(), value = ts_ns(&nv.it_value);
	tf->ticks = 0;
	tf->settime_flags = flags;
	tf->interval = ts_ns(&nv.it_interval);
	tf->expiry = 0;
	timer_cancel(t->k, &tf->timer);
	if (value) {
		if (flags & TFD_TIMER_ABSTIME) {
			/* An absolute time on tf->clock, converted to a monotonic deadline now. */
			struct timespec cur;
			clock_gettime(tf->clock, &cur);
			uint64_t c = ts_ns(&cur);
			if (value > c) {
				tf->expiry = now + (value - c);
			} else {
				/* Already past: counts the intervals missed since then, as Linux. */
				uint64_t late = c - value;
				tf->expiry = late < now ? now - late : 1;
			}
		} else {
			tf->expiry = now + value;
		}
		if (tf->expiry == 0)
			tf->expiry = 1;
		/* Already past (absolute): fires from the next turn of the event loop. */
		timer_arm(t->k, &tf->timer, tf->expiry);
	}
	if (a[3] && copy_to_user(t->tg->mm, a[3], &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

SYSCALL(timerfd_gettime)
{
	struct timerfd *tf;
	int err = timerfd_get(t, (int)a[0], &tf);
	if (err < 0)
		return err;
	struct itimerspec cur;
	timerfd_current(tf, &cur);
	return copy_to_user(t->tg->mm, a[1], &cur, sizeof(cur));
}
