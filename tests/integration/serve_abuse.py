#!/usr/bin/env python3
"""Scrapes of `metricsd serve` while other clients abuse its connections.

usage: serve_abuse.py HOST:PORT PHASE SCRAPES EXPECT
       serve_abuse.py --attack HOST:PORT PHASE      (the attacker, internal)

PHASE is one of the rows of the abuse table (see test_serve_abuse.sh):
  idle8-local       8 idle connections from 127.0.0.1
  slowloris100      100 slowloris connections from 50 loopback addresses
  idle2000-multi    2,000 idle connections from 248 loopback addresses
  idle2000-local    2,000 idle connections from 127.0.0.1
  all               all of the above at once
  noread8-local     8 connections from 127.0.0.1 that send GET /metrics and
                    never read the answer; the server's answer must be
                    larger than its socket buffers can take
                    (test_serve_abuse.sh sees to it)
  noread72-multi    72 such connections, 8 from each of 9 loopback
                    addresses (more than --max-connections in all), half
                    of them half-closed after the request

The attacker runs in a process of its own (so that its work never delays
the scraper's clock through the interpreter lock). It opens its
connections without blocking, prints "ready" once every one of them is
connected, and from then on keeps that many open: a connection the server
closes is opened again at once, so the server sees a steady churn rather
than a flood that dies down. Slowloris connections send the start of a
request head and then one more header byte every 0.2 s, never finishing.
Never-reading connections have a 4 KiB receive buffer and send a whole
request at once; they are watched for the server's reset or end of stream
only (EPOLLRDHUP, EPOLLHUP, EPOLLERR), never read. They hold the server's
connections once it is sending them their answers, so for those phases
"ready" also waits until as many of them as the limits let in (8 from one
address, 64 in all) have had the start of an answer in their buffers
(seen with MSG_PEEK, which reads nothing): the server has answered the
first wave, and the attack runs as it will from then on.

The scraper then does SCRAPES plain GETs of /metrics, one every 0.2 s, each
on a new connection from 127.0.0.1 (as Prometheus does after an idle
keep-alive connection is closed), and checks that each is answered with
status 200 and a body containing EXPECT, within 1 s of starting to
connect. It prints one line of figures and exits 1 if any scrape failed.
"""
import os
import select
import selectors
import socket
import statistics
import subprocess
import sys
import time

# Every scrape must be answered within this: 1 s, the figure;
# ABUSE_BUDGET overrides it (test_serve_abuse.sh: sanitizer builds).
BUDGET = float(os.environ.get("ABUSE_BUDGET", "1.0"))
PERIOD = 0.2            # one scrape every PERIOD seconds
READY_DEADLINE = 60.0   # for the attacker to get all its connections up
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)


def groups(phase):
    """(count, source addresses, kind) for each attack of a phase."""
    idle8 = (8, ["127.0.0.1"], "idle")
    slow = (100, ["127.0.3.%d" % i for i in range(1, 51)], "slowloris")
    multi = (2000, ["127.0.4.%d" % i for i in range(1, 249)], "idle")
    local = (2000, ["127.0.0.1"], "idle")
    table = {
        "idle8-local": [idle8],
        "slowloris100": [slow],
        "idle2000-multi": [multi],
        "idle2000-local": [local],
        "all": [idle8, slow, multi, local],
        "noread8-local": [(8, ["127.0.0.1"], "noread")],
        "noread72-multi": [(36, ["127.0.5.%d" % i for i in range(1, 10)],
                            "noread"),
                           (36, ["127.0.5.%d" % i for i in range(1, 10)],
                            "noread-half")],
    }
    if phase not in table:
        sys.exit("unknown phase %r" % phase)
    return table[phase]


def holding(phase):
    """How many never-reading connections must be receiving an answer
    before the attack is in place (see the top)."""
    return {"noread8-local": 8, "noread72-multi": 64}.get(phase, 0)


# ---- the attacker ----

class Attacker:
    def __init__(self, host, port):
        self.host, self.port = host, port
        self.sel = selectors.DefaultSelector()
        self.conns = {}         # socket -> (source, kind, connected?)
        self.closed_by_server = 0
        # never-reading sockets, watched for the server's reset only
        self.hup = select.epoll()
        self.hup_socks = {}     # fd -> socket
        self.answered = set()   # of those, the ones answered
        self.nanswered = 0      # ever, also those closed since
        self.sel.register(self.hup, selectors.EVENT_READ)

    def open(self, src, kind):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        if kind.startswith("noread"):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        s.bind((src, 0))
        err = s.connect_ex((self.host, self.port))
        if err not in (0, 115):     # EINPROGRESS
            s.close()
            raise OSError(err, os.strerror(err))
        self.conns[s] = [src, kind, False]
        self.sel.register(s, selectors.EVENT_WRITE)

    def connected(self, s):
        src, kind, _ = self.conns[s]
        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
            self.reopen(s)
            return
        self.conns[s][2] = True
        self.sel.modify(s, selectors.EVENT_READ)
        if kind == "slowloris":
            try:
                s.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            except OSError:
                pass
        if kind.startswith("noread"):
            self.sel.unregister(s)
            try:
                s.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                if kind == "noread-half":
                    s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            self.hup_socks[s.fileno()] = s
            self.hup.register(s, select.EPOLLRDHUP | select.EPOLLHUP |
                              select.EPOLLERR)

    def reopen(self, s):
        src, kind, _ = self.conns.pop(s)
        if self.hup_socks.pop(s.fileno(), None) is not None:
            self.hup.unregister(s)
            self.answered.discard(s)
        else:
            self.sel.unregister(s)
        s.close()
        self.open(src, kind)

    def hung_up(self):
        for fd, ev in self.hup.poll(0):
            s = self.hup_socks.get(fd)
            if s is not None:
                self.closed_by_server += 1
                self.reopen(s)

    def readable(self, s):
        try:
            d = s.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            d = b""
        if not d:
            self.closed_by_server += 1
            self.reopen(s)

    def receiving(self):
        """How many never-reading connections have been answered so far."""
        for s in self.hup_socks.values():
            if s in self.answered:
                continue
            try:
                if s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT):
                    self.answered.add(s)
                    self.nanswered += 1
            except OSError:
                pass
        return self.nanswered

    def trickle(self):
        for s, (src, kind, up) in self.conns.items():
            if up and kind == "slowloris":
                try:
                    s.send(b"a")
                except OSError:
                    pass

    def run(self, phase):
        for count, srcs, kind in groups(phase):
            for i in range(count):
                self.open(srcs[i % len(srcs)], kind)
        ready = False
        need, next_peek, got = holding(phase), 0.0, 0
        next_trickle = time.monotonic() + PERIOD
        while True:
            now = time.monotonic()
            for key, ev in self.sel.select(max(0.0, next_trickle - now)):
                s = key.fileobj
                if s is self.hup:
                    self.hung_up()
                    continue
                if s not in self.conns:
                    continue
                if not self.conns[s][2]:
                    self.connected(s)
                else:
                    self.readable(s)
            if not ready and all(c[2] for c in self.conns.values()):
                if need and time.monotonic() >= next_peek:
                    got = self.receiving()
                    next_peek = time.monotonic() + 0.05
                if need == 0 or got >= need:
                    ready = True
                    print("ready %d" % len(self.conns), flush=True)
            if time.monotonic() >= next_trickle:
                self.trickle()
                next_trickle = time.monotonic() + PERIOD
                # the scraper closes our stdin when it is done
                if ready and self.stdin_closed():
                    break
        print("closed-by-server %d" % self.closed_by_server, flush=True)

    @staticmethod
    def stdin_closed():
        import select
        r, _, _ = select.select([sys.stdin], [], [], 0)
        return bool(r) and not sys.stdin.buffer.read1(1)


# ---- the scraper ----

def scrape(host, port, expect):
    """One GET /metrics on a new connection: (seconds, error or None)."""
    t0 = time.monotonic()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5 * BUDGET)    # to measure how late a late answer is
    try:
        s.connect((host, port))
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: %s\r\n"
                  b"Connection: close\r\n\r\n" % host.encode())
        parts = []
        while True:
            d = s.recv(1 << 20)
            if not d:
                break
            parts.append(d)
        resp = b"".join(parts)
    except OSError as e:
        return time.monotonic() - t0, "%s" % (e.strerror or e)
    finally:
        s.close()
    dt = time.monotonic() - t0
    if not resp.startswith(b"HTTP/1.1 200 "):
        return dt, "answer %r" % resp[:60]
    if expect.encode() not in resp:
        return dt, "body without %r" % expect
    if dt > BUDGET:
        return dt, "answered after %.2fs" % dt
    return dt, None


def main():
    if sys.argv[1] == "--attack":
        host, port = sys.argv[2].rsplit(":", 1)
        Attacker(host, int(port)).run(sys.argv[3])
        return 0
    addr, phase, n, expect = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
        sys.argv[4]
    host, port = addr.rsplit(":", 1)
    port = int(port)
    groups(phase)
    att = subprocess.Popen([sys.executable, __file__, "--attack", addr, phase],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           text=True)
    # Wait for the event "every attack connection is up" (the attacker's
    # line), with a deadline enforced by the attacker dying or by us.
    import select
    r, _, _ = select.select([att.stdout], [], [], READY_DEADLINE)
    line = att.stdout.readline() if r else "(nothing in %.0f s)" % READY_DEADLINE
    if not line.startswith("ready"):
        att.kill()
        print("FAIL: %s: attacker did not get ready: %r" % (phase, line))
        return 1
    held = int(line.split()[1])
    lat, errors = [], []
    start = time.monotonic()
    for i in range(n):
        # scrape i starts at start + i * PERIOD (pacing, not synchronisation)
        delay = start + i * PERIOD - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        dt, err = scrape(host, port, expect)
        lat.append(dt)
        if err:
            errors.append("scrape %d: %s" % (i + 1, err))
    att.stdin.close()
    out = att.stdout.read()
    att.wait()
    closed = out.split()[-1] if out.strip() else "?"
    print("%s: %d attack connections held (server closed %s of them); "
          "%d of %d scrapes ok; latency median %.1f ms, worst %.1f ms" %
          (phase, held, closed, n - len(errors), n,
           1000 * statistics.median(lat), 1000 * max(lat)))
    for e in errors[:5]:
        print("  " + e)
    if closed in ("?", "0"):
        # the attack never reached the server: the figures prove nothing
        print("FAIL: %s: the server closed none of the attack connections"
              % phase)
        return 1
    if errors:
        print("FAIL: %s: %d of %d scrapes not answered correctly within "
              "%.0f s" % (phase, len(errors), n, BUDGET))
        return 1
    print("ok: %s: every scrape answered correctly within %.0f s" %
          (phase, BUDGET))
    return 0


if __name__ == "__main__":
    sys.exit(main())
