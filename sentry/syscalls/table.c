/* The syscall table and dispatch: every guest system call arrives here. */
#include "sentry/syscalls/syscalls.h"

#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define NR_SYSCALLS 512

#define ENTRY(name) [SYS_##name] = sys_##name,
static const syscall_fn syscall_table[NR_SYSCALLS] = {SYSCALL_LIST(ENTRY)};
#undef ENTRY

const char *syscall_name(long nr)
{
	static char buf[64];
	char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, (int)nr);
	snprintf(buf, sizeof(buf), "%s", name ? name : "unknown");
	free(name);
	return buf;
}

/* True when the trap came from `int $0x80` (the i386 ABI), which ward does not serve:
 * the guest gets -ENOSYS, and the syscall number is never read as an x86-64 one. */
static bool from_int80(struct task *t)
{
	const uint8_t *insn = user_ptr(t->tg->mm, t->regs.rip - 2, 2, 0);
	return insn && insn[0] == 0xcd && insn[1] == 0x80;
}

static void report_unimplemented(struct kernel *k, long nr)
{
	if (nr >= 0 && nr < NR_SYSCALLS) {
		if (k->enosys_seen[nr / 8] & (1u << (nr % 8)))
			return;
		k->enosys_seen[nr / 8] |= (uint8_t)(1u << (nr % 8));
	}
	kernel_log("unimplemented syscall %ld (%s): returning ENOSYS", nr, syscall_name(nr));
}

void syscall_dispatch(struct task *t)
{
	struct kernel *k = t->k;
	long nr = (long)t->regs.orig_rax;
	const uint64_t a[6] = {t->regs.rdi, t->regs.rsi, t->regs.rdx,
			       t->regs.r10, t->regs.r8, t->regs.r9};
	long r;
	k->current = t;
	if (from_int80(t)) {
		if (!k->enosys_seen[NR_SYSCALLS / 8]) {
			k->enosys_seen[NR_SYSCALLS / 8] = 1;
			kernel_log("i386 system call (int $0x80, eax=%ld) refused: ENOSYS", nr);
		}
		r = -ENOSYS;
	} else if (nr >= 0 && nr < NR_SYSCALLS && syscall_table[nr]) {
		r = syscall_table[nr](t, a);
	} else {
		report_unimplemented(k, nr);
		r = -ENOSYS;
	}
	if (k->debug && r != SYSCALL_BLOCKED)
		kernel_log("[%d] %s(%#llx, %#llx, %#llx) = %ld", t->tid, syscall_name(nr),
			   (unsigned long long)a[0], (unsigned long long)a[1], (unsigned long long)a[2], r);
	k->current = NULL;
	if (r == SYSCALL_BLOCKED) {
		/* A signal that arrived while the task was still running guest code (its kick
		 * not yet seen) must interrupt the wait it just entered, or it waits forever. */
		if (t->state == TASK_BLOCKED && !t->uninterruptible && signal_pending_unblocked(t)) {
			t->interrupted = true;
			task_wake(t, true, t->intr_result);
		}
		return;
	}
	/* The syscall is complete: forget what its re-runs carried over. */
	t->restarting = false;
	t->timed_out = false;
	t->sigwait_set = 0;
	t->deadline = 0;
	t->partial = 0;
	if (r != SYSCALL_NORETURN) {
		t->regs.rax = (uint64_t)r;
		t->syscall_return = true;
	}
	task_make_runnable(t);
}

/* Syscalls a program may try that ward does not serve yet: they return ENOSYS, logged
 * once with their name, like anything missing from the table. */
SYSCALL(rseq)
{
	(void)t;
	(void)a;
	return -ENOSYS;
}
