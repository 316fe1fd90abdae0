/* The page-range set tmpfs charges its budget by: coverage counts, merging, splitting,
 * and how much of a write fits a budget. */
#include "sentry/fs/page_ranges.h"

#include <criterion/criterion.h>
#include <stdint.h>

#define P 4096u

Test(page_ranges, add_counts_only_new_bytes_and_merges)
{
	struct page_ranges s = {0};
	cr_assert_eq(page_ranges_add(&s, 0, 2 * P), 2 * P);
	cr_assert_eq(page_ranges_add(&s, P, 3 * P), P, "only the page not yet covered");
	cr_assert_eq(s.n, 1);
	cr_assert_eq(page_ranges_add(&s, 5 * P, 6 * P), P);
	cr_assert_eq(s.n, 2);
	cr_assert_eq(page_ranges_add(&s, 3 * P, 5 * P), 2 * P, "fills the gap");
	cr_assert_eq(s.n, 1, "touching ranges become one");
	cr_assert_eq(s.r[0].start, 0);
	cr_assert_eq(s.r[0].end, 6 * P);
	cr_assert_eq(page_ranges_add(&s, 2 * P, 2 * P), 0, "empty range");
	page_ranges_free(&s);
}

Test(page_ranges, remove_splits_and_trims)
{
	struct page_ranges s = {0};
	page_ranges_add(&s, 0, 10 * P);
	cr_assert_eq(page_ranges_remove(&s, 3 * P, 5 * P), 2 * P);
	cr_assert_eq(s.n, 2, "a hole splits the range");
	cr_assert_eq(page_ranges_uncovered(&s, 0, 10 * P), 2 * P);
	cr_assert_eq(page_ranges_remove(&s, 4 * P, UINT64_MAX), 5 * P, "from the hole to the end");
	cr_assert_eq(s.n, 1);
	cr_assert_eq(s.r[0].end, 3 * P);
	cr_assert_eq(page_ranges_remove(&s, 0, UINT64_MAX), 3 * P);
	cr_assert_eq(s.n, 0);
	cr_assert_eq(page_ranges_remove(&s, 0, UINT64_MAX), 0);
	page_ranges_free(&s);
}

Test(page_ranges, fit_stops_at_the_first_page_past_the_budget)
{
	struct page_ranges s = {0};
	page_ranges_add(&s, 2 * P, 4 * P);
	cr_assert_eq(page_ranges_fit(&s, 0, 8 * P, UINT64_MAX), 8 * P);
	cr_assert_eq(page_ranges_fit(&s, 0, 8 * P, 0), 0, "nothing new fits");
	cr_assert_eq(page_ranges_fit(&s, 2 * P, 4 * P, 0), 4 * P, "already paid for");
	cr_assert_eq(page_ranges_fit(&s, 0, 8 * P, 3 * P), 5 * P, "2 pages, the covered 2, then 1");
	cr_assert_eq(page_ranges_fit(&s, P, 8 * P, P), 4 * P);
	page_ranges_free(&s);
}
