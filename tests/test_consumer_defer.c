/*
 * test_consumer_defer.c - deferred verdicts (vtev_consumer_defer(),
 * vtev_pending_done()) and VTEV_VERDICT_RETRY_ENV on the embedded mock
 * cluster: offsets are stored in order per partition, only once every
 * earlier message is done; a failed output re-delivers its input; a real
 * producer's delivery report drives it; environment retries never
 * dead-letter.
 */

#include <stdatomic.h>

#include "consumer_testutil.h"
#include "mock_cluster.h"
#include "testutil.h"

#define TOPIC "vessel-position-updates"

typedef ctu_env_t env_t;

static void env_init(env_t *env, const char *name) {
    CTU_ENV_INIT(env, "defer", name);
}

static vtev_consumer_t *env_consumer(env_t *env, vtev_conf_t *conf) {
    char e[512];
    vtev_consumer_t *c;
    if (!conf)
        conf = ctu_conf(env->mock, env->mock, env->group);
    c = vtev_consumer_new(conf, e, sizeof(e));
    ck_assert_msg(c != NULL, "consumer: %s", e);
    return c;
}

/* n positions, all with key "v0" (one partition); ids out. */
static void publish_one_partition(env_t *env, int n, char ids[][VTEV_UUID_LEN + 1]) {
    vtev_conf_t *sc = vtev_conf_new();
    ctu_pub_t *p;
    int i;
    ctu_set(sc, "schema.registry.url", env->mock);
    p = ctu_pub_new(env->bootstraps, sc);
    for (i = 0; i < n; i++) {
        vtev_event_t ev;
        ctu_position(&ev, "v0");
        snprintf(ids[i], VTEV_UUID_LEN + 1, "%s", ev.u.env.event_id);
        ctu_publish(p, TOPIC, &ev);
        vtev_event_clear(&ev);
    }
    ctu_pub_destroy(p);
}

/* Position (next offset) of the one partition holding messages. */
static int64_t position(vtev_consumer_t *c) {
    vtev_partition_lag_t *lags = NULL;
    size_t n = 0, i;
    int64_t pos = -2;
    char e[512];
    ck_assert_int_eq(vtev_consumer_lag(c, &lags, &n, 5000, e, sizeof(e)), VTEV_ERR_OK);
    for (i = 0; i < n; i++)
        if (lags[i].high_watermark > 0)
            pos = lags[i].position;
    vtev_free(lags);
    return pos;
}

typedef struct dctx_s {
    ctu_rec_t rec;
    vtev_pending_t *pd[16];
    int64_t offsets[16];
    size_t deferred;
    int defer_first_only; /* defer only the first delivery of each event */
    int plain;             /* never defer */
    vtev_producer_t *prod; /* publish through it, the report decides */
    vtev_err_t publish_err;
    int env_retries;       /* RETRY_ENV this many times per event first */
    int attempts_max;
} dctx_t;

static vtev_verdict_t defer_handler(vtev_consumer_t *c, const vtev_event_t *ev,
                                    const vtev_msg_info_t *info, void *opaque) {
    dctx_t *d = opaque;
    int seen = ctu_rec_count(&d->rec, ev->u.env.event_id);
    if (info->attempt > d->attempts_max)
        d->attempts_max = info->attempt;
    if (d->env_retries > 0 && seen < d->env_retries) {
        ctu_rec_add(&d->rec, ev->u.env.event_id, info->attempt);
        return VTEV_VERDICT_RETRY_ENV;
    }
    ctu_rec_add(&d->rec, ev->u.env.event_id, info->attempt);
    if (d->plain || d->env_retries > 0 || (d->defer_first_only && seen > 0))
        return VTEV_VERDICT_OK;
    if (d->prod) {
        vtev_pending_t *pd = vtev_consumer_defer(c, 1);
        char e[512];
        vtev_err_t err;
        ck_assert_ptr_nonnull(pd);
        err = vtev_producer_publish_to(d->prod, "outputs", ev, pd, e, sizeof(e));
        if (err != VTEV_ERR_OK)
            vtev_pending_done(pd, err);
        return VTEV_VERDICT_OK;
    }
    ck_assert_ptr_null(vtev_consumer_defer(c, 0));
    ck_assert_uint_lt(d->deferred, 16);
    d->pd[d->deferred] = vtev_consumer_defer(c, 1);
    ck_assert_ptr_nonnull(d->pd[d->deferred]);
    d->offsets[d->deferred] = info->offset;
    d->deferred++;
    return VTEV_VERDICT_OK;
}

typedef struct want_s {
    dctx_t *d;
    size_t total;
} want_t;

static int have_total(void *arg) {
    want_t *w = arg;
    return w->d->rec.total >= w->total;
}

static dctx_t *dctx_new(void) {
    dctx_t *d = calloc(1, sizeof(*d));
    ck_assert_ptr_nonnull(d);
    ctu_rec_init(&d->rec);
    return d;
}

/* Five deferred messages of one partition done out of order: the offset
 * moves only past a prefix that is all done; what is not done is
 * redelivered to the next member of the group. */
START_TEST(test_in_order) {
    env_t env;
    char ids[5][VTEV_UUID_LEN + 1], e[512];
    dctx_t *d = dctx_new(), *d2 = dctx_new();
    vtev_consumer_t *c;
    want_t w = {d, 5};
    int i;

    env_init(&env, "order");
    publish_one_partition(&env, 5, ids);
    c = env_consumer(&env, NULL);
    ck_assert_ptr_null(vtev_consumer_defer(c, 1)); /* not in a handler */
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, NULL, defer_handler, d, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert(ctu_poll_until(c, have_total, &w, 30000));
    ck_assert_uint_eq(d->deferred, 5);
    for (i = 0; i < 5; i++)
        ck_assert_int_eq(d->offsets[i], i);
    vtev_pending_done(d->pd[1], VTEV_ERR_OK);
    vtev_pending_done(d->pd[2], VTEV_ERR_OK);
    vtev_pending_done(d->pd[4], VTEV_ERR_OK);
    ctu_poll_for(c, 400);
    ck_assert_int_eq(position(c), 0); /* offset 0 is not done: nothing stored */
    vtev_pending_done(d->pd[0], VTEV_ERR_OK);
    ctu_poll_for(c, 400);
    ck_assert_int_eq(position(c), 3); /* 0, 1, 2 done; 3 is not */
    ck_assert_int_eq(vtev_consumer_close(c, e, sizeof(e)), VTEV_ERR_OK);
    vtev_consumer_destroy(c);
    vtev_pending_done(d->pd[3], VTEV_ERR_OK); /* after destroy: only frees */

    /* the next member starts at 3 */
    c = env_consumer(&env, NULL);
    d2->plain = 1;
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, NULL, defer_handler, d2, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    w.d = d2;
    w.total = 2;
    ck_assert(ctu_poll_until(c, have_total, &w, 30000));
    ctu_poll_for(c, 500);
    ck_assert_uint_eq(d2->rec.total, 2);
    ck_assert_int_eq(ctu_rec_count(&d2->rec, ids[3]), 1);
    ck_assert_int_eq(ctu_rec_count(&d2->rec, ids[4]), 1);
    vtev_consumer_destroy(c);
    free(d);
    free(d2);
}
END_TEST

static int redelivered(void *arg) {
    dctx_t *d = arg; /* the record's ids are in arrival order */
    return ctu_rec_count(&d->rec, d->rec.ids[1]) >= 2 && ctu_rec_count(&d->rec, d->rec.ids[2]) >= 2;
}

/* The output of the second message fails: the second and the third are
 * handed to the handler again (the first is not), nothing is dead-lettered,
 * and everything is committed afterwards. */
START_TEST(test_failed_redelivers) {
    env_t env;
    char ids[3][VTEV_UUID_LEN + 1], e[512];
    dctx_t *d = dctx_new();
    vtev_consumer_t *c;
    vtev_consumer_stats_t st;
    want_t w = {d, 3};

    env_init(&env, "fail");
    publish_one_partition(&env, 3, ids);
    c = env_consumer(&env, NULL);
    d->defer_first_only = 1;
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, NULL, defer_handler, d, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert(ctu_poll_until(c, have_total, &w, 30000));
    ck_assert_uint_eq(d->deferred, 3);
    vtev_pending_done(d->pd[2], VTEV_ERR_OK);
    vtev_pending_done(d->pd[1], VTEV_ERR_TIMED_OUT);
    vtev_pending_done(d->pd[0], VTEV_ERR_OK);
    ck_assert(ctu_poll_until(c, redelivered, d, 30000));
    ctu_poll_for(c, 500);
    ck_assert_int_eq(ctu_rec_count(&d->rec, ids[0]), 1);
    ck_assert_int_eq(ctu_rec_count(&d->rec, ids[1]), 2);
    ck_assert_int_eq(ctu_rec_count(&d->rec, ids[2]), 2);
    ck_assert_int_eq(position(c), 3);
    ck_assert_int_eq(vtev_consumer_stats(c, VTEV_EVENT_POSITION, &st), VTEV_ERR_OK);
    ck_assert_uint_eq(st.dead_lettered, 0);
    vtev_consumer_destroy(c);
    ck_assert_int_eq(ctu_topic_count(env.bootstraps, TOPIC ".dlq", 1), 0);
    free(d);
}
END_TEST

static atomic_int dr_failed, dr_ok;

static void dr_cb(vtev_producer_t *p, const vtev_delivery_report_t *dr, void *opaque) {
    (void)p;
    (void)opaque;
    atomic_fetch_add(dr->err == VTEV_ERR_OK ? &dr_ok : &dr_failed, 1);
    vtev_pending_done(dr->msg_opaque, dr->err);
}

static int all_delivered(void *arg) {
    (void)arg;
    return atomic_load(&dr_ok) >= 4;
}

/* The outputs go to another cluster that refuses the first produce
 * requests: their delivery reports fail, the inputs are handed again and
 * their outputs then delivered; the group commits all four, and
 * every input has its output. */
START_TEST(test_delivery_report) {
    env_t env, out;
    char ids[4][VTEV_UUID_LEN + 1], e[512];
    dctx_t *d = dctx_new();
    vtev_consumer_t *c;
    vtev_conf_t *pc;
    want_t w = {d, 4};
    int64_t end;
    ctu_dlq_msg_t msgs[64];
    size_t n, i, j;

    env_init(&env, "dr");
    env_init(&out, "dr-out");
    publish_one_partition(&env, 4, ids);
    /* the output cluster refuses the first produce requests (not retriable):
     * deterministic failed reports, whatever the machine's load */
    {
        rd_kafka_resp_err_t errs[4] = {RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
                                       RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
                                       RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
                                       RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED};
        rd_kafka_mock_push_request_errors_array(vtev__mock_cluster_get(out.mock + 7), 0 /* ApiKey Produce */, 4, errs);
    }
    pc = vtev_conf_new();
    ctu_set(pc, "bootstrap.servers", out.mock);
    ctu_set(pc, "schema.registry.url", env.mock);
    ctu_set(pc, "kafka.message.timeout.ms", "1500");
    ctu_set(pc, "log.level", "2");
    d->prod = vtev_producer_new(pc, e, sizeof(e));
    ck_assert_msg(d->prod != NULL, "%s", e);
    vtev_producer_set_dr_cb(d->prod, dr_cb, NULL);
    c = env_consumer(&env, NULL);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, NULL, defer_handler, d, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert(ctu_poll_until(c, have_total, &w, 30000));
    /* wait for the first failed reports, then bring the broker back */
    end = ctu_now_ms() + 30000;
    while (atomic_load(&dr_failed) == 0 && ctu_now_ms() < end)
        ctu_poll_for(c, 100);
    ck_assert_int_gt(atomic_load(&dr_failed), 0);
    ck_assert_int_eq(position(c), 0); /* nothing stored while the outputs fail */
    ck_assert(ctu_poll_until(c, all_delivered, NULL, 60000));
    end = ctu_now_ms() + 30000;
    while (position(c) != 4 && ctu_now_ms() < end)
        ctu_poll_for(c, 200);
    ck_assert_int_eq(position(c), 4);
    ck_assert_uint_gt(d->rec.total, 4); /* handed again after the failures */
    ck_assert_int_eq(vtev_producer_flush(d->prod, 10000), VTEV_ERR_OK);
    vtev_consumer_destroy(c);
    vtev_producer_destroy(d->prod);
    n = ctu_read_topic(out.bootstraps, "outputs", msgs, 64, 5000);
    for (i = 0; i < 4; i++) {
        int found = 0;
        for (j = 0; j < n && !found; j++)
            found = msgs[j].len > 0 && memmem(msgs[j].value, msgs[j].len, ids[i], strlen(ids[i])) != NULL;
        ck_assert_msg(found, "input %zu has no output", i);
    }
    ctu_dlq_free(msgs, n);
    free(d);
}
END_TEST

/* RETRY_ENV five times with consumer.retry.max.attempts=2: never
 * dead-lettered, the attempt does not advance, then handled. */
START_TEST(test_retry_env) {
    env_t env;
    char ids[2][VTEV_UUID_LEN + 1], e[512];
    dctx_t *d = dctx_new();
    vtev_consumer_t *c;
    vtev_conf_t *conf;
    vtev_consumer_stats_t st;
    want_t w = {d, 12};

    env_init(&env, "env");
    publish_one_partition(&env, 2, ids);
    conf = ctu_conf(env.mock, env.mock, env.group);
    ctu_set(conf, "consumer.retry.max.attempts", "2");
    c = env_consumer(&env, conf);
    d->env_retries = 5;
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, NULL, defer_handler, d, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert(ctu_poll_until(c, have_total, &w, 60000));
    ctu_poll_for(c, 300);
    ck_assert_int_eq(ctu_rec_count(&d->rec, ids[0]), 6);
    ck_assert_int_eq(ctu_rec_count(&d->rec, ids[1]), 6);
    ck_assert_int_eq(d->attempts_max, 1);
    ck_assert_int_eq(vtev_consumer_stats(c, VTEV_EVENT_POSITION, &st), VTEV_ERR_OK);
    ck_assert_uint_eq(st.retried, 10);
    ck_assert_uint_eq(st.ok, 2);
    ck_assert_uint_eq(st.dead_lettered, 0);
    ck_assert_int_eq(position(c), 2);
    vtev_consumer_destroy(c);
    ck_assert_int_eq(ctu_topic_count(env.bootstraps, TOPIC ".dlq", 1), 0);
    free(d);
}
END_TEST

#define ADD(name) VTEV_TEST_CASE(s, name, 150)

static Suite *defer_suite(void) {
    Suite *s = suite_create("consumer_defer");
    ADD(in_order);
    ADD(failed_redelivers);
    ADD(delivery_report);
    ADD(retry_env);
    return s;
}

int main(void) {
    return vtev_test_run(defer_suite());
}
