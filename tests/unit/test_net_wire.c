/* The net gofer's wire codec and its DNS client's parser: round trips, and strictness
 * against truncated, padded or lying messages (both sides treat the other as hostile). */
#include <criterion/criterion.h>

#include <errno.h>
#include <string.h>

#include "gofer/net_gofer.h"
#include "gofer/net_wire.h"

static uint8_t buf[NET_MSG_MAX + 64];

static int roundtrip(const struct net_msg *m, struct net_msg *out)
{
	int len = net_encode(buf, sizeof(buf), m);
	cr_assert_gt(len, 0, "encode %#x: %d", m->op, len);
	cr_assert_eq(net_decode(buf, (size_t)len, out), 0);
	/* every shorter packet, and one with a byte more, is refused */
	for (int n = 0; n < len; n++) {
		struct net_msg junk;
		uint8_t copy[NET_MSG_MAX];
		memcpy(copy, buf, (size_t)n);
		if (n >= 4) { /* with the length field telling the truth, too */
			copy[0] = (uint8_t)n;
			copy[1] = (uint8_t)(n >> 8);
		}
		cr_assert_eq(net_decode(copy, (size_t)n, &junk), -EPROTO, "op %#x truncated to %d", m->op, n);
	}
	struct net_msg junk;
	buf[len] = 0;
	cr_assert_eq(net_decode(buf, (size_t)len + 1, &junk), -EPROTO);
	return len;
}

Test(net_wire, roundtrips)
{
	struct net_msg m = {.op = NET_OP_CONNECT, .tag = 9}, o;
	memset(m.connect.addr, 0x22, 16);
	m.connect.port = 443;
	m.connect.pid = 77;
	strcpy(m.connect.comm, "python3");
	roundtrip(&m, &o);
	cr_assert_eq(o.tag, 9);
	cr_assert_eq(o.connect.port, 443);
	cr_assert_eq(o.connect.pid, 77);
	cr_assert_str_eq(o.connect.comm, "python3");
	cr_assert_eq(memcmp(o.connect.addr, m.connect.addr, 16), 0);

	struct net_msg r = {.op = NET_OP_RESOLVE, .tag = 3};
	r.resolve.qtype = NET_QTYPE_AAAA;
	strcpy(r.resolve.name, "pypi.org");
	strcpy(r.resolve.comm, "0123456789abcdef"); /* a full 16-byte comm */
	roundtrip(&r, &o);
	cr_assert_str_eq(o.resolve.name, "pypi.org");
	cr_assert_str_eq(o.resolve.comm, "0123456789abcdef");

	struct net_msg a = {.op = NET_OP_RESOLVE | NET_REPLY, .tag = 3};
	a.resolve_rep.count = 2;
	memset(a.resolve_rep.addrs[1], 7, 16);
	roundtrip(&a, &o);
	cr_assert_eq(o.resolve_rep.count, 2);
	cr_assert_eq(o.resolve_rep.addrs[1][15], 7);

	struct net_msg c = {.op = NET_OP_CONNECT | NET_REPLY, .tag = 5};
	c.connect_rep.err = ECONNREFUSED;
	roundtrip(&c, &o);
	cr_assert_eq(o.connect_rep.err, ECONNREFUSED);
	struct net_msg x = {.op = NET_OP_RESET, .tag = 5};
	x.reset.err = ECONNRESET;
	roundtrip(&x, &o);
	cr_assert_eq(o.reset.err, ECONNRESET);

	struct net_msg d = {.op = NET_OP_DENIED};
	memset(d.denied.addr, 0x33, 16);
	d.denied.port = 53;
	d.denied.proto = NET_PROTO_UDP;
	d.denied.pid = 12;
	d.denied.count = 990;
	strcpy(d.denied.comm, "flood");
	roundtrip(&d, &o);
	cr_assert_eq(o.denied.port, 53);
	cr_assert_eq(o.denied.pid, 12);
	cr_assert_eq(o.denied.count, 990);
	cr_assert_str_eq(o.denied.comm, "flood");
	cr_assert_eq(memcmp(o.denied.addr, d.denied.addr, 16), 0);
}

Test(net_wire, hostile)
{
	struct net_msg m = {.op = NET_OP_RESOLVE, .tag = 1}, o;
	strcpy(m.resolve.name, "a.b");
	int len = net_encode(buf, sizeof(buf), &m);
	buf[len - 2] = ' '; /* a space in the name */
	cr_assert_eq(net_decode(buf, (size_t)len, &o), -EPROTO);
	buf[len - 2] = 0; /* a NUL in it */
	cr_assert_eq(net_decode(buf, (size_t)len, &o), -EPROTO);

	struct net_msg a = {.op = NET_OP_RESOLVE | NET_REPLY, .tag = 1};
	a.resolve_rep.count = 1;
	len = net_encode(buf, sizeof(buf), &a);
	buf[14] = NET_RESOLVE_MAX + 1; /* count beyond the limit */
	cr_assert_eq(net_decode(buf, (size_t)len, &o), -EPROTO);

	struct net_msg c = {.op = NET_OP_CONNECT | NET_REPLY, .tag = 1};
	len = net_encode(buf, sizeof(buf), &c);
	buf[len - 1] = 1; /* reserved field */
	cr_assert_eq(net_decode(buf, (size_t)len, &o), -EPROTO);
	buf[len - 1] = 0;
	buf[6] = 1; /* header's reserved field */
	cr_assert_eq(net_decode(buf, (size_t)len, &o), -EPROTO);
	buf[6] = 0;
	buf[4] = 0x77; /* unknown op */
	cr_assert_eq(net_decode(buf, (size_t)len, &o), -EPROTO);
	a.resolve_rep.count = NET_RESOLVE_MAX + 1;
	cr_assert_lt(net_encode(buf, sizeof(buf), &a), 0);

	struct net_msg d = {.op = NET_OP_DENIED, .denied = {.proto = NET_PROTO_UDP, .count = 1}};
	len = net_encode(buf, sizeof(buf), &d);
	cr_assert_eq(net_decode(buf, (size_t)len, &o), 0);
	buf[12 + 18] = 6; /* a protocol other than UDP */
	cr_assert_eq(net_decode(buf, (size_t)len, &o), -EPROTO);
	buf[12 + 18] = NET_PROTO_UDP;
	memset(buf + len - 4, 0, 4); /* a report of no attempt */
	cr_assert_eq(net_decode(buf, (size_t)len, &o), -EPROTO);
}

Test(net_dns, query_and_answer)
{
	uint8_t q[512], addrs[4][16];
	uint16_t id;
	int len = net_dns_build_query(q, sizeof(q), &id, "dns.test", NET_QTYPE_A);
	cr_assert_eq(len, 12 + 10 + 4);
	cr_assert_eq(memcmp(q + 12, "\3dns\4test\0\0\1\0\1", 14), 0);
	/* the answer: the question, a CNAME, then an A record named by a pointer */
	uint8_t r[512];
	memcpy(r, q, (size_t)len);
	r[2] = 0x81;
	r[3] = 0x80;
	r[7] = 2;
	size_t o = (size_t)len;
	static const uint8_t cname[] = {0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0xc0, 12};
	static const uint8_t arec[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 99, 0, 1};
	memcpy(r + o, cname, sizeof(cname));
	o += sizeof(cname);
	memcpy(r + o, arec, sizeof(arec));
	o += sizeof(arec);
	int rcode = -1;
	cr_assert_eq(net_dns_parse_answer(r, o, id, NET_QTYPE_A, &rcode, addrs, 4), 1);
	cr_assert_eq(rcode, 0);
	cr_assert_eq(addrs[0][12], 10);
	cr_assert_eq(addrs[0][15], 1);
	/* another id, a query instead of an answer, every truncation: not an answer */
	cr_assert_eq(net_dns_parse_answer(r, o, (uint16_t)(id + 1), NET_QTYPE_A, &rcode, addrs, 4), -1);
	for (size_t n = 0; n < o; n++)
		cr_assert_eq(net_dns_parse_answer(r, n, id, NET_QTYPE_A, &rcode, addrs, 4), -1, "at %zu", n);
	r[2] &= 0x7f;
	cr_assert_eq(net_dns_parse_answer(r, o, id, NET_QTYPE_A, &rcode, addrs, 4), -1);
	r[2] |= 0x80;
	/* a label running past the end */
	r[12] = 63;
	cr_assert_eq(net_dns_parse_answer(r, o, id, NET_QTYPE_A, &rcode, addrs, 4), -1);
	/* names that are not names */
	cr_assert_lt(net_dns_build_query(q, sizeof(q), &id, "a..b", NET_QTYPE_A), 0);
}
