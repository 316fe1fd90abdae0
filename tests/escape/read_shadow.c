/* Host secrets that are inside exported directories: /etc/shadow (and gshadow) must be
 * refused however it is named (EACCES expected), including through symlinks and hard links
 * made in /tmp; and /proc/1 is the guest itself, not the host's init: its environ and
 * cmdline are the guest's own. */
#include "escape.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

static void no_open(const char *label, const char *path)
{
	int fd = open(path, O_RDONLY);

	if (fd >= 0) {
		char buf[32];
		ssize_t n = read(fd, buf, sizeof(buf));
		ESC_FAIL("open %s (%s) succeeded, read returned %zd", label, path, n);
		close(fd);
		return;
	}
	printf("open %s: %s\n", label, esc_errname(errno));
	if (errno != EACCES && errno != ENOENT && errno != EPERM)
		ESC_FAIL("open %s failed with %s, expected EACCES", label, esc_errname(errno));
}

static size_t slurp(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	size_t n = 0;
	ssize_t r;

	if (fd < 0)
		return (size_t)-1;
	while (n < cap && (r = read(fd, buf + n, cap - n)) > 0)
		n += (size_t)r;
	close(fd);
	return n;
}

static int contains(const char *buf, size_t len, const char *needle)
{
	return memmem(buf, len, needle, strlen(needle)) != NULL;
}

int main(void)
{
	no_open("/etc/shadow", "/etc/shadow");
	if (access("/etc/shadow", F_OK) == 0 || errno != ENOENT) {
		int fd = open("/etc/shadow", O_RDONLY);
		if (fd < 0 && errno != EACCES)
			ESC_FAIL("/etc/shadow: expected EACCES, got %s", esc_errname(errno));
	}
	no_open("/etc/gshadow", "/etc/gshadow");
	no_open("dot-dot", "/etc/../etc/shadow");
	no_open("double slash", "/etc//shadow");
	no_open("/proc/self/root", "/proc/self/root/etc/shadow");
	int dfd = open("/etc", O_RDONLY | O_DIRECTORY);
	if (dfd >= 0) {
		int fd = openat(dfd, "shadow", O_RDONLY);
		if (fd >= 0)
			ESC_FAIL("openat(/etc fd, shadow) succeeded");
		else
			printf("openat(/etc, shadow): %s\n", esc_errname(errno));
	}
	if (symlink("/etc/shadow", "/tmp/ward-escape-shadow-link") == 0) {
		no_open("symlink in /tmp", "/tmp/ward-escape-shadow-link");
		unlink("/tmp/ward-escape-shadow-link");
	} else {
		printf("symlink in /tmp: %s (skipped)\n", esc_errname(errno));
	}
	if (link("/etc/shadow", "/tmp/ward-escape-shadow-hard") == 0) {
		no_open("hard link in /tmp", "/tmp/ward-escape-shadow-hard");
		unlink("/tmp/ward-escape-shadow-hard");
	} else {
		printf("hard link to /etc/shadow: %s\n", esc_errname(errno));
	}

	/* /proc/1 is this process. */
	static char buf1[1 << 16], buf2[1 << 16];
	printf("getpid: %d\n", getpid());
	size_t n1 = slurp("/proc/1/environ", buf1, sizeof(buf1));
	size_t n2 = slurp("/proc/self/environ", buf2, sizeof(buf2));
	if (n1 == (size_t)-1) {
		printf("/proc/1/environ: %s\n", esc_errname(errno));
	} else {
		if (contains(buf1, n1, "WARD_HOST_SECRET"))
			ESC_FAIL("/proc/1/environ contains the host's WARD_HOST_SECRET");
		if (n2 != (size_t)-1 && (n1 != n2 || memcmp(buf1, buf2, n1) != 0))
			ESC_FAIL("/proc/1/environ differs from /proc/self/environ: /proc/1 is not the guest");
		else
			printf("/proc/1/environ: the guest's own (%zu bytes)\n", n1);
		size_t want = 0;
		for (char **e = environ; *e; e++)
			want += strlen(*e) + 1;
		if (n1 != want)
			ESC_FAIL("/proc/1/environ has %zu bytes, the guest's environ has %zu", n1, want);
	}
	n1 = slurp("/proc/1/cmdline", buf1, sizeof(buf1));
	if (n1 != (size_t)-1) {
		if (strstr(buf1, "ward-escape") == NULL && strstr(buf1, "read_shadow") == NULL)
			ESC_FAIL("/proc/1/cmdline is \"%.60s\", not this program", buf1);
		else
			printf("/proc/1/cmdline: this program\n");
	}
	return esc_finish();
}
