#include "sentry/mm/file_data.h"
#include "sentry/mm/file_map.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096ULL
#define PAGE_UP(x) (((x) + PAGE - 1) & ~(PAGE - 1))

void file_data_init(struct file_data *d, struct memfile *mf)
{
	memset(d, 0, sizeof(*d));
	d->mf = mf;
}

void file_data_release(struct file_data *d)
{
	for (int i = 0; i < d->next; i++)
		memfile_free(d->mf, d->ext[i].memfile_off, d->ext[i].len);
	free(d->ext);
	free(d->filled);
	memset(d, 0, sizeof(*d));
}

int file_data_reserve(struct file_data *d, uint64_t end)
{
	end = PAGE_UP(end);
	while (d->alloc < end) {
		uint64_t len = end - d->alloc;
		if (len < d->alloc)
			len = d->alloc; /* at least double: few extents for big files */
		if (d->next == d->capext) {
			int cap = d->capext ? d->capext * 2 : 4;
			struct file_extent *n = realloc(d->ext, sizeof(*n) * (size_t)cap);
			if (!n)
				return -ENOSPC;
			d->ext = n;
			d->capext = cap;
		}
		uint64_t off;
		if (memfile_alloc(d->mf, len, &off) < 0 &&
		    (len == end - d->alloc || memfile_alloc(d->mf, len = end - d->alloc, &off) < 0))
			return -ENOSPC;
		d->ext[d->next++] = (struct file_extent){d->alloc, len, off};
		d->alloc += len;
	}
	return 0;
}

/* Runs fn over the extent pieces of [pos, pos+len). */
static void each_piece(struct file_data *d, uint64_t pos, uint64_t len,
		       void (*fn)(void *ctx, uint8_t *p, size_t n), void *ctx)
{
	for (int i = 0; i < d->next && len; i++) {
		struct file_extent *e = &d->ext[i];
		if (pos >= e->file_off + e->len)
			continue;
		uint64_t in = pos - e->file_off, n = e->len - in < len ? e->len - in : len;
		fn(ctx, memfile_ptr(d->mf, e->memfile_off + in), (size_t)n);
		pos += n;
		len -= n;
	}
}

static void zero_piece(void *ctx, uint8_t *p, size_t n)
{
	(void)ctx;
	memset(p, 0, n);
}

/* Zeroes [off, off+len) (within the storage) and lets the memory of its whole pages go. */
static void punch_range(struct file_data *d, uint64_t off, uint64_t len)
{
	uint64_t first = PAGE_UP(off), last = (off + len) & ~(PAGE - 1);
	if (first >= last) {
		each_piece(d, off, len, zero_piece, NULL);
		return;
	}
	each_piece(d, off, first - off, zero_piece, NULL);
	each_piece(d, last, off + len - last, zero_piece, NULL);
	for (int i = 0; i < d->next; i++) {
		struct file_extent *e = &d->ext[i];
		uint64_t a = first > e->file_off ? first : e->file_off;
		uint64_t b = last < e->file_off + e->len ? last : e->file_off + e->len;
		if (a < b)
			fallocate(d->mf->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  (off_t)(e->memfile_off + (a - e->file_off)), (off_t)(b - a));
	}
}

int file_data_init_lazy(struct file_data *d, uint64_t size, file_data_source_fn source, void *ctx)
{
	int err = file_data_reserve(d, size);
	if (err < 0)
		return err;
	uint64_t nchunks = (size + FILE_DATA_CHUNK - 1) / FILE_DATA_CHUNK;
	d->filled = calloc(nchunks / 64 + 1, sizeof(*d->filled));
	if (!d->filled)
		return -ENOMEM;
	d->nchunks = nchunks;
	d->source = source;
	d->source_ctx = ctx;
	d->size = size;
	return 0;
}

static bool chunk_filled(const struct file_data *d, uint64_t c)
{
	return !d->filled || c >= d->nchunks || (d->filled[c / 64] >> (c % 64) & 1);
}

bool file_data_filled(const struct file_data *d, uint64_t off)
{
	return chunk_filled(d, off / FILE_DATA_CHUNK);
}

uint64_t file_data_run_end(const struct file_data *d, uint64_t off, uint64_t limit)
{
	if (!d->filled || off >= limit)
		return limit;
	uint64_t c = off / FILE_DATA_CHUNK;
	bool state = chunk_filled(d, c);
	/* Past the bitmap every chunk counts as filled: one run to the limit. */
	while (++c < d->nchunks && c * FILE_DATA_CHUNK < limit && chunk_filled(d, c) == state)
		;
	uint64_t end = c >= d->nchunks && state ? limit : c * FILE_DATA_CHUNK;
	return end < limit ? end : limit;
}

/* Reads chunk c from the source straight into its pages. Past the source's end (a host
 * file that shrank) the chunk reads as zeros, whatever an earlier failed try left. The
 * source is asked for nothing past the size it had: the tail of the last page stays the
 * zeros fresh storage holds, and a chunk holding the end of the file costs one request,
 * not a second one that finds the end. */
static int fill_chunk(struct file_data *d, uint64_t c)
{
	uint64_t pos = c * FILE_DATA_CHUNK, to = pos + FILE_DATA_CHUNK;
	if (to > d->size)
		to = d->size;
	while (pos < to) {
		const struct file_extent *e = NULL;
		for (int i = 0; i < d->next && !e; i++)
			if (pos >= d->ext[i].file_off && pos < d->ext[i].file_off + d->ext[i].len)
				e = &d->ext[i];
		if (!e)
			return -EIO; /* storage was reserved for the whole file: cannot happen */
		uint64_t stop = e->file_off + e->len < to ? e->file_off + e->len : to;
		uint64_t mem_off = e->memfile_off + (pos - e->file_off);
		long n = d->source(d->source_ctx, pos, mem_off, memfile_ptr(d->mf, mem_off),
				   (size_t)(stop - pos));
		if (n < 0)
			return n >= -4095 ? (int)n : -EIO;
		if ((uint64_t)n > stop - pos)
			return -EIO; /* a source that says it read more than it was asked */
		if (n == 0) {
			punch_range(d, pos, to - pos);
			break;
		}
		pos += (uint64_t)n;
	}
	d->filled[c / 64] |= 1ULL << (c % 64);
	return 0;
}

int file_data_fill(struct file_data *d, uint64_t off, uint64_t len)
{
	if (!d->filled || len == 0)
		return 0;
	uint64_t end = off + len < off ? UINT64_MAX : off + len;
	for (uint64_t c = off / FILE_DATA_CHUNK; c < d->nchunks && c * FILE_DATA_CHUNK < end; c++) {
		if (chunk_filled(d, c))
			continue;
		int err = fill_chunk(d, c);
		if (err < 0)
			return err;
	}
	return 0;
}

/* Fills the whole file and stops being lazy (before changes its source cannot follow). */
static int fill_all(struct file_data *d)
{
	if (!d->filled)
		return 0;
	int err = file_data_fill(d, 0, d->nchunks * FILE_DATA_CHUNK);
	if (err < 0)
		return err;
	free(d->filled);
	d->filled = NULL;
	d->nchunks = 0;
	return 0;
}

struct copy {
	uint8_t *buf;
	int to_file;
};

static void copy_piece(void *vctx, uint8_t *p, size_t n)
{
	struct copy *c = vctx;
	if (c->to_file)
		memcpy(p, c->buf, n);
	else
		memcpy(c->buf, p, n);
	c->buf += n;
}

long file_data_read(struct file_data *d, void *buf, size_t len, uint64_t pos)
{
	if (pos >= d->size)
		return 0;
	if (len > d->size - pos)
		len = (size_t)(d->size - pos);
	int err = file_data_fill(d, pos, len);
	if (err < 0)
		return err;
	struct copy c = {buf, 0};
	each_piece(d, pos, len, copy_piece, &c);
	return (long)len;
}

long file_data_write(struct file_data *d, const void *buf, size_t len, uint64_t pos)
{
	if (pos + len < pos)
		return -EFBIG;
	int err = file_data_reserve(d, pos + len);
	if (err == 0)
		err = file_data_fill(d, pos, len); /* the rest of the chunk comes from the source */
	if (err < 0)
		return err;
	struct copy c = {(uint8_t *)buf, 1};
	each_piece(d, pos, len, copy_piece, &c);
	if (pos + len > d->size)
		d->size = pos + len;
	return (long)len;
}

int file_data_resize(struct file_data *d, uint64_t size)
{
	if (size != d->size) {
		int err = fill_all(d);
		if (err < 0)
			return err;
	}
	if (size > d->size) {
		int err = file_data_reserve(d, size);
		if (err < 0)
			return err;
	} else if (size < d->size) {
		/* Bytes past the new end read as zero if the file grows again: zero the rest of
		 * the last page and let the memory of whole pages go (it reads back as zero). */
		uint64_t page_end = PAGE_UP(size);
		if (page_end > size)
			each_piece(d, size, (page_end < d->size ? page_end : d->size) - size, zero_piece, NULL);
		for (int i = 0; i < d->next; i++) {
			struct file_extent *e = &d->ext[i];
			uint64_t from = page_end > e->file_off ? page_end - e->file_off : 0;
			if (from < e->len)
				fallocate(d->mf->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					  (off_t)(e->memfile_off + from), (off_t)(e->len - from));
		}
		d->size = size;
		file_map_truncated(d, size);
	}
	d->size = size;
	return 0;
}

/* Zeroes [off, off+len) (within the file) and lets the memory of its whole pages go. */
void file_data_punch(struct file_data *d, uint64_t off, uint64_t len)
{
	/* An unfilled chunk is read from the source when needed, which would undo the punch:
	 * fill first (the source failing leaves the file as it was). */
	if (file_data_fill(d, off, len) < 0)
		return;
	punch_range(d, off, len);
}
