/* Filesystem-level calls: statfs, fadvise. */
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
	if (strcmp(ino->sb->fstype, "tmpfs") == 0 && t->k->shmem_limit) {
		/* Memory-backed: the --tmpfs-size budget all of them share, and what is left. */
		struct kernel *k = t->k;
		s.f_blocks = (k->shmem_limit - k->shmem_boot) / 4096;
		uint64_t guest = k->shmem_used > k->shmem_boot ? k->shmem_used - k->shmem_boot : 0;
		uint64_t used = (guest + 4095) / 4096;
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
	if ((err = vfs_walk(t->fs, NULL, path, WALK_FOLLOW, &d)) < 0)
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
