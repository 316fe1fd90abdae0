/* futex_pingpong: two threads of one process hand a token back and forth through a
 * futex word; each hand-off is a FUTEX_WAKE by one thread and a FUTEX_WAIT return in the
 * other. ns per round trip (main -> helper -> main).
 * Usage: bench_futex_pingpong [N]   (default 10000) */
#include "bench.h"
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

static _Atomic int turn; /* 0: main's turn, 1: helper's turn, 2: helper must quit */

static void wait_while(int v) {
    while (atomic_load(&turn) == v)
        if (syscall(SYS_futex, &turn, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0) < 0 &&
            errno != EAGAIN && errno != EINTR)
            bench_die("futex_pingpong", "FUTEX_WAIT");
}

static void set_and_wake(int v) {
    atomic_store(&turn, v);
    if (syscall(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0) < 0)
        bench_die("futex_pingpong", "FUTEX_WAKE");
}

static void *helper(void *arg) {
    (void)arg;
    for (;;) {
        wait_while(0);
        if (atomic_load(&turn) == 2)
            return NULL;
        set_and_wake(0);
    }
}

static void round_trip(void) {
    set_and_wake(1);
    wait_while(1);
}

int main(int argc, char **argv) {
    long n = bench_parse_n(argc, argv, 10000);
    pthread_t t;
    int err = pthread_create(&t, NULL, helper, NULL);
    if (err) {
        errno = err;
        bench_die("futex_pingpong", "pthread_create");
    }
    round_trip(); /* untimed warm-up */
    long long t0 = bench_now_ns();
    for (long i = 0; i < n; i++)
        round_trip();
    long long t1 = bench_now_ns();
    set_and_wake(2);
    pthread_join(t, NULL);
    bench_report("futex_pingpong", t1 - t0, n);
    return 0;
}
