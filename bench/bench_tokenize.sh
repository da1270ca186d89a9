#!/bin/sh
# bench_tokenize: metricsd tokenize against Hugging Face tokenizers (the
# Rust library, npm 0.23.2, through tests/tok/hf_ids.js) on the same texts,
# in the same run, both on one core (taskset -c 0; HF with
# TOKENIZERS_PARALLELISM=false, RAYON_NUM_THREADS=1, one libuv thread).
#
#   texts:   TOK_BENCH_MB (default 18) MB of mixed English-like prose,
#            source code and prose in other scripts, about 1k tokens a
#            text (tests/tok/gen_corpus.py bench).
#   encode:  tokens/s and texts/s for Llama 3 and Qwen3, per CPU second
#            (user + system) and per wall second. HF's figure is the
#            better of encode() one text at a time and encodeBatch() of
#            64; metricsd's is its whole run minus a run on empty input
#            (start-up and load). The ratio metricsd/HF is taken on CPU
#            time, which holds on a busy machine: target >= 2x, goal 10x.
#   load:    Llama 3's tokenizer.json: HF Tokenizer.fromFile in-process
#            against metricsd tokenize on empty input (process start
#            included), CPU time. Ratio HF/metricsd: >= 1x means metricsd
#            is no slower.
#   memory:  peak RSS of metricsd tokenize with Llama 3 loaded (and of
#            node with HF's, for scale).
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
[ -x /usr/bin/time ] || die "/usr/bin/time not installed: run make deps"
pin="taskset -c 0"
command -v taskset >/dev/null || { pin=; echo "bench_tokenize: no taskset, not pinned"; }

python3 "$TOK/gen_corpus.py" bench "$MB" >"$T/texts" || die "gen_corpus.py failed"
ntexts=$(wc -l <"$T/texts")
bytes=$(wc -c <"$T/texts")

# json FILE KEY: a number from hf_ids.js --bench output.
json() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# measure_args OUT IN ARGS...: run metricsd tokenize ARGS on one core with
# stdin IN, stdout OUT; sets cpu (user + system s), wall (s), rss (KB).
measure_args() {
	out=$1 in=$2
	shift 2
	# shellcheck disable=SC2086
	/usr/bin/time -f '%U %S %e %M' -o "$T/time" $pin "$BIN" tokenize "$@" \
	    <"$in" >"$out" 2>"$T/err" ||
		die "metricsd tokenize $* failed: $(cat "$T/err")"
	read -r u s wall rss <"$T/time"
	cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')
}

/usr/bin/time -f '%M' -o "$T/rss" node "$TOK/hf_ids.js" "$DATA/llama3/tokenizer.json" \
    </dev/null >/dev/null || die "HF failed to load llama3"
hf_rss=$(cat "$T/rss")

have_mode=yes
"$BIN" tokenize --help >/dev/null 2>&1 || have_mode=

printf 'bench_tokenize: %d texts, %d bytes of JSON lines, one core\n' "$ntexts" "$bytes"
printf '%-8s %-22s %12s %10s %12s %10s %8s\n' tokenizer engine tokens/cpu-s \
    texts/cpu-s tokens/wall-s texts/wall-s ratio
for n in llama3 qwen3; do
	f=$DATA/$n/tokenizer.json
	# shellcheck disable=SC2086
	$pin node "$TOK/hf_ids.js" --bench "$f" <"$T/texts" >"$T/hf.$n" ||
		die "HF bench failed on $n"
	python3 - "$T/hf.$n" "$n" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for k, v in d["runs"].items():
    print("%-8s %-22s %12.0f %10.1f %12.0f %10.1f" % (sys.argv[2], "hf " + k,
          v["tokens_per_cpu_s"], v["texts_per_cpu_s"], v["tokens_per_s"],
          v["texts_per_s"]))
PY
	[ -n "$have_mode" ] || continue

	measure_args /dev/null /dev/null --tokenizer "$f"
	load_cpu=$cpu load_wall=$wall
	measure_args "$T/counts" "$T/texts" --tokenizer "$f"
	tokens=$(awk '{ s += $1 } END { printf "%d", s }' "$T/counts")
	hf_tokens=$(json "$T/hf.$n" tokens)
	[ "$tokens" = "$hf_tokens" ] ||
		echo "bench_tokenize: $n: metricsd counted $tokens tokens, HF $hf_tokens"
	awk -v n="$n" -v tok="$tokens" -v nt="$ntexts" -v c="$cpu" -v w="$wall" \
	    -v lc="$load_cpu" -v lw="$load_wall" \
	    -v hf="$(json "$T/hf.$n" tokens_per_cpu_s)" 'BEGIN {
		ec = c - lc; if (ec <= 0) ec = c; if (ec <= 0) ec = 0.001
		ew = w - lw; if (ew <= 0) ew = w; if (ew <= 0) ew = 0.001
		printf "%-8s %-22s %12.0f %10.1f %12.0f %10.1f %7.2fx  (target >= 2x, goal 10x)\n",
		    n, "metricsd", tok / ec, nt / ec, tok / ew, nt / ew, tok / ec / hf }'
done

hf_load=$(json "$T/hf.llama3" load_s)
hf_load_cpu=$(json "$T/hf.llama3" load_cpu_s)
printf 'load llama3: hf %.3f s wall, %.3f s cpu\n' "$hf_load" "$hf_load_cpu"
echo "rss llama3: hf (node + tokenizers) peak $hf_rss KB"
[ -n "$have_mode" ] || {
	echo "bench_tokenize: $BIN has no tokenize mode; HF figures only"
	exit 0
}

f=$DATA/llama3/tokenizer.json
: >"$T/loads"
for r in 1 2 3; do
	measure_args /dev/null /dev/null --tokenizer "$f"
	echo "$cpu $wall $rss" >>"$T/loads"
done
sort -n "$T/loads" | sed -n 2p >"$T/load"
read -r ml_cpu ml_wall ml_rss <"$T/load"
awk -v h="$hf_load_cpu" -v m="$ml_cpu" -v w="$ml_wall" 'BEGIN {
	if (m <= 0) m = 0.001
	printf "load llama3: metricsd %.3f s cpu, %.3f s wall (median of 3); hf/metricsd %.2fx on cpu (want >= 1x)\n",
	    m, w, h / m }'
echo "rss llama3: metricsd tokenize peak $ml_rss KB"
