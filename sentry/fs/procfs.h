/* Internals shared by the files of /proc (procfs.c: the tree; proc_pid.c: per-process and
 * per-thread files; proc_sys.c: system-wide files and the mount table) and /sys. */
#ifndef WARD_FS_PROCFS_H
#define WARD_FS_PROCFS_H

#include "sentry/fs/fs.h"

/* A growing text buffer: a generated file's whole contents, made when it is opened. */
struct gen {
	char *buf;
	size_t len, cap;
};

void gen_printf(struct gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gen_bytes(struct gen *g, const void *p, size_t n);

/* Clock ticks per second of the times in stat files (USER_HZ). */
#define PROC_HZ 100

/* The thread group with this tgid, zombies included (a zombie keeps its /proc/<pid> until
 * it is reaped), or NULL. */
struct thread_group *proc_find_group(struct kernel *k, int tgid);
/* Walks every process of the sandbox (zombies too), parents before children, without
 * recursion (a guest decides how deep the tree is): start with k->init, then pass the
 * previous one; NULL at the end. */
struct thread_group *proc_next_group(struct kernel *k, struct thread_group *tg);
/* The live thread tid of tg, or NULL. */
struct task *proc_find_thread(struct thread_group *tg, int tid);

/* Per-process files; t is the thread for task/<tid>/ files, else the group's leader
 * (which may be dead: a zombie, or a leader that called pthread_exit). */
void proc_gen_stat(struct gen *g, struct thread_group *tg, struct task *t);
void proc_gen_status(struct gen *g, struct thread_group *tg, struct task *t);
void proc_gen_statm(struct gen *g, struct thread_group *tg);
void proc_gen_maps(struct gen *g, struct thread_group *tg, bool smaps);
void proc_gen_limits(struct gen *g, struct thread_group *tg);
/* fdinfo/<fd>: -ENOENT when fd is not open. */
int proc_gen_fdinfo(struct gen *g, struct kernel *k, struct fd_table *fdt, int fd);

/* System-wide files. */
void proc_gen_meminfo(struct gen *g, struct kernel *k);
void proc_gen_vmstat(struct gen *g, struct kernel *k);
void proc_gen_cpuinfo(struct gen *g, struct kernel *k);
void proc_gen_kstat(struct gen *g, struct kernel *k);
/* CPU time used by the sandbox's processes (and their reaped children). */
uint64_t proc_busy_ns(struct kernel *k);
void proc_gen_loadavg(struct gen *g, struct kernel *k);
/* /proc/<pid>/mounts and mountinfo, the mounts seen from tg's root. */
void proc_gen_mounts(struct gen *g, struct thread_group *tg, bool mountinfo);
/* The mount id (as in mountinfo) of the mount d belongs to. */
int proc_mount_id(struct kernel *k, struct dentry *d);
/* Seconds since the epoch when the sandbox booted. */
uint64_t proc_boot_time_ns(struct kernel *k);
/* The sandbox's memory: its limit, or a default budget when it has none. */
uint64_t proc_mem_total(struct kernel *k);
/* Populated bytes of [off, off + len) of the memory file. */
uint64_t proc_resident_bytes(struct kernel *k, uint64_t off, uint64_t len);

#endif
