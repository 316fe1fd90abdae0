#ifndef WARD_SENTRY_BOOT_H
#define WARD_SENTRY_BOOT_H

/* Entry of the internal role `ward boot`. Returns the process exit status. */
int sentry_main(int argc, char **argv);

#endif
