-- bench/api/put.lua - wrk script of the HTTP benchmark (scripts/bench.sh, part
-- api): PUT /api/v1/vessels/{id} position updates, round-robin over VESSELS
-- vessels (V0000 ...), at a fixed RATE of requests per second (0: as fast as
-- the connections go), keeping the event_id of every 202.
--
--   VT_RATE=R VT_VESSELS=V VT_THREADS=T VT_IDS_FILE=F \
--     wrk -t T -c C -d D -s bench/api/put.lua URL
-- (the environment, not script arguments: done() runs in wrk's main Lua
-- state, which never sees them)
--
-- Debian's wrk (4.1) has no fixed-rate mode (wrk2's -R); the pace comes from
-- wrk's delay() hook: each thread keeps a schedule of one request every
-- T/RATE seconds (LuaJIT's ffi clock_gettime) and delays each request until
-- its slot, so the rate does not fall with the latency as a per-connection
-- sleep would; a request whose slot has passed (every connection busy) goes
-- at once.  At the end done() prints, as R lines of bench/report.py, the
-- requests, their rate, the status counts and wrk's latency percentiles
-- (request written to response read), and writes the 202s' event ids to
-- IDS_FILE, one per line, for the count against the topic.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } vt_timespec;
int clock_gettime(int clk, vt_timespec *ts);
]]
local ts = ffi.new("vt_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local threads = {}
local nthreads = 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
  table.insert(threads, thread)
end

function init(args)
  local rate = tonumber(os.getenv("VT_RATE") or "0")
  local nth = tonumber(os.getenv("VT_THREADS") or "1")
  vessels = tonumber(os.getenv("VT_VESSELS") or "100")
  n = tid * 7919 -- this thread's own walk over the vessels
  step = 0
  interval = 0 -- ms between two requests of this thread
  if rate > 0 then
    interval = 1000.0 * nth / rate
  end
  next_ms = nil
  ids = {}
  nids = 0
  st202, st503, stother = 0, 0, 0
end

function delay()
  if interval <= 0 then
    return 0
  end
  local t = now_ms()
  if not next_ms then
    next_ms = t
  end
  local d = next_ms - t
  next_ms = next_ms + interval
  if d <= 0 then
    return 0
  end
  return math.floor(d + 0.5)
end

function request()
  n = n + 1
  step = step + 1
  local v = string.format("V%04d", n % vessels)
  local body = string.format(
    '{"current_lat": %.4f, "current_lon": %.4f, "speed": %.1f, "heading": %.1f}',
    27.0 + (step % 100) / 100.0, -95.0 - (step % 50) / 100.0, 10.0 + step % 8, step % 360)
  return wrk.format("PUT", "/api/v1/vessels/" .. v, {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  if status == 202 then
    st202 = st202 + 1
    local id = string.match(body, '"event_id"%s*:%s*"([^"]+)"')
    if id then
      nids = nids + 1
      ids[nids] = id
    end
  elseif status == 503 then
    st503 = st503 + 1
  else
    stother = stother + 1
  end
end

function done(summary, latency, requests)
  local a202, a503, aother = 0, 0, 0
  local f = assert(io.open(os.getenv("VT_IDS_FILE"), "w"))
  for _, t in ipairs(threads) do
    a202 = a202 + t:get("st202")
    a503 = a503 + t:get("st503")
    aother = aother + t:get("stother")
    local tids = t:get("ids")
    for i = 1, t:get("nids") do
      f:write(tids[i], "\n")
    end
  end
  f:close()
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format("W\trequests\t%d\n", summary.requests))
  io.write(string.format("W\trate\t%.1f\n", summary.requests / secs))
  io.write(string.format("W\ts202\t%d\n", a202))
  io.write(string.format("W\ts503\t%d\n", a503))
  io.write(string.format("W\tsother\t%d\n", aother))
  io.write(string.format("W\tsockerr\t%d\n", e.connect + e.read + e.write + e.timeout))
  io.write(string.format("W\tp50_ms\t%.3f\n", latency:percentile(50) / 1000.0))
  io.write(string.format("W\tp99_ms\t%.3f\n", latency:percentile(99) / 1000.0))
  io.write(string.format("W\tp999_ms\t%.3f\n", latency:percentile(99.9) / 1000.0))
  io.write(string.format("W\tmax_ms\t%.3f\n", latency.max / 1000.0))
end
