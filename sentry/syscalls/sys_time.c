/* Time syscalls. The guest reads the host's clocks (time is not a secret); sleeping parks
 * the task on a sentry timer instead of blocking the sentry. */
#include "sentry/syscalls/syscalls.h"

#include <errno.h>
#include <sys/time.h>
#include <time.h>

static bool valid_clock(clockid_t c)
{
	switch (c) {
	case CLOCK_REALTIME:
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_REALTIME_COARSE:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
	case CLOCK_TAI:
		return true;
	default:
		return false;
	}
}

SYSCALL(clock_gettime)
{
	clockid_t c = (clockid_t)a[0];
	struct timespec ts;
	if (c == CLOCK_PROCESS_CPUTIME_ID || c == CLOCK_THREAD_CPUTIME_ID) {
		/* Per-thread CPU time is not separated yet: a thread reads its process's. */
		uint64_t u, s;
		thread_group_cpu(t->tg, &u, &s);
		uint64_t ns = u + s;
		ts.tv_sec = (time_t)(ns / 1000000000ull);
		ts.tv_nsec = (long)(ns % 1000000000ull);
		return copy_to_user(t->tg->mm, a[1], &ts, sizeof(ts));
	}
	if (!valid_clock(c))
		return -EINVAL;
	clock_gettime(c, &ts);
	return copy_to_user(t->tg->mm, a[1], &ts, sizeof(ts));
}

SYSCALL(clock_getres)
{
	clockid_t c = (clockid_t)a[0];
	struct timespec ts;
	if (!valid_clock(c) && c != CLOCK_PROCESS_CPUTIME_ID && c != CLOCK_THREAD_CPUTIME_ID)
		return -EINVAL;
	clock_getres(valid_clock(c) ? c : CLOCK_MONOTONIC, &ts);
	if (!a[1])
		return 0;
	return copy_to_user(t->tg->mm, a[1], &ts, sizeof(ts));
}

SYSCALL(gettimeofday)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	if (a[0] && copy_to_user(t->tg->mm, a[0], &tv, sizeof(tv)) < 0)
		return -EFAULT;
	if (a[1]) {
		struct timezone tz = {0, 0};
		if (copy_to_user(t->tg->mm, a[1], &tz, sizeof(tz)) < 0)
			return -EFAULT;
	}
	return 0;
}

SYSCALL(time)
{
	time_t now = (time_t)(realtime_ns() / 1000000000ull);
	if (a[0] && copy_to_user(t->tg->mm, a[0], &now, sizeof(now)) < 0)
		return -EFAULT;
	return now;
}

/* A sleep resumes here when woken: by its timer (done), or by a signal (EINTR with the
 * time left written back). */
static long do_sleep(struct task *t, clockid_t clk, bool absolute, uint64_t ureq, uint64_t urem)
{
	struct timespec req;
	if (copy_from_user(t->tg->mm, &req, ureq, sizeof(req)) < 0)
		return -EFAULT;
	if (req.tv_sec < 0 || req.tv_nsec < 0 || req.tv_nsec >= 1000000000)
		return -EINVAL;
	uint64_t ns = (uint64_t)req.tv_sec * 1000000000ull + (uint64_t)req.tv_nsec;
	uint64_t now = now_ns(), deadline;
	if (absolute) {
		struct timespec cur;
		clock_gettime(clk, &cur);
		uint64_t c = (uint64_t)cur.tv_sec * 1000000000ull + (uint64_t)cur.tv_nsec;
		if (ns <= c)
			return 0;
		deadline = now + (ns - c);
	} else {
		if (ns == 0)
			return 0;
		deadline = now + ns;
	}
	long r = task_block(t, NULL, deadline);
	/* The timer completes the sleep with -ETIMEDOUT; the sleep's success value is 0. */
	t->intr_result = -EINTR;
	t->timeout_result = 0;
	(void)urem;
	return r;
}

SYSCALL(nanosleep)
{
	return do_sleep(t, CLOCK_MONOTONIC, false, a[0], a[1]);
}

SYSCALL(clock_nanosleep)
{
	clockid_t c = (clockid_t)a[0];
	int flags = (int)a[1];
	if (!valid_clock(c) || c == CLOCK_MONOTONIC_RAW || c == CLOCK_REALTIME_COARSE ||
	    c == CLOCK_MONOTONIC_COARSE)
		return c == CLOCK_THREAD_CPUTIME_ID ? -EINVAL : -EINVAL;
	if (flags & ~TIMER_ABSTIME)
		return -EINVAL;
	return do_sleep(t, c, flags & TIMER_ABSTIME, a[2], a[3]);
}

SYSCALL(restart_syscall)
{
	(void)t;
	(void)a;
	return -EINTR;
}
