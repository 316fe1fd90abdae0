/* Faulting and trapping instructions become the right signals: ud2 -> SIGILL ILL_ILLOPN at
 * the instruction, int3 -> SIGTRAP with RIP after it, hlt (privileged) -> SIGSEGV SI_KERNEL.
 * Handlers resume execution by editing RIP in the ucontext. */
#include "conf.h"
#include <signal.h>
#include <stdint.h>
#include <sys/ucontext.h>

extern char ud2_site[], int3_site[], hlt_site[];

static volatile int sig_seen, code_seen;
static volatile int addr_is_site, rip_is_site, rip_after_site;
static char *expect_site;

static void handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	char *rip = (char *)uc->uc_mcontext.gregs[REG_RIP];

	sig_seen = sig;
	code_seen = si->si_code;
	addr_is_site = si->si_addr == expect_site;
	rip_is_site = rip == expect_site;
	rip_after_site = rip == expect_site + 1;
	if (sig == SIGILL)
		uc->uc_mcontext.gregs[REG_RIP] += 2; /* skip ud2 */
	else if (sig == SIGSEGV)
		uc->uc_mcontext.gregs[REG_RIP] += 1; /* skip hlt */
	/* int3 already reports RIP after the instruction */
}

static void report(const char *label)
{
	printf("%s: signal=%s code=%d addr-is-insn=%s rip-at-insn=%s rip-after-insn=%s\n", label,
	       sig_seen ? sigabbrev_np(sig_seen) : "none", code_seen, addr_is_site ? "yes" : "no",
	       rip_is_site ? "yes" : "no", rip_after_site ? "yes" : "no");
	sig_seen = code_seen = 0;
}

__attribute__((noinline, noclone)) static void do_ud2(void)
{
	__asm__ volatile(".globl ud2_site\nud2_site:\n\tud2" ::: "memory");
}

__attribute__((noinline, noclone)) static void do_int3(void)
{
	__asm__ volatile(".globl int3_site\nint3_site:\n\tint3" ::: "memory");
}

__attribute__((noinline, noclone)) static void do_hlt(void)
{
	__asm__ volatile(".globl hlt_site\nhlt_site:\n\thlt" ::: "memory");
}

int main(void)
{
	struct sigaction sa = { .sa_sigaction = handler, .sa_flags = SA_SIGINFO };

	sigaction(SIGILL, &sa, NULL);
	sigaction(SIGTRAP, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	printf("ILL_ILLOPN=%d SI_KERNEL=%d\n", ILL_ILLOPN, SI_KERNEL);

	expect_site = ud2_site;
	do_ud2();
	report("ud2");
	expect_site = int3_site;
	do_int3();
	report("int3");
	expect_site = hlt_site;
	do_hlt();
	report("hlt");
	expect_site = ud2_site;
	do_ud2();
	report("ud2 again");
	return 0;
}
