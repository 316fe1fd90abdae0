#!/bin/bash
# Killing `ward run` from the host (SIGTERM, then SIGKILL) leaves no sentry, gofer, stub
# or guest process behind.
set -eu
ward=$1 platform=${2:-ptrace}
for sig in TERM KILL; do
	"$ward" run --platform="$platform" -- /bin/sh -c 'sleep 300 & sleep 300 & sleep 300' &
	wpid=$!
	sleep 1.5
	# everything below ward run: the gofer, the sentry and the sentry's stubs
	procs=$(ps -eo pid=,ppid= | awk -v root="$wpid" '
		{ parent[$1] = $2 }
		END { changed = 1; seen[root] = 1
		      while (changed) { changed = 0
		          for (p in parent) if (!(p in seen) && (parent[p] in seen)) { seen[p] = 1; changed = 1 } }
		      for (p in seen) if (p != root) print p }')
	n=$(echo "$procs" | grep -c . || true)
	if [ "$n" -lt 4 ]; then
		echo "FAIL: expected a gofer, a sentry and stubs under ward run, found $n processes"
		kill -KILL "$wpid" 2>/dev/null || true
		exit 1
	fi
	kill -"$sig" "$wpid"
	wait "$wpid" 2>/dev/null || true
	for i in $(seq 1 50); do
		alive=""
		for p in $procs; do
			if kill -0 "$p" 2>/dev/null; then alive="$alive $p"; fi
		done
		[ -z "$alive" ] && break
		sleep 0.1
	done
	if [ -n "$alive" ]; then
		echo "FAIL: after SIG$sig these processes are still alive:$alive"
		ps -o pid,ppid,cmd -p $(echo $alive | tr ' ' ,) || true
		kill -KILL $alive 2>/dev/null || true
		exit 1
	fi
	echo "SIG$sig: $n processes, none left"
done
echo PASS
