/* A child that has exited but is not reaped keeps its /proc/<pid>, with state Z; the
 * directory goes when the parent reaps it. */
#include "conf.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/wait.h>

static int read_file(const char *path, char *buf, size_t sz)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sz - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return n > 0 ? (int)n : 0;
}

static int listed(pid_t pid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0;
	while (d && (e = readdir(d)))
		found |= atoi(e->d_name) == pid;
	if (d)
		closedir(d);
	return found;
}

int main(void)
{
	char path[64], buf[4096];
	pid_t pid = fork();
	if (pid == 0)
		_exit(7);
	siginfo_t si;
	/* wait for the exit without reaping */
	waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	char *rp;
	BOOL("zombie stat readable", read_file(path, buf, sizeof(buf)) > 0);
	rp = strrchr(buf, ')');
	BOOL("zombie stat state is Z", rp && rp[2] == 'Z');
	BOOL("zombie stat ppid == getpid", rp && atoi(rp + 4) == getpid());
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	BOOL("zombie status State Z (zombie)", read_file(path, buf, sizeof(buf)) > 0 && strstr(buf, "\nState:\tZ (zombie)\n"));
	BOOL("zombie status has no VmSize", strstr(buf, "VmSize") == NULL);
	BOOL("zombie is listed in /proc", listed(pid));
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	printf("zombie cmdline length: %d\n", read_file(path, buf, sizeof(buf)));
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	ssize_t n = readlink(path, buf, sizeof(buf));
	conf_report("readlink zombie exe", (long)n, errno);
	snprintf(path, sizeof(path), "/proc/%d/cwd", pid);
	n = readlink(path, buf, sizeof(buf));
	conf_report("readlink zombie cwd", (long)n, errno);
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	DIR *d = opendir(path);
	int entries = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		entries += e->d_name[0] != '.';
	printf("zombie fd/: %s, %d entries\n", d ? "opened" : conf_errname(errno), entries);
	if (d)
		closedir(d);
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	printf("zombie maps length: %d\n", read_file(path, buf, sizeof(buf)));

	int status;
	BOOL("reaped", waitpid(pid, &status, 0) == pid && WEXITSTATUS(status) == 7);
	snprintf(path, sizeof(path), "/proc/%d", pid);
	struct stat st;
	conf_report("stat /proc/<reaped pid>", stat(path, &st), errno);
	BOOL("reaped pid not listed", !listed(pid));
	return 0;
}
