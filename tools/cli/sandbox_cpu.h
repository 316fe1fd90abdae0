#ifndef WARD_TOOLS_SANDBOX_CPU_H
#define WARD_TOOLS_SANDBOX_CPU_H

#include <stddef.h>

#define SANDBOX_CPU_AUTO (-1) /* one core, chosen at start (the default) */
#define SANDBOX_CPU_ALL (-2)  /* no binding: the CPUs ward was started with */

/* `--cpu auto|all|N` to one of the above or a CPU number; -1 if malformed. */
int sandbox_cpu_parse(const char *arg, int *cpu);

/* Binds this process (and so every process of the sandbox it starts) to the chosen CPU.
 * -1 with a reason if the binding asked for cannot be made. */
int sandbox_cpu_apply(int cpu, char *why, size_t whylen);

#endif
