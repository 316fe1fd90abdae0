/* fork copies memory: writes in the child to globals, the heap, the stack and MAP_PRIVATE
 * mappings do not reach the parent (and writes in the parent after fork do not reach the
 * child), while MAP_SHARED|MAP_ANONYMOUS memory is shared both ways. File descriptions are
 * shared after fork (offset, status flags), descriptor flags and the table itself are not.
 * The child reports through its exit status and through shared memory; it never prints. */
#include "conf.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int global_var = 1;
static char big_bss[1 << 20];

static int run_child(int (*fn)(void *), void *arg)
{
	int st = -1;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(fn(arg));
	if (waitpid(pid, &st, 0) != pid)
		return -2;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1000 + WTERMSIG(st);
}

struct mem {
	int *heap;
	int *stack;
	char *priv;
	char *shared;
	size_t len;
};

static int child_writes(void *arg)
{
	struct mem *m = arg;
	int bad = 0;

	/* The child first sees the parent's values... */
	if (global_var != 2 || *m->heap != 20 || *m->stack != 200 || m->priv[0] != 'p' ||
	    m->priv[m->len - 1] != 'q' || big_bss[12345] != 7 || m->shared[0] != 's')
		bad |= 1;
	/* ...then overwrites all of them. */
	global_var = 3;
	*m->heap = 30;
	*m->stack = 300;
	memset(m->priv, 'c', m->len);
	memset(big_bss, 9, sizeof(big_bss));
	memset(m->shared, 'C', m->len);
	if (global_var != 3 || *m->heap != 30 || *m->stack != 300 || m->priv[5] != 'c')
		bad |= 2;
	return bad;
}

struct fdarg {
	int fd;
	int pipe_r;
};

static int child_seeks(void *arg)
{
	struct fdarg *a = arg;

	if (lseek(a->fd, 0, SEEK_CUR) != 3)
		return 1;
	if (lseek(a->fd, 7, SEEK_SET) != 7)
		return 2;
	return 0;
}

static int child_reads(void *arg)
{
	struct fdarg *a = arg;
	char buf[2];

	return read(a->fd, buf, 2) == 2 && buf[0] == '7' && buf[1] == '8' ? 0 : 1;
}

static int child_setfl(void *arg)
{
	struct fdarg *a = arg;

	return fcntl(a->fd, F_SETFL, O_APPEND) == 0 ? 0 : 1;
}

static int child_cloexec_close(void *arg)
{
	struct fdarg *a = arg;

	if (fcntl(a->fd, F_SETFD, FD_CLOEXEC) != 0)
		return 1;
	if (close(a->fd) != 0)
		return 2;
	return fcntl(a->fd, F_GETFD) == -1 && errno == EBADF ? 0 : 3;
}

static int child_new_fd(void *arg)
{
	(void)arg;
	/* A descriptor opened by the child does not appear in the parent. */
	return open("/dev/null", O_RDONLY) >= 0 ? 0 : 1;
}

struct parent_late {
	volatile int *shared_flag;
	int *priv_val;
};

static int child_sees_late(void *arg)
{
	struct parent_late *pl = arg;

	/* Wait (bounded) until the parent has written after the fork. */
	for (int i = 0; i < 5000 && !*pl->shared_flag; i++)
		usleep(1000);
	if (!*pl->shared_flag)
		return 2;
	return *pl->priv_val == 100 ? 0 : 1;
}

int main(void)
{
	size_t len = 3 * 4096 + 100;
	int stack_var = 200;
	struct mem m = { .heap = malloc(sizeof(int)), .stack = &stack_var, .len = len };
	int rc;

	SAY("-- private memory is copied\n");
	global_var = 2;
	*m.heap = 20;
	big_bss[12345] = 7;
	CHECK_PTR("mmap MAP_PRIVATE|MAP_ANONYMOUS",
		  m.priv = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	CHECK_PTR("mmap MAP_SHARED|MAP_ANONYMOUS",
		  m.shared = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
	memset(m.priv, 'p', len);
	m.priv[len - 1] = 'q';
	memset(m.shared, 's', len);
	rc = run_child(child_writes, &m);
	printf("child saw the parent's values and its own writes (0 = ok): %d\n", rc);
	printf("parent global=%d heap=%d stack=%d\n", global_var, *m.heap, stack_var);
	int bss_ok = 1;
	for (size_t i = 0; i < sizeof(big_bss); i++)
		if (big_bss[i] != (i == 12345 ? 7 : 0))
			bss_ok = 0;
	BOOL("parent bss unchanged", bss_ok);
	BOOL("parent MAP_PRIVATE unchanged", m.priv[0] == 'p' && m.priv[len - 2] == 'p' && m.priv[len - 1] == 'q');
	int shared_ok = 1;
	for (size_t i = 0; i < len; i++)
		if (m.shared[i] != 'C')
			shared_ok = 0;
	BOOL("parent sees the child's MAP_SHARED writes (all pages)", shared_ok);

	SAY("-- parent writes after fork\n");
	int late_val = 100;
	struct parent_late pl = { .shared_flag = (volatile int *)m.shared, .priv_val = &late_val };
	*(int *)m.shared = 0;
	pid_t pid = fork();
	if (pid == 0)
		_exit(child_sees_late(&pl));
	late_val = 111;
	*pl.shared_flag = 1;
	int st = -1;
	waitpid(pid, &st, 0);
	printf("child's copy unaffected by the parent's later write (0 = ok): %d\n",
	       WIFEXITED(st) ? WEXITSTATUS(st) : -1);

	SAY("-- mprotect'ed and read-only memory is still copied\n");
	char *ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	strcpy(ro, "read-only");
	CHECK("mprotect PROT_READ", mprotect(ro, 4096, PROT_READ));
	pid = fork();
	if (pid == 0) {
		if (strcmp(ro, "read-only") != 0)
			_exit(1);
		if (mprotect(ro, 4096, PROT_READ | PROT_WRITE) != 0)
			_exit(2);
		strcpy(ro, "child");
		_exit(0);
	}
	waitpid(pid, &st, 0);
	printf("child read and wrote its copy (0 = ok): %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	printf("parent copy: %s\n", ro);

	SAY("-- file descriptions are shared\n");
	char *dir = conf_tmpdir();
	char path[256];
	snprintf(path, sizeof(path), "%s/f", dir);
	struct fdarg fa;
	CHECK_OK("open tmp file", fa.fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644));
	CHECK("write", write(fa.fd, "0123456789", 10));
	CHECK("lseek 3", lseek(fa.fd, 3, SEEK_SET));
	printf("child saw offset 3 and moved it to 7 (0 = ok): %d\n", run_child(child_seeks, &fa));
	CHECK("parent offset after child's lseek", lseek(fa.fd, 0, SEEK_CUR));
	printf("child read \"78\" (0 = ok): %d\n", run_child(child_reads, &fa));
	CHECK("parent offset after child's read", lseek(fa.fd, 0, SEEK_CUR));
	printf("child set O_APPEND (0 = ok): %d\n", run_child(child_setfl, &fa));
	BOOL("parent sees O_APPEND", fcntl(fa.fd, F_GETFL) & O_APPEND);
	CHECK("lseek 0", lseek(fa.fd, 0, SEEK_SET));
	CHECK("write appends", write(fa.fd, "AB", 2));
	CHECK("offset after append", lseek(fa.fd, 0, SEEK_CUR));
	printf("child set FD_CLOEXEC and closed its copy (0 = ok): %d\n",
	       run_child(child_cloexec_close, &fa));
	CHECK("parent fd flags", fcntl(fa.fd, F_GETFD));
	char buf[16] = { 0 };
	CHECK("parent pread still works", pread(fa.fd, buf, 12, 0));
	printf("  content: %s\n", buf);
	int before = dup(0);
	close(before);
	printf("child opened /dev/null (0 = ok): %d\n", run_child(child_new_fd, NULL));
	CHECK("lowest free fd in parent unchanged", fcntl(before, F_GETFD));
	close(fa.fd);
	unlink(path);
	CHECK("rmdir", rmdir(dir));
	return 0;
}
