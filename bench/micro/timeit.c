/* timeit: precise start-to-exit wall time of commands, interleaved.
 *
 * Usage: bench_timeit [-r RUNS] [-w WARMUP] [-t TIMEOUT_S] [-b BUDGET_MS] [-v] [-f]
 *                     [-e PREFIX] CMD [ARGS...] [::: CMD2 [ARGS...]] ...
 *
 * Each round runs every command once, in the order given (A B C A B C ...), so slow
 * drift of the machine affects all commands alike. WARMUP rounds (default 1) are run
 * first and discarded; then RUNS rounds (default 10) are timed. A run is timed from
 * just before posix_spawn (a vfork+exec; this process is small so the spawn itself
 * costs a few tens of µs at most) to the return of waitpid, with CLOCK_MONOTONIC.
 *
 * The children get stdin and stdout/stderr on /dev/null unless -v (stdout/stderr
 * inherited); with -e, command i's stderr goes to the file PREFIX<i> instead (truncated
 * at each of its runs, so after a failure it holds the failed run's stderr). A child that
 * runs longer than TIMEOUT_S seconds (default 60) is killed with SIGKILL, together with
 * its process group, and counted as a failure. With -f a command is not run again after
 * a failed run (warm-up or timed); every failure is described on stderr as
 * "bench_timeit: cmd <i>: <exit status N | signal N | timed out after S s | spawn error>".
 * With -b a command gets only as many timed runs as fit in BUDGET_MS by its own run times:
 * after a timed run, it runs again only if its timed runs so far plus one more of the
 * last one's length stay within the budget (at least one run, at most RUNS); so a slow
 * sandbox gets fewer runs of a heavy workload instead of stretching the whole suite.
 *
 * Output, one line per command, in the order given (runs: the timed runs it was given,
 * RUNS unless -b cut it short; wall_ns: the time all its runs took, warm-up and failed
 * ones included, i.e. its share of the caller's time):
 *   cmd <i> median_ns <m> min_ns <a> max_ns <b> runs <n> failures <f> wall_ns <w> samples <s1> ...
 * A failed run (non-zero exit, signal, timeout, spawn error) is not a sample.
 * Exit status: 0 if every run of every command succeeded, 1 otherwise, 2 usage. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_CMDS 16

struct cmd {
    char **argv;
    long long *samples;
    int nsamples;
    int failures;
    int dropped; /* -f: failed once, not run again */
    int runs;    /* timed runs given */
    long long spent_ns; /* sum of its timed runs that succeeded */
    long long wall_ns;  /* time of all its runs, failed and warm-up ones included */
    int done;    /* -b: its budget is used up */
};

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_ll(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static void usage(void) {
    fputs("usage: bench_timeit [-r RUNS] [-w WARMUP] [-t TIMEOUT_S] [-b BUDGET_MS] [-v] [-f] "
          "[-e PREFIX] CMD [ARGS...] [::: CMD [ARGS...]]...\n", stderr);
    exit(2);
}

/* Runs argv once; returns the wall time in ns, or -1 if the run failed (described in
 * why). errfile: where its stderr goes, or NULL. *took: the time it took either way. */
static long long run_once(char **argv, int verbose, int timeout_s, const char *errfile,
                          char *why, size_t whysize, long long *took) {
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (!verbose) {
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        if (errfile)
            posix_spawn_file_actions_addopen(&fa, 2, errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        else
            posix_spawn_file_actions_adddup2(&fa, 1, 2);
    } else if (errfile) {
        posix_spawn_file_actions_addopen(&fa, 2, errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    }
    /* Own process group, so a timeout can kill the whole tree (e.g. runsc's helpers). */
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);

    pid_t pid;
    long long t0 = now_ns();
    *took = 0;
    int err = posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (err != 0) {
        snprintf(why, whysize, "spawn error: %s: %s", argv[0], strerror(err));
        return -1;
    }
    /* Wait with a deadline: poll a pidfd, which becomes readable when the child exits. */
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pfd >= 0) {
        struct pollfd p = {.fd = pfd, .events = POLLIN};
        int r;
        do
            r = poll(&p, 1, timeout_s * 1000);
        while (r < 0 && errno == EINTR);
        close(pfd);
        if (r == 0) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            *took = now_ns() - t0;
            snprintf(why, whysize, "timed out after %d s", timeout_s);
            return -1;
        }
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            snprintf(why, whysize, "waitpid: %s", strerror(errno));
            return -1;
        }
    long long t1 = now_ns();
    *took = t1 - t0;
    if (WIFSIGNALED(status)) {
        snprintf(why, whysize, "signal %d", WTERMSIG(status));
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(why, whysize, "exit status %d", WEXITSTATUS(status));
        return -1;
    }
    return t1 - t0;
}

int main(int argc, char **argv) {
    int runs = 10, warmup = 1, timeout_s = 60, verbose = 0, failfast = 0, opt;
    long long budget_ns = 0; /* 0: no budget */
    const char *errprefix = NULL;
    while ((opt = getopt(argc, argv, "+r:w:t:b:vfe:")) != -1) {
        switch (opt) {
        case 'r': runs = atoi(optarg); break;
        case 'b': budget_ns = atoll(optarg) * 1000000LL; break;
        case 'w': warmup = atoi(optarg); break;
        case 't': timeout_s = atoi(optarg); break;
        case 'v': verbose = 1; break;
        case 'f': failfast = 1; break;
        case 'e': errprefix = optarg; break;
        default: usage();
        }
    }
    if (runs <= 0 || warmup < 0 || timeout_s <= 0 || budget_ns < 0 || optind >= argc)
        usage();

    struct cmd cmds[MAX_CMDS];
    int ncmds = 0;
    for (int i = optind; i < argc;) {
        if (ncmds == MAX_CMDS) {
            fprintf(stderr, "bench_timeit: at most %d commands\n", MAX_CMDS);
            return 2;
        }
        int j = i;
        while (j < argc && strcmp(argv[j], ":::") != 0)
            j++;
        if (j == i)
            usage(); /* empty command */
        argv[j < argc ? j : argc] = NULL; /* argv[argc] is already NULL */
        cmds[ncmds].argv = &argv[i];
        cmds[ncmds].samples = calloc((size_t)runs, sizeof(long long));
        cmds[ncmds].nsamples = 0;
        cmds[ncmds].failures = 0;
        cmds[ncmds].dropped = 0;
        cmds[ncmds].runs = 0;
        cmds[ncmds].spent_ns = 0;
        cmds[ncmds].done = 0;
        cmds[ncmds].wall_ns = 0;
        if (!cmds[ncmds].samples)
            return 1;
        ncmds++;
        i = j + 1;
    }

    for (int round = 0; round < warmup + runs; round++) {
        for (int c = 0; c < ncmds; c++) {
            if (cmds[c].done)
                continue;
            if (cmds[c].dropped) {
                if (round >= warmup) {
                    cmds[c].runs++;
                    cmds[c].failures++;
                }
                continue;
            }
            char errfile[4096], why[512] = "";
            if (errprefix)
                snprintf(errfile, sizeof errfile, "%s%d", errprefix, c);
            long long took;
            long long t = run_once(cmds[c].argv, verbose, timeout_s, errprefix ? errfile : NULL,
                                   why, sizeof why, &took);
            cmds[c].wall_ns += took;
            if (t < 0) {
                fprintf(stderr, "bench_timeit: cmd %d: %s\n", c, why);
                if (failfast)
                    cmds[c].dropped = 1;
            }
            if (round < warmup)
                continue;
            cmds[c].runs++;
            if (t < 0) {
                cmds[c].failures++;
            } else {
                cmds[c].samples[cmds[c].nsamples++] = t;
                cmds[c].spent_ns += t;
                if (budget_ns && cmds[c].spent_ns + t > budget_ns)
                    cmds[c].done = 1;
            }
        }
    }

    int all_ok = 1;
    for (int c = 0; c < ncmds; c++) {
        struct cmd *k = &cmds[c];
        if (k->failures)
            all_ok = 0;
        printf("cmd %d", c);
        if (k->nsamples == 0) {
            printf(" median_ns - min_ns - max_ns - runs %d failures %d wall_ns %lld samples\n",
                   k->runs, k->failures, k->wall_ns);
            continue;
        }
        long long *sorted = malloc((size_t)k->nsamples * sizeof(long long));
        if (!sorted)
            return 1;
        memcpy(sorted, k->samples, (size_t)k->nsamples * sizeof(long long));
        qsort(sorted, (size_t)k->nsamples, sizeof(long long), cmp_ll);
        int n = k->nsamples;
        long long median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        printf(" median_ns %lld min_ns %lld max_ns %lld runs %d failures %d wall_ns %lld samples",
               median, sorted[0], sorted[n - 1], k->runs, k->failures, k->wall_ns);
        for (int s = 0; s < n; s++)
            printf(" %lld", k->samples[s]); /* in run order, for drift inspection */
        printf("\n");
        free(sorted);
    }
    return all_ok ? 0 : 1;
}
