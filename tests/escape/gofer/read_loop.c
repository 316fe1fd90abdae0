/* Guest for gofer_killed.sh: reads FILE in the workspace over and over (each read a new
 * open, so every pass needs the gofer). Prints "ready" after the first pass; once a pass
 * fails, checks that later file operations fail at once too, and exits 0 if all of them
 * were EIO. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PASSES_MAX 1000000

static int read_once(const char *path)
{
	char buf[256];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n < 0 ? -errno : 0;
}

static const char *name(int err)
{
	const char *n = strerrorname_np(err);

	return n ? n : "E?";
}

int main(int argc, char **argv)
{
	int err = 0, fd, ok = 1;
	long i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
		return 2;
	}
	for (i = 0; i < PASSES_MAX && !(err = read_once(argv[1])); i++)
		if (i == 0) {
			printf("ready\n");
			fflush(stdout);
		}
	if (!err) {
		printf("no error in %ld passes\n", i);
		return 1;
	}
	printf("pass %ld failed: %s\n", i, name(-err));
	ok &= err == -EIO;
	err = read_once(argv[1]);
	printf("later read: %s\n", err ? name(-err) : "succeeded");
	ok &= err == -EIO;
	fd = open("ward-new-file", O_WRONLY | O_CREAT | O_EXCL, 0644);
	printf("later create: %s\n", fd < 0 ? name(errno) : "succeeded");
	ok &= fd < 0 && errno == EIO;
	fd = open("ward-new-dir-listing", O_RDONLY | O_DIRECTORY);
	printf("later open of a new name: %s\n", fd < 0 ? name(errno) : "succeeded");
	ok &= fd < 0 && errno == EIO;
	printf("%s\n", ok ? "all EIO" : "NOT all EIO");
	fflush(stdout);
	return ok ? 0 : 1;
}
