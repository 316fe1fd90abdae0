/* Extended attributes on tmpfs (/dev/shm natively and under ward): user.* set, get,
 * list, replace, remove with the XATTR_CREATE/REPLACE rules, size and name limits,
 * trusted.* and security.*, unknown namespaces, and user.* on a symlink. */
#include "conf.h"
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

static char dir[PATH_MAX];

static void cleanup(void)
{
	char p[PATH_MAX + 16];
	snprintf(p, sizeof(p), "%s/f", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/l", dir);
	unlink(p);
	rmdir(dir);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names, sorted: the order of listxattr is the filesystem's business. */
static void list(const char *label, const char *path)
{
	char buf[512];
	const char *names[32];
	size_t k = 0;
	ssize_t n = listxattr(path, buf, sizeof(buf));
	printf("%s: %zd", label, n);
	for (ssize_t i = 0; i < n && k < 32; i += (ssize_t)strlen(buf + i) + 1)
		names[k++] = buf + i;
	qsort(names, k, sizeof(names[0]), by_name);
	for (size_t i = 0; i < k; i++)
		printf(" [%s]", names[i]);
	printf("\n");
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/dev/shm/wardconf-xattr.%d", (int)getpid());
	mkdir(dir, 0700);
	atexit(cleanup);
	char f[PATH_MAX + 16], l[PATH_MAX + 16];
	snprintf(f, sizeof(f), "%s/f", dir);
	snprintf(l, sizeof(l), "%s/l", dir);
	int fd = open(f, O_CREAT | O_RDWR, 0644);
	symlink("f", l);
	char buf[128];

	list("empty list", f);
	CHECK("get missing", getxattr(f, "user.a", buf, sizeof(buf)));
	CHECK("set user.a", setxattr(f, "user.a", "alpha", 5, 0));
	CHECK("set user.b (fd)", fsetxattr(fd, "user.b", "", 0, 0));
	CHECK("get size only", getxattr(f, "user.a", NULL, 0));
	memset(buf, 0, sizeof(buf));
	CHECK("get", getxattr(f, "user.a", buf, sizeof(buf)));
	printf("value: %s\n", buf);
	CHECK("get too small", getxattr(f, "user.a", buf, 2));
	CHECK("get empty value", fgetxattr(fd, "user.b", buf, sizeof(buf)));
	list("list", f);
	CHECK("list size only", listxattr(f, NULL, 0));
	CHECK("list too small", listxattr(f, buf, 3));
	CHECK("CREATE existing", setxattr(f, "user.a", "x", 1, XATTR_CREATE));
	CHECK("REPLACE missing", setxattr(f, "user.c", "x", 1, XATTR_REPLACE));
	CHECK("REPLACE existing", setxattr(f, "user.a", "beta", 4, XATTR_REPLACE));
	memset(buf, 0, sizeof(buf));
	getxattr(f, "user.a", buf, sizeof(buf));
	printf("value: %s\n", buf);
	CHECK("bad flags", setxattr(f, "user.a", "x", 1, 4));
	CHECK("empty name", setxattr(f, "", "x", 1, 0));
	char longname[300];
	memset(longname, 'a', sizeof(longname));
	memcpy(longname, "user.", 5);
	longname[256] = 0;
	CHECK("name of 256", setxattr(f, longname, "x", 1, 0));
	longname[255] = 0;
	CHECK("name of 255", setxattr(f, longname, "x", 1, 0));
	CHECK("remove it", removexattr(f, longname));
	static char huge[65537];
	CHECK("value too big", setxattr(f, "user.big", huge, sizeof(huge), 0));
	CHECK("prefix only", setxattr(f, "user.", "x", 1, 0));
	CHECK("unknown namespace", setxattr(f, "foo.bar", "x", 1, 0));
	CHECK("get unknown namespace", getxattr(f, "foo.bar", buf, sizeof(buf)));
	CHECK("get security", getxattr(f, "security.ward", buf, sizeof(buf)));
	CHECK("set trusted (root)", setxattr(f, "trusted.t", "t", 1, 0));
	list("list with trusted", f);
	CHECK("remove missing", removexattr(f, "user.zzz"));
	CHECK("remove user.b", fremovexattr(fd, "user.b"));
	CHECK("lsetxattr on symlink", lsetxattr(l, "user.a", "x", 1, 0));
	CHECK("lgetxattr on symlink", lgetxattr(l, "user.a", buf, sizeof(buf)));
	CHECK("getxattr through symlink", getxattr(l, "user.a", buf, sizeof(buf)));
	CHECK("missing path", getxattr("/dev/shm/nonexistent-ward", "user.a", buf, sizeof(buf)));
	CHECK("bad fd", fgetxattr(-1, "user.a", buf, sizeof(buf)));
	CHECK("bad name pointer", getxattr(f, (const char *)8, buf, sizeof(buf)));
	CHECK("set on dir", setxattr(dir, "user.d", "d", 1, 0));
	list("dir list", dir);
	return 0;
}
