/* How guest code runs and traps: the interface both platforms (ptrace, seccomp) implement.
 *
 * The sentry is single-threaded and event driven, so the interface is asynchronous: the
 * sentry resumes any number of contexts, then asks for the next one that stopped. */
#ifndef WARD_PLATFORM_H
#define WARD_PLATFORM_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

/* x86-64 general registers, in the kernel's user_regs_struct layout. */
typedef struct user_regs_struct arch_regs;

/* Maximum size of the xsave area we keep per context (AVX-512 needs ~2.7 KiB). */
#define ARCH_FPSTATE_MAX 4096

struct platform;
struct address_space;
struct context;

enum stop_kind {
	STOP_SYSCALL, /* the guest executed a system call; regs hold it (orig_rax = number) */
	STOP_FAULT,   /* the guest faulted: info holds the siginfo (SIGSEGV, SIGBUS, ...) */
	STOP_GONE,    /* the host thread is gone (killed from outside): the task must die */
	STOP_INTERRUPT, /* stopped because the sentry asked (interrupt()): regs are current */
};

struct stop {
	enum stop_kind kind;
	siginfo_t info;
};

struct platform_ops {
	const char *name;
	/* A fresh, clean stub process: only stub code and (later) guest mappings. */
	int (*new_address_space)(struct platform *p, struct address_space **out);
	void (*release_address_space)(struct address_space *as);
	/* Maps [addr, addr+len) of the stub to the memory file at memfile_off (MAP_SHARED|MAP_FIXED). */
	int (*map)(struct address_space *as, uint64_t addr, uint64_t len, int prot, uint64_t memfile_off);
	int (*unmap)(struct address_space *as, uint64_t addr, uint64_t len);
	int (*protect)(struct address_space *as, uint64_t addr, uint64_t len, int prot);
	/* A new host thread in the stub to run one guest thread. */
	int (*new_context)(struct address_space *as, struct context **out);
	void (*release_context)(struct context *ctx);
	/* Starts running ctx with regs until its next stop. 'cookie' comes back with the stop. */
	int (*resume)(struct context *ctx, const arch_regs *regs);
	/* Waits for the next stop of any context. block=false returns -EAGAIN if none is ready.
	 * On success fills *ctx_out, *regs (the guest registers at the stop) and *stop. */
	int (*wait_stop)(struct platform *p, bool block, struct context **ctx_out, arch_regs *regs,
			 struct stop *stop);
	/* The host fd that becomes readable when a stop may be ready (for the event loop's epoll). */
	int (*event_fd)(struct platform *p);
	/* FPU/xsave state of a stopped context. Returns the size stored, or -errno. */
	long (*get_fpstate)(struct context *ctx, void *buf, size_t len);
	int (*set_fpstate)(struct context *ctx, const void *buf, size_t len);
	/* Makes a context that is running guest code come back to the sentry soon with
	 * STOP_INTERRUPT (to deliver a signal, stop or kill it). Harmless if it is not
	 * running: the next stop after a resume may then be a spurious STOP_INTERRUPT. */
	int (*interrupt)(struct context *ctx);
	/* Gives the opaque pointer the sentry associates with ctx (its task). */
	void (*set_owner)(struct context *ctx, void *owner);
	void *(*owner)(struct context *ctx);
	/* CPU time the host has spent running this address space's threads, user and
	 * user+system, in ns (getrusage, CLOCK_PROCESS_CPUTIME_ID). */
	int (*cpu_time)(struct address_space *as, uint64_t *user_ns, uint64_t *total_ns);
	/* Size of the xsave area of this CPU (what a signal frame must hold). */
	size_t (*fpstate_size)(struct platform *p);
	/* Syscall patching (sentry/kernel/syscall_patch.c), optional: where a patched
	 * site's thunk jumps, with eax = the syscall number and rcx = the return address
	 * (0 = this platform cannot take them), and whether another thread of ctx's address
	 * space may be running guest code (code must not change under it). */
	uint64_t (*patch_entry)(struct platform *p);
	bool (*others_running)(struct context *ctx);
};

struct platform {
	const struct platform_ops *ops;
	int memfd; /* the memory file, as the stubs see it */
};

/* Pages of the memory file for the platform's own use (areas shared between the sentry
 * and a stub), handed out by the sentry's allocator: zeroed, page-aligned. */
struct platform_memory {
	/* The file they come from, apart from the memory file: the platform's own pages
	 * (what the stubs run and are confined by) are never in a file the gofer writes. */
	int fd;
	void *opaque;
	/* 0 with *off (memory-file offset) and *ptr (the sentry's view), or -errno. */
	int (*alloc)(void *opaque, uint64_t len, uint64_t *off, void **ptr);
	void (*free)(void *opaque, uint64_t off, uint64_t len);
};

/* Creates the ptrace platform. memfd is the memory file every stub maps from; mem gives
 * pages of it. Call before the sentry confines itself (it forks the stub factory). */
int ptrace_platform_create(int memfd, const struct platform_memory *mem, struct platform **out);

/* Creates the seccomp-trap platform (platform/seccomp). Same contract as ptrace's. */
int seccomp_platform_create(int memfd, const struct platform_memory *mem, struct platform **out);
/* 0 if this host can run the seccomp platform, else -ENOSYS and *why says why not. */
int seccomp_platform_available(const char **why);

/* The platforms this build has, by name (platform/platforms.c). */
struct platform_kind {
	const char *name;
	const char *summary;
	int (*create)(int memfd, const struct platform_memory *mem, struct platform **out);
	/* 0 if usable here; else -errno with *why set. NULL: always usable. */
	int (*available)(const char **why);
};
extern const struct platform_kind platform_kinds[];
extern const size_t platform_nkinds;
const struct platform_kind *platform_kind_by_name(const char *name);
/* The platform `ward run` uses without --platform, and why (a sentence). */
const struct platform_kind *platform_default(const char **why);

/* CPU time of host process pid (a stub), user and user+system, in ns. */
int platform_process_cpu_time(pid_t pid, uint64_t *user_ns, uint64_t *total_ns);

#endif
