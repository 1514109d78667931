/*
 * test_producer_integration.c - the producer against the real broker and
 * registry (KAFKA_BOOTSTRAP_SERVERS, SCHEMA_REGISTRY_URL): N events of each
 * type read back with a plain librdkafka consumer and decoded equal; same
 * vessel -> same partition; headers; schema ids resolve in the registry;
 * aborted transactions invisible to read_committed, committed ones visible.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <vtevents/vtevents.h>
#include <vtevents/registry.h>

#include "producer_fixtures.h"
#include "testutil.h"

#define N 50

static const char *brokers, *registry;

typedef struct {
    pthread_mutex_t lock;
    int n, ok;
    char ids[3 * N + 20][VTEV_UUID_LEN + 1];
    int32_t part[3 * N + 20];
    const char *vessel[3 * N + 20];
} reports_t;

static void dr_cb(vtev_producer_t *p, const vtev_delivery_report_t *dr, void *opaque) {
    reports_t *rs = opaque;
    (void)p;
    pthread_mutex_lock(&rs->lock);
    if (rs->n < 3 * N + 20) {
        snprintf(rs->ids[rs->n], sizeof(rs->ids[0]), "%s", dr->event_id);
        rs->part[rs->n] = dr->partition;
        rs->vessel[rs->n] = dr->msg_opaque;
    }
    rs->n++;
    if (!dr->err)
        rs->ok++;
    pthread_mutex_unlock(&rs->lock);
}

static void create_topic(const char *topic, int partitions) {
    char e[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_t *rk;
    rd_kafka_NewTopic_t *nt;
    rd_kafka_queue_t *q;
    rd_kafka_event_t *ev;
    const rd_kafka_CreateTopics_result_t *res;
    const rd_kafka_topic_result_t **tr;
    size_t cnt;
    rd_kafka_conf_set(c, "bootstrap.servers", brokers, e, sizeof(e));
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, e, sizeof(e));
    ck_assert_msg(rk != NULL, "%s", e);
    nt = rd_kafka_NewTopic_new(topic, partitions, 1, e, sizeof(e));
    /* the platform's topics are gzip at topic level */
    rd_kafka_NewTopic_set_config(nt, "compression.type", "gzip");
    q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    ev = rd_kafka_queue_poll(q, 30000);
    ck_assert_ptr_nonnull(ev);
    res = rd_kafka_event_CreateTopics_result(ev);
    ck_assert_ptr_nonnull(res);
    tr = rd_kafka_CreateTopics_result_topics(res, &cnt);
    ck_assert_uint_eq(cnt, 1);
    ck_assert_msg(rd_kafka_topic_result_error(tr[0]) == 0 ||
                      rd_kafka_topic_result_error(tr[0]) == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS,
                  "%s: %s", topic, rd_kafka_topic_result_error_string(tr[0]));
    rd_kafka_event_destroy(ev);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
}

static vtev_conf_t *mk_conf(const char *tp, const char *tq, const char *tr) {
    char e[512];
    vtev_conf_t *c = vtev_conf_new();
    ck_assert_int_eq(vtev_conf_set(c, "bootstrap.servers", brokers, e, sizeof(e)), VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_set(c, "schema.registry.url", registry, e, sizeof(e)),
                     VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_set(c, "topic.position", tp, e, sizeof(e)), VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_set(c, "topic.request", tq, e, sizeof(e)), VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_set(c, "topic.result", tr, e, sizeof(e)), VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_set(c, "log.level", "3", e, sizeof(e)), VTEV_CONF_OK);
    return c;
}

static const char *vessels[] = {"IMO9321483", "IMO9700000", "IMO9811000", "IMO9404003",
                                "IMO9505504"};

START_TEST(n_events_each_type_roundtrip) {
    char e[512], topic[3][128];
    static const int parts[3] = {3, 5, 3};
    static const char *kind[3] = {"pos", "req", "res"};
    static vtev_event_t evs[3][N];
    static reports_t rs;
    vtev_producer_t *p;
    vtev_serde_t *serde;
    vtev_registry_t *reg;
    vtev_conf_t *rc;
    int t, i, j;
    memset(&rs, 0, sizeof(rs));
    pthread_mutex_init(&rs.lock, NULL);
    for (t = 0; t < 3; t++) {
        char pfx[64];
        snprintf(pfx, sizeof(pfx), "it-prod-%s", kind[t]);
        fx_unique(topic[t], sizeof(topic[t]), pfx);
        create_topic(topic[t], parts[t]);
    }
    p = vtev_producer_new(mk_conf(topic[0], topic[1], topic[2]), e, sizeof(e));
    ck_assert_msg(p != NULL, "%s", e);
    vtev_producer_set_dr_cb(p, dr_cb, &rs);
    for (t = 0; t < 3; t++)
        for (i = 0; i < N; i++) {
            fx_make(&evs[t][i], (vtev_event_type_t)(t + 1), vessels[i % 5], i);
            ck_assert_msg(vtev_producer_publish(p, &evs[t][i], (void *)vessels[i % 5], e,
                                                sizeof(e)) == VTEV_ERR_OK,
                          "%s", e);
        }
    ck_assert_int_eq(vtev_producer_flush(p, 60000), VTEV_ERR_OK);
    ck_assert_int_eq(rs.n, 3 * N);
    ck_assert_int_eq(rs.ok, 3 * N);
    /* same vessel -> same partition (per topic) */
    for (i = 0; i < rs.n; i++)
        for (j = 0; j < rs.n; j++)
            if (rs.vessel[i] == rs.vessel[j] && i / N == j / N)
                ck_assert_int_eq(rs.part[i], rs.part[j]);
    vtev_producer_destroy(p);

    serde = vtev_serde_new(mk_conf(topic[0], topic[1], topic[2]), e, sizeof(e));
    ck_assert_msg(serde != NULL, "%s", e);
    rc = mk_conf(topic[0], topic[1], topic[2]);
    reg = vtev_registry_new(rc, e, sizeof(e));
    ck_assert_msg(reg != NULL, "%s", e);
    for (t = 0; t < 3; t++) {
        static rd_kafka_message_t *msgs[N + 5];
        rd_kafka_t *rk = fx_reader(brokers, topic[t], parts[t], "read_committed");
        int n = fx_read(rk, msgs, N + 5, 3000, 60000), found = 0;
        int32_t last_id = -1;
        ck_assert_int_eq(n, N);
        for (j = 0; j < n; j++) {
            vtev_event_t out;
            char h[128];
            int32_t id;
            ck_assert_msg(vtev_serde_deserialize(serde, topic[t], VTEV_EVENT_NONE,
                                                 msgs[j]->payload, msgs[j]->len, &out, &id, e,
                                                 sizeof(e)) == VTEV_ERR_OK,
                          "%s", e);
            ck_assert_int_eq(out.type, t + 1);
            if (id != last_id) {
                /* the id resolves in the registry to the type's schema */
                char *json = NULL;
                vtev_schema_t *sc;
                ck_assert_msg(vtev_registry_get_schema(reg, id, &json, e, sizeof(e)) ==
                                  VTEV_ERR_OK,
                              "%s", e);
                sc = vtev_schema_new(json, strlen(json), e, sizeof(e));
                ck_assert_msg(sc != NULL, "%s", e);
                ck_assert_str_eq(vtev_schema_fullname(sc),
                                 vtev_schema_fullname(vtev_event_schema(out.type)));
                vtev_schema_destroy(sc);
                vtev_free(json);
                last_id = id;
            }
            for (i = 0; i < N; i++) {
                if (strcmp(evs[t][i].u.env.event_id, out.u.env.event_id))
                    continue;
                found++;
                fx_assert_equal(&evs[t][i], &out);
                ck_assert(!memcmp(msgs[j]->key, vessels[i % 5], msgs[j]->key_len));
                ck_assert(fx_header(msgs[j], "event_type", h, sizeof(h)));
                ck_assert_str_eq(h, vtev_event_type_name(out.type));
                ck_assert(fx_header(msgs[j], "event_id", h, sizeof(h)));
                ck_assert_str_eq(h, out.u.env.event_id);
                ck_assert(fx_header(msgs[j], "correlation_id", h, sizeof(h)));
                ck_assert_str_eq(h, vtev_envelope_correlation_id(&out.u.env));
            }
            vtev_event_clear(&out);
            rd_kafka_message_destroy(msgs[j]);
        }
        ck_assert_int_eq(found, N);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        for (i = 0; i < N; i++)
            vtev_event_clear(&evs[t][i]);
    }
    vtev_registry_destroy(reg);
    vtev_serde_destroy(serde);
}
END_TEST

/* Returns how many of ids[0..n) are among the messages read (and the total). */
static int count_ids(const char *topic, const char *isolation, char ids[][VTEV_UUID_LEN + 1],
                     int n, int *totalp) {
    static rd_kafka_message_t *msgs[64];
    rd_kafka_t *rk = fx_reader(brokers, topic, 1, isolation);
    int got = fx_read(rk, msgs, 64, 3000, 30000), j, i, hits = 0;
    for (j = 0; j < got; j++) {
        char h[64];
        if (fx_header(msgs[j], "event_id", h, sizeof(h)))
            for (i = 0; i < n; i++)
                if (!strcmp(ids[i], h))
                    hits++;
        rd_kafka_message_destroy(msgs[j]);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    *totalp = got;
    return hits;
}

START_TEST(transactions_abort_invisible_commit_visible) {
    char e[512], topic[128], tid[160];
    static char aborted[5][VTEV_UUID_LEN + 1], committed[5][VTEV_UUID_LEN + 1];
    vtev_conf_t *c;
    vtev_producer_t *p;
    int i, total;
    fx_unique(topic, sizeof(topic), "it-prod-txn");
    create_topic(topic, 1);
    c = mk_conf("unused-pos", topic, "unused-res");
    snprintf(tid, sizeof(tid), "tid-%s", topic);
    ck_assert_int_eq(vtev_conf_set(c, "kafka.transactional.id", tid, e, sizeof(e)),
                     VTEV_CONF_OK);
    p = vtev_producer_new(c, e, sizeof(e));
    ck_assert_msg(p != NULL, "%s", e);
    ck_assert_msg(vtev_producer_init_transactions(p, 60000, e, sizeof(e)) == VTEV_ERR_OK, "%s",
                  e);
    /* aborted halfway: 5 published, then abort */
    ck_assert_int_eq(vtev_producer_begin_transaction(p, e, sizeof(e)), VTEV_ERR_OK);
    for (i = 0; i < 5; i++) {
        vtev_event_t ev;
        fx_request(&ev, vessels[i], i);
        snprintf(aborted[i], sizeof(aborted[i]), "%s", ev.u.env.event_id);
        ck_assert_msg(vtev_producer_publish(p, &ev, NULL, e, sizeof(e)) == VTEV_ERR_OK, "%s", e);
        vtev_event_clear(&ev);
    }
    ck_assert_int_eq(vtev_producer_flush(p, 30000), VTEV_ERR_OK); /* written to the log */
    ck_assert_msg(vtev_producer_abort_transaction(p, 60000, e, sizeof(e)) == VTEV_ERR_OK, "%s",
                  e);
    /* committed */
    ck_assert_int_eq(vtev_producer_begin_transaction(p, e, sizeof(e)), VTEV_ERR_OK);
    for (i = 0; i < 5; i++) {
        vtev_event_t ev;
        fx_request(&ev, vessels[i], 10 + i);
        snprintf(committed[i], sizeof(committed[i]), "%s", ev.u.env.event_id);
        ck_assert_int_eq(vtev_producer_publish(p, &ev, NULL, e, sizeof(e)), VTEV_ERR_OK);
        vtev_event_clear(&ev);
    }
    ck_assert_msg(vtev_producer_commit_transaction(p, 60000, e, sizeof(e)) == VTEV_ERR_OK, "%s",
                  e);
    vtev_producer_destroy(p);

    ck_assert_int_eq(count_ids(topic, "read_committed", aborted, 5, &total), 0);
    ck_assert_int_eq(total, 5);
    ck_assert_int_eq(count_ids(topic, "read_committed", committed, 5, &total), 5);
    /* the aborted ones were written: a read_uncommitted reader sees them */
    ck_assert_int_eq(count_ids(topic, "read_uncommitted", aborted, 5, &total), 5);
    ck_assert_int_eq(total, 10);
}
END_TEST

int main(void) {
    Suite *s = suite_create("producer_integration");
    TCase *tc = tcase_create("real");
    brokers = vtev_test_require_env("KAFKA_BOOTSTRAP_SERVERS");
    registry = vtev_test_require_env("SCHEMA_REGISTRY_URL");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, n_events_each_type_roundtrip);
    tcase_add_test(tc, transactions_abort_invisible_commit_visible);
    suite_add_tcase(s, tc);
    return vtev_test_run(s);
}
