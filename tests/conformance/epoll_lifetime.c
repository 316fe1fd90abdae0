/* When epoll items go: an item does not keep its file open (closing the last descriptor
 * of a watched pipe end without EPOLL_CTL_DEL gives the other end EOF or EPIPE at once),
 * and a task polling both a pipe and an epoll instance watching that pipe is woken. */
#include "conf.h"
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

static int wake_fd;

static void *late_writer(void *arg)
{
	(void)arg;
	struct timespec ts = {0, 50 * 1000000L};
	nanosleep(&ts, NULL);
	if (write(wake_fd, "x", 1) != 1)
		printf("write failed\n");
	return NULL;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	int p[2];
	char c;
	struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = 1}, out[4];

	pipe2(p, O_NONBLOCK);
	int ep = epoll_create1(0);
	epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev);
	close(p[1]);
	CHECK("read after the watched write end was closed", read(p[0], &c, 1));
	CHECK("epoll_wait", epoll_wait(ep, out, 4, 0));
	close(p[0]);

	pipe2(p, O_NONBLOCK);
	ev.events = EPOLLIN;
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
	close(p[0]);
	CHECK("write after the watched read end was closed", write(p[1], "x", 1));
	close(p[1]);

	/* An epoll instance closed while it watches another: both go. */
	int inner = epoll_create1(0);
	pipe2(p, O_NONBLOCK);
	ev.events = EPOLLOUT;
	epoll_ctl(inner, EPOLL_CTL_ADD, p[1], &ev);
	ev.events = EPOLLIN;
	epoll_ctl(ep, EPOLL_CTL_ADD, inner, &ev);
	close(p[1]);
	CHECK("read, write end watched by an inner instance", read(p[0], &c, 1));
	close(inner);
	CHECK("epoll_wait on the outer instance", epoll_wait(ep, out, 4, 0));
	close(p[0]);

	/* poll on a pipe and on an instance watching it, woken by a write. */
	pipe(p);
	ev.events = EPOLLIN;
	ev.data.u64 = 2;
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
	wake_fd = p[1];
	pthread_t th;
	pthread_create(&th, NULL, late_writer, NULL);
	struct pollfd pf[2] = {{p[0], POLLIN, 0}, {ep, POLLIN, 0}};
	int woken = poll(pf, 2, 5000);
	printf("poll on the pipe and the instance, woken by a write: %s\n", woken > 0 ? "yes" : "no");
	/* On Linux the write wakes the poller before it marks the epoll item ready (both
	 * from one wake-up, but the poller may run in between on another CPU): poll again
	 * until both report, as a program would. */
	for (int tries = 0; tries < 50 && !((pf[0].revents & pf[1].revents) & POLLIN); tries++)
		poll(pf, 2, 100);
	printf("  pipe POLLIN=%d epoll POLLIN=%d\n", !!(pf[0].revents & POLLIN),
	       !!(pf[1].revents & POLLIN));
	pthread_join(th, NULL);
	close(ep);
	close(p[0]);
	close(p[1]);
	return 0;
}
