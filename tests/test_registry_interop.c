/*
 * test_registry_interop.c - our registry client and Python confluent-kafka's
 * SchemaRegistryClient ($VTEV_PYTHON, tests/interop/registry_peer.py) share
 * a real registry: what one registers, the other reads, both ways.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <vtevents/registry.h>

#include "testutil.h"

static const char *peer_script;
static const char *python;
static const char *url;
static char prefix[64];

/* Runs the peer; returns its JSON output (caller decrefs) or fails the test. */
static json_t *peer(const char *op, const char *arg, const char *schema) {
    char cmd[2048], out[65536];
    size_t n;
    FILE *p;
    json_t *j;
    json_error_t jerr;
    int rc;
    if (schema)
        setenv("VTEV_PEER_SCHEMA", schema, 1);
    snprintf(cmd, sizeof(cmd), "'%s' '%s' %s '%s' '%s'", python, peer_script, op, url, arg);
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    rc = pclose(p);
    ck_assert_msg(rc == 0, "peer %s %s failed (status %d): %s", op, arg, rc, out);
    j = json_loads(out, 0, &jerr);
    ck_assert_msg(j != NULL, "peer output is not JSON: %s", out);
    return j;
}

/* Compares two schema texts after normalisation. */
static int same_schema(const char *a, const char *b) {
    json_t *ja = json_loads(a, JSON_DECODE_ANY, NULL), *jb = json_loads(b, JSON_DECODE_ANY, NULL);
    int eq = ja && jb && json_equal(ja, jb);
    json_decref(ja);
    json_decref(jb);
    return eq;
}

static vtev_registry_t *client(const char *kv[]) {
    vtev_conf_t *conf = vtev_conf_new();
    char errstr[512];
    vtev_registry_t *reg;
    int i;
    vtev_conf_set(conf, "schema.registry.url", url, NULL, 0);
    for (i = 0; kv && kv[i]; i += 2)
        ck_assert_int_eq(vtev_conf_set(conf, kv[i], kv[i + 1], errstr, sizeof(errstr)),
                         VTEV_CONF_OK);
    reg = vtev_registry_new(conf, errstr, sizeof(errstr));
    ck_assert_msg(reg != NULL, "%s", errstr);
    return reg;
}

#define OK(call)                                                                          \
    do {                                                                                  \
        vtev_err_t e_ = (call);                                                           \
        ck_assert_msg(e_ == VTEV_ERR_OK, "%s: %s: %s", #call, vtev_err2name(e_), errstr); \
    } while (0)

static const char *V1 = "{\"type\":\"record\",\"name\":\"Ping\",\"namespace\":\"vtev.interop\","
                        "\"fields\":[{\"name\":\"n\",\"type\":\"long\"}]}";
static const char *V2 = "{\"type\":\"record\",\"name\":\"Ping\",\"namespace\":\"vtev.interop\","
                        "\"fields\":[{\"name\":\"n\",\"type\":\"long\"},"
                        "{\"name\":\"note\",\"type\":[\"null\",\"string\"],\"default\":null}]}";

START_TEST(test_ours_read_by_python) {
    vtev_registry_t *reg = client(NULL);
    char errstr[512], subject[128];
    int32_t id1, id2;
    json_t *j;
    snprintf(subject, sizeof(subject), "%s-c2py-value", prefix);
    OK(vtev_registry_set_compatibility(reg, subject, VTEV_COMPAT_BACKWARD, errstr,
                                       sizeof(errstr)));
    OK(vtev_registry_register(reg, subject, V1, &id1, errstr, sizeof(errstr)));
    OK(vtev_registry_register(reg, subject, V2, &id2, errstr, sizeof(errstr)));
    {
        char idbuf[32];
        snprintf(idbuf, sizeof(idbuf), "%d", (int)id1);
        j = peer("get", idbuf, NULL);
        ck_assert(same_schema(json_string_value(json_object_get(j, "schema")), V1));
        ck_assert_str_eq(json_string_value(json_object_get(j, "schema_type")), "AVRO");
        json_decref(j);
    }
    j = peer("latest", subject, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "id")), id2);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "version")), 2);
    ck_assert(same_schema(json_string_value(json_object_get(j, "schema")), V2));
    json_decref(j);
    j = peer("lookup", subject, V1);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "id")), id1);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "version")), 1);
    json_decref(j);
    OK(vtev_registry_delete_subject(reg, subject, 0, NULL, NULL, errstr, sizeof(errstr)));
    OK(vtev_registry_delete_subject(reg, subject, 1, NULL, NULL, errstr, sizeof(errstr)));
    vtev_registry_destroy(reg);
}
END_TEST

START_TEST(test_python_read_by_ours) {
    const char *noauto[] = {"auto.register.schemas", "false", NULL};
    /* Python registers its own formatting of V1 (indented, other key order) */
    const char *py_v1 = "{\n  \"namespace\": \"vtev.interop\",\n  \"type\": \"record\",\n"
                        "  \"name\": \"Ping\",\n  \"fields\": [\n"
                        "    {\"type\": \"long\", \"name\": \"n\"}\n  ]\n}";
    vtev_registry_t *reg = client(noauto);
    char errstr[512], subject[128], *schema;
    int32_t id, got;
    int version;
    json_t *j;
    snprintf(subject, sizeof(subject), "%s-py2c-value", prefix);
    j = peer("register", subject, py_v1);
    id = (int32_t)json_integer_value(json_object_get(j, "id"));
    json_decref(j);
    ck_assert_int_gt(id, 0);
    OK(vtev_registry_get_schema(reg, id, &schema, errstr, sizeof(errstr)));
    ck_assert(same_schema(schema, V1));
    vtev_free(schema);
    OK(vtev_registry_get_version(reg, subject, -1, &got, &version, &schema, errstr,
                                 sizeof(errstr)));
    ck_assert_int_eq(got, id);
    ck_assert_int_eq(version, 1);
    vtev_free(schema);
    /* our compact text finds the schema Python registered (a serializer with
     * auto.register.schemas=false) */
    OK(vtev_registry_lookup(reg, subject, V1, &got, &version, errstr, sizeof(errstr)));
    ck_assert_int_eq(got, id);
    ck_assert_int_eq(version, 1);
    OK(vtev_registry_schema_id_for(reg, subject, V1, &got, errstr, sizeof(errstr)));
    ck_assert_int_eq(got, id);
    OK(vtev_registry_delete_subject(reg, subject, 0, NULL, NULL, errstr, sizeof(errstr)));
    OK(vtev_registry_delete_subject(reg, subject, 1, NULL, NULL, errstr, sizeof(errstr)));
    vtev_registry_destroy(reg);
}
END_TEST

int main(int argc, char **argv) {
    Suite *s = suite_create("registry_interop");
    TCase *tc = tcase_create("python");
    if (argc < 2) {
        fprintf(stderr, "usage: %s tests/interop/registry_peer.py\n", argv[0]);
        return 2;
    }
    peer_script = argv[1];
    url = vtev_test_require_env("SCHEMA_REGISTRY_URL");
    python = vtev_test_require_env("VTEV_PYTHON");
    snprintf(prefix, sizeof(prefix), "vtev-interop-%d-%ld", (int)getpid(), (long)time(NULL));
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_ours_read_by_python);
    tcase_add_test(tc, test_python_read_by_ours);
    suite_add_tcase(s, tc);
    return vtev_test_run(s);
}
