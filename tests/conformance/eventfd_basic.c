/* eventfd: counter semantics (add on write, take all or one on read), EFD_SEMAPHORE,
 * EFD_NONBLOCK, short buffers, the 0xfffffffffffffffe ceiling, poll readiness, and
 * blocking read/write woken by another thread. */
#include "conf.h"
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int efd_shared;

static void sleep_ms(int ms)
{
	struct timespec ts = {0, ms * 1000000L};
	nanosleep(&ts, NULL);
}

static short poll_bits(int fd)
{
	struct pollfd p = {fd, POLLIN | POLLOUT, 0};
	if (poll(&p, 1, 0) < 0)
		return -1;
	return p.revents;
}

static void show_poll(const char *label, int fd)
{
	short r = poll_bits(fd);
	printf("%s: POLLIN=%d POLLOUT=%d POLLERR=%d\n", label, !!(r & POLLIN), !!(r & POLLOUT),
	       !!(r & POLLERR));
}

static void *writer(void *arg)
{
	uint64_t v = (uint64_t)(uintptr_t)arg;
	sleep_ms(50);
	if (write(efd_shared, &v, sizeof(v)) != sizeof(v))
		printf("writer failed\n");
	return NULL;
}

static void *reader(void *arg)
{
	(void)arg;
	uint64_t v;
	sleep_ms(50);
	if (read(efd_shared, &v, sizeof(v)) != sizeof(v))
		printf("reader failed\n");
	return NULL;
}

int main(void)
{
	uint64_t v;
	char small[4] = {0};

	CHECK("eventfd2 bad flags", eventfd(0, 0x40));
	int fd = eventfd(5, 0);
	BOOL("eventfd(5, 0) ok", fd >= 0);
	v = 0;
	CHECK("read initial", read(fd, &v, sizeof(v)));
	printf("  value=%llu\n", (unsigned long long)v);
	v = 3;
	CHECK("write 3", write(fd, &v, sizeof(v)));
	v = 4;
	CHECK("write 4", write(fd, &v, sizeof(v)));
	uint64_t big[2] = {0, 0};
	CHECK("read after two writes (16-byte buffer)", read(fd, big, sizeof(big)));
	printf("  value=%llu\n", (unsigned long long)big[0]);
	CHECK("read with 4-byte buffer", read(fd, small, sizeof(small)));
	CHECK("write with 4-byte buffer", write(fd, small, sizeof(small)));
	v = UINT64_MAX;
	CHECK("write 2^64-1", write(fd, &v, sizeof(v)));
	v = 0;
	CHECK("write 0", write(fd, &v, sizeof(v)));
	show_poll("poll at 0", fd);
	int fl = fcntl(fd, F_GETFL);
	printf("F_GETFL: accmode=%d nonblock=%d\n", fl & O_ACCMODE, !!(fl & O_NONBLOCK));
	struct stat st;
	CHECK("fstat", fstat(fd, &st));
	printf("  mode=%o\n", st.st_mode);
	close(fd);

	fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	fl = fcntl(fd, F_GETFL);
	printf("EFD_NONBLOCK|EFD_CLOEXEC: nonblock=%d cloexec=%d\n", !!(fl & O_NONBLOCK),
	       !!(fcntl(fd, F_GETFD) & FD_CLOEXEC));
	CHECK("read at 0 (nonblocking)", read(fd, &v, sizeof(v)));
	v = 0xfffffffffffffffeULL;
	CHECK("write 0xfffffffffffffffe", write(fd, &v, sizeof(v)));
	show_poll("poll at max", fd);
	v = 1;
	CHECK("write 1 more (nonblocking)", write(fd, &v, sizeof(v)));
	v = 0;
	CHECK("write 0 at max", write(fd, &v, sizeof(v)));
	CHECK("read at max", read(fd, &v, sizeof(v)));
	printf("  value=%#llx\n", (unsigned long long)v);
	show_poll("poll after read", fd);
	close(fd);

	fd = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
	for (int i = 0; i < 4; i++) {
		v = 99;
		errno = 0;
		long r = read(fd, &v, sizeof(v));
		printf("semaphore read %d: ret=%ld errno=%s value=%llu\n", i, r,
		       r < 0 ? conf_errname(errno) : "none", r < 0 ? 0ULL : (unsigned long long)v);
	}
	close(fd);

	/* Blocking read woken by a write from another thread. */
	efd_shared = eventfd(0, 0);
	pthread_t th;
	pthread_create(&th, NULL, writer, (void *)(uintptr_t)9);
	v = 0;
	CHECK("blocking read", read(efd_shared, &v, sizeof(v)));
	printf("  value=%llu\n", (unsigned long long)v);
	pthread_join(th, NULL);

	/* Blocking write at the ceiling woken by a read. */
	v = 0xfffffffffffffffeULL;
	CHECK("fill to the ceiling", write(efd_shared, &v, sizeof(v)));
	pthread_create(&th, NULL, reader, NULL);
	v = 5;
	CHECK("blocking write at the ceiling", write(efd_shared, &v, sizeof(v)));
	pthread_join(th, NULL);
	CHECK("read after it", read(efd_shared, &v, sizeof(v)));
	printf("  value=%llu\n", (unsigned long long)v);

	/* poll blocking until a write. */
	pthread_create(&th, NULL, writer, (void *)(uintptr_t)1);
	struct pollfd p = {efd_shared, POLLIN, 0};
	CHECK("poll until written", poll(&p, 1, 5000));
	printf("  revents POLLIN=%d\n", !!(p.revents & POLLIN));
	pthread_join(th, NULL);
	close(efd_shared);
	return 0;
}
