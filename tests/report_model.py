#!/usr/bin/env python3
"""An independent model of `metricsd report` (shared/spec/report.md,
metricsd(1) "metricsd report"): computes every report field from the
output of `metricsd read --json --values`, and compares it field by
field with `metricsd report --json`.

  report_model.py READ.json [--slo NAME=NS]... > model.json
  report_model.py --compare MODEL.json REPORT.json

SLO values are in nanoseconds here (the test passes the same SLOs to
metricsd report with an "ns" unit). Shares no code with the C side:
percentiles by numpy's linear method written out, early stopping with the
binomial tail summed term by term (no incomplete beta)."""
import json
import math
import sys

NO_VALUE = 2**64 - 1
GRID = [("p50", 50), ("p90", 90), ("p95", 95), ("p99", 99), ("p99.9", 99.9)]
ROWS = [("ttft", "ttft_ns", True), ("tpot", "tpot_ns", True),
        ("tpot_e2e", "tpot_e2e_ns", True), ("itl", "chunk_delta_ns", True),
        ("latency", "sample_latency_ns", True),
        ("input_sequence_lengths", "isl", False),
        ("output_sequence_lengths", "osl", False)]
STATES = {"final": "complete", "live": "live", "interrupted": "interrupted",
          "abandoned": "abandoned", "missing": "missing"}


def percentile(v, p):
    h = (len(v) - 1) * p / 100
    lo = math.floor(h)
    if lo >= len(v) - 1:
        return v[-1]
    return v[lo] + (h - lo) * (v[lo + 1] - v[lo])


def odds(p, h, t):
    """P(at most t of h + t values above the bound): Binomial(h+t, 1-p),
    summed from k = t down, each term from the previous one."""
    n, q = h + t, 1 - p
    log_top = (math.lgamma(n + 1) - math.lgamma(t + 1)
               - math.lgamma(n - t + 1) + t * math.log(q)
               + (n - t) * math.log(p))
    total, term = 1.0, 1.0
    for k in range(t, 0, -1):
        term *= k / (n - k + 1) * p / q
        total += term
        if total > 1e250:          # keep the scale in log_top
            log_top += math.log(total)
            term /= total
            total = 1.0
        if term < total * 1e-17:
            break
    return math.exp(min(0.0, log_top + math.log(total)))


def min_passing(p, t, c=0.99, memo={}):
    if (p, t) in memo:
        return memo[(p, t)]
    lo, hi = 0, 1          # odds(lo) >= 1 - c (or lo = 0), test hi
    while odds(p, hi, t) >= 1 - c:
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if odds(p, mid, t) < 1 - c:
            hi = mid
        else:
            lo = mid
    memo[(p, t)] = hi
    return hi


def early_stopping(sorted_v, p):
    n = len(sorted_v)
    mq = min_passing(p, 1) + 1
    out = {"n": n, "min_queries": mq, "sufficient": n >= mq, "t": None,
           "estimate": None}
    if n < mq:
        return out
    # the largest t with min_passing(t) + t <= n (increasing in t)
    lo, hi = 1, n
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if min_passing(p, mid) + mid <= n:
            lo = mid
        else:
            hi = mid
    t = hi if min_passing(p, hi) + hi <= n else lo
    out["t"] = t
    out["estimate"] = sorted_v[n - t]
    return out


def stats(values, is_ns):
    n = len(values)
    d = {"unit": "ns" if is_ns else "tokens", "count": n}
    if n == 0:
        for k in ["mean", "min", "max", "std"] + [g for g, _ in GRID]:
            d[k] = None
        return d
    v = sorted(values)
    mean = math.fsum(v) / n
    d["mean"] = mean
    d["min"] = v[0]
    d["max"] = v[-1]
    d["std"] = math.sqrt(math.fsum((x - mean) ** 2 for x in v) / n)
    for g, p in GRID:
        d[g] = percentile(v, p)
    return d


def model(read, slo):
    st = read["_store"]
    c = {k: v for k, v in read.items() if not isinstance(v, dict)}
    s = {k: v["values"] for k, v in read.items()
         if isinstance(v, dict) and k != "_store"}
    r = {"state": STATES[st["state"]]}
    pending = c.get("token_work_pending", 0) > 0
    lost = bool(st.get("incomplete", False))
    r["complete"] = r["state"] == "complete" and not pending and not lost
    r["tokens_pending"] = pending
    r["data_lost"] = lost
    r["values_lost"] = st.get("lost", 0) if lost else 0
    r["n_samples_issued"] = c.get("tracked_samples_issued", 0)
    r["n_samples_completed"] = c.get("tracked_samples_completed", 0)
    r["n_samples_failed"] = c.get("total_samples_failed", 0)
    r["samples_in_flight"] = c.get("samples_in_flight", 0)
    dur = c.get("tracked_duration_ns", 0)
    r["duration_ns"] = dur
    r["qps"] = r["n_samples_completed"] / (dur / 1e9) if dur else None
    osl = s.get("osl", [])
    r["tps"] = sum(osl) / (dur / 1e9) if dur and osl else None
    win = None
    if (r["n_samples_issued"] > 0 and c.get("loadgen_last_issued_done") == 1
            and c["loadgen_last_issued_complete_ts"]
            >= c["loadgen_first_issued_ts"]):
        win = c["loadgen_last_issued_complete_ts"] - \
            c["loadgen_first_issued_ts"]
    r["legacy_loadgen_window_duration_ns"] = win
    r["legacy_loadgen_qps"] = ((r["n_samples_completed"] - 1) / (win / 1e9)
                               if win and r["n_samples_completed"] >= 2
                               else None)
    es = {}
    for name, key, latency_like in ROWS:
        is_ns = key.endswith("_ns")
        if key not in s:
            r[name] = None
            if latency_like:
                es[name] = None
            continue
        r[name] = stats(s[key], is_ns)
        if latency_like:
            v = sorted(s[key])
            es[name] = {"p90": early_stopping(v, 0.90),
                        "p99": early_stopping(v, 0.99)}
    r["early_stopping"] = es
    if not slo:
        r["goodput"] = None
    else:
        lat = s.get("sample_good_latency_ns")
        ttft = s.get("sample_good_ttft_ns")
        tpot = s.get("sample_good_tpot_e2e_ns")
        g = {"slo": {k + "_ns": v for k, v in slo.items()}}
        if lat is None:
            g.update(good_samples=None, goodput_fraction=None,
                     goodput_qps=None)
        else:
            good = 0
            for i in range(min(len(x) for x in (lat, ttft, tpot)
                               if x is not None)):
                if "latency" in slo and (lat[i] == NO_VALUE or
                                         lat[i] > slo["latency"]):
                    continue
                if "ttft" in slo and (ttft is None or ttft[i] == NO_VALUE
                                      or ttft[i] > slo["ttft"]):
                    continue
                if "tpot" in slo and tpot is not None and tpot[i] >= 0 \
                        and tpot[i] > slo["tpot"]:
                    continue
                good += 1
            comp = r["n_samples_completed"]
            g.update(good_samples=good,
                     goodput_fraction=good / comp if comp else None,
                     goodput_qps=good / (dur / 1e9) if dur else None)
        r["goodput"] = g
    pre = "finish_reason_"
    r["finish_reason_counts"] = {k[len(pre):]: v for k, v in c.items()
                                 if k.startswith(pre)}
    r["finish_reasons_dropped"] = c.get("finish_reasons_dropped", 0)
    return r


def compare(a, b, path, bad):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                bad.append("%s.%s: only in %s" % (path, k, "model" if k in a
                                                    else "report"))
            else:
                compare(a[k], b[k], path + "." + k, bad)
    elif isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        if a != b:
            bad.append("%s: model %r, report %r" % (path, a, b))
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, int) and isinstance(b, int):
            ok = a == b
        else:
            ok = math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
        if not ok:
            bad.append("%s: model %r, report %r" % (path, a, b))
    elif a != b:
        bad.append("%s: model %r, report %r" % (path, a, b))


def main():
    if sys.argv[1] == "--compare":
        a = json.load(open(sys.argv[2]))
        b = json.load(open(sys.argv[3]))
        bad = []
        compare(a, b, "", bad)
        for line in bad[:30]:
            print(line)
        print("report_model: %d fields differ" % len(bad))
        return 1 if bad else 0
    read = json.load(open(sys.argv[1]))
    slo = {}
    args = sys.argv[2:]
    while args:
        if args[0] != "--slo" or len(args) < 2:
            sys.exit("usage: report_model.py READ.json [--slo NAME=NS]...")
        k, v = args[1].split("=")
        slo[k] = int(v)
        args = args[2:]
    json.dump(model(read, slo), sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
