/*
 * test_retry_tiers_integration.c - non-blocking retries on the real Kafka
 * and Schema Registry: one message retried three times while 1,000 others
 * on the same partition flow through.  The same run with the blocking retry
 * (consumer.retry.max.attempts) for comparison; the others' handling latency
 * (publish to handler, p50/p99/max) of both modes is printed, and the
 * non-blocking mode's p99 must stay below one retry delay while the blocking
 * mode's others wait behind the retried message.
 */
#include <stdatomic.h>

#include "consumer_testutil.h"
#include "testutil.h"

static const char *bootstraps;
static const char *registry;

#define NOTHERS 1000
#define DELAY_MS 300

typedef struct lctx_s {
    int64_t lat_ms[NOTHERS + 16];
    atomic_int others;
    atomic_int slow_ok;
    int slow_attempts;
} lctx_t;

static vtev_verdict_t handler(vtev_consumer_t *c, const vtev_event_t *ev,
                              const vtev_msg_info_t *info, void *opaque) {
    lctx_t *x = opaque;
    (void)c;
    if (!strcmp(ev->u.env.vessel_id, "slow")) {
        x->slow_attempts = info->attempt;
        if (info->attempt <= 3)
            return VTEV_VERDICT_RETRY;
        atomic_store(&x->slow_ok, 1);
        return VTEV_VERDICT_OK;
    }
    {
        int i = atomic_fetch_add(&x->others, 1);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        if (i < NOTHERS + 16)
            x->lat_ms[i] = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - info->timestamp_ms;
    }
    return VTEV_VERDICT_OK;
}

static void *run_thread(void *arg) {
    char e[512];
    vtev_consumer_run(arg, e, sizeof(e));
    return NULL;
}

static int cmp64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Runs one mode; returns the others' p99 in ms (p50 and max out). */
static int64_t run_mode(bool tiers, int64_t *p50, int64_t *pmax) {
    char topic[200], group[220], rt[240], e[512];
    static lctx_t x;
    vtev_conf_t *pc, *cc;
    vtev_producer_t *p;
    vtev_consumer_t *c;
    pthread_t thr;
    int i;
    int64_t deadline, t_pub;

    snprintf(topic, sizeof(topic), "ittiers-%s-%d-%lld", tiers ? "nb" : "blk", (int)getpid(),
             (long long)time(NULL));
    snprintf(group, sizeof(group), "g-%s", topic);
    ctu_create_topic(bootstraps, topic, 1);
    for (i = 1; i <= 3; i++) {
        snprintf(rt, sizeof(rt), "%s.retry.%d", topic, i);
        ctu_create_topic(bootstraps, rt, 1);
    }
    memset(&x, 0, sizeof(x));
    cc = ctu_conf(bootstraps, registry, group);
    if (tiers) {
        ctu_set(cc, "consumer.retry.tiers", "3");
        ctu_set(cc, "consumer.retry.tier.backoff", "fixed");
        ctu_set(cc, "consumer.retry.tier.delay.ms", "300");
    } else {
        ctu_set(cc, "consumer.retry.max.attempts", "4");
        ctu_set(cc, "consumer.retry.backoff.ms", "300");
        ctu_set(cc, "consumer.retry.backoff.max.ms", "300");
    }
    c = vtev_consumer_new(cc, e, sizeof(e));
    ck_assert_msg(c != NULL, "%s", e);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, topic, handler, &x, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(pthread_create(&thr, NULL, run_thread, c), 0);

    pc = vtev_conf_new();
    ctu_set(pc, "bootstrap.servers", bootstraps);
    ctu_set(pc, "schema.registry.url", registry);
    ctu_set(pc, "topic.position", topic);
    ctu_set(pc, "producer.profile", "low-latency");
    ctu_set(pc, "log.level", "4");
    p = vtev_producer_new(pc, e, sizeof(e));
    ck_assert_msg(p != NULL, "%s", e);
    /* publish once the group has assigned every partition (the topic's and
     * its tiers'): the latency is the handling's, not the group join's */
    deadline = ctu_now_ms() + 60000;
    for (;;) {
        vtev_partition_lag_t *lags = NULL;
        size_t n = 0;
        if (vtev_consumer_lag(c, &lags, &n, 5000, e, sizeof(e)) == VTEV_ERR_OK)
            vtev_free(lags);
        if (n >= (size_t)(tiers ? 4 : 1))
            break;
        ck_assert_msg(ctu_now_ms() < deadline, "no assignment");
        usleep(100 * 1000);
    }
    sleep(1);
    t_pub = ctu_now_ms();
    for (i = 0; i <= NOTHERS; i++) {
        vtev_event_t ev;
        ctu_position(&ev, i == 0 ? "slow" : "other");
        ck_assert_msg(vtev_producer_publish_position(p, &ev.u.position, NULL, e, sizeof(e)) ==
                          VTEV_ERR_OK,
                      "%s", e);
        vtev_event_clear(&ev);
        usleep(2000); /* about 500 a second: the run lasts longer than the retries */
    }
    ck_assert_int_eq(vtev_producer_flush(p, 20000), VTEV_ERR_OK);
    vtev_producer_destroy(p);
    if (getenv("TIERS_DEBUG"))
        fprintf(stderr, "published in %lld ms\n", (long long)(ctu_now_ms() - t_pub));
    deadline = ctu_now_ms() + 60000;
    while (ctu_now_ms() < deadline &&
           (atomic_load(&x.others) < NOTHERS || !atomic_load(&x.slow_ok)))
        usleep(50 * 1000);
    vtev_consumer_stop(c);
    pthread_join(thr, NULL);
    vtev_consumer_destroy(c);
    ck_assert_int_eq(atomic_load(&x.others), NOTHERS);
    ck_assert_msg(atomic_load(&x.slow_ok), "the retried message was not handled");
    ck_assert_int_eq(x.slow_attempts, 4);
    qsort(x.lat_ms, NOTHERS, sizeof(x.lat_ms[0]), cmp64);
    *p50 = x.lat_ms[NOTHERS / 2];
    *pmax = x.lat_ms[NOTHERS - 1];
    return x.lat_ms[NOTHERS * 99 / 100];
}

START_TEST(test_latency) {
    int64_t b50, b99, bmax, n50, n99, nmax;
    b99 = run_mode(false, &b50, &bmax);
    n99 = run_mode(true, &n50, &nmax);
    printf("one message retried 3 times (300 ms each) among %d others on one partition:\n"
           "  others' handling latency, blocking retry:     p50 %lld ms, p99 %lld ms, max %lld ms\n"
           "  others' handling latency, non-blocking tiers: p50 %lld ms, p99 %lld ms, max %lld ms\n",
           NOTHERS, (long long)b50, (long long)b99, (long long)bmax, (long long)n50,
           (long long)n99, (long long)nmax);
    fflush(stdout);
    ck_assert_msg(n99 < DELAY_MS, "non-blocking p99 %lld ms", (long long)n99);
    ck_assert_msg(b99 >= DELAY_MS / 2, "blocking p99 %lld ms: the others did not wait?",
                  (long long)b99);
    ck_assert_int_lt(n99, b99);
}
END_TEST

int main(void) {
    Suite *s = suite_create("retry_tiers_integration");
    bootstraps = vtev_test_require_env("KAFKA_BOOTSTRAP_SERVERS");
    registry = vtev_test_require_env("SCHEMA_REGISTRY_URL");
    VTEV_TEST_CASE(s, latency, 300);
    return vtev_test_run(s);
}
