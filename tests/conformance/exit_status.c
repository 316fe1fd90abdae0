/* The exit status reaches the parent: this program exits 7 after printing a line (the
 * harness compares the status as well as stdout). */
#include "conf.h"
#include <unistd.h>

int main(void)
{
	printf("exiting with 7\n");
	exit(7);
}
