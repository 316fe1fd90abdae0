#!/usr/bin/env bash
# ward benchmark runner: runs every benchmark natively and under each sandbox, side by
# side, pinned to one CPU and unpinned, and prints one Markdown table per mode with each
# sandbox's figure and its ratio to native. Also writes bench/results/<date>.json (all
# samples) and bench/results/<date>.md (the tables with the machine/version header, ready
# to paste into bench/RESULTS.md).
#
# Usage: bench/run.sh [options]          (build first: cmake -B build && cmake --build build)
#   or:  cmake --build build --target bench   (same as: make -C build bench), which builds
#        ward and the bench programs and runs `bench/run.sh --install-missing --record`
#   --quick             pinned only, fewer repetitions and shorter loops, a subset of
#                       the rows (QUICK_ROWS: one per kind of cost; ~30 s)
#   --ward PATH         ward binary (default: <repo>/build/ward)
#   --build DIR         build directory holding bench/micro/ (default: <repo>/build)
#   --reps K            runs per sandbox of each self-timed benchmark (default 7, quick 3)
#   --runs R            timed runs per sandbox of each wall-time benchmark (default 9,
#                       quick 3; the heavy workloads use fewer, see BENCHMARKS)
#   --budget-ms MS      target duration of one self-timed run; sets each sandbox's loop
#                       count from a calibration run (default 80, quick 40)
#   --modes LIST        comma list of pinned,unpinned (default both; quick: pinned)
#   --cpu N             CPU used in pinned mode (default 0)
#   --sandboxes LIST    comma list of native,ward,ward-seccomp,runsc,runsc-netstack,proot
#                       (default all; native is always run, as it is the ratio reference;
#                       runsc-netstack only runs the NETWORK rows, see SANDBOX_ROWS)
#   --only LIST         comma list of benchmark ids to run (default all; see BENCHMARKS)
#   --mem-runs K        runs per sandbox of each memory measurement (default 3, quick 1;
#                       0: no memory table)
#   --runsc-flags STR   extra runsc flags, e.g. "--ignore-cgroups" (as non-root,
#                       --rootless is added automatically)
#   --srcdir DIR        where the inputs of the gcc, make and sqlite workloads are
#                       generated (default /var/tmp/ward-bench-src.<uid>); ward gets it
#                       with --ro-bind
#   --timeout S         a sandboxed run taking longer is killed and the cell is n/a
#                       (default 60)
#   --heavy-timeout S   the same for the heavy workloads (default 45: proot's tar of
#                       /usr/include unpinned takes 50-60 s here, and would cost that much
#                       every run for a figure ~65x native's)
#   --heavy-budget S    time a sandbox may spend on the timed runs of one heavy workload:
#                       it gets as many of the workload's runs as fit by its own run times,
#                       at least 1 (default 15; the table notes give every sandbox's count)
#   --install-missing   as root, apt-get install whichever of runsc, proot, gnuplot-nox
#                       is missing before starting
#   --record            also append the run's Markdown entry (with its chart) to
#                       bench/RESULTS.md
#   --no-save           do not write bench/results/ (implies no chart, no --record)
#   -h, --help
#
# Method. Within each repetition every sandbox runs once, in a fixed order
# (native ward runsc proot native ward ...), so drift of the machine hits all of them
# alike; figures are medians. Pinned mode runs this whole runner under `taskset -c CPU`,
# so the sandbox and the sandboxed program share one core; unpinned mode leaves the
# scheduler free (on this kind of VM a cross-core wake-up costs ~100 µs, which dominates
# any ptrace-based sandbox). The runner's environment is reset to the one ward gives its
# guests (PATH, HOME, LANG=C.UTF-8; TMPDIR kept), so native, runsc and proot programs
# see the same environment as ward's. Memory (MEMORY below): after the timed modes,
# unpinned, bench_memtree runs each listed workload under each sandbox and samples the
# summed Rss and Pss of its whole process tree from /proc (peak over the run).
#
# Adding a benchmark: append a line "id|kind|title|command[|extra[|max]]" to BENCHMARKS.
#   selftimed: the program is run once per repetition, prints "<id> <value>" itself;
#              @N@ in its command is replaced by the calibrated loop count; extra is
#              the loop count of the first calibration run (default 200; use a small
#              one for slow operations); max caps the calibrated loop count (for an
#              operation whose cost varies a lot, e.g. with the disk's state, so that
#              one run cannot take seconds when a calibration run was lucky).
#   wall:      the command's start-to-exit wall time, measured by bench_timeit; the
#              probe run is the warm-up. extra marks a heavy workload (seconds per run):
#              it is the number of timed runs (instead of --runs), of which a sandbox
#              gets as many as fit in --heavy-budget by its own run times (at least 1);
#              a run longer than --heavy-timeout is killed; only native gets a probe
#              run (warming the host's caches), the sandboxes none: a sandbox whose first
#              timed run fails is dropped (n/a, with that run's stderr); --quick skips
#              the workload unless --only names it (then half the runs, at least 1).
#   The command is split into words like a shell would (quotes work; use \$ for a
#   literal $). @BIN@ is replaced by the directory holding the bench_* programs, @SRC@
#   by the directory holding the generated inputs, @WS@ by the file benchmarks' workspace
#   (a directory on disk, ward's --workspace), @TMPFS@ by a tmpfs directory the
#   sandboxed program can write to (/tmp under ward, whose /tmp is a private tmpfs;
#   /dev/shm for the others: the host's /tmp may be a slow disk).
# A sandbox known not to support a benchmark yet gets a KNOWN_GAPS line: it is still
# tried, and if it fails its cell says "<sandbox>: <reason>" (the observed error is
# kept in the JSON). A sandbox that only makes sense for some rows gets a SANDBOX_ROWS
# line: it runs those rows only, and its figures go into a table of their own.
# Targets checked at the end of each table: TARGETS below.
set -uo pipefail

BENCHMARKS=(
  "getppid_ns|selftimed|getppid() through libc, per call|@BIN@/bench_getppid @N@"
  "getppid_syscall_ns|selftimed|getppid through glibc's generic syscall(), per call|@BIN@/bench_getppid @N@ syscall"
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
  "tcp_rr_ns|selftimed|loopback TCP round trip between 2 processes|@BIN@/bench_tcp_rr @N@|50"
  "clock_gettime_ns|selftimed|clock_gettime(CLOCK_MONOTONIC) via libc|@BIN@/bench_clock_gettime @N@"
  "create_delete_ns|selftimed|create + delete of small files in the workspace, per file|@BIN@/bench_create_delete @N@ @WS@|200|500"
  "true_wall_ns|wall|/bin/true, start to exit|/bin/true"
  "sh_loop_wall_ns|wall|sh loop running /bin/true 30 times, start to exit|/bin/sh -c 'i=0; while [ \$i -lt 30 ]; do /bin/true; i=\$((i+1)); done'"
  "python_pass_wall_ns|wall|python3 -c pass, start to exit|/usr/bin/python3 -c pass"
  "python_import_wall_ns|wall|python3 -c 'import json, email, http.client', start to exit|/usr/bin/python3 -c 'import json, email, http.client'"
  "gcc_wall_ns|wall|gcc -c of a ~200-line C file, start to exit|/usr/bin/gcc -c @SRC@/x.c -o /tmp/x.o"
  "make_wall_ns|wall|make -j2 of a 20-file C project in /tmp, start to exit|/bin/sh -c 'd=\$(mktemp -d /tmp/wb.XXXXXX) && cp -R \"\$1\"/. \"\$d\" && make -s -j2 -C \"\$d\" && rm -rf \"\$d\"' sh @SRC@/proj|3"
  "tar_wall_ns|wall|tar cf of /usr/include into a tmpfs and extract it back, start to exit|/bin/sh -c 'd=\$(mktemp -d \"\$1\"/wb.XXXXXX) && tar cf \"\$d\"/i.tar -C /usr include && mkdir \"\$d\"/x && tar xf \"\$d\"/i.tar -C \"\$d\"/x && rm -rf \"\$d\"' sh @TMPFS@|2"
  "sqlite_wall_ns|wall|10,000 sqlite inserts in one transaction (python3, /tmp), start to exit|/usr/bin/python3 @SRC@/sqlite_insert.py"
  "tcp_stream_wall_ns|wall|1 GiB through a loopback TCP socket between 2 processes, start to exit|@BIN@/bench_tcp_stream 1024|3"
)
ALL_IDS=()
for spec in "${BENCHMARKS[@]}"; do ALL_IDS+=("${spec%%|*}"); done
# What --quick runs (without --only): one row per kind of cost, ~30 s in all.
QUICK_ROWS=(getppid_ns getppid_syscall_ns fork_exec_ns pipe_pingpong_ns open_close_ns tcp_rr_ns true_wall_ns
  sh_loop_wall_ns python_pass_wall_ns gcc_wall_ns)

# The lead's targets for ward, against runsc-ptrace (checked below each table):
# "id|max ward/runsc ratio|description[|column]" (column: which of ward's; by default
# the column of the platform `ward run` uses when not told, as `ward platforms` says).
# Issue 2: the first two. Issue 3: every process
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
  "open_close_ns|1|open+close, ward ≤ runsc (issue 4)"
  "stat_ns|1|stat, ward ≤ runsc (issue 4)"
  "pread_4k_ns|1|4 KiB cached reads, ward ≤ runsc (issue 4)"
  "create_delete_ns|1|create+delete in the workspace, ward ≤ runsc (issue 4)"
  "tar_wall_ns|1|tar of /usr/include, ward ≤ runsc (issue 4)"
  "sqlite_wall_ns|1|sqlite inserts, ward ≤ runsc (issue 4)"
  "getppid_ns|0.25|getppid, ward-seccomp ≤ 1/4 runsc (issue 6)|ward-seccomp"
  "true_wall_ns|0.5|/bin/true, ward-seccomp ≤ 1/2 runsc (issue 6)|ward-seccomp"
  "sh_loop_wall_ns|0.5|sh loop, ward-seccomp ≤ 1/2 runsc (issue 6)|ward-seccomp"
  "python_pass_wall_ns|0.5|python3 -c pass, ward-seccomp ≤ 1/2 runsc (issue 6)|ward-seccomp"
  "gcc_wall_ns|0.5|gcc -c, ward-seccomp ≤ 1/2 runsc (issue 6)|ward-seccomp"
)
# Sandboxes that cannot run a benchmark yet, and why: "id|sandbox|reason". The run is
# still tried (a stale line is reported); if it fails the cell reads "n/a (sandbox:
# reason)".
KNOWN_GAPS=(
)
# Workloads whose memory is measured (peak Rss and Pss of the whole process tree).
MEMORY=(python_import_wall_ns gcc_wall_ns)
# The loopback network rows (issue 5), which also run under runsc-netstack.
NETWORK=(tcp_rr_ns tcp_stream_wall_ns)
# Sandboxes that run only some rows: "sandbox|row ids". runsc-netstack is runsc-ptrace
# with gVisor's network stack (--network=sandbox, loopback only; bench/runsc-netstack.sh)
# instead of --network=none, so it only differs on the network rows.
SANDBOX_ROWS=(
  "runsc-netstack|${NETWORK[*]}"
)
# Programs built from bench/micro/<name>.c as bench_<name>.
BENCH_PROGS=(getppid fork_wait fork_exec pipe_pingpong open_close stat pread_4k write_null
  mmap_munmap page_fault futex_pingpong tcp_rr clock_gettime create_delete tcp_stream timeit memtree)
ALL_SANDBOXES=(native ward ward-seccomp runsc runsc-netstack proot)

SELF=$(readlink -f "${BASH_SOURCE[0]}")
BENCH_DIR=$(dirname "$SELF")
REPO=$(dirname "$BENCH_DIR")

die() { echo "run.sh: $*" >&2; exit 1; }
log() { echo "[bench] $*" >&2; }

# ---------------------------------------------------------------------------- worker
# The worker runs one mode; its configuration arrives in WB_* environment variables and
# it writes one small key=value file per (benchmark, sandbox) under $WB_STATE/$mode/.

# Benchmarks that write into the workspace: runsc runs them with -force-overlay=false, so
# that it writes to the host directory as ward (through its gofer) and native do, instead
# of into its in-memory overlay (which would compare a disk with RAM).
RUNSC_HOST_WRITES=(create_delete_ns)

# Sets the array P to the command prefix that runs a program inside sandbox $1 (for
# benchmark $2, if given).
sandbox_prefix() {
  case $1 in
    native) P=() ;;
    ward) P=("$WB_WARD" run --platform=ptrace --ro-bind "$WB_BINDIR" --ro-bind "$WB_SRCDIR" --workspace "$WB_WSDIR" --) ;;
    ward-seccomp) P=("$WB_WARD" run --platform=seccomp --ro-bind "$WB_BINDIR" --ro-bind "$WB_SRCDIR" --workspace "$WB_WSDIR" --) ;;
    runsc)
      local -a extra
      read -ra extra <<<"$WB_RUNSC_FLAGS"
      P=(runsc "${extra[@]}" --network=none --platform=ptrace "do")
      [[ " ${RUNSC_HOST_WRITES[*]} " == *" ${2:-} "* ]] && P+=(-force-overlay=false) ;;
    runsc-netstack)
      local -a extra
      read -ra extra <<<"$WB_RUNSC_FLAGS"
      P=("$BENCH_DIR/runsc-netstack.sh" "${extra[@]}" --platform=ptrace --) ;;
    proot) P=(proot) ;;
    *) die "unknown sandbox $1" ;;
  esac
}

# Prints "" if sandbox $1 can be tried at all, else the n/a reason.
sandbox_precheck() {
  case $1 in
    native) ;;
    ward | ward-seccomp)
      if [[ ! -e $WB_WARD ]]; then echo "ward failed: $WB_WARD: not found (not built?)"
      elif [[ ! -x $WB_WARD ]]; then echo "ward failed: $WB_WARD: not executable"
      fi ;;
    runsc) command -v runsc >/dev/null || echo "runsc not installed" ;;
    runsc-netstack)
      if ! command -v runsc >/dev/null; then echo "runsc not installed"
      elif (($(id -u) != 0)); then echo "runsc-netstack needs root (a network namespace of its own; runsc --rootless has no sandbox network)"
      elif ! command -v unshare >/dev/null || ! command -v ip >/dev/null; then echo "runsc-netstack needs unshare and ip (util-linux, iproute2)"
      fi ;;
    proot) command -v proot >/dev/null || echo "proot not installed" ;;
  esac
}

# True if sandbox $1 runs benchmark $2 (see SANDBOX_ROWS).
sandbox_applies() {
  local line
  for line in "${SANDBOX_ROWS[@]}"; do
    [[ ${line%%|*} == "$1" ]] && { [[ " ${line#*|} " == *" $2 "* ]]; return; }
  done
  return 0
}

# Replaces @BIN@, @SRC@, @TMPFS@ (for sandbox $3) and @N@ (by $2) in template $1 and
# splits it into words like the shell (the templates are this script's own BENCHMARKS),
# into the array CMD.
expand_cmd() {
  local t=$1 tmpfs=/dev/shm
  [[ ${3:-} == ward* ]] && tmpfs=/tmp
  t=${t//@BIN@/$(printf %q "$WB_BINDIR")}
  t=${t//@SRC@/$(printf %q "$WB_SRCDIR")}
  t=${t//@WS@/$(printf %q "$WB_WSDIR")}
  t=${t//@TMPFS@/$tmpfs}
  t=${t//@N@/${2:-}}
  eval "CMD=($t)"
}

# Prints the KNOWN_GAPS reason for benchmark $1 under sandbox $2, if there is one.
known_gap() {
  local g gid gsb why
  for g in "${KNOWN_GAPS[@]}"; do
    IFS='|' read -r gid gsb why <<<"$g"
    if [[ $gid == "$1" && $gsb == "$2" ]]; then echo "$why"; return; fi
  done
}

# Writes an n/a result for ($1 benchmark, $2 sandbox) into file $3, reason $4: the
# KNOWN_GAPS reason if there is one (the observed failure goes to "detail").
put_na() {
  local gap
  gap=$(known_gap "$1" "$2")
  if [[ -n $gap ]]; then put "$3" status=na "reason=$2: $gap" "detail=$4"
  else put "$3" status=na "reason=$4"; fi
}

# True if benchmark $1 is selected: named by --only, or no --only and (with --quick) one
# of QUICK_ROWS.
selected() {
  [[ -n ${WB_ONLY:-} ]] && { [[ ,$WB_ONLY, == *,$1,* ]]; return; }
  ((${WB_QUICK:-0})) || return 0
  [[ " ${QUICK_ROWS[*]} " == *" $1 "* ]]
}

# One-line, table-safe failure reason: first non-empty stderr line (the last one after
# a Python traceback), else the exit status. A long line keeps its start and its end
# (where Go programs such as runsc put the root cause of a wrapped error).
failure_reason() { # sandbox rc stderr-file [what]
  local line
  line=$(grep -m1 -v '^[[:space:]]*$' "$3" 2>/dev/null)
  [[ $line == Traceback* ]] && line=$(grep -v '^[[:space:]]*$' "$3" | tail -n1)
  line=$(printf '%s' "$line" | tr -d '\r' | tr '|' '/')
  ((${#line} > 180)) && line="${line:0:70} … ${line: -105}"
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

# Loop count for a self-timed run of ~WB_BUDGET_MS at $1 ns per iteration, at most $2.
calib_n() { awk -v b="$WB_BUDGET_MS" -v c="$1" -v m="${2:-5000000}" 'BEGIN{n=int(b*1e6/c); if(n>m)n=m; if(n<10)n=10; print n}'; }

# The scratch directories the wall-time workloads make on the host (mktemp wb.XXXXXX in
# /tmp or /dev/shm; under ward and runsc they live inside the sandbox), one per line.
scratch_dirs() { compgen -G '/dev/shm/wb.*'; compgen -G '/tmp/wb.*'; true; }

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

  local spec id kind title tmpl probe maxn sb t_row t_run
  for spec in "${BENCHMARKS[@]}"; do
    IFS='|' read -r id kind title tmpl probe maxn <<<"$spec"
    selected "$id" || continue
    mkdir -p "$out/$id"
    # The suite's own time (µs), per row and per sandbox, for the timing table.
    t_row=${EPOCHREALTIME/./}
    # The workloads' scratch directories that a killed run (timeout) leaves behind: the
    # tar row's, in /dev/shm, hold up to ~270 MB of RAM each. Removed after the row.
    local scratch_before
    scratch_before=$(scratch_dirs)
    local -a live=()
    declare -A N=() T=()
    # Probe (also warms caches) and, for self-timed benchmarks, calibrate the loop count.
    # (Heavy wall workloads: native only; see "Adding a benchmark" above.)
    for sb in "${sbs[@]}"; do
      sandbox_applies "$sb" "$id" || continue
      local f="$out/$id/$sb" why rc stdout
      why=$(sandbox_precheck "$sb")
      if [[ -n $why ]]; then put "$f" status=na "reason=$why"; continue; fi
      if [[ $kind == wall && -n $probe && $sb != native ]]; then live+=("$sb"); continue; fi
      sandbox_prefix "$sb" "$id"
      t_run=${EPOCHREALTIME/./}
      if [[ $kind == selftimed ]]; then
        expand_cmd "$tmpl" "${probe:-200}" "$sb"
        stdout=$(timeout -k 5 "$WB_TIMEOUT" "${P[@]}" "${CMD[@]}" </dev/null 2>"$err"); rc=$?
        local v
        v=$(awk -v k="$id" '$1==k && $2+0>0 {print $2; exit}' <<<"$stdout")
        if [[ $rc -ne 0 || -z $v ]]; then
          put_na "$id" "$sb" "$f" "$(failure_reason "$sb" "$rc" "$err" "no '$id' line in output")"
          log "mode $mode: $id: $sb unavailable: $(sed -n 's/^reason=//p' "$f")"
          continue
        fi
        # A short probe run overestimates the cost (first calls are slow in some sandboxes),
        # so refine once with a run of the estimated length before fixing N.
        local n0
        n0=$(calib_n "$v" "$maxn")
        expand_cmd "$tmpl" "$n0" "$sb"
        stdout=$(timeout -k 5 "$WB_TIMEOUT" "${P[@]}" "${CMD[@]}" </dev/null 2>"$err"); rc=$?
        v=$(awk -v k="$id" '$1==k && $2+0>0 {print $2; exit}' <<<"$stdout")
        if [[ $rc -ne 0 || -z $v ]]; then
          put_na "$id" "$sb" "$f" "$(failure_reason "$sb" "$rc" "$err" "no '$id' line in output")"
          continue
        fi
        N[$sb]=$(calib_n "$v" "$maxn")
      else
        expand_cmd "$tmpl" "" "$sb"
        local ptimeout=$WB_TIMEOUT
        [[ -n $probe ]] && ptimeout=$WB_HEAVY_TIMEOUT
        timeout -k 5 "$ptimeout" "${P[@]}" "${CMD[@]}" </dev/null >/dev/null 2>"$err"; rc=$?
        if [[ $rc -ne 0 ]]; then
          put_na "$id" "$sb" "$f" "$(WB_TIMEOUT=$ptimeout failure_reason "$sb" "$rc" "$err")"
          log "mode $mode: $id: $sb unavailable: $(sed -n 's/^reason=//p' "$f")"
          continue
        fi
      fi
      T[$sb]=$((${T[$sb]:-0} + ${EPOCHREALTIME/./} - t_run))
      [[ -n $(known_gap "$id" "$sb") ]] &&
        log "mode $mode: $id: $sb ran although KNOWN_GAPS says it cannot: update KNOWN_GAPS"
      live+=("$sb")
    done
    local t_calib=$((${EPOCHREALTIME/./} - t_row))

    if [[ $kind == selftimed ]]; then
      declare -A S=() dead=()
      local rep
      for ((rep = 1; rep <= WB_REPS; rep++)); do
        log "mode $mode: $id: repetition $rep/$WB_REPS"
        for sb in "${live[@]}"; do
          [[ -n ${dead[$sb]:-} ]] && continue
          sandbox_prefix "$sb" "$id"
          expand_cmd "$tmpl" "${N[$sb]}" "$sb"
          t_run=${EPOCHREALTIME/./}
          stdout=$(timeout -k 5 "$WB_TIMEOUT" "${P[@]}" "${CMD[@]}" </dev/null 2>"$err"); rc=$?
          T[$sb]=$((${T[$sb]:-0} + ${EPOCHREALTIME/./} - t_run))
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
      # Heavy workloads (a run count in the 5th field): that many runs at most (half in
      # --quick mode), within the heavy budget per sandbox, no warm-up, the heavy timeout,
      # and a sandbox is dropped after its first failed run. The others: --runs runs after
      # the probe, which was their warm-up.
      local runs=$WB_RUNS tmo=$WB_TIMEOUT
      local -a topts=()
      if [[ -n $probe ]]; then
        runs=$probe tmo=$WB_HEAVY_TIMEOUT
        ((WB_QUICK)) && runs=$(((probe + 1) / 2))
        topts=(-f -e "$err.cmd" -b "$((WB_HEAVY_BUDGET * 1000))")
      fi
      if ((${#live[@]})); then
        local -a targs=()
        for sb in "${live[@]}"; do
          sandbox_prefix "$sb" "$id"
          expand_cmd "$tmpl" "" "$sb"
          ((${#targs[@]})) && targs+=(":::")
          targs+=("${P[@]}" "${CMD[@]}")
        done
        log "mode $mode: $id: $runs interleaved runs of: ${live[*]}"
        local res
        res=$("$WB_BINDIR/bench_timeit" -r "$runs" -w 0 -t "$tmo" "${topts[@]}" "${targs[@]}" 2>"$err")
        local i=0 line
        for sb in "${live[@]}"; do
          line=$(awk -v i=$i '$1=="cmd" && $2==i' <<<"$res")
          local med fails given samples
          med=$(awk '{print $4}' <<<"$line")
          given=$(awk '{print $10}' <<<"$line")
          fails=$(awk '{print $12}' <<<"$line")
          samples=$(sed -n 's/.* samples *//p' <<<"$line")
          T[$sb]=$((${T[$sb]:-0} + $(awk '{printf "%d", $14 / 1000}' <<<"$line")))
          if ((${#topts[@]})) && [[ -n $line && $fails != 0 ]]; then
            # Dropped after its first failure: the reason from that run's stderr.
            local how
            how=$(sed -n "s/^bench_timeit: cmd $i: //p" "$err" | head -n1)
            rc=1
            [[ $how == timed\ out* ]] && rc=124
            put_na "$id" "$sb" "$out/$id/$sb" "$(WB_TIMEOUT=$tmo failure_reason "$sb" "$rc" "$err.cmd$i" "$how")"
            log "mode $mode: $id: $sb unavailable: $(sed -n 's/^reason=//p' "$out/$id/$sb")"
          elif [[ -z $line || $med == - ]]; then
            put "$out/$id/$sb" status=na "reason=$sb failed: every timed run failed"
          elif [[ $fails != 0 ]]; then
            put "$out/$id/$sb" status=na "reason=$sb failed: $fails of $runs runs failed"
          else
            put "$out/$id/$sb" status=ok "median=$med" "samples=$samples" "n=$given" "max_runs=$runs"
            ((${#topts[@]})) && [[ -n $(known_gap "$id" "$sb") ]] &&
              log "mode $mode: $id: $sb ran although KNOWN_GAPS says it cannot: update KNOWN_GAPS"
          fi
          i=$((i + 1))
        done
      fi
    fi
    local d
    for d in $(scratch_dirs); do
      [[ $'\n'$scratch_before$'\n' == *$'\n'$d$'\n'* ]] || rm -rf -- "$d"
    done
    local tl="total_us=$((${EPOCHREALTIME/./} - t_row)) calib_us=$t_calib"
    for sb in "${sbs[@]}"; do [[ -n ${T[$sb]:-} ]] && tl+=" $sb=${T[$sb]}"; done
    echo "$tl" >"$out/$id/.time"
    unset N T
  done
  rm -f "$err" "$err".cmd*
}

# The memory phase: for each MEMORY workload, WB_MEM_RUNS interleaved rounds of
# bench_memtree under every sandbox; medians of the peak summed Rss and Pss (kB).
memory_worker() {
  local out="$WB_STATE/memory"
  mkdir -p "$out"
  local -a sbs
  read -ra sbs <<<"$WB_SANDBOXES"
  local err
  err=$(mktemp)
  local mid spec id kind title tmpl probe maxn sb found
  for mid in "${MEMORY[@]}"; do
    selected "$mid" || continue
    found=""
    for spec in "${BENCHMARKS[@]}"; do
      IFS='|' read -r id kind title tmpl probe maxn <<<"$spec"
      [[ $id == "$mid" ]] && { found=1; break; }
    done
    [[ -n $found ]] || die "MEMORY lists $mid, which is not in BENCHMARKS"
    mkdir -p "$out/$id"
    local -a live=()
    declare -A R=() Q=() PR=()
    for sb in "${sbs[@]}"; do
      sandbox_applies "$sb" "$id" || continue
      local why
      why=$(sandbox_precheck "$sb")
      if [[ -n $why ]]; then put "$out/$id/$sb" status=na "reason=$why"; else live+=("$sb"); fi
    done
    local rep line rc st
    for ((rep = 1; rep <= WB_MEM_RUNS; rep++)); do
      log "memory: $id: run $rep/$WB_MEM_RUNS of: ${live[*]}"
      for sb in "${live[@]}"; do
        [[ -e $out/$id/$sb ]] && continue # failed before
        sandbox_prefix "$sb" "$id"
        expand_cmd "$tmpl" "" "$sb"
        line=$("$WB_BINDIR/bench_memtree" -v -t "$WB_TIMEOUT" "${P[@]}" "${CMD[@]}" </dev/null 2>"$err" |
          awk '$1=="peak_rss_kb"')
        st=$(sed -n 's/.* status //p' <<<"$line")
        if [[ $st != ok ]]; then
          rc=1
          [[ $st == timeout ]] && rc=124
          put_na "$id" "$sb" "$out/$id/$sb" "$(failure_reason "$sb" "$rc" "$err" "${st:-no bench_memtree output}")"
          log "memory: $id: $sb unavailable: $(sed -n 's/^reason=//p' "$out/$id/$sb")"
          continue
        fi
        R[$sb]+="$(awk '{print $2}' <<<"$line") "
        Q[$sb]+="$(awk '{print $4}' <<<"$line") "
        PR[$sb]+="$(awk '{print $6}' <<<"$line") "
      done
    done
    for sb in "${live[@]}"; do
      [[ -e $out/$id/$sb ]] && continue
      put "$out/$id/$sb" status=ok \
        "rss_kb=$(tr ' ' '\n' <<<"${R[$sb]}" | grep . | median)" \
        "pss_kb=$(tr ' ' '\n' <<<"${Q[$sb]}" | grep . | median)" \
        "rss_samples=${R[$sb]% }" "pss_samples=${Q[$sb]% }" \
        "procs=$(tr ' ' '\n' <<<"${PR[$sb]}" | grep . | sort -g | tail -n1)" "n=$WB_MEM_RUNS"
    done
    unset R Q PR
  done
  rm -f "$err"
}

if [[ ${1:-} == --_worker ]]; then
  if [[ $2 == memory ]]; then memory_worker; else worker "$2"; fi
  exit 0
fi

# ---------------------------------------------------------------------------- options
QUICK=0 WARD="" BUILD="$REPO/build" REPS="" RUNS="" BUDGET="" MODES=""
CPU=0 SANDBOXES="" SAVE=1 TIMEOUT=60 RUNSC_FLAGS="" ONLY="" SRCDIR="" MEM_RUNS=""
HEAVY_TIMEOUT=45 HEAVY_BUDGET=15
INSTALL=0 RECORD=0
# runsc needs root for its cgroup setup; unprivileged it works with --rootless.
(($(id -u) == 0)) || RUNSC_FLAGS="--rootless"
ORIG_ARGS=("$@")
SUITE_T0=${EPOCHREALTIME/./} # the suite's own timing (µs): setup, modes, memory, report
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
    --heavy-timeout) HEAVY_TIMEOUT=${2:?}; shift ;;
    --heavy-budget) HEAVY_BUDGET=${2:?}; shift ;;
    --runsc-flags) RUNSC_FLAGS+=" ${2?}"; shift ;;
    --mem-runs) MEM_RUNS=${2:?}; shift ;;
    --install-missing) INSTALL=1 ;;
    --record) RECORD=1 ;;
    --no-save) SAVE=0 ;;
    -h | --help) sed -n '2,/^set -uo/p' "$SELF" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done
if ((QUICK)); then : "${REPS:=3}" "${RUNS:=3}" "${BUDGET:=40}" "${MEM_RUNS:=1}" "${MODES:=pinned}"
else : "${REPS:=7}" "${RUNS:=9}" "${BUDGET:=80}" "${MEM_RUNS:=3}" "${MODES:=pinned,unpinned}"; fi
((SAVE)) || RECORD=0
for v in TIMEOUT:timeout HEAVY_TIMEOUT:heavy-timeout HEAVY_BUDGET:heavy-budget BUDGET:budget-ms \
  REPS:reps RUNS:runs MEM_RUNS:mem-runs; do
  name=${v%%:*}
  [[ ${!name} =~ ^[0-9]+$ ]] || die "--${v#*:} needs a whole number, not '${!name}'"
done
[[ -z $WARD ]] && WARD="$BUILD/ward"
[[ $WARD == /* ]] || WARD="$PWD/$WARD"
BUILD=$(readlink -f "$BUILD" 2>/dev/null || echo "$BUILD")

# Sandboxes, native first (the reference), in the fixed interleaving order.
SBS=(native)
for sb in "${ALL_SANDBOXES[@]:1}"; do
  if [[ -z $SANDBOXES || ,$SANDBOXES, == *,$sb,* ]]; then SBS+=("$sb"); fi
done
WB_ONLY=$ONLY WB_QUICK=$QUICK # for selected()
IFS=, read -ra ONLY_LIST <<<"$ONLY"
for id in "${ONLY_LIST[@]}"; do
  [[ " ${ALL_IDS[*]} " == *" $id "* ]] || die "unknown benchmark $id (known: ${ALL_IDS[*]})"
done
IFS=, read -ra MODE_LIST <<<"$MODES"
for m in "${MODE_LIST[@]}"; do
  [[ $m == pinned || $m == unpinned ]] || die "unknown mode $m"
done

# ---------------------------------------------------------------------------- packages
# --install-missing: the other sandboxes and gnuplot (for the chart) from Debian.
if ((INSTALL)); then
  declare -A PKG_OF=([runsc]=runsc [proot]=proot [gnuplot]=gnuplot-nox)
  want=()
  for c in runsc proot gnuplot; do command -v "$c" >/dev/null || want+=("${PKG_OF[$c]}"); done
  if ((${#want[@]})); then
    if (($(id -u) != 0)); then
      log "not root: cannot install ${want[*]}; the missing sandboxes' cells will be n/a"
    else
      log "installing ${want[*]}"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null ||
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null; } ||
        log "warning: could not install ${want[*]}"
    fi
  fi
fi

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
    [[ $BENCH_DIR/micro/$p.c -nt $BINDIR/bench_$p ]] || continue
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
# The workspace of the file benchmarks: a directory on disk next to SRCDIR (ward mounts it
# read-write with --workspace; the others write to it directly, runsc into its overlay).
WSDIR="$(dirname "$SRCDIR")/ward-bench-ws.$(id -u)"
mkdir -p "$WSDIR" || die "cannot create $WSDIR"
gen_source >"$SRCDIR/x.c.$$" && mv -f "$SRCDIR/x.c.$$" "$SRCDIR/x.c" || die "cannot write $SRCDIR/x.c"
SRC_LINES=$(wc -l <"$SRCDIR/x.c")

# The make workload's project: 19 modules (3 static helpers and one exported function
# each), a main.c calling them all, a shared header and a Makefile with a pattern rule;
# the workload copies it into the sandbox's /tmp and runs `make -j2` there.
gen_project() { # dir
  local d=$1 i j
  {
    echo "/* Generated by bench/run.sh: the make_wall_ns project. */"
    echo "#ifndef PROJ_H"
    echo "#define PROJ_H"
    echo "#include <stddef.h>"
    echo "struct item { int id; long weight; char name[24]; };"
    for i in $(seq -w 1 19); do echo "long mod$i(struct item *v, size_t n, const char *key);"; done
    echo "#endif"
  } >"$d/proj.h"
  for i in $(seq -w 1 19); do
    {
      echo "/* Generated by bench/run.sh: the make_wall_ns project. */"
      echo "#include <stdio.h>"
      echo "#include <stdlib.h>"
      echo "#include <string.h>"
      echo "#include \"proj.h\""
      for j in 0 1 2; do
        cat <<EOF2
static long step$j(const struct item *it, int k, const char *key) {
    switch ((it->id + k + $j) % 4) {
    case 0: return it->weight * $((10#$i + j));
    case 1: return it->weight > $((10#$i * 3)) ? -it->weight : it->weight / 2;
    case 2: return (long)strlen(it->name) ^ $j;
    default: return strcmp(it->name, key) < 0 ? 1 : -1;
    }
}
EOF2
      done
      cat <<EOF2
long mod$i(struct item *v, size_t n, const char *key) {
    long acc = $((10#$i));
    for (size_t k = 0; k < n; k++) {
        v[k].id = (int)k;
        v[k].weight = (long)k * $((10#$i));
        snprintf(v[k].name, sizeof v[k].name, "m$i-%zu", k);
        acc += step0(&v[k], (int)k, key) + step1(&v[k], (int)k, key) - step2(&v[k], (int)k, key);
    }
    return acc;
}
EOF2
    } >"$d/mod$i.c"
  done
  {
    echo "/* Generated by bench/run.sh: the make_wall_ns project. */"
    echo "#include <stdio.h>"
    echo "#include <stdlib.h>"
    echo "#include \"proj.h\""
    echo "int main(void) {"
    echo "    struct item *v = calloc(64, sizeof *v);"
    echo "    long t = 0;"
    echo "    if (!v) return 1;"
    for i in $(seq -w 1 19); do echo "    t += mod$i(v, 64, \"key\");"; done
    echo "    printf(\"%ld\\n\", t);"
    echo "    free(v);"
    echo "    return 0;"
    echo "}"
  } >"$d/main.c"
  cat >"$d/Makefile" <<'EOF2'
# Generated by bench/run.sh: 20 C files, compiled and linked by `make -j2`.
CC = gcc
CFLAGS = -O1 -Wall
SRCS = $(wildcard *.c)
OBJS = $(SRCS:.c=.o)
prog: $(OBJS)
	$(CC) -o $@ $(OBJS)
%.o: %.c proj.h
	$(CC) $(CFLAGS) -c $< -o $@
EOF2
}
rm -rf "$SRCDIR/proj.$$" && mkdir "$SRCDIR/proj.$$" && gen_project "$SRCDIR/proj.$$" &&
  rm -rf "$SRCDIR/proj" && mv "$SRCDIR/proj.$$" "$SRCDIR/proj" || die "cannot write $SRCDIR/proj"
PROJ_FILES=$(ls "$SRCDIR/proj"/*.c | wc -l)
PROJ_LINES=$(cat "$SRCDIR/proj"/*.c "$SRCDIR/proj"/*.h | wc -l)

# The sqlite workload: 10,000 INSERTs in one explicit transaction into a new database in
# a fresh directory under /tmp, checked and removed. (timeout=0: nothing else uses the
# file, so a lock conflict is an error at once rather than a 5 s retry.)
cat >"$SRCDIR/sqlite_insert.py.$$" <<'EOF2'
# Generated by bench/run.sh: the sqlite_wall_ns workload.
import os, shutil, sqlite3, tempfile
d = tempfile.mkdtemp(prefix="wb.", dir="/tmp")
try:
    con = sqlite3.connect(os.path.join(d, "bench.db"), timeout=0, isolation_level=None)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, value REAL)")
    con.execute("BEGIN")
    for i in range(10000):
        con.execute("INSERT INTO t VALUES (?, ?, ?)", (i, "row %d" % i, i * 0.5))
    con.execute("COMMIT")
    assert con.execute("SELECT count(*) FROM t").fetchone()[0] == 10000
    con.close()
finally:
    shutil.rmtree(d)
EOF2
mv -f "$SRCDIR/sqlite_insert.py.$$" "$SRCDIR/sqlite_insert.py" || die "cannot write $SRCDIR/sqlite_insert.py"

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
  "WB_STATE=$STATE" "WB_WARD=$WARD" "WB_BINDIR=$BINDIR" "WB_SRCDIR=$SRCDIR" "WB_WSDIR=$WSDIR" "WB_REPS=$REPS"
  "WB_RUNS=$RUNS" "WB_BUDGET_MS=$BUDGET" "WB_SANDBOXES=${SBS[*]}" "WB_TIMEOUT=$TIMEOUT"
  "WB_HEAVY_TIMEOUT=$HEAVY_TIMEOUT" "WB_HEAVY_BUDGET=$HEAVY_BUDGET"
  "WB_RUNSC_FLAGS=${RUNSC_FLAGS# }" "WB_ONLY=$ONLY" "WB_QUICK=$QUICK" "WB_MEM_RUNS=$MEM_RUNS")

declare -A PHASE_US=() # setup, pinned, unpinned, memory
T0=${EPOCHREALTIME/./}
PHASE_US[setup]=$((T0 - SUITE_T0))
for m in "${MODE_LIST[@]}"; do
  t=${EPOCHREALTIME/./}
  if [[ $m == pinned ]]; then
    "${WENV[@]}" taskset -c "$CPU" bash "$SELF" --_worker pinned || die "pinned worker failed"
  else
    "${WENV[@]}" bash "$SELF" --_worker unpinned || die "unpinned worker failed"
  fi
  PHASE_US[$m]=$((${EPOCHREALTIME/./} - t))
done
# Memory, unpinned, if any MEMORY workload is selected.
MEM_IDS=()
for id in "${MEMORY[@]}"; do selected "$id" && MEM_IDS+=("$id"); done
if ((MEM_RUNS > 0 && ${#MEM_IDS[@]})); then
  t=${EPOCHREALTIME/./}
  "${WENV[@]}" bash "$SELF" --_worker memory || die "memory worker failed"
  PHASE_US[memory]=$((${EPOCHREALTIME/./} - t))
else
  MEM_IDS=()
fi
# The duration of the run: from the start of this script to the end of the measurements
# (the report and the chart follow; their time is logged at the very end).
MEAS_END=${EPOCHREALTIME/./}
ELAPSED=$(((MEAS_END - SUITE_T0 + 500000) / 1000000))
log "measurements done after $ELAPSED s"

# ---------------------------------------------------------------------------- report
get() { sed -n "s/^$2=//p" "$1" 2>/dev/null; } # file key

fmt_time() { # ns -> 3 significant digits in a fitting unit
  awk -v v="$1" 'BEGIN{
    if (v < 1e3) printf "%.3g ns", v; else if (v < 1e6) printf "%.3g µs", v/1e3;
    else if (v < 1e9) printf "%.3g ms", v/1e6; else printf "%.3g s", v/1e9 }'
}
fmt_ratio() { awk -v r="$1" 'BEGIN{ if (r < 0.1) printf "%.2g", r; else if (r < 10) printf "%.2f", r; else if (r < 100) printf "%.1f", r; else printf "%.0f", r }'; }

# The main table's columns; runsc-netstack (NETWORK rows only) has a table of its own.
COLS=(native ward ward-seccomp runsc proot)
NET_COLS=(native ward ward-seccomp runsc runsc-netstack)
declare -A HEAD=([native]=native [ward]=ward-ptrace [ward-seccomp]=ward-seccomp [runsc]=runsc-ptrace
  [runsc-netstack]=runsc-netstack [proot]=proot)

# The table cell of sandbox $3 for benchmark $2 in mode $1: its time and its ratio to
# native's ($4, empty if native has none), or n/a with the reason.
cell() {
  local f="$STATE/$1/$2/$3"
  if [[ ! -e $f ]]; then echo "not run"
  elif [[ $(get "$f" status) == ok ]]; then
    local v; v=$(get "$f" median)
    if [[ -n $4 ]]; then echo "$(fmt_time "$v") (x$(fmt_ratio "$(awk -v a="$v" -v b="$4" 'BEGIN{print a/b}')"))"
    else fmt_time "$v"; fi
  else echo "n/a ($(get "$f" reason))"
  fi
}

# Prints the Markdown table of mode $1 for the selected benchmarks among $2 (space
# separated ids; empty: all) with the columns $3... (sandboxes).
table() {
  local m=$1 only=$2 spec id kind title tmpl probe maxn sb
  shift 2
  local hdr="| benchmark |" sep="|---|"
  for sb in "$@"; do hdr+=" ${HEAD[$sb]} |"; sep+="---|"; done
  echo "$hdr"; echo "$sep"
  for spec in "${BENCHMARKS[@]}"; do
    IFS='|' read -r id kind title tmpl probe maxn <<<"$spec"
    selected "$id" || continue
    [[ -z $only || " $only " == *" $id "* ]] || continue
    local nat="" row="| $title |"
    [[ $(get "$STATE/$m/$id/native" status) == ok ]] && nat=$(get "$STATE/$m/$id/native" median)
    for sb in "$@"; do row+=" $(cell "$m" "$id" "$sb" "$nat") |"; done
    echo "$row"
  done
}

# The column of ward's default platform (ward-ptrace is "ward").
default_column() {
  case $("$WARD" platforms 2>/dev/null | sed -n 's/^default: \([a-z]*\).*/\1/p') in
    seccomp) echo ward-seccomp ;;
    *) echo ward ;;
  esac
}

report() {
  local DEFAULT_COL; DEFAULT_COL=$(default_column)
  echo "## $DATE"
  echo
  echo "- command: \`$CMDLINE\`"
  echo "- machine: $NPROC CPUs ($CPU_MODEL), kernel $KERNEL"
  echo "- versions: runsc \`$RUNSC_VER\`, proot $PROOT_VER, ward $WARD_GIT (\`$WARD\`)"
  local sb inv=""
  for sb in "${SBS[@]:1}"; do
    local any="" nid
    for nid in "${ALL_IDS[@]}"; do selected "$nid" && sandbox_applies "$sb" "$nid" && any=1; done
    [[ -n $any ]] || continue
    WB_WARD=$WARD WB_BINDIR=$BINDIR WB_SRCDIR=$SRCDIR WB_WSDIR=$WSDIR WB_RUNSC_FLAGS=${RUNSC_FLAGS# } sandbox_prefix "$sb"
    inv+="${inv:+; }$sb: \`${P[*]} CMD\`"
  done
  echo "- invocations: ${inv:-native only}"
  local spec id kind title tmpl probe maxn heavy=""
  for spec in "${BENCHMARKS[@]}"; do
    IFS='|' read -r id kind title tmpl probe maxn <<<"$spec"
    selected "$id" && [[ $kind == wall && -n $probe ]] || continue
    heavy+="${heavy:+, }${id%_wall_ns} $( ((QUICK)) && echo $(((probe + 1) / 2)) || echo "$probe")"
  done
  echo "- method: self-timed benchmarks: median of $REPS runs (loop length calibrated to ~$BUDGET ms per run); wall-time benchmarks: median of $RUNS runs by bench_timeit (after a probe run, which warms up)${heavy:+, heavy workloads: median of at most (${heavy}) runs, of which each sandbox gets as many as fit in ${HEAVY_BUDGET} s by its own run times (at least 1; the counts are under each table), a run killed after ${HEAVY_TIMEOUT} s, no warm-up (native alone gets one untimed run first, to warm the page cache)}; sandboxes interleaved within each repetition; environment of every run: \`PATH=$GUEST_PATH HOME=${HOME:-/root} LANG=C.UTF-8\` (ward's guest environment)"
  echo "- duration of the run: $ELAPSED s ($((ELAPSED / 60)) min $((ELAPSED % 60)) s; setup $(fmt_s "${PHASE_US[setup]}")$(for m in "${MODE_LIST[@]}"; do printf ', %s %s' "$m" "$(fmt_s "${PHASE_US[$m]}")"; done)${PHASE_US[memory]:+, memory $(fmt_s "${PHASE_US[memory]}")}; per benchmark: the last section)"
  if ((QUICK)) && [[ -z $ONLY ]]; then
    echo "- --quick: only ${QUICK_ROWS[*]} (all rows: without --quick)"
  fi
  if selected gcc_wall_ns; then
    echo "- gcc input: \`$SRCDIR/x.c\`, $SRC_LINES lines generated by run.sh"
  fi
  if selected make_wall_ns; then
    echo "- make input: \`$SRCDIR/proj/\`, $PROJ_FILES C files + a header + a Makefile ($PROJ_LINES lines) generated by run.sh, copied into /tmp by the workload"
  fi
  if selected tar_wall_ns; then
    echo "- tar target: a fresh directory in a tmpfs: \`/tmp\` under ward (its private tmpfs), \`/dev/shm\` for native, runsc and proot (this host's /tmp is the VM's ext4)"
  fi
  if ((${#MEM_IDS[@]})); then
    echo "- memory: bench_memtree, unpinned, median of $MEM_RUNS run(s) per sandbox: the peak over the run of the summed Rss (and Pss) of every process in the tree started by the command (for ward: \`ward run\`, gofer, sentry and stubs), sampled from /proc/<pid>/smaps_rollup"
  fi
  if [[ -n $CHART ]]; then
    echo
    echo "![ratio to native per benchmark, log scale, pinned and unpinned]($CHART)"
  fi
  local m spec id kind title tmpl probe maxn f
  for m in "${MODE_LIST[@]}"; do
    echo
    if [[ $m == pinned ]]; then echo "### pinned (\`taskset -c $CPU\`, CPUs allowed: $(cat "$STATE/$m/cpus"))"
    else echo "### unpinned (CPUs allowed: $(cat "$STATE/$m/cpus"))"; fi
    echo
    table "$m" "" "${COLS[@]}"
    # The loopback rows once more, with runsc's own network stack next to --network=none.
    local netrows="" nid
    for nid in "${NETWORK[@]}"; do selected "$nid" && netrows+=" $nid"; done
    if [[ -n $netrows && " ${SBS[*]} " == *" runsc-netstack "* ]]; then
      echo
      echo "Loopback network rows with runsc's network stack (runsc-netstack: \`--network=sandbox\`, in a network namespace holding only \`lo\`; runsc-ptrace: \`--network=none\`, which still has a loopback in netstack):"
      echo
      table "$m" "$netrows" "${NET_COLS[@]}"
    fi
    # Run-to-run spread, so a noisy median is visible as such.
    echo
    local sp="- spread (max/min over runs):"
    for spec in "${BENCHMARKS[@]}"; do
      IFS='|' read -r id kind title tmpl probe maxn <<<"$spec"
      selected "$id" || continue
      local part=""
      for sb in "${ALL_SANDBOXES[@]}"; do
        f="$STATE/$m/$id/$sb"
        [[ -e $f && $(get "$f" status) == ok ]] || continue
        # (A heavy workload's single run has no spread.)
        part+="${part:+, }$sb $(get "$f" samples | tr ' ' '\n' | sort -g | awk 'NR==1{a=$1} {b=$1} END{if (NR < 2) printf "- (1 run)"; else printf "%.2f", b/a}')"
      done
      sp+=" $id: ${part:-none};"
    done
    echo "${sp%;}"
    local ln="- loop length per run:"
    for spec in "${BENCHMARKS[@]}"; do
      IFS='|' read -r id kind title tmpl probe maxn <<<"$spec"
      selected "$id" || continue
      [[ $kind == selftimed ]] || continue
      local ns=""
      for sb in "${ALL_SANDBOXES[@]}"; do
        f="$STATE/$m/$id/$sb"
        [[ -e $f && $(get "$f" status) == ok ]] && ns+="${ns:+, }$sb $(get "$f" n)"
      done
      ln+=" $id: ${ns:-none};"
    done
    echo "${ln%;}"
    local hv="" hr
    for spec in "${BENCHMARKS[@]}"; do
      IFS='|' read -r id kind title tmpl probe maxn <<<"$spec"
      selected "$id" && [[ $kind == wall && -n $probe ]] || continue
      hr=""
      for sb in "${ALL_SANDBOXES[@]}"; do
        f="$STATE/$m/$id/$sb"
        [[ -e $f && $(get "$f" status) == ok ]] && hr+="${hr:+, }$sb $(get "$f" n)"
      done
      hv+=" $id (at most $( ((QUICK)) && echo $(((probe + 1) / 2)) || echo "$probe")): ${hr:-none};"
    done
    [[ -n $hv ]] && echo "- timed runs of the heavy workloads (as many as fit in ${HEAVY_BUDGET} s per sandbox):${hv%;}"
    # ward against runsc on every row (information), then the lead's targets.
    local wr="" w r
    for spec in "${BENCHMARKS[@]}"; do
      IFS='|' read -r id kind title tmpl probe maxn <<<"$spec"
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
      IFS='|' read -r tid tmax tdesc tcol <<<"$tgt"
      tcol=${tcol:-$DEFAULT_COL}
      selected "$tid" || continue
      all=$((all + 1))
      if [[ $(get "$STATE/$m/$tid/$tcol" status) == ok && $(get "$STATE/$m/$tid/runsc" status) == ok ]]; then
        w=$(get "$STATE/$m/$tid/$tcol" median); r=$(get "$STATE/$m/$tid/runsc" median)
        local ok; ok=$(awk -v a="$w" -v b="$r" -v t="$tmax" 'BEGIN{print (a <= t*b) ? 1 : 0}')
        met=$((met + ok))
        echo "- target $tdesc: $tcol/runsc = $(fmt_ratio "$(awk -v a="$w" -v b="$r" 'BEGIN{print a/b}')") (needs ≤ $tmax) — $( ((ok)) && echo met || echo "NOT met")"
      else
        echo "- target $tdesc: cannot compare ($tcol or runsc n/a)"
      fi
    done
    ((all)) && echo "- targets met: $met of $all"
  done
  ((${#MEM_IDS[@]})) && memory_report
  timing_report
}

fmt_kb() { awk -v k="$1" 'BEGIN{ printf "%.1f MiB", k/1024 }'; }
fmt_s() { awk -v u="${1:-0}" 'BEGIN{ printf "%.1f s", u/1e6 }'; } # µs -> seconds

# Where the suite's own time went: per benchmark and mode, the whole row (probes and
# calibration included) and each sandbox's share (its runs only), from the workers' .time
# files; so whoever has to make the suite shorter sees what to cut.
timing_report() {
  local m spec id kind title tmpl probe maxn sb t
  echo
  echo "### where the suite's time went"
  echo
  local hdr="| benchmark |" sep="|---|"
  for m in "${MODE_LIST[@]}"; do hdr+=" $m (probes and calibration) | $m, per sandbox |"; sep+="---|---|"; done
  echo "$hdr"; echo "$sep"
  for spec in "${BENCHMARKS[@]}"; do
    IFS='|' read -r id kind title tmpl probe maxn <<<"$spec"
    selected "$id" || continue
    local row="| $id |"
    for m in "${MODE_LIST[@]}"; do
      t="$STATE/$m/$id/.time"
      if [[ ! -e $t ]]; then row+=" - | - |"; continue; fi
      local per=""
      for sb in "${ALL_SANDBOXES[@]}"; do
        local us; us=$(tr ' ' '\n' <"$t" | sed -n "s/^$sb=//p")
        [[ -n $us ]] && per+="${per:+, }$sb $(fmt_s "$us")"
      done
      row+=" $(fmt_s "$(tr ' ' '\n' <"$t" | sed -n 's/^total_us=//p')") ($(fmt_s "$(tr ' ' '\n' <"$t" | sed -n 's/^calib_us=//p')")) | ${per:-none} |"
    done
    echo "$row"
  done
  echo
  echo "- phases: setup (packages, bench programs, inputs, versions) $(fmt_s "${PHASE_US[setup]}")$(for m in "${MODE_LIST[@]}"; do printf ', %s %s' "$m" "$(fmt_s "${PHASE_US[$m]}")"; done)${PHASE_US[memory]:+, memory $(fmt_s "${PHASE_US[memory]}")}; then the report and the chart (logged at the end)"
}

memory_report() {
  local id sid sb f spec kind title tmpl probe maxn
  echo
  echo "### memory (peak of the whole process tree, unpinned)"
  echo
  echo "Each cell: the peak summed Rss of the command's process tree (ratio to native), then the peak summed Pss (shared pages split between the processes mapping them), median of $MEM_RUNS run(s)."
  echo
  local hdr="| workload |" sep="|---|"
  for sb in "${COLS[@]}"; do hdr+=" ${HEAD[$sb]} |"; sep+="---|"; done
  echo "$hdr"; echo "$sep"
  for id in "${MEM_IDS[@]}"; do
    for spec in "${BENCHMARKS[@]}"; do
      IFS='|' read -r sid kind title tmpl probe maxn <<<"$spec"
      [[ $sid == "$id" ]] && break
    done
    local nat="" row="| ${title%, start to exit} |"
    [[ $(get "$STATE/memory/$id/native" status) == ok ]] && nat=$(get "$STATE/memory/$id/native" rss_kb)
    for sb in "${COLS[@]}"; do
      f="$STATE/memory/$id/$sb"
      if [[ ! -e $f ]]; then row+=" not run |"
      elif [[ $(get "$f" status) == ok ]]; then
        local r q
        r=$(get "$f" rss_kb); q=$(get "$f" pss_kb)
        row+=" Rss $(fmt_kb "$r")"
        [[ -n $nat ]] && row+=" (x$(fmt_ratio "$(awk -v a="$r" -v b="$nat" 'BEGIN{print a/b}')"))"
        row+=", Pss $(fmt_kb "$q") |"
      else row+=" n/a ($(get "$f" reason)) |"
      fi
    done
    echo "$row"
  done
  echo
  local pl="- processes in the tree (most seen in one sample):"
  for id in "${MEM_IDS[@]}"; do
    local part=""
    for sb in "${COLS[@]}"; do
      f="$STATE/memory/$id/$sb"
      [[ -e $f && $(get "$f" status) == ok ]] && part+="${part:+, }$sb $(get "$f" procs)"
    done
    pl+=" ${id%_wall_ns}: ${part:-none};"
  done
  echo "${pl%;}"
}

json_str() { # JSON string literal
  local s=$1
  s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\t'/ }; s=${s//$'\n'/ }
  printf '"%s"' "$s"
}

json() {
  local m spec id kind title tmpl probe maxn sb f first_m=1 first_b first_s
  echo "{"
  echo "  \"schema\": 2,"
  echo "  \"date\": $(json_str "$DATE"),"
  echo "  \"command\": $(json_str "$CMDLINE"),"
  echo "  \"machine\": {\"nproc\": $NPROC, \"kernel\": $(json_str "$KERNEL"), \"cpu\": $(json_str "$CPU_MODEL")},"
  echo "  \"versions\": {\"runsc\": $(json_str "$RUNSC_VER"), \"proot\": $(json_str "$PROOT_VER"), \"ward_git\": $(json_str "$WARD_GIT"), \"ward_path\": $(json_str "$WARD")},"
  echo "  \"params\": {\"quick\": $( ((QUICK)) && echo true || echo false), \"reps\": $REPS, \"runs\": $RUNS, \"budget_ms\": $BUDGET, \"pinned_cpu\": $CPU, \"only\": $(json_str "$ONLY"), \"gcc_source\": $(json_str "$SRCDIR/x.c"), \"gcc_source_lines\": $SRC_LINES, \"make_project\": $(json_str "$SRCDIR/proj"), \"sqlite_script\": $(json_str "$SRCDIR/sqlite_insert.py"), \"tmpfs\": {\"ward\": \"/tmp\", \"others\": \"/dev/shm\"}, \"mem_runs\": $MEM_RUNS, \"timeout_s\": $TIMEOUT, \"heavy_timeout_s\": $HEAVY_TIMEOUT, \"heavy_budget_s\": $HEAVY_BUDGET, \"guest_path\": $(json_str "$GUEST_PATH")},"
  echo "  \"duration_s\": $ELAPSED,"
  json_timing
  echo "  \"modes\": {"
  for m in "${MODE_LIST[@]}"; do
    ((first_m)) || echo ","
    first_m=0
    echo "    $(json_str "$m"): {\"cpus\": $(json_str "$(cat "$STATE/$m/cpus")"), \"benchmarks\": {"
    first_b=1
    for spec in "${BENCHMARKS[@]}"; do
      IFS='|' read -r id kind title tmpl probe maxn <<<"$spec"
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
          local mr; mr=$(get "$f" max_runs)
          printf '{"status": "ok", "median": %s, "n": %s, %s"samples": [%s]}' "$(get "$f" median)" "$(get "$f" n)" "${mr:+\"max_runs\": $mr, }" "$samples"
        else
          json_na "$f"
        fi
      done
      printf '}}'
    done
    printf '\n    }}'
  done
  echo
  printf '  },\n  "memory": {'
  first_b=1
  for id in "${MEM_IDS[@]}"; do
    ((first_b)) || printf ','
    first_b=0
    for spec in "${BENCHMARKS[@]}"; do
      IFS='|' read -r m kind title tmpl probe maxn <<<"$spec"
      [[ $m == "$id" ]] && break
    done
    printf '\n    %s: {"title": %s, "command": %s, "unit": "kB", "method": "peak over the run of the summed Rss / Pss of the process tree, sampled from /proc/<pid>/smaps_rollup by bench_memtree, unpinned", "results": {' \
      "$(json_str "$id")" "$(json_str "$title")" "$(json_str "$tmpl")"
    first_s=1
    for sb in "${SBS[@]}"; do
      f="$STATE/memory/$id/$sb"
      [[ -e $f ]] || continue
      ((first_s)) || printf ','
      first_s=0
      printf '\n      %s: ' "$(json_str "$sb")"
      if [[ $(get "$f" status) == ok ]]; then
        printf '{"status": "ok", "peak_rss_kb": %s, "peak_pss_kb": %s, "max_procs": %s, "n": %s, "rss_samples": [%s], "pss_samples": [%s]}' \
          "$(get "$f" rss_kb)" "$(get "$f" pss_kb)" "$(get "$f" procs)" "$(get "$f" n)" \
          "$(get "$f" rss_samples | tr -s ' ' | sed 's/ /, /g')" "$(get "$f" pss_samples | tr -s ' ' | sed 's/ /, /g')"
      else
        json_na "$f"
      fi
    done
    printf '}}'
  done
  printf '\n  }\n'
  echo "}"
}

# "suite_timing": the suite's own time in seconds: phases, and per mode and benchmark the
# whole row, its probes and calibration, and each sandbox's runs.
json_timing() {
  local m spec id kind title tmpl probe maxn t kv first_m=1 first_b
  printf '  "suite_timing": {"unit": "s", "setup": %s' "$(us_to_s "${PHASE_US[setup]}")"
  for m in "${MODE_LIST[@]}" memory; do
    [[ -n ${PHASE_US[$m]:-} ]] && printf ', %s: %s' "$(json_str "$m")" "$(us_to_s "${PHASE_US[$m]}")"
  done
  printf ', "benchmarks": {'
  for m in "${MODE_LIST[@]}"; do
    ((first_m)) || printf ','
    first_m=0
    printf '\n    %s: {' "$(json_str "$m")"
    first_b=1
    for spec in "${BENCHMARKS[@]}"; do
      IFS='|' read -r id kind title tmpl probe maxn <<<"$spec"
      t="$STATE/$m/$id/.time"
      [[ -e $t ]] || continue
      ((first_b)) || printf ','
      first_b=0
      printf '\n      %s: {' "$(json_str "$id")"
      local sep="" sbs=""
      for kv in $(cat "$t"); do
        case ${kv%%=*} in
          total_us) printf '%s"total": %s' "$sep" "$(us_to_s "${kv#*=}")"; sep=", " ;;
          calib_us) printf '%s"probes_and_calibration": %s' "$sep" "$(us_to_s "${kv#*=}")"; sep=", " ;;
          *) sbs+="${sbs:+, }$(json_str "${kv%%=*}"): $(us_to_s "${kv#*=}")" ;;
        esac
      done
      printf '%s"sandboxes": {%s}}' "$sep" "$sbs"
    done
    printf '}'
  done
  printf '}},\n'
}
us_to_s() { awk -v u="${1:-0}" 'BEGIN{ printf "%.2f", u/1e6 }'; }

json_na() { # result file
  local d
  d=$(get "$1" detail)
  printf '{"status": "na", "reason": %s%s}' "$(json_str "$(get "$1" reason)")" "${d:+, \"detail\": $(json_str "$d")}"
}

CHART=""
if ((SAVE)); then
  mkdir -p "$BENCH_DIR/results"
  json >"$BENCH_DIR/results/$STAMP.json"
  if command -v python3 >/dev/null; then
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$BENCH_DIR/results/$STAMP.json" ||
      log "warning: $BENCH_DIR/results/$STAMP.json is not valid JSON"
  fi
  # The chart of the ratios, next to the JSON (bench/chart.sh; needs gnuplot).
  if "$BENCH_DIR/chart.sh" "$BENCH_DIR/results/$STAMP.json" "$BENCH_DIR/results/$STAMP.png"; then
    CHART="$STAMP.png"
  else
    log "warning: no chart (bench/chart.sh failed; is gnuplot installed? --install-missing does it)"
  fi
fi
REPORT=$(report)
echo
echo "$REPORT"
if ((SAVE)); then
  echo "$REPORT" >"$BENCH_DIR/results/$STAMP.md"
  echo
  log "saved bench/results/$STAMP.json${CHART:+, bench/results/$CHART} and bench/results/$STAMP.md"
  if ((RECORD)); then
    # In RESULTS.md (one directory up) the chart is under results/.
    { echo; sed "s|^\(!\[[^]]*\]\)($STAMP\.png)\$|\1(results/$STAMP.png)|" <<<"$REPORT"; } >>"$BENCH_DIR/RESULTS.md"
    log "appended the entry to bench/RESULTS.md"
  fi
fi
T_END=${EPOCHREALTIME/./}
log "suite done in $(fmt_s $((T_END - SUITE_T0))) (of which the report and the chart: $(fmt_s $((T_END - MEAS_END))))"
