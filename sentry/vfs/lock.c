/* Advisory file locks between the sandbox's processes: POSIX record locks (owned by a
 * process, released when it closes any descriptor of the file or exits), open file
 * description locks (F_OFD_*, owned by the open file) and flock() locks (whole file, owned
 * by the open file, independent of the other two, as on Linux).
 *
 * The lock table is one list for the whole sentry (like epoll's registry it still has to
 * move into struct kernel for snapshots). Waiters retry whenever any lock is released. */
#include "sentry/vfs/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

struct file_lock {
	struct list_head link;
	struct inode *ino;
	void *owner;
	int kind;
	short type;          /* F_RDLCK or F_WRLCK */
	uint64_t start, end; /* inclusive; end == UINT64_MAX: to the end of the file */
	int pid;             /* for F_GETLK: the owning process, -1 for OFD locks */
};

static struct list_head locks = LIST_HEAD_INIT(locks);
static struct waitqueue lock_waiters = {LIST_HEAD_INIT(lock_waiters.waiters)};

static bool overlap(const struct file_lock *l, uint64_t start, uint64_t end)
{
	return l->start <= end && start <= l->end;
}

/* flock locks only meet flock locks; POSIX and OFD locks meet each other. */
static bool same_family(int a, int b)
{
	return (a == LOCK_KIND_FLOCK) == (b == LOCK_KIND_FLOCK);
}

static struct file_lock *find_conflict(struct inode *ino, void *owner, int kind, short type,
				       uint64_t start, uint64_t end)
{
	struct list_head *pos;
	list_for_each(pos, &locks)
	{
		struct file_lock *l = list_entry(pos, struct file_lock, link);
		if (l->ino != ino || l->owner == owner || !same_family(l->kind, kind))
			continue;
		if (!overlap(l, start, end))
			continue;
		if (l->type == F_WRLCK || type == F_WRLCK)
			return l;
	}
	return NULL;
}

/* Removes owner's locks of this family on [start, end], splitting those that stick out. */
static int punch(struct inode *ino, void *owner, int kind, uint64_t start, uint64_t end)
{
	struct list_head *pos, *n;
	list_for_each_safe(pos, n, &locks)
	{
		struct file_lock *l = list_entry(pos, struct file_lock, link);
		if (l->ino != ino || l->owner != owner || !same_family(l->kind, kind) || !overlap(l, start, end))
			continue;
		if (l->start < start && l->end > end) {
			struct file_lock *tail = malloc(sizeof(*tail));
			if (!tail)
				return -ENOLCK;
			*tail = *l;
			tail->start = end + 1;
			l->end = start - 1;
			list_add_tail(&tail->link, &locks);
		} else if (l->start < start) {
			l->end = start - 1;
		} else if (l->end > end) {
			l->start = end + 1;
		} else {
			list_del_init(&l->link);
			free(l);
		}
	}
	return 0;
}

long lock_set(struct task *t, struct inode *ino, void *owner, int kind, short type, uint64_t start,
	      uint64_t end, bool wait, int pid)
{
	if (type == F_UNLCK) {
		int err = punch(ino, owner, kind, start, end);
		waitqueue_wake_all(&lock_waiters);
		return err;
	}
	if (find_conflict(ino, owner, kind, type, start, end)) {
		if (!wait)
			return kind == LOCK_KIND_FLOCK ? -EWOULDBLOCK : -EAGAIN;
		return task_block(t, &lock_waiters, 0); /* retried when a lock goes */
	}
	struct file_lock *l = malloc(sizeof(*l));
	if (!l)
		return -ENOLCK;
	int err = punch(ino, owner, kind, start, end);
	if (err < 0) {
		free(l);
		return err;
	}
	*l = (struct file_lock){.ino = ino, .owner = owner, .kind = kind, .type = type,
				.start = start, .end = end, .pid = pid};
	list_add_tail(&l->link, &locks);
	/* A downgrade (write to read) may let readers in. */
	waitqueue_wake_all(&lock_waiters);
	return 0;
}

bool lock_test(struct inode *ino, void *owner, int kind, short type, uint64_t *start, uint64_t *end,
	       short *type_out, int *pid_out)
{
	struct file_lock *l = find_conflict(ino, owner, kind, type, *start, *end);
	if (!l)
		return false;
	*start = l->start;
	*end = l->end;
	*type_out = l->type;
	*pid_out = l->pid;
	return true;
}

void lock_release(struct inode *ino, void *owner)
{
	bool any = false;
	struct list_head *pos, *n;
	list_for_each_safe(pos, n, &locks)
	{
		struct file_lock *l = list_entry(pos, struct file_lock, link);
		if (l->owner != owner || (ino && l->ino != ino))
			continue;
		list_del_init(&l->link);
		free(l);
		any = true;
	}
	if (any)
		waitqueue_wake_all(&lock_waiters);
}
