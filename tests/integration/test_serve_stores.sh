# metricsd serve reading stores: values of every kind of key, promtool,
# stores appearing and disappearing, a live writer, parent directories.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

GEN=${METRICSD_HELPERS:?}/serve_storegen
[ -x "$GEN" ] || fail "helper $GEN not built"

# A parent that does not exist yet, and a store dir that does not either.
start_serve --metrics-dir "$T/parent" --metrics-dir "$T/single"
scrape "$T/m0"
grep -q 'run=' "$T/m0" && fail "samples with no store: $(cat "$T/m0")"
echo "ok: no store yet, no samples"
promtool_check "$T/m0"

mkdir "$T/parent"
"$GEN" "$T/parent/a" || fail "storegen a"
scrape "$T/m1"
promtool_check "$T/m1"
r='{run="a"}'
expect_value "$T/m1" "metricsd_total_samples_issued_total$r" 12345
expect_value "$T/m1" "metricsd_tracked_duration_seconds_total$r" 1.500000001
expect_value "$T/m1" "metricsd_decode_errors_total$r" 3
expect_value "$T/m1" "metricsd_ratio_total$r" 0.25
expect_value "$T/m1" "metricsd_samples_in_flight$r" 4
grep -q '^# TYPE metricsd_samples_in_flight gauge$' "$T/m1" || fail "gauge TYPE"
expect_value "$T/m1" 'metricsd_sample_latency_seconds{run="a",quantile="0.5"}' 0.5005
expect_value "$T/m1" 'metricsd_sample_latency_seconds{run="a",quantile="0.99"}' 0.99001
expect_value "$T/m1" "metricsd_sample_latency_seconds_sum$r" 500.5
expect_value "$T/m1" "metricsd_sample_latency_seconds_count$r" 1000
expect_value "$T/m1" 'metricsd_offset_seconds{run="a",quantile="0.5"}' -5e-10
expect_value "$T/m1" "metricsd_offset_seconds_sum$r" -5e-07
expect_value "$T/m1" 'metricsd_score{run="a",quantile="0.9"}' 89.6
expect_value "$T/m1" 'metricsd_ttft_seconds{run="a",quantile="0.999"}' NaN
expect_value "$T/m1" "metricsd_ttft_seconds_count$r" 0
expect_value "$T/m1" "metricsd_odd_key_1_sum$r" 24
expect_value "$T/m1" 'metricsd_store_state{run="a",state="final"}' 1
expect_value "$T/m1" 'metricsd_store_state{run="a",state="live"}' 0
expect_value "$T/m1" "metricsd_store_writer_alive$r" 0
grep -q '^# TYPE metricsd_total_samples_issued_total counter$' "$T/m1" || fail "counter TYPE"
grep -q '^# TYPE metricsd_sample_latency_seconds summary$' "$T/m1" || fail "summary TYPE"
echo "ok: every kind of key, exact values, base units"

# A second store under the parent, and the single store dir appearing.
"$GEN" "$T/parent/b" || fail "storegen b"
"$GEN" "$T/single" || fail "storegen single"
scrape "$T/m2"
promtool_check "$T/m2"
for run in a b single; do
	expect_value "$T/m2" "metricsd_ratio_total{run=\"$run\"}" 0.25
done
[ "$(grep -c '^# TYPE metricsd_score summary$' "$T/m2")" -eq 1 ] ||
	fail "family metricsd_score not grouped once"
echo "ok: stores appearing are picked up, families grouped once"

rm -rf "$T/parent/a"
scrape "$T/m3"
grep -q 'run="a"' "$T/m3" && fail "removed store still served"
expect_value "$T/m3" 'metricsd_ratio_total{run="b"}' 0.25
echo "ok: a store that disappears is dropped"

# A live writer: liveness, state, and values appended between scrapes.
mkfifo "$T/gen.in" "$T/gen.out"
"$GEN" "$T/parent/live" --live --extra 1000 <"$T/gen.in" >"$T/gen.out" &
GEN_PID=$!
bg_pid "$GEN_PID"
exec 3>"$T/gen.in" 4<"$T/gen.out"
read -r line <&4 && [ "$line" = ready ] || fail "storegen --live: '$line'"
scrape "$T/m4"
r='{run="live"}'
expect_value "$T/m4" "metricsd_store_writer_alive$r" 1
expect_value "$T/m4" 'metricsd_store_state{run="live",state="live"}' 1
expect_value "$T/m4" "metricsd_sample_latency_seconds_count$r" 1000
echo more >&3
read -r line <&4 && [ "$line" = ok ] || fail "storegen append: '$line'"
scrape "$T/m5"
# 1..2000 ms: exact percentiles by linear interpolation.
expect_value "$T/m5" "metricsd_sample_latency_seconds_count$r" 2000
expect_value "$T/m5" 'metricsd_sample_latency_seconds{run="live",quantile="0.5"}' 1.0005
expect_value "$T/m5" 'metricsd_sample_latency_seconds{run="live",quantile="0.999"}' 1.998001
expect_value "$T/m5" "metricsd_sample_latency_seconds_sum$r" 2001
echo "ok: values appended between scrapes are folded in, exactly"
exec 3>&-
wait "$GEN_PID" || fail "storegen --live exited $?"
bg_done "$GEN_PID"
exec 4<&-
scrape "$T/m6"
expect_value "$T/m6" "metricsd_store_writer_alive$r" 0
expect_value "$T/m6" 'metricsd_store_state{run="live",state="interrupted"}' 1
expect_value "$T/m6" "metricsd_sample_latency_seconds_count$r" 2000
echo "ok: writer gone: alive 0, state interrupted"

# A writer appending all the time while serve scrapes: every scrape is valid
# and counts never go backwards.
mkfifo "$T/st.in" "$T/st.out"
"$GEN" "$T/parent/stream" --stream <"$T/st.in" >"$T/st.out" &
ST_PID=$!
bg_pid "$ST_PID"
exec 3>"$T/st.in" 4<"$T/st.out"
read -r line <&4 && [ "$line" = ready ] || fail "storegen --stream: '$line'"
prev=0
for i in 1 2 3 4 5; do
	scrape "$T/s$i"
	n=$(value "$T/s$i" 'metricsd_sample_latency_seconds_count{run="stream"}')
	[ "$n" -ge "$prev" ] || fail "count went back from $prev to $n"
	[ "$n" -ge 1000 ] || fail "count $n below the initial 1000"
	prev=$n
done
promtool_check "$T/s5"
exec 3>&-
wait "$ST_PID" || fail "storegen --stream exited $?"
bg_done "$ST_PID"
exec 4<&-
echo "ok: 5 scrapes during appends: valid, counts monotonic (last $prev)"
stop_serve TERM

# Two stores with the same name under two parents: the first one wins.
mkdir "$T/p2"
"$GEN" "$T/p2/b" || fail "storegen p2/b"
start_serve --metrics-dir "$T/parent" --metrics-dir "$T/p2"
scrape "$T/m7"
promtool_check "$T/m7"
[ "$(grep -c '^metricsd_ratio_total{run="b"}' "$T/m7")" -eq 1 ] ||
	fail "duplicate run b: $(grep ratio "$T/m7")"
expect_grep "run name 'b' is already used" "$T/serve.err"
echo "ok: a duplicate run name is left out with a warning"
stop_serve INT

# No --metrics-dir: $METRICSD_METRICS_DIR, like every mode.
"$GEN" "$T/envdir" || fail "storegen envdir"
export METRICSD_METRICS_DIR="$T/envdir"
start_serve
unset METRICSD_METRICS_DIR
scrape "$T/m8"
expect_value "$T/m8" 'metricsd_ratio_total{run="envdir"}' 0.25
echo "ok: the default store comes from \$METRICSD_METRICS_DIR"
stop_serve TERM
exit 0
