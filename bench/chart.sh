#!/usr/bin/env bash
# Draws the bar chart of one run of bench/run.sh from its JSON: for every benchmark, one
# bar per sandbox (ward-ptrace, ward-seccomp, runsc-ptrace, proot, and runsc-netstack if it
# ran any of its network rows) with its median time as a ratio to
# native's in the same run, on a log scale (native = 1, the dashed line); one panel per
# mode (pinned above, unpinned below). A sandbox that could not run a benchmark gets a
# small "n/a" instead of a bar (the reason is in the run's Markdown table and JSON).
#
# Usage: bench/chart.sh RESULTS.json [OUT.png]   (default: the JSON's name with .png)
# Needs python3 (to read the JSON) and gnuplot with the pngcairo terminal (Debian:
# gnuplot-nox). run.sh calls it for every saved run; it can redraw any older run too.
set -euo pipefail

JSON=${1:?usage: bench/chart.sh RESULTS.json [OUT.png]}
OUT=${2:-${JSON%.json}.png}
command -v gnuplot >/dev/null || { echo "chart.sh: gnuplot not installed (Debian: gnuplot-nox)" >&2; exit 1; }
PY=python3
[[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3

"$PY" - "$JSON" "$OUT" <<'EOF' | gnuplot
import json, math, sys

src, out = sys.argv[1], sys.argv[2]
run = json.load(open(src))
modes = [m for m in ("pinned", "unpinned") if m in run["modes"]]
if not modes:
    sys.exit("chart.sh: no pinned or unpinned results in " + src)
names = {"ward": "ward-ptrace", "ward-seccomp": "ward-seccomp", "runsc": "runsc-ptrace",
         "runsc-netstack": "runsc-netstack", "proot": "proot"}
colors = {"ward": "#d95f02", "ward-seccomp": "#e6ab02", "runsc": "#1b6fb5",
          "runsc-netstack": "#6baed6", "proot": "#33a02c"}
# runsc-netstack only runs the network rows: a slot for it in every group only pays off
# when it has a bar somewhere.
partial = {"runsc-netstack"}
def ran(s):
    rs = [b["results"][s] for m in modes for b in run["modes"][m]["benchmarks"].values()
          if s in b["results"]]
    return any(r["status"] == "ok" for r in rs) if s in partial else bool(rs)
sbs = [s for s in names if ran(s)]
def block(m, s):  # a gnuplot data block name: letters, digits and _ only
    return "$%s_%s" % (m, s.replace("-", "_"))
ids = []
for m in modes:
    for i in run["modes"][m]["benchmarks"]:
        if i not in ids:
            ids.append(i)

def label(i):
    for suffix in ("_wall_ns", "_ns"):
        if i.endswith(suffix):
            return i[: -len(suffix)]
    return i

def kind(i):
    for m in modes:
        b = run["modes"][m]["benchmarks"].get(i)
        if b:
            return b["kind"]
    return "selftimed"

# Ratios per mode, benchmark and sandbox (None: n/a; missing: not run).
ratios = {}
for m in modes:
    for i in ids:
        res = run["modes"][m]["benchmarks"].get(i, {}).get("results", {})
        nat = res.get("native", {})
        for s in sbs:
            r = res.get(s)
            if r is None:
                continue
            if r["status"] == "ok" and nat.get("status") == "ok" and nat["median"] > 0:
                ratios[m, i, s] = r["median"] / nat["median"]
            else:
                ratios[m, i, s] = None
vals = [v for v in ratios.values() if v]
lo = min(vals + [0.5])
hi = max(vals + [2.0])
ymin = 10 ** math.floor(math.log10(lo / 1.3))
ymax = 10 ** math.ceil(math.log10(hi * 1.3))

width = 0.8 / max(len(sbs), 1)
def xpos(k, j):
    return k + (j - (len(sbs) - 1) / 2) * width

p = print
p('set terminal pngcairo size 1700,1250 font "DejaVu Sans,10" noenhanced')
p('set output "%s"' % out.replace('"', '\\"'))
for m in modes:
    for j, s in enumerate(sbs):
        p("%s << EOD" % block(m, s))
        for k, i in enumerate(ids):
            v = ratios.get((m, i, s))
            if v:
                p("%.4f %.6g" % (xpos(k, j), v))
        p("EOD")
        p("%s_na << EOD" % block(m, s))
        for k, i in enumerate(ids):
            if (m, i, s) in ratios and ratios[m, i, s] is None:
                p('%.4f "n/a"' % xpos(k, j))
        p("EOD")
p("set multiplot layout %d,1 title \"ward benchmarks, run of %s: time as a ratio to native (log scale, lower is better)\\n"
  "%s; machine: %s CPUs, kernel %s; n/a: that sandbox cannot run it (reason in the table)\" font \",12\""
  % (len(modes), run["date"], run["command"].replace('"', "'"), run["machine"]["nproc"],
     run["machine"]["kernel"]))
p("set logscale y")
p("set yrange [%g:%g]" % (ymin, ymax))
p('set format y "x%g"')
p("set ytics nomirror")
p("set grid ytics mytics lc rgb '#dddddd'")
p("set xrange [-0.6:%g]" % (len(ids) - 0.4))
p("set xtics (%s) rotate by 35 right nomirror scale 0" %
  ", ".join('"%s" %d' % (label(i), k) for k, i in enumerate(ids)))
p("set key top left horizontal opaque width 2 samplen 2")
p("set style fill solid 0.9 noborder")
p("set bmargin 7")
split = next((k for k, i in enumerate(ids) if kind(i) == "wall"), None)
for m in modes:
    cpus = run["modes"][m].get("cpus", "")
    title = "pinned (taskset -c %s)" % cpus if m == "pinned" else "unpinned (CPUs %s)" % cpus
    p('set title "%s"' % title)
    p("unset arrow")
    p("unset label")
    p("set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 1.5 lc rgb '#444444'")
    if split is not None and split > 0:
        p("set arrow from %g, graph 0 to %g, graph 1 nohead lc rgb '#888888'" % (split - 0.5, split - 0.5))
        p('set label "micro-benchmarks (per operation)" at %g, graph 0.95 right tc rgb "#555555"' % (split - 0.6))
        p('set label "workloads (start to exit)" at %g, graph 0.95 left tc rgb "#555555"' % (split - 0.4))
    plots = []
    for s in sbs:  # (an empty data block would only make gnuplot warn)
        if any(ratios.get((m, i, s)) for i in ids):
            plots.append("%s using 1:2:($1-%g):($1+%g):(%g):2 with boxxyerror lc rgb '%s' title '%s'"
                         % (block(m, s), width / 2, width / 2, ymin, colors[s], names[s]))
    for s in sbs:
        if any((m, i, s) in ratios and ratios[m, i, s] is None for i in ids):
            plots.append("%s_na using 1:(%g):2 with labels rotate by 90 left font ',8' tc rgb '%s' notitle"
                         % (block(m, s), ymin * 1.15, colors[s]))
    if not plots:
        plots.append("1/0 notitle")
    p("plot " + ", \\\n  ".join(plots))
p("unset multiplot")
EOF
[[ -s $OUT ]] || { echo "chart.sh: gnuplot wrote no $OUT" >&2; exit 1; }
