/*
 * test_rdkafka_ext.c - vtev_conf_to_rdkafka() (<vtevents/rdkafka_ext.h>):
 * the library's mapping of a vtev_conf_t to librdkafka, on the embedded
 * mock:// cluster.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <vtevents/rdkafka_ext.h>
#include <vtevents/vtevents.h>

#include "testutil.h"

static char value[1024];

/* The value of name in rc, or "" when unknown. */
static const char *get(rd_kafka_conf_t *rc, const char *name) {
    size_t sz = sizeof(value);
    if (rd_kafka_conf_get(rc, name, value, &sz) != RD_KAFKA_CONF_OK)
        value[0] = '\0';
    return value;
}

static vtev_conf_t *conf_of(const char *const *kv) {
    vtev_conf_t *c = vtev_conf_new();
    char e[512];
    for (; kv && kv[0]; kv += 2)
        ck_assert_msg(vtev_conf_set(c, kv[0], kv[1], e, sizeof(e)) == VTEV_CONF_OK, "%s", e);
    return c;
}

START_TEST(test_producer_mapping) {
    static const char *const kv[] = {"bootstrap.servers", "mock://rdkext-p", "client.id", "me",
                                     "kafka.linger.ms", "7", NULL};
    vtev_conf_t *c = conf_of(kv);
    char e[512];
    rd_kafka_conf_t *rc = vtev_conf_to_rdkafka(c, RD_KAFKA_PRODUCER, e, sizeof(e));
    ck_assert_msg(rc != NULL, "%s", e);
    /* mock://NAME became the embedded cluster's address */
    ck_assert_str_contains(get(rc, "bootstrap.servers"), "127.0.0.1:");
    ck_assert_str_eq(get(rc, "client.id"), "me");
    /* the library producer's defaults, and an explicit kafka.* key over them */
    ck_assert_str_eq(get(rc, "enable.idempotence"), "true");
    ck_assert_str_eq(get(rc, "compression.codec"), "gzip");
    ck_assert_str_eq(get(rc, "partitioner"), "murmur2_random");
    ck_assert_str_eq(get(rc, "linger.ms"), "7");
    /* no consumer properties on a producer */
    ck_assert_str_eq(get(rc, "group.id"), "");
    rd_kafka_conf_destroy(rc);
    vtev_conf_set(c, "producer.profile", "throughput", e, sizeof(e));
    vtev_conf_set(c, "kafka.linger.ms", NULL, e, sizeof(e));
    rc = vtev_conf_to_rdkafka(c, RD_KAFKA_PRODUCER, e, sizeof(e));
    ck_assert_msg(rc != NULL, "%s", e);
    ck_assert_str_eq(get(rc, "linger.ms"), "50");
    ck_assert_str_eq(get(rc, "batch.num.messages"), "100000");
    rd_kafka_conf_destroy(rc);
    vtev_conf_destroy(c);
}
END_TEST

START_TEST(test_consumer_mapping) {
    static const char *const kv[] = {"bootstrap.servers", "mock://rdkext-c", "group.id", "g1",
                                     "consumer.offset.reset", "latest", NULL};
    vtev_conf_t *c = conf_of(kv);
    char e[512];
    rd_kafka_conf_t *rc = vtev_conf_to_rdkafka(c, RD_KAFKA_CONSUMER, e, sizeof(e));
    ck_assert_msg(rc != NULL, "%s", e);
    ck_assert_str_eq(get(rc, "group.id"), "g1");
    ck_assert_str_eq(get(rc, "auto.offset.reset"), "largest"); /* librdkafka's name of latest */
    /* no producer defaults on a consumer */
    ck_assert_str_eq(get(rc, "enable.idempotence"), "false");
    rd_kafka_conf_destroy(rc);
    /* an explicit kafka.auto.offset.reset wins */
    vtev_conf_set(c, "kafka.auto.offset.reset", "earliest", e, sizeof(e));
    rc = vtev_conf_to_rdkafka(c, RD_KAFKA_CONSUMER, e, sizeof(e));
    ck_assert_msg(rc != NULL, "%s", e);
    ck_assert_str_eq(get(rc, "auto.offset.reset"), "smallest");
    rd_kafka_conf_destroy(rc);
    vtev_conf_destroy(c);
}
END_TEST

/* kafka.* keys arrive with their real values, secrets included (a conf dump
 * shows them as [redacted]); kafka.bootstrap.servers wins over mock://. */
START_TEST(test_security_and_bootstrap_pass_through) {
    static const char *const kv[] = {"kafka.security.protocol", "sasl_plaintext",
                                     "kafka.sasl.mechanisms", "PLAIN",
                                     "kafka.sasl.username", "alice",
                                     "kafka.sasl.password", "s3cr=t;x",
                                     "kafka.bootstrap.servers", "broker1:9092",
                                     NULL};
    vtev_conf_t *c = conf_of(kv);
    const char **dump;
    size_t n, i;
    char e[512];
    rd_kafka_conf_t *rc = vtev_conf_to_rdkafka(c, RD_KAFKA_CONSUMER, e, sizeof(e));
    ck_assert_msg(rc != NULL, "%s", e);
    ck_assert_str_eq(get(rc, "security.protocol"), "sasl_plaintext");
    ck_assert_str_eq(get(rc, "sasl.mechanisms"), "PLAIN");
    ck_assert_str_eq(get(rc, "sasl.username"), "alice");
    ck_assert_str_eq(get(rc, "sasl.password"), "s3cr=t;x");
    ck_assert_str_eq(get(rc, "bootstrap.servers"), "broker1:9092");
    rd_kafka_conf_destroy(rc);
    dump = vtev_conf_dump(c, &n);
    for (i = 0; i + 1 < n; i += 2)
        if (!strcmp(dump[i], "kafka.sasl.password"))
            ck_assert_str_eq(dump[i + 1], "[redacted]");
    vtev_conf_dump_free(dump, n);
    vtev_conf_destroy(c);
}
END_TEST

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    (void)opaque;
    *(rd_kafka_resp_err_t *)m->_private = m->err;
}

/* A producer and a consumer of one's own, made from the same conf, meet on
 * the embedded cluster and its platform topics. */
START_TEST(test_handles_on_mock) {
    static const char *const kv[] = {"bootstrap.servers", "mock://rdkext-io", "group.id",
                                     "rdkext", NULL};
    vtev_conf_t *c = conf_of(kv);
    char e[512];
    rd_kafka_resp_err_t dr = RD_KAFKA_RESP_ERR__IN_PROGRESS;
    rd_kafka_conf_t *pc = vtev_conf_to_rdkafka(c, RD_KAFKA_PRODUCER, e, sizeof(e)), *cc;
    rd_kafka_t *p, *k;
    rd_kafka_topic_partition_list_t *l;
    rd_kafka_message_t *m = NULL;
    int i;
    ck_assert_msg(pc != NULL, "%s", e);
    rd_kafka_conf_set_dr_msg_cb(pc, dr_cb);
    ck_assert_msg((p = rd_kafka_new(RD_KAFKA_PRODUCER, pc, e, sizeof(e))) != NULL, "%s", e);
    ck_assert_int_eq(rd_kafka_producev(p, RD_KAFKA_V_TOPIC("prediction-requests"),
                                       RD_KAFKA_V_PARTITION(4), RD_KAFKA_V_VALUE("hello", 5),
                                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                       RD_KAFKA_V_OPAQUE(&dr), RD_KAFKA_V_END),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
    for (i = 0; i < 300 && dr == RD_KAFKA_RESP_ERR__IN_PROGRESS; i++)
        rd_kafka_poll(p, 100);
    ck_assert_msg(dr == RD_KAFKA_RESP_ERR_NO_ERROR, "delivery: %s", rd_kafka_err2str(dr));
    rd_kafka_destroy(p);

    cc = vtev_conf_to_rdkafka(c, RD_KAFKA_CONSUMER, e, sizeof(e));
    ck_assert_msg(cc != NULL, "%s", e);
    ck_assert_msg((k = rd_kafka_new(RD_KAFKA_CONSUMER, cc, e, sizeof(e))) != NULL, "%s", e);
    l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, "prediction-requests", 4)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
    ck_assert_int_eq(rd_kafka_assign(k, l), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(l);
    for (i = 0; i < 300; i++) {
        m = rd_kafka_consumer_poll(k, 100);
        if (m && !m->err)
            break;
        if (m)
            rd_kafka_message_destroy(m);
        m = NULL;
    }
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(m->len, 5);
    ck_assert_int_eq(memcmp(m->payload, "hello", 5), 0);
    rd_kafka_message_destroy(m);
    rd_kafka_consumer_close(k);
    rd_kafka_destroy(k);
    vtev_conf_destroy(c);
}
END_TEST

/* The embedded cluster has the platform's topics of the one table
 * (vtev_platform_topic_specs()), dead-letter topics included, with its
 * partition counts. */
START_TEST(test_mock_has_platform_topics) {
    static const char *const kv[] = {"bootstrap.servers", "mock://rdkext-topics", NULL};
    vtev_conf_t *c = conf_of(kv);
    vtev_topic_spec_t specs[8];
    size_t n = vtev_platform_topic_specs(NULL, specs, 8), i;
    const rd_kafka_metadata_t *md = NULL;
    char e[512];
    rd_kafka_conf_t *rc = vtev_conf_to_rdkafka(c, RD_KAFKA_PRODUCER, e, sizeof(e));
    rd_kafka_t *rk;
    ck_assert_msg(rc != NULL, "%s", e);
    ck_assert_msg((rk = rd_kafka_new(RD_KAFKA_PRODUCER, rc, e, sizeof(e))) != NULL, "%s", e);
    ck_assert_uint_eq(n, 6);
    ck_assert_int_eq(rd_kafka_metadata(rk, 1, NULL, &md, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    for (i = 0; i < n; i++) {
        int j, found = -1;
        for (j = 0; j < md->topic_cnt; j++)
            if (!strcmp(md->topics[j].topic, specs[i].name))
                found = j;
        ck_assert_msg(found >= 0, "%s: not in the mock cluster", specs[i].name);
        ck_assert_int_eq(md->topics[found].partition_cnt, specs[i].partitions);
    }
    rd_kafka_metadata_destroy(md);
    rd_kafka_destroy(rk);
    vtev_conf_destroy(c);
}
END_TEST

START_TEST(test_errors) {
    vtev_conf_t *c = vtev_conf_new();
    char e[512];
    ck_assert_ptr_null(vtev_conf_to_rdkafka(NULL, RD_KAFKA_PRODUCER, e, sizeof(e)));
    ck_assert_str_contains(e, "conf must not be NULL");
    ck_assert_ptr_null(vtev_conf_to_rdkafka(c, (rd_kafka_type_t)7, e, sizeof(e)));
    ck_assert_str_contains(e, "RD_KAFKA_CONSUMER");
    ck_assert_ptr_null(vtev_conf_to_rdkafka(c, (rd_kafka_type_t)7, NULL, 0));
    vtev_conf_destroy(c);
}
END_TEST

int main(void) {
    Suite *s = suite_create("rdkafka_ext");
    TCase *tc = tcase_create("rdkafka_ext");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_producer_mapping);
    tcase_add_test(tc, test_consumer_mapping);
    tcase_add_test(tc, test_security_and_bootstrap_pass_through);
    tcase_add_test(tc, test_handles_on_mock);
    tcase_add_test(tc, test_mock_has_platform_topics);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return vtev_test_run(s);
}
