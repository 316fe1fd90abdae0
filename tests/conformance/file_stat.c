/* fstat/stat/lstat/newfstatat/statx agree with each other and report type, mode and size. */
#include "conf.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const char *type_of(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return "reg";
	case S_IFDIR: return "dir";
	case S_IFLNK: return "lnk";
	case S_IFCHR: return "chr";
	case S_IFBLK: return "blk";
	case S_IFIFO: return "fifo";
	case S_IFSOCK: return "sock";
	}
	return "?";
}

static void show(const char *label, const struct stat *st, int with_size)
{
	printf("%s: type=%s perm=%04o", label, type_of(st->st_mode), st->st_mode & 07777);
	if (with_size)
		printf(" size=%lld", (long long)st->st_size);
	if (S_ISCHR(st->st_mode))
		printf(" rdev=%u,%u", major(st->st_rdev), minor(st->st_rdev));
	printf("\n");
}

int main(void)
{
	struct stat a, b, c, d;
	struct statx sx;
	const char *file = "/usr/include/stdio.h";

	CHECK("stat file", stat(file, &a));
	show("  stat", &a, 1);
	BOOL("  nlink is 1", a.st_nlink == 1);
	int fd = open(file, O_RDONLY);
	CHECK("fstat", fstat(fd, &b));
	CHECK("newfstatat AT_FDCWD", fstatat(AT_FDCWD, file, &c, 0));
	int dfd = open("/usr/include", O_RDONLY | O_DIRECTORY);
	CHECK("newfstatat relative", fstatat(dfd, "stdio.h", &d, 0));
	BOOL("  all four agree (dev, ino, size, mode, mtime)",
	     a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_ino == c.st_ino &&
		     a.st_ino == d.st_ino && a.st_size == b.st_size && a.st_size == d.st_size &&
		     a.st_mode == d.st_mode && a.st_mtim.tv_sec == d.st_mtim.tv_sec &&
		     a.st_mtim.tv_nsec == b.st_mtim.tv_nsec);
	CHECK("newfstatat AT_EMPTY_PATH", fstatat(fd, "", &c, AT_EMPTY_PATH));
	BOOL("  same inode as fstat", c.st_ino == b.st_ino);
	CHECK("newfstatat empty path without flag", fstatat(fd, "", &c, 0));
	CHECK("newfstatat bad flags", fstatat(AT_FDCWD, file, &c, 0x40000000));
	CHECK("newfstatat relative to file fd", fstatat(fd, "x", &c, 0));

	CHECK("statx", statx(AT_FDCWD, file, 0, STATX_BASIC_STATS, &sx));
	printf("  statx: basic mask present=%s type=%s perm=%04o size=%llu\n",
	       (sx.stx_mask & (STATX_TYPE | STATX_MODE | STATX_SIZE | STATX_INO)) ==
			       (STATX_TYPE | STATX_MODE | STATX_SIZE | STATX_INO) ? "yes" : "no",
	       type_of(sx.stx_mode), sx.stx_mode & 07777, (unsigned long long)sx.stx_size);
	BOOL("  statx agrees with stat (ino, size, mtime, nlink)",
	     sx.stx_ino == a.st_ino && (off_t)sx.stx_size == a.st_size &&
		     sx.stx_mtime.tv_sec == a.st_mtim.tv_sec && sx.stx_nlink == a.st_nlink);
	CHECK("statx AT_EMPTY_PATH on fd", statx(fd, "", AT_EMPTY_PATH, STATX_SIZE, &sx));
	BOOL("  size agrees", (off_t)sx.stx_size == a.st_size);
	CHECK("statx reserved mask bit", statx(AT_FDCWD, file, 0, STATX__RESERVED, &sx));
	CHECK("statx bad flags", statx(AT_FDCWD, file, 0x40000000, STATX_BASIC_STATS, &sx));
	CHECK("statx missing", statx(AT_FDCWD, "/usr/include/no-such-file", 0, STATX_BASIC_STATS, &sx));

	CHECK("stat directory", stat("/usr/include", &a));
	show("  stat", &a, 0);
	CHECK("stat /dev/null", stat("/dev/null", &a));
	show("  stat", &a, 0);
	CHECK("stat /dev/zero", stat("/dev/zero", &a));
	show("  stat", &a, 0);
	CHECK("stat /dev/urandom", stat("/dev/urandom", &a));
	show("  stat", &a, 0);
	CHECK("stat /tmp", stat("/tmp", &a));
	show("  stat", &a, 0);

	/* /etc/os-release is a relative symlink to ../usr/lib/os-release on systemd distros. */
	CHECK("lstat /etc/os-release", lstat("/etc/os-release", &a));
	CHECK("stat /etc/os-release", stat("/etc/os-release", &b));
	CHECK("stat /usr/lib/os-release", stat("/usr/lib/os-release", &c));
	printf("  lstat type=%s stat type=%s\n", type_of(a.st_mode), type_of(b.st_mode));
	BOOL("  stat follows the link", b.st_ino == c.st_ino && b.st_dev == c.st_dev);
	BOOL("  lstat size is the target length", S_ISLNK(a.st_mode) ? a.st_size == 21 : 1);
	CHECK("newfstatat AT_SYMLINK_NOFOLLOW", fstatat(AT_FDCWD, "/etc/os-release", &d, AT_SYMLINK_NOFOLLOW));
	BOOL("  same as lstat", d.st_ino == a.st_ino && d.st_mode == a.st_mode);

	CHECK("stat missing", stat("/usr/include/no-such-file", &a));
	CHECK("stat through file", stat("/usr/include/stdio.h/x", &a));
	CHECK("stat empty path", stat("", &a));
	CHECK("fstat bad fd", fstat(-1, &a));
	CHECK("stat bad buffer", stat(file, (struct stat *)8));
	return 0;
}
