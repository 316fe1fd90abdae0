/* Scheduling calls. The sentry runs guest threads with the host's normal time-sharing
 * policy, so SCHED_OTHER at priority 0 is the truth; real-time policies are refused. */
#include "sentry/syscalls/syscalls.h"

#include <errno.h>
#include <sched.h>
#include <unistd.h>

static struct task *sched_target(struct task *t, int pid)
{
	if (pid < 0)
		return NULL;
	return pid == 0 ? t : task_lookup(t->k, pid);
}

static uint64_t online_mask(struct kernel *k)
{
	long n = k->ncpus;
	return n >= 64 ? ~0ull : (1ull << n) - 1;
}

SYSCALL(sched_setaffinity)
{
	uint64_t len = a[1], mask = 0;
	struct task *o = sched_target(t, (int)a[0]);
	if ((int)a[0] < 0)
		return -EINVAL;
	if (!o)
		return -ESRCH;
	if (copy_from_user(t->tg->mm, &mask, a[2], len < 8 ? len : 8) < 0)
		return -EFAULT;
	mask &= online_mask(t->k);
	if (!mask)
		return -EINVAL;
	o->cpumask = mask;
	return 0;
}

SYSCALL(sched_getaffinity)
{
	uint64_t len = a[1];
	struct task *o = sched_target(t, (int)a[0]);
	if (len < 8 || len % 8)
		return -EINVAL;
	if (!o)
		return -ESRCH;
	uint64_t mask = o->cpumask ? o->cpumask : online_mask(t->k);
	if (copy_to_user(t->tg->mm, a[2], &mask, 8) < 0)
		return -EFAULT;
	return 8;
}

SYSCALL(sched_getscheduler)
{
	if ((int)a[0] < 0)
		return -EINVAL;
	return sched_target(t, (int)a[0]) ? SCHED_OTHER : -ESRCH;
}

SYSCALL(sched_setscheduler)
{
	struct sched_param p;
	if ((int)a[0] < 0 || !a[2])
		return -EINVAL;
	if (!sched_target(t, (int)a[0]))
		return -ESRCH;
	if (copy_from_user(t->tg->mm, &p, a[2], sizeof(p)) < 0)
		return -EFAULT;
	int policy = (int)a[1] & ~SCHED_RESET_ON_FORK;
	if (policy == SCHED_OTHER || policy == SCHED_BATCH || policy == SCHED_IDLE)
		return p.sched_priority == 0 ? 0 : -EINVAL;
	if (policy == SCHED_FIFO || policy == SCHED_RR)
		return -EPERM;
	return -EINVAL;
}

SYSCALL(sched_getparam)
{
	struct sched_param p = {0};
	if ((int)a[0] < 0 || !a[1])
		return -EINVAL;
	if (!sched_target(t, (int)a[0]))
		return -ESRCH;
	return copy_to_user(t->tg->mm, a[1], &p, sizeof(p));
}

SYSCALL(sched_setparam)
{
	struct sched_param p;
	if ((int)a[0] < 0 || !a[1])
		return -EINVAL;
	if (!sched_target(t, (int)a[0]))
		return -ESRCH;
	if (copy_from_user(t->tg->mm, &p, a[1], sizeof(p)) < 0)
		return -EFAULT;
	return p.sched_priority == 0 ? 0 : -EINVAL;
}

SYSCALL(sched_get_priority_max)
{
	(void)t;
	switch ((int)a[0]) {
	case SCHED_FIFO:
	case SCHED_RR:
		return 99;
	case SCHED_OTHER:
	case SCHED_BATCH:
	case SCHED_IDLE:
		return 0;
	default:
		return -EINVAL;
	}
}

SYSCALL(sched_get_priority_min)
{
	(void)t;
	switch ((int)a[0]) {
	case SCHED_FIFO:
	case SCHED_RR:
		return 1;
	case SCHED_OTHER:
	case SCHED_BATCH:
	case SCHED_IDLE:
		return 0;
	default:
		return -EINVAL;
	}
}

/* The CPU the sentry is serving from: guest threads run when the sentry resumes them. */
SYSCALL(getcpu)
{
	unsigned cpu = (unsigned)sched_getcpu(), node = 0;
	if (a[0] && copy_to_user(t->tg->mm, a[0], &cpu, 4) < 0)
		return -EFAULT;
	if (a[1] && copy_to_user(t->tg->mm, a[1], &node, 4) < 0)
		return -EFAULT;
	return 0;
}
