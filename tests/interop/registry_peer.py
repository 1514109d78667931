#!/usr/bin/env python3
"""Python peer for tests/test_registry_interop.c: Confluent's own client.

Usage: registry_peer.py OP URL [SUBJECT] [ID]
  get URL ID            -> {"schema": ..., "schema_type": ...}
  latest URL SUBJECT    -> {"id": ..., "version": ..., "schema": ...}
  lookup URL SUBJECT    -> {"id": ..., "version": ...}   (schema from $VTEV_PEER_SCHEMA)
  register URL SUBJECT  -> {"id": ...}                   (schema from $VTEV_PEER_SCHEMA)
Prints one JSON object on stdout; exits 1 with the error on stderr.
"""
import json
import os
import sys

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient


def main(argv):
    op, url = argv[1], argv[2]
    client = SchemaRegistryClient({"url": url})
    if op == "get":
        s = client.get_schema(int(argv[3]))
        out = {"schema": s.schema_str, "schema_type": s.schema_type}
    elif op == "latest":
        r = client.get_latest_version(argv[3])
        out = {"id": r.schema_id, "version": r.version, "schema": r.schema.schema_str}
    elif op == "lookup":
        r = client.lookup_schema(argv[3], Schema(os.environ["VTEV_PEER_SCHEMA"], "AVRO"))
        out = {"id": r.schema_id, "version": r.version}
    elif op == "register":
        sid = client.register_schema(argv[3], Schema(os.environ["VTEV_PEER_SCHEMA"], "AVRO"))
        out = {"id": sid}
    else:
        raise SystemExit("unknown op " + op)
    print(json.dumps(out))


if __name__ == "__main__":
    try:
        main(sys.argv)
    except Exception as e:  # report any client error to the C side
        print("%s: %s" % (type(e).__name__, e), file=sys.stderr)
        sys.exit(1)
