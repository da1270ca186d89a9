# The private socket directory (no socket_dir configured) is the
# launcher's own, and services are invited to put their sockets in it
# ($METRICSD_SOCKET_DIR). Whatever they leave there (the ipc socket of a
# service that was killed, say) must not keep it from being removed:
# neither at a normal exit nor by the watchdog after launch is killed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/launch_lib.sh"

cat >"$T/s.conf" <<EOF2
[launch]
exit_timeout = 200ms
kill_grace = 1s
[service a]
shell = yes
command = d="\$METRICSD_SOCKET_DIR"; touch "\$d/ev" && mkdir "\$d/sub" && touch "\$d/sub/x" && ln -s $T/keep "\$d/link" && echo "dir=\$d" && exec $SVC --zmq
EOF2
: >"$T/keep"

# A normal run.
start_launch "$T/s.conf" -- true
finish_launch
[ "$LRC" -eq 0 ] || fail "launch exited $LRC: $(cat "$T/lerr")"
dir=$(sed -n 's/^a: dir=//p' "$T/lout")
[ -n "$dir" ] || fail "no dir line: $(cat "$T/lout")"
[ ! -e "$dir" ] || fail "private socket directory $dir left behind: $(ls -la "$dir")"
[ -e "$T/keep" ] || fail "a symlink's target outside the directory was removed"
echo "ok: $dir removed at exit, with what the service left in it"

# launch killed with SIGKILL: the watchdog removes it.
start_launch "$T/s.conf" -- sleep 300
wait_until 20 has '^a: dir=' "$T/lout" || fail "no dir line: $(cat "$T/lout")"
wait_until 20 has 'all 1 services ready' "$T/lerr" || fail "not ready: $(cat "$T/lerr")"
dir=$(sed -n 's/^a: dir=//p' "$T/lout")
kill -KILL "$LPID"
finish_launch
wait_until 10 test ! -e "$dir" || fail "private socket directory $dir left behind after SIGKILL: $(ls -la "$dir")"
[ -e "$T/keep" ] || fail "a symlink's target outside the directory was removed"
echo "ok: $dir removed by the watchdog after SIGKILL"
exit 0
