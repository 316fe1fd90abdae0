/* Pseudo-terminals: posix_openpt/grantpt/unlockpt/ptsname, openpty, termios round trip,
 * canonical line editing and echo, raw mode with VMIN/VTIME, output processing, buffer
 * limits, poll readiness and hangup in both directions. */
#include "conf.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>

/* Prints bytes with control characters escaped. */
static void show(const char *label, const char *s, long n)
{
	printf("%s (%ld): \"", label, n);
	for (long i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r')
			printf("\\r");
		else if (c == '\n')
			printf("\\n");
		else if (c == '\b')
			printf("\\b");
		else if (c < 0x20 || c >= 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	printf("\"\n");
}

/* Reads from fd until `want` bytes came (the other end's processing is asynchronous in
 * Linux), or nothing more arrives for 5 s. */
static long read_n(int fd, char *buf, long want)
{
	long got = 0;
	while (got < want) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 5000) <= 0 || !(p.revents & POLLIN))
			break;
		long r = read(fd, buf + got, (size_t)(want - got));
		if (r <= 0)
			break;
		got += r;
	}
	return got;
}

/* Types `in` at the master; shows what the slave reads and what is echoed. */
static void type_line(int m, int s, const char *label, const char *in, long echo_len)
{
	char buf[256];
	printf("-- %s\n", label);
	write(m, in, strlen(in));
	long n = read(s, buf, sizeof(buf));
	show("slave read", buf, n);
	if (echo_len) {
		n = read_n(m, buf, echo_len);
		show("echo", buf, n);
	}
}

static unsigned poll_bits(int fd)
{
	struct pollfd p = {fd, POLLIN | POLLOUT, 0};
	poll(&p, 1, 0);
	return (unsigned)p.revents;
}

static void show_poll(const char *label, int fd)
{
	unsigned b = poll_bits(fd);
	printf("%s:%s%s%s%s\n", label, b & POLLIN ? " IN" : "", b & POLLOUT ? " OUT" : "",
	       b & POLLERR ? " ERR" : "", b & POLLHUP ? " HUP" : "");
}

static void unix98(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	CHECK_OK("posix_openpt", m);
	BOOL("master isatty", isatty(m));
	int n = -1;
	CHECK("TIOCGPTN", ioctl(m, TIOCGPTN, &n));
	char *name = ptsname(m);
	char want[32];
	snprintf(want, sizeof(want), "/dev/pts/%d", n);
	BOOL("ptsname is /dev/pts/<TIOCGPTN>", name && strcmp(name, want) == 0);
	CHECK("open locked slave", open(want, O_RDWR | O_NOCTTY));
	int lk = -1;
	CHECK("TIOCGPTLCK", ioctl(m, TIOCGPTLCK, &lk));
	printf("locked: %d\n", lk);
	CHECK("grantpt", grantpt(m));
	CHECK("unlockpt", unlockpt(m));
	int s = open(want, O_RDWR | O_NOCTTY);
	CHECK_OK("open slave", s);
	struct stat st;
	fstat(s, &st);
	BOOL("slave is a char device of major 136", S_ISCHR(st.st_mode) && major(st.st_rdev) == 136);
	BOOL("slave minor is the pty number", (int)minor(st.st_rdev) == n);
	char tn[64] = "";
	ttyname_r(s, tn, sizeof(tn));
	BOOL("ttyname(slave) == ptsname", strcmp(tn, want) == 0);
	CHECK("TIOCGPTN on slave", ioctl(s, TIOCGPTN, &n));
	int peer = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	CHECK_OK("TIOCGPTPEER", peer);
	fstat(peer, &st);
	BOOL("peer is the slave", (int)minor(st.st_rdev) == n);
	BOOL("/dev/pts/ptmx is a char device", stat("/dev/pts/ptmx", &st) == 0 && S_ISCHR(st.st_mode));
	BOOL("/dev/ptmx is 5:2", stat("/dev/ptmx", &st) == 0 && st.st_rdev == makedev(5, 2));
	close(peer);
	close(s);
	close(m);
}

static void termios_round_trip(int m, int s)
{
	struct termios t, u;
	tcgetattr(s, &t);
	printf("default iflag=%o oflag=%o cflag=%o lflag=%o\n", t.c_iflag, t.c_oflag, t.c_cflag, t.c_lflag);
	printf("default cc: intr=%d quit=%d erase=%d kill=%d eof=%d min=%d time=%d susp=%d\n",
	       t.c_cc[VINTR], t.c_cc[VQUIT], t.c_cc[VERASE], t.c_cc[VKILL], t.c_cc[VEOF], t.c_cc[VMIN],
	       t.c_cc[VTIME], t.c_cc[VSUSP]);
	t.c_lflag &= ~(tcflag_t)ECHOCTL;
	t.c_cc[VEOL] = ';';
	CHECK("tcsetattr slave", tcsetattr(s, TCSANOW, &t));
	CHECK("tcgetattr master", tcgetattr(m, &u));
	BOOL("master sees the slave's termios", u.c_lflag == t.c_lflag && u.c_cc[VEOL] == ';');
	t.c_lflag |= ECHOCTL;
	t.c_cc[VEOL] = 0;
	tcsetattr(m, TCSADRAIN, &t);
	tcgetattr(s, &u);
	BOOL("slave sees the master's change", u.c_lflag == t.c_lflag && u.c_cc[VEOL] == 0);
	struct winsize ws = {0};
	CHECK("TIOCGWINSZ", ioctl(s, TIOCGWINSZ, &ws));
	printf("initial winsize %dx%d\n", ws.ws_row, ws.ws_col);
	ws.ws_row = 40;
	ws.ws_col = 132;
	CHECK("TIOCSWINSZ master", ioctl(m, TIOCSWINSZ, &ws));
	memset(&ws, 0, sizeof(ws));
	ioctl(s, TIOCGWINSZ, &ws);
	printf("slave winsize %dx%d\n", ws.ws_row, ws.ws_col);
	int ld = -1;
	CHECK("TIOCGETD", ioctl(s, TIOCGETD, &ld));
	printf("line discipline %d\n", ld);
}

static void canonical(int m, int s)
{
	char buf[64];
	int n = -1;
	write(m, "par", 3);
	read_n(m, buf, 3);
	show_poll("slave poll with a partial line", s);
	ioctl(s, FIONREAD, &n);
	printf("FIONREAD partial line: %d\n", n);
	write(m, "tial\n", 5);
	read_n(m, buf, 6);
	show_poll("slave poll with a line", s);
	ioctl(s, FIONREAD, &n);
	printf("FIONREAD line: %d\n", n);
	n = (int)read(s, buf, 3);
	show("short read", buf, n);
	n = (int)read(s, buf, sizeof(buf));
	show("rest of the line", buf, n);

	type_line(m, s, "plain line", "hello\n", 7);
	type_line(m, s, "carriage return (ICRNL)", "cr\r", 4);
	type_line(m, s, "erase", "abX\x7f" "c\n", 9);
	type_line(m, s, "erase past start", "\x7f\x7fok\n", 4);
	type_line(m, s, "kill", "junk\x15ok\n", 4 + 12 + 4);
	type_line(m, s, "word erase", "one two\x17three\n", 7 + 9 + 7);
	type_line(m, s, "control char echo", "a\x01z\n", 6);
	type_line(m, s, "erase of echoed control", "a\x01\x7fz\n", 3 + 6 + 3);
	type_line(m, s, "literal next", "x\x16\x7fy\n", 1 + 2 + 2 + 3);
	type_line(m, s, "tab erase", "\t\x7fq\n", 1 + 8 + 3);
	type_line(m, s, "EOF mid-line", "ab\x04", 2);
	type_line(m, s, "EOF at line start", "\x04", 0);
	struct termios t;
	tcgetattr(s, &t);
	t.c_cc[VEOL] = ';';
	tcsetattr(s, TCSANOW, &t);
	type_line(m, s, "VEOL", "x;", 2);
	t.c_cc[VEOL] = 0;
	t.c_lflag &= ~(tcflag_t)ECHO;
	t.c_lflag |= ECHONL;
	tcsetattr(s, TCSANOW, &t);
	type_line(m, s, "ECHONL without ECHO", "quiet\n", 2);
	t.c_lflag |= ECHO;
	t.c_lflag &= ~(tcflag_t)(ECHONL | ECHOE);
	tcsetattr(s, TCSANOW, &t);
	type_line(m, s, "erase without ECHOE", "ab\x7f\n", 6);
	t.c_lflag |= ECHOE;
	t.c_lflag &= ~(tcflag_t)ECHOKE;
	tcsetattr(s, TCSANOW, &t);
	type_line(m, s, "kill without ECHOKE", "zz\x15k\n", 2 + 4 + 3);
	t.c_lflag |= ECHOKE;
	t.c_iflag |= IGNCR;
	tcsetattr(s, TCSANOW, &t);
	type_line(m, s, "IGNCR", "a\rb\n", 4);
	t.c_iflag &= ~(tcflag_t)(IGNCR | ICRNL);
	t.c_iflag |= INLCR;
	t.c_cc[VEOL] = '\r';
	tcsetattr(s, TCSANOW, &t);
	type_line(m, s, "INLCR", "nl\n", 4);
	t.c_iflag |= ICRNL;
	t.c_iflag &= ~(tcflag_t)INLCR;
	t.c_cc[VEOL] = 0;
	tcsetattr(s, TCSANOW, &t);

	/* a line longer than the 4 KiB buffer: the last character keeps being replaced */
	t.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(s, TCSANOW, &t);
	char big[5000];
	memset(big, 'a', sizeof(big));
	write(m, big, sizeof(big));
	write(m, "\n", 1);
	static char line[8192];
	long r = read(s, line, sizeof(line));
	printf("overlong line: read %ld, ends in newline: %s\n", r, r > 0 && line[r - 1] == '\n' ? "yes" : "no");
	t.c_lflag |= ECHO;
	tcsetattr(s, TCSANOW, &t);
}

static void raw(int m, int s)
{
	struct termios t, saved;
	tcgetattr(s, &saved);
	t = saved;
	cfmakeraw(&t);
	t.c_cc[VMIN] = 3;
	t.c_cc[VTIME] = 0;
	CHECK("cfmakeraw tcsetattr", tcsetattr(s, TCSAFLUSH, &t));
	char buf[64];
	write(m, "a\rb", 3);
	long n = read(s, buf, sizeof(buf));
	show("raw read (VMIN=3)", buf, n);
	write(m, "\x03\x7f", 2);
	n = read(s, buf, 2);
	show("raw read of ^C and DEL", buf, n);
	t.c_cc[VMIN] = 0;
	tcsetattr(s, TCSANOW, &t);
	n = read(s, buf, sizeof(buf));
	printf("VMIN=0 VTIME=0 on empty: %ld\n", n);
	t.c_cc[VTIME] = 1;
	tcsetattr(s, TCSANOW, &t);
	n = read(s, buf, sizeof(buf));
	printf("VMIN=0 VTIME=1 on empty: %ld\n", n);
	write(m, "q", 1);
	n = read(s, buf, sizeof(buf));
	printf("VMIN=0 VTIME=1 with data: %ld\n", n);
	t.c_cc[VMIN] = 5;
	t.c_cc[VTIME] = 1;
	tcsetattr(s, TCSANOW, &t);
	write(m, "xy", 2);
	n = read(s, buf, sizeof(buf));
	show("VMIN=5 VTIME=1 inter-byte timeout", buf, n);

	/* output processing */
	write(s, "o\n", 2);
	n = read_n(m, buf, 2);
	show("raw output (no OPOST)", buf, n);
	tcsetattr(s, TCSANOW, &saved);
	write(s, "o\n", 2);
	n = read_n(m, buf, 3);
	show("ONLCR output", buf, n);
	t = saved;
	t.c_oflag |= OCRNL;
	tcsetattr(s, TCSANOW, &t);
	write(s, "r\r", 2);
	n = read_n(m, buf, 2);
	show("OCRNL output", buf, n);
	t.c_oflag &= ~(tcflag_t)OCRNL;
	t.c_oflag |= XTABS;
	tcsetattr(s, TCSANOW, &t);
	write(s, "ab\tc\n", 5);
	n = read_n(m, buf, 10); /* OCRNL's newline left the column at 1 */
	show("XTABS output", buf, n);
	tcsetattr(s, TCSANOW, &saved);
	int q = -1;
	CHECK("TIOCOUTQ", ioctl(s, TIOCOUTQ, &q));
	printf("outq %d\n", q);
}

static void limits(int m, int s)
{
	struct termios t, saved;
	tcgetattr(s, &saved);
	t = saved;
	cfmakeraw(&t);
	tcsetattr(s, TCSANOW, &t);
	fcntl(m, F_SETFL, O_NONBLOCK);
	fcntl(s, F_SETFL, O_NONBLOCK);
	static char big[70000];
	memset(big, 'b', sizeof(big));
	long total = 0, r;
	while ((r = write(m, big, sizeof(big))) > 0)
		total += r;
	printf("master write when full: errno=%s\n", conf_errname(errno));
	BOOL("master took more than 4 KiB", total > 4096);
	BOOL("master took less than 64 KiB", total < 65536);
	long back = 0;
	static char buf[70000];
	while (back < total && (r = read_n(s, buf, 1)) > 0) {
		back += r;
		r = read(s, buf, sizeof(buf));
		if (r > 0)
			back += r;
	}
	BOOL("slave read back all", back == total);
	total = 0;
	while ((r = write(s, big, sizeof(big))) > 0)
		total += r;
	printf("slave write when full: errno=%s\n", conf_errname(errno));
	BOOL("slave wrote more than 4 KiB", total > 4096);
	BOOL("slave wrote less than 64 KiB", total < 65536);
	int inq = -1;
	read_n(m, buf, 0);
	struct pollfd p = {m, POLLIN, 0};
	poll(&p, 1, 5000);
	ioctl(m, FIONREAD, &inq);
	BOOL("master FIONREAD > 0", inq > 0);
	CHECK("TCFLSH master TCIFLUSH", ioctl(m, TCFLSH, TCIFLUSH));
	ioctl(m, FIONREAD, &inq);
	printf("master FIONREAD after flush: %d\n", inq);
	CHECK("TCFLSH bad", ioctl(m, TCFLSH, 7));
	write(m, "zz", 2);
	read_n(s, buf, 0);
	CHECK("tcflush slave TCIFLUSH", tcflush(s, TCIFLUSH));
	r = read(s, buf, sizeof(buf));
	printf("slave read after flush: %ld errno=%s\n", r, r < 0 ? conf_errname(errno) : "none");
	fcntl(m, F_SETFL, 0);
	fcntl(s, F_SETFL, 0);
	tcsetattr(s, TCSANOW, &saved);
}

/* A blocking write larger than the buffers completes while another process reads, and
 * epoll sees both ends. */
static void blocking_and_epoll(void)
{
	int m, s;
	openpty(&m, &s, NULL, NULL, NULL);
	struct termios t;
	tcgetattr(s, &t);
	cfmakeraw(&t);
	tcsetattr(s, TCSANOW, &t);
	enum { TOTAL = 100000 };
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		static char buf[4096];
		long got = 0, r;
		while (got < TOTAL && (r = read(s, buf, sizeof(buf))) > 0)
			got += r;
		_exit(got == TOTAL ? 0 : 1);
	}
	static char big[TOTAL];
	memset(big, 'w', sizeof(big));
	long w = write(m, big, sizeof(big));
	int st;
	waitpid(pid, &st, 0);
	printf("blocking master write: %ld, reader got all: %s\n", w,
	       WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "yes" : "no");

	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = m};
	epoll_ctl(ep, EPOLL_CTL_ADD, m, &ev);
	ev.data.fd = s;
	epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
	struct epoll_event out[2];
	printf("epoll, nothing to read: %d\n", epoll_wait(ep, out, 2, 0));
	write(s, "to master", 9);
	int n = epoll_wait(ep, out, 2, 5000);
	printf("epoll after a slave write: %d, the master: %s\n", n, n == 1 && out[0].data.fd == m ? "yes" : "no");
	char buf[16];
	read(m, buf, sizeof(buf));
	write(m, "k", 1);
	n = epoll_wait(ep, out, 2, 5000);
	printf("epoll after a master write: %d, the slave: %s\n", n, n == 1 && out[0].data.fd == s ? "yes" : "no");
	read(s, buf, sizeof(buf));
	close(s);
	n = epoll_wait(ep, out, 2, 5000);
	printf("epoll after the slave closed: %d, master HUP: %s\n", n,
	       n == 1 && out[0].data.fd == m && (out[0].events & EPOLLHUP) ? "yes" : "no");
	close(ep);
	close(m);
}

static void hangups(void)
{
	int m, s;
	char name[64], buf[16];
	openpty(&m, &s, name, NULL, NULL);
	show_poll("master poll, slave open", m);
	show_poll("slave poll", s);
	close(s);
	show_poll("master poll after slave close", m);
	long r = read(m, buf, sizeof(buf));
	printf("master read after slave close: %ld errno=%s\n", r, r < 0 ? conf_errname(errno) : "none");
	s = open(name, O_RDWR | O_NOCTTY);
	CHECK_OK("reopen slave", s);
	close(m);
	show_poll("slave poll after master close", s);
	r = read(s, buf, sizeof(buf));
	printf("slave read after master close: %ld\n", r);
	CHECK("slave write after master close", write(s, "x", 1));
	struct termios t;
	CHECK("tcgetattr after hangup", tcgetattr(s, &t));
	CHECK("open slave after master close", open(name, O_RDWR | O_NOCTTY));
	close(s);
}

int main(void)
{
	unix98();
	int m, s;
	CHECK("openpty", openpty(&m, &s, NULL, NULL, NULL));
	termios_round_trip(m, s);
	canonical(m, s);
	raw(m, s);
	limits(m, s);
	close(m);
	close(s);
	blocking_and_epoll();
	hangups();
	return 0;
}
