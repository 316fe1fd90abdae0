/* Extended attributes kept in memory, for tmpfs inodes (Linux's simple_xattr): names with
 * their namespace prefix ("user.x"), values of up to 64 KiB. */
#ifndef WARD_FS_TMPFS_XATTR_H
#define WARD_FS_TMPFS_XATTR_H

#include <stddef.h>

struct tmpfs_xattr;

struct tmpfs_xattrs {
	struct tmpfs_xattr *head;
};

/* tmpfs_xattr_set's flags: XATTR_CREATE, XATTR_REPLACE, or this to remove. */
#define XATTR_REMOVE_ 0x100

long tmpfs_xattr_get(struct tmpfs_xattrs *x, const char *name, void *buf, size_t size);
int tmpfs_xattr_set(struct tmpfs_xattrs *x, const char *name, const void *val, size_t size, int flags);
long tmpfs_xattr_list(struct tmpfs_xattrs *x, char *buf, size_t size);
void tmpfs_xattrs_free(struct tmpfs_xattrs *x);
/* Bytes the attributes hold (names and values), charged to the tmpfs budget. */
size_t tmpfs_xattrs_bytes(const struct tmpfs_xattrs *x);

#endif
