#include "sentry/fs/tmpfs_xattr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

struct tmpfs_xattr {
	struct tmpfs_xattr *next;
	char *name;
	void *value;
	size_t size;
};

static struct tmpfs_xattr **find(struct tmpfs_xattrs *x, const char *name)
{
	for (struct tmpfs_xattr **pp = &x->head; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->name, name) == 0)
			return pp;
	return NULL;
}

long tmpfs_xattr_get(struct tmpfs_xattrs *x, const char *name, void *buf, size_t size)
{
	struct tmpfs_xattr **pp = find(x, name);
	if (!pp)
		return -ENODATA;
	if (size == 0)
		return (long)(*pp)->size;
	if (size < (*pp)->size)
		return -ERANGE;
	memcpy(buf, (*pp)->value, (*pp)->size);
	return (long)(*pp)->size;
}

int tmpfs_xattr_set(struct tmpfs_xattrs *x, const char *name, const void *val, size_t size, int flags)
{
	struct tmpfs_xattr **pp = find(x, name);
	if (flags == XATTR_REMOVE_) {
		if (!pp)
			return -ENODATA;
		struct tmpfs_xattr *e = *pp;
		*pp = e->next;
		free(e->name);
		free(e->value);
		free(e);
		return 0;
	}
	if (pp && (flags & XATTR_CREATE))
		return -EEXIST;
	if (!pp && (flags & XATTR_REPLACE))
		return -ENODATA;
	void *copy = malloc(size ? size : 1);
	if (!copy)
		return -ENOSPC;
	if (size)
		memcpy(copy, val, size);
	if (pp) {
		free((*pp)->value);
		(*pp)->value = copy;
		(*pp)->size = size;
		return 0;
	}
	struct tmpfs_xattr *e = calloc(1, sizeof(*e));
	if (!e || !(e->name = strdup(name))) {
		free(e);
		free(copy);
		return -ENOSPC;
	}
	e->value = copy;
	e->size = size;
	/* appended: listxattr gives creation order, as Linux's simple_xattr list */
	struct tmpfs_xattr **tail = &x->head;
	while (*tail)
		tail = &(*tail)->next;
	*tail = e;
	return 0;
}

long tmpfs_xattr_list(struct tmpfs_xattrs *x, char *buf, size_t size)
{
	size_t total = 0;
	for (struct tmpfs_xattr *e = x->head; e; e = e->next) {
		size_t n = strlen(e->name) + 1;
		if (size && total + n > size)
			return -ERANGE;
		if (size)
			memcpy(buf + total, e->name, n);
		total += n;
	}
	return (long)total;
}

size_t tmpfs_xattrs_bytes(const struct tmpfs_xattrs *x)
{
	size_t n = 0;
	for (const struct tmpfs_xattr *e = x->head; e; e = e->next)
		n += strlen(e->name) + 1 + e->size;
	return n;
}

void tmpfs_xattrs_free(struct tmpfs_xattrs *x)
{
	while (x->head)
		tmpfs_xattr_set(x, x->head->name, NULL, 0, XATTR_REMOVE_);
}
