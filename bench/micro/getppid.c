/* getppid micro-benchmark: the cost of one trapped, trivially served syscall.
 *
 * Usage: bench_getppid [N]   (N defaults to 20000)
 * Prints one line: "getppid_ns <nanoseconds per call>".
 *
 * syscall(SYS_getppid) is used instead of getppid() so no libc wrapper or cache can
 * answer without entering the kernel (or the sandbox's sentry). Build it -static so the
 * measured process does no dynamic loading and is runnable from any bind mount. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
    long n = 20000;
    if (argc > 1) {
        char *end;
        n = strtol(argv[1], &end, 10);
        if (*argv[1] == '\0' || *end != '\0' || n <= 0) {
            fprintf(stderr, "usage: %s [N>0]\n", argv[0]);
            return 2;
        }
    }
    /* One untimed call so first-touch effects (page faults on the stub path, lazy
     * setup in the sandbox) are not charged to the loop. */
    syscall(SYS_getppid);
    long long t0 = now_ns();
    for (long i = 0; i < n; i++)
        syscall(SYS_getppid); /* an opaque libc call: the compiler cannot drop it */
    long long t1 = now_ns();
    printf("getppid_ns %.1f\n", (double)(t1 - t0) / (double)n);
    return 0;
}
