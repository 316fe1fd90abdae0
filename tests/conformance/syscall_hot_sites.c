/* Syscalls made again and again from the same instruction (what the seccomp platform
 * patches into jumps, sentry/kernel/syscall_patch.c) behave as they do natively: blocking
 * reads interrupted by timer signals restart (SA_RESTART) or fail with EINTR, signal
 * handlers that make the same calls interrupt them, the FPU state survives, threads and
 * forked or vforked children make them too, and a program that sets its own %gs base
 * (arch_prctl) keeps it. */
#include "conf.h"
#include <asm/prctl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

static volatile sig_atomic_t alarms;
static volatile double handler_acc;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
	/* The handler makes the hot calls too, and uses the FPU. */
	for (int i = 0; i < 3; i++)
		getppid();
	handler_acc = handler_acc * 1.5 + 0.25;
}

static void timer(long usec)
{
	struct itimerval it = {{0, usec}, {0, usec}};
	setitimer(ITIMER_REAL, &it, NULL);
}

static void catch_alarm(int flags)
{
	struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = flags};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* A child writes 'n' bytes, 'gap_ms' apart; the parent reads them one by one from one
 * read call site while a timer interrupts it every 2 ms. */
static void interrupted_reads(const char *label, int flags, int n, int gap_ms)
{
	int p[2];
	if (pipe(p) < 0)
		return;
	pid_t c = fork();
	if (c == 0) {
		close(p[0]);
		for (int i = 0; i < n; i++) {
			sleep_ms(gap_ms);
			if (write(p[1], "x", 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	close(p[1]);
	catch_alarm(flags);
	alarms = 0;
	timer(2000);
	int got = 0, eintr = 0;
	char ch;
	while (got < n) {
		ssize_t r = read(p[0], &ch, 1);
		if (r == 1)
			got++;
		else if (r < 0 && errno == EINTR)
			eintr++;
		else
			break;
	}
	timer(0);
	int st;
	waitpid(c, &st, 0);
	close(p[0]);
	printf("%s: bytes read %d, interrupted by the timer: %s, EINTR seen: %s, child status %d\n", label, got,
	       alarms > n ? "yes" : "no", eintr ? "yes" : "no", WEXITSTATUS(st));
}

static pid_t wait_libc(pid_t c, int *st)
{
	return waitpid(c, st, 0);
}

/* syscall()'s wrapper loads its last argument from the stack just before its syscall
 * instruction: the other form of site that is patched. */
static pid_t wait_raw(pid_t c, int *st)
{
	return (pid_t)syscall(SYS_wait4, c, st, 0, NULL);
}

/* A wait restarted after each timer signal (SA_RESTART): the restart goes back to the
 * call's syscall instruction, which on a patched site is in the middle of the jump. */
static void interrupted_waits(const char *label, pid_t (*wait_for)(pid_t, int *), int status)
{
	catch_alarm(SA_RESTART);
	alarms = 0;
	int sum = 0;
	for (int i = 0; i < 3; i++) {
		pid_t c = fork();
		if (c == 0) {
			sleep_ms(30);
			_exit(status);
		}
		timer(2000);
		int st;
		pid_t r = wait_for(c, &st);
		timer(0);
		sum += r == c ? WEXITSTATUS(st) : 100;
	}
	printf("%s: statuses sum %d, interrupted by the timer: %s\n", label, sum, alarms > 3 ? "yes" : "no");
}

/* getppid through syscall(), made hot. */
static void raw_calls(void)
{
	pid_t parent = (pid_t)syscall(SYS_getppid);
	int same = 1;
	for (int i = 0; i < 200; i++)
		same &= syscall(SYS_getppid) == parent;
	printf("syscall(): getppid the same every time: %s\n", same ? "yes" : "no");
}

/* The hot call in a loop while the timer's handler interrupts it, with a value in the
 * FPU registers across every call. */
static void hot_loop_with_signals(void)
{
	catch_alarm(SA_RESTART);
	alarms = 0;
	handler_acc = 0;
	timer(500);
	pid_t parent = getppid();
	double acc = 0.0;
	int same = 1;
	for (int i = 0; i < 200000 && alarms < 20; i++) {
		acc += 0.5;
		if (getppid() != parent)
			same = 0;
	}
	timer(0);
	long halves = (long)(acc * 2);
	printf("hot loop: getppid the same every time: %s, FPU sum consistent: %s, handler ran: %s\n",
	       same ? "yes" : "no", (double)halves / 2 == acc ? "yes" : "no", alarms > 0 ? "yes" : "no");
}

static void *thread_body(void *arg)
{
	pid_t parent = *(pid_t *)arg;
	long bad = 0;
	for (int i = 0; i < 3000; i++) {
		if (getppid() != parent)
			bad++;
		if (i % 100 == 0)
			sched_yield();
	}
	return (void *)bad;
}

static void threads(void)
{
	pid_t parent = getppid();
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, thread_body, &parent);
	long bad = thread_body(&parent) != NULL;
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(th[i], &r);
		bad += (long)r;
	}
	printf("threads: every call right: %s\n", bad ? "no" : "yes");
}

static void children(void)
{
	static int sum;
	for (int i = 0; i < 8; i++) {
		pid_t me = getpid();
		pid_t c = fork();
		if (c == 0) {
			int ok = 1;
			for (int j = 0; j < 50; j++)
				ok &= getppid() == me;
			_exit(ok ? 7 : 1);
		}
		int st;
		waitpid(c, &st, 0);
		sum += WEXITSTATUS(st);
	}
	printf("forked children: statuses sum %d\n", sum);
}

static int vsum;

static void vfork_one(void)
{
	pid_t c = vfork();
	if (c == 0)
		_exit(3);
	int st;
	waitpid(c, &st, 0);
	vsum += WEXITSTATUS(st);
}

static void vforked_children(void)
{
	for (int i = 0; i < 8; i++)
		vfork_one();
	printf("vforked children: statuses sum %d\n", vsum);
}

static void own_gs(void)
{
	static long area[64];
	unsigned long gs = 1;
	long r = syscall(SYS_arch_prctl, ARCH_GET_GS, &gs);
	printf("gs base at start: ret=%ld zero: %s\n", r, gs == 0 ? "yes" : "no");
	r = syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)area);
	pid_t parent = getppid();
	int same = 1;
	for (int i = 0; i < 100; i++)
		same &= getppid() == parent;
	syscall(SYS_arch_prctl, ARCH_GET_GS, &gs);
	printf("own gs base: set ret=%ld, kept over 100 calls: %s, calls right: %s\n", r,
	       gs == (unsigned long)area ? "yes" : "no", same ? "yes" : "no");
	syscall(SYS_arch_prctl, ARCH_SET_GS, 0UL);
	syscall(SYS_arch_prctl, ARCH_GET_GS, &gs);
	for (int i = 0; i < 10; i++)
		same &= getppid() == parent;
	printf("gs base back to 0: %s, calls right: %s\n", gs == 0 ? "yes" : "no", same ? "yes" : "no");
}

int main(void)
{
	interrupted_reads("SA_RESTART reads", SA_RESTART, 4, 25);
	interrupted_reads("reads without SA_RESTART", 0, 3, 25);
	interrupted_waits("SA_RESTART waits", wait_libc, 5);
	raw_calls();
	interrupted_waits("SA_RESTART waits through syscall()", wait_raw, 6);
	hot_loop_with_signals();
	threads();
	children();
	vforked_children();
	own_gs();
	return 0;
}
