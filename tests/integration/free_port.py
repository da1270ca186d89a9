#!/usr/bin/env python3
"""A port nothing listens on now, for a server a test starts later.

It is below the kernel's ephemeral range (ip_local_port_range), so that
no socket of a test running beside this one (bind to port 0, connect)
can take it in the meantime, as it could a port the kernel chose and we
freed. Run as a program, it prints the port.
"""
import random
import socket


def free_port():
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        lo = int(f.read().split()[0])
    while True:
        p = random.randrange(10000, lo) if lo > 11000 else 0
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            s.close()
            continue
        port = s.getsockname()[1]
        s.close()
        return port


if __name__ == "__main__":
    print(free_port())
