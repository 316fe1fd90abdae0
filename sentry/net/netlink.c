/* AF_NETLINK, NETLINK_ROUTE only, and only what listings need: RTM_GETLINK, RTM_GETADDR
 * and RTM_GETROUTE dumps describing the sandbox's two interfaces (lo: 127.0.0.1/8 and
 * ::1; eth0: 10.0.2.15/24, default route via 10.0.2.2), so getifaddrs(),
 * if_nameindex() and `ip addr` / `ip route` work. A request is answered at once by
 * queueing the reply datagrams (one with the dump's messages, one with NLMSG_DONE; a
 * RTM_GETLINK of one interface by index gets that interface's message);
 * anything else gets an NLMSG_ERROR with EOPNOTSUPP (changes: EPERM, as for an
 * unprivileged user). Nothing of the host's network is read or shown. */
#include "sentry/net/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <linux/if_arp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#define NL_REPLY_MAX 8192

extern const struct proto_ops netlink_ops;

struct nl_iface {
	const char *name;
	int index;
	unsigned type, flags, mtu;
	uint8_t mac[6];
	uint8_t oper;
};

static const struct nl_iface ifaces[] = {
	{"lo", 1, ARPHRD_LOOPBACK, IFF_UP | IFF_LOOPBACK | IFF_RUNNING | IFF_LOWER_UP, 65536, {0}, IF_OPER_UNKNOWN},
	{"eth0", 2, ARPHRD_ETHER, IFF_UP | IFF_BROADCAST | IFF_MULTICAST | IFF_RUNNING | IFF_LOWER_UP, 1500,
	 {0x52, 0x54, 0x00, 0x12, 0x34, 0x56}, IF_OPER_UP},
};

/* A reply being built: messages appended to buf. */
struct nl_out {
	uint8_t buf[NL_REPLY_MAX];
	size_t len;
	uint32_t seq, portid;
};

static struct nlmsghdr *msg_begin(struct nl_out *o, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(o->buf + o->len);
	memset(h, 0, sizeof(*h));
	h->nlmsg_type = type;
	h->nlmsg_flags = flags;
	h->nlmsg_seq = o->seq;
	h->nlmsg_pid = o->portid;
	o->len += NLMSG_HDRLEN;
	return h;
}

static void *put(struct nl_out *o, const void *data, size_t n)
{
	void *p = o->buf + o->len;
	memcpy(p, data, n);
	memset(o->buf + o->len + n, 0, NLMSG_ALIGN(n) - n);
	o->len += NLMSG_ALIGN(n);
	return p;
}

static void attr(struct nl_out *o, uint16_t type, const void *data, size_t n)
{
	struct rtattr a = {.rta_len = (unsigned short)RTA_LENGTH(n), .rta_type = type};
	memcpy(o->buf + o->len, &a, sizeof(a));
	memcpy(o->buf + o->len + RTA_LENGTH(0), data, n);
	memset(o->buf + o->len + RTA_LENGTH(n), 0, RTA_SPACE(n) - RTA_LENGTH(n));
	o->len += RTA_SPACE(n);
}

static void attr_u32(struct nl_out *o, uint16_t type, uint32_t v)
{
	attr(o, type, &v, sizeof(v));
}

static void msg_end(struct nl_out *o, struct nlmsghdr *h)
{
	h->nlmsg_len = (uint32_t)(o->buf + o->len - (uint8_t *)h);
}

/* index 0: all (a dump); else that interface alone. Returns how many. */
static int links(struct nl_out *o, int index)
{
	int n = 0;
	for (size_t i = 0; i < sizeof(ifaces) / sizeof(ifaces[0]); i++) {
		const struct nl_iface *f = &ifaces[i];
		if (index && f->index != index)
			continue;
		n++;
		struct nlmsghdr *h = msg_begin(o, RTM_NEWLINK, index ? 0 : NLM_F_MULTI);
		struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_type = (unsigned short)f->type,
					.ifi_index = f->index, .ifi_flags = f->flags};
		put(o, &ifi, sizeof(ifi));
		attr(o, IFLA_IFNAME, f->name, strlen(f->name) + 1);
		attr_u32(o, IFLA_MTU, f->mtu);
		attr_u32(o, IFLA_TXQLEN, f->type == ARPHRD_LOOPBACK ? 1000 : 1000);
		attr(o, IFLA_OPERSTATE, &f->oper, 1);
		attr(o, IFLA_ADDRESS, f->mac, 6);
		static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, zero[6];
		attr(o, IFLA_BROADCAST, f->type == ARPHRD_LOOPBACK ? zero : bcast, 6);
		msg_end(o, h);
	}
	return n;
}

static void addr4(struct nl_out *o, int index, const char *label, uint32_t a, int prefix, uint8_t scope,
		  bool bcast)
{
	struct nlmsghdr *h = msg_begin(o, RTM_NEWADDR, NLM_F_MULTI);
	struct ifaddrmsg ifa = {.ifa_family = AF_INET, .ifa_prefixlen = (unsigned char)prefix,
				.ifa_flags = IFA_F_PERMANENT, .ifa_scope = scope, .ifa_index = (unsigned)index};
	put(o, &ifa, sizeof(ifa));
	uint32_t be = htonl(a);
	attr(o, IFA_ADDRESS, &be, 4);
	attr(o, IFA_LOCAL, &be, 4);
	if (bcast) {
		uint32_t b = htonl(a | (0xffffffffu >> prefix));
		attr(o, IFA_BROADCAST, &b, 4);
	}
	attr(o, IFA_LABEL, label, strlen(label) + 1);
	msg_end(o, h);
}

static void addrs(struct nl_out *o, int family)
{
	if (family == AF_UNSPEC || family == AF_INET) {
		addr4(o, 1, "lo", 0x7f000001, 8, RT_SCOPE_HOST, false);
		addr4(o, 2, "eth0", NET_IF_ADDR, 24, RT_SCOPE_UNIVERSE, true);
	}
	if (family == AF_UNSPEC || family == AF_INET6) {
		struct nlmsghdr *h = msg_begin(o, RTM_NEWADDR, NLM_F_MULTI);
		struct ifaddrmsg ifa = {.ifa_family = AF_INET6, .ifa_prefixlen = 128,
					.ifa_flags = IFA_F_PERMANENT, .ifa_scope = RT_SCOPE_HOST, .ifa_index = 1};
		put(o, &ifa, sizeof(ifa));
		struct in6_addr lo6 = IN6ADDR_LOOPBACK_INIT;
		attr(o, IFA_ADDRESS, &lo6, 16);
		msg_end(o, h);
	}
}

static void route4(struct nl_out *o, uint32_t dst, int len, uint32_t gw, uint8_t scope)
{
	struct nlmsghdr *h = msg_begin(o, RTM_NEWROUTE, NLM_F_MULTI);
	struct rtmsg rt = {.rtm_family = AF_INET, .rtm_dst_len = (unsigned char)len, .rtm_table = RT_TABLE_MAIN,
			   .rtm_protocol = gw ? RTPROT_BOOT : RTPROT_KERNEL, .rtm_scope = scope,
			   .rtm_type = RTN_UNICAST};
	put(o, &rt, sizeof(rt));
	attr_u32(o, RTA_TABLE, RT_TABLE_MAIN);
	if (len) {
		uint32_t d = htonl(dst);
		attr(o, RTA_DST, &d, 4);
	}
	if (gw) {
		uint32_t g = htonl(gw);
		attr(o, RTA_GATEWAY, &g, 4);
	} else {
		uint32_t s = htonl(NET_IF_ADDR);
		attr(o, RTA_PREFSRC, &s, 4);
	}
	attr_u32(o, RTA_OIF, 2);
	msg_end(o, h);
}

static void routes(struct nl_out *o, int family)
{
	if (family != AF_UNSPEC && family != AF_INET)
		return;
	route4(o, 0, 0, NET_HOST_ADDR, RT_SCOPE_UNIVERSE);
	route4(o, NET_IF_ADDR & 0xffffff00u, 24, 0, RT_SCOPE_LINK);
}

static void queue(struct sock *sk, struct nl_out *o)
{
	struct kmsg km = {0};
	iter_init_kernel(&km.iter, o->buf, o->len);
	struct skb *skb;
	if (skb_from_msg(&km, o->len, &skb) < 0)
		return;
	struct sockaddr_nl *from = (struct sockaddr_nl *)&skb->from;
	memset(from, 0, sizeof(*from));
	from->nl_family = AF_NETLINK; /* the kernel: port 0 */
	skb->fromlen = sizeof(*from);
	skb_queue(sk, skb);
}

static void error_reply(struct sock *sk, const struct nlmsghdr *req, int err, uint32_t portid)
{
	struct nl_out *o = calloc(1, sizeof(*o));
	if (!o)
		return;
	o->seq = req->nlmsg_seq;
	o->portid = portid;
	struct nlmsghdr *h = msg_begin(o, NLMSG_ERROR, 0);
	struct nlmsgerr e = {.error = err, .msg = *req};
	put(o, &e, sizeof(e));
	msg_end(o, h);
	queue(sk, o);
	free(o);
}

static uint32_t portid_of(struct sock *sk)
{
	return ((struct sockaddr_nl *)&sk->local)->nl_pid;
}

static bool portid_taken(struct net_state *n, uint32_t id)
{
	struct list_head *pos;
	list_for_each(pos, &n->netlink_bound)
	{
		if (portid_of(list_entry(pos, struct sock, bind_link)) == id)
			return true;
	}
	return false;
}

static void bind_to(struct sock *sk, uint32_t id)
{
	struct sockaddr_nl *l = (struct sockaddr_nl *)&sk->local;
	l->nl_family = AF_NETLINK;
	l->nl_pid = id;
	sk->local_len = sizeof(*l);
	sk->bound = true;
	list_add_tail(&sk->bind_link, &net_of(sk->k)->netlink_bound);
}

/* Linux's netlink_autobind: the process's pid if free, else ids counting down from -4097. */
static int autobind(struct sock *sk, struct task *t)
{
	if (sk->bound)
		return 0;
	struct net_state *n = net_of(sk->k);
	uint32_t id = (uint32_t)t->tg->tgid;
	while (portid_taken(n, id)) {
		id = (uint32_t)(-4097 - (int32_t)n->netlink_next_portid);
		n->netlink_next_portid++;
	}
	bind_to(sk, id);
	return 0;
}

static void handle(struct sock *sk, const struct nlmsghdr *req)
{
	uint32_t portid = portid_of(sk);
	if (req->nlmsg_type < NLMSG_MIN_TYPE)
		return; /* NOOP, DONE, ERROR from user space: ignored, as Linux */
	bool dump = (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	int family = AF_UNSPEC;
	if (req->nlmsg_len >= NLMSG_LENGTH(1))
		family = *(const uint8_t *)NLMSG_DATA(req);
	if (req->nlmsg_type == RTM_GETLINK && !dump) {
		/* One interface, by index (what `ip route` asks to name a device). */
		struct ifinfomsg ifi = {0};
		if (req->nlmsg_len >= NLMSG_LENGTH(sizeof(ifi)))
			memcpy(&ifi, NLMSG_DATA(req), sizeof(ifi));
		struct nl_out *o = ifi.ifi_index > 0 ? calloc(1, sizeof(*o)) : NULL;
		if (o) {
			o->seq = req->nlmsg_seq;
			o->portid = portid;
			if (links(o, ifi.ifi_index))
				queue(sk, o);
			else
				error_reply(sk, req, -ENODEV, portid);
			free(o);
		} else {
			error_reply(sk, req, ifi.ifi_index > 0 ? -ENOBUFS : -EINVAL, portid);
		}
		return;
	}
	switch (req->nlmsg_type) {
	case RTM_GETLINK:
	case RTM_GETADDR:
	case RTM_GETROUTE:
		if (!dump) {
			error_reply(sk, req, -EOPNOTSUPP, portid);
			return;
		}
		break;
	case RTM_NEWLINK: case RTM_DELLINK: case RTM_SETLINK: case RTM_NEWADDR: case RTM_DELADDR:
	case RTM_NEWROUTE: case RTM_DELROUTE:
		error_reply(sk, req, -EPERM, portid); /* changes need CAP_NET_ADMIN */
		return;
	default:
		error_reply(sk, req, -EOPNOTSUPP, portid);
		return;
	}
	struct nl_out *o = calloc(1, sizeof(*o));
	if (!o)
		return;
	o->seq = req->nlmsg_seq;
	o->portid = portid;
	if (req->nlmsg_type == RTM_GETLINK)
		links(o, 0);
	else if (req->nlmsg_type == RTM_GETADDR)
		addrs(o, family);
	else
		routes(o, family);
	if (o->len)
		queue(sk, o);
	o->len = 0;
	struct nlmsghdr *h = msg_begin(o, NLMSG_DONE, NLM_F_MULTI);
	int zero = 0;
	put(o, &zero, sizeof(zero));
	msg_end(o, h);
	queue(sk, o);
	free(o);
}

static long nl_sendmsg(struct sock *sk, struct task *t, struct kmsg *m)
{
	if (m->addrlen) {
		const struct sockaddr_nl *to = (const struct sockaddr_nl *)&m->addr;
		if (m->addrlen < sizeof(*to) || to->nl_family != AF_NETLINK)
			return -EINVAL;
		if (to->nl_pid != 0 || to->nl_groups)
			return -EPERM; /* to other sockets or groups: not served */
	}
	if (m->len > 65536)
		return -EMSGSIZE;
	autobind(sk, t);
	uint8_t *buf = malloc(m->len ? m->len : 1);
	if (!buf)
		return -ENOBUFS;
	if (iter_copy_from(&m->iter, buf, m->len) < 0) {
		free(buf);
		return -EFAULT;
	}
	size_t off = 0;
	while (m->len - off >= NLMSG_HDRLEN) {
		struct nlmsghdr h;
		memcpy(&h, buf + off, sizeof(h));
		if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > m->len - off)
			break;
		struct nlmsghdr *req = malloc(NLMSG_ALIGN(h.nlmsg_len) + 64);
		if (!req)
			break;
		memset(req, 0, NLMSG_ALIGN(h.nlmsg_len) + 64);
		memcpy(req, buf + off, h.nlmsg_len);
		if (req->nlmsg_flags & NLM_F_REQUEST)
			handle(sk, req);
		free(req);
		off += NLMSG_ALIGN(h.nlmsg_len);
	}
	free(buf);
	waitqueue_wake_all(&sk->wq);
	return (long)m->len;
}

static long nl_recvmsg(struct sock *sk, struct task *t, struct kmsg *m)
{
	return record_recv(sk, t, m);
}

static int nl_bind(struct sock *sk, struct task *t, const struct sockaddr_storage *a, socklen_t len)
{
	const struct sockaddr_nl *nl = (const struct sockaddr_nl *)a;
	if (len < sizeof(*nl) || nl->nl_family != AF_NETLINK)
		return -EINVAL;
	if (nl->nl_groups)
		return -EPERM; /* multicast groups (change notifications): not served */
	if (sk->bound) {
		return nl->nl_pid == 0 || nl->nl_pid == portid_of(sk) ? 0 : -EINVAL;
	}
	if (nl->nl_pid == 0)
		return autobind(sk, t);
	if (portid_taken(net_of(sk->k), nl->nl_pid))
		return -EADDRINUSE;
	bind_to(sk, nl->nl_pid);
	return 0;
}

static int nl_connect(struct sock *sk, struct task *t, const struct sockaddr_storage *a, socklen_t len,
		      bool nonblock)
{
	(void)nonblock;
	const struct sockaddr_nl *nl = (const struct sockaddr_nl *)a;
	if (len < sizeof(sa_family_t))
		return -EINVAL;
	if (a->ss_family == AF_UNSPEC)
		return 0;
	if (len < sizeof(*nl) || nl->nl_family != AF_NETLINK)
		return -EINVAL;
	if (nl->nl_pid != 0 || nl->nl_groups)
		return -EPERM;
	return autobind(sk, t);
}

static int nl_getname(struct sock *sk, bool peer, struct sockaddr_storage *a, socklen_t *len)
{
	struct sockaddr_nl *o = (struct sockaddr_nl *)a;
	memset(o, 0, sizeof(*o));
	o->nl_family = AF_NETLINK;
	if (!peer)
		o->nl_pid = portid_of(sk);
	*len = sizeof(*o);
	return 0;
}

static int nl_shutdown(struct sock *sk, int how)
{
	sk->shutdown |= how + 1;
	sock_wake(sk);
	return 0;
}

static unsigned nl_poll(struct sock *sk)
{
	unsigned mask = POLLOUT | POLLWRNORM;
	if (!list_empty(&sk->rxq) || (sk->shutdown & SHUT_RCV))
		mask |= POLLIN | POLLRDNORM;
	return mask;
}

static void nl_release(struct sock *sk)
{
	if (sk->bound)
		list_del_init(&sk->bind_link);
	rxq_purge(sk);
}

int net_iface_ioctl(struct task *t, unsigned long cmd, uint64_t arg)
{
	struct ifreq r;
	if (copy_from_user(t->tg->mm, &r, arg, sizeof(r)) < 0)
		return -EFAULT;
	const struct nl_iface *f = NULL;
	for (size_t i = 0; i < sizeof(ifaces) / sizeof(ifaces[0]); i++) {
		if (cmd == SIOCGIFNAME ? ifaces[i].index == r.ifr_ifindex
				       : strncmp(ifaces[i].name, r.ifr_name, IFNAMSIZ) == 0)
			f = &ifaces[i];
	}
	if (!f)
		return -ENODEV;
	switch (cmd) {
	case SIOCGIFNAME:
		memset(r.ifr_name, 0, IFNAMSIZ);
		strcpy(r.ifr_name, f->name);
		break;
	case SIOCGIFINDEX:
		r.ifr_ifindex = f->index;
		break;
	case SIOCGIFFLAGS:
		r.ifr_flags = (short)(f->flags & 0xffff);
		break;
	case SIOCGIFMTU:
		r.ifr_mtu = (int)f->mtu;
		break;
	default:
		return -ENOTTY;
	}
	return copy_to_user(t->tg->mm, arg, &r, sizeof(r)) < 0 ? -EFAULT : 0;
}

const struct proto_ops netlink_ops = {
	.bind = nl_bind,
	.connect = nl_connect,
	.sendmsg = nl_sendmsg,
	.recvmsg = nl_recvmsg,
	.shutdown = nl_shutdown,
	.getname = nl_getname,
	.poll = nl_poll,
	.release = nl_release,
};

int netlink_create(struct task *t, int type, int protocol, struct sock **out)
{
	if (type != SOCK_RAW && type != SOCK_DGRAM)
		return -ESOCKTNOSUPPORT;
	if (protocol != NETLINK_ROUTE)
		return -EPROTONOSUPPORT; /* other netlink families are not served */
	struct sock *sk = sock_alloc(t->k, AF_NETLINK, type, protocol, &netlink_ops);
	if (!sk)
		return -ENOMEM;
	sk->rcvbuf = 212992;
	sk->sndbuf = 212992;
	*out = sk;
	return 0;
}
