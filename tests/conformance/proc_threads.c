/* task/ has one directory per thread, each with the thread's own stat, status and comm;
 * /proc/<tid> works for a thread but readdir of /proc lists processes only. */
#include "conf.h"
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>

#define NTHREADS 3

static pthread_barrier_t started, finish;
static pid_t tids[NTHREADS];

static void *worker(void *arg)
{
	tids[(long)arg] = (pid_t)syscall(SYS_gettid);
	pthread_barrier_wait(&started);
	pthread_barrier_wait(&finish);
	return NULL;
}

static int read_file(const char *path, char *buf, size_t sz)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sz - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return n > 0 ? (int)n : -1;
}

static int dir_has(const char *dir, int num, int *count)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;
	*count = 0;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		(*count)++;
		found |= atoi(e->d_name) == num;
	}
	if (d)
		closedir(d);
	return found;
}

int main(void)
{
	pthread_t th[NTHREADS];
	char path[128], buf[4096];
	int count;

	pthread_barrier_init(&started, NULL, NTHREADS + 1);
	pthread_barrier_init(&finish, NULL, NTHREADS + 1);
	for (long i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	pthread_barrier_wait(&started);

	int all = 1;
	for (int i = 0; i < NTHREADS; i++)
		all &= dir_has("/proc/self/task", tids[i], &count);
	BOOL("task/ has every thread", all && dir_has("/proc/self/task", getpid(), &count));
	printf("task/ entries: %d (threads + main)\n", count);

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tids[0]);
	int tid = 0;
	BOOL("task/<tid>/stat field 1 == tid", read_file(path, buf, sizeof(buf)) > 0 && sscanf(buf, "%d", &tid) == 1 && tid == tids[0]);
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tids[0]);
	BOOL("task/<tid>/status Pid == tid, Tgid == getpid", read_file(path, buf, sizeof(buf)) > 0 &&
	     strstr(buf, "\nPid:\t") && atoi(strstr(buf, "\nPid:\t") + 6) == tids[0] &&
	     atoi(strstr(buf, "\nTgid:\t") + 7) == getpid());
	BOOL("status Threads == 4", read_file("/proc/self/status", buf, sizeof(buf)) > 0 &&
	     strstr(buf, "\nThreads:\t4\n") != NULL);
	snprintf(path, sizeof(path), "/proc/self/task/%d/task", tids[0]);
	BOOL("task/<tid> has no task/", access(path, F_OK) < 0 && errno == ENOENT);

	snprintf(path, sizeof(path), "/proc/%d/status", tids[1]);
	BOOL("/proc/<tid> is reachable", access(path, R_OK) == 0);
	BOOL("/proc/<tid> is not listed", !dir_has("/proc", tids[1], &count));
	BOOL("/proc/<pid> is listed", dir_has("/proc", getpid(), &count));

	/* pthread_setname_np on another thread writes its task/<tid>/comm */
	BOOL("pthread_setname_np", pthread_setname_np(th[2], "conf-worker") == 0);
	char name[32] = "";
	pthread_getname_np(th[2], name, sizeof(name));
	printf("thread name: %s\n", name);
	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", tids[2]);
	read_file(path, buf, sizeof(buf));
	printf("task/<tid>/comm: %s", buf);
	read_file("/proc/self/comm", buf, sizeof(buf));
	BOOL("process comm unchanged", strcmp(buf, "conf-worker\n") != 0);
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tids[2]);
	BOOL("task/<tid>/stat shows the thread's name", read_file(path, buf, sizeof(buf)) > 0 && strstr(buf, "(conf-worker)") != NULL);

	pthread_barrier_wait(&finish);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	/* pthread_join returns once the tid word is cleared, which Linux does a little before
	 * the thread is released: wait (bounded) for it to go. */
	int gone = 0;
	for (int i = 0; i < 200 && !gone; i++) {
		gone = !dir_has("/proc/self/task", tids[0], &count) && count == 1;
		if (!gone)
			usleep(10000);
	}
	BOOL("task/ shrinks after join", gone);
	snprintf(path, sizeof(path), "/proc/self/task/%d", tids[0]);
	BOOL("task/<joined tid> is gone", access(path, F_OK) < 0 && errno == ENOENT);
	return 0;
}
