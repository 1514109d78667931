#!/usr/bin/env python3
"""Consume throughput of the Python stack: DeserializingConsumer + AvroDeserializer.

usage: py_consume.py TYPE PARTITIONS TOPIC N RUNS
Reads the N events `bench_consume --fill-only` wrote to TOPIC with a fresh
group per run; time runs from the first message to the N-th (join excluded),
like bench_consume. Prints R lines (side "python").
"""
import os
import sys
import time

from confluent_kafka import DeserializingConsumer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import StringDeserializer

import common


def main():
    kind, parts, topic, n, runs = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
        int(sys.argv[4]), int(sys.argv[5])
    bs, sr = common.env()
    registry = SchemaRegistryClient({"url": sr})
    case = "%s p=%d" % (kind, parts)
    for run in range(runs):
        c = DeserializingConsumer({
            "bootstrap.servers": bs,
            "group.id": "bench-consume-py-%d-%d" % (os.getpid(), run),
            "partition.assignment.strategy": "roundrobin",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": True,
            "auto.commit.interval.ms": 1000,
            "key.deserializer": StringDeserializer("utf_8"),
            "value.deserializer": AvroDeserializer(registry, common.schema_str(kind)),
        })
        c.subscribe([topic])
        count = 0
        t0 = t1 = None
        deadline = time.monotonic() + 300
        while count < n and time.monotonic() < deadline:
            msg = c.poll(1.0)
            if msg is None or msg.error() or msg.value() is None:
                continue
            count += 1
            if count == 1:
                t0 = time.monotonic()
            if count == n:
                t1 = time.monotonic()
        c.close()
        if count < n:
            sys.exit("only %d of %d events" % (count, n))
        common.result("consume", case, "python", "eps", (n - 1) / (t1 - t0))


if __name__ == "__main__":
    main()
