#!/usr/bin/env python3
"""Turns the benchmark result lines into doc/PERFORMANCE.md.

usage: report.py RESULTS_DIR OUTPUT_MD [--sections PART,...]

With --sections (scripts/bench.sh --only with parts that need no Kafka, e.g.
gencodec), only those parts' sections of OUTPUT_MD (and their rows of the
Targets table) are replaced, or added, from RESULTS_DIR, and the hand-written
"Reading the numbers" from bench/notes.md; the rest of the document stays as
the last full run wrote it.

RESULTS_DIR holds what scripts/bench.sh wrote:
  raw.tsv       R<TAB>table<TAB>case<TAB>side<TAB>metric<TAB>value lines (one per run)
  meta.env      key=value lines (machine, versions, settings, load, commands)
  samples.tsv   S<TAB>role<TAB>t<TAB>rss_kb lines of the memory run
  valgrind.txt  valgrind's HEAP SUMMARY / LEAK SUMMARY / ERROR SUMMARY
  callgrind_{gen,typed,plain}.txt  callgrind_annotate output
  notes.md      hand-written analysis (where the time goes, missed targets),
                kept in bench/ and copied in as is
Only the standard library: it runs with the system python3.
"""
import collections
import os
import re
import statistics
import sys


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def repo_view(line):
    """A callgrind_annotate line as the document shows it: the document cites
    only files of this repository, so a source file is kept when it is one of
    them (as its repository path; callgrind names them relative to the
    directory it ran in, the repository's) and dropped otherwise, and an
    object file is named by its file name alone."""
    line = re.sub(r"\[(/[^\]]*/)?([^/\]]+)\]", r"[\2]", line)
    m = re.match(r"^(\s*[0-9,]+ \([ 0-9.]+%\)\s+)(\S+?):(\S.*)$", line)
    if not m:
        return line
    head, src, rest = m.groups()
    path = os.path.normpath(os.path.join(ROOT, src))  # scripts/bench.sh runs in ROOT
    if src != "???" and path.startswith(ROOT + os.sep) and os.path.isfile(path):
        return head + os.path.relpath(path, ROOT) + ":" + rest
    return head + rest


def load(path):
    data = collections.defaultdict(list)
    order = []
    if not os.path.exists(path):
        return data, order
    for line in open(path):
        parts = line.rstrip("\n").split("\t")
        if len(parts) != 6 or parts[0] != "R":
            continue
        _, table, case, side, metric, value = parts
        key = (table, case, side, metric)
        if (table, case) not in order:
            order.append((table, case))
        data[key].append(float(value))
    return data, order


def meta(path):
    m = collections.OrderedDict()
    if os.path.exists(path):
        for line in open(path):
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                m[k] = v
    return m


def fmt(v, kind):
    if v is None:
        return "—"
    if kind == "eps":
        return "{:,.0f}".format(v)
    if kind == "ms":
        return "{:.2f}".format(v)
    if kind == "mb":
        return "{:.1f}".format(v)
    if kind == "ns":
        return "{:,.1f}".format(v)
    if kind == "ms3":
        return "{:.3f}".format(v)
    return "{:g}".format(v)


def stat(vals, kind):
    if not vals:
        return "—"
    return "%s (%s–%s)" % (fmt(statistics.median(vals), kind), fmt(min(vals), kind),
                           fmt(max(vals), kind))


def med(vals):
    return statistics.median(vals) if vals else None


def ratio_cell(a, b, target=None):
    """Ratio of medians a/b, with the per-run ratio range when runs pair up."""
    if not a or not b:
        return "—", None
    r = med(a) / med(b)
    cell = "%.3fx" % r if target and abs(r - target) < 0.005 else "%.2fx" % r
    if len(a) == len(b):
        rs = [x / y for x, y in zip(a, b) if y]
        if rs:
            cell += " (%.2f–%.2f)" % (min(rs), max(rs))
    if target:
        cell += " ✓" if r >= target else " ✗"
    return cell, r


def table_pair(data, order, table, side_a, side_b, target, out, mb=True, label_a=None,
               label_b=None):
    la = label_a or side_a
    lb = label_b or side_b
    head = "| case | %s events/s | %s events/s | ratio %s/%s%s |" % (
        la, lb, la, lb, " (target ≥ %gx)" % target if target else "")
    sep = "|---|---:|---:|---:|"
    if mb:
        head = head + " %s MB/s | %s MB/s | bytes/event |" % (la, lb)
        sep += "---:|---:|---:|"
    rows = []
    results = []
    for t, case in order:
        if t != table:
            continue
        a = data.get((table, case, side_a, "eps"))
        b = data.get((table, case, side_b, "eps"))
        if not a or not b:
            continue
        cell, r = ratio_cell(a, b, target)
        results.append((case, r, len(a), len(b)))
        row = "| %s | %s | %s | %s |" % (case, stat(a, "eps"), stat(b, "eps"), cell)
        if mb:
            by = data.get((table, case, side_a, "bytes")) or data.get((table, case, side_b, "bytes"))
            row += " %s | %s | %s |" % (stat(data.get((table, case, side_a, "MBps")), "mb"),
                                       stat(data.get((table, case, side_b, "MBps")), "mb"),
                                       fmt(med(by), "n") if by else "—")
        rows.append(row)
    if rows:
        out.append(head)
        out.append(sep)
        out.extend(rows)
        n = min(min(x[2], x[3]) for x in results)
        out.append("")
        out.append("Median (min–max) of %d or more runs per side; the ratio is of the medians, "
                   "with the range of the per-run ratios (run i of one side against run i of "
                   "the other)." % n)
    else:
        out.append("_No results (this part did not run)._")
    return results



GENCODEC_HEADING = "## Generated codec vs generic avro-c (vt-codegen)"
OBS_HEADING = "## Observability overhead: metrics and trace context on vs off"
LIVE_HEADING = "## Live map: WebSocket fan-out (live-broadcaster)"
LIVE_TARGET_MS = 50
DLQ_HEADING = "## vt-dlq stats on 10,000 dead letters"
DLQ_TARGET_S = 2.0
API_HEADING = "## HTTP front: vessel-api vs the platform's Python service"
API_SIDES = [("direct", "vessel-api direct"), ("outbox", "vessel-api --outbox"),
             ("python", "Python (FastAPI + uvicorn)")]
API_CASES = ["1,000 req/s", "5,000 req/s", "max"]


def api_section(data, m, w):
    """The vessel-api benchmark (bench/api/run_api.py); returns the Targets rows."""
    g = lambda case, side, metric: data.get(("api", case, side, metric))
    targets = []
    w(API_HEADING)
    w("")
    if not g("max", "direct", "rate"):
        w("Not measured in this run (`scripts/bench.sh --only api`).")
        w("")
        return targets
    w("`PUT /api/v1/vessels/{id}` position updates (100 vessels, round robin) from wrk "
      "(Debian's wrk 4.1, one thread, 50 connections, `bench/api/put.lua`) against "
      "vessel-api (examples/vessel-api.c; SQLite file, one HTTP thread, one transaction per "
      "round of its event loop) in direct mode and in "
      "outbox mode, and against the platform's original design as a Python service "
      "(bench/py/py_api.py: FastAPI on uvicorn, one process, the same SQLite tables, then "
      "confluent-kafka's SerializingProducer with AvroSerializer), on the same broker and "
      "registry, in the same run, the sides in rotating order. Each side: a fresh database "
      "and topic, a 2 s warm-up at 1,000 req/s, then %s s at each rate. "
      "Debian's wrk has no fixed-rate mode (wrk2's `-R`); the script paces with wrk's "
      "`delay()` hook on a per-thread schedule (one slot every 1/rate s, LuaJIT's "
      "clock_gettime), so the offered rate does not sink as the latency grows, as a "
      "per-connection sleep or `hey -q` (a ticker per worker: c workers each at q/s, "
      "closed loop) would let it; wrk was chosen over hey for its C event loop, which "
      "leaves more of the 2 cores to the servers. Latency is wrk's, from the request written to the "
      "response read; the percentiles are of all responses, which are the 202s when the "
      "non-202 column is 0. The machine (2 cores) also runs the broker, the registry and "
      "wrk, and may be shared with other work: the last columns are the server process's "
      "CPU time per request (all its threads: HTTP, producer, SQLite) and the 1-minute load "
      "average as each run started (2 would be the two cores busy). Command: `%s`." % (
          m.get("api_secs", "?"), m.get("cmd_api", "")))
    w("")
    w("| case | side | rounds | achieved req/s | p50 (ms) | p99 (ms) | p99.9 (ms) | non-202 | "
      "server CPU (µs/req) | load average |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for case in API_CASES:
        for side, label in API_SIDES:
            r = g(case, side, "rate")
            if not r:
                continue
            bad = [sum(g(case, side, k) or [0]) for k in ("s503", "sother", "sockerr")]
            w("| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s |" % (
                case, label, len(r), stat(r, "eps"), stat(g(case, side, "p50_ms"), "ms"),
                stat(g(case, side, "p99_ms"), "ms"), stat(g(case, side, "p999_ms"), "ms"),
                "{:,.0f}".format(sum(bad)), stat(g(case, side, "cpu_us"), "mb"),
                stat(g(case, side, "load1"), "mb")))
    w("")
    w("Every 202 against the topic (read back with vt-tail once the server stopped and, "
      "in outbox mode, its outbox was empty): matched = the 202's event_id is in the topic "
      "exactly once. The last column counts events whose request was still in flight when "
      "wrk's clock stopped (at most one per connection per wrk run: the server answered "
      "202, wrk did not read it); an event no request caused would show there too.")
    w("")
    w("| side | 202s | matched | missing | duplicates | events no 202 returned |")
    w("|---|---:|---:|---:|---:|---:|")
    for side, label in API_SIDES:
        acc = g("all", side, "accepted")
        if not acc:
            continue
        w("| %s | %s | %s | %s | %s | %s |" % (
            label, "{:,.0f}".format(sum(acc)), "{:,.0f}".format(sum(g("all", side, "matched"))),
            "{:,.0f}".format(sum(g("all", side, "missing"))),
            "{:,.0f}".format(sum(g("all", side, "duplicates"))),
            "{:,.0f}".format(sum(g("all", side, "extra")))))
    w("")
    p99 = med(g("5,000 req/s", "direct", "p99_ms"))
    if p99 is not None:
        targets.append("| vessel-api direct p99 < 5 ms at 5,000 req/s | %.2f ms %s |" % (
            p99, "met" if p99 < 5 else "**missed**"))
    cell, r = ratio_cell(g("max", "direct", "rate"), g("max", "python", "rate"), 10)
    if r is not None:
        w("Maximum throughput, vessel-api direct / Python: %s; outbox / Python: %s." % (
            cell, ratio_cell(g("max", "outbox", "rate"), g("max", "python", "rate"))[0]))
        w("")
        targets.append("| vessel-api direct max throughput ≥ 10x the Python service | %.2fx %s |" % (
            r, "met" if r >= 10 else "**missed**"))
    acc = sum(sum(g("all", s, "accepted") or [0]) for s, _ in API_SIDES)
    mat = sum(sum(g("all", s, "matched") or [0]) for s, _ in API_SIDES)
    targets.append("| vessel-api every 202 matched to exactly one event | %s of %s %s |" % (
        "{:,.0f}".format(mat), "{:,.0f}".format(acc), "met" if mat == acc else "**missed**"))
    return targets
GENCODEC_TARGET = 3.0
GENCODEC_SIDES = (("generated", "generated"), ("avro-c", "avro-c generic"), ("library", "library today"))


def gencodec_section(data, order, m, w):
    """The bench_gencodec section; returns [(event, op, speed-up)] for the targets."""
    cases = [c for t, c in order if t == "gencodec"]
    results = []
    w(GENCODEC_HEADING)
    w("")
    w("No Kafka: `bench_gencodec` (bench/bench_gencodec.c) times, per platform event, the "
      "encoder and decoder `vt-codegen` generates from schemas/avro (through the type "
      "descriptor `vtev_..._type`: bytes written straight from the struct and read straight "
      "into it, doc/codegen.md) against avro-c's generic value API on the same generated "
      "struct, written as an avro-c user writes it: one generic value and one memory writer "
      "reused for every record, the value filled from the struct field by field (by index) "
      "and `avro_value_write()`; decoding `avro_value_read()` into a reused generic value and "
      "every field read out into the struct, strings and map entries allocated as the "
      "generated decoder allocates them, then the struct cleared (the generated side clears "
      "too). \"library today\" is the event layer's current codec, `vtev_event_encode` / "
      "`vtev_event_decode` + `vtev_event_clear` on the library's own event struct "
      "(lib/codec.c, avro-c generic values underneath; its encode also returns a fresh "
      "malloc'd buffer, the other two append to a reused one). The events are the "
      "benchmarks' realistic fixtures (bench/bench_common.h); before timing, the three "
      "encoders are checked to write the same bytes and the avro-c read-out to give the "
      "struct the generated decoder gives. One process, the three sides take turns, the "
      "order rotating every round; each cell is the median (min–max) of the rounds in "
      "nanoseconds per operation; the speed-up is how many times faster the generated code "
      "is (ratio of the medians, with the range of the per-round ratios). Command: `%s`%s. "
      "This section alone is rerun (no Kafka needed) by `scripts/bench.sh --only gencodec`." % (
          m.get("cmd_gencodec", ""),
          ("; " + m["gencodec_when"]) if m.get("gencodec_when") else ""))
    w("")
    rows = []
    for case in cases:
        ev, _, op = case.rpartition(" ")
        cols = [data.get(("gencodec", case, side, "ns_op")) for side, _ in GENCODEC_SIDES]
        if not cols[0]:
            continue
        gen = cols[0]
        cells = [stat(c, "ns") for c in cols]
        sp = []
        for other in cols[1:]:
            if not other:
                sp.append(("—", None))
                continue
            r = med(other) / med(gen)
            cell = "%.2fx" % r
            if len(other) == len(gen):
                rs = [o / g for o, g in zip(other, gen) if g]
                cell += " (%.2f–%.2f)" % (min(rs), max(rs))
            sp.append((cell, r))
        if sp[0][1] is not None:
            results.append((ev, op, sp[0][1]))
            sp[0] = (sp[0][0] + (" ✓" if sp[0][1] >= GENCODEC_TARGET else " ✗"), sp[0][1])
        by = data.get(("gencodec", ev + " encode", "generated", "bytes"))
        rows.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            ev, op, cells[0], cells[1], cells[2], sp[0][0], sp[1][0],
            fmt(med(by), "n") if by and op == "encode" else ""))
    if rows:
        w("| event | op | generated ns/op | avro-c generic ns/op | library today ns/op | "
          "speed-up vs avro-c (target ≥ %gx) | speed-up vs library today | bytes |" % GENCODEC_TARGET)
        w("|---|---|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            w(r)
        w("")
        n = min(len(data.get(("gencodec", c, "generated", "ns_op")) or []) for c in cases)
        w("%d rounds per side. Target (the [codegen] issue): the generated codec at least %gx "
          "as fast as generic avro-c, encode and decode, for each event: %s." % (
              n, GENCODEC_TARGET,
              "met for all %d" % len(results) if all(r >= GENCODEC_TARGET for _, _, r in results)
              else "missed for " + ", ".join("%s %s (%.2fx)" % (e, o, r) for e, o, r in results
                                            if r < GENCODEC_TARGET)))
        w("")
        ir_seen = [c for t, c in order if t == "gencodec_ir"]
        ir_cases = [c for c in cases if c in ir_seen] + [c for c in ir_seen if c not in cases]
        if ir_cases:
            w("Instructions per operation (valgrind's callgrind: instruction counts, not time; "
              "the inclusive cost of each side's timing loop divided by its operations; "
              "command: `%s`), and the share of the generated decode (with its `clear`) spent "
              "in malloc and free:" % m.get("cmd_gencodec_callgrind", ""))
            w("")
            w("| event | op | generated | avro-c generic | library today | avro-c/generated | "
              "generated decode in malloc/free |")
            w("|---|---|---:|---:|---:|---:|---:|")
            for case in ir_cases:
                ev, _, op = case.rpartition(" ")
                g = lambda side, metric="ir_op": med(data.get(("gencodec_ir", case, side, metric)))
                gen, av, lib = g("generated"), g("avro-c"), g("library")
                share = g("generated", "alloc_share")
                w("| %s | %s | %s | %s | %s | %s | %s |" % (
                    ev, op, fmt(gen, "eps") if gen else "—", fmt(av, "eps") if av else "—",
                    fmt(lib, "eps") if lib else "—", "%.1fx" % (av / gen) if gen and av else "—",
                    "%.0f%%" % (100 * share) if share is not None else ""))
            w("")
        w("Where the difference comes from: the generic side builds and walks an `avro_value_t` "
          "tree (an indirect call per field access, a copy of every string into the value "
          "(`avro_raw_string_set`), the metadata map emptied and refilled through its "
          "key index on every record (`avro_raw_map_get_or_create`), a type dispatch per "
          "datum in `avro_value_write` / `avro_value_read`), then copies the fields once more "
          "between the value and the struct; the generated code writes varints and "
          "length-prefixed strings from the struct into one buffer and reads them back "
          "directly. Both decoders allocate one block per string and per map (the generated "
          "struct owns `char *` strings); in the generated decode those allocations and the "
          "frees in `clear` are the largest single cost (the last column), which is why its "
          "speed-up is smaller than the encoder's.")
    else:
        w("_No results (this part did not run)._")
    w("")
    return results


def main():
    args = sys.argv[1:]
    sections = []
    if "--sections" in args:
        i = args.index("--sections")
        sections = [p for p in args[i + 1].split(",") if p]
        del args[i:i + 2]
    if len(args) != 2:
        sys.exit("usage: report.py RESULTS_DIR OUTPUT_MD [--sections PART,...]")
    rdir, outp = args
    data, order = load(os.path.join(rdir, "raw.tsv"))
    m = meta(os.path.join(rdir, "meta.env"))
    out = []
    w = out.append
    w("# Performance")
    w("")
    w("Generated by `./run bench` (scripts/bench.sh → bench/report.py) on %s. "
      "Every figure below was measured on this machine in that run; nothing is copied from "
      "elsewhere. Rerun `./run bench` to regenerate this file "
      "(`./run bench --full` for the 5-minute memory run)." % m.get("date", "?"))
    w("")
    w("## Machine, versions, settings")
    w("")
    w("| item | value |")
    w("|---|---|")
    for k in ("cpu", "nproc", "ram", "kernel", "load_before", "load_after", "kafka",
              "apicurio", "librdkafka", "avro_c", "confluent_kafka", "python", "java",
              "compiler", "build", "runs", "events", "events_python", "memory_secs",
              "duration", "rerun"):
        if k in m:
            w("| %s | %s |" % (k.replace("_", " "), m[k]))
    w("")
    w("The machine has %s cores shared with other engineers' builds and tests, so the "
      "numbers are noisy: both sides of every comparison run in the same invocation, "
      "alternating (odd runs start with the other side), and each cell is the median with "
      "min–max. The load average before and after the run is in the table above. The "
      "broker and the registry (JVMs) run on the same two cores as the client, so every "
      "client-side saving is partly eaten by the broker's own CPU use." % m.get("nproc", "?"))
    w("")
    w("Settings: one local Kafka node (KRaft, scripts/stack.sh), Apicurio Registry "
      "(ccompat API), topics created by the benchmarks with replication factor 1 and "
      "`compression.type=gzip` (as the platform's topics). Producers use the library's "
      "default profile: `enable.idempotence=true`, `acks=all`, `compression.codec=gzip`, "
      "`linger.ms=5`, `socket.nagle.disable=true`, `partitioner=murmur2_random`; the plain "
      "librdkafka producer and the Python producer are given exactly these settings.")
    w("")

    w("## Publish throughput: typed vs plain librdkafka")
    w("")
    w("Typed: `vtev_producer_publish()` of a filled-in event (validate + Avro encode + "
      "frame + headers + produce), one producer per run, a warm-up publish and flush "
      "first (connection, schema registration), then N publishes and a flush that waits "
      "for every acknowledgement. Plain: `rd_kafka_producev()` of the same pre-encoded "
      "framed bytes (same size), same key, same three headers, same configuration, "
      "`rd_kafka_poll(rk, 0)` after each produce. N = %s." %
      m.get("events", "?"))
    w("")
    w("Command: `%s`" % m.get("cmd_publish", ""))
    w("")
    w("Generated types (`vtev_producer_publish_type()` with the vt-codegen descriptor of "
      "the same event: validation, the generated direct encoder, framing and the same "
      "three headers), against the same plain producer, in the same runs (the three sides "
      "take turns starting a run):")
    w("")
    pub = table_pair(data, order, "publish", "gen", "plain", 0.9, out)
    w("")
    w("The 0.1 API (`vtev_producer_publish()` of the hand-written event struct, encoded "
      "through avro-c's generic value API), same runs:")
    w("")
    pub01 = table_pair(data, order, "publish", "typed", "plain", None, out)
    w("")

    w("## Python stack: confluent-kafka SerializingProducer / DeserializingConsumer")
    w("")
    w("The stack this library replaces: confluent-kafka %s (`SerializingProducer` + "
      "`AvroSerializer`, `DeserializingConsumer` + `AvroDeserializer`), the same .avsc "
      "files, the same registry, the same topic, key, headers and librdkafka settings. "
      "Each run is a separate process for Python and a separate C invocation, "
      "alternating C and Python. N = %s." %
      (m.get("confluent_kafka", "?"), m.get("events_python", "?")))
    w("")
    w("Publish (command: `%s`):" % m.get("cmd_py_publish", ""))
    w("")
    data_py = {}
    for k, v in data.items():
        if k[0] == "pypublish":
            data_py[("publish",) + k[1:]] = v
    pyo = [("publish", c) for t, c in order if t == "pypublish"]
    pypub = table_pair(data_py, pyo, "publish", "typed", "python", 10, out)
    w("")
    pl = []
    for t, c in pyo:
        a = data_py.get(("publish", c, "plain", "eps"))
        b = data_py.get(("publish", c, "python", "eps"))
        if a and b:
            pl.append("%s %.2fx" % (c, med(a) / med(b)))
    if pl:
        w("For scale, the plain librdkafka producer (pre-encoded bytes, run alongside in the "
          "same C invocations) against Python: %s." % ", ".join(pl))
        w("")
    w("Consume (command: `%s`):" % m.get("cmd_py_consume", ""))
    w("")
    data_pc = {}
    for k, v in data.items():
        if k[0] == "pyconsume":
            data_pc[("consume",) + k[1:]] = v
    pco = [("consume", c) for t, c in order if t == "pyconsume"]
    pycons = table_pair(data_pc, pco, "consume", "gen", "python", 15, out, mb=False,
                        label_a="generated")
    w("")
    w("The 0.1 consumer (`vtev_consumer_subscribe()`) in the same C invocations:")
    w("")
    pycons01 = table_pair(data_pc, pco, "consume", "typed", "python", 10, out, mb=False)
    w("")

    w("## Consume throughput: typed consumer vs plain librdkafka consumer")
    w("")
    w("The topic is filled once with N typed events (500 vessel ids as keys); each run reads "
      "all N with a fresh consumer group from the earliest offset. Typed: "
      "`vtev_consumer_run()` with a no-op handler returning OK (unframe, schema id lookup "
      "(cached), Avro decode into the event struct, handler, offset store, commit every "
      "1000 ms). Plain: `rd_kafka_consumer_poll()` and `rd_kafka_message_destroy()` with "
      "the same group settings (roundrobin, earliest, auto-commit every 1000 ms) and no "
      "decoding. Time runs from the first message to the N-th, so the group join is "
      "excluded; librdkafka prefetches while the group settles, so the plain side mostly "
      "measures handing prefetched messages over.")
    w("")
    w("Command: `%s`" % m.get("cmd_consume", ""))
    w("")
    cons = table_pair(data, order, "consume", "typed", "plain", None, out)
    w("")
    w("Generated types (`vtev_consumer_subscribe_type()`: the fast path, the generated "
      "decoder and the schema's constraints), same runs:")
    w("")
    cons_gen = table_pair(data, order, "consume", "gen", "plain", None, out)
    w("")

    w(OBS_HEADING)
    w("")
    w("The generated-type publish (`vtev_producer_publish_type()`) and consume "
      "(`vtev_consumer_subscribe_type()`, no-op handler) of position events, one "
      "partition, as above, in three settings run side by side in rotating order: "
      "everything on (the defaults: every message counted into the process's metrics, a "
      "`traceparent` header set on publish and read on consume), `metrics.enable=false`, "
      "and `trace.propagation=false` (its consumer reads a topic filled without "
      "`traceparent` headers, with metrics on).")
    w("")
    w("Command: `%s`" % m.get("cmd_obs", ""))
    w("")
    w("Metrics on against off:")
    w("")
    obs_mp = table_pair(data, order, "obs_publish", "all on", "metrics off", 0.97, out, mb=False)
    w("")
    obs_mc = table_pair(data, order, "obs_consume", "all on", "metrics off", 0.97, out, mb=False)
    w("")
    w("Trace propagation on against off:")
    w("")
    obs_tp = table_pair(data, order, "obs_publish", "all on", "trace off", 0.95, out, mb=False)
    w("")
    obs_tc = table_pair(data, order, "obs_consume", "all on", "trace off", 0.95, out, mb=False)
    w("")

    bc = os.path.join(rdir, "codec.txt")
    if os.path.exists(bc):
        w("## Codec alone: typed encode/decode vs hand-written avro-c")
        w("")
        w("No Kafka: `bench_codec` (bench/bench_codec.c) encodes and decodes the same "
          "records with the library's codec and with the best generic avro-c code a careful "
          "user writes by hand, alternating. Command: `%s`." % m.get("cmd_codec", ""))
        w("")
        w("```")
        for line in open(bc):
            w(line.rstrip("\n"))
        w("```")
        w("")

    gen = gencodec_section(data, order, m, w)

    w("## End-to-end latency publish → handler")
    w("")
    w("`bench_latency`: one process, a typed producer and a typed consumer (own thread) "
      "on a 1-partition topic. The event timestamp is set right before "
      "`vtev_producer_publish()`; the handler computes wall clock minus timestamp. Fixed "
      "rates are paced on an absolute schedule; \"one at a time\" publishes the next event "
      "only after the handler saw the previous one (the way Kafka's tool works). "
      "Profiles: `default` (linger.ms=5) and `low-latency` (linger.ms=0). Milliseconds, "
      "median (min–max) over the runs of each run's percentile.")
    w("")
    w("Command: `%s`" % m.get("cmd_latency", ""))
    w("")
    w("| case | side | rate achieved (/s) | avg | p50 | p99 | p99.9 | lost |")
    w("|---|---|---:|---:|---:|---:|---:|---:|")
    lat_cases = [c for t, c in order if t == "latency"]
    for case in lat_cases:
        for side in ("typed", "kafka"):
            if not data.get(("latency", case, side, "p50_ms")):
                continue
            g = lambda metric, kind="ms": stat(data.get(("latency", case, side, metric)), kind)
            lost = data.get(("latency", case, side, "lost"))
            w("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                case, "libvtevents" if side == "typed" else "Kafka EndToEndLatency",
                g("rate", "eps"), g("avg_ms"), g("p50_ms"), g("p99_ms"), g("p999_ms"),
                "%d" % sum(lost) if lost else "—"))
    w("")
    kt = [c for c in lat_cases if data.get(("latency", c, "kafka", "p99_ms"))]
    lat_cmp = None
    if kt:
        kc = kt[0]
        ours = [c for c in lat_cases if c.startswith("one at a time") and
                data.get(("latency", c, "typed", "p99_ms"))]
        w("Kafka's own `org.apache.kafka.tools.EndToEndLatency` (kafka-tools %s, Java "
          "producer and consumer, `acks=all`, same message size) takes no rate: it sends one "
          "message, waits for the acknowledgement, polls until it reads it back, and "
          "repeats, so it runs at its natural rate (shown; about 1/latency). It prints its "
          "percentiles as whole milliseconds (truncated) and its average with decimals, and "
          "its numbers include the first message (connection set-up). Command: `%s`." %
          (m.get("kafka", "?"), m.get("cmd_e2e", "")))
        w("")
        for oc in ours:
            a = data[("latency", oc, "typed", "p99_ms")]
            b = data[("latency", kc, "kafka", "p99_ms")]
            aa = data.get(("latency", oc, "typed", "avg_ms"))
            ba = data.get(("latency", kc, "kafka", "avg_ms"))
            r = med(a) / med(b) if med(b) else float("inf")
            lat_cmp = (oc, r)
            w("- %s: p99 %.2f ms vs Kafka's tool %.0f ms: **%.2fx** (target ≤ 1.2x: %s); "
              "average %.2f ms vs %.2f ms." % (
                  oc, med(a), med(b), r, "met" if r <= 1.2 else "missed",
                  med(aa) if aa else 0, med(ba) if ba else 0))
        w("")

    w("## Pipeline latency position → result (example worker)")
    w("")
    if data.get(("pipeline", "position -> result", "typed", "p50_ms")):
        g = lambda metric: data.get(("pipeline", "position -> result", "typed", metric))
        w("The example services of examples/ (position-simulator → prediction-trigger → "
          "prediction-worker → prediction-persister) as separate processes on this stack, "
          "started by `vt-demo --real`, which reports the latency from a position's "
          "timestamp (carried through the request and result metadata) to the result's "
          "arrival at the persister. 1,500 positions at 100/s per run; the latency includes "
          "the trigger's and the worker's processing and two more Kafka hops. vt-demo starts "
          "the simulator only once every service's consumer has its partitions, and each "
          "producer looks its topics up when it is created, so no start-up wait is in the "
          "figures (before the producer did that lookup, the first publish of each stage "
          "waited about a second for librdkafka's metadata round and the p99 was 2.3 s). "
          "Command: `%s`." %
          m.get("cmd_pipeline", ""))
        w("")
        w("| path | runs | p50 (ms) | p99 (ms) | results per run |")
        w("|---|---:|---:|---:|---:|")
        w("| position → result | %d | %s | %s | %s |" % (
            len(g("p50_ms")), stat(g("p50_ms"), "ms"), stat(g("p99_ms"), "ms"),
            fmt(med(g("results")), "eps") if g("results") else "—"))
    else:
        w("Not measured: %s" % m.get("pipeline_note",
                                      "the example worker is not on this branch."))
    w("")

    live = []
    lk = [k for k in order if k[0] == "live"]
    if lk:
        w(LIVE_HEADING)
        w("")
        w("`live-broadcaster` on this stack with WebSocket clients that keep up "
          "(bench/live_load.c: libwebsockets' client, one thread) while position-simulator "
          "publishes positions; the latency is from each position's timestamp (set when it "
          "is published) to its arrival at a client, over every position every client "
          "received after its snapshot (each run's topics are new, and 64 warm-up positions "
          "are published and read before the clients connect: the first positions sent to a "
          "new topic wait for its leaders); CPU is the broadcaster's user + system time over "
          "the publishing time "
          "(100 %% = one core), RSS its resident memory at the end of the run (and its "
          "peak). The broker, the simulator and the clients share the same cores. "
          "Command: `%s`." % m.get("cmd_live", ""))
        w("")
        w("| case | runs | p50 (ms) | p99 (ms) | p99.9 (ms) | max (ms) | broadcaster CPU (%) "
          "| RSS (MB) | peak RSS (MB) | clients' CPU (%) | received per run | dropped per run | missing per run |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for _, case in lk:
            g = lambda metric: data.get(("live", case, "live", metric)) or [0]
            w("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                case, len(g("p50_ms")), stat(g("p50_ms"), "ms"), stat(g("p99_ms"), "ms"),
                stat(g("p999_ms"), "ms"), stat(g("max_ms"), "ms"), stat(g("cpu_pct"), "ms"),
                stat(g("rss_mb"), "ms"), stat(g("hwm_mb"), "ms"), stat(g("load_cpu_pct"), "ms"),
                fmt(med(g("received")), "eps"), fmt(med(g("dropped")), "eps"),
                fmt(max(g("missing")), "eps")))
            live.append((case, med(g("p99_ms"))))
        w("")
        w("Median (min–max) over the runs; missing is the largest, over the runs, number of "
          "published positions the client with the fewest did not receive (0: every client "
          "got every position). A client that does not keep up costs at most its "
          "queue (`--client-queue`, `--client-bytes`; the `live_slow_client` test).")
        w("")
    api_targets = api_section(data, m, w)

    dlq = []
    dlq_cases = [c for t, c in order if t == "dlq_stats"]
    if dlq_cases:
        w(DLQ_HEADING)
        w("")
        w("`bench_dlq`: a dead-letter topic (1 partition) filled with dead letters as a "
          "consumer writes them (a 120-byte value, the vtev.* headers, five error codes, 50 "
          "reasons, 24 hours), then the whole process `vt-dlq stats` (start, metadata, reading "
          "to the end, counting, printing) timed from fork to exit, text and `--json` "
          "alternating. Seconds, median (min–max) of the runs. Command: `%s`." %
          m.get("cmd_dlq", ""))
        w("")
        w("| topic | text | --json |")
        w("|---|---:|---:|")
        for case in dlq_cases:
            t = data.get(("dlq_stats", case, "text", "seconds"))
            j = data.get(("dlq_stats", case, "json", "seconds"))
            w("| %s | %s | %s |" % (case, stat(t, "ms3"), stat(j, "ms3")))
            if t and j:
                dlq.append((case, max(max(t), max(j))))
        w("")

    w("## Memory")
    w("")
    w("`bench_memory`: a producer process publishing vessel.position.updated at %s events/s "
      "and a consumer process reading them with a no-op handler, side by side for %s s "
      "(`./run bench --full`: 300 s). RSS is sampled every second from /proc/self/status; "
      "peak is VmHWM, steady is the median RSS of the second half of the run, growth is "
      "the RSS at the end minus the RSS at the end of the first quarter (flat is the "
      "target). One run per role." % (m.get("memory_rate", "5000"), m.get("memory_secs", "?")))
    w("")
    w("Command: `%s`" % m.get("cmd_memory", ""))
    w("")
    w("| role | peak RSS (MiB) | steady RSS (MiB) | growth (KiB) | events |")
    w("|---|---:|---:|---:|---:|")
    for role in ("producer", "consumer"):
        g = lambda metric: med(data.get(("memory", role, "typed", metric)))
        if g("peak_kb") is None:
            continue
        ev = g("published") if role == "producer" else g("consumed")
        w("| %s | %.1f | %.1f | %+.0f | %s |" % (role, g("peak_kb") / 1024, g("steady_kb") / 1024,
                                               g("growth_kb"), fmt(ev, "eps") if ev else "—"))
    w("")
    sp = os.path.join(rdir, "samples.tsv")
    if os.path.exists(sp):
        series = collections.defaultdict(list)
        for line in open(sp):
            p = line.rstrip("\n").split("\t")
            if len(p) == 4 and p[0] == "S":
                series[p[1]].append((float(p[2]), int(p[3])))
        for role, s in series.items():
            if not s:
                continue
            step = max(1, len(s) // 10)
            pts = ", ".join("%ds: %.1f" % (t, kb / 1024) for t, kb in s[::step])
            w("- %s RSS over time (MiB): %s" % (role, pts))
        w("")
    vg = os.path.join(rdir, "valgrind.txt")
    w("Valgrind (memcheck, `--leak-check=full`) on a short run of a producer and a consumer "
      "in one process (command: `%s`):" % m.get("cmd_valgrind", ""))
    w("")
    if os.path.exists(vg):
        w("```")
        for line in open(vg):
            w(line.rstrip("\n"))
        w("```")
    else:
        w("_Not run._")
    w("")

    w("## Where the time goes (callgrind)")
    w("")
    w("perf is not available in this container, so the profile is valgrind's callgrind "
      "(instruction counts, not time) on a short publish run against the real broker "
      "(command: `%s`). Instructions per event of the whole process: generated types "
      "%s, the 0.1 API %s, plain librdkafka %s. Top functions by own (exclusive) "
      "instructions of the generated-types run; the "
      "unnamed libz.so entries are zlib's deflate internals (gzip compression on "
      "librdkafka's broker thread, the same cost on both sides), the ld.so entries are "
      "process start-up:" % (
          m.get("cmd_callgrind", ""), m.get("ir_per_event_gen", "?"),
          m.get("ir_per_event_typed", "?"), m.get("ir_per_event_plain", "?")))
    w("")
    cg = os.path.join(rdir, "callgrind_gen.txt")
    if not os.path.exists(cg):  # results of a run before the gen side was profiled
        cg = os.path.join(rdir, "callgrind_typed.txt")
    if os.path.exists(cg):
        w("```")
        for line in open(cg):
            w(repo_view(line.rstrip("\n")))
        w("```")
    w("")
    ci = os.path.join(rdir, "callgrind_incl.tsv")
    if os.path.exists(ci):
        rows = collections.OrderedDict()
        for line in open(ci):
            p = line.rstrip("\n").split("\t")
            if len(p) == 3:
                rows.setdefault(p[1], {})[p[0]] = int(p[2])
        if rows:
            w("Inclusive instructions per event (the function and everything it calls), same runs:")
            w("")
            w("| function | generated types | 0.1 API | plain |")
            w("|---|---:|---:|---:|")
            for fn, v in rows.items():
                w("| `%s` | %s |" % (fn, " | ".join(
                    "{:,}".format(v[k]) if k in v else "—" for k in ("gen", "typed", "plain"))))
            w("")
    notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "notes.md")
    if os.path.exists(notes):
        w(open(notes).read().rstrip("\n"))
        w("")

    w("## Targets")
    w("")
    w("| target | result |")
    w("|---|---|")
    for case, r, _, _ in pub:
        w("| publish %s generated/plain ≥ 0.9x | %.3fx %s |" % (case, r, "met" if r >= 0.9 else "**missed**"))
    for case, r, _, _ in pypub:
        w("| publish %s vs Python ≥ 10x | %.2fx %s |" % (case, r, "met" if r >= 10 else "**missed**"))
    for case, r, _, _ in pycons:
        w("| consume %s generated vs Python ≥ 15x | %.2fx %s |" % (case, r, "met" if r >= 15 else "**missed**"))
    if lat_cmp:
        w("| latency p99 within 1.2x of Kafka's EndToEndLatency | %.2fx %s |" % (
            lat_cmp[1], "met" if lat_cmp[1] <= 1.2 else "**missed**"))
    for ev, op, r in gen:
        w("| generated codec %s %s ≥ %gx generic avro-c | %.2fx %s |" % (
            ev, op, GENCODEC_TARGET, r, "met" if r >= GENCODEC_TARGET else "**missed**"))
    for case, p99 in live:
        w("| live map p99 publish → client, %s, < %d ms | %.1f ms %s |" % (
            case, LIVE_TARGET_MS, p99, "met" if p99 < LIVE_TARGET_MS else "**missed**"))
    for case, worst in dlq:
        w("| vt-dlq stats on %s < %g s | slowest run %.3f s %s |" % (
            case, DLQ_TARGET_S, worst, "met" if worst < DLQ_TARGET_S else "**missed**"))
    for what, res, target in (("publish metrics on/off", obs_mp, 0.97),
                              ("consume metrics on/off", obs_mc, 0.97),
                              ("publish trace on/off", obs_tp, 0.95),
                              ("consume trace on/off", obs_tc, 0.95)):
        for case, r, _, _ in res:
            w("| observability %s %s ≥ %gx | %.3fx %s |" % (
                what, case, target, r, "met" if r >= target else "**missed**"))
    for row in api_targets:
        w(row)
    w("")
    if sections:
        splice(outp, out, sections)
        return
    with open(outp, "w") as f:
        f.write("\n".join(out))
    print("wrote %s" % outp)


# --sections: the parts whose sections can be rerun on their own (no Kafka),
# their headings, and the prefix of their rows in the Targets table.
SPLICE = {"gencodec": (GENCODEC_HEADING, "| generated codec "),
          "codec": ("## Codec alone:", None),
          "obs": (OBS_HEADING, "| observability "),
          "live": (LIVE_HEADING, "| live map "),
          "dlq": (DLQ_HEADING, "| vt-dlq stats "),
          "api": (API_HEADING, "| vessel-api ")}


def blocks(lines):
    """Splits a document into [head, section, section, ...] at '## ' headings."""
    bl = [[]]
    for line in lines:
        if line.startswith("## "):
            bl.append([])
        bl[-1].append(line)
    return bl


def splice(outp, new_lines, sections):
    new = blocks("\n".join(new_lines).split("\n"))
    old = blocks(open(outp).read().split("\n")) if os.path.exists(outp) else [["# Performance", ""]]
    for part in sections:
        if part not in SPLICE:
            sys.exit("report.py: --sections: %s cannot be updated on its own (use %s)" % (
                part, ", ".join(sorted(SPLICE))))
        heading, target_prefix = SPLICE[part]
        sec = [b for b in new[1:] if b[0].startswith(heading)]
        if not sec:
            continue
        idx = [i for i, b in enumerate(old) if i and b[0].startswith(heading)]
        if idx:
            old[idx[0]] = sec[0]
        else:
            # a new section goes before the latency section (after the codec ones), or last
            before = "## Memory" if part == "api" else "## End-to-end latency"
            at = [i for i, b in enumerate(old) if i and b[0].startswith(before)]
            old.insert(at[0] if at else len(old), sec[0])
        if target_prefix:
            nt = [b for b in new[1:] if b[0] == "## Targets"]
            ot = [b for b in old[1:] if b[0] == "## Targets"]
            rows = [l for l in nt[0] if l.startswith(target_prefix)] if nt else []
            if ot:
                t = [l for l in ot[0] if not l.startswith(target_prefix)]
                last = max(i for i, l in enumerate(t) if l.startswith("|"))
                t[last + 1:last + 1] = rows
                ot[0][:] = t
    # the hand-written analysis (bench/notes.md) may refer to the new figures
    notes = [b for b in new[1:] if b[0] == "## Reading the numbers"]
    idx = [i for i, b in enumerate(old) if i and b[0] == "## Reading the numbers"]
    if notes and idx:
        old[idx[0]] = notes[0]
    with open(outp, "w") as f:
        f.write("\n".join(line for b in old for line in b))
    print("updated %s in %s" % (", ".join(sections), outp))


if __name__ == "__main__":
    main()
