/* The control thread of a stub process, as both platforms drive it.
 *
 * Every stub (and the stub factory) has a first thread that never runs guest code. It
 * rests stopped at the stub page's int3, traced by the sentry; address-space operations
 * (mmap of the memory file, munmap, mprotect), forks of the factory and clones of new
 * threads run on it by pointing rip at the stub code and continuing it until the next
 * int3. While no guest thread of the stub runs, those operations are queued in the stub's
 * batch page and run in one stop before one does (docs/design-notes.md, "Platform:
 * ptrace"). The ptrace and seccomp platforms differ in how guest threads trap, not here. */
#ifndef WARD_PLATFORM_STUB_CONTROL_H
#define WARD_PLATFORM_STUB_CONTROL_H

#include "platform/platform.h"
#include "platform/ptrace/stub_layout.h"

#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Where the memory file's descriptor lives inside every stub process. */
#define STUB_MEMFD 3
/* Where the platform file's lives (platform_memory: batch pages, the seccomp filter and
 * message areas): a file apart, which the gofer never gets. */
#define STUB_PLATFD 5

extern char ward_stub_start[], ward_stub_syscall[], ward_stub_batch[];

/* The batch page (STUB_BATCH), as the stub code (platform/ptrace/stub.S) reads it. */
struct stub_batch_op {
	uint64_t nr, a[6];
};
#define STUB_BATCH_OPS ((STUB_BATCH_SIZE - 8) / sizeof(struct stub_batch_op))
struct stub_batch {
	uint64_t count;
	struct stub_batch_op ops[STUB_BATCH_OPS];
};

/* Where a symbol of the stub page is in every stub process. */
static inline uint64_t stub_addr(const char *sym)
{
	return STUB_BASE + (uint64_t)(sym - ward_stub_start);
}

struct stub_control {
	pid_t pid;      /* the control thread (the stub's thread-group leader) */
	bool dead;      /* its exit has been collected: never signal the pid again */
	arch_regs regs; /* its registers at rest, at the int3 */
	struct stub_batch *batch; /* the sentry's view of the batch page; NULL: none (a factory) */
	uint64_t batch_off;       /* the batch page's memory-file offset */
	int nrunning;             /* guest threads of the stub running guest code */
};

/* waitpid(tid, __WALL) through EINTR. 0 or -errno. */
int stub_wait_tid(pid_t tid, int *status);
/* Collects the end of tid (a traced thread that is dying), skipping its last stops. */
void stub_reap(pid_t tid);
void stub_kill_and_reap(pid_t pid);

/* Runs the control thread from regs r until it traps back; r gets its registers then. A
 * thread or process it makes (clone, fork) goes to *new_tid. 0 or -errno (-ECHILD: the
 * stub died; -EFAULT: the control thread faulted). */
long stub_run_control(struct stub_control *c, arch_regs *r, pid_t *new_tid);

/* Runs the queued operations (there are some). */
int stub_run_batch(struct stub_control *c);

/* Runs the queued address-space operations, if any: before any guest thread resumes. */
static inline int stub_flush_batch(struct stub_control *c)
{
	if (!c->batch || c->batch->count == 0)
		return 0;
	return stub_run_batch(c);
}

/* One host syscall on the control thread at the stub instruction 'at' (a syscall followed
 * by int3), after what is queued. The syscall's result, or -errno if the stub failed. */
long stub_control_syscall_at(struct stub_control *c, uint64_t at, long nr, uint64_t a0, uint64_t a1,
			     uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, pid_t *new_tid);

/* The same at the stub page's own syscall instruction. */
static inline long stub_control_syscall(struct stub_control *c, long nr, uint64_t a0, uint64_t a1,
					uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, pid_t *new_tid)
{
	return stub_control_syscall_at(c, stub_addr(ward_stub_syscall), nr, a0, a1, a2, a3, a4, a5,
				       new_tid);
}

/* An address-space operation: queued if no guest thread of the stub can run before the
 * queue is run (so none sees the address space half updated, or touches pages the sentry
 * has already freed), otherwise run now. */
long stub_op(struct stub_control *c, long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
	     uint64_t a4, uint64_t a5);

/* Maps [addr, addr+len) of the stub to the memory file at off (MAP_SHARED | MAP_FIXED). */
int stub_map_memfile(struct stub_control *c, uint64_t addr, uint64_t len, int prot, uint64_t off);
/* The same from the platform file. */
int stub_map_platform_file(struct stub_control *c, uint64_t addr, uint64_t len, int prot, uint64_t off);

/* In the child forked to become the stub factory: moves each from[i] to to[i] and
 * closes every other descriptor. _exits on failure. */
void stub_child_fds(const int from[], const int to[], int n);

/* Keeps host thread tid on the CPU the sentry runs on (*cpu: where it is bound, -1 none):
 * a wake-up on another core costs far more than the trap itself on the VMs measured. */
void stub_bind_to_sentry_cpu(pid_t tid, int *cpu);

/* In the child forked to become the stub factory, in this order (each _exits on failure):
 * out of the terminal's reach (a process group of its own, so that ^C and ^Z, which go to
 * the foreground group, reach only the sentry; with own_session a session of its own
 * too), death with the sentry, default signal dispositions (SIGCHLD ignored: the kernel
 * reaps the stubs once the sentry has collected them), none blocked; */
void stub_child_detach(pid_t parent, bool own_session);
/* traced by the sentry, without glibc's rseq area (the sentry's TLS, about to go); */
void stub_child_trace_me(void);
/* no new privileges, and the seccomp filter f. */
void stub_child_confine(const struct sock_fprog *f);

/* Forks the sentry into a stub factory: child(arg, parent) must end at an int3 of the stub
 * code. Then traced with PTRACE_O_EXITKILL | PTRACE_O_TRACEFORK. */
int stub_factory_fork(void (*child)(void *arg, pid_t parent), void *arg, struct stub_control *out);

/* A new stub: a fork of the factory (traced from birth, so it starts stopped, with the
 * factory's memory), with ptrace options, and its own batch page from mem. */
int stub_fork(struct stub_control *factory, const struct platform_memory *mem, long options,
	      struct stub_control *out);

#endif
