/* The net gofer's wire codec (see net_wire.h). Pure functions, no I/O. */
#include "gofer/net_wire.h"
#include "gofer/protocol.h"

#include <errno.h>
#include <string.h>

static void put_comm(struct gofer_cur *c, const char *comm)
{
	char pad[NET_COMM_LEN] = {0};
	memcpy(pad, comm, strnlen(comm, NET_COMM_LEN));
	gofer_put_bytes(c, pad, NET_COMM_LEN);
}

static void get_comm(struct gofer_cur *c, char *comm)
{
	const uint8_t *p = gofer_get_bytes(c, NET_COMM_LEN);
	memset(comm, 0, NET_COMM_LEN + 1);
	if (!p)
		return;
	for (int i = 0; i < NET_COMM_LEN && p[i]; i++)
		comm[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
}

int net_encode(void *buf, size_t cap, const struct net_msg *m)
{
	struct gofer_cur c;
	gofer_cur_init(&c, buf, cap);
	gofer_put_u32(&c, 0);
	gofer_put_u16(&c, m->op);
	gofer_put_u16(&c, 0);
	gofer_put_u32(&c, m->tag);
	switch (m->op) {
	case NET_OP_CONNECT:
		gofer_put_bytes(&c, m->connect.addr, 16);
		gofer_put_u16(&c, m->connect.port);
		gofer_put_u16(&c, 0);
		gofer_put_u32(&c, m->connect.pid);
		put_comm(&c, m->connect.comm);
		break;
	case NET_OP_RESOLVE: {
		size_t n = strlen(m->resolve.name);
		if (n == 0 || n > 255)
			return -EINVAL;
		gofer_put_u16(&c, m->resolve.qtype);
		gofer_put_u16(&c, (uint16_t)n);
		gofer_put_u32(&c, m->resolve.pid);
		put_comm(&c, m->resolve.comm);
		gofer_put_bytes(&c, m->resolve.name, n);
		break;
	}
	case NET_OP_DENIED:
		gofer_put_bytes(&c, m->denied.addr, 16);
		gofer_put_u16(&c, m->denied.port);
		gofer_put_u8(&c, m->denied.proto);
		gofer_put_u8(&c, 0);
		gofer_put_u32(&c, m->denied.pid);
		put_comm(&c, m->denied.comm);
		gofer_put_u32(&c, m->denied.count);
		break;
	case NET_OP_CONNECT | NET_REPLY:
	case NET_OP_RESET:
		gofer_put_u32(&c, m->op == NET_OP_RESET ? m->reset.err : m->connect_rep.err);
		gofer_put_u32(&c, 0);
		break;
	case NET_OP_RESOLVE | NET_REPLY:
		if (m->resolve_rep.count > NET_RESOLVE_MAX)
			return -EINVAL;
		gofer_put_u16(&c, m->resolve_rep.rcode);
		gofer_put_u16(&c, m->resolve_rep.count);
		for (unsigned i = 0; i < m->resolve_rep.count; i++)
			gofer_put_bytes(&c, m->resolve_rep.addrs[i], 16);
		break;
	default:
		return -EINVAL;
	}
	if (c.err)
		return -EMSGSIZE;
	size_t len = c.pos;
	struct gofer_cur h;
	gofer_cur_init(&h, buf, 4);
	gofer_put_u32(&h, (uint32_t)len);
	return (int)len;
}

int net_decode(const void *buf, size_t len, struct net_msg *m)
{
	struct gofer_cur c;
	memset(m, 0, sizeof(*m));
	if (len < GOFER_HDR_SIZE || len > NET_MSG_MAX)
		return -EPROTO;
	gofer_cur_init(&c, (void *)buf, len);
	if (gofer_get_u32(&c) != len)
		return -EPROTO;
	m->op = gofer_get_u16(&c);
	if (gofer_get_u16(&c) != 0)
		return -EPROTO;
	m->tag = gofer_get_u32(&c);
	switch (m->op) {
	case NET_OP_CONNECT: {
		const uint8_t *a = gofer_get_bytes(&c, 16);
		if (a)
			memcpy(m->connect.addr, a, 16);
		m->connect.port = gofer_get_u16(&c);
		if (gofer_get_u16(&c) != 0)
			return -EPROTO;
		m->connect.pid = gofer_get_u32(&c);
		get_comm(&c, m->connect.comm);
		break;
	}
	case NET_OP_RESOLVE: {
		m->resolve.qtype = gofer_get_u16(&c);
		uint16_t n = gofer_get_u16(&c);
		m->resolve.pid = gofer_get_u32(&c);
		get_comm(&c, m->resolve.comm);
		if (n == 0 || n > 255)
			return -EPROTO;
		const uint8_t *p = gofer_get_bytes(&c, n);
		if (!p)
			return -EPROTO;
		for (unsigned i = 0; i < n; i++)
			if (p[i] <= 0x20 || p[i] >= 0x7f)
				return -EPROTO;
		memcpy(m->resolve.name, p, n);
		m->resolve.name[n] = '\0';
		break;
	}
	case NET_OP_DENIED: {
		const uint8_t *a = gofer_get_bytes(&c, 16);
		if (a)
			memcpy(m->denied.addr, a, 16);
		m->denied.port = gofer_get_u16(&c);
		m->denied.proto = gofer_get_u8(&c);
		if (gofer_get_u8(&c) != 0 || m->denied.proto != NET_PROTO_UDP)
			return -EPROTO;
		m->denied.pid = gofer_get_u32(&c);
		get_comm(&c, m->denied.comm);
		m->denied.count = gofer_get_u32(&c);
		if (m->denied.count == 0)
			return -EPROTO;
		break;
	}
	case NET_OP_CONNECT | NET_REPLY:
	case NET_OP_RESET: {
		uint32_t e = gofer_get_u32(&c);
		if (gofer_get_u32(&c) != 0)
			return -EPROTO;
		if (m->op == NET_OP_RESET)
			m->reset.err = e;
		else
			m->connect_rep.err = e;
		break;
	}
	case NET_OP_RESOLVE | NET_REPLY:
		m->resolve_rep.rcode = gofer_get_u16(&c);
		m->resolve_rep.count = gofer_get_u16(&c);
		if (m->resolve_rep.count > NET_RESOLVE_MAX)
			return -EPROTO;
		for (unsigned i = 0; i < m->resolve_rep.count; i++) {
			const uint8_t *a = gofer_get_bytes(&c, 16);
			if (a)
				memcpy(m->resolve_rep.addrs[i], a, 16);
		}
		break;
	default:
		return -EPROTO;
	}
	if (c.err || gofer_cur_left(&c) != 0)
		return -EPROTO;
	return 0;
}
