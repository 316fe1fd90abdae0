/* The gofer's side of the protocol: serves one sentry connection over host files
 * beneath one export root. Every request is treated as hostile: the gofer never follows
 * a symlink, never leaves the root, and answers malformed input with an error reply. */
#ifndef WARD_GOFER_SERVER_H
#define WARD_GOFER_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GOFER_MAX_FIDS_DEFAULT 65536u
/* Deny patterns may have at most this many components. */
#define GOFER_DENY_DEPTH_MAX 16

struct gofer_policy {
	/* Host root exported: only the system top-level names (usr bin sbin lib lib32
	 * lib64 libx32 etc opt) exist under the root; others are -ENOENT and hidden
	 * from readdir. */
	bool system_only;
	/* NULL-terminated extra directories that system_only leaves visible (`ward run
	 * --ro-bind DIR`), written as absolute paths in the export's namespace: "/" is
	 * the root, so with the host root "/" they are plain host paths. Each must pass
	 * gofer_export_check() (else gofer_serve fails with its error). With
	 * system_only, a path P below the root is visible iff its first component is a
	 * system name, or it is an export or inside one, or it is a strict ancestor of an
	 * export; such an ancestor lists (and walks to) only the children that lead
	 * toward an export. Ignored without system_only. The deny list applies inside
	 * exports as everywhere.
	 *
	 * The gofer never follows a symlink, so an export whose path crosses one (e.g.
	 * "/home/u/src" where /home -> var/home) is simply unreachable: the ancestor link itself
	 * is visible, nothing through it is. Pass canonical paths (gofer_canonical_export,
	 * which the sentry must use too, so both agree on where the export lives). NULL
	 * or empty: none. */
	const char *const *exports;
	/* NULL-terminated writable exports (`ward gofer --writable DIR`), canonical paths
	 * like exports and checked the same way; each is visible as an export is. The
	 * write side (OPEN for writing, CREATE, WRITE, MKDIR, SYMLINK, LINK, UNLINK,
	 * RENAME, SETATTR, ALLOCATE) is allowed at or below one of them, on the
	 * filesystem the export itself is on (a mount inside it is read-only), and
	 * -EROFS anywhere else, system_only or not. RENAME and LINK stay within one
	 * writable export (-EXDEV). The deny list still applies (-EACCES).
	 *
	 * Limit: a hard link that already exists inside the export to a file outside it
	 * is writable through the export; Linux cannot tell such a link from the file's
	 * first name (runsc has the same limit). Hard links to deny-listed files are
	 * refused as everywhere (their inodes are recorded at start-up). NULL or empty:
	 * none, and the gofer is read-only. */
	const char *const *writable;
	/* NULL-terminated fnmatch(FNM_PATHNAME) patterns relative to the root (a leading
	 * '/' is ignored); walking to a match is -EACCES, and so is any file whose inode
	 * is one of theirs at start-up (hard links, bind mounts). NULL selects
	 * gofer_default_deny; an empty list denies nothing. */
	const char *const *deny;
	/* Most live fids per connection (0: GOFER_MAX_FIDS_DEFAULT); more is -EMFILE. */
	uint32_t max_fids;
	/* The sandbox's memory file, for READ_MEM (gofer_memory_open); NULL: none, and
	 * READ_MEM is -EOPNOTSUPP. */
	const struct gofer_memory *memory;
};

/* The memory file READ_MEM writes into and the pipe it splices through (host file ->
 * pipe -> memory file: one copy, neither file mapped in the gofer). */
struct gofer_memory {
	int fd;
	int pipe[2];
	/* Its size when last looked at: the sentry sizes it once and it never shrinks, so
	 * it is looked at again only for a request that reaches past it. */
	uint64_t size;
};

/* Checks that fd is a memfd (a regular file that knows seals: not a host file) and
 * makes the pipe. Returns 0 or -errno; gofer_memory_close undoes it (not fd). */
int gofer_memory_open(struct gofer_memory *m, int fd);
void gofer_memory_close(struct gofer_memory *m);

extern const char *const gofer_default_deny[];
/* What system_only leaves visible under the root (NULL-terminated). */
extern const char *const gofer_system_names[];

/* Serves requests on sock_fd (SOCK_SEQPACKET) until the peer closes it. Files are
 * created with the process umask applied (gofer_main sets it to 0). root_dirfd is
 * the export root (a directory fd; O_PATH is enough), fid 0; both stay the caller's.
 * Every fd the gofer opened is closed on return. Returns 0 on EOF, -errno if start-up
 * or the connection failed. */
int gofer_serve(int sock_fd, int root_dirfd, const struct gofer_policy *policy);

/* Checks an export path's syntax: absolute, at least one component, no "", "." or ".."
 * component (so no doubled or trailing '/'), none longer than GOFER_NAME_MAX, at most
 * PATH_MAX - 1 bytes. Returns 0, -EINVAL or -ENAMETOOLONG. */
int gofer_export_check(const char *path);

/* Canonicalises a host directory for --ro-bind: realpath(in) (relative paths are
 * taken from the cwd), which must exist and be a directory (-ENOTDIR) other than "/"
 * (-EINVAL: that is the whole host, not an extra export), into out. The result passes
 * gofer_export_check(). Returns 0, -ENAMETOOLONG if it does not fit outsz, or -errno of
 * realpath/stat. The CLI gives the result to both the gofer (--export) and the sentry's
 * mount, so the two agree; the path in the sandbox is the host path. A symlink swapped
 * into the path afterwards only makes the export unreachable (see exports). */
int gofer_canonical_export(const char *in, char *out, size_t outsz);

/* Entry of the internal role `ward gofer --sock-fd N [--root DIR] [--all]
 * [--deny PATTERN]... [--export DIR]... [--writable DIR]...`: opens the root, sheds every other fd and all
 * privileges, confines itself with seccomp and serves. Each --export DIR is an absolute
 * path in the root's namespace (the host path when --root is "/"); before confining
 * itself the gofer checks it (gofer_export_check) and resolves it with realpath()
 * beneath the root, so a symlinked ancestor is replaced by its target; an export that
 * is malformed, missing, not a directory, the root itself or outside the root is bad
 * usage. --writable DIR is resolved the same way and becomes a writable export. The
 * gofer sets its umask to 0: modes come from the sentry as they should be on disk.
 * argv[0] is the role's name (a leading "gofer" argument is skipped too).
 * Returns the process exit status: 0 after a clean EOF, 1 on failure, 2 on bad usage
 * (with a message on stderr). */
int gofer_main(int argc, char **argv);

#endif
