/* /proc/self: exe, cmdline, status, fd and maps describe this process. */
#include "conf.h"
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

static char *slurp(const char *path, size_t *len)
{
	static char buf[1 << 20];
	int fd = open(path, O_RDONLY);
	size_t n = 0;
	ssize_t r;

	if (fd < 0) {
		printf("open %s: errno=%s\n", path, conf_errname(errno));
		return NULL;
	}
	while ((r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	buf[n] = 0;
	*len = n;
	return buf;
}

static int cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int main(int argc, char **argv)
{
	char exe[PATH_MAX], real[PATH_MAX], line[256];
	size_t len;
	ssize_t n;

	(void)argc;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	BOOL("/proc/self/exe is realpath(argv[0])", realpath(argv[0], real) && strcmp(exe, real) == 0);

	char *cmd = slurp("/proc/self/cmdline", &len);
	if (cmd) {
		size_t want = 0;
		for (int i = 0; i < argc; i++)
			want += strlen(argv[i]) + 1;
		BOOL("/proc/self/cmdline is argv NUL-separated",
		     len == want && memcmp(cmd, argv[0], strlen(argv[0]) + 1) == 0);
	}

	char *st = slurp("/proc/self/status", &len);
	if (st) {
		const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
		char name[16];
		snprintf(name, sizeof(name), "%s", base);
		snprintf(line, sizeof(line), "Name:\t%s\n", name);
		BOOL("status Name is the first 15 chars of the exe name", strncmp(st, line, strlen(line)) == 0);
		snprintf(line, sizeof(line), "\nPid:\t%d\n", getpid());
		BOOL("status Pid equals getpid", strstr(st, line) != NULL);
		snprintf(line, sizeof(line), "\nPPid:\t%d\n", getppid());
		BOOL("status PPid equals getppid", strstr(st, line) != NULL);
		snprintf(line, sizeof(line), "\nUid:\t%d\t%d\t%d\t%d\n", getuid(), geteuid(), getuid(), getuid());
		BOOL("status Uid line matches getuid", strstr(st, line) != NULL);
		BOOL("status has Threads:\t1", strstr(st, "\nThreads:\t1\n") != NULL);
		BOOL("status has VmRSS", strstr(st, "\nVmRSS:") != NULL);
		BOOL("status has SigBlk", strstr(st, "\nSigBlk:") != NULL);
	}

	int fds[64], nfds = 0;
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)) && nfds < 64)
			if (e->d_name[0] != '.')
				fds[nfds++] = atoi(e->d_name);
		qsort(fds, (size_t)nfds, sizeof(int), cmp);
		printf("/proc/self/fd:");
		for (int i = 0; i < nfds; i++)
			printf(" %d", fds[i]);
		printf(" (includes the directory's own fd %d)\n", dirfd(d));
		closedir(d);
	} else {
		printf("opendir /proc/self/fd: errno=%s\n", conf_errname(errno));
	}
	int fd = open("/usr/include/stdio.h", O_RDONLY);
	snprintf(line, sizeof(line), "/proc/self/fd/%d", fd);
	n = readlink(line, real, sizeof(real) - 1);
	real[n > 0 ? n : 0] = 0;
	printf("readlink %s: %s\n", "/proc/self/fd/<new fd>", real);

	char *maps = slurp("/proc/self/maps", &len);
	if (maps) {
		BOOL("maps mentions the executable", strstr(maps, exe) != NULL);
		BOOL("maps has [stack]", strstr(maps, "[stack]") != NULL);
		int lines = 0, well_formed = 1;
		for (char *p = maps; *p;) {
			unsigned long lo, hi;
			char perms[5];
			if (sscanf(p, "%lx-%lx %4s", &lo, &hi, perms) != 3 || lo >= hi || (perms[3] != 'p' && perms[3] != 's'))
				well_formed = 0;
			lines++;
			char *nl = strchr(p, '\n');
			if (!nl)
				break;
			p = nl + 1;
		}
		BOOL("maps lines well formed", well_formed && lines > 3);
		BOOL("maps has an r-xp mapping", strstr(maps, " r-xp ") != NULL);
	}
	BOOL("/proc/self is a link to the pid", (n = readlink("/proc/self", line, sizeof(line) - 1)) > 0 &&
						   (line[n] = 0, atoi(line) == getpid()));
	return 0;
}
