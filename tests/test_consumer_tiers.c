/*
 * test_consumer_tiers.c - non-blocking retries (consumer.retry.tiers) on the
 * embedded mock cluster: a message whose handler keeps asking for a retry
 * goes through <topic>.retry.1 and .retry.2, each after its delay, then to
 * the topic's dead-letter topic as the original topic's message, while the
 * other messages of its partition are handled at once; a message that
 * succeeds on a tier is handled once; a topic that does not opt in keeps
 * the blocking retry.  The dead letter's vtev.original.timestamp is the
 * original message's, not the last tier copy's.
 */
#include <stdatomic.h>

#include "consumer_testutil.h"
#include "mock_cluster.h"
#include "testutil.h"
#include "timestamp.h"

#define TOPIC "tiers-positions"

typedef struct tctx_s {
    ctu_rec_t rec;      /* handled OK */
    int fail_until;     /* "bad": RETRY while attempt < this (0: always) */
    int attempts_seen[8];
    char topics_seen[8][64];
    int64_t at_ms[8];
    int bad_calls;
    int64_t good_done_ms; /* when the last good one was handled */
    int good;
} tctx_t;

static vtev_verdict_t handler(vtev_consumer_t *c, const vtev_event_t *ev,
                              const vtev_msg_info_t *info, void *opaque) {
    tctx_t *x = opaque;
    (void)c;
    if (!strcmp(ev->u.env.vessel_id, "bad")) {
        if (x->bad_calls < 8) {
            x->attempts_seen[x->bad_calls] = info->attempt;
            snprintf(x->topics_seen[x->bad_calls], sizeof(x->topics_seen[0]), "%s", info->topic);
            x->at_ms[x->bad_calls] = ctu_now_ms();
        }
        x->bad_calls++;
        if (x->fail_until == 0 || info->attempt < x->fail_until)
            return VTEV_VERDICT_RETRY;
    } else {
        x->good++;
        x->good_done_ms = ctu_now_ms();
    }
    ctu_rec_add(&x->rec, ev->u.env.event_id, info->attempt);
    return VTEV_VERDICT_OK;
}

static void create(rd_kafka_mock_cluster_t *mc, const char *t) {
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, t, 1, 1);
    ck_assert_msg(!e || e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS, "%s: %s", t,
                  rd_kafka_err2str(e));
}

/* publishes "bad" first, then n good ones, all on the one partition */
static void setup(ctu_env_t *env, const char *name, int n, char *bad_id) {
    rd_kafka_mock_cluster_t *mc;
    vtev_conf_t *sc = vtev_conf_new();
    ctu_pub_t *pub;
    int i;
    CTU_ENV_INIT(env, "tiers", name);
    mc = vtev__mock_cluster_get(env->mock + 7);
    ck_assert_ptr_nonnull(mc);
    create(mc, TOPIC);
    create(mc, TOPIC ".retry.1");
    create(mc, TOPIC ".retry.2");
    create(mc, TOPIC ".dlq");
    ctu_set(sc, "schema.registry.url", env->mock);
    pub = ctu_pub_new(env->bootstraps, sc);
    for (i = 0; i <= n; i++) {
        vtev_event_t ev;
        ctu_position(&ev, i == 0 ? "bad" : "good");
        if (i == 0)
            snprintf(bad_id, VTEV_UUID_LEN + 1, "%s", ev.u.env.event_id);
        ctu_publish(pub, TOPIC, &ev);
        vtev_event_clear(&ev);
    }
    ctu_pub_destroy(pub);
}

static vtev_consumer_t *consumer(ctu_env_t *env, tctx_t *x, const char *tier_topics) {
    vtev_conf_t *conf = ctu_conf(env->mock, env->mock, env->group);
    vtev_consumer_t *c;
    char e[512];
    ctu_set(conf, "consumer.retry.tiers", "2");
    ctu_set(conf, "consumer.retry.tier.backoff", "fixed");
    ctu_set(conf, "consumer.retry.tier.delay.ms", "400");
    ctu_set(conf, "consumer.retry.max.attempts", "3");
    ctu_set(conf, "consumer.retry.backoff.ms", "400");
    ctu_set(conf, "consumer.retry.backoff.max.ms", "400");
    if (tier_topics)
        ctu_set(conf, "consumer.retry.tier.topics", tier_topics);
    c = vtev_consumer_new(conf, e, sizeof(e));
    ck_assert_msg(c != NULL, "%s", e);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, TOPIC, handler, x, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    return c;
}

START_TEST(test_tiers_to_dlq) {
    ctu_env_t env;
    static tctx_t x;
    char bad_id[VTEV_UUID_LEN + 1], e[512], buf[128];
    vtev_consumer_t *c;
    int64_t t0, deadline;
    ctu_dlq_msg_t dl[2], r1[2], orig[24], r2[2];
    char orig_ts[40];
    int64_t orig_ms;
    size_t n;

    setup(&env, "dlq", 20, bad_id);
    memset(&x, 0, sizeof(x));
    ctu_rec_init(&x.rec);
    c = consumer(&env, &x, NULL);
    t0 = ctu_now_ms();
    deadline = t0 + 60000;
    while (ctu_now_ms() < deadline && ctu_topic_count(env.bootstraps, TOPIC ".dlq", 1) < 1)
        ctu_poll_for(c, 50);
    ctu_poll_for(c, 300);
    ck_assert_int_eq(x.good, 20);
    ck_assert_int_eq(x.bad_calls, 3); /* the topic, tier 1, tier 2 */
    ck_assert_int_eq(x.attempts_seen[0], 1);
    ck_assert_int_eq(x.attempts_seen[1], 2);
    ck_assert_int_eq(x.attempts_seen[2], 3);
    ck_assert_str_eq(x.topics_seen[0], TOPIC);
    ck_assert_str_eq(x.topics_seen[1], TOPIC ".retry.1");
    ck_assert_str_eq(x.topics_seen[2], TOPIC ".retry.2");
    /* each tier waited its delay; the good ones did not wait for the bad one */
    ck_assert_int_ge(x.at_ms[1] - x.at_ms[0], 380);
    ck_assert_int_ge(x.at_ms[2] - x.at_ms[1], 380);
    ck_assert_int_lt(x.good_done_ms, x.at_ms[1]);
    ck_assert_int_eq(ctu_rec_count(&x.rec, bad_id), 0);
    /* the dead letter is the original topic's message */
    n = ctu_read_topic(env.bootstraps, TOPIC ".dlq", dl, 2, 10000);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(ctu_hdr(&dl[0], "vtev.original.topic", buf, sizeof(buf)), TOPIC);
    ck_assert_str_eq(ctu_hdr(&dl[0], "vtev.original.offset", buf, sizeof(buf)), "0");
    ck_assert_str_eq(ctu_hdr(&dl[0], "vtev.original.partition", buf, sizeof(buf)), "0");
    ck_assert_str_eq(ctu_hdr(&dl[0], "vtev.error.code", buf, sizeof(buf)), "RETRIES_EXHAUSTED");
    ck_assert_str_eq(ctu_hdr(&dl[0], "vtev.attempts", buf, sizeof(buf)), "3");
    ck_assert_str_eq(ctu_hdr(&dl[0], "vtev.retry.tier", buf, sizeof(buf)), ""); /* not kept */
    ck_assert_str_eq(ctu_hdr(&dl[0], "test-header", buf, sizeof(buf)), "h1");
    ck_assert_str_eq(dl[0].key, "bad");
    /* the original message's timestamp survives both tiers */
    n = ctu_read_topic(env.bootstraps, TOPIC, orig, 24, 10000);
    ck_assert_uint_eq(n, 21);
    ck_assert_str_eq(orig[0].key, "bad");
    ck_assert_int_gt(orig[0].timestamp_ms, 0);
    orig_ms = orig[0].timestamp_ms;
    vtev__format_time(orig_ms, 1000, orig_ts, sizeof(orig_ts));
    ctu_dlq_free(orig, n);
    ck_assert_str_eq(ctu_hdr(&dl[0], "vtev.original.timestamp", buf, sizeof(buf)), orig_ts);
    ck_assert_str_eq(ctu_hdr(&dl[0], "vtev.original.timestamp.type", buf, sizeof(buf)),
                     "CreateTime");
    ck_assert_str_eq(ctu_hdr(&dl[0], "vtev.retry.original.timestamp", buf, sizeof(buf)), "");
    n = ctu_read_topic(env.bootstraps, TOPIC ".retry.2", r2, 2, 10000);
    ck_assert_uint_eq(n, 1);
    /* the tier 2 copy is one tier delay (400 ms) later at least... */
    ck_assert_int_ge(r2[0].timestamp_ms - orig_ms, 380);
    ck_assert_str_eq(ctu_hdr(&r2[0], "vtev.retry.original.timestamp", buf, sizeof(buf)),
                     orig_ts); /* ...and carries the original's */
    ctu_dlq_free(r2, n);
    ctu_dlq_free(dl, 1);
    /* the tier's copy says where it came from and when it is due */
    n = ctu_read_topic(env.bootstraps, TOPIC ".retry.1", r1, 2, 10000);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(ctu_hdr(&r1[0], "vtev.retry.tier", buf, sizeof(buf)), "1");
    ck_assert_str_eq(ctu_hdr(&r1[0], "vtev.retry.original.topic", buf, sizeof(buf)), TOPIC);
    ck_assert_str_eq(ctu_hdr(&r1[0], "vtev.retry.original.offset", buf, sizeof(buf)), "0");
    ck_assert_int_gt((int)strlen(ctu_hdr(&r1[0], "vtev.retry.due", buf, sizeof(buf))), 20);
    ctu_dlq_free(r1, n);
    ck_assert_int_eq((int)ctu_topic_count(env.bootstraps, TOPIC ".retry.2", 1), 1);
    ck_assert_int_eq(vtev_consumer_close(c, e, sizeof(e)), VTEV_ERR_OK);
    vtev_consumer_destroy(c);
}
END_TEST

START_TEST(test_tier_ok) {
    ctu_env_t env;
    static tctx_t x;
    char bad_id[VTEV_UUID_LEN + 1], e[512];
    vtev_consumer_t *c;
    int64_t deadline;

    setup(&env, "ok", 5, bad_id);
    memset(&x, 0, sizeof(x));
    ctu_rec_init(&x.rec);
    x.fail_until = 2; /* fails on the topic, succeeds on tier 1 */
    c = consumer(&env, &x, NULL);
    deadline = ctu_now_ms() + 30000;
    while (ctu_now_ms() < deadline && ctu_rec_count(&x.rec, bad_id) < 1)
        ctu_poll_for(c, 50);
    ctu_poll_for(c, 1500);
    ck_assert_int_eq(ctu_rec_count(&x.rec, bad_id), 1);
    ck_assert_int_eq(x.bad_calls, 2);
    ck_assert_str_eq(x.topics_seen[1], TOPIC ".retry.1");
    ck_assert_int_eq(x.good, 5);
    ck_assert_int_eq((int)ctu_topic_count(env.bootstraps, TOPIC ".dlq", 1), 0);
    ck_assert_int_eq((int)ctu_topic_count(env.bootstraps, TOPIC ".retry.2", 1), 0);
    ck_assert_int_eq(vtev_consumer_close(c, e, sizeof(e)), VTEV_ERR_OK);
    vtev_consumer_destroy(c);
}
END_TEST

/* A topic left out of consumer.retry.tier.topics keeps the blocking retry. */
START_TEST(test_not_opted_in) {
    ctu_env_t env;
    static tctx_t x;
    char bad_id[VTEV_UUID_LEN + 1], e[512];
    vtev_consumer_t *c;
    int64_t deadline;

    setup(&env, "optin", 5, bad_id);
    memset(&x, 0, sizeof(x));
    ctu_rec_init(&x.rec);
    c = consumer(&env, &x, "some-other-topic");
    deadline = ctu_now_ms() + 30000;
    while (ctu_now_ms() < deadline && ctu_topic_count(env.bootstraps, TOPIC ".dlq", 1) < 1)
        ctu_poll_for(c, 50);
    ctu_poll_for(c, 300);
    ck_assert_int_eq(x.bad_calls, 3); /* consumer.retry.max.attempts, in place */
    ck_assert_str_eq(x.topics_seen[2], TOPIC);
    ck_assert_int_eq(x.good, 5);
    ck_assert_int_gt(x.good_done_ms, x.at_ms[2]); /* the partition waited */
    ck_assert_int_eq((int)ctu_topic_count(env.bootstraps, TOPIC ".retry.1", 1), 0);
    ck_assert_int_eq(vtev_consumer_close(c, e, sizeof(e)), VTEV_ERR_OK);
    vtev_consumer_destroy(c);
}
END_TEST

int main(void) {
    Suite *s = suite_create("consumer_tiers");
    VTEV_TEST_CASE(s, tiers_to_dlq, 120);
    VTEV_TEST_CASE(s, tier_ok, 120);
    VTEV_TEST_CASE(s, not_opted_in, 120);
    return vtev_test_run(s);
}
