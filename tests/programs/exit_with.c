/* Test helper: exits with the status given as argv[1] (default 0), after printing it. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	int status = argc > 1 ? atoi(argv[1]) : 0;

	printf("exit_with %d\n", status);
	return status;
}
