/*
 * store.c - the prediction store (common.h: ex_store_*): one table of
 * results, upserted by prediction_id, and the queries vt-demo reads back.
 * The --db value chooses the database back end (db.h): postgresql:// or
 * postgres:// is PostgreSQL (db_pg.c), anything else an SQLite file
 * (db_sqlite.c; sqlite:PATH too).  A back end the build left out
 * (EX_HAVE_SQLITE or EX_HAVE_POSTGRES is 0: meson options examples_sqlite,
 * examples_postgres) is refused with a message naming the option.
 */
#include "common.h"
#include "db.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef EX_HAVE_SQLITE
#define EX_HAVE_SQLITE 1
#endif
#ifndef EX_HAVE_POSTGRES
#define EX_HAVE_POSTGRES 1
#endif

#define TABLE_MAX 63

struct ex_store_s {
    ex_db_t *db;
    char table[TABLE_MAX + 1];
};

/* ------------------------------------------------------------------ SQL */

static const char *columns =
    "prediction_id, request_id, vessel_id, terminal_id, terminal_name, confidence_score, "
    "proximity_score, speed_score, heading_score, rag_boost, ai_adjustment, distance_km, "
    "eta_hours, ai_reasoning, correlation_id, event_id, event_timestamp_us, latency_ms, "
    "persisted_at_us";

const ex_db_type_t ex_db_param_types[EX_DB_NPARAMS] = {
    EX_DB_TEXT, EX_DB_TEXT, EX_DB_TEXT, EX_DB_INT,  /* prediction_id .. terminal_id */
    EX_DB_TEXT,                                     /* terminal_name */
    EX_DB_REAL, EX_DB_REAL, EX_DB_REAL, EX_DB_REAL, /* confidence .. heading_score */
    EX_DB_REAL, EX_DB_REAL, EX_DB_REAL, EX_DB_REAL, /* rag_boost .. eta_hours */
    EX_DB_TEXT, EX_DB_TEXT, EX_DB_TEXT,             /* ai_reasoning .. event_id */
    EX_DB_INT,  EX_DB_REAL, EX_DB_INT,              /* event_timestamp_us .. persisted_at_us */
};

void ex_db_sql(const char *table, bool dollar, char *create, size_t create_size, char *upsert,
               size_t upsert_size) {
    char vals[256];
    size_t off = 0;
    int i;
    snprintf(create, create_size,
             "CREATE TABLE IF NOT EXISTS %s ("
             "prediction_id TEXT PRIMARY KEY, request_id TEXT NOT NULL, vessel_id TEXT NOT "
             "NULL, terminal_id BIGINT NOT NULL, terminal_name TEXT NOT NULL, "
             "confidence_score DOUBLE PRECISION NOT NULL, proximity_score DOUBLE PRECISION, "
             "speed_score DOUBLE PRECISION, heading_score DOUBLE PRECISION, rag_boost DOUBLE "
             "PRECISION, ai_adjustment DOUBLE PRECISION, distance_km DOUBLE PRECISION, "
             "eta_hours DOUBLE PRECISION, ai_reasoning TEXT, correlation_id TEXT, event_id "
             "TEXT, event_timestamp_us BIGINT, latency_ms DOUBLE PRECISION, persisted_at_us "
             "BIGINT, updates INTEGER NOT NULL DEFAULT 0)",
             table);
    for (i = 1; i <= EX_DB_NPARAMS; i++)
        off += (size_t)snprintf(vals + off, sizeof(vals) - off, "%s%s%d", i > 1 ? ", " : "",
                                dollar ? "$" : "?", i);
    /* the first arrival's latency and persist time stay; the rest is refreshed */
    snprintf(upsert, upsert_size,
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
             table, columns, vals, table);
}

/* ------------------------------------------------------------------ back end */

/* The back end for @p db (NULL or "": predictions.db) and what it opens;
 * NULL with errstr when this build has none for that kind. */
static const ex_db_ops_t *backend(const char *db, const char **target, char *errstr,
                                  size_t errstr_size) {
    const ex_db_ops_t *ops = NULL;
    const char *what, *option;
    if (!db || !*db)
        db = "predictions.db";
    if (!strncmp(db, "postgresql://", 13) || !strncmp(db, "postgres://", 11)) {
#if EX_HAVE_POSTGRES
        ops = &ex_db_pg;
#endif
        what = "PostgreSQL";
        option = "examples_postgres";
    } else {
        if (!strncmp(db, "sqlite:", 7))
            db += 7;
#if EX_HAVE_SQLITE
        ops = &ex_db_sqlite;
#endif
        what = "SQLite";
        option = "examples_sqlite";
    }
    *target = db;
    if (!ops)
        snprintf(errstr, errstr_size, "this build has no %s support (meson option %s)", what,
                 option);
    return ops;
}

int ex_store_check(const char *db, char *errstr, size_t errstr_size) {
    const char *target;
    return backend(db, &target, errstr, errstr_size) ? 0 : -1;
}

ex_store_t *ex_store_open(const char *db, const char *table, char *errstr, size_t errstr_size) {
    const ex_db_ops_t *ops;
    const char *target, *p;
    ex_store_t *s;

    if (!table || !*table)
        table = "predictions";
    for (p = table; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_') || (p == table && isdigit((unsigned char)*p)) ||
            p - table >= TABLE_MAX) {
            snprintf(errstr, errstr_size, "--table %s: letters, digits and _ only", table);
            return NULL;
        }
    if (!(ops = backend(db, &target, errstr, errstr_size)))
        return NULL;
    if (!(s = calloc(1, sizeof(*s)))) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    snprintf(s->table, sizeof(s->table), "%s", table);
    if (!(s->db = ops->open(target, s->table, errstr, errstr_size))) {
        free(s);
        return NULL;
    }
    return s;
}

void ex_store_close(ex_store_t *s) {
    if (!s)
        return;
    if (s->db)
        s->db->ops->close(s->db);
    free(s);
}

const char *ex_store_table(const ex_store_t *s) {
    return s->table;
}

bool ex_store_is_pg(const ex_store_t *s) {
#if EX_HAVE_POSTGRES
    return s->db->ops == &ex_db_pg;
#else
    (void)s;
    return false;
#endif
}

long ex_store_exec(ex_store_t *s, const char *sql, int nparams, const char *const *values,
                   void (*row)(int, const char *const *, void *), void *opaque, char *errstr,
                   size_t errstr_size) {
    return s->db->ops->exec(s->db, sql, nparams, values, row, opaque, errstr, errstr_size);
}

long ex_store_exec_typed(ex_store_t *s, const char *sql, int nparams, const ex_param_t *params,
                         void (*row)(int, const char *const *, void *), void *opaque,
                         char *errstr, size_t errstr_size) {
    char num[16][32];
    const char *v[16];
    int i;
    if (s->db->ops->exec_typed)
        return s->db->ops->exec_typed(s->db, sql, nparams, params, row, opaque, errstr,
                                      errstr_size);
    if (nparams > 16) {
        snprintf(errstr, errstr_size, "more than 16 parameters");
        return EX_STORE_BAD;
    }
    for (i = 0; i < nparams; i++) {
        v[i] = params[i].type == EX_P_TEXT ? params[i].text : params[i].type == EX_P_NULL ? NULL : num[i];
        if (params[i].type == EX_P_REAL)
            snprintf(num[i], sizeof(num[i]), "%.17g", params[i].real);
        else if (params[i].type == EX_P_INT)
            snprintf(num[i], sizeof(num[i]), "%" PRId64, params[i].i);
    }
    return s->db->ops->exec(s->db, sql, nparams, v, row, opaque, errstr, errstr_size);
}

/* ------------------------------------------------------------------ rows */

int ex_store_upsert(ex_store_t *s, const vtev_result_event_t *r, double latency_ms,
                    char *errstr, size_t errstr_size) {
    char num[EX_DB_NPARAMS][64];
    const char *v[EX_DB_NPARAMS];
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
    return s->db->ops->upsert(s->db, v, errstr, errstr_size);
}

static long query(ex_store_t *s, const char *sql, void (*row)(const char *, void *), void *opaque,
                  char *errstr, size_t errstr_size) {
    return s->db->ops->query(s->db, sql, row, opaque, errstr, errstr_size);
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
