/* The set of virtual memory areas of one guest address space.
 *
 * Pure data structure (no syscalls) so it can be unit-tested: a sorted array of
 * non-overlapping, page-aligned [start, end) ranges. Callers (sentry/mm/mm.c) decide what a
 * removed piece means (release memory-file pages, unmap in the stub). */
#ifndef WARD_MM_VMA_H
#define WARD_MM_VMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMA_PAGE_SIZE 4096ULL

enum vma_flags {
	VMA_SHARED = 1 << 0,    /* MAP_SHARED (else private) */
	VMA_ANON = 1 << 1,      /* not backed by a guest file */
	VMA_GROWSDOWN = 1 << 2, /* stack */
	VMA_CACHE = 1 << 3,     /* private, but still the file's pages: mapped read-only in
				 * the stub; a write fault copies the page (mm_fault) */
	VMA_EOF = 1 << 4,       /* the file's own pages: those wholly past its end are left
				 * out of the stub, so that an access faults (SIGBUS) */
	VMA_NOWRITE = 1 << 5,   /* shared mapping of a file not opened for writing: mprotect
				 * may not add PROT_WRITE (Linux's missing VM_MAYWRITE) */
	VMA_TRACK = 1 << 6,     /* shared mapping of a file written back to a host file: read-
				 * only in the stub until a write fault marks the page dirty */
};

#define VMA_NAME_MAX 32

struct file_data;

struct vma {
	uint64_t start, end;  /* page aligned, start < end */
	int prot;             /* PROT_READ | PROT_WRITE | PROT_EXEC, or PROT_NONE */
	int flags;            /* enum vma_flags */
	uint64_t memfile_off; /* offset in the memory file backing the byte at 'start' */
	void *file;           /* opaque file reference for /proc/pid/maps, or NULL */
	uint64_t file_off;    /* offset in 'file' of the byte at 'start' */
	struct file_data *lazy; /* the file's pages, when filled on demand (a host file's page
				 * cache): unfilled ones are left out of the stub. The file
				 * reference keeps it alive. NULL otherwise. */
	char name[VMA_NAME_MAX]; /* "[heap]", "[stack]", or "" */
};

struct vma_set {
	struct vma *v; /* sorted by start, non-overlapping */
	size_t n, cap;
	/* Optional reference counting for vma.file: called when a split duplicates a
	 * reference (get) and when a piece is dropped or merged away (put). */
	void (*file_get)(void *file);
	void (*file_put)(void *file);
};

void vma_set_init(struct vma_set *set);
/* Drops every VMA (file_put on each) and frees the array. */
void vma_set_destroy(struct vma_set *set);

/* The VMA containing addr, or NULL. Pointer valid until the next modification. */
struct vma *vma_find(const struct vma_set *set, uint64_t addr);
/* The first VMA whose end > addr (the one containing addr or the next above), or NULL. */
struct vma *vma_find_next(const struct vma_set *set, uint64_t addr);

/* True when every byte of [start, end) is covered by some VMA. */
bool vma_range_mapped(const struct vma_set *set, uint64_t start, uint64_t end);

/* Finds the highest free, page-aligned gap of len bytes inside [lo, hi), like Linux's
 * top-down mmap allocator. Returns 0 and *out = start address, -ENOMEM when no gap
 * fits, or -EINVAL when len is 0 or not page aligned. lo is rounded up and hi down to
 * page boundaries. */
int vma_find_gap(const struct vma_set *set, uint64_t len, uint64_t lo, uint64_t hi, uint64_t *out);

/* Removes [start, end) from the set, splitting VMAs that straddle the edges. For every
 * removed piece calls release(ctx, piece) with the piece's own start/end/memfile_off/
 * file_off (the piece's file reference is put after release returns). Returns 0 or
 * -ENOMEM when the array cannot grow for a split (the set is then unchanged), or -EINVAL
 * for an unaligned range. Unmapped holes in the range are fine. release may be NULL; it
 * runs before the set is modified and must not modify the set itself. */
int vma_remove_range(struct vma_set *set, uint64_t start, uint64_t end,
		     void (*release)(void *ctx, const struct vma *piece), void *ctx);

/* Inserts a VMA whose range must be entirely free (-EEXIST otherwise). Takes over the
 * caller's reference on vma->file on success (on error the caller still owns it).
 * Merges with neighbours that are adjacent and compatible (same prot, flags, name,
 * file, and contiguous memfile_off and file_off).
 * Returns 0, -EINVAL for an unaligned or empty range, -EEXIST, or -ENOMEM. */
int vma_insert(struct vma_set *set, const struct vma *vma);

/* Sets prot on [start, end), splitting at the edges and merging afterwards. The whole
 * range must be mapped, else -ENOMEM and nothing changes (as Linux's mprotect).
 * -EINVAL for an unaligned range; an empty range is a no-op. */
int vma_protect_range(struct vma_set *set, uint64_t start, uint64_t end, int prot);

/* Checks the structural invariants (sorted, non-overlapping, non-empty, page aligned,
 * NUL-terminated names, n <= cap). For tests and debug assertions. */
bool vma_set_valid(const struct vma_set *set);

#endif
