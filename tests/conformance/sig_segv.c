/* SIGSEGV from a NULL write is caught, si_code/si_addr describe it, and siglongjmp out of the
 * handler works repeatedly (sigsetjmp saved the mask). A non-canonical address faults with
 * SI_KERNEL and si_addr 0. */
#include "conf.h"
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>

static sigjmp_buf env;
static siginfo_t got;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	got = *si;
	siglongjmp(env, 1);
}

static const char *code_name(int c)
{
	switch (c) {
	case SEGV_MAPERR: return "SEGV_MAPERR";
	case SEGV_ACCERR: return "SEGV_ACCERR";
	case SI_KERNEL: return "SI_KERNEL";
	}
	return "other";
}

static void attempt(const char *label, volatile int *p)
{
	memset(&got, 0, sizeof(got));
	if (sigsetjmp(env, 1) == 0) {
		*p = 1;
		printf("%s: no fault\n", label);
		return;
	}
	printf("%s: caught signo=%s code=%s addr-is-target=%s addr-is-null=%s\n", label,
	       sigabbrev_np(got.si_signo), code_name(got.si_code), got.si_addr == (void *)p ? "yes" : "no",
	       got.si_addr == NULL ? "yes" : "no");
}

int main(void)
{
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };

	CHECK("sigaction SIGSEGV", sigaction(SIGSEGV, &sa, NULL));
	attempt("NULL write", (volatile int *)0);
	attempt("NULL write again", (volatile int *)0);
	attempt("write at 0x1000", (volatile int *)0x1000);
	attempt("write non-canonical", (volatile int *)0x8000000000000000ULL);
	attempt("NULL write a third time", (volatile int *)0);
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	BOOL("SIGSEGV unblocked after siglongjmp", !sigismember(&cur, SIGSEGV));
	return 0;
}
