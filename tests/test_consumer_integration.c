/*
 * test_consumer_integration.c - the typed consumer against the real Kafka and
 * Schema Registry of scripts/stack.sh: delivery once, retries, dead letters,
 * garbage, and three members of one group sharing and handing over the five
 * partitions of a requests topic.
 *
 * Every test uses fresh topics (name + pid + time) so runs do not interfere.
 */
#include <stdatomic.h>

#include "consumer_testutil.h"
#include "testutil.h"

static const char *bootstraps;
static const char *registry;

typedef struct ienv_s {
    char topic[200];
    char dlq[210];
    char group[220];
    ctu_pub_t *pub;
} ienv_t;

static void ienv_init(ienv_t *env, const char *name, int partitions) {
    vtev_conf_t *sc = vtev_conf_new();
    snprintf(env->topic, sizeof(env->topic), "itc-%s-%d-%lld", name, (int)getpid(),
             (long long)time(NULL));
    snprintf(env->dlq, sizeof(env->dlq), "%s.dlq", env->topic);
    snprintf(env->group, sizeof(env->group), "g-%s", env->topic);
    ctu_create_topic(bootstraps, env->topic, partitions);
    ctu_set(sc, "schema.registry.url", registry);
    env->pub = ctu_pub_new(bootstraps, sc);
}

static vtev_conf_t *iconf(ienv_t *env) {
    return ctu_conf(bootstraps, registry, env->group);
}

typedef struct ictx_s {
    ctu_rec_t rec;
    char target[VTEV_UUID_LEN + 1];
    int retries_before_ok; /* -1: forever */
    atomic_int target_calls;
    size_t want;
    atomic_int handled_by_me;
} ictx_t;

static vtev_verdict_t handler(vtev_consumer_t *c, const vtev_event_t *ev,
                              const vtev_msg_info_t *info, void *opaque) {
    ictx_t *x = opaque;
    (void)c;
    if (x->target[0] && !strcmp(x->target, ev->u.env.event_id)) {
        atomic_fetch_add(&x->target_calls, 1);
        if (x->retries_before_ok < 0 || info->attempt <= x->retries_before_ok)
            return VTEV_VERDICT_RETRY;
    }
    ctu_rec_add(&x->rec, ev->u.env.event_id, info->attempt);
    atomic_fetch_add(&x->handled_by_me, 1);
    return VTEV_VERDICT_OK;
}

static int have_want(void *arg) {
    ictx_t *x = arg;
    return ctu_rec_distinct(&x->rec) >= x->want;
}

static ictx_t *ictx_new(void) {
    ictx_t *x = calloc(1, sizeof(*x));
    ck_assert_ptr_nonnull(x);
    ctu_rec_init(&x->rec);
    return x;
}

static void publish(ienv_t *env, int type, int n, int keys, char ids[][VTEV_UUID_LEN + 1]) {
    int i;
    for (i = 0; i < n; i++) {
        vtev_event_t ev;
        char vessel[32];
        snprintf(vessel, sizeof(vessel), "vessel-%d", i % keys);
        if (type == VTEV_EVENT_REQUEST)
            ctu_request(&ev, vessel);
        else
            ctu_position(&ev, vessel);
        if (ids)
            snprintf(ids[i], VTEV_UUID_LEN + 1, "%s", ev.u.env.event_id);
        ctu_publish(env->pub, env->topic, &ev);
        vtev_event_clear(&ev);
    }
}

static vtev_consumer_t *iconsumer(ienv_t *env, vtev_conf_t *conf, int type, ictx_t *x) {
    char e[512];
    vtev_consumer_t *c = vtev_consumer_new(conf ? conf : iconf(env), e, sizeof(e));
    ck_assert_msg(c != NULL, "%s", e);
    ck_assert_int_eq(vtev_consumer_subscribe(c, (vtev_event_type_t)type, env->topic, handler, x,
                                             e, sizeof(e)),
                     VTEV_ERR_OK);
    return c;
}

/* A message that is being retried and that retention removes meanwhile
 * (DeleteRecords past it) is dead-lettered from the copy the consumer kept,
 * with code NOT_FOUND; it is never skipped silently; the next one is handled. */
static void delete_records_before(const char *topic, int64_t offset) {
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk;
    rd_kafka_queue_t *q;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_DeleteRecords_t *dr;
    rd_kafka_event_t *ev;
    ck_assert_int_eq(rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err, sizeof(err)), RD_KAFKA_CONF_OK);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    ck_assert_msg(rk != NULL, "%s", err);
    q = rd_kafka_queue_new(rk);
    rd_kafka_topic_partition_list_add(l, topic, 0)->offset = offset;
    dr = rd_kafka_DeleteRecords_new(l);
    rd_kafka_DeleteRecords(rk, &dr, 1, NULL, q);
    ev = rd_kafka_queue_poll(q, 30000);
    ck_assert_ptr_nonnull(ev);
    ck_assert_msg(!rd_kafka_event_error(ev), "DeleteRecords: %s", rd_kafka_event_error_string(ev));
    {
        const rd_kafka_topic_partition_list_t *res =
            rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(ev));
        ck_assert_msg(res && res->cnt == 1 && !res->elems[0].err, "DeleteRecords: %s",
                      res && res->cnt ? rd_kafka_err2str(res->elems[0].err) : "no result");
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_DeleteRecords_destroy(dr);
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
}

static int target_tried(void *arg) {
    return atomic_load(&((ictx_t *)arg)->target_calls) >= 1;
}

START_TEST(test_retried_message_removed_by_retention) {
    ienv_t env;
    ictx_t *x = ictx_new();
    char ids[2][VTEV_UUID_LEN + 1], b[512];
    vtev_conf_t *conf;
    vtev_consumer_t *c;
    ctu_dlq_msg_t dl[4];
    size_t n;
    ienv_init(&env, "gone", 1);
    publish(&env, VTEV_EVENT_POSITION, 2, 1, ids);
    snprintf(x->target, sizeof(x->target), "%s", ids[0]);
    x->retries_before_ok = -1; /* retried for as long as it exists */
    x->want = 1;
    conf = iconf(&env);
    ctu_set(conf, "consumer.retry.backoff.ms", "4000");
    ctu_set(conf, "consumer.retry.backoff.max.ms", "4000");
    ctu_set(conf, "consumer.retry.max.attempts", "1000");
    c = iconsumer(&env, conf, VTEV_EVENT_POSITION, x);
    ck_assert_msg(ctu_poll_until(c, target_tried, x, 60000), "the first message never came");
    delete_records_before(env.topic, 1); /* offset 0 is gone while it waits */
    ck_assert_msg(ctu_poll_until(c, have_want, x, 60000), "the second message was not handled");
    ck_assert_int_eq(ctu_rec_count(&x->rec, ids[1]), 1);
    vtev_consumer_destroy(c);
    n = ctu_read_topic(bootstraps, env.dlq, dl, 4, 10000);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(ctu_hdr(&dl[0], "vtev.error.code", b, sizeof(b)), "NOT_FOUND");
    ck_assert_str_eq(ctu_hdr(&dl[0], "vtev.original.offset", b, sizeof(b)), "0");
    ck_assert_ptr_nonnull(strstr(ctu_hdr(&dl[0], "vtev.error.message", b, sizeof(b)), "retention"));
    ctu_dlq_free(dl, n);
    ctu_pub_destroy(env.pub);
    free(x);
}
END_TEST

START_TEST(test_all_once) {
    ienv_t env;
    ictx_t *x = ictx_new();
    char ids[50][VTEV_UUID_LEN + 1];
    vtev_consumer_t *c;
    size_t i;
    ienv_init(&env, "once", 3);
    publish(&env, VTEV_EVENT_POSITION, 50, 9, ids); /* before the group exists */
    c = iconsumer(&env, NULL, VTEV_EVENT_POSITION, x);
    x->want = 50;
    ck_assert_msg(ctu_poll_until(c, have_want, x, 60000), "handled %zu of 50",
                  ctu_rec_distinct(&x->rec));
    ctu_poll_for(c, 1000);
    for (i = 0; i < 50; i++)
        ck_assert_int_eq(ctu_rec_count(&x->rec, ids[i]), 1);
    ck_assert_uint_eq(x->rec.total, 50);
    vtev_consumer_destroy(c);
    ck_assert_int_eq(ctu_topic_count(bootstraps, env.dlq, 1), 0);
    ctu_pub_destroy(env.pub);
    free(x);
}
END_TEST

START_TEST(test_retry_twice_then_ok) {
    ienv_t env;
    ictx_t *x = ictx_new();
    char ids[10][VTEV_UUID_LEN + 1];
    vtev_consumer_t *c;
    size_t i;
    ienv_init(&env, "retryok", 3);
    publish(&env, VTEV_EVENT_POSITION, 10, 4, ids);
    snprintf(x->target, sizeof(x->target), "%s", ids[2]);
    x->retries_before_ok = 2;
    c = iconsumer(&env, NULL, VTEV_EVENT_POSITION, x);
    x->want = 10;
    ck_assert(ctu_poll_until(c, have_want, x, 60000));
    ctu_poll_for(c, 1000);
    ck_assert_int_eq(atomic_load(&x->target_calls), 3);
    for (i = 0; i < 10; i++)
        ck_assert_int_eq(ctu_rec_count(&x->rec, ids[i]), 1);
    vtev_consumer_destroy(c);
    ck_assert_int_eq(ctu_topic_count(bootstraps, env.dlq, 1), 0);
    ctu_pub_destroy(env.pub);
    free(x);
}
END_TEST

START_TEST(test_retry_forever_dlq) {
    ienv_t env;
    ictx_t *x = ictx_new();
    char ids[5][VTEV_UUID_LEN + 1];
    vtev_consumer_t *c;
    vtev_conf_t *conf;
    ctu_dlq_msg_t dl[2];
    char b[256];
    size_t n;
    ienv_init(&env, "retryforever", 1);
    publish(&env, VTEV_EVENT_POSITION, 5, 1, ids);
    snprintf(x->target, sizeof(x->target), "%s", ids[0]);
    x->retries_before_ok = -1;
    conf = iconf(&env);
    ctu_set(conf, "consumer.retry.max.attempts", "4");
    c = iconsumer(&env, conf, VTEV_EVENT_POSITION, x);
    x->want = 4;
    ck_assert(ctu_poll_until(c, have_want, x, 60000));
    ck_assert_int_eq(atomic_load(&x->target_calls), 4);
    n = ctu_read_topic(bootstraps, env.dlq, dl, 2, 10000);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(dl[0].key, "vessel-0");
    ck_assert_str_eq(ctu_hdr(&dl[0], "vtev.error.code", b, sizeof(b)), "RETRIES_EXHAUSTED");
    ck_assert_str_eq(ctu_hdr(&dl[0], "vtev.original.topic", b, sizeof(b)), env.topic);
    ck_assert_str_eq(ctu_hdr(&dl[0], "vtev.original.partition", b, sizeof(b)), "0");
    ck_assert_str_eq(ctu_hdr(&dl[0], "vtev.original.offset", b, sizeof(b)), "0");
    ck_assert_str_eq(ctu_hdr(&dl[0], "vtev.attempts", b, sizeof(b)), "4");
    ck_assert_uint_eq(strlen(ctu_hdr(&dl[0], "vtev.dlq.time", b, sizeof(b))), 24);
    ck_assert_str_contains(ctu_hdr(&dl[0], "vtev.error.message", b, sizeof(b)), "attempt 4");
    ck_assert_uint_gt(dl[0].len, 5);
    ck_assert_int_eq(dl[0].value[0], 0); /* the original framed bytes */
    ctu_dlq_free(dl, n);
    vtev_consumer_destroy(c);
    ctu_pub_destroy(env.pub);
    free(x);
}
END_TEST

START_TEST(test_garbage) {
    ienv_t env;
    ictx_t *x = ictx_new();
    char ids[3][VTEV_UUID_LEN + 1];
    vtev_consumer_t *c;
    ctu_dlq_msg_t dl[2];
    char b[256];
    size_t n, i;
    static const char junk[] = "{\"event_type\": \"not avro\"}";
    ienv_init(&env, "garbage", 1);
    ctu_publish_raw(env.pub, env.topic, "vessel-0", junk, sizeof(junk) - 1);
    publish(&env, VTEV_EVENT_POSITION, 3, 1, ids);
    c = iconsumer(&env, NULL, VTEV_EVENT_POSITION, x);
    x->want = 3;
    ck_assert(ctu_poll_until(c, have_want, x, 60000));
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(ctu_rec_count(&x->rec, ids[i]), 1);
    n = ctu_read_topic(bootstraps, env.dlq, dl, 2, 10000);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(dl[0].len, sizeof(junk) - 1);
    ck_assert(!memcmp(dl[0].value, junk, dl[0].len));
    ck_assert_str_eq(ctu_hdr(&dl[0], "vtev.error.code", b, sizeof(b)), "BAD_MAGIC");
    ck_assert_str_eq(ctu_hdr(&dl[0], "test-header", b, sizeof(b)), "h1");
    ctu_dlq_free(dl, n);
    vtev_consumer_destroy(c);
    ctu_pub_destroy(env.pub);
    free(x);
}
END_TEST

/* ---------------------------------------------------------------- scaling */

typedef struct member_s {
    vtev_consumer_t *c;
    ictx_t *x;
    pthread_t th;
    vtev_err_t err;
    char errstr[512];
    atomic_int done;
} member_t;

static void *member_run(void *arg) {
    member_t *m = arg;
    m->err = vtev_consumer_run(m->c, m->errstr, sizeof(m->errstr));
    atomic_store(&m->done, 1);
    return NULL;
}

/* Every member records into g_all and counts its own. */
static ictx_t *g_all;

static vtev_verdict_t member_handler(vtev_consumer_t *c, const vtev_event_t *ev,
                                     const vtev_msg_info_t *info, void *opaque) {
    ictx_t *mine = opaque;
    (void)c;
    ctu_rec_add(&g_all->rec, ev->u.env.event_id, info->attempt);
    atomic_fetch_add(&mine->handled_by_me, 1);
    return VTEV_VERDICT_OK;
}

static size_t assigned(vtev_consumer_t *c) {
    vtev_partition_lag_t *lags = NULL;
    size_t n = 0;
    char e[512];
    if (vtev_consumer_lag(c, &lags, &n, 5000, e, sizeof(e)) != VTEV_ERR_OK)
        return 0;
    vtev_free(lags);
    return n;
}

START_TEST(test_three_members_share_and_hand_over) {
    ienv_t env;
    member_t m[3];
    char ids[200][VTEV_UUID_LEN + 1];
    int64_t end;
    size_t i, total_assigned = 0;
    char e[512];

    g_all = ictx_new();
    ienv_init(&env, "scale", 5);
    memset(m, 0, sizeof(m));
    for (i = 0; i < 3; i++) {
        vtev_conf_t *conf = iconf(&env);
        m[i].x = ictx_new();
        m[i].c = vtev_consumer_new(conf, e, sizeof(e));
        ck_assert_msg(m[i].c != NULL, "%s", e);
        ck_assert_int_eq(vtev_consumer_subscribe(m[i].c, VTEV_EVENT_REQUEST, env.topic,
                                                 member_handler, m[i].x, e, sizeof(e)),
                         VTEV_ERR_OK);
        ck_assert_int_eq(pthread_create(&m[i].th, NULL, member_run, &m[i]), 0);
    }
    /* wait until the three share the 5 partitions */
    end = ctu_now_ms() + 60000;
    while (ctu_now_ms() < end) {
        size_t a0 = assigned(m[0].c), a1 = assigned(m[1].c), a2 = assigned(m[2].c);
        total_assigned = a0 + a1 + a2;
        if (a0 && a1 && a2 && total_assigned == 5)
            break;
        usleep(200000);
    }
    ck_assert_uint_eq(total_assigned, 5);
    publish(&env, VTEV_EVENT_REQUEST, 100, 40, ids);
    g_all->want = 100;
    end = ctu_now_ms() + 60000;
    while (!have_want(g_all) && ctu_now_ms() < end)
        usleep(50000);
    ck_assert_uint_eq(ctu_rec_distinct(&g_all->rec), 100);
    for (i = 0; i < 3; i++)
        ck_assert_msg(atomic_load(&m[i].x->handled_by_me) > 0, "member %zu handled nothing", i);

    /* stop member 0: its partitions go to the others, nothing is lost */
    vtev_consumer_stop(m[0].c);
    pthread_join(m[0].th, NULL);
    ck_assert_msg(m[0].err == VTEV_ERR_OK, "%s", m[0].errstr);
    publish(&env, VTEV_EVENT_REQUEST, 100, 40, ids + 100);
    g_all->want = 200;
    end = ctu_now_ms() + 90000;
    while (!have_want(g_all) && ctu_now_ms() < end)
        usleep(50000);
    ck_assert_msg(ctu_rec_distinct(&g_all->rec) == 200, "handled %zu of 200",
                  ctu_rec_distinct(&g_all->rec));
    for (i = 0; i < 200; i++)
        ck_assert_int_ge(ctu_rec_count(&g_all->rec, ids[i]), 1);
    ck_assert_uint_eq(assigned(m[1].c) + assigned(m[2].c), 5);
    fprintf(stderr, "scaling: members handled %d/%d/%d, %zu deliveries for 200 events\n",
            atomic_load(&m[0].x->handled_by_me), atomic_load(&m[1].x->handled_by_me),
            atomic_load(&m[2].x->handled_by_me), g_all->rec.total);
    for (i = 1; i < 3; i++) {
        vtev_consumer_stop(m[i].c);
        pthread_join(m[i].th, NULL);
    }
    for (i = 0; i < 3; i++) {
        vtev_consumer_destroy(m[i].c);
        free(m[i].x);
    }
    ctu_pub_destroy(env.pub);
    free(g_all);
}
END_TEST

/* ---------------------------------------------------------------- transactions */

typedef struct txctx_s {
    vtev_producer_t *p;
    const char *out_topic;
    int handled;
} txctx_t;

static vtev_verdict_t txn_handler(vtev_consumer_t *c, const vtev_event_t *ev,
                                  const vtev_msg_info_t *info, void *opaque) {
    txctx_t *t = opaque;
    char e[512];
    (void)info;
    ck_assert_int_eq(vtev_producer_begin_transaction(t->p, e, sizeof(e)), VTEV_ERR_OK);
    ck_assert_msg(vtev_producer_publish_to(t->p, t->out_topic, ev, NULL, e, sizeof(e)) ==
                      VTEV_ERR_OK, "%s", e);
    ck_assert_msg(vtev_consumer_txn_send_offsets(c, t->p, 20000, e, sizeof(e)) == VTEV_ERR_OK,
                  "send_offsets: %s", e);
    ck_assert_msg(vtev_producer_commit_transaction(t->p, 20000, e, sizeof(e)) == VTEV_ERR_OK,
                  "commit: %s", e);
    t->handled++;
    return VTEV_VERDICT_OK;
}

static int txn_done(void *arg) {
    return ((txctx_t *)arg)->handled >= 6;
}

/* Offsets sent with vtev_consumer_txn_send_offsets() are the group's
 * committed offsets once the transaction commits, although the consumer
 * itself never committed (auto-commit off, checked before close). */
START_TEST(test_txn_offsets_committed) {
    ienv_t env, out;
    txctx_t t;
    vtev_conf_t *conf, *pconf;
    vtev_consumer_t *c;
    char e[512], txid[256];
    rd_kafka_conf_t *rkc;
    rd_kafka_t *rk;
    rd_kafka_topic_partition_list_t *l;
    int i;
    int64_t sum = 0;

    memset(&t, 0, sizeof(t));
    ienv_init(&env, "txnin", 2);
    ienv_init(&out, "txnout", 1);
    t.out_topic = out.topic;
    publish(&env, VTEV_EVENT_POSITION, 6, 5, NULL);
    pconf = vtev_conf_new();
    ctu_set(pconf, "bootstrap.servers", bootstraps);
    ctu_set(pconf, "schema.registry.url", registry);
    snprintf(txid, sizeof(txid), "tx-%s", env.topic);
    ctu_set(pconf, "kafka.transactional.id", txid);
    t.p = vtev_producer_new(pconf, e, sizeof(e));
    ck_assert_msg(t.p != NULL, "%s", e);
    ck_assert_msg(vtev_producer_init_transactions(t.p, 30000, e, sizeof(e)) == VTEV_ERR_OK, "%s", e);
    conf = iconf(&env);
    ctu_set(conf, "kafka.enable.auto.commit", "false");
    c = vtev_consumer_new(conf, e, sizeof(e));
    ck_assert_msg(c != NULL, "%s", e);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, env.topic, txn_handler, &t,
                                             e, sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert(ctu_poll_until(c, txn_done, &t, 60000));

    rkc = rd_kafka_conf_new();
    rd_kafka_conf_set(rkc, "bootstrap.servers", bootstraps, e, sizeof(e));
    rd_kafka_conf_set(rkc, "group.id", env.group, e, sizeof(e));
    rd_kafka_conf_set(rkc, "log_level", "3", e, sizeof(e));
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, rkc, e, sizeof(e));
    ck_assert_ptr_nonnull(rk);
    l = rd_kafka_topic_partition_list_new(2);
    for (i = 0; i < 2; i++)
        rd_kafka_topic_partition_list_add(l, env.topic, i);
    ck_assert_int_eq(rd_kafka_committed(rk, l, 20000), RD_KAFKA_RESP_ERR_NO_ERROR);
    for (i = 0; i < 2; i++)
        if (l->elems[i].offset > 0)
            sum += l->elems[i].offset;
    ck_assert_int_eq(sum, 6);
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(rk);
    vtev_consumer_destroy(c);
    vtev_producer_destroy(t.p);
    ctu_pub_destroy(env.pub);
    ctu_pub_destroy(out.pub);
}
END_TEST

static Suite *integration_suite(void) {
    Suite *s = suite_create("consumer_integration");
    TCase *tc = tcase_create("broker");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, test_all_once);
    tcase_add_test(tc, test_retried_message_removed_by_retention);
    tcase_add_test(tc, test_retry_twice_then_ok);
    tcase_add_test(tc, test_retry_forever_dlq);
    tcase_add_test(tc, test_garbage);
    tcase_add_test(tc, test_three_members_share_and_hand_over);
    tcase_add_test(tc, test_txn_offsets_committed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    bootstraps = vtev_test_require_env("KAFKA_BOOTSTRAP_SERVERS");
    registry = vtev_test_require_env("SCHEMA_REGISTRY_URL");
    return vtev_test_run(integration_suite());
}
