/* Advisory locks between processes: fcntl record locks (F_GETLK/F_SETLK/F_SETLKW, ranges,
 * release on close), OFD locks and flock. */
#include "conf.h"
#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

static int lk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	return fcntl(fd, cmd, &fl);
}

static void report_getlk(const char *label, int fd, short type, off_t start, off_t len)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	int r = fcntl(fd, F_GETLK, &fl);
	printf("%s: ret=%d type=%s start=%ld len=%ld", label, r,
	       fl.l_type == F_UNLCK ? "UNLCK" : fl.l_type == F_WRLCK ? "WRLCK" : "RDLCK",
	       (long)fl.l_start, (long)fl.l_len);
	if (fl.l_type != F_UNLCK)
		printf(" pid-is-parent=%s", fl.l_pid == getppid() ? "yes" : "no");
	printf("\n");
}

int main(void)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/locked", conf_tmpdir());
	int fd = open(path, O_RDWR | O_CREAT, 0644);
	CHECK("lock bytes 10-19 for writing", lk(fd, F_SETLK, F_WRLCK, 10, 10));
	CHECK("lock bytes 30-39 for reading", lk(fd, F_SETLK, F_RDLCK, 30, 10));
	CHECK("flock exclusive", flock(fd, LOCK_EX));
	int sync[2];
	pipe(sync);
	pid_t pid = fork();
	if (pid == 0) {
		int cfd = open(path, O_RDWR);
		report_getlk("child F_GETLK write 0-100", cfd, F_WRLCK, 0, 100);
		report_getlk("child F_GETLK read 30-39", cfd, F_RDLCK, 30, 10);
		report_getlk("child F_GETLK write 20-29", cfd, F_WRLCK, 20, 10);
		CHECK("child F_SETLK write 15-16", lk(cfd, F_SETLK, F_WRLCK, 15, 2));
		CHECK("child F_SETLK read 35", lk(cfd, F_SETLK, F_RDLCK, 35, 1));
		CHECK("child flock LOCK_EX|LOCK_NB", flock(cfd, LOCK_EX | LOCK_NB));
		CHECK("child OFD write 50-59 (free)", lk(cfd, F_OFD_SETLK, F_WRLCK, 50, 10));
		write(sync[1], "x", 1);
		/* blocks until the parent closes its descriptor (which drops its POSIX locks) */
		CHECK("child F_SETLKW write 10-19", lk(cfd, F_SETLKW, F_WRLCK, 10, 10));
		_exit(0);
	}
	char c;
	read(sync[0], &c, 1);
	CHECK("parent F_SETLK write 55 (child's OFD lock)", lk(fd, F_SETLK, F_WRLCK, 55, 1));
	CHECK("unlock 10-14 (split)", lk(fd, F_SETLK, F_UNLCK, 10, 5));
	report_getlk("parent F_GETLK own lock is no conflict", fd, F_WRLCK, 10, 10);
	close(fd); /* releases the POSIX locks: the child's F_SETLKW goes through */
	int st;
	waitpid(pid, &st, 0);
	printf("child exit: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}
