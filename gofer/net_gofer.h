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

#endif
