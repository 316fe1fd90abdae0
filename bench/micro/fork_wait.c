/* fork_wait: fork a child that exits at once, and wait4 for it; ns per fork+exit+wait.
 * Usage: bench_fork_wait [N]   (default 1000) */
#include "bench.h"
#include <sys/wait.h>
#include <unistd.h>

static void once(void) {
    pid_t pid = fork();
    if (pid < 0)
        bench_die("fork_wait", "fork");
    if (pid == 0)
        _exit(0);
    int st;
    if (waitpid(pid, &st, 0) != pid)
        bench_die("fork_wait", "waitpid");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "bench_fork_wait: child ended with status 0x%x\n", st);
        exit(1);
    }
}

int main(int argc, char **argv) {
    long n = bench_parse_n(argc, argv, 1000);
    once();
    long long t0 = bench_now_ns();
    for (long i = 0; i < n; i++)
        once();
    bench_report("fork_wait", bench_now_ns() - t0, n);
    return 0;
}
