/* fork + wait4/waitpid/waitid: exit statuses 0..3 and 259 (truncated to 8 bits), WNOHANG
 * before the child exits returns 0, waitid WNOWAIT leaves the zombie for a second wait,
 * waiting for any child, children killed by SIGKILL/SIGTERM are WIFSIGNALED, ECHILD when no
 * child is left, and bad arguments fail. Children never print; every wait is for a child
 * that is sure to exit (or is killed by the parent). */
#include "conf.h"
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void show_status(const char *label, int st)
{
	printf("%s: exited=%s", label, WIFEXITED(st) ? "yes" : "no");
	if (WIFEXITED(st))
		printf(" status=%d", WEXITSTATUS(st));
	printf(" signaled=%s", WIFSIGNALED(st) ? "yes" : "no");
	if (WIFSIGNALED(st))
		printf(" termsig=%d core=%s", WTERMSIG(st), WCOREDUMP(st) ? "yes" : "no");
	printf(" stopped=%s continued=%s raw=0x%x\n", WIFSTOPPED(st) ? "yes" : "no",
	       WIFCONTINUED(st) ? "yes" : "no", st);
}

static const char *cld_name(int c)
{
	switch (c) {
	case CLD_EXITED: return "CLD_EXITED";
	case CLD_KILLED: return "CLD_KILLED";
	case CLD_DUMPED: return "CLD_DUMPED";
	case CLD_STOPPED: return "CLD_STOPPED";
	case CLD_CONTINUED: return "CLD_CONTINUED";
	case 0: return "0";
	}
	return "other";
}

/* A child that blocks reading a pipe until the parent writes a byte or closes it. */
static pid_t gated_child(int *gate_w, int code)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p) < 0)
		exit(98);
	pid = fork();
	if (pid < 0)
		exit(97);
	if (pid == 0) {
		close(p[1]);
		if (read(p[0], &c, 1) < 0)
			_exit(90);
		_exit(code);
	}
	close(p[0]);
	*gate_w = p[1];
	return pid;
}

/* After a fatal signal: waits (bounded, 5 s) for pid to become waitable without reaping it;
 * if it does not, says so and opens the gate so that every later wait still finishes. */
static void settle(pid_t pid, int *gate)
{
	for (int i = 0; i < 5000; i++) {
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid)
			return;
		usleep(1000);
	}
	printf("  child still running 5 s after the signal: releasing it\n");
	close(*gate);
	*gate = -1;
}

int main(void)
{
	pid_t pids[4], pid, got;
	int st, gate;
	siginfo_t si;
	struct rusage ru;

	SAY("-- exit codes 0..3, waited in fork order with waitpid\n");
	for (int i = 0; i < 4; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(i);
		BOOL("fork returned a positive pid", pids[i] > 0);
	}
	for (int i = 0; i < 4; i++) {
		char label[64];

		st = -1;
		got = waitpid(pids[i], &st, 0);
		snprintf(label, sizeof(label), "  child %d", i);
		BOOL("  waitpid returned that pid", got == pids[i]);
		show_status(label, st);
	}
	CHECK("wait with no children", wait(&st));
	CHECK("waitpid WNOHANG with no children", waitpid(-1, &st, WNOHANG));

	SAY("-- exit(259) is truncated to 8 bits; wait4 with rusage\n");
	pid = fork();
	if (pid == 0)
		_exit(259);
	got = wait4(pid, &st, 0, &ru);
	BOOL("wait4 returned the pid", got == pid);
	show_status("  child", st);

	SAY("-- WNOHANG before the child exits\n");
	pid = gated_child(&gate, 42);
	CHECK("waitpid WNOHANG (running)", waitpid(pid, &st, WNOHANG));
	memset(&si, 0x55, sizeof(si));
	CHECK("waitid WEXITED|WNOHANG (running)", waitid(P_PID, pid, &si, WEXITED | WNOHANG));
	printf("  si_signo=%d si_code=%d si_pid=%d si_status=%d\n", si.si_signo, si.si_code, si.si_pid,
	       si.si_status);
	close(gate);
	got = waitpid(pid, &st, 0);
	BOOL("blocking waitpid returned the pid", got == pid);
	show_status("  child", st);

	SAY("-- waitid WNOWAIT leaves the zombie\n");
	pid = fork();
	if (pid == 0)
		_exit(7);
	memset(&si, 0, sizeof(si));
	CHECK("waitid WEXITED|WNOWAIT", waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	printf("  si_signo=%d si_code=%s si_status=%d si_pid-is-child=%s si_uid-is-self=%s\n",
	       si.si_signo, cld_name(si.si_code), si.si_status, si.si_pid == pid ? "yes" : "no",
	       si.si_uid == getuid() ? "yes" : "no");
	memset(&si, 0, sizeof(si));
	CHECK("waitid again WNOWAIT", waitid(P_ALL, 0, &si, WEXITED | WNOWAIT));
	printf("  si_code=%s si_status=%d si_pid-is-child=%s\n", cld_name(si.si_code), si.si_status,
	       si.si_pid == pid ? "yes" : "no");
	got = waitpid(pid, &st, 0);
	BOOL("waitpid then reaps it", got == pid);
	show_status("  child", st);
	CHECK("waitid after reaping", waitid(P_PID, pid, &si, WEXITED));

	SAY("-- waiting for any child\n");
	int seen = 0;
	for (int i = 0; i < 3; i++) {
		pid = fork();
		if (pid == 0)
			_exit(10 + i);
	}
	for (int i = 0; i < 3; i++) {
		got = waitpid(-1, &st, 0);
		if (got > 0 && WIFEXITED(st) && WEXITSTATUS(st) >= 10 && WEXITSTATUS(st) <= 12)
			seen |= 1 << (WEXITSTATUS(st) - 10);
	}
	printf("statuses 10,11,12 each seen once: %s\n", seen == 7 ? "yes" : "no");
	CHECK("waitpid(-1) with none left", waitpid(-1, &st, 0));
	pid = fork();
	if (pid == 0)
		_exit(5);
	memset(&si, 0, sizeof(si));
	CHECK("waitid P_ALL", waitid(P_ALL, 0, &si, WEXITED));
	printf("  si_code=%s si_status=%d si_pid-is-child=%s\n", cld_name(si.si_code), si.si_status,
	       si.si_pid == pid ? "yes" : "no");
	pid = fork();
	if (pid == 0)
		_exit(6);
	memset(&si, 0, sizeof(si));
	CHECK("waitid P_PGID 0 (own group)", waitid(P_PGID, 0, &si, WEXITED));
	printf("  si_code=%s si_status=%d si_pid-is-child=%s\n", cld_name(si.si_code), si.si_status,
	       si.si_pid == pid ? "yes" : "no");
	pid = fork();
	if (pid == 0)
		_exit(8);
	got = waitpid(0, &st, 0);
	BOOL("waitpid(0) (own group) returned the pid", got == pid);
	show_status("  child", st);

	SAY("-- killed children\n");
	pid = gated_child(&gate, 0);
	CHECK("kill SIGKILL", kill(pid, SIGKILL));
	settle(pid, &gate);
	got = waitpid(pid, &st, 0);
	BOOL("waitpid returned the pid", got == pid);
	show_status("  child", st);
	if (gate >= 0)
		close(gate);
	pid = gated_child(&gate, 0);
	CHECK("kill SIGTERM", kill(pid, SIGTERM));
	settle(pid, &gate);
	memset(&si, 0, sizeof(si));
	CHECK("waitid WEXITED", waitid(P_PID, pid, &si, WEXITED));
	printf("  si_signo=%d si_code=%s si_status=%d si_pid-is-child=%s\n", si.si_signo,
	       cld_name(si.si_code), si.si_status, si.si_pid == pid ? "yes" : "no");
	if (gate >= 0)
		close(gate);
	pid = fork();
	if (pid == 0) {
		raise(SIGUSR1);
		_exit(1);
	}
	got = waitpid(pid, &st, 0);
	BOOL("waitpid returned the pid (raise SIGUSR1)", got == pid);
	show_status("  child", st);

	SAY("-- errors\n");
	pid = fork();
	if (pid == 0)
		_exit(0);
	CHECK("waitpid bad options", waitpid(pid, &st, 0x100));
	CHECK("waitid no WEXITED", waitid(P_PID, pid, &si, 0));
	CHECK("waitid bad idtype", waitid((idtype_t)42, pid, &si, WEXITED));
	CHECK("waitpid for a non-child (self)", waitpid(getpid(), &st, WNOHANG));
	CHECK("waitpid bad status pointer", waitpid(pid, (int *)8, 0));
	got = waitpid(pid, &st, 0);
	printf("child still waitable after the fault: %s\n", got == pid ? "yes" : "no");
	CHECK("final wait", wait(NULL));
	return 0;
}
