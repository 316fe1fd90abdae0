/* The seccomp platform: guest threads are host threads of a stub process whose seccomp
 * filter traps every system call (SIGSYS) except the few the stub code makes itself. The
 * stub's signal handler hands the trap to the sentry through the thread's message area
 * (pages of the memory file, mapped in the stub and in the sentry) and waits for the
 * answer there: no ptrace stop on the way. See docs/design-notes.md "Platform: seccomp".
 *
 * Address-space operations (mmap of the memory file, munmap, mprotect) and the creation of
 * threads still run on the stub's control thread, which is traced as on the ptrace
 * platform. Two filters: every stub thread has the control filter (syscalls allowed from
 * the stub's pages only); guest threads add the guest filter on themselves when they
 * start, which traps everything but the handler's own calls (so a guest thread that
 * jumps to the control thread's syscall instructions just makes a guest syscall). */
#include "platform/fixed_range.h"
#include "platform/platform.h"
#include "platform/seccomp/layout.h"
#include "platform/x86_sigframe.h"
#include "platform/stub_control.h"

#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/rseq.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

_Static_assert(SC_STUB_BASE == 0x7ffbff000000ULL, "layout.h and stub_layout.h disagree");
_Static_assert(SC_CODE >= STUB_BATCH + STUB_BATCH_SIZE, "the code page overlaps the batch page");
_Static_assert(MC_R11 == offsetof(struct k_sigcontext, r11) && MC_RAX == offsetof(struct k_sigcontext, rax) &&
		       MC_RCX == offsetof(struct k_sigcontext, rcx) && MC_RSP == offsetof(struct k_sigcontext, rsp) &&
		       MC_RIP == offsetof(struct k_sigcontext, rip) &&
		       MC_EFLAGS == offsetof(struct k_sigcontext, eflags) &&
		       MC_FPSTATE == offsetof(struct k_sigcontext, fpstate) &&
		       UC_MC == offsetof(struct k_ucontext, uc_mcontext) &&
		       SC_TF_MC == SC_TF_UC + offsetof(struct k_ucontext, uc_mcontext) &&
		       SC_TF_INFO == SC_TF + offsetof(struct k_rt_sigframe, info),
	       "layout.h's frame offsets and x86_sigframe.h disagree");

extern char ward_stub_batch_ip[];
extern char ward_sc_start[], ward_sc_end[], ward_sc_handler[], ward_sc_restorer[], ward_sc_clone[],
	ward_sc_clone_ip[], ward_sc_write_ip[], ward_sc_futex_ip[], ward_sc_exit_ip[],
	ward_sc_sigreturn_ip[], ward_sc_altstack_ip[], ward_sc_seccomp_ip[], ward_sc_entry[],
	ward_sc_yield_ip[], ward_sc_patch_entry[], ward_sc_patch_check_ip[], ward_sc_patch_fallback[],
	ward_sc_patch_sigreturn_ip[], ward_sc_futex_timeout[];

#define SA_RESTORER_FLAG 0x04000000
/* How long a new thread may take to reach its first stop. */
#define NEW_THREAD_TIMEOUT_MS 10000

struct sc_platform {
	struct platform base;
	struct platform_memory mem;
	struct address_space *factory;
	struct address_space *spaces; /* every live stub, for routing waitpid results */
	int sigchld_fd, wake_fd, epfd;
	size_t fpsize;
	uint64_t xfeatures;  /* XCR0: what an xsave header may name */
	uint32_t mxcsr_mask; /* MXCSR bits a state may set */
	uint32_t spin;	     /* stub-side polls before FUTEX_WAIT */
	uint32_t sentry_spin; /* sentry-side scans before sleeping */
	uint32_t yields;      /* stub-side sched_yields before sleeping (after the spin) */
	uint32_t sentry_yields; /* sentry-side ones, while a guest thread runs */
	/* Contexts running guest code, oldest resume first (fair scanning). */
	struct context *run_head, *run_tail;
	/* Contexts whose stub died: reported as STOP_GONE one by one. */
	struct context *gone_head;
	struct sock_fprog filter; /* the guest filter, built here, copied to the filter page */
	struct sock_filter insns[96];
	struct sock_fprog ctl_filter;
	struct sock_filter ctl_insns[8];
	uint64_t filter_off;
};

struct msg_slot {
	uint64_t off;	/* memory-file offset of the area */
	uint8_t *view;	/* the sentry's view of it */
	bool used;	/* a context owns it (or its thread may still be alive) */
};

struct address_space {
	struct sc_platform *sp;
	struct stub_control ctl; /* its control thread (traced), batch page, running count */
	struct context *contexts;
	struct msg_slot *slots;
	int nslots;
	struct address_space *next;
};

struct context {
	struct address_space *as;
	int slot;
	pid_t tid;
	int cpu; /* the CPU this host thread is bound to, -1 = none yet */
	void *owner;
	bool running, doomed, gone;
	bool from_patch;	 /* the current frame is the patch entry's (SC_TF) */
	uint64_t posted_eflags; /* as posted: the fast way back cannot load another */
	struct context *run_prev, *run_next, *gone_next, *next_in_as;
	/* Where the current frame is in the area (checked when it was posted). */
	size_t uctx_off, fp_off, fp_frame_len;
	uint64_t fs_base, gs_base;
	/* Where the thread's FPU state is: read and written only when the sentry needs it
	 * (a signal, a fork, execve), not at every stop. */
	enum {
		FP_IN_THREAD, /* the patch entry's: still in the thread's registers */
		FP_IN_FRAME,  /* in the area at fp_off, fp_frame_len bytes */
		FP_COPIED,    /* in fp (fplen bytes), as in the frame */
		FP_SET,	      /* in fp, set by the sentry: written into the frame on resume */
	} fp_where;
	size_t fplen;
	_Alignas(64) uint8_t fp[ARCH_FPSTATE_MAX];
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t code_addr(const char *sym)
{
	return SC_CODE + (uint64_t)(sym - ward_sc_start);
}

static inline uint64_t slot_addr(int slot)
{
	return SC_MSG_BASE + (uint64_t)slot * SC_MSG_SIZE;
}

static inline uint32_t *hdr32(struct context *ctx, size_t off)
{
	return (uint32_t *)(ctx->as->slots[ctx->slot].view + off);
}

static inline uint64_t *hdr64(struct context *ctx, size_t off)
{
	return (uint64_t *)(ctx->as->slots[ctx->slot].view + off);
}

/* ---- the filter --------------------------------------------------------------------- */

struct cond {
	uint32_t off, val;
};

static void emit(struct sc_platform *sp, struct sock_filter f)
{
	sp->insns[sp->filter.len++] = f;
}

/* "If the syscall comes from ip: if every cond holds, return action, else kill." */
static void rule(struct sc_platform *sp, uint64_t ip, uint32_t action, const struct cond *c, int n)
{
	emit(sp, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, instruction_pointer)));
	/* The block after the jump: 2 per condition, then the action (and the kill). */
	uint8_t block = (uint8_t)(n ? 2 * n + 2 : 1);
	emit(sp, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)ip, 0, block));
	for (int i = 0; i < n; i++) {
		emit(sp, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, c[i].off));
		emit(sp, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, c[i].val, 0,
						      (uint8_t)(2 * (n - 1 - i) + 1)));
	}
	emit(sp, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, action));
	if (n)
		emit(sp, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
}

#define NR offsetof(struct seccomp_data, nr)
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define ARG_HI(i) (offsetof(struct seccomp_data, args) + 8 * (i) + 4)

/* The guest filter: everything traps but the handler's own calls, each pinned to the one
 * instruction that makes it and, where they are fixed, to its arguments; another call
 * from one of those instructions kills the process. */
static void build_filter(struct sc_platform *sp)
{
	sp->filter.len = 0;
	sp->filter.filter = sp->insns;
	emit(sp, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
	emit(sp, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0));
	emit(sp, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
	emit(sp, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR));
	/* x32 calls are [0x40000000, 0x80000000); above, "negative" numbers just get ENOSYS. */
	emit(sp, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x80000000u, 2, 0));
	emit(sp, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1));
	emit(sp, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
	emit(sp, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, instruction_pointer) + 4));
	emit(sp, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(STUB_BASE >> 32), 1, 0));
	emit(sp, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP));

	/* The control thread's instructions (and the thread entry's seccomp): for a guest
	 * thread, a syscall there is a guest syscall like any other, served by the sentry. */
	rule(sp, stub_addr(ward_stub_syscall) + 2, SECCOMP_RET_TRAP, NULL, 0);
	rule(sp, stub_addr(ward_stub_batch_ip), SECCOMP_RET_TRAP, NULL, 0);
	rule(sp, code_addr(ward_sc_clone_ip), SECCOMP_RET_TRAP, NULL, 0);
	rule(sp, code_addr(ward_sc_seccomp_ip), SECCOMP_RET_TRAP, NULL, 0);
	const struct cond write_c[] = {{NR, SYS_write}, {ARG_LO(0), SC_EVENTFD}, {ARG_HI(0), 0},
				       {ARG_LO(2), 8},	{ARG_HI(2), 0}};
	rule(sp, code_addr(ward_sc_write_ip), SECCOMP_RET_ALLOW, write_c, 5);
	const uint64_t timeout = code_addr(ward_sc_futex_timeout);
	const struct cond futex_c[] = {{NR, SYS_futex},
				       {ARG_LO(1), FUTEX_WAIT},
				       {ARG_HI(1), 0},
				       {ARG_LO(3), (uint32_t)timeout},
				       {ARG_HI(3), (uint32_t)(timeout >> 32)}};
	rule(sp, code_addr(ward_sc_futex_ip), SECCOMP_RET_ALLOW, futex_c, 5);
	const struct cond yield_c[] = {{NR, SYS_sched_yield}};
	rule(sp, code_addr(ward_sc_yield_ip), SECCOMP_RET_ALLOW, yield_c, 1);
	const struct cond exit_c[] = {{NR, SYS_exit}};
	rule(sp, code_addr(ward_sc_exit_ip), SECCOMP_RET_ALLOW, exit_c, 1);
	const struct cond sigret_c[] = {{NR, SYS_rt_sigreturn}};
	rule(sp, code_addr(ward_sc_sigreturn_ip), SECCOMP_RET_ALLOW, sigret_c, 1);
	rule(sp, code_addr(ward_sc_patch_sigreturn_ip), SECCOMP_RET_ALLOW, sigret_c, 1);
	/* Only before the thread confines itself, in fact: listed for a guest that jumps there. */
	const struct cond alt_c[] = {{NR, SYS_sigaltstack}, {ARG_LO(1), 0}, {ARG_HI(1), 0}};
	rule(sp, code_addr(ward_sc_altstack_ip), SECCOMP_RET_ALLOW, alt_c, 3);
	emit(sp, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP));
}

/* The control filter, on every thread of a stub: syscalls from the stub's pages run (the
 * control thread runs nothing else), others trap. On a guest thread the guest filter
 * decides, being stricter wherever it matters (the strictest action of all filters wins). */
static void build_ctl_filter(struct sc_platform *sp)
{
	const struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer) + 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(STUB_BASE >> 32), 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
	};
	_Static_assert(sizeof(f) <= sizeof(((struct sc_platform *)0)->ctl_insns), "ctl filter too long");
	memcpy(sp->ctl_insns, f, sizeof(f));
	sp->ctl_filter.len = sizeof(f) / sizeof(f[0]);
	sp->ctl_filter.filter = sp->ctl_insns;
}

/* The guest filter in its page, as the thread entry hands it to seccomp(2). */
static int filter_page_fill(struct sc_platform *sp)
{
	void *view;
	int err = sp->mem.alloc(sp->mem.opaque, SC_FILTER_SIZE, &sp->filter_off, &view);
	if (err < 0)
		return err;
	struct {
		uint64_t len, ptr;
	} prog = {sp->filter.len, SC_FILTER + 16};
	_Static_assert(16 + sizeof(((struct sc_platform *)0)->insns) <= SC_FILTER_SIZE, "filter page");
	memcpy(view, &prog, sizeof(prog));
	memcpy((uint8_t *)view + 16, sp->insns, sizeof(struct sock_filter) * sp->filter.len);
	return 0;
}

/* ---- stubs -------------------------------------------------------------------------- */

struct k_sigaction {
	uint64_t handler, flags, restorer, mask;
};

/* The factory: a fork of the sentry, confined, with the handlers installed (every stub
 * forked from it inherits them), nothing but fds 3 (memory file) and 4 (the eventfd). */
static void __attribute__((noreturn)) factory_child(void *arg, pid_t parent)
{
	struct sc_platform *sp = arg;
	/* The sentry's session, and so its scheduling group (autogroup, Debian's default):
	 * the two hand the CPU to each other with sched_yield, which only works between
	 * tasks of one group; from a group of its own a stub thread's yield mostly got the
	 * CPU back, and getppid took 6.4 against 5.1 us. */
	stub_child_detach(parent, false);
	const int from[] = {sp->base.memfd, sp->wake_fd, sp->mem.fd}, to[] = {STUB_MEMFD, SC_EVENTFD, STUB_PLATFD};
	stub_child_fds(from, to, 3);
	stub_child_trace_me();
	struct k_sigaction act = {code_addr(ward_sc_handler), SA_SIGINFO | SA_ONSTACK | SA_RESTORER_FLAG,
				  code_addr(ward_sc_restorer), ~0ull};
	const int sigs[] = {SIGSYS, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGURG};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (syscall(SYS_rt_sigaction, sigs[i], &act, NULL, 8) < 0)
			_exit(1);
	stub_child_confine(&sp->ctl_filter);
	((void (*)(void))code_addr(ward_sc_entry))();
	__builtin_unreachable();
}

static int factory_create(struct sc_platform *sp)
{
	struct address_space *as = calloc(1, sizeof(*as));
	if (!as)
		return -ENOMEM;
	as->sp = sp;
	int err = stub_factory_fork(factory_child, sp, &as->ctl);
	if (err < 0) {
		free(as);
		return err;
	}
	/* Everything but the two code pages goes: the sentry's memory, vDSO, vvar. */
	struct stub_control *c = &as->ctl;
	const uint64_t keep_end = SC_CODE + SC_CODE_SIZE;
	if (stub_control_syscall(c, SYS_munmap, 0, STUB_BASE, 0, 0, 0, 0, NULL) < 0 ||
	    stub_control_syscall(c, SYS_munmap, STUB_BASE + STUB_SIZE, SC_CODE - STUB_BASE - STUB_SIZE,
				 0, 0, 0, 0, NULL) < 0 ||
	    stub_control_syscall(c, SYS_munmap, keep_end, 0x7ffffffff000ULL - keep_end, 0, 0, 0, 0,
				 NULL) < 0 ||
	    stub_control_syscall(c, SYS_mmap, SC_FILTER, SC_FILTER_SIZE, PROT_READ,
				 MAP_SHARED | MAP_FIXED, STUB_PLATFD, sp->filter_off, NULL) != (long)SC_FILTER) {
		stub_kill_and_reap(c->pid);
		free(as);
		return -EFAULT;
	}
	sp->factory = as;
	return 0;
}

static int sc_new_address_space(struct platform *p, struct address_space **out)
{
	struct sc_platform *sp = (struct sc_platform *)p;
	struct address_space *as = calloc(1, sizeof(*as));
	if (!as)
		return -ENOMEM;
	if (!sp->factory || sp->factory->ctl.dead) {
		free(as);
		return -EAGAIN;
	}
	as->sp = sp;
	int err = stub_fork(&sp->factory->ctl, &sp->mem, PTRACE_O_EXITKILL, &as->ctl);
	if (err < 0) {
		free(as);
		return err;
	}
	as->next = sp->spaces;
	sp->spaces = as;
	*out = as;
	return 0;
}

static int sc_map(struct address_space *as, uint64_t addr, uint64_t len, int prot, uint64_t off)
{
	return stub_map_memfile(&as->ctl, addr, len, prot, off);
}

static int sc_unmap(struct address_space *as, uint64_t addr, uint64_t len)
{
	return (int)stub_op(&as->ctl, SYS_munmap, addr, len, 0, 0, 0, 0);
}

static int sc_protect(struct address_space *as, uint64_t addr, uint64_t len, int prot)
{
	return (int)stub_op(&as->ctl, SYS_mprotect, addr, len, (uint64_t)prot, 0, 0, 0);
}

/* ---- the running list ---------------------------------------------------------------- */

static void run_add(struct context *ctx)
{
	struct sc_platform *sp = ctx->as->sp;
	ctx->running = true;
	ctx->as->ctl.nrunning++;
	ctx->run_next = NULL;
	ctx->run_prev = sp->run_tail;
	if (sp->run_tail)
		sp->run_tail->run_next = ctx;
	else
		sp->run_head = ctx;
	sp->run_tail = ctx;
}

static void run_remove(struct context *ctx)
{
	struct sc_platform *sp = ctx->as->sp;
	if (!ctx->running)
		return;
	ctx->running = false;
	ctx->as->ctl.nrunning--;
	if (ctx->run_prev)
		ctx->run_prev->run_next = ctx->run_next;
	else
		sp->run_head = ctx->run_next;
	if (ctx->run_next)
		ctx->run_next->run_prev = ctx->run_prev;
	else
		sp->run_tail = ctx->run_prev;
	ctx->run_prev = ctx->run_next = NULL;
}

static void gone_push(struct context *ctx)
{
	struct sc_platform *sp = ctx->as->sp;
	if (ctx->gone)
		return;
	ctx->gone = true;
	struct context **pp = &sp->gone_head;
	while (*pp)
		pp = &(*pp)->gone_next;
	ctx->gone_next = NULL;
	*pp = ctx;
}

static void gone_remove(struct context *ctx)
{
	for (struct context **pp = &ctx->as->sp->gone_head; *pp; pp = &(*pp)->gone_next) {
		if (*pp == ctx) {
			*pp = ctx->gone_next;
			break;
		}
	}
}

/* ---- messages ------------------------------------------------------------------------- */

/* Where the frame's xsave area is: inside the area, 64-aligned, with the size its
 * software-reserved bytes give (or the legacy 512 bytes). The area is writable by guest
 * code: false if that makes no sense. */
static bool locate_fp(struct context *ctx, uint64_t fp)
{
	const uint8_t *area = ctx->as->slots[ctx->slot].view;
	const uint64_t base = slot_addr(ctx->slot), lo = base + SC_TF, hi = base + SC_MSG_SIZE;
	ctx->fp_frame_len = 0;
	if (fp < lo || fp % 64 || fp > hi - 512)
		return false;
	uint32_t sw[5];
	memcpy(sw, area + (fp - base) + 464, sizeof(sw));
	size_t len = 512;
	if (sw[0] == WARD_FP_XSTATE_MAGIC1 && sw[4] >= 576 && sw[4] <= ARCH_FPSTATE_MAX && fp + sw[4] <= hi)
		len = sw[4];
	ctx->fp_off = fp - base;
	ctx->fp_frame_len = len;
	return true;
}

/* Copies the posted frame's registers into ctx (once), checking every pointer the area
 * holds: it is writable by guest code. False if it makes no sense (reported as a spurious
 * interrupt with the registers ctx had). */
static bool read_frame(struct context *ctx, arch_regs *regs, int *signo, siginfo_t *info)
{
	const uint8_t *area = ctx->as->slots[ctx->slot].view;
	const uint64_t base = slot_addr(ctx->slot);
	uint64_t uctx = __atomic_load_n(hdr64(ctx, SC_H_UCTX), __ATOMIC_RELAXED);
	uint64_t inf = __atomic_load_n(hdr64(ctx, SC_H_INFO), __ATOMIC_RELAXED);
	*signo = (int)__atomic_load_n(hdr32(ctx, SC_H_SIGNO), __ATOMIC_RELAXED);
	ctx->fs_base = __atomic_load_n(hdr64(ctx, SC_H_FSBASE), __ATOMIC_RELAXED);
	ctx->gs_base = __atomic_load_n(hdr64(ctx, SC_H_GSBASE), __ATOMIC_RELAXED);
	/* The thread's own area in %gs is the stub's doing: the guest's is 0, as on Linux. */
	if (ctx->gs_base == base)
		ctx->gs_base = 0;
	/* Frames are on the signal stack, or the patch entry's in the header page. */
	const uint64_t lo = base + SC_TF, hi = base + SC_MSG_SIZE;
	if (uctx < lo || uctx > hi - sizeof(struct k_ucontext) || uctx % 8 || inf < lo ||
	    inf > hi - sizeof(siginfo_t) || inf % 8)
		return false;
	struct k_ucontext uc;
	memcpy(&uc, area + (uctx - base), sizeof(uc));
	memcpy(info, area + (inf - base), sizeof(*info));
	ctx->uctx_off = uctx - base;
	ctx->from_patch = ctx->uctx_off == SC_TF_UC;
	const struct k_sigcontext *m = &uc.uc_mcontext;
	memset(regs, 0, sizeof(*regs));
	regs->r8 = m->r8, regs->r9 = m->r9, regs->r10 = m->r10, regs->r11 = m->r11;
	regs->r12 = m->r12, regs->r13 = m->r13, regs->r14 = m->r14, regs->r15 = m->r15;
	regs->rdi = m->rdi, regs->rsi = m->rsi, regs->rbp = m->rbp, regs->rbx = m->rbx;
	regs->rdx = m->rdx, regs->rax = m->rax, regs->rcx = m->rcx, regs->rsp = m->rsp;
	regs->rip = m->rip, regs->eflags = m->eflags;
	regs->cs = USER_CS, regs->ss = USER_DS;
	regs->fs_base = ctx->fs_base, regs->gs_base = ctx->gs_base;
	regs->orig_rax = (uint64_t)-1;
	ctx->posted_eflags = m->eflags;
	/* The patch entry leaves the FPU state in the registers (a null fpstate). */
	if (ctx->from_patch && m->fpstate == 0) {
		ctx->fp_where = FP_IN_THREAD;
		return locate_fp(ctx, base + SC_TF_FP);
	}
	ctx->fp_where = FP_IN_FRAME;
	return locate_fp(ctx, m->fpstate);
}

/* Writes the answer into the frame and lets the thread go. */
static void answer(struct context *ctx, uint32_t action)
{
	__atomic_store_n(hdr32(ctx, SC_H_ACTION), action, __ATOMIC_RELAXED);
	__atomic_store_n(hdr32(ctx, SC_H_WAKE), 0, __ATOMIC_RELAXED);
	__atomic_exchange_n(hdr32(ctx, SC_H_STATE), SC_ANSWERED, __ATOMIC_SEQ_CST);
	if (__atomic_exchange_n(hdr32(ctx, SC_H_SLEEPING), 0, __ATOMIC_SEQ_CST))
		syscall(SYS_futex, hdr32(ctx, SC_H_STATE), FUTEX_WAKE, 1, NULL, NULL, 0);
}

static void write_frame(struct context *ctx, const arch_regs *r)
{
	uint8_t *area = ctx->as->slots[ctx->slot].view;
	struct k_sigcontext m;
	uint8_t *mp = area + ctx->uctx_off + offsetof(struct k_ucontext, uc_mcontext);
	memcpy(&m, mp, sizeof(m));
	m.r8 = r->r8, m.r9 = r->r9, m.r10 = r->r10, m.r11 = r->r11;
	m.r12 = r->r12, m.r13 = r->r13, m.r14 = r->r14, m.r15 = r->r15;
	m.rdi = r->rdi, m.rsi = r->rsi, m.rbp = r->rbp, m.rbx = r->rbx;
	m.rdx = r->rdx, m.rax = r->rax, m.rcx = r->rcx, m.rsp = r->rsp;
	m.rip = r->rip, m.eflags = r->eflags;
	m.cs = USER_CS, m.ss = USER_DS, m.fs = 0, m.gs = 0;
	m.fpstate = ctx->fp_where == FP_IN_THREAD ? 0 : slot_addr(ctx->slot) + ctx->fp_off;
	memcpy(mp, &m, sizeof(m));
	uint64_t none = 0; /* the guest's signal mask is the sentry's business: none on the host */
	memcpy(area + ctx->uctx_off + offsetof(struct k_ucontext, uc_sigmask), &none, sizeof(none));
	__atomic_store_n(hdr64(ctx, SC_H_FSBASE), r->fs_base, __ATOMIC_RELAXED);
	__atomic_store_n(hdr64(ctx, SC_H_GSBASE), r->gs_base ? r->gs_base : slot_addr(ctx->slot),
			 __ATOMIC_RELAXED);
	if (ctx->fp_where == FP_SET && ctx->fp_frame_len) {
		/* Keep the frame's software-reserved bytes: they describe the frame. */
		size_t n = ctx->fplen < ctx->fp_frame_len ? ctx->fplen : ctx->fp_frame_len;
		memcpy(area + ctx->fp_off, ctx->fp, n < 464 ? n : 464);
		if (n > 512)
			memcpy(area + ctx->fp_off + 512, ctx->fp + 512, n - 512);
		ctx->fp_where = FP_COPIED;
	}
}

/* ---- contexts ----------------------------------------------------------------------- */

/* The parts of the patch entry's frame it does not write itself, as the kernel would
 * have them in a SIGSYS frame: rt_sigreturn checks them when the thread goes back
 * through the frame, and the sentry when it reads it. */
static void patch_frame_init(struct sc_platform *sp, uint8_t *area, uint64_t base)
{
	uint64_t self = base;
	memcpy(area + SC_H_SELF, &self, sizeof(self));
	struct k_ucontext uc = {0};
	uc.uc_flags = 0x7; /* UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS */
	uc.uc_stack.ss_sp = base + SC_H_SIZE;
	uc.uc_stack.ss_size = SC_MSG_SIZE - SC_H_SIZE;
	uc.uc_mcontext.cs = USER_CS;
	uc.uc_mcontext.ss = USER_DS;
	uc.uc_mcontext.fpstate = base + SC_TF_FP;
	memcpy(area + SC_TF_UC, &uc, sizeof(uc));
	siginfo_t si = {0};
	si.si_signo = SIGSYS;
	si.si_code = 1; /* SYS_SECCOMP */
	memcpy(area + SC_TF_INFO, &si, sizeof(si));
	if (sp->fpsize > SC_TF_FP_MAX)
		return; /* no patching on this CPU (sc_patch_entry) */
	/* The xsave area's software-reserved bytes (464..511), which xsave leaves alone:
	 * magic1, extended size, features, xsave size; then magic2 after the area. */
	uint32_t sw[12] = {WARD_FP_XSTATE_MAGIC1, (uint32_t)sp->fpsize + 4, (uint32_t)sp->xfeatures,
			   (uint32_t)(sp->xfeatures >> 32), (uint32_t)sp->fpsize};
	memcpy(area + SC_TF_FP + 464, sw, sizeof(sw));
	uint32_t magic2 = 0x46505845u; /* FP_XSTATE_MAGIC2 */
	memcpy(area + SC_TF_FP + sp->fpsize, &magic2, sizeof(magic2));
}

static int slot_get(struct address_space *as)
{
	struct sc_platform *sp = as->sp;
	for (int i = 0; i < as->nslots; i++) {
		struct msg_slot *s = &as->slots[i];
		/* A released slot is free once its thread is gone (the kernel zeroes the tid
		 * word at exit; guest code could zero it early, and then only shares its own
		 * process's areas). */
		if (!s->used && __atomic_load_n((uint32_t *)(s->view + SC_H_TID), __ATOMIC_ACQUIRE) == 0)
			return i;
	}
	if (as->nslots == SC_MSG_SLOTS)
		return -EAGAIN;
	struct msg_slot *n = realloc(as->slots, sizeof(*n) * (size_t)(as->nslots + 1));
	if (!n)
		return -ENOMEM;
	as->slots = n;
	struct msg_slot *s = &as->slots[as->nslots];
	void *view;
	int err = sp->mem.alloc(sp->mem.opaque, SC_MSG_SIZE, &s->off, &view);
	if (err < 0)
		return err;
	s->view = view;
	s->used = false;
	err = stub_map_platform_file(&as->ctl, slot_addr(as->nslots), SC_MSG_SIZE, PROT_READ | PROT_WRITE, s->off);
	if (err < 0) {
		sp->mem.free(sp->mem.opaque, s->off, SC_MSG_SIZE);
		return err;
	}
	return as->nslots++;
}

static long wait_first_post(struct context *ctx)
{
	struct sc_platform *sp = ctx->as->sp;
	uint64_t deadline = 0;
	for (int i = 0;; i++) {
		if (__atomic_load_n(hdr32(ctx, SC_H_STATE), __ATOMIC_ACQUIRE) == SC_POSTED)
			return 0;
		struct pollfd pfd = {sp->wake_fd, POLLIN, 0};
		uint64_t now = mono_ns() / 1000000;
		if (i == 0)
			deadline = now + NEW_THREAD_TIMEOUT_MS;
		else if (now > deadline)
			return -EAGAIN;
		if (poll(&pfd, 1, 10) > 0) {
			uint64_t v;
			if (read(sp->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				return -errno;
		}
	}
}

static int sc_new_context(struct address_space *as, struct context **out)
{
	struct context *ctx = aligned_alloc(64, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	memset(ctx, 0, sizeof(*ctx));
	int slot = slot_get(as);
	if (slot < 0) {
		free(ctx);
		return slot;
	}
	ctx->as = as;
	ctx->slot = slot;
	ctx->cpu = -1;
	uint8_t *h = as->slots[slot].view;
	memset(h, 0, SC_H_SIZE);
	__atomic_store_n((uint32_t *)(h + SC_H_WAKE), 1, __ATOMIC_RELAXED);
	__atomic_store_n((uint32_t *)(h + SC_H_SPIN), as->sp->spin, __ATOMIC_RELAXED);
	__atomic_store_n((uint32_t *)(h + SC_H_YIELDS), as->sp->yields, __ATOMIC_RELAXED);
	patch_frame_init(as->sp, h, slot_addr(slot));
	long tid = stub_control_syscall_at(&as->ctl, code_addr(ward_sc_clone), SYS_clone,
				      CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
					      CLONE_SYSVSEM | CLONE_UNTRACED | CLONE_CHILD_SETTID |
					      CLONE_CHILD_CLEARTID,
				      slot_addr(slot) + SC_MSG_SIZE, 0, slot_addr(slot) + SC_H_TID, 0, 0,
				      NULL);
	if (tid <= 0) {
		free(ctx);
		return tid < 0 ? (int)tid : -ECHILD;
	}
	as->slots[slot].used = true;
	ctx->tid = (pid_t)tid;
	ctx->next_in_as = as->contexts;
	as->contexts = ctx;
	long err = wait_first_post(ctx);
	arch_regs r;
	int signo;
	siginfo_t si;
	if (err == 0 && !read_frame(ctx, &r, &signo, &si))
		err = -EFAULT;
	if (err < 0) {
		/* The stub is in an unknown state: the address space will be released. */
		ctx->doomed = true;
		return (int)err;
	}
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

/* ctx's thread waits for an answer: tell it to exit, and forget it. */
static void retire(struct context *ctx)
{
	struct address_space *as = ctx->as;
	if (!as->ctl.dead)
		answer(ctx, SC_ACT_EXIT);
	as->slots[ctx->slot].used = false;
	gone_remove(ctx);
	unlink_context(ctx);
	free(ctx);
}

static void sc_release_context(struct context *ctx)
{
	ctx->owner = NULL;
	if (ctx->running && !ctx->as->ctl.dead) {
		/* Running guest code: it exits at its next stop, which a kick brings soon. */
		ctx->doomed = true;
		syscall(SYS_tgkill, ctx->as->ctl.pid, ctx->tid, SIGURG);
		return;
	}
	run_remove(ctx);
	retire(ctx);
}

static void sc_release_address_space(struct address_space *as)
{
	struct sc_platform *sp = as->sp;
	if (!as->ctl.dead) {
		stub_kill_and_reap(as->ctl.pid);
		as->ctl.dead = true;
	}
	while (as->contexts) {
		struct context *ctx = as->contexts;
		as->contexts = ctx->next_in_as;
		run_remove(ctx);
		gone_remove(ctx);
		free(ctx);
	}
	for (struct address_space **pp = &sp->spaces; *pp; pp = &(*pp)->next) {
		if (*pp == as) {
			*pp = as->next;
			break;
		}
	}
	for (int i = 0; i < as->nslots; i++)
		sp->mem.free(sp->mem.opaque, as->slots[i].off, SC_MSG_SIZE);
	free(as->slots);
	if (as->ctl.batch)
		sp->mem.free(sp->mem.opaque, as->ctl.batch_off, STUB_BATCH_SIZE);
	free(as);
}

static int sc_resume(struct context *ctx, const arch_regs *regs)
{
	struct address_space *as = ctx->as;
	if (as->ctl.dead) {
		gone_push(ctx);
		return 0;
	}
	int err = stub_flush_batch(&as->ctl);
	if (err < 0)
		return err;
	/* As on the ptrace platform: a wake-up on another core costs far more than one on
	 * the sentry's own on this kind of VM, so each stub thread is kept on the sentry's
	 * CPU (guest threads then do not compute in parallel). Measured: see
	 * docs/design-notes.md. */
	stub_bind_to_sentry_cpu(ctx->tid, &ctx->cpu);
	/* Back from the patch entry without rt_sigreturn when only what it can load (the
	 * general registers, rip, fs) changed. */
	bool fast = ctx->from_patch && ctx->fp_where != FP_SET && regs->eflags == ctx->posted_eflags &&
		    regs->gs_base == ctx->gs_base;
	uint32_t action = fast ? SC_ACT_FAST : ctx->fp_where == FP_IN_THREAD ? SC_ACT_SAVE_RETURN : SC_ACT_RETURN;
	write_frame(ctx, regs);
	run_add(ctx);
	answer(ctx, action);
	return 0;
}

/* ---- waiting --------------------------------------------------------------------------- */

/* Collects the exits of stubs (and discards stray stops of their control threads). */
static void reap_stubs(struct sc_platform *sp)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, __WALL | WNOHANG)) > 0) {
		struct address_space *as = NULL;
		for (struct address_space *a = sp->spaces; a; a = a->next)
			if (a->ctl.pid == pid)
				as = a;
		if (!as && sp->factory && sp->factory->ctl.pid == pid)
			as = sp->factory;
		if (WIFSTOPPED(status)) {
			ptrace(PTRACE_CONT, pid, 0, 0);
			continue;
		}
		if (!as)
			continue;
		as->ctl.dead = true;
		for (struct context *c = as->contexts; c; c = c->next_in_as) {
			if (c->running) {
				run_remove(c);
				gone_push(c);
			}
		}
	}
}

static void drain(int fd)
{
	uint8_t buf[sizeof(struct signalfd_siginfo) * 4];
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* The first running context that has posted, taken off the running list. Doomed ones
 * are told to exit on the way. */
static struct context *scan(struct sc_platform *sp)
{
	struct context *ctx = sp->run_head;
	while (ctx) {
		struct context *next = ctx->run_next;
		if (__atomic_load_n(hdr32(ctx, SC_H_STATE), __ATOMIC_ACQUIRE) == SC_POSTED) {
			run_remove(ctx);
			if (!ctx->doomed)
				return ctx;
			retire(ctx);
		}
		ctx = next;
	}
	return NULL;
}

static int report(struct context *ctx, struct context **ctx_out, arch_regs *regs, struct stop *stop)
{
	int signo;
	siginfo_t si;
	memset(stop, 0, sizeof(*stop));
	*ctx_out = ctx;
	if (!read_frame(ctx, regs, &signo, &si)) {
		/* Guest code scribbled over its area: its thread's state is lost. */
		stop->kind = STOP_GONE;
		return 0;
	}
	if (signo == SIGSYS && si.si_signo == SIGSYS && si.si_code == 1 /* SYS_SECCOMP */) {
		stop->kind = STOP_SYSCALL;
		regs->orig_rax = regs->rax;
		regs->rax = (uint64_t)-ENOSYS;
		return 0;
	}
	/* The patch entry could not use %gs (the guest changed it): the syscall it was
	 * given (eax, returning to rcx) is served from the fault's registers instead. */
	if (((signo == SIGSEGV || signo == SIGBUS) && regs->rip == code_addr(ward_sc_patch_check_ip)) ||
	    (signo == SIGILL && regs->rip == code_addr(ward_sc_patch_fallback))) {
		stop->kind = STOP_SYSCALL;
		regs->rip = regs->rcx;
		regs->r11 = regs->eflags;
		regs->orig_rax = regs->rax;
		regs->rax = (uint64_t)-ENOSYS;
		return 0;
	}
	if ((signo == SIGSEGV || signo == SIGBUS || signo == SIGFPE || signo == SIGILL ||
	     signo == SIGTRAP) &&
	    si.si_signo == signo && si.si_code > 0) {
		stop->kind = STOP_FAULT;
		stop->info = si;
		return 0;
	}
	/* Our kick, or a signal from outside the sandbox: the guest never sees those. */
	stop->kind = STOP_INTERRUPT;
	return 0;
}

static int sc_wait_stop(struct platform *p, bool block, struct context **ctx_out, arch_regs *regs,
			struct stop *stop)
{
	struct sc_platform *sp = (struct sc_platform *)p;
	for (;;) {
		if (sp->gone_head) {
			struct context *ctx = sp->gone_head;
			sp->gone_head = ctx->gone_next;
			memset(stop, 0, sizeof(*stop));
			*ctx_out = ctx;
			stop->kind = STOP_GONE;
			return 0;
		}
		struct context *ctx = scan(sp);
		for (uint32_t i = 0; !ctx && i < sp->sentry_spin && sp->run_head; i++) {
			__builtin_ia32_pause();
			ctx = scan(sp);
		}
		/* A guest thread is running on this core (stub threads follow the sentry's):
		 * let it run to its next trap, whose sched_yield switches straight back. A
		 * thread that computes instead keeps the CPU for its time slice, so the few
		 * yields bound how late the sentry's own events (timers, stdio) are seen. */
		for (uint32_t i = 0; !ctx && block && i < sp->sentry_yields && sp->run_head; i++) {
			sched_yield();
			ctx = scan(sp);
		}
		if (ctx)
			return report(ctx, ctx_out, regs, stop);
		/* About to sleep: ask every running thread to ring, then look once more. */
		for (struct context *c = sp->run_head; c; c = c->run_next)
			__atomic_exchange_n(hdr32(c, SC_H_WAKE), 1, __ATOMIC_SEQ_CST);
		if ((ctx = scan(sp)))
			return report(ctx, ctx_out, regs, stop);
		struct epoll_event ev[2];
		int n = epoll_wait(sp->epfd, ev, 2, block ? -1 : 0);
		if (n < 0)
			return errno == EINTR ? -EINTR : -errno;
		if (n == 0)
			return -EAGAIN;
		for (int i = 0; i < n; i++) {
			if (ev[i].data.fd == sp->wake_fd) {
				uint64_t v;
				if (read(sp->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
					return -errno;
				continue;
			}
			drain(ev[i].data.fd);
			reap_stubs(sp);
		}
	}
}

static int sc_event_fd(struct platform *p)
{
	return ((struct sc_platform *)p)->epfd;
}

/* How long the sentry waits for a stopped thread to save its FPU state: it is on the
 * sentry's CPU and due to run at once, so only guest code that scribbled over its area
 * (or a thread killed from outside) makes it wait this long. */
#define FETCH_FP_TIMEOUT_NS 1000000000ull

/* Asks a thread stopped in the patch entry to save its FPU state into the frame, and
 * waits for it to post again. */
static bool fetch_fp(struct context *ctx)
{
	answer(ctx, SC_ACT_SAVE_FP);
	const uint64_t deadline = mono_ns() + FETCH_FP_TIMEOUT_NS;
	for (unsigned i = 1; __atomic_load_n(hdr32(ctx, SC_H_STATE), __ATOMIC_ACQUIRE) != SC_POSTED; i++) {
		if (ctx->as->ctl.dead || (i % 64 == 0 && mono_ns() > deadline))
			return false;
		sched_yield();
	}
	/* Where the frame says it is now: where the thread saved it, or the kernel's frame if
	 * a kick came on the way (ward_sc_handler). */
	uint64_t at = __atomic_load_n(hdr64(ctx, SC_TF_MC + MC_FPSTATE), __ATOMIC_RELAXED);
	return at != 0 && locate_fp(ctx, at);
}

/* The state a new thread starts with (what execve gives): x87 control word and MXCSR at
 * their defaults, nothing else in use. */
static void fp_init_state(struct context *ctx)
{
	memset(ctx->fp, 0, 576);
	const uint16_t fcw = 0x37f;
	const uint32_t mxcsr = 0x1f80;
	memcpy(ctx->fp, &fcw, sizeof(fcw));
	memcpy(ctx->fp + 24, &mxcsr, sizeof(mxcsr));
	ctx->fplen = 576;
}

static long sc_get_fpstate(struct context *ctx, void *buf, size_t len)
{
	if (ctx->fp_where == FP_IN_THREAD) {
		if (fetch_fp(ctx)) {
			ctx->fp_where = FP_IN_FRAME;
		} else {
			/* The thread did not answer (guest code scribbled over its area, or it
			 * was killed): its state is lost, and it goes on with the initial one,
			 * written into the entry's own xsave area on resume. */
			fp_init_state(ctx);
			locate_fp(ctx, slot_addr(ctx->slot) + SC_TF_FP);
			ctx->fp_where = FP_SET;
		}
	}
	if (ctx->fp_where == FP_IN_FRAME) {
		memcpy(ctx->fp, ctx->as->slots[ctx->slot].view + ctx->fp_off, ctx->fp_frame_len);
		ctx->fplen = ctx->fp_frame_len;
		ctx->fp_where = FP_COPIED;
	}
	size_t n = ctx->fplen < len ? ctx->fplen : len;
	memcpy(buf, ctx->fp, n);
	if (len > n)
		memset((uint8_t *)buf + n, 0, len - n);
	return (long)(len > n ? len : n);
}

/* What xrstor in rt_sigreturn would refuse (PTRACE_SETREGSET checks the same). */
static int sc_set_fpstate(struct context *ctx, const void *buf, size_t len)
{
	struct sc_platform *sp = ctx->as->sp;
	const uint8_t *b = buf;
	if (len < 512 || len > ARCH_FPSTATE_MAX)
		return -EINVAL;
	uint32_t mxcsr;
	memcpy(&mxcsr, b + 24, 4);
	if (mxcsr & ~sp->mxcsr_mask)
		return -EINVAL;
	if (len >= 576) {
		uint64_t hdr[8];
		memcpy(hdr, b + 512, sizeof(hdr));
		if ((hdr[0] & ~sp->xfeatures) || hdr[1] != 0)
			return -EINVAL;
		for (int i = 2; i < 8; i++)
			if (hdr[i])
				return -EINVAL;
	}
	memcpy(ctx->fp, buf, len);
	ctx->fplen = len;
	ctx->fp_where = FP_SET;
	return 0;
}

static int sc_interrupt(struct context *ctx)
{
	if (ctx->as->ctl.dead)
		return 0;
	return syscall(SYS_tgkill, ctx->as->ctl.pid, ctx->tid, SIGURG) < 0 ? -errno : 0;
}

static void sc_set_owner(struct context *ctx, void *owner)
{
	ctx->owner = owner;
}

static void *sc_owner(struct context *ctx)
{
	return ctx->owner;
}

static size_t sc_fpstate_size(struct platform *p)
{
	return ((struct sc_platform *)p)->fpsize;
}

static int sc_cpu_time(struct address_space *as, uint64_t *user_ns, uint64_t *total_ns)
{
	if (as->ctl.dead) {
		*user_ns = *total_ns = 0;
		return 0;
	}
	return platform_process_cpu_time(as->ctl.pid, user_ns, total_ns);
}

/* Where a patched syscall site's thunk jumps: none when the xsave state does not fit
 * the patch entry's frame. */
static uint64_t sc_patch_entry(struct platform *p)
{
	struct sc_platform *sp = (struct sc_platform *)p;
	return sp->fpsize <= SC_TF_FP_MAX ? code_addr(ward_sc_patch_entry) : 0;
}

/* Another thread of ctx's address space may be executing guest code right now. */
static bool sc_others_running(struct context *ctx)
{
	return ctx->as->ctl.nrunning > (ctx->running ? 1 : 0);
}

static const struct platform_ops seccomp_ops = {
	.name = "seccomp",
	.new_address_space = sc_new_address_space,
	.release_address_space = sc_release_address_space,
	.map = sc_map,
	.unmap = sc_unmap,
	.protect = sc_protect,
	.new_context = sc_new_context,
	.release_context = sc_release_context,
	.resume = sc_resume,
	.wait_stop = sc_wait_stop,
	.event_fd = sc_event_fd,
	.get_fpstate = sc_get_fpstate,
	.set_fpstate = sc_set_fpstate,
	.interrupt = sc_interrupt,
	.set_owner = sc_set_owner,
	.owner = sc_owner,
	.cpu_time = sc_cpu_time,
	.fpstate_size = sc_fpstate_size,
	.patch_entry = sc_patch_entry,
	.others_running = sc_others_running,
};

static int code_page_install(void)
{
	if ((size_t)(ward_sc_end - ward_sc_start) != SC_CODE_SIZE)
		return -EINVAL;
	return platform_code_install(SC_CODE, ward_sc_start, SC_CODE_SIZE);
}

int seccomp_platform_available(const char **why)
{
#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif
	if (!(getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE)) {
		*why = "the CPU or kernel does not let user code use rdfsbase/wrfsbase";
		return -ENOSYS;
	}
	unsigned a, b, c, d;
	if (__get_cpuid_count(0xd, 0, &a, &b, &c, &d) && b + 2048 > SC_MSG_SIZE - SC_H_SIZE) {
		*why = "the xsave area does not fit the stub's signal stack";
		return -ENOSYS;
	}
	*why = NULL;
	return 0;
}

/* How long each side polls before it sleeps, in pause instructions (~60 ns each here).
 * Measured on this 2-core VM under the usual load of parallel builds (getppid round trip,
 * docs/design-notes.md): any spinning made things worse, on one core (the other side
 * cannot run while we spin) and on two (the other core is rarely free, and a vCPU that
 * spins is one the host deschedules), so both default to 0. On an idle multi-core host,
 * a stub spin of ~2000 and a sentry spin of ~2000 took a round trip from ~15 us to ~12. */
#ifndef SC_STUB_SPIN
#define SC_STUB_SPIN 0
#endif
#ifndef SC_SENTRY_SPIN
#define SC_SENTRY_SPIN 0
#endif
/* Handing the CPU over with sched_yield: a round trip of two yields between two
 * processes on one core costs ~4.6 us here against ~7.5 us for a futex wake and wait. */
#ifndef SC_STUB_YIELDS
#define SC_STUB_YIELDS 4
#endif
#ifndef SC_SENTRY_YIELDS
#define SC_SENTRY_YIELDS 4
#endif
static void choose_spin(struct sc_platform *sp)
{
	cpu_set_t set;
	int ncpu = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
	sp->spin = ncpu > 1 ? SC_STUB_SPIN : 0;
	sp->sentry_spin = ncpu > 1 ? SC_SENTRY_SPIN : 0;
	sp->yields = SC_STUB_YIELDS;
	sp->sentry_yields = SC_SENTRY_YIELDS;
}

int seccomp_platform_create(int memfd, const struct platform_memory *mem, struct platform **out)
{
	const char *why;
	int err = seccomp_platform_available(&why);
	if (err < 0)
		return err;
	struct sc_platform *sp = calloc(1, sizeof(*sp));
	if (!sp)
		return -ENOMEM;
	sp->sigchld_fd = sp->wake_fd = sp->epfd = -1;
	if ((err = stub_page_install()) < 0 || (err = code_page_install()) < 0)
		goto fail;
	sp->base.ops = &seccomp_ops;
	sp->base.memfd = memfd;
	sp->mem = *mem;
	build_filter(sp);
	build_ctl_filter(sp);
	if ((err = filter_page_fill(sp)) < 0)
		goto fail;
	choose_spin(sp);
	unsigned a, b, c, d;
	sp->fpsize = 512 + 64;
	if (__get_cpuid_count(0xd, 0, &a, &b, &c, &d) && b > sp->fpsize)
		sp->fpsize = b;
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	sp->xfeatures = (uint64_t)hi << 32 | lo;
	_Alignas(16) uint8_t fx[512] = {0};
	__asm__ volatile("fxsave %0" : "=m"(fx));
	memcpy(&sp->mxcsr_mask, fx + 28, 4);
	if (!sp->mxcsr_mask)
		sp->mxcsr_mask = 0xffbf;

	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	sp->sigchld_fd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
	sp->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	sp->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (sp->sigchld_fd < 0 || sp->wake_fd < 0 || sp->epfd < 0) {
		err = -errno;
		goto fail;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = sp->sigchld_fd};
	if (epoll_ctl(sp->epfd, EPOLL_CTL_ADD, sp->sigchld_fd, &ev) < 0) {
		err = -errno;
		goto fail;
	}
	ev.data.fd = sp->wake_fd;
	if (epoll_ctl(sp->epfd, EPOLL_CTL_ADD, sp->wake_fd, &ev) < 0) {
		err = -errno;
		goto fail;
	}
	if ((err = factory_create(sp)) < 0)
		goto fail;
	*out = &sp->base;
	return 0;
fail:
	if (sp->sigchld_fd >= 0)
		close(sp->sigchld_fd);
	if (sp->wake_fd >= 0)
		close(sp->wake_fd);
	if (sp->epfd >= 0)
		close(sp->epfd);
	free(sp);
	return err;
}
