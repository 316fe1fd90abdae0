/* The memory file: one memfd that backs all guest memory, mapped whole in the sentry (so
 * guest memory is a memcpy away) and piecewise in the stubs. A first-fit extent allocator
 * hands out page ranges; freed ranges are punched out so their memory goes back. */
#ifndef WARD_MM_MEMFILE_H
#define WARD_MM_MEMFILE_H

#include <stddef.h>
#include <stdint.h>

struct memfile_extent {
	uint64_t off, len;
};

/* A range of pages mapped by more than one VMA (shared memory across fork, mremap
 * aliases): extra_refs more owners than the one implied by being allocated. */
struct memfile_shared {
	uint64_t off, len;
	uint32_t extra_refs;
};

struct memfile {
	int fd;
	uint8_t *base;   /* the whole file mapped in the sentry */
	uint64_t size;   /* file size (address space reserved), not memory used */
	struct memfile_extent *free; /* sorted, coalesced */
	size_t nfree, capfree;
	uint64_t allocated; /* bytes handed out */
	uint64_t limit;     /* 0 = none; past it allocations fail with -ENOMEM */
	struct memfile_shared *shared; /* sorted, non-overlapping */
	size_t nshared, capshared;
	void *owner; /* the struct kernel whose guest memory this is (NULL in unit tests) */
};

int memfile_init(struct memfile *mf, uint64_t size);
/* The same over fd, an empty memfd made by `ward run` and shared with the gofer (which
 * fills the page cache of host files in it); the memory file owns fd from now on. */
int memfile_init_fd(struct memfile *mf, int fd, uint64_t size);
void memfile_destroy(struct memfile *mf);
/* Allocates len (page multiple) bytes of zeroed file space. 0 and *off, or -ENOMEM. */
int memfile_alloc(struct memfile *mf, uint64_t len, uint64_t *off);
/* Allocates exactly [off, off+len) if it is free (so that a VMA can grow in place):
 * 0, or -ENOMEM when any of it is taken. */
int memfile_alloc_at(struct memfile *mf, uint64_t off, uint64_t len);
/* Drops one owner of [off, off+len): pages nobody else owns are freed. */
void memfile_free(struct memfile *mf, uint64_t off, uint64_t len);
/* Adds an owner to [off, off+len) (a second mapping of the same pages). */
int memfile_share(struct memfile *mf, uint64_t off, uint64_t len);
static inline void *memfile_ptr(struct memfile *mf, uint64_t off)
{
	return mf->base + off;
}
/* The sentry is about to write [off, off+len) (fresh pages, typically): allocates and
 * maps them in one call rather than one page fault per page as the copy goes. */
void memfile_prepare_write(struct memfile *mf, uint64_t off, uint64_t len);

#endif
