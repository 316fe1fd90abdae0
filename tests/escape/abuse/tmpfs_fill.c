/* Fills the sandbox's memory-backed files past --tmpfs-size: every write past the budget
 * must give ENOSPC (a short write first when part fits), for /tmp, /dev/shm, the overlay's
 * upper layer and memfd alike, since they share the budget; statfs must report it; freeing
 * space must make room again. Usage: tmpfs_fill LIMIT_BYTES MODE, MODE "write" (writes up
 * to 4x the limit, so the limit must be small) or "fallocate" (reserves the limit without
 * touching memory, then writes the last bytes: cheap even for the 1 GiB default). Extended
 * attributes count against the budget too. Prints
 * "ESCAPE-TEST PASS" only if all held. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <unistd.h>

static int failures;

#define EXPECT(cond, ...)                          \
	do {                                       \
		if (!(cond)) {                     \
			printf("FAIL: " __VA_ARGS__); \
			printf("\n");              \
			failures++;                \
		}                                  \
	} while (0)

/* Writes chunks until an error; returns the bytes written and the error in *err. */
static long long fill(int fd, long long max, int *err)
{
	static char chunk[1 << 20];
	long long total = 0;
	memset(chunk, 'w', sizeof(chunk));
	*err = 0;
	while (total < max) {
		ssize_t n = write(fd, chunk, sizeof(chunk));
		if (n < 0) {
			*err = errno;
			break;
		}
		total += n;
	}
	return total;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	long long limit = atoll(argv[1]);
	int err;
	struct statfs sf;
	if (statfs("/tmp", &sf) < 0 || (long long)sf.f_blocks * sf.f_bsize != limit)
		EXPECT(0, "statfs /tmp size %lld, want %lld", (long long)sf.f_blocks * sf.f_bsize, limit);

	int fd = open("/tmp/fill", O_CREAT | O_RDWR | O_TRUNC, 0600);
	if (strcmp(argv[2], "fallocate") == 0) {
		int r = fallocate(fd, 0, 0, limit + 4096);
		EXPECT(r < 0 && errno == ENOSPC, "fallocate past the limit: %d %s", r, strerror(errno));
		r = fallocate(fd, 0, 0, limit - 8192);
		EXPECT(r == 0, "fallocate to the limit: %s", strerror(errno));
		lseek(fd, 0, SEEK_END);
		long long n = fill(fd, 1 << 20, &err);
		EXPECT(n <= 8192 && err == ENOSPC, "write after fallocate: %lld bytes, %s", n, strerror(err));
	} else {
		long long n = fill(fd, 4 * limit, &err);
		EXPECT(err == ENOSPC && n <= limit && n > limit / 2, "write to /tmp: %lld bytes then %s", n,
		       strerror(err));
	}
	EXPECT(statfs("/tmp", &sf) == 0 && sf.f_bfree == 0, "statfs /tmp free %lld blocks", (long long)sf.f_bfree);
	/* The budget is shared: the other memory-backed files are full too. */
	int shm = open("/dev/shm/fill", O_CREAT | O_RDWR | O_TRUNC, 0600);
	long long n = fill(shm, 1 << 22, &err);
	EXPECT(n < 8192 && err == ENOSPC, "/dev/shm: %lld bytes, %s", n, strerror(err));
	int up = open("/etc/ward-fill", O_CREAT | O_RDWR | O_TRUNC, 0600);
	n = up < 0 ? 0 : fill(up, 1 << 22, &err);
	EXPECT(up >= 0 && n < 8192 && err == ENOSPC, "overlay upper: %lld bytes, %s", n, strerror(err));
	static char value[65536];
	int r = setxattr("/dev/shm/fill", "user.big", value, sizeof(value), 0);
	EXPECT(r < 0 && errno == ENOSPC, "xattrs are charged too: %d %s", r, strerror(errno));
	int mfd = memfd_create("fill", 0);
	n = fill(mfd, 1 << 22, &err);
	EXPECT(n < 8192 && err == ENOSPC, "memfd: %lld bytes, %s", n, strerror(err));
	EXPECT(ftruncate(mfd, limit * 2) == 0, "a sparse ftruncate costs nothing: %s", strerror(errno));
	/* Room comes back when files shrink or go. */
	EXPECT(ftruncate(fd, 0) == 0, "ftruncate");
	n = fill(shm, 1 << 20, &err);
	EXPECT(n == 1 << 20, "/dev/shm after freeing: %lld bytes, %s", n, strerror(err));
	close(fd);
	unlink("/tmp/fill");
	printf(failures ? "ESCAPE-TEST FAIL\n" : "ESCAPE-TEST PASS\n");
	return failures != 0;
}
