#include "sentry/net/net.h"

#include <errno.h>

int inet_create(struct task *t, int family, int type, int protocol, struct sock **out)
{
	(void)t; (void)family; (void)type; (void)protocol; (void)out;
	return -EAFNOSUPPORT;
}
