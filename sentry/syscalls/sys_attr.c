/* Changing files: chmod, chown (ownership is the sandbox's own), truncate, utimes, rename
 * and link. */
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/fsnotify.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>

/* The dentry a path (or an empty path with AT_EMPTY_PATH) names. */
static int resolve(struct task *t, int dirfd, uint64_t upath, int flags, struct dentry **out)
{
	char path[PATH_MAX];
	struct dentry *start;
	long err = copy_path(t, upath, path, flags & AT_EMPTY_PATH);
	if (err < 0)
		return (int)err;
	if (path[0] == 0) {
		if (dirfd == AT_FDCWD) {
			*out = t->fs->cwd;
		} else {
			struct file *f = fget(t, dirfd);
			if (!f)
				return -EBADF;
			if (!f->dentry)
				return -EBADF;
			*out = f->dentry;
		}
		dentry_get(*out);
		return 0;
	}
	if ((err = at_start(t, dirfd, path, &start)) < 0)
		return (int)err;
	return vfs_walk(t->fs, start, path, (flags & AT_SYMLINK_NOFOLLOW) ? 0 : WALK_FOLLOW, out);
}

/* What a change of attributes tells inotify, as Linux's fsnotify_change. */
static void notify_change(struct dentry *d, struct inode *ino, unsigned valid)
{
	if (!fsnotify_nwatches)
		return;
	uint32_t mask = 0;
	if (valid & (ATTR_UID | ATTR_GID | ATTR_MODE))
		mask |= IN_ATTRIB_;
	if (valid & ATTR_SIZE)
		mask |= IN_MODIFY_;
	if ((valid & (ATTR_ATIME | ATTR_MTIME)) == (ATTR_ATIME | ATTR_MTIME))
		mask |= IN_ATTRIB_;
	else if (valid & ATTR_ATIME)
		mask |= IN_ACCESS_;
	else if (valid & ATTR_MTIME)
		mask |= IN_MODIFY_;
	if (!mask)
		return;
	if (d)
		fsnotify_dentry(d, mask);
	else
		fsnotify_inode(ino, mask);
}

static int setattr_checked(struct task *t, struct inode *ino, struct iattr *a);

/* Changes the attributes of ino, which d names (NULL: only the inode is known). */
static int do_setattr(struct task *t, struct dentry *d, struct inode *ino, struct iattr *a)
{
	int err = setattr_checked(t, ino, a);
	if (err == 0)
		notify_change(d, ino, a->valid);
	return err;
}

static int setattr_checked(struct task *t, struct inode *ino, struct iattr *a)
{
	if (ino->sb->readonly)
		return -EROFS;
	if (!ino->ops->setattr)
		return -EPERM;
	struct kstat st;
	int err = inode_getattr(ino, &st);
	if (err < 0)
		return err;
	uint32_t uid = t->tg->cred.fsuid;
	bool owner = uid == 0 || uid == st.uid;
	if ((a->valid & ATTR_MODE) && !owner)
		return -EPERM;
	if ((a->valid & ATTR_UID) && a->uid != st.uid && uid != 0)
		return -EPERM;
	if ((a->valid & ATTR_GID) && a->gid != st.gid && !(uid == 0 || (owner && a->gid == t->tg->cred.fsgid)))
		return -EPERM;
	if (a->valid & ATTR_KILL_SUID && !S_ISDIR(st.mode) && !(a->valid & ATTR_MODE)) {
		/* chown, by root too, clears set-user-id and (with group execute) set-group-id */
		uint32_t m = st.mode & ~(uint32_t)S_ISUID;
		if (st.mode & S_IXGRP)
			m &= ~(uint32_t)S_ISGID;
		if (m != st.mode) {
			a->valid |= ATTR_MODE;
			a->mode = m;
		}
	}
	return ino->ops->setattr(ino, a);
}

static long chmod_at(struct task *t, int dirfd, uint64_t upath, uint32_t mode, int flags)
{
	struct dentry *d;
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	int err = resolve(t, dirfd, upath, flags, &d);
	if (err < 0)
		return err;
	if (S_ISLNK(d->inode->mode))
		err = -EOPNOTSUPP;
	else
		err = do_setattr(t, d, d->inode, &(struct iattr){.valid = ATTR_MODE, .mode = mode});
	dentry_put(d);
	return err;
}

SYSCALL(chmod) { return chmod_at(t, AT_FDCWD, a[0], (uint32_t)a[1], 0); }
SYSCALL(fchmodat) { return chmod_at(t, (int)a[0], a[1], (uint32_t)a[2], 0); }

SYSCALL(fchmod)
{
	struct file *f = fget(t, (int)a[0]);
	if (!f || (f->flags & O_PATH))
		return -EBADF;
	return do_setattr(t, f->dentry, f->inode, &(struct iattr){.valid = ATTR_MODE, .mode = (uint32_t)a[1]});
}

static long chown_inode(struct task *t, struct dentry *d, struct inode *ino, uint32_t uid, uint32_t gid)
{
	struct iattr at = {.valid = ATTR_KILL_SUID};
	if (uid != (uint32_t)-1) {
		at.valid |= ATTR_UID;
		at.uid = uid;
	}
	if (gid != (uint32_t)-1) {
		at.valid |= ATTR_GID;
		at.gid = gid;
	}
	return do_setattr(t, d, ino, &at);
}

static long chown_at(struct task *t, int dirfd, uint64_t upath, uint32_t uid, uint32_t gid, int flags)
{
	struct dentry *d;
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	int err = resolve(t, dirfd, upath, flags, &d);
	if (err < 0)
		return err;
	err = (int)chown_inode(t, d, d->inode, uid, gid);
	dentry_put(d);
	return err;
}

SYSCALL(chown) { return chown_at(t, AT_FDCWD, a[0], (uint32_t)a[1], (uint32_t)a[2], 0); }
SYSCALL(lchown) { return chown_at(t, AT_FDCWD, a[0], (uint32_t)a[1], (uint32_t)a[2], AT_SYMLINK_NOFOLLOW); }
SYSCALL(fchownat) { return chown_at(t, (int)a[0], a[1], (uint32_t)a[2], (uint32_t)a[3], (int)a[4]); }

SYSCALL(fchown)
{
	struct file *f = fget(t, (int)a[0]);
	if (!f || (f->flags & O_PATH))
		return -EBADF;
	return chown_inode(t, f->dentry, f->inode, (uint32_t)a[1], (uint32_t)a[2]);
}

static long truncate_inode(struct task *t, struct dentry *d, struct inode *ino, int64_t len)
{
	if (len < 0)
		return -EINVAL;
	if (S_ISDIR(ino->mode))
		return -EISDIR;
	if (!S_ISREG(ino->mode))
		return -EINVAL;
	if ((uint64_t)len > t->tg->rlim[RLIMIT_FSIZE].rlim_cur) {
		signal_send(t, SIGXFSZ, NULL, false);
		return -EFBIG;
	}
	return do_setattr(t, d, ino, &(struct iattr){.valid = ATTR_SIZE, .size = (uint64_t)len});
}

SYSCALL(truncate)
{
	struct dentry *d;
	int err = resolve(t, AT_FDCWD, a[0], 0, &d);
	if (err < 0)
		return err;
	struct kstat st;
	inode_getattr(d->inode, &st);
	uint32_t uid = t->tg->cred.fsuid;
	if (uid != 0 && !((st.uid == uid ? st.mode >> 6 : st.mode) & 2))
		err = -EACCES;
	else
		err = (int)truncate_inode(t, d, d->inode, (int64_t)a[1]);
	dentry_put(d);
	return err;
}

SYSCALL(ftruncate)
{
	struct file *f = fget(t, (int)a[0]);
	if (!f || (f->flags & O_PATH))
		return -EBADF;
	int acc = f->flags & O_ACCMODE;
	if (acc != O_WRONLY && acc != O_RDWR)
		return -EINVAL;
	return truncate_inode(t, f->dentry, f->inode, (int64_t)a[1]);
}

/* utimensat: times[0] is atime, times[1] mtime; UTIME_NOW and UTIME_OMIT as Linux. */
static long set_times(struct task *t, struct dentry *d, struct inode *ino, const struct timespec *ts)
{
	struct iattr at = {0};
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct timespec v[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
	if (ts) {
		v[0] = ts[0];
		v[1] = ts[1];
	}
	for (int i = 0; i < 2; i++) {
		if (v[i].tv_nsec == UTIME_OMIT)
			continue;
		if (v[i].tv_nsec != UTIME_NOW && (v[i].tv_nsec < 0 || v[i].tv_nsec >= 1000000000))
			return -EINVAL;
		at.valid |= i == 0 ? ATTR_ATIME : ATTR_MTIME;
		*(i == 0 ? &at.atime : &at.mtime) = v[i].tv_nsec == UTIME_NOW ? now : v[i];
	}
	if (!at.valid)
		return 0;
	if (ino->sb->readonly)
		return -EROFS;
	struct kstat st;
	inode_getattr(ino, &st);
	uint32_t uid = t->tg->cred.fsuid;
	if (ts && uid != 0 && uid != st.uid)
		return -EPERM; /* explicit times: owner only */
	if (!ino->ops->setattr)
		return -EPERM;
	int err = ino->ops->setattr(ino, &at);
	if (err == 0)
		notify_change(d, ino, at.valid);
	return err;
}

SYSCALL(utimensat)
{
	int dirfd = (int)a[0], flags = (int)a[3];
	struct timespec ts[2];
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	if (a[2] && copy_from_user(t->tg->mm, ts, a[2], sizeof(ts)) < 0)
		return -EFAULT;
	if (!a[1]) {
		/* futimens: the file itself */
		struct file *f = fget(t, dirfd);
		if (!f)
			return -EBADF;
		return set_times(t, f->dentry, f->inode, a[2] ? ts : NULL);
	}
	struct dentry *d;
	int err = resolve(t, dirfd, a[1], flags, &d);
	if (err < 0)
		return err;
	err = (int)set_times(t, d, d->inode, a[2] ? ts : NULL);
	dentry_put(d);
	return err;
}

static long utimes_at(struct task *t, int dirfd, uint64_t upath, uint64_t utv)
{
	struct timeval tv[2];
	struct timespec ts[2];
	if (utv) {
		if (copy_from_user(t->tg->mm, tv, utv, sizeof(tv)) < 0)
			return -EFAULT;
		for (int i = 0; i < 2; i++) {
			if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000)
				return -EINVAL;
			ts[i] = (struct timespec){tv[i].tv_sec, tv[i].tv_usec * 1000};
		}
	}
	struct dentry *d;
	int err = resolve(t, dirfd, upath, 0, &d);
	if (err < 0)
		return err;
	err = (int)set_times(t, d, d->inode, utv ? ts : NULL);
	dentry_put(d);
	return err;
}

SYSCALL(utimes) { return utimes_at(t, AT_FDCWD, a[0], a[1]); }
SYSCALL(futimesat) { return utimes_at(t, (int)a[0], a[1], a[2]); }

/* ---- rename and link ---- */

static long rename_at(struct task *t, int odfd, uint64_t opath, int ndfd, uint64_t npath, unsigned flags)
{
	char oname[NAME_MAX + 1], nname[NAME_MAX + 1];
	struct dentry *odir, *ndir;
	bool oslash, nslash;
	int err = parent_and_name(t, odfd, opath, &odir, oname, &oslash);
	if (err < 0)
		return err;
	if ((err = parent_and_name(t, ndfd, npath, &ndir, nname, &nslash)) < 0) {
		dentry_put(odir);
		return err;
	}
	/* A trailing slash names a directory: renaming a file that way is ENOTDIR. */
	if (oslash || nslash) {
		struct inode *src = NULL;
		if (odir->inode->ops->lookup && odir->inode->ops->lookup(odir->inode, oname, &src) == 0) {
			if (!S_ISDIR(src->mode))
				err = -ENOTDIR;
			inode_put(src);
		}
	}
	if (err == 0)
		err = vfs_rename(odir, oname, ndir, nname, flags);
	dentry_put(odir);
	dentry_put(ndir);
	return err;
}

SYSCALL(rename) { return rename_at(t, AT_FDCWD, a[0], AT_FDCWD, a[1], 0); }
SYSCALL(renameat) { return rename_at(t, (int)a[0], a[1], (int)a[2], a[3], 0); }
SYSCALL(renameat2) { return rename_at(t, (int)a[0], a[1], (int)a[2], a[3], (unsigned)a[4]); }

static long link_at(struct task *t, int odfd, uint64_t opath, int ndfd, uint64_t npath, int flags)
{
	char nname[NAME_MAX + 1];
	struct dentry *target, *ndir;
	if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	int err = resolve(t, odfd, opath, (flags & AT_EMPTY_PATH) | ((flags & AT_SYMLINK_FOLLOW) ? 0 : AT_SYMLINK_NOFOLLOW), &target);
	if (err < 0)
		return err;
	bool nslash;
	if ((err = parent_and_name(t, ndfd, npath, &ndir, nname, &nslash)) < 0) {
		dentry_put(target);
		return err;
	}
	if (nslash && !S_ISDIR(target->inode->mode)) {
		dentry_put(target);
		dentry_put(ndir);
		return -ENOENT;
	}
	if (!strcmp(nname, ".") || !strcmp(nname, ".."))
		err = -EEXIST;
	else
		err = vfs_link(target, ndir, nname);
	dentry_put(target);
	dentry_put(ndir);
	return err;
}

SYSCALL(link) { return link_at(t, AT_FDCWD, a[0], AT_FDCWD, a[1], 0); }
SYSCALL(linkat) { return link_at(t, (int)a[0], a[1], (int)a[2], a[3], (int)a[4]); }
