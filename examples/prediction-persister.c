/*
 * prediction-persister - consumes prediction results (group
 * prediction-db-writers) and upserts them by prediction_id into SQLite (the
 * default: a file) or PostgreSQL (--db postgresql://...).  Upserts are
 * idempotent, so a redelivered result (at-least-once) leaves one row; the
 * row keeps the latency of the result's first arrival.
 *
 * A database that fails (down, restarting, busy, disk full) is the
 * environment, not the result: the persister logs it, counts it
 * (db_retries) and answers VTEV_VERDICT_RETRY_ENV, so the partition pauses
 * and the result is retried after a growing backoff, without limit, and is
 * never dead-lettered.  Only a row the database refuses for its content
 * (ex_store_upsert() == EX_STORE_BAD) is dead-lettered.
 */
#include "common.h"

#include <ctype.h>
#include <getopt.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ store */

#define NPARAMS 19

struct ex_store_s {
    sqlite3 *lite;
    sqlite3_stmt *upsert;
    PGconn *pg;
    char table[64];
    char conninfo[1024];
};

static const char *columns =
    "prediction_id, request_id, vessel_id, terminal_id, terminal_name, confidence_score, "
    "proximity_score, speed_score, heading_score, rag_boost, ai_adjustment, distance_km, "
    "eta_hours, ai_reasoning, correlation_id, event_id, event_timestamp_us, latency_ms, "
    "persisted_at_us";

static int mk_sql(const ex_store_t *s, bool pg, char *create, size_t csz, char *upsert,
                  size_t usz) {
    char vals[256];
    size_t off = 0;
    int i;
    snprintf(create, csz,
             "CREATE TABLE IF NOT EXISTS %s ("
             "prediction_id TEXT PRIMARY KEY, request_id TEXT NOT NULL, vessel_id TEXT NOT "
             "NULL, terminal_id BIGINT NOT NULL, terminal_name TEXT NOT NULL, "
             "confidence_score DOUBLE PRECISION NOT NULL, proximity_score DOUBLE PRECISION, "
             "speed_score DOUBLE PRECISION, heading_score DOUBLE PRECISION, rag_boost DOUBLE "
             "PRECISION, ai_adjustment DOUBLE PRECISION, distance_km DOUBLE PRECISION, "
             "eta_hours DOUBLE PRECISION, ai_reasoning TEXT, correlation_id TEXT, event_id "
             "TEXT, event_timestamp_us BIGINT, latency_ms DOUBLE PRECISION, persisted_at_us "
             "BIGINT, updates INTEGER NOT NULL DEFAULT 0)",
             s->table);
    for (i = 1; i <= NPARAMS; i++)
        off += (size_t)snprintf(vals + off, sizeof(vals) - off, "%s%s%d", i > 1 ? ", " : "",
                                pg ? "$" : "?", i);
    /* the first arrival's latency and persist time stay; the rest is refreshed */
    snprintf(upsert, usz,
             "INSERT INTO %s (%s) VALUES (%s) ON CONFLICT (prediction_id) DO UPDATE SET "
             "request_id = excluded.request_id, vessel_id = excluded.vessel_id, terminal_id = "
             "excluded.terminal_id, terminal_name = excluded.terminal_name, confidence_score = "
             "excluded.confidence_score, proximity_score = excluded.proximity_score, "
             "speed_score = excluded.speed_score, heading_score = excluded.heading_score, "
             "rag_boost = excluded.rag_boost, ai_adjustment = excluded.ai_adjustment, "
             "distance_km = excluded.distance_km, eta_hours = excluded.eta_hours, "
             "ai_reasoning = excluded.ai_reasoning, correlation_id = excluded.correlation_id, "
             "event_id = excluded.event_id, event_timestamp_us = excluded.event_timestamp_us, "
             "updates = %s.updates + 1",
             s->table, columns, vals, s->table);
    return 0;
}

static int pg_prepare(ex_store_t *s, char *errstr, size_t errstr_size) {
    char create[2048], upsert[4096];
    PGresult *r;
    mk_sql(s, true, create, sizeof(create), upsert, sizeof(upsert));
    r = PQexec(s->pg, "SET client_min_messages = warning");
    PQclear(r);
    r = PQexec(s->pg, create);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        snprintf(errstr, errstr_size, "postgresql: create table: %s", PQerrorMessage(s->pg));
        PQclear(r);
        return -1;
    }
    PQclear(r);
    r = PQprepare(s->pg, "upsert", upsert, NPARAMS, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        snprintf(errstr, errstr_size, "postgresql: prepare: %s", PQerrorMessage(s->pg));
        PQclear(r);
        return -1;
    }
    PQclear(r);
    return 0;
}

ex_store_t *ex_store_open(const char *db, const char *table, char *errstr, size_t errstr_size) {
    ex_store_t *s = calloc(1, sizeof(*s));
    const char *p;
    if (!s) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    if (!table || !*table)
        table = "predictions";
    for (p = table; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_') || (p == table && isdigit((unsigned char)*p)) ||
            p - table >= (long)sizeof(s->table) - 1) {
            snprintf(errstr, errstr_size, "--table %s: letters, digits and _ only", table);
            free(s);
            return NULL;
        }
    snprintf(s->table, sizeof(s->table), "%s", table);
    if (!db || !*db)
        db = "predictions.db";
    if (!strncmp(db, "postgresql://", 13) || !strncmp(db, "postgres://", 11)) {
        snprintf(s->conninfo, sizeof(s->conninfo), "%s", db);
        s->pg = PQconnectdb(db);
        if (PQstatus(s->pg) != CONNECTION_OK) {
            snprintf(errstr, errstr_size, "postgresql: %s", PQerrorMessage(s->pg));
            goto fail;
        }
        if (pg_prepare(s, errstr, errstr_size))
            goto fail;
        return s;
    }
    {
        char create[2048], upsert[4096];
        char *msg = NULL;
        if (!strncmp(db, "sqlite:", 7))
            db += 7;
        if (sqlite3_open(db, &s->lite) != SQLITE_OK) {
            snprintf(errstr, errstr_size, "sqlite %s: %s", db,
                     s->lite ? sqlite3_errmsg(s->lite) : "out of memory");
            goto fail;
        }
        sqlite3_busy_timeout(s->lite, 10000);
        mk_sql(s, false, create, sizeof(create), upsert, sizeof(upsert));
        if (sqlite3_exec(s->lite, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL,
                         NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(s->lite, create, NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(errstr, errstr_size, "sqlite %s: %s", db, msg ? msg : "error");
            sqlite3_free(msg);
            goto fail;
        }
        if (sqlite3_prepare_v2(s->lite, upsert, -1, &s->upsert, NULL) != SQLITE_OK) {
            snprintf(errstr, errstr_size, "sqlite %s: %s", db, sqlite3_errmsg(s->lite));
            goto fail;
        }
    }
    return s;
fail:
    ex_store_close(s);
    return NULL;
}

void ex_store_close(ex_store_t *s) {
    if (!s)
        return;
    if (s->upsert)
        sqlite3_finalize(s->upsert);
    if (s->lite)
        sqlite3_close(s->lite);
    if (s->pg)
        PQfinish(s->pg);
    free(s);
}

/* Whether an SQLite failure is about the row (EX_STORE_BAD) or the database. */
static int lite_class(int rc) {
    switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
        return EX_STORE_BAD;
    default:
        return EX_STORE_ENV;
    }
}

int ex_store_upsert(ex_store_t *s, const vtev_result_event_t *r, double latency_ms,
                    char *errstr, size_t errstr_size) {
    char num[NPARAMS][64];
    const char *v[NPARAMS];
    const char *corr = vtev_envelope_correlation_id(&r->env);
    int i;
    /* text form for both back ends (17 significant digits round-trip) */
    v[0] = r->data.prediction_id;
    v[1] = r->request_id;
    v[2] = r->env.vessel_id;
    snprintf(num[3], sizeof(num[3]), "%" PRId64, r->data.terminal_id);
    v[3] = num[3];
    v[4] = r->data.terminal_name;
    snprintf(num[5], 64, "%.17g", r->data.confidence_score);
    snprintf(num[6], 64, "%.17g", r->data.scores.proximity);
    snprintf(num[7], 64, "%.17g", r->data.scores.speed);
    snprintf(num[8], 64, "%.17g", r->data.scores.heading);
    snprintf(num[9], 64, "%.17g", r->data.scores.rag_boost);
    snprintf(num[10], 64, "%.17g", r->data.scores.ai_adjustment);
    snprintf(num[11], 64, "%.17g", r->data.distance_km);
    snprintf(num[12], 64, "%.17g", r->data.eta_hours);
    for (i = 5; i <= 12; i++)
        v[i] = num[i];
    if (!r->data.has_eta_hours)
        v[12] = NULL;
    v[13] = r->data.ai_reasoning;
    v[14] = corr;
    v[15] = r->env.event_id;
    snprintf(num[16], 64, "%" PRId64, r->env.timestamp_us);
    v[16] = num[16];
    snprintf(num[17], 64, "%.6f", latency_ms);
    v[17] = latency_ms >= 0 ? num[17] : NULL;
    snprintf(num[18], 64, "%" PRId64, ex_now_us());
    v[18] = num[18];

    if (s->pg) {
        PGresult *res;
        if (PQstatus(s->pg) != CONNECTION_OK) {
            PQreset(s->pg);
            if (PQstatus(s->pg) != CONNECTION_OK || pg_prepare(s, errstr, errstr_size)) {
                snprintf(errstr, errstr_size, "postgresql: %s", PQerrorMessage(s->pg));
                return EX_STORE_ENV;
            }
        }
        res = PQexecPrepared(s->pg, "upsert", NPARAMS, v, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
            /* class 22 (data exception) and 23 (integrity constraint
             * violation) are about this row; the rest is the database */
            int rc = state && (!strncmp(state, "22", 2) || !strncmp(state, "23", 2))
                         ? EX_STORE_BAD
                         : EX_STORE_ENV;
            snprintf(errstr, errstr_size, "postgresql: upsert: SQLSTATE %s: %s",
                     state ? state : "none", PQerrorMessage(s->pg));
            PQclear(res);
            return rc;
        }
        PQclear(res);
        return 0;
    }
    sqlite3_reset(s->upsert);
    for (i = 0; i < NPARAMS; i++) {
        int rc;
        if (!v[i])
            rc = sqlite3_bind_null(s->upsert, i + 1);
        else if (i == 3 || i == 16 || i == 18)
            rc = sqlite3_bind_int64(s->upsert, i + 1, strtoll(v[i], NULL, 10));
        else if ((i >= 5 && i <= 12) || i == 17)
            rc = sqlite3_bind_double(s->upsert, i + 1, strtod(v[i], NULL));
        else
            rc = sqlite3_bind_text(s->upsert, i + 1, v[i], -1, SQLITE_TRANSIENT);
        if (rc != SQLITE_OK) {
            snprintf(errstr, errstr_size, "sqlite: bind: %s", sqlite3_errmsg(s->lite));
            return lite_class(rc);
        }
    }
    {
        int rc = sqlite3_step(s->upsert);
        if (rc != SQLITE_DONE) {
            snprintf(errstr, errstr_size, "sqlite: upsert: %s", sqlite3_errmsg(s->lite));
            sqlite3_reset(s->upsert);
            return lite_class(rc);
        }
    }
    sqlite3_reset(s->upsert);
    return 0;
}

/* Runs a one-column query; calls @p row for every value. Rows or -1. */
static long query(ex_store_t *s, const char *sql, void (*row)(const char *, void *), void *opaque,
                  char *errstr, size_t errstr_size) {
    long n = 0;
    if (s->pg) {
        PGresult *r = PQexec(s->pg, sql);
        int i;
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            snprintf(errstr, errstr_size, "postgresql: %s", PQerrorMessage(s->pg));
            PQclear(r);
            return -1;
        }
        for (i = 0; i < PQntuples(r); i++, n++)
            row(PQgetisnull(r, i, 0) ? NULL : PQgetvalue(r, i, 0), opaque);
        PQclear(r);
        return n;
    } else {
        sqlite3_stmt *st;
        int rc;
        if (sqlite3_prepare_v2(s->lite, sql, -1, &st, NULL) != SQLITE_OK) {
            snprintf(errstr, errstr_size, "sqlite: %s", sqlite3_errmsg(s->lite));
            return -1;
        }
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            row((const char *)sqlite3_column_text(st, 0), opaque);
            n++;
        }
        if (rc != SQLITE_DONE) {
            snprintf(errstr, errstr_size, "sqlite: %s", sqlite3_errmsg(s->lite));
            n = -1;
        }
        sqlite3_finalize(st);
        return n;
    }
}

static void row_int(const char *v, void *opaque) { *(int64_t *)opaque = v ? strtoll(v, NULL, 10) : 0; }

int64_t ex_store_count(ex_store_t *s, bool distinct_requests, char *errstr, size_t errstr_size) {
    char sql[256];
    int64_t n = -1;
    snprintf(sql, sizeof(sql), "SELECT COUNT(%s) FROM %s",
             distinct_requests ? "DISTINCT request_id" : "*", s->table);
    if (query(s, sql, row_int, &n, errstr, errstr_size) != 1)
        return -1;
    return n;
}

int64_t ex_store_incomplete(ex_store_t *s, int per_request, char *errstr, size_t errstr_size) {
    char sql[256];
    int64_t n = -1;
    snprintf(sql, sizeof(sql),
             "SELECT COUNT(*) FROM (SELECT request_id FROM %s GROUP BY request_id HAVING "
             "COUNT(*) <> %d) AS x",
             s->table, per_request);
    if (query(s, sql, row_int, &n, errstr, errstr_size) != 1)
        return -1;
    return n;
}

typedef struct lat_acc_s {
    double *v;
    size_t n, cap;
    bool nomem;
} lat_acc_t;

static void row_lat(const char *v, void *opaque) {
    lat_acc_t *a = opaque;
    if (!v || a->nomem)
        return;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 1024;
        double *nv = realloc(a->v, cap * sizeof(*nv));
        if (!nv) {
            a->nomem = true;
            return;
        }
        a->v = nv;
        a->cap = cap;
    }
    a->v[a->n++] = strtod(v, NULL);
}

long ex_store_latencies(ex_store_t *s, double **outp, char *errstr, size_t errstr_size) {
    char sql[256];
    lat_acc_t a = {0};
    snprintf(sql, sizeof(sql), "SELECT latency_ms FROM %s WHERE latency_ms IS NOT NULL",
             s->table);
    if (query(s, sql, row_lat, &a, errstr, errstr_size) < 0 || a.nomem) {
        if (a.nomem)
            snprintf(errstr, errstr_size, "out of memory");
        free(a.v);
        return -1;
    }
    *outp = a.v;
    return (long)a.n;
}

/* ------------------------------------------------------------------ service */

typedef struct persister_s {
    ex_persister_opts_t o;
    ex_store_t *store;
    ex_stats_t *st;
    bool retrying; /* the last upsert failed on the database */
} persister_t;

static vtev_verdict_t on_result(vtev_consumer_t *c, const vtev_event_t *ev,
                                const vtev_msg_info_t *info, void *opaque) {
    persister_t *ps = opaque;
    const vtev_result_event_t *r = &ev->u.result;
    int64_t pos_ts = ex_meta_int(&r->env, "position_timestamp_us", -1);
    double latency = pos_ts > 0 ? (double)(ex_now_us() - pos_ts) / 1000.0 : -1.0;
    char errstr[512];
    int rc;
    (void)c;
    (void)info;
    if ((rc = ex_store_upsert(ps->store, r, latency, errstr, sizeof(errstr))) == EX_STORE_BAD) {
        fprintf(stderr, "prediction-persister: %s: %s (dead-lettering it)\n",
                r->data.prediction_id, errstr);
        ps->retrying = false;
        atomic_fetch_add(&ps->st->consumed, 1);
        return VTEV_VERDICT_REJECT;
    }
    if (rc) {
        uint64_t n = atomic_fetch_add(&ps->st->db_retries, 1) + 1;
        fprintf(stderr, "prediction-persister: database unavailable: %s (pausing; retry %" PRIu64
                        ")\n", errstr, n);
        ps->retrying = true; /* for the log line once it works again */
        return VTEV_VERDICT_RETRY_ENV;
    }
    if (ps->retrying) {
        fprintf(stderr, "prediction-persister: database available again\n");
        ps->retrying = false;
    }
    /* counted once it is finished (not on each retry) */
    atomic_fetch_add(&ps->st->consumed, 1);
    atomic_fetch_add(&ps->st->rows, 1);
    if (getenv("EX_DEBUG_LATENCY"))
        fprintf(stderr, "hops: position->request %.1f ms, request->result %.1f ms, result->persisted %.1f ms\n",
                (double)(ex_meta_int(&r->env, "request_timestamp_us", 0) - pos_ts) / 1000.0,
                (double)(r->env.timestamp_us - ex_meta_int(&r->env, "request_timestamp_us", 0)) / 1000.0,
                (double)(ex_now_us() - r->env.timestamp_us) / 1000.0);
    if (ps->o.print) {
        char eta[32];
        if (r->data.has_eta_hours)
            snprintf(eta, sizeof(eta), "ETA %5.1f h", r->data.eta_hours);
        else
            snprintf(eta, sizeof(eta), "ETA    -   ");
        printf("%-10s %-9s %5.1f kn -> %-20s conf %.2f  %6.1f km  %s  (prox %.2f speed %.2f "
               "heading %.2f)  %s  %.0f ms\n",
               r->env.vessel_id, r->data.vessel_snapshot.status, r->data.vessel_snapshot.speed,
               r->data.terminal_name, r->data.confidence_score, r->data.distance_km, eta,
               r->data.scores.proximity, r->data.scores.speed, r->data.scores.heading,
               r->request_id, latency);
        fflush(stdout);
    }
    return VTEV_VERDICT_OK;
}

int ex_persister_run(vtev_conf_t *conf, const ex_persister_opts_t *o, ex_stats_t *st,
                     atomic_int *stop) {
    char errstr[512], buf[256];
    persister_t ps;
    vtev_consumer_t *c = NULL;
    int rc = 0;

    memset(&ps, 0, sizeof(ps));
    ps.o = *o;
    ps.st = st;
    if (!(ps.store = ex_store_open(o->db, o->table, errstr, sizeof(errstr))))
        goto fail;
    ex_conf_str(conf, "group.id", buf, sizeof(buf));
    if (!buf[0] &&
        ex_conf_set(conf, "group.id", "prediction-db-writers", errstr, sizeof(errstr)))
        goto fail;
    ex_conf_str(conf, "kafka.isolation.level", buf, sizeof(buf));
    if (!buf[0] &&
        ex_conf_set(conf, "kafka.isolation.level", "read_committed", errstr, sizeof(errstr)))
        goto fail;
    if (ex_consumer_conf(conf, errstr, sizeof(errstr)))
        goto fail;
    if (!(c = vtev_consumer_new(conf, errstr, sizeof(errstr))))
        goto fail;
    conf = NULL;
    if (vtev_consumer_subscribe(c, VTEV_EVENT_RESULT, NULL, on_result, &ps, errstr,
                                sizeof(errstr)) != VTEV_ERR_OK)
        goto fail;
    rc = ex_consume_loop("prediction-persister", c, st, stop);
    if (vtev_consumer_close(c, errstr, sizeof(errstr)) != VTEV_ERR_OK) {
        fprintf(stderr, "prediction-persister: close: %s\n", errstr);
        rc = 1;
    }
    atomic_store(&st->dead_letters, ex_dead_letters(c));
    vtev_consumer_destroy(c);
    ex_store_close(ps.store);
    return rc;
fail:
    fprintf(stderr, "prediction-persister: %s\n", errstr);
    vtev_consumer_destroy(c);
    vtev_conf_destroy(conf);
    ex_store_close(ps.store);
    return 1;
}

#ifndef EX_NO_MAIN
static const char usage[] =
    "usage: prediction-persister [OPTIONS]\n"
    "Consumes prediction results (group prediction-db-writers unless -X group.id=...) and\n"
    "upserts them by prediction_id.\n\n"
    "  --db DB           SQLite file (default predictions.db; also sqlite:PATH) or\n"
    "                    postgresql://user@host:port/dbname\n"
    "  --table NAME      table (default predictions; created when missing)\n"
    "  --print           one line per prediction on stdout\n"
    "  --stats-file F    write the counters to F at exit\n"
    "  --ready-file F        create F once the consumer has its partitions\n"
    "  --consumer-X KEY=VALUE  a configuration key for the consumer only (not its producer)\n" EX_COMMON_USAGE;

int main(int argc, char **argv) {
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 1000},    {"table", required_argument, NULL, 1001},
        {"print", no_argument, NULL, 1002},       {"stats-file", required_argument, NULL, 1003},
        {"ready-file", required_argument, NULL, 1099},
        {"consumer-X", required_argument, NULL, 1098},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    ex_cli_t cli = {0};
    ex_persister_opts_t o = {0};
    ex_stats_t st = {0};
    const char *stats_file = NULL;
    char errstr[512];
    vtev_conf_t *conf;
    int c, r;

    while ((c = getopt_long(argc, argv, EX_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if ((r = ex_cli_opt(&cli, c, optarg, "prediction-persister", usage)) == 1)
            continue;
        if (r < 0)
            return 2;
        switch (c) {
        case 1000: o.db = optarg; break;
        case 1001: o.table = optarg; break;
        case 1002: o.print = true; break;
        case 1003: stats_file = optarg; break;
        case 1099: ex_ready_file = optarg; continue;
        case 1098:
            if (!strchr(optarg, '=') || ex_consumer_x_cnt == 16) {
                fprintf(stderr, "--consumer-X %s: expected KEY=VALUE (at most 16)\n", optarg);
                return 2;
            }
            ex_consumer_x[ex_consumer_x_cnt++] = optarg;
            continue;
        default: fputs(usage, stderr); return 2;
        }
    }
    if (!(conf = ex_cli_conf(&cli, errstr, sizeof(errstr)))) {
        fprintf(stderr, "prediction-persister: %s\n", errstr);
        return 2;
    }
    ex_stop_on_signals();
    st.rc = ex_persister_run(conf, &o, &st, &ex_interrupted);
    if (cli.verbosity >= 0)
        fprintf(stderr, "prediction-persister: %" PRIu64 " results, %" PRIu64 " upserts, %" PRIu64
                        " dead letters\n",
                (uint64_t)atomic_load(&st.consumed), (uint64_t)atomic_load(&st.rows),
                (uint64_t)atomic_load(&st.dead_letters));
    if (stats_file && ex_stats_write(&st, stats_file))
        fprintf(stderr, "prediction-persister: cannot write %s\n", stats_file);
    return st.rc;
}
#endif
