#!/usr/bin/env python3
"""Prints a TCP port on 127.0.0.1 that nothing listens on now, below the
ephemeral range (32768-60999 here), where no outgoing connection takes it
as its local port.  The tests' servers (PostgreSQL, Prometheus, the example
services' --http) start on it; a caller that finds it taken anyway (tests
run in parallel) asks again."""
import random
import socket
import sys

for _ in range(200):
    port = random.randrange(20000, 32000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    sys.exit(0)
sys.exit("free_port.py: no free port in 20000-32000")
