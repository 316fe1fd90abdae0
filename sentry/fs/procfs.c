/* /proc: generated from the sentry's own state, so it describes the sandbox and never the
 * host. This file is the tree (names, directories, links); file contents are produced when
 * a file is opened, by proc_pid.c and proc_sys.c. */
#include "sentry/fs/procfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum proc_kind {
	P_ROOT,
	P_SELF,
	P_THREAD_SELF,
	P_PID_DIR,  /* /proc/<pid> (or /proc/<tid> of a thread, which readdir does not list) */
	P_TASK_DIR, /* /proc/<pid>/task */
	P_TID_DIR,  /* /proc/<pid>/task/<tid> */
	P_FD_DIR,
	P_FD_LINK,
	P_FDINFO_DIR,
	P_FDINFO,
	P_EXE,
	P_CWD,
	P_ROOTLINK,
	P_CMDLINE,
	P_ENVIRON,
	P_COMM,
	P_STATUS,
	P_STAT,
	P_STATM,
	P_MAPS,
	P_SMAPS,
	P_AUXV,
	P_LIMITS,
	P_MOUNTS,
	P_MOUNTINFO,
	P_CGROUP,
	P_MEMINFO,
	P_VMSTAT,
	P_CPUINFO,
	P_UPTIME,
	P_LOADAVG,
	P_KSTAT,
	P_FILESYSTEMS,
	P_VERSION,
	P_SYS_DIR,
	P_SYS_KERNEL_DIR,
	P_SYS_VM_DIR,
	P_SYS_HOSTNAME,
	P_SYS_OSTYPE,
	P_SYS_OSRELEASE,
	P_SYS_PIDMAX,
	P_SYS_OVERCOMMIT,
	P_MOUNTS_LINK,
};

/* One /proc inode. Per-process nodes name their process by tgid (and thread by tid, 0 for
 * the process's own view) and look it up again at every use: the process may be gone. */
struct proc_node {
	struct kernel *k;
	enum proc_kind kind;
	int tgid, tid;
	int fd;
};

struct proc_name {
	const char *name;
	enum proc_kind kind;
	uint32_t mode;
};

static const struct proc_name root_names[] = {
	{"self", P_SELF, S_IFLNK | 0777},
	{"thread-self", P_THREAD_SELF, S_IFLNK | 0777},
	{"meminfo", P_MEMINFO, S_IFREG | 0444},
	{"vmstat", P_VMSTAT, S_IFREG | 0444},
	{"cpuinfo", P_CPUINFO, S_IFREG | 0444},
	{"uptime", P_UPTIME, S_IFREG | 0444},
	{"loadavg", P_LOADAVG, S_IFREG | 0444},
	{"stat", P_KSTAT, S_IFREG | 0444},
	{"filesystems", P_FILESYSTEMS, S_IFREG | 0444},
	{"version", P_VERSION, S_IFREG | 0444},
	{"mounts", P_MOUNTS_LINK, S_IFLNK | 0777},
	{"sys", P_SYS_DIR, S_IFDIR | 0555},
};

/* Entries of /proc/<pid>; those of task/<tid> are the same but "task". */
static const struct proc_name pid_names[] = {
	{"task", P_TASK_DIR, S_IFDIR | 0555},
	{"fd", P_FD_DIR, S_IFDIR | 0500},
	{"fdinfo", P_FDINFO_DIR, S_IFDIR | 0500},
	{"exe", P_EXE, S_IFLNK | 0777},
	{"cwd", P_CWD, S_IFLNK | 0777},
	{"root", P_ROOTLINK, S_IFLNK | 0777},
	{"cmdline", P_CMDLINE, S_IFREG | 0444},
	{"environ", P_ENVIRON, S_IFREG | 0400},
	{"comm", P_COMM, S_IFREG | 0644},
	{"status", P_STATUS, S_IFREG | 0444},
	{"stat", P_STAT, S_IFREG | 0444},
	{"statm", P_STATM, S_IFREG | 0444},
	{"maps", P_MAPS, S_IFREG | 0444},
	{"smaps", P_SMAPS, S_IFREG | 0444},
	{"auxv", P_AUXV, S_IFREG | 0400},
	{"limits", P_LIMITS, S_IFREG | 0444},
	{"mounts", P_MOUNTS, S_IFREG | 0444},
	{"mountinfo", P_MOUNTINFO, S_IFREG | 0444},
	{"cgroup", P_CGROUP, S_IFREG | 0444},
};

static const struct proc_name sys_names[] = {
	{"kernel", P_SYS_KERNEL_DIR, S_IFDIR | 0555},
	{"vm", P_SYS_VM_DIR, S_IFDIR | 0555},
};

static const struct proc_name sys_kernel_names[] = {
	{"hostname", P_SYS_HOSTNAME, S_IFREG | 0644},
	{"ostype", P_SYS_OSTYPE, S_IFREG | 0444},
	{"osrelease", P_SYS_OSRELEASE, S_IFREG | 0444},
	{"pid_max", P_SYS_PIDMAX, S_IFREG | 0644},
};

static const struct proc_name sys_vm_names[] = {
	{"overcommit_memory", P_SYS_OVERCOMMIT, S_IFREG | 0644},
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const struct inode_ops proc_inode_ops;

static struct inode *proc_inode(struct superblock *sb, struct kernel *k, enum proc_kind kind,
				uint32_t mode, int tgid, int tid, int fd)
{
	struct proc_node *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	*n = (struct proc_node){k, kind, tgid, tid, fd};
	struct inode *ino = inode_new(sb, &proc_inode_ops, mode, n);
	if (!ino) {
		free(n);
		return NULL;
	}
	ino->ino = ((uint64_t)tgid << 40) ^ ((uint64_t)tid << 18) ^ ((uint64_t)kind << 12) ^ (uint64_t)(fd & 0xfff);
	return ino;
}

struct thread_group *proc_next_group(struct kernel *k, struct thread_group *tg)
{
	if (!list_empty(&tg->children))
		return list_entry(tg->children.next, struct thread_group, sibling);
	/* Up until some ancestor has a next sibling. Each group is on its parent's list
	 * of children; init has no parent. */
	while (tg != k->init && tg->parent) {
		if (tg->sibling.next != &tg->parent->children)
			return list_entry(tg->sibling.next, struct thread_group, sibling);
		tg = tg->parent;
	}
	return NULL;
}

struct thread_group *proc_find_group(struct kernel *k, int tgid)
{
	struct task *t = task_lookup(k, tgid);
	if (t && t->tg->tgid == tgid)
		return t->tg;
	/* A zombie, or a process whose leader thread has ended: not in the tid table. */
	for (struct thread_group *tg = k->init; tg && tgid > 0; tg = proc_next_group(k, tg))
		if (tg->tgid == tgid)
			return tg;
	return NULL;
}

struct task *proc_find_thread(struct thread_group *tg, int tid)
{
	if (tid == tg->tgid)
		return tg->leader;
	struct list_head *pos;
	list_for_each(pos, &tg->tasks) {
		struct task *t = list_entry(pos, struct task, tg_link);
		if (t->tid == tid)
			return t;
	}
	return NULL;
}

static struct thread_group *node_tg(struct proc_node *n)
{
	struct thread_group *tg = proc_find_group(n->k, n->tgid);
	if (tg && n->tid && !proc_find_thread(tg, n->tid))
		return NULL;
	return tg;
}

/* The thread a node describes: its own, or the process's leader. */
static struct task *node_task(struct proc_node *n, struct thread_group *tg)
{
	return proc_find_thread(tg, n->tid ? n->tid : tg->tgid);
}

/* The fd table and fs context a node shows: its thread's (task/<tid>/fd), or the leader's
 * for /proc/<pid> as on Linux. NULL for a thread that has exited. */
static struct fd_table *node_fdt(struct proc_node *n)
{
	struct thread_group *tg = node_tg(n);
	struct task *t = tg ? node_task(n, tg) : NULL;
	return t ? t->fdt : NULL;
}

static struct fs_ctx *node_fs(struct proc_node *n)
{
	struct thread_group *tg = node_tg(n);
	struct task *t = tg ? node_task(n, tg) : NULL;
	return t ? t->fs : NULL;
}

static int names_lookup(struct inode *dir, const struct proc_name *names, size_t count,
			const char *name, struct inode **out)
{
	struct proc_node *pn = dir->priv;
	for (size_t i = 0; i < count; i++) {
		if (strcmp(names[i].name, name) == 0) {
			*out = proc_inode(dir->sb, pn->k, names[i].kind, names[i].mode, pn->tgid, pn->tid, 0);
			return *out ? 0 : -ENOMEM;
		}
	}
	return -ENOENT;
}

static int parse_num(const char *s)
{
	if (!*s || (s[0] == '0' && s[1]))
		return -1;
	long v = 0;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s) || v > 10000000)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return (int)v;
}

/* A fd/N link's mode shows how the file is open (l-wx------ for a write end). */
static uint32_t fd_link_mode(struct file *f)
{
	int acc = f->flags & O_ACCMODE;
	return S_IFLNK | (acc != O_WRONLY ? 0500 : 0) | (acc != O_RDONLY ? 0300 : 0);
}

static int lookup_pid(struct inode *dir, int pid, struct inode **out)
{
	struct proc_node *pn = dir->priv;
	int tgid = pid, tid = 0;
	if (!proc_find_group(pn->k, pid)) {
		/* /proc/<tid> of a thread works, though readdir does not list it. */
		struct task *t = task_lookup(pn->k, pid);
		if (!t)
			return -ENOENT;
		tgid = t->tg->tgid;
		tid = pid;
	}
	*out = proc_inode(dir->sb, pn->k, P_PID_DIR, S_IFDIR | 0555, tgid, tid, 0);
	return *out ? 0 : -ENOMEM;
}

static int proc_lookup(struct inode *dir, const char *name, struct inode **out)
{
	struct proc_node *pn = dir->priv;
	struct thread_group *tg;
	int num = parse_num(name);
	switch (pn->kind) {
	case P_ROOT:
		if (num > 0)
			return lookup_pid(dir, num, out);
		return names_lookup(dir, root_names, ARRAY_LEN(root_names), name, out);
	case P_PID_DIR:
		return names_lookup(dir, pid_names, ARRAY_LEN(pid_names), name, out);
	case P_TID_DIR:
		if (strcmp(name, "task") == 0)
			return -ENOENT;
		return names_lookup(dir, pid_names, ARRAY_LEN(pid_names), name, out);
	case P_TASK_DIR:
		if (!(tg = node_tg(pn)) || num <= 0 || !proc_find_thread(tg, num))
			return -ENOENT;
		*out = proc_inode(dir->sb, pn->k, P_TID_DIR, S_IFDIR | 0555, pn->tgid, num, 0);
		return *out ? 0 : -ENOMEM;
	case P_SYS_DIR:
		return names_lookup(dir, sys_names, ARRAY_LEN(sys_names), name, out);
	case P_SYS_KERNEL_DIR:
		return names_lookup(dir, sys_kernel_names, ARRAY_LEN(sys_kernel_names), name, out);
	case P_SYS_VM_DIR:
		return names_lookup(dir, sys_vm_names, ARRAY_LEN(sys_vm_names), name, out);
	case P_FD_DIR:
	case P_FDINFO_DIR: {
		struct fd_table *fdt = node_fdt(pn);
		if (!fdt || num < 0 || !fdt_get(fdt, num))
			return -ENOENT;
		bool link = pn->kind == P_FD_DIR;
		*out = proc_inode(dir->sb, pn->k, link ? P_FD_LINK : P_FDINFO,
				  link ? fd_link_mode(fdt_get(fdt, num)) : S_IFREG | 0400, pn->tgid, pn->tid, num);
		return *out ? 0 : -ENOMEM;
	}
	default:
		return -ENOTDIR;
	}
}

static bool proc_revalidate(struct inode *ino)
{
	struct proc_node *pn = ino->priv;
	if (pn->tgid == 0)
		return true;
	struct thread_group *tg = node_tg(pn);
	if (!tg)
		return false;
	if (pn->kind == P_FD_LINK || pn->kind == P_FDINFO) {
		struct fd_table *fdt = node_fdt(pn);
		struct file *f = fdt ? fdt_get(fdt, pn->fd) : NULL;
		/* the number may have been reused for a file open another way */
		return f && (pn->kind == P_FDINFO || ino->mode == fd_link_mode(f));
	}
	return true;
}

/* The open file a magic link stands for. */
static struct file *proc_magic_file(struct inode *ino)
{
	struct proc_node *pn = ino->priv;
	if (pn->kind != P_FD_LINK)
		return NULL;
	struct fd_table *fdt = node_fdt(pn);
	struct file *f = fdt ? fdt_get(fdt, pn->fd) : NULL;
	if (f)
		file_get(f);
	return f;
}

static long copy_link(const char *s, char *buf, size_t sz)
{
	size_t n = strlen(s);
	if (n > sz)
		n = sz;
	memcpy(buf, s, n);
	return (long)n;
}

static long file_link_text(struct kernel *k, struct file *f, char *buf, size_t sz)
{
	char tmp[4096];
	if (f->dentry) {
		long n = dentry_path(k->root, f->dentry, tmp, sizeof(tmp));
		if (n < 0)
			return n;
		return copy_link(tmp, buf, sz);
	}
	uint32_t mode = f->inode ? f->inode->mode : 0;
	const char *kind = S_ISFIFO(mode) ? "pipe" : S_ISSOCK(mode) ? "socket" : "anon_inode";
	if (S_ISCHR(mode))
		snprintf(tmp, sizeof(tmp), "/dev/pts/0");
	else if (anon_file_name(f))
		snprintf(tmp, sizeof(tmp), "anon_inode:%s", anon_file_name(f));
	else
		snprintf(tmp, sizeof(tmp), "%s:[%llu]", kind,
			 (unsigned long long)(f->inode ? f->inode->ino : 0));
	return copy_link(tmp, buf, sz);
}

static long proc_readlink(struct inode *ino, char *buf, size_t sz)
{
	struct proc_node *pn = ino->priv;
	struct task *cur = pn->k->current;
	char tmp[64];
	struct thread_group *tg;
	switch (pn->kind) {
	case P_SELF:
		if (!cur)
			return -ENOENT;
		snprintf(tmp, sizeof(tmp), "%d", cur->tg->tgid);
		return copy_link(tmp, buf, sz);
	case P_THREAD_SELF:
		if (!cur)
			return -ENOENT;
		snprintf(tmp, sizeof(tmp), "%d/task/%d", cur->tg->tgid, cur->tid);
		return copy_link(tmp, buf, sz);
	case P_MOUNTS_LINK:
		return copy_link("self/mounts", buf, sz);
	case P_EXE:
	case P_CWD:
	case P_ROOTLINK: {
		char path[4096];
		struct fs_ctx *fs = node_fs(pn);
		if (!(tg = node_tg(pn)) || !tg->mm || !fs)
			return -ENOENT; /* a zombie has neither */
		struct dentry *d = pn->kind == P_EXE ? tg->mm->exe : pn->kind == P_CWD ? fs->cwd : fs->root;
		if (!d)
			return -ENOENT;
		struct dentry *root = cur && cur->fs ? cur->fs->root : pn->k->root;
		long n = dentry_path(root, d, path, sizeof(path));
		return n < 0 ? n : copy_link(path, buf, sz);
	}
	case P_FD_LINK: {
		struct file *f = proc_magic_file(ino);
		if (!f)
			return -ENOENT;
		long n = file_link_text(pn->k, f, buf, sz);
		file_put(f);
		return n;
	}
	default:
		return -EINVAL;
	}
}

static void gen_user_range(struct gen *g, struct mm *mm, uint64_t start, uint64_t end)
{
	char chunk[4096];
	if (!mm)
		return;
	while (start < end) {
		size_t n = end - start < sizeof(chunk) ? end - start : sizeof(chunk);
		if (copy_from_user(mm, chunk, start, n) < 0)
			return;
		gen_bytes(g, chunk, n);
		start += n;
	}
}

static int generate(struct proc_node *pn, struct gen *g)
{
	struct kernel *k = pn->k;
	struct thread_group *tg = NULL;
	struct task *t = NULL;
	if (pn->tgid) {
		if (!(tg = node_tg(pn)))
			return -ESRCH;
		t = node_task(pn, tg);
	}
	uint64_t up_ns = now_ns() - k->boot_ns;
	double up = (double)up_ns / 1e9;
	switch (pn->kind) {
	case P_CMDLINE:
		if (tg->mm)
			gen_user_range(g, tg->mm, tg->mm->arg_start, tg->mm->arg_end);
		break;
	case P_ENVIRON:
		if (tg->mm)
			gen_user_range(g, tg->mm, tg->mm->env_start, tg->mm->env_end);
		break;
	case P_COMM:
		gen_printf(g, "%s\n", t ? task_comm(t) : tg->comm);
		break;
	case P_STATUS:
		proc_gen_status(g, tg, t);
		break;
	case P_STAT:
		proc_gen_stat(g, tg, t);
		break;
	case P_STATM:
		proc_gen_statm(g, tg);
		break;
	case P_MAPS:
	case P_SMAPS:
		proc_gen_maps(g, tg, pn->kind == P_SMAPS);
		break;
	case P_AUXV:
		if (tg->mm)
			gen_bytes(g, tg->mm->auxv, (size_t)tg->mm->nauxv * 8);
		break;
	case P_LIMITS:
		proc_gen_limits(g, tg);
		break;
	case P_FDINFO:
		return proc_gen_fdinfo(g, k, t ? t->fdt : NULL, pn->fd);
	case P_MOUNTS:
	case P_MOUNTINFO:
		proc_gen_mounts(g, tg, pn->kind == P_MOUNTINFO);
		break;
	case P_CGROUP:
		gen_printf(g, "0::/\n");
		break;
	case P_MEMINFO:
		proc_gen_meminfo(g, k);
		break;
	case P_VMSTAT:
		proc_gen_vmstat(g, k);
		break;
	case P_CPUINFO:
		proc_gen_cpuinfo(g, k);
		break;
	case P_UPTIME: {
		/* idle: the CPU time nobody in the sandbox used */
		uint64_t busy_ns = proc_busy_ns(k);
		double idle = up * (k->ncpus > 0 ? k->ncpus : 1) - (double)busy_ns / 1e9;
		/* In hundredths rounded up: a sandbox is younger than a host ever is, and a
		 * program read here in its first 5 ms must not see an uptime of 0.00. */
		uint64_t up_cs = (up_ns + 9999999) / 10000000;
		gen_printf(g, "%llu.%02llu %.2f\n", (unsigned long long)(up_cs / 100),
			   (unsigned long long)(up_cs % 100), idle > 0 ? idle : 0);
		break;
	}
	case P_LOADAVG:
		proc_gen_loadavg(g, k);
		break;
	case P_KSTAT:
		proc_gen_kstat(g, k);
		break;
	case P_FILESYSTEMS:
		gen_printf(g, "nodev\tsysfs\nnodev\ttmpfs\nnodev\tdevtmpfs\nnodev\tproc\nnodev\toverlay\n\text4\n");
		break;
	case P_VERSION:
		gen_printf(g, "Linux version 6.1.0-ward (ward@sandbox) #1 SMP PREEMPT_DYNAMIC\n");
		break;
	case P_SYS_HOSTNAME:
		gen_printf(g, "%s\n", k->hostname);
		break;
	case P_SYS_OSTYPE:
		gen_printf(g, "Linux\n");
		break;
	case P_SYS_OSRELEASE:
		gen_printf(g, "6.1.0-ward\n");
		break;
	case P_SYS_PIDMAX:
		gen_printf(g, "4194304\n");
		break;
	case P_SYS_OVERCOMMIT:
		gen_printf(g, "0\n");
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

static long proc_file_read(struct file *f, struct task *t, void *buf, size_t len, uint64_t *pos)
{
	(void)t;
	struct gen *g = f->priv;
	return read_from_buffer(g->buf, g->len, buf, len, pos);
}

static void proc_file_release(struct file *f)
{
	struct gen *g = f->priv;
	if (g)
		free(g->buf);
	free(g);
}

static long proc_seek_end(struct file *f)
{
	return (long)((struct gen *)f->priv)->len;
}

static const struct file_ops proc_file_ops = {
	.read = proc_file_read,
	.release = proc_file_release,
	.seek_end = proc_seek_end,
};

static long proc_write_eio(struct file *f, struct task *t, const void *buf, size_t len, uint64_t *pos)
{
	(void)f, (void)t, (void)buf, (void)len, (void)pos;
	return -EIO;
}

static const struct file_ops proc_global_ops = {
	.read = proc_file_read,
	.write = proc_write_eio,
	.release = proc_file_release,
	.seek_end = proc_seek_end,
};

/* comm: a thread of the process may rename it (or one of its threads) (Linux's comm_write); others get EINVAL.
 * As Linux, the bytes are taken as they are, a newline included, up to 15. */
static long proc_comm_write(struct file *f, struct task *t, const void *buf, size_t len, uint64_t *pos)
{
	(void)pos;
	struct proc_node *pn = f->inode->priv;
	struct thread_group *tg = node_tg(pn);
	struct task *target = tg ? node_task(pn, tg) : NULL;
	if (!target)
		return -ESRCH;
	if (!t || t->tg != tg)
		return -EINVAL;
	char name[16] = {0};
	memcpy(name, buf, len < 15 ? len : 15);
	memcpy(task_comm(target), name, sizeof(name));
	return (long)len;
}

static const struct file_ops proc_comm_ops = {
	.read = proc_file_read,
	.write = proc_comm_write,
	.release = proc_file_release,
	.seek_end = proc_seek_end,
};

static int names_getdents(struct file *f, struct dirent_sink *sink, const struct proc_name *names,
			  size_t count, const char *skip, const int *extra, size_t nextra,
			  unsigned extra_type)
{
	size_t n = 2 + count + nextra;
	struct synthetic_dirent *ents = calloc(n, sizeof(*ents));
	char (*numbers)[16] = calloc(nextra ? nextra : 1, 16);
	if (!ents || !numbers) {
		free(ents);
		free(numbers);
		return -ENOMEM;
	}
	ents[0] = (struct synthetic_dirent){".", f->inode->ino, DT_DIR};
	ents[1] = (struct synthetic_dirent){"..", 1, DT_DIR};
	size_t i = 2;
	for (size_t j = 0; j < nextra; j++, i++) {
		snprintf(numbers[j], 16, "%d", extra[j]);
		ents[i] = (struct synthetic_dirent){numbers[j], ((uint64_t)extra[j] << 16) + 1, extra_type};
	}
	for (size_t j = 0; j < count; j++) {
		if (skip && strcmp(names[j].name, skip) == 0)
			continue;
		ents[i++] = (struct synthetic_dirent){names[j].name, 1000 + j,
						      S_ISDIR(names[j].mode) ? DT_DIR : S_ISLNK(names[j].mode) ? DT_LNK : DT_REG};
	}
	int err = getdents_from_array(f, sink, ents, i);
	free(ents);
	free(numbers);
	return err;
}

struct pid_list {
	int *v;
	size_t n, cap;
};

static void pid_list_add(struct pid_list *l, int pid)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		int *nv = realloc(l->v, cap * sizeof(int));
		if (!nv)
			return;
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = pid;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static int proc_getdents(struct file *f, struct dirent_sink *sink)
{
	struct proc_node *pn = f->inode->priv;
	struct kernel *k = pn->k;
	struct thread_group *tg = pn->tgid ? node_tg(pn) : NULL;
	struct pid_list l = {0};
	int err;
	if (pn->tgid && !tg)
		return -ENOENT;
	switch (pn->kind) {
	case P_ROOT:
		/* zombies included, until reaped */
		for (struct thread_group *g = k->init; g; g = proc_next_group(k, g))
			pid_list_add(&l, g->tgid);
		qsort(l.v, l.n, sizeof(int), cmp_int);
		err = names_getdents(f, sink, root_names, ARRAY_LEN(root_names), NULL, l.v, l.n, DT_DIR);
		break;
	case P_PID_DIR:
		return names_getdents(f, sink, pid_names, ARRAY_LEN(pid_names), NULL, NULL, 0, 0);
	case P_TID_DIR:
		return names_getdents(f, sink, pid_names, ARRAY_LEN(pid_names), "task", NULL, 0, 0);
	case P_TASK_DIR: {
		pid_list_add(&l, tg->tgid); /* the leader, even when it has ended */
		struct list_head *pos;
		list_for_each(pos, &tg->tasks) {
			struct task *t = list_entry(pos, struct task, tg_link);
			if (t->tid != tg->tgid)
				pid_list_add(&l, t->tid);
		}
		qsort(l.v, l.n, sizeof(int), cmp_int);
		err = names_getdents(f, sink, NULL, 0, NULL, l.v, l.n, DT_DIR);
		break;
	}
	case P_SYS_DIR:
		return names_getdents(f, sink, sys_names, ARRAY_LEN(sys_names), NULL, NULL, 0, 0);
	case P_SYS_KERNEL_DIR:
		return names_getdents(f, sink, sys_kernel_names, ARRAY_LEN(sys_kernel_names), NULL, NULL, 0, 0);
	case P_SYS_VM_DIR:
		return names_getdents(f, sink, sys_vm_names, ARRAY_LEN(sys_vm_names), NULL, NULL, 0, 0);
	case P_FD_DIR:
	case P_FDINFO_DIR: {
		struct fd_table *fdt = node_fdt(pn);
		for (int i = 0; fdt && i < fdt->cap; i++)
			if (fdt->files[i])
				pid_list_add(&l, i);
		err = names_getdents(f, sink, NULL, 0, NULL, l.v, l.n, pn->kind == P_FD_DIR ? DT_LNK : DT_REG);
		break;
	}
	default:
		return -ENOTDIR;
	}
	free(l.v);
	return err;
}

static const struct file_ops proc_dir_ops = {
	.getdents = proc_getdents,
};

static int proc_open(struct inode *ino, struct file *f)
{
	struct proc_node *pn = ino->priv;
	if (S_ISDIR(ino->mode)) {
		if (pn->tgid && !node_tg(pn))
			return -ENOENT;
		f->ops = &proc_dir_ops;
		return 0;
	}
	/* Mode bits were checked by the caller (root passes them). Per-process files other
	 * than comm have no write (EINVAL from write, as the VFS), the system-wide ones say
	 * EIO as Linux's proc_reg_write; sysctls refuse the open (no sysctl is settable). */
	bool writing = (f->flags & O_ACCMODE) != O_RDONLY;
	if (writing && pn->kind >= P_SYS_HOSTNAME && pn->kind <= P_SYS_OVERCOMMIT)
		return -EACCES;
	struct gen *g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	int err = generate(pn, g);
	if (err < 0) {
		free(g->buf);
		free(g);
		return err;
	}
	f->priv = g;
	f->ops = pn->kind == P_COMM ? &proc_comm_ops : pn->tgid ? &proc_file_ops : &proc_global_ops;
	return 0;
}

static int proc_getattr(struct inode *ino, struct kstat *st)
{
	struct proc_node *pn = ino->priv;
	struct thread_group *tg = pn->tgid ? node_tg(pn) : NULL;
	if (tg) {
		st->uid = tg->cred.euid;
		st->gid = tg->cred.egid;
	}
	if (S_ISDIR(ino->mode))
		st->nlink = 2;
	uint64_t secs = proc_boot_time_ns(pn->k) / 1000000000ull;
	st->atime = st->mtime = st->ctime = (struct timespec){(time_t)secs, 0};
	return 0;
}

static void proc_release(struct inode *ino)
{
	free(ino->priv);
}

static const struct inode_ops proc_inode_ops = {
	.lookup = proc_lookup,
	.readlink = proc_readlink,
	.open = proc_open,
	.getattr = proc_getattr,
	.release = proc_release,
	.magic_file = proc_magic_file,
	.revalidate = proc_revalidate,
};

int procfs_new_root(struct kernel *k, struct dentry **out)
{
	struct superblock *sb = calloc(1, sizeof(*sb));
	if (!sb)
		return -ENOMEM;
	sb->fstype = "proc";
	sb->magic = 0x9fa0;
	sb->dev = 4;
	struct inode *ino = proc_inode(sb, k, P_ROOT, S_IFDIR | 0555, 0, 0, 0);
	if (!ino)
		return -ENOMEM;
	ino->ino = 1;
	*out = dentry_new_root(ino);
	return *out ? 0 : -ENOMEM;
}
