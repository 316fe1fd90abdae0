/* eventfd: a 64-bit counter as a file. write adds to it (blocking before it would reach
 * 2^64-1), read takes all of it (or 1 in semaphore mode), blocking while it is 0. */
#include "sentry/fs/fs.h"
#include "sentry/syscalls/syscalls.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>

#define EVENTFD_MAX UINT64_MAX

struct eventfd {
	uint64_t count;
	bool semaphore;
	struct waitqueue wq; /* readers, writers and pollers, as Linux's single queue */
};

static long efd_read(struct file *f, struct task *t, void *buf, size_t len, uint64_t *pos)
{
	(void)pos;
	struct eventfd *e = f->priv;
	if (len < sizeof(uint64_t))
		return -EINVAL;
	if (e->count == 0) {
		if (!t || (f->flags & O_NONBLOCK))
			return -EAGAIN;
		return task_block(t, &e->wq, 0);
	}
	uint64_t v = e->semaphore ? 1 : e->count;
	e->count -= v;
	memcpy(buf, &v, sizeof(v));
	waitqueue_wake_all(&e->wq);
	return sizeof(v);
}

static long efd_write(struct file *f, struct task *t, const void *buf, size_t len, uint64_t *pos)
{
	(void)pos;
	struct eventfd *e = f->priv;
	uint64_t v;
	if (len < sizeof(v))
		return -EINVAL;
	memcpy(&v, buf, sizeof(v));
	if (v == EVENTFD_MAX)
		return -EINVAL;
	if (EVENTFD_MAX - e->count <= v) {
		if (!t || (f->flags & O_NONBLOCK))
			return -EAGAIN;
		return task_block(t, &e->wq, 0);
	}
	e->count += v;
	if (v)
		waitqueue_wake_all(&e->wq);
	return sizeof(v);
}

static unsigned efd_poll(struct file *f, struct poll_table *pt)
{
	struct eventfd *e = f->priv;
	unsigned m = 0;
	poll_wait(pt, &e->wq);
	if (e->count > 0)
		m |= POLLIN | POLLRDNORM;
	if (e->count == EVENTFD_MAX)
		m |= POLLERR;
	if (EVENTFD_MAX - 1 > e->count)
		m |= POLLOUT | POLLWRNORM;
	return m;
}

static void efd_release(struct file *f)
{
	struct eventfd *e = f->priv;
	/* A thread still blocked on it (another closed the fd) retries and gets EBADF; epoll
	 * items hold references, so only tasks can be queued here. */
	waitqueue_wake_all(&e->wq);
	free(e);
}

/* As Linux's eventfd_show_fdinfo (no eventfd-id: the sandbox numbers none). */
static int efd_fdinfo(struct file *f, char *buf, size_t size)
{
	struct eventfd *e = f->priv;
	return snprintf(buf, size, "eventfd-count: %16llx\neventfd-semaphore: %d\n",
			(unsigned long long)e->count, e->semaphore ? 1 : 0);
}

static const struct file_ops efd_ops = {
	.fdinfo = efd_fdinfo,
	.read = efd_read,
	.write = efd_write,
	.poll = efd_poll,
	.release = efd_release,
	.stream = true,
	.llseek = anon_noop_llseek,
};

static long do_eventfd(struct task *t, unsigned initval, int flags)
{
	if (flags & ~(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE))
		return -EINVAL;
	struct eventfd *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->count = initval;
	e->semaphore = flags & EFD_SEMAPHORE;
	waitqueue_init(&e->wq);
	struct file *f = anon_file_new("[eventfd]", &efd_ops, O_RDWR | (flags & O_NONBLOCK), e);
	if (!f) {
		free(e);
		return -ENOMEM;
	}
	int fd = fdt_install(t->fdt, f, 0, flags & EFD_CLOEXEC, fd_limit(t));
	file_put(f);
	return fd;
}

SYSCALL(eventfd2)
{
	return do_eventfd(t, (unsigned)a[0], (int)a[1]);
}

SYSCALL(eventfd)
{
	return do_eventfd(t, (unsigned)a[0], 0);
}
