#!/bin/sh
# metricsd aggregate --token-threads with a real tokenizer (Llama 3): token
# counting on worker threads stores exactly what inline counting stores.
#  - one publisher, four subscribers: aggregators counting inline, on one
#    thread, and on two threads with the smallest queue (1 MB), plus a
#    recorder (a queue that is full and makes intake wait is forced in
#    the unit tests, check_aggregator.c); a session with realistic text,
#    prompts as text or token ids or both;
#  - all four stores hold the same values (metricsd read --json --values),
#    final, with token_work_pending 0; aggregate --replay of the recording
#    on two threads (default queue) gives that store too;
#  - a signal while the backlog is counted at the end abandons it, and the
#    store, the exit status, the log and report all say so;
#  - bad --token-threads and --token-queue values are usage errors;
#  - aggregate --replay: a signal while the frame with session.ended is
#    fed abandons the drain, as live.
#
# The data comes from `make deps` (scripts/tokdeps) in $METRICSD_TOKDATA.
. "$(dirname "$0")/lib.sh"

here=$(cd "$(dirname "$0")" && pwd)
tool="python3 $here/rec_tool.py"
DATA=${METRICSD_TOKDATA:-/var/cache/metricsd/tok}
LLAMA3=$DATA/llama3/tokenizer.json

command -v timeout >/dev/null || skip "timeout(1) not installed"
command -v python3 >/dev/null || fail "python3 not installed: run make deps"
[ -f "$LLAMA3" ] || fail "$LLAMA3 missing: run make deps (scripts/tokdeps)"

# Background modes (bg, lib.sh) are killed after 120 s at the latest.
BG_TIMEOUT=120
read_store() {
	metricsd read --metrics-dir "$1" --json --values >"$2" ||
		fail "read $1"
}
same_store() {
	read_store "$1" "$T/sa.json"
	read_store "$2" "$T/sb.json"
	$tool same-store "$T/sa.json" "$T/sb.json" ||
		fail "stores $1 and $2 differ"
	expect_grep '"state":"final"' "$T/sb.json"
}

# 1. Usage errors.
expect_exit 2 metricsd aggregate --connect "ipc://$T/x" --metrics-dir "$T/u" \
    --tokenizer whitespace --token-threads 65
expect_grep "token-threads" "$T/err"
expect_exit 2 metricsd aggregate --connect "ipc://$T/x" --metrics-dir "$T/u" \
    --tokenizer whitespace --token-queue 0
expect_grep "token-queue" "$T/err"
expect_exit 2 metricsd aggregate --connect "ipc://$T/x" --metrics-dir "$T/u" \
    --token-threads 2
expect_grep "token-threads without --tokenizer" "$T/err"
expect_exit 2 metricsd aggregate --connect "ipc://$T/x" --metrics-dir "$T/u" \
    --tokenizer whitespace --token-threads 0 --token-queue 8
expect_grep "token-queue with --token-threads 0" "$T/err"
[ ! -e "$T/u" ] || fail "a usage error created the store"
# --help documents every exit status, 3 (token counts abandoned) too.
expect_exit 0 metricsd aggregate --help
expect_grep "3 values lost \\(refused by the store, token counts failed, samples not" "$T/out"

# 2. The session: synthetic realistic text, with two prompts in three
# turned into text (several scripts, emoji, blanks), a third of them with
# their token ids dropped. (Invalid UTF-8 cannot be written in JSON; the
# unit tests cover it on threads.)
expect_exit 0 metricsd publish --synthetic 150 --synthetic-text mixed \
    --osl 200 --seed 11 --concurrency 24 --error-rate 0.05 --print-json
python3 - "$T/out" "$T/s.jsonl" <<'EOF'
import json, sys
texts = ["Write a function that sorts a list.",
         "Résumé: naïve café — 東京 and Москва, مرحبا, नमस्ते 🙂",
         "  spaces\tand\nnewlines  "]
n = 0
with open(sys.argv[1]) as f, open(sys.argv[2], "w") as out:
    for line in f:
        e = json.loads(line)
        d = e.get("data")
        if e["event_type"] == "sample.issued" and d and d[0] == "PromptData":
            n += 1
            if n % 3 == 0:
                e["data"] = ["PromptData", texts[n // 3 % 3], None]
            elif n % 3 == 1:
                e["data"] = ["PromptData", texts[n % 2], d[2]]
        out.write(json.dumps(e, ensure_ascii=False) + "\n")
EOF
[ $? -eq 0 ] || fail "rewriting the session"

agg="--streaming --tokenizer $LLAMA3"
bg a0 aggregate --connect "ipc://$T/live" --metrics-dir "$T/s0" $agg \
    --token-threads 0
bg a1 aggregate --connect "ipc://$T/live" --metrics-dir "$T/s1" $agg \
    --token-threads 1
bg aq aggregate --connect "ipc://$T/live" --metrics-dir "$T/sq" $agg \
    --token-threads 2 --token-queue 1
bg rec record --connect "ipc://$T/live" --out "$T/r.rec"
expect_exit 0 metricsd publish --bind "ipc://$T/live" --wait-subscribers 4 \
    --batch 16 <"$T/s.jsonl"
for p in a0 a1 aq rec; do
	wait_ok $p
done
expect_grep "2 token threads" "$T/aq.err"
expect_grep "1 token thread\)" "$T/a1.err"
if grep -q "token thread" "$T/a0.err"; then
	fail "--token-threads 0 started threads: $(cat "$T/a0.err")"
fi

read_store "$T/s0" "$T/s0.json"
python3 - "$T/s0.json" <<'EOF' || fail "the inline store lacks token values"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["token_work_pending"] == 0, d["token_work_pending"]
for k in ("osl", "tpot_ns", "isl", "tpot_e2e_ns"):
    assert len(d[k]["values"]) > 50, (k, len(d[k]["values"]))
assert d["tokenizer_errors"] == 0
EOF
for s in s1 sq; do
	same_store "$T/s0" "$T/$s"
	echo "ok: $s (threads) equals the inline store"
done

# 3. aggregate --replay on two threads: the same store again.
expect_exit 0 metricsd aggregate --replay "$T/r.rec" --metrics-dir "$T/sr" \
    $agg --token-threads 2
same_store "$T/s0" "$T/sr"
echo "ok: aggregate --replay on token threads equals the live store"

# 4. The drain at the end: once the session has ended, the aggregator
# says how many counts it waits for; a signal then abandons the rest. The
# drain may finish before the signal lands (an idle machine counts fast),
# so either outcome is accepted, and each is checked against an inline
# aggregator (ai) of the same session: exit 0 with the inline store, value
# for value; or exit 3 with token_work_pending above 0 in the final store,
# a warning naming it, and every token-dependent series a prefix of the
# inline one, with exactly token_work_pending records missing (values are
# applied in event order, so what is abandoned is the tail).
bg ab aggregate --connect "ipc://$T/ab" --metrics-dir "$T/sab" $agg \
    --token-threads 1
bg ai aggregate --connect "ipc://$T/ab" --metrics-dir "$T/sai" $agg \
    --token-threads 0
expect_exit 0 metricsd publish --bind "ipc://$T/ab" --wait-subscribers 2 \
    --synthetic 400 --synthetic-text mixed --osl 1000 --seed 3 --batch 64
n=0
until grep -q "waiting for [0-9]* queued token counts before the store is marked final" \
    "$T/ab.err"; do
	n=$((n + 1))
	[ $n -lt 1200 ] || fail "no drain announced: $(cat "$T/ab.err")"
	kill -0 "$ab" 2>/dev/null || break	# done already: nothing to drain
	sleep 0.05
done
kill -TERM "$ab" 2>/dev/null
wait "$ab"
abrc=$?
wait_ok ai
read_store "$T/sab" "$T/sab.json"
read_store "$T/sai" "$T/sai.json"
expect_grep '"state":"final"' "$T/sab.json"
pending=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token_work_pending"])' "$T/sab.json")
if [ "$abrc" -eq 3 ]; then
	[ "$pending" -gt 0 ] || fail "exit 3 but token_work_pending is 0"
	expect_grep "Terminated: $pending queued token counts abandoned.*token_work_pending = $pending" "$T/ab.err"
	metricsd report --metrics-dir "$T/sab" --json >"$T/rep.json" ||
		fail "report"
	expect_grep '"complete":false' "$T/rep.json"
	expect_grep '"tokens_pending":true' "$T/rep.json"
	python3 - "$T/sai.json" "$T/sab.json" <<'EOF' ||
import json, sys
full, cut = (json.load(open(p)) for p in sys.argv[1:3])
pending = cut["token_work_pending"]
for k in ("isl", "osl", "tpot_ns", "tpot_e2e_ns", "sample_good_tpot_e2e_ns"):
    a, b = full[k]["values"], cut[k]["values"]
    assert b == a[:len(b)], "%s is not a prefix of the inline series" % k
# One isl record per issued sample, one sample_good_tpot_e2e_ns record
# per completion: each is stored or still counted as pending.
missing = (len(full["isl"]["values"]) - len(cut["isl"]["values"]) +
           len(full["sample_good_tpot_e2e_ns"]["values"]) -
           len(cut["sample_good_tpot_e2e_ns"]["values"]))
assert missing == pending, (missing, pending)
for k in ("sample_good_latency_ns", "sample_good_ttft_ns", "ttft_ns"):
    assert full[k] == cut[k], k
EOF
		fail "the abandoned store is not the inline one's prefix"
	echo "ok: a signal during the drain abandoned $pending counts, said so"
else
	[ "$abrc" -eq 0 ] || fail "aggregate exited $abrc: $(cat "$T/ab.err")"
	[ "$pending" -eq 0 ] || fail "exit 0 with token_work_pending $pending"
	$tool same-store "$T/sai.json" "$T/sab.json" ||
		fail "the drained store differs from the inline one"
	echo "ok: the drain finished before the signal, every count stored"
fi

# 5. --replay: a signal that lands after session.ended was read (here:
# while the one frame holding the whole session, session.ended included,
# is still being fed, intake waiting on a full 1 MB queue) abandons the
# drain as it does live: never "the store is marked interrupted" for a
# store marked final, never a signal silently ignored. The wait is seen,
# not timed: the main thread blocked in futex(2) (/proc/PID/syscall) and
# no drain announced yet (a run fed before it was seen waiting is run
# again).
if [ ! -r /proc/self/syscall ]; then
	echo "ok: (skipped: /proc/PID/syscall is not readable here)"
	exit 0
fi
bg rec1 record --connect "ipc://$T/one" --out "$T/one.rec"
expect_exit 0 metricsd publish --bind "ipc://$T/one" --wait-subscribers 1 \
    --synthetic 400 --synthetic-text mixed --osl 1000 --seed 5 --batch 65536
wait_ok rec1
frames=$($tool info "$T/one.rec" | python3 -c 'import json,sys; print(json.load(sys.stdin)["frames"])')
[ "$frames" -eq 1 ] || fail "the session is $frames frames, not one"
python3 - "$T" "$LLAMA3" <<'EOF' || fail "a signal during the last frame of a replay"
import os, signal, subprocess, sys, time

T, tok = sys.argv[1:3]
for attempt in range(5):
    d = "%s/sone%d" % (T, attempt)
    err = open("%s.err" % d, "wb+")
    p = subprocess.Popen(["metricsd", "aggregate", "--replay", T + "/one.rec",
                          "--metrics-dir", d, "--streaming", "--tokenizer",
                          tok, "--token-threads", "1", "--token-queue", "1"],
                         stdout=subprocess.DEVNULL, stderr=err)
    sent = False
    while p.poll() is None:
        try:
            f = open("/proc/%d/syscall" % p.pid).read().split()
        except OSError:
            break
        err.seek(0)
        seen = err.read()
        # Reading (the start-up line is written) and not draining yet.
        if (f[:1] == ["202"] and b"aggregating the recording" in seen and
                b"waiting for" not in seen):
            os.kill(p.pid, signal.SIGTERM)
            sent = True
            break
        time.sleep(0.002)
    rc = p.wait()
    err.seek(0)
    log = err.read().decode(errors="replace")
    if not sent:
        continue	# fed before it was seen waiting: try again
    st = subprocess.run(["metricsd", "read", "--metrics-dir", d, "--json"],
                        capture_output=True, text=True).stdout
    assert '"state":"final"' in st, st
    assert "marked interrupted" not in log, log
    assert rc == 3, (rc, log)
    assert "queued token counts abandoned" in log, log
    print("ok: a signal during the last frame abandoned the drain")
    sys.exit(0)
print("never saw the replay wait on its queue in 5 runs")
sys.exit(1)
EOF
