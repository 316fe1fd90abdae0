/* madvise: MADV_DONTNEED zeroes private anonymous pages and reverts private file pages, keeps
 * shared pages; the harmless hints succeed; argument errors. */
#include "conf.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	char *a = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(a, 'a', 4 * pg);
	CHECK("MADV_DONTNEED on page 1", madvise(a + pg, pg, MADV_DONTNEED));
	BOOL("  page 1 zero", a[pg] == 0 && a[2 * pg - 1] == 0);
	BOOL("  pages 0 and 2 kept", a[pg - 1] == 'a' && a[2 * pg] == 'a');

	char *s = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memset(s, 's', pg);
	CHECK("MADV_DONTNEED on shared anonymous", madvise(s, pg, MADV_DONTNEED));
	BOOL("  contents kept", s[0] == 's' && s[pg - 1] == 's');

	int fd = open("/usr/include/stdio.h", O_RDONLY);
	char first;
	pread(fd, &first, 1, 0);
	char *f = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	f[0] = '!';
	CHECK("MADV_DONTNEED on private file page", madvise(f, pg, MADV_DONTNEED));
	BOOL("  reverts to the file contents", f[0] == first);

	CHECK("MADV_NORMAL", madvise(a, 4 * pg, MADV_NORMAL));
	CHECK("MADV_RANDOM", madvise(a, 4 * pg, MADV_RANDOM));
	CHECK("MADV_SEQUENTIAL", madvise(a, 4 * pg, MADV_SEQUENTIAL));
	CHECK("MADV_WILLNEED", madvise(a, 4 * pg, MADV_WILLNEED));
	CHECK("MADV_DONTFORK", madvise(a, pg, MADV_DONTFORK));
	CHECK("MADV_DOFORK", madvise(a, pg, MADV_DOFORK));
	CHECK("MADV_FREE", madvise(a + 3 * pg, pg, MADV_FREE));
	CHECK("length 0", madvise(a, 0, MADV_DONTNEED));
	CHECK("unaligned address", madvise(a + 1, pg, MADV_DONTNEED));
	CHECK("unknown advice", madvise(a, pg, 12345));
	munmap(a + 2 * pg, pg);
	CHECK("range with a hole", madvise(a, 4 * pg, MADV_NORMAL));
	CHECK("DONTNEED range with a hole", madvise(a, 4 * pg, MADV_DONTNEED));
	CHECK("fully unmapped", madvise(a + 2 * pg, pg, MADV_NORMAL));
	BOOL("page 3 after DONTNEED with hole", a[3 * pg] == 0);
	return 0;
}
