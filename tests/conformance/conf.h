/* Shared helpers for the differential conformance programs.
 *
 * Every program prints only what is identical natively and in a correct sandbox:
 * return values that do not depend on the host (no pids, addresses, times, inode numbers),
 * errno names, and booleans for relations ("getppid differs from getpid: yes").
 * stdout is line-buffered so that a crash shows exactly how far a program got. */
#ifndef WARD_CONF_H
#define WARD_CONF_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <ftw.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static inline const char *conf_errname(int e)
{
	static char buf[32];
	const char *n;

	if (e == 0)
		return "none";
	n = strerrorname_np(e);
	if (n)
		return n;
	snprintf(buf, sizeof(buf), "E#%d", e);
	return buf;
}

__attribute__((constructor)) static void conf_init_stdout(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
}

/* "label: ret=<r> errno=<NAME>" for a libc call returning -1 and setting errno. */
static inline void conf_report(const char *label, long ret, int err)
{
	printf("%s: ret=%ld errno=%s\n", label, ret, ret < 0 ? conf_errname(err) : "none");
}

/* Same, but a non-negative result is host-specific (a pointer, a size that varies), so it is
 * printed as "ok". */
static inline void conf_report_ok(const char *label, long ret, int err)
{
	if (ret < 0)
		printf("%s: ret=%ld errno=%s\n", label, ret, conf_errname(err));
	else
		printf("%s: ret=ok errno=none\n", label);
}

/* For raw syscalls that return -errno directly (inline asm, no libc). */
static inline void conf_report_raw(const char *label, long ret)
{
	if (ret < 0 && ret >= -4095)
		printf("%s: ret=-1 errno=%s\n", label, conf_errname((int)-ret));
	else
		printf("%s: ret=%ld errno=none\n", label, ret);
}

#define CHECK(label, expr)                                      \
	do {                                                    \
		errno = 0;                                      \
		long conf_r_ = (long)(expr);                    \
		conf_report((label), conf_r_, errno);           \
	} while (0)

#define CHECK_OK(label, expr)                                   \
	do {                                                    \
		errno = 0;                                      \
		long conf_r_ = (long)(expr);                    \
		conf_report_ok((label), conf_r_, errno);        \
	} while (0)

/* For calls returning a pointer or MAP_FAILED. */
#define CHECK_PTR(label, expr)                                            \
	do {                                                              \
		errno = 0;                                                \
		void *conf_p_ = (void *)(expr);                           \
		conf_report_ok((label), conf_p_ == (void *)-1 ? -1L : 0L, \
			       errno);                                    \
	} while (0)

#define BOOL(label, cond) printf("%s: %s\n", (label), (cond) ? "yes" : "no")

#define SAY(...) printf(__VA_ARGS__)

/* FNV-1a: prints file contents as a short deterministic fingerprint. */
static inline uint64_t conf_fnv1a(uint64_t h, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}
#define CONF_FNV_INIT 0xcbf29ce484222325ULL

static char conf_tmp_path[] = "/tmp/wardconf.XXXXXX";
static pid_t conf_tmp_owner;

static int conf_rm_entry(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	remove(p);
	return 0;
}

/* Natively the host's /tmp is shared: leave nothing behind (only the creating process,
 * not forked children that exit normally). */
static void conf_tmpdir_cleanup(void)
{
	if (getpid() == conf_tmp_owner)
		nftw(conf_tmp_path, conf_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh directory under /tmp (the guest's /tmp is an empty tmpfs; the host's is shared,
 * so never print the random part of the name). Removed when the program exits. */
static inline char *conf_tmpdir(void)
{
	if (!mkdtemp(conf_tmp_path)) {
		printf("mkdtemp failed: errno=%s\n", conf_errname(errno));
		exit(99);
	}
	conf_tmp_owner = getpid();
	atexit(conf_tmpdir_cleanup);
	return conf_tmp_path;
}

#endif
