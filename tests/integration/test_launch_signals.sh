# metricsd launch and signals: SIGTERM/SIGINT are forwarded to every
# service and the command; a service ignoring SIGTERM is killed after the
# grace period and named; a second signal kills at once; a SIGCHLD
# inherited as ignored is reset, SIGINT/SIGTERM/SIGHUP inherited as
# blocked are unblocked.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/launch_lib.sh"

# ---- SIGTERM while supervising (no COMMAND).
cat >"$T/s.conf" <<EOF2
[launch]
kill_grace = 1
[service polite]
command = $SVC --zmq --pidfile $T/polite.pid
[service stubborn]
command = $SVC --zmq --ignore-term --pidfile $T/stubborn.pid --child-pidfile $T/child.pid
EOF2
start_launch "$T/s.conf"
wait_until 20 has 'all 2 services ready' "$T/lerr" || fail "not ready: $(cat "$T/lerr")"
t0=$(now_ms)
kill -TERM "$LPID"
finish_launch
t1=$(now_ms)
[ "$LRC" -eq 1 ] || fail "launch exited $LRC, expected 1 (a service had to be killed): $(cat "$T/lerr")"
has '^metricsd launch: SIGTERM: forwarding it to 2 services$' "$T/lerr" || fail "no forwarding message: $(cat "$T/lerr")"
# The polite one got the forwarded SIGTERM (its handler says so).
has '^polite: got SIGTERM, exiting$' "$T/lout" || fail "polite did not get SIGTERM: $(cat "$T/lout")"
has "^metricsd launch: service 'polite' \\(pid $(cat "$T/polite.pid")\\) exited with status 0$" "$T/lerr" || fail "polite exit not reported: $(cat "$T/lerr")"
has "^metricsd launch: service 'stubborn' \\(pid $(cat "$T/stubborn.pid")\\) still running 1.0 s after being asked to stop; killing it with SIGKILL$" "$T/lerr" ||
	fail "stubborn kill not reported: $(cat "$T/lerr")"
[ $((t1 - t0)) -ge 900 ] || fail "stubborn killed after $((t1 - t0)) ms, before the 1 s grace"
# The stubborn service's child (same group, also ignoring SIGTERM) died too.
wait_gone 10 "$(cat "$T/polite.pid")" "$(cat "$T/stubborn.pid")" "$(cat "$T/child.pid")"
echo "ok: SIGTERM forwarded; stubborn group killed after grace ($((t1 - t0)) ms)"

# ---- SIGINT with a COMMAND: the command gets it too, its status wins.
rm -f "$T"/*.pid
cat >"$T/c.conf" <<EOF2
[launch]
kill_grace = 5
[service polite]
command = $SVC --zmq --pidfile $T/polite.pid
EOF2
cat >"$T/cmd.sh" <<'SH'
#!/bin/sh
trap 'echo "command got INT"; exit 42' INT
echo $$ > "$1.tmp" && mv "$1.tmp" "$1"
while :; do sleep 0.05; done
SH
chmod +x "$T/cmd.sh"
start_launch "$T/c.conf" -- "$T/cmd.sh" "$T/cmd.pid"
wait_until 20 test -s "$T/cmd.pid" || fail "command did not start: $(cat "$T/lerr")"
kill -INT "$LPID"
finish_launch
[ "$LRC" -eq 42 ] || fail "launch exited $LRC, expected the command's 42: $(cat "$T/lerr")"
has '^metricsd launch: SIGINT: forwarding it to 1 services and the command$' "$T/lerr" || fail "$(cat "$T/lerr")"
has '^command got INT$' "$T/lout" || fail "command did not get SIGINT: $(cat "$T/lout")"
wait_gone 10 "$(cat "$T/polite.pid")" "$(cat "$T/cmd.pid")"
echo "ok: SIGINT forwarded to services and command; command status 42 kept"

# ---- SIGHUP means stop: the services get SIGTERM; a clean stop is 0.
rm -f "$T"/*.pid
start_launch "$T/c.conf"
wait_until 20 has 'all 1 services ready' "$T/lerr" || fail "not ready: $(cat "$T/lerr")"
kill -HUP "$LPID"
finish_launch
[ "$LRC" -eq 0 ] || fail "launch exited $LRC, expected 0: $(cat "$T/lerr")"
has '^metricsd launch: SIGHUP: stopping 1 services with SIGTERM$' "$T/lerr" || fail "$(cat "$T/lerr")"
has '^polite: got SIGTERM, exiting$' "$T/lout" || fail "polite did not get SIGTERM"
echo "ok: SIGHUP stops with SIGTERM, exit 0"

# ---- SIGTERM during start-up: exit 1, no waiting for the deadline; a
# second SIGTERM kills at once even with a long grace period.
cat >"$T/st.conf" <<EOF2
[launch]
ready_timeout = 60
kill_grace = 60
[service never]
command = $SVC --ignore-term --pidfile $T/never.pid
EOF2
start_launch "$T/st.conf"
wait_until 20 test -s "$T/never.pid" || fail "service did not start"
t0=$(now_ms)
kill -TERM "$LPID"
wait_until 20 has 'forwarding it to 1 services' "$T/lerr" || fail "first SIGTERM not handled"
kill -TERM "$LPID"
finish_launch
t1=$(now_ms)
[ "$LRC" -eq 1 ] || fail "launch exited $LRC, expected 1"
has '^metricsd launch: SIGTERM again: killing every service now$' "$T/lerr" || fail "$(cat "$T/lerr")"
[ $((t1 - t0)) -lt 30000 ] || fail "took $((t1 - t0)) ms"
wait_gone 10 "$(cat "$T/never.pid")"
echo "ok: second SIGTERM kills at once"

# ---- Started with SIGCHLD ignored (env --ignore-signal=CHLD, a careless
# parent): the kernel would reap our children by itself and no exit
# status would be known. launch resets it to the default, for itself and
# for what it starts: statuses are right, the command's 5 is launch's.
env --ignore-signal=CHLD true 2>/dev/null ||
	skip "env has no --ignore-signal/--block-signal (coreutils before 8.31)"
cat >"$T/ign.conf" <<EOF2
[service sigign]
command = grep ^SigIgn: /proc/self/status
ready = none
[service three]
command = sh -c 'exit 3'
ready = none
EOF2
# The command waits for the service's exit to be reported, then exits 5.
cat >"$T/ign.sh" <<'SH'
#!/bin/sh
i=0
until grep -q "service 'three' .* exited" "$1"; do
	i=$((i + 1)); [ $i -lt 1000 ] || exit 9
	sleep 0.02
done
exit 5
SH
chmod +x "$T/ign.sh"
: >"$T/lout"
: >"$T/lerr"
env --default-signal=HUP --ignore-signal=CHLD metricsd launch "$T/ign.conf" \
    -- "$T/ign.sh" "$T/lerr" >>"$T/lout" 2>>"$T/lerr" &
LPID=$!
finish_launch
[ "$LRC" -eq 5 ] || fail "launch exited $LRC, expected the command's 5: $(cat "$T/lerr")"
has "^metricsd launch: service 'three' \\(pid [0-9]+\\) exited with status 3$" "$T/lerr" ||
	fail "status 3 not reported: $(cat "$T/lerr")"
has "^metricsd launch: service 'sigign' \\(pid [0-9]+\\) exited with status 0$" "$T/lerr" ||
	fail "status 0 not reported: $(cat "$T/lerr")"
! has 'No child processes' "$T/lerr" || fail "children reaped behind launch's back: $(cat "$T/lerr")"
ign=$(sed -n 's/^sigign: SigIgn:[[:space:]]*//p' "$T/lout")
[ -n "$ign" ] || fail "no SigIgn line from the service: $(cat "$T/lout")"
# SIGCHLD is signal 17: bit 16 of the mask.
[ $((0x$ign & 0x10000)) -eq 0 ] || fail "service inherited SIGCHLD ignored (SigIgn $ign)"
echo "ok: started with SIGCHLD ignored: statuses 3 and 5 kept, services get the default"

# ---- Started with SIGINT, SIGTERM and SIGHUP blocked (a mask survives
# exec): launch unblocks the signals it handles, so it can be stopped.
rm -f "$T"/*.pid
cat >"$T/blk.conf" <<EOF2
[launch]
kill_grace = 5
[service sigblk]
command = sh -c 'grep ^SigBlk: /proc/self/status && exec sleep 300'
ready = none
[service polite]
command = $SVC --zmq --pidfile $T/polite.pid
EOF2
: >"$T/lout"
: >"$T/lerr"
env --default-signal=HUP --block-signal=INT,TERM,HUP metricsd launch \
    "$T/blk.conf" >>"$T/lout" 2>>"$T/lerr" &
LPID=$!
wait_until 20 has 'all 2 services ready' "$T/lerr" || fail "not ready: $(cat "$T/lerr")"
kill -TERM "$LPID"
wait_until 10 has '^metricsd launch: SIGTERM: forwarding it to' "$T/lerr" || {
	kill -KILL "$LPID"
	fail "SIGTERM blocked in launch: not handled in 10 s: $(cat "$T/lerr")"
}
finish_launch
[ "$LRC" -eq 0 ] || fail "launch exited $LRC, expected 0: $(cat "$T/lerr")"
has '^polite: got SIGTERM, exiting$' "$T/lout" || fail "polite did not get SIGTERM: $(cat "$T/lout")"
blk=$(sed -n 's/^sigblk: SigBlk:[[:space:]]*//p' "$T/lout")
[ "$blk" = 0000000000000000 ] || fail "service started with signals blocked: SigBlk '$blk'"
wait_gone 10 "$(cat "$T/polite.pid")"
echo "ok: started with SIGINT/SIGTERM/SIGHUP blocked: SIGTERM still stops launch"
exit 0
