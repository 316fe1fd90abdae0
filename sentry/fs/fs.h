/* Filesystem implementations the sentry mounts. */
#ifndef WARD_FS_H
#define WARD_FS_H

#include "sentry/kernel/kernel.h"

/* The host root (or --rootfs) through the gofer, read-only. */
int gofer_fs_root(struct kernel *k, struct dentry **out);
/* A fresh in-memory filesystem (/tmp). */
int tmpfs_new_root(struct kernel *k, uint32_t mode, struct dentry **out);
/* /dev: null, zero, full, random, urandom, tty, and links to /proc/self/fd. */
int devfs_new_root(struct kernel *k, struct dentry **out);
/* /proc, describing the sandbox only. */
int procfs_new_root(struct kernel *k, struct dentry **out);

/* A new pipe: its read and write ends (flags: O_NONBLOCK). */
int pipe_create(struct kernel *k, int flags, struct file **rd, struct file **wr);
/* F_GETPIPE_SZ / F_SETPIPE_SZ; -EBADF when f is not a pipe. */
long pipe_fcntl_size(struct file *f, bool set, uint64_t size);

/* A file wrapping one of the sentry's inherited stdio descriptors. */
struct file *hostfd_file(struct kernel *k, int hostfd, int flags);

#endif
