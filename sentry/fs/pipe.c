/* Pipes: a ring buffer in the sentry between a read end and a write end, with Linux's
 * semantics for capacity (64 KiB), PIPE_BUF atomicity, EOF, EPIPE/SIGPIPE, O_NONBLOCK. */
#include "sentry/fs/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define PIPE_DEFAULT_SIZE 65536

/* Packet mode (O_DIRECT on the writing end): each write of up to PIPE_BUF bytes is one
 * packet, and a read returns at most one packet. The sizes of the packets in the buffer,
 * oldest first; while packets are queued, bytes written without O_DIRECT are queued as
 * stream chunks (CHUNK_STREAM) that reads may take in part. With no chunks, the buffer is
 * a plain byte stream. */
#define CHUNK_STREAM 0x80000000u
struct pipe {
	uint8_t *buf;
	size_t cap, head, len;
	int readers, writers;
	struct waitqueue rwait, wwait;
	uint32_t uid, gid;
	struct timespec ctime;
	uint32_t *chunks; /* ring of chunk sizes; stream bytes are chunks of stream_len */
	size_t chead, cn, ccap;
};

static size_t chunk_at(struct pipe *p, size_t i)
{
	return p->chunks[(p->chead + i) % p->ccap];
}

static int chunk_push(struct pipe *p, uint32_t len)
{
	if (p->cn == p->ccap) {
		size_t cap = p->ccap ? p->ccap * 2 : 16;
		uint32_t *n = malloc(sizeof(*n) * cap);
		if (!n)
			return -ENOMEM;
		for (size_t i = 0; i < p->cn; i++)
			n[i] = (uint32_t)chunk_at(p, i);
		free(p->chunks);
		p->chunks = n;
		p->chead = 0;
		p->ccap = cap;
	}
	p->chunks[(p->chead + p->cn++) % p->ccap] = len;
	return 0;
}

static bool is_reader(struct file *f)
{
	return (f->flags & O_ACCMODE) == O_RDONLY;
}

static long pipe_read(struct file *f, struct task *t, void *buf, size_t len, uint64_t *pos)
{
	(void)pos;
	struct pipe *p = f->inode->priv;
	if (p->len == 0) {
		if (p->writers == 0)
			return 0;
		if (!t || (f->flags & O_NONBLOCK))
			return -EAGAIN;
		return task_block(t, &p->rwait, 0);
	}
	size_t n = len < p->len ? len : p->len, discard = 0;
	if (p->cn) {
		uint32_t *c = &p->chunks[p->chead];
		size_t clen = *c & ~CHUNK_STREAM;
		if (n > clen)
			n = clen;
		if (*c & CHUNK_STREAM) {
			*c -= (uint32_t)n; /* stream bytes: take what fits, keep the rest */
			clen = *c & ~CHUNK_STREAM;
		} else {
			discard = clen - n; /* a packet: the part that did not fit is dropped */
			clen = 0;
		}
		if (clen == 0) {
			p->chead = (p->chead + 1) % p->ccap;
			p->cn--;
		}
	}
	size_t first = p->cap - p->head;
	if (first > n)
		first = n;
	memcpy(buf, p->buf + p->head, first);
	memcpy((uint8_t *)buf + first, p->buf, n - first);
	p->head = (p->head + n + discard) % p->cap;
	p->len -= n + discard;
	waitqueue_wake_all(&p->wwait);
	return (long)n;
}

static long pipe_write(struct file *f, struct task *t, const void *buf, size_t len, uint64_t *pos)
{
	(void)pos;
	struct pipe *p = f->inode->priv;
	/* A blocking write that already moved some bytes before waiting resumes after them. */
	size_t done = t ? (size_t)t->partial : 0;
	if (t)
		t->partial = 0; /* taken: the next buffer of a writev starts at its beginning */
	if (p->readers == 0) {
		if (t) {
			siginfo_t si = {0};
			si.si_signo = SIGPIPE;
			si.si_code = SI_USER;
			si.si_pid = t->tg->tgid;
			si.si_uid = t->tg->cred.ruid;
			signal_send(t, SIGPIPE, &si, false);
		}
		return done ? (long)done : -EPIPE;
	}
	size_t want = len - done, room = p->cap - p->len;
	bool packet = (f->flags & O_DIRECT) != 0;
	if (packet && want > PIPE_BUF)
		want = PIPE_BUF; /* longer writes become several packets */
	bool atomic = want <= PIPE_BUF;
	if ((atomic && room < want) || room == 0) {
		if (!t || (f->flags & O_NONBLOCK))
			return done ? (long)done : -EAGAIN;
		long r = task_block(t, &p->wwait, 0);
		if (done)
			t->intr_result = (long)done;
		return r;
	}
	size_t n = want < room ? want : room;
	size_t tail = (p->head + p->len) % p->cap, first = p->cap - tail;
	if (first > n)
		first = n;
	memcpy(p->buf + tail, (const uint8_t *)buf + done, first);
	memcpy(p->buf, (const uint8_t *)buf + done + first, n - first);
	if (packet && chunk_push(p, (uint32_t)n) < 0)
		return done ? (long)done : -ENOMEM;
	if (!packet && p->cn) {
		uint32_t *last = &p->chunks[(p->chead + p->cn - 1) % p->ccap];
		if (*last & CHUNK_STREAM)
			*last += (uint32_t)n;
		else if (chunk_push(p, CHUNK_STREAM | (uint32_t)n) < 0)
			return done ? (long)done : -ENOMEM;
	}
	p->len += n;
	done += n;
	if (packet && done < len && (p->cap - p->len) >= (len - done < PIPE_BUF ? len - done : PIPE_BUF)) {
		/* more packets fit now: keep going (write returns when all is written) */
		waitqueue_wake_all(&p->rwait);
		if (t)
			t->partial = (long)done;
		return pipe_write(f, t, buf, len, pos);
	}
	waitqueue_wake_all(&p->rwait);
	if (done < len && t && !(f->flags & O_NONBLOCK)) {
		/* Linux's blocking write returns only when everything is written. */
		t->partial = (long)done;
		long r = task_block(t, &p->wwait, 0);
		t->intr_result = (long)done;
		return r;
	}
	return (long)done;
}

static unsigned pipe_poll(struct file *f, struct poll_table *pt)
{
	struct pipe *p = f->inode->priv;
	unsigned mask = 0;
	if (is_reader(f)) {
		if (p->len)
			mask |= POLLIN | POLLRDNORM;
		if (p->writers == 0)
			mask |= POLLHUP;
		poll_wait(pt, &p->rwait);
	} else {
		if (p->len < p->cap)
			mask |= POLLOUT | POLLWRNORM;
		if (p->readers == 0)
			mask |= POLLERR;
		poll_wait(pt, &p->wwait);
	}
	return mask;
}

static void pipe_release(struct file *f)
{
	struct pipe *p = f->inode->priv;
	if (is_reader(f))
		p->readers--;
	else
		p->writers--;
	/* The other side learns of it: EOF for readers, EPIPE for writers. */
	waitqueue_wake_all(&p->rwait);
	waitqueue_wake_all(&p->wwait);
}

static const struct file_ops pipe_ops = {
	.read = pipe_read,
	.write = pipe_write,
	.poll = pipe_poll,
	.release = pipe_release,
	.stream = true,
};

static int pipe_getattr(struct inode *ino, struct kstat *st)
{
	struct pipe *p = ino->priv;
	st->mode = S_IFIFO | 0600;
	st->uid = p->uid;
	st->gid = p->gid;
	st->blksize = 4096;
	st->atime = st->mtime = st->ctime = p->ctime;
	return 0;
}

static void pipe_inode_release(struct inode *ino)
{
	struct pipe *p = ino->priv;
	free(p->chunks);
	free(p->buf);
	free(p);
}

static const struct inode_ops pipe_inode_ops = {
	.getattr = pipe_getattr,
	.release = pipe_inode_release,
};

long pipe_fcntl_size(struct file *f, bool set, uint64_t size)
{
	if (f->ops != &pipe_ops)
		return -EBADF;
	struct pipe *p = f->inode->priv;
	if (!set)
		return (long)p->cap;
	if (size > (1u << 20))
		return -EPERM; /* /proc/sys/fs/pipe-max-size for an unprivileged user */
	size_t cap = 4096;
	while (cap < size)
		cap *= 2;
	if (cap < p->len)
		return -EBUSY;
	uint8_t *nb = malloc(cap);
	if (!nb)
		return -ENOMEM;
	for (size_t i = 0; i < p->len; i++)
		nb[i] = p->buf[(p->head + i) % p->cap];
	free(p->buf);
	p->buf = nb;
	p->cap = cap;
	p->head = 0;
	waitqueue_wake_all(&p->wwait);
	return (long)cap;
}

int pipe_create(struct kernel *k, int flags, struct file **rd, struct file **wr)
{
	static struct superblock pipefs = {.fstype = "pipefs", .dev = 0xd, .magic = 0x50495045};
	struct pipe *p = calloc(1, sizeof(*p));
	if (!p || !(p->buf = malloc(PIPE_DEFAULT_SIZE))) {
		free(p);
		return -ENFILE;
	}
	p->cap = PIPE_DEFAULT_SIZE;
	p->readers = p->writers = 1;
	waitqueue_init(&p->rwait);
	waitqueue_init(&p->wwait);
	struct task *cur = k->current;
	p->uid = cur ? cur->tg->cred.euid : 0;
	p->gid = cur ? cur->tg->cred.egid : 0;
	clock_gettime(CLOCK_REALTIME, &p->ctime);
	struct inode *ino = inode_new(&pipefs, &pipe_inode_ops, S_IFIFO | 0600, p);
	if (!ino) {
		free(p->buf);
		free(p);
		return -ENFILE;
	}
	*rd = file_new(NULL, ino, O_RDONLY | (flags & (O_NONBLOCK | O_DIRECT)));
	*wr = file_new(NULL, ino, O_WRONLY | (flags & (O_NONBLOCK | O_DIRECT)));
	inode_put(ino);
	if (!*rd || !*wr) {
		file_put(*rd);
		file_put(*wr);
		return -ENFILE;
	}
	(*rd)->ops = &pipe_ops;
	(*wr)->ops = &pipe_ops;
	return 0;
}

/* ---- helpers for splice, tee, vmsplice and sendfile ---- */

bool file_is_pipe(struct file *f)
{
	return f && f->ops == &pipe_ops;
}

size_t pipe_avail(struct file *f)
{
	return ((struct pipe *)f->inode->priv)->len;
}

size_t pipe_room(struct file *f)
{
	struct pipe *p = f->inode->priv;
	return p->cap - p->len;
}

bool pipe_has_writers(struct file *f)
{
	return ((struct pipe *)f->inode->priv)->writers > 0;
}

bool pipe_has_readers(struct file *f)
{
	return ((struct pipe *)f->inode->priv)->readers > 0;
}

bool pipe_same(struct file *a, struct file *b)
{
	return a->inode == b->inode;
}

size_t pipe_peek(struct file *f, void *buf, size_t len)
{
	struct pipe *p = f->inode->priv;
	size_t n = len < p->len ? len : p->len;
	size_t first = p->cap - p->head;
	if (first > n)
		first = n;
	memcpy(buf, p->buf + p->head, first);
	memcpy((uint8_t *)buf + first, p->buf, n - first);
	return n;
}

void pipe_consume(struct file *f, size_t n)
{
	char scratch[4096];
	while (n) {
		long r = pipe_read(f, NULL, scratch, n < sizeof(scratch) ? n : sizeof(scratch), NULL);
		if (r <= 0)
			break;
		n -= (size_t)r;
	}
}

long pipe_wait(struct file *f, struct task *t, bool for_write)
{
	struct pipe *p = f->inode->priv;
	return task_block(t, for_write ? &p->wwait : &p->rwait, 0);
}
