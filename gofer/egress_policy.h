/* The egress allowlist (`ward run --allow-net HOST:PORT`, repeatable). Pure: parsing and
 * matching only; the net gofer (gofer/net_gofer.c) applies it.
 *
 * HOST is one of
 *   a name            example.com          that name only (case-insensitive, a trailing
 *                                           dot ignored)
 *   a wildcard name   *.example.com        any name below example.com, at any depth;
 *                                           not example.com itself
 *   an IPv4 address   192.0.2.7
 *   an IPv4 CIDR      192.0.2.0/24
 *   an IPv6 address   [2001:db8::1]        (brackets required, as in URLs)
 *   an IPv6 CIDR      [2001:db8::/32]
 *   host.ward.internal                     the HOST's own loopback (127.0.0.1), and
 *                                           only through this name
 * PORT is a number 1-65535 or `*` (any port).
 *
 * A name rule allows an address only when the net gofer itself resolved that name to it
 * for the guest (its DNS answers are remembered); an IP rule allows the address as such.
 * Loopback, unspecified, multicast and broadcast addresses are never reached through an
 * IP rule (0.0.0.0/0 does not open the host's 127.0.0.1). */
#ifndef WARD_GOFER_EGRESS_POLICY_H
#define WARD_GOFER_EGRESS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EGRESS_NAME_MAX 253
#define EGRESS_HOST_INTERNAL "host.ward.internal"

enum egress_rule_kind { EGRESS_NAME, EGRESS_WILDCARD, EGRESS_CIDR };

struct egress_rule {
	enum egress_rule_kind kind;
	char name[EGRESS_NAME_MAX + 1]; /* NAME: the name; WILDCARD: the suffix after "*." */
	uint8_t addr[16];               /* CIDR: an IPv6 address (IPv4 mapped ::ffff:a.b.c.d) */
	unsigned prefix;                /* CIDR: prefix length over the 128 bits */
	uint16_t port;                  /* 0: any port */
};

/* Parses one --allow-net value. Returns 0, or -EINVAL with a reason in why. */
int egress_rule_parse(const char *s, struct egress_rule *out, char *why, size_t whylen);

/* Lowercases and checks a DNS name (letters, digits, '-', '_', dots; labels 1-63; total
 * <= 253); a trailing dot is dropped. Returns 0 or -EINVAL. */
int egress_name_normalize(const char *in, char *out, size_t outlen);

/* Whether rule r allows name (already normalized) on port (0: any port will do, as for
 * DNS: a name is resolvable when some rule names it). */
bool egress_rule_match_name(const struct egress_rule *r, const char *name, uint16_t port);
/* Whether r, an IP rule, allows addr (16 bytes, v4 mapped) on port. */
bool egress_rule_match_addr(const struct egress_rule *r, const uint8_t addr[16], uint16_t port);

/* Addresses no IP rule reaches: loopback, unspecified, multicast, broadcast, v4 0/8. */
bool egress_addr_forbidden(const uint8_t addr[16]);

/* Formats addr (v4 mapped shown as a.b.c.d) into buf (>= 46 bytes). */
const char *egress_addr_str(const uint8_t addr[16], char *buf, size_t len);

#endif
