/*
 * test_codegen.c - the code vt-codegen generates: byte-for-byte agreement with
 * avro-c's generic writer on random values of every supported type, JSON
 * round trips, today's validation messages, and decoders on hostile input.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <avro.h>
#include <vtevents/avro_direct.h>
#include <vtevents/type.h>

#include "all_types.h"
#include "prediction_analysis_completed.h"
#include "prediction_analysis_requested.h"
#include "vessel_position_updated.h"

static const vtev_type_t *const types[] = {&t_all_types_type, &vtev_vessel_position_updated_type,
                                           &vtev_prediction_analysis_requested_type,
                                           &vtev_prediction_analysis_completed_type};

/* ---------------------------------------------------------------------- */
/* Random generic values (avro-c)                                          */

static unsigned long long rng_state = 0x9e3779b97f4a7c15ULL;

static unsigned long long rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static int64_t rnd_long(void) {
    switch (rnd() % 4) {
    case 0: return (int64_t)(rnd() % 200) - 100;
    case 1: return (int64_t)rnd();
    case 2: return rnd() % 2 ? INT64_MAX : INT64_MIN;
    default: return (int64_t)(rnd() % 100000000) * (rnd() % 2 ? 1 : -1);
    }
}

static double rnd_double(void) {
    double d;
    unsigned long long u = rnd();
    switch (rnd() % 4) {
    case 0: return (double)(int64_t)(rnd() % 2000 - 1000) / 8;
    case 1: return rnd() % 2 ? 0.0 : -0.0;
    default: memcpy(&d, &u, 8); return isfinite(d) ? d : 1.25;
    }
}

/* Random valid UTF-8 without NUL: ASCII (with JSON escapes), 2-, 3- and 4-byte sequences. */
static void rnd_str(char *buf, size_t cap) {
    static const char *const pieces[] = {"a", "Z", "\"", "\\", "\n", "\x01", "\xc3\xa9", "\xe2\x82\xac",
                                         "\xf0\x9f\x9a\xa2", " ", "/", "\x7f"};
    size_t n = rnd() % 12, o = 0, i;
    for (i = 0; i < n; i++) {
        const char *p = pieces[rnd() % (sizeof(pieces) / sizeof(pieces[0]))];
        if (o + strlen(p) + 1 >= cap)
            break;
        memcpy(buf + o, p, strlen(p));
        o += strlen(p);
    }
    buf[o] = '\0';
}

static void fill(avro_value_t *v, const char *field, int depth) {
    avro_schema_t s = avro_value_get_schema(v);
    char sb[128];
    size_t i, n;
    switch (avro_value_get_type(v)) {
    case AVRO_NULL: avro_value_set_null(v); break;
    case AVRO_BOOLEAN: avro_value_set_boolean(v, (int)(rnd() % 2)); break;
    case AVRO_INT32:
        if (field && !strncmp(field, "dt_", 3)) /* a date a JSON date can hold */
            avro_value_set_int(v, (int32_t)(rnd() % 2900000) - 719000);
        else
            avro_value_set_int(v, (int32_t)rnd_long());
        break;
    case AVRO_INT64:
        if (field && (!strncmp(field, "ts_", 3) || !strcmp(field, "timestamp"))) /* up to 9999 */
            avro_value_set_long(v, (int64_t)(rnd() % 253402300799999ULL) *
                                       (!strcmp(field, "ts_ms") || rnd() % 2 ? 1 : 1000) -
                                       (int64_t)(rnd() % 1000));
        else
            avro_value_set_long(v, rnd_long());
        break;
    case AVRO_FLOAT: {
        float f = (float)rnd_double();
        avro_value_set_float(v, isfinite(f) ? f : 2.5f);
        break;
    }
    case AVRO_DOUBLE: avro_value_set_double(v, rnd_double()); break;
    case AVRO_STRING:
        if (field && (!strcmp(field, "u") || !strcmp(field, "event_id")))
            snprintf(sb, sizeof(sb), "%08llx-1234-4abc-8def-0123456789ab", rnd() % 0xffffffffULL);
        else
            rnd_str(sb, sizeof(sb));
        avro_value_set_string(v, sb);
        break;
    case AVRO_BYTES: {
        /* shortest two's complement (so that a decimal reads back as the same bytes), never empty */
        unsigned char b[16];
        size_t len = 1 + rnd() % 12, k = 0;
        for (i = 0; i < len; i++)
            b[i] = (unsigned char)rnd();
        while (k + 1 < len && ((b[k] == 0 && !(b[k + 1] & 0x80)) || (b[k] == 0xff && (b[k + 1] & 0x80))))
            k++;
        avro_value_set_bytes(v, b + k, len - k);
        break;
    }
    case AVRO_FIXED: {
        unsigned char b[64];
        n = (size_t)avro_schema_fixed_size(s);
        for (i = 0; i < n && i < sizeof(b); i++)
            b[i] = (unsigned char)rnd();
        avro_value_set_fixed(v, b, n);
        break;
    }
    case AVRO_ENUM: avro_value_set_enum(v, (int)(rnd() % (unsigned)avro_schema_enum_number_of_symbols(s))); break;
    case AVRO_RECORD:
        avro_value_get_size(v, &n);
        for (i = 0; i < n; i++) {
            avro_value_t f;
            const char *name;
            avro_value_get_by_index(v, i, &f, &name);
            fill(&f, name, depth + 1);
        }
        break;
    case AVRO_ARRAY:
        n = depth > 4 ? 0 : rnd() % 4;
        for (i = 0; i < n; i++) {
            avro_value_t e;
            avro_value_append(v, &e, NULL);
            fill(&e, NULL, depth + 1);
        }
        break;
    case AVRO_MAP:
        n = depth > 4 ? 0 : rnd() % 4;
        for (i = 0; i < n; i++) {
            avro_value_t e;
            char key[32];
            snprintf(key, sizeof(key), "k%zu", i);
            avro_value_add(v, key, &e, NULL, NULL);
            fill(&e, NULL, depth + 1);
        }
        break;
    case AVRO_UNION: {
        avro_value_t br;
        n = avro_schema_union_size(s);
        avro_value_set_branch(v, (int)(rnd() % n), &br);
        fill(&br, field, depth + 1);
        break;
    }
    default: ck_abort_msg("unexpected avro type");
    }
}

/* ---------------------------------------------------------------------- */

static void check_type(const vtev_type_t *t, int rounds) {
    avro_schema_t schema;
    avro_value_iface_t *iface;
    char err[512];
    int k;
    ck_assert_int_eq(avro_schema_from_json_length(t->schema_json, strlen(t->schema_json), &schema), 0);
    iface = avro_generic_class_from_schema(schema);
    for (k = 0; k < rounds; k++) {
        static char abuf[1 << 16], cbuf[1 << 16];
        avro_value_t v, v2;
        avro_writer_t w;
        avro_reader_t r;
        int64_t alen, clen;
        vtev_buf_t out = {0}, out2 = {0};
        void *ev = calloc(1, t->size), *ev2 = calloc(1, t->size), *ev3 = calloc(1, t->size);
        char *json = NULL;
        size_t jlen;
        vtev_err_t e;

        avro_generic_value_new(iface, &v);
        fill(&v, NULL, 0);
        w = avro_writer_memory(abuf, sizeof(abuf));
        ck_assert_int_eq(avro_value_write(w, &v), 0);
        alen = avro_writer_tell(w);
        avro_writer_free(w);

        /* avro-c bytes -> generated decoder -> generated encoder: the same bytes */
        e = t->decode(ev, abuf, (size_t)alen, err, sizeof(err));
        ck_assert_msg(e == VTEV_ERR_OK, "%s round %d: decode: %s", t->name, k, err);
        ck_assert_int_eq(t->encode(ev, &out, err, sizeof(err)), VTEV_ERR_OK);
        ck_assert_msg(out.len == (size_t)alen && !memcmp(out.data, abuf, out.len),
                      "%s round %d: generated encoding differs from avro-c's", t->name, k);

        /* generated bytes -> avro-c reader: an equal value, written back identically */
        avro_generic_value_new(iface, &v2);
        r = avro_reader_memory((const char *)out.data, (int64_t)out.len);
        ck_assert_int_eq(avro_value_read(r, &v2), 0);
        avro_reader_free(r);
        ck_assert_msg(avro_value_equal(&v, &v2), "%s round %d: avro-c reads another value", t->name, k);
        w = avro_writer_memory(cbuf, sizeof(cbuf));
        ck_assert_int_eq(avro_value_write(w, &v2), 0);
        clen = avro_writer_tell(w);
        avro_writer_free(w);
        ck_assert(clen == alen && !memcmp(cbuf, abuf, (size_t)alen));

        /* deep copy, then JSON out and in: the same bytes again */
        ck_assert_int_eq(t->copy(ev2, ev), VTEV_ERR_OK);
        ck_assert_int_eq(t->to_json(ev2, k % 2 ? VTEV_TYPE_JSON_PRETTY : 0, &json, &jlen), VTEV_ERR_OK);
        ck_assert_uint_eq(strlen(json), jlen);
        e = t->from_json(ev3, json, jlen, err, sizeof(err));
        ck_assert_msg(e == VTEV_ERR_OK, "%s round %d: from_json: %s\n%s", t->name, k, err, json);
        ck_assert_int_eq(t->encode(ev3, &out2, err, sizeof(err)), VTEV_ERR_OK);
        ck_assert_msg(out2.len == out.len && !memcmp(out2.data, out.data, out.len),
                      "%s round %d: JSON round trip changed the value:\n%s", t->name, k, json);

        free(json);
        t->clear(ev);
        t->clear(ev2);
        t->clear(ev3);
        free(ev);
        free(ev2);
        free(ev3);
        vtev_buf_free(&out);
        vtev_buf_free(&out2);
        avro_value_decref(&v);
        avro_value_decref(&v2);
    }
    avro_value_iface_decref(iface);
    avro_schema_decref(schema);
}

START_TEST(differential) {
    check_type(types[_i], 400);
}
END_TEST

START_TEST(descriptors) {
    const vtev_type_t *t = &vtev_vessel_position_updated_type;
    ck_assert_int_eq(t->abi_version, VTEV_TYPE_ABI_VERSION);
    ck_assert_str_eq(t->name, "VesselPositionUpdated");
    ck_assert_str_eq(t->full_name, "com.vesseltrack.events.VesselPositionUpdated");
    ck_assert_uint_eq(t->size, sizeof(vtev_vessel_position_updated_t));
    /* fastavro: fingerprint(to_parsing_canonical_form(schema), "CRC-64-AVRO") = 8fc3cfa0134ebcad (little-endian) */
    ck_assert(t->fingerprint == UINT64_C(0xadbc4e13a0cfc38f));
    ck_assert(strstr(t->canonical_json, "{\"name\":\"com.vesseltrack.events.VesselPositionUpdated\",\"type\":\"record\"") ==
              t->canonical_json);
    ck_assert_ptr_null(strstr(t->canonical_json, "vt."));
    ck_assert_ptr_nonnull(strstr(t->schema_json, "\"vt.maxLength\""));
}
END_TEST

/* ---------------------------------------------------------------------- */
/* init, defaults, JSON                                                    */

/* The text of a decimal, also when the scale has more digits than the value
 * (the empty value is zero; buffers sized for the bytes alone overflowed). */
static void expect_decimal(const unsigned char *p, size_t n, int scale, const char *want) {
    vtev_rt_jw_t w = {0};
    char *text;
    vtev_rt_jw_decimal(&w, p, n, scale);
    ck_assert_int_eq(vtev_rt_jw_finish(&w, &text, NULL), VTEV_ERR_OK);
    ck_assert_str_eq(text, want);
    free(text);
}

START_TEST(decimal_text) {
    static const unsigned char five = 0x05, minus_one = 0xff, big[2] = {0x04, 0xd2};
    expect_decimal(NULL, 0, 2, "\"0.00\"");
    expect_decimal(NULL, 0, 0, "\"0\"");
    expect_decimal(&five, 1, 6, "\"0.000005\"");
    expect_decimal(&minus_one, 1, 12, "\"-0.000000000001\"");
    expect_decimal(big, 2, 2, "\"12.34\"");
}
END_TEST

START_TEST(init_defaults) {
    t_all_types_t a;
    vtev_vessel_position_updated_t p;
    char *json;
    ck_assert_int_eq(t_all_types_init(&a), VTEV_ERR_OK);
    ck_assert_str_eq(a.def_s, "q\"uote\\");
    ck_assert_uint_eq(a.def_arr.len, 3);
    ck_assert_int_eq(a.def_arr.items[2], 3);
    ck_assert_uint_eq(a.def_map.len, 1);
    ck_assert_str_eq(a.def_map.entries[0].key, "a");
    ck_assert_int_eq(a.def_rec.x, 7);
    ck_assert_str_eq(a.def_rec.name, "inner"); /* the record's own field default */
    ck_assert_str_eq(a.rec.name, "inner");
    ck_assert_uint_eq(a.def_by.len, 2);
    ck_assert_int_eq(a.def_by.data[0], 0xff);
    ck_assert(a.def_f == 1.5f);
    ck_assert_int_eq(a.def_e, T_COLOR_BLUE);
    ck_assert_int_eq(a.e, T_COLOR_GREEN); /* the enum's default */
    ck_assert(a.has_rev_opt);
    ck_assert_str_eq(a.rev_opt, "first");
    ck_assert(!a.has_opt_rec);
    ck_assert(vtev_rt_uuid_valid(a.u));
    ck_assert(a.ts_ms > INT64_C(1700000000000)); /* "vt.default": "now", */
    ck_assert(a.ts_ms < INT64_C(100000000000000)); /* in milliseconds */
    t_all_types_clear(&a);

    ck_assert_int_eq(vtev_vessel_position_updated_init(&p), VTEV_ERR_OK);
    ck_assert(vtev_rt_uuid_valid(p.event_id));
    ck_assert_str_eq(p.event_type, "vessel.position.updated");
    ck_assert(p.timestamp > INT64_C(1700000000000000));
    p.timestamp = INT64_C(1768059000000000);
    free(p.event_id);
    p.event_id = strdup("123e4567-e89b-42d3-a456-426614174000");
    p.vessel_id = strdup("V1");
    p.data.lat = 1.5;
    p.data.heading = 275;
    p.data.status = strdup("moored");
    ck_assert_int_eq(vtev_vessel_position_updated_to_json(&p, 0, &json, NULL), VTEV_ERR_OK);
    /* the JSON form of lib/json.c */
    ck_assert_str_eq(json, "{\"event_id\": \"123e4567-e89b-42d3-a456-426614174000\", \"event_type\": "
                           "\"vessel.position.updated\", \"timestamp\": \"2026-01-10T15:30:00.000Z\", "
                           "\"vessel_id\": \"V1\", \"data\": {\"lat\": 1.5, \"lon\": 0.0, \"speed\": 0.0, "
                           "\"heading\": 275.0, \"status\": \"moored\"}, \"metadata\": {}}");
    free(json);
    vtev_vessel_position_updated_clear(&p);
}
END_TEST

#define EXPECT_JSON_ERR(type, text, msg)                                                           \
    do {                                                                                           \
        type##_t ev_;                                                                              \
        char e_[256] = "";                                                                         \
        ck_assert_int_eq(type##_from_json(&ev_, text, strlen(text), e_, sizeof(e_)), VTEV_ERR_PARSE); \
        ck_assert_msg(strstr(e_, msg), "got \"%s\", want \"%s\"", e_, msg);                        \
    } while (0)

/* The valid input with the member "key": ... replaced by repl. */
static const char *all_in;
static char *with(const char *key, const char *repl) {
    static char out[4096];
    char pat[64];
    const char *p, *q;
    int depth = 0;
    snprintf(pat, sizeof(pat), "\"%s\": ", key);
    p = strstr(all_in, pat);
    ck_assert_ptr_nonnull(p);
    for (q = p + strlen(pat); *q; q++) { /* the end of the member's value */
        if (*q == '{' || *q == '[')
            depth++;
        else if (*q == '}' || *q == ']')
            depth--;
        if (depth < 0 || (depth == 0 && *q == ','))
            break;
    }
    snprintf(out, sizeof(out), "%.*s%s%s", (int)(p - all_in), all_in, repl, q);
    return out;
}

START_TEST(json_forms) {
    t_all_types_t a, b;
    char err[256], *json;
    const char *in = "{\"b\": true, \"i\": 1, \"l\": 2, \"f\": 0.5, \"d\": 1e300, \"by\": \"AAEC\", \"s\": \"x\","
                     " \"ts_ms\": \"2026-01-10T15:30:00.123Z\","
                     " \"ts_us\": \"2026-01-10T15:30:00.000001Z\", \"dt_day\": \"2026-01-10\", \"dec_b\": \"-12.34\","
                     " \"fx\": \"AQIDBA==\", \"dec_f\": \"1.5\", \"e\": \"RED\", \"rec\": {\"x\": 3},"
                     " \"arr\": [1, -1], \"arr_rec\": [{\"x\": 1, \"opt\": \"o\"}], \"m\": {\"k\": \"v\"},"
                     " \"m_arr\": {\"z\": [1.0]}, \"opt_l\": null, \"gu\": {\"test.codegen.Inner\": {\"x\": 9}},"
                     " \"gu2\": {\"test.codegen.Hash\": \"AAAAAA==\"}, \"bare\": 4.0, \"nested_arr\": [[1], []],"
                     " \"arr_opt\": [null, \"s\"], \"nul\": null}";
    all_in = in;
    ck_assert_int_eq(t_all_types_from_json(&a, in, strlen(in), err, sizeof(err)), VTEV_ERR_OK);
    ck_assert_uint_eq(a.by.len, 3);
    ck_assert_int_eq(a.ts_ms, INT64_C(1768059000123)); /* timestamp-millis: milliseconds */
    ck_assert_int_eq(a.ts_us, INT64_C(1768059000000001));
    ck_assert_int_eq(a.dt_day, 20463);
    ck_assert_uint_eq(a.dec_b.len, 2); /* -1234 = 0xfb2e */
    ck_assert_int_eq(a.dec_b.data[0], 0xfb);
    ck_assert_int_eq(a.dec_b.data[1], 0x2e);
    ck_assert_int_eq(a.dec_f.bytes[7], 0xdc); /* 1500 = 0x05dc */
    ck_assert_int_eq(a.gu.which, T_ALL_TYPES_GU_INNER);
    ck_assert_int_eq(a.gu.u.v_inner.x, 9);
    ck_assert_str_eq(a.gu.u.v_inner.name, "inner");
    ck_assert_int_eq(a.bare.which, T_ALL_TYPES_BARE_DOUBLE);
    ck_assert_int_eq(a.arr_opt.items[0].which, T_ALL_TYPES_ARR_OPT_ITEM_NULL);
    ck_assert_int_eq(t_all_types_to_json(&a, VTEV_TYPE_JSON_PRETTY, &json, NULL), VTEV_ERR_OK);
    ck_assert_ptr_nonnull(strstr(json, "\"dec_b\": \"-12.34\""));
    ck_assert_ptr_nonnull(strstr(json, "\"dec_f\": \"1.500\""));
    ck_assert_ptr_nonnull(strstr(json, "\"dt_day\": \"2026-01-10\""));
    ck_assert_ptr_nonnull(strstr(json, "\"ts_ms\": \"2026-01-10T15:30:00.123Z\""));
    ck_assert_ptr_nonnull(strstr(json, "\"ts_us\": \"2026-01-10T15:30:00.000001Z\""));
    ck_assert_ptr_nonnull(strstr(json, "\"by\": \"AAEC\""));
    ck_assert_ptr_nonnull(strstr(json, "\"bare\": 4.0"));
    ck_assert_int_eq(t_all_types_from_json(&b, json, strlen(json), err, sizeof(err)), VTEV_ERR_OK);
    free(json);
    t_all_types_clear(&a);
    t_all_types_clear(&b);

    EXPECT_JSON_ERR(t_all_types, "[]", "expected a JSON object, got an array");
    EXPECT_JSON_ERR(t_all_types, "{\"zz\": 1}", "zz: unknown field");
    EXPECT_JSON_ERR(t_all_types, "{\"b\": true}", "i: missing required field");
    EXPECT_JSON_ERR(t_all_types, with("b", "\"b\": 1"), "b: expected a boolean, got an integer");
    EXPECT_JSON_ERR(t_all_types, with("i", "\"zz_\": 0"), "zz_: unknown field");
    EXPECT_JSON_ERR(t_all_types, with("rec", "\"rec\": {\"x\": \"a\"}"), "rec.x: expected an integer, got a string");
    EXPECT_JSON_ERR(t_all_types, with("arr_rec", "\"arr_rec\": [{\"x\": 1}, {\"x\": 1, \"opt\": 5}]"),
                    "arr_rec[1].opt: expected a string, got an integer");
    EXPECT_JSON_ERR(t_all_types, with("m_arr", "\"m_arr\": {\"key\": [1, \"x\"]}"), "m_arr.key[1]: expected a number, got a string");
    EXPECT_JSON_ERR(t_all_types, with("i", "\"i\": 4294967296"), "i: 4294967296 is outside the int range");
    EXPECT_JSON_ERR(t_all_types, with("e", "\"e\": \"PINK\""), "e: \"PINK\" is not one of RED, GREEN, BLUE");
    EXPECT_JSON_ERR(t_all_types, with("fx", "\"fx\": \"AQ==\""), "fx: expected 4 bytes, got 1");
    EXPECT_JSON_ERR(t_all_types, with("by", "\"by\": \"!!\""), "by: \"!!\" is not base64");
    EXPECT_JSON_ERR(t_all_types, with("dec_b", "\"dec_b\": \"1.234\""), "dec_b: \"1.234\" is not a decimal with at most 2 digits");
    EXPECT_JSON_ERR(t_all_types, with("dt_day", "\"dt_day\": \"2026-02-30\""), "dt_day: \"2026-02-30\" is not a date");
    EXPECT_JSON_ERR(t_all_types, with("gu", "\"gu\": {\"long\": 1}"), "gu: \"long\" is not a type of the union");
    EXPECT_JSON_ERR(t_all_types, with("gu", "\"gu\": 5"), "gu: expected null or an object with one member");
    EXPECT_JSON_ERR(t_all_types, with("bare", "\"bare\": []"), "bare: expected one of null, string, long, double, boolean, got an array");
    EXPECT_JSON_ERR(vtev_vessel_position_updated, "{\"timestamp\": \"yesterday\"}",
                    "timestamp: \"yesterday\" is not an ISO-8601 UTC time like 2026-01-10T15:30:00.000Z");
    EXPECT_JSON_ERR(vtev_vessel_position_updated, "{\"vessel_id\": ", "line 1, column");
    EXPECT_JSON_ERR(vtev_vessel_position_updated, "{\"vessel_id\": \"a\\u0000b\"}", "is not allowed without JSON_ALLOW_NUL");
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Validation: the messages of lib/validate.c                              */

static void valid_position(vtev_vessel_position_updated_t *p) {
    ck_assert_int_eq(vtev_vessel_position_updated_init(p), VTEV_ERR_OK);
    p->vessel_id = strdup("V1");
    p->data.status = strdup("underway");
}

#define EXPECT_INVALID(fn, ev, msg)                                                                \
    do {                                                                                           \
        char e_[256] = "";                                                                         \
        ck_assert_int_eq(fn(ev, e_, sizeof(e_)), VTEV_ERR_INVALID);                                \
        ck_assert_msg(!strcmp(e_, msg), "got \"%s\", want \"%s\"", e_, msg);                       \
    } while (0)

#define POS(field, value, msg)                                                                     \
    do {                                                                                           \
        vtev_vessel_position_updated_t p_;                                                         \
        valid_position(&p_);                                                                       \
        p_.field = value;                                                                          \
        EXPECT_INVALID(vtev_vessel_position_updated_validate, &p_, msg);                           \
        vtev_vessel_position_updated_clear(&p_);                                                   \
    } while (0)

/* Dates and timestamps beyond the years 0000-9999 have no text form: refused
 * without a constraint in the schema; the bounds themselves are valid. */
START_TEST(validation_text_range) {
    t_all_types_t a;
    char err[256];
    ck_assert_int_eq(t_all_types_init(&a), VTEV_ERR_OK);
    a.dt_day = 2932896; /* 9999-12-31 */
    a.ts_ms = INT64_C(-62167219200000);
    a.ts_us = INT64_C(253402300799999999);
    ck_assert_int_eq(t_all_types_validate(&a, err, sizeof(err)), VTEV_ERR_OK);
    a.dt_day = 2932897;
    EXPECT_INVALID(t_all_types_validate, &a,
                   "dt_day: 2932897 is outside [-719528, 2932896] days since 1970-01-01 (the years 0000 to 9999)");
    a.dt_day = -719528; /* 0000-01-01 */
    a.ts_ms = INT64_C(-62167219200001);
    EXPECT_INVALID(t_all_types_validate, &a,
                   "ts_ms: -62167219200001 is outside [-62167219200000, 253402300799999] milliseconds since the "
                   "epoch (the years 0000 to 9999)");
    a.ts_ms = 0;
    a.ts_us = INT64_C(253402300800000000);
    EXPECT_INVALID(t_all_types_validate, &a,
                   "ts_us: 253402300800000000 is outside [-62167219200000000, 253402300799999999] microseconds "
                   "since the epoch (the years 0000 to 9999)");
    t_all_types_clear(&a);
}
END_TEST

START_TEST(validation) {
    vtev_vessel_position_updated_t p;
    vtev_prediction_analysis_requested_t q;
    vtev_prediction_analysis_completed_t r;
    char err[256];
    valid_position(&p);
    ck_assert_int_eq(vtev_vessel_position_updated_validate(&p, err, sizeof(err)), VTEV_ERR_OK);
    vtev_vessel_position_updated_clear(&p);
    ck_assert_int_eq(vtev_vessel_position_updated_validate(NULL, err, sizeof(err)), VTEV_ERR_INVALID_ARG);

    POS(data.lat, 91, "data.lat: 91 is outside [-90, 90]");
    POS(data.lat, -90.000001, "data.lat: -90.000001 is outside [-90, 90]");
    POS(data.lat, NAN, "data.lat: NaN is not a finite number");
    POS(data.lon, -INFINITY, "data.lon: -inf is not a finite number");
    POS(data.lon, 180.5, "data.lon: 180.5 is outside [-180, 180]");
    POS(data.speed, -0.1, "data.speed: -0.1 is negative");
    POS(data.heading, 360, "data.heading: 360 is outside [0, 360)");
    POS(data.heading, -1, "data.heading: -1 is outside [0, 360)");
    POS(timestamp, 0, "timestamp: 0 is outside (0, 253402300799999999] microseconds since the epoch");
    POS(timestamp, INT64_C(253402300800000000),
        "timestamp: 253402300800000000 is outside (0, 253402300799999999] microseconds since the epoch");
    POS(vessel_id[0], '\0', "vessel_id: \"\" must not be empty");
    POS(vessel_id[0], '\xff', "vessel_id: byte 0xff at offset 0 is not valid UTF-8");

    valid_position(&p);
    free(p.event_id);
    p.event_id = strdup("not-a-uuid");
    EXPECT_INVALID(vtev_vessel_position_updated_validate, &p, "event_id: \"not-a-uuid\" is not a UUID (8-4-4-4-12 hex digits)");
    free(p.vessel_id);
    p.vessel_id = strdup("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"); /* 65 */
    free(p.event_id);
    p.event_id = strdup("123e4567-e89b-42d3-a456-426614174000");
    EXPECT_INVALID(vtev_vessel_position_updated_validate, &p, "vessel_id: \"aaaaaaaaaaaaaaaaaaaa...\" is longer than 64 bytes");
    free(p.vessel_id);
    p.vessel_id = NULL; /* NULL reads as "" */
    EXPECT_INVALID(vtev_vessel_position_updated_validate, &p, "vessel_id: \"\" must not be empty");
    p.vessel_id = strdup("V");
    free(p.data.status);
    p.data.status = strdup("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"); /* 33 */
    EXPECT_INVALID(vtev_vessel_position_updated_validate, &p, "data.status: \"zzzzzzzzzzzzzzzzzzzz...\" is longer than 32 bytes");
    free(p.data.status);
    p.data.status = strdup("ok");
    /* metadata: entries, keys, values */
    p.metadata.entries = calloc(65, sizeof(*p.metadata.entries));
    p.metadata.len = 1;
    p.metadata.entries[0].key = strdup("d");
    p.metadata.entries[0].value.which = VTEV_VESSEL_POSITION_UPDATED_METADATA_VALUE_DOUBLE;
    p.metadata.entries[0].value.u.v_double = NAN;
    EXPECT_INVALID(vtev_vessel_position_updated_validate, &p, "metadata.d: NaN is not a finite number");
    p.metadata.entries[0].value.which = VTEV_VESSEL_POSITION_UPDATED_METADATA_VALUE_STRING;
    p.metadata.entries[0].value.u.v_string = calloc(1026, 1);
    memset(p.metadata.entries[0].value.u.v_string, 'x', 1025);
    EXPECT_INVALID(vtev_vessel_position_updated_validate, &p, "metadata.d: \"xxxxxxxxxxxxxxxxxxxx...\" is longer than 1024 bytes");
    free(p.metadata.entries[0].key);
    p.metadata.entries[0].key = strdup("");
    EXPECT_INVALID(vtev_vessel_position_updated_validate, &p, "metadata: \"\": key is empty");
    free(p.metadata.entries[0].key);
    p.metadata.entries[0].key = strdup("kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"); /* 65 */
    EXPECT_INVALID(vtev_vessel_position_updated_validate, &p,
                   "metadata: \"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\": key is longer than 64 bytes");
    p.metadata.len = 65;
    EXPECT_INVALID(vtev_vessel_position_updated_validate, &p, "metadata: 65 entries exceed the limit of 64");
    p.metadata.len = 1;
    vtev_vessel_position_updated_clear(&p);

    ck_assert_int_eq(vtev_prediction_analysis_requested_init(&q), VTEV_ERR_OK);
    q.vessel_id = strdup("V");
    q.request_id = strdup("req-1");
    q.data.vessel_snapshot.status = strdup("s");
    ck_assert_int_eq(q.data.priority, VTEV_PRIORITY_NORMAL);
    ck_assert_int_eq(vtev_prediction_analysis_requested_validate(&q, err, sizeof(err)), VTEV_ERR_OK);
    q.data.priority = (vtev_priority_t)7;
    EXPECT_INVALID(vtev_prediction_analysis_requested_validate, &q, "data.priority: 7 is not one of low, normal, high");
    q.data.priority = VTEV_PRIORITY_HIGH;
    q.data.vessel_snapshot.lat = 100;
    EXPECT_INVALID(vtev_prediction_analysis_requested_validate, &q, "data.vessel_snapshot.lat: 100 is outside [-90, 90]");
    vtev_prediction_analysis_requested_clear(&q);

    ck_assert_int_eq(vtev_prediction_analysis_completed_init(&r), VTEV_ERR_OK);
    r.vessel_id = strdup("V");
    r.request_id = strdup("req-1");
    r.data.prediction_id = strdup("p");
    r.data.terminal_name = strdup("T");
    r.data.vessel_snapshot.status = strdup("s");
    ck_assert_int_eq(vtev_prediction_analysis_completed_validate(&r, err, sizeof(err)), VTEV_ERR_OK);
    r.data.scores.rag_boost = 0.31;
    EXPECT_INVALID(vtev_prediction_analysis_completed_validate, &r, "data.scores.rag_boost: 0.31 is outside [0, 0.3]");
    r.data.scores.rag_boost = 0;
    r.data.has_eta_hours = true;
    r.data.eta_hours = -1;
    EXPECT_INVALID(vtev_prediction_analysis_completed_validate, &r, "data.eta_hours: -1 is negative");
    r.data.has_eta_hours = false; /* not checked when null */
    ck_assert_int_eq(vtev_prediction_analysis_completed_validate(&r, err, sizeof(err)), VTEV_ERR_OK);
    free(r.data.terminal_name);
    r.data.terminal_name = NULL;
    EXPECT_INVALID(vtev_prediction_analysis_completed_validate, &r, "data.terminal_name: \"\" must not be empty");
    vtev_prediction_analysis_completed_clear(&r);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Hostile input                                                           */

START_TEST(hostile) {
    const vtev_type_t *t = types[_i];
    avro_schema_t schema;
    avro_value_iface_t *iface;
    avro_value_t v;
    avro_writer_t w;
    static char buf[1 << 16];
    int64_t len, cut;
    char err[256];
    void *ev = calloc(1, t->size);
    int k;
    ck_assert_int_eq(avro_schema_from_json_length(t->schema_json, strlen(t->schema_json), &schema), 0);
    iface = avro_generic_class_from_schema(schema);
    avro_generic_value_new(iface, &v);
    fill(&v, NULL, 0);
    w = avro_writer_memory(buf, sizeof(buf));
    ck_assert_int_eq(avro_value_write(w, &v), 0);
    len = avro_writer_tell(w);
    avro_writer_free(w);
    /* every truncation fails cleanly, naming a field */
    for (cut = 0; cut < len; cut++) {
        vtev_err_t e = t->decode(ev, buf, (size_t)cut, err, sizeof(err));
        ck_assert_msg(e == VTEV_ERR_DECODE, "%s: a cut at %lld decoded", t->name, (long long)cut);
        ck_assert_ptr_nonnull(strchr(err, ':'));
    }
    /* trailing bytes are refused */
    buf[len] = 0;
    ck_assert_int_eq(t->decode(ev, buf, (size_t)len + 1, err, sizeof(err)), VTEV_ERR_DECODE);
    ck_assert_str_eq(err, "1 bytes left after the record");
    /* random corruption never crashes and never leaks (ASan) */
    for (k = 0; k < 3000; k++) {
        static char mut[1 << 16];
        int64_t j, n = 1 + (int64_t)(rnd() % 4);
        memcpy(mut, buf, (size_t)len);
        for (j = 0; j < n; j++)
            mut[rnd() % (uint64_t)len] = (char)rnd();
        if (t->decode(ev, mut, (size_t)len, err, sizeof(err)) == VTEV_ERR_OK)
            t->clear(ev);
    }
    free(ev);
    avro_value_decref(&v);
    avro_value_iface_decref(iface);
    avro_schema_decref(schema);
}
END_TEST

START_TEST(hostile_lengths) {
    t_all_types_t a;
    char err[256];
    /* b=1, i=0, l=0, f, d, then bytes with a length prefix of 2^62 */
    const unsigned char big[] = {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x80,
                                 0x80, 0x80, 0x80, 0x80, 0x01};
    const unsigned char varint[] = {1, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    const unsigned char boolean[] = {2};
    ck_assert_int_eq(t_all_types_decode(&a, big, sizeof(big), err, sizeof(err)), VTEV_ERR_DECODE);
    ck_assert_str_eq(err, "by: length or count exceeds the remaining input");
    ck_assert_int_eq(t_all_types_decode(&a, varint, sizeof(varint), err, sizeof(err)), VTEV_ERR_DECODE);
    ck_assert_str_eq(err, "l: malformed or out-of-range varint");
    ck_assert_int_eq(t_all_types_decode(&a, boolean, sizeof(boolean), err, sizeof(err)), VTEV_ERR_DECODE);
    ck_assert_str_eq(err, "b: boolean byte is neither 0 nor 1");
    ck_assert_int_eq(t_all_types_decode(&a, NULL, 0, err, sizeof(err)), VTEV_ERR_DECODE);
    ck_assert_str_eq(err, "b: the input ends inside the value");
}
END_TEST

/* A position event whose metadata has @p n null entries named k0, k1, ...,
 * the last one renamed @p last_key when not NULL; encoded into @p out. */
static void encode_keys(size_t n, const char *last_key, vtev_buf_t *out) {
    vtev_vessel_position_updated_t p;
    char err[256], key[32];
    size_t i;
    ck_assert_int_eq(vtev_vessel_position_updated_init(&p), VTEV_ERR_OK);
    p.metadata.entries = calloc(n, sizeof(*p.metadata.entries));
    ck_assert_ptr_nonnull(p.metadata.entries);
    p.metadata.len = n;
    for (i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "k%zu", i);
        p.metadata.entries[i].key = strdup(i + 1 == n && last_key ? last_key : key);
        ck_assert_ptr_nonnull(p.metadata.entries[i].key);
    }
    out->len = 0;
    ck_assert_int_eq(vtev_vessel_position_updated_encode(&p, out, err, sizeof(err)), VTEV_ERR_OK);
    vtev_vessel_position_updated_clear(&p);
}

/* A map with a key twice is refused (avro-c and other readers keep one
 * value per key; the JSON form refuses it), small maps and large ones. */
START_TEST(duplicate_map_keys) {
    vtev_vessel_position_updated_t p;
    vtev_buf_t b = {0};
    char err[256];
    encode_keys(3, "k0", &b);
    ck_assert_int_eq(vtev_vessel_position_updated_decode(&p, b.data, b.len, err, sizeof(err)), VTEV_ERR_DECODE);
    ck_assert_str_eq(err, "metadata: entries 0 and 2 have the same key");
    encode_keys(40, "k17", &b);
    ck_assert_int_eq(vtev_vessel_position_updated_decode(&p, b.data, b.len, err, sizeof(err)), VTEV_ERR_DECODE);
    ck_assert_str_eq(err, "metadata: entries 17 and 39 have the same key");
    {
        /* "" and NULL (how the decoder reads "") are the same key */
        vtev_vessel_position_updated_metadata_entry_t two[2] = {{NULL, {0, {0}}}, {(char *)"", {0, {0}}}};
        size_t i = 9, j = 9;
        ck_assert_int_eq(vtev_rt_map_dup(two, 2, sizeof(two[0]), &i, &j), 1);
        ck_assert_uint_eq(i, 0);
        ck_assert_uint_eq(j, 1);
        ck_assert_int_eq(vtev_rt_map_dup(two, 1, sizeof(two[0]), &i, &j), 0);
    }
    encode_keys(40, NULL, &b);
    ck_assert_int_eq(vtev_vessel_position_updated_decode(&p, b.data, b.len, err, sizeof(err)), VTEV_ERR_OK);
    ck_assert_uint_eq(p.metadata.len, 40);
    vtev_vessel_position_updated_clear(&p);
    vtev_buf_free(&b);
}
END_TEST

int main(void) {
    Suite *s = suite_create("codegen");
    TCase *tc = tcase_create("generated");
    SRunner *sr;
    int failed;
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, differential, 0, (int)(sizeof(types) / sizeof(types[0])));
    tcase_add_loop_test(tc, hostile, 0, (int)(sizeof(types) / sizeof(types[0])));
    tcase_add_test(tc, hostile_lengths);
    tcase_add_test(tc, duplicate_map_keys);
    tcase_add_test(tc, descriptors);
    tcase_add_test(tc, init_defaults);
    tcase_add_test(tc, decimal_text);
    tcase_add_test(tc, json_forms);
    tcase_add_test(tc, validation);
    tcase_add_test(tc, validation_text_range);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
