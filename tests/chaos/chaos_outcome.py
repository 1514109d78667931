#!/usr/bin/env python3
"""What a chaos case's consumers made of the events a chaos_produce run delivered.

usage:
  chaos_outcome.py rows REPORT_TSV DB T_MEMBER_KILL_US T_BROKER_KILL_US
  chaos_outcome.py results REPORT_TSV JSONL [PER_REQUEST]

rows (case 2): the prediction-persisters' SQLite table (predictions: one
row per prediction_id, its event_id, the event's timestamp, the first
arrival's persisted_at_us and `updates`, the upserts after the first one)
against the report of the chaos_produce run of results (result i has
prediction_id pred-chaos-i).  Prints one line:

  events N delivered K rows R lost L unknown U duplicated D redeliveries E
  dup_before_member_kill A dup_before_broker_kill B dup_after_broker_kill C
  dup_lead_max_s G dup_after_max_s H wait_p50_ms P wait_member_s M wait_broker_s W

lost: delivered but without a row; unknown: a row for no event of the run;
duplicated: events handled more than once (updates > 0, recognised by
their event_id and prediction_id), E repeated handlings in all; A, B, C:
when those duplicates were first persisted (before the member was killed,
between that and the broker kill, after the broker kill); G: the longest
time between the first handling of a duplicate of A or B and the kill that
followed it (at-least-once repeats what was handled but not yet committed
when a member or the coordinator died: up to a commit interval), H: the
longest time after the broker kill at which a duplicate of C was first
handled.  wait: how long an event
waited between its publish (its timestamp) and its row; M and W are the
longest wait of an event published in the 20 s after each kill (the time
the group took to hand the event to a live member: the rebalance, the
coordinator's move).  Exit 0 when lost == 0 and unknown == 0, else 1.

results (case 3): the read_committed reader's view (vt-tail JSON lines of
the result topic) against the report of the chaos_produce run of requests
(request i has request_id req-chaos-i).  Prints:

  requests N delivered K results R request_ids Q missing M wrong_count W
  duplicated D unknown U max_wait_s S

missing: delivered requests without results; wrong_count: requests with a
number of results other than PER_REQUEST (3); duplicated: prediction_ids
read more than once; unknown: results for no request of the run;
max_wait_s: the longest time between a request's timestamp and its
results' (how long the failure held the worker up).  Exit 0 when missing,
wrong_count, duplicated and unknown are all 0.
"""
import collections
import datetime
import json
import sqlite3
import statistics
import sys


def report(path):
    """{number: (event_id, ok)} of a chaos_produce report."""
    out = {}
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        out[int(f[5])] = (f[0], f[1] == "ok")
    return out


def rows(rep, db, t_member, t_broker):
    delivered = {i for i, (_, ok) in rep.items() if ok}
    con = sqlite3.connect(db)
    got = {}
    for pid, eid, ts, at, upd in con.execute(
            "SELECT prediction_id, event_id, event_timestamp_us, persisted_at_us, updates "
            "FROM predictions"):
        got[pid] = (eid, ts, at, upd)
    con.close()
    known = {"pred-chaos-%d" % i: i for i in rep}
    lost = [i for i in delivered if "pred-chaos-%d" % i not in got]
    unknown = [p for p, (eid, *_r) in got.items() if p not in known or rep[known[p]][0] != eid]
    dup = {p: v for p, v in got.items() if v[3] > 0}
    waits = [(v[2] - v[1]) / 1e3 for v in got.values()]

    def longest(t0):
        w = [v[2] - v[1] for v in got.values() if t0 <= v[1] < t0 + 20e6]
        return max(w) / 1e6 if w else 0.0

    first = [v[2] for v in dup.values()]
    before_m = [t_member - a for a in first if a < t_member]
    before_b = [t_broker - a for a in first if t_member <= a < t_broker]
    after_b = [a - t_broker for a in first if a >= t_broker]
    print("events %d delivered %d rows %d lost %d unknown %d duplicated %d redeliveries %d "
          "dup_before_member_kill %d dup_before_broker_kill %d dup_after_broker_kill %d "
          "dup_lead_max_s %.1f dup_after_max_s %.1f "
          "wait_p50_ms %.0f wait_member_s %.1f wait_broker_s %.1f" % (
              len(rep), len(delivered), len(got), len(lost), len(unknown), len(dup),
              sum(v[3] for v in dup.values()), len(before_m), len(before_b), len(after_b),
              max(before_m + before_b, default=0) / 1e6, max(after_b, default=0) / 1e6,
              statistics.median(waits) if waits else 0, longest(t_member), longest(t_broker)))
    for i in sorted(lost)[:10]:
        sys.stderr.write("chaos_outcome: lost: event %d (%s)\n" % (i, rep[i][0]))
    return 1 if lost or unknown else 0


def iso_us(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1e6


def results(rep, jsonl, per_request):
    delivered = {"req-chaos-%d" % i for i, (_, ok) in rep.items() if ok}
    known = {"req-chaos-%d" % i for i in rep}
    per_req = collections.Counter()
    pred = collections.Counter()
    wait = 0.0
    n = 0
    for line in open(jsonl):
        m = json.loads(line)
        ev = m.get("event")
        if not ev:
            sys.stderr.write("chaos_outcome: not an event: %s" % line)
            continue
        n += 1
        per_req[ev["request_id"]] += 1
        pred[ev["data"]["prediction_id"]] += 1
        req_ts = (ev.get("metadata") or {}).get("request_timestamp_us")
        if req_ts:
            wait = max(wait, (iso_us(ev["timestamp"]) - float(req_ts)) / 1e6)
    missing = [r for r in delivered if r not in per_req]
    wrong = [r for r, c in per_req.items() if c != per_request]
    dup = [p for p, c in pred.items() if c > 1]
    unknown = [r for r in per_req if r not in known]
    print("requests %d delivered %d results %d request_ids %d missing %d wrong_count %d "
          "duplicated %d unknown %d max_wait_s %.1f" % (
              len(rep), len(delivered), n, len(per_req), len(missing), len(wrong), len(dup),
              len(unknown), wait))
    for r in sorted(wrong)[:10]:
        sys.stderr.write("chaos_outcome: %s has %d results\n" % (r, per_req[r]))
    return 1 if missing or wrong or dup or unknown else 0


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "rows":
        return rows(report(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    if len(sys.argv) in (4, 5) and sys.argv[1] == "results":
        return results(report(sys.argv[2]), sys.argv[3],
                       int(sys.argv[4]) if len(sys.argv) == 5 else 3)
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
