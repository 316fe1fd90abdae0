/* The sandbox's own /etc/hosts and /etc/resolv.conf, made in the overlay root's upper
 * layer at boot (over the host's, which say nothing true inside the sandbox): the
 * resolver is the sentry's (dns.c), host.ward.internal is the address the net gofer
 * maps to the host's loopback. */
#include "sentry/net/net.h"
#include "sentry/vfs/vfs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

static const char hosts[] =
	"127.0.0.1\tlocalhost\n"
	"::1\tlocalhost ip6-localhost ip6-loopback\n"
	"10.0.2.15\tsandbox\n"
	"10.0.2.2\thost.ward.internal\n";

static const char resolv_conf[] =
	"# the sandbox's resolver (ward): names on the --allow-net list only\n"
	"nameserver 10.0.2.3\n"
	"options timeout:2 attempts:2\n";

static int put_file(struct dentry *dir, const char *name, const char *text)
{
	struct dentry *d;
	int err = vfs_unlink(dir, name, false);
	if (err < 0 && err != -ENOENT)
		return err;
	if ((err = vfs_create(dir, name, S_IFREG | 0644, NULL, &d)) < 0)
		return err;
	struct file *f;
	err = vfs_open_dentry(d, O_WRONLY, &f);
	dentry_put(d);
	if (err < 0)
		return err;
	uint64_t pos = 0;
	long n = f->ops->write ? f->ops->write(f, NULL, text, strlen(text), &pos) : -EINVAL;
	file_put(f);
	return n < 0 ? (int)n : 0;
}

int net_etc_files(struct kernel *k)
{
	struct fs_ctx fs = {.refs = 1, .root = k->root, .cwd = k->root};
	struct dentry *etc;
	int err = vfs_walk(&fs, k->root, "/etc", WALK_FOLLOW | WALK_DIRECTORY, &etc);
	if (err < 0)
		return err == -ENOENT ? 0 : err; /* a --rootfs without /etc */
	err = put_file(etc, "hosts", hosts);
	if (!err)
		err = put_file(etc, "resolv.conf", resolv_conf);
	dentry_put(etc);
	return err;
}
