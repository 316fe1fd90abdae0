/* O_TMPFILE: an unnamed file in a directory (tmpfs natively and under ward: /dev/shm),
 * its flag rules, what fstat and /proc/self/fd say, and linkat giving it a name through
 * AT_EMPTY_PATH or /proc/self/fd; O_EXCL and unlinked files stay nameless. */
#include "conf.h"
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[PATH_MAX];

static void cleanup(void)
{
	char p[PATH_MAX + 16];
	const char *names[] = {"a", "b", "c", "d", "plain"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
}

static void show_link(const char *label, int fd)
{
	char p[64], target[PATH_MAX];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(p, target, sizeof(target) - 1);
	if (n < 0) {
		printf("%s: readlink errno=%s\n", label, conf_errname(errno));
		return;
	}
	target[n] = 0;
	size_t dl = strlen(dir);
	printf("%s: under dir=%d hash-name=%d deleted=%d\n", label, strncmp(target, dir, dl) == 0,
	       strncmp(target + dl, "/#", 2) == 0, strstr(target, " (deleted)") != NULL);
}

static void show_file(const char *label, const char *name)
{
	char p[PATH_MAX + 16], buf[64] = {0};
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	int fd = open(p, O_RDONLY);
	if (fd < 0) {
		printf("%s: open errno=%s\n", label, conf_errname(errno));
		return;
	}
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	fstat(fd, &st);
	printf("%s: read %zd '%s' nlink=%ju mode=%o\n", label, n, buf, (uintmax_t)st.st_nlink,
	       st.st_mode & 07777);
	close(fd);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/dev/shm/wardconf-tmpfile.%d", (int)getpid());
	cleanup();
	if (mkdir(dir, 0700) < 0) {
		printf("mkdir failed: %s\n", conf_errname(errno));
		return 1;
	}
	atexit(cleanup);
	umask(022);
	char p[PATH_MAX + 16];

	CHECK("O_TMPFILE|O_RDONLY", open(dir, O_TMPFILE | O_RDONLY, 0600));
	CHECK("O_TMPFILE|O_CREAT", open(dir, O_TMPFILE | O_CREAT | O_RDWR, 0600));
	snprintf(p, sizeof(p), "%s/missing", dir);
	CHECK("missing dir", open(p, O_TMPFILE | O_RDWR, 0600));
	snprintf(p, sizeof(p), "%s/plain", dir);
	int plain = open(p, O_CREAT | O_RDWR, 0644);
	CHECK("on a file", open(p, O_TMPFILE | O_RDWR, 0600));

	int fd = open(dir, O_TMPFILE | O_RDWR, 0666);
	CHECK_OK("O_TMPFILE|O_RDWR", fd);
	CHECK("write", write(fd, "hello", 5));
	struct stat st;
	fstat(fd, &st);
	printf("fstat: reg=%d nlink=%ju size=%jd mode=%o\n", S_ISREG(st.st_mode), (uintmax_t)st.st_nlink,
	       (intmax_t)st.st_size, st.st_mode & 07777);
	show_link("fd link", fd);
	int before = 0;
	{
		/* the directory lists nothing new */
		snprintf(p, sizeof(p), "%s/a", dir);
		before = access(p, F_OK);
	}
	printf("no name yet: %d\n", before < 0);

	CHECK("linkat AT_EMPTY_PATH", linkat(fd, "", AT_FDCWD, p, AT_EMPTY_PATH));
	show_file("a", "a");
	fstat(fd, &st);
	printf("after link nlink=%ju\n", (uintmax_t)st.st_nlink);
	CHECK("linkat again (name exists)", linkat(fd, "", AT_FDCWD, p, AT_EMPTY_PATH));
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	snprintf(p, sizeof(p), "%s/b", dir);
	CHECK("linkat via /proc/self/fd", linkat(AT_FDCWD, proc, AT_FDCWD, p, AT_SYMLINK_FOLLOW));
	show_file("b", "b");
	close(fd);

	/* O_EXCL: never linkable */
	int ex = open(dir, O_TMPFILE | O_WRONLY | O_EXCL, 0600);
	CHECK_OK("O_TMPFILE|O_EXCL", ex);
	snprintf(p, sizeof(p), "%s/c", dir);
	CHECK("linkat O_EXCL tmpfile", linkat(ex, "", AT_FDCWD, p, AT_EMPTY_PATH));
	close(ex);

	/* an unlinked ordinary file cannot come back either */
	snprintf(p, sizeof(p), "%s/plain", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/d", dir);
	CHECK("linkat unlinked file", linkat(plain, "", AT_FDCWD, p, AT_EMPTY_PATH));
	close(plain);

	/* a tmpfile in a directory with the umask applied */
	umask(077);
	int um = open(dir, O_TMPFILE | O_RDWR, 0666);
	fstat(um, &st);
	printf("umask applied: mode=%o\n", st.st_mode & 07777);
	close(um);
	return 0;
}
