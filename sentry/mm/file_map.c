#include "sentry/mm/file_map.h"
#include "sentry/kernel/kernel.h"

#include <fcntl.h>
#include <sys/mman.h>

#define PAGE 4096ULL
#define PAGE_UP(x) (((x) + PAGE - 1) & ~(PAGE - 1))

/* The file offset v maps, when v maps d's own pages. (A VMA can span several extents
 * that happen to be adjacent in the memory file: its start tells.) */
static bool mapped_from(const struct file_data *d, const struct vma *v, uint64_t *off)
{
	if (!(v->flags & (VMA_SHARED | VMA_CACHE)) || (v->flags & VMA_ANON))
		return false;
	uint64_t m = v->memfile_off;
	for (int i = 0; i < d->next; i++) {
		const struct file_extent *e = &d->ext[i];
		if (m >= e->memfile_off && m < e->memfile_off + e->len) {
			*off = e->file_off + (m - e->memfile_off);
			return true;
		}
	}
	return false;
}

void file_map_truncated(struct file_data *d, uint64_t size)
{
	struct kernel *k = d->mf->owner;
	if (!k)
		return;
	uint64_t end = PAGE_UP(size);
	struct list_head *pos;
	list_for_each(pos, &k->mms) {
		struct mm *mm = list_entry(pos, struct mm, link);
		for (size_t i = 0; i < mm->vmas.n; i++) {
			const struct vma *v = &mm->vmas.v[i];
			uint64_t off, keep;
			bool copy = !(v->flags & (VMA_SHARED | VMA_CACHE));
			if (!(v->flags & VMA_EOF))
				continue;
			if (mapped_from(d, v, &off))
				keep = end > off ? end - off : 0;
			else if (copy) /* a private copy of a page: of which file, its size tells */
				keep = mm_visible_end(v) - v->start;
			else
				continue;
			if (keep >= v->end - v->start)
				continue;
			k->plat->ops->unmap(mm->as, v->start + keep, v->end - v->start - keep);
			/* Linux drops private copies of the cut pages too: they read as the file
			 * (zeros) if it grows again. */
			if (copy)
				fallocate(k->mf.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					  (off_t)(v->memfile_off + keep), (off_t)(v->end - v->start - keep));
			mm->fault_fixup = 0;
		}
	}
}

void file_map_write_protect(struct file_data *d, uint64_t off, uint64_t len)
{
	struct kernel *k = d->mf->owner;
	if (!k)
		return;
	struct list_head *pos;
	list_for_each(pos, &k->mms) {
		struct mm *mm = list_entry(pos, struct mm, link);
		for (size_t i = 0; i < mm->vmas.n; i++) {
			const struct vma *v = &mm->vmas.v[i];
			uint64_t voff;
			if (!(v->flags & VMA_TRACK) || !(v->prot & PROT_WRITE) || !mapped_from(d, v, &voff))
				continue;
			uint64_t from = off > voff ? off : voff;
			uint64_t to = off + len < voff + (v->end - v->start) ? off + len : voff + (v->end - v->start);
			if (from >= to)
				continue;
			/* Pages not mapped in the stub (past EOF, or grown into and not faulted
			 * yet) end the host mprotect early: they are mapped read-only anyway. */
			k->plat->ops->protect(mm->as, v->start + (from - voff), to - from, v->prot & ~PROT_WRITE);
			mm->fault_fixup = 0;
		}
	}
}
