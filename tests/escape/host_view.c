/* /proc and /sys describe the sandbox, never the host: no host processes (not even ward's
 * own), no host mounts, no host environment, nothing of the host's sysfs. Contents read are
 * also printed, so run_escape.sh sees any host secret that leaked into them. */
#include "escape.h"
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

static char buf[1 << 20];

static long slurp(const char *path)
{
	int fd = open(path, O_RDONLY);
	long n = 0, r;
	if (fd < 0)
		return -errno;
	while ((r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += r;
	close(fd);
	buf[n] = 0;
	return n;
}

/* Prints NUL-separated text on one line, for the harness's secret scan. */
static void show(const char *label, long n)
{
	printf("%s: ", label);
	for (long i = 0; i < n; i++)
		putchar(buf[i] ? buf[i] : ' ');
	printf("\n");
}

static const char *mount_allowed[] = {"/", "/proc", "/sys", "/dev", "/dev/shm", "/dev/pts", "/tmp", "/root"};

static void check_mounts(const char *bindir, const char *cwd)
{
	long n = slurp("/proc/self/mountinfo");
	if (n <= 0) {
		ESC_FAIL("cannot read /proc/self/mountinfo (%ld)", n);
		return;
	}
	printf("%s", buf);
	for (char *l = buf; *l;) {
		char mp[PATH_MAX];
		char *nl = strchr(l, '\n');
		if (sscanf(l, "%*d %*d %*s %*s %4095s", mp) == 1) {
			int ok = strcmp(mp, bindir) == 0 || strcmp(mp, cwd) == 0;
			for (size_t i = 0; i < sizeof(mount_allowed) / sizeof(*mount_allowed); i++)
				ok |= strcmp(mp, mount_allowed[i]) == 0;
			if (!ok)
				ESC_FAIL("mountinfo shows a mount the sandbox did not make: %s", mp);
		}
		if (!nl)
			break;
		l = nl + 1;
	}
	if (strstr(buf, " - cgroup") || strstr(buf, " - bpf") || strstr(buf, " - securityfs") ||
	    strstr(buf, " - debugfs") || strstr(buf, " - mqueue"))
		ESC_FAIL("mountinfo lists a host kernel filesystem");
}

/* Counts entries under dir (depth-limited); flags any name of the host's sysfs. */
static int walk(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int count = 0;
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		count++;
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR && depth < 8)
			count += walk(path, depth + 1);
		else if (e->d_type == DT_REG && slurp(path) >= 0)
			printf("%s = %.200s", path, buf);
	}
	closedir(d);
	return count;
}

int main(int argc, char **argv)
{
	char bindir[PATH_MAX], cwd[PATH_MAX], path[PATH_MAX];
	if (argc < 4) {
		printf("usage: %s SECRET SIBLING HOSTPID\n", argv[0]);
		return 2;
	}
	long hostpid = atol(argv[3]);
	if (!realpath(argv[0], bindir) || !getcwd(cwd, sizeof(cwd))) {
		printf("realpath/getcwd failed\n");
		return 2;
	}
	*strrchr(bindir, '/') = 0;

	/* The guest is the sandbox's init: /proc/1 is itself, not ward nor a host process. */
	if (getpid() != 1)
		ESC_FAIL("the guest is pid %d, not 1", getpid());
	char exe[PATH_MAX], self[PATH_MAX];
	ssize_t n = readlink("/proc/1/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	if (!realpath(argv[0], self) || strcmp(exe, self) != 0)
		ESC_FAIL("/proc/1/exe is %s, not the guest", exe);

	/* Every process listed is the sandbox's: few, small pids, none running ward. */
	DIR *d = opendir("/proc");
	struct dirent *e;
	int procs = 0;
	while (d && (e = readdir(d))) {
		long pid = atol(e->d_name);
		if (pid <= 0)
			continue;
		procs++;
		if (pid == hostpid)
			ESC_FAIL("the host's sleeper (pid %ld) is listed in /proc", pid);
		snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
		long len = slurp(path);
		show(path, len);
		for (long i = 0; i < len; i += (long)strlen(buf + i) + 1)
			if (strcmp(buf + i, "boot") == 0 || strcmp(buf + i, "gofer") == 0 ||
			    strncmp(buf + i, "--platform", 10) == 0)
				ESC_FAIL("%s shows ward's own command line", path);
		snprintf(path, sizeof(path), "/proc/%ld/environ", pid);
		len = slurp(path);
		show(path, len);
		if (len > 0 && memmem(buf, (size_t)len, "WARD_HOST_SECRET", 16))
			ESC_FAIL("%s holds ward's host environment", path);
	}
	if (d)
		closedir(d);
	if (procs != 1)
		ESC_FAIL("/proc lists %d processes; the sandbox has 1", procs);

	/* Links of the inherited descriptors name no host path. */
	for (int fd = 0; fd < 3; fd++) {
		char link[PATH_MAX];
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = 0;
		printf("%s -> %s\n", path, link);
		if (link[0] == '/' && strncmp(link, "/dev/", 5) != 0)
			ESC_FAIL("%s names a host file: %s", path, link);
	}

	check_mounts(bindir, cwd);

	struct utsname u;
	uname(&u);
	if (slurp("/proc/sys/kernel/hostname") <= 0 || strncmp(buf, u.nodename, strlen(u.nodename)) != 0)
		ESC_FAIL("/proc/sys/kernel/hostname is not the sandbox's (%s)", buf);
	if (slurp("/proc/sys/kernel/osrelease") <= 0 || strncmp(buf, u.release, strlen(u.release)) != 0)
		ESC_FAIL("/proc/sys/kernel/osrelease is not the sandbox's (%s)", buf);

	/* Walking back up from /proc/self/root or /proc/1/cwd stays in the sandbox. */
	struct stat a, b;
	if (stat("/proc/self/root/..", &a) == 0 && stat("/", &b) == 0 && (a.st_ino != b.st_ino || a.st_dev != b.st_dev))
		ESC_FAIL("/proc/self/root/.. is not the sandbox's root");

	/* /sys: only what the sentry makes; nothing of the host's devices, modules or cgroups. */
	const char *host_only[] = {"/sys/class", "/sys/block", "/sys/bus", "/sys/module", "/sys/firmware",
				   "/sys/kernel/security", "/sys/fs/cgroup/cgroup.procs", "/sys/devices/virtual"};
	for (size_t i = 0; i < sizeof(host_only) / sizeof(*host_only); i++)
		if (access(host_only[i], F_OK) == 0)
			ESC_FAIL("%s exists: the host's sysfs shows through", host_only[i]);
	int entries = walk("/sys", 0);
	printf("/sys has %d entries\n", entries);
	if (entries > 200)
		ESC_FAIL("/sys has %d entries: more than the sandbox's", entries);
	int fd = open("/sys/devices/system/cpu/online", O_WRONLY);
	if (fd >= 0)
		ESC_FAIL("/sys/devices/system/cpu/online opened for writing");
	if (mkdir("/sys/fs/cgroup/ward-escape", 0755) == 0)
		ESC_FAIL("made a cgroup under /sys/fs/cgroup");
	return esc_finish();
}
