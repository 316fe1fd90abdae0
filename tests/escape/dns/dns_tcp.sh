#!/usr/bin/env bash
# The sandbox's resolver over TCP (issue 5): the guest program (dns_tcp_guest.c) talks
# DNS over TCP to 10.0.2.3:53 by hand — answers the same as over UDP, pipelining, split
# and oversized messages, half-close, non-blocking sockets with epoll, refused ports,
# the connection limit, idle and stalled connections closed — then real clients do
# (glibc's resolver with RES_OPTIONS=use-vc, and dig +tcp when installed). DNS
# tunnelling over TCP must reach no resolver: the namespace's resolver is a fake one on
# 127.0.0.1:53 that records every query (UDP or TCP) and must record none, since the
# one allowed name, svc.test, is in the host's /etc/hosts (both families). Everything
# runs inside a network and mount namespace this script makes (unshare -n -m).
# usage: dns_tcp.sh WARD GUEST
set -u
ward=$(readlink -f "$1")
guest=$(readlink -f "$2")
work=$(mktemp -d /var/tmp/ward-dnstcp.XXXXXX)
chmod 755 "$work"
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "ESCAPE-TEST FAIL: $*"; exit 1; }
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network and mount namespaces)"; exit 77; }
unshare -n -m true 2>/dev/null || { echo "SKIP: no network/mount namespaces"; exit 77; }
cp "$guest" "$work/guest"

cat >"$work/hosts" <<'EOF'
127.0.0.1 localhost
10.99.0.1 svc.test other.test
2001:db8::99 svc.test
EOF
cat >"$work/resolv.conf" <<'EOF'
nameserver 127.0.0.1
EOF
cat >"$work/recorder.py" <<'EOF'
# Records every DNS query that reaches the namespace's resolver, over UDP or TCP.
import socket, sys, threading
log = sys.argv[1]
def record(what):
    with open(log, "a") as f: f.write(what + "\n")
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 53))
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("127.0.0.1", 53)); t.listen(16)
def tcp():
    while True:
        c, _ = t.accept(); record("tcp connection"); c.close()
threading.Thread(target=tcp, daemon=True).start()
open(log + ".ready", "w").close()
while True:
    data, _ = u.recvfrom(4096); record("udp query %r" % data[12:])
EOF
cat >"$work/inner.sh" <<'EOF'
set -u
work=$1; ward=$2
ip link set lo up
ip addr add 10.99.0.1/32 dev lo
mount --bind "$work/hosts" /etc/hosts
mount --bind "$work/resolv.conf" /etc/resolv.conf
python3 "$work/recorder.py" "$work/dns.log" 2>/dev/null &
for _ in $(seq 200); do [ -e "$work/dns.log.ready" ] && break; sleep 0.05; done
run() { # run [--env K=V] COMMAND...
	local env=()
	[ "$1" = --env ] && { env=(--env "$2"); shift 2; }
	"$ward" run --no-workspace --ro-bind "$work" --allow-net svc.test:80 "${env[@]}" -- "$@"
}
run "$work/guest" >"$work/guest.out" 2>"$work/guest.err"
echo "status $?" >>"$work/guest.out"
run --env RES_OPTIONS=use-vc getent ahostsv4 svc.test >"$work/getent.out" 2>&1
echo "status $?" >>"$work/getent.out"
if command -v dig >/dev/null; then
	run dig +tcp +tries=1 +time=5 +short @10.0.2.3 svc.test >"$work/dig.out" 2>&1
	run dig +tcp +tries=1 +time=5 @10.0.2.3 tunnel-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.other.test >>"$work/dig.out" 2>&1
	echo "status $?" >>"$work/dig.out"
fi
kill %1 2>/dev/null
EOF
unshare -n -m bash "$work/inner.sh" "$work" "$ward" >"$work/inner.log" 2>&1 || fail "the namespace: $(cat "$work/inner.log")"

expected="connect: 0, peer 10.0.2.3:53, local 10.0.2.15
allowed A: id=100 qr rd rcode=NOERROR qd=1 an=1 10.99.0.1, same as udp
allowed AAAA: id=101 qr rd rcode=NOERROR qd=1 an=1 2001:db8::99, same as udp
allowed mixed case: id=102 qr rcode=NOERROR qd=1 an=1 10.99.0.1, same as udp
internal A: id=103 qr rd rcode=NOERROR qd=1 an=1 10.0.2.2, same as udp
internal AAAA: id=104 qr rd rcode=NOERROR qd=1 an=0, same as udp
denied sibling: id=105 qr rd rcode=NXDOMAIN qd=1 an=0, same as udp
denied below: id=106 qr rd rcode=NXDOMAIN qd=1 an=0, same as udp
MX: id=107 qr rd rcode=NOTIMP qd=1 an=0, same as udp
class CH: id=108 qr rd rcode=NOTIMP qd=1 an=0, same as udp
opcode STATUS: id=109 qr rd rcode=NOTIMP qd=0 an=0, same as udp
no question: id=200 qr rd rcode=FORMERR qd=0 an=0, same as udp
bad label: id=201 qr rd rcode=FORMERR qd=0 an=0, same as udp
cut question: id=202 qr rd rcode=FORMERR qd=0 an=0, same as udp
after ignored: id=301 qr rd rcode=NOERROR qd=1 an=1 10.0.2.2
split one byte at a time: id=400 qr rd rcode=NOERROR qd=1 an=1 10.99.0.1
split across queries: id=401 qr rd rcode=NOERROR qd=1 an=0 / id=402 qr rd rcode=NXDOMAIN qd=1 an=0
huge message: id=500 qr rd rcode=NOERROR qd=1 an=1 10.99.0.1 / next: id=501 qr rd rcode=NOERROR qd=1 an=1 10.0.2.2
non-blocking connect: EINPROGRESS
connected: POLLOUT 0
resolver held back a guest that does not read: yes
pipelined 3000 queries: 3000 answers, in order
half-close: id=600 qr rd rcode=NOERROR qd=1 an=1 10.99.0.1 / id=601 qr rd rcode=NXDOMAIN qd=1 an=0 / EOF
half-close mid-message: EOF
port 54: ECONNREFUSED, non-blocking EINPROGRESS then ECONNREFUSED
port 80: ECONNREFUSED, non-blocking EINPROGRESS then ECONNREFUSED
ipv6 socket: connect 0, id=1100 qr rd rcode=NOERROR qd=1 an=1 10.0.2.2
udp port 54: ENETUNREACH
tunnelling: 60 of 60 NXDOMAIN
flood: 64 connections, then ECONNREFUSED
flood: the first still answers: id=800 qr rd rcode=NOERROR qd=1 an=1 10.99.0.1
flood: udp still answers: id=800 qr rd rcode=NOERROR qd=1 an=1 10.99.0.1
flood: after a close, a connect: 0
abandoned lookups, then: id=1000 qr rd rcode=NOERROR qd=1 an=1 10.99.0.1
idle: meanwhile tcp: id=900 qr rd rcode=NOERROR qd=1 an=1 10.99.0.1, udp: id=900 qr rd rcode=NOERROR qd=1 an=1 10.99.0.1
idle: quiet one closed, slow one closed
idle: send after close 10, then EPIPE
done
status 0"
[ "$(cat "$work/guest.out")" = "$expected" ] ||
	fail "guest: got:
$(diff <(echo "$expected") "$work/guest.out")
stderr: $(head -c 2000 "$work/guest.err")"

# glibc's resolver over TCP only (use-vc): svc.test is not in the sandbox's /etc/hosts.
grep -q '^10\.99\.0\.1 *STREAM svc\.test' "$work/getent.out" && grep -qx "status 0" "$work/getent.out" ||
	fail "getent with use-vc: $(cat "$work/getent.out")"
if [ -e "$work/dig.out" ]; then
	head -1 "$work/dig.out" | grep -qx "10.99.0.1" || fail "dig +tcp svc.test: $(cat "$work/dig.out")"
	grep -q "status: NXDOMAIN" "$work/dig.out" && grep -q "(TCP)" "$work/dig.out" ||
		fail "dig +tcp of a denied name: $(cat "$work/dig.out")"
else
	echo "note: dig not installed, its check skipped"
fi

# Nothing reached a real resolver: not the tunnelling, not even the allowed name.
[ -s "$work/dns.log" ] && fail "a DNS query left the sandbox: $(head -c 2000 "$work/dns.log")"
echo "ESCAPE-TEST PASS"
