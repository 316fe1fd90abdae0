/* Helpers shared by the syscall handlers: fds, path arguments, *at() starting points. */
#include "sentry/syscalls/syscalls.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

struct file *fget(struct task *t, int fd)
{
	return fdt_get(t->tg->fdt, fd);
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
