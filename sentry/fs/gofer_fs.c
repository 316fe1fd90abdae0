/* Host files through the gofer, read-only. Each inode holds a gofer fid; its attributes
 * are those the gofer returned when it was walked (the exported tree is read-only inside
 * the sandbox, so they are cached). */
#include "sentry/fs/fs.h"
#include "sentry/mm/file_data.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

struct gofer_inode {
	struct gofer_client *c;
	uint32_t fid;
	bool opened;
	bool cached; /* cache holds the whole file */
	struct gofer_stat st;
	struct file_data cache;
	struct memfile *mf;
};

struct gofer_dir_pos {
	int phase;       /* 0: ".", 1: "..", 2: entries from the gofer, 3: synthetic mountpoints */
	uint64_t cookie; /* gofer's cookie for the next entry */
	bool eof;
	int synthetic_done; /* synthetic mountpoints already emitted */
};

static const struct inode_ops gofer_inode_ops;

static struct inode *gofer_inode_new(struct superblock *sb, struct gofer_client *c, uint32_t fid,
				     const struct gofer_stat *st)
{
	struct gofer_inode *gi = calloc(1, sizeof(*gi));
	if (!gi)
		return NULL;
	gi->c = c;
	gi->fid = fid;
	gi->st = *st;
	struct kernel *k = sb->priv;
	gi->mf = &k->mf;
	struct inode *ino = inode_new(sb, &gofer_inode_ops, st->mode, gi);
	if (!ino) {
		free(gi);
		return NULL;
	}
	ino->ino = st->ino;
	return ino;
}

static int gofer_lookup(struct inode *dir, const char *name, struct inode **out)
{
	struct gofer_inode *gd = dir->priv;
	uint32_t fid;
	struct gofer_stat st;
	int err = gofer_walk(gd->c, gd->fid, name, &fid, &st);
	if (err < 0)
		return err;
	*out = gofer_inode_new(dir->sb, gd->c, fid, &st);
	if (!*out) {
		gofer_clunk(gd->c, fid);
		return -ENOMEM;
	}
	return 0;
}

static long gofer_readlink_op(struct inode *ino, char *buf, size_t sz)
{
	struct gofer_inode *gi = ino->priv;
	if (!S_ISLNK(ino->mode))
		return -EINVAL;
	return gofer_readlink(gi->c, gi->fid, buf, sz);
}

static int gofer_getattr(struct inode *ino, struct kstat *st)
{
	struct gofer_inode *gi = ino->priv;
	const struct gofer_stat *g = &gi->st;
	st->dev = g->dev;
	st->ino = g->ino;
	st->nlink = g->nlink;
	st->size = g->size;
	st->blocks = g->blocks;
	st->rdev = g->rdev;
	st->mode = g->mode;
	st->uid = g->uid;
	st->gid = g->gid;
	st->blksize = g->blksize;
	st->atime = (struct timespec){g->atime_sec, g->atime_nsec};
	st->mtime = (struct timespec){g->mtime_sec, g->mtime_nsec};
	st->ctime = (struct timespec){g->ctime_sec, g->ctime_nsec};
	return 0;
}

static void gofer_release(struct inode *ino)
{
	struct gofer_inode *gi = ino->priv;
	if (gi->cached)
		file_data_release(&gi->cache);
	gofer_clunk(gi->c, gi->fid);
	free(gi);
}

/* Reads the whole file into the memory file once; later reads and mappings use it. The
 * exported tree is read-only inside the sandbox, so the copy stays valid. */
static struct file_data *gofer_cache_data(struct file *f)
{
	struct gofer_inode *gi = f->inode->priv;
	if (gi->cached)
		return &gi->cache;
	file_data_init(&gi->cache, gi->mf);
	uint64_t size = gi->st.size;
	if (size > (1ull << 32)) /* keep the cache for programs and libraries */
		return NULL;
	if (file_data_reserve(&gi->cache, size) < 0) {
		file_data_release(&gi->cache);
		return NULL;
	}
	uint64_t done = 0;
	char *chunk = malloc(GOFER_IO_MAX);
	while (chunk && done < size) {
		long n = gofer_read(gi->c, gi->fid, done, chunk, GOFER_IO_MAX);
		if (n <= 0)
			break;
		file_data_write(&gi->cache, chunk, (size_t)n, done);
		done += (uint64_t)n;
	}
	free(chunk);
	if (done < size) {
		file_data_release(&gi->cache);
		return NULL;
	}
	gi->cache.size = size;
	gi->cached = true;
	return &gi->cache;
}

static long gofer_file_read(struct file *f, struct task *t, void *buf, size_t len, uint64_t *pos)
{
	(void)t;
	struct gofer_inode *gi = f->inode->priv;
	if (gi->cached) {
		long r = file_data_read(&gi->cache, buf, len, *pos);
		if (r > 0)
			*pos += (uint64_t)r;
		return r;
	}
	size_t done = 0;
	while (done < len) {
		size_t chunk = len - done < GOFER_IO_MAX ? len - done : GOFER_IO_MAX;
		long n = gofer_read(gi->c, gi->fid, *pos, (char *)buf + done, chunk);
		if (n < 0)
			return done ? (long)done : n;
		if (n == 0)
			break;
		done += (size_t)n;
		*pos += (uint64_t)n;
		if ((size_t)n < chunk)
			break;
	}
	return (long)done;
}

static int gofer_getdents(struct file *f, struct dirent_sink *sink)
{
	struct gofer_inode *gi = f->inode->priv;
	struct gofer_dir_pos *dp = f->priv;
	if (f->pos == 0 && dp->phase != 0) /* rewound with lseek */
		*dp = (struct gofer_dir_pos){0};
	if (dp->phase == 0) {
		if (!sink->emit(sink, ".", f->inode->ino, DT_DIR, 1))
			return 0;
		dp->phase = 1;
		f->pos = 1;
	}
	if (dp->phase == 1) {
		uint64_t pino = f->inode->ino;
		if (f->dentry && f->dentry->parent && f->dentry->parent->inode)
			pino = f->dentry->parent->inode->ino;
		if (!sink->emit(sink, "..", pino, DT_DIR, 2))
			return 0;
		dp->phase = 2;
		f->pos = 2;
	}
	static struct gofer_dirent ents[64];
	while (!dp->eof) {
		int n = gofer_readdir(gi->c, gi->fid, dp->cookie, ents, 64);
		if (n < 0)
			return n;
		if (n == 0) {
			dp->eof = true;
			break;
		}
		for (int i = 0; i < n; i++) {
			if (!sink->emit(sink, ents[i].name, ents[i].ino, ents[i].type, f->pos + 1))
				return 0;
			dp->cookie = ents[i].next_off;
			f->pos++;
		}
	}
	/* Mountpoints the sentry added where the host has no such name (/tmp, /proc, ...). */
	int idx = 0;
	for (struct dentry *c = f->dentry ? f->dentry->children : NULL; c; c = c->next_sibling) {
		if (!c->synthetic || !c->inode)
			continue;
		if (idx++ < dp->synthetic_done)
			continue;
		struct dentry *top = c;
		while (top->mounted)
			top = top->mounted;
		if (!sink->emit(sink, c->name, top->inode->ino, DT_DIR, f->pos + 1))
			return 0;
		dp->synthetic_done++;
		f->pos++;
	}
	return 0;
}

static void gofer_file_release(struct file *f)
{
	free(f->priv);
}

static const struct file_ops gofer_file_ops = {
	.read = gofer_file_read,
	.cache_data = gofer_cache_data,
};

static const struct file_ops gofer_dir_ops = {
	.getdents = gofer_getdents,
	.release = gofer_file_release,
};

static int gofer_open_op(struct inode *ino, struct file *f)
{
	struct gofer_inode *gi = ino->priv;
	if ((f->flags & O_ACCMODE) != O_RDONLY)
		return -EROFS;
	if (!S_ISREG(ino->mode) && !S_ISDIR(ino->mode))
		return -ENXIO; /* host devices, fifos and sockets are not passed through */
	if (!gi->opened) {
		int err = gofer_open(gi->c, gi->fid, S_ISDIR(ino->mode) ? O_RDONLY | O_DIRECTORY : O_RDONLY);
		if (err < 0)
			return err;
		gi->opened = true;
	}
	if (S_ISDIR(ino->mode)) {
		f->priv = calloc(1, sizeof(struct gofer_dir_pos));
		if (!f->priv)
			return -ENOMEM;
		f->ops = &gofer_dir_ops;
	} else {
		f->ops = &gofer_file_ops;
	}
	return 0;
}

static const struct inode_ops gofer_inode_ops = {
	.lookup = gofer_lookup,
	.readlink = gofer_readlink_op,
	.open = gofer_open_op,
	.getattr = gofer_getattr,
	.release = gofer_release,
};

int gofer_fs_root(struct kernel *k, struct dentry **out)
{
	struct superblock *sb = calloc(1, sizeof(*sb));
	struct gofer_stat st;
	if (!sb)
		return -ENOMEM;
	sb->fstype = "ext4";
	sb->magic = 0xEF53;
	sb->readonly = true;
	sb->priv = k;
	int err = gofer_stat(&k->gofer, GOFER_ROOT_FID, &st);
	if (err < 0)
		return err;
	sb->dev = st.dev;
	struct inode *ino = gofer_inode_new(sb, &k->gofer, GOFER_ROOT_FID, &st);
	if (!ino)
		return -ENOMEM;
	*out = dentry_new_root(ino);
	return *out ? 0 : -ENOMEM;
}
