/* Shared helpers for the escape tests. Each test tries something a hostile guest would and
 * prints "ESCAPE-TEST PASS" only if every attempt was stopped; any attempt that got through
 * prints "ESCAPE-TEST FAIL: ..." and the program exits 1.
 *
 * Arguments from run_escape.sh: argv[1] a host secret file under $HOME, argv[2] a secret file
 * next to the exported test directory, argv[3] the host pid of a sacrificial process. */
#ifndef WARD_ESCAPE_H
#define WARD_ESCAPE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int esc_failures;

#define ESC_FAIL(...)                                   \
	do {                                            \
		printf("ESCAPE-TEST FAIL: " __VA_ARGS__); \
		printf("\n");                           \
		fflush(stdout);                         \
		esc_failures++;                         \
	} while (0)

#define ESC_NOTE(...)                   \
	do {                            \
		printf("note: " __VA_ARGS__); \
		printf("\n");           \
		fflush(stdout);         \
	} while (0)

static inline const char *esc_errname(long e)
{
	const char *n = strerrorname_np((int)e);

	return n ? n : "E?";
}

/* Raw syscall instruction: no libc wrapper, no errno. Returns the kernel's value (-errno). */
static inline long esc_syscall6(long nr, long a, long b, long c, long d, long e, long f)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#define esc_syscall(nr, a, b, c) esc_syscall6((nr), (long)(a), (long)(b), (long)(c), 0, 0, 0)

/* A denial is any error; an open that succeeds is an escape. */
static inline void esc_expect_denied(const char *what, long ret)
{
	if (ret >= 0)
		ESC_FAIL("%s succeeded (ret=%ld)", what, ret);
	else
		printf("%s: denied with %s\n", what, esc_errname(-ret));
}

static inline int esc_finish(void)
{
	if (esc_failures) {
		printf("ESCAPE-TEST FAIL: %d attempt(s) got through\n", esc_failures);
		return 1;
	}
	printf("ESCAPE-TEST PASS\n");
	return 0;
}

#endif
