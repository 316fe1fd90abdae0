/* The sentry's side of the gofer protocol: synchronous request/response calls.
 *
 * Files on the host are named by fids, small integers the gofer maps to host fds it
 * holds. Fid GOFER_ROOT_FID is the export root and exists from the start. Every call
 * returns 0 (or a count) on success and -errno on failure. The gofer is not trusted
 * blindly: a malformed reply (one that does not decode, answers another request, or
 * claims more than was asked) breaks the connection like the gofer's death does; from
 * then on every call is -EIO at once, and c->failed says why. */
#ifndef WARD_GOFER_CLIENT_H
#define WARD_GOFER_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#define GOFER_ROOT_FID 0u
#define GOFER_NAME_MAX 255
/* Largest payload one read or readlink returns; callers loop for more. */
#define GOFER_IO_MAX (64u * 1024u)
/* Largest count of one READ_MEM (its data does not travel in the message). */
#define GOFER_MEM_IO_MAX (1024u * 1024u)

struct gofer_stat {
	uint64_t dev, ino, nlink, size, blocks, rdev;
	uint32_t mode, uid, gid, blksize;
	int64_t atime_sec, mtime_sec, ctime_sec;
	uint32_t atime_nsec, mtime_nsec, ctime_nsec;
};

struct gofer_dirent {
	uint64_t ino;
	uint64_t next_off; /* cookie to pass as 'off' to continue after this entry */
	uint8_t type;      /* DT_* */
	char name[GOFER_NAME_MAX + 1];
};

/* SETATTR: which fields apply. */
#define GOFER_SETATTR_MODE 0x01u
#define GOFER_SETATTR_UID 0x02u
#define GOFER_SETATTR_GID 0x04u
#define GOFER_SETATTR_SIZE 0x08u
#define GOFER_SETATTR_ATIME 0x10u
#define GOFER_SETATTR_MTIME 0x20u
#define GOFER_SETATTR_ALL 0x3fu

/* Fields not named in valid must be 0. mode <= 07777; size <= INT64_MAX; each *_nsec
 * < 1000000000, or UTIME_NOW / UTIME_OMIT with *_sec 0 (utimensat semantics). */
struct gofer_setattr {
	uint32_t valid;
	uint32_t mode, uid, gid;
	uint64_t size;
	int64_t atime_sec, mtime_sec;
	uint32_t atime_nsec, mtime_nsec;
};

struct gofer_statfs {
	uint64_t type, bsize, blocks, bfree, bavail, files, ffree, namelen;
};

struct gofer_client {
	int fd;            /* SOCK_SEQPACKET to the gofer */
	uint32_t next_tag;
	void *buf;         /* one message buffer, GOFER_MSG_MAX bytes */
	int failed;        /* 0, or why the connection broke: EPROTO (a malformed reply),
			    * ECONNRESET/EPIPE (the gofer went away), another errno */
	/* Requests sent without waiting for their replies (gofer_clunk_async): their tags,
	 * oldest first; the replies are read before the next call's. */
	uint32_t async_tags[64];
	int nasync;
	/* The gofer said it has no memory file (READ_MEM: EOPNOTSUPP): do not ask again. */
	int no_read_mem;
};

int gofer_client_init(struct gofer_client *c, int fd);
void gofer_client_close(struct gofer_client *c);

/* Walks one component (no '/', not "." or ".."; the sentry resolves those itself) from
 * directory dir_fid. Never follows a symlink: walking to a symlink yields a fid for the
 * link itself. Returns 0 with a new fid and its lstat, or -ENOENT (absent or not
 * exported), -EACCES (denied by policy), -ENOTDIR, -ENAMETOOLONG, -EINVAL. */
int gofer_walk(struct gofer_client *c, uint32_t dir_fid, const char *name,
	       uint32_t *fid_out, struct gofer_stat *st_out);
int gofer_stat(struct gofer_client *c, uint32_t fid, struct gofer_stat *st_out);
/* Opens fid for reading (O_RDONLY; O_DIRECTORY for directories). A fid is opened once. */
int gofer_open(struct gofer_client *c, uint32_t fid, int flags);
/* Reads up to len (<= GOFER_IO_MAX) bytes at off from an opened fid. Returns the count
 * (0 at EOF). */
long gofer_read(struct gofer_client *c, uint32_t fid, uint64_t off, void *buf, size_t len);
/* Reads up to len (<= GOFER_MEM_IO_MAX) bytes at off from an opened fid straight into
 * the memory file (`ward run --`'s memfd, which the gofer shares with the sentry) at
 * mem_off: the bytes never cross the socket. Returns the count (0 at EOF); -EOPNOTSUPP
 * when the gofer has no memory file (then the caller uses gofer_read, and so does every
 * later call: the answer is remembered). */
long gofer_read_mem(struct gofer_client *c, uint32_t fid, uint64_t off, uint64_t mem_off,
		    size_t len);
/* Reads directory entries of an opened directory fid starting at cookie off (0 = start),
 * "." and ".." excluded. Returns the number stored in ents (0 at the end). */
int gofer_readdir(struct gofer_client *c, uint32_t fid, uint64_t off,
		  struct gofer_dirent *ents, int max);
/* Reads a symlink's target. Returns its length (not NUL-terminated), at most sz. */
long gofer_readlink(struct gofer_client *c, uint32_t fid, char *buf, size_t sz);
/* Releases a fid (and its host fd). */
int gofer_clunk(struct gofer_client *c, uint32_t fid);
/* Releases fid without waiting for the gofer's answer (it is read, and checked, with the
 * next call's): a released fid's fate does not matter to the caller. */
void gofer_clunk_async(struct gofer_client *c, uint32_t fid);

/* ---- write side ----
 * Allowed only beneath a writable export (gofer_policy.writable), on the export's own
 * filesystem; elsewhere -EROFS. Names are one component as for gofer_walk; a denied
 * name is -EACCES. gofer_open() with O_WRONLY/O_RDWR/O_TRUNC/O_APPEND works there on
 * regular files (-EISDIR for a directory). */

/* Creates (or, without O_EXCL, opens) regular file name in dir_fid. flags: any of
 * O_EXCL, O_TRUNC, O_APPEND (others ignored); mode <= 07777, used as given (the gofer
 * applies no umask). Returns 0 with a new fid, already opened read+write, and its
 * stat. An existing non-regular file is -EISDIR (directory), -ELOOP (symlink) or
 * -EACCES. */
int gofer_create(struct gofer_client *c, uint32_t dir_fid, const char *name, int flags,
		 uint32_t mode, uint32_t *fid_out, struct gofer_stat *st_out);
/* pwrite of len (<= GOFER_IO_MAX, more is cut) bytes at off on a fid opened for
 * writing. Returns the count written. On an O_APPEND fid the data goes to the end
 * whatever off says (pwrite on Linux). */
long gofer_write(struct gofer_client *c, uint32_t fid, uint64_t off, const void *buf,
		 size_t len);
/* mkdir; returns a new (unopened) fid for the directory and its stat. */
/* A socket node (S_IFSOCK | mode) named name: the rendezvous name of an AF_UNIX socket
 * bound in the workspace. Returns its fid and lstat like gofer_mkdir. */
int gofer_mksock(struct gofer_client *c, uint32_t dir_fid, const char *name, uint32_t mode,
		 uint32_t *fid_out, struct gofer_stat *st_out);
int gofer_mkdir(struct gofer_client *c, uint32_t dir_fid, const char *name, uint32_t mode,
		uint32_t *fid_out, struct gofer_stat *st_out);
/* symlink name -> target (1..GOFER_SYMLINK_MAX bytes, stored verbatim, never
 * followed); returns a new fid for the link and its lstat. */
int gofer_symlink(struct gofer_client *c, uint32_t dir_fid, const char *name,
		  const char *target, uint32_t *fid_out, struct gofer_stat *st_out);
/* Hard link: dir_fid/name becomes another name of target_fid (not a directory:
 * -EPERM). Both in the same writable export, else -EXDEV. */
int gofer_link(struct gofer_client *c, uint32_t target_fid, uint32_t dir_fid,
	       const char *name);
/* unlinkat; flags 0 or AT_REMOVEDIR. */
int gofer_unlink(struct gofer_client *c, uint32_t dir_fid, const char *name, int flags);
/* renameat2 between two directories of the same writable export (else -EXDEV);
 * flags 0, RENAME_NOREPLACE or RENAME_EXCHANGE. Fids naming the moved files follow
 * them. */
int gofer_rename(struct gofer_client *c, uint32_t old_dir_fid, const char *old_name,
		 uint32_t new_dir_fid, const char *new_name, unsigned flags);
/* Changes what a->valid names, in the order size, mode, uid/gid, times; returns the
 * new stat (st_out may be NULL). Size needs a regular file; uid/gid need a gofer
 * running as root (else -EPERM); mode on a symlink is -EOPNOTSUPP. */
int gofer_setattr(struct gofer_client *c, uint32_t fid, const struct gofer_setattr *a,
		  struct gofer_stat *st_out);
/* fsync (datasync: fdatasync) of an opened fid. */
int gofer_fsync(struct gofer_client *c, uint32_t fid, int datasync);
/* fallocate of a fid opened for writing; mode 0 or FALLOC_FL_KEEP_SIZE. */
int gofer_allocate(struct gofer_client *c, uint32_t fid, int mode, uint64_t off,
		   uint64_t len);
/* fstatfs of the filesystem holding fid (any fid, read-only exports too). */
int gofer_statfs(struct gofer_client *c, uint32_t fid, struct gofer_statfs *out);

#endif
