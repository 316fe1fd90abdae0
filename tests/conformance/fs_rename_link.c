/* Names and attributes of files under /tmp: rename (over a file, over an open file, onto
 * itself, directories over empty and non-empty directories, into their own subdirectory,
 * file/dir mismatches), renameat2 RENAME_NOREPLACE and RENAME_EXCHANGE, link and st_nlink,
 * unlink of an open file (still readable and writable, fstat nlink 0, the name is free
 * again), rmdir/unlink errors, chmod/fchmod/fchmodat modes and umask, chown and the setuid
 * bit, truncate/ftruncate grow and shrink, and utimensat/futimens with explicit times and
 * UTIME_OMIT (only the times set are printed, never the current time). */
#include "conf.h"
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static char dir[64];

static const char *P(const char *name)
{
	static char bufs[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(bufs[i], sizeof(bufs[i]), "%s/%s", dir, name);
	return bufs[i];
}

static void put(const char *name, const char *content)
{
	int fd = open(P(name), O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content) || close(fd) != 0) {
		printf("cannot create %s: %s\n", name, conf_errname(errno));
		exit(98);
	}
}

static void show(const char *name)
{
	char buf[128] = { 0 };
	int fd = open(P(name), O_RDONLY);

	if (fd < 0) {
		printf("  %s: %s\n", name, conf_errname(errno));
		return;
	}
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	printf("  %s: \"%.*s\"\n", name, (int)(n > 0 ? n : 0), buf);
}

static void show_fd(const char *label, int fd)
{
	char buf[128] = { 0 };
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	printf("  %s: ret=%ld \"", label, (long)n);
	for (ssize_t i = 0; i < n; i++)
		if (buf[i])
			putchar(buf[i]);
		else
			printf("\\0");
	printf("\"\n");
}

static long nlink(const char *name)
{
	struct stat st;

	return stat(P(name), &st) == 0 ? (long)st.st_nlink : -1;
}

static void show_mode(const char *name)
{
	struct stat st;

	if (stat(P(name), &st) != 0)
		printf("  %s: %s\n", name, conf_errname(errno));
	else
		printf("  %s: mode %06o\n", name, st.st_mode);
}

static void list(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char names[32][64];
	int n = 0;

	while (d && (e = readdir(d)) && n < 32)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			snprintf(names[n++], sizeof(names[0]), "%.63s", e->d_name);
	if (d)
		closedir(d);
	/* sort: directory order is the file system's business */
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (strcmp(names[i], names[j]) > 0) {
				char t[64];
				memcpy(t, names[i], 64);
				memcpy(names[i], names[j], 64);
				memcpy(names[j], t, 64);
			}
	printf("  entries:");
	for (int i = 0; i < n; i++)
		printf(" %s", names[i]);
	printf("\n");
}

static void times_of(const char *name, int flags)
{
	struct stat st;

	if (fstatat(AT_FDCWD, P(name), &st, flags) != 0) {
		printf("  %s: %s\n", name, conf_errname(errno));
		return;
	}
	printf("  %s: atime=%lld.%09ld mtime=%lld.%09ld\n", name, (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
	       (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

static int renameat2_(const char *a, const char *b, unsigned flags)
{
	return (int)syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, flags);
}

int main(void)
{
	struct stat st;
	int fd;

	snprintf(dir, sizeof(dir), "%s", conf_tmpdir());
	umask(022);

	SAY("-- rename\n");
	put("a", "apple");
	put("b", "banana");
	CHECK_OK("open b (kept open)", fd = open(P("b"), O_RDONLY));
	CHECK("rename a over b", rename(P("a"), P("b")));
	show("a");
	show("b");
	show_fd("the open b still reads the replaced file", fd);
	CHECK("fstat the replaced file", fstat(fd, &st));
	printf("  nlink %ld\n", (long)st.st_nlink);
	close(fd);
	CHECK("rename b onto itself", rename(P("b"), P("b")));
	show("b");
	CHECK("rename missing", rename(P("nope"), P("x")));
	CHECK("rename into a missing directory", rename(P("b"), P("nodir/b")));
	CHECK("rename with a file as a directory", rename(P("b"), P("b/c")));
	CHECK("mkdir d1", mkdir(P("d1"), 0755));
	CHECK("mkdir d2", mkdir(P("d2"), 0755));
	CHECK("mkdir d1/sub", mkdir(P("d1/sub"), 0755));
	put("d2/inner", "inner");
	CHECK("rename file over a directory", rename(P("b"), P("d1")));
	CHECK("rename directory over a file", rename(P("d1"), P("b")));
	CHECK("rename directory over a non-empty directory", rename(P("d1"), P("d2")));
	CHECK("rename directory into its own subdirectory", rename(P("d1"), P("d1/sub/x")));
	CHECK("rename directory onto its own child", rename(P("d1"), P("d1/sub")));
	CHECK("rename \".\"", rename(P("d1/."), P("d3")));
	CHECK("rename directory with trailing slash", rename(P("d2/"), P("d3/")));
	put("ts", "trailing slash");
	CHECK("rename file with trailing slash on the source", rename(P("ts/"), P("ts2")));
	CHECK("rename file with trailing slash on the target", rename(P("ts"), P("ts2/")));
	CHECK("unlink ts", unlink(P("ts")));
	CHECK("unlink ts2", unlink(P("ts2")));
	CHECK("mkdir empty", mkdir(P("empty"), 0755));
	CHECK("rename directory over an empty directory", rename(P("d3"), P("empty")));
	show("empty/inner");
	list();
	CHECK("rename file into a subdirectory", rename(P("b"), P("empty/b")));
	CHECK("rename it back", rename(P("empty/b"), P("b")));
	list();

	SAY("-- renameat2\n");
	put("x", "ex");
	put("y", "why");
	CHECK("RENAME_NOREPLACE onto an existing name", renameat2_(P("x"), P("y"), RENAME_NOREPLACE));
	CHECK("RENAME_NOREPLACE onto a new name", renameat2_(P("x"), P("z"), RENAME_NOREPLACE));
	show("x");
	show("z");
	CHECK("RENAME_EXCHANGE y and z", renameat2_(P("y"), P("z"), RENAME_EXCHANGE));
	show("y");
	show("z");
	CHECK("RENAME_EXCHANGE with a missing name", renameat2_(P("y"), P("missing"), RENAME_EXCHANGE));
	CHECK("RENAME_EXCHANGE file and directory", renameat2_(P("y"), P("empty"), RENAME_EXCHANGE));
	show("empty");
	show("y/inner");
	CHECK("and back", renameat2_(P("y"), P("empty"), RENAME_EXCHANGE));
	CHECK("RENAME_NOREPLACE|RENAME_EXCHANGE", renameat2_(P("y"), P("z"), RENAME_NOREPLACE | RENAME_EXCHANGE));
	CHECK("unknown flag", renameat2_(P("y"), P("z"), 0x80));
	list();

	SAY("-- link\n");
	printf("nlink of y: %ld\n", nlink("y"));
	CHECK("link y l1", link(P("y"), P("l1")));
	CHECK("link y l2", link(P("y"), P("l2")));
	printf("nlink of y, l1, l2: %ld %ld %ld\n", nlink("y"), nlink("l1"), nlink("l2"));
	struct stat s1, s2;
	stat(P("y"), &s1);
	stat(P("l2"), &s2);
	BOOL("same inode", s1.st_ino == s2.st_ino && s1.st_dev == s2.st_dev);
	CHECK("link onto an existing name", link(P("y"), P("z")));
	CHECK("link a directory", link(P("empty"), P("dl")));
	CHECK("link a missing file", link(P("missing"), P("m2")));
	CHECK("linkat into a missing directory", linkat(AT_FDCWD, P("y"), AT_FDCWD, P("nodir/y"), 0));
	CHECK("append through l1", (fd = open(P("l1"), O_WRONLY | O_APPEND)) >= 0 ? write(fd, "+", 1) : -1);
	close(fd);
	show("y");
	CHECK("unlink y", unlink(P("y")));
	printf("nlink of l1, l2: %ld %ld\n", nlink("l1"), nlink("l2"));
	CHECK("rename l1 over l2 (same file: no-op)", rename(P("l1"), P("l2")));
	list();
	printf("nlink of l1: %ld\n", nlink("l1"));
	CHECK("unlink l2", unlink(P("l2")));
	printf("nlink of l1: %ld\n", nlink("l1"));

	SAY("-- unlink while open\n");
	put("u", "unlinked but open");
	CHECK_OK("open u O_RDWR", fd = open(P("u"), O_RDWR));
	CHECK("unlink u", unlink(P("u")));
	CHECK("stat u", stat(P("u"), &st));
	show_fd("read through the fd", fd);
	CHECK("fstat", fstat(fd, &st));
	printf("  nlink %ld size %ld\n", (long)st.st_nlink, (long)st.st_size);
	CHECK("pwrite at 100", pwrite(fd, "tail", 4, 100));
	CHECK("fstat", fstat(fd, &st));
	printf("  size %ld\n", (long)st.st_size);
	CHECK("ftruncate to 8", ftruncate(fd, 8));
	show_fd("read after ftruncate", fd);
	put("u", "new file");
	show("u");
	show_fd("the old fd is unaffected", fd);
	close(fd);
	CHECK("unlink twice", unlink(P("u")) == 0 ? unlink(P("u")) : -2);
	CHECK("unlink a directory", unlink(P("empty")));
	CHECK("rmdir a non-empty directory", rmdir(P("d1")));
	CHECK("rmdir a file", rmdir(P("z")));
	CHECK("rmdir \".\"", rmdir(P("d1/.")));
	CHECK("rmdir missing", rmdir(P("missing")));

	SAY("-- chmod\n");
	put("m", "mode");
	show_mode("m");
	CHECK("chmod 0600", chmod(P("m"), 0600));
	show_mode("m");
	CHECK("chmod 07777", chmod(P("m"), 07777));
	show_mode("m");
	CHECK("chmod 0", chmod(P("m"), 0));
	show_mode("m");
	CHECK_OK("open m (mode 0, as root: ok)", fd = open(P("m"), O_RDONLY));
	CHECK("fchmod 0640", fchmod(fd, 0640));
	show_mode("m");
	CHECK("fchmod with extra high bits 0170755", fchmod(fd, 0170755));
	show_mode("m");
	close(fd);
	CHECK("fchmodat 0444", fchmodat(AT_FDCWD, P("m"), 0444, 0));
	show_mode("m");
	CHECK("chmod directory 0700", chmod(P("d1"), 0700));
	show_mode("d1");
	CHECK("chmod missing", chmod(P("missing"), 0644));
	umask(077);
	CHECK_OK("creat with umask 077", fd = open(P("um"), O_WRONLY | O_CREAT, 0666));
	close(fd);
	show_mode("um");
	CHECK("mkdir with umask 077", mkdir(P("umd"), 0777));
	show_mode("umd");
	CHECK("umask returns the previous mask", umask(022));

	SAY("-- chown\n");
	put("o", "owner");
	CHECK("chown 1234:5678", chown(P("o"), 1234, 5678));
	stat(P("o"), &st);
	printf("  uid=%u gid=%u\n", st.st_uid, st.st_gid);
	CHECK("chown -1:-1 (no change)", chown(P("o"), (uid_t)-1, (gid_t)-1));
	stat(P("o"), &st);
	printf("  uid=%u gid=%u\n", st.st_uid, st.st_gid);
	CHECK("chown -1:42", chown(P("o"), (uid_t)-1, 42));
	stat(P("o"), &st);
	printf("  uid=%u gid=%u\n", st.st_uid, st.st_gid);
	CHECK("chmod 04755", chmod(P("o"), 04755));
	CHECK("chown -1:-1 clears setuid too", chown(P("o"), (uid_t)-1, (gid_t)-1));
	show_mode("o");
	CHECK("chmod 06755", chmod(P("o"), 06755));
	CHECK("chown 0:0 clears setuid/setgid on an executable", chown(P("o"), 0, 0));
	show_mode("o");
	CHECK("chmod 02644 (setgid without group exec)", chmod(P("o"), 02644));
	CHECK("chown 0:0 keeps it", chown(P("o"), 0, 0));
	show_mode("o");
	CHECK_OK("open o", fd = open(P("o"), O_RDONLY));
	CHECK("fchown 7:8", fchown(fd, 7, 8));
	fstat(fd, &st);
	printf("  uid=%u gid=%u\n", st.st_uid, st.st_gid);
	close(fd);
	CHECK("symlink ol -> o", symlink("o", P("ol")));
	CHECK("lchown the link 9:10", lchown(P("ol"), 9, 10));
	lstat(P("ol"), &st);
	printf("  link uid=%u gid=%u\n", st.st_uid, st.st_gid);
	stat(P("ol"), &st);
	printf("  target uid=%u gid=%u\n", st.st_uid, st.st_gid);

	SAY("-- truncate\n");
	put("t", "0123456789");
	CHECK("truncate to 4", truncate(P("t"), 4));
	stat(P("t"), &st);
	printf("  size %ld\n", (long)st.st_size);
	show("t");
	CHECK("truncate to 10000", truncate(P("t"), 10000));
	stat(P("t"), &st);
	printf("  size %ld\n", (long)st.st_size);
	CHECK_OK("open t", fd = open(P("t"), O_RDWR));
	char buf[10000];
	ssize_t n = read(fd, buf, sizeof(buf));
	int zeros = 1;
	for (ssize_t i = 4; i < n; i++)
		if (buf[i])
			zeros = 0;
	printf("  read %ld bytes, bytes after 4 are zero: %s\n", (long)n, zeros ? "yes" : "no");
	CHECK("ftruncate to 2", ftruncate(fd, 2));
	CHECK("offset is unchanged", lseek(fd, 0, SEEK_CUR));
	CHECK("read at the old offset", read(fd, buf, 10));
	CHECK("ftruncate to 6", ftruncate(fd, 6));
	show_fd("content", fd);
	CHECK("ftruncate -1", ftruncate(fd, -1));
	close(fd);
	CHECK_OK("open t O_RDONLY", fd = open(P("t"), O_RDONLY));
	CHECK("ftruncate on a read-only fd", ftruncate(fd, 0));
	close(fd);
	CHECK("truncate a directory", truncate(P("d1"), 0));
	CHECK("truncate missing", truncate(P("missing"), 0));
	CHECK("truncate -1", truncate(P("t"), -1));
	CHECK_OK("open O_WRONLY|O_TRUNC", fd = open(P("t"), O_WRONLY | O_TRUNC));
	fstat(fd, &st);
	printf("  size %ld\n", (long)st.st_size);
	close(fd);
	put("t", "0123456789");
	CHECK_OK("open O_RDWR|O_CREAT|O_TRUNC (exists)", fd = open(P("t"), O_RDWR | O_CREAT | O_TRUNC, 0644));
	fstat(fd, &st);
	printf("  size %ld\n", (long)st.st_size);
	close(fd);
	put("t", "0123456789");
	CHECK_OK("open O_RDONLY|O_TRUNC", fd = open(P("t"), O_RDONLY | O_TRUNC));
	fstat(fd, &st);
	printf("  size %ld\n", (long)st.st_size);
	close(fd);

	SAY("-- utimensat\n");
	put("tm", "time");
	struct timespec ts[2] = { { 1000000000, 123456789 }, { 1234567890, 500000000 } };
	CHECK("utimensat explicit", utimensat(AT_FDCWD, P("tm"), ts, 0));
	times_of("tm", 0);
	struct timespec omit_a[2] = { { 0, UTIME_OMIT }, { 1500000000, 1 } };
	CHECK("utimensat atime UTIME_OMIT", utimensat(AT_FDCWD, P("tm"), omit_a, 0));
	times_of("tm", 0);
	struct timespec omit_m[2] = { { 2000000000, 999999999 }, { 0, UTIME_OMIT } };
	CHECK_OK("open tm", fd = open(P("tm"), O_RDONLY));
	CHECK("futimens mtime UTIME_OMIT", futimens(fd, omit_m));
	times_of("tm", 0);
	struct timespec omit_both[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };
	CHECK("futimens both UTIME_OMIT", futimens(fd, omit_both));
	times_of("tm", 0);
	close(fd);
	struct timespec neg[2] = { { -1, 0 }, { 0, 0 } };
	CHECK("utimensat negative seconds (before 1970)", utimensat(AT_FDCWD, P("tm"), neg, 0));
	times_of("tm", 0);
	struct timespec badns[2] = { { 0, 1000000000 }, { 0, 0 } };
	CHECK("utimensat tv_nsec 1e9", utimensat(AT_FDCWD, P("tm"), badns, 0));
	CHECK("utimensat missing", utimensat(AT_FDCWD, P("missing"), ts, 0));
	CHECK("symlink tl -> tm", symlink("tm", P("tl")));
	struct timespec lts[2] = { { 111, 0 }, { 222, 0 } };
	CHECK("utimensat AT_SYMLINK_NOFOLLOW on the link", utimensat(AT_FDCWD, P("tl"), lts, AT_SYMLINK_NOFOLLOW));
	times_of("tl", AT_SYMLINK_NOFOLLOW);
	times_of("tm", 0);
	CHECK("utimensat bad flags", utimensat(AT_FDCWD, P("tm"), ts, 0x1));
	CHECK("utimensat on a directory", utimensat(AT_FDCWD, P("d1"), ts, 0));
	times_of("d1", 0);
	CHECK("rename keeps the times", rename(P("tm"), P("tm2")));
	times_of("tm2", 0);

	SAY("-- cleanup\n");
	const char *files[] = { "b", "x", "z", "l1", "u", "m", "um", "o", "ol", "t", "tm2", "tl", "empty/inner" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(P(files[i]));
	const char *dirs[] = { "d1/sub", "d1", "empty", "umd" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		rmdir(P(dirs[i]));
	list();
	CHECK("rmdir the test directory", rmdir(dir));
	return 0;
}
