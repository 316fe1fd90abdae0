/* What eventfd, timerfd, signalfd and epoll descriptors look like as files: lseek
 * succeeds and moves nothing, pread is ESPIPE, read/write where there is no such
 * operation, fstat's mode, and their /proc/self/fd links ("anon_inode:[eventfd]"). */
#include "conf.h"
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

int main(void)
{
	sigset_t none;
	sigemptyset(&none);
	struct {
		const char *name;
		int fd;
	} files[] = {
		{"eventfd", eventfd(1, 0)},
		{"timerfd", timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK)},
		{"signalfd", signalfd(-1, &none, SFD_NONBLOCK)},
		{"epoll", epoll_create1(0)},
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		int fd = files[i].fd;
		char buf[128], path[64], link[64] = {0};
		printf("-- %s\n", files[i].name);
		CHECK("lseek", lseek(fd, 5, SEEK_SET));
		CHECK("pread", pread(fd, buf, sizeof(buf), 0));
		CHECK("read", read(fd, buf, sizeof(buf)));
		uint64_t v = 1;
		CHECK("write", write(fd, &v, sizeof(v)));
		struct stat st;
		CHECK("fstat", fstat(fd, &st));
		printf("  mode=%o nlink=%lu size=%lld\n", st.st_mode, (unsigned long)st.st_nlink,
		       (long long)st.st_size);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		CHECK_OK("readlink", readlink(path, link, sizeof(link) - 1));
		printf("  link=%s\n", link);
		close(fd);
	}
	return 0;
}
