/* uname: the fields a sandbox keeps equal to Linux (sysname, machine); release and nodename
 * are host-specific and only checked for shape. */
#include "conf.h"
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

int main(void)
{
	struct utsname u;

	CHECK("uname", uname(&u));
	printf("sysname=%s\n", u.sysname);
	printf("machine=%s\n", u.machine);
	BOOL("release non-empty and starts with a digit", u.release[0] >= '0' && u.release[0] <= '9');
	BOOL("nodename non-empty", u.nodename[0] != 0);
	BOOL("version non-empty", u.version[0] != 0);
	CHECK("uname bad pointer", syscall(SYS_uname, (void *)8));
	return 0;
}
