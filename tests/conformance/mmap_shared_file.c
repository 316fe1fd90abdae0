/* File-backed mmap of a file that can change: MAP_SHARED coherent with read/write both
 * ways, two mappings and a forked child seeing the same pages, msync, ftruncate under a
 * mapping, MAP_PRIVATE copy on write (page by page). Run on a file in the cwd (under ward:
 * the workspace, served by the gofer with a page cache) and on one under /tmp (tmpfs). */
#include "conf.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>

static size_t pg;

static void fill(char *buf, size_t len, int seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)('a' + (i * 7 + (size_t)seed) % 26);
}

static char byte_at(int fd, off_t off)
{
	char c = '?';
	if (pread(fd, &c, 1, off) != 1)
		return '!';
	return c;
}

static void shared_coherence(int fd)
{
	size_t len = 3 * pg;
	char *buf = malloc(len);
	fill(buf, len, 1);
	CHECK("write 3 pages", write(fd, buf, len));
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK_PTR("mmap MAP_SHARED rw", m);
	BOOL("  mapping shows the written bytes", memcmp(m, buf, len) == 0);
	m[100] = 'Q';
	m[2 * pg + 5] = 'R';
	BOOL("  store through the mapping seen by pread", byte_at(fd, 100) == 'Q' && byte_at(fd, (off_t)(2 * pg + 5)) == 'R');
	CHECK("  pwrite 5 bytes at pg+7", pwrite(fd, "HELLO", 5, (off_t)(pg + 7)));
	BOOL("  pwrite seen through the mapping", memcmp(m + pg + 7, "HELLO", 5) == 0);

	char *m2 = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK_PTR("second MAP_SHARED mapping", m2);
	BOOL("  differs in address", m2 != m);
	m2[300] = 'S';
	BOOL("  store in the second seen in the first", m[300] == 'S');
	m[301] = 'T';
	BOOL("  and the other way", m2[301] == 'T');
	munmap(m2, len);

	/* An offset mapping of one page is the same page. */
	char *m3 = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, (off_t)pg);
	CHECK_PTR("MAP_SHARED at offset pg, read-only", m3);
	BOOL("  shows page 1", m3[7] == 'H');
	m[pg + 8] = 'x';
	BOOL("  sees a later store in page 1", m3[8] == 'x');
	CHECK("  mprotect PROT_WRITE (fd is O_RDWR)", mprotect(m3, pg, PROT_READ | PROT_WRITE));
	munmap(m3, pg);

	pid_t pid = fork();
	if (pid == 0) {
		m[400] = 'K'; /* inherited mapping */
		char *c = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (c == MAP_FAILED)
			_exit(1);
		c[401] = 'C'; /* the child's own mapping */
		pwrite(fd, "W", 1, 402);
		_exit(c[400] == 'K' && m[401] == 'C' && m[402] == 'W' ? 0 : 2);
	}
	int st;
	waitpid(pid, &st, 0);
	BOOL("fork: child saw its stores in both mappings", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	BOOL("  parent sees the child's stores", m[400] == 'K' && m[401] == 'C' && m[402] == 'W');
	BOOL("  and pread too", byte_at(fd, 400) == 'K' && byte_at(fd, 401) == 'C');

	CHECK("msync MS_SYNC", msync(m, len, MS_SYNC));
	CHECK("msync MS_ASYNC", msync(m, len, MS_ASYNC));
	CHECK("msync MS_INVALIDATE", msync(m, len, MS_INVALIDATE));
	CHECK("msync MS_SYNC|MS_INVALIDATE", msync(m, len, MS_SYNC | MS_INVALIDATE));
	CHECK("msync 0 flags", msync(m, len, 0));
	CHECK("msync MS_SYNC|MS_ASYNC", msync(m, len, MS_SYNC | MS_ASYNC));
	CHECK("msync unaligned", msync(m + 1, pg, MS_SYNC));
	CHECK("msync bad flag", msync(m, len, 0x100));
	CHECK("msync zero length", msync(m, 0, MS_SYNC));
	char *hole = mmap(NULL, 3 * pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(hole + pg, pg);
	CHECK("msync MS_SYNC over a hole", msync(hole, 3 * pg, MS_SYNC));
	CHECK("msync MS_ASYNC over a hole", msync(hole, 3 * pg, MS_ASYNC));
	CHECK("msync of unmapped memory", msync(hole + pg, pg, MS_SYNC));
	munmap(hole, 3 * pg);
	CHECK("fsync", fsync(fd));
	CHECK("fdatasync", fdatasync(fd));

	/* ftruncate under the mapping: the cut part reads back as zero when it grows again. */
	CHECK("ftruncate to 1.5 pages", ftruncate(fd, (off_t)(pg + pg / 2)));
	BOOL("  page 0 still mapped", m[100] == 'Q');
	BOOL("  bytes past EOF in the last page read 0", m[pg + pg / 2] == 0 && m[2 * pg - 1] == 0);
	char c;
	CHECK("  pread past EOF", pread(fd, &c, 1, (off_t)(2 * pg)));
	CHECK("ftruncate to 3 pages", ftruncate(fd, (off_t)len));
	BOOL("  regrown page 2 reads 0", m[2 * pg + 5] == 0);
	m[2 * pg + 6] = 'G';
	BOOL("  store in regrown page seen by pread", byte_at(fd, (off_t)(2 * pg + 6)) == 'G');
	munmap(m, len);
	free(buf);
}

static void private_cow(int fd)
{
	size_t len = 2 * pg;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK_PTR("mmap MAP_PRIVATE rw", p);
	BOOL("  shows the file", p[100] == 'Q');
	pwrite(fd, "1", 1, 10);
	pwrite(fd, "2", 1, (off_t)(pg + 10));
	BOOL("  sees a write(2) made after mmap, page 0", p[10] == '1');
	BOOL("  and page 1", p[pg + 10] == '2');
	p[20] = 'P'; /* page 0 becomes private */
	BOOL("  private store not in the file", byte_at(fd, 20) != 'P');
	pwrite(fd, "3", 1, 11);
	pwrite(fd, "4", 1, (off_t)(pg + 11));
	BOOL("  written page no longer sees the file", p[11] != '3' && p[10] == '1');
	BOOL("  untouched page still does", p[pg + 11] == '4');
	char *s = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	BOOL("  a shared mapping does not see the private store", s[20] != 'P');
	munmap(s, len);
	/* read(2) into a private mapping of the very file: the copy gets the bytes. */
	char before = byte_at(fd, (off_t)pg);
	CHECK("  pread into the private mapping, page 1", pread(fd, p + pg, 16, 0));
	BOOL("  the copy has the bytes, the file is unchanged", p[pg] == byte_at(fd, 0) && byte_at(fd, (off_t)pg) == before);
	munmap(p, len);

	char *r = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK_PTR("mmap MAP_PRIVATE read-only", r);
	CHECK("  mprotect PROT_WRITE", mprotect(r, len, PROT_READ | PROT_WRITE));
	r[30] = 'Z';
	BOOL("  store after mprotect stays private", byte_at(fd, 30) != 'Z');
	munmap(r, len);
}

/* mremap growing a file mapping maps more of the file, not anonymous memory. */
static void remap_grow(int fd)
{
	ftruncate(fd, (off_t)(4 * pg));
	pwrite(fd, "remap", 5, (off_t)(3 * pg + 10));
	char *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *g = mremap(m, 2 * pg, 4 * pg, MREMAP_MAYMOVE);
	CHECK_PTR("mremap a shared mapping from 2 to 4 pages", g);
	BOOL("  the new part shows the file", memcmp(g + 3 * pg + 10, "remap", 5) == 0);
	g[3 * pg + 20] = 'M';
	BOOL("  a store there reaches the file", byte_at(fd, (off_t)(3 * pg + 20)) == 'M');
	munmap(g, 4 * pg);
	char *p = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, 0);
	char *pg2 = mremap(p, pg, 4 * pg, MREMAP_MAYMOVE);
	CHECK_PTR("mremap a private mapping from 1 to 4 pages", pg2);
	BOOL("  the new part shows the file", memcmp(pg2 + 3 * pg + 10, "remap", 5) == 0);
	munmap(pg2, 4 * pg);
}

static void readonly_fd(const char *path)
{
	int fd = open(path, O_RDONLY);
	char *m = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, 0);
	CHECK_PTR("MAP_SHARED read-only on an O_RDONLY fd", m);
	BOOL("  shows the file", m[100] == 'Q');
	CHECK("  mprotect PROT_WRITE", mprotect(m, pg, PROT_READ | PROT_WRITE));
	CHECK_PTR("MAP_SHARED rw on an O_RDONLY fd", mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
	int wfd = open(path, O_WRONLY);
	CHECK_PTR("MAP_SHARED on an O_WRONLY fd", mmap(NULL, pg, PROT_READ, MAP_SHARED, wfd, 0));
	close(wfd);
	int rw = open(path, O_RDWR);
	pwrite(rw, "V", 1, 101);
	BOOL("  sees a write from another open", m[101] == 'V');
	close(rw);
	munmap(m, pg);
	close(fd);
}

static void unlinked(const char *path)
{
	int fd = open(path, O_RDWR);
	char *m = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	CHECK("unlink while mapped", unlink(path));
	m[0] = 'U';
	BOOL("  mapping still usable", m[0] == 'U' && m[100] == 'Q');
	munmap(m, pg);
}

static void run(const char *dir)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/mmap-shared-file", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		printf("open: errno=%s\n", conf_errname(errno));
		return;
	}
	shared_coherence(fd);
	private_cow(fd);
	remap_grow(fd);
	ftruncate(fd, (off_t)(3 * pg));
	close(fd);
	readonly_fd(path);

	/* Closing the fd and unmapping keeps what was stored: a new open reads it back. */
	fd = open(path, O_RDWR);
	char *m = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	memcpy(m + 500, "persist", 7);
	munmap(m, pg);
	fd = open(path, O_RDONLY);
	char buf[8] = {0};
	pread(fd, buf, 7, 500);
	BOOL("stores survive munmap and close", strcmp(buf, "persist") == 0);
	close(fd);
	unlinked(path);
}

int main(void)
{
	pg = (size_t)sysconf(_SC_PAGESIZE);
	SAY("== file in the cwd\n");
	run(".");
	SAY("== file in /tmp\n");
	run(conf_tmpdir());
	return 0;
}
