/* Host processes are out of reach: run_escape.sh starts a sacrificial `sleep` and passes its
 * host pid as argv[3]. The guest must not see it in /proc, signal it, ptrace it or read its
 * memory; the harness checks afterwards that it is still alive. */
#include "escape.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 4) {
		printf("usage: %s SECRET SIBLING HOSTPID\n", argv[0]);
		return 2;
	}
	long hostpid = atol(argv[3]);
	char path[64];
	struct stat st;

	if (hostpid <= 1) {
		printf("bad host pid %ld\n", hostpid);
		return 2;
	}
	snprintf(path, sizeof(path), "/proc/%ld", hostpid);
	if (stat(path, &st) == 0)
		ESC_FAIL("host process visible at /proc/<host pid>");
	else
		printf("/proc/<host pid>: %s\n", esc_errname(errno));
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", hostpid);
	int fd = open(path, O_RDONLY);
	if (fd >= 0) {
		char buf[64] = { 0 };
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		ESC_FAIL("read host /proc/<pid>/cmdline: %zd bytes \"%s\"", n, buf);
	}
	long r = esc_syscall(SYS_kill, hostpid, SIGKILL, 0);
	esc_expect_denied("kill(host pid, SIGKILL)", r);
	r = esc_syscall(SYS_kill, hostpid, 0, 0);
	esc_expect_denied("kill(host pid, 0)", r);
	r = esc_syscall(SYS_tgkill, hostpid, hostpid, SIGKILL);
	esc_expect_denied("tgkill(host pid)", r);
	r = esc_syscall(SYS_ptrace, PTRACE_ATTACH, hostpid, 0);
	esc_expect_denied("ptrace(PTRACE_ATTACH, host pid)", r);
	r = esc_syscall6(SYS_ptrace, PTRACE_SEIZE, hostpid, 0, 0, 0, 0);
	esc_expect_denied("ptrace(PTRACE_SEIZE, host pid)", r);
	char buf[16];
	struct iovec local = { buf, sizeof(buf) }, remote = { (void *)0x400000, sizeof(buf) };
	r = esc_syscall6(SYS_process_vm_readv, hostpid, (long)&local, 1, (long)&remote, 1, 0);
	esc_expect_denied("process_vm_readv(host pid)", r);
	r = esc_syscall(SYS_pidfd_open, hostpid, 0, 0);
	esc_expect_denied("pidfd_open(host pid)", r);
	/* The parent of the guest's init is nobody the guest can reach. */
	long ppid = esc_syscall(SYS_getppid, 0, 0, 0);
	if (ppid > 1) {
		r = esc_syscall(SYS_kill, ppid, 0, 0);
		if (r == 0)
			ESC_NOTE("getppid returned %ld and kill(ppid, 0) succeeded", ppid);
	}
	return esc_finish();
}
