#!/usr/bin/env bash
# Killing the gofer under a running guest: the guest's file operations in the workspace
# fail with EIO (no hang, no sentry crash), ward says on stderr that the gofer died and
# exits with 125 once the guest is done.
#
# usage: gofer_killed.sh WARD READ_LOOP
set -eu
ward=$1 prog=$2
limit=60
work=$(mktemp -d "${TMPDIR:-/tmp}/ward-gofer-killed.XXXXXX")
wpid=""
cleanup() {
	[ -n "$wpid" ] && kill -KILL "$wpid" 2>/dev/null
	rm -rf -- "$work"
}
trap cleanup EXIT
echo "some data" >"$work/file"

fail() {
	echo "FAIL: $*" >&2
	echo "--- guest stdout:" >&2
	cat "$work/out" >&2 || true
	echo "--- ward stderr:" >&2
	tail -n 20 "$work/err" >&2 || true
	exit 1
}

# The process tree under PID (excluding it), one pid a line.
descendants() {
	ps -eo pid=,ppid= | awk -v root="$1" '
		{ parent[$1] = $2 }
		END { changed = 1; seen[root] = 1
		      while (changed) { changed = 0
		          for (p in parent) if (!(p in seen) && (parent[p] in seen)) { seen[p] = 1; changed = 1 } }
		      for (p in seen) if (p != root) print p }'
}

role() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | cut -d' ' -f1-2; }
# The gofer under PID: the "ward gofer" process whose parent is not one (an ordinary
# user's gofer has a child of the same name, its owner helper).
find_gofer() {
	local p
	for p in $(descendants "$1"); do
		if [ "$(role "$p")" = "ward gofer" ] &&
			[ "$(role "$(awk '{ print $4 }' "/proc/$p/stat" 2>/dev/null)")" != "ward gofer" ]; then
			echo "$p"
		fi
	done
}

(cd "$work" && exec timeout -k 5 "$limit" "$ward" run --ro-bind "$(dirname "$prog")" -- "$prog" file </dev/null >"$work/out" 2>"$work/err") &
wpid=$!
for _ in $(seq 1 300); do
	grep -qx ready "$work/out" 2>/dev/null && break
	kill -0 "$wpid" 2>/dev/null || break
	sleep 0.1
done
grep -qx ready "$work/out" || fail "the guest never got going"

gofer=$(find_gofer "$wpid")
[ -n "$gofer" ] || fail "no gofer under ward run"
kill -KILL "$gofer"

set +e
wait "$wpid"
rc=$?
set -e
wpid=""
[ "$rc" != 124 ] && [ "$rc" != 137 ] || fail "ward did not finish within ${limit}s after the gofer died"
grep -q "^ward: the gofer died (signal 9" "$work/err" || fail "no message about the gofer on stderr"
grep -qx "all EIO" "$work/out" || fail "the guest did not see EIO from every file operation"
[ "$rc" = 125 ] || fail "ward exited with $rc, expected 125"
grep -q "sentry died" "$work/err" && fail "the sentry died"
echo "PASS: gofer killed under the guest"
sed 's/^/  | /' "$work/out" "$work/err"
