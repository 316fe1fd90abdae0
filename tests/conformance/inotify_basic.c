/* inotify for changes made by the program itself, on tmpfs (/dev/shm) and in the working
 * directory: the events for create, open, write, close, chmod, rename, mkdir, unlink,
 * rmdir and truncate as a watched directory and a watched file see them, IN_IGNORED,
 * IN_ONESHOT, IN_MASK_ADD/IN_MASK_CREATE, poll/epoll readiness, FIONREAD, IN_NONBLOCK,
 * short buffers, a blocking read woken by a child, and the argument errors. */
#include "conf.h"
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int wds[8];
static int nwds;

static const char *mask_names(uint32_t m)
{
	static char buf[256];
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {{IN_ACCESS, "ACCESS"}, {IN_MODIFY, "MODIFY"}, {IN_ATTRIB, "ATTRIB"},
		     {IN_CLOSE_WRITE, "CLOSE_WRITE"}, {IN_CLOSE_NOWRITE, "CLOSE_NOWRITE"},
		     {IN_OPEN, "OPEN"}, {IN_MOVED_FROM, "MOVED_FROM"}, {IN_MOVED_TO, "MOVED_TO"},
		     {IN_CREATE, "CREATE"}, {IN_DELETE, "DELETE"}, {IN_DELETE_SELF, "DELETE_SELF"},
		     {IN_MOVE_SELF, "MOVE_SELF"}, {IN_IGNORED, "IGNORED"}, {IN_ISDIR, "ISDIR"},
		     {IN_Q_OVERFLOW, "Q_OVERFLOW"}, {IN_UNMOUNT, "UNMOUNT"}};
	buf[0] = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (m & names[i].bit) {
			strcat(buf, buf[0] ? "|" : "");
			strcat(buf, names[i].name);
			m &= ~names[i].bit;
		}
	if (m)
		sprintf(buf + strlen(buf), "|0x%x", m);
	return buf;
}

/* Which of the watches (by the order they were added) an event is for. */
static int watch_index(int wd)
{
	for (int i = 0; i < nwds; i++)
		if (wds[i] == wd)
			return i;
	return -1;
}

static void drain(const char *label, int fd)
{
	char buf[4096] __attribute__((aligned(8)));
	uint32_t last_cookie = 0;
	printf("%s:\n", label);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN)
				printf("  read errno=%s\n", conf_errname(errno));
			break;
		}
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *e = (struct inotify_event *)p;
			const char *cookie = "";
			if (e->cookie) {
				cookie = e->cookie == last_cookie ? " cookie=same" : " cookie=new";
				last_cookie = e->cookie;
			}
			printf("  watch#%d %s%s%s len-aligned=%d%s\n", watch_index(e->wd), mask_names(e->mask),
			       e->len ? " name=" : "", e->len ? e->name : "", e->len % 16 == 0, cookie);
			p += sizeof(*e) + e->len;
		}
	}
}

static void scenario(const char *where, const char *dir)
{
	char d[PATH_MAX], f[PATH_MAX + 8], g[PATH_MAX + 8], sub[PATH_MAX + 8];
	printf("== %s\n", where);
	snprintf(d, sizeof(d), "%s", dir);
	snprintf(f, sizeof(f), "%s/f", d);
	snprintf(g, sizeof(g), "%s/g", d);
	snprintf(sub, sizeof(sub), "%s/sub", d);
	mkdir(d, 0755);
	int in = inotify_init1(IN_NONBLOCK);
	nwds = 0;
	wds[nwds++] = inotify_add_watch(in, d, IN_ALL_EVENTS);
	printf("first wd: %d\n", wds[0]);

	int fd = open(f, O_CREAT | O_WRONLY, 0644);
	write(fd, "hello", 5);
	write(fd, "world", 5); /* merged with the previous IN_MODIFY */
	close(fd);
	drain("create, write twice, close", in);

	fd = open(f, O_RDONLY);
	char b[16];
	read(fd, b, sizeof(b));
	read(fd, b, sizeof(b)); /* EOF: no event */
	close(fd);
	drain("open, read, close", in);

	chmod(f, 0600);
	truncate(f, 2);
	utimensat(AT_FDCWD, f, NULL, 0);
	drain("chmod, truncate, utimensat", in);

	wds[nwds++] = inotify_add_watch(in, f, IN_ALL_EVENTS);
	printf("file wd differs: %d\n", wds[1] != wds[0]);
	rename(f, g);
	drain("rename watched file", in);
	fd = open(g, O_WRONLY | O_APPEND);
	write(fd, "!", 1);
	close(fd);
	drain("write through the new name", in);

	mkdir(sub, 0755);
	rmdir(sub);
	drain("mkdir, rmdir", in);

	link(g, f);
	unlink(f);
	drain("link, unlink the second name", in);
	unlink(g);
	drain("unlink the last name", in);

	fd = open(f, O_CREAT | O_WRONLY, 0644);
	unlink(f);
	drain("unlink while open", in);
	close(fd);
	drain("close after unlink", in);

	CHECK("rm_watch", inotify_rm_watch(in, wds[0]));
	drain("after rm_watch", in);
	CHECK("rm_watch again", inotify_rm_watch(in, wds[0]));
	close(in);
	rmdir(d);
}

int main(void)
{
	char shm[PATH_MAX];
	snprintf(shm, sizeof(shm), "/dev/shm/wardconf-inotify.%d", (int)getpid());

	CHECK("init1 bad flags", inotify_init1(0x1));
	int in = inotify_init();
	CHECK("add_watch mask 0", inotify_add_watch(in, ".", 0));
	CHECK("add_watch bad fd", inotify_add_watch(-1, ".", IN_CREATE));
	CHECK("add_watch not inotify", inotify_add_watch(0, ".", IN_CREATE));
	CHECK("add_watch missing", inotify_add_watch(in, "./missing", IN_CREATE));
	int tf = open("plainfile", O_CREAT | O_WRONLY, 0644);
	close(tf);
	CHECK("add_watch ONLYDIR on a file", inotify_add_watch(in, "plainfile", IN_CREATE | IN_ONLYDIR));
	CHECK("MASK_ADD with MASK_CREATE", inotify_add_watch(in, ".", IN_CREATE | IN_MASK_ADD | IN_MASK_CREATE));
	int w1 = inotify_add_watch(in, ".", IN_CREATE);
	int w2 = inotify_add_watch(in, ".", IN_DELETE | IN_MASK_ADD);
	printf("same wd for the same inode: %d\n", w1 == w2);
	CHECK("MASK_CREATE on a watched inode", inotify_add_watch(in, ".", IN_CREATE | IN_MASK_CREATE));
	CHECK("rm_watch bad wd", inotify_rm_watch(in, 12345));
	CHECK("rm_watch not inotify", inotify_rm_watch(0, 1));
	printf("cloexec without IN_CLOEXEC: %d\n", (fcntl(in, F_GETFD) & FD_CLOEXEC) != 0);
	int in2 = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	printf("IN_CLOEXEC: %d IN_NONBLOCK: %d\n", (fcntl(in2, F_GETFD) & FD_CLOEXEC) != 0,
	       (fcntl(in2, F_GETFL) & O_NONBLOCK) != 0);
	char buf[64] __attribute__((aligned(8)));
	CHECK("read empty nonblocking", read(in2, buf, sizeof(buf)));
	close(in2);

	/* readiness, FIONREAD, short buffers, blocking reads */
	struct pollfd p = {in, POLLIN, 0};
	CHECK("poll before", poll(&p, 1, 0));
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN}, out;
	epoll_ctl(ep, EPOLL_CTL_ADD, in, &ev);
	CHECK("epoll before", epoll_wait(ep, &out, 1, 0));
	unlink("plainfile");
	CHECK("poll after", poll(&p, 1, 0));
	printf("revents POLLIN: %d\n", (p.revents & POLLIN) != 0);
	CHECK("epoll after", epoll_wait(ep, &out, 1, 0));
	int avail = -1;
	ioctl(in, FIONREAD, &avail);
	printf("FIONREAD: %d\n", avail);
	CHECK("read with a buffer too small", read(in, buf, sizeof(struct inotify_event)));
	CHECK("read", read(in, buf, sizeof(buf)));
	pid_t child = fork();
	if (child == 0) {
		usleep(50000);
		int fd = open("late", O_CREAT | O_WRONLY, 0644);
		close(fd);
		_exit(0);
	}
	CHECK("blocking read woken by a child", read(in, buf, sizeof(buf)));
	struct inotify_event *e = (struct inotify_event *)buf;
	printf("event: %s %s\n", mask_names(e->mask), e->name);
	waitpid(child, NULL, 0);
	unlink("late");
	close(ep);
	close(in);

	/* IN_ONESHOT */
	in = inotify_init1(IN_NONBLOCK);
	nwds = 0;
	wds[nwds++] = inotify_add_watch(in, ".", IN_CREATE | IN_ONESHOT);
	close(open("one", O_CREAT | O_WRONLY, 0644));
	close(open("two", O_CREAT | O_WRONLY, 0644));
	drain("oneshot", in);
	unlink("one");
	unlink("two");
	close(in);

	scenario("tmpfs", shm);
	scenario("working directory", "wdir");
	return 0;
}
