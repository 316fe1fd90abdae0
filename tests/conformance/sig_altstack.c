/* sigaltstack + SA_ONSTACK: the handler runs on the alternate stack and sees SS_ONSTACK;
 * a handler without SA_ONSTACK runs on the normal stack; argument errors. */
#include "conf.h"
#include <signal.h>
#include <stdint.h>

static char *alt;
static size_t alt_size;
static volatile int on_alt, flags_onstack;

static void handler(int sig)
{
	char local;
	stack_t cur;

	(void)sig;
	on_alt = &local >= alt && &local < alt + alt_size;
	sigaltstack(NULL, &cur);
	flags_onstack = (cur.ss_flags & SS_ONSTACK) != 0;
}

int main(void)
{
	stack_t ss, old;

	alt_size = 64 * 1024;
	alt = malloc(alt_size);
	CHECK("query initial", sigaltstack(NULL, &old));
	printf("  initial flags: SS_DISABLE=%s\n", old.ss_flags & SS_DISABLE ? "yes" : "no");
	ss = (stack_t){ .ss_sp = alt, .ss_size = alt_size };
	CHECK("install", sigaltstack(&ss, NULL));
	sigaltstack(NULL, &old);
	BOOL("  reads back", old.ss_sp == alt && old.ss_size == alt_size && old.ss_flags == 0);

	struct sigaction sa = { .sa_handler = handler, .sa_flags = SA_ONSTACK };
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	printf("SA_ONSTACK handler: on alt stack=%s SS_ONSTACK seen=%s\n", on_alt ? "yes" : "no",
	       flags_onstack ? "yes" : "no");
	sa.sa_flags = 0;
	sigaction(SIGUSR2, &sa, NULL);
	raise(SIGUSR2);
	printf("plain handler: on alt stack=%s SS_ONSTACK seen=%s\n", on_alt ? "yes" : "no",
	       flags_onstack ? "yes" : "no");

	ss.ss_size = 1024;
	CHECK("too small", sigaltstack(&ss, NULL));
	ss.ss_size = alt_size;
	ss.ss_flags = 12345;
	CHECK("bad flags", sigaltstack(&ss, NULL));
	ss.ss_flags = SS_DISABLE;
	CHECK("disable", sigaltstack(&ss, NULL));
	sigaltstack(NULL, &old);
	BOOL("  disabled", (old.ss_flags & SS_DISABLE) != 0);
	return 0;
}
