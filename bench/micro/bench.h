/* Shared helpers of the self-timed micro-benchmarks (header-only, so every benchmark
 * stays one static program built from one .c file).
 *
 * Every benchmark has the same interface as getppid.c: `bench_<name> [N]` runs N
 * iterations of its operation (after one untimed warm-up iteration) and prints one line
 * "<name>_ns <nanoseconds per iteration>". Any failing system call is reported on stderr
 * as "bench_<name>: <what>: <strerror>" and makes the program exit 1, so the runner
 * shows the first failure as the n/a reason instead of a figure. */
#ifndef WARD_BENCH_H
#define WARD_BENCH_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline long long bench_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* N from argv[1] (default dflt); exits 2 on a malformed argument. */
static inline long bench_parse_n(int argc, char **argv, long dflt) {
    if (argc < 2)
        return dflt;
    char *end;
    errno = 0;
    long n = strtol(argv[1], &end, 10);
    if (*argv[1] == '\0' || *end != '\0' || n <= 0 || errno != 0) {
        fprintf(stderr, "usage: %s [N>0]\n", argv[0]);
        exit(2);
    }
    return n;
}

/* Reports a failed call (errno) and exits 1. */
#define bench_die(name, what) \
    do { \
        fprintf(stderr, "bench_%s: %s: %s\n", (name), (what), strerror(errno)); \
        exit(1); \
    } while (0)

static inline void bench_report(const char *name, long long ns, long n) {
    printf("%s_ns %.1f\n", name, (double)ns / (double)n);
}

#endif
