/* open + read: whole-file contents read with different chunk sizes hash the same, and a read
 * at end of file returns 0. Files are ones every host has and the sandbox exports read-only. */
#include "conf.h"
#include <fcntl.h>
#include <unistd.h>

static void hash_file(const char *path, size_t chunk)
{
	char buf[8192];
	uint64_t h = CONF_FNV_INIT;
	long total = 0, calls = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		printf("open %s: errno=%s\n", path, conf_errname(errno));
		return;
	}
	while ((n = read(fd, buf, chunk)) > 0) {
		h = conf_fnv1a(h, buf, (size_t)n);
		total += n;
		calls++;
	}
	printf("%s chunk=%zu: bytes=%ld hash=%016llx last=%zd short-reads-only-at-end=%s\n", path,
	       chunk, total, (unsigned long long)h, n,
	       calls == (total + (long)chunk - 1) / (long)chunk ? "yes" : "no");
	CHECK("read at EOF", read(fd, buf, sizeof(buf)));
	CHECK("read count 0", read(fd, buf, 0));
	CHECK("close", close(fd));
}

int main(void)
{
	static const char *files[] = { "/etc/os-release", "/usr/include/stdio.h",
				       "/usr/include/linux/futex.h" };

	hash_file(files[0], 1); /* one byte per read(2): small file only, every read traps */
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		hash_file(files[i], 13);
		hash_file(files[i], 4096);
		hash_file(files[i], 8192);
	}
	CHECK("open O_RDONLY /etc/os-release", open("/etc/os-release", O_RDONLY));
	CHECK("open O_RDONLY again gives next fd", open("/etc/os-release", O_RDONLY));
	return 0;
}
