/* Condition variables: a bounded producer/consumer queue passes every item exactly once,
 * broadcast wakes every waiter, and a timed wait times out. */
#include "conf.h"
#include <pthread.h>
#include <time.h>

#define ITEMS 5000
#define CAP 4
#define CONSUMERS 3

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER, not_full = PTHREAD_COND_INITIALIZER;
static int queue[CAP], head, len, done;
static long sum, taken;

static void *producer(void *arg)
{
	(void)arg;
	for (int i = 1; i <= ITEMS; i++) {
		pthread_mutex_lock(&mu);
		while (len == CAP)
			pthread_cond_wait(&not_full, &mu);
		queue[(head + len++) % CAP] = i;
		pthread_cond_signal(&not_empty);
		pthread_mutex_unlock(&mu);
	}
	pthread_mutex_lock(&mu);
	done = 1;
	pthread_cond_broadcast(&not_empty);
	pthread_mutex_unlock(&mu);
	return NULL;
}

static void *consumer(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&mu);
		while (len == 0 && !done)
			pthread_cond_wait(&not_empty, &mu);
		if (len == 0 && done) {
			pthread_mutex_unlock(&mu);
			return NULL;
		}
		int v = queue[head];
		head = (head + 1) % CAP;
		len--;
		sum += v;
		taken++;
		pthread_cond_signal(&not_full);
		pthread_mutex_unlock(&mu);
	}
}

static pthread_cond_t gate = PTHREAD_COND_INITIALIZER;
static int open_gate, waiting, passed;

static void *gate_waiter(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	waiting++;
	while (!open_gate)
		pthread_cond_wait(&gate, &mu);
	passed++;
	pthread_mutex_unlock(&mu);
	return NULL;
}

int main(void)
{
	pthread_t p, c[CONSUMERS], g[5];

	pthread_create(&p, NULL, producer, NULL);
	for (int i = 0; i < CONSUMERS; i++)
		pthread_create(&c[i], NULL, consumer, NULL);
	pthread_join(p, NULL);
	for (int i = 0; i < CONSUMERS; i++)
		pthread_join(c[i], NULL);
	printf("taken=%ld sum=%ld expected sum=%ld\n", taken, sum, (long)ITEMS * (ITEMS + 1) / 2);

	for (int i = 0; i < 5; i++)
		pthread_create(&g[i], NULL, gate_waiter, NULL);
	for (;;) {
		pthread_mutex_lock(&mu);
		int w = waiting;
		pthread_mutex_unlock(&mu);
		if (w == 5)
			break;
		sched_yield();
	}
	pthread_mutex_lock(&mu);
	open_gate = 1;
	pthread_cond_broadcast(&gate);
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < 5; i++)
		pthread_join(g[i], NULL);
	printf("broadcast released=%d\n", passed);

	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 20 * 1000 * 1000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&mu);
	int rc = pthread_cond_timedwait(&gate, &mu, &ts);
	pthread_mutex_unlock(&mu);
	printf("timedwait: %s\n", rc == ETIMEDOUT ? "ETIMEDOUT" : rc == 0 ? "0" : "other");
	return 0;
}
