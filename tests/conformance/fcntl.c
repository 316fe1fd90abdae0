/* fcntl: descriptor flags, file status flags, and F_DUPFD variants. */
#include "conf.h"
#include <fcntl.h>
#include <unistd.h>

static void flags(const char *label, int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0) {
		printf("%s: F_GETFL errno=%s\n", label, conf_errname(errno));
		return;
	}
	printf("%s: acc=%s%s%s%s%s\n", label,
	       (fl & O_ACCMODE) == O_RDONLY ? "O_RDONLY" : (fl & O_ACCMODE) == O_WRONLY ? "O_WRONLY" : "O_RDWR",
	       fl & O_APPEND ? " O_APPEND" : "", fl & O_NONBLOCK ? " O_NONBLOCK" : "",
	       fl & O_DIRECTORY ? " O_DIRECTORY" : "", fl & O_PATH ? " O_PATH" : "");
}

int main(void)
{
	int fd = open("/usr/include/stdio.h", O_RDONLY);
	int cfd = open("/usr/include/stdio.h", O_RDONLY | O_CLOEXEC);

	CHECK("F_GETFD plain", fcntl(fd, F_GETFD));
	CHECK("F_GETFD O_CLOEXEC", fcntl(cfd, F_GETFD));
	CHECK("F_SETFD FD_CLOEXEC", fcntl(fd, F_SETFD, FD_CLOEXEC));
	CHECK("  F_GETFD", fcntl(fd, F_GETFD));
	CHECK("F_SETFD 0", fcntl(fd, F_SETFD, 0));
	CHECK("  F_GETFD", fcntl(fd, F_GETFD));
	CHECK("F_SETFD unknown bits ignored", fcntl(fd, F_SETFD, 0xfe));
	CHECK("  F_GETFD", fcntl(fd, F_GETFD));
	flags("O_RDONLY file", fd);
	flags("O_RDONLY|O_CLOEXEC file", cfd);
	flags("/dev/null O_WRONLY|O_APPEND", open("/dev/null", O_WRONLY | O_APPEND));
	flags("/dev/null O_RDWR|O_NONBLOCK", open("/dev/null", O_RDWR | O_NONBLOCK));
	flags("directory", open("/usr/include", O_RDONLY | O_DIRECTORY));
	CHECK("F_SETFL O_NONBLOCK|O_APPEND", fcntl(fd, F_SETFL, O_NONBLOCK | O_APPEND));
	flags("  after F_SETFL", fd);
	CHECK("F_SETFL O_WRONLY (access mode ignored)", fcntl(fd, F_SETFL, O_WRONLY));
	flags("  after F_SETFL", fd);
	CHECK("F_DUPFD min 20", fcntl(fd, F_DUPFD, 20));
	CHECK("F_DUPFD min 20 again", fcntl(fd, F_DUPFD, 20));
	CHECK("  F_GETFD of dup", fcntl(20, F_GETFD));
	CHECK("F_DUPFD_CLOEXEC min 30", fcntl(fd, F_DUPFD_CLOEXEC, 30));
	CHECK("  F_GETFD of dup", fcntl(30, F_GETFD));
	CHECK("F_DUPFD min 0 gets lowest", fcntl(fd, F_DUPFD, 0));
	CHECK("F_DUPFD negative min", fcntl(fd, F_DUPFD, -1));
	CHECK("F_DUPFD min too large", fcntl(fd, F_DUPFD, 1 << 30));
	CHECK("F_GETFD bad fd", fcntl(99, F_GETFD));
	CHECK("F_GETFL bad fd", fcntl(-1, F_GETFL));
	CHECK("unknown command", fcntl(fd, 12345));
	int pfd = open("/usr/include/stdio.h", O_PATH);
	flags("O_PATH fd", pfd);
	CHECK("F_GETFD on O_PATH fd", fcntl(pfd, F_GETFD));
	return 0;
}
