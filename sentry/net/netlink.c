/* AF_NETLINK: not served yet. */
#include "sentry/net/net.h"

#include <errno.h>

int netlink_create(struct task *t, int type, int protocol, struct sock **out)
{
	(void)t; (void)type; (void)protocol; (void)out;
	return -EAFNOSUPPORT;
}
