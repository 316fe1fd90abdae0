/* Signal syscalls: actions, masks, sigreturn, alternate stacks, kill and friends. */
#include "sentry/kernel/sigframe.h"
#include "sentry/syscalls/syscalls.h"

#include <errno.h>
#include <string.h>
#include <sys/time.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

#define UNBLOCKABLE (SIGBIT(SIGKILL) | SIGBIT(SIGSTOP))

SYSCALL(rt_sigaction)
{
	int sig = (int)a[0];
	struct ksigaction act;
	if (a[3] != 8)
		return -EINVAL;
	if (sig < 1 || sig > WARD_NSIG)
		return -EINVAL;
	if (a[1] && (sig == SIGKILL || sig == SIGSTOP))
		return -EINVAL;
	if (a[1] && copy_from_user(t->tg->mm, &act, a[1], sizeof(act)) < 0)
		return -EFAULT;
	struct ksigaction *cur = &t->tg->sighand->action[sig - 1];
	if (a[2] && copy_to_user(t->tg->mm, a[2], cur, sizeof(*cur)) < 0)
		return -EFAULT;
	if (a[1]) {
		act.mask &= ~UNBLOCKABLE;
		*cur = act;
		/* Setting a signal to be ignored discards it if pending (POSIX). */
		if (act.handler == (uint64_t)SIG_IGN) {
			t->tg->shared.pending &= ~SIGBIT(sig);
			struct list_head *pos;
			list_for_each(pos, &t->tg->tasks)
			{
				list_entry(pos, struct task, tg_link)->pending.pending &= ~SIGBIT(sig);
			}
		}
	}
	return 0;
}

SYSCALL(rt_sigprocmask)
{
	int how = (int)a[0];
	uint64_t set;
	if (a[3] != 8)
		return -EINVAL;
	uint64_t old = t->sigmask;
	if (a[1]) {
		if (copy_from_user(t->tg->mm, &set, a[1], 8) < 0)
			return -EFAULT;
		switch (how) {
		case SIG_BLOCK:
			t->sigmask |= set;
			break;
		case SIG_UNBLOCK:
			t->sigmask &= ~set;
			break;
		case SIG_SETMASK:
			t->sigmask = set;
			break;
		default:
			return -EINVAL;
		}
		t->sigmask &= ~UNBLOCKABLE;
	}
	if (a[2] && copy_to_user(t->tg->mm, a[2], &old, 8) < 0)
		return -EFAULT;
	return 0;
}

SYSCALL(rt_sigpending)
{
	if (a[1] != 8)
		return -EINVAL;
	uint64_t p = (t->pending.pending | t->tg->shared.pending) & t->sigmask;
	return copy_to_user(t->tg->mm, a[0], &p, 8);
}

SYSCALL(rt_sigreturn)
{
	(void)a;
	if (sigframe_restore(t) < 0) {
		siginfo_t si = {0};
		si.si_signo = SIGSEGV;
		si.si_code = SI_KERNEL;
		signal_fault(t, &si);
	}
	return SYSCALL_NORETURN;
}

SYSCALL(rt_sigsuspend)
{
	uint64_t mask;
	if (a[1] != 8)
		return -EINVAL;
	if (copy_from_user(t->tg->mm, &mask, a[0], 8) < 0)
		return -EFAULT;
	t->saved_sigmask = t->sigmask;
	t->restore_sigmask = true;
	t->sigmask = mask & ~UNBLOCKABLE;
	if (signal_pending_unblocked(t))
		return -ERESTARTNOHAND;
	long r = task_block(t, NULL, 0);
	t->intr_result = -ERESTARTNOHAND;
	return r;
}

SYSCALL(pause)
{
	(void)a;
	if (signal_pending_unblocked(t))
		return -ERESTARTNOHAND;
	long r = task_block(t, NULL, 0);
	t->intr_result = -ERESTARTNOHAND;
	return r;
}

SYSCALL(sigaltstack)
{
	stack_t ss, old = t->altstack;
	uint64_t sp = t->regs.rsp;
	bool on = t->altstack.ss_size && sp > (uint64_t)t->altstack.ss_sp &&
		  sp - (uint64_t)t->altstack.ss_sp <= t->altstack.ss_size;
	if (a[0]) {
		if (copy_from_user(t->tg->mm, &ss, a[0], sizeof(ss)) < 0)
			return -EFAULT;
		if (on)
			return -EPERM;
		int mode = ss.ss_flags & ~SS_AUTODISARM;
		if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0)
			return -EINVAL;
		if (mode == SS_DISABLE) {
			t->altstack = (stack_t){.ss_flags = SS_DISABLE};
		} else {
			if (ss.ss_size < (size_t)MINSIGSTKSZ)
				return -ENOMEM;
			t->altstack = ss;
			t->altstack.ss_flags = ss.ss_flags & SS_AUTODISARM;
		}
	}
	if (a[1]) {
		if (!old.ss_size)
			old.ss_flags = SS_DISABLE;
		else if (on)
			old.ss_flags |= SS_ONSTACK;
		if (copy_to_user(t->tg->mm, a[1], &old, sizeof(old)) < 0)
			return -EFAULT;
	}
	return 0;
}

static void fill_kill_info(struct task *t, siginfo_t *si, int sig, int code)
{
	memset(si, 0, sizeof(*si));
	si->si_signo = sig;
	si->si_code = code;
	si->si_pid = t->tg->tgid;
	si->si_uid = t->tg->cred.ruid;
}

SYSCALL(kill)
{
	int pid = (int)a[0], sig = (int)a[1];
	siginfo_t si;
	if (sig < 0 || sig > WARD_NSIG)
		return -EINVAL;
	fill_kill_info(t, &si, sig, SI_USER);
	struct kernel *k = t->k;
	if (pid > 0) {
		struct task *o = task_lookup(k, pid);
		if (!o || o->tg->tgid != pid)
			return -ESRCH;
		if (sig)
			signal_send(o, sig, &si, true);
		return 0;
	}
	/* Process groups and -1: every matching thread group in the sandbox. */
	int pgid = pid == 0 ? t->tg->pgid : -pid;
	bool found = false;
	for (int i = 1; i < k->task_cap; i++) {
		struct task *o = task_lookup(k, i);
		if (!o || o->tg->tgid != i)
			continue;
		if (pid == -1 ? (o->tg == k->init && o->tg != t->tg) : o->tg->pgid != pgid)
			continue;
		found = true;
		if (sig)
			signal_send(o, sig, &si, true);
	}
	return found ? 0 : -ESRCH;
}

static long do_tkill(struct task *t, int tgid, int tid, int sig)
{
	siginfo_t si;
	if (tid <= 0 || sig < 0 || sig > WARD_NSIG)
		return -EINVAL;
	struct task *o = task_lookup(t->k, tid);
	if (!o || (tgid > 0 && o->tg->tgid != tgid))
		return -ESRCH;
	fill_kill_info(t, &si, sig, SI_TKILL);
	if (sig)
		signal_send(o, sig, &si, false);
	return 0;
}

SYSCALL(tgkill)
{
	if ((int)a[0] <= 0)
		return -EINVAL;
	return do_tkill(t, (int)a[0], (int)a[1], (int)a[2]);
}

SYSCALL(tkill)
{
	return do_tkill(t, 0, (int)a[0], (int)a[1]);
}

/* sigqueue(3): a signal with caller-supplied siginfo. Only codes that cannot be mistaken
 * for the kernel's (negative ones) may be sent to another process, as on Linux. */
static long queue_info(struct task *t, int tgid, int tid, int sig, uint64_t uinfo)
{
	siginfo_t si;
	if (sig < 1 || sig > WARD_NSIG)
		return -EINVAL;
	if (copy_from_user(t->tg->mm, &si, uinfo, sizeof(si)) < 0)
		return -EFAULT;
	struct task *o = task_lookup(t->k, tid > 0 ? tid : tgid);
	if (!o || o->tg->tgid != tgid)
		return -ESRCH;
	if ((si.si_code >= 0 || si.si_code == SI_TKILL) && o->tg != t->tg)
		return -EPERM;
	si.si_signo = sig;
	return signal_send(o, sig, &si, tid <= 0);
}

SYSCALL(rt_sigqueueinfo)
{
	return queue_info(t, (int)a[0], 0, (int)a[1], a[2]);
}

SYSCALL(rt_tgsigqueueinfo)
{
	if ((int)a[0] <= 0 || (int)a[1] <= 0)
		return -EINVAL;
	return queue_info(t, (int)a[0], (int)a[1], (int)a[2], a[3]);
}

SYSCALL(rt_sigtimedwait)
{
	uint64_t set;
	siginfo_t si;
	if (a[3] != 8)
		return -EINVAL;
	if (copy_from_user(t->tg->mm, &set, a[0], 8) < 0)
		return -EFAULT;
	set &= ~UNBLOCKABLE;
	if (!t->restarting) {
		if (a[2]) {
			struct timespec ts;
			if (copy_from_user(t->tg->mm, &ts, a[2], sizeof(ts)) < 0)
				return -EFAULT;
			if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
				return -EINVAL;
			uint64_t ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
			t->deadline = ns ? now_ns() + ns : UINT64_MAX;
		} else {
			t->deadline = 0;
		}
	}
	t->sigwait_set = 0;
	int sig = signal_dequeue(t, set, &si);
	if (sig) {
		if (a[1] && copy_to_user(t->tg->mm, a[1], &si, sizeof(si)) < 0)
			return -EFAULT;
		return sig;
	}
	if (t->timed_out || t->deadline == UINT64_MAX || (t->deadline && t->deadline <= now_ns()))
		return -EAGAIN;
	/* Another, unblocked signal interrupts the wait (EINTR after its handler). */
	if (signal_pending_unblocked(t))
		return -EINTR;
	t->sigwait_set = set;
	long r = task_block(t, NULL, t->deadline);
	t->timeout_result = TIMEOUT_RETRY;
	t->intr_result = -EINTR;
	return r;
}

/* ---- ITIMER_REAL and alarm: a sentry timer that sends SIGALRM to the group ---- */

static void itimer_real_fired(struct kernel *k, struct ktimer *tm)
{
	struct thread_group *tg = container_of(tm, struct thread_group, itimer_real);
	if (tg->zombie || !tg->leader)
		return;
	siginfo_t si = {0};
	si.si_signo = SIGALRM;
	si.si_code = SI_TIMER;
	struct task *to = tg->leader->state != TASK_DEAD ? tg->leader
			  : list_empty(&tg->tasks) ? NULL
						   : list_entry(tg->tasks.next, struct task, tg_link);
	if (tg->itimer_real_interval_ns)
		timer_arm(k, tm, now_ns() + tg->itimer_real_interval_ns);
	if (to)
		signal_send(to, SIGALRM, &si, true);
}

static uint64_t tv_ns(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000000ull + (uint64_t)tv->tv_usec * 1000ull;
}

static struct timeval ns_tv(uint64_t ns)
{
	return (struct timeval){(time_t)(ns / 1000000000ull), (suseconds_t)(ns % 1000000000ull / 1000)};
}

static void itimer_real_get(struct thread_group *tg, struct itimerval *out)
{
	uint64_t left = 0, now = now_ns();
	if (tg->itimer_real.armed && tg->itimer_real.deadline_ns > now)
		left = tg->itimer_real.deadline_ns - now;
	else if (tg->itimer_real.armed)
		left = 1000; /* due: Linux reports a tiny remainder rather than zero */
	out->it_value = ns_tv(left);
	out->it_interval = ns_tv(tg->itimer_real_interval_ns);
}

static void itimer_real_set(struct task *t, const struct itimerval *nv)
{
	struct thread_group *tg = t->tg;
	timer_cancel(t->k, &tg->itimer_real);
	tg->itimer_real.fire = itimer_real_fired;
	tg->itimer_real_interval_ns = tv_ns(&nv->it_interval);
	uint64_t v = tv_ns(&nv->it_value);
	if (v)
		timer_arm(t->k, &tg->itimer_real, now_ns() + v);
}

/* ---- ITIMER_VIRTUAL and ITIMER_PROF: CPU time, sampled every few milliseconds ---- */

#define CPU_TIMER_POLL_NS 4000000ull /* a 250 Hz tick, as Linux's */

static uint64_t cpu_clock(struct thread_group *tg, int which)
{
	uint64_t u, s;
	thread_group_cpu(tg, &u, &s);
	return which == 0 ? u : u + s;
}

static void cpu_timers_poll(struct kernel *k, struct ktimer *tm)
{
	struct thread_group *tg = container_of(tm, struct thread_group, itimer_cpu_poll);
	if (tg->zombie || !tg->leader)
		return;
	static const int sigs[2] = {SIGVTALRM, SIGPROF};
	bool armed = false;
	for (int w = 0; w < 2; w++) {
		if (!tg->itimer_cpu_target[w])
			continue;
		uint64_t now = cpu_clock(tg, w);
		if (now >= tg->itimer_cpu_target[w]) {
			if (tg->itimer_cpu_interval[w]) {
				while (tg->itimer_cpu_target[w] <= now)
					tg->itimer_cpu_target[w] += tg->itimer_cpu_interval[w];
			} else {
				tg->itimer_cpu_target[w] = 0;
			}
			siginfo_t si = {0};
			si.si_signo = sigs[w];
			si.si_code = SI_KERNEL;
			struct task *to = tg->leader->state != TASK_DEAD ? tg->leader
					  : list_empty(&tg->tasks) ? NULL
								   : list_entry(tg->tasks.next, struct task, tg_link);
			if (to)
				signal_send(to, sigs[w], &si, true);
		}
		armed |= tg->itimer_cpu_target[w] != 0;
	}
	if (armed)
		timer_arm(k, tm, now_ns() + CPU_TIMER_POLL_NS);
}

static void cpu_itimer_get(struct thread_group *tg, int w, struct itimerval *out)
{
	uint64_t left = 0;
	if (tg->itimer_cpu_target[w]) {
		uint64_t now = cpu_clock(tg, w);
		left = tg->itimer_cpu_target[w] > now ? tg->itimer_cpu_target[w] - now : 1000;
	}
	out->it_value = ns_tv(left);
	out->it_interval = ns_tv(tg->itimer_cpu_interval[w]);
}

static void cpu_itimer_set(struct task *t, int w, const struct itimerval *nv)
{
	struct thread_group *tg = t->tg;
	uint64_t v = tv_ns(&nv->it_value);
	tg->itimer_cpu_interval[w] = tv_ns(&nv->it_interval);
	tg->itimer_cpu_target[w] = v ? cpu_clock(tg, w) + v : 0;
	tg->itimer_cpu_poll.fire = cpu_timers_poll;
	if (v && !tg->itimer_cpu_poll.armed)
		timer_arm(t->k, &tg->itimer_cpu_poll, now_ns() + CPU_TIMER_POLL_NS);
}

SYSCALL(getitimer)
{
	struct itimerval v;
	int which = (int)a[0];
	if (which == ITIMER_REAL)
		itimer_real_get(t->tg, &v);
	else if (which == ITIMER_VIRTUAL || which == ITIMER_PROF)
		cpu_itimer_get(t->tg, which == ITIMER_VIRTUAL ? 0 : 1, &v);
	else
		return -EINVAL;
	return copy_to_user(t->tg->mm, a[1], &v, sizeof(v));
}

SYSCALL(setitimer)
{
	struct itimerval nv = {0}, old;
	int which = (int)a[0];
	if (which != ITIMER_REAL && which != ITIMER_VIRTUAL && which != ITIMER_PROF)
		return -EINVAL;
	if (a[1] && copy_from_user(t->tg->mm, &nv, a[1], sizeof(nv)) < 0)
		return -EFAULT;
	if (nv.it_value.tv_usec < 0 || nv.it_value.tv_usec >= 1000000 || nv.it_interval.tv_usec < 0 ||
	    nv.it_interval.tv_usec >= 1000000 || nv.it_value.tv_sec < 0 || nv.it_interval.tv_sec < 0)
		return -EINVAL;
	if (which == ITIMER_REAL) {
		itimer_real_get(t->tg, &old);
		itimer_real_set(t, &nv);
	} else {
		int w = which == ITIMER_VIRTUAL ? 0 : 1;
		cpu_itimer_get(t->tg, w, &old);
		cpu_itimer_set(t, w, &nv);
	}
	if (a[2] && copy_to_user(t->tg->mm, a[2], &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

SYSCALL(alarm)
{
	struct itimerval old, nv = {{0, 0}, {(time_t)(unsigned)a[0], 0}};
	itimer_real_get(t->tg, &old);
	itimer_real_set(t, &nv);
	/* Seconds left, rounded to nearest as Linux does, and never 0 for a pending alarm. */
	long left = old.it_value.tv_sec + (old.it_value.tv_usec >= 500000);
	if (!left && old.it_value.tv_usec)
		left = 1;
	return left;
}
