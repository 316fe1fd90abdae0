/* The sentry's side of the gofer protocol: synchronous request/response calls.
 *
 * Files on the host are named by fids, small integers the gofer maps to host fds it
 * holds. Fid GOFER_ROOT_FID is the export root and exists from the start. Every call
 * returns 0 (or a count) on success and -errno on failure; -EPROTO when the reply is
 * malformed (the gofer is not trusted blindly either). */
#ifndef WARD_GOFER_CLIENT_H
#define WARD_GOFER_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#define GOFER_ROOT_FID 0u
#define GOFER_NAME_MAX 255
/* Largest payload one read or readlink returns; callers loop for more. */
#define GOFER_IO_MAX (64u * 1024u)

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

struct gofer_client {
	int fd;            /* SOCK_SEQPACKET to the gofer */
	uint32_t next_tag;
	void *buf;         /* one message buffer, GOFER_MSG_MAX bytes */
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
/* Reads directory entries of an opened directory fid starting at cookie off (0 = start),
 * "." and ".." excluded. Returns the number stored in ents (0 at the end). */
int gofer_readdir(struct gofer_client *c, uint32_t fid, uint64_t off,
		  struct gofer_dirent *ents, int max);
/* Reads a symlink's target. Returns its length (not NUL-terminated), at most sz. */
long gofer_readlink(struct gofer_client *c, uint32_t fid, char *buf, size_t sz);
/* Releases a fid (and its host fd). */
int gofer_clunk(struct gofer_client *c, uint32_t fid);

#endif
