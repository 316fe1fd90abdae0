/* The stub's own pages sit in every guest address space under the ptrace platform: the
 * code page (host syscalls are allowed only from there) and, after it, the batch page
 * from which the stub's control thread runs the sentry's mmap/munmap/mprotect requests.
 * A guest that could write the batch page, remap either page or run host syscalls from
 * the code page would reach the host. Every attempt must fail: writes fault, the memory
 * calls are refused, and a syscall executed from the stub page is still served by the
 * sentry (it cannot open the host secret). Under a platform without such pages the writes
 * fault anyway (nothing is mapped there) and the test still holds. */
#include "escape.h"
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>

#define STUB_CODE 0x7ffbff000000UL
#define STUB_BATCH (STUB_CODE + 0x1000)

static sigjmp_buf back;
static volatile long trapped_rax;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	trapped_rax = ((ucontext_t *)uc)->uc_mcontext.gregs[REG_RAX];
	siglongjmp(back, sig);
}

static void try_write(const char *what, uintptr_t addr)
{
	int sig = sigsetjmp(back, 1);
	if (sig == 0) {
		*(volatile uint64_t *)addr = 0x4141414141414141ull;
		ESC_FAIL("writing the %s at %#lx succeeded", what, (unsigned long)addr);
		return;
	}
	printf("write to the %s: signal %s\n", what, sigabbrev_np(sig));
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		printf("usage: %s SECRET\n", argv[0]);
		return 2;
	}
	struct sigaction sa = {.sa_sigaction = on_signal, .sa_flags = SA_SIGINFO | SA_NODEFER};
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGTRAP, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);

	try_write("stub batch page", STUB_BATCH);
	try_write("batch page's operation list", STUB_BATCH + 8);
	try_write("stub code page", STUB_CODE);

	long r = esc_syscall6(SYS_mprotect, (long)STUB_BATCH, 4096, PROT_READ | PROT_WRITE, 0, 0, 0);
	esc_expect_denied("mprotect of the batch page", r == 0 ? 0 : r);
	r = esc_syscall6(SYS_mmap, (long)STUB_BATCH, 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	esc_expect_denied("mmap MAP_FIXED over the batch page", r == (long)STUB_BATCH ? 0 : r);
	r = esc_syscall6(SYS_mmap, (long)STUB_CODE, 8192, PROT_READ | PROT_WRITE | PROT_EXEC,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	esc_expect_denied("mmap MAP_FIXED over the stub pages", r == (long)STUB_CODE ? 0 : r);
	r = esc_syscall6(SYS_munmap, (long)STUB_CODE, 8192, 0, 0, 0, 0);
	/* munmap of nothing the guest has is a no-op success in Linux; what matters is that
	 * the pages are still there and still not writable. */
	printf("munmap of the stub pages: %s\n", r == 0 ? "0" : esc_errname(-r));
	try_write("stub batch page after munmap", STUB_BATCH);

	/* Jump to the stub page's first instruction (a syscall under ptrace) with the
	 * registers of openat(AT_FDCWD, secret, O_RDONLY); the trap after it comes back here. */
	int sig = sigsetjmp(back, 1);
	if (sig == 0) {
		register long r10 __asm__("r10") = 0;
		__asm__ volatile("lea 1f(%%rip), %%rcx\n\t"
				 "push %%rcx\n\t"
				 "jmp *%[target]\n\t"
				 "1:"
				 :
				 : [target] "r"(STUB_CODE), "a"((long)SYS_openat), "D"((long)-100),
				   "S"(argv[1]), "d"(0L), "r"(r10)
				 : "rcx", "r11", "memory");
		printf("the stub page returned without a trap\n");
	} else {
		long ret = trapped_rax;
		printf("jump into the stub page: signal %s\n", sigabbrev_np(sig));
		if (sig == SIGTRAP || sig == SIGSEGV || sig == SIGILL) {
			if (ret >= 0 && ret < 4096 && sig == SIGTRAP)
				ESC_FAIL("openat from the stub page returned fd %ld", ret);
			else
				printf("openat from the stub page: %s\n",
				       ret < 0 ? esc_errname(-ret) : "no result");
		}
	}
	return esc_finish();
}
