/*
 * test_typed.c - the runtime over generated types (vt-codegen descriptors):
 * canonical form and fingerprint, typed publish and subscribe on the
 * embedded mock cluster and mock:// registry, wire compatibility with the
 * 0.1 API both ways, the resolving path for an evolved writer (generated
 * from tests/schemas/prediction.analysis.requested.w2.avsc), dispatch of
 * several types on one topic, constraints and descriptor checks.
 */
#include <stdatomic.h>

#include "consumer_testutil.h"
#include "mock_cluster.h"
#include "prediction_analysis_requested_w2.h"
#include "testutil.h"

#define POS (&vtev_vessel_position_updated_type)
#define REQ (&vtev_prediction_analysis_requested_type)
#define RES (&vtev_prediction_analysis_completed_type)
#define W2 (&w2_prediction_analysis_requested_type)

static char g_mock[128];
static int g_seq;

/* The dead letters of topic (the mock cluster's address). */
static size_t dead_letters(const char *mock, const char *topic, ctu_dlq_msg_t *m, size_t max) {
    char e[512], dlq[256];
    const char *bs = vtev__mock_cluster_bootstraps(mock + 7, e, sizeof(e));
    ck_assert_msg(bs != NULL, "%s", e);
    snprintf(dlq, sizeof(dlq), "%s.dlq", topic);
    return ctu_read_topic(bs, dlq, m, max, 10000);
}

/* A unique mock:// name (cluster and registry) for one test. */
static const char *mock_name(const char *what) {
    snprintf(g_mock, sizeof(g_mock), "mock://typed-%s-%d-%d", what, (int)getpid(), g_seq++);
    return g_mock;
}

static vtev_producer_t *producer_with(const char *mock, const char *strategy) {
    vtev_conf_t *conf = vtev_conf_new();
    vtev_producer_t *p;
    char e[512];
    if (strategy)
        ctu_set(conf, "subject.name.strategy", strategy);
    ctu_set(conf, "bootstrap.servers", mock);
    ctu_set(conf, "schema.registry.url", mock);
    ctu_set(conf, "log.level", "3");
    p = vtev_producer_new(conf, e, sizeof(e));
    ck_assert_msg(p != NULL, "producer: %s", e);
    return p;
}

static vtev_producer_t *producer(const char *mock) {
    return producer_with(mock, NULL);
}

static vtev_consumer_t *consumer(const char *mock) {
    char e[512];
    vtev_consumer_t *c = vtev_consumer_new(ctu_conf(mock, mock, "g-typed"), e, sizeof(e));
    ck_assert_msg(c != NULL, "consumer: %s", e);
    return c;
}

static void flush(vtev_producer_t *p) {
    ck_assert_int_eq(vtev_producer_flush(p, 20000), VTEV_ERR_OK);
}

static void position(vtev_vessel_position_updated_t *ev, const char *vessel, double lat) {
    ck_assert_int_eq(vtev_vessel_position_updated_init(ev), VTEV_ERR_OK);
    ev->vessel_id = strdup(vessel);
    ev->data.lat = lat;
    ev->data.lon = -93.85;
    ev->data.speed = 12.25;
    ev->data.heading = 271.5;
    ev->data.status = strdup("underway");
}

/* What handlers saw: the JSON form of each event, its key and its type. */
typedef struct {
    atomic_int n;
    char *json[16];
    char key[16][80];
    const vtev_type_t *type[16];
    int64_t prio[16], filter[16];
    double speed[16];
    size_t md[16];
} seen_t;

static vtev_verdict_t on_typed(vtev_consumer_t *c, const vtev_type_t *type, const void *ev,
                               const vtev_msg_info_t *info, void *opaque) {
    seen_t *s = opaque;
    int i = atomic_load(&s->n);
    (void)c;
    if (i >= 16)
        return VTEV_VERDICT_OK;
    ck_assert_int_eq(type->to_json(ev, 0, &s->json[i], NULL), VTEV_ERR_OK);
    snprintf(s->key[i], sizeof(s->key[i]), "%.*s", (int)info->key_len, (const char *)info->key);
    s->type[i] = type;
    if (type == REQ) {
        const vtev_prediction_analysis_requested_t *r = ev;
        s->prio[i] = r->data.priority;
        s->filter[i] = r->data.has_terminal_filter ? r->data.terminal_filter : -1;
        s->speed[i] = r->data.vessel_snapshot.speed;
        s->md[i] = r->metadata.len;
    }
    atomic_store(&s->n, i + 1);
    return VTEV_VERDICT_OK;
}

static void seen_free(seen_t *s) {
    int i;
    for (i = 0; i < 16; i++)
        free(s->json[i]);
    free(s);
}

static int want_n = 0;
static int have_n(void *arg) {
    return atomic_load(&((seen_t *)arg)->n) >= want_n;
}

static void poll_n(vtev_consumer_t *c, seen_t *s, int n) {
    want_n = n;
    ck_assert_msg(ctu_poll_until(c, have_n, s, 60000), "saw %d of %d events", atomic_load(&s->n), n);
}

/* ---------------------------------------------------------------- schemas */

START_TEST(test_fingerprint_matches_generated) {
    const vtev_type_t *types[] = {POS, REQ, RES, W2};
    size_t i;
    char e[512];
    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        vtev_schema_t *s = vtev_schema_new(types[i]->schema_json, strlen(types[i]->schema_json), e,
                                           sizeof(e));
        ck_assert_msg(s != NULL, "%s: %s", types[i]->full_name, e);
        ck_assert_str_eq(vtev_schema_canonical_form(s), types[i]->canonical_json);
        ck_assert_msg(vtev_schema_fingerprint(s) == types[i]->fingerprint, "%s: %016llx != %016llx",
                      types[i]->full_name, (unsigned long long)vtev_schema_fingerprint(s),
                      (unsigned long long)types[i]->fingerprint);
        vtev_schema_destroy(s);
    }
    /* the 0.1 compiled-in schema text differs (no vt.key), the form does not */
    ck_assert_str_eq(vtev_schema_canonical_form(vtev_event_schema(VTEV_EVENT_POSITION)),
                     POS->canonical_json);
    ck_assert_int_eq(vtev_schema_fingerprint(NULL), 0);
    ck_assert_ptr_null(vtev_schema_canonical_form(NULL));
}
END_TEST

START_TEST(test_canonical_form_rules) {
    static const char in[] =
        "{\"type\": \"record\", \"name\": \"R\", \"namespace\": \"a.b\", \"doc\": \"d\", \"fields\": ["
        "{\"name\": \"e\", \"type\": {\"type\": \"enum\", \"name\": \"E\", \"symbols\": [\"X\", \"Y\"],"
        " \"default\": \"X\"}, \"doc\": \"x\"},"
        "{\"name\": \"e2\", \"type\": \"E\"},"
        "{\"name\": \"u\", \"type\": {\"type\": \"string\", \"logicalType\": \"uuid\"}},"
        "{\"name\": \"f\", \"type\": {\"type\": \"fixed\", \"name\": \"c.F\", \"size\": 4}},"
        "{\"name\": \"m\", \"type\": {\"type\": \"map\", \"values\": [\"null\", {\"type\": \"int\"}]},"
        " \"default\": {}},"
        "{\"name\": \"a\", \"type\": {\"type\": \"array\", \"items\": \"F\"}}]}";
    static const char want[] =
        "{\"name\":\"a.b.R\",\"type\":\"record\",\"fields\":["
        "{\"name\":\"e\",\"type\":{\"name\":\"a.b.E\",\"type\":\"enum\",\"symbols\":[\"X\",\"Y\"]}},"
        "{\"name\":\"e2\",\"type\":\"a.b.E\"},"
        "{\"name\":\"u\",\"type\":\"string\"},"
        "{\"name\":\"f\",\"type\":{\"name\":\"c.F\",\"type\":\"fixed\",\"size\":4}},"
        "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":[\"null\",\"int\"]}},"
        "{\"name\":\"a\",\"type\":{\"type\":\"array\",\"items\":\"a.b.F\"}}]}";
    char e[512];
    vtev_schema_t *s = vtev_schema_new(in, strlen(in), e, sizeof(e));
    /* "F" inside a.b.R names a.b.F, which is not defined: the schema is
     * refused by the schema check before any canonical form is made */
    ck_assert_ptr_null(s);
    {
        char *fixed = strdup(in), *p = strstr(fixed, "\"items\": \"F\"");
        ck_assert_ptr_nonnull(p);
        memcpy(p, "\"items\": \"E\"", 12);
        s = vtev_schema_new(fixed, strlen(fixed), e, sizeof(e));
        ck_assert_msg(s != NULL, "%s", e);
        {
            char *w = strdup(want), *q = strstr(w, "\"items\":\"a.b.F\"");
            memcpy(q, "\"items\":\"a.b.E\"", 15);
            ck_assert_str_eq(vtev_schema_canonical_form(s), w);
            free(w);
        }
        vtev_schema_destroy(s);
        free(fixed);
    }
    /* primitives in their simple form; the fingerprint of "int" per the
     * Avro specification's CRC-64-AVRO */
    s = vtev_schema_new("{\"type\": \"int\"}", 15, e, sizeof(e));
    ck_assert_msg(s != NULL, "%s", e);
    ck_assert_str_eq(vtev_schema_canonical_form(s), "\"int\"");
    ck_assert_msg(vtev_schema_fingerprint(s) == UINT64_C(0x7275d51a3f395c8f), "%016llx",
                  (unsigned long long)vtev_schema_fingerprint(s));
    vtev_schema_destroy(s);
}
END_TEST

/* ---------------------------------------------------------------- publish/consume */

START_TEST(test_typed_round_trip) {
    const char *mock = mock_name("rt");
    vtev_producer_t *p = producer(mock);
    vtev_consumer_t *c = consumer(mock);
    vtev_vessel_position_updated_t ev;
    vtev_consumer_stats_t st;
    seen_t *s = calloc(1, sizeof(*s));
    char e[512], *sent;
    position(&ev, "lng-007", 29.73);
    ck_assert_int_eq(vtev_metadata_count(NULL), 0);
    ck_assert_int_eq(vtev_producer_publish_type(p, POS, "vessel-position-updates", &ev, NULL, 0,
                                                NULL, 0, NULL, e, sizeof(e)),
                     VTEV_ERR_OK);
    flush(p);
    ck_assert_int_eq(vtev_consumer_subscribe_type(c, POS, "vessel-position-updates", on_typed, s, e,
                                                  sizeof(e)),
                     VTEV_ERR_OK);
    poll_n(c, s, 1);
    ck_assert_int_eq(POS->to_json(&ev, 0, &sent, NULL), VTEV_ERR_OK);
    ck_assert_str_eq(s->json[0], sent);
    ck_assert_str_eq(s->key[0], "lng-007"); /* the vt.key field */
    ck_assert_ptr_eq(s->type[0], POS);
    ck_assert_int_eq(vtev_consumer_type_stats(c, POS, &st), VTEV_ERR_OK);
    ck_assert_uint_eq(st.consumed, 1);
    ck_assert_uint_eq(st.ok, 1);
    ck_assert_int_eq(vtev_consumer_type_stats(c, REQ, &st), VTEV_ERR_NOT_FOUND);
    free(sent);
    vtev_vessel_position_updated_clear(&ev);
    vtev_consumer_destroy(c);
    vtev_producer_destroy(p);
    seen_free(s);
}
END_TEST

static vtev_verdict_t on_old(vtev_consumer_t *c, const vtev_event_t *ev, const vtev_msg_info_t *info,
                             void *opaque) {
    vtev_event_t *out = opaque;
    (void)c, (void)info;
    ck_assert_int_eq(vtev_event_copy(out, ev), VTEV_ERR_OK);
    return VTEV_VERDICT_OK;
}

static int have_old(void *arg) {
    return ((vtev_event_t *)arg)->type != VTEV_EVENT_NONE;
}

/* The 0.1 API and the generated types write the same bytes and read each other's. */
START_TEST(test_wire_compatible_with_0_1_api) {
    const char *mock = mock_name("compat");
    vtev_producer_t *p = producer(mock);
    vtev_consumer_t *c;
    vtev_event_t old, got;
    vtev_vessel_position_updated_t ev;
    seen_t *s = calloc(1, sizeof(*s));
    char e[512];

    /* 0.1 writes, the generated type reads (fast path: same canonical form) */
    ctu_position(&old, "v-old");
    ck_assert_int_eq(vtev_producer_publish_position(p, &old.u.position, NULL, e, sizeof(e)), VTEV_ERR_OK);
    flush(p);
    c = consumer(mock);
    ck_assert_int_eq(vtev_consumer_subscribe_type(c, POS, "vessel-position-updates", on_typed, s, e,
                                                  sizeof(e)),
                     VTEV_ERR_OK);
    poll_n(c, s, 1);
    ck_assert_str_contains(s->json[0], old.u.env.event_id);
    ck_assert_str_contains(s->json[0], "\"vessel_id\": \"v-old\"");
    ck_assert_str_contains(s->json[0], "\"lat\": 51.95");
    ck_assert_str_eq(s->key[0], "v-old");
    vtev_consumer_destroy(c);

    /* the generated type writes, 0.1 reads */
    position(&ev, "v-new", -33.5);
    ck_assert_int_eq(vtev_producer_publish_type(p, POS, "positions-2", &ev, NULL, 0, NULL, 0, NULL, e,
                                                sizeof(e)),
                     VTEV_ERR_OK);
    flush(p);
    c = consumer(mock);
    memset(&got, 0, sizeof(got));
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, "positions-2", on_old, &got, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert(ctu_poll_until(c, have_old, &got, 20000));
    ck_assert_str_eq(got.u.position.env.event_id, ev.event_id);
    ck_assert_str_eq(got.u.position.env.vessel_id, "v-new");
    ck_assert(got.u.position.data.lat == -33.5);
    ck_assert(got.u.position.data.heading == 271.5);
    ck_assert_str_eq(got.u.position.data.status, "underway");
    ck_assert_int_eq(got.u.position.env.timestamp_us, ev.timestamp);
    vtev_event_clear(&got);
    vtev_consumer_destroy(c);
    vtev_event_clear(&old);
    vtev_vessel_position_updated_clear(&ev);
    vtev_producer_destroy(p);
    seen_free(s);
}
END_TEST

/* An evolved writer goes through the resolving path: enums by symbol (an
 * unknown one takes the reader's default), promotions, a skipped writer
 * field and a reader default filled. */
START_TEST(test_resolving_path) {
    const char *mock = mock_name("resolve");
    vtev_producer_t *p = producer(mock);
    vtev_consumer_t *c = consumer(mock);
    seen_t *s = calloc(1, sizeof(*s));
    static const w2_priority_t wp[] = {W2_PRIORITY_HIGH, W2_PRIORITY_NORMAL, W2_PRIORITY_LOW,
                                       W2_PRIORITY_URGENT};
    static const int64_t want[] = {VTEV_REQUEST_PRIORITY_HIGH, VTEV_REQUEST_PRIORITY_NORMAL,
                                   VTEV_REQUEST_PRIORITY_LOW, VTEV_REQUEST_PRIORITY_NORMAL};
    char e[512];
    int i;
    for (i = 0; i < 4; i++) {
        w2_prediction_analysis_requested_t w;
        char id[16];
        ck_assert_int_eq(w2_prediction_analysis_requested_init(&w), VTEV_ERR_OK);
        w.timestamp = 1768059000000000 + i;
        w.vessel_id = strdup("lng-9");
        snprintf(id, sizeof(id), "req-%08d", i);
        w.request_id = strdup(id);
        w.data.priority = wp[i];
        w.data.vessel_snapshot.lat = 29.7;
        w.data.vessel_snapshot.lon = -93.8;
        w.data.vessel_snapshot.speed = 12.5f;
        w.data.vessel_snapshot.heading = 90;
        w.data.vessel_snapshot.status = strdup("underway");
        w.data.has_terminal_filter = i % 2 == 0;
        w.data.terminal_filter = 7 + i;
        w.extra.len = 1;
        w.extra.items = calloc(1, sizeof(char *));
        w.extra.items[0] = strdup("skipped");
        ck_assert_int_eq(vtev_producer_publish_type(p, W2, "prediction-requests", &w, NULL, 0, NULL,
                                                    0, NULL, e, sizeof(e)),
                         VTEV_ERR_OK);
        w2_prediction_analysis_requested_clear(&w);
    }
    flush(p);
    ck_assert_int_eq(vtev_consumer_subscribe_type(c, REQ, "prediction-requests", on_typed, s, e,
                                                  sizeof(e)),
                     VTEV_ERR_OK);
    poll_n(c, s, 4);
    for (i = 0; i < 4; i++) {
        ck_assert_int_eq(s->prio[i], want[i]);
        ck_assert_int_eq(s->filter[i], i % 2 == 0 ? 7 + i : -1); /* int -> long */
        ck_assert(s->speed[i] == 12.5);                          /* float -> double */
        ck_assert_uint_eq(s->md[i], 0);                          /* the reader's default {} */
        ck_assert_str_contains(s->json[i], "\"request_id\": \"req-0000000");
        ck_assert(strstr(s->json[i], "skipped") == NULL);
    }
    {
        vtev_consumer_stats_t st;
        ck_assert_int_eq(vtev_consumer_type_stats(c, REQ, &st), VTEV_ERR_OK);
        ck_assert_uint_eq(st.ok, 4);
        ck_assert_uint_eq(st.dead_lettered, 0);
    }
    vtev_consumer_destroy(c);
    vtev_producer_destroy(p);
    seen_free(s);
}
END_TEST

static int dead1(void *arg) {
    vtev_consumer_stats_t st;
    vtev_consumer_type_stats(arg, REQ, &st);
    return st.dead_lettered >= 1;
}

/* The reader's constraints are checked after decoding: a writer without
 * them cannot get an invalid event to the handler. */
START_TEST(test_constraints) {
    const char *mock = mock_name("invalid");
    vtev_producer_t *p = producer(mock);
    vtev_consumer_t *c = consumer(mock);
    vtev_vessel_position_updated_t ev;
    w2_prediction_analysis_requested_t w;
    seen_t *s = calloc(1, sizeof(*s));
    char e[512];
    position(&ev, "v1", 91);
    ck_assert_int_eq(vtev_producer_publish_type(p, POS, "vessel-position-updates", &ev, NULL, 0,
                                                NULL, 0, NULL, e, sizeof(e)),
                     VTEV_ERR_INVALID);
    ck_assert_str_eq(e, "data.lat: 91 is outside [-90, 90]");
    vtev_vessel_position_updated_clear(&ev);

    ck_assert_int_eq(w2_prediction_analysis_requested_init(&w), VTEV_ERR_OK);
    w.timestamp = 1768059000000000;
    w.vessel_id = strdup("v2");
    w.request_id = strdup("req-1");
    w.data.vessel_snapshot.lat = 95; /* the writer has no constraint */
    w.data.vessel_snapshot.status = strdup("underway");
    ck_assert_int_eq(vtev_producer_publish_type(p, W2, "prediction-requests", &w, NULL, 0, NULL, 0,
                                                NULL, e, sizeof(e)),
                     VTEV_ERR_OK);
    w2_prediction_analysis_requested_clear(&w);
    flush(p);
    ck_assert_int_eq(vtev_consumer_subscribe_type(c, REQ, "prediction-requests", on_typed, s, e,
                                                  sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert(ctu_poll_until(c, dead1, c, 20000));
    ck_assert_int_eq(atomic_load(&s->n), 0);
    {
        ctu_dlq_msg_t m[2];
        char v[512];
        ck_assert_uint_eq(dead_letters(mock, "prediction-requests", m, 2), 1);
        ck_assert_str_eq(ctu_hdr(&m[0], "vtev.error.code", v, sizeof(v)), "INVALID");
        ck_assert_str_contains(ctu_hdr(&m[0], "vtev.error.message", v, sizeof(v)),
                               "data.vessel_snapshot.lat: 95 is outside [-90, 90]");
        ctu_dlq_free(m, 1);
    }
    vtev_consumer_destroy(c);
    vtev_producer_destroy(p);
    seen_free(s);
}
END_TEST

static vtev_consumer_t *mixed_c;
static int mixed_done(void *arg) {
    seen_t **both = arg;
    vtev_consumer_stats_t st;
    vtev_consumer_stats(mixed_c, VTEV_EVENT_NONE, &st);
    return atomic_load(&both[0]->n) >= 1 && atomic_load(&both[1]->n) >= 1 && st.dead_lettered >= 1;
}

/* Several types on one topic: each message goes to its writer's type. */
/* The schema id of a generated type follows the serde, the topic and the
 * type, also when one thread alternates between them (the serde keeps the
 * last lookup per thread): each id is the one its registry has for that
 * subject and schema. */
static int32_t id_of(vtev_serde_t *s, const char *topic, const vtev_type_t *type, const void *ev) {
    vtev_buf_t buf = {0};
    int32_t id = -1, fid = -2;
    char e[512];
    ck_assert_msg(vtev_serde_serialize_type(s, topic, type, ev, &buf, &id, e, sizeof(e)) ==
                      VTEV_ERR_OK,
                  "%s", e);
    ck_assert_int_eq(vtev_frame_parse(buf.data, buf.len, &fid, NULL, NULL, e, sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(fid, id);
    vtev_buf_free(&buf);
    return id;
}

static int32_t registry_id(const char *mock, const char *subject, const vtev_type_t *type) {
    vtev_conf_t *conf = vtev_conf_new();
    vtev_registry_t *reg;
    int32_t id = -1;
    char e[512];
    ctu_set(conf, "schema.registry.url", mock);
    reg = vtev_registry_new(conf, e, sizeof(e));
    ck_assert_msg(reg != NULL, "%s", e);
    ck_assert_msg(vtev_registry_schema_id_for(reg, subject, type->schema_json, &id, e, sizeof(e)) ==
                      VTEV_ERR_OK,
                  "%s", e);
    vtev_registry_destroy(reg);
    return id;
}

START_TEST(test_schema_id_per_serde_topic_type) {
    char ma[128], mb[128], e[512];
    vtev_serde_t *sa, *sb;
    vtev_conf_t *conf;
    vtev_vessel_position_updated_t pos;
    vtev_prediction_analysis_requested_t req;
    int32_t b_req, a_pos_t, b_pos_t, a_pos_u, a_req_t;
    int round;
    snprintf(ma, sizeof(ma), "%s", mock_name("ida"));
    snprintf(mb, sizeof(mb), "%s", mock_name("idb"));
    conf = vtev_conf_new();
    ctu_set(conf, "schema.registry.url", ma);
    ck_assert_msg((sa = vtev_serde_new(conf, e, sizeof(e))) != NULL, "%s", e);
    conf = vtev_conf_new();
    ctu_set(conf, "schema.registry.url", mb);
    ck_assert_msg((sb = vtev_serde_new(conf, e, sizeof(e))) != NULL, "%s", e);
    position(&pos, "v1", 10);
    ck_assert_int_eq(vtev_prediction_analysis_requested_init(&req), VTEV_ERR_OK);
    req.vessel_id = strdup("v2");
    req.request_id = strdup("req-2");
    req.data.vessel_snapshot.status = strdup("moored");

    b_req = id_of(sb, "r", REQ, &req); /* registry B: another schema gets the first id */
    for (round = 0; round < 3; round++) {
        a_pos_t = id_of(sa, "t", POS, &pos);
        ck_assert_int_eq(id_of(sa, "t", POS, &pos), a_pos_t);
        b_pos_t = id_of(sb, "t", POS, &pos);
        a_pos_u = id_of(sa, "u", POS, &pos);
        a_req_t = id_of(sa, "r", REQ, &req);
        ck_assert_int_eq(a_pos_t, registry_id(ma, "t-value", POS));
        ck_assert_int_eq(b_pos_t, registry_id(mb, "t-value", POS));
        ck_assert_int_eq(a_pos_u, registry_id(ma, "u-value", POS));
        ck_assert_int_eq(a_req_t, registry_id(ma, "r-value", REQ));
        ck_assert_int_eq(b_req, registry_id(mb, "r-value", REQ));
        ck_assert_int_ne(a_req_t, a_pos_t);
        ck_assert_int_ne(b_pos_t, b_req);
    }
    /* a serde made after one is destroyed (maybe at its address) starts afresh */
    vtev_serde_destroy(sa);
    conf = vtev_conf_new();
    ctu_set(conf, "schema.registry.url", mb);
    ck_assert_msg((sa = vtev_serde_new(conf, e, sizeof(e))) != NULL, "%s", e);
    ck_assert_int_eq(id_of(sa, "t", POS, &pos), b_pos_t);
    vtev_serde_destroy(sa);
    vtev_serde_destroy(sb);
    vtev_vessel_position_updated_clear(&pos);
    vtev_prediction_analysis_requested_clear(&req);
}
END_TEST

START_TEST(test_dispatch_by_writer_name) {
    const char *mock = mock_name("mixed");
    vtev_producer_t *p = producer_with(mock, "record"); /* one subject per record */
    vtev_consumer_t *c = consumer(mock);
    seen_t *sp = calloc(1, sizeof(*sp)), *sr = calloc(1, sizeof(*sr));
    vtev_vessel_position_updated_t pos;
    vtev_prediction_analysis_requested_t req;
    vtev_prediction_analysis_completed_t res;
    vtev_err_t err;
    char e[512];
    position(&pos, "v1", 10);
    ck_assert_int_eq(vtev_prediction_analysis_requested_init(&req), VTEV_ERR_OK);
    req.vessel_id = strdup("v2");
    req.request_id = strdup("req-2");
    req.data.vessel_snapshot.status = strdup("moored");
    ck_assert_int_eq(vtev_prediction_analysis_completed_init(&res), VTEV_ERR_OK);
    res.vessel_id = strdup("v3");
    res.request_id = strdup("req-3");
    res.data.prediction_id = strdup("p-3");
    res.data.terminal_name = strdup("Sabine Pass");
    res.data.vessel_snapshot.status = strdup("underway");
    ck_assert_int_eq(vtev_producer_publish_type(p, POS, "mixed", &pos, NULL, 0, NULL, 0, NULL, e, sizeof(e)),
                     VTEV_ERR_OK);
    err = vtev_producer_publish_type(p, RES, "mixed", &res, NULL, 0, NULL, 0, NULL, e, sizeof(e));
    ck_assert_msg(err == VTEV_ERR_OK, "%s", e);
    ck_assert_int_eq(vtev_producer_publish_type(p, REQ, "mixed", &req, NULL, 0, NULL, 0, NULL, e, sizeof(e)),
                     VTEV_ERR_OK);
    flush(p);
    ck_assert_int_eq(vtev_consumer_subscribe_type(c, POS, "mixed", on_typed, sp, e, sizeof(e)), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_consumer_subscribe_type(c, REQ, "mixed", on_typed, sr, e, sizeof(e)), VTEV_ERR_OK);
    {
        seen_t *both[2] = {sp, sr};
        mixed_c = c;
        vtev_consumer_stats_t st;
        int ok = ctu_poll_until(c, mixed_done, both, 60000);
        vtev_consumer_stats(c, VTEV_EVENT_NONE, &st);
        ck_assert_msg(ok, "positions %d, requests %d, dead letters %llu (consumed %llu)",
                      atomic_load(&sp->n), atomic_load(&sr->n),
                      (unsigned long long)st.dead_lettered, (unsigned long long)st.consumed);
    }
    ck_assert_int_eq(atomic_load(&sp->n), 1);
    ck_assert_int_eq(atomic_load(&sr->n), 1);
    ck_assert_ptr_eq(sp->type[0], POS);
    ck_assert_str_contains(sp->json[0], "\"vessel_id\": \"v1\"");
    ck_assert_ptr_eq(sr->type[0], REQ);
    ck_assert_str_contains(sr->json[0], "\"request_id\": \"req-2\"");
    {
        /* the result had no subscription: dead-lettered */
        ctu_dlq_msg_t m[4];
        char v[512];
        ck_assert_uint_eq(dead_letters(mock, "mixed", m, 4), 1);
        ck_assert_str_eq(ctu_hdr(&m[0], "vtev.error.code", v, sizeof(v)), "NOT_FOUND");
        ck_assert_str_contains(ctu_hdr(&m[0], "vtev.error.message", v, sizeof(v)),
                               "com.vesseltrack.events.PredictionAnalysisCompleted");
        ctu_dlq_free(m, 1);
    }
    vtev_vessel_position_updated_clear(&pos);
    vtev_prediction_analysis_requested_clear(&req);
    vtev_prediction_analysis_completed_clear(&res);
    vtev_consumer_destroy(c);
    vtev_producer_destroy(p);
    seen_free(sp);
    seen_free(sr);
}
END_TEST

START_TEST(test_descriptor_checks) {
    const char *mock = mock_name("abi");
    vtev_producer_t *p = producer(mock);
    vtev_consumer_t *c = consumer(mock);
    vtev_type_t future = *POS;
    vtev_vessel_position_updated_t ev;
    char e[512];
    future.abi_version = VTEV_TYPE_ABI_VERSION + 1;
    position(&ev, "v", 1);
    ck_assert_int_eq(vtev_producer_publish_type(p, &future, "t", &ev, NULL, 0, NULL, 0, NULL, e, sizeof(e)),
                     VTEV_ERR_INVALID_ARG);
    ck_assert_str_contains(e, "descriptor ABI version");
    ck_assert_int_eq(vtev_consumer_subscribe_type(c, &future, "t", on_typed, NULL, e, sizeof(e)),
                     VTEV_ERR_INVALID_ARG);
    ck_assert_int_eq(vtev_consumer_subscribe_type(c, POS, NULL, on_typed, NULL, e, sizeof(e)),
                     VTEV_ERR_INVALID_ARG);
    ck_assert_int_eq(vtev_producer_publish_type(p, POS, NULL, &ev, NULL, 0, NULL, 0, NULL, e, sizeof(e)),
                     VTEV_ERR_INVALID_ARG);
    ck_assert_int_eq(vtev_consumer_type_stats(c, NULL, NULL), VTEV_ERR_INVALID_ARG);
    vtev_vessel_position_updated_clear(&ev);
    vtev_consumer_destroy(c);
    vtev_producer_destroy(p);
}
END_TEST

int main(void) {
    Suite *s = suite_create("typed");
    TCase *tc = tcase_create("typed");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_fingerprint_matches_generated);
    tcase_add_test(tc, test_canonical_form_rules);
    tcase_add_test(tc, test_typed_round_trip);
    tcase_add_test(tc, test_wire_compatible_with_0_1_api);
    tcase_add_test(tc, test_resolving_path);
    tcase_add_test(tc, test_constraints);
    tcase_add_test(tc, test_dispatch_by_writer_name);
    tcase_add_test(tc, test_schema_id_per_serde_topic_type);
    tcase_add_test(tc, test_descriptor_checks);
    suite_add_tcase(s, tc);
    return vtev_test_run(s);
}
