# metricsd serve never blocks its loop on a render: the first scrape of a
# store of 2^24 values (seconds of sorting) renders on a worker thread,
# and /healthz is answered within 250 ms (and a quarter of the render)
# all the while. The render is
# shown to be long: /healthz is answered many times before /metrics is.
# A dashboard poll (/api/report) sent with the scrape waits on the same
# worker, and is answered too, with the same count.
# run.sh: alone (/healthz within 250 ms during a render: a latency bound)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

GEN=${METRICSD_HELPERS:?}/serve_storegen
[ -x "$GEN" ] || fail "helper $GEN not built"
command -v python3 >/dev/null || skip "python3 not installed"

N=16777216
"$GEN" "$T/big" --big $N || fail "storegen --big"
start_serve --metrics-dir "$T/big"

python3 - "$ADDR" "$N" <<'PY' || fail "healthz during a first render"
import socket, sys, time

host, port = sys.argv[1].rsplit(":", 1)
n = int(sys.argv[2])

def connect():
    s = socket.create_connection((host, int(port)), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s

def get(s, path):
    s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")

def read_reply(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise SystemExit("connection closed before the reply")
        buf += d
    head, body = buf.split(b"\r\n\r\n", 1)
    length = None
    for line in head.split(b"\r\n")[1:]:
        k, v = line.split(b":", 1)
        if k.strip().lower() == b"content-length":
            length = int(v)
    while len(body) < length:
        d = s.recv(1 << 20)
        if not d:
            raise SystemExit("connection closed in the body")
        body += d
    return head.split(b"\r\n")[0], body

m = connect()
t0 = time.monotonic()
get(m, b"/metrics")
m.setblocking(False)
a = connect()
get(a, b"/api/report")
a.setblocking(False)
h = connect()
worst, answered_before, metrics, report = 0.0, 0, None, None
while metrics is None or report is None:
    t = time.monotonic()
    get(h, b"/healthz")
    status, body = read_reply(h)
    lat = time.monotonic() - t
    if status.split()[1] != b"200" or body != b"ok\n":
        raise SystemExit("healthz: %r %r" % (status, body))
    worst = max(worst, lat)
    try:
        peek = m.recv(1, socket.MSG_PEEK) if metrics is None else None
    except BlockingIOError:
        peek = None
    try:
        apeek = a.recv(1, socket.MSG_PEEK) if report is None else None
    except BlockingIOError:
        apeek = None
    if peek:
        m.setblocking(True)
        status, metrics = read_reply(m)
        if status.split()[1] != b"200":
            raise SystemExit("metrics: %r" % status)
    if apeek:
        a.setblocking(True)
        status, report = read_reply(a)
        if status.split()[1] != b"200":
            raise SystemExit("api/report: %r" % status)
    if not peek and not apeek and metrics is None and report is None:
        answered_before += 1
    if time.monotonic() - t0 > 60:
        raise SystemExit("no /metrics after 60 s")
    time.sleep(0.005)  # pacing the probes; the replies are awaited
render = time.monotonic() - t0
print("first render %.2f s; %d healthz answered meanwhile, worst %.1f ms"
      % (render, answered_before, worst * 1000))
want = b'metricsd_big_seconds_count{run="big"} %d\n' % n
if want not in metrics:
    raise SystemExit("count line missing from /metrics")
import json
stores = json.loads(report)["stores"]
if stores[0]["run"] != "big" or stores[0]["state"] != "complete":
    raise SystemExit("api/report: %r" % stores)
if answered_before < 5:
    raise SystemExit("the render was too short to show anything (%d)"
                     % answered_before)
# Blocked behind the render, /healthz would wait for all of it; answered
# apart, it waits at most for a scheduler slice. 250 ms (and a quarter of
# the render) leaves room for a loaded 2-core CI under ASan.
if worst >= 0.250 or worst >= render / 4:
    raise SystemExit("healthz took %.1f ms during a %.2f s render"
                     % (worst * 1000, render))
PY
echo "ok: /healthz within 250 ms during a first render of $N values, /metrics and /api/report answered"

# A second scrape folds nothing new: the same figures, quickly.
scrape "$T/m2"
grep -q "^metricsd_big_seconds_count{run=\"big\"} $N\$" "$T/m2" ||
	fail "second scrape: $(grep big "$T/m2")"
stop_serve TERM

# SIGTERM in the middle of a first render: serve waits for the worker,
# drops the scrape's connection and exits 0.
start_serve --metrics-dir "$T/big"
mkfifo "$T/said"
python3 - "$ADDR" >"$T/said" <<'PY' &
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
m = socket.create_connection((host, int(port)), timeout=30)
m.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
h = socket.create_connection((host, int(port)), timeout=30)
h.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
assert b" 200 " in h.recv(4096)
print("rendering", flush=True)
m.recv(1)  # EOF (or an answer): either way no hang
PY
client=$!
read -r line <"$T/said"
[ "$line" = rendering ] || fail "scrape client: '$line'"
stop_serve TERM
wait $client || fail "the scrape client failed"
