/* `ward bench [--quick] [run.sh options]`: runs the benchmark suite of the source tree this
 * binary was built from (bench/run.sh) against this very binary, so a user who built ward
 * can compare it with native, gVisor and PRoot in one command. The suite is a script in the
 * source tree rather than code in ward: it drives other sandboxes and gnuplot, which have
 * no business inside the binary that runs untrusted code. */
#include "tools/cli/cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef WARD_SOURCE_DIR
#error "WARD_SOURCE_DIR must name the source tree (set by CMake)"
#endif
#ifndef WARD_BINARY_DIR
#error "WARD_BINARY_DIR must name the build tree (set by CMake)"
#endif

#define MAX_BENCH_ARGS 256

int cli_bench(int argc, char **argv)
{
	static const char script[] = WARD_SOURCE_DIR "/bench/run.sh";
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n < 0) {
		fprintf(stderr, "ward bench: cannot find this binary: %s\n", strerror(errno));
		return 125;
	}
	self[n] = '\0';
	if (access(script, R_OK) != 0) {
		fprintf(stderr,
			"ward bench: the benchmark suite %s is not there (%s): it runs from the "
			"source tree this binary was built from\n",
			script, strerror(errno));
		return 125;
	}
	if (argc > MAX_BENCH_ARGS) {
		fprintf(stderr, "ward bench: too many arguments\n");
		return 2;
	}
	/* argv[0] is "bench"; the rest goes to run.sh, after the defaults so it can override. */
	char *args[MAX_BENCH_ARGS + 8];
	int k = 0;
	args[k++] = "bash";
	args[k++] = (char *)script;
	args[k++] = "--ward";
	args[k++] = self;
	args[k++] = "--build";
	args[k++] = WARD_BINARY_DIR;
	args[k++] = "--install-missing"; /* as the bench target: runsc, proot, gnuplot if absent (root) */
	for (int i = 1; i < argc; i++)
		args[k++] = argv[i];
	args[k] = NULL;
	execvp("bash", args);
	fprintf(stderr, "ward bench: cannot run bash: %s\n", strerror(errno));
	return 125;
}
