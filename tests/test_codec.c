/*
 * test_codec.c - Avro encoding/decoding of the typed events and the
 * Confluent wire framing.
 */
#include "event_fixtures.h"
#include "testutil.h"

#include <float.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

typedef void (*fx_fn)(vtev_event_t *);

static void roundtrip(const vtev_event_t *in, int32_t schema_id) {
    void *buf = NULL;
    size_t len = 0;
    char err[256] = "";
    vtev_event_t out;
    const void *payload = NULL;
    size_t plen = 0;
    int32_t id = -1;
    ck_assert_int_eq(vtev_event_validate(in, err, sizeof(err)), VTEV_ERR_OK);
    ck_assert_msg(vtev_event_encode(in, schema_id, &buf, &len, err, sizeof(err)) == VTEV_ERR_OK, "%s", err);
    ck_assert_uint_gt(len, 0);
    payload = buf;
    plen = len;
    if (schema_id >= 0) {
        ck_assert_int_eq(vtev_frame_parse(buf, len, &id, &payload, &plen, err, sizeof(err)), VTEV_ERR_OK);
        ck_assert_int_eq(id, schema_id);
        ck_assert_uint_eq(plen, len - 5);
    }
    ck_assert_msg(vtev_event_decode(&out, in->type, NULL, payload, plen, err, sizeof(err)) == VTEV_ERR_OK,
                  "%s", err);
    fx_assert_event_eq(in, &out);
    vtev_event_clear(&out);
    vtev_free(buf);
}

START_TEST(test_roundtrip_all_types) {
    fx_fn fns[] = {fx_position, fx_request, fx_result};
    size_t i;
    for (i = 0; i < 3; i++) {
        vtev_event_t ev;
        fns[i](&ev);
        roundtrip(&ev, -1);
        roundtrip(&ev, 0);
        roundtrip(&ev, 123456);
        roundtrip(&ev, INT32_MAX);
        vtev_event_clear(&ev);
    }
}
END_TEST

START_TEST(test_roundtrip_edges) {
    vtev_event_t ev;
    size_t i;
    char key[80], val[VTEV_META_STRING_MAX + 1];
    /* boundaries, no metadata, optional fields absent */
    fx_position(&ev);
    vtev_metadata_destroy(ev.u.env.metadata);
    ev.u.env.metadata = NULL;
    ev.u.position.data.lat = -90;
    ev.u.position.data.lon = 180;
    ev.u.position.data.speed = 0;
    ev.u.position.data.heading = nextafter(360.0, 0.0);
    ev.u.env.timestamp_us = 1;
    memset(ev.u.env.vessel_id, 'v', VTEV_ID_MAX);
    ev.u.env.vessel_id[VTEV_ID_MAX] = '\0';
    memset(ev.u.position.data.status, 's', VTEV_STATUS_MAX);
    ev.u.position.data.status[VTEV_STATUS_MAX] = '\0';
    roundtrip(&ev, 1);
    /* empty (but allocated) metadata */
    ck_assert_ptr_nonnull(vtev_envelope_metadata(&ev.u.env));
    roundtrip(&ev, -1);
    /* full metadata: 64 entries with maximal keys and values, unicode */
    memset(val, 'x', VTEV_META_STRING_MAX);
    val[VTEV_META_STRING_MAX] = '\0';
    memcpy(val, "\xe6\xb8\xaf", 3);
    for (i = 0; i < VTEV_META_MAX_ENTRIES; i++) {
        memset(key, 'k', VTEV_META_KEY_MAX);
        key[VTEV_META_KEY_MAX] = '\0';
        snprintf(key, sizeof(key), "%02zu", i);
        key[2] = 'k';
        switch (i % 5) {
        case 0: ck_assert_int_eq(vtev_metadata_set_string(ev.u.env.metadata, key, val), VTEV_ERR_OK); break;
        case 1: ck_assert_int_eq(vtev_metadata_set_int(ev.u.env.metadata, key, INT64_MIN), VTEV_ERR_OK); break;
        case 2: ck_assert_int_eq(vtev_metadata_set_double(ev.u.env.metadata, key, -DBL_MAX), VTEV_ERR_OK); break;
        case 3: ck_assert_int_eq(vtev_metadata_set_bool(ev.u.env.metadata, key, false), VTEV_ERR_OK); break;
        default: ck_assert_int_eq(vtev_metadata_set_null(ev.u.env.metadata, key), VTEV_ERR_OK); break;
        }
    }
    ck_assert_uint_eq(vtev_metadata_count(ev.u.env.metadata), VTEV_META_MAX_ENTRIES);
    roundtrip(&ev, 5);
    vtev_event_clear(&ev);

    /* request without terminal filter, low priority */
    fx_request(&ev);
    ev.u.request.data.has_terminal_filter = false;
    ev.u.request.data.priority = VTEV_PRIORITY_LOW;
    ev.u.env.timestamp_us = INT64_C(253402300799999999);
    roundtrip(&ev, -1);
    ev.u.request.data.has_terminal_filter = true;
    ev.u.request.data.terminal_filter = INT64_MIN;
    roundtrip(&ev, -1);
    vtev_event_clear(&ev);

    /* result without eta, empty reasoning, maximal reasoning */
    fx_result(&ev);
    ev.u.result.data.has_eta_hours = false;
    ev.u.result.data.ai_reasoning[0] = '\0';
    ev.u.result.data.terminal_id = INT64_MAX;
    roundtrip(&ev, -1);
    memset(ev.u.result.data.ai_reasoning, 'r', VTEV_TEXT_MAX);
    ev.u.result.data.ai_reasoning[VTEV_TEXT_MAX] = '\0';
    ev.u.result.data.scores.ai_adjustment = 0.3;
    roundtrip(&ev, -1);
    vtev_event_clear(&ev);
}
END_TEST

START_TEST(test_known_bytes) {
    /* The Avro encoding of a fixed position event, computed by hand from the
     * spec: strings are zigzag length + bytes, doubles little-endian. */
    vtev_event_t ev;
    void *buf;
    size_t len;
    const unsigned char *p;
    ck_assert_int_eq(vtev_event_init(&ev, VTEV_EVENT_POSITION), VTEV_ERR_OK);
    ev.u.env.timestamp_us = 1; /* zigzag 2 */
    snprintf(ev.u.env.vessel_id, sizeof(ev.u.env.vessel_id), "v");
    snprintf(ev.u.position.data.status, sizeof(ev.u.position.data.status), "m");
    ck_assert_int_eq(vtev_event_encode(&ev, 7, &buf, &len, NULL, 0), VTEV_ERR_OK);
    p = buf;
    ck_assert_uint_eq(len, 5 + 1 + 36 + 1 + 23 + 1 + 1 + 1 + 32 + 1 + 1 + 1);
    ck_assert_int_eq(p[0], 0);
    ck_assert_int_eq(p[4], 7);
    ck_assert_int_eq(p[5], 72); /* 36 * 2 */
    ck_assert_int_eq(memcmp(p + 6, ev.u.env.event_id, 36), 0);
    ck_assert_int_eq(p[42], 46); /* 23 * 2 */
    ck_assert_int_eq(memcmp(p + 43, "vessel.position.updated", 23), 0);
    ck_assert_int_eq(p[66], 2);
    ck_assert_int_eq(p[67], 2);
    ck_assert_int_eq(p[68], 'v');
    ck_assert_int_eq(p[len - 1], 0); /* empty map */
    vtev_free(buf);
    vtev_event_clear(&ev);
}
END_TEST

START_TEST(test_frame_errors) {
    unsigned char b[8] = {0, 0, 0, 1, 2, 0xaa};
    int32_t id = 0;
    const void *pl = NULL;
    size_t pn = 99;
    char err[128];
    ck_assert_int_eq(vtev_frame_parse(b, 4, &id, &pl, &pn, err, sizeof(err)), VTEV_ERR_SHORT_BUFFER);
    ck_assert_str_contains(err, "shorter than the 5-byte header");
    ck_assert_int_eq(vtev_frame_parse(b, 0, &id, &pl, &pn, err, sizeof(err)), VTEV_ERR_SHORT_BUFFER);
    ck_assert_int_eq(vtev_frame_parse(b, 5, &id, &pl, &pn, err, sizeof(err)), VTEV_ERR_OK);
    ck_assert_int_eq(id, 258);
    ck_assert_uint_eq(pn, 0);
    ck_assert_ptr_eq(pl, b + 5);
    b[0] = 1;
    ck_assert_int_eq(vtev_frame_parse(b, 6, &id, &pl, &pn, err, sizeof(err)), VTEV_ERR_BAD_MAGIC);
    ck_assert_str_contains(err, "0x01");
    vtev_frame_write_header(b, 0x01020304);
    ck_assert_int_eq(b[0], 0);
    ck_assert_int_eq(b[1], 1);
    ck_assert_int_eq(b[4], 4);
}
END_TEST

START_TEST(test_decode_errors) {
    vtev_event_t ev, out;
    void *buf;
    size_t len, i;
    char err[256];
    fx_position(&ev);
    ck_assert_int_eq(vtev_event_encode(&ev, -1, &buf, &len, NULL, 0), VTEV_ERR_OK);
    /* every truncation fails cleanly */
    for (i = 0; i < len; i++) {
        vtev_err_t e = vtev_event_decode(&out, VTEV_EVENT_POSITION, NULL, buf, i, err, sizeof(err));
        ck_assert_msg(e == VTEV_ERR_DECODE, "truncated to %zu: %s", i, vtev_err2name(e));
        ck_assert_int_eq(out.type, VTEV_EVENT_NONE);
    }
    /* trailing bytes */
    {
        unsigned char *b2 = malloc(len + 1);
        memcpy(b2, buf, len);
        b2[len] = 0;
        ck_assert_int_eq(vtev_event_decode(&out, VTEV_EVENT_POSITION, NULL, b2, len + 1, err, sizeof(err)),
                         VTEV_ERR_DECODE);
        ck_assert_str_contains(err, "trailing");
        /* a huge string length does not allocate: fails as a bound error */
        b2[0] = 0xfe;
        b2[1] = 0xff;
        b2[2] = 0xff;
        b2[3] = 0xff;
        b2[4] = 0x0f;
        ck_assert_int_eq(vtev_event_decode(&out, VTEV_EVENT_POSITION, NULL, b2, len, err, sizeof(err)),
                         VTEV_ERR_DECODE);
        ck_assert_str_contains(err, "length beyond the end");
        free(b2);
    }
    /* the bytes of a position read as a request: event_type is checked */
    ck_assert_int_eq(vtev_event_decode(&out, VTEV_EVENT_REQUEST, vtev_event_schema(VTEV_EVENT_POSITION), buf,
                                       len, err, sizeof(err)),
                     VTEV_ERR_SCHEMA_MISMATCH);
    vtev_free(buf);
    /* wrong event_type string inside otherwise valid bytes */
    {
        vtev_event_t r;
        fx_request(&r);
        r.type = VTEV_EVENT_REQUEST;
        ck_assert_int_eq(vtev_event_encode(&r, -1, &buf, &len, NULL, 0), VTEV_ERR_OK);
        /* flip a letter of "prediction.analysis.requested" */
        unsigned char *p = buf;
        for (i = 0; i + 10 < len; i++)
            if (!memcmp(p + i, "prediction", 10)) {
                p[i] = 'P';
                break;
            }
        ck_assert_int_eq(vtev_event_decode(&out, VTEV_EVENT_REQUEST, NULL, buf, len, err, sizeof(err)),
                         VTEV_ERR_DECODE);
        ck_assert_str_contains(err, "event_type: \"Prediction.analysis.requested\" is not");
        vtev_free(buf);
        vtev_event_clear(&r);
    }
    ck_assert_int_eq(vtev_event_decode(&out, (vtev_event_type_t)9, NULL, "", 0, err, sizeof(err)),
                     VTEV_ERR_INVALID_ARG);
    vtev_event_clear(&ev);
}
END_TEST

START_TEST(test_encode_errors) {
    vtev_event_t ev;
    void *buf = NULL;
    size_t len;
    char err[128];
    memset(&ev, 0, sizeof(ev));
    ck_assert_int_eq(vtev_event_encode(&ev, -1, &buf, &len, err, sizeof(err)), VTEV_ERR_INVALID_ARG);
    fx_request(&ev);
    ev.u.request.data.priority = (vtev_priority_t)7;
    ck_assert_int_eq(vtev_event_encode(&ev, -1, &buf, &len, err, sizeof(err)), VTEV_ERR_ENCODE);
    ck_assert_str_contains(err, "data.priority");
    ck_assert_ptr_null(buf);
    vtev_event_clear(&ev);
}
END_TEST

static void *thread_main(void *arg) {
    int i;
    (void)arg;
    for (i = 0; i < 2000; i++) {
        vtev_event_t ev, out;
        void *buf;
        size_t len;
        fx_fn fns[] = {fx_position, fx_request, fx_result};
        fns[i % 3](&ev);
        if (vtev_event_encode(&ev, i, &buf, &len, NULL, 0) != VTEV_ERR_OK)
            return (void *)1;
        if (vtev_event_decode(&out, ev.type, vtev_event_schema(ev.type), (char *)buf + 5, len - 5, NULL, 0) !=
                VTEV_ERR_OK ||
            strcmp(out.u.env.event_id, ev.u.env.event_id) != 0)
            return (void *)1;
        vtev_event_clear(&out);
        vtev_event_clear(&ev);
        vtev_free(buf);
    }
    return NULL;
}

START_TEST(test_threads) {
    pthread_t t[4];
    int i;
    void *rv;
    for (i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, thread_main, NULL), 0);
    for (i = 0; i < 4; i++) {
        ck_assert_int_eq(pthread_join(t[i], &rv), 0);
        ck_assert_ptr_null(rv);
    }
}
END_TEST

/* More writer schemas than the per-thread cache holds: entries are evicted
 * and rebuilt, a destroyed schema's entry never answers for a new one. */
START_TEST(test_resolver_cache_eviction) {
    const char *json = vtev_schema_json(vtev_event_schema(VTEV_EVENT_POSITION));
    vtev_schema_t *w[40];
    vtev_event_t ev, out;
    void *buf;
    size_t len;
    int i, round;
    char err[256] = "";
    fx_position(&ev);
    ck_assert_int_eq(vtev_event_encode(&ev, -1, &buf, &len, NULL, 0), VTEV_ERR_OK);
    for (i = 0; i < 40; i++)
        ck_assert_ptr_nonnull(w[i] = vtev_schema_new(json, strlen(json), NULL, 0));
    for (round = 0; round < 3; round++) {
        for (i = 0; i < 40; i++) {
            ck_assert_msg(vtev_event_decode(&out, VTEV_EVENT_POSITION, w[i], buf, len, err, sizeof(err)) ==
                              VTEV_ERR_OK,
                          "%s", err);
            fx_assert_event_eq(&ev, &out);
            vtev_event_clear(&out);
        }
    }
    for (i = 0; i < 40; i++) {
        vtev_schema_destroy(w[i]);
        /* a new schema (maybe at the same address) of another type */
        w[i] = vtev_schema_new(vtev_schema_json(vtev_event_schema(VTEV_EVENT_RESULT)),
                               strlen(vtev_schema_json(vtev_event_schema(VTEV_EVENT_RESULT))), NULL, 0);
        ck_assert_int_eq(vtev_event_decode(&out, VTEV_EVENT_POSITION, w[i], buf, len, err, sizeof(err)),
                         VTEV_ERR_SCHEMA_MISMATCH);
        vtev_schema_destroy(w[i]);
    }
    vtev_free(buf);
    vtev_event_clear(&ev);
}
END_TEST

START_TEST(test_schemas) {
    const vtev_schema_t *p = vtev_event_schema(VTEV_EVENT_POSITION);
    vtev_schema_t *s;
    char err[256];
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(vtev_schema_fullname(p), "com.vesseltrack.events.VesselPositionUpdated");
    ck_assert_str_eq(vtev_schema_fullname(vtev_event_schema(VTEV_EVENT_REQUEST)),
                     "com.vesseltrack.events.PredictionAnalysisRequested");
    ck_assert_str_eq(vtev_schema_fullname(vtev_event_schema(VTEV_EVENT_RESULT)),
                     "com.vesseltrack.events.PredictionAnalysisCompleted");
    ck_assert_str_contains(vtev_schema_json(p), "\"logicalType\": \"timestamp-micros\"");
    ck_assert_ptr_null(vtev_event_schema(VTEV_EVENT_NONE));
    s = vtev_schema_new(vtev_schema_json(p), strlen(vtev_schema_json(p)), err, sizeof(err));
    ck_assert_ptr_nonnull(s);
    ck_assert_ptr_eq(vtev_schema_ref(s), s);
    vtev_schema_destroy(s);
    ck_assert_str_eq(vtev_schema_fullname(s), "com.vesseltrack.events.VesselPositionUpdated");
    vtev_schema_destroy(s);
    vtev_schema_destroy(NULL);
    ck_assert_ptr_null(vtev_schema_new("{\"type\": \"recor\"}", 17, err, sizeof(err)));
    ck_assert_str_contains(err, "schema:");
    s = vtev_schema_new("\"long\"", 6, err, sizeof(err));
    ck_assert_str_eq(vtev_schema_fullname(s), "long");
    vtev_schema_destroy(s);
}
END_TEST

int main(void) {
    Suite *s = suite_create("codec");
    TCase *tc = tcase_create("codec");
    tcase_add_test(tc, test_roundtrip_all_types);
    tcase_add_test(tc, test_roundtrip_edges);
    tcase_add_test(tc, test_known_bytes);
    tcase_add_test(tc, test_frame_errors);
    tcase_add_test(tc, test_decode_errors);
    tcase_add_test(tc, test_encode_errors);
    tcase_add_test(tc, test_threads);
    tcase_add_test(tc, test_schemas);
    tcase_add_test(tc, test_resolver_cache_eviction);
    suite_add_tcase(s, tc);
    return vtev_test_run(s);
}
