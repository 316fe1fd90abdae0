/* Which CPUs a sandbox runs on. Every guest system call is a round trip between a stub
 * thread and the sentry, and most file operations one more between the sentry and the
 * gofer; on a VM like the ones ward is tested on, waking a process on another core costs
 * ~100 us against ~7 us on the same one. The platforms already keep stub threads on the
 * sentry's core, so guest threads never computed in parallel; binding the whole sandbox
 * (sentry, gofers, stubs) to one core removes the remaining cross-core wake-ups (gcc -c
 * took 2.1x longer unpinned than pinned before). The core is the one the kernel placed
 * this freshly exec'd launcher on (exec balancing picks an idle one), so concurrent
 * sandboxes spread over the machine's cores. */
#include "tools/cli/sandbox_cpu.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sandbox_cpu_parse(const char *arg, int *cpu)
{
	if (strcmp(arg, "auto") == 0) {
		*cpu = SANDBOX_CPU_AUTO;
		return 0;
	}
	if (strcmp(arg, "all") == 0) {
		*cpu = SANDBOX_CPU_ALL;
		return 0;
	}
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 0 || v >= CPU_SETSIZE)
		return -1;
	*cpu = (int)v;
	return 0;
}

int sandbox_cpu_apply(int cpu, char *why, size_t whylen)
{
	if (cpu == SANDBOX_CPU_ALL)
		return 0;
	cpu_set_t allowed;
	if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0) {
		snprintf(why, whylen, "sched_getaffinity: %s", strerror(errno));
		return -1;
	}
	if (cpu == SANDBOX_CPU_AUTO) {
		cpu = sched_getcpu();
		/* Not expected, but a CPU outside the allowed set would fail below. */
		if (cpu < 0 || !CPU_ISSET(cpu, &allowed))
			return 0;
	} else if (!CPU_ISSET(cpu, &allowed)) {
		snprintf(why, whylen, "CPU %d is not one this process may run on", cpu);
		return -1;
	}
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one) < 0) {
		snprintf(why, whylen, "sched_setaffinity: %s", strerror(errno));
		return -1;
	}
	return 0;
}
