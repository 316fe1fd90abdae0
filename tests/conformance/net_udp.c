/* UDP on loopback: message boundaries, sendto/recvfrom addresses (relations only: ports
 * are ephemeral), MSG_TRUNC, MSG_PEEK, FIONREAD (next datagram), connected sockets (the
 * filter on the sender, ECONNREFUSED after sending to a closed port, EDESTADDRREQ),
 * SO_REUSEADDR sharing, dual stack, EMSGSIZE and poll. */
#include "conf.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

static struct sockaddr_in lo4(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int bound4(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = lo4(0);
	bind(s, (struct sockaddr *)&a, sizeof(a));
	return s;
}

static int port_of(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	getsockname(fd, (struct sockaddr *)&a, &len);
	return ntohs(a.sin_port);
}

int main(void)
{
	char buf[256];
	int r = bound4(), s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = lo4(port_of(r)), from;
	socklen_t len;
	printf("unbound sender port %d\n", port_of(s));
	CHECK("sendto", sendto(s, "one", 3, 0, (struct sockaddr *)&to, sizeof(to)));
	printf("sender got an ephemeral port: %s\n", port_of(s) >= 32768 ? "yes" : "no");
	CHECK("sendto 2", sendto(s, "twotwo", 6, 0, (struct sockaddr *)&to, sizeof(to)));
	CHECK("sendto empty", sendto(s, "", 0, 0, (struct sockaddr *)&to, sizeof(to)));
	int n = -1;
	ioctl(r, FIONREAD, &n);
	printf("FIONREAD (first datagram) %d\n", n);
	len = sizeof(from);
	CHECK("recvfrom", recvfrom(r, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len));
	printf("from 127.0.0.1: %s, sender's port: %s, len %u\n", from.sin_addr.s_addr == htonl(INADDR_LOOPBACK) ? "yes" : "no",
	       ntohs(from.sin_port) == port_of(s) ? "yes" : "no", len);
	CHECK("recv PEEK", recv(r, buf, sizeof(buf), MSG_PEEK));
	CHECK("recv 3 of 6", recv(r, buf, 3, 0));
	CHECK("recv empty datagram", recv(r, buf, sizeof(buf), 0));
	sendto(s, "12345", 5, 0, (struct sockaddr *)&to, sizeof(to));
	CHECK("recv MSG_TRUNC into 2", recv(r, buf, 2, MSG_TRUNC));
	CHECK("recv nothing DONTWAIT", recv(r, buf, sizeof(buf), MSG_DONTWAIT));
	CHECK("send unconnected", send(s, "x", 1, 0));
	CHECK("getpeername unconnected", getpeername(s, (struct sockaddr *)&from, &len));
	CHECK("listen", listen(s, 1));
	CHECK("accept", accept(s, NULL, NULL));

	/* connected */
	int c = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK("connect", connect(c, (struct sockaddr *)&to, sizeof(to)));
	CHECK("send connected", send(c, "hi", 2, 0));
	CHECK("recv it", recv(r, buf, sizeof(buf), 0));
	struct sockaddr_in cto = lo4(port_of(s));
	CHECK("connect r to s (filter)", connect(r, (struct sockaddr *)&cto, sizeof(cto)));
	CHECK("c sends to r, filtered", sendto(c, "no", 2, 0, (struct sockaddr *)&to, sizeof(to)));
	CHECK("s sends to r", sendto(s, "ok", 2, 0, (struct sockaddr *)&to, sizeof(to)));
	CHECK("r gets only s's", recv(r, buf, sizeof(buf), MSG_DONTWAIT));
	CHECK("and nothing else", recv(r, buf, sizeof(buf), MSG_DONTWAIT));
	close(r);
	CHECK("send to a closed port", send(c, "x", 1, 0));
	CHECK("next send", send(c, "x", 1, 0));
	CHECK("and the next", send(c, "x", 1, 0));
	struct sockaddr uns = {.sa_family = AF_UNSPEC};
	CHECK("disconnect", connect(c, &uns, sizeof(uns)));
	CHECK("send after disconnect", send(c, "x", 1, 0));
	CHECK("getpeername after disconnect", getpeername(c, (struct sockaddr *)&from, &len));
	static char big[70000];
	CHECK("sendto 65507", sendto(c, big, 65507, 0, (struct sockaddr *)&to, sizeof(to)));
	CHECK("sendto 65508", sendto(c, big, 65508, 0, (struct sockaddr *)&to, sizeof(to)));
	struct sockaddr_in far = lo4(9);
	far.sin_addr.s_addr = htonl(INADDR_ANY);
	CHECK("sendto 0.0.0.0 (the loopback)", sendto(c, "x", 1, 0, (struct sockaddr *)&far, sizeof(far)));
	close(c);

	/* SO_REUSEADDR */
	int a1 = socket(AF_INET, SOCK_DGRAM, 0), a2 = socket(AF_INET, SOCK_DGRAM, 0), on = 1;
	setsockopt(a1, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	setsockopt(a2, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	struct sockaddr_in any = {.sin_family = AF_INET};
	bind(a1, (struct sockaddr *)&any, sizeof(any));
	any.sin_port = htons((uint16_t)port_of(a1));
	CHECK("second bind with SO_REUSEADDR", bind(a2, (struct sockaddr *)&any, sizeof(any)));
	int a3 = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK("third bind without", bind(a3, (struct sockaddr *)&any, sizeof(any)));
	close(a1);
	close(a2);
	close(a3);

	/* dual stack */
	int v6 = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT};
	bind(v6, (struct sockaddr *)&a6, sizeof(a6));
	len = sizeof(a6);
	getsockname(v6, (struct sockaddr *)&a6, &len);
	struct sockaddr_in to6 = lo4(ntohs(a6.sin6_port));
	int s4 = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK("v4 to dual-stack", sendto(s4, "m", 1, 0, (struct sockaddr *)&to6, sizeof(to6)));
	struct sockaddr_in6 f6;
	len = sizeof(f6);
	CHECK("recvfrom on v6", recvfrom(v6, buf, sizeof(buf), 0, (struct sockaddr *)&f6, &len));
	char txt[64];
	inet_ntop(AF_INET6, &f6.sin6_addr, txt, sizeof(txt));
	printf("v6 sees %s len %u\n", txt, len);
	struct pollfd p = {.fd = v6, .events = POLLIN | POLLOUT};
	poll(&p, 1, 0);
	printf("poll idle %#x\n", p.revents);
	close(v6);
	close(s4);
	close(s);
	return 0;
}
