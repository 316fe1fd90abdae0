/* The stub: the only code a stub process contains besides guest mappings.
 *
 * It is copied by the sentry to a fixed page (STUB_BASE) and entered by a freshly forked
 * child, which unmaps everything else (the sentry's memory, the host vDSO and vvar) and
 * stops at int3. From then on the sentry drives it with ptrace: to run a host syscall in
 * the stub it points rip at ward_stub_syscall, which traps straight back with int3. */
	.section .text.ward_stub, "ax", @progbits
	.balign 4096
	.globl ward_stub_start
ward_stub_start:
	.globl ward_stub_syscall
ward_stub_syscall:
	syscall
	int3
	jmp ward_stub_syscall

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
