/* Guest for symlink_swap.sh: reads sub-I/shadow and sub2-I/secret in the workspace for
 * every I while the host keeps swapping each sub-I for a symlink to /etc and each
 * sub2-I for a symlink to a host directory that is not exported. Every name is looked
 * up once (the sentry caches what it found), so each read is a fresh walk through the
 * gofer racing the swaps. Every read must give the marker (the real directory's file)
 * or fail: the shadow behind /etc is denied, the other directory is not in the
 * sandbox. Anything else is a host file read through a symlink the gofer followed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


struct tally {
	long marker, errors[4096];
};

static int check(const char *path, const char *marker, struct tally *t)
{
	char buf[4096];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0) {
		t->errors[errno < 4096 ? errno : 0]++;
		return 0;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0) {
		t->errors[errno < 4096 ? errno : 0]++;
		return 0;
	}
	if ((size_t)n == strlen(marker) && memcmp(buf, marker, (size_t)n) == 0) {
		t->marker++;
		return 0;
	}
	printf("ESCAPE-TEST FAIL: %s gave %zd bytes that are not the marker\n", path, n);
	return 1;
}

static void report(const char *path, const struct tally *t)
{
	printf("%s: marker %ld", path, t->marker);
	for (int e = 0; e < 4096; e++)
		if (t->errors[e]) {
			const char *n = strerrorname_np(e);
			printf(", %s %ld", n ? n : "E?", t->errors[e]);
		}
	printf("\n");
}

int main(int argc, char **argv)
{
	static struct tally t1, t2;
	char path[64];
	int bad = 0, n;

	if (argc < 3 || (n = atoi(argv[2])) <= 0) {
		fprintf(stderr, "usage: %s MARKER PAIRS\n", argv[0]);
		return 2;
	}
	for (int i = 0; i < n && !bad; i++) {
		snprintf(path, sizeof(path), "sub-%d/shadow", i);
		bad |= check(path, argv[1], &t1);
		snprintf(path, sizeof(path), "sub2-%d/secret", i);
		bad |= check(path, argv[1], &t2);
	}
	report("sub-*/shadow", &t1);
	report("sub2-*/secret", &t2);
	if (bad)
		return 1;
	printf("ESCAPE-TEST PASS\n");
	return 0;
}
