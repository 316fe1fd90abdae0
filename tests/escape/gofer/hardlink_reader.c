/* Guest for host_hardlinks.sh: "pre" is a hard link to /etc/shadow the host made in
 * the workspace before ward started; after this program creates "ready", the host
 * makes "late", another one, and then "go". Neither may be read or written: the gofer
 * denies the inode, whatever the name. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int failures;

static const char *name(int err)
{
	const char *n = strerrorname_np(err);

	return n ? n : "E?";
}

static void denied(const char *path, int flags)
{
	int fd = open(path, flags);

	if (fd >= 0) {
		char buf[64];
		ssize_t n = flags == O_RDONLY ? read(fd, buf, sizeof(buf)) : 0;

		printf("ESCAPE-TEST FAIL: open %s (flags %#x) succeeded (read %zd)\n", path, flags, n);
		failures++;
		close(fd);
		return;
	}
	printf("open %s%s: %s\n", path, flags == O_RDONLY ? "" : " for writing", name(errno));
	if (errno != EACCES && errno != EPERM) {
		printf("ESCAPE-TEST FAIL: expected EACCES\n");
		failures++;
	}
}

static int listed(const char *want)
{
	DIR *d = opendir(".");
	struct dirent *e;
	int found = 0;

	while (d && !found && (e = readdir(d)))
		found = strcmp(e->d_name, want) == 0;
	if (d)
		closedir(d);
	return found;
}

int main(void)
{
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	int fd, i;

	denied("pre", O_RDONLY);
	denied("pre", O_WRONLY | O_APPEND);
	if (rename("pre", "pre-renamed") == 0)
		denied("pre-renamed", O_RDONLY);
	fd = open("ready", O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0) {
		printf("ESCAPE-TEST FAIL: cannot create ready: %s\n", name(errno));
		return 1;
	}
	close(fd);
	/* Polled by listing the directory: a name looked up and absent stays absent in
	 * the sentry's cache. Bounded: 30 s at most. */
	for (i = 0; i < 1500 && !listed("go"); i++)
		nanosleep(&tick, NULL);
	if (i == 1500) {
		printf("ESCAPE-TEST FAIL: the host never said go\n");
		return 1;
	}
	denied("late", O_RDONLY);
	denied("late", O_RDWR);
	if (failures)
		return 1;
	printf("ESCAPE-TEST PASS\n");
	return 0;
}
