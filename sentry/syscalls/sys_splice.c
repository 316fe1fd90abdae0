/* Moving data between descriptors without a trip through guest memory: splice, tee,
 * vmsplice, sendfile and copy_file_range. The data goes through a sentry bounce buffer;
 * what Linux does with pipe pages (moving them) is a copy here, with the same results:
 * bytes taken from a pipe are exactly the bytes written out. */
#include "sentry/fs/fs.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/fsnotify.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>

#define MAX_RW_COUNT (INT_MAX & ~4095L)
#define SPLICE_CHUNK (64u * 1024u)
#define SPLICE_F_MOVE_ 1u
#define SPLICE_F_NONBLOCK_ 2u
#define SPLICE_F_MORE_ 4u
#define SPLICE_F_GIFT_ 8u
#define SPLICE_F_ALL_ (SPLICE_F_MOVE_ | SPLICE_F_NONBLOCK_ | SPLICE_F_MORE_ | SPLICE_F_GIFT_)

static bool can_read(struct file *f)
{
	int acc = f->flags & O_ACCMODE;
	return !(f->flags & O_PATH) && (acc == O_RDONLY || acc == O_RDWR);
}

static bool can_write(struct file *f)
{
	int acc = f->flags & O_ACCMODE;
	return !(f->flags & O_PATH) && (acc == O_WRONLY || acc == O_RDWR);
}

/* Files with offsets (pread/pwrite work on them). */
static bool positional(struct file *f)
{
	return f->ops && !f->ops->stream;
}

static void send_sigpipe(struct task *t)
{
	siginfo_t si = {0};
	si.si_signo = SIGPIPE;
	si.si_code = SI_USER;
	si.si_pid = t->tg->tgid;
	si.si_uid = t->tg->cred.ruid;
	signal_send(t, SIGPIPE, &si, false);
}

enum stall { STALL_NONE, STALL_IN_EMPTY, STALL_OUT_FULL };

/* Moves up to len bytes from in to out without blocking: from a pipe by peeking and
 * then taking what was written, from anything else by reading at *ipos (advanced by what
 * was written); into a pipe no more than it has room for. Returns the bytes moved or
 * -errno when none; *stall tells why nothing could move. */
static long transfer(struct task *t, struct file *in, uint64_t *ipos, struct file *out,
		     uint64_t *opos, uint64_t len, enum stall *stall)
{
	bool in_pipe = file_is_pipe(in), out_pipe = file_is_pipe(out);
	char *buf = malloc(SPLICE_CHUNK);
	uint64_t moved = 0;
	long err = 0;
	*stall = STALL_NONE;
	if (!buf)
		return -ENOMEM;
	while (moved < len) {
		size_t want = len - moved < SPLICE_CHUNK ? (size_t)(len - moved) : SPLICE_CHUNK;
		if (out_pipe) {
			if (!pipe_has_readers(out)) {
				send_sigpipe(t);
				err = -EPIPE;
				break;
			}
			size_t room = pipe_room(out);
			if (room == 0) {
				*stall = STALL_OUT_FULL;
				break;
			}
			if (want > room)
				want = room;
		}
		long n;
		if (in_pipe) {
			n = (long)pipe_peek(in, buf, want);
			if (n == 0 && pipe_has_writers(in))
				*stall = STALL_IN_EMPTY;
		} else {
			uint64_t p = *ipos;
			n = in->ops->read(in, NULL, buf, want, &p);
			if (n == -EAGAIN)
				*stall = STALL_IN_EMPTY;
		}
		if (n <= 0) {
			err = n;
			break;
		}
		long w = out->ops->write(out, NULL, buf, (size_t)n, opos);
		if (w < 0) {
			err = w;
			break;
		}
		if (in_pipe)
			pipe_consume(in, (size_t)w);
		else
			*ipos += (uint64_t)w;
		moved += (uint64_t)w;
		if (w < n)
			break;
	}
	free(buf);
	if (moved) {
		*stall = STALL_NONE;
		if (fsnotify_nwatches) {
			fsnotify_file(in, IN_ACCESS_);
			fsnotify_file(out, IN_MODIFY_);
		}
	}
	return moved ? (long)moved : err;
}

/* Blocks (or gives EAGAIN) when nothing moved because a pipe was empty or full. */
static long finish(struct task *t, long r, enum stall stall, struct file *in, struct file *out,
		   bool nonblock)
{
	if (r > 0 || stall == STALL_NONE)
		return r;
	if (nonblock)
		return -EAGAIN;
	return stall == STALL_IN_EMPTY && file_is_pipe(in) ? pipe_wait(in, t, false)
	       : stall == STALL_OUT_FULL                   ? pipe_wait(out, t, true)
							   : -EAGAIN;
}

static long get_off(struct task *t, uint64_t uoff, uint64_t *out)
{
	int64_t v;
	if (copy_from_user(t->tg->mm, &v, uoff, sizeof(v)) < 0)
		return -EFAULT;
	if (v < 0)
		return -EINVAL;
	*out = (uint64_t)v;
	return 0;
}

SYSCALL(splice)
{
	int fd_in = (int)a[0], fd_out = (int)a[2];
	uint64_t uoff_in = a[1], uoff_out = a[3], len = a[4];
	unsigned flags = (unsigned)a[5];
	if (flags & ~SPLICE_F_ALL_)
		return -EINVAL;
	if (len == 0)
		return 0;
	struct file *in = fget(t, fd_in), *out = fget(t, fd_out);
	if (!in || !out || !can_read(in) || !can_write(out))
		return -EBADF;
	bool in_pipe = file_is_pipe(in), out_pipe = file_is_pipe(out);
	if (!in_pipe && !out_pipe)
		return -EINVAL;
	if (in_pipe && out_pipe && pipe_same(in, out))
		return -EINVAL;
	if ((in_pipe && uoff_in) || (out_pipe && uoff_out))
		return -ESPIPE;
	uint64_t ipos = in->pos, opos = out->pos;
	long err;
	if (!in_pipe) {
		if (S_ISDIR(in->inode->mode) || !in->ops || !in->ops->read)
			return -EINVAL;
		if (uoff_in && !positional(in))
			return -EINVAL;
		if (uoff_in && (err = get_off(t, uoff_in, &ipos)) < 0)
			return err;
	}
	if (!out_pipe) {
		if (!out->ops || !out->ops->write)
			return -EINVAL;
		if (uoff_out && !positional(out))
			return -EINVAL;
		if (out->flags & O_APPEND)
			return -EINVAL;
		if (uoff_out && (err = get_off(t, uoff_out, &opos)) < 0)
			return err;
	}
	if (len > MAX_RW_COUNT)
		len = MAX_RW_COUNT;
	bool nonblock = (flags & SPLICE_F_NONBLOCK_) || ((in->flags | out->flags) & O_NONBLOCK);
	enum stall stall;
	long r = transfer(t, in, &ipos, out, &opos, len, &stall);
	if (r <= 0) {
		if (in_pipe && !pipe_has_writers(in) && pipe_avail(in) == 0)
			return 0;
		return finish(t, r, stall, in, out, nonblock);
	}
	if (!in_pipe) {
		if (uoff_in)
			copy_to_user(t->tg->mm, uoff_in, &ipos, sizeof(ipos));
		else
			in->pos = ipos;
	}
	if (!out_pipe) {
		if (uoff_out)
			copy_to_user(t->tg->mm, uoff_out, &opos, sizeof(opos));
		else
			out->pos = opos;
	}
	return r;
}

SYSCALL(tee)
{
	struct file *in = fget(t, (int)a[0]), *out = fget(t, (int)a[1]);
	uint64_t len = a[2];
	unsigned flags = (unsigned)a[3];
	if (flags & ~SPLICE_F_ALL_)
		return -EINVAL;
	if (len == 0)
		return 0;
	if (!in || !out || !can_read(in) || !can_write(out))
		return -EBADF;
	if (!file_is_pipe(in) || !file_is_pipe(out) || pipe_same(in, out))
		return -EINVAL;
	bool nonblock = (flags & SPLICE_F_NONBLOCK_) || ((in->flags | out->flags) & O_NONBLOCK);
	if (pipe_avail(in) == 0) {
		if (!pipe_has_writers(in))
			return 0;
		return nonblock ? -EAGAIN : pipe_wait(in, t, false);
	}
	if (!pipe_has_readers(out)) {
		send_sigpipe(t);
		return -EPIPE;
	}
	size_t room = pipe_room(out);
	if (room == 0)
		return nonblock ? -EAGAIN : pipe_wait(out, t, true);
	size_t n = pipe_avail(in);
	if (n > room)
		n = room;
	if (n > len)
		n = (size_t)len;
	char *buf = malloc(n);
	if (!buf)
		return -ENOMEM;
	pipe_peek(in, buf, n);
	uint64_t unused = 0;
	long w = out->ops->write(out, NULL, buf, n, &unused);
	free(buf);
	return w;
}

/* vmsplice: guest memory into a pipe (write end) or out of it (read end), as writev and
 * readv would, never blocking once something moved. */
SYSCALL(vmsplice)
{
	struct file *f = fget(t, (int)a[0]);
	uint64_t uiov = a[1], nr = a[2];
	unsigned flags = (unsigned)a[3];
	if (flags & ~SPLICE_F_ALL_)
		return -EINVAL;
	if (!f || (f->flags & O_PATH))
		return -EBADF;
	if (!file_is_pipe(f))
		return -EBADF;
	if (nr > 1024)
		return -EINVAL;
	if (nr == 0)
		return 0;
	struct iovec iov[1024];
	if (copy_from_user(t->tg->mm, iov, uiov, nr * sizeof(struct iovec)) < 0)
		return -EFAULT;
	uint64_t total = 0;
	for (uint64_t i = 0; i < nr; i++) {
		if ((int64_t)iov[i].iov_len < 0)
			return -EINVAL;
		total += iov[i].iov_len;
		if (total > (uint64_t)SSIZE_MAX)
			return -EINVAL;
	}
	bool nonblock = (flags & SPLICE_F_NONBLOCK_) || (f->flags & O_NONBLOCK);
	bool writing = can_write(f);
	if (writing) {
		if (!pipe_has_readers(f)) {
			send_sigpipe(t);
			return -EPIPE;
		}
		if (pipe_room(f) == 0)
			return nonblock ? -EAGAIN : pipe_wait(f, t, true);
	} else if (pipe_avail(f) == 0) {
		if (!pipe_has_writers(f))
			return 0;
		return nonblock ? -EAGAIN : pipe_wait(f, t, false);
	}
	char *buf = malloc(SPLICE_CHUNK);
	if (!buf)
		return -ENOMEM;
	long moved = 0, err = 0;
	for (uint64_t i = 0; i < nr && !err; i++) {
		uint64_t done = 0;
		while (done < iov[i].iov_len) {
			size_t left = writing ? pipe_room(f) : pipe_avail(f);
			size_t n = iov[i].iov_len - done < SPLICE_CHUNK ? iov[i].iov_len - done : SPLICE_CHUNK;
			if (n > left)
				n = left;
			if (n == 0) {
				err = 1;
				break;
			}
			uint64_t ua = (uint64_t)iov[i].iov_base + done, unused = 0;
			if (writing) {
				if (copy_from_user(t->tg->mm, buf, ua, n) < 0) {
					err = -EFAULT;
					break;
				}
				long w = f->ops->write(f, NULL, buf, n, &unused);
				if (w <= 0) {
					err = w ? w : 1;
					break;
				}
				n = (size_t)w;
			} else {
				size_t got = pipe_peek(f, buf, n);
				if (copy_to_user(t->tg->mm, ua, buf, got) < 0) {
					err = -EFAULT;
					break;
				}
				pipe_consume(f, got);
				n = got;
			}
			done += n;
			moved += (long)n;
		}
	}
	free(buf);
	if (moved == 0 && err < 0)
		return err;
	return moved;
}

SYSCALL(sendfile)
{
	struct file *out = fget(t, (int)a[0]), *in = fget(t, (int)a[1]);
	uint64_t uoff = a[2], count = a[3];
	if (!in || !can_read(in))
		return -EBADF;
	uint64_t ipos = in->pos, opos;
	long err;
	if (uoff) {
		if (!positional(in))
			return -ESPIPE;
		if ((err = get_off(t, uoff, &ipos)) < 0)
			return err;
	}
	if (!out || !can_write(out))
		return -EBADF;
	if (file_is_pipe(in) || S_ISDIR(in->inode->mode) || !in->ops || !in->ops->read)
		return -EINVAL; /* sendfile reads through splice_read, which pipes lack */
	if (!out->ops || !out->ops->write)
		return -EINVAL;
	if (!file_is_pipe(out) && (out->flags & O_APPEND))
		return -EINVAL;
	if (count > MAX_RW_COUNT)
		count = MAX_RW_COUNT;
	if (count == 0)
		return 0;
	opos = out->pos;
	enum stall stall;
	long r = transfer(t, in, &ipos, out, &opos, count, &stall);
	if (r <= 0)
		return finish(t, r, stall, in, out, (out->flags & O_NONBLOCK) != 0);
	if (uoff)
		copy_to_user(t->tg->mm, uoff, &ipos, sizeof(ipos));
	else
		in->pos = ipos;
	if (!file_is_pipe(out))
		out->pos = opos;
	return r;
}

SYSCALL(copy_file_range)
{
	struct file *in = fget(t, (int)a[0]), *out = fget(t, (int)a[2]);
	uint64_t uoff_in = a[1], uoff_out = a[3], len = a[4];
	if (a[5])
		return -EINVAL;
	if (!in || !out || !can_read(in) || !can_write(out) || (out->flags & O_APPEND))
		return -EBADF;
	if (S_ISDIR(in->inode->mode) || S_ISDIR(out->inode->mode))
		return -EISDIR;
	if (!S_ISREG(in->inode->mode) || !S_ISREG(out->inode->mode))
		return -EINVAL;
	uint64_t ipos = in->pos, opos = out->pos;
	long err;
	if (uoff_in && (err = get_off(t, uoff_in, &ipos)) < 0)
		return err;
	if (uoff_out && (err = get_off(t, uoff_out, &opos)) < 0)
		return err;
	if (ipos + len < ipos || opos + len < opos)
		return -EOVERFLOW;
	if (len > MAX_RW_COUNT)
		len = MAX_RW_COUNT;
	/* As Linux: the count stops at the source's end, then overlapping ranges of one
	 * file are refused. */
	struct kstat st;
	if ((err = inode_getattr(in->inode, &st)) < 0)
		return err;
	if (ipos >= st.size)
		len = 0;
	else if (len > st.size - ipos)
		len = st.size - ipos;
	if (in->inode == out->inode && ipos + len > opos && opos + len > ipos)
		return -EINVAL;
	if (len == 0)
		return 0;
	/* Linux copies between filesystems only when one supports it for both: never for
	 * the ones the sandbox has. */
	if (in->inode->sb != out->inode->sb)
		return -EXDEV;
	if (!in->ops || !in->ops->read || !out->ops || !out->ops->write)
		return -EINVAL;
	enum stall stall;
	long r = transfer(t, in, &ipos, out, &opos, len, &stall);
	if (r <= 0)
		return r;
	if (uoff_in)
		copy_to_user(t->tg->mm, uoff_in, &ipos, sizeof(ipos));
	else
		in->pos = ipos;
	if (uoff_out)
		copy_to_user(t->tg->mm, uoff_out, &opos, sizeof(opos));
	else
		out->pos = opos;
	return r;
}
