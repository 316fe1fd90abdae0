/* Guest code can write its threads' message areas (under the seccomp platform they are in
 * its address space and writable, as the handler needs). A victim process runs one thread
 * that traps again and again (syscalls, a blocking read) and another that writes garbage
 * into every message area it can reach, including plausible-but-evil values: the "posted"
 * state on a thread that is running (racing two threads against one message), frame
 * pointers at and past the area's ends, huge xsave sizes, a fake syscall frame asking for
 * the host secret, and in the patch entry's frame a null FPU pointer and the actions that
 * ask a thread to save its FPU state, while signals to the trapping threads make the
 * sentry want that state. The victim may die or misbehave; the sentry must not: afterwards
 * this process (same sandbox) still gets served, and the secret stays unreadable. */
#include "escape.h"
#include "seccomp_stub.h"
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static sigjmp_buf skip;
static volatile int stop_flag;
static const char *secret;

static void on_fault(int sig)
{
	siglongjmp(skip, sig);
}

static uint64_t rnd(void)
{
	static uint64_t x = 88172645463325252ull;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

static void on_usr1(int sig)
{
	(void)sig;
}

static void *trapper(void *arg)
{
	*(pid_t *)arg = (pid_t)syscall(SYS_gettid);
	while (!stop_flag) {
		syscall(SYS_getppid);
		/* The scribbler may overwrite the result register the sentry wrote into this
		 * thread's frame, so open can "return" any number, a valid fd of ours too: only
		 * the secret's contents read back prove an escape (run_escape.sh also looks for
		 * them in the output). */
		int fd = open(secret, O_RDONLY);
		if (fd >= 0) {
			char buf[64] = {0};
			ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
			if (n > 0 && strncmp(buf, "WARD-SECRET-", 12) == 0) {
				printf("ESCAPE-TEST FAIL: the victim read the secret: %s\n", buf);
				fflush(stdout);
				_exit(3);
			}
		}
		/* A blocking call: the thread waits in its handler while its area is hit. */
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* The other threads' areas that are mapped (the main thread, which scribbles, has the
 * first: hitting its own would only end the round sooner). */
static volatile uint8_t *areas[SC_MSG_SLOTS_TRIED];
static unsigned nareas;

static void find_areas(void)
{
	for (unsigned s = 1; s < SC_MSG_SLOTS_TRIED; s++) {
		volatile uint8_t *p = (volatile uint8_t *)(SC_MSG_BASE + s * SC_MSG_SIZE);
		if (sigsetjmp(skip, 1) == 0) {
			(void)*p;
			areas[nareas++] = p;
		}
	}
}

static void poke_all(uint64_t off, uint64_t v)
{
	for (unsigned i = 0; i < nareas; i++)
		*(volatile uint64_t *)(areas[i] + off) = v;
}

static void poke_all32(uint64_t off, uint32_t v)
{
	for (unsigned i = 0; i < nareas; i++)
		*(volatile uint32_t *)(areas[i] + off) = v;
}

/* Rounds 0-2 poke everything; round 3 only the FPU requests (null pointer, save
 * actions), which a victim survives longer. */
static void victim(int round)
{
	struct sigaction sa = {.sa_handler = on_fault, .sa_flags = SA_NODEFER};
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	struct sigaction su = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
	sigaction(SIGUSR1, &su, NULL);
	pthread_t t[2];
	static pid_t tids[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, trapper, &tids[i]);
	find_areas();
	printf("message areas found: %u\n", nareas);
	fflush(stdout);
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	const uint64_t evil[] = {
		0, 1, 2, ~0ull, 0x8000000000000000ull,
		SC_MSG_BASE, SC_MSG_BASE + SC_MSG_SIZE - 8, SC_MSG_BASE + SC_MSG_SIZE,
		SC_MSG_BASE + 0x1000, SC_MSG_BASE + 0x1000 - 1, SC_MSG_BASE + SC_MSG_SIZE - 64,
		0x4650585300001000ull, /* FP_XSTATE_MAGIC1 with a size */
		0xffffffff46505853ull, SYS_openat, (uint64_t)-100,
		3, 4, /* SC_ACT_SAVE_FP, SC_ACT_SAVE_RETURN */
	};
	for (unsigned i = 0;; i++) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) > 700000000L)
			break;
		uint64_t r = rnd();
		uint64_t off;
		/* Signals make the sentry fetch the FPU state of threads stopped in the
		 * patch entry. */
		if (i % 64 == 0)
			for (int t = 0; t < 2; t++)
				if (tids[t])
					syscall(SYS_tgkill, getpid(), tids[t], SIGUSR1);
		switch (round == 3 ? 3 : r % 6) {
		case 0: /* the header: state, wake, action, pointers, tid */
			off = (r >> 8) % 64 & ~7ull;
			break;
		case 1: /* "posted" on a running thread: the race */
			off = 0;
			poke_all(off, 1 | (uint64_t)1 << 32);
			continue;
		case 2: /* the patch entry's frame (SC_TF, 0x200) up to its xsave area */
			off = (0x200 + (r >> 8) % 0x200) & ~7ull;
			break;
		case 3: /* "the FPU state is in the registers, save it" */
			poke_all(0x2e8 /* SC_TF_MC + fpstate */, 0);
			poke_all32(8 /* the action */, (r >> 8) % 2 ? 3 : 4);
			continue;
		default: /* the signal stack, where the frames are */
			off = (0x1000 + (r >> 8) % (SC_MSG_SIZE - 0x1000)) & ~7ull;
			break;
		}
		poke_all(off, (r >> 40) % 2 ? evil[(r >> 20) % (sizeof(evil) / sizeof(evil[0]))] : rnd());
	}
	stop_flag = 1;
	_exit(0);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		printf("usage: %s SECRET\n", argv[0]);
		return 2;
	}
	secret = argv[1];
	for (int round = 0; round < 4; round++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0) {
			ESC_FAIL("fork: %s", esc_errname(errno));
			break;
		}
		if (pid == 0) {
			alarm(20);
			victim(round);
		}
		int status = 0;
		waitpid(pid, &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
			ESC_FAIL("round %d: the victim read the host secret", round);
		if (WIFSIGNALED(status))
			printf("round %d: victim killed by SIG%s\n", round, sigabbrev_np(WTERMSIG(status)));
		else
			printf("round %d: victim exited %d\n", round, WEXITSTATUS(status));
	}
	/* The sentry still serves this process, and still as a sandbox. */
	long ppid = syscall(SYS_getppid);
	esc_expect_denied("open of the host secret afterwards", open(argv[1], O_RDONLY) < 0 ? -errno : 0);
	if (ppid < 0)
		ESC_FAIL("getppid failed after the victims: %s", esc_errname(-ppid));
	return esc_finish();
}
