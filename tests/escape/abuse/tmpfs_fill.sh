#!/bin/bash
# Memory-backed files past --tmpfs-size: ENOSPC, and the sandbox (and ward) go on. Runs
# the brief's dd example, the fill program with a small limit (writing), and with the
# default 1 GiB limit (reserving with fallocate, which touches no memory, so the test
# stays cheap). A memory cgroup bounds the runs where cgroup v2 allows it.
set -eu
ward=$1 prog=$2 platform=${3:-ptrace}
dir=$(cd "$(dirname "$prog")" && pwd)
cg=""
if [ "$(id -u)" = 0 ] && [ -w /sys/fs/cgroup ] && grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
	cg=$(mktemp -d /sys/fs/cgroup/ward-tmpfs.XXXXXX 2>/dev/null || true)
	if [ -n "$cg" ] && echo 768M > "$cg/memory.max" 2>/dev/null; then
		trap 'rmdir "$cg" 2>/dev/null || true' EXIT
	else
		cg=""
	fi
fi
run() {
	if [ -n "$cg" ]; then
		sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$cg" "$@"
	else
		"$@"
	fi
}
out=$(run timeout 120 "$ward" run --platform="$platform" --tmpfs-size 16M -- /bin/sh -c \
	'dd if=/dev/zero of=/tmp/f bs=1M count=64 2>&1; echo "dd status $?"; ls -l /tmp/f | cut -d" " -f5')
echo "$out"
echo "$out" | grep -q "No space left on device"
echo "$out" | grep -qx "dd status 1"
echo "$out" | grep -qx 16777216
out=$(run timeout 120 "$ward" run --platform="$platform" --tmpfs-size 8M --ro-bind "$dir" -- "$dir/$(basename "$prog")" $((8 << 20)) write)
echo "$out"
echo "$out" | grep -qx "ESCAPE-TEST PASS"
out=$(run timeout 120 "$ward" run --platform="$platform" --ro-bind "$dir" -- "$dir/$(basename "$prog")" $((1 << 30)) fallocate)
echo "$out"
echo "$out" | grep -qx "ESCAPE-TEST PASS"
# bad sizes are refused before anything runs
if "$ward" run --platform="$platform" --tmpfs-size 12X -- /bin/true 2>/dev/null; then exit 1; fi
if "$ward" run --platform="$platform" --tmpfs-size 0 -- /bin/true 2>/dev/null; then exit 1; fi
[ "$(timeout 30 "$ward" run --platform="$platform" --tmpfs-size 64k -- /bin/busybox echo alive)" = alive ]
