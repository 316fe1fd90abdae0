/* Tasks and thread groups: creation, virtual tids, thread exit and group exit. */
#include "sentry/fs/fs.h"
#include "sentry/kernel/futex.h"
#include "sentry/kernel/kernel.h"
#include "sentry/vfs/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <stdio.h>
#include <unistd.h>

int alloc_tid(struct kernel *k)
{
	int tid = k->next_tid;
	if (tid >= 4194304)
		return -EAGAIN;
	if (tid >= k->task_cap) {
		int cap = k->task_cap ? k->task_cap * 2 : 64;
		struct task **n = realloc(k->tasks, sizeof(*n) * (size_t)cap);
		if (!n)
			return -ENOMEM;
		memset(n + k->task_cap, 0, sizeof(*n) * (size_t)(cap - k->task_cap));
		k->tasks = n;
		k->task_cap = cap;
	}
	k->next_tid++;
	return tid;
}

struct task *task_alloc(struct kernel *k, struct thread_group *tg)
{
	if (k->max_tasks && k->nlive_tasks >= k->max_tasks)
		return NULL; /* fork and clone say EAGAIN */
	int tid = alloc_tid(k);
	if (tid < 0)
		return NULL;
	struct task *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->k = k;
	t->tid = tid;
	t->tg = tg;
	t->state = TASK_RUNNABLE;
	t->start_ns = now_ns();
	list_init(&t->runq_link);
	list_init(&t->wait.link);
	t->wait.task = t;
	t->wait.wake = NULL;
	list_init(&t->timeout.link);
	list_add_tail(&t->tg_link, &tg->tasks);
	tg->nlive++;
	k->nlive_tasks++;
	k->tasks[tid] = t;
	return t;
}

struct thread_group *thread_group_alloc(struct kernel *k)
{
	struct thread_group *tg = calloc(1, sizeof(*tg));
	if (!tg)
		return NULL;
	tg->k = k;
	tg->refs = 1;
	tg->start_ns = now_ns();
	list_init(&tg->tasks);
	list_init(&tg->children);
	list_init(&tg->sibling);
	list_init(&tg->grave_link);
	list_init(&tg->itimer_real.link);
	list_init(&tg->itimer_cpu_poll.link);
	waitqueue_init(&tg->child_exit);
	return tg;
}

int task_create_init(struct kernel *k, struct task **out)
{
	struct thread_group *tg = thread_group_alloc(k);
	if (!tg)
		return -ENOMEM;
	tg->sighand = calloc(1, sizeof(*tg->sighand));
	tg->exit_signal = SIGCHLD;
	struct fd_table *fdt = fdt_new();
	struct fs_ctx *fs = fs_ctx_new(k->root, k->root);
	if (fdt)
		fdt->lock_owner = tg;
	if (!tg->sighand || !fdt || !fs)
		return -ENOMEM;
	tg->sighand->refs = 1;
	uid_t uid = getuid();
	gid_t gid = getgid();
	tg->cred = (struct creds){uid, uid, uid, uid, gid, gid, gid, gid};
	for (int r = 0; r < RLIM_NLIMITS; r++)
		getrlimit(r, &tg->rlim[r]);
	for (int fd = 0; fd < 3; fd++) {
		int fl = fcntl(k->host_stdio[fd], F_GETFL);
		struct file *f = hostfd_file(k, k->host_stdio[fd], fl < 0 ? O_RDWR : fl & (O_ACCMODE | O_APPEND));
		if (!f)
			continue; /* closed on the host: closed in the guest too */
		fdt_install_at(fdt, fd, f, false, 3);
		file_put(f);
	}
	struct task *t = task_alloc(k, tg);
	if (!t)
		return -ENOMEM;
	t->fdt = fdt;
	t->fs = fs;
	tg->tgid = t->tid;
	tg->leader = t;
	tg->pgid = tg->sid = tg->tgid;
	k->init = tg;
	*out = t;
	return 0;
}

/* Removes t from scheduling and wait queues; its host thread is dealt with by the caller. */
static void task_detach(struct task *t)
{
	struct kernel *k = t->k;
	task_unlink_waiters(t);
	futex_cancel_wait(t);
	timer_cancel(k, &t->timeout);
	list_del_init(&t->runq_link);
	list_del_init(&t->tg_link);
	t->state = TASK_DEAD;
	t->tg->nlive--;
	/* Its files go now, as on Linux: a zombie leader holds none (/proc/<pid>/fd is
	 * empty while its other threads run). */
	fdt_put(t->fdt);
	t->fdt = NULL;
	fs_ctx_put(t->fs);
	t->fs = NULL;
	k->nlive_tasks--;
	k->tasks[t->tid] = NULL;
	/* Freed later: the syscall being served may still hold the pointer. A leader stays
	 * with its thread group (as Linux keeps a zombie leader). */
	if (t != t->tg->leader)
		list_add_tail(&t->runq_link, &k->graveyard);
}

/* CLONE_CHILD_CLEARTID: the thread's tid word is zeroed and one futex waiter woken, which
 * is how pthread_join learns a thread has gone. */
static void clear_child_tid(struct task *t)
{
	if (!t->clear_child_tid || !t->tg->mm)
		return;
	uint32_t zero = 0;
	if (copy_to_user(t->tg->mm, t->clear_child_tid, &zero, sizeof(zero)) == 0)
		futex_wake_addr(t->tg->mm, t->clear_child_tid, 1);
}

static void thread_group_finish(struct thread_group *tg, int wait_status);

void task_exit(struct task *t, int code)
{
	struct thread_group *tg = t->tg;
	struct kernel *k = t->k;
	if (tg->nlive == 1) {
		thread_group_exit(tg, (code & 0xff) << 8);
		return;
	}
	clear_child_tid(t);
	futex_robust_exit(t);
	if (t->ctx)
		k->plat->ops->release_context(t->ctx);
	t->ctx = NULL;
	task_detach(t);
}

void thread_group_exit(struct thread_group *tg, int wait_status)
{
	if (tg->exiting)
		return;
	tg->exiting = true;
	struct list_head *pos, *n;
	list_for_each_safe(pos, n, &tg->tasks)
	{
		struct task *t = list_entry(pos, struct task, tg_link);
		clear_child_tid(t);
		futex_robust_exit(t);
		/* The whole stub goes with the mm below, unless another process shares it (a
		 * vfork child): then only this thread of the stub ends. */
		if (t->ctx && tg->mm && tg->mm->refs > 1)
			tg->k->plat->ops->release_context(t->ctx);
		t->ctx = NULL;
		task_detach(t);
	}
	thread_group_finish(tg, wait_status);
}

void vfork_done(struct thread_group *tg)
{
	struct task *p = tg->vfork_parent;
	tg->vfork_parent = NULL;
	if (p && p->state == TASK_BLOCKED)
		task_wake(p, true, tg->tgid);
}

void sighand_put(struct sighand *sh)
{
	if (sh && --sh->refs == 0)
		free(sh);
}

void task_free(struct task *t)
{
	for (int i = 0; i <= WARD_NSIG - SIGRT_FIRST; i++)
		free(t->pending.rt[i].items);
	free(t->poll_waiters);
	free(t);
}

/* A reaped group is freed at the top of the event loop, not here: its leader may be the
 * very task whose exit is being served (a child its parent autoreaps). */
void thread_group_release(struct thread_group *tg)
{
	list_del_init(&tg->sibling);
	list_add_tail(&tg->grave_link, &tg->k->tg_graveyard);
}

void thread_group_free(struct thread_group *tg)
{
	list_del_init(&tg->grave_link);
	if (tg->leader)
		task_free(tg->leader); /* the leader's struct stayed with its zombie group */
	for (int i = 0; i <= WARD_NSIG - SIGRT_FIRST; i++)
		free(tg->shared.rt[i].items);
	sighand_put(tg->sighand);
	free(tg);
}

/* What the parent's SIGCHLD disposition says about a child's end: with SIG_IGN or
 * SA_NOCLDWAIT the child is reaped at once and wait4 never sees it (POSIX). */
static bool parent_autoreaps(struct thread_group *parent)
{
	struct ksigaction *a = &parent->sighand->action[SIGCHLD - 1];
	return a->handler == (uint64_t)SIG_IGN || (a->flags & SA_NOCLDWAIT);
}

void thread_group_cpu(struct thread_group *tg, uint64_t *user_ns, uint64_t *sys_ns)
{
	uint64_t u = 0, total = 0;
	/* utime_ns/stime_ns hold what earlier address spaces (before an exec) used; a
	 * shared one (a vfork child's) is counted by the process that owns it. */
	*user_ns = tg->utime_ns;
	*sys_ns = tg->stime_ns;
	if (tg->zombie || !tg->mm || tg->mm->refs > 1 ||
	    tg->k->plat->ops->cpu_time(tg->mm->as, &u, &total) < 0)
		return;
	*user_ns += u;
	*sys_ns += total > u ? total - u : 0;
}

static void thread_group_finish(struct thread_group *tg, int wait_status)
{
	struct kernel *k = tg->k;
	thread_group_cpu(tg, &tg->utime_ns, &tg->stime_ns);
	timer_cancel(k, &tg->itimer_real);
	timer_cancel(k, &tg->itimer_cpu_poll);
	tg->exit_status = wait_status;
	tg->zombie = true;
	vfork_done(tg);
	tty_session_leader_exit(tg);
	lock_release(NULL, tg);
	mm_put(tg->mm);
	tg->mm = NULL;
	if (tg == k->init) {
		/* The sandbox's init is gone: like a pid namespace, everything else dies too. */
		k->done = true;
		if (WIFSIGNALED(wait_status)) {
			k->term_signal = WTERMSIG(wait_status);
			k->exit_code = 128 + k->term_signal;
		} else {
			k->exit_code = WEXITSTATUS(wait_status);
		}
		return;
	}
	/* Orphans go to the sandbox's init, which reaps them. */
	struct list_head *pos, *n;
	list_for_each_safe(pos, n, &tg->children)
	{
		struct thread_group *c = list_entry(pos, struct thread_group, sibling);
		list_del_init(&c->sibling);
		c->parent = k->init;
		list_add_tail(&c->sibling, &k->init->children);
		if (c->zombie)
			waitqueue_wake_all(&k->init->child_exit);
	}
	struct thread_group *parent = tg->parent;
	if (!parent || parent->zombie) {
		thread_group_release(tg);
		return;
	}
	/* Wake the waiters first: a parent in wait4 finds the zombie and returns its pid,
	 * and only then takes the SIGCHLD (instead of being interrupted by it). */
	bool autoreap = tg->exit_signal == SIGCHLD && parent_autoreaps(parent);
	int exit_signal = tg->exit_signal;
	siginfo_t si = {0};
	si.si_signo = exit_signal;
	si.si_code = WIFSIGNALED(wait_status) ? (WCOREDUMP(wait_status) ? CLD_DUMPED : CLD_KILLED) : CLD_EXITED;
	si.si_pid = tg->tgid;
	si.si_uid = tg->cred.ruid;
	si.si_status = WIFSIGNALED(wait_status) ? WTERMSIG(wait_status) : WEXITSTATUS(wait_status);
	if (autoreap)
		thread_group_release(tg);
	waitqueue_wake_all(&parent->child_exit);
	if (exit_signal && parent->leader) {
		struct task *to = parent->leader->state != TASK_DEAD ? parent->leader
				  : list_empty(&parent->tasks) ? NULL
								 : list_entry(parent->tasks.next, struct task, tg_link);
		if (to)
			signal_send(to, exit_signal, &si, true);
	}
}
