/* The sentry's event loop: resumes runnable tasks, then waits for whichever comes first:
 * a stop from the platform (syscall, fault), a timer, or a host fd becoming ready. */
#include "sentry/kernel/kernel.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

int kernel_log_fd = 2;

void kernel_log(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	/* One write, so lines from the sentry do not interleave with the guest's output. */
	dprintf(kernel_log_fd, "ward: %.*s", n, buf);
}

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct task *task_lookup(struct kernel *k, int tid)
{
	if (tid <= 0 || tid >= k->task_cap)
		return NULL;
	struct task *t = k->tasks[tid];
	return t && t->state != TASK_DEAD ? t : NULL;
}

void task_make_runnable(struct task *t)
{
	if (t->state == TASK_DEAD)
		return;
	t->state = TASK_RUNNABLE;
	if (list_empty(&t->runq_link))
		list_add_tail(&t->runq_link, &t->k->runq);
}

void waitqueue_init(struct waitqueue *wq)
{
	list_init(&wq->waiters);
}

/* ---- timers ---------------------------------------------------------------------- */

static void timers_reprogram(struct kernel *k)
{
	struct itimerspec its = {0};
	if (!list_empty(&k->timers)) {
		struct ktimer *first = list_entry(k->timers.next, struct ktimer, link);
		uint64_t d = first->deadline_ns ? first->deadline_ns : 1;
		its.it_value.tv_sec = (time_t)(d / 1000000000ull);
		its.it_value.tv_nsec = (long)(d % 1000000000ull);
	}
	timerfd_settime(k->timerfd, TFD_TIMER_ABSTIME, &its, NULL);
}

void timer_arm(struct kernel *k, struct ktimer *t, uint64_t deadline_ns)
{
	if (t->armed)
		list_del_init(&t->link);
	t->deadline_ns = deadline_ns;
	t->armed = true;
	struct list_head *pos;
	list_for_each(pos, &k->timers)
	{
		if (list_entry(pos, struct ktimer, link)->deadline_ns > deadline_ns)
			break;
	}
	list_add_tail(&t->link, pos);
	timers_reprogram(k);
}

void timer_cancel(struct kernel *k, struct ktimer *t)
{
	if (!t->armed)
		return;
	bool was_first = k->timers.next == &t->link;
	list_del_init(&t->link);
	t->armed = false;
	if (was_first)
		timers_reprogram(k);
}

static void timers_expire(struct kernel *k)
{
	uint64_t now = now_ns();
	while (!list_empty(&k->timers)) {
		struct ktimer *t = list_entry(k->timers.next, struct ktimer, link);
		if (t->deadline_ns > now)
			break;
		list_del_init(&t->link);
		t->armed = false;
		t->fire(k, t);
	}
	timers_reprogram(k);
}

/* ---- blocking ---------------------------------------------------------------------- */

static void task_timeout_fired(struct kernel *k, struct ktimer *tm)
{
	(void)k;
	struct task *t = container_of(tm, struct task, timeout);
	if (t->timeout_result == TIMEOUT_RETRY) {
		t->timed_out = true;
		task_wake(t, false, 0);
	} else {
		task_wake(t, true, t->timeout_result);
	}
}

long task_block(struct task *t, struct waitqueue *wq, uint64_t deadline_ns)
{
	t->state = TASK_BLOCKED;
	t->wake_has_result = false;
	t->interrupted = false;
	t->intr_result = -ERESTARTSYS;
	t->uninterruptible = false;
	t->timeout_result = -ETIMEDOUT;
	if (wq)
		list_add_tail(&t->wait.link, &wq->waiters);
	if (deadline_ns) {
		t->timeout.fire = task_timeout_fired;
		timer_arm(t->k, &t->timeout, deadline_ns);
	}
	return SYSCALL_BLOCKED;
}

int task_wait_also(struct task *t, struct waitqueue *wq)
{
	if (t->npoll_waiters == t->cap_poll_waiters) {
		int cap = t->cap_poll_waiters ? t->cap_poll_waiters * 2 : 8;
		struct waiter *n = malloc(sizeof(*n) * (size_t)cap);
		if (!n)
			return -ENOMEM;
		/* Re-link the existing entries at their new addresses. */
		for (int i = 0; i < t->npoll_waiters; i++) {
			n[i].task = t;
			n[i].wake = NULL;
			list_add_tail(&n[i].link, &t->poll_waiters[i].link);
			list_del_init(&t->poll_waiters[i].link);
		}
		free(t->poll_waiters);
		t->poll_waiters = n;
		t->cap_poll_waiters = cap;
	}
	struct waiter *w = &t->poll_waiters[t->npoll_waiters++];
	w->task = t;
	w->wake = NULL;
	list_add_tail(&w->link, &wq->waiters);
	return 0;
}

/* Takes t off every queue it waits on. */
void task_unlink_waiters(struct task *t)
{
	if (!list_empty(&t->wait.link))
		list_del_init(&t->wait.link);
	for (int i = 0; i < t->npoll_waiters; i++)
		list_del_init(&t->poll_waiters[i].link);
	t->npoll_waiters = 0;
}

void task_wake(struct task *t, bool has_result, long result)
{
	if (t->state != TASK_BLOCKED)
		return;
	task_unlink_waiters(t);
	t->futex_key = 0;
	timer_cancel(t->k, &t->timeout);
	t->wake_has_result = has_result;
	t->wake_result = result;
	t->redispatch = !has_result;
	if (has_result) {
		/* The syscall ends here: forget what its re-runs carried over. */
		t->regs.rax = (uint64_t)result;
		t->syscall_return = true;
		t->partial = 0;
		t->restarting = false;
		t->timed_out = false;
		t->deadline = 0;
		t->sigwait_set = 0;
	}
	task_make_runnable(t);
}

void waitqueue_wake_all(struct waitqueue *wq)
{
	/* Waking a task unlinks all its waiters, possibly several on this queue, so take
	 * the first task entry each time instead of walking a list that changes under us.
	 * Tasks go first: a callback (epoll) may wake a task that also waits here, whose
	 * waiter would then vanish under the walk of the callbacks below. */
	struct list_head *pos, *n;
	for (;;) {
		struct waiter *w = NULL;
		list_for_each(pos, &wq->waiters)
		{
			struct waiter *c = list_entry(pos, struct waiter, link);
			if (!c->wake) {
				w = c;
				break;
			}
		}
		if (!w)
			break;
		task_wake(w->task, false, 0);
		if (!list_empty(&w->link))
			list_del_init(&w->link);
	}
	/* Then the callbacks: they stay queued, and only task waiters could leave. */
	list_for_each_safe(pos, n, &wq->waiters)
	{
		struct waiter *w = list_entry(pos, struct waiter, link);
		if (w->wake)
			w->wake(w);
	}
}

void host_fd_arm(struct kernel *k, int idx, uint32_t events)
{
	if ((k->host_armed[idx] & events) == events)
		return;
	events |= k->host_armed[idx];
	struct epoll_event ev = {.events = events | EPOLLONESHOT, .data.fd = k->host_stdio[idx]};
	if (epoll_ctl(k->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) < 0 && errno == EEXIST)
		epoll_ctl(k->epfd, EPOLL_CTL_MOD, ev.data.fd, &ev);
	k->host_armed[idx] = events;
}

void host_watch_arm(struct kernel *k, struct host_watch *w, uint32_t events)
{
	if (!w->added) {
		if (!k->host_watches.next)
			list_init(&k->host_watches);
		list_add_tail(&w->link, &k->host_watches);
		w->added = true;
	}
	if (w->armed && w->events == events)
		return;
	struct epoll_event ev = {.events = events | EPOLLONESHOT, .data.fd = w->fd};
	if (epoll_ctl(k->epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0 && errno == ENOENT)
		epoll_ctl(k->epfd, EPOLL_CTL_ADD, w->fd, &ev);
	if (!w->armed)
		k->host_watches_armed++;
	w->armed = true;
	w->events = events;
}

void host_watch_remove(struct kernel *k, struct host_watch *w)
{
	if (!w->added)
		return;
	epoll_ctl(k->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	if (w->armed)
		k->host_watches_armed--;
	w->armed = false;
	list_del_init(&w->link);
	w->added = false;
}

/* The watch an epoll event is for (watches are few: the channel and two per outbound
 * connection). */
static void host_watch_fire(struct kernel *k, int fd)
{
	if (!k->host_watches.next)
		return;
	struct list_head *pos;
	list_for_each(pos, &k->host_watches)
	{
		struct host_watch *w = list_entry(pos, struct host_watch, link);
		if (w->fd != fd || !w->armed)
			continue;
		w->armed = false; /* EPOLLONESHOT: disarmed now */
		k->host_watches_armed--;
		w->ready(w);
		return;
	}
}

static bool host_waiters(struct kernel *k)
{
	if (k->host_watches_armed)
		return true;
	for (int i = 0; i < 3; i++)
		if (!list_empty(&k->host_wq[i].waiters))
			return true;
	return false;
}

/* ---- the loop ---------------------------------------------------------------------- */

static void handle_stop(struct kernel *k, struct context *ctx, const arch_regs *regs,
			const struct stop *stop)
{
	struct task *t = k->plat->ops->owner(ctx);
	if (!t || t->state == TASK_DEAD)
		return;
	t->regs = *regs;
	t->state = TASK_RUNNABLE;
	if (t->exec_kill && stop->kind != STOP_GONE) {
		/* Another thread of the group is replacing the process image. */
		struct thread_group *tg = t->tg;
		task_exit(t, 0);
		if (tg->nlive == 1 && tg->exec_waiter)
			task_wake(tg->exec_waiter, false, 0);
		return;
	}
	switch (stop->kind) {
	case STOP_SYSCALL:
		syscall_patch_consider(t);
		syscall_dispatch(t);
		break;
	case STOP_FAULT: {
		siginfo_t info = stop->info;
		if (syscall_patch_fault(t, &info)) {
			syscall_dispatch(t);
			break;
		}
		if (!mm_fault(t->tg->mm, &info))
			signal_fault(t, &info);
		task_make_runnable(t);
		break;
	}
	case STOP_GONE:
		t->ctx = NULL; /* the host thread no longer exists */
		thread_group_exit(t->tg, SIGKILL);
		break;
	case STOP_INTERRUPT:
		/* Kicked to take a signal or a stop: both happen on the way back in. */
		task_make_runnable(t);
		break;
	}
}

/* Ctrl-C, Ctrl-\ and Ctrl-Z on the user's terminal reach the sentry (the stubs are in
 * a session of their own); they go to the guest's foreground process group, as a
 * terminal would send them. */
static void deliver_host_signals(struct kernel *k)
{
	unsigned pending = __atomic_exchange_n(&k->host_signals, 0u, __ATOMIC_SEQ_CST);
	for (int sig = 1; sig < 32; sig++) {
		if (!(pending & (1u << sig)))
			continue;
		siginfo_t si = {0};
		si.si_signo = sig;
		si.si_code = SI_KERNEL;
		if (signal_pgrp(k, k->fg_pgrp, sig, &si) == 0 && k->init)
			signal_pgrp(k, k->init->pgid, sig, &si);
	}
}

static void run_runnable(struct kernel *k)
{
	while (!list_empty(&k->runq)) {
		struct task *t = list_entry(k->runq.next, struct task, runq_link);
		list_del_init(&t->runq_link);
		if (t->state != TASK_RUNNABLE)
			continue;
		if (t->redispatch) {
			/* Woken to retry: run the syscall again from its saved registers. */
			t->redispatch = false;
			t->restarting = true;
			syscall_dispatch(t);
			if (t->state != TASK_RUNNABLE)
				continue;
			list_del_init(&t->runq_link);
		}
		if (!signal_deliver_pending(t) || t->state != TASK_RUNNABLE)
			continue;
		if (t->tg->stopped) {
			t->state = TASK_STOPPED; /* SIGCONT makes it runnable again */
			continue;
		}
		t->state = TASK_RUNNING;
		t->syscall_return = false;
		int err = k->plat->ops->resume(t->ctx, &t->regs);
		if (err < 0) {
			kernel_log("cannot resume task %d: %s", t->tid, strerror(-err));
			thread_group_exit(t->tg, SIGKILL);
		}
	}
}

int kernel_run(struct kernel *k)
{
	const struct platform_ops *ops = k->plat->ops;
	struct epoll_event evs[8];
	for (;;) {
		while (!list_empty(&k->graveyard)) {
			struct task *t = list_entry(k->graveyard.next, struct task, runq_link);
			list_del_init(&t->runq_link);
			task_free(t);
		}
		while (!list_empty(&k->tg_graveyard))
			thread_group_free(list_entry(k->tg_graveyard.next, struct thread_group, grave_link));
		run_runnable(k);
		if (k->done || k->nlive_tasks == 0)
			break;
		struct context *ctx;
		arch_regs regs;
		struct stop stop;
		bool other_events = !list_empty(&k->timers) || host_waiters(k);
		if (k->host_signals) {
			deliver_host_signals(k);
			continue;
		}
		int r = ops->wait_stop(k->plat, !other_events, &ctx, &regs, &stop);
		if (r == 0) {
			handle_stop(k, ctx, &regs, &stop);
			continue;
		}
		if (r == -EINTR)
			continue;
		if (r != -EAGAIN) {
			kernel_log("platform wait failed: %s", strerror(-r));
			return -1;
		}
		int n = epoll_wait(k->epfd, evs, 8, -1);
		if (n < 0 && errno == EINTR)
			continue;
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == ops->event_fd(k->plat)) {
				struct signalfd_siginfo si;
				while (read(fd, &si, sizeof(si)) == sizeof(si))
					;
			} else if (fd == k->timerfd) {
				uint64_t ticks;
				if (read(fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
					kernel_log("timerfd read: %s", strerror(errno));
				timers_expire(k);
			} else {
				host_watch_fire(k, fd);
				for (int h = 0; h < 3; h++) {
					if (fd != k->host_stdio[h] || !k->host_armed[h])
						continue;
					k->host_armed[h] = 0; /* EPOLLONESHOT: disarmed now */
					waitqueue_wake_all(&k->host_wq[h]);
				}
			}
		}
		/* Deadlines may have passed without the timerfd firing yet. */
		if (!list_empty(&k->timers))
			timers_expire(k);
	}
	return 0;
}
