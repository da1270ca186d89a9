# COMMAND runs in its own process group, like every service. Whatever it
# leaves behind in that group when it exits must go at teardown too, as a
# service's leftovers do: a clean launch exit leaves no process behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/launch_lib.sh"

cat >"$T/s.conf" <<EOF2
[launch]
exit_timeout = 200ms
kill_grace = 1s
[service a]
command = sleep 300
ready = none
EOF2
cat >"$T/cmd.sh" <<'SH'
#!/bin/sh
# A background child in the command's own group, then exit at once.
sleep 300 &
echo $! > "$1.tmp" && mv "$1.tmp" "$1"
exit 3
SH
chmod +x "$T/cmd.sh"
start_launch "$T/s.conf" -- "$T/cmd.sh" "$T/bg.pid"
finish_launch
[ "$LRC" -eq 3 ] || fail "launch exited $LRC, expected the command's 3: $(cat "$T/lerr")"
[ -s "$T/bg.pid" ] || fail "command did not write its child's pid"
bg=$(cat "$T/bg.pid")
trap 'kill -KILL "$bg" 2>/dev/null; rm -rf "$T"' EXIT
# launch has exited: its teardown is over, so the child must be dead
# already (a short grace for the kernel to finish the kill).
wait_gone 5 "$bg"
expect_grep "^metricsd launch: command \\(pid [0-9]+\\) left processes in its process group; killing them$" "$T/lerr"
echo "ok: the command's background child $bg is gone after launch exits"

# Stopped by a signal: the command's group got it from us, so a child
# that ignores it is killed without a warning about leftovers.
cat >"$T/cmd2.sh" <<'SH'
#!/bin/sh
sh -c 'trap "" TERM; exec sleep 300' &
echo $! > "$1.tmp" && mv "$1.tmp" "$1"
wait
SH
chmod +x "$T/cmd2.sh"
start_launch "$T/s.conf" -- "$T/cmd2.sh" "$T/bg2.pid"
wait_until 20 test -s "$T/bg2.pid" || fail "command did not start: $(cat "$T/lerr")"
bg2=$(cat "$T/bg2.pid")
trap 'kill -KILL "$bg" "$bg2" 2>/dev/null; rm -rf "$T"' EXIT
kill -TERM "$LPID"
finish_launch
wait_gone 5 "$bg2"
grep -q "left processes" "$T/lerr" && fail "warned about leftovers of a group we signalled: $(cat "$T/lerr")"
echo "ok: after SIGTERM, the command's TERM-ignoring child $bg2 is gone, no warning"
exit 0
