/* readlink/readlinkat: targets, truncation to the buffer, and the error cases. */
#include "conf.h"
#include <fcntl.h>
#include <limits.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char buf[PATH_MAX + 1];
	ssize_t n;

	(void)argc;
	CHECK("readlink /etc/os-release", n = readlink("/etc/os-release", buf, sizeof(buf)));
	if (n >= 0)
		printf("  target=%.*s\n", (int)n, buf);
	memset(buf, '#', sizeof(buf));
	CHECK("readlink into 5-byte buffer", n = readlink("/etc/os-release", buf, 5));
	printf("  got=%.5s next-untouched=%s\n", buf, buf[5] == '#' ? "yes" : "no");
	int dfd = open("/etc", O_RDONLY | O_DIRECTORY);
	CHECK("readlinkat relative", n = readlinkat(dfd, "os-release", buf, sizeof(buf)));
	CHECK("readlinkat empty path on O_PATH|O_NOFOLLOW link fd",
	      readlinkat(open("/etc/os-release", O_PATH | O_NOFOLLOW), "", buf, sizeof(buf)));
	CHECK("readlink regular file", readlink("/usr/include/stdio.h", buf, sizeof(buf)));
	CHECK("readlink directory", readlink("/usr/include", buf, sizeof(buf)));
	CHECK("readlink missing", readlink("/usr/include/no-such", buf, sizeof(buf)));
	CHECK("readlink bufsiz 0", readlink("/etc/os-release", buf, 0));
	CHECK("readlink bad buffer", syscall(SYS_readlink, "/etc/os-release", (char *)8, 100));
	CHECK("readlink empty path", readlink("", buf, sizeof(buf)));

	char real[PATH_MAX];
	CHECK_OK("readlink /proc/self/exe", n = readlink("/proc/self/exe", buf, sizeof(buf)));
	buf[n > 0 ? n : 0] = 0;
	BOOL("  equals realpath(argv[0])", realpath(argv[0], real) && strcmp(real, buf) == 0);
	BOOL("  is absolute", buf[0] == '/');
	CHECK("readlink /proc/self/cwd after chdir(/usr)", (chdir("/usr"), n = readlink("/proc/self/cwd", buf, sizeof(buf))));
	if (n >= 0)
		printf("  target=%.*s\n", (int)n, buf);
	CHECK("readlink /proc/self/fd/<dirfd>", n = readlink((snprintf(real, sizeof(real), "/proc/self/fd/%d", dfd), real), buf, sizeof(buf)));
	if (n >= 0)
		printf("  target=%.*s\n", (int)n, buf);
	return 0;
}
