#!/bin/bash
# The workspace (issue 4's commands): git, tar and sqlite write real files into the host
# directory, and nothing else on the host changes.
set -eu
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

# Outside the workspace nothing is visible, let alone writable.
if run /bin/sh -c "echo x > $outside/leak" 2>/dev/null; then echo "FAIL: wrote outside the workspace"; exit 1; fi
[ -z "$(ls -A "$outside")" ] || { echo "FAIL: a file appeared outside the workspace"; exit 1; }
# Symlinks in the workspace are resolved inside the sandbox, never on the host.
ln -s /etc "$ws/etc-link"
[ "$(run /bin/sh -c 'cat etc-link/hostname' 2>/dev/null)" = "$(cat /etc/hostname)" ] || true
if run /bin/sh -c 'echo pwned > etc-link/ward-ws-test' 2>/dev/null && [ -e /etc/ward-ws-test ]; then
	rm -f /etc/ward-ws-test; echo "FAIL: a workspace symlink led to the host's /etc"; exit 1
fi
echo PASS
