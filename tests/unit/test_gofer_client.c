/* The sentry's gofer client against a lying gofer: each test queues one crafted reply on
 * the gofer's end of a socketpair before the call (the client sends, then reads what is
 * waiting), and checks that the call fails cleanly: -EIO, the connection marked broken
 * with the reason, nothing copied past what was asked, no descriptor installed, and no
 * later call reaching the socket at all. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gofer/client.h"
#include "gofer/protocol.h"

static struct gofer_client c;
static int peer = -1; /* the fake gofer's end */
static uint8_t msg[GOFER_MSG_MAX + 4096];

static void setup(void)
{
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	cr_assert_eq(gofer_client_init(&c, sv[0]), 0);
	peer = sv[1];
}

static void teardown(void)
{
	gofer_client_close(&c);
	if (peer >= 0)
		close(peer);
	peer = -1;
}

TestSuite(gofer_client, .init = setup, .fini = teardown);

/* Queues raw bytes as the next reply. */
static void queue_raw(const void *p, size_t n)
{
	cr_assert_eq(send(peer, p, n, 0), (ssize_t)n);
}

static void queue(const struct gofer_reply *r)
{
	int n = gofer_encode_reply(msg, sizeof(msg), r);

	cr_assert_gt(n, 0, "encode: %d", n);
	queue_raw(msg, (size_t)n);
}

/* A header of op and tag with len as the length field, body of body_len zero bytes. */
static size_t raw_reply(uint32_t len, uint16_t op, uint32_t tag, size_t body_len)
{
	struct gofer_cur cur;

	memset(msg, 0, GOFER_HDR_SIZE + body_len);
	gofer_cur_init(&cur, msg, sizeof(msg));
	gofer_put_u32(&cur, len);
	gofer_put_u16(&cur, op);
	gofer_put_u16(&cur, 0);
	gofer_put_u32(&cur, tag);
	return GOFER_HDR_SIZE + body_len;
}

/* Requests the client sent that the fake gofer has not read: drains and counts them. */
static int drain_requests(void)
{
	int n = 0;

	while (recv(peer, msg, sizeof(msg), MSG_DONTWAIT) >= 0)
		n++;
	return n;
}

/* After a violation: broken for the given reason, and the next call never sends (nor
 * takes the good reply waiting for it). */
static void assert_broken(int why)
{
	struct gofer_reply r = { .op = GOFER_OP_STAT | GOFER_REPLY, .tag = c.next_tag };
	struct gofer_stat st;

	cr_assert_eq(c.failed, why, "failed = %d, want %d", c.failed, why);
	drain_requests();
	queue(&r);
	cr_assert_eq(gofer_stat(&c, GOFER_ROOT_FID, &st), -EIO);
	cr_assert_eq(drain_requests(), 0, "a broken client still talks to the gofer");
}

Test(gofer_client, good_reply_works)
{
	struct gofer_reply r = { .op = GOFER_OP_STAT | GOFER_REPLY, .tag = c.next_tag };
	struct gofer_stat st;

	r.stat.mode = 040755;
	r.stat.ino = 7;
	queue(&r);
	cr_assert_eq(gofer_stat(&c, GOFER_ROOT_FID, &st), 0);
	cr_assert_eq(st.ino, 7);
	cr_assert_eq(c.failed, 0);
}

Test(gofer_client, error_reply_is_the_errno_and_not_a_break)
{
	int n = gofer_encode_error(msg, sizeof(msg), c.next_tag, ENOENT);
	struct gofer_stat st;
	uint32_t fid;

	queue_raw(msg, (size_t)n);
	cr_assert_eq(gofer_walk(&c, GOFER_ROOT_FID, "x", &fid, &st), -ENOENT);
	cr_assert_eq(c.failed, 0);
}

Test(gofer_client, short_reply)
{
	struct gofer_stat st;

	queue_raw("\x0c\0\0", 3);
	cr_assert_eq(gofer_stat(&c, GOFER_ROOT_FID, &st), -EIO);
	assert_broken(EPROTO);
}

Test(gofer_client, empty_reply)
{
	struct gofer_stat st;

	/* a zero-length datagram reads as EOF, as the gofer's death does */
	queue_raw("", 0);
	cr_assert_eq(gofer_stat(&c, GOFER_ROOT_FID, &st), -EIO);
	assert_broken(ECONNRESET);
}

Test(gofer_client, length_field_lies)
{
	struct gofer_stat st;
	size_t n = raw_reply(0, GOFER_OP_STAT | GOFER_REPLY, c.next_tag, GOFER_STAT_SIZE);

	/* claims more than the packet, then less */
	msg[0] = (uint8_t)(n + 1);
	queue_raw(msg, n);
	cr_assert_eq(gofer_stat(&c, GOFER_ROOT_FID, &st), -EIO);
	assert_broken(EPROTO);
}

Test(gofer_client, length_field_huge)
{
	struct gofer_stat st;
	size_t n = raw_reply(0xffffffffu, GOFER_OP_STAT | GOFER_REPLY, c.next_tag,
			     GOFER_STAT_SIZE);

	queue_raw(msg, n);
	cr_assert_eq(gofer_stat(&c, GOFER_ROOT_FID, &st), -EIO);
	assert_broken(EPROTO);
}

Test(gofer_client, oversized_packet)
{
	struct gofer_stat st;
	int sz = GOFER_MSG_MAX + 2048;
	size_t n;

	cr_assert_eq(setsockopt(peer, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)), 0);
	n = raw_reply(GOFER_MSG_MAX + 1024, GOFER_OP_READ | GOFER_REPLY, c.next_tag,
		      GOFER_MSG_MAX + 1024 - GOFER_HDR_SIZE);
	queue_raw(msg, n);
	cr_assert_eq(gofer_stat(&c, GOFER_ROOT_FID, &st), -EIO);
	assert_broken(EPROTO);
}

Test(gofer_client, wrong_tag)
{
	struct gofer_reply r = { .op = GOFER_OP_STAT | GOFER_REPLY, .tag = c.next_tag + 1 };
	struct gofer_stat st;

	queue(&r);
	cr_assert_eq(gofer_stat(&c, GOFER_ROOT_FID, &st), -EIO);
	assert_broken(EPROTO);
}

Test(gofer_client, wrong_type)
{
	struct gofer_reply r = { .op = GOFER_OP_WALK | GOFER_REPLY, .tag = c.next_tag };
	struct gofer_stat st = { .ino = 99 };

	r.walk.fid = 5;
	queue(&r);
	cr_assert_eq(gofer_stat(&c, GOFER_ROOT_FID, &st), -EIO);
	cr_assert_eq(st.ino, 99, "nothing of a bad reply is copied out");
	assert_broken(EPROTO);
}

Test(gofer_client, request_op_as_reply)
{
	struct gofer_stat st;
	size_t n = raw_reply(GOFER_HDR_SIZE + 4, GOFER_OP_STAT, c.next_tag, 4);

	queue_raw(msg, n);
	cr_assert_eq(gofer_stat(&c, GOFER_ROOT_FID, &st), -EIO);
	assert_broken(EPROTO);
}

Test(gofer_client, kernel_internal_errno)
{
	struct gofer_stat st;
	struct gofer_cur cur;
	size_t n = raw_reply(GOFER_HDR_SIZE + 8, GOFER_OP_ERROR, c.next_tag, 8);

	/* ERESTARTSYS (512) would steer the sentry's restart logic */
	gofer_cur_init(&cur, msg + GOFER_HDR_SIZE, 8);
	gofer_put_u32(&cur, 512);
	queue_raw(msg, n);
	cr_assert_eq(gofer_stat(&c, GOFER_ROOT_FID, &st), -EIO);
	assert_broken(EPROTO);
}

Test(gofer_client, error_zero)
{
	struct gofer_stat st;
	size_t n = raw_reply(GOFER_HDR_SIZE + 8, GOFER_OP_ERROR, c.next_tag, 8);

	queue_raw(msg, n); /* errno 0: "failed successfully" */
	cr_assert_eq(gofer_stat(&c, GOFER_ROOT_FID, &st), -EIO);
	assert_broken(EPROTO);
}

Test(gofer_client, read_returns_more_than_asked)
{
	static uint8_t data[64];
	struct gofer_reply r = { .op = GOFER_OP_READ | GOFER_REPLY, .tag = c.next_tag };
	uint8_t buf[16 + 8];

	memset(data, 'A', sizeof(data));
	memset(buf, 'z', sizeof(buf));
	r.read.data = data;
	r.read.count = sizeof(data);
	queue(&r);
	cr_assert_eq(gofer_read(&c, 3, 0, buf, 16), -EIO);
	for (size_t i = 0; i < sizeof(buf); i++)
		cr_assert_eq(buf[i], 'z', "byte %zu overwritten", i);
	assert_broken(EPROTO);
}

/* A hostile gofer claiming it put more in the memory file than was asked. */
Test(gofer_client, read_mem_more_than_asked)
{
	struct gofer_reply r = { .op = GOFER_OP_READ_MEM | GOFER_REPLY, .tag = c.next_tag };

	r.write.count = 4097;
	queue(&r);
	cr_assert_eq(gofer_read_mem(&c, 3, 0, 8192, 4096), -EIO);
	assert_broken(EPROTO);
}

Test(gofer_client, readlink_longer_than_asked)
{
	struct gofer_reply r = { .op = GOFER_OP_READLINK | GOFER_REPLY, .tag = c.next_tag };
	char buf[8 + 8];

	memset(buf, 'z', sizeof(buf));
	r.readlink.target = "/a/much/longer/target";
	r.readlink.len = (uint32_t)strlen(r.readlink.target);
	queue(&r);
	cr_assert_eq(gofer_readlink(&c, 3, buf, 8), -EIO);
	cr_assert_eq(buf[0], 'z');
	assert_broken(EPROTO);
}

Test(gofer_client, readdir_more_entries_than_asked)
{
	struct gofer_dirent sent[3] = { { .ino = 1, .next_off = 1, .type = 8, .name = "a" },
					{ .ino = 2, .next_off = 2, .type = 8, .name = "b" },
					{ .ino = 3, .next_off = 3, .type = 8, .name = "c" } };
	struct gofer_reply r = { .op = GOFER_OP_READDIR | GOFER_REPLY, .tag = c.next_tag };
	struct gofer_dirent got[2];

	r.readdir.ents = sent;
	r.readdir.count = 3;
	queue(&r);
	cr_assert_eq(gofer_readdir(&c, 3, 0, got, 2), -EIO);
	assert_broken(EPROTO);
}

Test(gofer_client, write_claims_more_than_sent)
{
	struct gofer_reply r = { .op = GOFER_OP_WRITE | GOFER_REPLY, .tag = c.next_tag };

	r.write.count = 100;
	queue(&r);
	cr_assert_eq(gofer_write(&c, 3, 0, "abc", 3), -EIO);
	assert_broken(EPROTO);
}

Test(gofer_client, walk_to_the_root_fid)
{
	struct gofer_reply r = { .op = GOFER_OP_WALK | GOFER_REPLY, .tag = c.next_tag };
	struct gofer_stat st;
	uint32_t fid = 77;

	r.walk.fid = GOFER_ROOT_FID; /* would alias the root: a clunk would free it */
	queue(&r);
	cr_assert_eq(gofer_walk(&c, GOFER_ROOT_FID, "x", &fid, &st), -EIO);
	cr_assert_eq(fid, 77);
	assert_broken(EPROTO);
}

/* The lowest descriptor number free now: a descriptor installed by a reply would take
 * it. */
static int lowest_free_fd(void)
{
	int fd = dup(0);

	cr_assert_geq(fd, 0);
	close(fd);
	return fd;
}

Test(gofer_client, descriptors_in_a_reply)
{
	struct gofer_reply r = { .op = GOFER_OP_STAT | GOFER_REPLY, .tag = c.next_tag };
	char cbuf[CMSG_SPACE(2 * sizeof(int))] = { 0 };
	int n = gofer_encode_reply(msg, sizeof(msg), &r), fds[2], before;
	struct iovec iov = { .iov_base = msg, .iov_len = (size_t)n };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	struct gofer_stat st;
	char x;

	cr_assert_eq(pipe(fds), 0);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(2 * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	cr_assert_eq(sendmsg(peer, &mh, 0), n);
	close(fds[1]); /* the only write end left is the one in flight */
	before = lowest_free_fd();
	/* otherwise well-formed: the passed descriptors alone break it */
	cr_assert_eq(gofer_stat(&c, GOFER_ROOT_FID, &st), -EIO);
	cr_assert_eq(lowest_free_fd(), before, "a descriptor from the gofer was installed");
	/* the kernel closed what it could not deliver: the pipe's writer is gone */
	cr_assert_eq(read(fds[0], &x, 1), 0);
	close(fds[0]);
	assert_broken(EPROTO);
}

Test(gofer_client, gofer_gone)
{
	struct gofer_stat st;
	uint32_t fid;

	close(peer);
	peer = -1;
	cr_assert_eq(gofer_stat(&c, GOFER_ROOT_FID, &st), -EIO);
	cr_assert(c.failed == EPIPE || c.failed == ECONNRESET, "failed = %d", c.failed);
	cr_assert_eq(gofer_walk(&c, GOFER_ROOT_FID, "x", &fid, &st), -EIO);
	cr_assert_eq(gofer_clunk(&c, 3), -EIO);
}

Test(gofer_client, gofer_gone_after_the_request)
{
	struct gofer_stat st;

	/* the request is in the socket, the reply never comes: EOF, not a hang */
	shutdown(peer, SHUT_WR);
	cr_assert_eq(gofer_stat(&c, GOFER_ROOT_FID, &st), -EIO);
	cr_assert_eq(c.failed, ECONNRESET);
}
