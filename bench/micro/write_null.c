/* write_null: write(2) of 1 byte to /dev/null; ns per call.
 * Usage: bench_write_null [N]   (default 20000) */
#include "bench.h"
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long n = bench_parse_n(argc, argv, 20000);
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        bench_die("write_null", "/dev/null");
    if (write(fd, "x", 1) != 1) /* untimed warm-up */
        bench_die("write_null", "write");
    long long t0 = bench_now_ns();
    for (long i = 0; i < n; i++)
        if (write(fd, "x", 1) != 1)
            bench_die("write_null", "write");
    bench_report("write_null", bench_now_ns() - t0, n);
    close(fd);
    return 0;
}
