/* Creating and removing names, keeping the dentry cache (including cached negative
 * entries) in step with the filesystem. */
#include "sentry/vfs/vfs.h"
#include "sentry/vfs/fsnotify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void dentry_mark_deleted(struct dentry *d)
{
	if (d->deleted)
		return;
	d->deleted = true;
	if (d->parent && d->parent != d)
		dentry_get(d->parent);
}

bool dentry_subtree_has_mount(const struct dentry *top)
{
	/* Iterative: the guest decides how deep the cached tree is. */
	const struct dentry *d = top;
	for (;;) {
		if (d->mounted || (d != top && d->mountpoint))
			return true;
		if (d->children) {
			d = d->children;
			continue;
		}
		while (d != top && !d->next_sibling)
			d = d->parent;
		if (d == top)
			return false;
		d = d->next_sibling;
	}
}

static void unhook(struct dentry *c)
{
	for (struct dentry **pp = &c->parent->children; *pp; pp = &(*pp)->next_sibling) {
		if (*pp == c) {
			*pp = c->next_sibling;
			break;
		}
	}
	c->next_sibling = NULL;
}

/* Takes a dentry whose name is gone out of the tree: whoever holds it (an open file, a
 * cwd) keeps the old inode, as on Linux; a new file of the same name gets a new dentry. */
static void drop_leaf(struct dentry *c)
{
	unhook(c);
	dentry_mark_deleted(c);
	dentry_get(c);
	dentry_put(c); /* frees it now if nobody holds it */
}

void dentry_drop_stale(struct dentry *top)
{
	/* Leaves first, so that each dentry dropped has no cached children left. */
	while (top->children) {
		struct dentry *d = top->children;
		while (d->children)
			d = d->children;
		drop_leaf(d);
	}
	drop_leaf(top);
}

static struct dentry *cached_child(struct dentry *dir, const char *name)
{
	for (struct dentry *c = dir->children; c; c = c->next_sibling)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int vfs_create(struct dentry *dir, const char *name, uint32_t mode, const char *link_target,
	       struct dentry **out)
{
	struct inode *di = dir->inode;
	struct inode *ino = NULL;
	struct dentry *c;
	int err;
	if (!di || !S_ISDIR(di->mode))
		return -ENOTDIR;
	if (!name[0] || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EEXIST;
	if (strlen(name) > 255)
		return -ENAMETOOLONG;
	struct dentry *existing;
	bool host_checks = di->ops->create_is_exclusive && !di->sb->readonly;
	err = di->ops->lookup && !host_checks ? di->ops->lookup(di, name, &ino) : -ENOENT;
	if (err == 0) {
		inode_put(ino);
		return -EEXIST;
	}
	(void)existing;
	if (di->sb->readonly)
		return -EROFS;
	if (link_target) {
		if (!di->ops->symlink)
			return -EPERM;
		err = di->ops->symlink(di, name, link_target, &ino);
	} else {
		if (!di->ops->create)
			return -EPERM;
		err = di->ops->create(di, name, mode, &ino);
	}
	if (err < 0)
		return err;
	c = cached_child(dir, name);
	if (c) {
		if (c->inode)
			inode_put(c->inode);
		c->inode = ino;
	} else {
		c = calloc(1, sizeof(*c));
		if (!c || !(c->name = strdup(name))) {
			free(c);
			inode_put(ino);
			return -ENOMEM;
		}
		c->parent = dir;
		c->inode = ino;
		c->next_sibling = dir->children;
		dir->children = c;
	}
	dentry_get(c);
	*out = c;
	fsnotify_name(di, name, ino, IN_CREATE_, 0);
	return 0;
}

int vfs_unlink(struct dentry *dir, const char *name, bool is_dir)
{
	struct inode *di = dir->inode;
	struct inode *victim = NULL;
	if (!di || !S_ISDIR(di->mode))
		return -ENOTDIR;
	int err = di->ops->lookup ? di->ops->lookup(di, name, &victim) : -ENOENT;
	if (err < 0)
		return err;
	if (is_dir && !S_ISDIR(victim->mode))
		err = -ENOTDIR;
	else if (!is_dir && S_ISDIR(victim->mode))
		err = -EISDIR;
	else if (di->sb->readonly)
		err = -EROFS;
	else if (!di->ops->unlink)
		err = -EPERM;
	struct dentry *c = cached_child(dir, name);
	if (!err && c && c->mounted)
		err = -EBUSY;
	/* The filesystem gets the cached inode when there is one, so that what it keeps
	 * about the file (a gofer inode's link count) stays right for those who hold it. */
	struct inode *held = c && c->inode && c->inode->ops == victim->ops ? c->inode : victim;
	/* Whether this removes the inode's last name (then IN_DELETE_SELF, once unused). */
	struct kstat vst;
	bool last = is_dir || (inode_getattr(held, &vst) == 0 && vst.nlink <= 1);
	if (!err)
		err = di->ops->unlink(di, name, held, is_dir);
	bool victim_dir = S_ISDIR(victim->mode);
	inode_put(victim);
	if (err < 0)
		return err;
	if (!is_dir && c && c->inode)
		fsnotify_inode(c->inode, IN_ATTRIB_); /* its link count changed */
	if (c) {
		c->last_link = last;
		drop_leaf(c);
	}
	if (fsnotify_nwatches)
		fsnotify_name(di, name, NULL, IN_DELETE_ | (victim_dir ? 0x40000000u /* IN_ISDIR */ : 0), 0);
	return 0;
}

static void hook(struct dentry *dir, struct dentry *c)
{
	c->parent = dir;
	c->next_sibling = dir->children;
	dir->children = c;
}

static bool is_ancestor(struct dentry *maybe, struct dentry *d)
{
	for (int depth = 0; depth < 4096; depth++) {
		if (d == maybe)
			return true;
		if (d->mountpoint)
			d = d->mountpoint;
		else if (d->parent == d)
			return false;
		else
			d = d->parent;
	}
	return false;
}

int vfs_rename(struct dentry *odir, const char *oname, struct dentry *ndir, const char *nname,
	       unsigned flags)
{
	struct inode *odi = odir->inode, *ndi = ndir->inode;
	struct inode *src = NULL, *dst = NULL;
	int err;
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	if ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE))
		return -EINVAL;
	if (!strcmp(oname, ".") || !strcmp(oname, "..") || !strcmp(nname, ".") || !strcmp(nname, ".."))
		return -EBUSY;
	if (odi->sb != ndi->sb)
		return -EXDEV;
	if (odi->sb->readonly)
		return -EROFS;
	if (!odi->ops->rename)
		return -EPERM;
	if ((err = odi->ops->lookup(odi, oname, &src)) < 0)
		return err;
	err = ndi->ops->lookup(ndi, nname, &dst);
	if (err < 0 && err != -ENOENT)
		goto out;
	err = 0;
	if (dst == NULL && (flags & RENAME_EXCHANGE))
		err = -ENOENT;
	else if (dst && (flags & RENAME_NOREPLACE))
		err = -EEXIST;
	else if (dst && src == dst)
		goto out; /* two names of one inode: nothing to do */
	else if (dst && !(flags & RENAME_EXCHANGE) && S_ISDIR(src->mode) && !S_ISDIR(dst->mode))
		err = -ENOTDIR;
	else if (dst && !(flags & RENAME_EXCHANGE) && !S_ISDIR(src->mode) && S_ISDIR(dst->mode))
		err = -EISDIR;
	if (err)
		goto out;
	struct dentry *oc = cached_child(odir, oname), *nc = cached_child(ndir, nname);
	if ((oc && oc->mounted) || (nc && nc->mounted)) {
		err = -EBUSY;
		goto out;
	}
	/* A directory cannot move below itself. */
	if (S_ISDIR(src->mode) && oc && is_ancestor(oc, ndir)) {
		err = -EINVAL;
		goto out;
	}
	if (dst && S_ISDIR(dst->mode) && (flags & RENAME_EXCHANGE) && nc && is_ancestor(nc, odir)) {
		err = -EINVAL;
		goto out;
	}
	/* What the watches know the moved (and a replaced) inode as: the cached dentries'. */
	struct inode *moved = oc && oc->inode ? oc->inode : src;
	struct inode *other = dst ? (nc && nc->inode ? nc->inode : dst) : NULL;
	struct kstat dst_st;
	bool dst_last = other && (S_ISDIR(other->mode) || (inode_getattr(other, &dst_st) == 0 && dst_st.nlink <= 1));
	inode_get(moved);
	if (other)
		inode_get(other);
	if ((err = odi->ops->rename(odi, oname, ndi, nname, flags)) < 0) {
		inode_put(moved);
		inode_put(other);
		goto out;
	}
	if (fsnotify_nwatches) {
		uint32_t cookie = fsnotify_cookie();
		fsnotify_name(odi, oname, moved, IN_MOVED_FROM_, cookie);
		fsnotify_name(ndi, nname, moved, IN_MOVED_TO_, cookie);
		if (other && (flags & RENAME_EXCHANGE)) {
			cookie = fsnotify_cookie();
			fsnotify_name(ndi, nname, other, IN_MOVED_FROM_, cookie);
			fsnotify_name(odi, oname, other, IN_MOVED_TO_, cookie);
			fsnotify_inode(other, IN_MOVE_SELF_);
		} else if (other && !S_ISDIR(other->mode)) {
			fsnotify_inode(other, IN_ATTRIB_);
		}
		fsnotify_inode(moved, IN_MOVE_SELF_);
	}
	if (nc && !(flags & RENAME_EXCHANGE))
		nc->last_link = dst_last;
	inode_put(moved);
	inode_put(other);
	/* Keep the cache in step: the moved dentry takes its new name and parent. */
	if (flags & RENAME_EXCHANGE) {
		if (oc && nc) {
			unhook(oc);
			unhook(nc);
			char *tmp = oc->name;
			oc->name = nc->name;
			nc->name = tmp;
			hook(ndir, oc);
			hook(odir, nc);
		} else {
			if (oc) {
				unhook(oc);
				dentry_mark_deleted(oc);
				dentry_get(oc);
				dentry_put(oc);
			}
			if (nc) {
				unhook(nc);
				dentry_mark_deleted(nc);
				dentry_get(nc);
				dentry_put(nc);
			}
		}
		goto out;
	}
	if (nc) {
		unhook(nc);
		dentry_mark_deleted(nc);
		dentry_get(nc);
		dentry_put(nc);
	}
	if (oc) {
		char *name = strdup(nname);
		unhook(oc);
		if (!name || !oc->inode) {
			/* cannot rename the cache entry: drop it, the next lookup rebuilds it */
			free(name);
			dentry_mark_deleted(oc);
			dentry_get(oc);
			dentry_put(oc);
		} else {
			free(oc->name);
			oc->name = name;
			hook(ndir, oc);
		}
	}
out:
	inode_put(src);
	inode_put(dst);
	return err;
}

int vfs_link(struct dentry *target, struct dentry *dir, const char *name)
{
	struct inode *di = dir->inode, *ti = target->inode, *exist = NULL;
	if (S_ISDIR(ti->mode))
		return -EPERM;
	if (di->sb != ti->sb)
		return -EXDEV;
	if (di->sb->readonly)
		return -EROFS;
	if (!di->ops->link)
		return -EPERM;
	if (di->ops->lookup(di, name, &exist) == 0) {
		inode_put(exist);
		return -EEXIST;
	}
	int err = di->ops->link(di, name, ti);
	if (err < 0)
		return err;
	fsnotify_inode(ti, IN_ATTRIB_);
	fsnotify_name(di, name, ti, IN_CREATE_, 0);
	struct dentry *c = cached_child(dir, name);
	if (c) {
		if (c->inode)
			inode_put(c->inode);
	} else {
		c = calloc(1, sizeof(*c));
		if (!c || !(c->name = strdup(name))) {
			free(c);
			return 0; /* linked; the cache entry is made on the next lookup */
		}
		hook(dir, c);
	}
	inode_get(ti);
	c->inode = ti;
	return 0;
}

struct dentry *dentry_new_unlinked(struct dentry *parent, const char *name, struct inode *ino)
{
	struct dentry *d = calloc(1, sizeof(*d));
	if (!d || !(d->name = strdup(name))) {
		free(d);
		inode_put(ino);
		return NULL;
	}
	d->refs = 1;
	d->parent = parent;
	d->inode = ino;
	dentry_mark_deleted(d);
	return d;
}
