/* tmpfs: directories, regular files and symlinks held in sentry memory. */
#include "sentry/fs/fs.h"
#include "sentry/mm/file_data.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

struct tmpfs_entry {
	char *name;
	struct inode *ino;
	struct tmpfs_entry *next;
};

struct tmpfs_node {
	struct timespec atime, mtime, ctime;
	uint32_t uid, gid;
	uint64_t nlink;
	/* directory */
	struct tmpfs_entry *entries;
	uint64_t nentries;
	/* regular file: contents in the memory file */
	struct file_data data;
	/* symlink */
	char *target;
};

static const struct inode_ops tmpfs_inode_ops;

static struct timespec now_realtime(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts;
}

static struct inode *tmpfs_inode_new(struct superblock *sb, uint32_t mode)
{
	struct tmpfs_node *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->atime = n->mtime = n->ctime = now_realtime();
	n->nlink = S_ISDIR(mode) ? 2 : 1;
	/* Owned by whoever creates it; the mount's root by the sandbox's first user. */
	struct kernel *k = sb->priv;
	file_data_init(&n->data, &k->mf);
	struct task *cur = k ? k->current : NULL;
	n->uid = cur ? cur->tg->cred.fsuid : (uint32_t)getuid();
	n->gid = cur ? cur->tg->cred.fsgid : (uint32_t)getgid();
	struct inode *ino = inode_new(sb, &tmpfs_inode_ops, mode, n);
	if (!ino)
		free(n);
	return ino;
}

static int tmpfs_lookup(struct inode *dir, const char *name, struct inode **out)
{
	struct tmpfs_node *d = dir->priv;
	for (struct tmpfs_entry *e = d->entries; e; e = e->next) {
		if (strcmp(e->name, name) == 0) {
			inode_get(e->ino);
			*out = e->ino;
			return 0;
		}
	}
	return -ENOENT;
}

static int tmpfs_getattr(struct inode *ino, struct kstat *st)
{
	struct tmpfs_node *n = ino->priv;
	st->nlink = n->nlink;
	st->uid = n->uid;
	st->gid = n->gid;
	st->atime = n->atime;
	st->mtime = n->mtime;
	st->ctime = n->ctime;
	if (S_ISREG(ino->mode))
		st->size = n->data.size;
	else if (S_ISLNK(ino->mode))
		st->size = strlen(n->target);
	else if (S_ISDIR(ino->mode))
		st->size = 40 + 20 * n->nentries;
	st->blocks = (st->size + 511) / 512;
	return 0;
}

static long tmpfs_readlink(struct inode *ino, char *buf, size_t sz)
{
	struct tmpfs_node *n = ino->priv;
	if (!S_ISLNK(ino->mode))
		return -EINVAL;
	size_t len = strlen(n->target);
	if (len > sz)
		len = sz;
	memcpy(buf, n->target, len);
	return (long)len;
}

static void tmpfs_release(struct inode *ino)
{
	struct tmpfs_node *n = ino->priv;
	struct tmpfs_entry *e = n->entries;
	while (e) {
		struct tmpfs_entry *next = e->next;
		inode_put(e->ino);
		free(e->name);
		free(e);
		e = next;
	}
	file_data_release(&n->data);
	free(n->target);
	free(n);
}

static long tmpfs_read(struct file *f, struct task *t, void *buf, size_t len, uint64_t *pos)
{
	(void)t;
	struct tmpfs_node *n = f->inode->priv;
	n->atime = now_realtime();
	long r = file_data_read(&n->data, buf, len, *pos);
	if (r > 0)
		*pos += (uint64_t)r;
	return r;
}

static int tmpfs_resize(struct tmpfs_node *n, uint64_t size)
{
	return file_data_resize(&n->data, size);
}

static long tmpfs_write(struct file *f, struct task *t, const void *buf, size_t len, uint64_t *pos)
{
	(void)t;
	struct tmpfs_node *n = f->inode->priv;
	if (f->flags & O_APPEND)
		*pos = n->data.size;
	long r = file_data_write(&n->data, buf, len, *pos);
	if (r < 0)
		return r;
	*pos += (uint64_t)r;
	n->mtime = n->ctime = now_realtime();
	return r;
}

static int tmpfs_getdents(struct file *f, struct dirent_sink *sink)
{
	struct tmpfs_node *d = f->inode->priv;
	uint64_t idx = 0;
	if (f->pos == 0) {
		if (!sink->emit(sink, ".", f->inode->ino, DT_DIR, 1))
			return 0;
		f->pos = 1;
	}
	if (f->pos == 1) {
		uint64_t pino = f->inode->ino;
		if (f->dentry && f->dentry->parent && f->dentry->parent->inode)
			pino = f->dentry->parent->inode->ino;
		if (!sink->emit(sink, "..", pino, DT_DIR, 2))
			return 0;
		f->pos = 2;
	}
	for (struct tmpfs_entry *e = d->entries; e; e = e->next, idx++) {
		if (idx + 2 < f->pos)
			continue;
		if (!sink->emit(sink, e->name, e->ino->ino, (e->ino->mode >> 12) & 15, f->pos + 1))
			return 0;
		f->pos++;
	}
	return 0;
}

static long tmpfs_seek_end(struct file *f)
{
	return (long)((struct tmpfs_node *)f->inode->priv)->data.size;
}

static struct file_data *tmpfs_shared_data(struct file *f)
{
	return &((struct tmpfs_node *)f->inode->priv)->data;
}

static const struct file_ops tmpfs_file_ops = {
	.read = tmpfs_read,
	.write = tmpfs_write,
	.seek_end = tmpfs_seek_end,
	.shared_data = tmpfs_shared_data,
};

static const struct file_ops tmpfs_dir_ops = {
	.getdents = tmpfs_getdents,
};

static int tmpfs_open(struct inode *ino, struct file *f)
{
	if (S_ISDIR(ino->mode)) {
		f->ops = &tmpfs_dir_ops;
		return 0;
	}
	f->ops = &tmpfs_file_ops;
	if (f->flags & O_TRUNC) /* Linux truncates even with O_RDONLY */
		tmpfs_resize(ino->priv, 0);
	return 0;
}

static int tmpfs_add(struct inode *dir, const char *name, struct inode *ino)
{
	struct tmpfs_node *d = dir->priv;
	struct tmpfs_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOSPC;
	e->name = strdup(name);
	if (!e->name) {
		free(e);
		return -ENOSPC;
	}
	e->ino = ino;
	/* Appended, so directory order is creation order as on Linux's tmpfs readdir. */
	struct tmpfs_entry **pp = &d->entries;
	while (*pp)
		pp = &(*pp)->next;
	*pp = e;
	d->nentries++;
	if (S_ISDIR(ino->mode))
		d->nlink++;
	d->mtime = d->ctime = now_realtime();
	return 0;
}

static int tmpfs_create(struct inode *dir, const char *name, uint32_t mode, struct inode **out)
{
	struct inode *ino = tmpfs_inode_new(dir->sb, mode);
	if (!ino)
		return -ENOSPC;
	int err = tmpfs_add(dir, name, ino);
	if (err < 0) {
		inode_put(ino);
		return err;
	}
	inode_get(ino);
	*out = ino;
	return 0;
}

static int tmpfs_symlink(struct inode *dir, const char *name, const char *target, struct inode **out)
{
	struct inode *ino = tmpfs_inode_new(dir->sb, S_IFLNK | 0777);
	if (!ino)
		return -ENOSPC;
	struct tmpfs_node *n = ino->priv;
	n->target = strdup(target);
	int err = n->target ? tmpfs_add(dir, name, ino) : -ENOSPC;
	if (err < 0) {
		inode_put(ino);
		return err;
	}
	inode_get(ino);
	*out = ino;
	return 0;
}

static int tmpfs_unlink(struct inode *dir, const char *name, struct inode *victim, bool is_dir)
{
	struct tmpfs_node *d = dir->priv;
	if (is_dir) {
		struct tmpfs_node *v = victim->priv;
		if (v->entries)
			return -ENOTEMPTY;
	}
	for (struct tmpfs_entry **pp = &d->entries; *pp; pp = &(*pp)->next) {
		struct tmpfs_entry *e = *pp;
		if (strcmp(e->name, name) != 0)
			continue;
		*pp = e->next;
		d->nentries--;
		if (is_dir)
			d->nlink--;
		((struct tmpfs_node *)e->ino->priv)->nlink -= is_dir ? 2 : 1;
		d->mtime = d->ctime = now_realtime();
		inode_put(e->ino);
		free(e->name);
		free(e);
		return 0;
	}
	return -ENOENT;
}

static int tmpfs_setattr(struct inode *ino, const struct iattr *a)
{
	struct tmpfs_node *n = ino->priv;
	struct timespec now = now_realtime();
	if (a->valid & ATTR_SIZE) {
		if (!S_ISREG(ino->mode))
			return -EINVAL;
		int err = tmpfs_resize(n, a->size);
		if (err < 0)
			return err;
		n->mtime = now;
	}
	if (a->valid & ATTR_MODE)
		ino->mode = (ino->mode & S_IFMT) | (a->mode & 07777);
	if (a->valid & ATTR_UID)
		n->uid = a->uid;
	if (a->valid & ATTR_GID)
		n->gid = a->gid;
	if (a->valid & ATTR_ATIME)
		n->atime = a->atime;
	if (a->valid & ATTR_MTIME)
		n->mtime = a->mtime;
	n->ctime = now;
	return 0;
}

static struct tmpfs_entry **find_entry(struct tmpfs_node *d, const char *name)
{
	for (struct tmpfs_entry **pp = &d->entries; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->name, name) == 0)
			return pp;
	return NULL;
}

static int tmpfs_rename(struct inode *odir, const char *oname, struct inode *ndir, const char *nname,
			unsigned flags)
{
	struct tmpfs_node *od = odir->priv, *nd = ndir->priv;
	struct tmpfs_entry **op = find_entry(od, oname);
	if (!op)
		return -ENOENT;
	struct tmpfs_entry **np = find_entry(nd, nname);
	struct tmpfs_entry *oe = *op;
	bool odir_is_dir = S_ISDIR(oe->ino->mode);
	if (flags & RENAME_EXCHANGE) {
		if (!np)
			return -ENOENT;
		struct inode *tmp = oe->ino;
		bool ndir_is_dir = S_ISDIR((*np)->ino->mode);
		oe->ino = (*np)->ino;
		(*np)->ino = tmp;
		if (odir != ndir && odir_is_dir != ndir_is_dir) {
			od->nlink += ndir_is_dir ? 1 : -1;
			nd->nlink += odir_is_dir ? 1 : -1;
		}
		od->mtime = od->ctime = nd->mtime = nd->ctime = now_realtime();
		return 0;
	}
	if (np && *np == oe)
		return 0;
	if (np) {
		struct tmpfs_entry *victim = *np;
		if (S_ISDIR(victim->ino->mode)) {
			if (((struct tmpfs_node *)victim->ino->priv)->entries)
				return -ENOTEMPTY;
			nd->nlink--;
		}
		((struct tmpfs_node *)victim->ino->priv)->nlink -= S_ISDIR(victim->ino->mode) ? 2 : 1;
		*np = victim->next;
		nd->nentries--;
		inode_put(victim->ino);
		free(victim->name);
		free(victim);
		op = find_entry(od, oname); /* the list may have changed under op */
	}
	char *newname = strdup(nname);
	if (!newname)
		return -ENOSPC;
	*op = oe->next;
	od->nentries--;
	free(oe->name);
	oe->name = newname;
	oe->next = NULL;
	struct tmpfs_entry **tail = &nd->entries;
	while (*tail)
		tail = &(*tail)->next;
	*tail = oe;
	nd->nentries++;
	if (odir_is_dir && odir != ndir) {
		od->nlink--;
		nd->nlink++;
	}
	od->mtime = od->ctime = nd->mtime = nd->ctime = now_realtime();
	((struct tmpfs_node *)oe->ino->priv)->ctime = od->ctime;
	return 0;
}

static int tmpfs_link(struct inode *dir, const char *name, struct inode *target)
{
	if (target->ops != &tmpfs_inode_ops)
		return -EXDEV;
	inode_get(target);
	int err = tmpfs_add(dir, name, target);
	if (err < 0) {
		inode_put(target);
		return err;
	}
	struct tmpfs_node *n = target->priv;
	n->nlink++;
	n->ctime = now_realtime();
	return 0;
}

static const struct inode_ops tmpfs_inode_ops = {
	.lookup = tmpfs_lookup,
	.readlink = tmpfs_readlink,
	.open = tmpfs_open,
	.getattr = tmpfs_getattr,
	.release = tmpfs_release,
	.create = tmpfs_create,
	.unlink = tmpfs_unlink,
	.symlink = tmpfs_symlink,
	.setattr = tmpfs_setattr,
	.rename = tmpfs_rename,
	.link = tmpfs_link,
};

int tmpfs_new_root(struct kernel *k, uint32_t mode, struct dentry **out)
{
	struct superblock *sb = calloc(1, sizeof(*sb));
	if (!sb)
		return -ENOMEM;
	sb->fstype = "tmpfs";
	sb->magic = 0x01021994;
	sb->dev = 0x30 + (uint64_t)k->ntmpfs++;
	sb->priv = k;
	struct inode *ino = tmpfs_inode_new(sb, S_IFDIR | mode);
	if (!ino)
		return -ENOMEM;
	*out = dentry_new_root(ino);
	return *out ? 0 : -ENOMEM;
}
