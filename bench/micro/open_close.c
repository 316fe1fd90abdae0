/* open_close: open(2) a host file read-only and close it; ns per open+close.
 * Usage: bench_open_close [N [PATH]]   (default 20000, /etc/passwd) */
#include "bench.h"
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long n = bench_parse_n(argc, argv, 20000);
    const char *path = argc > 2 ? argv[2] : "/etc/passwd";
    for (long i = -1; i < 0; i++) { /* untimed warm-up */
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            bench_die("open_close", path);
        close(fd);
    }
    long long t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            bench_die("open_close", path);
        if (close(fd) < 0)
            bench_die("open_close", "close");
    }
    bench_report("open_close", bench_now_ns() - t0, n);
    return 0;
}
