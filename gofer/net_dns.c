/* The net gofer's DNS client: for an allowed name the host's /etc/hosts does not list,
 * an A or AAAA query over UDP to the nameservers of the host's /etc/resolv.conf (read at
 * start-up). Only names that passed the allowlist ever get here. The answers are the
 * host resolver's, but still parsed as untrusted input. */
#include "gofer/net_gofer.h"
#include "gofer/net_wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

int net_dns_load_servers(const char *path, struct sockaddr_storage *out, int max)
{
	FILE *f = fopen(path, "re");
	int n = 0;
	char line[512];
	while (f && n < max && fgets(line, sizeof(line), f)) {
		char word[32], addr[128];
		if (sscanf(line, "%31s %127s", word, addr) != 2 || strcmp(word, "nameserver") != 0)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		struct sockaddr_in *in = (struct sockaddr_in *)&out[n];
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&out[n];
		if (inet_pton(AF_INET, addr, &in->sin_addr) == 1) {
			in->sin_family = AF_INET;
			in->sin_port = htons(53);
			n++;
		} else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
			in6->sin6_family = AF_INET6;
			in6->sin6_port = htons(53);
			n++;
		}
	}
	if (f)
		fclose(f);
	return n;
}

int net_dns_build_query(uint8_t *buf, size_t cap, uint16_t *id, const char *name, uint16_t qtype)
{
	if (getrandom(id, sizeof(*id), 0) != sizeof(*id))
		return -EIO;
	size_t len = strlen(name);
	if (cap < 12 + len + 2 + 4)
		return -EMSGSIZE;
	uint8_t *p = buf;
	*p++ = (uint8_t)(*id >> 8);
	*p++ = (uint8_t)*id;
	*p++ = 0x01; /* RD */
	*p++ = 0;
	*p++ = 0;
	*p++ = 1; /* one question */
	memset(p, 0, 6);
	p += 6;
	const char *s = name;
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);
		if (l == 0 || l > 63)
			return -EINVAL;
		*p++ = (uint8_t)l;
		memcpy(p, s, l);
		p += l;
		s += l + (dot ? 1 : 0);
	}
	*p++ = 0;
	*p++ = (uint8_t)(qtype >> 8);
	*p++ = (uint8_t)qtype;
	*p++ = 0;
	*p++ = 1; /* IN */
	return (int)(p - buf);
}

/* Skips a (possibly compressed) name; returns the offset after it or -1. */
static long skip_name(const uint8_t *m, size_t len, size_t off)
{
	for (int hops = 0; hops < 128; hops++) {
		if (off >= len)
			return -1;
		uint8_t l = m[off];
		if (l == 0)
			return (long)off + 1;
		if ((l & 0xc0) == 0xc0)
			return off + 2 <= len ? (long)off + 2 : -1;
		if (l & 0xc0)
			return -1;
		off += 1 + (size_t)l;
	}
	return -1;
}

int net_dns_parse_answer(const uint8_t *m, size_t len, uint16_t id, uint16_t qtype, int *rcode,
			 uint8_t (*addrs)[16], int max)
{
	if (len < 12 || (uint16_t)(m[0] << 8 | m[1]) != id || !(m[2] & 0x80))
		return -1;
	*rcode = m[3] & 0xf;
	unsigned qd = (unsigned)(m[4] << 8 | m[5]), an = (unsigned)(m[6] << 8 | m[7]);
	long off = 12;
	for (unsigned i = 0; i < qd; i++) {
		off = skip_name(m, len, (size_t)off);
		if (off < 0 || (size_t)off + 4 > len)
			return -1;
		off += 4;
	}
	int n = 0;
	for (unsigned i = 0; i < an; i++) {
		off = skip_name(m, len, (size_t)off);
		if (off < 0 || (size_t)off + 10 > len)
			return -1;
		const uint8_t *r = m + off;
		uint16_t type = (uint16_t)(r[0] << 8 | r[1]), cls = (uint16_t)(r[2] << 8 | r[3]);
		uint16_t rdlen = (uint16_t)(r[8] << 8 | r[9]);
		off += 10;
		if ((size_t)off + rdlen > len)
			return -1;
		if (cls == 1 && type == qtype && n < max) {
			if (type == NET_QTYPE_A && rdlen == 4) {
				memset(addrs[n], 0, 16);
				addrs[n][10] = addrs[n][11] = 0xff;
				memcpy(addrs[n] + 12, m + off, 4);
				n++;
			} else if (type == NET_QTYPE_AAAA && rdlen == 16) {
				memcpy(addrs[n], m + off, 16);
				n++;
			}
		}
		off += rdlen;
	}
	return n;
}
