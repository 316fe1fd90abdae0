/* The net gofer's wire protocol, between the sentry and `ward netgofer` (a process of its
 * own, apart from the file gofer: see docs/design-notes.md, Network). Transport and header
 * as the file gofer's (gofer/protocol.h): a SOCK_SEQPACKET socketpair, little-endian,
 * u32 length, u16 op, u16 rsv, u32 tag. Unlike the file gofer's, replies come back in
 * any order, whenever they are ready: the sentry keeps serving the guest meanwhile.
 *
 *	CONNECT  req: u8 addr[16] (IPv4 mapped), u16 port, u16 rsv, u32 pid, comm[16]
 *	              + SCM_RIGHTS: exactly 2 fds made by the sentry: the read end of the
 *	              pipe it writes the guest's bytes to, the write end of the pipe it reads
 *	              the remote's bytes from
 *	         rep: u32 err (0: connected; else a positive errno for the guest), u32 rsv
 *	RESOLVE  req: u16 qtype (1 A, 28 AAAA), u16 name_len, u32 pid, comm[16], name
 *	         rep: u16 rcode (0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN), u16 count, count x addr[16]
 *	RESET    event (net gofer to sentry, tag = the CONNECT's): u32 err, u32 rsv — the
 *	         connection ended abnormally (ECONNRESET, or the egress byte limit)
 *	DENIED   event (sentry to net gofer, tag 0): u8 addr[16], u16 port, u8 proto (17:
 *	         UDP), u8 rsv, u32 pid, comm[16], u32 count — outbound attempts the sentry
 *	         refused itself (UDP never leaves the sandbox), for the audit log: count
 *	         attempts, this one the last (rate-limited floods are summed up)
 *
 * The sentry never receives a descriptor: it makes the pipes itself and passes one end
 * of each; the net gofer relays between them and the host socket. */
#ifndef WARD_GOFER_NET_WIRE_H
#define WARD_GOFER_NET_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_OP_CONNECT 0x0040
#define NET_OP_RESOLVE 0x0041
#define NET_OP_RESET 0x0042
#define NET_OP_DENIED 0x0043
#define NET_PROTO_UDP 17
#define NET_REPLY 0x8000u
#define NET_MSG_MAX 1024u
#define NET_COMM_LEN 16
#define NET_RESOLVE_MAX 16 /* addresses in one answer */
#define NET_QTYPE_A 1
#define NET_QTYPE_AAAA 28
#define NET_RCODE_NOERROR 0
#define NET_RCODE_SERVFAIL 2
#define NET_RCODE_NXDOMAIN 3

struct net_msg {
	uint16_t op; /* NET_OP_*, | NET_REPLY for replies */
	uint32_t tag;
	union {
		struct {
			uint8_t addr[16];
			uint16_t port;
			uint32_t pid;
			char comm[NET_COMM_LEN + 1];
		} connect;
		struct {
			uint16_t qtype;
			uint32_t pid;
			char comm[NET_COMM_LEN + 1];
			char name[256];
		} resolve;
		struct {
			uint8_t addr[16];
			uint16_t port;
			uint8_t proto;
			uint32_t pid;
			char comm[NET_COMM_LEN + 1];
			uint32_t count;
		} denied;
		struct { uint32_t err; } connect_rep, reset;
		struct {
			uint16_t rcode, count;
			uint8_t addrs[NET_RESOLVE_MAX][16];
		} resolve_rep;
	};
};

/* Returns the message length or -EINVAL / -EMSGSIZE. */
int net_encode(void *buf, size_t cap, const struct net_msg *m);
/* Strict decode of one packet: 0 or -EPROTO. Names are checked to be printable
 * non-empty strings without NULs; comm is NUL-padded on the wire. */
int net_decode(const void *buf, size_t len, struct net_msg *m);

#endif
