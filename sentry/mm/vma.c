/* The VMA set: a sorted dynamic array of non-overlapping [start, end) ranges.
 *
 * An array (rather than a tree) because guest address spaces hold tens to a few hundred
 * VMAs: lookups are a binary search, and the memmove on insert/remove is cheap at that
 * size. Every mutating operation reserves the array space it needs before touching
 * anything, so an -ENOMEM always leaves the set as it was.
 *
 * File references: each VMA owns exactly one reference on its non-NULL file. A split
 * takes a new one (file_get), dropping or merging a VMA away releases one (file_put). */
#include "sentry/mm/vma.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define VMA_PAGE_MASK (VMA_PAGE_SIZE - 1)

static inline bool page_aligned(uint64_t x)
{
	return (x & VMA_PAGE_MASK) == 0;
}

static void file_get(const struct vma_set *set, void *file)
{
	if (file && set->file_get)
		set->file_get(file);
}

static void file_put(const struct vma_set *set, void *file)
{
	if (file && set->file_put)
		set->file_put(file);
}

/* Index of the first VMA whose end > addr, or set->n. Ends are sorted too because the
 * ranges are sorted and disjoint. */
static size_t idx_next(const struct vma_set *set, uint64_t addr)
{
	size_t lo = 0, hi = set->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (set->v[mid].end > addr)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* [*first, *last) = the VMAs intersecting [start, end), start < end. */
static void idx_range(const struct vma_set *set, uint64_t start, uint64_t end, size_t *first,
		      size_t *last)
{
	size_t j = idx_next(set, end);

	/* v[j] has end > end; it still intersects when it starts below end. */
	if (j < set->n && set->v[j].start < end)
		j++;
	*first = idx_next(set, start);
	*last = j;
	if (*last < *first) /* cannot happen for start < end; keeps callers simple */
		*last = *first;
}

/* Makes room for 'extra' more entries without changing the contents. */
static int reserve(struct vma_set *set, size_t extra)
{
	const size_t max = SIZE_MAX / sizeof(struct vma);
	size_t cap;
	struct vma *v;

	if (set->cap - set->n >= extra)
		return 0;
	if (extra > max - set->n)
		return -ENOMEM;
	cap = set->cap <= max / 2 ? set->cap * 2 : max;
	if (cap < 16)
		cap = 16;
	if (cap < set->n + extra)
		cap = set->n + extra;
	v = realloc(set->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	set->v = v;
	set->cap = cap;
	return 0;
}

/* Shifts the tail of a VMA so it starts at 'addr', keeping both offsets pointing at the
 * same bytes. */
static void advance_start(struct vma *vma, uint64_t addr)
{
	uint64_t d = addr - vma->start;

	vma->start = addr;
	vma->memfile_off += d;
	vma->file_off += d;
}

/* The part of *vma inside [start, end) (which must intersect it). */
static struct vma clip(const struct vma *vma, uint64_t start, uint64_t end)
{
	struct vma piece = *vma;

	if (piece.start < start)
		advance_start(&piece, start);
	if (piece.end > end)
		piece.end = end;
	return piece;
}

/* Splits v[i] at addr (strictly inside it) into v[i] = [start, addr) and
 * v[i+1] = [addr, end). Room for one entry must have been reserved. */
static void split_at(struct vma_set *set, size_t i, uint64_t addr)
{
	struct vma *v = set->v;

	memmove(&v[i + 2], &v[i + 1], (set->n - i - 1) * sizeof(*v));
	v[i + 1] = v[i];
	advance_start(&v[i + 1], addr);
	v[i].end = addr;
	set->n++;
	file_get(set, v[i].file); /* both halves now hold a reference */
}

static bool mergeable(const struct vma *l, const struct vma *r)
{
	return l->end == r->start && l->prot == r->prot && l->flags == r->flags &&
	       l->file == r->file && l->lazy == r->lazy && l->memfile_off + (l->end - l->start) == r->memfile_off &&
	       (!l->file || l->file_off + (l->end - l->start) == r->file_off) &&
	       strncmp(l->name, r->name, VMA_NAME_MAX) == 0;
}

/* Merges compatible neighbours among v[a..b) (a < b <= n) in one pass, then closes the
 * hole with a single memmove. */
static void merge_span(struct vma_set *set, size_t a, size_t b)
{
	struct vma *v = set->v;
	size_t w = a, dropped;

	for (size_t k = a + 1; k < b; k++) {
		if (mergeable(&v[w], &v[k])) {
			v[w].end = v[k].end;
			file_put(set, v[k].file); /* v[w] already holds one on the same file */
		} else if (++w != k) {
			v[w] = v[k];
		}
	}
	dropped = b - (w + 1);
	if (dropped) {
		memmove(&v[w + 1], &v[b], (set->n - b) * sizeof(*v));
		set->n -= dropped;
	}
}

void vma_set_init(struct vma_set *set)
{
	memset(set, 0, sizeof(*set));
}

void vma_set_destroy(struct vma_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		file_put(set, set->v[i].file);
	free(set->v);
	set->v = NULL;
	set->n = set->cap = 0;
}

struct vma *vma_find(const struct vma_set *set, uint64_t addr)
{
	struct vma *vma = vma_find_next(set, addr);

	return vma && vma->start <= addr ? vma : NULL;
}

struct vma *vma_find_next(const struct vma_set *set, uint64_t addr)
{
	size_t i = idx_next(set, addr);

	return i < set->n ? &set->v[i] : NULL;
}

bool vma_range_mapped(const struct vma_set *set, uint64_t start, uint64_t end)
{
	uint64_t pos = start;

	for (size_t i = idx_next(set, start); pos < end; i++) {
		if (i >= set->n || set->v[i].start > pos)
			return false;
		pos = set->v[i].end;
	}
	return true;
}

int vma_find_gap(const struct vma_set *set, uint64_t len, uint64_t lo, uint64_t hi, uint64_t *out)
{
	uint64_t gap_end;
	size_t k;

	if (len == 0 || !page_aligned(len))
		return -EINVAL;
	if (lo > UINT64_MAX - VMA_PAGE_MASK)
		return -ENOMEM;
	lo = (lo + VMA_PAGE_MASK) & ~VMA_PAGE_MASK;
	hi &= ~VMA_PAGE_MASK;
	if (hi < lo || hi - lo < len)
		return -ENOMEM;

	/* VMAs below index k end at or below hi; v[k] may straddle hi and cap the first gap. */
	k = idx_next(set, hi);
	gap_end = hi;
	if (k < set->n && set->v[k].start < hi)
		gap_end = set->v[k].start;

	/* Walk the gaps downwards; lo + len cannot overflow since hi - lo >= len. */
	while (gap_end >= lo + len) {
		uint64_t gap_start = lo;

		if (k > 0 && set->v[k - 1].end > lo)
			gap_start = set->v[k - 1].end;
		if (gap_end >= gap_start && gap_end - gap_start >= len) {
			*out = gap_end - len;
			return 0;
		}
		if (k == 0)
			break;
		gap_end = set->v[--k].start;
	}
	return -ENOMEM;
}

int vma_remove_range(struct vma_set *set, uint64_t start, uint64_t end,
		     void (*release)(void *ctx, const struct vma *piece), void *ctx)
{
	size_t i, j, a, b;
	bool head, tail;

	if (!page_aligned(start) || !page_aligned(end) || start > end)
		return -EINVAL;
	if (start == end)
		return 0;
	idx_range(set, start, end, &i, &j);
	if (i == j)
		return 0;

	head = set->v[i].start < start;  /* v[i] keeps a part below start */
	tail = set->v[j - 1].end > end;  /* v[j-1] keeps a part above end */
	/* One VMA keeping parts on both sides is the only case that needs a new entry. */
	if (head && tail && i == j - 1) {
		int err = reserve(set, 1);

		if (err)
			return err;
	}

	/* Hand out the pieces first, in address order, while the set is still intact. */
	for (size_t k = i; k < j; k++) {
		struct vma piece = clip(&set->v[k], start, end);
		bool partial = piece.start != set->v[k].start || piece.end != set->v[k].end;

		if (partial)
			file_get(set, piece.file); /* the piece is split off its VMA */
		if (release)
			release(ctx, &piece);
		file_put(set, piece.file);
	}

	if (head && tail && i == j - 1) {
		/* [left | removed | right]: v[i] becomes left, a copy becomes right. */
		split_at(set, i, end);
		set->v[i].end = start;
		return 0;
	}
	/* Here head implies v[i] ends inside the range and tail implies v[j-1] starts in it. */
	if (head)
		set->v[i].end = start;
	if (tail)
		advance_start(&set->v[j - 1], end);
	a = head ? i + 1 : i;
	b = tail ? j - 1 : j;
	if (b > a) {
		memmove(&set->v[a], &set->v[b], (set->n - b) * sizeof(*set->v));
		set->n -= b - a;
	}
	return 0;
}

int vma_insert(struct vma_set *set, const struct vma *vma)
{
	struct vma *v;
	bool left, right;
	size_t k;
	int err;

	if (vma->start >= vma->end || !page_aligned(vma->start) || !page_aligned(vma->end))
		return -EINVAL;
	k = idx_next(set, vma->start);
	if (k < set->n && set->v[k].start < vma->end)
		return -EEXIST;

	v = set->v;
	left = k > 0 && mergeable(&v[k - 1], vma);
	right = k < set->n && mergeable(vma, &v[k]);

	if (left && right) {
		/* vma bridges v[k-1] and v[k]: both its reference and v[k]'s are redundant. */
		v[k - 1].end = v[k].end;
		file_put(set, vma->file);
		file_put(set, v[k].file);
		memmove(&v[k], &v[k + 1], (set->n - k - 1) * sizeof(*v));
		set->n--;
		return 0;
	}
	if (left) {
		v[k - 1].end = vma->end;
		file_put(set, vma->file);
		return 0;
	}
	if (right) {
		/* Grow v[k] downwards: its offsets become those of the new start. */
		v[k].start = vma->start;
		v[k].memfile_off = vma->memfile_off;
		v[k].file_off = vma->file_off;
		file_put(set, vma->file);
		return 0;
	}

	err = reserve(set, 1);
	if (err)
		return err;
	v = set->v;
	memmove(&v[k + 1], &v[k], (set->n - k) * sizeof(*v));
	v[k] = *vma;
	v[k].name[VMA_NAME_MAX - 1] = '\0'; /* never trust the caller to terminate it */
	set->n++;
	return 0;
}

int vma_protect_range(struct vma_set *set, uint64_t start, uint64_t end, int prot)
{
	bool split_lo, split_hi;
	size_t i, j;
	int err;

	if (!page_aligned(start) || !page_aligned(end) || start > end)
		return -EINVAL;
	if (start == end)
		return 0;
	/* All-or-nothing: check coverage and reserve split room before changing anything. */
	if (!vma_range_mapped(set, start, end))
		return -ENOMEM;
	idx_range(set, start, end, &i, &j);

	/* An edge VMA that already has 'prot' needs no split: changing all of it is a no-op. */
	split_lo = set->v[i].start < start && set->v[i].prot != prot;
	split_hi = set->v[j - 1].end > end && set->v[j - 1].prot != prot;
	err = reserve(set, (size_t)split_lo + split_hi);
	if (err)
		return err;

	if (split_lo) {
		split_at(set, i, start);
		i++;
		j++;
	}
	if (split_hi)
		split_at(set, j - 1, end); /* v[j-1] keeps [.., end), v[j] gets the rest */
	for (size_t k = i; k < j; k++)
		set->v[k].prot = prot;

	/* The changed VMAs may now merge with each other and with both outer neighbours. */
	merge_span(set, i > 0 ? i - 1 : 0, j < set->n ? j + 1 : set->n);
	return 0;
}

bool vma_set_valid(const struct vma_set *set)
{
	if (set->n > set->cap || (set->n && !set->v))
		return false;
	for (size_t i = 0; i < set->n; i++) {
		const struct vma *v = &set->v[i];

		if (v->start >= v->end || !page_aligned(v->start) || !page_aligned(v->end))
			return false;
		if (i > 0 && set->v[i - 1].end > v->start)
			return false;
		if (memchr(v->name, '\0', VMA_NAME_MAX) == NULL)
			return false;
	}
	return true;
}
