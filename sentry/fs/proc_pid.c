/* The contents of /proc/<pid>/ and /proc/<pid>/task/<tid>/ files, in Linux's formats
 * (fs/proc/array.c, task_mmu.c, base.c, fd.c), from what the sentry knows of the process.
 * A zombie has no memory, files or directories left: its files say so as Linux's do. */
#include "sentry/fs/procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

static char thread_state(struct thread_group *tg, struct task *t)
{
	if (tg->zombie || !t || t->state == TASK_DEAD)
		return 'Z';
	if (tg->stopped || t->state == TASK_STOPPED)
		return 'T';
	return t->state == TASK_BLOCKED ? 'S' : 'R';
}

static const char *state_text(char c)
{
	switch (c) {
	case 'Z':
		return "Z (zombie)";
	case 'T':
		return "T (stopped)";
	case 'S':
		return "S (sleeping)";
	default:
		return "R (running)";
	}
}

static uint64_t ns_to_ticks(uint64_t ns)
{
	return ns / (1000000000ull / PROC_HZ);
}

/* What a process's memory adds up to, in bytes. */
struct mem_summary {
	uint64_t size, rss, rss_anon, rss_file, rss_shmem, data, stack, exe, lib;
	uint64_t start_code, end_code;
};

static bool vma_is_exe(const struct vma *v, struct mm *mm)
{
	return v->file && v->file == (void *)mm->exe;
}

static struct mem_summary mem_summary(struct kernel *k, struct mm *mm)
{
	struct mem_summary s = {0};
	if (!mm)
		return s;
	for (size_t i = 0; i < mm->vmas.n; i++) {
		const struct vma *v = &mm->vmas.v[i];
		uint64_t len = v->end - v->start;
		uint64_t rss = proc_resident_bytes(k, v->memfile_off, len);
		s.size += len;
		s.rss += rss;
		if (v->flags & VMA_SHARED)
			s.rss_shmem += rss;
		else if (v->file)
			s.rss_file += rss;
		else
			s.rss_anon += rss;
		if (v->flags & VMA_GROWSDOWN || strcmp(v->name, "[stack]") == 0)
			s.stack += len;
		else if ((v->prot & PROT_WRITE) && !(v->flags & VMA_SHARED))
			s.data += len;
		else if (v->prot & PROT_EXEC) {
			if (vma_is_exe(v, mm)) {
				s.exe += len;
				if (!s.start_code)
					s.start_code = v->start;
				s.end_code = v->end;
			} else {
				s.lib += len;
			}
		}
	}
	return s;
}

static uint64_t allowed_cpus(struct kernel *k, struct task *t)
{
	uint64_t online = k->ncpus >= 64 ? ~0ull : (1ull << k->ncpus) - 1;
	return t && t->cpumask ? t->cpumask : online;
}

static void signal_masks(struct thread_group *tg, uint64_t *ign, uint64_t *cgt)
{
	*ign = *cgt = 0;
	if (!tg->sighand)
		return;
	for (int s = 1; s <= WARD_NSIG; s++) {
		uint64_t h = tg->sighand->action[s - 1].handler;
		if (h == (uint64_t)SIG_IGN)
			*ign |= SIGBIT(s);
		else if (h != (uint64_t)SIG_DFL)
			*cgt |= SIGBIT(s);
	}
}

void proc_gen_stat(struct gen *g, struct thread_group *tg, struct task *t)
{
	struct kernel *k = tg->k;
	struct mm *mm = tg->mm;
	struct mem_summary ms = mem_summary(k, mm);
	uint64_t user, sys, ign, cgt;
	thread_group_cpu(tg, &user, &sys);
	signal_masks(tg, &ign, &cgt);
	struct rlimit *rss = &tg->rlim[RLIMIT_RSS];
	uint64_t start = ((t ? t->start_ns : tg->start_ns) - k->boot_ns);
	bool live = !tg->zombie && t && t->state != TASK_DEAD;
	gen_printf(g, "%d (%s) %c %d %d %d 0 -1 %u 0 0 0 0 %llu %llu %llu %llu 20 0 %d 0 %llu %llu %llu %llu ",
		   t ? t->tid : tg->tgid, t ? task_comm(t) : tg->comm, thread_state(tg, t), tg->parent ? tg->parent->tgid : 0,
		   tg->pgid, tg->sid, tg->did_exec ? 0x400000u : 0x400040u,
		   (unsigned long long)ns_to_ticks(user), (unsigned long long)ns_to_ticks(sys),
		   (unsigned long long)ns_to_ticks(tg->cutime_ns), (unsigned long long)ns_to_ticks(tg->cstime_ns),
		   tg->nlive > 0 ? tg->nlive : 1, (unsigned long long)ns_to_ticks(start),
		   (unsigned long long)ms.size, (unsigned long long)(ms.rss / 4096),
		   (unsigned long long)rss->rlim_cur);
	gen_printf(g, "%llu %llu %llu 0 0 %llu %llu %llu %llu 0 0 0 %d %d 0 0 0 0 0 0 0 %llu %llu %llu %llu %llu %d\n",
		   (unsigned long long)(mm ? ms.start_code : 0), (unsigned long long)(mm ? ms.end_code : 0),
		   (unsigned long long)(mm ? mm->stack_top : 0),
		   (unsigned long long)(tg->shared.pending | (t ? t->pending.pending : 0)),
		   (unsigned long long)(live ? t->sigmask : 0), (unsigned long long)ign,
		   (unsigned long long)cgt, tg->exit_signal, 0,
		   (unsigned long long)(mm ? mm->brk_start : 0), (unsigned long long)(mm ? mm->arg_start : 0),
		   (unsigned long long)(mm ? mm->arg_end : 0), (unsigned long long)(mm ? mm->env_start : 0),
		   (unsigned long long)(mm ? mm->env_end : 0), tg->zombie ? tg->exit_status : 0);
}

static void status_kb(struct gen *g, const char *name, uint64_t bytes)
{
	gen_printf(g, "%s:\t%8llu kB\n", name, (unsigned long long)(bytes / 1024));
}

void proc_gen_status(struct gen *g, struct thread_group *tg, struct task *t)
{
	struct kernel *k = tg->k;
	const struct creds *c = &tg->cred;
	char st = thread_state(tg, t);
	int pid = t ? t->tid : tg->tgid;
	gen_printf(g, "Name:\t%s\n", t ? task_comm(t) : tg->comm);
	struct fs_ctx *fs = t ? t->fs : group_fs(tg);
	struct fd_table *fdt = t ? t->fdt : group_fdt(tg);
	if (fs)
		gen_printf(g, "Umask:\t%04o\n", fs->umask);
	gen_printf(g,
		   "State:\t%s\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n"
		   "Uid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\nFDSize:\t%d\nGroups:\t\n"
		   "NStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n",
		   state_text(st), tg->tgid, pid, tg->parent ? tg->parent->tgid : 0, c->ruid, c->euid,
		   c->suid, c->fsuid, c->rgid, c->egid, c->sgid, c->fsgid, fdt ? fdt->cap : 0,
		   tg->tgid, pid, tg->pgid, tg->sid);
	if (tg->mm) {
		struct mem_summary ms = mem_summary(k, tg->mm);
		status_kb(g, "VmPeak", ms.size);
		status_kb(g, "VmSize", ms.size);
		status_kb(g, "VmLck", 0);
		status_kb(g, "VmPin", 0);
		status_kb(g, "VmHWM", ms.rss);
		status_kb(g, "VmRSS", ms.rss);
		status_kb(g, "RssAnon", ms.rss_anon);
		status_kb(g, "RssFile", ms.rss_file);
		status_kb(g, "RssShmem", ms.rss_shmem);
		status_kb(g, "VmData", ms.data);
		status_kb(g, "VmStk", ms.stack);
		status_kb(g, "VmExe", ms.exe);
		status_kb(g, "VmLib", ms.lib);
		status_kb(g, "VmPTE", 0);
		status_kb(g, "VmSwap", 0);
		status_kb(g, "HugetlbPages", 0);
	}
	uint64_t ign, cgt, cpus = allowed_cpus(k, t);
	signal_masks(tg, &ign, &cgt);
	bool live = st != 'Z';
	gen_printf(g,
		   "CoreDumping:\t0\nThreads:\t%d\nSigQ:\t0/%llu\nSigPnd:\t%016llx\nShdPnd:\t%016llx\n"
		   "SigBlk:\t%016llx\nSigIgn:\t%016llx\nSigCgt:\t%016llx\n"
		   "CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n"
		   "CapBnd:\t0000000000000000\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t0\n"
		   "Seccomp_filters:\t0\nCpus_allowed:\t%llx\nCpus_allowed_list:\t",
		   tg->nlive > 0 ? tg->nlive : 1, (unsigned long long)tg->rlim[RLIMIT_SIGPENDING].rlim_cur,
		   (unsigned long long)(live ? t->pending.pending : 0), (unsigned long long)tg->shared.pending,
		   (unsigned long long)(live ? t->sigmask : 0), (unsigned long long)ign,
		   (unsigned long long)cgt, (unsigned long long)cpus);
	/* the mask as ranges: "0-1", "0,2-3" */
	bool first = true;
	for (int i = 0; i < 64; i++) {
		if (!(cpus >> i & 1))
			continue;
		int j = i;
		while (j + 1 < 64 && (cpus >> (j + 1) & 1))
			j++;
		gen_printf(g, j > i ? "%s%d-%d" : "%s%d", first ? "" : ",", i, j);
		first = false;
		i = j;
	}
	gen_printf(g, "\nMems_allowed:\t1\nMems_allowed_list:\t0\nvoluntary_ctxt_switches:\t0\n"
		      "nonvoluntary_ctxt_switches:\t0\n");
}

void proc_gen_statm(struct gen *g, struct thread_group *tg)
{
	struct mem_summary ms = mem_summary(tg->k, tg->mm);
	gen_printf(g, "%llu %llu %llu %llu 0 %llu 0\n", (unsigned long long)(ms.size / 4096),
		   (unsigned long long)(ms.rss / 4096),
		   (unsigned long long)((ms.rss_file + ms.rss_shmem) / 4096),
		   (unsigned long long)(ms.exe / 4096), (unsigned long long)((ms.data + ms.stack) / 4096));
}

/* How many mappings share the memory-file page at off (1 when it is not shared). */
static uint32_t page_owners(struct memfile *mf, uint64_t off)
{
	for (size_t i = 0; i < mf->nshared; i++)
		if (off >= mf->shared[i].off && off < mf->shared[i].off + mf->shared[i].len)
			return 1 + mf->shared[i].extra_refs;
	return 1;
}

static void smaps_kb(struct gen *g, const char *name, uint64_t bytes)
{
	char label[32];
	snprintf(label, sizeof(label), "%s:", name);
	gen_printf(g, "%-16s%8llu kB\n", label, (unsigned long long)(bytes / 1024));
}

static void gen_smaps_entry(struct gen *g, struct kernel *k, const struct vma *v)
{
	uint64_t len = v->end - v->start;
	uint64_t rss = proc_resident_bytes(k, v->memfile_off, len);
	/* Shared pages: MAP_SHARED memory, and private file mappings still on the page
	 * cache's pages. Writable shared memory counts as dirty. */
	bool shared = (v->flags & (VMA_SHARED | VMA_CACHE)) != 0;
	bool dirty = (v->flags & VMA_SHARED) ? (v->prot & PROT_WRITE) != 0 : !(v->flags & VMA_CACHE);
	uint32_t owners = page_owners(&k->mf, v->memfile_off);
	smaps_kb(g, "Size", len);
	smaps_kb(g, "KernelPageSize", 4096);
	smaps_kb(g, "MMUPageSize", 4096);
	smaps_kb(g, "Rss", rss);
	smaps_kb(g, "Pss", rss / owners);
	smaps_kb(g, "Pss_Dirty", dirty ? rss / owners : 0);
	smaps_kb(g, "Shared_Clean", shared && !dirty ? rss : 0);
	smaps_kb(g, "Shared_Dirty", shared && dirty ? rss : 0);
	smaps_kb(g, "Private_Clean", !shared && !dirty ? rss : 0);
	smaps_kb(g, "Private_Dirty", !shared && dirty ? rss : 0);
	smaps_kb(g, "Referenced", rss);
	smaps_kb(g, "Anonymous", !v->file && !(v->flags & VMA_SHARED) ? rss : 0);
	smaps_kb(g, "KSM", 0);
	smaps_kb(g, "LazyFree", 0);
	smaps_kb(g, "AnonHugePages", 0);
	smaps_kb(g, "ShmemPmdMapped", 0);
	smaps_kb(g, "FilePmdMapped", 0);
	smaps_kb(g, "Shared_Hugetlb", 0);
	smaps_kb(g, "Private_Hugetlb", 0);
	smaps_kb(g, "Swap", 0);
	smaps_kb(g, "SwapPss", 0);
	smaps_kb(g, "Locked", 0);
	gen_printf(g, "THPeligible:    0\nVmFlags:%s%s%s%s mr mw me%s%s%s\n", v->prot & PROT_READ ? " rd" : "",
		   v->prot & PROT_WRITE ? " wr" : "", v->prot & PROT_EXEC ? " ex" : "",
		   v->flags & VMA_SHARED ? " sh" : "", v->flags & VMA_SHARED ? " ms" : "",
		   v->flags & VMA_GROWSDOWN ? " gd" : "",
		   !(v->flags & VMA_SHARED) && (v->prot & PROT_WRITE) ? " ac" : "");
}

void proc_gen_maps(struct gen *g, struct thread_group *tg, bool smaps)
{
	struct kernel *k = tg->k;
	struct mm *mm = tg->mm;
	if (!mm)
		return;
	for (size_t i = 0; i < mm->vmas.n; i++) {
		const struct vma *v = &mm->vmas.v[i];
		char path[4096] = "";
		struct kstat st = {0};
		if (v->file) {
			struct dentry *d = v->file;
			dentry_path(group_fs(tg) ? group_fs(tg)->root : k->root, d, path, sizeof(path));
			if (d->inode)
				inode_getattr(d->inode, &st);
		} else {
			snprintf(path, sizeof(path), "%s", v->name);
		}
		size_t len0 = g->len;
		gen_printf(g, "%08llx-%08llx %c%c%c%c %08llx %02x:%02x %llu ", (unsigned long long)v->start,
			   (unsigned long long)v->end, v->prot & PROT_READ ? 'r' : '-',
			   v->prot & PROT_WRITE ? 'w' : '-', v->prot & PROT_EXEC ? 'x' : '-',
			   v->flags & VMA_SHARED ? 's' : 'p', (unsigned long long)(v->file ? v->file_off : 0),
			   (unsigned)((st.dev >> 8) & 0xfff), (unsigned)(st.dev & 0xff),
			   (unsigned long long)(v->file ? st.ino : 0));
		if (path[0]) {
			int used = (int)(g->len - len0);
			gen_printf(g, "%*s%s", used < 73 ? 73 - used : 0, "", path);
		}
		gen_printf(g, "\n");
		if (smaps)
			gen_smaps_entry(g, k, v);
	}
}

static const struct {
	const char *name, *unit;
} limit_names[RLIM_NLIMITS] = {
	[RLIMIT_CPU] = {"Max cpu time", "seconds"},
	[RLIMIT_FSIZE] = {"Max file size", "bytes"},
	[RLIMIT_DATA] = {"Max data size", "bytes"},
	[RLIMIT_STACK] = {"Max stack size", "bytes"},
	[RLIMIT_CORE] = {"Max core file size", "bytes"},
	[RLIMIT_RSS] = {"Max resident set", "bytes"},
	[RLIMIT_NPROC] = {"Max processes", "processes"},
	[RLIMIT_NOFILE] = {"Max open files", "files"},
	[RLIMIT_MEMLOCK] = {"Max locked memory", "bytes"},
	[RLIMIT_AS] = {"Max address space", "bytes"},
	[RLIMIT_LOCKS] = {"Max file locks", "locks"},
	[RLIMIT_SIGPENDING] = {"Max pending signals", "signals"},
	[RLIMIT_MSGQUEUE] = {"Max msgqueue size", "bytes"},
	[RLIMIT_NICE] = {"Max nice priority", NULL},
	[RLIMIT_RTPRIO] = {"Max realtime priority", NULL},
	[RLIMIT_RTTIME] = {"Max realtime timeout", "us"},
};

static void limit_value(struct gen *g, rlim_t v)
{
	if (v == RLIM_INFINITY)
		gen_printf(g, "%-20s ", "unlimited");
	else
		gen_printf(g, "%-20llu ", (unsigned long long)v);
}

void proc_gen_limits(struct gen *g, struct thread_group *tg)
{
	gen_printf(g, "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit", "Hard Limit", "Units");
	for (int i = 0; i < RLIM_NLIMITS; i++) {
		gen_printf(g, "%-25s ", limit_names[i].name);
		limit_value(g, tg->rlim[i].rlim_cur);
		limit_value(g, tg->rlim[i].rlim_max);
		if (limit_names[i].unit)
			gen_printf(g, "%-10s\n", limit_names[i].unit);
		else
			gen_printf(g, "\n");
	}
}

int proc_gen_fdinfo(struct gen *g, struct kernel *k, struct fd_table *fdt, int fd)
{
	struct file *f = fdt ? fdt_get(fdt, fd) : NULL;
	if (!f)
		return -ENOENT;
	/* As F_GETFL shows them, plus O_CLOEXEC from the descriptor (Linux's seq_show). */
	int flags = f->flags;
	if (f->inode && (S_ISREG(f->inode->mode) || S_ISDIR(f->inode->mode)))
		flags |= O_LARGEFILE;
	if (fdt->cloexec[fd])
		flags |= O_CLOEXEC;
	gen_printf(g, "pos:\t%lld\nflags:\t0%o\nmnt_id:\t%d\nino:\t%llu\n", (long long)f->pos, flags,
		   f->dentry ? proc_mount_id(k, f->dentry) : 15,
		   (unsigned long long)(f->inode ? f->inode->ino : 0));
	if (f->ops && f->ops->fdinfo) {
		/* Sized as snprintf: a second call when the first did not fit (epoll items). */
		char small[512], *extra = small;
		int n = f->ops->fdinfo(f, small, sizeof(small));
		if (n >= (int)sizeof(small) && (extra = malloc((size_t)n + 1)))
			n = f->ops->fdinfo(f, extra, (size_t)n + 1);
		if (n > 0 && extra)
			gen_bytes(g, extra, (size_t)n);
		if (extra != small)
			free(extra);
	}
	return 0;
}
