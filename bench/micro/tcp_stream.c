/* tcp_stream: moves MiB mebibytes (default 1024, i.e. 1 GiB) through a loopback TCP
 * connection (127.0.0.1) from a child process to its parent, in 64 KiB writes; the
 * parent reads until end of stream, checks the count and waits for the child. A wall-time
 * workload (timed from outside, start to exit); it prints "tcp_stream_mib_s <MiB/s>" of
 * the transfer alone as information. Needs a socket layer with loopback networking.
 * Usage: bench_tcp_stream [MiB] */
#include "bench.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHUNK (64 * 1024)

int main(int argc, char **argv) {
    long mib = bench_parse_n(argc, argv, 1024);
    long long total = (long long)mib << 20;
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (ls < 0)
        bench_die("tcp_stream", "socket");
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0)
        bench_die("tcp_stream", "bind 127.0.0.1");
    if (listen(ls, 1) < 0)
        bench_die("tcp_stream", "listen");
    if (getsockname(ls, (struct sockaddr *)&a, &len) < 0)
        bench_die("tcp_stream", "getsockname");
    static char buf[CHUNK];
    long long t0 = bench_now_ns();
    pid_t pid = fork();
    if (pid < 0)
        bench_die("tcp_stream", "fork");
    if (pid == 0) {
        close(ls);
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0)
            bench_die("tcp_stream", "socket (child)");
        if (connect(s, (struct sockaddr *)&a, sizeof a) < 0)
            bench_die("tcp_stream", "connect 127.0.0.1");
        memset(buf, 'w', sizeof buf);
        for (long long left = total; left > 0;) {
            ssize_t w = write(s, buf, left < CHUNK ? (size_t)left : CHUNK);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                bench_die("tcp_stream", "write");
            left -= w;
        }
        _exit(close(s) == 0 ? 0 : 1);
    }
    int s = accept(ls, NULL, NULL);
    if (s < 0)
        bench_die("tcp_stream", "accept");
    close(ls);
    long long got = 0;
    for (;;) {
        ssize_t r = read(s, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            bench_die("tcp_stream", "read");
        if (r == 0)
            break;
        got += r;
    }
    int st;
    if (waitpid(pid, &st, 0) != pid)
        bench_die("tcp_stream", "waitpid");
    long long t1 = bench_now_ns();
    if (got != total || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "bench_tcp_stream: received %lld of %lld bytes, sender status 0x%x\n",
                got, total, st);
        return 1;
    }
    printf("tcp_stream_mib_s %.1f\n", (double)mib / ((double)(t1 - t0) / 1e9));
    return 0;
}
