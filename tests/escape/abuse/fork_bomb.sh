#!/bin/bash
# Fork bomb inside ward: refused at --max-tasks with EAGAIN, ward stays up. The bomb is
# capped in the program itself and, where cgroup v2 allows it, by a pids cgroup around
# the whole run, so a regression fails the test instead of exhausting the machine.
set -eu
ward=$1 prog=$2 platform=${3:-ptrace}
dir=$(cd "$(dirname "$prog")" && pwd)
limit=64
cg=""
if [ "$(id -u)" = 0 ] && [ -w /sys/fs/cgroup ] && grep -qw pids /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
	cg=$(mktemp -d /sys/fs/cgroup/ward-forkbomb.XXXXXX 2>/dev/null || true)
	if [ -n "$cg" ] && echo 600 > "$cg/pids.max" 2>/dev/null; then
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
out=$(run timeout 120 "$ward" run --platform="$platform" --max-tasks "$limit" --ro-bind "$dir" -- "$dir/$(basename "$prog")" "$limit")
echo "$out"
echo "$out" | grep -qx "ESCAPE-TEST PASS"
# ward still answers afterwards
[ "$(timeout 30 "$ward" run --platform="$platform" -- /bin/busybox echo alive)" = alive ]
