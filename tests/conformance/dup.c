/* dup/dup2/dup3: lowest free descriptor, replacing an open descriptor, close-on-exec flags,
 * and the shared file offset of duplicated descriptors. Expects only 0, 1, 2 open at start. */
#include "conf.h"
#include <fcntl.h>
#include <unistd.h>

int main(void)
{
	int fd = open("/usr/include/stdio.h", O_RDONLY);
	char c;

	printf("first open: fd=%d\n", fd);
	CHECK("dup", dup(fd));
	CHECK("dup again", dup(fd));
	CHECK("close 4", close(4));
	CHECK("dup fills the hole", dup(fd));
	CHECK("dup2 to 10", dup2(fd, 10));
	CHECK("dup2 onto itself", dup2(fd, fd));
	CHECK("dup2 onto itself bad fd", dup2(77, 77));
	CHECK("dup2 bad oldfd", dup2(77, 11));
	CHECK("dup2 newfd out of range", dup2(fd, 1 << 30));
	CHECK("dup2 newfd negative", dup2(fd, -1));
	int nul = open("/dev/null", O_RDONLY);
	printf("open /dev/null: fd=%d\n", nul);
	CHECK("dup2 replaces open fd 10", dup2(nul, 10));
	CHECK("  read from 10 is /dev/null EOF", read(10, &c, 1));
	CHECK("dup3 with O_CLOEXEC", dup3(fd, 12, O_CLOEXEC));
	CHECK("  F_GETFD", fcntl(12, F_GETFD));
	CHECK("dup3 without flags", dup3(fd, 13, 0));
	CHECK("  F_GETFD", fcntl(13, F_GETFD));
	CHECK("dup3 same fd", dup3(fd, fd, 0));
	CHECK("dup3 bad flags", dup3(fd, 14, O_NONBLOCK));
	CHECK("dup bad fd", dup(-1));
	CHECK("dup does not copy FD_CLOEXEC", fcntl(dup(12), F_GETFD));

	/* Duplicates share one open file description: one offset. */
	int a = open("/usr/include/stdio.h", O_RDONLY);
	int b = dup(a);
	CHECK("lseek a to 100", lseek(a, 100, SEEK_SET));
	CHECK("  offset of b", lseek(b, 0, SEEK_CUR));
	CHECK("read 1 byte through b", read(b, &c, 1));
	CHECK("  offset of a", lseek(a, 0, SEEK_CUR));
	int other = open("/usr/include/stdio.h", O_RDONLY);
	CHECK("  separate open has its own offset", lseek(other, 0, SEEK_CUR));
	close(a);
	CHECK("b still works after closing a", read(b, &c, 1));

	/* stdout duplicated: writes through the copy land in the same output. */
	fflush(stdout);
	int out = dup(1);
	CHECK("write through dup of stdout", write(out, "via dup\n", 8));
	CHECK("dup2 over stdout then write", (dup2(out, 1), write(1, "via dup2\n", 9)));
	return 0;
}
