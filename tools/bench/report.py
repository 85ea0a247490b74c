#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""aios-bench's report: tables (Markdown) and plots (PNG, gnuplot) from what
tools/bench/guest.sh measured.

usage: report.py DIR

Reads DIR/results.tsv, percentiles.tsv, missing.tsv, env.txt and the aiosfs
stage files; writes DIR/report.md and DIR/*.png, and prints the report.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
from collections import defaultdict

STOCK, AIOS, FLOOR = "stock", "aios", "floor"
HIGHER_IS_BETTER = ("IOPS",)


def mean(xs):
    return sum(xs) / len(xs)


def slug(s):
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


def read_tsv(path, ncols):
    if not os.path.exists(path):
        return []
    rows = []
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        if len(f) == ncols:
            rows.append(f)
    return rows


class Results:
    def __init__(self, d):
        self.dir = d
        self.env = dict(l.rstrip("\n").split("=", 1)
                        for l in open(os.path.join(d, "env.txt")) if "=" in l) \
            if os.path.exists(os.path.join(d, "env.txt")) else {}
        self.units = {}
        self.order = []
        self.v = defaultdict(dict)  # (side, metric) -> {round: value}
        for rnd, side, metric, unit, value in read_tsv(os.path.join(d, "results.tsv"), 5):
            if metric not in self.order:
                self.order.append(metric)
            self.units[metric] = unit
            self.v[side, metric][rnd] = float(value)
        self.pct = defaultdict(lambda: defaultdict(list))  # (side, wl) -> p -> [us]
        self.wls = []
        for rnd, side, wl, p, us in read_tsv(os.path.join(d, "percentiles.tsv"), 5):
            if wl not in self.wls:
                self.wls.append(wl)
            self.pct[side, wl][float(p)].append(float(us))
        self.missing = read_tsv(os.path.join(d, "missing.tsv"), 2)

    def ratio(self, metric):
        """aios/stock of the means, and the range of the per-round ratios."""
        s, a = self.v[STOCK, metric], self.v[AIOS, metric]
        if not s or not a or not mean(s.values()):
            return None
        per = [a[r] / s[r] for r in s if r in a and s[r]]
        return mean(a.values()) / mean(s.values()), min(per or [0]), max(per or [0])


def fmt(x):
    if x is None:
        return "missing"
    if abs(x) >= 1000:
        return "%.0f" % x
    if abs(x) >= 10:
        return "%.1f" % x
    return "%.2f" % x


def table(res, metrics):
    out = ["| metric | unit | ext4 + nvme.ko | aiosfs + aiosnvme | ratio aios/stock "
           "| ratio min-max |", "|---|---|---|---|---|---|"]
    for m in metrics:
        s, a = res.v[STOCK, m], res.v[AIOS, m]
        r = res.ratio(m)
        unit = res.units[m] or "-"
        if unit in HIGHER_IS_BETTER:
            unit += " (higher is better)"
        out.append("| %s | %s | %s | %s | %s | %s |" % (
            m, unit, fmt(mean(s.values())) if s else "missing",
            fmt(mean(a.values())) if a else "missing",
            "%.2f" % r[0] if r else "-", "%.2f-%.2f" % r[1:] if r else "-"))
    return out


def headline(m):
    return m.endswith(" mean") or m.endswith("IOPS") or m.startswith(("db_bench", "postmark"))


def floor_lines(res):
    f = res.v[FLOOR, "raw 4k randread mean"]
    if not f:
        return []
    fl = mean(f.values())
    out = ["", "The floor: nvme.ko with a poll queue, io_uring `--hipri`, QD1 4 KiB random "
           "O_DIRECT read: **%.1f us** mean. Each side's latency over the floor "
           "(how much its stack adds to the device):" % fl, "",
           "| latency / floor | ext4 + nvme.ko | aiosfs + aiosnvme |", "|---|---|---|"]
    for m in ("raw 4k randread mean", "fs 4k cold randread mean"):
        s, a = res.v[STOCK, m], res.v[AIOS, m]
        if s and a:
            out.append("| %s | %.2f | %.2f |" % (m, mean(s.values()) / fl, mean(a.values()) / fl))
    return out


def read_stages(path):
    """(name, us) pairs and the header counts of one aiosfs stage file."""
    stages, counts = [], []
    for line in open(path):
        m = re.match(r"^(.*?)\s+([\d.]+) us$", line.rstrip())
        if m:
            stages.append((m.group(1), float(m.group(2))))
        elif ":" in line and not line.startswith("state"):
            k, v = line.rsplit(":", 1)
            counts.append((k.strip(), v.strip()))
    return stages, counts


def last_stage_file(d, pattern):
    files = sorted(glob.glob(os.path.join(d, pattern)),
                   key=lambda p: int(re.search(r"-(\d+)\.txt$", p).group(1)))
    return files[-1] if files else None


def breakdown(res, what, pattern, metric, note):
    path = last_stage_file(res.dir, pattern)
    if not path:
        return [], None
    stages, counts = read_stages(path)
    if not stages:
        return [], None
    rnd = re.search(r"-(\d+)\.txt$", path).group(1)
    s, a = res.v[STOCK, metric].get(rnd), res.v[AIOS, metric].get(rnd)
    out = ["", "### Where the time of %s goes (round %s)" % (what, rnd), "", note, "",
           "| stage | aiosfs us |", "|---|---|"]
    out += ["| %s | %.1f |" % (n, u) for n, u in stages if n != "total"]
    out += ["| **%s** | **%.1f** |" % (n, u) for n, u in stages if n == "total"]
    if a is not None:
        out.append("| fio's mean, aiosfs + aiosnvme | %.1f |" % a)
    if s is not None:
        out.append("| fio's mean, ext4 + nvme.ko (stock total) | %.1f |" % s)
    out += [""] + ["- %s: %s" % c for c in counts]
    return out, (what, [(n, u) for n, u in stages if n != "total"], s)


def gnuplot(script):
    if not shutil.which("gnuplot"):
        return False
    p = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    if p.returncode:
        sys.stderr.write("report: gnuplot failed: %s\n" % p.stderr)
    return p.returncode == 0


def q(s):
    return s.replace('"', "'").replace("_", "\\\\_")


def plot_ratios(res, metrics, path):
    data = []
    for m in metrics:
        r = res.ratio(m)
        if not r:
            continue
        if res.units[m] in HIGHER_IS_BETTER:
            data.append((m + " (inverse)", 1 / r[0], 1 / r[2], 1 / r[1]))
        else:
            data.append((m, r[0], r[1], r[2]))
    if not data:
        return False
    block = "\n".join('"%s" %.4f %.4f %.4f' % (q(n), v, lo, hi) for n, v, lo, hi in data)
    h = 200 + 28 * len(data)
    return gnuplot("""set terminal pngcairo size 900,%d font ",10"
set output "%s"
$d << EOD
%s
EOD
set title "aiosfs + aiosnvme against ext4 + nvme.ko (bars: mean ratio, whiskers: min-max over rounds)"
set xlabel "aios / stock (time; lower is better)"
set yrange [-0.6:%f] reverse
set xrange [0:*]
set style fill solid 0.6
set grid x
unset key
set arrow from 1, graph 0 to 1, graph 1 nohead dt 2
plot $d using 2:0:(0):2:($0-0.35):($0+0.35):ytic(1) with boxxyerror lc rgb "#3a7dc9", \\
     $d using 2:0:3:4 with xerrorbars pt -1 lc rgb "black"
""" % (h, path, block, len(data) - 0.4))


def plot_cdf(res, wl, path):
    curves = []
    for side, name in ((STOCK, "ext4 + nvme.ko"), (AIOS, "aiosfs + aiosnvme"),
                       (FLOOR, "floor: nvme.ko io\\\\_uring --hipri")):
        c = res.pct.get((side, wl))
        if c:
            curves.append((name, sorted((mean(v), p) for p, v in c.items())))
    if len(curves) < 2:
        return False
    blocks = "".join("$c%d << EOD\n%s\nEOD\n" % (i, "\n".join("%.3f %g" % x for x in c))
                     for i, (_, c) in enumerate(curves))
    plots = ", ".join('$c%d using 1:2 with linespoints title "%s"' % (i, n)
                      for i, (n, _) in enumerate(curves))
    return gnuplot("""set terminal pngcairo size 800,500 font ",10"
set output "%s"
%s
set title "%s: latency CDF (percentiles averaged over the rounds)"
set xlabel "latency (us, log scale)"
set ylabel "percentile"
set logscale x
set yrange [0:100]
set grid
set key bottom right
plot %s
""" % (path, blocks, q(wl), plots))


def plot_stages(part, path):
    what, stages, stock = part
    rows = ['"aiosfs" %s 0' % " ".join("%.3f" % u for _, u in stages)]
    if stock is not None:
        rows.append('"ext4 + nvme.ko" %s %.3f' % (" ".join("0" for _ in stages), stock))
    cols = ", ".join('$d using %d%s title "%s"' % (i + 2, ":xtic(1)" if i == 0 else "", q(n))
                     for i, (n, _) in enumerate(stages))
    return gnuplot("""set terminal pngcairo size 900,500 font ",9"
set output "%s"
$d << EOD
%s
EOD
set title "%s: aiosfs's stages beside the stock path's total"
set ylabel "us"
set style data histograms
set style histogram rowstacked
set style fill solid 0.7 border -1
set boxwidth 0.5
set key outside below vertical maxrows 3
set grid y
set yrange [0:*]
plot %s, $d using %d title "ext4 + nvme.ko, total" lc rgb "gray40"
""" % (path, "\n".join(rows), q(what), cols, len(stages) + 2))


def main():
    d = sys.argv[1]
    res = Results(d)
    env = res.env
    metrics = [m for m in res.order if res.v[STOCK, m] or res.v[AIOS, m]]
    heads = [m for m in metrics if headline(m)]
    rep = ["# aios-bench results", "",
           "Kernel %s, %s CPUs, %s MiB; %s rounds of %s s per fio run, the two sides "
           "interleaved; profiles: %s%s. stock = ext4 (default mkfs and mount options) on "
           "nvme.ko; aios = aiosfs on aiosnvme. Latencies are QD1 means over the rounds; "
           "the ratio is aios / stock." % (
               env.get("kernel", "?"), env.get("cpus", "?"), env.get("mem_mb", "?"),
               env.get("rounds", "?"), env.get("runtime", "?"), env.get("profiles", "?"),
               " (quick)" if env.get("quick") == "1" else ""),
           ""]
    if env.get("qemu") or env.get("machine"):
        rep += ["Machine: %s." % (env.get("qemu") or env["machine"]), ""]
    if env.get("cmdline"):
        rep += ["Kernel command line: `%s`." % env["cmdline"], ""]
    rep += ["## Headline", ""] + table(res, heads)
    rep += floor_lines(res)
    parts = []
    for png, what, pat, metric, note in (
            ("stages-read.png", "an aiosfs cold 4 KiB read", "aiosfs-read-stages-4k-*.txt",
             "fs 4k cold randread mean",
             "Reads that missed the page cache; the device works during the insertion "
             "stage."),
            ("stages-fsync.png", "an aiosfs 4 KiB write+fsync that commits", "aiosfs-fsync-stages-*.txt",
             "fs 4k randwrite+fsync mean",
             "Stages of the fsyncs that committed a transaction; fio's means are over all "
             "fsyncs, including those that needed no commit (counted below).")):
        lines, part = breakdown(res, what, pat, metric, note)
        rep += lines
        if part:
            parts.append((part, png))
    rep += ["", "## All figures", ""] + table(res, metrics)
    if res.missing:
        rep += ["", "## Missing", ""] + ["- %s: %s" % tuple(m) for m in res.missing]
    plots = []
    if plot_ratios(res, heads, os.path.join(d, "ratios.png")):
        plots.append("ratios.png")
    for wl in res.wls:
        name = "cdf-%s.png" % slug(wl)
        if plot_cdf(res, wl, os.path.join(d, name)):
            plots.append(name)
    for part, name in parts:
        if plot_stages(part, os.path.join(d, name)):
            plots.append(name)
    if plots:
        rep += ["", "## Plots", ""] + ["![%s](%s)" % (p[:-4], p) for p in plots]
    text = "\n".join(rep) + "\n"
    open(os.path.join(d, "report.md"), "w").write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
