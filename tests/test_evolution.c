/*
 * test_evolution.c - schema evolution both ways with a v2 position schema
 * that adds optional fields (and one with a non-null default), through the
 * typed codec and the generic avro-c path.
 */
#include "event_fixtures.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <vtevents/serde_avro.h>

static vtev_schema_t *load(const char *name) {
    char path[1024], err[256] = "", *text;
    FILE *f;
    long n;
    vtev_schema_t *s;
    snprintf(path, sizeof(path), "%s/%s", VTEV_TEST_SCHEMA_DIR, name);
    f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    text = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(text, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    s = vtev_schema_new(text, (size_t)n, err, sizeof(err));
    ck_assert_msg(s != NULL, "%s: %s", name, err);
    free(text);
    return s;
}

static avro_value_t field(avro_value_t *rec, const char *name) {
    avro_value_t f;
    ck_assert_msg(avro_value_get_by_name(rec, name, &f, NULL) == 0, "no field %s: %s", name, avro_strerror());
    return f;
}

static const char *get_str(avro_value_t *rec, const char *name) {
    avro_value_t f = field(rec, name);
    const char *s;
    size_t n;
    ck_assert_int_eq(avro_value_get_string(&f, &s, &n), 0);
    return s;
}

static double get_dbl(avro_value_t *rec, const char *name) {
    avro_value_t f = field(rec, name);
    double d = 0;
    ck_assert_int_eq(avro_value_get_double(&f, &d), 0);
    return d;
}

static void set_str(avro_value_t *rec, const char *name, const char *s) {
    avro_value_t f = field(rec, name);
    ck_assert_int_eq(avro_value_set_string(&f, s), 0);
}

static void set_dbl(avro_value_t *rec, const char *name, double d) {
    avro_value_t f = field(rec, name);
    ck_assert_int_eq(avro_value_set_double(&f, d), 0);
}

/* v1 reader (the library's compiled-in schema) reads bytes written with v2 */
START_TEST(test_v1_reads_v2) {
    vtev_schema_t *v2 = load("vessel.position.updated.v2.avsc");
    avro_value_t root, data, f, br;
    vtev_event_t ev;
    void *buf;
    size_t len;
    char err[256] = "";
    int round;
    ck_assert_int_eq(vtev_avro_value_new(v2, &root), VTEV_ERR_OK);
    set_str(&root, "event_id", "6f1d3c1e-8c1a-4c53-9b3e-2f1f0c9a7d11");
    set_str(&root, "event_type", "vessel.position.updated");
    f = field(&root, "timestamp");
    ck_assert_int_eq(avro_value_set_long(&f, INT64_C(1768059000000123)), 0);
    set_str(&root, "vessel_id", "lng-001");
    data = field(&root, "data");
    set_dbl(&data, "lat", 29.76);
    set_dbl(&data, "lon", -95.37);
    set_dbl(&data, "speed", 12.5);
    set_dbl(&data, "heading", 275);
    set_str(&data, "status", "underway");
    f = field(&data, "course");
    ck_assert_int_eq(avro_value_set_branch(&f, 1, &br), 0);
    ck_assert_int_eq(avro_value_set_double(&br, 271.5), 0);
    set_str(&data, "nav_mode", "manual");
    f = field(&root, "source_system");
    ck_assert_int_eq(avro_value_set_branch(&f, 1, &br), 0);
    ck_assert_int_eq(avro_value_set_string(&br, "ais-v2"), 0);
    f = field(&root, "metadata");
    {
        avro_value_t el;
        ck_assert_int_eq(avro_value_add(&f, "correlation_id", &el, NULL, NULL), 0);
        ck_assert_int_eq(avro_value_set_branch(&el, 1, &br), 0);
        ck_assert_int_eq(avro_value_set_string(&br, "abc"), 0);
    }
    ck_assert_int_eq(vtev_avro_encode(&root, 42, &buf, &len, err, sizeof(err)), VTEV_ERR_OK);
    for (round = 0; round < 2; round++) { /* the second time through the cache */
        ck_assert_msg(vtev_event_decode(&ev, VTEV_EVENT_POSITION, v2, (char *)buf + 5, len - 5, err,
                                        sizeof(err)) == VTEV_ERR_OK,
                      "%s", err);
        ck_assert_str_eq(ev.u.env.event_id, "6f1d3c1e-8c1a-4c53-9b3e-2f1f0c9a7d11");
        ck_assert_int_eq(ev.u.env.timestamp_us, INT64_C(1768059000000123));
        ck_assert_str_eq(ev.u.env.vessel_id, "lng-001");
        ck_assert(ev.u.position.data.lat == 29.76);
        ck_assert(ev.u.position.data.heading == 275);
        ck_assert_str_eq(ev.u.position.data.status, "underway");
        ck_assert_str_eq(vtev_envelope_correlation_id(&ev.u.env), "abc");
        ck_assert_int_eq(vtev_event_validate(&ev, err, sizeof(err)), VTEV_ERR_OK);
        vtev_event_clear(&ev);
    }
    /* bytes of v2 decoded as v1 without saying so: the extra fields trail */
    ck_assert_int_eq(vtev_event_decode(&ev, VTEV_EVENT_POSITION, NULL, (char *)buf + 5, len - 5, err, sizeof(err)),
                     VTEV_ERR_DECODE);
    vtev_free(buf);
    avro_value_decref(&root);
    vtev_schema_destroy(v2);
}
END_TEST

/* v2 reader reads bytes written by the library (v1) and gets the defaults */
START_TEST(test_v2_reads_v1) {
    vtev_schema_t *v2 = load("vessel.position.updated.v2.avsc");
    const vtev_schema_t *v1 = vtev_event_schema(VTEV_EVENT_POSITION);
    vtev_event_t ev;
    avro_value_t out, data, f, br;
    void *buf;
    size_t len;
    char err[256] = "";
    int disc, round;
    fx_position(&ev);
    ck_assert_int_eq(vtev_event_encode(&ev, 7, &buf, &len, err, sizeof(err)), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_avro_value_new(v2, &out), VTEV_ERR_OK);
    for (round = 0; round < 2; round++) {
        int32_t id = -1;
        ck_assert_msg(vtev_avro_decode_framed(v2, v1, buf, len, &id, &out, err, sizeof(err)) == VTEV_ERR_OK, "%s",
                      err);
        ck_assert_int_eq(id, 7);
        ck_assert_str_eq(get_str(&out, "event_id"), ev.u.env.event_id);
        ck_assert_str_eq(get_str(&out, "vessel_id"), "lng-001");
        data = field(&out, "data");
        ck_assert(get_dbl(&data, "lat") == 29.76);
        ck_assert_str_eq(get_str(&data, "status"), "underway");
        /* the defaults */
        f = field(&data, "course");
        ck_assert_int_eq(avro_value_get_discriminant(&f, &disc), 0);
        ck_assert_int_eq(disc, 0);
        ck_assert_str_eq(get_str(&data, "nav_mode"), "auto");
        f = field(&out, "source_system");
        ck_assert_int_eq(avro_value_get_discriminant(&f, &disc), 0);
        ck_assert_int_eq(disc, 0);
        ck_assert_int_eq(avro_value_get_current_branch(&f, &br), 0);
        ck_assert_int_eq(avro_value_get_type(&br), AVRO_NULL);
        /* metadata kept */
        f = field(&out, "metadata");
        {
            size_t n;
            ck_assert_int_eq(avro_value_get_size(&f, &n), 0);
            ck_assert_uint_eq(n, 2);
        }
    }
    /* the same v1 bytes, unframed, through the v2 reader again after
     * re-encoding with v2: v2 -> v2 is direct */
    {
        void *b2;
        size_t l2;
        avro_value_t again;
        ck_assert_int_eq(vtev_avro_encode(&out, -1, &b2, &l2, err, sizeof(err)), VTEV_ERR_OK);
        ck_assert_int_eq(vtev_avro_value_new(v2, &again), VTEV_ERR_OK);
        ck_assert_int_eq(vtev_avro_decode(v2, NULL, b2, l2, &again, err, sizeof(err)), VTEV_ERR_OK);
        ck_assert(avro_value_equal(&out, &again));
        avro_value_decref(&again);
        vtev_free(b2);
    }
    avro_value_decref(&out);
    vtev_free(buf);
    vtev_event_clear(&ev);
    vtev_schema_destroy(v2);
}
END_TEST

/* a writer without metadata (v0): the library's reader fills the default {} */
START_TEST(test_reader_default_in_typed_path) {
    vtev_schema_t *v0 = load("vessel.position.updated.v0.avsc");
    avro_value_t root, data, f;
    vtev_event_t ev;
    void *buf;
    size_t len;
    char err[256] = "";
    ck_assert_int_eq(vtev_avro_value_new(v0, &root), VTEV_ERR_OK);
    set_str(&root, "event_id", "6f1d3c1e-8c1a-4c53-9b3e-2f1f0c9a7d11");
    set_str(&root, "event_type", "vessel.position.updated");
    f = field(&root, "timestamp");
    ck_assert_int_eq(avro_value_set_long(&f, 5), 0);
    set_str(&root, "vessel_id", "x");
    data = field(&root, "data");
    set_dbl(&data, "lat", 1);
    set_str(&data, "status", "moored");
    ck_assert_int_eq(vtev_avro_encode(&root, -1, &buf, &len, err, sizeof(err)), VTEV_ERR_OK);
    ck_assert_msg(vtev_event_decode(&ev, VTEV_EVENT_POSITION, v0, buf, len, err, sizeof(err)) == VTEV_ERR_OK, "%s",
                  err);
    ck_assert_int_eq(ev.u.env.timestamp_us, 5);
    ck_assert_str_eq(ev.u.position.data.status, "moored");
    ck_assert_uint_eq(vtev_metadata_count(ev.u.env.metadata), 0);
    vtev_event_clear(&ev);
    vtev_free(buf);
    avro_value_decref(&root);
    vtev_schema_destroy(v0);
}
END_TEST

START_TEST(test_incompatible) {
    /* a reader field without default that the writer lacks */
    const char *reader_json =
        "{\"type\": \"record\", \"name\": \"VesselPositionUpdated\", \"namespace\": \"com.vesseltrack.events\", "
        "\"fields\": [{\"name\": \"event_id\", \"type\": \"string\"}, {\"name\": \"required_new\", \"type\": "
        "\"long\"}]}";
    vtev_schema_t *r = vtev_schema_new(reader_json, strlen(reader_json), NULL, 0);
    vtev_event_t ev, other;
    avro_value_t out;
    void *buf;
    size_t len;
    char err[256] = "";
    ck_assert_ptr_nonnull(r);
    fx_position(&ev);
    ck_assert_int_eq(vtev_event_encode(&ev, -1, &buf, &len, NULL, 0), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_avro_value_new(r, &out), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_avro_decode(r, vtev_event_schema(VTEV_EVENT_POSITION), buf, len, &out, err, sizeof(err)),
                     VTEV_ERR_SCHEMA_MISMATCH);
    ck_assert_str_contains(err, "required_new");
    /* a record of another name */
    ck_assert_int_eq(vtev_event_decode(&other, VTEV_EVENT_RESULT, vtev_event_schema(VTEV_EVENT_POSITION), buf, len, err,
                                       sizeof(err)),
                     VTEV_ERR_SCHEMA_MISMATCH);
    /* the output value must be of the reader schema */
    ck_assert_int_eq(vtev_avro_decode(vtev_event_schema(VTEV_EVENT_POSITION), NULL, buf, len, &out, err, sizeof(err)),
                     VTEV_ERR_INVALID_ARG);
    avro_value_decref(&out);
    vtev_free(buf);
    vtev_event_clear(&ev);
    vtev_schema_destroy(r);
}
END_TEST

START_TEST(test_promotion) {
    /* int -> long and float -> double promotions through the resolver */
    const char *wj = "{\"type\": \"record\", \"name\": \"R\", \"fields\": [{\"name\": \"a\", \"type\": \"int\"}, "
                     "{\"name\": \"b\", \"type\": \"float\"}, {\"name\": \"gone\", \"type\": \"string\"}]}";
    const char *rj = "{\"type\": \"record\", \"name\": \"R\", \"fields\": [{\"name\": \"b\", \"type\": \"double\"}, "
                     "{\"name\": \"a\", \"type\": \"long\"}, {\"name\": \"c\", \"type\": {\"type\": \"array\", "
                     "\"items\": \"int\"}, \"default\": [1, 2]}]}";
    vtev_schema_t *w = vtev_schema_new(wj, strlen(wj), NULL, 0), *r = vtev_schema_new(rj, strlen(rj), NULL, 0);
    avro_value_t in, out, f, el;
    void *buf;
    size_t len, n;
    int64_t l = 0;
    double d = 0;
    int32_t i = 0;
    char err[256] = "";
    ck_assert_int_eq(vtev_avro_value_new(w, &in), VTEV_ERR_OK);
    f = field(&in, "a");
    avro_value_set_int(&f, -3);
    f = field(&in, "b");
    avro_value_set_float(&f, 1.5f);
    set_str(&in, "gone", "skipped");
    ck_assert_int_eq(vtev_avro_encode(&in, -1, &buf, &len, err, sizeof(err)), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_avro_value_new(r, &out), VTEV_ERR_OK);
    ck_assert_msg(vtev_avro_decode(r, w, buf, len, &out, err, sizeof(err)) == VTEV_ERR_OK, "%s", err);
    f = field(&out, "a");
    avro_value_get_long(&f, &l);
    ck_assert_int_eq(l, -3);
    f = field(&out, "b");
    avro_value_get_double(&f, &d);
    ck_assert(d == 1.5);
    f = field(&out, "c");
    ck_assert_int_eq(avro_value_get_size(&f, &n), 0);
    ck_assert_uint_eq(n, 2);
    avro_value_get_by_index(&f, 1, &el, NULL);
    avro_value_get_int(&el, &i);
    ck_assert_int_eq(i, 2);
    avro_value_decref(&in);
    avro_value_decref(&out);
    vtev_free(buf);
    vtev_schema_destroy(w);
    vtev_schema_destroy(r);
}
END_TEST

int main(void) {
    Suite *s = suite_create("evolution");
    TCase *tc = tcase_create("evolution");
    tcase_add_test(tc, test_v1_reads_v2);
    tcase_add_test(tc, test_v2_reads_v1);
    tcase_add_test(tc, test_reader_default_in_typed_path);
    tcase_add_test(tc, test_incompatible);
    tcase_add_test(tc, test_promotion);
    suite_add_tcase(s, tc);
    return vtev_test_run(s);
}
