#include "sentry/mm/file_map.h"
#include "sentry/kernel/kernel.h"

#include <sys/mman.h>

#define PAGE 4096ULL
#define PAGE_UP(x) (((x) + PAGE - 1) & ~(PAGE - 1))

/* The file offset v maps, when v maps d's own pages. */
static bool mapped_from(const struct file_data *d, const struct vma *v, uint64_t *off)
{
	if (!(v->flags & (VMA_SHARED | VMA_CACHE)) || (v->flags & VMA_ANON))
		return false;
	uint64_t m = v->memfile_off, len = v->end - v->start;
	for (int i = 0; i < d->next; i++) {
		const struct file_extent *e = &d->ext[i];
		if (m >= e->memfile_off && m + len <= e->memfile_off + e->len) {
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
			uint64_t off;
			if (!(v->flags & VMA_EOF) || !mapped_from(d, v, &off))
				continue;
			uint64_t keep = end > off ? end - off : 0;
			if (keep >= v->end - v->start)
				continue;
			k->plat->ops->unmap(mm->as, v->start + keep, v->end - v->start - keep);
			mm->fault_fixup = 0;
		}
	}
}

int file_map_each_writable(struct file_data *d, int (*fn)(void *ctx, uint64_t off, uint64_t len),
			   void *ctx)
{
	struct kernel *k = d->mf->owner;
	if (!k)
		return 0;
	struct list_head *pos;
	list_for_each(pos, &k->mms) {
		struct mm *mm = list_entry(pos, struct mm, link);
		for (size_t i = 0; i < mm->vmas.n; i++) {
			const struct vma *v = &mm->vmas.v[i];
			uint64_t off;
			if (!(v->flags & VMA_SHARED) || !(v->prot & PROT_WRITE) || !mapped_from(d, v, &off))
				continue;
			int err = fn(ctx, off, v->end - v->start);
			if (err < 0)
				return err;
		}
	}
	return 0;
}
