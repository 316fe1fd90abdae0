/* The socket layer is not there yet (issue 5): socket() and socketpair() say ENOSYS (and
 * are named on stderr), and since no descriptor can then be a socket, the calls that take
 * one answer exactly as Linux does for any other file: EBADF or ENOTSOCK. */
#include "sentry/syscalls/syscalls.h"

#include <errno.h>

static long not_a_socket(struct task *t, int fd)
{
	return fget(t, fd) ? -ENOTSOCK : -EBADF;
}

#define SOCKFD_CALL(name) \
	SYSCALL(name) { return not_a_socket(t, (int)a[0]); }

SOCKFD_CALL(connect)
SOCKFD_CALL(accept)
SOCKFD_CALL(accept4)
SOCKFD_CALL(sendto)
SOCKFD_CALL(recvfrom)
SOCKFD_CALL(sendmsg)
SOCKFD_CALL(recvmsg)
SOCKFD_CALL(sendmmsg)
SOCKFD_CALL(recvmmsg)
SOCKFD_CALL(shutdown)
SOCKFD_CALL(bind)
SOCKFD_CALL(listen)
SOCKFD_CALL(getsockname)
SOCKFD_CALL(getpeername)
SOCKFD_CALL(setsockopt)
SOCKFD_CALL(getsockopt)
