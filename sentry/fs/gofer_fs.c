/* Host files through the gofer: the read-only host tree and the writable workspace. Each
 * inode holds a gofer fid; its attributes are those the gofer returned (cached: only the
 * sandbox changes the files it serves, and through these inodes).
 *
 * The page cache: a file that is mapped gets its storage in the memory file once (a
 * read-only host file is filled from the gofer on demand, a workspace file is read whole),
 * and from then on its reads come from there and its writes go to both (write-through), so
 * that mappings and read/write see the same bytes. What shared mappings write reaches the
 * host at msync, fsync, munmap (also exit and exec) and mprotect taking PROT_WRITE away:
 * write-back copies the pages marked dirty by write faults (the mappings are read-only in
 * the stubs until written, see VMA_TRACK), write-protecting them everywhere first. */
#include "sentry/fs/fs.h"
#include "sentry/mm/file_data.h"
#include "sentry/mm/file_map.h"

#include <dirent.h>
#include <errno.h>
#include <linux/falloc.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>

struct gofer_inode {
	struct gofer_client *c;
	uint32_t fid;
	bool opened;
	bool opened_rw;   /* opened read+write (writable workspace) */
	bool fid_moved;   /* the fid now belongs to another inode (a bind's root) */
	bool cached; /* cache holds the whole file */
	struct gofer_stat st;
	struct file_data cache;
	struct memfile *mf;
	uint64_t *dirty;  /* bitmap of cache pages written through mappings */
	uint64_t ndirty;  /* pages the bitmap covers */
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
		gofer_clunk_async(gd->c, fid);
		return -ENOMEM;
	}
	return 0;
}

/* The workspace is shared with the host user, who may create, replace or remove names
 * while the guest runs: a cached entry is checked against the host at each lookup (the
 * name still leads to the same file), and missing names are not cached. The read-only
 * host tree is trusted not to change under a run. */
static int gofer_revalidate_child(struct inode *dir, const char *name, struct inode *child)
{
	if (dir->sb->readonly)
		return 1;
	if (!child || child->ops != &gofer_inode_ops)
		return 0;
	struct gofer_inode *gd = dir->priv, *gi = child->priv;
	uint32_t fid;
	struct gofer_stat st;
	int err = gofer_walk(gd->c, gd->fid, name, &fid, &st);
	if (err == -ENOENT || err == -ENOTDIR || err == -EACCES || err == -ELOOP)
		return 0;
	if (err < 0)
		return err;
	gofer_clunk_async(gd->c, fid);
	if (st.ino != gi->st.ino || st.dev != gi->st.dev || ((st.mode ^ gi->st.mode) & S_IFMT))
		return 0;
	/* Same file: take the host's view of its attributes, except the size of a file in
	 * the page cache, which the cache (written through by the sandbox) defines. */
	if (gi->cached)
		st.size = gi->st.size;
	gi->st = st;
	child->mode = st.mode;
	return 1;
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
	free(gi->dirty);
	if (!gi->fid_moved)
		gofer_clunk_async(gi->c, gi->fid);
	free(gi);
}

/* Where a read-only host file's page cache is filled from: the gofer, at most one
 * message's worth per call (file_data reads on from a short count). The gofer puts the
 * data in the memory file itself when it has it (one copy, and the sentry never maps the
 * pages: a fill costs a third of a copy through the socket here); else it comes in the
 * reply. */
static long read_source(void *ctx, uint64_t off, uint64_t mem_off, void *buf, size_t len)
{
	struct gofer_inode *gi = ctx;
	long n = gofer_read_mem(gi->c, gi->fid, off, mem_off, len);
	if (n != -EOPNOTSUPP)
		return n;
	len = len < GOFER_IO_MAX ? len : GOFER_IO_MAX;
	memfile_prepare_write(gi->mf, mem_off, len);
	return gofer_read(gi->c, gi->fid, off, buf, len);
}

/* Sets up the page cache once; later reads and mappings use it. A file of the read-only
 * host tree is filled on demand, a chunk at a time (a compile touches a few MB of cc1's
 * 33); a workspace file is read whole now (its write-back and dirty tracking assume every
 * cached page holds the file). */
static struct file_data *load_cache(struct gofer_inode *gi, bool lazy)
{
	if (gi->cached)
		return &gi->cache;
	file_data_init(&gi->cache, gi->mf);
	uint64_t size = gi->st.size;
	if (size > (1ull << 32)) /* keep the cache for programs and libraries */
		return NULL;
	if (lazy) {
		if (file_data_init_lazy(&gi->cache, size, read_source, gi) < 0) {
			file_data_release(&gi->cache);
			return NULL;
		}
		gi->cached = true;
		return &gi->cache;
	}
	if (file_data_reserve(&gi->cache, size) < 0) {
		file_data_release(&gi->cache);
		return NULL;
	}
	uint64_t done = 0;
	char *chunk = malloc(GOFER_IO_MAX);
	while (chunk && done < size) {
		size_t want = size - done < GOFER_IO_MAX ? (size_t)(size - done) : GOFER_IO_MAX;
		long n = gofer_read(gi->c, gi->fid, done, chunk, want);
		if (n <= 0 || (size_t)n > want)
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

/* The read-only host tree: the cache never goes stale. */
static struct file_data *gofer_cache_data(struct file *f)
{
	return f->inode->sb->readonly ? load_cache(f->inode->priv, true) : NULL;
}

/* The workspace: mappings are the page cache's pages, kept coherent with read/write. */
static struct file_data *gofer_shared_data(struct file *f)
{
	return f->inode->sb->readonly ? NULL : load_cache(f->inode->priv, false);
}

#define PAGE 4096ULL

static bool page_dirty(const struct gofer_inode *gi, uint64_t pg)
{
	return pg < gi->ndirty && (gi->dirty[pg / 64] >> (pg % 64) & 1);
}

static int gofer_dirty_op(struct inode *ino, uint64_t off, uint64_t len)
{
	struct gofer_inode *gi = ino->priv;
	uint64_t first = off / PAGE, end = (off + len + PAGE - 1) / PAGE;
	if (end > gi->ndirty) {
		uint64_t words = (end + 63) / 64 * 2; /* room to grow */
		uint64_t *n = realloc(gi->dirty, words * sizeof(*n));
		if (!n)
			return -ENOMEM;
		memset(n + (gi->ndirty + 63) / 64, 0, (words - (gi->ndirty + 63) / 64) * sizeof(*n));
		gi->dirty = n;
		gi->ndirty = words * 64;
	}
	for (uint64_t pg = first; pg < end; pg++)
		gi->dirty[pg / 64] |= 1ULL << (pg % 64);
	return 0;
}

/* Writes the dirty pages of [off, off+len) (clipped to the file's size) to the host. Each
 * run is write-protected in every mapping and marked clean before it is copied, so a
 * store made meanwhile faults and dirties the page again instead of being lost. */
static int write_back(struct gofer_inode *gi, uint64_t off, uint64_t len)
{
	if (!gi->cached || off >= gi->st.size)
		return 0;
	if (len > gi->st.size - off)
		len = gi->st.size - off;
	uint64_t pg = off / PAGE, end_pg = (off + len + PAGE - 1) / PAGE;
	char *chunk = NULL;
	int err = 0;
	while (pg < end_pg && err == 0) {
		if (!page_dirty(gi, pg)) {
			pg++;
			continue;
		}
		uint64_t run = pg;
		for (; run < end_pg && page_dirty(gi, run); run++)
			gi->dirty[run / 64] &= ~(1ULL << (run % 64));
		uint64_t from = pg * PAGE, to = run * PAGE < gi->st.size ? run * PAGE : gi->st.size;
		file_map_write_protect(&gi->cache, from, run * PAGE - from);
		if (!chunk && !(chunk = malloc(GOFER_IO_MAX)))
			err = -ENOMEM;
		while (err == 0 && from < to) {
			size_t n = to - from < GOFER_IO_MAX ? (size_t)(to - from) : GOFER_IO_MAX;
			file_data_read(&gi->cache, chunk, n, from);
			long w = gofer_write(gi->c, gi->fid, from, chunk, n);
			if (w <= 0 || (size_t)w > n)
				err = w < 0 ? (int)w : -EIO;
			else
				from += (uint64_t)w;
		}
		for (uint64_t p = pg; err < 0 && p < run; p++) /* not written: dirty again */
			gi->dirty[p / 64] |= 1ULL << (p % 64);
		pg = run;
	}
	free(chunk);
	return err;
}

static int gofer_writeback_op(struct inode *ino, uint64_t off, uint64_t len, bool sync)
{
	struct gofer_inode *gi = ino->priv;
	if (!gi->opened_rw)
		return 0; /* nothing can have been written */
	int err = write_back(gi, off, len);
	if (err == 0 && sync)
		err = gofer_fsync(gi->c, gi->fid, false);
	return err;
}

/* The size changes (truncate, O_TRUNC): the cache first, where growing can fail. */
static int cache_resize_check(struct gofer_inode *gi, uint64_t size)
{
	return gi->cached ? file_data_reserve(&gi->cache, size) : 0;
}

static void cache_resize(struct gofer_inode *gi, uint64_t size)
{
	if (gi->cached)
		file_data_resize(&gi->cache, size);
}

/* Small files of the read-only host tree (headers, configuration, scripts) are read
 * whole into the page cache at their first read, like programs at their first mmap: each
 * later read, by any process, is a copy instead of a gofer round trip. Larger files are
 * read through, so reading a big file once does not pin it in memory. */
#define READ_CACHE_MAX (1u << 20)

static long gofer_file_read(struct file *f, struct task *t, void *buf, size_t len, uint64_t *pos)
{
	(void)t;
	struct gofer_inode *gi = f->inode->priv;
	if (!gi->cached && f->inode->sb->readonly && S_ISREG(f->inode->mode) &&
	    gi->st.size <= READ_CACHE_MAX)
		load_cache(gi, true);
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

static long gofer_file_write(struct file *f, struct task *t, const void *buf, size_t len, uint64_t *pos)
{
	(void)t;
	struct gofer_inode *gi = f->inode->priv;
	if (f->flags & O_APPEND)
		*pos = gi->st.size;
	if (gi->cached && (*pos + len < *pos || file_data_reserve(&gi->cache, *pos + len) < 0))
		return *pos + len < *pos ? -EFBIG : -ENOSPC;
	size_t done = 0;
	while (done < len) {
		size_t chunk = len - done < GOFER_IO_MAX ? len - done : GOFER_IO_MAX;
		long n = gofer_write(gi->c, gi->fid, *pos, (const char *)buf + done, chunk);
		if (n < 0)
			return done ? (long)done : n;
		if (n == 0)
			break;
		if (gi->cached) /* storage reserved above: cannot fail */
			file_data_write(&gi->cache, (const char *)buf + done, (size_t)n, *pos);
		done += (size_t)n;
		*pos += (uint64_t)n;
		if (*pos > gi->st.size)
			gi->st.size = *pos;
	}
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	gi->st.mtime_sec = gi->st.ctime_sec = now.tv_sec;
	gi->st.mtime_nsec = gi->st.ctime_nsec = (uint32_t)now.tv_nsec;
	return (long)done;
}

static int gofer_fsync_op(struct file *f, bool datasync)
{
	struct gofer_inode *gi = f->inode->priv;
	if (!gi->opened_rw)
		return 0; /* nothing written through this gofer open */
	int err = write_back(gi, 0, gi->st.size);
	if (err < 0)
		return err;
	return gofer_fsync(gi->c, gi->fid, datasync);
}

static long gofer_seek_end(struct file *f)
{
	return (long)((struct gofer_inode *)f->inode->priv)->st.size;
}

/* fallocate on a workspace file: the host does it (modes 0, KEEP_SIZE, PUNCH_HOLE);
 * the size and times are then the host's. */
static int gofer_fallocate_op(struct file *f, int mode, uint64_t off, uint64_t len)
{
	struct gofer_inode *gi = f->inode->priv;
	if (f->inode->sb->readonly)
		return -EROFS;
	bool grows = !(mode & (FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) && off + len > gi->st.size;
	int err = grows ? cache_resize_check(gi, off + len) : 0;
	if (err < 0)
		return err;
	err = gofer_allocate(gi->c, gi->fid, mode, off, len);
	if (err < 0)
		return err;
	/* The page cache, if the file has one, follows: mappings read what read(2) does. */
	if (gi->cached && (mode & FALLOC_FL_PUNCH_HOLE))
		file_data_punch(&gi->cache, off, len);
	struct gofer_stat st;
	if (gofer_stat(gi->c, gi->fid, &st) == 0 && st.mode == gi->st.mode)
		gi->st = st;
	if (grows)
		cache_resize(gi, gi->st.size);
	return 0;
}

static const struct file_ops gofer_file_ops = {
	.fallocate = gofer_fallocate_op,
	.read = gofer_file_read,
	.write = gofer_file_write,
	.seek_end = gofer_seek_end,
	.cache_data = gofer_cache_data,
	.shared_data = gofer_shared_data,
	.fsync = gofer_fsync_op,
};

static const struct file_ops gofer_dir_ops = {
	.getdents = gofer_getdents,
	.release = gofer_file_release,
};

static int gofer_open_op(struct inode *ino, struct file *f)
{
	struct gofer_inode *gi = ino->priv;
	bool writing = (f->flags & O_ACCMODE) != O_RDONLY || (f->flags & O_TRUNC);
	if (writing && ino->sb->readonly)
		return -EROFS;
	if (!S_ISREG(ino->mode) && !S_ISDIR(ino->mode))
		return -ENXIO; /* host devices, fifos and sockets are not passed through */
	if (writing && !gi->opened_rw) {
		/* One host open per file: read+write once anything writes (the gofer keeps
		 * one open per fid); a read-only open before is replaced. */
		int err = gofer_open(gi->c, gi->fid, O_RDWR);
		if (err == -EBUSY && gi->opened)
			return -EACCES; /* opened read-only because read+write was refused */
		if (err < 0)
			return err;
		gi->opened = gi->opened_rw = true;
	}
	if (writing && (f->flags & O_TRUNC)) {
		struct gofer_setattr a = {.valid = GOFER_SETATTR_SIZE, .size = 0};
		int err = gofer_setattr(gi->c, gi->fid, &a, &gi->st);
		if (err < 0)
			return err;
		cache_resize(gi, 0);
	}
	if (!gi->opened && !ino->sb->readonly && S_ISREG(ino->mode)) {
		/* In a writable workspace open read+write when allowed, so later writers of
		 * the same file share the host open. */
		if (gofer_open(gi->c, gi->fid, O_RDWR) == 0)
			gi->opened = gi->opened_rw = true;
	}
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

/* ---- the write side (a writable workspace; the gofer refuses anything else) ---- */

static int gofer_create_op(struct inode *dir, const char *name, uint32_t mode, struct inode **out)
{
	struct gofer_inode *gd = dir->priv;
	uint32_t fid;
	struct gofer_stat st;
	int err;
	if (S_ISDIR(mode))
		err = gofer_mkdir(gd->c, gd->fid, name, mode & 07777, &fid, &st);
	else if (S_ISREG(mode))
		err = gofer_create(gd->c, gd->fid, name, O_EXCL, mode & 07777, &fid, &st);
	else if (S_ISSOCK(mode)) /* an AF_UNIX bind: the node is only a name */
		err = gofer_mksock(gd->c, gd->fid, name, mode & 07777, &fid, &st);
	else
		return -EPERM; /* device nodes and fifos are not made on the host */
	if (err < 0)
		return err;
	*out = gofer_inode_new(dir->sb, gd->c, fid, &st);
	if (!*out) {
		gofer_clunk_async(gd->c, fid);
		return -ENOMEM;
	}
	if (S_ISREG(mode)) {
		struct gofer_inode *gi = (*out)->priv;
		gi->opened = gi->opened_rw = true; /* CREATE opens it read+write */
	}
	return 0;
}

static int gofer_symlink_op(struct inode *dir, const char *name, const char *target, struct inode **out)
{
	struct gofer_inode *gd = dir->priv;
	uint32_t fid;
	struct gofer_stat st;
	int err = gofer_symlink(gd->c, gd->fid, name, target, &fid, &st);
	if (err < 0)
		return err;
	*out = gofer_inode_new(dir->sb, gd->c, fid, &st);
	return *out ? 0 : -ENOMEM;
}

static int gofer_unlink_op(struct inode *dir, const char *name, struct inode *victim, bool is_dir)
{
	struct gofer_inode *gd = dir->priv, *gv = victim->priv;
	int err = gofer_unlink(gd->c, gd->fid, name, is_dir ? AT_REMOVEDIR : 0);
	if (err == 0 && !is_dir && gv->st.nlink)
		gv->st.nlink--; /* the host's count, without asking */
	return err;
}

static int gofer_rename_op(struct inode *odir, const char *oname, struct inode *ndir, const char *nname,
			   unsigned flags)
{
	return gofer_rename(((struct gofer_inode *)odir->priv)->c, ((struct gofer_inode *)odir->priv)->fid,
			    oname, ((struct gofer_inode *)ndir->priv)->fid, nname, flags);
}

static int gofer_link_op(struct inode *dir, const char *name, struct inode *target)
{
	if (target->ops != dir->ops)
		return -EXDEV;
	struct gofer_inode *gd = dir->priv, *gt = target->priv;
	int err = gofer_link(gd->c, gt->fid, gd->fid, name);
	if (err == 0)
		gofer_stat(gt->c, gt->fid, &gt->st);
	return err;
}

static int gofer_setattr_op(struct inode *ino, const struct iattr *a)
{
	struct gofer_inode *gi = ino->priv;
	struct gofer_setattr ga = {0};
	if (a->valid & ATTR_MODE) {
		ga.valid |= GOFER_SETATTR_MODE;
		ga.mode = a->mode & 07777;
	}
	if (a->valid & ATTR_UID) {
		ga.valid |= GOFER_SETATTR_UID;
		ga.uid = a->uid;
	}
	if (a->valid & ATTR_GID) {
		ga.valid |= GOFER_SETATTR_GID;
		ga.gid = a->gid;
	}
	if (a->valid & ATTR_SIZE) {
		ga.valid |= GOFER_SETATTR_SIZE;
		ga.size = a->size;
		int err = cache_resize_check(gi, a->size);
		if (err < 0)
			return -ENOSPC;
	}
	if (a->valid & ATTR_ATIME) {
		ga.valid |= GOFER_SETATTR_ATIME;
		ga.atime_sec = a->atime.tv_sec;
		ga.atime_nsec = (uint32_t)a->atime.tv_nsec;
	}
	if (a->valid & ATTR_MTIME) {
		ga.valid |= GOFER_SETATTR_MTIME;
		ga.mtime_sec = a->mtime.tv_sec;
		ga.mtime_nsec = (uint32_t)a->mtime.tv_nsec;
	}
	if (!ga.valid)
		return 0;
	int err = gofer_setattr(gi->c, gi->fid, &ga, &gi->st);
	if (err == 0)
		ino->mode = gi->st.mode;
	if (err == 0 && (a->valid & ATTR_SIZE))
		cache_resize(gi, a->size);
	return err;
}

static const struct inode_ops gofer_inode_ops = {
	.revalidate_child = gofer_revalidate_child,
	.create_is_exclusive = true,
	.lookup = gofer_lookup,
	.readlink = gofer_readlink_op,
	.open = gofer_open_op,
	.getattr = gofer_getattr,
	.release = gofer_release,
	.create = gofer_create_op,
	.unlink = gofer_unlink_op,
	.symlink = gofer_symlink_op,
	.setattr = gofer_setattr_op,
	.rename = gofer_rename_op,
	.link = gofer_link_op,
	.writeback = gofer_writeback_op,
	.dirty = gofer_dirty_op,
};

int gofer_fs_bind_root(struct kernel *k, struct inode *ino, bool writable, struct dentry **out)
{
	if (ino->ops != &gofer_inode_ops)
		return -EINVAL;
	struct superblock *sb = calloc(1, sizeof(*sb));
	if (!sb)
		return -ENOMEM;
	*sb = *ino->sb;
	sb->readonly = !writable;
	sb->priv = k;
	struct gofer_inode *gi = ino->priv;
	struct inode *root = gofer_inode_new(sb, gi->c, gi->fid, &gi->st);
	if (!root)
		return -ENOMEM;
	gi->fid_moved = true; /* the new root owns the fid from now on */
	*out = dentry_new_root(root);
	return *out ? 0 : -ENOMEM;
}

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
