/*
 * test_dlq.c - the dead-letter API (<vtevents/dlq.h>) on the embedded mock
 * cluster: filters (every condition, bad values), the reader (the headers a
 * consumer's dead letters carry), and the replay (selection, preserved key,
 * value and headers, the added replay headers, the loop guard, the dry run,
 * a failed delivery).
 *
 * A replay commits its progress in a Kafka transaction
 * (send_offsets_to_transaction); the mock cluster answers TxnOffsetCommit
 * without storing the offsets, so every run here starts from the group's
 * beginning: resuming, and nothing sent twice after a stop or a SIGKILL,
 * are tested on the real broker (test_dlq_integration.c).
 */
#include "consumer_testutil.h"
#include "internal.h"
#include "mock_cluster.h"
#include "testutil.h"
#include "timestamp.h"

#include <vtevents/dlq.h>

#define TOPIC "dlqt-positions"
#define DLQ TOPIC ".dlq"

/* ---- filters (no cluster) ----------------------------------------------- */

static vtev_dead_letter_t sample(void) {
    vtev_dead_letter_t dl;
    memset(&dl, 0, sizeof(dl));
    dl.topic = DLQ;
    dl.original_topic = TOPIC;
    dl.original_partition = 2;
    dl.original_offset = 41;
    dl.error_code = "DECODE";
    dl.error_message = "bad";
    dl.dlq_time_ms = 1768059000000LL; /* 2026-01-10T15:30:00Z */
    dl.event_id = "e-1";
    dl.key = "v-7";
    dl.key_len = 3;
    dl.attempts = 1;
    return dl;
}

static void fset(vtev_dlq_filter_t *f, const char *k, const char *v) {
    char e[512];
    ck_assert_msg(vtev_dlq_filter_set(f, k, v, e, sizeof(e)) == VTEV_ERR_OK, "%s=%s: %s", k, v, e);
}

static void one(const char *k, const char *yes, const char *no) {
    vtev_dead_letter_t dl = sample();
    vtev_dlq_filter_t *f = vtev_dlq_filter_new();
    ck_assert_ptr_nonnull(f);
    fset(f, k, yes);
    ck_assert_msg(vtev_dlq_filter_match(f, &dl), "%s=%s should match", k, yes);
    fset(f, k, no); /* replaces */
    ck_assert_msg(!vtev_dlq_filter_match(f, &dl), "%s=%s should not match", k, no);
    vtev_dlq_filter_destroy(f);
}

START_TEST(test_filter_each) {
    vtev_dead_letter_t dl = sample();
    vtev_dlq_filter_t *f = vtev_dlq_filter_new();
    ck_assert(vtev_dlq_filter_match(NULL, &dl));
    ck_assert(vtev_dlq_filter_match(f, &dl)); /* empty: everything */
    vtev_dlq_filter_destroy(f);
    one("since", "2026-01-10T15:30:00Z", "2026-01-10T15:30:00.001Z");
    one("until", "2026-01-10T15:30:00.001Z", "2026-01-10T15:30:00Z"); /* until is exclusive */
    one("error.code", "DECODE", "REJECTED");
    one("key", "v-7", "v-70");
    one("original.topic", TOPIC, "other");
    one("original.partition", "2", "0");
    one("original.offset", "41", "40");
    one("event.id", "e-1", "e-2");
    /* a dead letter without the header never matches a condition on it */
    f = vtev_dlq_filter_new();
    fset(f, "event.id", "e-1");
    dl.event_id = NULL;
    ck_assert(!vtev_dlq_filter_match(f, &dl));
    vtev_dlq_filter_destroy(f);
    /* conditions combine */
    dl = sample();
    f = vtev_dlq_filter_new();
    fset(f, "key", "v-7");
    fset(f, "error.code", "DECODE");
    ck_assert(vtev_dlq_filter_match(f, &dl));
    dl.error_code = "REJECTED";
    ck_assert(!vtev_dlq_filter_match(f, &dl));
    vtev_dlq_filter_destroy(f);
}
END_TEST

START_TEST(test_filter_errors) {
    vtev_dlq_filter_t *f = vtev_dlq_filter_new();
    vtev_dead_letter_t dl = sample();
    char e[512];
    ck_assert_int_eq(vtev_dlq_filter_set(f, "since", "yesterday", e, sizeof(e)), VTEV_ERR_PARSE);
    ck_assert_str_contains(e, "since");
    ck_assert_int_eq(vtev_dlq_filter_set(f, "original.partition", "-1", e, sizeof(e)),
                     VTEV_ERR_PARSE);
    ck_assert_str_contains(e, "original.partition");
    ck_assert_int_eq(vtev_dlq_filter_set(f, "original.offset", "12x", e, sizeof(e)),
                     VTEV_ERR_PARSE);
    ck_assert_str_contains(e, "original.offset");
    ck_assert_int_eq(vtev_dlq_filter_set(f, "error.code", "decode failed", e, sizeof(e)),
                     VTEV_ERR_PARSE);
    ck_assert_str_contains(e, "error.code");
    ck_assert_int_eq(vtev_dlq_filter_set(f, "key", "", e, sizeof(e)), VTEV_ERR_PARSE);
    ck_assert_int_eq(vtev_dlq_filter_set(f, "vessel", "x", e, sizeof(e)), VTEV_ERR_NOT_FOUND);
    ck_assert_str_contains(e, "vessel");
    ck_assert_int_eq(vtev_dlq_filter_set(NULL, "key", "x", e, sizeof(e)), VTEV_ERR_INVALID_ARG);
    /* nothing half-set: the filter still selects everything */
    ck_assert(vtev_dlq_filter_match(f, &dl));
    vtev_dlq_filter_destroy(f);
    vtev_dlq_filter_destroy(NULL);
}
END_TEST

/* ---- on the mock cluster ------------------------------------------------ */

typedef struct ctx_s {
    ctu_rec_t rec;
    int reject; /* reject vessels v2 and v5 */
} ctx_t;

static vtev_verdict_t handler(vtev_consumer_t *c, const vtev_event_t *ev,
                              const vtev_msg_info_t *info, void *opaque) {
    ctx_t *x = opaque;
    (void)c;
    (void)info;
    if (x->reject && (!strcmp(ev->u.env.vessel_id, "v2") || !strcmp(ev->u.env.vessel_id, "v5")))
        return VTEV_VERDICT_REJECT;
    ctu_rec_add(&x->rec, ev->u.env.event_id, info->attempt);
    return VTEV_VERDICT_OK;
}

typedef struct cnt_s {
    const char *bs;
} cnt_t;

static int dlq_has3(void *arg) {
    return ctu_topic_count(((cnt_t *)arg)->bs, DLQ, 1) >= 3;
}

static vtev_conf_t *base_conf(const ctu_env_t *env) {
    vtev_conf_t *c = vtev_conf_new();
    ctu_set(c, "bootstrap.servers", env->mock);
    ctu_set(c, "log.level", "4");
    return c;
}

static void replay_cb(vtev_dlq_replay_t *r, const vtev_dead_letter_t *dl, vtev_dlq_action_t a,
                      const char *to, void *opaque) {
    int *counts = opaque;
    (void)r;
    (void)dl;
    (void)to;
    counts[a]++;
}

static vtev_dlq_replay_stats_t replay(vtev_conf_t *conf, const vtev_dlq_filter_t *f, int *counts) {
    char e[512];
    vtev_dlq_replay_stats_t st;
    vtev_dlq_replay_t *r = vtev_dlq_replay_new(conf, DLQ, f, e, sizeof(e));
    ck_assert_msg(r != NULL, "replay_new: %s", e);
    ck_assert_msg(vtev_dlq_replay_run(r, replay_cb, counts, e, sizeof(e)) == VTEV_ERR_OK,
                  "replay_run: %s", e);
    ck_assert_int_eq(vtev_dlq_replay_stats(r, &st), VTEV_ERR_OK);
    vtev_dlq_replay_destroy(r);
    return st;
}

START_TEST(test_read_and_replay) {
    ctu_env_t env;
    rd_kafka_mock_cluster_t *mc;
    vtev_conf_t *sc, *conf;
    ctu_pub_t *pub;
    vtev_consumer_t *c;
    static ctx_t x;
    char e[512], ids[6][VTEV_UUID_LEN + 1], buf[128];
    int i, counts[4] = {0};
    cnt_t cnt;
    vtev_dlq_reader_t *rd;
    const vtev_dead_letter_t *dl;
    size_t n = 0, rejected = 0, poison = 0;
    vtev_dlq_filter_t *f;
    vtev_dlq_replay_stats_t st;
    ctu_dlq_msg_t out[8];

    CTU_ENV_INIT(&env, "dlq", "replay");
    mc = vtev__mock_cluster_get(env.mock + 7);
    ck_assert_ptr_nonnull(mc);
    ck_assert_int_eq(rd_kafka_mock_topic_create(mc, TOPIC, 2, 1), 0);
    ck_assert_int_eq(rd_kafka_mock_topic_create(mc, DLQ, 1, 1), 0);
    ck_assert_int_eq(rd_kafka_mock_topic_create(mc, "redrive", 1, 1), 0);

    /* (the mock cluster creates any topic asked for: a topic that does not
     * exist is tested on the real broker, test_dlq_integration.c) */
    conf = base_conf(&env);

    sc = vtev_conf_new();
    ctu_set(sc, "schema.registry.url", env.mock);
    pub = ctu_pub_new(env.bootstraps, sc);
    for (i = 0; i < 6; i++) {
        vtev_event_t ev;
        char v[8];
        snprintf(v, sizeof(v), "v%d", i + 1);
        ctu_position(&ev, v);
        snprintf(ids[i], sizeof(ids[i]), "%s", ev.u.env.event_id);
        ctu_publish(pub, TOPIC, &ev);
        vtev_event_clear(&ev);
    }
    ctu_publish_raw(pub, TOPIC, "junk", "not avro", 8);

    ctu_rec_init(&x.rec);
    x.reject = 1;
    c = vtev_consumer_new(ctu_conf(env.mock, env.mock, env.group), e, sizeof(e));
    ck_assert_msg(c != NULL, "%s", e);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, TOPIC, handler, &x, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    cnt.bs = env.bootstraps;
    ck_assert(ctu_poll_until(c, dlq_has3, &cnt, 60000));

    /* the reader: every dead letter with what the consumer wrote */
    rd = vtev_dlq_reader_new(conf, DLQ, e, sizeof(e));
    ck_assert_msg(rd != NULL, "%s", e);
    for (;;) {
        vtev_err_t err = vtev_dlq_reader_next(rd, &dl, 5000, e, sizeof(e));
        ck_assert_msg(err == VTEV_ERR_OK, "next: %s", e);
        if (!dl)
            break;
        n++;
        ck_assert_str_eq(dl->topic, DLQ);
        ck_assert_str_eq(dl->original_topic, TOPIC);
        ck_assert_int_ge(dl->original_partition, 0);
        ck_assert_int_ge(dl->original_offset, 0);
        ck_assert_int_gt(dl->dlq_time_ms, 1700000000000LL);
        ck_assert_int_eq(dl->replay_count, 0);
        ck_assert_str_eq(dl->consumer_group, env.group);
        ck_assert_ptr_nonnull(dl->key);
        ck_assert_ptr_nonnull(dl->error_message);
        if (!strcmp(dl->error_code, "REJECTED")) {
            rejected++;
            /* (this publisher sets no event_id header; the library's does) */
            ck_assert((dl->key_len == 2 && !memcmp(dl->key, "v2", 2)) ||
                      (dl->key_len == 2 && !memcmp(dl->key, "v5", 2)));
            ck_assert_int_eq(dl->attempts, 1);
        } else {
            poison++;
            ck_assert_int_eq((int)dl->key_len, 4);
            ck_assert(!memcmp(dl->key, "junk", 4));
            ck_assert_int_eq((int)dl->value_len, 8);
            ck_assert(!memcmp(dl->value, "not avro", 8));
        }
    }
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(rejected, 2);
    ck_assert_uint_eq(poison, 1);
    /* at the end it stays at the end */
    ck_assert_int_eq(vtev_dlq_reader_next(rd, &dl, 100, e, sizeof(e)), VTEV_ERR_OK);
    ck_assert_ptr_null(dl);
    vtev_dlq_reader_destroy(rd);

    /* a dry run sends nothing and commits nothing */
    f = vtev_dlq_filter_new();
    fset(f, "error.code", "REJECTED");
    ctu_set(conf, "dlq.replay.to", "redrive");
    ctu_set(conf, "dlq.replay.dry.run", "true");
    st = replay(conf, f, counts);
    ck_assert_uint_eq(st.read, 3);
    ck_assert_uint_eq(st.selected, 2);
    ck_assert_uint_eq(st.dry_run, 2);
    ck_assert_uint_eq(st.replayed, 0);
    ck_assert_int_eq(counts[VTEV_DLQ_WOULD_REPLAY], 2);
    ck_assert_int_eq((int)ctu_topic_count(env.bootstraps, "redrive", 1), 0);

    /* the real run: the two rejected ones, to the other topic */
    ctu_set(conf, "dlq.replay.dry.run", "false");
    st = replay(conf, f, counts);
    ck_assert_uint_eq(st.replayed, 2);
    ck_assert_int_eq(counts[VTEV_DLQ_REPLAYED], 2);
    n = ctu_read_topic(env.bootstraps, "redrive", out, 8, 10000);
    ck_assert_uint_eq(n, 2);
    for (i = 0; i < (int)n; i++) {
        ck_assert_str_eq(ctu_hdr(&out[i], "vtev.replay.count", buf, sizeof(buf)), "1");
        ck_assert_int_gt((int)strlen(ctu_hdr(&out[i], "vtev.replayed.at", buf, sizeof(buf))), 20);
        ck_assert_str_eq(ctu_hdr(&out[i], "test-header", buf, sizeof(buf)), "h1"); /* original */
        ck_assert_str_eq(ctu_hdr(&out[i], "vtev.error.code", buf, sizeof(buf)), "");
        ck_assert_str_eq(ctu_hdr(&out[i], "vtev.original.topic", buf, sizeof(buf)), "");
        ck_assert(!strcmp(out[i].key, "v2") || !strcmp(out[i].key, "v5"));
        ck_assert_uint_gt(out[i].len, 5);
        ck_assert_int_eq(out[i].value[0], 0); /* the framed bytes, unchanged */
    }
    ctu_dlq_free(out, n);

    /* back to the original topic; the consumer, fixed, handles them once */
    x.reject = 0;
    vtev_dlq_filter_destroy(f);
    f = vtev_dlq_filter_new();
    fset(f, "key", "v5");
    ctu_set(conf, "dlq.replay.to", "");
    ctu_set(conf, "dlq.replay.group", "to-original");
    st = replay(conf, f, counts);
    ck_assert_uint_eq(st.read, 3);
    ck_assert_uint_eq(st.replayed, 1);
    ctu_poll_for(c, 1500);
    ck_assert_int_eq(ctu_rec_count(&x.rec, ids[4]), 1);
    ck_assert_int_eq(ctu_rec_count(&x.rec, ids[1]), 0);

    /* the loop guard: max.count 0 refuses everything */
    vtev_dlq_filter_destroy(f);
    ctu_set(conf, "dlq.replay.group", "guard");
    ctu_set(conf, "dlq.replay.max.count", "0");
    memset(counts, 0, sizeof(counts));
    st = replay(conf, NULL, counts);
    ck_assert_uint_eq(st.refused, 3);
    ck_assert_uint_eq(st.replayed, 0);
    ck_assert_int_eq(counts[VTEV_DLQ_REFUSED_LOOP], 3);

    ck_assert_int_eq(vtev_consumer_close(c, e, sizeof(e)), VTEV_ERR_OK);
    vtev_consumer_destroy(c);
    ctu_pub_destroy(pub);
    vtev_conf_destroy(conf);
}
END_TEST

/* A replayed dead letter that fails again carries its count into the DLQ,
 * and the next replay refuses it at dlq.replay.max.count. */
START_TEST(test_loop_guard_count) {
    ctu_env_t env;
    rd_kafka_mock_cluster_t *mc;
    vtev_conf_t *sc, *conf;
    ctu_pub_t *pub;
    vtev_consumer_t *c;
    static ctx_t x;
    char e[512], since[40];
    int counts[4] = {0}, round;
    cnt_t cnt;
    vtev_dlq_replay_stats_t st;

    CTU_ENV_INIT(&env, "dlq", "guard");
    mc = vtev__mock_cluster_get(env.mock + 7);
    ck_assert_int_eq(rd_kafka_mock_topic_create(mc, TOPIC, 1, 1), 0);
    ck_assert_int_eq(rd_kafka_mock_topic_create(mc, DLQ, 1, 1), 0);
    sc = vtev_conf_new();
    ctu_set(sc, "schema.registry.url", env.mock);
    pub = ctu_pub_new(env.bootstraps, sc);
    ctu_publish_raw(pub, TOPIC, "poison", "xx", 2);
    ctu_rec_init(&x.rec);
    c = vtev_consumer_new(ctu_conf(env.mock, env.mock, env.group), e, sizeof(e));
    ck_assert_msg(c != NULL, "%s", e);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, TOPIC, handler, &x, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    conf = base_conf(&env);
    ctu_set(conf, "dlq.replay.max.count", "2");
    cnt.bs = env.bootstraps;
    for (round = 1; round <= 3; round++) {
        int64_t want = round;
        int64_t deadline = ctu_now_ms() + 30000;
        vtev_dlq_filter_t *f = vtev_dlq_filter_new();
        while (ctu_topic_count(env.bootstraps, DLQ, 1) < want && ctu_now_ms() < deadline)
            ctu_poll_for(c, 100);
        ck_assert_int_eq((int)ctu_topic_count(env.bootstraps, DLQ, 1), round);
        /* only the newest dead letter: the one of the last replay */
        if (round > 1)
            fset(f, "since", since);
        usleep(5000);
        vtev__format_time(vtev__now_wall_us() / 1000, 1000, since, sizeof(since));
        memset(counts, 0, sizeof(counts));
        st = replay(conf, f, counts);
        vtev_dlq_filter_destroy(f);
        ck_assert_uint_eq(st.read, round);
        ck_assert_uint_eq(st.selected, 1);
        if (round <= 2) {
            ck_assert_uint_eq(st.replayed, 1);
        } else {
            ck_assert_uint_eq(st.replayed, 0);
            ck_assert_int_eq(counts[VTEV_DLQ_REFUSED_LOOP], 1);
        }
    }
    ctu_poll_for(c, 1000);
    ck_assert_int_eq((int)ctu_topic_count(env.bootstraps, DLQ, 1), 3);
    (void)cnt;
    ck_assert_int_eq(vtev_consumer_close(c, e, sizeof(e)), VTEV_ERR_OK);
    vtev_consumer_destroy(c);
    ctu_pub_destroy(pub);
    vtev_conf_destroy(conf);
}
END_TEST

/* A replay whose deliveries fail returns the delivery error, reports
 * nothing as replayed (its transaction is aborted), and the next run sends
 * everything once. */
START_TEST(test_replay_delivery_fails) {
    ctu_env_t env;
    rd_kafka_mock_cluster_t *mc;
    vtev_conf_t *sc, *conf;
    ctu_pub_t *pub;
    char e[512];
    int i, counts[4] = {0};
    vtev_dlq_replay_t *r;
    vtev_dlq_replay_stats_t st;
    vtev_err_t err;

    CTU_ENV_INIT(&env, "dlq", "drfail");
    mc = vtev__mock_cluster_get(env.mock + 7);
    ck_assert_int_eq(rd_kafka_mock_topic_create(mc, DLQ, 1, 1), 0);
    ck_assert_int_eq(rd_kafka_mock_topic_create(mc, "redrive", 1, 1), 0);
    sc = vtev_conf_new();
    ctu_set(sc, "schema.registry.url", env.mock);
    pub = ctu_pub_new(env.bootstraps, sc);
    for (i = 0; i < 3; i++)
        ctu_publish_raw(pub, DLQ, "k", "dead", 4); /* dead letters without origin */
    ctu_pub_destroy(pub);
    conf = base_conf(&env);
    ctu_set(conf, "log.level", "2");
    ctu_set(conf, "dlq.replay.to", "redrive");
    ctu_set(conf, "kafka.message.timeout.ms", "3000");
    /* every produce request of the next seconds fails for good */
    {
        rd_kafka_resp_err_t errs[50];
        for (i = 0; i < 50; i++)
            errs[i] = RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
        rd_kafka_mock_push_request_errors_array(mc, 0 /* Produce */, 50, errs);
    }
    r = vtev_dlq_replay_new(conf, DLQ, NULL, e, sizeof(e));
    ck_assert_msg(r != NULL, "%s", e);
    err = vtev_dlq_replay_run(r, replay_cb, counts, e, sizeof(e));
    ck_assert_msg(err != VTEV_ERR_OK, "the run should fail");
    ck_assert_str_contains(e, "delivery failed");
    ck_assert_int_eq(vtev_dlq_replay_stats(r, &st), VTEV_ERR_OK);
    ck_assert_uint_eq(st.replayed, 0);
    ck_assert_int_eq(counts[VTEV_DLQ_REPLAYED], 0);
    vtev_dlq_replay_destroy(r);
    ck_assert_int_eq((int)ctu_topic_count(env.bootstraps, "redrive", 1), 0);
    /* the brokers accept again: the next run sends all three, once */
    rd_kafka_mock_clear_request_errors(mc, 0);
    st = replay(conf, NULL, counts);
    ck_assert_uint_eq(st.read, 3);
    ck_assert_uint_eq(st.replayed, 3);
    ck_assert_int_eq((int)ctu_count_topic(env.bootstraps, "redrive", 10000), 3);
    vtev_conf_destroy(conf);
}
END_TEST

int main(void) {
    Suite *s = suite_create("dlq");
    VTEV_TEST_CASE(s, filter_each, 30);
    VTEV_TEST_CASE(s, filter_errors, 30);
    VTEV_TEST_CASE(s, read_and_replay, 150);
    VTEV_TEST_CASE(s, loop_guard_count, 150);
    VTEV_TEST_CASE(s, replay_delivery_fails, 150);
    return vtev_test_run(s);
}
