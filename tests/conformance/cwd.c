/* getcwd/chdir/fchdir: the working directory follows absolute and relative changes, and
 * relative paths resolve against it. The initial directory is not printed (it differs). */
#include "conf.h"
#include <fcntl.h>
#include <limits.h>
#include <sys/syscall.h>
#include <unistd.h>

static void pwd(const char *label)
{
	char buf[PATH_MAX];

	if (getcwd(buf, sizeof(buf)))
		printf("%s: cwd=%s\n", label, buf);
	else
		printf("%s: getcwd errno=%s\n", label, conf_errname(errno));
}

int main(void)
{
	char small[4];
	int fd;

	CHECK("chdir /usr/include", chdir("/usr/include"));
	pwd("after chdir");
	CHECK("open relative stdio.h", fd = open("stdio.h", O_RDONLY));
	close(fd);
	CHECK("chdir relative linux", chdir("linux"));
	pwd("after relative chdir");
	CHECK("chdir ..", chdir(".."));
	pwd("after ..");
	CHECK("chdir ../../..", chdir("../../.."));
	pwd("after going above /");
	CHECK("chdir //usr//lib/", chdir("//usr//lib/"));
	pwd("after messy path");
	int dfd = open("/etc", O_RDONLY | O_DIRECTORY);
	CHECK("fchdir /etc", fchdir(dfd));
	pwd("after fchdir");
	CHECK("open relative after fchdir", fd = open("os-release", O_RDONLY));
	close(fd);
	int pfd = open("/usr/include", O_PATH | O_DIRECTORY);
	CHECK("fchdir O_PATH dir fd", fchdir(pfd));
	pwd("after fchdir O_PATH");
	CHECK("chdir to file", chdir("/usr/include/stdio.h"));
	CHECK("chdir missing", chdir("/no-such-dir-ward"));
	CHECK("chdir empty", chdir(""));
	CHECK("fchdir file fd", fchdir(open("/usr/include/stdio.h", O_RDONLY)));
	CHECK("fchdir bad fd", fchdir(400));
	pwd("unchanged after errors");
	CHECK("getcwd size 1", (long)(getcwd(small, 1) ? 0 : -1));
	CHECK("getcwd size 0 with buffer", (long)(getcwd(small, 0) ? 0 : -1));
	char buf[64];
	CHECK("raw getcwd returns length incl NUL", syscall(SYS_getcwd, buf, sizeof(buf)));
	CHECK("raw getcwd bad buffer", syscall(SYS_getcwd, (void *)8, 64));
	CHECK("chdir /tmp", chdir("/tmp"));
	pwd("in /tmp");
	CHECK("chdir /", chdir("/"));
	pwd("at root");
	return 0;
}
