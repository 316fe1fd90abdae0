/* /sys: a minimal, read-only sysfs made by the sentry. It holds what libraries read to
 * size themselves (the CPU lists glibc's sysconf and Python read, transparent huge pages)
 * and an empty cgroup directory; nothing of the host's /sys. The CPUs are the sandbox's:
 * the same set sched_getaffinity reports. */
#include "sentry/fs/procfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum sys_node {
	S_ROOT,
	S_DEVICES,
	S_SYSTEM,
	S_CPU,
	S_CPU_ONLINE,
	S_CPU_POSSIBLE,
	S_CPU_PRESENT,
	S_CPU_OFFLINE,
	S_CPU_KERNEL_MAX,
	S_CPUN, /* cpu<N>/, one per CPU */
	S_KERNEL,
	S_MM,
	S_THP,
	S_THP_ENABLED,
	S_THP_DEFRAG,
	S_FS,
	S_CGROUP,
	S_COUNT
};

static const struct {
	const char *name;
	enum sys_node parent;
	uint32_t mode;
} sys_nodes[S_COUNT] = {
	[S_ROOT] = {"", S_ROOT, S_IFDIR | 0555},
	[S_DEVICES] = {"devices", S_ROOT, S_IFDIR | 0755},
	[S_SYSTEM] = {"system", S_DEVICES, S_IFDIR | 0755},
	[S_CPU] = {"cpu", S_SYSTEM, S_IFDIR | 0755},
	[S_CPU_ONLINE] = {"online", S_CPU, S_IFREG | 0444},
	[S_CPU_POSSIBLE] = {"possible", S_CPU, S_IFREG | 0444},
	[S_CPU_PRESENT] = {"present", S_CPU, S_IFREG | 0444},
	[S_CPU_OFFLINE] = {"offline", S_CPU, S_IFREG | 0444},
	[S_CPU_KERNEL_MAX] = {"kernel_max", S_CPU, S_IFREG | 0444},
	[S_CPUN] = {NULL, S_CPU, S_IFDIR | 0755},
	[S_KERNEL] = {"kernel", S_ROOT, S_IFDIR | 0755},
	[S_MM] = {"mm", S_KERNEL, S_IFDIR | 0755},
	[S_THP] = {"transparent_hugepage", S_MM, S_IFDIR | 0755},
	[S_THP_ENABLED] = {"enabled", S_THP, S_IFREG | 0644},
	[S_THP_DEFRAG] = {"defrag", S_THP, S_IFREG | 0644},
	[S_FS] = {"fs", S_ROOT, S_IFDIR | 0755},
	[S_CGROUP] = {"cgroup", S_FS, S_IFDIR | 0755},
};

struct sys_inode {
	struct kernel *k;
	enum sys_node node;
	int cpu; /* for S_CPUN */
};

static const struct inode_ops sysfs_inode_ops;

static struct inode *sys_inode(struct superblock *sb, struct kernel *k, enum sys_node node, int cpu)
{
	struct sys_inode *si = calloc(1, sizeof(*si));
	if (!si)
		return NULL;
	*si = (struct sys_inode){k, node, cpu};
	struct inode *ino = inode_new(sb, &sysfs_inode_ops, sys_nodes[node].mode, si);
	if (!ino) {
		free(si);
		return NULL;
	}
	ino->ino = node == S_ROOT ? 1 : 100 + (uint64_t)node * 4096 + (uint64_t)cpu;
	return ino;
}

/* "cpu12" -> 12 when 12 is one of the sandbox's CPUs, else -1. */
static int cpu_dir_index(struct kernel *k, const char *name)
{
	if (strncmp(name, "cpu", 3) != 0 || !name[3] || (name[3] == '0' && name[4]))
		return -1;
	int n = 0;
	for (const char *p = name + 3; *p; p++) {
		if (*p < '0' || *p > '9' || n > 100000)
			return -1;
		n = n * 10 + (*p - '0');
	}
	return n < k->ncpus ? n : -1;
}

static int sysfs_lookup(struct inode *dir, const char *name, struct inode **out)
{
	struct sys_inode *si = dir->priv;
	if (si->node == S_CPU) {
		int cpu = cpu_dir_index(si->k, name);
		if (cpu >= 0) {
			*out = sys_inode(dir->sb, si->k, S_CPUN, cpu);
			return *out ? 0 : -ENOMEM;
		}
	}
	for (int n = S_ROOT + 1; n < S_COUNT; n++) {
		if (sys_nodes[n].parent == si->node && sys_nodes[n].name && strcmp(sys_nodes[n].name, name) == 0) {
			*out = sys_inode(dir->sb, si->k, (enum sys_node)n, 0);
			return *out ? 0 : -ENOMEM;
		}
	}
	return -ENOENT;
}

static int sysfs_getdents(struct file *f, struct dirent_sink *sink)
{
	struct sys_inode *si = f->inode->priv;
	int ncpu = si->node == S_CPU ? si->k->ncpus : 0;
	size_t cap = 2 + S_COUNT + (size_t)ncpu;
	struct synthetic_dirent *ents = calloc(cap, sizeof(*ents));
	char (*names)[16] = calloc((size_t)ncpu + 1, 16);
	if (!ents || !names) {
		free(ents);
		free(names);
		return -ENOMEM;
	}
	size_t n = 0;
	ents[n++] = (struct synthetic_dirent){".", f->inode->ino, DT_DIR};
	ents[n++] = (struct synthetic_dirent){"..", 1, DT_DIR};
	for (int i = S_ROOT + 1; i < S_COUNT; i++)
		if (sys_nodes[i].parent == si->node && sys_nodes[i].name)
			ents[n++] = (struct synthetic_dirent){sys_nodes[i].name, 100 + (uint64_t)i * 4096,
							      S_ISDIR(sys_nodes[i].mode) ? DT_DIR : DT_REG};
	for (int c = 0; c < ncpu; c++) {
		snprintf(names[c], 16, "cpu%d", c);
		ents[n++] = (struct synthetic_dirent){names[c], 100 + (uint64_t)S_CPUN * 4096 + (uint64_t)c, DT_DIR};
	}
	int err = getdents_from_array(f, sink, ents, n);
	free(ents);
	free(names);
	return err;
}

static const struct file_ops sysfs_dir_ops = {
	.getdents = sysfs_getdents,
};

static long sysfs_read(struct file *f, struct task *t, void *buf, size_t len, uint64_t *pos)
{
	(void)t;
	struct gen *g = f->priv;
	return read_from_buffer(g->buf, g->len, buf, len, pos);
}

static void sysfs_file_release(struct file *f)
{
	struct gen *g = f->priv;
	if (g)
		free(g->buf);
	free(g);
}

/* sysfs files report a size of a page whatever they hold; SEEK_END is relative to it. */
static long sysfs_seek_end(struct file *f)
{
	(void)f;
	return 4096;
}

static const struct file_ops sysfs_file_ops = {
	.read = sysfs_read,
	.release = sysfs_file_release,
	.seek_end = sysfs_seek_end,
};

static void generate(struct sys_inode *si, struct gen *g)
{
	int n = si->k->ncpus > 0 ? si->k->ncpus : 1;
	switch (si->node) {
	case S_CPU_ONLINE:
	case S_CPU_POSSIBLE:
	case S_CPU_PRESENT:
		if (n == 1)
			gen_printf(g, "0\n");
		else
			gen_printf(g, "0-%d\n", n - 1);
		break;
	case S_CPU_OFFLINE:
		gen_printf(g, "\n");
		break;
	case S_CPU_KERNEL_MAX:
		gen_printf(g, "8191\n");
		break;
	case S_THP_ENABLED:
		gen_printf(g, "always [madvise] never\n");
		break;
	case S_THP_DEFRAG:
		gen_printf(g, "always defer defer+madvise [madvise] never\n");
		break;
	default:
		break;
	}
}

static int sysfs_open(struct inode *ino, struct file *f)
{
	struct sys_inode *si = ino->priv;
	if (S_ISDIR(ino->mode)) {
		f->ops = &sysfs_dir_ops;
		return 0;
	}
	if ((f->flags & O_ACCMODE) != O_RDONLY)
		return -EACCES; /* the VFS refuses first: the filesystem is read-only */
	struct gen *g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	generate(si, g);
	f->priv = g;
	f->ops = &sysfs_file_ops;
	return 0;
}

static int sysfs_getattr(struct inode *ino, struct kstat *st)
{
	struct sys_inode *si = ino->priv;
	st->nlink = S_ISDIR(ino->mode) ? 2 : 1;
	st->size = S_ISDIR(ino->mode) ? 0 : 4096;
	uint64_t boot = proc_boot_time_ns(si->k);
	st->atime = st->mtime = st->ctime =
		(struct timespec){(time_t)(boot / 1000000000ull), (long)(boot % 1000000000ull)};
	return 0;
}

static void sysfs_release(struct inode *ino)
{
	free(ino->priv);
}

static const struct inode_ops sysfs_inode_ops = {
	.lookup = sysfs_lookup,
	.open = sysfs_open,
	.getattr = sysfs_getattr,
	.release = sysfs_release,
};

int sysfs_new_root(struct kernel *k, struct dentry **out)
{
	struct superblock *sb = calloc(1, sizeof(*sb));
	if (!sb)
		return -ENOMEM;
	sb->fstype = "sysfs";
	sb->magic = 0x62656572; /* SYSFS_MAGIC */
	sb->dev = 0x16;
	sb->readonly = true;
	sb->priv = k;
	struct inode *ino = sys_inode(sb, k, S_ROOT, 0);
	if (!ino)
		return -ENOMEM;
	*out = dentry_new_root(ino);
	return *out ? 0 : -ENOMEM;
}
