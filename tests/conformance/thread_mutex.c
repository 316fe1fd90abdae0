/* 8 threads increment a mutex-protected counter; the total is exact. */
#include "conf.h"
#include <pthread.h>

#define THREADS 8
#define ITERS 20000

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static long atomic_counter;

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < ITERS; i++) {
		pthread_mutex_lock(&mu);
		long v = counter;
		if ((i & 255) == 0)
			sched_yield(); /* widen the window so a broken mutex shows */
		counter = v + 1;
		pthread_mutex_unlock(&mu);
		__atomic_fetch_add(&atomic_counter, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];

	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	printf("counter=%ld expected=%d\n", counter, THREADS * ITERS);
	printf("atomic counter=%ld\n", atomic_counter);
	CHECK("trylock free mutex", pthread_mutex_trylock(&mu));
	printf("trylock held mutex: %s\n", pthread_mutex_trylock(&mu) == EBUSY ? "EBUSY" : "other");
	pthread_mutex_unlock(&mu);

	pthread_mutexattr_t a;
	pthread_mutex_t ec;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&ec, &a);
	pthread_mutex_lock(&ec);
	printf("errorcheck relock: %s\n", pthread_mutex_lock(&ec) == EDEADLK ? "EDEADLK" : "other");
	pthread_mutex_unlock(&ec);
	return 0;
}
