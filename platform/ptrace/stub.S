/* The stub: the only code a stub process contains besides guest mappings.
 *
 * It is copied by the sentry to a fixed page (STUB_BASE) and entered by a freshly forked
 * child, which unmaps everything else (the sentry's memory, the host vDSO and vvar) and
 * stops at int3. From then on the sentry drives it with ptrace: to run a host syscall in
 * the stub it points rip at ward_stub_syscall, which traps straight back with int3; to run
 * a batch of them (the address-space operations queued since the stub last ran), at
 * ward_stub_batch, which works through the batch page that follows the code page. */
	.section .text.ward_stub, "ax", @progbits
	.balign 4096
	.globl ward_stub_start
ward_stub_start:
	.globl ward_stub_syscall
ward_stub_syscall:
	syscall
	int3
	jmp ward_stub_syscall

	/* The batch page: a count, then {nr, a0..a5} entries of 8 bytes each. Runs entries
	 * until one fails; stops with r14 = entries done, rax = the last result. */
	.globl ward_stub_batch
ward_stub_batch:
	lea ward_stub_end(%rip), %rbx
	mov (%rbx), %r12
	lea 8(%rbx), %r13
	xor %r14d, %r14d
1:	cmp %r12, %r14
	jae 2f
	mov (%r13), %rax
	mov 8(%r13), %rdi
	mov 16(%r13), %rsi
	mov 24(%r13), %rdx
	mov 32(%r13), %r10
	mov 40(%r13), %r8
	mov 48(%r13), %r9
	syscall
	.globl ward_stub_batch_ip
ward_stub_batch_ip:
	cmp $-4095, %rax
	jae 2f
	add $56, %r13
	inc %r14
	jmp 1b
2:	int3
	jmp ward_stub_batch

	.globl ward_stub_entry
ward_stub_entry:
	/* munmap(0, stub_start) */
	xor %edi, %edi
	lea ward_stub_start(%rip), %rsi
	mov $11, %eax
	syscall
	/* munmap(stub_end, TASK_SIZE - stub_end) */
	lea ward_stub_end(%rip), %rdi
	mov $0x7ffffffff000, %rsi
	sub %rdi, %rsi
	mov $11, %eax
	syscall
1:	int3
	jmp 1b

	.balign 4096
	.globl ward_stub_end
ward_stub_end:
	.section .note.GNU-stack, "", @progbits
