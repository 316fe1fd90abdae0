/* The sandbox's mount table at boot: the gofer's root, with tmpfs on /tmp and /root (the
 * sandbox's home), /dev, /proc and /sys. */
#include "sentry/fs/fs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Finds or makes parent/name as a directory to mount on. */
static int mountpoint_child(struct dentry *parent, const char *name, struct dentry *fsroot,
			    struct dentry **out);

/* Mounts fsroot at parent/name. The name need not exist in the parent filesystem (the
 * read-only host root hides /tmp, /root, /proc): the mountpoint is then a dentry of the
 * sentry's own, which is all a mount needs. */
static int mount_at(struct dentry *parent, const char *name, struct dentry *fsroot)
{
	struct dentry *c;
	int err = mountpoint_child(parent, name, fsroot, &c);
	return err < 0 ? err : vfs_mount(c, fsroot);
}

static int mountpoint_child(struct dentry *parent, const char *name, struct dentry *fsroot,
			    struct dentry **out)
{
	struct dentry *c;
	for (c = parent->children; c; c = c->next_sibling)
		if (strcmp(c->name, name) == 0)
			break;
	if (!c && parent->inode->ops->create && !parent->inode->sb->readonly) {
		/* A writable filesystem (tmpfs): make a real directory, listed like any other. */
		int err = vfs_create(parent, name, S_IFDIR | 0755, NULL, &c);
		if (err == 0) {
			dentry_put(c);
			*out = c;
			return 0;
		}
	}
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
	*out = c;
	return 0;
}

static struct dentry *top_of(struct dentry *d)
{
	while (d->mounted)
		d = d->mounted;
	return d;
}

/* --ro-bind PATH: the host directory PATH (exported by the gofer) mounted at PATH, even
 * where PATH lies under one of the sandbox's own mounts (a workspace under /tmp). The
 * directory is reached by walking the gofer's tree itself, component by component. */
static int bind_host_dir(struct kernel *k, struct dentry *hostroot, const char *path, bool writable)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s", path);
	struct inode *ino = hostroot->inode;
	inode_get(ino);
	struct dentry *mp = k->root;
	char *save = NULL;
	for (char *comp = strtok_r(buf, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		struct inode *next = NULL;
		int err = ino->ops->lookup ? ino->ops->lookup(ino, comp, &next) : -ENOENT;
		inode_put(ino);
		if (err < 0)
			return err;
		ino = next;
		if (!S_ISDIR(ino->mode)) {
			inode_put(ino);
			return -ENOTDIR;
		}
		/* The mountpoint side: an existing directory, or one made up for the mount. */
		struct dentry *dir = top_of(mp), *child;
		err = mountpoint_child(dir, comp, dir, &child);
		if (err < 0) {
			inode_put(ino);
			return err;
		}
		mp = child;
	}
	struct dentry *broot;
	int err = gofer_fs_bind_root(k, ino, writable, &broot);
	inode_put(ino);
	if (err < 0)
		return err;
	while (mp->mounted)
		mp = mp->mounted; /* stack on whatever is already there */
	return vfs_mount(mp, broot);
}

/* How many components a path has ("/a//b/" has 2). */
static int path_depth(const char *p)
{
	int n = 0;
	for (; *p; p++)
		if (*p != '/' && (p[1] == '/' || p[1] == 0))
			n++;
	return n;
}

int fs_setup_root(struct kernel *k, char *const binds[], int nbinds, const char *workspace)
{
	struct dentry *host, *upper, *root, *tmp, *home, *dev, *proc;
	int err = gofer_fs_root(k, &host);
	if (err < 0)
		return err;
	/* / is the host tree with the sandbox's changes on top, in memory. */
	if ((err = tmpfs_new_root(k, 0755, &upper)) < 0 || (err = overlay_new_root(k, host, upper, &root)) < 0)
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
	struct dentry *sys;
	if ((err = sysfs_new_root(k, &sys)) < 0 || (err = mount_at(root, "sys", sys)) < 0)
		return err;
	struct dentry *shm;
	if ((err = tmpfs_new_root(k, 01777, &shm)) < 0 || (err = mount_at(dev, "shm", shm)) < 0)
		return err;
	struct dentry *pts;
	if ((err = devpts_new_root(k, &pts)) < 0 || (err = mount_at(dev, "pts", pts)) < 0)
		return err;
	/* Host directories are mounted shallowest first, so that one inside another (a
	 * read-only bind inside the workspace, or the workspace inside a bind) lies on top of
	 * it instead of being hidden by it. */
	bool done[nbinds + 1];
	memset(done, 0, sizeof(done));
	for (int n = 0; n <= nbinds; n++) {
		int best = -1;
		for (int i = 0; i <= nbinds; i++) {
			const char *p = i < nbinds ? binds[i] : workspace;
			if (!p || done[i])
				continue;
			if (best < 0 || path_depth(p) < path_depth(best < nbinds ? binds[best] : workspace))
				best = i;
		}
		if (best < 0)
			break;
		done[best] = true;
		bool is_workspace = best == nbinds;
		const char *p = is_workspace ? workspace : binds[best];
		if ((err = bind_host_dir(k, host, p, is_workspace)) < 0) {
			kernel_log("%s %s: %s", is_workspace ? "workspace" : "--ro-bind", p, strerror(-err));
			return err;
		}
	}
	return 0;
}
