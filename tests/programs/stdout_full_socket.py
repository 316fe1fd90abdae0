#!/usr/bin/env python3
# stdout_full.sh's check with ward's stdout a Unix socket (as under systemd or a CI agent
# that collects output through a socket): a guest filling it parks only itself.
import os, socket, subprocess, sys, time

ward, args = sys.argv[1], sys.argv[2:]
ours, theirs = socket.socketpair()
err_r, err_w = os.pipe()
p = subprocess.Popen([ward, "run", *args, "--", "sh", "-c",
                      "head -c 1000000 /dev/zero & sleep 1; echo alive >&2; wait"],
                     stdout=theirs, stderr=err_w, stdin=subprocess.DEVNULL)
theirs.close()
os.close(err_w)
# Wait for the stderr line without reading stdout (bounded: 30 s).
err = b""
os.set_blocking(err_r, False)
deadline = time.monotonic() + 30
while b"alive" not in err and time.monotonic() < deadline:
    try:
        chunk = os.read(err_r, 4096)
        if not chunk:
            break
        err += chunk
    except BlockingIOError:
        time.sleep(0.05)
saw = b"alive" in err
total = 0
while True:
    b = ours.recv(65536)
    if not b:
        break
    total += len(b)
p.wait(timeout=60)
if saw and total == 1000000 and p.returncode == 0:
    print("PASS")
    sys.exit(0)
print(f"FAIL: stderr line before draining: {saw}, bytes {total}, status {p.returncode}, stderr {err!r}")
sys.exit(1)
