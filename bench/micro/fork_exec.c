/* fork_exec: fork a child that execve()s /bin/true (dynamically linked, so the loader and
 * libc start-up are part of the cost), and wait for it; ns per fork+execve+exit+wait.
 * Usage: bench_fork_exec [N]   (default 200) */
#include "bench.h"
#include <sys/wait.h>
#include <unistd.h>

static void once(void) {
    static char *const args[] = {"/bin/true", NULL};
    static char *const env[] = {"PATH=/usr/bin:/bin", NULL};
    pid_t pid = fork();
    if (pid < 0)
        bench_die("fork_exec", "fork");
    if (pid == 0) {
        execve(args[0], args, env);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid)
        bench_die("fork_exec", "waitpid");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "bench_fork_exec: /bin/true ended with status 0x%x%s\n", st,
                WIFEXITED(st) && WEXITSTATUS(st) == 127 ? " (execve failed)" : "");
        exit(1);
    }
}

int main(int argc, char **argv) {
    long n = bench_parse_n(argc, argv, 200);
    once();
    long long t0 = bench_now_ns();
    for (long i = 0; i < n; i++)
        once();
    bench_report("fork_exec", bench_now_ns() - t0, n);
    return 0;
}
