/* splice, tee, vmsplice, sendfile and copy_file_range: data between pipes and files with
 * NULL and explicit offsets (and what they do to the file position), SPLICE_F_NONBLOCK,
 * EOF, and the EINVAL / ESPIPE / EBADF / EXDEV cases Linux gives. */
#include "conf.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static void drain(const char *label, int fd)
{
	char buf[256] = {0};
	int fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	fcntl(fd, F_SETFL, fl);
	printf("%s: %zd '%s'\n", label, n, n > 0 ? buf : "");
}

static void file_says(const char *label, int fd)
{
	char buf[128] = {0};
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	printf("%s: %zd '%s' pos=%jd\n", label, n, n > 0 ? buf : "", (intmax_t)lseek(fd, 0, SEEK_CUR));
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	char *dir = conf_tmpdir();
	char path[256];
	snprintf(path, sizeof(path), "%s/src", dir);
	int src = open(path, O_CREAT | O_RDWR, 0600);
	write(src, "0123456789abcdefghij", 20);
	lseek(src, 0, SEEK_SET);
	snprintf(path, sizeof(path), "%s/dst", dir);
	int dst = open(path, O_CREAT | O_RDWR, 0600);
	int p[2], q[2];
	pipe(p);
	pipe(q);

	/* file -> pipe */
	CHECK("splice file->pipe NULL offset", splice(src, NULL, p[1], NULL, 5, 0));
	printf("src pos: %jd\n", (intmax_t)lseek(src, 0, SEEK_CUR));
	loff_t off = 10;
	CHECK("splice file->pipe offset 10", splice(src, &off, p[1], NULL, 4, 0));
	printf("off now: %jd, src pos: %jd\n", (intmax_t)off, (intmax_t)lseek(src, 0, SEEK_CUR));
	/* tee copies, the source keeps its data */
	CHECK("tee", tee(p[0], q[1], 100, 0));
	drain("tee copy", q[0]);
	/* pipe -> file */
	CHECK("splice pipe->file NULL offset", splice(p[0], NULL, dst, NULL, 3, 0));
	file_says("dst", dst);
	off = 100;
	CHECK("splice pipe->file offset 100", splice(p[0], NULL, dst, &off, 100, 0));
	printf("off now: %jd\n", (intmax_t)off);
	struct stat st;
	fstat(dst, &st);
	printf("dst size: %jd\n", (intmax_t)st.st_size);
	drain("pipe left", p[0]);

	/* pipe -> pipe */
	write(p[1], "pipe2pipe", 9);
	CHECK("splice pipe->pipe", splice(p[0], NULL, q[1], NULL, 4, 0));
	drain("q", q[0]);
	drain("p", p[0]);

	/* empty pipes: NONBLOCK gives EAGAIN, a closed writer EOF */
	CHECK("splice empty SPLICE_F_NONBLOCK", splice(p[0], NULL, dst, NULL, 10, SPLICE_F_NONBLOCK));
	CHECK("tee empty SPLICE_F_NONBLOCK", tee(p[0], q[1], 10, SPLICE_F_NONBLOCK));
	int np[2];
	pipe2(np, O_NONBLOCK);
	CHECK("splice empty O_NONBLOCK pipe", splice(np[0], NULL, dst, NULL, 10, 0));
	close(np[1]);
	CHECK("splice at EOF", splice(np[0], NULL, dst, NULL, 10, 0));
	CHECK("tee at EOF", tee(np[0], q[1], 10, 0));
	close(np[0]);

	/* errors */
	CHECK("len 0", splice(src, NULL, p[1], NULL, 0, 0));
	CHECK("bad flags", splice(src, NULL, p[1], NULL, 1, 0x100));
	CHECK("no pipe", splice(src, NULL, dst, NULL, 1, 0));
	CHECK("offset on the pipe", splice(p[0], &off, dst, NULL, 1, 0));
	CHECK("same pipe", splice(p[0], NULL, p[1], NULL, 1, 0));
	CHECK("bad fd in", splice(-1, NULL, p[1], NULL, 1, 0));
	CHECK("write end as input", splice(p[1], NULL, dst, NULL, 1, 0));
	off = -1;
	CHECK("negative offset", splice(src, &off, p[1], NULL, 1, 0));
	int app = open(path, O_WRONLY | O_APPEND);
	write(p[1], "x", 1);
	CHECK("O_APPEND output", splice(p[0], NULL, app, NULL, 1, 0));
	drain("p", p[0]);
	CHECK("tee same pipe", tee(p[0], p[1], 1, 0));
	CHECK("tee with a file", tee(src, p[1], 1, 0));
	int r[2];
	pipe(r);
	close(r[0]);
	write(p[1], "y", 1);
	CHECK("splice to a pipe without readers", splice(p[0], NULL, r[1], NULL, 1, 0));
	CHECK("tee to a pipe without readers", tee(p[0], r[1], 1, 0));
	drain("p", p[0]);

	/* vmsplice */
	struct iovec iov[2] = {{"vm", 2}, {"splice", 6}};
	CHECK("vmsplice to pipe", vmsplice(p[1], iov, 2, 0));
	char a1[3] = {0}, a2[8] = {0};
	struct iovec rio[2] = {{a1, 2}, {a2, 7}};
	CHECK("vmsplice from pipe", vmsplice(p[0], rio, 2, 0));
	printf("got: %s %s\n", a1, a2);
	CHECK("vmsplice on a file", vmsplice(src, iov, 1, 0));
	CHECK("vmsplice empty NONBLOCK", vmsplice(p[0], rio, 1, SPLICE_F_NONBLOCK));

	/* sendfile */
	lseek(src, 2, SEEK_SET);
	CHECK("sendfile to pipe", sendfile(p[1], src, NULL, 3));
	printf("src pos: %jd\n", (intmax_t)lseek(src, 0, SEEK_CUR));
	drain("p", p[0]);
	off = 15;
	CHECK("sendfile with offset", sendfile(p[1], src, &off, 100));
	printf("off now: %jd, src pos: %jd\n", (intmax_t)off, (intmax_t)lseek(src, 0, SEEK_CUR));
	drain("p", p[0]);
	lseek(dst, 0, SEEK_SET);
	ftruncate(dst, 0);
	off = 0;
	CHECK("sendfile file to file", sendfile(dst, src, &off, 20));
	file_says("dst", dst);
	int dn = open("/dev/null", O_WRONLY);
	off = 0;
	CHECK("sendfile to /dev/null", sendfile(dn, src, &off, 20));
	write(p[1], "z", 1);
	CHECK("sendfile from a pipe", sendfile(dst, p[0], NULL, 1));
	CHECK("sendfile from a pipe with offset", sendfile(dst, p[0], &off, 1));
	drain("p", p[0]);
	CHECK("sendfile to O_APPEND", sendfile(app, src, NULL, 1));
	CHECK("sendfile count 0", sendfile(dst, src, NULL, 0));
	CHECK("sendfile bad in", sendfile(dst, -1, NULL, 1));
	CHECK("sendfile to a read-only fd", sendfile(STDIN_FILENO, src, NULL, 1));

	/* a blocking splice and tee wait for a writer. The child's pauses make it likely that
	 * the parent is already waiting; the go pipe makes "later" come only after the parent
	 * took "late", so the counts do not depend on how the two are scheduled. */
	int go[2];
	pipe(go);
	pid_t child = fork();
	if (child == 0) {
		char c;
		close(go[1]);
		usleep(50000);
		write(p[1], "late", 4);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		usleep(50000);
		write(p[1], "later", 5);
		_exit(0);
	}
	close(go[0]);
	CHECK("tee waits for data", tee(p[0], q[1], 100, 0));
	drain("q", q[0]);
	lseek(dst, 0, SEEK_SET);
	CHECK("splice takes it", splice(p[0], NULL, dst, NULL, 4, 0));
	write(go[1], "g", 1);
	CHECK("splice waits for more", splice(p[0], NULL, dst, NULL, 100, 0));
	close(go[1]);
	waitpid(child, NULL, 0);

	/* copy_file_range */
	ftruncate(dst, 0);
	loff_t in_off = 4, out_off = 2;
	CHECK("copy_file_range offsets", copy_file_range(src, &in_off, dst, &out_off, 6, 0));
	printf("in_off=%jd out_off=%jd\n", (intmax_t)in_off, (intmax_t)out_off);
	file_says("dst", dst);
	lseek(src, 18, SEEK_SET);
	lseek(dst, 0, SEEK_SET);
	CHECK("copy_file_range positions, short at EOF", copy_file_range(src, NULL, dst, NULL, 10, 0));
	printf("src pos %jd dst pos %jd\n", (intmax_t)lseek(src, 0, SEEK_CUR), (intmax_t)lseek(dst, 0, SEEK_CUR));
	CHECK("copy_file_range at EOF", copy_file_range(src, NULL, dst, NULL, 10, 0));
	CHECK("copy_file_range flags", copy_file_range(src, NULL, dst, NULL, 10, 1));
	in_off = 0;
	out_off = 5;
	CHECK("copy_file_range overlap", copy_file_range(src, &in_off, src, &out_off, 10, 0));
	out_off = 20;
	CHECK("copy_file_range same file apart", copy_file_range(src, &in_off, src, &out_off, 10, 0));
	CHECK("copy_file_range pipe", copy_file_range(p[0], NULL, dst, NULL, 1, 0));
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK("copy_file_range directory", copy_file_range(dirfd, NULL, dst, NULL, 1, 0));
	CHECK("copy_file_range O_APPEND out", copy_file_range(src, NULL, app, NULL, 1, 0));
	CHECK("copy_file_range len 0", copy_file_range(src, NULL, dst, NULL, 0, 0));
	int shm = open("/dev/shm", O_TMPFILE | O_RDWR, 0600);
	in_off = 0;
	CHECK("copy_file_range across filesystems", copy_file_range(src, &in_off, shm, NULL, 5, 0));
	return 0;
}
