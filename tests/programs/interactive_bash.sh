#!/bin/bash
# `ward run -- /bin/bash -i` on a terminal (tmux): commands run, Ctrl-C interrupts the
# foreground job and not ward, Ctrl-Z stops it, job control works, /dev/tty is the
# terminal, a pty in the sandbox (script) works on it, exit status passes.
set -eu
ward=$1
command -v tmux >/dev/null || { echo "SKIP: tmux not installed"; exit 77; }
sock=$(mktemp -u /var/tmp/ward-tmux.XXXXXX)
out=$(mktemp /var/tmp/ward-tmux-out.XXXXXX)
t() { tmux -S "$sock" "$@"; }
trap 't kill-server 2>/dev/null || true; rm -f "$sock" "$out"' EXIT
t new-session -d -s w -x 120 -y 40 "$ward run -- /bin/bash --norc -i; echo WARD-EXIT=\$? > $out; sleep 60"
wait_for() { # text
	for i in $(seq 1 100); do
		t capture-pane -t w -p | grep -q -- "$1" && return 0
		sleep 0.1
	done
	echo "FAIL: never saw '$1' on the terminal:"; t capture-pane -t w -p; exit 1
}
# Waits for an empty prompt on the last line: keys typed before it may race with the
# shell's own handling of a job's end (natively too, only in a narrower window).
wait_prompt() {
	for i in $(seq 1 100); do
		t capture-pane -t w -p | grep -v '^$' | tail -n 1 | grep -q '^bash-[0-9.]*[#$] *$' && return 0
		sleep 0.1
	done
	echo "FAIL: never saw a fresh prompt:"; t capture-pane -t w -p; exit 1
}
wait_prompt
t send-keys -t w 'echo hello-$((6*7))' Enter
wait_for 'hello-42'
wait_prompt
# The job says when it runs: a Ctrl-C typed while the shell is still starting it goes
# to the shell's own process group, as it would natively.
t send-keys -t w 'sh -c "echo job-\$((5*5)); exec sleep 30"' Enter
wait_for 'job-25'
t send-keys -t w C-c
wait_prompt
t send-keys -t w 'echo status-$?' Enter
wait_for 'status-130'
wait_prompt
t send-keys -t w 'sh -c "echo job-\$((6*6)); exec sleep 30"' Enter
wait_for 'job-36'
t send-keys -t w C-z
wait_for 'Stopped'
wait_prompt
t send-keys -t w 'kill -KILL %1; wait' Enter
wait_prompt
# /dev/tty is the console; a pty inside it (script) gets Ctrl-C as a typed character
# (script puts the console in raw mode) and its line discipline makes it SIGINT.
t send-keys -t w 'echo via-dev-tty-$((2*21)) > /dev/tty' Enter
wait_for 'via-dev-tty-42'
t send-keys -t w 'script -eqc "echo in-script-\$((3*3)); sleep 30" /dev/null; echo script-status-$?' Enter
wait_for 'in-script-9'
t send-keys -t w C-c
wait_for 'script-status-130'
t send-keys -t w 'exit 4' Enter
for i in $(seq 1 100); do [ -s "$out" ] && break; sleep 0.1; done
grep -qx 'WARD-EXIT=4' "$out" || { echo "FAIL: exit status: $(cat "$out")"; t capture-pane -t w -p; exit 1; }
echo PASS
