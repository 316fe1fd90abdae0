#ifndef WARD_SENTRY_CONFINE_H
#define WARD_SENTRY_CONFINE_H

/* Confines the sentry once it is set up: from then on it cannot open a host file, make
 * a socket, exec, or change the host's filesystem; any attempt kills it (SIGSYS). The
 * stubs it forks inherit the same filter. Returns 0 or -errno. */
int sentry_confine(void);

#endif
