/* mprotect changes what the page allows; a forbidden access raises SIGSEGV with si_code
 * SEGV_ACCERR (or SEGV_MAPERR when unmapped) and si_addr exactly the faulting address. */
#include "conf.h"
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

static sigjmp_buf env;
static volatile siginfo_t got;

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

/* Tries a write (or read, or call) at p; reports whether it faulted and how. */
static void probe(const char *label, volatile char *p, int kind)
{
	memset((void *)&got, 0, sizeof(got));
	if (sigsetjmp(env, 1) == 0) {
		if (kind == 0)
			*p = 'w';
		else if (kind == 1)
			(void)*p;
		else
			((void (*)(void))p)();
		printf("%s: no fault\n", label);
	} else {
		printf("%s: SIGSEGV signo=%d code=%s addr-is-target=%s\n", label, got.si_signo,
		       code_name(got.si_code), got.si_addr == (void *)p ? "yes" : "no");
	}
}

int main(void)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
	sigaction(SIGSEGV, &sa, NULL);

	char *m = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(m, 'a', 3 * pg);
	probe("write RW page", m + 10, 0);
	CHECK("mprotect page 1 PROT_READ", mprotect(m + pg, pg, PROT_READ));
	probe("read RO page", m + pg + 5, 1);
	probe("write RO page", m + pg + 123, 0);
	BOOL("  data unchanged", m[pg + 123] == 'a');
	probe("write page 0 still RW", m + 7, 0);
	probe("write page 2 still RW", m + 2 * pg + 7, 0);
	CHECK("mprotect page 1 PROT_NONE", mprotect(m + pg, pg, PROT_NONE));
	probe("read PROT_NONE page", m + pg + 100, 1);
	CHECK("mprotect back to RW", mprotect(m + pg, pg, PROT_READ | PROT_WRITE));
	probe("write after restoring", m + pg + 1, 0);
	BOOL("  contents preserved across PROT_NONE", m[pg + 2] == 'a');
	CHECK("mprotect whole range RO", mprotect(m, 3 * pg, PROT_READ));
	probe("write last byte", m + 3 * pg - 1, 0);

	munmap(m + 2 * pg, pg);
	probe("read unmapped page", m + 2 * pg + 8, 1);
	probe("write NULL+16", (char *)16, 0);

	/* Code pages: an executable page runs; a non-executable one faults on fetch. */
	unsigned char *code = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	code[0] = 0xc3; /* ret */
	probe("call into RW (non-exec) page", (char *)code, 2);
	CHECK("mprotect PROT_READ|PROT_EXEC", mprotect(code, pg, PROT_READ | PROT_EXEC));
	probe("call into RX page", (char *)code, 2);
	probe("write RX page", (char *)code + 1, 0);

	CHECK("mprotect unaligned", mprotect(m + 1, pg, PROT_READ));
	/* A fresh hole: nothing is mapped between the munmap and the checks. */
	char *h = mmap(NULL, 3 * pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(h + pg, 2 * pg);
	CHECK("mprotect unmapped", mprotect(h + pg, pg, PROT_READ));
	CHECK("mprotect partly unmapped", mprotect(h, 2 * pg, PROT_READ | PROT_WRITE));
	probe("write first page after failed mprotect", h + 1, 0);
	CHECK("mprotect bad prot bits", mprotect(m, pg, 0x100));
	CHECK("mprotect length 0", mprotect(m, 0, PROT_READ));
	return 0;
}
