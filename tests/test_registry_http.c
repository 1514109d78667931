/*
 * test_registry_http.c - the Schema Registry client against a real registry
 * (Apicurio from scripts/stack.sh) behind nginx (tests/registry/run_with_nginx.sh):
 * every operation, 409 and a compatible evolution, TLS + mutual TLS + basic
 * auth (wrong CA, wrong password, missing client certificate), bearer token,
 * failover (dead URL, 503 node), outage and recovery, request counting.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <pthread.h>
#include <vtevents/registry.h>

#include "registry_int.h" /* white-box: the connection counter */
#include "testutil.h"

#define REC(fields) \
    "{\"type\":\"record\",\"name\":\"Pos\",\"namespace\":\"vtev.it\",\"fields\":[" fields "]}"
static const char *V1 = REC("{\"name\":\"lat\",\"type\":\"double\"}");
static const char *V2 = REC("{\"name\":\"lat\",\"type\":\"double\"},"
                            "{\"name\":\"src\",\"type\":\"string\",\"default\":\"gps\"}");
static const char *V3 = REC("{\"name\":\"lat\",\"type\":\"double\"},"
                            "{\"name\":\"nodef\",\"type\":\"string\"}");

static char prefix[64];

static void make_prefix(void) {
    snprintf(prefix, sizeof(prefix), "vtev-it-%d-%ld", (int)getpid(), (long)time(NULL));
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A client for url with extra key/value pairs (NULL-terminated). */
static vtev_registry_t *client(const char *url, const char *kv[]) {
    vtev_conf_t *conf = vtev_conf_new();
    char errstr[512];
    vtev_registry_t *reg;
    int i;
    ck_assert_int_eq(vtev_conf_set(conf, "schema.registry.url", url, errstr, sizeof(errstr)),
                     VTEV_CONF_OK);
    for (i = 0; kv && kv[i]; i += 2)
        ck_assert_msg(vtev_conf_set(conf, kv[i], kv[i + 1], errstr, sizeof(errstr)) ==
                          VTEV_CONF_OK,
                      "%s", errstr);
    reg = vtev_registry_new(conf, errstr, sizeof(errstr));
    ck_assert_msg(reg != NULL, "%s", errstr);
    return reg;
}

static uint64_t requests(vtev_registry_t *reg) {
    uint64_t n;
    vtev_registry_stats(reg, &n, NULL, NULL, NULL);
    return n;
}

#define OK(call)                                                            \
    do {                                                                    \
        vtev_err_t e_ = (call);                                             \
        ck_assert_msg(e_ == VTEV_ERR_OK, "%s: %s: %s", #call, vtev_err2name(e_), errstr); \
    } while (0)
#define FAILS(call, code)                                                   \
    do {                                                                    \
        vtev_err_t e_ = (call);                                             \
        ck_assert_msg(e_ == (code), "%s: expected %s, got %s: %s", #call,   \
                      vtev_err2name(code), vtev_err2name(e_), errstr);      \
    } while (0)

START_TEST(test_every_operation) {
    vtev_registry_t *reg = client(getenv("SCHEMA_REGISTRY_URL"), NULL);
    char errstr[1024], subject[128], *schema, **subjects;
    int32_t id1, id2, id;
    int version, ok, *versions, found = 0, deleted;
    size_t n, i;
    vtev_compat_level_t level, global;
    uint64_t before;

    snprintf(subject, sizeof(subject), "%s-ops-value", prefix);
    /* compatibility levels: per subject, and the global one (rewritten
     * unchanged: other suites may share this registry) */
    OK(vtev_registry_get_compatibility(reg, NULL, &global, errstr, sizeof(errstr)));
    OK(vtev_registry_set_compatibility(reg, NULL, global, errstr, sizeof(errstr)));
    OK(vtev_registry_set_compatibility(reg, subject, VTEV_COMPAT_BACKWARD, errstr,
                                       sizeof(errstr)));
    OK(vtev_registry_get_compatibility(reg, subject, &level, errstr, sizeof(errstr)));
    ck_assert_int_eq(level, VTEV_COMPAT_BACKWARD);

    /* register (idempotent) and look up */
    OK(vtev_registry_register(reg, subject, V1, &id1, errstr, sizeof(errstr)));
    vtev_registry_clear_caches(reg);
    OK(vtev_registry_register(reg, subject, V1, &id, errstr, sizeof(errstr)));
    ck_assert_int_eq(id, id1);
    OK(vtev_registry_lookup(reg, subject, V1, &id, &version, errstr, sizeof(errstr)));
    ck_assert_int_eq(id, id1);
    ck_assert_int_eq(version, 1);
    OK(vtev_registry_get_schema(reg, id1, &schema, errstr, sizeof(errstr)));
    ck_assert_str_contains(schema, "\"lat\"");
    vtev_free(schema);

    /* compatibility: a field without default is rejected (409), one with a
     * default is an accepted evolution */
    OK(vtev_registry_test_compatibility(reg, subject, V3, -1, &ok, errstr, sizeof(errstr)));
    ck_assert_int_eq(ok, 0);
    OK(vtev_registry_test_compatibility(reg, subject, V2, -1, &ok, errstr, sizeof(errstr)));
    ck_assert_int_eq(ok, 1);
    OK(vtev_registry_test_compatibility(reg, subject, V3, 1, &ok, errstr, sizeof(errstr)));
    ck_assert_int_eq(ok, 0);
    FAILS(vtev_registry_register(reg, subject, V3, &id, errstr, sizeof(errstr)),
          VTEV_ERR_REGISTRY_INCOMPATIBLE);
    ck_assert_str_contains(errstr, "409");
    fprintf(stderr, "409 message: %s\n", errstr);
    OK(vtev_registry_register(reg, subject, V2, &id2, errstr, sizeof(errstr)));
    ck_assert_int_ne(id1, id2);

    /* versions */
    OK(vtev_registry_get_version(reg, subject, -1, &id, &version, &schema, errstr,
                                 sizeof(errstr)));
    ck_assert_int_eq(id, id2);
    ck_assert_int_eq(version, 2);
    ck_assert_str_contains(schema, "\"src\"");
    vtev_free(schema);
    OK(vtev_registry_get_version(reg, subject, 1, &id, &version, NULL, errstr, sizeof(errstr)));
    ck_assert_int_eq(id, id1);
    OK(vtev_registry_list_versions(reg, subject, &versions, &n, errstr, sizeof(errstr)));
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(versions[0], 1);
    ck_assert_int_eq(versions[1], 2);
    vtev_free(versions);
    OK(vtev_registry_list_subjects(reg, &subjects, &n, errstr, sizeof(errstr)));
    for (i = 0; i < n; i++)
        found += !strcmp(subjects[i], subject);
    ck_assert_int_eq(found, 1);
    vtev_registry_strings_free(subjects, n);

    /* error codes from the real registry */
    FAILS(vtev_registry_get_version(reg, subject, 99, &id, NULL, NULL, errstr, sizeof(errstr)),
          VTEV_ERR_REGISTRY_VERSION_NOT_FOUND);
    ck_assert_str_contains(errstr, "40402");
    FAILS(vtev_registry_lookup(reg, "vtev-it-no-such-subject", V1, &id, NULL, errstr,
                               sizeof(errstr)),
          VTEV_ERR_REGISTRY_SUBJECT_NOT_FOUND);
    ck_assert_str_contains(errstr, "40401");
    FAILS(vtev_registry_lookup(reg, subject, V3, &id, NULL, errstr, sizeof(errstr)),
          VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND);
    FAILS(vtev_registry_get_schema(reg, 2000000000, &schema, errstr, sizeof(errstr)),
          VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND);
    ck_assert_str_contains(errstr, "40403");
    FAILS(vtev_registry_register(reg, subject, "{\"type\":\"record\"", &id, errstr,
                                 sizeof(errstr)),
          VTEV_ERR_REGISTRY_INVALID_SCHEMA);
    ck_assert_str_contains(errstr, "42201");

    /* caching against the real thing: one request per schema */
    before = requests(reg);
    for (i = 0; i < 500; i++) {
        OK(vtev_registry_schema_id_for(reg, subject, V2, &id, errstr, sizeof(errstr)));
        ck_assert_int_eq(id, id2);
        OK(vtev_registry_get_schema(reg, id1, &schema, errstr, sizeof(errstr)));
        vtev_free(schema);
    }
    ck_assert_uint_le(requests(reg) - before, 2);

    /* deletion: version soft then permanent; subject soft then permanent */
    FAILS(vtev_registry_delete_version(reg, subject, 2, 1, &deleted, errstr, sizeof(errstr)),
          VTEV_ERR_REGISTRY);
    ck_assert_str_contains(errstr, "40407");
    OK(vtev_registry_delete_version(reg, subject, 2, 0, &deleted, errstr, sizeof(errstr)));
    ck_assert_int_eq(deleted, 2);
    FAILS(vtev_registry_get_version(reg, subject, 2, &id, NULL, NULL, errstr, sizeof(errstr)),
          VTEV_ERR_REGISTRY_VERSION_NOT_FOUND);
    OK(vtev_registry_delete_version(reg, subject, 2, 1, &deleted, errstr, sizeof(errstr)));
    FAILS(vtev_registry_delete_subject(reg, subject, 1, NULL, NULL, errstr, sizeof(errstr)),
          VTEV_ERR_REGISTRY);
    ck_assert_str_contains(errstr, "40405");
    OK(vtev_registry_delete_subject(reg, subject, 0, &versions, &n, errstr, sizeof(errstr)));
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(versions[0], 1);
    vtev_free(versions);
    FAILS(vtev_registry_list_versions(reg, subject, &versions, &n, errstr, sizeof(errstr)),
          VTEV_ERR_REGISTRY_SUBJECT_NOT_FOUND);
    OK(vtev_registry_delete_subject(reg, subject, 1, NULL, NULL, errstr, sizeof(errstr)));
    OK(vtev_registry_list_subjects(reg, &subjects, &n, errstr, sizeof(errstr)));
    for (i = 0; i < n; i++)
        ck_assert_str_ne(subjects[i], subject);
    vtev_registry_strings_free(subjects, n);
    vtev_registry_destroy(reg);
}
END_TEST

typedef struct {
    vtev_registry_t *reg;
    int32_t id;
    int failures;
} thr_t;

static void *thr_main(void *p) {
    thr_t *t = p;
    char errstr[512], *schema;
    int i;
    for (i = 0; i < 50; i++) {
        vtev_registry_clear_caches(t->reg); /* force a request every time */
        if (vtev_registry_get_schema(t->reg, t->id, &schema, errstr, sizeof(errstr)) ||
            !strstr(schema, "\"lat\""))
            t->failures++;
        vtev_free(schema);
    }
    return NULL;
}

START_TEST(test_connection_reuse_and_threads) {
    vtev_registry_t *reg = client(getenv("SCHEMA_REGISTRY_URL"), NULL);
    char errstr[512], subject[128], *schema;
    int32_t id;
    int i;
    pthread_t th[4];
    thr_t args[4];
    snprintf(subject, sizeof(subject), "%s-reuse-value", prefix);
    OK(vtev_registry_register(reg, subject, V1, &id, errstr, sizeof(errstr)));
    for (i = 0; i < 50; i++) {
        vtev_registry_clear_caches(reg);
        OK(vtev_registry_get_schema(reg, id, &schema, errstr, sizeof(errstr)));
        vtev_free(schema);
    }
    ck_assert_uint_eq(requests(reg), 51);
    /* one pooled handle, one kept-alive connection */
    ck_assert_msg(atomic_load(&reg->connects) <= 2, "%llu connections for 51 requests",
                  (unsigned long long)atomic_load(&reg->connects));
    for (i = 0; i < 4; i++) {
        args[i].reg = reg;
        args[i].id = id;
        args[i].failures = 0;
        ck_assert_int_eq(pthread_create(&th[i], NULL, thr_main, &args[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(args[i].failures, 0);
    }
    fprintf(stderr, "reuse: %llu requests over %llu connections\n",
            (unsigned long long)requests(reg), (unsigned long long)atomic_load(&reg->connects));
    /* at most one connection per concurrently used handle, plus slack */
    ck_assert_uint_le(atomic_load(&reg->connects), 8);
    OK(vtev_registry_delete_subject(reg, subject, 0, NULL, NULL, errstr, sizeof(errstr)));
    OK(vtev_registry_delete_subject(reg, subject, 1, NULL, NULL, errstr, sizeof(errstr)));
    vtev_registry_destroy(reg);
}
END_TEST

START_TEST(test_failover_dead_url) {
    char urls[1024], errstr[1024], subject[128], *schema;
    vtev_registry_t *reg;
    int32_t id;
    uint64_t retries;
    snprintf(urls, sizeof(urls), "%s,%s", getenv("VTEV_TEST_DEAD_URL"),
             getenv("SCHEMA_REGISTRY_URL"));
    reg = client(urls, NULL);
    snprintf(subject, sizeof(subject), "%s-failover-value", prefix);
    OK(vtev_registry_register(reg, subject, V1, &id, errstr, sizeof(errstr)));
    vtev_registry_stats(reg, NULL, NULL, NULL, &retries);
    ck_assert_uint_eq(requests(reg), 2); /* dead, then the live one */
    ck_assert_uint_eq(retries, 1);
    /* the live URL is now preferred: no more detours */
    OK(vtev_registry_get_schema(reg, id, &schema, errstr, sizeof(errstr)));
    vtev_free(schema);
    ck_assert_uint_eq(requests(reg), 3);
    OK(vtev_registry_delete_subject(reg, subject, 0, NULL, NULL, errstr, sizeof(errstr)));
    OK(vtev_registry_delete_subject(reg, subject, 1, NULL, NULL, errstr, sizeof(errstr)));
    vtev_registry_destroy(reg);
}
END_TEST

START_TEST(test_failover_5xx) {
    const char *kv[] = {"schema.registry.max.retries", "1", "schema.registry.retry.backoff.ms",
                        "10", NULL};
    char urls[1024], errstr[1024], *schema;
    vtev_registry_t *reg;
    /* a 503 node first: fails over */
    snprintf(urls, sizeof(urls), "%s,%s", getenv("VTEV_TEST_FAIL_URL"),
             getenv("SCHEMA_REGISTRY_URL"));
    reg = client(urls, kv);
    FAILS(vtev_registry_get_schema(reg, 2000000001, &schema, errstr, sizeof(errstr)),
          VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND); /* answered by the live node */
    ck_assert_uint_eq(requests(reg), 2);
    vtev_registry_destroy(reg);
    /* only 503 nodes: unavailable after 1 + max.retries rounds, never a 4xx error */
    reg = client(getenv("VTEV_TEST_FAIL_URL"), kv);
    FAILS(vtev_registry_get_schema(reg, 1, &schema, errstr, sizeof(errstr)),
          VTEV_ERR_REGISTRY_UNAVAILABLE);
    ck_assert_str_contains(errstr, "503");
    ck_assert_str_contains(errstr, "node in maintenance");
    ck_assert_uint_eq(requests(reg), 2);
    vtev_registry_destroy(reg);
}
END_TEST

static const char **tls_kv(const char *ca, int with_cert, const char *userinfo) {
    static const char *kv[16];
    int i = 0;
    kv[i++] = "schema.registry.ssl.ca.location";
    kv[i++] = ca;
    if (with_cert) {
        kv[i++] = "schema.registry.ssl.certificate.location";
        kv[i++] = getenv("VTEV_TEST_TLS_CERT");
        kv[i++] = "schema.registry.ssl.key.location";
        kv[i++] = getenv("VTEV_TEST_TLS_KEY");
        kv[i++] = "schema.registry.ssl.key.password";
        kv[i++] = getenv("VTEV_TEST_TLS_KEY_PASSWORD");
    }
    if (userinfo) {
        kv[i++] = "basic.auth.user.info";
        kv[i++] = userinfo;
    }
    kv[i++] = "schema.registry.max.retries";
    kv[i++] = "3";
    kv[i] = NULL;
    return kv;
}

START_TEST(test_tls_auth) {
    const char *url = getenv("VTEV_TEST_TLS_URL");
    const char *ca = getenv("VTEV_TEST_TLS_CA"), *wrong_ca = getenv("VTEV_TEST_TLS_WRONG_CA");
    const char *ui = getenv("VTEV_TEST_USERINFO");
    char errstr[1024], subject[128], *schema, bad_ui[256];
    vtev_registry_t *reg;
    int32_t id;
    ck_assert_ptr_nonnull(strchr(ui, '@'));
    ck_assert_ptr_nonnull(strchr(strchr(ui, ':') + 1, ':'));
    ck_assert_ptr_nonnull(strchr(ui, '/'));

    /* the correct setup works */
    reg = client(url, tls_kv(ca, 1, ui));
    snprintf(subject, sizeof(subject), "%s-tls-value", prefix);
    OK(vtev_registry_register(reg, subject, V1, &id, errstr, sizeof(errstr)));
    vtev_registry_clear_caches(reg);
    OK(vtev_registry_get_schema(reg, id, &schema, errstr, sizeof(errstr)));
    vtev_free(schema);
    vtev_registry_destroy(reg);

    /* wrong CA: TLS error naming the CA setting, not retried */
    reg = client(url, tls_kv(wrong_ca, 1, ui));
    FAILS(vtev_registry_get_schema(reg, id, &schema, errstr, sizeof(errstr)),
          VTEV_ERR_REGISTRY_TLS);
    fprintf(stderr, "wrong CA: %s\n", errstr);
    ck_assert_str_contains(errstr, "schema.registry.ssl.ca.location");
    ck_assert_uint_eq(requests(reg), 1);
    vtev_registry_destroy(reg);

    /* wrong password: auth error, not retried */
    snprintf(bad_ui, sizeof(bad_ui), "%s-wrong", ui);
    reg = client(url, tls_kv(ca, 1, bad_ui));
    FAILS(vtev_registry_get_schema(reg, id, &schema, errstr, sizeof(errstr)),
          VTEV_ERR_REGISTRY_AUTH);
    fprintf(stderr, "wrong password: %s\n", errstr);
    ck_assert_str_contains(errstr, "401");
    ck_assert_str_contains(errstr, "basic.auth.user.info");
    ck_assert_ptr_null(strstr(errstr, "S3cr")); /* never echo the secret */
    ck_assert_uint_eq(requests(reg), 1);
    vtev_registry_destroy(reg);

    /* no credentials at all */
    reg = client(url, tls_kv(ca, 1, NULL));
    FAILS(vtev_registry_get_schema(reg, id, &schema, errstr, sizeof(errstr)),
          VTEV_ERR_REGISTRY_AUTH);
    vtev_registry_destroy(reg);

    /* missing client certificate */
    reg = client(url, tls_kv(ca, 0, ui));
    FAILS(vtev_registry_get_schema(reg, id, &schema, errstr, sizeof(errstr)),
          VTEV_ERR_REGISTRY_TLS);
    fprintf(stderr, "no client certificate: %s\n", errstr);
    ck_assert_str_contains(errstr, "client certificate");
    vtev_registry_destroy(reg);

    /* wrong key password: the client's own TLS setup fails clearly */
    {
        const char **kv = tls_kv(ca, 1, ui);
        kv[7] = "not-the-key-password";
        reg = client(url, kv);
        FAILS(vtev_registry_get_schema(reg, id, &schema, errstr, sizeof(errstr)),
              VTEV_ERR_REGISTRY_TLS);
        fprintf(stderr, "wrong key password: %s\n", errstr);
        vtev_registry_destroy(reg);
    }
    /* https to a plain-http port: a handshake failure, reported as TLS */
    {
        const char *kv[] = {"schema.registry.max.retries", "1",
                            "schema.registry.retry.backoff.ms", "10", NULL};
        char https[512];
        snprintf(https, sizeof(https), "https://%s", strstr(getenv("VTEV_TEST_PROXY_URL"), "://") + 3);
        reg = client(https, kv);
        FAILS(vtev_registry_get_schema(reg, id, &schema, errstr, sizeof(errstr)),
              VTEV_ERR_REGISTRY_TLS);
        fprintf(stderr, "https to http port: %s\n", errstr);
        vtev_registry_destroy(reg);
    }
    /* verification off accepts the unknown CA (explicit opt-out only) */
    {
        const char **kv = tls_kv(wrong_ca, 1, ui);
        int k = 0;
        while (kv[k])
            k++;
        kv[k++] = "schema.registry.ssl.verify";
        kv[k++] = "false";
        kv[k] = NULL;
        reg = client(url, kv);
        OK(vtev_registry_get_schema(reg, id, &schema, errstr, sizeof(errstr)));
        vtev_free(schema);
        vtev_registry_destroy(reg);
    }
    /* clean up last: the checks above read the schema by id, which a
     * permanently deleted subject may take with it */
    reg = client(url, tls_kv(ca, 1, ui));
    OK(vtev_registry_delete_subject(reg, subject, 0, NULL, NULL, errstr, sizeof(errstr)));
    OK(vtev_registry_delete_subject(reg, subject, 1, NULL, NULL, errstr, sizeof(errstr)));
    vtev_registry_destroy(reg);
}
END_TEST

START_TEST(test_bearer) {
    const char *url = getenv("VTEV_TEST_BEARER_URL");
    const char *good[] = {"bearer.auth.token", getenv("VTEV_TEST_BEARER_TOKEN"), NULL};
    const char *bad[] = {"bearer.auth.token", "not-the-token", NULL};
    char errstr[1024], **subjects;
    size_t n;
    vtev_registry_t *reg = client(url, good);
    OK(vtev_registry_list_subjects(reg, &subjects, &n, errstr, sizeof(errstr)));
    vtev_registry_strings_free(subjects, n);
    vtev_registry_destroy(reg);
    reg = client(url, bad);
    FAILS(vtev_registry_list_subjects(reg, &subjects, &n, errstr, sizeof(errstr)),
          VTEV_ERR_REGISTRY_AUTH);
    ck_assert_str_contains(errstr, "bearer");
    vtev_registry_destroy(reg);
}
END_TEST

START_TEST(test_outage_and_recovery) {
    /* total budget: 3 attempts x 2 s + backoffs (<= 200 + 400 ms) */
    const char *kv[] = {"schema.registry.max.retries", "2",
                        "schema.registry.retry.backoff.ms", "200",
                        "schema.registry.retry.backoff.max.ms", "400",
                        "schema.registry.connect.timeout.ms", "1000",
                        "schema.registry.request.timeout.ms", "2000", NULL};
    const double budget_s = 3 * 2.0 + 0.6;
    vtev_registry_t *reg = client(getenv("VTEV_TEST_PROXY_URL"), kv);
    char errstr[1024], subject[128], *schema;
    int32_t id, id2;
    uint64_t before;
    double t0, elapsed;
    snprintf(subject, sizeof(subject), "%s-outage-value", prefix);
    OK(vtev_registry_schema_id_for(reg, subject, V1, &id, errstr, sizeof(errstr)));
    OK(vtev_registry_get_schema(reg, id, &schema, errstr, sizeof(errstr)));
    vtev_free(schema);

    ck_assert_int_eq(system(getenv("VTEV_TEST_PROXY_STOP")), 0);
    /* cached schemas keep working */
    before = requests(reg);
    OK(vtev_registry_schema_id_for(reg, subject, V1, &id2, errstr, sizeof(errstr)));
    ck_assert_int_eq(id2, id);
    OK(vtev_registry_get_schema(reg, id, &schema, errstr, sizeof(errstr)));
    vtev_free(schema);
    ck_assert_uint_eq(requests(reg), before);
    /* an uncached call fails after the configured retries, within the budget */
    t0 = now_s();
    FAILS(vtev_registry_schema_id_for(reg, subject, V2, &id2, errstr, sizeof(errstr)),
          VTEV_ERR_REGISTRY_UNAVAILABLE);
    elapsed = now_s() - t0;
    fprintf(stderr, "outage: failed in %.3f s: %s\n", elapsed, errstr);
    ck_assert_uint_eq(requests(reg) - before, 3);
    ck_assert_msg(elapsed < 3 * budget_s, "took %.3f s", elapsed);
    ck_assert_str_contains(errstr, "3 attempt");

    /* restart: it recovers */
    ck_assert_int_eq(system(getenv("VTEV_TEST_PROXY_START")), 0);
    {
        int tries = 0;
        vtev_err_t err;
        while ((err = vtev_registry_schema_id_for(reg, subject, V2, &id2, errstr,
                                                  sizeof(errstr))) ==
                   VTEV_ERR_REGISTRY_UNAVAILABLE &&
               ++tries < 20)
            usleep(250000);
        ck_assert_msg(err == VTEV_ERR_OK, "%s: %s", vtev_err2name(err), errstr);
    }
    ck_assert_int_ne(id2, id);
    OK(vtev_registry_delete_subject(reg, subject, 0, NULL, NULL, errstr, sizeof(errstr)));
    OK(vtev_registry_delete_subject(reg, subject, 1, NULL, NULL, errstr, sizeof(errstr)));
    vtev_registry_destroy(reg);
}
END_TEST

START_TEST(test_timeout_blackhole) {
    /* a listening socket nobody reads: connects succeed, no answer comes, so
     * the request timeout applies to every attempt */
    const char *kv[] = {"schema.registry.max.retries", "1",
                        "schema.registry.retry.backoff.ms", "50",
                        "schema.registry.request.timeout.ms", "500", NULL};
    char errstr[1024], *schema, url[128];
    vtev_registry_t *reg;
    double t0, elapsed;
    int port, fd = vtev_test_blackhole(&port);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    reg = client(url, kv);
    t0 = now_s();
    FAILS(vtev_registry_get_schema(reg, 1, &schema, errstr, sizeof(errstr)),
          VTEV_ERR_REGISTRY_UNAVAILABLE);
    elapsed = now_s() - t0;
    fprintf(stderr, "blackhole: failed in %.3f s: %s\n", elapsed, errstr);
    /* 2 attempts x 0.5 s + <= 50 ms backoff; generous upper bound */
    ck_assert_msg(elapsed >= 0.9 && elapsed < 3 * 1.05, "took %.3f s", elapsed);
    ck_assert_uint_eq(requests(reg), 2);
    ck_assert_str_contains(errstr, "timed out");
    vtev_registry_destroy(reg);
    close(fd);
}
END_TEST

int main(void) {
    Suite *s = suite_create("registry_http");
    TCase *tc;
    vtev_test_require_env("SCHEMA_REGISTRY_URL");
    vtev_test_require_env("VTEV_TEST_TLS_URL");
    make_prefix();
    tc = tcase_create("apicurio");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_every_operation);
    tcase_add_test(tc, test_connection_reuse_and_threads);
    tcase_add_test(tc, test_failover_dead_url);
    tcase_add_test(tc, test_failover_5xx);
    tcase_add_test(tc, test_tls_auth);
    tcase_add_test(tc, test_bearer);
    tcase_add_test(tc, test_timeout_blackhole);
    tcase_add_test(tc, test_outage_and_recovery);
    suite_add_tcase(s, tc);
    return vtev_test_run(s);
}
