/* The gofer's mount namespace and capabilities. Seccomp limits which calls the gofer
 * makes and openat2() how it resolves names; this limits what a gofer subverted anyway
 * could reach: only the exported trees exist in its namespace, the read-only ones are
 * read-only mounts, and no capability lets it undo that. */
#include "gofer/isolate.h"
#include "gofer/host_stat.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NAME_RESOLVE (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)
#define BIND_ATTRS (MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)
/* Where the served root sits in the new namespace with whole_root. */
#define WHOLE_ROOT_DIR "root"

/* One tree to show: src beneath the old served root ("." for the root itself), dst
 * beneath the new one, both without a leading '/'. */
struct bind {
	const char *src, *dst;
	char *owned; /* dst, when it was built here */
	bool rdonly;
	unsigned depth;
	int tree; /* the detached clone, -1 until made */
};

struct made_dir {
	char *rel;
	struct stat host; /* the host directory it stands for */
};

struct layout {
	struct bind *binds;
	size_t nbinds;
	struct made_dir *dirs; /* made in the tmpfs, "." (the root) and symlinks included */
	size_t ndirs;
	struct made_dir *host; /* host lstat of every name the tmpfs may stand in for */
	size_t nhost;
	/* tmpfs directories under a bind: seen only as directory entries of their parent */
	struct host_stat_override *covered;
	size_t ncovered;
};

static int openat2_path(int dirfd, const char *path)
{
	struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC, .resolve = NAME_RESOLVE };
	long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int err;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	err = n == (ssize_t)strlen(text) ? 0 : n < 0 ? -errno : -EIO;
	close(fd);
	return err;
}

/* A private mount namespace; without the privilege for one, a user namespace too, with
 * only this process's uid and gid mapped (to themselves, so files keep their owners as
 * far as the namespace can show them). */
static int enter_namespaces(char *why, size_t whysz)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	char map[64];
	int err;

	if (unshare(CLONE_NEWNS) == 0)
		return 0;
	if (errno != EPERM) {
		snprintf(why, whysz, "no mount namespace (unshare: %s)", strerror(errno));
		return 1;
	}
	/* Inside the user namespace other users' ids read as the overflow ids: a helper
	 * left outside tells the real ones. */
	err = host_stat_start_owner_helper();
	if (err < 0) {
		snprintf(why, whysz, "no mount namespace (owner helper: %s)", strerror(-err));
		return 1;
	}
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
		snprintf(why, whysz, "no mount namespace (no privilege, and no user namespace: %s)",
			 strerror(errno));
		host_stat_stop_owner_helper();
		return 1;
	}
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
	err = write_file("/proc/self/uid_map", map);
	if (!err)
		err = write_file("/proc/self/setgroups", "deny");
	if (!err) {
		snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
		err = write_file("/proc/self/gid_map", map);
	}
	if (err) {
		/* Unmapped, the process cannot even mount: give up on the namespace. */
		snprintf(why, whysz, "no mount namespace (user namespace id map: %s)",
			 strerror(-err));
		host_stat_stop_owner_helper();
		return 1;
	}
	return 0;
}

static unsigned depth_of(const char *rel)
{
	unsigned d = 1;

	for (const char *p = rel; *p; p++)
		d += *p == '/';
	return d;
}

static int cmp_depth(const void *a, const void *b)
{
	const struct bind *x = a, *y = b;

	return (x->depth > y->depth) - (x->depth < y->depth);
}

static int add_bind(struct layout *l, const char *src, const char *dst, bool rdonly)
{
	struct bind *b = realloc(l->binds, (l->nbinds + 1) * sizeof(*b));

	if (!b)
		return -ENOMEM;
	l->binds = b;
	b[l->nbinds++] = (struct bind){ .src = src, .dst = dst, .rdonly = rdonly,
					.depth = depth_of(dst), .tree = -1 };
	return 0;
}

static void layout_free(struct layout *l)
{
	for (size_t i = 0; i < l->nbinds; i++) {
		if (l->binds[i].tree >= 0)
			close(l->binds[i].tree);
		free(l->binds[i].owned);
	}
	for (size_t i = 0; i < l->ndirs; i++)
		free(l->dirs[i].rel);
	for (size_t i = 0; i < l->nhost; i++)
		free(l->host[i].rel);
	free(l->binds);
	free(l->dirs);
	free(l->host);
	free(l->covered);
}

/* A detached, recursive copy of old_root/b->src with the bind's mount attributes. The
 * copy is recursive because a user namespace may not split a tree of locked mounts,
 * and because what is mounted inside an export is part of what the host shows there. */
static int clone_tree(int old_root, struct bind *b)
{
	struct mount_attr attr = { .attr_set = BIND_ATTRS | (b->rdonly ? MOUNT_ATTR_RDONLY : 0) };
	int src = openat2_path(old_root, b->src), err = 0;

	if (src < 0)
		return src;
	b->tree = open_tree(src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH |
				     AT_RECURSIVE);
	if (b->tree < 0)
		err = -errno;
	else if (mount_setattr(b->tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
		err = -errno;
	close(src);
	return err;
}

static bool host_lstat(const struct layout *l, const char *rel, struct stat *st)
{
	for (size_t i = 0; i < l->nhost; i++)
		if (strcmp(l->host[i].rel, rel) == 0) {
			*st = l->host[i].host;
			return true;
		}
	return false;
}

static int record(struct made_dir **tab, size_t *n, const char *rel, const struct stat *st)
{
	struct made_dir *t = realloc(*tab, (*n + 1) * sizeof(**tab));

	if (!t)
		return -ENOMEM;
	*tab = t;
	t[*n].rel = strdup(rel);
	if (!t[*n].rel)
		return -ENOMEM;
	t[*n].host = *st;
	(*n)++;
	return 0;
}

/* The host lstat of the root, the system names and every directory on the way to an
 * export, taken before any namespace (a user namespace would hide their owners). */
static int capture_host(struct layout *l, int old_root, const struct gofer_mount_plan *plan)
{
	const char *const *lists[2] = { plan->exports, plan->writable };
	char rel[PATH_MAX];
	struct stat st;
	int err = 0;

	if (fstat(old_root, &st) == 0)
		err = record(&l->host, &l->nhost, ".", &st);
	for (size_t i = 0; !err && plan->system_names[i]; i++)
		if (fstatat(old_root, plan->system_names[i], &st, AT_SYMLINK_NOFOLLOW) == 0)
			err = record(&l->host, &l->nhost, plan->system_names[i], &st);
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; !err && lists[k] && lists[k][i]; i++) {
			size_t len = strlen(lists[k][i] + 1);

			if (len >= sizeof(rel))
				continue;
			memcpy(rel, lists[k][i] + 1, len + 1);
			for (char *p = rel; !err && *p; p++) {
				if (*p != '/')
					continue;
				*p = '\0';
				if (!host_lstat(l, rel, &st) &&
				    fstatat(old_root, rel, &st, AT_SYMLINK_NOFOLLOW) == 0)
					err = record(&l->host, &l->nhost, rel, &st);
				*p = '/';
			}
			if (!err && !host_lstat(l, rel, &st) &&
			    fstatat(old_root, rel, &st, AT_SYMLINK_NOFOLLOW) == 0)
				err = record(&l->host, &l->nhost, rel, &st);
		}
	return err;
}

/* Opens dst beneath the new root (cwd), making the missing directories on the way and
 * recording each with the host directory it stands for. */
static int make_target(struct layout *l, const char *dst)
{
	char rel[PATH_MAX];
	size_t len = strlen(dst);
	int fd;

	if (len >= sizeof(rel))
		return -ENAMETOOLONG;
	memcpy(rel, dst, len + 1);
	for (char *p = rel;; p++) {
		bool last = *p == '\0';

		if (*p != '/' && !last)
			continue;
		*p = '\0';
		fd = openat2_path(AT_FDCWD, rel);
		if (fd == -ENOENT) {
			struct made_dir *d = realloc(l->dirs, (l->ndirs + 1) * sizeof(*d));

			if (!d)
				return -ENOMEM;
			l->dirs = d;
			d = &l->dirs[l->ndirs];
			if (!host_lstat(l, rel, &d->host) || !S_ISDIR(d->host.st_mode))
				d->host = (struct stat){ .st_mode = S_IFDIR | 0755 };
			if (mkdirat(AT_FDCWD, rel, 0700) < 0)
				return -errno;
			/* the target itself shows its bind's attributes, not these */
			if (!last) {
				d->rel = strdup(rel);
				if (!d->rel)
					return -ENOMEM;
				l->ndirs++;
			}
			fd = openat2_path(AT_FDCWD, rel);
			if (fd >= 0 && last) {
				struct host_stat_override *c;
				struct stat st;

				c = realloc(l->covered, (l->ncovered + 1) * sizeof(*c));
				if (!c) {
					close(fd);
					return -ENOMEM;
				}
				l->covered = c;
				if (fstat(fd, &st) == 0 && host_lstat(l, rel, &c[l->ncovered].host)) {
					c[l->ncovered].dev = st.st_dev;
					c[l->ncovered].ino = st.st_ino;
					l->ncovered++;
				}
			}
		}
		if (fd < 0 || last)
			return fd;
		close(fd);
		*p = '/';
	}
}

/* The tmpfs's directories look like the host's: `ls -l /var` in the sandbox should not
 * change because the gofer is confined. The owner only where it can be set. */
static void copy_attributes(const char *rel, const struct stat *host)
{
	struct timespec times[2] = { host->st_atim, host->st_mtim };

	/* chown first: it clears set-id bits the mode may want */
	(void)!fchownat(AT_FDCWD, rel, host->st_uid, host->st_gid, AT_SYMLINK_NOFOLLOW);
	if (!S_ISLNK(host->st_mode))
		fchmodat(AT_FDCWD, rel, host->st_mode & 07777, 0);
	utimensat(AT_FDCWD, rel, times, AT_SYMLINK_NOFOLLOW);
}

/* What the gofer reports for the tmpfs's files is the host files' lstat: the same
 * sizes, link counts, inode numbers and owners as without confinement. */
static int override_made(const struct layout *l)
{
	struct host_stat_override *ov = calloc(l->ndirs + l->ncovered + 1, sizeof(*ov));
	size_t n = 0;
	int err;

	if (!ov)
		return -ENOMEM;
	for (size_t i = 0; i < l->ncovered; i++)
		ov[n++] = l->covered[i];
	for (size_t i = 0; i < l->ndirs; i++) {
		struct stat st;

		if (fstatat(AT_FDCWD, l->dirs[i].rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		ov[n++] = (struct host_stat_override){ .dev = st.st_dev, .ino = st.st_ino,
						       .host = l->dirs[i].host };
	}
	err = host_stat_set_overrides(ov, n);
	free(ov);
	return err;
}

/* Fills the tmpfs (the cwd) and mounts the trees. Every name is opened without
 * following a symlink, so nothing planted on the host meanwhile redirects a mount. */
static int populate(struct layout *l, int old_root, const struct gofer_mount_plan *plan)
{
	struct stat root_st;
	int err;

	if (!plan->whole_root) {
		for (size_t i = 0; plan->system_names[i]; i++) {
			const char *name = plan->system_names[i];
			char target[PATH_MAX];
			ssize_t n;

			n = readlinkat(old_root, name, target, sizeof(target) - 1);
			if (n < 0)
				continue; /* a directory (bound below) or nothing */
			target[n] = '\0';
			if (symlinkat(target, AT_FDCWD, name) < 0)
				return -errno;
			if (host_lstat(l, name, &root_st)) {
				err = record(&l->dirs, &l->ndirs, name, &root_st);
				if (err)
					return err;
			}
		}
	}
	qsort(l->binds, l->nbinds, sizeof(*l->binds), cmp_depth);
	for (size_t i = 0; i < l->nbinds; i++) {
		struct bind *b = &l->binds[i];
		int target = make_target(l, b->dst);

		if (target < 0)
			return target;
		err = move_mount(b->tree, "", target, "",
				 MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0 ? -errno : 0;
		close(target);
		if (err)
			return err;
	}
	if (!plan->whole_root && host_lstat(l, ".", &root_st)) {
		err = record(&l->dirs, &l->ndirs, ".", &root_st);
		if (err)
			return err;
	}
	for (size_t i = 0; i < l->ndirs; i++)
		copy_attributes(l->dirs[i].rel, &l->dirs[i].host);
	return override_made(l);
}

/* Collects the trees to show and clones them while the host is in view. */
static int plan_binds(struct layout *l, int old_root, const struct gofer_mount_plan *plan)
{
	int err = 0;

	if (plan->whole_root) {
		/* Writable exports apply under --all as well, over the read-only whole. */
		err = add_bind(l, ".", WHOLE_ROOT_DIR, true);
		for (size_t i = 0; !err && plan->writable && plan->writable[i]; i++) {
			char *dst;

			if (asprintf(&dst, WHOLE_ROOT_DIR "%s", plan->writable[i]) < 0)
				return -ENOMEM;
			err = add_bind(l, plan->writable[i] + 1, dst, false);
			if (err)
				free(dst);
			else
				l->binds[l->nbinds - 1].owned = dst;
		}
	} else {
		for (size_t i = 0; !err && plan->system_names[i]; i++) {
			struct stat st;

			if (fstatat(old_root, plan->system_names[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISDIR(st.st_mode))
				err = add_bind(l, plan->system_names[i], plan->system_names[i], true);
		}
		for (size_t i = 0; !err && plan->exports && plan->exports[i]; i++)
			err = add_bind(l, plan->exports[i] + 1, plan->exports[i] + 1, true);
		for (size_t i = 0; !err && plan->writable && plan->writable[i]; i++)
			err = add_bind(l, plan->writable[i] + 1, plan->writable[i] + 1, false);
	}
	for (size_t i = 0; !err && i < l->nbinds; i++)
		err = clone_tree(old_root, &l->binds[i]);
	return err;
}

int gofer_isolate(const struct gofer_mount_plan *plan, const char **served, char *why,
		  size_t whysz)
{
	struct layout l = { 0 };
	int old_root = -1, mnt = -1, fs = -1, err, ret;

	*served = plan->root;
	old_root = open(plan->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (old_root < 0)
		return -errno;
	ret = capture_host(&l, old_root, plan);
	close(old_root);
	old_root = -1;
	if (ret)
		goto out;
	ret = enter_namespaces(why, whysz);
	if (ret)
		goto out;
	/* Opened in the new namespace: only its mounts can be cloned. */
	old_root = open(plan->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (old_root < 0) {
		ret = -errno;
		goto out;
	}
	/* Nothing done here may reach the host's namespace, nor the host's mounts here. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		snprintf(why, whysz, "no private mount namespace (%s)", strerror(errno));
		ret = 1;
		goto out;
	}
	err = plan_binds(&l, old_root, plan);
	if (!err) {
		fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
		if (fs < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0755", 0) < 0 ||
		    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
			err = -errno;
	}
	if (!err) {
		mnt = fsmount(fs, FSMOUNT_CLOEXEC, BIND_ATTRS);
		if (mnt < 0)
			err = -errno;
	}
	if (err) {
		/* Nothing visible changed: the gofer may serve as if unconfined. */
		snprintf(why, whysz, "no mount namespace of its own (%s)", strerror(-err));
		ret = 1;
		goto out;
	}

	/* From here on a failure leaves the namespace half made: fatal. The tmpfs goes
	 * over the old root, and pivot_root(".", ".") swaps the two. */
	ret = -EIO;
	if (move_mount(mnt, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) < 0 || fchdir(mnt) < 0) {
		ret = -errno;
		goto out;
	}
	ret = populate(&l, old_root, plan);
	if (ret)
		goto out;
	if (mount_setattr(mnt, "", AT_EMPTY_PATH, &(struct mount_attr){ .attr_set = MOUNT_ATTR_RDONLY },
			  sizeof(struct mount_attr)) < 0 ||
	    syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 || chdir("/") < 0) {
		ret = -errno;
		goto out;
	}
	*served = plan->whole_root ? "/" WHOLE_ROOT_DIR : "/";
	ret = 0;
out:
	layout_free(&l);
	if (mnt >= 0)
		close(mnt);
	if (fs >= 0)
		close(fs);
	if (old_root >= 0)
		close(old_root);
	return ret;
}

static int drop_capabilities_but(uint64_t keep)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };

	/* Ambient and bounding first: shrinking the bounding set needs CAP_SETPCAP, which
	 * the capset below drops. Without it (an ordinary user) there is nothing to gain
	 * from them anyway: no exec is allowed and NO_NEW_PRIVS is set. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	for (unsigned cap = 0; cap < 64; cap++) {
		if (keep & (1ull << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break; /* past the last capability */
			if (errno != EPERM)
				return -errno;
		}
	}
	data[0].effective = data[0].permitted = (uint32_t)keep;
	data[1].effective = data[1].permitted = (uint32_t)(keep >> 32);
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	return 0;
}

int gofer_drop_capabilities(void)
{
	return drop_capabilities_but(geteuid() != 0 ? 0
				     : (1ull << CAP_CHOWN) | (1ull << CAP_DAC_OVERRIDE) |
					       (1ull << CAP_DAC_READ_SEARCH) | (1ull << CAP_FOWNER) |
					       (1ull << CAP_FSETID));
}

int gofer_drop_all_capabilities(void)
{
	return drop_capabilities_but(0);
}

int gofer_allow_data_mappings(void *seccomp_ctx)
{
	scmp_filter_ctx ctx = seccomp_ctx;
	int err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				   SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (!err)
		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	return err;
}
