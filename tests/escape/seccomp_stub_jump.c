/* Under the seccomp platform the stub's code pages are in the guest's address space and
 * executable: guest code can jump to any of their syscall instructions with registers of
 * its choosing. The filter allows each instruction only its own call (and, where fixed,
 * its arguments); the control thread's instructions only through SECCOMP_RET_TRACE, which
 * gives a guest thread ENOSYS. For every syscall instruction found in the stub pages, a
 * child jumps there with the registers of: openat of the host secret, mprotect making the
 * stub's code writable, mmap of the memory file (host fd 3). Acceptable: an error, the
 * sentry serving the call (it knows no host secret, refuses the stub's pages, and fd 3 is
 * closed in the guest), or the child being killed. An escape: the open or mmap succeeding,
 * or the code page becoming writable. Under ptrace nothing is mapped there: no sites. */
#include "escape.h"
#include "seccomp_stub.h"
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

struct result {
	int done;
	long rax;
	int sig;
	int code_writable;
};
static struct result *res;
static sigjmp_buf back;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	res->rax = ((ucontext_t *)uc)->uc_mcontext.gregs[REG_RAX];
	res->sig = sig;
	res->done = 1;
	siglongjmp(back, sig);
}

static void on_probe_fault(int sig)
{
	siglongjmp(back, sig);
}

/* Jumps to 'site' with rax = nr and the argument registers; comes back by `ret` or by a
 * signal. */
static long jump(uintptr_t site, long nr, long a0, long a1, long a2, long a3, long a4, long a5,
		 void *scratch)
{
	register long r10 __asm__("r10") = a3;
	register long r8 __asm__("r8") = a4;
	register long r9 __asm__("r9") = a5;
	long ret;
	__asm__ volatile("push %%rbx\n\t"
			 "mov %[scratch], %%rbx\n\t"
			 "lea 1f(%%rip), %%rcx\n\t"
			 "push %%rcx\n\t"
			 "jmp *%[site]\n\t"
			 "1: pop %%rbx"
			 : "=a"(ret), "+r"(r10), "+r"(r8), "+r"(r9)
			 : [site] "r"(site), [scratch] "r"(scratch), "a"(nr), "D"(a0), "S"(a1), "d"(a2)
			 : "rcx", "r11", "memory");
	return ret;
}

static int writable(uintptr_t page)
{
	struct sigaction sa = {.sa_handler = on_probe_fault, .sa_flags = SA_NODEFER};
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	if (sigsetjmp(back, 1) == 0) {
		volatile uint8_t *p = (volatile uint8_t *)page;
		uint8_t v = *p;
		*p = v;
		return 1;
	}
	return 0;
}

static void child(uintptr_t site, int attempt, const char *secret)
{
	alarm(10);
	close(3);
	struct sigaction sa = {.sa_sigaction = on_signal, .sa_flags = SA_SIGINFO | SA_NODEFER};
	int sigs[] = {SIGSEGV, SIGBUS, SIGTRAP, SIGILL, SIGFPE};
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	/* What the handler code after some sites reads through rbx: a harmless header whose
	 * fs/gs bases are ours, so a `wrfsbase` from it changes nothing. */
	static uint64_t scratch[512] __attribute__((aligned(64)));
	__asm__ volatile("rdfsbase %0" : "=r"(scratch[4]));
	__asm__ volatile("rdgsbase %0" : "=r"(scratch[5]));
	if (sigsetjmp(back, 1) == 0) {
		long r;
		if (attempt == 0)
			r = jump(site, SYS_openat, -100, (long)secret, 0, 0, 0, 0, scratch);
		else if (attempt == 1)
			r = jump(site, SYS_mprotect, (long)SC_CODE, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, 0, 0, 0,
				 scratch);
		else
			r = jump(site, SYS_mmap, 0x10000000L, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, 3, 0,
				 scratch);
		res->rax = r;
		res->done = 1;
	}
	if (attempt == 1)
		res->code_writable = writable(SC_CODE) || writable(SC_STUB_CODE);
	_exit(0);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		printf("usage: %s SECRET\n", argv[0]);
		return 2;
	}
	res = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED) {
		ESC_FAIL("mmap: %s", esc_errname(errno));
		return esc_finish();
	}
	uintptr_t sites[64];
	int nsites = 0;
	const uintptr_t pages[] = {SC_STUB_CODE, SC_CODE};
	struct sigaction sa = {.sa_handler = on_probe_fault, .sa_flags = SA_NODEFER};
	sigaction(SIGSEGV, &sa, NULL);
	for (unsigned p = 0; p < 2; p++) {
		if (sigsetjmp(back, 1) != 0) {
			printf("page %#lx: not readable\n", (unsigned long)pages[p]);
			continue;
		}
		const volatile uint8_t *b = (const volatile uint8_t *)pages[p];
		for (unsigned i = 0; i + 1 < 4096 && nsites < 64; i++)
			if (b[i] == 0x0f && b[i + 1] == 0x05)
				sites[nsites++] = pages[p] + i;
	}
	printf("syscall instructions found in the stub pages: %s\n", nsites ? "some" : "none");
	static const char *what[] = {"openat of the secret", "mprotect of the stub code", "mmap of fd 3"};
	for (int s = 0; s < nsites; s++) {
		for (int a = 0; a < 3; a++) {
			memset(res, 0, sizeof(*res));
			fflush(stdout);
			pid_t pid = fork();
			if (pid == 0)
				child(sites[s], a, argv[1]);
			int status = 0;
			if (pid < 0 || waitpid(pid, &status, 0) != pid) {
				ESC_FAIL("fork/wait: %s", esc_errname(errno));
				continue;
			}
			if (WIFSIGNALED(status))
				printf("site %d, %s: killed by SIG%s\n", s, what[a], sigabbrev_np(WTERMSIG(status)));
			else if (res->sig)
				printf("site %d, %s: SIG%s, rax %s\n", s, what[a], sigabbrev_np(res->sig),
				       res->rax < 0 && res->rax > -4096 ? esc_errname(-res->rax) : "not an error");
			else
				printf("site %d, %s: returned %s\n", s, what[a],
				       res->rax < 0 && res->rax > -4096 ? esc_errname(-res->rax) : "not an error");
			if (res->code_writable)
				ESC_FAIL("%s at site %d: the stub's code page became writable", what[a], s);
			if (res->done && !res->sig && res->rax >= 0 && a != 1)
				ESC_FAIL("%s at site %d returned %ld", what[a], s, res->rax);
			if (res->done && res->sig == SIGTRAP && res->rax >= 0 && a != 1)
				ESC_FAIL("%s at site %d gave %ld before the trap", what[a], s, res->rax);
		}
	}
	printf("every jump stopped\n");
	return esc_finish();
}
