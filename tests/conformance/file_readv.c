/* readv/preadv scatter into several buffers in order; edge cases of the iovec count. */
#include "conf.h"
#include <fcntl.h>
#include <limits.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

int main(void)
{
	const char *path = "/usr/include/stdio.h";
	char whole[300], a[10], b[1], c[289], z[5];
	struct iovec iov[4] = { { a, sizeof(a) }, { b, sizeof(b) }, { z, 0 }, { c, sizeof(c) } };
	int fd = open(path, O_RDONLY);

	CHECK("read reference", read(fd, whole, sizeof(whole)));
	lseek(fd, 0, SEEK_SET);
	CHECK("readv 4 iovecs", readv(fd, iov, 4));
	BOOL("readv scattered in order", memcmp(a, whole, 10) == 0 && b[0] == whole[10] &&
						 memcmp(c, whole + 11, sizeof(c)) == 0);
	CHECK("offset after readv", lseek(fd, 0, SEEK_CUR));
	memset(a, 0, sizeof(a));
	CHECK("preadv at 5", preadv(fd, iov, 2, 5));
	BOOL("preadv data", memcmp(a, whole + 5, 10) == 0 && b[0] == whole[15]);
	CHECK("offset after preadv", lseek(fd, 0, SEEK_CUR));
	CHECK("readv iovcnt 0", readv(fd, iov, 0));
	CHECK("readv iovcnt -1", syscall(SYS_readv, fd, iov, -1));
	CHECK("readv iovcnt IOV_MAX+1", syscall(SYS_readv, fd, iov, IOV_MAX + 1));
	CHECK("readv bad fd", readv(-1, iov, 1));
	struct iovec bad = { (void *)1, 10 };
	CHECK("readv bad buffer", readv(fd, &bad, 1));
	CHECK("readv bad iov pointer", syscall(SYS_readv, fd, (struct iovec *)1, 1));
	lseek(fd, 0, SEEK_END);
	CHECK("readv at EOF", readv(fd, iov, 4));
	return 0;
}
