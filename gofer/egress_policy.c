/* The egress allowlist: parsing --allow-net values and matching names and addresses
 * against them (see egress_policy.h for the grammar). */
#include "gofer/egress_policy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *why, size_t whylen, const char *msg)
{
	snprintf(why, whylen, "%s", msg);
	return -EINVAL;
}

int egress_name_normalize(const char *in, char *out, size_t outlen)
{
	size_t n = strlen(in);
	if (n && in[n - 1] == '.')
		n--;
	if (n == 0 || n > EGRESS_NAME_MAX || n >= outlen)
		return -EINVAL;
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];
		if (c == '.') {
			if (label == 0)
				return -EINVAL;
			label = 0;
		} else if (isalnum((unsigned char)c) || c == '-' || c == '_') {
			if (++label > 63)
				return -EINVAL;
		} else {
			return -EINVAL;
		}
		out[i] = (char)tolower((unsigned char)c);
	}
	if (label == 0)
		return -EINVAL;
	out[n] = '\0';
	return 0;
}

static int parse_port(const char *s, uint16_t *out)
{
	if (strcmp(s, "*") == 0) {
		*out = 0;
		return 0;
	}
	if (*s < '0' || *s > '9' || strlen(s) > 5)
		return -EINVAL;
	char *end;
	long v = strtol(s, &end, 10);
	if (*end || v < 1 || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

/* "a.b.c.d" or "a.b.c.d/n" (v4), or the inside of "[...]" (v6). */
static int parse_cidr(char *host, bool v6, struct egress_rule *r)
{
	char *slash = strchr(host, '/');
	unsigned max = v6 ? 128 : 32;
	unsigned prefix = max;
	if (slash) {
		*slash = '\0';
		const char *p = slash + 1;
		if (*p < '0' || *p > '9' || strlen(p) > 3)
			return -EINVAL;
		char *end;
		long v = strtol(p, &end, 10);
		if (*end || v < 0 || v > (long)max)
			return -EINVAL;
		prefix = (unsigned)v;
	}
	memset(r->addr, 0, sizeof(r->addr));
	if (v6) {
		if (inet_pton(AF_INET6, host, r->addr) != 1)
			return -EINVAL;
		r->prefix = prefix;
	} else {
		r->addr[10] = r->addr[11] = 0xff;
		if (inet_pton(AF_INET, host, r->addr + 12) != 1)
			return -EINVAL;
		r->prefix = 96 + prefix;
	}
	/* Host bits must be zero: "10.0.0.1/8" is most likely a typo for something. */
	for (unsigned bit = r->prefix; bit < 128; bit++)
		if (r->addr[bit / 8] & (0x80u >> (bit % 8)))
			return -EINVAL;
	r->kind = EGRESS_CIDR;
	return 0;
}

static bool looks_numeric(const char *s)
{
	for (; *s; s++)
		if (!isdigit((unsigned char)*s) && *s != '.' && *s != '/')
			return false;
	return true;
}

int egress_rule_parse(const char *s, struct egress_rule *out, char *why, size_t whylen)
{
	char host[EGRESS_NAME_MAX + 64];
	memset(out, 0, sizeof(*out));
	if (strlen(s) >= sizeof(host))
		return fail(why, whylen, "too long");
	strcpy(host, s);
	char *colon;
	bool v6 = host[0] == '[';
	if (v6) {
		char *close = strchr(host, ']');
		if (!close || close[1] != ':')
			return fail(why, whylen, "want [IPV6]:PORT or [IPV6/PREFIX]:PORT");
		*close = '\0';
		colon = close + 1;
	} else {
		colon = strrchr(host, ':');
		if (!colon)
			return fail(why, whylen, "want HOST:PORT (PORT a number or *)");
		*colon = '\0';
	}
	if (parse_port(colon + 1, &out->port) < 0)
		return fail(why, whylen, "the port must be 1-65535 or *");
	if (v6) {
		if (parse_cidr(host + 1, true, out) < 0)
			return fail(why, whylen, "not an IPv6 address or CIDR (host bits must be 0)");
		return 0;
	}
	if (host[0] == '\0')
		return fail(why, whylen, "empty host");
	if (strchr(host, ':'))
		return fail(why, whylen, "IPv6 addresses go in brackets: [ADDR]:PORT");
	if (looks_numeric(host)) {
		if (parse_cidr(host, false, out) < 0)
			return fail(why, whylen, "not an IPv4 address or CIDR (host bits must be 0)");
		return 0;
	}
	const char *name = host;
	out->kind = EGRESS_NAME;
	if (strncmp(host, "*.", 2) == 0) {
		out->kind = EGRESS_WILDCARD;
		name += 2;
	}
	if (strchr(name, '*'))
		return fail(why, whylen, "a wildcard is only allowed as a leading \"*.\"");
	if (egress_name_normalize(name, out->name, sizeof(out->name)) < 0)
		return fail(why, whylen, "not a valid host name");
	if (out->kind == EGRESS_WILDCARD && !strchr(out->name, '.'))
		return fail(why, whylen, "a wildcard needs at least two labels after \"*.\" (*.example.com)");
	if (out->kind == EGRESS_WILDCARD && strcmp(out->name, "ward.internal") == 0)
		return fail(why, whylen, "name host.ward.internal itself");
	return 0;
}

static bool port_ok(const struct egress_rule *r, uint16_t port)
{
	return r->port == 0 || port == 0 || r->port == port;
}

bool egress_rule_match_name(const struct egress_rule *r, const char *name, uint16_t port)
{
	if (!port_ok(r, port))
		return false;
	if (r->kind == EGRESS_NAME)
		return strcmp(r->name, name) == 0;
	if (r->kind == EGRESS_WILDCARD) {
		size_t n = strlen(name), m = strlen(r->name);
		/* at least one label in front: "x.example.com", never "example.com" */
		return n > m + 1 && name[n - m - 1] == '.' && strcmp(name + n - m, r->name) == 0;
	}
	return false;
}

bool egress_rule_match_addr(const struct egress_rule *r, const uint8_t addr[16], uint16_t port)
{
	if (r->kind != EGRESS_CIDR || port == 0 || !port_ok(r, port))
		return false;
	if (egress_addr_forbidden(addr))
		return false;
	for (unsigned bit = 0; bit < r->prefix; bit++) {
		uint8_t m = (uint8_t)(0x80u >> (bit % 8));
		if ((addr[bit / 8] & m) != (r->addr[bit / 8] & m))
			return false;
	}
	return true;
}

bool egress_addr_forbidden(const uint8_t a[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t zero[16];
	if (memcmp(a, mapped, 12) == 0) {
		const uint8_t *v4 = a + 12;
		return v4[0] == 127 || v4[0] == 0 || v4[0] >= 224 ||
		       (v4[0] == 255 && v4[1] == 255 && v4[2] == 255 && v4[3] == 255);
	}
	if (memcmp(a, zero, 15) == 0 && a[15] <= 1) /* :: and ::1 */
		return true;
	if (memcmp(a, zero, 12) == 0) /* v4-compatible (deprecated): never */
		return true;
	return a[0] == 0xff; /* multicast */
}

const char *egress_addr_str(const uint8_t a[16], char *buf, size_t len)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (memcmp(a, mapped, 12) == 0)
		inet_ntop(AF_INET, a + 12, buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, a, buf, (socklen_t)len);
	return buf;
}
