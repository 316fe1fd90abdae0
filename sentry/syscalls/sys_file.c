/* File syscalls: open, read, write, seek, stat, directories, links, fd manipulation. */
#include "sentry/fs/fs.h"
#include "sentry/net/net.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/fsnotify.h"
#include "sentry/vfs/lock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_RW_COUNT (INT_MAX & ~4095L)
#define IO_CHUNK (1u << 20)

static int permission(struct task *t, const struct kstat *st, int mask, bool real_ids)
{
	uint32_t uid = real_ids ? t->tg->cred.ruid : t->tg->cred.fsuid;
	uint32_t gid = real_ids ? t->tg->cred.rgid : t->tg->cred.fsgid;
	if (uid == 0) {
		/* root may do anything except execute a file nobody may execute */
		if ((mask & 1) && !S_ISDIR(st->mode) && !(st->mode & 0111))
			return -EACCES;
		return 0;
	}
	uint32_t bits = st->mode & 7;
	if (st->uid == uid)
		bits = (st->mode >> 6) & 7;
	else if (st->gid == gid)
		bits = (st->mode >> 3) & 7;
	return (bits & (uint32_t)mask) == (uint32_t)mask ? 0 : -EACCES;
}

/* Opens a dentry that may be a /proc magic link (fd/N of a pipe or the host terminal). */
static int open_resolved(struct task *t, struct dentry *d, int flags, struct file **out)
{
	struct inode *ino = d->inode;
	if (S_ISLNK(ino->mode) && ino->ops->magic_file) {
		struct file *f = ino->ops->magic_file(ino);
		if (!f)
			return -ENOENT;
		*out = f;
		return 0;
	}
	if (flags & O_PATH) {
		struct file *f = file_new(d, ino, O_PATH | (flags & (O_CLOEXEC | O_NOFOLLOW | O_DIRECTORY)));
		if (!f)
			return -ENOMEM;
		*out = f;
		return 0;
	}
	struct kstat st;
	int err = inode_getattr(ino, &st);
	if (err < 0)
		return err;
	int acc = flags & O_ACCMODE;
	int mask = (acc == O_RDONLY ? 4 : acc == O_WRONLY ? 2 : 6) | ((flags & O_TRUNC) ? 2 : 0);
	if (S_ISDIR(st.mode) && acc != O_RDONLY)
		return -EISDIR;
	err = permission(t, &st, mask, false);
	if (err < 0)
		return err;
	return vfs_open_dentry(d, flags, out);
}

/* O_TMPFILE: an unnamed regular file in the directory path names. */
static long open_tmpfile(struct task *t, struct dentry *start, const char *path, int flags, uint32_t mode)
{
	int acc = flags & O_ACCMODE;
	if ((flags & (O_TMPFILE | O_CREAT)) != O_TMPFILE || (acc != O_WRONLY && acc != O_RDWR))
		return -EINVAL;
	struct dentry *dir, *d;
	long err = vfs_walk(t->fs, start, path, WALK_FOLLOW | WALK_DIRECTORY, &dir);
	if (err < 0)
		return err;
	struct kstat st;
	struct inode *di = dir->inode, *ino = NULL;
	if ((err = inode_getattr(di, &st)) == 0)
		err = permission(t, &st, 3, false);
	if (err == 0 && di->sb->readonly)
		err = -EROFS;
	if (err == 0)
		err = di->ops->tmpfile ? di->ops->tmpfile(di, mode & 07777 & ~t->fs->umask,
							 !(flags & O_EXCL), &ino)
				       : -EOPNOTSUPP;
	if (err < 0) {
		dentry_put(dir);
		return err;
	}
	char name[32];
	snprintf(name, sizeof(name), "#%llu", (unsigned long long)ino->ino);
	d = dentry_new_unlinked(dir, name, ino);
	dentry_put(dir);
	if (!d)
		return -ENOMEM;
	struct file *f;
	err = vfs_open_dentry(d, flags & ~(O_TMPFILE | O_EXCL), &f);
	dentry_put(d);
	if (err < 0)
		return err;
	err = fdt_install(t->fdt, f, 0, flags & O_CLOEXEC, fd_limit(t));
	file_put(f);
	return err;
}

static long do_openat(struct task *t, int dirfd, uint64_t upath, int flags, uint32_t mode)
{
	char path[PATH_MAX];
	struct dentry *start, *d = NULL;
	struct file *f = NULL;
	long err = copy_path(t, upath, path, false);
	if (err < 0)
		return err;
	if ((err = at_start(t, dirfd, path, &start)) < 0)
		return err;
	struct fs_ctx *fs = t->fs;
	if (flags & (O_TMPFILE & ~O_DIRECTORY))
		return open_tmpfile(t, start, path, flags, mode);
	if (flags & O_CREAT) {
		const char *last;
		struct dentry *dir;
		if ((err = vfs_walk_parent(fs, start, path, &dir, &last)) < 0)
			return err;
		if (!last[0] || strcmp(last, ".") == 0 || strcmp(last, "..") == 0) {
			dentry_put(dir);
			return -EISDIR;
		}
		char name[NAME_MAX + 1];
		size_t len = strcspn(last, "/");
		if (len > NAME_MAX) {
			dentry_put(dir);
			return -ENAMETOOLONG;
		}
		memcpy(name, last, len);
		name[len] = 0;
		err = vfs_walk(fs, dir, name, 0, &d);
		/* A trailing symlink is followed, and a dangling one creates its target
		 * (unless O_EXCL or O_NOFOLLOW). */
		for (int links = 0; err == 0 && S_ISLNK(d->inode->mode) && !(flags & (O_EXCL | O_NOFOLLOW)) &&
				    !d->inode->ops->magic_file;
		     links++) {
			char target[PATH_MAX];
			long n = links < WALK_MAX_SYMLINKS && d->inode->ops->readlink
					 ? d->inode->ops->readlink(d->inode, target, sizeof(target) - 1)
					 : -ELOOP;
			dentry_put(d);
			if (n < 0) {
				dentry_put(dir);
				return n;
			}
			target[n] = 0;
			struct dentry *ndir;
			const char *nlast;
			err = vfs_walk_parent(fs, dir, target, &ndir, &nlast);
			dentry_put(dir);
			if (err < 0)
				return err;
			dir = ndir;
			len = strcspn(nlast, "/");
			if (!len || len > NAME_MAX) {
				dentry_put(dir);
				return len ? -ENAMETOOLONG : -EISDIR;
			}
			memcpy(name, nlast, len);
			name[len] = 0;
			err = vfs_walk(fs, dir, name, 0, &d);
		}
		if (err == 0 && S_ISLNK(d->inode->mode) && !d->inode->ops->magic_file &&
		    (flags & O_NOFOLLOW) && !(flags & O_EXCL)) {
			dentry_put(d);
			dentry_put(dir);
			return -ELOOP;
		}
		if (err == 0 && (flags & O_EXCL)) {
			dentry_put(d);
			dentry_put(dir);
			return -EEXIST;
		}
		if (err == -ENOENT) {
			struct kstat dst;
			inode_getattr(dir->inode, &dst);
			err = permission(t, &dst, 3, false);
			if (err == 0)
				err = vfs_create(dir, name, S_IFREG | (mode & 07777 & ~fs->umask), NULL, &d);
			/* Made meanwhile by someone else (the host user, in the workspace): open
			 * it, as Linux does when it loses that race. */
			if (err == -EEXIST && !(flags & O_EXCL))
				err = vfs_walk(fs, dir, name, 0, &d);
		}
		dentry_put(dir);
		if (err < 0)
			return err;
		if (S_ISDIR(d->inode->mode)) {
			dentry_put(d);
			return -EISDIR;
		}
	} else {
		int wf = (flags & O_NOFOLLOW) ? 0 : WALK_FOLLOW;
		if (flags & O_DIRECTORY)
			wf |= WALK_DIRECTORY;
		if ((err = vfs_walk(fs, start, path, wf, &d)) < 0)
			return err;
		if ((flags & O_NOFOLLOW) && S_ISLNK(d->inode->mode) && !(flags & O_PATH)) {
			dentry_put(d);
			return -ELOOP;
		}
	}
	err = open_resolved(t, d, flags, &f);
	dentry_put(d);
	if (err < 0)
		return err;
	if ((flags & O_TRUNC) && S_ISREG(f->inode->mode) && (flags & O_ACCMODE) == O_RDONLY &&
	    f->inode->sb->readonly) {
		file_put(f);
		return -EROFS;
	}
	err = fdt_install(t->fdt, f, 0, flags & O_CLOEXEC, fd_limit(t));
	if (err >= 0 && fsnotify_nwatches && !(flags & O_PATH))
		fsnotify_file(f, IN_OPEN_);
	file_put(f);
	return err;
}

SYSCALL(openat)
{
	return do_openat(t, (int)a[0], a[1], (int)a[2], (uint32_t)a[3]);
}

SYSCALL(open)
{
	return do_openat(t, AT_FDCWD, a[0], (int)a[1], (uint32_t)a[2]);
}

SYSCALL(creat)
{
	return do_openat(t, AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, (uint32_t)a[1]);
}

SYSCALL(close)
{
	return fdt_close(t->fdt, (int)a[0]);
}

SYSCALL(close_range)
{
	unsigned first = (unsigned)a[0], last = (unsigned)a[1];
	unsigned flags = (unsigned)a[2];
	struct fd_table *fdt = t->fdt;
	if (first > last || (flags & ~(4u /* CLOSE_RANGE_CLOEXEC */ | 2u /* UNSHARE */)))
		return -EINVAL;
	for (unsigned fd = first; fd <= last && fd < (unsigned)fdt->cap; fd++) {
		if (!fdt->files[fd])
			continue;
		if (flags & 4u)
			fdt->cloexec[fd] = 1;
		else
			fdt_close(fdt, (int)fd);
	}
	return 0;
}

/* Access mode 3 opens a file for ioctls only: neither readable nor writable. */
static bool readable(struct file *f)
{
	int acc = f->flags & O_ACCMODE;
	return !(f->flags & O_PATH) && (acc == O_RDONLY || acc == O_RDWR);
}

static bool writable(struct file *f)
{
	int acc = f->flags & O_ACCMODE;
	return !(f->flags & O_PATH) && (acc == O_WRONLY || acc == O_RDWR);
}

/* Reads into guest memory: straight into the memory file when the buffer is one mapping,
 * through a bounce buffer otherwise. */
static long do_read(struct task *t, struct file *f, uint64_t ubuf, size_t len, uint64_t *pos)
{
	if (!readable(f))
		return -EBADF;
	if (S_ISDIR(f->inode->mode))
		return -EISDIR;
	if (!f->ops || !f->ops->read)
		return -EINVAL;
	if (len > MAX_RW_COUNT)
		len = MAX_RW_COUNT;
	if (len == 0)
		return 0;
	void *direct = user_ptr(t->tg->mm, ubuf, len, PROT_WRITE);
	long n;
	if (direct) {
		n = f->ops->read(f, t, direct, len, pos);
	} else {
		size_t chunk = len < IO_CHUNK ? len : IO_CHUNK;
		void *buf = malloc(chunk);
		if (!buf)
			return -ENOMEM;
		n = f->ops->read(f, t, buf, chunk, pos);
		if (n > 0 && copy_to_user(t->tg->mm, ubuf, buf, (size_t)n) < 0)
			n = -EFAULT;
		free(buf);
	}
	if (n > 0 && fsnotify_nwatches)
		fsnotify_file(f, IN_ACCESS_);
	return n;
}

static long do_write(struct task *t, struct file *f, uint64_t ubuf, size_t len, uint64_t *pos)
{
	if (!writable(f))
		return -EBADF;
	if (!f->ops || !f->ops->write)
		return -EINVAL;
	if (len > MAX_RW_COUNT)
		len = MAX_RW_COUNT;
	if (len == 0)
		return 0;
	if (f->ops->discards_writes)
		return (long)len;
	void *direct = user_ptr(t->tg->mm, ubuf, len, PROT_READ);
	if (direct) {
		long n = f->ops->write(f, t, direct, len, pos);
		if (n > 0 && fsnotify_nwatches)
			fsnotify_file(f, IN_MODIFY_);
		return n;
	}
	size_t done = 0;
	void *buf = malloc(len < IO_CHUNK ? len : IO_CHUNK);
	if (!buf)
		return -ENOMEM;
	long r = 0;
	while (done < len) {
		size_t chunk = len - done < IO_CHUNK ? len - done : IO_CHUNK;
		if (copy_from_user(t->tg->mm, buf, ubuf + done, chunk) < 0) {
			r = -EFAULT;
			break;
		}
		r = f->ops->write(f, t, buf, chunk, pos);
		if (r <= 0)
			break;
		done += (size_t)r;
		if ((size_t)r < chunk)
			break;
	}
	free(buf);
	if (done && fsnotify_nwatches)
		fsnotify_file(f, IN_MODIFY_);
	return done ? (long)done : r;
}

SYSCALL(read)
{
	struct file *f = fget(t, (int)a[0]);
	if (!f)
		return -EBADF;
	return do_read(t, f, a[1], a[2], &f->pos);
}

SYSCALL(write)
{
	struct file *f = fget(t, (int)a[0]);
	if (!f)
		return -EBADF;
	return do_write(t, f, a[1], a[2], &f->pos);
}

/* pread64/pwrite64: at an explicit offset, leaving the file position alone. */
static long do_positional(struct task *t, const uint64_t a[6], bool is_write)
{
	struct file *f = fget(t, (int)a[0]);
	if (!f)
		return -EBADF;
	if (f->ops && f->ops->stream)
		return -ESPIPE;
	if ((int64_t)a[3] < 0)
		return -EINVAL;
	uint64_t pos = a[3];
	return is_write ? do_write(t, f, a[1], a[2], &pos) : do_read(t, f, a[1], a[2], &pos);
}

SYSCALL(pread64)
{
	return do_positional(t, a, false);
}

SYSCALL(pwrite64)
{
	return do_positional(t, a, true);
}

static long do_iov(struct task *t, int fd, uint64_t uiov, uint64_t cnt, bool is_write, int64_t off)
{
	struct file *f = fget(t, fd);
	if (!f)
		return -EBADF;
	if (cnt > 1024)
		return -EINVAL;
	if (off >= 0 && f->ops && f->ops->stream)
		return -ESPIPE;
	if (sock_from_file(f) && off < 0) /* one message, not one per buffer */
		return sock_file_iov(t, f, uiov, cnt, is_write);
	struct iovec iov[1024];
	if (cnt && copy_from_user(t->tg->mm, iov, uiov, cnt * sizeof(struct iovec)) < 0)
		return -EFAULT;
	uint64_t total_len = 0;
	for (uint64_t i = 0; i < cnt; i++) {
		if ((int64_t)iov[i].iov_len < 0)
			return -EINVAL;
		total_len += iov[i].iov_len;
		if (total_len > (uint64_t)SSIZE_MAX)
			return -EINVAL;
	}
	uint64_t pos = off >= 0 ? (uint64_t)off : f->pos;
	long total = 0;
	for (uint64_t i = 0; i < cnt; i++) {
		if (!iov[i].iov_len)
			continue;
		long n = is_write ? do_write(t, f, (uint64_t)iov[i].iov_base, iov[i].iov_len, &pos)
				  : do_read(t, f, (uint64_t)iov[i].iov_base, iov[i].iov_len, &pos);
		if (n == SYSCALL_BLOCKED && total > 0) {
			/* Data was already moved: return it instead of parking. */
			task_wake(t, true, total);
			n = 0;
			break;
		}
		if (n < 0 || n == SYSCALL_BLOCKED) {
			if (total == 0)
				return n;
			break;
		}
		total += n;
		if ((size_t)n < iov[i].iov_len)
			break;
	}
	if (off < 0)
		f->pos = pos;
	return total;
}

SYSCALL(readv)
{
	return do_iov(t, (int)a[0], a[1], a[2], false, -1);
}

SYSCALL(writev)
{
	return do_iov(t, (int)a[0], a[1], a[2], true, -1);
}

SYSCALL(preadv)
{
	if ((int64_t)a[3] < 0)
		return -EINVAL;
	return do_iov(t, (int)a[0], a[1], a[2], false, (int64_t)a[3]);
}

SYSCALL(pwritev)
{
	if ((int64_t)a[3] < 0)
		return -EINVAL;
	return do_iov(t, (int)a[0], a[1], a[2], true, (int64_t)a[3]);
}

SYSCALL(lseek)
{
	struct file *f = fget(t, (int)a[0]);
	int64_t off = (int64_t)a[1];
	int whence = (int)a[2];
	if (!f)
		return -EBADF;
	if (f->flags & O_PATH)
		return -EBADF;
	if (f->ops && f->ops->llseek)
		return f->ops->llseek(f, off, whence);
	if (!f->ops || f->ops->stream)
		return -ESPIPE;
	int64_t base;
	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = (int64_t)f->pos;
		break;
	case SEEK_END: {
		if (f->ops->seek_end) {
			long e = f->ops->seek_end(f);
			if (e < 0)
				return e;
			base = e;
		} else {
			struct kstat st;
			inode_getattr(f->inode, &st);
			base = (int64_t)st.size;
		}
		break;
	}
	default:
		return -EINVAL;
	}
	if (S_ISDIR(f->inode->mode)) {
		/* Directory offsets are cookies; only rewinding is meaningful. */
		if (whence != SEEK_SET || off != 0)
			return whence == SEEK_CUR && off == 0 ? (long)f->pos : -EINVAL;
		f->pos = 0;
		return 0;
	}
	if ((off > 0 && base > INT64_MAX - off) || base + off < 0)
		return -EINVAL;
	f->pos = (uint64_t)(base + off);
	return (long)f->pos;
}

/* ---- stat family ---- */

static void kstat_to_stat(const struct kstat *k, struct stat *s)
{
	memset(s, 0, sizeof(*s));
	s->st_dev = k->dev;
	s->st_ino = k->ino;
	s->st_nlink = k->nlink;
	s->st_mode = k->mode;
	s->st_uid = k->uid;
	s->st_gid = k->gid;
	s->st_rdev = k->rdev;
	s->st_size = (off_t)k->size;
	s->st_blksize = k->blksize ? k->blksize : 4096;
	s->st_blocks = (blkcnt_t)k->blocks;
	s->st_atim = k->atime;
	s->st_mtim = k->mtime;
	s->st_ctim = k->ctime;
}

/* stat of a resolved dentry; a magic link stands for its file. */
static int stat_dentry(struct dentry *d, bool follow_magic, struct kstat *st)
{
	struct inode *ino = d->inode;
	if (follow_magic && S_ISLNK(ino->mode) && ino->ops->magic_file) {
		struct file *f = ino->ops->magic_file(ino);
		if (f) {
			int err = inode_getattr(f->inode, st);
			file_put(f);
			return err;
		}
	}
	return inode_getattr(ino, st);
}

static int stat_at(struct task *t, int dirfd, uint64_t upath, int flags, struct kstat *st)
{
	char path[PATH_MAX];
	struct dentry *start, *d;
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE))
		return -EINVAL;
	long err = copy_path(t, upath, path, flags & AT_EMPTY_PATH);
	if (err < 0)
		return (int)err;
	if (path[0] == 0) {
		if (dirfd == AT_FDCWD)
			return stat_dentry(t->fs->cwd, false, st);
		struct file *f = fget(t, dirfd);
		if (!f)
			return -EBADF;
		return inode_getattr(f->inode, st);
	}
	if ((err = at_start(t, dirfd, path, &start)) < 0)
		return (int)err;
	bool follow = !(flags & AT_SYMLINK_NOFOLLOW);
	if ((err = vfs_walk(t->fs, start, path, follow ? WALK_FOLLOW : 0, &d)) < 0)
		return (int)err;
	err = stat_dentry(d, follow, st);
	dentry_put(d);
	return (int)err;
}

static long put_stat(struct task *t, uint64_t ubuf, const struct kstat *k)
{
	struct stat s;
	kstat_to_stat(k, &s);
	return copy_to_user(t->tg->mm, ubuf, &s, sizeof(s));
}

SYSCALL(fstat)
{
	struct file *f = fget(t, (int)a[0]);
	struct kstat st;
	if (!f)
		return -EBADF;
	int err = inode_getattr(f->inode, &st);
	return err < 0 ? err : put_stat(t, a[1], &st);
}

SYSCALL(newfstatat)
{
	struct kstat st;
	int err = stat_at(t, (int)a[0], a[1], (int)a[3], &st);
	return err < 0 ? err : put_stat(t, a[2], &st);
}

SYSCALL(stat)
{
	struct kstat st;
	int err = stat_at(t, AT_FDCWD, a[0], 0, &st);
	return err < 0 ? err : put_stat(t, a[1], &st);
}

SYSCALL(lstat)
{
	struct kstat st;
	int err = stat_at(t, AT_FDCWD, a[0], AT_SYMLINK_NOFOLLOW, &st);
	return err < 0 ? err : put_stat(t, a[1], &st);
}

SYSCALL(statx)
{
	int flags = (int)a[2];
	uint32_t mask = (uint32_t)a[3];
	struct kstat st;
	if (mask & STATX__RESERVED)
		return -EINVAL;
	if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE)
		return -EINVAL;
	int err = stat_at(t, (int)a[0], a[1], flags, &st);
	if (err < 0)
		return err;
	struct statx sx;
	memset(&sx, 0, sizeof(sx));
	sx.stx_mask = STATX_BASIC_STATS;
	sx.stx_blksize = st.blksize ? st.blksize : 4096;
	sx.stx_nlink = (uint32_t)st.nlink;
	sx.stx_uid = st.uid;
	sx.stx_gid = st.gid;
	sx.stx_mode = (uint16_t)st.mode;
	sx.stx_ino = st.ino;
	sx.stx_size = st.size;
	sx.stx_blocks = st.blocks;
	sx.stx_atime = (struct statx_timestamp){st.atime.tv_sec, (uint32_t)st.atime.tv_nsec, 0};
	sx.stx_mtime = (struct statx_timestamp){st.mtime.tv_sec, (uint32_t)st.mtime.tv_nsec, 0};
	sx.stx_ctime = (struct statx_timestamp){st.ctime.tv_sec, (uint32_t)st.ctime.tv_nsec, 0};
	sx.stx_rdev_major = major(st.rdev);
	sx.stx_rdev_minor = minor(st.rdev);
	sx.stx_dev_major = major(st.dev);
	sx.stx_dev_minor = minor(st.dev);
	return copy_to_user(t->tg->mm, a[4], &sx, sizeof(sx));
}

/* ---- links, directories ---- */

static long do_readlinkat(struct task *t, int dirfd, uint64_t upath, uint64_t ubuf, int64_t size)
{
	char path[PATH_MAX], target[PATH_MAX];
	struct dentry *start, *d;
	if (size <= 0)
		return -EINVAL;
	long err = copy_path(t, upath, path, true);
	if (err < 0)
		return err;
	if (path[0] == 0) {
		/* An O_PATH|O_NOFOLLOW descriptor of the link itself. */
		struct file *f = dirfd == AT_FDCWD ? NULL : fget(t, dirfd);
		if (!f || !f->dentry || !S_ISLNK(f->inode->mode))
			return dirfd != AT_FDCWD && !f ? -EBADF : -ENOENT;
		d = f->dentry;
		dentry_get(d);
	} else {
		if ((err = at_start(t, dirfd, path, &start)) < 0)
			return err;
		if ((err = vfs_walk(t->fs, start, path, 0, &d)) < 0)
			return err;
	}
	struct inode *ino = d->inode;
	if (!S_ISLNK(ino->mode) || !ino->ops->readlink)
		err = -EINVAL;
	else
		err = ino->ops->readlink(ino, target, sizeof(target));
	dentry_put(d);
	if (err < 0)
		return err;
	size_t n = (size_t)err < (size_t)size ? (size_t)err : (size_t)size;
	if (copy_to_user(t->tg->mm, ubuf, target, n) < 0)
		return -EFAULT;
	return (long)n;
}

SYSCALL(readlinkat)
{
	return do_readlinkat(t, (int)a[0], a[1], a[2], (int64_t)a[3]);
}

SYSCALL(readlink)
{
	return do_readlinkat(t, AT_FDCWD, a[0], a[1], (int64_t)a[2]);
}

struct dirent64_sink {
	struct dirent_sink base;
	uint8_t *buf;
	size_t len, used;
};

static bool dirent64_emit(struct dirent_sink *s, const char *name, uint64_t ino, unsigned type,
			  uint64_t next_off)
{
	struct dirent64_sink *d = (struct dirent64_sink *)s;
	size_t namelen = strlen(name);
	size_t reclen = (19 + namelen + 1 + 7) & ~7ul;
	if (d->used + reclen > d->len)
		return false;
	uint8_t *p = d->buf + d->used;
	memset(p, 0, reclen);
	memcpy(p, &ino, 8);
	int64_t off = (int64_t)next_off;
	memcpy(p + 8, &off, 8);
	uint16_t rl = (uint16_t)reclen;
	memcpy(p + 16, &rl, 2);
	p[18] = (uint8_t)type;
	memcpy(p + 19, name, namelen);
	d->used += reclen;
	return true;
}

SYSCALL(getdents64)
{
	struct file *f = fget(t, (int)a[0]);
	size_t count = a[2];
	if (!f || (f->flags & O_PATH))
		return -EBADF;
	if (!S_ISDIR(f->inode->mode) || !f->ops || !f->ops->getdents)
		return -ENOTDIR;
	if (count > IO_CHUNK)
		count = IO_CHUNK;
	struct dirent64_sink s = {{dirent64_emit}, malloc(count ? count : 1), count, 0};
	if (!s.buf)
		return -ENOMEM;
	int err = f->ops->getdents(f, &s.base);
	long r = err < 0 ? err : (long)s.used;
	if (err == 0 && s.used == 0 && count < 280) {
		/* Nothing fitted: was there an entry at all? Linux says EINVAL if so. */
		struct dirent64_sink probe = {{dirent64_emit}, malloc(512), 512, 0};
		uint64_t saved = f->pos;
		if (probe.buf && f->ops->getdents(f, &probe.base) == 0 && probe.used)
			r = -EINVAL;
		f->pos = saved;
		free(probe.buf);
	}
	if (r > 0 && copy_to_user(t->tg->mm, a[1], s.buf, s.used) < 0)
		r = -EFAULT;
	free(s.buf);
	return r;
}

static long do_access(struct task *t, int dirfd, uint64_t upath, int mode, int flags)
{
	char path[PATH_MAX];
	struct dentry *start, *d;
	if (mode & ~7)
		return -EINVAL;
	if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	long err = copy_path(t, upath, path, flags & AT_EMPTY_PATH);
	if (err < 0)
		return err;
	if ((err = at_start(t, dirfd, path, &start)) < 0)
		return err;
	if (path[0] == 0) {
		if (!start && dirfd != AT_FDCWD)
			return -EBADF;
		d = start ? start : t->fs->cwd;
		dentry_get(d);
	} else if ((err = vfs_walk(t->fs, start, path,
				   (flags & AT_SYMLINK_NOFOLLOW) ? 0 : WALK_FOLLOW, &d)) < 0) {
		return err;
	}
	struct kstat st;
	err = stat_dentry(d, true, &st);
	bool ro = d->inode->sb->readonly && !S_ISCHR(st.mode);
	dentry_put(d);
	if (err < 0)
		return err;
	if (mode == F_OK)
		return 0;
	if ((mode & W_OK) && ro)
		return -EROFS;
	return permission(t, &st, mode, !(flags & AT_EACCESS));
}

SYSCALL(access)
{
	return do_access(t, AT_FDCWD, a[0], (int)a[1], 0);
}

SYSCALL(faccessat)
{
	return do_access(t, (int)a[0], a[1], (int)a[2], 0);
}

SYSCALL(faccessat2)
{
	return do_access(t, (int)a[0], a[1], (int)a[2], (int)a[3]);
}

SYSCALL(getcwd)
{
	char buf[PATH_MAX];
	struct fs_ctx *fs = t->fs;
	long n = dentry_path(fs->root, fs->cwd, buf, sizeof(buf));
	if (n < 0)
		return n;
	if ((size_t)n + 1 > a[1])
		return -ERANGE;
	if (copy_to_user(t->tg->mm, a[0], buf, (size_t)n + 1) < 0)
		return -EFAULT;
	return n + 1;
}

static long set_cwd(struct task *t, struct dentry *d)
{
	struct kstat st;
	int err = inode_getattr(d->inode, &st);
	if (err == 0 && !S_ISDIR(st.mode))
		err = -ENOTDIR;
	if (err == 0)
		err = permission(t, &st, 1, false);
	if (err < 0) {
		dentry_put(d);
		return err;
	}
	struct fs_ctx *fs = t->fs;
	dentry_put(fs->cwd);
	fs->cwd = d;
	return 0;
}

SYSCALL(chdir)
{
	char path[PATH_MAX];
	struct dentry *d;
	long err = copy_path(t, a[0], path, false);
	if (err < 0)
		return err;
	if ((err = vfs_walk(t->fs, NULL, path, WALK_FOLLOW | WALK_DIRECTORY, &d)) < 0)
		return err;
	return set_cwd(t, d);
}

SYSCALL(fchdir)
{
	struct file *f = fget(t, (int)a[0]);
	if (!f)
		return -EBADF;
	if (!f->dentry)
		return -ENOTDIR;
	dentry_get(f->dentry);
	return set_cwd(t, f->dentry);
}

static long do_mkdirat(struct task *t, int dirfd, uint64_t upath, uint32_t mode)
{
	char name[NAME_MAX + 1];
	struct dentry *dir, *d;
	long err = parent_and_name(t, dirfd, upath, &dir, name, NULL);
	if (err < 0)
		return err;
	err = vfs_create(dir, name, S_IFDIR | (mode & 07777 & ~t->fs->umask), NULL, &d);
	dentry_put(dir);
	if (err == 0)
		dentry_put(d);
	return err;
}

SYSCALL(mkdirat)
{
	return do_mkdirat(t, (int)a[0], a[1], (uint32_t)a[2]);
}

SYSCALL(mkdir)
{
	return do_mkdirat(t, AT_FDCWD, a[0], (uint32_t)a[1]);
}

static long do_unlinkat(struct task *t, int dirfd, uint64_t upath, int flags)
{
	char path[PATH_MAX];
	struct dentry *start, *dir;
	const char *last;
	if (flags & ~AT_REMOVEDIR)
		return -EINVAL;
	long err = copy_path(t, upath, path, false);
	if (err < 0)
		return err;
	if ((err = at_start(t, dirfd, path, &start)) < 0)
		return err;
	if ((err = vfs_walk_parent(t->fs, start, path, &dir, &last)) < 0)
		return err;
	char name[NAME_MAX + 1];
	size_t len = strcspn(last, "/");
	if (len > NAME_MAX)
		err = -ENAMETOOLONG;
	else if (strcmp(last, ".") == 0)
		err = (flags & AT_REMOVEDIR) ? -EINVAL : -EISDIR;
	else if (len == 0 || strcmp(last, "..") == 0)
		err = (flags & AT_REMOVEDIR) ? -ENOTEMPTY : -EISDIR;
	else if (last[len] == '/' && !(flags & AT_REMOVEDIR))
		err = -ENOTDIR;
	if (err == 0) {
		memcpy(name, last, len);
		name[len] = 0;
		err = vfs_unlink(dir, name, flags & AT_REMOVEDIR);
	}
	dentry_put(dir);
	return err;
}

SYSCALL(unlinkat)
{
	return do_unlinkat(t, (int)a[0], a[1], (int)a[2]);
}

SYSCALL(unlink)
{
	return do_unlinkat(t, AT_FDCWD, a[0], 0);
}

SYSCALL(rmdir)
{
	return do_unlinkat(t, AT_FDCWD, a[0], AT_REMOVEDIR);
}

static long do_symlinkat(struct task *t, uint64_t utarget, int dirfd, uint64_t upath)
{
	char target[PATH_MAX], name[NAME_MAX + 1];
	struct dentry *dir, *d;
	bool slash;
	long err = copy_path(t, utarget, target, false);
	if (err < 0)
		return err;
	if ((err = parent_and_name(t, dirfd, upath, &dir, name, &slash)) < 0)
		return err;
	if (slash || !strcmp(name, "."))
		err = -ENOENT;
	else
		err = vfs_create(dir, name, S_IFLNK | 0777, target, &d);
	dentry_put(dir);
	if (err == 0)
		dentry_put(d);
	return err;
}

SYSCALL(symlinkat)
{
	return do_symlinkat(t, a[0], (int)a[1], a[2]);
}

SYSCALL(symlink)
{
	return do_symlinkat(t, a[0], AT_FDCWD, a[1]);
}

SYSCALL(umask)
{
	uint32_t old = t->fs->umask;
	t->fs->umask = (uint32_t)a[0] & 0777;
	return old;
}

/* ---- fd manipulation ---- */

SYSCALL(dup)
{
	struct file *f = fget(t, (int)a[0]);
	if (!f)
		return -EBADF;
	return fdt_install(t->fdt, f, 0, false, fd_limit(t));
}

static long do_dup3(struct task *t, int oldfd, int newfd, int flags)
{
	struct file *f = fget(t, oldfd);
	if (!f)
		return -EBADF;
	if (flags & ~O_CLOEXEC)
		return -EINVAL;
	return fdt_install_at(t->fdt, newfd, f, flags & O_CLOEXEC, fd_limit(t));
}

SYSCALL(dup2)
{
	if ((int)a[0] == (int)a[1])
		return fget(t, (int)a[0]) ? (long)(int)a[1] : -EBADF;
	return do_dup3(t, (int)a[0], (int)a[1], 0);
}

SYSCALL(dup3)
{
	if ((int)a[0] == (int)a[1])
		return -EINVAL;
	return do_dup3(t, (int)a[0], (int)a[1], (int)a[2]);
}

/* fcntl record locks: struct flock's range from l_whence/l_start/l_len (0: to EOF,
 * negative: before l_start), owner the process (POSIX) or the open file (OFD). */
static long record_lock(struct task *t, struct file *f, int cmd, uint64_t uaddr)
{
	struct flock fl;
	if (copy_from_user(t->tg->mm, &fl, uaddr, sizeof(fl)) < 0)
		return -EFAULT;
	bool ofd = cmd == F_OFD_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW;
	if (ofd && fl.l_pid != 0)
		return -EINVAL;
	if (fl.l_type != F_RDLCK && fl.l_type != F_WRLCK && fl.l_type != F_UNLCK)
		return -EINVAL;
	int64_t base;
	switch (fl.l_whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = (int64_t)f->pos;
		break;
	case SEEK_END: {
		struct kstat st;
		inode_getattr(f->inode, &st);
		base = (int64_t)st.size;
		break;
	}
	default:
		return -EINVAL;
	}
	int64_t start = base + fl.l_start, end;
	if (fl.l_len > 0) {
		end = start + fl.l_len - 1;
	} else if (fl.l_len < 0) {
		end = start - 1;
		start += fl.l_len;
	} else {
		end = INT64_MAX;
	}
	if (start < 0 || end < start)
		return -EINVAL;
	uint64_t s = (uint64_t)start, e = end == INT64_MAX ? UINT64_MAX : (uint64_t)end;
	void *owner = ofd ? (void *)f : (void *)t->tg;
	int kind = ofd ? LOCK_KIND_OFD : LOCK_KIND_POSIX;
	if (cmd == F_GETLK || cmd == F_OFD_GETLK) {
		if (fl.l_type == F_UNLCK)
			return -EINVAL;
		short type;
		int pid;
		if (lock_test(f->inode, owner, kind, fl.l_type, &s, &e, &type, &pid)) {
			fl.l_type = type;
			fl.l_whence = SEEK_SET;
			fl.l_start = (off_t)s;
			fl.l_len = e == UINT64_MAX ? 0 : (off_t)(e - s + 1);
			fl.l_pid = pid;
		} else {
			fl.l_type = F_UNLCK;
		}
		return copy_to_user(t->tg->mm, uaddr, &fl, sizeof(fl));
	}
	int acc = f->flags & O_ACCMODE;
	if ((fl.l_type == F_RDLCK && acc == O_WRONLY) || (fl.l_type == F_WRLCK && acc == O_RDONLY))
		return -EBADF;
	bool wait = cmd == F_SETLKW || cmd == F_OFD_SETLKW;
	return lock_set(t, f->inode, owner, kind, fl.l_type, s, e, wait, ofd ? -1 : t->tg->tgid);
}

static long do_fsync(struct task *t, int fd, bool datasync)
{
	struct file *f = fget(t, fd);
	if (!f || (f->flags & O_PATH))
		return -EBADF;
	if (!f->ops)
		return -EINVAL;
	return f->ops->fsync ? f->ops->fsync(f, datasync) : 0;
}

SYSCALL(fsync)
{
	return do_fsync(t, (int)a[0], false);
}

SYSCALL(fdatasync)
{
	return do_fsync(t, (int)a[0], true);
}

/* sync/syncfs: every write already reached the host kernel through the gofer (there is no
 * write-back cache in the sentry); making it durable on disk is the host's business. */
SYSCALL(sync)
{
	(void)t;
	(void)a;
	return 0;
}

SYSCALL(syncfs)
{
	return fget(t, (int)a[0]) ? 0 : -EBADF;
}

SYSCALL(flock)
{
	struct file *f = fget(t, (int)a[0]);
	int op = (int)a[1];
	if (!f || (f->flags & O_PATH))
		return -EBADF;
	bool nb = op & LOCK_NB;
	op &= ~LOCK_NB;
	short type = op == LOCK_SH ? F_RDLCK : op == LOCK_EX ? F_WRLCK : op == LOCK_UN ? F_UNLCK : -1;
	if (type < 0)
		return -EINVAL;
	return lock_set(t, f->inode, f, LOCK_KIND_FLOCK, type, 0, UINT64_MAX, !nb, t->tg->tgid);
}

SYSCALL(fcntl)
{
	int fd = (int)a[0], cmd = (int)a[1];
	struct fd_table *fdt = t->fdt;
	struct file *f = fget(t, fd);
	if (!f)
		return -EBADF;
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		if ((int64_t)(int)a[2] < 0 || (int)a[2] >= fd_limit(t))
			return -EINVAL;
		return fdt_install(fdt, f, (int)a[2], cmd == F_DUPFD_CLOEXEC, fd_limit(t));
	case F_GETFD:
		return fdt->cloexec[fd] ? FD_CLOEXEC : 0;
	case F_SETFD:
		fdt->cloexec[fd] = (a[2] & FD_CLOEXEC) != 0;
		return 0;
	case F_GETFL:
		return f->flags | (S_ISREG(f->inode->mode) || S_ISDIR(f->inode->mode) ? O_LARGEFILE : 0);
	case F_SETFL: {
		int settable = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;
		if (f->flags & O_PATH)
			return -EBADF;
		f->flags = (f->flags & ~settable) | ((int)a[2] & settable);
		return 0;
	}
	case F_ADD_SEALS:
	case F_GET_SEALS:
		return tmpfs_seals(f, cmd == F_ADD_SEALS, (unsigned)a[2]);
	case F_GETPIPE_SZ:
		return pipe_fcntl_size(f, false, 0);
	case F_SETPIPE_SZ:
		return pipe_fcntl_size(f, true, a[2]);
	case F_GETLK:
	case F_SETLK:
	case F_SETLKW:
	case F_OFD_GETLK:
	case F_OFD_SETLK:
	case F_OFD_SETLKW:
		return record_lock(t, f, cmd, a[2]);
	default:
		return -EINVAL;
	}
}

SYSCALL(ioctl)
{
	struct file *f = fget(t, (int)a[0]);
	unsigned long cmd = a[1];
	if (!f)
		return -EBADF;
	if (f->flags & O_PATH)
		return -EBADF;
	switch (cmd) {
	case FIOCLEX:
		t->fdt->cloexec[(int)a[0]] = 1;
		return 0;
	case FIONCLEX:
		t->fdt->cloexec[(int)a[0]] = 0;
		return 0;
	case FIONBIO: {
		int on;
		if (copy_from_user(t->tg->mm, &on, a[2], sizeof(on)) < 0)
			return -EFAULT;
		f->flags = on ? (f->flags | O_NONBLOCK) : (f->flags & ~O_NONBLOCK);
		return 0;
	}
	}
	if (f->ops && f->ops->ioctl)
		return f->ops->ioctl(f, t, cmd, a[2]);
	return -ENOTTY;
}
