/* The vector registers and MXCSR a program holds across a system call are still there
 * after it: in a loop of calls from one instruction (which the seccomp platform patches
 * into a jump, leaving the FPU state in the registers), while a timer's handler that
 * clears every vector register interrupts the loop, and in a child forked from one
 * instruction. */
#include "conf.h"
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>

#define NREGS 16
typedef uint8_t vecs[NREGS][16];

static vecs pattern;
static volatile sig_atomic_t alarms;

/* Round toward zero, all exceptions masked: not the default (0x1f80). */
#define ODD_MXCSR 0x7f80u

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
	__asm__ volatile("pxor %%xmm0, %%xmm0\n\tpxor %%xmm1, %%xmm1\n\tpxor %%xmm2, %%xmm2\n\t"
			 "pxor %%xmm3, %%xmm3\n\tpxor %%xmm4, %%xmm4\n\tpxor %%xmm5, %%xmm5\n\t"
			 "pxor %%xmm6, %%xmm6\n\tpxor %%xmm7, %%xmm7\n\tpxor %%xmm8, %%xmm8\n\t"
			 "pxor %%xmm9, %%xmm9\n\tpxor %%xmm10, %%xmm10\n\tpxor %%xmm11, %%xmm11\n\t"
			 "pxor %%xmm12, %%xmm12\n\tpxor %%xmm13, %%xmm13\n\tpxor %%xmm14, %%xmm14\n\t"
			 "pxor %%xmm15, %%xmm15\n\t" ::
				 : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
				   "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
	unsigned def = 0x1f80;
	__asm__ volatile("ldmxcsr %0" ::"m"(def));
}

#define LOAD_ALL                                                                                   \
	"movdqu 0(%[in]), %%xmm0\n\tmovdqu 16(%[in]), %%xmm1\n\tmovdqu 32(%[in]), %%xmm2\n\t"     \
	"movdqu 48(%[in]), %%xmm3\n\tmovdqu 64(%[in]), %%xmm4\n\tmovdqu 80(%[in]), %%xmm5\n\t"    \
	"movdqu 96(%[in]), %%xmm6\n\tmovdqu 112(%[in]), %%xmm7\n\tmovdqu 128(%[in]), %%xmm8\n\t"  \
	"movdqu 144(%[in]), %%xmm9\n\tmovdqu 160(%[in]), %%xmm10\n\tmovdqu 176(%[in]), %%xmm11\n\t" \
	"movdqu 192(%[in]), %%xmm12\n\tmovdqu 208(%[in]), %%xmm13\n\tmovdqu 224(%[in]), %%xmm14\n\t" \
	"movdqu 240(%[in]), %%xmm15\n\tldmxcsr %[mx]\n\t"
#define STORE_ALL                                                                                  \
	"movdqu %%xmm0, 0(%[out])\n\tmovdqu %%xmm1, 16(%[out])\n\tmovdqu %%xmm2, 32(%[out])\n\t"  \
	"movdqu %%xmm3, 48(%[out])\n\tmovdqu %%xmm4, 64(%[out])\n\tmovdqu %%xmm5, 80(%[out])\n\t" \
	"movdqu %%xmm6, 96(%[out])\n\tmovdqu %%xmm7, 112(%[out])\n\tmovdqu %%xmm8, 128(%[out])\n\t" \
	"movdqu %%xmm9, 144(%[out])\n\tmovdqu %%xmm10, 160(%[out])\n\tmovdqu %%xmm11, 176(%[out])\n\t" \
	"movdqu %%xmm12, 192(%[out])\n\tmovdqu %%xmm13, 208(%[out])\n\tmovdqu %%xmm14, 224(%[out])\n\t" \
	"movdqu %%xmm15, 240(%[out])\n\tstmxcsr %[mxo]\n\t"
#define VEC_CLOBBERS                                                                               \
	"xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",   \
		"xmm11", "xmm12", "xmm13", "xmm14", "xmm15"

/* 'n' getppid calls from one syscall instruction with the pattern in the registers,
 * which are then stored in 'out'. */
__attribute__((noinline)) static void getppid_loop(long n, vecs out, unsigned *mxcsr_out)
{
	unsigned mx = ODD_MXCSR, def = 0x1f80;
	__asm__ volatile(LOAD_ALL "1:\n\t"
			 "mov $110, %%eax\n\t"
			 "syscall\n\t"
			 "dec %[n]\n\t"
			 "jnz 1b\n\t" STORE_ALL "ldmxcsr %[def]\n\t"
			 : [n] "+r"(n), [mxo] "=m"(*mxcsr_out)
			 : [in] "r"(pattern), [out] "r"(out), [mx] "m"(mx), [def] "m"(def)
			 : "rax", "rcx", "r11", "memory", VEC_CLOBBERS);
}

/* fork() from one syscall instruction with the pattern in the registers, stored in 'out'
 * right after, in the parent and in the child. */
__attribute__((noinline)) static long fork_with_pattern(vecs out, unsigned *mxcsr_out)
{
	unsigned mx = ODD_MXCSR, def = 0x1f80;
	long ret;
	__asm__ volatile(LOAD_ALL "mov $57, %%eax\n\t"
				  "syscall\n\t" STORE_ALL "ldmxcsr %[def]\n\t"
			 : "=a"(ret), [mxo] "=m"(*mxcsr_out)
			 : [in] "r"(pattern), [out] "r"(out), [mx] "m"(mx), [def] "m"(def)
			 : "rcx", "r11", "memory", VEC_CLOBBERS);
	return ret;
}

static int kept(vecs got, unsigned mxcsr)
{
	return memcmp(got, pattern, sizeof(vecs)) == 0 && mxcsr == ODD_MXCSR;
}

static void loop_with_signals(void)
{
	struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {{0, 300}, {0, 300}};
	setitimer(ITIMER_REAL, &it, NULL);
	int all = 1, rounds = 0;
	for (; rounds < 2000 && (alarms < 20 || rounds < 20); rounds++) {
		vecs got;
		unsigned mx = 0;
		getppid_loop(200, got, &mx);
		all &= kept(got, mx);
	}
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &off, NULL);
	printf("getppid loop: registers kept: %s, handler ran: %s\n", all ? "yes" : "no",
	       alarms > 0 ? "yes" : "no");
}

static void forks(void)
{
	int parent_ok = 1, sum = 0;
	for (int i = 0; i < 6; i++) {
		vecs got;
		unsigned mx = 0;
		long pid = fork_with_pattern(got, &mx);
		if (pid == 0)
			_exit(kept(got, mx) ? 5 : 1);
		parent_ok &= pid > 0 && kept(got, mx);
		int st = 0;
		waitpid((pid_t)pid, &st, 0);
		sum += WIFEXITED(st) ? WEXITSTATUS(st) : 100;
	}
	printf("fork: parent kept its registers: %s, children statuses sum %d\n", parent_ok ? "yes" : "no",
	       sum);
}

int main(void)
{
	for (int r = 0; r < NREGS; r++)
		for (int b = 0; b < 16; b++)
			pattern[r][b] = (uint8_t)(r * 16 + b + 1);
	loop_with_signals();
	forks();
	return 0;
}
