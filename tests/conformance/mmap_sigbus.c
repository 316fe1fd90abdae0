/* A file mapping longer than the file: the last partial page reads zeros past EOF, an
 * access to a page wholly past EOF raises SIGBUS (BUS_ADRERR, si_addr the address), the
 * file growing makes the page accessible, shrinking takes it away again. Shared and
 * private mappings, a file in the cwd (under ward: the workspace) and one in /tmp. */
#include "conf.h"
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>

static sigjmp_buf env;
static volatile siginfo_t got;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	got = *si;
	siglongjmp(env, 1);
}

static const char *code_name(int sig, int code)
{
	if (sig == SIGBUS)
		return code == BUS_ADRERR ? "BUS_ADRERR" : code == BUS_ADRALN ? "BUS_ADRALN" : code == BUS_OBJERR ? "BUS_OBJERR" : "other";
	if (sig == SIGSEGV)
		return code == SEGV_MAPERR ? "SEGV_MAPERR" : code == SEGV_ACCERR ? "SEGV_ACCERR" : "other";
	return "-";
}

/* Touches p (read or write) and says what happened. */
static void touch(const char *label, volatile char *p, int write)
{
	memset((void *)&got, 0, sizeof(got));
	if (sigsetjmp(env, 1) == 0) {
		char c = 0;
		if (write)
			*p = 'w';
		else
			c = *p;
		printf("%s: ok (%d)\n", label, c);
		return;
	}
	printf("%s: %s %s, si_addr is the address: %s\n", label, strsignal(got.si_signo),
	       code_name(got.si_signo, got.si_code), got.si_addr == (void *)p ? "yes" : "no");
}

static void run(const char *dir, size_t pg)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/mmap-sigbus", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	char *buf = malloc(pg + pg / 2);
	memset(buf, 'f', pg + pg / 2);
	write(fd, buf, pg + pg / 2); /* 1.5 pages */

	for (int shared = 1; shared >= 0; shared--) {
		SAY("-- %s\n", shared ? "MAP_SHARED" : "MAP_PRIVATE");
		ftruncate(fd, (off_t)(pg + pg / 2));
		char *m = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, shared ? MAP_SHARED : MAP_PRIVATE, fd, 0);
		CHECK_PTR("mmap 4 pages of a 1.5-page file", m);
		touch("read page 0", m + 5, 0);
		touch("read in the last page before EOF", m + pg + 10, 0);
		touch("read in the last page past EOF", m + pg + pg / 2 + 10, 0);
		touch("write in the last page past EOF", m + 2 * pg - 1, 1);
		touch("read page 2 (past EOF)", m + 2 * pg + 123, 0);
		touch("write page 3 (past EOF)", m + 3 * pg + 7, 1);
		CHECK("ftruncate to 3 pages", ftruncate(fd, (off_t)(3 * pg)));
		touch("read page 2 after growing", m + 2 * pg + 123, 0);
		touch("write page 2 after growing", m + 2 * pg + 124, 1);
		touch("read page 3 still past EOF", m + 3 * pg, 0);
		CHECK("ftruncate to 1 page", ftruncate(fd, (off_t)pg));
		touch("read page 0 after shrinking", m + 5, 0);
		touch("read page 1 after shrinking", m + pg + 10, 0);
		touch("write page 2 after shrinking", m + 2 * pg, 1);
		CHECK("mprotect PROT_NONE", mprotect(m, 4 * pg, PROT_NONE));
		touch("read page 0, PROT_NONE", m + 5, 0);
		CHECK("mprotect PROT_READ", mprotect(m, 4 * pg, PROT_READ));
		touch("read page 0, PROT_READ again", m + 5, 0);
		touch("read page 2, PROT_READ, past EOF", m + 2 * pg, 0);
		munmap(m, 4 * pg);
	}
	/* The kernel reading or writing such pages for a syscall: EFAULT. */
	ftruncate(fd, (off_t)(pg + 100));
	char *k = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int pfd[2], zero = open("/dev/zero", O_RDONLY);
	pipe(pfd);
	CHECK("write(2) to a pipe from a page past EOF", write(pfd[1], k + 2 * pg, 16));
	CHECK("read(2) into a page past EOF", read(zero, k + 2 * pg, 16));
	CHECK("write(2) to a pipe from the partial last page", write(pfd[1], k + pg + 8, 16));
	CHECK("open(2) of a path in a page past EOF", open(k + 2 * pg, O_RDONLY));
	close(pfd[0]);
	close(pfd[1]);
	close(zero);
	munmap(k, 3 * pg);
	/* A mapping made wholly past EOF. */
	char *m = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, (off_t)(4 * pg));
	CHECK_PTR("mmap one page at offset 4 pages", m);
	touch("read it", m, 0);
	pwrite(fd, "x", 1, (off_t)(4 * pg + 9));
	touch("read it after a write extends the file", m + 9, 0);
	munmap(m, pg);
	close(fd);
	unlink(path);
	free(buf);
}

int main(void)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	struct sigaction sa = {0};
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	SAY("== file in the cwd\n");
	run(".", pg);
	SAY("== file in /tmp\n");
	run(conf_tmpdir(), pg);
	return 0;
}
