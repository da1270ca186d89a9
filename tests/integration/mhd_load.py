#!/usr/bin/env python3
"""libmicrohttpd is loaded by serve alone, as it starts (src/http_mhd.c).

- No other mode loads it: `metricsd MODE --help` for every mode, with
  the dynamic loader's LD_DEBUG=files trace, which names every object it
  loads (checked to name libuv, so that an empty trace cannot pass);
  and aggregate, up and ready (its ready-check received), has neither
  libmicrohttpd nor GnuTLS in /proc/PID/maps.
- serve, once ready, has both mapped (and not libzmq: it has no ZeroMQ
  ready-check to send) and answers GET /healthz.
- serve, when its libmicrohttpd cannot be loaded, exits 1 with a message
  that names it: a file of that name that is not a library, and a real
  library without libmicrohttpd's functions, put first in the search
  path with LD_LIBRARY_PATH.

usage: mhd_load.py METRICSD_BIN HELPERS TMPDIR MODE...
"""
import os
import re
import select
import socket
import subprocess
import sys
import urllib.request

from libload import (CHILDREN, DEADLINE, aggregate_up, bad_library, fail,
                     maps, mapped_path, soname_of, stop)

BIN, HELPERS, TMP, MODES = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
MHD = re.compile(rb"libmicrohttpd")
GNUTLS = re.compile(rb"libgnutls")


def start_ready(argv, name):
    """Start argv with $NOTIFY_SOCKET, return it once it says READY=1."""
    path = os.path.join(TMP, name + ".notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    p = subprocess.Popen(argv, env=dict(os.environ, NOTIFY_SOCKET=path),
                         stdout=subprocess.DEVNULL,
                         stderr=open(os.path.join(TMP, name + ".err"), "wb"))
    CHILDREN.append(p)
    while True:
        r, _, _ = select.select([sock], [], [], DEADLINE)
        if not r:
            fail("%s: no READY=1 within %ds" % (name, DEADLINE))
        if b"READY=1" in sock.recv(4096).split(b"\n"):
            break
    sock.close()
    return p


# Every mode's start-up, to its usage: libuv loaded, libmicrohttpd not.
if not MODES:
    fail("no modes given")
for mode in MODES:
    r = subprocess.run([BIN, mode, "--help"], env=dict(os.environ,
                       LD_DEBUG="files"), stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=DEADLINE)
    if r.returncode != 0:
        fail("%s --help exited %d" % (mode, r.returncode))
    if not re.search(rb"file=libuv\.so", r.stderr):
        fail("%s --help: LD_DEBUG=files traced no libuv: %r" %
             (mode, r.stderr[:300]))
    if MHD.search(r.stderr) or GNUTLS.search(r.stderr):
        fail("%s --help loaded libmicrohttpd or GnuTLS" % mode)
print("ok: no mode loads libmicrohttpd to start (%d modes, LD_DEBUG)" %
      len(MODES))

# A mode that stays up: aggregate, ready (its ready-check received by
# the serve_readywait helper), waiting for events.
agg = aggregate_up(BIN, HELPERS, TMP)
if not mapped_path(agg.pid, re.compile(rb"libzmq")):
    fail("aggregate: no libzmq in its maps: the check sees nothing")
if MHD.search(maps(agg.pid)) or GNUTLS.search(maps(agg.pid)):
    fail("aggregate has libmicrohttpd or GnuTLS mapped")
print("ok: aggregate, ready, has no libmicrohttpd or GnuTLS mapped")
stop(agg, "aggregate")

# serve loads it as it starts, and serves.
addr_file = os.path.join(TMP, "addr")
srv = start_ready([BIN, "serve", "--listen", "127.0.0.1:0", "--address-file",
                   addr_file, "--metrics-dir", os.path.join(TMP, "none")],
                  "serve")
mhd_path = mapped_path(srv.pid, MHD)
if not mhd_path or not GNUTLS.search(maps(srv.pid)):
    fail("serve, ready, has no libmicrohttpd or GnuTLS mapped")
# Nor does it need libzmq, without a ZeroMQ ready-check (zmq_load.py).
if re.search(rb"libzmq", maps(srv.pid)):
    fail("serve, with no ready-check to send, has libzmq mapped")
uv_path = mapped_path(srv.pid, re.compile(rb"/libuv\.so"))
with open(addr_file) as f:
    addr = f.read().strip()
with urllib.request.urlopen("http://%s/healthz" % addr,
                            timeout=DEADLINE) as r:
    if r.status != 200 or r.read() != b"ok\n":
        fail("GET /healthz: %d" % r.status)
print("ok: serve, ready, has libmicrohttpd mapped (%s) and answers" %
      os.path.basename(mhd_path))
stop(srv, "serve")

# The name serve asks the dynamic loader for: the library's SONAME.
soname = soname_of(mhd_path)

# A library that will not load, first in the search path.
bad = os.path.join(TMP, "badlib")
os.mkdir(bad)
if not uv_path:
    fail("serve had no libuv mapped to copy")
cases = [("not a library", None, "cannot load libmicrohttpd"),
         ("no MHD_ functions", uv_path, "MHD_start_daemon")]
for what, src, want in cases:
    bad_library(os.path.join(bad, soname), src)
    r = subprocess.run([BIN, "serve", "--listen", "127.0.0.1:0",
                        "--metrics-dir", os.path.join(TMP, "none")],
                       env=dict(os.environ, LD_LIBRARY_PATH=bad),
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       timeout=DEADLINE)
    err = r.stderr.decode(errors="replace")
    if r.returncode != 1:
        fail("serve with %s as %s exited %d, expected 1: %s" %
             (what, soname, r.returncode, err))
    if soname not in err or want not in err:
        fail("serve with %s as %s: message lacks %r or %r: %s" %
             (what, soname, soname, want, err))
    print("ok: %s as %s: serve exits 1: %s" % (what, soname,
                                               err.strip().splitlines()[-1]))
