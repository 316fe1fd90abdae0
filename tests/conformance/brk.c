/* brk: growing and shrinking the program break. Only relations are printed (the break is
 * randomized). The break is restored at the end so malloc is not disturbed. */
#include "conf.h"
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static uintptr_t sys_brk(uintptr_t to)
{
	return (uintptr_t)syscall(SYS_brk, to);
}

int main(void)
{
	printf("start\n"); /* lets stdio allocate its buffer before the break is read */
	uintptr_t cur = sys_brk(0);
	BOOL("brk(0) equals sbrk(0)", (void *)cur == sbrk(0));
	BOOL("brk(0) stable", sys_brk(0) == cur);
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t base = (cur + pg - 1) & ~(pg - 1);

	BOOL("grow by 1 MiB returns the request", sys_brk(base + (1 << 20)) == base + (1 << 20));
	char *p = (char *)base;
	int zero = 1;
	for (size_t i = 0; i < (1 << 20); i += 512)
		zero &= p[i] == 0;
	BOOL("  new memory is zero", zero);
	memset(p, 'x', 1 << 20);
	BOOL("  writable", p[(1 << 20) - 1] == 'x');
	BOOL("  brk(0) reports it", sys_brk(0) == base + (1 << 20));

	BOOL("unaligned request returned as is", sys_brk(base + (1 << 20) + 100) == base + (1 << 20) + 100);
	BOOL("shrink to base+1 page", sys_brk(base + pg) == base + pg);
	BOOL("  first page kept", p[0] == 'x' && p[pg - 1] == 'x');
	BOOL("  released pages unmapped", msync(p + 2 * pg, pg, MS_ASYNC) != 0 && errno == ENOMEM);
	BOOL("regrow", sys_brk(base + 4 * pg) == base + 4 * pg);
	BOOL("  regrown pages are zero again", p[2 * pg] == 0 && p[3 * pg + 9] == 0);
	BOOL("  kept page still there", p[5] == 'x');

	uintptr_t now = sys_brk(0);
	BOOL("absurd request fails, returns the current break", sys_brk(cur + ((uintptr_t)1 << 46)) == now);
	BOOL("below the start of the heap fails", sys_brk(4096) == now);
	/* A mapping right above the break blocks growth into it. */
	void *wall = mmap((void *)(base + 8 * pg), pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (wall != MAP_FAILED)
		BOOL("growth into a mapping fails", sys_brk(base + 16 * pg) == now);
	else
		printf("growth into a mapping fails: yes\n");
	BOOL("restore", sys_brk(cur) == cur);
	return 0;
}
