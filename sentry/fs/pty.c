/* Pseudo-terminals (Unix 98): /dev/ptmx makes a master, /dev/pts/N (devpts) opens its
 * slave, with the line discipline between them; and the controlling terminal of a
 * session, which /dev/tty opens.
 *
 * Data flow, as in Linux: bytes written to the master wait in an input queue (Linux's
 * flip buffer) until the line discipline's 4 KiB buffer takes them; echoes and
 * what the slave writes go, after output processing, to an output queue the master
 * reads.
 *
 * A session's controlling terminal is the pty whose `session` is the session's id (ids are
 * never reused in a sandbox); the console (the user's terminal, hostfd.c) is the one of
 * init's session when the sandbox has a terminal and no pty took its place. */
#include "sentry/fs/fs.h"
#include "sentry/fs/line_discipline.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <time.h>

#define PTY_MAX 4096           /* /proc/sys/kernel/pty/max */
/* What each end can have in flight beyond the line discipline's buffer: Linux limits a
 * pty's flip buffer to 8 KiB; the master's own n_tty buffer adds 4 KiB on its side. */
#define PTY_INPUT_SIZE 8192
#define PTY_OUTPUT_SIZE (8192 + LDISC_BUF_SIZE)
#define PTS_MAJOR 136          /* UNIX98_PTY_SLAVE_MAJOR: glibc's ptsname checks it */
#define TTY_GID 5              /* devpts' usual gid= mount option */

struct ring {
	uint8_t *buf;
	size_t cap, head, len;
};

struct pty {
	struct kernel *k;
	int index;
	uint64_t serial; /* tells a reused index from the pty a /dev/pts dentry was made for */
	int masters, slaves; /* open files of each end */
	bool slave_opened;   /* the slave has been opened (its last close then hangs up the master) */
	bool locked;         /* TIOCSPTLCK: the slave cannot be opened yet */
	bool hung_up;        /* the master is closed: the slave reads EOF, writes EIO */
	uint32_t uid;
	struct timespec ctime;
	struct ldisc ld;
	struct winsize ws;
	int session, pgrp; /* as a controlling terminal; 0: none */
	struct ring input;  /* written to the master, not yet in the line discipline */
	struct ring output; /* for the master to read */
	size_t output_mark; /* output.len when the current batch of input began */
	struct waitqueue in_wq;  /* input side changed: slave readers, master writers */
	struct waitqueue out_wq; /* output side changed: master readers, slave writers */
	uint64_t last_input_ns;  /* for VTIME's inter-byte timer */
};

struct pty_table {
	struct pty *slots[PTY_MAX];
	uint64_t next_serial;
	struct superblock sb; /* devpts */
};

/* ---- queues ---- */

static size_t ring_room(const struct ring *r)
{
	return r->cap - r->len;
}

static size_t ring_put(struct ring *r, const uint8_t *s, size_t n)
{
	if (n > ring_room(r))
		n = ring_room(r);
	for (size_t i = 0; i < n; i++)
		r->buf[(r->head + r->len + i) % r->cap] = s[i];
	r->len += n;
	return n;
}

static size_t ring_get(struct ring *r, uint8_t *d, size_t n)
{
	if (n > r->len)
		n = r->len;
	for (size_t i = 0; i < n; i++)
		d[i] = r->buf[(r->head + i) % r->cap];
	r->head = (r->head + n) % r->cap;
	r->len -= n;
	return n;
}

static void ring_flush(struct ring *r)
{
	r->head = r->len = 0;
}

static struct pty_table *table(struct kernel *k)
{
	return k->ptys;
}

/* ---- sessions and process groups ---- */

static bool is_ctty(const struct pty *p, const struct thread_group *tg)
{
	return p->session && p->session == tg->sid && !tg->tty_dropped && !p->hung_up;
}

static struct pty *session_pty(struct kernel *k, int sid)
{
	struct pty_table *pt = table(k);
	for (int i = 0; pt && i < PTY_MAX; i++)
		if (pt->slots[i] && pt->slots[i]->session == sid)
			return pt->slots[i];
	return NULL;
}

/* The host descriptor of the user's terminal, or -1 when the sandbox has none. */
static int console_fd(struct kernel *k)
{
	for (int i = 0; i < 3; i++)
		if (isatty(k->host_stdio[i]))
			return k->host_stdio[i];
	return -1;
}

static bool console_is_ctty(struct kernel *k, const struct thread_group *tg)
{
	return !tg->tty_dropped && k->init && tg->sid == k->init->sid && console_fd(k) >= 0 &&
	       !session_pty(k, tg->sid);
}

static bool has_ctty(struct kernel *k, const struct thread_group *tg)
{
	struct pty *p = session_pty(k, tg->sid);
	return (p && is_ctty(p, tg)) || console_is_ctty(k, tg);
}

static bool pgrp_in_session(struct kernel *k, int pgrp, int sid, bool *exists)
{
	*exists = false;
	for (int i = 1; i < k->task_cap; i++) {
		struct task *o = task_lookup(k, i);
		if (o && o->tg->pgid == pgrp) {
			*exists = true;
			if (o->tg->sid == sid)
				return true;
		}
	}
	return false;
}

/* POSIX: a process group is orphaned when no member has a parent in another group of the
 * same session; stopping it for job control would stop it for good. */
static bool pgrp_orphaned(struct kernel *k, int pgrp)
{
	for (int i = 1; i < k->task_cap; i++) {
		struct task *o = task_lookup(k, i);
		if (!o || o->tg->pgid != pgrp || o->tg->exiting)
			continue;
		struct thread_group *parent = o->tg->parent;
		if (parent && !parent->exiting && parent->pgid != pgrp && parent->sid == o->tg->sid)
			return false;
	}
	return true;
}

static void signal_group(struct kernel *k, int pgrp, int sig)
{
	if (pgrp <= 0)
		return;
	siginfo_t si = {0};
	si.si_signo = sig;
	si.si_code = SI_KERNEL;
	signal_pgrp(k, pgrp, sig, &si);
}

static void signal_session_leader(struct kernel *k, int sid, int sig)
{
	struct task *leader = task_lookup(k, sid);
	if (!leader || leader->tg->tgid != sid || leader->tg->exiting)
		return;
	siginfo_t si = {0};
	si.si_signo = sig;
	si.si_code = SI_KERNEL;
	signal_send(leader, sig, &si, true);
}

/* Linux's __tty_check_change: a background process of the terminal's session touching it
 * gets SIGTTIN/SIGTTOU sent to its group (or EIO). Returns 0 to go on. */
static long job_control(struct pty *p, struct task *t, int sig)
{
	if (!t || !is_ctty(p, t->tg) || !p->pgrp || t->tg->pgid == p->pgrp)
		return 0;
	uint64_t handler = t->tg->sighand->action[sig - 1].handler;
	if ((t->sigmask & SIGBIT(sig)) || handler == (uint64_t)SIG_IGN)
		return sig == SIGTTIN ? -EIO : 0;
	if (pgrp_orphaned(p->k, t->tg->pgid))
		return -EIO;
	signal_group(p->k, t->tg->pgid, sig);
	return -ERESTARTSYS;
}

static void acquire_ctty(struct pty *p, struct thread_group *tg)
{
	p->session = tg->sid;
	p->pgrp = tg->pgid;
	tg->tty_dropped = false;
}

/* The session loses its controlling terminal: SIGHUP (and SIGCONT) to the foreground
 * group when its leader gives it up (on_exit: the leader is exiting). */
static void disassociate(struct pty *p, bool on_exit)
{
	if (p->pgrp) {
		signal_group(p->k, p->pgrp, SIGHUP);
		if (!on_exit)
			signal_group(p->k, p->pgrp, SIGCONT);
	}
	p->session = p->pgrp = 0;
}

void tty_session_leader_exit(struct thread_group *tg)
{
	if (tg->sid != tg->tgid || !tg->k->ptys)
		return;
	struct pty *p = session_pty(tg->k, tg->sid);
	if (p)
		disassociate(p, true);
}

/* ---- the line discipline's side ---- */

static void wake_all(struct pty *p)
{
	waitqueue_wake_all(&p->in_wq);
	waitqueue_wake_all(&p->out_wq);
}

static size_t ld_out_room(void *ctx)
{
	struct pty *p = ctx;
	return ring_room(&p->output);
}

static void ld_out_put(void *ctx, const uint8_t *s, size_t n)
{
	struct pty *p = ctx;
	ring_put(&p->output, s, n);
	waitqueue_wake_all(&p->out_wq);
}

static void ld_signal(void *ctx, int sig)
{
	struct pty *p = ctx;
	signal_group(p->k, p->pgrp, sig);
}

/* Linux flushes the master's flip buffer: the output (echoes mostly) made since the master
 * last took its input in, which is the output of the batch of input being processed. */
static void ld_flush_output(void *ctx)
{
	struct pty *p = ctx;
	if (p->output.len > p->output_mark)
		p->output.len = p->output_mark;
}

static const struct ldisc_ops pty_ldisc_ops = {
	.out_room = ld_out_room,
	.out_put = ld_out_put,
	.signal = ld_signal,
	.flush_output = ld_flush_output,
};

/* Feeds queued input to the line discipline as far as it takes it. */
static void push_input(struct pty *p)
{
	bool moved = false;
	uint8_t chunk[256];
	p->output_mark = p->output.len;
	while (p->input.len) {
		size_t n = p->input.len < sizeof(chunk) ? p->input.len : sizeof(chunk);
		for (size_t i = 0; i < n; i++)
			chunk[i] = p->input.buf[(p->input.head + i) % p->input.cap];
		bool was_stopped = p->ld.stopped;
		size_t took = ldisc_receive(&p->ld, chunk, n);
		if (was_stopped != p->ld.stopped)
			waitqueue_wake_all(&p->out_wq);
		p->input.head = (p->input.head + took) % p->input.cap;
		p->input.len -= took;
		moved |= took > 0;
		if (took < n)
			break;
	}
	if (moved) {
		p->last_input_ns = now_ns();
		waitqueue_wake_all(&p->in_wq);
	}
}

/* ---- the pty object ---- */

static void pty_free(struct pty *p)
{
	table(p->k)->slots[p->index] = NULL; /* the index is free again, as in Linux */
	free(p->input.buf);
	free(p->output.buf);
	free(p);
}

/* An end was closed: the pty goes with the last file of either end. */
static void pty_maybe_free(struct pty *p)
{
	if (p->masters || p->slaves)
		return;
	/* Tasks of other threads may still wait in a closed file: they retry (and find the
	 * descriptor gone) instead of staying on queues that are about to go. */
	wake_all(p);
	pty_free(p);
}

static int pty_table_init(struct kernel *k)
{
	if (k->ptys)
		return 0;
	struct pty_table *pt = calloc(1, sizeof(*pt));
	if (!pt)
		return -ENOMEM;
	pt->sb.fstype = "devpts";
	pt->sb.magic = 0x1cd1;
	pt->sb.dev = 0x16;
	pt->sb.priv = k;
	k->ptys = pt;
	return 0;
}

static int pty_new(struct kernel *k, struct pty **out)
{
	int err = pty_table_init(k);
	if (err < 0)
		return err;
	struct pty_table *pt = table(k);
	int index = 0;
	while (index < PTY_MAX && pt->slots[index])
		index++;
	if (index == PTY_MAX)
		return -ENOSPC;
	struct pty *p = calloc(1, sizeof(*p));
	if (!p || !(p->input.buf = malloc(PTY_INPUT_SIZE)) || !(p->output.buf = malloc(PTY_OUTPUT_SIZE))) {
		if (p)
			pty_free(p);
		return -ENOMEM;
	}
	p->input.cap = PTY_INPUT_SIZE;
	p->output.cap = PTY_OUTPUT_SIZE;
	p->k = k;
	p->index = index;
	p->serial = ++pt->next_serial;
	p->locked = true;
	struct task *cur = k->current;
	p->uid = cur ? cur->tg->cred.euid : 0;
	clock_gettime(CLOCK_REALTIME, &p->ctime);
	ldisc_init(&p->ld, &pty_ldisc_ops, p);
	waitqueue_init(&p->in_wq);
	waitqueue_init(&p->out_wq);
	pt->slots[index] = p;
	*out = p;
	return 0;
}

static struct pty *pty_lookup(struct kernel *k, int index, uint64_t serial)
{
	if (!k->ptys || index < 0 || index >= PTY_MAX)
		return NULL;
	struct pty *p = table(k)->slots[index];
	/* a hung-up pty keeps its index until its last slave closes, but has no name */
	return p && !p->hung_up && (!serial || p->serial == serial) ? p : NULL;
}

/* ---- the slave ---- */

static const struct file_ops pty_slave_ops;
static const struct file_ops pty_master_ops;

static struct pty *file_pty(struct file *f)
{
	return f->priv;
}

/* Opens the slave of p into f (devpts, /dev/tty, TIOCGPTPEER): Linux's tty_open, with
 * acquiring the controlling terminal. */
static int slave_open(struct pty *p, struct file *f)
{
	if (p->hung_up)
		return -EIO;
	if (p->locked)
		return -EIO;
	struct task *t = p->k->current;
	int acc = f->flags & O_ACCMODE;
	if (!(f->flags & O_NOCTTY) && t && t->tg->sid == t->tg->tgid && !has_ctty(p->k, t->tg) &&
	    !p->session && (acc == O_RDONLY || acc == O_RDWR))
		acquire_ctty(p, t->tg);
	f->ops = &pty_slave_ops;
	f->priv = p;
	p->slaves++;
	p->slave_opened = true;
	return 0;
}

static void slave_release(struct file *f)
{
	struct pty *p = file_pty(f);
	p->slaves--;
	wake_all(p); /* the master reads EIO once no slave is left */
	pty_maybe_free(p);
}

static long slave_read(struct file *f, struct task *t, void *buf, size_t len, uint64_t *pos)
{
	(void)pos;
	struct pty *p = file_pty(f);
	if (p->hung_up)
		return 0;
	long jc = job_control(p, t, SIGTTIN);
	if (jc)
		return jc;
	struct ldisc *ld = &p->ld;
	bool nonblock = !t || (f->flags & O_NONBLOCK);
	uint64_t deadline = 0;
	if (ld->tio.c_lflag & ICANON) {
		if (!ldisc_readable(ld, false))
			goto wait;
	} else {
		size_t min = ld->tio.c_cc[VMIN], avail = ldisc_buffered(ld);
		uint64_t vtime = (uint64_t)ld->tio.c_cc[VTIME] * 100000000ull;
		if (min == 0 && vtime == 0)
			goto take;
		if (min == 0) {
			/* VTIME alone: wait that long for a first byte, then return 0 */
			if (avail || (t && t->timed_out))
				goto take;
			if (t && !t->deadline)
				t->deadline = now_ns() + vtime;
			deadline = t ? t->deadline : 0;
			goto wait;
		}
		if (avail >= (min < len ? min : len) || (avail && t && t->timed_out))
			goto take;
		if (avail && nonblock)
			goto take;
		/* VMIN with VTIME: an inter-byte timer, from the last byte's arrival or the
		 * start of the read, whichever is later (t->deadline keeps the start) */
		if (t && !t->deadline)
			t->deadline = now_ns();
		if (avail && vtime && t)
			deadline = (p->last_input_ns > t->deadline ? p->last_input_ns : t->deadline) + vtime;
		goto wait;
	}
take: {
	size_t n = ldisc_read(ld, buf, len);
	push_input(p); /* room for what the master wrote meanwhile */
	waitqueue_wake_all(&p->in_wq);
	return (long)n;
}
wait:
	if (nonblock)
		return -EAGAIN;
	long r = task_block(t, &p->in_wq, deadline);
	if (deadline)
		t->timeout_result = TIMEOUT_RETRY;
	return r;
}

static long slave_write(struct file *f, struct task *t, const void *buf, size_t len, uint64_t *pos)
{
	(void)pos;
	struct pty *p = file_pty(f);
	if (p->hung_up)
		return -EIO;
	if (p->ld.tio.c_lflag & TOSTOP) {
		long jc = job_control(p, t, SIGTTOU);
		if (jc)
			return jc;
	}
	size_t done = t ? (size_t)t->partial : 0;
	if (!p->ld.stopped)
		done += ldisc_write(&p->ld, (const uint8_t *)buf + done, len - done);
	if (done == len)
		return (long)len;
	if (!t || (f->flags & O_NONBLOCK))
		return done ? (long)done : -EAGAIN;
	t->partial = (long)done;
	long r = task_block(t, &p->out_wq, 0);
	if (done)
		t->intr_result = (long)done;
	return r;
}

static unsigned slave_poll(struct file *f, struct poll_table *pt)
{
	struct pty *p = file_pty(f);
	poll_wait(pt, &p->in_wq);
	poll_wait(pt, &p->out_wq);
	if (p->hung_up)
		return POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM | POLLERR | POLLHUP;
	unsigned m = 0;
	if (ldisc_readable(&p->ld, true))
		m |= POLLIN | POLLRDNORM;
	if (!p->ld.stopped && ring_room(&p->output))
		m |= POLLOUT | POLLWRNORM;
	return m;
}

/* ---- the master ---- */

static void master_release(struct file *f)
{
	struct pty *p = file_pty(f);
	if (--p->masters == 0) {
		/* Hang up the slave: its session loses the terminal, its leader gets SIGHUP,
		 * and /dev/pts/N goes away. */
		int sid = p->session;
		p->session = p->pgrp = 0;
		p->hung_up = true;
		if (sid) {
			signal_session_leader(p->k, sid, SIGHUP);
			signal_session_leader(p->k, sid, SIGCONT);
		}
		wake_all(p);
	}
	pty_maybe_free(p);
}

static long master_read(struct file *f, struct task *t, void *buf, size_t len, uint64_t *pos)
{
	(void)pos;
	struct pty *p = file_pty(f);
	size_t n = ring_get(&p->output, buf, len);
	if (n) {
		waitqueue_wake_all(&p->out_wq);
		return (long)n;
	}
	if (p->slave_opened && p->slaves == 0)
		return -EIO;
	if (!t || (f->flags & O_NONBLOCK))
		return -EAGAIN;
	return task_block(t, &p->out_wq, 0);
}

static long master_write(struct file *f, struct task *t, const void *buf, size_t len, uint64_t *pos)
{
	(void)pos;
	struct pty *p = file_pty(f);
	size_t done = t ? (size_t)t->partial : 0;
	for (;;) {
		size_t n = ring_put(&p->input, (const uint8_t *)buf + done, len - done);
		done += n;
		push_input(p);
		if (done == len || !n || !ring_room(&p->input))
			break;
	}
	if (done == len)
		return (long)len;
	if (!t || (f->flags & O_NONBLOCK))
		return done ? (long)done : -EAGAIN;
	t->partial = (long)done;
	long r = task_block(t, &p->in_wq, 0);
	if (done)
		t->intr_result = (long)done;
	return r;
}

static unsigned master_poll(struct file *f, struct poll_table *pt)
{
	struct pty *p = file_pty(f);
	poll_wait(pt, &p->in_wq);
	poll_wait(pt, &p->out_wq);
	unsigned m = 0;
	if (p->output.len)
		m |= POLLIN | POLLRDNORM;
	if (p->slave_opened && p->slaves == 0)
		m |= POLLHUP;
	if (ring_room(&p->input))
		m |= POLLOUT | POLLWRNORM;
	return m;
}

/* ---- ioctls ---- */

static int put_int(struct task *t, uint64_t arg, int v)
{
	return copy_to_user(t->tg->mm, arg, &v, sizeof(v)) < 0 ? -EFAULT : 0;
}

static int get_int(struct task *t, uint64_t arg, int *v)
{
	return copy_from_user(t->tg->mm, v, arg, sizeof(*v)) < 0 ? -EFAULT : 0;
}

static long set_termios(struct pty *p, struct task *t, bool is_slave, unsigned long cmd, uint64_t arg)
{
	struct kernel_termios tio;
	if (copy_from_user(t->tg->mm, &tio, arg, sizeof(tio)) < 0)
		return -EFAULT;
	if (is_slave) {
		long jc = job_control(p, t, SIGTTOU);
		if (jc)
			return jc;
	}
	if (cmd == TCSETSF) {
		ldisc_flush_input(&p->ld);
		ring_flush(&p->input);
	}
	ldisc_set_termios(&p->ld, &tio);
	push_input(p);
	wake_all(p);
	return 0;
}

static long set_winsize(struct pty *p, struct task *t, uint64_t arg)
{
	struct winsize ws;
	if (copy_from_user(t->tg->mm, &ws, arg, sizeof(ws)) < 0)
		return -EFAULT;
	if (memcmp(&ws, &p->ws, sizeof(ws)) != 0) {
		p->ws = ws;
		signal_group(p->k, p->pgrp, SIGWINCH);
	}
	return 0;
}

static long set_pgrp(struct pty *p, struct task *t, bool is_slave, uint64_t arg)
{
	if (is_slave) {
		long jc = job_control(p, t, SIGTTOU);
		if (jc)
			return jc;
	}
	int pg;
	if (get_int(t, arg, &pg) < 0)
		return -EFAULT;
	if (!is_ctty(p, t->tg))
		return -ENOTTY;
	if (pg < 0)
		return -EINVAL;
	bool exists;
	if (!pgrp_in_session(p->k, pg, t->tg->sid, &exists))
		return exists ? -EPERM : -ESRCH;
	p->pgrp = pg;
	return 0;
}

/* TIOCSCTTY (Linux's tiocsctty). force: steal it from another session (root only). */
static long set_ctty(struct pty *p, struct task *t, struct file *f, uint64_t force)
{
	struct thread_group *tg = t->tg;
	bool leader = tg->sid == tg->tgid;
	if (leader && p->session == tg->sid && !p->hung_up)
		return 0;
	if (!leader || has_ctty(p->k, tg) || p->hung_up)
		return -EPERM;
	bool root = tg->cred.euid == 0;
	if (p->session) {
		if (force != 1 || !root)
			return -EPERM;
		p->session = p->pgrp = 0;
	}
	if ((f->flags & O_ACCMODE) == O_WRONLY && !root)
		return -EPERM;
	acquire_ctty(p, tg);
	return 0;
}

static long drop_ctty(struct pty *p, struct task *t)
{
	if (!is_ctty(p, t->tg))
		return -ENOTTY;
	if (t->tg->sid == t->tg->tgid)
		disassociate(p, false);
	else
		t->tg->tty_dropped = true;
	return 0;
}

static long flush(struct pty *p, struct task *t, bool is_slave, uint64_t arg)
{
	if (is_slave) {
		long jc = job_control(p, t, SIGTTOU);
		if (jc)
			return jc;
	}
	if (arg > TCIOFLUSH)
		return -EINVAL;
	/* Each end's input is what it reads; its output is the other end's input. */
	bool in = arg == TCIFLUSH || arg == TCIOFLUSH, out = arg == TCOFLUSH || arg == TCIOFLUSH;
	if (is_slave ? in : out) {
		ldisc_flush_input(&p->ld);
		ring_flush(&p->input);
	}
	if (is_slave ? out : in)
		ring_flush(&p->output);
	wake_all(p);
	return 0;
}

static long open_peer(struct pty *p, struct task *t, uint64_t arg)
{
	int flags = (int)arg;
	if (flags & ~(O_ACCMODE | O_NOCTTY | O_NONBLOCK | O_CLOEXEC))
		return -EINVAL;
	char path[32];
	snprintf(path, sizeof(path), "/dev/pts/%d", p->index);
	struct dentry *d = NULL;
	struct inode *ino = NULL;
	if (vfs_walk(t->fs, NULL, path, 0, &d) == 0)
		ino = d->inode;
	else
		d = NULL;
	struct file *f = file_new(d, ino, flags & ~O_CLOEXEC);
	if (d)
		dentry_put(d);
	if (!f)
		return -ENOMEM;
	int err = slave_open(p, f);
	if (err < 0) {
		f->ops = NULL;
		file_put(f);
		return err;
	}
	f->flags &= ~O_NOCTTY;
	int fd = fdt_install(t->fdt, f, 0, flags & O_CLOEXEC, (int)t->tg->rlim[RLIMIT_NOFILE].rlim_cur);
	file_put(f);
	return fd;
}

static long pty_ioctl(struct file *f, struct task *t, unsigned long cmd, uint64_t arg)
{
	struct pty *p = file_pty(f);
	bool is_slave = f->ops == &pty_slave_ops;
	if (is_slave && p->hung_up)
		return cmd == TIOCSPGRP ? -ENOTTY : -EIO;
	switch (cmd) {
	case TCGETS:
		return copy_to_user(t->tg->mm, arg, &p->ld.tio, sizeof(p->ld.tio)) < 0 ? -EFAULT : 0;
	case TCSETS:
	case TCSETSW:
	case TCSETSF:
		return set_termios(p, t, is_slave, cmd, arg);
	case TIOCGWINSZ:
		return copy_to_user(t->tg->mm, arg, &p->ws, sizeof(p->ws)) < 0 ? -EFAULT : 0;
	case TIOCSWINSZ:
		return set_winsize(p, t, arg);
	case FIONREAD:
		return put_int(t, arg, (int)(is_slave ? ldisc_inq(&p->ld) : p->output.len));
	case TIOCOUTQ:
		/* Linux's ptys have no chars_in_buffer: what was written is the other end's */
		return put_int(t, arg, 0);
	case TCFLSH:
		return flush(p, t, is_slave, arg);
	case TCSBRK:
	case TCSBRKP:
		return 0; /* tcdrain: written data is already with the other end */
	case TCXONC:
		switch (arg) {
		case TCOOFF:
			p->ld.stopped = true;
			return 0;
		case TCOON:
			p->ld.stopped = false;
			wake_all(p);
			return 0;
		case TCIOFF:
		case TCION: {
			uint8_t c = p->ld.tio.c_cc[arg == TCIOFF ? VSTOP : VSTART];
			if (c)
				ld_out_put(p, &c, 1);
			return 0;
		}
		default:
			return -EINVAL;
		}
	case TIOCGPGRP:
		if (is_slave && !is_ctty(p, t->tg))
			return -ENOTTY;
		return put_int(t, arg, p->pgrp);
	case TIOCSPGRP:
		return set_pgrp(p, t, is_slave, arg);
	case TIOCGSID:
		if ((is_slave && !is_ctty(p, t->tg)) || !p->session)
			return -ENOTTY;
		return put_int(t, arg, p->session);
	case TIOCSCTTY:
		return set_ctty(p, t, f, arg);
	case TIOCNOTTY:
		return drop_ctty(p, t);
	case TIOCGETD:
		return put_int(t, arg, 0); /* N_TTY */
	case TIOCSETD: {
		int ld;
		if (get_int(t, arg, &ld) < 0)
			return -EFAULT;
		return ld == 0 ? 0 : -EINVAL;
	}
	}
	if (is_slave)
		return -ENOTTY;
	switch (cmd) {
	case TIOCGPTN:
		return put_int(t, arg, p->index);
	case TIOCSPTLCK: {
		int lock;
		if (get_int(t, arg, &lock) < 0)
			return -EFAULT;
		p->locked = lock != 0;
		return 0;
	}
	case TIOCGPTLCK:
		return put_int(t, arg, p->locked);
	case TIOCGPTPEER:
		return open_peer(p, t, arg);
	}
	return -ENOTTY;
}

static const struct file_ops pty_slave_ops = {
	.read = slave_read,
	.write = slave_write,
	.ioctl = pty_ioctl,
	.poll = slave_poll,
	.release = slave_release,
	.stream = true,
};

static const struct file_ops pty_master_ops = {
	.read = master_read,
	.write = master_write,
	.ioctl = pty_ioctl,
	.poll = master_poll,
	.release = master_release,
	.stream = true,
};

int pty_open_master(struct kernel *k, struct file *f)
{
	struct pty *p;
	int err = pty_new(k, &p);
	if (err < 0)
		return err;
	p->masters = 1;
	f->ops = &pty_master_ops;
	f->priv = p;
	return 0;
}

int tty_open_controlling(struct kernel *k, struct file *f)
{
	struct task *t = k->current;
	if (!t)
		return -ENXIO;
	struct pty *p = session_pty(k, t->tg->sid);
	if (p && is_ctty(p, t->tg))
		return slave_open(p, f);
	if (console_is_ctty(k, t->tg))
		return hostfd_open_console(k, console_fd(k), f);
	return -ENXIO;
}

/* ---- devpts ---- */

enum { PTS_ROOT_INO = 1, PTS_PTMX_INO = 2, PTS_FIRST_INO = 3 };

/* What a /dev/pts inode names: the root, ptmx, or the slave of one pty. */
struct pts_node {
	int index; /* -1: root, -2: ptmx */
	uint64_t serial;
	uint32_t uid;
	struct timespec ctime;
};

static const struct inode_ops devpts_inode_ops;

static struct inode *pts_inode(struct superblock *sb, int index, struct pty *p)
{
	struct pts_node *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->index = index;
	uint32_t mode = S_IFDIR | 0755;
	struct kernel *k = sb->priv;
	uint64_t boot = realtime_ns() - (now_ns() - k->boot_ns);
	n->ctime = (struct timespec){(time_t)(boot / 1000000000ull), (long)(boot % 1000000000ull)};
	if (index == -2)
		mode = S_IFCHR | 0000; /* as Linux's default ptmxmode=000; /dev/ptmx is the one used */
	if (p) {
		mode = S_IFCHR | 0620;
		n->serial = p->serial;
		n->uid = p->uid;
		n->ctime = p->ctime;
	}
	struct inode *ino = inode_new(sb, &devpts_inode_ops, mode, n);
	if (!ino) {
		free(n);
		return NULL;
	}
	ino->ino = index == -1 ? PTS_ROOT_INO : index == -2 ? PTS_PTMX_INO : PTS_FIRST_INO + (uint64_t)index;
	return ino;
}

static int devpts_lookup(struct inode *dir, const char *name, struct inode **out)
{
	struct kernel *k = dir->sb->priv;
	int index = -2;
	if (strcmp(name, "ptmx") != 0) {
		char *end;
		if (name[0] < '0' || name[0] > '9' || (name[0] == '0' && name[1]))
			return -ENOENT;
		long v = strtol(name, &end, 10);
		if (*end || v >= PTY_MAX)
			return -ENOENT;
		index = (int)v;
	}
	struct pty *p = index >= 0 ? pty_lookup(k, index, 0) : NULL;
	if (index >= 0 && !p)
		return -ENOENT;
	*out = pts_inode(dir->sb, index, p);
	return *out ? 0 : -ENOMEM;
}

static bool devpts_revalidate(struct inode *ino)
{
	struct pts_node *n = ino->priv;
	return n->index < 0 || pty_lookup(ino->sb->priv, n->index, n->serial);
}

static int devpts_getattr(struct inode *ino, struct kstat *st)
{
	struct pts_node *n = ino->priv;
	st->atime = st->mtime = st->ctime = n->ctime;
	if (n->index == -1) {
		st->nlink = 2;
		return 0;
	}
	st->rdev = n->index == -2 ? makedev(5, 2) : makedev(PTS_MAJOR, (unsigned)n->index);
	if (n->index >= 0) {
		st->uid = n->uid;
		st->gid = TTY_GID;
	}
	st->blksize = 1024;
	return 0;
}

static void devpts_release(struct inode *ino)
{
	free(ino->priv);
}

static int devpts_getdents(struct file *f, struct dirent_sink *sink)
{
	struct kernel *k = f->inode->sb->priv;
	static const struct synthetic_dirent fixed[] = {
		{".", PTS_ROOT_INO, DT_DIR}, {"..", PTS_ROOT_INO, DT_DIR}, {"ptmx", PTS_PTMX_INO, DT_CHR}};
	/* f->pos: the fixed entries, then pty index + 3 */
	while (f->pos < 3) {
		const struct synthetic_dirent *e = &fixed[f->pos];
		if (!sink->emit(sink, e->name, e->ino, e->type, f->pos + 1))
			return 0;
		f->pos++;
	}
	for (uint64_t i = f->pos - 3; i < PTY_MAX; i++) {
		if (!pty_lookup(k, (int)i, 0))
			continue;
		char name[16];
		snprintf(name, sizeof(name), "%llu", (unsigned long long)i);
		if (!sink->emit(sink, name, PTS_FIRST_INO + i, DT_CHR, i + 4))
			return 0;
		f->pos = i + 4;
	}
	f->pos = PTY_MAX + 3;
	return 0;
}

static const struct file_ops devpts_dir_ops = {
	.getdents = devpts_getdents,
};

static int devpts_open(struct inode *ino, struct file *f)
{
	struct pts_node *n = ino->priv;
	struct kernel *k = ino->sb->priv;
	if (n->index == -1) {
		f->ops = &devpts_dir_ops;
		return 0;
	}
	if (n->index == -2)
		return pty_open_master(k, f);
	struct pty *p = pty_lookup(k, n->index, n->serial);
	return p ? slave_open(p, f) : -EIO;
}

static const struct inode_ops devpts_inode_ops = {
	.lookup = devpts_lookup,
	.open = devpts_open,
	.getattr = devpts_getattr,
	.release = devpts_release,
	.revalidate = devpts_revalidate,
};

int devpts_new_root(struct kernel *k, struct dentry **out)
{
	int err = pty_table_init(k);
	if (err < 0)
		return err;
	struct inode *ino = pts_inode(&table(k)->sb, -1, NULL);
	if (!ino)
		return -ENOMEM;
	*out = dentry_new_root(ino);
	return *out ? 0 : -ENOMEM;
}
