/* Where a file's pages are mapped: Linux's i_mmap, found here by walking every address
 * space of the sandbox (only truncation and fsync need it, both rare next to faults). A
 * mapping of a file's pages is a VMA whose memory-file range lies inside one of the
 * file's storage extents. */
#ifndef WARD_MM_FILE_MAP_H
#define WARD_MM_FILE_MAP_H

#include "sentry/mm/file_data.h"

/* The file shrank to size (already its size): pages of its mappings wholly past the new
 * end leave the stubs, so that the next access faults (SIGBUS while the file stays
 * short); private copies of such pages are dropped. */
void file_map_truncated(struct file_data *d, uint64_t size);

/* Calls fn(ctx, file offset, length) for every shared mapping of d's pages that is
 * writable now; stops at the first error fn returns. */
int file_map_each_writable(struct file_data *d, int (*fn)(void *ctx, uint64_t off, uint64_t len),
			   void *ctx);

#endif
