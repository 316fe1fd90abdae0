/* Filesystem change notification: the VFS and the syscalls report what happened to which
 * inode (and under which name in which directory); inotify (sentry/fs/inotify.c) queues
 * events for the watches on those inodes. Inodes are identified as the dentry cache holds
 * them (the overlay's inode, not the layer's), so a watch added through a path sees the
 * changes made through any path to the same dentry. */
#ifndef WARD_VFS_FSNOTIFY_H
#define WARD_VFS_FSNOTIFY_H

#include <stdint.h>

struct inode;
struct dentry;
struct file;

/* The inotify event bits (the values of <sys/inotify.h>). */
enum {
	IN_ACCESS_ = 0x1,
	IN_MODIFY_ = 0x2,
	IN_ATTRIB_ = 0x4,
	IN_CLOSE_WRITE_ = 0x8,
	IN_CLOSE_NOWRITE_ = 0x10,
	IN_OPEN_ = 0x20,
	IN_MOVED_FROM_ = 0x40,
	IN_MOVED_TO_ = 0x80,
	IN_CREATE_ = 0x100,
	IN_DELETE_ = 0x200,
	IN_DELETE_SELF_ = 0x400,
	IN_MOVE_SELF_ = 0x800,
};

/* Watches that exist (the hooks cost a compare when there are none). */
extern unsigned fsnotify_nwatches;

/* An event on an inode itself (IN_ATTRIB, IN_MOVE_SELF, IN_DELETE_SELF...). */
void fsnotify_inode(struct inode *ino, uint32_t mask);
/* An event about a name in a directory (IN_CREATE, IN_DELETE, IN_MOVED_FROM/TO); child
 * says whether it is a directory (IN_ISDIR). */
void fsnotify_name(struct inode *dir, const char *name, struct inode *child, uint32_t mask,
		   uint32_t cookie);
/* An event on the file a dentry names: to its inode's watches, then, with the name, to
 * the parent directory's (IN_MODIFY, IN_OPEN, IN_CLOSE_*...). */
void fsnotify_dentry(struct dentry *d, uint32_t mask);
/* The same for an open file (its dentry, or only its inode when it has none). */
void fsnotify_file(struct file *f, uint32_t mask);
/* A rename's cookie, shared by its IN_MOVED_FROM and IN_MOVED_TO. */
uint32_t fsnotify_cookie(void);

#endif
