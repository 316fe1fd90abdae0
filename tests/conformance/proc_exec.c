/* execve: argv and envp arrive exactly as passed, the pid and parent survive, close-on-exec
 * descriptors are closed and the others stay open, caught signals are reset to SIG_DFL while
 * ignored ones, the blocked mask and pending signals survive; '#!' scripts (interpreter
 * argument, script path inserted, nested scripts, /bin/sh); and the errors: E2BIG, ENOENT,
 * ENOTDIR, EACCES, ENOEXEC, EFAULT. The program re-executes itself ("show" mode) to print
 * what the new image sees; host-specific paths are printed as <self> and <tmp>. Every execve
 * happens in a forked child that the parent waits for. */
#include "conf.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static char self[4096];

static void print_arg(const char *what, int i, const char *s)
{
	if (s == NULL) {
		printf("    %s[%d]=NULL\n", what, i);
		return;
	}
	if (self[0] && strcmp(s, self) == 0)
		printf("    %s[%d]=<self>\n", what, i);
	else if (strncmp(s, "/tmp/wardconf.", 14) == 0 && strlen(s) >= 20)
		printf("    %s[%d]=\"<tmp>%s\"\n", what, i, s + 20);
	else if (strncmp(s, "pid=", 4) == 0 || strncmp(s, "ppid=", 5) == 0)
		printf("    %s[%d]=\"%.*s=<n>\"\n", what, i, (int)(strchr(s, '=') - s), s);
	else if (strlen(s) > 64)
		printf("    %s[%d]=<%zu bytes>\n", what, i, strlen(s));
	else
		printf("    %s[%d]=\"%s\"\n", what, i, s);
}

/* Runs in the new image: print what it received. */
static int show(int argc, char **argv)
{
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	self[n > 0 ? n : 0] = 0;
	printf("  [new image] argc=%d\n", argc);
	if (argc > 12) {
		size_t total = 0;

		for (int i = 0; i < argc; i++)
			total += strlen(argv[i]) + 1;
		printf("    total argv bytes=%zu\n", total);
	} else {
		for (int i = 0; i < argc; i++)
			print_arg("argv", i, argv[i]);
	}
	print_arg("argv", argc, argv[argc]);
	int envc = 0;
	for (char **e = environ; *e; e++)
		print_arg("envp", envc++, *e);
	printf("    envc=%d\n", envc);

	for (int i = 1; i < argc; i++) {
		int v;

		if (sscanf(argv[i], "pid=%d", &v) == 1)
			printf("    pid unchanged: %s\n", v == getpid() ? "yes" : "no");
		if (sscanf(argv[i], "ppid=%d", &v) == 1)
			printf("    ppid unchanged: %s\n", v == getppid() ? "yes" : "no");
		if (strncmp(argv[i], "fds=", 4) == 0) {
			char *p = argv[i] + 4;
			int k = 0;

			while (sscanf(p, "%d", &v) == 1) {
				int fl = fcntl(v, F_GETFD);

				printf("    fd#%d open=%s", k++, fl >= 0 ? "yes" : "no");
				if (fl >= 0)
					printf(" cloexec=%s", fl & FD_CLOEXEC ? "yes" : "no");
				printf("\n");
				p = strchr(p, ',');
				if (!p)
					break;
				p++;
			}
		}
		if (strcmp(argv[i], "signals") == 0) {
			struct sigaction sa;
			sigset_t mask, pend;

			sigaction(SIGUSR1, NULL, &sa);
			printf("    SIGUSR1 (was caught) now %s\n",
			       sa.sa_handler == SIG_DFL ? "SIG_DFL" : sa.sa_handler == SIG_IGN ? "SIG_IGN" : "handler");
			sigaction(SIGUSR2, NULL, &sa);
			printf("    SIGUSR2 (was ignored) now %s\n",
			       sa.sa_handler == SIG_DFL ? "SIG_DFL" : sa.sa_handler == SIG_IGN ? "SIG_IGN" : "handler");
			sigprocmask(SIG_BLOCK, NULL, &mask);
			sigpending(&pend);
			printf("    SIGTERM blocked=%s SIGINT blocked=%s SIGINT pending=%s SIGHUP blocked=%s\n",
			       sigismember(&mask, SIGTERM) ? "yes" : "no", sigismember(&mask, SIGINT) ? "yes" : "no",
			       sigismember(&pend, SIGINT) ? "yes" : "no", sigismember(&mask, SIGHUP) ? "yes" : "no");
		}
	}
	return 33;
}

static void wait_child(pid_t pid)
{
	int st = -1;

	if (waitpid(pid, &st, 0) != pid) {
		printf("  waitpid failed: %s\n", conf_errname(errno));
		return;
	}
	if (WIFEXITED(st))
		printf("  exit status %d\n", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("  killed by signal %d\n", WTERMSIG(st));
}

/* fork; in the child run setup (may be NULL), then execve; report a failure and _exit. */
static void run(const char *label, const char *path, char **argv, char **envp, void (*setup)(void))
{
	pid_t pid;

	printf("%s\n", label);
	pid = fork();
	if (pid == 0) {
		if (setup)
			setup();
		long r = syscall(SYS_execve, path, argv, envp);
		printf("  execve: ret=%ld errno=%s\n", r, conf_errname(errno));
		_exit(127);
	}
	wait_child(pid);
}

static void write_file(const char *path, const char *content, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, content, len) != (ssize_t)len || close(fd) != 0 || chmod(path, mode) != 0) {
		printf("cannot write %s: %s\n", path, conf_errname(errno));
		exit(98);
	}
}

static char fds_arg[64];

static void setup_fds(void)
{
	int a = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int b = open("/dev/null", O_RDONLY);
	int c = dup2(b, 20);
	int d = fcntl(b, F_DUPFD_CLOEXEC, 0);
	int e = open("/dev/null", O_RDONLY);
	int p[2];

	fcntl(e, F_SETFD, FD_CLOEXEC);
	if (pipe2(p, O_CLOEXEC) != 0)
		_exit(96);
	snprintf(fds_arg, sizeof(fds_arg), "fds=%d,%d,%d,%d,%d,%d,%d", a, b, c, d, e, p[0], p[1]);
}

static void handler(int sig)
{
	(void)sig;
}

static void setup_signals(void)
{
	sigset_t set;

	signal(SIGUSR1, handler);
	signal(SIGUSR2, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGINT);
}

static void setup_stack_limit(void)
{
	struct rlimit rl = { 8 << 20, 8 << 20 };

	setrlimit(RLIMIT_STACK, &rl);
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strncmp(argv[1], "show", 4) == 0)
		return show(argc, argv);
	if (argc >= 3 && strncmp(argv[2], "show", 4) == 0)
		return show(argc, argv);
	if (argc >= 4 && strncmp(argv[3], "show", 4) == 0)
		return show(argc, argv);

	/* run_conformance.sh starts the program by its absolute path, natively and in ward. */
	snprintf(self, sizeof(self), "%s", argv[0]);
	char *dir = conf_tmpdir();
	char p_script[256], p_script2[256], p_sh[256], p_noexec[256], p_garbage[256], p_empty[256],
		p_elf[256], p_badinterp[256], p_spaces[256], p_file[256], buf[8192];

	SAY("-- argv and envp\n");
	char *envp1[] = { "A=1", "B=two", "EMPTY=", "NOEQUALS", NULL };
	char *argv1[] = { "custom-name", "show", "a b", "", "c", NULL };
	run("exec self with 5 args and 4 env strings", self, argv1, envp1, NULL);
	char *envp0[] = { NULL };
	char *argv2[] = { "x", "show", NULL };
	run("exec self with empty envp", self, argv2, envp0, NULL);

	SAY("-- pid, ppid, descriptors, signals\n");
	char pidbuf[32], ppidbuf[32];
	/* Said before the fork: the child's output races with anything the parent prints. */
	printf("exec self after opening descriptors and changing signals\n");
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		snprintf(pidbuf, sizeof(pidbuf), "pid=%d", getpid());
		snprintf(ppidbuf, sizeof(ppidbuf), "ppid=%d", getppid());
		setup_fds();
		setup_signals();
		char *av[] = { "self", "show", pidbuf, ppidbuf, fds_arg, "signals", NULL };
		execve(self, av, envp0);
		printf("  execve failed: %s\n", conf_errname(errno));
		_exit(127);
	}
	wait_child(pid);

	SAY("-- '#!' scripts\n");
	snprintf(p_script, sizeof(p_script), "%s/script", dir);
	snprintf(buf, sizeof(buf), "#!%s show-interp\nthis line is not read by the kernel\n", self);
	write_file(p_script, buf, strlen(buf), 0755);
	char *sargv[] = { "script-argv0", "x", "y", NULL };
	char *senv[] = { "S=1", NULL };
	run("exec script with interpreter argument", p_script, sargv, senv, NULL);

	snprintf(p_spaces, sizeof(p_spaces), "%s/spaces", dir);
	snprintf(buf, sizeof(buf), "#!  %s   show-interp  two words \t\n", self);
	write_file(p_spaces, buf, strlen(buf), 0755);
	run("exec script with whitespace around the interpreter argument", p_spaces, sargv, senv, NULL);

	snprintf(p_script2, sizeof(p_script2), "%s/nested", dir);
	snprintf(buf, sizeof(buf), "#!%s\n", p_script);
	write_file(p_script2, buf, strlen(buf), 0755);
	run("exec script whose interpreter is a script", p_script2, sargv, senv, NULL);

	snprintf(p_sh, sizeof(p_sh), "%s/sh-script", dir);
	snprintf(buf, sizeof(buf), "#! /bin/sh\nexit $(( $# + 4 ))\n");
	write_file(p_sh, buf, strlen(buf), 0755);
	run("exec /bin/sh script", p_sh, sargv, senv, NULL);

	snprintf(p_badinterp, sizeof(p_badinterp), "%s/badinterp", dir);
	snprintf(buf, sizeof(buf), "#!/no/such/interpreter\n");
	write_file(p_badinterp, buf, strlen(buf), 0755);
	run("exec script with a missing interpreter", p_badinterp, sargv, senv, NULL);

	SAY("-- argument size limits\n");
	static char huge[200000];
	memset(huge, 'h', sizeof(huge) - 1);
	char *bigargv[] = { "self", "show", huge, NULL };
	run("one 199999-byte argument (over MAX_ARG_STRLEN)", self, bigargv, envp0, setup_stack_limit);
	static char big[100000];
	memset(big, 'b', sizeof(big) - 1);
	char *many[100];
	many[0] = "self";
	many[1] = "show";
	for (int i = 2; i < 82; i++)
		many[i] = big;
	many[82] = NULL;
	run("80 arguments of 99999 bytes (8 MB)", self, many, envp0, setup_stack_limit);
	many[12] = NULL;
	run("10 arguments of 99999 bytes (1 MB)", self, many, envp0, setup_stack_limit);
	char *bigenv[] = { big, NULL };
	run("one 99999-byte environment string", self, argv2, bigenv, setup_stack_limit);

	SAY("-- errors\n");
	run("missing file", "/no/such/file", argv2, envp0, NULL);
	run("empty path", "", argv2, envp0, NULL);
	snprintf(p_file, sizeof(p_file), "%s/plain/x", dir);
	snprintf(p_noexec, sizeof(p_noexec), "%s/plain", dir);
	write_file(p_noexec, "#!/bin/sh\nexit 0\n", 17, 0644);
	run("file used as a directory", p_file, argv2, envp0, NULL);
	run("mode 0644 script", p_noexec, argv2, envp0, NULL);
	run("directory", dir, argv2, envp0, NULL);
	snprintf(p_garbage, sizeof(p_garbage), "%s/garbage", dir);
	write_file(p_garbage, "garbage, not a program\n", 23, 0755);
	run("mode 0755 garbage", p_garbage, argv2, envp0, NULL);
	snprintf(p_empty, sizeof(p_empty), "%s/empty", dir);
	write_file(p_empty, "", 0, 0755);
	run("mode 0755 empty file", p_empty, argv2, envp0, NULL);
	snprintf(p_elf, sizeof(p_elf), "%s/elf", dir);
	write_file(p_elf, "\177ELF\2\1\1\0\0\0\0\0\0\0\0\0", 16, 0755);
	run("mode 0755 truncated ELF header", p_elf, argv2, envp0, NULL);
	run("bad path pointer", (const char *)16, argv2, envp0, NULL);
	run("bad argv pointer", self, (char **)16, envp0, NULL);
	char *badargv[] = { "x", (char *)16, NULL };
	run("bad argv[1] pointer", self, badargv, envp0, NULL);

	const char *paths[] = { p_script, p_spaces, p_script2, p_sh, p_badinterp, p_noexec, p_garbage,
				p_empty, p_elf };
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		unlink(paths[i]);
	CHECK("rmdir", rmdir(dir));
	return 0;
}
