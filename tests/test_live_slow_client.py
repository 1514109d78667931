#!/usr/bin/env python3
"""live-broadcaster with clients that do not keep up, on the real stack.

While position-simulator publishes 1,500 positions/s for 20 s (and, once
the stuck client below is gone, the trigger and the worker turn some of them
into prediction results):
- a client that never reads (a raw socket after the WebSocket handshake,
  with a tiny receive buffer) must leave the broadcaster's RSS bounded, and
  be disconnected once its bound is reached (its queue full for --stall-ms,
  or full of results);
- a client that reads slowly (one frame per 20 ms, about half the stream)
  must be told of its drops ({"type": "drops"}),
  and only positions may be dropped;
- a client that keeps up must receive every position: the slow ones never
  slow the consumer.

usage: test_live_slow_client.py BUILD_DIR   (KAFKA_BOOTSTRAP_SERVERS and
SCHEMA_REGISTRY_URL from the stack's environment)
"""
import asyncio
import base64
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import websockets

RATE, SECS, QUEUE, QUEUE_BYTES, STALL_MS = 1500, 20, 4096, 256 * 1024, 6000


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def rss_kb(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def metrics(port):
    text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5).read().decode()
    out = {}
    for line in text.splitlines():
        m = re.match(r'^(vt_live_\w+(?:\{[^}]*\})?) (\S+)$', line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def stuck_client(port):
    """The handshake, then never a read: the broadcaster's sends back up."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Protocol: vt-live\r\n\r\n" % (port, key)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    if b" 101 " not in head.split(b"\r\n")[0]:
        fail("the stuck client's handshake was refused: %r" % head[:200])
    return s


async def reader(port, delay, out):
    """Reads every message (sleeping `delay` s after each frame)."""
    out.update(positions=0, results=0, drops=0, max_dropped=0, frames=0, bytes=0)
    sock = None
    if delay:
        # a small receive buffer: the kernel does not hide the slowness
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
        sock.connect(("127.0.0.1", port))
    try:
        async with websockets.connect("ws://127.0.0.1:%d/ws" % port, subprotocols=["vt-live"],
                                      max_queue=1, ping_interval=None, sock=sock) as ws:
            out["open"] = True
            while not out.get("stop"):
                try:
                    frame = await asyncio.wait_for(ws.recv(), 1.0)
                except asyncio.TimeoutError:
                    continue
                out["frames"] += 1
                out["bytes"] += len(frame)
                for line in frame.split("\n"):
                    t = re.match(r'\{"type": "(\w+)"', line).group(1)
                    if t == "position":
                        out["positions"] += 1
                    elif t == "result":
                        out["results"] += 1
                    elif t == "drops":
                        out["drops"] += 1
                        out["max_dropped"] = max(out["max_dropped"],
                                                 int(re.search(r'"dropped": (\d+)', line).group(1)))
                if delay:
                    await asyncio.sleep(delay)
    except websockets.ConnectionClosed as e:
        out["closed"] = str(e)
    except Exception as e:  # shown by the caller
        out["error"] = repr(e)


def main():
    build = sys.argv[1]
    ex = os.path.join(build, "examples")
    run = "slow-%d" % os.getpid()
    x = ["-X", "topic.position=vessel-position-updates." + run,
         "-X", "topic.request=prediction-requests." + run,
         "-X", "topic.result=prediction-results." + run]
    subprocess.run([os.path.join(build, "tools", "vt-topics"), "-q"] + x + ["create"],
                   check=True, stdout=subprocess.DEVNULL)

    def start_services():
        """Results too, once the stuck client is gone (its phase measures
        RSS with positions only): the trigger and the worker turn positions
        into predictions, interleaved with the positions the slow reader is
        still behind on."""
        svcs = []
        # (a request only after 60 km or a large turn: results stay a few
        # per cent of the stream, as on the platform)
        for prog, group, opts in (
                ("prediction-worker", "work", []),
                ("prediction-trigger", "trig", ["--min-distance", "60", "--min-heading", "120",
                                                "--min-speed", "30", "--max-interval", "0"])):
            rf = os.path.join(tmp, group + ".ready")
            svcs.append((subprocess.Popen(
                [os.path.join(ex, prog), "-q"] + x + opts +
                ["-X", "group.id=%s-%s" % (group, run), "--ready-file", rf,
                 # from the positions that follow: no burst of results
                 # for the backlog, more than a client's whole queue
                 "-X", "kafka.auto.offset.reset=latest"]), rf))
        end = time.time() + 60
        while not all(os.path.exists(rf) for _, rf in svcs):
            if time.time() > end:
                fail("the trigger and the worker did not get their partitions")
            time.sleep(0.1)
        return svcs

    tmp = tempfile.mkdtemp(prefix="live-slow-")
    pf = os.path.join(tmp, "port")
    live = subprocess.Popen([os.path.join(ex, "live-broadcaster"), "-v"] + x +
                            ["--http", "127.0.0.1:0", "--port-file", pf, "--history", "1000000",
                             "--client-queue", str(QUEUE), "--client-bytes", str(QUEUE_BYTES),
                             "--stall-ms", str(STALL_MS)],
                            stderr=open(os.path.join(tmp, "live.log"), "w"))
    try:
        end = time.time() + 20
        while not (os.path.exists(pf) and open(pf).read().strip()) and time.time() < end:
            time.sleep(0.1)
        port = int(open(pf).read())

        fast, slow = {}, {}
        async def both():
            await asyncio.gather(reader(port, 0, fast), reader(port, 0.02, slow))
        t = threading.Thread(target=asyncio.run, args=(both(),), daemon=True)
        t.start()
        stuck = stuck_client(port)
        end = time.time() + 15
        while not (fast.get("open") and slow.get("open")):
            if time.time() > end or not t.is_alive():
                fail("the reading clients did not connect: %s %s" % (fast, slow))
            time.sleep(0.05)
        print("clients connected; publishing %d positions/s for %d s" % (RATE, SECS), flush=True)

        sim = subprocess.Popen([os.path.join(ex, "position-simulator"), "-q"] + x +
                               ["--rate", str(RATE), "--count", str(RATE * SECS), "--vessels", "16"])
        t0 = time.time()
        samples = []  # (seconds since start, RSS kB, disconnects)
        svcs = []
        while sim.poll() is None:
            m = metrics(port)
            samples.append((time.time() - t0, rss_kb(live.pid),
                            m.get('vt_live_disconnects_total{reason="stalled"}', 0) +
                            m.get('vt_live_disconnects_total{reason="results_full"}', 0)))
            if samples[-1][2] and not svcs:
                svcs = start_services()
            time.sleep(0.5)
        if not svcs:
            fail("the client that never reads was not disconnected while positions flowed")
        if sim.returncode != 0:
            fail("position-simulator exited %d" % sim.returncode)
        # until the worker's results are all in and both readers drained
        # what they were sent
        prev, still = None, 0
        while still < 3:
            time.sleep(1)
            m = metrics(port)
            now = (m.get("vt_live_events_total"), fast["positions"] + fast["results"],
                   slow["positions"] + slow["results"])
            still = still + 1 if now == prev else 0
            prev = now
        fast["stop"] = slow["stop"] = True
        t.join(10)
        stuck.close()
        for proc, _ in svcs:
            proc.terminate()
            proc.wait(30)
        results = int(m.get("vt_live_events_total", 0)) - RATE * SECS

        for s in samples:
            print("t %5.1f s  rss %6.1f MB  disconnects %d" % (s[0], s[1] / 1024, s[2]))
        total = RATE * SECS
        print("fast reader: %s" % fast)
        print("slow reader: %s" % slow)
        print("broadcaster: %s" % m)
        # the consumer was never slowed: the fast reader has every position
        if fast["positions"] != total:
            fail("the fast reader got %d of %d positions" % (fast["positions"], total))
        # the stuck client was disconnected once its bound was reached: its
        # queue full for --stall-ms, or full of results (no position left to
        # drop), whichever came first
        gone = [s for s in samples if s[2] >= 1]
        if not gone:
            fail("the client that never reads was not disconnected")
        stalled = m.get('vt_live_disconnects_total{reason="stalled"}', 0)
        if stalled and gone[0][0] < STALL_MS / 1000.0:
            fail("the stuck client was disconnected as stalled after %.1f s, before --stall-ms"
                 % gone[0][0])
        # while it was stuck, RSS stayed bounded: the messages that passed
        # meanwhile (as many bytes as the fast reader got for them) would have
        # grown an unbounded queue by far more than the limit
        stuck_phase = [s for s in samples if 1.5 <= s[0] and s[2] == 0]
        if len(stuck_phase) < 4:
            fail("too few samples while the client was stuck: %s" % stuck_phase)
        growth_mb = (max(s[1] for s in stuck_phase) - stuck_phase[0][1]) / 1024
        per_msg = fast["bytes"] / max(1, fast["positions"])
        passed_mb = RATE * (stuck_phase[-1][0] - stuck_phase[0][0]) * per_msg / 1e6
        print("while stuck: RSS grew %.1f MB while %.1f MB of positions passed" % (growth_mb,
                                                                                 passed_mb))
        # (its queue holds at most QUEUE_BYTES, lws one frame of at most as
        # much again; the rest is the allocator's noise)
        if growth_mb > 1.5 or growth_mb > passed_mb / 4:
            fail("RSS grew %.1f MB while the client was stuck (%.1f MB passed)" % (growth_mb,
                                                                                 passed_mb))
        # the slow reader: drops told, positions only, results never: it has
        # every result
        if results < 3:
            fail("only %d results were published: the check of results needs some" % results)
        if fast["results"] != results or slow["results"] != results:
            fail("%d results were published; the fast reader got %d, the slow one %d" % (
                results, fast["results"], slow["results"]))
        if slow["drops"] < 1 or slow["max_dropped"] < 1:
            fail("the slow reader was never told of drops")
        if m.get('vt_live_messages_total{kind="result",outcome="dropped"}', 0) != 0:
            fail("results were dropped")
        if m.get('vt_live_messages_total{kind="position",outcome="dropped"}', 0) < slow["max_dropped"]:
            fail("the drop counters disagree")
        if slow.get("closed"):
            fail("the slow reader (which does read) was disconnected: %s" % slow["closed"])
        print("slow client test passed")
    finally:
        live.terminate()
        try:
            live.wait(20)
        except subprocess.TimeoutExpired:
            live.kill()
    if live.returncode != 0:
        print(open(os.path.join(tmp, "live.log")).read())
        fail("live-broadcaster exited %d" % live.returncode)


if __name__ == "__main__":
    main()
