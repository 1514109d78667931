#!/usr/bin/env python3
"""Python writer for tests/test_evolution_interop.c: Confluent's own client
(confluent-kafka's SerializingProducer + AvroSerializer) writes
prediction.analysis.requested events with an evolved schema: the priority
symbols re-ordered and one symbol added ("urgent") that the library's
reader lacks.

Usage: evolution_peer.py BOOTSTRAP REGISTRY_URL TOPIC SCHEMA.avsc
Writes one event per symbol of the evolved enum, request_id "req-0000000N"
for the N-th symbol, and prints "request_id symbol" lines on stdout.
"""
import json
import sys
import uuid

from confluent_kafka import SerializingProducer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import StringSerializer


def main(argv):
    bootstrap, url, topic, schema_path = argv[1:5]
    schema = json.load(open(schema_path))
    prio = None
    for f in schema["fields"]:
        if f["name"] == "data":
            for g in f["type"]["fields"]:
                if g["name"] == "priority":
                    prio = g["type"]
    prio["symbols"] = ["high", "normal", "low", "urgent"]
    prio.pop("default", None)
    text = json.dumps(schema)
    client = SchemaRegistryClient({"url": url})
    ser = AvroSerializer(client, text, conf={"auto.register.schemas": True})
    p = SerializingProducer({"bootstrap.servers": bootstrap, "key.serializer": StringSerializer(),
                             "value.serializer": ser, "acks": "all"})
    errors = []
    for n, sym in enumerate(prio["symbols"]):
        ev = {
            "event_id": str(uuid.uuid4()),
            "event_type": "prediction.analysis.requested",
            "timestamp": 1768059000000000 + n,
            "vessel_id": "lng-00%d" % n,
            "request_id": "req-%08d" % n,
            "data": {"vessel_snapshot": {"lat": 29.7, "lon": -93.8, "speed": 12.0, "heading": 90.0,
                                         "status": "underway"},
                     "terminal_filter": None, "priority": sym},
            "metadata": {"source": "python-peer"},
        }
        p.produce(topic, key=ev["vessel_id"], value=ev,
                  on_delivery=lambda err, msg: errors.append(err) if err else None)
        print(ev["request_id"], sym)
    p.flush(30)
    if errors:
        raise SystemExit("delivery failed: %s" % errors)


if __name__ == "__main__":
    main(sys.argv)
