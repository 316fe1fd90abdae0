/* The sandbox's root: an overlay of the read-only host tree (lower, through the gofer) and
 * a tmpfs in sentry memory (upper). Reads see the upper copy when there is one, else the
 * lower file; the first change to a lower file copies it up; a removed lower name leaves a
 * whiteout (a character device in the upper directory); a directory made where a lower one
 * was removed is opaque (the lower one's entries no longer show). Nothing reaches the host.
 * As Linux's overlayfs without redirect_dir, renaming a directory that has lower contents
 * gives EXDEV (mv then copies). */
#include "sentry/fs/fs.h"

#include <dirent.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct ovl_sb {
	struct inode **opaque; /* upper directories that hide the lower ones */
	int nopaque, capopaque;
};

struct ovl_inode {
	struct inode *lower, *upper;
	bool attr_upper; /* attributes changed in the sandbox: report the upper's */
	struct inode *parent; /* overlay directory it was found in (for copy-up), or NULL */
	char *name;
};

static const struct inode_ops ovl_inode_ops;

static struct inode *top(struct ovl_inode *o)
{
	return o->upper ? o->upper : o->lower;
}

static bool is_whiteout(struct inode *ino)
{
	return S_ISCHR(ino->mode); /* only whiteouts are character devices in the upper tmpfs */
}

static bool is_opaque(struct superblock *sb, struct inode *upper)
{
	struct ovl_sb *s = sb->priv;
	for (int i = 0; upper && i < s->nopaque; i++)
		if (s->opaque[i] == upper)
			return true;
	return false;
}

static int mark_opaque(struct superblock *sb, struct inode *upper)
{
	struct ovl_sb *s = sb->priv;
	if (is_opaque(sb, upper))
		return 0;
	if (s->nopaque == s->capopaque) {
		int cap = s->capopaque ? s->capopaque * 2 : 16;
		struct inode **n = realloc(s->opaque, sizeof(*n) * (size_t)cap);
		if (!n)
			return -ENOMEM;
		s->opaque = n;
		s->capopaque = cap;
	}
	inode_get(upper);
	s->opaque[s->nopaque++] = upper;
	return 0;
}

/* Takes over the references on lower and upper. */
static struct inode *ovl_make(struct superblock *sb, struct inode *lower, struct inode *upper,
			      struct inode *parent, const char *name)
{
	struct ovl_inode *o = calloc(1, sizeof(*o));
	if (!o)
		goto fail;
	o->lower = lower;
	o->upper = upper;
	o->name = name ? strdup(name) : NULL;
	if (name && !o->name)
		goto fail;
	struct inode *t = top(o);
	struct inode *ino = inode_new(sb, &ovl_inode_ops, t->mode, o);
	if (!ino)
		goto fail;
	ino->ino = t->ino;
	if (parent) {
		inode_get(parent);
		o->parent = parent;
	}
	return ino;
fail:
	if (o)
		free(o->name);
	free(o);
	inode_put(lower);
	inode_put(upper);
	return NULL;
}

static int ovl_lookup(struct inode *dir, const char *name, struct inode **out)
{
	struct ovl_inode *d = dir->priv;
	struct inode *u = NULL, *l = NULL;
	int r;
	if (d->upper && (r = d->upper->ops->lookup(d->upper, name, &u)) < 0 && r != -ENOENT)
		return r;
	if (u && is_whiteout(u)) {
		inode_put(u);
		return -ENOENT;
	}
	bool want_lower = d->lower && !is_opaque(dir->sb, d->upper) && (!u || S_ISDIR(u->mode));
	if (want_lower && (r = d->lower->ops->lookup(d->lower, name, &l)) < 0 && r != -ENOENT) {
		inode_put(u);
		return r;
	}
	if (u && l && !(S_ISDIR(u->mode) && S_ISDIR(l->mode))) {
		inode_put(l);
		l = NULL;
	}
	if (!u && !l)
		return -ENOENT;
	*out = ovl_make(dir->sb, l, u, dir, name);
	return *out ? 0 : -ENOMEM;
}

static int ovl_getattr(struct inode *ino, struct kstat *st)
{
	struct ovl_inode *o = ino->priv;
	/* A directory copied up only to hold new entries still looks like the host's. */
	if (S_ISDIR(ino->mode) && o->lower && !o->attr_upper)
		return inode_getattr(o->lower, st);
	return inode_getattr(top(o), st);
}

static long ovl_readlink(struct inode *ino, char *buf, size_t sz)
{
	struct inode *t = top(ino->priv);
	return t->ops->readlink ? t->ops->readlink(t, buf, sz) : -EINVAL;
}

static void ovl_release(struct inode *ino)
{
	struct ovl_inode *o = ino->priv;
	inode_put(o->lower);
	inode_put(o->upper);
	inode_put(o->parent);
	free(o->name);
	free(o);
}

/* ---- copy-up ---- */

/* Opens a raw inode (not through a dentry) for the copy. */
static int raw_open(struct inode *ino, int flags, struct file **out)
{
	struct file *f = file_new(NULL, ino, flags);
	if (!f)
		return -ENOMEM;
	int err = ino->ops->open ? ino->ops->open(ino, f) : -ENXIO;
	if (err < 0) {
		f->ops = NULL;
		file_put(f);
		return err;
	}
	*out = f;
	return 0;
}

static int copy_data(struct inode *from, struct inode *to)
{
	struct file *in, *out;
	int err = raw_open(from, O_RDONLY, &in);
	if (err < 0)
		return err;
	if ((err = raw_open(to, O_WRONLY, &out)) < 0) {
		file_put(in);
		return err;
	}
	char *buf = malloc(65536);
	uint64_t ipos = 0, opos = 0;
	long n = buf ? 0 : -ENOMEM;
	while (buf && (n = in->ops->read(in, NULL, buf, 65536, &ipos)) > 0) {
		long w = out->ops->write(out, NULL, buf, (size_t)n, &opos);
		if (w != n) {
			n = w < 0 ? w : -EIO;
			break;
		}
	}
	free(buf);
	file_put(in);
	file_put(out);
	return n < 0 ? (int)n : 0;
}

static int copy_up(struct inode *ino);

/* Gives dir (an overlay directory) an upper directory, making its parents' first. */
static int copy_up(struct inode *ino)
{
	struct ovl_inode *o = ino->priv;
	if (o->upper)
		return 0;
	if (!o->parent)
		return -EROFS; /* the root always has an upper */
	int err = copy_up(o->parent);
	if (err < 0)
		return err;
	struct inode *pu = ((struct ovl_inode *)o->parent->priv)->upper;
	struct kstat st;
	if ((err = inode_getattr(o->lower, &st)) < 0)
		return err;
	struct inode *u = NULL;
	if (S_ISDIR(st.mode)) {
		err = pu->ops->create(pu, o->name, S_IFDIR | (st.mode & 07777), &u);
	} else if (S_ISREG(st.mode)) {
		err = pu->ops->create(pu, o->name, S_IFREG | (st.mode & 07777), &u);
		if (err == 0 && (err = copy_data(o->lower, u)) < 0) {
			pu->ops->unlink(pu, o->name, u, false);
			inode_put(u);
			u = NULL;
		}
	} else if (S_ISLNK(st.mode)) {
		char target[PATH_MAX];
		long n = o->lower->ops->readlink(o->lower, target, sizeof(target) - 1);
		if (n < 0)
			return (int)n;
		target[n] = 0;
		err = pu->ops->symlink(pu, o->name, target, &u);
	} else {
		return -EOPNOTSUPP; /* host devices, fifos and sockets are not exported anyway */
	}
	if (err < 0)
		return err;
	/* Keep what the host file looked like: owner, mode and times. */
	struct iattr a = {.valid = ATTR_MODE | ATTR_UID | ATTR_GID | ATTR_ATIME | ATTR_MTIME,
			  .mode = st.mode, .uid = st.uid, .gid = st.gid, .atime = st.atime, .mtime = st.mtime};
	if (u->ops->setattr && !S_ISLNK(st.mode))
		u->ops->setattr(u, &a);
	o->upper = u;
	ino->ino = u->ino;
	return 0;
}

/* ---- open and the merged directory listing ---- */

struct collect {
	struct dirent_sink sink;
	struct synthetic_dirent *ents;
	char **names;
	size_t n, cap;
	struct inode *upper_dir; /* for telling whiteouts apart */
	bool skip_whiteouts;
};

static bool have_name(struct collect *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->ents[i].name, name) == 0)
			return true;
	return false;
}

static bool collect_emit(struct dirent_sink *s, const char *name, uint64_t ino, unsigned type,
			 uint64_t next_off)
{
	(void)next_off;
	struct collect *c = (struct collect *)s;
	if (!strcmp(name, ".") || !strcmp(name, "..") || have_name(c, name))
		return true;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct synthetic_dirent *e = realloc(c->ents, sizeof(*e) * cap);
		char **nm = realloc(c->names, sizeof(*nm) * cap);
		if (e)
			c->ents = e;
		if (nm)
			c->names = nm;
		if (!e || !nm)
			return false;
		c->cap = cap;
	}
	char *dup = strdup(name);
	if (!dup)
		return false;
	c->names[c->n] = dup;
	c->ents[c->n++] = (struct synthetic_dirent){dup, ino, type};
	return true;
}

static int collect_dir(struct inode *dir, struct collect *c)
{
	struct file *f;
	int err = raw_open(dir, O_RDONLY | O_DIRECTORY, &f);
	if (err < 0)
		return err;
	/* Read until a pass adds nothing (the sink never refuses while memory lasts). */
	size_t before;
	do {
		before = c->n;
		err = f->ops->getdents ? f->ops->getdents(f, &c->sink) : -ENOTDIR;
	} while (err == 0 && c->n != before);
	file_put(f);
	return err;
}

struct ovl_dir {
	struct synthetic_dirent *ents;
	char **names;
	size_t n;
};

static int ovl_getdents(struct file *f, struct dirent_sink *sink)
{
	struct ovl_dir *d = f->priv;
	return getdents_from_array(f, sink, d->ents, d->n);
}

static void ovl_dir_release(struct file *f)
{
	struct ovl_dir *d = f->priv;
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->names[i]);
	free(d->names);
	free(d->ents);
	free(d);
}

static const struct file_ops ovl_dir_ops = {
	.getdents = ovl_getdents,
	.release = ovl_dir_release,
};

/* The directory's entries as the guest sees them: ".", "..", the upper names that are not
 * whiteouts, then the lower names not covered by an upper name or a whiteout. */
static int merged_listing(struct inode *ino, struct file *f, struct collect *out)
{
	struct ovl_inode *o = ino->priv;
	struct collect c = {.sink = {collect_emit}};
	int err = 0;
	uint64_t pino = ino->ino;
	if (f && f->dentry && f->dentry->parent && f->dentry->parent->inode)
		pino = f->dentry->parent->inode->ino;
	collect_emit(&c.sink, "\001", 0, 0, 0); /* placeholders, fixed below */
	collect_emit(&c.sink, "\002", 0, 0, 0);
	if (o->upper)
		err = collect_dir(o->upper, &c);
	size_t nupper = c.n;
	if (!err && o->lower && !is_opaque(ino->sb, o->upper))
		err = collect_dir(o->lower, &c);
	/* Whiteouts hide themselves and the lower names they stand for. */
	size_t w = 2;
	for (size_t i = 2; i < c.n; i++) {
		bool drop = false;
		if (i < nupper && c.ents[i].type == DT_CHR)
			drop = true;
		for (size_t j = 2; !drop && j < nupper && i >= nupper; j++)
			drop = c.ents[j].type == DT_CHR && !strcmp(c.ents[j].name, c.ents[i].name);
		if (drop) {
			free(c.names[i]);
			continue;
		}
		c.ents[w] = c.ents[i];
		c.names[w++] = c.names[i];
	}
	c.n = w;
	if (c.n >= 2) {
		free(c.names[0]);
		free(c.names[1]);
		c.names[0] = strdup(".");
		c.names[1] = strdup("..");
		c.ents[0] = (struct synthetic_dirent){c.names[0], ino->ino, DT_DIR};
		c.ents[1] = (struct synthetic_dirent){c.names[1], pino, DT_DIR};
	}
	*out = c;
	return err;
}

static void collect_free(struct collect *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->names[i]);
	free(c->names);
	free(c->ents);
}

static int ovl_open(struct inode *ino, struct file *f)
{
	struct ovl_inode *o = ino->priv;
	if (S_ISDIR(ino->mode)) {
		struct collect c;
		int err = merged_listing(ino, f, &c);
		if (err < 0) {
			collect_free(&c);
			return err;
		}
		struct ovl_dir *d = malloc(sizeof(*d));
		if (!d) {
			collect_free(&c);
			return -ENOMEM;
		}
		*d = (struct ovl_dir){c.ents, c.names, c.n};
		f->priv = d;
		f->ops = &ovl_dir_ops;
		return 0;
	}
	int acc = f->flags & O_ACCMODE;
	if (acc != O_RDONLY || (f->flags & O_TRUNC)) {
		int err = copy_up(ino);
		if (err < 0)
			return err;
	}
	/* The file is the real one's: its ops, its inode (fstat, mmap, the page cache). */
	struct inode *real = top(o);
	inode_get(real);
	f->inode = real;
	inode_put(ino);
	return real->ops->open ? real->ops->open(real, f) : -ENXIO;
}

/* ---- changes ---- */

/* Removes a whiteout for name in dir's upper directory; true if there was one. */
static bool drop_whiteout(struct inode *du, const char *name)
{
	struct inode *w = NULL;
	if (du->ops->lookup(du, name, &w) < 0)
		return false;
	bool was = is_whiteout(w);
	if (was)
		du->ops->unlink(du, name, w, false);
	inode_put(w);
	return was;
}

static int ovl_create(struct inode *dir, const char *name, uint32_t mode, struct inode **out)
{
	int err = copy_up(dir);
	if (err < 0)
		return err;
	struct inode *du = ((struct ovl_inode *)dir->priv)->upper, *u;
	bool covered = drop_whiteout(du, name);
	if ((err = du->ops->create(du, name, mode, &u)) < 0)
		return err;
	/* A directory made where a lower one was removed must not show the old entries. */
	if (covered && S_ISDIR(mode))
		mark_opaque(dir->sb, u);
	*out = ovl_make(dir->sb, NULL, u, dir, name);
	return *out ? 0 : -ENOMEM;
}

static int ovl_symlink(struct inode *dir, const char *name, const char *target, struct inode **out)
{
	int err = copy_up(dir);
	if (err < 0)
		return err;
	struct inode *du = ((struct ovl_inode *)dir->priv)->upper, *u;
	drop_whiteout(du, name);
	if ((err = du->ops->symlink(du, name, target, &u)) < 0)
		return err;
	*out = ovl_make(dir->sb, NULL, u, dir, name);
	return *out ? 0 : -ENOMEM;
}

static int whiteout(struct inode *du, const char *name)
{
	struct inode *w;
	int err = du->ops->create(du, name, S_IFCHR, &w);
	if (err == 0)
		inode_put(w);
	return err;
}

static int ovl_unlink(struct inode *dir, const char *name, struct inode *victim, bool is_dir)
{
	struct ovl_inode *v = victim->priv;
	int err;
	if (is_dir) {
		struct collect c;
		err = merged_listing(victim, NULL, &c);
		size_t n = c.n;
		collect_free(&c);
		if (err < 0)
			return err;
		if (n > 2)
			return -ENOTEMPTY;
	}
	if ((err = copy_up(dir)) < 0)
		return err;
	struct inode *du = ((struct ovl_inode *)dir->priv)->upper;
	if (v->upper) {
		if (is_dir) {
			/* only whiteouts can be left in it: clear them */
			struct collect c = {.sink = {collect_emit}};
			collect_dir(v->upper, &c);
			for (size_t i = 0; i < c.n; i++) {
				struct inode *w;
				if (v->upper->ops->lookup(v->upper, c.ents[i].name, &w) == 0) {
					v->upper->ops->unlink(v->upper, c.ents[i].name, w, false);
					inode_put(w);
				}
			}
			collect_free(&c);
		}
		if ((err = du->ops->unlink(du, name, v->upper, is_dir)) < 0)
			return err;
	}
	if (v->lower)
		return whiteout(du, name);
	return 0;
}

static int ovl_setattr(struct inode *ino, const struct iattr *a)
{
	int err = copy_up(ino);
	if (err < 0)
		return err;
	struct inode *u = ((struct ovl_inode *)ino->priv)->upper;
	if (!u->ops->setattr)
		return -EPERM;
	err = u->ops->setattr(u, a);
	ino->mode = u->mode;
	((struct ovl_inode *)ino->priv)->attr_upper = true;
	return err;
}

static int ovl_link(struct inode *dir, const char *name, struct inode *target)
{
	int err;
	if ((err = copy_up(target)) < 0 || (err = copy_up(dir)) < 0)
		return err;
	struct inode *du = ((struct ovl_inode *)dir->priv)->upper;
	drop_whiteout(du, name);
	return du->ops->link(du, name, ((struct ovl_inode *)target->priv)->upper);
}

static int ovl_rename(struct inode *odir, const char *oname, struct inode *ndir, const char *nname,
		      unsigned flags)
{
	struct inode *src = NULL, *dst = NULL;
	int err = ovl_lookup(odir, oname, &src);
	if (err < 0)
		return err;
	if (ovl_lookup(ndir, nname, &dst) < 0)
		dst = NULL;
	struct ovl_inode *so = src->priv, *dso = dst ? dst->priv : NULL;
	/* Directories with lower contents would need their lower part moved too. */
	if ((S_ISDIR(src->mode) && so->lower) ||
	    ((flags & RENAME_EXCHANGE) && dso && (dso->lower || so->lower))) {
		err = -EXDEV;
		goto out;
	}
	if ((err = copy_up(src)) < 0 || (err = copy_up(odir)) < 0 || (err = copy_up(ndir)) < 0)
		goto out;
	struct inode *ou = ((struct ovl_inode *)odir->priv)->upper;
	struct inode *nu = ((struct ovl_inode *)ndir->priv)->upper;
	bool had_lower = so->lower != NULL;
	bool dst_covered = dso ? dso->lower != NULL : false;
	drop_whiteout(nu, nname);
	if (dst && dso->upper == NULL) {
		/* the target is only in the lower layer: the new upper entry covers it */
	}
	if ((err = ou->ops->rename(ou, oname, nu, nname, flags)) < 0)
		goto out;
	if (dst_covered && S_ISDIR(src->mode)) {
		struct inode *moved;
		if (nu->ops->lookup(nu, nname, &moved) == 0) {
			mark_opaque(ndir->sb, moved);
			inode_put(moved);
		}
	}
	if (had_lower && !(flags & RENAME_EXCHANGE))
		err = whiteout(ou, oname);
out:
	inode_put(src);
	inode_put(dst);
	return err;
}

static int ovl_tmpfile(struct inode *dir, uint32_t mode, bool linkable, struct inode **out)
{
	int err = copy_up(dir);
	if (err < 0)
		return err;
	struct inode *du = ((struct ovl_inode *)dir->priv)->upper, *u;
	if (!du->ops->tmpfile)
		return -EOPNOTSUPP;
	if ((err = du->ops->tmpfile(du, mode, linkable, &u)) < 0)
		return err;
	*out = ovl_make(dir->sb, NULL, u, dir, NULL);
	return *out ? 0 : -ENOMEM;
}

/* Extended attributes are the top layer's: the host's lower files keep none the sandbox
 * can see (the gofer does not serve them); setting one copies the file up. */
static long ovl_getxattr(struct inode *ino, const char *name, void *buf, size_t size)
{
	struct inode *t = top(ino->priv);
	return t->ops->getxattr ? t->ops->getxattr(t, name, buf, size) : -ENODATA;
}

static long ovl_listxattr(struct inode *ino, char *buf, size_t size)
{
	struct inode *t = top(ino->priv);
	return t->ops->listxattr ? t->ops->listxattr(t, buf, size) : 0;
}

static int ovl_setxattr(struct inode *ino, const char *name, const void *val, size_t size, int flags)
{
	int err = copy_up(ino);
	if (err < 0)
		return err;
	struct inode *u = ((struct ovl_inode *)ino->priv)->upper;
	return u->ops->setxattr ? u->ops->setxattr(u, name, val, size, flags) : -EOPNOTSUPP;
}

static int ovl_removexattr(struct inode *ino, const char *name)
{
	struct ovl_inode *o = ino->priv;
	if (!o->upper)
		return -ENODATA;
	return o->upper->ops->removexattr ? o->upper->ops->removexattr(o->upper, name) : -EOPNOTSUPP;
}

static const struct inode_ops ovl_inode_ops = {
	.tmpfile = ovl_tmpfile,
	.getxattr = ovl_getxattr,
	.listxattr = ovl_listxattr,
	.setxattr = ovl_setxattr,
	.removexattr = ovl_removexattr,
	.lookup = ovl_lookup,
	.readlink = ovl_readlink,
	.open = ovl_open,
	.getattr = ovl_getattr,
	.release = ovl_release,
	.create = ovl_create,
	.unlink = ovl_unlink,
	.symlink = ovl_symlink,
	.setattr = ovl_setattr,
	.rename = ovl_rename,
	.link = ovl_link,
};

int overlay_new_root(struct kernel *k, struct dentry *lower, struct dentry *upper, struct dentry **out)
{
	struct superblock *sb = calloc(1, sizeof(*sb));
	struct ovl_sb *s = calloc(1, sizeof(*s));
	if (!sb || !s) {
		free(sb);
		free(s);
		return -ENOMEM;
	}
	(void)k;
	sb->fstype = "overlay";
	sb->magic = 0x794c7630;
	sb->dev = lower->inode->sb->dev;
	sb->priv = s;
	inode_get(lower->inode);
	inode_get(upper->inode);
	struct inode *ino = ovl_make(sb, lower->inode, upper->inode, NULL, NULL);
	if (!ino)
		return -ENOMEM;
	((struct ovl_inode *)ino->priv)->upper = upper->inode;
	ino->ino = lower->inode->ino;
	ino->mode = lower->inode->mode;
	*out = dentry_new_root(ino);
	return *out ? 0 : -ENOMEM;
}
