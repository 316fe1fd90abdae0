/* /proc/self files describe this process: stat, status, statm, maps, smaps, fd/, fdinfo/,
 * limits, mountinfo, mounts, environ, comm. Only relations are printed. */
#include "conf.h"
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/prctl.h>
#include <sys/resource.h>

static char *slurp(const char *path)
{
	static char bufs[2][1 << 20];
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

/* The value after "Key:" in a status-like file, or -1. */
static long field(const char *text, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\n%s:", key);
	const char *p = strstr(text, pat);
	if (!p && strncmp(text, pat + 1, strlen(pat + 1)) == 0)
		p = text - 1;
	return p ? strtol(p + strlen(pat), NULL, 10) : -1;
}

static int count_lines(const char *s, const char *prefix)
{
	int n = 0;
	for (const char *p = s; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			n++;
	return n;
}

int main(void)
{
	char path[PATH_MAX], *s;

	/* stat: "pid (comm) state ppid pgrp session ..." */
	if ((s = slurp("/proc/self/stat"))) {
		int pid, ppid, pgrp, sid, nthreads;
		char state;
		char *rp = strrchr(s, ')');
		BOOL("stat field 1 == getpid", sscanf(s, "%d", &pid) == 1 && pid == getpid());
		BOOL("stat fields parse", rp && sscanf(rp + 2, "%c %d %d %d", &state, &ppid, &pgrp, &sid) == 4);
		BOOL("stat state is R for the reader", rp && state == 'R');
		BOOL("stat ppid == getppid", ppid == getppid());
		BOOL("stat pgrp == getpgrp", pgrp == getpgrp());
		BOOL("stat session == getsid", sid == getsid(0));
		/* field 20 is num_threads: 17 fields after ppid..., counted from the state */
		char *p = rp + 2;
		for (int i = 0; i < 17 && p; i++)
			p = strchr(p + 1, ' ');
		BOOL("stat num_threads == 1", p && sscanf(p, " %d", &nthreads) == 1 && nthreads == 1);
		int fields = 0;
		for (p = rp + 1; *p; p++)
			fields += *p == ' ';
		BOOL("stat has 52 fields", fields + 2 == 52);
	}
	if ((s = slurp("/proc/self/status"))) {
		BOOL("status Pid equals getpid", field(s, "Pid") == getpid());
		BOOL("status Tgid equals getpid", field(s, "Tgid") == getpid());
		BOOL("status PPid equals getppid", field(s, "PPid") == getppid());
		BOOL("status State is R", strstr(s, "\nState:\tR (running)\n") != NULL);
		BOOL("status VmRSS <= VmSize", field(s, "VmRSS") > 0 && field(s, "VmRSS") <= field(s, "VmSize"));
		BOOL("status Threads is 1", field(s, "Threads") == 1);
		BOOL("status has Cpus_allowed_list", strstr(s, "\nCpus_allowed_list:\t") != NULL);
	}
	if ((s = slurp("/proc/self/statm"))) {
		unsigned long size, res, shared, text, lib, data, dt;
		BOOL("statm has 7 fields", sscanf(s, "%lu %lu %lu %lu %lu %lu %lu", &size, &res, &shared, &text, &lib, &data, &dt) == 7);
		BOOL("statm resident <= size", res > 0 && res <= size);
	}

	char *maps = slurp("/proc/self/maps");
	char *smaps = slurp("/proc/self/smaps");
	if (maps && smaps) {
		int nmaps = count_lines(maps, "");
		BOOL("maps contains a line for the stack", strstr(maps, "[stack]\n") != NULL);
		BOOL("smaps has one Size line per maps line", count_lines(smaps, "Size:") == nmaps);
		BOOL("smaps has one VmFlags line per maps line", count_lines(smaps, "VmFlags:") == nmaps);
		int ok = 1;
		for (char *p = strstr(smaps, "\nSize:"); p; p = strstr(p + 1, "\nSize:")) {
			long size = strtol(p + 6, NULL, 10);
			char *rss = strstr(p, "\nRss:"), *pss = strstr(p, "\nPss:");
			if (!rss || !pss || strtol(rss + 5, NULL, 10) > size || strtol(pss + 5, NULL, 10) > strtol(rss + 5, NULL, 10))
				ok = 0;
		}
		BOOL("smaps Pss <= Rss <= Size for every mapping", ok);
	}

	/* fd/ and fdinfo/ */
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	off_t where = lseek(fd, 7, SEEK_SET);
	int fds[64], nfds = 0, has_fd = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	while (d && (e = readdir(d)) && nfds < 64)
		if (e->d_name[0] != '.')
			fds[nfds++] = atoi(e->d_name);
	int has012 = 0;
	for (int i = 0; i < nfds; i++) {
		has012 |= fds[i] == 0 ? 1 : fds[i] == 1 ? 2 : fds[i] == 2 ? 4 : 0;
		has_fd |= fds[i] == fd;
	}
	BOOL("fd/ lists 0 1 2 and the opened fd", has012 == 7 && has_fd);
	if (d)
		closedir(d);
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if ((s = slurp(path))) {
		long long pos = -1;
		int flags = -1, mnt = -1;
		char *p = strstr(s, "pos:");
		BOOL("fdinfo pos equals lseek result", p && sscanf(p, "pos:\t%lld", &pos) == 1 && pos == where);
		p = strstr(s, "flags:");
		BOOL("fdinfo flags parse", p && sscanf(p, "flags:\t%o", &flags) == 1);
		BOOL("fdinfo flags == F_GETFL | O_CLOEXEC", flags == (fcntl(fd, F_GETFL) | O_CLOEXEC));
		p = strstr(s, "mnt_id:");
		BOOL("fdinfo mnt_id parses", p && sscanf(p, "mnt_id:\t%d", &mnt) == 1);
		char *mi = slurp("/proc/self/mountinfo");
		int found = 0;
		for (char *l = mi; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
			int id;
			char mp[256], fstype[64];
			if (sscanf(l, "%d %*d %*s %*s %255s %*s", &id, mp) == 2 && id == mnt) {
				char *dash = strstr(l, " - ");
				found = dash && sscanf(dash, " - %63s", fstype) == 1 && strcmp(fstype, "proc") == 0 &&
					strcmp(mp, "/proc") == 0;
			}
		}
		BOOL("fdinfo mnt_id is the /proc mount in mountinfo", found);
	}
	close(fd);
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	BOOL("fdinfo of a closed fd is gone", access(path, F_OK) < 0 && errno == ENOENT);

	/* a link's mode shows how the descriptor is open */
	int modes[3] = {O_RDONLY, O_WRONLY, O_RDWR};
	for (int i = 0; i < 3; i++) {
		struct stat lst;
		int nfd = open("/dev/null", modes[i]);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", nfd);
		if (lstat(path, &lst) == 0)
			printf("fd link mode for access %d: %03o\n", modes[i], lst.st_mode & 0777);
		close(nfd);
	}

	if ((s = slurp("/proc/self/limits"))) {
		struct rlimit rl;
		char soft[32] = "", want[32];
		char *p = strstr(s, "\nMax open files ");
		getrlimit(RLIMIT_NOFILE, &rl);
		snprintf(want, sizeof(want), "%llu", (unsigned long long)rl.rlim_cur);
		BOOL("limits NOFILE soft equals getrlimit", p && sscanf(p + 15, "%31s", soft) == 1 && strcmp(soft, want) == 0);
		BOOL("limits has a header and 16 limits", strncmp(s, "Limit ", 6) == 0 && count_lines(s, "Max ") == 16);
		BOOL("limits Max nice priority has no unit", strstr(s, "\nMax nice priority") != NULL);
	}
	if ((s = slurp("/proc/self/mountinfo"))) {
		int root = 0, proc = 0, wellformed = 1;
		for (char *l = s; *l; l = strchr(l, '\n') + 1) {
			char mp[256], fstype[64];
			int id, parent;
			unsigned maj, min;
			char *dash = strstr(l, " - ");
			if (sscanf(l, "%d %d %u:%u %*s %255s", &id, &parent, &maj, &min, mp) != 5 || !dash ||
			    sscanf(dash, " - %63s", fstype) != 1)
				wellformed = 0;
			root |= strcmp(mp, "/") == 0;
			proc |= strcmp(mp, "/proc") == 0 && strcmp(fstype, "proc") == 0;
			if (!strchr(l, '\n'))
				break;
		}
		BOOL("mountinfo lines well formed", wellformed);
		BOOL("mountinfo has / and a proc /proc", root && proc);
	}
	if ((s = slurp("/proc/self/mounts")))
		BOOL("mounts has proc on /proc", strstr(s, " /proc proc ") != NULL);
	char link[PATH_MAX];
	ssize_t n = readlink("/proc/mounts", link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	printf("/proc/mounts -> %s\n", link);

	setenv("CONF_PROC_MARK", "x", 1); /* not in environ: that is the initial environment */
	if ((s = slurp("/proc/self/environ")))
		BOOL("environ does not show later setenv", strstr(s, "CONF_PROC_MARK") == NULL);

	/* comm: writable for the process itself, as prctl sees it */
	int cfd = open("/proc/self/comm", O_WRONLY);
	BOOL("write /proc/self/comm", cfd >= 0 && write(cfd, "renamed-process-long", 20) == 20);
	close(cfd);
	char name[17] = "";
	prctl(PR_GET_NAME, name);
	printf("prctl name after write: %s\n", name);
	s = slurp("/proc/self/comm");
	printf("comm: %s", s ? s : "?\n");

	snprintf(path, sizeof(path), "/proc/%d/cwd", getppid());
	n = readlink("/proc/self/cwd", link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	BOOL("cwd link equals getcwd", n > 0 && getcwd(path, sizeof(path)) && strcmp(path, link) == 0);
	n = readlink("/proc/self/root", link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	printf("root link: %s\n", link);
	return 0;
}
