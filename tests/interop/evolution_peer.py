#!/usr/bin/env python3
"""Python peer for tests/test_evolution_interop.c: Confluent's own client
(confluent-kafka's AvroSerializer / AvroDeserializer against the real Schema
Registry) on the other side of schema evolution.

Every evolved schema here is the library's own (schemas/avro/*.avsc, given
as SCHEMA_DIR) with the changes its case names applied, so the cases say
exactly what differs from what the library reads or writes.

  evolution_peer.py enum BOOTSTRAP REGISTRY_URL TOPIC SCHEMA.avsc
      Writes prediction.analysis.requested events whose priority symbols
      are re-ordered with one added ("urgent"), one per symbol,
      request_id "req-0000000N" for the N-th; prints "request_id symbol".

  evolution_peer.py write BOOTSTRAP REGISTRY_URL REQ_TOPIC POS_TOPIC SCHEMA_DIR
      Sets the compatibility of the subjects REQ_TOPIC-value and
      POS_TOPIC-value to NONE (see cmd_write), then writes the events of
      every case of WRITERS, each with its own evolved writer schema
      registered under its topic's subject (the default TopicNameStrategy:
      one subject, a version per writer).  Prints one JSON line per event:
      {"case", "topic", "id" (request_id, or vessel_id for positions),
      "schema_id" (from the frame the serializer wrote)}.

  evolution_peer.py read BOOTSTRAP REGISTRY_URL REQ_TOPIC POS_TOPIC SCHEMA_DIR N
      Reads N events (from the beginning of both topics) with
      AvroDeserializer given a v2 reader schema (READERS) and prints one
      JSON line per event: {"topic", "schema_id", "value"}; in "value",
      bytes are {"bytes": TEXT}, a timestamp is its microseconds since the
      epoch, a uuid its text.  Exits 1 when fewer than N arrive in 60 s.
"""
import copy
import datetime
import json
import struct
import sys
import time
import uuid

from confluent_kafka import DeserializingConsumer, Producer, SerializingProducer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import (MessageField, SerializationContext, StringDeserializer,
                                           StringSerializer)

REQ = "prediction.analysis.requested.avsc"
POS = "vessel.position.updated.avsc"


# ------------------------------------------------------------ schema edits

def record_of(schema, path):
    """The record type at a dotted path of record fields ("" = the top)."""
    rec = schema
    for name in filter(None, path.split(".")):
        rec = field(rec, name)["type"]
    return rec


def field(rec, name):
    for f in rec["fields"]:
        if f["name"] == name:
            return f
    raise KeyError(name)


def remove(schema, path):
    rec_path, _, name = path.rpartition(".")
    rec = record_of(schema, rec_path)
    rec["fields"] = [f for f in rec["fields"] if f["name"] != name]


def insert(schema, rec_path, before, new):
    """Adds field `new` to the record at rec_path before the field `before`
    (so the reader has to skip it to read what follows)."""
    rec = record_of(schema, rec_path)
    i = [f["name"] for f in rec["fields"]].index(before)
    rec["fields"].insert(i, new)


def move(schema, path, before):
    """Moves the field at path before the field `before` of its record."""
    rec_path, _, name = path.rpartition(".")
    rec = record_of(schema, rec_path)
    f = field(rec, name)
    rec["fields"].remove(f)
    insert(schema, rec_path, before, f)


def retype(schema, path, typ):
    rec_path, _, name = path.rpartition(".")
    field(record_of(schema, rec_path), name)["type"] = typ


def set_enum(schema, path, symbols, default):
    rec_path, _, name = path.rpartition(".")
    enum = field(record_of(schema, rec_path), name)["type"]
    enum["symbols"] = symbols
    enum["default"] = default


def meta_values(schema, values):
    field(schema, "metadata")["type"]["values"] = values


# ------------------------------------------------------------ the writers

def w_control(s):
    """Exactly the library's schema (the fast path)."""


def w_reorder(s):
    """(a) The priority symbols in another order."""
    set_enum(s, "data.priority", ["high", "normal", "low"], "normal")


def w_unknown_symbol(s):
    """(b) A symbol the reader lacks, first, so that reading by position
    could not come out as the reader's default by chance."""
    set_enum(s, "data.priority", ["urgent", "low", "normal", "high"], "normal")


def w_added_fields(s):
    """(c) Fields the reader lacks, each placed before fields it must read:
    a nullable string, an array, a nested record and a nullable double."""
    insert(s, "", "request_id", {"name": "source_system", "type": ["null", "string"],
                                 "default": None})
    insert(s, "", "request_id", {"name": "tags", "type": {"type": "array", "items": "string"},
                                 "default": []})
    insert(s, "data", "priority", {"name": "eta_hint", "type": {
        "type": "record", "name": "EtaHint",
        "fields": [{"name": "hours", "type": "double"}, {"name": "basis", "type": "string"}]}})
    insert(s, "data.vessel_snapshot", "heading", {"name": "course", "type": ["null", "double"],
                                                  "default": None})


def w_removed_defaults(s):
    """(d) Without the fields that have defaults in the reader: event_type,
    data.terminal_filter (null), data.priority ("normal"), metadata ({})."""
    for path in ("event_type", "data.terminal_filter", "data.priority", "metadata"):
        remove(s, path)


def w_promoted(s):
    """(e) Types the reader promotes: int -> long (terminal_filter, in a
    union of the other order), float -> double (speed, lat), long -> double
    (lon), int -> double (heading), bytes -> string (request_id, status,
    event_type), and in the metadata map's union int -> long, float ->
    double, bytes -> string."""
    retype(s, "data.terminal_filter", ["int", "null"])
    retype(s, "data.vessel_snapshot.speed", "float")
    retype(s, "data.vessel_snapshot.lat", "float")
    retype(s, "data.vessel_snapshot.lon", "long")
    retype(s, "data.vessel_snapshot.heading", "int")
    for path in ("request_id", "data.vessel_snapshot.status", "event_type"):
        retype(s, path, "bytes")
    meta_values(s, ["null", "bytes", "int", "float", "boolean"])


def wp_control(s):
    """Exactly the library's schema (the fast path)."""


def wp_evolved(s):
    """Every kind at once on a position: promoted speed (float), heading
    (int), lon (long), status (bytes); an added data.course and top-level
    source_system; no event_type and no metadata (reader defaults); and
    fields in another order (vessel_id first, data.status first)."""
    retype(s, "data.speed", "float")
    retype(s, "data.heading", "int")
    retype(s, "data.lon", "long")
    retype(s, "data.status", "bytes")
    insert(s, "data", "heading", {"name": "course", "type": ["null", "double"], "default": None})
    insert(s, "", "data", {"name": "source_system", "type": "string"})
    remove(s, "event_type")
    remove(s, "metadata")
    move(s, "vessel_id", "event_id")
    move(s, "data.status", "lat")


def snapshot(**kw):
    v = {"lat": 29.7312, "lon": -93.8765, "speed": 12.25, "heading": 271.5, "status": "underway"}
    v.update(kw)
    return v


def request(rid, n, data, **top):
    v = {"event_id": "00000000-0000-4000-8000-%012x" % n,
         "event_type": "prediction.analysis.requested",
         "timestamp": 1768059000000000 + n,
         "vessel_id": "lng-%03d" % n,
         "request_id": rid,
         "data": data,
         "metadata": {"source": "python-peer"}}
    v.update(top)
    return v


def req_data(priority, **kw):
    v = {"vessel_snapshot": snapshot(), "terminal_filter": None, "priority": priority}
    v.update(kw)
    return v


# (case, file, schema edit, events).  The values the library must read are
# spelled out in tests/test_evolution_interop.c.
WRITERS = [
    ("control", REQ, w_control, [
        request("control", 1, req_data("high", terminal_filter=42),
                metadata={"source": "python-peer", "attempt": 3, "score": 0.75,
                          "retry": True, "note": None})]),
    ("reorder", REQ, w_reorder, [
        request("reorder-low", 2, req_data("low")),
        request("reorder-normal", 3, req_data("normal")),
        request("reorder-high", 4, req_data("high"))]),
    ("unknown-symbol", REQ, w_unknown_symbol, [
        request("unknown-urgent", 5, req_data("urgent")),
        request("unknown-high", 6, req_data("high"))]),
    ("added-fields", REQ, w_added_fields, [
        request("added", 7,
                req_data("low", terminal_filter=9,
                         vessel_snapshot=snapshot(course=88.5),
                         eta_hint={"hours": 3.5, "basis": "skipped-basis"}),
                source_system="skipped-source", tags=["skipped-a", "skipped-b"])]),
    ("removed-defaults", REQ, w_removed_defaults, [
        {k: v for k, v in request("removed", 8, {"vessel_snapshot": snapshot()}).items()
         if k not in ("event_type", "metadata")}]),
    ("promoted", REQ, w_promoted, [
        request(b"promoted-7", 9,
                req_data("high", terminal_filter=7,
                         vessel_snapshot=snapshot(speed=12.5, lat=29.75, lon=-94, heading=271,
                                                  status=b"moored")),
                event_type=b"prediction.analysis.requested",
                metadata={"src": b"py", "n": 5, "ratio": 0.5, "ok": False}),
        request(b"promoted-null", 10,
                req_data("low", vessel_snapshot=snapshot(speed=0.25, lat=-12.5, lon=7, heading=0,
                                                         status=b"at anchor")),
                event_type=b"prediction.analysis.requested", metadata={})]),
    ("pos-control", POS, wp_control, [
        {"event_id": "00000000-0000-4000-8000-00000000000b",
         "event_type": "vessel.position.updated", "timestamp": 1768059000000011,
         "vessel_id": "pos-control",
         "data": {"lat": 51.95, "lon": 4.05, "speed": 12.5, "heading": 90.0,
                  "status": "underway"},
         "metadata": {"source": "python-peer"}}]),
    ("pos-evolved", POS, wp_evolved, [
        {"event_id": "00000000-0000-4000-8000-00000000000c", "timestamp": 1768059000000012,
         "vessel_id": "pos-evolved", "source_system": "skipped-source",
         "data": {"lat": -33.5, "lon": 151, "speed": 7.75, "course": 45.5, "heading": 359,
                  "status": b"moored"}}]),
]


def load(schema_dir, name):
    with open("%s/%s" % (schema_dir, name)) as f:
        return json.load(f)


def frame_id(framed):
    if len(framed) < 5 or framed[0] != 0:
        raise SystemExit("not a Confluent frame: %r" % framed[:5])
    return struct.unpack(">I", framed[1:5])[0]


def cmd_write(bootstrap, url, req_topic, pos_topic, schema_dir):
    client = SchemaRegistryClient({"url": url})
    topics = {REQ: req_topic, POS: pos_topic}
    # Under the default topic subject every writer of a topic is a version of
    # one subject, and BACKWARD (Confluent's default) refuses two of them
    # after the library's schema: added-fields (eta_hint has no default) and
    # promoted (a reader of those types cannot read the library's doubles
    # and longs).  The subject is created with the library's schema first
    # (Apicurio sets no level on a subject that does not exist), then set
    # to NONE, whatever the registry's global level.
    for name, t in topics.items():
        subject = t + "-value"
        client.register_schema(subject, Schema(json.dumps(load(schema_dir, name)), "AVRO"))
        client.set_compatibility(subject_name=subject, level="NONE")
        got = client.get_compatibility(subject_name=subject)
        if got != "NONE":
            raise SystemExit("%s: compatibility is %s after setting NONE" % (subject, got))
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    errors = []
    for case, name, edit, events in WRITERS:
        schema = copy.deepcopy(load(schema_dir, name))
        edit(schema)
        ser = AvroSerializer(client, json.dumps(schema), conf={"auto.register.schemas": True})
        topic = topics[name]
        for ev in events:
            value = ser(ev, SerializationContext(topic, MessageField.VALUE))
            p.produce(topic, key=ev["vessel_id"], value=value,
                      on_delivery=lambda err, msg: errors.append(err) if err else None)
            rid = ev.get("request_id", ev["vessel_id"])
            print(json.dumps({"case": case, "topic": topic,
                              "id": rid.decode() if isinstance(rid, bytes) else rid,
                              "schema_id": frame_id(value)}), flush=True)
    p.flush(30)
    if errors:
        raise SystemExit("delivery failed: %s" % errors)


# ------------------------------------------------------------ the v2 readers

def r_request(s):
    """v2 reader of the library's v1 request: an added field with a
    non-null default (channel), an added optional one (source_system), a
    nested added field with a default (data.max_candidates), an enum symbol
    added (urgent) with the symbols re-ordered and the enum default kept,
    long -> double (terminal_filter), string -> bytes (status), long ->
    double inside the metadata union (no long branch left), and event_type
    removed (the writer's value is skipped)."""
    insert(s, "", "data", {"name": "channel", "type": "string", "default": "api"})
    insert(s, "", "data", {"name": "source_system", "type": ["null", "string"], "default": None})
    record_of(s, "data")["fields"].append({"name": "max_candidates", "type": "int",
                                           "default": 3})
    set_enum(s, "data.priority", ["urgent", "high", "normal", "low"], "normal")
    retype(s, "data.terminal_filter", ["null", "double"])
    retype(s, "data.vessel_snapshot.status", "bytes")
    meta_values(s, ["null", "string", "double", "boolean"])
    remove(s, "event_type")


def r_position(s):
    """v2 reader of the library's v1 position: data.course optional,
    data.nav_mode with a default, status as bytes."""
    record_of(s, "data")["fields"].append({"name": "course", "type": ["null", "double"],
                                           "default": None})
    record_of(s, "data")["fields"].append({"name": "nav_mode", "type": "string",
                                           "default": "auto"})
    retype(s, "data.status", "bytes")


READERS = {REQ: r_request, POS: r_position}

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def plain(o):
    if isinstance(o, bytes):
        return {"bytes": o.decode("utf-8", "backslashreplace")}
    if isinstance(o, datetime.datetime):
        return (o - EPOCH) // datetime.timedelta(microseconds=1)
    if isinstance(o, uuid.UUID):
        return str(o)
    raise TypeError(type(o).__name__)


def cmd_read(bootstrap, url, req_topic, pos_topic, schema_dir, n):
    client = SchemaRegistryClient({"url": url})
    readers = {}
    for name, topic in ((REQ, req_topic), (POS, pos_topic)):
        schema = copy.deepcopy(load(schema_dir, name))
        READERS[name](schema)
        readers[topic] = AvroDeserializer(client, json.dumps(schema))

    def value(data, ctx):
        return {"schema_id": frame_id(data), "value": readers[ctx.topic](data, ctx)}

    c = DeserializingConsumer({"bootstrap.servers": bootstrap,
                               "group.id": "evo-reader-%s" % uuid.uuid4(),
                               "auto.offset.reset": "earliest",
                               "key.deserializer": StringDeserializer(),
                               "value.deserializer": value})
    c.subscribe([req_topic, pos_topic])
    got, deadline = 0, time.monotonic() + 60
    try:
        while got < n and time.monotonic() < deadline:
            msg = c.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                raise SystemExit("consume: %s" % msg.error())
            out = {"topic": msg.topic()}
            out.update(msg.value())
            print(json.dumps(out, default=plain), flush=True)
            got += 1
    finally:
        c.close()
    if got < n:
        raise SystemExit("read %d of %d events" % (got, n))


# ------------------------------------------------------------ the enum writer

def cmd_enum(bootstrap, url, topic, schema_path):
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


def main(argv):
    if len(argv) == 6 and argv[1] == "enum":
        cmd_enum(*argv[2:6])
    elif len(argv) == 7 and argv[1] == "write":
        cmd_write(*argv[2:7])
    elif len(argv) == 8 and argv[1] == "read":
        cmd_read(*argv[2:7], int(argv[7]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
