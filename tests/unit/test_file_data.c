/* File contents in the memory file filled on demand from a source: which chunks are read
 * and when, the runs mappings map, and what a failing or shrunken source leaves. */
#include "sentry/mm/file_data.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK FILE_DATA_CHUNK

static struct memfile mf;
static struct file_data d;

/* The source: a byte pattern of src_size bytes; counts calls; can fail or overreport. */
static uint64_t src_size;
static int src_calls, src_fail, src_overreport;

static uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off * 7 + off / 4096);
}

static long source(void *ctx, uint64_t off, uint64_t mem_off, void *buf, size_t len)
{
	(void)mem_off;
	(void)ctx;
	src_calls++;
	if (src_fail)
		return -EIO;
	if (off >= src_size)
		return 0;
	if (len > src_size - off)
		len = (size_t)(src_size - off);
	if (len > 65536)
		len = 65536; /* short counts: the reader goes on */
	for (size_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = pattern(off + i);
	return src_overreport ? (long)len + 1 : (long)len;
}

static void setup(void)
{
	cr_assert_eq(memfile_init(&mf, 1ull << 30), 0);
	file_data_init(&d, &mf);
	src_size = 3 * CHUNK + 5000;
	src_calls = src_fail = src_overreport = 0;
	cr_assert_eq(file_data_init_lazy(&d, src_size, source, NULL), 0);
}

static void teardown(void)
{
	file_data_release(&d);
	memfile_destroy(&mf);
}

TestSuite(file_data_lazy, .init = setup, .fini = teardown);

static bool matches(uint64_t off, const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != pattern(off + i))
			return false;
	return true;
}

Test(file_data_lazy, nothing_is_read_until_needed)
{
	cr_assert(file_data_is_lazy(&d));
	cr_assert_eq(src_calls, 0);
	cr_assert_eq(d.size, src_size);
	for (uint64_t off = 0; off < src_size; off += CHUNK)
		cr_assert(!file_data_filled(&d, off));
}

Test(file_data_lazy, a_read_fills_only_its_chunks)
{
	uint8_t buf[100];
	cr_assert_eq(file_data_read(&d, buf, sizeof(buf), CHUNK + 10), 100);
	cr_assert(matches(CHUNK + 10, buf, sizeof(buf)));
	cr_assert(!file_data_filled(&d, 0));
	cr_assert(file_data_filled(&d, CHUNK));
	cr_assert(file_data_filled(&d, 2 * CHUNK - 1));
	cr_assert(!file_data_filled(&d, 2 * CHUNK));
	int calls = src_calls;
	cr_assert_eq(file_data_read(&d, buf, sizeof(buf), CHUNK + 5000), 100);
	cr_assert_eq(src_calls, calls, "a filled chunk is not read again");
	/* Across a chunk boundary: both. */
	cr_assert_eq(file_data_read(&d, buf, sizeof(buf), 3 * CHUNK - 50), 100);
	cr_assert(matches(3 * CHUNK - 50, buf, sizeof(buf)));
	cr_assert(file_data_filled(&d, 3 * CHUNK));
}

Test(file_data_lazy, the_last_chunk_is_zero_past_the_end)
{
	cr_assert_eq(file_data_fill(&d, src_size - 1, 1), 0);
	const uint8_t *p = memfile_ptr(&mf, d.ext[d.next - 1].memfile_off +
						(src_size - d.ext[d.next - 1].file_off));
	uint64_t tail = ((src_size + 4095) & ~4095ULL) - src_size;
	for (uint64_t i = 0; i < tail; i++)
		cr_assert_eq(p[i], 0);
}

Test(file_data_lazy, runs_follow_the_filled_chunks)
{
	uint64_t end = 4 * CHUNK;
	cr_assert_eq(file_data_run_end(&d, 0, 100 * CHUNK), end,
		     "nothing filled yet: one unfilled run to the source's last chunk");
	cr_assert_eq(file_data_fill(&d, CHUNK, 1), 0);
	cr_assert_eq(file_data_run_end(&d, 0, end), CHUNK);
	cr_assert_eq(file_data_run_end(&d, CHUNK, end), 2 * CHUNK);
	cr_assert_eq(file_data_run_end(&d, CHUNK + 4096, CHUNK + 8192), CHUNK + 8192, "capped at the limit");
	cr_assert_eq(file_data_fill(&d, 3 * CHUNK, 1), 0);
	cr_assert_eq(file_data_run_end(&d, 2 * CHUNK, end), 3 * CHUNK);
	/* The last chunk is filled and what lies past the source counts as filled. */
	cr_assert_eq(file_data_run_end(&d, 3 * CHUNK, 100 * CHUNK), 100 * CHUNK);
}

Test(file_data_lazy, a_failing_source_leaves_the_chunk_unfilled)
{
	uint8_t buf[10];
	src_fail = 1;
	cr_assert_eq(file_data_read(&d, buf, sizeof(buf), 0), -EIO);
	cr_assert(!file_data_filled(&d, 0));
	src_fail = 0;
	cr_assert_eq(file_data_read(&d, buf, sizeof(buf), 0), 10);
	cr_assert(matches(0, buf, sizeof(buf)));
	src_overreport = 1;
	cr_assert_eq(file_data_fill(&d, CHUNK, 1), -EIO, "a count beyond the request is an error");
	cr_assert(!file_data_filled(&d, CHUNK));
}

Test(file_data_lazy, a_shrunken_source_reads_as_zeros)
{
	uint8_t buf[64];
	src_fail = 1; /* a first try that fails after nothing: then the source shrinks */
	cr_assert_lt(file_data_fill(&d, 2 * CHUNK, 1), 0);
	src_fail = 0;
	src_size = 2 * CHUNK + 100;
	cr_assert_eq(file_data_read(&d, buf, sizeof(buf), 2 * CHUNK + 90), 64);
	cr_assert(matches(2 * CHUNK + 90, buf, 10));
	for (int i = 10; i < 64; i++)
		cr_assert_eq(buf[i], 0);
}

Test(file_data_lazy, a_write_keeps_the_rest_of_its_chunk)
{
	cr_assert_eq(file_data_write(&d, "xy", 2, CHUNK + 1), 2);
	uint8_t buf[4];
	cr_assert_eq(file_data_read(&d, buf, 4, CHUNK), 4);
	cr_assert_eq(buf[0], pattern(CHUNK));
	cr_assert_eq(buf[1], 'x');
	cr_assert_eq(buf[2], 'y');
	cr_assert_eq(buf[3], pattern(CHUNK + 3));
}

Test(file_data_lazy, a_resize_fills_everything_and_ends_laziness)
{
	cr_assert_eq(file_data_resize(&d, CHUNK + 10), 0);
	cr_assert(!file_data_is_lazy(&d));
	src_fail = 1; /* nothing is read any more */
	uint8_t buf[10];
	cr_assert_eq(file_data_read(&d, buf, sizeof(buf), CHUNK), 10);
	cr_assert(matches(CHUNK, buf, sizeof(buf)));
	cr_assert_eq(file_data_read(&d, buf, sizeof(buf), CHUNK + 5), 5);
}
