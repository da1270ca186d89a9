#!/usr/bin/env python3
"""libzmq is loaded by the modes that use ZeroMQ, at their first call of
it (src/zmq_load.c), and by no other.

- metricsd is not linked with it: no NEEDED entry names it, and no
  zmq_ symbol is in its dynamic symbol table (none it needs from a
  library, none it exports).
- No mode loads it to start: `metricsd --version` and `metricsd MODE
  --help` for every mode, under the dynamic loader's LD_DEBUG=files
  trace, which names every object it loads (checked to name libuv, so
  that an empty trace cannot pass).
- read and report of a store, and tokenize of a text, exit 0 without
  loading it.
- ready loads it (the trace names it, dynamically loaded) and its
  ready-check is received; aggregate, up and ready, has it mapped.
- When it cannot be loaded (a file of its SONAME that is not a library,
  then a library without its functions, first in the search path with
  LD_LIBRARY_PATH), ready, aggregate, record and publish exit 1 with a
  message that names it and says why; read still works.

usage: zmq_load.py METRICSD_BIN HELPERS TMPDIR DATADIR MODE...
"""
import os
import re
import subprocess
import sys

from libload import (DEADLINE, aggregate_up, bad_library, fail,
                     mapped_path, readywait, received, soname_of, stop)

BIN, HELPERS, TMP, DATA = sys.argv[1:5]
MODES = sys.argv[5:]
ZMQ = re.compile(rb"libzmq")
UV = re.compile(rb"file=libuv\.so")


def traced(argv, name, stdin=subprocess.DEVNULL, env=None):
    """Run argv to its exit under LD_DEBUG=files; fail unless it exits 0
    with libuv and without libzmq in the trace."""
    r = subprocess.run(argv, env=dict(env or os.environ, LD_DEBUG="files"),
                       stdin=stdin, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=DEADLINE)
    if r.returncode != 0:
        fail("%s exited %d: %r" % (name, r.returncode, r.stderr[-500:]))
    if not UV.search(r.stderr):
        fail("%s: LD_DEBUG=files traced no libuv: %r" % (name,
                                                         r.stderr[:300]))
    if ZMQ.search(r.stderr):
        fail("%s loaded libzmq" % name)


# Not linked with it, and no zmq_ symbol for libzmq to bind to.
od = subprocess.run(["objdump", "-p", "-T", BIN], capture_output=True)
if od.returncode != 0:
    fail("objdump -p -T %s: %r" % (BIN, od.stderr))
if not re.search(rb"NEEDED\s+libuv\.so", od.stdout):
    fail("objdump -p %s names no NEEDED libuv: the check sees nothing" % BIN)
if re.search(rb"NEEDED\s+libzmq", od.stdout):
    fail("%s is linked with libzmq" % BIN)
if re.search(rb"\szmq_\w+\s*$", od.stdout, re.M):
    fail("%s has zmq_ symbols in its dynamic symbol table" % BIN)
print("ok: metricsd is not linked with libzmq and exports no zmq_ symbol")

# Every mode's start-up, to its usage, and --version.
if not MODES:
    fail("no modes given")
traced([BIN, "--version"], "--version")
for mode in MODES:
    traced([BIN, mode, "--help"], mode + " --help")
print("ok: --version and --help of %d modes do not load libzmq" % len(MODES))

# Real work of the modes that never speak ZeroMQ.
store = os.path.join(TMP, "store")
r = subprocess.run([os.path.join(HELPERS, "read_fill"), store,
                    "counter:total:u64:42", "series:lat_ns:u64:30,10,20"])
if r.returncode != 0:
    fail("read_fill exited %d" % r.returncode)
traced([BIN, "read", "--metrics-dir", store, "--json"], "read")
traced([BIN, "report", "--metrics-dir", store], "report")
with open(os.path.join(TMP, "texts"), "w") as f:
    f.write('"hello world"\n"hello</s>world"\n')
with open(os.path.join(TMP, "texts"), "rb") as f:
    traced([BIN, "tokenize", "--tokenizer",
            os.path.join(DATA, "tok_spm.json")], "tokenize", stdin=f)
print("ok: read, report and tokenize run without loading libzmq")

# ready loads it as it sends, and is heard.
rw, ep = readywait(HELPERS, TMP, "ready", 5)
r = subprocess.run([BIN, "ready", "--ready-endpoint", ep, "--readiness-id",
                    "5"], env=dict(os.environ, LD_DEBUG="files"),
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   timeout=DEADLINE)
if r.returncode != 0:
    fail("ready exited %d: %r" % (r.returncode, r.stderr[-500:]))
if not re.search(rb"file=libzmq\.so\S* \[0\];\s+dynamically loaded",
                 r.stderr):
    fail("ready: the trace has no libzmq dynamically loaded: %r" %
         [ln for ln in r.stderr.splitlines() if ZMQ.search(ln)][:4])
received(rw, 5, "ready")
print("ok: ready loads libzmq as it sends, and its check is received")

# aggregate, up and ready, has it mapped.
agg = aggregate_up(BIN, HELPERS, TMP)
zmq_path = mapped_path(agg.pid, re.compile(rb"/libzmq\.so"))
uv_path = mapped_path(agg.pid, re.compile(rb"/libuv\.so"))
if not zmq_path or not uv_path:
    fail("aggregate, ready, has no libzmq or no libuv mapped")
stop(agg, "aggregate")
print("ok: aggregate, ready, has libzmq mapped (%s)" %
      os.path.basename(zmq_path))

# The name metricsd asks the dynamic loader for: the library's SONAME.
soname = soname_of(zmq_path)

# A library that will not load, first in the search path.
bad = os.path.join(TMP, "badlib")
os.mkdir(bad)
badenv = dict(os.environ, LD_LIBRARY_PATH=bad)
nowhere = "ipc://" + os.path.join(TMP, "nowhere.sock")
users = [
    ("ready", ["ready", "--ready-endpoint", nowhere, "--readiness-id", "1"]),
    ("aggregate", ["aggregate", "--connect", nowhere, "--metrics-dir",
                   os.path.join(TMP, "agg-bad")]),
    ("record", ["record", "--connect", nowhere, "--out",
                os.path.join(TMP, "rec-bad")]),
    ("publish", ["publish", "--bind", nowhere]),
]
cases = [("not a library", None,
          "cannot load the ZeroMQ library " + soname),
         ("a library without zmq_ functions", uv_path,
          "the ZeroMQ library %s lacks zmq_" % soname)]
for what, src, want in cases:
    bad_library(os.path.join(bad, soname), src)
    for mode, args in users:
        r = subprocess.run([BIN] + args, env=badenv,
                           stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           timeout=DEADLINE)
        err = r.stderr.decode(errors="replace")
        if r.returncode != 1:
            fail("%s with %s as %s exited %d, expected 1: %s" %
                 (mode, what, soname, r.returncode, err))
        if want not in err:
            fail("%s with %s as %s: message lacks %r: %s" %
                 (mode, what, soname, want, err))
    print("ok: %s as %s: %s exit 1: %s" % (
        what, soname, ", ".join(u[0] for u in users),
        err.strip().splitlines()[-1]))
    traced([BIN, "read", "--metrics-dir", store], "read with " + what,
           env=badenv)
print("ok: read works with a broken %s first in the search path" % soname)
