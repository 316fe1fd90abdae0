/* The sentry's seccomp confinement: after sentry_confine() no host file can be opened,
 * no socket made, no process made and nothing executed, while the calls the sentry lives on still work. */
#include "sentry/confine.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs fn in a confined child; returns its wait status. */
static int confined(void (*fn)(void))
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (sentry_confine() < 0)
			_exit(100);
		fn();
		_exit(0);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static void do_open(void) { syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY); }
static void do_socket(void) { syscall(SYS_socket, AF_INET, SOCK_STREAM, 0); }
static void do_exec(void) { syscall(SYS_execve, "/bin/true", (char *[]){"true", NULL}, (char *[]){NULL}); }
static void do_unlink(void) { syscall(SYS_unlinkat, AT_FDCWD, "/nonexistent-ward-test", 0); }

static void do_allowed(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || getpid() <= 0 || munmap(p, 4096) != 0)
		_exit(3);
}

/* New stubs come from the platform's stub factory: the sentry itself makes no process. */
static void do_fork(void)
{
	pid_t c = (pid_t)syscall(SYS_fork);
	if (c == 0)
		_exit(0);
	if (c > 0)
		waitpid(c, NULL, 0);
	c = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	if (c == 0)
		_exit(0);
	if (c > 0)
		waitpid(c, NULL, 0);
}

#ifdef __SANITIZE_ADDRESS__
#define EXPECT_DENIED(status) cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0)
#else
#define EXPECT_DENIED(status) \
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS, "status %#x", status)
#endif

Test(confine, open_is_fatal) { EXPECT_DENIED(confined(do_open)); }
Test(confine, socket_is_fatal) { EXPECT_DENIED(confined(do_socket)); }
Test(confine, exec_is_fatal) { EXPECT_DENIED(confined(do_exec)); }
Test(confine, host_fs_change_is_fatal) { EXPECT_DENIED(confined(do_unlink)); }
Test(confine, fork_is_fatal) { EXPECT_DENIED(confined(do_fork)); }

Test(confine, sentry_calls_still_work)
{
	int status = confined(do_allowed);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
}
