/* NETLINK_ROUTE as listings use it: getifaddrs, if_nameindex, the interface ioctls and a
 * raw RTM_GETLINK dump. Only what holds on any Linux host and in the sandbox is printed
 * (the loopback's details, relations), never the host's other interfaces. */
#include "conf.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

int main(void)
{
	struct ifaddrs *ifa, *i;
	int lo_v4 = 0, lo_flags = 0;
	if (getifaddrs(&ifa) != 0) {
		printf("getifaddrs: %s\n", conf_errname(errno));
		return 1;
	}
	for (i = ifa; i; i = i->ifa_next) {
		if (strcmp(i->ifa_name, "lo") != 0 || !i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
			continue;
		struct sockaddr_in *a = (struct sockaddr_in *)i->ifa_addr, *m = (struct sockaddr_in *)i->ifa_netmask;
		lo_v4 = a->sin_addr.s_addr == htonl(0x7f000001) && m && m->sin_addr.s_addr == htonl(0xff000000);
		lo_flags = (i->ifa_flags & (IFF_UP | IFF_LOOPBACK)) == (IFF_UP | IFF_LOOPBACK);
	}
	freeifaddrs(ifa);
	printf("getifaddrs: lo 127.0.0.1/8: %s, up and loopback: %s\n", lo_v4 ? "yes" : "no",
	       lo_flags ? "yes" : "no");

	unsigned idx = if_nametoindex("lo");
	char name[IF_NAMESIZE];
	printf("if_nametoindex(lo) > 0: %s; back to the name: %s\n", idx ? "yes" : "no",
	       if_indextoname(idx, name) ? name : conf_errname(errno));
	struct if_nameindex *ni = if_nameindex(), *p;
	int found = 0;
	for (p = ni; p && p->if_index; p++)
		found |= strcmp(p->if_name, "lo") == 0 && p->if_index == idx;
	if_freenameindex(ni);
	printf("if_nameindex lists lo: %s\n", found ? "yes" : "no");
	errno = 0;
	unsigned none = if_nametoindex("nosuch0");
	printf("if_nametoindex(nosuch0): %u %s\n", none, conf_errname(errno));

	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq r = {0};
	strcpy(r.ifr_name, "lo");
	int rc = ioctl(s, SIOCGIFFLAGS, &r);
	printf("SIOCGIFFLAGS lo: %d, loopback: %s\n", rc, (r.ifr_flags & IFF_LOOPBACK) ? "yes" : "no");
	strcpy(r.ifr_name, "nosuch0");
	rc = ioctl(s, SIOCGIFINDEX, &r);
	printf("SIOCGIFINDEX nosuch0: %d %s\n", rc, conf_errname(errno));
	close(s);

	int bad = socket(AF_NETLINK, SOCK_STREAM, NETLINK_ROUTE);
	printf("netlink stream socket: %d %s\n", bad, conf_errname(errno));
	int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	socklen_t sl = sizeof(sa);
	printf("bind: %d\n", bind(nl, (struct sockaddr *)&sa, sizeof(sa)));
	getsockname(nl, (struct sockaddr *)&sa, &sl);
	printf("first port id is the pid: %s\n", sa.nl_pid == (unsigned)getpid() ? "yes" : "no");
	int nl2 = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	struct sockaddr_nl sa2 = {.nl_family = AF_NETLINK};
	bind(nl2, (struct sockaddr *)&sa2, sizeof(sa2));
	sl = sizeof(sa2);
	getsockname(nl2, (struct sockaddr *)&sa2, &sl);
	printf("second: another id: %s\n", sa2.nl_pid != sa.nl_pid && sa2.nl_pid ? "yes" : "no");
	struct sockaddr_nl same = {.nl_family = AF_NETLINK, .nl_pid = sa.nl_pid};
	rc = bind(socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE), (struct sockaddr *)&same, sizeof(same));
	printf("binding a taken id: %d %s\n", rc, conf_errname(errno));
	close(nl2);
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req = {{NLMSG_LENGTH(sizeof(struct ifinfomsg)), RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 42, 0},
		 {.ifi_family = AF_UNSPEC}};
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	printf("send: %s\n", sendto(nl, &req, sizeof(req), 0, (struct sockaddr *)&kernel, sizeof(kernel)) ==
				     (ssize_t)sizeof(req) ? "all" : conf_errname(errno));
	static char buf[65536];
	int done = 0, lo = 0, seq_ok = 1, multi = 1;
	while (!done) {
		struct sockaddr_nl from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(nl, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n <= 0) {
			printf("recv: %s\n", conf_errname(errno));
			break;
		}
		if (from.nl_pid != 0)
			printf("reply not from the kernel\n");
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			seq_ok &= h->nlmsg_seq == 42;
			multi &= (h->nlmsg_flags & NLM_F_MULTI) != 0;
			if (h->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			struct ifinfomsg *ifi = NLMSG_DATA(h);
			int len = (int)IFLA_PAYLOAD(h);
			for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
				if (a->rta_type == IFLA_IFNAME && strcmp(RTA_DATA(a), "lo") == 0)
					lo = ifi->ifi_index == (int)idx;
		}
	}
	printf("dump: lo with its index: %s, seq echoed: %s, multipart: %s\n", lo ? "yes" : "no",
	       seq_ok ? "yes" : "no", multi ? "yes" : "no");
	close(nl);
	return 0;
}
