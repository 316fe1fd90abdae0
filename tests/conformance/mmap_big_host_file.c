/* A big read-only host file (the largest library in the system's library directory,
 * several MB) mapped and read in a scattered order: every page equals pread's bytes, the
 * tail of the last page is zero, and so it stays through everything that reaches a
 * mapped page another way than a load from the guest: a forked child reading pages the
 * parent never touched, threads faulting on the same new pages at once, write(2) and
 * writev(2) from the mapping, a path name read from it, mprotect (PROT_NONE and back, a
 * private write), mremap, MADV_DONTNEED, a second shared mapping. Under ward the file's
 * page cache is filled on demand, so each of these is a first access to unfilled pages. */
#include "conf.h"
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>

#define PG 4096UL

static int fd;
static size_t size, npages;
static char *map;

/* The largest regular file of at least 4 MiB in dir (ties: the smaller name). */
static int find_big_file(const char *dir, char *out, size_t outlen)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	off_t best = 4 << 20;
	int found = -1;
	struct dirent *e;
	while ((e = readdir(d))) {
		char path[4096];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < best)
			continue;
		if (st.st_size == best && found == 0 && strcmp(path, out) > 0)
			continue;
		best = st.st_size;
		snprintf(out, outlen, "%s", path);
		found = 0;
	}
	closedir(d);
	return found;
}

/* The page index visited i-th of a walk of n pages in a scattered order. */
static size_t scattered(size_t i, size_t n, size_t seed)
{
	return (i * 2654435761UL + seed * 40503UL) % n;
}

static int page_ok(const char *m, size_t pg)
{
	char want[PG];
	memset(want, 0, sizeof(want));
	size_t off = pg * PG, n = size - off < PG ? size - off : PG;
	if (pread(fd, want, n, (off_t)off) != (ssize_t)n)
		return 0;
	return memcmp(m + off, want, PG) == 0; /* past EOF: zero, as want is */
}

/* Checks count pages of m in a scattered order starting from seed. */
static int pages_ok(const char *m, size_t count, size_t seed)
{
	int ok = 1;
	for (size_t i = 0; i < count; i++)
		ok &= page_ok(m, scattered(i, npages, seed));
	return ok;
}

struct reader {
	size_t seed;
	int ok;
};

static void *read_pages(void *arg)
{
	struct reader *r = arg;
	/* All threads walk the same pages, each from another start: they fault on the
	 * same unfilled pages at about the same time. */
	r->ok = 1;
	for (size_t i = 0; i < 64; i++)
		r->ok &= page_ok(map, scattered((i + r->seed * 16) % 64, npages, 7));
	return NULL;
}

int main(void)
{
	char path[4096] = "";
	if (find_big_file("/usr/lib/x86_64-linux-gnu", path, sizeof(path)) < 0 &&
	    find_big_file("/usr/lib", path, sizeof(path)) < 0) {
		printf("no big file to map\n");
		return 0;
	}
	fd = open(path, O_RDONLY);
	struct stat st;
	fstat(fd, &st);
	size = (size_t)st.st_size;
	npages = (size + PG - 1) / PG;
	printf("found a file of at least 4 MiB: yes\n");

	map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK_PTR("mmap PROT_READ MAP_PRIVATE", map);
	BOOL("  first page", page_ok(map, 0));
	BOOL("  last page (zero past EOF)", page_ok(map, npages - 1));
	BOOL("  200 pages in a scattered order", pages_ok(map, 200, 1));

	pid_t pid = fork();
	if (pid == 0)
		_exit(pages_ok(map, 200, 2) && page_ok(map, npages / 2 + 1) ? 0 : 1);
	int status;
	waitpid(pid, &status, 0);
	BOOL("fork: the child reads pages the parent never touched",
	     WIFEXITED(status) && WEXITSTATUS(status) == 0);
	BOOL("  and the parent reads them after", pages_ok(map, 200, 2));

	pthread_t th[4];
	struct reader rd[4];
	for (int i = 0; i < 4; i++) {
		rd[i].seed = (size_t)i;
		pthread_create(&th[i], NULL, read_pages, &rd[i]);
	}
	int all = 1;
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		all &= rd[i].ok;
	}
	BOOL("4 threads faulting on the same new pages", all);

	/* write(2) and writev(2) with the mapping as the source, into a pipe. */
	size_t at = (npages / 3) * PG, len = 65536 < size - at ? 65536 : size - at;
	int p[2];
	pipe(p);
	fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
	ssize_t w = write(p[1], map + at, len);
	char *got = malloc(len), *want = malloc(len);
	ssize_t r = read(p[0], got, len);
	pread(fd, want, len, (off_t)at);
	BOOL("write(2) from unread mapped pages", w == (ssize_t)len && r == (ssize_t)len && memcmp(got, want, len) == 0);
	size_t at2 = (npages / 5) * PG;
	struct iovec iov[2] = {{map + at2, 100}, {map + at2 + 3 * PG + 17, 5000}};
	w = writev(p[1], iov, 2);
	r = read(p[0], got, 5100);
	pread(fd, want, 100, (off_t)at2);
	pread(fd, want + 100, 5000, (off_t)(at2 + 3 * PG + 17));
	BOOL("writev(2) from unread mapped pages", w == 5100 && r == 5100 && memcmp(got, want, 5100) == 0);

	/* A path name the sentry reads out of unread pages (what it holds decides the errno,
	 * the same natively). */
	errno = 0;
	long ar = access(map + (npages * 2 / 3) * PG + 123, F_OK);
	conf_report("access(path inside the mapping)", ar, errno);

	/* mprotect over pages never read: PROT_NONE, back to PROT_READ, then writable. */
	size_t mp = (npages * 3 / 4) * PG;
	printf("mprotect PROT_NONE: %d\n", mprotect(map + mp, 8 * PG, PROT_NONE));
	printf("mprotect PROT_READ: %d\n", mprotect(map + mp, 8 * PG, PROT_READ));
	BOOL("  pages read after", page_ok(map, mp / PG) && page_ok(map, mp / PG + 7));
	size_t mw = (npages * 4 / 5) * PG;
	printf("mprotect PROT_READ|PROT_WRITE: %d\n", mprotect(map + mw, 4 * PG, PROT_READ | PROT_WRITE));
	char before = map[mw + 1];
	map[mw + 1] = (char)~before;
	char file_byte;
	pread(fd, &file_byte, 1, (off_t)(mw + 1));
	BOOL("  a private write changes the mapping, not the file",
	     map[mw + 1] == (char)~before && file_byte == before);
	BOOL("  the rest of the written page is the file's", memcmp(map + mw + 2, (pread(fd, want, PG - 2, (off_t)(mw + 2)), want), PG - 2) == 0);
	BOOL("  the next page too", page_ok(map, mw / PG + 1));

	/* mremap moves unread pages. */
	size_t mr = (npages / 7) * PG;
	char *moved = mremap(map + mr, 16 * PG, 16 * PG, MREMAP_MAYMOVE | MREMAP_FIXED,
			     mmap(NULL, 16 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	CHECK_PTR("mremap of unread pages", moved);
	int mok = 1;
	for (size_t i = 0; i < 16; i++)
		mok &= memcmp(moved + i * PG, (pread(fd, want, PG, (off_t)(mr + i * PG)), want), PG) == 0;
	BOOL("  moved pages read the file", mok);

	/* MADV_DONTNEED on a private read-only file mapping: reads the file again. */
	printf("madvise DONTNEED: %d\n", madvise(map, 64 * PG, MADV_DONTNEED));
	BOOL("  pages read after", pages_ok(map, 16, 3) && page_ok(map, 5));

	/* A second, shared mapping of a part: the same bytes. */
	size_t so = (npages / 2) * PG;
	char *sh = mmap(NULL, 32 * PG, PROT_READ, MAP_SHARED, fd, (off_t)so);
	CHECK_PTR("mmap MAP_SHARED at an offset", sh);
	int sok = 1;
	for (size_t i = 0; i < 32 && so / PG + i < npages; i++)
		sok &= memcmp(sh + i * PG, map + so + i * PG, PG) == 0 && page_ok(map, so / PG + i);
	BOOL("  same bytes as the private mapping and pread", sok);

	/* A writable private mapping: a copy of the file. */
	char *cp = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK_PTR("mmap PROT_READ|PROT_WRITE MAP_PRIVATE", cp);
	BOOL("  scattered pages", pages_ok(cp, 100, 4));
	munmap(cp, size);

	/* After everything, all pages once. */
	int every = 1;
	for (size_t i = 0; i < npages; i++)
		if (!(i >= mw / PG && i < mw / PG + 1) && !(i >= mr / PG && i < mr / PG + 16))
			every &= page_ok(map, i);
	BOOL("every page equals pread", every);
	return 0;
}
