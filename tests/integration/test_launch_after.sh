# after = NAME ...: a service starts only once the services it names are
# ready; unknown names and cycles are config errors (file:line, exit 2);
# --dry-run prints the start order; the one ready deadline bounds the
# whole start-up, waiting services included.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/launch_lib.sh"

# 1. Order: c waits for b, b waits for a. Each records, when it starts,
# whether the ones it waits for had written their pid files, which
# launch_svc does before it reports ready.
cat >"$T/o.conf" <<EOF2
[launch]
exit_timeout = 200ms
[service c]
shell = yes
command = test -s $T/a.pid && test -s $T/b.pid && echo "saw a and b"; exec $SVC --zmq --pidfile $T/c.pid "\$@"
after = b
[service b]
shell = yes
command = test -s $T/a.pid && echo "saw a"; exec $SVC --notify --pidfile $T/b.pid
ready = notify
after = a
[service a]
command = $SVC --zmq --pidfile $T/a.pid
EOF2
expect_exit 0 metricsd launch --dry-run "$T/o.conf"
expect_grep '^start order: a b c$' "$T/out"
expect_grep '^service c \(line 3\): ready = zmq, identity 1, after b$' "$T/out"
expect_exit 0 metricsd launch "$T/o.conf" -- true
expect_grep '^b: saw a$' "$T/out"
expect_grep '^c: saw a and b$' "$T/out"
expect_grep 'all 3 services ready in [0-9.]+ ms: c \(pid [0-9]+\), b \(pid [0-9]+\), a \(pid [0-9]+\)' "$T/err"
echo "ok: services start after those they wait for are ready"

# 2. The deadline covers the waiting ones: a never gets ready, so b is
# never started, and the timeout says so.
cat >"$T/d.conf" <<EOF2
[launch]
ready_timeout = 1s
[service a]
command = sleep 300
ready = notify
[service b]
command = $SVC --zmq --pidfile $T/never.pid
after = a
EOF2
expect_exit 1 metricsd launch "$T/d.conf" -- true
expect_grep "not ready within 1.0 s: 'a' \\(pid [0-9]+\\), 'b' \\(not started: waits for a\\)" "$T/err"
[ ! -e "$T/never.pid" ] || fail "b was started though a never got ready"
echo "ok: the ready deadline bounds services that wait"

# 3. Unknown names and cycles: file:line, exit 2, nothing started.
cat >"$T/bad.conf" <<'EOF2'
[service a]
command = sleep 1
after = nope
[service b]
command = sleep 1
after = b
EOF2
expect_exit 2 metricsd launch "$T/bad.conf" -- true
expect_grep "bad.conf:3: service 'a': after: no service named 'nope'" "$T/err"
expect_grep "bad.conf:6: service 'b': after: cycle: 'b' waits for itself" "$T/err"
cat >"$T/cyc.conf" <<'EOF2'
[service a]
command = sleep 1
after = c
[service b]
command = sleep 1
after = a
[service c]
command = sleep 1
after = b
[service d]
command = sleep 1
EOF2
expect_exit 2 metricsd launch --dry-run "$T/cyc.conf"
expect_grep "cyc.conf:3: service 'a': after: cycle: 'a' -> 'c' -> 'b' -> 'a'" "$T/err"
# Every cycle is reported, each once; what waits behind one is not.
cat >"$T/cyc2.conf" <<'EOF2'
[service a]
command = sleep 1
after = b
[service b]
command = sleep 1
after = a
[service c]
command = sleep 1
after = d
[service d]
command = sleep 1
after = c
[service e]
command = sleep 1
after = a c
EOF2
expect_exit 2 metricsd launch --dry-run "$T/cyc2.conf"
expect_grep "cyc2.conf:3: service 'a': after: cycle: 'a' -> 'b' -> 'a'" "$T/err"
expect_grep "cyc2.conf:9: service 'c': after: cycle: 'c' -> 'd' -> 'c'" "$T/err"
[ "$(grep -c cycle "$T/err")" -eq 2 ] || fail "not two cycle errors: $(cat "$T/err")"
echo "ok: unknown names and cycles are config errors"
exit 0
