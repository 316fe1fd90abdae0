/* Unit tests for the sentry's path walk (sentry/vfs/path.c) and the dentry cache kept by
 * sentry/vfs/namei.c and sentry/vfs/vfs.c, on an in-memory tmpfs tree. No gofer, no task.
 *
 * The tree every test starts from (built in setup()):
 *
 *   /                 tmpfs root (fs->root; fs->cwd unless a test changes it)
 *   /a/               directory
 *   /a/b/             directory
 *   /a/b/f            regular file
 *   /file             regular file
 *   /mnt/             directory, covered by a second tmpfs:
 *   /mnt/x            regular file (in the mounted tmpfs)
 *   /mnt/sub/         directory (in the mounted tmpfs)
 *
 * Criterion runs each test in its own process, so tests may change the tree freely. */
#include <criterion/criterion.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "sentry/fs/fs.h"
#include "sentry/kernel/kernel.h"
#include "sentry/vfs/vfs.h"

/* tmpfs only reads k->current (NULL: owned by the host uid) and k->ntmpfs. */
static struct kernel k;
static struct fs_ctx *fs;
static struct dentry *root;     /* the tmpfs root */
static struct dentry *d_a, *d_b, *d_f, *d_file;
static struct dentry *d_mnt;    /* the covered mountpoint dentry in the first tmpfs */
static struct dentry *mnt_root; /* the root of the tmpfs mounted on /mnt */
static struct dentry *d_x, *d_sub;

/* ---- helpers ---------------------------------------------------------------------- */

static struct dentry *mk(struct dentry *dir, const char *name, uint32_t mode)
{
	struct dentry *d = NULL;
	int err = vfs_create(dir, name, mode, NULL, &d);
	cr_assert_eq(err, 0, "vfs_create(%s) = %d", name, err);
	cr_assert_not_null(d);
	cr_assert_not_null(d->inode);
	cr_assert_str_eq(d->name, name);
	return d;
}

static struct dentry *mkdir_(struct dentry *dir, const char *name)
{
	return mk(dir, name, S_IFDIR | 0755);
}

static struct dentry *mkfile(struct dentry *dir, const char *name)
{
	return mk(dir, name, S_IFREG | 0644);
}

static struct dentry *mklink(struct dentry *dir, const char *name, const char *target)
{
	struct dentry *d = NULL;
	int err = vfs_create(dir, name, S_IFLNK | 0777, target, &d);
	cr_assert_eq(err, 0, "symlink %s -> %s: %d", name, target, err);
	cr_assert(S_ISLNK(d->inode->mode));
	return d;
}

/* vfs_walk from the cwd; *out is only written on success. */
static int walk(const char *path, int flags, struct dentry **out)
{
	struct dentry *d = (struct dentry *)0x1; /* must not be touched on failure */
	int err = vfs_walk(fs, NULL, path, flags, &d);
	if (err < 0) {
		cr_assert_eq(d, (struct dentry *)0x1, "%s: *out written on failure", path);
		return err;
	}
	cr_assert_not_null(d, "%s", path);
	cr_assert_not_null(d->inode, "%s: negative dentry returned", path);
	if (out)
		*out = d;
	dentry_put(d);
	return 0;
}

static void expect_walk(const char *path, int flags, struct dentry *want)
{
	struct dentry *d = NULL;
	int err = walk(path, flags, &d);
	cr_assert_eq(err, 0, "walk(\"%s\", %d) = %d (%s), want %s", path, flags, err,
		     strerror(-err), want->name);
	cr_assert_eq(d, want, "walk(\"%s\", %d) gave \"%s\" (ino %lu), want \"%s\" (ino %lu)", path,
		     flags, d->name, (unsigned long)d->inode->ino, want->name,
		     (unsigned long)want->inode->ino);
	cr_assert_eq(d->inode, want->inode, "%s: inode", path);
}

static void expect_err(const char *path, int flags, int want)
{
	int err = walk(path, flags, NULL);
	cr_assert_eq(err, want, "walk(\"%s\", %d) = %d (%s), want %d (%s)", path, flags, err,
		     strerror(-err), want, strerror(-want));
}

/* The absolute path of d as seen from the task's root. */
static const char *path_of(struct dentry *d)
{
	static char buf[PATH_MAX];
	long n = dentry_path(fs->root, d, buf, sizeof(buf));
	cr_assert_geq(n, 0, "dentry_path(%s) = %ld", d->name, n);
	cr_assert_eq((size_t)n, strlen(buf));
	return buf;
}

/* The cached child name of dir (positive or negative), or NULL. */
static struct dentry *cached(struct dentry *dir, const char *name)
{
	for (struct dentry *c = dir->children; c; c = c->next_sibling)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static void setup(void)
{
	memset(&k, 0, sizeof(k));
	cr_assert_eq(tmpfs_new_root(&k, 0755, &root), 0);
	cr_assert(S_ISDIR(root->inode->mode));
	cr_assert_eq(root->parent, root);
	d_a = mkdir_(root, "a");
	d_b = mkdir_(d_a, "b");
	d_f = mkfile(d_b, "f");
	d_file = mkfile(root, "file");
	d_mnt = mkdir_(root, "mnt");
	cr_assert_eq(tmpfs_new_root(&k, 0755, &mnt_root), 0);
	cr_assert_eq(k.ntmpfs, 2);
	cr_assert_neq(mnt_root->inode->sb, root->inode->sb);
	cr_assert_eq(vfs_mount(d_mnt, mnt_root), 0);
	d_x = mkfile(mnt_root, "x");
	d_sub = mkdir_(mnt_root, "sub");
	fs = fs_ctx_new(root, root);
	cr_assert_not_null(fs);
}

TestSuite(path, .init = setup);

/* ---- absolute and relative paths ----------------------------------------------------- */

Test(path, absolute)
{
	expect_walk("/", 0, root);
	expect_walk("/a", 0, d_a);
	expect_walk("/a/b", 0, d_b);
	expect_walk("/a/b/f", 0, d_f);
	expect_walk("/file", 0, d_file);
	cr_assert_str_eq(d_f->name, "f");
	cr_assert(S_ISREG(d_f->inode->mode));
	cr_assert(S_ISDIR(d_b->inode->mode));
	/* An absolute path ignores the start directory. */
	struct dentry *d;
	cr_assert_eq(vfs_walk(fs, d_b, "/a", 0, &d), 0);
	cr_assert_eq(d, d_a);
	dentry_put(d);
}

Test(path, relative_to_cwd_and_start)
{
	expect_walk("a", 0, d_a);
	expect_walk("a/b/f", 0, d_f);
	fs->cwd = d_a;
	expect_walk("b", 0, d_b);
	expect_walk("b/f", 0, d_f);
	expect_err("a", 0, -ENOENT); /* no /a/a */
	/* An explicit start wins over the cwd. */
	struct dentry *d;
	cr_assert_eq(vfs_walk(fs, d_b, "f", 0, &d), 0);
	cr_assert_eq(d, d_f);
	dentry_put(d);
	cr_assert_eq(vfs_walk(fs, mnt_root, "x", 0, &d), 0);
	cr_assert_eq(d, d_x);
	dentry_put(d);
}

Test(path, empty_path_is_enoent)
{
	expect_err("", 0, -ENOENT);
	expect_err("", WALK_FOLLOW, -ENOENT);
	struct dentry *d;
	const char *last;
	cr_assert_eq(vfs_walk_parent(fs, NULL, "", &d, &last), -ENOENT);
}

Test(path, walk_takes_a_reference)
{
	struct dentry *d;
	int before = d_f->refs;
	cr_assert_eq(vfs_walk(fs, NULL, "/a/b/f", 0, &d), 0);
	cr_assert_eq(d_f->refs, before + 1);
	dentry_put(d);
	cr_assert_eq(d_f->refs, before);
	cr_assert_eq(vfs_walk(fs, NULL, "/a/b/f/", 0, &d), -ENOTDIR);
	cr_assert_eq(d_f->refs, before);
}

/* ---- "." and ".." ---------------------------------------------------------------- */

Test(path, dot)
{
	expect_walk(".", 0, root);
	expect_walk("/.", 0, root);
	expect_walk("./a/./b/.", 0, d_b);
	expect_walk("/a/./././b/./f", 0, d_f);
	fs->cwd = d_b;
	expect_walk(".", 0, d_b);
	expect_walk("./f", 0, d_f);
	/* "." through a regular file. */
	expect_err("/a/b/f/.", 0, -ENOTDIR);
}

Test(path, dotdot)
{
	expect_walk("/a/..", 0, root);
	expect_walk("/a/b/..", 0, d_a);
	expect_walk("/a/b/../..", 0, root);
	expect_walk("/a/b/../b/f", 0, d_f);
	expect_walk("a/../a/b/../../file", 0, d_file);
	fs->cwd = d_b;
	expect_walk("..", 0, d_a);
	expect_walk("../..", 0, root);
	expect_walk("../../file", 0, d_file);
	expect_walk("../b/f", 0, d_f);
	/* ".." after a regular file. */
	expect_err("/a/b/f/..", 0, -ENOTDIR);
	expect_err("/file/..", 0, -ENOTDIR);
}

Test(path, dotdot_at_root_stays_at_root)
{
	expect_walk("/..", 0, root);
	expect_walk("/../..", 0, root);
	expect_walk("/../../../a", 0, d_a);
	expect_walk("..", 0, root); /* cwd is the root */
	expect_walk("../../..", 0, root);
	expect_walk("/a/../../../a/b", 0, d_b);
	struct dentry *d;
	cr_assert_eq(vfs_lookup_child(fs, root, "..", 2, &d), 0);
	cr_assert_eq(d, root);
}

Test(path, dotdot_does_not_leave_a_chroot)
{
	struct fs_ctx *saved = fs;
	fs = fs_ctx_new(d_a, d_a); /* chroot("/a") */
	expect_walk("/", 0, d_a);
	expect_walk("/..", 0, d_a);
	expect_walk("..", 0, d_a);
	expect_walk("/../../b/f", 0, d_f);
	expect_walk("b/../..", 0, d_a);
	expect_err("/a", 0, -ENOENT); /* there is no /a/a */
	cr_assert_str_eq(path_of(d_f), "/b/f");
	cr_assert_str_eq(path_of(d_a), "/");
	/* An absolute symlink resolves against the task's root too. */
	mklink(d_b, "abs", "/b/f");
	expect_walk("/b/abs", WALK_FOLLOW, d_f);
	mklink(d_b, "up", "../../../b");
	expect_walk("/b/up/f", 0, d_f);
	fs_ctx_put(fs);
	fs = saved;
}

Test(path, mount_crossing)
{
	/* Walking onto the mountpoint lands on the mounted filesystem's root. */
	expect_walk("/mnt", 0, mnt_root);
	expect_walk("/mnt/", 0, mnt_root);
	expect_walk("/mnt/.", 0, mnt_root);
	expect_walk("/mnt/x", 0, d_x);
	expect_walk("/mnt/sub", 0, d_sub);
	expect_walk("mnt/sub/", 0, d_sub);
	cr_assert_neq(d_x->inode->sb, d_f->inode->sb);
	struct dentry *d;
	cr_assert_eq(vfs_lookup_child(fs, root, "mnt", 3, &d), 0);
	cr_assert_eq(d, mnt_root);
	/* The covered directory's (empty) contents are hidden. */
	mkfile(d_mnt, "hidden");
	expect_err("/mnt/hidden", 0, -ENOENT);
	/* A second mount on the same mountpoint is refused (static: never mounted, so
	 * nothing else keeps it reachable for LeakSanitizer). */
	static struct dentry *other;
	cr_assert_eq(tmpfs_new_root(&k, 0755, &other), 0);
	cr_assert_eq(vfs_mount(d_mnt, other), -EBUSY);
	cr_assert_eq(vfs_mount(d_file, other), -ENOTDIR);
}

Test(path, dotdot_out_of_a_mount)
{
	/* ".." at the mounted root goes to the mountpoint's parent, not the covered dir. */
	expect_walk("/mnt/..", 0, root);
	expect_walk("/mnt/../a", 0, d_a);
	expect_walk("/mnt/sub/..", 0, mnt_root);
	expect_walk("/mnt/sub/../..", 0, root);
	expect_walk("/mnt/sub/../../mnt/x", 0, d_x);
	struct dentry *d;
	cr_assert_eq(vfs_lookup_child(fs, mnt_root, "..", 2, &d), 0);
	cr_assert_eq(d, root);
	fs->cwd = d_sub;
	expect_walk("..", 0, mnt_root);
	expect_walk("../..", 0, root);
	expect_walk("../../../../file", 0, d_file);
	fs->cwd = mnt_root;
	expect_walk("..", 0, root);

	/* A mount deeper in the tree: /a/b/m. */
	struct dentry *m = mkdir_(d_b, "m"), *m_root;
	cr_assert_eq(tmpfs_new_root(&k, 0755, &m_root), 0);
	cr_assert_eq(vfs_mount(m, m_root), 0);
	struct dentry *y = mkfile(m_root, "y");
	expect_walk("/a/b/m/y", 0, y);
	expect_walk("/a/b/m/..", 0, d_b);
	expect_walk("/a/b/m/../f", 0, d_f);
	cr_assert_str_eq(path_of(y), "/a/b/m/y");

	/* A filesystem mounted on top of the root: ".." from its root stays there. */
	struct dentry *top;
	cr_assert_eq(tmpfs_new_root(&k, 0755, &top), 0);
	cr_assert_eq(vfs_mount(root, top), 0);
	struct dentry *t = mkdir_(top, "t");
	fs->cwd = t;
	expect_walk("/", 0, top);
	expect_walk("/t", 0, t);
	expect_walk("..", 0, top);
	expect_walk("../..", 0, top);
	expect_walk("/..", 0, top);
	cr_assert_str_eq(path_of(t), "/t");
	cr_assert_str_eq(path_of(top), "/");
}

/* ".." whose result is a mountpoint lands on what is mounted there (as Linux's
 * follow_dotdot + traverse_mounts): a cwd inside a directory that was covered later. */
Test(path, dotdot_onto_a_mountpoint)
{
	struct dentry *m = mkdir_(d_a, "m"), *under = mkdir_(m, "under"), *m_root;
	cr_assert_eq(tmpfs_new_root(&k, 0755, &m_root), 0);
	cr_assert_eq(vfs_mount(m, m_root), 0);
	fs->cwd = under; /* below the covered /a/m */
	expect_walk("..", 0, m_root);
	expect_walk("../..", 0, d_a);
	expect_err("../under", 0, -ENOENT); /* hidden by the mount */
	struct dentry *d;
	cr_assert_eq(vfs_lookup_child(fs, under, "..", 2, &d), 0);
	cr_assert_eq(d, m_root);
}

/* ---- slashes ------------------------------------------------------------------------ */

Test(path, repeated_and_trailing_slashes)
{
	expect_walk("//", 0, root);
	expect_walk("///a", 0, d_a);
	expect_walk("//a//b///f", 0, d_f);
	expect_walk("a//b", 0, d_b);
	expect_walk("/a/b/", 0, d_b);
	expect_walk("/a/b//", 0, d_b);
	expect_walk("a/b///", 0, d_b);
	expect_walk("/a/b/", WALK_DIRECTORY, d_b);
	/* A trailing slash on a regular file. */
	expect_err("/a/b/f/", 0, -ENOTDIR);
	expect_err("/a/b/f//", 0, -ENOTDIR);
	expect_err("/file/", 0, -ENOTDIR);
	expect_err("file/", WALK_FOLLOW, -ENOTDIR);
	expect_err("/mnt/x/", 0, -ENOTDIR);
	/* A trailing slash on a missing name. */
	expect_err("/nope/", 0, -ENOENT);
}

Test(path, component_through_a_regular_file)
{
	expect_err("/file/x", 0, -ENOTDIR);
	expect_err("/a/b/f/g", 0, -ENOTDIR);
	expect_err("/a/b/f/g/h", 0, -ENOTDIR);
	expect_err("/file/a/b/f", 0, -ENOTDIR);
	expect_err("/mnt/x/y", 0, -ENOTDIR);
	struct dentry *d;
	cr_assert_eq(vfs_lookup_child(fs, d_f, "g", 1, &d), -ENOTDIR);
	cr_assert_eq(vfs_lookup_child(fs, d_f, ".", 1, &d), -ENOTDIR);
	cr_assert_eq(vfs_lookup_child(fs, d_f, "..", 2, &d), -ENOTDIR);
}

/* ---- missing names and the negative dentry cache ------------------------------------ */

Test(path, missing_then_created)
{
	expect_err("/nope", 0, -ENOENT);
	expect_err("/nope", WALK_FOLLOW, -ENOENT);
	expect_err("/nope/x", 0, -ENOENT);
	expect_err("/a/nope", 0, -ENOENT);
	expect_err("/mnt/nope", 0, -ENOENT);
	/* The miss is cached as a negative dentry... */
	struct dentry *neg = cached(root, "nope");
	cr_assert_not_null(neg, "no negative dentry cached for /nope");
	cr_assert_null(neg->inode);
	cr_assert_eq(neg->parent, root);
	expect_err("/nope", 0, -ENOENT); /* served from the cache */
	struct dentry *d;
	cr_assert_eq(vfs_lookup_child(fs, root, "nope", 4, &d), -ENOENT);
	/* ...and creating the name turns that same dentry positive. */
	struct dentry *c = mkfile(root, "nope");
	cr_assert_eq(c, neg);
	cr_assert_not_null(neg->inode);
	expect_walk("/nope", 0, c);
	expect_walk("nope", WALK_FOLLOW, c);
	/* Only one dentry of that name in the parent. */
	int n = 0;
	for (struct dentry *x = root->children; x; x = x->next_sibling)
		n += strcmp(x->name, "nope") == 0;
	cr_assert_eq(n, 1);

	/* The same for a directory in a subdirectory, then walking through it. */
	expect_err("/a/newdir/g", 0, -ENOENT);
	struct dentry *nd = mkdir_(d_a, "newdir");
	expect_walk("/a/newdir", 0, nd);
	expect_walk("/a/newdir/", WALK_DIRECTORY, nd);
	expect_err("/a/newdir/g", 0, -ENOENT);
	struct dentry *g = mkfile(nd, "g");
	expect_walk("/a/newdir/g", 0, g);
	/* And for a symlink in the mounted filesystem. */
	expect_err("/mnt/ln", 0, -ENOENT);
	struct dentry *ln = mklink(mnt_root, "ln", "x");
	expect_walk("/mnt/ln", 0, ln);
	expect_walk("/mnt/ln", WALK_FOLLOW, d_x);
}

Test(path, create_existing_and_reserved_names)
{
	struct dentry *d;
	cr_assert_eq(vfs_create(root, "file", S_IFREG | 0644, NULL, &d), -EEXIST);
	cr_assert_eq(vfs_create(root, "a", S_IFDIR | 0755, NULL, &d), -EEXIST);
	cr_assert_eq(vfs_create(root, "a", S_IFLNK | 0777, "x", &d), -EEXIST);
	cr_assert_eq(vfs_create(root, ".", S_IFDIR | 0755, NULL, &d), -EEXIST);
	cr_assert_eq(vfs_create(root, "..", S_IFDIR | 0755, NULL, &d), -EEXIST);
	cr_assert_eq(vfs_create(d_file, "x", S_IFREG | 0644, NULL, &d), -ENOTDIR);
	expect_walk("/file", 0, d_file);
}

/* ---- symlinks ----------------------------------------------------------------------- */

Test(path, symlink_relative_and_absolute)
{
	struct dentry *rel = mklink(root, "rel", "a/b/f");
	struct dentry *abs = mklink(root, "abs", "/a/b/f");
	struct dentry *up = mklink(d_b, "up", "../../file");
	struct dentry *dots = mklink(d_b, "dots", "./.././b/./f");
	expect_walk("/rel", WALK_FOLLOW, d_f);
	expect_walk("/abs", WALK_FOLLOW, d_f);
	expect_walk("/a/b/up", WALK_FOLLOW, d_file);
	expect_walk("/a/b/dots", WALK_FOLLOW, d_f);
	/* A relative target is resolved from the link's directory, not the cwd. */
	fs->cwd = d_b;
	expect_walk("up", WALK_FOLLOW, d_file);
	expect_walk("../../rel", WALK_FOLLOW, d_f);
	/* Not following gives the link itself. */
	expect_walk("/rel", 0, rel);
	expect_walk("/abs", 0, abs);
	expect_walk("/a/b/up", 0, up);
	expect_walk("/a/b/dots", 0, dots);
	cr_assert(S_ISLNK(rel->inode->mode));
	/* A symlink in the mounted filesystem leading out of it and back. */
	mklink(mnt_root, "out", "../a/b/f");
	mklink(d_a, "in", "/mnt/sub/../x");
	expect_walk("/mnt/out", WALK_FOLLOW, d_f);
	expect_walk("/a/in", WALK_FOLLOW, d_x);
}

Test(path, symlink_chain)
{
	mklink(root, "c1", "c2");
	mklink(root, "c2", "a/c3");
	mklink(d_a, "c3", "/a/b/c4");
	mklink(d_b, "c4", "f");
	expect_walk("/c1", WALK_FOLLOW, d_f);
	expect_walk("c2", WALK_FOLLOW, d_f);
	expect_walk("/a/c3", WALK_FOLLOW, d_f);
	/* A chain ending in a directory, used mid-path. */
	mklink(root, "d1", "d2");
	mklink(root, "d2", "/a/./b/");
	expect_walk("/d1/f", 0, d_f);
	expect_walk("/d1", WALK_FOLLOW, d_b);
}

Test(path, symlink_to_directory_mid_path)
{
	struct dentry *dl = mklink(root, "dirlink", "a/b");
	mklink(d_b, "toroot", "/");
	mklink(root, "tomnt", "mnt");
	/* Followed mid-path whatever the flags. */
	expect_walk("/dirlink/f", 0, d_f);
	expect_walk("/dirlink/f", WALK_FOLLOW, d_f);
	expect_walk("dirlink/./f", 0, d_f);
	/* ".." after a followed symlink is the target's parent (physical, as on Linux). */
	expect_walk("/dirlink/..", 0, d_a);
	expect_walk("/dirlink/../..", 0, root);
	expect_walk("/a/b/toroot/a", 0, d_a);
	expect_walk("/a/b/toroot/..", 0, root);
	/* A symlink to a mountpoint lands in the mounted filesystem. */
	expect_walk("/tomnt/x", 0, d_x);
	expect_walk("/tomnt", WALK_FOLLOW, mnt_root);
	/* The trailing link: followed with WALK_FOLLOW or a trailing slash, else returned. */
	expect_walk("/dirlink", 0, dl);
	expect_walk("/dirlink", WALK_FOLLOW, d_b);
	expect_walk("/dirlink/", 0, d_b);
	expect_walk("/dirlink/.", 0, d_b);
	expect_walk("/dirlink/", WALK_DIRECTORY, d_b);
	expect_walk("/dirlink", WALK_FOLLOW | WALK_DIRECTORY, d_b);
	expect_err("/dirlink", WALK_DIRECTORY, -ENOTDIR);
	/* Through a symlink to a regular file. */
	mklink(root, "flink", "file");
	expect_err("/flink/x", 0, -ENOTDIR);
	expect_err("/flink/", 0, -ENOTDIR);
	expect_err("/flink", WALK_FOLLOW | WALK_DIRECTORY, -ENOTDIR);
}

Test(path, dangling_symlink)
{
	struct dentry *dg = mklink(root, "dangle", "nope");
	struct dentry *dg2 = mklink(d_a, "dangle2", "/a/b/nope/deeper");
	struct dentry *empty = mklink(root, "empty", "");
	expect_err("/dangle", WALK_FOLLOW, -ENOENT);
	expect_err("/dangle/", 0, -ENOENT);
	expect_err("/dangle/x", 0, -ENOENT);
	expect_err("/a/dangle2", WALK_FOLLOW, -ENOENT);
	expect_err("/empty", WALK_FOLLOW, -ENOENT);
	expect_err("/empty/x", 0, -ENOENT);
	/* lstat-style walks still see the links. */
	expect_walk("/dangle", 0, dg);
	expect_walk("/a/dangle2", 0, dg2);
	expect_walk("/empty", 0, empty);
	/* Once the target exists the link works (its negative dentry is updated). */
	struct dentry *t = mkfile(root, "nope");
	expect_walk("/dangle", WALK_FOLLOW, t);
	expect_err("/dangle/", 0, -ENOTDIR);
}

Test(path, symlink_loop)
{
	struct dentry *la = mklink(root, "la", "lb");
	mklink(root, "lb", "la");
	struct dentry *self = mklink(root, "self", "self");
	mklink(d_a, "up", "../a/up");
	expect_err("/la", WALK_FOLLOW, -ELOOP);
	expect_err("/lb", WALK_FOLLOW, -ELOOP);
	expect_err("/la/x", 0, -ELOOP);
	expect_err("/la/", 0, -ELOOP);
	expect_err("/self", WALK_FOLLOW, -ELOOP);
	expect_err("/a/up", WALK_FOLLOW, -ELOOP);
	expect_walk("/la", 0, la);
	expect_walk("/self", 0, self);
	struct dentry *d;
	const char *last;
	cr_assert_eq(vfs_walk_parent(fs, NULL, "/la/x", &d, &last), -ELOOP);
	/* The parent walk does not follow the last component. */
	cr_assert_eq(vfs_walk_parent(fs, NULL, "/la", &d, &last), 0);
	cr_assert_eq(d, root);
	cr_assert_str_eq(last, "la");
	dentry_put(d);
}

/* Makes a chain name0 -> name1 -> ... -> name<n-1> -> target in dir; returns the head. */
static void make_chain(struct dentry *dir, const char *prefix, int n, const char *target)
{
	char name[64], next[64];
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s%d", prefix, i);
		if (i + 1 < n)
			snprintf(next, sizeof(next), "%s%d", prefix, i + 1);
		mklink(dir, name, i + 1 < n ? next : target);
	}
}

/* Linux: MAXSYMLINKS is 40; resolving a path may follow 40 links, the 41st gives ELOOP. */
Test(path, forty_links_work_forty_one_do_not)
{
	_Static_assert(WALK_MAX_SYMLINKS == 40, "Linux's MAXSYMLINKS");
	make_chain(root, "c", 41, "a/b/f"); /* c0 -> c1 -> ... -> c40 -> a/b/f */
	/* From c1: 40 links. */
	expect_walk("/c1", WALK_FOLLOW, d_f);
	expect_walk("/c40", WALK_FOLLOW, d_f);
	/* From c0: 41 links. */
	expect_err("/c0", WALK_FOLLOW, -ELOOP);
	/* The same as a directory used mid-path. */
	make_chain(root, "d", 41, "/a/b");
	expect_walk("/d1/f", 0, d_f);
	expect_walk("/d1/", 0, d_b);
	expect_err("/d0/f", 0, -ELOOP);
	expect_err("/d0/", 0, -ELOOP);
	struct dentry *d;
	const char *last;
	cr_assert_eq(vfs_walk_parent(fs, NULL, "/d1/new", &d, &last), 0);
	cr_assert_eq(d, d_b);
	cr_assert_str_eq(last, "new");
	dentry_put(d);
	cr_assert_eq(vfs_walk_parent(fs, NULL, "/d0/new", &d, &last), -ELOOP);
}

/* The limit counts every link followed in one walk, not per component (Linux's
 * nameidata.total_link_count). */
Test(path, link_limit_is_per_walk)
{
	make_chain(root, "k", 20, "a"); /* k0 .. k19 -> a: 20 links */
	expect_walk("/k0/b", 0, d_b);
	expect_walk("/k0/../k0/b/f", 0, d_f);      /* 40 links */
	expect_err("/k0/../k0/../k0/b", 0, -ELOOP); /* 60 links */
	/* A fresh walk starts counting from zero again. */
	expect_walk("/k0/../k0/b/f", 0, d_f);
}

Test(path, walk_directory_flag)
{
	expect_err("/file", WALK_DIRECTORY, -ENOTDIR);
	expect_err("/a/b/f", WALK_DIRECTORY | WALK_FOLLOW, -ENOTDIR);
	expect_err("/mnt/x", WALK_DIRECTORY, -ENOTDIR);
	expect_walk("/a", WALK_DIRECTORY, d_a);
	expect_walk("/", WALK_DIRECTORY, root);
	expect_walk("/mnt", WALK_DIRECTORY, mnt_root);
	expect_walk(".", WALK_DIRECTORY, root);
	expect_err("/nope", WALK_DIRECTORY, -ENOENT);
}

/* ---- length limits ------------------------------------------------------------------- */

Test(path, name_too_long)
{
	char name[300], path[400];
	memset(name, 'n', 256);
	name[256] = 0;
	snprintf(path, sizeof(path), "/%s", name);
	expect_err(path, 0, -ENAMETOOLONG);
	expect_err(name, WALK_FOLLOW, -ENAMETOOLONG);
	snprintf(path, sizeof(path), "/a/%s/f", name);
	expect_err(path, 0, -ENAMETOOLONG);
	snprintf(path, sizeof(path), "/mnt/%s", name);
	expect_err(path, 0, -ENAMETOOLONG);
	struct dentry *d;
	cr_assert_eq(vfs_lookup_child(fs, root, name, 256, &d), -ENAMETOOLONG);
	cr_assert_null(cached(root, name), "a too-long name was cached");
	cr_assert_eq(vfs_create(root, name, S_IFREG | 0644, NULL, &d), -ENAMETOOLONG);
	/* 255 is fine: missing, then created and found. */
	name[255] = 0;
	snprintf(path, sizeof(path), "/a/%s", name);
	expect_err(path, 0, -ENOENT);
	struct dentry *c = mkfile(d_a, name);
	expect_walk(path, 0, c);
	cr_assert_eq(strlen(path_of(c)), 3 + 255);
	/* A 256-char name that is a symlink target. */
	name[255] = 'n';
	mklink(root, "longlink", name);
	expect_err("/longlink", WALK_FOLLOW, -ENAMETOOLONG);
}

Test(path, path_too_long)
{
	static char path[PATH_MAX + 100];
	struct dentry *d;
	const char *last;
	/* PATH_MAX - 1 characters (fits with its NUL): fine. */
	memset(path, '/', PATH_MAX - 2);
	path[PATH_MAX - 2] = 'a';
	path[PATH_MAX - 1] = 0;
	cr_assert_eq(strlen(path), PATH_MAX - 1);
	expect_walk(path, 0, d_a);
	cr_assert_eq(vfs_walk_parent(fs, NULL, path, &d, &last), 0);
	cr_assert_eq(d, root);
	cr_assert_str_eq(last, "a");
	dentry_put(d);
	/* PATH_MAX characters. */
	memset(path, '/', PATH_MAX - 1);
	path[PATH_MAX - 1] = 'a';
	path[PATH_MAX] = 0;
	cr_assert_eq(strlen(path), PATH_MAX);
	expect_err(path, 0, -ENAMETOOLONG);
	cr_assert_eq(vfs_walk_parent(fs, NULL, path, &d, &last), -ENAMETOOLONG);
	/* More, made of "./" so that no component is too long. */
	for (size_t i = 0; i + 1 < sizeof(path); i += 2)
		memcpy(path + i, "./", 2);
	path[sizeof(path) - 1] = 0;
	expect_err(path, 0, -ENAMETOOLONG);
	expect_err(path, WALK_FOLLOW, -ENAMETOOLONG);
	cr_assert_eq(vfs_walk_parent(fs, NULL, path, &d, &last), -ENAMETOOLONG);
}

/* ---- vfs_walk_parent ---------------------------------------------------------------- */

Test(path, walk_parent)
{
	struct dentry *d;
	const char *last;
	const char *p = "/a/b/f";
	cr_assert_eq(vfs_walk_parent(fs, NULL, p, &d, &last), 0);
	cr_assert_eq(d, d_b);
	cr_assert_eq(last, p + 5, "last points into the path");
	cr_assert_str_eq(last, "f");
	dentry_put(d);
	/* The last component need not exist. */
	cr_assert_eq(vfs_walk_parent(fs, NULL, "a/b/new", &d, &last), 0);
	cr_assert_eq(d, d_b);
	cr_assert_str_eq(last, "new");
	dentry_put(d);
	cr_assert_eq(vfs_walk_parent(fs, NULL, "/x", &d, &last), 0);
	cr_assert_eq(d, root);
	cr_assert_str_eq(last, "x");
	dentry_put(d);
	cr_assert_eq(vfs_walk_parent(fs, NULL, "x", &d, &last), 0);
	cr_assert_eq(d, root);
	cr_assert_str_eq(last, "x");
	dentry_put(d);
	/* Relative to a start dentry, and through "..", a mount and a symlink. */
	cr_assert_eq(vfs_walk_parent(fs, d_b, "f", &d, &last), 0);
	cr_assert_eq(d, d_b);
	cr_assert_str_eq(last, "f");
	dentry_put(d);
	cr_assert_eq(vfs_walk_parent(fs, d_b, "../../mnt/sub/y", &d, &last), 0);
	cr_assert_eq(d, d_sub);
	cr_assert_str_eq(last, "y");
	dentry_put(d);
	cr_assert_eq(vfs_walk_parent(fs, NULL, "/mnt/x", &d, &last), 0);
	cr_assert_eq(d, mnt_root);
	cr_assert_str_eq(last, "x");
	dentry_put(d);
	mklink(root, "dirlink", "a/b");
	cr_assert_eq(vfs_walk_parent(fs, NULL, "/dirlink/new", &d, &last), 0);
	cr_assert_eq(d, d_b);
	cr_assert_str_eq(last, "new");
	dentry_put(d);
	/* The last component is never followed, even when it is a link. */
	cr_assert_eq(vfs_walk_parent(fs, NULL, "/dirlink", &d, &last), 0);
	cr_assert_eq(d, root);
	cr_assert_str_eq(last, "dirlink");
	dentry_put(d);
	/* "/" has no last component. */
	cr_assert_eq(vfs_walk_parent(fs, NULL, "/", &d, &last), 0);
	cr_assert_eq(d, root);
	cr_assert_str_eq(last, "");
	dentry_put(d);
	cr_assert_eq(vfs_walk_parent(fs, NULL, "///", &d, &last), 0);
	cr_assert_eq(d, root);
	cr_assert_str_eq(last, "");
	dentry_put(d);
	/* A trailing slash stays on the last component (callers cut it with strcspn). */
	cr_assert_eq(vfs_walk_parent(fs, NULL, "/a/b//", &d, &last), 0);
	cr_assert_eq(d, d_a);
	cr_assert_eq(strcspn(last, "/"), 1);
	cr_assert_eq(last[0], 'b');
	dentry_put(d);
	/* "." and ".." as the last component are returned as names. */
	cr_assert_eq(vfs_walk_parent(fs, NULL, "/a/..", &d, &last), 0);
	cr_assert_eq(d, d_a);
	cr_assert_str_eq(last, "..");
	dentry_put(d);
	/* Errors in the leading components. */
	cr_assert_eq(vfs_walk_parent(fs, NULL, "/nope/x", &d, &last), -ENOENT);
	cr_assert_eq(vfs_walk_parent(fs, NULL, "/file/x", &d, &last), -ENOTDIR);
	cr_assert_eq(vfs_walk_parent(fs, NULL, "/a/b/f/x", &d, &last), -ENOTDIR);
}

/* ---- dentry_path ------------------------------------------------------------------- */

Test(path, dentry_path_nested_and_mounted)
{
	cr_assert_str_eq(path_of(root), "/");
	cr_assert_str_eq(path_of(d_a), "/a");
	cr_assert_str_eq(path_of(d_b), "/a/b");
	cr_assert_str_eq(path_of(d_f), "/a/b/f");
	cr_assert_str_eq(path_of(d_file), "/file");
	cr_assert_str_eq(path_of(mnt_root), "/mnt");
	cr_assert_str_eq(path_of(d_mnt), "/mnt");
	cr_assert_str_eq(path_of(d_x), "/mnt/x");
	cr_assert_str_eq(path_of(d_sub), "/mnt/sub");
	struct dentry *deep = mkfile(mkdir_(d_sub, "deep"), "z");
	cr_assert_str_eq(path_of(deep), "/mnt/sub/deep/z");
	/* What the walk returns names itself. */
	struct dentry *d;
	cr_assert_eq(walk("/mnt/sub/../x", 0, &d), 0);
	cr_assert_str_eq(path_of(d), "/mnt/x");
	/* The buffer: exactly enough, then one short. */
	char buf[16];
	cr_assert_eq(dentry_path(root, d_f, buf, 7), 6);
	cr_assert_str_eq(buf, "/a/b/f");
	cr_assert_eq(dentry_path(root, d_f, buf, 6), -ERANGE);
	cr_assert_eq(dentry_path(root, root, buf, 2), 1);
	cr_assert_str_eq(buf, "/");
	/* Relative to another root (chroot). */
	cr_assert_eq(dentry_path(d_a, d_f, buf, sizeof(buf)), 4);
	cr_assert_str_eq(buf, "/b/f");
	cr_assert_eq(dentry_path(mnt_root, d_x, buf, sizeof(buf)), 2);
	cr_assert_str_eq(buf, "/x");
}

/* ---- unlink and rmdir -------------------------------------------------------------- */

Test(path, unlink_then_walk)
{
	cr_assert_eq(vfs_unlink(d_b, "f", false), 0);
	expect_err("/a/b/f", 0, -ENOENT);
	expect_err("/a/b/f", WALK_FOLLOW, -ENOENT);
	expect_err("a/b/f/", 0, -ENOENT);
	struct dentry *d;
	cr_assert_eq(vfs_lookup_child(fs, d_b, "f", 1, &d), -ENOENT);
	cr_assert_eq(vfs_unlink(d_b, "f", false), -ENOENT);
	/* A file that was never looked up (not cached). */
	cr_assert_eq(vfs_unlink(mnt_root, "x", false), 0);
	expect_err("/mnt/x", 0, -ENOENT);
	/* A symlink is removed, not its target. */
	mklink(root, "ln", "file");
	cr_assert_eq(vfs_unlink(root, "ln", false), 0);
	expect_err("/ln", 0, -ENOENT);
	expect_walk("/file", 0, d_file);
	/* Type checks. */
	cr_assert_eq(vfs_unlink(d_a, "b", false), -EISDIR);
	cr_assert_eq(vfs_unlink(root, "file", true), -ENOTDIR);
	cr_assert_eq(vfs_unlink(d_file, "x", false), -ENOTDIR);
	/* Re-creating the name works and is found. */
	struct dentry *f2 = mkfile(d_b, "f");
	expect_walk("/a/b/f", 0, f2);
	cr_assert_neq(f2->inode->ino, 0);
}

Test(path, rmdir)
{
	cr_assert_eq(vfs_unlink(d_a, "b", true), -ENOTEMPTY);
	cr_assert_eq(vfs_unlink(root, "a", true), -ENOTEMPTY);
	expect_walk("/a/b", 0, d_b);
	expect_walk("/a/b/f", 0, d_f);
	/* A mountpoint is busy (its own directory is empty). */
	cr_assert_eq(vfs_unlink(root, "mnt", true), -EBUSY);
	expect_walk("/mnt/x", 0, d_x);
	/* Emptied, it goes. */
	cr_assert_eq(vfs_unlink(d_b, "f", false), 0);
	cr_assert_eq(vfs_unlink(d_a, "b", true), 0);
	expect_err("/a/b", 0, -ENOENT);
	expect_err("/a/b/", 0, -ENOENT);
	expect_err("/a/b/f", 0, -ENOENT);
	expect_err("/a/b/..", 0, -ENOENT);
	expect_walk("/a", 0, d_a);
	cr_assert_eq(vfs_unlink(d_a, "b", true), -ENOENT);
	/* An empty directory in the mounted filesystem. */
	cr_assert_eq(vfs_unlink(mnt_root, "sub", true), 0);
	expect_err("/mnt/sub", 0, -ENOENT);
}

/* Linux: a directory removed while it is a task's cwd (or an open fd's directory) stays
 * that dead directory: lookups in it fail with ENOENT, and "." still resolves to it. A
 * new directory made under the old name is a different directory. */
Test(path, removed_cwd_is_not_revived)
{
	struct dentry *d = mkdir_(root, "d");
	fs->cwd = d;
	cr_assert_eq(vfs_unlink(root, "d", true), 0);
	expect_err("x", 0, -ENOENT); /* ward: -ENOTDIR (d->inode is NULL) */
	struct dentry *d2 = mkdir_(root, "d");
	mkfile(d2, "x");
	cr_assert_neq(d2, d, "the new directory reuses the removed directory's dentry");
	expect_err("x", 0, -ENOENT); /* ward: finds /d/x through the old cwd */
}
