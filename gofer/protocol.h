/* The gofer wire protocol: one codec shared by the sentry (client) and the gofer (server).
 *
 * Transport: a SOCK_SEQPACKET socketpair; one message per packet, never larger than
 * GOFER_MSG_MAX. All integers are little-endian. Every message starts with
 *
 *	u32 length    whole message, header included; must equal the packet size
 *	u16 opcode    GOFER_OP_* for requests, op | GOFER_REPLY for replies, GOFER_OP_ERROR
 *	u16 reserved  0
 *	u32 tag       chosen by the client, echoed in the reply
 *
 * followed by the op's body (sizes in bytes; "rsv" fields must be 0):
 *
 *	WALK      req: u32 dir_fid, u16 name_len, u16 rsv, name[name_len]
 *	          rep: u32 fid, u32 rsv, stat
 *	STAT      req: u32 fid                           rep: stat
 *	OPEN      req: u32 fid, u32 flags (GOFER_OF_*)   rep: (empty)
 *	READ      req: u32 fid, u32 count, u64 off       rep: u32 count, u32 rsv, data[count]
 *	READDIR   req: u32 fid, u32 max, u64 off         rep: u32 count, u32 rsv, count x dirent
 *	READLINK  req: u32 fid, u32 size                 rep: u32 len, u32 rsv, target[len]
 *	CLUNK     req: u32 fid                           rep: (empty)
 *	READ_MEM  req: u32 fid, u32 count, u64 off, u64 mem_off
 *	          rep: u32 count, u32 rsv
 *	          (the data goes into the memory file at mem_off, not into the reply: see
 *	          gofer_read_mem; count <= GOFER_MEM_IO_MAX)
 *
 *	write side (every name one component, as for WALK; "name" = u16 len, u16 rsv, bytes):
 *	CREATE    req: u32 dir_fid, u32 flags (GOFER_CF_*), u32 mode (<= 07777), name
 *	          rep: u32 fid, u32 rsv, stat         (fid opened read+write)
 *	WRITE     req: u32 fid, u32 count, u64 off, data[count]   rep: u32 count, u32 rsv
 *	MKDIR     req: u32 dir_fid, u32 mode (<= 07777), name     rep: as CREATE
 *	MKSOCK    as MKDIR: makes a socket node (a bound AF_UNIX name; the socket itself
 *	          lives in the sentry, the node is only its rendezvous name)
 *	SYMLINK   req: u32 dir_fid, u16 name_len, u16 target_len, name, target
 *	          rep: as CREATE                      (target 1..GOFER_SYMLINK_MAX, no NUL)
 *	LINK      req: u32 target_fid, u32 dir_fid, name          rep: (empty)
 *	UNLINK    req: u32 dir_fid, u32 flags (GOFER_UNLINK_*), name   rep: (empty)
 *	RENAME    req: u32 old_dir_fid, u32 new_dir_fid, u32 flags (GOFER_RENAME_*),
 *	               u16 old_len, u16 new_len, old_name, new_name    rep: (empty)
 *	SETATTR   req: u32 fid, u32 valid (GOFER_SETATTR_*), u32 mode, uid, gid, rsv,
 *	               u64 size, i64 atime_sec, mtime_sec, u32 atime_nsec, mtime_nsec
 *	          rep: stat   (fields not in valid must be 0; nsec < 1e9, or UTIME_NOW /
 *	                       UTIME_OMIT with sec 0)
 *	FSYNC     req: u32 fid, u32 flags (GOFER_FSYNC_DATASYNC)  rep: (empty)
 *	ALLOCATE  req: u32 fid, u32 mode (GOFER_FALLOC_*), u64 off, u64 len   rep: (empty)
 *	          (mode 0, KEEP_SIZE, or KEEP_SIZE|PUNCH_HOLE)
 *	STATFS    req: u32 fid
 *	          rep: u64 type, bsize, blocks, bfree, bavail, files, ffree, namelen
 *	ERROR     rep: u32 errno (1..4095), u32 rsv
 *
 *	stat   = u64 dev, ino, nlink, size, blocks, rdev; u32 mode, uid, gid, blksize;
 *	         i64 atime_sec, mtime_sec, ctime_sec; u32 atime_nsec, mtime_nsec, ctime_nsec, rsv
 *	dirent = u64 ino, u64 next_off, u8 type, u8 rsv, u16 name_len, name[name_len]
 *
 * Decoding is strict: exact lengths, no trailing bytes, reserved fields zero, names a
 * single NUL-free component, counts within limits. Strictness makes decode(encode(x))
 * and encode(decode(b)) identities, which the fuzz tests check. Both directions treat
 * the peer as hostile. */
#ifndef WARD_GOFER_PROTOCOL_H
#define WARD_GOFER_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gofer/client.h"

#define GOFER_MSG_MAX (128u * 1024u)
#define GOFER_HDR_SIZE 12u
#define GOFER_STAT_SIZE 104u
#define GOFER_DIRENT_HDR_SIZE 20u
/* Most directory entries one READDIR may ask for. */
#define GOFER_READDIR_MAX 4096u
#define GOFER_ERRNO_MAX 4095u

/* Opcodes. Numbered with gaps so later groups slot in without renumbering. */
enum {
	GOFER_OP_WALK = 0x0010,
	GOFER_OP_STAT = 0x0011,
	GOFER_OP_OPEN = 0x0012,
	GOFER_OP_READ = 0x0013,
	GOFER_OP_READDIR = 0x0014,
	GOFER_OP_READLINK = 0x0015,
	GOFER_OP_CLUNK = 0x0016,
	GOFER_OP_READ_MEM = 0x0017,
	/* 0x0020-0x003f: write side. */
	GOFER_OP_CREATE = 0x0020,
	GOFER_OP_WRITE = 0x0021,
	GOFER_OP_MKDIR = 0x0022,
	GOFER_OP_SYMLINK = 0x0023,
	GOFER_OP_LINK = 0x0024,
	GOFER_OP_UNLINK = 0x0025,
	GOFER_OP_RENAME = 0x0026,
	GOFER_OP_SETATTR = 0x0027,
	GOFER_OP_FSYNC = 0x0028,
	GOFER_OP_ALLOCATE = 0x0029,
	GOFER_OP_STATFS = 0x002a,
	GOFER_OP_MKSOCK = 0x002b,
	/* 0x002c-0x003f reserved: write side. 0x0040-0x005f reserved: egress (CONNECT,
	 * DNS). */
};
#define GOFER_REPLY 0x8000u   /* reply opcode = request opcode | GOFER_REPLY */
#define GOFER_OP_ERROR 0xffffu

/* OPEN flags on the wire: independent of any host's O_* values (arm64 differs). */
#define GOFER_OF_RDONLY 0x0u
#define GOFER_OF_WRONLY 0x1u
#define GOFER_OF_RDWR 0x2u
#define GOFER_OF_ACCMODE 0x3u
#define GOFER_OF_DIRECTORY 0x4u
#define GOFER_OF_TRUNC 0x8u   /* write access needed (writable export) */
#define GOFER_OF_APPEND 0x10u /* write access needed (writable export) */
#define GOFER_OF_ALL 0x1fu

/* CREATE flags on the wire. */
#define GOFER_CF_EXCL 0x1u
#define GOFER_CF_TRUNC 0x2u
#define GOFER_CF_APPEND 0x4u
#define GOFER_CF_ALL 0x7u
#define GOFER_UNLINK_REMOVEDIR 0x1u
#define GOFER_RENAME_NOREPLACE 0x1u
#define GOFER_RENAME_EXCHANGE 0x2u /* exclusive with NOREPLACE */
#define GOFER_FSYNC_DATASYNC 0x1u
#define GOFER_FALLOC_KEEP_SIZE 0x1u
#define GOFER_FALLOC_PUNCH_HOLE 0x2u /* only together with KEEP_SIZE */
#define GOFER_FALLOC_ALL 0x3u
/* Largest symlink target (PATH_MAX - 1). */
#define GOFER_SYMLINK_MAX 4095u
#define GOFER_MODE_MAX 07777u
/* UTIME_NOW / UTIME_OMIT on the wire (the same values as Linux's, on every arch). */
#define GOFER_UTIME_NOW 0x3fffffffu
#define GOFER_UTIME_OMIT 0x3ffffffeu
#define GOFER_STATFS_SIZE 64u

struct gofer_req {
	uint16_t op;
	uint32_t tag;
	uint32_t fid; /* every request names one fid; for WALK the directory */
	union {
		struct { char name[GOFER_NAME_MAX + 1]; } walk;
		struct { uint32_t flags; } open;
		struct { uint64_t off; uint32_t count; } read;
		struct { uint64_t off, mem_off; uint32_t count; } read_mem;
		struct { uint64_t off; uint32_t max; } readdir;
		struct { uint32_t size; } readlink;
		struct { char name[GOFER_NAME_MAX + 1]; uint32_t flags, mode; } create;
		/* Decoded data points into the message buffer. */
		struct { uint64_t off; const void *data; uint32_t count; } write;
		struct { char name[GOFER_NAME_MAX + 1]; uint32_t mode; } mkdir;
		struct {
			char name[GOFER_NAME_MAX + 1];
			char target[GOFER_SYMLINK_MAX + 1];
		} symlink;
		/* fid is the link's target (the existing file) */
		struct { uint32_t dir_fid; char name[GOFER_NAME_MAX + 1]; } link;
		struct { char name[GOFER_NAME_MAX + 1]; uint32_t flags; } unlink;
		/* fid is the old directory */
		struct {
			uint32_t new_dir_fid, flags;
			char old_name[GOFER_NAME_MAX + 1];
			char new_name[GOFER_NAME_MAX + 1];
		} rename;
		struct gofer_setattr setattr;
		struct { uint32_t flags; } fsync;
		struct { uint32_t mode; uint64_t off, len; } allocate;
	};
};

struct gofer_reply {
	uint16_t op; /* request op | GOFER_REPLY, or GOFER_OP_ERROR */
	uint32_t tag;
	union {
		/* also CREATE, MKDIR and SYMLINK (rep.walk) */
		struct { uint32_t fid; struct gofer_stat st; } walk;
		struct { uint32_t count; } write; /* also READ_MEM */
		struct gofer_statfs statfs;
		struct gofer_stat stat; /* STAT and SETATTR */
		/* Decoded data points into the message buffer. */
		struct { const void *data; uint32_t count; } read;
		struct { const char *target; uint32_t len; } readlink;
		/* Encode from ents[count]; decode gives raw/raw_len (already validated) for
		 * gofer_reply_dirents() to unpack. */
		struct {
			const struct gofer_dirent *ents;
			uint32_t count;
			const uint8_t *raw;
			size_t raw_len;
		} readdir;
		uint32_t error; /* positive errno */
	};
};

/* Bounds-checked cursor over a byte buffer. Any overrun sets err and every later
 * operation is a no-op, so a sequence of gets/puts needs one check at the end. */
struct gofer_cur {
	uint8_t *p;
	size_t len, pos;
	bool err;
};

void gofer_cur_init(struct gofer_cur *c, void *p, size_t len);
void gofer_put_u8(struct gofer_cur *c, uint8_t v);
void gofer_put_u16(struct gofer_cur *c, uint16_t v);
void gofer_put_u32(struct gofer_cur *c, uint32_t v);
void gofer_put_u64(struct gofer_cur *c, uint64_t v);
void gofer_put_bytes(struct gofer_cur *c, const void *src, size_t n);
uint8_t gofer_get_u8(struct gofer_cur *c);
uint16_t gofer_get_u16(struct gofer_cur *c);
uint32_t gofer_get_u32(struct gofer_cur *c);
uint64_t gofer_get_u64(struct gofer_cur *c);
/* Returns a pointer to the next n bytes inside the buffer, or NULL (and err) if short. */
const uint8_t *gofer_get_bytes(struct gofer_cur *c, size_t n);
size_t gofer_cur_left(const struct gofer_cur *c);

/* 0 if name[0..len) is one path component: 1..GOFER_NAME_MAX bytes, no '/', no NUL,
 * not "." or "..". Else -EINVAL, or -ENAMETOOLONG when only the length is wrong. */
int gofer_name_check(const char *name, size_t len);

/* Encoders return the message length or -errno (-EINVAL for a bad field, -ENAMETOOLONG,
 * -EMSGSIZE when it does not fit in cap). They never emit what the decoder rejects. */
int gofer_encode_req(void *buf, size_t cap, const struct gofer_req *r);
int gofer_encode_reply(void *buf, size_t cap, const struct gofer_reply *r);
int gofer_encode_error(void *buf, size_t cap, uint32_t tag, int err);

/* Decoders take one received message (len = packet size). decode_req returns 0 or
 * -errno to send back (-EPROTO malformed, -ENOSYS unknown op, -EINVAL bad field,
 * -ENAMETOOLONG); r->tag is set whenever the header was readable so the error can be
 * answered. decode_reply returns 0 or -EPROTO. */
int gofer_decode_req(const void *buf, size_t len, struct gofer_req *r);
int gofer_decode_reply(const void *buf, size_t len, struct gofer_reply *r);

/* Unpacks up to max entries of a decoded READDIR reply; returns how many. */
int gofer_reply_dirents(const struct gofer_reply *r, struct gofer_dirent *ents, uint32_t max);

/* Incremental READDIR reply, for the gofer which fills one from getdents as it goes. */
struct gofer_dirent_enc {
	struct gofer_cur cur;
	uint32_t count, max;
};
int gofer_dirent_enc_begin(struct gofer_dirent_enc *e, void *buf, size_t cap, uint32_t tag,
			   uint32_t max);
/* 0, -ENOSPC when the entry does not fit (message or max full), -EINVAL for a bad name. */
int gofer_dirent_enc_add(struct gofer_dirent_enc *e, uint64_t ino, uint64_t next_off,
			 uint8_t type, const char *name, size_t name_len);
/* Returns the message length. */
int gofer_dirent_enc_end(struct gofer_dirent_enc *e);

#endif
