#!/usr/bin/env python3
"""The measuring loop of bench_launch.sh (read its header first).

  bench_launch_run.py METRICSD POPEN_SCRIPT SENDER DIR RUNS

DIR holds MODE.N.conf for MODE in zmq, none and N in 1, 8, 32. For each,
RUNS times, runs `METRICSD launch DIR/MODE.N.conf -- true` and the
baseline `POPEN_SCRIPT MODE N SENDER DIR`, alternating which goes first,
and takes two figures of each run:

  self  spawn-to-all-ready as the program times it itself (launch's
        "all N services ready in X ms" line, the baseline's printed
        figure): from just before its first spawn, same clock, same
        events on both sides;
  e2e   from just before this script starts the program to the moment
        it reads that line: what a user waits for, including the
        program's own start-up (shared libraries or interpreter and
        imports; for launch also its watchdog, socket directory and
        cgroup). Measured here, by one clock, the same way for both.

Prints the medians, the ratios launch / baseline, and the worst ratio of
the self figures (the issue's target: <= 1.0 at every size). Then, for
each size, the ratio of each pair of runs (the two sides back to back,
so under much the same load): their median and range, which show how far
the machine's load moved the figures.
"""
import re
import subprocess
import sys
import time


def median(v):
    v = sorted(v)
    return v[(len(v) - 1) // 2]


def run_launch(binary, conf):
    t0 = time.monotonic()
    p = subprocess.Popen([binary, "launch", conf, "--", "true"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)
    self_ms = e2e = None
    seen = []
    for line in p.stderr:
        seen.append(line)
        m = re.search(r"all \d+ services ready in ([0-9.]+) ms", line)
        if m and self_ms is None:
            e2e = (time.monotonic() - t0) * 1000
            self_ms = float(m.group(1))
    if p.wait() != 0 or self_ms is None:
        sys.exit("bench_launch: launch failed:\n" + "".join(seen))
    return self_ms, e2e


def run_popen(popen, mode, n, sender, d):
    t0 = time.monotonic()
    p = subprocess.Popen([sys.executable, popen, mode, str(n), sender, d],
                         stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    e2e = (time.monotonic() - t0) * 1000
    p.stdout.read()
    if p.wait() != 0 or not line.strip():
        sys.exit("bench_launch: %s failed" % popen)
    return float(line), e2e


def main():
    binary, popen, sender, d, runs = sys.argv[1:6]
    runs = int(runs)
    print("%5s %4s | %8s %8s %6s | %8s %8s %6s | %9s %9s" % (
        "mode", "n", "launch", "python", "ratio", "launch", "python",
        "ratio", "l/service", "p/service"))
    print("%5s %4s | %24s | %24s | %19s" % (
        "", "", "spawn-to-all-ready, ms", "end to end, ms",
        "spawn-to-ready, ms"))
    worst = 0.0
    pairs = []
    for mode in ("zmq", "none"):
        for n in (1, 8, 32):
            conf = "%s/%s.%d.conf" % (d, mode, n)
            ls, le, ps, pe = [], [], [], []
            for r in range(runs):
                order = (0, 1) if r % 2 == 0 else (1, 0)
                for side in order:
                    if side == 0:
                        s, e = run_launch(binary, conf)
                        ls.append(s)
                        le.append(e)
                    else:
                        s, e = run_popen(popen, mode, n, sender, d)
                        ps.append(s)
                        pe.append(e)
            l, p, l2, p2 = median(ls), median(ps), median(le), median(pe)
            worst = max(worst, l / p)
            pr = sorted(a / b for a, b in zip(ls, ps))
            pairs.append((mode, n, median(pr), pr[0], pr[-1]))
            print("%5s %4d | %8.2f %8.2f %6.2f | %8.2f %8.2f %6.2f | "
                  "%9.3f %9.3f" % (mode, n, l, p, l / p, l2, p2, l2 / p2,
                                   l / n, p / n))
            sys.stdout.flush()
    print("bench_launch: worst spawn-to-all-ready ratio %.2f "
          "(target <= 1.0, goal <= 0.5)" % worst)
    print("bench_launch: spawn-to-all-ready ratio of each pair of runs:")
    for mode, n, med, lo, hi in pairs:
        print("%5s %4d | median %5.2f, range %5.2f - %5.2f" % (
            mode, n, med, lo, hi))


main()
