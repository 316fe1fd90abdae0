/* Signals, emulated entirely in the sentry: queueing, masks, default actions, syscall
 * restart rules, and delivery through frames built on the guest stack. */
#include "sentry/fs/fs.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/sigframe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define SIG_KERNEL_ONLY (SIGBIT(SIGKILL) | SIGBIT(SIGSTOP))

enum default_action { ACT_TERM, ACT_CORE, ACT_IGNORE, ACT_STOP, ACT_CONT };

static enum default_action default_action(int sig)
{
	switch (sig) {
	case SIGCHLD:
	case SIGURG:
	case SIGWINCH:
		return ACT_IGNORE;
	case SIGCONT:
		return ACT_CONT;
	case SIGSTOP:
	case SIGTSTP:
	case SIGTTIN:
	case SIGTTOU:
		return ACT_STOP;
	case SIGQUIT:
	case SIGILL:
	case SIGTRAP:
	case SIGABRT:
	case SIGBUS:
	case SIGFPE:
	case SIGSEGV:
	case SIGXCPU:
	case SIGXFSZ:
	case SIGSYS:
		return ACT_CORE;
	default:
		return ACT_TERM;
	}
}

const char *signal_name(int sig)
{
	const char *d = sigdescr_np(sig);
	return d ? d : "Unknown signal";
}

static bool sig_ignored(struct thread_group *tg, int sig)
{
	uint64_t h = tg->sighand->action[sig - 1].handler;
	if (h == (uint64_t)SIG_IGN)
		return true;
	return h == (uint64_t)SIG_DFL && default_action(sig) == ACT_IGNORE;
}

bool signal_pending_unblocked(struct task *t)
{
	return ((t->pending.pending | t->tg->shared.pending) & ~t->sigmask) != 0;
}

/* A signal arriving for a task parked in a syscall interrupts the syscall; one running
 * guest code is kicked back into the sentry to take it. */
static void interrupt(struct task *t)
{
	if (t->state == TASK_BLOCKED && !t->uninterruptible) {
		t->interrupted = true;
		task_wake(t, true, t->intr_result);
	} else if (t->state == TASK_RUNNING && t->ctx) {
		t->k->plat->ops->interrupt(t->ctx);
	}
}

#define STOP_SIGNALS (SIGBIT(SIGSTOP) | SIGBIT(SIGTSTP) | SIGBIT(SIGTTIN) | SIGBIT(SIGTTOU))

static void discard(struct thread_group *tg, uint64_t sigs)
{
	tg->shared.pending &= ~sigs;
	struct list_head *pos;
	list_for_each(pos, &tg->tasks)
	{
		list_entry(pos, struct task, tg_link)->pending.pending &= ~sigs;
	}
}

/* Tells the parent its child stopped or continued (SIGCHLD unless SA_NOCLDSTOP). */
static void notify_parent_stop(struct thread_group *tg, int code, int status)
{
	struct thread_group *p = tg->parent;
	if (!p || p->zombie || !p->leader)
		return;
	waitqueue_wake_all(&p->child_exit);
	struct ksigaction *a = &p->sighand->action[SIGCHLD - 1];
	if (a->flags & SA_NOCLDSTOP)
		return;
	siginfo_t si = {0};
	si.si_signo = SIGCHLD;
	si.si_code = code;
	si.si_pid = tg->tgid;
	si.si_uid = tg->cred.ruid;
	si.si_status = status;
	struct task *to = p->leader->state != TASK_DEAD ? p->leader
			  : list_empty(&p->tasks) ? NULL
						  : list_entry(p->tasks.next, struct task, tg_link);
	if (to)
		signal_send(to, SIGCHLD, &si, true);
}

static void group_stop(struct task *t, int sig)
{
	struct thread_group *tg = t->tg;
	if (tg->stopped)
		return;
	tg->stopped = true;
	tg->stop_signal = sig;
	tg->stop_unreported = true;
	tg->cont_unreported = false;
	/* The other threads stop when they next come into the sentry: kick the running. */
	struct list_head *pos;
	list_for_each(pos, &tg->tasks)
	{
		struct task *o = list_entry(pos, struct task, tg_link);
		if (o != t && o->state == TASK_RUNNING && o->ctx)
			t->k->plat->ops->interrupt(o->ctx);
	}
	notify_parent_stop(tg, CLD_STOPPED, sig);
}

void thread_group_continue(struct thread_group *tg)
{
	if (!tg->stopped)
		return;
	tg->stopped = false;
	tg->stop_unreported = false;
	tg->cont_unreported = true;
	struct list_head *pos;
	list_for_each(pos, &tg->tasks)
	{
		struct task *o = list_entry(pos, struct task, tg_link);
		if (o->state == TASK_STOPPED)
			task_make_runnable(o);
	}
	notify_parent_stop(tg, CLD_CONTINUED, SIGCONT);
}

int signal_pgrp(struct kernel *k, int pgrp, int sig, const siginfo_t *info)
{
	int n = 0;
	for (int i = 1; i < k->task_cap; i++) {
		struct task *o = task_lookup(k, i);
		if (!o || o->tg->tgid != i || o->tg->pgid != pgrp)
			continue;
		signal_send(o, sig, info, true);
		n++;
	}
	return n;
}

static int rt_enqueue(struct sigqueue *q, int sig, const siginfo_t *si)
{
	struct rt_queue *r = &q->rt[sig - SIGRT_FIRST];
	if (r->n >= SIGRT_QUEUE_MAX)
		return -EAGAIN;
	if (r->n == r->cap) {
		int cap = r->cap ? r->cap * 2 : 4;
		siginfo_t *n = realloc(r->items, sizeof(*n) * (size_t)cap);
		if (!n)
			return -EAGAIN;
		r->items = n;
		r->cap = cap;
	}
	r->items[r->n++] = *si;
	return 0;
}

int signal_send(struct task *t, int sig, const siginfo_t *info, bool group)
{
	struct thread_group *tg = t->tg;
	if (sig < 1 || sig > WARD_NSIG || tg->exiting)
		return 0;
	if (sig == SIGKILL) {
		thread_group_exit(tg, SIGKILL);
		return 0;
	}
	/* Job control acts when the signal is sent, blocked or not (Linux prepare_signal). */
	if (sig == SIGCONT) {
		discard(tg, STOP_SIGNALS);
		thread_group_continue(tg);
	} else if (SIGBIT(sig) & STOP_SIGNALS) {
		discard(tg, SIGBIT(SIGCONT));
	}
	bool blocked = (t->sigmask & SIGBIT(sig)) != 0;
	if (!blocked && sig_ignored(tg, sig))
		return 0;
	siginfo_t si;
	if (info) {
		si = *info;
	} else {
		memset(&si, 0, sizeof(si));
		si.si_signo = sig;
		si.si_code = SI_KERNEL;
	}
	struct sigqueue *q = group ? &tg->shared : &t->pending;
	if (sig >= SIGRT_FIRST) {
		int err = rt_enqueue(q, sig, &si);
		if (err < 0)
			return err;
	} else if (!(q->pending & SIGBIT(sig))) { /* standard signals do not queue twice */
		q->info[sig - 1] = si;
	}
	q->pending |= SIGBIT(sig);
	signalfd_notify(t); /* signalfd readers and pollers look again */
	if (t->state == TASK_BLOCKED && (t->sigwait_set & SIGBIT(sig))) {
		task_wake(t, false, 0); /* rt_sigtimedwait takes it */
		return 0;
	}
	if (!group) {
		if (!blocked)
			interrupt(t);
		return 0;
	}
	/* Pick a thread that does not block it, preferring the one named. */
	if (!blocked) {
		interrupt(t);
		return 0;
	}
	struct list_head *pos;
	list_for_each(pos, &tg->tasks)
	{
		struct task *o = list_entry(pos, struct task, tg_link);
		if (o->state == TASK_BLOCKED && (o->sigwait_set & SIGBIT(sig))) {
			task_wake(o, false, 0);
			return 0;
		}
		if (!(o->sigmask & SIGBIT(sig))) {
			interrupt(o);
			return 0;
		}
	}
	return 0;
}

void signal_fault(struct task *t, const siginfo_t *info)
{
	int sig = info->si_signo;
	struct ksigaction *act = &t->tg->sighand->action[sig - 1];
	/* force_sig: a blocked or ignored synchronous fault cannot be survived. */
	if ((t->sigmask & SIGBIT(sig)) || act->handler == (uint64_t)SIG_IGN) {
		act->handler = (uint64_t)SIG_DFL;
		t->sigmask &= ~SIGBIT(sig);
	}
	t->pending.info[sig - 1] = *info;
	t->pending.pending |= SIGBIT(sig);
}

static int next_signal_in(struct task *t, uint64_t mask, siginfo_t *info);

static int next_signal(struct task *t, siginfo_t *info)
{
	return next_signal_in(t, ~t->sigmask, info);
}

int signal_dequeue(struct task *t, uint64_t set, siginfo_t *info)
{
	return next_signal_in(t, set, info);
}

static int next_signal_in(struct task *t, uint64_t mask, siginfo_t *info)
{
	struct sigqueue *qs[2] = {&t->pending, &t->tg->shared};
	/* Synchronous fault signals first, as Linux does (SYNCHRONOUS_MASK). */
	uint64_t sync = SIGBIT(SIGSEGV) | SIGBIT(SIGBUS) | SIGBIT(SIGILL) | SIGBIT(SIGTRAP) |
			SIGBIT(SIGFPE) | SIGBIT(SIGSYS);
	for (int i = 0; i < 2; i++) {
		uint64_t ready = qs[i]->pending & mask;
		if (!ready)
			continue;
		uint64_t pick = (ready & sync) ? (ready & sync) : ready;
		int sig = __builtin_ctzll(pick) + 1;
		if (sig >= SIGRT_FIRST) {
			struct rt_queue *r = &qs[i]->rt[sig - SIGRT_FIRST];
			if (r->n > 0) {
				*info = r->items[0];
				memmove(r->items, r->items + 1, sizeof(*r->items) * (size_t)(r->n - 1));
				r->n--;
			}
			if (r->n == 0)
				qs[i]->pending &= ~SIGBIT(sig);
			return sig;
		}
		qs[i]->pending &= ~SIGBIT(sig);
		*info = qs[i]->info[sig - 1];
		return sig;
	}
	return 0;
}

/* Applies the restart rules to a syscall that was interrupted (rax = -ERESTART*). */
static void syscall_restart(struct task *t, const struct ksigaction *act)
{
	long rax = (long)t->regs.rax;
	bool restart;
	switch (rax) {
	case -ERESTARTNOINTR:
		restart = true;
		break;
	case -ERESTARTSYS:
		restart = !act || (act->flags & SA_RESTART);
		break;
	case -ERESTARTNOHAND:
	case -ERESTART_RESTARTBLOCK:
		restart = !act;
		break;
	default:
		return;
	}
	if (restart) {
		t->regs.rax = rax == -ERESTART_RESTARTBLOCK ? 219 /* restart_syscall */ : t->regs.orig_rax;
		t->regs.rip -= 2;
	} else {
		t->regs.rax = (uint64_t)-EINTR;
	}
}

bool signal_deliver_pending(struct task *t)
{
	bool in_syscall = t->syscall_return;
	t->syscall_return = false;
	for (;;) {
		siginfo_t info;
		int sig = next_signal(t, &info);
		if (!sig)
			break;
		struct ksigaction *act = &t->tg->sighand->action[sig - 1];
		if (act->handler == (uint64_t)SIG_IGN)
			continue;
		if (act->handler == (uint64_t)SIG_DFL) {
			switch (default_action(sig)) {
			case ACT_IGNORE:
			case ACT_CONT:
				continue;
			case ACT_STOP:
				group_stop(t, sig);
				continue;
			case ACT_TERM:
				thread_group_exit(t->tg, sig);
				return false;
			case ACT_CORE:
				thread_group_exit(t->tg, sig | 0x80);
				return false;
			}
		}
		if (in_syscall) {
			syscall_restart(t, act);
			in_syscall = false;
		}
		uint64_t oldmask = t->restore_sigmask ? t->saved_sigmask : t->sigmask;
		t->restore_sigmask = false;
		if (sigframe_build(t, sig, &info, act, oldmask) < 0) {
			/* No room for the frame: Linux kills with SIGSEGV. */
			thread_group_exit(t->tg, SIGSEGV | 0x80);
			return false;
		}
		t->sigmask |= act->mask;
		if (!(act->flags & SA_NODEFER))
			t->sigmask |= SIGBIT(sig);
		t->sigmask &= ~SIG_KERNEL_ONLY;
		if (act->flags & SA_RESETHAND)
			act->handler = (uint64_t)SIG_DFL;
	}
	if (in_syscall)
		syscall_restart(t, NULL);
	if (t->restore_sigmask) {
		t->sigmask = t->saved_sigmask;
		t->restore_sigmask = false;
	}
	return true;
}
