#include "sentry/mm/memfile.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int memfile_init(struct memfile *mf, uint64_t size)
{
	memset(mf, 0, sizeof(*mf));
	mf->fd = memfd_create("ward-memory", MFD_CLOEXEC);
	if (mf->fd < 0)
		return -errno;
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

void memfile_free(struct memfile *mf, uint64_t off, uint64_t len)
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
