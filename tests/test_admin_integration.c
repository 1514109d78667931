/*
 * test_admin_integration.c - vtev_admin_* against the real broker.
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <vtevents/vtevents.h>

#include "testutil.h"

static char errstr[512];
static const char *brokers;
static char prefix[64];

static vtev_admin_t *admin_new(void) {
    vtev_conf_t *c = vtev_conf_new();
    vtev_admin_t *a;
    char key[32];
    ck_assert_int_eq(vtev_conf_set(c, "bootstrap.servers", brokers, errstr, sizeof(errstr)),
                     VTEV_CONF_OK);
    /* unique topic names per run so the test is repeatable on a live stack */
    snprintf(key, sizeof(key), "%s", "topic.position");
    {
        char v[128];
        snprintf(v, sizeof(v), "%s-positions", prefix);
        ck_assert_int_eq(vtev_conf_set(c, key, v, errstr, sizeof(errstr)), VTEV_CONF_OK);
        snprintf(v, sizeof(v), "%s-requests", prefix);
        ck_assert_int_eq(vtev_conf_set(c, "topic.request", v, errstr, sizeof(errstr)),
                         VTEV_CONF_OK);
        snprintf(v, sizeof(v), "%s-results", prefix);
        ck_assert_int_eq(vtev_conf_set(c, "topic.result", v, errstr, sizeof(errstr)),
                         VTEV_CONF_OK);
    }
    a = vtev_admin_new(c, errstr, sizeof(errstr));
    ck_assert_msg(a != NULL, "%s", errstr);
    return a;
}

START_TEST(test_create_idempotent_describe_list) {
    vtev_admin_t *a = admin_new();
    vtev_conf_t *c = vtev_conf_new();
    vtev_topic_spec_t specs[6];
    vtev_topic_result_t res[6];
    vtev_topic_desc_t *d = NULL;
    char **names;
    size_t n, i, found = 0;
    char v[128];
    snprintf(v, sizeof(v), "%s-positions", prefix);
    vtev_conf_set(c, "topic.position", v, errstr, sizeof(errstr));
    snprintf(v, sizeof(v), "%s-requests", prefix);
    vtev_conf_set(c, "topic.request", v, errstr, sizeof(errstr));
    snprintf(v, sizeof(v), "%s-results", prefix);
    vtev_conf_set(c, "topic.result", v, errstr, sizeof(errstr));
    ck_assert_uint_eq(vtev_platform_topic_specs(c, specs, 6), 6);
    vtev_conf_destroy(c);

    ck_assert_msg(vtev_admin_create_topics(a, specs, 6, -1, res, 30000, errstr, sizeof(errstr)) ==
                      VTEV_ERR_OK, "%s", errstr);
    for (i = 0; i < 6; i++)
        ck_assert_msg(res[i].status == VTEV_TOPIC_CREATED, "%s: %d %s", res[i].name,
                      res[i].status, res[i].detail);
    /* again: nothing changes, everything reported as existing and matching */
    ck_assert_msg(vtev_admin_create_topics(a, specs, 6, -1, res, 30000, errstr, sizeof(errstr)) ==
                      VTEV_ERR_OK, "%s", errstr);
    for (i = 0; i < 6; i++)
        ck_assert_msg(res[i].status == VTEV_TOPIC_EXISTS, "%s: %d %s", res[i].name,
                      res[i].status, res[i].detail);

    ck_assert_int_eq(vtev_admin_describe_topic(a, specs[2].name, &d, 30000, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(d->partition_cnt, 5);
    ck_assert_int_eq(d->retention_ms, 24LL * 3600 * 1000);
    ck_assert_str_eq(d->compression, "gzip");
    for (i = 0; i < 5; i++)
        ck_assert_int_ge(d->partitions[i].leader, 0);
    vtev_topic_desc_destroy(d);

    ck_assert_int_eq(vtev_admin_list_topics(a, &names, &n, 30000, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    for (i = 0; i < n; i++)
        if (!strncmp(names[i], prefix, strlen(prefix)))
            found++;
    ck_assert_uint_eq(found, 6);
    vtev_admin_list_free(names, n);
    vtev_admin_destroy(a);
}
END_TEST

START_TEST(test_existing_with_other_settings_reported_not_changed) {
    vtev_admin_t *a = admin_new();
    vtev_topic_spec_t spec = {0}, other;
    vtev_topic_result_t res;
    vtev_topic_desc_t *d;
    snprintf(spec.name, sizeof(spec.name), "%s-differs", prefix);
    spec.partitions = 2;
    spec.retention_ms = 3600000;
    snprintf(spec.compression, sizeof(spec.compression), "lz4");
    ck_assert_int_eq(vtev_admin_create_topics(a, &spec, 1, -1, &res, 30000, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(res.status, VTEV_TOPIC_CREATED);
    other = spec;
    other.partitions = 4;
    snprintf(other.compression, sizeof(other.compression), "gzip");
    ck_assert_msg(vtev_admin_create_topics(a, &other, 1, -1, &res, 30000, errstr, sizeof(errstr)) ==
                      VTEV_ERR_OK, "%s: %s", errstr, res.detail);
    ck_assert_int_eq(res.status, VTEV_TOPIC_DIFFERS);
    ck_assert_str_contains(res.detail, "partitions 2 (want 4)");
    ck_assert_str_contains(res.detail, "compression.type lz4 (want gzip)");
    ck_assert_int_eq(vtev_admin_describe_topic(a, spec.name, &d, 30000, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(d->partition_cnt, 2); /* untouched */
    vtev_topic_desc_destroy(d);
    vtev_admin_destroy(a);
}
END_TEST

START_TEST(test_group_lag) {
    vtev_admin_t *a = admin_new();
    vtev_topic_spec_t spec = {0};
    vtev_topic_result_t res;
    rd_kafka_conf_t *pc = rd_kafka_conf_new(), *cc = rd_kafka_conf_new();
    rd_kafka_t *p, *cons;
    rd_kafka_topic_partition_list_t *offs;
    vtev_group_lag_t *lag = NULL;
    size_t n = 0;
    const char *topics[1];
    char group[96];
    int i;

    snprintf(spec.name, sizeof(spec.name), "%s-lag", prefix);
    spec.partitions = 2;
    spec.retention_ms = 3600000;
    snprintf(spec.compression, sizeof(spec.compression), "gzip");
    ck_assert_int_eq(vtev_admin_create_topics(a, &spec, 1, -1, &res, 30000, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    rd_kafka_conf_set(pc, "bootstrap.servers", brokers, NULL, 0);
    p = rd_kafka_new(RD_KAFKA_PRODUCER, pc, errstr, sizeof(errstr));
    ck_assert_ptr_nonnull(p);
    for (i = 0; i < 10; i++)
        ck_assert_int_eq(rd_kafka_producev(p, RD_KAFKA_V_TOPIC(spec.name), RD_KAFKA_V_PARTITION(0),
                                           RD_KAFKA_V_VALUE("x", 1), RD_KAFKA_V_END), 0);
    for (i = 0; i < 4; i++)
        ck_assert_int_eq(rd_kafka_producev(p, RD_KAFKA_V_TOPIC(spec.name), RD_KAFKA_V_PARTITION(1),
                                           RD_KAFKA_V_VALUE("y", 1), RD_KAFKA_V_END), 0);
    ck_assert_int_eq(rd_kafka_flush(p, 30000), 0);
    rd_kafka_destroy(p);

    /* the group commits offset 7 on partition 0 and nothing on partition 1 */
    snprintf(group, sizeof(group), "%s-group", prefix);
    rd_kafka_conf_set(cc, "bootstrap.servers", brokers, NULL, 0);
    rd_kafka_conf_set(cc, "group.id", group, NULL, 0);
    cons = rd_kafka_new(RD_KAFKA_CONSUMER, cc, errstr, sizeof(errstr));
    ck_assert_ptr_nonnull(cons);
    offs = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(offs, spec.name, 0)->offset = 7;
    ck_assert_int_eq(rd_kafka_commit(cons, offs, 0), 0);
    rd_kafka_topic_partition_list_destroy(offs);
    rd_kafka_destroy(cons);

    topics[0] = spec.name;
    ck_assert_msg(vtev_admin_group_lag(a, group, topics, 1, &lag, &n, 30000, errstr,
                                       sizeof(errstr)) == VTEV_ERR_OK, "%s", errstr);
    ck_assert_uint_eq(n, 2);
    for (i = 0; i < 2; i++) {
        if (lag[i].partition == 0) {
            ck_assert_int_eq(lag[i].committed, 7);
            ck_assert_int_eq(lag[i].high, 10);
            ck_assert_int_eq(lag[i].lag, 3);
        } else {
            ck_assert_int_eq(lag[i].committed, -1);
            ck_assert_int_eq(lag[i].high, 4);
            ck_assert_int_eq(lag[i].lag, 4);
        }
    }
    vtev_free(lag);
    topics[0] = "no-such-topic-for-lag";
    ck_assert_int_eq(vtev_admin_group_lag(a, group, topics, 1, &lag, &n, 30000, errstr,
                                          sizeof(errstr)), VTEV_ERR_NOT_FOUND);
    ck_assert_str_contains(errstr, "no-such-topic-for-lag");
    vtev_admin_destroy(a);
}
END_TEST

int main(void) {
    Suite *s = suite_create("admin_integration");
    TCase *tc = tcase_create("admin");
    brokers = vtev_test_require_env("KAFKA_BOOTSTRAP_SERVERS");
    snprintf(prefix, sizeof(prefix), "it-admin-%ld-%d", (long)time(NULL), (int)getpid());
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_create_idempotent_describe_list);
    tcase_add_test(tc, test_existing_with_other_settings_reported_not_changed);
    tcase_add_test(tc, test_group_lag);
    suite_add_tcase(s, tc);
    return vtev_test_run(s);
}
