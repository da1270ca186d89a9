# metricsd tokenize: ids equal to Hugging Face tokenizers' (the Rust
# library, npm 0.23.2, run here by tests/tok/hf_ids.js) for every string
# of tests/tok/gen_corpus.py and each of the six tokenizers; counts equal
# the reference lengths; --tokenizer as a directory and as a hub id in a
# local Hugging Face cache; usage errors.
#
# The data comes from `make deps` (scripts/tokdeps) in $METRICSD_TOKDATA;
# the reference output is kept in $METRICSD_REFCACHE, if set (hf_ref).
# Missing data or node is a failure, not a skip: make check runs make deps
# first. METRICSD_TOKENIZE_CMD replaces "$METRICSD_BIN tokenize" (for
# testing this test: "node tests/tok/hf_ids.js" is a stand-in that passes).
. "$(dirname "$0")/lib.sh"

TOK=$(cd "$(dirname "$0")/../tok" && pwd)
DATA=${METRICSD_TOKDATA:-/var/cache/metricsd/tok}
NAMES="llama3 llama3_1 qwen3 deepseek_v3 llama2 gpt2"

command -v node >/dev/null || fail "node not installed: run make deps"
command -v python3 >/dev/null || fail "python3 not installed: run make deps"
[ -d "$DATA/node_modules/tokenizers" ] ||
	fail "$DATA/node_modules/tokenizers missing: run make deps (scripts/tokdeps)"
for n in $NAMES; do
	[ -f "$DATA/$n/tokenizer.json" ] ||
		fail "$DATA/$n/tokenizer.json missing: run make deps (scripts/tokdeps)"
done

python3 "$TOK/gen_corpus.py" corpus >"$T/corpus" || fail "gen_corpus.py failed"
ncorpus=$(wc -l <"$T/corpus")
[ "$ncorpus" -ge 2000 ] || fail "corpus has $ncorpus strings, want >= 2000"
echo "ok: corpus of $ncorpus strings"

# (hf_ref, in lib.sh: made here, kept in $METRICSD_REFCACHE if set)
for n in $NAMES; do
	hf_ref "$T/$n.ref" --ids "$DATA/$n/tokenizer.json" <"$T/corpus" ||
		fail "reference failed on $n"
	[ "$(wc -l <"$T/$n.ref")" -eq "$ncorpus" ] ||
		fail "reference for $n has $(wc -l <"$T/$n.ref") lines, not $ncorpus"
done
echo "ok: reference ids for $NAMES ($HF_REF_CACHED from ${METRICSD_REFCACHE:-no cache})"

# The comparison itself must catch a single changed id.
awk 'NR == 7 { sub(/\[[0-9]+/, "[999999") } { print }' "$T/llama3.ref" >"$T/bad"
cmp -s "$T/bad" "$T/llama3.ref" && fail "could not corrupt line 7"
python3 "$TOK/compare.py" ids "$T/corpus" "$T/llama3.ref" "$T/bad" >"$T/cmp" &&
	fail "compare.py missed a changed id: $(cat "$T/cmp")"
expect_grep '^ids: 1 of [0-9]+ strings differ' "$T/cmp"
echo "ok: compare.py reports a corrupted id"

# GPT-2's tokenizer.json was generated from r50k ranks: it must encode as
# gpt-tokenizer's own r50k encoder does. Strings with U+FEFF are left out:
# that encoder's regex runs in JavaScript, whose \s includes U+FEFF
# (tiktoken's and Hugging Face's do not).
hf_ref "$T/r50k" --r50k --ids <"$T/corpus" || fail "gpt-tokenizer r50k failed"
python3 "$TOK/compare.py" ids "$T/corpus" "$T/r50k" "$T/gpt2.ref" "$(printf '\357\273\277')" ||
	fail "generated GPT-2 tokenizer.json differs from r50k"
echo "ok: generated gpt2 tokenizer.json encodes as gpt-tokenizer's r50k"

if [ -n "${METRICSD_TOKENIZE_CMD:-}" ]; then
	# shellcheck disable=SC2086
	set -- $METRICSD_TOKENIZE_CMD
else
	set -- "$METRICSD_BIN" tokenize
	"$@" --help >"$T/help" 2>&1 ||
		skip "metricsd has no tokenize mode yet: $(head -n 1 "$T/help")"
fi

bad=0
for n in $NAMES; do
	f=$DATA/$n/tokenizer.json
	echo "== $n"
	"$@" --tokenizer "$f" --ids <"$T/corpus" >"$T/$n.got" 2>"$T/err"
	rc=$?
	python3 "$TOK/compare.py" ids "$T/corpus" "$T/$n.ref" "$T/$n.got" ||
		bad=$((bad + 1))
	[ "$rc" -eq 0 ] || {
		echo "tokenize --ids on $n exited $rc: $(tail -n 5 "$T/err")"
		bad=$((bad + 1))
	}
	"$@" --tokenizer "$f" <"$T/corpus" >"$T/$n.cnt" 2>"$T/err"
	rc=$?
	python3 "$TOK/compare.py" counts "$T/corpus" "$T/$n.ref" "$T/$n.cnt" ||
		bad=$((bad + 1))
	[ "$rc" -eq 0 ] || {
		echo "tokenize on $n exited $rc: $(tail -n 5 "$T/err")"
		bad=$((bad + 1))
	}
done
[ "$bad" -eq 0 ] || fail "$bad comparisons differ from Hugging Face tokenizers"
echo "ok: ids and counts equal Hugging Face tokenizers for $NAMES"

head -n 300 "$T/corpus" >"$T/small"
head -n 300 "$T/llama2.ref" >"$T/small.llama2"
head -n 300 "$T/gpt2.ref" >"$T/small.gpt2"

# A directory that holds tokenizer.json.
expect_exit 0 "$@" --tokenizer "$DATA/llama2" --ids <"$T/small"
cmp -s "$T/out" "$T/small.llama2" || fail "--tokenizer DIR gives other ids"

# Hub ids, resolved offline as huggingface_hub lays out its cache: the
# snapshot file is a symlink into blobs/, REV comes from refs/main.
hubrepo() { # ROOT ORG NAME FILE
	d=$1/models--$2--$3
	mkdir -p "$d/refs" "$d/blobs" "$d/snapshots/0123abcd"
	cp "$4" "$d/blobs/deadbeef"
	ln -s ../../blobs/deadbeef "$d/snapshots/0123abcd/tokenizer.json"
	printf '0123abcd' >"$d/refs/main"
}
hubrepo "$T/hub" testorg tiny-model "$DATA/gpt2/tokenizer.json"
hubrepo "$T/hfhome/hub" testorg tiny-model "$DATA/llama2/tokenizer.json"
hubrepo "$T/home/.cache/huggingface/hub" otherorg m2 "$DATA/llama2/tokenizer.json"

expect_exit 0 env HF_HUB_CACHE="$T/hub" HF_HOME="$T/hfhome" \
    "$@" --tokenizer testorg/tiny-model --ids <"$T/small"
cmp -s "$T/out" "$T/small.gpt2" || fail "HF_HUB_CACHE is not the first place looked"
expect_exit 0 env -u HF_HUB_CACHE HF_HOME="$T/hfhome" \
    "$@" --tokenizer testorg/tiny-model --ids <"$T/small"
cmp -s "$T/out" "$T/small.llama2" || fail "HF_HOME/hub not used"
expect_exit 0 env -u HF_HUB_CACHE -u HF_HOME HOME="$T/home" \
    "$@" --tokenizer otherorg/m2 --ids <"$T/small"
cmp -s "$T/out" "$T/small.llama2" || fail "~/.cache/huggingface/hub not used"

# An id that resolves nowhere: usage error listing where it looked.
expect_exit 2 env HF_HUB_CACHE="$T/hub" "$@" --tokenizer nosuch/model </dev/null
expect_grep "nosuch/model" "$T/err"
expect_grep "$T/hub/models--nosuch--model" "$T/err"

# A file that does not load names the file.
head -c 1000 "$DATA/gpt2/tokenizer.json" >"$T/truncated.json"
expect_exit 2 "$@" --tokenizer "$T/truncated.json" </dev/null
expect_grep "truncated\.json" "$T/err"

# A line that is not a JSON string is reported and skipped, exit 1.
printf '"one"\n42\n"two"\nnot json\n' >"$T/mixed"
expect_exit 1 "$@" --tokenizer "$DATA/gpt2/tokenizer.json" <"$T/mixed"
[ "$(wc -l <"$T/out")" -eq 2 ] || fail "bad lines not skipped: $(cat "$T/out")"
expect_grep 'stdin:2:' "$T/err"
expect_grep 'stdin:4:' "$T/err"
exit 0
