/* Syscall patching (seccomp platform) adds an entry to the stub's code that guest code
 * can jump to with any registers: it finds the thread's message area through %gs and
 * posts a syscall there without a trap. A guest can point %gs at memory of its own with
 * a forged area, at nothing, or at another thread's area, and jump in with a syscall of
 * its choosing (openat of the host secret, mprotect of the stub's code). Acceptable: an
 * error, the sentry serving the call as the guest's own (it knows no host secret and
 * refuses the stub's pages), the thread waiting forever in its forged area until a
 * signal ends it, or the child being killed. An escape: the secret read, the stub's code
 * writable. The sandbox must keep running (the parent reports every attempt).
 * Under ptrace no entry exists and the test only says so. */
#include "escape.h"
#include "seccomp_stub.h"
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define SELF_OFF 64 /* platform/seccomp/layout.h SC_H_SELF */

static uintptr_t entry;
static sigjmp_buf back;

static void on_probe_fault(int sig)
{
	siglongjmp(back, sig);
}
static const char *secret;

/* Jumps to the entry as a patched site's thunk does: eax = nr, rcx = where to return. */
static long enter(long nr, long a0, long a1, long a2)
{
	long ret;
	__asm__ volatile("lea 1f(%%rip), %%rcx\n\t"
			 "jmp *%[entry]\n\t"
			 "1:"
			 : "=a"(ret)
			 : [entry] "r"(entry), "a"(nr), "D"(a0), "S"(a1), "d"(a2)
			 : "rcx", "r11", "memory");
	return ret;
}

static void set_gs(uintptr_t v)
{
	__asm__ volatile("wrgsbase %0" ::"r"(v) : "memory");
}

static uintptr_t get_gs(void)
{
	uintptr_t v;
	__asm__ volatile("rdgsbase %0" : "=r"(v));
	return v;
}

static uint8_t forged[8192] __attribute__((aligned(4096)));

static void check_open(const char *what, long fd)
{
	if (fd < 0) {
		printf("%s: %s\n", what, esc_errname(-fd));
		return;
	}
	char buf[64] = {0};
	long n = read((int)fd, buf, sizeof(buf) - 1);
	if (n > 0 && strstr(buf, "SECRET"))
		ESC_FAIL("%s: read the host secret", what);
	else
		printf("%s: opened something that is not the secret\n", what);
}

static void *other_thread(void *arg)
{
	int *p = arg;
	char c;
	/* Blocks in the sentry: its area holds its stop while the main thread pokes it. */
	if (read(p[0], &c, 1) < 0)
		return NULL;
	return NULL;
}

static void attempt(int a)
{
	alarm(3);
	switch (a) {
	case 0: { /* %gs at a forged area of the guest's own */
		uintptr_t self = (uintptr_t)forged;
		memcpy(forged + SELF_OFF, &self, sizeof(self));
		set_gs(self);
		check_open("forged area, openat", enter(SYS_openat, -100, (long)secret, O_RDONLY));
		break;
	}
	case 1: /* %gs at nothing */
		set_gs(0x1000);
		check_open("no area, openat", enter(SYS_openat, -100, (long)secret, O_RDONLY));
		break;
	case 2: { /* %gs at nothing, mprotect of the stub's code */
		set_gs(0x1000);
		long r = enter(SYS_mprotect, (long)SC_CODE, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
		printf("no area, mprotect of the stub code: %s\n", r < 0 ? esc_errname(-r) : "0");
		break;
	}
	case 3: { /* %gs at another thread's area, while that thread is stopped */
		int p[2];
		if (pipe(p) < 0)
			break;
		pthread_t th;
		uintptr_t mine = get_gs();
		pthread_create(&th, NULL, other_thread, p);
		usleep(100000);
		/* The other thread's area is one of the first few after ours. */
		for (int i = 1; i <= 4; i++) {
			uintptr_t area = mine + (uintptr_t)i * SC_MSG_SIZE;
			set_gs(area);
			long r = enter(SYS_getppid, 0, 0, 0);
			set_gs(mine);
			printf("another thread's area: returned %s\n", r < 0 ? esc_errname(-r) : "a value");
			fflush(stdout);
		}
		if (write(p[1], "x", 1) < 0)
			break;
		pthread_join(th, NULL);
		break;
	}
	}
	fflush(stdout);
	_exit(0);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		printf("usage: %s SECRET\n", argv[0]);
		return 2;
	}
	secret = argv[1];
	/* The entry starts with rdgsbase %r11 (f3 49 0f ae cb). Under ptrace nothing is
	 * mapped there: the probe faults. */
	struct sigaction sa = {.sa_handler = on_probe_fault, .sa_flags = SA_NODEFER};
	sigaction(SIGSEGV, &sa, NULL);
	if (sigsetjmp(back, 1) == 0) {
		const volatile uint8_t *b = (const volatile uint8_t *)SC_CODE;
		for (unsigned i = 0; i + 5 <= 4096 && !entry; i++)
			if (b[i] == 0xf3 && b[i + 1] == 0x49 && b[i + 2] == 0x0f && b[i + 3] == 0xae && b[i + 4] == 0xcb)
				entry = SC_CODE + i;
	}
	signal(SIGSEGV, SIG_DFL);
	if (!entry) {
		printf("no patch entry here (not the seccomp platform)\n");
		return esc_finish();
	}
	printf("patch entry found\n");
	for (int a = 0; a < 4; a++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0)
			attempt(a);
		int status;
		if (pid < 0 || waitpid(pid, &status, 0) != pid) {
			ESC_FAIL("fork/wait: %s", esc_errname(errno));
			continue;
		}
		if (WIFSIGNALED(status))
			printf("attempt %d: killed by SIG%s\n", a, sigabbrev_np(WTERMSIG(status)));
		else
			printf("attempt %d: exited %d\n", a, WEXITSTATUS(status));
	}
	/* The sandbox still serves this process. */
	if (getppid() < 0 || write(1, "", 0) < 0)
		ESC_FAIL("the sandbox stopped serving the test");
	printf("every attempt stopped\n");
	return esc_finish();
}
