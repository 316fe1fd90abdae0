/* `ward netgofer`: the broker for the guest's outbound connections and name lookups.
 * A process of its own, apart from the file gofer: it holds no file and can open none
 * (its seccomp filter has no open call), and the file gofer, in its mount namespace,
 * never gets a socket call. */
#ifndef WARD_GOFER_NET_GOFER_H
#define WARD_GOFER_NET_GOFER_H

#include "gofer/egress_policy.h"

#include <stdint.h>

/* Entry of the internal role `ward netgofer`. */
int net_gofer_main(int argc, char **argv);

/* ---- names (gofer/net_names.c) ---- */
#define NET_HOSTS_MAX 1024

struct net_names;
/* Reads the host's /etc/hosts (path) now, before confinement. */
struct net_names *net_names_load(const char *hosts_path);
/* Addresses (16 bytes each, v4 mapped) of name for qtype from the hosts file: count. */
int net_names_lookup(struct net_names *n, const char *name, int qtype, uint8_t (*out)[16], int max);
/* Remembers that name was resolved to addr for the guest (connects to addr may then
 * match name rules). */
void net_names_remember(struct net_names *n, const char *name, const uint8_t addr[16]);
/* The i-th remembered name for addr (i from 0), or NULL when there is none more. */
const char *net_names_for_addr(struct net_names *n, const uint8_t addr[16], int i);

/* ---- the DNS client (gofer/net_dns.c) ---- */
#include <sys/socket.h>
/* Nameservers of a resolv.conf (port 53); returns how many. */
int net_dns_load_servers(const char *path, struct sockaddr_storage *out, int max);
/* An RD query for name/qtype with a random id; returns its length or -errno. */
int net_dns_build_query(uint8_t *buf, size_t cap, uint16_t *id, const char *name, uint16_t qtype);
/* Parses a response to query id: -1 if it is not one (or malformed), else the number of
 * qtype addresses (v4 mapped) put in addrs, with the response code in rcode. */
int net_dns_parse_answer(const uint8_t *m, size_t len, uint16_t id, uint16_t qtype, int *rcode,
			 uint8_t (*addrs)[16], int max);

#endif
