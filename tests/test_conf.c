/*
 * test_conf.c - vtev_conf_t: keys, validation, kafka.* pass-through, files, environment.
 */
#include <stdio.h>
#include <unistd.h>
#include <vtevents/vtevents.h>

#include "testutil.h"

static char errstr[512];

static const char *get(vtev_conf_t *c, const char *name) {
    static char buf[512];
    size_t sz = sizeof(buf);
    if (vtev_conf_get(c, name, buf, &sz) != VTEV_CONF_OK)
        return NULL;
    return buf;
}

START_TEST(test_defaults) {
    vtev_conf_t *c = vtev_conf_new();
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(get(c, "topic.position"), "vessel-position-updates");
    ck_assert_str_eq(get(c, "topic.request"), "prediction-requests");
    ck_assert_str_eq(get(c, "topic.result"), "prediction-results");
    ck_assert_str_eq(get(c, "schema.registry.url"), "mock://default");
    ck_assert_str_eq(get(c, "auto.register.schemas"), "true");
    /* librdkafka's own default for a kafka.* key never set */
    ck_assert_str_eq(get(c, "kafka.linger.ms"), "5");
    ck_assert_ptr_null(get(c, "group.id")); /* no default */
    ck_assert_ptr_null(get(c, "no.such.key"));
    vtev_conf_destroy(c);
}
END_TEST

START_TEST(test_set_get_and_size_query) {
    vtev_conf_t *c = vtev_conf_new();
    char small[4];
    size_t sz = sizeof(small);
    ck_assert_int_eq(vtev_conf_set(c, "client.id", "vessel-tracker", errstr, sizeof(errstr)),
                     VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_get(c, "client.id", small, &sz), VTEV_CONF_OK);
    ck_assert_uint_eq(sz, strlen("vessel-tracker") + 1);
    ck_assert_str_eq(small, ""); /* too small: emptied, size reported */
    ck_assert_str_eq(get(c, "client.id"), "vessel-tracker");
    /* NULL value resets to default */
    ck_assert_int_eq(vtev_conf_set(c, "client.id", NULL, errstr, sizeof(errstr)), VTEV_CONF_OK);
    ck_assert_str_eq(get(c, "client.id"), "vtevents");
    vtev_conf_destroy(c);
}
END_TEST

START_TEST(test_unknown_key_named) {
    vtev_conf_t *c = vtev_conf_new();
    ck_assert_int_eq(vtev_conf_set(c, "schema.registy.url", "http://x", errstr, sizeof(errstr)),
                     VTEV_CONF_UNKNOWN);
    ck_assert_str_contains(errstr, "schema.registy.url");
    ck_assert_int_eq(vtev_conf_set(c, "kafka.linger.msec", "5", errstr, sizeof(errstr)),
                     VTEV_CONF_UNKNOWN);
    ck_assert_str_contains(errstr, "kafka.linger.msec");
    ck_assert_str_contains(errstr, "linger.msec");
    ck_assert_ptr_null(get(c, "schema.registy.url"));
    vtev_conf_destroy(c);
}
END_TEST

START_TEST(test_invalid_values_named) {
    vtev_conf_t *c = vtev_conf_new();
    ck_assert_int_eq(vtev_conf_set(c, "log.level", "9", errstr, sizeof(errstr)), VTEV_CONF_INVALID);
    ck_assert_str_contains(errstr, "log.level");
    ck_assert_str_contains(errstr, "[0, 7]");
    ck_assert_int_eq(vtev_conf_set(c, "log.level", "3x", errstr, sizeof(errstr)), VTEV_CONF_INVALID);
    ck_assert_str_contains(errstr, "not an integer");
    ck_assert_int_eq(vtev_conf_set(c, "auto.register.schemas", "yes", errstr, sizeof(errstr)),
                     VTEV_CONF_INVALID);
    ck_assert_str_contains(errstr, "auto.register.schemas");
    ck_assert_int_eq(vtev_conf_set(c, "subject.name.strategy", "topic_record", errstr, sizeof(errstr)),
                     VTEV_CONF_INVALID);
    ck_assert_str_contains(errstr, "topic, record, topic-record");
    ck_assert_int_eq(vtev_conf_set(c, "subject.name.strategy", "topic-record", errstr, sizeof(errstr)),
                     VTEV_CONF_OK);
    /* librdkafka validates its own values */
    ck_assert_int_eq(vtev_conf_set(c, "kafka.acks", "most", errstr, sizeof(errstr)),
                     VTEV_CONF_INVALID);
    ck_assert_str_contains(errstr, "kafka.acks");
    ck_assert_int_eq(vtev_conf_set(c, "kafka.linger.ms", "-4", errstr, sizeof(errstr)),
                     VTEV_CONF_INVALID);
    ck_assert_int_eq(vtev_conf_set(c, "kafka.linger.ms", "20", errstr, sizeof(errstr)),
                     VTEV_CONF_OK);
    ck_assert_str_eq(get(c, "kafka.linger.ms"), "20");
    /* the failed sets changed nothing */
    ck_assert_str_eq(get(c, "log.level"), "6");
    vtev_conf_destroy(c);
}
END_TEST

START_TEST(test_dup_is_deep) {
    vtev_conf_t *c = vtev_conf_new(), *d;
    ck_assert_int_eq(vtev_conf_set(c, "group.id", "prediction-workers", errstr, sizeof(errstr)),
                     VTEV_CONF_OK);
    d = vtev_conf_dup(c);
    ck_assert_int_eq(vtev_conf_set(c, "group.id", "other", errstr, sizeof(errstr)), VTEV_CONF_OK);
    vtev_conf_destroy(c);
    ck_assert_str_eq(get(d, "group.id"), "prediction-workers");
    vtev_conf_destroy(d);
    vtev_conf_destroy(NULL);
    ck_assert_ptr_null(vtev_conf_dup(NULL));
}
END_TEST

static char *write_tmp(const char *content) {
    static char path[64];
    int fd;
    snprintf(path, sizeof(path), "/tmp/vtev-conf-XXXXXX");
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
    return path;
}

START_TEST(test_load_file) {
    vtev_conf_t *c = vtev_conf_new();
    char *p = write_tmp("# comment\n! also comment\n\n  bootstrap.servers = 127.0.0.1:9092 \n"
                        "kafka.linger.ms: 7\nschema.registry.url=http://127.0.0.1:8081/apis/ccompat/v7\n");
    ck_assert_int_eq(vtev_conf_load_file(c, p, errstr, sizeof(errstr)), VTEV_ERR_OK);
    unlink(p);
    ck_assert_str_eq(get(c, "bootstrap.servers"), "127.0.0.1:9092");
    ck_assert_str_eq(get(c, "kafka.linger.ms"), "7");
    ck_assert_str_eq(get(c, "schema.registry.url"), "http://127.0.0.1:8081/apis/ccompat/v7");
    vtev_conf_destroy(c);
}
END_TEST

START_TEST(test_load_file_bad_line_all_or_nothing) {
    vtev_conf_t *c = vtev_conf_new();
    char *p = write_tmp("client.id=a\nkafka.acks=all\nlog.levle=3\n");
    char expect[128];
    ck_assert_int_eq(vtev_conf_load_file(c, p, errstr, sizeof(errstr)), VTEV_ERR_PARSE);
    snprintf(expect, sizeof(expect), "%s:3: log.levle", p);
    ck_assert_str_contains(errstr, expect);
    ck_assert_str_eq(get(c, "client.id"), "vtevents"); /* nothing applied */
    unlink(p);
    p = write_tmp("client.id=a\njust-a-word\n");
    ck_assert_int_eq(vtev_conf_load_file(c, p, errstr, sizeof(errstr)), VTEV_ERR_PARSE);
    ck_assert_str_contains(errstr, ":2: expected key=value");
    unlink(p);
    ck_assert_int_eq(vtev_conf_load_file(c, "/nonexistent/vt.conf", errstr, sizeof(errstr)),
                     VTEV_ERR_IO);
    ck_assert_str_contains(errstr, "/nonexistent/vt.conf");
    vtev_conf_destroy(c);
}
END_TEST

START_TEST(test_load_env) {
    vtev_conf_t *c = vtev_conf_new();
    setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092", 1);
    setenv("SCHEMA_REGISTRY_URL", "http://alias", 1);
    setenv("VTEV_SCHEMA_REGISTRY_URL", "http://wins", 1);
    setenv("VTEV_SCHEMA_REGISTRY_REQUEST_TIMEOUT_MS", "1234", 1);
    setenv("VTEV_KAFKA_QUEUE_BUFFERING_MAX_MESSAGES", "1000", 1);
    ck_assert_int_eq(vtev_conf_load_env(c, errstr, sizeof(errstr)), VTEV_ERR_OK);
    ck_assert_str_eq(get(c, "bootstrap.servers"), "127.0.0.1:19092");
    ck_assert_str_eq(get(c, "schema.registry.url"), "http://wins");
    ck_assert_str_eq(get(c, "schema.registry.request.timeout.ms"), "1234");
    ck_assert_str_eq(get(c, "kafka.queue.buffering.max.messages"), "1000");

    setenv("VTEV_CONSUMER_RETRY_MAX_ATTEMPTS", "zero", 1);
    ck_assert_int_eq(vtev_conf_load_env(c, errstr, sizeof(errstr)), VTEV_ERR_PARSE);
    ck_assert_str_contains(errstr, "VTEV_CONSUMER_RETRY_MAX_ATTEMPTS");
    ck_assert_str_contains(errstr, "consumer.retry.max.attempts");
    unsetenv("VTEV_CONSUMER_RETRY_MAX_ATTEMPTS");
    setenv("VTEV_KAFKA_NO_SUCH_THING", "1", 1);
    ck_assert_int_eq(vtev_conf_load_env(c, errstr, sizeof(errstr)), VTEV_ERR_PARSE);
    ck_assert_str_contains(errstr, "kafka.no.such.thing");
    vtev_conf_destroy(c);
}
END_TEST

START_TEST(test_dump_redacts_secrets) {
    vtev_conf_t *c = vtev_conf_new();
    const char **arr;
    size_t cnt = 0, i;
    int seen = 0;
    ck_assert_int_eq(vtev_conf_set(c, "basic.auth.user.info", "u:p@ss", errstr, sizeof(errstr)),
                     VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_set(c, "kafka.sasl.password", "hunter2", errstr, sizeof(errstr)),
                     VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_set(c, "client.id", "x", errstr, sizeof(errstr)), VTEV_CONF_OK);
    arr = vtev_conf_dump(c, &cnt);
    ck_assert_uint_eq(cnt, 6);
    for (i = 0; i < cnt; i += 2) {
        ck_assert_str_ne(arr[i + 1], "u:p@ss");
        ck_assert_str_ne(arr[i + 1], "hunter2");
        if (!strcmp(arr[i], "client.id")) {
            ck_assert_str_eq(arr[i + 1], "x");
            seen++;
        }
    }
    ck_assert_int_eq(seen, 1);
    vtev_conf_dump_free(arr, cnt);
    vtev_conf_destroy(c);
    /* every secret: librdkafka's sensitive properties, tokens, key passwords */
    {
        static const char *const secrets[] = {
            "kafka.ssl.key.pem", "kafka.ssl.key.password", "kafka.ssl.keystore.password",
            "kafka.sasl.password", "kafka.sasl.oauthbearer.config", "bearer.auth.token",
            "schema.registry.ssl.key.password", "basic.auth.user.info", NULL};
        c = vtev_conf_new();
        for (i = 0; secrets[i]; i++)
            ck_assert_msg(vtev_conf_set(c, secrets[i], "-----BEGIN PRIVATE KEY----- s3cr3t", errstr, sizeof(errstr)) ==
                              VTEV_CONF_OK, "%s: %s", secrets[i], errstr);
        arr = vtev_conf_dump(c, &cnt);
        ck_assert_ptr_nonnull(arr);
        for (i = 0; i < cnt; i += 2)
            ck_assert_msg(!strstr(arr[i + 1], "s3cr3t"), "%s shown in clear", arr[i]);
        vtev_conf_dump_free(arr, cnt);
        vtev_conf_destroy(c);
    }
}
END_TEST

START_TEST(test_is_set) {
    vtev_conf_t *c = vtev_conf_new();
    ck_assert_int_eq(vtev_conf_is_set(c, "bootstrap.servers"), 0);
    ck_assert_int_eq(vtev_conf_is_set(c, "kafka.linger.ms"), 0);
    ck_assert_int_eq(vtev_conf_is_set(c, "no.such.key"), 0);
    ck_assert_int_eq(vtev_conf_is_set(NULL, "bootstrap.servers"), 0);
    ck_assert_int_eq(vtev_conf_is_set(c, NULL), 0);
    /* set to its default value: still "set" */
    ck_assert_int_eq(vtev_conf_set(c, "bootstrap.servers", "mock://default", errstr, sizeof(errstr)),
                     VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_is_set(c, "bootstrap.servers"), 1);
    ck_assert_int_eq(vtev_conf_set(c, "kafka.linger.ms", "5", errstr, sizeof(errstr)), VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_is_set(c, "kafka.linger.ms"), 1);
    ck_assert_int_eq(vtev_conf_set(c, "bootstrap.servers", NULL, errstr, sizeof(errstr)),
                     VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_is_set(c, "bootstrap.servers"), 0);
    vtev_conf_destroy(c);
}
END_TEST

/* [defects] 6: falling back to the embedded mock:// default must be detectable. */
START_TEST(test_embedded_defaults) {
    vtev_conf_t *c = vtev_conf_new();
    char msg[512];
    /* nothing configured, e.g. a misspelt KAFKA_BOOTSTRAP_SERVER */
    unsetenv("KAFKA_BOOTSTRAP_SERVERS");
    unsetenv("SCHEMA_REGISTRY_URL");
    unsetenv("VTEV_BOOTSTRAP_SERVERS");
    unsetenv("VTEV_SCHEMA_REGISTRY_URL");
    setenv("KAFKA_BOOTSTRAP_SERVER", "127.0.0.1:9092", 1);
    ck_assert_int_eq(vtev_conf_load_env(c, errstr, sizeof(errstr)), VTEV_ERR_OK);
    unsetenv("KAFKA_BOOTSTRAP_SERVER");
    ck_assert_int_eq(vtev_conf_embedded_defaults(c, msg, sizeof(msg)), 2);
    ck_assert_str_contains(msg, "bootstrap.servers");
    ck_assert_str_contains(msg, "schema.registry.url");
    ck_assert_str_contains(msg, "mock://default");
    ck_assert_int_eq(vtev_conf_embedded_defaults(c, NULL, 0), 2);
    /* real brokers, registry left at its default: the registry is reported */
    ck_assert_int_eq(vtev_conf_set(c, "bootstrap.servers", "127.0.0.1:9092", errstr, sizeof(errstr)),
                     VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_embedded_defaults(c, msg, sizeof(msg)), 1);
    ck_assert_str_contains(msg, "schema.registry.url is not configured");
    ck_assert_ptr_null(strstr(msg, "bootstrap.servers"));
    /* both real: nothing */
    ck_assert_int_eq(vtev_conf_set(c, "schema.registry.url", "http://r:8081", errstr, sizeof(errstr)),
                     VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_embedded_defaults(c, msg, sizeof(msg)), 0);
    ck_assert_str_eq(msg, "");
    /* the registry set, the brokers not */
    ck_assert_int_eq(vtev_conf_set(c, "bootstrap.servers", NULL, errstr, sizeof(errstr)), VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_embedded_defaults(c, msg, sizeof(msg)), 1);
    ck_assert_str_contains(msg, "bootstrap.servers is not configured");
    /* mock:// chosen explicitly (either key): silent */
    ck_assert_int_eq(vtev_conf_set(c, "schema.registry.url", "mock://mine", errstr, sizeof(errstr)),
                     VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_embedded_defaults(c, msg, sizeof(msg)), 0);
    ck_assert_int_eq(vtev_conf_set(c, "schema.registry.url", NULL, errstr, sizeof(errstr)), VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_set(c, "bootstrap.servers", "mock://default", errstr, sizeof(errstr)),
                     VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_embedded_defaults(c, msg, sizeof(msg)), 0);
    /* a truncating buffer stays NUL-terminated */
    ck_assert_int_eq(vtev_conf_set(c, "bootstrap.servers", NULL, errstr, sizeof(errstr)), VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_embedded_defaults(c, msg, 8), 2);
    ck_assert_uint_eq(strlen(msg), 7);
    ck_assert_int_eq(vtev_conf_embedded_defaults(NULL, msg, sizeof(msg)), 0);
    vtev_conf_destroy(c);
}
END_TEST

START_TEST(test_errors_and_version) {
    int e;
    ck_assert_str_eq(vtev_err2name(VTEV_ERR_OK), "OK");
    ck_assert_str_eq(vtev_err2name(VTEV_ERR_QUEUE_FULL), "QUEUE_FULL");
    ck_assert_str_eq(vtev_err2str((vtev_err_t)9999), "Unknown error");
    ck_assert_str_eq(vtev_err2name((vtev_err_t)-1), "UNKNOWN");
    for (e = 0; e < VTEV_ERR__END; e++) {
        ck_assert_str_ne(vtev_err2name((vtev_err_t)e), "UNKNOWN");
        ck_assert_str_ne(vtev_err2str((vtev_err_t)e), "Unknown error");
    }
    ck_assert_int_eq(vtev_version(), VTEV_VERSION_NUM);
    ck_assert_str_eq(vtev_version_str(), VTEV_VERSION_STR);
    ck_assert_str_eq(vtev_version_str(), "0.2.0");
    ck_assert_str_eq(vtev_rdkafka_version_str(), vtev_rdkafka_version_str());
    ck_assert_int_gt(strlen(vtev_rdkafka_version_str()), 0);
}
END_TEST

int main(void) {
    Suite *s = suite_create("conf");
    TCase *tc = tcase_create("conf");
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_set_get_and_size_query);
    tcase_add_test(tc, test_unknown_key_named);
    tcase_add_test(tc, test_invalid_values_named);
    tcase_add_test(tc, test_dup_is_deep);
    tcase_add_test(tc, test_load_file);
    tcase_add_test(tc, test_load_file_bad_line_all_or_nothing);
    tcase_add_test(tc, test_load_env);
    tcase_add_test(tc, test_dump_redacts_secrets);
    tcase_add_test(tc, test_is_set);
    tcase_add_test(tc, test_embedded_defaults);
    tcase_add_test(tc, test_errors_and_version);
    suite_add_tcase(s, tc);
    return vtev_test_run(s);
}
