/* The sandbox's mount table at boot: the gofer's root, with tmpfs on /tmp and /root (the
 * sandbox's home), /dev and /proc. */
#include "sentry/fs/fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Mounts fsroot at parent/name. The name need not exist in the parent filesystem (the
 * read-only host root hides /tmp, /root, /proc): the mountpoint is then a dentry of the
 * sentry's own, which is all a mount needs. */
static int mount_at(struct dentry *parent, const char *name, struct dentry *fsroot)
{
	struct dentry *c;
	for (c = parent->children; c; c = c->next_sibling)
		if (strcmp(c->name, name) == 0)
			break;
	if (!c) {
		struct inode *ino = NULL;
		if (parent->inode->ops->lookup && parent->inode->ops->lookup(parent->inode, name, &ino) == 0 &&
		    !S_ISDIR(ino->mode)) {
			inode_put(ino);
			ino = NULL;
		}
		c = calloc(1, sizeof(*c));
		if (!c || !(c->name = strdup(name))) {
			free(c);
			inode_put(ino);
			return -ENOMEM;
		}
		if (!ino) {
			ino = fsroot->inode;
			inode_get(ino);
			c->synthetic = true;
		}
		c->inode = ino;
		c->parent = parent;
		c->next_sibling = parent->children;
		parent->children = c;
	}
	return vfs_mount(c, fsroot);
}

int fs_setup_root(struct kernel *k)
{
	struct dentry *root, *tmp, *home, *dev, *proc;
	int err = gofer_fs_root(k, &root);
	if (err < 0)
		return err;
	k->root = root;
	if ((err = tmpfs_new_root(k, 01777, &tmp)) < 0 || (err = mount_at(root, "tmp", tmp)) < 0)
		return err;
	if ((err = tmpfs_new_root(k, 0700, &home)) < 0 || (err = mount_at(root, "root", home)) < 0)
		return err;
	if ((err = devfs_new_root(k, &dev)) < 0 || (err = mount_at(root, "dev", dev)) < 0)
		return err;
	if ((err = procfs_new_root(k, &proc)) < 0 || (err = mount_at(root, "proc", proc)) < 0)
		return err;
	return 0;
}
