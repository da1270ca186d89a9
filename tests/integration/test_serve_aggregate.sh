# The whole pipeline: publish -> aggregate -> store -> serve / read
# --prometheus; promtool accepts it and every aggregator key is there.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

mkdir "$T/stores"
metricsd aggregate --connect "ipc://$T/ev" --metrics-dir "$T/stores/bench" \
	--streaming --tokenizer whitespace 2>"$T/agg.err" &
AGG=$!
bg_pid "$AGG"
expect_exit 0 metricsd publish --bind "ipc://$T/ev" --wait-subscribers 1 \
	--synthetic 200
wait "$AGG" || fail "aggregate exited $?: $(cat "$T/agg.err")"
bg_done "$AGG"

expect_exit 0 metricsd read --prometheus --metrics-dir "$T/stores/bench"
cp "$T/out" "$T/read.prom"
promtool_check "$T/read.prom"
expect_value "$T/read.prom" 'metricsd_total_samples_issued_total{run="bench"}' 200
expect_value "$T/read.prom" 'metricsd_sample_latency_seconds_count{run="bench"}' 200
expect_value "$T/read.prom" 'metricsd_decode_errors_total{run="bench"}' 0
expect_value "$T/read.prom" 'metricsd_samples_in_flight{run="bench"}' 0
expect_value "$T/read.prom" 'metricsd_store_state{run="bench",state="final"}' 1
grep -q '^# metricsd: left out' "$T/read.prom" && fail "keys left out: $(grep left "$T/read.prom")"
echo "ok: an aggregator's store exports cleanly"

start_serve --metrics-dir "$T/stores"
scrape "$T/serve.prom"
stop_serve TERM
cmp "$T/read.prom" "$T/serve.prom" || fail "serve differs from read --prometheus"
echo "ok: serve returns the same exposition"
exit 0
