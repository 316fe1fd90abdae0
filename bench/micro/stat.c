/* stat: stat(2) of a host file by absolute path (glibc issues newfstatat); ns per call.
 * Usage: bench_stat [N [PATH]]   (default 20000, /etc/passwd) */
#include "bench.h"
#include <sys/stat.h>

int main(int argc, char **argv) {
    long n = bench_parse_n(argc, argv, 20000);
    const char *path = argc > 2 ? argv[2] : "/etc/passwd";
    struct stat st;
    if (stat(path, &st) < 0) /* untimed warm-up */
        bench_die("stat", path);
    long long t0 = bench_now_ns();
    for (long i = 0; i < n; i++)
        if (stat(path, &st) < 0)
            bench_die("stat", path);
    bench_report("stat", bench_now_ns() - t0, n);
    return 0;
}
