#!/bin/sh
# metricsd aggregate: a SIGTERM that arrives after the loop has stopped
# (session.ended seen, the store being finished) does not kill the
# aggregator: it still exits 0 with its store final. (The signal watchers
# are closed when the loop stops; without care SIGTERM is then back to its
# default action and the process dies with status 143, its store maybe not
# closed. The drain of token counts made that window wide enough to hit.)
#
# Deterministic, not timed: the aggregator's stderr is a 4 KB pipe that
# the test fills after the start-up line, so the first line logged after
# the loop stops blocks the aggregator in write(2), which the test sees in
# /proc/PID/syscall; only then is SIGTERM sent, and the pipe read.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || fail "python3 not installed: run make deps"
[ -r /proc/self/syscall ] || skip "/proc/PID/syscall not readable"

python3 - "$T" <<'EOF' || fail "late SIGTERM"
import fcntl, os, signal, subprocess, sys, time

T = sys.argv[1]
F_SETPIPE_SZ = 1031
r, w = os.pipe()
fcntl.fcntl(r, F_SETPIPE_SZ, 4096)
agg = subprocess.Popen(["metricsd", "aggregate", "--connect",
                        "ipc://%s/late" % T, "--metrics-dir", T + "/s"],
                       stdout=subprocess.DEVNULL, stderr=w)
log = b""
while b"subscribed to" not in log:
    chunk = os.read(r, 4096)
    assert chunk, "aggregate exited at start-up"
    log += chunk
# Fill the pipe through a descriptor of our own (non-blocking without
# touching the aggregator's), so that its next log line blocks it.
filler = os.open("/proc/self/fd/%d" % w, os.O_WRONLY | os.O_NONBLOCK)
os.close(w)
try:
    while True:
        os.write(filler, b"#" * 512)
except BlockingIOError:
    pass
pub = subprocess.run(["metricsd", "publish", "--bind", "ipc://%s/late" % T,
                      "--wait-subscribers", "1", "--synthetic", "20"],
                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
assert pub.returncode == 0, pub.stderr
# Blocked writing to stderr (fd 2): the end-of-run line, after the loop.
deadline = time.monotonic() + 60
while True:
    f = open("/proc/%d/syscall" % agg.pid).read().split()
    if f[:2] == ["1", "0x2"]:
        break
    assert agg.poll() is None, "aggregate exited before its last line"
    assert time.monotonic() < deadline, "aggregate never logged the end"
    time.sleep(0.01)
os.kill(agg.pid, signal.SIGTERM)
os.close(filler)
while True:
    chunk = os.read(r, 65536)
    if not chunk:
        break
    log += chunk
rc = agg.wait()
text = log.replace(b"#", b"").decode(errors="replace")
assert rc == 0, "aggregate exited %d after a late SIGTERM: %s" % (rc, text)
assert "session ended after" in text, text
EOF
echo "ok: a SIGTERM after the loop stopped: exit 0"
metricsd read --metrics-dir "$T/s" --json >"$T/s.json" || fail "read"
expect_grep '"state":"final"' "$T/s.json"
echo "ok: the store is final"
