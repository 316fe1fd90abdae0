/* Hostile use of the sandbox's pseudo-terminals: bad pointers to every terminal ioctl, as
 * many ptys as the sandbox allows, writes into ends nobody reads, TIOCSTI, odd /dev/pts
 * names, foreground groups of other sessions. The sentry must answer each with an error
 * (never crash or grow without bound), and no terminal of the host may be reached. */
#include "escape.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static const unsigned long ioctls[] = {
	TCGETS,	    TCSETS,    TCSETSW,	  TCSETSF,     TIOCGWINSZ, TIOCSWINSZ, TIOCGPGRP,
	TIOCSPGRP,  TIOCGSID,  FIONREAD,  TIOCOUTQ,    TIOCGPTN,   TIOCSPTLCK, TIOCGPTLCK,
	TIOCGETD,   TIOCSETD,
};

static void bad_pointers(int fd, const char *which)
{
	void *bad[] = {(void *)1, (void *)0xffffffffffff0000ull, (void *)-1L};
	for (size_t i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]); i++)
		for (size_t j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
			long r = esc_syscall(16 /* ioctl */, fd, ioctls[i], bad[j]);
			if (r != -EFAULT && r != -ENOTTY && r != -EPERM)
				ESC_FAIL("%s ioctl %#lx with pointer %p: %ld", which, ioctls[i], bad[j], r);
		}
	/* a read or write into memory that is not there */
	long r = esc_syscall(0 /* read */, fd, (void *)8, 100);
	if (r != -EFAULT && r != -EAGAIN)
		ESC_FAIL("%s read into a bad buffer: %ld", which, r);
}

static int open_pair(int *s)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (m < 0)
		return -1;
	int unlock = 0;
	ioctl(m, TIOCSPTLCK, &unlock);
	*s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_NONBLOCK);
	return m;
}

int main(void)
{
	int s, m = open_pair(&s);
	if (m < 0 || s < 0) {
		ESC_FAIL("cannot open a pty: %s", esc_errname(errno));
		return 1;
	}
	bad_pointers(m, "master");
	bad_pointers(s, "slave");

	/* TIOCSTI would type into a terminal: never into the host's */
	for (int fd = 0; fd < 3; fd++) {
		char c = 'x';
		if (ioctl(fd, TIOCSTI, &c) == 0)
			ESC_FAIL("TIOCSTI on fd %d succeeded", fd);
	}
	char c = 'x';
	if (ioctl(s, TIOCSTI, &c) == 0)
		ESC_FAIL("TIOCSTI on a pty slave succeeded (not implemented: must fail)");

	/* Writes into ends nobody reads stop at a bound (in raw mode: a canonical line with no
	 * end takes characters without limit, overwriting its last one, as in Linux) */
	struct termios raw;
	tcgetattr(s, &raw);
	cfmakeraw(&raw);
	tcsetattr(s, TCSANOW, &raw);
	static char big[1 << 16];
	memset(big, 'z', sizeof(big));
	long total = 0, r;
	while ((r = write(m, big, sizeof(big))) > 0 && total < (64L << 20))
		total += r;
	if (total >= (1L << 20))
		ESC_FAIL("master accepted %ld bytes nobody reads", total);
	total = 0;
	while ((r = write(s, big, sizeof(big))) > 0 && total < (64L << 20))
		total += r;
	if (total >= (1L << 20))
		ESC_FAIL("slave accepted %ld bytes nobody reads", total);
	printf("unread writes bounded\n");

	/* Foreground groups are checked against the caller's session */
	pid_t pid = fork();
	if (pid == 0) {
		setsid();
		int s2, m2 = open_pair(&s2);
		ioctl(s2, TIOCSCTTY, 0);
		pid_t other = getppid(); /* a group of another session */
		if (ioctl(s2, TIOCSPGRP, &other) == 0)
			ESC_FAIL("TIOCSPGRP to a group of another session succeeded");
		int neg = -5;
		if (ioctl(s2, TIOCSPGRP, &neg) == 0)
			ESC_FAIL("TIOCSPGRP to a negative group succeeded");
		close(m2);
		_exit(0);
	}
	waitpid(pid, NULL, 0);

	/* Names under /dev/pts that name no pty */
	const char *names[] = {"/dev/pts/-1", "/dev/pts/00", "/dev/pts/4096", "/dev/pts/99999999999999999999",
			       "/dev/pts/1x", "/dev/pts/ "};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int fd = open(names[i], O_RDWR | O_NOCTTY);
		if (fd >= 0)
			ESC_FAIL("%s opened", names[i]);
	}

	/* As many ptys as there are descriptors: refused cleanly at the limit, usable after */
	struct rlimit rl = {8192, 8192};
	setrlimit(RLIMIT_NOFILE, &rl);
	static int fds[8192];
	int n = 0;
	for (; n < 8192; n++) {
		fds[n] = posix_openpt(O_RDWR | O_NOCTTY);
		if (fds[n] < 0)
			break;
	}
	printf("ptys opened before refusal: %s (%s)\n", n > 100 ? "many" : "few", esc_errname(errno));
	if (n == 8192)
		ESC_FAIL("no limit on ptys");
	for (int i = 0; i < n; i++)
		close(fds[i]);
	int again = posix_openpt(O_RDWR | O_NOCTTY);
	if (again < 0)
		ESC_FAIL("no pty after closing them all: %s", esc_errname(errno));
	close(again);

	/* In a session without a terminal, /dev/tty is nothing (never the host's terminal) */
	pid = fork();
	if (pid == 0) {
		setsid();
		int fd = open("/dev/tty", O_RDWR);
		if (fd >= 0)
			ESC_FAIL("/dev/tty opened in a session without a controlling terminal");
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	close(s);
	close(m);
	if (esc_failures)
		return 1;
	printf("ESCAPE-TEST PASS\n");
	return 0;
}
