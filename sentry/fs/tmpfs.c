/* tmpfs: directories, regular files and symlinks held in sentry memory. Regular files
 * charge the pages that hold data to the sandbox's --tmpfs-size budget (shared by every
 * tmpfs, the overlay's upper layer and memfd): past it, ENOSPC. Files also keep memfd
 * seals and in-memory extended attributes (tmpfs_xattr.c). */
#include "sentry/fs/fs.h"
#include "sentry/fs/page_ranges.h"
#include "sentry/fs/tmpfs_xattr.h"
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
	struct page_ranges pages; /* the pages charged to the sandbox's budget */
	uint64_t charged;         /* their total, bytes */
	unsigned seals;           /* F_SEAL_* (memfd) */
	bool linkable;            /* made by O_TMPFILE without O_EXCL: linkat may name it */
	bool mapped_shared;       /* has been mapped MAP_SHARED (F_SEAL_WRITE: EBUSY) */
	/* symlink */
	char *target;
	struct tmpfs_xattrs xattrs;
};

#define F_SEAL_EXEC_ 0x0020 /* newer than some libc headers */
#define PAGE_SIZE_ 4096ULL
#define PAGE_DOWN_(x) ((x) & ~(PAGE_SIZE_ - 1))
#define PAGE_UP_(x) (((x) + PAGE_SIZE_ - 1) & ~(PAGE_SIZE_ - 1))

static struct kernel *node_kernel(struct inode *ino)
{
	return ino->sb->priv;
}

/* Bytes the budget still has (the limit 0 means none was set: unlimited). */
static uint64_t budget_left(struct kernel *k)
{
	if (!k->shmem_limit)
		return UINT64_MAX;
	return k->shmem_limit > k->shmem_used ? k->shmem_limit - k->shmem_used : 0;
}

static void charge(struct inode *ino, uint64_t start, uint64_t end)
{
	struct tmpfs_node *n = ino->priv;
	int64_t added = page_ranges_add(&n->pages, PAGE_DOWN_(start), PAGE_UP_(end));
	if (added > 0) {
		n->charged += (uint64_t)added;
		node_kernel(ino)->shmem_used += (uint64_t)added;
	}
}

static int uncharge(struct inode *ino, uint64_t start, uint64_t end)
{
	struct tmpfs_node *n = ino->priv;
	int64_t removed = page_ranges_remove(&n->pages, start, end);
	if (removed < 0)
		return (int)removed;
	n->charged -= (uint64_t)removed;
	node_kernel(ino)->shmem_used -= (uint64_t)removed;
	return 0;
}

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
	n->seals = F_SEAL_SEAL; /* only memfd_create(MFD_ALLOW_SEALING) lifts it */
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
	/* As Linux's tmpfs: the pages that hold data, so a sparse file has few blocks. */
	st->blocks = S_ISREG(ino->mode) ? n->charged / 512 : (st->size + 511) / 512;
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
	uncharge(ino, 0, UINT64_MAX);
	page_ranges_free(&n->pages);
	file_data_release(&n->data);
	node_kernel(ino)->shmem_used -= tmpfs_xattrs_bytes(&n->xattrs);
	tmpfs_xattrs_free(&n->xattrs);
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

/* A new size (truncate): growing makes a hole, which costs nothing until written;
 * shrinking gives the pages past the end back to the budget. */
static int tmpfs_resize(struct inode *ino, uint64_t size)
{
	struct tmpfs_node *n = ino->priv;
	if (size < n->data.size && (n->seals & F_SEAL_SHRINK))
		return -EPERM;
	if (size > n->data.size && (n->seals & F_SEAL_GROW))
		return -EPERM;
	int err = file_data_resize(&n->data, size);
	if (err < 0)
		return err;
	return uncharge(ino, PAGE_UP_(size), UINT64_MAX);
}

static long tmpfs_write(struct file *f, struct task *t, const void *buf, size_t len, uint64_t *pos)
{
	(void)t;
	struct tmpfs_node *n = f->inode->priv;
	if (n->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))
		return -EPERM;
	if (f->flags & O_APPEND)
		*pos = n->data.size;
	if (*pos + len < *pos || *pos + len > (uint64_t)INT64_MAX)
		return -EFBIG;
	if ((n->seals & F_SEAL_GROW) && *pos + len > n->data.size)
		return -EPERM;
	/* What the budget allows, page by page: a write that only partly fits is short, as
	 * on Linux, and one that cannot store a byte gets ENOSPC. */
	uint64_t end = *pos + len;
	uint64_t fit = page_ranges_fit(&n->pages, PAGE_DOWN_(*pos), PAGE_UP_(end),
				       budget_left(node_kernel(f->inode)));
	if (fit < end) {
		if (fit <= *pos)
			return -ENOSPC;
		len = (size_t)(fit - *pos);
	}
	long r = file_data_write(&n->data, buf, len, *pos);
	if (r < 0)
		return r;
	charge(f->inode, *pos, *pos + (uint64_t)r);
	*pos += (uint64_t)r;
	n->mtime = n->ctime = now_realtime();
	return r;
}

/* fallocate: modes 0 and KEEP_SIZE reserve (and charge) the range, all or nothing;
 * PUNCH_HOLE|KEEP_SIZE zeroes it and gives its whole pages back. */
static int tmpfs_fallocate(struct file *f, int mode, uint64_t off, uint64_t len)
{
	struct inode *ino = f->inode;
	struct tmpfs_node *n = ino->priv;
	uint64_t end = off + len;
	struct timespec now = now_realtime();
	if (mode & FALLOC_FL_PUNCH_HOLE) {
		if (n->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))
			return -EPERM;
		int err = uncharge(ino, PAGE_UP_(off), PAGE_DOWN_(end));
		if (err < 0)
			return err;
		if (off < n->data.size)
			file_data_punch(&n->data, off, (end < n->data.size ? end : n->data.size) - off);
		n->mtime = n->ctime = now;
		return 0;
	}
	bool grows = !(mode & FALLOC_FL_KEEP_SIZE) && end > n->data.size;
	if (grows && (n->seals & F_SEAL_GROW))
		return -EPERM;
	if (page_ranges_uncovered(&n->pages, PAGE_DOWN_(off), PAGE_UP_(end)) >
	    budget_left(node_kernel(ino)))
		return -ENOSPC;
	int err = file_data_reserve(&n->data, end);
	if (err == 0 && grows)
		err = file_data_resize(&n->data, end);
	if (err < 0)
		return err;
	charge(ino, off, end);
	n->ctime = now;
	if (grows)
		n->mtime = now;
	return 0;
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
	struct tmpfs_node *n = f->inode->priv;
	n->mapped_shared = true;
	return &n->data;
}

static const struct file_ops tmpfs_file_ops = {
	.read = tmpfs_read,
	.write = tmpfs_write,
	.seek_end = tmpfs_seek_end,
	.shared_data = tmpfs_shared_data,
	.fallocate = tmpfs_fallocate,
};

static bool is_tmpfs_file(struct file *f)
{
	return f && f->ops == &tmpfs_file_ops;
}

long tmpfs_seals(struct file *f, bool add, unsigned seals)
{
	if (!is_tmpfs_file(f))
		return -EINVAL;
	struct tmpfs_node *n = f->inode->priv;
	if (!add)
		return n->seals;
	if (seals & ~(unsigned)(F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
				F_SEAL_FUTURE_WRITE | F_SEAL_EXEC_))
		return -EINVAL;
	if ((f->flags & O_ACCMODE) == O_RDONLY)
		return -EPERM;
	if (n->seals & F_SEAL_SEAL)
		return -EPERM;
	/* Mappings cannot be revoked here: a file ever mapped shared refuses the write
	 * seal (Linux refuses it only while a writable shared mapping exists). */
	if ((seals & F_SEAL_WRITE) && n->mapped_shared)
		return -EBUSY;
	n->seals |= seals;
	return 0;
}

void tmpfs_memfd_unseal(struct file *f, unsigned seals)
{
	if (is_tmpfs_file(f))
		((struct tmpfs_node *)f->inode->priv)->seals = seals;
}

bool tmpfs_write_sealed(struct file *f)
{
	return is_tmpfs_file(f) &&
	       (((struct tmpfs_node *)f->inode->priv)->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE));
}

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
		return tmpfs_resize(ino, 0);
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
		int err = tmpfs_resize(ino, a->size);
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
	struct tmpfs_node *tn = target->priv;
	if (tn->nlink == 0 && !tn->linkable)
		return -ENOENT; /* an unlinked file cannot come back, an O_TMPFILE one can */
	tn->linkable = false;
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

struct inode *tmpfs_new_file(struct superblock *sb, uint32_t mode, bool linkable)
{
	struct inode *ino = tmpfs_inode_new(sb, S_IFREG | (mode & 07777));
	if (!ino)
		return NULL;
	struct tmpfs_node *n = ino->priv;
	n->nlink = 0;
	n->linkable = linkable;
	return ino;
}

static int tmpfs_tmpfile(struct inode *dir, uint32_t mode, bool linkable, struct inode **out)
{
	*out = tmpfs_new_file(dir->sb, mode, linkable);
	return *out ? 0 : -ENOSPC;
}

static bool xattr_ok_for(struct inode *ino)
{
	/* user.* only on regular files and directories, as Linux */
	return S_ISREG(ino->mode) || S_ISDIR(ino->mode);
}

static long tmpfs_getxattr(struct inode *ino, const char *name, void *buf, size_t size)
{
	return tmpfs_xattr_get(&((struct tmpfs_node *)ino->priv)->xattrs, name, buf, size);
}

static int tmpfs_setxattr(struct inode *ino, const char *name, const void *val, size_t size, int flags)
{
	struct tmpfs_node *n = ino->priv;
	if (!strncmp(name, "user.", 5) && !xattr_ok_for(ino))
		return -EPERM;
	/* Attributes are sentry memory too: they count against the budget. */
	struct kernel *k = node_kernel(ino);
	size_t before = tmpfs_xattrs_bytes(&n->xattrs), need = strlen(name) + 1 + size;
	if (need > budget_left(k))
		return -ENOSPC;
	int err = tmpfs_xattr_set(&n->xattrs, name, val, size, flags);
	k->shmem_used = k->shmem_used - before + tmpfs_xattrs_bytes(&n->xattrs);
	if (err == 0)
		n->ctime = now_realtime();
	return err;
}

static long tmpfs_listxattr(struct inode *ino, char *buf, size_t size)
{
	return tmpfs_xattr_list(&((struct tmpfs_node *)ino->priv)->xattrs, buf, size);
}

static int tmpfs_removexattr(struct inode *ino, const char *name)
{
	struct tmpfs_node *n = ino->priv;
	size_t before = tmpfs_xattrs_bytes(&n->xattrs);
	int err = tmpfs_xattr_set(&n->xattrs, name, NULL, 0, XATTR_REMOVE_);
	node_kernel(ino)->shmem_used -= before - tmpfs_xattrs_bytes(&n->xattrs);
	if (err == 0)
		n->ctime = now_realtime();
	return err;
}

static const struct inode_ops tmpfs_inode_ops = {
	.tmpfile = tmpfs_tmpfile,
	.getxattr = tmpfs_getxattr,
	.setxattr = tmpfs_setxattr,
	.listxattr = tmpfs_listxattr,
	.removexattr = tmpfs_removexattr,
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
