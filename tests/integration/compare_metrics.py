#!/usr/bin/env python3
"""compare_metrics.py EXPECTED GOT: compare the metrics expect_metrics.py
computed with a store dump (tests/helpers/storedump, or the output of
`metricsd read --json --values`). Counters must be
equal, series equal value for value and in order (float64 series within a
relative 1e-9). Keys in EXPECTED must exist in GOT; series keys in GOT that
EXPECTED lacks (streaming-only keys without --streaming) are an error too.
Exit 0 when they match, 1 with the differences printed."""
import json
import math
import sys


def from_read(d):
    """`metricsd read --json --values` -> the storedump layout."""
    out = {"counters": {}, "series": {}, "state": d["_store"]["state"]}
    for k, v in d.items():
        if k == "_store":
            continue
        if isinstance(v, dict):
            out["series"][k] = v["values"]
        else:
            out["counters"][k] = v
    return out


def main():
    exp = json.load(open(sys.argv[1]))
    got = json.load(open(sys.argv[2]))
    if "_store" in got:
        got = from_read(got)
    bad = []
    for k, v in exp["counters"].items():
        g = got["counters"].get(k)
        if g != v:
            bad.append(f"counter {k}: expected {v}, got {g}")
    for k, v in exp["series"].items():
        g = got["series"].get(k)
        if g is None:
            bad.append(f"series {k}: missing")
            continue
        if len(g) != len(v):
            bad.append(f"series {k}: expected {len(v)} values, got {len(g)}")
            continue
        for i, (a, b) in enumerate(zip(v, g)):
            if isinstance(a, float) or isinstance(b, float):
                ok = math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
            else:
                # storedump goes through jansson, whose integers are
                # signed: a u64 above 2^63 (the 2^64-1 "no value" of the
                # sample_good_* series) comes out negative.
                ok = a == b or (a - b) % 2**64 == 0
            if not ok:
                bad.append(f"series {k}[{i}]: expected {a}, got {b}")
                break
    for k in got["series"]:
        if k not in exp["series"]:
            bad.append(f"series {k}: present but not expected")
    for line in bad:
        print(line)
    n = sum(len(v) for v in exp["series"].values())
    print(f"compared {len(exp['counters'])} counters and {n} series values: "
          f"{'OK' if not bad else str(len(bad)) + ' difference(s)'}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
