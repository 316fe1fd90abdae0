/* A seccomp-platform stub depends on its host signal handlers (SIGSYS and the fault
 * signals) and its alternate stack. The guest's rt_sigaction, sigprocmask and sigaltstack
 * are system calls, so they are trapped and served by the sentry for the guest's own
 * signal state: ignoring or blocking SIGSYS, or pointing the alternate stack at guest
 * memory, must leave the host handlers alone (calls keep being served, the secret stays
 * unreadable). mprotect and mmap over the platform's pages (code page, message areas)
 * are refused by the sentry, and the code page cannot be written. */
#include "escape.h"
#include "seccomp_stub.h"
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static sigjmp_buf back;

static void on_fault(int sig)
{
	siglongjmp(back, sig);
}

struct k_sigaction {
	uint64_t handler, flags, restorer, mask;
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		printf("usage: %s SECRET\n", argv[0]);
		return 2;
	}
	struct sigaction sa = {.sa_handler = on_fault, .sa_flags = SA_NODEFER};
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);

	struct k_sigaction ign = {(uint64_t)SIG_IGN, 0, 0, 0};
	long r = esc_syscall6(SYS_rt_sigaction, SIGSYS, (long)&ign, 0, 8, 0, 0);
	printf("rt_sigaction(SIGSYS, SIG_IGN): %s\n", r == 0 ? "0" : esc_errname(-r));
	uint64_t all = ~0ull;
	r = esc_syscall6(SYS_rt_sigprocmask, SIG_BLOCK, (long)&all, 0, 8, 0, 0);
	printf("rt_sigprocmask(block all): %s\n", r == 0 ? "0" : esc_errname(-r));
	static char stack[65536];
	stack_t ss = {.ss_sp = stack, .ss_size = sizeof(stack)};
	r = esc_syscall6(SYS_sigaltstack, (long)&ss, 0, 0, 0, 0, 0);
	printf("sigaltstack(guest memory): %s\n", r == 0 ? "0" : esc_errname(-r));
	for (int i = 0; i < 100; i++)
		if (syscall(SYS_getppid) < 0)
			ESC_FAIL("getppid failed after the signal changes");
	esc_expect_denied("open of the host secret", open(argv[1], O_RDONLY) < 0 ? -errno : 0);
	esc_syscall6(SYS_rt_sigprocmask, SIG_UNBLOCK, (long)&all, 0, 8, 0, 0);

	const struct {
		const char *what;
		uintptr_t addr;
	} pages[] = {{"stub code page", SC_STUB_CODE}, {"handler code page", SC_CODE},
		     {"first message area", SC_MSG_BASE}};
	for (unsigned i = 0; i < 3; i++) {
		r = esc_syscall6(SYS_mprotect, (long)pages[i].addr, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, 0,
				 0, 0);
		char what[96];
		snprintf(what, sizeof(what), "mprotect RWX of the %s", pages[i].what);
		esc_expect_denied(what, r);
		r = esc_syscall6(SYS_mmap, (long)pages[i].addr, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		snprintf(what, sizeof(what), "mmap MAP_FIXED over the %s", pages[i].what);
		esc_expect_denied(what, r == (long)pages[i].addr ? 0 : r);
	}
	for (unsigned i = 0; i < 2; i++) {
		int sig = sigsetjmp(back, 1);
		if (sig == 0) {
			*(volatile uint8_t *)pages[i].addr = 0xcc;
			ESC_FAIL("writing the %s succeeded", pages[i].what);
		} else {
			printf("write to the %s: signal %s\n", pages[i].what, sigabbrev_np(sig));
		}
	}
	return esc_finish();
}
