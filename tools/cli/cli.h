#ifndef WARD_TOOLS_CLI_H
#define WARD_TOOLS_CLI_H

/* `ward run`: starts a sandbox (gofer + sentry) and waits for it. Returns the exit status. */
int cli_run(int argc, char **argv);
/* `ward bench`: runs the source tree's benchmark suite (bench/run.sh) on this binary. */
int cli_bench(int argc, char **argv);

/* `ward platforms`: lists the platforms and says which is the default here, and why. */
int cli_platforms(int argc, char **argv);

#endif
