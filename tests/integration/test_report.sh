# metricsd report end to end: sessions through real sockets (publish ->
# aggregate -> store), then `metricsd report --json` compared field by
# field with tests/report_model.py, an independent model computing every
# field from `metricsd read --json --values`. Random seeded sessions, the
# edge cases of issue 10 (no completions, one completion, all failed, no
# tokenizer, several tracking windows, SLOs none / all meet), the human
# summary, --watch ending at the final store, usage errors.
. "$(dirname "$0")/lib.sh"

here=$(cd "$(dirname "$0")" && pwd)
model="$here/../report_model.py"
command -v python3 >/dev/null || skip "python3 not installed"
command -v timeout >/dev/null || skip "timeout(1) not installed"

# session NAME AGGREGATE_ARGS... < EVENTS: run one session into $T/NAME.
session() {
	name=$1
	shift
	timeout -s KILL 60 metricsd aggregate --connect "ipc://$T/$name.ev" \
	    --metrics-dir "$T/$name" "$@" 2>"$T/$name.agg" &
	agg=$!
	metricsd publish --bind "ipc://$T/$name.ev" --wait-subscribers 1 \
	    >/dev/null 2>"$T/$name.pub" || fail "publish $name: $(cat "$T/$name.pub")"
	wait "$agg" || fail "aggregate $name exited $?: $(cat "$T/$name.agg")"
}

# check NAME [NAME=NS]...: report --json with those SLOs equals the model.
check() {
	name=$1
	shift
	set -- "$@"
	margs= rargs=
	for s in "$@"; do
		margs="$margs --slo $s"
		rargs="$rargs --slo ${s}ns"
	done
	metricsd read --metrics-dir "$T/$name" --json --values >"$T/read.json" ||
		fail "read $name"
	# shellcheck disable=SC2086
	python3 "$model" "$T/read.json" $margs >"$T/model.json" ||
		fail "report_model.py failed on $name"
	# shellcheck disable=SC2086
	metricsd report --metrics-dir "$T/$name" --json $rargs >"$T/rep.json" ||
		fail "report $name failed"
	python3 "$model" --compare "$T/model.json" "$T/rep.json" ||
		fail "report of $name ($*) differs from the model"
	echo "ok: report of $name ($*) matches the model"
}

# field NAME PY_EXPR: evaluate an expression on the last report (r).
field() {
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
	    "$T/rep.json" "$1"
}

# 1. Random seeded sessions, streaming, whitespace tokenizer; SLOs none,
# some, all met, none met.
for seed in 11 12; do
	metricsd publish --synthetic 700 --seed $seed --warmup 20 \
	    --concurrency 16 --error-rate 0.05 --print-json >"$T/s$seed.jsonl" ||
		fail "publish --print-json"
	session s$seed --streaming --tokenizer whitespace <"$T/s$seed.jsonl"
	check s$seed
	check s$seed ttft=60000000 tpot=9000000 latency=250000000
	check s$seed ttft=3600000000000 tpot=3600000000000 latency=3600000000000
	# (samples without a TTFT fail even a huge TTFT SLO)
	[ "$(field 'r["goodput"]["good_samples"] == r["ttft"]["count"]')" = True ] ||
		fail "every sample with a TTFT should meet huge SLOs"
	check s$seed tpot=3600000000000 latency=3600000000000
	[ "$(field 'r["goodput"]["good_samples"] == r["n_samples_completed"]')" = True ] ||
		fail "every sample should meet huge SLOs"
	check s$seed ttft=1
	[ "$(field 'r["goodput"]["good_samples"]')" = 0 ] ||
		fail "no sample meets a 1 ns TTFT"
	check s$seed tpot=1
done
[ "$(field 'r["state"], r["complete"]')" = "('complete', True)" ] ||
	fail "a finished session is complete"
[ "$(field 'r["tps"] is not None and r["early_stopping"]["ttft"]["p90"]["sufficient"]')" = True ] ||
	fail "TPS and a p90 estimate expected"

# 2. No tokenizer: no OSL, so TPS is null (streaming: TTFT still there).
session notok --streaming <"$T/s11.jsonl"
check notok ttft=60000000 tpot=1
[ "$(field 'r["tps"], r["output_sequence_lengths"]["count"]')" = "(None, 0)" ] ||
	fail "no tokenizer: TPS must be null"

# 3. Not streaming: no TTFT series at all; a TTFT SLO fails every sample.
session nostream --tokenizer whitespace <"$T/s12.jsonl"
check nostream ttft=3600000000000
[ "$(field 'r["ttft"], r["goodput"]["good_samples"]')" = "(None, 0)" ] ||
	fail "not streaming: no ttft row, no TTFT-good sample"

# 4. No completions: issued inside a window, never completed.
cat >"$T/none.jsonl" <<'JSON'
{"event_type": "session.started", "timestamp_ns": 100}
{"event_type": "session.start_performance_tracking", "timestamp_ns": 200}
{"event_type": "sample.issued", "timestamp_ns": 210, "sample_uuid": "a"}
{"event_type": "sample.issued", "timestamp_ns": 220, "sample_uuid": "b"}
{"event_type": "session.stop_performance_tracking", "timestamp_ns": 500}
{"event_type": "session.ended", "timestamp_ns": 600}
JSON
session none --streaming --tokenizer whitespace <"$T/none.jsonl"
check none latency=1000
[ "$(field 'r["qps"], r["legacy_loadgen_window_duration_ns"], r["latency"]["count"], r["goodput"]["goodput_fraction"]')" = "(None, None, 0, None)" ] ||
	fail "no completions: nulls expected"

# 5. One completion (and the LoadGen window is then defined, its QPS not).
cat >"$T/one.jsonl" <<'JSON'
{"event_type": "session.started", "timestamp_ns": 100}
{"event_type": "session.start_performance_tracking", "timestamp_ns": 200}
{"event_type": "sample.issued", "timestamp_ns": 1000, "sample_uuid": "a"}
{"event_type": "sample.recv_first", "timestamp_ns": 3000, "sample_uuid": "a"}
{"event_type": "sample.recv_non_first", "timestamp_ns": 4000, "sample_uuid": "a"}
{"event_type": "sample.complete", "timestamp_ns": 9000, "sample_uuid": "a", "finish_reason": "stop", "data": ["TextModelOutput", ["one ", "two three "], null]}
{"event_type": "session.stop_performance_tracking", "timestamp_ns": 9500}
{"event_type": "session.ended", "timestamp_ns": 9600}
JSON
session one --streaming --tokenizer whitespace <"$T/one.jsonl"
check one ttft=2000 tpot=3000 latency=8000
[ "$(field 'r["legacy_loadgen_window_duration_ns"], r["legacy_loadgen_qps"], r["tpot_e2e"]["max"], r["goodput"]["good_samples"], r["finish_reason_counts"]')" = "(8000, None, 3000, 1, {'stop': 1})" ] ||
	fail "one completion: $(cat "$T/rep.json")"

# 6. All failed: every sample errors and none completes.
cat >"$T/failed.jsonl" <<'JSON'
{"event_type": "session.started", "timestamp_ns": 100}
{"event_type": "session.start_performance_tracking", "timestamp_ns": 200}
{"event_type": "sample.issued", "timestamp_ns": 210, "sample_uuid": "a"}
{"event_type": "sample.issued", "timestamp_ns": 220, "sample_uuid": "b"}
{"event_type": "error.client", "timestamp_ns": 300, "sample_uuid": "a", "data": ["ErrorData", "Timeout", "x"]}
{"event_type": "error.client", "timestamp_ns": 310, "sample_uuid": "b", "data": ["ErrorData", "Timeout", "y"]}
{"event_type": "session.stop_performance_tracking", "timestamp_ns": 500}
{"event_type": "session.ended", "timestamp_ns": 600}
JSON
session failed --streaming --tokenizer whitespace <"$T/failed.jsonl"
check failed ttft=1000
[ "$(field 'r["n_samples_failed"], r["n_samples_completed"]')" = "(2, 0)" ] ||
	fail "all failed"

# 7. Several tracking windows, an untracked sample between them, the
# last-issued sample completing before an earlier one, hostile finish
# reasons (sanitized, bounded).
{
	echo '{"event_type": "session.started", "timestamp_ns": 0}'
	echo '{"event_type": "session.start_performance_tracking", "timestamp_ns": 100}'
	i=0
	while [ $i -lt 30 ]; do
		echo "{\"event_type\": \"sample.issued\", \"timestamp_ns\": $((1000 + i * 10)), \"sample_uuid\": \"w$i\"}"
		i=$((i + 1))
	done
	echo '{"event_type": "session.stop_performance_tracking", "timestamp_ns": 2000}'
	echo '{"event_type": "sample.issued", "timestamp_ns": 2100, "sample_uuid": "untracked"}'
	echo '{"event_type": "session.start_performance_tracking", "timestamp_ns": 3000}'
	echo '{"event_type": "sample.issued", "timestamp_ns": 3100, "sample_uuid": "last"}'
	echo '{"event_type": "sample.complete", "timestamp_ns": 3500, "sample_uuid": "last", "finish_reason": "Length/../\u00e9"}'
	i=0
	while [ $i -lt 30 ]; do
		echo "{\"event_type\": \"sample.recv_first\", \"timestamp_ns\": $((4000 + i * 7)), \"sample_uuid\": \"w$i\"}"
		echo "{\"event_type\": \"sample.complete\", \"timestamp_ns\": $((5000 + i * 13)), \"sample_uuid\": \"w$i\", \"finish_reason\": \"r$i\", \"data\": [\"TextModelOutput\", [\"a \", \"b c\"], null]}"
		i=$((i + 1))
	done
	echo '{"event_type": "sample.complete", "timestamp_ns": 6000, "sample_uuid": "untracked"}'
	echo '{"event_type": "session.stop_performance_tracking", "timestamp_ns": 7000}'
	echo '{"event_type": "session.ended", "timestamp_ns": 8000}'
} >"$T/windows.jsonl"
session windows --streaming --tokenizer whitespace <"$T/windows.jsonl"
check windows ttft=3500 latency=4200
[ "$(field 'r["legacy_loadgen_window_duration_ns"], r["n_samples_completed"], len(r["finish_reason_counts"]), r["finish_reasons_dropped"], "length______" in r["finish_reason_counts"]')" = "(2500, 31, 16, 15, True)" ] ||
	fail "several windows: $(cat "$T/rep.json")"

# 8. The human summary: state first, the table in ms, goodput lines.
expect_exit 0 metricsd report --metrics-dir "$T/s11" --slo ttft=200ms --slo tpot=40ms --slo latency=2s
head -n 1 "$T/out" | grep -q ': complete$' || fail "first line: $(head -n 1 "$T/out")"
expect_grep '^goodput: TTFT <= 200\.000 ms, TPOT <= 40\.000 ms, latency <= 2000\.000 ms: [0-9]+ good' "$T/out"
expect_grep '^TTFT \(ms\) +[0-9]+ ' "$T/out"
expect_grep '^TPOT e2e \(ms\) ' "$T/out"
expect_grep 'ES p99' "$T/out"
expect_grep '^finish reasons:' "$T/out"

# 9. An unfinished store says so on its first line: an aggregator still
# waiting for its publisher (live), then killed (abandoned).
# (run directly, not under timeout(1), so that the kill below reaches it)
metricsd aggregate --connect "ipc://$T/live.ev" --metrics-dir "$T/live" \
    --streaming 2>/dev/null &
agg=$!
# (the store's keys are made after its status: once one is there, the
# store is live; awaited with a deadline, 30 s for a slow ASan start)
i=0
until [ -e "$T/live/tracked_samples_issued" ]; do
	kill -0 $agg 2>/dev/null || fail "aggregate exited before making its store"
	i=$((i + 1))
	[ $i -le 600 ] || fail "no store from aggregate after 30 s"
	sleep 0.05 # polling for the store's creation
done
expect_exit 0 metricsd report --metrics-dir "$T/live"
head -n 1 "$T/out" | grep -q 'live, INCOMPLETE (the run is still going)' ||
	fail "live store: $(head -n 1 "$T/out")"
expect_exit 0 metricsd report --metrics-dir "$T/live" --json
expect_grep '"state":"live","complete":false' "$T/out"
kill -KILL $agg
wait $agg 2>/dev/null
expect_exit 0 metricsd report --metrics-dir "$T/live"
head -n 1 "$T/out" | grep -q 'abandoned, INCOMPLETE' ||
	fail "abandoned store: $(head -n 1 "$T/out")"

# 10. --watch: started before the store exists, it waits, redraws with a
# progress line, and ends by itself once the store is final.
timeout -s KILL 60 metricsd report --metrics-dir "$T/w" --watch 20ms \
    >"$T/watch.out" 2>"$T/watch.err" &
watch=$!
session w --streaming --tokenizer whitespace <"$T/one.jsonl"
wait $watch || fail "report --watch exited $?: $(cat "$T/watch.err")"
expect_grep '^progress: 1 completed, .*0 in flight \(final\)$' "$T/watch.out"
expect_grep 'report of .*/w: complete' "$T/watch.out"

# 11. Usage and runtime errors.
expect_exit 1 metricsd report --metrics-dir "$T/nothing-here"
expect_grep 'no store at' "$T/err"
expect_exit 2 metricsd report --slo bogus=1s
expect_grep "unknown SLO 'bogus'" "$T/err"
expect_exit 2 metricsd report --slo ttft
expect_exit 2 metricsd report --slo ttft=fast
expect_exit 2 metricsd report --watch 0
expect_exit 2 metricsd report extra
expect_exit 0 metricsd report --help
expect_grep '^usage: metricsd report' "$T/out"
echo "all report tests passed"
