/* What the gofer reports as a host file's attributes when its own view differs from
 * the host's: the directories of its private root are a tmpfs standing in for host
 * directories, and inside a user namespace other users' ids read as the overflow ids. */
#ifndef WARD_GOFER_HOST_STAT_H
#define WARD_GOFER_HOST_STAT_H

#include <stddef.h>
#include <sys/stat.h>

/* A file of the gofer's own making (dev, ino) shown as the host file it stands for. */
struct host_stat_override {
	dev_t dev;
	ino_t ino;
	struct stat host;
};

/* Installs the overrides (the table is copied; NULL/0: none). */
int host_stat_set_overrides(const struct host_stat_override *ov, size_t n);

/* Starts the owner helper: a child left in the initial user namespace that answers,
 * for a descriptor passed to it, the file's real uid and gid. Called before the gofer
 * enters its user namespace. The helper confines itself (no fd but its socket, no new
 * privileges, seccomp: receive, fstat, send, close, exit) and dies with the gofer.
 * Returns the gofer's end of the socket (to keep open and allow sendmsg/recvmsg on), or
 * -errno. */
int host_stat_start_owner_helper(void);
/* Stops a helper started above (when the user namespace could not be made after all). */
void host_stat_stop_owner_helper(void);
/* The helper's socket, or -1. */
int host_stat_helper_fd(void);

/* Turns st, an fstat of fd, into what the sandbox should see: the host directory's
 * attributes for an override, the real ids from the helper for overflow ids. */
void host_stat_fix(int fd, struct stat *st);
/* The inode number to list for a directory entry of a directory on dev. */
ino_t host_stat_dirent_ino(dev_t dir_dev, ino_t ino);

#endif
