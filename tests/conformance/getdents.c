/* getdents64 on /usr/include/linux: sorted names with d_type, the same set whatever the buffer
 * size, rewinding with lseek, and the error cases. */
#include "conf.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static char *names[4096];
static int count;

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char type_char(unsigned char t)
{
	switch (t) {
	case DT_REG: return 'f';
	case DT_DIR: return 'd';
	case DT_LNK: return 'l';
	case DT_CHR: return 'c';
	case DT_UNKNOWN: return '?';
	}
	return 'o';
}

/* Reads the whole directory with the given buffer size; returns the calls made. */
static int list(int fd, size_t bufsz, uint64_t *hash)
{
	char *buf = malloc(bufsz);
	long n;
	int calls = 0, ok = 1;

	count = 0;
	while ((n = syscall(SYS_getdents64, fd, buf, bufsz)) > 0) {
		calls++;
		for (long off = 0; off < n;) {
			struct linux_dirent64 *d = (void *)(buf + off);
			char *s;
			if (d->d_reclen % 8 != 0 || d->d_reclen == 0)
				ok = 0;
			if (asprintf(&s, "%c %s", type_char(d->d_type), d->d_name) < 0)
				exit(1);
			names[count++] = s;
			off += d->d_reclen;
		}
	}
	if (n < 0)
		printf("getdents64 error: %s\n", conf_errname(errno));
	if (!ok)
		printf("bad d_reclen seen\n");
	qsort(names, (size_t)count, sizeof(names[0]), cmp);
	*hash = CONF_FNV_INIT;
	for (int i = 0; i < count; i++)
		*hash = conf_fnv1a(*hash, names[i], strlen(names[i]) + 1);
	free(buf);
	return calls;
}

int main(void)
{
	int fd = open("/usr/include/linux", O_RDONLY | O_DIRECTORY);
	uint64_t h1, h2, h3;
	char small[8];

	int calls = list(fd, 32768, &h1);
	printf("entries=%d calls>=1: %s\n", count, calls >= 1 ? "yes" : "no");
	for (int i = 0; i < count; i++)
		printf("  %s\n", names[i]);
	char *big = malloc(4096);
	CHECK("getdents64 at end", syscall(SYS_getdents64, fd, big, 4096));
	CHECK("lseek rewind", lseek(fd, 0, SEEK_SET));
	calls = list(fd, 512, &h2);
	printf("512-byte buffer: entries=%d same set=%s several calls=%s\n", count,
	       h1 == h2 ? "yes" : "no", calls > 1 ? "yes" : "no");
	lseek(fd, 0, SEEK_SET);
	list(fd, 280, &h3);
	BOOL("280-byte buffer same set", h1 == h3);
	lseek(fd, 0, SEEK_SET);
	CHECK("getdents64 buffer too small", syscall(SYS_getdents64, fd, small, 8));
	CHECK("getdents64 bad buffer", syscall(SYS_getdents64, fd, (void *)8, 4096));
	CHECK("getdents64 on file", syscall(SYS_getdents64, open("/usr/include/stdio.h", O_RDONLY), big, 4096));
	CHECK("getdents64 bad fd", syscall(SYS_getdents64, 300, big, 4096));

	/* A directory that is certainly small: readdir(3) over libc. */
	DIR *d = opendir("/usr/include/linux/netfilter_ipv4");
	if (d) {
		int n = 0;
		struct dirent *e;
		while ((e = readdir(d)))
			n += e->d_name[0] != 0;
		closedir(d);
		BOOL("readdir(3) works", n > 2);
	}
	return 0;
}
