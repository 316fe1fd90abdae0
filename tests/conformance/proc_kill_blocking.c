/* A fatal signal (default action: terminate) sent to a child kills it whether it arrives
 * before the child blocks or while it is blocked: in read on a pipe, in waitpid for its own
 * child, in pause, in nanosleep, in poll. Each case runs several times with the signal sent
 * right after fork (so it often lands while the child is still running towards the
 * blocking call) and once after a handshake. The parent waits at most 2 s for each death;
 * a child that survives is then released and killed with SIGKILL (and the case stops
 * there), so nothing hangs and the output shows what happened. */
#include "conf.h"
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum how { READ_PIPE, WAIT_CHILD, PAUSE, NANOSLEEP, POLL, NHOW };
static const char *how_name[] = { "read on a pipe", "waitpid", "pause", "nanosleep 10 s", "poll, no timeout" };

/* Blocks as told; the gate is a pipe whose write end the parent holds. */
static void child_body(enum how how, int gate_r, int ready_w)
{
	char c;

	if (how == WAIT_CHILD) {
		/* A grandchild that lives as long as the gate is open. */
		pid_t g = fork();
		if (g == 0) {
			(void)!read(gate_r, &c, 1);
			_exit(0);
		}
	}
	if (ready_w >= 0) {
		(void)!write(ready_w, "r", 1);
		close(ready_w);
	}
	switch (how) {
	case READ_PIPE:
		(void)!read(gate_r, &c, 1);
		break;
	case WAIT_CHILD:
		wait(NULL);
		break;
	case PAUSE:
		pause();
		break;
	case NANOSLEEP: {
		struct timespec ts = { 10, 0 };
		nanosleep(&ts, NULL);
		break;
	}
	case POLL: {
		struct pollfd p = { .fd = gate_r, .events = POLLIN };
		poll(&p, 1, -1);
		break;
	}
	default:
		break;
	}
	_exit(0);
}

/* Returns the terminating signal, 0 for a normal exit, or -1. */
static int kill_and_reap(pid_t pid, int sig, int gate_w, int *late)
{
	int st = -1;

	kill(pid, sig);
	*late = 0;
	for (int i = 0; i < 2000; i++) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			goto done;
		if (r < 0)
			return -1;
		usleep(1000);
	}
	*late = 1;
	close(gate_w);
	kill(pid, SIGKILL);
	if (waitpid(pid, &st, 0) != pid)
		return -1;
done:
	return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

static void run(enum how how, int sig, int iterations, int handshake)
{
	int by_sig = 0, other = 0, survived = 0;

	for (int i = 0; i < iterations; i++) {
		int gate[2], ready[2] = { -1, -1 };
		char c;

		if (pipe(gate) != 0 || (handshake && pipe(ready) != 0))
			exit(98);
		pid_t pid = fork();
		if (pid == 0) {
			close(gate[1]);
			if (handshake)
				close(ready[0]);
			child_body(how, gate[0], handshake ? ready[1] : -1);
		}
		close(gate[0]);
		if (handshake) {
			close(ready[1]);
			if (read(ready[0], &c, 1) != 1)
				printf("  no handshake\n");
			close(ready[0]);
		}
		int late;
		int s = kill_and_reap(pid, sig, gate[1], &late);
		if (!late)
			close(gate[1]);
		if (late) {
			survived++;
			break; /* one is enough: keep the run short */
		}
		else if (s == sig)
			by_sig++;
		else
			other++;
		/* The waitpid case leaves a grandchild reparented away; it exits now that the
		 * gate is closed. */
	}
	printf("%s, %s %s: killed by signal %d: %d of %d, survived 2 s: %d, other: %d\n", how_name[how],
	       handshake ? "after a handshake" : "right after fork", sigabbrev_np(sig), sig, by_sig, iterations,
	       survived, other);
}

int main(void)
{
	/* Everything runs in a child: the waitpid case orphans grandchildren, which are
	 * reparented to pid 1, and in the sandbox that is this process. */
	pid_t top = fork();
	if (top == 0) {
		for (enum how h = 0; h < NHOW; h++) {
			run(h, SIGTERM, 30, 0);
			run(h, SIGTERM, 1, 1);
			run(h, SIGUSR1, 10, 0);
		}
		CHECK("no children left", wait(NULL));
		_exit(0);
	}
	int st = -1;
	BOOL("waitpid(top) returned its pid", waitpid(top, &st, 0) == top);
	printf("top exited=%s status=%d\n", WIFEXITED(st) ? "yes" : "no", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}
