/* /proc: generated from the sentry's own state, so it describes the sandbox and never the
 * host. File contents are produced when the file is opened. */
#include "sentry/fs/fs.h"
#include "platform/ptrace/stub_layout.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum proc_kind {
	P_ROOT,
	P_SELF,
	P_THREAD_SELF,
	P_PID_DIR,
	P_FD_DIR,
	P_FD_LINK,
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
	P_AUXV,
	P_MOUNTS,
	P_MEMINFO,
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

struct proc_node {
	struct kernel *k;
	enum proc_kind kind;
	int tgid;
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
	{"cpuinfo", P_CPUINFO, S_IFREG | 0444},
	{"uptime", P_UPTIME, S_IFREG | 0444},
	{"loadavg", P_LOADAVG, S_IFREG | 0444},
	{"stat", P_KSTAT, S_IFREG | 0444},
	{"filesystems", P_FILESYSTEMS, S_IFREG | 0444},
	{"version", P_VERSION, S_IFREG | 0444},
	{"mounts", P_MOUNTS_LINK, S_IFLNK | 0777},
	{"sys", P_SYS_DIR, S_IFDIR | 0555},
};

static const struct proc_name pid_names[] = {
	{"fd", P_FD_DIR, S_IFDIR | 0500},
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
	{"auxv", P_AUXV, S_IFREG | 0400},
	{"mounts", P_MOUNTS, S_IFREG | 0444},
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
				uint32_t mode, int tgid, int fd)
{
	struct proc_node *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	*n = (struct proc_node){k, kind, tgid, fd};
	struct inode *ino = inode_new(sb, &proc_inode_ops, mode, n);
	if (!ino) {
		free(n);
		return NULL;
	}
	ino->ino = ((uint64_t)tgid << 16) | ((uint64_t)kind << 8) | (uint64_t)(fd & 0xff);
	return ino;
}

static struct thread_group *node_tg(struct proc_node *n)
{
	struct task *t = task_lookup(n->k, n->tgid);
	return t && t->tg->tgid == n->tgid && !t->tg->zombie ? t->tg : NULL;
}

static int names_lookup(struct inode *dir, const struct proc_name *names, size_t count,
			const char *name, int tgid, struct inode **out)
{
	struct proc_node *pn = dir->priv;
	for (size_t i = 0; i < count; i++) {
		if (strcmp(names[i].name, name) == 0) {
			*out = proc_inode(dir->sb, pn->k, names[i].kind, names[i].mode, tgid, 0);
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

static int proc_lookup(struct inode *dir, const char *name, struct inode **out)
{
	struct proc_node *pn = dir->priv;
	switch (pn->kind) {
	case P_ROOT: {
		int pid = parse_num(name);
		if (pid > 0) {
			struct task *t = task_lookup(pn->k, pid);
			if (!t || t->tg->tgid != pid)
				return -ENOENT;
			*out = proc_inode(dir->sb, pn->k, P_PID_DIR, S_IFDIR | 0555, pid, 0);
			return *out ? 0 : -ENOMEM;
		}
		return names_lookup(dir, root_names, ARRAY_LEN(root_names), name, 0, out);
	}
	case P_PID_DIR:
		return names_lookup(dir, pid_names, ARRAY_LEN(pid_names), name, pn->tgid, out);
	case P_SYS_DIR:
		return names_lookup(dir, sys_names, ARRAY_LEN(sys_names), name, 0, out);
	case P_SYS_KERNEL_DIR:
		return names_lookup(dir, sys_kernel_names, ARRAY_LEN(sys_kernel_names), name, 0, out);
	case P_SYS_VM_DIR:
		return names_lookup(dir, sys_vm_names, ARRAY_LEN(sys_vm_names), name, 0, out);
	case P_FD_DIR: {
		struct thread_group *tg = node_tg(pn);
		int fd = parse_num(name);
		if (!tg || fd < 0 || !fdt_get(tg->fdt, fd))
			return -ENOENT;
		*out = proc_inode(dir->sb, pn->k, P_FD_LINK, S_IFLNK | 0700, pn->tgid, fd);
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
	if (pn->kind == P_FD_LINK)
		return fdt_get(tg->fdt, pn->fd) != NULL;
	return true;
}

/* The open file a magic link stands for. */
static struct file *proc_magic_file(struct inode *ino)
{
	struct proc_node *pn = ino->priv;
	if (pn->kind != P_FD_LINK)
		return NULL;
	struct thread_group *tg = node_tg(pn);
	struct file *f = tg ? fdt_get(tg->fdt, pn->fd) : NULL;
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
		if (!(tg = node_tg(pn)))
			return -ENOENT;
		struct dentry *d = pn->kind == P_EXE ? tg->mm->exe : pn->kind == P_CWD ? tg->fs->cwd : tg->fs->root;
		if (!d)
			return -ENOENT;
		long n = dentry_path(pn->k->root, d, path, sizeof(path));
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

/* ---- generated file contents ---- */

struct gen {
	char *buf;
	size_t len, cap;
};

static void __attribute__((format(printf, 2, 3))) gen_printf(struct gen *g, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(g->buf ? g->buf + g->len : NULL, g->buf ? g->cap - g->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (g->buf && g->len + (size_t)n < g->cap) {
			g->len += (size_t)n;
			return;
		}
		size_t cap = g->cap ? g->cap * 2 : 4096;
		while (cap < g->len + (size_t)n + 1)
			cap *= 2;
		char *nb = realloc(g->buf, cap);
		if (!nb)
			return;
		g->buf = nb;
		g->cap = cap;
	}
}

static void gen_bytes(struct gen *g, const void *p, size_t n)
{
	if (g->len + n + 1 > g->cap) {
		size_t cap = g->cap ? g->cap : 4096;
		while (cap < g->len + n + 1)
			cap *= 2;
		char *nb = realloc(g->buf, cap);
		if (!nb)
			return;
		g->buf = nb;
		g->cap = cap;
	}
	memcpy(g->buf + g->len, p, n);
	g->len += n;
}

static void gen_user_range(struct gen *g, struct mm *mm, uint64_t start, uint64_t end)
{
	char chunk[4096];
	while (start < end) {
		size_t n = end - start < sizeof(chunk) ? end - start : sizeof(chunk);
		if (copy_from_user(mm, chunk, start, n) < 0)
			return;
		gen_bytes(g, chunk, n);
		start += n;
	}
}

static uint64_t mm_total_pages(struct mm *mm)
{
	uint64_t total = 0;
	for (size_t i = 0; i < mm->vmas.n; i++)
		total += (mm->vmas.v[i].end - mm->vmas.v[i].start) / 4096;
	return total;
}

static void gen_maps(struct gen *g, struct kernel *k, struct mm *mm)
{
	for (size_t i = 0; i < mm->vmas.n; i++) {
		const struct vma *v = &mm->vmas.v[i];
		char path[4096] = "";
		struct kstat st = {0};
		if (v->file) {
			struct dentry *d = v->file;
			dentry_path(k->root, d, path, sizeof(path));
			if (d->inode)
				inode_getattr(d->inode, &st);
		} else {
			snprintf(path, sizeof(path), "%s", v->name);
		}
		int len0 = (int)g->len;
		gen_printf(g, "%08llx-%08llx %c%c%c%c %08llx %02x:%02x %llu ", (unsigned long long)v->start,
			   (unsigned long long)v->end, v->prot & PROT_READ ? 'r' : '-',
			   v->prot & PROT_WRITE ? 'w' : '-', v->prot & PROT_EXEC ? 'x' : '-',
			   v->flags & VMA_SHARED ? 's' : 'p', (unsigned long long)(v->file ? v->file_off : 0),
			   (unsigned)((st.dev >> 8) & 0xfff), (unsigned)(st.dev & 0xff),
			   (unsigned long long)(v->file ? st.ino : 0));
		if (path[0]) {
			int used = (int)g->len - len0;
			gen_printf(g, "%*s%s", used < 73 ? 73 - used : 0, "", path);
		}
		gen_printf(g, "\n");
	}
}

static char task_state_char(struct thread_group *tg)
{
	if (tg->zombie)
		return 'Z';
	if (tg->stopped)
		return 'T';
	return tg->leader && tg->leader->state == TASK_BLOCKED ? 'S' : 'R';
}

static void gen_status(struct gen *g, struct thread_group *tg)
{
	struct ksigaction *act = tg->sighand->action;
	uint64_t ign = 0, cgt = 0;
	for (int s = 1; s <= WARD_NSIG; s++) {
		if (act[s - 1].handler == (uint64_t)SIG_IGN)
			ign |= SIGBIT(s);
		else if (act[s - 1].handler != (uint64_t)SIG_DFL)
			cgt |= SIGBIT(s);
	}
	uint64_t pages = mm_total_pages(tg->mm);
	const struct creds *c = &tg->cred;
	gen_printf(g,
		   "Name:\t%s\nUmask:\t%04o\nState:\t%c\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\n"
		   "TracerPid:\t0\nUid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\nFDSize:\t%d\nGroups:\t\n"
		   "NStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n"
		   "VmPeak:\t%8llu kB\nVmSize:\t%8llu kB\nVmRSS:\t%8llu kB\nThreads:\t%d\n"
		   "SigQ:\t0/63541\nSigPnd:\t%016llx\nShdPnd:\t%016llx\nSigBlk:\t%016llx\n"
		   "SigIgn:\t%016llx\nSigCgt:\t%016llx\nCapInh:\t0000000000000000\n"
		   "CapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000000\n"
		   "CapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\n"
		   "Cpus_allowed:\t3\nCpus_allowed_list:\t0-1\n",
		   tg->comm, tg->fs->umask, task_state_char(tg), tg->tgid, tg->tgid,
		   tg->parent ? tg->parent->tgid : 0, c->ruid, c->euid, c->suid, c->fsuid, c->rgid,
		   c->egid, c->sgid, c->fsgid, tg->fdt->cap, tg->tgid, tg->tgid, tg->pgid, tg->sid,
		   (unsigned long long)pages * 4, (unsigned long long)pages * 4,
		   (unsigned long long)pages * 4, tg->nlive,
		   (unsigned long long)(tg->leader ? tg->leader->pending.pending : 0),
		   (unsigned long long)tg->shared.pending,
		   (unsigned long long)(tg->leader ? tg->leader->sigmask : 0), (unsigned long long)ign,
		   (unsigned long long)cgt);
}

static void gen_stat(struct gen *g, struct kernel *k, struct thread_group *tg)
{
	uint64_t pages = mm_total_pages(tg->mm);
	uint64_t start_ticks = 0;
	(void)k;
	gen_printf(g,
		   "%d (%s) %c %d %d %d 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 %d 0 %llu %llu %llu "
		   "18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		   tg->tgid, tg->comm, task_state_char(tg), tg->parent ? tg->parent->tgid : 0, tg->pgid,
		   tg->sid, tg->nlive, (unsigned long long)start_ticks,
		   (unsigned long long)pages * 4096, (unsigned long long)pages);
}

static void gen_mounts(struct gen *g)
{
	gen_printf(g, "overlay / overlay rw,relatime 0 0\n"
		      "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
		      "devtmpfs /dev devtmpfs rw,nosuid,relatime,mode=755 0 0\n"
		      "tmpfs /tmp tmpfs rw,nosuid,nodev 0 0\n");
}

static void gen_meminfo(struct gen *g, struct kernel *k)
{
	uint64_t total_kb = 4ull << 20; /* the sandbox's memory, not the host's */
	uint64_t used_kb = k->mf.allocated / 1024;
	uint64_t free_kb = used_kb < total_kb ? total_kb - used_kb : 0;
	gen_printf(g,
		   "MemTotal:       %8llu kB\nMemFree:        %8llu kB\nMemAvailable:   %8llu kB\n"
		   "Buffers:               0 kB\nCached:                0 kB\nSwapCached:            0 kB\n"
		   "Active:         %8llu kB\nInactive:              0 kB\nSwapTotal:             0 kB\n"
		   "SwapFree:              0 kB\nDirty:                 0 kB\nShmem:                 0 kB\n"
		   "CommitLimit:    %8llu kB\nCommitted_AS:   %8llu kB\nVmallocTotal:   34359738367 kB\n"
		   "HugePages_Total:       0\nHugePages_Free:        0\nHugepagesize:       2048 kB\n",
		   (unsigned long long)total_kb, (unsigned long long)free_kb, (unsigned long long)free_kb,
		   (unsigned long long)used_kb, (unsigned long long)total_kb, (unsigned long long)used_kb);
}

static void gen_cpuinfo(struct gen *g, struct kernel *k)
{
	long n = k->ncpus;
	for (long i = 0; i < n; i++)
		gen_printf(g,
			   "processor\t: %ld\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 0\n"
			   "model name\t: ward virtual CPU\nstepping\t: 0\ncpu MHz\t\t: 2000.000\n"
			   "cache size\t: 0 KB\nphysical id\t: 0\nsiblings\t: %ld\ncore id\t\t: %ld\n"
			   "cpu cores\t: %ld\napicid\t\t: %ld\nfpu\t\t: yes\nfpu_exception\t: yes\n"
			   "cpuid level\t: 13\nwp\t\t: yes\nflags\t\t: fpu tsc sse sse2 ssse3 sse4_1 sse4_2\n"
			   "bogomips\t: 4000.00\nclflush size\t: 64\ncache_alignment\t: 64\n"
			   "address sizes\t: 46 bits physical, 48 bits virtual\npower management:\n\n",
			   i, n, i, n, i);
}

static int generate(struct proc_node *pn, struct gen *g)
{
	struct kernel *k = pn->k;
	struct thread_group *tg = NULL;
	if (pn->tgid && !(tg = node_tg(pn)))
		return -ESRCH;
	double up = (double)(now_ns() - k->boot_ns) / 1e9;
	switch (pn->kind) {
	case P_CMDLINE:
		gen_user_range(g, tg->mm, tg->mm->arg_start, tg->mm->arg_end);
		break;
	case P_ENVIRON:
		gen_user_range(g, tg->mm, tg->mm->env_start, tg->mm->env_end);
		break;
	case P_COMM:
		gen_printf(g, "%s\n", tg->comm);
		break;
	case P_STATUS:
		gen_status(g, tg);
		break;
	case P_STAT:
		gen_stat(g, k, tg);
		break;
	case P_STATM: {
		unsigned long long p = mm_total_pages(tg->mm);
		gen_printf(g, "%llu %llu 0 0 0 %llu 0\n", p, p, p);
		break;
	}
	case P_MAPS:
		gen_maps(g, k, tg->mm);
		break;
	case P_AUXV:
		gen_bytes(g, tg->mm->auxv, (size_t)tg->mm->nauxv * 8);
		break;
	case P_MOUNTS:
		gen_mounts(g);
		break;
	case P_MEMINFO:
		gen_meminfo(g, k);
		break;
	case P_CPUINFO:
		gen_cpuinfo(g, k);
		break;
	case P_UPTIME:
		gen_printf(g, "%.2f %.2f\n", up, up);
		break;
	case P_LOADAVG:
		gen_printf(g, "0.00 0.00 0.00 1/%d %d\n", k->nlive_tasks, k->next_tid - 1);
		break;
	case P_KSTAT:
		gen_printf(g, "cpu  0 0 0 0 0 0 0 0 0 0\nctxt 0\nbtime %llu\nprocesses %d\n"
			      "procs_running 1\nprocs_blocked 0\n",
			   (unsigned long long)((realtime_ns() - (now_ns() - k->boot_ns)) / 1000000000ull),
			   k->next_tid - 1);
		break;
	case P_FILESYSTEMS:
		gen_printf(g, "nodev\tproc\nnodev\ttmpfs\nnodev\tdevtmpfs\n\text4\n");
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

static int names_getdents(struct file *f, struct dirent_sink *sink, const struct proc_name *names,
			  size_t count, const int *extra, size_t nextra)
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
		ents[i] = (struct synthetic_dirent){numbers[j], ((uint64_t)extra[j] << 16) + 1,
						   f->inode->mode == (S_IFDIR | 0500) ? DT_LNK : DT_DIR};
	}
	for (size_t j = 0; j < count; j++, i++)
		ents[i] = (struct synthetic_dirent){names[j].name, 1000 + j,
						   S_ISDIR(names[j].mode) ? DT_DIR : S_ISLNK(names[j].mode) ? DT_LNK : DT_REG};
	int err = getdents_from_array(f, sink, ents, n);
	free(ents);
	free(numbers);
	return err;
}

static int proc_getdents(struct file *f, struct dirent_sink *sink)
{
	struct proc_node *pn = f->inode->priv;
	struct kernel *k = pn->k;
	switch (pn->kind) {
	case P_ROOT: {
		int *pids = calloc((size_t)k->task_cap + 1, sizeof(int));
		size_t np = 0;
		if (!pids)
			return -ENOMEM;
		for (int i = 1; i < k->task_cap; i++) {
			struct task *t = task_lookup(k, i);
			if (t && t->tg->tgid == i)
				pids[np++] = i;
		}
		int err = names_getdents(f, sink, root_names, ARRAY_LEN(root_names), pids, np);
		free(pids);
		return err;
	}
	case P_PID_DIR:
		return names_getdents(f, sink, pid_names, ARRAY_LEN(pid_names), NULL, 0);
	case P_SYS_DIR:
		return names_getdents(f, sink, sys_names, ARRAY_LEN(sys_names), NULL, 0);
	case P_SYS_KERNEL_DIR:
		return names_getdents(f, sink, sys_kernel_names, ARRAY_LEN(sys_kernel_names), NULL, 0);
	case P_SYS_VM_DIR:
		return names_getdents(f, sink, sys_vm_names, ARRAY_LEN(sys_vm_names), NULL, 0);
	case P_FD_DIR: {
		struct thread_group *tg = node_tg(pn);
		if (!tg)
			return -ENOENT;
		int *fds = calloc((size_t)tg->fdt->cap + 1, sizeof(int));
		size_t nf = 0;
		if (!fds)
			return -ENOMEM;
		for (int i = 0; i < tg->fdt->cap; i++)
			if (tg->fdt->files[i])
				fds[nf++] = i;
		int err = names_getdents(f, sink, NULL, 0, fds, nf);
		free(fds);
		return err;
	}
	default:
		return -ENOTDIR;
	}
}

static const struct file_ops proc_dir_ops = {
	.getdents = proc_getdents,
};

static int proc_open(struct inode *ino, struct file *f)
{
	struct proc_node *pn = ino->priv;
	if (S_ISDIR(ino->mode)) {
		f->ops = &proc_dir_ops;
		return 0;
	}
	if ((f->flags & O_ACCMODE) != O_RDONLY)
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
	f->ops = &proc_file_ops;
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
	uint64_t secs = (realtime_ns() - (now_ns() - pn->k->boot_ns)) / 1000000000ull;
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
	struct inode *ino = proc_inode(sb, k, P_ROOT, S_IFDIR | 0555, 0, 0);
	if (!ino)
		return -ENOMEM;
	ino->ino = 1;
	*out = dentry_new_root(ino);
	return *out ? 0 : -ENOMEM;
}
