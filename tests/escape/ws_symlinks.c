/* Symlinks in the workspace resolve in the sandbox's view, never the host's: the guest
 * plants them (the gofer stores targets verbatim and never follows one) and follows
 * them. An absolute link to /etc/hostname reads the sandbox's /etc/hostname (the
 * host's, read-only, as policy shows /etc); a link made of ".." climbs to the sandbox's
 * root and no further; links to host files that are not exported (run_escape.sh's
 * secrets) are ENOENT; to a denied file, EACCES. The workspace is the current
 * directory, which run_escape.sh makes. */
#include "escape.h"
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

static long slurp(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	long n = 0, r;

	if (fd < 0)
		return -errno;
	while ((size_t)n < cap && (r = read(fd, buf + n, cap - (size_t)n)) > 0)
		n += r;
	if (r < 0)
		n = -errno;
	close(fd);
	return n;
}

static void plant(const char *target, const char *name)
{
	if (symlink(target, name) < 0)
		ESC_FAIL("cannot make the test link %s -> %s: %s", name, target, esc_errname(errno));
}

/* Opening name must fail: not exported, or denied. */
static void unreachable(const char *name, const char *target)
{
	char buf[256];
	long n;

	plant(target, name);
	n = slurp(name, buf, sizeof(buf));
	if (n >= 0)
		ESC_FAIL("%s -> %s: read %ld bytes of a host file that is not shown", name, target, n);
	else if (n != -ENOENT && n != -EACCES)
		ESC_FAIL("%s -> %s: %s, expected ENOENT or EACCES", name, target, esc_errname(-n));
	else
		printf("%s -> (host file): %s\n", name, esc_errname(-n));
}

/* Sorted-insensitive set comparison of two directory listings. */
static int same_listing(const char *a, const char *b)
{
	struct dirent **la, **lb;
	int na = scandir(a, &la, NULL, alphasort), nb = scandir(b, &lb, NULL, alphasort);
	int same = na >= 0 && na == nb;

	for (int i = 0; same && i < na; i++)
		same = strcmp(la[i]->d_name, lb[i]->d_name) == 0;
	for (int i = 0; i < na; i++)
		free(la[i]);
	for (int i = 0; i < nb; i++)
		free(lb[i]);
	if (na >= 0)
		free(la);
	if (nb >= 0)
		free(lb);
	return same;
}

int main(int argc, char **argv)
{
	char a[4096], b[4096], real[PATH_MAX], up[256] = "";
	struct stat sy, sroot;
	long na, nb;

	if (argc < 3) {
		printf("usage: %s SECRET SIBLING\n", argv[0]);
		return 2;
	}

	plant("/etc/hostname", "x");
	na = slurp("x", a, sizeof(a));
	nb = slurp("/etc/hostname", b, sizeof(b));
	if (na != nb || (na > 0 && memcmp(a, b, (size_t)na) != 0))
		ESC_FAIL("x -> /etc/hostname reads something else than the sandbox's /etc/hostname");
	else
		printf("x -> /etc/hostname: the sandbox's /etc/hostname (%s)\n",
		       na >= 0 ? "readable" : esc_errname(-na));

	for (int i = 0; i < 40; i++)
		strcat(up, "../");
	plant(up, "y");
	if (stat("y", &sy) < 0 || stat("/", &sroot) < 0)
		ESC_FAIL("stat y or /: %s", esc_errname(errno));
	else if (sy.st_dev != sroot.st_dev || sy.st_ino != sroot.st_ino)
		ESC_FAIL("y -> ../../.. is not the sandbox's root");
	else
		printf("y -> ../(x40): the sandbox's root\n");
	if (!realpath("y", real) || strcmp(real, "/") != 0)
		ESC_FAIL("realpath(y) is %s, expected /", realpath("y", real) ? real : "an error");
	if (!same_listing("y/", "/"))
		ESC_FAIL("y/ lists other names than the sandbox's /");
	if (!same_listing("y/etc", "/etc"))
		ESC_FAIL("y/etc lists other names than the sandbox's /etc");
	na = slurp("y/etc/passwd", a, sizeof(a));
	nb = slurp("/etc/passwd", b, sizeof(b));
	if (na != nb || (na > 0 && memcmp(a, b, (size_t)na) != 0))
		ESC_FAIL("y/etc/passwd is not the sandbox's /etc/passwd");

	unreachable("z_home_secret", argv[1]);
	unreachable("z_sibling", argv[2]);
	snprintf(a, sizeof(a), "%s%s", up, argv[2] + 1);
	unreachable("z_sibling_relative", a);
	unreachable("z_shadow", "/etc/shadow");
	snprintf(a, sizeof(a), "%setc/shadow", up);
	unreachable("z_shadow_relative", a);
	/* the same through a chain of links and a directory link */
	plant("z_sibling", "z_chain");
	na = slurp("z_chain", a, sizeof(a));
	if (na >= 0)
		ESC_FAIL("z_chain read %ld bytes", na);
	plant("y/etc", "e");
	na = slurp("e/shadow", a, sizeof(a));
	if (na >= 0)
		ESC_FAIL("e/shadow read %ld bytes", na);
	else
		printf("e -> y/etc, e/shadow: %s\n", esc_errname(-na));
	return esc_finish();
}
