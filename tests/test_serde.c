/*
 * test_serde.c - event <-> framed bytes with the mock:// registry.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <vtevents/vtevents.h>

#include "producer_fixtures.h"
#include "serde_int.h"
#include "testutil.h"

static vtev_serde_t *new_serde(const char *reg, const char *strategy) {
    char e[512], url[256];
    vtev_conf_t *c = vtev_conf_new();
    vtev_serde_t *s;
    snprintf(url, sizeof(url), "mock://%s", reg);
    ck_assert_int_eq(vtev_conf_set(c, "schema.registry.url", url, e, sizeof(e)), VTEV_CONF_OK);
    if (strategy)
        ck_assert_int_eq(vtev_conf_set(c, "subject.name.strategy", strategy, e, sizeof(e)),
                         VTEV_CONF_OK);
    s = vtev_serde_new(c, e, sizeof(e));
    ck_assert_msg(s != NULL, "%s", e);
    return s;
}

START_TEST(roundtrip_each_type) {
    char reg[64], e[512];
    vtev_serde_t *s;
    int t;
    fx_unique(reg, sizeof(reg), "serde");
    s = new_serde(reg, NULL);
    for (t = VTEV_EVENT_POSITION; t <= VTEV_EVENT_RESULT; t++) {
        vtev_event_t in, out, out2;
        void *buf = NULL;
        size_t len = 0;
        int32_t id = -1, id2 = -2;
        const unsigned char *b;
        char topic[32];
        /* one topic per type: the topic strategy gives one subject per topic */
        snprintf(topic, sizeof(topic), "topic-%d", t);
        fx_make(&in, (vtev_event_type_t)t, "IMO9321483", t);
        ck_assert_int_eq(vtev_serde_serialize(s, topic, &in, &buf, &len, &id, e, sizeof(e)),
                         VTEV_ERR_OK);
        ck_assert_int_ge(id, 0);
        b = buf;
        ck_assert_uint_gt(len, VTEV_FRAME_HEADER_SIZE);
        ck_assert_uint_eq(b[0], 0);
        ck_assert_int_eq(((int32_t)b[1] << 24) | (b[2] << 16) | (b[3] << 8) | b[4], id);
        /* explicit type */
        ck_assert_msg(vtev_serde_deserialize(s, topic, (vtev_event_type_t)t, buf, len, &out,
                                             &id2, e, sizeof(e)) == VTEV_ERR_OK,
                      "%s", e);
        ck_assert_int_eq(id2, id);
        ck_assert_int_eq(out.type, t);
        fx_assert_equal(&in, &out);
        /* type from the writer schema's name */
        ck_assert_msg(vtev_serde_deserialize(s, topic, VTEV_EVENT_NONE, buf, len, &out2,
                                             NULL, e, sizeof(e)) == VTEV_ERR_OK,
                      "%s", e);
        ck_assert_int_eq(out2.type, t);
        fx_assert_equal(&in, &out2);
        vtev_event_clear(&out);
        vtev_event_clear(&out2);
        vtev_event_clear(&in);
        vtev_free(buf);
    }
    vtev_serde_destroy(s);
}
END_TEST

/* The topic strategy refuses a second, incompatible record on one topic. */
START_TEST(incompatible_schema_refused) {
    char reg[64], e[512];
    vtev_serde_t *s;
    vtev_event_t a, b;
    void *buf = NULL;
    size_t len;
    fx_unique(reg, sizeof(reg), "serde");
    s = new_serde(reg, NULL);
    fx_position(&a, "V1", 1);
    fx_result(&b, "V1", 1);
    ck_assert_int_eq(vtev_serde_serialize(s, "one", &a, &buf, &len, NULL, e, sizeof(e)), 0);
    vtev_free(buf);
    buf = NULL;
    ck_assert_int_eq(vtev_serde_serialize(s, "one", &b, &buf, &len, NULL, e, sizeof(e)),
                     VTEV_ERR_REGISTRY_INCOMPATIBLE);
    ck_assert_ptr_null(buf);
    vtev_serde_destroy(s);
    /* the record strategy gives each type its own subject */
    s = new_serde(reg, "record");
    ck_assert_msg(vtev_serde_serialize(s, "one", &b, &buf, &len, NULL, e, sizeof(e)) == 0, "%s",
                  e);
    vtev_free(buf);
    vtev_serde_destroy(s);
    vtev_event_clear(&a);
    vtev_event_clear(&b);
}
END_TEST

/* After warm-up, no registry request per message. */
START_TEST(no_registry_call_after_warmup) {
    char reg[64], e[512];
    vtev_serde_t *s, *r;
    vtev_event_t ev;
    uint64_t req0, req1, rreq0, rreq1;
    int i;
    fx_unique(reg, sizeof(reg), "serde");
    s = new_serde(reg, NULL);
    r = new_serde(reg, NULL);
    fx_request(&ev, "V1", 1);
    for (i = 0; i < 2; i++) {
        void *buf;
        size_t len;
        vtev_event_t out;
        ck_assert_int_eq(vtev_serde_serialize(s, "t", &ev, &buf, &len, NULL, e, sizeof(e)), 0);
        ck_assert_int_eq(vtev_serde_deserialize(r, "t", VTEV_EVENT_NONE, buf, len, &out, NULL,
                                                e, sizeof(e)),
                         0);
        vtev_event_clear(&out);
        vtev_free(buf);
        if (i == 0) {
            vtev_registry_stats(vtev__serde_registry(s), &req0, NULL, NULL, NULL);
            vtev_registry_stats(vtev__serde_registry(r), &rreq0, NULL, NULL, NULL);
            ck_assert_uint_gt(req0, 0);
            ck_assert_uint_gt(rreq0, 0);
        }
    }
    for (i = 0; i < 200; i++) {
        void *buf;
        size_t len;
        vtev_event_t out;
        ck_assert_int_eq(vtev_serde_serialize(s, "t", &ev, &buf, &len, NULL, e, sizeof(e)), 0);
        ck_assert_int_eq(vtev_serde_deserialize(r, "t", VTEV_EVENT_REQUEST, buf, len, &out, NULL,
                                                e, sizeof(e)),
                         0);
        vtev_event_clear(&out);
        vtev_free(buf);
    }
    vtev_registry_stats(vtev__serde_registry(s), &req1, NULL, NULL, NULL);
    vtev_registry_stats(vtev__serde_registry(r), &rreq1, NULL, NULL, NULL);
    ck_assert_uint_eq(req1, req0);
    ck_assert_uint_eq(rreq1, rreq0);
    vtev_event_clear(&ev);
    vtev_serde_destroy(s);
    vtev_serde_destroy(r);
}
END_TEST

START_TEST(ids_stable_and_shared) {
    char reg[64], e[512];
    vtev_serde_t *a, *b;
    vtev_event_t ev, out;
    void *buf = NULL;
    size_t len;
    int32_t id1, id2, id3;
    fx_unique(reg, sizeof(reg), "serde");
    a = new_serde(reg, NULL);
    b = new_serde(reg, NULL);
    fx_position(&ev, "V1", 1);
    ck_assert_int_eq(vtev_serde_serialize(a, "t1", &ev, &buf, &len, &id1, e, sizeof(e)), 0);
    vtev_free(buf);
    ck_assert_int_eq(vtev_serde_serialize(a, "t1", &ev, &buf, &len, &id2, e, sizeof(e)), 0);
    ck_assert_int_eq(id1, id2);
    /* Another client of the same mock registry decodes it (id -> schema). */
    ck_assert_msg(vtev_serde_deserialize(b, "t1", VTEV_EVENT_POSITION, buf, len, &out, &id3, e,
                                         sizeof(e)) == VTEV_ERR_OK,
                  "%s", e);
    ck_assert_int_eq(id3, id1);
    fx_assert_equal(&ev, &out);
    vtev_event_clear(&out);
    vtev_free(buf);
    vtev_event_clear(&ev);
    vtev_serde_destroy(a);
    vtev_serde_destroy(b);
}
END_TEST

START_TEST(framing_errors) {
    char reg[64], e[512];
    vtev_serde_t *s;
    vtev_event_t ev, out;
    void *buf = NULL;
    size_t len;
    int32_t id;
    unsigned char *b;
    fx_unique(reg, sizeof(reg), "serde");
    s = new_serde(reg, NULL);
    ck_assert_int_eq(vtev_serde_deserialize(s, "t", VTEV_EVENT_NONE, "\0\0\0", 3, &out, NULL, e,
                                            sizeof(e)),
                     VTEV_ERR_SHORT_BUFFER);
    ck_assert_int_eq(vtev_serde_deserialize(s, "t", VTEV_EVENT_NONE, "{\"a\":1}", 7, &out, NULL,
                                            e, sizeof(e)),
                     VTEV_ERR_BAD_MAGIC);
    fx_position(&ev, "V1", 1);
    ck_assert_int_eq(vtev_serde_serialize(s, "t", &ev, &buf, &len, &id, e, sizeof(e)), 0);
    b = buf;
    /* unknown schema id */
    b[1] = 0x7f;
    b[2] = 0x00;
    b[3] = 0x12;
    b[4] = 0x34;
    ck_assert_int_eq(vtev_serde_deserialize(s, "t", VTEV_EVENT_NONE, buf, len, &out, &id, e,
                                            sizeof(e)),
                     VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND);
    ck_assert_int_eq(id, 0x7f001234);
    vtev_frame_write_header(buf, id = 0);
    vtev_free(buf);
    /* truncated Avro payload */
    ck_assert_int_eq(vtev_serde_serialize(s, "t", &ev, &buf, &len, &id, e, sizeof(e)), 0);
    ck_assert_int_eq(vtev_serde_deserialize(s, "t", VTEV_EVENT_POSITION, buf, 12, &out, NULL, e,
                                            sizeof(e)),
                     VTEV_ERR_DECODE);
    /* a position is not a result */
    ck_assert_int_eq(vtev_serde_deserialize(s, "t", VTEV_EVENT_RESULT, buf, len, &out, NULL, e,
                                            sizeof(e)),
                     VTEV_ERR_SCHEMA_MISMATCH);
    ck_assert_str_contains(e, "expected prediction.analysis.completed");
    vtev_free(buf);
    vtev_event_clear(&ev);
    vtev_serde_destroy(s);
}
END_TEST

START_TEST(bad_arguments) {
    char e[512];
    vtev_conf_t *c = vtev_conf_new();
    vtev_event_t ev;
    void *buf;
    size_t len;
    vtev_serde_t *s;
    char reg[64];
    ck_assert_ptr_null(vtev_serde_new(NULL, e, sizeof(e)));
    fx_unique(reg, sizeof(reg), "serde");
    vtev_conf_destroy(c);
    s = new_serde(reg, NULL);
    memset(&ev, 0, sizeof(ev));
    ck_assert_int_eq(vtev_serde_serialize(s, "t", &ev, &buf, &len, NULL, e, sizeof(e)),
                     VTEV_ERR_INVALID_ARG);
    ck_assert_int_eq(vtev_serde_serialize(s, NULL, &ev, &buf, &len, NULL, e, sizeof(e)),
                     VTEV_ERR_INVALID_ARG);
    vtev_serde_destroy(s);
    vtev_serde_destroy(NULL);
}
END_TEST

/* Threads decoding through one serde whose writer-schema cache holds one
 * entry, with two schema ids alternating: constant eviction while other
 * threads still use the evicted schema (refcounts). */
typedef struct {
    vtev_serde_t *s;
    void *buf[2];
    size_t len[2];
    int failures;
} dec_ctx_t;

static void *dec_main(void *arg) {
    dec_ctx_t *c = arg;
    char e[512];
    int i;
    for (i = 0; i < 300; i++) {
        vtev_event_t out;
        int k = i % 2;
        if (vtev_serde_deserialize(c->s, NULL, VTEV_EVENT_NONE, c->buf[k], c->len[k], &out,
                                   NULL, e, sizeof(e)) ||
            out.type != (k ? VTEV_EVENT_RESULT : VTEV_EVENT_POSITION))
            __atomic_add_fetch(&c->failures, 1, __ATOMIC_RELAXED);
        vtev_event_clear(&out);
    }
    return NULL;
}

START_TEST(concurrent_decode_with_eviction) {
    char reg[64], e[512], url[128];
    vtev_serde_t *w, *r;
    vtev_conf_t *c;
    vtev_event_t a, b;
    dec_ctx_t ctx;
    pthread_t th[4];
    int i;
    fx_unique(reg, sizeof(reg), "serde");
    w = new_serde(reg, NULL);
    fx_position(&a, "V1", 1);
    fx_result(&b, "V1", 2);
    ck_assert_int_eq(vtev_serde_serialize(w, "pa", &a, &ctx.buf[0], &ctx.len[0], NULL, e,
                                          sizeof(e)),
                     0);
    ck_assert_int_eq(vtev_serde_serialize(w, "pb", &b, &ctx.buf[1], &ctx.len[1], NULL, e,
                                          sizeof(e)),
                     0);
    c = vtev_conf_new();
    snprintf(url, sizeof(url), "mock://%s", reg);
    vtev_conf_set(c, "schema.registry.url", url, e, sizeof(e));
    vtev_conf_set(c, "schema.registry.cache.capacity", "1", e, sizeof(e));
    r = vtev_serde_new(c, e, sizeof(e));
    ck_assert_msg(r != NULL, "%s", e);
    ctx.s = r;
    ctx.failures = 0;
    for (i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, dec_main, &ctx), 0);
    for (i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    ck_assert_int_eq(ctx.failures, 0);
    vtev_free(ctx.buf[0]);
    vtev_free(ctx.buf[1]);
    vtev_event_clear(&a);
    vtev_event_clear(&b);
    vtev_serde_destroy(w);
    vtev_serde_destroy(r);
}
END_TEST

/* use.latest.version frames with the latest id only when the latest is the
 * library's schema; an evolved latest is refused instead of mislabelled. */
START_TEST(use_latest_version_checks_the_schema) {
    char reg[64], e[512], url[128], evolved[16384];
    vtev_serde_t *w, *s;
    vtev_conf_t *c;
    vtev_registry_t *r;
    vtev_event_t ev;
    void *buf = NULL;
    size_t len;
    int32_t id_w = -1, id = -1, id_ev = -1;
    const char *json, *last;
    fx_unique(reg, sizeof(reg), "serde");
    snprintf(url, sizeof(url), "mock://%s", reg);
    w = new_serde(reg, NULL); /* registers the library's schema */
    fx_position(&ev, "V1", 1);
    ck_assert_int_eq(vtev_serde_serialize(w, "pos", &ev, &buf, &len, &id_w, e, sizeof(e)), 0);
    vtev_free(buf);
    c = vtev_conf_new();
    vtev_conf_set(c, "schema.registry.url", url, e, sizeof(e));
    vtev_conf_set(c, "use.latest.version", "true", e, sizeof(e));
    vtev_conf_set(c, "schema.registry.latest.cache.ttl.sec", "0", e, sizeof(e));
    s = vtev_serde_new(c, e, sizeof(e));
    ck_assert_msg(s != NULL, "%s", e);
    ck_assert_msg(vtev_serde_serialize(s, "pos", &ev, &buf, &len, &id, e, sizeof(e)) == 0, "%s",
                  e);
    ck_assert_int_eq(id, id_w);
    vtev_free(buf);
    /* an evolved latest: the library's record plus an optional field */
    json = vtev_schema_json(vtev_event_schema(VTEV_EVENT_POSITION));
    last = strrchr(json, ']');
    ck_assert_ptr_nonnull(last);
    snprintf(evolved, sizeof(evolved),
             "%.*s,{\"name\":\"zz_extra\",\"type\":[\"null\",\"string\"],\"default\":null}%s",
             (int)(last - json), json, last);
    c = vtev_conf_new();
    vtev_conf_set(c, "schema.registry.url", url, e, sizeof(e));
    r = vtev_registry_new(c, e, sizeof(e));
    ck_assert_msg(r != NULL, "%s", e);
    ck_assert_msg(vtev_registry_register(r, "pos-value", evolved, &id_ev, e, sizeof(e)) == 0,
                  "%s", e);
    ck_assert_int_ne(id_ev, id_w);
    buf = NULL;
    ck_assert_int_eq(vtev_serde_serialize(s, "pos", &ev, &buf, &len, &id, e, sizeof(e)),
                     VTEV_ERR_SCHEMA_MISMATCH);
    ck_assert_str_contains(e, "use.latest.version");
    ck_assert_ptr_null(buf);
    vtev_registry_destroy(r);
    vtev_event_clear(&ev);
    vtev_serde_destroy(w);
    vtev_serde_destroy(s);
}
END_TEST

int main(void) {
    Suite *s = suite_create("serde");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, roundtrip_each_type);
    tcase_add_test(tc, ids_stable_and_shared);
    tcase_add_test(tc, incompatible_schema_refused);
    tcase_add_test(tc, no_registry_call_after_warmup);
    tcase_add_test(tc, concurrent_decode_with_eviction);
    tcase_add_test(tc, use_latest_version_checks_the_schema);
    tcase_add_test(tc, framing_errors);
    tcase_add_test(tc, bad_arguments);
    suite_add_tcase(s, tc);
    return vtev_test_run(s);
}
