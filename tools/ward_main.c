/* ward: one binary, several roles (as runsc): `ward run` is the control plane the user
 * runs; `ward boot` (the sentry) and `ward gofer` are started by it. */
#include "gofer/net_gofer.h"
#include "gofer/server.h"
#include "platform/fixed_range.h"
#include "sentry/boot.h"
#include "tools/cli/cli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifdef __SANITIZE_ADDRESS__
/* The sentry keeps its kernel (dentry cache, tasks) until it exits and lets the exit
 * free it, so LeakSanitizer would report all of it at every run and change the exit
 * status the tests check. Leaks in the modules are caught by their unit tests. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}
#endif

static int usage(FILE *out)
{
	fprintf(out, "usage: ward run [OPTIONS] -- COMMAND [ARGS...]\n"
		     "       ward platforms\n"
		     "       ward bench [--quick] [bench/run.sh OPTIONS]\n"
		     "       ward help\n"
		     "Run 'ward run --help' for the options.\n");
	return out == stderr ? 2 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr);
	const char *role = argv[1];
	if (strcmp(role, "run") == 0)
		return cli_run(argc - 1, argv + 1);
	if (strcmp(role, "bench") == 0)
		return cli_bench(argc - 1, argv + 1);
	if (strcmp(role, "platforms") == 0)
		return cli_platforms(argc - 1, argv + 1);
	if (strcmp(role, "boot") == 0) {
		/* First of all: nothing may be mapped yet where the platform's pages go. */
		int err = platform_range_claim(argv);
		if (err < 0) {
			fprintf(stderr, "ward: the platform's fixed addresses are taken in the sentry: %s\n",
				strerror(-err));
			return 125;
		}
		return sentry_main(argc - 1, argv + 1);
	}
	if (strcmp(role, "netgofer") == 0)
		return net_gofer_main(argc - 1, argv + 1);
	if (strcmp(role, "gofer") == 0)
		_exit(gofer_main(argc - 1, argv + 1)); /* no stdio flush: its seccomp forbids write */
	if (strcmp(role, "help") == 0 || strcmp(role, "--help") == 0 || strcmp(role, "-h") == 0)
		return usage(stdout);
	fprintf(stderr, "ward: unknown command '%s'\n", role);
	return usage(stderr);
}
