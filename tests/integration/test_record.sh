# metricsd record and publish --replay end to end, through real sockets:
# a recording replayed into aggregate gives the store of the live run,
# on random synthetic sessions in single and batch frames; --jsonl gives
# the lines publish reads; aggregate --replay gives that store too,
# straight from the file; pacing by receive times; cut, foreign and
# newer recordings; SIGTERM; readiness; a full disk (root only).
. "$(dirname "$0")/lib.sh"

H=$METRICSD_HELPERS
here=$(cd "$(dirname "$0")" && pwd)
tool="python3 $here/rec_tool.py"
for h in recvframes readywait; do
	[ -x "$H/$h" ] || skip "helper $h not built"
done
command -v python3 >/dev/null || skip "python3 not installed"
command -v timeout >/dev/null || skip "timeout(1) not installed"

# same_store A B: the two stores hold the same values.
same_store() {
	metricsd read --metrics-dir "$1" --json --values >"$T/sa.json" ||
		fail "read $1"
	metricsd read --metrics-dir "$2" --json --values >"$T/sb.json" ||
		fail "read $2"
	$tool same-store "$T/sa.json" "$T/sb.json" ||
		fail "stores $1 and $2 differ"
	expect_grep '"state":"final"' "$T/sb.json"
}

# 1. Live: aggregate, record and record --jsonl subscribe to one publisher.
# Replay: the recording into a fresh aggregate. The stores are equal, on
# random seeds, in single frames and batch frames.
seed0=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
echo "seeds from $seed0"
n=0
for batch in 1 16 1 64; do
	n=$((n + 1))
	seed=$((seed0 + n))
	bg agg aggregate --connect "ipc://$T/live$n" --metrics-dir "$T/a$n" \
	    --streaming --tokenizer whitespace
	bg rec record --connect "ipc://$T/live$n" --out "$T/r$n.rec"
	bg recj record --connect "ipc://$T/live$n" --out "$T/r$n.jsonl" --jsonl
	expect_exit 0 metricsd publish --bind "ipc://$T/live$n" \
	    --wait-subscribers 3 --synthetic 300 --seed "$seed" \
	    --concurrency 16 --error-rate 0.05 --warmup 10 --batch "$batch"
	wait_ok agg
	wait_ok rec
	wait_ok recj
	expect_grep "session ended after [0-9]+ frames" "$T/rec.err"
	[ "$(stat -c %a "$T/r$n.rec")" = 600 ] || fail "recording not 0600"
	$tool info "$T/r$n.rec" >"$T/info"
	expect_grep '"version": 1, "header_size": 64, "wire": 1' "$T/info"
	expect_grep '"whole": true' "$T/info"

	bg agg aggregate --connect "ipc://$T/rep$n" --metrics-dir "$T/b$n" \
	    --streaming --tokenizer whitespace
	expect_exit 0 metricsd publish --bind "ipc://$T/rep$n" \
	    --wait-subscribers 1 --replay "$T/r$n.rec" --speed max
	wait_ok agg
	expect_grep "replayed [0-9]+ frames" "$T/err"
	same_store "$T/a$n" "$T/b$n"
	echo "ok: seed $seed batch $batch: replayed store equals the live one"

	# aggregate --replay: straight from the file, no socket, same store.
	expect_exit 0 metricsd aggregate --replay "$T/r$n.rec" \
	    --metrics-dir "$T/d$n" --streaming --tokenizer whitespace
	expect_grep "session ended after $($tool info "$T/r$n.rec" |
	    sed 's/.*"frames": \([0-9]*\).*/\1/') frames" "$T/err"
	same_store "$T/a$n" "$T/d$n"
	echo "ok: seed $seed batch $batch: aggregate --replay equals the live store"

	# The replayed frames are the recorded ones, byte for byte.
	frames=$($tool info "$T/r$n.rec" | sed 's/.*"frames": \([0-9]*\).*/\1/')
	"$H/recvframes" "ipc://$T/cmp$n" "$frames" >"$T/got.hex" &
	rv=$!
	expect_exit 0 metricsd publish --bind "ipc://$T/cmp$n" \
	    --wait-subscribers 1 --replay "$T/r$n.rec" --speed max
	wait $rv || fail "recvframes"
	$tool frames "$T/r$n.rec" >"$T/want.hex"
	cmp -s "$T/want.hex" "$T/got.hex" || fail "replayed frames differ"

	# --jsonl: the events as publish --print-json writes them, and
	# publish < FILE aggregates to the same store.
	expect_exit 0 metricsd publish --print-json --synthetic 300 \
	    --seed "$seed" --concurrency 16 --error-rate 0.05 --warmup 10
	cmp -s "$T/out" "$T/r$n.jsonl" || fail "record --jsonl differs from the events"
	bg agg aggregate --connect "ipc://$T/js$n" --metrics-dir "$T/c$n" \
	    --streaming --tokenizer whitespace
	expect_exit 0 metricsd publish --bind "ipc://$T/js$n" \
	    --wait-subscribers 1 <"$T/r$n.jsonl"
	wait_ok agg
	same_store "$T/a$n" "$T/c$n"
	echo "ok: seed $seed batch $batch: --jsonl replays through stdin"
done

# 2. Pacing: frames retimed to span 2 s. --speed 1 takes the recorded
# time, --speed 4 a quarter, max no time at all (no subscriber needed:
# the XPUB socket drops what nobody subscribed to). The upper bounds
# leave room for a slow start (ASan, a loaded CI): 1.5 s over a quarter,
# and half the span for max; they still tell the speeds apart.
bg rec record --connect "ipc://$T/small" --out "$T/small.rec"
expect_exit 0 metricsd publish --bind "ipc://$T/small" --wait-subscribers 1 \
    --synthetic 1 --seed 3
wait_ok rec
k=$($tool info "$T/small.rec" | sed 's/.*"frames": \([0-9]*\).*/\1/')
[ "$k" -ge 4 ] || fail "small recording has $k frames"
step=$((2000000000 / (k - 1)))
$tool retime "$T/small.rec" "$step" "$T/paced.rec"
ms() { echo $(($(date +%s%N) / 1000000)); }
for speed in 1 4 max; do
	t0=$(ms)
	expect_exit 0 metricsd publish --bind "ipc://$T/pace" \
	    --replay "$T/paced.rec" --speed "$speed" --linger 0
	dt=$(($(ms) - t0))
	echo "speed $speed: $dt ms for 2000 ms recorded"
	case $speed in
	1) [ "$dt" -ge 2000 ] || fail "--speed 1 took $dt ms < 2000" ;;
	4) [ "$dt" -ge 500 ] && [ "$dt" -lt 2000 ] ||
		fail "--speed 4 took $dt ms, not 500..2000" ;;
	max) [ "$dt" -lt 1000 ] || fail "--speed max took $dt ms" ;;
	esac
done

# 3. A recording cut short: the whole frames before the cut are sent,
# byte for byte, and the cut is reported with its offset. One cut of each
# kind (rec_tool.py cuts), at random frames and offsets within the kind:
# inside the first frame, inside a frame header, right after a header,
# inside a payload, one byte short of the end. A file that ends right
# after a frame is not cut: its frames are replayed, exit 0, and the
# store is interrupted for want of session.ended.
size=$(stat -c %s "$T/r2.rec")
cseed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
cuts=$($tool cuts "$T/r2.rec" "$cseed") || fail "rec_tool.py cuts"
echo "cuts from seed $cseed: $(echo $cuts)"
i=0
for c in $cuts; do
	i=$((i + 1))
	kind=${c%%:*} off=${c#*:}
	st=1
	[ "$kind" = boundary ] && st=0
	whole=$($tool cut "$T/r2.rec" "$off" "$T/cut.rec")
	if [ "$whole" = 0 ]; then
		# nothing whole is left, so there is nothing to receive and
		# publish is not told to wait for a subscriber
		expect_exit $st metricsd publish --bind "ipc://$T/cut$i" \
		    --replay "$T/cut.rec" --speed max --linger 0
		: >"$T/got.hex"
	else
		"$H/recvframes" "ipc://$T/cut$i" "$whole" >"$T/got.hex" &
		rv=$!
		expect_exit $st metricsd publish --bind "ipc://$T/cut$i" \
		    --wait-subscribers 1 --replay "$T/cut.rec" --speed max
		wait $rv || fail "recvframes after a cut at $off ($kind)"
	fi
	$tool frames "$T/r2.rec" "$whole" >"$T/want.hex"
	cmp -s "$T/want.hex" "$T/got.hex" ||
		fail "cut at $off ($kind): the $whole whole frames were not sent as recorded"
	if [ $st = 1 ]; then
		expect_grep "cut.rec: truncated at byte $off .*the $whole whole frames before it were read and sent" "$T/err"
	else
		expect_grep "replayed $whole frames from .*cut.rec" "$T/err"
		grep -q truncated "$T/err" && fail "a file ending after a frame reported as cut: $(cat "$T/err")"
	fi
	# aggregate --replay: the whole frames are aggregated, the cut is
	# reported, the store is marked interrupted.
	expect_exit $st metricsd aggregate --replay "$T/cut.rec" \
	    --metrics-dir "$T/cutm$i"
	if [ $st = 1 ]; then
		expect_grep "cut.rec: truncated at byte $off .*the $whole whole frames before it were read and aggregated; the store is marked interrupted" "$T/err"
	else
		expect_grep "cut.rec: the recording ends without session.ended; the store is marked interrupted" "$T/err"
	fi
	expect_grep "stopped after $whole frames" "$T/err"
	metricsd read --metrics-dir "$T/cutm$i" --json >"$T/cut.json" ||
		fail "read the store of a cut replay"
	expect_grep '"state":"interrupted"' "$T/cut.json"
	echo "ok: $kind: cut at byte $off of $size: $whole whole frames replayed"
done

# 4. Foreign and newer files: clear messages, nothing sent.
expect_exit 1 metricsd publish --bind "ipc://$T/bad" --replay "$T/r1.jsonl"
expect_grep "r1.jsonl: not a metricsd recording \(bad magic\)" "$T/err"
expect_grep "looks like JSON lines" "$T/err"
$tool set "$T/r1.rec" version 2 "$T/v2.rec"
expect_exit 1 metricsd publish --bind "ipc://$T/bad" --replay "$T/v2.rec"
expect_grep "v2.rec: recording format version 2 is newer than this metricsd reads \(1\)" "$T/err"
$tool set "$T/r1.rec" magic MTRDKEY1 "$T/magic.rec"
expect_exit 1 metricsd publish --bind "ipc://$T/bad" --replay "$T/magic.rec"
expect_grep "magic.rec: not a metricsd recording \(bad magic\)" "$T/err"
expect_exit 1 metricsd publish --bind "ipc://$T/bad" --replay "$T/missing.rec"
expect_grep "missing.rec: No such file" "$T/err"
expect_exit 1 metricsd aggregate --replay "$T/v2.rec" --metrics-dir "$T/badm"
expect_grep "v2.rec: recording format version 2 is newer than this metricsd reads \(1\)" "$T/err"
expect_exit 1 metricsd aggregate --replay "$T/r1.jsonl" --metrics-dir "$T/badm"
expect_grep "r1.jsonl: not a metricsd recording \(bad magic\)" "$T/err"

# 5. SIGTERM: the events of a session without its end, then SIGTERM. The
# file holds whole frames only, a prefix of what was sent.
grep -v session.ended "$T/r1.jsonl" >"$T/noend.jsonl"
bg rec record --connect "ipc://$T/term" --out "$T/term.rec"
"$H/recvframes" "ipc://$T/term" "$(wc -l <"$T/noend.jsonl")" >"$T/sent.hex" &
rv=$!
expect_exit 0 metricsd publish --bind "ipc://$T/term" --wait-subscribers 2 \
    <"$T/noend.jsonl"
wait $rv || fail "recvframes"
kill -TERM "$rec"
wait_ok rec
expect_grep "stopping; the recording ends at the last frame received" "$T/rec.err"
$tool info "$T/term.rec" >"$T/info"
expect_grep '"whole": true' "$T/info"
$tool frames "$T/term.rec" >"$T/term.hex"
head -n "$(wc -l <"$T/term.hex")" "$T/sent.hex" | cmp -s - "$T/term.hex" ||
	fail "after SIGTERM the recording is not a prefix of what was sent"
echo "ok: SIGTERM left $(wc -l <"$T/term.hex") whole frames"

# 6. Readiness: signalled once the socket and the file exist.
mkfifo "$T/rfifo"
"$H/readywait" "ipc://$T/ready" 7 >"$T/rfifo" &
rw=$!
exec 3<"$T/rfifo"
read -r line <&3
[ "$line" = bound ] || fail "readywait: $line"
mkdir -m 700 "$T/sock"
bg rec record --socket-dir "$T/sock" --socket-name ev --out "$T/ready.rec" \
    --ready-endpoint "ipc://$T/ready" --readiness-id 7
read -r line <&3
[ "$line" = "ready 7" ] || fail "readiness not received: $line"
wait $rw || fail "readywait failed"
[ -f "$T/ready.rec" ] || fail "no recording at readiness"
expect_exit 0 metricsd publish --bind "ipc://$T/sock/ev" --wait-subscribers 1 \
    --synthetic 5
wait_ok rec
echo "ok: readiness after the file"

# 7. Usage and refusals.
expect_exit 2 metricsd record --connect "ipc://$T/x"
expect_grep "out FILE is required" "$T/err"
expect_exit 2 metricsd record --out "$T/x.rec"
expect_exit 2 metricsd publish --bind "ipc://$T/x" --speed 2
expect_exit 2 metricsd publish --bind "ipc://$T/x" --replay "$T/r1.rec" --synthetic 3
expect_exit 2 metricsd aggregate --replay "$T/r1.rec" --connect "ipc://$T/x"
expect_grep "replay and --connect exclude each other" "$T/err"
expect_exit 1 metricsd record --connect "ipc://$T/x" --out "$T/r1.rec"
expect_grep "r1.rec: already exists; not replacing it \(--force replaces it\)" "$T/err"
ln -s "$T/elsewhere" "$T/link.rec"
expect_exit 1 metricsd record --connect "ipc://$T/x" --out "$T/link.rec" --force
expect_grep "link.rec: is a symlink" "$T/err"
[ ! -e "$T/elsewhere" ] || fail "followed a symlink"
expect_exit 1 metricsd record --connect "bogus://x" --out "$T/never.rec"
[ ! -e "$T/never.rec" ] || fail "a bad endpoint left a file"

# 8. A full disk (root: a 256 KiB tmpfs in a private mount namespace): a
# clear error naming the file, and a file of whole frames only.
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then
	echo "skip: full disk part: needs root and unshare(1)"
	exit 0
fi
mkdir -m 700 "$T/full"
timeout -s KILL 60 unshare -m sh -c '
	mount --make-rprivate / && mount -t tmpfs -o size=256k tmpfs "$1" || exit 99
	metricsd record --connect "ipc://$2/fullev" --out "$1/r.rec" 2>"$2/full.err"
	echo $? >"$2/full.rc"
	cp "$1/r.rec" "$2/full.rec"' sh "$T/full" "$T" &
un=$!
expect_exit 0 metricsd publish --bind "ipc://$T/fullev" --wait-subscribers 1 \
    --synthetic 2000 --seed 4
wait $un
[ "$(cat "$T/full.rc")" = 1 ] || fail "record on a full disk exited $(cat "$T/full.rc"): $(cat "$T/full.err")"
cat "$T/full.err"
expect_grep "full/r.rec: writing: No space left on device; the file ends at its last whole frame, byte [0-9]+ \([0-9]+ frames recorded" "$T/full.err"
$tool info "$T/full.rec" >"$T/info"
expect_grep '"whole": true' "$T/info"
got=$($tool info "$T/full.rec" | sed 's/.*"frames": \([0-9]*\).*/\1/')
expect_grep "\($got frames recorded" "$T/full.err"
echo "ok: full disk: $got whole frames kept"
