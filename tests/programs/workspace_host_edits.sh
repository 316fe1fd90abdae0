#!/bin/bash
# The workspace is shared with the host user: names the host creates, replaces or removes
# while the guest runs show up in the sandbox at the guest's next lookup, even names the
# guest had already looked up (found or missing).
set -eu
ward=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ws=$(mktemp -d /var/tmp/ward-edits.XXXXXX)
trap 'kill $guest 2>/dev/null || true; rm -rf "$ws"' EXIT
cd "$ws"
echo one >a
echo doomed >gone
mkdir olddir && echo inside-old >olddir/f

# The guest looks everything up, says so, waits for the host's "go", looks again.
timeout 60 "$ward" run -- /bin/sh -c '
	cat a; cat gone; cat olddir/f; cat b 2>/dev/null || echo "b missing"
	: >looked
	i=0
	while [ ! -e go ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
	[ -e go ] || { echo "go never appeared"; exit 1; }
	cat a; cat b; cat gone 2>/dev/null || echo "gone missing"; cat olddir/f; cat newdir/f
' >"$ws.out" 2>&1 &
guest=$!
for _ in $(seq 600); do [ -e looked ] && break; sleep 0.05; done
[ -e looked ] || { echo "FAIL: the guest never got going"; cat "$ws.out"; exit 1; }
echo two >a.new && mv a.new a          # replaced: a new file under the old name
echo new >b                              # created after the guest found it missing
rm gone                                  # removed after the guest read it
mv olddir newdir && mkdir olddir && echo inside-new >olddir/f   # a directory swapped
: >go
wait $guest || { echo "FAIL: guest failed"; cat "$ws.out"; exit 1; }
expected="one
doomed
inside-old
b missing
two
new
gone missing
inside-new
inside-old"
if [ "$(cat "$ws.out")" != "$expected" ]; then
	echo "FAIL: the guest saw:"; cat "$ws.out"; echo "expected:"; echo "$expected"
	rm -f "$ws.out"; exit 1
fi
rm -f "$ws.out"
echo PASS
