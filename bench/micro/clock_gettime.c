/* clock_gettime: clock_gettime(CLOCK_MONOTONIC) through libc, as programs call it: on a
 * kernel (or sandbox) that maps a vDSO it is answered there without a system call,
 * otherwise it is a trapped syscall. ns per call.
 * Usage: bench_clock_gettime [N]   (default 100000) */
#include "bench.h"

int main(int argc, char **argv) {
    long n = bench_parse_n(argc, argv, 100000);
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0) /* untimed warm-up */
        bench_die("clock_gettime", "clock_gettime");
    long long t0 = bench_now_ns();
    for (long i = 0; i < n; i++)
        if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
            bench_die("clock_gettime", "clock_gettime");
    bench_report("clock_gettime", bench_now_ns() - t0, n);
    return 0;
}
