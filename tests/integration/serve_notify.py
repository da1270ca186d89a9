#!/usr/bin/env python3
"""metricsd serve and $NOTIFY_SOCKET: READY=1 only once it answers HTTP,
STOPPING=1 and exit 0 on SIGTERM. Path and abstract ('@') socket names.

usage: serve_notify.py METRICSD_BIN TMPDIR
"""
import os
import select
import signal
import socket
import subprocess
import sys
import urllib.request

BIN, TMP = sys.argv[1], sys.argv[2]
DEADLINE = 30.0


CHILDREN = []


def fail(msg):
    print("FAIL: " + msg)
    for c in CHILDREN:  # no server outlives a failed test
        if c.poll() is None:
            c.kill()
            c.wait()
    sys.exit(1)


def recv(sock):
    r, _, _ = select.select([sock], [], [], DEADLINE)
    if not r:
        fail("no notification within %ds" % DEADLINE)
    return sock.recv(4096)


for name in (os.path.join(TMP, "notify.sock"),
             "@metricsd-test-notify-%d" % os.getpid()):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name[1:] if name.startswith("@") else name)
    addr_file = os.path.join(TMP, "addr")
    if os.path.exists(addr_file):
        os.unlink(addr_file)
    env = dict(os.environ, NOTIFY_SOCKET=name)
    p = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:0",
                          "--address-file", addr_file,
                          "--metrics-dir", os.path.join(TMP, "none")],
                         env=env)
    CHILDREN.append(p)
    msg = recv(sock)
    if msg != b"READY=1":
        fail("first notification %r" % msg)
    # Ready means listening: the address is known and a request succeeds.
    with open(addr_file) as f:
        addr = f.read().strip()
    with urllib.request.urlopen("http://%s/healthz" % addr,
                                timeout=DEADLINE) as r:
        if r.status != 200:
            fail("healthz %d" % r.status)
    print("ok: READY=1 on %s, and serve answers at once" % name)
    p.send_signal(signal.SIGTERM)
    msg = recv(sock)
    if msg != b"STOPPING=1":
        fail("after SIGTERM: %r" % msg)
    rc = p.wait(timeout=DEADLINE)
    if rc != 0:
        fail("serve exited %d on SIGTERM" % rc)
    print("ok: STOPPING=1 and exit 0 on SIGTERM")
    sock.close()
