/* Threads with their own fd table and fs context: a raw clone with CLONE_VM | CLONE_SIGHAND |
 * CLONE_THREAD but neither CLONE_FILES nor CLONE_FS gives the thread copies (it closes, opens
 * and chdirs without the rest of the process seeing it; /proc/self/task/<tid>/fd shows its
 * table; its copy goes when it exits), unshare(CLONE_FILES / CLONE_FS) from a pthread does
 * the same, a fork from such a thread copies the thread's table, execve in a process that
 * shares its table with another copies it first (close-on-exec leaves the other's fds alone),
 * and the flag combinations Linux refuses. */
#include "conf.h"
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define STACK_SIZE (256 * 1024)

/* clone(2) on a fresh stack without libc's wrapper: the child pops fn and arg from that
 * stack, calls fn and ends with exit(2) (the thread alone). */
static long raw_clone(unsigned long flags, void *stack_top, volatile int *ctid, int (*fn)(void *), void *arg)
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

/* Waits until the kernel clears the thread's tid word (CLONE_CHILD_CLEARTID). */
static void join_raw(volatile int *ctid)
{
	int v;
	while ((v = *ctid) != 0)
		syscall(SYS_futex, ctid, FUTEX_WAIT, v, NULL, NULL, 0);
}

/* Blocks until the read end sees EOF, i.e. every copy of the write end has gone. */
static int eof_comes(int rfd)
{
	struct pollfd p = {.fd = rfd, .events = POLLIN};
	char c;
	while (poll(&p, 1, -1) < 1)
		;
	return read(rfd, &c, 1) == 0;
}

static int fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static int cwd_is_sub(const char *link)
{
	char buf[4096];
	ssize_t n = readlink(link, buf, sizeof(buf) - 1);
	if (n < 4)
		return 0;
	buf[n] = 0;
	return strcmp(buf + n - 4, "/sub") == 0;
}

struct own_thread {
	int close_fd;     /* the thread closes this one */
	int ready_w, go_r; /* handshake pipes (the thread's copies) */
	int opened_ok, closed_ok, chdir_ok, saw_parent_fd;
	unsigned old_umask;
};

static int own_tables(void *arg)
{
	struct own_thread *o = arg;
	char c;
	o->saw_parent_fd = fd_open(o->close_fd);
	o->closed_ok = close(o->close_fd) == 0;
	int fd = open("/dev/null", O_RDONLY);
	o->opened_ok = fd >= 0 && dup2(fd, 100) == 100;
	close(fd);
	o->chdir_ok = chdir("sub") == 0;
	o->old_umask = umask(077);
	/* Stay alive while the parent looks at /proc/self/task/<tid>. */
	if (write(o->ready_w, "r", 1) != 1 || read(o->go_r, &c, 1) != 1)
		return 1;
	return 0;
}

static void raw_thread(void)
{
	SAY("-- clone(CLONE_VM | CLONE_SIGHAND | CLONE_THREAD), no CLONE_FILES or CLONE_FS\n");
	int keep[2], ready[2], go[2], eof[2];
	pipe(keep);
	pipe(ready);
	pipe(go);
	pipe(eof);
	umask(022);
	char *stack = malloc(STACK_SIZE);
	static struct own_thread o;
	o = (struct own_thread){.close_fd = keep[0], .ready_w = ready[1], .go_r = go[0]};
	static volatile int ctid = 1;
	unsigned long flags = CLONE_VM | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_CHILD_CLEARTID;
	long tid = raw_clone(flags, stack + STACK_SIZE, &ctid, own_tables, &o);
	BOOL("clone returned a tid", tid > 0);
	if (tid <= 0) {
		printf("  errno %s\n", conf_errname((int)-tid));
		return;
	}
	char c, path[64];
	BOOL("thread ready", read(ready[0], &c, 1) == 1);
	BOOL("thread saw the fd opened before clone", o.saw_parent_fd);
	BOOL("thread closed it", o.closed_ok);
	BOOL("thread opened fd 100", o.opened_ok);
	BOOL("thread chdir'd to sub", o.chdir_ok);
	printf("thread's old umask %03o\n", o.old_umask);
	BOOL("the fd the thread closed is open here", fd_open(keep[0]));
	BOOL("fd 100 is not open here", !fd_open(100));
	snprintf(path, sizeof(path), "/proc/self/task/%ld/fd/100", tid);
	BOOL("task/<tid>/fd/100 exists", access(path, F_OK) == 0);
	BOOL("/proc/self/fd/100 does not", access("/proc/self/fd/100", F_OK) != 0);
	snprintf(path, sizeof(path), "/proc/self/task/%ld/fd/%d", tid, keep[0]);
	BOOL("task/<tid>/fd/<closed fd> does not", access(path, F_OK) != 0);
	snprintf(path, sizeof(path), "/proc/self/task/%ld/cwd", tid);
	BOOL("task/<tid>/cwd is sub", cwd_is_sub(path));
	BOOL("own cwd is not sub", !cwd_is_sub("/proc/self/cwd"));
	BOOL("getcwd here is not sub", access("../sub", F_OK) != 0 && access("sub", F_OK) == 0);
	unsigned um = umask(022);
	printf("umask here still %03o\n", um);
	/* The thread still holds its copy of eof[1]; it goes when the thread exits. */
	close(eof[1]);
	write(go[1], "g", 1);
	join_raw(&ctid);
	BOOL("EOF once the thread has exited (its table released)", eof_comes(eof[0]));
	close(keep[0]);
	close(keep[1]);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
	close(eof[0]);
	free(stack);
}

struct unshare_thread {
	int close_fd, eof_w;
	long files, fs, thread, vm;
	int fork_saw_fd, closed_ok, chdir_ok;
};

static void *unsharing(void *arg)
{
	struct unshare_thread *u = arg;
	errno = 0;
	u->thread = unshare(CLONE_THREAD) < 0 ? errno : 0;
	u->vm = unshare(CLONE_VM) < 0 ? errno : 0;
	u->files = unshare(CLONE_FILES) < 0 ? errno : 0;
	u->fs = unshare(CLONE_FS) < 0 ? errno : 0;
	u->closed_ok = close(u->close_fd) == 0;
	int fd = open("/dev/null", O_RDONLY);
	dup2(fd, 101);
	close(fd);
	u->chdir_ok = chdir("sub") == 0;
	/* A fork from here copies this thread's table. */
	pid_t pid = fork();
	if (pid == 0)
		_exit(fd_open(101) && !fd_open(u->close_fd) ? 0 : 1);
	int st = -1;
	waitpid(pid, &st, 0);
	u->fork_saw_fd = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	return NULL;
}

static void unshare_in_thread(void)
{
	SAY("-- unshare(CLONE_FILES | CLONE_FS) in a pthread\n");
	int keep[2], eof[2];
	pipe(keep);
	pipe(eof);
	struct unshare_thread u = {.close_fd = keep[0], .eof_w = eof[1]};
	pthread_t th;
	pthread_create(&th, NULL, unsharing, &u);
	pthread_join(th, NULL);
	printf("unshare(CLONE_THREAD) with two threads: %s\n", conf_errname((int)u.thread));
	printf("unshare(CLONE_VM) with two threads: %s\n", conf_errname((int)u.vm));
	printf("unshare(CLONE_FILES): %s\n", conf_errname((int)u.files));
	printf("unshare(CLONE_FS): %s\n", conf_errname((int)u.fs));
	BOOL("thread closed its copy", u.closed_ok);
	BOOL("thread chdir'd", u.chdir_ok);
	BOOL("a fork from the thread had the thread's table", u.fork_saw_fd);
	BOOL("the fd it closed is open here", fd_open(keep[0]));
	BOOL("fd 101 is not open here", !fd_open(101));
	BOOL("own cwd is not sub", !cwd_is_sub("/proc/self/cwd"));
	close(eof[1]);
	BOOL("EOF: the thread's table went with it", eof_comes(eof[0]));
	close(eof[0]);
	close(keep[0]);
	close(keep[1]);
}

/* Before any thread is made: a joined thread may still be on its way out in the kernel,
 * and Linux counts it. */
static void unshare_alone(void)
{
	SAY("-- unshare in a single-threaded process\n");
	CHECK("unshare(0)", unshare(0));
	CHECK("unshare(CLONE_FILES), not shared", unshare(CLONE_FILES));
	CHECK("unshare(CLONE_FS), not shared", unshare(CLONE_FS));
	CHECK("unshare(CLONE_THREAD), alone", unshare(CLONE_THREAD));
	CHECK("unshare(CLONE_SIGHAND), alone", unshare(CLONE_SIGHAND));
	CHECK("unshare(CLONE_VM), alone", unshare(CLONE_VM));
	CHECK("unshare(CLONE_PARENT)", unshare(CLONE_PARENT));
	CHECK("unshare(CLONE_VFORK)", unshare(CLONE_VFORK));
}

static int exec_true(void *arg)
{
	(void)arg;
	execl("/bin/true", "true", (char *)NULL);
	return 127;
}

static void exec_in_shared_table(void)
{
	SAY("-- execve in a child that shares the fd table (CLONE_FILES)\n");
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	char *stack = malloc(STACK_SIZE);
	pid_t pid = clone(exec_true, stack + STACK_SIZE, CLONE_FILES | SIGCHLD, NULL);
	int st = -1;
	waitpid(pid, &st, 0);
	BOOL("child ran /bin/true", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	BOOL("our O_CLOEXEC fd is still open", fd_open(fd));
	close(fd);
	free(stack);
}

static int nothing(void *arg)
{
	(void)arg;
	return 0;
}

static void refused(void)
{
	SAY("-- flag combinations Linux refuses\n");
	char *stack = malloc(STACK_SIZE);
	static volatile int ctid;
	struct {
		const char *name;
		unsigned long flags;
	} cases[] = {
		{"CLONE_THREAD without CLONE_SIGHAND", CLONE_VM | CLONE_THREAD | CLONE_FILES | CLONE_FS},
		{"CLONE_SIGHAND without CLONE_VM", CLONE_SIGHAND | SIGCHLD},
		{"CLONE_FS | CLONE_NEWNS", CLONE_FS | CLONE_NEWNS | SIGCHLD},
		{"CLONE_THREAD with an exit signal", CLONE_VM | CLONE_SIGHAND | CLONE_THREAD | SIGCHLD},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ctid = 0;
		long r = raw_clone(cases[i].flags, stack + STACK_SIZE, &ctid, nothing, NULL);
		conf_report_raw(cases[i].name, r > 0 ? 1 : r);
		if (r > 0 && !(cases[i].flags & CLONE_THREAD))
			waitpid((pid_t)r, NULL, __WALL);
	}
	/* stack stays: a thread wrongly made above may still be on it */
}

int main(void)
{
	if (mkdir("sub", 0755) != 0 && errno != EEXIST)
		printf("mkdir sub: %s\n", conf_errname(errno));
	unshare_alone();
	raw_thread();
	unshare_in_thread();
	exec_in_shared_table();
	refused();
	rmdir("sub");
	return 0;
}
