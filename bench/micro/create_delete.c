/* create_delete: create 1,000 small files in a directory (open O_CREAT|O_EXCL, write 64
 * bytes, close), then delete them; repeated in batches of 1,000 up to N files. ns per file
 * (its create and its delete). The directory (argv[2], default ".") is where the run
 * writes: under ward the workspace, so every file goes through the gofer to the host.
 * Usage: bench_create_delete [N [DIR]]   (default 2000, ".") */
#include "bench.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define BATCH 1000

static void one_batch(int dirfd, long count)
{
	static const char payload[64] = "ward bench: a small file, created and deleted again\n";
	char name[32];
	for (long i = 0; i < count; i++) {
		snprintf(name, sizeof name, "f%05ld", i);
		int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0)
			bench_die("create_delete", "openat O_CREAT");
		if (write(fd, payload, sizeof payload) != (ssize_t)sizeof payload)
			bench_die("create_delete", "write");
		if (close(fd) < 0)
			bench_die("create_delete", "close");
	}
	for (long i = 0; i < count; i++) {
		snprintf(name, sizeof name, "f%05ld", i);
		if (unlinkat(dirfd, name, 0) < 0)
			bench_die("create_delete", "unlinkat");
	}
}

int main(int argc, char **argv)
{
	long n = bench_parse_n(argc, argv, 2000);
	const char *parent = argc > 2 ? argv[2] : ".";
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/bench-files.%d", parent, (int)getpid());
	if (mkdir(dir, 0755) < 0)
		bench_die("create_delete", dir);
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		bench_die("create_delete", dir);
	one_batch(dirfd, 10); /* untimed warm-up */
	long long t0 = bench_now_ns();
	for (long done = 0; done < n; done += BATCH)
		one_batch(dirfd, n - done < BATCH ? n - done : BATCH);
	long long ns = bench_now_ns() - t0;
	close(dirfd);
	if (rmdir(dir) < 0)
		bench_die("create_delete", "rmdir");
	bench_report("create_delete", ns, n);
	return 0;
}
