#!/usr/bin/env bash
# Escape test: runs one hostile guest program under ward and checks that it was stopped.
#
# usage: run_escape.sh WARD PLATFORM PROG [--allow-signal]
#
# Before the run it plants bait on the host:
#   argv[1]  a secret file under $HOME (/root/ward-escape-secret-XXXXXX for root)
#   argv[2]  a secret file beside the exported test directory (outside the --ro-bind)
#   argv[3]  the pid of a sacrificial host `sleep`
#   argv[4]  a victim file inside the exported directory
# and exports WARD_HOST_SECRET in ward's own environment.
# Pass: the guest prints "ESCAPE-TEST PASS" and exits 0 (or, with --allow-signal, is killed
# by SIGSYS, SIGKILL, SIGSEGV or SIGILL), never prints "ESCAPE-TEST FAIL", no secret appears
# in its output, the sleeper is alive, the secret and victim files are unchanged, and no
# ward-escape-* file appeared on the host.
set -eu

if [ $# -lt 3 ]; then
	echo "usage: $0 WARD PLATFORM PROG [--allow-signal]" >&2
	exit 2
fi
ward=$1 platform=$2 prog=$3
allow_signal=no
[ "${4:-}" = --allow-signal ] && allow_signal=yes
name=$(basename "$prog")
limit=${WARD_TEST_TIMEOUT:-60}

[ -x "$prog" ] || { echo "FAIL $name: test program $prog not built" >&2; exit 1; }
[ -x "$ward" ] || { echo "FAIL $name: ward binary $ward not built" >&2; exit 1; }

bindir=$(cd "$(dirname "$prog")" && pwd)
# Absolute paths: the runs below change directory.
case $ward in
*/*) ward="$(cd "$(dirname "$ward")" && pwd)/$(basename "$ward")" ;;
*) ward=$(command -v "$ward") ;;
esac
prog="$bindir/$(basename "$prog")"
home=${HOME:-}
if [ -z "$home" ] || [ ! -d "$home" ] || [ ! -w "$home" ]; then
	home=$(getent passwd "$(id -u)" | cut -d: -f6 || true)
fi
if [ -z "$home" ] || [ ! -d "$home" ] || [ ! -w "$home" ]; then
	echo "SKIP $name: no writable home directory to plant the secret in" >&2
	exit 77
fi

rand() { od -An -N8 -tx1 /dev/urandom | tr -d ' \n'; }
secret_value="WARD-SECRET-$(rand)"
env_secret="xyz-$(rand)"

work="" secret="" sibling="" victim="" sleeper=""
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
	if [ -n "$sleeper" ]; then
		kill "$sleeper" 2>/dev/null || true
	fi
	rm -f -- "$secret" "$sibling" "$victim"
	if [ -n "$work" ]; then
		rm -rf -- "$work"
	fi
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

work=$(mktemp -d "${TMPDIR:-/tmp}/ward-escape.XXXXXX")
secret=$(mktemp "$home/ward-escape-secret-XXXXXX")
chmod 600 "$secret"
printf '%s\n' "$secret_value" >"$secret"
sibling=$(mktemp "$(dirname "$bindir")/ward-escape-sibling-XXXXXX")
chmod 600 "$sibling"
printf '%s\n' "$secret_value" >"$sibling"
victim=$(mktemp "$bindir/ward-escape-victim-XXXXXX")
printf 'victim %s\n' "$(rand)" >"$victim"
chmod 644 "$victim"
victim_before="$(stat -c '%a %s %Y %i' "$victim") $(sha256sum <"$victim")"
secret_before=$(sha256sum <"$secret")

sleep 300 &
sleeper=$!
disown "$sleeper"

# Names the guests may try to create on the host (write_host.c, read_shadow.c).
planted=(
	"$bindir/ward-escape-written" "$bindir/ward-escape-dir" "$bindir/ward-escape-renamed"
	"$bindir/ward-escape-hardlink" /usr/ward-escape-written /usr/ward-escape-dir
	/usr/ward-escape-link /etc/ward-escape-written /ward-escape-written
	/tmp/ward-escape-shadow-link /tmp/ward-escape-shadow-hard
)
for p in "${planted[@]}"; do
	if [ -e "$p" ] || [ -L "$p" ]; then
		echo "FAIL $name: $p exists before the test; remove it and rerun" >&2
		exit 1
	fi
done

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

started=$SECONDS
set +e
(
	close_fds
	cd "$work"
	export WARD_HOST_SECRET="$env_secret"
	exec timeout -k 5 "$limit" "$ward" run --platform="$platform" --ro-bind "$bindir" -- \
		"$prog" "$secret" "$sibling" "$sleeper" "$victim" </dev/null >"$work/out" 2>"$work/err"
)
rc=$?
set -e

problems=()
if { [ "$rc" = 124 ] || [ "$rc" = 137 ]; } && [ $((SECONDS - started)) -ge "$limit" ]; then
	problems+=("ward did not finish within ${limit}s (status $rc)")
fi
if grep -q 'ESCAPE-TEST FAIL' "$work/out"; then
	problems+=("the guest reports an attempt got through")
fi
if grep -qF -- "$secret_value" "$work/out" "$work/err"; then
	problems+=("the secret file's contents appear in the guest's output")
fi
if grep -qF -- "$env_secret" "$work/out" "$work/err"; then
	problems+=("the value of WARD_HOST_SECRET appears in the guest's output")
fi
outcome=""
if [ "$rc" = 0 ] && grep -qx 'ESCAPE-TEST PASS' "$work/out"; then
	outcome="guest reports every attempt stopped"
elif [ "$allow_signal" = yes ] && [ "$rc" -gt 128 ] && [ "$rc" -lt 160 ]; then
	case $((rc - 128)) in
	4 | 9 | 11 | 31)
		outcome="guest killed by SIG$(kill -l $((rc - 128)))" ;;
	*) problems+=("guest ended with status $rc (signal $((rc - 128))), expected SIGSYS, SIGKILL, SIGSEGV or SIGILL") ;;
	esac
else
	problems+=("guest exited with status $rc without printing ESCAPE-TEST PASS")
fi
if ! kill -0 "$sleeper" 2>/dev/null; then
	problems+=("the sacrificial host process $sleeper was killed")
fi
if [ "$(sha256sum <"$secret" 2>/dev/null)" != "$secret_before" ]; then
	problems+=("the secret file under $home was modified or removed")
fi
if [ ! -e "$victim" ]; then
	problems+=("the victim file in the export was removed")
elif [ "$(stat -c '%a %s %Y %i' "$victim") $(sha256sum <"$victim")" != "$victim_before" ]; then
	problems+=("the victim file in the export was modified")
fi
# The overlay lets the guest append to its /etc/os-release: the host's must not change.
if grep -q ward-escape /etc/os-release 2>/dev/null; then
	problems+=("the guest's change to /etc/os-release reached the host")
fi
for p in "${planted[@]}"; do
	if [ -e "$p" ] || [ -L "$p" ]; then
		problems+=("the guest created $p on the host (removed now)")
		rm -rf -- "$p"
	fi
done

if [ ${#problems[@]} -eq 0 ]; then
	echo "PASS $name on $platform: $outcome"
	sed 's/^/  | /' "$work/out"
	exit 0
fi
echo "FAIL $name on $platform:" >&2
for p in "${problems[@]}"; do
	echo "  - $p" >&2
done
echo "--- guest stdout:" >&2
cat "$work/out" >&2
if [ -s "$work/err" ]; then
	echo "--- ward stderr (last 40 lines):" >&2
	tail -n 40 "$work/err" >&2
fi
exit 1
