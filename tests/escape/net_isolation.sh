#!/usr/bin/env bash
# The sandbox's network is its own: a guest listening on a port opens no host port, a
# guest cannot reach a service on the host's 127.0.0.1, and addresses off the loopback
# are unreachable (that part inside a network namespace of its own with only lo up, so a
# regression cannot send a packet off this machine). Raw and packet sockets are refused.
# usage: net_isolation.sh WARD
set -u
ward=$1
work=$(mktemp -d /var/tmp/ward-net-esc.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "ESCAPE-TEST FAIL: $*"; exit 1; }
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

# 1. A guest listener is not a host listener.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$ward" run -- python3 -c "
import socket, time
s = socket.socket(); s.bind(('127.0.0.1', $port)); s.listen(5)
print('listening', flush=True); time.sleep(4)" >"$work/guest.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$work/guest.out" && break; sleep 0.05; done
grep -q listening "$work/guest.out" || fail "guest did not listen: $(cat "$work/guest.out")"
if command -v ss >/dev/null && ss -ltnH "sport = :$port" | grep -q .; then
	fail "the guest's port $port is open on the host"
fi
python3 -c "
import socket, sys
try:
    socket.create_connection(('127.0.0.1', $port), timeout=2)
except ConnectionRefusedError:
    sys.exit(0)
sys.exit(1)" || fail "the host reached the guest's listener on $port"

# 2. A host service on 127.0.0.1 is out of the guest's reach.
python3 -c "
import socket, time
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(5)
open('$work/host.port', 'w').write(str(s.getsockname()[1]))
s.settimeout(8)
try:
    c, _ = s.accept(); open('$work/host.hit', 'w').write('hit')
except OSError:
    pass" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/host.port" ] && break; sleep 0.05; done
hport=$(cat "$work/host.port")
out=$("$ward" run -- python3 -c "
import socket, errno
s = socket.socket()
try:
    s.connect(('127.0.0.1', $hport)); print('connected')
except OSError as e:
    print(errno.errorcode[e.errno])" 2>&1)
[ "$out" = ECONNREFUSED ] || fail "connect to the host's 127.0.0.1:$hport from the guest: $out"
[ -e "$work/host.hit" ] && fail "the host service was reached"

# 3. Off-loopback addresses, raw and packet sockets (in a namespace with only lo).
if unshare -n true 2>/dev/null; then
	out=$(unshare -n sh -c 'ip link set lo up 2>/dev/null; "$0" run -- python3 -c "
import socket, errno
def attempt(what, f):
    try:
        f(); print(what, \"allowed\")
    except OSError as e:
        print(what, errno.errorcode[e.errno])
for addr in (\"192.0.2.1\", \"169.254.169.254\", \"10.0.0.1\"):
    attempt(\"tcp \" + addr, lambda: socket.create_connection((addr, 80), timeout=2))
    attempt(\"udp \" + addr, lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b\"x\", (addr, 53)))
attempt(\"tcp6 2001:db8::1\", lambda: socket.create_connection((\"2001:db8::1\", 80), timeout=2))
attempt(\"raw\", lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
attempt(\"packet\", lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW))
print(\"still running\")"' "$ward" 2>/dev/null)
	# TCP is refused by the net gofer (no --allow-net), UDP never leaves the sandbox.
	expected="tcp 192.0.2.1 ECONNREFUSED
udp 192.0.2.1 ENETUNREACH
tcp 169.254.169.254 ECONNREFUSED
udp 169.254.169.254 ENETUNREACH
tcp 10.0.0.1 ECONNREFUSED
udp 10.0.0.1 ENETUNREACH
tcp6 2001:db8::1 ECONNREFUSED
raw EPERM
packet EPERM
still running"
	[ "$out" = "$expected" ] || fail "off-loopback attempts: $out"
else
	echo "note: unshare -n unavailable; off-loopback part skipped"
fi
wait "${pids[0]}" 2>/dev/null
echo "ESCAPE-TEST PASS"
