/* fork's copy of an address space: a new stub with every VMA mapped again. Private memory
 * is copied now (only the pages that hold data: holes of the memory file stay holes);
 * shared memory is the same memory-file pages with one more owner. Copy-on-write would
 * avoid the copy and is the next step (measure with bench's fork benchmarks). */
#include "sentry/kernel/kernel.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef SEEK_DATA
#define SEEK_DATA 3
#define SEEK_HOLE 4
#endif

/* Copies the populated parts of [src, src+len) of the memory file to dst. */
static void copy_populated(struct memfile *mf, uint64_t src, uint64_t dst, uint64_t len)
{
	uint64_t cur = src, end = src + len;
	while (cur < end) {
		off_t data = lseek(mf->fd, (off_t)cur, SEEK_DATA);
		if (data < 0 || (uint64_t)data >= end)
			return; /* the rest is a hole: the destination reads as zero already */
		off_t hole = lseek(mf->fd, data, SEEK_HOLE);
		uint64_t stop = hole < 0 || (uint64_t)hole > end ? end : (uint64_t)hole;
		memfile_prepare_write(mf, dst + ((uint64_t)data - src), stop - (uint64_t)data);
		memcpy(memfile_ptr(mf, dst + ((uint64_t)data - src)), memfile_ptr(mf, (uint64_t)data),
		       stop - (uint64_t)data);
		cur = stop;
	}
}

int mm_fork(struct mm *src, struct mm **out)
{
	struct kernel *k = src->k;
	struct mm *mm;
	int err = mm_create(k, &mm);
	if (err < 0)
		return err;
	for (size_t i = 0; i < src->vmas.n; i++) {
		struct vma v = src->vmas.v[i];
		uint64_t len = v.end - v.start;
		if (v.flags & (VMA_SHARED | VMA_CACHE)) {
			err = memfile_share(&k->mf, v.memfile_off, len);
		} else {
			uint64_t off;
			err = memfile_alloc(&k->mf, len, &off);
			if (err == 0) {
				copy_populated(&k->mf, v.memfile_off, off, len);
				v.memfile_off = off;
			}
		}
		if (err < 0)
			goto fail;
		if (v.file)
			dentry_get(v.file);
		err = vma_insert(&mm->vmas, &v);
		if (err < 0) {
			if (v.file)
				dentry_put(v.file);
			memfile_free(&k->mf, v.memfile_off, len);
			goto fail;
		}
		mm->total_vm += len;
		err = mm_stub_map(mm, &v, v.start, v.end);
		if (err < 0)
			goto fail;
	}
	mm->brk_start = src->brk_start;
	mm->brk = src->brk;
	mm->stack_top = src->stack_top;
	mm->arg_start = src->arg_start;
	mm->arg_end = src->arg_end;
	mm->env_start = src->env_start;
	mm->env_end = src->env_end;
	mm->mmap_top = src->mmap_top;
	mm->as_limit = src->as_limit;
	mm->exe = src->exe;
	if (mm->exe)
		dentry_get(mm->exe);
	memcpy(mm->auxv, src->auxv, sizeof(mm->auxv));
	mm->nauxv = src->nauxv;
	syscall_patches_fork(src, mm);
	*out = mm;
	return 0;
fail:
	mm_put(mm);
	return err == -EEXIST ? -ENOMEM : err;
}
