/* Blocked signals stay pending and are delivered when unblocked (before sigprocmask
 * returns); standard signals coalesce, real-time signals queue in order; SIGKILL/SIGSTOP
 * cannot be blocked; sigsuspend; delivery order of several pending signals. */
#include "conf.h"
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

static int order[16], norder;
static int values[16];

static void handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (norder < 16) {
		values[norder] = si->si_code == SI_QUEUE ? si->si_value.sival_int : -1;
		order[norder++] = sig;
	}
}

static void show(const char *label)
{
	printf("%s: delivered=[", label);
	for (int i = 0; i < norder; i++)
	{
		printf(i ? " %d" : "%d", order[i]);
		if (values[i] >= 0)
			printf("/%d", values[i]);
	}
	printf("]\n");
	norder = 0;
}

int main(void)
{
	struct sigaction sa = { .sa_sigaction = handler, .sa_flags = SA_SIGINFO };
	sigset_t set, old, pend;

	sigfillset(&sa.sa_mask); /* handlers never nest: delivery order is observable */
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGRTMIN + 1, &sa, NULL);

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	CHECK("block SIGUSR1", sigprocmask(SIG_BLOCK, &set, &old));
	BOOL("  previous mask empty of SIGUSR1", !sigismember(&old, SIGUSR1));
	raise(SIGUSR1);
	raise(SIGUSR1);
	show("raised twice while blocked");
	sigpending(&pend);
	BOOL("  SIGUSR1 pending", sigismember(&pend, SIGUSR1));
	CHECK("unblock", sigprocmask(SIG_UNBLOCK, &set, NULL));
	show("  after unblock (coalesced)");
	sigpending(&pend);
	BOOL("  nothing pending", !sigismember(&pend, SIGUSR1));

	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (int v = 1; v <= 3; v++)
		sigqueue(getpid(), SIGRTMIN + 1, (union sigval){ .sival_int = v });
	show("rt signal queued 3 times while blocked");
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	printf("  after unblock: count=%d values in order=%s\n", norder,
	       norder == 3 && values[0] == 1 && values[1] == 2 && values[2] == 3 ? "yes" : "no");
	norder = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR2);
	raise(SIGUSR1);
	raise(SIGHUP);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	show("three pending, unblocked at once");

	sigfillset(&set);
	CHECK("block everything", sigprocmask(SIG_SETMASK, &set, NULL));
	sigprocmask(SIG_BLOCK, NULL, &old);
	printf("  SIGKILL blocked=%s SIGSTOP blocked=%s SIGUSR1 blocked=%s\n",
	       sigismember(&old, SIGKILL) ? "yes" : "no", sigismember(&old, SIGSTOP) ? "yes" : "no",
	       sigismember(&old, SIGUSR1) ? "yes" : "no");

	raise(SIGUSR1);
	sigemptyset(&set);
	CHECK("sigsuspend with empty mask", sigsuspend(&set));
	show("  during sigsuspend");
	sigprocmask(SIG_BLOCK, NULL, &old);
	BOOL("  mask back to all blocked", sigismember(&old, SIGUSR1));

	sigemptyset(&set);
	CHECK("sigprocmask bad how", sigprocmask(99, &set, NULL));
	CHECK("rt_sigprocmask sigsetsize 4", syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 4));
	CHECK("rt_sigprocmask bad pointer", syscall(SYS_rt_sigprocmask, SIG_BLOCK, (void *)8, NULL, 8));
	CHECK("unblock all", sigprocmask(SIG_SETMASK, &set, NULL));
	return 0;
}
