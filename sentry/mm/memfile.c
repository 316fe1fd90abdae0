#include "sentry/mm/memfile.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int memfile_init(struct memfile *mf, uint64_t size)
{
	int fd = memfd_create("ward-memory", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	return memfile_init_fd(mf, fd, size);
}

int memfile_init_fd(struct memfile *mf, int fd, uint64_t size)
{
	struct stat st;
	memset(mf, 0, sizeof(*mf));
	mf->fd = fd;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode) || st.st_size != 0) {
		close(fd);
		return -EBADF; /* not a fresh memory file */
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC); /* inherited without it: no stub may get it twice */
	if (ftruncate(mf->fd, (off_t)size) < 0)
		goto fail;
	mf->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, mf->fd, 0);
	if (mf->base == MAP_FAILED)
		goto fail;
	mf->size = size;
	mf->free = malloc(sizeof(*mf->free) * 16);
	if (!mf->free)
		goto fail;
	mf->capfree = 16;
	/* Offset 0 is never handed out, so 0 can mean "no backing". */
	mf->free[0] = (struct memfile_extent){4096, size - 4096};
	mf->nfree = 1;
	return 0;
fail:;
	int err = -errno;
	close(mf->fd);
	return err ? err : -ENOMEM;
}

void memfile_destroy(struct memfile *mf)
{
	if (mf->base)
		munmap(mf->base, mf->size);
	close(mf->fd);
	free(mf->free);
	free(mf->shared);
}

int memfile_alloc(struct memfile *mf, uint64_t len, uint64_t *off)
{
	if (len == 0 || len % 4096)
		return -EINVAL;
	if (mf->limit && mf->allocated + len > mf->limit)
		return -ENOMEM;
	for (size_t i = 0; i < mf->nfree; i++) {
		struct memfile_extent *e = &mf->free[i];
		if (e->len < len)
			continue;
		*off = e->off;
		e->off += len;
		e->len -= len;
		if (e->len == 0) {
			memmove(e, e + 1, (mf->nfree - i - 1) * sizeof(*e));
			mf->nfree--;
		}
		mf->allocated += len;
		return 0;
	}
	return -ENOMEM;
}

int memfile_alloc_at(struct memfile *mf, uint64_t off, uint64_t len)
{
	if (len == 0 || len % 4096 || off % 4096)
		return -EINVAL;
	if (mf->limit && mf->allocated + len > mf->limit)
		return -ENOMEM;
	for (size_t i = 0; i < mf->nfree; i++) {
		struct memfile_extent *e = &mf->free[i];
		if (off < e->off || off + len > e->off + e->len)
			continue;
		uint64_t after = e->off + e->len - (off + len);
		if (off == e->off) { /* the front of the extent */
			e->off += len;
			e->len -= len;
			if (e->len == 0) {
				memmove(e, e + 1, (mf->nfree - i - 1) * sizeof(*e));
				mf->nfree--;
			}
		} else if (after == 0) { /* its end */
			e->len -= len;
		} else { /* its middle: split in two */
			if (mf->nfree == mf->capfree) {
				struct memfile_extent *n = realloc(mf->free, sizeof(*n) * mf->capfree * 2);
				if (!n)
					return -ENOMEM;
				mf->free = n;
				mf->capfree *= 2;
				e = &mf->free[i];
			}
			memmove(e + 2, e + 1, (mf->nfree - i - 1) * sizeof(*e));
			mf->nfree++;
			e[1] = (struct memfile_extent){off + len, after};
			e->len = off - e->off;
		}
		mf->allocated += len;
		return 0;
	}
	return -ENOMEM;
}

static void free_range(struct memfile *mf, uint64_t off, uint64_t len)
{
	if (len == 0)
		return;
	/* Give the memory back; the range reads as zeroes when handed out again. */
	fallocate(mf->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
	mf->allocated -= len;
	size_t i = 0;
	while (i < mf->nfree && mf->free[i].off < off)
		i++;
	int merged_prev = i > 0 && mf->free[i - 1].off + mf->free[i - 1].len == off;
	int merged_next = i < mf->nfree && off + len == mf->free[i].off;
	if (merged_prev && merged_next) {
		mf->free[i - 1].len += len + mf->free[i].len;
		memmove(&mf->free[i], &mf->free[i + 1], (mf->nfree - i - 1) * sizeof(*mf->free));
		mf->nfree--;
	} else if (merged_prev) {
		mf->free[i - 1].len += len;
	} else if (merged_next) {
		mf->free[i].off = off;
		mf->free[i].len += len;
	} else {
		if (mf->nfree == mf->capfree) {
			struct memfile_extent *n = realloc(mf->free, sizeof(*n) * mf->capfree * 2);
			if (!n)
				return; /* leak the range rather than corrupt the list */
			mf->free = n;
			mf->capfree *= 2;
		}
		memmove(&mf->free[i + 1], &mf->free[i], (mf->nfree - i) * sizeof(*mf->free));
		mf->free[i] = (struct memfile_extent){off, len};
		mf->nfree++;
	}
}

/* Room for one more shared entry. */
static int shared_grow(struct memfile *mf)
{
	if (mf->nshared < mf->capshared)
		return 0;
	size_t cap = mf->capshared ? mf->capshared * 2 : 16;
	struct memfile_shared *n = realloc(mf->shared, sizeof(*n) * cap);
	if (!n)
		return -ENOMEM;
	mf->shared = n;
	mf->capshared = cap;
	return 0;
}

/* Splits shared entries so that off is an entry boundary. */
static int shared_split_at(struct memfile *mf, uint64_t off)
{
	for (size_t i = 0; i < mf->nshared; i++) {
		struct memfile_shared *e = &mf->shared[i];
		if (off <= e->off || off >= e->off + e->len)
			continue;
		if (shared_grow(mf) < 0)
			return -ENOMEM;
		e = &mf->shared[i];
		memmove(e + 1, e, (mf->nshared - i) * sizeof(*e));
		mf->nshared++;
		e[1].off = off;
		e[1].len = e->off + e->len - off;
		e->len = off - e->off;
		return 0;
	}
	return 0;
}

int memfile_share(struct memfile *mf, uint64_t off, uint64_t len)
{
	uint64_t end = off + len;
	if (shared_split_at(mf, off) < 0 || shared_split_at(mf, end) < 0)
		return -ENOMEM;
	/* Bump existing entries inside the range and add new ones for the gaps. */
	uint64_t cur = off;
	size_t i = 0;
	while (cur < end) {
		while (i < mf->nshared && mf->shared[i].off + mf->shared[i].len <= cur)
			i++;
		if (i < mf->nshared && mf->shared[i].off == cur) {
			mf->shared[i].extra_refs++;
			cur += mf->shared[i].len;
			i++;
			continue;
		}
		uint64_t gap_end = i < mf->nshared && mf->shared[i].off < end ? mf->shared[i].off : end;
		if (shared_grow(mf) < 0)
			return -ENOMEM;
		memmove(&mf->shared[i + 1], &mf->shared[i], (mf->nshared - i) * sizeof(*mf->shared));
		mf->shared[i] = (struct memfile_shared){cur, gap_end - cur, 1};
		mf->nshared++;
		cur = gap_end;
		i++;
	}
	return 0;
}

void memfile_free(struct memfile *mf, uint64_t off, uint64_t len)
{
	uint64_t end = off + len;
	if (mf->nshared == 0) {
		free_range(mf, off, len);
		return;
	}
	if (shared_split_at(mf, off) < 0 || shared_split_at(mf, end) < 0)
		return; /* out of memory: leak rather than free pages someone still maps */
	uint64_t cur = off;
	size_t i = 0;
	while (cur < end) {
		while (i < mf->nshared && mf->shared[i].off + mf->shared[i].len <= cur)
			i++;
		if (i < mf->nshared && mf->shared[i].off == cur) {
			struct memfile_shared *e = &mf->shared[i];
			cur += e->len;
			if (--e->extra_refs == 0) {
				memmove(e, e + 1, (mf->nshared - i - 1) * sizeof(*e));
				mf->nshared--;
			} else {
				i++;
			}
			continue;
		}
		uint64_t gap_end = i < mf->nshared && mf->shared[i].off < end ? mf->shared[i].off : end;
		free_range(mf, cur, gap_end - cur);
		cur = gap_end;
	}
}

/* A page fault costs far more than the copy of a page on the VMs ward runs on (each is an
 * exit to the hypervisor), and the sentry writes whole chunks at a time: a file's page
 * cache filled from the gofer, a fork's copy of private memory. Best effort: without
 * MADV_POPULATE_WRITE (Linux < 5.14) the copy just faults as before. */
void memfile_prepare_write(struct memfile *mf, uint64_t off, uint64_t len)
{
	uint64_t start = off & ~4095ull, end = (off + len + 4095) & ~4095ull;
	if (end > start && end <= mf->size)
		madvise(mf->base + start, end - start, MADV_POPULATE_WRITE);
}
