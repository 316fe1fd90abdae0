/* Creating and removing names, keeping the dentry cache (including cached negative
 * entries) in step with the filesystem. */
#include "sentry/vfs/vfs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
	err = di->ops->lookup ? di->ops->lookup(di, name, &ino) : -ENOENT;
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
	if (!err)
		err = di->ops->unlink(di, name, victim, is_dir);
	inode_put(victim);
	if (err < 0)
		return err;
	if (c) {
		/* The name is gone but whoever holds the dentry (an open file, a cwd) keeps
		 * the old inode, as on Linux; a new file of the same name gets a new dentry. */
		for (struct dentry **pp = &dir->children; *pp; pp = &(*pp)->next_sibling) {
			if (*pp == c) {
				*pp = c->next_sibling;
				break;
			}
		}
		c->next_sibling = NULL;
		c->deleted = true;
		dentry_get(c);
		dentry_put(c); /* frees it now if nobody holds it */
	}
	return 0;
}
