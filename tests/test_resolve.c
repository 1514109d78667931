/*
 * test_resolve.c - Avro schema resolution (lib/avro_resolve.c) and the
 * decoders that use it: enums by symbol with the reader's enum default,
 * defaults, skipped and re-ordered fields, promotions, unions, aliases, full
 * names, and the limits on hostile writer schemas.  Writer bytes come from
 * avro-c's generic writer, never from the code under test.
 */
#include "avro_resolve.h"
#include "testutil.h"

#include <avro.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vtevents/event.h>
#include <vtevents/serde_avro.h>

/* ---- helpers ---------------------------------------------------------- */

typedef struct {
    char *data;
    size_t len;
} bytes_t;

/* Writes value with avro-c's generic writer. */
static bytes_t write_value(avro_value_t *v) {
    size_t n = 0;
    bytes_t b;
    avro_writer_t w;
    ck_assert_int_eq(avro_value_sizeof(v, &n), 0);
    b.data = malloc(n + 1);
    b.len = n;
    w = avro_writer_memory(b.data, (int64_t)n);
    ck_assert_msg(avro_value_write(w, v) == 0, "%s", avro_strerror());
    avro_writer_free(w);
    return b;
}

static avro_value_t new_value(const char *schema_json, avro_schema_t *sp, avro_value_iface_t **cp) {
    avro_value_t v;
    ck_assert_msg(avro_schema_from_json_length(schema_json, strlen(schema_json), sp) == 0, "%s: %s", schema_json,
                  avro_strerror());
    *cp = avro_generic_class_from_schema(*sp);
    ck_assert_ptr_nonnull(*cp);
    ck_assert_int_eq(avro_generic_value_new(*cp, &v), 0);
    return v;
}

static void free_value(avro_value_t *v, avro_schema_t s, avro_value_iface_t *c) {
    avro_value_decref(v);
    avro_value_iface_decref(c);
    avro_schema_decref(s);
}

/* Resolves (wbytes as writer) into the reader's bytes and reads them with
 * avro-c as the reader schema into *out (a fresh value the caller frees). */
static vtev_err_t resolve_read(const char *wjson, const char *rjson, bytes_t in, avro_value_t *out,
                               avro_schema_t *rs, avro_value_iface_t **rc, char *err, size_t errsz) {
    vtev__resolver_t *r = NULL;
    vtev__abuf_t o = {0};
    vtev_err_t e = vtev__resolver_new(wjson, rjson, VTEV__RESOLVE_DECODE, NULL, &r, err, errsz);
    if (e != VTEV_ERR_OK)
        return e;
    e = vtev__resolver_run(r, in.data, in.len, NULL, &o, err, errsz);
    vtev__resolver_destroy(r);
    if (e == VTEV_ERR_OK) {
        avro_reader_t rd = avro_reader_memory((const char *)o.data, (int64_t)o.len);
        *out = new_value(rjson, rs, rc);
        ck_assert_msg(avro_value_read(rd, out) == 0, "reader bytes do not parse: %s", avro_strerror());
        avro_reader_free(rd);
    }
    free(o.data);
    return e;
}

static avro_value_t get(avro_value_t *rec, const char *name) {
    avro_value_t f;
    ck_assert_msg(avro_value_get_by_name(rec, name, &f, NULL) == 0, "no field %s", name);
    return f;
}

static int enum_of(avro_value_t *rec, const char *name) {
    avro_value_t f = get(rec, name);
    int i = -1;
    ck_assert_int_eq(avro_value_get_enum(&f, &i), 0);
    return i;
}

/* ---- enums -------------------------------------------------------------- */

#define ENUM_REC(SYMS, DEF)                                                                                    \
    "{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"t\",\"fields\":[{\"name\":\"p\",\"type\":{\"type\":" \
    "\"enum\",\"name\":\"P\",\"symbols\":" SYMS DEF "}}]}"

static bytes_t enum_bytes(const char *wjson, int index) {
    avro_schema_t s;
    avro_value_iface_t *c;
    avro_value_t v = new_value(wjson, &s, &c), f = get(&v, "p");
    bytes_t b;
    ck_assert_int_eq(avro_value_set_enum(&f, index), 0);
    b = write_value(&v);
    free_value(&v, s, c);
    return b;
}

START_TEST(test_enum_by_symbol) {
    const char *w = ENUM_REC("[\"high\",\"normal\",\"low\"]", "");
    const char *r = ENUM_REC("[\"low\",\"normal\",\"high\"]", ",\"default\":\"normal\"");
    int i;
    for (i = 0; i < 3; i++) {
        bytes_t b = enum_bytes(w, i);
        avro_value_t out;
        avro_schema_t rs;
        avro_value_iface_t *rc;
        char err[256] = "";
        ck_assert_int_eq(resolve_read(w, r, b, &out, &rs, &rc, err, sizeof(err)), VTEV_ERR_OK);
        /* high (0) -> 2, normal (1) -> 1, low (2) -> 0 */
        ck_assert_int_eq(enum_of(&out, "p"), 2 - i);
        free_value(&out, rs, rc);
        free(b.data);
    }
}
END_TEST

START_TEST(test_enum_unknown_symbol_takes_default) {
    const char *w = ENUM_REC("[\"low\",\"normal\",\"high\",\"urgent\"]", "");
    const char *r = ENUM_REC("[\"low\",\"normal\",\"high\"]", ",\"default\":\"normal\"");
    const char *nodef = ENUM_REC("[\"low\",\"normal\",\"high\"]", "");
    bytes_t b = enum_bytes(w, 3), hb = enum_bytes(w, 2);
    avro_value_t out;
    avro_schema_t rs;
    avro_value_iface_t *rc;
    char err[256] = "";
    ck_assert_int_eq(resolve_read(w, r, b, &out, &rs, &rc, err, sizeof(err)), VTEV_ERR_OK);
    ck_assert_int_eq(enum_of(&out, "p"), 1); /* normal */
    free_value(&out, rs, rc);
    /* no default: only the message with the unknown symbol fails, naming it */
    ck_assert_int_eq(resolve_read(w, nodef, b, &out, &rs, &rc, err, sizeof(err)), VTEV_ERR_DECODE);
    ck_assert_msg(strstr(err, "urgent") && strstr(err, "p"), "%s", err);
    ck_assert_int_eq(resolve_read(w, nodef, hb, &out, &rs, &rc, err, sizeof(err)), VTEV_ERR_OK);
    ck_assert_int_eq(enum_of(&out, "p"), 2);
    free_value(&out, rs, rc);
    /* and the compatibility check says no */
    ck_assert(!vtev__avro_can_read(w, nodef, err, sizeof(err)));
    ck_assert_msg(strstr(err, "urgent"), "%s", err);
    ck_assert(vtev__avro_can_read(w, r, NULL, 0));
    free(b.data);
    free(hb.data);
}
END_TEST

/* ---- records ------------------------------------------------------------ */

START_TEST(test_record_reorder_defaults_skip_promote) {
    const char *w = "{\"type\":\"record\",\"name\":\"R\",\"fields\":["
                    "{\"name\":\"gone\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},"
                    "{\"name\":\"b\",\"type\":\"int\"},"
                    "{\"name\":\"a\",\"type\":\"string\"},"
                    "{\"name\":\"f\",\"type\":\"float\"},"
                    "{\"name\":\"old_name\",\"type\":\"long\"}]}";
    const char *r = "{\"type\":\"record\",\"name\":\"R\",\"fields\":["
                    "{\"name\":\"a\",\"type\":\"bytes\"},"
                    "{\"name\":\"added\",\"type\":[\"null\",\"string\"],\"default\":null},"
                    "{\"name\":\"b\",\"type\":\"double\"},"
                    "{\"name\":\"f\",\"type\":\"double\"},"
                    "{\"name\":\"n\",\"aliases\":[\"old_name\"],\"type\":\"long\"},"
                    "{\"name\":\"rec\",\"type\":{\"type\":\"record\",\"name\":\"S\",\"fields\":["
                    "{\"name\":\"x\",\"type\":\"int\",\"default\":7},{\"name\":\"s\",\"type\":\"string\"}]},"
                    "\"default\":{\"s\":\"dflt\"}},"
                    "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"long\"},\"default\":{\"k\":3}}]}";
    avro_schema_t ws, rs;
    avro_value_iface_t *wc, *rc;
    avro_value_t v = new_value(w, &ws, &wc), f, el, out;
    bytes_t b;
    char err[256] = "";
    const void *p;
    size_t n;
    double d;
    int64_t l;
    int32_t x;
    const char *s;
    f = get(&v, "gone");
    ck_assert_int_eq(avro_value_append(&f, &el, NULL), 0);
    ck_assert_int_eq(avro_value_set_string(&el, "skipped"), 0);
    f = get(&v, "b");
    avro_value_set_int(&f, -42);
    f = get(&v, "a");
    avro_value_set_string(&f, "hello");
    f = get(&v, "f");
    avro_value_set_float(&f, 1.5f);
    f = get(&v, "old_name");
    avro_value_set_long(&f, INT64_C(1) << 40);
    b = write_value(&v);
    ck_assert_int_eq(resolve_read(w, r, b, &out, &rs, &rc, err, sizeof(err)), VTEV_ERR_OK);
    f = get(&out, "a");
    ck_assert_int_eq(avro_value_get_bytes(&f, &p, &n), 0);
    ck_assert_uint_eq(n, 5);
    ck_assert_int_eq(memcmp(p, "hello", 5), 0);
    f = get(&out, "added");
    ck_assert_int_eq(avro_value_get_current_branch(&f, &el), 0);
    ck_assert_int_eq(avro_value_get_type(&el), AVRO_NULL);
    f = get(&out, "b");
    avro_value_get_double(&f, &d);
    ck_assert(d == -42.0);
    f = get(&out, "f");
    avro_value_get_double(&f, &d);
    ck_assert(d == 1.5);
    f = get(&out, "n");
    avro_value_get_long(&f, &l);
    ck_assert(l == INT64_C(1) << 40);
    f = get(&out, "rec");
    el = get(&f, "x");
    avro_value_get_int(&el, &x);
    ck_assert_int_eq(x, 7);
    el = get(&f, "s");
    avro_value_get_string(&el, &s, &n);
    ck_assert_str_eq(s, "dflt");
    f = get(&out, "m");
    ck_assert_int_eq(avro_value_get_by_name(&f, "k", &el, NULL), 0);
    avro_value_get_long(&el, &l);
    ck_assert(l == 3);
    free_value(&out, rs, rc);
    free_value(&v, ws, wc);
    free(b.data);
}
END_TEST

START_TEST(test_mismatches_name_the_field) {
    char err[512] = "";
    vtev__resolver_t *r = NULL;
    /* a reader field without default that the writer lacks */
    ck_assert_int_eq(vtev__resolver_new("{\"type\":\"record\",\"name\":\"R\",\"fields\":[]}",
                                        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"need\","
                                        "\"type\":\"int\"}]}",
                                        VTEV__RESOLVE_DECODE, NULL, &r, err, sizeof(err)),
                     VTEV_ERR_SCHEMA_MISMATCH);
    ck_assert_msg(strstr(err, "need"), "%s", err);
    /* no demotion */
    ck_assert(!vtev__avro_can_read("\"long\"", "\"int\"", err, sizeof(err)));
    ck_assert(vtev__avro_can_read("\"int\"", "\"double\"", NULL, 0));
    ck_assert(vtev__avro_can_read("\"string\"", "\"bytes\"", NULL, 0));
    /* full names, not short names (same short name, other namespace) */
    ck_assert(!vtev__avro_can_read("{\"type\":\"record\",\"name\":\"a.Pos\",\"fields\":[]}",
                                   "{\"type\":\"record\",\"name\":\"b.Pos\",\"fields\":[]}", err, sizeof(err)));
    ck_assert_msg(strstr(err, "a.Pos") && strstr(err, "b.Pos"), "%s", err);
    ck_assert(!vtev__avro_can_read("{\"type\":\"enum\",\"name\":\"E\",\"namespace\":\"x\",\"symbols\":[\"A\"]}",
                                   "{\"type\":\"enum\",\"name\":\"E\",\"namespace\":\"y\",\"symbols\":[\"A\"]}",
                                   NULL, 0));
    /* a reader alias may name the writer's full name */
    ck_assert(vtev__avro_can_read("{\"type\":\"record\",\"name\":\"a.Pos\",\"fields\":[]}",
                                  "{\"type\":\"record\",\"name\":\"b.Pos\",\"aliases\":[\"a.Pos\"],\"fields\":[]}",
                                  NULL, 0));
    /* fixed sizes */
    ck_assert(!vtev__avro_can_read("{\"type\":\"fixed\",\"name\":\"F\",\"size\":4}",
                                   "{\"type\":\"fixed\",\"name\":\"F\",\"size\":8}", NULL, 0));
    /* bad schemas are SCHEMA errors that say where */
    ck_assert_int_eq(vtev__resolver_new("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"x\",\"type\":"
                                        "\"Nope\"}]}",
                                        "\"int\"", VTEV__RESOLVE_DECODE, NULL, &r, err, sizeof(err)),
                     VTEV_ERR_SCHEMA);
    ck_assert_msg(strstr(err, "writer") && strstr(err, "x") && strstr(err, "Nope"), "%s", err);
    ck_assert_int_eq(vtev__resolver_new("\"int\"", "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"d\","
                                        "\"type\":\"int\",\"default\":\"x\"}]}",
                                        VTEV__RESOLVE_DECODE, NULL, &r, err, sizeof(err)),
                     VTEV_ERR_SCHEMA_MISMATCH);
}
END_TEST

/* ---- unions ------------------------------------------------------------- */

START_TEST(test_unions) {
    const char *w = "{\"type\":\"record\",\"name\":\"R\",\"fields\":["
                    "{\"name\":\"o\",\"type\":[\"null\",\"int\"]},"
                    "{\"name\":\"plain\",\"type\":\"int\"},"
                    "{\"name\":\"u\",\"type\":[\"string\",\"long\"]}]}";
    const char *r = "{\"type\":\"record\",\"name\":\"R\",\"fields\":["
                    "{\"name\":\"o\",\"type\":[\"null\",\"long\"]},"
                    "{\"name\":\"plain\",\"type\":[\"null\",\"string\",\"double\"]},"
                    "{\"name\":\"u\",\"type\":\"string\"}]}";
    avro_schema_t ws, rs;
    avro_value_iface_t *wc, *rc;
    avro_value_t v, f, br, out;
    bytes_t b;
    char err[256] = "";
    int64_t l;
    double d;
    int bi;
    int round;
    for (round = 0; round < 2; round++) {
        v = new_value(w, &ws, &wc);
        f = get(&v, "o");
        avro_value_set_branch(&f, 1, &br);
        avro_value_set_int(&br, 9);
        f = get(&v, "plain");
        avro_value_set_int(&f, 5);
        f = get(&v, "u");
        if (round == 0) {
            avro_value_set_branch(&f, 0, &br);
            avro_value_set_string(&br, "s");
        } else {
            avro_value_set_branch(&f, 1, &br);
            avro_value_set_long(&br, 1);
        }
        b = write_value(&v);
        if (round == 0) {
            ck_assert_int_eq(resolve_read(w, r, b, &out, &rs, &rc, err, sizeof(err)), VTEV_ERR_OK);
            f = get(&out, "o");
            avro_value_get_discriminant(&f, &bi);
            ck_assert_int_eq(bi, 1);
            avro_value_get_current_branch(&f, &br);
            avro_value_get_long(&br, &l);
            ck_assert(l == 9);
            f = get(&out, "plain"); /* int -> the first branch it promotes to: double */
            avro_value_get_discriminant(&f, &bi);
            ck_assert_int_eq(bi, 2);
            avro_value_get_current_branch(&f, &br);
            avro_value_get_double(&br, &d);
            ck_assert(d == 5.0);
            free_value(&out, rs, rc);
        } else {
            /* the writer's long branch has nowhere to go: that datum fails */
            ck_assert_int_eq(resolve_read(w, r, b, &out, &rs, &rc, err, sizeof(err)), VTEV_ERR_DECODE);
            ck_assert_msg(strstr(err, "u"), "%s", err);
        }
        free_value(&v, ws, wc);
        free(b.data);
    }
    ck_assert(!vtev__avro_can_read(w, r, NULL, 0));
}
END_TEST

/* ---- hostile input ------------------------------------------------------ */

/* A writer that adds an array of records of `nfields` null fields. */
static char *wide_schema(int nfields) {
    size_t cap = (size_t)nfields * 48 + 1024, n;
    char *s = malloc(cap);
    int i;
    n = (size_t)snprintf(s, cap,
                         "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},"
                         "{\"name\":\"w\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\","
                         "\"name\":\"W\",\"fields\":[");
    for (i = 0; i < nfields; i++)
        n += (size_t)snprintf(s + n, cap - n, "%s{\"name\":\"n%d\",\"type\":\"null\"}", i ? "," : "", i);
    snprintf(s + n, cap - n, "]}}}]}");
    return s;
}

START_TEST(test_limits) {
    const char *r = "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}";
    char *w = wide_schema(5000), *w10k = wide_schema(10000), err[256] = "";
    /* a = 1, then blocks of 1,000,000 items (no bytes each: all fields null) */
    unsigned char msg[64];
    size_t n = 0;
    int k;
    vtev__resolver_t *res = NULL;
    vtev__abuf_t o = {0};
    vtev__avro_limits_t lim;
    msg[n++] = 2;
    for (k = 0; k < 3; k++) { /* count 1,000,000 zigzag = 2,000,000 */
        uint64_t z = 2000000;
        while (z >= 0x80) {
            msg[n++] = (unsigned char)(z | 0x80);
            z >>= 7;
        }
        msg[n++] = (unsigned char)z;
    }
    msg[n++] = 0;
    ck_assert_int_eq(vtev__resolver_new(w, r, VTEV__RESOLVE_DECODE, NULL, &res, err, sizeof(err)), VTEV_ERR_OK);
    ck_assert_int_eq(vtev__resolver_run(res, msg, n, NULL, &o, err, sizeof(err)), VTEV_ERR_LIMIT);
    ck_assert_msg(strstr(err, "avro.max.values"), "%s", err);
    /* a small array under the limit resolves (the writer-only field is skipped) */
    {
        unsigned char ok[] = {2, 4, 0};
        ck_assert_int_eq(vtev__resolver_run(res, ok, sizeof(ok), NULL, &o, err, sizeof(err)), VTEV_ERR_OK);
        ck_assert_uint_eq(o.len, 1);
        ck_assert_int_eq(o.data[0], 2);
        /* truncated, trailing, bad counts */
        ck_assert_int_eq(vtev__resolver_run(res, ok, 2, NULL, &o, err, sizeof(err)), VTEV_ERR_DECODE);
        ck_assert_int_eq(vtev__resolver_run(res, (unsigned char[]){2, 0, 0}, 3, NULL, &o, err, sizeof(err)),
                         VTEV_ERR_DECODE);
        ck_assert_msg(strstr(err, "trailing"), "%s", err);
        ck_assert_int_eq(vtev__resolver_run(res, (unsigned char[]){2, 3, 0x7f, 0}, 4, NULL, &o, err, sizeof(err)),
                         VTEV_ERR_DECODE);
    }
    vtev__resolver_destroy(res);
    /* too many types in a schema: the 10,000 null fields fail at set-up */
    ck_assert_int_eq(vtev__resolver_new(w10k, r, VTEV__RESOLVE_DECODE, NULL, &res, err, sizeof(err)), VTEV_ERR_LIMIT);
    ck_assert_msg(strstr(err, "avro.max.schema.types"), "%s", err);
    free(w10k);
    vtev__avro_limits_default(&lim);
    lim.max_types = 1000;
    ck_assert_int_eq(vtev__resolver_new(w, r, VTEV__RESOLVE_DECODE, &lim, &res, err, sizeof(err)), VTEV_ERR_LIMIT);
    ck_assert_msg(strstr(err, "avro.max.schema.types"), "%s", err);
    /* nesting */
    {
        char deep[8192];
        size_t m = 0;
        int d;
        for (d = 0; d < 100; d++)
            m += (size_t)snprintf(deep + m, sizeof(deep) - m, "{\"type\":\"array\",\"items\":");
        m += (size_t)snprintf(deep + m, sizeof(deep) - m, "\"int\"");
        for (d = 0; d < 100; d++)
            deep[m++] = '}';
        deep[m] = 0;
        ck_assert_int_eq(vtev__resolver_new(deep, deep, VTEV__RESOLVE_DECODE, NULL, &res, err, sizeof(err)),
                         VTEV_ERR_LIMIT);
        ck_assert_msg(strstr(err, "avro.max.depth"), "%s", err);
    }
    free(o.data);
    free(w);
}
END_TEST

START_TEST(test_many_types_linear) {
    /* 20,000 named records: parsing and resolution stay linear (one hash per
     * name), and the limit refuses it before any resolution. */
    size_t cap = 20000 * 80 + 256, n = 0;
    char *s = malloc(cap), err[256] = "";
    vtev__resolver_t *r = NULL;
    vtev__avro_limits_t lim;
    int i;
    n += (size_t)snprintf(s + n, cap - n, "{\"type\":\"record\",\"name\":\"R\",\"fields\":[");
    for (i = 0; i < 20000; i++)
        n += (size_t)snprintf(s + n, cap - n,
                              "%s{\"name\":\"f%d\",\"type\":{\"type\":\"record\",\"name\":\"T%d\",\"fields\":[]}}",
                              i ? "," : "", i, i);
    snprintf(s + n, cap - n, "]}");
    ck_assert_int_eq(vtev__resolver_new(s, s, VTEV__RESOLVE_DECODE, NULL, &r, err, sizeof(err)), VTEV_ERR_LIMIT);
    vtev__avro_limits_default(&lim);
    lim.max_types = 100000;
    ck_assert_int_eq(vtev__resolver_new(s, s, VTEV__RESOLVE_DECODE, &lim, &r, err, sizeof(err)), VTEV_ERR_OK);
    ck_assert(vtev__resolver_is_identity(r));
    vtev__resolver_destroy(r);
    free(s);
}
END_TEST

/* ---- through the typed decoder ------------------------------------------ */

/* The platform's request schema with the priority symbols re-ordered and one
 * added ("urgent"), as another service's writer might have it. */
static char *evolved_request_schema(void) {
    const vtev_schema_t *rs = vtev_event_schema(VTEV_EVENT_REQUEST);
    const char *txt = vtev_schema_json(rs);
    const char *from = "\"symbols\": [\"low\", \"normal\", \"high\"]";
    const char *to = "\"symbols\": [\"high\", \"normal\", \"low\", \"urgent\"]";
    const char *at = strstr(txt, from);
    char *out;
    ck_assert_msg(at != NULL, "request schema text changed: %s", txt);
    out = malloc(strlen(txt) + strlen(to) + 1);
    memcpy(out, txt, (size_t)(at - txt));
    strcpy(out + (at - txt), to);
    strcat(out, at + strlen(from));
    return out;
}

START_TEST(test_typed_decode_evolved_enum) {
    char *wtext = evolved_request_schema(), err[256] = "";
    vtev_schema_t *ws = vtev_schema_new(wtext, strlen(wtext), err, sizeof(err));
    avro_value_t v, f, sub, br;
    int sym;
    ck_assert_msg(ws != NULL, "%s", err);
    for (sym = 0; sym < 4; sym++) {
        static const vtev_priority_t expect[] = {VTEV_PRIORITY_HIGH, VTEV_PRIORITY_NORMAL, VTEV_PRIORITY_LOW,
                                                 VTEV_PRIORITY_NORMAL};
        void *buf = NULL;
        size_t len = 0;
        vtev_event_t ev;
        ck_assert_int_eq(vtev_avro_value_new(ws, &v), VTEV_ERR_OK);
        f = get(&v, "event_id");
        avro_value_set_string(&f, "6f1d3c1e-8c1a-4c53-9b3e-2f1f0c9a7d11");
        f = get(&v, "event_type");
        avro_value_set_string(&f, "prediction.analysis.requested");
        f = get(&v, "timestamp");
        avro_value_set_long(&f, INT64_C(1768059000000123));
        f = get(&v, "vessel_id");
        avro_value_set_string(&f, "lng-001");
        f = get(&v, "request_id");
        avro_value_set_string(&f, "req-0000abcd");
        f = get(&v, "data");
        sub = get(&f, "vessel_snapshot");
        br = get(&sub, "lat");
        avro_value_set_double(&br, 29.7);
        br = get(&sub, "lon");
        avro_value_set_double(&br, -93.8);
        br = get(&sub, "speed");
        avro_value_set_double(&br, 12);
        br = get(&sub, "heading");
        avro_value_set_double(&br, 90);
        br = get(&sub, "status");
        avro_value_set_string(&br, "underway");
        sub = get(&f, "terminal_filter");
        avro_value_set_branch(&sub, 0, &br);
        avro_value_set_null(&br);
        sub = get(&f, "priority");
        avro_value_set_enum(&sub, sym);
        ck_assert_int_eq(vtev_avro_encode(&v, -1, &buf, &len, err, sizeof(err)), VTEV_ERR_OK);
        avro_value_decref(&v);
        ck_assert_msg(vtev_event_decode(&ev, VTEV_EVENT_REQUEST, ws, buf, len, err, sizeof(err)) == VTEV_ERR_OK,
                      "symbol %d: %s", sym, err);
        ck_assert_int_eq(ev.u.request.data.priority, expect[sym]);
        ck_assert_str_eq(ev.u.request.data.vessel_snapshot.status, "underway");
        vtev_event_clear(&ev);
        free(buf);
    }
    vtev_schema_destroy(ws);
    free(wtext);
}
END_TEST

int main(void) {
    Suite *s = suite_create("resolve");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_enum_by_symbol);
    tcase_add_test(tc, test_enum_unknown_symbol_takes_default);
    tcase_add_test(tc, test_record_reorder_defaults_skip_promote);
    tcase_add_test(tc, test_mismatches_name_the_field);
    tcase_add_test(tc, test_unions);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_many_types_linear);
    tcase_add_test(tc, test_typed_decode_evolved_enum);
    suite_add_tcase(s, tc);
    return vtev_test_run(s);
}
