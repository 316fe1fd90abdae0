/* `ward platforms`: the platforms this build has, whether each can run here, and which one
 * `ward run` uses without --platform. */
#include "tools/cli/cli.h"
#include "platform/platform.h"

#include <stdbool.h>
#include <stdio.h>

int cli_platforms(int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: ward platforms\n");
		return 2;
	}
	const char *default_why;
	const struct platform_kind *def = platform_default(&default_why);
	for (size_t i = 0; i < platform_nkinds; i++) {
		const struct platform_kind *k = &platform_kinds[i];
		const char *why = NULL;
		bool ok = !k->available || k->available(&why) == 0;
		printf("%-8s %s%s\n         %s\n", k->name, ok ? "available" : "unavailable: ",
		       ok ? (k == def ? ", default" : "") : why, k->summary);
	}
	printf("default: %s (%s)\n", def->name, default_why);
	return 0;
}
