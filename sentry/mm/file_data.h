/* File contents kept in the memory file (tmpfs files now; the page cache later), so that
 * a MAP_SHARED mapping of the file is the very same pages and they can be snapshotted
 * with the rest of guest memory. Storage is a list of contiguous extents of the memory
 * file covering the file from offset 0; each new extent at least doubles the total, so a
 * file of any size has O(log size) extents and a shared mapping needs that many VMAs.
 *
 * The page cache of a host file is filled on demand (lazy): its storage is reserved at
 * once, but each chunk of FILE_DATA_CHUNK bytes is read from its source only when some
 * access needs it (a fault in a mapping, read(2), the sentry's own access to guest
 * memory). Until then the chunk's pages are holes of the memory file and no stub maps
 * them, so everything that reads them must fill them first (file_data_fill). */
#ifndef WARD_MM_FILE_DATA_H
#define WARD_MM_FILE_DATA_H

#include "sentry/mm/memfile.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct file_extent {
	uint64_t file_off, len, memfile_off;
};

/* Reads up to len bytes at off of a lazily filled file's source into the memory file at
 * mem_off, which buf maps: the count (0 at the source's end, short counts are read on
 * from), or -errno. The pages are fresh: a source that writes them through buf should
 * memfile_prepare_write them first; one that has them written elsewhere (the gofer's
 * READ_MEM) leaves them unmapped in the sentry. */
typedef long (*file_data_source_fn)(void *ctx, uint64_t off, uint64_t mem_off, void *buf,
				    size_t len);

/* What one fault reads ahead: measured with gcc -c (cc1 is 33 MB, a compile touches a
 * few MB of it), see docs/design-notes.md. */
#define FILE_DATA_CHUNK (256 * 1024ULL)

struct file_data {
	struct memfile *mf;
	struct file_extent *ext;
	int next, capext;
	uint64_t size;  /* the file's size */
	uint64_t alloc; /* bytes of file offset covered by extents (page multiple) */
	/* Filled on demand when filled != NULL: bit i set once chunk i ([i, i+1) *
	 * FILE_DATA_CHUNK of the file) holds the source's data; chunks at or past nchunks
	 * (past the size the source had) have nothing to read and count as filled. */
	uint64_t *filled;
	uint64_t nchunks;
	file_data_source_fn source;
	void *source_ctx;
};

void file_data_init(struct file_data *d, struct memfile *mf);
/* Makes an empty d a file of size bytes whose contents come from source on demand:
 * storage is reserved, nothing is read. 0, -ENOSPC or -ENOMEM. */
int file_data_init_lazy(struct file_data *d, uint64_t size, file_data_source_fn source, void *ctx);
static inline bool file_data_is_lazy(const struct file_data *d)
{
	return d->filled != NULL;
}
/* Makes [off, off+len) hold the file's data, reading the chunks not filled yet (whole
 * chunks: the read-ahead). 0, or the source's error (nothing is marked filled then). */
int file_data_fill(struct file_data *d, uint64_t off, uint64_t len);
/* Whether the page at off holds the file's data. */
bool file_data_filled(const struct file_data *d, uint64_t off);
/* The end of the run of pages from off that are all filled or all not (as off's page),
 * at most limit: mappings map the filled runs and leave the others out. */
uint64_t file_data_run_end(const struct file_data *d, uint64_t off, uint64_t limit);
/* Gives the extents back (mappings that took their own reference keep their pages). */
void file_data_release(struct file_data *d);
long file_data_read(struct file_data *d, void *buf, size_t len, uint64_t pos);
long file_data_write(struct file_data *d, const void *buf, size_t len, uint64_t pos);
/* Sets the size: growing reads as zeroes, shrinking drops the pages past the end. A lazy
 * file is filled whole first and is lazy no more (its source would not know). */
int file_data_resize(struct file_data *d, uint64_t size);
/* Makes sure [0, end) has storage (for a shared mapping past the current size). */
int file_data_reserve(struct file_data *d, uint64_t end);
/* Zeroes [off, off+len) (inside the file) and frees its whole pages (PUNCH_HOLE). */
void file_data_punch(struct file_data *d, uint64_t off, uint64_t len);

#endif
