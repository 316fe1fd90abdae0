#!/usr/bin/env bash
# ward benchmark runner: runs every benchmark natively and under each sandbox, side by
# side, pinned to one CPU and unpinned, and prints one Markdown table per mode with each
# sandbox's figure and its ratio to native. Also writes bench/results/<date>.json (all
# samples) and bench/results/<date>.md (the tables with the machine/version header, ready
# to paste into bench/RESULTS.md).
#
# Usage: bench/run.sh [options]          (build first: cmake -B build && cmake --build build)
#   --quick             fewer repetitions and shorter loops (~1/3 of the time)
#   --ward PATH         ward binary (default: <repo>/build/ward)
#   --build DIR         build directory holding bench/micro/ (default: <repo>/build)
#   --reps K            runs per sandbox of each self-timed benchmark (default 7, quick 3)
#   --runs R            timed runs per sandbox of each wall-time benchmark (default 11, quick 5)
#   --budget-ms MS      target duration of one self-timed run; sets each sandbox's loop
#                       count from a calibration run (default 150, quick 50)
#   --modes LIST        comma list of pinned,unpinned (default both)
#   --cpu N             CPU used in pinned mode (default 0)
#   --sandboxes LIST    comma list of native,ward,runsc,proot (default all; native is
#                       always run, as it is the ratio reference)
#   --only LIST         comma list of benchmark ids to run (default all; see BENCHMARKS)
#   --runsc-flags STR   extra runsc flags, e.g. "--ignore-cgroups" (as non-root,
#                       --rootless is added automatically)
#   --srcdir DIR        where the gcc workload's input x.c is generated (default
#                       /var/tmp/ward-bench-src.<uid>); ward gets it with --ro-bind
#   --timeout S         a sandboxed run taking longer is killed and the cell is n/a
#                       (default 60)
#   --no-save           do not write bench/results/
#   -h, --help
#
# Method. Within each repetition every sandbox runs once, in a fixed order
# (native ward runsc proot native ward ...), so drift of the machine hits all of them
# alike; figures are medians. Pinned mode runs this whole runner under `taskset -c CPU`,
# so the sandbox and the sandboxed program share one core; unpinned mode leaves the
# scheduler free (on this kind of VM a cross-core wake-up costs ~100 µs, which dominates
# any ptrace-based sandbox). The runner's environment is reset to the one ward gives its
# guests (PATH, HOME, LANG=C.UTF-8; TMPDIR kept), so native, runsc and proot programs
# see the same environment as ward's.
#
# Adding a benchmark: append a line "id|kind|title|command[|probe]" to BENCHMARKS below.
#   selftimed: the program is run once per repetition, prints "<id> <value>" itself;
#              @N@ in its command is replaced by the calibrated loop count; the optional
#              probe is the loop count of the first calibration run (default 200; use
#              a small one for slow operations).
#   wall:      the command's start-to-exit wall time, measured by bench_timeit.
#   The command is split into words like a shell would (quotes work; use \$ for a
#   literal $). @BIN@ is replaced by the directory holding the bench_* programs and
#   @SRC@ by the directory holding the generated gcc input.
# Targets checked at the end of each table: TARGETS below.
set -uo pipefail

BENCHMARKS=(
  "getppid_ns|selftimed|getppid() syscall, per call|@BIN@/bench_getppid @N@"
  "fork_wait_ns|selftimed|fork + exit + wait4, per child|@BIN@/bench_fork_wait @N@|20"
  "fork_exec_ns|selftimed|fork + execve /bin/true + wait4, per child|@BIN@/bench_fork_exec @N@|5"
  "pipe_pingpong_ns|selftimed|pipe round trip between 2 processes|@BIN@/bench_pipe_pingpong @N@|50"
  "open_close_ns|selftimed|open + close of /etc/passwd|@BIN@/bench_open_close @N@"
  "stat_ns|selftimed|stat of /etc/passwd|@BIN@/bench_stat @N@"
  "pread_4k_ns|selftimed|pread 4 KiB of /etc/services (cached)|@BIN@/bench_pread_4k @N@"
  "write_null_ns|selftimed|write 1 byte to /dev/null|@BIN@/bench_write_null @N@"
  "mmap_munmap_ns|selftimed|mmap + munmap of 1 anonymous page|@BIN@/bench_mmap_munmap @N@"
  "page_fault_ns|selftimed|page fault on fresh anonymous memory, per page|@BIN@/bench_page_fault @N@"
  "futex_pingpong_ns|selftimed|futex wake/wait round trip between 2 threads|@BIN@/bench_futex_pingpong @N@|50"
  "clock_gettime_ns|selftimed|clock_gettime(CLOCK_MONOTONIC) via libc|@BIN@/bench_clock_gettime @N@"
  "true_wall_ns|wall|/bin/true, start to exit|/bin/true"
  "sh_loop_wall_ns|wall|sh loop running /bin/true 30 times, start to exit|/bin/sh -c 'i=0; while [ \$i -lt 30 ]; do /bin/true; i=\$((i+1)); done'"
  "python_pass_wall_ns|wall|python3 -c pass, start to exit|/usr/bin/python3 -c pass"
  "python_import_wall_ns|wall|python3 -c 'import json, email, http.client', start to exit|/usr/bin/python3 -c 'import json, email, http.client'"
  "gcc_wall_ns|wall|gcc -c of a ~200-line C file, start to exit|/usr/bin/gcc -c @SRC@/x.c -o /tmp/x.o"
)
ALL_IDS=()
for spec in "${BENCHMARKS[@]}"; do ALL_IDS+=("${spec%%|*}"); done

# The lead's targets for ward, against runsc-ptrace (checked below each table):
# "id|max ward/runsc ratio|description". Issue 2: the first two. Issue 3: every process
# benchmark (fork, exec, pipes between processes, and the multi-process workloads) at or
# below runsc's time, and the shell loop and gcc at most half of runsc's.
TARGETS=(
  "getppid_ns|1|getppid, ward ≤ runsc (issue 2)"
  "true_wall_ns|0.2|/bin/true, ward ≥5x faster than runsc (issue 2)"
  "fork_wait_ns|1|fork_wait, ward ≤ runsc (issue 3)"
  "fork_exec_ns|1|fork_exec, ward ≤ runsc (issue 3)"
  "pipe_pingpong_ns|1|pipe_pingpong, ward ≤ runsc (issue 3)"
  "python_pass_wall_ns|1|python3 -c pass, ward ≤ runsc (issue 3)"
  "python_import_wall_ns|1|python3 imports, ward ≤ runsc (issue 3)"
  "sh_loop_wall_ns|0.5|sh loop, ward ≤ 1/2 runsc (issue 3)"
  "gcc_wall_ns|0.5|gcc -c, ward ≤ 1/2 runsc (issue 3)"
)
# Programs built from bench/micro/<name>.c as bench_<name>.
BENCH_PROGS=(getppid fork_wait fork_exec pipe_pingpong open_close stat pread_4k write_null
  mmap_munmap page_fault futex_pingpong clock_gettime timeit)
ALL_SANDBOXES=(native ward runsc proot)

SELF=$(readlink -f "${BASH_SOURCE[0]}")
BENCH_DIR=$(dirname "$SELF")
REPO=$(dirname "$BENCH_DIR")

die() { echo "run.sh: $*" >&2; exit 1; }
log() { echo "[bench] $*" >&2; }

# ---------------------------------------------------------------------------- worker
# The worker runs one mode; its configuration arrives in WB_* environment variables and
# it writes one small key=value file per (benchmark, sandbox) under $WB_STATE/$mode/.

# Sets the array P to the command prefix that runs a program inside sandbox $1.
sandbox_prefix() {
  case $1 in
    native) P=() ;;
    ward) P=("$WB_WARD" run --platform=ptrace --ro-bind "$WB_BINDIR" --ro-bind "$WB_SRCDIR" --) ;;
    runsc)
      local -a extra
      read -ra extra <<<"$WB_RUNSC_FLAGS"
      P=(runsc "${extra[@]}" --network=none --platform=ptrace "do") ;;
    proot) P=(proot) ;;
    *) die "unknown sandbox $1" ;;
  esac
}

# Prints "" if sandbox $1 can be tried at all, else the n/a reason.
sandbox_precheck() {
  case $1 in
    native) ;;
    ward)
      if [[ ! -e $WB_WARD ]]; then echo "ward failed: $WB_WARD: not found (not built?)"
      elif [[ ! -x $WB_WARD ]]; then echo "ward failed: $WB_WARD: not executable"
      fi ;;
    runsc) command -v runsc >/dev/null || echo "runsc not installed" ;;
    proot) command -v proot >/dev/null || echo "proot not installed" ;;
  esac
}

# Replaces @BIN@, @SRC@ and @N@ in template $1 and splits it into words like the shell
# (the templates are this script's own BENCHMARKS), into the array CMD.
expand_cmd() {
  local t=$1
  t=${t//@BIN@/$(printf %q "$WB_BINDIR")}
  t=${t//@SRC@/$(printf %q "$WB_SRCDIR")}
  t=${t//@N@/${2:-}}
  eval "CMD=($t)"
}

# True if benchmark $1 is selected (--only).
selected() { [[ -z ${WB_ONLY:-} || ,$WB_ONLY, == *,$1,* ]]; }

# One-line, table-safe failure reason: first non-empty stderr line, else the exit status.
failure_reason() { # sandbox rc stderr-file [what]
  local line
  line=$(grep -m1 -v '^[[:space:]]*$' "$3" 2>/dev/null | tr -d '\r' | tr '|' '/' | cut -c1-140)
  if [[ $2 -eq 124 ]]; then line="timed out after ${WB_TIMEOUT}s${line:+: $line}"
  elif [[ -z $line ]]; then line="exit status $2${4:+, $4}"
  fi
  echo "$1 failed: $line"
}

put() { # file key=value...
  local f=$1; shift
  printf '%s\n' "$@" >"$f"
}

median() { sort -g | awk '{a[NR]=$1} END{if(NR==0)exit 1; if(NR%2)print a[(NR+1)/2]; else printf "%.1f\n",(a[NR/2]+a[NR/2+1])/2}'; }

# Loop count for a self-timed run of ~WB_BUDGET_MS at $1 ns per iteration.
calib_n() { awk -v b="$WB_BUDGET_MS" -v c="$1" 'BEGIN{n=int(b*1e6/c); if(n<10)n=10; if(n>5000000)n=5000000; print n}'; }

worker() {
  local mode=$1 out="$WB_STATE/$1"
  mkdir -p "$out"
  local cpus
  cpus=$(taskset -pc $$ 2>/dev/null | sed 's/.*: //')
  echo "$cpus" >"$out/cpus"
  log "mode $mode: CPUs allowed: $cpus"
  local -a sbs
  read -ra sbs <<<"$WB_SANDBOXES"
  local err
  err=$(mktemp)

  local spec id kind title tmpl probe sb
  for spec in "${BENCHMARKS[@]}"; do
    IFS='|' read -r id kind title tmpl probe <<<"$spec"
    selected "$id" || continue
    mkdir -p "$out/$id"
    local -a live=()
    declare -A N=()
    # Probe (also warms caches) and, for self-timed benchmarks, calibrate the loop count.
    for sb in "${sbs[@]}"; do
      local f="$out/$id/$sb" why rc stdout
      why=$(sandbox_precheck "$sb")
      if [[ -n $why ]]; then put "$f" status=na "reason=$why"; continue; fi
      sandbox_prefix "$sb"
      if [[ $kind == selftimed ]]; then
        expand_cmd "$tmpl" "${probe:-200}"
        stdout=$(timeout -k 5 "$WB_TIMEOUT" "${P[@]}" "${CMD[@]}" </dev/null 2>"$err"); rc=$?
        local v
        v=$(awk -v k="$id" '$1==k && $2+0>0 {print $2; exit}' <<<"$stdout")
        if [[ $rc -ne 0 || -z $v ]]; then
          put "$f" status=na "reason=$(failure_reason "$sb" "$rc" "$err" "no '$id' line in output")"
          log "mode $mode: $id: $sb unavailable: $(cat "$f" | sed -n 's/^reason=//p')"
          continue
        fi
        # A short probe run overestimates the cost (first calls are slow in some sandboxes),
        # so refine once with a run of the estimated length before fixing N.
        local n0
        n0=$(calib_n "$v")
        expand_cmd "$tmpl" "$n0"
        stdout=$(timeout -k 5 "$WB_TIMEOUT" "${P[@]}" "${CMD[@]}" </dev/null 2>"$err"); rc=$?
        v=$(awk -v k="$id" '$1==k && $2+0>0 {print $2; exit}' <<<"$stdout")
        if [[ $rc -ne 0 || -z $v ]]; then
          put "$f" status=na "reason=$(failure_reason "$sb" "$rc" "$err" "no '$id' line in output")"
          continue
        fi
        N[$sb]=$(calib_n "$v")
      else
        expand_cmd "$tmpl"
        timeout -k 5 "$WB_TIMEOUT" "${P[@]}" "${CMD[@]}" </dev/null >/dev/null 2>"$err"; rc=$?
        if [[ $rc -ne 0 ]]; then
          put "$f" status=na "reason=$(failure_reason "$sb" "$rc" "$err")"
          log "mode $mode: $id: $sb unavailable: $(sed -n 's/^reason=//p' "$f")"
          continue
        fi
      fi
      live+=("$sb")
    done

    if [[ $kind == selftimed ]]; then
      declare -A S=() dead=()
      local rep
      for ((rep = 1; rep <= WB_REPS; rep++)); do
        log "mode $mode: $id: repetition $rep/$WB_REPS"
        for sb in "${live[@]}"; do
          [[ -n ${dead[$sb]:-} ]] && continue
          sandbox_prefix "$sb"
          expand_cmd "$tmpl" "${N[$sb]}"
          stdout=$(timeout -k 5 "$WB_TIMEOUT" "${P[@]}" "${CMD[@]}" </dev/null 2>"$err"); rc=$?
          v=$(awk -v k="$id" '$1==k && $2+0>0 {print $2; exit}' <<<"$stdout")
          if [[ $rc -ne 0 || -z $v ]]; then
            dead[$sb]=1
            put "$out/$id/$sb" status=na \
              "reason=$(failure_reason "$sb" "$rc" "$err" "no '$id' line in output") (in run $rep)"
            continue
          fi
          S[$sb]+="$v "
        done
      done
      for sb in "${live[@]}"; do
        [[ -n ${dead[$sb]:-} ]] && continue
        local m
        m=$(tr ' ' '\n' <<<"${S[$sb]}" | grep . | median)
        put "$out/$id/$sb" status=ok "median=$m" "samples=${S[$sb]% }" "n=${N[$sb]}"
      done
      unset S dead
    else
      if ((${#live[@]})); then
        local -a targs=()
        for sb in "${live[@]}"; do
          sandbox_prefix "$sb"
          expand_cmd "$tmpl"
          ((${#targs[@]})) && targs+=(":::")
          targs+=("${P[@]}" "${CMD[@]}")
        done
        log "mode $mode: $id: ${WB_RUNS} interleaved runs of: ${live[*]}"
        local res
        res=$("$WB_BINDIR/bench_timeit" -r "$WB_RUNS" -w 1 -t "$WB_TIMEOUT" "${targs[@]}" 2>"$err")
        local i=0 line
        for sb in "${live[@]}"; do
          line=$(awk -v i=$i '$1=="cmd" && $2==i' <<<"$res")
          local med fails samples
          med=$(awk '{print $4}' <<<"$line")
          fails=$(awk '{print $12}' <<<"$line")
          samples=$(sed -n 's/.* samples *//p' <<<"$line")
          if [[ -z $line || $med == - ]]; then
            put "$out/$id/$sb" status=na "reason=$sb failed: every timed run failed"
          elif [[ $fails != 0 ]]; then
            put "$out/$id/$sb" status=na "reason=$sb failed: $fails of $WB_RUNS runs failed"
          else
            put "$out/$id/$sb" status=ok "median=$med" "samples=$samples" "n=$WB_RUNS"
          fi
          i=$((i + 1))
        done
      fi
    fi
    unset N
  done
  rm -f "$err"
}

if [[ ${1:-} == --_worker ]]; then
  worker "$2"
  exit 0
fi

# ---------------------------------------------------------------------------- options
QUICK=0 WARD="" BUILD="$REPO/build" REPS="" RUNS="" BUDGET="" MODES="pinned,unpinned"
CPU=0 SANDBOXES="" SAVE=1 TIMEOUT=60 RUNSC_FLAGS="" ONLY="" SRCDIR=""
# runsc needs root for its cgroup setup; unprivileged it works with --rootless.
(($(id -u) == 0)) || RUNSC_FLAGS="--rootless"
ORIG_ARGS=("$@")
while (($#)); do
  case $1 in
    --quick) QUICK=1 ;;
    --ward) WARD=${2:?--ward needs a path}; shift ;;
    --ward=*) WARD=${1#*=} ;;
    --build) BUILD=${2:?}; shift ;;
    --reps) REPS=${2:?}; shift ;;
    --runs) RUNS=${2:?}; shift ;;
    --budget-ms) BUDGET=${2:?}; shift ;;
    --modes) MODES=${2:?}; shift ;;
    --cpu) CPU=${2:?}; shift ;;
    --sandboxes) SANDBOXES=${2:?}; shift ;;
    --only) ONLY=${2:?}; shift ;;
    --srcdir) SRCDIR=${2:?}; shift ;;
    --timeout) TIMEOUT=${2:?}; shift ;;
    --runsc-flags) RUNSC_FLAGS+=" ${2?}"; shift ;;
    --no-save) SAVE=0 ;;
    -h | --help) sed -n '2,/^set -uo/p' "$SELF" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done
if ((QUICK)); then : "${REPS:=3}" "${RUNS:=5}" "${BUDGET:=50}"
else : "${REPS:=7}" "${RUNS:=11}" "${BUDGET:=150}"; fi
[[ -z $WARD ]] && WARD="$BUILD/ward"
[[ $WARD == /* ]] || WARD="$PWD/$WARD"
BUILD=$(readlink -f "$BUILD" 2>/dev/null || echo "$BUILD")

# Sandboxes, native first (the reference), in the fixed interleaving order.
SBS=(native)
for sb in "${ALL_SANDBOXES[@]:1}"; do
  if [[ -z $SANDBOXES || ,$SANDBOXES, == *,$sb,* ]]; then SBS+=("$sb"); fi
done
WB_ONLY=$ONLY # for selected()
IFS=, read -ra ONLY_LIST <<<"$ONLY"
for id in "${ONLY_LIST[@]}"; do
  [[ " ${ALL_IDS[*]} " == *" $id "* ]] || die "unknown benchmark $id (known: ${ALL_IDS[*]})"
done
IFS=, read -ra MODE_LIST <<<"$MODES"
for m in "${MODE_LIST[@]}"; do
  [[ $m == pinned || $m == unpinned ]] || die "unknown mode $m"
done

# ---------------------------------------------------------------------------- binaries
BINDIR="$BUILD/bench/micro"
missing=0
for p in "${BENCH_PROGS[@]}"; do [[ -x $BINDIR/bench_$p ]] || missing=1; done
if ((missing)); then
  # Not built (or the main build is broken): compile the programs on the side.
  BINDIR="${TMPDIR:-/tmp}/ward-bench-bin.$(id -u)"
  mkdir -p "$BINDIR"
  log "$BUILD/bench/micro lacks some bench programs; compiling them into $BINDIR"
  for p in "${BENCH_PROGS[@]}"; do
    cc -static -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -o "$BINDIR/bench_$p" \
      "$BENCH_DIR/micro/$p.c" || die "cannot compile bench/micro/$p.c"
  done
fi

# ---------------------------------------------------------------------------- inputs
# The gcc workload compiles a generated ~200-line C file (structs, loops, a switch,
# string and stdio calls; every function reachable, so none is dropped unseen) from a
# directory outside /tmp that ward gets with --ro-bind; the object goes to /tmp.
gen_source() {
  local i
  echo "/* Generated by bench/run.sh: input of the gcc_wall_ns benchmark. */"
  echo "#include <stdio.h>"
  echo "#include <stdlib.h>"
  echo "#include <string.h>"
  echo
  echo "#define CLAMP(x, lo, hi) ((x) < (lo) ? (lo) : (x) > (hi) ? (hi) : (x))"
  echo
  for i in $(seq 0 6); do
    cat <<EOF2
struct rec$i {
    int id;
    long weight;
    char name[24];
};

static long score$i(const struct rec$i *r, int n, const char *key) {
    long acc = $i;
    for (int k = 0; k < n; k++) {
        switch ((r[k].id + k) % 4) {
        case 0: acc += r[k].weight * $((i + 3)); break;
        case 1: acc -= CLAMP(r[k].weight, -$((i + 10)), $((i + 10))); break;
        case 2: acc ^= (long)strlen(r[k].name); break;
        default: acc += strcmp(r[k].name, key) < 0 ? 1 : -1; break;
        }
    }
    return acc;
}

EOF2
  done
  echo "long bench_all(int n) {"
  echo "    long total = 0;"
  for i in $(seq 0 6); do
    cat <<EOF2
    {
        struct rec$i *r = calloc((size_t)n, sizeof *r);
        if (!r) return -1;
        for (int k = 0; k < n; k++) { r[k].id = k; r[k].weight = k * $((i + 1)); snprintf(r[k].name, sizeof r[k].name, "r$i-%d", k); }
        total += score$i(r, n, "r$i-5");
        free(r);
    }
EOF2
  done
  echo "    return total;"
  echo "}"
}
[[ -n $SRCDIR ]] || { [[ -d /var/tmp ]] && SRCDIR="/var/tmp/ward-bench-src.$(id -u)" || SRCDIR="${TMPDIR:-/tmp}/ward-bench-src.$(id -u)"; }
[[ $SRCDIR == /* ]] || SRCDIR="$PWD/$SRCDIR"
mkdir -p "$SRCDIR" || die "cannot create $SRCDIR"
gen_source >"$SRCDIR/x.c.$$" && mv -f "$SRCDIR/x.c.$$" "$SRCDIR/x.c" || die "cannot write $SRCDIR/x.c"
SRC_LINES=$(wc -l <"$SRCDIR/x.c")

# ---------------------------------------------------------------------------- metadata
DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
STAMP=$(date -u +%Y-%m-%dT%H%M%SZ)
CPU_MODEL=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)
NPROC=$(nproc --all)
KERNEL=$(uname -r)
# (Whole outputs are captured before cutting: `cmd | head -1` could fail on SIGPIPE.)
RUNSC_VER="not installed" PROOT_VER="not installed"
if command -v runsc >/dev/null; then RUNSC_VER=$(runsc --version 2>&1); RUNSC_VER=${RUNSC_VER%%$'\n'*}; fi
if command -v proot >/dev/null; then
  PROOT_VER=$(proot --version 2>&1)
  [[ $PROOT_VER =~ [0-9]+\.[0-9]+\.[0-9]+ ]] && PROOT_VER=${BASH_REMATCH[0]} || PROOT_VER=unknown
fi
if git -C "$REPO" rev-parse --verify -q HEAD >/dev/null 2>&1; then
  WARD_GIT=$(git -C "$REPO" rev-parse --short HEAD)
  [[ -n $(git -C "$REPO" status --porcelain 2>/dev/null) ]] && WARD_GIT+="-dirty"
else
  WARD_GIT="no commit yet"
fi
CMDLINE="bench/run.sh${ORIG_ARGS[*]:+ ${ORIG_ARGS[*]}}"

STATE=$(mktemp -d)
trap 'rm -rf "$STATE"' EXIT
# The workers (and so every benchmarked program, native or sandboxed) get the
# environment ward gives its guests, plus their configuration.
GUEST_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WENV=(env -i "PATH=$GUEST_PATH" "HOME=${HOME:-/root}" LANG=C.UTF-8 ${TMPDIR:+"TMPDIR=$TMPDIR"}
  "WB_STATE=$STATE" "WB_WARD=$WARD" "WB_BINDIR=$BINDIR" "WB_SRCDIR=$SRCDIR" "WB_REPS=$REPS"
  "WB_RUNS=$RUNS" "WB_BUDGET_MS=$BUDGET" "WB_SANDBOXES=${SBS[*]}" "WB_TIMEOUT=$TIMEOUT"
  "WB_RUNSC_FLAGS=${RUNSC_FLAGS# }" "WB_ONLY=$ONLY")

T0=$(date +%s)
for m in "${MODE_LIST[@]}"; do
  if [[ $m == pinned ]]; then
    "${WENV[@]}" taskset -c "$CPU" bash "$SELF" --_worker pinned || die "pinned worker failed"
  else
    "${WENV[@]}" bash "$SELF" --_worker unpinned || die "unpinned worker failed"
  fi
done
log "done in $(($(date +%s) - T0)) s"

# ---------------------------------------------------------------------------- report
get() { sed -n "s/^$2=//p" "$1" 2>/dev/null; } # file key

fmt_time() { # ns -> 3 significant digits in a fitting unit
  awk -v v="$1" 'BEGIN{
    if (v < 1e3) printf "%.3g ns", v; else if (v < 1e6) printf "%.3g µs", v/1e3;
    else if (v < 1e9) printf "%.3g ms", v/1e6; else printf "%.3g s", v/1e9 }'
}
fmt_ratio() { awk -v r="$1" 'BEGIN{ if (r < 0.1) printf "%.2g", r; else if (r < 10) printf "%.2f", r; else if (r < 100) printf "%.1f", r; else printf "%.0f", r }'; }

COLS=(native ward runsc proot)
declare -A HEAD=([native]=native [ward]=ward-ptrace [runsc]=runsc-ptrace [proot]=proot)

report() {
  echo "## $DATE"
  echo
  echo "- command: \`$CMDLINE\`"
  echo "- machine: $NPROC CPUs ($CPU_MODEL), kernel $KERNEL"
  echo "- versions: runsc \`$RUNSC_VER\`, proot $PROOT_VER, ward $WARD_GIT (\`$WARD\`)"
  local sb inv=""
  for sb in "${SBS[@]:1}"; do
    WB_WARD=$WARD WB_BINDIR=$BINDIR WB_SRCDIR=$SRCDIR WB_RUNSC_FLAGS=${RUNSC_FLAGS# } sandbox_prefix "$sb"
    inv+="${inv:+; }$sb: \`${P[*]} CMD\`"
  done
  echo "- invocations: ${inv:-native only}"
  echo "- method: self-timed benchmarks: median of $REPS runs (loop length calibrated to ~$BUDGET ms per run); wall-time benchmarks: median of $RUNS runs by bench_timeit (1 warm-up); sandboxes interleaved within each repetition; environment of every run: \`PATH=$GUEST_PATH HOME=${HOME:-/root} LANG=C.UTF-8\` (ward's guest environment)"
  if selected gcc_wall_ns; then
    echo "- gcc input: \`$SRCDIR/x.c\`, $SRC_LINES lines generated by run.sh"
  fi
  local m spec id kind title tmpl probe f
  for m in "${MODE_LIST[@]}"; do
    echo
    if [[ $m == pinned ]]; then echo "### pinned (\`taskset -c $CPU\`, CPUs allowed: $(cat "$STATE/$m/cpus"))"
    else echo "### unpinned (CPUs allowed: $(cat "$STATE/$m/cpus"))"; fi
    echo
    local hdr="| benchmark |" sep="|---|"
    for sb in "${COLS[@]}"; do hdr+=" ${HEAD[$sb]} |"; sep+="---|"; done
    echo "$hdr"; echo "$sep"
    for spec in "${BENCHMARKS[@]}"; do
      IFS='|' read -r id kind title tmpl probe <<<"$spec"
      selected "$id" || continue
      local nat="" row="| $title |"
      [[ $(get "$STATE/$m/$id/native" status) == ok ]] && nat=$(get "$STATE/$m/$id/native" median)
      for sb in "${COLS[@]}"; do
        f="$STATE/$m/$id/$sb"
        if [[ ! -e $f ]]; then row+=" not run |"
        elif [[ $(get "$f" status) == ok ]]; then
          local v; v=$(get "$f" median)
          if [[ -n $nat ]]; then row+=" $(fmt_time "$v") (x$(fmt_ratio "$(awk -v a="$v" -v b="$nat" 'BEGIN{print a/b}')")) |"
          else row+=" $(fmt_time "$v") |"; fi
        else row+=" n/a ($(get "$f" reason)) |"
        fi
      done
      echo "$row"
    done
    # Run-to-run spread, so a noisy median is visible as such.
    echo
    local sp="- spread (max/min over runs):"
    for spec in "${BENCHMARKS[@]}"; do
      IFS='|' read -r id kind title tmpl probe <<<"$spec"
      selected "$id" || continue
      local part=""
      for sb in "${COLS[@]}"; do
        f="$STATE/$m/$id/$sb"
        [[ -e $f && $(get "$f" status) == ok ]] || continue
        part+="${part:+, }$sb $(get "$f" samples | tr ' ' '\n' | sort -g | awk 'NR==1{a=$1} {b=$1} END{printf "%.2f", b/a}')"
      done
      sp+=" $id: ${part:-none};"
    done
    echo "${sp%;}"
    local ln="- loop length per run:"
    for spec in "${BENCHMARKS[@]}"; do
      IFS='|' read -r id kind title tmpl probe <<<"$spec"
      selected "$id" || continue
      [[ $kind == selftimed ]] || continue
      local ns=""
      for sb in "${COLS[@]}"; do
        f="$STATE/$m/$id/$sb"
        [[ -e $f && $(get "$f" status) == ok ]] && ns+="${ns:+, }$sb $(get "$f" n)"
      done
      ln+=" $id: ${ns:-none};"
    done
    echo "${ln%;}"
    # ward against runsc on every row (information), then the lead's targets.
    local wr="" w r
    for spec in "${BENCHMARKS[@]}"; do
      IFS='|' read -r id kind title tmpl probe <<<"$spec"
      selected "$id" || continue
      if [[ $(get "$STATE/$m/$id/ward" status) == ok && $(get "$STATE/$m/$id/runsc" status) == ok ]]; then
        w=$(get "$STATE/$m/$id/ward" median); r=$(get "$STATE/$m/$id/runsc" median)
        wr+="${wr:+, }${id%_ns} $(fmt_ratio "$(awk -v a="$w" -v b="$r" 'BEGIN{print a/b}')")"
      else
        wr+="${wr:+, }${id%_ns} -"
      fi
    done
    echo "- ward/runsc on every row (below 1: ward faster; - : one of them n/a): $wr"
    local tgt tid tmax tdesc met=0 all=0
    for tgt in "${TARGETS[@]}"; do
      IFS='|' read -r tid tmax tdesc <<<"$tgt"
      selected "$tid" || continue
      all=$((all + 1))
      if [[ $(get "$STATE/$m/$tid/ward" status) == ok && $(get "$STATE/$m/$tid/runsc" status) == ok ]]; then
        w=$(get "$STATE/$m/$tid/ward" median); r=$(get "$STATE/$m/$tid/runsc" median)
        local ok; ok=$(awk -v a="$w" -v b="$r" -v t="$tmax" 'BEGIN{print (a <= t*b) ? 1 : 0}')
        met=$((met + ok))
        echo "- target $tdesc: ward/runsc = $(fmt_ratio "$(awk -v a="$w" -v b="$r" 'BEGIN{print a/b}')") (needs ≤ $tmax) — $( ((ok)) && echo met || echo "NOT met")"
      else
        echo "- target $tdesc: cannot compare (ward or runsc n/a)"
      fi
    done
    ((all)) && echo "- targets met: $met of $all"
  done
}

json_str() { # JSON string literal
  local s=$1
  s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\t'/ }; s=${s//$'\n'/ }
  printf '"%s"' "$s"
}

json() {
  local m spec id kind title tmpl probe sb f first_m=1 first_b first_s
  echo "{"
  echo "  \"schema\": 1,"
  echo "  \"date\": $(json_str "$DATE"),"
  echo "  \"command\": $(json_str "$CMDLINE"),"
  echo "  \"machine\": {\"nproc\": $NPROC, \"kernel\": $(json_str "$KERNEL"), \"cpu\": $(json_str "$CPU_MODEL")},"
  echo "  \"versions\": {\"runsc\": $(json_str "$RUNSC_VER"), \"proot\": $(json_str "$PROOT_VER"), \"ward_git\": $(json_str "$WARD_GIT"), \"ward_path\": $(json_str "$WARD")},"
  echo "  \"params\": {\"quick\": $( ((QUICK)) && echo true || echo false), \"reps\": $REPS, \"runs\": $RUNS, \"budget_ms\": $BUDGET, \"pinned_cpu\": $CPU, \"only\": $(json_str "$ONLY"), \"gcc_source\": $(json_str "$SRCDIR/x.c"), \"gcc_source_lines\": $SRC_LINES, \"guest_path\": $(json_str "$GUEST_PATH")},"
  echo "  \"modes\": {"
  for m in "${MODE_LIST[@]}"; do
    ((first_m)) || echo ","
    first_m=0
    echo "    $(json_str "$m"): {\"cpus\": $(json_str "$(cat "$STATE/$m/cpus")"), \"benchmarks\": {"
    first_b=1
    for spec in "${BENCHMARKS[@]}"; do
      IFS='|' read -r id kind title tmpl probe <<<"$spec"
      selected "$id" || continue
      ((first_b)) || echo ","
      first_b=0
      printf '      %s: {"title": %s, "kind": %s, "command": %s, "unit": "ns", "results": {' "$(json_str "$id")" "$(json_str "$title")" "$(json_str "$kind")" "$(json_str "$tmpl")"
      first_s=1
      for sb in "${SBS[@]}"; do
        f="$STATE/$m/$id/$sb"
        [[ -e $f ]] || continue
        ((first_s)) || printf ','
        first_s=0
        printf '\n        %s: ' "$(json_str "$sb")"
        if [[ $(get "$f" status) == ok ]]; then
          local samples; samples=$(get "$f" samples | tr -s ' ' | sed 's/ /, /g')
          printf '{"status": "ok", "median": %s, "n": %s, "samples": [%s]}' "$(get "$f" median)" "$(get "$f" n)" "$samples"
        else
          printf '{"status": "na", "reason": %s}' "$(json_str "$(get "$f" reason)")"
        fi
      done
      printf '}}'
    done
    printf '\n    }}'
  done
  echo
  echo "  }"
  echo "}"
}

REPORT=$(report)
echo
echo "$REPORT"
if ((SAVE)); then
  mkdir -p "$BENCH_DIR/results"
  json >"$BENCH_DIR/results/$STAMP.json"
  echo "$REPORT" >"$BENCH_DIR/results/$STAMP.md"
  if command -v python3 >/dev/null; then
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$BENCH_DIR/results/$STAMP.json" ||
      log "warning: $BENCH_DIR/results/$STAMP.json is not valid JSON"
  fi
  echo
  log "saved bench/results/$STAMP.json and bench/results/$STAMP.md"
fi
