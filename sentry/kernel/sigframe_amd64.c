/* x86-64 signal frames, laid out as Linux's arch/x86/kernel/signal_64.c does: below the
 * 128-byte red zone (or at the top of the alternate stack), the xsave area aligned to 64,
 * then struct rt_sigframe {pretcode, ucontext, siginfo}, with rsp ≡ 8 (mod 16) as if the
 * handler had been called. */
#include "sentry/kernel/sigframe.h"
#include "platform/x86_sigframe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define WARD_FP_XSTATE_MAGIC2 0x46505845u
#define UC_FP_XSTATE 0x1
#define UC_SIGCONTEXT_SS 0x2
#define UC_STRICT_RESTORE_SS 0x4
/* Flags a sigreturn may change (arch/x86/kernel/signal.c FIX_EFLAGS). */
#define FIX_EFLAGS 0x40dd5u

static bool on_altstack(const struct task *t, uint64_t sp)
{
	uint64_t base = (uint64_t)t->altstack.ss_sp;
	return t->altstack.ss_size && sp > base && sp - base <= t->altstack.ss_size;
}

int sigframe_build(struct task *t, int sig, const siginfo_t *info, const struct ksigaction *act,
		   uint64_t oldmask)
{
	struct kernel *k = t->k;
	const struct platform_ops *ops = k->plat->ops;
	size_t xsize = ops->fpstate_size(k->plat);
	uint8_t *xbuf = calloc(1, xsize + 4);
	if (!xbuf)
		return -ENOMEM;
	long got = ops->get_fpstate(t->ctx, xbuf, xsize);
	if (got < 0) {
		free(xbuf);
		return (int)got;
	}
	/* The software-reserved bytes of the fxsave area tell the handler (and sigreturn)
	 * that an extended state follows and how big it is. */
	uint32_t *sw = (uint32_t *)(xbuf + 464);
	if (sw[0] != WARD_FP_XSTATE_MAGIC1) {
		/* ptrace normally fills these in (the same bytes Linux puts in frames). */
		uint64_t xfeatures;
		memcpy(&xfeatures, xbuf + 512, sizeof(xfeatures)); /* header.xstate_bv */
		sw[0] = WARD_FP_XSTATE_MAGIC1;
		memcpy(&sw[2], &xfeatures, 8);
	}
	sw[1] = (uint32_t)xsize + 4; /* extended_size */
	sw[4] = (uint32_t)xsize;     /* xstate_size */
	uint32_t magic2 = WARD_FP_XSTATE_MAGIC2;
	memcpy(xbuf + xsize, &magic2, 4);

	uint64_t sp = t->regs.rsp - 128;
	bool was_on = on_altstack(t, t->regs.rsp);
	if ((act->flags & SA_ONSTACK) && t->altstack.ss_size && !was_on &&
	    !(t->altstack.ss_flags & SS_DISABLE))
		sp = (uint64_t)t->altstack.ss_sp + t->altstack.ss_size;
	uint64_t fpaddr = (sp - (xsize + 4)) & ~63ull;
	uint64_t frame = ((fpaddr - sizeof(struct k_rt_sigframe) + 8) & ~15ull) - 8;

	struct k_rt_sigframe f;
	memset(&f, 0, sizeof(f));
	f.pretcode = act->restorer;
	f.uc.uc_flags = UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	f.uc.uc_stack.ss_sp = (uint64_t)t->altstack.ss_sp;
	f.uc.uc_stack.ss_flags = t->altstack.ss_size ? (was_on ? SS_ONSTACK : 0) : SS_DISABLE;
	if (t->altstack.ss_flags & SS_DISABLE)
		f.uc.uc_stack.ss_flags = SS_DISABLE;
	f.uc.uc_stack.ss_size = t->altstack.ss_size;
	struct k_sigcontext *sc = &f.uc.uc_mcontext;
	const arch_regs *r = &t->regs;
	sc->r8 = r->r8;
	sc->r9 = r->r9;
	sc->r10 = r->r10;
	sc->r11 = r->r11;
	sc->r12 = r->r12;
	sc->r13 = r->r13;
	sc->r14 = r->r14;
	sc->r15 = r->r15;
	sc->rdi = r->rdi;
	sc->rsi = r->rsi;
	sc->rbp = r->rbp;
	sc->rbx = r->rbx;
	sc->rdx = r->rdx;
	sc->rax = r->rax;
	sc->rcx = r->rcx;
	sc->rsp = r->rsp;
	sc->rip = r->rip;
	sc->eflags = r->eflags;
	sc->cs = USER_CS;
	sc->ss = USER_DS;
	sc->oldmask = oldmask;
	sc->fpstate = fpaddr;
	if (sig == SIGSEGV || sig == SIGBUS) {
		sc->trapno = 14; /* page fault */
		sc->err = 4 | ((info->si_code == SEGV_ACCERR) ? 1 : 0);
		sc->cr2 = (uint64_t)info->si_addr;
	}
	f.uc.uc_sigmask = oldmask;
	f.info = *info;

	struct mm *mm = t->tg->mm;
	int err = copy_to_user(mm, fpaddr, xbuf, xsize + 4);
	free(xbuf);
	if (err == 0)
		err = copy_to_user(mm, frame, &f, sizeof(f));
	if (err < 0)
		return -EFAULT;

	t->regs.rsp = frame;
	t->regs.rip = act->handler;
	t->regs.rdi = (uint64_t)sig;
	t->regs.rsi = frame + offsetof(struct k_rt_sigframe, info);
	t->regs.rdx = frame + offsetof(struct k_rt_sigframe, uc);
	t->regs.rax = 0;
	t->regs.eflags &= ~(0x100ull | 0x400ull | 0x40000ull); /* TF, DF, AC cleared */
	t->regs.cs = USER_CS;
	t->regs.ss = USER_DS;
	return 0;
}

int sigframe_restore(struct task *t)
{
	struct kernel *k = t->k;
	const struct platform_ops *ops = k->plat->ops;
	struct mm *mm = t->tg->mm;
	struct k_rt_sigframe f;
	/* The handler's ret popped pretcode, so the frame starts 8 bytes below rsp. */
	uint64_t frame = t->regs.rsp - 8;
	if (copy_from_user(mm, &f, frame, sizeof(f)) < 0)
		return -EFAULT;
	const struct k_sigcontext *sc = &f.uc.uc_mcontext;
	arch_regs *r = &t->regs;
	r->r8 = sc->r8;
	r->r9 = sc->r9;
	r->r10 = sc->r10;
	r->r11 = sc->r11;
	r->r12 = sc->r12;
	r->r13 = sc->r13;
	r->r14 = sc->r14;
	r->r15 = sc->r15;
	r->rdi = sc->rdi;
	r->rsi = sc->rsi;
	r->rbp = sc->rbp;
	r->rbx = sc->rbx;
	r->rdx = sc->rdx;
	r->rax = sc->rax;
	r->rcx = sc->rcx;
	r->rsp = sc->rsp;
	r->rip = sc->rip;
	r->eflags = (r->eflags & ~(uint64_t)FIX_EFLAGS) | (sc->eflags & FIX_EFLAGS);
	r->cs = USER_CS;
	r->ss = USER_DS;
	r->orig_rax = (uint64_t)-1; /* no syscall restart after a sigreturn */
	t->sigmask = f.uc.uc_sigmask & ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP));

	/* sigaltstack state as saved (restore_altstack). */
	stack_t ss = {(void *)f.uc.uc_stack.ss_sp, f.uc.uc_stack.ss_flags, f.uc.uc_stack.ss_size};
	if (!(ss.ss_flags & SS_DISABLE) && !on_altstack(t, t->regs.rsp)) {
		t->altstack.ss_sp = ss.ss_sp;
		t->altstack.ss_size = ss.ss_size;
		t->altstack.ss_flags = ss.ss_flags & ~SS_ONSTACK;
	}

	if (sc->fpstate) {
		size_t xsize = ops->fpstate_size(k->plat);
		uint8_t *xbuf = malloc(xsize);
		if (!xbuf)
			return -ENOMEM;
		if (copy_from_user(mm, xbuf, sc->fpstate, xsize) < 0) {
			free(xbuf);
			return -EFAULT;
		}
		/* The kernel validates the xsave header; a garbage state gets EINVAL from
		 * ptrace, which we report as a bad frame (SIGSEGV) rather than a sentry error. */
		int err = ops->set_fpstate(t->ctx, xbuf, xsize);
		free(xbuf);
		if (err < 0)
			return -EFAULT;
	}
	return 0;
}
