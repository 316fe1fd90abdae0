/* `ward gofer`: the broker process. It holds the only host fds, so it confines itself
 * before reading a single request: no other fds, no new privileges, not ptraceable,
 * dies with its parent, and a seccomp allowlist of exactly what the server loop uses. */
#include "gofer/server.h"
#include "gofer/isolate.h"
#include "gofer/host_stat.h"
#include "gofer/protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define DENY_ARGS_MAX 64

/* A file descriptor number given on the command line: -1 if it is not one. */
static int fd_arg(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	return errno || *end || end == s || v < 0 || v > INT_MAX ? -1 : (int)v;
}

static int usage(void)
{
	fprintf(stderr, "usage: ward gofer --sock-fd N [--root DIR] [--all] [--deny PATTERN]... "
			"[--export DIR]... [--writable DIR]... [--status-fd N] [--memory-fd N]\n");
	return 2;
}

/* Resolves export arg (checked absolute, in the root's namespace) with realpath()
 * beneath the root, whose canonical path is rroot: symlinks along it are followed on
 * the host now, so the gofer (which never follows one) can reach the result. Returns
 * the canonical path relative to the root, malloc'd, or NULL after a message. */
static char *resolve_export(const char *rroot, const char *opt, const char *arg)
{
	size_t rlen = strcmp(rroot, "/") == 0 ? 0 : strlen(rroot);
	char joined[PATH_MAX], canon[PATH_MAX];
	const char *why;
	int err;

	if ((size_t)snprintf(joined, sizeof(joined), "%.*s%s", (int)rlen, rroot, arg) >=
	    sizeof(joined)) {
		why = strerror(ENAMETOOLONG);
		goto bad;
	}
	err = gofer_canonical_export(joined, canon, sizeof(canon));
	if (err) {
		/* -EINVAL: it is "/", the root itself only if that is the root */
		why = err != -EINVAL ? strerror(-err)
			: rlen	     ? "resolves outside the root"
				     : "is the root (use --all)";
		goto bad;
	}
	if (rlen && (strncmp(canon, rroot, rlen) != 0 || canon[rlen] != '/')) {
		why = strcmp(canon, rroot) == 0 ? "is the root (use --all)" : "resolves outside the root";
		goto bad;
	}
	return strdup(canon + rlen);
bad:
	fprintf(stderr, "ward gofer: %s %s: %s\n", opt, arg, why);
	return NULL;
}

static int cmp_int(const void *a, const void *b)
{
	return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

/* Closes every fd but the n in keep (negative entries ignored; keep is sorted). */
static int close_others(int *keep, size_t n)
{
	unsigned next = 0;

	qsort(keep, n, sizeof(*keep), cmp_int);
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < 0 || (unsigned)keep[i] < next)
			continue;
		if ((unsigned)keep[i] > next && close_range(next, (unsigned)keep[i] - 1, 0) < 0)
			return -errno;
		next = (unsigned)keep[i] + 1;
	}
	return close_range(next, ~0u, 0) < 0 ? -errno : 0;
}

/* The server loop's syscalls, and glibc's under them (malloc, stdio-free paths).
 * helper: the owner helper's socket (host_stat.h), or -1; status_fd: the exit status
 * pipe, or -1; mem: the memory file, or NULL. */
static int seccomp_install(int sock, int helper, int status_fd, const struct gofer_memory *mem)
{
	static const int plain[] = {
		/* the operations */
		SCMP_SYS(openat2), SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(fstatfs),
		SCMP_SYS(pread64), SCMP_SYS(getdents64), SCMP_SYS(lseek), SCMP_SYS(readlinkat),
		SCMP_SYS(close),
		/* the write side */
		SCMP_SYS(pwrite64), SCMP_SYS(mkdirat), SCMP_SYS(unlinkat), SCMP_SYS(renameat2),
		SCMP_SYS(linkat), SCMP_SYS(symlinkat), SCMP_SYS(fchmod), SCMP_SYS(fchownat),
		SCMP_SYS(utimensat), SCMP_SYS(ftruncate), SCMP_SYS(fallocate), SCMP_SYS(fsync),
		SCMP_SYS(fdatasync), SCMP_SYS(geteuid),
		/* malloc */
		SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
		SCMP_SYS(futex), SCMP_SYS(getrandom),
		/* signals and exit */
		SCMP_SYS(rt_sigreturn), SCMP_SYS(restart_syscall), SCMP_SYS(exit),
		SCMP_SYS(exit_group),
#ifdef __SANITIZE_ADDRESS__
		/* The sanitizer runtime's own needs, for test builds only. */
		SCMP_SYS(write), SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(sigaltstack),
		SCMP_SYS(rt_sigprocmask), SCMP_SYS(sched_yield),
#endif
	};
	/* Only the one socket: no other fd can be a socket here anyway, but egress will
	 * add its own rules and this keeps the two apart. */
	static const int sock_calls[] = {
		SCMP_SYS(recvmsg), SCMP_SYS(sendmsg), SCMP_SYS(recvfrom), SCMP_SYS(sendto),
	};
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int err = 0;

	if (!ctx)
		return -ENOMEM;
	err = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	for (size_t i = 0; !err && i < sizeof(plain) / sizeof(plain[0]); i++)
		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, plain[i], 0);
	for (size_t i = 0; !err && i < sizeof(sock_calls) / sizeof(sock_calls[0]); i++)
		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sock_calls[i], 1,
				       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)sock));
	for (size_t i = 0; !err && helper >= 0 && i < sizeof(sock_calls) / sizeof(sock_calls[0]); i++)
		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sock_calls[i], 1,
				       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)helper));
	/* Memory, but never executable memory. */
	/* fchmodat2 (Linux 6.6), by number: libseccomp before 2.5.5 does not know it, and
	 * it is 452 on every architecture. Older kernels answer ENOSYS and the server
	 * falls back to fchmod. */
	if (!err)
		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, 452, 0);
	/* mknodat for socket nodes only (AF_UNIX binds in the workspace). */
	if (!err)
		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mknodat), 1,
				       SCMP_A2(SCMP_CMP_MASKED_EQ, S_IFMT, S_IFSOCK));
	if (!err)
		err = gofer_allow_data_mappings(ctx);
	/* The one byte of its exit status for ward run. */
	if (!err && status_fd >= 0)
		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 2,
				       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)status_fd),
				       SCMP_A2(SCMP_CMP_EQ, 1));
	/* READ_MEM's splices: any file into its pipe, and that pipe into the memory file. */
	if (!err && mem)
		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(splice), 1,
				       SCMP_A2(SCMP_CMP_EQ, (scmp_datum_t)mem->pipe[1]));
	if (!err && mem)
		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(splice), 2,
				       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)mem->pipe[0]),
				       SCMP_A2(SCMP_CMP_EQ, (scmp_datum_t)mem->fd));
	if (!err)
		err = seccomp_load(ctx);
	seccomp_release(ctx);
	return err;
}

int gofer_main(int argc, char **argv)
{
	const char *deny[DENY_ARGS_MAX + 8];
	struct gofer_policy pol = { .system_only = true, .deny = deny };
	const char *root = "/";
	const char **raw;  /* the --export arguments */
	const char **wraw; /* the --writable arguments */
	char **exports = NULL, **writable = NULL, *rroot = NULL;
	struct gofer_mount_plan plan;
	const char *served;
	char why[256];
	struct rlimit rl;
	size_t ndeny = 0, nexp = 0, nwr = 0;
	int sock = -1, status_fd = -1, memory_fd = -1, type, root_fd, err, ret = 1, i = 1;
	struct gofer_memory mem = { .fd = -1, .pipe = { -1, -1 } };
	socklen_t tlen = sizeof(type);

	for (size_t k = 0; gofer_default_deny[k]; k++)
		deny[ndeny++] = gofer_default_deny[k];
	if (argc > 1 && strcmp(argv[1], "gofer") == 0)
		i++;
	raw = calloc((size_t)argc + 1, sizeof(*raw));
	wraw = calloc((size_t)argc + 1, sizeof(*wraw));
	if (!raw || !wraw) {
		free(raw);
		free(wraw);
		return 1;
	}
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--sock-fd") == 0 && i + 1 < argc) {
			if ((sock = fd_arg(argv[++i])) < 0)
				goto bad_usage;
		} else if (strcmp(argv[i], "--status-fd") == 0 && i + 1 < argc) {
			if ((status_fd = fd_arg(argv[++i])) < 0)
				goto bad_usage;
		} else if (strcmp(argv[i], "--memory-fd") == 0 && i + 1 < argc) {
			if ((memory_fd = fd_arg(argv[++i])) < 0)
				goto bad_usage;
		} else if (strcmp(argv[i], "--root") == 0 && i + 1 < argc) {
			root = argv[++i];
		} else if (strcmp(argv[i], "--deny") == 0 && i + 1 < argc) {
			if (ndeny >= sizeof(deny) / sizeof(deny[0]) - 1)
				goto bad_usage;
			deny[ndeny++] = argv[++i];
		} else if ((strcmp(argv[i], "--export") == 0 || strcmp(argv[i], "--writable") == 0) &&
			   i + 1 < argc) {
			bool w = argv[i][2] == 'w';

			err = gofer_export_check(argv[++i]);
			if (err) {
				fprintf(stderr, "ward gofer: %s %s: %s\n", argv[i - 1], argv[i],
					err != -EINVAL		      ? strerror(-err)
					: strcmp(argv[i], "/") == 0 ? "is the root (use --all)"
					: "not an absolute path of plain components");
				ret = 2;
				goto out;
			}
			if (w)
				wraw[nwr++] = argv[i];
			else
				raw[nexp++] = argv[i];
		} else if (strcmp(argv[i], "--all") == 0) {
			pol.system_only = false;
		} else {
			goto bad_usage;
		}
	}
	deny[ndeny] = NULL;
	if (sock < 0)
		goto bad_usage;

	/* Exports are resolved while the host is still in view, and all of them, so a
	 * bad one is reported even under --all (which ignores them). */
	exports = calloc(nexp + 1, sizeof(*exports));
	writable = calloc(nwr + 1, sizeof(*writable));
	rroot = realpath(root, NULL);
	if (!exports || !writable || !rroot) {
		fprintf(stderr, "ward gofer: %s: %s\n", root, strerror(errno));
		goto out;
	}
	for (size_t k = 0; k < nexp; k++) {
		exports[k] = resolve_export(rroot, "--export", raw[k]);
		if (!exports[k]) {
			ret = 2;
			goto out;
		}
	}
	for (size_t k = 0; k < nwr; k++) {
		writable[k] = resolve_export(rroot, "--writable", wraw[k]);
		if (!writable[k]) {
			ret = 2;
			goto out;
		}
	}
	pol.exports = (const char *const *)exports;
	pol.writable = (const char *const *)writable;

	if (getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 || type != SOCK_SEQPACKET) {
		fprintf(stderr, "ward gofer: fd %d is not a SOCK_SEQPACKET socket\n", sock);
		goto out;
	}
	if (memory_fd >= 0) {
		err = gofer_memory_open(&mem, memory_fd);
		if (err) {
			fprintf(stderr, "ward gofer: fd %d is not a memory file: %s\n", memory_fd,
				strerror(-err));
			goto out;
		}
		pol.memory = &mem;
	}
	/* Only what is served stays in view; the paths below the root are the same. */
	plan = (struct gofer_mount_plan){ .root = rroot, .whole_root = !pol.system_only,
					  .system_names = gofer_system_names,
					  .exports = pol.exports, .writable = pol.writable };
	err = gofer_isolate(&plan, &served, why, sizeof(why));
	if (err < 0) {
		fprintf(stderr, "ward gofer: cannot confine the gofer's view of the host: %s\n",
			strerror(-err));
		goto out;
	}
	if (err > 0)
		fprintf(stderr, "ward gofer: warning: %s; the gofer sees the host's whole "
				"filesystem (it still follows no symlink)\n", why);
	root_fd = open(served, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0) {
		fprintf(stderr, "ward gofer: %s: %s\n", root, strerror(errno));
		goto out;
	}

	/* Modes come from the sentry as they should be on disk. */
	umask(0);
	/* From here on nothing is printed: stderr is gone. */
	err = prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ? -errno : 0;
	if (!err) {
		int keep[7] = { sock, root_fd, host_stat_helper_fd(), status_fd, mem.fd, mem.pipe[0], mem.pipe[1] };

		err = close_others(keep, 7);
	}
	/* Room for two fds (path + open) per fid, if the hard limit allows. */
	if (!err && getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rlim_t want = 2 * (rlim_t)GOFER_MAX_FIDS_DEFAULT + 64;

		rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
		setrlimit(RLIMIT_NOFILE, &rl); /* best effort: -EMFILE comes back otherwise */
	}
	/* A unix datagram must fit in the sender's buffer: make sure a full-size reply
	 * does even where wmem_default was lowered (best effort, capped by wmem_max). */
	if (!err)
		setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &(int){ 2 * GOFER_MSG_MAX }, sizeof(int));
	if (!err)
		err = gofer_drop_capabilities();
	/* Not ptraceable by the same-uid sentry, and no privilege gain by exec. */
	if (!err && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		err = -errno;
	if (!err && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		err = -errno;
	if (!err)
		err = seccomp_install(sock, host_stat_helper_fd(), status_fd, pol.memory);
	if (!err)
		err = gofer_serve(sock, root_fd, &pol);
	ret = err ? 1 : 0;
	/* Said before the exit itself, which ward run need not wait for (gofer_serve has
	 * closed every host file it opened). */
	if (status_fd >= 0 && write(status_fd, &(unsigned char){ (unsigned char)ret }, 1) < 0)
		ret = 1;
	goto out;
bad_usage:
	ret = usage();
out:
	gofer_memory_close(&mem);
	for (size_t k = 0; exports && exports[k]; k++)
		free(exports[k]);
	free(exports);
	for (size_t k = 0; writable && writable[k]; k++)
		free(writable[k]);
	free(writable);
	free(rroot);
	free(raw);
	free(wraw);
	return ret;
}
