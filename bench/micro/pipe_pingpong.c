/* pipe_pingpong: one byte bounced between two processes over two pipes; the parent
 * writes it, the child reads it and writes it back, the parent reads it. ns per round
 * trip (two writes, two reads, two wake-ups).
 * Usage: bench_pipe_pingpong [N]   (default 10000) */
#include "bench.h"
#include <sys/wait.h>
#include <unistd.h>

static void xwrite(int fd, char c) {
    ssize_t r;
    do
        r = write(fd, &c, 1);
    while (r < 0 && errno == EINTR);
    if (r != 1)
        bench_die("pipe_pingpong", "write");
}

/* Returns 0 at end of file. */
static int xread(int fd, char *c) {
    ssize_t r;
    do
        r = read(fd, c, 1);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        bench_die("pipe_pingpong", "read");
    return (int)r;
}

int main(int argc, char **argv) {
    long n = bench_parse_n(argc, argv, 10000);
    int down[2], up[2]; /* parent -> child, child -> parent */
    if (pipe(down) < 0 || pipe(up) < 0)
        bench_die("pipe_pingpong", "pipe");
    pid_t pid = fork();
    if (pid < 0)
        bench_die("pipe_pingpong", "fork");
    if (pid == 0) {
        close(down[1]);
        close(up[0]);
        char c;
        while (xread(down[0], &c) == 1)
            xwrite(up[1], c);
        _exit(0);
    }
    close(down[0]);
    close(up[1]);
    char c = 'x';
    xwrite(down[1], c); /* untimed warm-up round trip */
    if (xread(up[0], &c) != 1) {
        fprintf(stderr, "bench_pipe_pingpong: child closed the pipe\n");
        return 1;
    }
    long long t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        xwrite(down[1], (char)i);
        if (xread(up[0], &c) != 1 || c != (char)i) {
            fprintf(stderr, "bench_pipe_pingpong: bad or missing echo\n");
            return 1;
        }
    }
    long long t1 = bench_now_ns();
    close(down[1]);
    int st;
    if (waitpid(pid, &st, 0) != pid)
        bench_die("pipe_pingpong", "waitpid");
    bench_report("pipe_pingpong", t1 - t0, n);
    return 0;
}
