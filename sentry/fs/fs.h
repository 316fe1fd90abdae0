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

/* A file wrapping one of the sentry's inherited stdio descriptors. */
struct file *hostfd_file(struct kernel *k, int hostfd, int flags);

#endif
