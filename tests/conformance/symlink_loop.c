/* Symlink resolution in /tmp: a 40-link chain resolves, 41 is ELOOP, cycles are ELOOP,
 * O_NOFOLLOW refuses a final symlink, and dangling links are ENOENT. */
#include "conf.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void)
{
	char *dir = conf_tmpdir();
	char name[64], target[64];

	CHECK("chdir tmpdir", chdir(dir));
	int fd = open("file", O_WRONLY | O_CREAT, 0644);
	CHECK("write target", write(fd, "data\n", 5));
	close(fd);
	CHECK("symlink l0 -> file", symlink("file", "l0"));
	for (int i = 1; i <= 41; i++) {
		snprintf(name, sizeof(name), "l%d", i);
		snprintf(target, sizeof(target), "l%d", i - 1);
		if (symlink(target, name) != 0)
			printf("symlink %s: errno=%s\n", name, conf_errname(errno));
	}
	CHECK("open l39 (40 links)", fd = open("l39", O_RDONLY));
	close(fd);
	CHECK("open l40 (41 links)", open("l40", O_RDONLY));
	CHECK("stat l40", stat("l40", &(struct stat){ 0 }));
	CHECK("lstat l40", lstat("l40", &(struct stat){ 0 }));
	CHECK("symlink a -> b", symlink("b", "a"));
	CHECK("symlink b -> a", symlink("a", "b"));
	CHECK("open cycle", open("a", O_RDONLY));
	CHECK("symlink self -> self", symlink("self", "self"));
	CHECK("open self-loop", open("self", O_RDONLY));
	CHECK("open through loop as directory", open("self/x", O_RDONLY));
	CHECK("O_NOFOLLOW on l0", open("l0", O_RDONLY | O_NOFOLLOW));
	CHECK("O_NOFOLLOW|O_PATH on l0", fd = open("l0", O_RDONLY | O_NOFOLLOW | O_PATH));
	close(fd);
	CHECK("symlink dangling -> nowhere", symlink("nowhere", "dangling"));
	CHECK("open dangling", open("dangling", O_RDONLY));
	CHECK("open dangling O_CREAT creates target", fd = open("dangling", O_WRONLY | O_CREAT, 0600));
	close(fd);
	CHECK("stat nowhere now exists", stat("nowhere", &(struct stat){ 0 }));
	CHECK("symlink over existing name", symlink("file", "a"));
	CHECK("symlink empty target", symlink("", "empty"));
	CHECK("symlink to directory", symlink("/usr/include", "inc"));
	CHECK("open through dir link", fd = open("inc/stdio.h", O_RDONLY));
	close(fd);
	CHECK("symlink absolute /etc/os-release chain", symlink("/etc/os-release", "osr"));
	CHECK("open through two links (abs, rel)", fd = open("osr", O_RDONLY));
	close(fd);

	/* Clean up so the host's /tmp is left as found when run natively. */
	for (int i = 0; i <= 41; i++) {
		snprintf(name, sizeof(name), "l%d", i);
		unlink(name);
	}
	static const char *rest[] = { "file", "a", "b", "self", "dangling", "nowhere", "inc", "osr" };
	for (size_t i = 0; i < sizeof(rest) / sizeof(rest[0]); i++)
		unlink(rest[i]);
	CHECK("chdir /", chdir("/"));
	CHECK("rmdir tmpdir", rmdir(dir));
	return 0;
}
