#!/usr/bin/env python3
"""The dashboard page of metricsd serve in a real browser.

    dashboard_check.py TMPDIR [SCREENSHOT.png]

Runs, in TMPDIR: one aggregator fed a whole synthetic session (store
"done"), one fed half of another (store "live", its publisher holding the
rest), and serve over both; then drives headless Chromium over the
DevTools protocol (--remote-debugging-pipe: NUL-separated JSON on fds 3
and 4, no extra package) and checks, awaiting each state in the DOM with
a deadline rather than sleeping:

1. the page shows both stores; "done"'s headline numbers equal
   `metricsd report --json`; "live" is live with some samples completed;
   a screenshot is not blank;
2. once the publisher sends the rest, the same page shows "live"
   complete, its numbers equal to report --json on the final store, and
   charts with history;
3. once "done" is removed, the page shows it vanished, and goes on
   polling without errors; no Content-Security-Policy violation ever;
4. once serve is gone, the page backs off: each failed poll doubles the
   delay before the next (data-next-poll-ms), up to 30 s;
5. once a new serve answers that lists neither store (both removed),
   the page drops their panels and polls at its pace again.

Exits 0; or prints FAIL and exits 1; or, when Chromium does not start,
says so and exits 77 (skip). With SCREENSHOT.png, the final page is
saved there, for people to look at.
"""
import json
import os
import signal
import struct
import subprocess
import sys
import time
import zlib

BIN = os.environ["METRICSD_BIN"]
T = sys.argv[1]
SHOT = sys.argv[2] if len(sys.argv) > 2 else None
DEADLINE = 30.0		# a loaded 2-core CI machine
HEADLINE = ("state", "qps", "tps", "n_samples_issued", "n_samples_completed",
            "n_samples_failed", "samples_in_flight", "duration_ns")
procs = []


def fail(msg):
    print("FAIL: " + msg)
    for p in procs:
        if p.poll() is None:
            p.kill()
    sys.exit(1)


START = time.monotonic()


def ok(msg):
    print("ok: %s (%.1f s)" % (msg, time.monotonic() - START))


def spawn(args, **kw):
    p = subprocess.Popen([BIN] + args, **kw)
    procs.append(p)
    return p


def finish(p, what, timeout=60):
    try:
        rc = p.wait(timeout)
    except subprocess.TimeoutExpired:
        fail("%s did not exit" % what)
    if rc != 0:
        fail("%s exited %d" % (what, rc))


def report(store):
    out = subprocess.run([BIN, "report", "--json", "--metrics-dir", store],
                         capture_output=True, check=False)
    if out.returncode != 0:
        fail("report --json %s: %s" % (store, out.stderr.decode()))
    return json.loads(out.stdout)


class Browser:
    """Headless Chromium over --remote-debugging-pipe."""

    def __init__(self, profile):
        r1, self.w = os.pipe()
        self.r, w2 = os.pipe()

        def fds():
            os.dup2(r1, 3)
            os.dup2(w2, 4)
        self.p = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
             "--remote-debugging-pipe", "--user-data-dir=" + profile,
             "--no-first-run", "--window-size=1280,1000", "about:blank"],
            pass_fds=(3, 4), preexec_fn=fds, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=open(profile + ".log", "wb"))
        procs.append(self.p)
        os.close(r1)
        os.close(w2)
        self.buf = b""
        self.id = 0
        self.session = None
        self.log = profile + ".log"
        self.started = False
        pages = [t for t in self.call("Target.getTargets")["targetInfos"]
                 if t["type"] == "page"]
        self.started = True
        if not pages:
            fail("chromium has no page target")
        self.session = self.call("Target.attachToTarget", {
            "targetId": pages[0]["targetId"], "flatten": True})["sessionId"]

    def call(self, method, params=None, browser=False):
        self.id += 1
        msg = {"id": self.id, "method": method, "params": params or {}}
        if self.session and not browser:
            msg["sessionId"] = self.session
        try:
            os.write(self.w, json.dumps(msg).encode() + b"\0")
        except BrokenPipeError:
            self.dead(method)
        while True:
            while b"\0" in self.buf:
                raw, self.buf = self.buf.split(b"\0", 1)
                d = json.loads(raw)
                if d.get("id") == self.id:
                    if "error" in d:
                        fail("%s: %s" % (method, d["error"]))
                    return d["result"]
            chunk = os.read(self.r, 1 << 16)
            if not chunk:
                self.dead(method)
            self.buf += chunk

    def dead(self, method):
        """Chromium is gone: a skip if it never started, else a failure."""
        if self.started:
            fail("chromium closed the pipe during " + method)
        self.p.wait()
        tail = open(self.log, errors="replace").read().strip().splitlines()
        print("chromium does not start headless here: %s"
              % (tail[-1] if tail else "no message"))
        for p in procs:
            if p.poll() is None:
                p.kill()
        sys.exit(77)

    def eval(self, expr):
        r = self.call("Runtime.evaluate", {"expression": expr,
                                           "returnByValue": True})
        if "exceptionDetails" in r:
            fail("page: %s: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def close(self):
        try:
            self.call("Browser.close", browser=True)
        except SystemExit:
            raise
        except Exception:
            pass
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()


# What the page knows, as one JSON value: the status element's counters
# and, per store section, its state, headline values and chart points.
STATE_JS = r"""(() => {
  const st = document.getElementById("status");
  const stores = {};
  if (!st)
    return null;	/* not loaded yet */
  for (const sec of document.querySelectorAll("section.store")) {
    const f = {};
    for (const dd of sec.querySelectorAll("dd[data-field]"))
      f[dd.dataset.field] = dd.dataset.value === undefined ? null :
          JSON.parse(dd.dataset.value);
    stores[sec.dataset.run] = {state: sec.dataset.state || null, fields: f,
      canvases: sec.querySelectorAll("canvas").length,
      badge: sec.querySelector(".badge").textContent};
  }
  return {polls: +st.dataset.polls, errors: +st.dataset.errors,
          csp: +st.dataset.cspViolations, stores: stores,
          wait: st.dataset.nextPollMs === undefined ? null :
                +st.dataset.nextPollMs};
})()"""


def page_state(b):
    return b.eval(STATE_JS)


def await_page(b, what, cond):
    end = time.monotonic() + DEADLINE
    while True:
        s = page_state(b)
        if s is not None and cond(s):
            return s
        if time.monotonic() > end:
            fail("page never showed %s; it shows %s" % (what, json.dumps(s)))
        time.sleep(0.05)	# polling the page's DOM for a state


def same_headline(s, run, rep):
    f = s["stores"][run]["fields"]
    for k in HEADLINE:
        if f.get(k) != rep[k]:
            fail("%s: page shows %s = %r, report --json says %r" %
                 (run, k, f.get(k), rep[k]))


def png_stats(path):
    """Distinct colours and the share of pixels unlike the commonest."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("%s is not a PNG" % path)
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            if depth != 8 or ctype not in (2, 6):
                fail("unexpected PNG format %d/%d" % (depth, ctype))
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    counts = {}
    for y in range(h):
        ft = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if ft == 1:
                line[i] = (line[i] + a) & 255
            elif ft == 2:
                line[i] = (line[i] + b) & 255
            elif ft == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ft == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pr) & 255
        for x in range(0, stride, bpp):
            px = bytes(line[x:x + 3])
            counts[px] = counts.get(px, 0) + 1
        prev = line
    top = max(counts.values())
    return len(counts), 1 - top / (w * h), (w, h)


def screenshot(b, path, scale=1):
    """The window into path, at scale of its size."""
    import base64
    params = {"format": "png"}
    if scale != 1:
        params["clip"] = {"x": 0, "y": 0, "width": 1280, "height": 1000,
                          "scale": scale}
    shot = b.call("Page.captureScreenshot", params)
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))


def main():
    # The browser first: without one there is nothing to test (exit 77).
    b = Browser(os.path.join(T, "chromium"))
    stores = os.path.join(T, "stores")
    os.mkdir(stores)
    done, live = os.path.join(stores, "done"), os.path.join(stores, "live")
    agg = ["--streaming", "--tokenizer", "whitespace"]

    # "done": a whole session.
    a1 = spawn(["aggregate", "--connect", "ipc://%s/ev1" % T,
                "--metrics-dir", done] + agg)
    finish(spawn(["publish", "--bind", "ipc://%s/ev1" % T,
                  "--wait-subscribers", "1", "--synthetic", "200",
                  "--seed", "5"], stdout=subprocess.DEVNULL), "publish done")
    finish(a1, "aggregate done")

    # "live": half a session now, the rest later (publish reads stdin).
    ev = subprocess.run([BIN, "publish", "--synthetic", "300", "--seed", "7",
                         "--print-json"], capture_output=True, check=True)
    lines = ev.stdout.splitlines(keepends=True)
    half = len(lines) // 2
    a2 = spawn(["aggregate", "--connect", "ipc://%s/ev2" % T,
                "--metrics-dir", live] + agg)
    pub = spawn(["publish", "--bind", "ipc://%s/ev2" % T,
                 "--wait-subscribers", "1"], stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL)
    pub.stdin.write(b"".join(lines[:half]))
    pub.stdin.flush()

    addr_file = os.path.join(T, "addr")
    serve = spawn(["serve", "--listen", "127.0.0.1:0", "--address-file",
                   addr_file, "--metrics-dir", stores],
                  stderr=open(os.path.join(T, "serve.err"), "wb"))
    end = time.monotonic() + DEADLINE
    while not os.path.exists(addr_file):	# written atomically when ready
        if serve.poll() is not None or time.monotonic() > end:
            fail("serve did not start")
        time.sleep(0.02)
    addr = open(addr_file).read().strip()

    b.call("Page.enable")
    b.call("Page.navigate", {"url": "http://%s/?poll=200" % addr})

    # 1. Both stores; done's numbers are report --json's; live is live.
    s = await_page(b, "done complete and live with samples", lambda s:
                   s["stores"].get("done", {}).get("state") == "complete" and
                   s["stores"].get("live", {}).get("state") == "live" and
                   (s["stores"]["live"]["fields"].get("n_samples_completed")
                    or 0) > 0)
    same_headline(s, "done", report(done))
    c1 = s["stores"]["live"]["fields"]["n_samples_completed"]
    if not 0 < c1 < 300:
        fail("live shows %d completed after half its events" % c1)
    if s["stores"]["done"]["canvases"] != 5:
        fail("done has %d charts, expected 5" % s["stores"]["done"]["canvases"])
    ok("both stores shown; done's headline = report --json; live at %d/300"
       % c1)
    # At a third of its size: the check decodes the PNG in Python.
    screenshot(b, os.path.join(T, "first.png"), 1 / 3)
    colours, busy, size = png_stats(os.path.join(T, "first.png"))
    if colours < 50 or busy < 0.05:
        fail("screenshot looks blank: %d colours, %.1f%% non-background"
             % (colours, 100 * busy))
    ok("screenshot %dx%d: %d colours, %.1f%% non-background"
       % (size[0], size[1], colours, 100 * busy))

    # 2. The rest of the session: the same page follows.
    pub.stdin.write(b"".join(lines[half:]))
    pub.stdin.close()
    finish(pub, "publish live")
    finish(a2, "aggregate live")
    final = report(live)
    s = await_page(b, "live complete", lambda s:
                   s["stores"]["live"]["state"] == "complete" and
                   s["stores"]["live"]["fields"].get("n_samples_completed") ==
                   final["n_samples_completed"])
    same_headline(s, "live", final)
    points = b.eval("""Chart.getChart(document.querySelector(
        'section.store[data-run="live"] canvas')).data.datasets[0].data.length""")
    if points < 2:
        fail("live's throughput chart has %d points" % points)
    ok("live went from %d to %d completed on the same page; headline = "
       "report --json; %d points of history" %
       (c1, final["n_samples_completed"], points))

    # 3. A store that disappears: shown vanished, polling goes on.
    subprocess.run(["rm", "-rf", done], check=True)
    s = await_page(b, "done vanished", lambda s:
                   s["stores"]["done"]["state"] == "vanished")
    if s["stores"]["done"]["badge"] != "vanished":
        fail("done's badge says %r" % s["stores"]["done"]["badge"])
    p = s["polls"]
    s = await_page(b, "polls going on", lambda s: s["polls"] >= p + 3)
    if s["errors"] or s["csp"]:
        fail("%d failed polls, %d CSP violations" % (s["errors"], s["csp"]))
    if s["stores"]["done"]["state"] != "vanished" or \
            s["stores"]["live"]["state"] != "complete":
        fail("after the removal: %s" % json.dumps(s["stores"]))
    ok("done shown vanished, polling goes on (%d polls, no error, no CSP "
       "violation)" % s["polls"])
    if s["wait"] != 200:
        fail("after a good poll the next is due in %r ms, not 200" % s["wait"])
    if SHOT:
        screenshot(b, SHOT)

    serve.send_signal(signal.SIGTERM)
    finish(serve, "serve")
    errs = open(os.path.join(T, "serve.err")).read().splitlines()
    if len(errs) > 5:
        fail("serve logged %d lines: %s" % (len(errs), errs[:10]))
    ok("serve exits 0, %d log lines" % len(errs))

    # 4. serve gone: the page backs off (the delay doubles at each failed
    # poll, from the poll interval up to 30 s), not a retry loop at the
    # poll rate. The DOM's data-next-poll-ms says which delay is set.
    # Every failed poll is one of these: step 3 saw none while serve ran.
    s = await_page(b, "three failed polls", lambda s: s["errors"] >= 3)
    want = min(30000, 200 * 2 ** s["errors"])
    if s["wait"] != want:
        fail("after %d failed polls the next is due in %r ms, expected %d"
             % (s["errors"], s["wait"], want))
    ok("serve gone: %d failed polls, the next one in %d ms (backing off)"
       % (s["errors"], s["wait"]))

    # 5. A new serve at the same address, "live" removed meanwhile: it
    # never saw either store, so it lists neither; the page drops their
    # panels (no stale figures shown as live) and polls at its pace again.
    subprocess.run(["rm", "-rf", live], check=True)
    os.unlink(addr_file)
    serve = spawn(["serve", "--listen", addr, "--address-file", addr_file,
                   "--metrics-dir", stores],
                  stderr=open(os.path.join(T, "serve2.err"), "wb"))
    end = time.monotonic() + DEADLINE
    while not os.path.exists(addr_file):
        if serve.poll() is not None or time.monotonic() > end:
            fail("serve did not start again at %s" % addr)
        time.sleep(0.02)
    e = s["errors"]
    s = await_page(b, "a good poll after the restart", lambda s:
                   s["wait"] == 200)
    if s["stores"]:
        fail("stores no server lists still shown: %s"
             % json.dumps(s["stores"]))
    if s["errors"] > e + 2:
        fail("%d more failed polls after the restart" % (s["errors"] - e))
    ok("serve back: panels of unlisted stores gone, polling every 200 ms")
    b.close()
    serve.send_signal(signal.SIGTERM)
    finish(serve, "serve again")


def reap():
    """No child outlives the test, whatever ended it."""
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


try:
    main()
finally:
    reap()
