/* The sentry's gofer client: one request in flight, answered before the next is sent.
 * Replies are validated like any untrusted input: a reply that does not decode, answers
 * another tag or op, or claims more than was asked for breaks the connection, as does
 * the gofer going away. A broken connection answers every call with -EIO at once: the
 * guest gets an I/O error, never a hang, and nothing a lying gofer says later is read. */
#include "gofer/client.h"
#include "gofer/protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int gofer_client_init(struct gofer_client *c, int fd)
{
	c->fd = fd;
	c->next_tag = 1;
	c->failed = 0;
	c->nasync = 0;
	c->no_read_mem = 0;
	c->buf = malloc(GOFER_MSG_MAX);
	return c->buf ? 0 : -ENOMEM;
}

/* Frees the buffer and closes the socket, which the client owns from init on. */
void gofer_client_close(struct gofer_client *c)
{
	free(c->buf);
	c->buf = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* Waits on a non-blocking socket: the call is synchronous either way. */
static int wait_fd(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	if (poll(&p, 1, -1) < 0 && errno != EINTR)
		return -errno;
	return 0;
}

/* Marks the connection broken for good (why: a positive errno, EPROTO for a reply that
 * breaks the protocol). */
static int broken(struct gofer_client *c, int why)
{
	if (!c->failed)
		c->failed = why > 0 ? why : EIO;
	return -EIO;
}

/* Sends req with a fresh tag. 0 or -EIO (broken). */
static int send_req(struct gofer_client *c, struct gofer_req *req)
{
	ssize_t n;
	int len, err;

	req->tag = c->next_tag++;
	len = gofer_encode_req(c->buf, GOFER_MSG_MAX, req);
	if (len < 0)
		return len;
	for (;;) {
		n = send(c->fd, c->buf, (size_t)len, MSG_NOSIGNAL);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return broken(c, errno); /* EPIPE, ECONNRESET: the gofer is gone */
		err = wait_fd(c->fd, POLLOUT);
		if (err)
			return broken(c, -err);
	}
	if (n != len)
		return broken(c, EPROTO); /* a seqpacket send is all or nothing */
	return 0;
}

/* Receives the reply to the request with tag and opcode op into rep. Returns 0, the
 * gofer's -errno, or -EIO (broken). */
static int recv_reply(struct gofer_client *c, uint32_t tag, uint32_t op, struct gofer_reply *rep)
{
	struct iovec iov;
	struct msghdr mh;
	ssize_t n;
	int err;

	for (;;) {
		/* No control buffer: descriptors a hostile gofer passes are discarded. */
		iov = (struct iovec){ .iov_base = c->buf, .iov_len = GOFER_MSG_MAX };
		mh = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1 };
		n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return broken(c, errno);
		err = wait_fd(c->fd, POLLIN);
		if (err)
			return broken(c, -err);
	}
	if (n == 0)
		return broken(c, ECONNRESET);
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		return broken(c, EPROTO);
	if (gofer_decode_reply(c->buf, (size_t)n, rep) || rep->tag != tag)
		return broken(c, EPROTO);
	if (rep->op == GOFER_OP_ERROR) {
		/* Only errnos a syscall may return: kernel-internal codes (ERESTARTSYS
		 * and friends, >= 512) would steer the sentry's restart logic. */
		if (rep->error == 0 || rep->error > EHWPOISON)
			return broken(c, EPROTO);
		return -(int)rep->error;
	}
	if (rep->op != (op | GOFER_REPLY))
		return broken(c, EPROTO);
	return 0;
}

/* Reads the replies of the requests sent without waiting (their errors do not matter,
 * a malformed one breaks the connection as any). */
static int drain_async(struct gofer_client *c)
{
	struct gofer_reply rep;
	for (int i = 0; i < c->nasync; i++) {
		int err = recv_reply(c, c->async_tags[i], GOFER_OP_CLUNK, &rep);
		if (err == -EIO && c->failed) {
			c->nasync = 0;
			return err;
		}
	}
	c->nasync = 0;
	return 0;
}

/* Sends req (tag assigned here) and receives its reply into rep, whose pointers refer
 * to c->buf until the next call. Returns 0, the gofer's -errno, or -EIO (broken). */
static int call(struct gofer_client *c, struct gofer_req *req, struct gofer_reply *rep)
{
	if (!c->buf)
		return -EBADF;
	if (c->failed)
		return -EIO;
	int err = send_req(c, req);
	if (!err)
		err = drain_async(c);
	if (err)
		return err;
	return recv_reply(c, req->tag, req->op, rep);
}

int gofer_walk(struct gofer_client *c, uint32_t dir_fid, const char *name,
	       uint32_t *fid_out, struct gofer_stat *st_out)
{
	struct gofer_req req = { .op = GOFER_OP_WALK, .fid = dir_fid };
	struct gofer_reply rep;
	size_t len;
	int err;

	if (!name)
		return -EINVAL;
	len = strnlen(name, GOFER_NAME_MAX + 1);
	err = gofer_name_check(name, len);
	if (err)
		return err;
	memcpy(req.walk.name, name, len + 1);
	err = call(c, &req, &rep);
	if (err)
		return err;
	if (rep.walk.fid == GOFER_ROOT_FID)
		return broken(c, EPROTO);
	*fid_out = rep.walk.fid;
	if (st_out)
		*st_out = rep.walk.st;
	return 0;
}

int gofer_stat(struct gofer_client *c, uint32_t fid, struct gofer_stat *st_out)
{
	struct gofer_req req = { .op = GOFER_OP_STAT, .fid = fid };
	struct gofer_reply rep;
	int err = call(c, &req, &rep);

	if (err)
		return err;
	*st_out = rep.stat;
	return 0;
}

int gofer_open(struct gofer_client *c, uint32_t fid, int flags)
{
	struct gofer_req req = { .op = GOFER_OP_OPEN, .fid = fid };
	struct gofer_reply rep;

	/* Only what the host file needs crosses the wire; O_CLOEXEC, O_NONBLOCK,
	 * O_NOFOLLOW, O_CREAT on an existing file and the like belong to the sentry's
	 * own open file description. */
	switch (flags & O_ACCMODE) {
	case O_RDONLY:
		req.open.flags = GOFER_OF_RDONLY;
		break;
	case O_WRONLY:
		req.open.flags = GOFER_OF_WRONLY;
		break;
	case O_RDWR:
		req.open.flags = GOFER_OF_RDWR;
		break;
	default:
		return -EINVAL;
	}
	if (flags & O_DIRECTORY)
		req.open.flags |= GOFER_OF_DIRECTORY;
	if (flags & O_TRUNC)
		req.open.flags |= GOFER_OF_TRUNC;
	if (flags & O_APPEND)
		req.open.flags |= GOFER_OF_APPEND;
	return call(c, &req, &rep);
}

long gofer_read(struct gofer_client *c, uint32_t fid, uint64_t off, void *buf, size_t len)
{
	struct gofer_req req = { .op = GOFER_OP_READ, .fid = fid };
	struct gofer_reply rep;
	int err;

	if (off > INT64_MAX)
		return -EINVAL;
	req.read.off = off;
	req.read.count = (uint32_t)(len > GOFER_IO_MAX ? GOFER_IO_MAX : len);
	err = call(c, &req, &rep);
	if (err)
		return err;
	if (rep.read.count > req.read.count)
		return broken(c, EPROTO);
	memcpy(buf, rep.read.data, rep.read.count);
	return rep.read.count;
}

long gofer_read_mem(struct gofer_client *c, uint32_t fid, uint64_t off, uint64_t mem_off,
		    size_t len)
{
	struct gofer_req req = { .op = GOFER_OP_READ_MEM, .fid = fid };
	struct gofer_reply rep;
	int err;

	if (c->no_read_mem)
		return -EOPNOTSUPP;
	if (off > INT64_MAX || mem_off > INT64_MAX)
		return -EINVAL;
	req.read_mem.off = off;
	req.read_mem.mem_off = mem_off;
	req.read_mem.count = (uint32_t)(len > GOFER_MEM_IO_MAX ? GOFER_MEM_IO_MAX : len);
	err = call(c, &req, &rep);
	if (err == -EOPNOTSUPP)
		c->no_read_mem = 1;
	if (err)
		return err;
	if (rep.write.count > req.read_mem.count)
		return broken(c, EPROTO);
	return rep.write.count;
}

int gofer_readdir(struct gofer_client *c, uint32_t fid, uint64_t off,
		  struct gofer_dirent *ents, int max)
{
	struct gofer_req req = { .op = GOFER_OP_READDIR, .fid = fid };
	struct gofer_reply rep;
	int err;

	if (max <= 0 || off > INT64_MAX)
		return -EINVAL;
	req.readdir.off = off;
	req.readdir.max = (uint32_t)max > GOFER_READDIR_MAX ? GOFER_READDIR_MAX : (uint32_t)max;
	err = call(c, &req, &rep);
	if (err)
		return err;
	if (rep.readdir.count > req.readdir.max)
		return broken(c, EPROTO);
	err = gofer_reply_dirents(&rep, ents, req.readdir.max);
	return err < 0 ? broken(c, EPROTO) : err;
}

long gofer_readlink(struct gofer_client *c, uint32_t fid, char *buf, size_t sz)
{
	struct gofer_req req = { .op = GOFER_OP_READLINK, .fid = fid };
	struct gofer_reply rep;
	int err;

	if (sz == 0)
		return -EINVAL;
	req.readlink.size = (uint32_t)(sz > GOFER_IO_MAX ? GOFER_IO_MAX : sz);
	err = call(c, &req, &rep);
	if (err)
		return err;
	if (rep.readlink.len > req.readlink.size)
		return broken(c, EPROTO);
	memcpy(buf, rep.readlink.target, rep.readlink.len);
	return rep.readlink.len;
}

int gofer_clunk(struct gofer_client *c, uint32_t fid)
{
	struct gofer_req req = { .op = GOFER_OP_CLUNK, .fid = fid };
	struct gofer_reply rep;

	return call(c, &req, &rep);
}

void gofer_clunk_async(struct gofer_client *c, uint32_t fid)
{
	struct gofer_req req = { .op = GOFER_OP_CLUNK, .fid = fid };

	if (!c->buf || c->failed || fid == GOFER_ROOT_FID)
		return;
	if (c->nasync == (int)(sizeof(c->async_tags) / sizeof(c->async_tags[0])) &&
	    drain_async(c) < 0)
		return;
	if (send_req(c, &req) == 0)
		c->async_tags[c->nasync++] = req.tag;
}

/* ---- write side ---- */

/* Copies a validated component into dst (GOFER_NAME_MAX + 1 bytes). */
static int copy_name(char *dst, const char *name)
{
	size_t len;
	int err;

	if (!name)
		return -EINVAL;
	len = strnlen(name, GOFER_NAME_MAX + 1);
	err = gofer_name_check(name, len);
	if (err)
		return err;
	memcpy(dst, name, len + 1);
	return 0;
}

/* Calls a request whose reply is a new fid and its stat (CREATE, MKDIR, SYMLINK). */
static int call_new_fid(struct gofer_client *c, struct gofer_req *req, uint32_t *fid_out,
			struct gofer_stat *st_out)
{
	struct gofer_reply rep;
	int err = call(c, req, &rep);

	if (err)
		return err;
	if (rep.walk.fid == GOFER_ROOT_FID)
		return broken(c, EPROTO);
	*fid_out = rep.walk.fid;
	if (st_out)
		*st_out = rep.walk.st;
	return 0;
}

int gofer_create(struct gofer_client *c, uint32_t dir_fid, const char *name, int flags,
		 uint32_t mode, uint32_t *fid_out, struct gofer_stat *st_out)
{
	struct gofer_req req = { .op = GOFER_OP_CREATE, .fid = dir_fid };
	int err = copy_name(req.create.name, name);

	if (err)
		return err;
	if (mode > GOFER_MODE_MAX)
		return -EINVAL;
	req.create.mode = mode;
	if (flags & O_EXCL)
		req.create.flags |= GOFER_CF_EXCL;
	if (flags & O_TRUNC)
		req.create.flags |= GOFER_CF_TRUNC;
	if (flags & O_APPEND)
		req.create.flags |= GOFER_CF_APPEND;
	return call_new_fid(c, &req, fid_out, st_out);
}

long gofer_write(struct gofer_client *c, uint32_t fid, uint64_t off, const void *buf,
		 size_t len)
{
	struct gofer_req req = { .op = GOFER_OP_WRITE, .fid = fid };
	struct gofer_reply rep;
	int err;

	if (off > INT64_MAX || (len && !buf))
		return -EINVAL;
	req.write.off = off;
	req.write.count = (uint32_t)(len > GOFER_IO_MAX ? GOFER_IO_MAX : len);
	req.write.data = req.write.count ? buf : NULL;
	err = call(c, &req, &rep);
	if (err)
		return err;
	if (rep.write.count > req.write.count)
		return broken(c, EPROTO);
	return rep.write.count;
}

/* MKDIR and MKSOCK share their request (a name and a mode). */
static int make_node(struct gofer_client *c, uint16_t op, uint32_t dir_fid, const char *name,
		     uint32_t mode, uint32_t *fid_out, struct gofer_stat *st_out)
{
	struct gofer_req req = { .op = op, .fid = dir_fid };
	int err = copy_name(req.mkdir.name, name);

	if (err)
		return err;
	if (mode > GOFER_MODE_MAX)
		return -EINVAL;
	req.mkdir.mode = mode;
	return call_new_fid(c, &req, fid_out, st_out);
}

int gofer_mkdir(struct gofer_client *c, uint32_t dir_fid, const char *name, uint32_t mode,
		uint32_t *fid_out, struct gofer_stat *st_out)
{
	return make_node(c, GOFER_OP_MKDIR, dir_fid, name, mode, fid_out, st_out);
}

int gofer_mksock(struct gofer_client *c, uint32_t dir_fid, const char *name, uint32_t mode,
		 uint32_t *fid_out, struct gofer_stat *st_out)
{
	int err = make_node(c, GOFER_OP_MKSOCK, dir_fid, name, mode, fid_out, st_out);
	if (err == 0 && (st_out->mode & S_IFMT) != S_IFSOCK) {
		gofer_clunk(c, *fid_out);
		return broken(c, EPROTO);
	}
	return err;
}

int gofer_symlink(struct gofer_client *c, uint32_t dir_fid, const char *name,
		  const char *target, uint32_t *fid_out, struct gofer_stat *st_out)
{
	struct gofer_req req = { .op = GOFER_OP_SYMLINK, .fid = dir_fid };
	int err = copy_name(req.symlink.name, name);
	size_t len;

	if (err)
		return err;
	if (!target)
		return -EINVAL;
	len = strnlen(target, GOFER_SYMLINK_MAX + 1);
	if (len == 0)
		return -ENOENT; /* symlink(2) with an empty target */
	if (len > GOFER_SYMLINK_MAX)
		return -ENAMETOOLONG;
	memcpy(req.symlink.target, target, len + 1);
	return call_new_fid(c, &req, fid_out, st_out);
}

int gofer_link(struct gofer_client *c, uint32_t target_fid, uint32_t dir_fid,
	       const char *name)
{
	struct gofer_req req = { .op = GOFER_OP_LINK, .fid = target_fid };
	struct gofer_reply rep;
	int err = copy_name(req.link.name, name);

	if (err)
		return err;
	req.link.dir_fid = dir_fid;
	return call(c, &req, &rep);
}

int gofer_unlink(struct gofer_client *c, uint32_t dir_fid, const char *name, int flags)
{
	struct gofer_req req = { .op = GOFER_OP_UNLINK, .fid = dir_fid };
	struct gofer_reply rep;
	int err = copy_name(req.unlink.name, name);

	if (err)
		return err;
	if (flags & ~AT_REMOVEDIR)
		return -EINVAL;
	req.unlink.flags = flags & AT_REMOVEDIR ? GOFER_UNLINK_REMOVEDIR : 0;
	return call(c, &req, &rep);
}

int gofer_rename(struct gofer_client *c, uint32_t old_dir_fid, const char *old_name,
		 uint32_t new_dir_fid, const char *new_name, unsigned flags)
{
	struct gofer_req req = { .op = GOFER_OP_RENAME, .fid = old_dir_fid };
	struct gofer_reply rep;
	int err = copy_name(req.rename.old_name, old_name);

	if (!err)
		err = copy_name(req.rename.new_name, new_name);
	if (err)
		return err;
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE) ||
	    flags == (RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	req.rename.new_dir_fid = new_dir_fid;
	if (flags & RENAME_NOREPLACE)
		req.rename.flags |= GOFER_RENAME_NOREPLACE;
	if (flags & RENAME_EXCHANGE)
		req.rename.flags |= GOFER_RENAME_EXCHANGE;
	return call(c, &req, &rep);
}

int gofer_setattr(struct gofer_client *c, uint32_t fid, const struct gofer_setattr *a,
		  struct gofer_stat *st_out)
{
	struct gofer_req req = { .op = GOFER_OP_SETATTR, .fid = fid };
	struct gofer_reply rep;
	int err;

	if (!a)
		return -EINVAL;
	req.setattr = *a;
	err = call(c, &req, &rep); /* the encoder checks the fields */
	if (err)
		return err;
	if (st_out)
		*st_out = rep.stat;
	return 0;
}

int gofer_fsync(struct gofer_client *c, uint32_t fid, int datasync)
{
	struct gofer_req req = { .op = GOFER_OP_FSYNC, .fid = fid };
	struct gofer_reply rep;

	req.fsync.flags = datasync ? GOFER_FSYNC_DATASYNC : 0;
	return call(c, &req, &rep);
}

int gofer_allocate(struct gofer_client *c, uint32_t fid, int mode, uint64_t off,
		   uint64_t len)
{
	struct gofer_req req = { .op = GOFER_OP_ALLOCATE, .fid = fid };
	struct gofer_reply rep;

	if ((mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) ||
	    ((mode & FALLOC_FL_PUNCH_HOLE) && !(mode & FALLOC_FL_KEEP_SIZE)))
		return -EOPNOTSUPP;
	req.allocate.mode = ((mode & FALLOC_FL_KEEP_SIZE) ? GOFER_FALLOC_KEEP_SIZE : 0) |
			    ((mode & FALLOC_FL_PUNCH_HOLE) ? GOFER_FALLOC_PUNCH_HOLE : 0);
	req.allocate.off = off;
	req.allocate.len = len;
	return call(c, &req, &rep);
}

int gofer_statfs(struct gofer_client *c, uint32_t fid, struct gofer_statfs *out)
{
	struct gofer_req req = { .op = GOFER_OP_STATFS, .fid = fid };
	struct gofer_reply rep;
	int err = call(c, &req, &rep);

	if (err)
		return err;
	*out = rep.statfs;
	return 0;
}
