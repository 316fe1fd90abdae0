/* A barrier built directly on FUTEX_WAIT/FUTEX_WAKE: 4 threads, 200 rounds; after each
 * barrier every thread must see every other thread's write for that round. */
#include "conf.h"
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#define THREADS 4
#define ROUNDS 200

static int arrived, generation;
static int slots[THREADS];
static int errors;

static long futex(int *uaddr, int op, int val)
{
	return syscall(SYS_futex, uaddr, op | FUTEX_PRIVATE_FLAG, val, NULL, NULL, 0);
}

static void barrier_wait(void)
{
	int gen = __atomic_load_n(&generation, __ATOMIC_ACQUIRE);

	if (__atomic_add_fetch(&arrived, 1, __ATOMIC_ACQ_REL) == THREADS) {
		__atomic_store_n(&arrived, 0, __ATOMIC_RELAXED);
		__atomic_add_fetch(&generation, 1, __ATOMIC_RELEASE);
		futex(&generation, FUTEX_WAKE, INT_MAX);
		return;
	}
	while (__atomic_load_n(&generation, __ATOMIC_ACQUIRE) == gen) {
		long r = futex(&generation, FUTEX_WAIT, gen);
		if (r < 0 && errno != EAGAIN && errno != EINTR)
			__atomic_add_fetch(&errors, 1, __ATOMIC_RELAXED);
	}
}

static void *worker(void *arg)
{
	int id = (int)(long)arg;

	for (int round = 1; round <= ROUNDS; round++) {
		__atomic_store_n(&slots[id], round, __ATOMIC_RELAXED);
		barrier_wait();
		for (int j = 0; j < THREADS; j++)
			if (__atomic_load_n(&slots[j], __ATOMIC_RELAXED) < round)
				__atomic_add_fetch(&errors, 1, __ATOMIC_RELAXED);
		barrier_wait();
	}
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];

	for (long i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	printf("rounds=%d generations=%d errors=%d\n", ROUNDS, generation, errors);
	return 0;
}
