/* Filesystem-level calls: statfs, extended attributes (not supported by any filesystem
 * in the sandbox yet), fadvise, copy_file_range. */
#include "sentry/syscalls/syscalls.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>

static long put_statfs(struct task *t, struct inode *ino, uint64_t ubuf)
{
	struct statfs s;
	memset(&s, 0, sizeof(s));
	s.f_type = (typeof(s.f_type))ino->sb->magic;
	s.f_bsize = 4096;
	s.f_frsize = 4096;
	s.f_namelen = NAME_MAX;
	s.f_flags = ino->sb->readonly ? ST_RDONLY : 0;
	if (strcmp(ino->sb->fstype, "tmpfs") == 0) {
		/* Memory-backed: report the sandbox's memory budget as the size. */
		s.f_blocks = (4ull << 30) / 4096;
		uint64_t used = t->k->mf.allocated / 4096;
		s.f_bfree = s.f_bavail = s.f_blocks > used ? s.f_blocks - used : 0;
		s.f_files = s.f_ffree = 1 << 20;
	}
	return copy_to_user(t->tg->mm, ubuf, &s, sizeof(s));
}

SYSCALL(statfs)
{
	char path[PATH_MAX];
	struct dentry *d;
	long err = copy_path(t, a[0], path, false);
	if (err < 0)
		return err;
	if ((err = vfs_walk(t->tg->fs, NULL, path, WALK_FOLLOW, &d)) < 0)
		return err;
	err = put_statfs(t, d->inode, a[1]);
	dentry_put(d);
	return err;
}

SYSCALL(fstatfs)
{
	struct file *f = fget(t, (int)a[0]);
	if (!f)
		return -EBADF;
	return put_statfs(t, f->inode, a[1]);
}

/* The xattr calls: validate the target like Linux, then report that the filesystem
 * keeps no extended attributes. */
static long xattr_path(struct task *t, uint64_t upath, bool follow)
{
	char path[PATH_MAX];
	struct dentry *d;
	long err = copy_path(t, upath, path, false);
	if (err < 0)
		return err;
	if ((err = vfs_walk(t->tg->fs, NULL, path, follow ? WALK_FOLLOW : 0, &d)) < 0)
		return err;
	dentry_put(d);
	return -EOPNOTSUPP;
}

static long xattr_fd(struct task *t, int fd)
{
	return fget(t, fd) ? -EOPNOTSUPP : -EBADF;
}

SYSCALL(getxattr) { return xattr_path(t, a[0], true); }
SYSCALL(lgetxattr) { return xattr_path(t, a[0], false); }
SYSCALL(fgetxattr) { return xattr_fd(t, (int)a[0]); }
SYSCALL(listxattr) { return xattr_path(t, a[0], true); }
SYSCALL(llistxattr) { return xattr_path(t, a[0], false); }
SYSCALL(flistxattr) { return xattr_fd(t, (int)a[0]); }
SYSCALL(setxattr) { return xattr_path(t, a[0], true); }
SYSCALL(lsetxattr) { return xattr_path(t, a[0], false); }
SYSCALL(fsetxattr) { return xattr_fd(t, (int)a[0]); }
SYSCALL(removexattr) { return xattr_path(t, a[0], true); }
SYSCALL(lremovexattr) { return xattr_path(t, a[0], false); }
SYSCALL(fremovexattr) { return xattr_fd(t, (int)a[0]); }

SYSCALL(fadvise64)
{
	struct file *f = fget(t, (int)a[0]);
	int advice = (int)a[3];
	if (!f)
		return -EBADF;
	if (f->ops && f->ops->stream)
		return -ESPIPE;
	if (advice < POSIX_FADV_NORMAL || advice > POSIX_FADV_NOREUSE || (int64_t)a[2] < 0)
		return -EINVAL;
	return 0; /* advice about caching: there is no cache policy to tune */
}

SYSCALL(copy_file_range)
{
	struct file *in = fget(t, (int)a[0]), *out = fget(t, (int)a[2]);
	uint64_t len = a[4];
	if (!in || !out)
		return -EBADF;
	if (a[5])
		return -EINVAL;
	if (!S_ISREG(in->inode->mode) || !S_ISREG(out->inode->mode))
		return -EINVAL;
	if ((in->flags & O_ACCMODE) == O_WRONLY || (out->flags & O_ACCMODE) == O_RDONLY ||
	    (out->flags & O_APPEND))
		return -EBADF;
	if (!in->ops->read || !out->ops->write)
		return -EINVAL;
	uint64_t inpos = in->pos, outpos = out->pos;
	if (a[1] && copy_from_user(t->tg->mm, &inpos, a[1], 8) < 0)
		return -EFAULT;
	if (a[3] && copy_from_user(t->tg->mm, &outpos, a[3], 8) < 0)
		return -EFAULT;
	char *buf = malloc(65536);
	if (!buf)
		return -ENOMEM;
	uint64_t done = 0;
	long r = 0;
	while (done < len) {
		size_t chunk = len - done < 65536 ? len - done : 65536;
		r = in->ops->read(in, NULL, buf, chunk, &inpos);
		if (r <= 0)
			break;
		long w = out->ops->write(out, NULL, buf, (size_t)r, &outpos);
		if (w < 0) {
			r = w;
			break;
		}
		done += (uint64_t)w;
		if (w < r)
			break;
	}
	free(buf);
	if (done == 0 && r < 0)
		return r;
	if (a[1])
		copy_to_user(t->tg->mm, a[1], &inpos, 8);
	else
		in->pos = inpos;
	if (a[3])
		copy_to_user(t->tg->mm, a[3], &outpos, 8);
	else
		out->pos = outpos;
	return (long)done;
}
