# ready = tcp://HOST:PORT and http://HOST:PORT/PATH against real servers:
# python3 -m http.server on an ephemeral port, a port that opens late, a
# non-2xx answer, and a service that exits while it is being polled.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/launch_lib.sh"
command -v python3 >/dev/null || skip "python3 not installed"

# free_port: a port nothing listens on now (free_port.py says why it is
# safe from the tests running beside this one).
free_port() {
	python3 "$(dirname "$0")/free_port.py"
}

# 1. http://: python's http.server answers GET / with 200 once listening.
P=$(free_port)
cat >"$T/h.conf" <<EOF2
[launch]
ready_timeout = 20s
exit_timeout = 200ms
[service web]
command = python3 -u -m http.server $P --bind 127.0.0.1 --directory $T
ready = http://localhost:$P/
EOF2
expect_exit 0 metricsd launch "$T/h.conf" -- true
expect_grep "all 1 services ready in [0-9.]+ ms: web \\(pid [0-9]+\\)" "$T/err"
echo "ok: http:// readiness against python3 -m http.server"

# 2. A 404 is not ready: the deadline passes, and the last answer is named.
# (3 s: python3 must start and answer a 404 before it, on a loaded CI.)
sed -e 's|^ready_timeout = 20s|ready_timeout = 3s|' \
    -e "s|^ready = .*|ready = http://127.0.0.1:$P/no-such-page|" \
    "$T/h.conf" >"$T/h404.conf"
expect_exit 1 metricsd launch "$T/h404.conf" -- true
expect_grep "not ready within 3.0 s: 'web' \\(pid [0-9]+\\)" "$T/err"
expect_grep "service 'web': [0-9]+ attempts on http, the last: HTTP status 404" "$T/err"
echo "ok: http:// 404 is not ready; the timeout names the last status"

# 3. tcp://, a port that opens late: the service listens only when told
# to, after saying it waits; launch must not be ready before, and must
# be once it listens.
P=$(free_port)
cat >"$T/late.py" <<'PY'
import os, socket, sys, time
port, go = int(sys.argv[1]), sys.argv[2]
print("waiting for go", flush=True)
while not os.path.exists(go):
    time.sleep(0.01)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(8)
print("listening", flush=True)
while True:
    c, _ = s.accept()
    c.close()
PY
cat >"$T/t.conf" <<EOF2
[launch]
ready_timeout = 30s
exit_timeout = 200ms
[service late]
command = python3 -u $T/late.py $P $T/go
ready = tcp://127.0.0.1:$P
EOF2
start_launch "$T/t.conf" -- true
wait_until 20 has '^late: waiting for go$' "$T/lout" || fail "service did not start: $(cat "$T/lerr")"
has 'services ready' "$T/lerr" && fail "ready before the port was open: $(cat "$T/lerr")"
touch "$T/go"
finish_launch
[ "$LRC" -eq 0 ] || fail "launch exited $LRC: $(cat "$T/lerr")"
has '^late: listening$' "$T/lout" || fail "service never listened: $(cat "$T/lout")"
has 'all 1 services ready in [0-9.]+ ms: late' "$T/lerr" || fail "no ready line: $(cat "$T/lerr")"
echo "ok: tcp:// readiness on a port that opens late"

# 4. A service that exits while polled fails start-up at once, not at
# the 30 s deadline.
P=$(free_port)
cat >"$T/x.conf" <<EOF2
[launch]
ready_timeout = 30s
[service quits]
shell = yes
command = exit 3
ready = tcp://127.0.0.1:$P
[service web]
command = sleep 300
ready = http://127.0.0.1:$P/health
EOF2
t0=$(now_ms)
expect_exit 1 metricsd launch "$T/x.conf" -- true
el=$(($(now_ms) - t0))
expect_grep "service 'quits' \\(pid [0-9]+\\) exited with status 3 during start-up" "$T/err"
[ "$el" -lt 10000 ] || fail "took $el ms to notice the exit"
echo "ok: an exit while polled fails start-up at once ($el ms)"

# 5. Bad URLs and unknown hosts are config errors, file:line, exit 2.
cat >"$T/bad.conf" <<'EOF2'
[service a]
command = sleep 1
ready = tcp://127.0.0.1:99999
[service b]
command = sleep 1
ready = https://example.com/
[service c]
command = sleep 1
ready = tcp://127.0.0.1:80/path
EOF2
expect_exit 2 metricsd launch "$T/bad.conf"
expect_grep "bad.conf:3: service 'a': ready: .*port must be 1-65535" "$T/err"
expect_grep "bad.conf:6: service 'b': ready: .*only tcp:// and http://" "$T/err"
expect_grep "bad.conf:9: service 'c': ready: .*tcp:// takes no path" "$T/err"
cat >"$T/host.conf" <<'EOF2'
[service a]
command = sleep 1
ready = tcp://no-such-host.invalid:80
EOF2
expect_exit 2 metricsd launch --dry-run "$T/host.conf"
# The line is the ready = line, as for the other ready = mistakes.
expect_grep "host.conf:3: service 'a': ready: host 'no-such-host.invalid'" "$T/err"
echo "ok: bad readiness URLs are config errors"
exit 0
