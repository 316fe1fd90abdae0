#!/bin/bash
# A guest writing to a host pipe nobody drains parks only itself: the rest of the sandbox
# runs on (the sentry's stdio is non-blocking, tools/cli/sandbox_stdio.c). One guest
# process fills stdout; another writes to stderr a second later; the reader drains
# stdout only once it saw that line. A sentry blocked in write(2) would never print it.
set -u
ward=$1
shift
err=$(mktemp /var/tmp/ward-stdout-full.XXXXXX)
trap 'rm -f "$err"' EXIT
got=$(timeout 120 "$ward" run "$@" -- sh -c 'head -c 1000000 /dev/zero & sleep 1; echo alive >&2; wait' 2>"$err" | {
	for _ in $(seq 300); do
		grep -q alive "$err" && break
		sleep 0.1
	done
	grep -q alive "$err" && echo "stderr while stdout was full"
	wc -c
})
expected="stderr while stdout was full
1000000"
if [ "$got" != "$expected" ]; then
	echo "FAIL: got:"; echo "$got"; echo "stderr:"; cat "$err"; exit 1
fi
echo PASS
