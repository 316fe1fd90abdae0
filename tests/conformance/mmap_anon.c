/* Anonymous mmap/munmap: zero fill, MAP_FIXED replacement, MAP_FIXED_NOREPLACE, partial
 * unmaps, and the argument checks. "mapped" is probed with msync, which fails with ENOMEM
 * on unmapped pages. */
#include "conf.h"
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

static size_t pg;

static int mapped(void *p)
{
	return msync(p, pg, MS_ASYNC) == 0;
}

int main(void)
{
	pg = (size_t)sysconf(_SC_PAGESIZE);
	printf("page size=%zu\n", pg);
	char *m = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK_PTR("mmap 4 pages", m);
	BOOL("  page aligned", ((uintptr_t)m & (pg - 1)) == 0);
	int zero = 1;
	for (size_t i = 0; i < 4 * pg; i++)
		zero &= m[i] == 0;
	BOOL("  zero filled", zero);
	memset(m, 'a', 4 * pg);

	char *f = mmap(m + pg, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK_PTR("MAP_FIXED over page 1", f);
	BOOL("  returned the requested address", f == m + pg);
	BOOL("  replaced page is zero", m[pg] == 0 && m[2 * pg - 1] == 0);
	BOOL("  neighbours keep data", m[pg - 1] == 'a' && m[2 * pg] == 'a');

	errno = 0;
	void *r = mmap(m + 2 * pg, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	conf_report_ok("MAP_FIXED_NOREPLACE over mapping", r == MAP_FAILED ? -1 : 0, errno);
	BOOL("  data untouched", m[2 * pg] == 'a');

	CHECK("munmap page 2", munmap(m + 2 * pg, pg));
	BOOL("  page 2 unmapped", !mapped(m + 2 * pg));
	BOOL("  pages 1 and 3 still mapped", mapped(m + pg) && mapped(m + 3 * pg));
	BOOL("  page 3 keeps data", m[3 * pg] == 'a');
	r = mmap(m + 2 * pg, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK_PTR("MAP_FIXED_NOREPLACE into the hole", r);
	BOOL("  at the requested address", r == m + 2 * pg);
	BOOL("  zero", m[2 * pg] == 0);

	CHECK("munmap unaligned address", munmap(m + 1, pg));
	CHECK("munmap length 0", munmap(m, 0));
	CHECK("munmap unaligned length (rounded up)", munmap(m + 3 * pg, 1));
	BOOL("  page 3 unmapped", !mapped(m + 3 * pg));
	CHECK("munmap already unmapped range", munmap(m + 3 * pg, pg));
	CHECK("munmap across mapped and unmapped", munmap(m, 4 * pg));
	BOOL("  all gone", !mapped(m) && !mapped(m + pg) && !mapped(m + 2 * pg));

	CHECK_PTR("mmap length 0", mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	CHECK_PTR("mmap neither SHARED nor PRIVATE", mmap(NULL, pg, PROT_READ, MAP_ANONYMOUS, -1, 0));
	CHECK_PTR("mmap SHARED and PRIVATE", mmap(NULL, pg, PROT_READ, MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	CHECK_PTR("mmap MAP_FIXED unaligned", mmap(m + 1, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	CHECK_PTR("mmap unaligned offset", mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 1));
	CHECK_PTR("mmap huge length", mmap(NULL, (size_t)1 << 62, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
	CHECK_PTR("mmap length -1", mmap(NULL, (size_t)-1, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	CHECK_PTR("mmap MAP_FIXED above user space", mmap((void *)0xffff900000000000UL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	CHECK_PTR("mmap bad fd without MAP_ANONYMOUS", mmap(NULL, pg, PROT_READ, MAP_PRIVATE, 77, 0));

	char *u = mmap(NULL, 3 * pg + 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK_PTR("mmap unaligned length", u);
	BOOL("  rounded up to 4 pages", mapped(u + 3 * pg));
	u[4 * pg - 1] = 1;

	char *s = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK_PTR("mmap MAP_SHARED|MAP_ANONYMOUS", s);
	s[0] = 'x';
	BOOL("  writable", s[0] == 'x');
	char *n = mmap(NULL, pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK_PTR("mmap PROT_NONE", n);
	BOOL("  counts as mapped", mapped(n));
	char *lo = mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	CHECK_PTR("mmap MAP_32BIT", lo);
	BOOL("  below 2 GiB", (uintptr_t)lo < (1UL << 31));
	char *p = mmap(NULL, 16 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	CHECK_PTR("mmap MAP_POPULATE", p);
	BOOL("  zero", p[0] == 0 && p[16 * pg - 1] == 0);
	return 0;
}
