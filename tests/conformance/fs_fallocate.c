/* fallocate on tmpfs (/dev/shm natively and under ward) and on a file in the working
 * directory: the modes tmpfs serves (0, KEEP_SIZE, PUNCH_HOLE|KEEP_SIZE) with their
 * effect on size, blocks and contents, the modes it refuses, and the argument and
 * descriptor errors Linux checks first. */
#include "conf.h"
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

static char path[PATH_MAX];

static void cleanup(void)
{
	unlink(path);
}

static void show(const char *label, int fd, bool blocks)
{
	struct stat st;
	fstat(fd, &st);
	if (blocks)
		printf("%s: size=%jd blocks=%jd\n", label, (intmax_t)st.st_size, (intmax_t)st.st_blocks);
	else
		printf("%s: size=%jd\n", label, (intmax_t)st.st_size);
}

static void contents(const char *label, int fd, off_t off, size_t n)
{
	char buf[64];
	uint64_t h = CONF_FNV_INIT;
	ssize_t r = pread(fd, buf, n, off);
	if (r > 0)
		h = conf_fnv1a(h, buf, (size_t)r);
	int zeros = 0;
	for (ssize_t i = 0; i < r; i++)
		zeros += buf[i] == 0;
	printf("%s: read=%zd zeros=%d hash=%016llx\n", label, r, zeros, (unsigned long long)h);
}

static void modes(const char *where, int fd, bool tmpfs)
{
	char label[128];
#define L(s) (snprintf(label, sizeof(label), "%s %s", where, s), label)
	CHECK(L("mode 0 grows"), fallocate(fd, 0, 0, 10000));
	show(L("after mode 0"), fd, tmpfs);
	CHECK(L("KEEP_SIZE past the end"), fallocate(fd, FALLOC_FL_KEEP_SIZE, 10000, 20000));
	show(L("after KEEP_SIZE"), fd, tmpfs);
	CHECK(L("mode 0 inside"), fallocate(fd, 0, 100, 100));
	show(L("after mode 0 inside"), fd, false);
	char data[40];
	memset(data, 'x', sizeof(data));
	pwrite(fd, data, sizeof(data), 4090);
	CHECK(L("PUNCH_HOLE|KEEP_SIZE"), fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4095, 10));
	contents(L("punched"), fd, 4088, 44);
	show(L("after punch"), fd, false);
	CHECK(L("PUNCH_HOLE alone"), fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 10));
	CHECK(L("PUNCH past the end"), fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 50000, 10));
	show(L("after punch past end"), fd, false);
	if (tmpfs) {
		CHECK(L("ZERO_RANGE"), fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, 10));
		CHECK(L("COLLAPSE_RANGE"), fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, 4096));
		CHECK(L("INSERT_RANGE"), fallocate(fd, FALLOC_FL_INSERT_RANGE, 0, 4096));
		CHECK(L("punch whole pages"), fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 8192));
		show(L("after punching pages"), fd, true);
	}
	CHECK(L("unknown bit"), fallocate(fd, 0x1000, 0, 10));
	CHECK(L("len 0"), fallocate(fd, 0, 0, 0));
	CHECK(L("negative offset"), fallocate(fd, 0, -1, 10));
	CHECK(L("past the largest offset"), fallocate(fd, 0, INT64_MAX - 10, 100));
#undef L
}

int main(void)
{
	snprintf(path, sizeof(path), "/dev/shm/wardconf-falloc.%d", (int)getpid());
	atexit(cleanup);
	int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	modes("tmpfs", fd, true);
	close(fd);
	unlink(path);

	fd = open("falloc.dat", O_CREAT | O_RDWR | O_TRUNC, 0600);
	modes("cwd", fd, false);
	close(fd);
	unlink("falloc.dat");

	fd = open(path, O_CREAT | O_RDONLY, 0600);
	CHECK("read-only fd", fallocate(fd, 0, 0, 10));
	close(fd);
	CHECK("bad fd", fallocate(-1, 0, 0, 10));
	int p[2];
	pipe(p);
	CHECK("pipe", fallocate(p[1], 0, 0, 10));
	fd = open("/dev/null", O_WRONLY);
	CHECK("/dev/null", fallocate(fd, 0, 0, 10));
	fd = open("/dev/shm", O_RDONLY | O_DIRECTORY);
	CHECK("directory", fallocate(fd, 0, 0, 10));
	fd = open(path, O_PATH);
	CHECK("O_PATH", fallocate(fd, 0, 0, 10));
	return 0;
}
