/* mremap: growing in place, growing by moving, shrinking, MREMAP_FIXED, and the errors. */
#include "conf.h"
#include <sys/mman.h>
#include <unistd.h>

static size_t pg;

static int mapped(void *p)
{
	return msync(p, pg, MS_ASYNC) == 0;
}

static int filled(const char *p, size_t n, char c)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != c)
			return 0;
	return 1;
}

int main(void)
{
	pg = (size_t)sysconf(_SC_PAGESIZE);
	const int anon = MAP_PRIVATE | MAP_ANONYMOUS;
	const int rw = PROT_READ | PROT_WRITE;

	/* In place: reserve 4 pages, free the last 2, grow the first 2 into them. */
	char *m = mmap(NULL, 4 * pg, rw, anon, -1, 0);
	munmap(m + 2 * pg, 2 * pg);
	memset(m, 'a', 2 * pg);
	char *r = mremap(m, 2 * pg, 4 * pg, 0);
	CHECK_PTR("grow in place", r);
	BOOL("  same address", r == m);
	BOOL("  old data kept", filled(m, 2 * pg, 'a'));
	BOOL("  new part zero", filled(m + 2 * pg, 2 * pg, 0));

	/* Blocked: the page after is mapped. */
	char *blk = mmap(NULL, 3 * pg, rw, anon, -1, 0);
	memset(blk, 'b', 3 * pg);
	CHECK_PTR("grow into a mapped page without MREMAP_MAYMOVE", mremap(blk, pg, 2 * pg, 0));
	r = mremap(blk, pg, 8 * pg, MREMAP_MAYMOVE);
	CHECK_PTR("grow with MREMAP_MAYMOVE", r);
	BOOL("  moved", r != blk);
	BOOL("  data moved", filled(r, pg, 'b'));
	BOOL("  tail zero", filled(r + pg, 7 * pg, 0));
	BOOL("  old first page unmapped", !mapped(blk));
	BOOL("  rest of old mapping intact", mapped(blk + pg) && filled(blk + pg, 2 * pg, 'b'));

	char *s = mremap(r, 8 * pg, 2 * pg, 0);
	CHECK_PTR("shrink", s);
	BOOL("  same address", s == r);
	BOOL("  tail unmapped", !mapped(r + 2 * pg) && !mapped(r + 7 * pg));
	BOOL("  head kept", filled(s, pg, 'b'));

	/* MREMAP_FIXED: move onto a chosen address, replacing what was there. */
	char *target = mmap(NULL, 2 * pg, rw, anon, -1, 0);
	memset(target, 't', 2 * pg);
	char *f = mremap(s, 2 * pg, 2 * pg, MREMAP_MAYMOVE | MREMAP_FIXED, target);
	CHECK_PTR("MREMAP_FIXED", f);
	BOOL("  at the target", f == target);
	BOOL("  target holds moved data", filled(target, pg, 'b') && filled(target + pg, pg, 0));
	BOOL("  source unmapped", !mapped(s));

	CHECK_PTR("MREMAP_FIXED without MREMAP_MAYMOVE", mremap(target, pg, pg, MREMAP_FIXED, blk));
	CHECK_PTR("unaligned old address", mremap(target + 1, pg, 2 * pg, MREMAP_MAYMOVE));
	CHECK_PTR("new length 0", mremap(target, pg, 0, MREMAP_MAYMOVE));
	CHECK_PTR("unmapped old address", mremap(s, pg, 2 * pg, MREMAP_MAYMOVE));
	CHECK_PTR("bad flags", mremap(target, pg, pg, 0x80));
	CHECK_PTR("same size is a no-op", r = mremap(target, pg, pg, 0));
	BOOL("  same address", r == target);

	/* old_len 0 on a shared mapping makes a second view of the same pages. */
	char *sh = mmap(NULL, pg, rw, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char *dupv = mremap(sh, 0, pg, MREMAP_MAYMOVE);
	CHECK_PTR("old_len 0 on MAP_SHARED", dupv);
	sh[5] = 'z';
	BOOL("  second view sees writes", dupv != sh && dupv[5] == 'z');
	CHECK_PTR("old_len 0 on MAP_PRIVATE", mremap(target, 0, pg, MREMAP_MAYMOVE));
	return 0;
}
