/* mmap_munmap: mmap(2) one private anonymous read-write page and munmap(2) it, without
 * touching it; ns per mmap+munmap pair.
 * Usage: bench_mmap_munmap [N]   (default 20000) */
#include "bench.h"
#include <sys/mman.h>

static void once(void) {
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        bench_die("mmap_munmap", "mmap");
    if (munmap(p, 4096) < 0)
        bench_die("mmap_munmap", "munmap");
}

int main(int argc, char **argv) {
    long n = bench_parse_n(argc, argv, 20000);
    once();
    long long t0 = bench_now_ns();
    for (long i = 0; i < n; i++)
        once();
    bench_report("mmap_munmap", bench_now_ns() - t0, n);
    return 0;
}
