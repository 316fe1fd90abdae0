/* inotify: instances are anonymous files with a queue of events; watches attach them to
 * inodes (a hash table from inode to watches, shared by every instance). Events come from
 * the fsnotify hooks in the VFS and the syscalls, for changes made inside the sandbox. As
 * Linux: an event identical to the last one queued is merged with it, a full queue ends
 * with one IN_Q_OVERFLOW, IN_IGNORED follows the end of a watch (inotify_rm_watch,
 * IN_ONESHOT, the inode deleted). */
#include "sentry/fs/fs.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/fsnotify.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#define MAX_QUEUED_EVENTS 16384 /* /proc/sys/fs/inotify/max_queued_events */
#define MAX_USER_WATCHES 8192   /* /proc/sys/fs/inotify/max_user_watches */
#define MAX_USER_INSTANCES 128 /* /proc/sys/fs/inotify/max_user_instances: bounds queued memory */
#define WATCH_BUCKETS 256

struct inotify_event_item {
	struct list_head link;
	int32_t wd;
	uint32_t mask, cookie;
	uint32_t len; /* name bytes incl. padding, as struct inotify_event.len */
	char name[];
};

struct inotify_instance {
	struct list_head events;
	unsigned nevents;
	size_t queued_bytes;
	struct waitqueue wq;
	struct list_head watches; /* inotify_watch.inst_link */
	int32_t last_wd;
};

struct inotify_watch {
	struct list_head inode_link; /* in its bucket */
	struct list_head inst_link;
	struct inotify_instance *inst;
	struct inode *ino; /* holds a reference */
	int32_t wd;
	uint32_t mask;
};

struct inotify_state {
	struct list_head buckets[WATCH_BUCKETS];
	bool ready;
	uint32_t cookie;
	int ninstances;
};

static struct inotify_state state;
unsigned fsnotify_nwatches;

static struct list_head *bucket(struct inode *ino)
{
	if (!state.ready) {
		for (int i = 0; i < WATCH_BUCKETS; i++)
			list_init(&state.buckets[i]);
		state.ready = true;
	}
	return &state.buckets[((uintptr_t)ino >> 4) % WATCH_BUCKETS];
}

uint32_t fsnotify_cookie(void)
{
	return ++state.cookie ? state.cookie : ++state.cookie;
}

static size_t event_size(const struct inotify_event_item *e)
{
	return sizeof(struct inotify_event) + e->len;
}

static void queue_event(struct inotify_instance *in, int32_t wd, uint32_t mask, uint32_t cookie,
			const char *name)
{
	size_t nlen = name ? strlen(name) : 0;
	/* len: the name, its NUL and padding to the next event boundary */
	uint32_t len = nlen ? (uint32_t)((nlen + 1 + sizeof(struct inotify_event) - 1) &
					 ~(sizeof(struct inotify_event) - 1))
			    : 0;
	if (!list_empty(&in->events)) {
		struct inotify_event_item *last =
			list_entry(in->events.prev, struct inotify_event_item, link);
		if (last->wd == wd && last->mask == mask && last->cookie == cookie &&
		    ((!nlen && !last->len) || (nlen && last->len && strcmp(last->name, name) == 0)))
			return; /* the same as the last one: merged */
		if (last->mask == IN_Q_OVERFLOW)
			return;
	}
	bool overflow = in->nevents >= MAX_QUEUED_EVENTS;
	if (overflow) {
		wd = -1;
		mask = IN_Q_OVERFLOW;
		cookie = 0;
		len = 0;
	}
	struct inotify_event_item *e = calloc(1, sizeof(*e) + len);
	if (!e)
		return;
	e->wd = wd;
	e->mask = mask;
	e->cookie = cookie;
	e->len = len;
	if (len)
		memcpy(e->name, name, nlen);
	list_add_tail(&e->link, &in->events);
	in->nevents++;
	in->queued_bytes += event_size(e);
	waitqueue_wake_all(&in->wq);
}

static void watch_free(struct inotify_watch *w, bool send_ignored)
{
	if (send_ignored)
		queue_event(w->inst, w->wd, IN_IGNORED, 0, NULL);
	list_del_init(&w->inode_link);
	list_del_init(&w->inst_link);
	inode_put(w->ino);
	fsnotify_nwatches--;
	free(w);
}

/* Queues the event for every watch on ino that wants it. */
static void deliver(struct inode *ino, uint32_t mask, uint32_t cookie, const char *name)
{
	struct list_head *pos, *n, *b = bucket(ino);
	list_for_each_safe(pos, n, b)
	{
		struct inotify_watch *w = list_entry(pos, struct inotify_watch, inode_link);
		if (w->ino != ino || !(w->mask & mask & IN_ALL_EVENTS))
			continue;
		queue_event(w->inst, w->wd, mask, cookie, name);
		if (w->mask & IN_ONESHOT)
			watch_free(w, true);
	}
}

static uint32_t isdir(struct inode *ino)
{
	return ino && S_ISDIR(ino->mode) ? IN_ISDIR : 0;
}

void fsnotify_inode(struct inode *ino, uint32_t mask)
{
	if (!fsnotify_nwatches || !ino)
		return;
	deliver(ino, mask | isdir(ino), 0, NULL);
	if (mask & IN_DELETE_SELF) {
		/* The inode is gone: so are its watches. */
		struct list_head *pos, *n, *b = bucket(ino);
		list_for_each_safe(pos, n, b)
		{
			struct inotify_watch *w = list_entry(pos, struct inotify_watch, inode_link);
			if (w->ino == ino)
				watch_free(w, true);
		}
	}
}

void fsnotify_name(struct inode *dir, const char *name, struct inode *child, uint32_t mask,
		   uint32_t cookie)
{
	if (!fsnotify_nwatches || !dir)
		return;
	deliver(dir, mask | isdir(child), cookie, name);
}

void fsnotify_dentry(struct dentry *d, uint32_t mask)
{
	if (!fsnotify_nwatches || !d || !d->inode)
		return;
	/* As Linux, the directory an unlinked file was in still hears about it. */
	if (d->parent && d->parent != d && d->parent->inode)
		deliver(d->parent->inode, mask | isdir(d->inode), 0, d->name);
	deliver(d->inode, mask | isdir(d->inode), 0, NULL);
}

void fsnotify_file(struct file *f, uint32_t mask)
{
	if (!fsnotify_nwatches)
		return;
	if (f->dentry)
		fsnotify_dentry(f->dentry, mask);
	else if (f->inode)
		deliver(f->inode, mask | isdir(f->inode), 0, NULL);
}


/* ---- the instance file ---- */

static long inotify_read(struct file *f, struct task *t, void *buf, size_t len, uint64_t *pos)
{
	(void)pos;
	struct inotify_instance *in = f->priv;
	if (list_empty(&in->events)) {
		if (!t || (f->flags & O_NONBLOCK))
			return -EAGAIN;
		return task_block(t, &in->wq, 0);
	}
	size_t done = 0;
	while (!list_empty(&in->events)) {
		struct inotify_event_item *e = list_entry(in->events.next, struct inotify_event_item, link);
		size_t sz = event_size(e);
		if (done + sz > len)
			break;
		struct inotify_event h = {.wd = e->wd, .mask = e->mask, .cookie = e->cookie, .len = e->len};
		memcpy((char *)buf + done, &h, sizeof(h));
		memcpy((char *)buf + done + sizeof(h), e->name, e->len);
		done += sz;
		list_del_init(&e->link);
		in->nevents--;
		in->queued_bytes -= sz;
		free(e);
	}
	return done ? (long)done : -EINVAL; /* the buffer cannot hold the next event */
}

static unsigned inotify_poll(struct file *f, struct poll_table *pt)
{
	struct inotify_instance *in = f->priv;
	poll_wait(pt, &in->wq);
	return list_empty(&in->events) ? 0 : POLLIN | POLLRDNORM;
}

static long inotify_ioctl(struct file *f, struct task *t, unsigned long cmd, uint64_t arg)
{
	struct inotify_instance *in = f->priv;
	if (cmd != FIONREAD)
		return -EINVAL;
	int n = (int)in->queued_bytes;
	return copy_to_user(t->tg->mm, arg, &n, sizeof(n));
}

static void inotify_release(struct file *f)
{
	struct inotify_instance *in = f->priv;
	while (!list_empty(&in->watches))
		watch_free(list_entry(in->watches.next, struct inotify_watch, inst_link), false);
	while (!list_empty(&in->events)) {
		struct inotify_event_item *e = list_entry(in->events.next, struct inotify_event_item, link);
		list_del_init(&e->link);
		free(e);
	}
	waitqueue_wake_all(&in->wq);
	free(in);
	state.ninstances--;
}

static const struct file_ops inotify_ops = {
	.read = inotify_read,
	.poll = inotify_poll,
	.ioctl = inotify_ioctl,
	.release = inotify_release,
	.stream = true,
	.llseek = anon_noop_llseek,
};

static long do_init(struct task *t, int flags)
{
	if (flags & ~(IN_CLOEXEC | IN_NONBLOCK))
		return -EINVAL;
	if (state.ninstances >= MAX_USER_INSTANCES)
		return -EMFILE;
	struct inotify_instance *in = calloc(1, sizeof(*in));
	if (!in)
		return -ENOMEM;
	list_init(&in->events);
	list_init(&in->watches);
	waitqueue_init(&in->wq);
	struct file *f = anon_file_new("inotify", &inotify_ops, O_RDONLY | (flags & O_NONBLOCK), in);
	if (!f) {
		free(in);
		return -ENOMEM;
	}
	bucket(NULL); /* makes the table */
	state.ninstances++;
	t->k->inotify = &state;
	int fd = fdt_install(t->fdt, f, 0, flags & IN_CLOEXEC, fd_limit(t));
	file_put(f);
	return fd;
}

SYSCALL(inotify_init1)
{
	return do_init(t, (int)a[0]);
}

SYSCALL(inotify_init)
{
	(void)a;
	return do_init(t, 0);
}

static struct inotify_instance *instance(struct task *t, int fd, long *err)
{
	struct file *f = fget(t, fd);
	*err = !f ? -EBADF : f->ops != &inotify_ops ? -EINVAL : 0;
	return *err ? NULL : f->priv;
}

SYSCALL(inotify_add_watch)
{
	uint32_t mask = (uint32_t)a[2];
	long err;
	if ((mask & IN_MASK_ADD) && (mask & IN_MASK_CREATE))
		return -EINVAL;
	if (!(mask & IN_ALL_EVENTS))
		return -EINVAL;
	struct inotify_instance *in = instance(t, (int)a[0], &err);
	if (!in)
		return err;
	char path[PATH_MAX];
	if ((err = copy_path(t, a[1], path, false)) < 0)
		return err;
	struct dentry *d;
	int wf = ((mask & IN_DONT_FOLLOW) ? 0 : WALK_FOLLOW) | ((mask & IN_ONLYDIR) ? WALK_DIRECTORY : 0);
	if ((err = vfs_walk(t->fs, NULL, path, wf, &d)) < 0)
		return err;
	struct inode *ino = d->inode;
	struct kstat st;
	if ((err = inode_getattr(ino, &st)) == 0 && t->tg->cred.fsuid != 0) {
		uint32_t uid = t->tg->cred.fsuid;
		uint32_t bits = st.uid == uid ? st.mode >> 6 : st.gid == t->tg->cred.fsgid ? st.mode >> 3 : st.mode;
		if (!(bits & 4))
			err = -EACCES;
	}
	uint32_t keep = IN_ALL_EVENTS | IN_ONESHOT | IN_EXCL_UNLINK;
	struct list_head *pos;
	list_for_each(pos, &in->watches)
	{
		struct inotify_watch *w = list_entry(pos, struct inotify_watch, inst_link);
		if (err || w->ino != ino)
			continue;
		dentry_put(d);
		if (mask & IN_MASK_CREATE)
			return -EEXIST;
		w->mask = (mask & IN_MASK_ADD) ? w->mask | (mask & keep) : mask & keep;
		return w->wd;
	}
	if (err == 0 && fsnotify_nwatches >= MAX_USER_WATCHES)
		err = -ENOSPC;
	struct inotify_watch *w = err ? NULL : calloc(1, sizeof(*w));
	if (!err && !w)
		err = -ENOMEM;
	if (err) {
		dentry_put(d);
		return err;
	}
	inode_get(ino);
	dentry_put(d);
	w->inst = in;
	w->ino = ino;
	w->mask = mask & keep;
	w->wd = ++in->last_wd;
	list_add_tail(&w->inode_link, bucket(ino));
	list_add_tail(&w->inst_link, &in->watches);
	fsnotify_nwatches++;
	return w->wd;
}

SYSCALL(inotify_rm_watch)
{
	long err;
	struct inotify_instance *in = instance(t, (int)a[0], &err);
	if (!in)
		return err;
	struct list_head *pos;
	list_for_each(pos, &in->watches)
	{
		struct inotify_watch *w = list_entry(pos, struct inotify_watch, inst_link);
		if (w->wd == (int32_t)a[1]) {
			watch_free(w, true);
			return 0;
		}
	}
	return -EINVAL;
}
