/* The platforms' fixed addresses, kept free in the sentry's own address space.
 *
 * Every stub has the platform's pages at the same fixed addresses (ptrace/stub_layout.h,
 * seccomp/layout.h), and stubs are forked from the sentry, so the sentry installs the
 * code pages in itself first. Linux almost always leaves that range free: it lies
 * between the lowest start of the randomized stack and the highest randomized mmap base.
 * But the mmap base can lie up to (stack rlimit + 1 MiB + 16 GiB) below the top, a few
 * MiB above STUB_BASE, when its random offset (up to 1 TiB) happens to be that small:
 * the sentry's binary or its memory file then covers the range (seen once in CI, a few
 * sentries in a million). With randomization off (setarch -R, gdb's default) it always
 * does. So the sentry reserves the range before anything else and, if it is taken,
 * starts again with a fresh layout (randomization turned back on for itself). */
#include "platform/fixed_range.h"
#include "platform/ptrace/stub_layout.h"
#include "platform/seccomp/layout.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <unistd.h>

#define RANGE_BASE STUB_BASE
#define RANGE_END (SC_MSG_BASE + (uint64_t)SC_MSG_SLOTS * SC_MSG_SIZE)
/* How many fresh layouts the sentry tries: with randomization on, a second collision in
 * a row is a one-in-10^10 event, so a third attempt means something else holds it. */
#define MAX_ATTEMPTS 3
#define ATTEMPT_VAR "WARD_RELAYOUT"

extern char **environ;

static bool reserved;

int platform_range_reserve(void)
{
	if (reserved)
		return 0;
	void *p = mmap((void *)RANGE_BASE, RANGE_END - RANGE_BASE, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	if (p != (void *)RANGE_BASE) { /* a kernel without MAP_FIXED_NOREPLACE */
		munmap(p, RANGE_END - RANGE_BASE);
		return -EEXIST;
	}
	reserved = true;
	return 0;
}

int platform_range_claim(char **argv)
{
	int err = platform_range_reserve();
	if (err != -EEXIST)
		return err;
	const char *prev = getenv(ATTEMPT_VAR);
	int attempt = prev ? atoi(prev) + 1 : 1;
	if (attempt >= MAX_ATTEMPTS)
		return err;
	int pers = personality(0xffffffff);
	if (pers != -1 && (pers & ADDR_NO_RANDOMIZE))
		personality((unsigned long)pers & ~(unsigned long)ADDR_NO_RANDOMIZE);
	/* The same arguments and environment, and the same descriptors (nothing has been
	 * opened yet), with the attempt counted. */
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = calloc(n + 2, sizeof(*env));
	static char var[64];
	if (!env)
		return -ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], ATTEMPT_VAR "=", sizeof(ATTEMPT_VAR)) != 0)
			env[k++] = environ[i];
	snprintf(var, sizeof(var), ATTEMPT_VAR "=%d", attempt);
	env[k++] = var;
	env[k] = NULL;
	execve("/proc/self/exe", argv, env);
	err = -errno;
	free(env);
	return err;
}

int platform_code_install(uint64_t addr, const void *code, size_t len)
{
	/* Inside the sentry's own reservation the page replaces it; otherwise (a test
	 * without one) it must not replace anything. */
	int fixed = reserved && addr >= RANGE_BASE && addr + len <= RANGE_END ? MAP_FIXED : MAP_FIXED_NOREPLACE;
	void *p = mmap((void *)addr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | fixed, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	if (p != (void *)addr) {
		munmap(p, len);
		return -EEXIST;
	}
	memcpy(p, code, len);
	return mprotect(p, len, PROT_READ | PROT_EXEC) < 0 ? -errno : 0;
}
