#!/usr/bin/env python3
"""Writes doc/RELIABILITY.md from a run of tests/chaos/chaos.sh.

usage: report.py RESULTS_TSV OUTPUT_MD COMMAND

RESULTS_TSV has one line per case (chaos.sh):
  case, title, events, lost, duplicated, recovery_s, verdict, detail
"""
import datetime
import os
import platform
import subprocess
import sys

CASES = {
    "1": "A producer (the library's default: idempotent, acks=all) publishes 100,000 "
         "position events at 10,000/s to a topic of 3 partitions, replication 3, min ISR 2. "
         "3 s in, broker 2 is SIGKILLed; 5 s later it is started again. Every delivery "
         "report is recorded, then the topic is read back: lost = reported delivered but "
         "not in the topic, duplicated = in the topic more than once (by event_id). "
         "Recovery = the longest time without a successful delivery report.",
    "2": "chaos_produce publishes 10,000 prediction results at 250/s to a topic of 3 "
         "partitions; three prediction-persisters in one group (session.timeout.ms=10000, "
         "librdkafka's default being 45 s) upsert them into one SQLite file, one partition "
         "each. 8 s in, persister 2 is SIGKILLed; 12 s later the broker that coordinates the "
         "group (FindCoordinator, tests/chaos/coordinator.py) is SIGKILLed, and started again "
         "8 s after the other nodes stopped listing it (7-10 s). The case waits until every delivered result has its row and the "
         "group's lag (vt-topics lag) is 0. Lost = delivered without a row; duplicated = "
         "results handled more than once (the persister is idempotent: one row per "
         "prediction_id, its `updates` column counts the repeats, and the row's event_id "
         "names the event), split by when they were first persisted: before the member's kill (what "
         "the killed member had handled but not committed yet), before the broker's kill (what "
         "the members had handled since their last commit to the coordinator that died), and "
         "after it (handled while their commits could not be made); dup_lead_max_s is the "
         "longest time between a duplicate's first handling and the kill that followed it, "
         "which at-least-once bounds by the commit interval (consumer.commit.interval.ms, "
         "1 s). Recovery = the longest wait of an event between its publish and its row, "
         "among those published in the 20 s after each kill (the member's partition waits "
         "for the session timeout; after the broker kill the producer's acks=all deliveries "
         "wait until the controller fences the dead broker out of the in-sync replicas, and "
         "the members until the new coordinator has loaded the group: it answers "
         "COORDINATOR_LOAD_IN_PROGRESS and NOT_COORDINATOR meanwhile, and when that lasts "
         "longer than the 10 s session timeout the members' sessions expire, their "
         "assignment is lost, and everything handled since their last commit is handled "
         "again: the duplicates after the broker kill). A longer session timeout (librdkafka's "
         "45 s) rides out the coordinator's move but leaves a dead member's partitions "
         "unread as long.",
    "3": "chaos_produce publishes 320 prediction requests at 8/s (below what one "
         "transaction per request sustains on this loaded 2-core machine, about 13/s); prediction-worker "
         "--exactly-once handles each in a Kafka transaction (results and the request's "
         "offset committed together). 12 s in, the broker that coordinates the worker's "
         "transactional id (FindCoordinator with key type 1, tests/chaos/coordinator.py) is "
         "SIGKILLed; it is started again 10 s after the other nodes stopped listing it. The case waits until the worker's group "
         "has committed every request (lag 0), stops the worker, then reads the result topic "
         "from the beginning with the library's read_committed reader (vt-tail): passed "
         "means every delivered request has exactly its 3 results, no prediction_id is read "
         "twice, and nothing else is there. Lost = requests without results, duplicated = "
         "prediction_ids read more than once. The records of aborted transactions, which the "
         "log keeps and read_committed readers skip, are counted with a read_uncommitted "
         "reader. Recovery = the longest time between a request's timestamp and its "
         "results' (how long the coordinator's death held the worker up).",
    "4": "A producer publishes 90,000 positions at 1,500/s with message.timeout.ms=8000 "
         "(so that an undeliverable event is reported as an error while the run lasts); "
         "5 s in, brokers 2 and 3 are SIGKILLed: every partition is below its min ISR of 2, "
         "and the controllers have no quorum; 15 s later both are started again. Passed "
         "means: the failures came back as error reports, no event reported delivered is "
         "missing from the log, and the reports of the last 10 s are all successes. "
         "Duplicates are counted, not refused: the idempotent producer is idempotent within "
         "one producer epoch, and when messages time out with requests in flight librdkafka "
         "bumps the epoch and sends the remaining ones again, so an event the broker had "
         "already appended can be written twice (consumers recognise it by its event_id). "
         "Unreported = reported failed, yet in the log: an outcome the producer cannot know. "
         "Recovery = the longest time without a successful delivery report.",
    "5": "The registry is made unreachable (SIGSTOP: connections hang, as in a network "
         "partition) for 30 s while a producer publishes 500 positions/s for 50 s and a "
         "reader (vt-tail) reads them; both have the position schema cached. During the "
         "outage a prediction-worker starts with a new group on 1,000 requests published "
         "before it: their schema id is one it has never seen, so it must wait for the "
         "registry, dead-letter nothing, and handle every request once the registry is "
         "back. Recovery = the outage's length.",
}


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def main():
    res, outp, command = sys.argv[1], sys.argv[2], sys.argv[3]
    rows = [l.rstrip("\n").split("\t") for l in open(res) if l.strip()]
    w = []
    w.append("# Reliability")
    w.append("")
    w.append("Generated by `%s` (tests/chaos/chaos.sh → tests/chaos/report.py) on %s. Every "
             "figure below comes from that run, on a real three-node Apache Kafka cluster "
             "(KRaft, replication 3, min ISR 2) and the Apicurio registry that "
             "`scripts/stack.sh up --nodes 3` starts on 127.0.0.1; nothing is copied from "
             "elsewhere." % (command, datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")))
    w.append("")
    w.append("| item | value |")
    w.append("|---|---|")
    w.append("| machine | %s, %s cores |" % (platform.processor() or platform.machine(),
                                            os.cpu_count()))
    w.append("| kernel | %s |" % platform.release())
    w.append("| load before / after | %s |" % sh("cut -d' ' -f1-3 /proc/loadavg"))
    w.append("")
    w.append("## Figures")
    w.append("")
    w.append("| case | what | events | lost | duplicated | recovery (s) | result |")
    w.append("|---|---|---:|---:|---:|---:|---|")
    for r in rows:
        case, title, events, lost, dup, rec, verdict = r[:7]
        w.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            case, title, "{:,}".format(int(events)) if events.isdigit() else events,
            lost or "?", dup or "?", rec, "passed" if verdict == "pass" else "**failed**"))
    w.append("")
    w.append("## The cases")
    w.append("")
    for r in rows:
        w.append("**Case %s: %s.** %s" % (r[0], r[1], CASES.get(r[0], "")))
        w.append("")
        w.append("Measured: %s." % r[7])
        w.append("")
    w.append("## Not covered yet")
    w.append("")
    w.append("The secure stack (SASL_SSL with SCRAM-SHA-512, mTLS, ACLs) under failure. "
             "`./run test` runs cases 1 and 5 only (the suite is at its 20-minute bound); "
             "`./run chaos` runs all five.")
    w.append("")
    with open(outp, "w") as f:
        f.write("\n".join(w))
    print("wrote %s" % outp)


if __name__ == "__main__":
    main()
