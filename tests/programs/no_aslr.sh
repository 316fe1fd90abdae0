#!/bin/bash
# The platforms' pages sit at fixed addresses that the sentry's own mappings must leave
# free (platform/fixed_range.c). Two layouts that used to cover them:
#  - randomization off (setarch -R, as gdb runs programs): the sentry reserves the range
#    before mapping its memory file;
#  - randomization off and a stack limit that puts the mmap base just above the range, so
#    the sentry's own binary lands on it: the sentry starts again with randomization on
#    (it then has WARD_RELAYOUT=1 in its environment).
# Either way the sandbox runs as usual.
set -eu
ward=$1
shift
fail() {
	echo "FAIL: $*"
	exit 1
}

out=$(setarch -R "$ward" run "$@" -- /bin/sh -c 'echo sandboxed')
[ "$out" = sandboxed ] || fail "randomization off: expected 'sandboxed', got '$out'"

# 16 GiB + 16 MiB - 4 KiB from the top of the address space to the range, less 2 MiB: the
# stack gap (this limit + 1 MiB) puts the mmap base 1 MiB above the range.
limit_kib=$(((0x400fff000 - 0x200000) / 1024))
dir=$(mktemp -d /var/tmp/ward-noaslr.XXXXXX)
trap 'rm -rf "$dir"' EXIT
mkfifo "$dir/fifo"
(
	ulimit -s "$limit_kib"
	exec setarch -R "$ward" run "$@" -- /bin/sh -c 'echo sandboxed; read line' >"$dir/out" <"$dir/fifo"
) &
exec 3>"$dir/fifo"
relayout=
for _ in $(seq 100); do
	for p in $(pgrep -x -f '(/proc/self/exe|ward) boot .*' || true); do
		if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx 'WARD_RELAYOUT=1'; then
			relayout=yes
		fi
	done
	[ -n "$relayout" ] && break
	sleep 0.05
done
echo >&3
exec 3>&-
wait
[ "$(cat "$dir/out")" = sandboxed ] || fail "binary on the range: expected 'sandboxed', got '$(cat "$dir/out")'"
[ -n "$relayout" ] || fail "binary on the range: the sentry did not start again with a fresh layout"
echo "PASS: ward runs with randomization off, and starts the sentry again when its layout covers the platform's pages"
