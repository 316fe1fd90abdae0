/* The pages of a memory-backed file that hold data, as sorted disjoint [start, end) byte
 * ranges (page-aligned). tmpfs charges the sandbox's --tmpfs-size budget by them, so a
 * sparse file costs only what was written or allocated, as on Linux's tmpfs. */
#ifndef WARD_FS_PAGE_RANGES_H
#define WARD_FS_PAGE_RANGES_H

#include <stdint.h>

struct page_range {
	uint64_t start, end;
};

struct page_ranges {
	struct page_range *r;
	int n, cap;
};

/* Bytes of [start, end) that no range covers. */
uint64_t page_ranges_uncovered(const struct page_ranges *s, uint64_t start, uint64_t end);
/* The largest e in [start, end] such that [start, e) has at most budget uncovered bytes;
 * e is end or the start of an uncovered page that no longer fits. */
uint64_t page_ranges_fit(const struct page_ranges *s, uint64_t start, uint64_t end, uint64_t budget);
/* Covers [start, end); returns the bytes newly covered, or -ENOMEM. */
int64_t page_ranges_add(struct page_ranges *s, uint64_t start, uint64_t end);
/* Uncovers [start, end); returns the bytes that were covered (or -ENOMEM when a range
 * would have to be split and there is no memory: nothing changed then). */
int64_t page_ranges_remove(struct page_ranges *s, uint64_t start, uint64_t end);
void page_ranges_free(struct page_ranges *s);

#endif
