/*
 * test_evolution_interop.c - schema evolution against a real peer, Python's
 * confluent-kafka (tests/interop/evolution_peer.py) with the real Schema
 * Registry:
 *  - enum: the peer writes requests whose priority enum has its symbols
 *    re-ordered and one more ("urgent"); the 0.1 consumer must read each by
 *    symbol, give "urgent" the reader's enum default ("normal"), and
 *    dead-letter none;
 *  - every case: the peer writes with one evolved writer schema per case
 *    (re-ordered symbols, a symbol the reader lacks, fields the reader
 *    lacks, no fields that have reader defaults, promoted types, and the
 *    library's own schema as the control), registered as versions of the
 *    topic's subject; the generated typed consumer (resolving path; fast
 *    path for the control) and the 0.1 consumer must both read every
 *    value and dead-letter none;
 *  - C writes v1, Python reads v2: the typed producer publishes with the
 *    library's schemas, the peer reads with v2 reader schemas, and what it
 *    read (its v2 defaults included) is checked here.
 * Needs the stack (KAFKA_BOOTSTRAP_SERVERS, SCHEMA_REGISTRY_URL) and
 * $VTEV_PYTHON with confluent-kafka.
 */
#include "consumer_testutil.h"
#include "testutil.h"

#include <jansson.h>
#include <stdatomic.h>

static const char *bootstraps, *registry;

typedef struct {
    atomic_int n;
    char ids[8][80];
    vtev_priority_t prio[8];
} seen_t;

static vtev_verdict_t on_request(vtev_consumer_t *c, const vtev_event_t *ev, const vtev_msg_info_t *info,
                                 void *opaque) {
    seen_t *s = opaque;
    int i = atomic_load(&s->n);
    (void)c, (void)info;
    if (i < 8) {
        snprintf(s->ids[i], sizeof(s->ids[i]), "%s", ev->u.request.request_id);
        s->prio[i] = ev->u.request.data.priority;
        atomic_store(&s->n, i + 1);
    }
    return VTEV_VERDICT_OK;
}

static int have4(void *arg) {
    return atomic_load(&((seen_t *)arg)->n) >= 4;
}

START_TEST(test_python_evolved_enum) {
    char topic[128], dlq[140], group[160], cmd[2048], e[512];
    const char *py = getenv("VTEV_PYTHON");
    seen_t *s = calloc(1, sizeof(*s));
    vtev_consumer_t *c;
    int i, j;
    static const struct {
        const char *id;
        vtev_priority_t want;
    } expect[] = {{"req-00000000", VTEV_PRIORITY_HIGH},
                  {"req-00000001", VTEV_PRIORITY_NORMAL},
                  {"req-00000002", VTEV_PRIORITY_LOW},
                  {"req-00000003", VTEV_PRIORITY_NORMAL}}; /* "urgent": the reader's default */
    snprintf(topic, sizeof(topic), "evo-%d-%lld", (int)getpid(), (long long)time(NULL));
    snprintf(dlq, sizeof(dlq), "%s.dlq", topic);
    snprintf(group, sizeof(group), "g-%s", topic);
    ctu_create_topic(bootstraps, topic, 1);
    snprintf(cmd, sizeof(cmd), "'%s' '%s' enum '%s' '%s' '%s' '%s/prediction.analysis.requested.avsc'",
             py ? py : "python3", VTEV_PEER, bootstraps, registry, topic, VTEV_SCHEMA_DIR);
    ck_assert_msg(system(cmd) == 0, "the Python writer failed: %s", cmd);
    c = vtev_consumer_new(ctu_conf(bootstraps, registry, group), e, sizeof(e));
    ck_assert_msg(c != NULL, "%s", e);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_REQUEST, topic, on_request, s, e, sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert_msg(ctu_poll_until(c, have4, s, 60000), "handled %d of 4", atomic_load(&s->n));
    ctu_poll_for(c, 1000);
    vtev_consumer_destroy(c);
    for (i = 0; i < 4; i++) {
        for (j = 0; j < atomic_load(&s->n) && strcmp(s->ids[j], expect[i].id); j++)
            ;
        ck_assert_msg(j < atomic_load(&s->n), "%s was not handled", expect[i].id);
        ck_assert_msg(s->prio[j] == expect[i].want, "%s: read as %s, written as the %d-th symbol", expect[i].id,
                      vtev_priority_name(s->prio[j]), i);
    }
    ck_assert_int_eq(atomic_load(&s->n), 4);
    ck_assert_int_eq(ctu_topic_count(bootstraps, dlq, 1), 0);
    free(s);
}
END_TEST

#define REQ_T (&vtev_prediction_analysis_requested_type)
#define POS_T (&vtev_vessel_position_updated_type)

/* ------------------------------------------------------------------------
 * Every evolution case, Python writing: tests/interop/evolution_peer.py
 * "write" registers one evolved writer schema per case (WRITERS there) and
 * writes its events; both of the library's consumers must read the values
 * below, field by field, and dead-letter none.
 */

/* What a consumer read of one event, the same for both APIs. */
typedef struct {
    char id[80]; /* request_id; vessel_id for positions */
    char event_id[40], vessel_id[80], status[40], prio[8];
    char event_type[64]; /* "-" from the 0.1 API, which has no event_type member */
    int64_t ts;
    double lat, lon, speed, heading;
    int has_filter;
    int64_t filter;
    char md[256]; /* metadata in wire order: "key=s:text;key=i:5;key=d:0.5;key=b:1;key=n;" */
    int32_t schema_id;
} view_t;

#define MAX_VIEWS 32

typedef struct {
    atomic_int n;
    view_t v[MAX_VIEWS];
} views_t;

static view_t *view_next(views_t *s, const vtev_msg_info_t *info) {
    int i = atomic_load(&s->n);
    if (i >= MAX_VIEWS)
        return NULL;
    memset(&s->v[i], 0, sizeof(s->v[i]));
    s->v[i].schema_id = info->schema_id;
    return &s->v[i];
}

static void md_add(char *md, size_t size, const char *key, char type, const char *text) {
    size_t len = strlen(md);
    if (text)
        snprintf(md + len, size - len, "%s=%c:%s;", key, type, text);
    else
        snprintf(md + len, size - len, "%s=%c;", key, type);
}

static void md_add_num(char *md, size_t size, const char *key, char type, double d, int64_t i) {
    char t[40];
    if (type == 'd')
        snprintf(t, sizeof(t), "%.17g", d);
    else
        snprintf(t, sizeof(t), "%" PRId64, i);
    md_add(md, size, key, type, t);
}

/* The generated types' metadata maps have the same layout for both types. */
#define TYPED_MD(v, m, P)                                                                          \
    do {                                                                                           \
        size_t k_;                                                                                 \
        for (k_ = 0; k_ < (m).len; k_++) {                                                         \
            const char *key_ = (m).entries[k_].key;                                                \
            switch ((m).entries[k_].value.which) {                                                 \
            case P##_METADATA_VALUE_NULL: md_add((v)->md, sizeof((v)->md), key_, 'n', NULL); break; \
            case P##_METADATA_VALUE_STRING:                                                        \
                md_add((v)->md, sizeof((v)->md), key_, 's', (m).entries[k_].value.u.v_string);     \
                break;                                                                             \
            case P##_METADATA_VALUE_LONG:                                                          \
                md_add_num((v)->md, sizeof((v)->md), key_, 'i', 0, (m).entries[k_].value.u.v_long); \
                break;                                                                             \
            case P##_METADATA_VALUE_DOUBLE:                                                        \
                md_add_num((v)->md, sizeof((v)->md), key_, 'd', (m).entries[k_].value.u.v_double, 0); \
                break;                                                                             \
            case P##_METADATA_VALUE_BOOLEAN:                                                       \
                md_add((v)->md, sizeof((v)->md), key_, 'b',                                        \
                       (m).entries[k_].value.u.v_boolean ? "1" : "0");                             \
                break;                                                                             \
            default: md_add((v)->md, sizeof((v)->md), key_, '?', NULL);                           \
            }                                                                                      \
        }                                                                                          \
    } while (0)

static const char *typed_prio(vtev_request_priority_t p) {
    switch (p) {
    case VTEV_REQUEST_PRIORITY_LOW: return "low";
    case VTEV_REQUEST_PRIORITY_NORMAL: return "normal";
    case VTEV_REQUEST_PRIORITY_HIGH: return "high";
    }
    return "?";
}

static void snap_view(view_t *v, double lat, double lon, double speed, double heading,
                      const char *status) {
    v->lat = lat, v->lon = lon, v->speed = speed, v->heading = heading;
    snprintf(v->status, sizeof(v->status), "%s", status ? status : "");
}

static vtev_verdict_t on_typed(vtev_consumer_t *c, const vtev_type_t *type, const void *ev,
                               const vtev_msg_info_t *info, void *opaque) {
    views_t *s = opaque;
    view_t *v = view_next(s, info);
    (void)c;
    if (!v)
        return VTEV_VERDICT_OK;
    if (type == REQ_T) {
        const vtev_prediction_analysis_requested_t *r = ev;
        const vtev_vessel_snapshot_t *sn = &r->data.vessel_snapshot;
        snprintf(v->id, sizeof(v->id), "%s", r->request_id);
        snprintf(v->event_id, sizeof(v->event_id), "%s", r->event_id);
        snprintf(v->event_type, sizeof(v->event_type), "%s", r->event_type);
        snprintf(v->vessel_id, sizeof(v->vessel_id), "%s", r->vessel_id);
        v->ts = r->timestamp;
        snap_view(v, sn->lat, sn->lon, sn->speed, sn->heading, sn->status);
        v->has_filter = r->data.has_terminal_filter;
        v->filter = r->data.has_terminal_filter ? r->data.terminal_filter : 0;
        snprintf(v->prio, sizeof(v->prio), "%s", typed_prio(r->data.priority));
        TYPED_MD(v, r->metadata, VTEV_PREDICTION_ANALYSIS_REQUESTED);
    } else if (type == POS_T) {
        const vtev_vessel_position_updated_t *p = ev;
        snprintf(v->id, sizeof(v->id), "%s", p->vessel_id);
        snprintf(v->event_id, sizeof(v->event_id), "%s", p->event_id);
        snprintf(v->event_type, sizeof(v->event_type), "%s", p->event_type);
        snprintf(v->vessel_id, sizeof(v->vessel_id), "%s", p->vessel_id);
        v->ts = p->timestamp;
        snap_view(v, p->data.lat, p->data.lon, p->data.speed, p->data.heading, p->data.status);
        snprintf(v->prio, sizeof(v->prio), "-");
        TYPED_MD(v, p->metadata, VTEV_VESSEL_POSITION_UPDATED);
    } else {
        snprintf(v->id, sizeof(v->id), "unexpected type %s", type->full_name);
    }
    atomic_fetch_add(&s->n, 1);
    return VTEV_VERDICT_OK;
}

static void md_view_01(view_t *v, const vtev_metadata_t *md) {
    size_t k;
    for (k = 0; k < vtev_metadata_count(md); k++) {
        vtev_meta_value_t mv;
        const char *key = vtev_metadata_entry(md, k, &mv);
        switch (mv.type) {
        case VTEV_META_NULL: md_add(v->md, sizeof(v->md), key, 'n', NULL); break;
        case VTEV_META_STRING: md_add(v->md, sizeof(v->md), key, 's', mv.s); break;
        case VTEV_META_INT: md_add_num(v->md, sizeof(v->md), key, 'i', 0, mv.i); break;
        case VTEV_META_DOUBLE: md_add_num(v->md, sizeof(v->md), key, 'd', mv.d, 0); break;
        case VTEV_META_BOOL: md_add(v->md, sizeof(v->md), key, 'b', mv.b ? "1" : "0"); break;
        default: md_add(v->md, sizeof(v->md), key, '?', NULL);
        }
    }
}

static vtev_verdict_t on_event_01(vtev_consumer_t *c, const vtev_event_t *ev,
                                  const vtev_msg_info_t *info, void *opaque) {
    views_t *s = opaque;
    view_t *v = view_next(s, info);
    const vtev_envelope_t *env = &ev->u.env;
    const vtev_vessel_state_t *sn;
    (void)c;
    if (!v)
        return VTEV_VERDICT_OK;
    snprintf(v->event_id, sizeof(v->event_id), "%s", env->event_id);
    snprintf(v->event_type, sizeof(v->event_type), "-");
    snprintf(v->vessel_id, sizeof(v->vessel_id), "%s", env->vessel_id);
    v->ts = env->timestamp_us;
    md_view_01(v, env->metadata);
    if (ev->type == VTEV_EVENT_REQUEST) {
        snprintf(v->id, sizeof(v->id), "%s", ev->u.request.request_id);
        sn = &ev->u.request.data.vessel_snapshot;
        v->has_filter = ev->u.request.data.has_terminal_filter;
        v->filter = v->has_filter ? ev->u.request.data.terminal_filter : 0;
        snprintf(v->prio, sizeof(v->prio), "%s", vtev_priority_name(ev->u.request.data.priority));
    } else {
        snprintf(v->id, sizeof(v->id), "%s", env->vessel_id);
        sn = &ev->u.position.data;
        snprintf(v->prio, sizeof(v->prio), "-");
    }
    snap_view(v, sn->lat, sn->lon, sn->speed, sn->heading, sn->status);
    atomic_fetch_add(&s->n, 1);
    return VTEV_VERDICT_OK;
}

/* What the library must read of each event the peer writes (the writer's
 * values are in WRITERS of tests/interop/evolution_peer.py). */
typedef struct {
    const char *id, *cs; /* request_id (vessel_id of a position), the peer's case */
    const char *event_id;
    int64_t ts;
    const char *vessel_id;
    double lat, lon, speed, heading;
    const char *status;
    int has_filter;
    int64_t filter;
    const char *prio; /* "-" for a position */
    const char *event_type, *md;
    int fast; /* written with exactly the reader's schema */
} want_t;

#define REQ_ET "prediction.analysis.requested"
#define POS_ET "vessel.position.updated"
#define SNAP 29.7312, -93.8765, 12.25, 271.5, "underway"
#define UUID_N(n) "00000000-0000-4000-8000-0000000000" n
#define TS(n) (INT64_C(1768059000000000) + (n))

static const want_t WANT[] = {
    /* control: the library's own schema, every metadata branch */
    {"control", "control", UUID_N("01"), TS(1), "lng-001", SNAP, 1, 42, "high", REQ_ET,
     "source=s:python-peer;attempt=i:3;score=d:0.75;retry=b:1;note=n;", 1},
    /* (a) symbols re-ordered: each read by name */
    {"reorder-low", "reorder", UUID_N("02"), TS(2), "lng-002", SNAP, 0, 0, "low", REQ_ET,
     "source=s:python-peer;", 0},
    {"reorder-normal", "reorder", UUID_N("03"), TS(3), "lng-003", SNAP, 0, 0, "normal", REQ_ET,
     "source=s:python-peer;", 0},
    {"reorder-high", "reorder", UUID_N("04"), TS(4), "lng-004", SNAP, 0, 0, "high", REQ_ET,
     "source=s:python-peer;", 0},
    /* (b) "urgent" (the writer's first symbol) is unknown: the reader's
     * enum default; a known symbol at another index still by name */
    {"unknown-urgent", "unknown-symbol", UUID_N("05"), TS(5), "lng-005", SNAP, 0, 0, "normal",
     REQ_ET, "source=s:python-peer;", 0},
    {"unknown-high", "unknown-symbol", UUID_N("06"), TS(6), "lng-006", SNAP, 0, 0, "high", REQ_ET,
     "source=s:python-peer;", 0},
    /* (c) source_system, tags, data.eta_hint and vessel_snapshot.course skipped */
    {"added", "added-fields", UUID_N("07"), TS(7), "lng-007", SNAP, 1, 9, "low", REQ_ET,
     "source=s:python-peer;", 0},
    /* (d) no event_type, terminal_filter, priority, metadata: the defaults */
    {"removed", "removed-defaults", UUID_N("08"), TS(8), "lng-008", SNAP, 0, 0, "normal", REQ_ET,
     "", 0},
    /* (e) int->long, float->double, long->double, int->double, bytes->string,
     * and in the metadata union int->long, float->double, bytes->string */
    {"promoted-7", "promoted", UUID_N("09"), TS(9), "lng-009", 29.75, -94, 12.5, 271, "moored", 1,
     7, "high", REQ_ET, "src=s:py;n=i:5;ratio=d:0.5;ok=b:0;", 0},
    {"promoted-null", "promoted", UUID_N("0a"), TS(10), "lng-010", -12.5, 7, 0.25, 0, "at anchor",
     0, 0, "low", REQ_ET, "", 0},
    /* positions: the library's schema, and every kind at once (with the
     * fields in another order) */
    {"pos-control", "pos-control", UUID_N("0b"), TS(11), "pos-control", 51.95, 4.05, 12.5, 90,
     "underway", 0, 0, "-", POS_ET, "source=s:python-peer;", 1},
    {"pos-evolved", "pos-evolved", UUID_N("0c"), TS(12), "pos-evolved", -33.5, 151, 7.75, 359,
     "moored", 0, 0, "-", POS_ET, "", 0},
};
#define NWANT ((int)(sizeof(WANT) / sizeof(WANT[0])))

/* The peer's report: which writer schema id each event was framed with. */
typedef struct {
    char id[80], cs[40];
    int32_t schema_id;
} written_t;

static int run_writer(const char *req_topic, const char *pos_topic, written_t *w, int max) {
    char cmd[2048], line[1024];
    const char *py = getenv("VTEV_PYTHON");
    FILE *f;
    int n = 0;
    snprintf(cmd, sizeof(cmd), "'%s' '%s' write '%s' '%s' '%s' '%s' '%s'", py ? py : "python3",
             VTEV_PEER, bootstraps, registry, req_topic, pos_topic, VTEV_SCHEMA_DIR);
    f = popen(cmd, "r");
    ck_assert_msg(f != NULL, "%s", cmd);
    while (fgets(line, sizeof(line), f)) {
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        ck_assert_msg(o != NULL, "peer line %s: %s", line, je.text);
        ck_assert_int_lt(n, max);
        snprintf(w[n].id, sizeof(w[n].id), "%s", json_string_value(json_object_get(o, "id")));
        snprintf(w[n].cs, sizeof(w[n].cs), "%s", json_string_value(json_object_get(o, "case")));
        w[n].schema_id = (int32_t)json_integer_value(json_object_get(o, "schema_id"));
        json_decref(o);
        n++;
    }
    ck_assert_msg(pclose(f) == 0, "the Python writer failed: %s", cmd);
    return n;
}

static int want_n;
static int have_views(void *arg) {
    return atomic_load(&((views_t *)arg)->n) >= want_n;
}

static const written_t *written(const written_t *w, int n, const char *id) {
    int i;
    for (i = 0; i < n; i++)
        if (!strcmp(w[i].id, id))
            return &w[i];
    return NULL;
}

/* Each event once, field by field as WANT says, framed with the id the peer
 * wrote.  api names the consumer in the messages. */
static void check_views(const char *api, views_t *s, const written_t *w, int nw) {
    int i, j, n = atomic_load(&s->n);
    ck_assert_msg(n == NWANT, "%s: read %d events, the peer wrote %d", api, n, NWANT);
    for (i = 0; i < NWANT; i++) {
        const want_t *x = &WANT[i];
        const written_t *wr = written(w, nw, x->id);
        const view_t *v = NULL;
        for (j = 0; j < n; j++)
            if (!strcmp(s->v[j].id, x->id)) {
                ck_assert_msg(v == NULL, "%s: %s read twice", api, x->id);
                v = &s->v[j];
            }
        ck_assert_msg(v != NULL, "%s: %s (case %s) was not read", api, x->id, x->cs);
        ck_assert_msg(wr != NULL && !strcmp(wr->cs, x->cs), "the peer did not write %s in case %s",
                      x->id, x->cs);
#define FIELD_STR(name, want)                                                                      \
    ck_assert_msg(!strcmp(v->name, want), "%s: %s (%s): " #name " read as \"%s\", want \"%s\"", api, \
                  x->id, x->cs, v->name, want)
#define FIELD_NUM(name, want, fmt)                                                                 \
    ck_assert_msg(v->name == (want), "%s: %s (%s): " #name " read as " fmt ", want " fmt, api,       \
                  x->id, x->cs, v->name, want)
        FIELD_NUM(schema_id, wr->schema_id, "%d");
        FIELD_STR(event_id, x->event_id);
        FIELD_STR(vessel_id, x->vessel_id);
        FIELD_NUM(ts, x->ts, "%" PRId64);
        FIELD_NUM(lat, x->lat, "%.17g");
        FIELD_NUM(lon, x->lon, "%.17g");
        FIELD_NUM(speed, x->speed, "%.17g");
        FIELD_NUM(heading, x->heading, "%.17g");
        FIELD_STR(status, x->status);
        FIELD_NUM(has_filter, x->has_filter, "%d");
        FIELD_NUM(filter, x->filter, "%" PRId64);
        FIELD_STR(prio, x->prio);
        if (strcmp(v->event_type, "-"))
            FIELD_STR(event_type, x->event_type);
        FIELD_STR(md, x->md);
#undef FIELD_STR
#undef FIELD_NUM
    }
}

/* The writer schemas in the registry: the controls are the library's own
 * (same canonical form: the fast path), every other case is not (the
 * resolving path), and each case has a schema of its own. */
static void check_writer_schemas(const written_t *w, int nw) {
    vtev_conf_t *conf = vtev_conf_new();
    vtev_registry_t *reg;
    char e[512];
    int i, j;
    ctu_set(conf, "schema.registry.url", registry);
    reg = vtev_registry_new(conf, e, sizeof(e));
    ck_assert_msg(reg != NULL, "%s", e);
    for (i = 0; i < NWANT; i++) {
        const written_t *wr = written(w, nw, WANT[i].id);
        const vtev_type_t *t = strncmp(WANT[i].cs, "pos-", 4) ? REQ_T : POS_T;
        char *json = NULL;
        vtev_schema_t *sc;
        ck_assert_ptr_nonnull(wr);
        ck_assert_msg(vtev_registry_get_schema(reg, wr->schema_id, &json, e, sizeof(e)) == VTEV_ERR_OK,
                      "schema %d: %s", (int)wr->schema_id, e);
        sc = vtev_schema_new(json, strlen(json), e, sizeof(e));
        ck_assert_msg(sc != NULL, "schema %d: %s", (int)wr->schema_id, e);
        ck_assert_msg((vtev_schema_fingerprint(sc) == t->fingerprint) == WANT[i].fast,
                      "case %s: writer schema %d is %sthe library's %s", WANT[i].cs, (int)wr->schema_id,
                      WANT[i].fast ? "not " : "", t->full_name);
        vtev_schema_destroy(sc);
        vtev_free(json);
        for (j = 0; j < nw; j++)
            ck_assert_msg((w[j].schema_id == wr->schema_id) == !strcmp(w[j].cs, wr->cs),
                          "cases %s and %s: schema ids %d and %d", w[j].cs, wr->cs, (int)w[j].schema_id,
                          (int)wr->schema_id);
    }
    vtev_registry_destroy(reg);
}

/* The consumer's counters: want_ok handled, none dead-lettered or rejected
 * (t: a generated type, else the 0.1 event et). */
static void no_dead_letters(vtev_consumer_t *c, const char *api, const vtev_type_t *t,
                            vtev_event_type_t et, uint64_t want_ok) {
    vtev_consumer_stats_t st;
    ck_assert_int_eq(t ? vtev_consumer_type_stats(c, t, &st) : vtev_consumer_stats(c, et, &st),
                     VTEV_ERR_OK);
    ck_assert_msg(st.ok == want_ok && st.dead_lettered == 0 && st.rejected == 0,
                  "%s %s: ok %" PRIu64 " (want %" PRIu64 "), dead-lettered %" PRIu64
                  ", rejected %" PRIu64,
                  api, t ? t->name : vtev_event_type_name(et), st.ok, want_ok, st.dead_lettered,
                  st.rejected);
}

START_TEST(test_python_writes_every_case) {
    char req[128], pos[128], group[160], e[512], dlq[160];
    written_t w[MAX_VIEWS];
    views_t *typed = calloc(1, sizeof(*typed)), *old = calloc(1, sizeof(*old));
    vtev_consumer_t *c;
    int nw;
    snprintf(req, sizeof(req), "evo-req-%d-%lld", (int)getpid(), (long long)time(NULL));
    snprintf(pos, sizeof(pos), "evo-pos-%d-%lld", (int)getpid(), (long long)time(NULL));
    ctu_create_topic(bootstraps, req, 1);
    ctu_create_topic(bootstraps, pos, 1);
    nw = run_writer(req, pos, w, MAX_VIEWS);
    ck_assert_int_eq(nw, NWANT);
    check_writer_schemas(w, nw);
    want_n = NWANT;

    /* the generated types (the fast path for the controls, the resolving path else) */
    snprintf(group, sizeof(group), "g-typed-%s", req);
    c = vtev_consumer_new(ctu_conf(bootstraps, registry, group), e, sizeof(e));
    ck_assert_msg(c != NULL, "%s", e);
    ck_assert_int_eq(vtev_consumer_subscribe_type(c, REQ_T, req, on_typed, typed, e, sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(vtev_consumer_subscribe_type(c, POS_T, pos, on_typed, typed, e, sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert_msg(ctu_poll_until(c, have_views, typed, 60000), "typed: read %d of %d",
                  atomic_load(&typed->n), NWANT);
    ctu_poll_for(c, 1000);
    no_dead_letters(c, "typed", REQ_T, VTEV_EVENT_NONE, NWANT - 2); /* 2 positions */
    no_dead_letters(c, "typed", POS_T, VTEV_EVENT_NONE, 2);
    vtev_consumer_destroy(c);
    check_views("typed", typed, w, nw);

    /* the 0.1 API (avro-c and the same resolver) */
    snprintf(group, sizeof(group), "g-01-%s", req);
    c = vtev_consumer_new(ctu_conf(bootstraps, registry, group), e, sizeof(e));
    ck_assert_msg(c != NULL, "%s", e);
    ck_assert_int_eq(
        vtev_consumer_subscribe(c, VTEV_EVENT_REQUEST, req, on_event_01, old, e, sizeof(e)),
        VTEV_ERR_OK);
    ck_assert_int_eq(
        vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, pos, on_event_01, old, e, sizeof(e)),
        VTEV_ERR_OK);
    ck_assert_msg(ctu_poll_until(c, have_views, old, 60000), "0.1: read %d of %d",
                  atomic_load(&old->n), NWANT);
    ctu_poll_for(c, 1000);
    no_dead_letters(c, "0.1", NULL, VTEV_EVENT_REQUEST, NWANT - 2);
    no_dead_letters(c, "0.1", NULL, VTEV_EVENT_POSITION, 2);
    vtev_consumer_destroy(c);
    check_views("0.1", old, w, nw);

    snprintf(dlq, sizeof(dlq), "%s.dlq", req);
    ck_assert_int_eq(ctu_topic_count(bootstraps, dlq, 1), 0);
    snprintf(dlq, sizeof(dlq), "%s.dlq", pos);
    ck_assert_int_eq(ctu_topic_count(bootstraps, dlq, 1), 0);
    free(typed);
    free(old);
}
END_TEST

/* ------------------------------------------------------------------------
 * C writes v1, Python reads with v2: the library's typed producer publishes
 * with its own schemas; evolution_peer.py "read" decodes with v2 reader
 * schemas (READERS there) and prints what it read.
 */

static void c_request(vtev_prediction_analysis_requested_t *r, const char *rid,
                      vtev_request_priority_t prio, int has_filter, int64_t filter, int with_md) {
    ck_assert_int_eq(vtev_prediction_analysis_requested_init(r), VTEV_ERR_OK);
    r->vessel_id = strdup("lng-c");
    r->request_id = strdup(rid);
    r->data.vessel_snapshot.lat = 29.7312;
    r->data.vessel_snapshot.lon = -93.8765;
    r->data.vessel_snapshot.speed = 12.25;
    r->data.vessel_snapshot.heading = 271.5;
    r->data.vessel_snapshot.status = strdup("underway");
    r->data.has_terminal_filter = has_filter;
    r->data.terminal_filter = filter;
    r->data.priority = prio;
    if (with_md) {
        vtev_prediction_analysis_requested_metadata_entry_t *en = calloc(3, sizeof(*en));
        ck_assert_ptr_nonnull(en);
        en[0].key = strdup("source");
        en[0].value.which = VTEV_PREDICTION_ANALYSIS_REQUESTED_METADATA_VALUE_STRING;
        en[0].value.u.v_string = strdup("vt-c");
        en[1].key = strdup("attempt");
        en[1].value.which = VTEV_PREDICTION_ANALYSIS_REQUESTED_METADATA_VALUE_LONG;
        en[1].value.u.v_long = 3;
        en[2].key = strdup("retry");
        en[2].value.which = VTEV_PREDICTION_ANALYSIS_REQUESTED_METADATA_VALUE_BOOLEAN;
        en[2].value.u.v_boolean = true;
        r->metadata.entries = en;
        r->metadata.len = 3;
    }
}

static json_t *jpath(json_t *o, const char *path) {
    char buf[128], *save = NULL, *tok;
    snprintf(buf, sizeof(buf), "%s", path);
    for (tok = strtok_r(buf, ".", &save); tok && o; tok = strtok_r(NULL, ".", &save))
        o = json_object_get(o, tok);
    return o;
}

#define J_STR(o, path, want)                                                                       \
    do {                                                                                           \
        json_t *j_ = jpath(o, path);                                                               \
        ck_assert_msg(json_is_string(j_) && !strcmp(json_string_value(j_), want),                  \
                      "%s: %s is not \"%s\"", rid, path, want);                                    \
    } while (0)
#define J_REAL(o, path, want)                                                                      \
    do {                                                                                           \
        json_t *j_ = jpath(o, path);                                                               \
        ck_assert_msg(json_is_real(j_) && json_real_value(j_) == (want),                          \
                      "%s: %s is not %.17g (a double)", rid, path, (double)(want));                \
    } while (0)
#define J_INT(o, path, want)                                                                       \
    do {                                                                                           \
        json_t *j_ = jpath(o, path);                                                               \
        ck_assert_msg(json_is_integer(j_) && json_integer_value(j_) == (want),                     \
                      "%s: %s is not %" PRId64 " (an integer)", rid, path, (int64_t)(want));        \
    } while (0)
#define J_NULL(o, path)                                                                            \
    do {                                                                                           \
        json_t *j_ = jpath(o, path);                                                               \
        ck_assert_msg(json_is_null(j_), "%s: %s is not null", rid, path);                          \
    } while (0)

START_TEST(test_c_writes_v1_python_reads_v2) {
    char req[128], pos[128], cmd[2048], line[4096], e[512];
    const char *py = getenv("VTEV_PYTHON");
    static const struct {
        const char *rid;
        vtev_request_priority_t prio;
        const char *prio_name;
        int has_filter;
        int64_t filter;
        int md;
    } R[] = {{"c-low", VTEV_REQUEST_PRIORITY_LOW, "low", 1, 42, 1},
             {"c-normal", VTEV_REQUEST_PRIORITY_NORMAL, "normal", 0, 0, 0},
             {"c-high", VTEV_REQUEST_PRIORITY_HIGH, "high", 1, -7, 0}};
    vtev_prediction_analysis_requested_t rq[3];
    vtev_vessel_position_updated_t ps;
    vtev_conf_t *conf = vtev_conf_new();
    vtev_producer_t *p;
    vtev_registry_t *reg;
    int32_t req_id = -1, pos_id = -1;
    int i, n = 0, seen[4] = {0};
    FILE *f;

    snprintf(req, sizeof(req), "evo-v2-req-%d-%lld", (int)getpid(), (long long)time(NULL));
    snprintf(pos, sizeof(pos), "evo-v2-pos-%d-%lld", (int)getpid(), (long long)time(NULL));
    ctu_create_topic(bootstraps, req, 1);
    ctu_create_topic(bootstraps, pos, 1);
    ctu_set(conf, "bootstrap.servers", bootstraps);
    ctu_set(conf, "schema.registry.url", registry);
    ctu_set(conf, "log.level", "4");
    p = vtev_producer_new(conf, e, sizeof(e));
    ck_assert_msg(p != NULL, "%s", e);
    for (i = 0; i < 3; i++) {
        c_request(&rq[i], R[i].rid, R[i].prio, R[i].has_filter, R[i].filter, R[i].md);
        ck_assert_int_eq(vtev_producer_publish_type(p, REQ_T, req, &rq[i], NULL, 0, NULL, 0, NULL,
                                                    e, sizeof(e)),
                         VTEV_ERR_OK);
    }
    ck_assert_int_eq(vtev_vessel_position_updated_init(&ps), VTEV_ERR_OK);
    ps.vessel_id = strdup("pos-c");
    ps.data.lat = 51.95;
    ps.data.lon = 4.05;
    ps.data.speed = 12.5;
    ps.data.heading = 90;
    ps.data.status = strdup("moored");
    ck_assert_int_eq(
        vtev_producer_publish_type(p, POS_T, pos, &ps, NULL, 0, NULL, 0, NULL, e, sizeof(e)),
        VTEV_ERR_OK);
    ck_assert_int_eq(vtev_producer_flush(p, 30000), VTEV_ERR_OK);
    vtev_producer_destroy(p);

    /* the ids of the library's own (v1) schemas under the topics' subjects */
    conf = vtev_conf_new();
    ctu_set(conf, "schema.registry.url", registry);
    reg = vtev_registry_new(conf, e, sizeof(e));
    ck_assert_msg(reg != NULL, "%s", e);
    snprintf(line, sizeof(line), "%s-value", req);
    ck_assert_int_eq(
        vtev_registry_lookup(reg, line, REQ_T->schema_json, &req_id, NULL, e, sizeof(e)),
        VTEV_ERR_OK);
    snprintf(line, sizeof(line), "%s-value", pos);
    ck_assert_int_eq(
        vtev_registry_lookup(reg, line, POS_T->schema_json, &pos_id, NULL, e, sizeof(e)),
        VTEV_ERR_OK);
    vtev_registry_destroy(reg);

    snprintf(cmd, sizeof(cmd), "'%s' '%s' read '%s' '%s' '%s' '%s' '%s' 4", py ? py : "python3",
             VTEV_PEER, bootstraps, registry, req, pos, VTEV_SCHEMA_DIR);
    f = popen(cmd, "r");
    ck_assert_msg(f != NULL, "%s", cmd);
    while (fgets(line, sizeof(line), f)) {
        json_error_t je;
        json_t *o = json_loads(line, 0, &je), *v;
        const char *topic, *rid;
        ck_assert_msg(o != NULL, "peer line %s: %s", line, je.text);
        topic = json_string_value(json_object_get(o, "topic"));
        v = json_object_get(o, "value");
        ck_assert_ptr_nonnull(topic);
        n++;
        if (!strcmp(topic, pos)) {
            rid = "pos-c";
            ck_assert_int_eq(json_integer_value(json_object_get(o, "schema_id")), pos_id);
            J_STR(v, "event_id", ps.event_id);
            J_STR(v, "event_type", POS_ET);
            J_INT(v, "timestamp", ps.timestamp);
            J_STR(v, "vessel_id", "pos-c");
            J_REAL(v, "data.lat", 51.95);
            J_REAL(v, "data.lon", 4.05);
            J_REAL(v, "data.speed", 12.5);
            J_REAL(v, "data.heading", 90.0);
            J_STR(v, "data.status.bytes", "moored"); /* string -> bytes */
            J_NULL(v, "data.course");                /* v2 defaults */
            J_STR(v, "data.nav_mode", "auto");
            ck_assert_int_eq(json_object_size(jpath(v, "metadata")), 0);
            seen[3]++;
            json_decref(o);
            continue;
        }
        ck_assert_str_eq(topic, req);
        rid = json_string_value(json_object_get(v, "request_id"));
        ck_assert_ptr_nonnull(rid);
        for (i = 0; i < 3 && strcmp(R[i].rid, rid); i++)
            ;
        ck_assert_msg(i < 3, "Python read an unknown request %s", rid);
        seen[i]++;
        ck_assert_int_eq(json_integer_value(json_object_get(o, "schema_id")), req_id);
        J_STR(v, "event_id", rq[i].event_id);
        ck_assert_msg(json_object_get(v, "event_type") == NULL,
                      "%s: event_type is not in the v2 reader, yet read", rid);
        J_INT(v, "timestamp", rq[i].timestamp);
        J_STR(v, "vessel_id", "lng-c");
        J_REAL(v, "data.vessel_snapshot.lat", 29.7312);
        J_REAL(v, "data.vessel_snapshot.lon", -93.8765);
        J_REAL(v, "data.vessel_snapshot.speed", 12.25);
        J_REAL(v, "data.vessel_snapshot.heading", 271.5);
        J_STR(v, "data.vessel_snapshot.status.bytes", "underway"); /* string -> bytes */
        J_STR(v, "data.priority", R[i].prio_name); /* by name in the v2 symbols */
        if (R[i].has_filter)
            J_REAL(v, "data.terminal_filter", (double)R[i].filter); /* long -> double */
        else
            J_NULL(v, "data.terminal_filter");
        J_INT(v, "data.max_candidates", 3); /* v2 defaults */
        J_STR(v, "channel", "api");
        J_NULL(v, "source_system");
        if (R[i].md) {
            ck_assert_int_eq(json_object_size(jpath(v, "metadata")), 3);
            J_STR(v, "metadata.source", "vt-c");
            J_REAL(v, "metadata.attempt", 3.0); /* long -> double in the union */
            ck_assert_msg(json_is_true(jpath(v, "metadata.retry")), "%s: metadata.retry", rid);
        } else {
            ck_assert_int_eq(json_object_size(jpath(v, "metadata")), 0);
        }
        json_decref(o);
    }
    ck_assert_msg(pclose(f) == 0, "the Python reader failed: %s", cmd);
    ck_assert_int_eq(n, 4);
    for (i = 0; i < 4; i++)
        ck_assert_msg(seen[i] == 1, "event %d read %d times", i, seen[i]);
    for (i = 0; i < 3; i++)
        vtev_prediction_analysis_requested_clear(&rq[i]);
    vtev_vessel_position_updated_clear(&ps);
}
END_TEST

int main(void) {
    Suite *su = suite_create("evolution_interop");
    TCase *tc = tcase_create("python");
    bootstraps = getenv("KAFKA_BOOTSTRAP_SERVERS");
    registry = getenv("SCHEMA_REGISTRY_URL");
    if (!bootstraps || !registry || !*bootstraps || !*registry) {
        fprintf(stderr, "KAFKA_BOOTSTRAP_SERVERS / SCHEMA_REGISTRY_URL not set: run ./run test\n");
        return 77;
    }
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_python_evolved_enum);
    tcase_add_test(tc, test_python_writes_every_case);
    tcase_add_test(tc, test_c_writes_v1_python_reads_v2);
    suite_add_tcase(su, tc);
    return vtev_test_run(su);
}
