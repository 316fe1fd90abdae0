/* Internet addresses as the socket layer keeps them: every address is a sockaddr_in6,
 * IPv4 ones mapped (::ffff:a.b.c.d), so AF_INET and dual-stack AF_INET6 sockets share one
 * port space. The sandbox has the loopback (127.0.0.0/8 and ::1) and one interface
 * address, 10.0.2.15, which reaches the same in-sentry stack; 10.0.2.2
 * (host.ward.internal) and 10.0.2.3 (the resolver) are routed to the net gofer and the
 * sentry's DNS server (egress.c, dns.c). */
#include "sentry/net/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

bool inet_is_v4mapped(const struct in6_addr *a)
{
	static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return memcmp(a->s6_addr, prefix, 12) == 0;
}

bool inet_is_any(const struct in6_addr *a)
{
	static const struct in6_addr v4any = {{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0}}};
	return IN6_IS_ADDR_UNSPECIFIED(a) || memcmp(a, &v4any, sizeof(*a)) == 0;
}

bool inet_is_loopback(const struct in6_addr *a)
{
	if (inet_is_v4mapped(a))
		return a->s6_addr[12] == 127;
	return IN6_IS_ADDR_LOOPBACK(a);
}

bool inet_is_v4(const struct in6_addr *a, uint32_t v4)
{
	uint32_t be = htonl(v4);
	return inet_is_v4mapped(a) && memcmp(&a->s6_addr[12], &be, 4) == 0;
}

bool inet_is_local(const struct in6_addr *a)
{
	return inet_is_any(a) || inet_is_loopback(a) || inet_is_v4(a, NET_IF_ADDR);
}

int inet_addr_in(int fam, const struct sockaddr_storage *a, socklen_t len, struct sockaddr_in6 *out,
		 bool for_bind)
{
	memset(out, 0, sizeof(*out));
	out->sin6_family = AF_INET6;
	if (fam == AF_INET) {
		if (len < sizeof(struct sockaddr_in))
			return -EINVAL;
		const struct sockaddr_in *in = (const struct sockaddr_in *)a;
		if (in->sin_family != AF_INET) {
			/* bind() takes AF_UNSPEC with INADDR_ANY, for old programs */
			if (!(for_bind && in->sin_family == AF_UNSPEC && in->sin_addr.s_addr == htonl(INADDR_ANY)))
				return -EAFNOSUPPORT;
		}
		out->sin6_port = in->sin_port;
		out->sin6_addr.s6_addr[10] = out->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&out->sin6_addr.s6_addr[12], &in->sin_addr, 4);
		return 0;
	}
	if (len < 24) /* SIN6_LEN_RFC2133 */
		return -EINVAL;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)a;
	if (in6->sin6_family != AF_INET6)
		return for_bind ? -EINVAL : -EAFNOSUPPORT;
	out->sin6_port = in6->sin6_port;
	out->sin6_addr = in6->sin6_addr;
	return 0;
}

socklen_t inet_addr_out(int fam, const struct sockaddr_in6 *in, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (fam == AF_INET) {
		struct sockaddr_in *o = (struct sockaddr_in *)out;
		o->sin_family = AF_INET;
		o->sin_port = in->sin6_port;
		memcpy(&o->sin_addr, &in->sin6_addr.s6_addr[12], 4);
		return sizeof(*o);
	}
	struct sockaddr_in6 *o = (struct sockaddr_in6 *)out;
	*o = *in;
	o->sin6_family = AF_INET6;
	o->sin6_flowinfo = 0;
	o->sin6_scope_id = 0;
	return sizeof(*o);
}
