/* arch_prctl: ARCH_GET_FS returns the thread pointer that TLS accesses use; ARCH_SET_FS to a
 * new block changes what %fs:0 reads; bad codes fail. */
#include "conf.h"
#include <asm/prctl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

static __thread int tls_var = 5;

static uintptr_t fs_self(void)
{
	uintptr_t v;

	__asm__ volatile("mov %%fs:0, %0" : "=r"(v));
	return v;
}

static void *thread_fs(void *arg)
{
	uintptr_t fs = 0;

	(void)arg;
	syscall(SYS_arch_prctl, ARCH_GET_FS, &fs);
	return (void *)(fs == fs_self() && fs == (uintptr_t)__builtin_thread_pointer() ? 1L : 0L);
}

int main(void)
{
	uintptr_t fs = 0, gs = 1;

	CHECK("ARCH_GET_FS", syscall(SYS_arch_prctl, ARCH_GET_FS, &fs));
	BOOL("  equals %fs:0 (TCB self pointer)", fs == fs_self());
	BOOL("  equals __builtin_thread_pointer", fs == (uintptr_t)__builtin_thread_pointer());
	BOOL("  TLS variable lies below it", (uintptr_t)&tls_var < fs && fs - (uintptr_t)&tls_var < 65536);
	CHECK("ARCH_GET_GS", syscall(SYS_arch_prctl, ARCH_GET_GS, &gs));
	printf("  gs=%llu\n", (unsigned long long)gs);

	/* Swap in a fake TCB whose self pointer is itself, read it, then restore. */
	static uintptr_t fake[8];
	fake[0] = (uintptr_t)fake;
	fake[1] = 0x1234;
	/* Keep the stack-protector canary (%fs:0x28) and pointer guard (%fs:0x30) valid. */
	__asm__ volatile("mov %%fs:0x28, %0" : "=r"(fake[5]));
	__asm__ volatile("mov %%fs:0x30, %0" : "=r"(fake[6]));
	long rc = syscall(SYS_arch_prctl, ARCH_SET_FS, fake);
	uintptr_t seen0 = fs_self(), seen1;
	__asm__ volatile("mov %%fs:8, %0" : "=r"(seen1));
	long rc2 = syscall(SYS_arch_prctl, ARCH_SET_FS, fs);
	printf("ARCH_SET_FS fake: ret=%ld fs:0-is-fake=%s fs:8=%#llx\n", rc, seen0 == (uintptr_t)fake ? "yes" : "no",
	       (unsigned long long)seen1);
	printf("ARCH_SET_FS restore: ret=%ld\n", rc2);
	BOOL("  TLS works again", tls_var == 5);

	pthread_t t;
	void *ok;
	pthread_create(&t, NULL, thread_fs, NULL);
	pthread_join(t, &ok);
	BOOL("thread's ARCH_GET_FS matches its own TCB", ok != NULL);
	CHECK("ARCH_SET_FS non-canonical", syscall(SYS_arch_prctl, ARCH_SET_FS, 0x8000000000000000UL));
	CHECK("ARCH_GET_FS bad pointer", syscall(SYS_arch_prctl, ARCH_GET_FS, (void *)8));
	CHECK("unknown code", syscall(SYS_arch_prctl, 0x9999, &fs));
	return 0;
}
