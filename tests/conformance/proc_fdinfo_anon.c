/* fdinfo of eventfd, timerfd and signalfd descriptors has their type's lines, as Linux. */
#include "conf.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

static char *fdinfo(int fd)
{
	static char buf[4096];
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	int f = open(path, O_RDONLY);
	ssize_t n = f >= 0 ? read(f, buf, sizeof(buf) - 1) : -1;
	if (f >= 0)
		close(f);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

int main(void)
{
	int efd = eventfd(5, EFD_CLOEXEC);
	uint64_t add = 37;
	if (write(efd, &add, sizeof(add)) != sizeof(add))
		printf("eventfd write failed\n");
	char *s = fdinfo(efd), *p;
	unsigned long long count = 0;
	BOOL("eventfd fdinfo has pos, flags, mnt_id", strncmp(s, "pos:\t", 5) == 0 && strstr(s, "\nflags:\t") && strstr(s, "\nmnt_id:\t"));
	p = strstr(s, "eventfd-count:");
	BOOL("eventfd-count is the counter in hex", p && sscanf(p, "eventfd-count: %llx", &count) == 1 && count == 42);
	int flags = -1;
	p = strstr(s, "\nflags:\t");
	BOOL("eventfd flags == O_RDWR | O_CLOEXEC", p && sscanf(p, "\nflags:\t%o", &flags) == 1 && flags == (O_RDWR | O_CLOEXEC));

	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	struct itimerspec its = {{3, 0}, {100, 0}};
	timerfd_settime(tfd, 0, &its, NULL);
	s = fdinfo(tfd);
	int clockid = -1;
	unsigned long long isec = 0, insec = 1, vsec = 0;
	p = strstr(s, "clockid:");
	BOOL("timerfd clockid is CLOCK_MONOTONIC", p && sscanf(p, "clockid: %d", &clockid) == 1 && clockid == CLOCK_MONOTONIC);
	BOOL("timerfd ticks 0", strstr(s, "\nticks: 0\n") != NULL);
	BOOL("timerfd settime flags 0", strstr(s, "\nsettime flags: 00\n") != NULL);
	p = strstr(s, "it_value:");
	BOOL("timerfd it_value counts down from 100s", p && sscanf(p, "it_value: (%llu,", &vsec) == 1 && vsec <= 100 && vsec >= 90);
	p = strstr(s, "it_interval:");
	BOOL("timerfd it_interval is (3, 0)", p && sscanf(p, "it_interval: (%llu, %llu)", &isec, &insec) == 2 && isec == 3 && insec == 0);

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	int sfd = signalfd(-1, &set, 0);
	s = fdinfo(sfd);
	unsigned long long mask = 0;
	p = strstr(s, "sigmask:");
	BOOL("signalfd sigmask is USR1|TERM", p && sscanf(p, "sigmask:\t%llx", &mask) == 1 &&
	     mask == ((1ull << (SIGUSR1 - 1)) | (1ull << (SIGTERM - 1))));

	/* epoll: one tfd line per watched descriptor, events with EPOLLERR|EPOLLHUP added */
	int ep = epoll_create1(0);
	int watched[40], nwatch = 0;
	for (int i = 0; i < 40; i++) {
		int e = eventfd(0, 0);
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0x1000 + (uint64_t)i};
		if (e >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, e, &ev) == 0)
			watched[nwatch++] = e;
	}
	s = fdinfo(ep);
	int lines = 0, good = 0;
	for (p = strstr(s, "tfd:"); p; p = strstr(p + 1, "tfd:")) {
		int tfd;
		unsigned events;
		unsigned long long data;
		lines++;
		if (sscanf(p, "tfd: %d events: %x data: %llx", &tfd, &events, &data) != 3 ||
		    events != (EPOLLIN | EPOLLERR | EPOLLHUP))
			continue;
		for (int i = 0; i < nwatch; i++)
			good += watched[i] == tfd && data == 0x1000 + (unsigned long long)i;
	}
	BOOL("epoll fdinfo has one tfd line per item", lines == nwatch && nwatch == 40);
	BOOL("epoll tfd lines carry events and data", good == nwatch);
	return 0;
}
