/* The host environment must not reach the guest: run_escape.sh exports WARD_HOST_SECRET (and
 * the host has its own HOME, USER, ...). The guest's environ is the fresh one ward builds:
 * only PATH, HOME=/root, TERM and LANG. Checked through environ, /proc/self/environ and the
 * whole initial stack (where the kernel would have copied a leaked environment). */
#include "escape.h"
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	static const char *allowed[] = { "PATH=", "HOME=", "TERM=", "LANG=" };
	const char *secret = getenv("WARD_HOST_SECRET");

	(void)argc;
	if (secret)
		ESC_FAIL("WARD_HOST_SECRET is in the guest's environment: %s", secret);
	for (char **e = environ; *e; e++) {
		int ok = 0;
		for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
			ok |= strncmp(*e, allowed[i], strlen(allowed[i])) == 0;
		if (!ok)
			ESC_FAIL("unexpected variable in the guest's environment: %.80s", *e);
		else
			printf("env: %.*s\n", (int)(strchr(*e, '=') - *e), *e);
	}
	const char *home = getenv("HOME");
	if (!home || strcmp(home, "/root") != 0)
		ESC_FAIL("HOME is %s, expected /root", home ? home : "(unset)");

	static char buf[1 << 16];
	int fd = open("/proc/self/environ", O_RDONLY);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n > 0 && memmem(buf, (size_t)n, "WARD_HOST_SECRET", 16))
			ESC_FAIL("/proc/self/environ contains WARD_HOST_SECRET");
		else
			printf("/proc/self/environ: clean\n");
		close(fd);
	} else {
		printf("/proc/self/environ: %s\n", esc_errname(errno));
	}

	/* Scan from the argument strings to the top of the stack mapping. */
	uintptr_t lo = (uintptr_t)argv[0], hi = 0;
	FILE *maps = fopen("/proc/self/maps", "r");
	char line[512];
	while (maps && fgets(line, sizeof(line), maps)) {
		unsigned long a, b;
		if (sscanf(line, "%lx-%lx", &a, &b) == 2 && a <= lo && lo < b)
			hi = b;
	}
	if (maps)
		fclose(maps);
	if (hi) {
		if (memmem((void *)lo, hi - lo, "WARD_HOST_SECRET", 16))
			ESC_FAIL("the initial stack holds the string WARD_HOST_SECRET");
		else
			printf("initial stack (%lu bytes above argv[0]): clean\n", (unsigned long)(hi - lo));
	} else {
		ESC_NOTE("stack mapping not found in /proc/self/maps; stack scan skipped");
	}
	return esc_finish();
}
