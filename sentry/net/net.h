/* The sentry's socket layer (issue 5): sockets are files whose state lives entirely in the
 * sentry; no host socket is ever made. AF_UNIX, and AF_INET/AF_INET6 on the sandbox's own
 * loopback, are in-memory connections between sockets with Linux's observable semantics.
 *
 * Layout: socket.c (the socket file, creation, common helpers), msgq.c (receive queues:
 * messages, stream and record reads, SCM_RIGHTS lists), sockopt.c (socket options),
 * unix.c, inet_addr.c, ports.c (the port tables), tcp.c, udp.c, netlink.c. The syscalls
 * that take arguments apart are in sentry/syscalls/sys_socket.c. */
#ifndef WARD_NET_H
#define WARD_NET_H

#include "sentry/kernel/kernel.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* ---- data moving between guest memory and the sentry ---- */

/* A cursor over the guest's buffers (an iovec array in guest memory's address space), or
 * over one sentry buffer (read/write on a socket file). */
struct msg_iter {
	struct mm *mm;          /* NULL: kbuf */
	const struct iovec *iov;
	int niov, idx;
	size_t seg_off;
	uint8_t *kbuf;
	size_t kbuf_len;
	size_t left; /* bytes still to move */
};

void iter_init_user(struct msg_iter *it, struct mm *mm, const struct iovec *iov, int niov);
void iter_init_kernel(struct msg_iter *it, void *buf, size_t len);
/* Copy n bytes (n <= it->left) out of / into the buffers the cursor is at; -EFAULT. */
int iter_copy_from(struct msg_iter *it, void *dst, size_t n);
int iter_copy_to(struct msg_iter *it, const void *src, size_t n);
void iter_skip(struct msg_iter *it, size_t n);

/* Credentials a message carries (SCM_CREDENTIALS) and SO_PEERCRED. */
struct net_cred {
	int32_t pid;
	uint32_t uid, gid;
};

/* One queued message (a datagram, or a piece of a stream). */
struct skb {
	struct list_head link;
	size_t len, off; /* data[off, len) is still unread */
	size_t cap;      /* room for data; small stream writes fill the last message */
	struct file **fds; /* SCM_RIGHTS: references travelling with the message */
	int nfds;
	struct net_cred cred;
	bool has_cred;
	struct sockaddr_storage from; /* the sender's address (datagrams) */
	socklen_t fromlen;
	uint8_t data[];
};

/* What a send or receive is about, once the syscall layer has taken the arguments apart. */
struct kmsg {
	struct msg_iter iter;
	size_t len;    /* total bytes asked for */
	int flags;     /* MSG_* of the call */
	int out_flags; /* msg_flags to report (MSG_TRUNC, MSG_CTRUNC, MSG_EOR) */
	struct sockaddr_storage addr; /* destination (send) or source (receive) */
	socklen_t addrlen;
	/* send: SCM_RIGHTS files (references owned by the kmsg until queued) and credentials.
	 * receive: the files of the message read (references handed to the caller). */
	struct file **fds;
	int nfds;
	struct net_cred cred;
	bool has_cred;
};

void kmsg_drop_fds(struct kmsg *m);

/* ---- sockets ---- */

enum sock_state {
	SS_FREE,        /* unconnected */
	SS_LISTENING,
	SS_CONNECTING,  /* TCP: waiting for room in a full accept queue */
	SS_CONNECTED,
	SS_DISCONNECTED, /* was connected; the peer is gone */
};

enum { SHUT_RCV = 1, SHUT_SEND = 2 };

struct sock;

struct proto_ops {
	int (*bind)(struct sock *sk, struct task *t, const struct sockaddr_storage *a, socklen_t len);
	/* May park t (SYSCALL_BLOCKED) unless nonblock; re-run with t->restarting. */
	int (*connect)(struct sock *sk, struct task *t, const struct sockaddr_storage *a, socklen_t len,
		       bool nonblock);
	int (*listen)(struct sock *sk, struct task *t, int backlog);
	/* A new connected socket from the accept queue; -EAGAIN when empty (the caller waits). */
	int (*accept)(struct sock *sk, struct task *t, struct sock **out);
	long (*sendmsg)(struct sock *sk, struct task *t, struct kmsg *m);
	long (*recvmsg)(struct sock *sk, struct task *t, struct kmsg *m);
	int (*shutdown)(struct sock *sk, int how);
	/* Own (peer false) or peer address; -ENOTCONN. */
	int (*getname)(struct sock *sk, bool peer, struct sockaddr_storage *a, socklen_t *len);
	unsigned (*poll)(struct sock *sk);
	/* The file is closed: disconnect, leave tables. The sock may live on (peers). */
	void (*release)(struct sock *sk);
	/* Protocol-level options (level != SOL_SOCKET); NULL: ENOPROTOOPT. */
	int (*setsockopt)(struct sock *sk, int level, int name, const void *val, socklen_t len);
	int (*getsockopt)(struct sock *sk, int level, int name, void *val, socklen_t *len);
};

struct sock {
	int refs;
	struct kernel *k;
	int family, type, protocol;
	const struct proto_ops *ops;
	enum sock_state state;
	int shutdown; /* SHUT_RCV | SHUT_SEND: this end's directions that are closed */
	int err;      /* pending error (SO_ERROR), positive errno */
	bool closed;  /* its file is gone */
	struct waitqueue wq; /* any change of readiness of this socket */

	/* receive queue */
	struct list_head rxq; /* struct skb */
	size_t rx_bytes;
	int rx_count;

	struct sock *peer; /* connected: the other end (a reference) */

	/* listening: connections not accepted yet (struct sock.qlink) and, for TCP, clients
	 * waiting for room in it */
	struct list_head acceptq, pendingq;
	int acceptq_len, backlog;
	struct list_head qlink;
	struct sock *listener; /* a pending TCP client: the listener it waits on (no ref) */

	/* options */
	int rcvbuf, sndbuf;
	bool reuseaddr, reuseport, keepalive, passcred, nodelay, v6only, broadcast;
	bool oobinline, dontroute, linger_on;
	int linger_secs;
	int rcvlowat;
	uint64_t rcvtimeo_ns, sndtimeo_ns;
	int priority, mark;
	int ip_ttl, ip_tos;
	uint32_t owner_uid;

	/* credentials: our own at socket/connect/listen time, and the peer's (SO_PEERCRED) */
	struct net_cred cred, peercred;
	bool has_peercred;

	/* addresses (AF_UNIX: sockaddr_un as bound/connected; inet: sockaddr_in6 always,
	 * with v4 addresses mapped) */
	struct sockaddr_storage local, remote;
	socklen_t local_len, remote_len;
	bool bound;
	/* AF_UNIX bound to a path: the socket inode's identity; AF_UNIX unix.c list link */
	uint64_t bind_dev, bind_ino;
	struct list_head bind_link; /* unix: bound sockets; inet: the port table */
	bool ephemeral_port;
	/* TCP */
	bool fin;             /* the peer's FIN arrived: reads end with EOF before errors */
	bool connect_waiting; /* a blocking connect is parked waiting for the listener */
	bool connect_unreported; /* a non-blocking connect finished; the next connect says 0 */
	int tcp_keepidle, tcp_keepintvl, tcp_keepcnt, tcp_maxseg;
	bool tcp_cork, tcp_quickack, tcp_defer;
	int tcp_user_timeout;
	/* TCP to an address off the sandbox: the relay through the net gofer (egress.c) */
	struct egress *egress;
	/* TCP to the sandbox's resolver (10.0.2.3:53), served in the sentry (dns_tcp.c) */
	struct dns_conn *dns;
	bool recverr; /* IP_RECVERR / IPV6_RECVERR: kept; no error queue is ever filled */
};

/* Per-sandbox network state (reachable from struct kernel). */
struct net_state {
	struct list_head unix_bound;  /* unix sockets with a name (sock.bind_link) */
	uint32_t unix_autobind_next;
	struct list_head tcp_ports, udp_ports; /* bound inet sockets */
	uint32_t ephemeral_next;
	uint32_t netlink_next_portid;
	struct list_head netlink_bound; /* netlink sockets with a port id (sock.bind_link) */
	long fds_in_flight; /* SCM_RIGHTS files queued in all sockets */
	struct net_chan *chan; /* the net gofer (egress.c); NULL: nothing leaves the sandbox */
	int dns_udp_lookups;   /* UDP queries waiting for the net gofer (dns.c) */
	int dns_tcp_conns;     /* open TCP connections to the resolver (dns_tcp.c) */
};

struct net_state *net_of(struct kernel *k);

/* The socket a file is, or NULL. */
struct sock *sock_from_file(struct file *f);
/* A new socket (socket(2)); -EAFNOSUPPORT, -EPROTONOSUPPORT, -ESOCKTNOSUPPORT, ... */
int sock_create(struct task *t, int family, int type, int protocol, struct sock **out);
/* A socket of the same kind, for the accepting side of a connection. */
struct sock *sock_alloc(struct kernel *k, int family, int type, int protocol,
			const struct proto_ops *ops);
/* The file for a socket (takes over the caller's reference). flags: O_NONBLOCK. */
struct file *sock_file_new(struct sock *sk, int flags);
void sock_get(struct sock *sk);
void sock_put(struct sock *sk);
/* Wakes everyone waiting on sk (and its peer's waiters, whose room may have changed). */
void sock_wake(struct sock *sk);
/* The pending error, cleared (as Linux's sock_error): -errno or 0. */
int sock_take_error(struct sock *sk);
/* Records t's credentials as the socket's own. */
void sock_set_cred(struct sock *sk, struct task *t);
/* The send/receive timeout deadline for the current call (CLOCK_MONOTONIC ns, 0 none),
 * kept across re-runs of the same call. */
uint64_t sock_deadline(struct task *t, uint64_t timeo_ns);
/* Parks t on sk's queue for a send or receive that cannot proceed; done is what the call
 * has already moved (returned if a signal or the timeout ends the wait). */
long sock_wait(struct sock *sk, struct task *t, uint64_t timeo_ns, long done);
/* EPIPE for a send, with SIGPIPE unless MSG_NOSIGNAL. */
long sock_epipe(struct task *t, int flags);
/* A stream connect that goes on in the background (the peer's accept queue is full, the
 * net gofer has not answered): EINPROGRESS, or t waits for the outcome. */
long sock_connect_in_progress(struct sock *sk, struct task *t, bool nonblock);
/* A send of len bytes to a peer that has closed: the bytes are taken, and the peer's RST
 * ends the connection (the next send fails with EPIPE). */
long sock_send_to_closed(struct sock *sk, size_t len);
void sock_connect_pair(struct sock *a, struct sock *b);
/* Drops the connection to the peer (reference included). */
void sock_unlink_peer(struct sock *sk);

/* readv/writev on a socket: one message (sys_socket.c). */
long sock_file_iov(struct task *t, struct file *f, uint64_t uiov, uint64_t cnt, bool is_write);

/* ---- receive queues (msgq.c) ---- */
/* A message with len bytes copied from m's cursor (and m's fds, moved into it). */
int skb_from_msg(struct kmsg *m, size_t len, struct skb **out);
void skb_free(struct kernel *k, struct skb *skb);
void skb_queue(struct sock *sk, struct skb *skb);
void rxq_purge(struct sock *sk);
/* Reads from sk's queue into m: a stream (merging messages) or one record (SOCK_DGRAM,
 * SOCK_SEQPACKET). Returns bytes, or -EAGAIN when nothing is queued. */
long rxq_read(struct sock *sk, struct kmsg *m, bool stream, size_t skip);
/* Stream send: moves m's bytes into peer's queue as room allows; waits as needed. */
long stream_send(struct sock *sk, struct sock *peer, struct task *t, struct kmsg *m, size_t cap);
/* Stream receive with MSG_WAITALL, MSG_PEEK, timeouts, EOF and errors. */
long stream_recv(struct sock *sk, struct task *t, struct kmsg *m);
/* Record receive (one datagram or packet). */
long record_recv(struct sock *sk, struct task *t, struct kmsg *m);

/* SCM_RIGHTS limit: files in flight per sandbox (Linux's is RLIMIT_NOFILE per user). */
#define NET_MAX_FDS_IN_FLIGHT 4096
#define SCM_MAX_FD 253

/* ---- options (sockopt.c) ---- */
int sock_setsockopt(struct sock *sk, struct task *t, int level, int name, const void *val, socklen_t len);
int sock_getsockopt(struct sock *sk, struct task *t, int level, int name, void *val, socklen_t *len);

/* ---- families ---- */
int unix_create(struct task *t, int type, int protocol, struct sock **out);
int unix_socketpair(struct task *t, int type, int protocol, struct sock **a, struct sock **b);
int inet_create(struct task *t, int family, int type, int protocol, struct sock **out);
int netlink_create(struct task *t, int type, int protocol, struct sock **out);
/* SIOCGIFNAME, SIOCGIFINDEX, SIOCGIFFLAGS, SIOCGIFMTU on the sandbox's interfaces. */
int net_iface_ioctl(struct task *t, unsigned long cmd, uint64_t arg);

/* ---- inet addresses (inet_addr.c) ---- */
/* The guest's sockaddr (AF_INET or AF_INET6) for a socket of family fam as a
 * sockaddr_in6 (v4 mapped). */
int inet_addr_in(int fam, const struct sockaddr_storage *a, socklen_t len, struct sockaddr_in6 *out,
		 bool for_bind);
/* The sockaddr to show a socket of family fam. */
socklen_t inet_addr_out(int fam, const struct sockaddr_in6 *in, struct sockaddr_storage *out);
bool inet_is_any(const struct in6_addr *a);
bool inet_is_v4mapped(const struct in6_addr *a);
bool inet_is_loopback(const struct in6_addr *a);
/* Whether an address this sandbox has (a bind to it is allowed). */
bool inet_is_local(const struct in6_addr *a);

static inline struct sockaddr_in6 *in6_of(struct sockaddr_storage *ss)
{
	return (struct sockaddr_in6 *)ss;
}

/* ---- port tables (ports.c) ---- */
/* Binds sk (proto's table) to addr/port (port 0: ephemeral). -EADDRINUSE. */
int port_bind(struct sock *sk, struct list_head *table, const struct sockaddr_in6 *addr);
void port_unbind(struct sock *sk);
/* Puts a connection's socket (an accepted one) in the table without a conflict check. */
void port_add(struct sock *sk, struct list_head *table);
/* Whether sk, about to listen, conflicts with another socket on its port. */
bool port_listen_conflict(struct sock *sk, struct list_head *table);
/* The socket bound in table that a packet to dst should reach (listening TCP or UDP),
 * or NULL. state_filter: SS_LISTENING, or -1 for any. */
struct sock *port_lookup(struct list_head *table, const struct sockaddr_in6 *dst, int family_of_sender,
			 int state_filter);

/* ---- outbound connections and names through the net gofer (egress.c) ---- */
/* Takes the channel to the net gofer (fd, a SOCK_SEQPACKET socket) at boot. */
int net_egress_init(struct kernel *k, int fd);
bool net_egress_available(struct kernel *k);
/* Writes the sandbox's /etc/hosts and /etc/resolv.conf (etc_files.c). */
int net_etc_files(struct kernel *k);
/* TCP connect to dst, off the sandbox: asks the net gofer; the socket is SS_CONNECTING
 * until it answers. Returns -EINPROGRESS (nonblock), or parks t. */
int egress_connect(struct sock *sk, struct task *t, const struct sockaddr_in6 *dst, bool nonblock);
long egress_send(struct sock *sk, struct task *t, struct kmsg *m);
/* After the guest read: refill the receive queue from the relay. */
void egress_after_recv(struct sock *sk);
unsigned egress_poll(struct sock *sk);
void egress_shutdown_send(struct sock *sk);
void egress_release(struct sock *sk);
/* A DNS query (UDP payload in m) the guest sent to the sandbox's resolver from sk;
 * the answer is queued to sk from src when the net gofer replies. */
long dns_query(struct sock *sk, struct task *t, struct kmsg *m, const struct sockaddr_in6 *resolver);
/* Between egress.c (the channel) and dns.c: a query waiting for the net gofer. */
struct dns_pending;
struct net_msg;
int egress_resolve(struct kernel *k, struct dns_pending *d, const char *name, uint16_t qtype, struct task *t);
/* Tells the net gofer's audit log of an outbound attempt the sentry refused itself (UDP
 * to an outside address); rate-limited, floods are summed up. */
void egress_report_denied(struct kernel *k, struct task *t, const struct sockaddr_in6 *dst);
/* The sandbox is over: sends what is still held back for the audit log. */
void net_egress_finish(struct kernel *k);
void dns_answer(struct dns_pending *d, const struct net_msg *rep);
/* The net gofer is gone: SERVFAIL. */
void dns_abandon(struct dns_pending *d);
/* TCP to the resolver (dns_tcp.c): the connection is made at once (-EINPROGRESS when
 * nonblock, as Linux says for a non-loopback peer); -ECONNREFUSED when the resolver has
 * as many connections as it serves. */
int dns_tcp_connect(struct sock *sk, struct task *t, const struct sockaddr_in6 *dst, bool nonblock);
long dns_tcp_send(struct sock *sk, struct task *t, struct kmsg *m);
/* After the guest read: answers held back for room go into the receive queue. */
void dns_tcp_after_recv(struct sock *sk);
/* Whether a send would take bytes now (POLLOUT). */
bool dns_tcp_writable(struct sock *sk);
void dns_tcp_shutdown_send(struct sock *sk);
void dns_tcp_release(struct sock *sk);

/* The sandbox's addresses besides the loopback (sentry/net/inet_addr.c). */
#define NET_IF_ADDR 0x0a00020fu       /* 10.0.2.15: the sandbox's interface address */
#define NET_HOST_ADDR 0x0a000202u     /* 10.0.2.2: host.ward.internal */
#define NET_RESOLVER_ADDR 0x0a000203u /* 10.0.2.3: the resolver in the sentry */
bool inet_is_v4(const struct in6_addr *a, uint32_t v4);
/* Binds an unbound socket connecting to dst off the loopback to the sandbox's interface
 * address (10.0.2.15 for IPv4) and an ephemeral port. */
int inet_bind_interface(struct sock *sk, const struct sockaddr_in6 *dst);

#endif
