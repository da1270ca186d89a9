#!/bin/sh
# metricsd aggregate --tokenizer with real Hugging Face tokenizers:
#  - a name that resolves nowhere, or a file that does not load, is a usage
#    error (exit 2) with the tokenizer's own message (where it looked; the
#    file and the component), and nothing is created;
#  - with Llama 3's tokenizer.json (and the same file as a hub id in a
#    local cache), a synthetic session with realistic text gives osl and
#    tpot_ns exactly as computed independently (expect_metrics.py) from
#    the counts of the reference engine, Hugging Face tokenizers
#    (tests/tok/hf_ids.js), on the same texts;
#  - a text with invalid UTF-8 (a frame edited by hand) is still counted,
#    and counted in tokenizer_invalid_utf8, and the aggregator says so.
#
# The data comes from `make deps` (scripts/tokdeps) in $METRICSD_TOKDATA.
# Missing data or node is a failure, not a skip: make check runs make deps
# first.
. "$(dirname "$0")/lib.sh"

H=$METRICSD_HELPERS
here=$(cd "$(dirname "$0")" && pwd)
DATA=${METRICSD_TOKDATA:-/var/cache/metricsd/tok}
LLAMA3=$DATA/llama3/tokenizer.json

for h in storedump rawpub subdump; do
	[ -x "$H/$h" ] || skip "helper $h not built"
done
command -v timeout >/dev/null || skip "timeout(1) not installed"
command -v node >/dev/null || fail "node not installed: run make deps"
command -v python3 >/dev/null || fail "python3 not installed: run make deps"
[ -d "$DATA/node_modules/tokenizers" ] ||
	fail "$DATA/node_modules/tokenizers missing: run make deps (scripts/tokdeps)"
[ -f "$LLAMA3" ] || fail "$LLAMA3 missing: run make deps (scripts/tokdeps)"

hint="; try 'metricsd aggregate --help'\$"
# An empty hub cache: nothing resolves there.
mkdir "$T/hub"
export HF_HUB_CACHE="$T/hub"

# 1. A hub id that is nowhere: exit 2, the places looked, no store.
expect_exit 2 metricsd aggregate --connect "ipc://$T/ev" --metrics-dir "$T/m" \
    --ready "ipc://$T/r" --readiness-id 1 --tokenizer meta-llama/No-Such-Model
expect_grep "^metricsd aggregate: --tokenizer: tokenizer meta-llama/No-Such-Model: .*looked at .*$T/hub/models--meta-llama--No-Such-Model/refs/main.*$hint" "$T/err"
[ ! -e "$T/m" ] || fail "an unresolvable tokenizer created the store"

# 2. Broken files: the file and the component are named; no store.
printf '{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}' \
    >"$T/trunc.json"
expect_exit 2 metricsd aggregate --connect "ipc://$T/ev" --metrics-dir "$T/m" \
    --tokenizer "$T/trunc.json"
expect_grep "^metricsd aggregate: --tokenizer: $T/trunc.json:[0-9]+:[0-9]+: bad JSON.*$hint" "$T/err"
printf '{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}}\n' \
    >"$T/merge.json"
expect_exit 2 metricsd aggregate --connect "ipc://$T/ev" --metrics-dir "$T/m" \
    --tokenizer "$T/merge.json"
expect_grep "^metricsd aggregate: --tokenizer: $T/merge.json: model\.merges\[0\]: .*\"b\" is not in the vocab$hint" "$T/err"
printf '{"model": {"type": "WordPiece", "vocab": {"a": 0}}}\n' >"$T/wp.json"
expect_exit 2 metricsd aggregate --connect "ipc://$T/ev" --metrics-dir "$T/m" \
    --tokenizer "$T/wp.json"
expect_grep "^metricsd aggregate: --tokenizer: $T/wp.json: .*unsupported.*WordPiece.*$hint" "$T/err"
[ ! -e "$T/m" ] || fail "a broken tokenizer created the store"

# 3. Llama 3, by path and by hub id: osl and tpot_ns as the reference
# engine's counts give them.
snap=$T/hub/models--meta-llama--Meta-Llama-3-8B/snapshots/0123abc
mkdir -p "$snap" "$T/hub/models--meta-llama--Meta-Llama-3-8B/refs"
echo 0123abc >"$T/hub/models--meta-llama--Meta-Llama-3-8B/refs/main"
ln -s "$LLAMA3" "$snap/tokenizer.json"

syn="--synthetic 60 --synthetic-text mixed --osl 300 --seed 5"
expect_exit 0 metricsd publish $syn --print-json
cp "$T/out" "$T/s.jsonl"
python3 "$here/expect_metrics.py" --streaming --tokenizer \
    --list-texts "$T/texts" <"$T/s.jsonl" >/dev/null ||
	fail "expect_metrics.py --list-texts failed"
hf_ref "$T/counts" "$LLAMA3" <"$T/texts" || fail "the reference engine failed"
python3 -c '
import json, sys
texts = open(sys.argv[1]).read().splitlines()
counts = open(sys.argv[2]).read().splitlines()
assert len(texts) == len(counts) > 0, (len(texts), len(counts))
for t, n in zip(texts, counts):
    print(json.dumps([json.loads(t), int(n)]))
' "$T/texts" "$T/counts" >"$T/pairs" || fail "pairing texts and counts failed"
python3 "$here/expect_metrics.py" --streaming --tokenizer --counts "$T/pairs" \
    <"$T/s.jsonl" >"$T/expected.json" || fail "expect_metrics.py failed"
grep -q '"osl": \[[0-9]' "$T/expected.json" || fail "no osl expected"
grep -q '"tpot_ns": \[[0-9]' "$T/expected.json" || fail "no tpot_ns expected"

for name in "$LLAMA3" meta-llama/Meta-Llama-3-8B; do
	rm -rf "$T/m"
	timeout --foreground --preserve-status -s KILL 60 metricsd aggregate \
	    --connect "ipc://$T/ev" --metrics-dir "$T/m" --streaming \
	    --tokenizer "$name" >"$T/agg.out" 2>"$T/agg.err" &
	agg=$!
	expect_exit 0 metricsd publish --bind "ipc://$T/ev" \
	    --wait-subscribers 1 $syn --batch 16
	wait "$agg" || fail "aggregate --tokenizer $name exited $?: $(cat "$T/agg.err")"
	expect_grep "tokenizer $name" "$T/agg.err"
	"$H/storedump" "$T/m" >"$T/got.json" || fail "storedump failed"
	expect_grep '"state":"final"' "$T/got.json"
	python3 "$here/compare_metrics.py" "$T/expected.json" "$T/got.json" ||
		fail "--tokenizer $name: metrics differ from the reference counts"
	expect_grep '"tokenizer_errors":0' "$T/got.json"
	expect_grep '"tokenizer_invalid_utf8":0' "$T/got.json"
	echo "ok: --tokenizer $name: osl and tpot_ns match Hugging Face's counts"
done

# 4. Invalid UTF-8: capture the frames of a small session from publish,
# turn "hello world" in the answer into "hel\xffo world" (same length),
# and send them by hand.
cat >"$T/small.jsonl" <<'EOF'
{"event_type": "session.started", "timestamp_ns": 1000}
{"event_type": "session.start_performance_tracking", "timestamp_ns": 1001}
{"event_type": "sample.issued", "timestamp_ns": 1100, "sample_uuid": "u1"}
{"event_type": "sample.recv_first", "timestamp_ns": 1200, "sample_uuid": "u1"}
{"event_type": "sample.complete", "timestamp_ns": 1500, "sample_uuid": "u1", "data": ["TextModelOutput", ["hello world", " and more hello"]]}
{"event_type": "session.ended", "timestamp_ns": 2000}
EOF
"$H/subdump" --hex "ipc://$T/cap" >"$T/cap.out" &
sub=$!
expect_exit 0 metricsd publish --bind "ipc://$T/cap" --wait-subscribers 1 <"$T/small.jsonl"
wait $sub || fail "subdump failed"
grep -q 68656c6c6f20776f726c64 "$T/cap.out" || fail "no 'hello world' in the frames"
sed 's/68656c6c6f20776f726c64/68656cff6f20776f726c64/; s/^/T /' "$T/cap.out" \
    >"$T/bad.frames"
rm -rf "$T/m"
timeout --foreground --preserve-status -s KILL 60 metricsd aggregate \
    --connect "ipc://$T/ev8" --metrics-dir "$T/m" --streaming \
    --tokenizer "$LLAMA3" >"$T/agg.out" 2>"$T/agg.err" &
agg=$!
"$H/rawpub" "ipc://$T/ev8" <"$T/bad.frames" || fail "rawpub failed"
wait "$agg" || fail "aggregate exited $?: $(cat "$T/agg.err")"
"$H/storedump" "$T/m" >"$T/got.json" || fail "storedump failed"
python3 - "$T/got.json" <<'PY' || fail "invalid UTF-8 not counted as documented"
import json, sys
d = json.load(open(sys.argv[1]))
c, s = d["counters"], d["series"]
assert d["state"] == "final", d["state"]
assert c["decode_errors"] == 0, c["decode_errors"]
assert c["tokenizer_invalid_utf8"] == 1, c["tokenizer_invalid_utf8"]
assert c["tokenizer_errors"] == 0, c["tokenizer_errors"]
assert len(s["osl"]) == 1 and s["osl"][0] > 0, s["osl"]
assert len(s["tpot_ns"]) == 1, s["tpot_ns"]
PY
expect_grep "token counts: 0 failed .*, 1 texts with invalid UTF-8 counted with U\+FFFD" "$T/agg.err"
echo "ok: invalid UTF-8 counted, and counted in tokenizer_invalid_utf8"
exit 0
