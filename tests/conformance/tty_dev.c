/* /dev/tty and acquiring a controlling terminal: none after setsid (ENXIO), a session
 * leader opening a pty slave without O_NOCTTY gets it, O_NOCTTY and non-leaders do not,
 * TIOCSCTTY and TIOCNOTTY. Each case runs in a child of its own session, so what the test
 * program itself has (a terminal or not) does not matter. */
#include "conf.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>

static int new_pty(char *name, size_t len)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, name, len) != 0) {
		printf("cannot make a pty: %s\n", conf_errname(errno));
		exit(1);
	}
	return m;
}

static void try_dev_tty(const char *label)
{
	int fd = open("/dev/tty", O_RDWR);
	printf("%s: open /dev/tty: %s\n", label, fd < 0 ? conf_errname(errno) : "ok");
	if (fd >= 0)
		close(fd);
}

static void in_child(void (*body)(void))
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		if (setsid() < 0)
			printf("setsid failed\n");
		body();
		fflush(stdout);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		printf("child failed\n");
}

static void no_ctty(void)
{
	try_dev_tty("new session");
	int sid = -1;
	char name[64];
	int m = new_pty(name, sizeof(name));
	int s = open(name, O_RDWR | O_NOCTTY);
	CHECK("TIOCGSID on a pty that is nobody's", ioctl(s, TIOCGSID, &sid));
	CHECK("TIOCGSID on its master", ioctl(m, TIOCGSID, &sid));
	int pg = -1;
	CHECK("TIOCGPGRP on a slave that is not mine", ioctl(s, TIOCGPGRP, &pg));
	CHECK("TIOCGPGRP on its master", ioctl(m, TIOCGPGRP, &pg));
	printf("its foreground group: %d\n", pg);
	CHECK("TIOCNOTTY on a slave that is not mine", ioctl(s, TIOCNOTTY));
	try_dev_tty("after open with O_NOCTTY");
	close(s);
	close(m);
}

static volatile sig_atomic_t got_hup;

static void on_hup(int sig)
{
	(void)sig;
	got_hup = 1;
}

static void acquire_by_open(void)
{
	char name[64];
	int m = new_pty(name, sizeof(name));
	int s = open(name, O_RDWR);
	CHECK_OK("open slave without O_NOCTTY", s);
	BOOL("tcgetsid is my session", tcgetsid(s) == getsid(0));
	BOOL("tcgetpgrp is my group", tcgetpgrp(s) == getpgrp());
	BOOL("master TIOCGSID is my session", ioctl(m, TIOCGSID, &(int){0}) == 0);
	int fd = open("/dev/tty", O_RDWR);
	CHECK_OK("open /dev/tty", fd);
	struct stat st;
	fstat(fd, &st);
	printf("/dev/tty fd: rdev %u:%u\n", major(st.st_rdev), minor(st.st_rdev));
	struct termios t;
	tcgetattr(fd, &t);
	t.c_oflag &= ~(tcflag_t)OPOST;
	tcsetattr(fd, TCSANOW, &t);
	write(fd, "through /dev/tty\n", 17);
	char buf[64] = "";
	struct pollfd p = {m, POLLIN, 0};
	poll(&p, 1, 5000);
	long n = read(m, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("master read %ld: %s", n, buf);
	struct termios u;
	tcgetattr(s, &u);
	BOOL("/dev/tty shares the slave's termios", !(u.c_oflag & OPOST));
	close(fd);

	/* a second pty: a session has one controlling terminal */
	char name2[64];
	int m2 = new_pty(name2, sizeof(name2));
	int s2 = open(name2, O_RDWR);
	CHECK("TIOCGSID on a second pty", ioctl(s2, TIOCGSID, &(int){0}));
	CHECK("TIOCSCTTY on it", ioctl(s2, TIOCSCTTY, 0));

	/* a child (not a session leader) keeps the terminal and cannot take another */
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		try_dev_tty("child of the leader");
		CHECK("child TIOCSCTTY", ioctl(s2, TIOCSCTTY, 0));
		CHECK("child TIOCNOTTY", ioctl(s, TIOCNOTTY));
		try_dev_tty("child after TIOCNOTTY");
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	try_dev_tty("leader after its child's TIOCNOTTY");

	/* the leader giving up its terminal hangs up the foreground group: itself here */
	signal(SIGHUP, on_hup);
	CHECK("TIOCNOTTY by the leader", ioctl(s, TIOCNOTTY));
	BOOL("leader got SIGHUP", got_hup);
	try_dev_tty("after TIOCNOTTY");
	CHECK("TIOCGSID after TIOCNOTTY", ioctl(m, TIOCGSID, &(int){0}));
	CHECK("TIOCSCTTY on the second pty", ioctl(s2, TIOCSCTTY, 0));
	try_dev_tty("after TIOCSCTTY");
	BOOL("tcgetsid of the second pty is my session", tcgetsid(s2) == getsid(0));
	close(s2);
	close(m2);
	try_dev_tty("after closing the second pty's master");
	close(s);
	close(m);
}

static void not_leader(void)
{
	char name[64];
	int m = new_pty(name, sizeof(name));
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		int s = open(name, O_RDWR);
		CHECK_OK("non-leader opens slave", s);
		try_dev_tty("non-leader");
		CHECK("non-leader TIOCSCTTY", ioctl(s, TIOCSCTTY, 0));
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	close(m);
}

static void write_only(void)
{
	char name[64];
	int m = new_pty(name, sizeof(name));
	int s = open(name, O_WRONLY);
	CHECK_OK("open slave write-only", s);
	try_dev_tty("after a write-only open");
	close(s);
	close(m);
}

int main(void)
{
	in_child(no_ctty);
	in_child(acquire_by_open);
	in_child(not_leader);
	in_child(write_only);
	return 0;
}
