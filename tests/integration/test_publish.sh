# metricsd publish: wire bytes, JSON round trip through a real socket,
# batch frames, line-numbered input errors, subscriber wait, usage errors.
. "$(dirname "$0")/lib.sh"

SUBDUMP=$METRICSD_HELPERS/subdump
[ -x "$SUBDUMP" ] || skip "helper subdump not built"
command -v python3 >/dev/null || skip "python3 not installed"

# same_events A B: the two JSON-lines files hold the same events.
same_events() {
	python3 - "$1" "$2" <<'PY' || fail "events differ: $1 $2"
import json, sys
a = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
b = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
if a != b:
    print("counts", len(a), len(b))
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            print("first difference at event", i, x, y)
            break
    sys.exit(1)
PY
}

# The spec's example record, byte for byte.
"$SUBDUMP" --hex "ipc://$T/hex" >"$T/hex.out" &
sub=$!
printf '%s\n' \
    '{"event_type": "sample.issued", "timestamp_ns": 1000, "sample_uuid": "s1", "data": ["PromptData", null, [101, 202]]}' \
    '{"event_type": "session.ended", "timestamp_ns": 2000}' >"$T/hex.in"
expect_exit 0 metricsd publish --bind "ipc://$T/hex" --wait-subscribers 1 <"$T/hex.in"
wait $sub || fail "subdump failed"
expect_grep '^sample\.issued 84aa6576656e745f74797065ad73616d706c652e697373756564ac74696d657374616d705f6e73cd03e8ab73616d706c655f75756964a27331a46461746193aa50726f6d707444617461c09265ccca$' "$T/hex.out"

# A synthetic session as JSON lines, published single and batched: every
# event arrives, in order, equal to what was sent (the subscriber starts
# first; --wait-subscribers makes sure its subscription is in place).
expect_exit 0 metricsd publish --synthetic 300 --seed 11 --error-rate 0.1 \
    --warmup 5 --print-json
cp "$T/out" "$T/session.jsonl"
[ "$(wc -l <"$T/session.jsonl")" -gt 2000 ] || fail "short session"
for batch in 1 7 64; do
	"$SUBDUMP" "ipc://$T/rt$batch" >"$T/rt$batch.out" &
	sub=$!
	expect_exit 0 metricsd publish --bind "ipc://$T/rt$batch" --batch $batch \
	    --wait-subscribers 1 <"$T/session.jsonl"
	wait $sub || fail "subdump failed (batch $batch)"
	same_events "$T/session.jsonl" "$T/rt$batch.out"
done

# --synthetic straight to the socket sends the same session.
"$SUBDUMP" "ipc://$T/syn" >"$T/syn.out" &
sub=$!
expect_exit 0 metricsd publish --bind "ipc://$T/syn" --wait-subscribers 1 \
    --synthetic 300 --seed 11 --error-rate 0.1 --warmup 5 --batch 16
wait $sub || fail "subdump failed (synthetic)"
same_events "$T/session.jsonl" "$T/syn.out"
expect_grep 'published [0-9]+ events: 300 samples issued, 300 completed' "$T/err"

# Bad lines are reported by number and skipped; the rest is published and
# the exit status is 1.
cat >"$T/bad.in" <<'JSON'
{"event_type": "session.started", "timestamp_ns": 1}
{"event_type": "sample.issued", "timestamp_ns": 2, "sample_uuid": "a"

{"event_type": "sample.isued", "timestamp_ns": 3}
{"event_type": "sample.issued", "timestamp_ns": "4"}
{"event_type": "sample.issued", "timestamp_ns": 5, "data": ["PromptData", "x", [1, 2.5]]}
{"event_type": "sample.issued", "timestamp_ns": 6, "sample_uuid": "b"}
{"event_type": "sample.issued", "timestamp_ns": 7, "timestamp_ns": 8}
{"event_type": "session.ended", "timestamp_ns": 9}
JSON
"$SUBDUMP" "ipc://$T/bad" >"$T/bad.out" &
sub=$!
expect_exit 1 metricsd publish --bind "ipc://$T/bad" --wait-subscribers 1 <"$T/bad.in"
wait $sub || fail "subdump failed (bad lines)"
expect_grep 'stdin:2:[0-9]+: invalid JSON' "$T/err"
expect_grep "stdin:4: event_type: unknown event type 'sample.isued'; line skipped" "$T/err"
expect_grep 'stdin:5: timestamp_ns: must be an integer' "$T/err"
expect_grep 'stdin:6: data: PromptData token_ids\[1\] must be an integer' "$T/err"
expect_grep 'stdin:8:[0-9]+: invalid JSON: duplicate object key' "$T/err"
expect_grep '5 bad line\(s\) skipped' "$T/err"
grep -q 'stdin:3' "$T/err" && fail "blank line 3 reported"
[ "$(wc -l <"$T/bad.out")" -eq 3 ] || fail "expected 3 events: $(cat "$T/bad.out")"
expect_grep '"sample_uuid":"b"' "$T/bad.out"

# Nobody subscribes: a clear error once the wait times out.
expect_exit 1 metricsd publish --bind "ipc://$T/lonely" --wait-subscribers 2 \
    --wait-timeout 0.2 </dev/null
expect_grep 'timed out after 0.2 s waiting for 2 subscriber\(s\) on ipc://.*lonely \(0 subscribed\)' "$T/err"

# Usage errors.
expect_exit 2 metricsd publish </dev/null
expect_grep '--bind ENDPOINT is required' "$T/err"
expect_exit 2 metricsd publish --bind "ipc://$T/x" --batch 0
expect_grep "--batch: '0' is not an integer in 1..65536" "$T/err"
expect_exit 2 metricsd publish --bind "ipc://$T/x" --seed 3
expect_exit 2 metricsd publish --bind "ipc://$T/x" --frobnicate
expect_exit 2 metricsd publish --synthetic 3 --error-rate 2 --print-json
expect_exit 0 metricsd publish --help
expect_grep 'usage: metricsd publish --bind ENDPOINT' "$T/out"
expect_exit 1 metricsd publish --bind "bogus://x" </dev/null
expect_grep 'cannot bind bogus://x' "$T/err"
exit 0
