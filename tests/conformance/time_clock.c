/* Clocks and sleeping: monotonic time never goes backwards, nanosleep sleeps at least as
 * long as asked, realtime agrees with time() and gettimeofday(), bad arguments fail.
 * Only booleans are printed. */
#include "conf.h"
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int64_t ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(void)
{
	int64_t prev = ns(CLOCK_MONOTONIC), t;
	int mono_ok = 1;

	for (int i = 0; i < 10000; i++) {
		t = ns(CLOCK_MONOTONIC);
		mono_ok &= t >= prev;
		prev = t;
	}
	BOOL("CLOCK_MONOTONIC nondecreasing over 10000 reads", mono_ok);
	struct timespec raw;
	CHECK("raw clock_gettime syscall MONOTONIC", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &raw));
	BOOL("  raw syscall agrees with vDSO/libc path", raw.tv_sec * 1000000000LL + raw.tv_nsec >= prev);

	int64_t before = ns(CLOCK_MONOTONIC);
	CHECK("nanosleep 10ms", nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL));
	int64_t slept = ns(CLOCK_MONOTONIC) - before;
	BOOL("  slept >= 10ms", slept >= 10 * 1000 * 1000);
	BOOL("  slept < 5s", slept < 5000000000LL);
	before = ns(CLOCK_MONOTONIC);
	printf("clock_nanosleep MONOTONIC relative 15ms: %s\n",
	       conf_errname(clock_nanosleep(CLOCK_MONOTONIC, 0, &(struct timespec){ 0, 15 * 1000 * 1000 }, NULL)));
	BOOL("  slept >= 15ms", ns(CLOCK_MONOTONIC) - before >= 15 * 1000 * 1000);
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_nsec += 5 * 1000 * 1000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	printf("clock_nanosleep TIMER_ABSTIME: %s\n",
	       conf_errname(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL)));
	BOOL("  now past the deadline", ns(CLOCK_MONOTONIC) >= deadline.tv_sec * 1000000000LL + deadline.tv_nsec);
	CHECK("nanosleep 0", nanosleep(&(struct timespec){ 0, 0 }, NULL));
	CHECK("nanosleep tv_nsec 1e9", nanosleep(&(struct timespec){ 0, 1000000000 }, NULL));
	CHECK("nanosleep negative", nanosleep(&(struct timespec){ -1, 0 }, NULL));
	CHECK("nanosleep bad pointer", syscall(SYS_nanosleep, (void *)8, NULL));

	int64_t real = ns(CLOCK_REALTIME);
	BOOL("CLOCK_REALTIME after 2020", real / 1000000000 > 1577836800LL);
	time_t tt = time(NULL);
	BOOL("time() within 2s of CLOCK_REALTIME", llabs((long long)tt - real / 1000000000) <= 2);
	struct timeval tv;
	CHECK("gettimeofday", gettimeofday(&tv, NULL));
	BOOL("  within 2s of CLOCK_REALTIME", llabs((long long)tv.tv_sec - real / 1000000000) <= 2);
	BOOL("  usec in range", tv.tv_usec >= 0 && tv.tv_usec < 1000000);
	struct timespec ts;
	CHECK("CLOCK_BOOTTIME", clock_gettime(CLOCK_BOOTTIME, &ts));
	CHECK("CLOCK_MONOTONIC_COARSE", clock_gettime(CLOCK_MONOTONIC_COARSE, &ts));
	CHECK("CLOCK_REALTIME_COARSE", clock_gettime(CLOCK_REALTIME_COARSE, &ts));
	CHECK("CLOCK_PROCESS_CPUTIME_ID", clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts));
	CHECK("CLOCK_THREAD_CPUTIME_ID", clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts));
	CHECK("invalid clock id 1000", clock_gettime(1000, &ts));
	CHECK("clock_getres MONOTONIC", clock_getres(CLOCK_MONOTONIC, &ts));
	BOOL("  resolution <= 1ms", ts.tv_sec == 0 && ts.tv_nsec <= 1000000);
	CHECK("clock_gettime bad pointer", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, (void *)8));
	return 0;
}
