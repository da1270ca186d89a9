# metricsd read, one shot: JSON shape and values, table, key selection,
# unknown keys, missing stores, invalid files, store states, usage errors.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip "python3 not found (needed to parse JSON)"
FILL="$METRICSD_HELPERS/read_fill"
[ -x "$FILL" ] || fail "helper $FILL not built"

# check_json FILE PYTHON-EXPR...: FILE must be strict JSON (no NaN or
# Infinity tokens); each expression, with the object as j, must be true.
check_json() {
	f=$1
	shift
	python3 - "$f" "$@" <<'EOF' || fail "JSON check on $f: $(cat "$f" | head -c 2000)"
import json, math, sys
def no_constants(c):
    raise ValueError("non-JSON constant " + c)
with open(sys.argv[1], "rb") as fh:
    raw = fh.read()
j = json.loads(raw.decode("utf-8"), parse_constant=no_constants)
for expr in sys.argv[2:]:
    if not eval(expr):
        sys.stderr.write("false: %s\n" % expr)
        sys.exit(1)
EOF
	echo "ok: json $*"
}

D="$T/store"
WEIRD=$(printf 'we"ird\\k\303\251y\377')
"$FILL" "$D" \
	counter:total:u64:42 counter:ratio:f64:0.25 counter:neg:i64:-7 \
	counter:huge:u64:18446744073709551615 \
	series:lat_ns:u64:30,10,20 series:empty:u64: \
	series:deltas:i64:-5,5,-10,10 \
	series:fl:f64:1.5,2.5,inf \
	series:withnan:f64:1,nan,3 \
	series:big:u64:18446744073709551615,18446744073709551615 \
	"series:$WEIRD:u64:7" \
	seq:many:u64:200000 ||
	fail "read_fill failed"

# --- JSON: the shape and every value --------------------------------------
expect_exit 0 metricsd-read --metrics-dir "$D" --json
cp "$T/out" "$T/all.json"
check_json "$T/all.json" \
	'set(j["_store"]) == {"dir", "final", "writer_pid", "state", "incomplete", "lost"}' \
	'j["_store"]["final"] is True and j["_store"]["writer_pid"] is None' \
	'j["_store"]["state"] == "final" and j["_store"]["dir"].endswith("/store")' \
	'j["total"] == 42 and type(j["total"]) is int' \
	'j["ratio"] == 0.25 and j["neg"] == -7' \
	'j["huge"] == 18446744073709551615' \
	'set(j["lat_ns"]) == {"count","sum","min","max","mean","stddev","p50","p90","p95","p99","p99.9"}' \
	'j["lat_ns"]["count"] == 3 and j["lat_ns"]["sum"] == 60' \
	'type(j["lat_ns"]["min"]) is int and j["lat_ns"]["min"] == 10 and j["lat_ns"]["max"] == 30' \
	'j["lat_ns"]["mean"] == 20 and abs(j["lat_ns"]["stddev"] - math.sqrt(200/3)) < 1e-12' \
	'j["lat_ns"]["p50"] == 20 and abs(j["lat_ns"]["p90"] - 28) < 1e-9' \
	'abs(j["lat_ns"]["p95"] - 29) < 1e-9 and abs(j["lat_ns"]["p99.9"] - 29.98) < 1e-9' \
	'j["empty"] == {"count": 0, "sum": None, "min": None, "max": None, "mean": None, "stddev": None, "p50": None, "p90": None, "p95": None, "p99": None, "p99.9": None}' \
	'j["deltas"]["sum"] == 0 and j["deltas"]["min"] == -10 and j["deltas"]["max"] == 10' \
	'j["deltas"]["p50"] == 0 and abs(j["deltas"]["p90"] - 8.5) < 1e-9' \
	'j["fl"]["max"] is None and j["fl"]["min"] == 1.5 and j["fl"]["p50"] == 2.5' \
	'j["fl"]["sum"] is None and j["fl"]["mean"] is None and j["fl"]["p99"] is None' \
	'j["withnan"]["count"] == 3 and j["withnan"]["p50"] is None and j["withnan"]["min"] is None' \
	'j["big"]["sum"] == 36893488147419103230 and j["big"]["max"] == 18446744073709551615' \
	'j["we\"ird\\k\u00e9y\ufffd"]["count"] == 1' \
	'j["many"]["count"] == 200000 and j["many"]["p50"] == 100000.5' \
	'abs(j["many"]["p99.9"] - 199800.001) < 1e-6 and j["many"]["sum"] == 200000 * 200001 // 2' \
	'"values" not in j["lat_ns"]'

# --- --values: append order, integers as integers, streamed ---------------
expect_exit 0 metricsd-read --metrics-dir "$D" --json --values lat_ns many fl empty
check_json "$T/out" \
	'j["lat_ns"]["values"] == [30, 10, 20]' \
	'j["many"]["values"] == list(range(1, 200001))' \
	'j["fl"]["values"] == [1.5, 2.5, None]' \
	'j["empty"]["values"] == []' \
	'set(j) == {"_store", "lat_ns", "many", "fl", "empty"}'

# --- KEY selection and unknown keys ---------------------------------------
expect_exit 0 metricsd read --metrics-dir "$D" --json total lat_ns
check_json "$T/out" 'list(j) == ["_store", "total", "lat_ns"]'
expect_exit 1 metricsd-read --metrics-dir "$D" --json lat_ns no_such_key
check_json "$T/out" 'list(j) == ["_store", "lat_ns"]'
expect_grep "unknown key 'no_such_key'" "$T/err"
expect_grep 'known keys: .*lat_ns' "$T/err"
expect_exit 1 metricsd-read --metrics-dir "$D" no_such_key
expect_grep "unknown key 'no_such_key'" "$T/err"

# --- the table ------------------------------------------------------------
# --raw: the numbers as stored, every key (the table before ms and folding).
expect_exit 0 metricsd-read --metrics-dir "$D" --raw
expect_grep '^store .*/store: final$' "$T/out"
expect_grep '^COUNTER +VALUE$' "$T/out"
expect_grep '^total +42$' "$T/out"
expect_grep '^huge +18446744073709551615$' "$T/out"
expect_grep '^SERIES +COUNT +MEAN +MIN +MAX +P50 +P90 +P95 +P99 +P99\.9$' "$T/out"
expect_grep '^lat_ns +3 +20 +10 +30 +20 +28 +29 +29\.8 +29\.98$' "$T/out"
expect_grep '^empty +0 +- +- +- +- +- +- +- +-$' "$T/out"
expect_grep '^we"ird\\k.*y\\xff +1 ' "$T/out"
# Columns line up: every series row is as wide as the header.
awk '/^SERIES/ { on = 1; w = length($0) } on && /^[a-z_]+ / && NF == 10 && length($0) != w { bad = 1 }
	END { exit bad }' "$T/out" || fail "series table not aligned: $(cat "$T/out")"
echo "ok: table aligned"

# The default table: _ns keys in ms, said by a UNIT column; the rest raw.
expect_exit 0 metricsd-read --metrics-dir "$D"
expect_grep '^SERIES +UNIT +COUNT +MEAN +MIN +MAX +P50 +P90 +P95 +P99 +P99\.9$' "$T/out"
expect_grep '^lat_ns +ms +3 +0\.000020 +0\.000010 +0\.000030 +0\.000020 ' "$T/out"
expect_grep '^many +200000 +100000\.5 +1 +200000 ' "$T/out"
expect_grep '^COUNTER +VALUE$' "$T/out"
expect_grep '^total +42$' "$T/out"
grep -q diagnostic "$T/out" && fail "a fold line without diagnostic counters"

# Diagnostic counters that are 0 fold into one line, counted; one that is
# not 0 is shown; --all shows them all; a KEY named is always shown.
G="$T/diag"
"$FILL" "$G" counter:total_samples_issued:u64:3 \
	counter:decode_errors:u64:0 counter:tokenizer_errors:u64:0 \
	counter:events_after_end:u64:0 counter:tracked_duration_ns:u64:1234567890 \
	series:ttft_ns:u64:20000000,120000000,70000500 series:isl:u64:16,512,7 ||
	fail "read_fill failed"
expect_exit 0 metricsd-read --metrics-dir "$G"
expect_grep '^COUNTER +UNIT +VALUE$' "$T/out"
expect_grep '^tracked_duration_ns +ms +1234\.568$' "$T/out"
expect_grep '^total_samples_issued +3$' "$T/out"
expect_grep '^all 3 diagnostic counters are 0 \(--all shows them\)$' "$T/out"
grep -q '^decode_errors' "$T/out" && fail "a zero diagnostic counter is shown"
expect_grep '^ttft_ns +ms +3 +70\.000 +20\.000 +120\.000 ' "$T/out"
expect_grep '^isl +3 +178\.333 +7 +512 ' "$T/out"
expect_exit 0 metricsd-read --metrics-dir "$G" --all
expect_grep '^decode_errors +0$' "$T/out"
expect_grep '^events_after_end +0$' "$T/out"
grep -q 'diagnostic' "$T/out" && fail "--all still folds"
expect_exit 0 metricsd-read --metrics-dir "$G" decode_errors ttft_ns
expect_grep '^decode_errors +0$' "$T/out"
expect_exit 0 metricsd-read --metrics-dir "$G" --raw
expect_grep '^tracked_duration_ns +1234567890$' "$T/out"
expect_grep '^tokenizer_errors +0$' "$T/out"
expect_grep '^ttft_ns +3 +70000166\.667 +20000000 +120000000 ' "$T/out"
grep -q 'UNIT\|diagnostic' "$T/out" && fail "--raw is not the raw table"
"$FILL" "$T/diag2" counter:decode_errors:u64:0 counter:events_after_end:u64:4 \
	counter:tokenizer_errors:u64:0 || fail "read_fill failed"
expect_exit 0 metricsd-read --metrics-dir "$T/diag2"
expect_grep '^events_after_end +4$' "$T/out"
expect_grep '^2 other diagnostic counters are 0 \(--all shows them\)$' "$T/out"
# JSON is raw and complete whatever the table does.
expect_exit 0 metricsd-read --metrics-dir "$G" --json
check_json "$T/out" 'j["decode_errors"] == 0 and j["tracked_duration_ns"] == 1234567890' \
	'j["ttft_ns"]["min"] == 20000000'
echo "ok: table in ms, folded, --all, --raw"

# The series aligned by sample (report's goodput data, sample_good_*):
# left out of the table unless --all or named, with one line saying so;
# shown, their "no value" sentinels (2^64-1, -1) are counted under N/A and
# left out of COUNT and every figure, in the table, JSON and Prometheus
# alike; --values keeps every value as stored.
S="$T/aligned"
"$FILL" "$S" series:sample_latency_ns:u64:5000000,7000000 \
	series:sample_good_latency_ns:u64:5000000,18446744073709551615,7000000 \
	series:sample_good_tpot_e2e_ns:f64:-1,2500000,-1 \
	series:sample_good_ttft_ns:u64:18446744073709551615 ||
	fail "read_fill failed"
expect_exit 0 metricsd-read --metrics-dir "$S"
expect_grep '^SERIES +UNIT +COUNT +MEAN +MIN +MAX ' "$T/out"
expect_grep '^sample_latency_ns +ms +2 +6\.000 +5\.000 +7\.000 ' "$T/out"
expect_grep "^3 series aligned by sample for report's goodput \(sample_good_\*\) not shown \(--all shows them\)$" "$T/out"
grep -q '^sample_good' "$T/out" && fail "an aligned series is shown without --all"
expect_exit 0 metricsd-read --metrics-dir "$S" --all
expect_grep '^SERIES +UNIT +COUNT +N/A +MEAN +MIN +MAX +P50 ' "$T/out"
expect_grep '^sample_good_latency_ns +ms +2 +1 +6\.000 +5\.000 +7\.000 +6\.000 ' "$T/out"
expect_grep '^sample_good_tpot_e2e_ns +ms +1 +2 +2\.500 +2\.500 +2\.500 ' "$T/out"
expect_grep '^sample_good_ttft_ns +ms +0 +1 +- +- ' "$T/out"
expect_grep '^sample_latency_ns +ms +2 +6\.000 +5\.000 ' "$T/out"
grep -q 'not shown' "$T/out" && fail "--all still hides"
expect_exit 0 metricsd-read --metrics-dir "$S" sample_good_latency_ns
expect_grep '^sample_good_latency_ns +ms +2 +1 +6\.000 ' "$T/out"
expect_exit 0 metricsd-read --metrics-dir "$S" --raw
expect_grep '^sample_good_latency_ns +2 +1 +6000000 +5000000 +7000000 ' "$T/out"
expect_exit 0 metricsd-read --metrics-dir "$S" --json
check_json "$T/out" \
	'j["sample_good_latency_ns"]["count"] == 2 and j["sample_good_latency_ns"]["none"] == 1' \
	'j["sample_good_latency_ns"]["sum"] == 12000000 and j["sample_good_latency_ns"]["max"] == 7000000' \
	'j["sample_good_latency_ns"]["mean"] == 6000000 and j["sample_good_latency_ns"]["p99"] == 6980000' \
	'j["sample_good_tpot_e2e_ns"]["count"] == 1 and j["sample_good_tpot_e2e_ns"]["none"] == 2' \
	'j["sample_good_tpot_e2e_ns"]["min"] == 2500000 and j["sample_good_tpot_e2e_ns"]["p50"] == 2500000' \
	'j["sample_good_ttft_ns"]["count"] == 0 and j["sample_good_ttft_ns"]["none"] == 1' \
	'j["sample_good_ttft_ns"]["mean"] is None and j["sample_good_ttft_ns"]["min"] is None' \
	'"none" not in j["sample_latency_ns"] and j["sample_latency_ns"]["count"] == 2'
expect_exit 0 metricsd-read --metrics-dir "$S" --json --values
check_json "$T/out" \
	'j["sample_good_latency_ns"]["values"] == [5000000, 18446744073709551615, 7000000]' \
	'j["sample_good_tpot_e2e_ns"]["values"] == [-1, 2500000, -1]' \
	'j["sample_good_ttft_ns"]["values"] == [18446744073709551615]'
expect_exit 0 metricsd-read --metrics-dir "$S" --prometheus
expect_grep '^metricsd_sample_good_latency_seconds_count\{run="aligned"\} 2$' "$T/out"
expect_grep '^metricsd_sample_good_latency_seconds_sum\{run="aligned"\} 0\.012$' "$T/out"
expect_grep '^metricsd_sample_good_ttft_seconds_count\{run="aligned"\} 0$' "$T/out"
echo "ok: series aligned by sample: hidden, sentinels counted apart"

# --- no store, invalid files, store states --------------------------------
expect_exit 1 metricsd-read --metrics-dir "$T/nowhere"
expect_grep "no store at .*/nowhere \(no data yet\)" "$T/err"
expect_exit 1 metricsd-read --metrics-dir "$T/nowhere" --json
check_json "$T/out" 'j == {"_store": {"dir": j["_store"]["dir"], "final": False, "writer_pid": None, "state": "missing", "incomplete": False, "lost": 0}}'

B="$T/bad"
"$FILL" "$B" series:good:u64:1,2 || fail "read_fill failed"
printf 'this is not a store file, just junk bytes....................' >"$B/junk"
chmod 600 "$B/junk"
expect_exit 1 metricsd-read --metrics-dir "$B" --json
expect_grep "junk" "$T/err"
check_json "$T/out" 'j["good"]["count"] == 2 and "junk" not in j'

A="$T/abandoned"
"$FILL" "$A" --end none counter:c:u64:1 || fail "read_fill failed"
expect_exit 0 metricsd-read --metrics-dir "$A" --json
check_json "$T/out" 'j["_store"]["state"] == "abandoned" and j["_store"]["final"] is False' \
	'j["_store"]["writer_pid"] is None and j["c"] == 1'
I="$T/interrupted"
"$FILL" "$I" --end interrupted counter:c:u64:1 || fail "read_fill failed"
expect_exit 0 metricsd-read --metrics-dir "$I" --json
check_json "$T/out" 'j["_store"]["state"] == "interrupted" and j["_store"]["final"] is False'

# The environment variable names the default store.
expect_exit 0 env METRICSD_METRICS_DIR="$D" metricsd-read --json total
check_json "$T/out" 'j["total"] == 42'

# --- key names equal once invalid UTF-8 becomes U+FFFD -------------------
# Two keys that differ only in such bytes would be one JSON name twice:
# the second is left out with a warning (exit 1), as a clash.
D2="$T/dupstore"
"$FILL" "$D2" "counter:$(printf 'k\376'):u64:1" "counter:$(printf 'k\377'):u64:2" ||
	fail "read_fill failed"
expect_exit 1 metricsd-read --metrics-dir "$D2" --json
expect_grep 'clashes with key' "$T/err"
python3 - "$T/out" <<'EOF' || fail "duplicate JSON names: $(cat "$T/out")"
import json, sys
def pairs(p):
    names = [k for k, _ in p]
    if len(names) != len(set(names)):
        sys.exit("duplicate names %r" % names)
    return dict(p)
j = json.loads(open(sys.argv[1], "rb").read().decode(), object_pairs_hook=pairs)
assert j["k\ufffd"] == 1, j
EOF
echo "ok: keys equal after U+FFFD are not duplicated in JSON"

# --- output errors and usage errors ---------------------------------------
if [ -w /dev/full ]; then
	metricsd-read --metrics-dir "$D" --json >/dev/full 2>"$T/err"
	[ $? -eq 1 ] || fail "writing to /dev/full did not exit 1"
	expect_grep "writing to standard output" "$T/err"
	echo "ok: /dev/full -> 1"
fi
expect_exit 0 metricsd-read --help
expect_grep '^usage: metricsd read \[--metrics-dir DIR\]' "$T/out"
expect_exit 0 metricsd-read -h
expect_exit 2 metricsd-read --values
expect_grep '--values needs --json' "$T/err"
expect_exit 2 metricsd-read --watch 0
expect_exit 2 metricsd-read --watch abc
expect_exit 2 metricsd-read --watch
expect_exit 2 metricsd-read --frobnicate
expect_grep "unknown option '--frobnicate'" "$T/err"
expect_exit 2 metricsd-read --raw --json
expect_grep "--raw is for the table, not with --json" "$T/err"
expect_exit 2 metricsd-read --all --prometheus
expect_grep "--all is for the table, not with --prometheus" "$T/err"
expect_exit 2 metricsd-read --metrics-dir "$D" ../escape
expect_exit 2 metricsd-read --metrics-dir ""
exit 0
