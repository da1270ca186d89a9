#!/usr/bin/env python3
"""Run a command with standard output a socket or a terminal that nobody
reads, its standard error into a file, and say how it ended.

  stalled_stdout.py socket|pty ERRFILE COMMAND...

Prints "STATUS MILLISECONDS" once COMMAND has exited. Exits 1, killing
it, when it still runs after 20 s (blocked on its output); and, for a
socket, when the socket was left non-blocking (COMMAND and its caller
share its file description, which must stay as it was given).
"""
import os
import pty
import socket
import subprocess
import sys
import time

kind, errfile, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
if kind == "socket":
    out, peer = socket.socketpair()  # peer is never read
    fd = out.fileno()
elif kind == "pty":
    peer, fd = pty.openpty()  # peer is never read
else:
    sys.exit("stalled_stdout.py: socket or pty, not %r" % kind)
t0 = time.monotonic()
with open(errfile, "w") as err:
    p = subprocess.Popen(argv, stdout=fd, stderr=err)
    try:
        rc = p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        sys.exit("still running after 20 s: blocked on its output")
el = int((time.monotonic() - t0) * 1000)
if kind == "socket" and not os.get_blocking(fd):
    sys.exit("O_NONBLOCK left on the socket given as standard output")
print(rc, el)
