/* /sys/devices/system/cpu: the lists glibc and Python read agree with sysconf and
 * sched_getaffinity; /sys cannot be written. */
#include "conf.h"
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>

/* Counts the CPUs in a list like "0-3,5\n"; -1 when it does not parse. */
static long count_list(const char *s)
{
	long n = 0;
	while (*s && *s != '\n') {
		char *end;
		long a = strtol(s, &end, 10), b = a;
		if (end == s)
			return -1;
		if (*end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s || b < a)
				return -1;
		}
		n += b - a + 1;
		s = *end == ',' ? end + 1 : end;
	}
	return n;
}

static long list_file(const char *path)
{
	char buf[256];
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		printf("open %s: errno=%s\n", path, conf_errname(errno));
		return -1;
	}
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return count_list(buf);
}

int main(void)
{
	long online = list_file("/sys/devices/system/cpu/online");
	long possible = list_file("/sys/devices/system/cpu/possible");
	long present = list_file("/sys/devices/system/cpu/present");
	BOOL("/sys/devices/system/cpu/online parses and count == sysconf(_SC_NPROCESSORS_ONLN)",
	     online > 0 && online == sysconf(_SC_NPROCESSORS_ONLN));
	BOOL("possible >= present >= online", possible >= present && present >= online);
	BOOL("sysconf(_SC_NPROCESSORS_CONF) >= online", sysconf(_SC_NPROCESSORS_CONF) >= online);

	cpu_set_t set;
	CPU_ZERO(&set);
	BOOL("sched_getaffinity count <= online, >= 1", sched_getaffinity(0, sizeof(set), &set) == 0 &&
	     CPU_COUNT(&set) >= 1 && CPU_COUNT(&set) <= online);

	DIR *d = opendir("/sys/devices/system/cpu");
	struct dirent *e;
	long dirs = 0;
	int cpu0 = 0;
	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, "cpu", 3) == 0 && e->d_name[3] >= '0' && e->d_name[3] <= '9') {
			dirs++;
			cpu0 |= strcmp(e->d_name, "cpu0") == 0 && e->d_type == DT_DIR;
		}
	}
	if (d)
		closedir(d);
	BOOL("cpu<N> directories == present", dirs == present);
	BOOL("cpu0 is a directory", cpu0);

	struct stat st;
	BOOL("/sys/fs/cgroup is a directory", stat("/sys/fs/cgroup", &st) == 0 && S_ISDIR(st.st_mode));
	int fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY);
	char buf[128] = "";
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = 0;
		close(fd);
		char *l = strchr(buf, '['), *r = l ? strchr(l, ']') : NULL;
		BOOL("THP enabled has one bracketed choice", l && r && !strchr(r, '['));
	}
	fd = open("/sys/devices/system/cpu/online", O_WRONLY);
	BOOL("open online for writing fails", fd < 0 && (errno == EACCES || errno == EROFS));
	BOOL("mkdir in /sys fails", mkdir("/sys/conf-test-dir", 0755) < 0);
	return 0;
}
