/* Credentials as relations only: real and effective ids agree, getresuid agrees with
 * getuid, the group list call works, pid relations hold. */
#include "conf.h"
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	uid_t r, e, s;
	gid_t gr, ge, gs;

	BOOL("getuid == geteuid", getuid() == geteuid());
	BOOL("getgid == getegid", getgid() == getegid());
	CHECK("getresuid", getresuid(&r, &e, &s));
	BOOL("  r == e == s == getuid", r == getuid() && e == r && s == r);
	CHECK("getresgid", getresgid(&gr, &ge, &gs));
	BOOL("  r == e == s == getgid", gr == getgid() && ge == gr && gs == gr);
	int n = getgroups(0, NULL);
	BOOL("getgroups(0) >= 0", n >= 0);
	gid_t groups[256];
	BOOL("getgroups fills the same count", getgroups(256, groups) == n);
	BOOL("getpid > 0", getpid() > 0);
	BOOL("getppid differs from getpid", getppid() != getpid());
	BOOL("getpgrp > 0", getpgrp() > 0);
	/* The session may be led from outside this pid namespace (getsid then reads 0),
	 * so compare relations, not values. */
	BOOL("getsid(0) >= 0", getsid(0) >= 0);
	BOOL("getsid(0) == getsid(getpid)", getsid(0) == getsid(getpid()));
	BOOL("getpgid(0) == getpgrp", getpgid(0) == getpgrp());
	CHECK("setuid to own uid", setuid(getuid()));
	CHECK("setgid to own gid", setgid(getgid()));
	CHECK("getsid of nonexistent pid", getsid(1 << 30));
	CHECK("getpgid of nonexistent pid", getpgid(1 << 30));
	pid_t child = fork();
	if (child == 0) {
		pid_t sid = setsid();
		_exit(sid == getpid() && getsid(0) == getpid() && getpgrp() == getpid() ? 0 : 1);
	}
	int status;
	waitpid(child, &status, 0);
	BOOL("setsid in a child makes it leader of session and group",
	     WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return 0;
}
