/* The sentry's kernel: every piece of a sandbox's state is reachable from struct kernel,
 * so that a whole sandbox can later be checkpointed and restored. */
#ifndef WARD_KERNEL_H
#define WARD_KERNEL_H

#include "gofer/client.h"
#include "platform/platform.h"
#include "sentry/kernel/list.h"
#include "sentry/mm/memfile.h"
#include "sentry/mm/vma.h"
#include "sentry/vfs/vfs.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>

/* Internal return values of syscall handlers (never seen by the guest). */
#define SYSCALL_BLOCKED (-10000)  /* the task parked itself; the syscall completes later */
#define SYSCALL_NORETURN (-10001) /* registers were replaced (sigreturn, execve, exit) */
#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

#define WARD_NSIG 64
#define SIGBIT(s) (1ULL << ((s) - 1))

struct kernel;
struct task;
struct net_state;

/* ---- memory ---- */
struct mm {
	int refs;
	struct kernel *k;
	struct vma_set vmas;
	struct address_space *as;
	uint64_t brk_start, brk;
	uint64_t stack_top;
	uint64_t arg_start, arg_end, env_start, env_end;
	uint64_t mmap_top; /* top-down mmap allocation starts below this */
	uint64_t total_vm; /* bytes mapped */
	uint64_t as_limit; /* RLIMIT_AS, 0 = none */
	struct dentry *exe;
	uint64_t auxv[64]; /* copy of the auxv for /proc/self/auxv */
	int nauxv;
	struct list_head link;  /* kernel.mms: truncate and fsync find a file's mappings */
	uint64_t fault_fixup;   /* page (+1: mapped in, +2: made writable) mm_fault last fixed:
				 * the same fault again right after is not its to fix */
	struct syscall_patches *patches; /* sentry/kernel/syscall_patch.c, NULL until used */
	bool patches_off;
};

/* ---- timers ---- */
struct ktimer {
	struct list_head link;
	uint64_t deadline_ns; /* CLOCK_MONOTONIC */
	void (*fire)(struct kernel *k, struct ktimer *t);
	bool armed;
};

/* ---- wait queues ---- */
struct waitqueue {
	struct list_head waiters; /* struct waiter.link */
};

/* A task waiting on one queue. A task has one for ordinary blocking and more while it
 * polls several files at once. */
struct waiter {
	struct list_head link;
	struct task *task;
	/* Instead of waking task, call this (and stay queued): epoll's interest items. */
	void (*wake)(struct waiter *w);
};

/* ---- signals ---- */
struct ksigaction {
	uint64_t handler, flags, restorer, mask;
};

struct sighand {
	int refs;
	struct ksigaction action[WARD_NSIG];
};

/* Real-time signals (32..64) queue every instance, in order; standard ones coalesce. */
#define SIGRT_FIRST 32
#define SIGRT_QUEUE_MAX 1024

struct rt_queue {
	siginfo_t *items;
	int n, cap;
};

struct sigqueue {
	uint64_t pending;
	siginfo_t info[WARD_NSIG];
	struct rt_queue rt[WARD_NSIG - SIGRT_FIRST + 1];
};

struct creds {
	uint32_t ruid, euid, suid, fsuid, rgid, egid, sgid, fsgid;
};

enum task_state {
	TASK_RUNNABLE,  /* waiting in the run queue to be resumed */
	TASK_RUNNING,   /* guest code running in its stub thread */
	TASK_BLOCKED,   /* parked in a syscall */
	TASK_STOPPED,   /* its thread group is stopped (SIGSTOP, SIGTSTP, ...) */
	TASK_DEAD,
};

struct thread_group {
	int refs;
	struct kernel *k;
	int tgid;
	struct task *leader;
	struct list_head tasks; /* task.tg_link */
	int nlive;
	struct thread_group *parent;
	struct list_head children; /* thread_group.sibling */
	struct list_head sibling;
	struct list_head grave_link; /* on kernel.tg_graveyard once reaped */
	struct mm *mm;
	struct sighand *sighand;
	struct sigqueue shared;
	struct creds cred;
	struct rlimit rlim[RLIM_NLIMITS];
	int pgid, sid;
	bool tty_dropped; /* gave up its session's controlling terminal (TIOCNOTTY) */
	bool exiting;
	bool zombie;
	int exit_status; /* wait(2) status */
	struct waitqueue child_exit; /* parents wait here in wait4 */
	int exit_signal;             /* sent to the parent when this group ends (clone's low byte) */
	struct ktimer itimer_real;   /* ITIMER_REAL / alarm: SIGALRM to the group */
	uint64_t itimer_real_interval_ns;
	/* ITIMER_VIRTUAL (user CPU) and ITIMER_PROF (user+system CPU): targets in CPU ns,
	 * 0 = disarmed; checked by a polling timer while either is armed. */
	uint64_t itimer_cpu_target[2], itimer_cpu_interval[2];
	struct ktimer itimer_cpu_poll;
	bool stopped;                /* group stop in force */
	bool did_exec;               /* has called execve (setpgid by the parent: EACCES) */
	int stop_signal;             /* the signal that stopped it */
	bool stop_unreported;        /* wait(WUNTRACED) has not seen this stop yet */
	bool cont_unreported;        /* wait(WCONTINUED) has not seen the continue yet */
	uint64_t utime_ns, stime_ns; /* CPU time of this group once it has exited */
	uint64_t cutime_ns, cstime_ns; /* of its reaped children (RUSAGE_CHILDREN) */
	struct task *vfork_parent;   /* blocked in vfork until this group execs or exits */
	struct task *exec_waiter;    /* exec'ing thread waiting for the others to end */
	char comm[16];
	uint64_t start_ns;           /* CLOCK_MONOTONIC when it was forked (/proc stat) */
};

struct task {
	struct kernel *k;
	int tid;
	struct thread_group *tg;
	struct context *ctx;
	arch_regs regs;
	/* Per thread as on Linux: shared by clone with CLONE_FILES / CLONE_FS (every pthread),
	 * private after clone without them or unshare. NULL once the thread has exited. */
	struct fd_table *fdt;
	struct fs_ctx *fs;
	enum task_state state;
	struct list_head tg_link;
	struct list_head runq_link;

	/* blocking */
	struct waiter wait;          /* on the queue it blocked on */
	struct waiter *poll_waiters; /* extra queues while polling */
	int npoll_waiters, cap_poll_waiters;
	struct ktimer timeout;
	bool restarting; /* the syscall being served was woken to run again */
	bool timed_out;  /* ... because its deadline passed (poll-style waits) */
	uint64_t deadline; /* kept across re-runs of the same syscall */
	long partial;    /* bytes a blocking write moved before it had to wait */
	bool wake_has_result;
	long wake_result;
	bool interrupted; /* woken by a signal */
	long intr_result; /* what a signal makes a blocked syscall return */
	bool uninterruptible; /* signals do not end this wait (vfork) */
	long timeout_result; /* what its deadline passing makes it return */
	bool redispatch;  /* woken to run its syscall again */
	bool syscall_return; /* rax holds a syscall's result (restart rules apply) */
	uint64_t futex_key; /* futex word address this task waits on, 0 if none */
	uint32_t futex_bitset;

	/* signals */
	uint64_t sigmask;
	uint64_t saved_sigmask; /* for rt_sigsuspend */
	bool restore_sigmask;
	struct sigqueue pending;
	stack_t altstack;

	uint64_t cpumask; /* sched_setaffinity's mask, 0 = all CPUs */
	uint64_t sigwait_set; /* signals rt_sigtimedwait is waiting for (they wake it) */
	bool exec_kill;       /* another thread is exec'ing: end this one when it stops */
	uint64_t clear_child_tid;
	uint64_t robust_list;
	uint64_t robust_len;
	long restart_nr; /* syscall to restart for ERESTART_RESTARTBLOCK */
	uint64_t start_ns; /* CLOCK_MONOTONIC when it was created (/proc stat) */
	char comm[16];     /* a thread's own name; the leader's is its group's comm */
};

/* The fd table and fs context /proc/<pid> shows: its leader's, as on Linux (NULL once the
 * leader thread has exited, even while other threads run). */
static inline struct fd_table *group_fdt(struct thread_group *tg)
{
	return tg->leader ? tg->leader->fdt : NULL;
}

static inline struct fs_ctx *group_fs(struct thread_group *tg)
{
	return tg->leader ? tg->leader->fs : NULL;
}

/* A thread's name (prctl PR_SET_NAME, /proc/<pid>/task/<tid>/comm): the process's name
 * for its leader, else the thread's own. */
static inline char *task_comm(struct task *t)
{
	return t == t->tg->leader ? t->tg->comm : t->comm;
}

struct kernel {
	struct platform *plat;
	uint64_t patch_entry; /* where patched syscall sites go; 0 = no syscall patching */
	struct memfile mf;
	/* The platform's own pages (stub batch pages, the seccomp filter, message areas): a
	 * file apart from the guest's memory, which the gofer may be given. */
	struct memfile platform_mf;
	struct gofer_client gofer;
	struct dentry *root;
	int epfd;

	struct task **tasks; /* indexed by tid */
	int task_cap;
	int next_tid;
	int nlive_tasks;
	struct thread_group *init;

	struct list_head runq;
	struct list_head graveyard; /* exited tasks, freed at the top of the loop */
	struct list_head tg_graveyard; /* reaped thread groups, likewise */
	struct waitqueue futex_wq;  /* every futex waiter; wakers match by key */
	struct list_head timers; /* sorted by deadline */
	struct list_head mms;    /* every address space (struct mm.link) */
	int timerfd;

	uint64_t boot_ns;
	char hostname[65];
	int ntmpfs; /* tmpfs instances made, for their device numbers */
	int ncpus;  /* online CPUs, read at boot (the confined sentry cannot read /sys) */
	uint8_t enosys_seen[512 / 8 + 1];
	bool debug;

	bool done;
	int exit_code; /* what `ward run` exits with */
	int term_signal; /* the signal that killed init, or 0 */

	/* host stdio, inherited by the sentry; wrapped as the guest's fds 0-2 */
	int host_stdio[3];
	struct waitqueue host_wq[3]; /* tasks waiting for host stdio fd i to be ready */
	uint32_t host_armed[3];      /* epoll events fd i is armed for (0: none) */
	struct task *current; /* the task whose syscall is being served */
	int fg_pgrp;          /* the console's foreground process group (TIOCSPGRP) */
	volatile unsigned host_signals; /* terminal signals (bit per signal) for the guest */
	int max_tasks;        /* --max-tasks: fork/clone past it gets EAGAIN */
	/* --tmpfs-size: what all memory-backed files (tmpfs, the overlay's upper layer,
	 * memfd) may hold together, and hold now (pages with data). */
	uint64_t shmem_limit, shmem_used;
	uint64_t shmem_boot; /* of which the sandbox's own boot files (/etc/hosts...): not the
			      * guest's to pay for; limit and statfs leave them out */
	struct dentry *memfd_root; /* the hidden filesystem memfd files live on */
	struct inotify_state *inotify; /* watches of every inotify instance (inotify.c) */
	struct pty_table *ptys; /* pseudo-terminals by index (sentry/fs/pty.c) */
	struct net_state *net; /* sockets' shared state (sentry/net), made on first use */
	struct list_head host_watches; /* struct host_watch, armed or not */
	int host_watches_armed;
};

/* A host fd the event loop watches for a subsystem (the net gofer's channel and relay
 * pipes): when it becomes ready for the events asked, ready() runs once (one-shot; arm
 * again for more). */
struct host_watch {
	int fd;
	void (*ready)(struct host_watch *w);
	bool armed, added;
	uint32_t events;
	struct list_head link;
};

/* ---- kernel core (sentry/kernel/kernel.c) ---- */
uint64_t now_ns(void);
uint64_t realtime_ns(void);
struct task *task_lookup(struct kernel *k, int tid);
void task_make_runnable(struct task *t);
void task_unlink_waiters(struct task *t);
/* Parks t until woken (by waitqueue, timeout or signal). timeout_ns 0 = none (absolute
 * CLOCK_MONOTONIC deadline otherwise). Returns SYSCALL_BLOCKED for the handler to return. */
long task_block(struct task *t, struct waitqueue *wq, uint64_t deadline_ns);
/* Wakes t: with result (the syscall completes with it) or to retry the syscall. */
void task_wake(struct task *t, bool has_result, long result);
/* Also wake t (to retry) when wq is woken; for poll and select, before task_block. */
int task_wait_also(struct task *t, struct waitqueue *wq);
/* A deadline result that re-runs the syscall with t->timed_out set instead. */
#define TIMEOUT_RETRY (-10002)
/* Makes the event loop watch host stdio fd idx and wake host_wq[idx] when it is ready
 * for events (EPOLLIN and/or EPOLLOUT, added to what it already waits for). */
void host_fd_arm(struct kernel *k, int idx, uint32_t events);
/* events: EPOLLIN and/or EPOLLOUT. Re-arming an armed watch updates its events. */
void host_watch_arm(struct kernel *k, struct host_watch *w, uint32_t events);
/* Stops watching w->fd (call before closing it). */
void host_watch_remove(struct kernel *k, struct host_watch *w);
void waitqueue_init(struct waitqueue *wq);
void waitqueue_wake_all(struct waitqueue *wq);
void timer_arm(struct kernel *k, struct ktimer *t, uint64_t deadline_ns);
void timer_cancel(struct kernel *k, struct ktimer *t);
int kernel_run(struct kernel *k);

/* ---- tasks (sentry/kernel/task.c) ---- */
int task_create_init(struct kernel *k, struct task **out);
struct task *task_alloc(struct kernel *k, struct thread_group *tg);
struct thread_group *thread_group_alloc(struct kernel *k);
/* Frees a reaped zombie thread group (wait4 took its status). */
void thread_group_release(struct thread_group *tg);
void thread_group_free(struct thread_group *tg);
/* Lets the parent blocked in vfork go on (the child exec'd or exited). */
void vfork_done(struct thread_group *tg);
void sighand_put(struct sighand *sh);
void task_free(struct task *t);
void task_exit(struct task *t, int code);
void thread_group_exit(struct thread_group *tg, int wait_status);
int alloc_tid(struct kernel *k);

/* ---- signals (sentry/kernel/signal.c) ---- */
/* Queues sig; -EAGAIN when a real-time queue is full. */
int signal_send(struct task *t, int sig, const siginfo_t *info, bool group);
/* Delivers a pending, unblocked signal before t returns to guest code. Returns false when
 * the task died. */
bool signal_deliver_pending(struct task *t);
void signal_fault(struct task *t, const siginfo_t *info);
bool signal_pending_unblocked(struct task *t);
/* Takes the next pending signal in set (thread's own first); 0 if none. */
int signal_dequeue(struct task *t, uint64_t set, siginfo_t *info);
/* Resumes a stopped thread group (SIGCONT). */
void thread_group_continue(struct thread_group *tg);
/* Sends sig to every thread group of process group pgrp. Returns how many got it. */
int signal_pgrp(struct kernel *k, int pgrp, int sig, const siginfo_t *info);
const char *signal_name(int sig);

/* CPU time of a thread group so far (its address space's, while it is alive). */
void thread_group_cpu(struct thread_group *tg, uint64_t *user_ns, uint64_t *sys_ns);

/* ---- terminals (sentry/fs/pty.c) ---- */
/* A session leader is ending: its session loses its controlling terminal (SIGHUP to the
 * terminal's foreground group). */
void tty_session_leader_exit(struct thread_group *tg);

/* ---- memory (sentry/mm/mm.c) ---- */
int mm_create(struct kernel *k, struct mm **out);
/* fork: a copy of src in a new address space. */
int mm_fork(struct mm *src, struct mm **out);
void mm_put(struct mm *mm);
int mm_map(struct mm *mm, uint64_t addr, uint64_t len, int prot, int flags, struct file *f,
	   uint64_t off, const char *name, uint64_t *out);
int mm_unmap(struct mm *mm, uint64_t addr, uint64_t len);
int mm_protect(struct mm *mm, uint64_t addr, uint64_t len, int prot);
long mm_brk(struct mm *mm, uint64_t newbrk);
long mm_remap(struct mm *mm, uint64_t old, uint64_t oldlen, uint64_t newlen, int flags,
	      uint64_t newaddr);
int copy_from_user(struct mm *mm, void *dst, uint64_t src, size_t n);
int copy_to_user(struct mm *mm, uint64_t dst, const void *src, size_t n);
/* Copies a NUL-terminated string of at most max bytes (incl. NUL). Returns length or
 * -EFAULT / -ENAMETOOLONG. */
long strncpy_from_user(struct mm *mm, char *dst, uint64_t src, size_t max);
/* Guest memory for the sentry to read/write directly, if [addr, addr+n) is one mapping
 * with at least 'prot' access and lies in the memory file; NULL otherwise. */
void *user_ptr(struct mm *mm, uint64_t addr, size_t n, int prot);
/* A fault the platform reported in guest code: true when the memory manager resolved it
 * (a page mapped in, a private copy made) and the task just runs again; otherwise *info
 * is the signal to deliver (SIGBUS for a file page past the end of the file). */
bool mm_fault(struct mm *mm, siginfo_t *info);
/* Mirrors [start, end) of v (in mm's set) into the stub, leaving out file pages past EOF. */
int mm_stub_map(struct mm *mm, const struct vma *v, uint64_t start, uint64_t end);
/* The end of the part of v inside its file (v->end unless v is VMA_EOF). */
uint64_t mm_visible_end(const struct vma *v);
/* Writes back the shared writable mappings of [start, start+len) (msync); sync: durable. */
int mm_sync(struct mm *mm, uint64_t start, uint64_t len, bool sync);
/* Writes code the sentry patches, whatever the mapping's protection (a private copy of
 * a file's page first); -EPERM for shared mappings. */
int mm_write_code(struct mm *mm, uint64_t addr, const void *src, size_t n);

/* ---- syscall patching (sentry/kernel/syscall_patch.c) ---- */
/* At a syscall stop: patch its site if it is hot and patchable. */
void syscall_patch_consider(struct task *t);
/* A fault that is a jump into a patched site's old syscall instruction: t's registers
 * become that syscall's stop (true), to be dispatched. */
bool syscall_patch_fault(struct task *t, const siginfo_t *info);
void syscall_patches_fork(const struct mm *src, struct mm *dst);
void syscall_patches_free(struct mm *mm);

/* ---- loader (sentry/loader/load.c) ---- */
/* Replaces t's process image with path (execve). On success t's registers are set. */
int loader_exec(struct task *t, const char *path, char *const argv[], int argc,
		char *const envp[], int envc);

/* ---- syscalls (sentry/syscalls) ---- */
typedef long (*syscall_fn)(struct task *t, const uint64_t a[6]);
void syscall_dispatch(struct task *t);
const char *syscall_name(long nr);

/* ---- filesystem set-up (sentry/fs) ---- */
int fs_setup_root(struct kernel *k, char *const binds[], int nbinds, const char *workspace);

/* Logs a line on stderr prefixed "ward: " (the sentry's only channel to the user). */
void kernel_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Where kernel_log writes: a blocking descriptor of ward's stderr (the guest's stdio
 * ones are non-blocking, see tools/cli/sandbox_stdio.c). */
extern int kernel_log_fd;

#endif
