#!/usr/bin/env python3
"""The HTTP benchmark (scripts/bench.sh, part api): vessel-api in direct and
outbox mode against the platform's original design in Python (bench/py/py_api.py:
FastAPI + uvicorn + SerializingProducer/AvroSerializer), on the real stack.

usage: run_api.py BUILD_DIR PYTHON [--rounds N] [--secs S] [--quick]

Per round, for each side in turn (the order rotates from round to round): a
fresh database and topic, the server started, 100 vessels registered, a
2-second warm-up at 1,000 req/s, then wrk (bench/api/put.lua, one thread, 50
connections) for S seconds at 1,000 req/s, at 5,000 req/s, and as fast as it
goes (PUT /api/v1/vessels/{id}).  Then (outbox: once the outbox is empty) the
server is stopped, which flushes its producer, and the topic is read back
with vt-tail: each 202's event_id must be in it exactly once, and the topic
must hold nothing else.  Also per rate: the server process's CPU time per
request (/proc/PID/stat, all its threads) and the machine's 1-minute load
average as wrk started (the machine may be shared).  Prints R lines for
bench/report.py (table api).
Needs: wrk (Debian package), KAFKA_BOOTSTRAP_SERVERS, SCHEMA_REGISTRY_URL.
The servers listen on free ports of 20000-32000 (tests/free_port.py), or on
VTEV_BENCH_API_PORT, +1 and +2 (direct, outbox, python) when that is set.
"""
import collections
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LUA = os.path.join(ROOT, "bench", "api", "put.lua")
VESSELS = 100
SIDES = ["direct", "outbox", "python"]


def free_port():
    return int(subprocess.check_output([sys.executable, os.path.join(ROOT, "tests", "free_port.py")]))


def call(port, method, path, body=None, timeout=5):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        h = {"Content-Type": "application/json"} if body is not None else {}
        c.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
        r = c.getresponse()
        return r.status, r.read().decode()
    finally:
        c.close()


def result(case, side, metric, value):
    sys.stdout.write("R\tapi\t%s\t%s\t%s\t%.6g\n" % (case, side, metric, value))
    sys.stdout.flush()


def log(msg):
    print("==> bench api: " + msg, file=sys.stderr, flush=True)


def cpu_secs(pid):
    """User + system CPU seconds of process @p pid (all threads) so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load1():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def wrk(port, rate, secs, ids_file):
    env = dict(os.environ, VT_RATE=str(rate), VT_VESSELS=str(VESSELS), VT_THREADS="1",
               VT_IDS_FILE=ids_file)
    out = subprocess.run(["wrk", "-t1", "-c50", "-d%ds" % secs, "--timeout", "10s", "-s", LUA,
                          "http://127.0.0.1:%d" % port],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if out.returncode != 0:
        sys.exit("wrk failed: " + out.stdout)
    w = {}
    for line in out.stdout.splitlines():
        p = line.split("\t")
        if len(p) == 3 and p[0] == "W":
            w[p[1]] = float(p[2])
    return w


STARTED = []  # every server process, killed at exit if still running


class Side:
    def __init__(self, name, build, py, tmp, topic):
        self.name, self.build, self.py, self.tmp, self.topic = name, build, py, tmp, topic
        base = os.environ.get("VTEV_BENCH_API_PORT")
        self.port = int(base) + SIDES.index(name) if base else free_port()
        self.db = os.path.join(tmp, topic + ".db")  # fresh each round
        self.err = open(os.path.join(tmp, name + ".err"), "w")
        if name == "python":
            cmd = [py, "-W", "ignore", os.path.join(ROOT, "bench", "py", "py_api.py"), "--port",
                   str(self.port), "--db", self.db, "--topic-position", topic,
                   "--topic-request", topic + ".req"]
        else:
            cmd = [os.path.join(build, "examples", "vessel-api"), "-q", "--http",
                   "127.0.0.1:%d" % self.port, "--db", self.db, "-X", "topic.position=" + topic,
                   "-X", "topic.request=" + topic + ".req", "-X", "topic.result=" + topic + ".res"]
            if name == "outbox":
                cmd.append("--outbox")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.err)
        for _ in range(300):
            try:
                if call(self.port, "GET", "/healthz", timeout=1)[0] == 200:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None:
                sys.exit("%s did not start: %s" % (name, open(self.err.name).read()))
            time.sleep(0.1)
        STARTED.append(self.proc)
        for i in range(VESSELS):
            st, body = call(self.port, "POST", "/api/v1/vessels", {"vessel_id": "V%04d" % i})
            if st != 201:
                sys.exit("%s: register: %s %s" % (name, st, body))

    def outbox_rows(self):
        st, text = call(self.port, "GET", "/metrics")
        for line in text.splitlines():
            if line.startswith("vt_api_outbox_rows "):
                return float(line.split()[1])
        return None

    def stop(self):
        if self.name == "outbox":
            for _ in range(1200):
                if self.outbox_rows() == 0:
                    break
                time.sleep(0.1)
        self.proc.send_signal(signal.SIGTERM if self.name != "python" else signal.SIGINT)
        try:
            self.proc.wait(120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.err.close()
        return self.proc.returncode


def topic_ids(build, topic):
    out = subprocess.run([os.path.join(build, "tools", "vt-tail"), "-q", "-t", topic, "-o", "beginning",
                          "-e", "--events-only"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, timeout=600)
    if out.returncode != 0:
        sys.exit("vt-tail %s: %s" % (topic, out.stderr))
    return [json.loads(l)["event_id"] for l in out.stdout.splitlines() if l.strip()]


CASES = [("1,000 req/s", 1000), ("5,000 req/s", 5000), ("max", 0)]


def main():
    args = sys.argv[1:]
    rounds, secs = 3, 10
    if "--quick" in args:
        args.remove("--quick")
        rounds, secs = 1, 4
    if "--rounds" in args:
        i = args.index("--rounds")
        rounds = int(args[i + 1])
        del args[i:i + 2]
    if "--secs" in args:
        i = args.index("--secs")
        secs = int(args[i + 1])
        del args[i:i + 2]
    build, py = args
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (Debian package wrk; ./run deps installs it)")
    sides = SIDES
    tmp = tempfile.mkdtemp(prefix="vtev-bench-api-")
    try:
        for rnd in range(rounds):
            order = sides[rnd % 3:] + sides[:rnd % 3]
            for side in order:
                topic = "bench-api-%s-%d-%d" % (side, os.getpid(), rnd)
                subprocess.run([os.path.join(build, "tools", "vt-topics"), "-q", "-X",
                                "topic.position=" + topic, "-X", "topic.request=" + topic + ".req",
                                "-X", "topic.result=" + topic + ".res", "create"],
                               check=True, stdout=subprocess.DEVNULL)
                s = Side(side, build, py, tmp, topic)
                ids_files = []
                f = os.path.join(tmp, "%s.warmup.ids" % side)
                wrk(s.port, 1000, 2, f)
                ids_files.append(f)
                for case, rate in CASES:
                    log("round %d: %s %s" % (rnd + 1, side, case))
                    f = os.path.join(tmp, "%s.%d.ids" % (side, rate))
                    load, c0 = load1(), cpu_secs(s.proc.pid)
                    w = wrk(s.port, rate, secs, f)
                    cpu = cpu_secs(s.proc.pid) - c0
                    ids_files.append(f)
                    if w.get("requests"):
                        result(case, side, "cpu_us", cpu / w["requests"] * 1e6)
                    result(case, side, "load1", load)
                    for k in ("rate", "p50_ms", "p99_ms", "p999_ms", "max_ms", "s202", "s503",
                              "sother", "sockerr"):
                        result(case, side, k, w.get(k, 0))
                rc = s.stop()
                accepted = []
                for f in ids_files:
                    with open(f) as fh:
                        accepted += [l.strip() for l in fh if l.strip()]
                ids = topic_ids(build, topic)
                have = collections.Counter(ids)
                matched = sum(1 for e in accepted if have.get(e) == 1)
                missing = sum(1 for e in accepted if e not in have)
                dups = sum(c - 1 for c in have.values() if c > 1)
                extra = len(set(have) - set(accepted))
                log("%s: %d accepted, %d events in the topic: %d matched exactly once, %d missing, "
                    "%d duplicates, %d not accepted; exit %s" % (side, len(accepted), len(ids), matched,
                                                              missing, dups, extra, rc))
                result("all", side, "accepted", len(accepted))
                result("all", side, "matched", matched)
                result("all", side, "missing", missing)
                result("all", side, "duplicates", dups)
                result("all", side, "extra", extra)
    finally:
        for p in STARTED:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
