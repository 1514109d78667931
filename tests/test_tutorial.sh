#!/usr/bin/env bash
# doc/tutorial.md, as a reader follows it: the library is installed (meson
# install --destdir), approach-watch.c and the build and run commands are
# taken out of the tutorial (the fenced block after each
# `<!-- tutorial: ... -->` marker), built with pkg-config alone, and run on the
# real broker with topics and a group of this run (VTEV_TOPIC_*,
# VTEV_GROUP_ID); the output must be what the tutorial says.
# Usage: test_tutorial.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
fail() { echo "FAIL: $*"; exit 1; }
if [ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ] || [ -z "${SCHEMA_REGISTRY_URL:-}" ]; then
  if [ "${VTEV_ALLOW_SKIP:-}" = 1 ]; then exit 77; fi
  fail "KAFKA_BOOTSTRAP_SERVERS / SCHEMA_REGISTRY_URL are not set: start the stack with ./run stack up"
fi
root=$(mktemp -d /tmp/vtev-tutorial-XXXXXX)
trap 'rm -rf "$root"' EXIT
meson install -C "$build" --no-rebuild --quiet --destdir "$root/inst" >/dev/null
pcdir=$(dirname "$(find "$root/inst" -name vtevents.pc | head -n1)")
libdir=$(dirname "$(find "$root/inst" -name 'libvtevents.so.0' | head -n1)")
bindir=$(dirname "$(find "$root/inst" -name vt-publish -type f | head -n1)")
export PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$root/inst LD_LIBRARY_PATH=$libdir

# the blocks of the tutorial
python3 - "$src/doc/tutorial.md" "$root" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
want = {"file approach-watch.c": "approach-watch.c", "build": "build.sh", "run": "run.sh"}
found = {}
for m in re.finditer(r"<!-- tutorial: ([^>]*?) -->\n```[a-z]*\n(.*?)```\n", text, re.S):
    found[m.group(1)] = m.group(2)
for k, f in want.items():
    if k not in found:
        sys.exit("FAIL: doc/tutorial.md has no block marked <!-- tutorial: %s -->" % k)
    open("%s/%s" % (sys.argv[2], f), "w").write(found[k])
EOF

# A sanitizer build of the library needs the program built the same way: the
# tutorial's `cc` gets the flags from a wrapper first in PATH.
mkdir "$root/bin"
san=
readelf -d "$libdir/libvtevents.so.0" | grep -q 'libasan' && san="-fsanitize=address,undefined"
printf '#!/bin/sh\nexec /usr/bin/cc %s "$@"\n' "$san" >"$root/bin/cc"
chmod +x "$root/bin/cc"
export PATH=$root/bin:$bindir:$PATH

cd "$root"
bash -e build.sh || fail "the tutorial's build command failed"
[ -x approach-watch ] || fail "the build made no approach-watch"

id=tut-$$-$RANDOM
export VTEV_TOPIC_POSITION=$id-pos VTEV_TOPIC_REQUEST=$id-req VTEV_TOPIC_RESULT=$id-res
export VTEV_GROUP_ID=$id
rc=0
timeout -k 5 120 bash -e run.sh >out 2>err || rc=$?
sed 's/^/  stdout: /' out
sed 's/^/  stderr: /' err
[ "$rc" = 0 ] || fail "the tutorial's run commands exited with $rc"
grep -qx 'approach-watch: positions 3, requests 2' out ||
  fail "no line 'approach-watch: positions 3, requests 2'"
python3 - out <<'EOF'
import json, sys
reqs = {}
for line in open(sys.argv[1]):
    line = line.strip()
    if line.startswith("{"):
        ev = json.loads(line)
        if ev.get("event_type") == "prediction.analysis.requested":
            reqs[ev["vessel_id"]] = ev
def bad(msg):
    sys.exit("FAIL: " + msg)
if sorted(reqs) != ["lng-002", "lng-003"]:
    bad("requests for %s, want lng-002 and lng-003" % sorted(reqs))
for v, prio, speed in (("lng-002", "normal", 9.5), ("lng-003", "high", 2.5)):
    d = reqs[v]["data"]
    if d["priority"] != prio:
        bad("%s: priority %s, want %s" % (v, d["priority"], prio))
    if d["vessel_snapshot"]["speed"] != speed or d["vessel_snapshot"]["status"] != "underway":
        bad("%s: snapshot %s" % (v, d["vessel_snapshot"]))
    if not reqs[v]["request_id"].startswith("req-"):
        bad("%s: request_id %s" % (v, reqs[v]["request_id"]))
print("tutorial: approach-watch built with pkg-config, 3 positions, 2 requests as described")
EOF
# the group committed after the deliveries: nothing is handled twice on a rerun
rc=0
timeout -k 5 30 ./approach-watch -n 1 >out2 2>err2 &
pid=$!
vt-publish -q position --vessel lng-004 --lat 29.76 --lon -93.85 --speed 4.0 --heading 255 >/dev/null
wait "$pid" || rc=$?
cat err2
[ "$rc" = 0 ] || fail "second run exited with $rc"
grep -qx 'approach-watch: positions 1, requests 1' out2 ||
  fail "second run: $(cat out2) (want only the new position)"
echo "tutorial: a second run starts after the committed positions"
