/* Raw `syscall` instructions (no libc) try to reach host files that are not exported: a
 * secret under the host's $HOME and one beside the exported test directory, by plain,
 * relative, dot-dot and /proc/self/root paths. Every open must fail with ENOENT or EACCES
 * (EPERM accepted as a policy denial), and the raw getpid must be ward's virtual pid 1. */
#include "escape.h"
#include <fcntl.h>
#include <sys/syscall.h>

static void try_open(const char *label, const char *path)
{
	long r = esc_syscall(SYS_open, path, O_RDONLY, 0);

	if (r >= 0) {
		char buf[64];
		long n = esc_syscall(SYS_read, r, buf, sizeof(buf));
		ESC_FAIL("raw open(%s) of %s returned fd %ld (read returned %ld)", label, path, r, n);
		return;
	}
	if (r != -ENOENT && r != -EACCES && r != -EPERM)
		ESC_FAIL("raw open(%s) failed with %s, expected ENOENT or EACCES", label, esc_errname(-r));
	else
		printf("open %s: %s\n", label, esc_errname(-r));
}

static void attack(const char *which, const char *secret)
{
	char path[4096], label[128];
	long r;

	snprintf(label, sizeof(label), "%s absolute", which);
	try_open(label, secret);
	r = esc_syscall6(SYS_openat, AT_FDCWD, (long)secret, O_RDONLY, 0, 0, 0);
	snprintf(label, sizeof(label), "raw openat(%s)", which);
	esc_expect_denied(label, r);
	long root = esc_syscall(SYS_open, "/", O_RDONLY | O_DIRECTORY, 0);
	if (root >= 0) {
		r = esc_syscall6(SYS_openat, root, (long)(secret + 1), O_RDONLY, 0, 0, 0);
		snprintf(label, sizeof(label), "raw openat(rootfd, %s relative)", which);
		esc_expect_denied(label, r);
		esc_syscall(SYS_close, root, 0, 0);
	}
	snprintf(path, sizeof(path), "/tmp/../..%s", secret);
	snprintf(label, sizeof(label), "%s via /tmp/../..", which);
	try_open(label, path);
	snprintf(path, sizeof(path), "/proc/self/root%s", secret);
	snprintf(label, sizeof(label), "%s via /proc/self/root", which);
	try_open(label, path);
	snprintf(path, sizeof(path), "/proc/1/root%s", secret);
	snprintf(label, sizeof(label), "%s via /proc/1/root", which);
	try_open(label, path);
	struct { char b[256]; } st;
	r = esc_syscall(SYS_stat, secret, &st, 0);
	snprintf(label, sizeof(label), "raw stat(%s)", which);
	esc_expect_denied(label, r);
	r = esc_syscall(SYS_execve, secret, 0, 0);
	snprintf(label, sizeof(label), "raw execve(%s)", which);
	esc_expect_denied(label, r);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		printf("usage: %s HOME-SECRET SIBLING-SECRET\n", argv[0]);
		return 2;
	}
	long pid = esc_syscall(SYS_getpid, 0, 0, 0);
	if (pid != 1)
		ESC_FAIL("raw getpid returned %ld, expected ward's virtual pid 1", pid);
	else
		printf("raw getpid: 1\n");
	long ppid = esc_syscall(SYS_getppid, 0, 0, 0);
	printf("raw getppid: %s\n", ppid == 0 ? "0" : "nonzero");
	if (ppid > 1)
		ESC_NOTE("getppid returned %ld: pid 1 normally has parent 0", ppid);
	attack("home secret", argv[1]);
	attack("sibling secret", argv[2]);
	return esc_finish();
}
