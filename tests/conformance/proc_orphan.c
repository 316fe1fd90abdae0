/* Orphans: when a process exits, its children are reparented (to pid 1, or to a subreaper
 * natively), so their getppid() changes; the new parent is not the grandparent, and the
 * grandparent cannot wait for them (nor for a zombie the exiting process left unwaited).
 *
 * Layout: main -> top -> middle -> orphan. main stays out of it because it may itself be
 * pid 1 in the sandbox (then it would become the new parent). Results come back to top
 * through a pipe as small fixed-size records; nothing prints but main and top, in turn. */
#include "conf.h"
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct report {
	int ppid_was_middle;
	int ppid_changed;
	int new_ppid_is_top;
	int new_ppid_is_middle;
	int waited_ms_ok;
};

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int top(void)
{
	int rp[2], gp[2];
	pid_t top_pid = getpid();

	if (pipe(rp) != 0 || pipe(gp) != 0)
		return 98;
	pid_t middle = fork();
	if (middle == 0) {
		pid_t middle_pid = getpid();
		int ready[2];
		char rc;

		if (pipe(ready) != 0)
			_exit(94);
		pid_t orphan = fork();

		if (orphan == 0) {
			struct report r = { 0 };
			char c;

			close(rp[0]);
			r.ppid_was_middle = getppid() == middle_pid;
			/* Tell middle the first getppid() is done; it exits only after that. */
			close(ready[0]);
			if (write(ready[1], "r", 1) != 1)
				_exit(95);
			close(ready[1]);
			/* Wait for the gate: middle closes its end when it exits. */
			close(gp[1]);
			if (read(gp[0], &c, 1) != 0)
				_exit(91);
			/* The gate closes a little before middle is fully gone: poll, bounded. */
			int i;
			for (i = 0; i < 5000 && getppid() == middle_pid; i++)
				sleep_ms(1);
			r.waited_ms_ok = i < 5000;
			pid_t now = getppid();
			r.ppid_changed = now != middle_pid;
			r.new_ppid_is_top = now == top_pid;
			r.new_ppid_is_middle = now == middle_pid;
			if (write(rp[1], &r, sizeof(r)) != sizeof(r))
				_exit(92);
			_exit(0);
		}
		/* A zombie child of middle, left unwaited. */
		pid_t zombie = fork();
		if (zombie == 0)
			_exit(0);
		if (write(rp[1], &orphan, sizeof(orphan)) != sizeof(orphan) ||
		    write(rp[1], &zombie, sizeof(zombie)) != sizeof(zombie))
			_exit(93);
		close(ready[1]);
		if (read(ready[0], &rc, 1) != 1)
			_exit(96);
		/* Make sure the zombie is a zombie before exiting: waitid WNOWAIT. */
		siginfo_t si;
		waitid(P_PID, zombie, &si, WEXITED | WNOWAIT);
		_exit(17);
	}
	close(gp[0]);
	close(gp[1]);
	close(rp[1]);

	pid_t orphan = 0, zombie = 0;
	int st = -1;
	struct report r = { 0 };
	ssize_t n1 = read(rp[0], &orphan, sizeof(orphan));
	ssize_t n2 = read(rp[0], &zombie, sizeof(zombie));
	printf("middle sent the orphan's and zombie's pids: %s\n",
	       n1 == sizeof(orphan) && n2 == sizeof(zombie) ? "yes" : "no");
	BOOL("waitpid(middle) returned its pid", waitpid(middle, &st, 0) == middle);
	printf("  middle exited=%s status=%d\n", WIFEXITED(st) ? "yes" : "no", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	CHECK("waitpid(orphan) from the grandparent", waitpid(orphan, &st, WNOHANG));
	CHECK("waitpid(middle's zombie) from the grandparent", waitpid(zombie, &st, WNOHANG));
	ssize_t n = read(rp[0], &r, sizeof(r));
	printf("orphan reported: %s\n", n == sizeof(r) ? "yes" : "no");
	printf("  getppid() was middle before: %s\n", r.ppid_was_middle ? "yes" : "no");
	printf("  getppid() changed after middle exited: %s (within 5 s: %s)\n", r.ppid_changed ? "yes" : "no",
	       r.waited_ms_ok ? "yes" : "no");
	printf("  new parent is the grandparent: %s\n", r.new_ppid_is_top ? "yes" : "no");
	printf("  new parent is still middle: %s\n", r.new_ppid_is_middle ? "yes" : "no");
	/* The orphan is done once its end of the pipe closes (it exits right after writing). */
	char c;
	CHECK("read EOF after the orphan exits", read(rp[0], &c, 1));
	CHECK("no children left for top", wait(NULL));
	return 0;
}

int main(void)
{
	int st = -1;

	pid_t t = fork();
	if (t == 0)
		_exit(top());
	BOOL("waitpid(top) returned its pid", waitpid(t, &st, 0) == t);
	printf("top exited=%s status=%d\n", WIFEXITED(st) ? "yes" : "no", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}
