/* A pty as a controlling terminal (forkpty): the foreground process group, signal
 * characters (^C, ^Z), SIGWINCH, job control of background groups (SIGTTIN, SIGTTOU with
 * TOSTOP), tcsetpgrp, /dev/tty, and SIGHUP when the master closes or the session leader
 * exits. The child is a small command loop driven by typing at the master. */
#include "conf.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdbool.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>

static char transcript[8192];

/* Reads the master until needle appears (or 5 s without output); prints what came. */
static void expect(int m, const char *needle)
{
	size_t len = 0;
	transcript[0] = 0;
	while (!strstr(transcript, needle) && len < sizeof(transcript) - 1) {
		struct pollfd p = {m, POLLIN, 0};
		if (poll(&p, 1, 5000) <= 0 || !(p.revents & POLLIN))
			break;
		long r = read(m, transcript + len, sizeof(transcript) - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		transcript[len] = 0;
	}
	printf("  \"");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)transcript[i];
		if (c == '\r')
			printf("\\r");
		else if (c == '\n')
			printf("\\n");
		else if (c < 0x20 || c >= 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	printf("\"%s\n", strstr(transcript, needle) ? "" : " (MISSING)");
}

static void type(int m, const char *s)
{
	write(m, s, strlen(s));
}

static volatile sig_atomic_t got;

static void on_signal(int sig)
{
	got = sig;
}

static void say(const char *label, bool v)
{
	printf("%s: %s\n", label, v ? "yes" : "no");
}

/* Says "waiting" and waits for sig (blocked until sigsuspend, so none is missed). */
static void wait_signal(int sig)
{
	sigset_t none, block, old;
	sigemptyset(&none);
	sigemptyset(&block);
	sigaddset(&block, sig);
	sigprocmask(SIG_BLOCK, &block, &old);
	got = 0;
	printf("waiting\n");
	while (got != sig)
		sigsuspend(&none);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* A grandchild in a process group of its own; returns its pid. It runs body once its
 * parent calls go() (after making it the foreground group, say). */
static int go_pipe[2];

static pid_t spawn_in_group(void (*body)(void))
{
	pipe(go_pipe);
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		char c;
		close(go_pipe[1]);
		if (read(go_pipe[0], &c, 1) != 1)
			_exit(4);
		body();
		_exit(0);
	}
	setpgid(pid, pid);
	close(go_pipe[0]);
	return pid;
}

static void go(void)
{
	write(go_pipe[1], "g", 1);
	close(go_pipe[1]);
}

static void read_tty(void)
{
	char c;
	long r = read(0, &c, 1);
	printf("background read returned %ld errno=%s\n", r, r < 0 ? conf_errname(errno) : "none");
}

static void write_tty(void)
{
	long r = write(1, "bg write\n", 9);
	if (r < 0)
		_exit(3);
}

static void pause_forever(void)
{
	for (;;)
		pause();
}

static void read_line_and_say(void)
{
	char line[64];
	long r = read(0, line, sizeof(line) - 1);
	line[r > 0 ? r : 0] = 0;
	printf("foreground child read %ld: %s", r, line);
}

static void report_wait(pid_t pid)
{
	int st;
	go();
	waitpid(pid, &st, WUNTRACED);
	if (WIFSTOPPED(st))
		printf("stopped by %s\n", sigabbrev_np(WSTOPSIG(st)));
	else if (WIFEXITED(st))
		printf("exited %d\n", WEXITSTATUS(st));
	else
		printf("killed by %s\n", sigabbrev_np(WTERMSIG(st)));
	if (WIFSTOPPED(st)) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
}

static void child_loop(void)
{
	signal(SIGINT, on_signal);
	signal(SIGWINCH, on_signal);
	char line[128];
	for (;;) {
		printf("> ");
		fflush(stdout);
		long r = read(0, line, sizeof(line) - 1);
		if (r <= 0)
			_exit(2);
		line[r] = 0;
		if (!strcmp(line, "ids\n")) {
			say("session leader", getsid(0) == getpid());
			say("tcgetpgrp is my group", tcgetpgrp(0) == getpgrp());
			say("tcgetsid is my session", tcgetsid(0) == getsid(0));
		} else if (!strcmp(line, "devtty\n")) {
			int fd = open("/dev/tty", O_RDWR);
			printf("open /dev/tty: %s\n", fd < 0 ? conf_errname(errno) : "ok");
			write(fd, "via /dev/tty\n", 13);
			close(fd);
		} else if (!strcmp(line, "sigint\n")) {
			wait_signal(SIGINT);
			printf("got SIGINT\n");
		} else if (!strcmp(line, "winch\n")) {
			wait_signal(SIGWINCH);
			struct winsize ws;
			ioctl(0, TIOCGWINSZ, &ws);
			printf("got SIGWINCH: %dx%d\n", ws.ws_row, ws.ws_col);
		} else if (!strcmp(line, "bgread\n")) {
			report_wait(spawn_in_group(read_tty));
		} else if (!strcmp(line, "bgwrite\n")) {
			report_wait(spawn_in_group(write_tty));
			struct termios t;
			tcgetattr(0, &t);
			t.c_lflag |= TOSTOP;
			tcsetattr(0, TCSANOW, &t);
			report_wait(spawn_in_group(write_tty));
			t.c_lflag &= ~(tcflag_t)TOSTOP;
			tcsetattr(0, TCSANOW, &t);
		} else if (!strcmp(line, "fg\n")) {
			pid_t pid = spawn_in_group(read_line_and_say);
			printf("tcsetpgrp: %s\n", tcsetpgrp(0, pid) < 0 ? conf_errname(errno) : "ok");
			report_wait(pid);
			/* now in the background: take the terminal back with SIGTTOU ignored */
			signal(SIGTTOU, SIG_IGN);
			int r2 = tcsetpgrp(0, getpgrp());
			signal(SIGTTOU, SIG_DFL);
			printf("tcsetpgrp back: %s\n", r2 < 0 ? conf_errname(errno) : "ok");
		} else if (!strcmp(line, "susp\n")) {
			pid_t pid = spawn_in_group(pause_forever);
			tcsetpgrp(0, pid);
			printf("waiting\n");
			report_wait(pid);
			signal(SIGTTOU, SIG_IGN);
			tcsetpgrp(0, getpgrp());
			signal(SIGTTOU, SIG_DFL);
		} else if (!strcmp(line, "badpgrp\n")) {
			printf("tcsetpgrp to a group that does not exist: %s\n",
			       tcsetpgrp(0, 999999) < 0 ? conf_errname(errno) : "ok");
		} else if (!strcmp(line, "quit\n")) {
			_exit(0);
		} else {
			printf("? %s", line);
		}
	}
}

static void session(void)
{
	int m;
	fflush(stdout);
	pid_t pid = forkpty(&m, NULL, NULL, NULL);
	if (pid == 0)
		child_loop();
	printf("forkpty: %s\n", pid < 0 ? conf_errname(errno) : "ok");
	expect(m, "> ");
	const char *cmds[] = {"ids\n", "devtty\n", "bgread\n", "bgwrite\n", "badpgrp\n"};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		printf("%s", cmds[i]);
		type(m, cmds[i]);
		expect(m, "> ");
	}
	printf("sigint\n");
	type(m, "sigint\n");
	expect(m, "waiting\r\n");
	type(m, "junk\x03"); /* ^C also throws away the line being typed */
	expect(m, "> ");
	printf("winch\n");
	type(m, "winch\n");
	expect(m, "waiting\r\n");
	struct winsize ws = {.ws_row = 33, .ws_col = 99};
	ioctl(m, TIOCSWINSZ, &ws);
	expect(m, "> ");
	printf("fg\n");
	type(m, "fg\n");
	expect(m, "tcsetpgrp: ok\r\n");
	type(m, "typed\n");
	expect(m, "> ");
	printf("susp\n");
	type(m, "susp\n");
	expect(m, "waiting\r\n");
	type(m, "\x1a");
	expect(m, "> ");
	printf("quit\n");
	type(m, "quit\n");
	int st;
	waitpid(pid, &st, 0);
	printf("child exit status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	char buf[64];
	long r;
	while ((r = read(m, buf, sizeof(buf))) > 0)
		;
	printf("master read after the session ended: %ld errno=%s\n", r, r < 0 ? conf_errname(errno) : "none");
	close(m);
}

static int hup_pipe[2];

static void on_hup(int sig)
{
	(void)sig;
	write(hup_pipe[1], "H", 1);
}

static void on_hup_exit(int sig)
{
	on_hup(sig);
	_exit(0);
}

static void expect_pipe(const char *label)
{
	char c = 0;
	struct pollfd p = {hup_pipe[0], POLLIN, 0};
	bool ok = poll(&p, 1, 5000) == 1 && read(hup_pipe[0], &c, 1) == 1 && c == 'H';
	printf("%s: %s\n", label, ok ? "yes" : "no");
}

static void hangup_on_master_close(void)
{
	int m;
	fflush(stdout);
	pid_t pid = forkpty(&m, NULL, NULL, NULL);
	if (pid == 0) {
		signal(SIGHUP, on_hup);
		sigset_t hup, none;
		sigemptyset(&hup);
		sigemptyset(&none);
		sigaddset(&hup, SIGHUP);
		sigprocmask(SIG_BLOCK, &hup, NULL);
		printf("ready\n");
		sigsuspend(&none);
		char c;
		long r = read(0, &c, 1);
		_exit(r == 0 ? 7 : 8); /* a hung-up terminal reads EOF */
	}
	expect(m, "ready\r\n");
	close(m);
	expect_pipe("session leader got SIGHUP when the master closed");
	int st;
	waitpid(pid, &st, 0);
	printf("leader then read EOF: %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 7 ? "yes" : "no");
}

static void hangup_on_leader_exit(void)
{
	int m;
	fflush(stdout);
	pid_t pid = forkpty(&m, NULL, NULL, NULL);
	if (pid == 0) {
		pid_t g = fork();
		if (g == 0) {
			signal(SIGHUP, on_hup_exit);
			setpgid(0, 0);
			signal(SIGTTOU, SIG_IGN);
			tcsetpgrp(0, getpid());
			signal(SIGTTOU, SIG_DFL);
			printf("fg ready\n");
			pause();
			_exit(0);
		}
		setpgid(g, g);
		pause();
		_exit(0);
	}
	expect(m, "fg ready\r\n");
	kill(pid, SIGKILL);
	int st;
	waitpid(pid, &st, 0);
	expect_pipe("foreground group got SIGHUP when the session leader died");
	close(m);
}

int main(void)
{
	pipe(hup_pipe);
	session();
	hangup_on_master_close();
	hangup_on_leader_exit();
	return 0;
}
