/* System-wide files of /proc (meminfo, cpuinfo, stat, loadavg) and the mount table
 * (mounts, mountinfo, fdinfo's mnt_id), all from the sandbox's own state. */
#include "sentry/fs/procfs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Without a memory limit the sandbox reports this much memory (also the size statfs
 * gives tmpfs). */
#define SANDBOX_DEFAULT_MEMORY (4ull << 30)

void gen_printf(struct gen *g, const char *fmt, ...)
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

void gen_bytes(struct gen *g, const void *p, size_t n)
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

uint64_t proc_boot_time_ns(struct kernel *k)
{
	return realtime_ns() - (now_ns() - k->boot_ns);
}

uint64_t proc_mem_total(struct kernel *k)
{
	return k->mf.limit ? k->mf.limit : SANDBOX_DEFAULT_MEMORY;
}

uint64_t proc_resident_bytes(struct kernel *k, uint64_t off, uint64_t len)
{
	uint64_t end = off + len, total = 0;
	while (off < end) {
		off_t data = lseek(k->mf.fd, (off_t)off, SEEK_DATA);
		if (data < 0 || (uint64_t)data >= end)
			break;
		off_t hole = lseek(k->mf.fd, data, SEEK_HOLE);
		if (hole < 0)
			hole = (off_t)end;
		uint64_t stop = (uint64_t)hole < end ? (uint64_t)hole : end;
		total += stop - (uint64_t)data;
		off = stop;
	}
	return total;
}

/* ---- memory and CPU ---- */

static void meminfo_line(struct gen *g, const char *name, uint64_t kb)
{
	char label[32];
	snprintf(label, sizeof(label), "%s:", name);
	gen_printf(g, "%-16s%8llu kB\n", label, (unsigned long long)kb);
}

void proc_gen_meminfo(struct gen *g, struct kernel *k)
{
	uint64_t total = proc_mem_total(k) / 1024;
	uint64_t used = k->mf.allocated / 1024;
	uint64_t free_kb = used < total ? total - used : 0;
	meminfo_line(g, "MemTotal", total);
	meminfo_line(g, "MemFree", free_kb);
	meminfo_line(g, "MemAvailable", free_kb);
	meminfo_line(g, "Buffers", 0);
	meminfo_line(g, "Cached", 0);
	meminfo_line(g, "SwapCached", 0);
	meminfo_line(g, "Active", used);
	meminfo_line(g, "Inactive", 0);
	meminfo_line(g, "Active(anon)", used);
	meminfo_line(g, "Inactive(anon)", 0);
	meminfo_line(g, "Active(file)", 0);
	meminfo_line(g, "Inactive(file)", 0);
	meminfo_line(g, "Unevictable", 0);
	meminfo_line(g, "Mlocked", 0);
	meminfo_line(g, "SwapTotal", 0);
	meminfo_line(g, "SwapFree", 0);
	meminfo_line(g, "Dirty", 0);
	meminfo_line(g, "Writeback", 0);
	meminfo_line(g, "AnonPages", used);
	meminfo_line(g, "Mapped", 0);
	meminfo_line(g, "Shmem", 0);
	meminfo_line(g, "KReclaimable", 0);
	meminfo_line(g, "Slab", 0);
	meminfo_line(g, "SReclaimable", 0);
	meminfo_line(g, "SUnreclaim", 0);
	meminfo_line(g, "KernelStack", 0);
	meminfo_line(g, "PageTables", 0);
	meminfo_line(g, "CommitLimit", total);
	meminfo_line(g, "Committed_AS", used);
	meminfo_line(g, "VmallocTotal", 34359738367ull);
	meminfo_line(g, "VmallocUsed", 0);
	meminfo_line(g, "VmallocChunk", 0);
	gen_printf(g, "HugePages_Total:       0\nHugePages_Free:        0\nHugePages_Rsvd:        0\n"
		      "HugePages_Surp:        0\n");
	meminfo_line(g, "Hugepagesize", 2048);
	meminfo_line(g, "Hugetlb", 0);
}

/* Page counts as /proc/vmstat names them; event counters the sentry does not keep are 0. */
void proc_gen_vmstat(struct gen *g, struct kernel *k)
{
	uint64_t total = proc_mem_total(k) / 4096, used = k->mf.allocated / 4096;
	uint64_t free_pages = used < total ? total - used : 0;
	static const char *const zero[] = {
		"nr_inactive_anon", "nr_inactive_file", "nr_active_file", "nr_unevictable", "nr_mlock",
		"nr_mapped", "nr_file_pages", "nr_dirty", "nr_writeback", "nr_shmem", "nr_kernel_stack",
		"nr_page_table_pages", "pgpgin", "pgpgout", "pswpin", "pswpout", "pgfault", "pgmajfault",
		"pgfree", "pgactivate", "pgdeactivate", "pgsteal_kswapd", "pgscan_kswapd", "oom_kill",
	};
	gen_printf(g, "nr_free_pages %llu\nnr_active_anon %llu\nnr_anon_pages %llu\n",
		   (unsigned long long)free_pages, (unsigned long long)used, (unsigned long long)used);
	for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
		gen_printf(g, "%s 0\n", zero[i]);
}

void proc_gen_cpuinfo(struct gen *g, struct kernel *k)
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

struct cpu_totals {
	uint64_t user_ns, sys_ns;
	int running, blocked;
};

static void add_group_cpu(struct thread_group *tg, struct cpu_totals *c)
{
	uint64_t u, s;
	thread_group_cpu(tg, &u, &s);
	c->user_ns += u + tg->cutime_ns;
	c->sys_ns += s + tg->cstime_ns;
	struct list_head *pos;
	list_for_each(pos, &tg->tasks) {
		struct task *t = list_entry(pos, struct task, tg_link);
		if (t->state == TASK_RUNNING || t->state == TASK_RUNNABLE)
			c->running++;
	}
}

static struct cpu_totals cpu_totals(struct kernel *k)
{
	struct cpu_totals c = {0};
	for (struct thread_group *tg = k->init; tg; tg = proc_next_group(k, tg))
		add_group_cpu(tg, &c);
	if (c.running == 0)
		c.running = 1; /* the reader */
	return c;
}

uint64_t proc_busy_ns(struct kernel *k)
{
	struct cpu_totals c = cpu_totals(k);
	return c.user_ns + c.sys_ns;
}

void proc_gen_kstat(struct gen *g, struct kernel *k)
{
	struct cpu_totals c = cpu_totals(k);
	int n = k->ncpus > 0 ? k->ncpus : 1;
	uint64_t up_ticks = (now_ns() - k->boot_ns) / (1000000000ull / PROC_HZ);
	uint64_t user = c.user_ns / (1000000000ull / PROC_HZ), sys = c.sys_ns / (1000000000ull / PROC_HZ);
	uint64_t busy = user + sys, all = up_ticks * (uint64_t)n;
	uint64_t idle = all > busy ? all - busy : 0;
	gen_printf(g, "cpu  %llu 0 %llu %llu 0 0 0 0 0 0\n", (unsigned long long)user,
		   (unsigned long long)sys, (unsigned long long)idle);
	for (int i = 0; i < n; i++)
		gen_printf(g, "cpu%d %llu 0 %llu %llu 0 0 0 0 0 0\n", i, (unsigned long long)(user / n),
			   (unsigned long long)(sys / n), (unsigned long long)(idle / n));
	gen_printf(g, "intr 0\nctxt 0\nbtime %llu\nprocesses %d\nprocs_running %d\nprocs_blocked 0\n"
		      "softirq 0 0 0 0 0 0 0 0 0 0 0\n",
		   (unsigned long long)(proc_boot_time_ns(k) / 1000000000ull), k->next_tid - 1, c.running);
}

void proc_gen_loadavg(struct gen *g, struct kernel *k)
{
	struct cpu_totals c = cpu_totals(k);
	gen_printf(g, "0.00 0.00 0.00 %d/%d %d\n", c.running, k->nlive_tasks, k->next_tid - 1);
}

/* ---- the mount table ---- */

struct mount_rec {
	struct dentry *root; /* the mounted filesystem's root dentry */
	struct dentry *mp;   /* where it is mounted (NULL for the sandbox's root) */
	int id, parent;
};

struct mount_list {
	struct mount_rec *v;
	int n, cap;
};

enum { ROOT_MOUNT_ID = 21 };

static void mounts_add(struct mount_list *l, struct dentry *root, struct dentry *mp, int parent)
{
	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 16;
		struct mount_rec *nv = realloc(l->v, (size_t)cap * sizeof(*nv));
		if (!nv)
			return;
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n] = (struct mount_rec){root, mp, ROOT_MOUNT_ID + l->n, parent};
	l->n++;
}

static void mounts_under(struct mount_list *l, struct dentry *dir, int id);

/* The mounts stacked on d (each on the one before), and those inside them. */
static void mounts_on(struct mount_list *l, struct dentry *d, int parent)
{
	for (struct dentry *m = d->mounted; m; m = m->mounted) {
		mounts_add(l, m, d, parent);
		parent = l->v[l->n - 1].id;
		mounts_under(l, m, parent);
	}
}

/* The mounts on dentries under dir, in its own filesystem. The walk is iterative: the
 * guest decides how deep directories go; only mounts (made at boot) nest the recursion. */
static void mounts_under(struct mount_list *l, struct dentry *dir, int id)
{
	struct dentry *c = dir->children;
	while (c) {
		if (c->mounted)
			mounts_on(l, c, id);
		else if (c->children) {
			c = c->children;
			continue;
		}
		while (c != dir && !c->next_sibling)
			c = c->parent;
		if (c == dir)
			break;
		c = c->next_sibling;
	}
}

/* Every mount of the sandbox, parents before children, numbered in that order (mounts are
 * made at boot only, so the numbers are stable). */
static struct mount_list mounts_collect(struct kernel *k)
{
	struct mount_list l = {0};
	mounts_add(&l, k->root, NULL, 1);
	if (l.n)
		mounts_under(&l, k->root, ROOT_MOUNT_ID);
	return l;
}

int proc_mount_id(struct kernel *k, struct dentry *d)
{
	while (!d->mountpoint && d->parent != d && d->parent)
		d = d->parent;
	struct mount_list l = mounts_collect(k);
	int id = ROOT_MOUNT_ID;
	for (int i = 0; i < l.n; i++)
		if (l.v[i].root == d)
			id = l.v[i].id;
	free(l.v);
	return id;
}

static bool dentry_under(struct dentry *d, struct dentry *root)
{
	for (;;) {
		if (d == root)
			return true;
		if (d->mountpoint)
			d = d->mountpoint;
		else if (d->parent && d->parent != d)
			d = d->parent;
		else
			return false;
	}
}

/* As the kernel's mangle(): space, tab, newline and backslash in octal. */
static void gen_escaped(struct gen *g, const char *s)
{
	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\\')
			gen_printf(g, "\\%03o", (unsigned char)*s);
		else
			gen_bytes(g, s, 1);
	}
}

struct fs_style {
	const char *fstype, *source, *options;
};

static struct fs_style fs_style(struct superblock *sb)
{
	const char *t = sb->fstype;
	if (strcmp(t, "proc") == 0)
		return (struct fs_style){"proc", "proc", "rw,nosuid,nodev,noexec,relatime"};
	if (strcmp(t, "sysfs") == 0)
		return (struct fs_style){"sysfs", "sysfs", "ro,nosuid,nodev,noexec,relatime"};
	if (strcmp(t, "devtmpfs") == 0)
		return (struct fs_style){"devtmpfs", "devtmpfs", "rw,nosuid,relatime"};
	if (strcmp(t, "tmpfs") == 0)
		return (struct fs_style){"tmpfs", "tmpfs", "rw,nosuid,nodev,relatime"};
	if (strcmp(t, "overlay") == 0)
		return (struct fs_style){"overlay", "overlay", "rw,relatime"};
	/* A host directory through the gofer: no host device name is shown. */
	return (struct fs_style){t, "none", sb->readonly ? "ro,relatime" : "rw,relatime"};
}

void proc_gen_mounts(struct gen *g, struct thread_group *tg, bool mountinfo)
{
	struct kernel *k = tg->k;
	struct dentry *root = group_fs(tg) ? group_fs(tg)->root : k->root;
	struct mount_list l = mounts_collect(k);
	for (int i = 0; i < l.n; i++) {
		struct mount_rec *m = &l.v[i];
		struct dentry *at = m->mp ? m->mp : m->root;
		char path[4096];
		if (!dentry_under(at, root) || dentry_path(root, at, path, sizeof(path)) < 0)
			continue; /* outside this process's root (chroot) */
		struct superblock *sb = m->root->inode->sb;
		struct fs_style st = fs_style(sb);
		if (mountinfo) {
			gen_printf(g, "%d %d %u:%u / ", m->id, m->parent, major(sb->dev), minor(sb->dev));
			gen_escaped(g, path);
			gen_printf(g, " %s - %s %s %s\n", st.options, st.fstype, st.source,
				   strncmp(st.options, "ro", 2) == 0 ? "ro" : "rw");
		} else {
			gen_printf(g, "%s ", st.source);
			gen_escaped(g, path);
			gen_printf(g, " %s %s 0 0\n", st.fstype, st.options);
		}
	}
	free(l.v);
}
