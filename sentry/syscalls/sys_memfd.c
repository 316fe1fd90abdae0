/* memfd_create: an anonymous tmpfs file ("/memfd:NAME (deleted)" in /proc), charged to
 * the sandbox's --tmpfs-size like any other, optionally sealable (F_ADD_SEALS). */
#include "sentry/fs/fs.h"
#include "sentry/syscalls/syscalls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif
#define MFD_NAME_MAX (255 - 6) /* NAME_MAX minus "memfd:" */

SYSCALL(memfd_create)
{
	unsigned flags = (unsigned)a[1];
	char name[MFD_NAME_MAX + 1], full[MFD_NAME_MAX + 8];
	if (flags & ~(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC))
		return -EINVAL;
	if (flags & MFD_HUGETLB)
		return -EINVAL; /* no huge pages in the sandbox */
	if ((flags & MFD_EXEC) && (flags & MFD_NOEXEC_SEAL))
		return -EINVAL;
	long n = strncpy_from_user(t->tg->mm, name, a[0], sizeof(name));
	if (n < 0)
		return n == -ENAMETOOLONG ? -EINVAL : n;
	struct kernel *k = t->k;
	if (!k->memfd_root) {
		int err = tmpfs_new_root(k, 01777, &k->memfd_root);
		if (err < 0)
			return err;
	}
	struct inode *ino = tmpfs_new_file(k->memfd_root->inode->sb,
					   (flags & MFD_NOEXEC_SEAL) ? 0666 : 0777, false);
	if (!ino)
		return -ENOMEM;
	snprintf(full, sizeof(full), "memfd:%s", name);
	struct dentry *d = dentry_new_unlinked(k->memfd_root, full, ino);
	if (!d)
		return -ENOMEM;
	struct file *f;
	int err = vfs_open_dentry(d, O_RDWR, &f);
	dentry_put(d);
	if (err < 0)
		return err;
	/* A new memfd has F_SEAL_SEAL unless sealing was asked for. */
	unsigned seals = 0;
	if (flags & MFD_NOEXEC_SEAL)
		seals = F_SEAL_EXEC;
	if ((flags & (MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL)) && tmpfs_seals(f, false, 0) >= 0)
		tmpfs_memfd_unseal(f, seals);
	err = fdt_install(t->fdt, f, 0, flags & MFD_CLOEXEC, fd_limit(t));
	file_put(f);
	return err;
}
