# metricsd serve following more stores than its descriptor limit could
# hold one descriptor per key for: under ulimit -n 256, 100 stores of 10
# keys each are all served with their values, serve holds few descriptors,
# and /healthz and /api/report keep answering.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

GEN=${METRICSD_HELPERS:?}/serve_storegen
[ -x "$GEN" ] || fail "helper $GEN not built"
N=100

mkdir "$T/parent"
i=1
while [ $i -le $N ]; do
	"$GEN" "$T/parent/s$i" || fail "storegen s$i"
	i=$((i + 1))
done

# Soft and hard limit: serve cannot raise it past 256.
ulimit -n 256 || skip "cannot lower the descriptor limit"
start_serve --metrics-dir "$T/parent"
scrape "$T/m1"
grep -q 'Too many open files' "$T/serve.err" &&
	fail "serve ran out of descriptors: $(cat "$T/serve.err")"
[ "$(grep -c '^metricsd_ratio_total{run="s[0-9]*"} 0.25$' "$T/m1")" -eq $N ] ||
	fail "not all $N stores served: $(grep -c '^metricsd_ratio_total' "$T/m1")"
i=1
while [ $i -le $N ]; do
	expect_value "$T/m1" "metricsd_sample_latency_seconds_count{run=\"s$i\"}" 1000
	i=$((i + 1))
done
echo "ok: all $N stores (${N}0 keys) served under ulimit -n 256"

fds=$(ls "/proc/$SERVE_PID/fd" | wc -l)
[ "$fds" -lt 64 ] || fail "serve holds $fds descriptors following $N stores"
echo "ok: serve holds $fds descriptors"

# A second scrape folds from the same followers; the other endpoints answer.
scrape "$T/m2"
[ "$(grep -c '^metricsd_ratio_total{run="s[0-9]*"} 0.25$' "$T/m2")" -eq $N ] ||
	fail "second scrape: not all $N stores served"
python3 -c '
import json, sys, urllib.request
base = "http://" + sys.argv[1]
with urllib.request.urlopen(base + "/healthz", timeout=30) as r:
    assert r.read() == b"ok\n"
with urllib.request.urlopen(base + "/api/report", timeout=30) as r:
    body = r.read().decode()
json.loads(body)
missing = [i for i in range(1, int(sys.argv[2]) + 1) if "\"s%d\"" % i not in body]
assert not missing, "runs missing from /api/report: %r" % missing
' "$ADDR" "$N" || fail "/healthz or /api/report"
echo "ok: /healthz and /api/report answer, every run in the report"
grep -q 'Too many open files' "$T/serve.err" &&
	fail "serve ran out of descriptors: $(cat "$T/serve.err")"
stop_serve
