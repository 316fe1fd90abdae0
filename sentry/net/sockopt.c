/* SOL_SOCKET options, as net/core/sock.c answers them: stored, reported back (buffer
 * sizes doubled as Linux does), and honoured where the socket layer has the behaviour
 * (timeouts, SO_REUSEADDR/SO_REUSEPORT in the port tables, SO_PASSCRED, SO_ERROR). Other
 * levels go to the family; an unknown option is ENOPROTOOPT. */
#include "sentry/net/net.h"

#include <errno.h>
#include <string.h>
#include <sys/time.h>

/* net.core.rmem_max / wmem_max and the kernel's minimums */
#define RMEM_MAX 212992
#define WMEM_MAX 212992
#define SOCK_MIN_RCVBUF 2304
#define SOCK_MIN_SNDBUF 4608

#ifndef SO_RCVTIMEO_NEW
#define SO_RCVTIMEO_NEW 66
#define SO_SNDTIMEO_NEW 67
#endif

static int set_timeout(uint64_t *out, const void *val, socklen_t len)
{
	struct timeval tv;
	if (len < sizeof(tv))
		return -EINVAL;
	memcpy(&tv, val, sizeof(tv));
	if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
		return -EDOM;
	if (tv.tv_sec < 0) {
		*out = 0; /* Linux: a negative timeout means none */
		return 0;
	}
	*out = (uint64_t)tv.tv_sec * 1000000000ull + (uint64_t)tv.tv_usec * 1000ull;
	return 0;
}

int sock_setsockopt(struct sock *sk, struct task *t, int level, int name, const void *val, socklen_t len)
{
	(void)t;
	if (level != SOL_SOCKET) {
		if (!sk->ops->setsockopt)
			return -EOPNOTSUPP;
		return sk->ops->setsockopt(sk, level, name, val, len);
	}
	if (name == SO_RCVTIMEO || name == SO_RCVTIMEO_NEW)
		return set_timeout(&sk->rcvtimeo_ns, val, len);
	if (name == SO_SNDTIMEO || name == SO_SNDTIMEO_NEW)
		return set_timeout(&sk->sndtimeo_ns, val, len);
	if (name == SO_LINGER) {
		struct linger l;
		if (len < sizeof(l))
			return -EINVAL;
		memcpy(&l, val, sizeof(l));
		sk->linger_on = l.l_onoff != 0;
		sk->linger_secs = l.l_linger;
		return 0;
	}
	int v;
	if (len < sizeof(int))
		return -EINVAL;
	memcpy(&v, val, sizeof(v));
	switch (name) {
	case SO_DEBUG:
		return 0;
	case SO_REUSEADDR:
		sk->reuseaddr = v != 0;
		return 0;
	case SO_REUSEPORT:
		if (sk->family != AF_INET && sk->family != AF_INET6)
			return -EOPNOTSUPP;
		sk->reuseport = v != 0;
		return 0;
	case SO_KEEPALIVE:
		sk->keepalive = v != 0;
		return 0;
	case SO_BROADCAST:
		sk->broadcast = v != 0;
		return 0;
	case SO_DONTROUTE:
		sk->dontroute = v != 0;
		return 0;
	case SO_OOBINLINE:
		sk->oobinline = v != 0;
		return 0;
	case SO_PASSCRED:
		sk->passcred = v != 0;
		return 0;
	case SO_SNDBUF: {
		unsigned u = (unsigned)v > WMEM_MAX ? WMEM_MAX : (unsigned)v;
		sk->sndbuf = (int)(u * 2 < SOCK_MIN_SNDBUF ? SOCK_MIN_SNDBUF : u * 2);
		sock_wake(sk);
		return 0;
	}
	case SO_RCVBUF: {
		unsigned u = (unsigned)v > RMEM_MAX ? RMEM_MAX : (unsigned)v;
		sk->rcvbuf = (int)(u * 2 < SOCK_MIN_RCVBUF ? SOCK_MIN_RCVBUF : u * 2);
		sock_wake(sk);
		return 0;
	}
	case SO_SNDBUFFORCE:
	case SO_RCVBUFFORCE:
	case SO_MARK:
		return -EPERM; /* CAP_NET_ADMIN */
	case SO_RCVLOWAT:
		sk->rcvlowat = v < 1 ? 1 : v;
		return 0;
	case SO_SNDLOWAT:
		return -ENOPROTOOPT;
	case SO_PRIORITY:
		if (v < 0 || v > 6)
			return -EPERM; /* above 6 needs CAP_NET_ADMIN */
		sk->priority = v;
		return 0;
	case SO_TYPE: case SO_ERROR: case SO_PROTOCOL: case SO_DOMAIN: case SO_ACCEPTCONN:
	case SO_PEERCRED:
		return -ENOPROTOOPT;
	}
	return -ENOPROTOOPT;
}

static int put_int(void *val, socklen_t *len, int v)
{
	if ((int)*len < 0)
		return -EINVAL;
	if (*len > sizeof(int))
		*len = sizeof(int);
	memcpy(val, &v, *len);
	return 0;
}

static int put_bytes(void *val, socklen_t *len, const void *src, size_t n)
{
	if ((int)*len < 0)
		return -EINVAL;
	if (*len > n)
		*len = (socklen_t)n;
	memcpy(val, src, *len);
	return 0;
}

static int put_timeout(void *val, socklen_t *len, uint64_t ns)
{
	struct timeval tv = {.tv_sec = (time_t)(ns / 1000000000ull),
			     .tv_usec = (suseconds_t)(ns % 1000000000ull / 1000)};
	return put_bytes(val, len, &tv, sizeof(tv));
}

int sock_getsockopt(struct sock *sk, struct task *t, int level, int name, void *val, socklen_t *len)
{
	(void)t;
	if (level != SOL_SOCKET) {
		if (!sk->ops->getsockopt)
			return -EOPNOTSUPP;
		return sk->ops->getsockopt(sk, level, name, val, len);
	}
	switch (name) {
	case SO_DEBUG: return put_int(val, len, 0);
	case SO_REUSEADDR: return put_int(val, len, sk->reuseaddr);
	case SO_REUSEPORT: return put_int(val, len, sk->reuseport);
	case SO_KEEPALIVE: return put_int(val, len, sk->keepalive);
	case SO_BROADCAST: return put_int(val, len, sk->broadcast);
	case SO_DONTROUTE: return put_int(val, len, sk->dontroute);
	case SO_OOBINLINE: return put_int(val, len, sk->oobinline);
	case SO_PASSCRED: return put_int(val, len, sk->passcred);
	case SO_SNDBUF: return put_int(val, len, sk->sndbuf);
	case SO_RCVBUF: return put_int(val, len, sk->rcvbuf);
	case SO_RCVLOWAT: return put_int(val, len, sk->rcvlowat);
	case SO_SNDLOWAT: return put_int(val, len, 1);
	case SO_PRIORITY: return put_int(val, len, sk->priority);
	case SO_MARK: return put_int(val, len, 0);
	case SO_TYPE: return put_int(val, len, sk->type);
	case SO_PROTOCOL: return put_int(val, len, sk->protocol);
	case SO_DOMAIN: return put_int(val, len, sk->family);
	case SO_ACCEPTCONN: return put_int(val, len, sk->state == SS_LISTENING);
	case SO_ERROR: return put_int(val, len, -sock_take_error(sk));
	case SO_RCVTIMEO: case SO_RCVTIMEO_NEW: return put_timeout(val, len, sk->rcvtimeo_ns);
	case SO_SNDTIMEO: case SO_SNDTIMEO_NEW: return put_timeout(val, len, sk->sndtimeo_ns);
	case SO_LINGER: {
		struct linger l = {.l_onoff = sk->linger_on, .l_linger = sk->linger_secs};
		return put_bytes(val, len, &l, sizeof(l));
	}
	case SO_PEERCRED: {
		/* Linux: no peer yet gives the "nobody" credentials {0, -1, -1}. */
		struct ucred u = {.pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1};
		if (sk->has_peercred) {
			u.pid = sk->peercred.pid;
			u.uid = sk->peercred.uid;
			u.gid = sk->peercred.gid;
		}
		return put_bytes(val, len, &u, sizeof(u));
	}
	}
	return -ENOPROTOOPT;
}
