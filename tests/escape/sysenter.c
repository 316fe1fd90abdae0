/* `sysenter` is not a valid system call entry for 64-bit code: it must end with an error or
 * the process killed by a signal (the harness accepts either), never an opened host file. */
#include "escape.h"
#include <stdint.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		printf("usage: %s SECRET\n", argv[0]);
		return 2;
	}
	char *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (low == MAP_FAILED)
		return 2;
	snprintf(low, 4096, "%s", argv[1]);
	printf("trying sysenter open\n");
	fflush(stdout);
	long ret;
	__asm__ volatile("mov $-1, %%rdi\n\t"
			 "sysenter\n\t"
			 : "=a"(ret)
			 : "a"(5L), "b"((long)(uintptr_t)low), "c"(0L), "d"(0L)
			 : "rdi", "rsi", "r8", "r9", "r10", "r11", "memory");
	if (ret >= 0)
		ESC_FAIL("sysenter open returned %ld", ret);
	else
		printf("sysenter: error %s\n", esc_errname(-ret));
	return esc_finish();
}
