/* The process starts with exactly the environment and arguments it was given: the harness
 * runs natively with env -i PATH HOME TERM LANG, and ward gives the guest a fresh environment
 * with those four (from ward's own, equally clean, environment). */
#include "conf.h"
#include <limits.h>
#include <unistd.h>

extern char **environ;

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	int n = 0;

	while (environ[n])
		n++;
	char **sorted = calloc((size_t)n + 1, sizeof(char *));
	memcpy(sorted, environ, (size_t)n * sizeof(char *));
	qsort(sorted, (size_t)n, sizeof(char *), cmp);
	printf("environ (%d entries, sorted):\n", n);
	for (int i = 0; i < n; i++)
		printf("  %s\n", sorted[i]);
	printf("argc=%d\n", argc);
	BOOL("argv[0] is absolute", argv[0][0] == '/');
	BOOL("argv[argc] is NULL", argv[argc] == NULL);
	BOOL("environ follows argv on the stack", (char **)environ == argv + argc + 1);
	return 0;
}
