/* poll/ppoll/select/pselect on pipes: empty and readable read ends, writable and full write
 * ends, POLLHUP once the writers are gone (with POLLIN while data remains), POLLERR once the
 * reader is gone, POLLNVAL for a closed descriptor, negative fds ignored, timeouts 0 and
 * 50 ms (at least 45 ms elapse; the upper bound is not printed), a wakeup by another process,
 * EINTR from a signal unblocked by the ppoll/pselect mask, select's EBADF/EINVAL, and
 * /dev/null always ready. revents are printed symbolically. */
#include "conf.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *ev(short e)
{
	static char buf[128];
	static const struct {
		short bit;
		const char *name;
	} names[] = { { POLLIN, "IN" },	    { POLLPRI, "PRI" },	    { POLLOUT, "OUT" },
		      { POLLERR, "ERR" },   { POLLHUP, "HUP" },	    { POLLNVAL, "NVAL" },
		      { POLLRDNORM, "RDNORM" }, { POLLRDBAND, "RDBAND" }, { POLLWRNORM, "WRNORM" },
		      { POLLWRBAND, "WRBAND" }, { POLLRDHUP, "RDHUP" } };

	buf[0] = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (e & names[i].bit) {
			if (buf[0])
				strcat(buf, "|");
			strcat(buf, names[i].name);
		}
	return buf[0] ? buf : "0";
}

static void poll1(const char *label, int fd, short events, int timeout)
{
	struct pollfd p = { .fd = fd, .events = events, .revents = 0x5555 };

	errno = 0;
	int r = poll(&p, 1, timeout);
	printf("%s: ret=%d errno=%s revents=%s\n", label, r, r < 0 ? conf_errname(errno) : "none",
	       r < 0 ? "-" : ev(p.revents));
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void sel(const char *label, int nfds, int rfd, int wfd, long usec)
{
	fd_set r, w;
	struct timeval tv = { 0, usec };

	FD_ZERO(&r);
	FD_ZERO(&w);
	if (rfd >= 0)
		FD_SET(rfd, &r);
	if (wfd >= 0)
		FD_SET(wfd, &w);
	errno = 0;
	int n = select(nfds, &r, &w, NULL, &tv);
	printf("%s: ret=%d errno=%s", label, n, n < 0 ? conf_errname(errno) : "none");
	if (n >= 0)
		printf(" read-ready=%s write-ready=%s", rfd >= 0 && FD_ISSET(rfd, &r) ? "yes" : "no",
		       wfd >= 0 && FD_ISSET(wfd, &w) ? "yes" : "no");
	printf("\n");
}

static volatile int usr1_hits;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_hits++;
}

int main(void)
{
	int p[2];
	char buf[65536];

	SAY("-- poll on a pipe\n");
	CHECK("pipe2 O_NONBLOCK", pipe2(p, O_NONBLOCK));
	poll1("empty read end, timeout 0", p[0], POLLIN, 0);
	long long t0 = now_ms();
	poll1("empty read end, timeout 50", p[0], POLLIN, 50);
	printf("  at least 45 ms elapsed: %s\n", now_ms() - t0 >= 45 ? "yes" : "no");
	poll1("write end, POLLOUT", p[1], POLLOUT, 0);
	poll1("write end, POLLIN only", p[1], POLLIN, 0);
	poll1("read end, POLLOUT only", p[0], POLLOUT, 0);
	CHECK("write 3", write(p[1], "abc", 3));
	poll1("read end after write", p[0], POLLIN, 0);
	poll1("read end after write, POLLIN|POLLRDNORM", p[0], POLLIN | POLLRDNORM, 0);
	poll1("read end after write, POLLPRI only", p[0], POLLPRI, 0);
	CHECK("read 3", read(p[0], buf, 3));
	poll1("read end drained", p[0], POLLIN, 0);
	while (write(p[1], buf, 4096) > 0)
		;
	poll1("full write end", p[1], POLLOUT, 0);
	poll1("full write end, timeout 50", p[1], POLLOUT, 50);
	CHECK("read 4096", read(p[0], buf, 4096));
	poll1("write end after reading a page", p[1], POLLOUT, 0);
	while (read(p[0], buf, sizeof(buf)) > 0)
		;

	SAY("-- hangup and error\n");
	CHECK("write 3", write(p[1], "abc", 3));
	CHECK("close write end", close(p[1]));
	poll1("read end, data left, writer gone", p[0], POLLIN, 0);
	poll1("read end, data left, writer gone, events 0", p[0], 0, 0);
	CHECK("read 3", read(p[0], buf, 3));
	poll1("read end, drained, writer gone", p[0], POLLIN, 0);
	poll1("read end, drained, writer gone, timeout 1000 (no wait)", p[0], POLLIN, 1000);
	close(p[0]);
	CHECK("pipe", pipe(p));
	CHECK("close read end", close(p[0]));
	poll1("write end, reader gone", p[1], POLLOUT, 0);
	poll1("write end, reader gone, events 0", p[1], 0, 0);
	close(p[1]);

	SAY("-- invalid descriptors\n");
	CHECK("pipe", pipe(p));
	int closed_fd = p[1];
	close(p[1]);
	poll1("closed fd", closed_fd, POLLIN, 0);
	poll1("closed fd, events 0", closed_fd, 0, 0);
	struct pollfd fds[3] = {
		{ .fd = -1, .events = POLLIN, .revents = 0x55 },
		{ .fd = closed_fd, .events = POLLIN },
		{ .fd = p[0], .events = POLLIN },
	};
	CHECK("poll three: negative, closed, empty pipe", poll(fds, 3, 0));
	printf("  revents: %s", ev(fds[0].revents));
	printf(" / %s", ev(fds[1].revents));
	printf(" / %s\n", ev(fds[2].revents));
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	CHECK("poll nfds above RLIMIT_NOFILE", poll(fds, rl.rlim_cur + 1, 0));
	CHECK("poll bad pointer", syscall(SYS_poll, 8L, 1L, 0L));
	CHECK("poll nothing, 20 ms", poll(NULL, 0, 20));

	SAY("-- wakeup by another process\n");
	int q[2], gate[2];
	CHECK("pipe", pipe(q));
	CHECK("pipe (gate)", pipe(gate));
	pid_t pid = fork();
	if (pid == 0) {
		struct timespec ts = { 0, 30 * 1000 * 1000 };
		char c;

		close(q[0]);
		close(gate[1]);
		nanosleep(&ts, NULL);
		if (write(q[1], "w", 1) != 1)
			_exit(1);
		/* Stay alive (holding the write end) until the parent has polled. */
		if (read(gate[0], &c, 1) != 0)
			_exit(2);
		_exit(0);
	}
	close(q[1]);
	close(gate[0]);
	poll1("poll, 10 s timeout, child writes after 30 ms", q[0], POLLIN, 10000);
	close(gate[1]);
	int st;
	waitpid(pid, &st, 0);
	CHECK("read", read(q[0], buf, 1));
	poll1("poll after the child exited", q[0], POLLIN, 10000);
	close(q[0]);
	close(p[0]);

	SAY("-- ppoll and pselect\n");
	CHECK("pipe", pipe(p));
	struct timespec zero = { 0, 0 }, fifty = { 0, 50 * 1000 * 1000 }, second = { 1, 0 };
	struct pollfd pf = { .fd = p[0], .events = POLLIN };
	CHECK("ppoll timeout 0", ppoll(&pf, 1, &zero, NULL));
	t0 = now_ms();
	CHECK("ppoll timeout 50 ms", ppoll(&pf, 1, &fifty, NULL));
	printf("  at least 45 ms elapsed: %s\n", now_ms() - t0 >= 45 ? "yes" : "no");
	struct timespec bad = { 0, 1000000000 };
	CHECK("ppoll tv_nsec 1e9", ppoll(&pf, 1, &bad, NULL));
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigaction(SIGUSR1, &sa, NULL);
	sigset_t block, unblock;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &unblock);
	sigdelset(&unblock, SIGUSR1);
	raise(SIGUSR1);
	printf("handler hits while blocked: %d\n", usr1_hits);
	CHECK("ppoll with a mask unblocking a pending SIGUSR1", ppoll(&pf, 1, &second, &unblock));
	printf("  handler hits=%d\n", usr1_hits);
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	BOOL("  SIGUSR1 blocked again after ppoll", sigismember(&cur, SIGUSR1));
	raise(SIGUSR1);
	fd_set rs;
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	CHECK("pselect with a mask unblocking a pending SIGUSR1", pselect(p[0] + 1, &rs, NULL, NULL, &second, &unblock));
	printf("  handler hits=%d\n", usr1_hits);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	BOOL("  SIGUSR1 blocked again after pselect", sigismember(&cur, SIGUSR1));
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	CHECK("pselect timeout 0", pselect(p[0] + 1, &rs, NULL, NULL, &zero, NULL));
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	close(p[0]);
	close(p[1]);

	SAY("-- select\n");
	CHECK("pipe", pipe(p));
	sel("empty pipe, timeout 0", p[1] + 1, p[0], p[1], 0);
	t0 = now_ms();
	sel("empty read end only, timeout 50 ms", p[0] + 1, p[0], -1, 50000);
	printf("  at least 45 ms elapsed: %s\n", now_ms() - t0 >= 45 ? "yes" : "no");
	CHECK("write 1", write(p[1], "x", 1));
	sel("after write", p[1] + 1, p[0], p[1], 0);
	struct timeval tv = { 0, 0 };
	fd_set r1;
	FD_ZERO(&r1);
	FD_SET(p[0], &r1);
	CHECK("select with fds beyond nfds ignored", select(p[0], &r1, NULL, NULL, &tv));
	close(p[1]);
	CHECK("read 1", read(p[0], buf, 1));
	sel("writer gone (EOF is readable)", p[0] + 1, p[0], -1, 0);
	close(p[0]);
	CHECK("pipe", pipe(p));
	close(p[0]);
	sel("reader gone (write end is ready)", p[1] + 1, -1, p[1], 0);
	closed_fd = p[0];
	sel("closed fd in the read set", closed_fd + 1 > p[1] + 1 ? closed_fd + 1 : p[1] + 1, closed_fd, -1, 0);
	close(p[1]);
	CHECK("select nfds -1", select(-1, NULL, NULL, NULL, &tv));
	struct timeval badtv = { 0, -1 };
	CHECK("select negative tv_usec", select(0, NULL, NULL, NULL, &badtv));
	tv = (struct timeval){ 0, 20000 };
	CHECK("select nothing, 20 ms", select(0, NULL, NULL, NULL, &tv));
	printf("  timeval updated to 0: %s\n", tv.tv_sec == 0 && tv.tv_usec == 0 ? "yes" : "no");
	CHECK("pipe", pipe(p));
	CHECK("write 1", write(p[1], "x", 1));
	FD_ZERO(&r1);
	FD_SET(p[0], &r1);
	tv = (struct timeval){ 10, 0 };
	CHECK("select ready at once, 10 s timeout", select(p[0] + 1, &r1, NULL, NULL, &tv));
	printf("  timeval holds the time left (9 s < left < 10 s): %s\n",
	       tv.tv_sec == 9 && tv.tv_usec > 0 ? "yes" : "no");

	SAY("-- the raw ppoll and pselect6 system calls write back the time left\n");
	struct timespec rts = { 0, 20 * 1000 * 1000 };
	CHECK("raw ppoll nothing, 20 ms", syscall(SYS_ppoll, NULL, 0L, &rts, NULL, 8L));
	printf("  timespec updated to 0: %s\n", rts.tv_sec == 0 && rts.tv_nsec == 0 ? "yes" : "no");
	rts = (struct timespec){ 0, 20 * 1000 * 1000 };
	CHECK("raw pselect6 nothing, 20 ms", syscall(SYS_pselect6, 0L, NULL, NULL, NULL, &rts, NULL));
	printf("  timespec updated to 0: %s\n", rts.tv_sec == 0 && rts.tv_nsec == 0 ? "yes" : "no");
	struct pollfd rp = { .fd = p[0], .events = POLLIN };
	rts = (struct timespec){ 10, 0 };
	CHECK("raw ppoll ready at once, 10 s", syscall(SYS_ppoll, &rp, 1L, &rts, NULL, 8L));
	printf("  timespec holds the time left (9 s < left < 10 s): %s\n",
	       rts.tv_sec == 9 && rts.tv_nsec > 0 ? "yes" : "no");
	close(p[0]);
	close(p[1]);

	SAY("-- /dev/null\n");
	int dn = open("/dev/null", O_RDWR);
	poll1("/dev/null POLLIN|POLLOUT", dn, POLLIN | POLLOUT, 0);
	sel("/dev/null in both sets", dn + 1, dn, dn, 0);
	close(dn);
	return 0;
}
