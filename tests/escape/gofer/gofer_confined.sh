#!/usr/bin/env bash
# The gofer's confinement as the host sees it: its mount namespace holds only the
# exported trees (system directories and --ro-bind read-only, the workspace
# read-write, every mount nosuid and nodev, the root a read-only tmpfs); it keeps no
# capability beyond the five root needs for files (none as an ordinary user); no new
# privileges, seccomp on. As root the same is checked for an ordinary user (a user
# namespace) when the ward binary is reachable for one.
#
# usage: gofer_confined.sh WARD
set -eu
ward=$1
case $ward in */*) ward="$(cd "$(dirname "$ward")" && pwd)/$(basename "$ward")" ;; esac
limit=60
work=$(mktemp -d /var/tmp/ward-confined.XXXXXX)
chmod 755 "$work"
wpid=""
cleanup() {
	# TERM, which timeout passes on to ward run, which ends its sandbox (a KILL would
	# stop timeout alone and leave the sandbox running to the end of its sleep).
	[ -n "$wpid" ] && kill -TERM "$wpid" 2>/dev/null && wait "$wpid" 2>/dev/null
	rm -rf -- "$work"
}
trap cleanup EXIT
fails=0
fail() {
	echo "FAIL ($who): $*" >&2
	fails=$((fails + 1))
}

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

# check WHO WANT_CAPS [RUNAS...]: runs a sleeping guest and inspects its gofer.
check() {
	who=$1 want_caps=$2
	shift 2
	local ws=$work/ws-$who ro=$work/ro-$who gofer="" p
	mkdir -p "$ws" "$ro"
	echo "ro" >"$ro/file"
	[ $# -gt 0 ] && chown -R 65534:65534 "$ws"
	(cd "$ws" && exec "$@" timeout -k 5 "$limit" "$ward" run --ro-bind "$ro" -- /bin/sh -c 'echo > ready; sleep 30' \
		</dev/null >"$work/out-$who" 2>"$work/err-$who") &
	wpid=$!
	for _ in $(seq 1 300); do
		[ -e "$ws/ready" ] && break
		kill -0 "$wpid" 2>/dev/null || break
		sleep 0.1
	done
	gofer=$(find_gofer "$wpid")
	if [ -z "$gofer" ]; then
		fail "no gofer under ward run"
		cat "$work/err-$who" >&2
	else
		local status mounts caps
		status=$(cat "/proc/$gofer/status")
		mounts=$(cat "/proc/$gofer/mountinfo")
		caps=$(awk '/^CapEff:/ { print $2 }' <<<"$status")
		[ "$caps" = "$want_caps" ] || fail "CapEff $caps, expected $want_caps"
		[ "$(awk '/^CapBnd:/ { print $2 }' <<<"$status")" = "$want_caps" ] ||
			[ "$who" != root ] || fail "the bounding set is not $want_caps"
		[ "$(awk '/^CapAmb:/ { print $2 }' <<<"$status")" = 0000000000000000 ] || fail "ambient capabilities left"
		grep -q '^NoNewPrivs:[[:space:]]*1' <<<"$status" || fail "no NO_NEW_PRIVS"
		grep -q '^Seccomp:[[:space:]]*2' <<<"$status" || fail "no seccomp filter"
		# the guest's memory file (READ_MEM writes into it), never the platform's pages
		ls -l "/proc/$gofer/fd" | grep -q 'memfd:ward-platform' && fail "the gofer holds the platform file"
		grep -q "ward gofer: warning" "$work/err-$who" && fail "$(cat "$work/err-$who")"
		# mountinfo: ID PARENT DEV ROOT MOUNTPOINT OPTIONS ...
		awk '$5 == "/" { print $6, $(NF-2) }' <<<"$mounts" | grep -q '^ro,.* tmpfs$' ||
			fail "the root is not a read-only tmpfs: $(awk '$5 == "/"' <<<"$mounts")"
		while read -r point opts; do
			case ",$opts," in *,nosuid,*) ;; *) fail "$point is not nosuid" ;; esac
			case ",$opts," in *,nodev,*) ;; *) fail "$point is not nodev" ;; esac
			case $point in
			"$ws") case ",$opts," in *,rw,*) ;; *) fail "the workspace is not writable" ;; esac ;;
			*) case ",$opts," in *,ro,*) ;; *) fail "$point is writable" ;; esac ;;
			esac
			case $point in
			/ | /usr* | /etc* | /opt* | /bin* | /sbin* | /lib* | "$ro"* | "$ws"*) ;;
			*) fail "$point is mounted but not exported" ;;
			esac
		done < <(awk '{ print $5, $6 }' <<<"$mounts")
		# the names at its root: the system names and the way to the exports
		for n in $(ls -A "/proc/$gofer/root/"); do
			case $n in
			usr | bin | sbin | lib | lib32 | lib64 | libx32 | etc | opt | var) ;;
			*) fail "/$n is visible to the gofer" ;;
			esac
		done
		[ -e "/proc/$gofer/root/root" ] && fail "/root is visible to the gofer"
		[ -e "/proc/$gofer/root$ro/file" ] || fail "the --ro-bind export is missing"
		[ "$(ls -A "/proc/$gofer/root/var/tmp")" = "$(basename "$work")" ] ||
			fail "/var/tmp shows more than the way to the exports"
		# an ordinary user's gofer has one child, the owner helper, confined too
		local kids helper
		kids=$(ps -o pid= --ppid "$gofer" | tr -d ' ')
		if [ "$who" = root ]; then
			[ -z "$kids" ] || fail "the gofer has children: $kids"
		else
			for helper in $kids; do
				grep -q '^Seccomp:[[:space:]]*2' "/proc/$helper/status" || fail "the owner helper has no seccomp filter"
				grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$helper/status" || fail "the owner helper may gain privileges"
				[ "$(ls "/proc/$helper/fd" | wc -l)" = 1 ] || fail "the owner helper holds more than its socket"
			done
			[ "$(echo "$kids" | grep -c .)" = 1 ] || fail "expected one owner helper under the gofer, found: $kids"
		fi
	fi
	kill -TERM "$wpid" 2>/dev/null || true
	wait "$wpid" 2>/dev/null || true
	wpid=""
	[ -n "$gofer" ] && [ $fails -eq 0 ] && echo "PASS ($who): gofer $gofer confined"
	return 0
}

if [ "$(id -u)" = 0 ]; then
	check root 000000000000001f
	if command -v setpriv >/dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$ward" &&
		setpriv --reuid=65534 --regid=65534 --clear-groups unshare -Ur true 2>/dev/null; then
		check user 0000000000000000 setpriv --reuid=65534 --regid=65534 --clear-groups
	else
		echo "note: the ordinary-user case is not checked (ward not reachable, or no user namespaces)"
	fi
else
	if unshare -Ur true 2>/dev/null; then
		check user 0000000000000000
	else
		echo "SKIP: no user namespace for an ordinary user here"
		exit 77
	fi
fi
[ $fails -eq 0 ] || exit 1
