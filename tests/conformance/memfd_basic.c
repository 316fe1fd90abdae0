/* memfd_create: flags, the name's limit, what fstat and /proc/self/fd show, read/write,
 * MAP_SHARED coherent with write, and sealing (F_ADD_SEALS / F_GET_SEALS with SHRINK,
 * GROW, WRITE and SEAL). */
#include "conf.h"
#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void show_link(const char *label, int fd)
{
	char p[64], target[PATH_MAX];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(p, target, sizeof(target) - 1);
	if (n < 0) {
		printf("%s: readlink errno=%s\n", label, conf_errname(errno));
		return;
	}
	target[n] = 0;
	printf("%s: %s\n", label, target);
}

int main(void)
{
	char longname[300];
	memset(longname, 'n', sizeof(longname));
	longname[249] = 0;
	CHECK("unknown flag", memfd_create("x", 0x100));
	CHECK("EXEC and NOEXEC_SEAL", memfd_create("x", 0x10 | 0x8));
	CHECK("bad name pointer", memfd_create((const char *)8, 0));
	longname[250] = 0;
	longname[249] = 'n';
	CHECK("name of 250", memfd_create(longname, 0));
	longname[249] = 0;
	int big = memfd_create(longname, 0);
	CHECK_OK("name of 249", big);
	close(big);

	int fd = memfd_create("ward-test", MFD_CLOEXEC);
	CHECK_OK("memfd_create", fd);
	show_link("link", fd);
	printf("cloexec: %d\n", (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
	printf("accmode rdwr: %d\n", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
	struct stat st;
	fstat(fd, &st);
	printf("fstat: reg=%d nlink=%ju size=%jd mode=%o\n", S_ISREG(st.st_mode), (uintmax_t)st.st_nlink,
	       (intmax_t)st.st_size, st.st_mode & 07777);
	CHECK("write", write(fd, "hello world", 11));
	char buf[32] = {0};
	CHECK("pread", pread(fd, buf, sizeof(buf) - 1, 6));
	printf("read: %s\n", buf);
	CHECK("F_GET_SEALS without sealing", fcntl(fd, F_GET_SEALS));
	CHECK("F_ADD_SEALS without sealing", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));

	/* a shared mapping sees writes and is seen by reads */
	CHECK("ftruncate", ftruncate(fd, 8192));
	char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK_PTR("mmap shared", m);
	if (m != MAP_FAILED) {
		printf("map sees write: %.5s\n", m);
		memcpy(m + 4096, "from map", 8);
		memset(buf, 0, sizeof(buf));
		pread(fd, buf, 8, 4096);
		printf("read sees map: %s\n", buf);
		munmap(m, 8192);
	}
	close(fd);

	int s = memfd_create("sealed", MFD_ALLOW_SEALING);
	CHECK("seals at first", fcntl(s, F_GET_SEALS));
	CHECK("write", write(s, "0123456789", 10));
	CHECK("add SHRINK", fcntl(s, F_ADD_SEALS, F_SEAL_SHRINK));
	CHECK("shrink", ftruncate(s, 5));
	CHECK("grow", ftruncate(s, 20));
	CHECK("add GROW", fcntl(s, F_ADD_SEALS, F_SEAL_GROW));
	CHECK("grow sealed", ftruncate(s, 40));
	CHECK("write inside", pwrite(s, "ab", 2, 0));
	CHECK("write past the end", pwrite(s, "ab", 2, 19));
	CHECK("fallocate past the end", fallocate(s, 0, 0, 100));
	CHECK("add WRITE", fcntl(s, F_ADD_SEALS, F_SEAL_WRITE));
	CHECK("write sealed", pwrite(s, "ab", 2, 0));
	CHECK("mmap shared writable", (long)mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, s, 0) == -1 ? -1 : 0);
	CHECK("mmap private writable", (long)mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, s, 0) == -1 ? -1 : 0);
	CHECK("unknown seal", fcntl(s, F_ADD_SEALS, 0x1000));
	CHECK("add SEAL", fcntl(s, F_ADD_SEALS, F_SEAL_SEAL));
	CHECK("seals now", fcntl(s, F_GET_SEALS));
	CHECK("add after SEAL", fcntl(s, F_ADD_SEALS, F_SEAL_SHRINK));
	memset(buf, 0, sizeof(buf));
	pread(s, buf, 20, 0);
	printf("contents: %.10s\n", buf);

	int ro;
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", s);
	ro = open(p, O_RDONLY);
	CHECK_OK("reopen read-only", ro);
	CHECK("F_GET_SEALS read-only", fcntl(ro, F_GET_SEALS));

	int plain = open("/proc/self/exe", O_RDONLY);
	CHECK("F_GET_SEALS on a non-tmpfs file", fcntl(plain, F_GET_SEALS));
	return 0;
}
