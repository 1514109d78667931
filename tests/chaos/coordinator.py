#!/usr/bin/env python3
"""Prints the node id of the broker that coordinates a group or a transactional id.

usage: coordinator.py group|transaction KEY

Asks the brokers of $KAFKA_BOOTSTRAP_SERVERS, one after the other, with
Kafka's FindCoordinator request (API key 10, version 2, key type 0 for a
consumer group, 1 for a transactional id): the coordinator is the leader
of the key's partition of __consumer_offsets or __transaction_state, the
broker a chaos case must kill to hit the coordinator.  Neither librdkafka
nor confluent-kafka exposes FindCoordinator for a transactional id, hence
the few bytes by hand (the request and response layouts are those of the
Kafka protocol guide for FindCoordinator v2).

Exit 0 with the node id on stdout; 1 when no broker answered with a
coordinator within 30 s (the last error on stderr); 2 on bad arguments.
"""
import os
import socket
import struct
import sys
import time

KEY_TYPES = {"group": 0, "transaction": 1}


def string(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def find_coordinator(host, port, key, key_type, timeout=5.0):
    """(error_code, node_id) from one broker."""
    body = struct.pack(">hhi", 10, 2, 1) + string("vtev-chaos") + string(key) + struct.pack(">b", key_type)
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(struct.pack(">i", len(body)) + body)
        buf = b""
        while len(buf) < 4 or len(buf) < 4 + struct.unpack(">i", buf[:4])[0]:
            chunk = s.recv(65536)
            if not chunk:
                raise OSError("connection closed")
            buf += chunk
    # size, correlation id, throttle_time_ms, error_code, error_message, node_id, ...
    off = 4 + 4 + 4
    (err,) = struct.unpack_from(">h", buf, off)
    off += 2
    (mlen,) = struct.unpack_from(">h", buf, off)
    off += 2 + max(mlen, 0)
    (node,) = struct.unpack_from(">i", buf, off)
    return err, node


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in KEY_TYPES:
        sys.stderr.write(__doc__)
        return 2
    key_type, key = KEY_TYPES[sys.argv[1]], sys.argv[2]
    brokers = [b.rsplit(":", 1) for b in os.environ["KAFKA_BOOTSTRAP_SERVERS"].split(",") if b]
    last = "no broker tried"
    deadline = time.time() + 30
    while time.time() < deadline:
        for host, port in brokers:
            try:
                err, node = find_coordinator(host, int(port), key, key_type)
            except (OSError, struct.error) as e:
                last = "%s:%s: %s" % (host, port, e)
                continue
            if err == 0 and node >= 0:
                print(node)
                return 0
            last = "%s:%s: error code %d" % (host, port, err)
        time.sleep(0.5)
    sys.stderr.write("coordinator.py: no coordinator for %s %s: %s\n" % (sys.argv[1], key, last))
    return 1


if __name__ == "__main__":
    sys.exit(main())
