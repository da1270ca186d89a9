# metricsd launch: all services become ready (zmq from C and from a shell
# script, notify, none); summary line; COMMAND's status is launch's;
# output lines are prefixed; the private socket directory is removed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/launch_lib.sh"

cat >"$T/svc.sh" <<'SH'
#!/bin/sh
# A shell service: reports its socket directory, signals with metricsd
# ready from the environment, ends on SIGTERM.
echo "dir=$METRICSD_SOCKET_DIR args=$*"
echo "to stderr" >&2
metricsd ready || exit 1
printf 'no newline at the end'
trap 'exit 0' TERM
while :; do sleep 1; done
SH
chmod +x "$T/svc.sh"

cat >"$T/s.conf" <<EOF2
[launch]
ready_timeout = 20
exit_timeout = 0.5
kill_grace = 5

[service cz]
command = $SVC --zmq --say "hello from cz" --pidfile $T/cz.pid

[service script]
command = $T/svc.sh

[service nt]
command = $SVC --notify --status "warming up" --pidfile $T/nt.pid
ready = notify

[service plain]
command = $SVC --pidfile $T/plain.pid
ready = none
env = GREETING=hi there
EOF2

expect_exit 7 metricsd launch "$T/s.conf" -- sh -c 'echo "command sees $METRICSD_READY_ENDPOINT. in $METRICSD_SOCKET_DIR"; exit 7'
expect_grep '^metricsd launch: all 4 services ready in [0-9.]+ ms: cz \(pid [0-9]+\), script \(pid [0-9]+\), nt \(pid [0-9]+\), plain \(pid [0-9]+\)$' "$T/err"
expect_grep "^metricsd launch: service 'nt' \(pid [0-9]+\) status: warming up$" "$T/err"
expect_grep "^metricsd launch: command \(pid [0-9]+\) exited with status 7$" "$T/err"
# Readiness variables are the services' own, not the command's.
expect_grep '^command sees \. in /.*/metricsd-launch\.[A-Za-z0-9]+$' "$T/out"
# Prefixed passthrough, stdout to stdout, stderr to stderr, partial line
# flushed at the end.
expect_grep '^cz: hello from cz$' "$T/out"
expect_grep '^script: dir=/.*/metricsd-launch\.[A-Za-z0-9]+ args=--readiness-path launch-ready-[0-9]+ --readiness-id 2$' "$T/out"
expect_grep '^script: to stderr$' "$T/err"
expect_grep '^script: no newline at the end$' "$T/out"
expect_grep '^cz: got SIGTERM, exiting$' "$T/out"
# None of them exits by itself: after exit_timeout they are named, asked
# to stop, and all gone.
expect_grep "^metricsd launch: still running 0.5 s after the command finished: 'cz' \(pid [0-9]+\), 'script' \(pid [0-9]+\), 'nt' \(pid [0-9]+\), 'plain' \(pid [0-9]+\); sending SIGTERM$" "$T/err"
for f in cz nt plain; do
	wait_gone 10 "$(cat "$T/$f.pid")"
done
dir=$(sed -n 's/^script: dir=\([^ ]*\) .*/\1/p' "$T/out")
[ -n "$dir" ] && [ ! -e "$dir" ] || fail "private socket directory $dir left behind"
echo "ok: socket directory removed"

# Without COMMAND, launch supervises until the services exit by
# themselves (here: when the test creates $T/go), then exits 0.
cat >"$T/once.conf" <<EOF2
[launch]
socket_dir = $T/sock
[service one]
shell = yes
command = metricsd ready && while [ ! -e $T/go ]; do sleep 0.02; done; echo done
[service two]
shell = yes
command = metricsd ready && while [ ! -e $T/go ]; do sleep 0.02; done
EOF2
start_launch "$T/once.conf"
wait_until 20 has 'all 2 services ready' "$T/lerr" || fail "not ready: $(cat "$T/lerr")"
[ "$(stat -c %a "$T/sock")" = 700 ] || fail "socket_dir mode $(stat -c %a "$T/sock")"
: >"$T/go"
finish_launch
[ "$LRC" -eq 0 ] || fail "launch exited $LRC: $(cat "$T/lerr")"
expect_grep '^one: done$' "$T/lout"
expect_grep "^metricsd launch: service 'two' \(pid [0-9]+\) exited with status 0$" "$T/lerr"
[ -z "$(ls -A "$T/sock")" ] || fail "sockets left in $T/sock: $(ls -A "$T/sock")"
echo "ok: supervised until exit; explicit socket_dir 0700 and emptied"

# A service that exits non-zero while supervised makes launch exit 1.
cat >"$T/bad.conf" <<EOF2
[service one]
shell = yes
command = metricsd ready && while [ ! -e $T/go2 ]; do sleep 0.02; done; exit 4
EOF2
start_launch "$T/bad.conf"
wait_until 20 has 'all 1 services ready' "$T/lerr" || fail "not ready: $(cat "$T/lerr")"
: >"$T/go2"
finish_launch
[ "$LRC" -eq 1 ] || fail "launch exited $LRC, expected 1: $(cat "$T/lerr")"
expect_grep "^metricsd launch: service 'one' \(pid [0-9]+\) exited with status 4$" "$T/lerr"
echo "ok: a failing service makes launch exit 1"
exit 0
