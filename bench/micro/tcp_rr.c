/* tcp_rr: one byte bounced between two processes over a loopback TCP connection
 * (127.0.0.1, TCP_NODELAY on both ends); the parent writes it, the child echoes it back.
 * ns per round trip. Needs a socket layer with loopback networking in the sandbox.
 * Usage: bench_tcp_rr [N]   (default 10000) */
#include "bench.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void xwrite(int fd, char c) {
    ssize_t r;
    do
        r = write(fd, &c, 1);
    while (r < 0 && errno == EINTR);
    if (r != 1)
        bench_die("tcp_rr", "write");
}

/* Returns 0 at end of stream. */
static int xread(int fd, char *c) {
    ssize_t r;
    do
        r = read(fd, c, 1);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        bench_die("tcp_rr", "read");
    return (int)r;
}

static void nodelay(int fd) {
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
        bench_die("tcp_rr", "setsockopt TCP_NODELAY");
}

int main(int argc, char **argv) {
    long n = bench_parse_n(argc, argv, 10000);
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (ls < 0)
        bench_die("tcp_rr", "socket");
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0)
        bench_die("tcp_rr", "bind 127.0.0.1");
    if (listen(ls, 1) < 0)
        bench_die("tcp_rr", "listen");
    if (getsockname(ls, (struct sockaddr *)&a, &len) < 0)
        bench_die("tcp_rr", "getsockname");
    pid_t pid = fork();
    if (pid < 0)
        bench_die("tcp_rr", "fork");
    if (pid == 0) {
        close(ls);
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0)
            bench_die("tcp_rr", "socket (child)");
        if (connect(s, (struct sockaddr *)&a, sizeof a) < 0)
            bench_die("tcp_rr", "connect 127.0.0.1");
        nodelay(s);
        char c;
        while (xread(s, &c) == 1)
            xwrite(s, c);
        _exit(0);
    }
    int s = accept(ls, NULL, NULL);
    if (s < 0)
        bench_die("tcp_rr", "accept");
    close(ls);
    nodelay(s);
    char c = 'x';
    xwrite(s, c); /* untimed warm-up round trip */
    if (xread(s, &c) != 1) {
        fprintf(stderr, "bench_tcp_rr: peer closed the connection\n");
        return 1;
    }
    long long t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        xwrite(s, (char)i);
        if (xread(s, &c) != 1 || c != (char)i) {
            fprintf(stderr, "bench_tcp_rr: bad or missing echo\n");
            return 1;
        }
    }
    long long t1 = bench_now_ns();
    close(s);
    int st;
    if (waitpid(pid, &st, 0) != pid)
        bench_die("tcp_rr", "waitpid");
    bench_report("tcp_rr", t1 - t0, n);
    return 0;
}
