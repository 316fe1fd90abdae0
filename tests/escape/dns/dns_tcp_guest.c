/* Runs inside ward (dns_tcp.sh, with --allow-net svc.test:80 and svc.test in the host's
 * /etc/hosts): DNS over TCP to the sandbox's resolver, by hand. Prints one line per
 * check; dns_tcp.sh compares them with what they must be. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define RESOLVER "10.0.2.3"
#define MAXMSG 70000

static const char *errname(int e)
{
	switch (e) {
	case 0: return "0";
	case ECONNREFUSED: return "ECONNREFUSED";
	case EINPROGRESS: return "EINPROGRESS";
	case EAGAIN: return "EAGAIN";
	case EPIPE: return "EPIPE";
	case ECONNRESET: return "ECONNRESET";
	case EISCONN: return "EISCONN";
	case ENETUNREACH: return "ENETUNREACH";
	default: return strerror(e);
	}
}

static size_t put_name(uint8_t *p, const char *name)
{
	size_t o = 0;
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		p[o++] = (uint8_t)l;
		memcpy(p + o, name, l);
		o += l;
		name += l + (dot ? 1 : 0);
	}
	p[o++] = 0;
	return o;
}

/* A query: flags 0x0100 (RD) unless given; one question. */
static size_t query(uint8_t *q, uint16_t id, uint16_t flags, const char *name, uint16_t qtype, uint16_t qclass)
{
	memset(q, 0, 12);
	q[0] = (uint8_t)(id >> 8);
	q[1] = (uint8_t)id;
	q[2] = (uint8_t)(flags >> 8);
	q[3] = (uint8_t)flags;
	q[5] = 1;
	size_t o = 12 + put_name(q + 12, name);
	q[o++] = (uint8_t)(qtype >> 8);
	q[o++] = (uint8_t)qtype;
	q[o++] = (uint8_t)(qclass >> 8);
	q[o++] = (uint8_t)qclass;
	return o;
}

static size_t framed(uint8_t *out, const uint8_t *msg, size_t len)
{
	out[0] = (uint8_t)(len >> 8);
	out[1] = (uint8_t)len;
	memcpy(out + 2, msg, len);
	return len + 2;
}

static struct sockaddr_in resolver_addr(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, RESOLVER, &a.sin_addr);
	return a;
}

static void set_timeout(int fd, int secs)
{
	struct timeval tv = {.tv_sec = secs};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* A blocking connection to the resolver; -errno. */
static int tcp_open(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = resolver_addr(53);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	set_timeout(fd, 20);
	return fd;
}

static bool send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static ssize_t recv_all(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = recv(fd, buf + got, len - got, 0);
		if (n < 0)
			return -errno;
		if (n == 0)
			return (ssize_t)got;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* One framed message; 0 at EOF, -errno. */
static ssize_t recv_msg(int fd, uint8_t *buf)
{
	uint8_t l[2];
	ssize_t n = recv_all(fd, l, 2);
	if (n < 2)
		return n < 0 ? n : 0;
	size_t len = (size_t)l[0] << 8 | l[1];
	n = recv_all(fd, buf, len);
	return n == (ssize_t)len ? n : -EPROTO;
}

static ssize_t tcp_ask(int fd, const uint8_t *q, size_t qlen, uint8_t *ans)
{
	uint8_t f[MAXMSG];
	if (!send_all(fd, f, framed(f, q, qlen)))
		return -errno;
	return recv_msg(fd, ans);
}

static ssize_t udp_ask(const uint8_t *q, size_t qlen, uint8_t *ans)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	set_timeout(fd, 2);
	struct sockaddr_in a = resolver_addr(53);
	ssize_t n = sendto(fd, q, qlen, 0, (struct sockaddr *)&a, sizeof(a));
	if (n >= 0)
		n = recv(fd, ans, MAXMSG, 0);
	if (n < 0)
		n = -errno;
	close(fd);
	return n;
}

static const char *rcode_name(int r)
{
	static const char *names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"};
	return r < 6 ? names[r] : "?";
}

/* "id=N rcode=X qd=N an=N ADDR..." for an answer. */
static const char *describe(const uint8_t *a, ssize_t len)
{
	static char out[512];
	if (len <= 0)
		return len == 0 ? "EOF" : errname((int)-len);
	if (len < 12)
		return "short";
	int qd = a[4] << 8 | a[5], an = a[6] << 8 | a[7];
	int o = snprintf(out, sizeof(out), "id=%d %s%s rcode=%s qd=%d an=%d", a[0] << 8 | a[1],
			 a[2] & 0x80 ? "qr" : "", a[2] & 1 ? " rd" : "", rcode_name(a[3] & 15), qd, an);
	size_t off = 12;
	for (int i = 0; i < qd; i++) {
		while (off < (size_t)len && a[off])
			off += a[off] + 1u;
		off += 5;
	}
	for (int i = 0; i < an && off + 12 <= (size_t)len; i++) {
		int rdlen = a[off + 10] << 8 | a[off + 11];
		char txt[64];
		inet_ntop(rdlen == 4 ? AF_INET : AF_INET6, a + off + 12, txt, sizeof(txt));
		o += snprintf(out + o, sizeof(out) - (size_t)o, " %s", txt);
		off += 12 + (size_t)rdlen;
	}
	return out;
}

static uint8_t q[MAXMSG], ans[MAXMSG], ans2[MAXMSG], buf[MAXMSG];

/* Queries answered over TCP exactly as over UDP. */
static void same_as_udp(void)
{
	struct {
		const char *what, *name;
		uint16_t flags, qtype, qclass;
	} cases[] = {
		{"allowed A", "svc.test", 0x0100, 1, 1},
		{"allowed AAAA", "svc.test", 0x0100, 28, 1},
		{"allowed mixed case", "SVC.Test", 0x0000, 1, 1},
		{"internal A", "host.ward.internal", 0x0100, 1, 1},
		{"internal AAAA", "host.ward.internal", 0x0100, 28, 1},
		{"denied sibling", "other.test", 0x0100, 1, 1},
		{"denied below", "x.svc.test", 0x0100, 1, 1},
		{"MX", "svc.test", 0x0100, 15, 1},
		{"class CH", "svc.test", 0x0100, 1, 3},
		{"opcode STATUS", "svc.test", 0x1100, 1, 1},
	};
	int fd = tcp_open();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = query(q, (uint16_t)(100 + i), cases[i].flags, cases[i].name, cases[i].qtype,
				   cases[i].qclass);
		ssize_t t = tcp_ask(fd, q, len, ans), u = udp_ask(q, len, ans2);
		printf("%s: %s, %s udp\n", cases[i].what, describe(ans, t),
		       t > 0 && t == u && memcmp(ans, ans2, (size_t)t) == 0 ? "same as" : "NOT as");
	}
	/* Malformed questions: FORMERR, on both. */
	size_t len = query(q, 200, 0x0100, "svc.test", 1, 1);
	q[5] = 0; /* no question */
	ssize_t t = tcp_ask(fd, q, len, ans), u = udp_ask(q, len, ans2);
	printf("no question: %s, %s udp\n", describe(ans, t), t > 0 && t == u && !memcmp(ans, ans2, (size_t)t) ? "same as" : "NOT as");
	len = query(q, 201, 0x0100, "svc.test", 1, 1);
	q[13] = 0x01; /* a control character inside a label */
	t = tcp_ask(fd, q, len, ans), u = udp_ask(q, len, ans2);
	printf("bad label: %s, %s udp\n", describe(ans, t), t > 0 && t == u && !memcmp(ans, ans2, (size_t)t) ? "same as" : "NOT as");
	len = query(q, 202, 0x0100, "svc.test", 1, 1);
	t = tcp_ask(fd, q, len - 3, ans), u = udp_ask(q, len - 3, ans2);
	printf("cut question: %s, %s udp\n", describe(ans, t), t > 0 && t == u && !memcmp(ans, ans2, (size_t)t) ? "same as" : "NOT as");
	close(fd);
}

/* Messages that get no answer are skipped: the next query's answer is the next one. */
static void ignored(void)
{
	int fd = tcp_open();
	size_t o = 0, len;
	len = query(q, 300, 0x8180, "svc.test", 1, 1); /* a response */
	o += framed(buf + o, q, len);
	o += framed(buf + o, q, 5); /* shorter than a header */
	o += framed(buf + o, q, 0); /* empty */
	len = query(q, 301, 0x0100, "host.ward.internal", 1, 1);
	o += framed(buf + o, q, len);
	send_all(fd, buf, o);
	printf("after ignored: %s\n", describe(ans, recv_msg(fd, ans)));
	close(fd);
}

/* The length prefix and the message in pieces. */
static void split(void)
{
	int fd = tcp_open();
	size_t len = framed(buf, q, query(q, 400, 0x0100, "svc.test", 1, 1));
	send_all(fd, buf, 1);
	send_all(fd, buf + 1, 1);
	send_all(fd, buf + 2, 5);
	send_all(fd, buf + 7, len - 7);
	printf("split one byte at a time: %s\n", describe(ans, recv_msg(fd, ans)));
	/* Two queries in one send, the second one's length straddling a second send. */
	size_t o = framed(buf, q, query(q, 401, 0x0100, "host.ward.internal", 28, 1));
	o += framed(buf + o, q, query(q, 402, 0x0100, "other.test", 1, 1));
	send_all(fd, buf, len + 1);
	send_all(fd, buf + len + 1, o - len - 1);
	printf("split across queries: %s", describe(ans, recv_msg(fd, ans)));
	printf(" / %s\n", describe(ans, recv_msg(fd, ans)));
	close(fd);
}

/* A message of 65535 bytes: the query, then padding the resolver reads and drops. */
static void huge(void)
{
	int fd = tcp_open();
	memset(q, 0, sizeof(q));
	query(q, 500, 0x0100, "svc.test", 1, 1);
	size_t o = framed(buf, q, 65535);
	o += framed(buf + o, q, query(q, 501, 0x0100, "host.ward.internal", 1, 1));
	if (!send_all(fd, buf, o))
		printf("huge: send %s\n", errname(errno));
	printf("huge message: %s", describe(ans, recv_msg(fd, ans)));
	printf(" / next: %s\n", describe(ans, recv_msg(fd, ans)));
	close(fd);
}

/* Many queries pipelined on a non-blocking socket driven by epoll; the guest reads
 * nothing until its sends stop being taken, so the resolver must hold back. */
#define PIPELINED 3000
static void pipelined(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = resolver_addr(53);
	int r = connect(fd, (struct sockaddr *)&a, sizeof(a));
	printf("non-blocking connect: %s\n", errname(r < 0 ? errno : 0));
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	poll(&p, 1, 5000);
	int err = -1;
	socklen_t el = sizeof(err);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
	printf("connected: %s%s\n", p.revents & POLLOUT ? "POLLOUT " : "", errname(err));

	static uint8_t out[PIPELINED * 40];
	size_t olen = 0;
	for (int i = 0; i < PIPELINED; i++) {
		size_t len = i % 10 == 9 ? query(q, (uint16_t)i, 0x0100, "nope.test", 1, 1)
					 : query(q, (uint16_t)i, 0x0100, "host.ward.internal", 1, 1);
		olen += framed(out + olen, q, len);
	}
	size_t sent = 0;
	bool held_back = false;
	while (sent < olen) {
		ssize_t n = send(fd, out + sent, olen - sent, MSG_NOSIGNAL);
		if (n < 0) {
			held_back = errno == EAGAIN;
			break;
		}
		sent += (size_t)n;
	}
	printf("resolver held back a guest that does not read: %s\n", held_back ? "yes" : "no");

	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.fd = fd};
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	static uint8_t in[1 << 20];
	size_t ilen = 0, have = 0;
	int answered = 0, bad = -1;
	while (answered < PIPELINED) {
		struct epoll_event got;
		if (epoll_wait(ep, &got, 1, 20000) != 1) {
			printf("pipelined: stalled after %d answers\n", answered);
			break;
		}
		if ((got.events & (EPOLLERR | EPOLLHUP)) && !(got.events & EPOLLIN)) {
			printf("pipelined: %s after %d answers\n", got.events & EPOLLERR ? "error" : "hang-up", answered);
			break;
		}
		if ((got.events & EPOLLOUT) && sent < olen) {
			ssize_t n = send(fd, out + sent, olen - sent, MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
			else if (errno != EAGAIN) {
				printf("pipelined: send %s after %d answers\n", errname(errno), answered);
				break;
			}
			if (sent == olen) {
				ev.events = EPOLLIN;
				epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
			}
		}
		if (got.events & EPOLLIN) {
			ssize_t n = recv(fd, in + ilen, sizeof(in) - ilen, 0);
			if (n <= 0) {
				printf("pipelined: recv %zd after %d answers\n", n, answered);
				break;
			}
			ilen += (size_t)n;
			while (ilen - have >= 2) {
				size_t len = (size_t)in[have] << 8 | in[have + 1];
				if (ilen - have < 2 + len)
					break;
				const uint8_t *m = in + have + 2;
				int id = m[0] << 8 | m[1], rcode = m[3] & 15, an = m[6] << 8 | m[7];
				bool ok = id == answered && (answered % 10 == 9 ? rcode == 3 && an == 0 : rcode == 0 && an == 1);
				if (!ok && bad < 0)
					bad = answered;
				answered++;
				have += 2 + len;
			}
		}
	}
	if (bad >= 0)
		printf("pipelined: answer %d is not the one expected\n", bad);
	else
		printf("pipelined %d queries: %d answers, in order\n", PIPELINED, answered);
	close(ep);
	close(fd);
}

/* The guest half-closes: the answers still come, then EOF. */
static void half_close(void)
{
	int fd = tcp_open();
	size_t o = framed(buf, q, query(q, 600, 0x0100, "svc.test", 1, 1));
	o += framed(buf + o, q, query(q, 601, 0x0100, "nope.test", 28, 1));
	send_all(fd, buf, o);
	shutdown(fd, SHUT_WR);
	printf("half-close: %s", describe(ans, recv_msg(fd, ans)));
	printf(" / %s", describe(ans, recv_msg(fd, ans)));
	printf(" / %s\n", describe(ans, recv_msg(fd, ans)));
	close(fd);
	/* A message cut short by the half-close is not answered. */
	fd = tcp_open();
	o = framed(buf, q, query(q, 602, 0x0100, "svc.test", 1, 1));
	send_all(fd, buf, o - 4);
	shutdown(fd, SHUT_WR);
	printf("half-close mid-message: %s\n", describe(ans, recv_msg(fd, ans)));
	close(fd);
}

static void other_ports(void)
{
	for (int port = 54; port <= 80; port += 26) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = resolver_addr(port);
		int r = connect(fd, (struct sockaddr *)&a, sizeof(a));
		printf("port %d: %s", port, errname(r < 0 ? errno : 0));
		close(fd);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		r = connect(fd, (struct sockaddr *)&a, sizeof(a));
		printf(", non-blocking %s", errname(r < 0 ? errno : 0));
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		poll(&p, 1, 5000);
		int err = -1;
		socklen_t el = sizeof(err);
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
		printf(" then %s\n", errname(err));
		close(fd);
	}
	/* A dual-stack IPv6 socket reaches it at its v4-mapped address (there is no IPv6
	 * resolver address). */
	int fd6 = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(53)};
	inet_pton(AF_INET6, "::ffff:" RESOLVER, &a6.sin6_addr);
	int r6 = connect(fd6, (struct sockaddr *)&a6, sizeof(a6));
	size_t len6 = query(q, 1100, 0x0100, "host.ward.internal", 1, 1);
	printf("ipv6 socket: connect %s, %s\n", errname(r6 < 0 ? errno : 0),
	       r6 < 0 ? "-" : describe(ans, tcp_ask(fd6, q, len6, ans)));
	close(fd6);
	/* UDP to another port of the resolver is still unreachable. */
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = resolver_addr(54);
	printf("udp port 54: %s\n", errname(sendto(fd, "x", 1, 0, (struct sockaddr *)&a, sizeof(a)) < 0 ? errno : 0));
	close(fd);
}

/* DNS tunnelling over TCP: long random labels under a name that is not allowed. */
static void tunnel(void)
{
	int fd = tcp_open();
	srand(5);
	size_t o = 0;
	int n = 60;
	for (int i = 0; i < n; i++) {
		char name[256];
		int l = 0;
		for (int lab = 0; lab < 3; lab++) {
			for (int c = 0; c < 60; c++)
				name[l++] = "abcdefghijklmnopqrstuvwxyz0123456789"[rand() % 36];
			name[l++] = '.';
		}
		strcpy(name + l, i % 2 ? "other.test" : "svc.test");
		o += framed(buf + o, q, query(q, (uint16_t)(700 + i), 0x0100, name, i % 3 ? 1 : 28, 1));
	}
	send_all(fd, buf, o);
	int nx = 0;
	for (int i = 0; i < n; i++) {
		ssize_t len = recv_msg(fd, ans);
		if (len >= 12 && (ans[0] << 8 | ans[1]) == 700 + i && (ans[3] & 15) == 3 && ans[7] == 0)
			nx++;
	}
	printf("tunnelling: %d of %d NXDOMAIN\n", nx, n);
	close(fd);
}

/* Connections beyond the resolver's limit are refused; the ones held still work. */
static void flood(void)
{
	int fds[200], n = 0, err = 0;
	while (n < 200) {
		int fd = tcp_open();
		if (fd < 0) {
			err = -fd;
			break;
		}
		fds[n++] = fd;
	}
	printf("flood: %d connections, then %s\n", n, errname(err));
	size_t len = query(q, 800, 0x0100, "svc.test", 1, 1);
	printf("flood: the first still answers: %s\n", describe(ans, tcp_ask(fds[0], q, len, ans)));
	printf("flood: udp still answers: %s\n", describe(ans, udp_ask(q, len, ans)));
	close(fds[n - 1]);
	int fd = tcp_open();
	printf("flood: after a close, a connect: %s\n", errname(fd < 0 ? -fd : 0));
	if (fd >= 0)
		close(fd);
	for (int i = 0; i < n - 1; i++)
		close(fds[i]);
}

/* The guest closes a connection while the net gofer is still looking names up for it:
 * the late answers go nowhere, and the next connection is served. */
static void abandon(void)
{
	for (int round = 0; round < 20; round++) {
		int fd = tcp_open();
		size_t o = 0;
		for (int i = 0; i < 16; i++)
			o += framed(buf + o, q, query(q, (uint16_t)i, 0x0100, i % 2 ? "nope.test" : "svc.test", 1, 1));
		send_all(fd, buf, o);
		close(fd);
	}
	int fd = tcp_open();
	size_t len = query(q, 1000, 0x0100, "svc.test", 1, 1);
	printf("abandoned lookups, then: %s\n", describe(ans, tcp_ask(fd, q, len, ans)));
	close(fd);
}

/* A connection that sends nothing, and one that sends a byte and stalls, are closed by
 * the resolver after its idle timeout; meanwhile everything else goes on. */
static void idle(void)
{
	int quiet = tcp_open(), slow = tcp_open();
	send_all(slow, "\0", 1);
	size_t len = query(q, 900, 0x0100, "svc.test", 1, 1);
	int fd = tcp_open();
	printf("idle: meanwhile tcp: %s", describe(ans, tcp_ask(fd, q, len, ans)));
	printf(", udp: %s\n", describe(ans, udp_ask(q, len, ans)));
	close(fd);
	struct pollfd p[2] = {{.fd = quiet, .events = POLLIN}, {.fd = slow, .events = POLLIN}};
	int closed = 0;
	for (int i = 0; i < 60 && closed < 2; i++) {
		poll(p, 2, 1000);
		closed = 0;
		for (int j = 0; j < 2; j++)
			closed += (p[j].revents & POLLIN) != 0;
	}
	char c;
	printf("idle: quiet one %s, slow one %s\n", recv(quiet, &c, 1, 0) == 0 ? "closed" : "open",
	       recv(slow, &c, 1, 0) == 0 ? "closed" : "open");
	/* Writing to it now: taken once, then the reset shows (as from a closed peer). */
	ssize_t w1 = send(quiet, buf, 10, MSG_NOSIGNAL);
	ssize_t w2 = send(quiet, buf, 10, MSG_NOSIGNAL);
	printf("idle: send after close %zd, then %s\n", w1, errname(w2 < 0 ? errno : 0));
	close(quiet);
	close(slow);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	int fd = tcp_open();
	struct sockaddr_in peer = {0}, self = {0};
	socklen_t pl = sizeof(peer), sl = sizeof(self);
	getpeername(fd, (struct sockaddr *)&peer, &pl);
	getsockname(fd, (struct sockaddr *)&self, &sl);
	char pa[32], sa[32];
	inet_ntop(AF_INET, &peer.sin_addr, pa, sizeof(pa));
	inet_ntop(AF_INET, &self.sin_addr, sa, sizeof(sa));
	printf("connect: %s, peer %s:%d, local %s\n", fd < 0 ? errname(-fd) : "0", pa, ntohs(peer.sin_port), sa);
	if (fd < 0)
		return 1; /* the rest needs the resolver */
	close(fd);
	same_as_udp();
	ignored();
	split();
	huge();
	pipelined();
	half_close();
	other_ports();
	tunnel();
	flood();
	abandon();
	idle();
	printf("done\n");
	return 0;
}
