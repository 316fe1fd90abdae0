/* Syscall handlers: each takes the task and its six raw arguments and returns a value or
 * -errno (or SYSCALL_BLOCKED / SYSCALL_NORETURN). */
#ifndef WARD_SYSCALLS_H
#define WARD_SYSCALLS_H

#include "sentry/kernel/kernel.h"

#define SYSCALL(name) long sys_##name(struct task *t, const uint64_t a[6])

/* Shared helpers (sys_util.c). */
struct file *fget(struct task *t, int fd);
/* Copies a path argument; -EFAULT, -ENAMETOOLONG, or -ENOENT for "" unless allow_empty. */
long copy_path(struct task *t, uint64_t uaddr, char *buf, bool allow_empty);
/* The directory a *at() call starts from: NULL means cwd (AT_FDCWD or absolute path). */
int at_start(struct task *t, int dirfd, const char *path, struct dentry **out);
int fd_limit(struct task *t);
/* The directory holding a path argument's last component, and that component in name
 * (NAME_MAX + 1 bytes; "." for "/" or "dir/"). trailing_slash, if given, tells whether
 * the path ended in '/'. Returns 0 with a dentry reference, or -errno. */
int parent_and_name(struct task *t, int dirfd, uint64_t upath, struct dentry **dir, char *name,
		    bool *trailing_slash);
/* A file's readiness (poll bits); pt may be NULL. */
unsigned file_poll(struct file *f, struct poll_table *pt);

#define SYSCALL_LIST(X) \
	X(read) X(write) X(open) X(close) X(stat) X(fstat) X(lstat) X(lseek) X(mmap) \
	X(mprotect) X(munmap) X(brk) X(rt_sigaction) X(rt_sigprocmask) X(rt_sigreturn) \
	X(ioctl) X(pread64) X(pwrite64) X(readv) X(writev) X(access) X(sched_yield) \
	X(mremap) X(msync) X(madvise) X(dup) X(dup2) X(pause) X(nanosleep) X(getpid) \
	X(clone) X(fork) X(vfork) X(execve) X(exit) X(wait4) X(kill) X(uname) X(fcntl) \
	X(getcwd) X(chdir) X(fchdir) X(mkdir) X(rmdir) X(unlink) X(symlink) X(readlink) \
	X(umask) X(gettimeofday) X(sysinfo) X(getuid) X(getgid) X(geteuid) X(getegid) \
	X(setpgid) X(getppid) X(getpgrp) X(setsid) X(getgroups) X(getpgid) X(getsid) \
	X(getresuid) X(getresgid) X(rt_sigpending) X(rt_sigsuspend) X(sigaltstack) \
	X(arch_prctl) X(prctl) X(gettid) X(time) X(futex) X(sched_getaffinity) \
	X(set_tid_address) X(clock_gettime) X(clock_getres) X(clock_nanosleep) \
	X(exit_group) X(tgkill) X(tkill) X(openat) X(mkdirat) X(newfstatat) X(unlinkat) \
	X(symlinkat) X(readlinkat) X(faccessat) X(set_robust_list) X(get_robust_list) \
	X(dup3) X(preadv) X(pwritev) X(prlimit64) X(getrlimit) X(setrlimit) X(getrandom) \
	X(statx) X(clone3) X(faccessat2) X(getdents64) X(rseq) X(waitid) X(setuid) \
	X(setgid) X(setresuid) X(setresgid) X(setgroups) X(getpriority) X(restart_syscall) \
	X(close_range) X(creat) X(statfs) X(fstatfs) X(getxattr) X(lgetxattr) X(fgetxattr) \
	X(listxattr) X(llistxattr) X(flistxattr) X(setxattr) X(lsetxattr) X(fsetxattr) \
	X(removexattr) X(lremovexattr) X(fremovexattr) X(fadvise64) X(copy_file_range) \
	X(sched_setaffinity) X(sched_getscheduler) X(sched_setscheduler) X(sched_getparam) \
	X(sched_setparam) X(sched_get_priority_max) X(sched_get_priority_min) X(getcpu) \
	X(rt_sigqueueinfo) X(rt_tgsigqueueinfo) X(pipe) X(pipe2) X(poll) X(ppoll) X(select) X(pselect6) \
	X(chmod) X(fchmod) X(fchmodat) X(chown) X(fchown) X(lchown) X(fchownat) X(truncate) \
	X(ftruncate) X(utimensat) X(utimes) X(futimesat) X(rename) X(renameat) X(renameat2) \
	X(link) X(linkat) X(getrusage) X(times) X(rt_sigtimedwait) X(getitimer) \
	X(setitimer) X(alarm) X(pidfd_open) X(pidfd_send_signal) \
	X(connect) X(accept) X(accept4) X(sendto) X(recvfrom) X(sendmsg) X(recvmsg) X(sendmmsg) \
	X(recvmmsg) X(shutdown) X(bind) X(listen) X(getsockname) X(getpeername) X(setsockopt) \
	X(getsockopt) X(flock) X(fsync) X(fdatasync) X(sync) X(syncfs) \
	X(eventfd) X(eventfd2) X(timerfd_create) X(timerfd_settime) X(timerfd_gettime) X(signalfd) X(signalfd4) X(epoll_create) X(epoll_create1) X(epoll_ctl) X(epoll_wait) X(epoll_pwait) X(epoll_pwait2) \
	X(fallocate) X(memfd_create) X(splice) X(tee) X(vmsplice) X(sendfile) X(inotify_init) X(inotify_init1) X(inotify_add_watch) X(inotify_rm_watch) \
	X(socket) X(socketpair) \
	X(unshare)

#define DECLARE(name) SYSCALL(name);
SYSCALL_LIST(DECLARE)
#undef DECLARE

#endif
