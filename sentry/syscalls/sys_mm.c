/* Memory syscalls: mmap, munmap, mprotect, mremap, brk, madvise, msync. */
#include "platform/ptrace/stub_layout.h"
#include "sentry/fs/fs.h"
#include "sentry/syscalls/syscalls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define PAGE 4096ULL
#define PAGE_UP(x) (((x) + PAGE - 1) & ~(PAGE - 1))

SYSCALL(mmap)
{
	uint64_t addr = a[0], len = a[1], off = a[5];
	int prot = (int)a[2], flags = (int)a[3], fd = (int)a[4];
	struct file *f = NULL;
	int type = flags & MAP_TYPE;
	if (type != MAP_SHARED && type != MAP_PRIVATE && type != MAP_SHARED_VALIDATE)
		return -EINVAL;
	if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN | PROT_GROWSUP))
		return -EINVAL;
	if (len == 0 || off % PAGE)
		return -EINVAL;
	if (PAGE_UP(len) == 0 || PAGE_UP(len) > GUEST_TASK_SIZE)
		return -ENOMEM;
	if (off + PAGE_UP(len) < off)
		return -EOVERFLOW;
	if (flags & MAP_HUGETLB)
		return -EINVAL;
	if ((flags & MAP_ANONYMOUS) && type == MAP_SHARED_VALIDATE)
		return -EINVAL;
	if (type == MAP_SHARED_VALIDATE) {
		const int known = MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_DENYWRITE |
				  MAP_EXECUTABLE | MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK | MAP_STACK |
				  MAP_HUGETLB | MAP_32BIT | MAP_GROWSDOWN | MAP_LOCKED | MAP_FIXED_NOREPLACE |
				  (0x3f << 26) /* hugetlb size */;
		if (flags & ~known)
			return -EOPNOTSUPP;
		flags = (flags & ~MAP_TYPE) | MAP_SHARED;
	}
	if (!(flags & MAP_ANONYMOUS)) {
		f = fget(t, fd);
		if (!f || (f->flags & O_PATH))
			return -EBADF;
		if (!f->ops || !f->ops->read || (f->ops->stream) || S_ISDIR(f->inode->mode))
			return -ENODEV;
		if ((f->flags & O_ACCMODE) == O_WRONLY)
			return -EACCES;
		if (type != MAP_PRIVATE && (prot & PROT_WRITE)) {
			if ((f->flags & O_ACCMODE) != O_RDWR)
				return -EACCES;
			/* Writable shared mappings must be coherent with write(2): served for
			 * files kept in the memory file (tmpfs, the workspace's page cache);
			 * refused, not faked, for the rest. */
			if (!f->ops->shared_data)
				return -ENODEV;
			if (tmpfs_write_sealed(f))
				return -EPERM; /* memfd F_SEAL_WRITE */
		}
	}
	if (flags & MAP_32BIT) {
		uint64_t gap;
		if (flags & MAP_FIXED)
			goto fixed;
		if (vma_find_gap(&t->tg->mm->vmas, PAGE_UP(len), GUEST_MMAP_MIN, 0x80000000ULL, &gap) < 0)
			return -ENOMEM;
		addr = gap;
		flags |= MAP_FIXED_NOREPLACE;
	}
fixed:;
	uint64_t out;
	int err = mm_map(t->tg->mm, addr, len, prot, flags, f, off, NULL, &out);
	return err < 0 ? err : (long)out;
}

SYSCALL(munmap)
{
	return mm_unmap(t->tg->mm, a[0], a[1]);
}

SYSCALL(mprotect)
{
	return mm_protect(t->tg->mm, a[0], a[1], (int)a[2]);
}

SYSCALL(mremap)
{
	return mm_remap(t->tg->mm, a[0], a[1], a[2], (int)a[3], a[4]);
}

SYSCALL(brk)
{
	return mm_brk(t->tg->mm, a[0]);
}

/* MADV_DONTNEED: private anonymous pages read back as zero afterwards; the memory goes
 * back to the host. File-backed private pages read back the file's contents. */
static int dontneed(struct mm *mm, uint64_t start, uint64_t end)
{
	while (start < end) {
		struct vma *v = vma_find(&mm->vmas, start);
		if (!v)
			return -ENOMEM;
		uint64_t stop = v->end < end ? v->end : end;
		uint64_t moff = v->memfile_off + (start - v->start);
		if (v->flags & (VMA_SHARED | VMA_CACHE)) {
			start = stop; /* shared pages and page-cache pages keep their contents */
			continue;
		}
		uint8_t *p = memfile_ptr(&mm->k->mf, moff);
		if (v->file) {
			struct file *f;
			if (vfs_open_dentry(v->file, O_RDONLY, &f) == 0) {
				uint64_t pos = v->file_off + (start - v->start);
				uint64_t done = 0;
				while (done < stop - start) {
					long n = f->ops->read(f, NULL, p + done, stop - start - done, &pos);
					if (n <= 0)
						break;
					done += (uint64_t)n;
				}
				memset(p + done, 0, stop - start - done);
				file_put(f);
			}
		} else {
			fallocate(mm->k->mf.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)moff,
				  (off_t)(stop - start));
		}
		start = stop;
	}
	return 0;
}

SYSCALL(madvise)
{
	uint64_t start = a[0], len = a[1];
	int advice = (int)a[2];
	if (start % PAGE)
		return -EINVAL;
	len = PAGE_UP(len);
	if (start + len < start)
		return -EINVAL;
	switch (advice) {
	case MADV_NORMAL:
	case MADV_RANDOM:
	case MADV_SEQUENTIAL:
	case MADV_WILLNEED:
	case MADV_DONTNEED:
	case MADV_FREE:
	case MADV_DONTFORK:
	case MADV_DOFORK:
	case MADV_MERGEABLE:
	case MADV_UNMERGEABLE:
	case MADV_HUGEPAGE:
	case MADV_NOHUGEPAGE:
	case MADV_DONTDUMP:
	case MADV_DODUMP:
	case MADV_COLD:
	case MADV_PAGEOUT:
		break;
	default:
		return -EINVAL;
	}
	if (len == 0)
		return 0;
	if (!vma_range_mapped(&t->tg->mm->vmas, start, start + len))
		return -ENOMEM;
	/* MADV_FREE may discard like DONTNEED; the other advice only tunes caching. */
	if (advice == MADV_DONTNEED || advice == MADV_FREE)
		return dontneed(t->tg->mm, start, start + len);
	return 0;
}

SYSCALL(msync)
{
	uint64_t start = a[0], len = PAGE_UP(a[1]);
	int flags = (int)a[2];
	if (start % PAGE || (flags & ~(MS_ASYNC | MS_SYNC | MS_INVALIDATE)) ||
	    ((flags & MS_ASYNC) && (flags & MS_SYNC)))
		return -EINVAL;
	if (start + len < start || (a[1] && len == 0))
		return -ENOMEM;
	/* Mappings are the page cache itself, so MS_INVALIDATE has nothing to drop; MS_ASYNC
	 * writes back now too (sooner than Linux, which only schedules it). */
	return mm_sync(t->tg->mm, start, len, flags & MS_SYNC);
}
