/* System-wide /proc files: meminfo, uptime, loadavg, stat, cpuinfo, sys/kernel, sys/vm,
 * filesystems, self and thread-self. Only relations are printed. */
#include "conf.h"
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>

static char *slurp(const char *path)
{
	static char bufs[2][1 << 16];
	static int which;
	char *buf = bufs[which++ & 1];
	int fd = open(path, O_RDONLY);
	size_t n = 0;
	ssize_t r;
	if (fd < 0) {
		printf("open %s: errno=%s\n", path, conf_errname(errno));
		return NULL;
	}
	while ((r = read(fd, buf + n, sizeof(bufs[0]) - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	buf[n] = 0;
	return buf;
}

static long long kb(const char *s, const char *key)
{
	const char *p = strstr(s, key);
	return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

int main(void)
{
	char *s;
	struct utsname u;
	uname(&u);

	if ((s = slurp("/proc/meminfo"))) {
		long long total = kb(s, "MemTotal:"), freem = kb(s, "MemFree:"), avail = kb(s, "MemAvailable:");
		BOOL("meminfo starts with MemTotal", strncmp(s, "MemTotal:", 9) == 0);
		BOOL("meminfo has MemTotal >= MemFree > 0", total >= freem && freem > 0);
		BOOL("meminfo MemAvailable <= MemTotal", avail > 0 && avail <= total);
		BOOL("meminfo has SwapTotal", kb(s, "SwapTotal:") >= 0);
		BOOL("meminfo lines end in kB", strstr(s, "MemTotal:") && strstr(strstr(s, "MemTotal:"), " kB\n"));
	}
	if ((s = slurp("/proc/uptime"))) {
		double up = -1, idle = -1;
		BOOL("uptime parses as two numbers", sscanf(s, "%lf %lf", &up, &idle) == 2 && up > 0 && idle >= 0);
	}
	if ((s = slurp("/proc/loadavg"))) {
		double a, b, c;
		int run, total, last;
		BOOL("loadavg parses", sscanf(s, "%lf %lf %lf %d/%d %d", &a, &b, &c, &run, &total, &last) == 6);
		BOOL("loadavg running <= total, >= 1", run >= 1 && run <= total);
	}
	if ((s = slurp("/proc/stat"))) {
		unsigned long long user, nice, sys, idle;
		char *bt = strstr(s, "\nbtime ");
		BOOL("stat cpu line parses", sscanf(s, "cpu  %llu %llu %llu %llu", &user, &nice, &sys, &idle) == 4);
		long ncpu = 0;
		for (char *p = strstr(s, "\ncpu"); p; p = strstr(p + 1, "\ncpu"))
			ncpu++;
		BOOL("stat has one cpuN line per online CPU", ncpu == sysconf(_SC_NPROCESSORS_ONLN));
		BOOL("stat btime is in the past", bt && strtoll(bt + 7, NULL, 10) <= time(NULL) && strtoll(bt + 7, NULL, 10) > 0);
		BOOL("stat has processes and procs_running", strstr(s, "\nprocesses ") && strstr(s, "\nprocs_running "));
	}
	if ((s = slurp("/proc/cpuinfo"))) {
		long n = 0;
		for (char *p = s; (p = strstr(p, "processor\t: ")); p++)
			n++;
		BOOL("cpuinfo processors == sysconf(_SC_NPROCESSORS_ONLN)", n == sysconf(_SC_NPROCESSORS_ONLN));
		BOOL("cpuinfo has model name and flags", strstr(s, "\nmodel name\t: ") && strstr(s, "\nflags\t\t: "));
	}
	if ((s = slurp("/proc/sys/kernel/ostype")))
		printf("ostype: %s", s);
	if ((s = slurp("/proc/sys/kernel/osrelease")))
		BOOL("osrelease equals uname release", strncmp(s, u.release, strlen(u.release)) == 0 && s[strlen(u.release)] == '\n');
	if ((s = slurp("/proc/sys/kernel/hostname")))
		BOOL("hostname equals uname nodename", strncmp(s, u.nodename, strlen(u.nodename)) == 0 && s[strlen(u.nodename)] == '\n');
	if ((s = slurp("/proc/sys/kernel/pid_max")))
		BOOL("pid_max > getpid", atol(s) > getpid());
	if ((s = slurp("/proc/sys/vm/overcommit_memory")))
		BOOL("overcommit_memory is 0, 1 or 2", (s[0] == '0' || s[0] == '1' || s[0] == '2') && s[1] == '\n');
	if ((s = slurp("/proc/filesystems")))
		BOOL("filesystems lists proc, tmpfs and sysfs", strstr(s, "\tproc\n") && strstr(s, "\ttmpfs\n") && strstr(s, "\tsysfs\n"));
	if ((s = slurp("/proc/version")))
		BOOL("version starts with Linux version <release>", strncmp(s, "Linux version ", 14) == 0 &&
		     strncmp(s + 14, u.release, strlen(u.release)) == 0);

	char link[64];
	ssize_t n = readlink("/proc/self", link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	BOOL("self links to getpid", atoi(link) == getpid());
	n = readlink("/proc/thread-self", link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	char want[64];
	snprintf(want, sizeof(want), "%d/task/%ld", getpid(), (long)syscall(SYS_gettid));
	BOOL("thread-self links to <pid>/task/<tid>", strcmp(link, want) == 0);

	/* root may open it (mode bits do not stop root) but not write; others may not open */
	int fd = open("/proc/meminfo", O_WRONLY);
	int err = errno;
	if (fd >= 0) {
		ssize_t w = write(fd, "1", 1);
		err = errno;
		printf("write /proc/meminfo: %s\n", w < 0 && geteuid() == 0 ? conf_errname(err) : "unexpected");
	} else {
		printf("open /proc/meminfo O_WRONLY: %s\n", geteuid() != 0 ? conf_errname(err) : "unexpected");
	}
	fd = open("/proc/self/stat", O_WRONLY);
	if (fd >= 0) {
		ssize_t w = write(fd, "1", 1);
		printf("write /proc/self/stat: %s\n", w < 0 ? conf_errname(errno) : "unexpected");
	} else {
		printf("open /proc/self/stat O_WRONLY: %s\n", geteuid() != 0 ? conf_errname(errno) : "unexpected");
	}
	fd = open("/proc/sys/kernel/ostype", O_WRONLY);
	conf_report("open /proc/sys/kernel/ostype O_WRONLY", fd, errno);
	return 0;
}
