/* The common errno values of file syscalls, including EFAULT for bad pointers (raw syscalls,
 * so libc cannot fault first). */
#include "conf.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	char buf[64];
	int fd = open("/usr/include/stdio.h", O_RDONLY);
	int dfd = open("/usr/include", O_RDONLY | O_DIRECTORY);

	CHECK("ENOENT open", open("/no-such-file-ward", O_RDONLY));
	CHECK("ENOENT open in existing dir", open("/usr/include/no-such-file", O_RDONLY));
	CHECK("ENOENT openat relative", openat(dfd, "no-such-file", O_RDONLY));
	CHECK("ENOTDIR file as directory", open("/usr/include/stdio.h/x", O_RDONLY));
	CHECK("ENOTDIR O_DIRECTORY on file", open("/usr/include/stdio.h", O_RDONLY | O_DIRECTORY));
	CHECK("ENOTDIR openat with file dirfd", openat(fd, "x", O_RDONLY));
	CHECK("EISDIR read on directory", read(dfd, buf, sizeof(buf)));
	CHECK("EISDIR open directory O_WRONLY", open("/usr/include", O_WRONLY));
	CHECK("EISDIR open directory O_RDWR", open("/usr/include", O_RDWR));
	CHECK("EBADF read -1", read(-1, buf, sizeof(buf)));
	CHECK("EBADF read unopened", read(200, buf, sizeof(buf)));
	CHECK("EBADF write unopened", write(200, buf, 1));
	CHECK("EBADF close unopened", close(200));
	CHECK("EBADF fstat unopened", syscall(SYS_fstat, 200, buf));
	CHECK("EBADF write to O_RDONLY fd", write(fd, "x", 1));
	int wfd = open("/dev/null", O_WRONLY);
	CHECK("EBADF read from O_WRONLY fd", read(wfd, buf, 1));
	int closed = open("/dev/null", O_RDONLY);
	close(closed);
	CHECK("EBADF use after close", read(closed, buf, 1));
	CHECK("EFAULT read into bad pointer", syscall(SYS_read, fd, (void *)8, 16));
	CHECK("EFAULT read into kernel address", syscall(SYS_read, fd, (void *)0xffffffff80000000UL, 16));
	CHECK("EFAULT open bad path", syscall(SYS_open, (void *)8, O_RDONLY));
	CHECK("EFAULT openat bad path", syscall(SYS_openat, AT_FDCWD, (void *)-4096L, O_RDONLY));
	CHECK("EFAULT newfstatat bad buffer", syscall(SYS_newfstatat, AT_FDCWD, "/usr/include/stdio.h", (void *)8, 0));
	CHECK("EFAULT fstat bad buffer", syscall(SYS_fstat, fd, (void *)8));
	CHECK("write bad pointer to /dev/null (never read)", syscall(SYS_write, wfd, (void *)8, 16));
	CHECK("write count 0 with bad pointer", syscall(SYS_write, wfd, (void *)8, 0));
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	CHECK("ENAMETOOLONG component > 255", openat(dfd, longname, O_RDONLY));
	char *longpath = malloc(5000);
	for (int i = 0; i < 4998; i += 2)
		memcpy(longpath + i, "a/", 2);
	longpath[4998] = 'a';
	longpath[4999] = 0;
	CHECK("ENAMETOOLONG path > PATH_MAX", open(longpath, O_RDONLY));
	CHECK("ELOOP O_NOFOLLOW on symlink", open("/etc/os-release", O_RDONLY | O_NOFOLLOW));
	CHECK("O_NOFOLLOW on regular file", open("/usr/lib/os-release", O_RDONLY | O_NOFOLLOW));
	CHECK("EINVAL lseek whence", lseek(fd, 0, 42));
	CHECK("ENOSYS unknown syscall 1000", syscall(1000));
	CHECK("ENOSYS negative syscall number", syscall(-5L));
	return 0;
}
