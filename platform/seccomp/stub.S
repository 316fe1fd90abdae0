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

	.section .text.ward_sc_stub, "ax", @progbits
	.balign 4096
	.globl ward_sc_start
ward_sc_start:

	/* handler(signo = rdi, info = rsi, ucontext = rdx) */
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
	movl %edi, SC_H_SIGNO(%rbx)
	mov %rsi, SC_H_INFO(%rbx)
	mov %rdx, SC_H_UCTX(%rbx)
	rdfsbase %rax
	mov %rax, SC_H_FSBASE(%rbx)
	rdgsbase %rax
	mov %rax, SC_H_GSBASE(%rbx)
	/* Post (xchg: a full barrier before reading the sentry's sleep flag). */
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
	mov $202, %eax /* futex(&state, FUTEX_WAIT, SC_POSTED, NULL) */
	lea SC_H_STATE(%rbx), %rdi
	xor %esi, %esi
	mov $SC_POSTED, %edx
	xor %r10d, %r10d
	syscall
	.globl ward_sc_futex_ip
ward_sc_futex_ip:
	jmp 5b
6:	cmpl $SC_ACT_EXIT, SC_H_ACTION(%rbx)
	je 7f
	mov SC_H_FSBASE(%rbx), %rax
	wrfsbase %rax
	mov SC_H_GSBASE(%rbx), %rax
	wrgsbase %rax
	ret /* to ward_sc_restorer */
7:	mov $60, %eax /* exit(0): this thread only */
	xor %edi, %edi
	syscall
	.globl ward_sc_exit_ip
ward_sc_exit_ip:
	.globl ward_sc_bad
ward_sc_bad:
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

	.balign 4096
	.globl ward_sc_end
ward_sc_end:
	.section .note.GNU-stack, "", @progbits
