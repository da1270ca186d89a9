# metricsd publish --synthetic-text: realistic completion text, about
# --osl tokens per sample as Hugging Face tokenizers counts them with the
# Llama 3 and Qwen3 files (tests/tok/hf_ids.js, data from make deps),
# deterministic from --seed, valid JSON strings on the way out and through
# a real socket; usage errors.
. "$(dirname "$0")/lib.sh"

DATA=${METRICSD_TOKDATA:-/var/cache/metricsd/tok}
SUBDUMP=$METRICSD_HELPERS/subdump
[ -x "$SUBDUMP" ] || skip "helper subdump not built"
command -v python3 >/dev/null || fail "python3 not installed: run make deps"
command -v node >/dev/null || fail "node not installed: run make deps"
[ -d "$DATA/node_modules/tokenizers" ] ||
	fail "$DATA/node_modules/tokenizers missing: run make deps (scripts/tokdeps)"

# texts FILE: each completed sample's text (reasoning then output chunks
# joined), one JSON string a line.
texts() {
	python3 - "$1" <<'PY' || fail "bad events in $1"
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    d = e.get("data")
    if e["event_type"] != "sample.complete" or not d:
        continue
    assert d[0] == "TextModelOutput", d[0]
    parts = (d[2] or []) + d[1]
    print(json.dumps("".join(parts)))
PY
}

for kind in prose code mixed; do
	expect_exit 0 metricsd publish --synthetic 150 --seed 4 --error-rate 0 \
	    --synthetic-text $kind --osl 500 --print-json
	mv "$T/out" "$T/$kind.jsonl"
	expect_exit 0 metricsd publish --synthetic 150 --seed 4 --error-rate 0 \
	    --synthetic-text $kind --osl 500 --print-json
	cmp -s "$T/out" "$T/$kind.jsonl" || fail "$kind: same seed, other text"
	expect_exit 0 metricsd publish --synthetic 150 --seed 5 --error-rate 0 \
	    --synthetic-text $kind --osl 500 --print-json
	cmp -s "$T/out" "$T/$kind.jsonl" && fail "$kind: other seed, same text"
	texts "$T/$kind.jsonl" >"$T/$kind.texts"
	[ "$(wc -l <"$T/$kind.texts")" -eq 150 ] || fail "$kind: not 150 texts"
	for t in llama3 qwen3; do
		hf_ref "$T/counts" "$DATA/$t/tokenizer.json" <"$T/$kind.texts" ||
			fail "reference failed on $kind"
		awk -v k=$kind -v t=$t '{ s += $1; n++ } END {
			m = s / n; printf "ok: %s, %s: mean %.0f tokens for --osl 500\n", k, t, m
			exit !(m >= 400 && m <= 600) }' "$T/counts" ||
			fail "$kind: mean token count far from --osl 500"
	done
done

# Through a real socket, batched: the same events arrive.
"$SUBDUMP" "ipc://$T/s" >"$T/s.out" &
sub=$!
expect_exit 0 metricsd publish --bind "ipc://$T/s" --wait-subscribers 1 \
    --batch 8 --synthetic 150 --seed 4 --error-rate 0 --synthetic-text mixed \
    --osl 500
wait $sub || fail "subdump failed"
python3 - "$T/mixed.jsonl" "$T/s.out" <<'PY' || fail "socket events differ"
import json, sys
a = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
b = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8") if l.strip()]
sys.exit(a != b)
PY
echo "ok: realistic text through the socket"

expect_exit 2 metricsd publish --synthetic 3 --print-json --synthetic-text poem
expect_grep "poem" "$T/err"
expect_exit 2 metricsd publish --synthetic 3 --print-json --osl 10
expect_grep "osl" "$T/err"
expect_exit 2 metricsd publish --synthetic 3 --print-json --synthetic-text code --osl 0
expect_exit 2 metricsd publish --print-json --synthetic-text code
exit 0
