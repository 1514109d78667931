/*
 * test_producer_fault.c - the producer under injected faults on its own
 * librdkafka mock cluster per test (mock://<unique name>): transient produce
 * errors are retried without duplicates; brokers down and back within
 * message.timeout.ms lose nothing; brokers down past it report every
 * undelivered event through the callback with an error.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <vtevents/vtevents.h>

#include "mock_cluster.h"
#include "producer_fixtures.h"
#include "testutil.h"

#define N 200
#define PRODUCE_API 0 /* Kafka ApiKey of Produce */

typedef struct {
    pthread_mutex_t lock;
    int n, ok, failed;
    vtev_err_t errs[N + 10];
    char ids[N + 10][VTEV_UUID_LEN + 1];
} reports_t;

static void dr_cb(vtev_producer_t *p, const vtev_delivery_report_t *dr, void *opaque) {
    reports_t *rs = opaque;
    (void)p;
    pthread_mutex_lock(&rs->lock);
    if (rs->n < N + 10) {
        rs->errs[rs->n] = dr->err;
        snprintf(rs->ids[rs->n], sizeof(rs->ids[0]), "%s", dr->event_id);
    }
    rs->n++;
    if (dr->err)
        rs->failed++;
    else
        rs->ok++;
    pthread_mutex_unlock(&rs->lock);
}

static vtev_conf_t *mk_conf(char *name, size_t size, const char *prefix) {
    char e[512], url[256];
    vtev_conf_t *c = vtev_conf_new();
    fx_unique(name, size, prefix);
    snprintf(url, sizeof(url), "mock://%s", name);
    ck_assert_int_eq(vtev_conf_set(c, "bootstrap.servers", url, e, sizeof(e)), VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_set(c, "schema.registry.url", url, e, sizeof(e)), VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_set(c, "log.level", "2", e, sizeof(e)), VTEV_CONF_OK);
    return c;
}

static const char *bootstraps(const char *name) {
    char e[256];
    const char *bs = vtev__mock_cluster_bootstraps(name, e, sizeof(e));
    ck_assert_msg(bs != NULL, "%s", e);
    return bs;
}

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

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Publishes N positions for 10 vessels; returns their ids in ids[]. */
static void publish_n(vtev_producer_t *p, char ids[][VTEV_UUID_LEN + 1], int pace_every) {
    char e[512];
    int i;
    for (i = 0; i < N; i++) {
        vtev_event_t ev;
        char vessel[32];
        snprintf(vessel, sizeof(vessel), "IMO-%d", i % 10);
        fx_position(&ev, vessel, i);
        snprintf(ids[i], VTEV_UUID_LEN + 1, "%s", ev.u.env.event_id);
        ck_assert_msg(vtev_producer_publish(p, &ev, NULL, e, sizeof(e)) == VTEV_ERR_OK, "%s", e);
        vtev_event_clear(&ev);
        if (pace_every && i % pace_every == pace_every - 1)
            sleep_ms(5);
    }
}

/* Reads the topic: total messages and how many distinct event_ids of ids[]. */
static void read_back(const char *name, char ids[][VTEV_UUID_LEN + 1], int *totalp,
                      int *distinctp) {
    static rd_kafka_message_t *msgs[2 * N];
    static char seen[N];
    rd_kafka_t *rk = fx_reader(bootstraps(name), "vessel-position-updates", 3, "read_committed");
    int n = fx_read(rk, msgs, 2 * N, 2000, 30000), i, j, distinct = 0;
    memset(seen, 0, sizeof(seen));
    for (j = 0; j < n; j++) {
        char h[64];
        ck_assert(fx_header(msgs[j], "event_id", h, sizeof(h)));
        for (i = 0; i < N; i++) {
            if (!strcmp(ids[i], h)) {
                if (!seen[i]++)
                    distinct++;
                break;
            }
        }
        rd_kafka_message_destroy(msgs[j]);
    }
    rd_kafka_destroy(rk);
    *totalp = n;
    *distinctp = distinct;
}

START_TEST(transient_produce_errors_retried_without_duplicates) {
    char name[96], e[512];
    static char ids[N][VTEV_UUID_LEN + 1];
    vtev_conf_t *c = mk_conf(name, sizeof(name), "fault-transient");
    vtev_producer_t *p;
    reports_t rs;
    vtev_producer_stats_t st;
    int total, distinct, k;
    rd_kafka_mock_cluster_t *mc;
    memset(&rs, 0, sizeof(rs));
    pthread_mutex_init(&rs.lock, NULL);
    ck_assert_int_eq(vtev_conf_set(c, "kafka.linger.ms", "20", e, sizeof(e)), VTEV_CONF_OK);
    bootstraps(name);
    mc = vtev__mock_cluster_get(name);
    p = vtev_producer_new(c, e, sizeof(e));
    ck_assert_msg(p != NULL, "%s", e);
    vtev_producer_set_dr_cb(p, dr_cb, &rs);
    /* Warm up metadata and the producer id, then inject. */
    publish_n(p, ids, 0);
    ck_assert_int_eq(vtev_producer_flush(p, 20000), VTEV_ERR_OK);
    for (k = 0; k < 3; k++)
        rd_kafka_mock_push_request_errors(
            mc, PRODUCE_API, 6, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
            RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
            RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND,
            RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR__TRANSPORT);
    rs.n = rs.ok = rs.failed = 0;
    publish_n(p, ids, 20);
    ck_assert_int_eq(vtev_producer_flush(p, 30000), VTEV_ERR_OK);
    ck_assert_int_eq(rs.n, N);
    ck_assert_int_eq(rs.ok, N);
    vtev_producer_stats(p, VTEV_EVENT_POSITION, &st);
    ck_assert_uint_eq(st.published, 2 * N);
    ck_assert_uint_eq(st.delivered, 2 * N);
    ck_assert_uint_eq(st.failed, 0);
    vtev_producer_destroy(p);
    read_back(name, ids, &total, &distinct);
    /* the warm-up round plus the faulty round, each event exactly once */
    ck_assert_int_eq(total, 2 * N);
    ck_assert_int_eq(distinct, N);
}
END_TEST

START_TEST(brokers_down_and_back_within_timeout) {
    char name[96], e[512];
    static char ids[N][VTEV_UUID_LEN + 1];
    vtev_conf_t *c = mk_conf(name, sizeof(name), "fault-bounce");
    vtev_producer_t *p;
    reports_t rs;
    int total, distinct;
    memset(&rs, 0, sizeof(rs));
    pthread_mutex_init(&rs.lock, NULL);
    ck_assert_int_eq(vtev_conf_set(c, "kafka.message.timeout.ms", "15000", e, sizeof(e)),
                     VTEV_CONF_OK);
    bootstraps(name);
    p = vtev_producer_new(c, e, sizeof(e));
    ck_assert_msg(p != NULL, "%s", e);
    vtev_producer_set_dr_cb(p, dr_cb, &rs);
    {
        /* connected and warm first */
        vtev_event_t ev;
        fx_position(&ev, "warm", 0);
        ck_assert_int_eq(vtev_producer_publish(p, &ev, NULL, e, sizeof(e)), VTEV_ERR_OK);
        ck_assert_int_eq(vtev_producer_flush(p, 10000), VTEV_ERR_OK);
        vtev_event_clear(&ev);
    }
    set_brokers(name, 0);
    publish_n(p, ids, 0);
    sleep_ms(3000);
    ck_assert_uint_gt(vtev_producer_outstanding(p), 0);
    set_brokers(name, 1);
    ck_assert_int_eq(vtev_producer_flush(p, 30000), VTEV_ERR_OK);
    ck_assert_int_eq(rs.n, N + 1);
    ck_assert_int_eq(rs.failed, 0);
    vtev_producer_destroy(p);
    read_back(name, ids, &total, &distinct);
    ck_assert_int_eq(total, N + 1);
    ck_assert_int_eq(distinct, N);
}
END_TEST

START_TEST(brokers_down_past_timeout_reports_every_event) {
    char name[96], e[512];
    static char ids[N][VTEV_UUID_LEN + 1];
    vtev_conf_t *c = mk_conf(name, sizeof(name), "fault-timeout");
    vtev_producer_t *p;
    reports_t rs;
    vtev_producer_stats_t st;
    size_t undelivered = 99;
    int i, j, matched = 0;
    memset(&rs, 0, sizeof(rs));
    pthread_mutex_init(&rs.lock, NULL);
    ck_assert_int_eq(vtev_conf_set(c, "kafka.message.timeout.ms", "2000", e, sizeof(e)),
                     VTEV_CONF_OK);
    bootstraps(name);
    set_brokers(name, 0);
    p = vtev_producer_new(c, e, sizeof(e));
    ck_assert_msg(p != NULL, "%s", e);
    vtev_producer_set_dr_cb(p, dr_cb, &rs);
    publish_n(p, ids, 0);
    ck_assert_int_eq(vtev_producer_flush(p, 20000), VTEV_ERR_OK);
    ck_assert_int_eq(rs.n, N);
    ck_assert_int_eq(rs.failed, N);
    for (i = 0; i < N; i++)
        ck_assert_msg(rs.errs[i] == VTEV_ERR_TIMED_OUT, "report %d: %s", i,
                      vtev_err2name(rs.errs[i]));
    for (i = 0; i < N; i++)
        for (j = 0; j < rs.n; j++)
            if (!strcmp(ids[i], rs.ids[j])) {
                matched++;
                break;
            }
    ck_assert_int_eq(matched, N);
    vtev_producer_stats(p, VTEV_EVENT_POSITION, &st);
    ck_assert_uint_eq(st.published, N);
    ck_assert_uint_eq(st.failed, N);
    ck_assert_uint_eq(st.delivered, 0);
    ck_assert_int_eq(vtev_producer_close(p, &undelivered), VTEV_ERR_OK);
    ck_assert_uint_eq(undelivered, 0);
    set_brokers(name, 1);
    ck_assert_int_eq(fx_topic_count(bootstraps(name), "vessel-position-updates", 3), 0);
}
END_TEST

/* A produce error inside a transaction makes commit abortable
 * (VTEV_ERR_TXN_ABORTABLE); abort, then the next transaction commits. */
START_TEST(transaction_produce_error_is_abortable) {
    char name[96], e[512], tid[160];
    vtev_conf_t *c = mk_conf(name, sizeof(name), "fault-txn");
    vtev_producer_t *p;
    reports_t rs;
    vtev_event_t ev;
    vtev_err_t err;
    memset(&rs, 0, sizeof(rs));
    pthread_mutex_init(&rs.lock, NULL);
    snprintf(tid, sizeof(tid), "tid-%s", name);
    ck_assert_int_eq(vtev_conf_set(c, "kafka.transactional.id", tid, e, sizeof(e)),
                     VTEV_CONF_OK);
    bootstraps(name);
    p = vtev_producer_new(c, e, sizeof(e));
    ck_assert_msg(p != NULL, "%s", e);
    vtev_producer_set_dr_cb(p, dr_cb, &rs);
    ck_assert_msg(vtev_producer_init_transactions(p, 30000, e, sizeof(e)) == VTEV_ERR_OK, "%s",
                  e);
    ck_assert_int_eq(vtev_producer_begin_transaction(p, e, sizeof(e)), VTEV_ERR_OK);
    rd_kafka_mock_push_request_errors(vtev__mock_cluster_get(name), PRODUCE_API, 1,
                                      RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    fx_result(&ev, "V1", 1);
    err = vtev_producer_publish(p, &ev, NULL, e, sizeof(e));
    ck_assert_msg(err == VTEV_ERR_OK, "%s: %s", vtev_err2name(err), e);
    err = vtev_producer_commit_transaction(p, 30000, e, sizeof(e));
    ck_assert_msg(err == VTEV_ERR_TXN_ABORTABLE, "%s: %s", vtev_err2name(err), e);
    ck_assert_int_eq(rs.failed, 1);
    ck_assert_msg(vtev_producer_abort_transaction(p, 30000, e, sizeof(e)) == VTEV_ERR_OK, "%s",
                  e);
    /* (librdkafka keeps the topic's authorization error until its next
     * metadata refresh: the next transaction writes another topic) */
    vtev_event_clear(&ev);
    fx_request(&ev, "V1", 1);
    ck_assert_int_eq(vtev_producer_begin_transaction(p, e, sizeof(e)), VTEV_ERR_OK);
    err = vtev_producer_publish(p, &ev, NULL, e, sizeof(e));
    ck_assert_msg(err == VTEV_ERR_OK, "%s: %s", vtev_err2name(err), e);
    ck_assert_msg(vtev_producer_commit_transaction(p, 30000, e, sizeof(e)) == VTEV_ERR_OK, "%s",
                  e);
    ck_assert_int_eq(rs.ok, 1);
    vtev_event_clear(&ev);
    vtev_producer_destroy(p);
}
END_TEST

int main(void) {
    Suite *s = suite_create("producer_fault");
    TCase *tc = tcase_create("fault");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, transient_produce_errors_retried_without_duplicates);
    tcase_add_test(tc, brokers_down_and_back_within_timeout);
    tcase_add_test(tc, brokers_down_past_timeout_reports_every_event);
    tcase_add_test(tc, transaction_produce_error_is_abortable);
    suite_add_tcase(s, tc);
    return vtev_test_run(s);
}
