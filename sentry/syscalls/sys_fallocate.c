/* fallocate: the checks of Linux's vfs_fallocate, then the filesystem's own (tmpfs keeps
 * the space in the memory file, the workspace asks the host through the gofer). */
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/fsnotify.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>

#ifndef FALLOC_FL_WRITE_ZEROES
#define FALLOC_FL_WRITE_ZEROES 0x80
#endif
#define FALLOC_MODE_MASK                                                                   \
	(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_ZERO_RANGE |           \
	 FALLOC_FL_INSERT_RANGE | FALLOC_FL_UNSHARE_RANGE | FALLOC_FL_WRITE_ZEROES)

/* The combinations Linux accepts at all; which of them a filesystem serves is its op's
 * business (tmpfs: only 0, KEEP_SIZE and PUNCH_HOLE|KEEP_SIZE, as shmem_fallocate). */
static int mode_check(int mode)
{
	if (mode & ~(FALLOC_MODE_MASK | FALLOC_FL_KEEP_SIZE))
		return -EOPNOTSUPP;
	switch (mode & FALLOC_MODE_MASK) {
	case 0:
	case FALLOC_FL_UNSHARE_RANGE:
	case FALLOC_FL_ZERO_RANGE:
		return 0;
	case FALLOC_FL_PUNCH_HOLE:
		return (mode & FALLOC_FL_KEEP_SIZE) ? 0 : -EOPNOTSUPP;
	case FALLOC_FL_COLLAPSE_RANGE:
	case FALLOC_FL_INSERT_RANGE:
	case FALLOC_FL_WRITE_ZEROES:
		return (mode & FALLOC_FL_KEEP_SIZE) ? -EOPNOTSUPP : 0;
	default:
		return -EOPNOTSUPP;
	}
}

SYSCALL(fallocate)
{
	struct file *f = fget(t, (int)a[0]);
	int mode = (int)a[1];
	int64_t off = (int64_t)a[2], len = (int64_t)a[3];
	if (!f || (f->flags & O_PATH))
		return -EBADF;
	if (off < 0 || len <= 0)
		return -EINVAL;
	int err = mode_check(mode);
	if (err < 0)
		return err;
	int acc = f->flags & O_ACCMODE;
	if (acc != O_WRONLY && acc != O_RDWR)
		return -EBADF;
	uint32_t type = f->inode->mode & S_IFMT;
	if (type == S_IFIFO)
		return -ESPIPE;
	if (type == S_IFDIR)
		return -EISDIR;
	if (type != S_IFREG)
		return -ENODEV;
	if (off > INT64_MAX - len)
		return -EFBIG;
	if (!f->ops || !f->ops->fallocate)
		return -EOPNOTSUPP;
	/* Only what tmpfs and the gofer serve gets through to them. */
	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE))
		return -EOPNOTSUPP;
	if (!(mode & FALLOC_FL_KEEP_SIZE) && (uint64_t)(off + len) > t->tg->rlim[RLIMIT_FSIZE].rlim_cur) {
		struct kstat st;
		if (inode_getattr(f->inode, &st) == 0 && (uint64_t)(off + len) > st.size) {
			signal_send(t, SIGXFSZ, NULL, false);
			return -EFBIG;
		}
	}
	err = f->ops->fallocate(f, mode, (uint64_t)off, (uint64_t)len);
	if (err == 0)
		fsnotify_file(f, IN_MODIFY_);
	return err;
}
