#!/bin/sh
# metricsd demo: an aggregator (started by `metricsd launch` as a ready =
# zmq service) receives a synthetic benchmark session from `metricsd
# publish`, then `metricsd read` shows the metrics it computed and
# `metricsd report` the benchmark summary. Meanwhile `metricsd serve`
# shows the store on its dashboard page, whose URL is printed first.
#
#   make demo                  (sets METRICSD_BIN to the built binary)
#   METRICSD_BIN=metricsd sh examples/demo.sh
#
# Knobs (environment): DEMO_SAMPLES (default 2000), DEMO_CONCURRENCY (32),
# DEMO_ERROR_RATE (0.05), DEMO_SEED (42), DEMO_OSL (400: tokens of mixed
# prose and code per answer), DEMO_TOKENIZER (default Llama 3's
# tokenizer.json as `make deps` fetches it: $METRICSD_TOKDATA/llama3/,
# METRICSD_TOKDATA defaulting to /var/cache/metricsd/tok; any --tokenizer
# value works), DEMO_KEEP=1 to keep the store, DEMO_LISTEN (the
# dashboard's ADDR:PORT, default 127.0.0.1:0: a free port), DEMO_HOLD (5:
# seconds the dashboard stays up after the report; 0 not at all; forever:
# until ^C; make demo HOLD=N sets it).
#
# Everything lives in a private temporary directory: the sockets and the
# store (not the default /dev/shm/metricsd-UID, so the demo never touches
# a store you use). It is removed at the end unless DEMO_KEEP=1.
set -eu

BIN=${METRICSD_BIN:-metricsd}
N=${DEMO_SAMPLES:-2000}
C=${DEMO_CONCURRENCY:-32}
E=${DEMO_ERROR_RATE:-0.05}
SEED=${DEMO_SEED:-42}
OSL=${DEMO_OSL:-400}
DEMO_TOKENIZER=${DEMO_TOKENIZER:-${METRICSD_TOKDATA:-/var/cache/metricsd/tok}/llama3/tokenizer.json}
here=$(cd "$(dirname "$0")" && pwd)

HOLD=${DEMO_HOLD:-5}
case $HOLD in
forever) ;;
*[!0-9]* | '') echo "DEMO_HOLD: '$HOLD' is not a number of seconds or forever" >&2; exit 2 ;;
esac

DEMO_DIR=$(mktemp -d /tmp/metricsd-demo.XXXXXX)
export DEMO_DIR DEMO_TOKENIZER METRICSD_BIN=$BIN
SERVE_PID= HOLD_PID=
# At exit: the dashboard server and a hold stop; the store goes unless kept.
cleanup() {
	[ -n "$HOLD_PID" ] && kill "$HOLD_PID" 2>/dev/null
	if [ -n "$SERVE_PID" ]; then
		kill "$SERVE_PID" 2>/dev/null
		wait "$SERVE_PID" 2>/dev/null
	fi
	if [ "${DEMO_KEEP:-0}" = 1 ]; then
		echo "store kept in $DEMO_DIR/metrics"
	else
		rm -rf "$DEMO_DIR"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== metricsd demo: $N synthetic samples, $C in flight, error rate $E, seed $SEED"
echo "== answers: about $OSL tokens of mixed prose and code each, counted with --tokenizer $DEMO_TOKENIZER"
# The dashboard first, so the page shows the session as it runs. serve
# writes its address file (atomically) once it listens.
"$BIN" serve --listen "${DEMO_LISTEN:-127.0.0.1:0}" --metrics-dir "$DEMO_DIR/metrics" \
    --address-file "$DEMO_DIR/serve.addr" 2>"$DEMO_DIR/serve.log" &
SERVE_PID=$!
n=0
while [ ! -s "$DEMO_DIR/serve.addr" ]; do
	if ! kill -0 "$SERVE_PID" 2>/dev/null || [ $n -ge 200 ]; then
		echo "== the demo failed: metricsd serve did not start: $(cat "$DEMO_DIR/serve.log")" >&2
		exit 1
	fi
	n=$((n + 1))
	sleep 0.05 # waiting for the address file, written once serve listens
done
case $HOLD in
forever) until="until ^C" ;;
0) until="while the demo runs" ;;
*) until="until $HOLD s after the report: make demo HOLD=N, HOLD=forever" ;;
esac
echo "== dashboard: http://$(cat "$DEMO_DIR/serve.addr")/ (metricsd serve; up $until)"
echo "== launch: aggregator service (ready = zmq), then the publisher as the benchmark"
# The launcher starts the aggregator and waits for its ready-check, which
# it sends only once its store exists and its SUB socket is connected.
# Then it runs the publisher, which also waits until the aggregator's
# subscription has arrived (--wait-subscribers 1), so no event is lost.
# A pipeline's status is tee's: launch's own goes through a file.
{
	"$BIN" launch "$here/demo.conf" -- \
	    "$BIN" publish --bind "ipc://$DEMO_DIR/events" --wait-subscribers 1 \
	    --synthetic "$N" --concurrency "$C" --error-rate "$E" --seed "$SEED" \
	    --synthetic-text mixed --osl "$OSL" --batch 16 2>&1 && rc=0 || rc=$?
	echo "$rc" >"$DEMO_DIR/launch.rc"
} | tee "$DEMO_DIR/launch.log"
rc=$(cat "$DEMO_DIR/launch.rc")
if [ "$rc" -ne 0 ]; then
	echo "== the demo failed: metricsd launch exited $rc (see above)" >&2
	exit "$rc"
fi

echo
echo "== metricsd read --metrics-dir $DEMO_DIR/metrics"
"$BIN" read --metrics-dir "$DEMO_DIR/metrics"

failed=$(sed -n 's/.*completed, \([0-9]*\) failed.*/\1/p' "$DEMO_DIR/launch.log" | tail -n 1)
cat <<TXT

== What to check (the synthetic session is described in metricsd(1), publish):
- total_samples_issued = tracked_samples_issued = total_samples_completed
  = tracked_samples_completed = $N (every sample is issued inside the one
  tracking window and completes); total_samples_failed = ${failed:-?}, the
  failures the publisher reported above (about $E x $N).
- ttft_ns and osl have one value per sample that did not fail
  ($N - ${failed:-?}); tpot_ns a few less (a one-chunk answer has no text
  after its first chunk); isl and sample_latency_ns one per sample ($N).
- ttft_ns is uniform in 20-120 ms: mean about 70 ms, p50 about 70 ms.
- chunk_delta_ns is uniform in 5-30 ms: mean about 17.5 ms.
- isl is uniform in 16-512 prompt token ids: mean about 264.
- osl: each answer's tokens, as the tokenizer counts them (add_special_tokens
  off, as Hugging Face tokenizers does for OSL): answers are written to a
  length drawn in 3/4..5/4 of $OSL tokens and counted exactly, so a little
  wider than that; mean about $OSL (with Llama 3's tokenizer).
- tpot_ns: time per output token after the first chunk, (completion time -
  first chunk time) / tokens of the text after the first chunk: the
  synthetic answer streams 1-16 chunks 5-30 ms apart, so a fraction of a
  millisecond a token.
- sample_latency_ns: TTFT + (chunks - 1) x chunk delta, mean about 200 ms
  (failed samples complete after 1-50 ms and pull it down a little).
- tracked_duration_ns is a little less than total_duration_ns, about
  $N / $C x 0.2 s of the publisher's (synthetic) clock, not wall time.
- tokenizer_errors and tokenizer_invalid_utf8 are 0: every answer was
  counted, and none held invalid UTF-8 (the table folds the diagnostic
  counters that are 0 into one line; read --all shows them).
- The table shows keys ending in _ns in ms (its UNIT column); read --raw
  and read --json give nanoseconds.
TXT

echo
echo "== OSL and TPOT from the tokenizer ($DEMO_TOKENIZER):"
echo "== osl = output tokens per answer; tpot_ns = time per output token after the first chunk, in ms"
"$BIN" read --metrics-dir "$DEMO_DIR/metrics" osl tpot_ns

echo
echo "== The benchmark summary: metricsd report --slo ttft=100ms --slo latency=300ms"
echo "== (times in ms; goodput = samples meeting both SLOs; see metricsd(1), report)"
"$BIN" report --metrics-dir "$DEMO_DIR/metrics" --slo ttft=100ms --slo latency=300ms

# Keep the dashboard up (quietly: the report stays the last thing shown).
# A sleep in the background and wait, so that ^C ends it at once.
case $HOLD in
forever) while :; do sleep 3600 & HOLD_PID=$!; wait "$HOLD_PID"; done ;;
0) ;;
*) sleep "$HOLD" & HOLD_PID=$!; wait "$HOLD_PID" ;;
esac
HOLD_PID=
