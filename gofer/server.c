/* The gofer's request loop: fids, walks and reads over host files beneath one root.
 *
 * Safety rests on three rules: every name is one validated component, every open is an
 * openat2() relative to a directory the gofer already holds with RESOLVE_BENEATH and
 * RESOLVE_NO_SYMLINKS (so no symlink is ever followed and nothing outside the root is
 * reachable), and a file is only opened for I/O if it is still the inode the walk saw.
 *
 * What is visible is decided per fid at walk time from its parent alone (struct gvis),
 * so neither a walk nor a readdir ever rebuilds a path for it. */
#include "gofer/server.h"
#include "gofer/host_stat.h"
#include "gofer/protocol.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <linux/falloc.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

const char *const gofer_default_deny[] = {
	"etc/shadow",
	"etc/gshadow",
	"etc/shadow-",
	"etc/gshadow-",
	"etc/ssh/ssh_host_*_key",
	NULL,
};

const char *const gofer_system_names[] = {
	"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "opt", NULL,
};

#define WALK_RESOLVE (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)
/* Start-up only: deny paths are resolved the way the sentry would see them, following
 * symlinks but with the export root as '/'. */
#define DENY_RESOLVE (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
#define DENTS_BUF (32u * 1024u)
#define DENY_INODES_MAX 4096u
#define DENY_PATH_MAX (GOFER_DENY_DEPTH_MAX * (GOFER_NAME_MAX + 1))

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* What a directory's children may be. VIS_ALL: everything (system_only off, a system
 * top-level name, or an export or inside one). VIS_PARTIAL: a strict ancestor of the
 * exports [lo, hi) in the sorted table, and only their next components are children;
 * the root under system_only is VIS_PARTIAL over every export, plus the system names. */
enum { VIS_ALL, VIS_PARTIAL };
/* Where writes are allowed, the same way over the writable exports: W_ALL at or below
 * writable export wexp (whose st_dev is wdev), W_PARTIAL a strict ancestor of the
 * writable exports [lo, hi), W_NONE elsewhere. */
enum { W_NONE, W_PARTIAL, W_ALL };

struct gwr {
	uint32_t kind;
	uint32_t lo, hi; /* W_PARTIAL; for W_ALL lo is the export's index */
	dev_t dev;       /* W_ALL: the export's st_dev */
};

struct gvis {
	uint32_t kind;
	uint32_t lo, hi;
};

/* A file the gofer holds. Nodes are refcounted: a fid holds one reference, each child
 * holds one on its parent (OPEN re-opens through the parent), so a parent outlives the
 * clunk of its own fid while children need it. */
struct gnode {
	int path_fd;         /* O_PATH|O_NOFOLLOW: the fid's identity */
	int open_fd;         /* -1 until OPEN */
	uint32_t open_flags; /* GOFER_OF_* of the OPEN */
	dev_t dev;           /* identity seen at walk time; OPEN must find the same */
	ino_t ino;
	mode_t mode;
	struct gnode *parent; /* NULL for the root */
	char *name;           /* component in parent */
	uint32_t depth;       /* root 0 */
	uint32_t refs;
	struct gvis vis;
	struct gwr wr;
};

/* One export, split into components. */
struct gexport {
	char *buf;	   /* the path without its leading '/', every '/' made '\0' */
	const char **comp; /* ncomp pointers into buf */
	uint32_t ncomp;
};

struct deny_inode {
	dev_t dev;
	ino_t ino;
};

struct gofer_server {
	int sock;
	bool system_only;
	char **deny; /* normalised patterns */
	size_t ndeny;
	uint32_t deny_depth; /* most components of any pattern */
	struct deny_inode *dino;
	size_t ndino;
	/* system_only exports, sorted component-wise, none inside another: those below
	 * any one path are a contiguous run, sorted by their next component */
	struct gexport *exp;
	uint32_t nexp;
	/* writable exports, the same way (system_only or not) */
	struct gexport *wexp;
	uint32_t nwexp;
	bool root_user; /* may chown */
	struct gnode root;     /* fid 0; path_fd is the caller's */
	struct gnode **fids;   /* fid -> node, NULL if free */
	uint32_t nfids;        /* allocated slots */
	uint32_t hint;         /* no free fid below this */
	uint32_t nnodes, max_nodes;
	uint8_t *rx, *tx, *io, *dents;
	struct gofer_memory mem; /* fd -1: no memory file (READ_MEM is -EOPNOTSUPP) */
};

static int openat2_fd(int dirfd, const char *path, uint64_t flags, uint64_t resolve)
{
	struct open_how how = { .flags = flags, .resolve = resolve };
	long fd;

	do
		fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : (int)fd;
}

static int openat2_mode(int dirfd, const char *path, uint64_t flags, uint64_t mode)
{
	struct open_how how = { .flags = flags, .mode = mode, .resolve = WALK_RESOLVE };
	long fd;

	do
		fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : (int)fd;
}

static long getdents(int fd, void *buf, size_t len)
{
	long n;

	do
		n = syscall(SYS_getdents64, fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

/* Walks a getdents64 buffer; NULL at the end or on a malformed record. */
static const struct linux_dirent64 *dent_next(const uint8_t *buf, long len, long *pos)
{
	const struct linux_dirent64 *d;

	if (*pos + (long)offsetof(struct linux_dirent64, d_name) >= len)
		return NULL;
	d = (const struct linux_dirent64 *)(buf + *pos);
	if (d->d_reclen <= offsetof(struct linux_dirent64, d_name) || d->d_reclen > len - *pos)
		return NULL;
	*pos += d->d_reclen;
	return d;
}

static size_t dent_namelen(const struct linux_dirent64 *d)
{
	return strnlen(d->d_name, d->d_reclen - offsetof(struct linux_dirent64, d_name));
}

/* st (an fstat of fd) as the sandbox sees it: the host's view where the gofer's own
 * confinement shows something else (host_stat.h). */
static void to_gstat(int fd, const struct stat *host_st, struct gofer_stat *g)
{
	struct stat fixed = *host_st;
	const struct stat *st = &fixed;

	host_stat_fix(fd, &fixed);
	g->dev = st->st_dev;
	g->ino = st->st_ino;
	g->nlink = st->st_nlink;
	g->size = (uint64_t)st->st_size;
	g->blocks = (uint64_t)st->st_blocks;
	g->rdev = st->st_rdev;
	g->mode = st->st_mode;
	g->uid = st->st_uid;
	g->gid = st->st_gid;
	g->blksize = (uint32_t)st->st_blksize;
	g->atime_sec = st->st_atim.tv_sec;
	g->mtime_sec = st->st_mtim.tv_sec;
	g->ctime_sec = st->st_ctim.tv_sec;
	g->atime_nsec = (uint32_t)st->st_atim.tv_nsec;
	g->mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
	g->ctime_nsec = (uint32_t)st->st_ctim.tv_nsec;
}

/* ---- policy ---- */

static bool inode_denied(const struct gofer_server *s, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < s->ndino; i++)
		if (s->dino[i].dev == dev && s->dino[i].ino == ino)
			return true;
	return false;
}

/* Would dir/name match a deny pattern? Paths deeper than every pattern cannot, so the
 * path is only built (from the parent chain) when it could. */
static bool path_denied(const struct gofer_server *s, const struct gnode *dir, const char *name)
{
	const char *comp[GOFER_DENY_DEPTH_MAX];
	char path[DENY_PATH_MAX];
	size_t len = 0;
	uint32_t depth = 1, i;

	/* Counted along the parent chain, not taken from ->depth: a RENAME moves nodes
	 * and leaves their descendants' depth stale. */
	for (const struct gnode *n = dir; n->parent; n = n->parent)
		if (++depth > s->deny_depth)
			return false;
	comp[depth - 1] = name;
	i = depth - 1;
	for (const struct gnode *n = dir; n->parent; n = n->parent)
		comp[--i] = n->name;
	for (uint32_t i = 0; i < depth; i++) {
		size_t l = strlen(comp[i]);

		if (i)
			path[len++] = '/';
		memcpy(path + len, comp[i], l); /* depth * (NAME_MAX + 1) fits by construction */
		len += l;
	}
	path[len] = '\0';
	for (size_t i = 0; i < s->ndeny; i++)
		if (fnmatch(s->deny[i], path, FNM_PATHNAME) == 0)
			return true;
	return false;
}

static bool is_system_name(const char *name)
{
	for (size_t i = 0; gofer_system_names[i]; i++)
		if (strcmp(gofer_system_names[i], name) == 0)
			return true;
	return false;
}

/* Kernel interfaces, not files: /proc/<pid>/mem of a same-uid host process, sysfs
 * knobs and the like. Even an export of the whole host (--all, or a rootfs with them
 * mounted inside) never serves them; the sentry has its own /proc, /sys and /dev. */
static bool pseudo_fs(int fd)
{
	static const unsigned long magic[] = {
		PROC_SUPER_MAGIC, SYSFS_MAGIC,	    DEBUGFS_MAGIC,	 TRACEFS_MAGIC,
		SECURITYFS_MAGIC, SELINUX_MAGIC,    SMACK_MAGIC,	 BPF_FS_MAGIC,
		CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, EFIVARFS_MAGIC, PSTOREFS_MAGIC,
		BINFMTFS_MAGIC,	  DEVPTS_SUPER_MAGIC, NSFS_MAGIC,
	};
	struct statfs sf;

	if (fstatfs(fd, &sf) < 0)
		return true; /* cannot tell: refuse */
	for (size_t i = 0; i < sizeof(magic) / sizeof(magic[0]); i++)
		if ((unsigned long)sf.f_type == magic[i])
			return true;
	return false;
}

/* First index in [lo, hi) of tab whose component d is not below name (after: is above
 * it). */
static uint32_t tab_bound(const struct gexport *tab, uint32_t lo, uint32_t hi, uint32_t d,
			  const char *name, bool after)
{
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = strcmp(tab[mid].comp[d], name);

		if (c < 0 || (after && c == 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uint32_t exp_bound(const struct gofer_server *s, uint32_t lo, uint32_t hi, uint32_t d,
			  const char *name, bool after)
{
	return tab_bound(s->exp, lo, hi, d, name, after);
}

/* Where dir/name stands for writes (dev: its st_dev, the export's if it is one). */
static struct gwr child_wr(const struct gofer_server *s, const struct gnode *dir,
			   const char *name, dev_t dev)
{
	uint32_t d = dir->depth, lo, hi;

	if (dir->wr.kind != W_PARTIAL)
		return dir->wr;
	lo = tab_bound(s->wexp, dir->wr.lo, dir->wr.hi, d, name, false);
	if (lo == dir->wr.hi || strcmp(s->wexp[lo].comp[d], name) != 0)
		return (struct gwr){ .kind = W_NONE };
	if (s->wexp[lo].ncomp == d + 1)
		return (struct gwr){ .kind = W_ALL, .lo = lo, .dev = dev };
	hi = tab_bound(s->wexp, lo, dir->wr.hi, d, name, true);
	return (struct gwr){ .kind = W_PARTIAL, .lo = lo, .hi = hi };
}

/* May n be written to (or, a directory, have entries made and removed)? */
static bool node_writable(const struct gnode *n)
{
	return n->wr.kind == W_ALL && n->dev == n->wr.dev;
}

/* Is name in dir visible, and if so what may its own children be (*v)? No syscall and
 * no path building: a binary search in dir's run of exports at most. */
static bool child_vis(const struct gofer_server *s, const struct gnode *dir, const char *name,
		      struct gvis *v)
{
	uint32_t d = dir->depth, lo, hi;

	*v = (struct gvis){ .kind = VIS_ALL };
	if (dir->vis.kind == VIS_ALL)
		return true;
	if (dir == &s->root && is_system_name(name))
		return true;
	/* Every export of dir's run goes deeper than dir and shares its components. */
	lo = exp_bound(s, dir->vis.lo, dir->vis.hi, d, name, false);
	if (lo == dir->vis.hi || strcmp(s->exp[lo].comp[d], name) != 0)
		return false;
	if (s->exp[lo].ncomp == d + 1)
		return true; /* the export itself, which sorts before anything inside it */
	hi = exp_bound(s, lo, dir->vis.hi, d, name, true);
	*v = (struct gvis){ .kind = VIS_PARTIAL, .lo = lo, .hi = hi };
	return true;
}

static void deny_record(struct gofer_server *s, const char *path)
{
	struct stat st;
	int fd = openat2_fd(s->root.path_fd, path, O_PATH | O_CLOEXEC, DENY_RESOLVE);

	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && s->ndino < DENY_INODES_MAX &&
	    !inode_denied(s, st.st_dev, st.st_ino)) {
		s->dino[s->ndino].dev = st.st_dev;
		s->dino[s->ndino].ino = st.st_ino;
		s->ndino++;
	}
	close(fd);
}

/* Records the inodes of every existing path matching pattern rest below path. Globs
 * are expanded one component at a time by listing the directory. */
static void deny_expand(struct gofer_server *s, char *path, size_t plen, const char *rest)
{
	const char *slash = strchr(rest, '/');
	size_t clen = slash ? (size_t)(slash - rest) : strlen(rest);
	char comp[GOFER_NAME_MAX + 1];
	uint8_t *buf;
	long n, pos;
	int dfd;

	if (clen == 0 || clen > GOFER_NAME_MAX)
		return;
	memcpy(comp, rest, clen);
	comp[clen] = '\0';

	if (!strpbrk(comp, "*?[\\")) {
		size_t at = plen + !!plen; /* after the '/' separator, if any */

		if (at + clen >= DENY_PATH_MAX)
			return;
		if (plen)
			path[plen] = '/';
		memcpy(path + at, comp, clen + 1);
		if (slash)
			deny_expand(s, path, at + clen, slash + 1);
		else
			deny_record(s, path);
		path[plen] = '\0';
		return;
	}

	dfd = openat2_fd(s->root.path_fd, plen ? path : ".",
			 O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC, DENY_RESOLVE);
	if (dfd < 0)
		return;
	/* Own buffer per level: the recursion lists other directories. */
	buf = malloc(DENTS_BUF);
	if (!buf)
		goto out;
	while ((n = getdents(dfd, buf, DENTS_BUF)) > 0) {
		const struct linux_dirent64 *d;

		pos = 0;
		while ((d = dent_next(buf, n, &pos))) {
			size_t nl = dent_namelen(d);

			if (gofer_name_check(d->d_name, nl) || fnmatch(comp, d->d_name, 0))
				continue;
			if (plen + 1 + nl >= DENY_PATH_MAX)
				continue;
			if (plen)
				path[plen] = '/';
			memcpy(path + plen + !!plen, d->d_name, nl + 1);
			if (slash)
				deny_expand(s, path, plen + !!plen + nl, slash + 1);
			else
				deny_record(s, path);
			path[plen] = '\0';
		}
	}
out:
	free(buf);
	close(dfd);
}

int gofer_export_check(const char *path)
{
	const char *p, *slash;

	if (!path || path[0] != '/' || path[1] == '\0')
		return -EINVAL;
	if (strnlen(path, PATH_MAX) >= PATH_MAX)
		return -ENAMETOOLONG;
	for (p = path + 1;; p = slash + 1) {
		int err;

		slash = strchr(p, '/');
		err = gofer_name_check(p, slash ? (size_t)(slash - p) : strlen(p));
		if (err)
			return err;
		if (!slash)
			return 0;
	}
}

int gofer_canonical_export(const char *in, char *out, size_t outsz)
{
	struct stat st;
	char *r;
	int err;

	if (!in || !out)
		return -EINVAL;
	r = realpath(in, NULL);
	if (!r)
		return -errno;
	if (stat(r, &st) < 0)
		err = -errno;
	else if (!S_ISDIR(st.st_mode))
		err = -ENOTDIR;
	else
		err = gofer_export_check(r); /* "/" is refused here */
	if (!err && strlen(r) >= outsz)
		err = -ENAMETOOLONG;
	if (!err)
		memcpy(out, r, strlen(r) + 1);
	free(r);
	return err;
}

/* Component-wise order: a path sorts right before the paths inside it. */
static int exp_cmp(const void *a, const void *b)
{
	const struct gexport *x = a, *y = b;
	uint32_t n = x->ncomp < y->ncomp ? x->ncomp : y->ncomp;

	for (uint32_t i = 0; i < n; i++) {
		int c = strcmp(x->comp[i], y->comp[i]);

		if (c)
			return c;
	}
	return (x->ncomp > y->ncomp) - (x->ncomp < y->ncomp);
}

/* Is b a or inside a? */
static bool exp_covers(const struct gexport *a, const struct gexport *b)
{
	if (a->ncomp > b->ncomp)
		return false;
	for (uint32_t i = 0; i < a->ncomp; i++)
		if (strcmp(a->comp[i], b->comp[i]) != 0)
			return false;
	return true;
}

static void exp_free(struct gexport *e)
{
	free(e->buf);
	free(e->comp);
}

/* Splits, sorts and deduplicates the paths of a and b (each NULL-terminated, either
 * NULL) into a table. */
static int table_build(const char *const *a, const char *const *b, struct gexport **tabp,
		       uint32_t *np)
{
	const char *const *lists[2] = { a, b };
	struct gexport *tab;
	size_t n = 0;
	uint32_t k = 0, cnt = 0;

	for (int l = 0; l < 2; l++)
		for (size_t i = 0; lists[l] && lists[l][i]; i++)
			n++;
	if (n == 0)
		return 0;
	if (n > UINT32_MAX / 2)
		return -E2BIG;
	tab = calloc(n, sizeof(*tab));
	if (!tab)
		return -ENOMEM;
	*tabp = tab;
	for (int l = 0; l < 2; l++)
		for (size_t i = 0; lists[l] && lists[l][i]; i++) {
			struct gexport *e = &tab[cnt];
			uint32_t nc = 1;
			char *p;

			e->buf = strdup(lists[l][i] + 1);
			if (!e->buf)
				return -ENOMEM;
			for (p = e->buf; *p; p++)
				nc += *p == '/';
			e->comp = calloc(nc, sizeof(*e->comp));
			if (!e->comp) {
				free(e->buf);
				return -ENOMEM;
			}
			*np = ++cnt;
			e->comp[e->ncomp++] = e->buf;
			for (p = e->buf; *p; p++)
				if (*p == '/') {
					*p = '\0';
					e->comp[e->ncomp++] = p + 1;
				}
		}
	qsort(tab, cnt, sizeof(*tab), exp_cmp);
	/* Drop duplicates and exports inside another (each sorts right after a kept one
	 * covering it): not needed for correctness, since a covering export sorts first
	 * and child_vis stops there, but it keeps the table and the searches small. */
	for (uint32_t i = 0; i < cnt; i++) {
		if (k && exp_covers(&tab[k - 1], &tab[i]))
			exp_free(&tab[i]);
		else
			tab[k++] = tab[i];
	}
	*np = k;
	return 0;
}

/* Checks every export and writable export, then builds the tables: visibility
 * (system_only only) over both, writes over the writable ones. */
static int exports_init(struct gofer_server *s, const char *const *paths,
			const char *const *writable)
{
	const char *const *lists[2] = { paths, writable };
	int err;

	for (int l = 0; l < 2; l++)
		for (size_t n = 0; lists[l] && lists[l][n]; n++) {
			err = gofer_export_check(lists[l][n]);
			if (err)
				return err;
		}
	if (s->system_only) {
		err = table_build(paths, writable, &s->exp, &s->nexp);
		if (err)
			return err;
	}
	return table_build(writable, NULL, &s->wexp, &s->nwexp);
}

/* Copies the patterns, dropping leading/trailing and doubled '/', and notes the deepest. */
static int deny_init(struct gofer_server *s, const char *const *pats)
{
	size_t n = 0;

	if (!pats)
		pats = gofer_default_deny;
	while (pats[n])
		n++;
	s->deny = calloc(n + 1, sizeof(*s->deny));
	s->dino = calloc(DENY_INODES_MAX, sizeof(*s->dino));
	if (!s->deny || !s->dino)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *p = pats[i];
		char *q = malloc(strlen(p) + 1);
		size_t len = 0;
		uint32_t depth = 1;

		if (!q)
			return -ENOMEM;
		for (; *p; p++) {
			if (*p == '/' && (len == 0 || q[len - 1] == '/'))
				continue;
			q[len++] = *p;
		}
		if (len && q[len - 1] == '/')
			len--;
		q[len] = '\0';
		if (len == 0) {
			free(q);
			continue;
		}
		for (size_t k = 0; k < len; k++)
			depth += q[k] == '/';
		if (depth > GOFER_DENY_DEPTH_MAX) {
			free(q);
			return -EINVAL;
		}
		if (depth > s->deny_depth)
			s->deny_depth = depth;
		s->deny[s->ndeny++] = q;
	}
	for (size_t i = 0; i < s->ndeny; i++) {
		char path[DENY_PATH_MAX];

		path[0] = '\0';
		deny_expand(s, path, 0, s->deny[i]);
	}
	return 0;
}

/* ---- fids ---- */

static struct gnode *fid_get(const struct gofer_server *s, uint32_t fid)
{
	return fid < s->nfids ? s->fids[fid] : NULL;
}

static void node_unref(struct gofer_server *s, struct gnode *n)
{
	while (n && --n->refs == 0) {
		struct gnode *parent = n->parent;

		if (n->open_fd >= 0)
			close(n->open_fd);
		n->open_fd = -1;
		if (n == &s->root)
			return; /* path_fd is the caller's; the struct is ours */
		close(n->path_fd);
		free(n->name);
		free(n);
		s->nnodes--;
		n = parent;
	}
}

/* Finds a free fid (lowest first), growing the table within max_nodes. */
static int fid_alloc(struct gofer_server *s, struct gnode *n, uint32_t *fid)
{
	uint32_t i;

	for (i = s->hint; i < s->nfids; i++)
		if (!s->fids[i])
			goto found;
	if (s->nfids >= s->max_nodes)
		return -EMFILE;
	{
		uint64_t cap = s->nfids ? (uint64_t)s->nfids * 2 : 64;
		struct gnode **t;

		if (cap > s->max_nodes)
			cap = s->max_nodes;
		t = realloc(s->fids, cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		memset(t + s->nfids, 0, (cap - s->nfids) * sizeof(*t));
		i = s->nfids;
		s->fids = t;
		s->nfids = (uint32_t)cap;
	}
found:
	s->fids[i] = n;
	s->hint = i + 1;
	*fid = i;
	return 0;
}

/* ---- operations: each returns the reply length in s->tx or -errno ---- */

static int reply(struct gofer_server *s, struct gofer_reply *rep, const struct gofer_req *req)
{
	rep->op = req->op | GOFER_REPLY;
	rep->tag = req->tag;
	return gofer_encode_reply(s->tx, GOFER_MSG_MAX, rep);
}

/* Makes a fid for dir/name (already checked against the policy, vis its visibility):
 * opened O_PATH without following anything, refused if deny-listed by inode or on a
 * kernel pseudo filesystem. Returns 0 with the node, its fid and its lstat. */
static int node_add(struct gofer_server *s, struct gnode *dir, const char *name,
		    const struct gvis *vis, struct gnode **out, uint32_t *fid, struct stat *st)
{
	struct gnode *n = NULL;
	int fd, err;

	if (s->nnodes >= s->max_nodes)
		return -EMFILE;
	fd = openat2_fd(dir->path_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, WALK_RESOLVE);
	if (fd < 0)
		return fd;
	if (fstat(fd, st) < 0) {
		err = -errno;
		goto fail;
	}
	if (inode_denied(s, st->st_dev, st->st_ino) || pseudo_fs(fd)) {
		err = -EACCES;
		goto fail;
	}
	n = calloc(1, sizeof(*n));
	if (!n || !(n->name = strdup(name))) {
		err = -ENOMEM;
		goto fail;
	}
	n->path_fd = fd;
	n->open_fd = -1;
	n->dev = st->st_dev;
	n->ino = st->st_ino;
	n->mode = st->st_mode;
	n->depth = dir->depth + 1;
	n->refs = 1;
	n->vis = *vis;
	n->wr = child_wr(s, dir, name, st->st_dev);
	err = fid_alloc(s, n, fid);
	if (err)
		goto fail;
	n->parent = dir;
	dir->refs++;
	s->nnodes++;
	*out = n;
	return 0;
fail:
	if (n)
		free(n->name);
	free(n);
	close(fd);
	return err;
}

/* Drops a fid node_add just made. */
static void node_drop(struct gofer_server *s, struct gnode *n, uint32_t fid)
{
	s->fids[fid] = NULL;
	if (fid < s->hint)
		s->hint = fid;
	node_unref(s, n);
}

static int op_walk(struct gofer_server *s, const struct gofer_req *req)
{
	struct gofer_reply rep = { 0 };
	struct gnode *dir = fid_get(s, req->fid), *n;
	const char *name = req->walk.name;
	struct gvis vis;
	struct stat st;
	uint32_t fid;
	int err;

	if (!dir)
		return -EBADF;
	if (!S_ISDIR(dir->mode))
		return -ENOTDIR;
	/* Policy before touching the host: hidden and denied names cost no syscall and
	 * answer the same whether or not the file exists. */
	if (!child_vis(s, dir, name, &vis))
		return -ENOENT;
	if (path_denied(s, dir, name))
		return -EACCES;
	err = node_add(s, dir, name, &vis, &n, &fid, &st);
	if (err)
		return err;
	rep.walk.fid = fid;
	to_gstat(n->path_fd, &st, &rep.walk.st);
	return reply(s, &rep, req);
}

static int op_stat(struct gofer_server *s, const struct gofer_req *req)
{
	struct gofer_reply rep = { 0 };
	struct gnode *n = fid_get(s, req->fid);
	struct stat st;

	if (!n)
		return -EBADF;
	if (fstatat(n->path_fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	to_gstat(n->path_fd, &st, &rep.stat);
	return reply(s, &rep, req);
}

/* Re-opens n by name through its parent (an O_PATH fd cannot be reopened without
 * /proc) with oflags (O_NOFOLLOW and O_NONBLOCK added), then insists it is the same
 * inode: a file swapped since the walk is refused (-ESTALE) rather than served.
 * O_NONBLOCK keeps a swapped-in FIFO from blocking. Returns the fd or -errno. */
static int node_reopen(struct gnode *n, uint64_t oflags)
{
	struct stat st;
	int fd, err;

	oflags |= O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	if (n->parent)
		fd = openat2_fd(n->parent->path_fd, n->name, oflags, WALK_RESOLVE);
	else
		fd = openat2_fd(n->path_fd, ".", oflags, WALK_RESOLVE);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto fail;
	}
	if (st.st_dev != n->dev || st.st_ino != n->ino ||
	    (st.st_mode & S_IFMT) != (n->mode & S_IFMT)) {
		err = -ESTALE;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return err;
}

static int op_open(struct gofer_server *s, const struct gofer_req *req)
{
	struct gofer_reply rep = { 0 };
	struct gnode *n = fid_get(s, req->fid);
	uint32_t flags = req->open.flags;
	bool wr = (flags & GOFER_OF_ACCMODE) != GOFER_OF_RDONLY ||
		  (flags & (GOFER_OF_TRUNC | GOFER_OF_APPEND));
	uint64_t oflags = O_RDONLY;
	int fd;

	if (!n)
		return -EBADF;
	if (wr && !node_writable(n))
		return -EROFS;
	if (n->open_fd >= 0)
		return n->open_flags == flags ? reply(s, &rep, req) : -EBUSY; /* idempotent */
	if (S_ISLNK(n->mode))
		return -ELOOP;
	if ((flags & GOFER_OF_DIRECTORY) && !S_ISDIR(n->mode))
		return -ENOTDIR;
	/* FIFOs, sockets and device nodes are the sentry's to emulate; opening a host
	 * one could block the gofer or reach a host device. */
	if (!S_ISREG(n->mode) && !S_ISDIR(n->mode))
		return -EACCES;
	if (S_ISDIR(n->mode)) {
		if (wr)
			return -EISDIR;
		oflags |= O_DIRECTORY;
	}
	if ((flags & GOFER_OF_ACCMODE) == GOFER_OF_WRONLY)
		oflags = O_WRONLY;
	else if ((flags & GOFER_OF_ACCMODE) == GOFER_OF_RDWR)
		oflags = O_RDWR;
	if (flags & GOFER_OF_APPEND)
		oflags |= O_APPEND;
	fd = node_reopen(n, oflags);
	if (fd < 0)
		return fd;
	/* Truncated only once it is known to be the walked file (through a second,
	 * writable fd for O_RDONLY|O_TRUNC, which Linux truncates too). */
	if (flags & GOFER_OF_TRUNC) {
		int tfd = oflags & O_ACCMODE ? fd : node_reopen(n, O_WRONLY);
		int err = tfd < 0 ? tfd : ftruncate(tfd, 0) < 0 ? -errno : 0;

		if (tfd >= 0 && tfd != fd)
			close(tfd);
		if (err) {
			close(fd);
			return err;
		}
	}
	n->open_fd = fd;
	n->open_flags = flags;
	return reply(s, &rep, req);
}

static int op_read(struct gofer_server *s, const struct gofer_req *req)
{
	struct gofer_reply rep = { 0 };
	struct gnode *n = fid_get(s, req->fid);
	ssize_t got;

	if (!n || n->open_fd < 0)
		return -EBADF;
	do
		got = pread(n->open_fd, s->io, req->read.count, (off_t)req->read.off);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return -errno;
	rep.read.data = s->io;
	rep.read.count = (uint32_t)got;
	return reply(s, &rep, req);
}

int gofer_memory_open(struct gofer_memory *m, int fd)
{
	struct stat st;

	m->fd = -1;
	m->pipe[0] = m->pipe[1] = -1;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || fcntl(fd, F_GET_SEALS) < 0)
		return -EBADF;
	if (pipe2(m->pipe, O_CLOEXEC) < 0)
		return -errno;
	/* One fill of the sentry's page cache in one pass, if the pipe may be that big. */
	fcntl(m->pipe[1], F_SETPIPE_SZ, 256 * 1024);
	m->fd = fd;
	m->size = (uint64_t)st.st_size;
	return 0;
}

void gofer_memory_close(struct gofer_memory *m)
{
	for (int i = 0; i < 2; i++)
		if (m->pipe[i] >= 0)
			close(m->pipe[i]);
	m->fd = -1;
	m->pipe[0] = m->pipe[1] = -1;
}

/* Copies through the gofer's buffer, for a file that cannot be spliced. */
static long read_mem_copy(struct gofer_server *s, int from, uint64_t off, uint64_t mem_off,
			  uint32_t count)
{
	uint32_t done = 0;

	while (done < count) {
		size_t want = count - done < GOFER_IO_MAX ? count - done : GOFER_IO_MAX;
		ssize_t got = pread(from, s->io, want, (off_t)(off + done));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return done ? (long)done : got < 0 ? -errno : 0;
		for (ssize_t put = 0; put < got;) {
			ssize_t w = pwrite(s->mem.fd, s->io + put, (size_t)(got - put),
					   (off_t)(mem_off + done + (uint64_t)put));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return w < 0 ? -errno : -EIO;
			put += w;
		}
		done += (uint32_t)got;
	}
	return done;
}

/* READ_MEM: file data into the memory file at mem_off, inside its current size (so the
 * sentry's request can never grow it). The bytes never cross the socket. */
static int op_read_mem(struct gofer_server *s, const struct gofer_req *req)
{
	struct gofer_reply rep = { 0 };
	struct gnode *n = fid_get(s, req->fid);
	uint64_t mem_off = req->read_mem.mem_off;
	uint32_t count = req->read_mem.count, done = 0;
	loff_t in = (loff_t)req->read_mem.off, out = (loff_t)mem_off;

	if (s->mem.fd < 0)
		return -EOPNOTSUPP;
	if (!n || n->open_fd < 0)
		return -EBADF;
	if (!S_ISREG(n->mode))
		return -EINVAL;
	if (mem_off > s->mem.size || count > s->mem.size - mem_off) {
		struct stat st;
		if (fstat(s->mem.fd, &st) < 0)
			return -errno;
		s->mem.size = (uint64_t)st.st_size;
		if (mem_off > s->mem.size || count > s->mem.size - mem_off)
			return -EINVAL;
	}
	while (done < count) {
		ssize_t got = splice(n->open_fd, &in, s->mem.pipe[1], NULL, count - done, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && errno == EINVAL && done == 0) {
			long r = read_mem_copy(s, n->open_fd, req->read_mem.off, mem_off, count);
			if (r < 0)
				return (int)r;
			done = (uint32_t)r;
			break;
		}
		if (got <= 0) {
			if (done == 0 && got < 0)
				return -errno;
			break;
		}
		for (ssize_t left = got; left > 0;) {
			ssize_t put = splice(s->mem.pipe[0], NULL, s->mem.fd, &out, (size_t)left, 0);
			if (put < 0 && errno == EINTR)
				continue;
			if (put <= 0) {
				/* The pipe still holds this read's bytes: a later READ_MEM would
				 * put them in the wrong place. No more memory file (the pipe
				 * stays the caller's to close). */
				int err = put < 0 ? -errno : -EIO;
				s->mem.fd = -1;
				return err;
			}
			left -= put;
		}
		done += (uint32_t)got;
	}
	rep.write.count = done;
	return reply(s, &rep, req);
}

static int op_readdir(struct gofer_server *s, const struct gofer_req *req)
{
	struct gnode *n = fid_get(s, req->fid);
	struct gofer_dirent_enc e;
	struct gvis vis;
	bool full = false;
	long got;
	int err;

	if (!n || n->open_fd < 0)
		return -EBADF;
	if (!S_ISDIR(n->mode))
		return -ENOTDIR;
	/* Stateless: the cookie says where to start, so the fd's position is scratch. */
	if (lseek(n->open_fd, (off_t)req->readdir.off, SEEK_SET) < 0)
		return -errno;
	err = gofer_dirent_enc_begin(&e, s->tx, GOFER_MSG_MAX, req->tag, req->readdir.max);
	if (err)
		return err;
	while (!full) {
		const struct linux_dirent64 *d;
		long pos = 0;

		got = getdents(n->open_fd, s->dents, DENTS_BUF);
		if (got < 0) {
			if (e.count)
				break; /* send what we have; the error comes back next time */
			return (int)got;
		}
		if (got == 0)
			break;
		while ((d = dent_next(s->dents, got, &pos))) {
			size_t nl = dent_namelen(d);

			/* "." and ".." fail the name check and are skipped with anything odd. */
			if (gofer_name_check(d->d_name, nl) || !child_vis(s, n, d->d_name, &vis))
				continue;
			err = gofer_dirent_enc_add(&e, host_stat_dirent_ino(n->dev, d->d_ino), (uint64_t)d->d_off, d->d_type,
						   d->d_name, nl);
			if (err == -ENOSPC) {
				full = true;
				break;
			}
		}
	}
	return gofer_dirent_enc_end(&e);
}

static int op_readlink(struct gofer_server *s, const struct gofer_req *req)
{
	struct gofer_reply rep = { 0 };
	struct gnode *n = fid_get(s, req->fid);
	ssize_t got;

	if (!n)
		return -EBADF;
	if (!S_ISLNK(n->mode))
		return -EINVAL;
	got = readlinkat(n->path_fd, "", (char *)s->io, req->readlink.size);
	if (got < 0)
		return -errno;
	rep.readlink.target = (const char *)s->io;
	rep.readlink.len = (uint32_t)got;
	return reply(s, &rep, req);
}

static int op_clunk(struct gofer_server *s, const struct gofer_req *req)
{
	struct gofer_reply rep = { 0 };
	struct gnode *n = fid_get(s, req->fid);

	if (!n)
		return -EBADF;
	if (n == &s->root)
		return -EINVAL; /* the root lives as long as the connection */
	s->fids[req->fid] = NULL;
	if (req->fid < s->hint)
		s->hint = req->fid;
	node_unref(s, n);
	return reply(s, &rep, req);
}

/* ---- the write side ---- */

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452 /* the same on every architecture */
#endif

static bool same_inode(const struct gnode *a, const struct gnode *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

/* May an entry name be made or removed in directory fid? Returns the directory, or
 * NULL with *err set. The name itself was checked by the decoder (one component). */
static struct gnode *wdir(struct gofer_server *s, uint32_t fid, const char *name,
			  struct gvis *vis, int *err)
{
	struct gnode *dir = fid_get(s, fid);

	*err = !dir		      ? -EBADF
	       : !S_ISDIR(dir->mode)   ? -ENOTDIR
	       : path_denied(s, dir, name) ? -EACCES
	       : !node_writable(dir)  ? -EROFS
	       : !child_vis(s, dir, name, vis) ? -ENOENT /* cannot happen in an export */
				       : 0;
	return *err ? NULL : dir;
}

/* Refuses to touch an existing dir/name whose inode is deny-listed. */
static int entry_check(const struct gofer_server *s, const struct gnode *dir, const char *name)
{
	struct stat st;

	if (fstatat(dir->path_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return inode_denied(s, st.st_dev, st.st_ino) ? -EACCES : 0;
}

/* Replies to CREATE/MKDIR/SYMLINK with a fid for the entry just made; if it is not
 * ino (swapped by the host meanwhile), -ESTALE. */
static int reply_new(struct gofer_server *s, const struct gofer_req *req, struct gnode *dir,
		     const char *name, const struct gvis *vis, const struct stat *made,
		     struct gnode **out)
{
	struct gofer_reply rep = { 0 };
	struct gnode *n;
	struct stat st;
	uint32_t fid;
	int err = node_add(s, dir, name, vis, &n, &fid, &st);

	if (err)
		return err;
	if (made && (st.st_dev != made->st_dev || st.st_ino != made->st_ino)) {
		node_drop(s, n, fid);
		return -ESTALE;
	}
	if (out)
		*out = n;
	rep.walk.fid = fid;
	to_gstat(n->path_fd, &st, &rep.walk.st);
	return reply(s, &rep, req);
}

static int op_create(struct gofer_server *s, const struct gofer_req *req)
{
	const char *name = req->create.name;
	uint32_t cf = req->create.flags;
	uint64_t oflags = O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	struct gnode *dir, *n = NULL;
	struct gvis vis;
	struct stat st;
	int fd, err;

	dir = wdir(s, req->fid, name, &vis, &err);
	if (!dir)
		return err;
	if (s->nnodes >= s->max_nodes)
		return -EMFILE;
	if (cf & GOFER_CF_APPEND)
		oflags |= O_APPEND;
	fd = openat2_mode(dir->path_fd, name, oflags | O_CREAT | O_EXCL, req->create.mode);
	if (fd == -EEXIST && !(cf & GOFER_CF_EXCL)) {
		/* An existing file: only a regular one is opened (never a device or FIFO,
		 * which O_CREAT alone would open), and truncated once it is known to be
		 * that file. */
		if (fstatat(dir->path_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		if (S_ISLNK(st.st_mode))
			return -ELOOP;
		if (S_ISDIR(st.st_mode))
			return -EISDIR;
		if (!S_ISREG(st.st_mode) || inode_denied(s, st.st_dev, st.st_ino))
			return -EACCES;
		if (st.st_dev != dir->dev)
			return -EROFS; /* a bind mount over the name */
		fd = openat2_fd(dir->path_fd, name, oflags, WALK_RESOLVE);
		if (fd >= 0 && (cf & GOFER_CF_TRUNC)) {
			struct stat now;

			if (fstat(fd, &now) < 0 || now.st_dev != st.st_dev || now.st_ino != st.st_ino) {
				close(fd);
				return -ESTALE;
			}
			if (ftruncate(fd, 0) < 0) {
				err = -errno;
				close(fd);
				return err;
			}
		}
	}
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EACCES;
	}
	err = reply_new(s, req, dir, name, &vis, &st, &n);
	if (err < 0) {
		close(fd);
		return err;
	}
	n->open_fd = fd;
	n->open_flags = GOFER_OF_RDWR | (cf & GOFER_CF_APPEND ? GOFER_OF_APPEND : 0);
	return err;
}

static int op_write(struct gofer_server *s, const struct gofer_req *req)
{
	struct gofer_reply rep = { 0 };
	struct gnode *n = fid_get(s, req->fid);
	ssize_t got;

	if (!n || n->open_fd < 0 || (n->open_flags & GOFER_OF_ACCMODE) == GOFER_OF_RDONLY)
		return -EBADF;
	do
		got = pwrite(n->open_fd, req->write.data, req->write.count, (off_t)req->write.off);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return -errno;
	rep.write.count = (uint32_t)got;
	return reply(s, &rep, req);
}

/* MKDIR, and MKSOCK (a socket node for an AF_UNIX bind in the workspace), checked alike:
 * a writable export, the deny list, one component; no other node type is ever made. */
static int op_mkdir_or_sock(struct gofer_server *s, const struct gofer_req *req, bool sock)
{
	struct gvis vis;
	struct gnode *dir;
	int err;

	dir = wdir(s, req->fid, req->mkdir.name, &vis, &err);
	if (!dir)
		return err;
	if (s->nnodes >= s->max_nodes)
		return -EMFILE;
	int r = sock ? mknodat(dir->path_fd, req->mkdir.name, S_IFSOCK | req->mkdir.mode, 0)
		     : mkdirat(dir->path_fd, req->mkdir.name, req->mkdir.mode);
	if (r < 0)
		return -errno;
	return reply_new(s, req, dir, req->mkdir.name, &vis, NULL, NULL);
}

static int op_symlink(struct gofer_server *s, const struct gofer_req *req)
{
	struct gvis vis;
	struct gnode *dir;
	int err;

	dir = wdir(s, req->fid, req->symlink.name, &vis, &err);
	if (!dir)
		return err;
	if (s->nnodes >= s->max_nodes)
		return -EMFILE;
	if (symlinkat(req->symlink.target, dir->path_fd, req->symlink.name) < 0)
		return -errno;
	return reply_new(s, req, dir, req->symlink.name, &vis, NULL, NULL);
}

static int op_link(struct gofer_server *s, const struct gofer_req *req)
{
	struct gofer_reply rep = { 0 };
	struct gnode *t = fid_get(s, req->fid), *dir;
	const char *name = req->link.name;
	struct gvis vis;
	struct stat st;
	int err;

	dir = wdir(s, req->link.dir_fid, name, &vis, &err);
	if (!dir)
		return err;
	if (!t)
		return -EBADF;
	if (S_ISDIR(t->mode))
		return -EPERM;
	if (!node_writable(t) || t->wr.lo != dir->wr.lo || t->dev != dir->dev || !t->parent)
		return -EXDEV;
	/* By name (linkat never follows without AT_SYMLINK_FOLLOW), then checked: a
	 * link to anything but the fid's inode is undone. */
	if (linkat(t->parent->path_fd, t->name, dir->path_fd, name, 0) < 0)
		return -errno;
	if (fstatat(dir->path_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != t->dev ||
	    st.st_ino != t->ino) {
		unlinkat(dir->path_fd, name, 0);
		return -ESTALE;
	}
	return reply(s, &rep, req);
}

static int op_unlink(struct gofer_server *s, const struct gofer_req *req)
{
	struct gofer_reply rep = { 0 };
	const char *name = req->unlink.name;
	struct gvis vis;
	struct gnode *dir;
	int err;

	dir = wdir(s, req->fid, name, &vis, &err);
	if (!dir)
		return err;
	err = entry_check(s, dir, name);
	if (err)
		return err;
	if (unlinkat(dir->path_fd, name,
		     req->unlink.flags & GOFER_UNLINK_REMOVEDIR ? AT_REMOVEDIR : 0) < 0)
		return -errno;
	return reply(s, &rep, req);
}

/* Points node n at parent p / name after a RENAME moved it there. */
static void node_move(struct gofer_server *s, struct gnode *n, struct gnode *p, const char *name)
{
	char *nm = strdup(name);
	struct gnode *old = n->parent;

	if (!nm)
		return; /* the fid goes stale: its OPEN answers -ENOENT or -ESTALE */
	free(n->name);
	n->name = nm;
	if (old != p) {
		p->refs++;
		n->parent = p;
		n->depth = p->depth + 1;
		node_unref(s, old);
	}
}

static int op_rename(struct gofer_server *s, const struct gofer_req *req)
{
	struct gofer_reply rep = { 0 };
	const char *on = req->rename.old_name, *nn = req->rename.new_name;
	uint32_t f = req->rename.flags;
	unsigned hf = (f & GOFER_RENAME_NOREPLACE ? RENAME_NOREPLACE : 0) |
		      (f & GOFER_RENAME_EXCHANGE ? RENAME_EXCHANGE : 0);
	struct gnode *od, *nd;
	struct gvis vis;
	int err;

	od = wdir(s, req->fid, on, &vis, &err);
	if (!od)
		return err;
	nd = wdir(s, req->rename.new_dir_fid, nn, &vis, &err);
	if (!nd)
		return err;
	if (od->wr.lo != nd->wr.lo || od->dev != nd->dev)
		return -EXDEV;
	err = entry_check(s, od, on);
	if (!err && (f & GOFER_RENAME_EXCHANGE))
		err = entry_check(s, nd, nn);
	if (err)
		return err;
	/* The syscall itself: glibc's renameat2 turns flags 0 into renameat, which the
	 * seccomp filter does not allow. */
	if (syscall(SYS_renameat2, od->path_fd, on, nd->path_fd, nn, hf) < 0)
		return -errno;
	/* Fids of the moved files follow them (each node looked at once, so an exchange
	 * does not move a node back). */
	for (uint32_t i = 1; i < s->nfids; i++) {
		struct gnode *n = s->fids[i];

		if (!n || !n->parent)
			continue;
		if (same_inode(n->parent, od) && strcmp(n->name, on) == 0)
			node_move(s, n, nd, nn);
		else if ((f & GOFER_RENAME_EXCHANGE) && same_inode(n->parent, nd) &&
			 strcmp(n->name, nn) == 0)
			node_move(s, n, od, on);
	}
	return reply(s, &rep, req);
}

/* A writable fd on regular file n for ftruncate/fchmod: the open one if it will do,
 * else a fresh reopen (*tmp set: the caller closes it). */
static int node_fd(struct gnode *n, uint64_t oflags, bool need_write, bool *tmp)
{
	*tmp = false;
	if (n->open_fd >= 0 &&
	    (!need_write || (n->open_flags & GOFER_OF_ACCMODE) != GOFER_OF_RDONLY))
		return n->open_fd;
	*tmp = true;
	return node_reopen(n, oflags);
}

static int op_setattr(struct gofer_server *s, const struct gofer_req *req)
{
	struct gofer_reply rep = { 0 };
	struct gnode *n = fid_get(s, req->fid);
	const struct gofer_setattr *a = &req->setattr;
	struct stat st;
	bool tmp;
	int fd, err = 0;

	if (!n)
		return -EBADF;
	if (!node_writable(n))
		return -EROFS;
	if ((a->valid & (GOFER_SETATTR_UID | GOFER_SETATTR_GID)) && !s->root_user)
		return -EPERM;
	if (a->valid & GOFER_SETATTR_SIZE) {
		if (S_ISDIR(n->mode))
			return -EISDIR;
		if (!S_ISREG(n->mode))
			return -EINVAL;
		fd = node_fd(n, O_WRONLY, true, &tmp);
		if (fd < 0)
			return fd;
		if (ftruncate(fd, (off_t)a->size) < 0)
			err = -errno;
		if (tmp)
			close(fd);
		if (err)
			return err;
	}
	if (a->valid & GOFER_SETATTR_MODE) {
		if (S_ISLNK(n->mode))
			return -EOPNOTSUPP;
		/* The very inode the fid holds; before Linux 6.6 (no fchmodat2) through a
		 * verified reopen. */
		if (syscall(SYS_fchmodat2, n->path_fd, "", a->mode, AT_EMPTY_PATH) < 0) {
			if (errno != ENOSYS)
				return -errno;
			if (!S_ISREG(n->mode) && !S_ISDIR(n->mode))
				return -EOPNOTSUPP;
			fd = node_fd(n, S_ISDIR(n->mode) ? O_RDONLY | O_DIRECTORY : O_RDONLY, false,
				     &tmp);
			if (fd < 0)
				return fd;
			if (fchmod(fd, a->mode) < 0)
				err = -errno;
			if (tmp)
				close(fd);
			if (err)
				return err;
		}
	}
	if ((a->valid & (GOFER_SETATTR_UID | GOFER_SETATTR_GID)) &&
	    fchownat(n->path_fd, "", a->valid & GOFER_SETATTR_UID ? a->uid : (uid_t)-1,
		     a->valid & GOFER_SETATTR_GID ? a->gid : (gid_t)-1,
		     AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (a->valid & (GOFER_SETATTR_ATIME | GOFER_SETATTR_MTIME)) {
		struct timespec ts[2] = {
			{ .tv_sec = 0, .tv_nsec = UTIME_OMIT },
			{ .tv_sec = 0, .tv_nsec = UTIME_OMIT },
		};

		if (a->valid & GOFER_SETATTR_ATIME)
			ts[0] = (struct timespec){ .tv_sec = a->atime_sec, .tv_nsec = a->atime_nsec };
		if (a->valid & GOFER_SETATTR_MTIME)
			ts[1] = (struct timespec){ .tv_sec = a->mtime_sec, .tv_nsec = a->mtime_nsec };
		if (utimensat(n->path_fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
	}
	if (fstatat(n->path_fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	to_gstat(n->path_fd, &st, &rep.stat);
	return reply(s, &rep, req);
}

static int op_fsync(struct gofer_server *s, const struct gofer_req *req)
{
	struct gofer_reply rep = { 0 };
	struct gnode *n = fid_get(s, req->fid);
	int rc;

	if (!n || n->open_fd < 0)
		return -EBADF;
	rc = req->fsync.flags & GOFER_FSYNC_DATASYNC ? fdatasync(n->open_fd) : fsync(n->open_fd);
	if (rc < 0)
		return -errno;
	return reply(s, &rep, req);
}

static int op_allocate(struct gofer_server *s, const struct gofer_req *req)
{
	struct gofer_reply rep = { 0 };
	struct gnode *n = fid_get(s, req->fid);
	int rc;

	if (!n || n->open_fd < 0 || (n->open_flags & GOFER_OF_ACCMODE) == GOFER_OF_RDONLY)
		return -EBADF;
	if (!node_writable(n))
		return -EROFS;
	do
		rc = fallocate(n->open_fd,
			       (req->allocate.mode & GOFER_FALLOC_KEEP_SIZE ? FALLOC_FL_KEEP_SIZE : 0) |
			       (req->allocate.mode & GOFER_FALLOC_PUNCH_HOLE ? FALLOC_FL_PUNCH_HOLE : 0),
			       (off_t)req->allocate.off, (off_t)req->allocate.len);
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return -errno;
	return reply(s, &rep, req);
}

static int op_statfs(struct gofer_server *s, const struct gofer_req *req)
{
	struct gofer_reply rep = { 0 };
	struct gnode *n = fid_get(s, req->fid);
	struct statfs sf;

	if (!n)
		return -EBADF;
	if (fstatfs(n->path_fd, &sf) < 0)
		return -errno;
	rep.statfs = (struct gofer_statfs){
		.type = (uint64_t)sf.f_type, .bsize = (uint64_t)sf.f_bsize,
		.blocks = sf.f_blocks, .bfree = sf.f_bfree, .bavail = sf.f_bavail,
		.files = sf.f_files, .ffree = sf.f_ffree, .namelen = (uint64_t)sf.f_namelen,
	};
	return reply(s, &rep, req);
}

static int dispatch(struct gofer_server *s, const struct gofer_req *req)
{
	switch (req->op) {
	case GOFER_OP_WALK:
		return op_walk(s, req);
	case GOFER_OP_STAT:
		return op_stat(s, req);
	case GOFER_OP_OPEN:
		return op_open(s, req);
	case GOFER_OP_READ:
		return op_read(s, req);
	case GOFER_OP_READ_MEM:
		return op_read_mem(s, req);
	case GOFER_OP_READDIR:
		return op_readdir(s, req);
	case GOFER_OP_READLINK:
		return op_readlink(s, req);
	case GOFER_OP_CLUNK:
		return op_clunk(s, req);
	case GOFER_OP_CREATE:
		return op_create(s, req);
	case GOFER_OP_WRITE:
		return op_write(s, req);
	case GOFER_OP_MKDIR:
		return op_mkdir_or_sock(s, req, false);
	case GOFER_OP_MKSOCK:
		return op_mkdir_or_sock(s, req, true);
	case GOFER_OP_SYMLINK:
		return op_symlink(s, req);
	case GOFER_OP_LINK:
		return op_link(s, req);
	case GOFER_OP_UNLINK:
		return op_unlink(s, req);
	case GOFER_OP_RENAME:
		return op_rename(s, req);
	case GOFER_OP_SETATTR:
		return op_setattr(s, req);
	case GOFER_OP_FSYNC:
		return op_fsync(s, req);
	case GOFER_OP_ALLOCATE:
		return op_allocate(s, req);
	case GOFER_OP_STATFS:
		return op_statfs(s, req);
	}
	return -ENOSYS;
}

/* ---- connection ---- */

static int server_init(struct gofer_server *s, int sock, int root_dirfd,
		       const struct gofer_policy *pol)
{
	struct stat st;
	int err;

	s->sock = sock;
	s->system_only = pol && pol->system_only;
	s->max_nodes = pol && pol->max_fids ? pol->max_fids : GOFER_MAX_FIDS_DEFAULT;
	if (fstat(root_dirfd, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (pseudo_fs(root_dirfd))
		return -EACCES;
	s->root.path_fd = root_dirfd;
	s->root.open_fd = -1;
	s->root.dev = st.st_dev;
	s->root.ino = st.st_ino;
	s->root.mode = st.st_mode;
	s->root.name = NULL;
	s->root.refs = 1;
	s->nnodes = 1;
	err = exports_init(s, pol ? pol->exports : NULL, pol ? pol->writable : NULL);
	if (err)
		return err;
	if (s->system_only)
		s->root.vis = (struct gvis){ .kind = VIS_PARTIAL, .lo = 0, .hi = s->nexp };
	s->root.wr = (struct gwr){ .kind = s->nwexp ? W_PARTIAL : W_NONE, .hi = s->nwexp };
	s->root_user = geteuid() == 0;
	if (pol && pol->memory)
		s->mem = *pol->memory;

	s->rx = malloc(GOFER_MSG_MAX);
	s->tx = malloc(GOFER_MSG_MAX);
	s->io = malloc(GOFER_IO_MAX);
	s->dents = malloc(DENTS_BUF);
	if (!s->rx || !s->tx || !s->io || !s->dents)
		return -ENOMEM;
	err = fid_alloc(s, &s->root, &(uint32_t){ 0 });
	if (err)
		return err;
	return deny_init(s, pol ? pol->deny : NULL);
}

static void server_fini(struct gofer_server *s)
{
	for (uint32_t i = 0; i < s->nfids; i++)
		if (s->fids[i] && s->fids[i] != &s->root)
			node_unref(s, s->fids[i]);
	if (s->root.open_fd >= 0)
		close(s->root.open_fd);
	free(s->fids);
	for (size_t i = 0; i < s->ndeny; i++)
		free(s->deny[i]);
	free(s->deny);
	free(s->dino);
	for (uint32_t i = 0; i < s->nexp; i++)
		exp_free(&s->exp[i]);
	free(s->exp);
	for (uint32_t i = 0; i < s->nwexp; i++)
		exp_free(&s->wexp[i]);
	free(s->wexp);
	free(s->rx);
	free(s->tx);
	free(s->io);
	free(s->dents);
}

/* Handles one received packet; returns the reply length in s->tx. */
static int handle(struct gofer_server *s, size_t len, bool truncated)
{
	struct gofer_req req;
	int ret = gofer_decode_req(s->rx, len, &req);

	if (truncated)
		ret = -EPROTO; /* larger than GOFER_MSG_MAX, or carried file descriptors */
	if (ret == 0)
		ret = dispatch(s, &req);
	if (ret < 0)
		ret = gofer_encode_error(s->tx, GOFER_MSG_MAX, req.tag, ret);
	return ret;
}

int gofer_serve(int sock_fd, int root_dirfd, const struct gofer_policy *policy)
{
	struct gofer_server s = { .root.open_fd = -1, .mem = { .fd = -1, .pipe = { -1, -1 } } };
	int err;

	err = server_init(&s, sock_fd, root_dirfd, policy);
	if (err)
		goto out;
	for (;;) {
		/* No control buffer: descriptors a hostile peer passes are discarded by the
		 * kernel, never installed here. */
		struct iovec iov = { .iov_base = s.rx, .iov_len = GOFER_MSG_MAX };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n;
		int len;

		n = recvmsg(sock_fd, &mh, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* ECONNRESET: the sentry went away with replies it never read (to
			 * requests it does not wait for): a normal end, as EOF. */
			err = errno == ECONNRESET ? 0 : -errno;
			break;
		}
		if (n == 0) {
			err = 0; /* peer closed */
			break;
		}
		len = handle(&s, (size_t)n, mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC));
		if (len < 0) {
			err = len; /* cannot happen: an error reply always encodes */
			break;
		}
		do
			n = send(sock_fd, s.tx, (size_t)len, MSG_NOSIGNAL);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			err = errno == EPIPE || errno == ECONNRESET ? 0 : -errno;
			break;
		}
	}
out:
	server_fini(&s);
	return err;
}
