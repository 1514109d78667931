/*
 * test_log.c - the log callback of vtev_conf_set_log_cb() receives the lines
 * of handles created from the conf (and a dup of it), librdkafka's included.
 */
#include <pthread.h>
#include <vtevents/vtevents.h>

#include "testutil.h"

typedef struct {
    pthread_mutex_t lock;
    int lines;
    int rdkafka_lines;
    int bad;
} seen_t;

static void log_cb(int level, const char *fac, const char *msg, void *opaque) {
    seen_t *s = opaque;
    pthread_mutex_lock(&s->lock);
    s->lines++;
    if (!strncmp(fac, "RDKAFKA-", 8))
        s->rdkafka_lines++;
    if (level < 0 || level > 7 || !*fac || !msg)
        s->bad++;
    pthread_mutex_unlock(&s->lock);
}

START_TEST(test_producer_logs_through_callback) {
    seen_t seen = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};
    char errstr[512];
    vtev_conf_t *c = vtev_conf_new(), *d;
    vtev_producer_t *p;
    ck_assert_int_eq(vtev_conf_set(c, "bootstrap.servers", "mock://log-test", errstr,
                                   sizeof(errstr)), VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_set(c, "schema.registry.url", "mock://log-test", errstr,
                                   sizeof(errstr)), VTEV_CONF_OK);
    /* librdkafka debug lines are logged at level 7 */
    ck_assert_int_eq(vtev_conf_set(c, "kafka.debug", "broker", errstr, sizeof(errstr)),
                     VTEV_CONF_OK);
    vtev_conf_set_log_cb(c, log_cb, &seen);
    d = vtev_conf_dup(c); /* the callback travels with the copy */
    vtev_conf_destroy(c);
    p = vtev_producer_new(d, errstr, sizeof(errstr));
    ck_assert_msg(p != NULL, "%s", errstr);
    ck_assert_int_eq(vtev_producer_flush(p, 2000), VTEV_ERR_OK);
    vtev_producer_destroy(p);
    ck_assert_int_gt(seen.lines, 0);
    ck_assert_int_gt(seen.rdkafka_lines, 0);
    ck_assert_int_eq(seen.bad, 0);
}
END_TEST

START_TEST(test_reset_to_default_stops_callback) {
    seen_t seen = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};
    char errstr[512];
    vtev_conf_t *c = vtev_conf_new();
    vtev_producer_t *p;
    ck_assert_int_eq(vtev_conf_set(c, "bootstrap.servers", "mock://log-test", errstr,
                                   sizeof(errstr)), VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_set(c, "schema.registry.url", "mock://log-test", errstr,
                                   sizeof(errstr)), VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_set(c, "log.level", "0", errstr, sizeof(errstr)), VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_set(c, "kafka.debug", "broker", errstr, sizeof(errstr)),
                     VTEV_CONF_OK);
    vtev_conf_set_log_cb(c, log_cb, &seen);
    vtev_conf_set_log_cb(c, NULL, NULL); /* back to the default (stderr, filtered) */
    p = vtev_producer_new(c, errstr, sizeof(errstr));
    ck_assert_msg(p != NULL, "%s", errstr);
    vtev_producer_destroy(p);
    ck_assert_int_eq(seen.lines, 0);
}
END_TEST

int main(void) {
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("log");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_producer_logs_through_callback);
    tcase_add_test(tc, test_reset_to_default_stops_callback);
    suite_add_tcase(s, tc);
    return vtev_test_run(s);
}
