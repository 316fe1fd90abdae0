/* A fork bomb, capped at ATTEMPTS forks so that it stays bounded even if ward failed to
 * limit it. Under `ward run --max-tasks N` forks beyond the limit must fail with EAGAIN,
 * and the sandbox must stay responsive (the program reaps everything and reports). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define ATTEMPTS 300

int main(int argc, char **argv)
{
	int limit = argc > 1 ? atoi(argv[1]) : 64;
	pid_t kids[ATTEMPTS];
	int n = 0, eagain = 0, other = 0;
	for (int i = 0; i < ATTEMPTS; i++) {
		pid_t p = fork();
		if (p == 0) {
			pause();
			_exit(0);
		}
		if (p > 0)
			kids[n++] = p;
		else if (errno == EAGAIN)
			eagain++;
		else
			other++;
	}
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	int reaped = 0;
	while (wait(NULL) > 0)
		reaped++;
	printf("forked %d, EAGAIN %d, other errors %d, reaped %d\n", n, eagain, other, reaped);
	if (eagain > 0 && n < limit && other == 0 && reaped == n)
		printf("ESCAPE-TEST PASS\n");
	else
		printf("ESCAPE-TEST FAIL\n");
	return 0;
}
