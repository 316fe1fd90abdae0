/* openat path resolution: relative to a directory fd, AT_FDCWD, absolute paths ignore the
 * dirfd, "." / ".." / "//" components, O_DIRECTORY, trailing slashes and O_PATH. */
#include "conf.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static ino_t ino_of_fd(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

int main(void)
{
	struct stat ref;
	int dfd, fd;

	stat("/usr/include/stdio.h", &ref);
	CHECK("open dir O_DIRECTORY", dfd = open("/usr/include", O_RDONLY | O_DIRECTORY));
	CHECK("openat relative", fd = openat(dfd, "stdio.h", O_RDONLY));
	BOOL("  same file", ino_of_fd(fd) == ref.st_ino);
	close(fd);
	CHECK("openat absolute ignores dirfd", fd = openat(12345, "/usr/include/stdio.h", O_RDONLY));
	BOOL("  same file", ino_of_fd(fd) == ref.st_ino);
	close(fd);
	CHECK("openat AT_FDCWD absolute", fd = openat(AT_FDCWD, "/usr/include/stdio.h", O_RDONLY));
	close(fd);
	CHECK("openat dot-dot", fd = openat(dfd, "linux/../stdio.h", O_RDONLY));
	BOOL("  same file", ino_of_fd(fd) == ref.st_ino);
	close(fd);
	CHECK("open with dots and slashes", fd = open("//usr/./include//./stdio.h", O_RDONLY));
	BOOL("  same file", ino_of_fd(fd) == ref.st_ino);
	close(fd);
	CHECK("open /.. is /", fd = open("/../../usr/include/stdio.h", O_RDONLY));
	BOOL("  same file", ino_of_fd(fd) == ref.st_ino);
	close(fd);
	CHECK("openat relative to file fd", openat(open("/usr/include/stdio.h", O_RDONLY), "x", O_RDONLY));
	CHECK("openat relative to bad fd", openat(12345, "stdio.h", O_RDONLY));
	CHECK("open file O_DIRECTORY", open("/usr/include/stdio.h", O_RDONLY | O_DIRECTORY));
	CHECK("open file trailing slash", open("/usr/include/stdio.h/", O_RDONLY));
	CHECK("open dir trailing slash", fd = open("/usr/include/", O_RDONLY));
	close(fd);
	CHECK("open missing component", open("/usr/no-such-dir/stdio.h", O_RDONLY));
	CHECK("open empty path", open("", O_RDONLY));
	CHECK("open O_PATH", fd = open("/usr/include/stdio.h", O_PATH));
	char c;
	CHECK("  read on O_PATH fd", read(fd, &c, 1));
	BOOL("  fstat on O_PATH fd works", ino_of_fd(fd) == ref.st_ino);
	close(fd);
	CHECK("open O_RDONLY|O_CREAT on existing", fd = open("/usr/include/stdio.h", O_RDONLY | O_CREAT, 0644));
	close(fd);
	CHECK("open O_CREAT|O_EXCL on existing", open("/usr/include/stdio.h", O_RDONLY | O_CREAT | O_EXCL, 0644));
	CHECK("open O_CREAT on directory", open("/usr/include", O_RDONLY | O_CREAT, 0644));
	CHECK("open bad flags accmode 3 on dir", fd = open("/usr/include", 3 | O_DIRECTORY));
	CHECK("open /dev/null O_WRONLY", fd = open("/dev/null", O_WRONLY));
	CHECK("  write to /dev/null", write(fd, "hello", 5));
	return 0;
}
