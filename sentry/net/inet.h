/* What TCP and UDP share (inet.c). */
#ifndef WARD_NET_INET_H
#define WARD_NET_INET_H

#include "sentry/net/net.h"

extern const struct proto_ops tcp_ops, udp_ops;

/* A destination from the guest: loopback only (-ENETUNREACH otherwise); the unspecified
 * address means the loopback. */
int inet_dest(struct sock *sk, const struct sockaddr_storage *a, socklen_t len, struct sockaddr_in6 *dst);
/* Where a destination goes: the sentry's own stack, the resolver (10.0.2.3), or out
 * through the net gofer; or -errno for a bad address. */
enum { ROUTE_LOCAL = 0, ROUTE_RESOLVER = 1, ROUTE_OUT = 2 };
int inet_route(struct sock *sk, const struct sockaddr_storage *a, socklen_t len, struct sockaddr_in6 *dst);
/* Binds an unbound socket to an ephemeral port (for a connect to dst, or a listen). */
int inet_autobind(struct sock *sk, struct list_head *table, const struct sockaddr_in6 *dst);
int inet_bind(struct sock *sk, struct task *t, struct list_head *table, const struct sockaddr_storage *a,
	      socklen_t len);
int inet_getname(struct sock *sk, bool peer, struct sockaddr_storage *a, socklen_t *len);
int inet_setsockopt(struct sock *sk, int level, int name, const void *val, socklen_t len);
int inet_getsockopt(struct sock *sk, int level, int name, void *val, socklen_t *len);

#endif
