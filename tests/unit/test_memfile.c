/* The memory file's allocator and its owner counts for shared pages. */
#include "sentry/mm/memfile.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

static struct memfile mf;

static void setup(void)
{
	cr_assert_eq(memfile_init(&mf, 1ull << 30), 0);
}

static void teardown(void)
{
	memfile_destroy(&mf);
}

TestSuite(memfile, .init = setup, .fini = teardown);

Test(memfile, alloc_free_reuses_and_zeroes)
{
	uint64_t a, b;
	cr_assert_eq(memfile_alloc(&mf, 8192, &a), 0);
	cr_assert_neq(a, 0, "offset 0 is never handed out");
	memset(memfile_ptr(&mf, a), 0xab, 8192);
	memfile_free(&mf, a, 8192);
	cr_assert_eq(mf.allocated, 0);
	cr_assert_eq(memfile_alloc(&mf, 8192, &b), 0);
	cr_assert_eq(b, a, "first fit reuses the freed range");
	cr_assert_eq(((uint8_t *)memfile_ptr(&mf, b))[100], 0, "freed pages read back as zero");
	cr_assert_eq(memfile_alloc(&mf, 100, &b), -EINVAL);
}

Test(memfile, free_coalesces)
{
	uint64_t a, b, c, d;
	memfile_alloc(&mf, 4096, &a);
	memfile_alloc(&mf, 4096, &b);
	memfile_alloc(&mf, 4096, &c);
	memfile_free(&mf, a, 4096);
	memfile_free(&mf, c, 4096);
	memfile_free(&mf, b, 4096);
	cr_assert_eq(mf.nfree, 1, "neighbours merge back into one extent");
	cr_assert_eq(memfile_alloc(&mf, 3 * 4096, &d), 0);
	cr_assert_eq(d, a);
}

Test(memfile, shared_pages_survive_until_last_owner)
{
	uint64_t a;
	memfile_alloc(&mf, 4 * 4096, &a);
	memset(memfile_ptr(&mf, a), 0x5a, 4 * 4096);
	/* a second owner of the middle two pages */
	cr_assert_eq(memfile_share(&mf, a + 4096, 2 * 4096), 0);
	memfile_free(&mf, a, 4 * 4096); /* first owner lets go of all four */
	uint8_t *p = memfile_ptr(&mf, a);
	cr_assert_eq(p[0], 0, "unshared page freed");
	cr_assert_eq(p[4096], 0x5a, "shared page kept");
	cr_assert_eq(p[2 * 4096 + 5], 0x5a, "shared page kept");
	cr_assert_eq(p[3 * 4096], 0, "unshared page freed");
	cr_assert_eq(mf.allocated, 2 * 4096);
	memfile_free(&mf, a + 4096, 2 * 4096); /* last owner */
	cr_assert_eq(p[4096], 0);
	cr_assert_eq(mf.allocated, 0);
	cr_assert_eq(mf.nshared, 0);
}

Test(memfile, overlapping_shares_count_per_page)
{
	uint64_t a;
	memfile_alloc(&mf, 4 * 4096, &a);
	memset(memfile_ptr(&mf, a), 1, 4 * 4096);
	memfile_share(&mf, a, 2 * 4096);        /* pages 0-1: 2 owners */
	memfile_share(&mf, a + 4096, 2 * 4096); /* page 1: 3 owners, page 2: 2 */
	memfile_free(&mf, a, 4 * 4096);         /* -1 each: page 3 goes */
	uint8_t *p = memfile_ptr(&mf, a);
	cr_assert_eq(p[3 * 4096], 0);
	memfile_free(&mf, a, 2 * 4096); /* page 0 goes, page 1 keeps one */
	cr_assert_eq(p[0], 0);
	cr_assert_eq(p[4096], 1);
	memfile_free(&mf, a + 4096, 2 * 4096); /* pages 1 and 2 go */
	cr_assert_eq(p[4096], 0);
	cr_assert_eq(p[2 * 4096], 0);
	cr_assert_eq(mf.nshared, 0);
}

Test(memfile, limit_gives_enomem)
{
	uint64_t a;
	mf.limit = 8192;
	cr_assert_eq(memfile_alloc(&mf, 8192, &a), 0);
	cr_assert_eq(memfile_alloc(&mf, 4096, &a), -ENOMEM);
}

Test(memfile, alloc_at_takes_exactly_that_range)
{
	uint64_t a, b, c;
	cr_assert_eq(memfile_alloc(&mf, 3 * 4096, &a), 0);
	memfile_free(&mf, a, 3 * 4096);
	cr_assert_eq(memfile_alloc_at(&mf, a + 4096, 4096), 0, "the middle of a free extent");
	cr_assert_eq(memfile_alloc_at(&mf, a + 4096, 4096), -ENOMEM, "already taken");
	cr_assert_eq(memfile_alloc_at(&mf, a, 2 * 4096), -ENOMEM, "overlaps a taken page");
	cr_assert_eq(memfile_alloc_at(&mf, a, 4096), 0, "the front of what is left");
	cr_assert_eq(mf.allocated, 2 * 4096);
	cr_assert_eq(memfile_alloc(&mf, 4096, &b), 0);
	cr_assert_eq(b, a + 2 * 4096, "first fit finds the rest after the taken pages");
	cr_assert_eq(memfile_alloc_at(&mf, a + 7, 4096), -EINVAL);
	memfile_free(&mf, a, 3 * 4096);
	cr_assert_eq(memfile_alloc(&mf, 3 * 4096, &c), 0);
	cr_assert_eq(c, a, "freed pages coalesce again");
}
