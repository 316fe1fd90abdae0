/* Threads with their own fd table and fs context (clone without CLONE_FILES / CLONE_FS,
 * unshare): no namespace comes with them (unshare and clone with CLONE_NEW* are refused),
 * a thread's own root and cwd reach nothing the process could not, and the sentry survives
 * tables that come and go under it: many threads each with a table of hundreds of fds
 * exiting at once, /proc/self/task/<tid>/fd of threads that are gone, unshare in a loop
 * while another thread uses the table, and execve from a thread with a table of its own
 * (the new image must hold that thread's fds, not the process's). */
#include "escape.h"
#include <dirent.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define STACK_SIZE (64 * 1024)
#define NTHREADS 16

static long raw_thread(unsigned long flags, void *stack_top, volatile int *ctid, int (*fn)(void *), void *arg)
{
	unsigned long *sp = stack_top;
	*--sp = (unsigned long)arg;
	*--sp = (unsigned long)fn;
	register long r10 __asm__("r10") = (long)ctid;
	register long r8 __asm__("r8") = 0;
	long ret;
	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "pop %%rax\n\t"
			 "pop %%rdi\n\t"
			 "call *%%rax\n\t"
			 "mov %%eax, %%edi\n\t"
			 "mov $60, %%eax\n\t"
			 "syscall\n\t"
			 "hlt\n"
			 "1:"
			 : "=a"(ret)
			 : "a"((long)SYS_clone), "D"(flags), "S"(sp), "d"(0L), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	return ret;
}

static void join_raw(volatile int *ctid)
{
	int v;
	while ((v = *ctid) != 0)
		syscall(SYS_futex, ctid, FUTEX_WAIT, v, NULL, NULL, 0);
}

static const unsigned long OWN_TABLES = CLONE_VM | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
					CLONE_CHILD_CLEARTID;

static int many_fds(void *arg)
{
	(void)arg;
	for (int i = 0; i < 300; i++) {
		int fd = open("/dev/null", O_RDONLY);
		if (fd < 0)
			break;
		dup2(fd, 1000 + i);
	}
	return 0;
}

static const char *secret;

static int wander(void *arg)
{
	int *reached = arg;
	for (int i = 0; i < 64; i++)
		if (chdir("..") != 0)
			break;
	if (chroot("/tmp") == 0) /* refused or not, the thread's root is inside the sandbox */
		chdir("/");
	if (open(secret, O_RDONLY) >= 0)
		*reached = 1;
	return 0;
}

static void *unshare_loop(void *arg)
{
	(void)arg;
	for (int i = 0; i < 2000; i++) {
		if (unshare(CLONE_FILES | CLONE_FS) != 0)
			break;
		close(dup(0));
	}
	return NULL;
}

static int exec_self(void *arg)
{
	char **argv = arg;
	execv("/proc/self/exe", argv);
	syscall(SYS_exit_group, 127); /* not just this thread: the others wait in pause */
	return 127;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "--after-exec") == 0) {
		/* The image a thread with its own table exec'd: that table's fds are here,
		 * close-on-exec ones are not. */
		int keep = atoi(argv[2]), cloexec = atoi(argv[3]);
		return fcntl(keep, F_GETFD) >= 0 && fcntl(cloexec, F_GETFD) < 0 ? 0 : 1;
	}
	if (argc < 2) {
		printf("usage: %s SECRET ...\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	secret = argv[1];

	const struct {
		const char *name;
		unsigned long flags;
	} ns[] = {
		{"unshare(CLONE_NEWUSER)", CLONE_NEWUSER},
		{"unshare(CLONE_NEWNS)", CLONE_NEWNS},
		{"unshare(CLONE_NEWUSER | CLONE_NEWNS)", CLONE_NEWUSER | CLONE_NEWNS},
		{"unshare(CLONE_NEWNET)", CLONE_NEWNET},
		{"unshare(CLONE_NEWPID)", CLONE_NEWPID},
		{"unshare(CLONE_FILES | CLONE_NEWUSER)", CLONE_FILES | CLONE_NEWUSER},
	};
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		esc_expect_denied(ns[i].name, esc_syscall(SYS_unshare, ns[i].flags, 0, 0));
	char *stack = malloc(STACK_SIZE);
	static volatile int ctid;
	ctid = 1;
	long r = raw_thread(OWN_TABLES | CLONE_NEWUSER, stack + STACK_SIZE, &ctid, many_fds, NULL);
	esc_expect_denied("clone(thread, CLONE_NEWUSER)", r);
	if (r > 0)
		join_raw(&ctid);

	/* Many threads with their own tables exit together. */
	static volatile int ctids[NTHREADS];
	char *stacks[NTHREADS];
	int tids[NTHREADS];
	for (int i = 0; i < NTHREADS; i++) {
		stacks[i] = malloc(STACK_SIZE);
		ctids[i] = 1;
		tids[i] = (int)raw_thread(OWN_TABLES, stacks[i] + STACK_SIZE, &ctids[i], many_fds, NULL);
		if (tids[i] <= 0)
			ctids[i] = 0;
	}
	for (int i = 0; i < NTHREADS; i++)
		join_raw(&ctids[i]);
	if (fcntl(1000, F_GETFD) >= 0)
		ESC_FAIL("a thread's own fd 1000 appeared in the process's table");
	/* Their /proc entries, once they are gone (ENOENT, or empty). */
	for (int i = 0; i < NTHREADS; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/task/%d/fd", tids[i]);
		DIR *d = opendir(path);
		if (d) {
			while (readdir(d))
				;
			closedir(d);
		}
		snprintf(path, sizeof(path), "/proc/self/task/%d/fd/1000", tids[i]);
		int fd = open(path, O_RDONLY);
		if (fd >= 0)
			close(fd);
	}
	printf("%d threads with their own tables came and went\n", NTHREADS);

	/* A thread's own root and cwd reach nothing more. */
	int reached = 0;
	ctid = 1;
	r = raw_thread(OWN_TABLES, stack + STACK_SIZE, &ctid, wander, &reached);
	if (r > 0)
		join_raw(&ctid);
	if (reached)
		ESC_FAIL("a thread with its own fs context opened a host secret");
	else
		printf("thread with its own root and cwd: host secret out of reach\n");

	/* unshare in a loop while another thread uses the table it leaves. */
	pthread_t th;
	pthread_create(&th, NULL, unshare_loop, NULL);
	for (int i = 0; i < 2000; i++)
		close(dup(0));
	pthread_join(th, NULL);
	printf("unshare loop done\n");

	/* execve from a thread with its own table, in a child process. */
	pid_t pid = fork();
	if (pid == 0) {
		int keep = open("/dev/null", O_RDONLY), cloexec = open("/dev/null", O_RDONLY | O_CLOEXEC);
		char a2[16], a3[16];
		snprintf(a2, sizeof(a2), "%d", keep);
		snprintf(a3, sizeof(a3), "%d", cloexec);
		char *args[] = {argv[0], "--after-exec", a2, a3, NULL};
		static volatile int c2 = 1;
		raw_thread(OWN_TABLES, stack + STACK_SIZE, &c2, exec_self, args);
		for (;;)
			pause();
	}
	int st = -1;
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		ESC_FAIL("execve from a thread with its own table: status %#x", st);
	else
		printf("execve from a thread with its own table: the new image has that table\n");
	return esc_finish();
}
