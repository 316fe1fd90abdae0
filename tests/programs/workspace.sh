#!/bin/bash
# The workspace (issue 4's commands): git, tar and sqlite write real files into the host
# directory, and nothing else on the host changes.
set -eu
trap 'echo "FAIL: line $LINENO exited with $?" >&2' ERR
ward=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ws=$(mktemp -d /var/tmp/ward-ws.XXXXXX)
outside=$(mktemp -d /var/tmp/ward-outside.XXXXXX)
trap 'rm -rf "$ws" "$outside"' EXIT
run() { (cd "$ws" && timeout 120 "$ward" run -- "$@"); }

out=$(run /bin/sh -c 'git init -q && echo hi > a.txt && git add a.txt && git -c user.email=a@b -c user.name=a commit -qm one && git log --oneline' 2>/dev/null)
echo "$out" | grep -q " one$" || { echo "FAIL: git log inside: $out"; exit 1; }
[ "$(git -C "$ws" log --format=%s)" = one ] || { echo "FAIL: the host sees no commit"; exit 1; }
[ "$(cat "$ws/a.txt")" = hi ] || { echo "FAIL: a.txt on the host"; exit 1; }

n=$(run /bin/sh -c 'tar czf /tmp/u.tgz -C /usr include/linux && mkdir x && tar xzf /tmp/u.tgz -C x && ls x/include/linux | wc -l' 2>/dev/null)
[ "$n" = "$(ls /usr/include/linux | wc -l)" ] || { echo "FAIL: tar extracted $n entries"; exit 1; }
cmp -s "$ws/x/include/linux/types.h" /usr/include/linux/types.h || { echo "FAIL: extracted file differs"; exit 1; }

out=$(run python3 -c 'import sqlite3; c=sqlite3.connect("t.db"); c.execute("create table t(x)"); c.executemany("insert into t values(?)",[(i,) for i in range(10000)]); c.commit(); print(c.execute("select count(*) from t").fetchone()[0])' 2>/dev/null)
[ "$out" = 10000 ] || { echo "FAIL: sqlite inside: $out"; exit 1; }
[ "$(python3 -c "import sqlite3; print(sqlite3.connect('$ws/t.db').execute('select count(*) from t').fetchone()[0])")" = 10000 ] || { echo "FAIL: the host's t.db"; exit 1; }

# WAL mode: sqlite maps its -shm index MAP_SHARED and writable (the page cache).
rm -f "$ws/t.db"
out=$(run python3 -c 'import sqlite3; c=sqlite3.connect("t.db"); c.execute("pragma journal_mode=wal"); c.execute("create table t(x)"); c.executemany("insert into t values(?)",[(i,) for i in range(10000)]); c.commit(); print(c.execute("select count(*) from t").fetchone())' 2>&1)
[ "$out" = "(10000,)" ] || { echo "FAIL: sqlite WAL inside: $out"; exit 1; }
[ "$(python3 -c "import sqlite3; print(sqlite3.connect('$ws/t.db').execute('select count(*) from t').fetchone()[0])")" = 10000 ] || { echo "FAIL: the host's WAL t.db"; exit 1; }
# A second process of the sandbox reads the WAL database while the writer still has it
# open (the rows are in the -wal file, found through the shared -shm mapping).
out=$(run python3 -c '
import sqlite3, subprocess, sys
c = sqlite3.connect("w.db"); c.execute("pragma journal_mode=wal"); c.execute("create table t(x)")
c.executemany("insert into t values(?)", [(i,) for i in range(5000)]); c.commit()
r = "import sqlite3; print(sqlite3.connect(\"w.db\").execute(\"select count(*), sum(x) from t\").fetchone())"
print(subprocess.run([sys.executable, "-c", r], capture_output=True, text=True).stdout.strip())
c.executemany("insert into t values(?)", [(i,) for i in range(5000)]); c.commit()
print(subprocess.run([sys.executable, "-c", r], capture_output=True, text=True).stdout.strip())
' 2>&1)
[ "$out" = "$(printf '(5000, 12497500)\n(10000, 24995000)')" ] || { echo "FAIL: concurrent WAL reader: $out"; exit 1; }
# What a shared mapping stores reaches the host file without msync.
run python3 -c '
import mmap
with open("m.bin", "wb") as f: f.truncate(8192)
f = open("m.bin", "r+b"); m = mmap.mmap(f.fileno(), 8192); m[4096:4101] = b"hello"
' 2>/dev/null || { echo "FAIL: python mmap"; exit 1; }
[ "$(dd if="$ws/m.bin" bs=1 skip=4096 count=5 2>/dev/null)" = hello ] || { echo "FAIL: host m.bin lacks the mapped store"; exit 1; }
# Write-back copies only pages stored to: a writable mapping that is only read leaves the
# host file alone (its mtime too); a store is written back at msync (mmap.flush).
touch -d '2001-01-01' "$ws/m.bin"
run python3 -c '
import mmap
f = open("m.bin", "r+b"); m = mmap.mmap(f.fileno(), 8192); assert m[4096:4101] == b"hello"; m.flush(); m.close()
' 2>/dev/null || { echo "FAIL: python mmap read"; exit 1; }
[ "$(stat -c %y "$ws/m.bin" | cut -c1-4)" = 2001 ] || { echo "FAIL: reading through a writable mapping wrote the file"; exit 1; }
run python3 -c '
import mmap
f = open("m.bin", "r+b"); m = mmap.mmap(f.fileno(), 8192); m[5000:5003] = b"abc"; m.flush()
' 2>/dev/null || { echo "FAIL: python mmap store"; exit 1; }
[ "$(dd if="$ws/m.bin" bs=1 skip=5000 count=3 2>/dev/null)" = abc ] || { echo "FAIL: the stored page was not written back"; exit 1; }
# A page written back is write-protected again: a second store to it is seen by the next
# msync too (checked on the host while the guest still runs, before any exit write-back).
ready=$(mktemp /var/tmp/ward-ws-ready.XXXXXX)
(cd "$ws" && exec timeout 60 "$ward" run -- python3 -c '
import mmap, time
f = open("m.bin", "r+b"); m = mmap.mmap(f.fileno(), 8192)
m[6000:6003] = b"one"; m.flush(); m[6000:6003] = b"two"; m.flush()
print("ready", flush=True); time.sleep(50)
' >"$ready" 2>/dev/null) &
guest=$!
for _ in $(seq 200); do grep -q ready "$ready" && break; sleep 0.1; done
got=$(dd if="$ws/m.bin" bs=1 skip=6000 count=3 2>/dev/null)
kill "$guest" 2>/dev/null; wait "$guest" 2>/dev/null || true
rm -f "$ready"
[ "$got" = two ] || { echo "FAIL: second store to a written-back page: host has '$got'"; exit 1; }

# Outside the workspace nothing is visible, let alone writable.
if run /bin/sh -c "echo x > $outside/leak" 2>/dev/null; then echo "FAIL: wrote outside the workspace"; exit 1; fi
[ -z "$(ls -A "$outside")" ] || { echo "FAIL: a file appeared outside the workspace"; exit 1; }
# Symlinks in the workspace are resolved inside the sandbox, never on the host.
ln -s /etc "$ws/etc-link"
[ "$(run /bin/sh -c 'cat etc-link/hostname' 2>/dev/null)" = "$(cat /etc/hostname)" ] || true
if run /bin/sh -c 'echo pwned > etc-link/ward-ws-test' 2>/dev/null && [ -e /etc/ward-ws-test ]; then
	rm -f /etc/ward-ws-test; echo "FAIL: a workspace symlink led to the host's /etc"; exit 1
fi
# An AF_UNIX socket bound in the workspace: the gofer makes the socket node (the
# rendezvous name), the socket itself stays in the sandbox: the host sees a socket node
# but cannot connect through it to the guest.
(cd "$ws" && timeout 120 "$ward" run -- python3 -c '
import os, socket, stat, time
s = socket.socket(socket.AF_UNIX); s.bind("./s.sock"); s.listen(1)
c = socket.socket(socket.AF_UNIX); c.connect("./s.sock"); a, _ = s.accept()
c.send(b"hi"); print(a.recv(2).decode(), stat.S_ISSOCK(os.stat("s.sock").st_mode))
open("ready", "w").close()
for _ in range(200):
    if os.path.exists("probed"): break
    time.sleep(0.05)
s.close(); os.unlink("s.sock"); print(os.path.exists("s.sock"))' >"$outside/sock.out" 2>&1) &
for _ in $(seq 200); do [ -e "$ws/ready" ] && break; sleep 0.05; done
[ -S "$ws/s.sock" ] || { echo "FAIL: no socket node in the host's workspace"; exit 1; }
python3 -c "
import socket, sys
try:
    socket.socket(socket.AF_UNIX).connect('$ws/s.sock')
except OSError:
    sys.exit(0)
sys.exit(1)" || { echo "FAIL: the host reached the guest's socket through the workspace"; exit 1; }
touch "$ws/probed"
wait
[ "$(cat "$outside/sock.out")" = "hi True
False" ] || { echo "FAIL: AF_UNIX bind in the workspace: $(cat "$outside/sock.out")"; exit 1; }
[ -e "$ws/s.sock" ] && { echo "FAIL: the socket node outlived its unlink"; exit 1; }
echo PASS
