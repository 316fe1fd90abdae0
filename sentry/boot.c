/* `ward boot`: the sentry process. Builds the kernel (memory file, platform, gofer
 * connection, mounts), starts the first guest process and runs the event loop until it
 * exits, then exits with the guest's status. */
#include "sentry/boot.h"
#include "sentry/confine.h"
#include "sentry/net/net.h"
#include "sentry/fs/fs.h"
#include "platform/platform.h"
#include "sentry/kernel/kernel.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define MEMFILE_SIZE (64ULL << 30)
/* Message areas (32 KiB per guest thread) and batch pages (4 KiB per process): sparse. */
#define PLATFORM_FILE_SIZE (4ULL << 30)
#define MAX_ENV 256

static const char *const default_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root",
	"LANG=C.UTF-8",
};

static int usage(void)
{
	fprintf(stderr, "usage: ward boot --gofer-fd N [--platform=NAME] [--env K=V]... [--term T] "
			"[--debug] [--no-syscall-patching] -- CMD [ARGS...]\n");
	return 2;
}

/* Sets K=V in env (replacing an existing K). */
static int env_set(char **env, int *n, const char *kv)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		return -EINVAL;
	size_t klen = (size_t)(eq - kv);
	for (int i = 0; i < *n; i++) {
		if (strncmp(env[i], kv, klen) == 0 && env[i][klen] == '=') {
			env[i] = (char *)kv;
			return 0;
		}
	}
	if (*n >= MAX_ENV - 1)
		return -E2BIG;
	env[(*n)++] = (char *)kv;
	env[*n] = NULL;
	return 0;
}

static const char *env_get(char **env, int n, const char *key)
{
	size_t klen = strlen(key);
	for (int i = 0; i < n; i++)
		if (strncmp(env[i], key, klen) == 0 && env[i][klen] == '=')
			return env[i] + klen + 1;
	return NULL;
}

/* PATH search inside the sandbox, as execvp does: the first executable regular file. */
static int find_in_path(struct task *t, const char *cmd, const char *path, char *out, size_t outsz)
{
	if (strchr(cmd, '/')) {
		snprintf(out, outsz, "%s", cmd);
		return 0;
	}
	int saw_eacces = 0;
	const char *p = path ? path : "/usr/bin:/bin";
	while (*p) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char cand[PATH_MAX];
		snprintf(cand, sizeof(cand), "%.*s%s%s", (int)len, p, len ? "/" : "", cmd);
		struct dentry *d;
		if (vfs_walk(t->fs, NULL, cand, WALK_FOLLOW, &d) == 0) {
			struct kstat st;
			inode_getattr(d->inode, &st);
			dentry_put(d);
			if (S_ISREG(st.mode) && (st.mode & 0111)) {
				snprintf(out, outsz, "%s", cand);
				return 0;
			}
			saw_eacces = 1;
		}
		p += len;
		if (*p == ':')
			p++;
	}
	return saw_eacces ? -EACCES : -ENOENT;
}

/* The platform's pages, from the platform file. */
static int platform_page_alloc(void *opaque, uint64_t len, uint64_t *off, void **ptr)
{
	struct memfile *mf = opaque;
	int err = memfile_alloc(mf, len, off);
	if (err < 0)
		return err;
	*ptr = memfile_ptr(mf, *off);
	return 0;
}

static void platform_page_free(void *opaque, uint64_t off, uint64_t len)
{
	memfile_free(opaque, off, len);
}

static int kernel_init(struct kernel *k, const struct platform_kind *pk, int gofer_fd, int memory_fd,
		       char *const binds[], int nbinds, const char *workspace)
{
	int err;
	memset(k, 0, sizeof(*k));
	list_init(&k->runq);
	list_init(&k->graveyard);
	list_init(&k->tg_graveyard);
	list_init(&k->timers);
	list_init(&k->mms);
	waitqueue_init(&k->futex_wq);
	for (int i = 0; i < 3; i++)
		waitqueue_init(&k->host_wq[i]);
	k->next_tid = 1;
	k->boot_ns = now_ns();
	k->ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (k->ncpus < 1)
		k->ncpus = 1;
	snprintf(k->hostname, sizeof(k->hostname), "sandbox");
	for (int i = 0; i < 3; i++)
		k->host_stdio[i] = i;
	err = memory_fd >= 0 ? memfile_init_fd(&k->mf, memory_fd, MEMFILE_SIZE)
			     : memfile_init(&k->mf, MEMFILE_SIZE);
	if (err < 0) {
		fprintf(stderr, "ward: cannot create the memory file: %s\n", strerror(-err));
		return err;
	}
	k->mf.owner = k;
	int platform_fd = memfd_create("ward-platform", MFD_CLOEXEC);
	if ((err = platform_fd < 0 ? -errno : memfile_init_fd(&k->platform_mf, platform_fd, PLATFORM_FILE_SIZE)) < 0) {
		fprintf(stderr, "ward: cannot create the platform file: %s\n", strerror(-err));
		return err;
	}
	const struct platform_memory mem = {k->platform_mf.fd, &k->platform_mf, platform_page_alloc,
					    platform_page_free};
	if ((err = pk->create(k->mf.fd, &mem, &k->plat)) < 0) {
		fprintf(stderr, "ward: cannot start the %s platform: %s\n", pk->name, strerror(-err));
		return err;
	}
	if ((err = gofer_client_init(&k->gofer, gofer_fd)) < 0) {
		fprintf(stderr, "ward: gofer connection: %s\n", strerror(-err));
		return err;
	}
	k->epfd = epoll_create1(EPOLL_CLOEXEC);
	k->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (k->epfd < 0 || k->timerfd < 0)
		return -errno;
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = k->plat->ops->event_fd(k->plat)};
	epoll_ctl(k->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
	ev.data.fd = k->timerfd;
	epoll_ctl(k->epfd, EPOLL_CTL_ADD, k->timerfd, &ev);
	if ((err = fs_setup_root(k, binds, nbinds, workspace)) < 0) {
		fprintf(stderr, "ward: cannot set up the sandbox's filesystem: %s\n", strerror(-err));
		return err;
	}
	return 0;
}

static struct kernel *the_kernel; /* for the terminal-signal handler only */

static void on_terminal_signal(int sig)
{
	if (the_kernel)
		__atomic_or_fetch(&the_kernel->host_signals, 1u << sig, __ATOMIC_SEQ_CST);
}

/* Terminal signals are for the guest: note them (the event loop passes them on) and let
 * the blocking wait return EINTR so it does so promptly. */
static void catch_terminal_signals(struct kernel *k)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_terminal_signal;
	the_kernel = k;
	static const int sigs[] = {SIGINT, SIGQUIT, SIGTSTP, SIGWINCH};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

int sentry_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"gofer-fd", required_argument, NULL, 'g'},
		{"memory-fd", required_argument, NULL, 'M'},
		{"platform", required_argument, NULL, 'p'},
		{"env", required_argument, NULL, 'e'},
		{"term", required_argument, NULL, 't'},
		{"debug", no_argument, NULL, 'd'},
		{"bind", required_argument, NULL, 'b'},
		{"max-tasks", required_argument, NULL, 'm'},
		{"tmpfs-size", required_argument, NULL, 's'},
		{"cwd", required_argument, NULL, 'c'},
		{"net-fd", required_argument, NULL, 'n'},
		{"log-fd", required_argument, NULL, 'l'},
		{"no-syscall-patching", no_argument, NULL, 'P'},
		{NULL, 0, NULL, 0},
	};
	static char *binds[64];
	int nbinds = 0;
	int gofer_fd = -1, net_fd = -1, memory_fd = -1, c, n = 0, max_tasks = 1024;
	const char *default_why;
	const struct platform_kind *pk = platform_default(&default_why);
	uint64_t tmpfs_size = 1ull << 30;
	const char *start_dir = NULL;
	bool debug = false, patching = true;
	static char *env[MAX_ENV];
	for (size_t i = 0; i < sizeof(default_env) / sizeof(default_env[0]); i++)
		env_set(env, &n, default_env[i]);
	optind = 1;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			gofer_fd = atoi(optarg);
			break;
		case 'n':
			net_fd = atoi(optarg);
			break;
		case 'M':
			memory_fd = atoi(optarg);
			break;
		case 'l':
			kernel_log_fd = atoi(optarg);
			break;
		case 'p':
			if (!(pk = platform_kind_by_name(optarg))) {
				fprintf(stderr, "ward: unknown platform '%s' (see ward platforms)\n", optarg);
				return 2;
			}
			break;
		case 'e':
			if (env_set(env, &n, optarg) < 0) {
				fprintf(stderr, "ward: bad --env '%s' (want KEY=VALUE)\n", optarg);
				return 2;
			}
			break;
		case 't': {
			static char term[256];
			snprintf(term, sizeof(term), "TERM=%s", optarg);
			env_set(env, &n, term);
			break;
		}
		case 'd':
			debug = true;
			break;
		case 'P':
			patching = false;
			break;
		case 'c':
			start_dir = optarg;
			break;
		case 'm':
			max_tasks = atoi(optarg);
			if (max_tasks < 1) {
				fprintf(stderr, "ward: bad --max-tasks '%s'\n", optarg);
				return 2;
			}
			break;
		case 's': {
			char *end;
			tmpfs_size = strtoull(optarg, &end, 10);
			if (*end || tmpfs_size < 4096) {
				fprintf(stderr, "ward: bad --tmpfs-size '%s'\n", optarg);
				return 2;
			}
			break;
		}
		case 'b':
			if (nbinds == 64 || optarg[0] != '/') {
				fprintf(stderr, "ward: bad --bind '%s'\n", optarg);
				return 2;
			}
			binds[nbinds++] = optarg;
			break;
		default:
			return usage();
		}
	}
	if (gofer_fd < 0 || optind >= argc)
		return usage();
	/* The sandbox lives only as long as the `ward run` that started it; the stubs die
	 * with the sentry (PTRACE_O_EXITKILL) and the gofer with `ward run`. */
	pid_t parent = getppid();
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		return 125;
	if (!env_get(env, n, "TERM"))
		env_set(env, &n, "TERM=dumb");

	/* A write to a closed pipe (host stdout read by `head`, a relay pipe whose
	 * connection the net gofer dropped) is EPIPE for the guest, not the sentry's end. */
	signal(SIGPIPE, SIG_IGN);
	static struct kernel kern;
	struct kernel *k = &kern;
	if (kernel_init(k, pk, gofer_fd, memory_fd, binds, nbinds, start_dir) < 0)
		return 125;
	if (net_fd >= 0 && net_egress_init(k, net_fd) < 0)
		return 125;
	int nerr = net_etc_files(k);
	if (nerr < 0)
		kernel_log("cannot write the sandbox's /etc/hosts and /etc/resolv.conf: %s", strerror(-nerr));
	/* Everything the sentry needs from the host is open now (stdio, gofer socket, memory
	 * file): from here on it could not open anything else even if it wanted to. */
	int cerr = sentry_confine();
	if (cerr < 0) {
		fprintf(stderr, "ward: cannot confine the sentry: %s\n", strerror(-cerr));
		return 125;
	}
	k->debug = debug;
	k->max_tasks = max_tasks;
	if (patching && k->plat->ops->patch_entry)
		k->patch_entry = k->plat->ops->patch_entry(k->plat);
	/* What the sandbox itself wrote at boot (/etc/hosts, /etc/resolv.conf) is not the
	 * guest's to pay for: the guest gets all of --tmpfs-size. */
	k->shmem_boot = k->shmem_used;
	k->shmem_limit = tmpfs_size + k->shmem_boot;
	catch_terminal_signals(k);
	struct task *init;
	if (task_create_init(k, &init) < 0) {
		fprintf(stderr, "ward: cannot create the first task\n");
		return 125;
	}
	const char *cmd = argv[optind];
	char path[PATH_MAX];
	k->current = init;
	if (start_dir) {
		struct dentry *d;
		if (vfs_walk(init->fs, NULL, start_dir, WALK_FOLLOW | WALK_DIRECTORY, &d) == 0) {
			dentry_put(init->fs->cwd);
			init->fs->cwd = d;
		} else {
			fprintf(stderr, "ward: the workspace %s is not visible in the sandbox\n", start_dir);
		}
	}
	int err = find_in_path(init, cmd, env_get(env, n, "PATH"), path, sizeof(path));
	if (err == 0)
		err = loader_exec(init, path, argv + optind, argc - optind, env, n);
	k->current = NULL;
	if (err < 0) {
		if (err == -ENOENT) {
			fprintf(stderr, "ward: %s: command not found\n", cmd);
			return 127;
		}
		fprintf(stderr, "ward: %s: cannot execute: %s\n", cmd, strerror(-err));
		return 126;
	}
	k->plat->ops->set_owner(init->ctx, init);
	k->fg_pgrp = init->tg->pgid;
	task_make_runnable(init);
	int run_err = kernel_run(k);
	net_egress_finish(k);
	if (run_err < 0)
		return 125;
	if (k->term_signal)
		kernel_log("guest killed by signal %d (%s)", k->term_signal, signal_name(k->term_signal));
	return k->exit_code;
}
