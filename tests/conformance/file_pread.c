/* pread at explicit offsets: same bytes as lseek+read, and the file offset is untouched. */
#include "conf.h"
#include <fcntl.h>
#include <unistd.h>

int main(void)
{
	const char *path = "/usr/include/stdio.h";
	char a[64], b[64];
	int fd = open(path, O_RDONLY);
	off_t size = lseek(fd, 0, SEEK_END);
	static const long offs[] = { 0, 1, 100, 4095, 4096, 4097 };

	CHECK("lseek back to 10", lseek(fd, 10, SEEK_SET));
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		ssize_t n1 = pread(fd, a, sizeof(a), offs[i]);
		off_t cur = lseek(fd, 0, SEEK_CUR);
		int fd2 = open(path, O_RDONLY);
		lseek(fd2, offs[i], SEEK_SET);
		ssize_t n2 = read(fd2, b, sizeof(b));
		close(fd2);
		printf("pread off=%ld: n=%zd same-as-read=%s offset-unchanged=%s hash=%016llx\n",
		       offs[i], n1, n1 == n2 && memcmp(a, b, (size_t)n1) == 0 ? "yes" : "no",
		       cur == 10 ? "yes" : "no", (unsigned long long)conf_fnv1a(CONF_FNV_INIT, a, (size_t)n1));
	}
	CHECK("pread at size-5", pread(fd, a, sizeof(a), size - 5));
	CHECK("pread at size", pread(fd, a, sizeof(a), size));
	CHECK("pread past size", pread(fd, a, sizeof(a), size + 100000));
	CHECK("pread negative offset", pread(fd, a, sizeof(a), -1));
	CHECK("pread bad fd", pread(-1, a, sizeof(a), 0));
	CHECK("pread closed fd", pread(100, a, sizeof(a), 0));
	int wfd = open("/dev/null", O_WRONLY);
	CHECK("pread on O_WRONLY fd", pread(wfd, a, sizeof(a), 0));
	CHECK("pread count 0", pread(fd, a, 0, 0));
	CHECK("offset still 10", lseek(fd, 0, SEEK_CUR));
	return 0;
}
