#!/usr/bin/env python3
"""The platform's original HTTP design, as the baseline of the vessel-api
benchmark: FastAPI on uvicorn, confluent-kafka's SerializingProducer with
AvroSerializer (the same .avsc files, broker and registry as vessel-api).

usage: py_api.py --port PORT --db FILE [--topic-position T] [--topic-request T]

Same endpoints and bodies as examples/vessel-api.c (the happy paths; the
validation is pydantic's): the state goes into SQLite (the same tables),
then the event is produced, then 202; as the seed did: write the database,
then publish, and answer without waiting for the delivery.  Delivery failures
are counted (GET /stats).  One process, one event loop (uvicorn's default).
"""
import argparse
import os
import sqlite3
import sys
import time
import uuid
from typing import Optional

import uvicorn
from confluent_kafka import SerializingProducer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import StringSerializer
from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


class Position(BaseModel):
    current_lat: float = Field(ge=-90, le=90)
    current_lon: float = Field(ge=-180, le=180)
    speed: float = Field(ge=0)
    heading: float = Field(ge=0, lt=360)
    status: Optional[str] = Field(default=None, min_length=1, max_length=32)


class Vessel(BaseModel):
    vessel_id: str = Field(min_length=1, max_length=64)
    name: Optional[str] = None


class Analyze(BaseModel):
    priority: str = "normal"
    terminal_filter: Optional[int] = None


def build(args):
    bs, sr = common.env()
    registry = SchemaRegistryClient({"url": sr})

    def producer(kind):
        return SerializingProducer({
            "bootstrap.servers": bs,
            "enable.idempotence": True,
            "acks": "all",
            "socket.nagle.disable": True,
            "compression.codec": "gzip",
            "partitioner": "murmur2_random",
            "linger.ms": 0,
            "key.serializer": StringSerializer("utf_8"),
            "value.serializer": AvroSerializer(registry, common.schema_str(kind)),
        })

    # one producer per value schema (a SerializingProducer has one serializer)
    prod = {"position": producer("position"), "request": producer("request")}
    topics = {"position": args.topic_position, "request": args.topic_request}
    db = sqlite3.connect(args.db, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS vessels (vessel_id TEXT PRIMARY KEY, name TEXT, "
               "lat REAL, lon REAL, speed REAL, heading REAL, status TEXT, "
               "registered_at_us INTEGER NOT NULL, updated_at_us INTEGER, last_event_id TEXT, "
               "updates INTEGER NOT NULL DEFAULT 0)")
    db.execute("CREATE TABLE IF NOT EXISTS prediction_requests (request_id TEXT PRIMARY KEY, "
               "vessel_id TEXT NOT NULL, event_id TEXT NOT NULL, priority TEXT NOT NULL, "
               "terminal_filter INTEGER, requested_at_us INTEGER NOT NULL)")
    stats = {"produced": 0, "delivered": 0, "failed": 0}

    def on_delivery(err, msg):
        stats["failed" if err is not None else "delivered"] += 1

    def publish(kind, ev):
        p = prod[kind]
        p.produce(topics[kind], key=ev["vessel_id"], value=ev,
                  headers=[("event_type", ev["event_type"]), ("event_id", ev["event_id"])],
                  on_delivery=on_delivery)
        p.poll(0)
        stats["produced"] += 1

    app = FastAPI()

    @app.post("/api/v1/vessels", status_code=201)
    async def register(v: Vessel):
        cur = db.execute("INSERT INTO vessels (vessel_id, name, registered_at_us) VALUES (?, ?, ?) "
                         "ON CONFLICT (vessel_id) DO NOTHING",
                         (v.vessel_id, v.name, int(time.time() * 1e6)))
        if cur.rowcount == 0:
            raise HTTPException(409, "the vessel is registered already")
        return {"vessel_id": v.vessel_id, "name": v.name}

    @app.get("/api/v1/vessels/{vessel_id}")
    async def get_vessel(vessel_id: str):
        r = db.execute("SELECT vessel_id, name, lat, lon, speed, heading, status, updated_at_us, "
                       "last_event_id, updates FROM vessels WHERE vessel_id = ?", (vessel_id,)).fetchone()
        if not r:
            raise HTTPException(404, "no such vessel")
        keys = ["vessel_id", "name", "current_lat", "current_lon", "speed", "heading", "status",
                "updated_at_us", "last_event_id", "updates"]
        return dict(zip(keys, r))

    @app.put("/api/v1/vessels/{vessel_id}", status_code=202)
    async def update(vessel_id: str, p: Position):
        now = int(time.time() * 1e6)
        eid = str(uuid.uuid4())
        # the seed: the database first, then the event
        cur = db.execute("UPDATE vessels SET lat = ?, lon = ?, speed = ?, heading = ?, "
                         "status = COALESCE(?, status, 'underway'), updated_at_us = ?, "
                         "last_event_id = ?, updates = updates + 1 WHERE vessel_id = ?",
                         (p.current_lat, p.current_lon, p.speed, p.heading, p.status, now, eid,
                          vessel_id))
        if cur.rowcount == 0:
            raise HTTPException(404, "no such vessel")
        status = p.status or db.execute("SELECT status FROM vessels WHERE vessel_id = ?",
                                        (vessel_id,)).fetchone()[0]
        publish("position", {
            "event_id": eid, "event_type": "vessel.position.updated", "timestamp": now,
            "vessel_id": vessel_id,
            "data": {"lat": p.current_lat, "lon": p.current_lon, "speed": p.speed,
                     "heading": p.heading, "status": status},
            "metadata": {"source": "py-api", "correlation_id": "corr-" + uuid.uuid4().hex[:16]},
        })
        return {"status": "accepted", "event_id": eid}

    @app.post("/api/v1/predictions/analyze/{vessel_id}", status_code=202)
    async def analyze(vessel_id: str, a: Optional[Analyze] = None):
        a = a or Analyze()
        r = db.execute("SELECT lat, lon, speed, heading, status FROM vessels WHERE vessel_id = ?",
                       (vessel_id,)).fetchone()
        if not r:
            raise HTTPException(404, "no such vessel")
        if r[0] is None:
            raise HTTPException(409, "the vessel has no position yet")
        now = int(time.time() * 1e6)
        eid = str(uuid.uuid4())
        rid = "req-" + eid
        db.execute("INSERT INTO prediction_requests VALUES (?, ?, ?, ?, ?, ?)",
                   (rid, vessel_id, eid, a.priority, a.terminal_filter, now))
        publish("request", {
            "event_id": eid, "event_type": "prediction.analysis.requested", "timestamp": now,
            "vessel_id": vessel_id, "request_id": rid,
            "data": {"vessel_snapshot": {"lat": r[0], "lon": r[1], "speed": r[2], "heading": r[3],
                                         "status": r[4] or "underway"},
                     "terminal_filter": a.terminal_filter, "priority": a.priority},
            "metadata": {"source": "py-api"},
        })
        return {"status": "accepted", "request_id": rid, "event_id": eid}

    @app.get("/api/v1/predictions/{request_id}")
    async def predictions(request_id: str):
        try:
            rows = db.execute("SELECT prediction_id, terminal_id, terminal_name, confidence_score "
                              "FROM predictions WHERE request_id = ? ORDER BY confidence_score DESC",
                              (request_id,)).fetchall()
        except sqlite3.OperationalError:
            rows = []
        if rows:
            return {"status": "completed", "request_id": request_id, "count": len(rows),
                    "predictions": [dict(zip(["prediction_id", "terminal_id", "terminal_name",
                                              "confidence_score"], r)) for r in rows]}
        if db.execute("SELECT 1 FROM prediction_requests WHERE request_id = ?",
                      (request_id,)).fetchone():
            return JSONResponse({"status": "pending", "request_id": request_id}, status_code=202)
        raise HTTPException(404, "no such request")

    @app.get("/healthz")
    async def healthz():
        return {"status": "ok"}

    @app.get("/stats")
    async def get_stats():
        for p in prod.values():
            p.poll(0)
        return stats

    @app.on_event("shutdown")
    def flush():
        for p in prod.values():
            p.flush(30)
        print("py_api: %s" % stats, file=sys.stderr, flush=True)

    return app


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--topic-position", default="vessel-position-updates")
    ap.add_argument("--topic-request", default="prediction-requests")
    args = ap.parse_args()
    uvicorn.run(build(args), host="127.0.0.1", port=args.port, log_level="warning",
                access_log=False)


if __name__ == "__main__":
    main()
