/* pread_4k: pread(2) of the first 4 KiB of a host file that is opened once (so after
 * the warm-up read it is in every cache there is); ns per 4 KiB read.
 * Usage: bench_pread_4k [N [PATH]]   (default 20000, /etc/services; PATH must hold
 * at least 4096 bytes) */
#include "bench.h"
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long n = bench_parse_n(argc, argv, 20000);
    const char *path = argc > 2 ? argv[2] : "/etc/services";
    static char buf[4096];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        bench_die("pread_4k", path);
    ssize_t r = pread(fd, buf, sizeof buf, 0); /* untimed warm-up */
    if (r < 0)
        bench_die("pread_4k", "pread");
    if (r != (ssize_t)sizeof buf) {
        fprintf(stderr, "bench_pread_4k: %s: short read (%zd bytes, need 4096)\n", path, r);
        return 1;
    }
    long long t0 = bench_now_ns();
    for (long i = 0; i < n; i++)
        if (pread(fd, buf, sizeof buf, 0) != (ssize_t)sizeof buf)
            bench_die("pread_4k", "pread");
    bench_report("pread_4k", bench_now_ns() - t0, n);
    close(fd);
    return 0;
}
