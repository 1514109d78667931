#!/usr/bin/env python3
"""fastavro peer for the interop suite (tests/test_interop.c).

  fastavro_peer.py decode SCHEMA.avsc IN.bin EXPECTED.json
      Decodes framed Avro bytes (magic 0 + 4-byte id + Avro) written by
      libvtevents with fastavro against SCHEMA.avsc and compares the record
      with the event's JSON form (our JSON, converted to the Avro datum
      fastavro returns: timestamp -> aware datetime, event_id -> UUID).
      Exit 0 when equal, 1 with a diff otherwise.

  fastavro_peer.py encode SCHEMA.avsc IN.json OUT.bin SCHEMA_ID
      Encodes the event in IN.json with fastavro (framed with SCHEMA_ID) for
      libvtevents to decode.
"""
import datetime
import io
import json
import math
import struct
import sys
import uuid

import fastavro


def parse_ts(s):
    # Our output form: 2026-01-10T15:30:00.000Z or with 6 fractional digits.
    s = s.replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(s)


def to_datum(ev):
    d = dict(ev)
    d["event_id"] = uuid.UUID(ev["event_id"])
    d["timestamp"] = parse_ts(ev["timestamp"])
    return d


def same(a, b, path="$"):
    if isinstance(a, float) and isinstance(b, float):
        if struct.pack("<d", a) != struct.pack("<d", b):
            return [f"{path}: {a!r} != {b!r}"]
        return []
    if type(a) is not type(b):
        return [f"{path}: type {type(a).__name__} != {type(b).__name__} ({a!r} vs {b!r})"]
    if isinstance(a, dict):
        out = []
        if list(a.keys()) != list(b.keys()) and set(a.keys()) != set(b.keys()):
            out.append(f"{path}: keys {sorted(a)} != {sorted(b)}")
        for k in a:
            if k in b:
                out += same(a[k], b[k], f"{path}.{k}")
        return out
    if a != b:
        return [f"{path}: {a!r} != {b!r}"]
    return []


def load_schema(path):
    with open(path, encoding="utf-8") as f:
        return fastavro.parse_schema(json.load(f))


def main(argv):
    cmd = argv[1]
    schema = load_schema(argv[2])
    if cmd == "decode":
        with open(argv[3], "rb") as f:
            raw = f.read()
        if len(raw) < 5 or raw[0] != 0:
            print("not framed")
            return 1
        bio = io.BytesIO(raw[5:])
        rec = fastavro.schemaless_reader(bio, schema)
        if bio.tell() != len(raw) - 5:
            print(f"{len(raw) - 5 - bio.tell()} trailing bytes")
            return 1
        with open(argv[4], encoding="utf-8") as f:
            expected = to_datum(json.load(f))
        diffs = same(expected, rec)
        for d in diffs:
            print(d)
        return 1 if diffs else 0
    if cmd == "encode":
        with open(argv[3], encoding="utf-8") as f:
            datum = to_datum(json.load(f))
        bio = io.BytesIO()
        bio.write(b"\0" + struct.pack(">i", int(argv[5])))
        fastavro.schemaless_writer(bio, schema, datum)
        with open(argv[4], "wb") as f:
            f.write(bio.getvalue())
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
