"""Helpers of tests/test_tools_integration.sh (run with $VTEV_PYTHON).

  helper.py gen N SEED [TYPE]     N random valid events (all three types, or
                                  only TYPE: position|request|result) as JSON
                                  lines on stdout, in the platform's form
  helper.py same A B              A and B hold the same events (JSON lines),
                                  compared as sets after normalising key order
  helper.py check-tail FILE N     FILE holds N vt-tail envelope lines with
                                  every field; prints nothing, exits 1 if not
  helper.py field FILE PATH       prints PATH (dotted) of every JSON line
  helper.py pretty-count FILE     number of JSON values in a stream of
                                  (pretty, multi-line) JSON values
  helper.py raw BOOTSTRAP TOPIC VALUE_HEX [KEY]
                                  produce one raw message (for undecodable
                                  input) with confluent_kafka
  helper.py copy-hdr BOOTSTRAP SRC DST NAME [VALUE]
                                  copy every message of topic SRC (partition
                                  0) to DST, adding header NAME (null value
                                  without VALUE) after the message's own
"""
import json
import random
import sys
import uuid
from datetime import datetime, timedelta, timezone


def ts(rng):
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    t = base + timedelta(seconds=rng.randrange(0, 365 * 86400),
                         microseconds=rng.randrange(0, 1_000_000))
    # the library's JSON form: milliseconds, or microseconds when the value
    # has sub-millisecond precision (so that the round trip is byte-identical)
    if t.microsecond % 1000 == 0:
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def snapshot(rng):
    return {
        "lat": round(rng.uniform(-90, 90), rng.randrange(0, 8)),
        "lon": round(rng.uniform(-180, 180), rng.randrange(0, 8)),
        "speed": round(rng.uniform(0, 30), rng.randrange(0, 4)),
        "heading": round(rng.uniform(0, 359.4), rng.randrange(0, 3)),
        "status": rng.choice(["underway", "moored", "at anchor", "restricted maneuverability"]),
    }


def metadata(rng):
    md = {}
    if rng.random() < 0.7:
        md["correlation_id"] = "corr-%08x" % rng.getrandbits(32)
    if rng.random() < 0.5:
        md["source"] = rng.choice(["trigger", "worker", "vt-publish", "ünïcødé ✓"])
    if rng.random() < 0.3:
        md["processing_time_ms"] = round(rng.uniform(0, 500), 3)
    if rng.random() < 0.3:
        md["attempt"] = rng.randrange(0, 10)
    if rng.random() < 0.2:
        md["cached"] = rng.random() < 0.5
    if rng.random() < 0.2:
        md["model_version"] = None
    return md


def event(rng, kind=None):
    if kind is None:
        kind = rng.randrange(3)
    ev = {
        "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "timestamp": ts(rng),
        "vessel_id": "vessel-%03d" % rng.randrange(1000),
        "metadata": metadata(rng),
    }
    if kind == 0:
        ev["event_type"] = "vessel.position.updated"
        ev["data"] = snapshot(rng)
    elif kind == 1:
        ev["event_type"] = "prediction.analysis.requested"
        ev["request_id"] = "req-%08x" % rng.getrandbits(32)
        ev["data"] = {
            "vessel_snapshot": snapshot(rng),
            "terminal_filter": rng.choice([None, rng.randrange(1, 50)]),
            "priority": rng.choice(["low", "normal", "high"]),
        }
    else:
        ev["event_type"] = "prediction.analysis.completed"
        ev["request_id"] = "req-%08x" % rng.getrandbits(32)
        ev["data"] = {
            "prediction_id": "pred-%06d" % rng.randrange(10**6),
            "terminal_id": rng.randrange(1, 50),
            "terminal_name": rng.choice(["Sabine Pass", "Corpus Christi", "Cameron \"LNG\""]),
            "confidence_score": round(rng.random(), 4),
            "scores": {
                "proximity": rng.random(),
                "speed": rng.random(),
                "heading": rng.random(),
                "rag_boost": rng.uniform(0, 0.3),
                "ai_adjustment": rng.uniform(-0.3, 0.3),
            },
            "distance_km": round(rng.uniform(0, 5000), 2),
            "eta_hours": rng.choice([None, round(rng.uniform(0, 200), 1)]),
            "ai_reasoning": rng.choice(["", "close and slow", "line1\nline2\t\"quoted\""]),
            "vessel_snapshot": snapshot(rng),
        }
    # the Python services wrote keys in any order: shuffle them
    items = list(ev.items())
    rng.shuffle(items)
    return dict(items)


def norm(line):
    return json.dumps(json.loads(line), sort_keys=True, ensure_ascii=False)


def main():
    cmd = sys.argv[1]
    if cmd == "gen":
        rng = random.Random(int(sys.argv[3]))
        kind = {"position": 0, "request": 1, "result": 2}.get(sys.argv[4]) if len(sys.argv) > 4 else None
        out = sys.stdout
        for _ in range(int(sys.argv[2])):
            # compact or Python-default separators, as services wrote them
            if rng.random() < 0.5:
                out.write(json.dumps(event(rng, kind), ensure_ascii=rng.random() < 0.5) + "\n")
            else:
                out.write(json.dumps(event(rng, kind), separators=(",", ":")) + "\n")
    elif cmd == "same":
        a = sorted(norm(l) for l in open(sys.argv[2], encoding="utf-8") if l.strip())
        b = sorted(norm(l) for l in open(sys.argv[3], encoding="utf-8") if l.strip())
        if a != b:
            sa, sb = set(a), set(b)
            print("counts %d vs %d" % (len(a), len(b)), file=sys.stderr)
            for x in sorted(sa - sb)[:3]:
                print("only in A: " + x, file=sys.stderr)
            for x in sorted(sb - sa)[:3]:
                print("only in B: " + x, file=sys.stderr)
            sys.exit(1)
    elif cmd == "check-tail":
        want = int(sys.argv[3])
        n = 0
        for line in open(sys.argv[2], encoding="utf-8"):
            if not line.strip():
                continue
            o = json.loads(line)
            keys = list(o.keys())
            exp = ["topic", "partition", "offset", "key", "timestamp", "headers", "schema_id", "event"]
            if keys != exp:
                sys.exit("keys %s, want %s" % (keys, exp))
            ev = o["event"]
            if o["key"] != ev["vessel_id"]:
                sys.exit("key %r != vessel_id %r" % (o["key"], ev["vessel_id"]))
            if o["headers"].get("event_type") != ev["event_type"]:
                sys.exit("header event_type %r" % o["headers"])
            if o["headers"].get("event_id") != ev["event_id"]:
                sys.exit("header event_id %r" % o["headers"])
            cid = ev["metadata"].get("correlation_id")
            if cid is not None and o["headers"].get("correlation_id") != cid:
                sys.exit("header correlation_id %r" % o["headers"])
            if not isinstance(o["schema_id"], int) or o["schema_id"] < 0:
                sys.exit("schema_id %r" % o["schema_id"])
            if not isinstance(o["timestamp"], int) or o["timestamp"] <= 0:
                sys.exit("timestamp %r" % o["timestamp"])
            if not isinstance(o["partition"], int) or not isinstance(o["offset"], int):
                sys.exit("partition/offset")
            n += 1
        if n != want:
            sys.exit("%d lines, want %d" % (n, want))
    elif cmd == "field":
        for line in open(sys.argv[2], encoding="utf-8"):
            if not line.strip():
                continue
            v = json.loads(line)
            for p in sys.argv[3].split("."):
                v = v.get(p) if isinstance(v, dict) else None
            print(v)
    elif cmd == "pretty-count":
        text = open(sys.argv[2], encoding="utf-8").read()
        dec = json.JSONDecoder()
        i, n = 0, 0
        while True:
            while i < len(text) and text[i].isspace():
                i += 1
            if i >= len(text):
                break
            _, i = dec.raw_decode(text, i)
            n += 1
        print(n)
    elif cmd == "raw":
        from confluent_kafka import Producer
        p = Producer({"bootstrap.servers": sys.argv[2]})
        key = sys.argv[5].encode() if len(sys.argv) > 5 else None
        p.produce(sys.argv[3], value=bytes.fromhex(sys.argv[4]), key=key)
        if p.flush(30) != 0:
            sys.exit("not delivered")
    elif cmd == "copy-hdr":
        from confluent_kafka import Consumer, Producer, TopicPartition
        bs, src, dst, name = sys.argv[2:6]
        value = sys.argv[6].encode() if len(sys.argv) > 6 else None
        c = Consumer({"bootstrap.servers": bs, "group.id": "copy-hdr-%d" % random.getrandbits(32),
                      "enable.auto.commit": False, "enable.partition.eof": True})
        c.assign([TopicPartition(src, 0, 0)])
        p = Producer({"bootstrap.servers": bs})
        n = 0
        while True:
            m = c.poll(30)
            if m is None:
                sys.exit("copy-hdr: no message from %s within 30 s" % src)
            if m.error():
                if m.error().code() == -191:  # _PARTITION_EOF
                    break
                sys.exit("copy-hdr: %s" % m.error())
            hdrs = list(m.headers() or []) + [(name, value)]
            p.produce(dst, value=m.value(), key=m.key(), headers=hdrs)
            n += 1
        c.close()
        if p.flush(30) != 0:
            sys.exit("not delivered")
        print(n)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
