#include "sentry/fs/page_ranges.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

uint64_t page_ranges_uncovered(const struct page_ranges *s, uint64_t start, uint64_t end)
{
	if (end <= start)
		return 0;
	uint64_t covered = 0;
	for (int i = 0; i < s->n && s->r[i].start < end; i++) {
		uint64_t a = max_u64(s->r[i].start, start), b = min_u64(s->r[i].end, end);
		if (a < b)
			covered += b - a;
	}
	return end - start - covered;
}

uint64_t page_ranges_fit(const struct page_ranges *s, uint64_t start, uint64_t end, uint64_t budget)
{
	uint64_t pos = start;
	int i = 0;
	while (i < s->n && s->r[i].end <= pos)
		i++;
	while (pos < end) {
		if (i < s->n && s->r[i].start <= pos) {
			pos = min_u64(s->r[i].end, end); /* already paid for */
			i++;
			continue;
		}
		uint64_t gap_end = i < s->n ? min_u64(s->r[i].start, end) : end;
		if (gap_end - pos > budget)
			return pos + budget;
		budget -= gap_end - pos;
		pos = gap_end;
	}
	return end;
}

static int reserve(struct page_ranges *s, int need)
{
	if (need <= s->cap)
		return 0;
	int cap = s->cap ? s->cap * 2 : 4;
	while (cap < need)
		cap *= 2;
	struct page_range *r = realloc(s->r, sizeof(*r) * (size_t)cap);
	if (!r)
		return -ENOMEM;
	s->r = r;
	s->cap = cap;
	return 0;
}

int64_t page_ranges_add(struct page_ranges *s, uint64_t start, uint64_t end)
{
	if (end <= start)
		return 0;
	uint64_t added = page_ranges_uncovered(s, start, end);
	/* Ranges that touch or overlap [start, end) merge with it into one. */
	int first = 0;
	while (first < s->n && s->r[first].end < start)
		first++;
	int last = first;
	while (last < s->n && s->r[last].start <= end)
		last++;
	if (first == last) {
		if (reserve(s, s->n + 1) < 0)
			return -ENOMEM;
		memmove(&s->r[first + 1], &s->r[first], sizeof(s->r[0]) * (size_t)(s->n - first));
		s->r[first] = (struct page_range){start, end};
		s->n++;
		return (int64_t)added;
	}
	struct page_range merged = {min_u64(start, s->r[first].start), max_u64(end, s->r[last - 1].end)};
	s->r[first] = merged;
	memmove(&s->r[first + 1], &s->r[last], sizeof(s->r[0]) * (size_t)(s->n - last));
	s->n -= last - first - 1;
	return (int64_t)added;
}

int64_t page_ranges_remove(struct page_ranges *s, uint64_t start, uint64_t end)
{
	if (end <= start)
		return 0;
	uint64_t removed = 0;
	for (int i = 0; i < s->n; i++) {
		struct page_range *r = &s->r[i];
		if (r->end <= start || r->start >= end)
			continue;
		removed += min_u64(r->end, end) - max_u64(r->start, start);
		if (r->start < start && r->end > end) {
			/* a hole in the middle: split in two */
			if (reserve(s, s->n + 1) < 0)
				return -ENOMEM;
			r = &s->r[i];
			memmove(&s->r[i + 1], &s->r[i], sizeof(s->r[0]) * (size_t)(s->n - i));
			s->n++;
			s->r[i].end = start;
			s->r[i + 1].start = end;
			return (int64_t)removed;
		}
		if (r->start < start) {
			r->end = start;
		} else if (r->end > end) {
			r->start = end;
		} else {
			memmove(&s->r[i], &s->r[i + 1], sizeof(s->r[0]) * (size_t)(s->n - i - 1));
			s->n--;
			i--;
		}
	}
	return (int64_t)removed;
}

void page_ranges_free(struct page_ranges *s)
{
	free(s->r);
	memset(s, 0, sizeof(*s));
}
