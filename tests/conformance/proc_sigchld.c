/* SIGCHLD: a child's exit or death by a signal queues SIGCHLD for the parent with si_code
 * CLD_EXITED/CLD_KILLED, si_status, si_pid and si_uid; SIG_DFL leaves a zombie to wait for;
 * SIG_IGN and SA_NOCLDWAIT reap children automatically (wait then fails with ECHILD, after
 * waiting for them to exit), SA_NOCLDWAIT with a handler still delivers SIGCHLD; a zombie
 * created before SIGCHLD is ignored can still be waited for. SIGCHLD mostly stays blocked
 * until the child is reaped, so nothing depends on timing; in the one case where it is not,
 * a waitpid that is blocked when the child exits must still return the pid (Linux finds the
 * zombie before it looks at the signal), whichever comes first. */
#include "conf.h"
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile int hits;
static siginfo_t last;

static void handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	hits++;
	last = *si;
}

static const char *cld_name(int c)
{
	switch (c) {
	case CLD_EXITED: return "CLD_EXITED";
	case CLD_KILLED: return "CLD_KILLED";
	case CLD_DUMPED: return "CLD_DUMPED";
	case CLD_STOPPED: return "CLD_STOPPED";
	case CLD_CONTINUED: return "CLD_CONTINUED";
	case SI_USER: return "SI_USER";
	}
	return "other";
}

static sigset_t chld_set;

static void block_chld(void)
{
	sigprocmask(SIG_BLOCK, &chld_set, NULL);
}

static void unblock_chld(void)
{
	sigprocmask(SIG_UNBLOCK, &chld_set, NULL);
}

static int chld_pending(void)
{
	sigset_t p;

	sigpending(&p);
	return sigismember(&p, SIGCHLD);
}

static void show(const char *label, pid_t pid)
{
	printf("%s: hits=%d", label, hits);
	if (hits)
		printf(" signo=%d code=%s status=%d pid-is-child=%s uid-is-self=%s", last.si_signo,
		       cld_name(last.si_code), last.si_status, last.si_pid == pid ? "yes" : "no",
		       last.si_uid == getuid() ? "yes" : "no");
	printf("\n");
	hits = 0;
	memset(&last, 0, sizeof(last));
}

/* A child that waits for its gate (a pipe) to close, then exits with code. */
static pid_t gated(int *gate, int code)
{
	int p[2];
	char c;

	if (pipe(p) != 0)
		exit(98);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[1]);
		if (read(p[0], &c, 1) < 0)
			_exit(90);
		_exit(code);
	}
	close(p[0]);
	*gate = p[1];
	return pid;
}

int main(void)
{
	struct sigaction sa = { .sa_sigaction = handler, .sa_flags = SA_SIGINFO };
	pid_t pid;
	int st, gate;

	sigemptyset(&chld_set);
	sigaddset(&chld_set, SIGCHLD);
	CHECK("sigaction SIGCHLD handler", sigaction(SIGCHLD, &sa, NULL));

	SAY("-- exit(3)\n");
	block_chld();
	pid = fork();
	if (pid == 0)
		_exit(3);
	BOOL("waitpid returned the pid", waitpid(pid, &st, 0) == pid);
	BOOL("SIGCHLD pending after reaping", chld_pending());
	unblock_chld();
	show("  handler", pid);

	SAY("-- killed by SIGKILL\n");
	block_chld();
	pid = gated(&gate, 0);
	kill(pid, SIGKILL);
	BOOL("waitpid returned the pid", waitpid(pid, &st, 0) == pid);
	close(gate);
	unblock_chld();
	show("  handler", pid);

	SAY("-- killed by its own SIGTERM\n");
	block_chld();
	pid = fork();
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		raise(SIGTERM);
		_exit(1);
	}
	BOOL("waitpid returned the pid", waitpid(pid, &st, 0) == pid);
	unblock_chld();
	show("  handler", pid);

	SAY("-- two children, one standard signal\n");
	block_chld();
	pid_t a = fork();
	if (a == 0)
		_exit(1);
	pid_t b = fork();
	if (b == 0)
		_exit(2);
	waitpid(a, &st, 0);
	waitpid(b, &st, 0);
	unblock_chld();
	printf("handler ran once for two exits: %s\n", hits == 1 ? "yes" : "no");
	hits = 0;

	SAY("-- SIGCHLD unblocked while the parent waits\n");
	pid = fork();
	if (pid == 0) {
		/* Exit while the parent is (very likely) already blocked in waitpid. */
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		_exit(9);
	}
	pid_t got = waitpid(pid, &st, 0);
	BOOL("waitpid returned the pid", got == pid);
	if (got != pid) {
		printf("  waitpid: %s\n", conf_errname(errno));
		waitpid(pid, &st, 0); /* do not leave a zombie for the next steps */
	}
	/* Linux finds the zombie before it looks at the pending SIGCHLD: waitpid returns
	 * the pid, not EINTR (the handler has no SA_RESTART), and the handler runs after. */
	show("  handler", pid);

	SAY("-- SIGCHLD SIG_IGN: children are reaped automatically\n");
	CHECK("signal SIG_IGN", signal(SIGCHLD, SIG_IGN) == SIG_ERR ? -1 : 0);
	pid = fork();
	if (pid == 0)
		_exit(4);
	CHECK("wait (blocks until the child is gone)", wait(&st));
	CHECK("waitpid for it", waitpid(pid, &st, WNOHANG));
	pid = gated(&gate, 4);
	CHECK("waitpid WNOHANG while it runs", waitpid(pid, &st, WNOHANG));
	close(gate);
	CHECK("waitpid blocking", waitpid(pid, &st, 0));

	SAY("-- a zombie made before SIG_IGN is still waitable\n");
	CHECK("signal SIG_DFL", signal(SIGCHLD, SIG_DFL) == SIG_ERR ? -1 : 0);
	pid = fork();
	if (pid == 0)
		_exit(6);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	CHECK("waitid WNOWAIT (now a zombie)", waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	CHECK("signal SIG_IGN", signal(SIGCHLD, SIG_IGN) == SIG_ERR ? -1 : 0);
	st = -1;
	BOOL("waitpid returned the pid", waitpid(pid, &st, 0) == pid);
	printf("  status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);

	SAY("-- SA_NOCLDWAIT with SIG_DFL\n");
	sa.sa_handler = SIG_DFL;
	sa.sa_flags = SA_NOCLDWAIT;
	CHECK("sigaction SA_NOCLDWAIT", sigaction(SIGCHLD, &sa, NULL));
	pid = fork();
	if (pid == 0)
		_exit(5);
	CHECK("wait", wait(&st));

	SAY("-- SA_NOCLDWAIT with a handler\n");
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO | SA_NOCLDWAIT;
	CHECK("sigaction SA_SIGINFO|SA_NOCLDWAIT", sigaction(SIGCHLD, &sa, NULL));
	block_chld();
	pid = fork();
	if (pid == 0)
		_exit(7);
	CHECK("wait", wait(&st));
	BOOL("SIGCHLD pending", chld_pending());
	unblock_chld();
	show("  handler", pid);

	SAY("-- back to SIG_DFL: zombies again\n");
	sa.sa_handler = SIG_DFL;
	sa.sa_flags = 0;
	CHECK("sigaction SIG_DFL", sigaction(SIGCHLD, &sa, NULL));
	pid = fork();
	if (pid == 0)
		_exit(8);
	st = -1;
	BOOL("waitpid returned the pid", waitpid(pid, &st, 0) == pid);
	printf("  status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	BOOL("SIGCHLD (default-ignored) not left pending", !chld_pending());
	return 0;
}
