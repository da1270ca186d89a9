"""What mhd_load.py and zmq_load.py share: checking which libraries a
metricsd process has loaded, and making one fail to load.

fail() ends the test, killing every process in CHILDREN first, so that
no process outlives a failed test.
"""
import os
import re
import shutil
import signal
import subprocess
import sys

DEADLINE = 30.0
CHILDREN = []


def fail(msg):
    print("FAIL: " + msg)
    for c in CHILDREN:  # no process outlives a failed test
        if c.poll() is None:
            c.kill()
            c.wait()
    sys.exit(1)


def maps(pid):
    with open("/proc/%d/maps" % pid, "rb") as f:
        return f.read()


def mapped_path(pid, pattern):
    """The file of the first mapping of pid whose path matches pattern."""
    for line in maps(pid).splitlines():
        parts = line.split(None, 5)
        if len(parts) == 6 and pattern.search(parts[5]):
            return parts[5].decode()
    return None


def readywait(helpers, tmp, name, ident):
    """The serve_readywait helper bound at a new endpoint, waiting for
    ident: (its process, the endpoint)."""
    ep = "ipc://" + os.path.join(tmp, name + ".sock")
    rw = subprocess.Popen([os.path.join(helpers, "serve_readywait"), ep,
                           str(ident), str(int(DEADLINE * 1000))],
                          stdout=subprocess.PIPE)
    CHILDREN.append(rw)
    if rw.stdout.readline() != b"bound\n":
        fail("serve_readywait did not bind")
    return rw, ep


def received(rw, ident, name):
    """readywait's process got ident's ready-check, and exited 0."""
    if (rw.stdout.readline() != b"ready %d\n" % ident or
            rw.wait(timeout=DEADLINE) != 0):
        fail("%s: its ready-check was not received" % name)


def aggregate_up(bin, helpers, tmp):
    """metricsd aggregate, up and ready (its ready-check received by the
    serve_readywait helper), waiting for events that never come."""
    rw, ep = readywait(helpers, tmp, "agg", 7)
    agg = subprocess.Popen([bin, "aggregate", "--connect",
                            "ipc://" + os.path.join(tmp, "nobody.sock"),
                            "--metrics-dir", os.path.join(tmp, "agg"),
                            "--ready", ep, "--readiness-id", "7"],
                           stdout=subprocess.DEVNULL,
                           stderr=open(os.path.join(tmp, "agg.err"), "wb"))
    CHILDREN.append(agg)
    received(rw, 7, "aggregate")
    return agg


def stop(p, name):
    """SIGTERM to p, which must exit 0."""
    p.send_signal(signal.SIGTERM)
    rc = p.wait(timeout=DEADLINE)
    if rc != 0:
        fail("%s exited %d on SIGTERM" % (name, rc))


def soname_of(path):
    """The SONAME of the library at path: the name metricsd asks the
    dynamic loader for."""
    od = subprocess.run(["objdump", "-p", path], capture_output=True)
    m = re.search(rb"^\s*SONAME\s+(\S+)", od.stdout, re.M)
    if od.returncode != 0 or not m:
        fail("objdump -p %s: no SONAME" % path)
    return m.group(1).decode()


def bad_library(path, src):
    """Put at path a file the loader cannot use as the library: a copy of
    the real library src (which lacks the expected functions), or, with
    src None, a text file."""
    if src:
        shutil.copyfile(src, path)
    else:
        with open(path, "w") as f:
            f.write("not a shared library\n")
