/* AF_INET and AF_INET6 sockets: creation (TCP or UDP), what the two share (addresses,
 * names, IPPROTO_IP/IPPROTO_IPV6 options), and the rule that only the sandbox's loopback
 * is reachable in the sentry; the sandbox's resolver, 10.0.2.3:53, answers in the sentry
 * too (UDP: dns.c, TCP: dns_tcp.c); TCP to any other address goes through the net gofer
 * (egress.c), UDP nowhere else. */
#include "sentry/net/inet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>

int inet_create(struct task *t, int family, int type, int protocol, struct sock **out)
{
	const struct proto_ops *ops;
	int proto;
	switch (type) {
	case SOCK_STREAM:
		if (protocol != 0 && protocol != IPPROTO_TCP)
			return -EPROTONOSUPPORT;
		ops = &tcp_ops;
		proto = IPPROTO_TCP;
		break;
	case SOCK_DGRAM:
		if (protocol == IPPROTO_ICMP || protocol == IPPROTO_ICMPV6)
			return -EACCES; /* ping sockets: outside net.ipv4.ping_group_range */
		if (protocol != 0 && protocol != IPPROTO_UDP)
			return -EPROTONOSUPPORT;
		ops = &udp_ops;
		proto = IPPROTO_UDP;
		break;
	case SOCK_RAW:
		return -EPERM; /* raw sockets need CAP_NET_RAW, which the sandbox never has */
	default:
		return -ESOCKTNOSUPPORT;
	}
	struct sock *sk = sock_alloc(t->k, family, type, proto, ops);
	if (!sk)
		return -ENOMEM;
	struct sockaddr_in6 *l = in6_of(&sk->local);
	l->sin6_family = AF_INET6;
	if (family == AF_INET)
		l->sin6_addr.s6_addr[10] = l->sin6_addr.s6_addr[11] = 0xff; /* 0.0.0.0 */
	if (type == SOCK_STREAM) {
		/* net.ipv4.tcp_rmem / tcp_wmem defaults */
		sk->rcvbuf = 131072;
		sk->sndbuf = 16384;
		sk->tcp_keepidle = 7200;
		sk->tcp_keepintvl = 75;
		sk->tcp_keepcnt = 9;
		sk->tcp_maxseg = 536;
	}
	*out = sk;
	return 0;
}

int inet_dest(struct sock *sk, const struct sockaddr_storage *a, socklen_t len, struct sockaddr_in6 *dst)
{
	int r = inet_route(sk, a, len, dst);
	return r == ROUTE_LOCAL ? 0 : r < 0 ? r : -ENETUNREACH;
}

int inet_route(struct sock *sk, const struct sockaddr_storage *a, socklen_t len, struct sockaddr_in6 *dst)
{
	int err = inet_addr_in(sk->family, a, len, dst, false);
	if (err < 0)
		return err;
	if (sk->family == AF_INET6 && sk->v6only && inet_is_v4mapped(&dst->sin6_addr))
		return -ENETUNREACH;
	/* A connection to the unspecified address goes to the loopback (as on Linux). */
	if (inet_is_any(&dst->sin6_addr)) {
		bool v4 = inet_is_v4mapped(&dst->sin6_addr);
		memset(&dst->sin6_addr, 0, sizeof(dst->sin6_addr));
		if (v4) {
			dst->sin6_addr.s6_addr[10] = dst->sin6_addr.s6_addr[11] = 0xff;
			dst->sin6_addr.s6_addr[12] = 127;
			dst->sin6_addr.s6_addr[15] = 1;
		} else {
			dst->sin6_addr.s6_addr[15] = 1;
		}
	}
	if (inet_is_loopback(&dst->sin6_addr) || inet_is_v4(&dst->sin6_addr, NET_IF_ADDR))
		return ROUTE_LOCAL;
	if (inet_is_v4(&dst->sin6_addr, NET_RESOLVER_ADDR))
		return ROUTE_RESOLVER;
	return ROUTE_OUT;
}

int inet_autobind(struct sock *sk, struct list_head *table, const struct sockaddr_in6 *dst)
{
	if (sk->bound)
		return 0;
	struct sockaddr_in6 a = {.sin6_family = AF_INET6};
	if (dst) {
		/* The source address for a loopback destination. */
		if (inet_is_v4mapped(&dst->sin6_addr)) {
			a.sin6_addr.s6_addr[10] = a.sin6_addr.s6_addr[11] = 0xff;
			a.sin6_addr.s6_addr[12] = 127;
			a.sin6_addr.s6_addr[15] = 1;
		} else {
			a.sin6_addr.s6_addr[15] = 1;
		}
	} else if (sk->family == AF_INET) {
		a.sin6_addr.s6_addr[10] = a.sin6_addr.s6_addr[11] = 0xff;
	}
	int err = port_bind(sk, table, &a);
	if (err == -EADDRINUSE && dst)
		err = -EADDRNOTAVAIL;
	if (err == 0 && dst)
		sk->ephemeral_port = true;
	return err;
}

int inet_bind_interface(struct sock *sk, const struct sockaddr_in6 *dst)
{
	if (sk->bound)
		return 0;
	struct sockaddr_in6 src = {.sin6_family = AF_INET6};
	if (inet_is_v4mapped(&dst->sin6_addr)) {
		src.sin6_addr.s6_addr[10] = src.sin6_addr.s6_addr[11] = 0xff;
		uint32_t a = htonl(NET_IF_ADDR);
		memcpy(&src.sin6_addr.s6_addr[12], &a, 4);
	}
	int err = port_bind(sk, &net_of(sk->k)->tcp_ports, &src);
	if (err < 0)
		return err == -EADDRINUSE ? -EADDRNOTAVAIL : err;
	sk->ephemeral_port = true;
	return 0;
}

int inet_bind(struct sock *sk, struct task *t, struct list_head *table, const struct sockaddr_storage *a,
	      socklen_t len)
{
	struct sockaddr_in6 addr;
	int err = inet_addr_in(sk->family, a, len, &addr, true);
	if (err < 0)
		return err;
	if (sk->family == AF_INET6 && inet_is_v4mapped(&addr.sin6_addr) && sk->v6only)
		return -EINVAL;
	if (!inet_is_local(&addr.sin6_addr))
		return -EADDRNOTAVAIL;
	if (sk->bound)
		return -EINVAL;
	if (ntohs(addr.sin6_port) && ntohs(addr.sin6_port) < 1024 && t->tg->cred.euid != 0)
		return -EACCES; /* net.ipv4.ip_unprivileged_port_start */
	err = port_bind(sk, table, &addr);
	if (err == 0)
		sk->ephemeral_port = false; /* bound by the program: kept after a failed connect */
	return err;
}

int inet_getname(struct sock *sk, bool peer, struct sockaddr_storage *a, socklen_t *len)
{
	if (peer) {
		if (sk->state != SS_CONNECTED)
			return -ENOTCONN;
		*len = inet_addr_out(sk->family, in6_of(&sk->remote), a);
		return 0;
	}
	*len = inet_addr_out(sk->family, in6_of(&sk->local), a);
	return 0;
}

static int get_int(const void *val, socklen_t len, int *out)
{
	if (len < sizeof(int)) {
		if (len == 0)
			return -EINVAL;
		*out = *(const uint8_t *)val; /* IP options accept a byte */
		return 0;
	}
	memcpy(out, val, sizeof(int));
	return 0;
}

static int put_int(void *val, socklen_t *len, int v)
{
	if (*len > sizeof(int))
		*len = sizeof(int);
	memcpy(val, &v, *len);
	return 0;
}

int inet_setsockopt(struct sock *sk, int level, int name, const void *val, socklen_t len)
{
	int v;
	if (level == IPPROTO_TCP && sk->type == SOCK_STREAM) {
		if (len < sizeof(int))
			return -EINVAL;
		memcpy(&v, val, sizeof(v));
		switch (name) {
		case TCP_NODELAY: sk->nodelay = v != 0; return 0;
		case TCP_CORK: sk->tcp_cork = v != 0; return 0;
		case TCP_QUICKACK: sk->tcp_quickack = v != 0; return 0;
		case TCP_DEFER_ACCEPT: sk->tcp_defer = v != 0; return 0;
		case TCP_KEEPIDLE:
			if (v < 1 || v > 32767) return -EINVAL;
			sk->tcp_keepidle = v; return 0;
		case TCP_KEEPINTVL:
			if (v < 1 || v > 32767) return -EINVAL;
			sk->tcp_keepintvl = v; return 0;
		case TCP_KEEPCNT:
			if (v < 1 || v > 127) return -EINVAL;
			sk->tcp_keepcnt = v; return 0;
		case TCP_USER_TIMEOUT:
			if (v < 0) return -EINVAL;
			sk->tcp_user_timeout = v; return 0;
		case TCP_MAXSEG:
			if (v && (v < 88 || v > 32767)) return -EINVAL;
			if (v) sk->tcp_maxseg = v;
			return 0;
		}
		return -ENOPROTOOPT;
	}
	if (level == IPPROTO_IP) {
		int err = get_int(val, len, &v);
		if (err < 0)
			return err;
		switch (name) {
		case IP_RECVERR: sk->recverr = v != 0; return 0;
		case IP_TOS: sk->ip_tos = v & 0xff; return 0;
		case IP_TTL:
			if (v == -1) v = 64;
			if (v < 1 || v > 255) return -EINVAL;
			sk->ip_ttl = v; return 0;
		}
		return -ENOPROTOOPT;
	}
	if (level == IPPROTO_IPV6 && sk->family == AF_INET6) {
		if (len < sizeof(int))
			return -EINVAL;
		memcpy(&v, val, sizeof(v));
		switch (name) {
		case IPV6_RECVERR: sk->recverr = v != 0; return 0;
		case IPV6_V6ONLY:
			if (sk->bound)
				return -EINVAL;
			sk->v6only = v != 0;
			return 0;
		case IPV6_UNICAST_HOPS:
			if (v < -1 || v > 255) return -EINVAL;
			sk->ip_ttl = v == -1 ? 64 : v;
			return 0;
		case IPV6_TCLASS:
			if (v < -1 || v > 255) return -EINVAL;
			sk->ip_tos = v == -1 ? 0 : v;
			return 0;
		}
		return -ENOPROTOOPT;
	}
	return -ENOPROTOOPT;
}

int inet_getsockopt(struct sock *sk, int level, int name, void *val, socklen_t *len)
{
	if (level == IPPROTO_TCP && sk->type == SOCK_STREAM) {
		switch (name) {
		case TCP_NODELAY: return put_int(val, len, sk->nodelay);
		case TCP_CORK: return put_int(val, len, sk->tcp_cork);
		case TCP_QUICKACK: return put_int(val, len, 1);
		case TCP_DEFER_ACCEPT: return put_int(val, len, 0);
		case TCP_KEEPIDLE: return put_int(val, len, sk->tcp_keepidle);
		case TCP_KEEPINTVL: return put_int(val, len, sk->tcp_keepintvl);
		case TCP_KEEPCNT: return put_int(val, len, sk->tcp_keepcnt);
		case TCP_USER_TIMEOUT: return put_int(val, len, sk->tcp_user_timeout);
		case TCP_MAXSEG: return put_int(val, len, sk->tcp_maxseg);
		}
		return -ENOPROTOOPT;
	}
	if (level == IPPROTO_IP) {
		switch (name) {
		case IP_RECVERR: return put_int(val, len, sk->recverr);
		case IP_TOS: return put_int(val, len, sk->ip_tos);
		case IP_TTL: return put_int(val, len, sk->ip_ttl);
		}
		return -ENOPROTOOPT;
	}
	if (level == IPPROTO_IPV6 && sk->family == AF_INET6) {
		switch (name) {
		case IPV6_V6ONLY: return put_int(val, len, sk->v6only);
		case IPV6_RECVERR: return put_int(val, len, sk->recverr);
		case IPV6_UNICAST_HOPS: return put_int(val, len, sk->ip_ttl);
		case IPV6_TCLASS: return put_int(val, len, sk->ip_tos);
		}
		return -ENOPROTOOPT;
	}
	return -ENOPROTOOPT;
}
