/* The gofer end to end: a forked gofer_serve (and gofer_main, under its seccomp filter)
 * over a socketpair, serving a temporary tree with symlinks pointing out, a symlink
 * loop, deny-listed files and a hard link to one, a FIFO and a large directory. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/falloc.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gofer/client.h"
#include "gofer/protocol.h"
#include "gofer/server.h"

#define NMANY 2000
#define BIG_SIZE 200000

static char root[PATH_MAX], outside[PATH_MAX];
static const char *serve_root = root; /* what start() exports; never removed */
static struct gofer_client c;
static pid_t gofer_pid = -1;

static void xwrite(const char *dir, const char *rel, const void *data, size_t n)
{
	char p[PATH_MAX * 2];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(fd, 0, "create %s: %s", p, strerror(errno));
	cr_assert_eq(write(fd, data, n), (ssize_t)n);
	close(fd);
}

static void xdo(int rc, const char *what)
{
	cr_assert_eq(rc, 0, "%s: %s", what, strerror(errno));
}

static uint8_t big_byte(size_t i)
{
	return (uint8_t)(i * 7 + i / 251);
}

static void build_tree(void)
{
	char p[PATH_MAX * 2], q[PATH_MAX * 2];
	static uint8_t big[BIG_SIZE];

	strcpy(root, "/tmp/ward-gofer-XXXXXX");
	strcpy(outside, "/tmp/ward-gofer-out-XXXXXX");
	cr_assert(mkdtemp(root));
	cr_assert(mkdtemp(outside));
	xwrite(outside, "secret.txt", "outside secret\n", 15);

	xwrite(root, "hello.txt", "hello, gofer\n", 13);
	for (size_t i = 0; i < BIG_SIZE; i++)
		big[i] = big_byte(i);
	xwrite(root, "big.bin", big, BIG_SIZE);
#define D(rel) (snprintf(p, sizeof(p), "%s/%s", root, rel), p)
	xdo(mkdir(D("sub"), 0755), "mkdir sub");
	xwrite(root, "sub/inner.txt", "inner\n", 6);
	xdo(symlink("/etc/hostname", D("link_out")), "symlink");
	snprintf(q, sizeof(q), "%s/secret.txt", outside);
	xdo(symlink(q, D("link_other")), "symlink");
	xdo(symlink("../../../../etc/hostname", D("link_up")), "symlink");
	xdo(symlink("loop2", D("loop1")), "symlink");
	xdo(symlink("loop1", D("loop2")), "symlink");
	xdo(mkfifo(D("fifo"), 0644), "mkfifo");
	xdo(mkdir(D("etc"), 0755), "mkdir etc");
	xdo(mkdir(D("etc/ssh"), 0755), "mkdir etc/ssh");
	xwrite(root, "etc/shadow", "root:$6$secret\n", 15);
	xwrite(root, "etc/passwd", "root:x:0:0\n", 11);
	xwrite(root, "etc/ssh/ssh_host_ed25519_key", "PRIVATE\n", 8);
	xwrite(root, "etc/ssh/ssh_host_ed25519_key.pub", "PUBLIC\n", 7);
	xdo(mkdir(D("pub"), 0755), "mkdir pub");
	snprintf(q, sizeof(q), "%s/etc/shadow", root);
	xdo(link(q, D("pub/hl")), "link");
	xdo(mkdir(D("usr"), 0755), "mkdir usr");
	xdo(mkdir(D("usr/lib"), 0755), "mkdir usr/lib");
	xdo(symlink("usr/lib", D("lib")), "symlink lib");
	xdo(mkdir(D("home"), 0755), "mkdir home");
	xdo(mkdir(D("many"), 0755), "mkdir many");
#undef D
}

/* Fills many/ for the tests that list it (slow enough to do only there). */
static void fill_many(void)
{
	for (int i = 0; i < NMANY; i++) {
		char name[160];

		/* ~100-byte names: 2000 of them overflow one 128 KiB reply */
		snprintf(name, sizeof(name), "many/f%04d-%s", i,
			 "padding-padding-padding-padding-padding-padding-padding-padding-"
			 "padding-padding-pad");
		xwrite(root, name, "", 0);
	}
}

static void rm_tree(const char *dir)
{
	char cmd[PATH_MAX + 32];

	if (!dir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", dir);
}

/* Forks a gofer over a socketpair; argv NULL runs gofer_serve with pol, else gofer_main. */
static void start(const struct gofer_policy *pol, char **argv)
{
	int sv[2];

	xdo(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), "socketpair");
	gofer_pid = fork();
	cr_assert_geq(gofer_pid, 0);
	if (gofer_pid == 0) {
		int rfd, rc;

		close(sv[0]);
		if (argv) {
			char fdarg[16];
			int argc = 0;

			snprintf(fdarg, sizeof(fdarg), "%d", sv[1]);
			while (argv[argc])
				argc++;
			for (int i = 0; i < argc; i++)
				if (strcmp(argv[i], "FD") == 0)
					argv[i] = fdarg;
			_exit(gofer_main(argc, argv));
		}
		rfd = open(serve_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (rfd < 0)
			_exit(3);
		umask(0); /* as gofer_main does */
		rc = gofer_serve(sv[1], rfd, pol);
		_exit(rc == 0 ? 0 : 1);
	}
	close(sv[1]);
	xdo(gofer_client_init(&c, sv[0]), "client init");
}

/* Closes the connection: the gofer must see EOF and exit 0 (not die of SIGSYS). */
static void stop(void)
{
	int status;

	gofer_client_close(&c);
	cr_assert_eq(waitpid(gofer_pid, &status, 0), gofer_pid);
	gofer_pid = -1;
	cr_assert(WIFEXITED(status), "gofer died: signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	cr_assert_eq(WEXITSTATUS(status), 0);
}

static void setup(void)
{
	build_tree();
}

static void teardown(void)
{
	if (gofer_pid > 0) {
		kill(gofer_pid, SIGKILL);
		waitpid(gofer_pid, NULL, 0);
	}
	rm_tree(root);
	rm_tree(outside);
}

TestSuite(gofer, .init = setup, .fini = teardown, .timeout = 60);

/* Walks a '/'-separated path from the root, clunking the intermediate fids. */
static int walk_path(const char *path, uint32_t *fid, struct gofer_stat *st)
{
	char tmp[PATH_MAX], *save, *comp;
	uint32_t cur = GOFER_ROOT_FID, next;
	int err = 0;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (comp = strtok_r(tmp, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		err = gofer_walk(&c, cur, comp, &next, st);
		if (cur != GOFER_ROOT_FID)
			cr_assert_eq(gofer_clunk(&c, cur), 0);
		if (err)
			return err;
		cur = next;
	}
	*fid = cur;
	return 0;
}

static const struct gofer_policy all = { .system_only = false };

Test(gofer, walk_stat_read)
{
	struct gofer_stat st, st2;
	uint32_t fid;
	char b[64];

	start(&all, NULL);
	cr_assert_eq(walk_path("hello.txt", &fid, &st), 0);
	cr_assert_neq(fid, GOFER_ROOT_FID);
	cr_assert(S_ISREG(st.mode));
	cr_assert_eq(st.size, 13);
	cr_assert_eq(gofer_stat(&c, fid, &st2), 0);
	cr_assert_eq(st2.ino, st.ino);
	cr_assert_eq(gofer_read(&c, fid, 0, b, sizeof(b)), -EBADF, "not opened yet");
	cr_assert_eq(gofer_open(&c, fid, O_RDONLY | O_CLOEXEC), 0);
	cr_assert_eq(gofer_open(&c, fid, O_RDONLY), 0, "same mode again is harmless");
	cr_assert_eq(gofer_read(&c, fid, 0, b, sizeof(b)), 13);
	cr_assert_eq(memcmp(b, "hello, gofer\n", 13), 0);
	cr_assert_eq(gofer_read(&c, fid, 7, b, 5), 5);
	cr_assert_eq(memcmp(b, "gofer", 5), 0);
	cr_assert_eq(gofer_read(&c, fid, 13, b, sizeof(b)), 0);
	cr_assert_eq(gofer_read(&c, fid, 1ull << 40, b, sizeof(b)), 0);
	cr_assert_eq(gofer_readdir(&c, fid, 0, &(struct gofer_dirent){ 0 }, 1), -ENOTDIR);
	cr_assert_eq(gofer_readlink(&c, fid, b, sizeof(b)), -EINVAL);
	cr_assert_eq(gofer_walk(&c, fid, "x", &(uint32_t){ 0 }, NULL), -ENOTDIR);

	cr_assert_eq(walk_path("sub/inner.txt", &fid, &st), 0);
	cr_assert_eq(gofer_open(&c, fid, O_RDONLY), 0);
	cr_assert_eq(gofer_read(&c, fid, 0, b, sizeof(b)), 6);
	cr_assert_eq(walk_path("nope", &fid, &st), -ENOENT);
	cr_assert_eq(walk_path("sub/nope", &fid, &st), -ENOENT);
	stop();
}

Test(gofer, read_offsets_large_file)
{
	static uint8_t b[GOFER_IO_MAX * 2];
	struct gofer_stat st;
	uint32_t fid;
	long n;

	start(&all, NULL);
	cr_assert_eq(walk_path("big.bin", &fid, &st), 0);
	cr_assert_eq(st.size, BIG_SIZE);
	cr_assert_eq(gofer_open(&c, fid, O_RDONLY), 0);
	n = gofer_read(&c, fid, 0, b, sizeof(b));
	cr_assert_eq(n, GOFER_IO_MAX, "capped at GOFER_IO_MAX");
	for (long i = 0; i < n; i++)
		cr_assert_eq(b[i], big_byte((size_t)i));
	n = gofer_read(&c, fid, 150001, b, GOFER_IO_MAX);
	cr_assert_eq(n, BIG_SIZE - 150001);
	for (long i = 0; i < n; i++)
		cr_assert_eq(b[i], big_byte(150001 + (size_t)i), "at %ld", i);
	/* the whole file in a loop, as the sentry does */
	for (uint64_t off = 0;;) {
		n = gofer_read(&c, fid, off, b, 10000);
		cr_assert_geq(n, 0);
		if (n == 0)
			break;
		for (long i = 0; i < n; i++)
			cr_assert_eq(b[i], big_byte(off + (size_t)i));
		off += (uint64_t)n;
		if (n < 10000)
			cr_assert_eq(off, BIG_SIZE);
	}
	cr_assert_eq(gofer_read(&c, fid, (uint64_t)INT64_MAX + 1, b, 1), -EINVAL);
	stop();
}

Test(gofer, symlinks_are_never_followed)
{
	struct gofer_stat st;
	uint32_t fid, sub;
	char b[PATH_MAX];
	long n;

	start(&all, NULL);
	cr_assert_eq(walk_path("link_out", &fid, &st), 0);
	cr_assert(S_ISLNK(st.mode), "walk yields the link itself");
	n = gofer_readlink(&c, fid, b, sizeof(b));
	cr_assert_eq(n, 13);
	cr_assert_eq(memcmp(b, "/etc/hostname", 13), 0);
	cr_assert_eq(gofer_readlink(&c, fid, b, 4), 4, "truncated like readlink(2)");
	cr_assert_eq(gofer_readlink(&c, fid, b, 0), -EINVAL);
	cr_assert_eq(gofer_open(&c, fid, O_RDONLY), -ELOOP);
	cr_assert_eq(gofer_read(&c, fid, 0, b, 10), -EBADF);
	cr_assert_eq(gofer_walk(&c, fid, "x", &sub, NULL), -ENOTDIR);
	cr_assert_eq(gofer_stat(&c, fid, &st), 0);
	cr_assert(S_ISLNK(st.mode));

	cr_assert_eq(walk_path("link_other", &fid, &st), 0);
	cr_assert(S_ISLNK(st.mode));
	cr_assert_eq(gofer_open(&c, fid, O_RDONLY), -ELOOP);
	cr_assert_eq(walk_path("link_up", &fid, &st), 0);
	cr_assert_eq(gofer_open(&c, fid, O_RDONLY), -ELOOP);

	cr_assert_eq(walk_path("loop1", &fid, &st), 0);
	cr_assert(S_ISLNK(st.mode));
	n = gofer_readlink(&c, fid, b, sizeof(b));
	cr_assert_eq(n, 5);
	cr_assert_eq(memcmp(b, "loop2", 5), 0);
	cr_assert_eq(gofer_open(&c, fid, O_RDONLY), -ELOOP);
	cr_assert_eq(gofer_walk(&c, fid, "loop2", &sub, NULL), -ENOTDIR);

	/* A symlinked directory is a link too: nothing beneath it is reachable through it. */
	cr_assert_eq(walk_path("lib/x", &fid, &st), -ENOTDIR);
	stop();
}

Test(gofer, bad_names_rejected)
{
	char longname[GOFER_NAME_MAX + 2];
	uint32_t fid;

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	start(&all, NULL);
	cr_assert_eq(gofer_walk(&c, GOFER_ROOT_FID, "..", &fid, NULL), -EINVAL);
	cr_assert_eq(gofer_walk(&c, GOFER_ROOT_FID, ".", &fid, NULL), -EINVAL);
	cr_assert_eq(gofer_walk(&c, GOFER_ROOT_FID, "", &fid, NULL), -EINVAL);
	cr_assert_eq(gofer_walk(&c, GOFER_ROOT_FID, "sub/inner.txt", &fid, NULL), -EINVAL);
	cr_assert_eq(gofer_walk(&c, GOFER_ROOT_FID, "/etc", &fid, NULL), -EINVAL);
	cr_assert_eq(gofer_walk(&c, GOFER_ROOT_FID, longname, &fid, NULL), -ENAMETOOLONG);
	cr_assert_eq(gofer_walk(&c, GOFER_ROOT_FID, NULL, &fid, NULL), -EINVAL);
	cr_assert_eq(gofer_walk(&c, 12345, "sub", &fid, NULL), -EBADF);
	cr_assert_eq(gofer_stat(&c, 0xffffffffu, &(struct gofer_stat){ 0 }), -EBADF);
	stop();
}

/* Sends raw bytes (bypassing the client's encoder) and returns the reply's errno, or 0
 * for a non-error reply. */
static int raw_call(const void *msg, size_t len, uint32_t want_tag)
{
	static uint8_t rb[GOFER_MSG_MAX];
	struct gofer_reply r;
	ssize_t n;

	cr_assert_eq(send(c.fd, msg, len, 0), (ssize_t)len);
	n = recv(c.fd, rb, sizeof(rb), 0);
	cr_assert_gt(n, 0);
	cr_assert_eq(gofer_decode_reply(rb, (size_t)n, &r), 0);
	cr_assert_eq(r.tag, want_tag);
	return r.op == GOFER_OP_ERROR ? (int)r.error : 0;
}

static size_t raw_walk(uint8_t *m, uint32_t tag, uint32_t fid, const char *name, size_t nl)
{
	struct gofer_cur cur;

	gofer_cur_init(&cur, m, GOFER_MSG_MAX);
	gofer_put_u32(&cur, (uint32_t)(GOFER_HDR_SIZE + 8 + nl));
	gofer_put_u16(&cur, GOFER_OP_WALK);
	gofer_put_u16(&cur, 0);
	gofer_put_u32(&cur, tag);
	gofer_put_u32(&cur, fid);
	gofer_put_u16(&cur, (uint16_t)nl);
	gofer_put_u16(&cur, 0);
	gofer_put_bytes(&cur, name, nl);
	return cur.pos;
}

Test(gofer, hostile_raw_messages)
{
	static uint8_t m[GOFER_MSG_MAX + 32 * 1024];
	struct gofer_stat st;
	uint32_t fid;
	size_t len;
	int sp[2];

	start(&all, NULL);
	len = raw_walk(m, 100, 0, "..", 2);
	cr_assert_eq(raw_call(m, len, 100), EINVAL);
	len = raw_walk(m, 101, 0, "sub/inner.txt", 13);
	cr_assert_eq(raw_call(m, len, 101), EINVAL);
	len = raw_walk(m, 102, 0, "hello.txt\0x", 11);
	cr_assert_eq(raw_call(m, len, 102), EINVAL);
	memset(m + 100, 'a', 300);
	len = raw_walk(m, 103, 0, (const char *)m + 100, 300);
	cr_assert_eq(raw_call(m, len, 103), ENAMETOOLONG);
	len = raw_walk(m, 104, 0, "hello.txt", 9);
	cr_assert_eq(raw_call(m, len, 104), 0, "a good walk still works");

	/* garbage, short, wrong length, unknown op */
	memset(m, 0xee, 64);
	cr_assert_eq(raw_call(m, 64, 0xeeeeeeeeu), EPROTO);
	cr_assert_eq(raw_call(m, 3, 0), EPROTO);
	len = raw_walk(m, 105, 0, "sub", 3);
	m[0]++;
	cr_assert_eq(raw_call(m, len, 105), EPROTO);
	len = raw_walk(m, 106, 0, "sub", 3);
	m[4] = 0x2f; /* a reserved opcode */
	cr_assert_eq(raw_call(m, len, 106), ENOSYS);
	len = raw_walk(m, 107, 0, "sub", 3);
	m[5] = 0x80; /* a reply sent as a request */
	cr_assert_eq(raw_call(m, len, 107), EPROTO);

	/* oversized packet: truncated on receive, refused */
	len = raw_walk(m, 108, 0, "sub", 3);
	cr_assert_eq(raw_call(m, GOFER_MSG_MAX + 16 * 1024, 108), EPROTO);

	/* a descriptor passed along is refused and never installed in the gofer */
	xdo(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), "socketpair");
	{
		char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
		struct iovec iov = { .iov_base = m, .iov_len = raw_walk(m, 109, 0, "sub", 3) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		static uint8_t rb[GOFER_MSG_MAX];
		struct gofer_reply r;
		ssize_t n;

		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &sp[0], sizeof(int));
		cr_assert_eq(sendmsg(c.fd, &mh, 0), (ssize_t)iov.iov_len);
		n = recv(c.fd, rb, sizeof(rb), 0);
		cr_assert_eq(gofer_decode_reply(rb, (size_t)n, &r), 0);
		cr_assert_eq(r.op, GOFER_OP_ERROR);
		cr_assert_eq(r.error, EPROTO);
	}
	close(sp[0]);
	/* the gofer dropped its copy: the peer sees EOF once ours is closed */
	{
		char x;

		cr_assert_eq(read(sp[1], &x, 1), 0);
	}
	close(sp[1]);

	/* and the connection is still fine */
	cr_assert_eq(walk_path("sub/inner.txt", &fid, &st), 0);
	stop();
}

static uint32_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)(*s >> 11);
}

/* Random and mutated requests against live fids: every one gets a well-formed reply
 * with its tag, and the gofer keeps serving. */
Test(gofer, random_requests)
{
	static const char *names[] = { "sub", "hello.txt", "many", "link_out", "loop1", "fifo",
				       "etc", "big.bin", "inner.txt", "shadow", "hl", "pub" };
	static uint8_t m[512], rb[GOFER_MSG_MAX];
	uint64_t rng = 0x1234567;
	struct gofer_stat st;
	uint32_t fid;

	fill_many();
	start(&all, NULL);
	for (int iter = 0; iter < 10000; iter++) {
		struct gofer_req q = { .tag = (uint32_t)iter };
		struct gofer_reply r;
		ssize_t n;
		int len;

		q.op = (uint16_t)(GOFER_OP_WALK + rnd(&rng) % 7);
		q.fid = rnd(&rng) % 24;
		switch (q.op) {
		case GOFER_OP_WALK:
			strcpy(q.walk.name, names[rnd(&rng) % 12]);
			break;
		case GOFER_OP_OPEN:
			q.open.flags = rnd(&rng) % 2 ? GOFER_OF_DIRECTORY : 0;
			break;
		case GOFER_OP_READ:
			q.read.off = rnd(&rng) % 300000;
			q.read.count = rnd(&rng) % (GOFER_IO_MAX + 1);
			break;
		case GOFER_OP_READDIR:
			q.readdir.off = rnd(&rng) % 4 ? 0 : rnd(&rng);
			q.readdir.max = 1 + rnd(&rng) % GOFER_READDIR_MAX;
			break;
		case GOFER_OP_READLINK:
			q.readlink.size = 1 + rnd(&rng) % 100;
			break;
		}
		len = gofer_encode_req(m, sizeof(m), &q);
		cr_assert_gt(len, 0);
		if (rnd(&rng) % 4 == 0) { /* and sometimes corrupt it */
			uint32_t at = rnd(&rng) % (uint32_t)len;

			m[at] ^= (uint8_t)(1u << (rnd(&rng) % 8));
		}
		cr_assert_eq(send(c.fd, m, (size_t)len, 0), len);
		n = recv(c.fd, rb, sizeof(rb), 0);
		cr_assert_gt(n, 0, "iteration %d: no reply", iter);
		cr_assert_eq(gofer_decode_reply(rb, (size_t)n, &r), 0, "iteration %d", iter);
	}
	cr_assert_eq(walk_path("sub/inner.txt", &fid, &st), 0);
	stop();
}

Test(gofer, deny_list_and_hard_links)
{
	struct gofer_stat st;
	uint32_t fid;

	start(&all, NULL); /* deny NULL: the default list, relative to this root */
	cr_assert_eq(walk_path("etc/shadow", &fid, &st), -EACCES);
	cr_assert_eq(walk_path("etc/gshadow", &fid, &st), -EACCES, "denied whether or not it exists");
	cr_assert_eq(walk_path("etc/ssh/ssh_host_ed25519_key", &fid, &st), -EACCES);
	cr_assert_eq(walk_path("pub/hl", &fid, &st), -EACCES, "hard link to etc/shadow");
	cr_assert_eq(walk_path("etc/ssh/ssh_host_ed25519_key.pub", &fid, &st), 0);
	cr_assert_eq(walk_path("etc/passwd", &fid, &st), 0);
	cr_assert_eq(gofer_open(&c, fid, O_RDONLY), 0);
	stop();
}

Test(gofer, custom_deny_and_glob_dirs)
{
	static const char *const deny[] = { "/sub/", "*/ssh/*.pub", "many/f00[0-4]*", NULL };
	struct gofer_policy pol = { .deny = deny };
	struct gofer_stat st;
	uint32_t fid;
	char b[8];

	start(&pol, NULL);
	cr_assert_eq(walk_path("sub", &fid, &st), -EACCES);
	cr_assert_eq(walk_path("etc/ssh/ssh_host_ed25519_key.pub", &fid, &st), -EACCES);
	cr_assert_eq(walk_path("many/f0049-x", &fid, &st), -EACCES);
	cr_assert_eq(walk_path("many/f0050-x", &fid, &st), -ENOENT);
	/* the defaults are replaced, not added to */
	cr_assert_eq(walk_path("etc/shadow", &fid, &st), 0);
	cr_assert_eq(gofer_open(&c, fid, O_RDONLY), 0);
	cr_assert_eq(gofer_read(&c, fid, 0, b, 4), 4);
	stop();
}

Test(gofer, system_only_hides_the_rest)
{
	struct gofer_policy pol = { .system_only = true };
	static struct gofer_dirent ents[64];
	struct gofer_stat st;
	uint32_t fid;
	int n;
	bool saw_usr = false, saw_lib = false, saw_etc = false;

	start(&pol, NULL);
	cr_assert_eq(walk_path("home", &fid, &st), -ENOENT);
	cr_assert_eq(walk_path("hello.txt", &fid, &st), -ENOENT);
	cr_assert_eq(walk_path("many", &fid, &st), -ENOENT);
	cr_assert_eq(walk_path("usr/lib", &fid, &st), 0);
	cr_assert(S_ISDIR(st.mode));
	cr_assert_eq(walk_path("lib", &fid, &st), 0);
	cr_assert(S_ISLNK(st.mode));
	cr_assert_eq(walk_path("etc/passwd", &fid, &st), 0);
	cr_assert_eq(walk_path("etc/shadow", &fid, &st), -EACCES);
	cr_assert_eq(walk_path("sbin", &fid, &st), -ENOENT, "allowed name, but absent");

	cr_assert_eq(gofer_open(&c, GOFER_ROOT_FID, O_RDONLY | O_DIRECTORY), 0);
	n = gofer_readdir(&c, GOFER_ROOT_FID, 0, ents, 64);
	cr_assert_eq(n, 3, "only usr, lib and etc are listed");
	for (int i = 0; i < n; i++) {
		saw_usr |= strcmp(ents[i].name, "usr") == 0 && ents[i].type == DT_DIR;
		saw_lib |= strcmp(ents[i].name, "lib") == 0 && ents[i].type == DT_LNK;
		saw_etc |= strcmp(ents[i].name, "etc") == 0;
	}
	cr_assert(saw_usr && saw_lib && saw_etc);
	cr_assert_eq(gofer_readdir(&c, GOFER_ROOT_FID, ents[n - 1].next_off, ents, 64), 0);
	stop();
}

/* Reads a whole directory in batches of max; returns the batch count. */
static int read_all(uint32_t fid, int max, char (*names)[GOFER_NAME_MAX + 1], int *count)
{
	static struct gofer_dirent ents[GOFER_READDIR_MAX];
	uint64_t off = 0;
	int batches = 0, n;

	*count = 0;
	while ((n = gofer_readdir(&c, fid, off, ents, max)) > 0) {
		cr_assert_leq(n, max);
		batches++;
		for (int i = 0; i < n; i++) {
			cr_assert_lt(*count, NMANY + 16);
			cr_assert_str_neq(ents[i].name, ".");
			cr_assert_str_neq(ents[i].name, "..");
			strcpy(names[(*count)++], ents[i].name);
		}
		off = ents[n - 1].next_off;
	}
	cr_assert_eq(n, 0, "readdir: %d", n);
	return batches;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

Test(gofer, readdir_in_batches)
{
	static char names[NMANY + 16][GOFER_NAME_MAX + 1];
	struct gofer_stat st;
	uint32_t fid;
	int count, batches;

	fill_many();
	start(&all, NULL);
	cr_assert_eq(walk_path("many", &fid, &st), 0);
	cr_assert_eq(gofer_readdir(&c, fid, 0, (struct gofer_dirent[1]){ 0 }, 1), -EBADF);
	cr_assert_eq(gofer_open(&c, fid, O_RDONLY | O_DIRECTORY), 0);

	batches = read_all(fid, 100, names, &count);
	cr_assert_eq(count, NMANY);
	cr_assert_geq(batches, NMANY / 100);
	qsort(names, (size_t)count, sizeof(names[0]), cmp_names);
	for (int i = 0; i < NMANY; i++) {
		char want[16];

		snprintf(want, sizeof(want), "f%04d-", i);
		cr_assert_eq(strncmp(names[i], want, 6), 0, "%s vs %s", names[i], want);
		if (i)
			cr_assert_str_neq(names[i], names[i - 1], "duplicate entry");
	}

	/* asking for everything: the 128 KiB message limit splits it instead */
	batches = read_all(fid, (int)GOFER_READDIR_MAX, names, &count);
	cr_assert_eq(count, NMANY);
	cr_assert_geq(batches, 2);

	cr_assert_eq(gofer_readdir(&c, GOFER_ROOT_FID, 0, (struct gofer_dirent[1]){ 0 }, 1),
		     -EBADF, "root not opened");
	cr_assert_eq(gofer_readdir(&c, fid, 0, (struct gofer_dirent[1]){ 0 }, 0), -EINVAL);
	stop();
}

Test(gofer, root_listing)
{
	static char names[NMANY + 16][GOFER_NAME_MAX + 1];
	int count, batches;
	const char *want[] = { "big.bin", "etc", "fifo", "hello.txt", "home", "lib", "link_other",
			       "link_out", "link_up", "loop1", "loop2", "many", "pub", "sub", "usr" };

	start(&all, NULL);
	cr_assert_eq(gofer_open(&c, GOFER_ROOT_FID, O_RDONLY | O_DIRECTORY), 0);
	batches = read_all(GOFER_ROOT_FID, 1, names, &count);
	cr_assert_eq(count, 15);
	cr_assert_eq(batches, 15);
	qsort(names, (size_t)count, sizeof(names[0]), cmp_names);
	for (int i = 0; i < 15; i++)
		cr_assert_str_eq(names[i], want[i]);
	stop();
}

/* The host root, as `ward run` exports it: system names only, the real /etc/shadow
 * denied, and kernel pseudo filesystems refused even when everything is exported. */
Test(gofer, host_root)
{
	struct gofer_policy sys = { .system_only = true };
	struct gofer_stat st;
	struct statfs sf;
	uint32_t fid;

	serve_root = "/";
	start(&sys, NULL);
	cr_assert_eq(walk_path("usr/bin", &fid, &st), 0);
	cr_assert_eq(walk_path("etc/hostname", &fid, &st), 0);
	cr_assert_eq(gofer_open(&c, fid, O_RDONLY), 0);
	cr_assert_eq(walk_path("etc/shadow", &fid, &st), -EACCES);
	cr_assert_eq(walk_path("proc", &fid, &st), -ENOENT);
	cr_assert_eq(walk_path("tmp", &fid, &st), -ENOENT);
	stop();

	start(&all, NULL);
	cr_assert_eq(walk_path("tmp", &fid, &st), 0);
	if (statfs("/proc", &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC) {
		cr_assert_eq(walk_path("proc", &fid, &st), -EACCES);
		cr_assert_eq(walk_path("proc/self", &fid, &st), -EACCES);
	}
	if (statfs("/sys", &sf) == 0 && sf.f_type == SYSFS_MAGIC)
		cr_assert_eq(walk_path("sys", &fid, &st), -EACCES);
	stop();
	serve_root = root;
}

Test(gofer, open_rules)
{
	struct gofer_stat st;
	uint32_t fid, dir;
	char p[PATH_MAX * 2], q[PATH_MAX * 2], b[16];

	start(&all, NULL);
	cr_assert_eq(walk_path("hello.txt", &fid, &st), 0);
	cr_assert_eq(gofer_open(&c, fid, O_WRONLY), -EROFS);
	cr_assert_eq(gofer_open(&c, fid, O_RDWR), -EROFS);
	cr_assert_eq(gofer_open(&c, fid, O_RDONLY | O_TRUNC), -EROFS);
	cr_assert_eq(gofer_open(&c, fid, O_ACCMODE), -EINVAL);
	cr_assert_eq(gofer_open(&c, fid, O_RDONLY | O_DIRECTORY), -ENOTDIR);

	/* a FIFO is refused, without blocking the gofer */
	cr_assert_eq(walk_path("fifo", &fid, &st), 0);
	cr_assert(S_ISFIFO(st.mode));
	cr_assert_eq(gofer_open(&c, fid, O_RDONLY), -EACCES);

	/* swapped between walk and open: refused */
	cr_assert_eq(walk_path("hello.txt", &fid, &st), 0);
	xwrite(root, "other.txt", "swapped\n", 8);
	snprintf(p, sizeof(p), "%s/other.txt", root);
	snprintf(q, sizeof(q), "%s/hello.txt", root);
	xdo(rename(p, q), "rename");
	cr_assert_eq(gofer_open(&c, fid, O_RDONLY), -ESTALE);
	/* a fresh walk sees the new file */
	cr_assert_eq(walk_path("hello.txt", &fid, &st), 0);
	cr_assert_eq(gofer_open(&c, fid, O_RDONLY), 0);
	cr_assert_eq(gofer_read(&c, fid, 0, b, sizeof(b)), 8);

	/* a directory opens without O_DIRECTORY too; reading it as a file fails */
	cr_assert_eq(walk_path("sub", &dir, &st), 0);
	cr_assert_eq(gofer_open(&c, dir, O_RDONLY), 0);
	cr_assert_eq(gofer_open(&c, dir, O_RDONLY | O_DIRECTORY), -EBUSY, "opened once");
	cr_assert_eq(gofer_read(&c, dir, 0, b, sizeof(b)), -EISDIR);
	stop();
}

Test(gofer, clunk_and_fid_limit)
{
	struct gofer_policy pol = { .max_fids = 8 };
	struct gofer_stat st;
	uint32_t fids[16], sub, inner;
	int i, err = 0;

	start(&pol, NULL);
	cr_assert_eq(gofer_clunk(&c, GOFER_ROOT_FID), -EINVAL);
	for (i = 0; i < 16; i++) {
		err = gofer_walk(&c, GOFER_ROOT_FID, "hello.txt", &fids[i], &st);
		if (err)
			break;
	}
	cr_assert_eq(err, -EMFILE);
	cr_assert_eq(i, 7, "root + 7 walks");
	cr_assert_eq(gofer_clunk(&c, fids[3]), 0);
	cr_assert_eq(gofer_clunk(&c, fids[3]), -EBADF);
	cr_assert_eq(gofer_stat(&c, fids[3], &st), -EBADF);
	cr_assert_eq(gofer_walk(&c, GOFER_ROOT_FID, "sub", &sub, &st), 0);
	cr_assert_eq(sub, fids[3], "the lowest free fid is reused");
	for (i = 0; i < 7; i++)
		if (i != 3)
			cr_assert_eq(gofer_clunk(&c, fids[i]), 0);

	/* a parent outlives its fid while a child needs it for OPEN */
	cr_assert_eq(gofer_walk(&c, sub, "inner.txt", &inner, &st), 0);
	cr_assert_eq(gofer_clunk(&c, sub), 0);
	cr_assert_eq(gofer_open(&c, inner, O_RDONLY), 0);
	cr_assert_eq(gofer_read(&c, inner, 0, (char[8]){ 0 }, 8), 6);
	cr_assert_eq(gofer_clunk(&c, inner), 0);
	stop();
}

/* The real process entry: seccomp, close_range and all. Exercises every operation,
 * errors included, and the gofer must still exit 0 on EOF, not be killed. */
Test(gofer, gofer_main_under_seccomp)
{
	static char names[NMANY + 16][GOFER_NAME_MAX + 1];
	static uint8_t b[GOFER_IO_MAX];
	char *argv[] = { "gofer", "--sock-fd", "FD", "--root", root, "--all",
			 "--deny", "pub", NULL };
	char status[PATH_MAX], line[256];
	struct gofer_stat st;
	uint32_t fid;
	int count;
	bool seccomp = false, nnp = false;
	FILE *f;

	fill_many();
	start(NULL, argv);
	cr_assert_eq(walk_path("hello.txt", &fid, &st), 0);
	cr_assert_eq(gofer_open(&c, fid, O_RDONLY), 0);
	cr_assert_eq(gofer_read(&c, fid, 0, b, sizeof(b)), 13);
	cr_assert_eq(walk_path("big.bin", &fid, &st), 0);
	cr_assert_eq(gofer_open(&c, fid, O_RDONLY), 0);
	cr_assert_eq(gofer_read(&c, fid, 100, b, sizeof(b)), GOFER_IO_MAX);
	cr_assert_eq(walk_path("link_out", &fid, &st), 0);
	cr_assert_eq(gofer_readlink(&c, fid, (char *)b, sizeof(b)), 13);
	cr_assert_eq(gofer_open(&c, fid, O_RDONLY), -ELOOP);
	cr_assert_eq(walk_path("etc/shadow", &fid, &st), -EACCES);
	cr_assert_eq(walk_path("pub", &fid, &st), -EACCES, "--deny adds to the defaults");
	cr_assert_eq(walk_path("nope", &fid, &st), -ENOENT);
	cr_assert_eq(walk_path("many", &fid, &st), 0);
	cr_assert_eq(gofer_open(&c, fid, O_RDONLY | O_DIRECTORY), 0);
	read_all(fid, 64, names, &count);
	cr_assert_eq(count, NMANY);
	/* many fids: the table grows (realloc) under the filter */
	for (int i = 0; i < 500; i++)
		cr_assert_eq(gofer_walk(&c, GOFER_ROOT_FID, "sub", &fid, &st), 0);
	cr_assert_eq(gofer_stat(&c, fid, &st), 0);
	cr_assert_eq(gofer_clunk(&c, fid), 0);
	cr_assert_eq(gofer_walk(&c, GOFER_ROOT_FID, "..", &fid, &st), -EINVAL);

	snprintf(status, sizeof(status), "/proc/%d/status", (int)gofer_pid);
	f = fopen(status, "r");
	cr_assert(f);
	while (fgets(line, sizeof(line), f)) {
		seccomp |= strcmp(line, "Seccomp:\t2\n") == 0;
		nnp |= strcmp(line, "NoNewPrivs:\t1\n") == 0;
	}
	fclose(f);
	cr_assert(seccomp, "seccomp filter mode");
	cr_assert(nnp, "no_new_privs");
	stop();
}

/* ---- READ_MEM: file data straight into the sandbox's memory file ---- */

#define MEM_SIZE (4u << 20)

static int make_memfd(void)
{
	int fd = memfd_create("test-memory", 0);

	cr_assert_geq(fd, 0);
	xdo(ftruncate(fd, MEM_SIZE), "ftruncate");
	return fd;
}

static void assert_big_at(int memfd, uint64_t mem_off, uint64_t file_off, size_t n)
{
	static uint8_t b[BIG_SIZE];

	cr_assert_eq(pread(memfd, b, n, (off_t)mem_off), (ssize_t)n);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(b[i], big_byte(file_off + i), "byte %zu", i);
}

/* What a hostile sentry may ask: only inside the memory file's size (never growing it),
 * only from an opened regular file; and the data lands where asked. */
static void check_read_mem(int memfd)
{
	struct gofer_stat st;
	uint32_t fid, dir, fifo;
	struct stat mst;

	cr_assert_eq(walk_path("big.bin", &fid, &st), 0);
	cr_assert_eq(gofer_read_mem(&c, fid, 0, 4096, 100), -EBADF, "not opened yet");
	cr_assert_eq(gofer_open(&c, fid, O_RDONLY), 0);
	cr_assert_eq(gofer_read_mem(&c, fid, 0, 8192, BIG_SIZE), BIG_SIZE);
	assert_big_at(memfd, 8192, 0, BIG_SIZE);
	cr_assert_eq(gofer_read_mem(&c, fid, 1000, 3 << 20, 5000), 5000);
	assert_big_at(memfd, 3 << 20, 1000, 5000);
	cr_assert_eq(gofer_read_mem(&c, fid, BIG_SIZE - 10, 1 << 20, 4096), 10, "short at EOF");
	cr_assert_eq(gofer_read_mem(&c, fid, BIG_SIZE, 1 << 20, 4096), 0, "EOF");
	cr_assert_eq(gofer_read_mem(&c, fid, 0, MEM_SIZE - 100, 100), 100, "the last bytes");
	cr_assert_eq(gofer_read_mem(&c, fid, 0, MEM_SIZE - 100, 101), -EINVAL, "past the end");
	cr_assert_eq(gofer_read_mem(&c, fid, 0, MEM_SIZE, 1), -EINVAL);
	cr_assert_eq(gofer_read_mem(&c, fid, 0, INT64_MAX - 10, 100), -EINVAL);
	cr_assert_eq(gofer_read_mem(&c, fid, 0, INT64_MAX + 1ull, 100), -EINVAL);
	cr_assert_eq(fstat(memfd, &mst), 0);
	cr_assert_eq(mst.st_size, MEM_SIZE, "never grown");
	cr_assert_eq(walk_path("sub", &dir, &st), 0);
	cr_assert_eq(gofer_open(&c, dir, O_RDONLY | O_DIRECTORY), 0);
	cr_assert_eq(gofer_read_mem(&c, dir, 0, 0, 100), -EINVAL, "a directory");
	cr_assert_eq(walk_path("fifo", &fifo, &st), 0);
	cr_assert_eq(gofer_open(&c, fifo, O_RDONLY), -EACCES);
	cr_assert_eq(gofer_read_mem(&c, fifo, 0, 0, 100), -EBADF, "a FIFO is never opened");
	/* The count is capped, as READ's. */
	cr_assert_eq(gofer_read_mem(&c, fid, 0, 0, GOFER_MEM_IO_MAX * 2), BIG_SIZE);
	assert_big_at(memfd, 0, 0, BIG_SIZE);
}

Test(gofer, read_mem)
{
	int memfd = make_memfd();
	struct gofer_memory mem;
	struct gofer_policy pol = { .system_only = false, .memory = &mem };

	xdo(gofer_memory_open(&mem, memfd), "gofer_memory_open");
	start(&pol, NULL);
	check_read_mem(memfd);
	stop();
	gofer_memory_close(&mem);
	close(memfd);
}

Test(gofer, read_mem_without_memory_file)
{
	struct gofer_stat st;
	uint32_t fid;
	char b[16];

	start(&all, NULL);
	cr_assert_eq(walk_path("hello.txt", &fid, &st), 0);
	cr_assert_eq(gofer_open(&c, fid, O_RDONLY), 0);
	cr_assert_eq(gofer_read_mem(&c, fid, 0, 0, 13), -EOPNOTSUPP);
	cr_assert_eq(c.no_read_mem, 1, "remembered: not asked again");
	cr_assert_eq(gofer_read(&c, fid, 0, b, sizeof(b)), 13, "READ still works");
	stop();
}

Test(gofer, memory_open_refuses_other_files)
{
	struct gofer_memory mem;
	char p[PATH_MAX * 2];
	int fd;

	snprintf(p, sizeof(p), "%s/hello.txt", root);
	fd = open(p, O_RDWR);
	cr_assert_geq(fd, 0);
	cr_assert_eq(gofer_memory_open(&mem, fd), -EBADF, "a host file is not a memory file");
	close(fd);
	cr_assert_eq(gofer_memory_open(&mem, 0x7fff), -EBADF);
}

/* The same under gofer_main's seccomp filter: the splices are allowed. */
Test(gofer, gofer_main_read_mem)
{
	int memfd = make_memfd();
	char memarg[16];
	char *argv[] = { "gofer", "--sock-fd", "FD", "--root", root, "--all",
			 "--memory-fd", memarg, NULL };

	snprintf(memarg, sizeof(memarg), "%d", memfd);
	start(NULL, argv);
	check_read_mem(memfd);
	stop();
	close(memfd);
}

Test(gofer, gofer_main_usage)
{
	char *bad1[] = { "gofer", NULL };
	char *bad2[] = { "gofer", "--sock-fd", "x", NULL };
	char *bad3[] = { "gofer", "--sock-fd", "0", "--bogus", NULL };

	/* run in children: a usage error must not reach the part that closes fds */
	char **cases[] = { bad1, bad2, bad3 };

	for (int i = 0; i < 3; i++) {
		int status, devnull;
		pid_t pid = fork();

		cr_assert_geq(pid, 0);
		if (pid == 0) {
			int argc = 0;

			devnull = open("/dev/null", O_WRONLY);
			dup2(devnull, 2);
			while (cases[i][argc])
				argc++;
			_exit(gofer_main(argc, cases[i]));
		}
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		cr_assert(WIFEXITED(status));
		cr_assert_eq(WEXITSTATUS(status), 2);
	}
}

/* ---- extra read-only exports (--ro-bind) ---- */

/* Adds a/b/{file,c/d,hl,secret.key}, a/other, a/lnk -> b, x/y, s -> a, self -> . and
 * outdir -> the outside directory. */
static void build_export_tree(void)
{
	char p[PATH_MAX * 2], q[PATH_MAX * 2];

#define D(rel) (snprintf(p, sizeof(p), "%s/%s", root, rel), p)
	xdo(mkdir(D("a"), 0755), "mkdir a");
	xdo(mkdir(D("a/b"), 0755), "mkdir a/b");
	xdo(mkdir(D("a/b/c"), 0755), "mkdir a/b/c");
	xwrite(root, "a/b/file", "in export\n", 10);
	xwrite(root, "a/b/c/d", "d\n", 2);
	xwrite(root, "a/b/secret.key", "KEY\n", 4);
	snprintf(q, sizeof(q), "%s/etc/shadow", root);
	xdo(link(q, D("a/b/hl")), "link");
	xwrite(root, "a/other", "other\n", 6);
	xdo(symlink("b", D("a/lnk")), "symlink a/lnk");
	xdo(mkdir(D("x"), 0755), "mkdir x");
	xwrite(root, "x/y", "y\n", 2);
	xdo(symlink("a", D("s")), "symlink s");
	xdo(symlink(".", D("self")), "symlink self");
	xdo(symlink(outside, D("outdir")), "symlink outdir");
#undef D
}

/* Lists a directory (opened here; "" is the root) into names, sorted. */
static int list_names(const char *path, char (*names)[GOFER_NAME_MAX + 1], int max)
{
	struct gofer_stat st;
	uint32_t fid;
	int count;

	cr_assert_eq(walk_path(path, &fid, &st), 0, "walk %s", path);
	cr_assert_eq(gofer_open(&c, fid, O_RDONLY | O_DIRECTORY), 0, "open %s", path);
	read_all(fid, max, names, &count);
	qsort(names, (size_t)count, sizeof(names[0]), cmp_names);
	if (fid != GOFER_ROOT_FID)
		cr_assert_eq(gofer_clunk(&c, fid), 0);
	return count;
}

/* The directory lists exactly want (sorted, NULL-terminated), in batches of 1 and 64. */
static void expect_list(const char *path, const char *const *want)
{
	static char names[NMANY + 16][GOFER_NAME_MAX + 1];
	int n = 0;

	while (want[n])
		n++;
	for (int max = 1; max <= 64; max *= 64) {
		int count = list_names(path, names, max);

		cr_assert_eq(count, n, "%s lists %d entries, want %d", path, count, n);
		for (int i = 0; i < n; i++)
			cr_assert_str_eq(names[i], want[i], "%s", path);
	}
}

static const char *const export_ab[] = { "/a/b", NULL };

Test(gofer, exports_show_the_way_and_the_export)
{
	struct gofer_policy pol = { .system_only = true, .exports = export_ab };
	struct gofer_stat st;
	uint32_t fid, a;
	char b[32];

	build_export_tree();
	start(&pol, NULL);
	cr_assert_eq(walk_path("a", &a, &st), 0);
	cr_assert(S_ISDIR(st.mode));
	expect_list("a", (const char *[]){ "b", NULL });
	cr_assert_eq(walk_path("a/other", &fid, &st), -ENOENT);
	cr_assert_eq(walk_path("a/lnk", &fid, &st), -ENOENT);
	cr_assert_eq(gofer_walk(&c, a, "nope", &fid, &st), -ENOENT, "hidden like a missing one");
	cr_assert_eq(walk_path("a/b/file", &fid, &st), 0);
	cr_assert_eq(gofer_open(&c, fid, O_RDONLY), 0);
	cr_assert_eq(gofer_read(&c, fid, 0, b, sizeof(b)), 10);
	cr_assert_eq(memcmp(b, "in export\n", 10), 0);
	cr_assert_eq(walk_path("a/b/c/d", &fid, &st), 0);
	cr_assert(S_ISREG(st.mode));
	cr_assert_eq(walk_path("a/b/nope", &fid, &st), -ENOENT);
	expect_list("a/b", (const char *[]){ "c", "file", "hl", "secret.key", NULL });
	expect_list("a/b/c", (const char *[]){ "d", NULL });
	cr_assert_eq(walk_path("x", &fid, &st), -ENOENT);
	cr_assert_eq(walk_path("x/y", &fid, &st), -ENOENT);
	cr_assert_eq(walk_path("s", &fid, &st), -ENOENT);
	cr_assert_eq(walk_path("home", &fid, &st), -ENOENT);
	/* the system names are untouched, and so is the deny list */
	expect_list("", (const char *[]){ "a", "etc", "lib", "usr", NULL });
	cr_assert_eq(walk_path("usr/lib", &fid, &st), 0);
	cr_assert_eq(walk_path("etc/passwd", &fid, &st), 0);
	cr_assert_eq(walk_path("etc/shadow", &fid, &st), -EACCES);
	cr_assert_eq(walk_path("a/b/hl", &fid, &st), -EACCES, "hard link to etc/shadow");
	/* a fid of the partial directory keeps working after its parent's clunk */
	cr_assert_eq(gofer_walk(&c, a, "b", &fid, &st), 0);
	cr_assert_eq(gofer_clunk(&c, a), 0);
	cr_assert_eq(gofer_walk(&c, fid, "file", &a, &st), 0);
	stop();
}

Test(gofer, exports_several_nested_and_duplicated)
{
	static const char *const exports[] = { "/a/b/c", "/x", "/a/b/c/d", "/a/other",
					       "/a/b/c", "/usr/lib", NULL };
	struct gofer_policy pol = { .system_only = true, .exports = exports };
	struct gofer_policy off = { .system_only = false, .exports = exports };
	struct gofer_stat st;
	uint32_t fid;

	build_export_tree();
	start(&pol, NULL);
	expect_list("", (const char *[]){ "a", "etc", "lib", "usr", "x", NULL });
	expect_list("a", (const char *[]){ "b", "other", NULL });
	expect_list("a/b", (const char *[]){ "c", NULL });
	expect_list("a/b/c", (const char *[]){ "d", NULL });
	expect_list("x", (const char *[]){ "y", NULL });
	cr_assert_eq(walk_path("a/other", &fid, &st), 0);
	cr_assert(S_ISREG(st.mode), "a file can be an export too");
	cr_assert_eq(walk_path("a/b/c/d", &fid, &st), 0);
	cr_assert_eq(walk_path("x/y", &fid, &st), 0);
	cr_assert_eq(walk_path("a/b/file", &fid, &st), -ENOENT);
	cr_assert_eq(walk_path("a/lnk", &fid, &st), -ENOENT);
	cr_assert_eq(walk_path("usr/lib", &fid, &st), 0);
	stop();

	/* without system_only, exports change nothing */
	start(&off, NULL);
	cr_assert_eq(walk_path("home", &fid, &st), 0);
	cr_assert_eq(walk_path("a/b/file", &fid, &st), 0);
	stop();
}

Test(gofer, exports_behind_symlinks_are_unreachable)
{
	static const char *const exports[] = { "/s/b", "/a/lnk/c", "/hello.txt/z", NULL };
	struct gofer_policy pol = { .system_only = true, .exports = exports };
	struct gofer_stat st;
	uint32_t fid;

	build_export_tree();
	start(&pol, NULL);
	/* the link on the way is visible as a link, nothing through it */
	cr_assert_eq(walk_path("s", &fid, &st), 0);
	cr_assert(S_ISLNK(st.mode));
	cr_assert_eq(walk_path("s/b", &fid, &st), -ENOTDIR);
	cr_assert_eq(walk_path("a", &fid, &st), 0);
	expect_list("a", (const char *[]){ "lnk", NULL });
	cr_assert_eq(walk_path("a/lnk", &fid, &st), 0);
	cr_assert(S_ISLNK(st.mode));
	cr_assert_eq(walk_path("a/lnk/c", &fid, &st), -ENOTDIR);
	/* and where the links point is not exported */
	cr_assert_eq(walk_path("a/b", &fid, &st), -ENOENT);
	cr_assert_eq(walk_path("a/b/c", &fid, &st), -ENOENT);
	/* nor is anything under a file */
	cr_assert_eq(walk_path("hello.txt", &fid, &st), 0);
	cr_assert_eq(walk_path("hello.txt/z", &fid, &st), -ENOTDIR);
	expect_list("", (const char *[]){ "a", "etc", "hello.txt", "lib", "s", "usr", NULL });
	stop();
}

Test(gofer, exports_keep_the_deny_list)
{
	static const char *const deny[] = { "a/b/*.key", "etc/shadow", NULL };
	static const char *const deny_a[] = { "a", NULL };
	struct gofer_policy pol = { .system_only = true, .exports = export_ab, .deny = deny };
	struct gofer_policy pol_a = { .system_only = true, .exports = export_ab, .deny = deny_a };
	struct gofer_stat st;
	uint32_t fid;

	build_export_tree();
	start(&pol, NULL);
	cr_assert_eq(walk_path("a/b/secret.key", &fid, &st), -EACCES);
	cr_assert_eq(walk_path("a/b/hl", &fid, &st), -EACCES, "hard link to a denied file");
	cr_assert_eq(walk_path("a/b/file", &fid, &st), 0);
	stop();

	/* a denied ancestor stays denied: the export behind it is unreachable */
	start(&pol_a, NULL);
	cr_assert_eq(walk_path("a", &fid, &st), -EACCES);
	cr_assert_eq(walk_path("a/b/file", &fid, &st), -EACCES);
	stop();
}

Test(gofer, exports_bad_strings_rejected)
{
	static const char *const bad[] = { "", "a/b", "/", "//", "/a//b", "/a/", "/a/./b",
					   "/a/../b", "/.", "/..", "./a", "/a/b/." };
	char longname[GOFER_NAME_MAX + 3], canon[PATH_MAX], want[PATH_MAX * 2], rroot[PATH_MAX];
	char in[PATH_MAX * 2];
	struct gofer_policy pol = { .system_only = true };
	int sv[2], rfd;

	build_export_tree();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(gofer_export_check(bad[i]), -EINVAL, "'%s'", bad[i]);
	cr_assert_eq(gofer_export_check(NULL), -EINVAL);
	longname[0] = '/';
	memset(longname + 1, 'n', GOFER_NAME_MAX + 1);
	longname[GOFER_NAME_MAX + 2] = '\0';
	cr_assert_eq(gofer_export_check(longname), -ENAMETOOLONG);
	longname[GOFER_NAME_MAX + 1] = '\0';
	cr_assert_eq(gofer_export_check(longname), 0);
	cr_assert_eq(gofer_export_check("/a"), 0);
	cr_assert_eq(gofer_export_check("/a/..b/.c/..."), 0);

	/* gofer_serve refuses a bad list outright, with system_only or without */
	xdo(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), "socketpair");
	rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(rfd, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *const list[] = { "/a/b", bad[i], NULL };

		pol.exports = list;
		pol.system_only = i % 2;
		cr_assert_eq(gofer_serve(sv[1], rfd, &pol), -EINVAL, "'%s'", bad[i]);
	}
	pol.exports = (const char *const[]){ longname, NULL };
	longname[GOFER_NAME_MAX + 1] = 'n';
	cr_assert_eq(gofer_serve(sv[1], rfd, &pol), -ENAMETOOLONG);
	close(rfd);
	close(sv[0]);
	close(sv[1]);

	/* gofer_canonical_export: realpath, a directory, not "/" */
	cr_assert(realpath(root, rroot));
	snprintf(want, sizeof(want), "%s/a/b", rroot);
	snprintf(in, sizeof(in), "%s/a/b", root);
	cr_assert_eq(gofer_canonical_export(in, canon, sizeof(canon)), 0);
	cr_assert_str_eq(canon, want);
	snprintf(in, sizeof(in), "%s/s/b/", root);
	cr_assert_eq(gofer_canonical_export(in, canon, sizeof(canon)), 0);
	cr_assert_str_eq(canon, want, "the symlinked ancestor is resolved");
	cr_assert_eq(gofer_export_check(canon), 0);
	xdo(chdir(root), "chdir");
	cr_assert_eq(gofer_canonical_export("a/lnk", canon, sizeof(canon)), 0);
	cr_assert_str_eq(canon, want, "relative to the cwd");
	cr_assert_eq(gofer_canonical_export("./a/b/../b", canon, strlen(want) + 1), 0);
	cr_assert_eq(gofer_canonical_export("a/b", canon, strlen(want)), -ENAMETOOLONG);
	cr_assert_eq(gofer_canonical_export("a/b/file", canon, sizeof(canon)), -ENOTDIR);
	cr_assert_eq(gofer_canonical_export("a/nope", canon, sizeof(canon)), -ENOENT);
	cr_assert_eq(gofer_canonical_export("loop1", canon, sizeof(canon)), -ELOOP);
	cr_assert_eq(gofer_canonical_export("/", canon, sizeof(canon)), -EINVAL);
	cr_assert_eq(gofer_canonical_export("/usr/..", canon, sizeof(canon)), -EINVAL);
	xdo(chdir("/"), "chdir");
}

/* --export under seccomp: resolved before confinement, a symlinked ancestor replaced by
 * its target. */
Test(gofer, gofer_main_exports)
{
	char *argv[] = { "gofer", "--export", "/s/b", "--sock-fd", "FD", "--root", root,
			 "--export", "/x", "--deny", "--export", NULL };
	struct gofer_stat st;
	uint32_t fid;
	char b[16];

	build_export_tree();
	start(NULL, argv);
	cr_assert_eq(walk_path("a/b/file", &fid, &st), 0);
	cr_assert_eq(gofer_open(&c, fid, O_RDONLY), 0);
	cr_assert_eq(gofer_read(&c, fid, 0, b, sizeof(b)), 10);
	cr_assert_eq(walk_path("s", &fid, &st), -ENOENT, "the canonical path is exported");
	expect_list("", (const char *[]){ "a", "etc", "lib", "usr", "x", NULL });
	expect_list("a", (const char *[]){ "b", NULL });
	cr_assert_eq(walk_path("x/y", &fid, &st), 0);
	cr_assert_eq(walk_path("home", &fid, &st), -ENOENT);
	cr_assert_eq(walk_path("a/b/hl", &fid, &st), -EACCES);
	cr_assert_eq(walk_path("etc/passwd", &fid, &st), 0);
	stop();
}

Test(gofer, gofer_main_bad_exports)
{
	static const char *const bad[] = {
		"relative", "/a//b", "/a/b/", "/a/../x", "/a/./b", "/",	/* syntax */
		"/nope", "/a/b/file", "/outdir", "/self", "/loop1",	/* on the host */
	};
	char sock[16];
	int sv[2];

	build_export_tree();
	xdo(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), "socketpair");
	snprintf(sock, sizeof(sock), "%d", sv[1]);
	/* the last case is a good export on a bad socket: past the exports, failure 1 */
	for (size_t i = 0; i <= sizeof(bad) / sizeof(bad[0]); i++) {
		bool good = i == sizeof(bad) / sizeof(bad[0]);
		char *argv[] = { "gofer", "--sock-fd", good ? "0" : sock, "--root", root,
				 "--export", "/a/b", "--export", good ? "/x" : (char *)bad[i],
				 NULL };
		int status;
		pid_t pid = fork();

		cr_assert_geq(pid, 0);
		if (pid == 0) {
			int devnull = open("/dev/null", O_RDWR);

			dup2(devnull, 0); /* not a socket */
			dup2(devnull, 2);
			_exit(gofer_main(9, argv));
		}
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		cr_assert(WIFEXITED(status));
		cr_assert_eq(WEXITSTATUS(status), good ? 1 : 2, "%s", good ? "good" : bad[i]);
	}
	close(sv[0]);
	close(sv[1]);
}

/* As `ward run --ro-bind` will use it: the host root, the export a host path. Its
 * ancestors list nothing but the way to it (here /tmp shows one entry). */
Test(gofer, host_root_export)
{
	static char names[NMANY + 16][GOFER_NAME_MAX + 1];
	char rroot[PATH_MAX], canon[PATH_MAX], in[PATH_MAX * 2], parent[PATH_MAX], *base;
	const char *exports[] = { canon, NULL };
	struct gofer_policy pol = { .system_only = true, .exports = exports };
	struct gofer_stat st;
	uint32_t fid;
	bool saw_first = false;
	int n;

	build_export_tree();
	cr_assert(realpath(root, rroot));
	snprintf(in, sizeof(in), "%s/a/b", root);
	cr_assert_eq(gofer_canonical_export(in, canon, sizeof(canon)), 0);
	serve_root = "/";
	start(&pol, NULL);
	snprintf(in, sizeof(in), "%s/file", canon);
	cr_assert_eq(walk_path(in, &fid, &st), 0);
	cr_assert_eq(gofer_open(&c, fid, O_RDONLY), 0);
	snprintf(in, sizeof(in), "%s/x", rroot);
	cr_assert_eq(walk_path(in, &fid, &st), -ENOENT, "%s", in);
	cr_assert_eq(walk_path("usr/bin", &fid, &st), 0);
	cr_assert_eq(walk_path("proc", &fid, &st), -ENOENT);

	/* the root shows the export's first component besides the system names */
	snprintf(parent, sizeof(parent), "%s", canon + 1);
	*strchrnul(parent, '/') = '\0';
	n = list_names("", names, 64);
	for (int i = 0; i < n; i++) {
		saw_first |= strcmp(names[i], parent) == 0;
		cr_assert_str_neq(names[i], "proc");
	}
	cr_assert(saw_first, "%s listed", parent);

	/* the temp root's parent lists the temp root alone */
	snprintf(parent, sizeof(parent), "%s", rroot);
	base = strrchr(parent, '/');
	*base++ = '\0';
	expect_list(parent, (const char *[]){ base, NULL });
	stop();
	serve_root = root;
}

/* ---- the write side ---- */

static const char *const ws_writable[] = { "/ws", "/ws2", NULL };
static const char *const ws_deny[] = { "ws/secret*", "etc/shadow", NULL };
static const char *const ws_exports[] = { "/ro", NULL };

/* Adds ws/ (writable) with ws/old.txt and ws/sub/, ws2/ (another writable export) and
 * ro/ (only visible). */
static void build_ws(void)
{
	char p[PATH_MAX * 2];

#define D(rel) (snprintf(p, sizeof(p), "%s/%s", root, rel), p)
	xdo(mkdir(D("ws"), 0755), "mkdir ws");
	xdo(mkdir(D("ws/sub"), 0755), "mkdir ws/sub");
	xdo(mkdir(D("ws2"), 0755), "mkdir ws2");
	xdo(mkdir(D("ro"), 0755), "mkdir ro");
#undef D
	xwrite(root, "ws/old.txt", "old contents\n", 13);
	xwrite(root, "ro/r.txt", "ro\n", 3);
}

/* The host file's contents (NUL-terminated), or "" if absent. */
static const char *host_read(const char *rel)
{
	static char b[4096];
	char p[PATH_MAX * 2];
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	b[0] = '\0';
	fd = open(p, O_RDONLY | O_NOFOLLOW);
	if (fd < 0)
		return b;
	n = read(fd, b, sizeof(b) - 1);
	b[n > 0 ? n : 0] = '\0';
	close(fd);
	return b;
}

static bool host_exists(const char *dir, const char *rel)
{
	char p[PATH_MAX * 2];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return lstat(p, &st) == 0;
}

static struct gofer_policy ws_policy(bool system_only)
{
	return (struct gofer_policy){ .system_only = system_only, .exports = ws_exports,
				      .writable = ws_writable, .deny = ws_deny };
}

Test(gofer, write_create_write_read)
{
	struct gofer_policy pol = ws_policy(false);
	struct gofer_stat st;
	uint32_t ws, f, g, r;
	char b[64];

	build_ws();
	start(&pol, NULL);
	cr_assert_eq(walk_path("ws", &ws, &st), 0);
	cr_assert_eq(gofer_create(&c, ws, "new.txt", O_EXCL, 0640, &f, &st), 0);
	cr_assert_eq(st.mode, S_IFREG | 0640, "no umask: %o", st.mode);
	cr_assert_eq(st.size, 0);
	cr_assert_eq(gofer_write(&c, f, 0, "hello world", 11), 11);
	cr_assert_eq(gofer_write(&c, f, 6, "WORLD!", 6), 6);
	cr_assert_eq(gofer_read(&c, f, 0, b, sizeof(b)), 12, "opened read+write");
	cr_assert_eq(memcmp(b, "hello WORLD!", 12), 0);
	cr_assert_str_eq(host_read("ws/new.txt"), "hello WORLD!");
	cr_assert_eq(gofer_stat(&c, f, &st), 0);
	cr_assert_eq(st.size, 12);
	cr_assert_eq(gofer_fsync(&c, f, 0), 0);
	cr_assert_eq(gofer_fsync(&c, f, 1), 0);

	/* O_EXCL, then open-or-create with and without O_TRUNC */
	cr_assert_eq(gofer_create(&c, ws, "new.txt", O_EXCL, 0600, &g, &st), -EEXIST);
	cr_assert_eq(gofer_create(&c, ws, "new.txt", 0, 0600, &g, &st), 0);
	cr_assert_eq(st.size, 12);
	cr_assert_eq(st.mode, S_IFREG | 0640, "an existing file keeps its mode");
	cr_assert_eq(gofer_create(&c, ws, "new.txt", O_TRUNC, 0600, &g, &st), 0);
	cr_assert_eq(st.size, 0);
	cr_assert_eq(gofer_create(&c, ws, "app.txt", O_APPEND, 0600, &g, &st), 0);
	cr_assert_eq(gofer_write(&c, g, 0, "ab", 2), 2);
	cr_assert_eq(gofer_write(&c, g, 0, "cd", 2), 2, "appends whatever the offset");
	cr_assert_str_eq(host_read("ws/app.txt"), "abcd");
	cr_assert_eq(gofer_create(&c, ws, "sub", 0, 0600, &g, &st), -EISDIR);

	/* OPEN for writing an existing file */
	cr_assert_eq(walk_path("ws/old.txt", &f, &st), 0);
	cr_assert_eq(gofer_write(&c, f, 0, "x", 1), -EBADF, "not opened");
	cr_assert_eq(gofer_open(&c, f, O_RDONLY), 0);
	cr_assert_eq(gofer_write(&c, f, 0, "x", 1), -EBADF, "opened read-only");
	cr_assert_eq(walk_path("ws/old.txt", &f, &st), 0);
	cr_assert_eq(gofer_open(&c, f, O_WRONLY | O_TRUNC), 0);
	cr_assert_eq(gofer_write(&c, f, 0, "new", 3), 3);
	cr_assert_str_eq(host_read("ws/old.txt"), "new");
	cr_assert_eq(gofer_read(&c, f, 0, b, sizeof(b)), -EBADF, "write-only");
	cr_assert_eq(walk_path("ws/old.txt", &f, &st), 0);
	cr_assert_eq(gofer_open(&c, f, O_RDWR | O_APPEND), 0);
	cr_assert_eq(gofer_write(&c, f, 0, "er", 2), 2);
	cr_assert_str_eq(host_read("ws/old.txt"), "newer");
	cr_assert_eq(walk_path("ws/sub", &f, &st), 0);
	cr_assert_eq(gofer_open(&c, f, O_RDWR), -EISDIR);
	cr_assert_eq(gofer_open(&c, ws, O_WRONLY), -EISDIR);

	/* nothing outside the writable exports */
	cr_assert_eq(walk_path("ro/r.txt", &r, &st), 0);
	cr_assert_eq(gofer_open(&c, r, O_WRONLY), -EROFS);
	cr_assert_eq(gofer_open(&c, r, O_RDONLY | O_TRUNC), -EROFS);
	cr_assert_eq(gofer_open(&c, r, O_RDONLY), 0);
	cr_assert_eq(gofer_write(&c, r, 0, "x", 1), -EBADF);
	cr_assert_eq(walk_path("ro", &r, &st), 0);
	cr_assert_eq(gofer_create(&c, r, "x", 0, 0644, &g, &st), -EROFS);
	cr_assert_eq(gofer_create(&c, GOFER_ROOT_FID, "x", 0, 0644, &g, &st), -EROFS);
	cr_assert_eq(gofer_create(&c, GOFER_ROOT_FID, "ws", 0, 0644, &g, &st), -EROFS);
	cr_assert(!host_exists(root, "ro/x") && !host_exists(root, "x"));
	cr_assert_str_eq(host_read("ro/r.txt"), "ro\n");

	/* denied names */
	cr_assert_eq(gofer_create(&c, ws, "secret.key", 0, 0600, &g, &st), -EACCES);
	cr_assert_eq(gofer_mkdir(&c, ws, "secrets", 0700, &g, &st), -EACCES);
	cr_assert(!host_exists(root, "ws/secret.key"));

	/* bad names, from the client and raw on the wire */
	static const char *const bad[] = { "", ".", "..", "a/b" };
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(gofer_create(&c, ws, bad[i], 0, 0644, &g, &st), -EINVAL);
		cr_assert_eq(gofer_mkdir(&c, ws, bad[i], 0755, &g, &st), -EINVAL);
		cr_assert_eq(gofer_symlink(&c, ws, bad[i], "t", &g, &st), -EINVAL);
		cr_assert_eq(gofer_unlink(&c, ws, bad[i], 0), -EINVAL);
		cr_assert_eq(gofer_rename(&c, ws, bad[i], ws, "ok", 0), -EINVAL);
		cr_assert_eq(gofer_rename(&c, ws, "old.txt", ws, bad[i], 0), -EINVAL);
		cr_assert_eq(gofer_link(&c, f, ws, bad[i]), -EINVAL);
	}
	{
		static uint8_t m[256];
		struct gofer_cur cur;

		for (int i = 0; i < 4; i++) {
			size_t nl = strlen(bad[i]);

			gofer_cur_init(&cur, m, sizeof(m));
			gofer_put_u32(&cur, (uint32_t)(GOFER_HDR_SIZE + 16 + nl));
			gofer_put_u16(&cur, GOFER_OP_CREATE);
			gofer_put_u16(&cur, 0);
			gofer_put_u32(&cur, 500u + (uint32_t)i);
			gofer_put_u32(&cur, ws);
			gofer_put_u32(&cur, 0);
			gofer_put_u32(&cur, 0644);
			gofer_put_u16(&cur, (uint16_t)nl);
			gofer_put_u16(&cur, 0);
			gofer_put_bytes(&cur, bad[i], nl);
			cr_assert_eq(raw_call(m, cur.pos, 500u + (uint32_t)i), EINVAL, "'%s'", bad[i]);
		}
	}
	cr_assert(!host_exists(root, "a"));
	stop();
}

Test(gofer, write_mkdir_unlink_rename_link_symlink)
{
	struct gofer_policy pol = ws_policy(true);
	struct gofer_stat st, st2;
	uint32_t ws, ws2, d, e, f, l, x, hl;
	char b[PATH_MAX];

	build_ws();
	start(&pol, NULL);
	cr_assert_eq(walk_path("ws", &ws, &st), 0);
	cr_assert_eq(walk_path("ws2", &ws2, &st), 0);
	cr_assert_eq(walk_path("home", &x, &st), -ENOENT, "system_only still hides the rest");

	/* mkdir, rmdir of a non-empty one, unlink */
	cr_assert_eq(gofer_mkdir(&c, ws, "d", 0750, &d, &st), 0);
	cr_assert_eq(st.mode, S_IFDIR | 0750);
	cr_assert_eq(gofer_mkdir(&c, ws, "d", 0750, &e, &st), -EEXIST);
	cr_assert_eq(gofer_create(&c, d, "f", O_EXCL, 0644, &f, &st), 0);
	cr_assert_eq(gofer_write(&c, f, 0, "data", 4), 4);
	cr_assert_str_eq(host_read("ws/d/f"), "data");
	cr_assert_eq(gofer_unlink(&c, ws, "d", AT_REMOVEDIR), -ENOTEMPTY);
	cr_assert_eq(gofer_unlink(&c, ws, "d", 0), -EISDIR);
	cr_assert_eq(gofer_unlink(&c, d, "f", AT_REMOVEDIR), -ENOTDIR);
	cr_assert_eq(gofer_unlink(&c, d, "nope", 0), -ENOENT);
	cr_assert_eq(gofer_read(&c, f, 0, b, 4), 4, "an open file survives its unlink");
	cr_assert_eq(gofer_unlink(&c, d, "f", 0), 0);
	cr_assert(!host_exists(root, "ws/d/f"));
	cr_assert_eq(gofer_read(&c, f, 0, b, 4), 4, "an open file survives its unlink");
	cr_assert_eq(gofer_unlink(&c, ws, "d", AT_REMOVEDIR), 0);
	cr_assert(!host_exists(root, "ws/d"));
	cr_assert_eq(gofer_unlink(&c, GOFER_ROOT_FID, "ws", AT_REMOVEDIR), -EROFS);
	cr_assert_eq(walk_path("ro", &x, &st), 0);
	cr_assert_eq(gofer_unlink(&c, x, "r.txt", 0), -EROFS);
	cr_assert_eq(gofer_mkdir(&c, x, "m", 0755, &e, &st), -EROFS);

	/* rename: plain, across directories, NOREPLACE, EXCHANGE; fids follow */
	cr_assert_eq(walk_path("ws/sub", &d, &st), 0);
	cr_assert_eq(gofer_create(&c, ws, "a", 0, 0644, &f, &st), 0);
	cr_assert_eq(gofer_write(&c, f, 0, "A", 1), 1);
	cr_assert_eq(gofer_create(&c, ws, "b", 0, 0644, &e, &st), 0);
	cr_assert_eq(gofer_write(&c, e, 0, "B", 1), 1);
	cr_assert_eq(walk_path("ws/a", &x, &st), 0); /* unopened fid of a */
	cr_assert_eq(gofer_rename(&c, ws, "a", ws, "b", RENAME_NOREPLACE), -EEXIST);
	cr_assert_eq(gofer_rename(&c, ws, "a", ws, "b", RENAME_EXCHANGE), 0);
	cr_assert_str_eq(host_read("ws/a"), "B");
	cr_assert_str_eq(host_read("ws/b"), "A");
	cr_assert_eq(gofer_rename(&c, ws, "b", d, "moved", 0), 0);
	cr_assert_str_eq(host_read("ws/sub/moved"), "A");
	cr_assert(!host_exists(root, "ws/b"));
	cr_assert_eq(gofer_open(&c, x, O_RDONLY), 0, "the fid followed its file");
	cr_assert_eq(gofer_read(&c, x, 0, b, 4), 1);
	cr_assert_eq(b[0], 'A');
	cr_assert_eq(gofer_rename(&c, ws, "a", d, "moved", 0), 0, "replaces");
	cr_assert_str_eq(host_read("ws/sub/moved"), "B");
	cr_assert_eq(gofer_rename(&c, ws, "nope", ws, "x", 0), -ENOENT);
	cr_assert_eq(gofer_rename(&c, d, "moved", ws2, "m", 0), -EXDEV, "another export");
	cr_assert_eq(walk_path("ro", &x, &st), 0);
	cr_assert_eq(gofer_rename(&c, x, "r.txt", ws, "stolen", 0), -EROFS);
	cr_assert_eq(gofer_rename(&c, d, "moved", ws, "secret", 0), -EACCES);
	cr_assert_eq(gofer_rename(&c, GOFER_ROOT_FID, "ws", GOFER_ROOT_FID, "w3", 0), -EROFS);

	/* symlink: stored verbatim, walking gives the link, never followed */
	cr_assert_eq(gofer_symlink(&c, ws, "lnk", "/etc/passwd", &l, &st), 0);
	cr_assert(S_ISLNK(st.mode));
	cr_assert_eq(gofer_readlink(&c, l, b, sizeof(b)), 11);
	cr_assert_eq(memcmp(b, "/etc/passwd", 11), 0);
	cr_assert_eq(walk_path("ws/lnk", &x, &st), 0);
	cr_assert(S_ISLNK(st.mode));
	cr_assert_eq(gofer_open(&c, x, O_WRONLY), -ELOOP);
	cr_assert_eq(gofer_create(&c, ws, "lnk", 0, 0644, &x, &st), -ELOOP);
	cr_assert_eq(gofer_create(&c, ws, "lnk", O_EXCL, 0644, &x, &st), -EEXIST);
	cr_assert_eq(gofer_symlink(&c, ws, "dl", "sub", &l, &st), 0);
	cr_assert_eq(gofer_create(&c, l, "x", 0, 0644, &x, &st), -ENOTDIR);
	cr_assert_eq(gofer_symlink(&c, ws, "lnk", "x", &l, &st), -EEXIST);
	cr_assert_eq(gofer_symlink(&c, ws, "empty", "", &l, &st), -ENOENT);
	cr_assert_eq(gofer_unlink(&c, ws, "lnk", 0), 0);

	/* link */
	cr_assert_eq(gofer_create(&c, ws, "orig", 0, 0644, &f, &st), 0);
	cr_assert_eq(gofer_link(&c, f, d, "hard"), 0);
	cr_assert_eq(walk_path("ws/sub/hard", &hl, &st2), 0);
	cr_assert_eq(st2.ino, st.ino);
	cr_assert_eq(st2.nlink, 2);
	cr_assert_eq(gofer_link(&c, f, d, "hard"), -EEXIST);
	cr_assert_eq(gofer_link(&c, d, ws, "dirlink"), -EPERM);
	cr_assert_eq(gofer_link(&c, f, ws2, "other"), -EXDEV);
	cr_assert_eq(walk_path("ro/r.txt", &x, &st), 0);
	cr_assert_eq(gofer_link(&c, x, ws, "in"), -EXDEV, "a file outside the writable export");
	cr_assert_eq(walk_path("etc/passwd", &x, &st), 0);
	cr_assert_eq(gofer_link(&c, x, ws, "pw"), -EXDEV);
	cr_assert(!host_exists(root, "ws/in") && !host_exists(root, "ws/pw"));
	stop();
}

Test(gofer, write_setattr_statfs_allocate)
{
	struct gofer_policy pol = ws_policy(false);
	struct gofer_stat st;
	struct gofer_statfs sf;
	struct statfs hsf;
	struct stat hst;
	uint32_t ws, f, d, l, r;
	char p[PATH_MAX * 2];

	build_ws();
	start(&pol, NULL);
	cr_assert_eq(walk_path("ws", &ws, &st), 0);
	cr_assert_eq(gofer_create(&c, ws, "f", 0, 0644, &f, &st), 0);
	cr_assert_eq(gofer_write(&c, f, 0, "0123456789", 10), 10);

	cr_assert_eq(gofer_setattr(&c, f, &(struct gofer_setattr){ .valid = GOFER_SETATTR_SIZE,
								   .size = 4 }, &st), 0);
	cr_assert_eq(st.size, 4);
	cr_assert_str_eq(host_read("ws/f"), "0123");
	cr_assert_eq(gofer_setattr(&c, f, &(struct gofer_setattr){ .valid = GOFER_SETATTR_MODE,
								   .mode = 04751 }, &st), 0);
	cr_assert_eq(st.mode, S_IFREG | 04751);
	cr_assert_eq(gofer_setattr(&c, f, &(struct gofer_setattr){
				     .valid = GOFER_SETATTR_ATIME | GOFER_SETATTR_MTIME,
				     .atime_sec = 1000, .atime_nsec = 5, .mtime_sec = 2000,
				     .mtime_nsec = 7 }, &st), 0);
	cr_assert_eq(st.atime_sec, 1000);
	cr_assert_eq(st.atime_nsec, 5);
	cr_assert_eq(st.mtime_sec, 2000);
	cr_assert_eq(st.mtime_nsec, 7);
	cr_assert_eq(gofer_setattr(&c, f, &(struct gofer_setattr){
				     .valid = GOFER_SETATTR_MTIME, .mtime_nsec = UTIME_NOW }, &st), 0);
	cr_assert_gt(st.mtime_sec, 2000);
	cr_assert_eq(st.atime_sec, 1000, "atime untouched");
	snprintf(p, sizeof(p), "%s/ws/f", root);
	xdo(stat(p, &hst), "stat");
	cr_assert_eq(hst.st_mode, S_IFREG | 04751);
	cr_assert_eq(hst.st_atim.tv_sec, 1000);

	/* an unopened file, a directory and a symlink */
	cr_assert_eq(walk_path("ws/old.txt", &r, &st), 0);
	cr_assert_eq(gofer_setattr(&c, r, &(struct gofer_setattr){
				     .valid = GOFER_SETATTR_SIZE | GOFER_SETATTR_MODE, .size = 3,
				     .mode = 0600 }, &st), 0);
	cr_assert_eq(st.size, 3);
	cr_assert_eq(st.mode, S_IFREG | 0600);
	cr_assert_str_eq(host_read("ws/old.txt"), "old");
	cr_assert_eq(walk_path("ws/sub", &d, &st), 0);
	cr_assert_eq(gofer_setattr(&c, d, &(struct gofer_setattr){ .valid = GOFER_SETATTR_MODE,
								   .mode = 0700 }, &st), 0);
	cr_assert_eq(st.mode, S_IFDIR | 0700);
	cr_assert_eq(gofer_setattr(&c, d, &(struct gofer_setattr){ .valid = GOFER_SETATTR_SIZE,
								   .size = 0 }, &st), -EISDIR);
	cr_assert_eq(gofer_symlink(&c, ws, "l", "f", &l, &st), 0);
	cr_assert_eq(gofer_setattr(&c, l, &(struct gofer_setattr){ .valid = GOFER_SETATTR_MODE,
								   .mode = 0777 }, &st), -EOPNOTSUPP);
	cr_assert_eq(gofer_setattr(&c, l, &(struct gofer_setattr){ .valid = GOFER_SETATTR_MTIME,
								   .mtime_sec = 77 }, &st), 0);
	cr_assert_eq(st.mtime_sec, 77, "the link itself");
	xdo(stat(p, &hst), "stat");
	cr_assert_neq(hst.st_mtim.tv_sec, 77, "not its target");

	/* ownership: root only */
	if (geteuid() == 0) {
		cr_assert_eq(gofer_setattr(&c, f, &(struct gofer_setattr){
					     .valid = GOFER_SETATTR_UID | GOFER_SETATTR_GID,
					     .uid = 1234, .gid = 5678 }, &st), 0);
		cr_assert_eq(st.uid, 1234);
		cr_assert_eq(st.gid, 5678);
		cr_assert_eq(gofer_setattr(&c, l, &(struct gofer_setattr){
					     .valid = GOFER_SETATTR_UID, .uid = 42 }, &st), 0);
		cr_assert_eq(st.uid, 42, "the link, not followed");
		xdo(stat(p, &hst), "stat");
		cr_assert_eq(hst.st_uid, 1234);
	} else {
		cr_assert_eq(gofer_setattr(&c, f, &(struct gofer_setattr){
					     .valid = GOFER_SETATTR_UID, .uid = 1 }, &st), -EPERM);
	}

	/* read-only elsewhere */
	cr_assert_eq(walk_path("ro/r.txt", &r, &st), 0);
	cr_assert_eq(gofer_setattr(&c, r, &(struct gofer_setattr){ .valid = GOFER_SETATTR_MODE,
								   .mode = 0777 }, &st), -EROFS);
	cr_assert_eq(gofer_setattr(&c, GOFER_ROOT_FID, &(struct gofer_setattr){
				     .valid = GOFER_SETATTR_MTIME, .mtime_sec = 1 }, &st), -EROFS);
	cr_assert_eq(gofer_setattr(&c, r, &(struct gofer_setattr){ .valid = 0x80 }, &st), -EINVAL);

	/* allocate */
	cr_assert_eq(gofer_allocate(&c, f, 0, 0, 8192), 0);
	cr_assert_eq(gofer_stat(&c, f, &st), 0);
	cr_assert_eq(st.size, 8192);
	cr_assert_eq(gofer_allocate(&c, f, FALLOC_FL_KEEP_SIZE, 8192, 8192), 0);
	cr_assert_eq(gofer_stat(&c, f, &st), 0);
	cr_assert_eq(st.size, 8192);
	cr_assert_eq(gofer_allocate(&c, f, FALLOC_FL_PUNCH_HOLE, 0, 1), -EOPNOTSUPP);
	cr_assert_eq(gofer_allocate(&c, f, FALLOC_FL_ZERO_RANGE, 0, 1), -EOPNOTSUPP);
	cr_assert_eq(gofer_write(&c, f, 0, "abcdefgh", 8), 8);
	cr_assert_eq(gofer_allocate(&c, f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 2, 4), 0);
	char punched[8];
	cr_assert_eq(gofer_read(&c, f, 0, punched, 8), 8);
	cr_assert_eq(memcmp(punched, "ab\0\0\0\0gh", 8), 0);
	cr_assert_eq(gofer_stat(&c, f, &st), 0);
	cr_assert_eq(st.size, 8192, "the hole keeps the size");
	cr_assert_eq(gofer_allocate(&c, f, 0, 0, 0), -EINVAL);
	cr_assert_eq(gofer_allocate(&c, r, 0, 0, 10), -EBADF);

	/* statfs, of any fid */
	cr_assert_eq(gofer_statfs(&c, f, &sf), 0);
	xdo(statfs(root, &hsf), "statfs");
	cr_assert_eq(sf.type, (uint64_t)hsf.f_type);
	cr_assert_eq(sf.bsize, (uint64_t)hsf.f_bsize);
	cr_assert_eq(sf.namelen, (uint64_t)hsf.f_namelen);
	cr_assert_eq(sf.blocks, hsf.f_blocks);
	cr_assert_eq(gofer_statfs(&c, r, &sf), 0);
	cr_assert_eq(gofer_statfs(&c, 9999, &sf), -EBADF);
	cr_assert_eq(gofer_fsync(&c, r, 0), -EBADF, "not opened");
	stop();
}

/* The host swaps a directory the sentry holds for a symlink pointing out: the gofer
 * keeps acting on the directory it walked, and never goes through the link. */
Test(gofer, write_symlink_planted_after_walk)
{
	struct gofer_policy pol = ws_policy(false);
	struct gofer_stat st;
	uint32_t d, f, l, ws;
	char p[PATH_MAX * 2], q[PATH_MAX * 2];

	build_ws();
	start(&pol, NULL);
	cr_assert_eq(walk_path("ws", &ws, &st), 0);
	cr_assert_eq(walk_path("ws/sub", &d, &st), 0);
	snprintf(p, sizeof(p), "%s/ws/sub", root);
	snprintf(q, sizeof(q), "%s/ws/sub.old", root);
	xdo(rename(p, q), "rename");
	xdo(symlink(outside, p), "plant");
	cr_assert_eq(gofer_create(&c, d, "x", O_EXCL, 0644, &f, &st), 0);
	cr_assert_eq(gofer_write(&c, f, 0, "in", 2), 2);
	cr_assert_eq(gofer_mkdir(&c, d, "m", 0755, &f, &st), 0);
	cr_assert(!host_exists(outside, "x") && !host_exists(outside, "m"));
	cr_assert_str_eq(host_read("ws/sub.old/x"), "in");
	/* through the name now: a link, which no write op goes through */
	cr_assert_eq(walk_path("ws/sub", &l, &st), 0);
	cr_assert(S_ISLNK(st.mode));
	cr_assert_eq(gofer_create(&c, l, "y", 0, 0644, &f, &st), -ENOTDIR);
	cr_assert_eq(gofer_mkdir(&c, l, "y", 0755, &f, &st), -ENOTDIR);
	cr_assert_eq(gofer_unlink(&c, l, "secret.txt", 0), -ENOTDIR);
	cr_assert_eq(gofer_rename(&c, ws, "old.txt", l, "y", 0), -ENOTDIR);
	/* renaming the link itself is fine: it moves the link, not what it names */
	cr_assert_eq(gofer_rename(&c, ws, "sub", ws, "sub2", 0), 0);
	cr_assert(host_exists(outside, "secret.txt"));
	cr_assert(!host_exists(outside, "y") && !host_exists(outside, "sub2"));
	/* a name swapped for a link between walk and open-for-write: refused */
	cr_assert_eq(walk_path("ws/old.txt", &f, &st), 0);
	snprintf(p, sizeof(p), "%s/ws/old.txt", root);
	snprintf(q, sizeof(q), "%s/secret.txt", outside);
	xdo(unlink(p), "unlink");
	xdo(symlink(q, p), "plant");
	cr_assert_eq(gofer_open(&c, f, O_WRONLY | O_TRUNC), -ELOOP);
	cr_assert_eq(gofer_setattr(&c, f, &(struct gofer_setattr){ .valid = GOFER_SETATTR_SIZE },
				   &st), -ELOOP);
	cr_assert_eq(gofer_create(&c, ws, "old.txt", O_TRUNC, 0644, &f, &st), -ELOOP);
	{
		char b[64];
		int fd = open(q, O_RDONLY);

		cr_assert_geq(fd, 0);
		cr_assert_eq(read(fd, b, sizeof(b)), 15, "the outside file is untouched");
		close(fd);
	}
	stop();
}

/* The write side under the real gofer_main's seccomp filter: every op, errors
 * included, and the gofer must still exit 0 on EOF. */
Test(gofer, gofer_main_write_side_under_seccomp)
{
	char *argv[] = { "gofer", "--sock-fd", "FD", "--root", root, "--writable", "/ws",
			 "--export", "/ro", "--deny", "ws/secret*", NULL };
	struct gofer_stat st;
	struct gofer_statfs sf;
	uint32_t ws, f, d, l, r;
	char b[64];

	build_ws();
	start(NULL, argv);
	cr_assert_eq(walk_path("ws", &ws, &st), 0);
	cr_assert_eq(walk_path("home", &r, &st), -ENOENT, "system_only");
	cr_assert_eq(gofer_create(&c, ws, "f", O_EXCL, 0640, &f, &st), 0);
	cr_assert_eq(st.mode, S_IFREG | 0640, "gofer_main sets umask 0");
	cr_assert_eq(gofer_write(&c, f, 0, "hello", 5), 5);
	cr_assert_eq(gofer_read(&c, f, 0, b, sizeof(b)), 5);
	cr_assert_eq(gofer_fsync(&c, f, 0), 0);
	cr_assert_eq(gofer_fsync(&c, f, 1), 0);
	cr_assert_eq(gofer_allocate(&c, f, 0, 0, 4096), 0);
	cr_assert_eq(gofer_allocate(&c, f, FALLOC_FL_KEEP_SIZE, 4096, 4096), 0);
	cr_assert_eq(gofer_setattr(&c, f, &(struct gofer_setattr){
				     .valid = GOFER_SETATTR_SIZE | GOFER_SETATTR_MODE |
					      GOFER_SETATTR_ATIME | GOFER_SETATTR_MTIME,
				     .size = 5, .mode = 0600, .atime_sec = 10,
				     .mtime_nsec = UTIME_NOW }, &st), 0);
	cr_assert_eq(st.size, 5);
	cr_assert_eq(st.mode, S_IFREG | 0600);
	cr_assert_eq(gofer_setattr(&c, f, &(struct gofer_setattr){
				     .valid = GOFER_SETATTR_UID | GOFER_SETATTR_GID,
				     .uid = geteuid(), .gid = getegid() }, &st),
		     geteuid() == 0 ? 0 : -EPERM);
	cr_assert_eq(walk_path("ws/old.txt", &r, &st), 0);
	cr_assert_eq(gofer_setattr(&c, r, &(struct gofer_setattr){ .valid = GOFER_SETATTR_SIZE,
								   .size = 1 }, &st), 0);
	cr_assert_eq(gofer_open(&c, r, O_RDWR | O_TRUNC), 0);
	cr_assert_eq(gofer_write(&c, r, 0, "x", 1), 1);
	cr_assert_eq(gofer_mkdir(&c, ws, "d", 0755, &d, &st), 0);
	cr_assert_eq(gofer_symlink(&c, ws, "l", "f", &l, &st), 0);
	cr_assert_eq(gofer_link(&c, f, d, "hl"), 0);
	cr_assert_eq(gofer_rename(&c, d, "hl", ws, "hl2", 0), 0);
	cr_assert_eq(gofer_rename(&c, ws, "hl2", ws, "l", RENAME_EXCHANGE), 0);
	cr_assert_eq(gofer_rename(&c, ws, "l", ws, "f", RENAME_NOREPLACE), -EEXIST);
	cr_assert_eq(gofer_unlink(&c, ws, "l", 0), 0);
	cr_assert_eq(gofer_unlink(&c, ws, "hl2", 0), 0);
	cr_assert_eq(gofer_unlink(&c, ws, "d", AT_REMOVEDIR), 0);
	cr_assert_eq(gofer_statfs(&c, ws, &sf), 0);
	cr_assert_eq(gofer_create(&c, ws, "secret", 0, 0600, &f, &st), -EACCES);
	cr_assert_eq(walk_path("ro/r.txt", &r, &st), 0);
	cr_assert_eq(gofer_open(&c, r, O_WRONLY), -EROFS);
	cr_assert_eq(walk_path("ro", &r, &st), 0);
	cr_assert_eq(gofer_create(&c, r, "x", 0, 0644, &f, &st), -EROFS);
	cr_assert_str_eq(host_read("ws/f"), "hello");
	stop();
}
