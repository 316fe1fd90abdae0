/* The seccomp platform's stub code: one page copied by the sentry to SC_CODE and present
 * in every stub process of this platform.
 *
 * A guest thread runs with a seccomp filter that traps (SIGSYS) every system call not
 * made from one of the few instructions below. The handler (also for the guest's faults
 * and the sentry's SIGURG kicks) runs on the thread's alternate stack, which is the thread's
 * message area in shared memory: the kernel has already written the full register and
 * xsave state there. It publishes where, wakes the sentry if it sleeps, waits for the
 * answer (spinning a little first), and returns through rt_sigreturn, which loads the
 * registers the sentry wrote into the frame.
 *
 * Guest code can jump anywhere in here with any registers: the filter allows each
 * syscall instruction only its own call with fixed arguments where it can, so that gives
 * it nothing it could not do itself. */
#include "platform/seccomp/layout.h"

#define SIGSYS_NR 31
#define SIGURG_NR 23

/* The general registers the patch entry keeps in its frame, with their offsets in the
 * frame's sigcontext (r11, rsp and rip are handled apart): one list for the save and
 * the load, so that the two cannot disagree. */
.macro tf_gprs op
	\op %r8, 0
	\op %r9, 8
	\op %r10, 16
	\op %r12, 32
	\op %r13, 40
	\op %r14, 48
	\op %r15, 56
	\op %rdi, 64
	\op %rsi, 72
	\op %rbp, 80
	\op %rbx, 88
	\op %rdx, 96
	\op %rax, MC_RAX
	\op %rcx, MC_RCX
.endm
/* The patch entry's thread saves its FPU state into its frame (a macro: the entry never
 * writes the guest's stack, so it has no call). */
.macro save_fp
	mov $-1, %eax
	mov $-1, %edx
	xsave64 SC_TF_FP(%rbx)
	lea SC_TF_FP(%rbx), %rax
	mov %rax, (SC_TF_MC + MC_FPSTATE)(%rbx)
.endm
.macro tf_save reg, off
	mov \reg, %gs:(SC_TF_MC + \off)
.endm
.macro tf_load reg, off
	mov %gs:(SC_TF_MC + \off), \reg
.endm

	.section .text.ward_sc_stub, "ax", @progbits
	.balign 4096
	.globl ward_sc_start
ward_sc_start:

	/* handler(signo = rdi, info = rsi, ucontext = rdx). r13 says how the thread goes
	 * back: 0 through the kernel's frame, 1 through the patch entry's frame (a kick
	 * that came on its way back), 2 from the patch entry itself. */
	.globl ward_sc_handler
ward_sc_handler:
	mov %rsp, %rbx
	and $~(SC_MSG_SIZE - 1), %rbx
	mov $SC_MSG_BASE, %rax
	cmp %rax, %rbx
	jb ward_sc_bad
	mov $(SC_MSG_BASE + SC_MSG_SLOTS * SC_MSG_SIZE), %rax
	cmp %rax, %rbx
	jae ward_sc_bad
	xor %r13d, %r13d
	/* A kick (SIGURG) that lands in the patch entry's code, where signals are not
	 * blocked: before the post, the post that follows is the stop the sentry wants;
	 * posted and not answered, the sentry has it; answered, the thread is on its way
	 * back, and the kick is reported with the answer's frame, which is then where the
	 * thread returns through. */
	cmp $SIGURG_NR, %edi
	jne 1f
	mov UC_RIP(%rdx), %rax
	lea ward_sc_patch_entry(%rip), %rcx
	cmp %rcx, %rax
	jb 1f
	lea ward_sc_patch_end(%rip), %rcx
	cmp %rcx, %rax
	jae 1f
	lea ward_sc_patch_posted(%rip), %rcx
	cmp %rcx, %rax
	jb 10f
	cmpl $SC_ANSWERED, SC_H_STATE(%rbx)
	jne 10f
	mov $1, %r13d
	/* A frame without FPU state (the entry's; the sentry did not set one): the
	 * guest's, still in the registers when the kick came, is in the kernel's frame. */
	cmpq $0, (SC_TF_MC + MC_FPSTATE)(%rbx)
	jne 11f
	mov (UC_MC + MC_FPSTATE)(%rdx), %rax
	mov %rax, (SC_TF_MC + MC_FPSTATE)(%rbx)
11:	movl %edi, SC_H_SIGNO(%rbx)
	mov %rsi, SC_H_INFO(%rbx)
	lea SC_TF_UC(%rbx), %rax
	mov %rax, SC_H_UCTX(%rbx)
	jmp ward_sc_patch_posted
10:	ret /* to ward_sc_restorer: on with what it was doing */
1:	movl %edi, SC_H_SIGNO(%rbx)
	mov %rsi, SC_H_INFO(%rbx)
	mov %rdx, SC_H_UCTX(%rbx)
	rdfsbase %rax
	mov %rax, SC_H_FSBASE(%rbx)
	rdgsbase %rax
	mov %rax, SC_H_GSBASE(%rbx)
	jmp ward_sc_patch_posted

	/* A patched syscall site jumps here (through its thunk) instead of trapping:
	 * eax = the syscall number, rcx = the return address, as the syscall instruction
	 * would leave it; r11 is free (syscall clobbers it too). The thread's area is at
	 * %gs (set when the thread started); a %gs the guest changed fails the check and
	 * the sentry serves the fault at ward_sc_patch_check_ip or the ud2 at
	 * ward_sc_patch_fallback as the syscall. The general registers go into the area's
	 * frame, laid out as the kernel's, and the post and the wait are the handler's. The
	 * guest's stack is never written. The FPU state stays in the registers (nothing
	 * here touches it), which the frame's null fpstate says: the sentry asks for it
	 * (SC_ACT_SAVE_FP) only when it needs it, for a signal or a fork. */
	.globl ward_sc_patch_entry
ward_sc_patch_entry:
	rdgsbase %r11
	.globl ward_sc_patch_check_ip
ward_sc_patch_check_ip:
	cmp %r11, %gs:SC_H_SELF
	jne ward_sc_patch_fallback
	tf_gprs tf_save
	mov %rsp, %gs:(SC_TF_MC + MC_RSP)
	mov %rcx, %gs:(SC_TF_MC + MC_RIP)
	lea SC_H_FLAGS_STACK(%r11), %rsp
	pushfq
	pop %rcx
	mov %rcx, %gs:(SC_TF_MC + MC_EFLAGS)
	mov %rcx, %gs:(SC_TF_MC + MC_R11) /* r11 = rflags, as after a syscall */
	mov %gs:(SC_TF_MC + MC_RSP), %rsp
	mov %r11, %rbx
	movq $0, (SC_TF_MC + MC_FPSTATE)(%rbx)
	movl $SIGSYS_NR, SC_H_SIGNO(%rbx)
	lea SC_TF_INFO(%rbx), %rax
	mov %rax, SC_H_INFO(%rbx)
	lea SC_TF_UC(%rbx), %rax
	mov %rax, SC_H_UCTX(%rbx)
	rdfsbase %rax
	mov %rax, SC_H_FSBASE(%rbx)
	mov %rbx, SC_H_GSBASE(%rbx)
	mov $2, %r13d

	/* Post (xchg: a full barrier before reading the sentry's sleep flag). */
	.globl ward_sc_patch_posted
ward_sc_patch_posted:
	mov $SC_POSTED, %eax
	xchg %eax, SC_H_STATE(%rbx)
	xor %eax, %eax
	xchg %eax, SC_H_WAKE(%rbx)
	test %eax, %eax
	jz 2f
	mov $1, %eax /* write(SC_EVENTFD, &one, 8) */
	mov $SC_EVENTFD, %edi
	lea ward_sc_one(%rip), %rsi
	mov $8, %edx
	syscall
	.globl ward_sc_write_ip
ward_sc_write_ip:
2:	mov SC_H_SPIN(%rbx), %ecx
3:	cmpl $SC_POSTED, SC_H_STATE(%rbx)
	jne 6f
	test %ecx, %ecx
	jz 4f
	pause
	dec %ecx
	jmp 3b
	/* Then yield the CPU, which on the sentry's core (where stub threads are kept)
	 * switches straight to the sentry if it is runnable: cheaper than a futex sleep
	 * and wake-up. The count is in r12 since syscall clobbers rcx. */
4:	mov SC_H_YIELDS(%rbx), %r12d
8:	cmpl $SC_POSTED, SC_H_STATE(%rbx)
	jne 6f
	test %r12d, %r12d
	jz 9f
	dec %r12d
	mov $24, %eax /* sched_yield() */
	syscall
	.globl ward_sc_yield_ip
ward_sc_yield_ip:
	jmp 8b
9:	mov $1, %eax
	xchg %eax, SC_H_SLEEPING(%rbx)
5:	cmpl $SC_POSTED, SC_H_STATE(%rbx)
	jne 6f
	/* futex(&state, FUTEX_WAIT, SC_POSTED, &50 ms): bounded, so that a wake-up the
	 * thread misses costs it 50 ms instead of the sandbox (seen under load, with
	 * several threads: the answer's state and the sentry's wake were there, the
	 * thread still asleep; see docs/design-notes.md). */
	mov $202, %eax
	lea SC_H_STATE(%rbx), %rdi
	xor %esi, %esi
	mov $SC_POSTED, %edx
	lea ward_sc_futex_timeout(%rip), %r10
	syscall
	.globl ward_sc_futex_ip
ward_sc_futex_ip:
	jmp 5b
6:	cmpl $SC_ACT_EXIT, SC_H_ACTION(%rbx)
	je 7f
	cmp $2, %r13d
	je 20f
	mov SC_H_FSBASE(%rbx), %rax
	wrfsbase %rax
	mov SC_H_GSBASE(%rbx), %rax
	wrgsbase %rax
	test %r13d, %r13d
	jnz 21f
	ret /* to ward_sc_restorer */
	/* Back from the patch entry: only the general registers (and fs) changed, so
	 * they are loaded here, through %gs, which the sentry left as it was. */
20:	cmpl $SC_ACT_SAVE_FP, SC_H_ACTION(%rbx)
	je 30f
	mov SC_H_FSBASE(%rbx), %rax
	wrfsbase %rax
	cmpl $SC_ACT_FAST, SC_H_ACTION(%rbx)
	jne 22f
	mov %gs:(SC_TF_MC + MC_R11), %r11
	tf_gprs tf_load
	mov %gs:(SC_TF_MC + MC_RSP), %rsp
	jmp *%gs:(SC_TF_MC + MC_RIP)
	/* rt_sigreturn loads the FPU state too: the sentry's, or the live one saved here. */
22:	cmpl $SC_ACT_SAVE_RETURN, SC_H_ACTION(%rbx)
	jne 23f
	save_fp
23:	mov SC_H_GSBASE(%rbx), %rax
	wrgsbase %rax
	/* Everything else through the frame: rt_sigreturn loads it whole. */
21:	lea SC_TF_UC(%rbx), %rsp
	mov $15, %eax
	syscall
	.globl ward_sc_patch_sigreturn_ip
ward_sc_patch_sigreturn_ip:
	ud2
	/* The sentry wants the FPU state: save it into the frame and post again. */
30:	save_fp
	jmp ward_sc_patch_posted
	.globl ward_sc_patch_end
ward_sc_patch_end:
7:	mov $60, %eax /* exit(0): this thread only */
	xor %edi, %edi
	syscall
	.globl ward_sc_exit_ip
ward_sc_exit_ip:
	.globl ward_sc_bad
ward_sc_bad:
	ud2

	/* The sentry serves a fault here as the patched syscall (eax, returning to rcx). */
	.globl ward_sc_patch_fallback
ward_sc_patch_fallback:
	ud2

	.globl ward_sc_restorer
ward_sc_restorer:
	mov $15, %eax
	syscall
	.globl ward_sc_sigreturn_ip
ward_sc_sigreturn_ip:
	ud2

	/* The control thread makes a guest thread here: clone(...) with the child's stack
	 * at the top of its message area. The parent traps back to the sentry; the child
	 * sets up its signal stack, confines itself with the guest filter and makes its
	 * first stop. */
	.globl ward_sc_clone
ward_sc_clone:
	syscall
	.globl ward_sc_clone_ip
ward_sc_clone_ip:
	test %rax, %rax
	jz 1f
	int3
	jmp ward_sc_bad
1:	lea -1(%rsp), %rbx
	and $~(SC_MSG_SIZE - 1), %rbx
	wrgsbase %rbx /* the patch entry finds the area there */
	/* sigaltstack(&{area + SC_H_SIZE, 0, SC_MSG_SIZE - SC_H_SIZE}, NULL) */
	sub $24, %rsp
	lea SC_H_SIZE(%rbx), %rax
	mov %rax, (%rsp)
	movq $0, 8(%rsp)
	movq $(SC_MSG_SIZE - SC_H_SIZE), 16(%rsp)
	mov $131, %eax
	mov %rsp, %rdi
	xor %esi, %esi
	syscall
	.globl ward_sc_altstack_ip
ward_sc_altstack_ip:
	test %rax, %rax
	jnz ward_sc_bad
	/* seccomp(SECCOMP_SET_MODE_FILTER, 0, SC_FILTER): from here on, this thread traps. */
	mov $317, %eax
	mov $1, %edi
	xor %esi, %esi
	mov $SC_FILTER, %rdx
	syscall
	.globl ward_sc_seccomp_ip
ward_sc_seccomp_ip:
	test %rax, %rax
	jnz ward_sc_bad
	/* The first stop: a trapped syscall, where the sentry gives the guest registers. */
	mov $39, %eax
	syscall
	jmp ward_sc_bad

	/* The factory's first instruction once it is confined: the sentry takes over. */
	.globl ward_sc_entry
ward_sc_entry:
	int3
	jmp ward_sc_entry

	.balign 8
ward_sc_one:
	.quad 1
	.globl ward_sc_futex_timeout
ward_sc_futex_timeout:
	.quad 0, 50000000

	.balign 4096
	.globl ward_sc_end
ward_sc_end:
	.section .note.GNU-stack, "", @progbits
