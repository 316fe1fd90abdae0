/* page_fault: first touch (a 1-byte write) of fresh anonymous pages; ns per page.
 *
 * Usage: bench_page_fault [N]   (default 20000): N pages are touched in all, in chunks
 * of at most 256 pages (1 MiB): each chunk is mmap()ed, its pages are written once each
 * (timed), and it is munmap()ed; only the writes are timed, so the mmap/munmap cost is
 * not charged. MADV_NOHUGEPAGE (errors ignored) keeps the host from backing a chunk with
 * one huge page, which would make native do one fault per 2 MiB instead of per page. */
#include "bench.h"
#include <sys/mman.h>

#define CHUNK 256L
#define PAGE 4096L

static long long touch_chunk(long pages) {
    size_t len = (size_t)(pages * PAGE);
    volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                            -1, 0);
    if (p == MAP_FAILED)
        bench_die("page_fault", "mmap");
    (void)madvise((void *)p, len, MADV_NOHUGEPAGE);
    long long t0 = bench_now_ns();
    for (long i = 0; i < pages; i++)
        p[i * PAGE] = 1;
    long long t = bench_now_ns() - t0;
    for (long i = 0; i < pages; i++) /* the writes really happened */
        if (p[i * PAGE] != 1) {
            fprintf(stderr, "bench_page_fault: page %ld lost its write\n", i);
            exit(1);
        }
    if (munmap((void *)p, len) < 0)
        bench_die("page_fault", "munmap");
    return t;
}

int main(int argc, char **argv) {
    long n = bench_parse_n(argc, argv, 20000);
    touch_chunk(CHUNK < n ? CHUNK : n); /* untimed warm-up */
    long long total = 0;
    for (long done = 0; done < n; done += CHUNK)
        total += touch_chunk(n - done < CHUNK ? n - done : CHUNK);
    bench_report("page_fault", total, n);
    return 0;
}
