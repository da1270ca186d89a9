#!/usr/bin/env python3
"""The seed's way of starting services, the baseline of bench_launch.sh:
one subprocess.Popen per service plus one ZMQ PULL socket.

  launch_popen.py zmq  N SENDER DIR   spawn N x sh -c 'SENDER "$@" && exec
                                      sleep 100', wait for N ready frames
  launch_popen.py none N              spawn N x sleep 100

Prints the milliseconds from the first Popen to the last service ready
(for none: to the last Popen returned, i.e. exec'd), then kills them.
"""
import os
import signal
import sys
import time


def main():
    mode, n = sys.argv[1], int(sys.argv[2])
    procs = []
    if mode == "zmq":
        import zmq
        sender, d = sys.argv[3], sys.argv[4]
        ctx = zmq.Context()
        pull = ctx.socket(zmq.PULL)
        ep = "ipc://%s/py-ready-%d" % (d, os.getpid())
        pull.bind(ep)
    import subprocess
    t0 = time.monotonic()
    for i in range(1, n + 1):
        if mode == "zmq":
            env = dict(os.environ, METRICSD_READY_ENDPOINT=ep,
                       METRICSD_READY_ID=str(i))
            argv = ["/bin/sh", "-c", sender + ' "$@" && exec sleep 100',
                    "s%d" % i]
        else:
            env = None
            argv = ["sleep", "100"]
        procs.append(subprocess.Popen(argv, env=env,
                                      start_new_session=True))
    if mode == "zmq":
        seen = set()
        pull.setsockopt(zmq.RCVTIMEO, 60000)
        while len(seen) < n:
            seen.add(pull.recv())
    t1 = time.monotonic()
    # Flushed now: bench_launch_run.py stamps its end-to-end time when it
    # reads this line.
    print("%.3f" % ((t1 - t0) * 1000), flush=True)
    for p in procs:
        os.killpg(p.pid, signal.SIGKILL)
    for p in procs:
        p.wait()
    if mode == "zmq":
        pull.close(0)
        ctx.term()


main()
