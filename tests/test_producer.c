/*
 * test_producer.c - typed publishing on the embedded mock cluster with the
 * mock:// registry: round trips read back with a plain librdkafka consumer,
 * keys and partitions, headers, refusal of invalid events, backpressure,
 * counters, close, fatal errors, transactions' state rules, generic paths.
 */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <vtevents/vtevents.h>

#include "mock_cluster.h"
#include "producer_fixtures.h"
#include "producer_int.h"
#include "testutil.h"

#include <stdatomic.h>
#include <unistd.h>

#define MAXR 512

typedef struct {
    pthread_mutex_t lock;
    int n, ok, failed;
    vtev_delivery_report_t r[MAXR];
    char ids[MAXR][VTEV_UUID_LEN + 1];
    char topics[MAXR][128];
    vtev_err_t errs[MAXR];
    pthread_t thr;
} reports_t;

static void dr_cb(vtev_producer_t *p, const vtev_delivery_report_t *dr, void *opaque) {
    reports_t *rs = opaque;
    (void)p;
    pthread_mutex_lock(&rs->lock);
    if (rs->n < MAXR) {
        rs->r[rs->n] = *dr;
        snprintf(rs->ids[rs->n], sizeof(rs->ids[0]), "%s", dr->event_id);
        snprintf(rs->topics[rs->n], sizeof(rs->topics[0]), "%s", dr->topic);
        rs->errs[rs->n] = dr->err;
    }
    rs->n++;
    if (dr->err)
        rs->failed++;
    else
        rs->ok++;
    rs->thr = pthread_self();
    pthread_mutex_unlock(&rs->lock);
}

static void reports_init(reports_t *rs) {
    memset(rs, 0, sizeof(*rs));
    pthread_mutex_init(&rs->lock, NULL);
}

/* conf for a fresh mock cluster + mock registry named after the test. */
static vtev_conf_t *mk_conf(char *name, size_t name_size, const char *prefix) {
    char e[512], url[256];
    vtev_conf_t *c = vtev_conf_new();
    fx_unique(name, name_size, prefix);
    snprintf(url, sizeof(url), "mock://%s", name);
    ck_assert_int_eq(vtev_conf_set(c, "bootstrap.servers", url, e, sizeof(e)), VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_set(c, "schema.registry.url", url, e, sizeof(e)), VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_set(c, "log.level", "3", e, sizeof(e)), VTEV_CONF_OK);
    return c;
}

/* conf for the existing mock cluster + registry `name`. */
static vtev_conf_t *mk_conf_named(const char *name) {
    char e[512], url[256];
    vtev_conf_t *c = vtev_conf_new();
    snprintf(url, sizeof(url), "mock://%s", name);
    ck_assert_int_eq(vtev_conf_set(c, "bootstrap.servers", url, e, sizeof(e)), VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_set(c, "schema.registry.url", url, e, sizeof(e)), VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_set(c, "log.level", "3", e, sizeof(e)), VTEV_CONF_OK);
    return c;
}

static vtev_producer_t *mk_producer(vtev_conf_t *c, reports_t *rs) {
    char e[512];
    vtev_producer_t *p = vtev_producer_new(c, e, sizeof(e));
    ck_assert_msg(p != NULL, "%s", e);
    if (rs)
        vtev_producer_set_dr_cb(p, dr_cb, rs);
    return p;
}

static const char *bootstraps(const char *name) {
    char e[256];
    const char *bs = vtev__mock_cluster_bootstraps(name, e, sizeof(e));
    ck_assert_msg(bs != NULL, "%s", e);
    return bs;
}

static vtev_serde_t *mk_serde(const char *name) {
    char e[512], url[256];
    vtev_conf_t *c = vtev_conf_new();
    vtev_serde_t *s;
    snprintf(url, sizeof(url), "mock://%s", name);
    vtev_conf_set(c, "schema.registry.url", url, e, sizeof(e));
    s = vtev_serde_new(c, e, sizeof(e));
    ck_assert_msg(s != NULL, "%s", e);
    return s;
}

static const struct {
    vtev_event_type_t t;
    const char *topic;
    int parts;
} topics[] = {
    {VTEV_EVENT_POSITION, "vessel-position-updates", 3},
    {VTEV_EVENT_REQUEST, "prediction-requests", 5},
    {VTEV_EVENT_RESULT, "prediction-results", 3},
};

static vtev_err_t publish_typed(vtev_producer_t *p, vtev_event_t *ev, void *op, char *e,
                                size_t es) {
    switch (ev->type) {
    case VTEV_EVENT_POSITION:
        return vtev_producer_publish_position(p, &ev->u.position, op, e, es);
    case VTEV_EVENT_REQUEST:
        return vtev_producer_publish_request(p, &ev->u.request, op, e, es);
    default:
        return vtev_producer_publish_result(p, &ev->u.result, op, e, es);
    }
}

/* Publish each type (typed calls and the union call), read back with a plain
 * consumer, decode with serde: equal structs, key, headers, reports, counters. */
START_TEST(publish_each_type_roundtrip) {
    enum { N = 6 };
    char name[96], e[512];
    reports_t rs;
    vtev_producer_t *p;
    vtev_serde_t *s;
    vtev_event_t evs[3][N];
    size_t ti;
    int i;
    reports_init(&rs);
    p = mk_producer(mk_conf(name, sizeof(name), "prod-rt"), &rs);
    for (ti = 0; ti < 3; ti++) {
        for (i = 0; i < N; i++) {
            char vessel[32];
            snprintf(vessel, sizeof(vessel), "IMO93%05d", i % 3);
            fx_make(&evs[ti][i], topics[ti].t, vessel, i);
            if (i % 2)
                ck_assert_msg(vtev_producer_publish(p, &evs[ti][i], &evs[ti][i], e, sizeof(e)) ==
                                  VTEV_ERR_OK,
                              "%s", e);
            else
                ck_assert_msg(publish_typed(p, &evs[ti][i], &evs[ti][i], e, sizeof(e)) ==
                                  VTEV_ERR_OK,
                              "%s", e);
        }
    }
    /* the metadata of the caller's event can go right away */
    ck_assert_int_eq(vtev_producer_flush(p, 10000), VTEV_ERR_OK);
    ck_assert_uint_eq(vtev_producer_outstanding(p), 0);
    ck_assert_int_eq(rs.n, 3 * N);
    ck_assert_int_eq(rs.ok, 3 * N);
    ck_assert(!pthread_equal(rs.thr, pthread_self()));
    for (i = 0; i < rs.n; i++) {
        vtev_event_t *orig = rs.r[i].msg_opaque;
        ck_assert_ptr_nonnull(orig);
        ck_assert_str_eq(rs.ids[i], orig->u.env.event_id);
        ck_assert_int_eq(rs.r[i].type, orig->type);
        ck_assert_int_ge(rs.r[i].partition, 0);
        ck_assert_int_ge(rs.r[i].offset, 0);
        ck_assert_int_eq(rs.errs[i], VTEV_ERR_OK);
    }
    for (ti = 0; ti < 3; ti++) {
        vtev_producer_stats_t st;
        uint64_t bytes = 0;
        for (i = 0; i < rs.n; i++)
            if (rs.r[i].type == topics[ti].t)
                bytes += rs.r[i].value_len;
        ck_assert_int_eq(vtev_producer_stats(p, topics[ti].t, &st), VTEV_ERR_OK);
        ck_assert_uint_eq(st.published, N);
        ck_assert_uint_eq(st.delivered, N);
        ck_assert_uint_eq(st.failed, 0);
        ck_assert_uint_eq(st.bytes, bytes);
        ck_assert_uint_gt(st.bytes, 0);
    }

    s = mk_serde(name);
    for (ti = 0; ti < 3; ti++) {
        rd_kafka_message_t *msgs[N + 4];
        rd_kafka_t *rk = fx_reader(bootstraps(name), topics[ti].topic, topics[ti].parts,
                                   "read_committed");
        int n = fx_read(rk, msgs, N, 10000, 20000), found = 0, j;
        ck_assert_int_eq(n, N);
        ck_assert_int_eq(fx_extra(rk, 300), 0);
        ck_assert_int_eq(fx_topic_count(bootstraps(name), topics[ti].topic, topics[ti].parts), N);
        for (j = 0; j < n; j++) {
            vtev_event_t out;
            char h[128];
            ck_assert_msg(vtev_serde_deserialize(s, topics[ti].topic, topics[ti].t,
                                                 msgs[j]->payload, msgs[j]->len, &out, NULL, e,
                                                 sizeof(e)) == VTEV_ERR_OK,
                          "%s", e);
            for (i = 0; i < N; i++) {
                if (strcmp(evs[ti][i].u.env.event_id, out.u.env.event_id))
                    continue;
                found++;
                fx_assert_equal(&evs[ti][i], &out);
                ck_assert_uint_eq(msgs[j]->key_len, strlen(out.u.env.vessel_id));
                ck_assert(!memcmp(msgs[j]->key, out.u.env.vessel_id, msgs[j]->key_len));
                ck_assert(fx_header(msgs[j], "event_type", h, sizeof(h)));
                ck_assert_str_eq(h, vtev_event_type_name(topics[ti].t));
                ck_assert(fx_header(msgs[j], "event_id", h, sizeof(h)));
                ck_assert_str_eq(h, out.u.env.event_id);
                ck_assert(fx_header(msgs[j], "correlation_id", h, sizeof(h)));
                ck_assert_str_eq(h, vtev_envelope_correlation_id(&evs[ti][i].u.env));
            }
            vtev_event_clear(&out);
            rd_kafka_message_destroy(msgs[j]);
        }
        ck_assert_int_eq(found, N);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        for (i = 0; i < N; i++)
            vtev_event_clear(&evs[ti][i]);
    }
    vtev_serde_destroy(s);
    vtev_producer_destroy(p);
}
END_TEST

/* No correlation_id header when the metadata has none. */
START_TEST(no_correlation_header_without_id) {
    char name[96], e[512], h[64];
    vtev_producer_t *p;
    vtev_event_t ev;
    rd_kafka_message_t *m[2];
    rd_kafka_t *rk;
    p = mk_producer(mk_conf(name, sizeof(name), "prod-corr"), NULL);
    fx_position(&ev, "V1", 1);
    vtev_metadata_remove(ev.u.env.metadata, "correlation_id");
    ck_assert_int_eq(vtev_producer_publish(p, &ev, NULL, e, sizeof(e)), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_producer_flush(p, 10000), VTEV_ERR_OK);
    rk = fx_reader(bootstraps(name), "vessel-position-updates", 3, "read_committed");
    ck_assert_int_eq(fx_read(rk, m, 1, 10000, 20000), 1);
    ck_assert_int_eq(fx_extra(rk, 300), 0);
    ck_assert(!fx_header(m[0], "correlation_id", h, sizeof(h)));
    ck_assert(fx_header(m[0], "event_id", h, sizeof(h)));
    rd_kafka_message_destroy(m[0]);
    rd_kafka_destroy(rk);
    vtev_event_clear(&ev);
    vtev_producer_destroy(p);
}
END_TEST

/* Kafka's murmur2 (the Java client's key hash), for the expected partition. */
static uint32_t murmur2(const void *key, size_t len) {
    const uint32_t seed = 0x9747b28c, m = 0x5bd1e995;
    const int r = 24;
    uint32_t h = seed ^ (uint32_t)len;
    const unsigned char *d = key;
    while (len >= 4) {
        uint32_t k = (uint32_t)d[0] | ((uint32_t)d[1] << 8) | ((uint32_t)d[2] << 16) |
                     ((uint32_t)d[3] << 24);
        k *= m;
        k ^= k >> r;
        k *= m;
        h *= m;
        h ^= k;
        d += 4;
        len -= 4;
    }
    switch (len) {
    case 3:
        h ^= (uint32_t)d[2] << 16;
        /* fall through */
    case 2:
        h ^= (uint32_t)d[1] << 8;
        /* fall through */
    case 1:
        h ^= d[0];
        h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return h;
}

START_TEST(same_vessel_same_partition) {
    enum { N = 40 };
    char name[96], e[512];
    reports_t rs;
    vtev_producer_t *p;
    int i, j, pa = -1, pb = -1, distinct_parts = 0;
    int seen[3] = {0, 0, 0};
    reports_init(&rs);
    p = mk_producer(mk_conf(name, sizeof(name), "prod-part"), &rs);
    for (i = 0; i < N; i++) {
        vtev_event_t ev;
        char vessel[32];
        snprintf(vessel, sizeof(vessel), "IMO-%d", i % 8);
        fx_position(&ev, vessel, i);
        ck_assert_int_eq(vtev_producer_publish(p, &ev, (void *)(intptr_t)(i % 8), e, sizeof(e)),
                         VTEV_ERR_OK);
        vtev_event_clear(&ev);
    }
    ck_assert_int_eq(vtev_producer_flush(p, 10000), VTEV_ERR_OK);
    ck_assert_int_eq(rs.ok, N);
    for (j = 0; j < 8; j++) {
        int part = -1;
        for (i = 0; i < rs.n; i++) {
            if ((intptr_t)rs.r[i].msg_opaque != j)
                continue;
            if (part < 0)
                part = rs.r[i].partition;
            ck_assert_int_eq(rs.r[i].partition, part);
        }
        ck_assert_int_ge(part, 0);
        {
            /* the partition the Java client (murmur2) picks for this key */
            char vessel[32];
            snprintf(vessel, sizeof(vessel), "IMO-%d", j);
            ck_assert_int_eq(part, (int)((murmur2(vessel, strlen(vessel)) & 0x7fffffff) % 3));
        }
        seen[part] = 1;
        if (j == 0)
            pa = part;
        if (j == 1)
            pb = part;
    }
    (void)pa;
    (void)pb;
    for (j = 0; j < 3; j++)
        distinct_parts += seen[j];
    /* eight vessels over three partitions: the key spreads them */
    ck_assert_int_ge(distinct_parts, 2);
    vtev_producer_destroy(p);
}
END_TEST

/* Each rule category refused with its field path; nothing reaches a topic. */
START_TEST(invalid_events_refused) {
    char name[96], e[512];
    vtev_producer_t *p;
    reports_t rs;
    struct {
        vtev_event_type_t t;
        int rule;
        const char *path;
    } cases[] = {
        {VTEV_EVENT_POSITION, 0, "data.lat"},
        {VTEV_EVENT_POSITION, 1, "data.lon"},
        {VTEV_EVENT_POSITION, 2, "data.speed"},
        {VTEV_EVENT_POSITION, 3, "data.heading"},
        {VTEV_EVENT_POSITION, 4, "data.status"},
        {VTEV_EVENT_POSITION, 5, "vessel_id"},
        {VTEV_EVENT_POSITION, 6, "event_id"},
        {VTEV_EVENT_POSITION, 7, "data.lat"},
        {VTEV_EVENT_REQUEST, 8, "data.vessel_snapshot.lat"},
        {VTEV_EVENT_REQUEST, 9, "data.priority"},
        {VTEV_EVENT_REQUEST, 10, "request_id"},
        {VTEV_EVENT_RESULT, 11, "data.confidence_score"},
        {VTEV_EVENT_RESULT, 12, "data.scores.rag_boost"},
        {VTEV_EVENT_RESULT, 13, "data.scores.ai_adjustment"},
        {VTEV_EVENT_RESULT, 14, "data.distance_km"},
        {VTEV_EVENT_RESULT, 15, "data.prediction_id"},
        {VTEV_EVENT_RESULT, 16, "data.terminal_name"},
        {VTEV_EVENT_RESULT, 17, "data.vessel_snapshot.heading"},
    };
    size_t i;
    reports_init(&rs);
    p = mk_producer(mk_conf(name, sizeof(name), "prod-inval"), &rs);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vtev_event_t ev;
        vtev_err_t err;
        fx_make(&ev, cases[i].t, "V1", (int)i);
        switch (cases[i].rule) {
        case 0: ev.u.position.data.lat = 91; break;
        case 1: ev.u.position.data.lon = -180.5; break;
        case 2: ev.u.position.data.speed = -1; break;
        case 3: ev.u.position.data.heading = 360; break;
        case 4: ev.u.position.data.status[0] = '\0'; break;
        case 5: ev.u.position.env.vessel_id[0] = '\0'; break;
        case 6: snprintf(ev.u.env.event_id, sizeof(ev.u.env.event_id), "not-a-uuid"); break;
        case 7: ev.u.position.data.lat = NAN; break;
        case 8: ev.u.request.data.vessel_snapshot.lat = -90.01; break;
        case 9: ev.u.request.data.priority = (vtev_priority_t)7; break;
        case 10: ev.u.request.request_id[0] = '\0'; break;
        case 11: ev.u.result.data.confidence_score = 1.01; break;
        case 12: ev.u.result.data.scores.rag_boost = 0.31; break;
        case 13: ev.u.result.data.scores.ai_adjustment = -0.31; break;
        case 14: ev.u.result.data.distance_km = -0.5; break;
        case 15: ev.u.result.data.prediction_id[0] = '\0'; break;
        case 16: ev.u.result.data.terminal_name[0] = '\0'; break;
        case 17: ev.u.result.data.vessel_snapshot.heading = INFINITY; break;
        }
        e[0] = '\0';
        err = publish_typed(p, &ev, NULL, e, sizeof(e));
        ck_assert_msg(err == VTEV_ERR_INVALID, "case %zu: %s (%s)", i, vtev_err2name(err), e);
        ck_assert_msg(!strncmp(e, cases[i].path, strlen(cases[i].path)),
                      "case %zu: \"%s\" does not start with %s", i, e, cases[i].path);
        err = vtev_producer_publish(p, &ev, NULL, e, sizeof(e));
        ck_assert_int_eq(err, VTEV_ERR_INVALID);
        vtev_event_clear(&ev);
    }
    ck_assert_int_eq(vtev_producer_flush(p, 5000), VTEV_ERR_OK);
    ck_assert_int_eq(rs.n, 0);
    for (i = 0; i < 3; i++) {
        vtev_producer_stats_t st;
        vtev_producer_stats(p, topics[i].t, &st);
        ck_assert_uint_eq(st.published, 0);
        ck_assert_int_eq(fx_topic_count(bootstraps(name), topics[i].topic, topics[i].parts), 0);
    }
    /* a valid one afterwards does arrive: the check above could see data */
    {
        vtev_event_t ev;
        fx_position(&ev, "V1", 1);
        ck_assert_int_eq(vtev_producer_publish(p, &ev, NULL, e, sizeof(e)), VTEV_ERR_OK);
        ck_assert_int_eq(vtev_producer_flush(p, 10000), VTEV_ERR_OK);
        ck_assert_int_eq(fx_topic_count(bootstraps(name), "vessel-position-updates", 3), 1);
        vtev_event_clear(&ev);
    }
    vtev_producer_destroy(p);
}
END_TEST

static void set_brokers(const char *name, int up) {
    rd_kafka_mock_cluster_t *mc = vtev__mock_cluster_get(name);
    int b;
    ck_assert_ptr_nonnull(mc);
    for (b = 1; b <= 3; b++) {
        if (up)
            rd_kafka_mock_broker_set_up(mc, b);
        else
            rd_kafka_mock_broker_set_down(mc, b);
    }
}

/* A full local queue blocks for producer.queue.block.ms, then QUEUE_FULL;
 * nothing is dropped: after the brokers return, everything accepted arrives. */
START_TEST(queue_full_backpressure) {
    char name[96], e[512];
    vtev_conf_t *c = mk_conf(name, sizeof(name), "prod-qfull");
    reports_t rs;
    vtev_producer_t *p;
    vtev_producer_stats_t st;
    int i, accepted = 0;
    int64_t t0, dt;
    vtev_err_t err = VTEV_ERR_OK;
    ck_assert_int_eq(vtev_conf_set(c, "kafka.queue.buffering.max.messages", "5", e, sizeof(e)),
                     VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_set(c, "producer.queue.block.ms", "600", e, sizeof(e)),
                     VTEV_CONF_OK);
    bootstraps(name);
    set_brokers(name, 0);
    reports_init(&rs);
    p = mk_producer(c, &rs);
    for (i = 0; i < 5; i++) {
        vtev_event_t ev;
        fx_position(&ev, "V1", i);
        ck_assert_msg(vtev_producer_publish(p, &ev, NULL, e, sizeof(e)) == VTEV_ERR_OK, "%s", e);
        accepted++;
        vtev_event_clear(&ev);
    }
    {
        vtev_event_t ev;
        struct timespec ts;
        fx_position(&ev, "V1", 99);
        clock_gettime(CLOCK_MONOTONIC, &ts);
        t0 = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        err = vtev_producer_publish(p, &ev, NULL, e, sizeof(e));
        clock_gettime(CLOCK_MONOTONIC, &ts);
        dt = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - t0;
        vtev_event_clear(&ev);
    }
    ck_assert_int_eq(err, VTEV_ERR_QUEUE_FULL);
    ck_assert_str_contains(e, "producer.queue.block.ms");
    ck_assert_msg(dt >= 550 && dt < 2000, "blocked %lld ms, expected about 600",
                  (long long)dt);
    vtev_producer_stats(p, VTEV_EVENT_POSITION, &st);
    ck_assert_uint_eq(st.published, 5);
    set_brokers(name, 1);
    ck_assert_int_eq(vtev_producer_flush(p, 20000), VTEV_ERR_OK);
    ck_assert_int_eq(rs.ok, accepted);
    ck_assert_int_eq(fx_topic_count(bootstraps(name), "vessel-position-updates", 3), 5);
    vtev_producer_destroy(p);
}
END_TEST

/* close() delivers one report per publish however slow the application's
 * callback is: 24 purged messages whose callback takes 500 ms each (12 s in
 * all, past the 10 s close used to wait after its purge) are all reported. */
static atomic_int slow_reports;
static void slow_dr(vtev_producer_t *p, const vtev_delivery_report_t *dr, void *opaque) {
    (void)p, (void)opaque;
    if (dr->err == VTEV_ERR_PURGED)
        atomic_fetch_add(&slow_reports, 1);
    usleep(500 * 1000);
}

START_TEST(close_waits_for_every_report) {
    char name[96], e[512];
    vtev_conf_t *c = mk_conf(name, sizeof(name), "prod-close-slow");
    vtev_producer_t *p;
    size_t undelivered = 0;
    int i;
    ck_assert_int_eq(vtev_conf_set(c, "producer.close.timeout.ms", "100", e, sizeof(e)), VTEV_CONF_OK);
    bootstraps(name);
    set_brokers(name, 0);
    p = mk_producer(c, NULL);
    vtev_producer_set_dr_cb(p, slow_dr, NULL);
    for (i = 0; i < 24; i++) { /* one topic each: the purge reports them in separate events */
        char topic[32];
        snprintf(topic, sizeof(topic), "slow-%d", i);
        ck_assert_int_eq(vtev_producer_publish_raw(p, topic, "x", 1, "k", 1, NULL, 0, NULL, e, sizeof(e)),
                         VTEV_ERR_OK);
    }
    ck_assert_int_eq(vtev_producer_close(p, &undelivered), VTEV_ERR_TIMED_OUT);
    ck_assert_uint_eq(undelivered, 24);
    ck_assert_int_eq(atomic_load(&slow_reports), 24);
}
END_TEST

/* close() reports what could not be delivered; each one came through the
 * callback with an error. */
START_TEST(close_reports_undelivered) {
    char name[96], e[512];
    vtev_conf_t *c = mk_conf(name, sizeof(name), "prod-close");
    reports_t rs;
    vtev_producer_t *p;
    size_t undelivered = 99;
    int i;
    ck_assert_int_eq(vtev_conf_set(c, "producer.close.timeout.ms", "300", e, sizeof(e)),
                     VTEV_CONF_OK);
    bootstraps(name);
    set_brokers(name, 0);
    reports_init(&rs);
    p = mk_producer(c, &rs);
    for (i = 0; i < 4; i++) {
        vtev_event_t ev;
        fx_result(&ev, "V9", i);
        ck_assert_int_eq(vtev_producer_publish(p, &ev, NULL, e, sizeof(e)), VTEV_ERR_OK);
        vtev_event_clear(&ev);
    }
    ck_assert_int_eq(vtev_producer_flush(p, 100), VTEV_ERR_TIMED_OUT);
    ck_assert_uint_eq(vtev_producer_outstanding(p), 4);
    ck_assert_int_eq(vtev_producer_close(p, &undelivered), VTEV_ERR_TIMED_OUT);
    ck_assert_uint_eq(undelivered, 4);
    ck_assert_int_eq(rs.n, 4);
    ck_assert_int_eq(rs.failed, 4);
    for (i = 0; i < 4; i++) {
        ck_assert_int_eq(rs.errs[i], VTEV_ERR_PURGED);
        ck_assert_int_eq(rs.r[i].type, VTEV_EVENT_RESULT);
        ck_assert_int_eq(rs.r[i].offset, -1);
        ck_assert_uint_eq(strlen(rs.ids[i]), VTEV_UUID_LEN);
    }
    ck_assert_int_eq(vtev_producer_close(NULL, &undelivered), VTEV_ERR_OK);
    ck_assert_uint_eq(undelivered, 0);
}
END_TEST

typedef struct {
    int calls;
    vtev_err_t err;
    char reason[256];
} errs_t;

static void err_cb(vtev_producer_t *p, vtev_err_t err, const char *reason, void *opaque) {
    errs_t *es = opaque;
    (void)p;
    if (err != VTEV_ERR_FATAL)
        return;
    es->calls++;
    es->err = err;
    snprintf(es->reason, sizeof(es->reason), "%s", reason);
}

/* A fatal error is reported once; later publishes fail with VTEV_ERR_FATAL. */
START_TEST(fatal_error_reported_once) {
    char name[96], e[512];
    vtev_producer_t *p;
    errs_t es;
    vtev_event_t ev;
    int i;
    memset(&es, 0, sizeof(es));
    p = mk_producer(mk_conf(name, sizeof(name), "prod-fatal"), NULL);
    vtev_producer_set_error_cb(p, err_cb, &es);
    fx_position(&ev, "V1", 1);
    ck_assert_int_eq(vtev_producer_publish(p, &ev, NULL, e, sizeof(e)), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_producer_flush(p, 10000), VTEV_ERR_OK);
    ck_assert_int_eq(rd_kafka_test_fatal_error(vtev__producer_rk(p),
                                               RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                                               "test: sequence broken"),
                     0);
    for (i = 0; i < 50 && es.calls == 0; i++) {
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    ck_assert_int_eq(es.calls, 1);
    ck_assert_str_contains(es.reason, "sequence broken");
    ck_assert_int_eq(vtev_producer_publish(p, &ev, NULL, e, sizeof(e)), VTEV_ERR_FATAL);
    ck_assert_str_contains(e, "sequence broken");
    ck_assert_int_eq(vtev_producer_publish(p, &ev, NULL, e, sizeof(e)), VTEV_ERR_FATAL);
    ck_assert_int_eq(es.calls, 1);
    vtev_event_clear(&ev);
    vtev_producer_destroy(p);
}
END_TEST

/* Transactional producer: state rules and a commit on the mock cluster. */
START_TEST(transactions_state_rules) {
    char name[96], e[512];
    vtev_conf_t *c = mk_conf(name, sizeof(name), "prod-txn");
    vtev_producer_t *p, *plain;
    reports_t rs;
    vtev_event_t ev;
    char tid[128];
    snprintf(tid, sizeof(tid), "txn-%s", name);
    ck_assert_int_eq(vtev_conf_set(c, "kafka.transactional.id", tid, e, sizeof(e)),
                     VTEV_CONF_OK);
    reports_init(&rs);
    p = mk_producer(c, &rs);
    plain = mk_producer(mk_conf(name, sizeof(name), "prod-txn-plain"), NULL);
    ck_assert_int_eq(vtev_producer_begin_transaction(plain, e, sizeof(e)), VTEV_ERR_STATE);
    ck_assert_str_contains(e, "transactional.id");
    vtev_producer_destroy(plain);

    fx_request(&ev, "V1", 1);
    ck_assert_int_eq(vtev_producer_begin_transaction(p, e, sizeof(e)), VTEV_ERR_STATE);
    ck_assert_msg(vtev_producer_init_transactions(p, 30000, e, sizeof(e)) == VTEV_ERR_OK, "%s",
                  e);
    ck_assert_int_eq(vtev_producer_publish(p, &ev, NULL, e, sizeof(e)), VTEV_ERR_STATE);
    ck_assert_int_eq(vtev_producer_begin_transaction(p, e, sizeof(e)), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_producer_publish(p, &ev, NULL, e, sizeof(e)), VTEV_ERR_OK);
    ck_assert_msg(vtev_producer_commit_transaction(p, 30000, e, sizeof(e)) == VTEV_ERR_OK, "%s",
                  e);
    ck_assert_int_eq(rs.ok, 1);
    ck_assert_int_eq(vtev_producer_begin_transaction(p, e, sizeof(e)), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_producer_publish(p, &ev, NULL, e, sizeof(e)), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_producer_abort_transaction(p, 30000, e, sizeof(e)), VTEV_ERR_OK);
    ck_assert_int_eq(rs.n, 2);
    vtev_event_clear(&ev);
    vtev_producer_destroy(p);
}
END_TEST

/* Generic paths: any Avro schema (registered, framed) and raw bytes. */
START_TEST(generic_avro_and_raw) {
    static const char *schema =
        "{\"type\":\"record\",\"name\":\"Ping\",\"namespace\":\"test.vt\","
        "\"fields\":[{\"name\":\"n\",\"type\":\"long\"}]}";
    char name[96], e[512], h[64];
    reports_t rs;
    vtev_producer_t *p;
    vtev_header_t hdr = {"origin", "unit-test", 9};
    unsigned char avro[] = {0x54}; /* zigzag(42) */
    rd_kafka_message_t *m[3];
    rd_kafka_t *rk;
    vtev_producer_stats_t st;
    int n;
    reports_init(&rs);
    p = mk_producer(mk_conf(name, sizeof(name), "prod-gen"), &rs);
    ck_assert_msg(vtev_producer_publish_avro(p, "prediction-results.dlq", schema, avro, 1, "k1", 2,
                                             &hdr, 1, NULL, e, sizeof(e)) == VTEV_ERR_OK,
                  "%s", e);
    ck_assert_int_eq(vtev_producer_publish_raw(p, "prediction-results.dlq", "raw!", 4, NULL, 0,
                                               NULL, 0, NULL, e, sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(vtev_producer_publish_avro(p, "prediction-results.dlq", "{nope", avro, 1,
                                                NULL, 0, NULL, 0, NULL, e, sizeof(e)),
                     VTEV_ERR_SCHEMA);
    ck_assert_int_eq(vtev_producer_flush(p, 10000), VTEV_ERR_OK);
    ck_assert_int_eq(rs.ok, 2);
    ck_assert_int_eq(rs.r[0].type, VTEV_EVENT_NONE);
    ck_assert_str_eq(rs.ids[0], "");
    vtev_producer_stats(p, VTEV_EVENT_NONE, &st);
    ck_assert_uint_eq(st.published, 2);
    ck_assert_uint_eq(st.delivered, 2);
    ck_assert_uint_eq(st.bytes, 6 + 4);
    rk = fx_reader(bootstraps(name), "prediction-results.dlq", 1, "read_committed");
    n = fx_read(rk, m, 2, 10000, 20000);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(fx_extra(rk, 300), 0);
    {
        const unsigned char *b = m[0]->payload;
        ck_assert_uint_eq(m[0]->len, 6);
        ck_assert_uint_eq(b[0], 0);
        ck_assert_uint_eq(b[5], 0x54);
        ck_assert_uint_eq(m[0]->key_len, 2);
        ck_assert(fx_header(m[0], "origin", h, sizeof(h)));
        ck_assert_str_eq(h, "unit-test");
        ck_assert_uint_eq(m[1]->len, 4);
        ck_assert(!memcmp(m[1]->payload, "raw!", 4));
        ck_assert_ptr_null(m[1]->key);
    }
    rd_kafka_message_destroy(m[0]);
    rd_kafka_message_destroy(m[1]);
    rd_kafka_destroy(rk);
    vtev_producer_destroy(p);
}
END_TEST

/* Defaults, profiles, and explicit kafka.* keys winning. */
static void expect_rk_conf(vtev_producer_t *p, const char *key, const char *want) {
    char buf[256];
    size_t sz = sizeof(buf);
    const rd_kafka_conf_t *rc = rd_kafka_conf(vtev__producer_rk(p));
    ck_assert_int_eq(rd_kafka_conf_get(rc, key, buf, &sz), RD_KAFKA_CONF_OK);
    ck_assert_msg(!strcmp(buf, want), "%s = %s, expected %s", key, buf, want);
}

START_TEST(defaults_and_profiles) {
    char name[96], e[512];
    vtev_conf_t *c;
    vtev_producer_t *p;
    p = mk_producer(mk_conf(name, sizeof(name), "prod-prof"), NULL);
    expect_rk_conf(p, "enable.idempotence", "true");
    expect_rk_conf(p, "acks", "-1");
    expect_rk_conf(p, "socket.nagle.disable", "true");
    expect_rk_conf(p, "linger.ms", "5");
    expect_rk_conf(p, "compression.codec", "gzip");
    expect_rk_conf(p, "partitioner", "murmur2_random");
    vtev_producer_destroy(p);

    c = mk_conf_named(name);
    ck_assert_int_eq(vtev_conf_set(c, "producer.profile", "throughput", e, sizeof(e)),
                     VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_set(c, "kafka.batch.num.messages", "777", e, sizeof(e)),
                     VTEV_CONF_OK);
    p = mk_producer(c, NULL);
    expect_rk_conf(p, "linger.ms", "50");
    expect_rk_conf(p, "batch.num.messages", "777");
    expect_rk_conf(p, "enable.idempotence", "true");
    vtev_producer_destroy(p);

    c = mk_conf_named(name);
    ck_assert_int_eq(vtev_conf_set(c, "producer.profile", "low-latency", e, sizeof(e)),
                     VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_set(c, "kafka.enable.idempotence", "false", e, sizeof(e)),
                     VTEV_CONF_OK);
    p = mk_producer(c, NULL);
    expect_rk_conf(p, "linger.ms", "0");
    expect_rk_conf(p, "retry.backoff.ms", "20");
    expect_rk_conf(p, "enable.idempotence", "false");
    vtev_producer_destroy(p);

    /* failure leaves the conf with the caller */
    c = vtev_conf_new();
    ck_assert_int_eq(vtev_conf_set(c, "bootstrap.servers", "mock://prod-prof-x", e, sizeof(e)),
                     VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_set(c, "kafka.transactional.id", "t", e, sizeof(e)),
                     VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_set(c, "kafka.enable.idempotence", "false", e, sizeof(e)),
                     VTEV_CONF_OK);
    ck_assert_ptr_null(vtev_producer_new(c, e, sizeof(e)));
    ck_assert_uint_gt(strlen(e), 0);
    vtev_conf_destroy(c);
    vtev_producer_destroy(NULL);
}
END_TEST

/* Many threads publishing through one producer (shared serde caches). */
typedef struct {
    vtev_producer_t *p;
    int idx;
    int failures;
} pub_thread_t;

static void *pub_main(void *arg) {
    pub_thread_t *t = arg;
    char e[512], vessel[32];
    int i;
    for (i = 0; i < 100; i++) {
        vtev_event_t ev;
        snprintf(vessel, sizeof(vessel), "T%d-V%d", t->idx, i % 4);
        /* all three types from every thread */
        if (vtev_event_init(&ev, (vtev_event_type_t)(1 + i % 3)))
            t->failures++;
        vtev_event_clear(&ev);
        if (i % 3 == 0)
            fx_position(&ev, vessel, i);
        else if (i % 3 == 1)
            fx_request(&ev, vessel, i);
        else
            fx_result(&ev, vessel, i);
        if (vtev_producer_publish(t->p, &ev, NULL, e, sizeof(e)))
            t->failures++;
        vtev_event_clear(&ev);
    }
    return NULL;
}

START_TEST(concurrent_publishers) {
    char name[96];
    reports_t rs;
    vtev_producer_t *p;
    pub_thread_t th[4];
    pthread_t tid[4];
    vtev_producer_stats_t st;
    uint64_t total = 0;
    int i;
    reports_init(&rs);
    p = mk_producer(mk_conf(name, sizeof(name), "prod-mt"), &rs);
    for (i = 0; i < 4; i++) {
        th[i].p = p;
        th[i].idx = i;
        th[i].failures = 0;
        ck_assert_int_eq(pthread_create(&tid[i], NULL, pub_main, &th[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(tid[i], NULL);
        ck_assert_int_eq(th[i].failures, 0);
    }
    ck_assert_int_eq(vtev_producer_flush(p, 20000), VTEV_ERR_OK);
    ck_assert_int_eq(rs.n, 400);
    ck_assert_int_eq(rs.ok, 400);
    for (i = 1; i <= 3; i++) {
        vtev_producer_stats(p, (vtev_event_type_t)i, &st);
        ck_assert_uint_eq(st.published, st.delivered);
        total += st.delivered;
    }
    ck_assert_uint_eq(total, 400);
    ck_assert_int_eq(fx_topic_count(bootstraps(name), "vessel-position-updates", 3) +
                         fx_topic_count(bootstraps(name), "prediction-requests", 5) +
                         fx_topic_count(bootstraps(name), "prediction-results", 3),
                     400);
    vtev_producer_destroy(p);
}
END_TEST

/* The delivery callback may publish: each delivered request triggers a result. */
typedef struct {
    int requests, results, errors;
} chain_t;

static void chain_cb(vtev_producer_t *p, const vtev_delivery_report_t *dr, void *opaque) {
    chain_t *c = opaque;
    char e[512];
    if (dr->err) {
        c->errors++;
        return;
    }
    if (dr->type == VTEV_EVENT_REQUEST) {
        vtev_event_t ev;
        c->requests++;
        fx_result(&ev, "V-chain", c->requests);
        if (vtev_producer_publish(p, &ev, NULL, e, sizeof(e)))
            c->errors++;
        vtev_event_clear(&ev);
    } else if (dr->type == VTEV_EVENT_RESULT) {
        c->results++;
    }
}

START_TEST(publish_from_delivery_callback) {
    char name[96], e[512];
    vtev_conf_t *c = mk_conf(name, sizeof(name), "prod-chain");
    vtev_producer_t *p;
    chain_t ch = {0, 0, 0};
    int i;
    /* a small queue: the callback's publishes must serve it inline */
    ck_assert_int_eq(vtev_conf_set(c, "kafka.queue.buffering.max.messages", "8", e, sizeof(e)),
                     VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_set(c, "producer.queue.block.ms", "10000", e, sizeof(e)),
                     VTEV_CONF_OK);
    p = mk_producer(c, NULL);
    vtev_producer_set_dr_cb(p, chain_cb, &ch);
    for (i = 0; i < 40; i++) {
        vtev_event_t ev;
        fx_request(&ev, "V-chain", i);
        ck_assert_msg(vtev_producer_publish(p, &ev, NULL, e, sizeof(e)) == VTEV_ERR_OK, "%s", e);
        vtev_event_clear(&ev);
    }
    ck_assert_int_eq(vtev_producer_flush(p, 30000), VTEV_ERR_OK);
    ck_assert_int_eq(ch.errors, 0);
    ck_assert_int_eq(ch.requests, 40);
    ck_assert_int_eq(ch.results, 40);
    vtev_producer_destroy(p);
}
END_TEST

/* Registry down: the publish fails with the transient registry error and
 * nothing is enqueued. */
START_TEST(registry_unavailable_refused) {
    char name[96], e[512];
    vtev_conf_t *c = mk_conf(name, sizeof(name), "prod-noreg");
    vtev_producer_t *p;
    reports_t rs;
    vtev_event_t ev;
    vtev_producer_stats_t st;
    ck_assert_int_eq(vtev_conf_set(c, "schema.registry.url", "http://127.0.0.1:1", e,
                                   sizeof(e)),
                     VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_set(c, "schema.registry.max.retries", "0", e, sizeof(e)),
                     VTEV_CONF_OK);
    reports_init(&rs);
    p = mk_producer(c, &rs);
    fx_position(&ev, "V1", 1);
    ck_assert_int_eq(vtev_producer_publish(p, &ev, NULL, e, sizeof(e)),
                     VTEV_ERR_REGISTRY_UNAVAILABLE);
    vtev_producer_stats(p, VTEV_EVENT_POSITION, &st);
    ck_assert_uint_eq(st.published, 0);
    ck_assert_int_eq(vtev_producer_flush(p, 1000), VTEV_ERR_OK);
    ck_assert_int_eq(rs.n, 0);
    ck_assert_int_eq(fx_topic_count(bootstraps(name), "vessel-position-updates", 3), 0);
    vtev_event_clear(&ev);
    vtev_producer_destroy(p);
}
END_TEST

/* One test case per test, so that CK_RUN_CASE=name runs one of them. */
#define ADD(s, fn)                                                                            \
    do {                                                                                      \
        TCase *tc_ = tcase_create(#fn);                                                       \
        tcase_set_timeout(tc_, 60);                                                           \
        tcase_add_test(tc_, fn);                                                              \
        suite_add_tcase(s, tc_);                                                              \
    } while (0)

int main(void) {
    Suite *s = suite_create("producer");
    ADD(s, publish_each_type_roundtrip);
    ADD(s, no_correlation_header_without_id);
    ADD(s, same_vessel_same_partition);
    ADD(s, invalid_events_refused);
    ADD(s, queue_full_backpressure);
    ADD(s, close_reports_undelivered);
    ADD(s, close_waits_for_every_report);
    ADD(s, fatal_error_reported_once);
    ADD(s, transactions_state_rules);
    ADD(s, generic_avro_and_raw);
    ADD(s, defaults_and_profiles);
    ADD(s, concurrent_publishers);
    ADD(s, publish_from_delivery_callback);
    ADD(s, registry_unavailable_refused);
    return vtev_test_run(s);
}
