# metricsd tokenize: counts and ids per JSON line, bad lines, bad
# tokenizers, hub ids, the symlink. Ids of the fixture are those Hugging
# Face tokenizers 0.23.2 gives (see tests/check_tok.c).
. "$(dirname "$0")/lib.sh"
data=$(cd "$(dirname "$0")/../data" && pwd)

printf '%s\n' '"hello world"' '""' '"hello</s>world"' > "$T/in"
expect_exit 0 sh -c "metricsd-tokenize --tokenizer '$data/tok_spm.json' --ids < '$T/in'"
printf '[274,279]\n[]\n[274,2,279]\n' | cmp -s - "$T/out" ||
	fail "ids: $(cat "$T/out")"
expect_grep '3 texts, 5 tokens' "$T/err"
expect_grep 'MB/s' "$T/err"

expect_exit 0 sh -c "metricsd tokenize --tokenizer '$data/tok_spm.json' < '$T/in'"
printf '2\n0\n3\n' | cmp -s - "$T/out" || fail "counts: $(cat "$T/out")"

# A line that is not a JSON string is reported and skipped: exit 1.
printf '%s\n' '"hello"' '42' '{"a' '"world"' > "$T/bad"
expect_exit 1 sh -c "metricsd tokenize --tokenizer '$data/tok_spm.json' < '$T/bad'"
expect_grep ' stdin:2: not a JSON string' "$T/err"
expect_grep ' stdin:3: not JSON' "$T/err"
[ "$(wc -l < "$T/out")" -eq 2 ] || fail "want 2 output lines: $(cat "$T/out")"

# whitespace works too (counts words).
expect_exit 0 sh -c "echo '\" a b  c \"' | metricsd tokenize --tokenizer whitespace"
[ "$(cat "$T/out")" = 3 ] || fail "whitespace: $(cat "$T/out")"

# Unresolvable or broken tokenizers are usage errors, never a fallback.
expect_exit 2 metricsd tokenize --tokenizer no/such/model
expect_grep 'no/such/model' "$T/err"
HF_HUB_CACHE=$T/hub expect_exit 2 metricsd tokenize --tokenizer org/absent
expect_grep "$T/hub/models--org--absent/refs/main" "$T/err"
printf '{"model":{"type":"WordPiece"}}' > "$T/wp.json"
expect_exit 2 metricsd tokenize --tokenizer "$T/wp.json"
expect_grep "$T/wp.json: model: unsupported: model type WordPiece" "$T/err"
printf '{"model":' > "$T/trunc.json"
expect_exit 2 metricsd tokenize --tokenizer "$T/trunc.json"
expect_grep "$T/trunc.json:1:[0-9]+: bad JSON" "$T/err"
expect_exit 2 metricsd tokenize
expect_exit 2 metricsd tokenize --tokenizer whitespace extra

# A hub id from the local cache, offline.
snap=$T/hub/models--org--tiny/snapshots/rev1
mkdir -p "$snap" "$T/hub/models--org--tiny/refs"
echo rev1 > "$T/hub/models--org--tiny/refs/main"
cp "$data/tok_spm.json" "$snap/tokenizer.json"
HF_HUB_CACHE=$T/hub expect_exit 0 sh -c "echo '\"hello world\"' | metricsd tokenize --tokenizer org/tiny"
[ "$(cat "$T/out")" = 2 ] || fail "hub id: $(cat "$T/out")"
HF_HUB_CACHE= HF_HOME=$T expect_exit 0 sh -c "echo '\"hello world\"' | metricsd tokenize --tokenizer org/tiny"
# A directory holding tokenizer.json.
expect_exit 0 sh -c "echo '\"hello\"' | metricsd tokenize --tokenizer '$snap'"
[ "$(cat "$T/out")" = 1 ] || fail "directory: $(cat "$T/out")"

expect_exit 0 metricsd tokenize --help
expect_grep 'usage: metricsd tokenize --tokenizer X \[--ids\]' "$T/out"
exit 0
