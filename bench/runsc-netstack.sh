#!/usr/bin/env bash
# Runs one command under runsc with gVisor's own network stack (netstack,
# --network=sandbox) and a loopback interface only: the runsc-netstack sandbox of
# bench/run.sh, for the loopback network benchmarks.
#
# Why not `runsc --network=sandbox do CMD`: runsc do wires the sandbox to the host's
# default interface (a veth pair, `sysctl -w net.ipv4.ip_forward=1` left on, iptables
# MASQUERADE and FORWARD rules), which a benchmark has no business doing to the host.
# Instead this runs the command as an OCI bundle like runsc do's (the host's / as root
# under a writable in-memory overlay, --overlay2=all:memory; the caller's working
# directory and environment) with `runsc run`, inside a network namespace of its own
# that holds only `lo` (unshare -n), which runsc copies into netstack: the guest's
# 127.0.0.1 lives inside the sandbox and nothing reaches the host.
#
# Usage: bench/runsc-netstack.sh [RUNSC FLAGS...] -- CMD [ARGS...]
#   e.g. bench/runsc-netstack.sh --platform=ptrace -- build/bench/micro/bench_tcp_rr 1000
# (--network=sandbox is implied; a later --network=... flag overrides it, e.g. =host for a
# check of the plumbing on a host where netstack cannot start.) Needs root, like runsc do
# without --rootless. Exit status: the command's, or runsc's if the sandbox fails.
set -uo pipefail

flags=()
while (($#)) && [[ $1 != -- ]]; do flags+=("$1"); shift; done
[[ ${1:-} == -- ]] || { echo "usage: runsc-netstack.sh [RUNSC FLAGS...] -- CMD [ARGS...]" >&2; exit 2; }
shift
(($#)) || { echo "runsc-netstack.sh: no command" >&2; exit 2; }

json_str() {
  local s=$1
  s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\t'/\\t}; s=${s//$'\n'/\\n}
  printf '"%s"' "$s"
}
json_list() { # words...
  local out="" w
  for w in "$@"; do out+="${out:+, }$(json_str "$w")"; done
  printf '[%s]' "$out"
}

dir=$(mktemp -d "${TMPDIR:-/tmp}/wb-runsc-netstack.XXXXXX") || exit 125
trap 'rm -rf "$dir"' EXIT
env_list=()
for v in PATH HOME LANG TMPDIR; do [[ -n ${!v:-} ]] && env_list+=("$v=${!v}"); done
# The network namespace is the one runsc runs in (this script's unshare -n): runsc joins
# it for the sandbox and copies its interfaces (only lo, up) into netstack.
cat >"$dir/config.json" <<EOF
{
  "ociVersion": "1.0.0",
  "root": {"path": "/"},
  "process": {"cwd": $(json_str "$PWD"), "args": $(json_list "$@"), "env": $(json_list "${env_list[@]}"), "user": {"uid": 0, "gid": 0}},
  "hostname": $(json_str "$(hostname)"),
  "linux": {"namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "network", "path": "/proc/self/ns/net"}]}
}
EOF
# Not exec: the bundle directory is removed afterwards (trap).
# Debian's runsc (20221219) takes "/proc/sys/net/core/rmem_default exists" to mean "this is
# the root network namespace" and refuses netstack ("cannot run with network enabled in
# root network namespace"); since Linux 5.x that file exists in every network namespace.
# So, in a mount namespace of this script's own, an empty tmpfs hides that directory
# from runsc: nothing else of the host changes.
unshare -n -m sh -c 'ip link set lo up && mount -t tmpfs none /proc/sys/net/core && exec "$@"' sh \
  runsc --root "$dir/state" --overlay2=all:memory --network=sandbox "${flags[@]}" run --bundle "$dir" "wb-netstack-$$-$RANDOM"
