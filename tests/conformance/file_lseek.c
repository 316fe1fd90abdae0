/* lseek: every whence, seeking past the end, and the error cases. */
#include "conf.h"
#include <fcntl.h>
#include <unistd.h>

int main(void)
{
	int fd = open("/usr/include/stdio.h", O_RDONLY);
	off_t size = lseek(fd, 0, SEEK_END);
	char c;

	BOOL("size > 1000", size > 1000);
	CHECK("SEEK_SET 100", lseek(fd, 100, SEEK_SET));
	CHECK("SEEK_CUR +10", lseek(fd, 10, SEEK_CUR));
	CHECK("SEEK_CUR -20", lseek(fd, -20, SEEK_CUR));
	CHECK("SEEK_CUR 0", lseek(fd, 0, SEEK_CUR));
	BOOL("SEEK_END 0 is size", lseek(fd, 0, SEEK_END) == size);
	BOOL("SEEK_END -1 is size-1", lseek(fd, -1, SEEK_END) == size - 1);
	CHECK("read last byte", read(fd, &c, 1));
	BOOL("last byte is newline", c == '\n');
	BOOL("SEEK_END +1000 is size+1000", lseek(fd, 1000, SEEK_END) == size + 1000);
	CHECK("read past end", read(fd, &c, 1));
	CHECK("SEEK_SET -1", lseek(fd, -1, SEEK_SET));
	CHECK("SEEK_CUR to negative", lseek(fd, -100000000, SEEK_CUR));
	CHECK("SEEK_END to negative", lseek(fd, -size - 1, SEEK_END));
	CHECK("whence 99", lseek(fd, 0, 99));
	CHECK("bad fd", lseek(-1, 0, SEEK_SET));
	CHECK("closed fd", lseek(77, 0, SEEK_SET));
	CHECK("SEEK_SET 0", lseek(fd, 0, SEEK_SET));
	CHECK("read first byte", read(fd, &c, 1));
	CHECK("offset after read", lseek(fd, 0, SEEK_CUR));
	int dfd = open("/usr/include", O_RDONLY | O_DIRECTORY);
	CHECK("lseek directory to 0", lseek(dfd, 0, SEEK_SET));
	CHECK("lseek /dev/null", lseek(open("/dev/null", O_RDONLY), 123, SEEK_SET));
	CHECK("lseek /dev/zero", lseek(open("/dev/zero", O_RDONLY), 123, SEEK_SET));
	return 0;
}
