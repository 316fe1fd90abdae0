/* pthread_create/join: return values travel back, each thread has its own tid and TLS, all
 * share the pid, and detached threads run too. */
#include "conf.h"
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

static __thread int tls_value = 42;
static pid_t main_pid, main_tid;

struct result {
	int tid_differs_from_pid, pid_same, tls_initial, tls_after;
	pid_t tid;
};

static void *worker(void *arg)
{
	struct result *r = arg;

	r->tid = gettid();
	r->tid_differs_from_pid = r->tid != getpid();
	r->pid_same = getpid() == main_pid;
	r->tls_initial = tls_value;
	tls_value = 1000;
	r->tls_after = tls_value;
	return (void *)(long)(r->tls_initial + 1);
}

static void *exiter(void *arg)
{
	pthread_exit(arg);
}

static volatile int detached_ran;
static void *detached(void *arg)
{
	(void)arg;
	__atomic_store_n(&detached_ran, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

int main(void)
{
	pthread_t t[4];
	struct result r[4];
	void *ret;

	main_pid = getpid();
	main_tid = gettid();
	BOOL("main: gettid equals getpid", main_tid == main_pid);
	tls_value = 7;
	for (int i = 0; i < 4; i++)
		CHECK("pthread_create", pthread_create(&t[i], NULL, worker, &r[i]));
	for (int i = 0; i < 4; i++) {
		CHECK("pthread_join", pthread_join(t[i], &ret));
		printf("thread %d: returned=%ld tid!=pid=%s same pid=%s tls initial=%d\n", i, (long)ret,
		       r[i].tid_differs_from_pid ? "yes" : "no", r[i].pid_same ? "yes" : "no",
		       r[i].tls_initial);
	}
	int distinct = 1;
	for (int i = 0; i < 4; i++)
		for (int j = i + 1; j < 4; j++)
			distinct &= r[i].tid != r[j].tid;
	BOOL("tids distinct", distinct);
	BOOL("main TLS untouched", tls_value == 7);
	BOOL("raw gettid in main equals pid", syscall(SYS_gettid) == main_pid);

	pthread_t d;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	CHECK("create detached", pthread_create(&d, &attr, detached, NULL));
	while (!__atomic_load_n(&detached_ran, __ATOMIC_SEQ_CST))
		sched_yield();
	BOOL("detached thread ran", detached_ran);

	/* A thread that calls pthread_exit with a value. */
	CHECK("pthread_create", pthread_create(&t[0], NULL, exiter, (void *)99));
	CHECK("pthread_join", pthread_join(t[0], &ret));
	printf("pthread_exit value=%ld\n", (long)ret);
	return 0;
}
