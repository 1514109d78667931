/*
 * test_avro_json.c - the schema-driven JSON form (<vtevents/avro_json.h>)
 * against the code vt-codegen generates from the same schemas
 * (tests/schemas/all_types.avsc and the platform's three):
 *
 *   generated to_json(decode(bytes))  ==  vtev_avro_json_from_avro(bytes)
 *   vtev_avro_json_to_avro(that text) ==  bytes == generated encode()
 *
 * on random values and fixtures, with the same verdict and message as the
 * generated validate(); the same errors as the generated from_json() and
 * decode() on hostile JSON and hostile bytes; and what the generator does not
 * cover (other top-level types, recursion, limits, schema errors).
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <avro.h>
#include <vtevents/avro_direct.h>
#include <vtevents/avro_json.h>
#include <vtevents/type.h>

#include "all_types.h"
#include "avro_random.h"
#include "prediction_analysis_completed.h"
#include "prediction_analysis_requested.h"
#include "vessel_position_updated.h"

static const vtev_type_t *const types[] = {&t_all_types_type, &vtev_vessel_position_updated_type,
                                           &vtev_prediction_analysis_requested_type,
                                           &vtev_prediction_analysis_completed_type};

/* Valid instances of each type, every uuid and "now" field given. */
static const char *const fixtures[] = {
    "{\"b\": true, \"i\": 1, \"l\": 2, \"f\": 0.5, \"d\": 1e300, \"by\": \"AAEC\", \"s\": \"x\","
    " \"u\": \"123e4567-e89b-42d3-a456-426614174000\", \"ts_ms\": \"2026-01-10T15:30:00.123Z\","
    " \"ts_us\": \"2026-01-10T15:30:00.000001+01:00\", \"dt_day\": \"2026-01-10\", \"dec_b\": \"-12.34\","
    " \"fx\": \"AQIDBA==\", \"dec_f\": \"1.5\", \"e\": \"RED\", \"rec\": {\"x\": 3},"
    " \"arr\": [1, -1], \"arr_rec\": [{\"x\": 1, \"opt\": \"o\"}], \"m\": {\"k\": \"v\", \"\\u00e9\": \"\"},"
    " \"m_arr\": {\"z\": [1.0, -0.0]}, \"opt_l\": null, \"gu\": {\"test.codegen.Inner\": {\"x\": 9}},"
    " \"gu2\": {\"test.codegen.Hash\": \"AAAAAA==\"}, \"bare\": 4.0, \"nested_arr\": [[1], []],"
    " \"arr_opt\": [null, \"s\"], \"nul\": null}",
    "{\"event_id\": \"123e4567-e89b-42d3-a456-426614174000\", \"event_type\": \"vessel.position.updated\","
    " \"timestamp\": \"2026-01-10T15:30:00.000Z\", \"vessel_id\": \"V1\", \"data\": {\"lat\": 1.5, \"lon\": -95.3698,"
    " \"speed\": 0, \"heading\": 275.0, \"status\": \"moored\"}, \"metadata\": {\"s\": \"x\", \"n\": 3, \"d\": 12.5,"
    " \"t\": true, \"z\": null}}",
    "{\"event_id\": \"9b2f6a0c-5d3e-4f1a-8b7c-6d5e4f3a2b1c\", \"timestamp\": \"2026-01-10T15:30:00.000Z\","
    " \"vessel_id\": \"lng-002\", \"request_id\": \"req-00c0ffee\", \"data\": {\"vessel_snapshot\": {\"lat\": 29.7,"
    " \"lon\": -95.3, \"speed\": 0.0, \"heading\": 90.0, \"status\": \"at anchor\"}, \"terminal_filter\": 4,"
    " \"priority\": \"high\"}}",
    "{\"event_id\": \"9b2f6a0c-5d3e-4f1a-8b7c-6d5e4f3a2b1d\", \"timestamp\": \"1999-12-31T23:59:59.999999Z\","
    " \"vessel_id\": \"lng-003\", \"request_id\": \"req-1\", \"data\": {\"prediction_id\": \"p\","
    " \"terminal_id\": -7, \"terminal_name\": \"Sabine Pass\", \"confidence_score\": 0.82, \"scores\": {"
    "\"proximity\": 0.9, \"speed\": 0.7, \"heading\": 0.6, \"rag_boost\": 0.3, \"ai_adjustment\": -0.3},"
    " \"distance_km\": 12.3, \"eta_hours\": 1.5, \"vessel_snapshot\": {\"lat\": -90, \"lon\": 180,"
    " \"speed\": 1e-300, \"heading\": 359.99999999999994, \"status\": \"underway\"}}, \"metadata\": {}}",
};

static vtev_avro_json_t *codec_of(const vtev_type_t *t) {
    char err[512] = "";
    vtev_avro_json_t *c = vtev_avro_json_new(t->schema_json, NULL, err, sizeof(err));
    ck_assert_msg(c != NULL, "%s: %s", t->name, err);
    return c;
}

static void same_bytes(const vtev_buf_t *a, const void *b, size_t blen, const char *what, const char *json) {
    ck_assert_msg(a->len == blen && (blen == 0 || !memcmp(a->data, b, blen)), "%s: the bytes differ\n%s", what, json);
}

/* The generated from_json() + encode(): 0, or the error and its message. */
static vtev_err_t gen_bytes(const vtev_type_t *t, const char *json, vtev_buf_t *out, char *err, size_t es) {
    void *ev = calloc(1, t->size);
    vtev_err_t e = t->from_json(ev, json, strlen(json), err, es);
    if (e == VTEV_ERR_OK) {
        ck_assert_int_eq(t->encode(ev, out, err, es), VTEV_ERR_OK);
        t->clear(ev);
    }
    free(ev);
    return e;
}

/* ---------------------------------------------------------------------- */
/* Random values                                                           */

static void differential_type(const vtev_type_t *t, int rounds) {
    vtev_avro_json_t *c = codec_of(t);
    avro_schema_t schema;
    avro_value_iface_t *iface;
    int k, valid = 0;
    ck_assert_int_eq(avro_schema_from_json_length(t->schema_json, strlen(t->schema_json), &schema), 0);
    iface = avro_generic_class_from_schema(schema);
    for (k = 0; k < rounds; k++) {
        static char abuf[1 << 16];
        char gerr[512] = "", cerr[512] = "";
        avro_value_t v;
        avro_writer_t w;
        int64_t alen;
        int pretty;
        void *ev = calloc(1, t->size), *ev3 = calloc(1, t->size);
        char *a = NULL, *b = NULL, *compact = NULL;
        size_t blen;
        vtev_buf_t out = {0};
        vtev_err_t ge, ce;

        avro_generic_value_new(iface, &v);
        fill(&v, NULL, 0);
        w = avro_writer_memory(abuf, sizeof(abuf));
        ck_assert_int_eq(avro_value_write(w, &v), 0);
        alen = avro_writer_tell(w);
        avro_writer_free(w);
        ck_assert_int_eq(t->decode(ev, abuf, (size_t)alen, gerr, sizeof(gerr)), VTEV_ERR_OK);

        for (pretty = 0; pretty < 2; pretty++) {
            ck_assert_int_eq(t->to_json(ev, pretty ? VTEV_TYPE_JSON_PRETTY : 0, &a, NULL), VTEV_ERR_OK);
            ce = vtev_avro_json_from_avro(c, abuf, (size_t)alen, pretty ? VTEV_AVRO_JSON_PRETTY : 0, &b, &blen,
                                          cerr, sizeof(cerr));
            ck_assert_msg(ce == VTEV_ERR_OK, "%s round %d: from_avro: %s", t->name, k, cerr);
            ck_assert_uint_eq(strlen(b), blen);
            ck_assert_msg(!strcmp(a, b), "%s round %d: the texts differ:\ngenerated %s\ngeneric   %s", t->name, k, a,
                          b);
            /* the text back into bytes: the same bytes */
            out.len = 0;
            ce = vtev_avro_json_to_avro(c, a, strlen(a), VTEV_AVRO_JSON_NO_CONSTRAINTS, &out, cerr, sizeof(cerr));
            ck_assert_msg(ce == VTEV_ERR_OK, "%s round %d: to_avro: %s\n%s", t->name, k, cerr, a);
            same_bytes(&out, abuf, (size_t)alen, t->name, a);
            vtev_free(b);
            if (pretty)
                free(a);
            else
                compact = a;
        }
        /* the constraints: the generated validate()'s verdict and message */
        ck_assert_int_eq(t->from_json(ev3, compact, strlen(compact), gerr, sizeof(gerr)), VTEV_ERR_OK);
        ge = t->validate(ev3, gerr, sizeof(gerr));
        out.len = 0;
        ce = vtev_avro_json_to_avro(c, compact, strlen(compact), 0, &out, cerr, sizeof(cerr));
        if (ge == VTEV_ERR_OK) {
            valid++;
            ck_assert_msg(ce == VTEV_ERR_OK, "%s round %d: valid, but to_avro: %s\n%s", t->name, k, cerr, compact);
            same_bytes(&out, abuf, (size_t)alen, t->name, compact);
        } else {
            ck_assert_msg(ce == VTEV_ERR_INVALID && !strcmp(gerr, cerr), "%s round %d: validate: %s; to_avro: %d %s",
                          t->name, k, gerr, (int)ce, cerr);
            ck_assert_uint_eq(out.len, 0);
        }
        free(compact);
        t->clear(ev);
        t->clear(ev3);
        free(ev);
        free(ev3);
        vtev_buf_free(&out);
        avro_value_decref(&v);
    }
    if (t == &t_all_types_type) /* no range constraints; its UUIDs and strings are valid */
        ck_assert_int_eq(valid, rounds);
    else /* random numbers, mostly out of range */
        ck_assert_int_lt(valid, rounds);
    avro_value_iface_decref(iface);
    avro_schema_decref(schema);
    vtev_avro_json_destroy(c);
}

START_TEST(differential) {
    differential_type(types[_i], 400);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Fixtures: valid instances, constraints checked                          */

START_TEST(fixtures_agree) {
    const vtev_type_t *t = types[_i];
    vtev_avro_json_t *c = codec_of(t);
    vtev_buf_t g = {0}, out = {0};
    char err[512] = "", *a, *b;
    void *ev = calloc(1, t->size);
    ck_assert_int_eq(gen_bytes(t, fixtures[_i], &g, err, sizeof(err)), VTEV_ERR_OK);
    ck_assert_msg(vtev_avro_json_to_avro(c, fixtures[_i], strlen(fixtures[_i]), 0, &out, err, sizeof(err)) ==
                      VTEV_ERR_OK,
                  "%s: %s", t->name, err);
    same_bytes(&out, g.data, g.len, t->name, fixtures[_i]);
    ck_assert_int_eq(t->decode(ev, g.data, g.len, err, sizeof(err)), VTEV_ERR_OK);
    ck_assert_int_eq(t->validate(ev, err, sizeof(err)), VTEV_ERR_OK);
    ck_assert_int_eq(t->to_json(ev, 0, &a, NULL), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_avro_json_from_avro(c, g.data, g.len, 0, &b, NULL, err, sizeof(err)), VTEV_ERR_OK);
    ck_assert_str_eq(a, b);
    /* appending: the output goes after what the buffer holds */
    ck_assert_int_eq(vtev_avro_json_to_avro(c, b, strlen(b), 0, &out, err, sizeof(err)), VTEV_ERR_OK);
    ck_assert_uint_eq(out.len, 2 * g.len);
    ck_assert(!memcmp(out.data + g.len, g.data, g.len));
    free(a);
    vtev_free(b);
    t->clear(ev);
    free(ev);
    vtev_buf_free(&g);
    vtev_buf_free(&out);
    vtev_avro_json_destroy(c);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Hostile JSON: the generated from_json()'s errors                        */

static int mutations;

/* Compares the generated from_json() and to_avro() on text. */
static void agree_on(const vtev_type_t *t, vtev_avro_json_t *c, const char *text, bool random_fields) {
    char gerr[512] = "", cerr[512] = "";
    vtev_buf_t g = {0}, out = {0};
    vtev_err_t ge = gen_bytes(t, text, &g, gerr, sizeof(gerr));
    vtev_err_t ce = vtev_avro_json_to_avro(c, text, strlen(text), VTEV_AVRO_JSON_NO_CONSTRAINTS, &out, cerr,
                                           sizeof(cerr));
    mutations++;
    ck_assert_msg(ge == ce, "%s: generated %d \"%s\", generic %d \"%s\"\n%s", t->name, (int)ge, gerr, (int)ce, cerr,
                  text);
    if (ge != VTEV_ERR_OK) {
        ck_assert_msg(!strcmp(gerr, cerr), "%s: generated \"%s\", generic \"%s\"\n%s", t->name, gerr, cerr, text);
        ck_assert_uint_eq(out.len, 0);
    } else if (!random_fields) {
        same_bytes(&out, g.data, g.len, t->name, text);
    }
    vtev_buf_free(&g);
    vtev_buf_free(&out);
}

static const char *const hostile_values[] = {
    "1", "-1", "4294967296", "-2147483649", "9223372036854775807", "1.5", "0.0", "1e400", "\"x\"", "\"\"", "true",
    "null", "[]", "[1]", "{}", "{\"x\": 1}", "\"!!\"", "\"AQ==\"", "\"AQIDBA==\"", "\"2026-02-30\"",
    "\"2026-01-10\"", "\"2026-01-10T15:30:00Z\"", "\"2026-01-10T15:30:00.0000001Z\"", "\"-1.2345\"", "\"1e3\"",
    "\"RED\"", "\"PINK\"", "{\"long\": 1}", "{\"int\": 1}", "{\"test.codegen.Inner\": 1}", "{\"a\": 1, \"b\": 2}",
    "\"123e4567-e89b-42d3-a456-426614174000\"", "[null]", "{\"k\": null}"};

static bool is_random_field(const char *key) {
    return !strcmp(key, "u") || !strcmp(key, "ts_ms") || !strcmp(key, "event_id") || !strcmp(key, "timestamp");
}

/* Every value of doc replaced by each hostile value, and every member removed. */
static void mutate(const vtev_type_t *t, vtev_avro_json_t *c, json_t *doc, json_t *node) {
    size_t i, k;
    const char *key;
    json_t *v;
    if (json_is_object(node)) {
        size_t nkeys = json_object_size(node), m = 0;
        char **keys = calloc(nkeys ? nkeys : 1, sizeof(*keys));
        json_object_foreach(node, key, v) {
            keys[m++] = strdup(key);
        }
        for (m = 0; m < nkeys; m++) {
            json_t *keep = json_incref(json_object_get(node, keys[m]));
            char *text;
            for (k = 0; k < sizeof(hostile_values) / sizeof(hostile_values[0]); k++) {
                json_object_set_new(node, keys[m], json_loads(hostile_values[k], JSON_DECODE_ANY, NULL));
                text = json_dumps(doc, JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
                agree_on(t, c, text, false);
                free(text);
            }
            json_object_del(node, keys[m]);
            text = json_dumps(doc, JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
            agree_on(t, c, text, is_random_field(keys[m]));
            free(text);
            json_object_set(node, keys[m], keep); /* now last: the order of members must not matter */
            mutate(t, c, doc, keep);
            json_decref(keep);
            free(keys[m]);
        }
        free(keys);
    } else if (json_is_array(node)) {
        json_array_foreach(node, i, v) {
            json_t *keep = json_incref(v);
            for (k = 0; k < sizeof(hostile_values) / sizeof(hostile_values[0]); k++) {
                char *text;
                json_array_set_new(node, i, json_loads(hostile_values[k], JSON_DECODE_ANY, NULL));
                text = json_dumps(doc, JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
                agree_on(t, c, text, false);
                free(text);
            }
            json_array_set(node, i, keep);
            mutate(t, c, doc, keep);
            json_decref(keep);
        }
    }
}

START_TEST(hostile_json) {
    const vtev_type_t *t = types[_i];
    vtev_avro_json_t *c = codec_of(t);
    json_t *doc = json_loads(fixtures[_i], 0, NULL);
    static const char *const texts[] = {"", " ", "[]", "5", "null", "\"x\"", "{", "{\"a\": 1, \"a\": 2}",
                                        "{\"zz\": 1}", "{\"vessel_id\": \"a\\u0000b\"}", "{} []", "\xff"};
    size_t k;
    ck_assert_ptr_nonnull(doc);
    mutations = 0;
    mutate(t, c, doc, doc);
    ck_assert_int_gt(mutations, 100);
    for (k = 0; k < sizeof(texts) / sizeof(texts[0]); k++) {
        char gerr[512] = "", cerr[512] = "";
        vtev_buf_t g = {0}, out = {0};
        vtev_err_t ge = gen_bytes(t, texts[k], &g, gerr, sizeof(gerr));
        vtev_err_t ce = vtev_avro_json_to_avro(c, texts[k], strlen(texts[k]), 0, &out, cerr, sizeof(cerr));
        ck_assert_int_eq(ce, VTEV_ERR_PARSE);
        ck_assert_int_eq(ge, VTEV_ERR_PARSE);
        ck_assert_uint_eq(out.len, 0);
        ck_assert_msg(!strcmp(gerr, cerr), "%s: \"%s\": generated \"%s\", generic \"%s\"", t->name, texts[k], gerr,
                      cerr);
        vtev_buf_free(&g);
    }
    json_decref(doc);
    vtev_avro_json_destroy(c);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Hostile bytes: the generated decode()'s errors                          */

static void agree_bytes(const vtev_type_t *t, vtev_avro_json_t *c, const void *p, size_t n, const char *what) {
    char gerr[512] = "", cerr[512] = "", *gj = NULL, *cj = NULL;
    void *ev = calloc(1, t->size);
    vtev_err_t ge = t->decode(ev, p, n, gerr, sizeof(gerr));
    vtev_err_t ce = vtev_avro_json_from_avro(c, p, n, 0, &cj, NULL, cerr, sizeof(cerr));
    ck_assert_msg(ge == ce, "%s %s: generated %d \"%s\", generic %d \"%s\"", t->name, what, (int)ge, gerr, (int)ce,
                  cerr);
    if (ge == VTEV_ERR_OK) {
        ck_assert_int_eq(t->to_json(ev, 0, &gj, NULL), VTEV_ERR_OK);
        ck_assert_msg(!strcmp(gj, cj), "%s %s:\ngenerated %s\ngeneric   %s", t->name, what, gj, cj);
        free(gj);
        vtev_free(cj);
        t->clear(ev);
    } else {
        ck_assert_msg(!strcmp(gerr, cerr), "%s %s: generated \"%s\", generic \"%s\"", t->name, what, gerr, cerr);
        ck_assert_ptr_null(cj);
        ck_assert_ptr_nonnull(strchr(cerr, ' '));
    }
    free(ev);
}

START_TEST(hostile_bytes) {
    const vtev_type_t *t = types[_i];
    vtev_avro_json_t *c = codec_of(t);
    avro_schema_t schema;
    avro_value_iface_t *iface;
    int round, k;
    ck_assert_int_eq(avro_schema_from_json_length(t->schema_json, strlen(t->schema_json), &schema), 0);
    iface = avro_generic_class_from_schema(schema);
    for (round = 0; round < 20; round++) {
        static char buf[1 << 16], mut[1 << 16];
        avro_value_t v;
        avro_writer_t w;
        int64_t len, cut;
        avro_generic_value_new(iface, &v);
        fill(&v, NULL, 0);
        w = avro_writer_memory(buf, sizeof(buf));
        ck_assert_int_eq(avro_value_write(w, &v), 0);
        len = avro_writer_tell(w);
        avro_writer_free(w);
        avro_value_decref(&v);
        /* every truncation: the same error, naming the same field */
        for (cut = 0; cut < len; cut++)
            agree_bytes(t, c, buf, (size_t)cut, "truncated");
        buf[len] = 0;
        agree_bytes(t, c, buf, (size_t)len + 1, "trailing byte");
        /* random corruption: the same verdict, text or message */
        for (k = 0; k < 300; k++) {
            int64_t j, n = 1 + (int64_t)(rnd() % 4);
            memcpy(mut, buf, (size_t)len);
            for (j = 0; j < n; j++)
                mut[rnd() % (uint64_t)len] = (char)rnd();
            agree_bytes(t, c, mut, (size_t)len, "corrupted");
        }
    }
    avro_value_iface_decref(iface);
    avro_schema_decref(schema);
    vtev_avro_json_destroy(c);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Constraints, absent fields, messages                                    */

static vtev_err_t to_avro_str(vtev_avro_json_t *c, const char *json, vtev_buf_t *out, char *err, size_t es) {
    out->len = 0;
    return vtev_avro_json_to_avro(c, json, strlen(json), 0, out, err, es);
}

#define EXPECT(c, json, code, msg)                                                                                 \
    do {                                                                                                           \
        char e_[512] = "";                                                                                         \
        vtev_buf_t o_ = {0};                                                                                       \
        vtev_err_t r_ = to_avro_str(c, json, &o_, e_, sizeof(e_));                                                 \
        ck_assert_msg(r_ == (code) && !strcmp(e_, msg), "%s: got %d \"%s\", want %d \"%s\"", json, (int)r_, e_,    \
                      (int)(code), msg);                                                                           \
        ck_assert_uint_eq(o_.len, 0);                                                                              \
        vtev_buf_free(&o_);                                                                                        \
    } while (0)

START_TEST(constraints_and_absent_fields) {
    vtev_avro_json_t *c = codec_of(&vtev_vessel_position_updated_type);
    vtev_buf_t out = {0};
    char err[512], *json;
    json_t *j;
    int64_t ts;
    EXPECT(c, "{\"vessel_id\": \"v\", \"data\": {\"lat\": 91, \"lon\": 0, \"speed\": 0, \"heading\": 0, "
              "\"status\": \"s\"}}",
           VTEV_ERR_INVALID, "data.lat: 91 is outside [-90, 90]");
    EXPECT(c, "{\"vessel_id\": \"v\", \"data\": {\"lat\": \"north\", \"lon\": 0, \"speed\": 0, \"heading\": 0, "
              "\"status\": \"s\"}}",
           VTEV_ERR_PARSE, "data.lat: expected a number, got a string");
    EXPECT(c, "{\"vessel_id\": \"v\", \"data\": {\"lat\": 1, \"lon\": 0, \"speed\": -0.5, \"heading\": 360, "
              "\"status\": \"s\"}}",
           VTEV_ERR_INVALID, "data.speed: -0.5 is negative");
    EXPECT(c, "{\"vessel_id\": \"\", \"data\": {\"lat\": 1, \"lon\": 0, \"speed\": 0, \"heading\": 0, "
              "\"status\": \"s\"}}",
           VTEV_ERR_INVALID, "vessel_id: \"\" must not be empty");
    EXPECT(c, "{\"event_id\": \"x\", \"vessel_id\": \"v\", \"data\": {\"lat\": 1, \"lon\": 0, \"speed\": 0, "
              "\"heading\": 0, \"status\": \"s\"}}",
           VTEV_ERR_INVALID, "event_id: \"x\" is not a UUID (8-4-4-4-12 hex digits)");
    EXPECT(c, "{\"timestamp\": \"1970-01-01T00:00:00Z\", \"vessel_id\": \"v\", \"data\": {\"lat\": 1, \"lon\": 0, "
              "\"speed\": 0, \"heading\": 0, \"status\": \"s\"}}",
           VTEV_ERR_INVALID, "timestamp: 0 is outside (0, 253402300799999999] microseconds since the epoch");
    EXPECT(c, "{\"vessel_id\": \"v\", \"data\": {\"lat\": 1, \"lon\": 0, \"speed\": 0, \"heading\": 0, "
              "\"status\": \"s\"}, \"metadata\": {\"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\": 1}}",
           VTEV_ERR_INVALID,
           "metadata: \"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\": key is longer than 64 bytes");
    EXPECT(c, "{\"vessel_id\": \"v\", \"data\": {\"lat\": 1, \"lon\": 0, \"speed\": 0, \"heading\": 0, "
              "\"status\": \"s\"}, \"metadata\": {\"\": 1}}",
           VTEV_ERR_INVALID, "metadata: \"\": key is empty");
    EXPECT(c, "{\"vessel_id\": \"v\", \"data\": {\"lat\": 1, \"lon\": 0, \"speed\": 0, \"heading\": 0}}",
           VTEV_ERR_PARSE, "data.status: missing required field");
    EXPECT(c, "{\"vessel_id\": \"v\", \"data\": {\"lat\": 1, \"lon\": 0, \"speed\": 0, \"heading\": 0, "
              "\"status\": \"s\"}, \"metadata\": {\"x\": [1]}}",
           VTEV_ERR_PARSE, "metadata.x: expected one of null, string, long, double, boolean, got an array");
    /* NO_CONSTRAINTS: the types only */
    {
        const char *loose = "{\"vessel_id\": \"\", \"data\": {\"lat\": 91, \"lon\": 0, \"speed\": 0, \"heading\": 0, "
                            "\"status\": \"s\"}}";
        ck_assert_int_eq(vtev_avro_json_to_avro(c, loose, strlen(loose), VTEV_AVRO_JSON_NO_CONSTRAINTS, &out, err,
                                                sizeof(err)),
                         VTEV_ERR_OK);
    }
    /* absent fields: a fresh UUID, the time now, the defaults */
    ck_assert_int_eq(to_avro_str(c, "{\"vessel_id\": \"v\", \"data\": {\"lat\": 1, \"lon\": 0, \"speed\": 0, "
                                    "\"heading\": 0, \"status\": \"s\"}}",
                                 &out, err, sizeof(err)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(vtev_avro_json_from_avro(c, out.data, out.len, 0, &json, NULL, err, sizeof(err)), VTEV_ERR_OK);
    j = json_loads(json, 0, NULL);
    ck_assert(vtev_rt_uuid_valid(json_string_value(json_object_get(j, "event_id"))));
    ck_assert_str_eq(json_string_value(json_object_get(j, "event_type")), "vessel.position.updated");
    ck_assert_int_eq(vtev_rt_parse_timestamp(json_string_value(json_object_get(j, "timestamp")), 1000000, &ts), 0);
    ck_assert(ts > vtev_rt_now_us() - INT64_C(60000000) && ts <= vtev_rt_now_us());
    ck_assert_int_eq(json_object_size(json_object_get(j, "metadata")), 0);
    json_decref(j);
    vtev_free(json);
    vtev_buf_free(&out);
    vtev_avro_json_destroy(c);

    /* timestamp-millis "now" is in milliseconds */
    c = codec_of(&t_all_types_type);
    {
        json_t *doc = json_loads(fixtures[0], 0, NULL);
        char *text;
        int64_t ms;
        json_object_del(doc, "ts_ms");
        text = json_dumps(doc, 0);
        ck_assert_int_eq(to_avro_str(c, text, &out, err, sizeof(err)), VTEV_ERR_OK);
        ck_assert_int_eq(vtev_avro_json_from_avro(c, out.data, out.len, 0, &json, NULL, err, sizeof(err)), VTEV_ERR_OK);
        j = json_loads(json, 0, NULL);
        ck_assert_int_eq(vtev_rt_parse_timestamp(json_string_value(json_object_get(j, "ts_ms")), 1000, &ms), 0);
        ck_assert(ms > vtev_rt_now_us() / 1000 - 60000 && ms <= vtev_rt_now_us() / 1000);
        json_decref(j);
        vtev_free(json);
        free(text);
        json_decref(doc);
    }
    vtev_buf_free(&out);
    vtev_avro_json_destroy(c);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Beyond the generator: any top-level type, recursion, limits             */

static vtev_avro_json_t *codec(const char *schema, const vtev_conf_t *conf) {
    char err[512] = "";
    vtev_avro_json_t *c = vtev_avro_json_new(schema, conf, err, sizeof(err));
    ck_assert_msg(c != NULL, "%s: %s", schema, err);
    return c;
}

/* text -> bytes -> text: the same text (the canonical form of its value). */
static void round_trip(vtev_avro_json_t *c, const char *text, const char *hex) {
    vtev_buf_t out = {0};
    char err[512] = "", *back, hb[256] = "";
    size_t i;
    ck_assert_msg(to_avro_str(c, text, &out, err, sizeof(err)) == VTEV_ERR_OK, "%s: %s", text, err);
    for (i = 0; i < out.len && 2 * i + 2 < sizeof(hb); i++)
        snprintf(hb + 2 * i, 3, "%02x", out.data[i]);
    if (hex)
        ck_assert_str_eq(hb, hex);
    ck_assert_int_eq(vtev_avro_json_from_avro(c, out.data, out.len, 0, &back, NULL, err, sizeof(err)), VTEV_ERR_OK);
    ck_assert_str_eq(back, text);
    vtev_free(back);
    vtev_buf_free(&out);
}

START_TEST(other_schemas) {
    vtev_avro_json_t *c;
    vtev_conf_t *conf;
    vtev_buf_t out = {0};
    char err[512], *json;
    const char *list = "{\"type\": \"record\", \"name\": \"L\", \"fields\": [{\"name\": \"v\", \"type\": \"int\"},"
                       " {\"name\": \"next\", \"type\": [\"null\", \"L\"]}]}";

    c = codec("\"long\"", NULL);
    round_trip(c, "-3", "05");
    EXPECT(c, "\"x\"", VTEV_ERR_PARSE, "expected an integer, got a string");
    vtev_avro_json_destroy(c);
    c = codec("[\"null\", \"string\"]", NULL);
    round_trip(c, "\"x\"", "020278");
    round_trip(c, "null", "00");
    vtev_avro_json_destroy(c);
    c = codec("{\"type\": \"array\", \"items\": [\"null\", {\"type\": \"fixed\", \"name\": \"F\", \"size\": 2}]}", NULL);
    round_trip(c, "[null, {\"F\": \"AAE=\"}]", "040002000100");
    EXPECT(c, "[{\"F\": \"AA==\"}]", VTEV_ERR_PARSE, "[0].F: expected 2 bytes, got 1");
    vtev_avro_json_destroy(c);
    /* a logical type the JSON form does not define is its underlying type */
    c = codec("{\"type\": \"int\", \"logicalType\": \"time-millis\"}", NULL);
    round_trip(c, "1000", "d00f");
    vtev_avro_json_destroy(c);
    c = codec("{\"type\": \"map\", \"values\": \"null\"}", NULL);
    round_trip(c, "{\"a\": null, \"b\": null}", "040261026200");
    vtev_avro_json_destroy(c);

    /* recursion, and avro.max.depth */
    c = codec(list, NULL);
    round_trip(c, "{\"v\": 1, \"next\": {\"v\": 2, \"next\": {\"v\": 3, \"next\": null}}}", "020204020600");
    vtev_avro_json_destroy(c);
    conf = vtev_conf_new();
    ck_assert_int_eq(vtev_conf_set(conf, "avro.max.depth", "2", NULL, 0), VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_set(conf, "avro.max.values", "6", NULL, 0), VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_set(conf, "avro.max.bytes", "6", NULL, 0), VTEV_CONF_OK);
    c = codec(list, conf);
    {
        static const unsigned char deep[] = {0x02, 0x02, 0x04, 0x02, 0x06, 0x00}; /* 1 -> 2 -> 3 */
        static const unsigned char two[] = {0x02, 0x02, 0x04, 0x00};              /* 1 -> 2 */
        ck_assert_int_eq(vtev_avro_json_from_avro(c, two, sizeof(two), 0, &json, NULL, err, sizeof(err)),
                         VTEV_ERR_OK);
        ck_assert_str_eq(json, "{\"v\": 1, \"next\": {\"v\": 2, \"next\": null}}");
        vtev_free(json);
        ck_assert_int_eq(vtev_avro_json_from_avro(c, deep, sizeof(deep), 0, &json, NULL, err, sizeof(err)),
                         VTEV_ERR_LIMIT);
        ck_assert_str_eq(err, "next.next: nesting is deeper than avro.max.depth (2)");
        ck_assert_ptr_null(json);
        ck_assert_int_eq(vtev_avro_json_from_avro(c, deep, 7, 0, &json, NULL, err, sizeof(err)), VTEV_ERR_LIMIT);
        ck_assert_str_eq(err, "7 bytes over avro.max.bytes (6)");
        EXPECT(c, "{\"v\": 1, \"next\": {\"v\": 2, \"next\": {\"v\": 3, \"next\": null}}}", VTEV_ERR_LIMIT,
               "next.next: nesting is deeper than avro.max.depth (2)");
    }
    vtev_avro_json_destroy(c);
    c = codec("{\"type\": \"array\", \"items\": \"null\"}", conf);
    {
        static const unsigned char many[] = {0x10, 0x00}; /* 8 nulls */
        ck_assert_int_eq(vtev_avro_json_from_avro(c, many, sizeof(many), 0, &json, NULL, err, sizeof(err)),
                         VTEV_ERR_LIMIT);
        ck_assert_str_eq(err, "[5]: more than avro.max.values (6) values in one message");
    }
    vtev_avro_json_destroy(c);
    vtev_conf_destroy(conf);

    /* arguments */
    c = codec("\"int\"", NULL);
    ck_assert_int_eq(vtev_avro_json_to_avro(NULL, "1", 1, 0, &out, err, sizeof(err)), VTEV_ERR_INVALID_ARG);
    ck_assert_int_eq(vtev_avro_json_to_avro(c, "1", 1, 0, NULL, err, sizeof(err)), VTEV_ERR_INVALID_ARG);
    ck_assert_int_eq(vtev_avro_json_from_avro(c, NULL, 1, 0, &json, NULL, err, sizeof(err)), VTEV_ERR_INVALID_ARG);
    ck_assert_int_eq(vtev_avro_json_from_avro(c, "\x02", 1, 0, NULL, NULL, err, sizeof(err)), VTEV_ERR_INVALID_ARG);
    ck_assert_int_eq(vtev_avro_json_from_avro(c, "", 0, 0, &json, NULL, err, sizeof(err)), VTEV_ERR_DECODE);
    ck_assert_str_eq(err, "the input ends inside the value");
    ck_assert_int_eq(vtev_avro_json_from_avro(c, "\x02\x02", 2, 0, &json, NULL, err, sizeof(err)), VTEV_ERR_DECODE);
    ck_assert_str_eq(err, "1 bytes left after the value");
    vtev_avro_json_destroy(c);
    vtev_avro_json_destroy(NULL);
}
END_TEST

START_TEST(schema_errors) {
    static const struct {
        const char *schema, *msg;
    } bad[] = {
        {"{\"type\": ", "invalid JSON"},
        {"\"Nope\"", "unknown type \"Nope\""},
        {"{\"type\": \"record\", \"name\": \"R\", \"fields\": [{\"name\": \"a\", \"type\": \"int\", \"default\": \"x\"}]}",
         "a: default: expected a value of type int"},
        {"{\"type\": \"record\", \"name\": \"R\", \"fields\": [{\"name\": \"a\", \"type\": [\"null\", \"int\"], "
         "\"default\": 1}]}",
         "a: default: expected null"},
        {"{\"type\": \"record\", \"name\": \"R\", \"fields\": [{\"name\": \"a\", \"type\": \"string\", \"vt.min\": 1}]}",
         "a: constraint vt.min applies to numbers, not to string"},
        {"{\"type\": \"record\", \"name\": \"R\", \"fields\": [{\"name\": \"a\", \"type\": \"int\", \"vt.pattern\": 1}]}",
         "a: unknown constraint vt.pattern"},
        {"{\"type\": \"record\", \"name\": \"R\", \"fields\": [{\"name\": \"a\", \"type\": \"double\", \"vt.min\": 2, "
         "\"vt.max\": 1}]}",
         "a: constraint: the range [2, 1] is empty"},
        {"{\"type\": \"record\", \"name\": \"R\", \"fields\": [{\"name\": \"a\", \"type\": \"long\", \"vt.default\": "
         "\"now\"}]}",
         "a: vt.default \"now\" applies to timestamp-millis and timestamp-micros fields"},
        {"[\"int\", \"int\"]", "<1>: the union holds int twice"},
        {"{\"type\": \"fixed\", \"name\": \"F\", \"size\": 2, \"vt.nonEmpty\": true}",
         "constraint vt.nonEmpty applies to string, bytes, array and map, not to fixed"},
    };
    size_t i;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[512] = "";
        ck_assert_ptr_null(vtev_avro_json_new(bad[i].schema, NULL, err, sizeof(err)));
        ck_assert_msg(strstr(err, bad[i].msg), "%s: got \"%s\", want \"%s\"", bad[i].schema, err, bad[i].msg);
    }
    ck_assert_ptr_null(vtev_avro_json_new(NULL, NULL, NULL, 0));
}
END_TEST

int main(void) {
    Suite *s = suite_create("avro_json");
    TCase *tc = tcase_create("generic");
    SRunner *sr;
    int failed, n = (int)(sizeof(types) / sizeof(types[0]));
    tcase_set_timeout(tc, 240);
    tcase_add_loop_test(tc, differential, 0, n);
    tcase_add_loop_test(tc, fixtures_agree, 0, n);
    tcase_add_loop_test(tc, hostile_json, 0, n);
    tcase_add_loop_test(tc, hostile_bytes, 0, n);
    tcase_add_test(tc, constraints_and_absent_fields);
    tcase_add_test(tc, other_schemas);
    tcase_add_test(tc, schema_errors);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
