#!/usr/bin/env bash
# Differential conformance check: runs PROG natively and under ward, compares stdout and the
# exit status, and fails with a unified diff when they differ.
#
# usage: run_conformance.sh WARD PLATFORM PROG [ARGS...]
#
# Both runs get the same clean environment (env -i PATH HOME TERM LANG), stdin from
# /dev/null, only fds 0-2 open, and an empty directory as cwd (natively; ward's cwd is its
# own business, so programs never print their initial cwd). The native run is done twice
# first: a program whose output differs between two native runs is a broken test.
# ward gets --ro-bind of PROG's directory so the test binary is visible at the same path.
set -eu

if [ $# -lt 3 ]; then
	echo "usage: $0 WARD PLATFORM PROG [ARGS...]" >&2
	exit 2
fi
ward=$1 platform=$2 prog=$3
shift 3
name=$(basename "$prog")
limit=${WARD_TEST_TIMEOUT:-60}

if [ ! -x "$prog" ]; then
	echo "FAIL $name: test program $prog not built" >&2
	exit 1
fi
if [ ! -x "$ward" ]; then
	echo "FAIL $name: ward binary $ward not built" >&2
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ward-conf.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
mkdir "$work/cwd"
bindir=$(cd "$(dirname "$prog")" && pwd)
# Absolute paths: the runs below change directory.
case $ward in
*/*) ward="$(cd "$(dirname "$ward")" && pwd)/$(basename "$ward")" ;;
*) ward=$(command -v "$ward") ;;
esac
prog="$bindir/$(basename "$prog")"

clean_env=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LANG=C.UTF-8)

# Closes every inherited descriptor above 2 in the current (sub)shell.
close_fds() {
	local fd
	for fd in "/proc/$BASHPID/fd"/*; do
		fd=${fd##*/}
		case $fd in
		0 | 1 | 2 | 255) ;;
		*) eval "exec $fd>&-" 2>/dev/null || true ;;
		esac
	done
}

# run LABEL CMD...: stdout to $work/LABEL.out, stderr to $work/LABEL.err, status appended.
run() {
	local label=$1 rc
	shift
	set +e
	(
		close_fds
		cd "$work/cwd"
		exec "${clean_env[@]}" timeout -k 5 "$limit" "$@" </dev/null >"$work/$label.out" 2>"$work/$label.err"
	)
	rc=$?
	set -e
	printf '[exit status %d]\n' "$rc" >>"$work/$label.out"
	echo "$rc" >"$work/$label.rc"
}

run native1 "$prog" "$@"
run native2 "$prog" "$@"
if ! diff -u --label "native run 1" --label "native run 2" "$work/native1.out" "$work/native2.out" >"$work/nd.diff"; then
	echo "BROKEN TEST $name: output differs between two native runs:" >&2
	cat "$work/nd.diff" >&2
	exit 1
fi
if [ "$(cat "$work/native1.rc")" = 124 ]; then
	echo "BROKEN TEST $name: timed out natively after ${limit}s" >&2
	exit 1
fi

run ward "$ward" run --platform="$platform" --ro-bind "$bindir" -- "$prog" "$@"
ward_rc=$(cat "$work/ward.rc")

if diff -u --label "native" --label "ward ($platform)" "$work/native1.out" "$work/ward.out" >"$work/diff"; then
	echo "PASS $name on $platform"
	exit 0
fi
echo "FAIL $name on $platform: output differs from native (- native, + ward)" >&2
if [ "$ward_rc" = 124 ] || [ "$ward_rc" = 137 ]; then
	echo "  (ward timed out after ${limit}s)" >&2
fi
cat "$work/diff" >&2
if [ -s "$work/ward.err" ]; then
	echo "--- ward stderr (last 40 lines):" >&2
	tail -n 40 "$work/ward.err" >&2
fi
exit 1
