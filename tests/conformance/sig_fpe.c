/* Integer division by zero raises SIGFPE with si_code FPE_INTDIV and si_addr at the idiv;
 * INT_MIN / -1 traps the same way. The handler skips the instruction via the ucontext. */
#include "conf.h"
#include <limits.h>
#include <signal.h>
#include <sys/ucontext.h>

extern char idiv_site[];
static volatile int hits, code, addr_ok;

static void on_fpe(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;

	(void)sig;
	hits++;
	code = si->si_code;
	addr_ok = si->si_addr == (void *)idiv_site && uc->uc_mcontext.gregs[REG_RIP] == (greg_t)idiv_site;
	uc->uc_mcontext.gregs[REG_RIP] += 2; /* idivl %ecx is 2 bytes */
	uc->uc_mcontext.gregs[REG_RAX] = 12345;
}

__attribute__((noinline, noclone)) static int do_div(int a, int b)
{
	int q;

	__asm__ volatile("cltd\n\t.globl idiv_site\nidiv_site:\n\tidivl %%ecx"
			 : "=a"(q)
			 : "a"(a), "c"(b)
			 : "edx", "cc");
	return q;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_fpe, .sa_flags = SA_SIGINFO };

	(void)argv;
	sigaction(SIGFPE, &sa, NULL);
	printf("FPE_INTDIV=%d\n", FPE_INTDIV);
	printf("100/7=%d\n", do_div(100, 7));
	int q = do_div(10, argc - 1); /* argc is 1: divide by zero */
	printf("10/0: hits=%d code=%d addr-and-rip-at-idiv=%s result-from-handler=%d\n", hits, code,
	       addr_ok ? "yes" : "no", q);
	hits = 0;
	q = do_div(INT_MIN, -argc);
	printf("INT_MIN/-1: hits=%d code=%d addr-and-rip-at-idiv=%s result-from-handler=%d\n", hits,
	       code, addr_ok ? "yes" : "no", q);
	return 0;
}
