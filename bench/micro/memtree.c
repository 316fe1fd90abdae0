/* memtree: peak memory of a whole process tree, sampled from /proc.
 *
 * Usage: bench_memtree [-i INTERVAL_US] [-t TIMEOUT_S] [-v] CMD [ARGS...]
 *
 * Runs CMD (stdin, stdout and stderr on /dev/null unless -v) and, every INTERVAL_US
 * microseconds (default 1000) until the last process of the tree has exited, sums over
 * every process of the tree the resident set (Rss) and the proportional set (Pss: each
 * shared page divided by the number of processes mapping it) from
 * /proc/<pid>/smaps_rollup. This process is a child subreaper (PR_SET_CHILD_SUBREAPER),
 * so descendants that daemonise or lose their parent stay in the tree; the tree is every
 * process whose chain of parents leads here. Prints one line:
 *   peak_rss_kb <kB> peak_pss_kb <kB> max_procs <n> samples <n> wall_ns <ns> status <s>
 * status is "ok" if CMD exited 0, else "exit <code>", "signal <n>" or "timeout".
 * Limits: a sample is a snapshot, so a peak shorter than the interval (or a process
 * living less than one) can be missed; Rss counts a page shared by several processes of
 * the tree once per process (Pss does not). Exit status 0 if CMD succeeded, else 1;
 * 2 on a usage error. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROCS 4096

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Reads a small /proc file into buf; returns its length or -1. */
static ssize_t slurp(const char *path, char *buf, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, size - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
        if (n == size - 1)
            break;
    }
    close(fd);
    buf[n] = '\0';
    return (ssize_t)n;
}

/* Parent pid from /proc/<pid>/stat (field 4, after the parenthesised command name). */
static int read_ppid(int pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if (slurp(path, buf, sizeof buf) <= 0)
        return -1;
    char *p = strrchr(buf, ')');
    int ppid;
    char state;
    if (!p || sscanf(p + 1, " %c %d", &state, &ppid) != 2)
        return -1;
    return ppid;
}

static long field_kb(const char *buf, const char *key) {
    const char *p = strstr(buf, key);
    return p ? strtol(p + strlen(key), NULL, 10) : 0;
}

/* One snapshot: sums Rss and Pss (kB) over the tree below `self`; returns the number
 * of processes found in it. */
static int sample(int self, long *rss, long *pss) {
    static int pids[MAX_PROCS], ppids[MAX_PROCS];
    static char in[MAX_PROCS];
    int n = 0;
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) && n < MAX_PROCS) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        int pid = atoi(e->d_name);
        int ppid = read_ppid(pid);
        if (ppid <= 0 || pid == self)
            continue;
        pids[n] = pid;
        ppids[n] = ppid;
        in[n] = ppid == self;
        n++;
    }
    closedir(d);
    /* Close the "parent is in the tree" relation (the tree is shallow: few passes). */
    for (int changed = 1; changed;) {
        changed = 0;
        for (int i = 0; i < n; i++) {
            if (in[i])
                continue;
            for (int j = 0; j < n; j++)
                if (in[j] && pids[j] == ppids[i]) {
                    in[i] = 1;
                    changed = 1;
                    break;
                }
        }
    }
    int count = 0;
    *rss = *pss = 0;
    for (int i = 0; i < n; i++) {
        if (!in[i])
            continue;
        char path[64], buf[4096];
        snprintf(path, sizeof path, "/proc/%d/smaps_rollup", pids[i]);
        if (slurp(path, buf, sizeof buf) <= 0)
            continue; /* a zombie or already gone */
        *rss += field_kb(buf, "\nRss:");
        *pss += field_kb(buf, "\nPss:");
        count++;
    }
    return count;
}

int main(int argc, char **argv) {
    long interval_us = 1000;
    int timeout_s = 120, verbose = 0, opt;
    while ((opt = getopt(argc, argv, "+i:t:v")) != -1) {
        switch (opt) {
        case 'i': interval_us = atol(optarg); break;
        case 't': timeout_s = atoi(optarg); break;
        case 'v': verbose = 1; break;
        default: goto usage;
        }
    }
    if (interval_us <= 0 || timeout_s <= 0 || optind >= argc)
        goto usage;
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
        perror("bench_memtree: PR_SET_CHILD_SUBREAPER");
        return 1;
    }
    int self = getpid();
    long long t0 = now_ns();
    pid_t child = fork();
    if (child < 0) {
        perror("bench_memtree: fork");
        return 1;
    }
    if (child == 0) {
        setpgid(0, 0); /* own group, so a timeout can kill the whole tree */
        int nul = open("/dev/null", O_RDWR);
        if (nul >= 0) {
            dup2(nul, 0);
            if (!verbose) {
                dup2(nul, 1);
                dup2(nul, 2);
            }
        }
        execvp(argv[optind], &argv[optind]);
        fprintf(stderr, "bench_memtree: %s: %s\n", argv[optind], strerror(errno));
        _exit(127);
    }
    long peak_rss = 0, peak_pss = 0, rss, pss;
    int max_procs = 0, samples = 0, main_status = -1, timed_out = 0;
    long long t_end = 0;
    for (;;) {
        int c = sample(self, &rss, &pss);
        if (c > 0) {
            samples++;
            if (rss > peak_rss)
                peak_rss = rss;
            if (pss > peak_pss)
                peak_pss = pss;
            if (c > max_procs)
                max_procs = c;
        }
        /* Reap whatever ended: the command itself and orphans handed to us. */
        int st;
        pid_t p;
        while ((p = waitpid(-1, &st, WNOHANG)) > 0)
            if (p == child) {
                main_status = st;
                t_end = now_ns();
            }
        if (p < 0 && errno == ECHILD)
            break; /* nothing of the tree is left */
        if (!timed_out && now_ns() - t0 > (long long)timeout_s * 1000000000LL) {
            timed_out = 1;
            kill(-child, SIGKILL);
            kill(child, SIGKILL);
        }
        struct timespec ts = {interval_us / 1000000, (interval_us % 1000000) * 1000};
        nanosleep(&ts, NULL);
    }
    if (!t_end)
        t_end = now_ns();
    char status[64];
    if (timed_out)
        snprintf(status, sizeof status, "timeout");
    else if (WIFEXITED(main_status) && WEXITSTATUS(main_status) == 0)
        snprintf(status, sizeof status, "ok");
    else if (WIFEXITED(main_status))
        snprintf(status, sizeof status, "exit %d", WEXITSTATUS(main_status));
    else
        snprintf(status, sizeof status, "signal %d", WTERMSIG(main_status));
    printf("peak_rss_kb %ld peak_pss_kb %ld max_procs %d samples %d wall_ns %lld status %s\n",
           peak_rss, peak_pss, max_procs, samples, t_end - t0, status);
    return strcmp(status, "ok") == 0 ? 0 : 1;
usage:
    fputs("usage: bench_memtree [-i INTERVAL_US] [-t TIMEOUT_S] [-v] CMD [ARGS...]\n", stderr);
    return 2;
}
