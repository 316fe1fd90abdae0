/* getppid micro-benchmark: the cost of one trivially served syscall.
 *
 * Usage: bench_getppid [N] [syscall]   (N defaults to 20000)
 * Prints one line: "getppid_ns <nanoseconds per call>" ("getppid_syscall_ns" with
 * "syscall").
 *
 * By default through libc's getppid(), as programs make it (glibc's wrapper is
 * `mov $110,%eax; syscall`: no cache, every call enters the kernel or the sandbox's
 * sentry; the seccomp platform patches such sites). With "syscall", through
 * syscall(SYS_getppid), glibc's generic wrapper (eax from a register, the last
 * argument loaded from the stack right before the syscall instruction; the seccomp
 * platform patches that form too). Build it -static so the measured process does no
 * dynamic loading and is runnable from any bind mount. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long raw_getppid(void) {
    return syscall(SYS_getppid); /* an opaque libc call: the compiler cannot drop it */
}

static long libc_getppid(void) {
    return getppid();
}

int main(int argc, char **argv) {
    long n = 20000;
    long (*call)(void) = libc_getppid;
    const char *label = "getppid_ns";
    if (argc > 2 && strcmp(argv[2], "syscall") == 0) {
        call = raw_getppid;
        label = "getppid_syscall_ns";
    }
    else if (argc > 2) {
        fprintf(stderr, "usage: %s [N>0] [syscall]\n", argv[0]);
        return 2;
    }
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
    call();
    long long t0 = now_ns();
    for (long i = 0; i < n; i++)
        call();
    long long t1 = now_ns();
    printf("%s %.1f\n", label, (double)(t1 - t0) / (double)n);
    return 0;
}
