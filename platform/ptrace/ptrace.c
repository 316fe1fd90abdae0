/* The ptrace platform: each guest address space is a stub process, each guest thread a
 * host thread in it, stopped by PTRACE_SYSEMU at every system call so that the host kernel
 * never executes one. The stub's first thread is a control thread that never runs guest
 * code: the sentry runs address-space operations (mmap of the memory file, clone) on it. */
#include "platform/fixed_range.h"
#include "platform/platform.h"
#include "platform/stub_control.h"

#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char ward_stub_end[], ward_stub_entry[];

struct ptrace_platform {
	struct platform base;
	struct platform_memory mem;
	/* The stub factory: a clean stub whose only job is to fork new stubs, far cheaper
	 * than forking the sentry. */
	struct address_space *factory;
	int sigchld_fd;
	size_t fpsize;
	struct sock_fprog filter;
	struct sock_filter insns[16];
	/* tid → context, for routing waitpid results. Small open-addressing table. */
	struct context **by_tid;
	size_t by_tid_cap, by_tid_used;
};

struct context {
	struct address_space *as;
	pid_t tid;
	int cpu; /* the CPU this host thread is bound to, -1 = none yet */
	bool running; /* resumed, its stop not yet reported */
	/* The registers its last stop reported (seen_valid until it is resumed): a resume
	 * that changes only rax, as most syscalls do, writes that one word. */
	bool seen_valid;
	arch_regs seen;
	void *owner;
	struct context *next_in_as;
};

struct address_space {
	struct ptrace_platform *pp;
	struct stub_control ctl;  /* its control thread, batch page, running count */
	struct context *contexts; /* guest threads of this stub */
};

/* ---- tid table -------------------------------------------------------------------- */

static size_t tid_slot(struct ptrace_platform *pp, pid_t tid)
{
	size_t mask = pp->by_tid_cap - 1, i = ((size_t)tid * 2654435761u) & mask;
	while (pp->by_tid[i] && pp->by_tid[i]->tid != tid)
		i = (i + 1) & mask;
	return i;
}

static struct context *tid_lookup(struct ptrace_platform *pp, pid_t tid)
{
	return pp->by_tid[tid_slot(pp, tid)];
}

static int tid_grow(struct ptrace_platform *pp)
{
	struct context **old = pp->by_tid;
	size_t oldcap = pp->by_tid_cap;
	pp->by_tid_cap = oldcap ? oldcap * 2 : 256;
	pp->by_tid = calloc(pp->by_tid_cap, sizeof(*pp->by_tid));
	if (!pp->by_tid) {
		pp->by_tid = old;
		pp->by_tid_cap = oldcap;
		return -ENOMEM;
	}
	for (size_t i = 0; i < oldcap; i++)
		if (old[i])
			pp->by_tid[tid_slot(pp, old[i]->tid)] = old[i];
	free(old);
	return 0;
}

static int tid_insert(struct ptrace_platform *pp, struct context *ctx)
{
	if ((pp->by_tid_used + 1) * 2 > pp->by_tid_cap && tid_grow(pp) < 0)
		return -ENOMEM;
	pp->by_tid[tid_slot(pp, ctx->tid)] = ctx;
	pp->by_tid_used++;
	return 0;
}

static void tid_remove(struct ptrace_platform *pp, pid_t tid)
{
	size_t mask = pp->by_tid_cap - 1, i = tid_slot(pp, tid);
	if (!pp->by_tid[i])
		return;
	pp->by_tid[i] = NULL;
	pp->by_tid_used--;
	/* Re-insert the rest of the probe chain (linear probing deletion). */
	for (size_t j = (i + 1) & mask; pp->by_tid[j]; j = (j + 1) & mask) {
		struct context *c = pp->by_tid[j];
		pp->by_tid[j] = NULL;
		pp->by_tid[tid_slot(pp, c->tid)] = c;
	}
}

/* ---- stub creation ---------------------------------------------------------------- */

/* Syscalls are allowed only from the stub page: guest code's own syscalls never get here
 * (SYSEMU skips them before seccomp runs), so this only matters if tracing were lost. */
static void build_filter(struct ptrace_platform *pp)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer) + 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(STUB_BASE >> 32), 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer)),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (uint32_t)STUB_BASE, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (uint32_t)(STUB_BASE + STUB_SIZE), 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	memcpy(pp->insns, f, sizeof(f));
	pp->filter.len = sizeof(f) / sizeof(f[0]);
	pp->filter.filter = pp->insns;
}

/* Runs in the forked child that becomes the stub factory, with the sentry's memory still
 * mapped. Never returns. */
static void __attribute__((noreturn)) stub_child(void *arg, pid_t parent)
{
	struct ptrace_platform *pp = arg;
	/* A session of its own, and so (with autogroup scheduling, Debian's default) a
	 * scheduling group of its own: a ptrace round trip is two wake-ups, which then
	 * preempt at once; in the sentry's group getppid took 14.6 against 13.1 us. */
	stub_child_detach(parent, true);
	const int from[] = {pp->base.memfd, pp->mem.fd}, to[] = {STUB_MEMFD, STUB_PLATFD};
	stub_child_fds(from, to, 2);
	stub_child_trace_me();
	stub_child_confine(&pp->filter);
	((void (*)(void))stub_addr(ward_stub_entry))();
	__builtin_unreachable();
}

/* Forks the sentry into the stub factory (once, at start-up). */
static int factory_create(struct ptrace_platform *pp, struct address_space **out)
{
	struct address_space *as = calloc(1, sizeof(*as));
	if (!as)
		return -ENOMEM;
	as->pp = pp;
	int err = stub_factory_fork(stub_child, pp, &as->ctl);
	if (err < 0) {
		free(as);
		return err;
	}
	*out = as;
	return 0;
}

/* A new stub: a fork of the factory (traced from birth, so it starts stopped, with the
 * factory's clean memory: the stub page only) plus its own batch page. */
static int pt_new_address_space(struct platform *p, struct address_space **out)
{
	struct ptrace_platform *pp = (struct ptrace_platform *)p;
	struct address_space *as = calloc(1, sizeof(*as));
	if (!as)
		return -ENOMEM;
	if (!pp->factory) {
		free(as);
		return -EAGAIN;
	}
	as->pp = pp;
	int err = stub_fork(&pp->factory->ctl, &pp->mem,
			    PTRACE_O_EXITKILL | PTRACE_O_TRACECLONE | PTRACE_O_TRACESYSGOOD, &as->ctl);
	if (err < 0) {
		free(as);
		return err;
	}
	*out = as;
	return 0;
}

static int pt_map(struct address_space *as, uint64_t addr, uint64_t len, int prot, uint64_t off)
{
	return stub_map_memfile(&as->ctl, addr, len, prot, off);
}

static int pt_unmap(struct address_space *as, uint64_t addr, uint64_t len)
{
	return (int)stub_op(&as->ctl, SYS_munmap, addr, len, 0, 0, 0, 0);
}

static int pt_protect(struct address_space *as, uint64_t addr, uint64_t len, int prot)
{
	return (int)stub_op(&as->ctl, SYS_mprotect, addr, len, (uint64_t)prot, 0, 0, 0);
}

static int pt_new_context(struct address_space *as, struct context **out)
{
	struct context *ctx = calloc(1, sizeof(*ctx));
	pid_t tid = 0;
	int status, err;
	if (!ctx)
		return -ENOMEM;
	long r = stub_control_syscall(&as->ctl, SYS_clone,
			      CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
				      CLONE_SYSVSEM,
			      0, 0, 0, 0, 0, &tid);
	if (r < 0 || tid <= 0) {
		free(ctx);
		return r < 0 ? (int)r : -ECHILD;
	}
	/* The new thread is traced from birth and reports a SIGSTOP first. */
	err = stub_wait_tid(tid, &status);
	if (err < 0 || !WIFSTOPPED(status)) {
		free(ctx);
		return err < 0 ? err : -ECHILD;
	}
	ctx->as = as;
	ctx->tid = tid;
	ctx->cpu = -1;
	err = tid_insert(as->pp, ctx);
	if (err < 0) {
		syscall(SYS_tgkill, as->ctl.pid, tid, SIGKILL);
		free(ctx);
		return err;
	}
	ctx->next_in_as = as->contexts;
	as->contexts = ctx;
	*out = ctx;
	return 0;
}

static void unlink_context(struct context *ctx)
{
	for (struct context **pp = &ctx->as->contexts; *pp; pp = &(*pp)->next_in_as) {
		if (*pp == ctx) {
			*pp = ctx->next_in_as;
			break;
		}
	}
}

static void pt_release_context(struct context *ctx)
{
	struct address_space *as = ctx->as;
	tid_remove(as->pp, ctx->tid);
	unlink_context(ctx);
	if (ctx->running)
		as->ctl.nrunning--;
	/* Ends only that host thread: SIGKILL would take the whole stub with it. The
	 * thread is stopped, so make it run exit(0) from the stub page. */
	arch_regs r = as->ctl.regs;
	r.rip = stub_addr(ward_stub_syscall);
	r.rax = SYS_exit;
	r.orig_rax = (uint64_t)-1;
	r.rdi = 0;
	if (ptrace(PTRACE_SETREGS, ctx->tid, 0, &r) == 0 && ptrace(PTRACE_CONT, ctx->tid, 0, 0) == 0) {
		/* A kick (SIGURG) sent before the thread stopped may still be queued: its signal
		 * stop comes before the exit. Waiting without resuming it would wait forever. */
		int status;
		while (waitpid(ctx->tid, &status, __WALL) == ctx->tid && WIFSTOPPED(status))
			ptrace(PTRACE_CONT, ctx->tid, 0, 0);
	}
	free(ctx);
}

/* Kills the stub and every guest thread in it. The contexts are freed too: a traced
 * leader cannot be reaped before its other threads, so they are reaped here one by one. */
static void pt_release_address_space(struct address_space *as)
{
	struct platform_memory *mem = &as->pp->mem;
	kill(as->ctl.pid, SIGKILL);
	while (as->contexts) {
		struct context *ctx = as->contexts;
		as->contexts = ctx->next_in_as;
		tid_remove(as->pp, ctx->tid);
		stub_reap(ctx->tid);
		free(ctx);
	}
	stub_reap(as->ctl.pid);
	if (as->ctl.batch)
		mem->free(mem->opaque, as->ctl.batch_off, STUB_BATCH_SIZE);
	free(as);
}

static bool only_rax_differs(const arch_regs *a, const arch_regs *b)
{
	arch_regs x = *b;
	x.rax = a->rax;
	return memcmp(a, &x, sizeof(x)) == 0;
}

static int pt_resume(struct context *ctx, const arch_regs *regs)
{
	int err = stub_flush_batch(&ctx->as->ctl);
	if (err < 0)
		return err;
	/* Every guest syscall is a round trip between the stub thread and the sentry; waking
	 * a thread on another core costs far more than the syscall itself (~100 us against
	 * ~7 us on this kind of VM), so, like gVisor's ptrace platform, the stub thread is
	 * kept on the core the sentry is running on. The price: guest threads do not compute
	 * in parallel. */
	stub_bind_to_sentry_cpu(ctx->tid, &ctx->cpu);
	if (!ctx->seen_valid || !only_rax_differs(&ctx->seen, regs)) {
		if (ptrace(PTRACE_SETREGS, ctx->tid, 0, regs) < 0)
			return -errno;
	} else if (regs->rax != ctx->seen.rax &&
		   ptrace(PTRACE_POKEUSER, ctx->tid, offsetof(struct user_regs_struct, rax),
			  regs->rax) < 0) {
		return -errno;
	}
	ctx->seen_valid = false;
	if (ptrace(PTRACE_SYSEMU, ctx->tid, 0, 0) < 0)
		return -errno;
	if (!ctx->running) {
		ctx->running = true;
		ctx->as->ctl.nrunning++;
	}
	return 0;
}

static void seen(struct context *ctx, const arch_regs *regs)
{
	ctx->seen = *regs;
	ctx->seen_valid = true;
}

/* A stop of ctx is being reported: it no longer runs guest code. */
static void stopped(struct context *ctx)
{
	if (ctx->running) {
		ctx->running = false;
		ctx->as->ctl.nrunning--;
	}
}

static int pt_wait_stop(struct platform *p, bool block, struct context **ctx_out, arch_regs *regs,
			struct stop *stop)
{
	struct ptrace_platform *pp = (struct ptrace_platform *)p;
	int status;
	for (;;) {
		pid_t tid = waitpid(-1, &status, __WALL | (block ? 0 : WNOHANG));
		if (tid == 0)
			return -EAGAIN;
		if (tid < 0)
			return -errno; /* EINTR: a host signal for the sentry to look at */
		struct context *ctx = tid_lookup(pp, tid);
		if (!ctx)
			continue; /* a thread being torn down */
		memset(stop, 0, sizeof(*stop));
		*ctx_out = ctx;
		stopped(ctx);
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			tid_remove(pp, tid);
			stop->kind = STOP_GONE;
			return 0;
		}
		if (!WIFSTOPPED(status))
			continue;
		int sig = WSTOPSIG(status);
		if (sig == (SIGTRAP | 0x80)) {
			if (ptrace(PTRACE_GETREGS, tid, 0, regs) < 0)
				goto gone;
			seen(ctx, regs);
			stop->kind = STOP_SYSCALL;
			return 0;
		}
		if (status >> 16) {
			/* A ptrace event we did not ask for on a guest thread: just continue. */
			if (ptrace(PTRACE_SYSEMU, tid, 0, 0) == 0)
				ctx->running = true, ctx->as->ctl.nrunning++;
			continue;
		}
		siginfo_t si;
		if (ptrace(PTRACE_GETSIGINFO, tid, 0, &si) < 0)
			goto gone;
		if (sig == SIGURG && si.si_code == SI_TKILL && si.si_pid == getpid()) {
			/* Our own kick (pt_interrupt): the guest cannot send host signals. */
			if (ptrace(PTRACE_GETREGS, tid, 0, regs) < 0)
				goto gone;
			seen(ctx, regs);
			stop->kind = STOP_INTERRUPT;
			return 0;
		}
		if (si.si_code <= 0 || sig == SIGSTOP || sig == SIGCHLD || sig == SIGWINCH) {
			/* Sent from outside the sandbox (kill(2) on a stub): the guest never
			 * sees host signals; drop it and keep running. */
			if (ptrace(PTRACE_SYSEMU, tid, 0, 0) == 0)
				ctx->running = true, ctx->as->ctl.nrunning++;
			continue;
		}
		if (ptrace(PTRACE_GETREGS, tid, 0, regs) < 0)
			goto gone;
		seen(ctx, regs);
		stop->kind = STOP_FAULT;
		stop->info = si;
		return 0;
	gone:
		tid_remove(pp, tid);
		stop->kind = STOP_GONE;
		return 0;
	}
}

static int pt_event_fd(struct platform *p)
{
	return ((struct ptrace_platform *)p)->sigchld_fd;
}

static long pt_get_fpstate(struct context *ctx, void *buf, size_t len)
{
	struct iovec iov = {buf, len};
	if (ptrace(PTRACE_GETREGSET, ctx->tid, NT_X86_XSTATE, &iov) < 0)
		return -errno;
	return (long)iov.iov_len;
}

static int pt_set_fpstate(struct context *ctx, const void *buf, size_t len)
{
	struct iovec iov = {(void *)buf, len};
	if (ptrace(PTRACE_SETREGSET, ctx->tid, NT_X86_XSTATE, &iov) < 0)
		return -errno;
	return 0;
}

static int pt_interrupt(struct context *ctx)
{
	return syscall(SYS_tgkill, ctx->as->ctl.pid, ctx->tid, SIGURG) < 0 ? -errno : 0;
}

static void pt_set_owner(struct context *ctx, void *owner)
{
	ctx->owner = owner;
}

static void *pt_owner(struct context *ctx)
{
	return ctx->owner;
}

static size_t pt_fpstate_size(struct platform *p)
{
	return ((struct ptrace_platform *)p)->fpsize;
}

static int pt_cpu_time(struct address_space *as, uint64_t *user_ns, uint64_t *total_ns)
{
	return platform_process_cpu_time(as->ctl.pid, user_ns, total_ns);
}

static const struct platform_ops ptrace_ops = {
	.name = "ptrace",
	.new_address_space = pt_new_address_space,
	.release_address_space = pt_release_address_space,
	.map = pt_map,
	.unmap = pt_unmap,
	.protect = pt_protect,
	.new_context = pt_new_context,
	.release_context = pt_release_context,
	.resume = pt_resume,
	.wait_stop = pt_wait_stop,
	.event_fd = pt_event_fd,
	.get_fpstate = pt_get_fpstate,
	.set_fpstate = pt_set_fpstate,
	.set_owner = pt_set_owner,
	.interrupt = pt_interrupt,
	.owner = pt_owner,
	.fpstate_size = pt_fpstate_size,
	.cpu_time = pt_cpu_time,
};

int stub_page_install(void)
{
	static int installed;
	if (installed)
		return 0;
	if ((size_t)(ward_stub_end - ward_stub_start) != STUB_SIZE)
		return -EINVAL;
	int err = platform_code_install(STUB_BASE, ward_stub_start, STUB_SIZE);
	if (err < 0)
		return err;
	installed = 1;
	return 0;
}

int ptrace_platform_create(int memfd, const struct platform_memory *mem, struct platform **out)
{
	struct ptrace_platform *pp = calloc(1, sizeof(*pp));
	sigset_t chld;
	unsigned a, b, c, d;
	int err;
	if (!pp)
		return -ENOMEM;
	err = stub_page_install();
	if (err < 0) {
		free(pp);
		return err;
	}
	pp->base.ops = &ptrace_ops;
	pp->base.memfd = memfd;
	pp->mem = *mem;
	build_filter(pp);
	if (tid_grow(pp) < 0) {
		free(pp);
		return -ENOMEM;
	}
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	pp->sigchld_fd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
	if (pp->sigchld_fd < 0) {
		err = -errno;
		free(pp->by_tid);
		free(pp);
		return err;
	}
	err = factory_create(pp, &pp->factory);
	if (err < 0) {
		close(pp->sigchld_fd);
		free(pp->by_tid);
		free(pp);
		return err;
	}
	pp->fpsize = 512 + 64;
	if (__get_cpuid_count(0xd, 0, &a, &b, &c, &d) && b > pp->fpsize)
		pp->fpsize = b;
	*out = &pp->base;
	return 0;
}
