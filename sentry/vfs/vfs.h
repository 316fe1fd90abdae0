/* The virtual filesystem: inodes, dentries, open files, mounts and the path walk.
 *
 * Every file the guest sees is one of these; filesystems (gofer, tmpfs, dev, proc, host
 * stdio) supply the operations. Path resolution happens here, in the sentry: the gofer is
 * only ever asked for one component at a time and never follows a symlink. */
#ifndef WARD_VFS_H
#define WARD_VFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct task;
struct kernel;
struct inode;
struct file;
struct dentry;

struct kstat {
	uint64_t dev, ino, nlink, size, blocks, rdev;
	uint32_t mode, uid, gid, blksize;
	struct timespec atime, mtime, ctime;
};

/* What setattr changes: the fields whose ATTR_ bit is set. */
enum {
	ATTR_MODE = 1,
	ATTR_UID = 2,
	ATTR_GID = 4,
	ATTR_SIZE = 8,
	ATTR_ATIME = 16,
	ATTR_MTIME = 32,
	ATTR_KILL_SUID = 64, /* a chown: drop set-id bits (handled by the caller of setattr) */
};

struct iattr {
	unsigned valid;
	uint32_t mode, uid, gid;
	uint64_t size;
	struct timespec atime, mtime;
};

struct superblock {
	const char *fstype;
	uint64_t dev;
	uint64_t magic; /* statfs f_type */
	bool readonly;
	void *priv;
	uint64_t next_ino;
};

struct inode_ops {
	/* Looks up one name in a directory: 0 and a new inode reference, or -ENOENT etc. */
	int (*lookup)(struct inode *dir, const char *name, struct inode **out);
	/* A symlink's target, or -EINVAL. */
	long (*readlink)(struct inode *ino, char *buf, size_t sz);
	/* Prepares f (f->ops, f->priv) for an open with f->flags. */
	int (*open)(struct inode *ino, struct file *f);
	int (*getattr)(struct inode *ino, struct kstat *st);
	void (*release)(struct inode *ino);
	/* Creates a regular file or directory in dir (NULL: read-only filesystem). */
	int (*create)(struct inode *dir, const char *name, uint32_t mode, struct inode **out);
	int (*unlink)(struct inode *dir, const char *name, struct inode *victim, bool is_dir);
	/* Creates a symlink (NULL: not supported). */
	int (*symlink)(struct inode *dir, const char *name, const char *target, struct inode **out);
	/* For /proc's magic links (fd/N, exe): the open file they stand for, as a new
	 * reference, or NULL. The walk continues from that file's dentry when it has one. */
	struct file *(*magic_file)(struct inode *ino);
	/* Changes attributes (chmod, chown, truncate, utimes). NULL: read-only (-EROFS). */
	int (*setattr)(struct inode *ino, const struct iattr *attr);
	/* Moves old_name in old_dir to new_name in new_dir (same filesystem), replacing
	 * new_name if it exists (the VFS has checked the types). flags: RENAME_EXCHANGE. */
	int (*rename)(struct inode *old_dir, const char *old_name, struct inode *new_dir,
		      const char *new_name, unsigned flags);
	/* A new name for an existing non-directory inode. */
	int (*link)(struct inode *dir, const char *name, struct inode *target);
	/* Whether a cached dentry for this inode is still valid (NULL: always). Directories
	 * with this op also never cache negative entries. */
	bool (*revalidate)(struct inode *ino);
	/* For a directory whose entries can change behind the sentry's back (the workspace,
	 * which the host user may edit): whether the cached entry name → child (NULL: a
	 * negative entry) still holds. 1 yes, 0 stale (looked up again), or -errno. */
	int (*revalidate_child)(struct inode *dir, const char *name, struct inode *child);
	/* create, symlink and mkdir fail with -EEXIST themselves (the host's O_EXCL): the
	 * VFS need not look the name up first. */
	bool create_is_exclusive;
	/* O_TMPFILE: a regular file with no name in dir (NULL: -EOPNOTSUPP, as Linux for a
	 * filesystem without it). linkable: linkat may give it a name (no O_EXCL). */
	int (*tmpfile)(struct inode *dir, uint32_t mode, bool linkable, struct inode **out);
	/* Extended attributes (NULL: the filesystem keeps none, -EOPNOTSUPP). get and list
	 * return the size (size 0: only the size), or -ENODATA / -ERANGE. */
	long (*getxattr)(struct inode *ino, const char *name, void *buf, size_t size);
	int (*setxattr)(struct inode *ino, const char *name, const void *val, size_t size, int flags);
	long (*listxattr)(struct inode *ino, char *buf, size_t size);
	int (*removexattr)(struct inode *ino, const char *name);
	/* Writes back [off, off+len) of a file whose page cache shared mappings write into
	 * (msync, munmap); sync: make it durable too. NULL: the pages are the file itself. */
	int (*writeback)(struct inode *ino, uint64_t off, uint64_t len, bool sync);
	/* Notes that [off, off+len) of the page cache was written through a mapping (with
	 * writeback: the pages it must write). 0 or -ENOMEM. */
	int (*dirty)(struct inode *ino, uint64_t off, uint64_t len);
};

struct inode {
	int refs;
	const struct inode_ops *ops;
	struct superblock *sb;
	uint64_t ino;
	uint32_t mode; /* type bits are fixed for the inode's life */
	void *priv;
};

/* Directory entries handed to a getdents sink. */
struct dirent_sink {
	/* Returns false when the buffer is full (the entry was not taken). */
	bool (*emit)(struct dirent_sink *s, const char *name, uint64_t ino, unsigned type,
		     uint64_t next_off);
};

struct waitqueue;
struct file_data;

/* Collects the wait queues a poll depends on (for poll/select: the polling task; for
 * epoll: the interest item). */
struct poll_table {
	void (*queue)(struct poll_table *pt, struct waitqueue *wq);
};

static inline void poll_wait(struct poll_table *pt, struct waitqueue *wq)
{
	if (pt)
		pt->queue(pt, wq);
}

struct file_ops {
	/* Stream or positional read. pos is the offset to use and advance. May return
	 * SYSCALL_BLOCKED after parking t (only when t != NULL and the file would block). */
	long (*read)(struct file *f, struct task *t, void *buf, size_t len, uint64_t *pos);
	long (*write)(struct file *f, struct task *t, const void *buf, size_t len, uint64_t *pos);
	/* Emits entries from f->pos on; updates f->pos. Returns 0 or -errno. */
	int (*getdents)(struct file *f, struct dirent_sink *sink);
	long (*ioctl)(struct file *f, struct task *t, unsigned long cmd, uint64_t arg);
	/* Size for SEEK_END; -ESPIPE for streams. NULL: use getattr's size. */
	long (*seek_end)(struct file *f);
	void (*release)(struct file *f);
	/* Readiness as poll(2) bits. With pt, also passes every wait queue whose wake-up may
	 * change the readiness to poll_wait(pt, wq), as Linux's f_op->poll does.
	 * NULL: always readable and writable (regular files). */
	unsigned (*poll)(struct file *f, struct poll_table *pt);
	/* Makes written data durable (fsync/fdatasync). NULL: nothing to do (memory files). */
	int (*fsync)(struct file *f, bool datasync);
	/* Contents kept in the memory file, which MAP_SHARED maps directly (NULL: a shared
	 * mapping is a private copy, and a writable one is refused). */
	struct file_data *(*shared_data)(struct file *f);
	/* The file's whole contents in the memory file, read once (the page cache): private
	 * read-only mappings use these pages instead of a copy. NULL: copy. */
	struct file_data *(*cache_data)(struct file *f);
	bool stream; /* no offsets: lseek gives ESPIPE, pread/pwrite ESPIPE */
	bool discards_writes; /* /dev/null: write succeeds without reading the buffer */
	/* Replaces the generic lseek (character devices whose offset means nothing). */
	long (*llseek)(struct file *f, int64_t off, int whence);
	/* fallocate(2) with the mode already checked against Linux's rules (NULL:
	 * -EOPNOTSUPP). */
	int (*fallocate)(struct file *f, int mode, uint64_t off, uint64_t len);
	/* Type-specific lines of /proc/<pid>/fdinfo/<fd> ("eventfd-count: ..."): writes at
	 * most size bytes into buf and returns the whole length, as snprintf (NULL: none). */
	int (*fdinfo)(struct file *f, char *buf, size_t size);
};

struct file {
	int refs;
	struct dentry *dentry; /* the path it was opened by (may be NULL for anon files) */
	struct inode *inode;
	const struct file_ops *ops;
	uint64_t pos;
	int flags; /* O_ACCMODE | O_APPEND | O_NONBLOCK ... as opened */
	void *priv;
};

struct dentry {
	int refs;
	char *name;
	struct dentry *parent;       /* self for the global root */
	struct inode *inode;         /* NULL: a cached negative entry */
	struct dentry *children;     /* first child */
	struct dentry *next_sibling;
	struct dentry *mounted;      /* root of the filesystem mounted here, if any */
	struct dentry *mountpoint;   /* for a filesystem root: where it is mounted */
	bool revalidate_miss;        /* negative because revalidation failed */
	bool synthetic;              /* a mountpoint the sentry made up: listed by readdir too */
	bool deleted;                /* unlinked: out of the tree, freed with its last reference */
	bool last_link;              /* deleted with the inode's last link (IN_DELETE_SELF) */
};

/* The filesystem context of a task: root and working directory. */
struct fs_ctx {
	int refs;
	struct dentry *root, *cwd;
	uint32_t umask;
};

struct fd_table {
	int refs;
	void *lock_owner; /* the process whose POSIX locks a close drops */
	struct file **files;
	uint8_t *cloexec;
	int cap;
};

/* ---- inodes, dentries, files ---- */
struct inode *inode_new(struct superblock *sb, const struct inode_ops *ops, uint32_t mode, void *priv);
void inode_get(struct inode *ino);
void inode_put(struct inode *ino);
int inode_getattr(struct inode *ino, struct kstat *st);

struct dentry *dentry_new_root(struct inode *ino);
void dentry_get(struct dentry *d);
void dentry_put(struct dentry *d);
/* Mounts a filesystem whose root is fsroot on mountpoint (an existing directory). */
int vfs_mount(struct dentry *mountpoint, struct dentry *fsroot);
/* Writes the absolute path of d (as seen from root) into buf. Returns length or -errno. */
long dentry_path(struct dentry *root, struct dentry *d, char *buf, size_t sz);

struct file *file_new(struct dentry *d, struct inode *ino, int flags);
void file_get(struct file *f);
void file_put(struct file *f);
/* epoll (sentry/fs/epoll.c): f lost a reference; drops epoll items that are all that
 * keep it open. */
void eventpoll_file_unref(struct file *f);

/* ---- path walk ---- */
enum {
	WALK_FOLLOW = 1,     /* follow a trailing symlink */
	WALK_DIRECTORY = 2,  /* the result must be a directory */
};
#define WALK_MAX_SYMLINKS 40

/* Resolves path relative to start (or fs->root when absolute). Returns 0 and a dentry
 * reference with a positive inode, or -errno (ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG). */
int vfs_walk(struct fs_ctx *fs, struct dentry *start, const char *path, int flags,
	     struct dentry **out);
/* Resolves all but the last component; *out is the parent directory and last points into
 * path at the final name ("" when path ends in '/'). */
int vfs_walk_parent(struct fs_ctx *fs, struct dentry *start, const char *path,
		    struct dentry **out, const char **last);
/* One lookup step in a directory dentry (handles "." and "..", mounts, the dentry cache). */
int vfs_lookup_child(struct fs_ctx *fs, struct dentry *dir, const char *name, size_t len,
		     struct dentry **out);

/* Creates name in directory dir (O_CREAT, mkdir, symlink), keeping the dentry cache
 * right. Returns 0 and a dentry reference, -EEXIST, -EROFS, ... */
int vfs_create(struct dentry *dir, const char *name, uint32_t mode, const char *link_target,
	       struct dentry **out);
int vfs_unlink(struct dentry *dir, const char *name, bool is_dir);
/* rename/renameat2 (flags RENAME_NOREPLACE, RENAME_EXCHANGE) and link. */
int vfs_rename(struct dentry *odir, const char *oname, struct dentry *ndir, const char *nname,
	       unsigned flags);
int vfs_link(struct dentry *target, struct dentry *dir, const char *name);

/* Takes d out of the name space for good ("(deleted)"): it keeps its parent (a
 * reference, dropped when d goes) for its path and for inotify's events. */
void dentry_mark_deleted(struct dentry *d);
/* Takes a stale entry and everything cached below it out of the tree, as unlink does
 * (holders keep their dentries, shown as deleted). Not for a subtree with a mount. */
void dentry_drop_stale(struct dentry *c);
/* Whether a mount lies at or below d. */
bool dentry_subtree_has_mount(const struct dentry *d);
/* A dentry for an inode that has no name (O_TMPFILE, memfd): out of the tree, shown as
 * "<parent's path>/<name> (deleted)". Takes over the inode reference. */
struct dentry *dentry_new_unlinked(struct dentry *parent, const char *name, struct inode *ino);

/* Opens a resolved dentry with open(2) flags. */
int vfs_open_dentry(struct dentry *d, int flags, struct file **out);

/* ---- fd tables and fs contexts ---- */
struct fd_table *fdt_new(void);
struct fd_table *fdt_clone(struct fd_table *src);
void fdt_put(struct fd_table *t);
/* Installs f at the lowest free fd >= min. Takes a reference. Returns fd or -EMFILE. */
int fdt_install(struct fd_table *t, struct file *f, int min, bool cloexec, int limit);
int fdt_install_at(struct fd_table *t, int fd, struct file *f, bool cloexec, int limit);
/* Borrowed pointer, or NULL. */
struct file *fdt_get(struct fd_table *t, int fd);
int fdt_close(struct fd_table *t, int fd);
void fdt_close_on_exec(struct fd_table *t);

struct fs_ctx *fs_ctx_new(struct dentry *root, struct dentry *cwd);
struct fs_ctx *fs_ctx_clone(struct fs_ctx *src);
void fs_ctx_put(struct fs_ctx *fs);

/* ---- generic helpers for filesystems ---- */
/* A getdents helper for synthetic directories listing names[0..n) (f->pos is the index). */
struct synthetic_dirent {
	const char *name;
	uint64_t ino;
	unsigned type;
};
int getdents_from_array(struct file *f, struct dirent_sink *sink,
			const struct synthetic_dirent *ents, size_t n);
/* Read helper for files whose content is a buffer in memory. */
long read_from_buffer(const void *data, size_t size, void *buf, size_t len, uint64_t *pos);

#endif
