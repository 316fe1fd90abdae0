/* Signal frames and rt_sigreturn: a handler that clobbers registers leaves the interrupted
 * code's general-purpose and SSE registers intact; a handler that edits its ucontext
 * (a GPR, RAX, and an XMM register in the fpstate) changes them on return. The signal is sent
 * with a raw syscall instruction so the interrupted state is fully known. */
#include "conf.h"
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <unistd.h>

struct regs {
	uint64_t rax, rdi, rsi, rdx, r8, r9, r10, rbx, r12, r13, r14, r15;
	uint64_t xmm0[2], xmm7[2], xmm15[2];
};

static struct regs out;
static const uint64_t xin[6] = { 0x0123456789abcdefULL, 0xfedcba9876543210ULL, 0x7777777777777777ULL,
				 0x1212121212121212ULL, 0xa5a5a5a5a5a5a5a5ULL, 0x5a5a5a5a5a5a5a5aULL };
static volatile int handled;

static void clobber(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	handled++;
	__asm__ volatile("movabs $0xdeaddeaddeaddead, %%rdi\n\t"
			 "mov %%rdi, %%rsi\n\t"
			 "mov %%rdi, %%rdx\n\t"
			 "mov %%rdi, %%r8\n\t"
			 "mov %%rdi, %%r9\n\t"
			 "mov %%rdi, %%r10\n\t"
			 "mov %%rdi, %%rbx\n\t"
			 "mov %%rdi, %%r12\n\t"
			 "mov %%rdi, %%r13\n\t"
			 "mov %%rdi, %%r14\n\t"
			 "mov %%rdi, %%r15\n\t"
			 "pcmpeqd %%xmm0, %%xmm0\n\t"
			 "pcmpeqd %%xmm7, %%xmm7\n\t"
			 "pcmpeqd %%xmm15, %%xmm15\n\t" ::
				 : "rdi", "rsi", "rdx", "r8", "r9", "r10", "rbx", "r12", "r13", "r14",
				   "r15", "xmm0", "xmm7", "xmm15", "memory");
}

static void edit(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;

	(void)sig;
	(void)si;
	handled++;
	uc->uc_mcontext.gregs[REG_R12] = 0x5555;
	uc->uc_mcontext.gregs[REG_RAX] = 42;
	uc->uc_mcontext.gregs[REG_R9] = 0x9999;
	if (uc->uc_mcontext.fpregs)
		uc->uc_mcontext.fpregs->_xmm[0].element[0] = 0x77777777;
}

/* Loads known values, sends sig to this thread with a raw syscall, stores what is left. */
static void run(int sig)
{
	uint64_t nr = SYS_tgkill;

	__asm__ volatile("movdqu %[x0], %%xmm0\n\t"
			 "movdqu %[x1], %%xmm7\n\t"
			 "movdqu %[x2], %%xmm15\n\t"
			 "movabs $0x0808080808080808, %%r8\n\t"
			 "movabs $0x0909090909090909, %%r9\n\t"
			 "movabs $0x1010101010101010, %%r10\n\t"
			 "movabs $0xb0b0b0b0b0b0b0b0, %%rbx\n\t"
			 "movabs $0x1212121212121212, %%r12\n\t"
			 "movabs $0x1313131313131313, %%r13\n\t"
			 "movabs $0x1414141414141414, %%r14\n\t"
			 "movabs $0x1515151515151515, %%r15\n\t"
			 "syscall\n\t"
			 "mov %%rdi, %[ordi]\n\t"
			 "mov %%rsi, %[orsi]\n\t"
			 "mov %%rdx, %[ordx]\n\t"
			 "mov %%r8, %[or8]\n\t"
			 "mov %%r9, %[or9]\n\t"
			 "mov %%r10, %[or10]\n\t"
			 "mov %%rbx, %[orbx]\n\t"
			 "mov %%r12, %[or12]\n\t"
			 "mov %%r13, %[or13]\n\t"
			 "mov %%r14, %[or14]\n\t"
			 "mov %%r15, %[or15]\n\t"
			 "movdqu %%xmm0, %[ox0]\n\t"
			 "movdqu %%xmm7, %[ox7]\n\t"
			 "movdqu %%xmm15, %[ox15]\n\t"
			 : "+a"(nr), [ordi] "=m"(out.rdi), [orsi] "=m"(out.rsi), [ordx] "=m"(out.rdx),
			   [or8] "=m"(out.r8), [or9] "=m"(out.r9), [or10] "=m"(out.r10),
			   [orbx] "=m"(out.rbx), [or12] "=m"(out.r12), [or13] "=m"(out.r13),
			   [or14] "=m"(out.r14), [or15] "=m"(out.r15), [ox0] "=m"(out.xmm0),
			   [ox7] "=m"(out.xmm7), [ox15] "=m"(out.xmm15)
			 : "D"((uint64_t)getpid()), "S"((uint64_t)gettid()), "d"((uint64_t)sig),
			   [x0] "m"(xin[0]), [x1] "m"(xin[2]), [x2] "m"(xin[4])
			 : "rcx", "r11", "r8", "r9", "r10", "rbx", "r12", "r13", "r14", "r15", "xmm0",
			   "xmm7", "xmm15", "memory");
	out.rax = nr;
}

int main(void)
{
	struct sigaction sa = { .sa_sigaction = clobber, .sa_flags = SA_SIGINFO };

	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_sigaction = edit;
	sigaction(SIGUSR2, &sa, NULL);

	run(SIGUSR1);
	printf("clobbering handler ran: %s\n", handled == 1 ? "yes" : "no");
	printf("  rax (syscall result)=%llu\n", (unsigned long long)out.rax);
	BOOL("  rdi/rsi/rdx (syscall args) preserved",
	     out.rdi == (uint64_t)getpid() && out.rsi == (uint64_t)gettid() && out.rdx == SIGUSR1);
	BOOL("  r8 r9 r10 preserved", out.r8 == 0x0808080808080808ULL && out.r9 == 0x0909090909090909ULL &&
					   out.r10 == 0x1010101010101010ULL);
	BOOL("  rbx r12-r15 preserved", out.rbx == 0xb0b0b0b0b0b0b0b0ULL && out.r12 == 0x1212121212121212ULL &&
					      out.r13 == 0x1313131313131313ULL && out.r14 == 0x1414141414141414ULL &&
					      out.r15 == 0x1515151515151515ULL);
	BOOL("  xmm0 xmm7 xmm15 preserved", out.xmm0[0] == xin[0] && out.xmm0[1] == xin[1] &&
						  out.xmm7[0] == xin[2] && out.xmm7[1] == xin[3] &&
						  out.xmm15[0] == xin[4] && out.xmm15[1] == xin[5]);

	run(SIGUSR2);
	printf("editing handler ran: %s\n", handled == 2 ? "yes" : "no");
	printf("  rax=%llu r12=%#llx r9=%#llx\n", (unsigned long long)out.rax,
	       (unsigned long long)out.r12, (unsigned long long)out.r9);
	printf("  xmm0 low dword=%#llx rest kept=%s\n", (unsigned long long)(out.xmm0[0] & 0xffffffff),
	       (out.xmm0[0] >> 32) == (xin[0] >> 32) && out.xmm0[1] == xin[1] ? "yes" : "no");
	BOOL("  r13 untouched", out.r13 == 0x1313131313131313ULL);
	return 0;
}
