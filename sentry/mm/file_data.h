/* File contents kept in the memory file (tmpfs files now; the page cache later), so that
 * a MAP_SHARED mapping of the file is the very same pages and they can be snapshotted
 * with the rest of guest memory. Storage is a list of contiguous extents of the memory
 * file covering the file from offset 0; each new extent at least doubles the total, so a
 * file of any size has O(log size) extents and a shared mapping needs that many VMAs. */
#ifndef WARD_MM_FILE_DATA_H
#define WARD_MM_FILE_DATA_H

#include "sentry/mm/memfile.h"

#include <stddef.h>
#include <stdint.h>

struct file_extent {
	uint64_t file_off, len, memfile_off;
};

struct file_data {
	struct memfile *mf;
	struct file_extent *ext;
	int next, capext;
	uint64_t size;  /* the file's size */
	uint64_t alloc; /* bytes of file offset covered by extents (page multiple) */
};

void file_data_init(struct file_data *d, struct memfile *mf);
/* Gives the extents back (mappings that took their own reference keep their pages). */
void file_data_release(struct file_data *d);
long file_data_read(struct file_data *d, void *buf, size_t len, uint64_t pos);
long file_data_write(struct file_data *d, const void *buf, size_t len, uint64_t pos);
/* Sets the size: growing reads as zeroes, shrinking drops the pages past the end. */
int file_data_resize(struct file_data *d, uint64_t size);
/* Makes sure [0, end) has storage (for a shared mapping past the current size). */
int file_data_reserve(struct file_data *d, uint64_t end);
/* Zeroes [off, off+len) (inside the file) and frees its whole pages (PUNCH_HOLE). */
void file_data_punch(struct file_data *d, uint64_t off, uint64_t len);

#endif
