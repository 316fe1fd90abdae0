/* The gofer wire codec: round trips, strictness (truncated, oversized, trailing,
 * reserved, bad names, bad counts) and a deterministic mutation loop that also checks
 * decoding is canonical: whatever decodes re-encodes to the very same bytes. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gofer/protocol.h"

static uint8_t buf[GOFER_MSG_MAX + 64];
static uint8_t buf2[GOFER_MSG_MAX + 64];

static struct gofer_stat sample_stat(void)
{
	return (struct gofer_stat){
		.dev = 0x801, .ino = 0x1122334455667788ull, .nlink = 3, .size = 1ull << 40,
		.blocks = 99, .rdev = 0, .mode = 0100644, .uid = 1000, .gid = 1000,
		.blksize = 4096, .atime_sec = -5, .mtime_sec = 1700000000, .ctime_sec = 1,
		.atime_nsec = 999999999, .mtime_nsec = 0, .ctime_nsec = 12345,
	};
}

/* Field by field: the struct has tail padding. */
static bool stat_eq(const struct gofer_stat *a, const struct gofer_stat *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->nlink == b->nlink &&
	       a->size == b->size && a->blocks == b->blocks && a->rdev == b->rdev &&
	       a->mode == b->mode && a->uid == b->uid && a->gid == b->gid &&
	       a->blksize == b->blksize && a->atime_sec == b->atime_sec &&
	       a->mtime_sec == b->mtime_sec && a->ctime_sec == b->ctime_sec &&
	       a->atime_nsec == b->atime_nsec && a->mtime_nsec == b->mtime_nsec &&
	       a->ctime_nsec == b->ctime_nsec;
}

/* Encodes r, decodes it back, re-encodes the result: both encodings must be equal. */
static int req_roundtrip(const struct gofer_req *r, struct gofer_req *out)
{
	int len = gofer_encode_req(buf, sizeof(buf), r);

	cr_assert_gt(len, 0, "encode op %#x: %d", r->op, len);
	cr_assert_eq(gofer_decode_req(buf, (size_t)len, out), 0);
	cr_assert_eq(gofer_encode_req(buf2, sizeof(buf2), out), len);
	cr_assert_eq(memcmp(buf, buf2, (size_t)len), 0);
	return len;
}

Test(protocol, request_roundtrips)
{
	struct gofer_req r = { .op = GOFER_OP_WALK, .tag = 7, .fid = 42 }, o;
	int len;

	strcpy(r.walk.name, "libc.so.6");
	len = req_roundtrip(&r, &o);
	cr_assert_eq(len, (int)(GOFER_HDR_SIZE + 8 + strlen("libc.so.6")));
	cr_assert_eq(o.op, GOFER_OP_WALK);
	cr_assert_eq(o.tag, 7);
	cr_assert_eq(o.fid, 42);
	cr_assert_str_eq(o.walk.name, "libc.so.6");
	/* little-endian header on the wire */
	cr_assert_eq(buf[0], (uint8_t)len);
	cr_assert_eq(buf[4], 0x10);
	cr_assert_eq(buf[8], 7);

	memset(r.walk.name, 'x', GOFER_NAME_MAX);
	r.walk.name[GOFER_NAME_MAX] = '\0';
	req_roundtrip(&r, &o);
	cr_assert_eq(strlen(o.walk.name), GOFER_NAME_MAX);

	r = (struct gofer_req){ .op = GOFER_OP_STAT, .tag = 1, .fid = 0xffffffffu };
	req_roundtrip(&r, &o);
	cr_assert_eq(o.fid, 0xffffffffu);

	r = (struct gofer_req){ .op = GOFER_OP_OPEN, .tag = 2, .fid = 3 };
	r.open.flags = GOFER_OF_RDONLY | GOFER_OF_DIRECTORY;
	req_roundtrip(&r, &o);
	cr_assert_eq(o.open.flags, GOFER_OF_DIRECTORY);

	r = (struct gofer_req){ .op = GOFER_OP_READ, .tag = 3, .fid = 4 };
	r.read.off = INT64_MAX;
	r.read.count = GOFER_IO_MAX;
	req_roundtrip(&r, &o);
	cr_assert_eq(o.read.off, (uint64_t)INT64_MAX);
	cr_assert_eq(o.read.count, GOFER_IO_MAX);

	r = (struct gofer_req){ .op = GOFER_OP_READ_MEM, .tag = 3, .fid = 4 };
	r.read_mem.off = INT64_MAX;
	r.read_mem.mem_off = 0x123456789000ull;
	r.read_mem.count = GOFER_MEM_IO_MAX;
	req_roundtrip(&r, &o);
	cr_assert_eq(o.read_mem.off, (uint64_t)INT64_MAX);
	cr_assert_eq(o.read_mem.mem_off, 0x123456789000ull);
	cr_assert_eq(o.read_mem.count, GOFER_MEM_IO_MAX);

	r = (struct gofer_req){ .op = GOFER_OP_READDIR, .tag = 4, .fid = 5 };
	r.readdir.off = 0x123456789abcull;
	r.readdir.max = GOFER_READDIR_MAX;
	req_roundtrip(&r, &o);
	cr_assert_eq(o.readdir.off, 0x123456789abcull);
	cr_assert_eq(o.readdir.max, GOFER_READDIR_MAX);

	r = (struct gofer_req){ .op = GOFER_OP_READLINK, .tag = 5, .fid = 6 };
	r.readlink.size = 4096;
	req_roundtrip(&r, &o);
	cr_assert_eq(o.readlink.size, 4096);

	r = (struct gofer_req){ .op = GOFER_OP_CLUNK, .tag = 6, .fid = 9 };
	req_roundtrip(&r, &o);
	cr_assert_eq(o.fid, 9);
}

static int reply_roundtrip(const struct gofer_reply *r, struct gofer_reply *out)
{
	int len = gofer_encode_reply(buf, sizeof(buf), r);

	cr_assert_gt(len, 0, "encode op %#x: %d", r->op, len);
	cr_assert_eq(gofer_decode_reply(buf, (size_t)len, out), 0);
	cr_assert_eq(out->op, r->op);
	cr_assert_eq(out->tag, r->tag);
	return len;
}

Test(protocol, reply_roundtrips)
{
	struct gofer_stat st = sample_stat();
	struct gofer_reply r = { .op = GOFER_OP_WALK | GOFER_REPLY, .tag = 9 }, o;
	static struct gofer_dirent ents[3], back[3];
	static uint8_t data[GOFER_IO_MAX];
	int len;

	r.walk.fid = 77;
	r.walk.st = st;
	len = reply_roundtrip(&r, &o);
	cr_assert_eq(len, (int)(GOFER_HDR_SIZE + 8 + GOFER_STAT_SIZE));
	cr_assert_eq(o.walk.fid, 77);
	cr_assert(stat_eq(&o.walk.st, &st));

	r = (struct gofer_reply){ .op = GOFER_OP_STAT | GOFER_REPLY, .tag = 1, .stat = st };
	reply_roundtrip(&r, &o);
	cr_assert(stat_eq(&o.stat, &st));

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 31 + 7);
	r = (struct gofer_reply){ .op = GOFER_OP_READ | GOFER_REPLY, .tag = 2 };
	r.read.data = data;
	r.read.count = GOFER_IO_MAX;
	reply_roundtrip(&r, &o);
	cr_assert_eq(o.read.count, GOFER_IO_MAX);
	cr_assert_eq(memcmp(o.read.data, data, GOFER_IO_MAX), 0);
	r.read.count = 0;
	reply_roundtrip(&r, &o);
	cr_assert_eq(o.read.count, 0);

	r = (struct gofer_reply){ .op = GOFER_OP_READLINK | GOFER_REPLY, .tag = 3 };
	r.readlink.target = "../lib/x86_64-linux-gnu/libc.so.6";
	r.readlink.len = (uint32_t)strlen(r.readlink.target);
	reply_roundtrip(&r, &o);
	cr_assert_eq(o.readlink.len, r.readlink.len);
	cr_assert_eq(memcmp(o.readlink.target, r.readlink.target, r.readlink.len), 0);

	ents[0] = (struct gofer_dirent){ .ino = 1, .next_off = 10, .type = 4, .name = "usr" };
	ents[1] = (struct gofer_dirent){ .ino = 2, .next_off = INT64_MAX, .type = 10, .name = ".hidden" };
	ents[2] = (struct gofer_dirent){ .ino = 3, .next_off = 30, .type = 8 };
	memset(ents[2].name, 'z', GOFER_NAME_MAX);
	r = (struct gofer_reply){ .op = GOFER_OP_READDIR | GOFER_REPLY, .tag = 4 };
	r.readdir.ents = ents;
	r.readdir.count = 3;
	reply_roundtrip(&r, &o);
	cr_assert_eq(o.readdir.count, 3);
	cr_assert_eq(gofer_reply_dirents(&o, back, 3), 3);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(back[i].ino, ents[i].ino);
		cr_assert_eq(back[i].next_off, ents[i].next_off);
		cr_assert_eq(back[i].type, ents[i].type);
		cr_assert_str_eq(back[i].name, ents[i].name);
	}
	cr_assert_eq(gofer_reply_dirents(&o, back, 2), 2);

	r = (struct gofer_reply){ .op = GOFER_OP_OPEN | GOFER_REPLY, .tag = 5 };
	cr_assert_eq(reply_roundtrip(&r, &o), (int)GOFER_HDR_SIZE);
	r = (struct gofer_reply){ .op = GOFER_OP_CLUNK | GOFER_REPLY, .tag = 6 };
	reply_roundtrip(&r, &o);

	r = (struct gofer_reply){ .op = GOFER_OP_ERROR, .tag = 8, .error = ENOENT };
	reply_roundtrip(&r, &o);
	cr_assert_eq(o.error, ENOENT);
	len = gofer_encode_error(buf, sizeof(buf), 11, -EACCES);
	cr_assert_eq(gofer_decode_reply(buf, (size_t)len, &o), 0);
	cr_assert_eq(o.op, GOFER_OP_ERROR);
	cr_assert_eq(o.tag, 11);
	cr_assert_eq(o.error, EACCES);
	/* nonsense errnos become EIO rather than an undecodable message */
	len = gofer_encode_error(buf, sizeof(buf), 12, 100000);
	cr_assert_eq(gofer_decode_reply(buf, (size_t)len, &o), 0);
	cr_assert_eq(o.error, EIO);
}

/* ---- strictness ---- */

/* Builds a raw message: header with the right length, then the body bytes given. */
static size_t raw(uint8_t *out, uint16_t op, uint32_t tag, const uint8_t *body, size_t n)
{
	struct gofer_cur c;

	gofer_cur_init(&c, out, GOFER_HDR_SIZE + n);
	gofer_put_u32(&c, (uint32_t)(GOFER_HDR_SIZE + n));
	gofer_put_u16(&c, op);
	gofer_put_u16(&c, 0);
	gofer_put_u32(&c, tag);
	gofer_put_bytes(&c, body, n);
	cr_assert(!c.err);
	return c.pos;
}

static int raw_walk(const char *name, size_t n, struct gofer_req *r)
{
	uint8_t body[8 + 512];
	struct gofer_cur c;

	gofer_cur_init(&c, body, sizeof(body));
	gofer_put_u32(&c, 0);
	gofer_put_u16(&c, (uint16_t)n);
	gofer_put_u16(&c, 0);
	gofer_put_bytes(&c, name, n);
	return gofer_decode_req(buf, raw(buf, GOFER_OP_WALK, 1, body, c.pos), r);
}

Test(protocol, bad_names_rejected)
{
	struct gofer_req r = { .op = GOFER_OP_WALK };
	char longname[300];

	memset(longname, 'a', sizeof(longname));
	cr_assert_eq(raw_walk("ok", 2, &r), 0);
	cr_assert_str_eq(r.walk.name, "ok");
	cr_assert_eq(raw_walk("", 0, &r), -EINVAL);
	cr_assert_eq(raw_walk(".", 1, &r), -EINVAL);
	cr_assert_eq(raw_walk("..", 2, &r), -EINVAL);
	cr_assert_eq(raw_walk("a/b", 3, &r), -EINVAL);
	cr_assert_eq(raw_walk("/", 1, &r), -EINVAL);
	cr_assert_eq(raw_walk("a\0b", 3, &r), -EINVAL);
	cr_assert_eq(raw_walk("ab\0", 3, &r), -EINVAL);
	cr_assert_eq(raw_walk(longname, 256, &r), -ENAMETOOLONG);
	cr_assert_eq(raw_walk(longname, 255, &r), 0);
	cr_assert_eq(r.tag, 1, "tag known so the error can be answered");
	cr_assert_eq(raw_walk("...", 3, &r), 0, "'...' is an ordinary name");

	/* the encoder refuses to emit them */
	r = (struct gofer_req){ .op = GOFER_OP_WALK };
	strcpy(r.walk.name, "..");
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &r), -EINVAL);
	strcpy(r.walk.name, "a/b");
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &r), -EINVAL);
	r.walk.name[0] = '\0';
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &r), -EINVAL);
	memset(r.walk.name, 'a', sizeof(r.walk.name)); /* not even terminated */
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &r), -ENAMETOOLONG);

	cr_assert_eq(gofer_name_check("x", 1), 0);
	cr_assert_eq(gofer_name_check(NULL, 0), -EINVAL);
}

Test(protocol, bad_fields_rejected)
{
	struct gofer_req r = { .fid = 1 }, o;
	int len;

	r.op = GOFER_OP_READ;
	r.read.count = GOFER_IO_MAX + 1;
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &r), -EINVAL);
	r.read.count = 1;
	r.read.off = (uint64_t)INT64_MAX + 1;
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &r), -EINVAL);

	r.op = GOFER_OP_READ_MEM;
	r.read_mem = (typeof(r.read_mem)){ .count = GOFER_MEM_IO_MAX + 1 };
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &r), -EINVAL);
	r.read_mem = (typeof(r.read_mem)){ .count = 1, .off = (uint64_t)INT64_MAX + 1 };
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &r), -EINVAL);
	r.read_mem = (typeof(r.read_mem)){ .count = 1, .mem_off = (uint64_t)INT64_MAX + 1 };
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &r), -EINVAL);

	r.op = GOFER_OP_READDIR;
	r.readdir.max = 0;
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &r), -EINVAL);
	r.readdir.max = GOFER_READDIR_MAX + 1;
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &r), -EINVAL);

	r.op = GOFER_OP_READLINK;
	r.readlink.size = 0;
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &r), -EINVAL);

	r.op = GOFER_OP_OPEN;
	r.open.flags = GOFER_OF_ACCMODE;
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &r), -EINVAL);
	r.open.flags = 0x100;
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &r), -EINVAL);

	r.op = 0x003f; /* reserved for writes, not known yet */
	cr_assert_eq(gofer_encode_req(buf, sizeof(buf), &r), -ENOSYS);

	/* decoder side: a too-large count in an otherwise well-formed message */
	{
		uint8_t body[16];
		struct gofer_cur c;

		gofer_cur_init(&c, body, sizeof(body));
		gofer_put_u32(&c, 1);
		gofer_put_u32(&c, GOFER_IO_MAX + 1);
		gofer_put_u64(&c, 0);
		len = (int)raw(buf, GOFER_OP_READ, 5, body, 16);
		cr_assert_eq(gofer_decode_req(buf, (size_t)len, &o), -EINVAL);
		cr_assert_eq(o.tag, 5);
		len = (int)raw(buf, 0x003f, 6, body, 16);
		cr_assert_eq(gofer_decode_req(buf, (size_t)len, &o), -ENOSYS);
		len = (int)raw(buf, GOFER_OP_READ | GOFER_REPLY, 6, body, 16);
		cr_assert_eq(gofer_decode_req(buf, (size_t)len, &o), -EPROTO);
	}

	/* a too-small buffer is -EMSGSIZE, never an overrun */
	r = (struct gofer_req){ .op = GOFER_OP_STAT, .fid = 1 };
	cr_assert_eq(gofer_encode_req(buf, GOFER_HDR_SIZE + 3, &r), -EMSGSIZE);
}

/* Every valid message in the corpus, encoded, for the truncation and fuzz tests. */
struct sample {
	uint8_t b[GOFER_HDR_SIZE + 1024];
	size_t n;
	bool reply;
};

static int corpus(struct sample *s, int max)
{
	static struct gofer_dirent ents[2] = {
		{ .ino = 5, .next_off = 1, .type = 8, .name = "a" },
		{ .ino = 6, .next_off = 2, .type = 4, .name = "bc" },
	};
	struct gofer_req q[19] = {
		{ .op = GOFER_OP_WALK, .tag = 1, .fid = 2, .walk.name = "name" },
		{ .op = GOFER_OP_STAT, .tag = 2, .fid = 3 },
		{ .op = GOFER_OP_OPEN, .tag = 3, .fid = 4, .open.flags = GOFER_OF_DIRECTORY },
		{ .op = GOFER_OP_READ, .tag = 4, .fid = 5, .read = { 77, 100 } },
		{ .op = GOFER_OP_READDIR, .tag = 5, .fid = 6, .readdir = { 9, 64 } },
		{ .op = GOFER_OP_READLINK, .tag = 6, .fid = 7, .readlink.size = 10 },
		{ .op = GOFER_OP_CLUNK, .tag = 7, .fid = 8 },
		{ .op = GOFER_OP_CREATE, .tag = 8, .fid = 2,
		  .create = { .name = "new", .flags = GOFER_CF_EXCL | GOFER_CF_APPEND, .mode = 0644 } },
		{ .op = GOFER_OP_WRITE, .tag = 9, .fid = 3, .write = { 12, "data", 4 } },
		{ .op = GOFER_OP_MKDIR, .tag = 10, .fid = 2, .mkdir = { .name = "d", .mode = 0755 } },
		{ .op = GOFER_OP_SYMLINK, .tag = 11, .fid = 2,
		  .symlink = { .name = "l", .target = "../t" } },
		{ .op = GOFER_OP_LINK, .tag = 12, .fid = 5, .link = { .dir_fid = 2, .name = "hl" } },
		{ .op = GOFER_OP_UNLINK, .tag = 13, .fid = 2,
		  .unlink = { .name = "x", .flags = GOFER_UNLINK_REMOVEDIR } },
		{ .op = GOFER_OP_RENAME, .tag = 14, .fid = 2,
		  .rename = { .new_dir_fid = 3, .flags = GOFER_RENAME_EXCHANGE, .old_name = "a",
			      .new_name = "bb" } },
		{ .op = GOFER_OP_SETATTR, .tag = 15, .fid = 4,
		  .setattr = { .valid = GOFER_SETATTR_ALL, .mode = 0600, .uid = 1, .gid = 2,
			       .size = 5, .atime_sec = 7, .atime_nsec = 8,
			       .mtime_nsec = GOFER_UTIME_NOW } },
		{ .op = GOFER_OP_FSYNC, .tag = 16, .fid = 4, .fsync.flags = GOFER_FSYNC_DATASYNC },
		{ .op = GOFER_OP_ALLOCATE, .tag = 17, .fid = 4,
		  .allocate = { GOFER_FALLOC_KEEP_SIZE, 4096, 8192 } },
		{ .op = GOFER_OP_STATFS, .tag = 18, .fid = 4 },
		{ .op = GOFER_OP_READ_MEM, .tag = 19, .fid = 5,
		  .read_mem = { .off = 77, .mem_off = 8192, .count = 100 } },
	};
	struct gofer_reply p[18] = {
		{ .op = GOFER_OP_WALK | GOFER_REPLY, .tag = 1, .walk = { 9, sample_stat() } },
		{ .op = GOFER_OP_STAT | GOFER_REPLY, .tag = 2, .stat = sample_stat() },
		{ .op = GOFER_OP_OPEN | GOFER_REPLY, .tag = 3 },
		{ .op = GOFER_OP_READ | GOFER_REPLY, .tag = 4, .read = { "hello", 5 } },
		{ .op = GOFER_OP_READDIR | GOFER_REPLY, .tag = 5, .readdir = { ents, 2, NULL, 0 } },
		{ .op = GOFER_OP_READLINK | GOFER_REPLY, .tag = 6, .readlink = { "../x", 4 } },
		{ .op = GOFER_OP_CLUNK | GOFER_REPLY, .tag = 7 },
		{ .op = GOFER_OP_ERROR, .tag = 8, .error = ENOENT },
		{ .op = GOFER_OP_CREATE | GOFER_REPLY, .tag = 9, .walk = { 10, sample_stat() } },
		{ .op = GOFER_OP_MKDIR | GOFER_REPLY, .tag = 10, .walk = { 11, sample_stat() } },
		{ .op = GOFER_OP_SYMLINK | GOFER_REPLY, .tag = 11, .walk = { 12, sample_stat() } },
		{ .op = GOFER_OP_WRITE | GOFER_REPLY, .tag = 12, .write.count = 4 },
		{ .op = GOFER_OP_SETATTR | GOFER_REPLY, .tag = 13, .stat = sample_stat() },
		{ .op = GOFER_OP_STATFS | GOFER_REPLY, .tag = 14,
		  .statfs = { 0xef53, 4096, 100, 50, 40, 1000, 900, 255 } },
		{ .op = GOFER_OP_LINK | GOFER_REPLY, .tag = 15 },
		{ .op = GOFER_OP_RENAME | GOFER_REPLY, .tag = 16 },
		{ .op = GOFER_OP_ALLOCATE | GOFER_REPLY, .tag = 17 },
		{ .op = GOFER_OP_READ_MEM | GOFER_REPLY, .tag = 18, .write.count = 100 },
	};
	int n = 0, len;

	for (int i = 0; i < 19 && n < max; i++, n++) {
		len = gofer_encode_req(s[n].b, sizeof(s[n].b), &q[i]);
		cr_assert_gt(len, 0);
		s[n].n = (size_t)len;
		s[n].reply = false;
	}
	for (int i = 0; i < 18 && n < max; i++, n++) {
		len = gofer_encode_reply(s[n].b, sizeof(s[n].b), &p[i]);
		cr_assert_gt(len, 0);
		s[n].n = (size_t)len;
		s[n].reply = true;
	}
	return n;
}

static int decode(const struct sample *s, const uint8_t *b, size_t n)
{
	struct gofer_req q;
	struct gofer_reply r;

	return s->reply ? gofer_decode_reply(b, n, &r) : gofer_decode_req(b, n, &q);
}

static void set_len(uint8_t *b, uint32_t len)
{
	b[0] = (uint8_t)len;
	b[1] = (uint8_t)(len >> 8);
	b[2] = (uint8_t)(len >> 16);
	b[3] = (uint8_t)(len >> 24);
}

Test(protocol, truncated_trailing_reserved)
{
	static struct sample s[40];
	int n = corpus(s, 40);

	for (int i = 0; i < n; i++) {
		uint8_t b[sizeof(s[i].b) + 8];

		cr_assert_eq(decode(&s[i], s[i].b, s[i].n), 0, "sample %d", i);
		/* every prefix, with the header length both stale and patched to match */
		for (size_t k = 0; k < s[i].n; k++) {
			memcpy(b, s[i].b, s[i].n);
			cr_assert_neq(decode(&s[i], b, k), 0, "sample %d prefix %zu", i, k);
			if (k >= 4) {
				set_len(b, (uint32_t)k);
				cr_assert_neq(decode(&s[i], b, k), 0, "sample %d cut %zu", i, k);
			}
		}
		/* one trailing byte */
		memcpy(b, s[i].b, s[i].n);
		b[s[i].n] = 0;
		set_len(b, (uint32_t)s[i].n + 1);
		cr_assert_neq(decode(&s[i], b, s[i].n + 1), 0, "sample %d trailing", i);
		/* length field disagreeing with the packet */
		memcpy(b, s[i].b, s[i].n);
		set_len(b, (uint32_t)s[i].n + 1);
		cr_assert_neq(decode(&s[i], b, s[i].n), 0);
		/* reserved header field */
		memcpy(b, s[i].b, s[i].n);
		b[6] = 1;
		cr_assert_neq(decode(&s[i], b, s[i].n), 0, "sample %d reserved", i);
	}
}

Test(protocol, oversized_and_bad_replies)
{
	struct gofer_reply r, o;
	static struct gofer_dirent ents[GOFER_READDIR_MAX + 1];
	uint8_t body[64];
	struct gofer_cur c;
	size_t len;

	/* longer than GOFER_MSG_MAX, even if self-consistent */
	memset(buf, 0, sizeof(buf));
	set_len(buf, GOFER_MSG_MAX + 8);
	buf[4] = GOFER_OP_READ | 0; buf[5] = 0x80;
	cr_assert_eq(gofer_decode_reply(buf, GOFER_MSG_MAX + 8, &o), -EPROTO);

	/* READ reply claiming more than GOFER_IO_MAX */
	gofer_cur_init(&c, body, sizeof(body));
	gofer_put_u32(&c, GOFER_IO_MAX + 1);
	gofer_put_u32(&c, 0);
	len = raw(buf, GOFER_OP_READ | GOFER_REPLY, 1, body, c.pos);
	cr_assert_eq(gofer_decode_reply(buf, len, &o), -EPROTO);
	/* count larger than the data present */
	gofer_cur_init(&c, body, sizeof(body));
	gofer_put_u32(&c, 10);
	gofer_put_u32(&c, 0);
	gofer_put_bytes(&c, "12345", 5);
	len = raw(buf, GOFER_OP_READ | GOFER_REPLY, 1, body, c.pos);
	cr_assert_eq(gofer_decode_reply(buf, len, &o), -EPROTO);

	/* readlink target with a NUL */
	gofer_cur_init(&c, body, sizeof(body));
	gofer_put_u32(&c, 3);
	gofer_put_u32(&c, 0);
	gofer_put_bytes(&c, "a\0b", 3);
	len = raw(buf, GOFER_OP_READLINK | GOFER_REPLY, 1, body, c.pos);
	cr_assert_eq(gofer_decode_reply(buf, len, &o), -EPROTO);

	/* readdir: count says 2, one entry present; entry named ".."; bad d_type */
	gofer_cur_init(&c, body, sizeof(body));
	gofer_put_u32(&c, 2);
	gofer_put_u32(&c, 0);
	gofer_put_u64(&c, 1);
	gofer_put_u64(&c, 1);
	gofer_put_u8(&c, 8);
	gofer_put_u8(&c, 0);
	gofer_put_u16(&c, 1);
	gofer_put_bytes(&c, "a", 1);
	len = raw(buf, GOFER_OP_READDIR | GOFER_REPLY, 1, body, c.pos);
	cr_assert_eq(gofer_decode_reply(buf, len, &o), -EPROTO);
	body[0] = 1;
	len = raw(buf, GOFER_OP_READDIR | GOFER_REPLY, 1, body, c.pos);
	cr_assert_eq(gofer_decode_reply(buf, len, &o), 0);
	body[c.pos - 1] = '/';
	len = raw(buf, GOFER_OP_READDIR | GOFER_REPLY, 1, body, c.pos);
	cr_assert_eq(gofer_decode_reply(buf, len, &o), -EPROTO);
	body[c.pos - 1] = 'a';
	body[24] = 200; /* d_type */
	len = raw(buf, GOFER_OP_READDIR | GOFER_REPLY, 1, body, c.pos);
	cr_assert_eq(gofer_decode_reply(buf, len, &o), -EPROTO);

	/* error replies: errno 0 and > 4095 */
	gofer_cur_init(&c, body, sizeof(body));
	gofer_put_u32(&c, 0);
	gofer_put_u32(&c, 0);
	len = raw(buf, GOFER_OP_ERROR, 1, body, c.pos);
	cr_assert_eq(gofer_decode_reply(buf, len, &o), -EPROTO);
	body[0] = 0;
	body[1] = 0x10; /* 4096 */
	len = raw(buf, GOFER_OP_ERROR, 1, body, c.pos);
	cr_assert_eq(gofer_decode_reply(buf, len, &o), -EPROTO);

	/* stat with nsec out of range */
	r = (struct gofer_reply){ .op = GOFER_OP_STAT | GOFER_REPLY, .stat = sample_stat() };
	r.stat.mtime_nsec = 1000000000u;
	cr_assert_eq(gofer_encode_reply(buf, sizeof(buf), &r), -EINVAL);

	/* unknown reply op */
	len = raw(buf, 0x803f, 1, NULL, 0);
	cr_assert_eq(gofer_decode_reply(buf, len, &o), -EPROTO);

	/* a READDIR reply that cannot fit is refused by the encoder */
	for (uint32_t i = 0; i <= GOFER_READDIR_MAX; i++) {
		ents[i].type = 8;
		memset(ents[i].name, 'n', 200);
		ents[i].name[200] = '\0';
	}
	r = (struct gofer_reply){ .op = GOFER_OP_READDIR | GOFER_REPLY };
	r.readdir.ents = ents;
	r.readdir.count = GOFER_READDIR_MAX + 1;
	cr_assert_eq(gofer_encode_reply(buf, sizeof(buf), &r), -EINVAL);
	r.readdir.count = 1000; /* 220 KB */
	cr_assert_eq(gofer_encode_reply(buf, sizeof(buf), &r), -EMSGSIZE);
}

Test(protocol, dirent_encoder_fills_to_limit)
{
	struct gofer_dirent_enc e;
	struct gofer_reply o;
	char name[GOFER_NAME_MAX + 1];
	uint32_t n = 0;
	int len, err;

	memset(name, 'q', GOFER_NAME_MAX);
	cr_assert_eq(gofer_dirent_enc_begin(&e, buf, GOFER_MSG_MAX, 3, GOFER_READDIR_MAX), 0);
	while ((err = gofer_dirent_enc_add(&e, n, n + 1, 8, name, GOFER_NAME_MAX)) == 0)
		n++;
	cr_assert_eq(err, -ENOSPC);
	cr_assert_eq(n, (GOFER_MSG_MAX - GOFER_HDR_SIZE - 8) / (GOFER_DIRENT_HDR_SIZE + GOFER_NAME_MAX));
	cr_assert_eq(gofer_dirent_enc_add(&e, 0, 0, 8, "..", 2), -EINVAL);
	len = gofer_dirent_enc_end(&e);
	cr_assert_leq(len, (int)GOFER_MSG_MAX);
	cr_assert_eq(gofer_decode_reply(buf, (size_t)len, &o), 0);
	cr_assert_eq(o.readdir.count, n);

	/* max entries reached first */
	cr_assert_eq(gofer_dirent_enc_begin(&e, buf, GOFER_MSG_MAX, 3, 2), 0);
	cr_assert_eq(gofer_dirent_enc_add(&e, 1, 1, 8, "a", 1), 0);
	cr_assert_eq(gofer_dirent_enc_add(&e, 2, 2, 8, "b", 1), 0);
	cr_assert_eq(gofer_dirent_enc_add(&e, 3, 3, 8, "c", 1), -ENOSPC);
}

/* ---- fuzz ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* Whatever decodes must re-encode to exactly the same bytes. */
static void check_canonical(const uint8_t *b, size_t n)
{
	static struct gofer_dirent ents[GOFER_READDIR_MAX];
	struct gofer_req q;
	struct gofer_reply r, r2;
	int len;

	if (gofer_decode_req(b, n, &q) == 0) {
		len = gofer_encode_req(buf2, sizeof(buf2), &q);
		cr_assert_eq(len, (int)n);
		cr_assert_eq(memcmp(b, buf2, n), 0);
	}
	if (gofer_decode_reply(b, n, &r) == 0) {
		if (r.op == (GOFER_OP_READDIR | GOFER_REPLY)) {
			r2 = r;
			cr_assert_eq(gofer_reply_dirents(&r, ents, GOFER_READDIR_MAX),
				     (int)r.readdir.count);
			r2.readdir.ents = ents;
			r = r2;
		}
		len = gofer_encode_reply(buf2, sizeof(buf2), &r);
		cr_assert_eq(len, (int)n, "op %#x", r.op);
		cr_assert_eq(memcmp(b, buf2, n), 0);
	}
}

Test(protocol, fuzz_mutations, .timeout = 60)
{
	static struct sample s[40];
	static uint8_t m[4096];
	int ns = corpus(s, 40), decoded = 0;

	for (int iter = 0; iter < 300000; iter++) {
		const struct sample *base = &s[rnd() % (uint32_t)ns];
		size_t n = base->n;
		int muts = 1 + (int)(rnd() % 4);

		memcpy(m, base->b, n);
		for (int k = 0; k < muts; k++) {
			if (n == 0)
				break;
			switch (rnd() % 6) {
			case 0: /* flip a bit */
				m[rnd() % n] ^= (uint8_t)(1u << (rnd() % 8));
				break;
			case 1: /* random byte, biased to the header and small bodies */
				m[rnd() % (n < 40 ? n : 40)] = (uint8_t)rnd();
				break;
			case 2: /* truncate */
				n = rnd() % (n + 1);
				break;
			case 3: /* extend with random bytes */
				for (uint32_t e = rnd() % 64; e-- && n < sizeof(m);)
					m[n++] = (uint8_t)rnd();
				break;
			case 4: /* interesting 32-bit value somewhere */
				if (n >= 4) {
					static const uint32_t v[] = { 0, 1, 0xffffffffu, 0x7fffffffu,
								      GOFER_IO_MAX, GOFER_IO_MAX + 1,
								      GOFER_NAME_MAX + 1, 0x8000 };
					size_t at = rnd() % (n - 3);

					set_len(m + at, v[rnd() % 8]);
				}
				break;
			case 5:
				break;
			}
		}
		if (n >= 4 && rnd() % 2)
			set_len(m, (uint32_t)n); /* keep the header consistent half the time */
		check_canonical(m, n);
		decoded += gofer_decode_req(m, n, &(struct gofer_req){ 0 }) == 0;
	}
	cr_assert_gt(decoded, 0, "mutations should sometimes stay valid");

	/* pure noise with a consistent header */
	for (int iter = 0; iter < 100000; iter++) {
		size_t n = GOFER_HDR_SIZE + rnd() % 256;

		for (size_t i = 0; i < n; i++)
			m[i] = (uint8_t)rnd();
		set_len(m, (uint32_t)n);
		m[5] = rnd() % 2 ? 0x80 : 0; /* op: request or reply space */
		m[4] = (uint8_t)(rnd() % 2 ? 0x10 + rnd() % 8 : 0x20 + rnd() % 12);
		m[6] = m[7] = 0;
		check_canonical(m, n);
	}
	/* every length below a header, and zero */
	for (size_t n = 0; n < GOFER_HDR_SIZE; n++) {
		struct gofer_req q;
		struct gofer_reply r;

		cr_assert_eq(gofer_decode_req(m, n, &q), -EPROTO);
		cr_assert_eq(gofer_decode_reply(m, n, &r), -EPROTO);
	}
}

/* ---- the write side ---- */

Test(protocol, write_side_request_roundtrips)
{
	static uint8_t data[GOFER_IO_MAX];
	struct gofer_req r, o;
	int len;

	r = (struct gofer_req){ .op = GOFER_OP_CREATE, .tag = 1, .fid = 2 };
	strcpy(r.create.name, "file.txt");
	r.create.flags = GOFER_CF_ALL;
	r.create.mode = 07777;
	len = req_roundtrip(&r, &o);
	cr_assert_eq(len, (int)(GOFER_HDR_SIZE + 16 + 8));
	cr_assert_str_eq(o.create.name, "file.txt");
	cr_assert_eq(o.create.flags, GOFER_CF_ALL);
	cr_assert_eq(o.create.mode, 07777);

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13);
	r = (struct gofer_req){ .op = GOFER_OP_WRITE, .tag = 2, .fid = 3 };
	r.write.off = INT64_MAX;
	r.write.data = data;
	r.write.count = GOFER_IO_MAX;
	len = req_roundtrip(&r, &o);
	cr_assert_eq(len, (int)(GOFER_HDR_SIZE + 16 + GOFER_IO_MAX));
	cr_assert_eq(o.write.count, GOFER_IO_MAX);
	cr_assert_eq(o.write.off, (uint64_t)INT64_MAX);
	cr_assert_eq(memcmp(o.write.data, data, GOFER_IO_MAX), 0);
	r.write.count = 0;
	r.write.data = NULL;
	req_roundtrip(&r, &o);
	cr_assert_eq(o.write.count, 0);

	r = (struct gofer_req){ .op = GOFER_OP_MKDIR, .tag = 3, .fid = 4 };
	strcpy(r.mkdir.name, "dir");
	r.mkdir.mode = 0700;
	req_roundtrip(&r, &o);
	cr_assert_str_eq(o.mkdir.name, "dir");
	cr_assert_eq(o.mkdir.mode, 0700);

	r = (struct gofer_req){ .op = GOFER_OP_SYMLINK, .tag = 4, .fid = 5 };
	strcpy(r.symlink.name, "ln");
	memset(r.symlink.target, '/', GOFER_SYMLINK_MAX);
	r.symlink.target[GOFER_SYMLINK_MAX] = '\0';
	req_roundtrip(&r, &o);
	cr_assert_str_eq(o.symlink.name, "ln");
	cr_assert_eq(strlen(o.symlink.target), GOFER_SYMLINK_MAX);

	r = (struct gofer_req){ .op = GOFER_OP_LINK, .tag = 5, .fid = 6 };
	r.link.dir_fid = 7;
	strcpy(r.link.name, "hard");
	req_roundtrip(&r, &o);
	cr_assert_eq(o.fid, 6);
	cr_assert_eq(o.link.dir_fid, 7);
	cr_assert_str_eq(o.link.name, "hard");

	r = (struct gofer_req){ .op = GOFER_OP_UNLINK, .tag = 6, .fid = 8 };
	strcpy(r.unlink.name, "gone");
	r.unlink.flags = GOFER_UNLINK_REMOVEDIR;
	req_roundtrip(&r, &o);
	cr_assert_str_eq(o.unlink.name, "gone");
	cr_assert_eq(o.unlink.flags, GOFER_UNLINK_REMOVEDIR);

	r = (struct gofer_req){ .op = GOFER_OP_RENAME, .tag = 7, .fid = 9 };
	r.rename.new_dir_fid = 10;
	r.rename.flags = GOFER_RENAME_NOREPLACE;
	strcpy(r.rename.old_name, "old");
	memset(r.rename.new_name, 'n', GOFER_NAME_MAX);
	req_roundtrip(&r, &o);
	cr_assert_eq(o.rename.new_dir_fid, 10);
	cr_assert_eq(o.rename.flags, GOFER_RENAME_NOREPLACE);
	cr_assert_str_eq(o.rename.old_name, "old");
	cr_assert_eq(strlen(o.rename.new_name), GOFER_NAME_MAX);

	r = (struct gofer_req){ .op = GOFER_OP_SETATTR, .tag = 8, .fid = 11 };
	r.setattr = (struct gofer_setattr){ .valid = GOFER_SETATTR_ALL, .mode = 0640,
					    .uid = 0xfffffffeu, .gid = 5, .size = INT64_MAX,
					    .atime_sec = -1, .atime_nsec = 999999999,
					    .mtime_nsec = GOFER_UTIME_OMIT };
	len = req_roundtrip(&r, &o);
	cr_assert_eq(len, (int)(GOFER_HDR_SIZE + 4 + 20 + 24 + 8));
	cr_assert_eq(o.setattr.valid, GOFER_SETATTR_ALL);
	cr_assert_eq(o.setattr.uid, 0xfffffffeu);
	cr_assert_eq(o.setattr.atime_sec, -1);
	cr_assert_eq(o.setattr.mtime_nsec, GOFER_UTIME_OMIT);
	r.setattr = (struct gofer_setattr){ .valid = GOFER_SETATTR_MTIME, .mtime_sec = 5 };
	req_roundtrip(&r, &o);

	r = (struct gofer_req){ .op = GOFER_OP_FSYNC, .tag = 9, .fid = 12 };
	req_roundtrip(&r, &o);
	r = (struct gofer_req){ .op = GOFER_OP_ALLOCATE, .tag = 10, .fid = 13 };
	r.allocate.off = INT64_MAX - 1;
	r.allocate.len = 1;
	req_roundtrip(&r, &o);
	cr_assert_eq(o.allocate.off, (uint64_t)INT64_MAX - 1);
	r = (struct gofer_req){ .op = GOFER_OP_STATFS, .tag = 11, .fid = 14 };
	cr_assert_eq(req_roundtrip(&r, &o), (int)GOFER_HDR_SIZE + 4);
}

Test(protocol, mksock_roundtrip)
{
	struct gofer_req r = { .op = GOFER_OP_MKSOCK, .tag = 3, .fid = 4 }, o;
	strcpy(r.mkdir.name, "s.sock");
	r.mkdir.mode = 0755;
	req_roundtrip(&r, &o);
	cr_assert_str_eq(o.mkdir.name, "s.sock");
	cr_assert_eq(o.mkdir.mode, 0755);
	r.mkdir.mode = 0140755; /* a type in the mode: only permission bits travel */
	cr_assert_lt(gofer_encode_req(buf, sizeof(buf), &r), 0);
	strcpy(r.mkdir.name, "..");
	r.mkdir.mode = 0755;
	cr_assert_lt(gofer_encode_req(buf, sizeof(buf), &r), 0);
}

Test(protocol, write_side_reply_roundtrips)
{
	struct gofer_stat st = sample_stat();
	struct gofer_reply r, o;
	int len;

	static const uint16_t newfid[] = { GOFER_OP_CREATE, GOFER_OP_MKDIR, GOFER_OP_SYMLINK,
					   GOFER_OP_MKSOCK };
	for (int i = 0; i < 4; i++) {
		r = (struct gofer_reply){ .op = newfid[i] | GOFER_REPLY, .tag = 1 };
		r.walk.fid = 33;
		r.walk.st = st;
		len = reply_roundtrip(&r, &o);
		cr_assert_eq(len, (int)(GOFER_HDR_SIZE + 8 + GOFER_STAT_SIZE));
		cr_assert_eq(o.walk.fid, 33);
		cr_assert(stat_eq(&o.walk.st, &st));
	}
	r = (struct gofer_reply){ .op = GOFER_OP_WRITE | GOFER_REPLY, .tag = 2 };
	r.write.count = GOFER_IO_MAX;
	reply_roundtrip(&r, &o);
	cr_assert_eq(o.write.count, GOFER_IO_MAX);
	r.write.count = GOFER_IO_MAX + 1;
	cr_assert_eq(gofer_encode_reply(buf, sizeof(buf), &r), -EINVAL);

	r = (struct gofer_reply){ .op = GOFER_OP_SETATTR | GOFER_REPLY, .tag = 3, .stat = st };
	reply_roundtrip(&r, &o);
	cr_assert(stat_eq(&o.stat, &st));

	r = (struct gofer_reply){ .op = GOFER_OP_STATFS | GOFER_REPLY, .tag = 4 };
	r.statfs = (struct gofer_statfs){ 1, 2, 3, 4, 5, 6, 7, UINT64_MAX };
	len = reply_roundtrip(&r, &o);
	cr_assert_eq(len, (int)(GOFER_HDR_SIZE + GOFER_STATFS_SIZE));
	cr_assert_eq(o.statfs.type, 1);
	cr_assert_eq(o.statfs.ffree, 7);
	cr_assert_eq(o.statfs.namelen, UINT64_MAX);

	static const uint16_t empty[] = { GOFER_OP_LINK, GOFER_OP_UNLINK, GOFER_OP_RENAME,
					  GOFER_OP_FSYNC, GOFER_OP_ALLOCATE };
	for (int i = 0; i < 5; i++) {
		r = (struct gofer_reply){ .op = empty[i] | GOFER_REPLY, .tag = 5 };
		cr_assert_eq(reply_roundtrip(&r, &o), (int)GOFER_HDR_SIZE);
	}
}

/* Encodes r (which must be refused) and returns the encoder's answer. */
static int enc(const struct gofer_req *r)
{
	return gofer_encode_req(buf, sizeof(buf), r);
}

Test(protocol, write_side_bad_fields_rejected)
{
	struct gofer_req r;
	static const char *const bad[] = { "", ".", "..", "a/b", "/" };

	/* every name-carrying op refuses the bad names */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = (struct gofer_req){ .op = GOFER_OP_CREATE };
		strcpy(r.create.name, bad[i]);
		cr_assert_eq(enc(&r), -EINVAL, "create '%s'", bad[i]);
		r = (struct gofer_req){ .op = GOFER_OP_MKDIR };
		strcpy(r.mkdir.name, bad[i]);
		cr_assert_eq(enc(&r), -EINVAL);
		r = (struct gofer_req){ .op = GOFER_OP_SYMLINK, .symlink.target = "t" };
		strcpy(r.symlink.name, bad[i]);
		cr_assert_eq(enc(&r), -EINVAL);
		r = (struct gofer_req){ .op = GOFER_OP_LINK };
		strcpy(r.link.name, bad[i]);
		cr_assert_eq(enc(&r), -EINVAL);
		r = (struct gofer_req){ .op = GOFER_OP_UNLINK };
		strcpy(r.unlink.name, bad[i]);
		cr_assert_eq(enc(&r), -EINVAL);
		r = (struct gofer_req){ .op = GOFER_OP_RENAME, .rename.new_name = "ok" };
		strcpy(r.rename.old_name, bad[i]);
		cr_assert_eq(enc(&r), -EINVAL);
		r = (struct gofer_req){ .op = GOFER_OP_RENAME, .rename.old_name = "ok" };
		strcpy(r.rename.new_name, bad[i]);
		cr_assert_eq(enc(&r), -EINVAL);
	}
	r = (struct gofer_req){ .op = GOFER_OP_CREATE, .create = { .name = "f", .flags = 8 } };
	cr_assert_eq(enc(&r), -EINVAL);
	r = (struct gofer_req){ .op = GOFER_OP_CREATE, .create = { .name = "f", .mode = 010000 } };
	cr_assert_eq(enc(&r), -EINVAL);
	r = (struct gofer_req){ .op = GOFER_OP_MKDIR, .mkdir = { .name = "f", .mode = 040755 } };
	cr_assert_eq(enc(&r), -EINVAL);
	r = (struct gofer_req){ .op = GOFER_OP_WRITE, .write = { 0, "x", GOFER_IO_MAX + 1 } };
	cr_assert_eq(enc(&r), -EINVAL);
	r = (struct gofer_req){ .op = GOFER_OP_WRITE, .write = { 1ull << 63, "x", 1 } };
	cr_assert_eq(enc(&r), -EINVAL);
	r = (struct gofer_req){ .op = GOFER_OP_WRITE, .write = { 0, NULL, 1 } };
	cr_assert_eq(enc(&r), -EINVAL);
	r = (struct gofer_req){ .op = GOFER_OP_SYMLINK, .symlink = { .name = "l" } };
	cr_assert_eq(enc(&r), -EINVAL, "empty target");
	memset(r.symlink.target, 'a', sizeof(r.symlink.target)); /* unterminated */
	cr_assert_eq(enc(&r), -ENAMETOOLONG);
	r = (struct gofer_req){ .op = GOFER_OP_UNLINK, .unlink = { .name = "x", .flags = 2 } };
	cr_assert_eq(enc(&r), -EINVAL);
	r = (struct gofer_req){ .op = GOFER_OP_RENAME,
				.rename = { .flags = 3, .old_name = "a", .new_name = "b" } };
	cr_assert_eq(enc(&r), -EINVAL, "NOREPLACE and EXCHANGE");
	r.rename.flags = 4;
	cr_assert_eq(enc(&r), -EINVAL);
	r = (struct gofer_req){ .op = GOFER_OP_FSYNC, .fsync.flags = 2 };
	cr_assert_eq(enc(&r), -EINVAL);
	r = (struct gofer_req){ .op = GOFER_OP_ALLOCATE, .allocate = { 2, 0, 1 } };
	cr_assert_eq(enc(&r), -EINVAL, "PUNCH_HOLE without KEEP_SIZE");
	r = (struct gofer_req){ .op = GOFER_OP_ALLOCATE, .allocate = { 4, 0, 1 } };
	cr_assert_eq(enc(&r), -EINVAL, "unknown mode bit");
	r = (struct gofer_req){ .op = GOFER_OP_ALLOCATE, .allocate = { 3, 0, 1 } };
	cr_assert_gt(enc(&r), 0, "PUNCH_HOLE|KEEP_SIZE");
	r = (struct gofer_req){ .op = GOFER_OP_ALLOCATE, .allocate = { 0, 0, 0 } };
	cr_assert_eq(enc(&r), -EINVAL, "zero length");
	r = (struct gofer_req){ .op = GOFER_OP_ALLOCATE, .allocate = { 0, INT64_MAX, 1 } };
	cr_assert_eq(enc(&r), -EINVAL, "past INT64_MAX");

	/* SETATTR: unset fields must be zero, set ones in range */
	static const struct gofer_setattr bad_sa[] = {
		{ .valid = 0x40 },
		{ .valid = 0, .mode = 1 },
		{ .valid = 0, .uid = 1 },
		{ .valid = 0, .gid = 1 },
		{ .valid = 0, .size = 1 },
		{ .valid = 0, .atime_sec = 1 },
		{ .valid = 0, .mtime_nsec = 1 },
		{ .valid = GOFER_SETATTR_MODE, .mode = 010000 },
		{ .valid = GOFER_SETATTR_SIZE, .size = 1ull << 63 },
		{ .valid = GOFER_SETATTR_ATIME, .atime_nsec = 1000000000 },
		{ .valid = GOFER_SETATTR_MTIME, .mtime_sec = 1, .mtime_nsec = GOFER_UTIME_NOW },
		{ .valid = GOFER_SETATTR_MTIME, .mtime_sec = 1, .mtime_nsec = GOFER_UTIME_OMIT },
	};
	for (size_t i = 0; i < sizeof(bad_sa) / sizeof(bad_sa[0]); i++) {
		r = (struct gofer_req){ .op = GOFER_OP_SETATTR, .setattr = bad_sa[i] };
		cr_assert_eq(enc(&r), -EINVAL, "setattr case %zu", i);
	}
}

/* Hand-built hostile messages reach the decoder, which refuses them. */
Test(protocol, write_side_hostile_decode)
{
	struct gofer_req o;
	uint8_t body[600];
	struct gofer_cur c;
	size_t len;

	/* WRITE: count larger than the data, count above the limit, trailing byte */
	gofer_cur_init(&c, body, sizeof(body));
	gofer_put_u32(&c, 1);
	gofer_put_u32(&c, 10);
	gofer_put_u64(&c, 0);
	gofer_put_bytes(&c, "12345", 5);
	len = raw(buf, GOFER_OP_WRITE, 3, body, c.pos);
	cr_assert_eq(gofer_decode_req(buf, len, &o), -EPROTO);
	cr_assert_eq(o.tag, 3);
	body[4] = 0;
	body[5] = 0;
	body[6] = 0x01;
	body[7] = 0; /* 65536 + 0: GOFER_IO_MAX exactly, but no data */
	len = raw(buf, GOFER_OP_WRITE, 3, body, c.pos);
	cr_assert_eq(gofer_decode_req(buf, len, &o), -EPROTO);
	body[4] = 1; /* GOFER_IO_MAX + 1 */
	len = raw(buf, GOFER_OP_WRITE, 3, body, c.pos);
	cr_assert_eq(gofer_decode_req(buf, len, &o), -EINVAL);
	gofer_cur_init(&c, body, sizeof(body));
	gofer_put_u32(&c, 1);
	gofer_put_u32(&c, 4);
	gofer_put_u64(&c, 0);
	gofer_put_bytes(&c, "12345", 5);
	len = raw(buf, GOFER_OP_WRITE, 3, body, c.pos);
	cr_assert_eq(gofer_decode_req(buf, len, &o), -EPROTO, "trailing byte");
	len = raw(buf, GOFER_OP_WRITE, 3, body, c.pos - 1);
	cr_assert_eq(gofer_decode_req(buf, len, &o), 0);

	/* CREATE: reserved after the name length, bad names on the wire */
	static const struct { const char *n; size_t l; int want; } names[] = {
		{ "ok", 2, 0 }, { "..", 2, -EINVAL }, { ".", 1, -EINVAL }, { "", 0, -EINVAL },
		{ "a/b", 3, -EINVAL }, { "a\0b", 3, -EINVAL },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		gofer_cur_init(&c, body, sizeof(body));
		gofer_put_u32(&c, 1);
		gofer_put_u32(&c, 0);
		gofer_put_u32(&c, 0644);
		gofer_put_u16(&c, (uint16_t)names[i].l);
		gofer_put_u16(&c, 0);
		gofer_put_bytes(&c, names[i].n, names[i].l);
		len = raw(buf, GOFER_OP_CREATE, 4, body, c.pos);
		cr_assert_eq(gofer_decode_req(buf, len, &o), names[i].want, "'%s'", names[i].n);
	}
	body[14] = 1; /* rsv after name_len */
	len = raw(buf, GOFER_OP_CREATE, 4, body, c.pos);
	cr_assert_eq(gofer_decode_req(buf, len, &o), -EPROTO);

	/* SYMLINK: target with a NUL, name length running into the target */
	gofer_cur_init(&c, body, sizeof(body));
	gofer_put_u32(&c, 1);
	gofer_put_u16(&c, 1);
	gofer_put_u16(&c, 3);
	gofer_put_bytes(&c, "l", 1);
	gofer_put_bytes(&c, "a\0b", 3);
	len = raw(buf, GOFER_OP_SYMLINK, 5, body, c.pos);
	cr_assert_eq(gofer_decode_req(buf, len, &o), -EINVAL);
	body[4] = 4; /* name_len 4 takes "la\0b": NUL in the name */
	body[6] = 0;
	len = raw(buf, GOFER_OP_SYMLINK, 5, body, c.pos);
	cr_assert_eq(gofer_decode_req(buf, len, &o), -EINVAL);
	body[4] = 200; /* longer than the message */
	len = raw(buf, GOFER_OP_SYMLINK, 5, body, c.pos);
	cr_assert_eq(gofer_decode_req(buf, len, &o), -EPROTO);

	/* RENAME: second name "..", lengths past the end */
	gofer_cur_init(&c, body, sizeof(body));
	gofer_put_u32(&c, 1);
	gofer_put_u32(&c, 2);
	gofer_put_u32(&c, 0);
	gofer_put_u16(&c, 1);
	gofer_put_u16(&c, 2);
	gofer_put_bytes(&c, "a..", 3);
	len = raw(buf, GOFER_OP_RENAME, 6, body, c.pos);
	cr_assert_eq(gofer_decode_req(buf, len, &o), -EINVAL);
	body[14] = 9;
	len = raw(buf, GOFER_OP_RENAME, 6, body, c.pos);
	cr_assert_eq(gofer_decode_req(buf, len, &o), -EPROTO);

	/* SETATTR: reserved word set */
	gofer_cur_init(&c, body, sizeof(body));
	gofer_put_u32(&c, 1);
	gofer_put_u32(&c, GOFER_SETATTR_MODE);
	gofer_put_u32(&c, 0600);
	gofer_put_u32(&c, 0);
	gofer_put_u32(&c, 0);
	gofer_put_u32(&c, 1); /* rsv */
	gofer_put_u64(&c, 0);
	gofer_put_u64(&c, 0);
	gofer_put_u64(&c, 0);
	gofer_put_u32(&c, 0);
	gofer_put_u32(&c, 0);
	len = raw(buf, GOFER_OP_SETATTR, 7, body, c.pos);
	cr_assert_eq(gofer_decode_req(buf, len, &o), -EPROTO);
	body[20] = 0;
	len = raw(buf, GOFER_OP_SETATTR, 7, body, c.pos);
	cr_assert_eq(gofer_decode_req(buf, len, &o), 0);
	cr_assert_eq(o.setattr.mode, 0600);

	/* replies: WRITE count over the limit, STATFS short, reserved in WRITE reply */
	{
		struct gofer_reply rr;

		gofer_cur_init(&c, body, sizeof(body));
		gofer_put_u32(&c, GOFER_IO_MAX + 1);
		gofer_put_u32(&c, 0);
		len = raw(buf, GOFER_OP_WRITE | GOFER_REPLY, 1, body, c.pos);
		cr_assert_eq(gofer_decode_reply(buf, len, &rr), -EPROTO);
		body[0] = 1;
		body[1] = body[2] = 0;
		body[4] = 1;
		len = raw(buf, GOFER_OP_WRITE | GOFER_REPLY, 1, body, c.pos);
		cr_assert_eq(gofer_decode_reply(buf, len, &rr), -EPROTO);
		memset(body, 0, 64);
		len = raw(buf, GOFER_OP_STATFS | GOFER_REPLY, 1, body, 63);
		cr_assert_eq(gofer_decode_reply(buf, len, &rr), -EPROTO);
		len = raw(buf, GOFER_OP_STATFS | GOFER_REPLY, 1, body, 64);
		cr_assert_eq(gofer_decode_reply(buf, len, &rr), 0);
		len = raw(buf, GOFER_OP_LINK | GOFER_REPLY, 1, body, 1);
		cr_assert_eq(gofer_decode_reply(buf, len, &rr), -EPROTO);
	}
}
