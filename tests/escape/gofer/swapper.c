/* Host side of symlink_swap.sh: swaps PREFIX-I with PREFIX-I.link (a directory and a
 * symlink) in DIR for I in [0, PAIRS), for every PREFIX, with RENAME_EXCHANGE, over and
 * over until killed. Each swap is atomic, so at any moment a name is either the real
 * directory or the link. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char a[64], b[64];
	int dir, pairs;

	if (argc < 4 || (pairs = atoi(argv[2])) <= 0) {
		fprintf(stderr, "usage: %s DIR PAIRS PREFIX...\n", argv[0]);
		return 2;
	}
	dir = open(argv[1], O_PATH | O_DIRECTORY);
	if (dir < 0) {
		perror(argv[1]);
		return 1;
	}
	printf("swapping\n");
	fflush(stdout);
	for (;;)
		for (int i = 0; i < pairs; i++)
			for (int p = 3; p < argc; p++) {
				snprintf(a, sizeof(a), "%s-%d", argv[p], i);
				snprintf(b, sizeof(b), "%s-%d.link", argv[p], i);
				if (renameat2(dir, a, dir, b, RENAME_EXCHANGE) < 0) {
					perror("renameat2");
					return 1;
				}
			}
}
