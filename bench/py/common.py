"""Shared helpers of the Python baseline benchmarks (confluent-kafka + Avro).

The baseline is what the platform used before libvtevents: confluent-kafka's
SerializingProducer / DeserializingConsumer with AvroSerializer /
AvroDeserializer, the same .avsc files and the same registry.
"""
import datetime
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMAS = {
    "position": "vessel.position.updated",
    "request": "prediction.analysis.requested",
    "result": "prediction.analysis.completed",
}


def schema_str(kind):
    with open(os.path.join(ROOT, "schemas", "avro", SCHEMAS[kind] + ".avsc")) as f:
        return f.read()


def sample_event(kind, bench_publish):
    """The C benchmark's sample event (bench_publish --json), as an Avro dict."""
    out = subprocess.run([bench_publish, "-t", kind, "--json"], check=True,
                         capture_output=True, text=True).stdout
    ev = json.loads(out)
    ts = datetime.datetime.strptime(ev["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ")
    ts = ts.replace(tzinfo=datetime.timezone.utc)
    ev["timestamp"] = int(ts.timestamp()) * 1000000 + ts.microsecond
    return ev


def result(table, case, side, metric, value):
    sys.stdout.write("R\t%s\t%s\t%s\t%s\t%.6g\n" % (table, case, side, metric, value))
    sys.stdout.flush()


def env():
    bs = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    sr = os.environ.get("SCHEMA_REGISTRY_URL")
    if not bs or not sr:
        sys.exit("KAFKA_BOOTSTRAP_SERVERS and SCHEMA_REGISTRY_URL must be set")
    return bs, sr
