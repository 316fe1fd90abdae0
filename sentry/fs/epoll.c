/* epoll: interest lists of (fd, file) pairs, readiness by the files' own poll ops.
 *
 * Each interest item keeps callback waiters (struct waiter with .wake) on the wait queues
 * its file's poll op names; a wake-up puts the item on the instance's ready list and wakes
 * the tasks in epoll_wait (and whoever polls the epoll file itself, so instances nest).
 * epoll_wait polls the ready items again: level-triggered ones stay on the list while
 * ready, edge-triggered ones are reported again only after another wake-up, one-shot ones
 * are disabled until EPOLL_CTL_MOD.
 *
 * Items hold a reference to their file. Linux drops an item when its file is released
 * (every descriptor closed); here an item goes when the items of a file hold its only
 * references: at once if file_put calls eventpoll_file_unref, else the next time an
 * epoll_wait or epoll_ctl on the instance looks. */
#include "sentry/fs/fs.h"
#include "sentry/syscalls/syscalls.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#define EP_MAX_NESTS 4
#define EP_MAX_EVENTS (INT_MAX / (int)sizeof(struct epoll_event))
#define EP_PRIVATE_BITS (EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE)
#define EPOLLEXCLUSIVE_OK_BITS \
	(EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE)

struct eventpoll {
	struct list_head items;  /* struct epitem.link */
	struct list_head ready;  /* struct epitem.rdlink */
	struct waitqueue wq;     /* tasks in epoll_wait */
	struct waitqueue poll_wq; /* pollers of the epoll file itself (poll, nested epoll) */
};

struct epitem;

/* One of an item's callback waiters: on a queue the file's poll op named. */
struct epwaiter {
	struct waiter w;
	struct epitem *item;
	struct waitqueue *wq;
	struct epwaiter *next;
};

struct epitem {
	struct list_head link;   /* in eventpoll.items */
	struct list_head rdlink; /* in eventpoll.ready, or empty */
	struct list_head flink;  /* in the registry's bucket for file */
	struct eventpoll *ep;
	struct file *file; /* counted reference */
	int fd;
	uint32_t events; /* requested, with EPOLLERR | EPOLLHUP; only private bits once a
			  * one-shot item has fired */
	uint64_t data;
	struct epwaiter *waiters;
};

static const struct file_ops epoll_ops;

static bool is_epoll(struct file *f)
{
	return f->ops == &epoll_ops;
}

/* ---- the registry: every item by file, for eventpoll_file_unref ---------------------- */

#define EP_BUCKETS 256
static struct list_head ep_registry[EP_BUCKETS];
static bool ep_registry_ready;
static int ep_nitems;

static struct list_head *ep_bucket(struct file *f)
{
	if (!ep_registry_ready) {
		for (int i = 0; i < EP_BUCKETS; i++)
			list_init(&ep_registry[i]);
		ep_registry_ready = true;
	}
	uintptr_t h = (uintptr_t)f;
	h ^= h >> 17;
	h *= 0x9e3779b97f4a7c15ull;
	return &ep_registry[(h >> 32) % EP_BUCKETS];
}

/* How many items (of all instances) reference f. */
static int ep_file_items(struct file *f)
{
	int n = 0;
	struct list_head *b = ep_bucket(f), *pos;
	list_for_each(pos, b)
	{
		if (list_entry(pos, struct epitem, flink)->file == f)
			n++;
	}
	return n;
}

/* ---- items ------------------------------------------------------------------------ */

static void ep_wake(struct eventpoll *ep)
{
	waitqueue_wake_all(&ep->wq);
	waitqueue_wake_all(&ep->poll_wq);
}

static bool item_enabled(const struct epitem *it)
{
	return (it->events & ~(uint32_t)EP_PRIVATE_BITS) != 0;
}

static void item_set_ready(struct epitem *it)
{
	if (list_empty(&it->rdlink))
		list_add_tail(&it->rdlink, &it->ep->ready);
}

/* A wake-up on one of the file's queues (the callback stays queued). */
static void item_wake(struct waiter *w)
{
	struct epitem *it = ((struct epwaiter *)w)->item;
	if (!item_enabled(it))
		return; /* a one-shot item that fired waits for EPOLL_CTL_MOD */
	item_set_ready(it);
	ep_wake(it->ep);
}

struct item_poll_table {
	struct poll_table pt;
	struct epitem *item;
	int err;
};

/* Links one callback waiter of the item on wq, unless it has one there already. */
static void item_queue(struct poll_table *pt, struct waitqueue *wq)
{
	struct item_poll_table *ipt = (struct item_poll_table *)pt;
	struct epitem *it = ipt->item;
	for (struct epwaiter *e = it->waiters; e; e = e->next)
		if (e->wq == wq)
			return;
	struct epwaiter *e = calloc(1, sizeof(*e));
	if (!e) {
		ipt->err = -ENOMEM;
		return;
	}
	e->w.task = NULL;
	e->w.wake = item_wake;
	e->item = it;
	e->wq = wq;
	e->next = it->waiters;
	it->waiters = e;
	list_add_tail(&e->w.link, &wq->waiters);
}

/* The item's current readiness in its requested events. With reg, also (re)links its
 * callbacks on the queues the file names now (poll ops may arm things, as host stdio). */
static unsigned item_poll(struct epitem *it, bool reg, int *err)
{
	struct item_poll_table ipt = {{item_queue}, it, 0};
	unsigned m = file_poll(it->file, reg ? &ipt.pt : NULL);
	if (err)
		*err = ipt.err;
	return m & it->events;
}

static void item_unlink_waiters(struct epitem *it)
{
	while (it->waiters) {
		struct epwaiter *e = it->waiters;
		it->waiters = e->next;
		list_del_init(&e->w.link);
		free(e);
	}
}

/* Takes the item out of its instance and drops its file reference (which may release
 * the file, and with it other items: callers must not hold pointers to other items). */
static void item_remove(struct epitem *it)
{
	item_unlink_waiters(it);
	list_del_init(&it->link);
	if (!list_empty(&it->rdlink))
		list_del_init(&it->rdlink);
	list_del_init(&it->flink);
	ep_nitems--;
	struct file *f = it->file;
	free(it);
	file_put(f);
}

/* Drops every item of f when items are all that keep f open. Returns true if it did. */
static bool ep_drop_if_closed(struct file *f)
{
	if (!ep_nitems)
		return false;
	int n = ep_file_items(f);
	if (n == 0 || f->refs != n)
		return false;
	/* Each removal may recurse into here (file_put -> eventpoll_file_unref) and remove
	 * more: look the file's items up afresh every time. Hold f until done. */
	file_get(f);
	for (;;) {
		struct list_head *b = ep_bucket(f), *pos;
		struct epitem *victim = NULL;
		list_for_each(pos, b)
		{
			struct epitem *it = list_entry(pos, struct epitem, flink);
			if (it->file == f) {
				victim = it;
				break;
			}
		}
		if (!victim)
			break;
		item_remove(victim);
	}
	file_put(f);
	return true;
}

void eventpoll_file_unref(struct file *f)
{
	ep_drop_if_closed(f);
}

/* The lazy form when file_put has no hook: items of this instance whose files the guest
 * has closed. */
static void ep_reap_closed(struct eventpoll *ep)
{
again:;
	struct list_head *pos;
	list_for_each(pos, &ep->items)
	{
		struct epitem *it = list_entry(pos, struct epitem, link);
		if (ep_drop_if_closed(it->file))
			goto again; /* the list may have changed arbitrarily */
	}
}

static struct epitem *ep_find(struct eventpoll *ep, struct file *f, int fd)
{
	struct list_head *pos;
	list_for_each(pos, &ep->items)
	{
		struct epitem *it = list_entry(pos, struct epitem, link);
		if (it->file == f && it->fd == fd)
			return it;
	}
	return NULL;
}

/* ---- the epoll file ----------------------------------------------------------------- */

static unsigned epoll_poll(struct file *f, struct poll_table *pt)
{
	struct eventpoll *ep = f->priv;
	poll_wait(pt, &ep->poll_wq);
	/* Readable when a ready item really has events; the others leave the list. */
	struct list_head *pos, *n;
	list_for_each_safe(pos, n, &ep->ready)
	{
		struct epitem *it = list_entry(pos, struct epitem, rdlink);
		if (item_poll(it, false, NULL))
			return POLLIN | POLLRDNORM;
		list_del_init(&it->rdlink);
	}
	return 0;
}

static void epoll_release(struct file *f)
{
	struct eventpoll *ep = f->priv;
	while (!list_empty(&ep->items))
		item_remove(list_entry(ep->items.next, struct epitem, link));
	/* Tasks still waiting (another thread closed the fd) retry and get EBADF. Callback
	 * waiters cannot be here: an item watching this file holds a reference to it. */
	waitqueue_wake_all(&ep->wq);
	waitqueue_wake_all(&ep->poll_wq);
	free(ep);
}

/* As Linux's ep_show_fdinfo: one line per interest item. Returns the length the whole
 * text needs, as snprintf. */
static int epoll_fdinfo(struct file *f, char *buf, size_t size)
{
	struct eventpoll *ep = f->priv;
	size_t len = 0;
	struct list_head *pos;
	list_for_each(pos, &ep->items) {
		struct epitem *it = list_entry(pos, struct epitem, link);
		struct inode *ino = it->file->inode;
		int n = snprintf(buf + (len < size ? len : size), len < size ? size - len : 0,
				 "tfd: %8d events: %8x data: %16llx  pos:%lli ino:%llx sdev:%llx\n", it->fd,
				 it->events, (unsigned long long)it->data, (long long)it->file->pos,
				 (unsigned long long)(ino ? ino->ino : 0),
				 (unsigned long long)(ino && ino->sb ? ino->sb->dev : 0));
		if (n > 0)
			len += (size_t)n;
	}
	return (int)len;
}

static const struct file_ops epoll_ops = {
	.fdinfo = epoll_fdinfo,
	.poll = epoll_poll,
	.release = epoll_release,
	.stream = true,
	.llseek = anon_noop_llseek,
};

static long do_epoll_create(struct task *t, int flags)
{
	if (flags & ~EPOLL_CLOEXEC)
		return -EINVAL;
	struct eventpoll *ep = calloc(1, sizeof(*ep));
	if (!ep)
		return -ENOMEM;
	list_init(&ep->items);
	list_init(&ep->ready);
	waitqueue_init(&ep->wq);
	waitqueue_init(&ep->poll_wq);
	struct file *f = anon_file_new("[eventpoll]", &epoll_ops, O_RDWR, ep);
	if (!f) {
		free(ep);
		return -ENOMEM;
	}
	int fd = fdt_install(t->fdt, f, 0, flags & EPOLL_CLOEXEC, fd_limit(t));
	file_put(f);
	return fd;
}

SYSCALL(epoll_create1)
{
	return do_epoll_create(t, (int)a[0]);
}

SYSCALL(epoll_create)
{
	if ((int)a[0] <= 0)
		return -EINVAL;
	return do_epoll_create(t, 0);
}

/* ---- epoll_ctl ---------------------------------------------------------------------- */

/* Whether watching target from ep would close a loop or nest too deep: a walk down the
 * epoll files target watches. */
static bool ep_loop(struct eventpoll *ep, struct file *target, int depth)
{
	if (depth > EP_MAX_NESTS)
		return true;
	struct eventpoll *tep = target->priv;
	if (tep == ep)
		return true;
	struct list_head *pos;
	list_for_each(pos, &tep->items)
	{
		struct epitem *it = list_entry(pos, struct epitem, link);
		if (is_epoll(it->file) && ep_loop(ep, it->file, depth + 1))
			return true;
	}
	return false;
}

static long ep_insert(struct eventpoll *ep, const struct epoll_event *ev, struct file *tf, int fd)
{
	struct epitem *it = calloc(1, sizeof(*it));
	if (!it)
		return -ENOMEM;
	it->ep = ep;
	it->file = tf;
	file_get(tf);
	it->fd = fd;
	it->events = ev->events;
	it->data = ev->data.u64;
	list_init(&it->rdlink);
	list_add_tail(&it->link, &ep->items);
	list_add_tail(&it->flink, ep_bucket(tf));
	ep_nitems++;
	int err;
	unsigned revents = item_poll(it, true, &err);
	if (err < 0) {
		item_remove(it);
		return err;
	}
	if (revents) {
		item_set_ready(it);
		ep_wake(ep);
	}
	return 0;
}

static long ep_modify(struct epitem *it, const struct epoll_event *ev)
{
	it->events = ev->events;
	it->data = ev->data.u64;
	int err;
	unsigned revents = item_poll(it, true, &err);
	if (err < 0)
		return err;
	if (revents) {
		item_set_ready(it);
		ep_wake(it->ep);
	}
	return 0;
}

SYSCALL(epoll_ctl)
{
	int epfd = (int)a[0], op = (int)a[1], fd = (int)a[2];
	struct epoll_event ev = {0};
	if (op != EPOLL_CTL_DEL && copy_from_user(t->tg->mm, &ev, a[3], sizeof(ev)) < 0)
		return -EFAULT;
	struct file *f = fget(t, epfd);
	if (!f || (f->flags & O_PATH))
		return -EBADF;
	struct file *tf = fget(t, fd);
	if (!tf || (tf->flags & O_PATH))
		return -EBADF;
	if (!tf->ops || !tf->ops->poll)
		return -EPERM; /* regular files and directories cannot be watched */
	if (f == tf || !is_epoll(f))
		return -EINVAL;
	if (op != EPOLL_CTL_DEL && (ev.events & EPOLLEXCLUSIVE)) {
		if (op == EPOLL_CTL_MOD)
			return -EINVAL;
		if (op == EPOLL_CTL_ADD && (is_epoll(tf) || (ev.events & ~EPOLLEXCLUSIVE_OK_BITS)))
			return -EINVAL;
	}
	struct eventpoll *ep = f->priv;
	ep_reap_closed(ep);
	if (op == EPOLL_CTL_ADD && is_epoll(tf) && ep_loop(ep, tf, 1))
		return -ELOOP;
	struct epitem *it = ep_find(ep, tf, fd);
	switch (op) {
	case EPOLL_CTL_ADD:
		if (it)
			return -EEXIST;
		ev.events |= EPOLLERR | EPOLLHUP;
		return ep_insert(ep, &ev, tf, fd);
	case EPOLL_CTL_DEL:
		if (!it)
			return -ENOENT;
		item_remove(it);
		return 0;
	case EPOLL_CTL_MOD:
		if (!it)
			return -ENOENT;
		if (it->events & EPOLLEXCLUSIVE)
			return -EINVAL;
		ev.events |= EPOLLERR | EPOLLHUP;
		return ep_modify(it, &ev);
	default:
		return -EINVAL;
	}
}

/* ---- epoll_wait --------------------------------------------------------------------- */

/* Moves up to max ready events into out, as Linux's ep_send_events. */
static int ep_collect(struct eventpoll *ep, struct epoll_event *out, int max)
{
	struct list_head tx;
	list_init(&tx);
	/* Splice the ready list onto tx. */
	if (!list_empty(&ep->ready)) {
		tx.next = ep->ready.next;
		tx.prev = ep->ready.prev;
		tx.next->prev = &tx;
		tx.prev->next = &tx;
		list_init(&ep->ready);
	}
	int n = 0;
	while (n < max && !list_empty(&tx)) {
		struct epitem *it = list_entry(tx.next, struct epitem, rdlink);
		list_del_init(&it->rdlink);
		unsigned revents = item_poll(it, false, NULL);
		if (!revents)
			continue; /* not ready after all: off the list until woken again */
		out[n].events = revents;
		out[n].data.u64 = it->data;
		n++;
		if (it->events & EPOLLONESHOT)
			it->events &= EP_PRIVATE_BITS; /* disabled until EPOLL_CTL_MOD */
		else if (!(it->events & EPOLLET))
			item_set_ready(it); /* level-triggered: look again */
	}
	/* What was not looked at goes back to the front of the ready list. */
	while (!list_empty(&tx)) {
		struct list_head *last = tx.prev;
		list_del_init(last);
		last->next = ep->ready.next;
		last->prev = &ep->ready;
		ep->ready.next->prev = last;
		ep->ready.next = last;
	}
	return n;
}

/* Before blocking: re-links every enabled item's callbacks (a file's poll op may need to
 * arm something again, as host stdio does). True when a level-triggered item turned out
 * ready meanwhile (look again instead of blocking). */
static bool ep_rearm(struct eventpoll *ep)
{
	bool ready = false;
	struct list_head *pos;
	list_for_each(pos, &ep->items)
	{
		struct epitem *it = list_entry(pos, struct epitem, link);
		if (!item_enabled(it))
			continue;
		unsigned revents = item_poll(it, true, NULL);
		if (revents && !(it->events & EPOLLET) && list_empty(&it->rdlink)) {
			item_set_ready(it);
			ready = true;
		}
	}
	return ready;
}

/* deadline: 0 = no timeout, UINT64_MAX = do not wait. */
static long do_epoll_wait(struct task *t, int epfd, uint64_t uevents, int maxevents,
			  int64_t timeout_ns)
{
	if (maxevents <= 0 || maxevents > EP_MAX_EVENTS)
		return -EINVAL;
	struct file *f = fget(t, epfd);
	if (!f || (f->flags & O_PATH))
		return -EBADF;
	if (!is_epoll(f))
		return -EINVAL;
	struct eventpoll *ep = f->priv;
	if (!t->restarting)
		t->deadline = timeout_ns < 0 ? 0 : timeout_ns == 0 ? UINT64_MAX
								 : now_ns() + (uint64_t)timeout_ns;
	uint64_t deadline = t->deadline;
	ep_reap_closed(ep);
	for (int pass = 0;; pass++) {
		int cap = maxevents;
		if (cap > ep_nitems)
			cap = ep_nitems ? ep_nitems : 1;
		struct epoll_event *evs = malloc(sizeof(*evs) * (size_t)cap);
		if (!evs)
			return -ENOMEM;
		int n = ep_collect(ep, evs, cap);
		if (n > 0) {
			long r = n;
			if (copy_to_user(t->tg->mm, uevents, evs, sizeof(*evs) * (size_t)n) < 0)
				r = -EFAULT;
			free(evs);
			return r;
		}
		free(evs);
		if (deadline == UINT64_MAX || t->timed_out || (deadline && deadline <= now_ns()))
			return 0;
		if (signal_pending_unblocked(t))
			return -EINTR;
		if (pass == 0 && ep_rearm(ep))
			continue;
		break;
	}
	long r = task_block(t, &ep->wq, deadline);
	t->timeout_result = TIMEOUT_RETRY;
	t->intr_result = -EINTR; /* never restarted, whatever SA_RESTART says */
	return r;
}

SYSCALL(epoll_wait)
{
	int ms = (int)a[3];
	return do_epoll_wait(t, (int)a[0], a[1], (int)a[2], ms < 0 ? -1 : (int64_t)ms * 1000000);
}

/* epoll_pwait/epoll_pwait2: the signal mask given is in force only while the call waits
 * (as ppoll). */
static long epoll_wait_sigmask(struct task *t, const uint64_t a[6], int64_t timeout_ns)
{
	if (a[4] && !t->restarting) {
		uint64_t mask;
		if (a[5] != sizeof(mask))
			return -EINVAL;
		if (copy_from_user(t->tg->mm, &mask, a[4], sizeof(mask)) < 0)
			return -EFAULT;
		t->saved_sigmask = t->sigmask;
		t->restore_sigmask = true;
		t->sigmask = mask & ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP));
	}
	long r = do_epoll_wait(t, (int)a[0], a[1], (int)a[2], timeout_ns);
	/* Interrupted: the old mask comes back after the handler runs (signal delivery). */
	if (r != SYSCALL_BLOCKED && t->restore_sigmask && !(r == -EINTR && signal_pending_unblocked(t))) {
		t->sigmask = t->saved_sigmask;
		t->restore_sigmask = false;
	}
	return r;
}

SYSCALL(epoll_pwait)
{
	int ms = (int)a[3];
	return epoll_wait_sigmask(t, a, ms < 0 ? -1 : (int64_t)ms * 1000000);
}

SYSCALL(epoll_pwait2)
{
	int64_t ns = -1;
	if (a[3] && !t->restarting) {
		struct timespec ts;
		if (copy_from_user(t->tg->mm, &ts, a[3], sizeof(ts)) < 0)
			return -EFAULT;
		if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
			return -EINVAL;
		ns = ts.tv_sec > INT64_MAX / 1000000000 - 1 ? -1 : ts.tv_sec * 1000000000ll + ts.tv_nsec;
	}
	return epoll_wait_sigmask(t, a, ns);
}
