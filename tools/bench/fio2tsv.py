#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turns one fio JSON result into aios-bench rows.

usage: fio2tsv.py JSON KIND ROUND SIDE WORKLOAD RESULTS PERCENTILES [COMMANDS]

KIND is "lat" (a read or write job: its latency), "sync" (writes with
fsync=1 or fdatasync=1: a write and its sync together, and per sync the
job's context switches and the drive's COMMANDS) or "iops".
RESULTS gets "round side metric unit value" rows, PERCENTILES
"round side workload percentile microseconds" rows for the CDF plots.
A one-line summary goes to stdout for the progress line.
"""
import json
import sys


def pcts(d):
    return {float(k): v / 1e3 for k, v in (d.get("percentile") or {}).items()}


def main():
    path, kind, rnd, side, wl, results, percentiles = sys.argv[1:8]
    job = json.load(open(path))["jobs"][0]
    rows, curve, costs = [], {}, []
    if kind == "iops":
        iops = job["read"]["iops"] + job["write"]["iops"]
        rows.append((wl + " IOPS", "IOPS", iops))
        summary = "%.0f IOPS" % iops
    else:
        d = job["read"] if job["read"]["io_bytes"] else job["write"]
        mean = d["lat_ns"]["mean"] / 1e3
        curve = pcts(d["clat_ns"])
        if kind == "sync":
            # fio times the sync apart from the write: add the write's mean
            # to the sync's latency, so that the figures are per write+sync.
            s = job["sync"]["lat_ns"]
            mean += s["mean"] / 1e3
            curve = {p: v + d["lat_ns"]["mean"] / 1e3 for p, v in pcts(s).items()}
            # fio counts fdatasyncs in the latency but not in total_ios:
            # one per write.
            n = max(job["sync"]["total_ios"] or job["write"]["total_ios"], 1)
            costs = [(wl + ": context switches per sync", "", job["ctx"] / n),
                     (wl + ": drive commands per sync", "", int(sys.argv[8]) / n)]
        rows.append((wl + " mean", "us", mean))
        for p in (50.0, 99.0):
            if p in curve:
                rows.append((wl + " p%d" % p, "us", curve[p]))
        summary = "%.1f us mean" % mean
    rows += costs
    with open(results, "a") as f:
        for metric, unit, value in rows:
            f.write("%s\t%s\t%s\t%s\t%.3f\n" % (rnd, side, metric, unit, value))
    with open(percentiles, "a") as f:
        for p in sorted(curve):
            f.write("%s\t%s\t%s\t%g\t%.3f\n" % (rnd, side, wl, p, curve[p]))
    print(summary)


if __name__ == "__main__":
    main()
