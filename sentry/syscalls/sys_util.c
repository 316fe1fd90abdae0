/* Helpers shared by the syscall handlers: fds, path arguments, *at() starting points. */
#include "sentry/syscalls/syscalls.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

struct file *fget(struct task *t, int fd)
{
	return fdt_get(t->fdt, fd);
}

long copy_path(struct task *t, uint64_t uaddr, char *buf, bool allow_empty)
{
	long n = strncpy_from_user(t->tg->mm, buf, uaddr, PATH_MAX);
	if (n < 0)
		return n;
	if (n == 0 && !allow_empty)
		return -ENOENT;
	return n;
}

int at_start(struct task *t, int dirfd, const char *path, struct dentry **out)
{
	*out = NULL;
	if (path[0] == '/' || dirfd == AT_FDCWD)
		return 0;
	struct file *f = fget(t, dirfd);
	if (!f)
		return -EBADF;
	if (!f->dentry || !f->inode || !S_ISDIR(f->inode->mode))
		return -ENOTDIR;
	*out = f->dentry;
	return 0;
}

int fd_limit(struct task *t)
{
	rlim_t cur = t->tg->rlim[RLIMIT_NOFILE].rlim_cur;
	return cur > 1048576 ? 1048576 : (int)cur;
}

/* The parent directory and final name of a path argument. */
int parent_and_name(struct task *t, int dirfd, uint64_t upath, struct dentry **dir, char *name,
			   bool *trailing_slash)
{
	char path[PATH_MAX];
	struct dentry *start;
	const char *last;
	long err = copy_path(t, upath, path, false);
	if (err < 0)
		return (int)err;
	if ((err = at_start(t, dirfd, path, &start)) < 0)
		return (int)err;
	if ((err = vfs_walk_parent(t->fs, start, path, dir, &last)) < 0)
		return (int)err;
	size_t len = strcspn(last, "/");
	if (len > NAME_MAX) {
		dentry_put(*dir);
		return -ENAMETOOLONG;
	}
	memcpy(name, last, len);
	name[len] = 0;
	if (trailing_slash)
		*trailing_slash = last[len] == '/';
	if (len == 0) {
		/* "/" or "dir/": the name is the directory itself */
		strcpy(name, ".");
	}
	return 0;
}
