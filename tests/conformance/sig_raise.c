/* sigaction + raise/kill/tgkill/sigqueue: the handler runs before the call returns and
 * SA_SIGINFO reports si_signo, si_code, si_pid, si_uid, si_value; SA_RESETHAND, SA_NODEFER
 * and sa_mask behave; bad arguments fail. */
#include "conf.h"
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile int hits;
static siginfo_t last;
static int usr1_blocked_inside, usr2_blocked_inside;

static const char *code_name(int c)
{
	switch (c) {
	case SI_USER: return "SI_USER";
	case SI_TKILL: return "SI_TKILL";
	case SI_QUEUE: return "SI_QUEUE";
	case SI_KERNEL: return "SI_KERNEL";
	}
	return "other";
}

static void handler(int sig, siginfo_t *si, void *uc)
{
	sigset_t cur;

	(void)sig;
	(void)uc;
	hits++;
	last = *si;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	usr1_blocked_inside = sigismember(&cur, SIGUSR1);
	usr2_blocked_inside = sigismember(&cur, SIGUSR2);
}

static void show(const char *label)
{
	printf("%s: hits=%d signo=%d code=%s pid-is-self=%s uid-is-self=%s", label, hits,
	       last.si_signo, code_name(last.si_code), last.si_pid == getpid() ? "yes" : "no",
	       last.si_uid == getuid() ? "yes" : "no");
	printf(" usr1-blocked-in-handler=%s usr2-blocked-in-handler=%s\n",
	       usr1_blocked_inside ? "yes" : "no", usr2_blocked_inside ? "yes" : "no");
	memset(&last, 0, sizeof(last));
	hits = 0;
}

int main(void)
{
	struct sigaction sa = { .sa_sigaction = handler, .sa_flags = SA_SIGINFO }, old;

	CHECK("sigaction SIGUSR1", sigaction(SIGUSR1, &sa, &old));
	BOOL("  old handler was SIG_DFL", old.sa_handler == SIG_DFL);
	CHECK("raise", raise(SIGUSR1));
	show("  after raise");
	CHECK("kill self", kill(getpid(), SIGUSR1));
	show("  after kill");
	CHECK("tgkill self", syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1));
	show("  after tgkill");
	CHECK("sigqueue self", sigqueue(getpid(), SIGUSR1, (union sigval){ .sival_int = 1234 }));
	printf("  si_value=%d\n", last.si_value.sival_int);
	show("  after sigqueue");

	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	CHECK("sigaction SA_NODEFER, sa_mask={SIGUSR2}", sigaction(SIGUSR1, &sa, &old));
	BOOL("  old handler is ours", old.sa_sigaction == handler && (old.sa_flags & SA_SIGINFO));
	raise(SIGUSR1);
	show("  after raise");
	sigset_t now;
	sigprocmask(SIG_BLOCK, NULL, &now);
	BOOL("  mask restored after handler", !sigismember(&now, SIGUSR1) && !sigismember(&now, SIGUSR2));

	sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	CHECK("sigaction SA_RESETHAND", sigaction(SIGUSR1, &sa, NULL));
	raise(SIGUSR1);
	show("  first raise");
	sigaction(SIGUSR1, NULL, &old);
	BOOL("  handler reset to SIG_DFL", old.sa_handler == SIG_DFL);

	CHECK("SIG_IGN SIGUSR2", sigaction(SIGUSR2, &(struct sigaction){ .sa_handler = SIG_IGN }, NULL));
	CHECK("raise ignored signal", raise(SIGUSR2));
	CHECK("signal() returns previous", signal(SIGUSR2, SIG_DFL) == SIG_IGN ? 0 : -1);
	CHECK("raise SIGCHLD (default ignore)", raise(SIGCHLD));
	CHECK("raise SIGWINCH (default ignore)", raise(SIGWINCH));
	CHECK("kill with signal 0", kill(getpid(), 0));
	CHECK("sigaction SIGKILL", sigaction(SIGKILL, &sa, NULL));
	CHECK("sigaction SIGSTOP", sigaction(SIGSTOP, &sa, NULL));
	CHECK("sigaction signal 0", syscall(SYS_rt_sigaction, 0, NULL, NULL, 8));
	CHECK("sigaction signal 65", syscall(SYS_rt_sigaction, 65, NULL, NULL, 8));
	CHECK("rt_sigaction sigsetsize 4", syscall(SYS_rt_sigaction, SIGUSR1, NULL, &old, 4));
	CHECK("kill bad signal", kill(getpid(), 200));
	CHECK("tgkill wrong tgid", syscall(SYS_tgkill, getpid() + 100000, gettid(), SIGUSR1));
	CHECK("tgkill tid 0", syscall(SYS_tgkill, getpid(), 0, SIGUSR1));
	return 0;
}
