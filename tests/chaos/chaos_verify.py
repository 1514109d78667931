#!/usr/bin/env python3
"""Compares a chaos_produce report with what a topic holds.

usage: chaos_verify.py REPORT_TSV TOPIC [--isolation read_committed] [--allow-duplicates]

Reads the whole topic (confluent-kafka, a throw-away group, from the
earliest offset, until every partition's end; the records of aborted
transactions too, unless --isolation read_committed) and counts each
event_id header.  Prints one line:

  events N delivered K failed F in_topic T lost L duplicated D unreported U
  dup_of_delivered A dup_of_failed B

lost: reported delivered but not in the topic; duplicated: in the topic
more than once (A of them reported delivered, B reported failed);
unreported: in the topic although its report said it failed (the outcome a
producer cannot know; allowed, and counted).  Exit 0 when lost == 0 and
duplicated == 0 (or --allow-duplicates), else 1.
"""
import collections
import os
import sys
import time

from confluent_kafka import Consumer, TopicPartition


def main():
    report, topic = sys.argv[1], sys.argv[2]
    isolation = "read_committed" if "--isolation" in sys.argv else "read_uncommitted"
    ok, failed = set(), set()
    for line in open(report):
        f = line.rstrip("\n").split("\t")
        (ok if f[1] == "ok" else failed).add(f[0])
    c = Consumer({"bootstrap.servers": os.environ["KAFKA_BOOTSTRAP_SERVERS"],
                  "group.id": "chaos-verify-%d" % os.getpid(), "enable.auto.commit": False,
                  "auto.offset.reset": "earliest", "isolation.level": isolation})
    md = c.list_topics(topic, timeout=30)
    parts = sorted(md.topics[topic].partitions)
    ends = {}
    for p in parts:
        lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=30)
        ends[p] = hi
    c.assign([TopicPartition(topic, p, 0) for p in parts])
    seen = collections.Counter()
    done = {p for p in parts if ends[p] == 0}
    deadline = time.time() + 300
    idle = 0
    while len(done) < len(parts) and time.time() < deadline:
        msgs = c.consume(1000, 1.0)
        idle = 0 if msgs else idle + 1
        for m in msgs:
            if m.error():
                continue
            for k, v in m.headers() or []:
                if k == "event_id":
                    seen[v.decode()] += 1
            if m.offset() + 1 >= ends[m.partition()]:
                done.add(m.partition())
        # a partition of a transactional producer ends with a commit or abort
        # marker, which is never handed to the reader, and a read_committed
        # reader stops at the last stable offset: the position says it is at
        # the end, or nothing more came for 5 s once the reading had begun
        for p in parts:
            if p not in done and (c.position([TopicPartition(topic, p)])[0].offset >= ends[p]
                                  or (idle >= 5 and seen)):
                done.add(p)
    c.close()
    lost = [e for e in ok if e not in seen]
    dup = [e for e, n in seen.items() if n > 1]
    unreported = [e for e in failed if e in seen]
    print("events %d delivered %d failed %d in_topic %d lost %d duplicated %d unreported %d "
          "dup_of_delivered %d dup_of_failed %d" % (
              len(ok) + len(failed), len(ok), len(failed), sum(seen.values()), len(lost),
              len(dup), len(unreported), sum(1 for e in dup if e in ok),
              sum(1 for e in dup if e in failed)))
    sys.exit(1 if lost or (dup and "--allow-duplicates" not in sys.argv) else 0)


if __name__ == "__main__":
    main()
