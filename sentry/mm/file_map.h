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

/* Makes [off, off+len) of the file read-only in every stub mapping it VMA_TRACK, so
 * that the next store faults and marks the page dirty again: done before those pages
 * are written back (Linux's page_mkclean). */
void file_map_write_protect(struct file_data *d, uint64_t off, uint64_t len);

#endif
