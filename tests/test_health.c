/*
 * test_health.c - liveness and readiness (health.h) on the embedded mock
 * cluster: a consumer becomes ready once connected and assigned, readiness
 * flips when every broker goes away and back when they return, a consumer
 * that is not polled stops being live, an unreachable registry and failing
 * deliveries make a producer not ready, a fatal error makes it not live,
 * the process report covers every handle, and the JSON form.
 */
#include <jansson.h>

#include "consumer_testutil.h"
#include <librdkafka/rdkafka_mock.h>
#include "mock_cluster.h"
#include "producer_int.h"
#include "testutil.h"

#include <vtevents/health.h>
#include <vtevents/metrics.h>

typedef ctu_env_t env_t;

static vtev_conf_t *fast(vtev_conf_t *conf) {
    ctu_set(conf, "health.stats.interval.ms", "200");
    return conf;
}

static vtev_producer_t *producer_on(env_t *env, const char *registry) {
    vtev_conf_t *conf = vtev_conf_new();
    vtev_producer_t *p;
    char e[512];
    ctu_set(conf, "bootstrap.servers", env->mock);
    ctu_set(conf, "schema.registry.url", registry ? registry : env->mock);
    ctu_set(conf, "client.id", "health-test");
    p = vtev_producer_new(fast(conf), e, sizeof(e));
    ck_assert_msg(p != NULL, "producer: %s", e);
    return p;
}

static vtev_verdict_t ok_handler(vtev_consumer_t *c, const vtev_event_t *ev,
                                 const vtev_msg_info_t *info, void *opaque) {
    (void)c;
    (void)ev;
    (void)info;
    (void)opaque;
    return VTEV_VERDICT_OK;
}

static vtev_consumer_t *consumer_on(env_t *env, vtev_conf_t *conf) {
    char e[512];
    vtev_consumer_t *c;
    c = vtev_consumer_new(fast(conf ? conf : ctu_conf(env->mock, env->mock, env->group)), e,
                          sizeof(e));
    ck_assert_msg(c != NULL, "consumer: %s", e);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, NULL, ok_handler, NULL, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    return c;
}

/* Whether h has a reason of check @p check. */
static const vtev_health_reason_t *reason(const vtev_health_t *h, const char *check) {
    size_t i;
    for (i = 0; i < h->reason_cnt && i < VTEV_HEALTH_REASONS_MAX; i++)
        if (!strcmp(h->reasons[i].check, check))
            return &h->reasons[i];
    return NULL;
}

static void dump(const vtev_health_t *h) {
    char *j = NULL;
    if (vtev_health_json(h, &j, NULL) == VTEV_ERR_OK)
        fprintf(stderr, "health: %s\n", j);
    vtev_free(j);
}

typedef struct until_s {
    vtev_consumer_t *c;
    bool want_ready;
    const char *want_check; /* ... or this check failing */
    vtev_health_t h;
} until_t;

static int consumer_state(void *arg) {
    until_t *u = arg;
    ck_assert_int_eq(vtev_consumer_health(u->c, &u->h), VTEV_ERR_OK);
    if (u->want_check)
        return reason(&u->h, u->want_check) != NULL;
    return u->h.ready == u->want_ready;
}

/* Ready once connected and assigned; every broker down: not ready (brokers),
 * still live; back up: ready again. */
START_TEST(test_consumer_ready_and_brokers) {
    env_t env;
    vtev_consumer_t *c;
    rd_kafka_mock_cluster_t *mc;
    until_t u;
    int id;

    CTU_ENV_INIT(&env, "health", "brokers");
    mc = vtev__mock_cluster_get(env.mock + 7);
    ck_assert_ptr_nonnull(mc);
    c = consumer_on(&env, NULL);
    memset(&u, 0, sizeof(u));
    u.c = c;
    /* before it polled, it has no partitions and no broker statistics */
    ck_assert_int_eq(vtev_consumer_health(c, &u.h), VTEV_ERR_OK);
    ck_assert(u.h.live);
    ck_assert(!u.h.ready);
    ck_assert_ptr_nonnull(reason(&u.h, "assignment"));
    ck_assert_uint_eq(u.h.handles, 1);
    u.want_ready = true;
    if (!ctu_poll_until(c, consumer_state, &u, 30000))
        dump(&u.h);
    ck_assert(u.h.ready);
    ck_assert_uint_eq(u.h.reason_cnt, 0);
    {
        /* the same statistics feed the metrics: bytes, queue, round trips */
        char *t = NULL, e[256], *l;
        size_t len;
        ck_assert_int_eq(vtev_metrics_write(&t, &len, e, sizeof(e)), VTEV_ERR_OK);
        static const char tx[] = "\nvtev_kafka_tx_bytes_total{client=\"vtevents\"} ";
        ck_assert_msg((l = strstr(t, tx)) && strtod(l + strlen(tx), NULL) > 0, "%s", t);
        ck_assert_str_contains(t, "\nvtev_kafka_rx_bytes_total{client=\"vtevents\"} ");
        ck_assert_str_contains(t, "\nvtev_kafka_queue_messages{handle=\"vtevents#consumer-");
        ck_assert_str_contains(t, "\nvtev_kafka_broker_rtt_seconds{handle=\"vtevents#consumer-");
        ck_assert_ptr_null(strstr(t, "broker=\"GroupCoordinator\"")); /* logical: not a broker */
        ck_assert_str_contains(t, "# TYPE vtev_kafka_broker_rtt_seconds gauge\n");
        vtev_free(t);
    }

    for (id = 1; id <= 3; id++)
        ck_assert_int_eq(rd_kafka_mock_broker_set_down(mc, id), RD_KAFKA_RESP_ERR_NO_ERROR);
    u.want_ready = false;
    u.want_check = "brokers";
    if (!ctu_poll_until(c, consumer_state, &u, 30000))
        dump(&u.h);
    ck_assert(!u.h.ready);
    ck_assert(u.h.live); /* brokers away is not the process's fault */
    ck_assert_str_contains(reason(&u.h, "brokers")->text, "no connection to any broker");
    ck_assert_str_eq(reason(&u.h, "brokers")->handle, "consumer g-brokers");

    for (id = 1; id <= 3; id++)
        ck_assert_int_eq(rd_kafka_mock_broker_set_up(mc, id), RD_KAFKA_RESP_ERR_NO_ERROR);
    u.want_check = NULL;
    u.want_ready = true;
    if (!ctu_poll_until(c, consumer_state, &u, 60000))
        dump(&u.h);
    ck_assert(u.h.ready);
    vtev_consumer_destroy(c);
}
END_TEST

/* Not polled for longer than kafka.max.poll.interval.ms: not live. */
START_TEST(test_poll_stall) {
    env_t env;
    vtev_consumer_t *c;
    vtev_conf_t *conf;
    vtev_health_t h;
    const vtev_health_reason_t *r;

    CTU_ENV_INIT(&env, "health", "stall");
    conf = ctu_conf(env.mock, env.mock, env.group);
    ctu_set(conf, "kafka.max.poll.interval.ms", "6000"); /* >= session.timeout.ms */
    c = consumer_on(&env, conf);
    ctu_poll_for(c, 500);
    ck_assert_int_eq(vtev_consumer_health(c, &h), VTEV_ERR_OK);
    ck_assert(h.live);
    sleep(7);
    ck_assert_int_eq(vtev_consumer_health(c, &h), VTEV_ERR_OK);
    ck_assert(!h.live);
    ck_assert(!h.ready);
    ck_assert_ptr_nonnull(r = reason(&h, "poll"));
    ck_assert(r->liveness);
    ck_assert_str_contains(r->text, "kafka.max.poll.interval.ms=6000");
    ctu_poll_for(c, 200); /* polled again: live */
    ck_assert_int_eq(vtev_consumer_health(c, &h), VTEV_ERR_OK);
    ck_assert(h.live);
    ck_assert_ptr_null(reason(&h, "poll"));
    vtev_consumer_destroy(c);
}
END_TEST

static int producer_ready(vtev_producer_t *p, vtev_health_t *h, int timeout_ms) {
    int64_t end = ctu_now_ms() + timeout_ms;
    do {
        ck_assert_int_eq(vtev_producer_health(p, h), VTEV_ERR_OK);
        if (h->ready)
            return 1;
        usleep(100 * 1000);
    } while (ctu_now_ms() < end);
    dump(h);
    return 0;
}

/* A registry that does not answer: not ready (registry), naming the URL;
 * a fatal error: not live. */
START_TEST(test_producer_registry_and_fatal) {
    env_t env;
    vtev_producer_t *p;
    vtev_conf_t *conf;
    vtev_health_t h;
    vtev_event_t ev;
    char e[512];
    const vtev_health_reason_t *r;
    int64_t end;

    CTU_ENV_INIT(&env, "health", "reg");
    conf = vtev_conf_new();
    ctu_set(conf, "bootstrap.servers", env.mock);
    ctu_set(conf, "schema.registry.url", "http://127.0.0.1:9");
    ctu_set(conf, "schema.registry.max.retries", "0");
    ctu_set(conf, "schema.registry.call.timeout.ms", "1000");
    p = vtev_producer_new(fast(conf), e, sizeof(e));
    ck_assert_msg(p != NULL, "%s", e);
    ck_assert(producer_ready(p, &h, 20000)); /* no registry call yet: nothing known against it */
    ctu_position(&ev, "v1");
    ck_assert_int_eq(vtev_producer_publish(p, &ev, NULL, e, sizeof(e)),
                     VTEV_ERR_REGISTRY_UNAVAILABLE);
    vtev_event_clear(&ev);
    ck_assert_int_eq(vtev_producer_health(p, &h), VTEV_ERR_OK);
    ck_assert(h.live);
    ck_assert(!h.ready);
    ck_assert_ptr_nonnull(r = reason(&h, "registry"));
    ck_assert_str_contains(r->text, "127.0.0.1:9");
    ck_assert_str_eq(r->handle, "producer vtevents");

    ck_assert_int_eq(rd_kafka_test_fatal_error(vtev__producer_rk(p),
                                               RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                                               "injected by the test"),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
    for (end = ctu_now_ms() + 10000; ctu_now_ms() < end; usleep(50 * 1000)) {
        ck_assert_int_eq(vtev_producer_health(p, &h), VTEV_ERR_OK);
        if (!h.live)
            break;
    }
    ck_assert(!h.live);
    ck_assert_ptr_nonnull(r = reason(&h, "fatal"));
    ck_assert(r->liveness);
    ck_assert_str_contains(r->text, "injected by the test");
    vtev_producer_destroy(p);
}
END_TEST

/* Failing deliveries: not ready until one succeeds again. */
START_TEST(test_producer_deliveries) {
    env_t env;
    vtev_producer_t *p;
    vtev_conf_t *conf;
    rd_kafka_mock_cluster_t *mc;
    vtev_health_t h;
    vtev_event_t ev;
    char e[512];
    int id;
    const vtev_health_reason_t *r;

    CTU_ENV_INIT(&env, "health", "dr");
    mc = vtev__mock_cluster_get(env.mock + 7);
    conf = vtev_conf_new();
    ctu_set(conf, "bootstrap.servers", env.mock);
    ctu_set(conf, "schema.registry.url", env.mock);
    ctu_set(conf, "kafka.message.timeout.ms", "1500");
    p = vtev_producer_new(fast(conf), e, sizeof(e));
    ck_assert_msg(p != NULL, "%s", e);
    ck_assert(producer_ready(p, &h, 20000));
    for (id = 1; id <= 3; id++)
        rd_kafka_mock_broker_set_down(mc, id);
    ctu_position(&ev, "v1");
    ck_assert_int_eq(vtev_producer_publish(p, &ev, NULL, e, sizeof(e)), VTEV_ERR_OK);
    vtev_producer_flush(p, 10000);
    ck_assert_int_eq(vtev_producer_health(p, &h), VTEV_ERR_OK);
    ck_assert(!h.ready);
    ck_assert_ptr_nonnull(r = reason(&h, "deliveries"));
    ck_assert_str_contains(r->text, "vessel-position-updates");
    for (id = 1; id <= 3; id++)
        rd_kafka_mock_broker_set_up(mc, id);
    {
        /* the producer reconnects with a backoff: publish until one is delivered */
        vtev_producer_stats_t st;
        int64_t end = ctu_now_ms() + 60000;
        do {
            ck_assert_int_eq(vtev_producer_publish(p, &ev, NULL, e, sizeof(e)), VTEV_ERR_OK);
            ck_assert_int_eq(vtev_producer_flush(p, 30000), VTEV_ERR_OK);
            ck_assert_int_eq(vtev_producer_stats(p, VTEV_EVENT_POSITION, &st), VTEV_ERR_OK);
        } while (st.delivered == 0 && ctu_now_ms() < end);
        ck_assert_uint_ge(st.delivered, 1);
    }
    vtev_event_clear(&ev);
    ck_assert(producer_ready(p, &h, 30000));
    ck_assert_ptr_null(reason(&h, "deliveries"));
    vtev_producer_destroy(p);
}
END_TEST

/* The process report covers every handle; the JSON form. */
START_TEST(test_process_and_json) {
    env_t env;
    vtev_producer_t *p;
    vtev_consumer_t *c;
    vtev_health_t h;
    char *j = NULL;
    size_t len = 0;
    json_t *o;

    ck_assert_int_eq(vtev_health_process(&h), VTEV_ERR_OK);
    ck_assert_uint_eq(h.handles, 0);
    ck_assert(h.live && h.ready);

    CTU_ENV_INIT(&env, "health", "proc");
    p = producer_on(&env, NULL);
    c = consumer_on(&env, NULL);
    ck_assert_int_eq(vtev_health_process(&h), VTEV_ERR_OK);
    ck_assert_uint_eq(h.handles, 2);
    ck_assert(h.live);
    ck_assert(!h.ready); /* the consumer has no partitions yet */
    ck_assert_ptr_nonnull(reason(&h, "assignment"));

    ck_assert_int_eq(vtev_health_json(&h, &j, &len), VTEV_ERR_OK);
    ck_assert_uint_eq(len, strlen(j));
    o = json_loads(j, 0, NULL);
    ck_assert_ptr_nonnull(o);
    ck_assert(json_is_true(json_object_get(o, "live")));
    ck_assert(json_is_false(json_object_get(o, "ready")));
    ck_assert_int_eq(json_integer_value(json_object_get(o, "handles")), 2);
    ck_assert_uint_ge(json_array_size(json_object_get(o, "reasons")), 1);
    ck_assert_ptr_nonnull(json_string_value(
        json_object_get(json_array_get(json_object_get(o, "reasons"), 0), "reason")));
    json_decref(o);
    vtev_free(j);

    vtev_consumer_destroy(c);
    vtev_producer_destroy(p);
    ck_assert_int_eq(vtev_health_process(&h), VTEV_ERR_OK);
    ck_assert_uint_eq(h.handles, 0);
    ck_assert_int_eq(vtev_health_process(NULL), VTEV_ERR_INVALID_ARG);
    ck_assert_int_eq(vtev_consumer_health(NULL, &h), VTEV_ERR_INVALID_ARG);
    ck_assert_int_eq(vtev_producer_health(NULL, &h), VTEV_ERR_INVALID_ARG);
    ck_assert_int_eq(vtev_health_json(NULL, &j, NULL), VTEV_ERR_INVALID_ARG);
}
END_TEST

#define ADD(name) VTEV_TEST_CASE(s, name, 150)

static Suite *health_suite(void) {
    Suite *s = suite_create("health");
    ADD(consumer_ready_and_brokers);
    ADD(poll_stall);
    ADD(producer_registry_and_fatal);
    ADD(producer_deliveries);
    ADD(process_and_json);
    return s;
}

int main(void) {
    return vtev_test_run(health_suite());
}
