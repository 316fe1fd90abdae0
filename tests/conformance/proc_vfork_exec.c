/* vfork: the parent is suspended until the child calls _exit or execve, the child runs in
 * the parent's memory (Linux CLONE_VM|CLONE_VFORK), and the parent resumes afterwards with
 * the child waitable; vfork + execve of /bin/true and /bin/false, a failing execve reported
 * through shared memory, and posix_spawn (which uses CLONE_VFORK in glibc). */
#include "conf.h"
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static volatile int child_ran;
static volatile int child_errno;

static void show(const char *label, pid_t pid)
{
	int st = -1;
	pid_t got = waitpid(pid, &st, 0);

	printf("%s: waited=%s exited=%s status=%d signaled=%s\n", label, got == pid ? "yes" : "no",
	       WIFEXITED(st) ? "yes" : "no", WIFEXITED(st) ? WEXITSTATUS(st) : -1,
	       WIFSIGNALED(st) ? "yes" : "no");
}

/* vfork, the child exits with code; returns the exit status (-1 if it did not exit).
 * A function of its own so that the caller's loop variables cannot be clobbered. */
static __attribute__((noinline)) int vfork_exit(int code)
{
	int st = -1;
	pid_t pid = vfork();

	if (pid == 0)
		_exit(code);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

int main(void)
{
	pid_t pid, parent = getpid();

	SAY("-- vfork + _exit\n");
	child_ran = 0;
	pid = vfork();
	if (pid == 0) {
		/* Sleep a little: a parent that is not suspended would see child_ran == 0. */
		struct timespec ts = { 0, 30 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		child_ran = (getppid() == parent) ? 1 : 2;
		_exit(5);
	}
	BOOL("vfork returned a positive pid", pid > 0);
	printf("child ran to completion before the parent resumed: %d\n", child_ran);
	show("  child", pid);

	SAY("-- vfork + execve /bin/true and /bin/false\n");
	child_ran = 0;
	pid = vfork();
	if (pid == 0) {
		char *argv[] = { "true", NULL };

		child_ran = 1;
		execve("/bin/true", argv, environ);
		_exit(127);
	}
	printf("parent resumed after exec, child_ran=%d\n", child_ran);
	show("  /bin/true", pid);
	pid = vfork();
	if (pid == 0) {
		char *argv[] = { "false", NULL };

		execve("/bin/false", argv, environ);
		_exit(127);
	}
	show("  /bin/false", pid);

	SAY("-- vfork + failing execve\n");
	child_errno = 0;
	pid = vfork();
	if (pid == 0) {
		char *argv[] = { "nope", NULL };

		execve("/no/such/program", argv, environ);
		child_errno = errno;
		_exit(127);
	}
	printf("execve errno seen by the parent: %s\n", conf_errname(child_errno));
	show("  child", pid);

	SAY("-- vfork child killed by a signal\n");
	pid = vfork();
	if (pid == 0) {
		kill(getpid(), SIGKILL);
		_exit(1);
	}
	int st = -1;
	BOOL("waitpid returned the pid", waitpid(pid, &st, 0) == pid);
	printf("  signaled=%s termsig=%d\n", WIFSIGNALED(st) ? "yes" : "no",
	       WIFSIGNALED(st) ? WTERMSIG(st) : -1);

	SAY("-- several vforks in a row\n");
	int sum = 0;
	for (int i = 0; i < 5; i++)
		sum += vfork_exit(i + 1);
	printf("sum of exit statuses: %d\n", sum);

	SAY("-- posix_spawn\n");
	char *targv[] = { "true", NULL };
	int rc = posix_spawn(&pid, "/bin/true", NULL, NULL, targv, environ);
	printf("posix_spawn /bin/true: %s\n", conf_errname(rc));
	if (rc == 0)
		show("  child", pid);
	char *fargv[] = { "sh", "-c", "exit 3", NULL };
	rc = posix_spawn(&pid, "/bin/sh", NULL, NULL, fargv, environ);
	printf("posix_spawn /bin/sh -c 'exit 3': %s\n", conf_errname(rc));
	if (rc == 0)
		show("  child", pid);
	rc = posix_spawn(&pid, "/no/such/program", NULL, NULL, targv, environ);
	printf("posix_spawn missing program: %s\n", conf_errname(rc));
	rc = posix_spawnp(&pid, "true", NULL, NULL, targv, environ);
	printf("posix_spawnp true (PATH search): %s\n", conf_errname(rc));
	if (rc == 0)
		show("  child", pid);
	CHECK("no children left", wait(NULL));
	return 0;
}
