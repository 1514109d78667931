#!/usr/bin/env python3
"""Publish throughput of the Python stack: SerializingProducer + AvroSerializer.

usage: py_publish.py BENCH_PUBLISH TYPE PARTITIONS N RUNS
Same topic (bench-<type>-p<P>, created by bench_publish), same key, headers,
event content and librdkafka settings as bench_publish's typed side.
Prints R lines like the C programs (side "python").
"""
import sys
import time

from confluent_kafka import SerializingProducer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext, StringSerializer

import common


def main():
    bench_publish, kind, parts, n, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
        int(sys.argv[4]), int(sys.argv[5])
    bs, sr = common.env()
    topic = "bench-%s-p%d" % (kind, parts)
    ev = common.sample_event(kind, bench_publish)
    headers = [("event_type", ev["event_type"]), ("event_id", ev["event_id"])]
    if "correlation_id" in ev.get("metadata", {}):
        headers.append(("correlation_id", ev["metadata"]["correlation_id"]))
    registry = SchemaRegistryClient({"url": sr})
    case = "%s p=%d" % (kind, parts)
    for _ in range(runs):
        serializer = AvroSerializer(registry, common.schema_str(kind))
        p = SerializingProducer({
            "bootstrap.servers": bs,
            "enable.idempotence": True,
            "acks": "all",
            "socket.nagle.disable": True,
            "compression.codec": "gzip",
            "partitioner": "murmur2_random",
            "linger.ms": 5,
            "key.serializer": StringSerializer("utf_8"),
            "value.serializer": serializer,
        })
        failed = []

        def on_delivery(err, msg):
            if err is not None:
                failed.append(err)

        # warm-up: connection and schema registration
        p.produce(topic, key=ev["vessel_id"], value=ev, headers=headers, on_delivery=on_delivery)
        p.flush(30)
        t0 = time.monotonic()
        for _ in range(n):
            while True:
                try:
                    p.produce(topic, key=ev["vessel_id"], value=ev, headers=headers,
                              on_delivery=on_delivery)
                    break
                except BufferError:
                    p.poll(0.01)
            p.poll(0)
        if p.flush(120) != 0:
            sys.exit("flush timed out")
        t1 = time.monotonic()
        if failed:
            sys.exit("%d deliveries failed: %s" % (len(failed), failed[0]))
        size = len(serializer(ev, SerializationContext(topic, MessageField.VALUE)))
        common.result("publish", case, "python", "eps", n / (t1 - t0))
        common.result("publish", case, "python", "MBps", n * size / (t1 - t0) / 1e6)
        common.result("publish", case, "python", "bytes", size)


if __name__ == "__main__":
    main()
