// The live map: positions and predictions pushed by live-broadcaster over
// WebSocket (subprotocol "vt-live"), drawn on a canvas over Natural Earth's
// land polygons (npm world-atlas, decoded by topojson-client).
// window.vtLive holds the page's state (read by the browser test).
"use strict";

(function () {
  const TRACK = 30;        // positions kept per vessel for its track
  const FEED = 40;         // lines in the event feed
  const VIEW = { lon0: -98.2, lon1: -86.5, lat0: 24.6, lat1: 31.0 };

  const live = (window.vtLive = {
    state: "connecting",
    connects: 0,
    messages: 0,
    positions: 0,
    results: 0,
    dropped: 0,
    vessels: {},          // id -> {lat, lon, heading, speed, status, track: [[lat, lon]...], moves}
    predictions: {},      // id -> {request_id, results: [...], shownAt, latencyMs}
    resultLatencies: [],  // ms from the result's timestamp to its drawing, per result
    terminals: [],
    coastline: false,
    errors: [],
    history: true,        // between "hello" and "live": the broadcaster's snapshot
    lastPositionMs: 0,    // the newest position's timestamp
    filterStats: null,    // after a vessel was chosen: {vessel, mine, other} positions received
  });

  const canvas = document.getElementById("map");
  const ctx = canvas.getContext("2d");
  const feed = document.getElementById("feed");
  const filter = document.getElementById("vessel-filter");
  let land = null, landLayer = null, ws = null, backoff = 500, dirty = true, wantVessel = "*";

  // ---- projection: equirectangular, x scaled by cos(mid latitude)
  function fit() {
    const w = canvas.clientWidth, h = canvas.clientHeight, dpr = window.devicePixelRatio || 1;
    canvas.width = Math.max(1, Math.round(w * dpr));
    canvas.height = Math.max(1, Math.round(h * dpr));
    const k = Math.cos(((VIEW.lat0 + VIEW.lat1) / 2) * Math.PI / 180);
    const sx = w / ((VIEW.lon1 - VIEW.lon0) * k), sy = h / (VIEW.lat1 - VIEW.lat0);
    const s = Math.min(sx, sy);
    const cx = (VIEW.lon0 + VIEW.lon1) / 2, cy = (VIEW.lat0 + VIEW.lat1) / 2;
    live.proj = (lon, lat) => [w / 2 + (lon - cx) * k * s, h / 2 - (lat - cy) * s];
    live.dpr = dpr;
    landLayer = null;
    dirty = true;
  }

  function drawLand() {
    const c = document.createElement("canvas");
    c.width = canvas.width; c.height = canvas.height;
    const g = c.getContext("2d");
    g.setTransform(live.dpr, 0, 0, live.dpr, 0, 0);
    g.fillStyle = "#0d2a45";
    g.fillRect(0, 0, c.width, c.height);
    if (land) {
      g.beginPath();
      for (const f of land.features) {
        const polys = f.geometry.type === "Polygon" ? [f.geometry.coordinates] : f.geometry.coordinates;
        for (const poly of polys) for (const ring of poly) {
          // only rings that reach the view (the file covers the world)
          let inside = false;
          for (const [lon, lat] of ring)
            if (lon > VIEW.lon0 - 5 && lon < VIEW.lon1 + 5 && lat > VIEW.lat0 - 5 && lat < VIEW.lat1 + 5) { inside = true; break; }
          if (!inside) continue;
          ring.forEach(([lon, lat], i) => { const [x, y] = live.proj(lon, lat); i ? g.lineTo(x, y) : g.moveTo(x, y); });
          g.closePath();
        }
      }
      g.fillStyle = "#2b3a2c";
      g.strokeStyle = "#6b8f6e";
      g.lineWidth = 0.8;
      g.fill("evenodd");
      g.stroke();
    }
    landLayer = c;
  }

  function draw() {
    if (!live.proj) fit();
    if (!landLayer) drawLand();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(landLayer, 0, 0);
    ctx.setTransform(live.dpr, 0, 0, live.dpr, 0, 0);
    ctx.font = "11px system-ui, sans-serif";
    // terminals
    for (const t of live.terminals) {
      const [x, y] = live.proj(t.lon, t.lat);
      ctx.fillStyle = "#5ec8ff";
      ctx.fillRect(x - 4, y - 4, 8, 8);
      ctx.fillStyle = "#bfe6ff";
      ctx.fillText(t.name, x + 7, y + 4);
    }
    for (const [id, v] of Object.entries(live.vessels)) {
      if (wantVessel !== "*" && id !== wantVessel) continue;
      // track
      ctx.strokeStyle = "rgba(255,255,255,0.45)";
      ctx.lineWidth = 1.2;
      ctx.beginPath();
      v.track.forEach(([lat, lon], i) => { const [x, y] = live.proj(lon, lat); i ? ctx.lineTo(x, y) : ctx.moveTo(x, y); });
      ctx.stroke();
      const [x, y] = live.proj(v.lon, v.lat);
      // prediction: a line to the best terminal, and its label
      const p = live.predictions[id];
      if (p && p.results.length) {
        const best = p.results.reduce((a, b) => (b.data.confidence_score > a.data.confidence_score ? b : a));
        const t = live.terminals.find((t) => t.id === best.data.terminal_id);
        if (t) {
          const [tx, ty] = live.proj(t.lon, t.lat);
          ctx.setLineDash([5, 4]);
          ctx.strokeStyle = "#ffd479";
          ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(tx, ty); ctx.stroke();
          ctx.setLineDash([]);
        }
        const eta = best.data.eta_hours == null ? "ETA –" : "ETA " + best.data.eta_hours.toFixed(1) + " h";
        ctx.fillStyle = "#ffd479";
        ctx.fillText(`→ ${best.data.terminal_name}  ${(best.data.confidence_score * 100).toFixed(0)}%  ${eta}`, x + 10, y + 14);
      }
      // the vessel: a triangle pointing along its heading
      ctx.save();
      ctx.translate(x, y);
      ctx.rotate((v.heading || 0) * Math.PI / 180);
      ctx.beginPath(); ctx.moveTo(0, -9); ctx.lineTo(5, 6); ctx.lineTo(-5, 6); ctx.closePath();
      ctx.fillStyle = "#ff7a59"; ctx.fill();
      ctx.strokeStyle = "#fff"; ctx.lineWidth = 1; ctx.stroke();
      ctx.restore();
      ctx.fillStyle = "#fff";
      ctx.fillText(`${id}  ${v.speed.toFixed(1)} kn`, x + 10, y + 2);
    }
    dirty = false;
  }

  function frame() { if (dirty) draw(); requestAnimationFrame(frame); }

  function addFeed(cls, text) {
    const li = document.createElement("li");
    li.className = cls;
    li.textContent = text;
    feed.insertBefore(li, feed.firstChild);
    while (feed.childNodes.length > FEED) feed.removeChild(feed.lastChild);
  }

  function counters() {
    document.getElementById("n-pos").textContent = live.positions;
    document.getElementById("n-res").textContent = live.results;
    document.getElementById("n-drop").textContent = live.dropped;
  }

  function ensureOption(id) {
    if ([...filter.options].some((o) => o.value === id)) return;
    const o = document.createElement("option");
    o.value = o.textContent = id;
    filter.appendChild(o);
  }

  function onPosition(ev) {
    const d = ev.data;
    const lat = d.lat ?? d.current_lat, lon = d.lon ?? d.current_lon;
    let v = live.vessels[ev.vessel_id];
    if (!v) { v = live.vessels[ev.vessel_id] = { track: [], moves: 0 }; ensureOption(ev.vessel_id); }
    else if (v.lat !== lat || v.lon !== lon) v.moves++;
    Object.assign(v, { lat, lon, heading: d.heading, speed: d.speed, status: d.status, at: ev.timestamp });
    v.track.push([lat, lon]);
    if (v.track.length > TRACK) v.track.shift();
    live.positions++;
    if (live.filterStats) live.filterStats[ev.vessel_id === live.filterStats.vessel ? "mine" : "other"]++;
    live.lastPositionMs = Math.max(live.lastPositionMs, Date.parse(ev.timestamp));
    addFeed("position", `${ev.timestamp.slice(11, 19)}  ${ev.vessel_id}  ${lat.toFixed(3)}, ${lon.toFixed(3)}  ${d.speed.toFixed(1)} kn  ${d.status}`);
  }

  function onResult(ev) {
    let p = live.predictions[ev.vessel_id];
    if (!p || p.request_id !== ev.request_id) p = live.predictions[ev.vessel_id] = { request_id: ev.request_id, results: [] };
    p.results.push(ev);
    live.results++;
    const d = ev.data;
    addFeed("result", `${ev.timestamp.slice(11, 19)}  ${ev.vessel_id} → ${d.terminal_name}  ${(d.confidence_score * 100).toFixed(0)}%  ${d.eta_hours == null ? "" : d.eta_hours.toFixed(1) + " h"}`);
    // drawn in the next frame: the latency is measured there (not for the
    // snapshot's results, published before this page connected)
    if (live.history) return;
    const published = Date.parse(ev.timestamp);
    requestAnimationFrame(() => {
      const ms = Date.now() - published;
      p.latencyMs = ms;
      live.resultLatencies.push(ms);
      if (live.resultLatencies.length > 1000) live.resultLatencies.shift();
    });
  }

  function connect() {
    const q = wantVessel === "*" ? "" : "?vessel=" + encodeURIComponent(wantVessel);
    setState("connecting");
    ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws${q}`, "vt-live");
    ws.onopen = () => { live.connects++; backoff = 500; setState("open"); };
    ws.onmessage = (e) => { for (const line of e.data.split("\n")) onMessage(JSON.parse(line)); };
    ws.onclose = onClose;
  }

  function onMessage(m) {
    live.messages++;
    if (m.type === "position") onPosition(m.event);
    else if (m.type === "result") onResult(m.event);
    else if (m.type === "drops") live.dropped = m.dropped;
    else if (m.type === "hello") {
      // a (re)connection: the snapshot that follows replaces the tracks
      live.history = true;
      for (const v of Object.values(live.vessels)) v.track = [];
    } else if (m.type === "live") live.history = false;
    counters();
    dirty = true;
  }

  function onClose() {
    setState("closed");
    // reconnects after a broadcaster restart, backing off to 5 s
    setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 5000);
  }

  function setState(s) {
    live.state = s;
    const el = document.getElementById("status");
    el.className = "state-" + s;
    document.getElementById("status-text").textContent = s === "open" ? "live" : s;
  }

  filter.addEventListener("change", () => {
    wantVessel = filter.value;
    live.filterStats = { vessel: wantVessel, mine: 0, other: 0 };
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ vessel: wantVessel === "*" ? null : wantVessel }));
    dirty = true;
  });
  window.addEventListener("resize", fit);

  fetch("/terminals.json").then((r) => r.json()).then((t) => { live.terminals = t; dirty = true; });
  fetch("/vendor/world-atlas/land-10m.json")
    .then((r) => { if (!r.ok) throw new Error("coastline data: HTTP " + r.status); return r.json(); })
    .then((topo) => { land = topojson.feature(topo, topo.objects.land); live.coastline = true; landLayer = null; dirty = true; })
    .catch((e) => { live.errors.push(String(e)); addFeed("error", "no coastline: " + e.message); });
  fit();
  connect();
  requestAnimationFrame(frame);
})();
