/* Inodes, dentries and open files: reference counting and the dentry cache. */
#include "sentry/vfs/vfs.h"
#include "sentry/vfs/fsnotify.h"
#include "sentry/vfs/lock.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct inode *inode_new(struct superblock *sb, const struct inode_ops *ops, uint32_t mode, void *priv)
{
	struct inode *ino = calloc(1, sizeof(*ino));
	if (!ino)
		return NULL;
	ino->refs = 1;
	ino->sb = sb;
	ino->ops = ops;
	ino->mode = mode;
	ino->priv = priv;
	ino->ino = ++sb->next_ino;
	return ino;
}

void inode_get(struct inode *ino)
{
	ino->refs++;
}

void inode_put(struct inode *ino)
{
	if (!ino || --ino->refs > 0)
		return;
	if (ino->ops->release)
		ino->ops->release(ino);
	free(ino);
}

int inode_getattr(struct inode *ino, struct kstat *st)
{
	memset(st, 0, sizeof(*st));
	st->ino = ino->ino;
	st->mode = ino->mode;
	st->nlink = 1;
	st->dev = ino->sb->dev;
	st->blksize = 4096;
	if (ino->ops->getattr)
		return ino->ops->getattr(ino, st);
	return 0;
}

struct dentry *dentry_new_root(struct inode *ino)
{
	struct dentry *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->refs = 1;
	d->name = strdup("/");
	d->parent = d;
	d->inode = ino;
	return d;
}

void dentry_get(struct dentry *d)
{
	d->refs++;
}

static void dentry_free(struct dentry *d)
{
	/* Only cached negative entries can be left below a removed directory. */
	struct dentry *c = d->children;
	while (c) {
		struct dentry *next = c->next_sibling;
		if (c->inode)
			inode_put(c->inode);
		free(c->name);
		free(c);
		c = next;
	}
	if (d->inode)
		inode_put(d->inode);
	free(d->name);
	free(d);
}

/* Dentries in the tree stay cached while their parent lives, whatever their count; an
 * unlinked one is freed when its last holder lets go. */
void dentry_put(struct dentry *d)
{
	if (!d || d->refs <= 0)
		return;
	if (--d->refs == 0 && d->deleted) {
		if (d->last_link)
			fsnotify_inode(d->inode, IN_DELETE_SELF_);
		struct dentry *parent = d->parent != d ? d->parent : NULL;
		dentry_free(d);
		dentry_put(parent); /* held since d was deleted */
	}
}

int vfs_mount(struct dentry *mountpoint, struct dentry *fsroot)
{
	if (!mountpoint->inode || !S_ISDIR(mountpoint->inode->mode))
		return -ENOTDIR;
	if (mountpoint->mounted)
		return -EBUSY;
	mountpoint->mounted = fsroot;
	fsroot->mountpoint = mountpoint;
	dentry_get(fsroot);
	return 0;
}

long dentry_path(struct dentry *root, struct dentry *d, char *buf, size_t sz)
{
	/* Build from the end of the buffer backwards. */
	char tmp[4096];
	size_t pos = sizeof(tmp);
	tmp[--pos] = 0;
	bool deleted = d->deleted;
	while (d != root) {
		if (d->mountpoint) {
			d = d->mountpoint;
			continue;
		}
		if (d->parent == d)
			break; /* the global root while outside the task's root */
		size_t n = strlen(d->name);
		if (n + 1 > pos)
			return -ENAMETOOLONG;
		pos -= n;
		memcpy(tmp + pos, d->name, n);
		tmp[--pos] = '/';
		d = d->parent;
	}
	if (pos == sizeof(tmp) - 1)
		tmp[--pos] = '/';
	size_t len = sizeof(tmp) - 1 - pos;
	const char *suffix = deleted ? " (deleted)" : "";
	size_t slen = strlen(suffix);
	if (len + slen + 1 > sz)
		return -ERANGE;
	memcpy(buf, tmp + pos, len);
	memcpy(buf + len, suffix, slen + 1);
	return (long)(len + slen);
}

struct file *file_new(struct dentry *d, struct inode *ino, int flags)
{
	struct file *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->refs = 1;
	f->dentry = d;
	if (d)
		dentry_get(d);
	f->inode = ino;
	if (ino)
		inode_get(ino);
	f->flags = flags;
	return f;
}

void file_get(struct file *f)
{
	f->refs++;
}

void file_put(struct file *f)
{
	if (!f)
		return;
	if (--f->refs > 0) {
		eventpoll_file_unref(f); /* epoll items may now hold its only references */
		return;
	}
	if (fsnotify_nwatches && !(f->flags & O_PATH)) {
		int acc = f->flags & O_ACCMODE;
		fsnotify_file(f, acc == O_WRONLY || acc == O_RDWR ? IN_CLOSE_WRITE_ : IN_CLOSE_NOWRITE_);
	}
	lock_release(f->inode, f); /* OFD and flock locks belong to the open file */
	if (f->ops && f->ops->release)
		f->ops->release(f);
	if (f->inode)
		inode_put(f->inode);
	if (f->dentry)
		dentry_put(f->dentry);
	free(f);
}

int vfs_open_dentry(struct dentry *d, int flags, struct file **out)
{
	struct inode *ino = d->inode;
	int acc = flags & O_ACCMODE;
	if (S_ISDIR(ino->mode) && acc != O_RDONLY)
		return -EISDIR;
	if ((flags & O_DIRECTORY) && !S_ISDIR(ino->mode))
		return -ENOTDIR;
	if (S_ISLNK(ino->mode))
		return -ELOOP;
	if (acc != O_RDONLY && ino->sb->readonly)
		return -EROFS;
	if (!ino->ops->open)
		return -ENXIO;
	/* The filesystem sees the open flags (O_TRUNC); the file keeps the lasting ones. */
	struct file *f = file_new(d, ino, flags);
	if (!f)
		return -ENOMEM;
	int err = ino->ops->open(ino, f);
	if (err < 0) {
		f->ops = NULL;
		file_put(f);
		return err;
	}
	f->flags &= ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC);
	*out = f;
	return 0;
}

int getdents_from_array(struct file *f, struct dirent_sink *sink,
			const struct synthetic_dirent *ents, size_t n)
{
	while (f->pos < n) {
		const struct synthetic_dirent *e = &ents[f->pos];
		if (!sink->emit(sink, e->name, e->ino, e->type, f->pos + 1))
			break;
		f->pos++;
	}
	return 0;
}

long read_from_buffer(const void *data, size_t size, void *buf, size_t len, uint64_t *pos)
{
	if (*pos >= size)
		return 0;
	size_t n = size - *pos < len ? size - *pos : len;
	memcpy(buf, (const char *)data + *pos, n);
	*pos += n;
	return (long)n;
}

/* ---- fs contexts ---- */

struct fs_ctx *fs_ctx_new(struct dentry *root, struct dentry *cwd)
{
	struct fs_ctx *fs = calloc(1, sizeof(*fs));
	if (!fs)
		return NULL;
	fs->refs = 1;
	fs->root = root;
	fs->cwd = cwd;
	fs->umask = 022;
	dentry_get(root);
	dentry_get(cwd);
	return fs;
}

struct fs_ctx *fs_ctx_clone(struct fs_ctx *src)
{
	struct fs_ctx *fs = fs_ctx_new(src->root, src->cwd);
	if (fs)
		fs->umask = src->umask;
	return fs;
}

void fs_ctx_put(struct fs_ctx *fs)
{
	if (!fs || --fs->refs > 0)
		return;
	dentry_put(fs->root);
	dentry_put(fs->cwd);
	free(fs);
}

/* ---- fd tables ---- */

struct fd_table *fdt_new(void)
{
	struct fd_table *t = calloc(1, sizeof(*t));
	if (t)
		t->refs = 1;
	return t;
}

static int fdt_grow(struct fd_table *t, int need)
{
	if (need < t->cap)
		return 0;
	int cap = t->cap ? t->cap : 64;
	while (cap <= need)
		cap *= 2;
	struct file **files = realloc(t->files, sizeof(*files) * (size_t)cap);
	if (!files)
		return -ENOMEM;
	t->files = files;
	uint8_t *ce = realloc(t->cloexec, (size_t)cap);
	if (!ce)
		return -ENOMEM;
	t->cloexec = ce;
	memset(t->files + t->cap, 0, sizeof(*files) * (size_t)(cap - t->cap));
	memset(t->cloexec + t->cap, 0, (size_t)(cap - t->cap));
	t->cap = cap;
	return 0;
}

struct fd_table *fdt_clone(struct fd_table *src)
{
	struct fd_table *t = fdt_new();
	if (!t)
		return NULL;
	if (fdt_grow(t, src->cap - 1) < 0) {
		fdt_put(t);
		return NULL;
	}
	for (int i = 0; i < src->cap; i++) {
		t->files[i] = src->files[i];
		t->cloexec[i] = src->cloexec[i];
		if (t->files[i])
			file_get(t->files[i]);
	}
	return t;
}

void fdt_put(struct fd_table *t)
{
	if (!t || --t->refs > 0)
		return;
	for (int i = 0; i < t->cap; i++)
		if (t->files[i])
			file_put(t->files[i]);
	free(t->files);
	free(t->cloexec);
	free(t);
}

int fdt_install(struct fd_table *t, struct file *f, int min, bool cloexec, int limit)
{
	for (int fd = min < 0 ? 0 : min; fd < limit; fd++) {
		if (fd >= t->cap && fdt_grow(t, fd) < 0)
			return -ENOMEM;
		if (!t->files[fd]) {
			t->files[fd] = f;
			t->cloexec[fd] = cloexec;
			file_get(f);
			return fd;
		}
	}
	return -EMFILE;
}

int fdt_install_at(struct fd_table *t, int fd, struct file *f, bool cloexec, int limit)
{
	if (fd < 0 || fd >= limit)
		return -EBADF;
	if (fdt_grow(t, fd) < 0)
		return -ENOMEM;
	struct file *old = t->files[fd];
	if (old && t->lock_owner && old->inode)
		lock_release(old->inode, t->lock_owner);
	file_get(f);
	t->files[fd] = f;
	t->cloexec[fd] = cloexec;
	if (old)
		file_put(old);
	return fd;
}

struct file *fdt_get(struct fd_table *t, int fd)
{
	if (fd < 0 || fd >= t->cap)
		return NULL;
	return t->files[fd];
}

int fdt_close(struct fd_table *t, int fd)
{
	struct file *f = fdt_get(t, fd);
	if (!f)
		return -EBADF;
	/* POSIX: closing any descriptor of a file drops all the process's locks on it. */
	if (t->lock_owner && f->inode)
		lock_release(f->inode, t->lock_owner);
	t->files[fd] = NULL;
	t->cloexec[fd] = 0;
	file_put(f);
	return 0;
}

void fdt_close_on_exec(struct fd_table *t)
{
	for (int i = 0; i < t->cap; i++)
		if (t->files[i] && t->cloexec[i])
			fdt_close(t, i);
}
