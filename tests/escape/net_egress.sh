#!/usr/bin/env bash
# Outbound connections through the net gofer's allowlist, the sandbox's resolver, the
# audit log and the egress limits (issue 5). Everything runs inside a network namespace
# this script makes (unshare -n, only lo up, plus 10.99.0.1 on lo to stand for an
# outside server), with its own /etc/hosts bind-mounted (unshare -m), so nothing can
# leave this machine whatever ward does.
# usage: net_egress.sh WARD
set -u
ward=$(readlink -f "$1")
work=$(mktemp -d /var/tmp/ward-egress.XXXXXX)
chmod 755 "$work"
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "ESCAPE-TEST FAIL: $*"; exit 1; }
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network and mount namespaces)"; exit 77; }
unshare -n -m true 2>/dev/null || { echo "SKIP: no network/mount namespaces"; exit 77; }

# 1. A bad --allow-net value is refused before anything starts, with the reason.
for bad in example.com 'example.com:0' '*example.com:443' '10.0.0.1/8:80' '2001:db8::1:443'; do
	out=$("$ward" run --allow-net "$bad" -- true 2>&1)
	st=$?
	[ $st = 125 ] || fail "--allow-net $bad: status $st"
	echo "$out" | grep -qF -- "--allow-net $bad: " || fail "--allow-net $bad: no clear error: $out"
done

cat >"$work/hosts" <<'EOF'
127.0.0.1 localhost
10.99.0.1 svc.test other.test
EOF
# The namespace's resolver: a fake DNS server on its 127.0.0.1:53 that records every
# query it gets. ward must never send it one for a name off the allowlist.
cat >"$work/resolv.conf" <<'EOF'
nameserver 127.0.0.1
EOF
cat >"$work/fake_dns.py" <<'EOF'
# Logs the name of every query; answers dns.test A with 10.99.0.1, NXDOMAIN otherwise.
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
open(sys.argv[1] + ".ready", "w").close()
while True:
    data, addr = s.recvfrom(4096)
    off, labels = 12, []
    while data[off]:
        labels.append(data[off + 1:off + 1 + data[off]].decode()); off += 1 + data[off]
    qtype = struct.unpack(">H", data[off + 1:off + 3])[0]
    name = ".".join(labels)
    with open(sys.argv[1], "a") as f:
        f.write("%s %d\n" % (name, qtype))
    question = data[12:off + 5]
    if name == "dns.test":
        an = [b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton("10.99.0.1")] if qtype == 1 else []
        hdr = struct.pack(">HHHHHH", struct.unpack(">H", data[:2])[0], 0x8180, 1, len(an), 0, 0)
        s.sendto(hdr + question + b"".join(an), addr)
    else:
        hdr = struct.pack(">HHHHHH", struct.unpack(">H", data[:2])[0], 0x8183, 1, 0, 0, 0)
        s.sendto(hdr + question, addr)
EOF
cat >"$work/server.py" <<'EOF'
# An HTTP server on ADDR:PORT counting its requests, and a sink on PORT+1 counting bytes.
import http.server, socket, sys, threading
addr, port, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(log, "a") as f: f.write("GET\n")
        self.send_response(200); self.end_headers(); self.wfile.write(b"hello from the host\n")
    def log_message(self, *a): pass
def sink():
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port + 1)); s.listen(5)
    while True:
        c, _ = s.accept(); n = 0
        while True:
            try: d = c.recv(65536)
            except OSError: break
            if not d: break
            n += len(d)
        with open(log + ".sink", "a") as f: f.write("%d\n" % n)
        c.close()
threading.Thread(target=sink, daemon=True).start()
srv = http.server.HTTPServer((addr, port), H)
open(log + ".ready", "w").close()
srv.serve_forever()
EOF
cat >"$work/guest.py" <<'EOF'
import errno, socket, sys, urllib.request
def attempt(what, f):
    try:
        r = f(); print(what, "ok" if r is None else r)
    except socket.gaierror as e:
        print(what, "gaierror", e.errno == socket.EAI_NONAME)
    except OSError as e:
        print(what, errno.errorcode.get(e.errno, e))
    except Exception as e:
        r = getattr(e, "reason", e)
        print(what, errno.errorcode.get(getattr(r, "errno", None), repr(r)))
def get(url):
    return lambda: urllib.request.urlopen(url, timeout=5).read().decode().strip()
def tcp(host, port):
    def f():
        s = socket.create_connection((host, port), timeout=5); s.close()
    return f
def send(host, port, n):
    def f():
        s = socket.create_connection((host, port), timeout=5)
        sent = 0
        try:
            while sent < n:
                sent += s.send(b"x" * 65536)
            s.shutdown(socket.SHUT_WR)
            s.recv(1)
        finally:
            s.close()
    return f
def udp_flood(host, port, n):
    # n datagrams, each refused on its own; the errors must all agree.
    def f():
        errs = set()
        for _ in range(n):
            try:
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", (host, port))
                errs.add(None)
            except OSError as e:
                errs.add(e.errno)
        if len(errs) != 1 or None in errs:
            return "mixed results %r" % errs
        raise OSError(errs.pop(), "")
    return f
exec(sys.argv[1])
print("still running")
EOF

# Runs inside the namespace: the servers, then the guest checks given as python.
cat >"$work/inner.sh" <<'EOF'
set -u
work=$1; ward=$2; shift 2
ip link set lo up
ip addr add 10.99.0.1/32 dev lo
mount --bind "$work/hosts" /etc/hosts
mount --bind "$work/resolv.conf" /etc/resolv.conf
python3 "$work/fake_dns.py" "$work/dns.log" 2>/dev/null &
python3 "$work/server.py" 127.0.0.1 18520 "$work/lo.log" 2>/dev/null &
python3 "$work/server.py" 10.99.0.1 18530 "$work/svc.log" 2>/dev/null &
for f in dns.log lo.log svc.log; do
	for _ in $(seq 200); do [ -e "$work/$f.ready" ] && break; sleep 0.05; done
done
"$ward" run --no-workspace --ro-bind "$work" "$@" -- python3 "$work/guest.py" "$GUEST"
echo "status $?"
kill %1 %2 %3 2>/dev/null
EOF

run() { # run NAME GUEST-PYTHON WARD-OPTIONS...
	local name=$1
	rm -f "$work"/*.log "$work"/*.sink "$work"/*.ready
	GUEST=$2 unshare -n -m bash "$work/inner.sh" "$work" "$ward" "${@:3}" >"$work/$name.out" 2>"$work/$name.err"
}
expect() { # expect NAME EXPECTED-STDOUT
	[ "$(cat "$work/$1.out")" = "$2" ] || fail "$1: got:
$(cat "$work/$1.out")
stderr: $(cat "$work/$1.err")
expected:
$2"
}

# 2. Nothing allowed: names do not resolve (NXDOMAIN, and no DNS query leaves), off-box
# addresses are refused, UDP goes nowhere, raw sockets are refused, and every attempt
# is in the audit log.
run deny 'attempt("name example.com", tcp("example.com", 443))
attempt("name svc.test", tcp("svc.test", 18530))
attempt("tcp 10.99.0.1", tcp("10.99.0.1", 18530))
attempt("tcp 192.0.2.1", tcp("192.0.2.1", 443))
attempt("tcp 169.254.169.254", tcp("169.254.169.254", 80))
attempt("tcp6 2001:db8::1", tcp("2001:db8::1", 443))
attempt("host lo", tcp("127.0.0.1", 18520))
attempt("host internal", tcp("host.ward.internal", 18520))
attempt("udp 192.0.2.1", udp_flood("192.0.2.1", 53, 1000))
attempt("raw", lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))' \
	--audit "$work/deny.audit"
expect deny "name example.com gaierror True
name svc.test gaierror True
tcp 10.99.0.1 ECONNREFUSED
tcp 192.0.2.1 ECONNREFUSED
tcp 169.254.169.254 ECONNREFUSED
tcp6 2001:db8::1 ECONNREFUSED
host lo ECONNREFUSED
host internal ECONNREFUSED
udp 192.0.2.1 ENETUNREACH
raw EPERM
still running
status 0"
[ -s "$work/lo.log" ] && fail "the host's 127.0.0.1 server was reached without an allow rule"
[ -s "$work/svc.log" ] && fail "the 10.99.0.1 server was reached without an allow rule"
for d in '"dest":"example.com A"' '"dest":"svc.test AAAA"' '"dest":"10.99.0.1:18530"' \
	'"dest":"192.0.2.1:443"' '"dest":"169.254.169.254:80"' '"dest":"[2001:db8::1]:443"' \
	'"dest":"host.ward.internal:18520"'; do
	grep -F "$d" "$work/deny.audit" | grep -q '"decision":"deny"' || fail "no denial of $d in the audit log: $(cat "$work/deny.audit")"
done
grep -q '"reason":"not in allowlist"' "$work/deny.audit" || fail "audit lines give no reason"
# The UDP flood: every one of the 1000 packets is accounted for, in a few lines (the
# sentry sums a flood up rather than writing 1000 lines).
udp=$(python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if "\"event\":\"udp\"" in l]
ok = all(l["dest"] == "192.0.2.1:53" and l["decision"] == "deny" for l in lines)
print(len(lines) <= 20 and ok, sum(l.get("attempts", 1) for l in lines))' "$work/deny.audit")
[ "$udp" = "True 1000" ] || fail "UDP flood in the audit log: $udp (want True 1000): $(grep udp "$work/deny.audit")"
grep -q '"program":"python3"' "$work/deny.audit" || fail "audit lines name no program"

# 3. Without --audit, denials are told on stderr.
run stderr 'attempt("tcp 192.0.2.1", tcp("192.0.2.1", 443))'
expect stderr "tcp 192.0.2.1 ECONNREFUSED
still running
status 0"
grep -q "connect 192.0.2.1:443 denied (not in allowlist)" "$work/stderr.err" || fail "no denial on stderr: $(cat "$work/stderr.err")"

# 4. host.ward.internal reaches the host's 127.0.0.1 on the allowed port only; an IP
# rule does not open it; a CIDR rule opens only what it covers.
run internal 'attempt("allowed", get("http://host.ward.internal:18520/"))
attempt("other port", tcp("host.ward.internal", 18521))
attempt("sandbox lo", tcp("127.0.0.1", 18520))
attempt("by address", get("http://10.0.2.2:18520/"))' \
	--allow-net host.ward.internal:18520 --allow-net '0.0.0.0/0:18521'
expect internal "allowed hello from the host
other port ECONNREFUSED
sandbox lo ECONNREFUSED
by address hello from the host
still running
status 0"
run cidr 'attempt("in", get("http://10.99.0.1:18530/"))
attempt("out", tcp("10.98.0.1", 18530))
attempt("port", tcp("10.99.0.1", 18531))
attempt("host internal", tcp("10.0.2.2", 18520))' --allow-net '10.99.0.0/24:18530'
expect cidr "in hello from the host
out ECONNREFUSED
port ECONNREFUSED
host internal ECONNREFUSED
still running
status 0"

# 5. Names: an allowed name resolves (from the host's /etc/hosts) and connects; its
# address is allowed only on the name's port, and only after the guest resolved it;
# a sibling name is NXDOMAIN; wildcards match below the name only.
run names 'attempt("before", tcp("10.99.0.1", 18530))
attempt("name", get("http://svc.test:18530/"))
attempt("after, same port", get("http://10.99.0.1:18530/"))
attempt("after, other port", tcp("10.99.0.1", 18531))
attempt("sibling", tcp("other.test", 18530))' --allow-net svc.test:18530
expect names "before ECONNREFUSED
name hello from the host
after, same port hello from the host
after, other port ECONNREFUSED
sibling gaierror True
still running
status 0"
run wildcard 'attempt("sub", tcp("svc.test", 18530))' --allow-net '*.svc.test:*'
expect wildcard "sub gaierror True
still running
status 0"

# 6. An allowed name the hosts file does not list is asked of the host's resolver, and
# only that name is.
run dns 'attempt("dns", get("http://dns.test:18530/"))
attempt("denied", tcp("nope.test", 18530))' --allow-net dns.test:18530
expect dns "dns hello from the host
denied gaierror True
still running
status 0"
[ "$(sort -u "$work/dns.log" | tr '\n' ' ')" = "dns.test 1 dns.test 28 " ] ||
	fail "the host resolver got other queries than dns.test's: $(cat "$work/dns.log")"

# 7. DNS tunnelling: queries for long random names under a name that is not allowed
# (a sibling of an allowed one) get NXDOMAIN from the sandbox's resolver and never
# reach a real resolver (the namespace's fake one records nothing).
run tunnel 'import random, string
names = [".".join("".join(random.choice(string.ascii_lowercase) for _ in range(50)) for _ in range(3)) + ".other.test" for _ in range(20)]
res = []
for n in names:
    try:
        socket.getaddrinfo(n, 80); res.append("resolved")
    except socket.gaierror as e:
        res.append("nx" if e.errno == socket.EAI_NONAME else str(e))
print("tunnel", set(res))' --allow-net svc.test:18530 --allow-net dns.test:80 --audit "$work/tunnel.audit"
expect tunnel "tunnel {'nx'}
still running
status 0"
[ -s "$work/dns.log" ] && fail "a DNS query left the sandbox: $(cat "$work/dns.log")"
[ "$(grep -c '"event":"dns".*other.test.*"decision":"deny"' "$work/tunnel.audit")" -ge 20 ] ||
	fail "the tunnelling queries are not all in the audit log"

# 8. --max-egress-bytes: the connection that crosses it is reset, the bytes beyond it
# never leave, later connections are refused, and the audit log says why.
run limit 'attempt("big", send("host.ward.internal", 18521, 1 << 20))
attempt("next", tcp("host.ward.internal", 18521))' \
	--allow-net 'host.ward.internal:*' --max-egress-bytes 64K --audit "$work/limit.audit"
out=$(head -1 "$work/limit.out")
case "$out" in "big ECONNRESET" | "big EPIPE") ;; *) fail "limit: $(cat "$work/limit.out") $(cat "$work/limit.err")" ;; esac
sed -n 2p "$work/limit.out" | grep -qx "next ECONNREFUSED" || fail "limit: a later connect was not refused: $(cat "$work/limit.out")"
got=$(cat "$work/lo.log.sink" 2>/dev/null || echo 0)
[ "$got" -le 65536 ] || fail "limit: the host received $got bytes past a 64K limit"
grep -q '"reason":"egress byte limit reached"' "$work/limit.audit" || fail "limit: not in the audit log: $(cat "$work/limit.audit")"

# 9. --max-egress-conns: connections beyond it are refused while the others stay open.
run conns 'socks = [socket.create_connection(("host.ward.internal", 18521), timeout=5) for _ in range(2)]
attempt("third", tcp("host.ward.internal", 18521))
for s in socks: s.close()' --allow-net 'host.ward.internal:*' --max-egress-conns 2 --audit "$work/conns.audit"
expect conns "third ECONNREFUSED
still running
status 0"
grep -q '"reason":"too many connections"' "$work/conns.audit" || fail "conns: not in the audit log"

echo "ESCAPE-TEST PASS"
