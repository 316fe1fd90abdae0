#!/bin/bash
# --cpu: every process and thread of the sandbox (ward run, gofers, sentry, stub factory,
# stubs and their guest threads) is bound to one CPU: the one given, or by default the one
# ward started on; --cpu all leaves the CPUs ward was started with.
set -eu
ward=$1
allowed=$(sed -n 's/^Cpus_allowed_list:\t//p' /proc/$$/status)
last=$(python3 -c "import os; print(max(os.sched_getaffinity(0)))")

# Prints every distinct Cpus_allowed_list of the tree rooted at $1, threads included.
tree_cpus() {
	local pids=$1 all=$1 next p
	while [ -n "$pids" ]; do
		next=
		for p in $pids; do
			next="$next $(cat /proc/$p/task/*/children 2>/dev/null)"
		done
		pids=$(echo $next)
		all="$all $pids"
	done
	for p in $all; do
		cat /proc/$p/task/*/status 2>/dev/null | sed -n 's/^Cpus_allowed_list:\t//p'
	done | sort -u
}

# Starts a sandbox whose guest is a multi-threaded python (so stubs and guest threads
# exist), waits until it says it runs, and prints the tree's CPU sets.
check() {
	local dir pid wardpid out
	dir=$(mktemp -d /var/tmp/ward-cpu.XXXXXX)
	timeout 60 "$ward" run "$@" --workspace "$dir" -- python3 -c "
import threading, time
t = threading.Thread(target=time.sleep, args=(30,)); t.start()
open('$dir/ready', 'w').write('up\n')
time.sleep(30)" &
	pid=$!
	for _ in $(seq 300); do
		[ -s "$dir/ready" ] && break
		sleep 0.1
	done
	[ -s "$dir/ready" ] || { echo "sandbox did not start" >&2; kill $pid; return 1; }
	# $pid is timeout's; the sandbox is its child, `ward run`.
	wardpid=$(cat /proc/$pid/task/*/children)
	out=$(tree_cpus $wardpid)
	kill $wardpid; wait $pid 2>/dev/null || true
	rm -rf "$dir"
	echo "$out"
}

got=$(check --cpu "$last")
[ "$got" = "$last" ] || { echo "FAIL: --cpu $last: CPU sets in the sandbox: $got"; exit 1; }
got=$(check)
case "$got" in
*[!0-9]* | "") echo "FAIL: default: not bound to one CPU: $got"; exit 1 ;;
esac
# Stub threads still follow the sentry's CPU (the platforms do that), the rest is free.
got=$(check --cpu all)
echo "$got" | grep -qx "$allowed" || { echo "FAIL: --cpu all: $got, not $allowed"; exit 1; }
if "$ward" run --cpu 100000 -- true 2>/dev/null; then echo "FAIL: --cpu 100000 accepted"; exit 1; fi
echo PASS
