/* mmap of a regular file: the mapping shows the file bytes, the tail of the last page is zero,
 * a MAP_PRIVATE write is not written back, and mapping rules on file descriptors. */
#include "conf.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void)
{
	const char *path = "/usr/include/stdio.h";
	struct stat st;
	int fd = open(path, O_RDONLY);
	fstat(fd, &st);
	size_t len = (size_t)st.st_size;
	char *buf = malloc(len);
	pread(fd, buf, len, 0);

	char *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK_PTR("mmap file PROT_READ MAP_PRIVATE", m);
	BOOL("  contents equal read()", memcmp(m, buf, len) == 0);
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t tail = (len + pg - 1) / pg * pg;
	int zero = 1;
	for (size_t i = len; i < tail; i++)
		zero &= m[i] == 0;
	BOOL("  tail of last page is zero", zero);
	munmap(m, len);

	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK_PTR("mmap file PROT_WRITE MAP_PRIVATE on O_RDONLY fd", m);
	m[0] = 'X';
	m[len - 1] = 'Y';
	char c;
	pread(fd, &c, 1, 0);
	BOOL("  private write not visible through read()", c == buf[0]);
	char *m2 = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	BOOL("  nor through another mapping", m2[0] == buf[0] && m2[len - 1] == buf[len - 1]);
	munmap(m, len);
	munmap(m2, len);

	m = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, (off_t)pg);
	CHECK_PTR("mmap at page offset", m);
	BOOL("  contents at offset", memcmp(m, buf + pg, pg < len - pg ? pg : len - pg) == 0);
	munmap(m, pg);
	CHECK_PTR("mmap unaligned offset", mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, 1));
	CHECK_PTR("mmap MAP_SHARED PROT_WRITE on O_RDONLY fd", mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
	CHECK_PTR("mmap MAP_SHARED PROT_READ", m = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, 0));
	BOOL("  contents", memcmp(m, buf, pg < len ? pg : len) == 0);
	CHECK_PTR("mmap bad fd", mmap(NULL, pg, PROT_READ, MAP_PRIVATE, -1, 0));
	int wfd = open("/dev/null", O_WRONLY);
	CHECK_PTR("mmap O_WRONLY fd", mmap(NULL, pg, PROT_READ, MAP_PRIVATE, wfd, 0));
	int dfd = open("/usr/include", O_RDONLY | O_DIRECTORY);
	CHECK_PTR("mmap directory fd", mmap(NULL, pg, PROT_READ, MAP_PRIVATE, dfd, 0));
	/* The mapping survives close of the fd. */
	m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	BOOL("mapping readable after close(fd)", memcmp(m, buf, len) == 0);
	return 0;
}
