#!/usr/bin/env python3
"""A registry front that answers 401 for a while, as during a credential rotation.

Usage: auth_front.py UPSTREAM_URL [--deny-seconds S]

Listens on 127.0.0.1 (a free port, printed as "PORT <n>" on stdout once it
listens). From the first request on, for S seconds (default 15), every
request is answered 401 with a JSON error body; afterwards every request is
forwarded to UPSTREAM_URL (the path appended) and the upstream answer passed
back. It prints "DENIED <n>" when the window ends and stops on SIGTERM.
Standard library only.
"""
import argparse
import http.server
import json
import signal
import sys
import threading
import time
import urllib.error
import urllib.request


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("upstream")
    ap.add_argument("--deny-seconds", type=float, default=15.0)
    args = ap.parse_args()
    upstream = args.upstream.rstrip("/")
    state = {"first": None, "denied": 0, "reported": False}
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):  # quiet
            pass

        def _handle(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else None
            now = time.monotonic()
            with lock:
                if state["first"] is None:
                    state["first"] = now
                deny = now - state["first"] < args.deny_seconds
                if deny:
                    state["denied"] += 1
                elif not state["reported"]:
                    state["reported"] = True
                    print("DENIED %d" % state["denied"], flush=True)
            if deny:
                out = json.dumps({"error_code": 40101,
                                  "message": "credential is being rotated"}).encode()
                self._answer(401, "application/json", out)
                return
            req = urllib.request.Request(upstream + self.path, data=body, method=self.command)
            for h in ("Content-Type", "Accept"):
                if self.headers.get(h):
                    req.add_header(h, self.headers[h])
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    self._answer(r.status, r.headers.get("Content-Type", "application/json"),
                                 r.read())
            except urllib.error.HTTPError as e:
                self._answer(e.code, e.headers.get("Content-Type", "application/json"), e.read())
            except OSError as e:
                self._answer(502, "text/plain", ("upstream: %s" % e).encode())

        def _answer(self, status, ctype, data):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _handle

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown).start())
    print("PORT %d" % srv.server_address[1], flush=True)
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
