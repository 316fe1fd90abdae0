/* The attributes the gofer reports, corrected where its confinement changes its view:
 * the tmpfs directories of its private root stand for host directories, and a user
 * namespace hides other users' ids. The owner helper is a small process outside that
 * user namespace: it can open nothing, and only tells the owner of a file the gofer
 * already holds. */
#include "gofer/host_stat.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

struct owner_reply {
	int32_t err; /* 0 or a positive errno */
	uint32_t uid, gid;
};

static struct host_stat_override *overrides;
static size_t noverrides;
static int helper_fd = -1;
static pid_t helper_pid = -1;
static uid_t overflow_uid = 65534;
static gid_t overflow_gid = 65534;

int host_stat_set_overrides(const struct host_stat_override *ov, size_t n)
{
	struct host_stat_override *copy = NULL;

	if (n) {
		copy = malloc(n * sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, ov, n * sizeof(*copy));
	}
	free(overrides);
	overrides = copy;
	noverrides = n;
	return 0;
}

static const struct host_stat_override *find_override(dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < noverrides; i++)
		if (overrides[i].dev == dev && overrides[i].ino == ino)
			return &overrides[i];
	return NULL;
}

ino_t host_stat_dirent_ino(dev_t dir_dev, ino_t ino)
{
	const struct host_stat_override *o = find_override(dir_dev, ino);

	return o ? o->host.st_ino : ino;
}

/* Asks the helper for fd's owner; false if it cannot tell. */
static bool helper_owner(int fd, uid_t *uid, gid_t *gid)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct owner_reply rep;
	char byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	ssize_t n;

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	do
		n = sendmsg(helper_fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		return false;
	do
		n = recv(helper_fd, &rep, sizeof(rep), 0);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(rep) || rep.err)
		return false;
	*uid = rep.uid;
	*gid = rep.gid;
	return true;
}

void host_stat_fix(int fd, struct stat *st)
{
	const struct host_stat_override *o = find_override(st->st_dev, st->st_ino);
	uid_t uid;
	gid_t gid;

	if (o) {
		*st = o->host;
		return;
	}
	if (helper_fd >= 0 && (st->st_uid == overflow_uid || st->st_gid == overflow_gid) &&
	    helper_owner(fd, &uid, &gid)) {
		st->st_uid = uid;
		st->st_gid = gid;
	}
}

int host_stat_helper_fd(void)
{
	return helper_fd;
}

static int helper_confine(int sock)
{
	static const int plain[] = {
		SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(close), SCMP_SYS(exit),
		SCMP_SYS(exit_group), SCMP_SYS(rt_sigreturn), SCMP_SYS(restart_syscall),
#ifdef __SANITIZE_ADDRESS__
		SCMP_SYS(write), SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(sigaltstack),
		SCMP_SYS(rt_sigprocmask), SCMP_SYS(sched_yield), SCMP_SYS(munmap), SCMP_SYS(mmap),
		SCMP_SYS(futex),
#endif
	};
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int err = 0;

	if (!ctx)
		return -ENOMEM;
	for (size_t i = 0; !err && i < sizeof(plain) / sizeof(plain[0]); i++)
		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, plain[i], 0);
	if (!err)
		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(recvmsg), 1,
				       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)sock));
	if (!err)
		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendto), 1,
				       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)sock));
	if (!err)
		err = seccomp_load(ctx);
	seccomp_release(ctx);
	return err;
}

/* The helper's whole life: one descriptor in, its owner out, until EOF. */
static void __attribute__((noreturn)) helper_main(int sock)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() == 1)
		_exit(1);
	if ((sock > 0 && close_range(0, (unsigned)sock - 1, 0) < 0) ||
	    close_range((unsigned)sock + 1, ~0u, 0) < 0)
		_exit(1);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    helper_confine(sock) < 0)
		_exit(1);
	for (;;) {
		char cbuf[CMSG_SPACE(4 * sizeof(int))], byte;
		struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		struct owner_reply rep = { .err = EBADF };
		int fds[4], nfds = 0;
		ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0);
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
				size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

				for (size_t i = 0; i < k && nfds < 4; i++)
					memcpy(&fds[nfds++], CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			}
		if (nfds == 1 && !(mh.msg_flags & MSG_CTRUNC)) {
			struct stat st;

			if (fstatat(fds[0], "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0)
				rep = (struct owner_reply){ .uid = st.st_uid, .gid = st.st_gid };
			else
				rep.err = errno;
		}
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		if (send(sock, &rep, sizeof(rep), MSG_NOSIGNAL) < 0 && errno != EINTR)
			_exit(0);
	}
}

static unsigned read_overflow(const char *path)
{
	FILE *f = fopen(path, "re");
	unsigned v = 65534;

	if (f) {
		if (fscanf(f, "%u", &v) != 1)
			v = 65534;
		fclose(f);
	}
	return v;
}

int host_stat_start_owner_helper(void)
{
	int sv[2];
	pid_t pid;

	overflow_uid = read_overflow("/proc/sys/kernel/overflowuid");
	overflow_gid = read_overflow("/proc/sys/kernel/overflowgid");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		close(sv[0]);
		close(sv[1]);
		return err;
	}
	if (pid == 0) {
		close(sv[0]);
		helper_main(sv[1]);
	}
	close(sv[1]);
	helper_fd = sv[0];
	helper_pid = pid;
	return helper_fd;
}

void host_stat_stop_owner_helper(void)
{
	if (helper_fd >= 0)
		close(helper_fd);
	helper_fd = -1;
	if (helper_pid > 0) {
		kill(helper_pid, SIGKILL);
		waitpid(helper_pid, NULL, 0);
	}
	helper_pid = -1;
}
