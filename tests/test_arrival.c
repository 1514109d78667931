/*
 * test_arrival.c - the stream examples/arrival defines outside the library
 * (vessel.arrival.recorded.avsc, generated with --prefix acme) through the
 * typed runtime, on the embedded mock cluster and mock:// registry: an
 * arrival that breaks the schema's constraints is refused by the typed
 * publish with the field named and nothing sent; one that a careless writer
 * sends anyway is dead-lettered by the typed consumer, the field named in the
 * dead letter's headers; a later writer's new outcome symbol reads as the
 * enum's default (tests/schemas/vessel.arrival.recorded.w2.avsc, prefix w2).
 */
#include <stdatomic.h>

#include "consumer_testutil.h"
#include "mock_cluster.h"
#include "testutil.h"
#include "vessel_arrival_recorded.h"
#include "vessel_arrival_recorded_w2.h"

#define ARR (&acme_vessel_arrival_recorded_type)
#define ARR_W2 (&w2_vessel_arrival_recorded_type)
#define TOPIC "vessel-arrivals"

static char g_mock[128];
static int g_seq;

static const char *mock_name(const char *what) {
    snprintf(g_mock, sizeof(g_mock), "mock://arrival-%s-%d-%d", what, (int)getpid(), g_seq++);
    return g_mock;
}

static vtev_producer_t *producer(const char *mock) {
    vtev_conf_t *conf = vtev_conf_new();
    vtev_producer_t *p;
    char e[512];
    ctu_set(conf, "bootstrap.servers", mock);
    ctu_set(conf, "schema.registry.url", mock);
    ctu_set(conf, "log.level", "3");
    p = vtev_producer_new(conf, e, sizeof(e));
    ck_assert_msg(p != NULL, "producer: %s", e);
    return p;
}

static vtev_consumer_t *consumer(const char *mock) {
    char e[512];
    vtev_consumer_t *c = vtev_consumer_new(ctu_conf(mock, mock, "g-arrival"), e, sizeof(e));
    ck_assert_msg(c != NULL, "consumer: %s", e);
    return c;
}

/* A valid arrival of IMO9239599 at Corpus Christi LNG, predicted right. */
static void arrival(acme_vessel_arrival_recorded_t *a, const char *vessel) {
    ck_assert_int_eq(acme_vessel_arrival_recorded_init(a), VTEV_ERR_OK);
    a->vessel_id = strdup(vessel);
    a->data.terminal_id = 7;
    a->data.terminal_name = strdup("Corpus Christi LNG");
    a->data.arrived_at = INT64_C(1768059000000); /* 2026-01-10T15:30:00Z, milliseconds */
    a->data.outcome = ACME_ARRIVAL_OUTCOME_MATCHED;
    a->data.has_predicted_terminal_id = true;
    a->data.predicted_terminal_id = 7;
    a->data.has_eta_error_hours = true;
    a->data.eta_error_hours = 0.5;
}

typedef struct {
    atomic_int n;
    char vessel[4][64];
    int outcome[4];
    int64_t arrived_at[4];
    char key[4][64];
} seen_t;

static vtev_verdict_t on_arrival(vtev_consumer_t *c, const vtev_type_t *type, const void *ev,
                                 const vtev_msg_info_t *info, void *opaque) {
    const acme_vessel_arrival_recorded_t *a = ev;
    seen_t *s = opaque;
    int i = atomic_load(&s->n);
    (void)c;
    ck_assert_ptr_eq(type, ARR);
    if (i < 4) {
        snprintf(s->vessel[i], sizeof(s->vessel[i]), "%s", a->vessel_id);
        snprintf(s->key[i], sizeof(s->key[i]), "%.*s", (int)info->key_len, (const char *)info->key);
        s->outcome[i] = (int)a->data.outcome;
        s->arrived_at[i] = a->data.arrived_at;
    }
    atomic_store(&s->n, i + 1);
    return VTEV_VERDICT_OK;
}

static vtev_consumer_t *g_c;
static int g_want;
static int seen_and_dead(void *arg) {
    vtev_consumer_stats_t st;
    ck_assert_int_eq(vtev_consumer_type_stats(g_c, ARR, &st), VTEV_ERR_OK);
    return atomic_load(&((seen_t *)arg)->n) >= g_want && st.dead_lettered >= 1;
}
static int seen_n(void *arg) {
    return atomic_load(&((seen_t *)arg)->n) >= g_want;
}

/* The typed publish validates: the field is named, nothing is enqueued. */
START_TEST(test_refused_at_publish) {
    static const struct {
        const char *what, *want;
    } cases[] = {
        {"empty terminal_name", "data.terminal_name: \"\" must not be empty"},
        {"terminal_id 0", "data.terminal_id: 0 is outside [1, inf)"},
        {"arrived_at 0",
         "data.arrived_at: 0 is outside (0, 253402300799999] milliseconds since the epoch"},
        {"confidence 1.5", "data.confidence_score: 1.5 is outside [0, 1]"},
        {"eta error NaN", "data.eta_error_hours: NaN is not a finite number"},
        {"outcome 7", "data.outcome: 7 is not one of matched, other_terminal, unknown"},
        {"empty vessel_id", "vessel_id: \"\" must not be empty"},
    };
    const char *mock = mock_name("publish");
    vtev_producer_t *p = producer(mock);
    vtev_producer_stats_t st;
    char e[512];
    size_t i;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        acme_vessel_arrival_recorded_t a;
        arrival(&a, "IMO9239599");
        switch (i) {
        case 0: a.data.terminal_name[0] = '\0'; break;
        case 1: a.data.terminal_id = 0; break;
        case 2: a.data.arrived_at = 0; break;
        case 3:
            a.data.has_confidence_score = true;
            a.data.confidence_score = 1.5;
            break;
        case 4: a.data.eta_error_hours = NAN; break;
        case 5: a.data.outcome = (acme_arrival_outcome_t)7; break;
        default: a.vessel_id[0] = '\0'; break;
        }
        ck_assert_int_eq(vtev_producer_publish_type(p, ARR, TOPIC, &a, NULL, 0, NULL, 0, NULL, e,
                                                    sizeof(e)),
                         VTEV_ERR_INVALID);
        ck_assert_msg(!strcmp(e, cases[i].want), "%s: %s", cases[i].what, e);
        acme_vessel_arrival_recorded_clear(&a);
    }
    ck_assert_int_eq(vtev_producer_stats(p, VTEV_EVENT_NONE, &st), VTEV_ERR_OK);
    ck_assert_uint_eq(st.published, 0);
    ck_assert_uint_eq(vtev_producer_outstanding(p), 0);
    vtev_producer_destroy(p);
}
END_TEST

/* A writer that skips validation (serialize_type does not validate) cannot
 * get a bad arrival to the handler: the typed consumer dead-letters it. */
START_TEST(test_refused_at_consume) {
    const char *mock = mock_name("consume");
    vtev_producer_t *p = producer(mock);
    vtev_consumer_t *c = consumer(mock);
    vtev_serde_t *serde;
    vtev_conf_t *sconf = vtev_conf_new();
    acme_vessel_arrival_recorded_t bad, good;
    vtev_buf_t buf = {0};
    seen_t *s = calloc(1, sizeof(*s));
    ctu_dlq_msg_t m[2];
    char e[512], v[512];
    const char *bs;
    ctu_set(sconf, "schema.registry.url", mock);
    serde = vtev_serde_new(sconf, e, sizeof(e));
    ck_assert_msg(serde != NULL, "serde: %s", e);

    arrival(&bad, "IMO9312345");
    bad.data.has_confidence_score = true;
    bad.data.confidence_score = -0.25;
    ck_assert_int_eq(vtev_serde_serialize_type(serde, TOPIC, ARR, &bad, &buf, NULL, e, sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(vtev_producer_publish_raw(p, TOPIC, buf.data, buf.len, "IMO9312345", 10, NULL,
                                               0, NULL, e, sizeof(e)),
                     VTEV_ERR_OK);
    arrival(&good, "IMO9239599");
    ck_assert_int_eq(vtev_producer_publish_type(p, ARR, TOPIC, &good, NULL, 0, NULL, 0, NULL, e,
                                                sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(vtev_producer_flush(p, 20000), VTEV_ERR_OK);

    ck_assert_int_eq(vtev_consumer_subscribe_type(c, ARR, TOPIC, on_arrival, s, e, sizeof(e)),
                     VTEV_ERR_OK);
    g_c = c;
    g_want = 1;
    ck_assert_msg(ctu_poll_until(c, seen_and_dead, s, 30000), "seen %d", atomic_load(&s->n));
    ck_assert_int_eq(atomic_load(&s->n), 1);
    ck_assert_str_eq(s->vessel[0], "IMO9239599");
    ck_assert_str_eq(s->key[0], "IMO9239599"); /* vt.key */
    ck_assert_int_eq(s->outcome[0], ACME_ARRIVAL_OUTCOME_MATCHED);
    ck_assert(s->arrived_at[0] == INT64_C(1768059000000));

    bs = vtev__mock_cluster_bootstraps(mock + 7, e, sizeof(e));
    ck_assert_msg(bs != NULL, "%s", e);
    ck_assert_uint_eq(ctu_read_topic(bs, TOPIC ".dlq", m, 2, 10000), 1);
    ck_assert_str_eq(m[0].key, "IMO9312345");
    ck_assert_str_eq(ctu_hdr(&m[0], "vtev.error.code", v, sizeof(v)), "INVALID");
    ck_assert_str_contains(ctu_hdr(&m[0], "vtev.error.message", v, sizeof(v)),
                           "data.confidence_score: -0.25 is outside [0, 1]");
    ctu_dlq_free(m, 1);

    acme_vessel_arrival_recorded_clear(&bad);
    acme_vessel_arrival_recorded_clear(&good);
    vtev_buf_free(&buf);
    vtev_serde_destroy(serde);
    vtev_consumer_destroy(c);
    vtev_producer_destroy(p);
    free(s);
}
END_TEST

/* A later writer with one more outcome: the reader takes the enum's default
 * (why the schema gives ArrivalOutcome one) and skips the field it lacks. */
START_TEST(test_later_writer_outcome_reads_as_default) {
    const char *mock = mock_name("w2");
    vtev_producer_t *p = producer(mock);
    vtev_consumer_t *c = consumer(mock);
    seen_t *s = calloc(1, sizeof(*s));
    static const w2_arrival_outcome_t wo[] = {W2_ARRIVAL_OUTCOME_CANCELLED,
                                              W2_ARRIVAL_OUTCOME_OTHER_TERMINAL};
    static const int want[] = {ACME_ARRIVAL_OUTCOME_UNKNOWN, ACME_ARRIVAL_OUTCOME_OTHER_TERMINAL};
    char e[512];
    int i;
    for (i = 0; i < 2; i++) {
        w2_vessel_arrival_recorded_t w;
        ck_assert_int_eq(w2_vessel_arrival_recorded_init(&w), VTEV_ERR_OK);
        w.vessel_id = strdup(i ? "IMO9301235" : "IMO9301234");
        w.data.terminal_id = 2;
        w.data.terminal_name = strdup("Golden Pass LNG");
        w.data.has_berth = true;
        w.data.berth = strdup("berth 3");
        w.data.arrived_at = INT64_C(1768068000000) + i;
        w.data.outcome = wo[i];
        ck_assert_int_eq(vtev_producer_publish_type(p, ARR_W2, TOPIC, &w, NULL, 0, NULL, 0, NULL,
                                                    e, sizeof(e)),
                         VTEV_ERR_OK);
        w2_vessel_arrival_recorded_clear(&w);
    }
    ck_assert_int_eq(vtev_producer_flush(p, 20000), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_consumer_subscribe_type(c, ARR, TOPIC, on_arrival, s, e, sizeof(e)),
                     VTEV_ERR_OK);
    g_want = 2;
    ck_assert_msg(ctu_poll_until(c, seen_n, s, 30000), "seen %d", atomic_load(&s->n));
    for (i = 0; i < 2; i++) {
        /* one partition per key: find the arrival by its vessel */
        int j = !strcmp(s->vessel[0], i ? "IMO9301235" : "IMO9301234") ? 0 : 1;
        ck_assert_int_eq(s->outcome[j], want[i]);
        ck_assert(s->arrived_at[j] == INT64_C(1768068000000) + i);
    }
    vtev_consumer_destroy(c);
    vtev_producer_destroy(p);
    free(s);
}
END_TEST

int main(void) {
    Suite *s = suite_create("arrival");
    TCase *tc = tcase_create("arrival");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_refused_at_publish);
    tcase_add_test(tc, test_refused_at_consume);
    tcase_add_test(tc, test_later_writer_outcome_reads_as_default);
    suite_add_tcase(s, tc);
    return vtev_test_run(s);
}
