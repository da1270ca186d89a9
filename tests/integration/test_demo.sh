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

DEMO_SAMPLES=300 DEMO_KEEP=1 sh "$root/examples/demo.sh" >"$T/demo.out" 2>&1 ||
	fail "demo failed: $(cat "$T/demo.out")"
store=$(sed -n 's/^store kept in //p' "$T/demo.out")
[ -n "$store" ] && [ -d "$store" ] || fail "demo did not say where its store is"
trap 'rm -rf "$T" "$(dirname "$store")"' EXIT
expect_grep 'all 1 services ready' "$T/demo.out"
expect_grep 'total_samples_issued' "$T/demo.out"
expect_grep 'What to check' "$T/demo.out"
expect_grep "^== OSL and TPOT from the tokenizer \($DATA/llama3/tokenizer.json\)" "$T/demo.out"
tail -n 3 "$T/demo.out" | grep -q '^osl ' || fail "the demo does not end with osl"
tail -n 3 "$T/demo.out" | grep -q '^tpot_ns ' || fail "the demo does not end with tpot_ns"
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
METRICSD_BIN=$T/fakebin DEMO_SAMPLES=20 sh "$root/examples/demo.sh" >"$T/demo2.out" 2>&1
rc=$?
[ "$rc" -eq 3 ] || fail "demo exited $rc after launch failed, expected 3: $(cat "$T/demo2.out")"
expect_grep 'metricsd launch exited 3' "$T/demo2.out"
grep -q 'What to check' "$T/demo2.out" && fail "failed demo still says what to check"
echo "ok: a failed launch fails the demo with its status"
exit 0
