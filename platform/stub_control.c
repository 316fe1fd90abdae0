/* The control thread of a stub process: running host syscalls and queued address-space
 * operations on it, making stubs (the factory, and forks of it), keeping stub threads on
 * the sentry's CPU. Shared by the ptrace and seccomp platforms (see stub_control.h). */
#include "platform/stub_control.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int stub_wait_tid(pid_t tid, int *status)
{
	for (;;) {
		pid_t r = waitpid(tid, status, __WALL);
		if (r == tid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

void stub_reap(pid_t tid)
{
	int status;
	while (waitpid(tid, &status, __WALL) == tid && WIFSTOPPED(status))
		;
}

void stub_kill_and_reap(pid_t pid)
{
	kill(pid, SIGKILL);
	stub_reap(pid);
}

long stub_run_control(struct stub_control *c, arch_regs *r, pid_t *new_tid)
{
	int status;
	if (c->dead)
		return -ESRCH;
	if (ptrace(PTRACE_SETREGS, c->pid, 0, r) < 0 || ptrace(PTRACE_CONT, c->pid, 0, 0) < 0)
		return -errno;
	for (;;) {
		int err = stub_wait_tid(c->pid, &status);
		if (err < 0)
			return err;
		if (!WIFSTOPPED(status)) {
			c->dead = true;
			return -ECHILD;
		}
		int event = status >> 16;
		if (event == PTRACE_EVENT_CLONE || event == PTRACE_EVENT_FORK) {
			unsigned long msg = 0;
			ptrace(PTRACE_GETEVENTMSG, c->pid, 0, &msg);
			if (new_tid)
				*new_tid = (pid_t)msg;
			ptrace(PTRACE_CONT, c->pid, 0, 0);
			continue;
		}
		if (event == 0 && WSTOPSIG(status) == SIGTRAP)
			break;
		siginfo_t si;
		if (event == 0 && ptrace(PTRACE_GETSIGINFO, c->pid, 0, &si) == 0 && si.si_code > 0)
			return -EFAULT; /* the control thread itself faulted: its state is broken */
		ptrace(PTRACE_CONT, c->pid, 0, 0); /* a stray signal from outside: discard it */
	}
	if (ptrace(PTRACE_GETREGS, c->pid, 0, r) < 0)
		return -errno;
	return 0;
}

int stub_run_batch(struct stub_control *c)
{
	uint64_t count = c->batch->count;
	arch_regs r = c->regs;
	r.rip = stub_addr(ward_stub_batch);
	r.orig_rax = (uint64_t)-1;
	long err = stub_run_control(c, &r, NULL);
	c->batch->count = 0;
	if (err < 0)
		return (int)err;
	/* r14 counts the operations that succeeded; rax is the first failure's result. */
	if (r.r14 != count)
		return (long)r.rax < 0 && (long)r.rax > -4096 ? (int)r.rax : -EFAULT;
	return 0;
}

long stub_control_syscall_at(struct stub_control *c, uint64_t at, long nr, uint64_t a0, uint64_t a1,
			     uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, pid_t *new_tid)
{
	int err = stub_flush_batch(c);
	if (err < 0)
		return err;
	arch_regs r = c->regs;
	r.rip = at;
	r.rax = (uint64_t)nr;
	r.orig_rax = (uint64_t)-1;
	r.rdi = a0;
	r.rsi = a1;
	r.rdx = a2;
	r.r10 = a3;
	r.r8 = a4;
	r.r9 = a5;
	long e = stub_run_control(c, &r, new_tid);
	return e < 0 ? e : (long)r.rax;
}

long stub_op(struct stub_control *c, long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
	     uint64_t a4, uint64_t a5)
{
	if (!c->batch || c->nrunning > 0)
		return stub_control_syscall(c, nr, a0, a1, a2, a3, a4, a5, NULL);
	if (c->batch->count == STUB_BATCH_OPS) {
		int err = stub_run_batch(c);
		if (err < 0)
			return err;
	}
	c->batch->ops[c->batch->count++] = (struct stub_batch_op){(uint64_t)nr, {a0, a1, a2, a3, a4, a5}};
	return 0;
}

/* MAP_SHARED | MAP_FIXED of the stub's file descriptor fd (0 also when queued). */
static int map_shared(struct stub_control *c, int fd, uint64_t addr, uint64_t len, int prot, uint64_t off)
{
	long r = stub_op(c, SYS_mmap, addr, len, (uint64_t)prot, MAP_SHARED | MAP_FIXED, (uint64_t)fd, off);
	if (r < 0 && r > -4096)
		return (int)r;
	return r == 0 || r == (long)addr ? 0 : -EFAULT;
}

int stub_map_platform_file(struct stub_control *c, uint64_t addr, uint64_t len, int prot, uint64_t off)
{
	return map_shared(c, STUB_PLATFD, addr, len, prot, off);
}

void stub_child_fds(const int from[], const int to[], int n)
{
	int tmp[8];
	if (n > 8)
		_exit(1);
	/* Out of the way first, so that no move clobbers a descriptor still to move. */
	for (int i = 0; i < n; i++)
		if ((tmp[i] = fcntl(from[i], F_DUPFD_CLOEXEC, 16)) < 0)
			_exit(1);
	for (int i = 0; i < n; i++)
		if (dup2(tmp[i], to[i]) < 0)
			_exit(1);
	/* Everything else goes: the targets are few and small. */
	int top = 0;
	for (int i = 0; i < n; i++)
		top = to[i] > top ? to[i] : top;
	for (int fd = 0; fd < top; fd++) {
		bool kept = false;
		for (int i = 0; i < n; i++)
			kept |= to[i] == fd;
		if (!kept)
			close(fd);
	}
	syscall(SYS_close_range, top + 1, ~0u, 0);
}

int stub_map_memfile(struct stub_control *c, uint64_t addr, uint64_t len, int prot, uint64_t off)
{
	return map_shared(c, STUB_MEMFD, addr, len, prot, off);
}

void stub_bind_to_sentry_cpu(pid_t tid, int *cpu)
{
	int now = sched_getcpu();
	if (now < 0 || now == *cpu)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(now, &set);
	if (sched_setaffinity(tid, sizeof(set), &set) == 0)
		*cpu = now;
}

void stub_child_detach(pid_t parent, bool own_session)
{
	sigset_t none;
	if (own_session)
		setsid();
	else
		setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	signal(SIGCHLD, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

void stub_child_trace_me(void)
{
	if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0)
		_exit(1);
	/* glibc registered an rseq area in the sentry's TLS, which is about to be unmapped:
	 * the kernel would fault writing to it on the next return to user mode. */
	if (__rseq_size > 0) {
		/* It must be named with the length it was registered with: glibc uses 32
		 * (its area's size) while __rseq_size reports the feature size. */
		void *area = (char *)__builtin_thread_pointer() + __rseq_offset;
		if (syscall(SYS_rseq, area, 32, 1 /* RSEQ_FLAG_UNREGISTER */, RSEQ_SIG) < 0 &&
		    syscall(SYS_rseq, area, __rseq_size, 1, RSEQ_SIG) < 0 && errno != EINVAL)
			_exit(1);
	}
}

void stub_child_confine(const struct sock_fprog *f)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(1);
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, f) < 0)
		_exit(1);
}

int stub_factory_fork(void (*child)(void *arg, pid_t parent), void *arg, struct stub_control *out)
{
	int status, err;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		child(arg, parent);
		_exit(1);
	}
	*out = (struct stub_control){.pid = pid};
	/* The child stops at the int3 after unmapping everything but the stub. */
	err = stub_wait_tid(pid, &status);
	if (err < 0 || !WIFSTOPPED(status) || WSTOPSIG(status) != SIGTRAP) {
		stub_kill_and_reap(pid);
		return err < 0 ? err : -ECHILD;
	}
	if (ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_EXITKILL | PTRACE_O_TRACEFORK) < 0 ||
	    ptrace(PTRACE_GETREGS, pid, 0, &out->regs) < 0) {
		err = -errno;
		stub_kill_and_reap(pid);
		return err;
	}
	return 0;
}

int stub_fork(struct stub_control *factory, const struct platform_memory *mem, long options,
	      struct stub_control *out)
{
	int status, err;
	uint64_t batch_off;
	void *batch;
	err = mem->alloc(mem->opaque, STUB_BATCH_SIZE, &batch_off, &batch);
	if (err < 0)
		return err;
	pid_t pid = 0;
	long r = stub_control_syscall(factory, SYS_fork, 0, 0, 0, 0, 0, 0, &pid);
	if (r < 0 || pid <= 0) {
		mem->free(mem->opaque, batch_off, STUB_BATCH_SIZE);
		return r < 0 ? (int)r : -ECHILD;
	}
	*out = (struct stub_control){.pid = pid, .batch_off = batch_off};
	err = stub_wait_tid(pid, &status);
	if (err < 0 || !WIFSTOPPED(status))
		goto fail;
	if (ptrace(PTRACE_SETOPTIONS, pid, 0, options) < 0 ||
	    ptrace(PTRACE_GETREGS, pid, 0, &out->regs) < 0) {
		err = -errno;
		goto fail;
	}
	r = stub_control_syscall(out, SYS_mmap, STUB_BATCH, STUB_BATCH_SIZE, PROT_READ,
				 MAP_SHARED | MAP_FIXED, STUB_PLATFD, batch_off, NULL);
	if (r != (long)STUB_BATCH) {
		err = r < 0 ? (int)r : -EFAULT;
		goto fail;
	}
	out->batch = batch;
	return 0;
fail:
	stub_kill_and_reap(pid);
	mem->free(mem->opaque, batch_off, STUB_BATCH_SIZE);
	return err < 0 ? err : -ECHILD;
}
