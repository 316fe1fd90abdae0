/* Filesystem implementations the sentry mounts. */
#ifndef WARD_FS_H
#define WARD_FS_H

#include "sentry/kernel/kernel.h"

/* The host root (or --rootfs) through the gofer, read-only. */
int gofer_fs_root(struct kernel *k, struct dentry **out);
/* The root: lower (read-only host tree) under upper (a tmpfs); see overlay.c. */
int overlay_new_root(struct kernel *k, struct dentry *lower, struct dentry *upper, struct dentry **out);
/* A host directory (a gofer inode just walked to, whose reference is handed over) as the
 * root of a mount of its own: read-only (--ro-bind) or writable (the workspace). */
int gofer_fs_bind_root(struct kernel *k, struct inode *ino, bool writable, struct dentry **out);
/* A fresh in-memory filesystem (/tmp). */
int tmpfs_new_root(struct kernel *k, uint32_t mode, struct dentry **out);
/* A regular tmpfs file with no name (O_TMPFILE, memfd); linkable: linkat may name it. */
struct inode *tmpfs_new_file(struct superblock *sb, uint32_t mode, bool linkable);
/* memfd seals: F_GET_SEALS (add false) or F_ADD_SEALS; -EINVAL when f is no tmpfs file. */
long tmpfs_seals(struct file *f, bool add, unsigned seals);
/* Whether f is a tmpfs file sealed against writing (a writable shared mmap: EPERM). */
bool tmpfs_write_sealed(struct file *f);
/* memfd_create(MFD_ALLOW_SEALING): the file's seals become seals (no F_SEAL_SEAL). */
void tmpfs_memfd_unseal(struct file *f, unsigned seals);
/* /dev: null, zero, full, random, urandom, tty, and links to /proc/self/fd. */
int devfs_new_root(struct kernel *k, struct dentry **out);
/* /proc, describing the sandbox only. */
int procfs_new_root(struct kernel *k, struct dentry **out);
/* /sys, read-only: the sandbox's CPUs and a few settings (sysfs.c). */
int sysfs_new_root(struct kernel *k, struct dentry **out);

/* A new pipe: its read and write ends (flags: O_NONBLOCK). */
int pipe_create(struct kernel *k, int flags, struct file **rd, struct file **wr);
/* F_GETPIPE_SZ / F_SETPIPE_SZ; -EBADF when f is not a pipe. */
long pipe_fcntl_size(struct file *f, bool set, uint64_t size);

/* For splice, tee, vmsplice and sendfile (sys_splice.c): f is a pipe end. */
bool file_is_pipe(struct file *f);
/* Bytes queued, and room left. */
size_t pipe_avail(struct file *f);
size_t pipe_room(struct file *f);
bool pipe_has_writers(struct file *f);
bool pipe_has_readers(struct file *f);
bool pipe_same(struct file *a, struct file *b);
/* Copies up to len queued bytes without taking them; pipe_consume then takes n. */
size_t pipe_peek(struct file *f, void *buf, size_t len);
void pipe_consume(struct file *f, size_t n);
/* Parks t until the pipe may have data (for_write: room); returns SYSCALL_BLOCKED. */
long pipe_wait(struct file *f, struct task *t, bool for_write);

/* pidfds (pidfd_open, CLONE_PIDFD). */
int pidfd_create(struct kernel *k, int tgid, int flags, struct file **out);
/* The live group a pidfd names (NULL and *exited when it is gone or f is no pidfd). */
struct thread_group *pidfd_target(struct file *f, bool *exited);
/* The tgid a pidfd names, or -1 when f is not a pidfd. */
int pidfd_tgid(struct file *f);

/* A file wrapping one of the sentry's inherited stdio descriptors. */
struct file *hostfd_file(struct kernel *k, int hostfd, int flags);
/* Opens the user's terminal (the host descriptor hostfd) into f: /dev/tty on the console. */
int hostfd_open_console(struct kernel *k, int hostfd, struct file *f);

/* ---- terminals (pty.c) ---- */
/* /dev/pts: the slaves of the sandbox's pseudo-terminals, and ptmx. */
int devpts_new_root(struct kernel *k, struct dentry **out);
/* Opens a new pty master into f (/dev/ptmx). */
int pty_open_master(struct kernel *k, struct file *f);
/* Opens the calling process's controlling terminal into f (/dev/tty); -ENXIO if none. */
int tty_open_controlling(struct kernel *k, struct file *f);

/* ---- anonymous files and event notification (anon.c, eventfd.c, timerfd.c,
 * signalfd.c, epoll.c) ---- */
/* A file with no path on the anon_inodefs pseudo filesystem; name is a static string such
 * as "[eventfd]". NULL on ENOMEM (priv is then the caller's to free). */
struct file *anon_file_new(const char *name, const struct file_ops *ops, int flags, void *priv);
/* "[eventfd]" etc. for an anonymous file (Linux's "anon_inode:[eventfd]" link), else NULL. */
const char *anon_file_name(struct file *f);
/* lseek on eventfd, timerfd, signalfd and epoll files: returns 0, moves nothing. */
long anon_noop_llseek(struct file *f, int64_t off, int whence);
/* A signal was queued for t (or its group): wakes signalfd readers and pollers. */
void signalfd_notify(struct task *t);
/* f lost a reference but is still open: if epoll interest items now hold its only
 * references, the file was closed by the guest and the items go (which releases it). */
void eventpoll_file_unref(struct file *f);

#endif
