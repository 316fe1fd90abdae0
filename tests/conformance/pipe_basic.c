/* Pipes: pipe/pipe2 flags, data in order, EOF only after every writer is gone, EPIPE with
 * SIGPIPE (killed by default, EPIPE when ignored or caught), O_NONBLOCK EAGAIN on an empty
 * read and a full write, a 65536-byte default capacity, PIPE_BUF atomicity (a non-blocking
 * write of <= PIPE_BUF bytes is all or nothing; concurrent writers never interleave within
 * one), F_GETPIPE_SZ/F_SETPIPE_SZ, a blocked writer released by a reader (across fork),
 * and the errors of the wrong end, lseek and pread. Fills use 4096-byte writes (Linux packs
 * smaller writes into page buffers with a capacity that depends on the write size). */
#include "conf.h"
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char page[4096];

/* Non-blocking fill with 4096-byte writes; returns the number of bytes accepted. */
static long fill(int wfd)
{
	long total = 0;
	ssize_t n;

	while ((n = write(wfd, page, sizeof(page))) > 0)
		total += n;
	if (n < 0 && errno != EAGAIN)
		printf("  fill stopped by %s\n", conf_errname(errno));
	return total;
}

static long drain(int rfd)
{
	static char buf[65536];
	long total = 0;
	ssize_t n;

	while ((n = read(rfd, buf, sizeof(buf))) > 0)
		total += n;
	return total;
}

static volatile int pipe_hits;

static void on_pipe(int sig)
{
	(void)sig;
	pipe_hits++;
}

static void show_status(const char *label, pid_t pid)
{
	int st = -1;

	waitpid(pid, &st, 0);
	if (WIFSIGNALED(st))
		printf("%s: killed by signal %d\n", label, WTERMSIG(st));
	else
		printf("%s: exit status %d\n", label, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

int main(void)
{
	int p[2], q[2];
	char buf[256];
	struct stat st;

	memset(page, 'x', sizeof(page));

	SAY("-- basics\n");
	CHECK("pipe", pipe(p));
	CHECK("F_GETFL read end (accmode)", fcntl(p[0], F_GETFL) & (O_ACCMODE | O_NONBLOCK));
	CHECK("F_GETFL write end (accmode)", fcntl(p[1], F_GETFL) & (O_ACCMODE | O_NONBLOCK));
	CHECK("F_GETFD read end", fcntl(p[0], F_GETFD));
	CHECK("fstat", fstat(p[0], &st));
	BOOL("  S_ISFIFO", S_ISFIFO(st.st_mode));
	printf("  permission bits %04o size %ld\n", st.st_mode & 07777, (long)st.st_size);
	CHECK("write 5", write(p[1], "hello", 5));
	CHECK("write 6", write(p[1], " world", 6));
	memset(buf, 0, sizeof(buf));
	CHECK("read 3", read(p[0], buf, 3));
	CHECK("read rest", read(p[0], buf + 3, sizeof(buf) - 4));
	printf("  data: %s\n", buf);
	CHECK("write 0 bytes", write(p[1], "", 0));
	CHECK("read 0 bytes", read(p[0], buf, 0));
	CHECK("read from the write end", read(p[1], buf, 1));
	CHECK("write to the read end", write(p[0], "x", 1));
	CHECK("lseek", lseek(p[0], 0, SEEK_SET));
	CHECK("pread", pread(p[0], buf, 1, 0));
	CHECK("pwrite", pwrite(p[1], buf, 1, 0));

	SAY("-- EOF only after every writer is closed\n");
	int w2;
	CHECK_OK("dup write end", w2 = dup(p[1]));
	CHECK("write abc", write(p[1], "abc", 3));
	CHECK("close one writer", close(p[1]));
	CHECK("F_SETFL O_NONBLOCK on the read end", fcntl(p[0], F_SETFL, O_NONBLOCK));
	CHECK("read buffered data", read(p[0], buf, sizeof(buf)));
	CHECK("read with a writer left (EAGAIN)", read(p[0], buf, sizeof(buf)));
	CHECK("close the last writer", close(w2));
	CHECK("read at EOF", read(p[0], buf, sizeof(buf)));
	CHECK("read at EOF again", read(p[0], buf, sizeof(buf)));
	close(p[0]);

	SAY("-- pipe2 flags\n");
	CHECK("pipe2 O_CLOEXEC|O_NONBLOCK", pipe2(p, O_CLOEXEC | O_NONBLOCK));
	CHECK("  F_GETFD read end", fcntl(p[0], F_GETFD));
	CHECK("  F_GETFD write end", fcntl(p[1], F_GETFD));
	CHECK("  F_GETFL read end", fcntl(p[0], F_GETFL) & (O_ACCMODE | O_NONBLOCK));
	CHECK("  F_GETFL write end", fcntl(p[1], F_GETFL) & (O_ACCMODE | O_NONBLOCK));
	close(p[0]);
	close(p[1]);
	CHECK("pipe2 bad flags", pipe2(p, O_APPEND));
	CHECK("pipe2 bad pointer", syscall(SYS_pipe2, 8L, 0L));

	SAY("-- capacity and non-blocking writes\n");
	CHECK("pipe2 O_NONBLOCK", pipe2(p, O_NONBLOCK));
	CHECK("F_GETPIPE_SZ", fcntl(p[0], F_GETPIPE_SZ));
	CHECK("F_GETPIPE_SZ write end", fcntl(p[1], F_GETPIPE_SZ));
	CHECK("read empty (EAGAIN)", read(p[0], buf, 1));
	printf("fill with 4096-byte writes: %ld bytes\n", fill(p[1]));
	CHECK("write 1 more byte", write(p[1], "x", 1));
	CHECK("read 4096", read(p[0], buf, 256) + read(p[0], page, 4096 - 256));
	memset(page, 'x', sizeof(page));
	CHECK("write 4096 after freeing 4096", write(p[1], page, 4096));
	printf("drain: %ld bytes\n", drain(p[0]));
	static char big[100000];
	CHECK("non-blocking write of 100000 into an empty pipe (partial)", write(p[1], big, sizeof(big)));
	printf("drain: %ld bytes\n", drain(p[0]));

	SAY("-- PIPE_BUF atomicity on a nearly full pipe\n");
	printf("PIPE_BUF=%d\n", PIPE_BUF);
	for (int i = 0; i < 15; i++)
		if (write(p[1], page, 4096) != 4096)
			printf("  short fill at %d\n", i);
	CHECK("write 3996 (100 bytes left)", write(p[1], page, 3996));
	CHECK("write PIPE_BUF bytes (does not fit: all or nothing)", write(p[1], page, PIPE_BUF));
	CHECK("write 100 bytes (fits exactly)", write(p[1], page, 100));
	CHECK("write 1 byte (full)", write(p[1], page, 1));
	printf("drain: %ld bytes\n", drain(p[0]));

	SAY("-- F_SETPIPE_SZ\n");
	CHECK("F_SETPIPE_SZ 4096", fcntl(p[1], F_SETPIPE_SZ, 4096));
	CHECK("F_GETPIPE_SZ", fcntl(p[0], F_GETPIPE_SZ));
	printf("fill: %ld bytes\n", fill(p[1]));
	printf("drain: %ld bytes\n", drain(p[0]));
	CHECK("F_SETPIPE_SZ 100000 (rounded up)", fcntl(p[1], F_SETPIPE_SZ, 100000));
	CHECK("F_GETPIPE_SZ", fcntl(p[0], F_GETPIPE_SZ));
	printf("fill: %ld bytes\n", fill(p[1]));
	CHECK("F_SETPIPE_SZ 4096 while holding 131072 bytes", fcntl(p[1], F_SETPIPE_SZ, 4096));
	printf("drain: %ld bytes\n", drain(p[0]));
	CHECK("F_SETPIPE_SZ 0 (minimum is a page)", fcntl(p[1], F_SETPIPE_SZ, 0));
	CHECK("F_SETPIPE_SZ 65536", fcntl(p[1], F_SETPIPE_SZ, 65536));
	int fd = open("/dev/null", O_RDONLY);
	CHECK("F_GETPIPE_SZ on /dev/null", fcntl(fd, F_GETPIPE_SZ));
	close(fd);
	close(p[0]);
	close(p[1]);

	SAY("-- broken pipe\n");
	CHECK("pipe", pipe(p));
	close(p[0]);
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		(void)!write(p[1], "x", 1);
		_exit(0);
	}
	show_status("child writing with SIGPIPE default", pid);
	CHECK("SIGPIPE ignored", signal(SIGPIPE, SIG_IGN) == SIG_ERR ? -1 : 0);
	CHECK("write", write(p[1], "x", 1));
	CHECK("SIGPIPE caught", signal(SIGPIPE, on_pipe) == SIG_ERR ? -1 : 0);
	CHECK("write", write(p[1], "x", 1));
	printf("  handler hits=%d\n", pipe_hits);
	sigset_t set, pend;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &set, NULL);
	CHECK("write with SIGPIPE blocked", write(p[1], "x", 1));
	sigpending(&pend);
	BOOL("  SIGPIPE pending", sigismember(&pend, SIGPIPE));
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	printf("  handler hits=%d\n", pipe_hits);
	CHECK("write 0 bytes", write(p[1], "", 0));
	printf("  handler hits=%d\n", pipe_hits);
	signal(SIGPIPE, SIG_DFL);
	close(p[1]);

	SAY("-- a blocked writer is released by the reader\n");
	CHECK("pipe", pipe(p));
	CHECK("pipe (done signal)", pipe(q));
	pid = fork();
	if (pid == 0) {
		static char chunk[65536 + 8192];
		close(p[0]);
		close(q[0]);
		ssize_t n = write(p[1], chunk, sizeof(chunk));
		/* Report the size written, then exit. */
		if (write(q[1], &n, sizeof(n)) != sizeof(n))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	close(q[1]);
	struct pollfd pf = { .fd = q[0], .events = POLLIN };
	CHECK("poll for the writer's report, 100 ms (still blocked)", poll(&pf, 1, 100));
	static char sink[16384];
	ssize_t got = 0;
	while (got < 16384) {
		ssize_t n = read(p[0], sink, (size_t)(16384 - got));
		if (n <= 0)
			break;
		got += n;
	}
	printf("read %ld bytes\n", (long)got);
	CHECK("poll for the writer's report, 10 s (released)", poll(&pf, 1, 10000));
	ssize_t written = 0;
	CHECK("read report", read(q[0], &written, sizeof(written)));
	printf("  the blocked write returned %ld\n", (long)written);
	long rest = 0;
	ssize_t n;
	while ((n = read(p[0], sink, sizeof(sink))) > 0)
		rest += n;
	printf("remaining bytes %ld, then EOF (%ld)\n", rest, (long)n);
	show_status("writer", pid);
	close(p[0]);
	close(q[0]);

	SAY("-- concurrent writers of PIPE_BUF-sized records do not interleave\n");
	CHECK("pipe", pipe(p));
	pid_t writers[2];
	for (int w = 0; w < 2; w++) {
		writers[w] = fork();
		if (writers[w] == 0) {
			char rec[PIPE_BUF];
			close(p[0]);
			memset(rec, w ? 'B' : 'A', sizeof(rec));
			for (int i = 0; i < 40; i++)
				if (write(p[1], rec, sizeof(rec)) != sizeof(rec))
					_exit(1);
			_exit(0);
		}
	}
	close(p[1]);
	int counts[2] = { 0, 0 }, mixed = 0, records = 0;
	for (;;) {
		char rec[PIPE_BUF];
		size_t have = 0;
		while (have < sizeof(rec)) {
			n = read(p[0], rec + have, sizeof(rec) - have);
			if (n <= 0)
				break;
			have += (size_t)n;
		}
		if (have == 0)
			break;
		if (have != sizeof(rec)) {
			printf("  short record of %zu bytes\n", have);
			break;
		}
		records++;
		int a = 0;
		for (size_t i = 0; i < sizeof(rec); i++)
			a += rec[i] == 'A';
		if (a == PIPE_BUF)
			counts[0]++;
		else if (a == 0 && rec[0] == 'B')
			counts[1]++;
		else
			mixed++;
	}
	printf("records=%d all-A=%d all-B=%d mixed=%d\n", records, counts[0], counts[1], mixed);
	show_status("writer A", writers[0]);
	show_status("writer B", writers[1]);
	close(p[0]);
	return 0;
}
