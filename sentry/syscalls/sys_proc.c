/* Process and thread syscalls: ids, clone (threads), execve, exit, limits, uname, prctl. */
#include "sentry/kernel/futex.h"
#include "sentry/syscalls/syscalls.h"

#include <asm/prctl.h>
#include <errno.h>
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
	if (tg->sid != t->tg->sid)
		return -EPERM;
	if (tg->sid == tg->tgid)
		return -EPERM; /* a session leader cannot move */
	tg->pgid = pgid ? pgid : tg->tgid;
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
		memcpy(t->tg->comm, name, sizeof(name));
		return 0;
	case PR_GET_NAME:
		return copy_to_user(t->tg->mm, a[1], t->tg->comm, 16);
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

/* ---- threads ---- */

static long clone_thread(struct task *t, uint64_t flags, uint64_t newsp, uint64_t ptid, uint64_t ctid,
			 uint64_t tls)
{
	struct kernel *k = t->k;
	const uint64_t need = CLONE_VM | CLONE_THREAD | CLONE_SIGHAND;
	if ((flags & need) != need) {
		kernel_log("clone without CLONE_VM|CLONE_THREAD (a new process) is not implemented yet");
		return -ENOSYS;
	}
	if (!(flags & CLONE_FS) || !(flags & CLONE_FILES))
		return -EINVAL; /* threads share these in every libc; separate ones come later */
	struct task *c = task_alloc(k, t->tg);
	if (!c)
		return -EAGAIN;
	int err = k->plat->ops->new_context(t->tg->mm->as, &c->ctx);
	if (err < 0) {
		c->ctx = NULL;
		task_exit(c, 0);
		return -EAGAIN;
	}
	k->plat->ops->set_owner(c->ctx, c);
	c->regs = t->regs;
	c->regs.rax = 0;
	if (newsp)
		c->regs.rsp = newsp;
	if (flags & CLONE_SETTLS)
		c->regs.fs_base = tls;
	c->sigmask = t->sigmask;
	c->altstack = (stack_t){.ss_flags = SS_DISABLE};
	/* The new host thread starts with the stub's clean FPU state; give it the
	 * parent's, as Linux copies it on clone. */
	size_t fsz = k->plat->ops->fpstate_size(k->plat);
	void *fp = malloc(fsz);
	if (fp && k->plat->ops->get_fpstate(t->ctx, fp, fsz) > 0)
		k->plat->ops->set_fpstate(c->ctx, fp, fsz);
	free(fp);
	uint32_t tid = (uint32_t)c->tid;
	if (flags & CLONE_PARENT_SETTID)
		copy_to_user(t->tg->mm, ptid, &tid, 4);
	if (flags & CLONE_CHILD_SETTID)
		copy_to_user(t->tg->mm, ctid, &tid, 4);
	if (flags & CLONE_CHILD_CLEARTID)
		c->clear_child_tid = ctid;
	c->regs.orig_rax = (uint64_t)-1;
	task_make_runnable(c);
	return c->tid;
}

SYSCALL(clone)
{
	/* x86-64 argument order: flags, newsp, parent_tid, child_tid, tls */
	return clone_thread(t, a[0], a[1], a[2], a[3], a[4]);
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
	if (ca.exit_signal && (ca.flags & CLONE_THREAD))
		return -EINVAL;
	uint64_t sp = ca.stack ? ca.stack + ca.stack_size : 0;
	return clone_thread(t, ca.flags, sp, ca.parent_tid, ca.child_tid, ca.tls);
}

SYSCALL(fork)
{
	(void)t;
	(void)a;
	kernel_log("fork is not implemented yet");
	return -ENOSYS;
}

SYSCALL(vfork)
{
	(void)t;
	(void)a;
	kernel_log("vfork is not implemented yet");
	return -ENOSYS;
}

SYSCALL(wait4)
{
	(void)a;
	/* Without fork there are never children to wait for. */
	return list_empty(&t->tg->children) ? -ECHILD : -ENOSYS;
}

SYSCALL(waitid)
{
	(void)a;
	return list_empty(&t->tg->children) ? -ECHILD : -ENOSYS;
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
		free_strv(argv, argc);
		free_strv(envp, envc);
		kernel_log("execve from a multi-threaded process is not implemented yet");
		return -ENOSYS;
	}
	err = loader_exec(t, path, argv, argc, envp, envc);
	free_strv(argv, argc);
	free_strv(envp, envc);
	return err < 0 ? err : SYSCALL_NORETURN;
}
