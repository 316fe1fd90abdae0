/* Gofer wire codec. See protocol.h for the layout. Pure functions, no I/O. */
#include "gofer/protocol.h"

#include <errno.h>
#include <string.h>

/* ---- cursor ---- */

void gofer_cur_init(struct gofer_cur *c, void *p, size_t len)
{
	c->p = p;
	c->len = len;
	c->pos = 0;
	c->err = false;
}

size_t gofer_cur_left(const struct gofer_cur *c)
{
	return c->err ? 0 : c->len - c->pos;
}

/* Reserves n bytes; NULL (and err) if they are not there. */
static uint8_t *cur_take(struct gofer_cur *c, size_t n)
{
	uint8_t *p;

	if (c->err || n > c->len - c->pos) {
		c->err = true;
		return NULL;
	}
	p = c->p + c->pos;
	c->pos += n;
	return p;
}

static void put_le(struct gofer_cur *c, uint64_t v, size_t n)
{
	uint8_t *p = cur_take(c, n);

	if (!p)
		return;
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(struct gofer_cur *c, size_t n)
{
	const uint8_t *p = cur_take(c, n);
	uint64_t v = 0;

	if (!p)
		return 0;
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

void gofer_put_u8(struct gofer_cur *c, uint8_t v) { put_le(c, v, 1); }
void gofer_put_u16(struct gofer_cur *c, uint16_t v) { put_le(c, v, 2); }
void gofer_put_u32(struct gofer_cur *c, uint32_t v) { put_le(c, v, 4); }
void gofer_put_u64(struct gofer_cur *c, uint64_t v) { put_le(c, v, 8); }
uint8_t gofer_get_u8(struct gofer_cur *c) { return (uint8_t)get_le(c, 1); }
uint16_t gofer_get_u16(struct gofer_cur *c) { return (uint16_t)get_le(c, 2); }
uint32_t gofer_get_u32(struct gofer_cur *c) { return (uint32_t)get_le(c, 4); }
uint64_t gofer_get_u64(struct gofer_cur *c) { return get_le(c, 8); }

void gofer_put_bytes(struct gofer_cur *c, const void *src, size_t n)
{
	uint8_t *p = cur_take(c, n);

	/* memmove: the gofer may encode data it read into the same buffer. */
	if (p && n && p != src)
		memmove(p, src, n);
}

const uint8_t *gofer_get_bytes(struct gofer_cur *c, size_t n)
{
	return cur_take(c, n);
}

/* ---- field helpers ---- */

int gofer_name_check(const char *name, size_t len)
{
	if (!name || len == 0)
		return -EINVAL;
	if (memchr(name, '\0', len) || memchr(name, '/', len))
		return -EINVAL;
	if (len > GOFER_NAME_MAX)
		return -ENAMETOOLONG;
	if (name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.')))
		return -EINVAL;
	return 0;
}

static void put_stat(struct gofer_cur *c, const struct gofer_stat *st)
{
	gofer_put_u64(c, st->dev);
	gofer_put_u64(c, st->ino);
	gofer_put_u64(c, st->nlink);
	gofer_put_u64(c, st->size);
	gofer_put_u64(c, st->blocks);
	gofer_put_u64(c, st->rdev);
	gofer_put_u32(c, st->mode);
	gofer_put_u32(c, st->uid);
	gofer_put_u32(c, st->gid);
	gofer_put_u32(c, st->blksize);
	gofer_put_u64(c, (uint64_t)st->atime_sec);
	gofer_put_u64(c, (uint64_t)st->mtime_sec);
	gofer_put_u64(c, (uint64_t)st->ctime_sec);
	gofer_put_u32(c, st->atime_nsec);
	gofer_put_u32(c, st->mtime_nsec);
	gofer_put_u32(c, st->ctime_nsec);
	gofer_put_u32(c, 0);
}

static bool stat_valid(const struct gofer_stat *st)
{
	return st->atime_nsec < 1000000000u && st->mtime_nsec < 1000000000u &&
	       st->ctime_nsec < 1000000000u;
}

static bool get_stat(struct gofer_cur *c, struct gofer_stat *st)
{
	st->dev = gofer_get_u64(c);
	st->ino = gofer_get_u64(c);
	st->nlink = gofer_get_u64(c);
	st->size = gofer_get_u64(c);
	st->blocks = gofer_get_u64(c);
	st->rdev = gofer_get_u64(c);
	st->mode = gofer_get_u32(c);
	st->uid = gofer_get_u32(c);
	st->gid = gofer_get_u32(c);
	st->blksize = gofer_get_u32(c);
	st->atime_sec = (int64_t)gofer_get_u64(c);
	st->mtime_sec = (int64_t)gofer_get_u64(c);
	st->ctime_sec = (int64_t)gofer_get_u64(c);
	st->atime_nsec = gofer_get_u32(c);
	st->mtime_nsec = gofer_get_u32(c);
	st->ctime_nsec = gofer_get_u32(c);
	return gofer_get_u32(c) == 0 && !c->err && stat_valid(st);
}

static void put_hdr(struct gofer_cur *c, uint16_t op, uint32_t tag)
{
	gofer_put_u32(c, 0); /* length, patched by finish() */
	gofer_put_u16(c, op);
	gofer_put_u16(c, 0);
	gofer_put_u32(c, tag);
}

static int finish(struct gofer_cur *c)
{
	struct gofer_cur h;

	if (c->err || c->pos > GOFER_MSG_MAX)
		return -EMSGSIZE;
	gofer_cur_init(&h, c->p, GOFER_HDR_SIZE);
	gofer_put_u32(&h, (uint32_t)c->pos);
	return (int)c->pos;
}

/* Reads the header; sets *tag as soon as one is there so errors can be answered. */
static int get_hdr(struct gofer_cur *c, uint16_t *op, uint32_t *tag)
{
	uint32_t len;
	uint16_t rsv;

	if (c->len < GOFER_HDR_SIZE)
		return -EPROTO;
	len = gofer_get_u32(c);
	*op = gofer_get_u16(c);
	rsv = gofer_get_u16(c);
	*tag = gofer_get_u32(c);
	if (len != c->len || len > GOFER_MSG_MAX || rsv != 0)
		return -EPROTO;
	return 0;
}

/* ---- requests ---- */

static int name_ok(const char *name)
{
	return gofer_name_check(name, strnlen(name, GOFER_NAME_MAX + 1));
}

/* One utimensat timespec: unset means all zero; UTIME_NOW/OMIT carry no seconds. */
static int time_check(bool set, int64_t sec, uint32_t nsec)
{
	if (!set)
		return sec || nsec ? -EINVAL : 0;
	if (nsec == GOFER_UTIME_NOW || nsec == GOFER_UTIME_OMIT)
		return sec ? -EINVAL : 0;
	return nsec < 1000000000u ? 0 : -EINVAL;
}

static int setattr_check(const struct gofer_setattr *a)
{
	uint32_t v = a->valid;

	if (v & ~GOFER_SETATTR_ALL)
		return -EINVAL;
	if ((v & GOFER_SETATTR_MODE) ? a->mode > GOFER_MODE_MAX : a->mode != 0)
		return -EINVAL;
	if (!(v & GOFER_SETATTR_UID) && a->uid)
		return -EINVAL;
	if (!(v & GOFER_SETATTR_GID) && a->gid)
		return -EINVAL;
	if ((v & GOFER_SETATTR_SIZE) ? a->size > INT64_MAX : a->size != 0)
		return -EINVAL;
	if (time_check(v & GOFER_SETATTR_ATIME, a->atime_sec, a->atime_nsec) ||
	    time_check(v & GOFER_SETATTR_MTIME, a->mtime_sec, a->mtime_nsec))
		return -EINVAL;
	return 0;
}

static int target_check(const char *t, size_t len)
{
	if (len == 0 || memchr(t, '\0', len))
		return -EINVAL;
	return len > GOFER_SYMLINK_MAX ? -ENAMETOOLONG : 0;
}

static void put_name(struct gofer_cur *c, const char *name)
{
	size_t n = strlen(name);

	gofer_put_u16(c, (uint16_t)n);
	gofer_put_u16(c, 0);
	gofer_put_bytes(c, name, n);
}

/* Reads u16 len, u16 rsv, name into out (GOFER_NAME_MAX + 1 bytes). */
static int get_name(struct gofer_cur *c, char *out)
{
	uint16_t n = gofer_get_u16(c);
	const uint8_t *p;
	int err;

	if (gofer_get_u16(c) != 0)
		return -EPROTO;
	p = gofer_get_bytes(c, n);
	if (!p)
		return -EPROTO;
	err = gofer_name_check((const char *)p, n);
	if (err)
		return err;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/* Copies n bytes of a name already announced by a length field. */
static int get_name_n(struct gofer_cur *c, char *out, uint16_t n)
{
	const uint8_t *p = gofer_get_bytes(c, n);
	int err;

	if (!p)
		return -EPROTO;
	err = gofer_name_check((const char *)p, n);
	if (err)
		return err;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

static int check_req(const struct gofer_req *r)
{
	int err;

	switch (r->op) {
	case GOFER_OP_WALK:
		return name_ok(r->walk.name);
	case GOFER_OP_CREATE:
		if ((r->create.flags & ~GOFER_CF_ALL) || r->create.mode > GOFER_MODE_MAX)
			return -EINVAL;
		return name_ok(r->create.name);
	case GOFER_OP_WRITE:
		if (r->write.count > GOFER_IO_MAX || r->write.off > INT64_MAX ||
		    (r->write.count && !r->write.data))
			return -EINVAL;
		return 0;
	case GOFER_OP_MKDIR:
	case GOFER_OP_MKSOCK:
		return r->mkdir.mode > GOFER_MODE_MAX ? -EINVAL : name_ok(r->mkdir.name);
	case GOFER_OP_SYMLINK:
		err = name_ok(r->symlink.name);
		return err ? err
			   : target_check(r->symlink.target,
					  strnlen(r->symlink.target, GOFER_SYMLINK_MAX + 1));
	case GOFER_OP_LINK:
		return name_ok(r->link.name);
	case GOFER_OP_UNLINK:
		return r->unlink.flags & ~GOFER_UNLINK_REMOVEDIR ? -EINVAL : name_ok(r->unlink.name);
	case GOFER_OP_RENAME:
		if ((r->rename.flags & ~(GOFER_RENAME_NOREPLACE | GOFER_RENAME_EXCHANGE)) ||
		    r->rename.flags == (GOFER_RENAME_NOREPLACE | GOFER_RENAME_EXCHANGE))
			return -EINVAL;
		err = name_ok(r->rename.old_name);
		return err ? err : name_ok(r->rename.new_name);
	case GOFER_OP_SETATTR:
		return setattr_check(&r->setattr);
	case GOFER_OP_FSYNC:
		return r->fsync.flags & ~GOFER_FSYNC_DATASYNC ? -EINVAL : 0;
	case GOFER_OP_ALLOCATE:
		if ((r->allocate.mode & ~GOFER_FALLOC_ALL) ||
		    ((r->allocate.mode & GOFER_FALLOC_PUNCH_HOLE) &&
		     !(r->allocate.mode & GOFER_FALLOC_KEEP_SIZE)) ||
		    r->allocate.off > INT64_MAX ||
		    r->allocate.len == 0 || r->allocate.len > INT64_MAX - r->allocate.off)
			return -EINVAL;
		return 0;
	case GOFER_OP_STATFS:
		return 0;
	case GOFER_OP_OPEN:
		if ((r->open.flags & ~GOFER_OF_ALL) ||
		    (r->open.flags & GOFER_OF_ACCMODE) == GOFER_OF_ACCMODE)
			return -EINVAL;
		return 0;
	case GOFER_OP_READ:
		return r->read.count > GOFER_IO_MAX || r->read.off > INT64_MAX ? -EINVAL : 0;
	case GOFER_OP_READ_MEM:
		return r->read_mem.count > GOFER_MEM_IO_MAX || r->read_mem.off > INT64_MAX ||
		       r->read_mem.mem_off > INT64_MAX ? -EINVAL : 0;
	case GOFER_OP_READDIR:
		if (r->readdir.max == 0 || r->readdir.max > GOFER_READDIR_MAX ||
		    r->readdir.off > INT64_MAX)
			return -EINVAL;
		return 0;
	case GOFER_OP_READLINK:
		return r->readlink.size == 0 || r->readlink.size > GOFER_IO_MAX ? -EINVAL : 0;
	case GOFER_OP_STAT:
	case GOFER_OP_CLUNK:
		return 0;
	default:
		return -ENOSYS;
	}
}

int gofer_encode_req(void *buf, size_t cap, const struct gofer_req *r)
{
	struct gofer_cur c;
	size_t n;
	int err = check_req(r);

	if (err)
		return err;
	gofer_cur_init(&c, buf, cap);
	put_hdr(&c, r->op, r->tag);
	gofer_put_u32(&c, r->fid);
	switch (r->op) {
	case GOFER_OP_WALK:
		n = strlen(r->walk.name);
		gofer_put_u16(&c, (uint16_t)n);
		gofer_put_u16(&c, 0);
		gofer_put_bytes(&c, r->walk.name, n);
		break;
	case GOFER_OP_OPEN:
		gofer_put_u32(&c, r->open.flags);
		break;
	case GOFER_OP_READ:
		gofer_put_u32(&c, r->read.count);
		gofer_put_u64(&c, r->read.off);
		break;
	case GOFER_OP_READ_MEM:
		gofer_put_u32(&c, r->read_mem.count);
		gofer_put_u64(&c, r->read_mem.off);
		gofer_put_u64(&c, r->read_mem.mem_off);
		break;
	case GOFER_OP_READDIR:
		gofer_put_u32(&c, r->readdir.max);
		gofer_put_u64(&c, r->readdir.off);
		break;
	case GOFER_OP_READLINK:
		gofer_put_u32(&c, r->readlink.size);
		break;
	case GOFER_OP_CREATE:
		gofer_put_u32(&c, r->create.flags);
		gofer_put_u32(&c, r->create.mode);
		put_name(&c, r->create.name);
		break;
	case GOFER_OP_WRITE:
		gofer_put_u32(&c, r->write.count);
		gofer_put_u64(&c, r->write.off);
		gofer_put_bytes(&c, r->write.data, r->write.count);
		break;
	case GOFER_OP_MKDIR:
	case GOFER_OP_MKSOCK:
		gofer_put_u32(&c, r->mkdir.mode);
		put_name(&c, r->mkdir.name);
		break;
	case GOFER_OP_SYMLINK:
		n = strlen(r->symlink.name);
		gofer_put_u16(&c, (uint16_t)n);
		gofer_put_u16(&c, (uint16_t)strlen(r->symlink.target));
		gofer_put_bytes(&c, r->symlink.name, n);
		gofer_put_bytes(&c, r->symlink.target, strlen(r->symlink.target));
		break;
	case GOFER_OP_LINK:
		gofer_put_u32(&c, r->link.dir_fid);
		put_name(&c, r->link.name);
		break;
	case GOFER_OP_UNLINK:
		gofer_put_u32(&c, r->unlink.flags);
		put_name(&c, r->unlink.name);
		break;
	case GOFER_OP_RENAME:
		gofer_put_u32(&c, r->rename.new_dir_fid);
		gofer_put_u32(&c, r->rename.flags);
		gofer_put_u16(&c, (uint16_t)strlen(r->rename.old_name));
		gofer_put_u16(&c, (uint16_t)strlen(r->rename.new_name));
		gofer_put_bytes(&c, r->rename.old_name, strlen(r->rename.old_name));
		gofer_put_bytes(&c, r->rename.new_name, strlen(r->rename.new_name));
		break;
	case GOFER_OP_SETATTR:
		gofer_put_u32(&c, r->setattr.valid);
		gofer_put_u32(&c, r->setattr.mode);
		gofer_put_u32(&c, r->setattr.uid);
		gofer_put_u32(&c, r->setattr.gid);
		gofer_put_u32(&c, 0);
		gofer_put_u64(&c, r->setattr.size);
		gofer_put_u64(&c, (uint64_t)r->setattr.atime_sec);
		gofer_put_u64(&c, (uint64_t)r->setattr.mtime_sec);
		gofer_put_u32(&c, r->setattr.atime_nsec);
		gofer_put_u32(&c, r->setattr.mtime_nsec);
		break;
	case GOFER_OP_FSYNC:
		gofer_put_u32(&c, r->fsync.flags);
		break;
	case GOFER_OP_ALLOCATE:
		gofer_put_u32(&c, r->allocate.mode);
		gofer_put_u64(&c, r->allocate.off);
		gofer_put_u64(&c, r->allocate.len);
		break;
	}
	return finish(&c);
}

int gofer_decode_req(const void *buf, size_t len, struct gofer_req *r)
{
	struct gofer_cur c;
	const uint8_t *name;
	uint16_t n, n2;
	int err;

	memset(r, 0, sizeof(*r));
	gofer_cur_init(&c, (void *)buf, len);
	err = get_hdr(&c, &r->op, &r->tag);
	if (err)
		return err;
	if (r->op & GOFER_REPLY)
		return -EPROTO;
	r->fid = gofer_get_u32(&c);
	switch (r->op) {
	case GOFER_OP_WALK:
		n = gofer_get_u16(&c);
		if (gofer_get_u16(&c) != 0)
			return -EPROTO;
		name = gofer_get_bytes(&c, n);
		if (!name)
			return -EPROTO;
		err = gofer_name_check((const char *)name, n);
		if (err)
			return err;
		memcpy(r->walk.name, name, n);
		r->walk.name[n] = '\0';
		break;
	case GOFER_OP_OPEN:
		r->open.flags = gofer_get_u32(&c);
		break;
	case GOFER_OP_READ:
		r->read.count = gofer_get_u32(&c);
		r->read.off = gofer_get_u64(&c);
		break;
	case GOFER_OP_READ_MEM:
		r->read_mem.count = gofer_get_u32(&c);
		r->read_mem.off = gofer_get_u64(&c);
		r->read_mem.mem_off = gofer_get_u64(&c);
		break;
	case GOFER_OP_READDIR:
		r->readdir.max = gofer_get_u32(&c);
		r->readdir.off = gofer_get_u64(&c);
		break;
	case GOFER_OP_READLINK:
		r->readlink.size = gofer_get_u32(&c);
		break;
	case GOFER_OP_CREATE:
		r->create.flags = gofer_get_u32(&c);
		r->create.mode = gofer_get_u32(&c);
		err = get_name(&c, r->create.name);
		if (err)
			return err;
		break;
	case GOFER_OP_WRITE:
		r->write.count = gofer_get_u32(&c);
		r->write.off = gofer_get_u64(&c);
		if (r->write.count > GOFER_IO_MAX)
			return c.err ? -EPROTO : -EINVAL;
		r->write.data = gofer_get_bytes(&c, r->write.count);
		if (!r->write.data)
			return -EPROTO;
		if (r->write.count == 0)
			r->write.data = NULL; /* canonical: nothing to point at */
		break;
	case GOFER_OP_MKDIR:
	case GOFER_OP_MKSOCK:
		r->mkdir.mode = gofer_get_u32(&c);
		err = get_name(&c, r->mkdir.name);
		if (err)
			return err;
		break;
	case GOFER_OP_SYMLINK:
		n = gofer_get_u16(&c);
		n2 = gofer_get_u16(&c);
		if (c.err)
			return -EPROTO;
		err = get_name_n(&c, r->symlink.name, n);
		if (err)
			return err;
		name = gofer_get_bytes(&c, n2);
		if (!name)
			return -EPROTO;
		err = target_check((const char *)name, n2);
		if (err)
			return err;
		memcpy(r->symlink.target, name, n2);
		r->symlink.target[n2] = '\0';
		break;
	case GOFER_OP_LINK:
		r->link.dir_fid = gofer_get_u32(&c);
		err = get_name(&c, r->link.name);
		if (err)
			return err;
		break;
	case GOFER_OP_UNLINK:
		r->unlink.flags = gofer_get_u32(&c);
		err = get_name(&c, r->unlink.name);
		if (err)
			return err;
		break;
	case GOFER_OP_RENAME:
		r->rename.new_dir_fid = gofer_get_u32(&c);
		r->rename.flags = gofer_get_u32(&c);
		n = gofer_get_u16(&c);
		n2 = gofer_get_u16(&c);
		if (c.err)
			return -EPROTO;
		err = get_name_n(&c, r->rename.old_name, n);
		if (!err)
			err = get_name_n(&c, r->rename.new_name, n2);
		if (err)
			return err;
		break;
	case GOFER_OP_SETATTR:
		r->setattr.valid = gofer_get_u32(&c);
		r->setattr.mode = gofer_get_u32(&c);
		r->setattr.uid = gofer_get_u32(&c);
		r->setattr.gid = gofer_get_u32(&c);
		if (gofer_get_u32(&c) != 0)
			return -EPROTO;
		r->setattr.size = gofer_get_u64(&c);
		r->setattr.atime_sec = (int64_t)gofer_get_u64(&c);
		r->setattr.mtime_sec = (int64_t)gofer_get_u64(&c);
		r->setattr.atime_nsec = gofer_get_u32(&c);
		r->setattr.mtime_nsec = gofer_get_u32(&c);
		break;
	case GOFER_OP_FSYNC:
		r->fsync.flags = gofer_get_u32(&c);
		break;
	case GOFER_OP_ALLOCATE:
		r->allocate.mode = gofer_get_u32(&c);
		r->allocate.off = gofer_get_u64(&c);
		r->allocate.len = gofer_get_u64(&c);
		break;
	case GOFER_OP_STAT:
	case GOFER_OP_CLUNK:
	case GOFER_OP_STATFS:
		break;
	default:
		return -ENOSYS;
	}
	if (c.err || gofer_cur_left(&c) != 0)
		return -EPROTO;
	return check_req(r);
}

/* ---- replies ---- */

int gofer_encode_error(void *buf, size_t cap, uint32_t tag, int err)
{
	struct gofer_cur c;

	if (err < 0)
		err = -err;
	if (err == 0 || err > (int)GOFER_ERRNO_MAX)
		err = EIO;
	gofer_cur_init(&c, buf, cap);
	put_hdr(&c, GOFER_OP_ERROR, tag);
	gofer_put_u32(&c, (uint32_t)err);
	gofer_put_u32(&c, 0);
	return finish(&c);
}

int gofer_dirent_enc_begin(struct gofer_dirent_enc *e, void *buf, size_t cap, uint32_t tag,
			   uint32_t max)
{
	if (cap > GOFER_MSG_MAX)
		cap = GOFER_MSG_MAX;
	gofer_cur_init(&e->cur, buf, cap);
	e->count = 0;
	e->max = max > GOFER_READDIR_MAX ? GOFER_READDIR_MAX : max;
	put_hdr(&e->cur, GOFER_OP_READDIR | GOFER_REPLY, tag);
	gofer_put_u32(&e->cur, 0); /* count, patched by _end() */
	gofer_put_u32(&e->cur, 0);
	return e->cur.err ? -EMSGSIZE : 0;
}

int gofer_dirent_enc_add(struct gofer_dirent_enc *e, uint64_t ino, uint64_t next_off,
			 uint8_t type, const char *name, size_t name_len)
{
	int err = gofer_name_check(name, name_len);

	if (err)
		return err;
	if (type > 14 || next_off > INT64_MAX) /* DT_WHT is the largest d_type */
		return -EINVAL;
	if (e->count >= e->max || gofer_cur_left(&e->cur) < GOFER_DIRENT_HDR_SIZE + name_len)
		return -ENOSPC;
	gofer_put_u64(&e->cur, ino);
	gofer_put_u64(&e->cur, next_off);
	gofer_put_u8(&e->cur, type);
	gofer_put_u8(&e->cur, 0);
	gofer_put_u16(&e->cur, (uint16_t)name_len);
	gofer_put_bytes(&e->cur, name, name_len);
	e->count++;
	return 0;
}

int gofer_dirent_enc_end(struct gofer_dirent_enc *e)
{
	struct gofer_cur c;

	if (e->cur.err)
		return -EMSGSIZE;
	gofer_cur_init(&c, e->cur.p + GOFER_HDR_SIZE, 4);
	gofer_put_u32(&c, e->count);
	return finish(&e->cur);
}

/* The largest count a WRITE or READ_MEM reply may carry: READ_MEM's data never
 * travels in a message. */
static uint32_t count_max(uint16_t op)
{
	return op == (GOFER_OP_READ_MEM | GOFER_REPLY) ? GOFER_MEM_IO_MAX : GOFER_IO_MAX;
}

int gofer_encode_reply(void *buf, size_t cap, const struct gofer_reply *r)
{
	struct gofer_cur c;
	struct gofer_dirent_enc de;
	int err;

	switch (r->op) {
	case GOFER_OP_ERROR:
		if (r->error == 0 || r->error > GOFER_ERRNO_MAX)
			return -EINVAL;
		return gofer_encode_error(buf, cap, r->tag, (int)r->error);
	case GOFER_OP_READDIR | GOFER_REPLY:
		if (r->readdir.count > GOFER_READDIR_MAX)
			return -EINVAL;
		err = gofer_dirent_enc_begin(&de, buf, cap, r->tag, GOFER_READDIR_MAX);
		for (uint32_t i = 0; !err && i < r->readdir.count; i++) {
			const struct gofer_dirent *d = &r->readdir.ents[i];

			err = gofer_dirent_enc_add(&de, d->ino, d->next_off, d->type, d->name,
						   strnlen(d->name, sizeof(d->name)));
		}
		if (err)
			return err == -ENOSPC ? -EMSGSIZE : err;
		return gofer_dirent_enc_end(&de);
	}

	gofer_cur_init(&c, buf, cap);
	put_hdr(&c, r->op, r->tag);
	switch (r->op) {
	case GOFER_OP_WALK | GOFER_REPLY:
	case GOFER_OP_CREATE | GOFER_REPLY:
	case GOFER_OP_MKDIR | GOFER_REPLY:
	case GOFER_OP_MKSOCK | GOFER_REPLY:
	case GOFER_OP_SYMLINK | GOFER_REPLY:
		if (!stat_valid(&r->walk.st))
			return -EINVAL;
		gofer_put_u32(&c, r->walk.fid);
		gofer_put_u32(&c, 0);
		put_stat(&c, &r->walk.st);
		break;
	case GOFER_OP_STAT | GOFER_REPLY:
	case GOFER_OP_SETATTR | GOFER_REPLY:
		if (!stat_valid(&r->stat))
			return -EINVAL;
		put_stat(&c, &r->stat);
		break;
	case GOFER_OP_WRITE | GOFER_REPLY:
	case GOFER_OP_READ_MEM | GOFER_REPLY:
		if (r->write.count > count_max(r->op))
			return -EINVAL;
		gofer_put_u32(&c, r->write.count);
		gofer_put_u32(&c, 0);
		break;
	case GOFER_OP_STATFS | GOFER_REPLY:
		gofer_put_u64(&c, r->statfs.type);
		gofer_put_u64(&c, r->statfs.bsize);
		gofer_put_u64(&c, r->statfs.blocks);
		gofer_put_u64(&c, r->statfs.bfree);
		gofer_put_u64(&c, r->statfs.bavail);
		gofer_put_u64(&c, r->statfs.files);
		gofer_put_u64(&c, r->statfs.ffree);
		gofer_put_u64(&c, r->statfs.namelen);
		break;
	case GOFER_OP_READ | GOFER_REPLY:
		if (r->read.count > GOFER_IO_MAX)
			return -EINVAL;
		gofer_put_u32(&c, r->read.count);
		gofer_put_u32(&c, 0);
		gofer_put_bytes(&c, r->read.data, r->read.count);
		break;
	case GOFER_OP_READLINK | GOFER_REPLY:
		if (r->readlink.len > GOFER_IO_MAX ||
		    (r->readlink.len && memchr(r->readlink.target, '\0', r->readlink.len)))
			return -EINVAL;
		gofer_put_u32(&c, r->readlink.len);
		gofer_put_u32(&c, 0);
		gofer_put_bytes(&c, r->readlink.target, r->readlink.len);
		break;
	case GOFER_OP_OPEN | GOFER_REPLY:
	case GOFER_OP_CLUNK | GOFER_REPLY:
	case GOFER_OP_LINK | GOFER_REPLY:
	case GOFER_OP_UNLINK | GOFER_REPLY:
	case GOFER_OP_RENAME | GOFER_REPLY:
	case GOFER_OP_FSYNC | GOFER_REPLY:
	case GOFER_OP_ALLOCATE | GOFER_REPLY:
		break;
	default:
		return -EINVAL;
	}
	return finish(&c);
}

/* Reads one dirent; false if malformed. */
static bool get_dirent(struct gofer_cur *c, struct gofer_dirent *d)
{
	const uint8_t *name;
	uint16_t n;

	d->ino = gofer_get_u64(c);
	d->next_off = gofer_get_u64(c);
	d->type = gofer_get_u8(c);
	if (gofer_get_u8(c) != 0)
		return false;
	n = gofer_get_u16(c);
	name = gofer_get_bytes(c, n);
	if (!name || d->type > 14 || d->next_off > INT64_MAX ||
	    gofer_name_check((const char *)name, n))
		return false;
	memcpy(d->name, name, n);
	d->name[n] = '\0';
	return true;
}

int gofer_decode_reply(const void *buf, size_t len, struct gofer_reply *r)
{
	struct gofer_cur c;
	struct gofer_dirent d;
	const uint8_t *p;
	uint32_t n;

	memset(r, 0, sizeof(*r));
	gofer_cur_init(&c, (void *)buf, len);
	if (get_hdr(&c, &r->op, &r->tag))
		return -EPROTO;
	switch (r->op) {
	case GOFER_OP_ERROR:
		r->error = gofer_get_u32(&c);
		if (gofer_get_u32(&c) != 0 || r->error == 0 || r->error > GOFER_ERRNO_MAX)
			return -EPROTO;
		break;
	case GOFER_OP_WALK | GOFER_REPLY:
	case GOFER_OP_CREATE | GOFER_REPLY:
	case GOFER_OP_MKDIR | GOFER_REPLY:
	case GOFER_OP_MKSOCK | GOFER_REPLY:
	case GOFER_OP_SYMLINK | GOFER_REPLY:
		r->walk.fid = gofer_get_u32(&c);
		if (gofer_get_u32(&c) != 0 || !get_stat(&c, &r->walk.st))
			return -EPROTO;
		break;
	case GOFER_OP_STAT | GOFER_REPLY:
	case GOFER_OP_SETATTR | GOFER_REPLY:
		if (!get_stat(&c, &r->stat))
			return -EPROTO;
		break;
	case GOFER_OP_WRITE | GOFER_REPLY:
	case GOFER_OP_READ_MEM | GOFER_REPLY:
		r->write.count = gofer_get_u32(&c);
		if (gofer_get_u32(&c) != 0 || r->write.count > count_max(r->op))
			return -EPROTO;
		break;
	case GOFER_OP_STATFS | GOFER_REPLY:
		r->statfs.type = gofer_get_u64(&c);
		r->statfs.bsize = gofer_get_u64(&c);
		r->statfs.blocks = gofer_get_u64(&c);
		r->statfs.bfree = gofer_get_u64(&c);
		r->statfs.bavail = gofer_get_u64(&c);
		r->statfs.files = gofer_get_u64(&c);
		r->statfs.ffree = gofer_get_u64(&c);
		r->statfs.namelen = gofer_get_u64(&c);
		break;
	case GOFER_OP_READ | GOFER_REPLY:
	case GOFER_OP_READLINK | GOFER_REPLY:
		n = gofer_get_u32(&c);
		if (gofer_get_u32(&c) != 0 || n > GOFER_IO_MAX)
			return -EPROTO;
		p = gofer_get_bytes(&c, n);
		if (!p)
			return -EPROTO;
		if (r->op == (GOFER_OP_READ | GOFER_REPLY)) {
			r->read.data = p;
			r->read.count = n;
		} else {
			if (n && memchr(p, '\0', n))
				return -EPROTO;
			r->readlink.target = (const char *)p;
			r->readlink.len = n;
		}
		break;
	case GOFER_OP_READDIR | GOFER_REPLY:
		n = gofer_get_u32(&c);
		if (gofer_get_u32(&c) != 0 || n > GOFER_READDIR_MAX)
			return -EPROTO;
		r->readdir.count = n;
		r->readdir.raw = c.p + c.pos;
		r->readdir.raw_len = gofer_cur_left(&c);
		for (uint32_t i = 0; i < n; i++)
			if (!get_dirent(&c, &d))
				return -EPROTO;
		break;
	case GOFER_OP_OPEN | GOFER_REPLY:
	case GOFER_OP_CLUNK | GOFER_REPLY:
	case GOFER_OP_LINK | GOFER_REPLY:
	case GOFER_OP_UNLINK | GOFER_REPLY:
	case GOFER_OP_RENAME | GOFER_REPLY:
	case GOFER_OP_FSYNC | GOFER_REPLY:
	case GOFER_OP_ALLOCATE | GOFER_REPLY:
		break;
	default:
		return -EPROTO;
	}
	if (c.err || gofer_cur_left(&c) != 0)
		return -EPROTO;
	return 0;
}

int gofer_reply_dirents(const struct gofer_reply *r, struct gofer_dirent *ents, uint32_t max)
{
	struct gofer_cur c;
	uint32_t i;

	if (r->op != (GOFER_OP_READDIR | GOFER_REPLY) || !r->readdir.raw)
		return 0;
	gofer_cur_init(&c, (void *)r->readdir.raw, r->readdir.raw_len);
	for (i = 0; i < r->readdir.count && i < max; i++)
		if (!get_dirent(&c, &ents[i]))
			break; /* cannot happen: decode validated every entry */
	return (int)i;
}
