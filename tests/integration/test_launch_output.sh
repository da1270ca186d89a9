# launch's own output never blocks its loop: with a standard output
# nobody reads, a service flooding it does not stop launch from
# reporting a crash at once; the bytes it could not write are counted
# and reported. And SIGHUP inherited as ignored (nohup) stays ignored.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/launch_lib.sh"

# 1. A FIFO whose only reader (our fd 3) never reads: after 64 KiB, any
# blocking write to it would hang forever.
mkfifo "$T/stalled" || fail "mkfifo"
exec 3<>"$T/stalled"
cat >"$T/s.conf" <<EOF2
[launch]
ready_timeout = 60s
[service flood]
shell = yes
ready = notify
command = head -c 20000000 /dev/zero | tr '\\\\0' x | fold -w 99; touch $T/flooded; exec sleep 300
[service crash]
shell = yes
ready = notify
command = while [ ! -e $T/flooded ]; do sleep 0.01; done; echo crashing >&2; exit 5
EOF2
t0=$(now_ms)
timeout 50 metricsd launch "$T/s.conf" -- true >"$T/stalled" 2>"$T/err"
rc=$?
el=$(($(now_ms) - t0))
exec 3>&-
[ "$rc" -eq 1 ] || fail "launch exited $rc (124: it hung): $(cat "$T/err")"
[ -e "$T/flooded" ] || fail "the flood did not finish"
expect_grep "service 'crash' \\(pid [0-9]+\\) exited with status 5 during start-up" "$T/err"
expect_grep '^crash: crashing$' "$T/err"
expect_grep "dropped [0-9]+ bytes of service output to standard output: its reader did not keep up" "$T/err"
dropped=$(sed -n 's/.*dropped \([0-9]*\) bytes.*/\1/p' "$T/err")
[ "$dropped" -gt 10000000 ] || fail "only $dropped bytes dropped of 20 MB"
[ "$el" -lt 30000 ] || fail "took $el ms"
echo "ok: stalled stdout: crash reported, $dropped bytes dropped, $el ms"

# 2. A socket (which /proc/self/fd cannot reopen: ENXIO) as standard
# output, whose peer never reads: launch still gives up on its service
# at its ready_timeout, and leaves the socket's file description as it
# was (blocking: the caller and COMMAND share it).
command -v python3 >/dev/null 2>&1 || skip "python3 missing"
cat >"$T/sock.conf" <<EOF2
[launch]
ready_timeout = 1s
kill_grace = 300ms
[service spam]
command = yes SPAMSPAMSPAMSPAMSPAMSPAMSPAMSPAMSPAMSPAMSPAMSPAMSPAMSPAM
ready = notify
EOF2
out=$(python3 "$(dirname "$0")/stalled_stdout.py" socket "$T/serr" \
    metricsd launch "$T/sock.conf" -- true) || fail "socket stdout: $out"
rc=${out% *}
el=${out#* }
[ "$rc" -eq 1 ] || fail "launch exited $rc: $(cat "$T/serr")"
expect_grep "dropped" "$T/serr"
expect_grep "standard output" "$T/serr"
[ "$el" -le 10000 ] || fail "launch took $el ms"
echo "ok: socket stdout never read: launch exited $rc in $el ms, socket left blocking"

# 3. Launch's own messages take the same queue as service lines on a
# standard error (here both outputs, 2>&1) that stalls: they are never
# spliced into a half-written service line, and those it writes while
# the reader stalls (COMMAND's exit status) and at exit (the drop count)
# still reach a reader that comes back before launch's final deadline.
cat >"$T/splice.conf" <<EOF2
[launch]
exit_timeout = 1ms
[service flood]
shell = yes
ready = none
command = yes $(printf '%099d' 0 | tr 0 x) | head -n 200000 >&2; touch $T/spliceflooded; exec sleep 300
EOF2
( metricsd launch "$T/splice.conf" -- sh -c \
	'while [ ! -e "$1/spliceflooded" ]; do sleep 0.01; done; touch "$1/cmddone"; exit 3' sh "$T"
  echo "$?" >"$T/src" ) 2>&1 |
	{ wait_until 30 test -e "$T/cmddone"; cat >"$T/all"; }
[ "$(cat "$T/src")" = 3 ] || fail "launch exited $(cat "$T/src"): $(grep -av '^flood: ' "$T/all")"
grep -av '^flood: ' "$T/all" >"$T/own"
expect_grep '^metricsd launch: command \(pid [0-9]+\) exited with status 3$' "$T/own"
expect_grep '^metricsd launch: dropped [0-9]+ bytes of service output to standard error: its reader did not keep up$' "$T/own"
bad=$(grep -aEv '^(flood: x{99}|metricsd launch: .*)$' "$T/all" | head -c 300)
[ -z "$bad" ] || fail "spliced or broken lines: $bad"
has '.metricsd launch:' "$T/all" && fail "a message spliced into a line: $(grep '.metricsd launch:' "$T/all" | head -c 300)"
lines=$(grep -c '^flood: ' "$T/all")
echo "ok: own messages queued with the flood: none spliced, $lines flood lines, exit status and drop count delivered"

# 4. nohup: SIGHUP ignored when launch starts stays ignored, for launch
# and for its services; a later SIGTERM still stops everything.
cat >"$T/h.conf" <<EOF2
[service a]
shell = yes
ready = none
command = grep -E '^Sig(Ign|Blk):' /proc/self/status > $T/sigign.tmp && mv $T/sigign.tmp $T/sigign; exec sleep 300
EOF2
: >"$T/lout"
: >"$T/lerr"
sh -c 'trap "" HUP; exec metricsd launch "$1"' sh "$T/h.conf" >"$T/lout" 2>"$T/lerr" &
LPID=$!
wait_until 20 test -s "$T/sigign" || fail "service did not start: $(cat "$T/lerr")"
mask=$(sed -n 's/^SigIgn:[[:space:]]*//p' "$T/sigign")
blk=$(sed -n 's/^SigBlk:[[:space:]]*//p' "$T/sigign")
[ $((0x$mask & 1)) -eq 1 ] || fail "service does not ignore SIGHUP (SigIgn $mask)"
# SIGPIPE (bit 12), which launch ignores, is the default again; nothing
# is blocked.
[ $((0x$mask & 0x1000)) -eq 0 ] || fail "service ignores SIGPIPE (SigIgn $mask)"
[ $((0x$blk)) -eq 0 ] || fail "service starts with signals blocked (SigBlk $blk)"
kill -HUP "$LPID"
kill -TERM "$LPID"
finish_launch
has 'SIGHUP' "$T/lerr" && fail "an ignored SIGHUP was acted on: $(cat "$T/lerr")"
expect_grep 'SIGTERM: forwarding it to 1 services' "$T/lerr"
echo "ok: SIGHUP ignored under nohup, for launch and its service"

# 5. Without nohup, SIGHUP still stops everything, and services get the
# default disposition back.
rm -f "$T/sigign"
start_launch "$T/h.conf"
wait_until 20 test -s "$T/sigign" || fail "service did not start: $(cat "$T/lerr")"
mask=$(sed -n 's/^SigIgn:[[:space:]]*//p' "$T/sigign")
[ $((0x$mask & 1)) -eq 0 ] || fail "service ignores SIGHUP (SigIgn $mask)"
[ $((0x$mask & 0x1000)) -eq 0 ] || fail "service ignores SIGPIPE (SigIgn $mask)"
kill -HUP "$LPID"
finish_launch
expect_grep 'SIGHUP: stopping 1 services with SIGTERM' "$T/lerr"
echo "ok: SIGHUP stops launch when not ignored"
exit 0
