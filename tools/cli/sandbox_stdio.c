/* The sentry's stdio. The guest's fds 0-2 are the host descriptors `ward run` was given;
 * a guest writing to a pipe nobody drains (or a terminal on hold) must park only itself,
 * never the single-threaded sentry and with it every other guest process. So the sentry
 * gets open file descriptions of its own for pipes and terminals, opened through
 * /proc/self/fd with O_NONBLOCK: the user's descriptions (shared with the shell and the
 * other programs of a pipeline) keep their flags. Sockets cannot be reopened that way (the
 * sentry sends and receives on them with MSG_DONTWAIT instead) and regular files never
 * block; both stay as they are. Runs in the sentry's child, before it
 * becomes the sentry (which opens no host file). */
#include "tools/cli/sandbox_stdio.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

void sandbox_stdio_reopen_nonblocking(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		struct stat st;
		int fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fstat(fd, &st) < 0 || (fl & O_NONBLOCK))
			continue;
		if (!S_ISFIFO(st.st_mode) && !(S_ISCHR(st.st_mode) && isatty(fd)))
			continue;
		char path[32];
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		/* A FIFO's write end cannot be opened non-blocking without a reader (ENXIO):
		 * then the reader is gone anyway and the original (EPIPE) serves as well. */
		int nfd = open(path, (fl & (O_ACCMODE | O_APPEND)) | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (nfd < 0)
			continue;
		struct stat nst;
		if (fstat(nfd, &nst) == 0 && nst.st_dev == st.st_dev && nst.st_ino == st.st_ino)
			dup2(nfd, fd);
		close(nfd);
	}
}
