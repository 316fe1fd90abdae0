/* Process groups and sessions: children inherit the group and session; setpgid by the child
 * or by the parent, setsid (a new session and group led by the caller, EPERM for a group
 * leader), getpgid/getsid of a child, the EPERM/ESRCH/EACCES/EINVAL rules of setpgid, and
 * kill(-pgid)/kill(0) delivering to every member of a group and to no one else. The test's
 * own group and session are never printed (they depend on how it was started); only
 * relations are. Children report through exit statuses. */
#include "conf.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static int status_of(pid_t pid)
{
	int st = -1;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	if (WIFSIGNALED(st))
		return 1000 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

/* status_of for a child that a signal should have ended: waits at most 5 s, then closes
 * its gate and SIGKILLs it, so that a lost signal shows as 1009 instead of a hang. */
static int status_bounded(pid_t pid, int gate)
{
	int st = -1;

	for (int i = 0; i < 5000; i++) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFSIGNALED(st) ? 1000 + WTERMSIG(st) : WEXITSTATUS(st);
		if (r < 0)
			return -1;
		usleep(1000);
	}
	close(gate);
	kill(pid, SIGKILL);
	return status_of(pid);
}

/* Child that blocks until its gate closes, then exits 0; returns pid and the gate fd. */
static pid_t gated(int *gate)
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
		_exit(0);
	}
	close(p[0]);
	*gate = p[1];
	return pid;
}

static volatile int usr1_hits;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_hits++;
}

int main(int argc, char **argv)
{
	pid_t pid, me = getpid();
	int gate, r;

	if (argc > 1 && strcmp(argv[1], "wait-for-stdin-eof") == 0) {
		char c;
		/* exec'd child: block until the parent closes the pipe on fd 0 */
		return read(0, &c, 1) == 0 ? 0 : 1;
	}

	SAY("-- relations of the test itself\n");
	BOOL("getpgid(0) == getpgrp()", getpgid(0) == getpgrp());
	BOOL("getpgid(self) == getpgrp()", getpgid(me) == getpgrp());
	BOOL("getsid(0) == getsid(self)", getsid(0) == getsid(me));
	CHECK("getpgid(nonexistent)", getpgid(0x3ffffff0));
	CHECK("getsid(nonexistent)", getsid(0x3ffffff0));
	CHECK("getpgid(-1)", getpgid(-1));

	SAY("-- a child inherits group and session\n");
	pid = gated(&gate);
	BOOL("getpgid(child) == own group", getpgid(pid) == getpgrp());
	BOOL("getsid(child) == own session", getsid(pid) == getsid(0));
	CHECK("setpgid(child, child) from the parent", setpgid(pid, pid));
	BOOL("getpgid(child) == child", getpgid(pid) == pid);
	BOOL("getsid(child) unchanged", getsid(pid) == getsid(0));
	CHECK("setpgid(child, own group) moves it back", setpgid(pid, getpgrp()));
	BOOL("getpgid(child) == own group", getpgid(pid) == getpgrp());
	CHECK("setpgid(child, -1)", setpgid(pid, -1));
	CHECK("setpgid(child, nonexistent group)", setpgid(pid, 0x3ffffff0));
	close(gate);
	printf("child status %d\n", status_of(pid));
	CHECK("setpgid(reaped child, itself)", setpgid(pid, pid));
	CHECK("getpgid(reaped child)", getpgid(pid));

	SAY("-- setpgid(0, 0) in a child\n");
	pid = fork();
	if (pid == 0) {
		pid_t self = getpid();

		r = 0;
		if (setpgid(0, 0) != 0)
			r |= 1;
		if (getpgrp() != self || getpgid(0) != self)
			r |= 2;
		if (setsid() != -1 || errno != EPERM) /* a group leader cannot */
			r |= 4;
		if (setpgid(0, 0) != 0) /* already the leader: no-op */
			r |= 8;
		_exit(r);
	}
	printf("child checks (0 = ok): %d\n", status_of(pid));

	SAY("-- setsid in a child\n");
	pid = fork();
	if (pid == 0) {
		pid_t self = getpid(), parent = getppid(), parent_group = getpgrp();

		r = 0;
		if (setsid() != self)
			r |= 1;
		if (getsid(0) != self || getpgrp() != self)
			r |= 2;
		if (setsid() != -1 || errno != EPERM)
			r |= 4;
		if (getsid(parent) == self)
			r |= 8;
		/* Cannot join a group of another session. */
		if (setpgid(0, parent_group) != -1 || errno != EPERM)
			r |= 16;
		/* A session leader cannot change its group. */
		if (setpgid(0, 0) != -1 || errno != EPERM)
			r |= 32;
		/* Not a child: ESRCH. */
		if (setpgid(parent, parent) != -1 || errno != ESRCH)
			r |= 64;
		_exit(r);
	}
	printf("child checks (0 = ok): %d\n", status_of(pid));

	SAY("-- the parent cannot move a child in another session\n");
	int p[2];
	if (pipe(p) != 0)
		return 98;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		setsid();
		/* Tell the parent, then wait to be killed. */
		if (write(p[1], "s", 1) != 1)
			_exit(91);
		close(p[1]);
		pause();
		_exit(0);
	}
	close(p[1]);
	char c;
	CHECK("read: child has called setsid", read(p[0], &c, 1));
	close(p[0]);
	BOOL("getsid(child) == child", getsid(pid) == pid);
	BOOL("getpgid(child) == child", getpgid(pid) == pid);
	CHECK("setpgid(child, own group)", setpgid(pid, getpgrp()));
	CHECK("setpgid(child, child)", setpgid(pid, pid));
	kill(pid, SIGKILL);
	printf("child status %d\n", status_of(pid));

	SAY("-- setpgid on a child after it has exec'd\n");
	int in[2], cl[2];
	if (pipe(in) != 0 || pipe2(cl, O_CLOEXEC) != 0)
		return 98;
	pid = fork();
	if (pid == 0) {
		close(in[1]);
		close(cl[0]);
		dup2(in[0], 0);
		close(in[0]);
		char *av[] = { argv[0], "wait-for-stdin-eof", NULL };
		execv(argv[0], av);
		_exit(127);
	}
	close(in[0]);
	close(cl[1]);
	/* cl's write end is close-on-exec: EOF here means the child has exec'd. */
	CHECK("read: child has exec'd", read(cl[0], &c, 1));
	close(cl[0]);
	CHECK("setpgid(exec'd child, itself)", setpgid(pid, pid));
	close(in[1]);
	printf("child status %d\n", status_of(pid));

	SAY("-- kill(-pgid) reaches the whole group and only it\n");
	pid_t members[3];
	int gates[3], outsider_gate;
	for (int i = 0; i < 3; i++) {
		members[i] = gated(&gates[i]);
		/* Join the group of the first (which leads it). */
		setpgid(members[i], members[0]);
	}
	pid_t outsider = gated(&outsider_gate);
	setpgid(outsider, outsider);
	BOOL("members 2 and 3 are in member 1's group",
	     getpgid(members[1]) == members[0] && getpgid(members[2]) == members[0]);
	CHECK("kill(-group, 0)", kill(-members[0], 0));
	CHECK("kill(-group, SIGUSR1)", kill(-members[0], SIGUSR1));
	for (int i = 0; i < 3; i++)
		printf("member %d status %d\n", i + 1, status_bounded(members[i], gates[i]));
	CHECK("kill(-group, 0) once all are gone", kill(-members[0], 0));
	CHECK("waitpid(outsider, WNOHANG): still running", waitpid(outsider, &r, WNOHANG));
	close(outsider_gate);
	printf("outsider status %d\n", status_of(outsider));
	for (int i = 0; i < 3; i++)
		close(gates[i]); /* EBADF for a gate status_bounded closed: harmless */
	CHECK("kill(-nonexistent group, 0)", kill(-0x3ffffff0, 0));

	SAY("-- kill(0) signals the caller's own group\n");
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		int g2;
		pid_t grandchild = gated(&g2); /* inherits the new group, SIGUSR1 default */
		signal(SIGUSR1, on_usr1);
		if (kill(0, SIGUSR1) != 0)
			_exit(1);
		int s = status_bounded(grandchild, g2);
		close(g2);
		_exit(usr1_hits == 1 && s == 1000 + SIGUSR1 ? 0 : 2);
	}
	printf("child checks (0 = ok): %d\n", status_of(pid));
	CHECK("no children left", wait(NULL));
	return 0;
}
