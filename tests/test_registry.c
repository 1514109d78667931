/*
 * test_registry.c - the Schema Registry client against the in-process
 * mock:// registry: every operation and error code, strategies, caches (LRU,
 * TTL, request counting), retries on injected 429/5xx, thread safety.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vtevents/registry.h>

#include "registry_int.h"
#include "testutil.h"

#define REC(name, fields) \
    "{\"type\":\"record\",\"name\":\"" name "\",\"namespace\":\"t.ns\",\"fields\":[" fields "]}"
#define F_A_INT "{\"name\":\"a\",\"type\":\"int\"}"
#define F_A_STR "{\"name\":\"a\",\"type\":\"string\"}"
#define F_B_DEF "{\"name\":\"b\",\"type\":\"string\",\"default\":\"x\"}"
#define F_B_NODEF "{\"name\":\"b\",\"type\":\"string\"}"

static const char *S1 = REC("R", F_A_INT);
static const char *S2 = REC("R", F_A_INT "," F_B_DEF);   /* BACKWARD+FORWARD of S1 */
static const char *S3 = REC("R", F_A_INT "," F_B_NODEF); /* not BACKWARD of S1 */
static const char *S4 = REC("R", F_A_STR);               /* incompatible either way */

static int name_seq;

/* A client on a fresh mock registry (unique name) with extra key=value pairs. */
static vtev_registry_t *new_reg_named(char *name, size_t name_size, const char *kv[]) {
    vtev_conf_t *conf = vtev_conf_new();
    char url[128], errstr[512];
    vtev_registry_t *reg;
    int i;
    snprintf(name, name_size, "t%d_%d", (int)getpid(), ++name_seq);
    snprintf(url, sizeof(url), "mock://%s", name);
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

static vtev_registry_t *new_reg(const char *kv[]) {
    char name[64];
    return new_reg_named(name, sizeof(name), kv);
}

/* A second client on the registry called name. */
static vtev_registry_t *new_reg_on(const char *name, const char *kv[]) {
    vtev_conf_t *conf = vtev_conf_new();
    char url[128], errstr[512];
    vtev_registry_t *reg;
    int i;
    snprintf(url, sizeof(url), "mock://%s", name);
    vtev_conf_set(conf, "schema.registry.url", url, NULL, 0);
    for (i = 0; kv && kv[i]; i += 2)
        ck_assert_int_eq(vtev_conf_set(conf, kv[i], kv[i + 1], errstr, sizeof(errstr)),
                         VTEV_CONF_OK);
    reg = vtev_registry_new(conf, errstr, sizeof(errstr));
    ck_assert_msg(reg != NULL, "%s", errstr);
    return reg;
}

static uint64_t requests(vtev_registry_t *reg) {
    uint64_t n;
    vtev_registry_stats(reg, &n, NULL, NULL, NULL);
    return n;
}

START_TEST(test_register_lookup_get) {
    vtev_registry_t *reg = new_reg(NULL);
    char errstr[512], *schema = NULL;
    int32_t id1, id1b, id2, idx;
    int version;
    const char *spaced = "{ \"namespace\" : \"t.ns\", \"type\": \"record\",\n \"name\": \"R\","
                         " \"fields\": [ {\"type\": \"int\", \"name\": \"a\"} ] }";

    ck_assert_int_eq(vtev_registry_register(reg, "s-value", S1, &id1, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_ge(id1, 1);
    /* idempotent, and whitespace/key order do not matter */
    vtev_registry_clear_caches(reg);
    ck_assert_int_eq(vtev_registry_register(reg, "s-value", spaced, &id1b, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(id1, id1b);
    ck_assert_int_eq(vtev_registry_register(reg, "s-value", S2, &id2, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_ne(id1, id2);
    /* the same schema under another subject keeps its id */
    ck_assert_int_eq(vtev_registry_register(reg, "other-value", S2, &idx, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(idx, id2);

    ck_assert_int_eq(vtev_registry_lookup(reg, "s-value", spaced, &idx, &version, errstr,
                                          sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(idx, id1);
    ck_assert_int_eq(version, 1);
    ck_assert_int_eq(vtev_registry_lookup(reg, "s-value", S2, &idx, &version, errstr,
                                          sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(version, 2);

    ck_assert_int_eq(vtev_registry_get_schema(reg, id2, &schema, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_str_eq(schema, S2);
    vtev_free(schema);

    ck_assert_int_eq(vtev_registry_get_version(reg, "s-value", 1, &idx, &version, &schema, errstr,
                                               sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(idx, id1);
    ck_assert_int_eq(version, 1);
    ck_assert_str_eq(schema, S1);
    vtev_free(schema);
    ck_assert_int_eq(vtev_registry_get_version(reg, "s-value", -1, &idx, &version, &schema,
                                               errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(idx, id2);
    ck_assert_int_eq(version, 2);
    vtev_free(schema);
    vtev_registry_destroy(reg);
}
END_TEST

START_TEST(test_lists) {
    vtev_registry_t *reg = new_reg(NULL);
    char errstr[512], **subjects;
    int *versions;
    size_t n, i;
    int32_t id;
    int seen_a = 0, seen_b = 0;
    /* reserved characters, a literal "%2F" (not a slash) and UTF-8 */
    const char *odd = "we ird/sub?ject%2F#+&\xc3\xbc%";
    ck_assert_int_eq(vtev_registry_list_subjects(reg, &subjects, &n, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_uint_eq(n, 0);
    vtev_registry_strings_free(subjects, n);
    vtev_registry_register(reg, "a-value", S1, &id, errstr, sizeof(errstr));
    vtev_registry_register(reg, "a-value", S2, &id, errstr, sizeof(errstr));
    ck_assert_int_eq(vtev_registry_register(reg, odd, S1, &id, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(vtev_registry_list_subjects(reg, &subjects, &n, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_uint_eq(n, 2);
    for (i = 0; i < n; i++) {
        seen_a += !strcmp(subjects[i], "a-value");
        seen_b += !strcmp(subjects[i], odd); /* escaped in the path, decoded by the server */
    }
    ck_assert_int_eq(seen_a + seen_b, 2);
    vtev_registry_strings_free(subjects, n);
    ck_assert_int_eq(vtev_registry_list_versions(reg, "a-value", &versions, &n, errstr,
                                                 sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(versions[0], 1);
    ck_assert_int_eq(versions[1], 2);
    vtev_free(versions);
    ck_assert_int_eq(vtev_registry_list_versions(reg, "nope", &versions, &n, errstr,
                                                 sizeof(errstr)),
                     VTEV_ERR_REGISTRY_SUBJECT_NOT_FOUND);
    ck_assert_str_contains(errstr, "nope");
    vtev_registry_destroy(reg);
}
END_TEST

/* Compatibility compares full names (Avro): a record of the same short name
 * in another namespace is another type; a reader alias of the full name is
 * the same one.  Enums resolve by symbol, with the reader's default. */
START_TEST(test_compat_full_names_and_enums) {
    vtev_registry_t *reg = new_reg(NULL);
    char errstr[512];
    int32_t id;
    const char *a = "{\"type\":\"record\",\"name\":\"Pos\",\"namespace\":\"a\",\"fields\":[]}";
    const char *b = "{\"type\":\"record\",\"name\":\"Pos\",\"namespace\":\"b\",\"fields\":[]}";
    const char *b_alias = "{\"type\":\"record\",\"name\":\"Pos\",\"namespace\":\"b\",\"aliases\":[\"a.Pos\"],"
                          "\"fields\":[]}";
    const char *e1 = "{\"type\":\"enum\",\"name\":\"P\",\"symbols\":[\"low\",\"high\"],\"default\":\"low\"}";
    const char *e2 = "{\"type\":\"enum\",\"name\":\"P\",\"symbols\":[\"high\",\"low\"]}";
    ck_assert_int_eq(vtev_registry_register(reg, "fn-value", a, &id, errstr, sizeof(errstr)), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_registry_register(reg, "fn-value", b, &id, errstr, sizeof(errstr)),
                     VTEV_ERR_REGISTRY_INCOMPATIBLE);
    ck_assert_str_contains(errstr, "a.Pos");
    ck_assert_int_eq(vtev_registry_register(reg, "fn-value", b_alias, &id, errstr, sizeof(errstr)), VTEV_ERR_OK);
    /* BACKWARD: the new schema (reader) reads the old: symbols re-ordered is fine */
    ck_assert_int_eq(vtev_registry_register(reg, "en-value", e1, &id, errstr, sizeof(errstr)), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_registry_register(reg, "en-value", e2, &id, errstr, sizeof(errstr)), VTEV_ERR_OK);
    vtev_registry_destroy(reg);
}
END_TEST

START_TEST(test_error_codes) {
    vtev_registry_t *reg = new_reg(NULL);
    char errstr[512], *schema = NULL;
    int32_t id;
    int version;
    ck_assert_int_eq(vtev_registry_register(reg, "e-value", S1, &id, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    /* 40401 */
    ck_assert_int_eq(vtev_registry_lookup(reg, "missing", S1, &id, &version, errstr,
                                          sizeof(errstr)),
                     VTEV_ERR_REGISTRY_SUBJECT_NOT_FOUND);
    ck_assert_str_contains(errstr, "Subject 'missing' not found");
    ck_assert_str_contains(errstr, "40401");
    ck_assert_int_eq(vtev_registry_get_version(reg, "missing", -1, &id, NULL, NULL, errstr,
                                               sizeof(errstr)),
                     VTEV_ERR_REGISTRY_SUBJECT_NOT_FOUND);
    /* 40402 */
    ck_assert_int_eq(vtev_registry_get_version(reg, "e-value", 7, &id, NULL, NULL, errstr,
                                               sizeof(errstr)),
                     VTEV_ERR_REGISTRY_VERSION_NOT_FOUND);
    ck_assert_str_contains(errstr, "40402");
    /* 40403: unknown id, and a schema the subject does not have */
    ck_assert_int_eq(vtev_registry_get_schema(reg, 99999, &schema, errstr, sizeof(errstr)),
                     VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND);
    ck_assert_ptr_null(schema);
    ck_assert_str_contains(errstr, "40403");
    ck_assert_int_eq(vtev_registry_lookup(reg, "e-value", S2, &id, &version, errstr,
                                          sizeof(errstr)),
                     VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND);
    /* 409 under the default BACKWARD level */
    ck_assert_int_eq(vtev_registry_register(reg, "e-value", S3, &id, errstr, sizeof(errstr)),
                     VTEV_ERR_REGISTRY_INCOMPATIBLE);
    ck_assert_str_contains(errstr, "incompatible");
    ck_assert_str_contains(errstr, " b: "); /* names the field */
    ck_assert_int_eq(vtev_registry_register(reg, "e-value", S4, &id, errstr, sizeof(errstr)),
                     VTEV_ERR_REGISTRY_INCOMPATIBLE);
    /* 42201 */
    ck_assert_int_eq(vtev_registry_register(reg, "e-value", "{\"type\":\"record\"", &id, errstr,
                                            sizeof(errstr)),
                     VTEV_ERR_REGISTRY_INVALID_SCHEMA);
    ck_assert_str_contains(errstr, "42201");
    ck_assert_int_eq(vtev_registry_register(reg, "e-value", "{\"type\":\"nosuchtype\"}", &id,
                                            errstr, sizeof(errstr)),
                     VTEV_ERR_REGISTRY_INVALID_SCHEMA);
    /* bad arguments */
    ck_assert_int_eq(vtev_registry_register(reg, NULL, S1, &id, errstr, sizeof(errstr)),
                     VTEV_ERR_INVALID_ARG);
    ck_assert_int_eq(vtev_registry_get_version(reg, "e-value", 0, &id, NULL, NULL, errstr,
                                               sizeof(errstr)),
                     VTEV_ERR_INVALID_ARG);
    vtev_registry_destroy(reg);
}
END_TEST

START_TEST(test_compat_levels) {
    vtev_registry_t *reg = new_reg(NULL);
    char errstr[512];
    vtev_compat_level_t level;
    int32_t id;
    int ok;
    ck_assert_int_eq(vtev_registry_get_compatibility(reg, NULL, &level, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(level, VTEV_COMPAT_BACKWARD);
    /* a subject without its own level reports the global one */
    ck_assert_int_eq(vtev_registry_get_compatibility(reg, "c-value", &level, errstr,
                                                     sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(level, VTEV_COMPAT_BACKWARD);
    ck_assert_int_eq(vtev_registry_set_compatibility(reg, "c-value", VTEV_COMPAT_FULL, errstr,
                                                     sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(vtev_registry_get_compatibility(reg, "c-value", &level, errstr,
                                                     sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(level, VTEV_COMPAT_FULL);
    ck_assert_int_eq(vtev_registry_get_compatibility(reg, NULL, &level, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(level, VTEV_COMPAT_BACKWARD);
    ck_assert_int_eq(vtev_registry_set_compatibility(reg, NULL, (vtev_compat_level_t)42, errstr,
                                                     sizeof(errstr)),
                     VTEV_ERR_INVALID_ARG);

    ck_assert_int_eq(vtev_registry_register(reg, "c-value", S1, &id, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(vtev_registry_test_compatibility(reg, "c-value", S2, -1, &ok, errstr,
                                                      sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(ok, 1);
    ck_assert_int_eq(vtev_registry_test_compatibility(reg, "c-value", S3, -1, &ok, errstr,
                                                      sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(ok, 0);
    ck_assert_str_contains(errstr, "b");
    ck_assert_int_eq(vtev_registry_test_compatibility(reg, "c-value", S2, 1, &ok, errstr,
                                                      sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(ok, 1);
    ck_assert_int_eq(vtev_registry_test_compatibility(reg, "c-value", S2, 5, &ok, errstr,
                                                      sizeof(errstr)),
                     VTEV_ERR_REGISTRY_VERSION_NOT_FOUND);
    ck_assert_int_eq(vtev_registry_test_compatibility(reg, "nope", S2, -1, &ok, errstr,
                                                      sizeof(errstr)),
                     VTEV_ERR_REGISTRY_SUBJECT_NOT_FOUND);
    /* FULL: S2 (adds a defaulted field) is fine; S3 is not */
    ck_assert_int_eq(vtev_registry_register(reg, "c-value", S3, &id, errstr, sizeof(errstr)),
                     VTEV_ERR_REGISTRY_INCOMPATIBLE);
    ck_assert_int_eq(vtev_registry_register(reg, "c-value", S2, &id, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    /* NONE accepts anything */
    ck_assert_int_eq(vtev_registry_set_compatibility(reg, "c-value", VTEV_COMPAT_NONE, errstr,
                                                     sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(vtev_registry_register(reg, "c-value", S4, &id, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    vtev_registry_destroy(reg);
}
END_TEST

/* Checks one level: v1 then v2 registered, whether v2 is accepted. */
static void check_level(vtev_compat_level_t level, const char *v1, const char *v2, int expect) {
    vtev_registry_t *reg = new_reg(NULL);
    char errstr[512];
    int32_t id;
    ck_assert_int_eq(vtev_registry_set_compatibility(reg, "l-value", level, errstr,
                                                     sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(vtev_registry_register(reg, "l-value", v1, &id, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_msg((vtev_registry_register(reg, "l-value", v2, &id, errstr, sizeof(errstr)) ==
                   VTEV_ERR_OK) == expect,
                  "level %s: expected %s (%s)", vtev_compat_level_name(level),
                  expect ? "accepted" : "rejected", errstr);
    vtev_registry_destroy(reg);
}

START_TEST(test_compat_rules) {
    const char *no_b = REC("R", F_A_INT "," F_B_NODEF);
    const char *promo = REC("R", "{\"name\":\"a\",\"type\":\"long\"}");
    const char *other_name = REC("Q", F_A_INT);
    const char *opt = REC("R", F_A_INT ",{\"name\":\"o\",\"type\":[\"null\",\"string\"],"
                               "\"default\":null}");
    /* BACKWARD: new reads old */
    check_level(VTEV_COMPAT_BACKWARD, S1, S2, 1);
    check_level(VTEV_COMPAT_BACKWARD, S1, opt, 1);
    check_level(VTEV_COMPAT_BACKWARD, S1, no_b, 0);
    check_level(VTEV_COMPAT_BACKWARD, S1, promo, 1);   /* int -> long */
    check_level(VTEV_COMPAT_BACKWARD, promo, S1, 0);   /* long -> int */
    check_level(VTEV_COMPAT_BACKWARD, S1, other_name, 0);
    check_level(VTEV_COMPAT_BACKWARD, no_b, S1, 1);    /* removing a field */
    /* FORWARD: old reads new */
    check_level(VTEV_COMPAT_FORWARD, S1, no_b, 1);
    check_level(VTEV_COMPAT_FORWARD, no_b, S1, 0);
    check_level(VTEV_COMPAT_FORWARD, promo, S1, 1);
    /* FULL */
    check_level(VTEV_COMPAT_FULL, S1, S2, 1);
    check_level(VTEV_COMPAT_FULL, S1, no_b, 0);
    check_level(VTEV_COMPAT_FULL, S1, promo, 0);
    check_level(VTEV_COMPAT_NONE, S1, S4, 1);
}
END_TEST

START_TEST(test_compat_transitive) {
    /* v1 {f:int}; v2 {} ; v3 {f:string default}: v3 reads v2, not v1 */
    const char *v1 = REC("T", "{\"name\":\"f\",\"type\":\"int\"}");
    const char *v2 = REC("T", "");
    const char *v3 = REC("T", "{\"name\":\"f\",\"type\":\"string\",\"default\":\"\"}");
    vtev_compat_level_t levels[2] = {VTEV_COMPAT_BACKWARD, VTEV_COMPAT_BACKWARD_TRANSITIVE};
    int i;
    for (i = 0; i < 2; i++) {
        vtev_registry_t *reg = new_reg(NULL);
        char errstr[512];
        int32_t id;
        int ok;
        ck_assert_int_eq(vtev_registry_set_compatibility(reg, NULL, levels[i], errstr,
                                                         sizeof(errstr)),
                         VTEV_ERR_OK);
        ck_assert_int_eq(vtev_registry_register(reg, "x", v1, &id, errstr, sizeof(errstr)),
                         VTEV_ERR_OK);
        ck_assert_int_eq(vtev_registry_register(reg, "x", v2, &id, errstr, sizeof(errstr)),
                         VTEV_ERR_OK);
        ck_assert_int_eq(vtev_registry_test_compatibility(reg, "x", v3, -1, &ok, errstr,
                                                          sizeof(errstr)),
                         VTEV_ERR_OK);
        ck_assert_int_eq(ok, i == 0);
        ck_assert_int_eq(vtev_registry_register(reg, "x", v3, &id, errstr, sizeof(errstr)),
                         i == 0 ? VTEV_ERR_OK : VTEV_ERR_REGISTRY_INCOMPATIBLE);
        vtev_registry_destroy(reg);
    }
}
END_TEST

START_TEST(test_delete) {
    vtev_registry_t *reg = new_reg(NULL);
    char errstr[512], *schema, **subjects;
    int32_t id1, id2, id;
    int deleted, version, *versions;
    size_t n;
    ck_assert_int_eq(vtev_registry_register(reg, "d-value", S1, &id1, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(vtev_registry_register(reg, "d-value", S2, &id2, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    /* warm the caches, then delete: the client must not serve stale data */
    ck_assert_int_eq(vtev_registry_get_version(reg, "d-value", 2, &id, NULL, NULL, errstr,
                                               sizeof(errstr)),
                     VTEV_ERR_OK);
    /* permanent before soft: refused */
    ck_assert_int_eq(vtev_registry_delete_version(reg, "d-value", 2, 1, &deleted, errstr,
                                                  sizeof(errstr)),
                     VTEV_ERR_REGISTRY);
    ck_assert_str_contains(errstr, "40407");
    ck_assert_int_eq(vtev_registry_delete_version(reg, "d-value", 2, 0, &deleted, errstr,
                                                  sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(deleted, 2);
    ck_assert_int_eq(vtev_registry_get_version(reg, "d-value", 2, &id, NULL, NULL, errstr,
                                               sizeof(errstr)),
                     VTEV_ERR_REGISTRY_VERSION_NOT_FOUND);
    ck_assert_int_eq(vtev_registry_get_version(reg, "d-value", -1, &id, &version, NULL, errstr,
                                               sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(version, 1);
    /* ids stay readable after a soft delete */
    ck_assert_int_eq(vtev_registry_get_schema(reg, id2, &schema, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    vtev_free(schema);
    ck_assert_int_eq(vtev_registry_delete_version(reg, "d-value", 2, 1, &deleted, errstr,
                                                  sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(vtev_registry_delete_version(reg, "d-value", 2, 0, &deleted, errstr,
                                                  sizeof(errstr)),
                     VTEV_ERR_REGISTRY_VERSION_NOT_FOUND);
    /* subject: permanent before soft refused (40405), then soft, then permanent */
    ck_assert_int_eq(vtev_registry_delete_subject(reg, "d-value", 1, NULL, NULL, errstr,
                                                  sizeof(errstr)),
                     VTEV_ERR_REGISTRY);
    ck_assert_str_contains(errstr, "40405");
    ck_assert_int_eq(vtev_registry_delete_subject(reg, "d-value", 0, &versions, &n, errstr,
                                                  sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(versions[0], 1);
    vtev_free(versions);
    ck_assert_int_eq(vtev_registry_list_subjects(reg, &subjects, &n, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_uint_eq(n, 0);
    vtev_registry_strings_free(subjects, n);
    ck_assert_int_eq(vtev_registry_lookup(reg, "d-value", S1, &id, NULL, errstr, sizeof(errstr)),
                     VTEV_ERR_REGISTRY_SUBJECT_NOT_FOUND);
    ck_assert_int_eq(vtev_registry_delete_subject(reg, "d-value", 0, NULL, NULL, errstr,
                                                  sizeof(errstr)),
                     VTEV_ERR_REGISTRY_SUBJECT_NOT_FOUND);
    ck_assert_int_eq(vtev_registry_delete_subject(reg, "d-value", 1, NULL, NULL, errstr,
                                                  sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(vtev_registry_delete_subject(reg, "d-value", 1, NULL, NULL, errstr,
                                                  sizeof(errstr)),
                     VTEV_ERR_REGISTRY_SUBJECT_NOT_FOUND);
    /* after a permanent delete the subject starts again at version 1, same id */
    ck_assert_int_eq(vtev_registry_register(reg, "d-value", S1, &id, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(id, id1);
    ck_assert_int_eq(vtev_registry_lookup(reg, "d-value", S1, &id, &version, errstr,
                                          sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(version, 1);
    vtev_registry_destroy(reg);
}
END_TEST

START_TEST(test_strategies) {
    const char *topic_kv[] = {"subject.name.strategy", "topic", NULL};
    const char *rec_kv[] = {"subject.name.strategy", "record", NULL};
    const char *tr_kv[] = {"subject.name.strategy", "topic-record", NULL};
    vtev_registry_t *reg;
    char out[128], small[8];
    reg = new_reg(NULL); /* default: topic */
    ck_assert_int_eq(vtev_registry_subject_name(reg, "vessel-position-updates", "a.B", out,
                                                sizeof(out)),
                     VTEV_ERR_OK);
    ck_assert_str_eq(out, "vessel-position-updates-value");
    ck_assert_int_eq(vtev_registry_subject_name(reg, "t", NULL, out, sizeof(out)), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_registry_subject_name(reg, NULL, "a.B", out, sizeof(out)),
                     VTEV_ERR_INVALID_ARG);
    ck_assert_int_eq(vtev_registry_subject_name(reg, "long-topic", NULL, small, sizeof(small)),
                     VTEV_ERR_INVALID_ARG);
    ck_assert_str_eq(small, "");
    vtev_registry_destroy(reg);
    reg = new_reg(topic_kv);
    ck_assert_int_eq(vtev_registry_subject_name(reg, "t", "a.B", out, sizeof(out)), VTEV_ERR_OK);
    ck_assert_str_eq(out, "t-value");
    vtev_registry_destroy(reg);
    reg = new_reg(rec_kv);
    ck_assert_int_eq(vtev_registry_subject_name(reg, "t", "vt.events.VesselPositionUpdated", out,
                                                sizeof(out)),
                     VTEV_ERR_OK);
    ck_assert_str_eq(out, "vt.events.VesselPositionUpdated");
    ck_assert_int_eq(vtev_registry_subject_name(reg, "t", NULL, out, sizeof(out)),
                     VTEV_ERR_INVALID_ARG);
    vtev_registry_destroy(reg);
    reg = new_reg(tr_kv);
    ck_assert_int_eq(vtev_registry_subject_name(reg, "t", "a.B", out, sizeof(out)), VTEV_ERR_OK);
    ck_assert_str_eq(out, "t-a.B");
    ck_assert_int_eq(vtev_registry_subject_name(reg, NULL, "a.B", out, sizeof(out)),
                     VTEV_ERR_INVALID_ARG);
    vtev_registry_destroy(reg);
}
END_TEST

START_TEST(test_schema_id_for_modes) {
    const char *noauto_kv[] = {"auto.register.schemas", "false", NULL};
    const char *latest_kv[] = {"use.latest.version", "true", "auto.register.schemas", "false",
                               NULL};
    char name[64], errstr[512];
    vtev_registry_t *reg = new_reg_named(name, sizeof(name), NULL), *r2;
    int32_t id1, id2, id;
    /* auto.register (default): registers */
    ck_assert_int_eq(vtev_registry_schema_id_for(reg, "m-value", S1, &id1, errstr,
                                                 sizeof(errstr)),
                     VTEV_ERR_OK);
    /* no auto-register: lookup only */
    r2 = new_reg_on(name, noauto_kv);
    ck_assert_int_eq(vtev_registry_schema_id_for(r2, "m-value", S1, &id, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(id, id1);
    ck_assert_int_eq(vtev_registry_schema_id_for(r2, "m-value", S2, &id, errstr, sizeof(errstr)),
                     VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND);
    ck_assert_int_eq(vtev_registry_schema_id_for(r2, "other", S1, &id, errstr, sizeof(errstr)),
                     VTEV_ERR_REGISTRY_SUBJECT_NOT_FOUND);
    vtev_registry_destroy(r2);
    /* use.latest.version: the latest id whatever the writer schema */
    ck_assert_int_eq(vtev_registry_register(reg, "m-value", S2, &id2, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    r2 = new_reg_on(name, latest_kv);
    ck_assert_int_eq(vtev_registry_schema_id_for(r2, "m-value", S1, &id, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(id, id2);
    vtev_registry_destroy(r2);
    vtev_registry_destroy(reg);
}
END_TEST

START_TEST(test_one_request_per_schema) {
    vtev_registry_t *reg = new_reg(NULL);
    char errstr[512], *schema;
    int32_t id1, id2, id;
    uint64_t hits, misses;
    int i;
    ck_assert_uint_eq(requests(reg), 0);
    for (i = 0; i < 1000; i++) { /* a producer publishing 1000 messages of 2 types */
        ck_assert_int_eq(vtev_registry_schema_id_for(reg, "p-value", S1, &id, errstr,
                                                     sizeof(errstr)),
                         VTEV_ERR_OK);
        if (i == 0)
            id1 = id;
        ck_assert_int_eq(id, id1);
        ck_assert_int_eq(vtev_registry_schema_id_for(reg, "q-value", S4, &id2, errstr,
                                                     sizeof(errstr)),
                         VTEV_ERR_OK);
    }
    ck_assert_uint_eq(requests(reg), 2);
    for (i = 0; i < 1000; i++) { /* a consumer reading 1000 messages */
        ck_assert_int_eq(vtev_registry_get_schema(reg, i % 2 ? id1 : id2, &schema, errstr,
                                                  sizeof(errstr)),
                         VTEV_ERR_OK);
        ck_assert_str_eq(schema, i % 2 ? S1 : S4);
        vtev_free(schema);
    }
    ck_assert_uint_eq(requests(reg), 4);
    vtev_registry_stats(reg, NULL, &hits, &misses, NULL);
    ck_assert_uint_eq(misses, 4);
    ck_assert_uint_eq(hits, 2996);
    /* lookups too */
    for (i = 0; i < 100; i++)
        ck_assert_int_eq(vtev_registry_lookup(reg, "p-value", S1, &id, NULL, errstr,
                                              sizeof(errstr)),
                         VTEV_ERR_OK);
    ck_assert_uint_eq(requests(reg), 4); /* register already cached (subject, schema) */
    vtev_registry_destroy(reg);
}
END_TEST

START_TEST(test_lru_eviction) {
    const char *kv[] = {"schema.registry.cache.capacity", "2", NULL};
    vtev_registry_t *reg = new_reg(kv);
    char errstr[512], *schema;
    int32_t ids[3];
    const char *s[3];
    int i;
    s[0] = S1;
    s[1] = S4;
    s[2] = "\"string\"";
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(vtev_registry_register(reg, i == 2 ? "z" : i ? "y" : "x", s[i], &ids[i],
                                                errstr, sizeof(errstr)),
                         VTEV_ERR_OK);
    vtev_registry_clear_caches(reg);
#define GET(k) ck_assert_int_eq(vtev_registry_get_schema(reg, ids[k], &schema, errstr, \
                                                         sizeof(errstr)), VTEV_ERR_OK); \
    ck_assert_str_eq(schema, s[k]); vtev_free(schema)
    GET(0);
    GET(1);
    ck_assert_uint_eq(requests(reg), 5);
    GET(0); /* hit; 0 becomes most recent */
    ck_assert_uint_eq(requests(reg), 5);
    GET(2); /* evicts 1 (least recently used) */
    ck_assert_uint_eq(requests(reg), 6);
    GET(0); /* still cached */
    ck_assert_uint_eq(requests(reg), 6);
    GET(1); /* was evicted */
    ck_assert_uint_eq(requests(reg), 7);
#undef GET
    vtev_registry_destroy(reg);
}
END_TEST

START_TEST(test_cache_unit) {
    vtev__cache_t *c = vtev__cache_new(3, 0), *t;
    int32_t id;
    int v;
    char *str;
    ck_assert_int_eq(vtev__cache_put(c, "a", 1, 1, "A"), 0);
    ck_assert_int_eq(vtev__cache_put(c, "b", 2, 2, NULL), 0);
    ck_assert_int_eq(vtev__cache_put(c, "c", 3, 3, "C"), 0);
    ck_assert_int_eq(vtev__cache_get(c, "a", &id, &v, &str), 1);
    ck_assert_int_eq(id, 1);
    ck_assert_str_eq(str, "A");
    free(str);
    ck_assert_int_eq(vtev__cache_put(c, "d", 4, 4, "D"), 0); /* evicts b */
    ck_assert_uint_eq(vtev__cache_count(c), 3);
    ck_assert_uint_eq(vtev__cache_evictions(c), 1);
    ck_assert_int_eq(vtev__cache_get(c, "b", &id, &v, NULL), 0);
    ck_assert_int_eq(vtev__cache_get(c, "c", &id, &v, NULL), 1);
    ck_assert_int_eq(vtev__cache_put(c, "c", 30, 3, "C2"), 0); /* replace */
    ck_assert_int_eq(vtev__cache_get(c, "c", &id, &v, &str), 1);
    ck_assert_int_eq(id, 30);
    ck_assert_str_eq(str, "C2");
    free(str);
    vtev__cache_remove_prefix(c, "c");
    ck_assert_int_eq(vtev__cache_get(c, "c", &id, &v, NULL), 0);
    ck_assert_uint_eq(vtev__cache_count(c), 2);
    vtev__cache_destroy(c);
    /* TTL */
    t = vtev__cache_new(10, 100000); /* 100 ms */
    ck_assert_int_eq(vtev__cache_put(t, "k", 7, 1, NULL), 0);
    ck_assert_int_eq(vtev__cache_get(t, "k", &id, NULL, NULL), 1);
    usleep(150000);
    ck_assert_int_eq(vtev__cache_get(t, "k", &id, NULL, NULL), 0);
    ck_assert_uint_eq(vtev__cache_count(t), 0);
    vtev__cache_destroy(t);
    /* many entries: the table grows and stays consistent */
    c = vtev__cache_new(5000, 0);
    for (v = 0; v < 20000; v++) {
        char k[16];
        snprintf(k, sizeof(k), "k%d", v);
        ck_assert_int_eq(vtev__cache_put(c, k, v, v, NULL), 0);
    }
    ck_assert_uint_eq(vtev__cache_count(c), 5000);
    ck_assert_int_eq(vtev__cache_get(c, "k19999", &id, NULL, NULL), 1);
    ck_assert_int_eq(id, 19999);
    ck_assert_int_eq(vtev__cache_get(c, "k14999", &id, NULL, NULL), 0);
    vtev__cache_destroy(c);
}
END_TEST

START_TEST(test_latest_ttl) {
    const char *kv[] = {"schema.registry.latest.cache.ttl.sec", "1", NULL};
    char name[64], errstr[512];
    vtev_registry_t *reader = new_reg_named(name, sizeof(name), kv), *writer;
    int32_t id1, id2, id;
    int version;
    writer = new_reg_on(name, NULL);
    ck_assert_int_eq(vtev_registry_register(writer, "ttl-value", S1, &id1, errstr,
                                            sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(vtev_registry_get_version(reader, "ttl-value", -1, &id, &version, NULL,
                                               errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(id, id1);
    ck_assert_int_eq(vtev_registry_register(writer, "ttl-value", S2, &id2, errstr,
                                            sizeof(errstr)),
                     VTEV_ERR_OK);
    /* within the TTL: the cached latest, no request */
    ck_assert_int_eq(vtev_registry_get_version(reader, "ttl-value", -1, &id, &version, NULL,
                                               errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(id, id1);
    ck_assert_uint_eq(requests(reader), 1);
    usleep(1100000);
    ck_assert_int_eq(vtev_registry_get_version(reader, "ttl-value", -1, &id, &version, NULL,
                                               errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(id, id2);
    ck_assert_int_eq(version, 2);
    ck_assert_uint_eq(requests(reader), 2);
    vtev_registry_destroy(writer);
    vtev_registry_destroy(reader);
}
END_TEST

START_TEST(test_retries_injected) {
    const char *kv[] = {"schema.registry.max.retries", "2", NULL};
    char name[64], errstr[512], *schema;
    vtev_registry_t *reg = new_reg_named(name, sizeof(name), kv);
    int32_t id;
    uint64_t retries;
    /* two 503s then success: retried */
    vtev__mock_registry_inject(name, 2, 503);
    ck_assert_int_eq(vtev_registry_register(reg, "r-value", S1, &id, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_uint_eq(requests(reg), 3);
    vtev_registry_stats(reg, NULL, NULL, NULL, &retries);
    ck_assert_uint_eq(retries, 2);
    /* 429 is retried too */
    vtev__mock_registry_inject(name, 1, 429);
    ck_assert_int_eq(vtev_registry_get_schema(reg, 12345, &schema, errstr, sizeof(errstr)),
                     VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND);
    ck_assert_uint_eq(requests(reg), 5);
    /* 4xx is never retried */
    ck_assert_int_eq(vtev_registry_get_schema(reg, 12346, &schema, errstr, sizeof(errstr)),
                     VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND);
    ck_assert_uint_eq(requests(reg), 6);
    /* 401 and 403: authentication errors, never retried */
    vtev__mock_registry_inject(name, 1, 401);
    ck_assert_int_eq(vtev_registry_get_schema(reg, 12346, &schema, errstr, sizeof(errstr)),
                     VTEV_ERR_REGISTRY_AUTH);
    ck_assert_str_contains(errstr, "HTTP 401");
    ck_assert_uint_eq(requests(reg), 7);
    vtev__mock_registry_inject(name, 1, 403);
    ck_assert_int_eq(vtev_registry_get_schema(reg, 12346, &schema, errstr, sizeof(errstr)),
                     VTEV_ERR_REGISTRY_AUTH);
    ck_assert_uint_eq(requests(reg), 8);
    /* another 4xx without a known error code: generic registry error, not retried */
    vtev__mock_registry_inject(name, 1, 400);
    ck_assert_int_eq(vtev_registry_get_schema(reg, 12346, &schema, errstr, sizeof(errstr)),
                     VTEV_ERR_REGISTRY);
    ck_assert_str_contains(errstr, "injected failure");
    ck_assert_uint_eq(requests(reg), 9);
    /* persistent 5xx: unavailable after 1 + max.retries attempts */
    vtev__mock_registry_inject(name, 100, 500);
    ck_assert_int_eq(vtev_registry_get_schema(reg, 12347, &schema, errstr, sizeof(errstr)),
                     VTEV_ERR_REGISTRY_UNAVAILABLE);
    ck_assert_str_contains(errstr, "HTTP 500");
    ck_assert_uint_eq(requests(reg), 12);
    /* cached data keeps working during the outage */
    ck_assert_int_eq(vtev_registry_get_schema(reg, id, &schema, errstr, sizeof(errstr)),
                     VTEV_ERR_REGISTRY_UNAVAILABLE); /* never fetched by id: not cached */
    ck_assert_int_eq(vtev_registry_register(reg, "r-value", S1, &id, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);                    /* cached by register */
    vtev__mock_registry_inject(name, 0, 0);
    ck_assert_int_eq(vtev_registry_get_schema(reg, id, &schema, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_str_eq(schema, S1);
    vtev_free(schema);
    vtev_registry_destroy(reg);
}
END_TEST

typedef struct {
    vtev_registry_t *reg;
    int32_t ids[4];
    int failures;
} thr_arg_t;

static const char *thr_schemas[4];

static void *thr_main(void *p) {
    thr_arg_t *a = p;
    char errstr[256], *schema;
    int i;
    for (i = 0; i < 400; i++) {
        int k = i % 4;
        int32_t id;
        char subject[32];
        snprintf(subject, sizeof(subject), "th%d-value", k);
        if (vtev_registry_schema_id_for(a->reg, subject, thr_schemas[k], &id, errstr,
                                        sizeof(errstr)) != VTEV_ERR_OK ||
            id != a->ids[k])
            a->failures++;
        if (vtev_registry_get_schema(a->reg, a->ids[k], &schema, errstr, sizeof(errstr)) !=
                VTEV_ERR_OK ||
            strcmp(schema, thr_schemas[k]))
            a->failures++;
        vtev_free(schema);
        if (i % 50 == 0)
            vtev_registry_clear_caches(a->reg);
    }
    return NULL;
}

START_TEST(test_threads) {
    vtev_registry_t *reg = new_reg(NULL);
    pthread_t th[8];
    thr_arg_t args[8];
    char errstr[256];
    int32_t ids[4];
    int i, k;
    thr_schemas[0] = S1;
    thr_schemas[1] = S2;
    thr_schemas[2] = S4;
    thr_schemas[3] = "\"long\"";
    for (k = 0; k < 4; k++) {
        char subject[32];
        snprintf(subject, sizeof(subject), "th%d-value", k);
        ck_assert_int_eq(vtev_registry_register(reg, subject, thr_schemas[k], &ids[k], errstr,
                                                sizeof(errstr)),
                         VTEV_ERR_OK);
    }
    for (i = 0; i < 8; i++) {
        args[i].reg = reg;
        memcpy(args[i].ids, ids, sizeof(ids));
        args[i].failures = 0;
        ck_assert_int_eq(pthread_create(&th[i], NULL, thr_main, &args[i]), 0);
    }
    for (i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(args[i].failures, 0);
    }
    /* caches were cleared 8 times per thread: far fewer requests than calls */
    ck_assert_uint_lt(requests(reg), 8 * 800 / 4);
    vtev_registry_destroy(reg);
}
END_TEST

START_TEST(test_new_errors) {
    vtev_conf_t *conf = vtev_conf_new();
    char errstr[512];
    vtev_registry_t *reg;
    ck_assert_ptr_null(vtev_registry_new(NULL, errstr, sizeof(errstr)));
    vtev_conf_set(conf, "schema.registry.url", "ftp://x", NULL, 0);
    ck_assert_ptr_null(vtev_registry_new(conf, errstr, sizeof(errstr)));
    ck_assert_str_contains(errstr, "schema.registry.url");
    vtev_conf_set(conf, "schema.registry.url", "http://user:secret@localhost:1", NULL, 0);
    ck_assert_ptr_null(vtev_registry_new(conf, errstr, sizeof(errstr)));
    ck_assert_str_contains(errstr, "basic.auth.user.info");
    ck_assert_ptr_null(strstr(errstr, "secret"));
    vtev_conf_set(conf, "schema.registry.url", "mock://a,http://localhost:1", NULL, 0);
    ck_assert_ptr_null(vtev_registry_new(conf, errstr, sizeof(errstr)));
    vtev_conf_set(conf, "schema.registry.url", "http://localhost:1", NULL, 0);
    vtev_conf_set(conf, "schema.registry.ssl.ca.location", "/nonexistent/ca.pem", NULL, 0);
    ck_assert_ptr_null(vtev_registry_new(conf, errstr, sizeof(errstr)));
    ck_assert_str_contains(errstr, "schema.registry.ssl.ca.location");
    vtev_conf_set(conf, "schema.registry.ssl.ca.location", NULL, NULL, 0);
    vtev_conf_set(conf, "basic.auth.user.info", "nocolon", NULL, 0);
    ck_assert_ptr_null(vtev_registry_new(conf, errstr, sizeof(errstr)));
    ck_assert_str_contains(errstr, "basic.auth.user.info");
    /* the conf is still the caller's after failures; success takes it */
    vtev_conf_set(conf, "basic.auth.user.info", "u:p@:/x", NULL, 0);
    vtev_conf_set(conf, "schema.registry.url", " http://127.0.0.1:1/ , http://127.0.0.1:2", NULL,
                  0);
    reg = vtev_registry_new(conf, errstr, sizeof(errstr));
    ck_assert_msg(reg != NULL, "%s", errstr);
    vtev_registry_destroy(reg);
    vtev_registry_destroy(NULL);
}
END_TEST

START_TEST(test_level_names) {
    vtev_compat_level_t l;
    int i;
    for (i = 0; i < VTEV_COMPAT__CNT; i++) {
        ck_assert_int_eq(vtev_compat_level_parse(vtev_compat_level_name((vtev_compat_level_t)i),
                                                 &l),
                         VTEV_ERR_OK);
        ck_assert_int_eq((int)l, i);
    }
    ck_assert_int_eq(vtev_compat_level_parse("full_transitive", &l), VTEV_ERR_OK);
    ck_assert_int_eq(l, VTEV_COMPAT_FULL_TRANSITIVE);
    ck_assert_int_eq(vtev_compat_level_parse("sideways", &l), VTEV_ERR_INVALID_ARG);
    ck_assert_str_eq(vtev_compat_level_name((vtev_compat_level_t)99), "UNKNOWN");
}
END_TEST

START_TEST(test_call_time_bound_dead_urls) {
    /* 8 URLs that never answer: 8 x (1 + 3 retries) attempts of 400 ms would
     * hold the caller 12.8 s; schema.registry.call.timeout.ms bounds the
     * whole call, so at most 1000 / 400 (+1 for rounding) attempts fit: each
     * waits its full share, a slow machine fits fewer, never more. */
    char urls[8 * 40] = "", errstr[1024], *schema = NULL;
    const char *kv[] = {"schema.registry.url", urls,
                        "schema.registry.request.timeout.ms", "400",
                        "schema.registry.max.retries", "3",
                        "schema.registry.retry.backoff.ms", "10",
                        "schema.registry.call.timeout.ms", "1000", NULL};
    vtev_conf_t *conf = vtev_conf_new();
    vtev_registry_t *reg;
    int fds[8], i, port;
    uint64_t n;
    for (i = 0; i < 8; i++) {
        size_t off = strlen(urls);
        fds[i] = vtev_test_blackhole(&port);
        snprintf(urls + off, sizeof(urls) - off, "%shttp://127.0.0.1:%d", i ? "," : "", port);
    }
    for (i = 0; kv[i]; i += 2)
        ck_assert_msg(vtev_conf_set(conf, kv[i], kv[i + 1], errstr, sizeof(errstr)) ==
                          VTEV_CONF_OK,
                      "%s", errstr);
    reg = vtev_registry_new(conf, errstr, sizeof(errstr));
    ck_assert_msg(reg != NULL, "%s", errstr);
    ck_assert_int_eq(vtev_registry_get_schema(reg, 1, &schema, errstr, sizeof(errstr)),
                     VTEV_ERR_REGISTRY_UNAVAILABLE);
    ck_assert_ptr_null(schema);
    ck_assert_str_contains(errstr, "schema.registry.call.timeout.ms=1000");
    n = requests(reg);
    ck_assert_msg(n >= 1 && n <= 4, "%llu attempts: %s", (unsigned long long)n, errstr);
    vtev_registry_destroy(reg);
    for (i = 0; i < 8; i++)
        close(fds[i]);
}
END_TEST

/* auto.register.schemas=false and a schema that is not registered: the miss
 * is cached, so publishing again costs no request (not POST + version list +
 * a GET per version each time) until the TTL passes or the schema is
 * registered through this client. */
START_TEST(test_missing_schema_cached) {
    const char *noauto_kv[] = {"auto.register.schemas", "false", NULL};
    const char *nocache_kv[] = {"auto.register.schemas", "false",
                                "schema.registry.missing.schema.cache.ttl.sec", "0", NULL};
    const char *short_kv[] = {"auto.register.schemas", "false",
                              "schema.registry.missing.schema.cache.ttl.sec", "1", NULL};
    char name[64], errstr[512];
    vtev_registry_t *reg = new_reg_named(name, sizeof(name), NULL), *r2;
    int32_t id, id2;
    uint64_t before;
    int i;
    ck_assert_int_eq(vtev_registry_register(reg, "n-value", S1, &id, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    r2 = new_reg_on(name, noauto_kv);
    ck_assert_int_eq(vtev_registry_schema_id_for(r2, "n-value", S2, &id, errstr, sizeof(errstr)),
                     VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND);
    before = requests(r2);
    ck_assert_uint_ge(before, 3); /* POST, version list, GET of version 1 */
    for (i = 0; i < 20; i++) {
        ck_assert_int_eq(vtev_registry_schema_id_for(r2, "n-value", S2, &id, errstr,
                                                     sizeof(errstr)),
                         VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND);
        ck_assert_str_contains(errstr, "schema.registry.missing.schema.cache.ttl.sec");
    }
    ck_assert_uint_eq(requests(r2), before);
    /* an unknown subject too */
    ck_assert_int_eq(vtev_registry_schema_id_for(r2, "none-value", S1, &id, errstr,
                                                 sizeof(errstr)),
                     VTEV_ERR_REGISTRY_SUBJECT_NOT_FOUND);
    before = requests(r2);
    ck_assert_int_eq(vtev_registry_schema_id_for(r2, "none-value", S1, &id, errstr,
                                                 sizeof(errstr)),
                     VTEV_ERR_REGISTRY_SUBJECT_NOT_FOUND);
    ck_assert_uint_eq(requests(r2), before);
    /* registered through this client: the miss is forgotten at once */
    ck_assert_int_eq(vtev_registry_register(r2, "n-value", S2, &id2, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(vtev_registry_lookup(r2, "n-value", S2, &id, NULL, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(id, id2);
    vtev_registry_destroy(r2);
    /* TTL 0: every call asks */
    r2 = new_reg_on(name, nocache_kv);
    ck_assert_int_eq(vtev_registry_schema_id_for(r2, "n-value", S3, &id, errstr, sizeof(errstr)),
                     VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND);
    before = requests(r2);
    ck_assert_int_eq(vtev_registry_schema_id_for(r2, "n-value", S3, &id, errstr, sizeof(errstr)),
                     VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND);
    ck_assert_uint_gt(requests(r2), before);
    vtev_registry_destroy(r2);
    /* registered elsewhere: seen once the TTL passed */
    r2 = new_reg_on(name, short_kv);
    ck_assert_int_eq(vtev_registry_schema_id_for(r2, "n-value", S3, &id, errstr, sizeof(errstr)),
                     VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND);
    ck_assert_int_eq(vtev_registry_set_compatibility(reg, "n-value", VTEV_COMPAT_NONE, errstr,
                                                     sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(vtev_registry_register(reg, "n-value", S3, &id2, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    sleep(2); /* > the 1 s TTL */
    ck_assert_int_eq(vtev_registry_schema_id_for(r2, "n-value", S3, &id, errstr, sizeof(errstr)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(id, id2);
    vtev_registry_destroy(r2);
    vtev_registry_destroy(reg);
}
END_TEST

int main(void) {
    Suite *s = suite_create("registry");
    TCase *tc = tcase_create("mock");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_register_lookup_get);
    tcase_add_test(tc, test_lists);
    tcase_add_test(tc, test_error_codes);
    tcase_add_test(tc, test_compat_full_names_and_enums);
    tcase_add_test(tc, test_compat_levels);
    tcase_add_test(tc, test_compat_rules);
    tcase_add_test(tc, test_compat_transitive);
    tcase_add_test(tc, test_delete);
    tcase_add_test(tc, test_strategies);
    tcase_add_test(tc, test_schema_id_for_modes);
    tcase_add_test(tc, test_one_request_per_schema);
    tcase_add_test(tc, test_lru_eviction);
    tcase_add_test(tc, test_cache_unit);
    tcase_add_test(tc, test_latest_ttl);
    tcase_add_test(tc, test_retries_injected);
    tcase_add_test(tc, test_threads);
    tcase_add_test(tc, test_new_errors);
    tcase_add_test(tc, test_level_names);
    tcase_add_test(tc, test_call_time_bound_dead_urls);
    tcase_add_test(tc, test_missing_schema_cached);
    suite_add_tcase(s, tc);
    return vtev_test_run(s);
}
