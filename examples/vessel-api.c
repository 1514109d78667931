/*
 * vessel-api - the platform's HTTP front door: vessel registration and
 * position updates, prediction requests and their results, over
 * libmicrohttpd (http.c: the same port also serves /metrics, /healthz and
 * /readyz).  A position update or a prediction request is stored and
 * published as an event, and answered 202 Accepted at once.
 *
 * Storage is the persister's (store.c: --db, SQLite or PostgreSQL): the
 * tables vessels, prediction_requests and (--outbox) outbox beside the
 * predictions table that prediction-persister fills.
 *
 * Two modes (examples/README.md, doc/vessel-api.1):
 *  - direct (default): in one database transaction the state is written and
 *    the event enqueued on the producer; the transaction commits only when
 *    the enqueue succeeded, so a 202 means the state is stored and the event
 *    is in the producer's queue.  A delivery that fails after that (broker
 *    away longer than message.timeout.ms, a crash before delivery) loses the
 *    event while the state stays: counted as failed, logged.
 *  - outbox (--outbox): the state change and the event (its JSON) go into
 *    one transaction; a relay thread publishes the outbox rows in order and
 *    deletes each after its delivery report.  A 202 means both are committed;
 *    the event reaches the topic at least once, also across crashes and
 *    broker outages (a row published and not yet deleted when the process
 *    dies is published again: the same event_id).
 * Either way a refused request (4xx, 503) stores and publishes nothing, and
 * no request waits without limit: a full producer queue (producer.queue.block.ms
 * is 0 here unless configured) or an outbox over --outbox-max rows is 503
 * with Retry-After.
 */
#include "common.h"
#include "http.h"

#include <ctype.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <malloc.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define API_PREFIX "/api/v1"

/* ------------------------------------------------------------------ state */

typedef struct api_s {
    vtev_producer_t *prod;
    ex_store_t *store;
    pthread_mutex_t mu; /* the store: one connection, one statement at a time */
    ex_stats_t *st;
    bool outbox;
    long outbox_max;
    size_t max_body;
    int retry_after;
    int verbosity;
    atomic_long outbox_rows; /* rows in the outbox table */
    /* responses by status class, for /metrics */
    atomic_uint_fast64_t responses[6];
    atomic_uint_fast64_t unavailable; /* 503 */
    /* the relay (outbox mode) */
    pthread_t relay;
    bool relay_started;
    atomic_int relay_stop;
    pthread_mutex_t rmu; /* done, wake */
    pthread_cond_t wake;
    int64_t *done; /* seqs delivered, to delete */
    size_t done_n, done_cap;
    atomic_int rescan; /* a delivery failed: publish again from the oldest row */
    /* SQL text (table names fixed but the predictions table's) */
    char sql_pred[512];
    /* The round (see "rounds" below): with one HTTP thread (batch), the
     * changes of every request of one round of the event loop go into one
     * transaction, committed by round_end(); each request is answered
     * after that.  round_open and round[] belong to whoever holds mu. */
    bool batch;
    bool round_open;
    struct req_s **round;
    size_t round_n, round_cap;
    atomic_int stopping; /* write requests get 503 from now on */
} api_t;

/* Where a request is: being handled; its change is in the round's open
 * transaction (answered after round_end); its answer is ready in reply. */
enum { REQ_HANDLING, REQ_IN_ROUND, REQ_READY };

typedef struct req_s {
    char *body;
    size_t len, cap;
    bool too_large;
    int phase;
    bool orphan;         /* the connection ended while REQ_IN_ROUND: round_end frees it */
    unsigned int status; /* REQ_READY: the answer */
    char *reply;         /* its body (malloc'd) */
    size_t reply_len;
} req_t;

/* ------------------------------------------------------------------ replies */

/* @p obj (its reference taken) as compact JSON text with a newline at the
 * end, as curl users expect: malloc'd, *len bytes; NULL when out of memory. */
static char *json_text(json_t *obj, size_t *len) {
    char *text = obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15)) : NULL;
    char *t2;
    json_decref(obj);
    if (!text)
        return NULL;
    *len = strlen(text);
    if (!(t2 = realloc(text, *len + 2))) {
        free(text);
        return NULL;
    }
    t2[(*len)++] = '\n';
    t2[*len] = '\0';
    return t2;
}

/* {"error": CODE, "field": PATH, "reason": TEXT} (CONVENTIONS rule 20) as json_text(). */
static char *error_text(const char *code, const char *field, const char *reason, size_t *len) {
    return json_text(json_pack("{s:s, s:s, s:s}", "error", code, "field", field ? field : "",
                               "reason", reason ? reason : ""),
                     len);
}

/* Queues @p text (malloc'd, taken) of @p len bytes as the JSON answer. */
static enum MHD_Result send_text(api_t *api, struct MHD_Connection *conn, unsigned int status,
                                 char *text, size_t len, const char *location) {
    struct MHD_Response *r;
    enum MHD_Result rc;
    if (!text)
        return MHD_NO;
    if (!(r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE))) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (status == 503) {
        char ra[16];
        snprintf(ra, sizeof(ra), "%d", api->retry_after);
        MHD_add_response_header(r, "Retry-After", ra);
        atomic_fetch_add(&api->unavailable, 1);
    }
    if (location)
        MHD_add_response_header(r, "Location", location);
    if (status >= 100 && status < 600)
        atomic_fetch_add(&api->responses[status / 100], 1);
    rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result send_json(api_t *api, struct MHD_Connection *conn, unsigned int status,
                                 json_t *obj, const char *location) {
    size_t len = 0;
    char *text = json_text(obj, &len);
    return send_text(api, conn, status, text, len, location);
}

static enum MHD_Result send_error(api_t *api, struct MHD_Connection *conn, unsigned int status,
                                  const char *code, const char *field, const char *reason) {
    size_t len = 0;
    char *text = error_text(code, field, reason, &len);
    return send_text(api, conn, status, text, len, NULL);
}

/* ------------------------------------------------------------------ input */

/* Whether the request's Content-Type is application/json (any parameters). */
static bool is_json_type(struct MHD_Connection *conn) {
    const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    size_t n = strlen("application/json");
    if (!ct)
        return false;
    while (*ct == ' ')
        ct++;
    return !strncasecmp(ct, "application/json", n) &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

typedef struct bad_s {
    unsigned int status;
    char code[32];
    char field[96];
    char reason[512];
    int line, column; /* 400 only */
} bad_t;

static void bad_set(bad_t *b, unsigned int status, const char *code, const char *field,
                    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

static void bad_set(bad_t *b, unsigned int status, const char *code, const char *field,
                    const char *fmt, ...) {
    va_list ap;
    b->status = status;
    snprintf(b->code, sizeof(b->code), "%s", code);
    snprintf(b->field, sizeof(b->field), "%s", field);
    va_start(ap, fmt);
    vsnprintf(b->reason, sizeof(b->reason), fmt, ap);
    va_end(ap);
}

static enum MHD_Result send_bad(api_t *api, struct MHD_Connection *conn, const bad_t *b) {
    json_t *o = json_pack("{s:s, s:s, s:s}", "error", b->code, "field", b->field, "reason",
                          b->reason);
    if (o && b->status == 400 && b->line > 0) {
        json_object_set_new(o, "line", json_integer(b->line));
        json_object_set_new(o, "column", json_integer(b->column));
    }
    return send_json(api, conn, b->status, o, NULL);
}

/* The body as a JSON object: NULL with *b set (415, 400, 422).  An empty
 * body is {} when @p optional, else 400. */
static json_t *parse_body(struct MHD_Connection *conn, const req_t *rq, bool optional,
                          bad_t *b) {
    json_error_t je;
    json_t *j;
    if (rq->len == 0 && optional)
        return json_object();
    if (!is_json_type(conn)) {
        const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
        bad_set(b, 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type",
                "%s%s%s: the body must be application/json", ct ? "\"" : "",
                ct ? ct : "no Content-Type", ct ? "\"" : "");
        return NULL;
    }
    if (!(j = json_loadb(rq->body ? rq->body : "", rq->len, JSON_REJECT_DUPLICATES, &je))) {
        bad_set(b, 400, "MALFORMED_JSON", "body", "line %d, column %d: %s", je.line, je.column,
                je.text);
        b->line = je.line;
        b->column = je.column;
        return NULL;
    }
    if (!json_is_object(j)) {
        bad_set(b, 422, "INVALID", "body", "expected a JSON object");
        json_decref(j);
        return NULL;
    }
    return j;
}

/* Only the keys in @p allowed (NULL-terminated). */
static bool only_keys(json_t *o, const char *const *allowed, bad_t *b) {
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        size_t i;
        bool ok = false;
        for (i = 0; allowed[i]; i++)
            ok = ok || !strcmp(k, allowed[i]);
        if (!ok) {
            bad_set(b, 422, "INVALID", k, "unknown field");
            return false;
        }
    }
    return true;
}

/* 1 set, 0 absent (or null when !required), -1 wrong type (*b set). */
static int get_number(json_t *o, const char *key, bool required, double *out, bad_t *b) {
    json_t *v = json_object_get(o, key);
    if (!v || (json_is_null(v) && !required)) {
        if (required)
            bad_set(b, 422, "INVALID", key, "required");
        return required ? -1 : 0;
    }
    if (!json_is_number(v)) {
        bad_set(b, 422, "INVALID", key, "expected a number");
        return -1;
    }
    *out = json_number_value(v);
    return 1;
}

static int get_string(json_t *o, const char *key, bool required, char *out, size_t size,
                      bad_t *b) {
    json_t *v = json_object_get(o, key);
    if (!v || (json_is_null(v) && !required)) {
        if (required)
            bad_set(b, 422, "INVALID", key, "required");
        return required ? -1 : 0;
    }
    if (!json_is_string(v)) {
        bad_set(b, 422, "INVALID", key, "expected a string");
        return -1;
    }
    if (json_string_length(v) >= size) {
        bad_set(b, 422, "INVALID", key, "longer than %zu bytes", size - 1);
        return -1;
    }
    if (strlen(json_string_value(v)) != json_string_length(v)) {
        bad_set(b, 422, "INVALID", key, "contains a NUL character");
        return -1;
    }
    snprintf(out, size, "%s", json_string_value(v));
    return 1;
}

/* The body's name of a field the library's validation names. */
static const char *body_field(const char *path) {
    static const struct {
        const char *lib, *body;
    } map[] = {{"data.lat", "current_lat"},     {"data.lon", "current_lon"},
               {"data.speed", "speed"},         {"data.heading", "heading"},
               {"data.status", "status"},       {"vessel_id", "vessel_id"},
               {"data.vessel_snapshot.lat", "current_lat"},
               {"data.vessel_snapshot.lon", "current_lon"},
               {"data.priority", "priority"}};
    size_t i;
    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (!strcmp(path, map[i].lib))
            return map[i].body;
    return path;
}

/* A library validation message "path: reason" as a 422. */
static void bad_from_lib(bad_t *b, const char *errstr) {
    const char *colon = strstr(errstr, ": ");
    char path[96];
    if (colon && (size_t)(colon - errstr) < sizeof(path)) {
        snprintf(path, sizeof(path), "%.*s", (int)(colon - errstr), errstr);
        bad_set(b, 422, "INVALID", body_field(path), "%s", errstr);
    } else {
        bad_set(b, 422, "INVALID", "body", "%s", errstr);
    }
}

/* The vessel_id of a path: 422 when too long (the library checks the rest). */
static bool path_id(const char *s, char *out, size_t size, const char *field, bad_t *b) {
    if (strlen(s) >= size) {
        bad_set(b, 422, "INVALID", field, "longer than %zu bytes", size - 1);
        return false;
    }
    snprintf(out, size, "%s", s);
    return true;
}

/* ------------------------------------------------------------------ store */

static const char *const sql_vessel_get =
    "SELECT vessel_id, name, lat, lon, speed, heading, status, registered_at_us, "
    "updated_at_us, last_event_id, updates FROM vessels WHERE vessel_id = $1";

typedef struct vessel_s {
    bool found;
    char id[VTEV_ID_MAX + 1];
    char name[256];
    bool has_name, has_pos;
    vtev_vessel_state_t s;
    int64_t registered_us, updated_us, updates;
    char last_event_id[VTEV_UUID_LEN + 1];
} vessel_t;

static void row_vessel(int n, const char *const *c, void *opaque) {
    vessel_t *v = opaque;
    if (n < 11)
        return;
    v->found = true;
    snprintf(v->id, sizeof(v->id), "%s", c[0] ? c[0] : "");
    v->has_name = c[1] != NULL;
    snprintf(v->name, sizeof(v->name), "%s", c[1] ? c[1] : "");
    v->has_pos = c[2] && c[3] && c[4] && c[5];
    v->s.lat = c[2] ? strtod(c[2], NULL) : 0;
    v->s.lon = c[3] ? strtod(c[3], NULL) : 0;
    v->s.speed = c[4] ? strtod(c[4], NULL) : 0;
    v->s.heading = c[5] ? strtod(c[5], NULL) : 0;
    snprintf(v->s.status, sizeof(v->s.status), "%s", c[6] ? c[6] : "");
    v->registered_us = c[7] ? strtoll(c[7], NULL, 10) : 0;
    v->updated_us = c[8] ? strtoll(c[8], NULL, 10) : 0;
    snprintf(v->last_event_id, sizeof(v->last_event_id), "%s", c[9] ? c[9] : "");
    v->updates = c[10] ? strtoll(c[10], NULL, 10) : 0;
}

/* The SQL in the placeholders of the back end ($n for PostgreSQL, ?n for SQLite). */
static const char *sql_for(api_t *api, const char *sql, char *buf, size_t size) {
    size_t i, o = 0;
    if (ex_store_is_pg(api->store))
        return sql;
    for (i = 0; sql[i] && o + 1 < size; i++)
        buf[o++] = sql[i] == '$' ? '?' : sql[i];
    buf[o] = '\0';
    return buf;
}

static long db_exec(api_t *api, const char *sql, int n, const char *const *v,
                    void (*row)(int, const char *const *, void *), void *opaque, char *errstr,
                    size_t errstr_size) {
    char buf[1024];
    return ex_store_exec(api->store, sql_for(api, sql, buf, sizeof(buf)), n, v, row, opaque,
                         errstr, errstr_size);
}

/* db_exec() with typed parameters, for a statement that returns no rows. */
static long db_exec_typed(api_t *api, const char *sql, int n, const ex_param_t *p, char *errstr,
                          size_t errstr_size) {
    char buf[1024];
    return ex_store_exec_typed(api->store, sql_for(api, sql, buf, sizeof(buf)), n, p, NULL, NULL,
                               errstr, errstr_size);
}

static int db_begin(api_t *api, char *errstr, size_t errstr_size) {
    return db_exec(api, "BEGIN", 0, NULL, NULL, NULL, errstr, errstr_size) < 0 ? -1 : 0;
}

static int db_commit(api_t *api, char *errstr, size_t errstr_size) {
    return db_exec(api, "COMMIT", 0, NULL, NULL, NULL, errstr, errstr_size) < 0 ? -1 : 0;
}

static void db_rollback(api_t *api) {
    char e[256];
    db_exec(api, "ROLLBACK", 0, NULL, NULL, NULL, e, sizeof(e));
}

static int create_tables(api_t *api, char *errstr, size_t errstr_size) {
    bool pg = ex_store_is_pg(api->store);
    const char *ddl[] = {
        "CREATE TABLE IF NOT EXISTS vessels (vessel_id TEXT PRIMARY KEY, name TEXT, "
        "lat DOUBLE PRECISION, lon DOUBLE PRECISION, speed DOUBLE PRECISION, heading DOUBLE "
        "PRECISION, status TEXT, registered_at_us BIGINT NOT NULL, updated_at_us BIGINT, "
        "last_event_id TEXT, updates BIGINT NOT NULL DEFAULT 0)",
        "CREATE TABLE IF NOT EXISTS prediction_requests (request_id TEXT PRIMARY KEY, "
        "vessel_id TEXT NOT NULL, event_id TEXT NOT NULL, priority TEXT NOT NULL, "
        "terminal_filter BIGINT, requested_at_us BIGINT NOT NULL)",
        pg ? "CREATE TABLE IF NOT EXISTS outbox (seq BIGSERIAL PRIMARY KEY, event_id TEXT NOT "
             "NULL, event_type TEXT NOT NULL, payload TEXT NOT NULL, created_at_us BIGINT NOT "
             "NULL)"
           : "CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
             "event_id TEXT NOT NULL, event_type TEXT NOT NULL, payload TEXT NOT NULL, "
             "created_at_us BIGINT NOT NULL)",
    };
    size_t i;
    for (i = 0; i < sizeof(ddl) / sizeof(ddl[0]); i++)
        if (db_exec(api, ddl[i], 0, NULL, NULL, NULL, errstr, errstr_size) < 0)
            return -1;
    return 0;
}

/* Stores the event in the outbox (outbox mode, inside the transaction). */
static int outbox_put(api_t *api, const vtev_event_t *ev, char *errstr, size_t errstr_size) {
    char *json = NULL, ts[32];
    const char *v[4];
    long n;
    if (vtev_event_to_json(ev, 0, &json, NULL) != VTEV_ERR_OK) {
        snprintf(errstr, errstr_size, "the event could not be written as JSON");
        return -1;
    }
    snprintf(ts, sizeof(ts), "%" PRId64, ex_now_us());
    v[0] = ev->u.env.event_id;
    v[1] = vtev_event_type_name(ev->type);
    v[2] = json;
    v[3] = ts;
    n = db_exec(api,
                "INSERT INTO outbox (event_id, event_type, payload, created_at_us) VALUES ($1, "
                "$2, $3, $4)",
                4, v, NULL, NULL, errstr, errstr_size);
    vtev_free(json);
    return n == 1 ? 0 : -1;
}

/* ------------------------------------------------------------------ publishing */

/* After the state change, inside the transaction: direct mode enqueues the
 * event, outbox mode stores it.  0, or the HTTP status to answer (503, 500,
 * 422) with *b set. */
static unsigned int emit(api_t *api, const vtev_event_t *ev, bad_t *b) {
    char errstr[512];
    vtev_err_t err;
    if (api->outbox) {
        if (atomic_load(&api->outbox_rows) >= api->outbox_max) {
            bad_set(b, 503, "OUTBOX_FULL", "outbox",
                    "%ld events wait for the broker (--outbox-max); retry later",
                    (long)atomic_load(&api->outbox_rows));
            return 503;
        }
        if (outbox_put(api, ev, errstr, sizeof(errstr))) {
            bad_set(b, 503, "DATABASE_UNAVAILABLE", "database", "%s", errstr);
            return 503;
        }
        return 0;
    }
    err = vtev_producer_publish(api->prod, ev, NULL, errstr, sizeof(errstr));
    if (err == VTEV_ERR_OK) {
        atomic_fetch_add(&api->st->published, 1);
        return 0;
    }
    if (err == VTEV_ERR_INVALID) {
        bad_from_lib(b, errstr);
        return 422;
    }
    if (err == VTEV_ERR_QUEUE_FULL || err == VTEV_ERR_REGISTRY_UNAVAILABLE ||
        err == VTEV_ERR_KAFKA || err == VTEV_ERR_STATE) {
        bad_set(b, 503, err == VTEV_ERR_QUEUE_FULL ? "QUEUE_FULL" : "UNAVAILABLE", "producer",
                "%s: %s", vtev_err2name(err), errstr);
        return 503;
    }
    bad_set(b, 500, "PUBLISH_FAILED", "producer", "%s: %s", vtev_err2name(err), errstr);
    return 500;
}

static void on_delivery(vtev_producer_t *p, const vtev_delivery_report_t *dr, void *opaque) {
    api_t *api = opaque;
    int64_t seq = (int64_t)(intptr_t)dr->msg_opaque;
    (void)p;
    if (dr->err != VTEV_ERR_OK) {
        atomic_fetch_add(&api->st->failed, 1);
        if (seq > 0)
            atomic_store(&api->rescan, 1); /* the row stays; published again */
        else
            /* direct mode: the 202 was given; the event is lost (see the top) */
            fprintf(stderr, "vessel-api: event %s NOT delivered: %s: %s\n", dr->event_id,
                    vtev_err2name(dr->err), dr->errstr);
        return;
    }
    atomic_fetch_add(&api->st->delivered, 1);
    if (seq > 0) {
        pthread_mutex_lock(&api->rmu);
        if (api->done_n == api->done_cap) {
            size_t cap = api->done_cap ? api->done_cap * 2 : 1024;
            int64_t *nd = realloc(api->done, cap * sizeof(*nd));
            if (!nd) {
                /* not deleted: published again later (a duplicate, same event_id) */
                pthread_mutex_unlock(&api->rmu);
                return;
            }
            api->done = nd;
            api->done_cap = cap;
        }
        api->done[api->done_n++] = seq;
        pthread_cond_signal(&api->wake);
        pthread_mutex_unlock(&api->rmu);
    }
}

/* ------------------------------------------------------------------ relay */

/* Deletes the delivered rows. */
static void relay_delete(api_t *api) {
    int64_t *d;
    size_t n, i;
    char errstr[512];
    pthread_mutex_lock(&api->rmu);
    d = api->done;
    n = api->done_n;
    api->done = NULL;
    api->done_n = api->done_cap = 0;
    pthread_mutex_unlock(&api->rmu);
    if (!n)
        return;
    pthread_mutex_lock(&api->mu);
    if (db_begin(api, errstr, sizeof(errstr)) == 0) {
        long gone = 0;
        for (i = 0; i < n; i++) {
            char s[32];
            const char *v[1] = {s};
            long r;
            snprintf(s, sizeof(s), "%" PRId64, d[i]);
            r = db_exec(api, "DELETE FROM outbox WHERE seq = $1", 1, v, NULL, NULL, errstr,
                        sizeof(errstr));
            if (r < 0)
                break;
            gone += r;
        }
        if (i == n && db_commit(api, errstr, sizeof(errstr)) == 0) {
            atomic_fetch_sub(&api->outbox_rows, gone);
        } else {
            /* kept: published again later, the same event_id */
            fprintf(stderr, "vessel-api: outbox: delete: %s\n", errstr);
            db_rollback(api);
        }
    }
    pthread_mutex_unlock(&api->mu);
    free(d);
}

typedef struct orow_s {
    int64_t seq;
    char *payload;
} orow_t;

typedef struct obatch_s {
    orow_t r[256];
    size_t n;
} obatch_t;

static void row_outbox(int n, const char *const *c, void *opaque) {
    obatch_t *b = opaque;
    if (n < 2 || !c[0] || !c[1] || b->n == sizeof(b->r) / sizeof(b->r[0]))
        return;
    b->r[b->n].seq = strtoll(c[0], NULL, 10);
    if ((b->r[b->n].payload = strdup(c[1])))
        b->n++;
}

static void *relay_main(void *arg) {
    api_t *api = arg;
    int64_t next = 0; /* rows with seq > next are not yet published */
    char errstr[512];
    int backoff_ms = 0;
    while (!atomic_load(&api->relay_stop)) {
        obatch_t *b;
        char s[32];
        const char *v[1] = {s};
        size_t i;
        long got;
        relay_delete(api);
        if (atomic_load(&api->rescan) && vtev_producer_outstanding(api->prod) == 0) {
            atomic_store(&api->rescan, 0);
            next = 0; /* every row still there: its delivery failed */
        }
        if (backoff_ms) {
            ex_sleep_ms(backoff_ms);
            backoff_ms = 0;
        }
        if (!(b = calloc(1, sizeof(*b)))) {
            ex_sleep_ms(10);
            continue;
        }
        snprintf(s, sizeof(s), "%" PRId64, next);
        pthread_mutex_lock(&api->mu);
        got = db_exec(api, "SELECT seq, payload FROM outbox WHERE seq > $1 ORDER BY seq LIMIT 256",
                      1, v, row_outbox, b, errstr, sizeof(errstr));
        pthread_mutex_unlock(&api->mu);
        if (got < 0) {
            fprintf(stderr, "vessel-api: outbox: %s\n", errstr);
            backoff_ms = 500;
        }
        for (i = 0; i < b->n; i++) {
            vtev_event_t ev;
            vtev_err_t err;
            if (backoff_ms)
                break;
            if (vtev_event_from_json(&ev, b->r[i].payload, strlen(b->r[i].payload), errstr,
                                     sizeof(errstr)) != VTEV_ERR_OK) {
                fprintf(stderr, "vessel-api: outbox row %" PRId64 ": %s (left in the table)\n",
                        b->r[i].seq, errstr);
                next = b->r[i].seq;
                continue;
            }
            err = vtev_producer_publish(api->prod, &ev, (void *)(intptr_t)b->r[i].seq, errstr,
                                        sizeof(errstr));
            vtev_event_clear(&ev);
            if (err == VTEV_ERR_OK) {
                atomic_fetch_add(&api->st->published, 1);
                next = b->r[i].seq;
            } else if (err == VTEV_ERR_INVALID) {
                fprintf(stderr, "vessel-api: outbox row %" PRId64 ": %s (left in the table)\n",
                        b->r[i].seq, errstr);
                next = b->r[i].seq;
            } else {
                /* queue full, registry away: the same row again shortly */
                if (api->verbosity > 0)
                    fprintf(stderr, "vessel-api: outbox: publish: %s: %s\n", vtev_err2name(err),
                            errstr);
                backoff_ms = err == VTEV_ERR_QUEUE_FULL ? 5 : 500;
            }
        }
        for (i = 0; i < b->n; i++)
            free(b->r[i].payload);
        if (b->n == 0 && !backoff_ms) {
            struct timespec ts;
            pthread_mutex_lock(&api->rmu);
            if (api->done_n == 0 && !atomic_load(&api->relay_stop)) {
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += 20 * 1000000L;
                if (ts.tv_nsec >= 1000000000L) {
                    ts.tv_sec++;
                    ts.tv_nsec -= 1000000000L;
                }
                pthread_cond_timedwait(&api->wake, &api->rmu, &ts);
            }
            pthread_mutex_unlock(&api->rmu);
        }
        free(b);
    }
    return NULL;
}

static void relay_wake(api_t *api) {
    pthread_mutex_lock(&api->rmu);
    pthread_cond_signal(&api->wake);
    pthread_mutex_unlock(&api->rmu);
}

/* ------------------------------------------------------------------ rounds */

/* A write request (PUT of a position, POST of an analysis request) runs its
 * statements and its emit() inside a SAVEPOINT of the round's transaction:
 * a refusal (404, 422, 503) rolls back only its own change and is answered
 * at once.  An accepted one waits in the round for the COMMIT, and is
 * answered 202 after it (or 503 when the COMMIT failed): with one HTTP
 * thread (api->batch) the commit is round_end(), after each round of the
 * event loop (http.h), so one transaction carries the requests of all the
 * connections that were ready at once; with --threads N each request is a
 * round of its own.  A 202 therefore still means what it meant with a
 * transaction per request (examples/README.md, "What a 202 promises"). */

/* Joins the open round, or opens one (mu locked, BEGIN).  0, or -1 with
 * errstr (mu not held). */
static int round_begin(api_t *api, char *errstr, size_t errstr_size) {
    if (api->batch && api->round_open)
        return 0; /* batch: only the HTTP thread opens rounds, and holds mu */
    pthread_mutex_lock(&api->mu);
    if (db_begin(api, errstr, errstr_size)) {
        pthread_mutex_unlock(&api->mu);
        return -1;
    }
    api->round_open = true;
    return 0;
}

/* Room in the round for one more request: 0, or -1 (out of memory). */
static int round_reserve(api_t *api) {
    if (api->round_n == api->round_cap) {
        size_t cap = api->round_cap ? api->round_cap * 2 : 64;
        req_t **nr = realloc(api->round, cap * sizeof(*nr));
        if (!nr)
            return -1;
        api->round = nr;
        api->round_cap = cap;
    }
    return 0;
}

/* Commits the open round (none open: nothing) and makes every request of it
 * ready to answer: its 202, or a 503 when the COMMIT failed.  Then mu is
 * released.  The http.h round_end hook in batch mode. */
static void round_end(void *opaque) {
    api_t *api = opaque;
    char errstr[512];
    size_t i, n;
    bool ok;
    if (!api->round_open)
        return;
    ok = db_commit(api, errstr, sizeof(errstr)) == 0;
    if (!ok)
        db_rollback(api);
    n = api->round_n;
    if (ok && api->outbox)
        atomic_fetch_add(&api->outbox_rows, (long)n);
    for (i = 0; i < n; i++) {
        req_t *rq = api->round[i];
        if (rq->orphan) { /* nobody to answer */
            free(rq->reply);
            free(rq->body);
            free(rq);
            continue;
        }
        if (!ok) {
            /* direct mode: the event was enqueued (see the top of the file) */
            free(rq->reply);
            rq->status = 503;
            rq->reply = error_text("DATABASE_UNAVAILABLE", "database", errstr, &rq->reply_len);
        }
        rq->phase = REQ_READY;
    }
    api->round_n = 0;
    api->round_open = false;
    pthread_mutex_unlock(&api->mu);
    if (ok && api->outbox && n)
        relay_wake(api);
}

/* Before a request that reads or writes outside the rounds (GETs, vessel
 * registration): the open round committed, so that it reads only committed
 * state. */
static void round_flush(api_t *api) {
    if (api->batch)
        round_end(api);
}

/* One write request's statements and emit(), in a SAVEPOINT of the round:
 * @p apply returns 0 (its change kept; *reply is its 202 body) or the
 * status to refuse with (*b set; its change rolled back). */
typedef unsigned int (*apply_fn)(api_t *api, void *arg, bad_t *b);

static enum MHD_Result run_in_round(api_t *api, struct MHD_Connection *conn, req_t *rq,
                                    apply_fn apply, void *arg, const char *reply) {
    char errstr[512];
    unsigned int status;
    bad_t b = {0};
    if (atomic_load(&api->stopping))
        return send_error(api, conn, 503, "UNAVAILABLE", "service", "the service is stopping");
    if (round_begin(api, errstr, sizeof(errstr)))
        return send_error(api, conn, 503, "DATABASE_UNAVAILABLE", "database", errstr);
    if (round_reserve(api) ||
        db_exec(api, "SAVEPOINT req", 0, NULL, NULL, NULL, errstr, sizeof(errstr)) < 0) {
        if (!api->batch)
            round_end(api);
        return send_error(api, conn, 503, "DATABASE_UNAVAILABLE", "database", errstr);
    }
    status = apply(api, arg, &b);
    if (status == 0 && !(rq->reply = strdup(reply))) {
        bad_set(&b, 500, "INTERNAL", "reply", "out of memory");
        status = 500;
    }
    if (status) {
        db_exec(api, "ROLLBACK TO req", 0, NULL, NULL, NULL, errstr, sizeof(errstr));
        db_exec(api, "RELEASE req", 0, NULL, NULL, NULL, errstr, sizeof(errstr));
        if (!api->batch)
            round_end(api); /* nothing of this request in it */
        return send_bad(api, conn, &b);
    }
    db_exec(api, "RELEASE req", 0, NULL, NULL, NULL, errstr, sizeof(errstr));
    rq->reply_len = strlen(rq->reply);
    rq->status = 202;
    rq->phase = REQ_IN_ROUND;
    api->round[api->round_n++] = rq;
    if (api->batch)
        return MHD_YES; /* answered in the next round, after round_end() */
    round_end(api);
    rq->phase = REQ_HANDLING;
    {
        char *t = rq->reply;
        rq->reply = NULL;
        return send_text(api, conn, rq->status, t, rq->reply_len, NULL);
    }
}

/* ------------------------------------------------------------------ endpoints */

static json_t *vessel_json(const vessel_t *v) {
    json_t *o = json_object();
    json_object_set_new(o, "vessel_id", json_string(v->id));
    json_object_set_new(o, "name", v->has_name ? json_string(v->name) : json_null());
    json_object_set_new(o, "current_lat", v->has_pos ? json_real(v->s.lat) : json_null());
    json_object_set_new(o, "current_lon", v->has_pos ? json_real(v->s.lon) : json_null());
    json_object_set_new(o, "speed", v->has_pos ? json_real(v->s.speed) : json_null());
    json_object_set_new(o, "heading", v->has_pos ? json_real(v->s.heading) : json_null());
    json_object_set_new(o, "status", v->s.status[0] ? json_string(v->s.status) : json_null());
    json_object_set_new(o, "registered_at_us", json_integer(v->registered_us));
    json_object_set_new(o, "updated_at_us", v->updated_us ? json_integer(v->updated_us) : json_null());
    json_object_set_new(o, "last_event_id",
                        v->last_event_id[0] ? json_string(v->last_event_id) : json_null());
    json_object_set_new(o, "updates", json_integer(v->updates));
    return o;
}

static const char *const state_keys[] = {"current_lat", "current_lon", "speed", "heading",
                                         "status", NULL};

/* The four numbers and the status of a body: 1 all given, 0 none (only
 * when !required), -1 with *b. */
static int body_state(json_t *o, bool required, vtev_vessel_state_t *s, bool *has_status,
                      bad_t *b) {
    int n = 0, r;
    double *dst[4] = {&s->lat, &s->lon, &s->speed, &s->heading};
    size_t i;
    for (i = 0; i < 4; i++) {
        if ((r = get_number(o, state_keys[i], required, dst[i], b)) < 0)
            return -1;
        n += r;
    }
    if (n != 0 && n != 4) {
        for (i = 0; i < 4; i++)
            if (!json_object_get(o, state_keys[i]) || json_is_null(json_object_get(o, state_keys[i]))) {
                bad_set(b, 422, "INVALID", state_keys[i],
                        "required with the other position fields");
                return -1;
            }
    }
    if ((r = get_string(o, "status", false, s->status, sizeof(s->status), b)) < 0)
        return -1;
    *has_status = r == 1;
    return n == 4 ? 1 : 0;
}

/* POST /api/v1/vessels */
static enum MHD_Result do_register(api_t *api, struct MHD_Connection *conn, const req_t *rq) {
    static const char *const keys[] = {"vessel_id", "name", "current_lat", "current_lon",
                                       "speed", "heading", "status", NULL};
    bad_t b = {0};
    json_t *j = parse_body(conn, rq, false, &b);
    vtev_position_event_t pe;
    vessel_t v;
    bool has_status = false;
    int has_pos;
    char errstr[512], num[4][32], now[32], loc[128];
    const char *vals[9];
    long n;

    memset(&v, 0, sizeof(v));
    if (!j)
        return send_bad(api, conn, &b);
    if (!only_keys(j, keys, &b) ||
        get_string(j, "vessel_id", true, v.id, sizeof(v.id), &b) < 0 ||
        get_string(j, "name", false, v.name, sizeof(v.name), &b) < 0 ||
        (has_pos = body_state(j, false, &v.s, &has_status, &b)) < 0) {
        json_decref(j);
        return send_bad(api, conn, &b);
    }
    v.has_name = json_object_get(j, "name") && !json_is_null(json_object_get(j, "name"));
    json_decref(j);
    /* the library's rules for the id and the state (a stand-in state when none) */
    if (vtev_position_init(&pe) != VTEV_ERR_OK)
        return send_error(api, conn, 500, "INTERNAL", "event_id", "no randomness");
    snprintf(pe.env.vessel_id, sizeof(pe.env.vessel_id), "%s", v.id);
    if (has_pos)
        pe.data = v.s;
    snprintf(pe.data.status, sizeof(pe.data.status), "%s", has_status ? v.s.status : "registered");
    if (vtev_position_validate(&pe, errstr, sizeof(errstr)) != VTEV_ERR_OK) {
        vtev_position_clear(&pe);
        bad_from_lib(&b, errstr);
        return send_bad(api, conn, &b);
    }
    vtev_position_clear(&pe);
    v.has_pos = has_pos == 1;
    v.registered_us = ex_now_us();
    snprintf(now, sizeof(now), "%" PRId64, v.registered_us);
    snprintf(num[0], 32, "%.17g", v.s.lat);
    snprintf(num[1], 32, "%.17g", v.s.lon);
    snprintf(num[2], 32, "%.17g", v.s.speed);
    snprintf(num[3], 32, "%.17g", v.s.heading);
    vals[0] = v.id;
    vals[1] = v.has_name ? v.name : NULL;
    vals[2] = v.has_pos ? num[0] : NULL;
    vals[3] = v.has_pos ? num[1] : NULL;
    vals[4] = v.has_pos ? num[2] : NULL;
    vals[5] = v.has_pos ? num[3] : NULL;
    vals[6] = has_status ? v.s.status : NULL;
    vals[7] = now;
    round_flush(api);
    pthread_mutex_lock(&api->mu);
    n = db_exec(api,
                "INSERT INTO vessels (vessel_id, name, lat, lon, speed, heading, status, "
                "registered_at_us) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT "
                "(vessel_id) DO NOTHING",
                8, vals, NULL, NULL, errstr, sizeof(errstr));
    pthread_mutex_unlock(&api->mu);
    if (n < 0)
        return send_error(api, conn, 503, "DATABASE_UNAVAILABLE", "database", errstr);
    if (n == 0)
        return send_error(api, conn, 409, "CONFLICT", "vessel_id", "the vessel is registered already");
    if (!has_status)
        v.s.status[0] = '\0';
    snprintf(loc, sizeof(loc), API_PREFIX "/vessels/%s", v.id);
    return send_json(api, conn, 201, vessel_json(&v), loc);
}

/* GET /api/v1/vessels/{id} */
static enum MHD_Result do_get_vessel(api_t *api, struct MHD_Connection *conn, const char *id) {
    vessel_t v;
    char errstr[512];
    const char *vals[1] = {id};
    long n;
    memset(&v, 0, sizeof(v));
    round_flush(api);
    pthread_mutex_lock(&api->mu);
    n = db_exec(api, sql_vessel_get, 1, vals, row_vessel, &v, errstr, sizeof(errstr));
    pthread_mutex_unlock(&api->mu);
    if (n < 0)
        return send_error(api, conn, 503, "DATABASE_UNAVAILABLE", "database", errstr);
    if (!v.found)
        return send_error(api, conn, 404, "NOT_FOUND", "vessel_id", "no such vessel");
    return send_json(api, conn, 200, vessel_json(&v), NULL);
}

/* A correlation id: the request's X-Correlation-ID (when it fits), else new. */
static void correlation(struct MHD_Connection *conn, char *buf, size_t size) {
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Correlation-ID");
    if (h && *h && strlen(h) < size && strlen(h) <= 128)
        snprintf(buf, size, "%s", h);
    else
        ex_new_correlation_id(buf, size);
}

static void row_status(int n, const char *const *c, void *opaque) {
    if (n > 0 && c[0])
        snprintf(opaque, VTEV_STATUS_MAX + 1, "%s", c[0]);
}

typedef struct put_s {
    vtev_event_t *ev;
    const ex_param_t *params; /* the UPDATE's */
} put_t;

/* PUT's change (apply_fn): the state, then the event carrying the stored
 * status (the status stays when the update has none; read back then, in
 * the same transaction: cheaper than RETURNING, which SQLite runs through
 * a temporary table). */
static unsigned int put_apply(api_t *api, void *arg, bad_t *b) {
    put_t *a = arg;
    vtev_position_event_t *pe = &a->ev->u.position;
    char errstr[512], stored[VTEV_STATUS_MAX + 1] = "";
    const char *id[1] = {a->params[0].text};
    long n = db_exec_typed(api,
                           "UPDATE vessels SET lat = $2, lon = $3, speed = $4, heading = $5, "
                           "status = COALESCE($6, status, 'underway'), updated_at_us = $7, "
                           "last_event_id = $8, updates = updates + 1 WHERE vessel_id = $1",
                           8, a->params, errstr, sizeof(errstr));
    if (n == 1 && a->params[5].type == EX_P_NULL)
        n = db_exec(api, "SELECT status FROM vessels WHERE vessel_id = $1", 1, id, row_status,
                    stored, errstr, sizeof(errstr));
    if (n == 0) {
        bad_set(b, 404, "NOT_FOUND", "vessel_id", "no such vessel");
        return 404;
    }
    if (n != 1) {
        bad_set(b, 503, "DATABASE_UNAVAILABLE", "database", "%s", errstr);
        return 503;
    }
    if (stored[0])
        snprintf(pe->data.status, sizeof(pe->data.status), "%s", stored);
    return emit(api, a->ev, b);
}

/* PUT /api/v1/vessels/{id} */
static enum MHD_Result do_update(api_t *api, struct MHD_Connection *conn, const char *id,
                                 req_t *rq) {
    bad_t b = {0};
    json_t *j = parse_body(conn, rq, false, &b);
    vtev_event_t ev;
    vtev_position_event_t *pe = &ev.u.position;
    vtev_vessel_state_t s;
    vtev_metadata_t *md;
    bool has_status = false;
    char errstr[512], corr[160];

    memset(&s, 0, sizeof(s));
    if (!j)
        return send_bad(api, conn, &b);
    if (!only_keys(j, state_keys, &b) || body_state(j, true, &s, &has_status, &b) < 0) {
        json_decref(j);
        return send_bad(api, conn, &b);
    }
    json_decref(j);
    if (vtev_event_init(&ev, VTEV_EVENT_POSITION) != VTEV_ERR_OK)
        return send_error(api, conn, 500, "INTERNAL", "event_id", "no randomness");
    if (!path_id(id, pe->env.vessel_id, sizeof(pe->env.vessel_id), "vessel_id", &b)) {
        vtev_event_clear(&ev);
        return send_bad(api, conn, &b);
    }
    pe->data = s;
    correlation(conn, corr, sizeof(corr));
    if (!(md = vtev_envelope_metadata(&pe->env)) ||
        vtev_metadata_set_string(md, "correlation_id", corr) ||
        vtev_metadata_set_string(md, "source", "vessel-api")) {
        vtev_event_clear(&ev);
        return send_error(api, conn, 500, "INTERNAL", "metadata", "out of memory");
    }
    if (!has_status)
        snprintf(pe->data.status, sizeof(pe->data.status), "underway"); /* checked below */
    if (vtev_position_validate(pe, errstr, sizeof(errstr)) != VTEV_ERR_OK) {
        vtev_event_clear(&ev);
        bad_from_lib(&b, errstr);
        return send_bad(api, conn, &b);
    }
    {
        const ex_param_t params[8] = {
            {EX_P_TEXT, pe->env.vessel_id, 0, 0},
            {EX_P_REAL, NULL, s.lat, 0},
            {EX_P_REAL, NULL, s.lon, 0},
            {EX_P_REAL, NULL, s.speed, 0},
            {EX_P_REAL, NULL, s.heading, 0},
            {has_status ? EX_P_TEXT : EX_P_NULL, has_status ? s.status : NULL, 0, 0},
            {EX_P_INT, NULL, 0, pe->env.timestamp_us},
            {EX_P_TEXT, pe->env.event_id, 0, 0}};
        put_t a = {&ev, params};
        char reply[128];
        enum MHD_Result rc;
        snprintf(reply, sizeof(reply), "{\"status\":\"accepted\",\"event_id\":\"%s\"}\n",
                 pe->env.event_id);
        rc = run_in_round(api, conn, rq, put_apply, &a, reply);
        vtev_event_clear(&ev);
        return rc;
    }
}

/* POST analyze's change (apply_fn): the stored snapshot into the request
 * event, the request row, the event. */
static unsigned int analyze_apply(api_t *api, void *arg, bad_t *b) {
    vtev_event_t *ev = arg;
    vtev_request_event_t *re = &ev->u.request;
    vtev_metadata_t *md = vtev_envelope_metadata(&re->env);
    vessel_t v;
    char errstr[512], tf[32], ts[32];
    const char *vals[6];
    long n;
    memset(&v, 0, sizeof(v));
    vals[0] = re->env.vessel_id;
    n = db_exec(api, sql_vessel_get, 1, vals, row_vessel, &v, errstr, sizeof(errstr));
    if (n < 0) {
        bad_set(b, 503, "DATABASE_UNAVAILABLE", "database", "%s", errstr);
        return 503;
    }
    if (!v.found) {
        bad_set(b, 404, "NOT_FOUND", "vessel_id", "no such vessel");
        return 404;
    }
    if (!v.has_pos) {
        bad_set(b, 409, "NO_POSITION", "vessel_id", "the vessel has no position yet (PUT one first)");
        return 409;
    }
    re->data.vessel_snapshot = v.s;
    if (!re->data.vessel_snapshot.status[0])
        snprintf(re->data.vessel_snapshot.status, sizeof(re->data.vessel_snapshot.status),
                 "underway");
    if (v.last_event_id[0] && md)
        vtev_metadata_set_string(md, "position_event_id", v.last_event_id);
    if (vtev_request_validate(re, errstr, sizeof(errstr)) != VTEV_ERR_OK) {
        bad_from_lib(b, errstr);
        return 422;
    }
    snprintf(tf, sizeof(tf), "%" PRId64, re->data.terminal_filter);
    snprintf(ts, sizeof(ts), "%" PRId64, re->env.timestamp_us);
    vals[0] = re->request_id;
    vals[1] = re->env.vessel_id;
    vals[2] = re->env.event_id;
    vals[3] = vtev_priority_name(re->data.priority);
    vals[4] = re->data.has_terminal_filter ? tf : NULL;
    vals[5] = ts;
    n = db_exec(api,
                "INSERT INTO prediction_requests (request_id, vessel_id, event_id, priority, "
                "terminal_filter, requested_at_us) VALUES ($1, $2, $3, $4, $5, $6)",
                6, vals, NULL, NULL, errstr, sizeof(errstr));
    if (n != 1) {
        bad_set(b, 503, "DATABASE_UNAVAILABLE", "database", "%s", errstr);
        return 503;
    }
    return emit(api, ev, b);
}

/* POST /api/v1/predictions/analyze/{id} */
static enum MHD_Result do_analyze(api_t *api, struct MHD_Connection *conn, const char *id,
                                  req_t *rq) {
    static const char *const keys[] = {"priority", "terminal_filter", NULL};
    bad_t b = {0};
    json_t *j = parse_body(conn, rq, true, &b), *jv;
    vtev_event_t ev;
    vtev_request_event_t *re = &ev.u.request;
    vtev_metadata_t *md;
    char corr[160], prio[16] = "normal";

    if (!j)
        return send_bad(api, conn, &b);
    if (!only_keys(j, keys, &b) || get_string(j, "priority", false, prio, sizeof(prio), &b) < 0) {
        json_decref(j);
        return send_bad(api, conn, &b);
    }
    if (vtev_event_init(&ev, VTEV_EVENT_REQUEST) != VTEV_ERR_OK) {
        json_decref(j);
        return send_error(api, conn, 500, "INTERNAL", "event_id", "no randomness");
    }
    if (!strcmp(prio, "low"))
        re->data.priority = VTEV_PRIORITY_LOW;
    else if (!strcmp(prio, "high"))
        re->data.priority = VTEV_PRIORITY_HIGH;
    else if (strcmp(prio, "normal")) {
        json_decref(j);
        vtev_event_clear(&ev);
        bad_set(&b, 422, "INVALID", "priority", "\"%s\" is not one of low, normal, high", prio);
        return send_bad(api, conn, &b);
    }
    if ((jv = json_object_get(j, "terminal_filter")) && !json_is_null(jv)) {
        if (!json_is_integer(jv)) {
            json_decref(j);
            vtev_event_clear(&ev);
            bad_set(&b, 422, "INVALID", "terminal_filter", "expected an integer");
            return send_bad(api, conn, &b);
        }
        re->data.has_terminal_filter = true;
        re->data.terminal_filter = (int64_t)json_integer_value(jv);
    }
    json_decref(j);
    if (!path_id(id, re->env.vessel_id, sizeof(re->env.vessel_id), "vessel_id", &b)) {
        vtev_event_clear(&ev);
        return send_bad(api, conn, &b);
    }
    /* a request id as unique as the event id */
    snprintf(re->request_id, sizeof(re->request_id), "req-%s", re->env.event_id);
    correlation(conn, corr, sizeof(corr));
    if (!(md = vtev_envelope_metadata(&re->env)) ||
        vtev_metadata_set_string(md, "correlation_id", corr) ||
        vtev_metadata_set_string(md, "source", "vessel-api")) {
        vtev_event_clear(&ev);
        return send_error(api, conn, 500, "INTERNAL", "metadata", "out of memory");
    }
    {
        char reply[256];
        enum MHD_Result rc;
        snprintf(reply, sizeof(reply),
                 "{\"status\":\"accepted\",\"request_id\":\"%s\",\"event_id\":\"%s\"}\n",
                 re->request_id, re->env.event_id);
        rc = run_in_round(api, conn, rq, analyze_apply, &ev, reply);
        vtev_event_clear(&ev);
        return rc;
    }
}

typedef struct preds_s {
    json_t *arr;
    bool request_known;
    char vessel_id[VTEV_ID_MAX + 1];
} preds_t;

static json_t *num_or_null(const char *s) { return s ? json_real(strtod(s, NULL)) : json_null(); }

static void row_pred(int n, const char *const *c, void *opaque) {
    preds_t *p = opaque;
    json_t *o;
    if (n < 11)
        return;
    o = json_object();
    json_object_set_new(o, "prediction_id", json_string(c[0] ? c[0] : ""));
    json_object_set_new(o, "terminal_id", json_integer(c[1] ? strtoll(c[1], NULL, 10) : 0));
    json_object_set_new(o, "terminal_name", json_string(c[2] ? c[2] : ""));
    json_object_set_new(o, "confidence_score", num_or_null(c[3]));
    json_object_set_new(o, "proximity_score", num_or_null(c[4]));
    json_object_set_new(o, "speed_score", num_or_null(c[5]));
    json_object_set_new(o, "heading_score", num_or_null(c[6]));
    json_object_set_new(o, "distance_km", num_or_null(c[7]));
    json_object_set_new(o, "eta_hours", num_or_null(c[8]));
    json_object_set_new(o, "ai_reasoning", c[9] ? json_string(c[9]) : json_null());
    json_object_set_new(o, "event_id", c[10] ? json_string(c[10]) : json_null());
    if (!p->vessel_id[0] && n > 11 && c[11])
        snprintf(p->vessel_id, sizeof(p->vessel_id), "%s", c[11]);
    json_array_append_new(p->arr, o);
}

static void row_req(int n, const char *const *c, void *opaque) {
    preds_t *p = opaque;
    p->request_known = true;
    if (n > 0 && c[0])
        snprintf(p->vessel_id, sizeof(p->vessel_id), "%s", c[0]);
}

/* GET /api/v1/predictions/{request_id} */
static enum MHD_Result do_get_predictions(api_t *api, struct MHD_Connection *conn,
                                          const char *rid) {
    preds_t p;
    char errstr[512];
    const char *vals[1] = {rid};
    long n, m = 0;
    memset(&p, 0, sizeof(p));
    if (!(p.arr = json_array()))
        return MHD_NO;
    round_flush(api);
    pthread_mutex_lock(&api->mu);
    n = db_exec(api, api->sql_pred, 1, vals, row_pred, &p, errstr, sizeof(errstr));
    if (n == 0)
        m = db_exec(api, "SELECT vessel_id FROM prediction_requests WHERE request_id = $1", 1,
                    vals, row_req, &p, errstr, sizeof(errstr));
    pthread_mutex_unlock(&api->mu);
    if (n < 0 || m < 0) {
        json_decref(p.arr);
        return send_error(api, conn, 503, "DATABASE_UNAVAILABLE", "database", errstr);
    }
    if (n > 0)
        return send_json(api, conn, 200,
                         json_pack("{s:s, s:s, s:s, s:i, s:o}", "status", "completed",
                                   "request_id", rid, "vessel_id", p.vessel_id, "count", (int)n,
                                   "predictions", p.arr),
                         NULL);
    json_decref(p.arr);
    if (!p.request_known)
        return send_error(api, conn, 404, "NOT_FOUND", "request_id", "no such request");
    return send_json(api, conn, 202,
                     json_pack("{s:s, s:s, s:s}", "status", "pending", "request_id", rid,
                               "vessel_id", p.vessel_id),
                     NULL);
}

/* ------------------------------------------------------------------ routing */

static enum MHD_Result not_allowed(api_t *api, struct MHD_Connection *conn, const char *allow) {
    char reason[128];
    snprintf(reason, sizeof(reason), "this path takes %s", allow);
    return send_error(api, conn, 405, "METHOD_NOT_ALLOWED", "method", reason);
}

/* The one path segment after prefix in url ("prefix/ID" with a non-empty ID
 * and no further '/'), or NULL. */
static const char *url_segment(const char *url, const char *prefix) {
    size_t n = strlen(prefix), i;
    if (strncmp(url, prefix, n) || !url[n])
        return NULL;
    for (i = n; url[i]; i++)
        if (url[i] == '/')
            return NULL;
    return url + n;
}

static enum MHD_Result route(api_t *api, struct MHD_Connection *conn, const char *url,
                             const char *method, req_t *rq) {
    const char *p;
    if (!strcmp(url, API_PREFIX "/vessels")) {
        if (strcmp(method, "POST"))
            return not_allowed(api, conn, "POST");
        return do_register(api, conn, rq);
    }
    if ((p = url_segment(url, API_PREFIX "/vessels/"))) {
        if (!strcmp(method, "PUT"))
            return do_update(api, conn, p, rq);
        if (!strcmp(method, "GET"))
            return do_get_vessel(api, conn, p);
        return not_allowed(api, conn, "GET and PUT");
    }
    if ((p = url_segment(url, API_PREFIX "/predictions/analyze/"))) {
        if (strcmp(method, "POST"))
            return not_allowed(api, conn, "POST");
        return do_analyze(api, conn, p, rq);
    }
    if ((p = url_segment(url, API_PREFIX "/predictions/"))) {
        if (strcmp(method, "GET"))
            return not_allowed(api, conn, "GET");
        return do_get_predictions(api, conn, p);
    }
    return send_error(api, conn, 404, "NOT_FOUND", "path",
                      "served: " API_PREFIX "/vessels, " API_PREFIX "/vessels/{vessel_id}, "
                      API_PREFIX "/predictions/analyze/{vessel_id}, " API_PREFIX
                      "/predictions/{request_id}, /metrics, /healthz, /readyz");
}

static int on_request(void *opaque, struct MHD_Connection *conn, const char *url,
                      const char *method, const char *upload_data, size_t *upload_data_size,
                      void **req_cls) {
    api_t *api = opaque;
    req_t *rq = *req_cls;
    if (rq && rq->phase == REQ_IN_ROUND)
        return MHD_YES; /* not committed yet: libmicrohttpd calls again */
    if (rq && rq->phase == REQ_READY) { /* committed (or not) by round_end() */
        char *t = rq->reply;
        rq->reply = NULL;
        rq->phase = REQ_HANDLING;
        return send_text(api, conn, rq->status, t, rq->reply_len, NULL);
    }
    if (!rq) { /* headers only */
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (!(rq = calloc(1, sizeof(*rq))))
            return MHD_NO;
        *req_cls = rq;
        if (cl && strtoull(cl, NULL, 10) > api->max_body) {
            /* answered before the body is read; libmicrohttpd then closes */
            char reason[128];
            rq->too_large = true;
            snprintf(reason, sizeof(reason), "%s bytes; at most %zu (--max-body)", cl,
                     api->max_body);
            return send_error(api, conn, 413, "PAYLOAD_TOO_LARGE", "body", reason);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (rq->too_large || rq->len + n > api->max_body) {
            rq->too_large = true; /* the rest is read and dropped */
            return MHD_YES;
        }
        if (rq->len + n + 1 > rq->cap) {
            size_t cap = rq->cap ? rq->cap : 512; /* a small chunk (glibc: no consolidation) */
            char *nb;
            while (cap < rq->len + n + 1)
                cap *= 2;
            if (!(nb = realloc(rq->body, cap)))
                return MHD_NO;
            rq->body = nb;
            rq->cap = cap;
        }
        memcpy(rq->body + rq->len, upload_data, n);
        rq->len += n;
        rq->body[rq->len] = '\0';
        return MHD_YES;
    }
    if (rq->too_large) {
        char reason[128];
        snprintf(reason, sizeof(reason), "more than %zu bytes (--max-body)", api->max_body);
        return send_error(api, conn, 413, "PAYLOAD_TOO_LARGE", "body", reason);
    }
    return route(api, conn, url, method, rq);
}

static void on_done(void *opaque, void *req) {
    req_t *rq = req;
    (void)opaque;
    if (rq->phase == REQ_IN_ROUND) { /* the client went away: round_end() frees it */
        rq->orphan = true;
        return;
    }
    free(rq->reply);
    free(rq->body);
    free(rq);
}

/* ------------------------------------------------------------------ metrics */

static int api_metrics(char **b, size_t *len, size_t *cap, void *opaque) {
    api_t *api = opaque;
    static const char *const kinds[] = {"published", "delivered", "failed"};
    uint64_t v[3];
    int i;
    v[0] = atomic_load(&api->st->published);
    v[1] = atomic_load(&api->st->delivered);
    v[2] = atomic_load(&api->st->failed);
    if (ex_http_appendf(b, len, cap,
                        "# HELP vt_service_events_total What the example service did: events "
                        "published, delivered, failed.\n"
                        "# TYPE vt_service_events_total counter\n"))
        return -1;
    for (i = 0; i < 3; i++)
        if (ex_http_appendf(b, len, cap,
                            "vt_service_events_total{service=\"vessel-api\",kind=\"%s\"} %llu\n",
                            kinds[i], (unsigned long long)v[i]))
            return -1;
    if (ex_http_appendf(b, len, cap,
                        "# HELP vt_api_responses_total API responses by status class.\n"
                        "# TYPE vt_api_responses_total counter\n"))
        return -1;
    for (i = 2; i <= 5; i++)
        if (ex_http_appendf(b, len, cap, "vt_api_responses_total{class=\"%dxx\"} %llu\n", i,
                            (unsigned long long)atomic_load(&api->responses[i])))
            return -1;
    return ex_http_appendf(b, len, cap,
                           "# HELP vt_api_unavailable_total 503 answers (full producer queue or "
                           "outbox, database or registry away).\n"
                           "# TYPE vt_api_unavailable_total counter\n"
                           "vt_api_unavailable_total %llu\n"
                           "# HELP vt_api_outbox_rows Events in the outbox, not yet delivered "
                           "(--outbox).\n"
                           "# TYPE vt_api_outbox_rows gauge\n"
                           "vt_api_outbox_rows %ld\n",
                           (unsigned long long)atomic_load(&api->unavailable),
                           (long)atomic_load(&api->outbox_rows));
}

/* ------------------------------------------------------------------ main */

static void row_count(int n, const char *const *c, void *opaque) {
    if (n > 0 && c[0])
        *(long *)opaque = strtol(c[0], NULL, 10);
}

static const char usage[] =
    "usage: vessel-api [OPTIONS]\n"
    "The platform's HTTP API: vessel registration and position updates, prediction\n"
    "requests and their results; updates and requests are published as events and\n"
    "answered 202 Accepted.\n\n"
    "  --db DB           SQLite file (default predictions.db; also sqlite:PATH) or\n"
    "                    postgresql://user@host:port/dbname (prediction-persister's)\n"
    "  --table NAME      the persister's predictions table (default predictions)\n"
    "  --outbox          transactional outbox: state and event in one transaction,\n"
    "                    a relay publishes and deletes the rows after delivery\n"
    "  --outbox-max N    503 while the outbox holds N rows or more (default 100000)\n"
    "  --max-body BYTES  larger request bodies get 413 (default 65536)\n"
    "  --threads N       HTTP threads (default 1)\n"
    "  --retry-after S   the Retry-After of a 503, seconds (default 1)\n"
    "  (--http HOST:PORT: the API with /metrics, /healthz and /readyz; default 127.0.0.1:8080)\n"
    EX_COMMON_USAGE;

static bool parse_long(const char *opt, const char *arg, long lo, long hi, long *out) {
    char *end;
    long v = strtol(arg, &end, 10);
    if (!*arg || *end || v < lo || v > hi) {
        fprintf(stderr, "vessel-api: %s %s: expected an integer %ld-%ld\n", opt, arg, lo, hi);
        return false;
    }
    *out = v;
    return true;
}

int main(int argc, char **argv) {
    static const struct option longopts[] = {
        EX_HTTP_LONGOPT,
        {"db", required_argument, NULL, 1000},
        {"table", required_argument, NULL, 1001},
        {"outbox", no_argument, NULL, 1002},
        {"outbox-max", required_argument, NULL, 1003},
        {"max-body", required_argument, NULL, 1004},
        {"threads", required_argument, NULL, 1005},
        {"retry-after", required_argument, NULL, 1006},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    ex_cli_t cli = {0};
    ex_stats_t st = {0};
    api_t *api;
    ex_http_t *http = NULL;
    ex_http_app_t app;
    const char *db = NULL, *table = NULL;
    long threads = 1, v;
    char errstr[512], buf[64];
    vtev_conf_t *conf;
    int c, r, rc = 0;
    size_t undelivered = 0;

    /* glibc would give the heap's top back after each request and grow it
     * again on the next (a trim, then page faults): about a tenth of the
     * throughput in bench/api; keep up to 64 MiB */
    mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
    mallopt(M_TOP_PAD, 16 * 1024 * 1024);
    if (!(api = calloc(1, sizeof(*api))))
        return 1;
    api->outbox_max = 100000;
    api->max_body = 65536;
    api->retry_after = 1;
    api->st = &st;
    while ((c = getopt_long(argc, argv, EX_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if ((r = ex_cli_opt(&cli, c, optarg, "vessel-api", usage)) == 1)
            continue;
        if (r < 0)
            return 2;
        switch (c) {
        case 1000: db = optarg; break;
        case 1001: table = optarg; break;
        case 1002: api->outbox = true; break;
        case 1003:
            if (!parse_long("--outbox-max", optarg, 1, 100000000, &api->outbox_max))
                return 2;
            break;
        case 1004:
            if (!parse_long("--max-body", optarg, 16, 64L * 1024 * 1024, &v))
                return 2;
            api->max_body = (size_t)v;
            break;
        case 1005:
            if (!parse_long("--threads", optarg, 1, 64, &threads))
                return 2;
            break;
        case 1006:
            if (!parse_long("--retry-after", optarg, 0, 3600, &v))
                return 2;
            api->retry_after = (int)v;
            break;
        default: fputs(usage, stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "vessel-api: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    api->verbosity = cli.verbosity;
    if (!cli.http)
        cli.http = "127.0.0.1:8080";
    if (ex_store_check(db, errstr, sizeof(errstr))) {
        fprintf(stderr, "vessel-api: %s: %s\n", db && *db ? "--db" : "the default --db predictions.db",
                errstr);
        return 2;
    }
    if (!(conf = ex_cli_conf(&cli, errstr, sizeof(errstr)))) {
        fprintf(stderr, "vessel-api: %s\n", errstr);
        return 2;
    }
    /* a request never waits for room in the producer's queue: 503 instead.
     * The producer keeps the library's default profile (linger.ms=5), not
     * the other services' low-latency one: a 202 does not wait for the
     * delivery, and batches keep the broker's load (and so the API's own
     * latency on a shared machine) low. */
    ex_conf_str(conf, "producer.queue.block.ms", buf, sizeof(buf));
    if (!buf[0] && ex_conf_set(conf, "producer.queue.block.ms", "0", errstr, sizeof(errstr))) {
        fprintf(stderr, "vessel-api: %s\n", errstr);
        vtev_conf_destroy(conf);
        return 2;
    }
    /* Batches of up to 50 ms (kafka.linger.ms; the library's default
     * profile has 5) unless another linger or profile is configured: no
     * answer waits for a delivery, and at thousands of requests a second
     * fewer and larger batches cost the broker and the producer's gzip far
     * less per event (doc/PERFORMANCE.md, "HTTP front"). */
    {
        if (vtev_conf_is_set(conf, "kafka.linger.ms") != 1 &&
            vtev_conf_is_set(conf, "kafka.queue.buffering.max.ms") != 1 &&
            vtev_conf_is_set(conf, "producer.profile") != 1 &&
            ex_conf_set(conf, "kafka.linger.ms", "50", errstr, sizeof(errstr))) {
            fprintf(stderr, "vessel-api: %s\n", errstr);
            vtev_conf_destroy(conf);
            return 2;
        }
        /* gzip level 1 unless configured: on the API's events about 0.4x
         * the CPU of zlib's default level 6 for about 10 % more bytes
         * (doc/PERFORMANCE.md, "HTTP front") */
        if (vtev_conf_is_set(conf, "kafka.compression.level") != 1 &&
            ex_conf_set(conf, "kafka.compression.level", "1", errstr, sizeof(errstr))) {
            fprintf(stderr, "vessel-api: %s\n", errstr);
            vtev_conf_destroy(conf);
            return 2;
        }
    }
    pthread_mutex_init(&api->mu, NULL);
    pthread_mutex_init(&api->rmu, NULL);
    pthread_cond_init(&api->wake, NULL);
    if (!(api->store = ex_store_open(db, table, errstr, sizeof(errstr)))) {
        fprintf(stderr, "vessel-api: %s\n", errstr);
        vtev_conf_destroy(conf);
        return 1;
    }
    snprintf(api->sql_pred, sizeof(api->sql_pred),
             "SELECT prediction_id, terminal_id, terminal_name, confidence_score, "
             "proximity_score, speed_score, heading_score, distance_km, eta_hours, "
             "ai_reasoning, event_id, vessel_id FROM %s WHERE request_id = $1 ORDER BY "
             "confidence_score DESC, terminal_id",
             ex_store_table(api->store));
    if (create_tables(api, errstr, sizeof(errstr))) {
        fprintf(stderr, "vessel-api: %s\n", errstr);
        vtev_conf_destroy(conf);
        ex_store_close(api->store);
        return 1;
    }
    {
        long rows = 0;
        if (db_exec(api, "SELECT COUNT(*) FROM outbox", 0, NULL, row_count, &rows, errstr,
                    sizeof(errstr)) < 0) {
            fprintf(stderr, "vessel-api: %s\n", errstr);
            vtev_conf_destroy(conf);
            ex_store_close(api->store);
            return 1;
        }
        atomic_store(&api->outbox_rows, rows);
        if (rows > 0 && cli.verbosity >= 0)
            fprintf(stderr, "vessel-api: %ld events in the outbox from before%s\n", rows,
                    api->outbox ? ": publishing them" : " (published only with --outbox)");
    }
    if (!(api->prod = vtev_producer_new(conf, errstr, sizeof(errstr)))) {
        fprintf(stderr, "vessel-api: %s\n", errstr);
        vtev_conf_destroy(conf);
        ex_store_close(api->store);
        return 1;
    }
    vtev_producer_set_dr_cb(api->prod, on_delivery, api);
    if (api->outbox) {
        if (pthread_create(&api->relay, NULL, relay_main, api)) {
            fprintf(stderr, "vessel-api: cannot start the outbox relay\n");
            vtev_producer_destroy(api->prod);
            ex_store_close(api->store);
            return 1;
        }
        api->relay_started = true;
    }
    ex_stop_on_signals();
    memset(&app, 0, sizeof(app));
    app.handle = on_request;
    app.done = on_done;
    app.app = api;
    app.threads = (unsigned int)threads;
    api->batch = threads == 1;
    app.round_end = api->batch ? round_end : NULL;
    if (!(http = ex_http_start_app(cli.http, "vessel-api", api_metrics, api, &app, errstr,
                                   sizeof(errstr)))) {
        fprintf(stderr, "vessel-api: %s\n", errstr);
        rc = 1;
    } else {
        if (cli.verbosity >= 0)
            fprintf(stderr, "vessel-api: listening on port %d (%s mode)\n", ex_http_port(http),
                    api->outbox ? "outbox" : "direct");
        while (!atomic_load(&ex_interrupted))
            ex_sleep_ms(100);
    }
    /* no more requests; then the relay; then what is still queued */
    atomic_store(&api->stopping, 1);
    ex_http_stop(http);
    if (api->relay_started) {
        atomic_store(&api->relay_stop, 1);
        relay_wake(api);
        pthread_join(api->relay, NULL);
    }
    if (vtev_producer_close(api->prod, &undelivered) != VTEV_ERR_OK || undelivered) {
        fprintf(stderr, "vessel-api: %zu events not delivered at exit%s\n", undelivered,
                api->outbox ? " (they stay in the outbox)" : "");
        if (!api->outbox)
            rc = 1;
    }
    if (api->outbox)
        relay_delete(api); /* the reports that came during the close */
    if (cli.verbosity >= 0)
        fprintf(stderr, "vessel-api: %" PRIu64 " published, %" PRIu64 " delivered, %" PRIu64
                        " failed; %ld in the outbox\n",
                (uint64_t)atomic_load(&st.published), (uint64_t)atomic_load(&st.delivered),
                (uint64_t)atomic_load(&st.failed), (long)atomic_load(&api->outbox_rows));
    ex_store_close(api->store);
    free(api->done);
    free(api->round);
    free(api);
    return rc;
}
