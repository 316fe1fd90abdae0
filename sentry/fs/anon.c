/* Anonymous files: eventfd, timerfd, signalfd and epoll instances have no path. Each gets
 * an inode of its own on a small pseudo filesystem ("anon_inodefs"), mode 0600 with no
 * file type, as fstat shows for Linux's anon inodes. */
#include "sentry/fs/fs.h"

#include <stdlib.h>

static struct superblock anon_sb = {.fstype = "anon_inodefs", .dev = 0xe, .magic = 0x09041934};

static const struct inode_ops anon_inode_ops = {0};

struct file *anon_file_new(const char *name, const struct file_ops *ops, int flags, void *priv)
{
	/* The inode's priv is the name ("[eventfd]"), for /proc/<pid>/fd links. */
	struct inode *ino = inode_new(&anon_sb, &anon_inode_ops, 0600, (void *)name);
	if (!ino)
		return NULL;
	struct file *f = file_new(NULL, ino, flags);
	inode_put(ino);
	if (!f)
		return NULL;
	f->ops = ops;
	f->priv = priv;
	return f;
}

const char *anon_file_name(struct file *f)
{
	if (!f || !f->inode || f->inode->sb != &anon_sb)
		return NULL;
	return f->inode->priv;
}

long anon_noop_llseek(struct file *f, int64_t off, int whence)
{
	(void)off;
	(void)whence;
	return (long)f->pos; /* Linux's noop_llseek: lseek "succeeds" and moves nothing */
}
