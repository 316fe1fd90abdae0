/* Advisory file locks (fcntl record locks, OFD locks, flock). */
#ifndef WARD_VFS_LOCK_H
#define WARD_VFS_LOCK_H

#include "sentry/kernel/kernel.h"

enum { LOCK_KIND_POSIX, LOCK_KIND_OFD, LOCK_KIND_FLOCK };

/* Sets (F_RDLCK, F_WRLCK) or removes (F_UNLCK) owner's lock on [start, end] of ino. With
 * wait, a conflict parks t (SYSCALL_BLOCKED) until a lock is released; without, -EAGAIN
 * (-EWOULDBLOCK for flock). */
long lock_set(struct task *t, struct inode *ino, void *owner, int kind, short type, uint64_t start,
	      uint64_t end, bool wait, int pid);
/* F_GETLK: whether a lock of another owner would block [*start, *end]; if so it is
 * described through the out parameters. */
bool lock_test(struct inode *ino, void *owner, int kind, short type, uint64_t *start, uint64_t *end,
	       short *type_out, int *pid_out);
/* Drops owner's locks (on ino, or on every file when ino is NULL). */
void lock_release(struct inode *ino, void *owner);

#endif
