/*
 * test_kafka_compat.c - Debian's librdkafka against the real local broker.
 *
 * Suite `integration`: needs KAFKA_BOOTSTRAP_SERVERS (scripts/stack.sh up).
 * Plain librdkafka on purpose: this proves the broker/client pairing the
 * library is built on (produce and read back, consumer groups with committed
 * offsets, the idempotent producer, transactions), independently of
 * libvtevents.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "testutil.h"

#define TMO_MS 30000

static const char *bootstrap;

/* A topic name unique to this run, so reruns against a long-lived stack do
 * not see each other's messages. */
static void unique_name(char *buf, size_t size, const char *what) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(buf, size, "vtev-compat-%s-%ld-%ld-%ld", what, (long)getpid(), (long)ts.tv_sec,
             ts.tv_nsec / 1000);
}

static rd_kafka_conf_t *base_conf(void) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[512];
    ck_assert_ptr_nonnull(conf);
    ck_assert_msg(rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof(errstr)) ==
                      RD_KAFKA_CONF_OK,
                  "%s", errstr);
    return conf;
}

static void conf_set(rd_kafka_conf_t *conf, const char *k, const char *v) {
    char errstr[512];
    ck_assert_msg(rd_kafka_conf_set(conf, k, v, errstr, sizeof(errstr)) == RD_KAFKA_CONF_OK,
                  "%s=%s: %s", k, v, errstr);
}

/* ---- delivery reports ------------------------------------------------ */

typedef struct {
    int delivered;
    int failed;
    int not_persisted;
    char first_error[256];
} dr_state_t;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    dr_state_t *st = opaque;
    (void)rk;
    if (m->err) {
        if (!st->failed)
            snprintf(st->first_error, sizeof(st->first_error), "%s", rd_kafka_err2str(m->err));
        st->failed++;
    } else {
        st->delivered++;
        if (rd_kafka_message_status(m) != RD_KAFKA_MSG_STATUS_PERSISTED)
            st->not_persisted++;
    }
}

static rd_kafka_t *new_producer(rd_kafka_conf_t *conf, dr_state_t *st) {
    char errstr[512];
    rd_kafka_t *rk;
    rd_kafka_conf_set_opaque(conf, st);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    ck_assert_msg(rk != NULL, "producer: %s", errstr);
    return rk;
}

static void produce_one(rd_kafka_t *rk, const char *topic, int32_t partition, const char *key,
                        const char *value) {
    rd_kafka_resp_err_t err;
    for (;;) {
        err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                                RD_KAFKA_V_KEY(key, strlen(key)),
                                RD_KAFKA_V_VALUE((void *)value, strlen(value)),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            break;
        rd_kafka_poll(rk, 100);
    }
    ck_assert_msg(!err, "produce to %s: %s", topic, rd_kafka_err2str(err));
}

/* ---- topics ---------------------------------------------------------- */

static void create_topic(const char *topic, int partitions) {
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, base_conf(), errstr, sizeof(errstr));
    rd_kafka_NewTopic_t *nt;
    rd_kafka_queue_t *q;
    rd_kafka_event_t *ev;
    const rd_kafka_CreateTopics_result_t *res;
    const rd_kafka_topic_result_t **tres;
    size_t cnt;
    ck_assert_msg(rk != NULL, "%s", errstr);
    /* replication factor -1: the broker default (1, or 3 in the 3-node stack) */
    nt = rd_kafka_NewTopic_new(topic, partitions, -1, errstr, sizeof(errstr));
    ck_assert_msg(nt != NULL, "%s", errstr);
    q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    ev = rd_kafka_queue_poll(q, TMO_MS);
    ck_assert_msg(ev != NULL, "CreateTopics %s: no answer", topic);
    ck_assert_msg(!rd_kafka_event_error(ev), "CreateTopics %s: %s", topic,
                  rd_kafka_event_error_string(ev));
    res = rd_kafka_event_CreateTopics_result(ev);
    tres = rd_kafka_CreateTopics_result_topics(res, &cnt);
    ck_assert_uint_eq(cnt, 1);
    ck_assert_msg(!rd_kafka_topic_result_error(tres[0]), "CreateTopics %s: %s", topic,
                  rd_kafka_topic_result_error_string(tres[0]));
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_destroy(rk);
}

/* ---- reading back ---------------------------------------------------- */

typedef struct {
    int count;
    char values[256][64];
    int64_t offsets[256];
} readback_t;

/* Reads partition 0 of topic from the beginning until `expect` messages came
 * (or, with expect < 0, until the end of the partition). isolation is
 * "read_committed" or "read_uncommitted". */
static void read_partition(const char *topic, const char *isolation, int expect, readback_t *out) {
    char errstr[512], group[200];
    rd_kafka_conf_t *conf = base_conf();
    rd_kafka_t *rk;
    rd_kafka_topic_partition_list_t *parts;
    time_t deadline = time(NULL) + 30;
    unique_name(group, sizeof(group), "reader");
    conf_set(conf, "group.id", group);
    conf_set(conf, "isolation.level", isolation);
    conf_set(conf, "enable.partition.eof", "true");
    conf_set(conf, "enable.auto.commit", "false");
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    ck_assert_msg(rk != NULL, "%s", errstr);
    parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    ck_assert_int_eq(rd_kafka_assign(rk, parts), 0);
    rd_kafka_topic_partition_list_destroy(parts);
    memset(out, 0, sizeof(*out));
    while (time(NULL) < deadline && (expect < 0 || out->count < expect)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 500);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            rd_kafka_message_destroy(m);
            if (expect < 0)
                break;
            continue;
        }
        ck_assert_msg(!m->err, "consume %s: %s", topic, rd_kafka_message_errstr(m));
        ck_assert_int_lt(out->count, 256);
        snprintf(out->values[out->count], sizeof(out->values[0]), "%.*s", (int)m->len,
                 (const char *)m->payload);
        out->offsets[out->count] = m->offset;
        out->count++;
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

/* ---- tests ----------------------------------------------------------- */

START_TEST(test_produce_and_read_back) {
    char topic[200], key[32], val[64];
    dr_state_t st = {0};
    readback_t rb;
    rd_kafka_t *rk;
    int i;
    unique_name(topic, sizeof(topic), "plain");
    create_topic(topic, 3);
    rk = new_producer(base_conf(), &st);
    for (i = 0; i < 20; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        snprintf(val, sizeof(val), "plain-%d", i);
        produce_one(rk, topic, 0, key, val);
    }
    ck_assert_int_eq(rd_kafka_flush(rk, TMO_MS), 0);
    ck_assert_msg(st.failed == 0, "%d deliveries failed: %s", st.failed, st.first_error);
    ck_assert_int_eq(st.delivered, 20);
    rd_kafka_destroy(rk);

    read_partition(topic, "read_uncommitted", 20, &rb);
    ck_assert_int_eq(rb.count, 20);
    for (i = 0; i < 20; i++) {
        snprintf(val, sizeof(val), "plain-%d", i);
        ck_assert_str_eq(rb.values[i], val);
        ck_assert_int_eq(rb.offsets[i], i);
    }
}
END_TEST

/* Consumes with a subscription until n messages came; commits synchronously. */
static int consume_group(const char *topic, const char *group, int n, char seen[][64]) {
    char errstr[512];
    rd_kafka_conf_t *conf = base_conf();
    rd_kafka_t *rk;
    rd_kafka_topic_partition_list_t *sub;
    int got = 0;
    time_t deadline = time(NULL) + 45;
    conf_set(conf, "group.id", group);
    conf_set(conf, "enable.auto.commit", "false");
    conf_set(conf, "auto.offset.reset", "earliest");
    conf_set(conf, "session.timeout.ms", "10000");
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    ck_assert_msg(rk != NULL, "%s", errstr);
    rd_kafka_poll_set_consumer(rk);
    sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
    ck_assert_int_eq(rd_kafka_subscribe(rk, sub), 0);
    rd_kafka_topic_partition_list_destroy(sub);
    while (got < n && time(NULL) < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 500);
        if (!m)
            continue;
        if (!m->err) {
            snprintf(seen[got], 64, "%.*s", (int)m->len, (const char *)m->payload);
            got++;
        } else {
            ck_assert_msg(m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF, "consume: %s",
                          rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
    }
    if (got > 0) {
        rd_kafka_resp_err_t err = rd_kafka_commit(rk, NULL, 0 /* sync */);
        ck_assert_msg(!err, "commit: %s", rd_kafka_err2str(err));
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return got;
}

START_TEST(test_group_commit_and_committed_offsets) {
    char topic[200], group[200], key[32], val[64], errstr[512];
    char seen[64][64];
    dr_state_t st = {0};
    rd_kafka_t *rk;
    rd_kafka_conf_t *conf;
    rd_kafka_topic_partition_list_t *parts;
    int i, total = 0;
    unique_name(topic, sizeof(topic), "group");
    unique_name(group, sizeof(group), "group");
    create_topic(topic, 3);

    /* 10 messages on each of the 3 partitions */
    rk = new_producer(base_conf(), &st);
    for (i = 0; i < 30; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        snprintf(val, sizeof(val), "first-%d", i);
        produce_one(rk, topic, i % 3, key, val);
    }
    ck_assert_int_eq(rd_kafka_flush(rk, TMO_MS), 0);
    ck_assert_msg(st.failed == 0, "%s", st.first_error);

    /* first member: subscribe, read all 30, commit */
    ck_assert_int_eq(consume_group(topic, group, 30, seen), 30);

    /* a second consumer of the same group reads the committed offsets back */
    conf = base_conf();
    conf_set(conf, "group.id", group);
    {
        rd_kafka_t *c2 = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        rd_kafka_resp_err_t err;
        ck_assert_msg(c2 != NULL, "%s", errstr);
        parts = rd_kafka_topic_partition_list_new(3);
        for (i = 0; i < 3; i++)
            rd_kafka_topic_partition_list_add(parts, topic, i);
        err = rd_kafka_committed(c2, parts, TMO_MS);
        ck_assert_msg(!err, "committed: %s", rd_kafka_err2str(err));
        for (i = 0; i < 3; i++) {
            ck_assert_msg(!parts->elems[i].err, "committed %s[%d]: %s", topic, i,
                          rd_kafka_err2str(parts->elems[i].err));
            ck_assert_int_eq(parts->elems[i].offset, 10);
        }
        rd_kafka_topic_partition_list_destroy(parts);
        rd_kafka_destroy(c2);
    }

    /* 6 more: a new member of the group resumes after the commit, sees only those */
    for (i = 0; i < 6; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        snprintf(val, sizeof(val), "second-%d", i);
        produce_one(rk, topic, i % 3, key, val);
    }
    ck_assert_int_eq(rd_kafka_flush(rk, TMO_MS), 0);
    ck_assert_msg(st.failed == 0, "%s", st.first_error);
    rd_kafka_destroy(rk);
    total = consume_group(topic, group, 6, seen);
    ck_assert_int_eq(total, 6);
    for (i = 0; i < total; i++)
        ck_assert_msg(!strncmp(seen[i], "second-", 7), "re-read an already committed message: %s",
                      seen[i]);
}
END_TEST

START_TEST(test_idempotent_producer) {
    char topic[200], key[32], val[64];
    dr_state_t st = {0};
    readback_t rb;
    rd_kafka_conf_t *conf;
    rd_kafka_t *rk;
    char errstr[512];
    int i;
    unique_name(topic, sizeof(topic), "idem");
    create_topic(topic, 1);
    conf = base_conf();
    conf_set(conf, "enable.idempotence", "true");
    conf_set(conf, "linger.ms", "5");
    conf_set(conf, "batch.num.messages", "10");
    rk = new_producer(conf, &st);
    for (i = 0; i < 200; i++) {
        snprintf(key, sizeof(key), "k%d", i % 7);
        snprintf(val, sizeof(val), "idem-%d", i);
        produce_one(rk, topic, 0, key, val);
        if (i % 50 == 0)
            rd_kafka_poll(rk, 0);
    }
    ck_assert_int_eq(rd_kafka_flush(rk, TMO_MS), 0);
    ck_assert_msg(st.failed == 0, "%d deliveries failed: %s", st.failed, st.first_error);
    ck_assert_int_eq(st.delivered, 200);
    ck_assert_int_eq(st.not_persisted, 0);
    /* An idempotent producer that could not get a producer id raises a fatal error. */
    ck_assert_msg(rd_kafka_fatal_error(rk, errstr, sizeof(errstr)) == RD_KAFKA_RESP_ERR_NO_ERROR,
                  "fatal: %s", errstr);
    rd_kafka_destroy(rk);

    read_partition(topic, "read_uncommitted", 200, &rb);
    ck_assert_int_eq(rb.count, 200);
    for (i = 0; i < 200; i++) { /* exactly once, in order */
        snprintf(val, sizeof(val), "idem-%d", i);
        ck_assert_str_eq(rb.values[i], val);
    }
    /* no extra (duplicate) message behind them */
    read_partition(topic, "read_uncommitted", -1, &rb);
    ck_assert_int_eq(rb.count, 200);
}
END_TEST

static void txn_ok(rd_kafka_error_t *error, const char *what) {
    if (error) {
        char msg[512];
        snprintf(msg, sizeof(msg), "%s: %s", what, rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
        ck_abort_msg("%s", msg);
    }
}

START_TEST(test_transactions) {
    char topic[200], txid[200], val[64];
    dr_state_t st = {0};
    readback_t rb;
    rd_kafka_conf_t *conf;
    rd_kafka_t *rk;
    int i;
    unique_name(topic, sizeof(topic), "txn");
    unique_name(txid, sizeof(txid), "txid");
    create_topic(topic, 1);
    conf = base_conf();
    conf_set(conf, "transactional.id", txid);
    conf_set(conf, "transaction.timeout.ms", "30000");
    rk = new_producer(conf, &st);
    txn_ok(rd_kafka_init_transactions(rk, TMO_MS), "init_transactions");

    /* committed: 5 messages */
    txn_ok(rd_kafka_begin_transaction(rk), "begin_transaction 1");
    for (i = 0; i < 5; i++) {
        snprintf(val, sizeof(val), "committed-a-%d", i);
        produce_one(rk, topic, 0, "k", val);
    }
    txn_ok(rd_kafka_commit_transaction(rk, TMO_MS), "commit_transaction 1");

    /* aborted: 4 messages */
    txn_ok(rd_kafka_begin_transaction(rk), "begin_transaction 2");
    for (i = 0; i < 4; i++) {
        snprintf(val, sizeof(val), "aborted-%d", i);
        produce_one(rk, topic, 0, "k", val);
    }
    ck_assert_int_eq(rd_kafka_flush(rk, TMO_MS), 0); /* make sure they reach the log */
    txn_ok(rd_kafka_abort_transaction(rk, TMO_MS), "abort_transaction");

    /* committed again: 3 messages after the aborted ones */
    txn_ok(rd_kafka_begin_transaction(rk), "begin_transaction 3");
    for (i = 0; i < 3; i++) {
        snprintf(val, sizeof(val), "committed-b-%d", i);
        produce_one(rk, topic, 0, "k", val);
    }
    txn_ok(rd_kafka_commit_transaction(rk, TMO_MS), "commit_transaction 3");
    ck_assert_msg(st.failed == 0, "%d deliveries failed: %s", st.failed, st.first_error);
    ck_assert_int_eq(st.delivered, 12);
    rd_kafka_destroy(rk);

    /* The commit markers are written after EndTxn returns: wait until all 8
     * committed messages are visible, then read again to the end (the last
     * stable offset is now past the third transaction) to be sure nothing else is. */
    read_partition(topic, "read_committed", 8, &rb);
    ck_assert_int_eq(rb.count, 8);
    /* read_committed sees the 8 committed ones, in order, and none aborted */
    read_partition(topic, "read_committed", -1, &rb);
    ck_assert_int_eq(rb.count, 8);
    for (i = 0; i < 5; i++) {
        snprintf(val, sizeof(val), "committed-a-%d", i);
        ck_assert_str_eq(rb.values[i], val);
    }
    for (i = 0; i < 3; i++) {
        snprintf(val, sizeof(val), "committed-b-%d", i);
        ck_assert_str_eq(rb.values[5 + i], val);
    }
    /* the aborted ones were really written: read_uncommitted sees all 12 */
    read_partition(topic, "read_uncommitted", 12, &rb);
    ck_assert_int_eq(rb.count, 12);
    ck_assert_str_eq(rb.values[5], "aborted-0");
}
END_TEST

static Suite *compat_suite(void) {
    Suite *s = suite_create("kafka_compat");
    TCase *tc = tcase_create("librdkafka-vs-broker");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_produce_and_read_back);
    tcase_add_test(tc, test_group_commit_and_committed_offsets);
    tcase_add_test(tc, test_idempotent_producer);
    tcase_add_test(tc, test_transactions);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    bootstrap = vtev_test_require_env("KAFKA_BOOTSTRAP_SERVERS");
    fprintf(stderr, "librdkafka %s against %s\n", rd_kafka_version_str(), bootstrap);
    return vtev_test_run(compat_suite());
}
