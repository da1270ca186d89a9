# metricsd launch start-up failures: a service never ready (named at the
# deadline), a service crashing (reported at once, well before the
# deadline), a service killed by a signal; the others are stopped.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/launch_lib.sh"

# ---- one service is never ready: the deadline names it, and only it.
# 'fast' must be ready before it: 3 s leaves a slow (ASan, loaded) start
# plenty of margin.
cat >"$T/slow.conf" <<EOF2
[launch]
ready_timeout = 3
kill_grace = 5
[service fast]
command = $SVC --zmq --pidfile $T/fast.pid
[service slow]
command = $SVC --pidfile $T/slow.pid
[service quiet]
command = $SVC --pidfile $T/quiet.pid
ready = none
EOF2
t0=$(now_ms)
expect_exit 1 metricsd launch "$T/slow.conf" -- true
t1=$(now_ms)
expect_grep "^metricsd launch: not ready within 3.0 s: 'slow' \\(pid $(cat "$T/slow.pid")\\); stopping all services$" "$T/err"
grep -q "'fast' (pid" "$T/err" && grep "not ready" "$T/err" | grep -q fast &&
	fail "fast was named as not ready"
[ $((t1 - t0)) -ge 3000 ] || fail "gave up after $((t1 - t0)) ms, before the 3 s deadline"
for f in fast slow quiet; do
	wait_gone 10 "$(cat "$T/$f.pid")"
done
echo "ok: timeout after $((t1 - t0)) ms names only 'slow'; all stopped"

# ---- a service crashes during start-up: reported at once. The deadline
# is 30 s; the failure must come far sooner (generous margin: 10 s).
# 'crash' waits for steady's pid file, written once steady handles
# SIGTERM: else a slow start (ASan) lets SIGTERM kill it before that.
cat >"$T/crash.conf" <<EOF2
[launch]
ready_timeout = 30
kill_grace = 5
[service steady]
command = $SVC --zmq --pidfile $T/steady.pid
[service crash]
command = sh -c 'until [ -e $T/steady.pid ]; do sleep 0.01; done; exec $SVC --exit-before-ready 3 --pidfile $T/crash.pid'
EOF2
t0=$(now_ms)
expect_exit 1 metricsd launch "$T/crash.conf" -- true
t1=$(now_ms)
[ $((t1 - t0)) -lt 10000 ] || fail "crash reported after $((t1 - t0)) ms (deadline 30 s)"
expect_grep "^metricsd launch: service 'crash' \\(pid $(cat "$T/crash.pid")\\) exited with status 3 during start-up, after [0-9.]+ ms; stopping all services$" "$T/err"
expect_grep '^crash: exiting with 3 before ready$' "$T/err"
expect_grep "^metricsd launch: service 'steady' \\(pid [0-9]+\\) exited with status 0$" "$T/err"
wait_gone 10 "$(cat "$T/steady.pid")"
# The command never ran.
[ ! -e "$T/ran" ] || fail "command ran"
echo "ok: crash reported after $((t1 - t0)) ms of a 30 s deadline"

# ---- death by signal is reported by name.
cat >"$T/sig.conf" <<EOF2
[launch]
ready_timeout = 30
[service usr1]
command = sh -c 'kill -USR1 \$\$'
EOF2
expect_exit 1 metricsd launch "$T/sig.conf" -- touch "$T/ran"
expect_grep "^metricsd launch: service 'usr1' \\(pid [0-9]+\\) was killed by SIGUSR1 during start-up" "$T/err"
[ ! -e "$T/ran" ] || fail "command ran after a failed start-up"
echo "ok: signal named"

# ---- a COMMAND that does not exist: usage error, nothing started.
cat >"$T/nocmd.conf" <<EOF2
[launch]
exit_timeout = 100ms
[service a]
command = $SVC --zmq --pidfile $T/a.pid
EOF2
expect_exit 2 metricsd launch "$T/nocmd.conf" -- /nonexistent/benchmark
expect_grep "COMMAND '/nonexistent/benchmark' not found or not executable" "$T/err"
[ ! -e "$T/a.pid" ] || fail "a service was started"
# ... and one that exits 127 after start is just its status.
expect_exit 127 metricsd launch "$T/nocmd.conf" -- sh -c 'exit 127'
echo "ok: missing command"

# ---- a service whose exec fails in the child (an executable file that
# is no program): the child's report names the step and errno at once,
# and the service started before it is stopped.
printf 'not a program\n' >"$T/junk"
chmod 755 "$T/junk"
cat >"$T/junk.conf" <<EOF2
[launch]
exit_timeout = 100ms
[service a]
command = $SVC --zmq --pidfile $T/a2.pid
[service junk]
ready = none
command = $T/junk
EOF2
expect_exit 1 metricsd launch "$T/junk.conf" -- true
expect_grep "^metricsd launch: service 'junk': cannot start: exec $T/junk: Exec format error$" "$T/err"
echo "ok: exec failure reported"
exit 0
