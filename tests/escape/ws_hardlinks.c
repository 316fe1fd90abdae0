/* Hard links from the workspace to files outside it are refused, however the guest
 * names the file: the workspace is its own filesystem in the sandbox (EXDEV), and the
 * gofer links only within one writable export. Nothing may appear in the workspace
 * (the current directory, which run_escape.sh makes) or on the host. */
#include "escape.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static void no_link(const char *label, int ret, const char *name)
{
	struct stat st;

	if (ret == 0)
		ESC_FAIL("%s: the link was made", label);
	else if (errno != EXDEV && errno != EPERM && errno != ENOENT && errno != EACCES)
		ESC_FAIL("%s: %s, expected EXDEV or EPERM", label, esc_errname(errno));
	else
		printf("%s: %s\n", label, esc_errname(errno));
	if (lstat(name, &st) == 0)
		ESC_FAIL("%s: %s exists in the workspace", label, name);
}

int main(int argc, char **argv)
{
	char path[64];
	int fd;

	if (argc < 5) {
		printf("usage: %s SECRET SIBLING HOSTPID VICTIM\n", argv[0]);
		return 2;
	}
	no_link("link /bin/sh", link("/bin/sh", "ls"), "ls");
	no_link("link /usr/bin/ls", link("/usr/bin/ls", "ls"), "ls");
	no_link("link /etc/passwd", link("/etc/passwd", "pw"), "pw");
	no_link("link /etc/shadow", link("/etc/shadow", "sh"), "sh");
	no_link("link the export's victim", link(argv[4], "v"), "v");
	no_link("link the sibling secret", link(argv[2], "s"), "s");
	no_link("link the home secret", link(argv[1], "h"), "h");
	fd = open("/etc/passwd", O_RDONLY);
	if (fd >= 0) {
		no_link("linkat AT_EMPTY_PATH /etc/passwd",
			linkat(fd, "", AT_FDCWD, "pw2", AT_EMPTY_PATH), "pw2");
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		no_link("linkat /proc/self/fd of /etc/passwd",
			linkat(AT_FDCWD, path, AT_FDCWD, "pw3", AT_SYMLINK_FOLLOW), "pw3");
		close(fd);
	}
	/* a link inside the workspace is fine, and is what the gofer does allow */
	fd = open("mine", O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0 || link("mine", "mine2") < 0)
		ESC_NOTE("a link within the workspace failed: %s", esc_errname(errno));
	if (fd >= 0)
		close(fd);
	return esc_finish();
}
