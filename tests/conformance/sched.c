/* sched_getaffinity reports at least one CPU and agrees with CPU_COUNT; sched_yield returns 0;
 * scheduling policy queries of self; bad arguments fail. */
#include "conf.h"
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CHECK("sched_getaffinity", sched_getaffinity(0, sizeof(set), &set));
	BOOL("  at least one CPU", CPU_COUNT(&set) > 0);
	BOOL("  raw syscall returns a byte count multiple of 8",
	     syscall(SYS_sched_getaffinity, 0, sizeof(set), &set) % 8 == 0);
	BOOL("sysconf(_SC_NPROCESSORS_ONLN) > 0", sysconf(_SC_NPROCESSORS_ONLN) > 0);
	CHECK("sched_getaffinity size 1", syscall(SYS_sched_getaffinity, 0, 1, &set));
	CHECK("sched_getaffinity bad pid", sched_getaffinity(1 << 30, sizeof(set), &set));
	CHECK("sched_setaffinity to current set", sched_setaffinity(0, sizeof(set), &set));
	CHECK("sched_yield", sched_yield());
	CHECK("sched_getscheduler", sched_getscheduler(0));
	struct sched_param p;
	CHECK("sched_getparam", sched_getparam(0, &p));
	printf("  priority=%d\n", p.sched_priority);
	CHECK("sched_get_priority_max SCHED_OTHER", sched_get_priority_max(SCHED_OTHER));
	CHECK("sched_get_priority_max SCHED_FIFO", sched_get_priority_max(SCHED_FIFO));
	CHECK("sched_get_priority_min bad policy", sched_get_priority_min(77));
	int cpu = sched_getcpu();
	BOOL("sched_getcpu >= 0", cpu >= 0);
	return 0;
}
