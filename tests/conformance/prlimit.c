/* prlimit64/getrlimit/setrlimit on RLIMIT_NOFILE: the values we set read back, the soft limit
 * bounds new descriptors (EMFILE, EBADF from dup2, EINVAL from F_DUPFD), bad arguments fail.
 * The inherited limits are host-specific and only compared. */
#include "conf.h"
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	struct rlimit old, cur, set;

	CHECK("prlimit64 get NOFILE", prlimit(0, RLIMIT_NOFILE, NULL, &old));
	BOOL("  soft <= hard", old.rlim_cur <= old.rlim_max);
	BOOL("  hard >= 128", old.rlim_max >= 128);
	CHECK("getrlimit agrees", getrlimit(RLIMIT_NOFILE, &cur));
	BOOL("  same values", cur.rlim_cur == old.rlim_cur && cur.rlim_max == old.rlim_max);

	set = (struct rlimit){ 64, old.rlim_max };
	CHECK("prlimit64 set soft 64, get old", prlimit(0, RLIMIT_NOFILE, &set, &cur));
	BOOL("  old value returned", cur.rlim_cur == old.rlim_cur);
	getrlimit(RLIMIT_NOFILE, &cur);
	printf("  soft now=%llu hard unchanged=%s\n", (unsigned long long)cur.rlim_cur,
	       cur.rlim_max == old.rlim_max ? "yes" : "no");

	int opened = 0, fd, last_errno = 0;
	int fds[128];
	while (opened < 128) {
		fd = open("/dev/null", O_RDONLY);
		if (fd < 0) {
			last_errno = errno;
			break;
		}
		fds[opened++] = fd;
	}
	printf("opened until failure: count=%d errno=%s\n", opened, conf_errname(last_errno));
	for (int i = 0; i < opened; i++)
		close(fds[i]);
	CHECK("dup2 to fd 64", dup2(0, 64));
	CHECK("dup2 to fd 63", dup2(0, 63));
	CHECK("F_DUPFD min 64", fcntl(0, F_DUPFD, 64));
	close(63);

	set = (struct rlimit){ 16, 32 };
	CHECK("setrlimit 16/32", setrlimit(RLIMIT_NOFILE, &set));
	getrlimit(RLIMIT_NOFILE, &cur);
	printf("  now soft=%llu hard=%llu\n", (unsigned long long)cur.rlim_cur, (unsigned long long)cur.rlim_max);
	set = (struct rlimit){ 40, 32 };
	CHECK("setrlimit soft > hard", setrlimit(RLIMIT_NOFILE, &set));
	CHECK("prlimit64 bad resource", prlimit(0, 99, NULL, &cur));
	CHECK("prlimit64 nonexistent pid", prlimit(1 << 30, RLIMIT_NOFILE, NULL, &cur));
	CHECK("prlimit64 own pid", prlimit(getpid(), RLIMIT_NOFILE, NULL, &cur));
	CHECK("prlimit64 bad pointer", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, (void *)8));
	CHECK("getrlimit STACK", getrlimit(RLIMIT_STACK, &cur));
	BOOL("  soft > 0", cur.rlim_cur > 0);
	CHECK("getrlimit AS", getrlimit(RLIMIT_AS, &cur));
	CHECK("getrlimit CORE", getrlimit(RLIMIT_CORE, &cur));
	return 0;
}
