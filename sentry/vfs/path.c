/* Path resolution, done entirely in the sentry: "." and "..", mount crossings, symlinks
 * (at most WALK_MAX_SYMLINKS, then ELOOP), and the dentry cache in front of the
 * filesystems' lookup. */
#include "sentry/vfs/vfs.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static struct dentry *follow_mounts(struct dentry *d)
{
	while (d->mounted)
		d = d->mounted;
	return d;
}

static struct dentry *cache_find(struct dentry *dir, const char *name, size_t len)
{
	for (struct dentry *c = dir->children; c; c = c->next_sibling)
		if (strncmp(c->name, name, len) == 0 && c->name[len] == 0)
			return c;
	return NULL;
}

int vfs_lookup_child(struct fs_ctx *fs, struct dentry *dir, const char *name, size_t len,
		     struct dentry **out)
{
	if (!dir->inode || !S_ISDIR(dir->inode->mode))
		return -ENOTDIR;
	if (len == 1 && name[0] == '.') {
		*out = dir;
		return 0;
	}
	if (len == 2 && name[0] == '.' && name[1] == '.') {
		/* Never above the task's root; at a filesystem root, step to the mountpoint. */
		struct dentry *d = dir;
		for (;;) {
			if (d == fs->root || d == follow_mounts(fs->root)) {
				*out = follow_mounts(fs->root);
				return 0;
			}
			if (d->mountpoint) {
				d = d->mountpoint;
				continue;
			}
			break;
		}
		*out = follow_mounts(d->parent);
		return 0;
	}
	if (len > NAME_MAX)
		return -ENAMETOOLONG;
	struct dentry *c = cache_find(dir, name, len);
	if (c && dir->inode->ops->revalidate_child && !c->synthetic && !dentry_subtree_has_mount(c)) {
		char buf[NAME_MAX + 1];
		memcpy(buf, name, len);
		buf[len] = 0;
		int valid = dir->inode->ops->revalidate_child(dir->inode, buf, c->inode);
		if (valid < 0)
			return valid;
		if (!valid) {
			dentry_drop_stale(c);
			c = NULL;
		}
	}
	if (c && c->inode && c->inode->ops->revalidate && !c->inode->ops->revalidate(c->inode)) {
		inode_put(c->inode);
		c->inode = NULL;
		c->revalidate_miss = true;
	}
	if (c && !c->inode && (c->revalidate_miss || dir->inode->ops->revalidate)) {
		/* Stale or uncached-negative entry of a dynamic directory: look it up again. */
		char buf[NAME_MAX + 1];
		memcpy(buf, name, len);
		buf[len] = 0;
		struct inode *ino = NULL;
		int err = dir->inode->ops->lookup(dir->inode, buf, &ino);
		if (err < 0)
			return err;
		c->inode = ino;
		c->revalidate_miss = false;
	}
	if (!c) {
		char buf[NAME_MAX + 1];
		memcpy(buf, name, len);
		buf[len] = 0;
		struct inode *ino = NULL;
		int err = dir->inode->ops->lookup ? dir->inode->ops->lookup(dir->inode, buf, &ino) : -ENOENT;
		if (err < 0 && err != -ENOENT)
			return err;
		if (err == -ENOENT && (dir->inode->ops->revalidate ||
				       (dir->inode->ops->revalidate_child &&
					dir->inode->ops->revalidate_child(dir->inode, buf, NULL) == 0)))
			return err; /* dynamic directory: no negative caching */
		c = calloc(1, sizeof(*c));
		if (!c) {
			inode_put(ino);
			return -ENOMEM;
		}
		c->name = strdup(buf);
		if (!c->name) {
			free(c);
			inode_put(ino);
			return -ENOMEM;
		}
		c->parent = dir;
		c->inode = ino; /* NULL caches a negative entry */
		c->next_sibling = dir->children;
		dir->children = c;
	}
	if (!c->inode)
		return -ENOENT;
	*out = follow_mounts(c);
	return 0;
}

struct walk {
	struct fs_ctx *fs;
	int links;
};

static int walk_components(struct walk *w, struct dentry *start, const char *path, bool follow_last,
			   bool stop_before_last, struct dentry **out, const char **last);

/* Resolves a symlink dentry to its target (relative to dir). */
static int follow_link(struct walk *w, struct dentry *dir, struct dentry *link, struct dentry **out)
{
	char target[PATH_MAX];
	if (++w->links > WALK_MAX_SYMLINKS)
		return -ELOOP;
	struct file *f = link->inode->ops->magic_file ? link->inode->ops->magic_file(link->inode) : NULL;
	if (f) {
		struct dentry *d = f->dentry;
		file_put(f);
		/* A file without a path (pipe, host stdio) is reached through the link itself. */
		*out = d && d->inode ? d : link;
		return 0;
	}
	if (!link->inode->ops->readlink)
		return -EINVAL;
	long n = link->inode->ops->readlink(link->inode, target, sizeof(target) - 1);
	if (n < 0)
		return (int)n;
	target[n] = 0;
	if (n == 0)
		return -ENOENT;
	return walk_components(w, dir, target, true, false, out, NULL);
}

static int walk_components(struct walk *w, struct dentry *start, const char *path, bool follow_last,
			   bool stop_before_last, struct dentry **out, const char **last)
{
	struct dentry *cur = path[0] == '/' ? follow_mounts(w->fs->root) : start;
	const char *p = path;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p) {
			if (last)
				*last = p;
			*out = cur;
			return 0;
		}
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *rest = p + len;
		while (*rest == '/')
			rest++;
		bool is_last = *rest == 0;
		if (is_last && stop_before_last) {
			if (!cur->inode || !S_ISDIR(cur->inode->mode))
				return -ENOTDIR;
			if (last)
				*last = p;
			*out = cur;
			return 0;
		}
		struct dentry *next;
		int err = vfs_lookup_child(w->fs, cur, p, len, &next);
		if (err < 0)
			return err;
		bool trailing_slash = end != NULL;
		if (S_ISLNK(next->inode->mode) && (!is_last || follow_last || trailing_slash)) {
			err = follow_link(w, cur, next, &next);
			if (err < 0)
				return err;
		}
		if (!is_last || trailing_slash) {
			if (S_ISLNK(next->inode->mode) || !S_ISDIR(next->inode->mode))
				return -ENOTDIR;
		}
		cur = next;
		p += len;
	}
}

int vfs_walk(struct fs_ctx *fs, struct dentry *start, const char *path, int flags,
	     struct dentry **out)
{
	struct walk w = {fs, 0};
	if (!path[0])
		return -ENOENT;
	if (strnlen(path, PATH_MAX) >= PATH_MAX)
		return -ENAMETOOLONG;
	struct dentry *d;
	int err = walk_components(&w, start ? start : fs->cwd, path, flags & WALK_FOLLOW, false, &d, NULL);
	if (err < 0)
		return err;
	if ((flags & WALK_DIRECTORY) && !S_ISDIR(d->inode->mode))
		return -ENOTDIR;
	dentry_get(d);
	*out = d;
	return 0;
}

int vfs_walk_parent(struct fs_ctx *fs, struct dentry *start, const char *path,
		    struct dentry **out, const char **last)
{
	struct walk w = {fs, 0};
	if (!path[0])
		return -ENOENT;
	if (strnlen(path, PATH_MAX) >= PATH_MAX)
		return -ENAMETOOLONG;
	struct dentry *d;
	int err = walk_components(&w, start ? start : fs->cwd, path, false, true, &d, last);
	if (err < 0)
		return err;
	dentry_get(d);
	*out = d;
	return 0;
}
