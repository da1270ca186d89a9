#!/usr/bin/env python3
"""Independent model of ../shared/spec/metrics.md for the end-to-end tests.

Reads events as JSON lines (the `metricsd publish` input format) on stdin
and prints the metrics an aggregator must compute, as JSON:
{"counters": {key: int}, "series": {key: [values...]}}.

Usage: expect_metrics.py [--streaming] [--tokenizer whitespace]
           [--list-texts FILE | --counts FILE]

Token counts are whitespace words unless --counts FILE gives them: JSON
lines [text, count] (from a reference tokenizer); a text missing there is
an error. --list-texts FILE writes every text that would be counted, one
JSON string per line, to FILE (the metrics printed are then meaningless).
"""
import json
import sys

COUNTS = None
LISTED = None


def count_tokens(text):
    if LISTED is not None:
        LISTED.write(json.dumps(text) + "\n")
        return 1
    if COUNTS is not None:
        if text not in COUNTS:
            sys.exit("expect_metrics.py: no count for %r" % text[:80])
        return COUNTS[text]
    return len(text.split())


def items(v):
    """A TextModelOutput field as (form, list of chunks)."""
    if v is None:
        return None, []
    if isinstance(v, str):
        return "str", [v]
    return "list", list(v)


def main():
    global COUNTS, LISTED
    if "--counts" in sys.argv:
        COUNTS = {}
        with open(sys.argv[sys.argv.index("--counts") + 1]) as f:
            for line in f:
                text, n = json.loads(line)
                COUNTS[text] = n
    if "--list-texts" in sys.argv:
        LISTED = open(sys.argv[sys.argv.index("--list-texts") + 1], "w")
    streaming = "--streaming" in sys.argv
    tok = "--tokenizer" in sys.argv
    c = dict.fromkeys(["total_samples_issued", "total_samples_completed",
                       "total_samples_failed", "tracked_samples_issued",
                       "tracked_samples_completed", "tracked_duration_ns",
                       "total_duration_ns"], 0)
    s = {k: [] for k in ["sample_latency_ns", "isl", "osl"]}
    if streaming:
        for k in ["ttft_ns", "chunk_delta_ns", "tpot_ns"]:
            s[k] = []
    rows = {}          # uuid -> dict(issued, block, first, last)
    blocks = []        # [start, end or None]
    window_open = False
    started = None

    def durations():
        return sum(max(0, e - b) if e is not None else 0 for b, e in blocks)

    for line in sys.stdin:
        if not line.strip():
            continue
        ev = json.loads(line)
        t = ev["event_type"]
        ts = ev["timestamp_ns"]
        uuid = ev.get("sample_uuid", "")
        data = ev.get("data")
        if started is not None:
            c["total_duration_ns"] = max(c["total_duration_ns"], ts - started)
        if t == "session.started":
            started = ts
        elif t == "session.ended":
            break
        elif t == "session.start_performance_tracking":
            if not window_open:
                window_open = True
                blocks.append([ts, None])
        elif t == "session.stop_performance_tracking":
            window_open = False
            c["tracked_duration_ns"] = durations()
        elif t.startswith("error."):
            c["total_samples_failed"] += 1
        elif t == "sample.issued" and uuid:
            c["total_samples_issued"] += 1
            # Counted while a window is open, duplicates included (the
            # spec's wording); a duplicate keeps the existing row.
            if window_open:
                c["tracked_samples_issued"] += 1
            if window_open and uuid not in rows:
                rows[uuid] = {"issued": ts, "block": len(blocks) - 1,
                              "first": None, "last": None}
                if data and data[0] == "PromptData":
                    text = data[1] if len(data) > 1 else None
                    ids = data[2] if len(data) > 2 else None
                    if ids is not None:
                        s["isl"].append(len(ids))
                    elif text is not None and tok:
                        s["isl"].append(count_tokens(text))
        elif t in ("sample.recv_first", "sample.recv_non_first") and uuid in rows:
            r = rows[uuid]
            if streaming:
                if t == "sample.recv_first" and r["first"] is None:
                    s["ttft_ns"].append(ts - r["issued"])
                if r["last"] is not None:
                    s["chunk_delta_ns"].append(ts - r["last"])
            if t == "sample.recv_first" and r["first"] is None:
                r["first"] = ts
            r["last"] = ts
        elif t == "sample.complete" and uuid:
            c["total_samples_completed"] += 1
            r = rows.pop(uuid, None)
            if r is None:
                continue
            c["tracked_samples_completed"] += 1
            b = blocks[r["block"]]
            b[1] = ts if b[1] is None else max(b[1], ts)
            s["sample_latency_ns"].append(ts - r["issued"])
            if not (data and data[0] == "TextModelOutput"):
                continue
            out = data[1] if len(data) > 1 else ""
            rsn = data[2] if len(data) > 2 else None
            of, oi = items(out)
            rf, ri = items(rsn)
            if tok:
                s["osl"].append(count_tokens("".join(ri + oi)))
            if streaming and tok and r["first"] is not None:
                if rf is not None:
                    after = ri[1:]
                    if of == "list":
                        after += oi
                    elif rf == "list":
                        after += oi
                else:
                    after = oi[1:] if of == "list" else []
                n = count_tokens("".join(after))
                if n > 0:
                    s["tpot_ns"].append((ts - r["first"]) / n)
    c["tracked_duration_ns"] = durations()
    json.dump({"counters": c, "series": s}, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
