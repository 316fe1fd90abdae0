/* TCP on loopback (IPv4, IPv6, dual stack): bind/listen/connect/accept with ephemeral
 * ports (printed as relations), names, EADDRINUSE and SO_REUSEADDR, ECONNREFUSED,
 * non-blocking connect (EINPROGRESS, then writable and SO_ERROR), a full backlog, data
 * both ways, MSG_WAITALL across a fork, half-close (SHUT_WR gives the peer EOF), RST when
 * closing with unread data (ECONNRESET) and the EPIPE that follows writing to a closed
 * peer, epoll on a listener and a connection, options, and the errors of unconnected
 * sockets. Only loopback addresses are used. */
#include "conf.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

static struct sockaddr_in lo4(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	return ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
				       : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static int listener4(int backlog)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = lo4(0);
	bind(s, (struct sockaddr *)&a, sizeof(a));
	listen(s, backlog);
	return s;
}

static int connect4(int port, int flags)
{
	int c = socket(AF_INET, SOCK_STREAM | flags, 0);
	struct sockaddr_in a = lo4(port);
	if (connect(c, (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS) {
		close(c);
		return -1;
	}
	return c;
}

/* Blocks until fd has at least want bytes queued: the bytes of two sends may reach the peer
 * in more than one step, and FIONREAD reports what has arrived so far. */
static void wait_readable_bytes(int fd, int want)
{
	for (;;) {
		int n = 0;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		poll(&p, 1, -1);
		if (ioctl(fd, FIONREAD, &n) < 0 || n >= want)
			return;
		sched_yield();
	}
}

/* Blocks until fd reports POLLHUP or POLLERR, which poll always reports: on a connection
 * that has already seen the peer's FIN this is the arrival of the peer's RST. */
static void wait_hangup(int fd)
{
	struct pollfd p = {.fd = fd, .events = 0};
	while (poll(&p, 1, -1) < 1 || !(p.revents & (POLLHUP | POLLERR)))
		;
}

static void basics(void)
{
	printf("-- basics\n");
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = lo4(0), got;
	socklen_t len = sizeof(got);
	getsockname(s, (struct sockaddr *)&got, &len);
	printf("unbound: len %u addr %s port %d\n", len, inet_ntoa(got.sin_addr), ntohs(got.sin_port));
	CHECK("bind port 0", bind(s, (struct sockaddr *)&a, sizeof(a)));
	int port = port_of(s);
	printf("ephemeral port in 32768-60999: %s\n", port >= 32768 && port <= 60999 ? "yes" : "no");
	CHECK("bind again", bind(s, (struct sockaddr *)&a, sizeof(a)));
	CHECK("listen", listen(s, 8));
	int so;
	len = sizeof(so);
	getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &so, &len);
	printf("SO_ACCEPTCONN %d\n", so);
	int s2 = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in same = lo4(port);
	CHECK("bind taken port", bind(s2, (struct sockaddr *)&same, sizeof(same)));
	struct sockaddr_in any = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	CHECK("bind taken port on INADDR_ANY", bind(s2, (struct sockaddr *)&any, sizeof(any)));
	int on = 1;
	setsockopt(s2, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	CHECK("with SO_REUSEADDR, listener has none", bind(s2, (struct sockaddr *)&same, sizeof(same)));
	close(s2);
	struct sockaddr_in far = lo4(port);
	far.sin_addr.s_addr = inet_addr("10.1.2.3");
	s2 = socket(AF_INET, SOCK_STREAM, 0);
	CHECK("bind a non-local address", bind(s2, (struct sockaddr *)&far, sizeof(far)));
	CHECK("bind short address", bind(s2, (struct sockaddr *)&far, 8));
	struct sockaddr_in6 wrong = {.sin6_family = AF_INET6};
	CHECK("bind AF_INET6 address on AF_INET", bind(s2, (struct sockaddr *)&wrong, sizeof(wrong)));
	close(s2);

	int c = socket(AF_INET, SOCK_STREAM, 0);
	CHECK("connect", connect(c, (struct sockaddr *)&same, sizeof(same)));
	CHECK("connect again", connect(c, (struct sockaddr *)&same, sizeof(same)));
	struct sockaddr_in peer;
	len = sizeof(peer);
	int acc = accept(s, (struct sockaddr *)&peer, &len);
	printf("accepted: %s, len %u\n", acc >= 0 ? "yes" : "no", len);
	struct sockaddr_in cl, cp, al, ap;
	len = sizeof(cl);
	getsockname(c, (struct sockaddr *)&cl, &len);
	getpeername(c, (struct sockaddr *)&cp, &len);
	getsockname(acc, (struct sockaddr *)&al, &len);
	getpeername(acc, (struct sockaddr *)&ap, &len);
	printf("client addr %s, ephemeral: %s\n", inet_ntoa(cl.sin_addr), ntohs(cl.sin_port) >= 32768 ? "yes" : "no");
	printf("client's peer is the server port: %s\n", ntohs(cp.sin_port) == port ? "yes" : "no");
	printf("accepted name is the server port: %s\n", ntohs(al.sin_port) == port ? "yes" : "no");
	printf("accepted peer is the client: %s, accept's address too: %s\n",
	       ap.sin_port == cl.sin_port && ap.sin_addr.s_addr == cl.sin_addr.s_addr ? "yes" : "no",
	       peer.sin_port == cl.sin_port ? "yes" : "no");

	char buf[64];
	CHECK("write", write(c, "hello", 5));
	CHECK("send", send(c, " world", 6, 0));
	int n = -1;
	wait_readable_bytes(acc, 11);
	ioctl(acc, FIONREAD, &n);
	printf("FIONREAD %d\n", n);
	CHECK("recv PEEK", recv(acc, buf, 5, MSG_PEEK));
	CHECK("read", read(acc, buf, sizeof(buf)));
	CHECK("recv empty DONTWAIT", recv(acc, buf, sizeof(buf), MSG_DONTWAIT));
	CHECK("SIOCOUTQ", ioctl(c, SIOCOUTQ, &n));
	len = sizeof(so);
	getsockopt(acc, SOL_SOCKET, SO_TYPE, &so, &len);
	printf("SO_TYPE %d\n", so);
	getsockopt(acc, SOL_SOCKET, SO_PROTOCOL, &so, &len);
	printf("SO_PROTOCOL %d\n", so);
	getsockopt(acc, SOL_SOCKET, SO_ACCEPTCONN, &so, &len);
	printf("accepted SO_ACCEPTCONN %d\n", so);
	struct ucred cr;
	len = sizeof(cr);
	getsockopt(acc, SOL_SOCKET, SO_PEERCRED, &cr, &len);
	printf("tcp SO_PEERCRED pid %d uid %d\n", cr.pid, (int)cr.uid);

	/* half-close */
	CHECK("shutdown WR", shutdown(c, SHUT_WR));
	CHECK("peer reads EOF", read(acc, buf, sizeof(buf)));
	CHECK("peer still writes", write(acc, "back", 4));
	CHECK("half-closed side reads", read(c, buf, sizeof(buf)));
	CHECK("write after SHUT_WR", send(c, "x", 1, MSG_NOSIGNAL));
	struct pollfd p = {.fd = c, .events = POLLIN | POLLOUT | POLLRDHUP};
	poll(&p, 1, 0);
	printf("poll after own SHUT_WR %#x\n", p.revents);
	p.fd = acc;
	poll(&p, 1, 0);
	printf("poll after peer SHUT_WR %#x\n", p.revents);
	close(acc);
	CHECK("read after peer close", read(c, buf, sizeof(buf)));
	close(c);

	/* close with unread data: RST */
	c = connect4(port, 0);
	acc = accept(s, NULL, NULL);
	write(c, "unread", 6);
	/* The data must have arrived for close to answer with RST; the blocking read below
	 * then waits for that RST. */
	wait_readable_bytes(acc, 6);
	close(acc);
	CHECK("read after RST", read(c, buf, sizeof(buf)));
	CHECK("read again", read(c, buf, sizeof(buf)));
	CHECK("write after RST", send(c, "x", 1, MSG_NOSIGNAL));
	len = sizeof(cp);
	CHECK("getpeername after RST", getpeername(c, (struct sockaddr *)&cp, &len));
	close(c);

	/* writing to a peer that closed */
	c = connect4(port, 0);
	acc = accept(s, NULL, NULL);
	close(acc);
	CHECK("read EOF", read(c, buf, sizeof(buf)));
	CHECK("first write to closed peer", send(c, "x", 1, MSG_NOSIGNAL));
	/* The closed peer answers that segment with RST; the next write fails only after it. */
	wait_hangup(c);
	CHECK("second write", send(c, "x", 1, MSG_NOSIGNAL));
	CHECK("third write", send(c, "x", 1, MSG_NOSIGNAL));
	CHECK("read", read(c, buf, sizeof(buf)));
	close(c);

	/* SO_LINGER {1, 0}: RST on close */
	c = connect4(port, 0);
	acc = accept(s, NULL, NULL);
	struct linger lg = {1, 0};
	setsockopt(acc, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(acc);
	CHECK("read after linger-0 close", read(c, buf, sizeof(buf)));
	close(c);

	close(s);
	c = socket(AF_INET, SOCK_STREAM, 0);
	CHECK("connect to closed port", connect(c, (struct sockaddr *)&same, sizeof(same)));
	len = sizeof(so);
	getsockopt(c, SOL_SOCKET, SO_ERROR, &so, &len);
	printf("SO_ERROR after refused: %s\n", conf_errname(so));
	close(c);
	s2 = socket(AF_INET, SOCK_STREAM, 0);
	CHECK("bind the closed listener's port", bind(s2, (struct sockaddr *)&same, sizeof(same)));
	close(s2);
}

static void nonblocking(void)
{
	printf("-- non-blocking connect and backlog\n");
	int s = listener4(0);
	int port = port_of(s);
	int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = lo4(port);
	CHECK("connect", connect(c, (struct sockaddr *)&a, sizeof(a)));
	struct pollfd p = {.fd = c, .events = POLLOUT | POLLIN};
	CHECK("poll", poll(&p, 1, -1));
	printf("revents %#x\n", p.revents);
	int so = -1;
	socklen_t len = sizeof(so);
	getsockopt(c, SOL_SOCKET, SO_ERROR, &so, &len);
	printf("SO_ERROR %s\n", conf_errname(so));
	CHECK("connect again", connect(c, (struct sockaddr *)&a, sizeof(a)));
	CHECK("and again", connect(c, (struct sockaddr *)&a, sizeof(a)));
	/* backlog 0 holds one connection; the next waits */
	int c2 = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK("connect beyond backlog", connect(c2, (struct sockaddr *)&a, sizeof(a)));
	p.fd = c2;
	CHECK("poll: not yet", poll(&p, 1, 100));
	CHECK("connect while pending", connect(c2, (struct sockaddr *)&a, sizeof(a)));
	CHECK("send while pending", send(c2, "x", 1, MSG_NOSIGNAL));
	int acc = accept(s, NULL, NULL);
	printf("accept first: %s\n", acc >= 0 ? "yes" : "no");
	/* Linux retries the SYN after a second; the connection then completes. */
	CHECK("poll: connected", poll(&p, 1, -1));
	printf("revents %#x\n", p.revents);
	int acc2 = accept(s, NULL, NULL);
	printf("accept second: %s\n", acc2 >= 0 ? "yes" : "no");
	close(acc);
	close(acc2);
	close(c);
	close(c2);
	fcntl(s, F_SETFL, O_NONBLOCK);
	CHECK("non-blocking accept", accept(s, NULL, NULL));
	close(s);
	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK("non-blocking connect to closed port", connect(c, (struct sockaddr *)&a, sizeof(a)));
	p.fd = c;
	poll(&p, 1, -1);
	printf("revents %#x\n", p.revents);
	len = sizeof(so);
	getsockopt(c, SOL_SOCKET, SO_ERROR, &so, &len);
	printf("SO_ERROR %s\n", conf_errname(so));
	getsockopt(c, SOL_SOCKET, SO_ERROR, &so, &len);
	printf("SO_ERROR again %s\n", conf_errname(so));
	close(c);
}

static void across_fork(void)
{
	printf("-- server in a child, MSG_WAITALL, epoll\n");
	int s = listener4(4);
	int port = port_of(s);
	pid_t pid = fork();
	if (pid == 0) {
		int acc = accept(s, NULL, NULL);
		char buf[100000];
		ssize_t n = recv(acc, buf, sizeof(buf), MSG_WAITALL);
		long sum = 0;
		for (ssize_t i = 0; i < n; i++)
			sum += (unsigned char)buf[i];
		char line[64];
		int l = snprintf(line, sizeof(line), "%zd %ld", n, sum);
		write(acc, line, (size_t)l);
		close(acc);
		_exit(0);
	}
	int ep = epoll_create1(0);
	int c = connect4(port, 0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = c}, out[4];
	epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
	CHECK("epoll before data", epoll_wait(ep, out, 4, 0));
	static char data[100000];
	long sum = 0;
	for (size_t i = 0; i < sizeof(data); i++) {
		data[i] = (char)(i * 7);
		sum += (unsigned char)data[i];
	}
	size_t off = 0;
	while (off < sizeof(data)) {
		ssize_t n = write(c, data + off, sizeof(data) - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	printf("wrote all: %s\n", off == sizeof(data) ? "yes" : "no");
	CHECK("epoll for the answer", epoll_wait(ep, out, 4, -1));
	char buf[64] = {0};
	ssize_t n = read(c, buf, sizeof(buf) - 1);
	long rn = 0, rsum = 0;
	sscanf(buf, "%ld %ld", &rn, &rsum);
	printf("server got %ld bytes, checksum matches: %s (read %s)\n", rn, rsum == sum ? "yes" : "no",
	       n > 0 ? "ok" : "failed");
	waitpid(pid, NULL, 0);
	CHECK("EOF", read(c, buf, sizeof(buf)));
	ev.events = EPOLLIN;
	ev.data.fd = s;
	epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
	CHECK("epoll on an idle listener", epoll_wait(ep, out, 4, 0));
	int c2 = connect4(port, 0);
	n = epoll_wait(ep, out, 4, -1);
	printf("epoll after a connect: %zd, listener ready: %s\n", n, n >= 1 && out[0].data.fd == s ? "yes" : "no");
	close(c2);
	close(c);
	close(ep);
	close(s);
}

static int v6only_listener(void)
{
	int s = socket(AF_INET6, SOCK_STREAM, 0), on = 1;
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT};
	setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	bind(s, (struct sockaddr *)&a, sizeof(a));
	listen(s, 4);
	return s;
}

/* The errno of binding an IPv4 socket to 127.0.0.1:port, 0 if it binds. */
static int v4_bind_error(int port)
{
	int s4 = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = lo4(port);
	int e = bind(s4, (struct sockaddr *)&a, sizeof(a)) < 0 ? errno : 0;
	close(s4);
	return e;
}

static void v6(void)
{
	printf("-- IPv6 and dual stack\n");
	int s = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT};
	int v = -1;
	socklen_t len = sizeof(v);
	getsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v, &len);
	printf("IPV6_V6ONLY default %d\n", v);
	CHECK("bind [::]:0", bind(s, (struct sockaddr *)&a, sizeof(a)));
	listen(s, 4);
	int port = port_of(s);
	int c4 = connect4(port, 0);
	printf("v4 client reaches dual-stack listener: %s\n", c4 >= 0 ? "yes" : "no");
	struct sockaddr_in6 peer;
	len = sizeof(peer);
	int acc = accept(s, (struct sockaddr *)&peer, &len);
	char txt[64];
	inet_ntop(AF_INET6, &peer.sin6_addr, txt, sizeof(txt));
	printf("peer seen as %s (len %u)\n", txt, len);
	close(acc);
	close(c4);
	int c6 = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
				  .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	CHECK("connect [::1]", connect(c6, (struct sockaddr *)&to, sizeof(to)));
	len = sizeof(peer);
	getsockname(c6, (struct sockaddr *)&peer, &len);
	inet_ntop(AF_INET6, &peer.sin6_addr, txt, sizeof(txt));
	printf("v6 client address %s\n", txt);
	close(c6);
	int s4 = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in same = lo4(port);
	CHECK("v4 bind on the dual-stack port", bind(s4, (struct sockaddr *)&same, sizeof(same)));
	close(s4);
	close(s);

	s = socket(AF_INET6, SOCK_STREAM, 0);
	v = 1;
	CHECK("IPV6_V6ONLY", setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof(v)));
	a.sin6_port = 0;
	bind(s, (struct sockaddr *)&a, sizeof(a));
	listen(s, 4);
	port = port_of(s);
	c4 = connect4(port, 0);
	printf("v4 client reaches v6-only listener: %s (%s)\n", c4 >= 0 ? "yes" : "no", conf_errname(errno));
	/* The kernel gives a v6-only socket a port that is free for IPv6: another program's
	 * IPv4 socket may hold it. Such a port (taken even without ours) is skipped. */
	int e = 0;
	for (int tries = 0; tries < 100; tries++) {
		int s6 = v6only_listener();
		int p6 = port_of(s6);
		e = v4_bind_error(p6);
		close(s6);
		if (e != EADDRINUSE || v4_bind_error(p6) != EADDRINUSE)
			break;
	}
	printf("v4 bind beside a v6-only socket: ret=%d errno=%s\n", e ? -1 : 0, conf_errname(e));
	CHECK("IPV6_V6ONLY after bind", setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof(v)));
	close(s);
}

static void options(void)
{
	printf("-- options and errors\n");
	int s = socket(AF_INET, SOCK_STREAM, 0), v = 1;
	socklen_t len = sizeof(v);
	CHECK("TCP_NODELAY", setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)));
	v = 0;
	getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, &len);
	printf("TCP_NODELAY reads %d\n", v);
	v = 1;
	CHECK("SO_KEEPALIVE", setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v)));
	CHECK("SO_REUSEPORT", setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &v, sizeof(v)));
	v = 30;
	CHECK("TCP_KEEPIDLE", setsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v)));
	getsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &v, &len);
	printf("TCP_KEEPIDLE %d\n", v);
	v = 4096;
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	getsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, &len);
	printf("SO_RCVBUF after 4096: %d\n", v);
	CHECK("unknown TCP option", setsockopt(s, IPPROTO_TCP, 9999, &v, sizeof(v)));
	CHECK("unknown IP option", getsockopt(s, IPPROTO_IP, 9999, &v, &len));
	CHECK("IPV6 level on AF_INET", setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof(v)));
	char b;
	CHECK("recv unconnected", recv(s, &b, 1, MSG_DONTWAIT));
	CHECK("send unconnected", send(s, &b, 1, MSG_NOSIGNAL));
	CHECK("shutdown unconnected", shutdown(s, SHUT_RDWR));
	struct sockaddr_in a;
	CHECK("getpeername unconnected", getpeername(s, (struct sockaddr *)&a, &len));
	CHECK("accept unlistened", accept(s, NULL, NULL));
	struct pollfd p = {.fd = s, .events = POLLIN | POLLOUT};
	poll(&p, 1, 0);
	printf("fresh socket poll %#x\n", p.revents);
	close(s);
	s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in far = lo4(80);
	far.sin_addr.s_addr = inet_addr("192.0.2.1");
	(void)far;
	CHECK("socket SOCK_SEQPACKET", socket(AF_INET, SOCK_SEQPACKET, 0));
	CHECK("socket stream with UDP", socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
	CHECK("socketpair AF_INET", socketpair(AF_INET, SOCK_STREAM, 0, (int[2]){0, 0}));
	close(s);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	basics();
	nonblocking();
	across_fork();
	v6();
	options();
	return 0;
}
