/* timerfd: creation errors, one-shot and interval timers (relative and absolute, on
 * CLOCK_MONOTONIC and CLOCK_REALTIME), expiration counts (at least the expected number),
 * timerfd_gettime's remaining time (never more than was set), the old value from
 * timerfd_settime, disarming, blocking reads, poll and epoll. */
#include "conf.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MS 1000000L

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * MS};
	nanosleep(&ts, NULL);
}

static long ts_ms(const struct timespec *ts)
{
	return ts->tv_sec * 1000 + ts->tv_nsec / MS;
}

static int arm(int fd, int flags, long value_ns, long interval_ns, struct itimerspec *old)
{
	struct itimerspec its = {{interval_ns / 1000000000, interval_ns % 1000000000},
				 {value_ns / 1000000000, value_ns % 1000000000}};
	return timerfd_settime(fd, flags, &its, old);
}

/* read's result and the count, or errno. */
static long read_count(int fd, uint64_t *count)
{
	*count = 0;
	errno = 0;
	return read(fd, count, sizeof(*count));
}

int main(void)
{
	struct itimerspec cur, old;
	uint64_t n;
	long r;

	CHECK("timerfd_create bad clock", timerfd_create(99, 0));
	CHECK("timerfd_create CLOCK_PROCESS_CPUTIME_ID", timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0));
	CHECK("timerfd_create bad flags", timerfd_create(CLOCK_MONOTONIC, 1));
	int b = timerfd_create(CLOCK_BOOTTIME, TFD_CLOEXEC);
	BOOL("CLOCK_BOOTTIME with TFD_CLOEXEC", b >= 0 && (fcntl(b, F_GETFD) & FD_CLOEXEC));
	close(b);

	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	BOOL("CLOCK_MONOTONIC, TFD_NONBLOCK", fd >= 0 && (fcntl(fd, F_GETFL) & O_NONBLOCK));
	r = read_count(fd, &n);
	conf_report("read disarmed", r, errno);
	CHECK("gettime disarmed", timerfd_gettime(fd, &cur));
	printf("  value=%ld interval=%ld\n", ts_ms(&cur.it_value), ts_ms(&cur.it_interval));
	char small[4];
	CHECK("read with 4-byte buffer", read(fd, small, sizeof(small)));
	CHECK("write", write(fd, &n, sizeof(n)));

	/* Errors of settime/gettime. */
	struct itimerspec bad = {{0, 0}, {0, 1000000000}};
	CHECK("settime tv_nsec 1e9", timerfd_settime(fd, 0, &bad, NULL));
	bad.it_value.tv_nsec = 0;
	bad.it_value.tv_sec = -1;
	CHECK("settime negative", timerfd_settime(fd, 0, &bad, NULL));
	bad.it_value.tv_sec = 1;
	CHECK("settime bad flags", timerfd_settime(fd, 4, &bad, NULL));
	CHECK("settime bad fd", timerfd_settime(999, 0, &bad, NULL));
	int e = eventfd(0, 0);
	CHECK("settime on an eventfd", timerfd_settime(e, 0, &bad, NULL));
	CHECK("gettime on an eventfd", timerfd_gettime(e, &cur));
	CHECK("gettime bad fd", timerfd_gettime(999, &cur));
	CHECK("settime NULL", timerfd_settime(fd, 0, NULL, NULL));
	close(e);

	SAY("-- one-shot, relative\n");
	/* Each t0 is taken before arming, so the measured wait covers the whole period
	 * however long the steps in between take. */
	uint64_t t0 = mono_ms();
	CHECK("settime 100 ms", arm(fd, 0, 100 * MS, 0, &old));
	printf("  old value=%ld interval=%ld\n", ts_ms(&old.it_value), ts_ms(&old.it_interval));
	CHECK("gettime", timerfd_gettime(fd, &cur));
	BOOL("  0 < remaining <= 100 ms", ts_ms(&cur.it_value) <= 100 &&
					     (cur.it_value.tv_sec || cur.it_value.tv_nsec));
	printf("  interval=%ld\n", ts_ms(&cur.it_interval));
	r = read_count(fd, &n);
	conf_report("read before expiry", r, errno);
	struct pollfd p = {fd, POLLIN, 0};
	CHECK("poll, timeout 0", poll(&p, 1, 0));
	CHECK("poll until it expires", poll(&p, 1, 5000));
	printf("  revents POLLIN=%d\n", !!(p.revents & POLLIN));
	BOOL("  waited >= 80 ms", mono_ms() - t0 >= 80);
	r = read_count(fd, &n);
	conf_report("read", r, errno);
	printf("  count=%llu\n", (unsigned long long)n);
	r = read_count(fd, &n);
	conf_report("read again", r, errno);
	CHECK("gettime after expiry", timerfd_gettime(fd, &cur));
	printf("  value=%ld interval=%ld\n", ts_ms(&cur.it_value), ts_ms(&cur.it_interval));

	SAY("-- interval\n");
	CHECK("settime 20 ms every 20 ms", arm(fd, 0, 20 * MS, 20 * MS, NULL));
	sleep_ms(110);
	r = read_count(fd, &n);
	conf_report("read after 110 ms", r, errno);
	BOOL("  count >= 5", n >= 5);
	CHECK("gettime", timerfd_gettime(fd, &cur));
	BOOL("  remaining <= 20 ms", ts_ms(&cur.it_value) <= 20);
	printf("  interval=%ld\n", ts_ms(&cur.it_interval));
	CHECK("disarm", arm(fd, 0, 0, 0, &old));
	BOOL("  old value <= 20 ms", ts_ms(&old.it_value) <= 20);
	printf("  old interval=%ld\n", ts_ms(&old.it_interval));
	CHECK("gettime disarmed", timerfd_gettime(fd, &cur));
	printf("  value=%ld interval=%ld\n", ts_ms(&cur.it_value), ts_ms(&cur.it_interval));
	r = read_count(fd, &n);
	conf_report("read disarmed (settime cleared the count)", r, errno);
	CHECK("interval but value 0", arm(fd, 0, 0, 20 * MS, NULL));
	CHECK("gettime", timerfd_gettime(fd, &cur));
	printf("  value=%ld interval=%ld\n", ts_ms(&cur.it_value), ts_ms(&cur.it_interval));
	close(fd);

	SAY("-- absolute\n");
	fd = timerfd_create(CLOCK_REALTIME, 0);
	t0 = mono_ms();
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct itimerspec abs = {{0, 0}, {now.tv_sec, now.tv_nsec + 60 * MS}};
	if (abs.it_value.tv_nsec >= 1000000000) {
		abs.it_value.tv_sec++;
		abs.it_value.tv_nsec -= 1000000000;
	}
	CHECK("CLOCK_REALTIME absolute now + 60 ms", timerfd_settime(fd, TFD_TIMER_ABSTIME, &abs, NULL));
	CHECK("gettime", timerfd_gettime(fd, &cur));
	BOOL("  remaining <= 60 ms", ts_ms(&cur.it_value) <= 60);
	r = read_count(fd, &n);
	conf_report("blocking read", r, errno);
	printf("  count=%llu\n", (unsigned long long)n);
	BOOL("  waited >= 40 ms", mono_ms() - t0 >= 40);
	close(fd);

	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	clock_gettime(CLOCK_MONOTONIC, &now);
	abs.it_value = now;
	abs.it_value.tv_sec -= 1; /* one second ago, every 100 ms: 10 or 11 missed */
	abs.it_interval.tv_nsec = 100 * MS;
	CHECK("CLOCK_MONOTONIC absolute, 1 s ago, every 100 ms",
	      timerfd_settime(fd, TFD_TIMER_ABSTIME, &abs, NULL));
	r = read_count(fd, &n);
	conf_report("read at once", r, errno);
	BOOL("  count >= 10", n >= 10);
	BOOL("  count <= 12", n <= 12);
	CHECK("gettime", timerfd_gettime(fd, &cur));
	BOOL("  remaining <= 100 ms", ts_ms(&cur.it_value) <= 100);
	abs.it_interval.tv_nsec = 0;
	CHECK("absolute in the past, one-shot", timerfd_settime(fd, TFD_TIMER_ABSTIME, &abs, NULL));
	p.fd = fd;
	CHECK("poll", poll(&p, 1, 1000));
	r = read_count(fd, &n);
	conf_report("read", r, errno);
	printf("  count=%llu\n", (unsigned long long)n);

	SAY("-- epoll\n");
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u64 = 5};
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	struct epoll_event out[2];
	CHECK("epoll_wait, disarmed", epoll_wait(ep, out, 2, 0));
	t0 = mono_ms();
	arm(fd, 0, 30 * MS, 0, NULL);
	CHECK("epoll_wait until it expires", epoll_wait(ep, out, 2, 5000));
	printf("  data=%llu IN=%d\n", (unsigned long long)out[0].data.u64, !!(out[0].events & EPOLLIN));
	BOOL("  waited >= 20 ms", mono_ms() - t0 >= 20);
	CHECK("epoll_wait again (edge-triggered)", epoll_wait(ep, out, 2, 0));
	r = read_count(fd, &n);
	conf_report("read", r, errno);
	printf("  count=%llu\n", (unsigned long long)n);
	close(ep);
	close(fd);
	return 0;
}
