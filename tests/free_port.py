#!/usr/bin/env python3
"""Prints a TCP port on 127.0.0.1 that nothing listens on now, below the
ephemeral range (32768-60999 here), where no outgoing connection takes it
as its local port, and outside 27000-29999, where the stacks listen (the
main stack, the chaos and secure tests' stacks: scripts/stack.sh and
tests/*/*.sh; a killed chaos broker's port is free until it restarts).  The tests' servers (PostgreSQL, Prometheus, the example
services' --http) start on it; a caller that finds it taken anyway (tests
run in parallel) asks again."""
import random
import socket
import sys

for _ in range(200):
    port = random.choice((random.randrange(20000, 27000), random.randrange(30000, 32000)))
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    sys.exit(0)
sys.exit("free_port.py: no free port in 20000-26999 or 30000-31999")
