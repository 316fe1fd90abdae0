#!/bin/bash
# `ward run --rootfs DIR`: DIR is the sandbox's /, and nothing of the host root is visible.
set -eu
ward=$1
dir=$(mktemp -d "${TMPDIR:-/tmp}/ward-rootfs.XXXXXX")
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/bin" "$dir/etc"
cp /bin/busybox "$dir/bin/busybox"
echo "inside the rootfs" > "$dir/etc/marker"
run() { timeout 60 "$ward" run --rootfs "$dir" -- "$@"; }

out=$(run /bin/busybox cat /etc/marker)
[ "$out" = "inside the rootfs" ] || { echo "FAIL: marker read as '$out'"; exit 1; }
listing=$(run /bin/busybox ls / | tr '\n' ' ')
[ "$listing" = "bin dev etc proc root sys tmp " ] || { echo "FAIL: / lists '$listing'"; exit 1; }
if run /bin/busybox cat /etc/os-release >/dev/null 2>&1; then
	echo "FAIL: the host's /etc/os-release is visible inside --rootfs"
	exit 1
fi
if run /bin/busybox ls /usr >/dev/null 2>&1; then
	echo "FAIL: the host's /usr is visible inside --rootfs"
	exit 1
fi
echo "PASS"
