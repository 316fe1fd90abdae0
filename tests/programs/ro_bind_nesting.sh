#!/bin/bash
# A read-only bind inside the workspace stays read-only (it used to be hidden, and so made
# writable, by the workspace mounted over it), and a workspace inside a read-only bind
# stays writable.
set -eu
ward=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
top=$(mktemp -d /var/tmp/ward-nest.XXXXXX)
trap 'rm -rf "$top"' EXIT
mkdir -p "$top/ro" "$top/proj"

(cd "$top" && timeout 60 "$ward" run --ro-bind "$top/ro" -- sh -c "touch ro/x; touch y") 2>/dev/null || true
[ ! -e "$top/ro/x" ] || { echo "FAIL: wrote into a --ro-bind inside the workspace"; exit 1; }
[ -e "$top/y" ] || { echo "FAIL: the workspace around the bind is not writable"; exit 1; }

(cd "$top/proj" && timeout 60 "$ward" run --ro-bind "$top" -- sh -c "touch ../z; touch w") 2>/dev/null || true
[ ! -e "$top/z" ] || { echo "FAIL: wrote into a --ro-bind around the workspace"; exit 1; }
[ -e "$top/proj/w" ] || { echo "FAIL: the workspace inside a bind is not writable"; exit 1; }
echo PASS
