/* signalfd waiters woken by signals sent while they wait: a blocking read woken by
 * another process's kill, poll woken by a process-directed signal from another thread,
 * epoll readiness of a signalfd (immediately after raise, and while waiting). */
#include "conf.h"
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms)
{
	struct timespec ts = {0, ms * 1000000L};
	nanosleep(&ts, NULL);
}

static void *late_kill(void *arg)
{
	sleep_ms(50);
	kill(getpid(), (int)(intptr_t)arg);
	return NULL;
}

static pid_t late_kill_from_child(int sig)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		sleep_ms(50);
		kill(parent, sig);
		_exit(0);
	}
	return pid;
}

static void show(const char *label, int fd, pid_t sender)
{
	struct signalfd_siginfo si;
	memset(&si, 0, sizeof(si));
	errno = 0;
	ssize_t r = read(fd, &si, sizeof(si));
	printf("%s: ret=%zd errno=%s", label, r, r < 0 ? conf_errname(errno) : "none");
	if (r > 0)
		printf(" [signo=%u code=%d pid_ok=%d]", si.ssi_signo, si.ssi_code,
		       si.ssi_pid == (uint32_t)sender);
	printf("\n");
}

int main(void)
{
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGUSR2);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGCHLD, SIG_DFL);
	int fd = signalfd(-1, &mask, 0);

	fflush(stdout);
	pid_t child = late_kill_from_child(SIGUSR1);
	show("blocking read, another process sends SIGUSR1", fd, child);
	waitpid(child, NULL, 0);

	pthread_t th;
	pthread_create(&th, NULL, late_kill, (void *)(intptr_t)SIGUSR2);
	struct pollfd p = {fd, POLLIN, 0};
	CHECK("poll, another thread sends SIGUSR2 to the process", poll(&p, 1, 5000));
	printf("  revents POLLIN=%d\n", !!(p.revents & POLLIN));
	pthread_join(th, NULL);
	show("read", fd, getpid());

	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 1}, out[2];
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	CHECK("epoll_wait, nothing pending", epoll_wait(ep, out, 2, 0));
	raise(SIGUSR2);
	CHECK("epoll_wait, SIGUSR2 raised", epoll_wait(ep, out, 2, 0));
	show("read", fd, getpid());
	CHECK("epoll_wait after reading", epoll_wait(ep, out, 2, 0));
	fflush(stdout);
	child = late_kill_from_child(SIGUSR1);
	CHECK("epoll_wait, another process sends SIGUSR1", epoll_wait(ep, out, 2, 5000));
	show("read", fd, child);
	waitpid(child, NULL, 0);
	close(ep);
	close(fd);
	return 0;
}
