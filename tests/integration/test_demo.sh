# The demo (make demo): examples/demo.sh under metricsd launch, with a
# small session; its store must hold what the demo says to expect,
# including osl and tpot_ns counted with Llama 3's tokenizer.json (from
# make deps in $METRICSD_TOKDATA: missing data is a failure, not a skip).
. "$(dirname "$0")/lib.sh"

DATA=${METRICSD_TOKDATA:-/var/cache/metricsd/tok}
[ -f "$DATA/llama3/tokenizer.json" ] ||
	fail "$DATA/llama3/tokenizer.json missing: run make deps (scripts/tokdeps)"

root=$(cd "$(dirname "$0")/../.." && pwd)
H=$METRICSD_HELPERS
[ -x "$H/storedump" ] || skip "helper storedump not built"
metricsd read --help 2>&1 | grep -q 'not implemented' &&
	skip "metricsd read is not implemented in this build"

# The dashboard stays up (DEMO_HOLD=forever) until the demo is stopped:
# once the report is out, the page and its data must be there.
DEMO_SAMPLES=300 DEMO_KEEP=1 DEMO_HOLD=forever sh "$root/examples/demo.sh" >"$T/demo.out" 2>&1 &
DEMO_PID=$!
n=0
until grep -q '^OSL (tok) ' "$T/demo.out"; do
	kill -0 "$DEMO_PID" 2>/dev/null || fail "demo ended before holding: $(cat "$T/demo.out")"
	n=$((n + 1))
	[ $n -gt 1200 ] && { kill "$DEMO_PID"; fail "no report after 60 s: $(cat "$T/demo.out")"; }
	sleep 0.05 # polling the demo's output for its last table
done
url=$(sed -n 's|^== dashboard: \(http://[^ ]*/\) (metricsd serve; up until ^C)$|\1|p' "$T/demo.out")
[ -n "$url" ] || { kill "$DEMO_PID"; fail "the demo printed no dashboard URL: $(head -n 5 "$T/demo.out")"; }
python3 - "$url" <<'PY' || { kill "$DEMO_PID"; fail "dashboard of the demo not served"; }
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=30) as r:
    assert b"/static/dashboard.js" in r.read()
with urllib.request.urlopen(sys.argv[1] + "api/report", timeout=30) as r:
    d = json.load(r)
s = d["stores"][0]
assert s["state"] == "complete" and s["report"]["n_samples_completed"] == 300, s["state"]
PY
echo "ok: the dashboard at $url shows the demo's store, complete"
kill -TERM "$DEMO_PID"
wait "$DEMO_PID"
rc=$?
[ "$rc" -eq 130 ] || fail "demo exited $rc on SIGTERM during its hold, expected 130"
python3 - "$url" <<'PY' && fail "the dashboard is still up after the demo"
import sys, urllib.request
urllib.request.urlopen(sys.argv[1] + "healthz", timeout=5)
PY
echo "ok: the dashboard stays up until the demo is stopped, then goes"
store=$(sed -n 's/^store kept in //p' "$T/demo.out")
[ -n "$store" ] && [ -d "$store" ] || fail "demo did not say where its store is"
trap 'rm -rf "$T" "$(dirname "$store")"' EXIT
expect_grep 'all 1 services ready' "$T/demo.out"
expect_grep 'total_samples_issued' "$T/demo.out"
expect_grep 'What to check' "$T/demo.out"
expect_grep "^== OSL and TPOT from the tokenizer \($DATA/llama3/tokenizer.json\)" "$T/demo.out"
expect_grep '^osl  ' "$T/demo.out"
expect_grep '^tpot_ns  ' "$T/demo.out"
# It ends with the benchmark summary: metricsd report, complete, in ms.
sed -n '/^== The benchmark summary: metricsd report/,$p' "$T/demo.out" >"$T/report.out"
[ -s "$T/report.out" ] || fail "the demo does not end with metricsd report"
expect_grep '^report of .*: complete$' "$T/report.out"
expect_grep '^samples: 300 issued, 300 completed' "$T/report.out"
expect_grep '^goodput: TTFT <= 100.000 ms, latency <= 300.000 ms' "$T/report.out"
for row in 'TTFT (ms)' 'TPOT (ms)' 'TPOT e2e (ms)' 'ITL (ms)' 'latency (ms)' 'ISL (tok)' 'OSL (tok)'; do
	grep -q "^$row " "$T/report.out" || fail "report has no row '$row'"
done
tail -n 2 "$T/demo.out" | grep -q '^OSL (tok) ' || fail "the demo does not end with the report's table"
failed=$(sed -n 's/.*completed, \([0-9]*\) failed.*/\1/p' "$T/demo.out" | tail -n 1)
"$H/storedump" "$store" >"$T/got.json" || fail "storedump failed"
python3 - "$T/got.json" "$failed" <<'PY' || fail "demo store does not match what the demo promises"
import json, sys
d = json.load(open(sys.argv[1]))
c, s = d["counters"], d["series"]
assert d["state"] == "final", d["state"]
for k in ("total_samples_issued", "tracked_samples_issued",
          "total_samples_completed", "tracked_samples_completed"):
    assert c[k] == 300, (k, c[k])
assert c["total_samples_failed"] == int(sys.argv[2]), c["total_samples_failed"]
assert c["decode_errors"] == 0
ttft = s["ttft_ns"]
assert ttft and all(20e6 <= v <= 120e6 for v in ttft), "ttft out of 20-120 ms"
assert all(5e6 <= v <= 30e6 for v in s["chunk_delta_ns"]), "chunk delta range"
assert all(16 <= v <= 512 for v in s["isl"]) and len(s["isl"]) == 300
assert 0 < c["tracked_duration_ns"] <= c["total_duration_ns"]
# Llama 3 counts of answers written to about 400 tokens (DEMO_OSL).
osl = s["osl"]
assert len(osl) == 300 - int(sys.argv[2]), len(osl)
assert 0.85 * 400 <= sum(osl) / len(osl) <= 1.15 * 400, sum(osl) / len(osl)
tpot = s["tpot_ns"]
assert tpot and len(tpot) <= len(osl) and all(v > 0 for v in tpot)
assert c["tokenizer_errors"] == 0 and c["tokenizer_invalid_utf8"] == 0
print("demo store ok:", {k: c[k] for k in ("total_samples_issued", "total_samples_failed")})
PY

# The demo's status is launch's, though launch's output goes through tee:
# a benchmark (publisher) that failed must not end in a demo that "worked".
# The wrapper runs the real launch, then reports it failed.
cat >"$T/fakebin" <<SH
#!/bin/sh
if [ "\$1" = launch ]; then "$METRICSD_BIN" "\$@"; echo "launch: simulated failure" >&2; exit 3; fi
exec "$METRICSD_BIN" "\$@"
SH
chmod +x "$T/fakebin"
METRICSD_BIN=$T/fakebin DEMO_SAMPLES=20 DEMO_HOLD=0 sh "$root/examples/demo.sh" >"$T/demo2.out" 2>&1
rc=$?
[ "$rc" -eq 3 ] || fail "demo exited $rc after launch failed, expected 3: $(cat "$T/demo2.out")"
expect_grep 'metricsd launch exited 3' "$T/demo2.out"
grep -q 'What to check' "$T/demo2.out" && fail "failed demo still says what to check"
echo "ok: a failed launch fails the demo with its status"
exit 0
