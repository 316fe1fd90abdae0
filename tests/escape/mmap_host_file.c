/* Mappings of a read-only host file share the sandbox's page cache: no mapping may write
 * into those pages (they are every process's view of the file, and the gofer never gets a
 * write for them). Tries a writable shared mapping, mprotect of a read-only one, stores and
 * read(2) into private mappings, and checks the file still reads back unchanged, in this
 * process and in a new one. The harness checks the host's copy (argv[4], the victim). */
#include "escape.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static char orig[4096];
static ssize_t orig_len;

static void same_as_before(const char *when, const char *path)
{
	char now[4096];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : pread(fd, now, sizeof(now), 0);
	if (n != orig_len || memcmp(now, orig, (size_t)n) != 0)
		ESC_FAIL("the file reads differently %s", when);
	char *m = fd < 0 ? MAP_FAILED : mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED || memcmp(m, orig, (size_t)orig_len) != 0)
		ESC_FAIL("a new mapping shows other bytes %s", when);
	if (m != MAP_FAILED)
		munmap(m, 4096);
	if (fd >= 0)
		close(fd);
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		printf("usage: %s SECRET SIBLING HOSTPID VICTIM\n", argv[0]);
		return 2;
	}
	const char *victim = argv[4];
	int fd = open(victim, O_RDONLY);
	if (fd < 0) {
		ESC_FAIL("cannot open the victim: %s", esc_errname(errno));
		return 1;
	}
	orig_len = pread(fd, orig, sizeof(orig), 0);

	void *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (w != MAP_FAILED) {
		ESC_FAIL("writable MAP_SHARED of a read-only file");
		memcpy(w, "ward-escape", 11);
	} else {
		printf("MAP_SHARED rw: %s\n", esc_errname(errno));
	}
	int rw = open(victim, O_RDWR);
	if (rw >= 0) {
		printf("open O_RDWR: allowed (the read-only export must refuse it)\n");
		ESC_FAIL("opened the exported victim read+write");
		close(rw);
	}

	char *s = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	if (s == MAP_FAILED) {
		ESC_FAIL("read-only MAP_SHARED refused: %s", esc_errname(errno));
	} else if (mprotect(s, 4096, PROT_READ | PROT_WRITE) == 0) {
		ESC_FAIL("mprotect made a shared read-only file mapping writable");
		memcpy(s, "ward-escape", 11);
	} else {
		printf("mprotect shared PROT_WRITE: %s\n", esc_errname(errno));
	}

	/* Private mappings are the cache's pages until written: each store must copy. */
	char *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p != MAP_FAILED && mprotect(p, 4096, PROT_READ | PROT_WRITE) == 0) {
		int z = open("/dev/zero", O_RDONLY);
		if (read(z, p, 8) != 8) /* the sentry writing into those pages */
			printf("read into the private mapping: %s\n", esc_errname(errno));
		close(z);
		same_as_before("after read(2) into a private mapping", victim);
		memcpy(p, "ward-escape-store", 17);
		same_as_before("after a store into a private mapping", victim);
	}
	char *r = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (r != MAP_FAILED) {
		char junk[32];
		memset(junk, 'J', sizeof(junk));
		struct iovec local = {junk, sizeof(junk)}, remote = {r, sizeof(junk)};
		if (process_vm_writev(getpid(), &local, 1, &remote, 1, 0) < 0)
			printf("process_vm_writev: %s\n", esc_errname(errno));
		same_as_before("after process_vm_writev into a private mapping", victim);
	}
	pid_t pid = fork();
	if (pid == 0) {
		if (p != MAP_FAILED)
			p[100] = 'C'; /* the child's store into an inherited private mapping */
		same_as_before("in a child", victim);
		_exit(esc_failures ? 1 : 0);
	}
	int st;
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		ESC_FAIL("the child saw the file changed");
	same_as_before("after the child", victim);

	if (esc_failures)
		return 1;
	printf("ESCAPE-TEST PASS\n");
	return 0;
}
