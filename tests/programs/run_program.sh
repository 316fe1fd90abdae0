#!/usr/bin/env bash
# Real-program test: runs a command under ward (and, with --compare, natively) and checks
# stdout and the exit status.
#
# usage: run_program.sh WARD PLATFORM USER [options] -- CMD [ARGS...]
#   USER             root: as the invoking user (root in CI);
#                    nobody: as uid/gid 65534 via setpriv (skipped unless running as root)
#   --compare        stdout and exit status must equal a native run of the same command
#   --expect-status N    ward's exit status must be N
#   --expect-stdout TEXT ward's stdout must be TEXT (one line, newline added)
#   --stderr-nonempty    ward must explain itself on stderr
#   --drop-line REGEX    drop matching lines from both outputs before comparing
#   --ro-bind DIR        export DIR read-only into the sandbox (ward's --ro-bind)
#   --bad-executables    create a text file, a corrupt ELF and a truncated ELF, all
#                        executable, in a temp dir under the current directory (not /tmp,
#                        which the sandbox replaces) exported with --ro-bind; "@BIN@" in
#                        ARGS names that dir
# Native and ward runs both get env -i PATH HOME=/root TERM=dumb LANG=C.UTF-8, stdin from
# /dev/null and a timeout.
set -eu

usage() {
	echo "usage: $0 WARD PLATFORM root|nobody [options] -- CMD [ARGS...]" >&2
	exit 2
}
[ $# -ge 4 ] || usage
ward=$1 platform=$2 user=$3
shift 3
compare=no expect_status="" expect_stdout="" have_expect_stdout=no stderr_nonempty=no
drop=() binds=() bad_exec=no
while [ $# -gt 0 ]; do
	case $1 in
	--compare) compare=yes ;;
	--expect-status) expect_status=$2; shift ;;
	--expect-stdout) expect_stdout=$2; have_expect_stdout=yes; shift ;;
	--stderr-nonempty) stderr_nonempty=yes ;;
	--drop-line) drop+=("$2"); shift ;;
	--ro-bind) binds+=(--ro-bind "$2"); shift ;;
	--bad-executables) bad_exec=yes ;;
	--) shift; break ;;
	*) usage ;;
	esac
	shift
done
[ $# -ge 1 ] || usage
limit=${WARD_TEST_TIMEOUT:-60}
label="$*"
label=${label//$'\n'/ \\n }

case $ward in
*/*) ward="$(cd "$(dirname "$ward")" && pwd)/$(basename "$ward")" ;;
*) ward=$(command -v "$ward") ;;
esac
[ -x "$ward" ] || { echo "FAIL [$label]: ward binary $ward not built" >&2; exit 1; }

as_user=()
case $user in
root)
	if [ "$(id -u)" != 0 ]; then
		echo "note: not root; the 'root' variant runs as uid $(id -u)"
	fi
	;;
nobody)
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP [$label]: the unprivileged variant switches to uid 65534 with setpriv, which needs root (running as uid $(id -u))"
		exit 77
	fi
	if ! command -v setpriv >/dev/null; then
		echo "SKIP [$label]: setpriv (util-linux) is not installed"
		exit 77
	fi
	as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
	;;
*) usage ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/ward-prog.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
chmod 755 "$work"
mkdir -m 755 "$work/cwd"

args=("$@")
bad_dir=""
if [ "$bad_exec" = yes ]; then
	# Not under /tmp: the sandbox has its own /tmp, and an export inside it would need a
	# mount point there. ctest runs this script in the build directory.
	bad_dir=$(mktemp -d "$PWD/ward-bad-exec.XXXXXX")
	trap 'rm -rf "$work" "$bad_dir"' EXIT
	chmod 755 "$bad_dir"
	printf 'this is not a program\nnor a script: no #! line\n' >"$bad_dir/garbage"
	# A valid ELF magic and class followed by junk: the header lies about everything.
	{ printf '\177ELF\002\001\001\000'; head -c 120 /dev/zero | tr '\0' '\377'; } >"$bad_dir/badelf"
	# A real ELF header whose program headers are cut off.
	head -c 100 /bin/true >"$bad_dir/truncated-elf"
	chmod 755 "$bad_dir"/*
	binds+=(--ro-bind "$bad_dir")
	args=("${args[@]//@BIN@/$bad_dir}")
fi

clean_env=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LANG=C.UTF-8)

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

# run LABEL CMD...: stdout, stderr and status into $work/LABEL.{out,err,rc}.
run() {
	local name=$1 rc
	shift
	set +e
	(
		close_fds
		cd "$work/cwd"
		exec timeout -k 5 "$limit" ${as_user[@]+"${as_user[@]}"} "${clean_env[@]}" "$@" \
			</dev/null >"$work/$name.out" 2>"$work/$name.err"
	)
	rc=$?
	set -e
	echo "$rc" >"$work/$name.rc"
}

filter() {
	local f=$1 re
	for re in "${drop[@]+"${drop[@]}"}"; do
		grep -Ev -- "$re" "$f" >"$f.tmp" || true
		mv "$f.tmp" "$f"
	done
}

run ward "$ward" run --platform="$platform" "${binds[@]+"${binds[@]}"}" -- "${args[@]}"
ward_rc=$(cat "$work/ward.rc")
problems=()
if [ "$ward_rc" = 124 ]; then
	problems+=("ward did not finish within ${limit}s")
fi

if [ "$compare" = yes ]; then
	run native "${args[@]}"
	native_rc=$(cat "$work/native.rc")
	cp "$work/native.out" "$work/native.cmp"
	cp "$work/ward.out" "$work/ward.cmp"
	filter "$work/native.cmp"
	filter "$work/ward.cmp"
	printf '[exit status %s]\n' "$native_rc" >>"$work/native.cmp"
	printf '[exit status %s]\n' "$ward_rc" >>"$work/ward.cmp"
	if ! diff -u --label native --label "ward ($platform, $user)" "$work/native.cmp" "$work/ward.cmp" >"$work/diff"; then
		problems+=("stdout or exit status differs from native (- native, + ward):")
		problems+=("$(cat "$work/diff")")
	fi
fi
if [ -n "$expect_status" ] && [ "$ward_rc" != "$expect_status" ]; then
	problems+=("exit status $ward_rc, expected $expect_status")
fi
if [ "$have_expect_stdout" = yes ] && [ "$(cat "$work/ward.out")" != "$expect_stdout" ]; then
	problems+=("stdout is \"$(head -c 300 "$work/ward.out")\", expected \"$expect_stdout\"")
fi
if [ "$stderr_nonempty" = yes ] && [ ! -s "$work/ward.err" ]; then
	problems+=("nothing on stderr; ward should say why the guest ended")
fi

if [ ${#problems[@]} -eq 0 ]; then
	echo "PASS [$label] on $platform as $user: status $ward_rc"
	if [ "$stderr_nonempty" = yes ]; then
		echo "  ward said: $(head -n 3 "$work/ward.err")"
	fi
	exit 0
fi
echo "FAIL [$label] on $platform as $user:" >&2
for p in "${problems[@]}"; do
	echo "  $p" >&2
done
if [ "$compare" = no ]; then
	echo "--- ward stdout (first 40 lines):" >&2
	head -n 40 "$work/ward.out" >&2
fi
if [ -s "$work/ward.err" ]; then
	echo "--- ward stderr (last 40 lines):" >&2
	tail -n 40 "$work/ward.err" >&2
fi
exit 1
