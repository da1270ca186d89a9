#!/bin/sh
# bench_tokenize: metricsd tokenize against Hugging Face tokenizers (the
# Rust library, npm 0.23.2, through tests/tok/hf_ids.js) on the same texts,
# in the same run, both on one core (taskset -c 0; HF with
# TOKENIZERS_PARALLELISM=false, RAYON_NUM_THREADS=1, one libuv thread).
#
#   texts:       TOK_BENCH_MB (default 18) MB of mixed English-like prose,
#                source code and prose in other scripts, about 1k tokens a
#                text (tests/tok/gen_corpus.py bench).
#   encode:      tokens/s and texts/s for Llama 3 and Qwen3. HF's figure is
#                the better of encode() one text at a time and
#                encodeBatch() of 64; metricsd's is its whole run minus
#                the time it takes to load the file and read empty input.
#                Ratio metricsd/HF: target >= 2x, goal 10x.
#   load:        Llama 3's tokenizer.json: HF Tokenizer.fromFile in-process
#                against metricsd tokenize on empty input (process start
#                included). Ratio HF/metricsd: >= 1x means metricsd is
#                no slower.
#   memory:      peak RSS of metricsd tokenize with Llama 3 loaded.
#
# Until the tokenize mode exists the HF side is measured and reported alone.
set -u
: "${METRICSD_BIN:?set METRICSD_BIN}"
BIN=$METRICSD_BIN
here=$(cd "$(dirname "$0")" && pwd)
TOK=$here/../tests/tok
DATA=${METRICSD_TOKDATA:-/var/cache/metricsd/tok}
MB=${TOK_BENCH_MB:-18}
T=$(mktemp -d /tmp/metricsd-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT

die() {
	echo "bench_tokenize: $*" >&2
	exit 1
}

command -v node >/dev/null || die "node not installed: run make deps"
[ -d "$DATA/node_modules/tokenizers" ] || die "$DATA missing: run make deps"
pin="taskset -c 0"
command -v taskset >/dev/null || { pin=; echo "bench_tokenize: no taskset, not pinned"; }

python3 "$TOK/gen_corpus.py" bench "$MB" >"$T/texts" || die "gen_corpus.py failed"
ntexts=$(wc -l <"$T/texts")
bytes=$(wc -c <"$T/texts")

[ -x /usr/bin/time ] || die "/usr/bin/time not installed: run make deps"
/usr/bin/time -f '%M' -o "$T/rss" node "$TOK/hf_ids.js" "$DATA/llama3/tokenizer.json" \
    </dev/null >/dev/null || die "HF failed to load llama3"
hf_rss=$(cat "$T/rss")

have_mode=yes
"$BIN" tokenize --help >/dev/null 2>&1 || have_mode=

now_ns() {
	date +%s%N
}

# json FILE KEY: a number from hf_ids.js --bench output.
json() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

printf 'bench_tokenize: %d texts, %d bytes of JSON lines, one core\n' "$ntexts" "$bytes"
printf '%-8s %-9s %14s %12s %10s %8s\n' tokenizer engine tokens/s texts/s load_s ratio
for n in llama3 qwen3; do
	f=$DATA/$n/tokenizer.json
	# shellcheck disable=SC2086
	$pin node "$TOK/hf_ids.js" --bench "$f" <"$T/texts" >"$T/hf.$n" ||
		die "HF bench failed on $n"
	hf_tps=$(json "$T/hf.$n" tokens_per_s)
	hf_xps=$(json "$T/hf.$n" texts_per_s)
	hf_load=$(json "$T/hf.$n" load_s)
	awk -v n="$n" -v t="$hf_tps" -v x="$hf_xps" -v l="$hf_load" 'BEGIN {
		printf "%-8s %-9s %14.0f %12.1f %10.3f %8s\n", n, "hf", t, x, l, "1.00x" }'
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["runs"]
for k, v in r.items(): print("%-8s   hf %-14s %10.0f tokens/s %8.1f texts/s" % ("", k, v["tokens_per_s"], v["texts_per_s"]))' "$T/hf.$n"
	[ -n "$have_mode" ] || continue

	t0=$(now_ns)
	# shellcheck disable=SC2086
	$pin "$BIN" tokenize --tokenizer "$f" </dev/null >/dev/null 2>"$T/err" ||
		die "metricsd tokenize failed to load $f: $(cat "$T/err")"
	load_ns=$(($(now_ns) - t0))
	t0=$(now_ns)
	# shellcheck disable=SC2086
	$pin "$BIN" tokenize --tokenizer "$f" <"$T/texts" >"$T/counts" 2>"$T/err" ||
		die "metricsd tokenize failed on $n: $(cat "$T/err")"
	run_ns=$(($(now_ns) - t0))
	tokens=$(awk '{ s += $1 } END { printf "%d", s }' "$T/counts")
	hf_tokens=$(json "$T/hf.$n" tokens)
	[ "$tokens" = "$hf_tokens" ] ||
		echo "bench_tokenize: $n: metricsd counted $tokens tokens, HF $hf_tokens"
	awk -v n="$n" -v tok="$tokens" -v nt="$ntexts" -v run="$run_ns" \
	    -v load="$load_ns" -v hf="$hf_tps" 'BEGIN {
		enc = (run - load) / 1e9; if (enc <= 0) enc = run / 1e9
		printf "%-8s %-9s %14.0f %12.1f %10.3f %7.2fx  (target >= 2x, goal 10x)\n",
		    n, "metricsd", tok / enc, nt / enc, load / 1e9, tok / enc / hf }'
done

echo "rss llama3: hf (node + tokenizers) peak $hf_rss KB"
[ -n "$have_mode" ] || {
	echo "bench_tokenize: $BIN has no tokenize mode; HF figures only"
	exit 0
}

f=$DATA/llama3/tokenizer.json
hf_load=$(json "$T/hf.llama3" load_s)
loads=
for r in 1 2 3; do
	t0=$(now_ns)
	# shellcheck disable=SC2086
	$pin "$BIN" tokenize --tokenizer "$f" </dev/null >/dev/null 2>&1
	loads="$loads $(($(now_ns) - t0))"
done
ml=$(echo "$loads" | tr ' ' '\n' | sed '/^$/d' | sort -n | sed -n 2p)
awk -v h="$hf_load" -v m="$ml" 'BEGIN {
	printf "load llama3: hf %.3f s, metricsd %.3f s (median of 3), hf/metricsd %.2fx (want >= 1x)\n",
	    h, m / 1e9, h / (m / 1e9) }'

/usr/bin/time -f '%M' -o "$T/rss" "$BIN" tokenize --tokenizer "$f" \
    </dev/null >/dev/null 2>&1
echo "rss llama3: metricsd tokenize peak $(cat "$T/rss") KB"
