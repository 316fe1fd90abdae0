/* Exported host directories are read-only: the guest must not create, modify, rename, chmod
 * or delete anything in the test-binary directory (exported with --ro-bind), even when ward
 * runs as root. /usr, /etc and / are an overlay: the guest may change them, but only in the
 * sandbox's memory — the harness checks that no ward-escape-* name appears on the host. Existing files are only attacked through a victim file
 * run_escape.sh made for the purpose (argv[4]); new names all start with "ward-escape-" and
 * the harness removes and reports any that appear on the host. */
#include "escape.h"
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static void no_create(const char *label, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);

	if (fd >= 0) {
		ESC_FAIL("created %s on the host", path);
		close(fd);
		unlink(path);
	} else {
		printf("create %s: %s\n", label, esc_errname(errno));
	}
}

#define DENY(what, call)                                              \
	do {                                                          \
		if ((call) == 0)                                      \
			ESC_FAIL("%s succeeded", what);               \
		else                                                  \
			printf("%s: %s\n", what, esc_errname(errno)); \
	} while (0)

/* In the overlay the write succeeds, in sandbox memory only. */
static void overlay_write(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd >= 0) {
		printf("create %s (overlay): in the sandbox\n", path);
		if (write(fd, "x", 1) != 1)
			printf("  write: %s\n", esc_errname(errno));
		close(fd);
	} else {
		printf("create %s (overlay): %s\n", path, esc_errname(errno));
	}
}

int main(int argc, char **argv)
{
	char dir[4096], path[4200];
	int fd;

	if (argc < 5) {
		printf("usage: %s SECRET SIBLING HOSTPID VICTIM\n", argv[0]);
		return 2;
	}
	const char *victim = argv[4];
	snprintf(dir, sizeof(dir), "%s", victim);
	dirname(dir);

	snprintf(path, sizeof(path), "%s/ward-escape-written", dir);
	no_create("file in the export", path);
	overlay_write("/usr/ward-escape-written");
	overlay_write("/etc/ward-escape-written");
	overlay_write("/ward-escape-written");
	snprintf(path, sizeof(path), "%s/ward-escape-dir", dir);
	DENY("mkdir in the export", mkdir(path, 0755));
	printf("mkdir /usr/ward-escape-dir (overlay): %s\n",
	       mkdir("/usr/ward-escape-dir", 0755) == 0 ? "in the sandbox" : esc_errname(errno));
	printf("symlink /usr/ward-escape-link (overlay): %s\n",
	       symlink("/tmp", "/usr/ward-escape-link") == 0 ? "in the sandbox" : esc_errname(errno));
	/* Changing a host file in the overlay copies it up; the host's stays as it was. */
	fd = open("/etc/os-release", O_WRONLY | O_APPEND);
	printf("append to /etc/os-release (overlay): %s\n",
	       fd >= 0 && write(fd, "ward-escape\n", 12) == 12 ? "in the sandbox" : esc_errname(errno));
	if (fd >= 0)
		close(fd);

	fd = open(victim, O_RDWR);
	if (fd >= 0) {
		if (write(fd, "X", 1) == 1)
			ESC_FAIL("wrote into the exported victim file");
		else
			ESC_NOTE("opened the victim O_RDWR, but write failed: %s", esc_errname(errno));
		close(fd);
	} else {
		printf("open victim O_RDWR: %s\n", esc_errname(errno));
	}
	fd = open(victim, O_WRONLY | O_APPEND);
	if (fd >= 0) {
		if (write(fd, "#", 1) == 1)
			ESC_FAIL("appended to the exported victim file");
		close(fd);
	} else {
		printf("open victim O_WRONLY|O_APPEND: %s\n", esc_errname(errno));
	}
	DENY("truncate victim", truncate(victim, 0));
	DENY("chmod victim", chmod(victim, 04777));
	DENY("utimes victim", utimes(victim, NULL));
	snprintf(path, sizeof(path), "%s/ward-escape-renamed", dir);
	DENY("rename victim", rename(victim, path));
	DENY("unlink victim", unlink(victim));
	snprintf(path, sizeof(path), "%s/ward-escape-hardlink", dir);
	DENY("hard link to victim", link(victim, path));
	return esc_finish();
}
