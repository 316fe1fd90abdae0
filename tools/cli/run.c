/* `ward run`: the control plane's side of one sandbox. It holds the policy (what the
 * gofer exports, the guest's environment), starts the gofer and the sentry as fresh
 * images of this binary with nothing of the host's environment, and passes the guest's
 * exit status through. */
#include "tools/cli/cli.h"
#include "tools/cli/sandbox_cpu.h"
#include "tools/cli/sandbox_stdio.h"
#include "gofer/egress_policy.h"
#include "gofer/server.h"
#include "platform/platform.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ARGS 512

struct argv_builder {
	char *v[MAX_ARGS];
	int n;
};

static int push(struct argv_builder *b, const char *s)
{
	if (b->n >= MAX_ARGS - 1)
		return -E2BIG;
	b->v[b->n++] = strdup(s);
	b->v[b->n] = NULL;
	return 0;
}

static void help(FILE *out)
{
	fprintf(out,
		"usage: ward run [OPTIONS] [--] COMMAND [ARGS...]\n"
		"Runs COMMAND in a sandbox: every system call is served by ward's own kernel.\n"
		"\n"
		"  --platform=NAME   how guest code is trapped: ptrace or seccomp (`ward\n"
		"                    platforms` lists them and says which is the default)\n"
		"  --no-syscall-patching\n"
		"                    seccomp platform: never rewrite the guest's hot syscall\n"
		"                    instructions into jumps (every syscall then traps)\n"
		"  --rootfs DIR      serve DIR as the sandbox's / (default: the host's system\n"
		"                    directories /usr /bin /sbin /lib* /etc /opt, read-only)\n"
		"  --ro-bind DIR     also show host directory DIR, read-only, at the same path\n"
		"  --workspace DIR   the directory shown at its own path and used as the guest's\n"
		"                    working directory (default: the current directory)\n"
		"  --no-workspace    no workspace: the guest starts in /\n"
		"  --env KEY=VALUE   add to the guest's environment (it never inherits the host's)\n"
		"  --max-tasks N     most tasks (threads and processes) at once (default 1024)\n"
		"  --tmpfs-size N    most bytes memory-backed files (/tmp, /dev/shm, changes to\n"
		"                    the system directories, memfd) hold together (default 1G;\n"
		"                    suffixes K, M, G): past it, ENOSPC\n"
		"  --allow-net HOST:PORT\n"
		"                    let the guest connect (TCP) to HOST:PORT and resolve HOST;\n"
		"                    repeatable. HOST: a name (pypi.org), a wildcard name\n"
		"                    (*.github.com: names below it), an IPv4 address or CIDR\n"
		"                    (192.0.2.0/24), an IPv6 one in brackets ([2001:db8::/32]),\n"
		"                    or host.ward.internal (this machine's 127.0.0.1). PORT: a\n"
		"                    number or *. Everything else is refused (ECONNREFUSED,\n"
		"                    NXDOMAIN)\n"
		"  --audit FILE      append one JSON line per connect and name lookup to FILE\n"
		"                    (default: denials are told on stderr)\n"
		"  --max-egress-bytes N  most bytes all outbound connections may send (suffixes\n"
		"                    K, M, G): past it the connection is reset, new ones refused\n"
		"  --max-egress-conns N  most outbound connections open at once (default 64)\n"
		"  --cpu auto|all|N  the CPU the whole sandbox runs on: auto (default) binds it\n"
		"                    to the core it starts on (guest syscalls and file operations\n"
		"                    are round trips between ward's processes, much slower\n"
		"                    across cores), N to CPU N, all to the CPUs ward may use\n"
		"  --debug           log every system call on stderr\n"
		"\n"
		"Exit status: the guest's; 128+N if a signal N killed it; 126 if COMMAND cannot\n"
		"be executed, 127 if it is not found, 125 if ward itself failed (also when the\n"
		"gofer, which serves the host's files, died while the guest ran: the guest's\n"
		"file operations failed with EIO from then on).\n");
}

/* "N", "NK", "NM", "NG" (powers of 1024, either case) to bytes; at least a page. */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	if (*s < '0' || *s > '9')
		return -1;
	unsigned long long v = strtoull(s, &end, 10);
	unsigned shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (errno || *end || v > (UINT64_MAX >> shift) || (v << shift) < 4096)
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

/* Starts this binary again in a role, with the nkeep fds of keep (those that are not -1)
 * kept open as themselves and an environment holding only what sanitizers need. */
static pid_t spawn_role(char *const argv[], const int *keep, int nkeep, bool sentry)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	for (int i = 0; i < nkeep; i++) {
		if (keep[i] < 0)
			continue;
		int flags = fcntl(keep[i], F_GETFD);
		fcntl(keep[i], F_SETFD, flags & ~FD_CLOEXEC);
	}
	if (sentry)
		sandbox_stdio_reopen_nonblocking();
	char *envp[4];
	int n = 0;
	static char asan[512], ubsan[512];
	const char *a = getenv("ASAN_OPTIONS"), *u = getenv("UBSAN_OPTIONS");
	if (a) {
		snprintf(asan, sizeof(asan), "ASAN_OPTIONS=%s", a);
		envp[n++] = asan;
	}
	if (u) {
		snprintf(ubsan, sizeof(ubsan), "UBSAN_OPTIONS=%s", u);
		envp[n++] = ubsan;
	}
	envp[n] = NULL;
	execve("/proc/self/exe", argv, envp);
	fprintf(stderr, "ward: cannot start '%s': %s\n", argv[1], strerror(errno));
	_exit(125);
}

static volatile sig_atomic_t termination;

/* How long ward waits, after the sentry, for the gofer to exit by itself, in polls
 * GOFER_EXIT_POLL_US apart (2 s in all; it normally takes well under a millisecond). */
#define GOFER_EXIT_POLL_US 100
#define GOFER_EXIT_POLLS 20000

static void report_gofer_death(int st)
{
	if (WIFSIGNALED(st))
		fprintf(stderr, "ward: the gofer died (signal %d: %s); file access failed\n",
			WTERMSIG(st), strsignal(WTERMSIG(st)));
}

static void on_termination(int sig)
{
	termination = sig;
}

int cli_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{"platform", required_argument, NULL, 'p'},
		{"rootfs", required_argument, NULL, 'r'},
		{"ro-bind", required_argument, NULL, 'b'},
		{"env", required_argument, NULL, 'e'},
		{"debug", no_argument, NULL, 'd'},
		{"no-syscall-patching", no_argument, NULL, 'P'},
		{"max-tasks", required_argument, NULL, 'm'},
		{"tmpfs-size", required_argument, NULL, 's'},
		{"workspace", required_argument, NULL, 'w'},
		{"no-workspace", no_argument, NULL, 'W'},
		{"allow-net", required_argument, NULL, 'a'},
		{"audit", required_argument, NULL, 'A'},
		{"max-egress-bytes", required_argument, NULL, 'B'},
		{"max-egress-conns", required_argument, NULL, 'C'},
		{"cpu", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct argv_builder gofer = {0}, sentry = {0}, netgofer = {0};
	int audit_fd = -1;
	const char *platform_why;
	const char *platform = platform_default(&platform_why)->name, *rootfs = NULL;
	char path[PATH_MAX], num[32];
	bool debug = false, no_workspace = false, no_patching = false;
	const char *workspace = NULL;
	int c, nbinds = 0, cpu = SANDBOX_CPU_AUTO;
	push(&gofer, "ward");
	push(&gofer, "gofer");
	push(&sentry, "ward");
	push(&sentry, "boot");
	push(&netgofer, "ward");
	push(&netgofer, "netgofer");
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			platform = optarg;
			break;
		case 'r':
			if (!realpath(optarg, path)) {
				fprintf(stderr, "ward: --rootfs %s: %s\n", optarg, strerror(errno));
				return 125;
			}
			rootfs = strdup(path);
			break;
		case 'b': {
			struct stat st;
			if (!realpath(optarg, path) || stat(path, &st) < 0) {
				fprintf(stderr, "ward: --ro-bind %s: %s\n", optarg, strerror(errno));
				return 125;
			}
			if (!S_ISDIR(st.st_mode)) {
				fprintf(stderr, "ward: --ro-bind %s: not a directory\n", optarg);
				return 125;
			}
			push(&gofer, "--export");
			push(&gofer, path);
			push(&sentry, "--bind");
			push(&sentry, path);
			nbinds++;
			break;
		}
		case 'e':
			if (!strchr(optarg, '=') || optarg[0] == '=') {
				fprintf(stderr, "ward: --env %s: want KEY=VALUE\n", optarg);
				return 125;
			}
			push(&sentry, "--env");
			push(&sentry, optarg);
			break;
		case 'd':
			debug = true;
			break;
		case 'P':
			no_patching = true;
			break;
		case 'm':
			push(&sentry, "--max-tasks");
			push(&sentry, optarg);
			break;
		case 's': {
			uint64_t size;
			if (parse_size(optarg, &size) < 0) {
				fprintf(stderr, "ward: --tmpfs-size %s: want a size of at least 4K "
						"(suffixes K, M, G)\n", optarg);
				return 125;
			}
			snprintf(num, sizeof(num), "%llu", (unsigned long long)size);
			push(&sentry, "--tmpfs-size");
			push(&sentry, num);
			break;
		}
		case 'w':
			workspace = optarg;
			break;
		case 'W':
			no_workspace = true;
			break;
		case 'a': {
			struct egress_rule rule;
			char why[160];
			if (egress_rule_parse(optarg, &rule, why, sizeof(why)) < 0) {
				fprintf(stderr, "ward: --allow-net %s: %s\n", optarg, why);
				return 125;
			}
			push(&netgofer, "--allow");
			if (push(&netgofer, optarg) < 0) {
				fprintf(stderr, "ward: too many --allow-net rules\n");
				return 125;
			}
			break;
		}
		case 'A':
			if (audit_fd >= 0)
				close(audit_fd);
			audit_fd = open(optarg, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
			if (audit_fd < 0) {
				fprintf(stderr, "ward: --audit %s: %s\n", optarg, strerror(errno));
				return 125;
			}
			break;
		case 'B': {
			uint64_t size;
			if (parse_size(optarg, &size) < 0) {
				fprintf(stderr, "ward: --max-egress-bytes %s: want a size of at least 4K "
						"(suffixes K, M, G)\n", optarg);
				return 125;
			}
			snprintf(num, sizeof(num), "%llu", (unsigned long long)size);
			push(&netgofer, "--max-bytes");
			push(&netgofer, num);
			break;
		}
		case 'C': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < 1 || v > 1024) {
				fprintf(stderr, "ward: --max-egress-conns %s: want 1-1024\n", optarg);
				return 125;
			}
			push(&netgofer, "--max-conns");
			push(&netgofer, optarg);
			break;
		}
		case 'c':
			if (sandbox_cpu_parse(optarg, &cpu) < 0) {
				fprintf(stderr, "ward: --cpu %s: want auto, all or a CPU number\n", optarg);
				return 125;
			}
			break;
		case 'h':
			help(stdout);
			return 0;
		default:
			help(stderr);
			return 125;
		}
	}
	if (optind >= argc) {
		help(stderr);
		return 125;
	}
	const struct platform_kind *pk = platform_kind_by_name(platform);
	const char *why = NULL;
	if (!pk) {
		fprintf(stderr, "ward: unknown platform '%s' (see ward platforms)\n", platform);
		return 125;
	}
	if (pk->available && pk->available(&why) < 0) {
		fprintf(stderr, "ward: the %s platform cannot run here: %s\n", platform, why);
		return 125;
	}
	char cpu_why[160];
	if (sandbox_cpu_apply(cpu, cpu_why, sizeof(cpu_why)) < 0) {
		fprintf(stderr, "ward: --cpu: %s\n", cpu_why);
		return 125;
	}
	if (rootfs && (nbinds > 0 || workspace)) {
		fprintf(stderr, "ward: --ro-bind and --workspace cannot be combined with --rootfs yet\n");
		return 125;
	}
	/* The workspace: the current directory unless told otherwise, shown at the same path
	 * and made the guest's working directory. */
	if (!rootfs && !no_workspace) {
		char cwd[PATH_MAX], ws[PATH_MAX];
		const char *want = workspace;
		if (!want && getcwd(cwd, sizeof(cwd)))
			want = cwd;
		int err = want ? gofer_canonical_export(want, ws, sizeof(ws)) : -ENOENT;
		if (err == 0) {
			push(&gofer, "--writable");
			push(&gofer, ws);
			push(&sentry, "--cwd");
			push(&sentry, ws);
		} else if (workspace) {
			fprintf(stderr, "ward: --workspace %s: %s\n", workspace,
				err == -EINVAL ? "cannot be /" : strerror(-err));
			return 125;
		}
		/* else: run from / (the current directory is / or cannot be exported) */
	}

	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		fprintf(stderr, "ward: socketpair: %s\n", strerror(errno));
		return 125;
	}
	snprintf(num, sizeof(num), "%d", sv[1]);
	push(&gofer, "--sock-fd");
	push(&gofer, num);
	push(&gofer, "--root");
	push(&gofer, rootfs ? rootfs : "/");
	if (rootfs)
		push(&gofer, "--all");

	/* The gofer writes how its serving ended here just before it exits (see the end). */
	int gofer_status[2] = {-1, -1};
	if (pipe2(gofer_status, O_CLOEXEC) == 0) {
		snprintf(num, sizeof(num), "%d", gofer_status[1]);
		push(&gofer, "--status-fd");
		push(&gofer, num);
	}

	snprintf(num, sizeof(num), "%d", sv[0]);
	push(&sentry, "--gofer-fd");
	push(&sentry, num);
	/* The memory file (all guest memory, the page cache) is made here and given to the
	 * sentry and the gofer, so the gofer fills the page cache of host files with no
	 * copy through the socket (READ_MEM), and never takes a descriptor from the
	 * sentry. Without it the sentry makes its own and the gofer sends the data. */
	int mem_fd = memfd_create("ward-memory", MFD_CLOEXEC);
	if (mem_fd >= 0) {
		snprintf(num, sizeof(num), "%d", mem_fd);
		push(&gofer, "--memory-fd");
		push(&gofer, num);
		push(&sentry, "--memory-fd");
		push(&sentry, num);
	}
	/* The net gofer: outbound connections and name lookups, on a channel of its own. */
	int nv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, nv) < 0) {
		fprintf(stderr, "ward: socketpair: %s\n", strerror(errno));
		return 125;
	}
	snprintf(num, sizeof(num), "%d", nv[1]);
	push(&netgofer, "--sock-fd");
	push(&netgofer, num);
	if (audit_fd >= 0) {
		snprintf(num, sizeof(num), "%d", audit_fd);
		push(&netgofer, "--audit-fd");
		push(&netgofer, num);
	}
	snprintf(num, sizeof(num), "%d", nv[0]);
	push(&sentry, "--net-fd");
	push(&sentry, num);
	push(&sentry, "--platform");
	push(&sentry, platform);
	const char *term = getenv("TERM");
	if (term && isatty(1)) {
		/* The terminal type describes the user's terminal, which the guest writes to. */
		push(&sentry, "--term");
		push(&sentry, term);
	}
	if (debug)
		push(&sentry, "--debug");
	if (no_patching)
		push(&sentry, "--no-syscall-patching");
	/* The sentry's own messages go to a blocking descriptor of stderr: its stdio ones
	 * become non-blocking (sandbox_stdio.c), and a message must not be dropped. */
	int log_fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
	if (log_fd >= 0) {
		snprintf(num, sizeof(num), "%d", log_fd);
		push(&sentry, "--log-fd");
		push(&sentry, num);
	}
	push(&sentry, "--");
	for (int i = optind; i < argc; i++)
		if (push(&sentry, argv[i]) < 0) {
			fprintf(stderr, "ward: too many arguments\n");
			return 125;
		}

	/* Terminal signals are the guest's: the sentry takes them and passes them on, so
	 * this process and the gofer ignore them. SIGTERM and SIGHUP end the sandbox. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGTSTP, SIG_IGN);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_termination;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	pid_t gpid = spawn_role(gofer.v, (int[]){sv[1], gofer_status[1], mem_fd}, 3, false);
	if (gpid < 0) {
		fprintf(stderr, "ward: fork: %s\n", strerror(errno));
		return 125;
	}
	close(sv[1]);
	if (gofer_status[1] >= 0)
		close(gofer_status[1]);
	pid_t npid = spawn_role(netgofer.v, (int[]){nv[1], audit_fd}, 2, false);
	if (npid < 0) {
		fprintf(stderr, "ward: fork: %s\n", strerror(errno));
		kill(gpid, SIGKILL);
		return 125;
	}
	close(nv[1]);
	if (audit_fd >= 0)
		close(audit_fd);
	pid_t spid = spawn_role(sentry.v, (int[]){sv[0], nv[0], log_fd, mem_fd}, 4, true);
	if (spid < 0) {
		fprintf(stderr, "ward: fork: %s\n", strerror(errno));
		kill(gpid, SIGKILL);
		kill(npid, SIGKILL);
		return 125;
	}
	close(sv[0]);
	if (mem_fd >= 0)
		close(mem_fd);
	close(nv[0]);
	if (log_fd >= 0)
		close(log_fd);

	/* Both children are watched: the gofer dying under a running guest is reported at
	 * once (the guest's file operations fail with EIO from then on, and it is left to
	 * finish: what it prints about the failure is the user's best clue), and ward then
	 * exits with 125 whatever the guest's status, since its work may be incomplete. */
	int status = 0, code = 125, gstatus = 0;
	bool sentry_done = false, gofer_done = false;
	while (!sentry_done) {
		int st;
		pid_t p = waitpid(-1, &st, 0);
		if (p < 0) {
			if (errno != EINTR)
				break;
			if (termination) {
				/* The stubs die with the sentry (PTRACE_O_EXITKILL). */
				kill(spid, SIGKILL);
			}
			continue;
		}
		if (p == spid) {
			status = st;
			sentry_done = true;
		} else if (p == npid) {
			npid = -1;
			if (WIFSIGNALED(st))
				fprintf(stderr, "ward: the net gofer died (signal %d: %s); outbound "
						"connections failed\n", WTERMSIG(st), strsignal(WTERMSIG(st)));
		} else if (p == gpid) {
			gofer_done = true;
			gstatus = st;
			report_gofer_death(st);
		}
	}
	if (npid > 0) {
		kill(npid, SIGKILL);
		while (waitpid(npid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (termination) {
		kill(gpid, SIGKILL);
		waitpid(gpid, NULL, 0);
		return 128 + termination;
	}
	/* The gofer exits by itself once the sentry's end of its socket closes, and says how
	 * its serving ended on the status pipe first: the rest of its exit (its mount
	 * namespace, and freeing the memory file when it is the last to hold it: ~10 ms after
	 * a compile here) need not delay ours; its zombie goes to our reaper. */
	if (!gofer_done && gofer_status[0] >= 0) {
		struct pollfd pfd = {.fd = gofer_status[0], .events = POLLIN};
		unsigned char b;
		int r;
		while ((r = poll(&pfd, 1, GOFER_EXIT_POLLS * GOFER_EXIT_POLL_US / 1000)) < 0 &&
		       errno == EINTR)
			;
		if (r > 0 && read(gofer_status[0], &b, 1) == 1) {
			gofer_done = true;
			gstatus = W_EXITCODE(b, 0);
		}
	}
	/* No word from it (it died, before or after the sentry): a killed process closes
	 * its files (the sentry sees EIO at once) well before it becomes a zombie (its mount
	 * namespace is torn down in between), so the sentry can be reaped first. Wait for
	 * it, bounded. */
	for (int i = 0; !gofer_done && i < GOFER_EXIT_POLLS; i++) {
		int st;
		if (waitpid(gpid, &st, WNOHANG) == gpid) {
			gofer_done = true;
			gstatus = st;
			report_gofer_death(st);
		} else {
			usleep(GOFER_EXIT_POLL_US);
		}
	}
	if (WIFEXITED(status)) {
		code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		fprintf(stderr, "ward: the sentry died (signal %d: %s)\n", WTERMSIG(status),
			strsignal(WTERMSIG(status)));
		code = 125;
	}
	if (gofer_done && WIFEXITED(status) &&
	    (WIFSIGNALED(gstatus) || (WIFEXITED(gstatus) && WEXITSTATUS(gstatus) != 0))) {
		if (WIFEXITED(gstatus))
			fprintf(stderr, "ward: the gofer failed (exit status %d); file access failed\n",
				WEXITSTATUS(gstatus));
		fprintf(stderr, "ward: the guest exited with status %d without its gofer; "
				"exiting with 125\n", code);
		code = 125;
	}
	/* The gofer exits when its socket closes; make sure it is gone either way. */
	if (!gofer_done) {
		kill(gpid, SIGKILL);
		while (waitpid(gpid, &status, 0) < 0 && errno == EINTR)
			;
	}
	return code;
}
