/* /dev: the character devices every program expects, served by the sentry (the terminals
 * /dev/tty and /dev/ptmx by pty.c). */
#include "sentry/fs/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

enum dev_kind { DEV_DIR, DEV_NULL, DEV_ZERO, DEV_FULL, DEV_RANDOM, DEV_URANDOM, DEV_TTY, DEV_PTMX, DEV_LINK };

struct dev_entry {
	const char *name;
	enum dev_kind kind;
	unsigned major, minor;
	const char *target;
};

static const struct dev_entry dev_entries[] = {
	{"null", DEV_NULL, 1, 3, NULL},
	{"zero", DEV_ZERO, 1, 5, NULL},
	{"full", DEV_FULL, 1, 7, NULL},
	{"random", DEV_RANDOM, 1, 8, NULL},
	{"urandom", DEV_URANDOM, 1, 9, NULL},
	{"tty", DEV_TTY, 5, 0, NULL},
	{"ptmx", DEV_PTMX, 5, 2, NULL},
	{"fd", DEV_LINK, 0, 0, "/proc/self/fd"},
	{"stdin", DEV_LINK, 0, 0, "/proc/self/fd/0"},
	{"stdout", DEV_LINK, 0, 0, "/proc/self/fd/1"},
	{"stderr", DEV_LINK, 0, 0, "/proc/self/fd/2"},
};
#define NDEV (sizeof(dev_entries) / sizeof(dev_entries[0]))

static const struct inode_ops devfs_inode_ops;

static int devfs_lookup(struct inode *dir, const char *name, struct inode **out)
{
	for (size_t i = 0; i < NDEV; i++) {
		const struct dev_entry *e = &dev_entries[i];
		if (strcmp(e->name, name) != 0)
			continue;
		uint32_t mode = e->kind == DEV_LINK ? S_IFLNK | 0777 : S_IFCHR | 0666;
		struct inode *ino = inode_new(dir->sb, &devfs_inode_ops, mode, (void *)e);
		if (!ino)
			return -ENOMEM;
		ino->ino = 100 + i;
		*out = ino;
		return 0;
	}
	return -ENOENT;
}

static int devfs_getattr(struct inode *ino, struct kstat *st)
{
	const struct dev_entry *e = ino->priv;
	/* created when the sandbox booted */
	struct kernel *k = ino->sb->priv;
	uint64_t boot = realtime_ns() - (now_ns() - k->boot_ns);
	st->atime = st->mtime = st->ctime = (struct timespec){(time_t)(boot / 1000000000ull), (long)(boot % 1000000000ull)};
	if (e && e->kind != DEV_LINK)
		st->rdev = makedev(e->major, e->minor);
	if (e && e->kind == DEV_LINK)
		st->size = strlen(e->target);
	if (!e)
		st->nlink = 2;
	return 0;
}

static long devfs_readlink(struct inode *ino, char *buf, size_t sz)
{
	const struct dev_entry *e = ino->priv;
	if (!e || e->kind != DEV_LINK)
		return -EINVAL;
	size_t n = strlen(e->target);
	if (n > sz)
		n = sz;
	memcpy(buf, e->target, n);
	return (long)n;
}

static long dev_read(struct file *f, struct task *t, void *buf, size_t len, uint64_t *pos)
{
	(void)t;
	(void)pos;
	const struct dev_entry *e = f->inode->priv;
	switch (e->kind) {
	case DEV_NULL:
		return 0;
	case DEV_ZERO:
	case DEV_FULL:
		memset(buf, 0, len);
		return (long)len;
	case DEV_RANDOM:
	case DEV_URANDOM: {
		size_t done = 0;
		while (done < len) {
			ssize_t n = getrandom((char *)buf + done, len - done, 0);
			if (n < 0)
				return done ? (long)done : -errno;
			done += (size_t)n;
		}
		return (long)len;
	}
	default:
		return -EINVAL;
	}
}

static long dev_write(struct file *f, struct task *t, const void *buf, size_t len, uint64_t *pos)
{
	(void)t;
	(void)buf;
	(void)pos;
	const struct dev_entry *e = f->inode->priv;
	return e->kind == DEV_FULL ? -ENOSPC : (long)len;
}

static long dev_seek_end(struct file *f)
{
	(void)f;
	return 0;
}

/* Like Linux's null_lseek: the offset of these devices is always 0. */
static long dev_llseek(struct file *f, int64_t off, int whence)
{
	(void)off;
	if (whence < SEEK_SET || whence > SEEK_END)
		return -EINVAL;
	f->pos = 0;
	return 0;
}

static const struct file_ops dev_char_ops = {
	.read = dev_read,
	.write = dev_write,
	.seek_end = dev_seek_end,
	.llseek = dev_llseek,
};

static const struct file_ops dev_null_ops = {
	.read = dev_read,
	.write = dev_write,
	.llseek = dev_llseek,
	.discards_writes = true,
};

static int devfs_getdents(struct file *f, struct dirent_sink *sink)
{
	struct synthetic_dirent ents[NDEV + 2 + 8];
	size_t n = 0;
	ents[n++] = (struct synthetic_dirent){".", 1, DT_DIR};
	ents[n++] = (struct synthetic_dirent){"..", 1, DT_DIR};
	for (size_t i = 0; i < NDEV; i++)
		ents[n++] = (struct synthetic_dirent){dev_entries[i].name, 100 + i,
						      dev_entries[i].kind == DEV_LINK ? DT_LNK : DT_CHR};
	/* Filesystems mounted on /dev (shm) */
	for (struct dentry *c = f->dentry ? f->dentry->children : NULL; c && n < NDEV + 10; c = c->next_sibling)
		if (c->synthetic && c->inode)
			ents[n++] = (struct synthetic_dirent){c->name, c->inode->ino, DT_DIR};
	return getdents_from_array(f, sink, ents, n);
}

static const struct file_ops dev_dir_ops = {
	.getdents = devfs_getdents,
};

static int devfs_open(struct inode *ino, struct file *f)
{
	const struct dev_entry *e = ino->priv;
	struct kernel *k = ino->sb->priv;
	if (e && e->kind == DEV_PTMX)
		return pty_open_master(k, f);
	if (e && e->kind == DEV_TTY)
		return tty_open_controlling(k, f);
	f->ops = !e ? &dev_dir_ops : e->kind == DEV_NULL ? &dev_null_ops : &dev_char_ops;
	return 0;
}

static const struct inode_ops devfs_inode_ops = {
	.lookup = devfs_lookup,
	.readlink = devfs_readlink,
	.open = devfs_open,
	.getattr = devfs_getattr,
};

int devfs_new_root(struct kernel *k, struct dentry **out)
{
	struct superblock *sb = calloc(1, sizeof(*sb));
	if (!sb)
		return -ENOMEM;
	sb->fstype = "devtmpfs";
	sb->magic = 0x01021994;
	sb->dev = 5;
	sb->priv = k;
	/* Writable devices on a filesystem with no create: readonly stays false. */
	struct inode *ino = inode_new(sb, &devfs_inode_ops, S_IFDIR | 0755, NULL);
	if (!ino)
		return -ENOMEM;
	ino->ino = 1;
	*out = dentry_new_root(ino);
	return *out ? 0 : -ENOMEM;
}
