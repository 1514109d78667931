/*
 * test_admin.c - platform topic specs and the admin client on the embedded mock cluster.
 */
#include <stdio.h>
#include <vtevents/vtevents.h>

#include "testutil.h"

static char errstr[512];

START_TEST(test_platform_specs_defaults) {
    vtev_topic_spec_t specs[8];
    size_t n = vtev_platform_topic_specs(NULL, specs, 8);
    ck_assert_uint_eq(n, 6);
    ck_assert_str_eq(specs[0].name, "vessel-position-updates");
    ck_assert_int_eq(specs[0].partitions, 3);
    ck_assert_int_eq(specs[0].retention_ms, 7LL * 24 * 3600 * 1000);
    ck_assert_str_eq(specs[0].compression, "gzip");
    ck_assert_str_eq(specs[1].name, "vessel-position-updates.dlq");
    ck_assert_str_eq(specs[2].name, "prediction-requests");
    ck_assert_int_eq(specs[2].partitions, 5);
    ck_assert_int_eq(specs[2].retention_ms, 24LL * 3600 * 1000);
    ck_assert_str_eq(specs[4].name, "prediction-results");
    ck_assert_int_eq(specs[4].partitions, 3);
    /* a short array gets what fits, the count is still the full count */
    ck_assert_uint_eq(vtev_platform_topic_specs(NULL, specs, 1), 6);
}
END_TEST

START_TEST(test_platform_specs_from_conf) {
    vtev_conf_t *c = vtev_conf_new();
    vtev_topic_spec_t specs[6];
    ck_assert_int_eq(vtev_conf_set(c, "topic.request", "staging-requests", errstr, sizeof(errstr)),
                     VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_set(c, "dlq.suffix", "-dead", errstr, sizeof(errstr)), VTEV_CONF_OK);
    ck_assert_uint_eq(vtev_platform_topic_specs(c, specs, 6), 6);
    ck_assert_str_eq(specs[2].name, "staging-requests");
    ck_assert_str_eq(specs[3].name, "staging-requests-dead");
    ck_assert_str_eq(specs[1].name, "vessel-position-updates-dead");
    vtev_conf_destroy(c);
}
END_TEST

/* With retry tiers, the retry topics of the event topics that use them. */
START_TEST(test_platform_specs_retry_tiers) {
    vtev_conf_t *c = vtev_conf_new();
    vtev_topic_spec_t specs[16];
    ck_assert_int_eq(vtev_conf_set(c, "consumer.retry.tiers", "2", errstr, sizeof(errstr)),
                     VTEV_CONF_OK);
    ck_assert_uint_eq(vtev_platform_topic_specs(c, specs, 16), 12);
    ck_assert_str_eq(specs[2].name, "vessel-position-updates.retry.1");
    ck_assert_str_eq(specs[3].name, "vessel-position-updates.retry.2");
    ck_assert_int_eq(specs[3].partitions, 3);
    ck_assert_str_eq(specs[6].name, "prediction-requests.retry.1");
    ck_assert_int_eq(specs[6].partitions, 5);
    /* opt-in per topic */
    ck_assert_int_eq(vtev_conf_set(c, "consumer.retry.tier.topics", "prediction-requests",
                                   errstr, sizeof(errstr)),
                     VTEV_CONF_OK);
    ck_assert_uint_eq(vtev_platform_topic_specs(c, specs, 16), 8);
    ck_assert_str_eq(specs[2].name, "prediction-requests");
    ck_assert_str_eq(specs[4].name, "prediction-requests.retry.1");
    ck_assert_str_eq(specs[5].name, "prediction-requests.retry.2");
    ck_assert_str_eq(specs[6].name, "prediction-results");
    vtev_conf_destroy(c);
}
END_TEST

START_TEST(test_mock_list_and_missing_topic) {
    vtev_conf_t *c = vtev_conf_new();
    vtev_admin_t *a;
    char **names = NULL;
    size_t n = 0, i;
    int seen = 0;
    vtev_topic_desc_t *d = NULL;
    ck_assert_int_eq(vtev_conf_set(c, "bootstrap.servers", "mock://admin-test", errstr,
                                   sizeof(errstr)), VTEV_CONF_OK);
    a = vtev_admin_new(c, errstr, sizeof(errstr));
    ck_assert_msg(a != NULL, "%s", errstr);
    ck_assert_int_eq(vtev_admin_list_topics(a, &names, &n, 10000, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    for (i = 0; i < n; i++)
        if (!strcmp(names[i], "prediction-requests") || !strcmp(names[i], "prediction-results") ||
            !strcmp(names[i], "vessel-position-updates"))
            seen++;
    ck_assert_int_eq(seen, 3);
    for (i = 1; i < n; i++)
        ck_assert_int_lt(strcmp(names[i - 1], names[i]), 0); /* sorted */
    vtev_admin_list_free(names, n);
    ck_assert_int_eq(vtev_admin_describe_topic(a, "no-such-topic", &d, 10000, errstr,
                                               sizeof(errstr)), VTEV_ERR_NOT_FOUND);
    ck_assert_str_contains(errstr, "no-such-topic");
    ck_assert_ptr_null(d);
    ck_assert_int_eq(vtev_admin_group_lag(a, "", NULL, 0, NULL, &n, 1000, errstr, sizeof(errstr)),
                     VTEV_ERR_INVALID_ARG);
    vtev_admin_destroy(a);
    vtev_admin_destroy(NULL);
    vtev_topic_desc_destroy(NULL);
    vtev_admin_list_free(NULL, 0);
}
END_TEST

int main(void) {
    Suite *s = suite_create("admin");
    TCase *tc = tcase_create("admin");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_platform_specs_defaults);
    tcase_add_test(tc, test_platform_specs_from_conf);
    tcase_add_test(tc, test_platform_specs_retry_tiers);
    tcase_add_test(tc, test_mock_list_and_missing_topic);
    suite_add_tcase(s, tc);
    return vtev_test_run(s);
}
