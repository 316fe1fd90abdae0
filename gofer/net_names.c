/* Name data of the net gofer: a snapshot of the host's /etc/hosts (read before the
 * process confines itself; it can open nothing afterwards), and the memory of which
 * names it resolved to which addresses for the guest, so that a connect to an address
 * is allowed by a name rule only when the guest got that address for that name. */
#include "gofer/net_gofer.h"
#include "gofer/net_wire.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REMEMBER_MAX 4096

struct name_addr {
	char name[EGRESS_NAME_MAX + 1];
	uint8_t addr[16];
};

struct net_names {
	struct name_addr *hosts;
	int nhosts;
	struct name_addr *seen; /* a ring: the oldest is forgotten first */
	int nseen, next_seen;
};

static int parse_addr(const char *s, uint8_t out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out + 12) == 1) {
		out[10] = out[11] = 0xff;
		return 0;
	}
	return inet_pton(AF_INET6, s, out) == 1 ? 0 : -1;
}

struct net_names *net_names_load(const char *hosts_path)
{
	struct net_names *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->hosts = calloc(NET_HOSTS_MAX, sizeof(*n->hosts));
	n->seen = calloc(REMEMBER_MAX, sizeof(*n->seen));
	if (!n->hosts || !n->seen) {
		free(n->hosts);
		free(n->seen);
		free(n);
		return NULL;
	}
	FILE *f = hosts_path ? fopen(hosts_path, "re") : NULL;
	char line[1024];
	while (f && fgets(line, sizeof(line), f)) {
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *save, *tok = strtok_r(line, " \t\r\n", &save);
		uint8_t addr[16];
		if (!tok || parse_addr(tok, addr) < 0)
			continue;
		while ((tok = strtok_r(NULL, " \t\r\n", &save)) && n->nhosts < NET_HOSTS_MAX) {
			struct name_addr *e = &n->hosts[n->nhosts];
			if (egress_name_normalize(tok, e->name, sizeof(e->name)) < 0)
				continue;
			memcpy(e->addr, addr, 16);
			n->nhosts++;
		}
	}
	if (f)
		fclose(f);
	return n;
}

static bool is_v4(const uint8_t a[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return memcmp(a, mapped, 12) == 0;
}

int net_names_lookup(struct net_names *n, const char *name, int qtype, uint8_t (*out)[16], int max)
{
	int count = 0;
	for (int i = 0; i < n->nhosts && count < max; i++) {
		if (strcmp(n->hosts[i].name, name) != 0)
			continue;
		if (is_v4(n->hosts[i].addr) != (qtype == NET_QTYPE_A))
			continue;
		bool dup = false;
		for (int j = 0; j < count; j++)
			dup |= memcmp(out[j], n->hosts[i].addr, 16) == 0;
		if (!dup)
			memcpy(out[count++], n->hosts[i].addr, 16);
	}
	return count;
}

void net_names_remember(struct net_names *n, const char *name, const uint8_t addr[16])
{
	for (int i = 0; i < n->nseen; i++)
		if (memcmp(n->seen[i].addr, addr, 16) == 0 && strcmp(n->seen[i].name, name) == 0)
			return;
	struct name_addr *e = &n->seen[n->next_seen];
	snprintf(e->name, sizeof(e->name), "%s", name);
	memcpy(e->addr, addr, 16);
	n->next_seen = (n->next_seen + 1) % REMEMBER_MAX;
	if (n->nseen < REMEMBER_MAX)
		n->nseen++;
}

const char *net_names_for_addr(struct net_names *n, const uint8_t addr[16], int i)
{
	for (int k = 0; k < n->nseen; k++)
		if (memcmp(n->seen[k].addr, addr, 16) == 0 && i-- == 0)
			return n->seen[k].name;
	return NULL;
}
