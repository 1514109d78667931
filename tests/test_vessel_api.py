#!/usr/bin/env python3
"""vessel-api (examples/) on the real stack (KAFKA_BOOTSTRAP_SERVERS,
SCHEMA_REGISTRY_URL), on topics and a database unique to the run.

usage: test_vessel_api.py MODE EXAMPLES_DIR TOOLS_DIR

  unit          no broker (suite unit: the embedded mock:// cluster and
                registry, a fresh SQLite file): the routing (404 path, 405)
                and every validation class of PUT and POST (400 with line and
                column, 413, 415, 422 with the field) store nothing and
                publish nothing (the API's published counter); 201/409, 202,
                404, a pending prediction; 8 clients at once (requests that
                share a transaction, see "rounds" in vessel-api.c): every one
                202 with its own event_id, every update stored and counted
                once; the same with --threads 2 (a transaction per request)
                and with --outbox (the outbox empties).

  direct        every endpoint; every bad-input class (400 with line and
                column, 413 by Content-Length and by a chunked body, 415,
                422 with the field and the library's reason) stores and
                publishes nothing (the topics are counted); 404, 405, 409;
                a prediction going from 202 pending to its 3 results
                (prediction-worker and prediction-persister started after the
                first GET); 503 with Retry-After from a full producer queue
                (an API whose broker is away, queue of 3), nothing stored.
  direct-pg     the same with --db postgresql://... (a server started here,
                as test_examples.sh does): the store's PostgreSQL back end.
  outbox-kill   --outbox under load from 8 clients, SIGKILLed and restarted
                twice: every 202's event_id is in the topic (duplicates only
                of events published before a kill), every vessel's stored
                last_event_id too, and the outbox is empty at the end.
  outbox-broker --outbox with the stack's brokers stopped (scripts/stack.sh
                node stop, every node) for a while under load: each answer is 202 or
                503 (the outbox over --outbox-max), and after the broker is
                back every 202's event_id is in the topic.

The topics are read back with vt-tail (-o beginning -e --events-only).
"""
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FAILS = []


def fail(msg):
    FAILS.append(msg)
    print("FAIL: " + msg, flush=True)


def check(cond, msg):
    if not cond:
        fail(msg)
    return cond


def free_port():
    return int(subprocess.check_output([sys.executable, os.path.join(HERE, "free_port.py")]).strip())


class Api:
    """One vessel-api process."""

    def __init__(self, exe, tmp, name, args, env=None):
        self.exe, self.tmp, self.name, self.args, self.env = exe, tmp, name, args, env
        self.port = free_port()
        self.proc = None
        self.runs = 0

    def start(self):
        self.runs += 1
        self.err = open(os.path.join(self.tmp, "%s.%d.err" % (self.name, self.runs)), "w")
        self.proc = subprocess.Popen([self.exe, "--http", "127.0.0.1:%d" % self.port] + self.args,
                                     stdout=subprocess.DEVNULL, stderr=self.err, env=self.env)
        for _ in range(100):
            try:
                if self.request("GET", "/healthz", timeout=1)[0] in (200, 503):
                    return
            except OSError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise SystemExit("FAIL: %s did not start: %s" % (self.name, self.log()))

    def log(self):
        self.err.flush()
        with open(self.err.name) as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode if self.proc else None
        self.proc = None
        return rc

    def request(self, method, path, body=None, ctype="application/json", headers=None,
                timeout=10, raw=False):
        """(status, parsed JSON body or text, headers)"""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = dict(headers or {})
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else (body if raw else json.dumps(body)).encode()
            if ctype:
                h["Content-Type"] = ctype
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            text = r.read().decode()
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = text
            return r.status, parsed, dict(r.getheaders())
        finally:
            c.close()

    def metric(self, name):
        st, text, _ = self.request("GET", "/metrics")
        for line in text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
        return None


def topic_events(tail, topic, common):
    """The events of a topic: [event dict]."""
    out = subprocess.run([tail] + common + ["-q", "-t", topic, "-o", "beginning", "-e",
                                            "--events-only"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    if out.returncode != 0:
        fail("vt-tail %s: exit %d: %s" % (topic, out.returncode, out.stderr[-2000:]))
        return []
    return [json.loads(l) for l in out.stdout.splitlines() if l.strip()]


def expect_error(resp, status, field, what, reason_has=None):
    st, body, hdr = resp
    if not check(st == status, "%s: status %s, want %d: %s" % (what, st, status, body)):
        return
    if not check(isinstance(body, dict) and set(["error", "field", "reason"]) <= set(body),
                 "%s: not a JSON error: %r" % (what, body)):
        return
    check(hdr.get("Content-Type", "").startswith("application/json"), "%s: content type" % what)
    check(body["field"] == field, "%s: field %r, want %r (%s)" % (what, body["field"], field, body))
    if reason_has:
        check(reason_has in body["reason"], "%s: reason %r lacks %r" % (what, body["reason"], reason_has))


def chunked_put(port, path, size):
    """A PUT with a chunked body of @p size bytes (no Content-Length)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        chunk = b" " * 4096

        def gen():
            left = size
            while left > 0:
                yield chunk[:min(left, 4096)]
                left -= 4096
        c.request("PUT", path, body=gen(), headers={"Content-Type": "application/json"},
                  encode_chunked=True)
        r = c.getresponse()
        return r.status, json.loads(r.read().decode()), dict(r.getheaders())
    except (OSError, http.client.HTTPException) as e:
        return None, str(e), {}
    finally:
        c.close()


POS = {"current_lat": 27.8, "current_lon": -97.1, "speed": 12.5, "heading": 270.0}


def start_pg(tmp):
    """A PostgreSQL server of its own in tmp/pg on a free port (as
    test_examples.sh starts one): (url, stop function)."""
    import glob
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if not bins or not os.path.exists(os.path.join(bins[-1], "initdb")):
        raise SystemExit("FAIL: PostgreSQL server binaries not found (Debian package postgresql)")
    pgbin = bins[-1]
    as_pg = []
    if os.getuid() == 0:  # the server refuses to run as root
        import pwd
        pw = pwd.getpwnam("postgres")
        os.chown(tmp, pw.pw_uid, pw.pw_gid)
        os.chmod(tmp, 0o755)
        as_pg = ["runuser", "-u", "postgres", "--"]
    data = os.path.join(tmp, "pg")
    subprocess.run(as_pg + [os.path.join(pgbin, "initdb"), "-D", data, "-U", "vtev", "--auth=trust",
                            "-E", "UTF8"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ctl = as_pg + [os.path.join(pgbin, "pg_ctl"), "-D", data]
    for _ in range(5):
        port = free_port()
        r = subprocess.run(ctl + ["-w", "-t", "60", "-l", os.path.join(tmp, "pg.log"), "-o",
                                  "-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off" % (port, tmp),
                                  "start"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if r.returncode == 0:
            return ("postgresql://vtev@127.0.0.1:%d/postgres" % port,
                    lambda: subprocess.run(ctl + ["stop", "-m", "fast"], stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL))
    raise SystemExit("FAIL: PostgreSQL did not start: " + open(os.path.join(tmp, "pg.log")).read())


def mode_direct_pg(ex, tools, tmp, common, P, topics):
    url, stop = start_pg(tmp)
    try:
        mode_direct(ex, tools, tmp, common, P, topics, db=url)
    finally:
        stop()


def mode_direct(ex, tools, tmp, common, P, topics, db=None):
    db = db or os.path.join(tmp, "p.db")
    api = Api(os.path.join(ex, "vessel-api"), tmp, "api", common + ["--db", db])
    api.start()
    put_ids, req_ids = [], []

    # ---- vessels
    st, body, hdr = api.request("POST", "/api/v1/vessels", {"vessel_id": "IMO1", "name": "Arctic Spirit"})
    check(st == 201, "register: %s %s" % (st, body))
    check(hdr.get("Location") == "/api/v1/vessels/IMO1", "register: Location %r" % hdr.get("Location"))
    check(body.get("vessel_id") == "IMO1" and body.get("name") == "Arctic Spirit", "register body %r" % body)
    expect_error(api.request("POST", "/api/v1/vessels", {"vessel_id": "IMO1"}), 409, "vessel_id", "register twice")
    st, body, _ = api.request("POST", "/api/v1/vessels", dict(POS, vessel_id="IMO2", status="moored"))
    check(st == 201 and body.get("current_lat") == 27.8 and body.get("status") == "moored",
          "register with a position: %s %s" % (st, body))
    st, body, _ = api.request("GET", "/api/v1/vessels/IMO1")
    check(st == 200 and body.get("current_lat") is None and body.get("updates") == 0, "get new vessel: %s %s" % (st, body))
    expect_error(api.request("GET", "/api/v1/vessels/NOPE"), 404, "vessel_id", "get unknown")

    # ---- position updates
    for i in range(5):
        st, body, _ = api.request("PUT", "/api/v1/vessels/IMO1", dict(POS, heading=10.0 * i))
        if check(st == 202 and body.get("status") == "accepted" and len(body.get("event_id", "")) == 36,
                 "put: %s %s" % (st, body)):
            put_ids.append(body["event_id"])
    st, body, _ = api.request("GET", "/api/v1/vessels/IMO1")
    check(st == 200 and body.get("heading") == 40.0 and body.get("updates") == 5 and
          body.get("last_event_id") == put_ids[-1] and body.get("status") == "underway",
          "get after puts: %s %s" % (st, body))
    st, body, _ = api.request("PUT", "/api/v1/vessels/IMO2", dict(POS, speed=0.0))
    check(st == 202, "put keeps the status: %s %s" % (st, body))
    put_ids.append(body.get("event_id"))
    st, body, _ = api.request("GET", "/api/v1/vessels/IMO2")
    check(body.get("status") == "moored", "the stored status stays: %s" % body)
    expect_error(api.request("PUT", "/api/v1/vessels/NOPE", POS), 404, "vessel_id", "put unknown")

    # ---- bad input: nothing stored (updates stays 5), nothing published (counted below)
    U = "/api/v1/vessels/IMO1"
    st, body, _ = api.request("PUT", U, '{"current_lat": 27.8,\n  "current_lon": }', raw=True)
    expect_error((st, body, {"Content-Type": "application/json"}), 400, "body", "malformed JSON")
    check(st == 400 and body.get("line") == 2 and body.get("column") == 18 and
          "line 2, column 18" in body.get("reason", ""), "400 line/column: %s" % body)
    expect_error(api.request("PUT", U, POS, ctype="text/plain"), 415, "Content-Type", "text/plain")
    expect_error(api.request("PUT", U, POS, ctype=None), 415, "Content-Type", "no content type")
    big = json.dumps(dict(POS, status="x" * 70000)).encode()
    expect_error(api.request("PUT", U, big), 413, "body", "413 by Content-Length")
    st, body, _ = chunked_put(api.port, U, 70000)
    check(st == 413, "413 chunked: %s %s" % (st, body))
    expect_error(api.request("PUT", U, dict(POS, current_lat=91)), 422, "current_lat", "lat 91",
                 "data.lat: 91")
    expect_error(api.request("PUT", U, dict(POS, heading=360)), 422, "heading", "heading 360",
                 "data.heading")
    expect_error(api.request("PUT", U, dict(POS, speed=-1)), 422, "speed", "speed -1", "data.speed")
    expect_error(api.request("PUT", U, dict(POS, status="")), 422, "status", "empty status", "data.status")
    expect_error(api.request("PUT", U, dict(POS, status="s" * 40)), 422, "status", "long status")
    expect_error(api.request("PUT", U, {"current_lat": 1, "current_lon": 2, "speed": 3}), 422,
                 "heading", "missing heading", "required")
    expect_error(api.request("PUT", U, dict(POS, speed="fast")), 422, "speed", "speed a string", "number")
    expect_error(api.request("PUT", U, dict(POS, colour="red")), 422, "colour", "unknown field", "unknown")
    expect_error(api.request("PUT", U, [1, 2]), 422, "body", "an array")
    expect_error(api.request("PUT", "/api/v1/vessels/" + "V" * 70, POS), 422, "vessel_id", "long id")
    expect_error(api.request("POST", "/api/v1/vessels", {"name": "x"}), 422, "vessel_id", "register without id")
    expect_error(api.request("POST", "/api/v1/vessels", {"vessel_id": "IMO3", "current_lat": 1}), 422,
                 "current_lon", "register with a partial position")
    expect_error(api.request("POST", "/api/v1/vessels", {"vessel_id": ""}), 422, "vessel_id",
                 "register an empty id", "vessel_id")
    expect_error(api.request("DELETE", U), 405, "method", "DELETE")
    expect_error(api.request("GET", "/api/v1/nothing"), 404, "path", "unknown path")
    st, body, _ = api.request("GET", U)
    check(body.get("updates") == 5 and body.get("last_event_id") == put_ids[4],
          "refused updates stored nothing: %s" % body)
    expect_error(api.request("GET", "/api/v1/vessels/IMO3"), 404, "vessel_id", "refused registration stored nothing")

    # ---- prediction requests
    expect_error(api.request("POST", "/api/v1/predictions/analyze/NOPE"), 404, "vessel_id", "analyze unknown")
    api.request("POST", "/api/v1/vessels", {"vessel_id": "IMO4"})
    expect_error(api.request("POST", "/api/v1/predictions/analyze/IMO4"), 409, "vessel_id", "analyze without position")
    expect_error(api.request("POST", "/api/v1/predictions/analyze/IMO1", {"priority": "urgent"}), 422,
                 "priority", "bad priority")
    expect_error(api.request("POST", "/api/v1/predictions/analyze/IMO1", {"terminal_filter": "x"}), 422,
                 "terminal_filter", "bad terminal_filter")
    expect_error(api.request("POST", "/api/v1/predictions/analyze/IMO1", b"{", ctype="application/json"),
                 400, "body", "analyze malformed")
    st, body, _ = api.request("POST", "/api/v1/predictions/analyze/IMO1")
    check(st == 202 and body.get("status") == "accepted" and body.get("request_id", "").startswith("req-"),
          "analyze: %s %s" % (st, body))
    rid = body.get("request_id", "")
    req_ids.append(body.get("event_id"))
    st, body, _ = api.request("POST", "/api/v1/predictions/analyze/IMO2", {"priority": "high"})
    check(st == 202, "analyze with a body: %s %s" % (st, body))
    req_ids.append(body.get("event_id"))
    st, body, _ = api.request("GET", "/api/v1/predictions/" + rid)
    check(st == 202 and body.get("status") == "pending", "pending before the worker runs: %s %s" % (st, body))
    expect_error(api.request("GET", "/api/v1/predictions/req-none"), 404, "request_id", "unknown request")

    # the worker and the persister: pending -> the 3 results
    procs = []
    for prog, extra in (("prediction-worker", []), ("prediction-persister", ["--db", db])):
        procs.append(subprocess.Popen([os.path.join(ex, prog)] + common + extra + ["-X", "group.id=%s-%s" % (P, prog)],
                                      stdout=subprocess.DEVNULL,
                                      stderr=open(os.path.join(tmp, prog + ".err"), "w")))
    body = None
    for _ in range(600):
        st, body, _ = api.request("GET", "/api/v1/predictions/" + rid)
        # the persister stores the three results one by one: 200 with 1 or 2
        # of them is possible on the way
        if st == 200 and body.get("count") == 3:
            break
        check(st in (200, 202), "while pending: %s %s" % (st, body))
        time.sleep(0.1)
    check(st == 200 and body.get("count") == 3 and len(body.get("predictions", [])) == 3 and
          body.get("vessel_id") == "IMO1", "completed: %s %s" % (st, body))
    if st == 200:
        ps = body["predictions"]
        check(all(p["terminal_name"] and 0 <= p["confidence_score"] <= 1 for p in ps), "results %r" % ps)
        check([p["confidence_score"] for p in ps] == sorted([p["confidence_score"] for p in ps], reverse=True),
              "best first")
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        p.wait(60)

    # ---- the topics: exactly the accepted events
    tail = os.path.join(tools, "vt-tail")
    pos = [e["event_id"] for e in topic_events(tail, topics["pos"], common)]
    check(sorted(pos) == sorted(put_ids), "position topic has %d events, %d were accepted" % (len(pos), len(put_ids)))
    req = [e for e in topic_events(tail, topics["req"], common)]
    check(sorted(e["event_id"] for e in req) == sorted(req_ids),
          "request topic has %d events, %d were accepted" % (len(req), len(req_ids)))
    for e in req:
        if e["vessel_id"] == "IMO1":
            check(e["request_id"] == rid and e["data"]["vessel_snapshot"]["heading"] == 40.0,
                  "the request's snapshot is the stored state: %s" % e)
        else:
            check(e["data"]["priority"] == "high", "priority high: %s" % e)
    check(api.metric("vt_api_unavailable_total") == 0, "no 503 yet")
    check(api.stop() == 0, "vessel-api exit status: %s" % api.log())

    # ---- 503: the producer's queue full (its broker away, room for 3)
    dead = free_port()
    q = Api(os.path.join(ex, "vessel-api"), tmp, "api-q",
            common + ["-b", "127.0.0.1:%d" % dead, "--db", os.path.join(tmp, "q.db"),
                      "-X", "kafka.queue.buffering.max.messages=3", "--retry-after", "7",
                      "-X", "producer.close.timeout.ms=100"])
    q.start()
    q.request("POST", "/api/v1/vessels", {"vessel_id": "IMO9"})
    sts = [q.request("PUT", "/api/v1/vessels/IMO9", POS)[0] for _ in range(3)]
    check(sts == [202, 202, 202], "queue of 3: %s" % sts)
    st, body, hdr = q.request("PUT", "/api/v1/vessels/IMO9", POS)
    expect_error((st, body, hdr), 503, "producer", "full queue", "QUEUE_FULL")
    check(hdr.get("Retry-After") == "7", "Retry-After %r" % hdr.get("Retry-After"))
    st, body, hdr = q.request("POST", "/api/v1/predictions/analyze/IMO9")
    check(st == 503 and hdr.get("Retry-After") == "7", "analyze on a full queue: %s %s" % (st, body))
    st, body, _ = q.request("GET", "/api/v1/vessels/IMO9")
    check(body.get("updates") == 3, "the 503 stored nothing: %s" % body)
    st, body, _ = q.request("GET", "/api/v1/predictions/" + rid)
    check(q.metric("vt_api_unavailable_total") == 2, "503s counted")
    q.stop(signal.SIGKILL)


class Load:
    """Clients that PUT positions for a set of vessels until stopped,
    keeping the event_id of every 202 and the count of every status."""

    def __init__(self, api, vessels, clients=8):
        self.api, self.vessels = api, vessels
        self.accepted, self.statuses, self.errors = [], {}, 0
        self.mu = threading.Lock()
        self.stop_ = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(clients)]

    def run(self, i):
        n = 0
        while not self.stop_.is_set():
            v = self.vessels[(i + n) % len(self.vessels)]
            n += 1
            try:
                st, body, _ = self.api.request("PUT", "/api/v1/vessels/" + v,
                                               dict(POS, heading=float(n % 360)), timeout=5)
            except (OSError, http.client.HTTPException):
                with self.mu:
                    self.errors += 1
                time.sleep(0.02)
                continue
            with self.mu:
                self.statuses[st] = self.statuses.get(st, 0) + 1
                if st == 202:
                    self.accepted.append(body["event_id"])
            if st == 503:
                time.sleep(0.05)

    def start(self):
        for t in self.threads:
            t.start()

    def stop(self):
        self.stop_.set()
        for t in self.threads:
            t.join()


def wait_outbox_empty(api, seconds):
    for _ in range(seconds * 10):
        if api.metric("vt_api_outbox_rows") == 0:
            return True
        time.sleep(0.1)
    return False


def check_topic(tail, topic, common, accepted, what):
    ids = [e["event_id"] for e in topic_events(tail, topic, common)]
    have = set(ids)
    lost = [e for e in accepted if e not in have]
    dups = len(ids) - len(have)
    check(not lost, "%s: %d of %d accepted events not in the topic (%s...)" % (what, len(lost), len(accepted), lost[:3]))
    print("%s: %d accepted, %d events in the topic, %d distinct, %d duplicates (same event_id)" %
          (what, len(accepted), len(ids), len(have), dups), flush=True)
    return have


def mode_outbox_kill(ex, tools, tmp, common, P, topics):
    db = os.path.join(tmp, "p.db")
    api = Api(os.path.join(ex, "vessel-api"), tmp, "api", common + ["--db", db, "--outbox"])
    api.start()
    vessels = ["IMO%03d" % i for i in range(20)]
    for v in vessels:
        check(api.request("POST", "/api/v1/vessels", {"vessel_id": v})[0] == 201, "register " + v)
    load = Load(api, vessels)
    load.start()
    for kill in range(2):
        time.sleep(2.5)
        api.stop(signal.SIGKILL)
        n = len(load.accepted)
        time.sleep(0.3)
        api.start()  # the same port and database
        print("killed vessel-api with %d accepted so far; restarted" % n, flush=True)
    time.sleep(2.5)
    load.stop()
    print("load: %s, %d connection errors" % (load.statuses, load.errors), flush=True)
    check(load.statuses.get(202, 0) > 100, "too few 202s under load: %s" % load.statuses)
    check(set(load.statuses) <= {202, 503}, "only 202 and 503: %s" % load.statuses)
    check(wait_outbox_empty(api, 60), "the outbox is not empty: %s" % api.metric("vt_api_outbox_rows"))
    stored = {}
    for v in vessels:
        st, body, _ = api.request("GET", "/api/v1/vessels/" + v)
        stored[v] = body.get("last_event_id")
    check(api.stop() == 0, "vessel-api exit status: %s" % api.log())
    have = check_topic(os.path.join(tools, "vt-tail"), topics["pos"], common, load.accepted, "outbox-kill")
    missing = [v for v, e in stored.items() if e and e not in have]
    check(not missing, "stored last_event_id of %s not in the topic" % missing)


def mode_outbox_broker(ex, tools, tmp, common, P, topics):
    root = os.environ.get("VTEV_SOURCE_ROOT") or os.path.dirname(HERE)
    stack = os.path.join(root, "scripts", "stack.sh")
    env = dict(os.environ)
    env["VTEV_STACK_KAFKA_PORT"] = os.environ["KAFKA_BOOTSTRAP_SERVERS"].split(",")[0].rsplit(":", 1)[1]
    db = os.path.join(tmp, "p.db")
    api = Api(os.path.join(ex, "vessel-api"), tmp, "api",
              common + ["--db", db, "--outbox", "--outbox-max", "300"])
    api.start()
    vessels = ["IMO%03d" % i for i in range(10)]
    for v in vessels:
        api.request("POST", "/api/v1/vessels", {"vessel_id": v})
    load = Load(api, vessels, clients=4)
    load.start()
    time.sleep(1.5)
    before = dict(load.statuses)
    # every node of the stack (VTEV_STACK_NODES of .stack/env: 1 or 3)
    nodes = [str(i) for i in range(1, int(os.environ.get("VTEV_STACK_NODES", "1")) + 1)]
    for n in nodes:
        r = subprocess.run([stack, "node", "stop", n], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        check(r.returncode == 0, "stack node stop %s: %s" % (n, r.stdout))
    try:
        time.sleep(8)
        during = {k: load.statuses.get(k, 0) - before.get(k, 0) for k in load.statuses}
        print("with the broker down: %s, outbox rows %s" % (during, api.metric("vt_api_outbox_rows")), flush=True)
        check(during.get(503, 0) > 0, "no 503 while the broker was down and the outbox over 300: %s" % during)
    finally:
        for n in nodes:
            r = subprocess.run([stack, "node", "start", n], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
            check(r.returncode == 0, "stack node start %s: %s" % (n, r.stdout))
    time.sleep(2)
    load.stop()
    print("load: %s, %d connection errors" % (load.statuses, load.errors), flush=True)
    check(set(load.statuses) <= {202, 503}, "only 202 and 503: %s" % load.statuses)
    check(wait_outbox_empty(api, 120), "the outbox is not empty: %s" % api.metric("vt_api_outbox_rows"))
    check(api.stop() == 0, "vessel-api exit status: %s" % api.log())
    check_topic(os.path.join(tools, "vt-tail"), topics["pos"], common, load.accepted, "outbox-broker")


def published(api):
    """The API's count of events enqueued on its producer (/metrics)."""
    st, text, _ = api.request("GET", "/metrics")
    for line in text.splitlines():
        if line.startswith('vt_service_events_total{service="vessel-api",kind="published"}'):
            return int(float(line.rsplit(" ", 1)[1]))
    return None


def concurrent_puts(api, vessels, clients, each):
    """@p clients threads at once, @p each PUTs apiece over @p vessels:
    [(status, event_id)]."""
    out, lock = [], threading.Lock()

    def run(i):
        c = http.client.HTTPConnection("127.0.0.1", api.port, timeout=20)
        for k in range(each):
            v = vessels[(i + k) % len(vessels)]
            c.request("PUT", "/api/v1/vessels/" + v, body=json.dumps(dict(POS, heading=float(k))),
                      headers={"Content-Type": "application/json"})
            r = c.getresponse()
            body = json.loads(r.read().decode())
            with lock:
                out.append((r.status, body.get("event_id"), v))
        c.close()
    ts = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


def mode_unit(ex, tools, tmp, common, P, topics):
    mock = ["-b", "mock://api-unit", "-r", "mock://api-unit"]
    for label, extra in (("one HTTP thread", []), ("--threads 2", ["--threads", "2"]),
                         ("--outbox", ["--outbox"])):
        db = os.path.join(tmp, "u%d.db" % len(label))
        api = Api(os.path.join(ex, "vessel-api"), tmp, "unit", mock + ["--db", db] + extra)
        api.start()
        accepted = 0
        vessels = ["U%d" % i for i in range(4)]
        for v in vessels:
            st, body, _ = api.request("POST", "/api/v1/vessels", {"vessel_id": v})
            check(st == 201, "%s: register %s: %s %s" % (label, v, st, body))
        expect_error(api.request("POST", "/api/v1/vessels", {"vessel_id": "U0"}), 409, "vessel_id",
                     label + ": register twice")
        st, body, _ = api.request("PUT", "/api/v1/vessels/U0", POS)
        if check(st == 202 and len(body.get("event_id", "")) == 36, "%s: put: %s %s" % (label, st, body)):
            accepted += 1
            first = body["event_id"]
        st, body, _ = api.request("POST", "/api/v1/predictions/analyze/U0")
        if check(st == 202 and body.get("request_id", "").startswith("req-"),
                 "%s: analyze: %s %s" % (label, st, body)):
            accepted += 1
            st, body, _ = api.request("GET", "/api/v1/predictions/" + body["request_id"])
            check(st == 202 and body.get("status") == "pending", "%s: pending: %s %s" % (label, st, body))
        # refused: nothing stored, nothing published
        U = "/api/v1/vessels/U0"
        st, body, _ = api.request("PUT", U, '{"current_lat": 1,\n "x": }', raw=True)
        check(st == 400 and body.get("line") == 2 and body.get("field") == "body",
              "%s: 400: %s %s" % (label, st, body))
        expect_error(api.request("PUT", U, POS, ctype="text/plain"), 415, "Content-Type", label + ": 415")
        expect_error(api.request("PUT", U, json.dumps(dict(POS, status="x" * 70000)).encode()), 413,
                     "body", label + ": 413")
        expect_error(api.request("PUT", U, dict(POS, current_lat=91)), 422, "current_lat",
                     label + ": lat 91", "data.lat: 91")
        expect_error(api.request("PUT", U, {"current_lat": 1, "current_lon": 2, "speed": 3}), 422,
                     "heading", label + ": no heading", "required")
        expect_error(api.request("PUT", U, dict(POS, colour="red")), 422, "colour", label + ": unknown field")
        expect_error(api.request("PUT", "/api/v1/vessels/NOPE", POS), 404, "vessel_id", label + ": put unknown")
        expect_error(api.request("POST", "/api/v1/predictions/analyze/U1"), 409, "vessel_id",
                     label + ": analyze without a position")
        expect_error(api.request("DELETE", U), 405, "method", label + ": DELETE")
        expect_error(api.request("GET", "/api/v1/nothing"), 404, "path", label + ": unknown path")
        st, body, _ = api.request("GET", U)
        check(st == 200 and body.get("updates") == 1 and body.get("last_event_id") == first,
              "%s: refused requests stored nothing: %s" % (label, body))
        # many at once: each its own 202 and event, each update stored once
        out = concurrent_puts(api, vessels, 8, 25)
        ok = [e for st, e, _ in out if st == 202]
        check(len(ok) == len(out) == 200 and len(set(ok)) == 200,
              "%s: concurrent puts: %d of %d 202, %d distinct ids" % (label, len(ok), len(out), len(set(ok))))
        accepted += len(ok)
        total = 0
        for v in vessels:
            st, body, _ = api.request("GET", "/api/v1/vessels/" + v)
            total += body.get("updates", 0)
            mine = [e for st, e, w in out if w == v]
            check(body.get("last_event_id") in mine, "%s: %s's last event %s is not one of its 202s" %
                  (label, v, body.get("last_event_id")))
        check(total == 201, "%s: %d updates stored, want 201" % (label, total))
        if "--outbox" in extra:
            check(wait_outbox_empty(api, 60), "%s: the outbox is not empty: %s" %
                  (label, api.metric("vt_api_outbox_rows")))
        n = published(api)
        check(n == accepted, "%s: %s events published, want %d (one per 202)" % (label, n, accepted))
        check(api.stop() == 0, "%s: exit status: %s" % (label, api.log()))


def main():
    mode, ex, tools = sys.argv[1], os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
    common, P, topics = [], "", {}
    if mode != "unit":  # unit: the embedded mock cluster, its default topics
        if not os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or not os.environ.get("SCHEMA_REGISTRY_URL"):
            if os.environ.get("VTEV_ALLOW_SKIP") == "1":
                return 77
            print("FAIL: KAFKA_BOOTSTRAP_SERVERS / SCHEMA_REGISTRY_URL are not set: ./run stack up")
            return 1
        P = "api-%d-%d" % (os.getpid(), int(time.time()))
        topics = {"pos": P + ".pos", "req": P + ".req", "res": P + ".res"}
        common = ["-X", "topic.position=" + topics["pos"], "-X", "topic.request=" + topics["req"],
                  "-X", "topic.result=" + topics["res"]]
        r = subprocess.run([os.path.join(tools, "vt-topics")] + common + ["-q", "create"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            print("FAIL: vt-topics create: " + r.stdout)
            return 1
    tmp = tempfile.mkdtemp(prefix="vtev-api-")
    try:
        {"unit": mode_unit, "direct": mode_direct, "direct-pg": mode_direct_pg,
         "outbox-kill": mode_outbox_kill,
         "outbox-broker": mode_outbox_broker}[mode](ex, tools, tmp, common, P, topics)
    finally:
        if FAILS:
            for f in sorted(os.listdir(tmp)):
                if f.endswith(".err"):
                    with open(os.path.join(tmp, f)) as fh:
                        print("---- %s\n%s" % (f, fh.read()[-3000:]))
        shutil.rmtree(tmp, ignore_errors=True)
    if FAILS:
        print("%d failures" % len(FAILS))
        return 1
    print("OK: vessel-api %s" % mode)
    return 0


if __name__ == "__main__":
    sys.exit(main())
