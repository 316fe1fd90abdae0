/* Process and thread syscalls: ids, clone (threads), execve, exit, limits, uname, prctl. */
#include "sentry/fs/fs.h"
#include "sentry/kernel/futex.h"
#include "sentry/syscalls/syscalls.h"

#include <asm/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "platform/ptrace/stub_layout.h"

struct task *task_alloc(struct kernel *k, struct thread_group *tg);

SYSCALL(getpid)
{
	(void)a;
	return t->tg->tgid;
}

SYSCALL(gettid)
{
	(void)a;
	return t->tid;
}

SYSCALL(getppid)
{
	(void)a;
	return t->tg->parent ? t->tg->parent->tgid : 0;
}

SYSCALL(getuid)
{
	(void)a;
	return t->tg->cred.ruid;
}

SYSCALL(geteuid)
{
	(void)a;
	return t->tg->cred.euid;
}

SYSCALL(getgid)
{
	(void)a;
	return t->tg->cred.rgid;
}

SYSCALL(getegid)
{
	(void)a;
	return t->tg->cred.egid;
}

SYSCALL(getresuid)
{
	const struct creds *c = &t->tg->cred;
	if (copy_to_user(t->tg->mm, a[0], &c->ruid, 4) < 0 || copy_to_user(t->tg->mm, a[1], &c->euid, 4) < 0 ||
	    copy_to_user(t->tg->mm, a[2], &c->suid, 4) < 0)
		return -EFAULT;
	return 0;
}

SYSCALL(getresgid)
{
	const struct creds *c = &t->tg->cred;
	if (copy_to_user(t->tg->mm, a[0], &c->rgid, 4) < 0 || copy_to_user(t->tg->mm, a[1], &c->egid, 4) < 0 ||
	    copy_to_user(t->tg->mm, a[2], &c->sgid, 4) < 0)
		return -EFAULT;
	return 0;
}

SYSCALL(getgroups)
{
	(void)t;
	(void)a;
	return 0; /* no supplementary groups in the sandbox */
}

SYSCALL(setgroups)
{
	if (t->tg->cred.euid != 0)
		return -EPERM;
	if ((int)a[0] < 0 || a[0] > 65536)
		return -EINVAL;
	/* Supplementary groups are not kept: only an empty list can be honoured. */
	return a[0] == 0 ? 0 : -EINVAL;
}

/* Identity changes follow Linux's rules for an unprivileged or root caller; the ids are
 * virtual (they change what the sandbox's permission checks see, not host rights). */
static long set_ids(uint32_t *r, uint32_t *e, uint32_t *s, uint32_t *fs, bool priv, int64_t nr,
		    int64_t ne, int64_t ns)
{
	uint32_t vals[3] = {*r, *e, *s};
	int64_t want[3] = {nr, ne, ns};
	for (int i = 0; i < 3; i++) {
		if (want[i] == -1 || (uint32_t)want[i] == 0xffffffffu)
			continue;
		uint32_t v = (uint32_t)want[i];
		if (!priv && v != *r && v != *e && v != *s)
			return -EPERM;
		vals[i] = v;
	}
	*r = vals[0];
	*e = vals[1];
	*s = vals[2];
	*fs = *e;
	return 0;
}

SYSCALL(setresuid)
{
	struct creds *c = &t->tg->cred;
	return set_ids(&c->ruid, &c->euid, &c->suid, &c->fsuid, c->euid == 0, (int32_t)a[0],
		       (int32_t)a[1], (int32_t)a[2]);
}

SYSCALL(setresgid)
{
	struct creds *c = &t->tg->cred;
	return set_ids(&c->rgid, &c->egid, &c->sgid, &c->fsgid, c->euid == 0, (int32_t)a[0],
		       (int32_t)a[1], (int32_t)a[2]);
}

SYSCALL(setuid)
{
	struct creds *c = &t->tg->cred;
	int32_t id = (int32_t)a[0];
	if (id < 0)
		return -EINVAL;
	if (c->euid == 0)
		return set_ids(&c->ruid, &c->euid, &c->suid, &c->fsuid, true, id, id, id);
	return set_ids(&c->ruid, &c->euid, &c->suid, &c->fsuid, false, -1, id, -1);
}

SYSCALL(setgid)
{
	struct creds *c = &t->tg->cred;
	int32_t id = (int32_t)a[0];
	if (id < 0)
		return -EINVAL;
	if (c->euid == 0)
		return set_ids(&c->rgid, &c->egid, &c->sgid, &c->fsgid, true, id, id, id);
	return set_ids(&c->rgid, &c->egid, &c->sgid, &c->fsgid, false, -1, id, -1);
}

static struct thread_group *find_tg(struct task *t, int pid)
{
	if (pid == 0)
		return t->tg;
	struct task *o = task_lookup(t->k, pid);
	return o && o->tg->tgid == pid ? o->tg : NULL;
}

SYSCALL(getpgid)
{
	struct thread_group *tg = find_tg(t, (int)a[0]);
	return tg ? tg->pgid : -ESRCH;
}

SYSCALL(getpgrp)
{
	(void)a;
	return t->tg->pgid;
}

SYSCALL(getsid)
{
	struct thread_group *tg = find_tg(t, (int)a[0]);
	return tg ? tg->sid : -ESRCH;
}

SYSCALL(setpgid)
{
	int pid = (int)a[0], pgid = (int)a[1];
	if (pgid < 0)
		return -EINVAL;
	struct thread_group *tg = find_tg(t, pid);
	if (!tg || (tg != t->tg && tg->parent != t->tg))
		return -ESRCH;
	if (tg != t->tg && tg->did_exec)
		return -EACCES;
	if (tg->sid != t->tg->sid)
		return -EPERM;
	if (tg->sid == tg->tgid)
		return -EPERM; /* a session leader cannot move */
	if (!pgid)
		pgid = tg->tgid;
	if (pgid != tg->tgid) {
		/* Joining a group: it must exist in the caller's session. */
		bool found = false;
		for (int i = 1; i < t->k->task_cap && !found; i++) {
			struct task *o = task_lookup(t->k, i);
			found = o && o->tg->pgid == pgid && o->tg->sid == t->tg->sid;
		}
		if (!found)
			return -EPERM;
	}
	tg->pgid = pgid;
	return 0;
}

SYSCALL(setsid)
{
	(void)a;
	struct thread_group *tg = t->tg;
	if (tg->pgid == tg->tgid)
		return -EPERM;
	tg->sid = tg->pgid = tg->tgid;
	return tg->sid;
}

SYSCALL(set_tid_address)
{
	t->clear_child_tid = a[0];
	return t->tid;
}

SYSCALL(set_robust_list)
{
	if (a[1] != 24)
		return -EINVAL;
	t->robust_list = a[0];
	t->robust_len = a[1];
	return 0;
}

SYSCALL(get_robust_list)
{
	struct task *o = a[0] ? task_lookup(t->k, (int)a[0]) : t;
	if (!o)
		return -ESRCH;
	uint64_t len = 24;
	if (copy_to_user(t->tg->mm, a[1], &o->robust_list, 8) < 0 ||
	    copy_to_user(t->tg->mm, a[2], &len, 8) < 0)
		return -EFAULT;
	return 0;
}

SYSCALL(arch_prctl)
{
	int code = (int)a[0];
	uint64_t addr = a[1];
	switch (code) {
	case ARCH_SET_FS:
		if (addr >= GUEST_TASK_SIZE)
			return -EPERM;
		t->regs.fs_base = addr;
		return 0;
	case ARCH_SET_GS:
		if (addr >= GUEST_TASK_SIZE)
			return -EPERM;
		t->regs.gs_base = addr;
		return 0;
	case ARCH_GET_FS:
		return copy_to_user(t->tg->mm, addr, &t->regs.fs_base, 8);
	case ARCH_GET_GS:
		return copy_to_user(t->tg->mm, addr, &t->regs.gs_base, 8);
	default:
		return -EINVAL;
	}
}

static long do_prlimit(struct task *t, int pid, int res, uint64_t unew, uint64_t uold)
{
	struct thread_group *tg = find_tg(t, pid);
	if (!tg)
		return -ESRCH;
	if (res < 0 || res >= RLIM_NLIMITS)
		return -EINVAL;
	struct rlimit nl;
	if (unew) {
		if (copy_from_user(t->tg->mm, &nl, unew, sizeof(nl)) < 0)
			return -EFAULT;
		if (nl.rlim_cur > nl.rlim_max)
			return -EINVAL;
		if (nl.rlim_max > tg->rlim[res].rlim_max && t->tg->cred.euid != 0)
			return -EPERM;
		if (res == RLIMIT_NOFILE && nl.rlim_max > 1048576)
			return -EPERM; /* fs.nr_open */
	}
	if (uold && copy_to_user(t->tg->mm, uold, &tg->rlim[res], sizeof(struct rlimit)) < 0)
		return -EFAULT;
	if (unew) {
		tg->rlim[res] = nl;
		if (res == RLIMIT_AS && tg->mm)
			tg->mm->as_limit = nl.rlim_cur == RLIM_INFINITY ? 0 : nl.rlim_cur;
	}
	return 0;
}

SYSCALL(prlimit64)
{
	return do_prlimit(t, (int)a[0], (int)a[1], a[2], a[3]);
}

SYSCALL(getrlimit)
{
	return do_prlimit(t, 0, (int)a[0], 0, a[1]);
}

SYSCALL(setrlimit)
{
	return do_prlimit(t, 0, (int)a[0], a[1], 0);
}

SYSCALL(getpriority)
{
	int which = (int)a[0];
	if (which != PRIO_PROCESS && which != PRIO_PGRP && which != PRIO_USER)
		return -EINVAL;
	if (which == PRIO_PROCESS && !find_tg(t, (int)a[1]))
		return -ESRCH;
	return 20; /* nice 0, in the syscall's 20 - nice encoding */
}

SYSCALL(uname)
{
	struct utsname u;
	memset(&u, 0, sizeof(u));
	strcpy(u.sysname, "Linux");
	snprintf(u.nodename, sizeof(u.nodename), "%s", t->k->hostname);
	strcpy(u.release, "6.1.0-ward");
	strcpy(u.version, "#1 SMP PREEMPT_DYNAMIC ward");
	strcpy(u.machine, "x86_64");
	strcpy(u.domainname, "(none)");
	return copy_to_user(t->tg->mm, a[0], &u, sizeof(u));
}

SYSCALL(sysinfo)
{
	struct sysinfo si;
	memset(&si, 0, sizeof(si));
	si.uptime = (long)((now_ns() - t->k->boot_ns) / 1000000000ull);
	si.totalram = 4ull << 30;
	si.freeram = si.totalram > t->k->mf.allocated ? si.totalram - t->k->mf.allocated : 0;
	si.procs = (unsigned short)t->k->nlive_tasks;
	si.mem_unit = 1;
	return copy_to_user(t->tg->mm, a[0], &si, sizeof(si));
}

SYSCALL(sched_yield)
{
	(void)t;
	(void)a;
	return 0;
}

SYSCALL(getrandom)
{
	uint64_t ubuf = a[0], len = a[1];
	unsigned flags = (unsigned)a[2];
	if (flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE))
		return -EINVAL;
	if ((flags & GRND_INSECURE) && (flags & GRND_RANDOM))
		return -EINVAL;
	if (len > 33554431)
		len = 33554431;
	uint8_t buf[4096];
	uint64_t done = 0;
	while (done < len) {
		size_t chunk = len - done < sizeof(buf) ? len - done : sizeof(buf);
		ssize_t n = getrandom(buf, chunk, 0);
		if (n <= 0)
			break;
		if (copy_to_user(t->tg->mm, ubuf + done, buf, (size_t)n) < 0)
			return done ? (long)done : -EFAULT;
		done += (uint64_t)n;
	}
	return (long)done;
}

SYSCALL(prctl)
{
	int op = (int)a[0];
	char name[16];
	switch (op) {
	case PR_SET_NAME:
		if (strncpy_from_user(t->tg->mm, name, a[1], sizeof(name)) == -EFAULT)
			return -EFAULT;
		name[15] = 0;
		memcpy(task_comm(t), name, sizeof(name));
		return 0;
	case PR_GET_NAME:
		return copy_to_user(t->tg->mm, a[1], task_comm(t), 16);
	case PR_GET_DUMPABLE:
		return 1;
	case PR_SET_DUMPABLE:
		return a[1] <= 1 ? 0 : -EINVAL;
	case PR_GET_NO_NEW_PRIVS:
		return 1; /* the sandbox never grants privileges on exec */
	case PR_SET_NO_NEW_PRIVS:
		return a[1] == 1 && !a[2] && !a[3] && !a[4] ? 0 : -EINVAL;
	case PR_CAPBSET_READ:
		return a[1] <= 40 ? 0 : -EINVAL; /* no capabilities in the bounding set */
	default:
		return -EINVAL;
	}
}

/* ---- clone: threads and processes ---- */

static void copy_fpstate(struct kernel *k, struct context *from, struct context *to)
{
	size_t fsz = k->plat->ops->fpstate_size(k->plat);
	void *fp = malloc(fsz);
	if (fp && k->plat->ops->get_fpstate(from, fp, fsz) > 0)
		k->plat->ops->set_fpstate(to, fp, fsz);
	free(fp);
}

/* A new thread group for fork/vfork/clone without CLONE_THREAD. */
static struct thread_group *new_process(struct task *t, uint64_t flags, long *err)
{
	struct kernel *k = t->k;
	struct thread_group *p = t->tg, *tg = thread_group_alloc(k);
	*err = -ENOMEM;
	if (!tg)
		return NULL;
	if (flags & CLONE_VM) {
		tg->mm = p->mm;
		p->mm->refs++;
	} else if ((*err = mm_fork(p->mm, &tg->mm)) < 0) {
		free(tg);
		return NULL;
	}
	if (flags & CLONE_SIGHAND) {
		tg->sighand = p->sighand;
		p->sighand->refs++;
	} else if ((tg->sighand = malloc(sizeof(*tg->sighand)))) {
		*tg->sighand = *p->sighand;
		tg->sighand->refs = 1;
	}
	if (!tg->sighand) {
		mm_put(tg->mm);
		free(tg);
		*err = -ENOMEM;
		return NULL;
	}
	tg->cred = p->cred;
	memcpy(tg->rlim, p->rlim, sizeof(tg->rlim));
	tg->pgid = p->pgid;
	tg->sid = p->sid;
	tg->tty_dropped = p->tty_dropped;
	memcpy(tg->comm, task_comm(t), sizeof(tg->comm)); /* the forking thread's name */
	tg->exit_signal = (int)(flags & CSIGNAL);
	tg->parent = (flags & CLONE_PARENT) && p->parent ? p->parent : p;
	list_add_tail(&tg->sibling, &tg->parent->children);
	return tg;
}

/* Undoes new_process for a clone that failed before its first task existed. */
static void discard_new_process(struct thread_group *tg)
{
	list_del_init(&tg->sibling);
	mm_put(tg->mm);
	sighand_put(tg->sighand);
	free(tg);
}

/* The new task's fd table and fs context: the caller's under CLONE_FILES / CLONE_FS, else
 * copies. Threads too: Linux lets a thread have its own (clone without them, unshare). */
static long clone_files(struct task *t, struct thread_group *tg, uint64_t flags, struct fd_table **fdt,
			struct fs_ctx **fs)
{
	if (flags & CLONE_FILES) {
		*fdt = t->fdt;
		t->fdt->refs++;
	} else if ((*fdt = fdt_clone(t->fdt))) {
		(*fdt)->lock_owner = tg;
	}
	if (flags & CLONE_FS) {
		*fs = t->fs;
		t->fs->refs++;
	} else {
		*fs = fs_ctx_clone(t->fs);
	}
	if (*fdt && *fs)
		return 0;
	fdt_put(*fdt);
	fs_ctx_put(*fs);
	return -ENOMEM;
}

static long do_clone(struct task *t, uint64_t flags, uint64_t newsp, uint64_t ptid, uint64_t ctid,
		     uint64_t tls, uint64_t pidfd_out)
{
	struct kernel *k = t->k;
	bool thread = flags & CLONE_THREAD;
	const uint64_t supported = CSIGNAL | CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
				   CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID |
				   CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | CLONE_VFORK | CLONE_PARENT |
				   CLONE_DETACHED | CLONE_IO | CLONE_PIDFD;
	if ((flags & CLONE_FS) && (flags & CLONE_NEWNS))
		return -EINVAL; /* before the namespace flags are refused: Linux's order */
	if (flags & ~supported) {
		kernel_log("clone flags %#llx not supported", (unsigned long long)(flags & ~supported));
		return -EINVAL;
	}
	/* Linux's consistency rules (kernel/fork.c copy_process). */
	if ((flags & CLONE_THREAD) && !(flags & CLONE_SIGHAND))
		return -EINVAL;
	if ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM))
		return -EINVAL;
	if (thread && (flags & CSIGNAL))
		return -EINVAL;
	if ((flags & CLONE_PIDFD) && (thread || ((flags & CLONE_PARENT_SETTID) && !pidfd_out)))
		return -EINVAL;
	struct thread_group *tg = t->tg;
	long err = 0;
	if (!thread && !(tg = new_process(t, flags, &err)))
		return err;
	struct fd_table *fdt;
	struct fs_ctx *fs;
	if ((err = clone_files(t, tg, flags, &fdt, &fs)) < 0) {
		if (!thread)
			discard_new_process(tg);
		return err;
	}
	struct task *c = task_alloc(k, tg);
	if (!c) {
		fdt_put(fdt);
		fs_ctx_put(fs);
		if (!thread)
			discard_new_process(tg);
		return -EAGAIN;
	}
	c->fdt = fdt;
	c->fs = fs;
	if (!thread) {
		tg->tgid = c->tid;
		tg->leader = c;
	} else {
		memcpy(c->comm, task_comm(t), sizeof(c->comm));
	}
	err = k->plat->ops->new_context(tg->mm->as, &c->ctx);
	if (err < 0) {
		c->ctx = NULL;
		if (thread)
			task_exit(c, 0);
		else
			thread_group_exit(tg, 0);
		return -EAGAIN;
	}
	k->plat->ops->set_owner(c->ctx, c);
	copy_fpstate(k, t->ctx, c->ctx);
	c->regs = t->regs;
	c->regs.rax = 0;
	c->regs.orig_rax = (uint64_t)-1;
	if (newsp)
		c->regs.rsp = newsp;
	if (flags & CLONE_SETTLS)
		c->regs.fs_base = tls;
	c->sigmask = t->sigmask;
	c->cpumask = t->cpumask;
	if ((flags & CLONE_VM) && !(flags & CLONE_VFORK))
		c->altstack = (stack_t){.ss_flags = SS_DISABLE};
	else
		c->altstack = t->altstack;
	uint32_t tid = (uint32_t)c->tid;
	if (flags & CLONE_PIDFD) {
		/* clone puts the pidfd where clone3 puts it: at parent_tid (ptid) */
		struct file *pf;
		int pfd = -ENOMEM;
		if (pidfd_create(k, tg->tgid, 0, &pf) == 0) {
			pfd = fdt_install(t->fdt, pf, 0, true, fd_limit(t));
			file_put(pf);
		}
		int32_t v = pfd;
		if (pfd >= 0)
			copy_to_user(t->tg->mm, pidfd_out ? pidfd_out : ptid, &v, 4);
	}
	if (flags & CLONE_PARENT_SETTID)
		copy_to_user(t->tg->mm, ptid, &tid, 4);
	if (flags & CLONE_CHILD_SETTID)
		copy_to_user(tg->mm, ctid, &tid, 4);
	if (flags & CLONE_CHILD_CLEARTID)
		c->clear_child_tid = ctid;
	task_make_runnable(c);
	if (flags & CLONE_VFORK) {
		/* The parent waits (uninterruptibly, as on Linux) until the child has exec'd
		 * or exited, then returns the child's pid. */
		tg->vfork_parent = t;
		long r = task_block(t, NULL, 0);
		t->uninterruptible = true; /* the child runs on our stack until it execs */
		return r;
	}
	return c->tid;
}

SYSCALL(clone)
{
	/* x86-64 argument order: flags, newsp, parent_tid, child_tid, tls. A thread's exit
	 * signal is ignored here (Linux sets it to -1); only clone3 refuses one. */
	uint64_t flags = a[0] & CLONE_THREAD ? a[0] & ~(uint64_t)CSIGNAL : a[0];
	return do_clone(t, flags, a[1], a[2], a[3], a[4], 0);
}

/* unshare: the calling thread takes its own copy of what it shares (kernel/fork.c
 * ksys_unshare). CLONE_THREAD, CLONE_SIGHAND and CLONE_VM can only be "unshared" when
 * nothing shares them; namespaces are not served. */
SYSCALL(unshare)
{
	uint64_t flags = a[0];
	const uint64_t namespaces = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET |
				    CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWCGROUP | CLONE_NEWTIME;
	if (flags & ~(CLONE_THREAD | CLONE_FS | CLONE_SIGHAND | CLONE_VM | CLONE_FILES | CLONE_SYSVSEM |
		      namespaces))
		return -EINVAL;
	if (flags & namespaces) {
		kernel_log("unshare of namespaces %#llx not supported", (unsigned long long)(flags & namespaces));
		return -EINVAL;
	}
	if (flags & CLONE_VM)
		flags |= CLONE_SIGHAND;
	if (flags & CLONE_SIGHAND)
		flags |= CLONE_THREAD;
	struct thread_group *tg = t->tg;
	if ((flags & CLONE_THREAD) && tg->nlive > 1)
		return -EINVAL;
	if ((flags & (CLONE_SIGHAND | CLONE_VM)) && tg->sighand->refs > 1)
		return -EINVAL;
	if ((flags & CLONE_VM) && tg->mm->refs > 1)
		return -EINVAL;
	struct fd_table *fdt = NULL;
	struct fs_ctx *fs = NULL;
	if ((flags & CLONE_FILES) && t->fdt->refs > 1) {
		if (!(fdt = fdt_clone(t->fdt)))
			return -ENOMEM;
		fdt->lock_owner = tg;
	}
	if ((flags & CLONE_FS) && t->fs->refs > 1 && !(fs = fs_ctx_clone(t->fs))) {
		fdt_put(fdt);
		return -ENOMEM;
	}
	if (fdt) {
		fdt_put(t->fdt);
		t->fdt = fdt;
	}
	if (fs) {
		fs_ctx_put(t->fs);
		t->fs = fs;
	}
	return 0;
}

SYSCALL(clone3)
{
	struct clone_args ca;
	uint64_t size = a[1];
	if (size < 64 || size > 4096)
		return -EINVAL;
	memset(&ca, 0, sizeof(ca));
	if (copy_from_user(t->tg->mm, &ca, a[0], size < sizeof(ca) ? size : sizeof(ca)) < 0)
		return -EFAULT;
	if (ca.exit_signal & ~CSIGNAL || (ca.flags & CSIGNAL))
		return -EINVAL;
	if (ca.flags & (CLONE_INTO_CGROUP | CLONE_NEWTIME) || ca.set_tid || ca.set_tid_size)
		return -EINVAL;
	uint64_t sp = ca.stack ? ca.stack + ca.stack_size : 0;
	return do_clone(t, ca.flags | ca.exit_signal, sp, ca.parent_tid, ca.child_tid, ca.tls, ca.pidfd);
}

SYSCALL(fork)
{
	(void)a;
	return do_clone(t, SIGCHLD, 0, 0, 0, 0, 0);
}

SYSCALL(vfork)
{
	(void)a;
	return do_clone(t, CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0, 0, 0, 0);
}

/* ---- wait ---- */

static bool wait_matches(struct task *t, struct thread_group *c, int idtype, int id, int options)
{
	switch (idtype) {
	case P_PID:
		if (c->tgid != id)
			return false;
		break;
	case P_PGID:
		if (c->pgid != (id ? id : t->tg->pgid))
			return false;
		break;
	default:
		break;
	}
	/* __WCLONE waits only for children that do not send SIGCHLD; __WALL for both. */
	if (options & __WALL)
		return true;
	return (options & __WCLONE) ? c->exit_signal != SIGCHLD : c->exit_signal == SIGCHLD;
}

/* Finds a zombie child; -ECHILD when no child matches at all, 0 when one will later. */
static int find_child(struct task *t, int idtype, int id, int options, struct thread_group **zombie)
{
	bool any = false;
	*zombie = NULL;
	/* Children of every thread of the group count (they share one list here). */
	struct list_head *pos;
	list_for_each(pos, &t->tg->children)
	{
		struct thread_group *c = list_entry(pos, struct thread_group, sibling);
		if (!wait_matches(t, c, idtype, id, options))
			continue;
		any = true;
		if ((c->zombie && (options & WEXITED)) || ((options & WUNTRACED) && c->stopped && c->stop_unreported) ||
		    ((options & WCONTINUED) && c->cont_unreported)) {
			*zombie = c;
			return 1;
		}
	}
	return any ? 0 : -ECHILD;
}

static long do_wait(struct task *t, int idtype, int id, int options, uint64_t ustatus, uint64_t uinfo,
		    uint64_t urusage)
{
	struct thread_group *z;
	int r = find_child(t, idtype, id, options, &z);
	if (r < 0)
		return r;
	if (!z) {
		if (options & WNOHANG) {
			if (uinfo) {
				siginfo_t si = {0};
				if (copy_to_user(t->tg->mm, uinfo, &si, sizeof(si)) < 0)
					return -EFAULT;
			}
			return 0;
		}
		return task_block(t, &t->tg->child_exit, 0);
	}
	int status = z->exit_status, pid = z->tgid;
	if (!z->zombie) {
		/* A stop or a continue, reported once each. */
		bool stop = (options & WUNTRACED) && z->stopped && z->stop_unreported;
		status = stop ? (z->stop_signal << 8) | 0x7f : 0xffff;
		if (ustatus && copy_to_user(t->tg->mm, ustatus, &status, sizeof(status)) < 0)
			return -EFAULT;
		if (uinfo) {
			siginfo_t si = {0};
			si.si_signo = SIGCHLD;
			si.si_code = stop ? CLD_STOPPED : CLD_CONTINUED;
			si.si_pid = pid;
			si.si_uid = z->cred.ruid;
			si.si_status = stop ? z->stop_signal : SIGCONT;
			if (copy_to_user(t->tg->mm, uinfo, &si, sizeof(si)) < 0)
				return -EFAULT;
		}
		if (!(options & WNOWAIT)) {
			if (stop)
				z->stop_unreported = false;
			else
				z->cont_unreported = false;
		}
		return uinfo ? 0 : pid;
	}
	/* As Linux, the child is reaped even if storing its status faults. */
	long fault = 0;
	if (ustatus && copy_to_user(t->tg->mm, ustatus, &status, sizeof(status)) < 0)
		fault = -EFAULT;
	if (uinfo && !fault) {
		siginfo_t si = {0};
		si.si_signo = SIGCHLD;
		si.si_code = WIFSIGNALED(status) ? (WCOREDUMP(status) ? CLD_DUMPED : CLD_KILLED) : CLD_EXITED;
		si.si_pid = pid;
		si.si_uid = z->cred.ruid;
		si.si_status = WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status);
		if (copy_to_user(t->tg->mm, uinfo, &si, sizeof(si)) < 0)
			fault = -EFAULT;
	}
	if (urusage && !fault) {
		struct rusage ru = {0};
		ru.ru_utime = (struct timeval){(time_t)(z->utime_ns / 1000000000ull), (suseconds_t)(z->utime_ns % 1000000000ull / 1000)};
		ru.ru_stime = (struct timeval){(time_t)(z->stime_ns / 1000000000ull), (suseconds_t)(z->stime_ns % 1000000000ull / 1000)};
		if (copy_to_user(t->tg->mm, urusage, &ru, sizeof(ru)) < 0)
			fault = -EFAULT;
	}
	if (!(options & WNOWAIT)) {
		t->tg->cutime_ns += z->utime_ns + z->cutime_ns;
		t->tg->cstime_ns += z->stime_ns + z->cstime_ns;
		thread_group_release(z);
	}
	if (fault)
		return fault;
	return uinfo ? 0 : pid;
}

SYSCALL(wait4)
{
	int pid = (int)a[0], options = (int)a[2];
	if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL))
		return -EINVAL;
	int idtype = pid > 0 ? P_PID : pid == -1 ? P_ALL : P_PGID;
	int id = pid < -1 ? -pid : pid > 0 ? pid : 0;
	if (pid == INT32_MIN)
		return -ESRCH;
	return do_wait(t, idtype, id, options | WEXITED, a[1], 0, a[3]);
}

SYSCALL(waitid)
{
	int idtype = (int)a[0], id = (int)a[1], options = (int)a[3];
	if (options & ~(WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL))
		return -EINVAL;
	if (!(options & (WEXITED | WSTOPPED | WCONTINUED)))
		return -EINVAL;
	if (idtype == P_PIDFD) {
		struct file *f = fget(t, id);
		if (!f || pidfd_tgid(f) < 0)
			return -EBADF;
		idtype = P_PID;
		id = pidfd_tgid(f);
	}
	if (idtype != P_ALL && idtype != P_PID && idtype != P_PGID)
		return -EINVAL;
	/* waitid's WSTOPPED is wait4's WUNTRACED (the same bit). */
	return do_wait(t, idtype, id, options, 0, a[2], a[4]);
}

SYSCALL(exit)
{
	task_exit(t, (int)a[0]);
	return SYSCALL_NORETURN;
}

SYSCALL(exit_group)
{
	thread_group_exit(t->tg, ((int)a[0] & 0xff) << 8);
	return SYSCALL_NORETURN;
}

/* ---- execve ---- */

#define MAX_ARG_STRLEN (32 * 4096)
#define MAX_ARG_STRINGS 0x7FFFFFFF

static long copy_strv(struct task *t, uint64_t uv, char ***out, int *count, size_t *total, size_t limit)
{
	size_t cap = 16;
	int n = 0;
	char **v = calloc(cap, sizeof(char *));
	if (!v)
		return -ENOMEM;
	long err = 0;
	for (;; n++) {
		uint64_t p = 0;
		if (uv && copy_from_user(t->tg->mm, &p, uv + 8 * (uint64_t)n, 8) < 0) {
			err = -EFAULT;
			break;
		}
		if (!p)
			break;
		if ((size_t)n + 1 >= cap) {
			cap *= 2;
			char **nv = realloc(v, cap * sizeof(char *));
			if (!nv) {
				err = -ENOMEM;
				break;
			}
			v = nv;
		}
		char *s = malloc(MAX_ARG_STRLEN);
		if (!s) {
			err = -ENOMEM;
			break;
		}
		long len = strncpy_from_user(t->tg->mm, s, p, MAX_ARG_STRLEN);
		if (len < 0) {
			free(s);
			err = len == -ENAMETOOLONG ? -E2BIG : len;
			break;
		}
		*total += (size_t)len + 1 + 8;
		if (*total > limit) {
			free(s);
			err = -E2BIG;
			break;
		}
		char *shrunk = realloc(s, (size_t)len + 1);
		v[n] = shrunk ? shrunk : s;
	}
	if (err < 0) {
		for (int i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return err;
	}
	v[n] = NULL;
	*out = v;
	*count = n;
	return 0;
}

static void free_strv(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

SYSCALL(execve)
{
	char path[PATH_MAX];
	char **argv = NULL, **envp = NULL;
	int argc = 0, envc = 0;
	size_t total = 0;
	/* Linux limits argv+envp to a quarter of the stack limit. */
	size_t limit = t->tg->rlim[RLIMIT_STACK].rlim_cur / 4;
	if (limit < 32 * 4096 || limit > (6u << 20))
		limit = limit < 32 * 4096 ? 32 * 4096 : (6u << 20);
	long err = copy_path(t, a[0], path, false);
	if (err < 0)
		return err;
	if ((err = copy_strv(t, a[1], &argv, &argc, &total, limit)) < 0)
		return err;
	if ((err = copy_strv(t, a[2], &envp, &envc, &total, limit)) < 0) {
		free_strv(argv, argc);
		return err;
	}
	if (t->tg->nlive > 1) {
		/* Like Linux's de_thread: every other thread ends first. Those in the sentry
		 * end now; those running guest code are kicked and end when they stop, and
		 * this thread waits for them and then runs execve again. */
		free_strv(argv, argc);
		free_strv(envp, envc);
		struct list_head *pos, *n;
		list_for_each_safe(pos, n, &t->tg->tasks)
		{
			struct task *o = list_entry(pos, struct task, tg_link);
			if (o == t)
				continue;
			if (o->state == TASK_RUNNING) {
				o->exec_kill = true;
				t->k->plat->ops->interrupt(o->ctx);
			} else {
				task_exit(o, 0);
			}
		}
		if (t->tg->nlive > 1) {
			t->tg->exec_waiter = t;
			long r = task_block(t, NULL, 0);
			t->uninterruptible = true;
			return r;
		}
		return sys_execve(t, a); /* all gone already: go on */
	}
	t->tg->exec_waiter = NULL;
	if (t != t->tg->leader && t->tg->leader) {
		/* As Linux's de_thread: the exec'ing thread becomes the leader and takes its
		 * tid, so the new image has getpid() == gettid(). */
		struct thread_group *tg = t->tg;
		struct kernel *k = t->k;
		task_free(tg->leader);
		k->tasks[t->tid] = NULL;
		t->tid = tg->tgid;
		k->tasks[t->tid] = t;
		tg->leader = t;
	}
	err = loader_exec(t, path, argv, argc, envp, envc);
	free_strv(argv, argc);
	free_strv(envp, envc);
	if (err < 0)
		return err;
	vfork_done(t->tg);
	t->tg->did_exec = true;
	return SYSCALL_NORETURN;
}

static struct timeval ns_to_tv(uint64_t ns)
{
	return (struct timeval){(time_t)(ns / 1000000000ull), (suseconds_t)(ns % 1000000000ull / 1000)};
}

SYSCALL(getrusage)
{
	int who = (int)a[0];
	struct rusage ru;
	uint64_t u, s;
	memset(&ru, 0, sizeof(ru));
	switch (who) {
	case RUSAGE_SELF:
	case RUSAGE_THREAD:
		thread_group_cpu(t->tg, &u, &s);
		break;
	case RUSAGE_CHILDREN:
		u = t->tg->cutime_ns;
		s = t->tg->cstime_ns;
		break;
	default:
		return -EINVAL;
	}
	/* Memory and I/O counters are not kept yet: they read as zero. */
	ru.ru_utime = ns_to_tv(u);
	ru.ru_stime = ns_to_tv(s);
	return copy_to_user(t->tg->mm, a[1], &ru, sizeof(ru));
}

SYSCALL(times)
{
	uint64_t u, s;
	thread_group_cpu(t->tg, &u, &s);
	struct tms tm = {
		(clock_t)(u / 10000000ull), (clock_t)(s / 10000000ull),
		(clock_t)(t->tg->cutime_ns / 10000000ull), (clock_t)(t->tg->cstime_ns / 10000000ull),
	};
	if (a[0] && copy_to_user(t->tg->mm, a[0], &tm, sizeof(tm)) < 0)
		return -EFAULT;
	return (long)((now_ns() - t->k->boot_ns) / 10000000ull);
}

SYSCALL(pidfd_open)
{
	int pid = (int)a[0];
	unsigned flags = (unsigned)a[1];
	if (flags & ~O_NONBLOCK)
		return -EINVAL;
	if (pid <= 0)
		return -EINVAL;
	struct task *o = task_lookup(t->k, pid);
	if (!o || o->tg->tgid != pid)
		return -ESRCH;
	struct file *f;
	int err = pidfd_create(t->k, pid, (int)flags, &f);
	if (err < 0)
		return err;
	err = fdt_install(t->fdt, f, 0, true, fd_limit(t));
	file_put(f);
	return err;
}

SYSCALL(pidfd_send_signal)
{
	struct file *f = fget(t, (int)a[0]);
	int sig = (int)a[1];
	if (!f)
		return -EBADF;
	if (a[3])
		return -EINVAL;
	if (pidfd_tgid(f) < 0)
		return -EBADF;
	if (sig < 0 || sig > WARD_NSIG)
		return -EINVAL;
	bool exited = false;
	struct thread_group *tg = pidfd_target(f, &exited);
	if (!tg)
		return -ESRCH;
	siginfo_t si = {0};
	if (a[2]) {
		if (copy_from_user(t->tg->mm, &si, a[2], sizeof(si)) < 0)
			return -EFAULT;
		if (si.si_signo != sig)
			return -EINVAL;
		if ((si.si_code >= 0 || si.si_code == SI_TKILL) && tg != t->tg)
			return -EPERM;
	} else {
		si.si_signo = sig;
		si.si_code = SI_USER;
		si.si_pid = t->tg->tgid;
		si.si_uid = t->tg->cred.ruid;
	}
	if (sig)
		signal_send(tg->leader && tg->leader->state != TASK_DEAD ? tg->leader
								       : list_entry(tg->tasks.next, struct task, tg_link),
			    sig, &si, true);
	return 0;
}
