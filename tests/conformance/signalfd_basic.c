/* signalfd: blocked signals read through a signalfd instead of being delivered; the
 * fields of struct signalfd_siginfo (ssi_signo, ssi_code, ssi_pid, ssi_uid, ssi_int),
 * the mask (updated in place, SIGKILL/SIGSTOP ignored), several signals per read in
 * order, queued real-time signals, argument errors, poll readiness, and that a
 * child reads its own signals, not its parent's. All signals are sent before the read. */
#include "conf.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char *label, int fd, size_t bufcount)
{
	struct signalfd_siginfo si[4];
	memset(si, 0, sizeof(si));
	errno = 0;
	ssize_t r = read(fd, si, bufcount * sizeof(si[0]));
	printf("%s: ret=%zd errno=%s", label, r, r < 0 ? conf_errname(errno) : "none");
	for (ssize_t i = 0; r > 0 && i < r / (ssize_t)sizeof(si[0]); i++)
		printf(" [signo=%u code=%d pid_ok=%d uid_ok=%d int=%d]", si[i].ssi_signo,
		       si[i].ssi_code, si[i].ssi_pid == (uint32_t)getpid(),
		       si[i].ssi_uid == (uint32_t)getuid(), si[i].ssi_int);
	printf("\n");
}

static short poll_in(int fd)
{
	struct pollfd p = {fd, POLLIN, 0};
	poll(&p, 1, 0);
	return p.revents;
}

int main(void)
{
	sigset_t block, mask, pend;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIGRTMIN);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, NULL);

	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	CHECK("signalfd bad flags", signalfd(-1, &mask, 1));
	errno = 0;
	long r = syscall(SYS_signalfd4, -1, &mask, 4, 0);
	conf_report("signalfd4 sizemask 4", r, errno);
	r = syscall(SYS_signalfd4, -1, NULL, 8, 0);
	conf_report("signalfd4 NULL mask", r, errno);
	CHECK("signalfd on fd 999", signalfd(999, &mask, 0));
	CHECK("signalfd on stdin (not a signalfd)", signalfd(0, &mask, 0));

	int fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	BOOL("signalfd(-1, {USR1}, NONBLOCK|CLOEXEC)", fd >= 0);
	BOOL("  O_NONBLOCK", fcntl(fd, F_GETFL) & O_NONBLOCK);
	BOOL("  FD_CLOEXEC", fcntl(fd, F_GETFD) & FD_CLOEXEC);
	show("read, nothing pending", fd, 1);
	printf("poll, nothing pending: POLLIN=%d\n", !!(poll_in(fd) & POLLIN));
	char small[64];
	CHECK("read with a 64-byte buffer", read(fd, small, sizeof(small)));
	CHECK("write", write(fd, small, sizeof(small)));

	raise(SIGUSR1);
	printf("poll, SIGUSR1 raised: POLLIN=%d\n", !!(poll_in(fd) & POLLIN));
	show("read (raise)", fd, 1);
	show("read again", fd, 1);
	sigpending(&pend);
	BOOL("SIGUSR1 no longer pending", !sigismember(&pend, SIGUSR1));

	kill(getpid(), SIGUSR1);
	show("read (kill)", fd, 1);
	sigqueue(getpid(), SIGUSR1, (union sigval){.sival_int = 77});
	show("read (sigqueue 77)", fd, 1);

	raise(SIGUSR2);
	show("SIGUSR2 not in the mask", fd, 1);
	sigpending(&pend);
	BOOL("SIGUSR2 still pending", sigismember(&pend, SIGUSR2));
	sigaddset(&mask, SIGUSR2);
	sigaddset(&mask, SIGKILL);
	sigaddset(&mask, SIGSTOP);
	CHECK("update the mask in place", signalfd(fd, &mask, 0) == fd ? 0 : -1);
	BOOL("  still O_NONBLOCK", fcntl(fd, F_GETFL) & O_NONBLOCK);
	raise(SIGUSR1);
	show("read both, room for 4", fd, 4);

	raise(SIGUSR2);
	raise(SIGUSR1);
	show("room for 1", fd, 1);
	show("room for 1", fd, 1);

	sigaddset(&mask, SIGRTMIN);
	signalfd(fd, &mask, 0);
	for (int v = 1; v <= 3; v++)
		sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = v});
	show("three queued SIGRTMIN", fd, 4);

	SAY("-- a blocking signalfd, signal already pending\n");
	int bfd = signalfd(-1, &mask, 0);
	raise(SIGUSR1);
	show("blocking read", bfd, 1);

	SAY("-- child\n");
	raise(SIGUSR2);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		show("child: parent's pending SIGUSR2 is not the child's", fd, 1);
		raise(SIGUSR1);
		show("child: its own", bfd, 1);
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	printf("child exited: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	sigaddset(&mask, SIGCHLD);
	signalfd(fd, &mask, 0);
	struct signalfd_siginfo si[4];
	memset(si, 0, sizeof(si));
	r = read(fd, si, sizeof(si));
	printf("parent reads %ld entries:", r / (long)sizeof(si[0]));
	for (long i = 0; i < r / (long)sizeof(si[0]); i++) {
		printf(" [signo=%u code=%d", si[i].ssi_signo, si[i].ssi_code);
		if (si[i].ssi_signo == SIGCHLD)
			printf(" pid_ok=%d status=%d", si[i].ssi_pid == (uint32_t)pid, si[i].ssi_status);
		printf("]");
	}
	printf("\n");
	close(bfd);
	close(fd);
	return 0;
}
