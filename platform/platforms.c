/* The list of platforms, and which one `ward run` picks when not told. */
#include "platform/platform.h"

#include <errno.h>
#include <string.h>
#include <time.h>

const struct platform_kind platform_kinds[] = {
	{"ptrace", "guest threads stopped by PTRACE_SYSEMU at every system call (the reference)",
	 ptrace_platform_create, NULL},
	{"seccomp", "guest system calls trapped by a seccomp filter (SIGSYS) in the stub, or reached "
		    "without a signal through patched call sites, and handed to the sentry through "
		    "shared memory",
	 seccomp_platform_create, seccomp_platform_available},
};
const size_t platform_nkinds = sizeof(platform_kinds) / sizeof(platform_kinds[0]);

const struct platform_kind *platform_kind_by_name(const char *name)
{
	for (size_t i = 0; i < platform_nkinds; i++)
		if (strcmp(platform_kinds[i].name, name) == 0)
			return &platform_kinds[i];
	return NULL;
}

const struct platform_kind *platform_default(const char **why)
{
	/* Measured on the 2-core VM it was built on (bench/RESULTS.md), seccomp with
	 * syscall patching against ptrace: getppid 5.3 against 13.8 us, a pipe round trip
	 * ~25% faster, python3 and gcc a few % faster, fork+wait ~15% slower. */
	const struct platform_kind *sc = platform_kind_by_name("seccomp");
	const char *no;
	if (sc->available(&no) == 0) {
		*why = "the fastest here: a patched system call costs less than half of a ptrace "
		       "stop, and only fork is slower (bench/RESULTS.md; docs/design-notes.md, "
		       "Platform: seccomp)";
		return sc;
	}
	*why = "seccomp is unavailable on this machine; ptrace works wherever ptrace does";
	return platform_kind_by_name("ptrace");
}

/* A stub's process CPU clocks (Linux's MAKE_PROCESS_CPUCLOCK: PROF = user+system, VIRT =
 * user), read by pid: the sentry may read any process's, not another's threads'. */
int platform_process_cpu_time(pid_t pid, uint64_t *user_ns, uint64_t *total_ns)
{
	struct timespec ts;
	clockid_t prof = (clockid_t)((~(unsigned)pid) << 3 | 0);
	clockid_t virt = (clockid_t)((~(unsigned)pid) << 3 | 1);
	if (clock_gettime(prof, &ts) < 0)
		return -errno;
	*total_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	if (clock_gettime(virt, &ts) < 0)
		return -errno;
	*user_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	return 0;
}
