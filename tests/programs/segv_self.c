/* Test helper: dies of a real SIGSEGV (a NULL write, not raise()), with core dumps off. The
 * sandbox must report it as status 139 and say so on stderr. */
#include <stdio.h>
#include <sys/resource.h>

int main(void)
{
	struct rlimit no_core = { 0, 0 };

	setrlimit(RLIMIT_CORE, &no_core);
	printf("about to fault\n");
	fflush(stdout);
	*(volatile int *)0 = 1;
	printf("survived the fault\n");
	return 0;
}
