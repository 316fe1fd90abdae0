/* The i386 system call gate, `int $0x80`, from a 64-bit process: eax=20 (i386 getpid) and
 * eax=5 (i386 open) of the host secret. ward must not let the host kernel run these. The
 * acceptable outcomes are an error return, the virtual pid 1 for getpid, or the process being
 * killed by a signal (SIGSYS/SIGKILL/SIGSEGV; the harness accepts that). A successful open
 * is an escape. The 64-bit argument registers hold harmless values (-1) so that a sentry
 * which misreads the call as a 64-bit syscall (5 = fstat, 20 = writev) gets EBADF. */
#include "escape.h"
#include <stdint.h>
#include <sys/mman.h>

static long int80(long eax, long ebx, long ecx, long edx)
{
	long ret;

	__asm__ volatile("mov $-1, %%rdi\n\t"
			 "mov $-1, %%rsi\n\t"
			 "int $0x80"
			 : "=a"(ret)
			 : "a"(eax), "b"(ebx), "c"(ecx), "d"(edx)
			 : "rdi", "rsi", "r8", "r9", "r10", "r11", "memory");
	return ret;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		printf("usage: %s SECRET\n", argv[0]);
		return 2;
	}
	/* i386 calls take 32-bit pointers: put the path below 4 GiB. */
	char *low = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (low == MAP_FAILED) {
		ESC_NOTE("MAP_32BIT mmap failed (%s); using the static data segment", esc_errname(errno));
		static char fallback[4096];
		low = fallback;
	}
	snprintf(low, 4096, "%s", argv[1]);
	printf("trying int $0x80 getpid\n");
	fflush(stdout);
	long pid = int80(20, 0, 0, 0);
	if (pid == 1)
		printf("int80 getpid: virtual pid 1\n");
	else if (pid < 0 && pid >= -4095)
		printf("int80 getpid: error %s\n", esc_errname(-pid));
	else
		ESC_FAIL("int80 getpid returned %ld (a host pid?)", pid);

	printf("trying int $0x80 open of the secret\n");
	fflush(stdout);
	long fd = int80(5, (long)(uintptr_t)low, 0 /* O_RDONLY */, 0);
	if (fd >= 0) {
		char buf[64];
		long n = int80(3, fd, (long)(uintptr_t)low, 64); /* i386 read into the low buffer */
		(void)buf;
		ESC_FAIL("int80 open of %s returned %ld (read returned %ld)", argv[1], fd, n);
	} else {
		printf("int80 open: error %s\n", esc_errname(-fd));
	}
	return esc_finish();
}
