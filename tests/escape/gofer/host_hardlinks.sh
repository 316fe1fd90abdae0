#!/usr/bin/env bash
# Hard links the host makes in the workspace to a denied file (/etc/shadow), before ward
# starts and while it runs, are neither readable nor writable in the sandbox. Needs root
# (to link /etc/shadow) and a workspace on /etc's filesystem: skipped otherwise.
#
# usage: host_hardlinks.sh WARD HARDLINK_READER
set -eu
ward=$1 prog=$2
limit=60
# Beside the test program: the build tree, more likely on /etc's filesystem than /tmp.
work=$(mktemp -d "$(dirname "$prog")/ward-hardlinks.XXXXXX")
wpid=""
cleanup() {
	[ -n "$wpid" ] && kill -KILL "$wpid" 2>/dev/null
	rm -rf -- "$work"
}
trap cleanup EXIT
if [ ! -e /etc/shadow ] || ! ln /etc/shadow "$work/pre" 2>/dev/null; then
	echo "SKIP: cannot hard-link /etc/shadow into $work (not root, or another filesystem)"
	exit 77
fi
before=$(sha256sum </etc/shadow)
first_line=$(head -n 1 /etc/shadow)

(cd "$work" && exec timeout -k 5 "$limit" "$ward" run --ro-bind "$(dirname "$prog")" -- "$prog" </dev/null >"$work/out" 2>"$work/err") &
wpid=$!
for _ in $(seq 1 300); do
	[ -e "$work/ready" ] && break
	kill -0 "$wpid" 2>/dev/null || break
	sleep 0.1
done
if [ -e "$work/ready" ]; then
	ln /etc/shadow "$work/late"
	touch "$work/go"
fi
set +e
wait "$wpid"
rc=$?
set -e
wpid=""

problems=()
[ -e "$work/ready" ] || problems+=("the guest never got ready")
[ "$(sha256sum </etc/shadow)" = "$before" ] || problems+=("/etc/shadow changed")
if [ -n "$first_line" ] && grep -qF -- "$first_line" "$work/out" "$work/err"; then
	problems+=("/etc/shadow's contents appear in the output")
fi
grep -q 'ESCAPE-TEST FAIL' "$work/out" && problems+=("an attempt got through")
[ "$rc" = 0 ] && grep -qx 'ESCAPE-TEST PASS' "$work/out" || problems+=("the guest exited with $rc without passing")
if [ ${#problems[@]} -eq 0 ]; then
	echo "PASS: host-made hard links to a denied file"
	sed 's/^/  | /' "$work/out"
	exit 0
fi
echo "FAIL:" >&2
printf '  - %s\n' "${problems[@]}" >&2
cat "$work/out" >&2
tail -n 20 "$work/err" >&2
exit 1
