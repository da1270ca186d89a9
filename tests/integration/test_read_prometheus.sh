# metricsd read --prometheus: promtool accepts it, it equals what serve
# returns for the same store, keys can be picked, errors are reported.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

GEN=${METRICSD_HELPERS:?}/serve_storegen
"$GEN" "$T/run1" || fail "storegen"

expect_exit 0 metricsd read --prometheus --metrics-dir "$T/run1"
cp "$T/out" "$T/read.prom"
promtool_check "$T/read.prom"
expect_value "$T/read.prom" 'metricsd_sample_latency_seconds{run="run1",quantile="0.5"}' 0.5005
expect_value "$T/read.prom" 'metricsd_ttft_seconds_count{run="run1"}' 0

start_serve --metrics-dir "$T/run1"
scrape "$T/serve.prom"
stop_serve TERM
cmp "$T/read.prom" "$T/serve.prom" || fail "read --prometheus differs from serve"
echo "ok: read --prometheus is byte for byte what serve returns"

expect_exit 0 metricsd read --prometheus --metrics-dir "$T/run1" score
expect_grep '^metricsd_score_count\{run="run1"\} 100$' "$T/out"
grep -q metricsd_ratio "$T/out" && fail "key filter: $(cat "$T/out")"
expect_grep '^metricsd_store_writer_alive\{run="run1"\} 0$' "$T/out"
expect_exit 1 metricsd read --prometheus --metrics-dir "$T/run1" nope
expect_grep "unknown key 'nope'" "$T/err"
expect_exit 1 metricsd read --prometheus --metrics-dir "$T/none"
expect_grep "no store at" "$T/err"
expect_exit 2 metricsd read --prometheus --json --metrics-dir "$T/run1"
# --watch: one exposition per frame, blank line between, 0 on SIGINT.
# The output file exists before the reader starts: a grep of a file the
# background redirect had not created yet ended the wait at once, and
# the SIGINT below then reached a reader that had not set up its handler
# (a background job of a non-interactive sh starts with SIGINT ignored).
: >"$T/watch.out"
metricsd read --prometheus --watch 0.05 --metrics-dir "$T/run1" score \
	>"$T/watch.out" 2>"$T/watch.err" &
WPID=$!
bg_pid "$WPID"
n=0
while [ "$(grep -c '^# TYPE metricsd_score summary$' "$T/watch.out")" -lt 2 ]; do
	kill -0 "$WPID" 2>/dev/null || fail "read --watch died: $(cat "$T/watch.err")"
	n=$((n + 1))
	[ $n -gt 600 ] && fail "read --prometheus --watch: no second frame in 30 s"
	sleep 0.05 # polling its output for the second frame
done
kill -INT "$WPID"
# Bounded: a reader that ignored SIGINT would otherwise hold the whole
# test run (seen once under ASan, not reproduced). sh has no wait with a
# timeout, so poll until it has exited (a zombie, state Z) or is gone.
n=0
while [ "$(sed 's/.*) //' "/proc/$WPID/stat" 2>/dev/null | cut -c1)" != Z ] &&
	[ -e "/proc/$WPID" ]; do
	n=$((n + 1))
	[ $n -gt 600 ] && fail "read --prometheus --watch still running 30 s after SIGINT"
	sleep 0.05 # polling for its exit
done
wait "$WPID" && rc=0 || rc=$?
[ "$rc" -eq 0 ] || fail "read --prometheus --watch exited $rc on SIGINT"
bg_done "$WPID"
grep -q '^$' "$T/watch.out" || fail "frames not separated by a blank line"
echo "ok: read --prometheus --watch prints frames and exits 0 on SIGINT"

if [ -w /dev/full ]; then
	expect_exit 1 sh -c "metricsd read --prometheus --metrics-dir '$T/run1' >/dev/full"
fi
exit 0
