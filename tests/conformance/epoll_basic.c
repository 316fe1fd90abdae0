/* epoll: epoll_ctl's errors, level-triggered vs edge-triggered vs one-shot reporting on
 * pipes, EPOLLHUP/EPOLLOUT, maxevents and the ready list's order, timeouts (0, 50 ms,
 * epoll_pwait2), nested epoll instances and loops, a waiter woken by another thread,
 * EINTR (even with SA_RESTART) and epoll_pwait's temporary signal mask, items dropped
 * when their file is closed. */
#include "conf.h"
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int wake_fd;
static pthread_t main_thread;
static volatile int handled;

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {0, ms * 1000000L};
	nanosleep(&ts, NULL);
}

static int add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = {.events = events, .data.u64 = data};
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int mod(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = {.events = events, .data.u64 = data};
	return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

static void show_events(uint32_t e)
{
	printf("%s%s%s%s%s", e & EPOLLIN ? " IN" : "", e & EPOLLOUT ? " OUT" : "",
	       e & EPOLLERR ? " ERR" : "", e & EPOLLHUP ? " HUP" : "", e & EPOLLPRI ? " PRI" : "");
}

/* epoll_wait and print what came back. */
static int wait_show(const char *label, int ep, int max, int timeout)
{
	struct epoll_event evs[8];
	errno = 0;
	int n = epoll_wait(ep, evs, max, timeout);
	printf("%s: ret=%d errno=%s", label, n, n < 0 ? conf_errname(errno) : "none");
	for (int i = 0; i < n; i++) {
		printf(" [data=%llu", (unsigned long long)evs[i].data.u64);
		show_events(evs[i].events);
		printf("]");
	}
	printf("\n");
	return n;
}

static void put(int fd, int n)
{
	char buf[16] = "xxxxxxxxxxxxxxx";
	if (write(fd, buf, (size_t)n) != n)
		printf("write failed\n");
}

static int drain(int fd)
{
	char buf[256];
	int fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	int total = 0;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r <= 0)
			break;
		total += (int)r;
	}
	fcntl(fd, F_SETFL, fl);
	return total;
}

static void *late_writer(void *arg)
{
	(void)arg;
	sleep_ms(50);
	put(wake_fd, 3);
	return NULL;
}

static void *late_signal(void *arg)
{
	int sig = (int)(intptr_t)arg;
	sleep_ms(50);
	pthread_kill(main_thread, sig);
	return NULL;
}

static void on_signal(int sig)
{
	(void)sig;
	handled++;
}

static void ctl_errors(void)
{
	int p[2];
	pipe(p);
	int ep = epoll_create1(0);
	char path[64];
	snprintf(path, sizeof(path), "%s/regular", conf_tmpdir());
	int reg = open(path, O_CREAT | O_RDWR, 0600);
	struct epoll_event ev = {.events = EPOLLIN};

	CHECK("epoll_create(0)", epoll_create(0));
	CHECK("epoll_create(-1)", epoll_create(-1));
	CHECK("epoll_create1(bad flag)", epoll_create1(1));
	int ep2 = epoll_create1(EPOLL_CLOEXEC);
	BOOL("epoll_create1(EPOLL_CLOEXEC) sets FD_CLOEXEC", fcntl(ep2, F_GETFD) & FD_CLOEXEC);
	CHECK("ctl bad epfd", epoll_ctl(-1, EPOLL_CTL_ADD, p[0], &ev));
	CHECK("ctl closed epfd", epoll_ctl(999, EPOLL_CTL_ADD, p[0], &ev));
	CHECK("ctl bad target fd", epoll_ctl(ep, EPOLL_CTL_ADD, 999, &ev));
	CHECK("ctl epfd not an epoll", epoll_ctl(p[1], EPOLL_CTL_ADD, p[0], &ev));
	CHECK("ctl add itself", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev));
	CHECK("ctl add regular file", epoll_ctl(ep, EPOLL_CTL_ADD, reg, &ev));
	CHECK("ctl bad op", epoll_ctl(ep, 99, p[0], &ev));
	CHECK("ctl MOD absent", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
	CHECK("ctl DEL absent", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
	CHECK("ctl ADD", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	CHECK("ctl ADD again", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	int d = dup(p[0]);
	CHECK("ctl ADD a dup of it", epoll_ctl(ep, EPOLL_CTL_ADD, d, &ev));
	CHECK("ctl ADD NULL event", epoll_ctl(ep, EPOLL_CTL_ADD, p[1], NULL));
	CHECK("ctl DEL NULL event", epoll_ctl(ep, EPOLL_CTL_DEL, d, NULL));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	CHECK("ctl MOD EPOLLEXCLUSIVE", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT;
	CHECK("ctl ADD EPOLLEXCLUSIVE|EPOLLONESHOT", epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	CHECK("ctl ADD EPOLLEXCLUSIVE epoll fd", epoll_ctl(ep, EPOLL_CTL_ADD, ep2, &ev));
	ev.events = EPOLLOUT | EPOLLEXCLUSIVE | EPOLLET;
	CHECK("ctl ADD EPOLLEXCLUSIVE", epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev));
	ev.events = EPOLLOUT;
	CHECK("ctl MOD an EPOLLEXCLUSIVE item", epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &ev));
	CHECK("ctl DEL an EPOLLEXCLUSIVE item", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL));
	ev.events = EPOLLIN | EPOLLRDHUP | EPOLLPRI;
	CHECK("ctl MOD with EPOLLRDHUP", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));

	struct epoll_event out[2];
	CHECK("wait maxevents 0", epoll_wait(ep, out, 0, 0));
	CHECK("wait maxevents -1", syscall(SYS_epoll_wait, ep, out, -1, 0));
	CHECK("wait bad epfd", epoll_wait(999, out, 2, 0));
	CHECK("wait on a pipe", epoll_wait(p[0], out, 2, 0));
	char c;
	CHECK("read epoll fd", read(ep, &c, 1));
	close(d);
	close(reg);
	unlink(path);
	close(ep);
	close(ep2);
	close(p[0]);
	close(p[1]);
}

static void triggering(void)
{
	int p[2];
	pipe(p);
	int ep = epoll_create1(0);
	add(ep, p[0], EPOLLIN, 1);
	SAY("-- level-triggered\n");
	wait_show("empty pipe, timeout 0", ep, 8, 0);
	put(p[1], 1);
	wait_show("1 byte", ep, 8, 0);
	wait_show("again (still readable)", ep, 8, 0);
	drain(p[0]);
	wait_show("after draining", ep, 8, 0);

	SAY("-- edge-triggered\n");
	CHECK("MOD to EPOLLET", mod(ep, p[0], EPOLLIN | EPOLLET, 2));
	put(p[1], 1);
	wait_show("1 byte", ep, 8, 0);
	wait_show("again (no new edge)", ep, 8, 0);
	put(p[1], 1);
	wait_show("another byte (new edge)", ep, 8, 0);
	wait_show("again", ep, 8, 0);
	printf("drained %d bytes\n", drain(p[0]));

	SAY("-- one-shot\n");
	CHECK("MOD to EPOLLONESHOT", mod(ep, p[0], EPOLLIN | EPOLLONESHOT, 3));
	put(p[1], 1);
	wait_show("1 byte", ep, 8, 0);
	wait_show("again (disabled)", ep, 8, 0);
	put(p[1], 1);
	wait_show("more data (still disabled)", ep, 8, 0);
	CHECK("MOD re-arms", mod(ep, p[0], EPOLLIN | EPOLLONESHOT, 4));
	wait_show("after MOD", ep, 8, 0);
	wait_show("again (disabled)", ep, 8, 0);
	drain(p[0]);

	SAY("-- write end, hang-up\n");
	CHECK("MOD back to level", mod(ep, p[0], EPOLLIN, 5));
	add(ep, p[1], EPOLLOUT, 6);
	wait_show("writable pipe", ep, 8, 0);
	put(p[1], 2);
	close(p[1]);
	wait_show("data then writer closed", ep, 8, 0);
	drain(p[0]);
	wait_show("drained, writer closed", ep, 8, 0);
	close(p[0]);
	wait_show("reader closed too (items gone)", ep, 8, 0);
	close(ep);
}

static void ordering(void)
{
	SAY("-- maxevents and order\n");
	int a[2], b[2], c[2];
	pipe(a);
	pipe(b);
	pipe(c);
	int ep = epoll_create1(0);
	add(ep, a[0], EPOLLIN, 10);
	add(ep, b[0], EPOLLIN, 20);
	add(ep, c[0], EPOLLIN, 30);
	put(b[1], 1);
	put(a[1], 1);
	put(c[1], 1);
	wait_show("3 ready, maxevents 1", ep, 1, 0);
	wait_show("maxevents 1 again", ep, 1, 0);
	wait_show("maxevents 2", ep, 2, 0);
	wait_show("maxevents 8", ep, 8, 0);
	drain(b[0]);
	wait_show("one drained", ep, 8, 0);
	CHECK("DEL one", epoll_ctl(ep, EPOLL_CTL_DEL, a[0], NULL));
	wait_show("after DEL", ep, 8, 0);
	close(ep);
	for (int i = 0; i < 2; i++) {
		close(a[i]);
		close(b[i]);
		close(c[i]);
	}
}

static void timeouts(void)
{
	SAY("-- timeouts and blocking\n");
	int p[2];
	pipe(p);
	int ep = epoll_create1(0);
	add(ep, p[0], EPOLLIN, 7);
	uint64_t t0 = mono_ms();
	wait_show("timeout 50 ms", ep, 8, 50);
	BOOL("  waited >= 45 ms", mono_ms() - t0 >= 45);
	struct timespec ts = {0, 50 * 1000000L};
	struct epoll_event evs[4];
	t0 = mono_ms();
	errno = 0;
	long r = syscall(SYS_epoll_pwait2, ep, evs, 4, &ts, NULL, 8);
	conf_report("epoll_pwait2 50 ms", r, errno);
	BOOL("  waited >= 45 ms", mono_ms() - t0 >= 45);
	ts.tv_nsec = 1000000000;
	errno = 0;
	r = syscall(SYS_epoll_pwait2, ep, evs, 4, &ts, NULL, 8);
	conf_report("epoll_pwait2 bad timespec", r, errno);

	wake_fd = p[1];
	pthread_t th;
	/* t0 before the thread starts: its 50 ms sleep begins after t0 whatever the
	 * scheduling. */
	t0 = mono_ms();
	pthread_create(&th, NULL, late_writer, NULL);
	wait_show("infinite wait, written by a thread", ep, 8, -1);
	BOOL("  waited >= 45 ms", mono_ms() - t0 >= 45);
	pthread_join(th, NULL);
	drain(p[0]);

	/* A signal ends the wait with EINTR even with SA_RESTART. */
	struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
	sigaction(SIGUSR1, &sa, NULL);
	main_thread = pthread_self();
	pthread_create(&th, NULL, late_signal, (void *)(intptr_t)SIGUSR1);
	handled = 0;
	wait_show("signal during wait (SA_RESTART)", ep, 8, 5000);
	printf("  handler ran: %d\n", handled);
	pthread_join(th, NULL);

	/* epoll_pwait: the mask given is in force during the wait only. */
	sigset_t block, old, now;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	handled = 0;
	raise(SIGUSR1);
	printf("  blocked signal raised, handler ran: %d\n", handled);
	sigset_t empty;
	sigemptyset(&empty);
	errno = 0;
	r = epoll_pwait(ep, evs, 4, 5000, &empty);
	conf_report("epoll_pwait unblocking it", r, errno);
	printf("  handler ran: %d\n", handled);
	sigprocmask(SIG_BLOCK, NULL, &now);
	BOOL("  SIGUSR1 blocked again after", sigismember(&now, SIGUSR1));
	errno = 0;
	r = syscall(SYS_epoll_pwait, ep, evs, 4, 0, &empty, 4);
	conf_report("epoll_pwait bad sigsetsize", r, errno);
	put(p[1], 1);
	errno = 0;
	r = epoll_pwait(ep, evs, 4, 0, &empty);
	conf_report("epoll_pwait with an event ready", r, errno);
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(ep);
	close(p[0]);
	close(p[1]);
}

static void nesting(void)
{
	SAY("-- nested instances\n");
	int p[2];
	pipe(p);
	int inner = epoll_create1(0), outer = epoll_create1(0), third = epoll_create1(0);
	add(inner, p[0], EPOLLIN, 1);
	CHECK("ADD inner to outer", add(outer, inner, EPOLLIN, 100));
	wait_show("outer, nothing ready", outer, 8, 0);
	struct pollfd pf = {inner, POLLIN, 0};
	CHECK("poll inner", poll(&pf, 1, 0));
	put(p[1], 1);
	wait_show("outer after a write", outer, 8, 0);
	CHECK("poll inner", poll(&pf, 1, 0));
	printf("  revents POLLIN=%d\n", !!(pf.revents & POLLIN));
	wait_show("inner", inner, 8, 0);
	CHECK("ADD outer to inner (loop)", add(inner, outer, EPOLLIN, 0));
	CHECK("ADD outer to third", add(third, outer, EPOLLIN, 200));
	CHECK("ADD third to inner (longer loop)", add(inner, third, EPOLLIN, 0));
	wait_show("third (two levels)", third, 8, 0);
	drain(p[0]);
	wait_show("outer after draining", outer, 8, 0);
	wait_show("third after draining", third, 8, 0);

	/* A waiter on the outer instance is woken through the inner one. */
	wake_fd = p[1];
	pthread_t th;
	pthread_create(&th, NULL, late_writer, NULL);
	wait_show("outer, infinite wait, written by a thread", outer, 8, -1);
	pthread_join(th, NULL);
	close(third);
	close(outer);
	close(inner);
	close(p[0]);
	close(p[1]);
}

static void closing(void)
{
	SAY("-- closed descriptors\n");
	int p[2];
	pipe(p);
	int ep = epoll_create1(0);
	int d = dup(p[0]);
	add(ep, d, EPOLLIN, 1);
	close(d);
	put(p[1], 1);
	wait_show("fd closed, file still open by another fd", ep, 8, 0);
	CHECK("DEL by the closed fd", epoll_ctl(ep, EPOLL_CTL_DEL, d, NULL));
	drain(p[0]);
	int e = eventfd(0, 0);
	add(ep, e, EPOLLIN, 2);
	close(e);
	e = eventfd(1, 0); /* likely the same number, a new file */
	wait_show("file closed for good", ep, 8, 0);
	CHECK("ADD the new file at that number", add(ep, e, EPOLLIN, 3));
	wait_show("the new one", ep, 8, 0);
	close(e);
	close(ep);
	close(p[0]);
	close(p[1]);
}

static void eventfd_items(void)
{
	SAY("-- eventfd in epoll\n");
	int e = eventfd(0, EFD_NONBLOCK);
	int ep = epoll_create1(0);
	add(ep, e, EPOLLIN | EPOLLOUT | EPOLLET, 9);
	wait_show("eventfd at 0 (ET)", ep, 8, 0);
	wait_show("again", ep, 8, 0);
	uint64_t v = 1;
	if (write(e, &v, sizeof(v)) != sizeof(v))
		printf("write failed\n");
	wait_show("after a write", ep, 8, 0);
	close(ep);
	close(e);
}

int main(void)
{
	ctl_errors();
	triggering();
	ordering();
	timeouts();
	nesting();
	closing();
	eventfd_items();
	return 0;
}
