/* Extended attributes: the checks of Linux's fs/xattr.c (name and size limits, the
 * namespaces' permission rules), then the filesystem's ops. tmpfs (and so the overlay's
 * upper layer) keeps them in memory; a filesystem without the ops gives EOPNOTSUPP. */
#include "sentry/syscalls/syscalls.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#define XATTR_NAME_MAX_ 255
#define XATTR_SIZE_MAX_ 65536
#define XATTR_LIST_MAX_ 65536

enum { MAY_READ_ = 4, MAY_WRITE_ = 2 };

static bool has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static long copy_name(struct task *t, uint64_t uname, char *name)
{
	long n = strncpy_from_user(t->tg->mm, name, uname, XATTR_NAME_MAX_ + 1);
	if (n == -ENAMETOOLONG || n == 0)
		return -ERANGE;
	return n < 0 ? n : 0;
}

static bool sys_admin(struct task *t)
{
	return t->tg->cred.euid == 0;
}

/* Linux's xattr_permission. */
static int xattr_permission(struct task *t, struct inode *ino, const char *name, int mask)
{
	struct kstat st;
	int err = inode_getattr(ino, &st);
	if (err < 0)
		return err;
	if (has_prefix(name, "security.") || has_prefix(name, "system."))
		return 0;
	if (has_prefix(name, "trusted."))
		return sys_admin(t) ? 0 : (mask & MAY_WRITE_) ? -EPERM : -ENODATA;
	if (has_prefix(name, "user.")) {
		if (!S_ISREG(st.mode) && !S_ISDIR(st.mode))
			return (mask & MAY_WRITE_) ? -EPERM : -ENODATA;
		if (S_ISDIR(st.mode) && (st.mode & S_ISVTX) && (mask & MAY_WRITE_) &&
		    t->tg->cred.fsuid != st.uid && t->tg->cred.fsuid != 0)
			return -EPERM;
	}
	uint32_t uid = t->tg->cred.fsuid;
	if (uid == 0)
		return 0;
	uint32_t bits = st.uid == uid ? (st.mode >> 6) & 7 : st.gid == t->tg->cred.fsgid ? (st.mode >> 3) & 7 : st.mode & 7;
	return (bits & (uint32_t)mask) == (uint32_t)mask ? 0 : -EACCES;
}

/* The namespaces Linux knows; "user." with nothing after it is EINVAL. */
static int name_check(const char *name)
{
	static const char *const prefixes[] = {"user.", "trusted.", "security.", "system."};
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (has_prefix(name, prefixes[i]))
			return name[strlen(prefixes[i])] ? 0 : -EINVAL;
	return -EOPNOTSUPP;
}

/* The inode a path or fd names, with a reference (dentry or file) to drop after. */
struct target {
	struct dentry *d;
	struct inode *ino;
};

static int target_path(struct task *t, uint64_t upath, bool follow, struct target *out)
{
	char path[PATH_MAX];
	long err = copy_path(t, upath, path, false);
	if (err < 0)
		return (int)err;
	if ((err = vfs_walk(t->fs, NULL, path, follow ? WALK_FOLLOW : 0, &out->d)) < 0)
		return (int)err;
	out->ino = out->d->inode;
	return 0;
}

static int target_fd(struct task *t, int fd, struct target *out)
{
	struct file *f = fget(t, fd);
	if (!f || (f->flags & O_PATH))
		return -EBADF;
	out->d = NULL;
	out->ino = f->dentry && f->dentry->inode ? f->dentry->inode : f->inode;
	return 0;
}

static long do_get(struct task *t, struct target *tg, const char *name, uint64_t uval, size_t size)
{
	struct inode *ino = tg->ino;
	long err = xattr_permission(t, ino, name, MAY_READ_);
	if (err == 0 && (err = name_check(name)) == 0 && !ino->ops->getxattr)
		err = -EOPNOTSUPP;
	if (err < 0)
		return err;
	if (size > XATTR_SIZE_MAX_)
		size = XATTR_SIZE_MAX_;
	void *buf = size ? malloc(size) : NULL;
	if (size && !buf)
		return -ENOMEM;
	long n = ino->ops->getxattr(ino, name, buf, size);
	if (n > 0 && size && copy_to_user(t->tg->mm, uval, buf, (size_t)n) < 0)
		n = -EFAULT;
	free(buf);
	return n;
}

static long do_set(struct task *t, struct target *tg, const char *name, uint64_t uval, size_t size,
		   int flags)
{
	struct inode *ino = tg->ino;
	if (ino->sb->readonly)
		return -EROFS;
	long err = xattr_permission(t, ino, name, MAY_WRITE_);
	if (err == 0 && (err = name_check(name)) == 0 && !ino->ops->setxattr)
		err = -EOPNOTSUPP;
	if (err < 0)
		return err;
	void *buf = malloc(size ? size : 1);
	if (!buf)
		return -ENOMEM;
	err = size && copy_from_user(t->tg->mm, buf, uval, size) < 0 ? -EFAULT : 0;
	if (err == 0)
		err = ino->ops->setxattr(ino, name, buf, size, flags);
	free(buf);
	return err;
}

static long do_list(struct task *t, struct target *tg, uint64_t ubuf, size_t size)
{
	struct inode *ino = tg->ino;
	if (!ino->ops->listxattr)
		return 0; /* nothing to list (Linux lists none either without xattr handlers) */
	if (size > XATTR_LIST_MAX_)
		size = XATTR_LIST_MAX_;
	/* The whole list, then without trusted.* for the unprivileged (as simple_xattr_list). */
	long total = ino->ops->listxattr(ino, NULL, 0);
	if (total <= 0)
		return total;
	char *all = malloc((size_t)total), *out = malloc((size_t)total);
	long n = all && out ? ino->ops->listxattr(ino, all, (size_t)total) : -ENOMEM;
	size_t used = 0;
	for (long i = 0; n > 0 && i < n;) {
		size_t len = strlen(all + i) + 1;
		if (!has_prefix(all + i, "trusted.") || sys_admin(t)) {
			memcpy(out + used, all + i, len);
			used += len;
		}
		i += (long)len;
	}
	if (n >= 0) {
		if (size && used > size)
			n = -ERANGE;
		else if (size && copy_to_user(t->tg->mm, ubuf, out, used) < 0)
			n = -EFAULT;
		else
			n = (long)used;
	}
	free(all);
	free(out);
	return n;
}

static long do_remove(struct task *t, struct target *tg, const char *name)
{
	struct inode *ino = tg->ino;
	if (ino->sb->readonly)
		return -EROFS;
	long err = xattr_permission(t, ino, name, MAY_WRITE_);
	if (err == 0 && (err = name_check(name)) == 0 && !ino->ops->removexattr)
		err = -EOPNOTSUPP;
	return err < 0 ? err : ino->ops->removexattr(ino, name);
}

enum xop { XGET, XSET, XLIST, XREMOVE };

/* One entry for the twelve calls: how the target is named (path, lpath, fd) and the op.
 * As Linux, the name and value are checked and copied before the path is walked. */
static long xattr_call(struct task *t, enum xop op, int how, const uint64_t a[6])
{
	char name[XATTR_NAME_MAX_ + 1];
	long err;
	if (op == XSET && (a[4] & ~(uint64_t)(XATTR_CREATE | XATTR_REPLACE)))
		return -EINVAL;
	if (op != XLIST && (err = copy_name(t, a[1], name)) < 0)
		return err;
	if (op == XSET && a[3] > XATTR_SIZE_MAX_)
		return -E2BIG;
	struct target tg;
	err = how == 2 ? target_fd(t, (int)a[0], &tg) : target_path(t, a[0], how == 0, &tg);
	if (err < 0)
		return err;
	switch (op) {
	case XGET:
		err = do_get(t, &tg, name, a[2], a[3]);
		break;
	case XSET:
		err = do_set(t, &tg, name, a[2], a[3], (int)a[4]);
		break;
	case XLIST:
		err = do_list(t, &tg, a[1], a[2]);
		break;
	case XREMOVE:
		err = do_remove(t, &tg, name);
		break;
	}
	dentry_put(tg.d);
	return err;
}

SYSCALL(getxattr) { return xattr_call(t, XGET, 0, a); }
SYSCALL(lgetxattr) { return xattr_call(t, XGET, 1, a); }
SYSCALL(fgetxattr) { return xattr_call(t, XGET, 2, a); }
SYSCALL(setxattr) { return xattr_call(t, XSET, 0, a); }
SYSCALL(lsetxattr) { return xattr_call(t, XSET, 1, a); }
SYSCALL(fsetxattr) { return xattr_call(t, XSET, 2, a); }
SYSCALL(listxattr) { return xattr_call(t, XLIST, 0, a); }
SYSCALL(llistxattr) { return xattr_call(t, XLIST, 1, a); }
SYSCALL(flistxattr) { return xattr_call(t, XLIST, 2, a); }
SYSCALL(removexattr) { return xattr_call(t, XREMOVE, 0, a); }
SYSCALL(lremovexattr) { return xattr_call(t, XREMOVE, 1, a); }
SYSCALL(fremovexattr) { return xattr_call(t, XREMOVE, 2, a); }
