#!/usr/bin/env python3
"""The live map in a real browser: headless Chromium (Debian's chromium and
chromium-driver) driven by Selenium, against vt-demo --live on the embedded
default (the pipeline and the live-broadcaster as threads on the mock
cluster).

Checks: the page loads with no console error and draws the coastline;
vessel markers appear and move; choosing one vessel in the page's list
subscribes to it alone, and "all" to all again; every prediction is drawn within 1 s of its
result being published (the result's timestamp is set at publish; the page
measures the time to the frame that draws it); after the broadcaster is
restarted (SIGHUP to vt-demo) the page reconnects and continues; a
screenshot is saved as an artefact.  Then Ctrl-C: the demo drains and its
summary passes.

usage: test_live_browser.py VT_DEMO ARTEFACT_DIR
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def wait_for(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    fail("timed out after %.0f s waiting for %s" % (timeout, what))


def main():
    demo, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    for p in ("/usr/bin/chromium", "/usr/bin/chromedriver"):
        if not os.path.exists(p):
            print("%s is missing (Debian packages chromium and chromium-driver; ./run deps "
                  "installs them)" % p)
            sys.exit(77)
    log = tempfile.NamedTemporaryFile("w+", prefix="live-demo-", suffix=".log", delete=False)
    # the embedded default, whatever stack the suite's environment names
    env = {k: v for k, v in os.environ.items()
           if k not in ("KAFKA_BOOTSTRAP_SERVERS", "SCHEMA_REGISTRY_URL") and
           not (k.startswith("VTEV_") and k not in ("VTEV_PYTHON", "VTEV_SOURCE_ROOT"))}
    proc = subprocess.Popen([demo, "--live", "--map", "127.0.0.1:0", "--rate", "20",
                             "--vessels", "5", "--every-position", "--quiet-predictions", "-q"],
                            stdout=log, stderr=subprocess.STDOUT, text=True, env=env)
    driver = None
    try:
        def url():
            log.flush()
            m = re.search(r"the live map is at (http://[0-9.:]+/)", open(log.name).read())
            return m.group(1) if m else None
        base = wait_for(url, 30, "vt-demo to print the map's URL")
        print("map at", base, flush=True)

        opts = Options()
        opts.binary_location = "/usr/bin/chromium"
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,900",
                  "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions"):
            opts.add_argument(a)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
        driver.set_page_load_timeout(30)
        driver.get(base)
        js = lambda expr: driver.execute_script("return " + expr)

        wait_for(lambda: js("window.vtLive && window.vtLive.state") == "open", 15,
                 "the WebSocket to open")
        wait_for(lambda: js("window.vtLive.coastline"), 20, "the coastline to load")
        wait_for(lambda: js("window.vtLive.terminals.length") > 0, 10, "the terminals")

        # markers appear and move
        wait_for(lambda: js("Object.keys(window.vtLive.vessels).length") >= 3, 20,
                 "at least 3 vessels on the map")
        wait_for(lambda: js("Math.max(...Object.values(window.vtLive.vessels).map(v => v.moves))")
                 >= 3, 30, "a vessel to move 3 times")
        print("vessels:", js("Object.keys(window.vtLive.vessels)"), flush=True)

        # predictions, each drawn within 1 s of its publish
        wait_for(lambda: js("window.vtLive.resultLatencies.length") >= 9, 30,
                 "9 prediction results drawn")
        lat = js("window.vtLive.resultLatencies")
        print("result publish -> drawn: n %d, max %.0f ms" % (len(lat), max(lat)), flush=True)
        if max(lat) >= 1000:
            fail("a prediction was drawn %.0f ms after its result was published (limit 1000)"
                 % max(lat))
        if not js("document.querySelectorAll('#feed li.result').length"):
            fail("no prediction in the page's feed")
        labels = js("Object.keys(window.vtLive.predictions).length")
        if labels < 1:
            fail("no vessel has a prediction")

        # one vessel only: the page subscribes to it (the broadcaster filters)
        one = js("Object.keys(window.vtLive.vessels)[0]")
        Select(driver.find_element(By.ID, "vessel-filter")).select_by_value(one)
        time.sleep(1.0)  # what was in flight before the subscription changed
        driver.execute_script("window.vtLive.filterStats = {vessel: arguments[0], mine: 0, other: 0}", one)
        wait_for(lambda: js("window.vtLive.filterStats.mine") >= 3, 20,
                 "positions of the chosen vessel %s" % one)
        st = js("window.vtLive.filterStats")
        if st["other"]:
            fail("subscribed to %s, the page still got %d positions of other vessels" % (one, st["other"]))
        Select(driver.find_element(By.ID, "vessel-filter")).select_by_value("*")
        driver.execute_script("window.vtLive.filterStats = {vessel: arguments[0], mine: 0, other: 0}", one)
        wait_for(lambda: js("window.vtLive.filterStats.other") >= 3, 20,
                 "positions of all vessels again")
        print("filter: only %s while chosen, all again after" % one, flush=True)

        # no console error while loading and running
        errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        if errors:
            fail("console errors: " + json.dumps(errors)[:2000])

        # the broadcaster restarts: the page reconnects and goes on
        before = js("window.vtLive.positions")
        restart_ms = time.time() * 1000
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: js("window.vtLive.state") != "open" or js("window.vtLive.connects") > 1,
                 10, "the page to notice the restart")
        wait_for(lambda: js("window.vtLive.connects") >= 2 and js("window.vtLive.state") == "open",
                 20, "the page to reconnect")
        wait_for(lambda: js("window.vtLive.lastPositionMs") > restart_ms + 1000, 20,
                 "positions published after the restart to arrive")
        n0 = js("window.vtLive.resultLatencies.length")
        wait_for(lambda: js("window.vtLive.resultLatencies.length") >= n0 + 3, 30,
                 "predictions after the reconnect")
        lat = js("window.vtLive.resultLatencies")
        if max(lat[n0:]) >= 1000:
            fail("after the reconnect a prediction took %.0f ms" % max(lat[n0:]))
        print("reconnected: connects %d, positions %d -> %d" %
              (js("window.vtLive.connects"), before, js("window.vtLive.positions")), flush=True)

        time.sleep(1.0)
        shot = os.path.join(outdir, "live-map.png")
        if not driver.save_screenshot(shot):
            fail("the screenshot could not be saved")
        print("screenshot:", shot, flush=True)

        # after the restart: only the browser's own report of a reconnect
        # attempt that found the broadcaster still down
        errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE" and
                  "WebSocket connection to" not in e.get("message", "")]
        if errors:
            fail("console errors: " + json.dumps(errors)[:2000])
        if js("window.vtLive.errors.length"):
            fail("page errors: %s" % js("window.vtLive.errors"))
    finally:
        if driver:
            driver.quit()
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.flush()
        out = open(log.name).read()
        os.unlink(log.name)
    print(out[-1500:], flush=True)
    if proc.returncode != 0:
        fail("vt-demo --live exited %d after Ctrl-C" % proc.returncode)
    if "OK: every request got its" not in out:
        fail("the demo's summary did not pass")
    print("live browser test passed")


if __name__ == "__main__":
    main()
