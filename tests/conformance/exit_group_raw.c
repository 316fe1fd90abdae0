/* Raw exit_group with a status above 255 is truncated to 8 bits: 300 & 255 = 44. stdout is
 * written with write(2) since no libc exit handlers run. */
#include "conf.h"
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	write(1, "exit_group(300)\n", 16);
	syscall(SYS_exit_group, 300);
	return 1;
}
