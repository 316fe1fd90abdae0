/* exit() from a non-main thread ends the whole process with that status, while the main
 * thread is blocked; the harness compares the exit status (3). */
#include "conf.h"
#include <pthread.h>
#include <unistd.h>

static void *worker(void *arg)
{
	(void)arg;
	printf("thread: exiting with 3\n");
	exit(3);
}

int main(void)
{
	pthread_t t;

	printf("main: starting thread\n");
	pthread_create(&t, NULL, worker, NULL);
	for (;;)
		pause();
}
