/*
 * test_consumer_fault.c - the consumer under injected faults on the mock
 * cluster: failing OffsetCommit requests and group coordinator moves must
 * neither lose nor skip events (every event is handled at least once, also
 * across a restart of the group member).
 */
#include "consumer_testutil.h"
#include "mock_cluster.h"
#include "testutil.h"

/* Kafka protocol API key of OffsetCommit (the request that commits offsets). */
#define APIKEY_OFFSET_COMMIT 8
/* ... and of Produce. */
#define APIKEY_PRODUCE 0

typedef struct fctx_s {
    ctu_rec_t rec;
    size_t want;
} fctx_t;

static vtev_verdict_t handler(vtev_consumer_t *c, const vtev_event_t *ev,
                              const vtev_msg_info_t *info, void *opaque) {
    fctx_t *f = opaque;
    (void)c;
    ctu_rec_add(&f->rec, ev->u.env.event_id, info->attempt);
    return VTEV_VERDICT_OK;
}

static int have_want(void *arg) {
    fctx_t *f = arg;
    return ctu_rec_distinct(&f->rec) >= f->want;
}

typedef struct fenv_s {
    char mock[128];
    const char *bootstraps;
    rd_kafka_mock_cluster_t *mc;
    ctu_pub_t *pub;
} fenv_t;

static void fenv_init(fenv_t *f, const char *name) {
    char e[512];
    vtev_conf_t *sc = vtev_conf_new();
    snprintf(f->mock, sizeof(f->mock), "mock://fault-%s-%d", name, (int)getpid());
    f->bootstraps = vtev__mock_cluster_bootstraps(f->mock + 7, e, sizeof(e));
    ck_assert_msg(f->bootstraps != NULL, "%s", e);
    f->mc = vtev__mock_cluster_get(f->mock + 7);
    ck_assert_ptr_nonnull(f->mc);
    ctu_set(sc, "schema.registry.url", f->mock);
    f->pub = ctu_pub_new(f->bootstraps, sc);
}

static vtev_consumer_t *fconsumer(fenv_t *f, fctx_t *ctx) {
    char e[512];
    vtev_conf_t *conf = ctu_conf(f->mock, f->mock, "fault-group");
    vtev_consumer_t *c;
    ctu_set(conf, "consumer.commit.interval.ms", "100");
    c = vtev_consumer_new(conf, e, sizeof(e));
    ck_assert_msg(c != NULL, "%s", e);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_REQUEST, NULL, handler, ctx, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    return c;
}

static void publish(fenv_t *f, int n, char ids[][VTEV_UUID_LEN + 1]) {
    int i;
    for (i = 0; i < n; i++) {
        vtev_event_t ev;
        char vessel[16];
        snprintf(vessel, sizeof(vessel), "v%d", i % 11);
        ctu_request(&ev, vessel);
        snprintf(ids[i], VTEV_UUID_LEN + 1, "%s", ev.u.env.event_id);
        ctu_publish(f->pub, "prediction-requests", &ev);
        vtev_event_clear(&ev);
    }
}

/* Commits fail for a while (retriable and coordinator errors); the member is
 * closed while commits are failing and restarted: nothing is lost. */
START_TEST(test_commit_errors) {
    fenv_t f;
    fctx_t *ctx = calloc(1, sizeof(*ctx));
    char ids[60][VTEV_UUID_LEN + 1];
    vtev_consumer_t *c;
    size_t i;

    ctu_rec_init(&ctx->rec);
    fenv_init(&f, "commit");
    publish(&f, 30, ids);
    c = fconsumer(&f, ctx);
    ctx->want = 10;
    ck_assert(ctu_poll_until(c, have_want, ctx, 30000));
    rd_kafka_mock_push_request_errors(
        f.mc, APIKEY_OFFSET_COMMIT, 12, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
        RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
    publish(&f, 30, ids + 30);
    ctx->want = 45;
    ck_assert(ctu_poll_until(c, have_want, ctx, 30000));
    vtev_consumer_destroy(c); /* close while commits may still be failing */

    c = fconsumer(&f, ctx);
    ctx->want = 60;
    ck_assert_msg(ctu_poll_until(c, have_want, ctx, 60000), "handled %zu of 60",
                  ctu_rec_distinct(&ctx->rec));
    for (i = 0; i < 60; i++)
        ck_assert_int_ge(ctu_rec_count(&ctx->rec, ids[i]), 1);
    fprintf(stderr, "commit errors: %zu deliveries for 60 events (%zu duplicates)\n",
            ctx->rec.total, ctx->rec.total - 60);
    vtev_consumer_destroy(c);
    ctu_pub_destroy(f.pub);
    free(ctx);
}
END_TEST

/* The group coordinator moves to other brokers twice while consuming; a
 * restart afterwards continues from committed offsets without a gap. */
START_TEST(test_coordinator_move) {
    fenv_t f;
    fctx_t *ctx = calloc(1, sizeof(*ctx));
    char ids[60][VTEV_UUID_LEN + 1];
    vtev_consumer_t *c;
    size_t i;

    ctu_rec_init(&ctx->rec);
    fenv_init(&f, "coord");
    rd_kafka_mock_coordinator_set(f.mc, "group", "fault-group", 1);
    publish(&f, 20, ids);
    c = fconsumer(&f, ctx);
    ctx->want = 10;
    ck_assert(ctu_poll_until(c, have_want, ctx, 30000));
    rd_kafka_mock_coordinator_set(f.mc, "group", "fault-group", 2);
    publish(&f, 20, ids + 20);
    ctx->want = 30;
    ck_assert(ctu_poll_until(c, have_want, ctx, 30000));
    rd_kafka_mock_coordinator_set(f.mc, "group", "fault-group", 3);
    ctx->want = 40;
    ck_assert(ctu_poll_until(c, have_want, ctx, 30000));
    ctu_poll_for(c, 1500); /* let a commit reach the new coordinator */
    vtev_consumer_destroy(c);

    publish(&f, 20, ids + 40);
    c = fconsumer(&f, ctx);
    ctx->want = 60;
    ck_assert_msg(ctu_poll_until(c, have_want, ctx, 60000), "handled %zu of 60",
                  ctu_rec_distinct(&ctx->rec));
    ctu_poll_for(c, 500);
    for (i = 0; i < 60; i++)
        ck_assert_int_ge(ctu_rec_count(&ctx->rec, ids[i]), 1);
    /* the close committed through the moved coordinator: no old event again */
    for (i = 0; i < 40; i++)
        ck_assert_int_eq(ctu_rec_count(&ctx->rec, ids[i]), 1);
    vtev_consumer_destroy(c);
    ctu_pub_destroy(f.pub);
    free(ctx);
}
END_TEST

/* The first produce of a dead letter fails for good (a non-retriable
 * produce error): the offset does not move, the message comes again and its
 * dead letter is written on the next try; the events after it are handled. */
START_TEST(test_dlq_produce_failure) {
    fenv_t f;
    fctx_t *ctx = calloc(1, sizeof(*ctx));
    char ids[3][VTEV_UUID_LEN + 1];
    vtev_consumer_t *c;
    vtev_consumer_stats_t st;
    ctu_dlq_msg_t dl[4];
    size_t n;
    char b[64];

    ctu_rec_init(&ctx->rec);
    fenv_init(&f, "dlqfail");
    ctu_publish_raw(f.pub, "prediction-requests", "v0", "poison", 6);
    publish(&f, 3, ids);
    rd_kafka_mock_push_request_errors(f.mc, APIKEY_PRODUCE, 2,
                                      RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
                                      RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
    c = fconsumer(&f, ctx);
    ctx->want = 3;
    ck_assert(ctu_poll_until(c, have_want, ctx, 30000));
    ck_assert_int_eq(vtev_consumer_stats(c, VTEV_EVENT_REQUEST, &st), VTEV_ERR_OK);
    ck_assert_uint_eq(st.dead_lettered, 1);
    n = ctu_read_topic(f.bootstraps, "prediction-requests.dlq", dl, 4, 5000);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(dl[0].len, 6);
    ck_assert(!memcmp(dl[0].value, "poison", 6));
    ck_assert_str_eq(ctu_hdr(&dl[0], "vtev.error.code", b, sizeof(b)), "BAD_MAGIC");
    ctu_dlq_free(dl, n);
    vtev_consumer_destroy(c);
    ctu_pub_destroy(f.pub);
    free(ctx);
}
END_TEST

static Suite *fault_suite(void) {
    Suite *s = suite_create("consumer_fault");
    TCase *tc = tcase_create("faults");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_commit_errors);
    tcase_add_test(tc, test_coordinator_move);
    tcase_add_test(tc, test_dlq_produce_failure);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return vtev_test_run(fault_suite());
}
