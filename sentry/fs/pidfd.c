/* pidfds: a file naming a thread group. Tids are never reused in a sandbox, so the file
 * holds the tgid and finds the group again when it is used. Readable once the process
 * has exited, as on Linux. */
#include "sentry/fs/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>

struct pidfd {
	struct kernel *k;
	int tgid;
};

static const struct file_ops pidfd_ops;

struct thread_group *pidfd_target(struct file *f, bool *exited)
{
	*exited = true;
	if (f->ops != &pidfd_ops)
		return NULL;
	struct pidfd *p = f->priv;
	struct task *t = task_lookup(p->k, p->tgid);
	*exited = !t || t->tg->tgid != p->tgid || t->tg->zombie || t->tg->exiting;
	return *exited ? NULL : t->tg;
}

int pidfd_tgid(struct file *f)
{
	return f->ops == &pidfd_ops ? ((struct pidfd *)f->priv)->tgid : -1;
}

static unsigned pidfd_poll(struct file *f, struct poll_table *pt)
{
	bool exited = false;
	struct thread_group *tg = pidfd_target(f, &exited);
	if (exited)
		return POLLIN | POLLRDNORM;
	/* The parent's child_exit queue is woken when the group ends. */
	if (tg->parent)
		poll_wait(pt, &tg->parent->child_exit);
	return 0;
}

static void pidfd_release(struct file *f)
{
	free(f->priv);
}

static const struct file_ops pidfd_ops = {
	.poll = pidfd_poll,
	.release = pidfd_release,
	.stream = true,
};

static int pidfd_getattr(struct inode *ino, struct kstat *st)
{
	(void)ino;
	st->mode = S_IFREG | 0600;
	return 0;
}

static const struct inode_ops pidfd_inode_ops = {
	.getattr = pidfd_getattr,
};

int pidfd_create(struct kernel *k, int tgid, int flags, struct file **out)
{
	static struct superblock sb = {.fstype = "pidfs", .dev = 0xe};
	struct pidfd *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->k = k;
	p->tgid = tgid;
	struct inode *ino = inode_new(&sb, &pidfd_inode_ops, S_IFREG | 0600, NULL);
	if (!ino) {
		free(p);
		return -ENOMEM;
	}
	struct file *f = file_new(NULL, ino, O_RDWR | (flags & O_NONBLOCK));
	inode_put(ino);
	if (!f) {
		free(p);
		return -ENOMEM;
	}
	f->ops = &pidfd_ops;
	f->priv = p;
	*out = f;
	return 0;
}
