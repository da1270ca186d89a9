#!/usr/bin/env python3
"""A real Prometheus scrapes `metricsd serve`; the values it stored must
match `metricsd read --json` on the same (final, unchanging) store.

usage: serve_prometheus.py SERVE_ADDR RUN READ_JSON_FILE TMPDIR

Starts prometheus on a free loopback port with a temporary data dir and a
1 s scrape interval, waits (deadline) until it has scraped metricsd, then
checks every key of the JSON through the query API (/api/v1/query).
"""
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request

from free_port import free_port

SERVE, RUN, JSON_FILE, TMP = sys.argv[1:5]
START_DEADLINE = 180.0  # prometheus may start slowly on a loaded machine
QUANTILES = {"p50": "0.5", "p90": "0.9", "p95": "0.95", "p99": "0.99",
             "p99.9": "0.999"}


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


GAUGES = {"samples_in_flight", "loadgen_first_issued_ts",
          "loadgen_last_issued_complete_ts", "loadgen_last_issued_done"}


def metric_name(key, counter):
    """The mapping of metricsd(1), written out independently of prom.c."""
    if counter and key in GAUGES:
        counter = False
    ns = len(key) > 3 and key.endswith("_ns")
    base = key[:-3] if ns else key
    if counter and not ns and base.endswith("_total"):
        base = base[:-6]
    name = "metricsd_" + re.sub(rb"[^A-Za-z0-9_]", b"_",
                                base.encode()).decode()
    if ns:
        name += "_seconds"
    if counter:
        name += "_total"
    return name, (1e9 if ns else 1.0)


def query(api, q):
    url = api + "/api/v1/query?" + urllib.parse.urlencode({"query": q})
    with urllib.request.urlopen(url, timeout=30) as r:
        doc = json.load(r)
    if doc.get("status") != "success":
        fail("query %s: %r" % (q, doc))
    return doc["data"]["result"]


def close(got, want):
    if want is None:
        return math.isnan(got)
    return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12)


port = free_port()
cfg = os.path.join(TMP, "prometheus.yml")
with open(cfg, "w") as f:
    f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            "scrape_configs:\n  - job_name: metricsd\n"
            "    static_configs:\n      - targets: ['%s']\n" % SERVE)
log = open(os.path.join(TMP, "prometheus.log"), "w")
prom = subprocess.Popen(
    ["prometheus", "--config.file=" + cfg,
     "--storage.tsdb.path=" + os.path.join(TMP, "prom-data"),
     "--web.listen-address=127.0.0.1:%d" % port, "--log.level=warn"],
    stdout=log, stderr=log)
api = "http://127.0.0.1:%d" % port

try:
    # Await the first successful scrape of metricsd, by polling the query
    # API against a deadline (prometheus offers no event to wait on).
    t0 = time.monotonic()
    while True:
        if prom.poll() is not None:
            fail("prometheus exited %d: %s" % (
                prom.returncode,
                open(os.path.join(TMP, "prometheus.log")).read()[-2000:]))
        try:
            res = query(api, 'metricsd_store_writer_alive{run="%s"}' % RUN)
            if res:
                break
        except (OSError, ValueError):
            pass  # not listening yet
        if time.monotonic() - t0 > START_DEADLINE:
            fail("prometheus did not scrape metricsd within %ds" %
                 START_DEADLINE)
        time.sleep(0.25)  # poll pacing
    print("ok: prometheus scraped metricsd serve after %.1fs" %
          (time.monotonic() - t0))
    up = query(api, 'up{job="metricsd"}')
    if not up or up[0]["value"][1] != "1":
        fail("up{job=metricsd}: %r" % up)

    with open(JSON_FILE) as f:
        doc = json.load(f)
    sel = '{run="%s"}' % RUN
    checked = 0
    for key, val in sorted(doc.items()):
        if key == "_store":
            continue
        if isinstance(val, dict):
            name, scale = metric_name(key, False)
            want = {name + "_count" + sel: val["count"],
                    name + "_sum" + sel: (val["sum"] or 0) / scale}
            for p, q in QUANTILES.items():
                v = val[p]
                want['%s{run="%s",quantile="%s"}' % (name, RUN, q)] = (
                    None if v is None else v / scale)
        else:
            name, scale = metric_name(key, True)
            want = {name + sel: val / scale}
        for q, w in want.items():
            res = query(api, q)
            if len(res) != 1:
                fail("%s (key %s): %d series in prometheus" %
                     (q, key, len(res)))
            got = float(res[0]["value"][1])
            if not close(got, w):
                fail("%s (key %s): prometheus has %r, read --json %r" %
                     (q, key, got, w))
            checked += 1
    st = doc["_store"]
    res = query(api, 'metricsd_store_state{run="%s",state="final"}' % RUN)
    if float(res[0]["value"][1]) != (1.0 if st["final"] else 0.0):
        fail("store_state final: %r vs %r" % (res, st))
    checked += 1
    print("ok: %d samples in prometheus match metricsd read --json" % checked)
finally:
    prom.send_signal(signal.SIGTERM)
    try:
        prom.wait(timeout=60)
    except subprocess.TimeoutExpired:
        prom.kill()
        prom.wait()
