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

	r.op = 0x0021; /* reserved for writes, not known yet */
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
		len = (int)raw(buf, 0x0021, 6, body, 16);
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
	struct gofer_req q[7] = {
		{ .op = GOFER_OP_WALK, .tag = 1, .fid = 2, .walk.name = "name" },
		{ .op = GOFER_OP_STAT, .tag = 2, .fid = 3 },
		{ .op = GOFER_OP_OPEN, .tag = 3, .fid = 4, .open.flags = GOFER_OF_DIRECTORY },
		{ .op = GOFER_OP_READ, .tag = 4, .fid = 5, .read = { 77, 100 } },
		{ .op = GOFER_OP_READDIR, .tag = 5, .fid = 6, .readdir = { 9, 64 } },
		{ .op = GOFER_OP_READLINK, .tag = 6, .fid = 7, .readlink.size = 10 },
		{ .op = GOFER_OP_CLUNK, .tag = 7, .fid = 8 },
	};
	struct gofer_reply p[8] = {
		{ .op = GOFER_OP_WALK | GOFER_REPLY, .tag = 1, .walk = { 9, sample_stat() } },
		{ .op = GOFER_OP_STAT | GOFER_REPLY, .tag = 2, .stat = sample_stat() },
		{ .op = GOFER_OP_OPEN | GOFER_REPLY, .tag = 3 },
		{ .op = GOFER_OP_READ | GOFER_REPLY, .tag = 4, .read = { "hello", 5 } },
		{ .op = GOFER_OP_READDIR | GOFER_REPLY, .tag = 5, .readdir = { ents, 2, NULL, 0 } },
		{ .op = GOFER_OP_READLINK | GOFER_REPLY, .tag = 6, .readlink = { "../x", 4 } },
		{ .op = GOFER_OP_CLUNK | GOFER_REPLY, .tag = 7 },
		{ .op = GOFER_OP_ERROR, .tag = 8, .error = ENOENT },
	};
	int n = 0, len;

	for (int i = 0; i < 7 && n < max; i++, n++) {
		len = gofer_encode_req(s[n].b, sizeof(s[n].b), &q[i]);
		cr_assert_gt(len, 0);
		s[n].n = (size_t)len;
		s[n].reply = false;
	}
	for (int i = 0; i < 8 && n < max; i++, n++) {
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
	static struct sample s[16];
	int n = corpus(s, 16);

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
	len = raw(buf, 0x8021, 1, NULL, 0);
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
	static struct sample s[16];
	static uint8_t m[4096];
	int ns = corpus(s, 16), decoded = 0;

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
		m[4] = (uint8_t)(0x10 + rnd() % 8);
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
