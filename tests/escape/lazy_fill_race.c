/* A read-only host file's page cache is filled on demand, at fault time. A guest tries to
 * confuse that: threads fault on a big host file's pages while the main thread keeps
 * replacing the mapping under them (munmap, a writable anonymous mapping scribbled over
 * at the same address, the file again), and passes unfilled pages to the sentry (write(2)
 * from them, read(2) into them). Afterwards the sentry must still serve the sandbox and
 * every page of the file must read as the host's bytes: no store reached the page cache,
 * no chunk was marked filled with other bytes. Bounded: 4 threads, a few seconds. */
#include "escape.h"
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PG 4096UL

static int fd;
static size_t size, npages;
static char *volatile map;
static volatile int stop;
static __thread sigjmp_buf fault_env;

static void on_fault(int sig)
{
	(void)sig;
	siglongjmp(fault_env, 1);
}

static int big_file(const char *dir, char *out, size_t outlen)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	off_t best = 4 << 20;
	int found = -1;
	struct dirent *e;
	while ((e = readdir(d))) {
		char path[4096];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > best) {
			best = st.st_size;
			snprintf(out, outlen, "%s", path);
			found = 0;
		}
	}
	closedir(d);
	return found;
}

static void *toucher(void *arg)
{
	size_t seed = (size_t)arg;
	volatile unsigned long sum = 0;
	for (size_t i = 0; !stop; i++) {
		if (sigsetjmp(fault_env, 1) == 0) {
			char *m = map;
			sum += (unsigned char)m[((i * 2654435761UL + seed * 977) % npages) * PG];
		}
	}
	(void)sum;
	return NULL;
}

/* Every page of a fresh mapping equals pread's bytes. */
static int file_intact(void)
{
	char *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		return 0;
	char buf[PG];
	int ok = 1;
	for (size_t i = 0; i < npages && ok; i++) {
		size_t n = size - i * PG < PG ? size - i * PG : PG;
		ok = pread(fd, buf, n, (off_t)(i * PG)) == (ssize_t)n && memcmp(m + i * PG, buf, n) == 0;
	}
	munmap(m, size);
	return ok;
}

int main(void)
{
	char path[4096];
	if (big_file("/usr/lib/x86_64-linux-gnu", path, sizeof(path)) < 0 &&
	    big_file("/usr/lib", path, sizeof(path)) < 0) {
		printf("no big host file; nothing to test\nESCAPE-TEST PASS\n");
		return 0;
	}
	fd = open(path, O_RDONLY);
	struct stat st;
	fstat(fd, &st);
	size = (size_t)st.st_size;
	npages = (size + PG - 1) / PG;
	struct sigaction sa = {.sa_handler = on_fault};
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	char *base = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (base == MAP_FAILED) {
		ESC_FAIL("cannot map %s: %s", path, esc_errname(errno));
		return 1;
	}
	map = base;
	pthread_t th[4];
	for (size_t i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, toucher, (void *)i);
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int p[2];
	pipe(p);
	for (int round = 0; round < 300; round++) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > 5)
			break;
		size_t at = ((size_t)round * 7919 % npages) * PG, len = 64 * PG;
		if (at + len > npages * PG)
			at = 0;
		switch (round % 3) {
		case 0: /* gone, then the file again */
			munmap(base + at, len);
			mmap(base + at, len, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, (off_t)at);
			break;
		case 1: /* anonymous memory scribbled over at the file's address, then the file */
			if (mmap(base + at, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) !=
			    MAP_FAILED)
				memset(base + at, 'W', len);
			mmap(base + at, len, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, (off_t)at);
			break;
		case 2: /* the sentry reads unfilled pages (write) and writes into them (read) */
			if (write(p[1], base + at, 4096) > 0) {
				char sink[4096];
				read(p[0], sink, sizeof(sink));
			}
			write(p[1], "x", 1);
			if (read(p[0], base + at + PG, 1) != -1 || errno != EFAULT)
				ESC_FAIL("read(2) stored into a read-only mapping of the file");
			mprotect(base + at, len, PROT_NONE);
			mprotect(base + at, len, PROT_READ);
			break;
		}
	}
	stop = 1;
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	if (!file_intact())
		ESC_FAIL("the file's page cache no longer reads as the host file");
	pid_t pid = fork();
	if (pid == 0)
		_exit(file_intact() ? 0 : 1);
	int status;
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		ESC_FAIL("a child process sees the file changed");
	if (esc_failures)
		return 1;
	printf("ESCAPE-TEST PASS\n");
	return 0;
}
