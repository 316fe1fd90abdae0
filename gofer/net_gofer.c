/* `ward netgofer`: decides the guest's outbound connections and name lookups against
 * the allowlist, opens the host sockets itself and relays bytes between each one and
 * the two pipes the sentry made for it. It trusts nothing from the sentry: every
 * request is validated, and the allowlist, the limits and the audit log are its own.
 *
 * One thread, one poll() loop: the sentry's channel, and per connection the host socket
 * and the two pipes, each direction through a small buffer (so a slow side simply stops
 * the other: the pipes and the socket's buffers are the flow control). */
#include "gofer/net_gofer.h"
#include "gofer/isolate.h"
#include "gofer/net_wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RULES_MAX 256
#define RELAY_BUF 16384
#define CONNS_DEFAULT 64
#define CONNS_HARD_MAX 1024
/* The sandbox-internal address of host.ward.internal (sentry/net/inet_addr.c). */
static const uint8_t host_internal_addr[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 2, 2};

struct conn {
	uint32_t tag;
	int sock, up_r, down_w; /* host socket; pipe the guest writes; pipe the guest reads */
	bool connecting;
	bool up_eof, up_shut;   /* guest's side ended; FIN sent to the remote */
	bool down_eof;          /* remote's side ended (down_w closed once drained) */
	uint8_t up[RELAY_BUF], down[RELAY_BUF];
	size_t up_len, up_off, down_len, down_off;
	uint64_t bytes_out, bytes_in;
	char dest[EGRESS_NAME_MAX + 80], addr_str[64], name[EGRESS_NAME_MAX + 1];
	uint16_t port;
	uint32_t pid;
	char comm[NET_COMM_LEN + 1];
};

#define DNS_PENDING_MAX 64
#define DNS_SERVERS_MAX 3
#define DNS_TIMEOUT_MS 2000

/* A name lookup sent to the host's resolver. */
struct dns_req {
	uint32_t tag;
	uint16_t id, qtype;
	char name[EGRESS_NAME_MAX + 1];
	char dest[EGRESS_NAME_MAX + 16];
	uint32_t pid;
	char comm[NET_COMM_LEN + 1];
	int fd, server, tries;
	uint64_t deadline_ms;
};

struct net_gofer {
	struct sockaddr_storage servers[DNS_SERVERS_MAX];
	int nservers;
	struct dns_req dns[DNS_PENDING_MAX];
	int ndns;
	int chan;
	int audit_fd; /* -1: summaries of denials on stderr */
	struct egress_rule rules[RULES_MAX];
	int nrules;
	int max_conns;
	uint64_t max_bytes, bytes_out; /* 0: no limit */
	struct net_names *names;
	struct conn **conns;
	int nconns;
	bool chan_dead;
};

/* ---- audit ---- */

static void json_str(char *out, size_t cap, const char *s)
{
	size_t o = 0;
	for (; *s && o + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}

/* One JSON line per event to the audit file (count > 1: a line that stands for that
 * many attempts, the sentry's summary of a flood); without one, denials and limits are
 * told on stderr (the user's terminal). */
static void audit_n(struct net_gofer *g, const char *event, uint32_t pid, const char *comm,
		    const char *dest, const char *name, const char *addr, unsigned port,
		    bool allowed, const char *reason, const struct conn *c, uint32_t count)
{
	char line[2048], jdest[600], jname[600], jcomm[200], ts[40];
	if (g->audit_fd < 0) {
		if (allowed)
			return;
		char times[32] = "";
		if (count > 1)
			snprintf(times, sizeof(times), " %u times", count);
		int n = snprintf(line, sizeof(line), "ward: network: %s %s denied (%s)%s, pid %u (%s)\n",
				 event, dest, reason, times, pid, comm);
		if (n > 0 && write(2, line, (size_t)n) < 0) {
			/* nothing more can be done about it */
		}
		return;
	}
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	json_str(jdest, sizeof(jdest), dest);
	json_str(jname, sizeof(jname), name ? name : "");
	json_str(jcomm, sizeof(jcomm), comm);
	int n = snprintf(line, sizeof(line),
			 "{\"time\":\"%s.%03ldZ\",\"event\":\"%s\",\"pid\":%u,\"program\":\"%s\","
			 "\"dest\":\"%s\"",
			 ts, now.tv_nsec / 1000000, event, pid, jcomm, jdest);
	if (name && *name)
		n += snprintf(line + n, sizeof(line) - (size_t)n, ",\"name\":\"%s\"", jname);
	if (addr && *addr)
		n += snprintf(line + n, sizeof(line) - (size_t)n, ",\"addr\":\"%s\"", addr);
	if (port)
		n += snprintf(line + n, sizeof(line) - (size_t)n, ",\"port\":%u", port);
	n += snprintf(line + n, sizeof(line) - (size_t)n, ",\"decision\":\"%s\"", allowed ? "allow" : "deny");
	if (reason)
		n += snprintf(line + n, sizeof(line) - (size_t)n, ",\"reason\":\"%s\"", reason);
	if (c)
		n += snprintf(line + n, sizeof(line) - (size_t)n, ",\"bytes_out\":%llu,\"bytes_in\":%llu",
			      (unsigned long long)c->bytes_out, (unsigned long long)c->bytes_in);
	if (count > 1)
		n += snprintf(line + n, sizeof(line) - (size_t)n, ",\"attempts\":%u", count);
	n += snprintf(line + n, sizeof(line) - (size_t)n, "}\n");
	if (n > 0 && (size_t)n < sizeof(line) && write(g->audit_fd, line, (size_t)n) < 0) {
		/* an unwritable audit file does not stop the sandbox */
	}
}

static void audit(struct net_gofer *g, const char *event, uint32_t pid, const char *comm,
		  const char *dest, const char *name, const char *addr, unsigned port,
		  bool allowed, const char *reason, const struct conn *c)
{
	audit_n(g, event, pid, comm, dest, name, addr, port, allowed, reason, c, 1);
}

/* What the sentry refused itself: UDP to anything outside the sandbox. */
static void do_denied(struct net_gofer *g, const struct net_msg *m)
{
	char addr_str[64], dest[80];
	egress_addr_str(m->denied.addr, addr_str, sizeof(addr_str));
	bool v6 = strchr(addr_str, ':') != NULL;
	snprintf(dest, sizeof(dest), "%s%s%s:%u", v6 ? "[" : "", addr_str, v6 ? "]" : "", m->denied.port);
	audit_n(g, "udp", m->denied.pid, m->denied.comm, dest, NULL, addr_str, m->denied.port, false,
		"no UDP leaves the sandbox", NULL, m->denied.count);
}

/* ---- the channel ---- */

static void send_msg(struct net_gofer *g, const struct net_msg *m)
{
	uint8_t buf[NET_MSG_MAX];
	int len = net_encode(buf, sizeof(buf), m);
	if (len < 0 || g->chan_dead)
		return;
	while (send(g->chan, buf, (size_t)len, MSG_NOSIGNAL) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			struct pollfd p = {.fd = g->chan, .events = POLLOUT};
			poll(&p, 1, -1);
			continue;
		}
		g->chan_dead = true;
		return;
	}
}

static void reply_connect(struct net_gofer *g, uint32_t tag, int err)
{
	struct net_msg m = {.op = NET_OP_CONNECT | NET_REPLY, .tag = tag};
	m.connect_rep.err = (uint32_t)err;
	send_msg(g, &m);
}

/* ---- connections ---- */

static void conn_free(struct net_gofer *g, struct conn *c, bool reset, int why)
{
	if (c->sock >= 0) {
		if (reset) {
			struct linger l = {1, 0};
			setsockopt(c->sock, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		}
		close(c->sock);
	}
	if (c->up_r >= 0)
		close(c->up_r);
	if (c->down_w >= 0)
		close(c->down_w);
	if (why) {
		struct net_msg m = {.op = NET_OP_RESET, .tag = c->tag};
		m.reset.err = (uint32_t)why;
		send_msg(g, &m);
	}
	for (int i = 0; i < g->nconns; i++)
		if (g->conns[i] == c) {
			g->conns[i] = g->conns[--g->nconns];
			break;
		}
	free(c);
}

/* The allowlist's answer for a connect to addr:port, with the name that allowed it. */
static const char *decide(struct net_gofer *g, const uint8_t addr[16], uint16_t port, const char **name,
			  uint8_t target[16])
{
	*name = NULL;
	memcpy(target, addr, 16);
	if (memcmp(addr, host_internal_addr, 16) == 0) {
		*name = EGRESS_HOST_INTERNAL;
		for (int i = 0; i < g->nrules; i++)
			if (egress_rule_match_name(&g->rules[i], EGRESS_HOST_INTERNAL, port)) {
				static const uint8_t host_lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
								    127, 0, 0, 1};
				memcpy(target, host_lo, 16);
				return NULL;
			}
		return "not in allowlist";
	}
	if (egress_addr_forbidden(addr))
		return "loopback or special address";
	for (int i = 0; i < g->nrules; i++)
		if (egress_rule_match_addr(&g->rules[i], addr, port))
			return NULL;
	const char *n;
	for (int k = 0; (n = net_names_for_addr(g->names, addr, k)); k++) {
		*name = n;
		for (int i = 0; i < g->nrules; i++)
			if (egress_rule_match_name(&g->rules[i], n, port))
				return NULL;
	}
	return "not in allowlist";
}

static bool is_pipe_end(int fd, int want_acc)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (fl & O_ACCMODE) != want_acc)
		return false;
	/* A pipe answers F_GETPIPE_SZ; a socket or file does not. */
	return fcntl(fd, F_GETPIPE_SZ) > 0;
}

static void do_connect(struct net_gofer *g, const struct net_msg *m, int fds[2])
{
	const char *name;
	uint8_t target[16];
	char addr_str[64];
	egress_addr_str(m->connect.addr, addr_str, sizeof(addr_str));
	const char *why = decide(g, m->connect.addr, m->connect.port, &name, target);
	char dest[EGRESS_NAME_MAX + 60];
	snprintf(dest, sizeof(dest), "%s%s%s:%u", strchr(addr_str, ':') && !name ? "[" : "",
		 name ? name : addr_str, strchr(addr_str, ':') && !name ? "]" : "", m->connect.port);
	if (!why && g->max_bytes && g->bytes_out >= g->max_bytes)
		why = "egress byte limit reached";
	if (!why && g->nconns >= g->max_conns)
		why = "too many connections";
	if (!why && !(is_pipe_end(fds[0], O_RDONLY) && is_pipe_end(fds[1], O_WRONLY)))
		why = "malformed request";
	if (why) {
		audit(g, "connect", m->connect.pid, m->connect.comm, dest, name, addr_str, m->connect.port,
		      false, why, NULL);
		close(fds[0]);
		close(fds[1]);
		reply_connect(g, m->tag, ECONNREFUSED);
		return;
	}
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fds[0]);
		close(fds[1]);
		reply_connect(g, m->tag, ENOBUFS);
		return;
	}
	c->tag = m->tag;
	c->up_r = fds[0];
	c->down_w = fds[1];
	c->port = m->connect.port;
	c->pid = m->connect.pid;
	snprintf(c->comm, sizeof(c->comm), "%s", m->connect.comm);
	snprintf(c->dest, sizeof(c->dest), "%s", dest);
	snprintf(c->addr_str, sizeof(c->addr_str), "%s", addr_str);
	snprintf(c->name, sizeof(c->name), "%s", name ? name : "");
	fcntl(c->up_r, F_SETFL, O_NONBLOCK);
	fcntl(c->down_w, F_SETFL, O_NONBLOCK);
	struct sockaddr_storage ss;
	socklen_t sl;
	memset(&ss, 0, sizeof(ss));
	if (target[10] == 0xff && target[11] == 0xff && !memcmp(target, host_internal_addr, 10)) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(c->port);
		memcpy(&in->sin_addr, target + 12, 4);
		sl = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(c->port);
		memcpy(&in6->sin6_addr, target, 16);
		sl = sizeof(*in6);
	}
	c->sock = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	g->conns[g->nconns++] = c;
	if (c->sock < 0) {
		int e = errno;
		audit(g, "connect", c->pid, c->comm, c->dest, c->name, c->addr_str, c->port, true,
		      strerror(e), NULL);
		reply_connect(g, c->tag, e == EAFNOSUPPORT ? ENETUNREACH : e);
		c->tag = 0;
		conn_free(g, c, false, 0);
		return;
	}
	if (connect(c->sock, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		int e = errno;
		audit(g, "connect", c->pid, c->comm, c->dest, c->name, c->addr_str, c->port, true,
		      strerror(e), NULL);
		reply_connect(g, c->tag, e);
		conn_free(g, c, false, 0);
		return;
	}
	c->connecting = true;
}

static void connect_done(struct net_gofer *g, struct conn *c)
{
	int err = 0;
	socklen_t l = sizeof(err);
	if (getsockopt(c->sock, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
		err = errno;
	c->connecting = false;
	audit(g, "connect", c->pid, c->comm, c->dest, c->name, c->addr_str, c->port, true,
	      err ? strerror(err) : NULL, NULL);
	reply_connect(g, c->tag, err);
	if (err)
		conn_free(g, c, false, 0);
}

/* Moves what it can in both directions; returns false when c was freed. */
static bool pump(struct net_gofer *g, struct conn *c, short up_rev, short sock_rev, short down_rev)
{
	ssize_t n;
	/* guest -> remote */
	if ((up_rev & (POLLIN | POLLHUP | POLLERR)) && c->up_len == 0 && !c->up_eof) {
		n = read(c->up_r, c->up, sizeof(c->up));
		if (n > 0) {
			c->up_len = (size_t)n;
			c->up_off = 0;
		} else if (n == 0 || errno != EAGAIN) {
			c->up_eof = true;
		}
	}
	if (c->up_len > c->up_off && (sock_rev & POLLOUT)) {
		size_t want = c->up_len - c->up_off;
		bool over = false;
		if (g->max_bytes && g->bytes_out + want > g->max_bytes) {
			want = (size_t)(g->max_bytes - g->bytes_out);
			over = true;
		}
		n = want ? send(c->sock, c->up + c->up_off, want, MSG_NOSIGNAL) : 0;
		if (n > 0) {
			c->up_off += (size_t)n;
			c->bytes_out += (uint64_t)n;
			g->bytes_out += (uint64_t)n;
			if (c->up_off == c->up_len)
				c->up_len = c->up_off = 0;
		} else if (n < 0 && errno != EAGAIN) {
			audit(g, "close", c->pid, c->comm, c->dest, c->name, c->addr_str, c->port, true,
			      strerror(errno), c);
			conn_free(g, c, true, ECONNRESET);
			return false;
		}
		if (over && g->bytes_out >= g->max_bytes) {
			audit(g, "close", c->pid, c->comm, c->dest, c->name, c->addr_str, c->port, false,
			      "egress byte limit reached", c);
			conn_free(g, c, true, ECONNRESET);
			return false;
		}
	}
	if (c->up_eof && c->up_len == 0 && !c->up_shut) {
		shutdown(c->sock, SHUT_WR);
		c->up_shut = true;
	}
	/* remote -> guest */
	if (down_rev & POLLERR) { /* the guest stopped reading for good */
		c->down_eof = true;
		c->down_len = c->down_off = 0;
		if (c->down_w >= 0) {
			close(c->down_w);
			c->down_w = -1;
		}
	}
	if ((sock_rev & (POLLIN | POLLHUP | POLLERR)) && c->down_len == 0 && !c->down_eof) {
		n = recv(c->sock, c->down, sizeof(c->down), 0);
		if (n > 0) {
			c->down_len = (size_t)n;
			c->down_off = 0;
			c->bytes_in += (uint64_t)n;
		} else if (n == 0) {
			c->down_eof = true;
		} else if (errno != EAGAIN) {
			audit(g, "close", c->pid, c->comm, c->dest, c->name, c->addr_str, c->port, true,
			      strerror(errno), c);
			conn_free(g, c, true, errno == ECONNRESET ? ECONNRESET : errno);
			return false;
		}
	}
	if (c->down_len > c->down_off && c->down_w >= 0) {
		n = write(c->down_w, c->down + c->down_off, c->down_len - c->down_off);
		if (n > 0) {
			c->down_off += (size_t)n;
			if (c->down_off == c->down_len)
				c->down_len = c->down_off = 0;
		} else if (n < 0 && errno != EAGAIN) {
			c->down_eof = true;
			c->down_len = c->down_off = 0;
		}
	}
	if (c->down_eof && c->down_len == 0 && c->down_w >= 0) {
		close(c->down_w);
		c->down_w = -1;
	}
	if (c->up_shut && c->down_w < 0) {
		audit(g, "close", c->pid, c->comm, c->dest, c->name, c->addr_str, c->port, true, NULL, c);
		conn_free(g, c, false, 0);
		return false;
	}
	return true;
}

/* ---- names ---- */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Sends q to its current server on a fresh socket (a fresh source port each time). */
static int dns_send(struct net_gofer *g, struct dns_req *q)
{
	uint8_t buf[512];
	if (q->fd >= 0)
		close(q->fd);
	const struct sockaddr_storage *srv = &g->servers[q->server % g->nservers];
	q->fd = socket(srv->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int len = net_dns_build_query(buf, sizeof(buf), &q->id, q->name, q->qtype);
	if (q->fd < 0 || len < 0 ||
	    connect(q->fd, (const struct sockaddr *)srv,
		    srv->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)) < 0 ||
	    send(q->fd, buf, (size_t)len, MSG_NOSIGNAL) != len) {
		q->deadline_ms = 0; /* the next server, or failure, on the next turn */
		return q->fd < 0 || len < 0 ? -EIO : 0;
	}
	q->deadline_ms = now_ms() + DNS_TIMEOUT_MS;
	return 0;
}

static void dns_finish(struct net_gofer *g, struct dns_req *q, int rcode, uint8_t (*addrs)[16], int n);

/* Lookups past their deadline go to the next server (each server twice), then fail. */
static void dns_timeouts(struct net_gofer *g)
{
	uint64_t now = now_ms();
	for (int i = 0; i < g->ndns; i++) {
		struct dns_req *q = &g->dns[i];
		if (q->deadline_ms > now)
			continue;
		if (++q->tries >= 2 * g->nservers) {
			dns_finish(g, q, NET_RCODE_SERVFAIL, NULL, 0);
			i--;
			continue;
		}
		q->server++;
		dns_send(g, q);
	}
}

static void do_resolve(struct net_gofer *g, const struct net_msg *m)
{
	struct net_msg r = {.op = NET_OP_RESOLVE | NET_REPLY, .tag = m->tag};
	char name[EGRESS_NAME_MAX + 1];
	const char *qt = m->resolve.qtype == NET_QTYPE_AAAA ? "AAAA" : "A";
	char dest[EGRESS_NAME_MAX + 16];
	snprintf(dest, sizeof(dest), "%.253s %s", m->resolve.name, qt);
	if ((m->resolve.qtype != NET_QTYPE_A && m->resolve.qtype != NET_QTYPE_AAAA) ||
	    egress_name_normalize(m->resolve.name, name, sizeof(name)) < 0) {
		r.resolve_rep.rcode = NET_RCODE_NXDOMAIN;
		audit(g, "dns", m->resolve.pid, m->resolve.comm, dest, NULL, NULL, 0, false,
		      "malformed name", NULL);
		send_msg(g, &r);
		return;
	}
	bool allowed = false;
	for (int i = 0; i < g->nrules && !allowed; i++)
		allowed = egress_rule_match_name(&g->rules[i], name, 0);
	if (!allowed) {
		/* No lookup of any kind is made for a name off the allowlist: DNS is no way
		 * out of the sandbox. */
		r.resolve_rep.rcode = NET_RCODE_NXDOMAIN;
		audit(g, "dns", m->resolve.pid, m->resolve.comm, dest, name, NULL, 0, false,
		      "not in allowlist", NULL);
		send_msg(g, &r);
		return;
	}
	int n = net_names_lookup(g->names, name, m->resolve.qtype, r.resolve_rep.addrs, NET_RESOLVE_MAX);
	int kept = 0;
	for (int i = 0; i < n; i++) {
		if (egress_addr_forbidden(r.resolve_rep.addrs[i]))
			continue; /* a name that means the host's loopback is not the host's */
		memmove(r.resolve_rep.addrs[kept], r.resolve_rep.addrs[i], 16);
		net_names_remember(g->names, name, r.resolve_rep.addrs[kept]);
		kept++;
	}
	r.resolve_rep.count = (uint16_t)kept;
	r.resolve_rep.rcode = NET_RCODE_NOERROR;
	if (n == 0 && g->nservers > 0 && g->ndns < DNS_PENDING_MAX) {
		/* Not in the host's /etc/hosts: ask the host's resolver. */
		struct dns_req *q = &g->dns[g->ndns];
		memset(q, 0, sizeof(*q));
		q->tag = m->tag;
		q->qtype = m->resolve.qtype;
		q->pid = m->resolve.pid;
		q->fd = -1;
		snprintf(q->name, sizeof(q->name), "%s", name);
		snprintf(q->dest, sizeof(q->dest), "%s", dest);
		snprintf(q->comm, sizeof(q->comm), "%s", m->resolve.comm);
		if (dns_send(g, q) == 0) {
			g->ndns++;
			return;
		}
	}
	if (n == 0)
		r.resolve_rep.rcode = g->nservers ? NET_RCODE_SERVFAIL : NET_RCODE_NXDOMAIN;
	audit(g, "dns", m->resolve.pid, m->resolve.comm, dest, name, NULL, 0, true,
	      n ? NULL : "no address", NULL);
	send_msg(g, &r);
}

static void dns_finish(struct net_gofer *g, struct dns_req *q, int rcode, uint8_t (*addrs)[16], int n)
{
	struct net_msg r = {.op = NET_OP_RESOLVE | NET_REPLY, .tag = q->tag};
	int kept = 0;
	for (int i = 0; i < n && rcode == 0; i++) {
		if (egress_addr_forbidden(addrs[i]))
			continue;
		memcpy(r.resolve_rep.addrs[kept], addrs[i], 16);
		net_names_remember(g->names, q->name, addrs[i]);
		kept++;
	}
	r.resolve_rep.rcode = (uint16_t)(rcode == 0 || rcode == 3 ? rcode : NET_RCODE_SERVFAIL);
	r.resolve_rep.count = (uint16_t)kept;
	audit(g, "dns", q->pid, q->comm, q->dest, q->name, NULL, 0, true,
	      rcode == 0 ? (kept ? NULL : "no address") : rcode == 3 ? "NXDOMAIN" : "resolver failed", NULL);
	send_msg(g, &r);
	if (q->fd >= 0)
		close(q->fd);
	*q = g->dns[--g->ndns];
}

static void dns_response(struct net_gofer *g, struct dns_req *q)
{
	uint8_t buf[4096], addrs[NET_RESOLVE_MAX][16];
	ssize_t len = recv(q->fd, buf, sizeof(buf), 0);
	if (len < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		q->deadline_ms = 0; /* ECONNREFUSED: try the next server at once */
		return;
	}
	int rcode;
	int n = net_dns_parse_answer(buf, (size_t)len, q->id, q->qtype, &rcode, addrs, NET_RESOLVE_MAX);
	if (n < 0)
		return; /* not the answer: keep waiting */
	dns_finish(g, q, rcode, addrs, n);
}

/* ---- the loop ---- */

static void handle_chan(struct net_gofer *g)
{
	uint8_t buf[NET_MSG_MAX];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 4)];
	} cbuf;
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.b,
			    .msg_controllen = sizeof(cbuf.b)};
	ssize_t n = recvmsg(g->chan, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		g->chan_dead = true;
		return;
	}
	int fds[4], nfds = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		int k = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (int i = 0; i < k && nfds < 4; i++)
			memcpy(&fds[nfds++], CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
	}
	struct net_msg m;
	int err = (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ? -EPROTO : net_decode(buf, (size_t)n, &m);
	if (!err && m.op == NET_OP_CONNECT && nfds == 2) {
		do_connect(g, &m, fds);
		return;
	}
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	if (!err && m.op == NET_OP_RESOLVE && nfds == 0)
		do_resolve(g, &m);
	else if (!err && m.op == NET_OP_DENIED && nfds == 0)
		do_denied(g, &m);
	else if (!err && m.op == NET_OP_CONNECT)
		reply_connect(g, m.tag, EINVAL);
	/* Anything else from the sentry is dropped: it gets no answer it could wait on. */
}

static int serve(struct net_gofer *g)
{
	struct pollfd *p = calloc((size_t)(1 + 3 * g->max_conns + DNS_PENDING_MAX), sizeof(*p));
	struct dns_req *dsnap[DNS_PENDING_MAX];
	struct conn **snap = calloc((size_t)g->max_conns, sizeof(*snap));
	if (!p || !snap)
		return -ENOMEM;
	while (!g->chan_dead) {
		int np = 0;
		p[np++] = (struct pollfd){.fd = g->chan, .events = POLLIN};
		int ns = g->nconns;
		for (int i = 0; i < ns; i++) {
			struct conn *c = snap[i] = g->conns[i];
			short up = 0, so = 0, dn = 0;
			if (c->connecting) {
				so = POLLOUT;
			} else {
				if (!c->up_eof && c->up_len == 0)
					up = POLLIN;
				if (c->up_len)
					so |= POLLOUT;
				if (!c->down_eof && c->down_len == 0)
					so |= POLLIN;
				if (c->down_len)
					dn = POLLOUT;
			}
			p[np++] = (struct pollfd){.fd = c->up_eof ? -1 : c->up_r, .events = up};
			p[np++] = (struct pollfd){.fd = c->sock, .events = so};
			p[np++] = (struct pollfd){.fd = c->down_w, .events = dn};
		}
		int nd = g->ndns, timeout = -1;
		uint64_t now = now_ms();
		for (int i = 0; i < nd; i++) {
			struct dns_req *q = dsnap[i] = &g->dns[i];
			p[np++] = (struct pollfd){.fd = q->fd, .events = POLLIN};
			int left = q->deadline_ms > now ? (int)(q->deadline_ms - now) : 0;
			if (timeout < 0 || left < timeout)
				timeout = left;
		}
		if (poll(p, (nfds_t)np, timeout) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < ns; i++) {
			struct conn *c = snap[i];
			struct pollfd *cp = &p[1 + 3 * i];
			if (c->connecting) {
				if (cp[1].revents)
					connect_done(g, c);
				continue;
			}
			if (cp[0].revents || cp[1].revents || cp[2].revents)
				pump(g, c, cp[0].revents, cp[1].revents, cp[2].revents);
		}
		/* Answers by id, from the back: dns_finish moves the last entry into the
		 * finished one's place, which only entries already looked at can be. */
		for (int i = nd - 1; i >= 0; i--)
			if (p[1 + 3 * ns + i].revents && dsnap[i]->fd == p[1 + 3 * ns + i].fd)
				dns_response(g, dsnap[i]);
		dns_timeouts(g);
		if (p[0].revents)
			handle_chan(g);
	}
	/* The sentry is gone: so is every connection. */
	while (g->nconns)
		conn_free(g, g->conns[0], true, 0);
	free(p);
	free(snap);
	return 0;
}

static int seccomp_install(int chan)
{
	static const int plain[] = {
		SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(close),
		SCMP_SYS(connect), SCMP_SYS(getsockopt), SCMP_SYS(setsockopt), SCMP_SYS(shutdown),
		SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(fcntl), SCMP_SYS(clock_gettime),
		SCMP_SYS(gettimeofday), SCMP_SYS(getpid),
		SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
		SCMP_SYS(futex), SCMP_SYS(getrandom),
		SCMP_SYS(rt_sigreturn), SCMP_SYS(restart_syscall), SCMP_SYS(exit), SCMP_SYS(exit_group),
#ifdef __SANITIZE_ADDRESS__
		SCMP_SYS(gettid), SCMP_SYS(sigaltstack), SCMP_SYS(rt_sigprocmask), SCMP_SYS(sched_yield),
#endif
	};
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -ENOMEM;
	int err = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	for (size_t i = 0; !err && i < sizeof(plain) / sizeof(plain[0]); i++)
		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, plain[i], 0);
	/* The channel is the only socket that carries descriptors. */
	if (!err)
		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(recvmsg), 1,
				       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)chan));
	/* Internet stream sockets (connections) and datagram sockets (DNS queries) only: no
	 * unix, netlink, packet or raw socket. */
	static const int fams[] = {AF_INET, AF_INET6};
	static const int types[] = {SOCK_STREAM, SOCK_DGRAM};
	for (size_t i = 0; !err && i < 4; i++)
		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
				       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)fams[i % 2]),
				       SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)(types[i / 2] | SOCK_NONBLOCK | SOCK_CLOEXEC)));
	if (!err)
		err = gofer_allow_data_mappings(ctx);
	if (!err)
		err = seccomp_load(ctx);
	seccomp_release(ctx);
	return err;
}

static int parse_num(const char *s, long long max, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || end == s || v < 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

int net_gofer_main(int argc, char **argv)
{
	static struct net_gofer g = {.chan = -1, .audit_fd = -1, .max_conns = CONNS_DEFAULT};
	long long v;
	char why[160];
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!val)
			goto usage;
		i++;
		if (strcmp(a, "--sock-fd") == 0 && parse_num(val, INT_MAX, &v) == 0) {
			g.chan = (int)v;
		} else if (strcmp(a, "--audit-fd") == 0 && parse_num(val, INT_MAX, &v) == 0) {
			g.audit_fd = (int)v;
		} else if (strcmp(a, "--max-conns") == 0 && parse_num(val, CONNS_HARD_MAX, &v) == 0 && v > 0) {
			g.max_conns = (int)v;
		} else if (strcmp(a, "--max-bytes") == 0 && parse_num(val, LLONG_MAX, &v) == 0) {
			g.max_bytes = (uint64_t)v;
		} else if (strcmp(a, "--allow") == 0) {
			if (g.nrules >= RULES_MAX ||
			    egress_rule_parse(val, &g.rules[g.nrules], why, sizeof(why)) < 0) {
				fprintf(stderr, "ward netgofer: --allow %s: %s\n", val,
					g.nrules >= RULES_MAX ? "too many rules" : why);
				return 2;
			}
			g.nrules++;
		} else {
			goto usage;
		}
	}
	if (g.chan < 0)
		goto usage;
	g.names = net_names_load(g.nrules ? "/etc/hosts" : NULL);
	if (g.nrules)
		g.nservers = net_dns_load_servers("/etc/resolv.conf", g.servers, DNS_SERVERS_MAX);
	g.conns = calloc((size_t)g.max_conns, sizeof(*g.conns));
	if (!g.names || !g.conns)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	/* glibc reads the time zone files on its first time conversion, even for UTC:
	 * have that done now, while files may still be opened. */
	struct tm tm0;
	time_t t0 = 0;
	gmtime_r(&t0, &tm0);
	/* Confined before the first request: no other fds, dies with its parent, no new
	 * privileges, not ptraceable, no capabilities, and a seccomp allowlist without
	 * any open call. stderr stays: denials are told there without --audit. */
	int err = prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ? -errno : 0;
	for (int fd = 3; !err && fd < 1024; fd++)
		if (fd != g.chan && fd != g.audit_fd)
			close(fd);
	if (!err && close_range(1024, ~0u, 0) < 0)
		err = -errno;
	if (!err)
		err = gofer_drop_all_capabilities();
	if (!err && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		err = -errno;
	if (!err && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		err = -errno;
	if (!err)
		err = seccomp_install(g.chan);
	if (err) {
		fprintf(stderr, "ward netgofer: cannot confine itself: %s\n", strerror(-err));
		return 1;
	}
	return serve(&g) < 0 ? 1 : 0;
usage:
	fprintf(stderr, "usage: ward netgofer --sock-fd N [--allow HOST:PORT]... [--audit-fd N] "
			"[--max-conns N] [--max-bytes N]\n");
	return 2;
}
