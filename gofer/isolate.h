/* The gofer's own confinement below seccomp: a mount namespace holding only what it
 * exports, and no capability it does not use. */
#ifndef WARD_GOFER_ISOLATE_H
#define WARD_GOFER_ISOLATE_H

#include <stdbool.h>
#include <stddef.h>

/* What the gofer serves, as gofer_main resolved it. */
struct gofer_mount_plan {
	const char *root;		  /* canonical host path of the served root */
	bool whole_root;		  /* --all: everything under root, read-only */
	const char *const *system_names;  /* with !whole_root: top-level names shown */
	const char *const *exports;	  /* read-only, "/a/b" relative to root */
	const char *const *writable;	  /* read-write, the same way */
};

/* Moves this process into a new mount namespace (and, without CAP_SYS_ADMIN, a user
 * namespace mapping only its own uid and gid) whose root is a fresh read-only tmpfs
 * holding bind mounts of exactly what the plan serves, at the same paths relative to
 * the served root: the system names (a symlink among them is copied as a symlink),
 * every export. Binds are recursive, nosuid, nodev and noexec, and read-only unless
 * writable; the directories leading to an export are made in the tmpfs with their host
 * mode, times and (when allowed) owner. The old root is detached.
 *
 * Returns 0 with *served set to the path of the served root in the new namespace ("/",
 * or "/root" for whole_root). Returns 1 when the gofer could not be isolated but may go
 * on as before (no namespace could be made, or a mount was refused before anything
 * changed): *served is plan->root and why (whysz bytes) says which protection is
 * missing. Returns -errno if the process is left in a state it must not serve from. */
int gofer_isolate(const struct gofer_mount_plan *plan, const char **served, char *why,
		  size_t whysz);

/* Drops every capability but those the server uses: none unless the gofer runs as root
 * (uid 0), where it keeps the ones that let the sandbox's root act as root on its files (CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH,
 * CAP_FOWNER, CAP_FSETID). The bounding and ambient sets are emptied too. Returns 0 or
 * -errno. */
int gofer_drop_capabilities(void);
/* The same, keeping none (the net gofer acts on no file). */
int gofer_drop_all_capabilities(void);

/* Adds to a seccomp filter (a scmp_filter_ctx, kept opaque so this header needs no
 * libseccomp) the memory calls both gofers need: mmap and mprotect, never with
 * PROT_EXEC, so a compromised gofer cannot map new code. Returns 0 or -errno. */
int gofer_allow_data_mappings(void *seccomp_ctx);

#endif
