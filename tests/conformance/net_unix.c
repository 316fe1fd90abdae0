/* AF_UNIX sockets: socketpair (stream, dgram, seqpacket), data order and record
 * boundaries, MSG_PEEK/MSG_DONTWAIT/MSG_TRUNC, FIONREAD, shutdown and EOF, EPIPE with
 * MSG_NOSIGNAL, ECONNRESET when closing with unread data, path names (a socket inode,
 * EADDRINUSE, ENOENT, ECONNREFUSED), abstract names, autobind, listen/accept across fork,
 * getsockname/getpeername, SO_PEERCRED, SCM_RIGHTS (a passed pipe works; MSG_CTRUNC; a
 * discarded message closes its files), SCM_CREDENTIALS, poll readiness, socket options and
 * the creation errors. */
#include "conf.h"
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>


static void pair_stream(void)
{
	int sv[2];
	char buf[64];
	CHECK("socketpair stream", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK("write a", write(sv[0], "hello", 5));
	CHECK("write b", write(sv[0], "world", 5));
	int n = -1;
	ioctl(sv[1], FIONREAD, &n);
	printf("FIONREAD %d\n", n);
	ssize_t r = recv(sv[1], buf, 3, MSG_PEEK);
	printf("peek %zd %.3s\n", r, buf);
	r = read(sv[1], buf, sizeof(buf));
	printf("read %zd %.*s (stream merges writes)\n", r, (int)r, buf);
	CHECK("recv empty DONTWAIT", recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT));
	CHECK("shutdown WR", shutdown(sv[0], SHUT_WR));
	CHECK("read after peer SHUT_WR (EOF)", read(sv[1], buf, sizeof(buf)));
	CHECK("write after own SHUT_WR", send(sv[0], "x", 1, MSG_NOSIGNAL));
	CHECK("write other way still works", write(sv[1], "back", 4));
	CHECK("read it", read(sv[0], buf, sizeof(buf)));
	close(sv[0]);
	CHECK("write to closed peer", send(sv[1], "x", 1, MSG_NOSIGNAL));
	close(sv[1]);

	/* Closing with unread data resets the peer. */
	CHECK("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	write(sv[0], "unread", 6);
	close(sv[1]);
	CHECK("read after peer closed with unread data", read(sv[0], buf, sizeof(buf)));
	CHECK("read again", read(sv[0], buf, sizeof(buf)));
	close(sv[0]);

	/* SIGPIPE */
	signal(SIGPIPE, SIG_IGN);
	CHECK("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	close(sv[1]);
	CHECK("write with SIGPIPE ignored", write(sv[0], "x", 1));
	close(sv[0]);
	signal(SIGPIPE, SIG_DFL);

	/* Non-blocking fill and drain. */
	CHECK("socketpair NONBLOCK", socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv));
	static char big[4096];
	long total = 0;
	while ((r = write(sv[0], big, sizeof(big))) > 0)
		total += r;
	printf("fill stopped by %s, filled something: %s\n", conf_errname(errno), total > 0 ? "yes" : "no");
	struct pollfd p = {.fd = sv[0], .events = POLLOUT};
	printf("full: POLLOUT %s\n", poll(&p, 1, 0) == 1 ? "yes" : "no");
	long got = 0;
	while ((r = read(sv[1], big, sizeof(big))) > 0)
		got += r;
	printf("drained all: %s\n", got == total ? "yes" : "no");
	printf("drained: POLLOUT %s\n", poll(&p, 1, 0) == 1 ? "yes" : "no");
	close(sv[0]);
	close(sv[1]);
}

static void pair_records(int type, const char *name)
{
	int sv[2];
	char buf[64];
	printf("-- %s\n", name);
	CHECK("socketpair", socketpair(AF_UNIX, type, 0, sv));
	send(sv[0], "one", 3, 0);
	send(sv[0], "twotwo", 6, 0);
	send(sv[0], "", 0, 0);
	send(sv[0], "three", 5, 0);
	CHECK("recv 1", recv(sv[1], buf, sizeof(buf), 0));
	CHECK("recv 2 into 3 bytes", recv(sv[1], buf, 3, 0));
	CHECK("recv empty record", recv(sv[1], buf, sizeof(buf), 0));
	struct iovec v = {buf, 2};
	struct msghdr mh = {.msg_iov = &v, .msg_iovlen = 1};
	ssize_t r = recvmsg(sv[1], &mh, MSG_TRUNC);
	printf("recvmsg MSG_TRUNC: %zd flags TRUNC %s\n", r, (mh.msg_flags & MSG_TRUNC) ? "yes" : "no");
	CHECK("recv nothing left DONTWAIT", recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT));
	close(sv[0]);
	CHECK("recv after peer close", recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT));
	close(sv[1]);
}

static void mktmp(char *dir)
{
	strcpy(dir, "/tmp/ward-unix-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
}

static socklen_t path_addr(struct sockaddr_un *a, const char *dir, const char *name)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path, sizeof(a->sun_path), "%s/%s", dir, name);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(a->sun_path) + 1);
}

static void named(void)
{
	char dir[64];
	struct sockaddr_un a, b, got;
	socklen_t len, alen;
	char buf[64];
	mktmp(dir);
	printf("-- path names\n");
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	alen = path_addr(&a, dir, "sock");
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK("connect missing path", connect(c, (struct sockaddr *)&a, alen));
	CHECK("bind", bind(s, (struct sockaddr *)&a, alen));
	struct stat st;
	CHECK("stat", stat(a.sun_path, &st));
	printf("is a socket: %s\n", S_ISSOCK(st.st_mode) ? "yes" : "no");
	CHECK("bind again (same socket)", bind(s, (struct sockaddr *)&a, alen));
	int s2 = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK("bind taken path", bind(s2, (struct sockaddr *)&a, alen));
	close(s2);
	CHECK("connect before listen", connect(c, (struct sockaddr *)&a, alen));
	CHECK("accept before listen", accept(s, NULL, NULL));
	CHECK("listen", listen(s, 5));
	int so = -1;
	len = sizeof(so);
	getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &so, &len);
	printf("SO_ACCEPTCONN %d\n", so);
	int d = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK("dgram connect to stream listener", connect(d, (struct sockaddr *)&a, alen));
	close(d);
	CHECK("connect", connect(c, (struct sockaddr *)&a, alen));
	CHECK("connect again", connect(c, (struct sockaddr *)&a, alen));
	len = sizeof(got);
	int acc = accept(s, (struct sockaddr *)&got, &len);
	printf("accept ok: %s, peer addr len %u (unbound client)\n", acc >= 0 ? "yes" : "no", len);
	len = sizeof(got);
	getpeername(c, (struct sockaddr *)&got, &len);
	printf("client's peer is the path: %s, len matches: %s\n",
	       strcmp(got.sun_path, a.sun_path) == 0 ? "yes" : "no", len == alen ? "yes" : "no");
	len = sizeof(got);
	getsockname(acc, (struct sockaddr *)&got, &len);
	printf("accepted socket's name is the path: %s\n", strcmp(got.sun_path, a.sun_path) == 0 ? "yes" : "no");
	struct ucred cr;
	len = sizeof(cr);
	CHECK("SO_PEERCRED", getsockopt(acc, SOL_SOCKET, SO_PEERCRED, &cr, &len));
	printf("peer pid is mine: %s, uid %s\n", cr.pid == getpid() ? "yes" : "no",
	       cr.uid == geteuid() ? "mine" : "other");
	write(c, "ping", 4);
	CHECK("read on accepted", read(acc, buf, sizeof(buf)));
	close(c);
	close(acc);

	/* a server in a child process */
	pid_t pid = fork();
	if (pid == 0) {
		int x = accept(s, NULL, NULL);
		char b2[16];
		ssize_t n = read(x, b2, sizeof(b2));
		write(x, b2, (size_t)n);
		_exit(0);
	}
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK("connect to forked server", connect(c, (struct sockaddr *)&a, alen));
	write(c, "echo", 4);
	ssize_t n = read(c, buf, sizeof(buf));
	printf("echo: %.*s\n", (int)n, buf);
	waitpid(pid, NULL, 0);
	close(c);
	close(s);
	CHECK("connect after listener closed", connect(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&a, alen));
	unlink(a.sun_path);

	/* a regular file is no socket */
	int fd = open(dir, O_RDONLY);
	close(fd);
	alen = path_addr(&b, dir, "file");
	close(open(b.sun_path, O_CREAT | O_WRONLY, 0600));
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK("connect to a regular file", connect(c, (struct sockaddr *)&b, alen));
	close(c);
	unlink(b.sun_path);

	/* datagrams between named sockets */
	printf("-- named dgram\n");
	int r1 = socket(AF_UNIX, SOCK_DGRAM, 0), r2 = socket(AF_UNIX, SOCK_DGRAM, 0);
	alen = path_addr(&a, dir, "d1");
	socklen_t blen = path_addr(&b, dir, "d2");
	bind(r1, (struct sockaddr *)&a, alen);
	bind(r2, (struct sockaddr *)&b, blen);
	CHECK("sendto", sendto(r2, "dg", 2, 0, (struct sockaddr *)&a, alen));
	len = sizeof(got);
	memset(&got, 0, sizeof(got));
	CHECK("recvfrom", recvfrom(r1, buf, sizeof(buf), 0, (struct sockaddr *)&got, &len));
	printf("from d2: %s\n", strcmp(got.sun_path, b.sun_path) == 0 ? "yes" : "no");
	int anon = socket(AF_UNIX, SOCK_DGRAM, 0);
	sendto(anon, "x", 1, 0, (struct sockaddr *)&a, alen);
	len = sizeof(got);
	recvfrom(r1, buf, sizeof(buf), 0, (struct sockaddr *)&got, &len);
	printf("from unbound sender: addrlen %u\n", len);
	CHECK("send unconnected", send(anon, "x", 1, 0));
	CHECK("connect dgram", connect(anon, (struct sockaddr *)&a, alen));
	CHECK("send connected", send(anon, "y", 1, 0));
	CHECK("r2 sends to r1 (connected elsewhere? no)", sendto(r2, "z", 1, 0, (struct sockaddr *)&a, alen));
	CHECK("connect r1 to r2", connect(r1, (struct sockaddr *)&b, blen));
	CHECK("anon sends to r1 now", send(anon, "y", 1, 0));
	close(r1);
	CHECK("send to closed peer", send(anon, "y", 1, 0));
	CHECK("send again", send(anon, "y", 1, 0));
	close(anon);
	close(r2);
	unlink(a.sun_path);
	unlink(b.sun_path);
	rmdir(dir);
}

static void abstract(void)
{
	printf("-- abstract and autobind\n");
	struct sockaddr_un a = {.sun_family = AF_UNIX}, got;
	char name[32];
	snprintf(name, sizeof(name), "ward-test-%d", getpid());
	memcpy(a.sun_path + 1, name, strlen(name));
	socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK("bind abstract", bind(s, (struct sockaddr *)&a, alen));
	int s2 = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK("bind abstract taken", bind(s2, (struct sockaddr *)&a, alen));
	listen(s, 1);
	CHECK("connect abstract", connect(s2, (struct sockaddr *)&a, alen));
	socklen_t len = sizeof(got);
	getpeername(s2, (struct sockaddr *)&got, &len);
	printf("peer name matches: %s\n", len == alen && memcmp(&got, &a, alen) == 0 ? "yes" : "no");
	close(s);
	close(s2);
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK("connect abstract after close", connect(c, (struct sockaddr *)&a, alen));
	close(c);
	int u = socket(AF_UNIX, SOCK_DGRAM, 0);
	len = sizeof(got);
	getsockname(u, (struct sockaddr *)&got, &len);
	printf("unbound name len %u\n", len);
	CHECK("autobind", bind(u, (struct sockaddr *)&a, offsetof(struct sockaddr_un, sun_path)));
	len = sizeof(got);
	getsockname(u, (struct sockaddr *)&got, &len);
	printf("autobound: len %u, abstract %s\n", len, got.sun_path[0] == 0 ? "yes" : "no");
	close(u);
}

static void rights(void)
{
	printf("-- SCM_RIGHTS and SCM_CREDENTIALS\n");
	int sv[2], pfd[2];
	char buf[64];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pipe(pfd);
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 2)];
	} ctl;
	struct iovec v = {"F", 1};
	struct msghdr mh = {.msg_iov = &v, .msg_iovlen = 1, .msg_control = ctl.b,
			    .msg_controllen = CMSG_SPACE(sizeof(int))};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &pfd[0], sizeof(int));
	CHECK("sendmsg with a pipe", sendmsg(sv[0], &mh, 0));
	close(pfd[0]);
	memset(&ctl, 0, sizeof(ctl));
	v.iov_base = buf;
	v.iov_len = sizeof(buf);
	mh.msg_controllen = sizeof(ctl.b);
	CHECK("recvmsg", recvmsg(sv[1], &mh, MSG_CMSG_CLOEXEC));
	c = CMSG_FIRSTHDR(&mh);
	int got = -1;
	if (c && c->cmsg_type == SCM_RIGHTS) {
		memcpy(&got, CMSG_DATA(c), sizeof(int));
		printf("got one fd: %s\n", c->cmsg_len == CMSG_LEN(sizeof(int)) ? "yes" : "no");
	}
	printf("cloexec set: %s\n", (fcntl(got, F_GETFD) & FD_CLOEXEC) ? "yes" : "no");
	write(pfd[1], "via", 3);
	ssize_t n = read(got, buf, sizeof(buf));
	printf("read through passed fd: %.*s\n", (int)n, buf);
	close(got);

	/* MSG_CTRUNC: no room for the fd; it is closed. */
	pipe(pfd);
	mh.msg_control = ctl.b;
	mh.msg_controllen = CMSG_SPACE(sizeof(int));
	v.iov_base = "G";
	v.iov_len = 1;
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &pfd[0], sizeof(int));
	sendmsg(sv[0], &mh, 0);
	close(pfd[0]);
	v.iov_base = buf;
	v.iov_len = sizeof(buf);
	mh.msg_controllen = 4;
	CHECK("recvmsg small control", recvmsg(sv[1], &mh, 0));
	printf("CTRUNC %s, controllen %zu\n", (mh.msg_flags & MSG_CTRUNC) ? "yes" : "no", mh.msg_controllen);
	signal(SIGPIPE, SIG_IGN);
	CHECK("pipe writer after the in-flight reader was dropped", write(pfd[1], "x", 1));
	close(pfd[1]);

	/* A message discarded with its socket closes the files it carries. */
	pipe(pfd);
	mh.msg_control = ctl.b;
	mh.msg_controllen = CMSG_SPACE(sizeof(int));
	v.iov_base = "H";
	v.iov_len = 1;
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &pfd[0], sizeof(int));
	sendmsg(sv[0], &mh, 0);
	close(pfd[0]);
	CHECK("pipe writer while the reader is in flight", write(pfd[1], "x", 1));
	close(sv[1]);
	CHECK("pipe writer after the message was discarded", write(pfd[1], "x", 1));
	close(pfd[1]);
	close(sv[0]);
	signal(SIGPIPE, SIG_DFL);

	CHECK("bad fd in SCM_RIGHTS", ({
		socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
		int bad = 999;
		mh.msg_control = ctl.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &bad, sizeof(int));
		sendmsg(sv[0], &mh, 0);
	}));

	/* credentials */
	int on = 1;
	CHECK("SO_PASSCRED", setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)));
	send(sv[0], "c", 1, 0);
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct ucred))];
	} cctl;
	mh.msg_control = cctl.b;
	mh.msg_controllen = sizeof(cctl.b);
	v.iov_base = buf;
	v.iov_len = sizeof(buf);
	CHECK("recvmsg", recvmsg(sv[1], &mh, 0));
	c = CMSG_FIRSTHDR(&mh);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
		struct ucred u;
		memcpy(&u, CMSG_DATA(c), sizeof(u));
		printf("creds: pid mine %s, uid mine %s, gid mine %s\n", u.pid == getpid() ? "yes" : "no",
		       u.uid == geteuid() ? "yes" : "no", u.gid == getegid() ? "yes" : "no");
	} else {
		printf("no SCM_CREDENTIALS\n");
	}
	struct ucred bad = {.pid = getpid() + 1, .uid = geteuid(), .gid = getegid()};
	mh.msg_control = cctl.b;
	mh.msg_controllen = sizeof(cctl.b);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof(bad));
	memcpy(CMSG_DATA(c), &bad, sizeof(bad));
	v.iov_base = "c";
	v.iov_len = 1;
	if (geteuid() != 0) /* root may name any existing pid */
		CHECK("send someone else's pid", sendmsg(sv[0], &mh, 0));
	close(sv[0]);
	close(sv[1]);
}

static void options(void)
{
	printf("-- options and errors\n");
	int s = socket(AF_UNIX, SOCK_STREAM, 0), v;
	socklen_t len = sizeof(v);
	getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len);
	printf("SO_TYPE %d\n", v);
	getsockopt(s, SOL_SOCKET, SO_DOMAIN, &v, &len);
	printf("SO_DOMAIN %d\n", v);
	getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &v, &len);
	printf("SO_PROTOCOL %d\n", v);
	v = 10000;
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	getsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, &len);
	printf("SO_RCVBUF after 10000: %d\n", v);
	v = 1;
	setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	getsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, &len);
	printf("SO_SNDBUF after 1: %d\n", v);
	CHECK("unknown option", setsockopt(s, SOL_SOCKET, 12345, &v, sizeof(v)));
	CHECK("get unknown option", getsockopt(s, SOL_SOCKET, 12345, &v, &len));
	CHECK("short optlen", setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &v, 2));
	CHECK("TCP level on unix", setsockopt(s, IPPROTO_TCP, 1, &v, sizeof(v)));
	struct timeval tv = {0, 20000};
	CHECK("SO_RCVTIMEO", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char b;
	CHECK("recv with timeout", recv(sv[0], &b, 1, 0));
	struct timeval tv2;
	len = sizeof(tv2);
	getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv2, &len);
	printf("SO_RCVTIMEO reads back %ld.%06ld\n", (long)tv2.tv_sec, (long)tv2.tv_usec);
	tv.tv_usec = 2000000;
	CHECK("SO_RCVTIMEO bad usec", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	struct pollfd p[2] = {{.fd = sv[0], .events = POLLIN | POLLOUT}, {.fd = s, .events = POLLIN | POLLOUT}};
	poll(p, 2, 0);
	printf("pair poll %#x, unconnected stream poll %#x\n", p[0].revents, p[1].revents);
	write(sv[1], "x", 1);
	poll(p, 1, 0);
	printf("after write %#x\n", p[0].revents);
	close(sv[1]);
	poll(p, 1, 0);
	printf("after peer close %#x\n", p[0].revents);
	close(sv[0]);
	CHECK("recv unconnected stream", recv(s, &b, 1, MSG_DONTWAIT));
	CHECK("send unconnected stream", send(s, &b, 1, MSG_DONTWAIT));
	CHECK("getpeername unconnected", getpeername(s, (struct sockaddr *)&tv, &len));
	CHECK("shutdown unconnected", shutdown(s, SHUT_RD));
	CHECK("listen unbound", listen(s, 1));
	CHECK("shutdown bad how", shutdown(s, 7));
	close(s);
	CHECK("socket bad type", socket(AF_UNIX, 7, 0));
	CHECK("socket bad protocol", socket(AF_UNIX, SOCK_STREAM, 9));
	CHECK("socket bad family", socket(1234, SOCK_STREAM, 0));
	CHECK("socket bad flags", socket(AF_UNIX, SOCK_STREAM | 0x100, 0));
	CHECK("socketpair inet", socketpair(AF_INET, SOCK_STREAM, 0, sv));
	CHECK("listen on dgram", listen(socket(AF_UNIX, SOCK_DGRAM, 0), 1));
	CHECK("accept on a pipe", ({ int pp[2]; pipe(pp); accept(pp[0], NULL, NULL); }));
	CHECK("bind bad fd", bind(999, NULL, 0));
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	printf("NONBLOCK %s CLOEXEC %s\n", (fcntl(s, F_GETFL) & O_NONBLOCK) ? "yes" : "no",
	       (fcntl(s, F_GETFD) & FD_CLOEXEC) ? "yes" : "no");
	struct stat st;
	fstat(s, &st);
	printf("fstat is a socket: %s\n", S_ISSOCK(st.st_mode) ? "yes" : "no");
	close(s);
}

int main(void)
{
	pair_stream();
	pair_records(SOCK_DGRAM, "dgram");
	pair_records(SOCK_SEQPACKET, "seqpacket");
	named();
	abstract();
	rights();
	options();
	return 0;
}
