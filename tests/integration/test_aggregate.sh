# metricsd aggregate end to end, through real sockets: publish (JSON lines
# and --synthetic) -> aggregate -> the store, read back with the store's
# reader API (helper storedump) and with `metricsd read --json --values`,
# and compared with the metrics computed independently by
# expect_metrics.py from the same events. Also readiness,
# SIGTERM, a second writer, hostile frames, usage errors.
. "$(dirname "$0")/lib.sh"

H=$METRICSD_HELPERS
here=$(cd "$(dirname "$0")" && pwd)
for h in storedump rawpub subdump readywait; do
	[ -x "$H/$h" ] || skip "helper $h not built"
done
command -v python3 >/dev/null || skip "python3 not installed"
command -v timeout >/dev/null || skip "timeout(1) not installed"

# agg_start ARGS...: run the aggregator in the background (killed after
# 60 s at the latest, so a hang fails the test instead of blocking it;
# timeout(1) passes SIGTERM on and, with --preserve-status, its status back).
agg_start() {
	timeout --foreground --preserve-status -s KILL 60 metricsd aggregate "$@" >"$T/agg.out" 2>"$T/agg.err" &
	AGG=$!
}
# agg_wait [STATUS]: wait for it; it must exit with STATUS (default 0).
agg_wait() {
	wait "$AGG"
	rc=$?
	[ "$rc" -eq "${1:-0}" ] ||
		fail "aggregate exited $rc, expected ${1:-0}: $(cat "$T/agg.err")"
}
# check_store DIR STATE EXPECT_ARGS... < EVENTS: the store in DIR is in
# STATE and holds what expect_metrics.py computes from EVENTS.
check_store() {
	dir=$1 state=$2
	shift 2
	python3 "$here/expect_metrics.py" "$@" >"$T/expected.json" ||
		fail "expect_metrics.py failed"
	"$H/storedump" "$dir" >"$T/got.json" || fail "storedump $dir failed"
	expect_grep "\"state\":\"$state\"" "$T/got.json"
	expect_grep '"writer_alive":false' "$T/got.json"
	python3 "$here/compare_metrics.py" "$T/expected.json" "$T/got.json" ||
		fail "metrics differ from the independent computation"
	# The same through `metricsd read --json --values`.
	metricsd read --metrics-dir "$dir" --json --values >"$T/read.json" ||
		fail "metricsd read failed"
	python3 "$here/compare_metrics.py" "$T/expected.json" "$T/read.json" ||
		fail "metricsd read shows other values"
	echo "ok: store $dir matches ($*), read and storedump"
}
# counter DIR KEY: a counter's value from the dump of DIR.
counter() {
	"$H/storedump" "$1" | python3 -c \
	    'import json,sys; print(json.load(sys.stdin)["counters"]["'"$2"'"])'
}

# 1. A synthetic session as JSON lines through stdin, streaming, with the
# whitespace tokenizer: every counter and series value matches.
expect_exit 0 metricsd publish --synthetic 400 --seed 5 --warmup 20 \
    --concurrency 12 --error-rate 0.1 --print-json
cp "$T/out" "$T/s.jsonl"
agg_start --connect "ipc://$T/ev1" --metrics-dir "$T/m1" --streaming \
    --tokenizer whitespace
expect_exit 0 metricsd publish --bind "ipc://$T/ev1" --wait-subscribers 1 <"$T/s.jsonl"
agg_wait 0
expect_grep 'session ended' "$T/agg.err"
check_store "$T/m1" final --streaming --tokenizer whitespace <"$T/s.jsonl"

# 2. The same session from --synthetic in batch frames of 64, through
# --socket-dir/--socket-name.
mkdir -m 700 "$T/sock"
agg_start --socket-dir "$T/sock" --socket-name ev2 --metrics-dir "$T/m2" \
    --streaming --tokenizer whitespace
expect_exit 0 metricsd publish --bind "ipc://$T/sock/ev2" --wait-subscribers 1 \
    --synthetic 400 --seed 5 --warmup 20 --concurrency 12 --error-rate 0.1 \
    --batch 64
agg_wait 0
check_store "$T/m2" final --streaming --tokenizer whitespace <"$T/s.jsonl"

# 3. Hand-written events for the rules of the metrics spec: untracked
# samples, duplicates, empty uuids, in-flight samples after stop, a
# reopened window and a double start, block durations, chunk deltas, the
# forms of TextModelOutput for TPOT, text ISL, errors, events after ended.
cat >"$T/rules.jsonl" <<'JSON'
{"event_type": "session.started", "timestamp_ns": 100}
{"event_type": "sample.issued", "timestamp_ns": 110, "sample_uuid": "u0", "data": ["PromptData", null, [1, 2]]}
{"event_type": "session.start_performance_tracking", "timestamp_ns": 200}
{"event_type": "sample.issued", "timestamp_ns": 210, "sample_uuid": "a", "data": ["PromptData", null, [1, 2, 3]]}
{"event_type": "sample.issued", "timestamp_ns": 220, "sample_uuid": "b", "data": ["PromptData", "one two  three\tfour", null]}
{"event_type": "sample.issued", "timestamp_ns": 230, "sample_uuid": "a", "data": ["PromptData", null, [9]]}
{"event_type": "sample.issued", "timestamp_ns": 235, "sample_uuid": ""}
{"event_type": "sample.recv_first", "timestamp_ns": 300, "sample_uuid": "a"}
{"event_type": "sample.recv_non_first", "timestamp_ns": 350, "sample_uuid": "a"}
{"event_type": "sample.recv_non_first", "timestamp_ns": 420, "sample_uuid": "a"}
{"event_type": "sample.recv_first", "timestamp_ns": 320, "sample_uuid": "u0"}
{"event_type": "session.stop_performance_tracking", "timestamp_ns": 500}
{"event_type": "sample.issued", "timestamp_ns": 510, "sample_uuid": "c"}
{"event_type": "sample.complete", "timestamp_ns": 600, "sample_uuid": "a", "data": ["TextModelOutput", ["x y ", "z "], null]}
{"event_type": "sample.recv_first", "timestamp_ns": 610, "sample_uuid": "b"}
{"event_type": "sample.complete", "timestamp_ns": 700, "sample_uuid": "b", "data": ["TextModelOutput", "plain string here", ["r1 r2 ", "r3 "]]}
{"event_type": "error.client", "timestamp_ns": 710, "sample_uuid": "q", "data": ["ErrorData", "TimeoutError", "slow"]}
{"event_type": "error.generic", "timestamp_ns": 715}
{"event_type": "sample.complete", "timestamp_ns": 720, "sample_uuid": "u0"}
{"event_type": "sample.complete", "timestamp_ns": 730, "sample_uuid": "c"}
{"event_type": "sample.complete", "timestamp_ns": 735, "sample_uuid": "zz"}
{"event_type": "session.start_performance_tracking", "timestamp_ns": 800}
{"event_type": "session.start_performance_tracking", "timestamp_ns": 805}
{"event_type": "sample.issued", "timestamp_ns": 810, "sample_uuid": "d", "data": ["PromptData", null, []]}
{"event_type": "sample.issued", "timestamp_ns": 815, "sample_uuid": "h"}
{"event_type": "sample.recv_first", "timestamp_ns": 820, "sample_uuid": "d"}
{"event_type": "sample.recv_first", "timestamp_ns": 830, "sample_uuid": "h"}
{"event_type": "sample.complete", "timestamp_ns": 900, "sample_uuid": "d", "data": ["TextModelOutput", "only one", null]}
{"event_type": "sample.complete", "timestamp_ns": 905, "sample_uuid": "h", "data": ["TextModelOutput", ["o1 ", "o2 o3 "], "think hard "]}
{"event_type": "session.stop_performance_tracking", "timestamp_ns": 950}
{"event_type": "sample.issued", "timestamp_ns": 960, "sample_uuid": "e"}
{"event_type": "session.start_performance_tracking", "timestamp_ns": 1000}
{"event_type": "sample.issued", "timestamp_ns": 1010, "sample_uuid": "f"}
{"event_type": "session.stop_loadgen", "timestamp_ns": 1100}
{"event_type": "session.ended", "timestamp_ns": 1200}
{"event_type": "sample.complete", "timestamp_ns": 1300, "sample_uuid": "f"}
{"event_type": "sample.issued", "timestamp_ns": 1400, "sample_uuid": "g"}
JSON
for mode in "--streaming --tokenizer whitespace" ""; do
	# shellcheck disable=SC2086
	agg_start --connect "ipc://$T/ev3" --metrics-dir "$T/m3" $mode
	expect_exit 0 metricsd publish --bind "ipc://$T/ev3" --wait-subscribers 1 \
	    --batch 5 <"$T/rules.jsonl"
	agg_wait 0
	# shellcheck disable=SC2086
	check_store "$T/m3" final $mode <"$T/rules.jsonl"
	rm -rf "$T/m3"
done
[ "$(counter "$T/m1" decode_errors)" -eq 0 ] || fail "decode errors in session 1"

# 4. Hostile frames are counted, and valid events after them still count.
# Valid frames are captured from publish, hostile ones written by hand.
"$H/subdump" --hex "ipc://$T/cap" >"$T/cap.out" &
sub=$!
head -n 4 "$T/rules.jsonl" >"$T/four.jsonl"
echo '{"event_type": "session.ended", "timestamp_ns": 2000}' >>"$T/four.jsonl"
expect_exit 0 metricsd publish --bind "ipc://$T/cap" --wait-subscribers 1 <"$T/four.jsonl"
wait $sub || fail "subdump failed"
{
	sed -n '1,2p' "$T/cap.out" | sed 's/^/T /'
	echo 'T sample.issued c1c1c1'                        # not MessagePack
	echo 'T batch 81a3616263'                            # batch not an array
	echo 'T sample.issued 81a474696d6501'                # no event_type
	echo 'T sample.bogus 81aa6576656e745f74797065ac73616d706c652e626f677573'
	echo 'T sample.issued 93'                            # truncated
	echo 'R deadbeef'                                    # short: ignored
	sed -n '3,5p' "$T/cap.out" | sed 's/^/T /'
} >"$T/hostile.frames"
agg_start --connect "ipc://$T/ev4" --metrics-dir "$T/m4"
"$H/rawpub" "ipc://$T/ev4" <"$T/hostile.frames" || fail "rawpub failed"
agg_wait 0
[ "$(counter "$T/m4" decode_errors)" -eq 5 ] ||
	fail "decode_errors $(counter "$T/m4" decode_errors), expected 5"
[ "$(counter "$T/m4" tracked_samples_issued)" -eq 1 ] ||
	fail "the valid issued event after the bad frames was not counted"
[ "$(counter "$T/m4" total_samples_issued)" -eq 2 ] || fail "total issued"
expect_grep 'bad input from ipc://' "$T/agg.err"
"$H/storedump" "$T/m4" >"$T/got.json" || fail "storedump $T/m4"
expect_grep '"state":"final"' "$T/got.json"

# 5. Readiness comes after the store and the socket exist; SIGTERM marks the
# store interrupted and exits 0; a second writer is refused meanwhile.
mkfifo "$T/rfifo"
"$H/readywait" "ipc://$T/sock/ready" 7 >"$T/rfifo" &
rw=$!
exec 3<"$T/rfifo"
read -r line <&3
[ "$line" = bound ] || fail "readywait: $line"
agg_start --socket-dir "$T/sock" --socket-name ev5 --metrics-dir "$T/m5" \
    --readiness-path ready --readiness-id 7 --streaming
read -r line <&3
[ "$line" = "ready 7" ] || fail "readiness not received: $line"
wait $rw || fail "readywait failed"
"$H/storedump" "$T/m5" >"$T/live.json" || fail "no store at readiness"
expect_grep '"state":"live"' "$T/live.json"
expect_grep '"writer_alive":true' "$T/live.json"
for k in total_samples_issued decode_errors ttft_ns tpot_ns isl; do
	expect_grep "\"$k\":" "$T/live.json"
done
expect_exit 1 metricsd aggregate --connect "ipc://$T/ev5b" --metrics-dir "$T/m5"
expect_grep "$T/m5" "$T/err"
# Events published right after readiness all arrive (no slow joiner).
head -n 6 "$T/rules.jsonl" | metricsd publish --bind "ipc://$T/sock/ev5" \
    --wait-subscribers 1 || fail "publish to the ready aggregator failed"
# The store is the only view of its progress: wait (bounded) until the
# four issued events are in, then interrupt it.
n=0
until [ "$(counter "$T/m5" total_samples_issued)" -eq 4 ]; do
	n=$((n + 1))
	[ $n -lt 300 ] || fail "the 4 issued events never reached the store"
	sleep 0.1
done
kill -TERM "$AGG"
agg_wait 0
"$H/storedump" "$T/m5" >"$T/got.json" || fail "storedump after SIGTERM"
expect_grep '"state":"interrupted"' "$T/got.json"
expect_grep '"total_samples_issued":4' "$T/got.json"
expect_grep '"tracked_samples_issued":3' "$T/got.json"
expect_grep 'stopping; the store is marked interrupted' "$T/agg.err"

# 5b. --ready ENDPOINT with --readiness-id; SIGINT also interrupts. A
# ready-check nobody receives is an error (exit 1, store interrupted).
mkfifo "$T/rfifo2"
"$H/readywait" "ipc://$T/ready2" 9 >"$T/rfifo2" &
rw=$!
exec 5<"$T/rfifo2"
read -r line <&5
[ "$line" = bound ] || fail "readywait: $line"
agg_start --connect "ipc://$T/ev5c" --metrics-dir "$T/m5c" \
    --ready "ipc://$T/ready2" --readiness-id 9
read -r line <&5
[ "$line" = "ready 9" ] || fail "readiness (--ready) not received: $line"
wait $rw || fail "readywait failed"
kill -INT "$AGG"
agg_wait 0
"$H/storedump" "$T/m5c" >"$T/got.json" || fail "storedump after SIGINT"
expect_grep '"state":"interrupted"' "$T/got.json"
agg_start --connect "ipc://$T/ev5d" --metrics-dir "$T/m5d" \
    --ready "ipc://$T/nobody" --readiness-id 1
agg_wait 1
expect_grep 'signalling readiness: ' "$T/agg.err"
"$H/storedump" "$T/m5d" >"$T/got.json" || fail "storedump after failed ready"
expect_grep '"state":"interrupted"' "$T/got.json"

# 6. A store error (here EFBIG from a file size limit, as ENOSPC on a full
# /dev/shm would be) is logged with the key and counted; the daemon goes
# on and the other values are right. (No tokenizer: no osl.)
(ulimit -f 64 && exec timeout --foreground --preserve-status -s KILL 60 \
    metricsd aggregate --connect "ipc://$T/ev6" --metrics-dir "$T/m6" \
    --streaming >"$T/agg.out" 2>"$T/agg.err") &
AGG=$!
expect_exit 0 metricsd publish --bind "ipc://$T/ev6" --wait-subscribers 1 \
    --synthetic 3000 --batch 64
# Values were dropped: exit status 3, and the store says it is incomplete.
agg_wait 3
expect_grep "key 'chunk_delta_ns': growing to [0-9]+ bytes: File too large; value dropped" "$T/agg.err"
expect_grep "store .*/m6: [0-9]+ values lost \([0-9]+ refused by the store, 0 token counts failed, 0 samples not tracked\); the store is marked incomplete" "$T/agg.err"
errs=$(counter "$T/m6" series_append_errors)
[ "$errs" -gt 0 ] || fail "append errors not counted"
[ "$(counter "$T/m6" total_samples_completed)" -eq 3000 ] || fail "counters wrong after store errors"
"$H/storedump" "$T/m6" >"$T/got.json"
expect_grep '"state":"final"' "$T/got.json"
expect_grep '"osl":\[\]' "$T/got.json"
metricsd read --metrics-dir "$T/m6" --json total_samples_completed >"$T/read.json" ||
	fail "read --json failed"
expect_grep '"final":true,.*"incomplete":true,"lost":'"$errs"'}' "$T/read.json"
metricsd read --metrics-dir "$T/m6" total_samples_completed >"$T/read.txt" ||
	fail "read failed"
expect_grep "^store .*/m6: final, INCOMPLETE: $errs values lost$" "$T/read.txt"
metricsd read --metrics-dir "$T/m6" --prometheus >"$T/read.prom" ||
	fail "read --prometheus failed"
expect_grep '^metricsd_store_incomplete\{run="m6"\} 1$' "$T/read.prom"
expect_grep '^metricsd_store_lost\{run="m6"\} '"$errs"'$' "$T/read.prom"
metricsd report --metrics-dir "$T/m6" --json >"$T/report.json" ||
	fail "report --json failed"
expect_grep '"state":"complete","complete":false,"tokens_pending":false,"data_lost":true,"values_lost":'"$errs"',' "$T/report.json"
metricsd report --metrics-dir "$T/m6" >"$T/report.txt" || fail "report failed"
expect_grep '^report of .*/m6: complete, INCOMPLETE \(the writer lost data\)$' "$T/report.txt"
expect_grep "^data lost: $errs values the store refused" "$T/report.txt"
rm -rf "$T/m6"

# 6b. The full-tmpfs case: the store on a 256 KiB tmpfs (root only, in a
# private mount namespace, so nothing outside sees the mount). Most values
# are dropped (ENOSPC): aggregate exits 3, and every reader, run in the
# same namespace, sees the run as final but incomplete.
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null &&
    unshare -m true 2>/dev/null; then
	mkdir "$T/tiny"
	T=$T unshare -m sh -c '
		mount --make-rprivate / && mount -t tmpfs -o size=256k,mode=0700 tmpfs "$T/tiny" || exit 90
		timeout --foreground --preserve-status -s KILL 60 metricsd aggregate \
		    --connect "ipc://$T/evt" --metrics-dir "$T/tiny/store" \
		    >"$T/tagg.out" 2>"$T/tagg.err" &
		agg=$!
		metricsd publish --bind "ipc://$T/evt" --wait-subscribers 1 \
		    --synthetic 20000 --batch 64 >/dev/null || exit 91
		wait $agg
		echo $? >"$T/tagg.rc"
		metricsd read --metrics-dir "$T/tiny/store" --json series_append_errors >"$T/tread.json" || exit 92
		metricsd read --metrics-dir "$T/tiny/store" series_append_errors >"$T/tread.txt" || exit 93
		metricsd read --metrics-dir "$T/tiny/store" --prometheus >"$T/tread.prom" || exit 94
		metricsd report --metrics-dir "$T/tiny/store" --json >"$T/treport.json" || exit 95
	' || fail "the tmpfs run failed ($?): $(cat "$T/tagg.err" 2>/dev/null)"
	[ "$(cat "$T/tagg.rc")" -eq 3 ] ||
		fail "aggregate on a full tmpfs exited $(cat "$T/tagg.rc"), expected 3: $(cat "$T/tagg.err")"
	expect_grep "No space left on device; value dropped" "$T/tagg.err"
	expect_grep "values lost \([1-9][0-9]* refused by the store, 0 token counts failed, 0 samples not tracked\); the store is marked incomplete" "$T/tagg.err"
	expect_grep '"final":true,.*"state":"final","incomplete":true,"lost":[1-9][0-9]*}' "$T/tread.json"
	expect_grep ': final, INCOMPLETE: [1-9][0-9]* values lost$' "$T/tread.txt"
	expect_grep '^metricsd_store_incomplete\{run="store"\} 1$' "$T/tread.prom"
	expect_grep '^metricsd_store_state\{run="store",state="final"\} 1$' "$T/tread.prom"
	expect_grep '"complete":false,.*"data_lost":true,"values_lost":[1-9][0-9]*,' "$T/treport.json"
	echo "ok: a full tmpfs: exit 3, the store final but incomplete"
else
	echo "note: the full-tmpfs case needs root and unshare -m; not run"
fi

# 7. TCP works too: the publisher binds an ephemeral port and says which.
expect_exit 0 metricsd publish --synthetic 200 --seed 9 --print-json
cp "$T/out" "$T/tcp.jsonl"
mkfifo "$T/pfifo"
metricsd publish --bind tcp://127.0.0.1:0 --wait-subscribers 1 \
    --synthetic 200 --seed 9 2>"$T/pfifo" &
pub=$!
exec 4<"$T/pfifo"
read -r line <&4
case $line in
*"bound to tcp://127.0.0.1:"*) ep=${line##* } ;;
*) fail "publish did not say where it bound: $line" ;;
esac
cat <&4 >"$T/pub.err" &
agg_start --connect "$ep" --metrics-dir "$T/m7" --streaming --tokenizer whitespace
wait $pub || fail "publish over tcp failed: $(cat "$T/pub.err")"
agg_wait 0
check_store "$T/m7" final --streaming --tokenizer whitespace <"$T/tcp.jsonl"

# 8. Usage errors exit 2 before anything is created.
expect_exit 2 metricsd aggregate --metrics-dir "$T/m6"
expect_grep 'say where the publisher is' "$T/err"
expect_exit 2 metricsd aggregate --connect "ipc://$T/x" --socket-name y
expect_exit 2 metricsd aggregate --connect "ipc://$T/x" --readiness-path r
expect_exit 2 metricsd aggregate --connect "ipc://$T/x" --bogus
[ ! -e "$T/m6" ] || fail "a usage error created the store"
expect_exit 1 metricsd aggregate --connect "bogus://x" --metrics-dir "$T/m6"
expect_grep 'cannot connect to bogus://x' "$T/err"
[ ! -e "$T/m6" ] || fail "a bad endpoint created the store"
expect_exit 0 metricsd aggregate --help
expect_grep 'usage: metricsd aggregate \(--socket-dir DIR --socket-name NAME \| --connect ENDPOINT\)' "$T/out"
exit 0
