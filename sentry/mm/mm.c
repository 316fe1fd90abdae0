/* A guest address space: VMAs over the memory file, mirrored into the stub by the
 * platform, and copying to and from guest memory through the sentry's own mapping. */
#include "sentry/kernel/kernel.h"
#include "platform/ptrace/stub_layout.h"
#include "sentry/mm/file_data.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define PAGE 4096ULL
#define PAGE_UP(x) (((x) + PAGE - 1) & ~(PAGE - 1))
#define PAGE_DOWN(x) ((x) & ~(PAGE - 1))
#define DIRTY_CHUNK (16 * PAGE) /* what one write fault on a VMA_TRACK mapping dirties */

static void vma_dentry_get(void *d)
{
	dentry_get(d);
}

static void vma_dentry_put(void *d)
{
	dentry_put(d);
}

int mm_create(struct kernel *k, struct mm **out)
{
	struct mm *mm = calloc(1, sizeof(*mm));
	if (!mm)
		return -ENOMEM;
	int err = k->plat->ops->new_address_space(k->plat, &mm->as);
	if (err < 0) {
		free(mm);
		return err;
	}
	mm->refs = 1;
	mm->k = k;
	vma_set_init(&mm->vmas);
	mm->vmas.file_get = vma_dentry_get;
	mm->vmas.file_put = vma_dentry_put;
	mm->stack_top = GUEST_TASK_SIZE;
	mm->mmap_top = GUEST_TASK_SIZE - (256ULL << 20);
	list_add_tail(&mm->link, &k->mms);
	*out = mm;
	return 0;
}

#define MAX_MAP_COUNT 65530 /* vm.max_map_count default */

/* Hands a shared writable mapping's changes to the file (a page cache with a backing
 * store: the workspace); other files' pages are the file itself. */
static int writeback(const struct vma *v, uint64_t start, uint64_t end, bool sync)
{
	struct dentry *d = v->file;
	if (!(v->flags & VMA_SHARED) || !(v->prot & PROT_WRITE) || !d || !d->inode)
		return 0;
	struct inode *ino = d->inode;
	if (!ino->ops->writeback)
		return 0;
	return ino->ops->writeback(ino, v->file_off + (start - v->start), end - start, sync);
}

static void release_pages(void *ctx, const struct vma *piece)
{
	struct mm *mm = ctx;
	/* munmap (and exit, exec) of a shared mapping writes it back: the host file has the
	 * data once the last mapping is gone, even if nobody calls msync. */
	writeback(piece, piece->start, piece->end, false);
	mm->total_vm -= piece->end - piece->start;
	memfile_free(&mm->k->mf, piece->memfile_off, piece->end - piece->start);
}

/* The protection the stub maps a VMA with: a private mapping of a file's pages is
 * read-only there until a write fault copies the page. */
static int stub_prot(const struct vma *v)
{
	return (v->flags & (VMA_CACHE | VMA_TRACK)) ? v->prot & ~PROT_WRITE : v->prot;
}

/* Tells the file that [start, end) of v (VMA_TRACK) is being written. */
static int mark_dirty(const struct vma *v, uint64_t start, uint64_t end)
{
	struct dentry *d = v->file;
	struct inode *ino = d ? d->inode : NULL;
	if (!ino || !ino->ops->dirty)
		return 0;
	return ino->ops->dirty(ino, v->file_off + (start - v->start), end - start);
}

/* The end of the part of v that is inside its file (page granular); v->end for memory
 * that is not a file's own pages. */
uint64_t mm_visible_end(const struct vma *v)
{
	struct dentry *d = v->file;
	if (!(v->flags & VMA_EOF) || !d || !d->inode)
		return v->end;
	struct kstat st;
	if (inode_getattr(d->inode, &st) < 0)
		return v->end;
	uint64_t fend = PAGE_UP((uint64_t)st.size);
	if (fend <= v->file_off)
		return v->start;
	return fend - v->file_off < v->end - v->start ? v->start + (fend - v->file_off) : v->end;
}

/* The offset in v's file of the byte at addr. */
static uint64_t file_off_at(const struct vma *v, uint64_t addr)
{
	return v->file_off + (addr - v->start);
}

/* Makes [addr, addr+n) of v hold the file's data when v's pages are filled on demand. */
static int fill_pages(const struct vma *v, uint64_t addr, uint64_t n)
{
	return v->lazy ? file_data_fill(v->lazy, file_off_at(v, addr), n) : 0;
}

/* Mirrors [start, end) of v into the stub: the part inside the file mapped, the pages
 * wholly past its end, and those of a lazy file not filled yet, left out so that an
 * access faults (see mm_fault). */
int mm_stub_map(struct mm *mm, const struct vma *v, uint64_t start, uint64_t end)
{
	const struct platform_ops *ops = mm->k->plat->ops;
	uint64_t vis = mm_visible_end(v);
	if (vis < start)
		vis = start;
	if (vis > end)
		vis = end;
	if (vis < end) {
		int err = ops->unmap(mm->as, vis, end - vis);
		if (err < 0)
			return err;
	}
	for (uint64_t cur = start; cur < vis;) {
		uint64_t stop = vis;
		bool filled = true;
		if (v->lazy) {
			uint64_t off = file_off_at(v, cur);
			filled = file_data_filled(v->lazy, off);
			stop = cur + (file_data_run_end(v->lazy, off, off + (vis - cur)) - off);
		}
		int err = filled ? ops->map(mm->as, cur, stop - cur, stub_prot(v), v->memfile_off + (cur - v->start))
				 : ops->unmap(mm->as, cur, stop - cur);
		if (err < 0)
			return err;
		cur = stop;
	}
	return 0;
}

void mm_put(struct mm *mm)
{
	if (!mm || --mm->refs > 0)
		return;
	vma_remove_range(&mm->vmas, 0, GUEST_TASK_SIZE, release_pages, mm);
	vma_set_destroy(&mm->vmas);
	syscall_patches_free(mm);
	list_del_init(&mm->link);
	mm->k->plat->ops->release_address_space(mm->as);
	if (mm->exe)
		dentry_put(mm->exe);
	free(mm);
}

/* Fills freshly allocated pages with the file's contents (a private copy: the page cache
 * that shares them comes with the writable filesystem). */
static int fill_from_file(struct mm *mm, struct file *f, uint64_t off, uint64_t memfile_off,
			  uint64_t len)
{
	uint8_t *dst = memfile_ptr(&mm->k->mf, memfile_off);
	uint64_t done = 0;
	while (done < len) {
		uint64_t pos = off + done;
		long n = f->ops->read(f, NULL, dst + done, len - done, &pos);
		if (n < 0)
			return (int)n;
		if (n == 0)
			break; /* past EOF the pages stay zero */
		done += (uint64_t)n;
	}
	return 0;
}

/* A mapping of a file whose contents are in the memory file (tmpfs, the page cache):
 * the mapping is those pages themselves (one VMA per storage extent), so writes through a
 * shared one and write(2) see each other, and a private one sees the file until it
 * writes a page (VMA_CACHE). The mapping owns its pages too, so they outlive an unlink. */
static int map_file_pages(struct mm *mm, uint64_t addr, uint64_t len, int prot, int flags,
			  struct file *f, uint64_t off, struct file_data *d, int vflags)
{
	struct kernel *k = mm->k;
	int err = file_data_reserve(d, off + len);
	if (err < 0)
		return -ENOMEM;
	/* A VMA may point at lazily filled data only while its file reference keeps the
	 * data alive: without one, the pages are filled now. */
	bool lazy = file_data_is_lazy(d);
	if (lazy && !f->dentry) {
		if (file_data_fill(d, off, len) < 0)
			return -EIO;
		lazy = false;
	}
	if (flags & MAP_FIXED)
		vma_remove_range(&mm->vmas, addr, addr + len, release_pages, mm);
	uint64_t done = 0;
	for (int i = 0; i < d->next && done < len; i++) {
		struct file_extent *e = &d->ext[i];
		uint64_t fpos = off + done;
		if (fpos >= e->file_off + e->len)
			continue;
		uint64_t in = fpos - e->file_off, n = e->len - in < len - done ? e->len - in : len - done;
		struct vma v = {
			.start = addr + done,
			.end = addr + done + n,
			.prot = prot & (PROT_READ | PROT_WRITE | PROT_EXEC),
			.flags = vflags,
			.memfile_off = e->memfile_off + in,
			.file = f->dentry,
			.file_off = fpos,
			.lazy = lazy ? d : NULL,
		};
		if ((err = memfile_share(&k->mf, v.memfile_off, n)) < 0)
			break;
		if (v.file)
			dentry_get(v.file);
		if ((err = vma_insert(&mm->vmas, &v)) < 0) {
			if (v.file)
				dentry_put(v.file);
			memfile_free(&k->mf, v.memfile_off, n);
			break;
		}
		mm->total_vm += n;
		if ((err = mm_stub_map(mm, &v, v.start, v.end)) < 0)
			break;
		done += n;
	}
	if (err < 0 || done < len) {
		vma_remove_range(&mm->vmas, addr, addr + done, release_pages, mm);
		return err < 0 ? (err == -EEXIST ? -ENOMEM : err) : -ENOMEM;
	}
	return 0;
}

int mm_map(struct mm *mm, uint64_t addr, uint64_t len, int prot, int flags, struct file *f,
	   uint64_t off, const char *name, uint64_t *out)
{
	struct kernel *k = mm->k;
	int err;
	if (len == 0)
		return -EINVAL;
	len = PAGE_UP(len);
	if (len == 0 || len > GUEST_TASK_SIZE)
		return -ENOMEM;
	if (off % PAGE)
		return -EINVAL;
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		if (addr % PAGE)
			return -EINVAL;
		if (addr + len > GUEST_TASK_SIZE || addr + len < addr)
			return -ENOMEM;
		if (addr < GUEST_MMAP_MIN)
			return -EPERM;
		if ((flags & MAP_FIXED_NOREPLACE) && !(flags & MAP_FIXED)) {
			struct vma *next = vma_find_next(&mm->vmas, addr);
			if (next && next->start < addr + len)
				return -EEXIST;
		}
	} else {
		uint64_t hint = PAGE_DOWN(addr);
		struct vma *next = hint ? vma_find_next(&mm->vmas, hint) : NULL;
		if (hint >= GUEST_MMAP_MIN && hint + len <= GUEST_TASK_SIZE && hint + len > hint &&
		    (!next || next->start >= hint + len)) {
			addr = hint;
		} else {
			err = vma_find_gap(&mm->vmas, len, GUEST_MMAP_MIN, mm->mmap_top, &addr);
			if (err < 0)
				err = vma_find_gap(&mm->vmas, len, GUEST_MMAP_MIN, GUEST_TASK_SIZE, &addr);
			if (err < 0)
				return -ENOMEM;
		}
	}
	if (mm->vmas.n >= MAX_MAP_COUNT)
		return -ENOMEM;
	if (mm->as_limit && mm->total_vm + len > mm->as_limit && !(flags & MAP_FIXED))
		return -ENOMEM;
	if (f && S_ISREG(f->inode->mode)) {
		/* Files that can change (tmpfs, the workspace): every mapping is of the file's
		 * own pages. Files that cannot (the read-only host tree): read once into the
		 * page cache, which mappings nobody may write use (a program's text and
		 * read-only data: read from the gofer once per sandbox, not per exec); a
		 * writable private one is copied now, since the file never changes. */
		bool shared = flags & MAP_SHARED;
		struct file_data *pages = f->ops->shared_data ? f->ops->shared_data(f) : NULL;
		if (!pages && f->ops->cache_data && (shared || !(prot & PROT_WRITE)))
			pages = f->ops->cache_data(f);
		if (pages) {
			int vflags = VMA_EOF | (shared ? VMA_SHARED : VMA_CACHE);
			if (shared && (f->flags & O_ACCMODE) != O_RDWR)
				vflags |= VMA_NOWRITE;
			else if (shared && f->inode->ops->dirty)
				vflags |= VMA_TRACK;
			err = map_file_pages(mm, addr, len, prot, flags, f, off, pages, vflags);
			if (err == 0) {
				mm->fault_fixup = 0;
				*out = addr;
			}
			return err;
		}
		if (shared && (prot & PROT_WRITE))
			return -ENOMEM; /* the file could not be read into the page cache */
	}
	uint64_t moff;
	err = memfile_alloc(&k->mf, len, &moff);
	if (err < 0)
		return -ENOMEM;
	if (f) {
		err = fill_from_file(mm, f, off, moff, len);
		if (err < 0) {
			memfile_free(&k->mf, moff, len);
			return err;
		}
	}
	if (flags & MAP_FIXED)
		vma_remove_range(&mm->vmas, addr, addr + len, release_pages, mm);
	struct vma v = {
		.start = addr,
		.end = addr + len,
		.prot = prot & (PROT_READ | PROT_WRITE | PROT_EXEC),
		.flags = ((flags & MAP_SHARED) ? VMA_SHARED : 0) | (f ? 0 : VMA_ANON) |
			 ((flags & MAP_GROWSDOWN) ? VMA_GROWSDOWN : 0),
		.memfile_off = moff,
		.file = f && f->dentry ? f->dentry : NULL,
		.file_off = off,
	};
	if (name)
		snprintf(v.name, sizeof(v.name), "%s", name);
	if (v.file)
		dentry_get(v.file);
	err = vma_insert(&mm->vmas, &v);
	if (err < 0) {
		if (v.file)
			dentry_put(v.file);
		memfile_free(&k->mf, moff, len);
		return err == -EEXIST ? -ENOMEM : err;
	}
	mm->total_vm += len;
	err = k->plat->ops->map(mm->as, addr, len, v.prot, moff);
	if (err < 0) {
		vma_remove_range(&mm->vmas, addr, addr + len, release_pages, mm);
		return err;
	}
	*out = addr;
	return 0;
}

int mm_unmap(struct mm *mm, uint64_t addr, uint64_t len)
{
	if (addr % PAGE || len == 0)
		return -EINVAL;
	len = PAGE_UP(len);
	if (addr + len > GUEST_TASK_SIZE || addr + len < addr)
		return -EINVAL;
	int err = vma_remove_range(&mm->vmas, addr, addr + len, release_pages, mm);
	if (err < 0)
		return err;
	return mm->k->plat->ops->unmap(mm->as, addr, len);
}

/* Copy on write: the pages [start, end) of a private mapping of a file's pages (inside
 * one VMA) become a copy of their own, mapped with the VMA's protection. */
static int cache_to_private(struct mm *mm, uint64_t start, uint64_t end)
{
	struct kernel *k = mm->k;
	struct vma *v = vma_find(&mm->vmas, start);
	if (!v)
		return -ENOMEM;
	struct vma copy = *v;
	uint64_t len = end - start, moff;
	if (fill_pages(v, start, len) < 0)
		return -EFAULT;
	copy.flags &= ~VMA_CACHE;
	copy.lazy = NULL;
	/* Pages written one after another should not each become a VMA: place the copy
	 * right after the previous page's copy when that memory is free, so they merge. */
	struct vma *prev = start > 0 ? vma_find(&mm->vmas, start - 1) : NULL;
	bool placed = prev && prev->end == start && prev->flags == copy.flags && prev->prot == v->prot &&
		      prev->file == v->file && prev->file_off + (start - prev->start) == v->file_off + (start - v->start) &&
		      memfile_alloc_at(&k->mf, prev->memfile_off + (start - prev->start), len) == 0;
	if (placed)
		moff = prev->memfile_off + (start - prev->start);
	else if (memfile_alloc(&k->mf, len, &moff) < 0)
		return -ENOMEM;
	memcpy(memfile_ptr(&k->mf, moff), memfile_ptr(&k->mf, v->memfile_off + (start - v->start)), len);
	copy.start = start;
	copy.end = end;
	copy.memfile_off = moff;
	copy.file_off = v->file_off + (start - v->start);
	if (copy.file)
		dentry_get(copy.file);
	int err = vma_remove_range(&mm->vmas, start, end, release_pages, mm);
	if (err == 0)
		err = vma_insert(&mm->vmas, &copy);
	if (err < 0) {
		if (copy.file)
			dentry_put(copy.file);
		memfile_free(&k->mf, moff, len);
		return err;
	}
	mm->total_vm += len;
	return k->plat->ops->map(mm->as, start, len, copy.prot, moff);
}

int mm_protect(struct mm *mm, uint64_t addr, uint64_t len, int prot)
{
	if (addr % PAGE)
		return -EINVAL;
	if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN | PROT_GROWSUP))
		return -EINVAL;
	prot &= PROT_READ | PROT_WRITE | PROT_EXEC;
	len = PAGE_UP(len);
	if (len == 0)
		return 0;
	if (addr + len < addr || addr + len > GUEST_TASK_SIZE)
		return -ENOMEM;
	mm->fault_fixup = 0;
	/* As Linux: VMA by VMA from addr, stopping with ENOMEM at the first hole (the
	 * part before it keeps its new protection). */
	uint64_t cur = addr, end = addr + len;
	while (cur < end) {
		struct vma *v = vma_find(&mm->vmas, cur);
		if (!v)
			return -ENOMEM;
		uint64_t stop = v->end < end ? v->end : end;
		if ((v->flags & VMA_NOWRITE) && (prot & PROT_WRITE))
			return -EACCES;
		/* What was written while writable reaches the file before it no longer is. */
		if (!(prot & PROT_WRITE))
			writeback(v, cur, stop, false);
		int err = vma_protect_range(&mm->vmas, cur, stop, prot);
		if (err < 0)
			return err;
		v = vma_find(&mm->vmas, cur);
		/* Inside the file, the stub's pages just change protection; a range reaching
		 * past its end (or over pages the file grew into, not mapped yet), or over a
		 * lazy file's pages, is mapped again, leaving out what must fault. */
		if (v->lazy)
			err = mm_stub_map(mm, v, cur, stop); /* holes where not filled yet */
		else if (!(v->flags & VMA_EOF) || mm_visible_end(v) >= stop)
			err = mm->k->plat->ops->protect(mm->as, cur, stop - cur, stub_prot(v));
		if (!v->lazy && (v->flags & VMA_EOF) && (err < 0 || mm_visible_end(v) < stop))
			err = mm_stub_map(mm, v, cur, stop);
		if (err < 0)
			return err;
		cur = stop;
	}
	return 0;
}

long mm_brk(struct mm *mm, uint64_t newbrk)
{
	uint64_t cur = PAGE_UP(mm->brk), want = PAGE_UP(newbrk), addr;
	if (newbrk < mm->brk_start || newbrk > GUEST_TASK_SIZE)
		return (long)mm->brk;
	struct rlimit *rl = NULL;
	(void)rl;
	if (want > cur) {
		struct vma *next = vma_find_next(&mm->vmas, cur);
		if (next && next->start < want)
			return (long)mm->brk;
		if (mm_map(mm, cur, want - cur, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0, "[heap]", &addr) < 0)
			return (long)mm->brk;
	} else if (want < cur) {
		mm_unmap(mm, want, cur - want);
	}
	mm->brk = newbrk;
	return (long)newbrk;
}

static void keep_pages(void *ctx, const struct vma *piece)
{
	struct mm *mm = ctx;
	mm->total_vm -= piece->end - piece->start;
}

/* Our VMAs can be split where Linux has one mapping (a mapping grown in place gets its
 * new pages from elsewhere in the memory file), so mremap treats adjacent VMAs with the
 * same protection and flags as the single mapping Linux would see. */
static bool one_mapping(struct mm *mm, uint64_t start, uint64_t end)
{
	struct vma *first = vma_find(&mm->vmas, start);
	if (!first)
		return false;
	int prot = first->prot, flags = first->flags;
	uint64_t cur = first->end;
	while (cur < end) {
		struct vma *v = vma_find(&mm->vmas, cur);
		if (!v || v->start != cur || v->prot != prot || v->flags != flags)
			return false;
		cur = v->end;
	}
	return true;
}

/* Moves the pages of [old, old+len) to [newaddr, newaddr+len): same memory-file pages,
 * no copy. The destination must be free. */
static int move_range(struct mm *mm, uint64_t old, uint64_t len, uint64_t newaddr)
{
	struct kernel *k = mm->k;
	uint64_t cur = old;
	while (cur < old + len) {
		struct vma *v = vma_find(&mm->vmas, cur);
		if (!v)
			return -EFAULT;
		uint64_t stop = v->end < old + len ? v->end : old + len;
		struct vma moved = *v;
		moved.memfile_off = v->memfile_off + (cur - v->start);
		moved.file_off = v->file_off + (cur - v->start);
		moved.start = newaddr + (cur - old);
		moved.end = newaddr + (stop - old);
		if (moved.file)
			dentry_get(moved.file);
		int err = vma_remove_range(&mm->vmas, cur, stop, keep_pages, mm);
		if (err == 0)
			err = vma_insert(&mm->vmas, &moved);
		if (err == 0)
			mm->total_vm += stop - cur;
		if (err < 0) {
			if (moved.file)
				dentry_put(moved.file);
			return err;
		}
		k->plat->ops->unmap(mm->as, cur, stop - cur);
		err = mm_stub_map(mm, &moved, moved.start, moved.end);
		if (err < 0)
			return err;
		cur = stop;
	}
	return 0;
}

/* The part mremap adds to a mapping: more of the same file (Linux extends the mapping;
 * the file's pages, past EOF faulting as usual), or anonymous memory. */
struct mapping_tail {
	struct dentry *file; /* NULL: anonymous */
	int flags;           /* the VMA's */
	uint64_t file_off;   /* of the first added byte */
};

static int extend_mapping(struct mm *mm, uint64_t addr, uint64_t len, int prot, const char *name,
			  const struct mapping_tail *tail)
{
	uint64_t out;
	if (!tail->file)
		return mm_map(mm, addr, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0, name,
			      &out);
	bool shared = tail->flags & VMA_SHARED;
	struct file *f;
	int err = vfs_open_dentry(tail->file, shared && !(tail->flags & VMA_NOWRITE) ? O_RDWR : O_RDONLY, &f);
	if (err < 0)
		return err;
	err = mm_map(mm, addr, len, prot, (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED, f, tail->file_off,
		     name, &out);
	file_put(f);
	return err;
}

static long remap(struct mm *mm, uint64_t old, uint64_t oldlen, uint64_t newlen, int flags,
		  uint64_t newaddr, struct mapping_tail *tail)
{
	int err;
	if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP))
		return -EINVAL;
	if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE))
		return -EINVAL;
	if (flags & MREMAP_DONTUNMAP)
		return -EINVAL; /* not supported yet */
	if (old % PAGE)
		return -EINVAL;
	oldlen = PAGE_UP(oldlen);
	newlen = PAGE_UP(newlen);
	if (newlen == 0)
		return -EINVAL;
	struct vma *v = vma_find(&mm->vmas, old);
	if (oldlen == 0) {
		/* A second view of a shared mapping: same memory-file pages at a new address. */
		if (!v || !(v->flags & VMA_SHARED) || !(flags & MREMAP_MAYMOVE) || (flags & MREMAP_FIXED))
			return -EINVAL;
		if (old + newlen > v->end)
			return -EFAULT;
		err = vma_find_gap(&mm->vmas, newlen, GUEST_MMAP_MIN, mm->mmap_top, &newaddr);
		if (err < 0)
			return -ENOMEM;
		struct vma alias = *v;
		if (memfile_share(&mm->k->mf, v->memfile_off + (old - v->start), newlen) < 0)
			return -ENOMEM;
		alias.start = newaddr;
		alias.end = newaddr + newlen;
		alias.memfile_off = v->memfile_off + (old - v->start);
		alias.file_off = v->file_off + (old - v->start);
		if (alias.file)
			dentry_get(alias.file);
		err = vma_insert(&mm->vmas, &alias);
		if (err == 0) {
			mm->total_vm += newlen;
			err = mm_stub_map(mm, &alias, alias.start, alias.end);
		}
		if (err < 0) {
			if (alias.file)
				dentry_put(alias.file);
			return err;
		}
		return (long)newaddr;
	}
	if (!v || !one_mapping(mm, old, old + oldlen))
		return -EFAULT;
	int prot = v->prot;
	char name[VMA_NAME_MAX];
	memcpy(name, v->name, sizeof(name));
	struct vma *last = vma_find(&mm->vmas, old + oldlen - 1);
	if (last->file && !(last->flags & VMA_ANON)) {
		tail->file = last->file;
		dentry_get(tail->file);
		tail->flags = last->flags;
		tail->file_off = last->file_off + (old + oldlen - last->start);
	}
	if (!(flags & MREMAP_FIXED)) {
		if (newlen <= oldlen) {
			if (newlen < oldlen)
				mm_unmap(mm, old + newlen, oldlen - newlen);
			return (long)old;
		}
		struct vma *next = vma_find_next(&mm->vmas, old + oldlen);
		if (old + newlen <= GUEST_TASK_SIZE && (!next || next->start >= old + newlen)) {
			err = extend_mapping(mm, old + oldlen, newlen - oldlen, prot, name, tail);
			return err < 0 ? err : (long)old;
		}
		if (!(flags & MREMAP_MAYMOVE))
			return -ENOMEM;
		err = vma_find_gap(&mm->vmas, newlen, GUEST_MMAP_MIN, mm->mmap_top, &newaddr);
		if (err < 0)
			return -ENOMEM;
	} else {
		if (newaddr % PAGE)
			return -EINVAL;
		if (newaddr + newlen > GUEST_TASK_SIZE || newaddr < GUEST_MMAP_MIN)
			return -EINVAL;
		if (newaddr < old + oldlen && old < newaddr + newlen)
			return -EINVAL;
		mm_unmap(mm, newaddr, newlen);
	}
	uint64_t keep = oldlen < newlen ? oldlen : newlen;
	err = move_range(mm, old, keep, newaddr);
	if (err < 0)
		return err;
	if (oldlen > keep)
		mm_unmap(mm, old + keep, oldlen - keep);
	if (newlen > keep) {
		err = extend_mapping(mm, newaddr + keep, newlen - keep, prot, name, tail);
		if (err < 0)
			return err;
	}
	return (long)newaddr;
}

long mm_remap(struct mm *mm, uint64_t old, uint64_t oldlen, uint64_t newlen, int flags,
	      uint64_t newaddr)
{
	struct mapping_tail tail = {0};
	mm->fault_fixup = 0;
	long r = remap(mm, old, oldlen, newlen, flags, newaddr, &tail);
	if (tail.file)
		dentry_put(tail.file);
	return r;
}

/* The sentry about to write [addr, addr+n) inside v: a private mapping of a file's pages
 * gets its own copy of them first, as a write fault from the guest would. Returns v again
 * (now the copy), or NULL when out of memory. */
static struct vma *writable_pages(struct mm *mm, struct vma *v, uint64_t addr, size_t n)
{
	uint64_t end = addr + n < v->end ? PAGE_UP(addr + n) : v->end;
	if (v->flags & VMA_TRACK) /* stays read-only in the stub: the guest's next store faults */
		return mark_dirty(v, PAGE_DOWN(addr), end) == 0 ? v : NULL;
	if (!(v->flags & VMA_CACHE))
		return v;
	if (cache_to_private(mm, PAGE_DOWN(addr), end) < 0)
		return NULL;
	return vma_find(&mm->vmas, addr);
}

/* Where the sentry's own accesses through v must stop: file pages past EOF give EFAULT,
 * as they would SIGBUS in the guest. */
static uint64_t accessible_end(const struct vma *v)
{
	return (v->flags & VMA_EOF) ? mm_visible_end(v) : v->end;
}

int mm_write_code(struct mm *mm, uint64_t addr, const void *src, size_t n)
{
	struct vma *v = vma_find(&mm->vmas, addr);
	if (!v || addr + n > v->end || addr + n < addr || (v->flags & (VMA_SHARED | VMA_TRACK)))
		return -EPERM;
	if (addr + n > accessible_end(v) || fill_pages(v, addr, n) < 0)
		return -EFAULT;
	if (!(v = writable_pages(mm, v, addr, n)))
		return -ENOMEM;
	memcpy(memfile_ptr(&mm->k->mf, v->memfile_off + (addr - v->start)), src, n);
	return 0;
}

/* Walks [addr, addr+n) one VMA at a time, calling fn on each piece's sentry pointer. */
static int user_walk(struct mm *mm, uint64_t addr, size_t n, int prot,
		     int (*fn)(void *ctx, uint8_t *p, size_t len), void *ctx)
{
	while (n > 0) {
		struct vma *v = vma_find(&mm->vmas, addr);
		if (!v || (v->prot & prot) != prot)
			return -EFAULT;
		uint64_t lim = accessible_end(v);
		if (addr >= lim)
			return -EFAULT;
		size_t want = lim - addr < n ? lim - addr : n;
		if (fill_pages(v, addr, want) < 0)
			return -EFAULT; /* the file could not be read: the guest would get SIGBUS */
		if ((prot & PROT_WRITE) && !(v = writable_pages(mm, v, addr, want)))
			return -EFAULT;
		size_t chunk = v->end - addr < want ? v->end - addr : want;
		int r = fn(ctx, memfile_ptr(&mm->k->mf, v->memfile_off + (addr - v->start)), chunk);
		if (r <= 0)
			return r;
		addr += chunk;
		n -= chunk;
	}
	return 0;
}

struct copy_ctx {
	uint8_t *buf;
	int to_user;
};

static int copy_piece(void *vctx, uint8_t *p, size_t len)
{
	struct copy_ctx *c = vctx;
	if (c->to_user)
		memcpy(p, c->buf, len);
	else
		memcpy(c->buf, p, len);
	c->buf += len;
	return 1;
}

int copy_from_user(struct mm *mm, void *dst, uint64_t src, size_t n)
{
	struct copy_ctx c = {dst, 0};
	if (src + n < src)
		return -EFAULT;
	return user_walk(mm, src, n, PROT_READ, copy_piece, &c);
}

int copy_to_user(struct mm *mm, uint64_t dst, const void *src, size_t n)
{
	struct copy_ctx c = {(uint8_t *)src, 1};
	if (dst + n < dst)
		return -EFAULT;
	return user_walk(mm, dst, n, PROT_WRITE, copy_piece, &c);
}

long strncpy_from_user(struct mm *mm, char *dst, uint64_t src, size_t max)
{
	size_t done = 0;
	while (done < max) {
		struct vma *v = vma_find(&mm->vmas, src + done);
		if (!v || !(v->prot & PROT_READ) || src + done >= accessible_end(v))
			return -EFAULT;
		size_t avail = accessible_end(v) - (src + done);
		if (avail > max - done)
			avail = max - done;
		if (fill_pages(v, src + done, avail) < 0)
			return -EFAULT;
		const char *p = memfile_ptr(&mm->k->mf, v->memfile_off + (src + done - v->start));
		const char *nul = memchr(p, 0, avail);
		size_t take = nul ? (size_t)(nul - p) + 1 : avail;
		memcpy(dst + done, p, take);
		done += take;
		if (nul)
			return (long)done - 1;
	}
	return -ENAMETOOLONG;
}

void *user_ptr(struct mm *mm, uint64_t addr, size_t n, int prot)
{
	struct vma *v = vma_find(&mm->vmas, addr);
	if (!v || (v->prot & prot) != prot || addr + n > v->end || addr + n < addr ||
	    ((v->flags & VMA_EOF) && addr + n > accessible_end(v)))
		return NULL;
	if (fill_pages(v, addr, n) < 0)
		return NULL;
	if ((prot & PROT_WRITE) && !(v = writable_pages(mm, v, addr, n)))
		return NULL;
	return memfile_ptr(&mm->k->mf, v->memfile_off + (addr - v->start));
}

bool mm_fault(struct mm *mm, siginfo_t *info)
{
	if (info->si_signo != SIGSEGV)
		return false;
	uint64_t addr = (uint64_t)info->si_addr;
	struct vma *v = vma_find(&mm->vmas, addr);
	if (!v)
		return false;
	uint64_t page = PAGE_DOWN(addr);
	/* A private mapping of a file's pages is read-only in the stub, so the only access
	 * it refuses that the VMA allows is a write: copy the page. */
	if (info->si_code == SEGV_ACCERR && (v->flags & VMA_CACHE) && (v->prot & PROT_WRITE))
		return cache_to_private(mm, page, page + PAGE) == 0;
	/* A shared mapping that is written back is read-only in the stub until written:
	 * the first store to a chunk marks it dirty and makes it writable (a chunk of
	 * pages, not one, to keep the faults of a large sequential write few). */
	if (info->si_code == SEGV_ACCERR && (v->flags & VMA_TRACK) && (v->prot & PROT_WRITE)) {
		if (mm->fault_fixup == page + 2)
			return false; /* writable already: the access wanted something else */
		uint64_t vis = mm_visible_end(v);
		uint64_t from = PAGE_DOWN(addr) & ~(DIRTY_CHUNK - 1), to = from + DIRTY_CHUNK;
		from = from < v->start ? v->start : from;
		to = to > vis ? vis : to;
		if (page >= to || mark_dirty(v, from, to) < 0)
			return false;
		mm->fault_fixup = page + 2;
		/* Pages of the chunk not mapped in the stub yet (the file grew) stop the host's
		 * mprotect early; the faulting page itself is mapped. */
		if (mm->k->plat->ops->protect(mm->as, from, to - from, v->prot) == 0)
			return true;
		return mm->k->plat->ops->protect(mm->as, page, PAGE, v->prot) == 0;
	}
	if (info->si_code != SEGV_MAPERR || !(v->flags & VMA_EOF))
		return false;
	if (v->prot == PROT_NONE) {
		info->si_code = SEGV_ACCERR;
		return false;
	}
	if (page < mm_visible_end(v) && v->lazy) {
		/* A page of a lazy file not filled yet (or filled since, by another access):
		 * read its chunk, map the chunk's part of v and resume. No once-only guard as
		 * below: another thread may have faulted on the same page before it was mapped,
		 * and a mapped page cannot fault again as unmapped. */
		uint64_t chunk = FILE_DATA_CHUNK;
		uint64_t from = page - (file_off_at(v, page) & (chunk - 1));
		uint64_t to = from + chunk;
		from = from < v->start ? v->start : from;
		to = to > v->end ? v->end : to;
		if (fill_pages(v, from, to - from) < 0 || !file_data_filled(v->lazy, file_off_at(v, page))) {
			/* The host file could not be read: SIGBUS, as Linux on an I/O error. */
			info->si_signo = SIGBUS;
			info->si_code = BUS_ADRERR;
			info->si_errno = 0;
			return false;
		}
		mm->fault_fixup = 0;
		return mm_stub_map(mm, v, from, to) == 0;
	}
	if (page < mm_visible_end(v)) {
		/* The file has grown since the stub's mapping was made: map what is inside it
		 * now (once: if that fault comes back, it is not ours to fix). */
		if (mm->fault_fixup == page + 1)
			return false;
		mm->fault_fixup = page + 1;
		return mm_stub_map(mm, v, v->start, v->end) == 0;
	}
	/* A page wholly past the end of the file: SIGBUS, as Linux. */
	info->si_signo = SIGBUS;
	info->si_code = BUS_ADRERR;
	info->si_errno = 0;
	return false;
}

int mm_sync(struct mm *mm, uint64_t start, uint64_t len, bool sync)
{
	uint64_t cur = start, end = start + len;
	int err = 0;
	while (cur < end) {
		struct vma *v = vma_find_next(&mm->vmas, cur);
		if (!v || v->start >= end)
			return -ENOMEM;
		if (v->start > cur)
			err = -ENOMEM; /* a hole: the rest is still written back, as Linux */
		uint64_t from = v->start > cur ? v->start : cur;
		uint64_t stop = v->end < end ? v->end : end;
		int r = writeback(v, from, stop, sync);
		if (r < 0 && err == 0)
			err = r;
		cur = stop;
	}
	return err;
}
