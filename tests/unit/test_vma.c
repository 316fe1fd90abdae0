/* Unit tests for the VMA set (sentry/mm/vma.c). */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "sentry/mm/vma.h"

#define PG VMA_PAGE_SIZE
#define BASE 0x40000000ULL
#define A(p) (BASE + (uint64_t)(p) * PG) /* address of page p of the test window */

/* ---- helpers ---------------------------------------------------------------------- */

/* A counting file: every VMA holds exactly one reference. */
struct tfile {
	int refs;
};

static void tfile_get(void *f)
{
	((struct tfile *)f)->refs++;
}

static void tfile_put(void *f)
{
	struct tfile *t = f;

	cr_assert_gt(t->refs, 0, "file_put on a file with no references");
	t->refs--;
}

static void set_init(struct vma_set *s)
{
	vma_set_init(s);
	s->file_get = tfile_get;
	s->file_put = tfile_put;
}

static struct vma mk(uint64_t start, uint64_t end, int prot, uint64_t memfile_off)
{
	struct vma v;

	memset(&v, 0, sizeof(v));
	v.start = start;
	v.end = end;
	v.prot = prot;
	v.flags = VMA_ANON;
	v.memfile_off = memfile_off;
	return v;
}

/* Inserts with a fresh caller reference on the file, as mm.c would. */
static int ins(struct vma_set *s, struct vma v)
{
	int err;

	if (v.file)
		tfile_get(v.file);
	err = vma_insert(s, &v);
	if (err && v.file)
		tfile_put(v.file); /* not taken over on failure */
	return err;
}

static bool compatible(const struct vma *l, const struct vma *r)
{
	return l->end == r->start && l->prot == r->prot && l->flags == r->flags &&
	       l->file == r->file && l->memfile_off + (l->end - l->start) == r->memfile_off &&
	       (!l->file || l->file_off + (l->end - l->start) == r->file_off) &&
	       strcmp(l->name, r->name) == 0;
}

/* Valid, and no two neighbours that should have been merged. */
static void check_set(const struct vma_set *s)
{
	cr_assert(vma_set_valid(s));
	for (size_t i = 1; i < s->n; i++)
		cr_assert(!compatible(&s->v[i - 1], &s->v[i]), "unmerged neighbours at %zu", i);
}

struct rec {
	struct vma p[64];
	int n;
};

static void record(void *ctx, const struct vma *piece)
{
	struct rec *r = ctx;

	cr_assert_lt(r->n, 64);
	if (piece->file) /* the piece's reference is still alive during release */
		cr_assert_gt(((struct tfile *)piece->file)->refs, 0);
	r->p[r->n++] = *piece;
}

/* ---- basic behaviour ------------------------------------------------------------- */

Test(vma, empty_set)
{
	struct vma_set s;
	uint64_t out;

	set_init(&s);
	cr_assert_null(vma_find(&s, A(0)));
	cr_assert_null(vma_find_next(&s, 0));
	cr_assert(vma_range_mapped(&s, A(1), A(1)));
	cr_assert(!vma_range_mapped(&s, A(1), A(2)));
	cr_assert_eq(vma_remove_range(&s, A(0), A(10), record, NULL), 0);
	cr_assert_eq(vma_protect_range(&s, A(0), A(1), PROT_READ), -ENOMEM);
	cr_assert_eq(vma_find_gap(&s, PG, A(0), A(4), &out), 0);
	cr_assert_eq(out, A(3));
	cr_assert(vma_set_valid(&s));
	vma_set_destroy(&s);
}

Test(vma, insert_find_merge)
{
	struct vma_set s;
	struct vma *v;

	set_init(&s);
	cr_assert_eq(ins(&s, mk(A(10), A(12), PROT_READ, 0)), 0);
	cr_assert_eq(ins(&s, mk(A(20), A(22), PROT_READ, 10 * PG)), 0);
	cr_assert_eq(s.n, 2);

	/* find / find_next at the edges */
	cr_assert_null(vma_find(&s, A(10) - 1));
	cr_assert_eq(vma_find(&s, A(10))->start, A(10));
	cr_assert_eq(vma_find(&s, A(12) - 1)->start, A(10));
	cr_assert_null(vma_find(&s, A(12)));
	cr_assert_eq(vma_find_next(&s, A(12))->start, A(20));
	cr_assert_eq(vma_find_next(&s, 0)->start, A(10));
	cr_assert_null(vma_find_next(&s, A(22)));

	/* overlap and argument checks */
	cr_assert_eq(ins(&s, mk(A(11), A(13), PROT_READ, 0)), -EEXIST);
	cr_assert_eq(ins(&s, mk(A(9), A(11), PROT_READ, 0)), -EEXIST);
	cr_assert_eq(ins(&s, mk(A(5), A(30), PROT_READ, 0)), -EEXIST);
	cr_assert_eq(ins(&s, mk(A(5), A(5), PROT_READ, 0)), -EINVAL);
	cr_assert_eq(ins(&s, mk(A(5) + 1, A(6), PROT_READ, 0)), -EINVAL);
	cr_assert_eq(ins(&s, mk(A(6), A(5), PROT_READ, 0)), -EINVAL);

	/* right-adjacent, contiguous memfile: merges into [10, 14) */
	cr_assert_eq(ins(&s, mk(A(12), A(14), PROT_READ, 2 * PG)), 0);
	cr_assert_eq(s.n, 2);
	/* left-adjacent to [20,22), contiguous: [18, 22) with memfile_off 8 pages */
	cr_assert_eq(ins(&s, mk(A(18), A(20), PROT_READ, 8 * PG)), 0);
	cr_assert_eq(s.n, 2);
	v = vma_find(&s, A(18));
	cr_assert_eq(v->start, A(18));
	cr_assert_eq(v->memfile_off, 8 * PG);
	/* the hole [14, 18) bridges both: a single VMA */
	cr_assert_eq(ins(&s, mk(A(14), A(18), PROT_READ, 4 * PG)), 0);
	cr_assert_eq(s.n, 1);
	v = vma_find(&s, A(15));
	cr_assert_eq(v->start, A(10));
	cr_assert_eq(v->end, A(22));
	cr_assert_eq(v->memfile_off, 0);
	check_set(&s);

	/* adjacent but incompatible: prot, memfile gap, flags, name */
	cr_assert_eq(ins(&s, mk(A(22), A(23), PROT_WRITE, 12 * PG)), 0);
	cr_assert_eq(ins(&s, mk(A(23), A(24), PROT_WRITE, 99 * PG)), 0);
	struct vma w = mk(A(24), A(25), PROT_WRITE, 100 * PG);
	w.flags = VMA_SHARED;
	cr_assert_eq(ins(&s, w), 0);
	w = mk(A(25), A(26), PROT_WRITE, 101 * PG);
	w.flags = VMA_SHARED;
	strcpy(w.name, "[heap]");
	cr_assert_eq(ins(&s, w), 0);
	cr_assert_eq(s.n, 5);
	check_set(&s);
	cr_assert(vma_range_mapped(&s, A(10), A(26)));
	cr_assert(!vma_range_mapped(&s, A(9), A(26)));
	cr_assert(!vma_range_mapped(&s, A(10), A(27)));
	vma_set_destroy(&s);
}

Test(vma, merge_requires_file_off_contiguity)
{
	struct vma_set s;
	struct tfile f = { 0 };
	struct vma a = mk(A(0), A(2), PROT_READ, 0), b;

	set_init(&s);
	a.file = &f;
	a.file_off = 0x1000;
	cr_assert_eq(ins(&s, a), 0);
	b = mk(A(2), A(3), PROT_READ, 2 * PG);
	b.file = &f;
	b.file_off = 0x5000; /* not 0x3000 */
	cr_assert_eq(ins(&s, b), 0);
	cr_assert_eq(s.n, 2);
	cr_assert_eq(f.refs, 2);
	b = mk(A(3), A(4), PROT_READ, 3 * PG);
	b.file = &f;
	b.file_off = 0x6000; /* contiguous with the previous one */
	cr_assert_eq(ins(&s, b), 0);
	cr_assert_eq(s.n, 2);
	cr_assert_eq(f.refs, 2, "merge must drop the redundant reference");
	/* a different file never merges, even with matching offsets */
	struct tfile g = { 0 };
	b = mk(A(4), A(5), PROT_READ, 4 * PG);
	b.file = &g;
	b.file_off = 0x7000;
	cr_assert_eq(ins(&s, b), 0);
	cr_assert_eq(s.n, 3);
	check_set(&s);
	vma_set_destroy(&s);
	cr_assert_eq(f.refs, 0);
	cr_assert_eq(g.refs, 0);
}

Test(vma, remove_middle_splits)
{
	struct vma_set s;
	struct tfile f = { 0 };
	struct rec r = { .n = 0 };
	struct vma v = mk(A(0), A(10), PROT_READ | PROT_WRITE, 0x100000);

	set_init(&s);
	v.file = &f;
	v.file_off = 0x3000;
	cr_assert_eq(ins(&s, v), 0);
	cr_assert_eq(f.refs, 1);

	cr_assert_eq(vma_remove_range(&s, A(3), A(5), record, &r), 0);
	cr_assert_eq(s.n, 2);
	check_set(&s);
	cr_assert_eq(s.v[0].start, A(0));
	cr_assert_eq(s.v[0].end, A(3));
	cr_assert_eq(s.v[0].memfile_off, 0x100000);
	cr_assert_eq(s.v[0].file_off, 0x3000);
	cr_assert_eq(s.v[1].start, A(5));
	cr_assert_eq(s.v[1].end, A(10));
	cr_assert_eq(s.v[1].memfile_off, 0x100000 + 5 * PG);
	cr_assert_eq(s.v[1].file_off, 0x3000 + 5 * PG);
	cr_assert_eq(s.v[1].prot, PROT_READ | PROT_WRITE);

	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.p[0].start, A(3));
	cr_assert_eq(r.p[0].end, A(5));
	cr_assert_eq(r.p[0].memfile_off, 0x100000 + 3 * PG);
	cr_assert_eq(r.p[0].file_off, 0x3000 + 3 * PG);
	cr_assert_eq(r.p[0].file, &f);
	cr_assert_eq(f.refs, 2, "one reference per remaining VMA");

	/* re-inserting the hole with the right offsets merges back into one */
	v = mk(A(3), A(5), PROT_READ | PROT_WRITE, 0x100000 + 3 * PG);
	v.file = &f;
	v.file_off = 0x3000 + 3 * PG;
	cr_assert_eq(ins(&s, v), 0);
	cr_assert_eq(s.n, 1);
	cr_assert_eq(f.refs, 1);
	vma_set_destroy(&s);
	cr_assert_eq(f.refs, 0);
}

Test(vma, remove_across_vmas_and_holes)
{
	struct vma_set s;
	struct rec r = { .n = 0 };

	set_init(&s);
	/* [0,4) [6,8) [8,12) (incompatible with [6,8)) [14,20) */
	cr_assert_eq(ins(&s, mk(A(0), A(4), PROT_READ, 0)), 0);
	cr_assert_eq(ins(&s, mk(A(6), A(8), PROT_READ, 100 * PG)), 0);
	cr_assert_eq(ins(&s, mk(A(8), A(12), PROT_WRITE, 102 * PG)), 0);
	cr_assert_eq(ins(&s, mk(A(14), A(20), PROT_READ, 200 * PG)), 0);
	cr_assert_eq(s.n, 4);

	cr_assert_eq(vma_remove_range(&s, A(2), A(16), record, &r), 0);
	check_set(&s);
	cr_assert_eq(s.n, 2);
	cr_assert_eq(s.v[0].start, A(0));
	cr_assert_eq(s.v[0].end, A(2));
	cr_assert_eq(s.v[1].start, A(16));
	cr_assert_eq(s.v[1].end, A(20));
	cr_assert_eq(s.v[1].memfile_off, 202 * PG);

	cr_assert_eq(r.n, 4);
	const uint64_t want[4][3] = {
		{ A(2), A(4), 2 * PG },
		{ A(6), A(8), 100 * PG },
		{ A(8), A(12), 102 * PG },
		{ A(14), A(16), 200 * PG },
	};
	for (int k = 0; k < 4; k++) {
		cr_assert_eq(r.p[k].start, want[k][0], "piece %d", k);
		cr_assert_eq(r.p[k].end, want[k][1], "piece %d", k);
		cr_assert_eq(r.p[k].memfile_off, want[k][2], "piece %d", k);
	}

	/* removing a hole, or everything */
	r.n = 0;
	cr_assert_eq(vma_remove_range(&s, A(2), A(16), record, &r), 0);
	cr_assert_eq(r.n, 0);
	cr_assert_eq(vma_remove_range(&s, A(0) + 1, A(2), record, &r), -EINVAL);
	cr_assert_eq(vma_remove_range(&s, 0, UINT64_MAX & ~(PG - 1), NULL, NULL), 0);
	cr_assert_eq(s.n, 0);
	vma_set_destroy(&s);
}

Test(vma, protect_split_and_remerge)
{
	struct vma_set s;
	struct tfile f = { 0 };
	struct vma v = mk(A(0), A(16), PROT_READ | PROT_WRITE, 0x40000);

	set_init(&s);
	v.file = &f;
	v.file_off = 0x2000;
	strcpy(v.name, "[heap]");
	cr_assert_eq(ins(&s, v), 0);

	/* middle: three pieces */
	cr_assert_eq(vma_protect_range(&s, A(4), A(8), PROT_READ), 0);
	check_set(&s);
	cr_assert_eq(s.n, 3);
	cr_assert_eq(f.refs, 3);
	cr_assert_eq(s.v[1].start, A(4));
	cr_assert_eq(s.v[1].end, A(8));
	cr_assert_eq(s.v[1].prot, PROT_READ);
	cr_assert_eq(s.v[1].memfile_off, 0x40000 + 4 * PG);
	cr_assert_eq(s.v[1].file_off, 0x2000 + 4 * PG);
	cr_assert_str_eq(s.v[1].name, "[heap]");
	cr_assert_eq(s.v[2].prot, PROT_READ | PROT_WRITE);
	cr_assert_eq(s.v[2].memfile_off, 0x40000 + 8 * PG);

	/* extending the READ region to the right merges with [4,8) */
	cr_assert_eq(vma_protect_range(&s, A(6), A(10), PROT_READ), 0);
	check_set(&s);
	cr_assert_eq(s.n, 3);
	cr_assert_eq(s.v[1].start, A(4));
	cr_assert_eq(s.v[1].end, A(10));

	/* a second island, then protect everything back: one VMA again */
	cr_assert_eq(vma_protect_range(&s, A(12), A(13), PROT_NONE), 0);
	cr_assert_eq(s.n, 5);
	cr_assert_eq(vma_protect_range(&s, A(0), A(16), PROT_READ | PROT_WRITE), 0);
	check_set(&s);
	cr_assert_eq(s.n, 1);
	cr_assert_eq(s.v[0].start, A(0));
	cr_assert_eq(s.v[0].end, A(16));
	cr_assert_eq(s.v[0].memfile_off, 0x40000);
	cr_assert_eq(s.v[0].file_off, 0x2000);
	cr_assert_eq(f.refs, 1);

	/* protecting a sub-range to the prot it already has changes nothing */
	cr_assert_eq(vma_protect_range(&s, A(3), A(5), PROT_READ | PROT_WRITE), 0);
	cr_assert_eq(s.n, 1);
	/* an edge-only change: two pieces, then back to one */
	cr_assert_eq(vma_protect_range(&s, A(0), A(1), PROT_EXEC), 0);
	cr_assert_eq(s.n, 2);
	cr_assert_eq(vma_protect_range(&s, A(0), A(1), PROT_READ | PROT_WRITE), 0);
	cr_assert_eq(s.n, 1);
	cr_assert_eq(vma_protect_range(&s, A(0), A(0), PROT_EXEC), 0);
	cr_assert_eq(vma_protect_range(&s, A(0), A(1) + 1, PROT_EXEC), -EINVAL);
	vma_set_destroy(&s);
	cr_assert_eq(f.refs, 0);
}

Test(vma, protect_merges_separately_inserted_vmas)
{
	struct vma_set s;

	set_init(&s);
	/* contiguous memfile but different prot: two VMAs until the prots agree */
	cr_assert_eq(ins(&s, mk(A(0), A(2), PROT_READ, 0)), 0);
	cr_assert_eq(ins(&s, mk(A(2), A(4), PROT_WRITE, 2 * PG)), 0);
	cr_assert_eq(ins(&s, mk(A(4), A(6), PROT_READ, 4 * PG)), 0);
	cr_assert_eq(s.n, 3);
	cr_assert_eq(vma_protect_range(&s, A(2), A(4), PROT_READ), 0);
	check_set(&s);
	cr_assert_eq(s.n, 1);
	cr_assert_eq(s.v[0].end, A(6));
	vma_set_destroy(&s);
}

Test(vma, protect_hole_is_enomem_and_unchanged)
{
	struct vma_set s;
	struct vma before[3];

	set_init(&s);
	cr_assert_eq(ins(&s, mk(A(0), A(4), PROT_READ, 0)), 0);
	cr_assert_eq(ins(&s, mk(A(5), A(8), PROT_READ, 5 * PG)), 0);
	cr_assert_eq(ins(&s, mk(A(8), A(9), PROT_WRITE, 8 * PG)), 0);
	cr_assert_eq(s.n, 3);
	memcpy(before, s.v, sizeof(before));

	cr_assert_eq(vma_protect_range(&s, A(2), A(6), PROT_NONE), -ENOMEM);
	cr_assert_eq(vma_protect_range(&s, A(7), A(10), PROT_NONE), -ENOMEM);
	cr_assert_eq(vma_protect_range(&s, A(20), A(21), PROT_NONE), -ENOMEM);
	cr_assert_eq(s.n, 3);
	cr_assert_eq(memcmp(before, s.v, sizeof(before)), 0);
	/* the mapped part across two VMAs still works */
	cr_assert_eq(vma_protect_range(&s, A(6), A(9), PROT_NONE), 0);
	check_set(&s);
	cr_assert_eq(s.n, 3);
	cr_assert_eq(s.v[1].end, A(6));
	cr_assert_eq(s.v[2].start, A(6));
	cr_assert_eq(s.v[2].end, A(9));
	cr_assert_eq(s.v[2].prot, PROT_NONE);
	vma_set_destroy(&s);
}

Test(vma, find_gap_top_down)
{
	struct vma_set s;
	uint64_t out = 0;

	set_init(&s);
	cr_assert_eq(vma_find_gap(&s, 0, A(0), A(100), &out), -EINVAL);
	cr_assert_eq(vma_find_gap(&s, PG + 1, A(0), A(100), &out), -EINVAL);
	cr_assert_eq(vma_find_gap(&s, 4 * PG, A(0), A(100), &out), 0);
	cr_assert_eq(out, A(96));
	/* unaligned bounds are rounded inwards */
	cr_assert_eq(vma_find_gap(&s, 4 * PG, A(0) + 1, A(100) - 1, &out), 0);
	cr_assert_eq(out, A(95));
	cr_assert_eq(vma_find_gap(&s, 4 * PG, A(1) - 1, A(5) - 1, &out), -ENOMEM);
	cr_assert_eq(vma_find_gap(&s, 4 * PG, A(1) - 1, A(5), &out), 0);
	cr_assert_eq(out, A(1));
	cr_assert_eq(vma_find_gap(&s, PG, A(5), A(4), &out), -ENOMEM);
	cr_assert_eq(vma_find_gap(&s, PG, UINT64_MAX - 10, UINT64_MAX, &out), -ENOMEM);
	cr_assert_eq(vma_find_gap(&s, PG, 0, UINT64_MAX, &out), 0);
	cr_assert_eq(out, (UINT64_MAX & ~(PG - 1)) - PG);

	/* fragment: used [90,100) [80,87) [60,79) [20,50); free 87..90 (3), 79..80 (1),
	 * 50..60 (10), 0..20 (20) and above 100 */
	cr_assert_eq(ins(&s, mk(A(90), A(100), PROT_READ, 0)), 0);
	cr_assert_eq(ins(&s, mk(A(80), A(87), PROT_WRITE, 0)), 0);
	cr_assert_eq(ins(&s, mk(A(60), A(79), PROT_READ, 0)), 0);
	cr_assert_eq(ins(&s, mk(A(20), A(50), PROT_WRITE, 0)), 0);

	cr_assert_eq(vma_find_gap(&s, 1 * PG, A(0), A(100), &out), 0);
	cr_assert_eq(out, A(89));
	cr_assert_eq(vma_find_gap(&s, 3 * PG, A(0), A(100), &out), 0);
	cr_assert_eq(out, A(87));
	cr_assert_eq(vma_find_gap(&s, 4 * PG, A(0), A(100), &out), 0);
	cr_assert_eq(out, A(56));
	cr_assert_eq(vma_find_gap(&s, 10 * PG, A(0), A(100), &out), 0);
	cr_assert_eq(out, A(50));
	cr_assert_eq(vma_find_gap(&s, 11 * PG, A(0), A(100), &out), 0);
	cr_assert_eq(out, A(9));
	cr_assert_eq(vma_find_gap(&s, 21 * PG, A(0), A(100), &out), -ENOMEM);
	cr_assert_eq(vma_find_gap(&s, 21 * PG, A(0), A(200), &out), 0);
	cr_assert_eq(out, A(179));
	/* hi inside a VMA: the gap below it is used, not the VMA's own range */
	cr_assert_eq(vma_find_gap(&s, PG, A(0), A(85), &out), 0);
	cr_assert_eq(out, A(79));
	cr_assert_eq(vma_find_gap(&s, 2 * PG, A(0), A(85), &out), 0);
	cr_assert_eq(out, A(58));
	/* lo inside a gap/VMA clips the lowest gaps */
	cr_assert_eq(vma_find_gap(&s, 10 * PG, A(51), A(100), &out), -ENOMEM);
	cr_assert_eq(vma_find_gap(&s, 9 * PG, A(51), A(100), &out), 0);
	cr_assert_eq(out, A(51));
	cr_assert_eq(vma_find_gap(&s, 5 * PG, A(10), A(55), &out), 0);
	cr_assert_eq(out, A(50));
	cr_assert_eq(vma_find_gap(&s, 5 * PG, A(10), A(54), &out), 0);
	cr_assert_eq(out, A(15));
	cr_assert_eq(vma_find_gap(&s, 5 * PG, A(30), A(54), &out), -ENOMEM);
	cr_assert_eq(vma_find_gap(&s, PG, A(90), A(100), &out), -ENOMEM);
	cr_assert_eq(vma_find_gap(&s, PG, A(91), A(99), &out), -ENOMEM);
	vma_set_destroy(&s);
}

Test(vma, file_refcount_balance)
{
	struct vma_set s;
	struct tfile f = { 0 }, g = { 0 };
	struct vma v;

	set_init(&s);
	for (int i = 0; i < 8; i++) {
		v = mk(A(i * 10), A(i * 10 + 10), PROT_READ, (uint64_t)i * 10 * PG);
		v.file = (i & 1) ? &g : &f;
		v.file_off = (uint64_t)i * 10 * PG;
		cr_assert_eq(ins(&s, v), 0);
	}
	cr_assert_eq(s.n, 8); /* alternate files: no merges */
	cr_assert_eq(f.refs, 4);
	cr_assert_eq(g.refs, 4);
	/* a refused insert does not take the reference */
	v = mk(A(5), A(6), PROT_READ, 0);
	v.file = &f;
	cr_assert_eq(ins(&s, v), -EEXIST);
	cr_assert_eq(f.refs, 4);

	cr_assert_eq(vma_protect_range(&s, A(3), A(77), PROT_WRITE), 0);
	cr_assert_eq(vma_protect_range(&s, A(5), A(15), PROT_EXEC), 0);
	cr_assert_eq(vma_remove_range(&s, A(33), A(35), NULL, NULL), 0);
	cr_assert_eq(vma_remove_range(&s, A(44), A(66), NULL, NULL), 0);
	check_set(&s);
	int nf = 0, ng = 0;
	for (size_t i = 0; i < s.n; i++) {
		nf += s.v[i].file == &f;
		ng += s.v[i].file == &g;
	}
	cr_assert_eq(f.refs, nf);
	cr_assert_eq(g.refs, ng);
	vma_set_destroy(&s);
	cr_assert_eq(f.refs, 0);
	cr_assert_eq(g.refs, 0);
	/* the set is reusable after destroy */
	cr_assert_eq(ins(&s, mk(A(0), A(1), PROT_READ, 0)), 0);
	vma_set_destroy(&s);
}

/* ---- randomized test against a page-array model --------------------------------- */

#define NPAGES 1024
#define NFILES 3

struct mpage {
	bool mapped;
	int prot, flags;
	uint64_t memfile_off; /* of this page */
	struct tfile *file;
	uint64_t file_off; /* of this page */
	const char *name;
};

struct model {
	struct mpage pg[NPAGES];
	struct tfile files[NFILES];
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* splitmix64: deterministic and good enough */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned rndn(unsigned n)
{
	return (unsigned)(rnd() % n);
}

/* A random page range [*p, *p + *len) inside the window, biased towards small ones. */
static void rnd_range(unsigned *p, unsigned *len)
{
	unsigned max = rndn(4) == 0 ? 256 : 24;

	*len = 1 + rndn(max);
	if (*len > NPAGES)
		*len = NPAGES;
	*p = rndn(NPAGES - *len + 1);
}

static void check_model(const struct vma_set *s, const struct model *m)
{
	check_set(s);
	if (s->n) {
		cr_assert_geq(s->v[0].start, A(0));
		cr_assert_leq(s->v[s->n - 1].end, A(NPAGES));
	}
	for (unsigned p = 0; p < NPAGES; p++) {
		const struct mpage *mp = &m->pg[p];
		const struct vma *v = vma_find(s, A(p) + rndn(PG));

		if (!mp->mapped) {
			cr_assert_null(v, "page %u should be free", p);
			continue;
		}
		cr_assert_not_null(v, "page %u should be mapped", p);
		cr_assert_eq(v->prot, mp->prot, "page %u prot", p);
		cr_assert_eq(v->flags, mp->flags, "page %u flags", p);
		cr_assert_eq(v->file, mp->file, "page %u file", p);
		cr_assert_eq(v->memfile_off + (A(p) - v->start), mp->memfile_off, "page %u memfile", p);
		if (mp->file)
			cr_assert_eq(v->file_off + (A(p) - v->start), mp->file_off, "page %u file_off",
				     p);
		cr_assert_str_eq(v->name, mp->name, "page %u name", p);
	}
	for (int f = 0; f < NFILES; f++) {
		int cnt = 0;

		for (size_t i = 0; i < s->n; i++)
			cnt += s->v[i].file == &m->files[f];
		cr_assert_eq(m->files[f].refs, cnt, "file %d refcount", f);
	}
}

/* A range inside a free run of the model touching its left and/or right edge, so that
 * inserts often land next to existing VMAs. False when the window is full. */
static bool rnd_gap_range(const struct model *m, unsigned *p, unsigned *len)
{
	unsigned q = rndn(NPAGES), g0, g1;

	while (q < NPAGES && m->pg[q].mapped)
		q++;
	if (q == NPAGES)
		return false;
	for (g0 = q; g0 > 0 && !m->pg[g0 - 1].mapped; g0--)
		;
	for (g1 = q; g1 < NPAGES && !m->pg[g1].mapped; g1++)
		;
	*len = 1 + rndn(g1 - g0);
	switch (rndn(3)) {
	case 0: /* the whole gap: bridges both neighbours */
		*p = g0;
		*len = g1 - g0;
		break;
	case 1:
		*p = g0;
		break;
	default:
		*p = g1 - *len;
		break;
	}
	return true;
}

static void op_insert(struct vma_set *s, struct model *m)
{
	static const int prots[] = { PROT_READ, PROT_READ | PROT_WRITE, PROT_NONE };
	unsigned p, len;
	struct vma v;
	bool free_range = true;
	int fi = (int)rndn(NFILES + 1) - 1; /* -1: no file */
	const struct mpage *nb = NULL;

	if (rndn(2) == 0 || !rnd_gap_range(m, &p, &len))
		rnd_range(&p, &len);
	memset(&v, 0, sizeof(v));
	v.start = A(p);
	v.end = A(p + len);
	v.prot = prots[rndn(3)];
	v.flags = rndn(4) == 0 ? VMA_SHARED : VMA_ANON;
	/* Offsets derived from the address so that neighbours often merge; sometimes not. */
	v.memfile_off = (rndn(2) ? 0 : 1ULL << 30) + (uint64_t)p * PG;
	if (rndn(8) == 0)
		v.memfile_off = (uint64_t)rndn(1 << 20) * PG;
	v.file = fi < 0 ? NULL : &m->files[fi];
	v.file_off = (uint64_t)p * PG + (rndn(8) == 0 ? (uint64_t)rndn(16) * PG : 0);
	if (rndn(8) == 0)
		strcpy(v.name, "[heap]");

	/* Mostly continue a neighbour exactly (merge candidate), occasionally with one
	 * attribute perturbed so each compatibility rule is exercised. */
	if (rndn(4) != 0) {
		if (p > 0 && m->pg[p - 1].mapped && (rndn(2) || p + len >= NPAGES ||
						      !m->pg[p + len].mapped)) {
			nb = &m->pg[p - 1];
			v.memfile_off = nb->memfile_off + PG;
			v.file_off = nb->file_off + PG;
		} else if (p + len < NPAGES && m->pg[p + len].mapped) {
			nb = &m->pg[p + len];
			v.memfile_off = nb->memfile_off - (uint64_t)len * PG;
			v.file_off = nb->file_off - (uint64_t)len * PG;
		}
	}
	if (nb) {
		v.prot = nb->prot;
		v.flags = nb->flags;
		v.file = nb->file;
		strcpy(v.name, nb->name);
		switch (rndn(12)) {
		case 0: v.prot ^= PROT_WRITE; break;
		case 1: v.flags ^= VMA_SHARED; break;
		case 2: v.memfile_off += PG; break;
		case 3: v.file_off += PG; break; /* only matters with a file */
		case 4: v.file = v.file == &m->files[0] ? &m->files[1] : &m->files[0]; break;
		case 5: strcpy(v.name, v.name[0] ? "" : "[heap]"); break;
		default: break;
		}
	}

	for (unsigned k = p; k < p + len; k++)
		free_range &= !m->pg[k].mapped;
	int err = ins(s, v);
	cr_assert_eq(err, free_range ? 0 : -EEXIST, "insert [%u, %u)", p, p + len);
	if (err)
		return;
	for (unsigned k = p; k < p + len; k++) {
		m->pg[k] = (struct mpage){
			.mapped = true,
			.prot = v.prot,
			.flags = v.flags,
			.memfile_off = v.memfile_off + (uint64_t)(k - p) * PG,
			.file = v.file,
			.file_off = v.file_off + (uint64_t)(k - p) * PG,
			.name = v.name[0] ? "[heap]" : "",
		};
	}
}

static void op_remove(struct vma_set *s, struct model *m)
{
	struct rec r = { .n = 0 };
	unsigned p, len, mapped = 0, covered = 0;
	uint64_t last_end;

	rnd_range(&p, &len);
	/* cap the range so the recorder (64 pieces) cannot overflow: at most 64 VMAs
	 * intersect a range of at most 64 pages */
	if (len > 64)
		len = 64;
	for (unsigned k = p; k < p + len; k++)
		mapped += m->pg[k].mapped;
	cr_assert_eq(vma_remove_range(s, A(p), A(p + len), record, &r), 0);

	last_end = A(p);
	for (int i = 0; i < r.n; i++) {
		const struct vma *pc = &r.p[i];

		cr_assert_lt(pc->start, pc->end);
		cr_assert_geq(pc->start, last_end, "pieces sorted and disjoint");
		cr_assert_leq(pc->end, A(p + len));
		last_end = pc->end;
		for (uint64_t a = pc->start; a < pc->end; a += PG) {
			const struct mpage *mp = &m->pg[(a - BASE) / PG];

			cr_assert(mp->mapped);
			cr_assert_eq(pc->prot, mp->prot);
			cr_assert_eq(pc->file, mp->file);
			cr_assert_eq(pc->memfile_off + (a - pc->start), mp->memfile_off);
			if (mp->file)
				cr_assert_eq(pc->file_off + (a - pc->start), mp->file_off);
			covered++;
		}
	}
	cr_assert_eq(covered, mapped, "release must see exactly the mapped pages");
	for (unsigned k = p; k < p + len; k++)
		m->pg[k].mapped = false;
}

static void op_protect(struct vma_set *s, struct model *m)
{
	static const int prots[] = { PROT_READ, PROT_READ | PROT_WRITE, PROT_NONE, PROT_EXEC };
	unsigned p, len;
	bool all = true;
	int prot = prots[rndn(4)];

	rnd_range(&p, &len);
	for (unsigned k = p; k < p + len; k++)
		all &= m->pg[k].mapped;
	cr_assert_eq(vma_protect_range(s, A(p), A(p + len), prot), all ? 0 : -ENOMEM);
	if (!all)
		return;
	for (unsigned k = p; k < p + len; k++)
		m->pg[k].prot = prot;
}

static void op_queries(struct vma_set *s, struct model *m)
{
	unsigned p, len, lo, hi;
	uint64_t out = 0;
	int want = -ENOMEM, got;
	bool all = true;

	/* range_mapped */
	rnd_range(&p, &len);
	for (unsigned k = p; k < p + len; k++)
		all &= m->pg[k].mapped;
	cr_assert_eq(vma_range_mapped(s, A(p), A(p + len)), all);

	/* find_next from a random address */
	p = rndn(NPAGES);
	const struct vma *v = vma_find_next(s, A(p) + rndn(PG));
	unsigned q = p;
	while (q < NPAGES && !m->pg[q].mapped)
		q++;
	if (q == NPAGES) {
		cr_assert_null(v);
	} else {
		cr_assert_not_null(v);
		cr_assert(v->start <= A(q) && A(q) < v->end);
	}

	/* find_gap against a brute-force top-down search with page-granular bounds, the
	 * low bound sometimes unaligned */
	rnd_range(&lo, &len);
	hi = lo + len + rndn(NPAGES - lo - len + 1);
	len = 1 + rndn(rndn(3) == 0 ? 64 : 8);
	uint64_t lo_addr = A(lo) - (lo > 0 && rndn(4) == 0 ? rndn(PG) : 0);
	unsigned lo_pg = (unsigned)((lo_addr + PG - 1 - BASE) / PG);
	unsigned run = 0;
	uint64_t want_addr = 0;
	for (unsigned k = hi; k-- > lo_pg;) {
		run = m->pg[k].mapped ? 0 : run + 1;
		if (run >= len) {
			want = 0;
			want_addr = A(k);
			break;
		}
	}
	got = vma_find_gap(s, (uint64_t)len * PG, lo_addr, A(hi), &out);
	cr_assert_eq(got, want, "gap len %u in [%u, %u)", len, lo, hi);
	if (!got)
		cr_assert_eq(out, want_addr, "gap len %u in [%u, %u)", len, lo, hi);
}

Test(vma, randomized_against_page_model, .timeout = 120)
{
	static struct model m;
	struct vma_set s;

	memset(&m, 0, sizeof(m));
	rng_state = 0x5eed1234abcdULL;
	set_init(&s);
	for (int i = 0; i < 20000; i++) {
		switch (rndn(10)) {
		case 0: case 1: case 2: case 3:
			op_insert(&s, &m);
			break;
		case 4: case 5:
			op_remove(&s, &m);
			break;
		case 6: case 7: case 8:
			op_protect(&s, &m);
			break;
		default:
			op_queries(&s, &m);
			break;
		}
		check_model(&s, &m);
	}
	vma_set_destroy(&s);
	for (int f = 0; f < NFILES; f++)
		cr_assert_eq(m.files[f].refs, 0, "file %d leaked", f);
}
