#!/usr/bin/env bash
# A host process swaps workspace directories for symlinks (to /etc, and to a host
# directory that is not exported) while the guest reads files beneath them: the guest
# only ever reads the marker in the real directories, or gets an error.
#
# usage: symlink_swap.sh WARD SWAP_READER SWAPPER
set -eu
ward=$1 prog=$2 swapper=$3
limit=120
rand() { od -An -N8 -tx1 /dev/urandom | tr -d ' \n'; }
work=$(mktemp -d "${TMPDIR:-/tmp}/ward-swap.XXXXXX")
outside=$(mktemp -d "${TMPDIR:-/tmp}/ward-swap-outside.XXXXXX")
swpid=""
cleanup() {
	[ -n "$swpid" ] && kill "$swpid" 2>/dev/null
	rm -rf -- "$work" "$outside"
}
trap cleanup EXIT
marker="MARKER-$(rand)"
secret="WARD-SECRET-$(rand)"
pairs=400
ws=$work/ws
mkdir "$ws"
printf '%s' "$secret" >"$outside/secret"
for i in $(seq 0 $((pairs - 1))); do
	mkdir "$ws/sub-$i" "$ws/sub2-$i"
	printf '%s' "$marker" >"$ws/sub-$i/shadow"
	printf '%s' "$marker" >"$ws/sub2-$i/secret"
	ln -s /etc "$ws/sub-$i.link"
	ln -s "$outside" "$ws/sub2-$i.link"
done

"$swapper" "$ws" "$pairs" sub sub2 >"$work/swapper.out" 2>&1 &
swpid=$!
for _ in $(seq 1 100); do
	grep -q swapping "$work/swapper.out" && break
	sleep 0.05
done
set +e
(cd "$ws" && exec timeout -k 5 "$limit" "$ward" run --ro-bind "$(dirname "$prog")" -- "$prog" "$marker" "$pairs" </dev/null >"$work/out" 2>"$work/err")
rc=$?
set -e
swapping=yes
kill -0 "$swpid" 2>/dev/null || swapping=no
kill "$swpid" 2>/dev/null || true
wait "$swpid" 2>/dev/null || true
swpid=""

problems=()
[ "$swapping" = yes ] || problems+=("the swapper stopped: $(cat "$work/swapper.out")")
grep -qF -- "$secret" "$work/out" "$work/err" && problems+=("the host secret appears in the output")
grep -q 'ESCAPE-TEST FAIL' "$work/out" && problems+=("the guest read something other than the marker")
[ "$rc" = 0 ] && grep -qx 'ESCAPE-TEST PASS' "$work/out" || problems+=("the guest exited with $rc without passing")
if [ ${#problems[@]} -eq 0 ]; then
	echo "PASS: symlink swaps under the guest"
	sed 's/^/  | /' "$work/out"
	exit 0
fi
echo "FAIL:" >&2
printf '  - %s\n' "${problems[@]}" >&2
cat "$work/out" >&2
tail -n 20 "$work/err" >&2
exit 1
