/*
 * test_validate.c - every validation rule: feed the bad value, check the
 * code and the message (field path + value).
 */
#include "event_fixtures.h"
#include "testutil.h"

#include "event_int.h" /* white-box: vtev__metadata_new_bulk() skips the setters' checks */

#include <float.h>
#include <math.h>

#define EXPECT_INVALID(ev, msg)                                                                    \
    do {                                                                                           \
        char err_[256] = "";                                                                       \
        ck_assert_int_eq(vtev_event_validate((ev), err_, sizeof(err_)), VTEV_ERR_INVALID);         \
        ck_assert_str_contains(err_, (msg));                                                       \
    } while (0)

#define EXPECT_VALID(ev)                                                                           \
    do {                                                                                           \
        char err_[256] = "";                                                                       \
        ck_assert_msg(vtev_event_validate((ev), err_, sizeof(err_)) == VTEV_ERR_OK, "%s", err_);   \
    } while (0)

START_TEST(test_fixtures_valid) {
    vtev_event_t a, b, c;
    fx_position(&a);
    fx_request(&b);
    fx_result(&c);
    EXPECT_VALID(&a);
    EXPECT_VALID(&b);
    EXPECT_VALID(&c);
    vtev_event_clear(&a);
    vtev_event_clear(&b);
    vtev_event_clear(&c);
}
END_TEST

START_TEST(test_fresh_init_is_invalid) {
    vtev_event_t ev;
    ck_assert_int_eq(vtev_event_init(&ev, VTEV_EVENT_POSITION), VTEV_ERR_OK);
    EXPECT_INVALID(&ev, "vessel_id: \"\" must not be empty");
    vtev_event_clear(&ev);
}
END_TEST

START_TEST(test_envelope_rules) {
    vtev_event_t ev;
    fx_position(&ev);
    /* event_id */
    snprintf(ev.u.env.event_id, sizeof(ev.u.env.event_id), "not-a-uuid");
    EXPECT_INVALID(&ev, "event_id: \"not-a-uuid\" is not a UUID");
    snprintf(ev.u.env.event_id, sizeof(ev.u.env.event_id), "123e4567-e89b-42d3-a456-42661417400g");
    EXPECT_INVALID(&ev, "event_id: \"123e4567-e89b-42d3-a456-42661417400g\" is not a UUID");
    snprintf(ev.u.env.event_id, sizeof(ev.u.env.event_id), "123e4567Ae89b-42d3-a456-426614174000");
    EXPECT_INVALID(&ev, "is not a UUID");
    ev.u.env.event_id[0] = '\0';
    EXPECT_INVALID(&ev, "event_id: \"\" is not a UUID");
    snprintf(ev.u.env.event_id, sizeof(ev.u.env.event_id), "123E4567-E89B-42D3-A456-426614174000");
    EXPECT_VALID(&ev);
    /* timestamp */
    ev.u.env.timestamp_us = 0;
    EXPECT_INVALID(&ev, "timestamp: 0 is outside (0, 253402300799999999]");
    ev.u.env.timestamp_us = -5;
    EXPECT_INVALID(&ev, "timestamp: -5 is outside");
    ev.u.env.timestamp_us = INT64_C(253402300800000000);
    EXPECT_INVALID(&ev, "timestamp: 253402300800000000 is outside");
    ev.u.env.timestamp_us = 1;
    EXPECT_VALID(&ev);
    /* vessel_id */
    ev.u.env.vessel_id[0] = '\0';
    EXPECT_INVALID(&ev, "vessel_id: \"\" must not be empty");
    memset(ev.u.env.vessel_id, 'a', sizeof(ev.u.env.vessel_id)); /* not NUL-terminated */
    EXPECT_INVALID(&ev, "vessel_id: \"aaaaaaaaaaaaaaaaaaaa...\" is longer than 64 bytes");
    snprintf(ev.u.env.vessel_id, sizeof(ev.u.env.vessel_id), "ab\xff");
    EXPECT_INVALID(&ev, "vessel_id: byte 0xff at offset 2 is not valid UTF-8");
    snprintf(ev.u.env.vessel_id, sizeof(ev.u.env.vessel_id), "\xc0\xaf"); /* overlong '/' */
    EXPECT_INVALID(&ev, "vessel_id: byte 0xc0 at offset 0 is not valid UTF-8");
    snprintf(ev.u.env.vessel_id, sizeof(ev.u.env.vessel_id), "\xed\xa0\x80"); /* surrogate */
    EXPECT_INVALID(&ev, "vessel_id: byte 0xed at offset 0 is not valid UTF-8");
    snprintf(ev.u.env.vessel_id, sizeof(ev.u.env.vessel_id), "\xe8\x88\xb9\xf0\x9f\x9a\xa2");
    EXPECT_VALID(&ev);
    snprintf(ev.u.position.data.status, sizeof(ev.u.position.data.status), "\xe8\x88");
    EXPECT_INVALID(&ev, "data.status: byte 0xe8 at offset 0 is not valid UTF-8");
    snprintf(ev.u.position.data.status, sizeof(ev.u.position.data.status), "moored");
    snprintf(ev.u.env.vessel_id, sizeof(ev.u.env.vessel_id), "x");
    EXPECT_VALID(&ev);
    vtev_event_clear(&ev);
    /* bad type */
    memset(&ev, 0, sizeof(ev));
    EXPECT_INVALID(&ev, "event_type: 0 is not an event type");
    ck_assert_int_eq(vtev_event_validate(NULL, NULL, 0), VTEV_ERR_INVALID_ARG);
}
END_TEST

START_TEST(test_metadata_rules) {
    vtev_event_t ev;
    vtev_metadata_t *md;
    char big[VTEV_META_STRING_MAX + 2];
    int i;
    fx_position(&ev);
    md = ev.u.env.metadata;
    /* the setters refuse what validation would refuse */
    ck_assert_int_eq(vtev_metadata_set_double(md, "d", NAN), VTEV_ERR_INVALID_ARG);
    ck_assert_int_eq(vtev_metadata_set_double(md, "d", INFINITY), VTEV_ERR_INVALID_ARG);
    ck_assert_int_eq(vtev_metadata_set_string(md, "", "x"), VTEV_ERR_INVALID_ARG);
    ck_assert_int_eq(vtev_metadata_set_string(md,
                                              "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
                                              "x"),
                     VTEV_ERR_INVALID_ARG);
    memset(big, 'b', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ck_assert_int_eq(vtev_metadata_set_string(md, "s", big), VTEV_ERR_INVALID_ARG);
    big[VTEV_META_STRING_MAX] = '\0';
    ck_assert_int_eq(vtev_metadata_set_string(md, "s", big), VTEV_ERR_OK);
    for (i = vtev_metadata_count(md); i < VTEV_META_MAX_ENTRIES; i++) {
        char k[16];
        snprintf(k, sizeof(k), "k%d", i);
        ck_assert_int_eq(vtev_metadata_set_int(md, k, i), VTEV_ERR_OK);
    }
    ck_assert_int_eq(vtev_metadata_set_int(md, "one-too-many", 1), VTEV_ERR_INVALID_ARG);
    ck_assert_int_eq(vtev_metadata_set_int(md, "s", 1), VTEV_ERR_OK); /* replacing is fine */
    EXPECT_VALID(&ev);
    vtev_event_clear(&ev);
}
END_TEST

static void state_rules(vtev_event_t *ev, vtev_vessel_state_t *s, const char *p) {
    char msg[128];
    vtev_vessel_state_t saved = *s;
#define BAD(field, value, text)                                                                    \
    do {                                                                                           \
        s->field = (value);                                                                        \
        snprintf(msg, sizeof(msg), "%s%s: %s", p, #field, text);                                   \
        EXPECT_INVALID(ev, msg);                                                                   \
        *s = saved;                                                                                \
    } while (0)
#define GOOD(field, value)                                                                         \
    do {                                                                                           \
        s->field = (value);                                                                        \
        EXPECT_VALID(ev);                                                                          \
        *s = saved;                                                                                \
    } while (0)
    BAD(lat, 91, "91 is outside [-90, 90]");
    BAD(lat, -90.000001, "-90.000001 is outside [-90, 90]");
    BAD(lat, NAN, "NaN is not a finite number");
    BAD(lat, INFINITY, "inf is not a finite number");
    GOOD(lat, 90);
    GOOD(lat, -90);
    BAD(lon, 180.5, "180.5 is outside [-180, 180]");
    BAD(lon, -181, "-181 is outside [-180, 180]");
    BAD(lon, -INFINITY, "-inf is not a finite number");
    GOOD(lon, -180);
    GOOD(lon, 180);
    BAD(speed, -0.1, "-0.1 is negative");
    BAD(speed, NAN, "NaN is not a finite number");
    BAD(speed, INFINITY, "inf is not a finite number");
    GOOD(speed, 0);
    GOOD(speed, 1e6);
    BAD(heading, 360, "360 is outside [0, 360)");
    BAD(heading, -1, "-1 is outside [0, 360)");
    BAD(heading, NAN, "NaN is not a finite number");
    GOOD(heading, 0);
    GOOD(heading, 359.999);
    s->status[0] = '\0';
    snprintf(msg, sizeof(msg), "%sstatus: \"\" must not be empty", p);
    EXPECT_INVALID(ev, msg);
    memset(s->status, 'z', sizeof(s->status));
    snprintf(msg, sizeof(msg), "%sstatus: \"zzzzzzzzzzzzzzzzzzzz...\" is longer than 32 bytes", p);
    EXPECT_INVALID(ev, msg);
    *s = saved;
    EXPECT_VALID(ev);
#undef BAD
#undef GOOD
}

/* The validator checks metadata itself (a map could come from anywhere). */
static void bad_meta(const char *key, vtev_meta_value_t v, const char *msg) {
    vtev_event_t ev;
    char *arena;
    fx_position(&ev);
    vtev_metadata_destroy(ev.u.env.metadata);
    ev.u.env.metadata = vtev__metadata_new_bulk(1, strlen(key) + 1, &arena);
    ck_assert_ptr_nonnull(ev.u.env.metadata);
    memcpy(arena, key, strlen(key) + 1);
    vtev__metadata_push(ev.u.env.metadata, arena, &v);
    EXPECT_INVALID(&ev, msg);
    vtev_event_clear(&ev);
}

START_TEST(test_metadata_validator) {
    char big[VTEV_META_STRING_MAX + 2], longkey[VTEV_META_KEY_MAX + 2];
    vtev_meta_value_t v;
    vtev_event_t ev;
    char *arena;
    int i;
    memset(big, 'b', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memset(longkey, 'k', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    memset(&v, 0, sizeof(v));
    v.type = VTEV_META_DOUBLE;
    v.d = NAN;
    bad_meta("d", v, "metadata.d: NaN is not a finite number");
    v.d = -INFINITY;
    bad_meta("d", v, "metadata.d: -inf is not a finite number");
    v.type = VTEV_META_STRING;
    v.s = big;
    bad_meta("s", v, "metadata.s: \"bbbbbbbbbbbbbbbbbbbb...\" is longer than 1024 bytes");
    v.s = "\xff";
    bad_meta("s", v, "metadata.s: byte 0xff at offset 0 is not valid UTF-8");
    v.type = VTEV_META_INT;
    bad_meta("", v, "metadata: \"\": key is empty");
    bad_meta(longkey, v, "key is longer than 64 bytes");
    bad_meta("\xfe", v, "metadata: key is not valid UTF-8");
    v.type = (vtev_meta_type_t)9;
    bad_meta("t", v, "metadata.t: 9 is not a metadata type");
    /* 65 entries */
    fx_position(&ev);
    vtev_metadata_destroy(ev.u.env.metadata);
    ev.u.env.metadata = vtev__metadata_new_bulk(65, 65 * 4, &arena);
    v.type = VTEV_META_NULL;
    for (i = 0; i < 65; i++) {
        snprintf(arena, 4, "%d", i);
        vtev__metadata_push(ev.u.env.metadata, arena, &v);
        arena += 4;
    }
    EXPECT_INVALID(&ev, "metadata: 65 entries exceed the limit of 64");
    vtev_event_clear(&ev);
}
END_TEST

START_TEST(test_position_rules) {
    vtev_event_t ev;
    fx_position(&ev);
    state_rules(&ev, &ev.u.position.data, "data.");
    vtev_event_clear(&ev);
}
END_TEST

START_TEST(test_request_rules) {
    vtev_event_t ev;
    fx_request(&ev);
    state_rules(&ev, &ev.u.request.data.vessel_snapshot, "data.vessel_snapshot.");
    ev.u.request.request_id[0] = '\0';
    EXPECT_INVALID(&ev, "request_id: \"\" must not be empty");
    memset(ev.u.request.request_id, 'q', sizeof(ev.u.request.request_id));
    EXPECT_INVALID(&ev, "request_id: \"qqqqqqqqqqqqqqqqqqqq...\" is longer than 64 bytes");
    snprintf(ev.u.request.request_id, sizeof(ev.u.request.request_id), "anything");
    EXPECT_VALID(&ev);
    ev.u.request.data.priority = (vtev_priority_t)3;
    EXPECT_INVALID(&ev, "data.priority: 3 is not one of low, normal, high");
    ev.u.request.data.priority = (vtev_priority_t)-1;
    EXPECT_INVALID(&ev, "data.priority: -1 is not one of low, normal, high");
    ev.u.request.data.priority = VTEV_PRIORITY_LOW;
    ev.u.request.data.has_terminal_filter = true;
    ev.u.request.data.terminal_filter = -1;
    EXPECT_VALID(&ev);
    vtev_event_clear(&ev);
}
END_TEST

START_TEST(test_result_rules) {
    vtev_event_t ev;
    vtev_result_data_t *d, saved;
    fx_result(&ev);
    d = &ev.u.result.data;
    saved = *d;
    state_rules(&ev, &d->vessel_snapshot, "data.vessel_snapshot.");
    ev.u.result.request_id[0] = '\0';
    EXPECT_INVALID(&ev, "request_id: \"\" must not be empty");
    snprintf(ev.u.result.request_id, sizeof(ev.u.result.request_id), "req-1");
#define BAD(expr, text)                                                                            \
    do {                                                                                           \
        expr;                                                                                      \
        EXPECT_INVALID(&ev, text);                                                                 \
        *d = saved;                                                                                \
        EXPECT_VALID(&ev);                                                                         \
    } while (0)
    BAD(d->prediction_id[0] = '\0', "data.prediction_id: \"\" must not be empty");
    BAD(memset(d->prediction_id, 'p', sizeof(d->prediction_id)), "data.prediction_id: \"pppp");
    BAD(d->terminal_name[0] = '\0', "data.terminal_name: \"\" must not be empty");
    BAD(memset(d->terminal_name, 'n', sizeof(d->terminal_name)), "data.terminal_name: \"nnnn");
    BAD(d->confidence_score = 1.01, "data.confidence_score: 1.01 is outside [0, 1]");
    BAD(d->confidence_score = -0.01, "data.confidence_score: -0.01 is outside [0, 1]");
    BAD(d->confidence_score = NAN, "data.confidence_score: NaN is not a finite number");
    BAD(d->scores.proximity = 2, "data.scores.proximity: 2 is outside [0, 1]");
    BAD(d->scores.proximity = NAN, "data.scores.proximity: NaN is not a finite number");
    BAD(d->scores.speed = -1, "data.scores.speed: -1 is outside [0, 1]");
    BAD(d->scores.heading = 1.5, "data.scores.heading: 1.5 is outside [0, 1]");
    BAD(d->scores.heading = INFINITY, "data.scores.heading: inf is not a finite number");
    BAD(d->scores.rag_boost = 0.31, "data.scores.rag_boost: 0.31 is outside [0, 0.3]");
    BAD(d->scores.rag_boost = -0.1, "data.scores.rag_boost: -0.1 is outside [0, 0.3]");
    BAD(d->scores.ai_adjustment = 0.30001, "data.scores.ai_adjustment: 0.30001 is outside [-0.3, 0.3]");
    BAD(d->scores.ai_adjustment = -0.5, "data.scores.ai_adjustment: -0.5 is outside [-0.3, 0.3]");
    BAD(d->distance_km = -1, "data.distance_km: -1 is negative");
    BAD(d->distance_km = INFINITY, "data.distance_km: inf is not a finite number");
    BAD(d->eta_hours = -2, "data.eta_hours: -2 is negative");
    BAD(d->eta_hours = NAN, "data.eta_hours: NaN is not a finite number");
    BAD(memset(d->ai_reasoning, 'r', sizeof(d->ai_reasoning)), "data.ai_reasoning: \"rrrr");
#undef BAD
    /* eta_hours is only checked when present; empty reasoning is fine */
    d->has_eta_hours = false;
    d->eta_hours = NAN;
    d->ai_reasoning[0] = '\0';
    EXPECT_VALID(&ev);
    /* boundaries */
    d->confidence_score = 1;
    d->scores.rag_boost = 0.3;
    d->scores.ai_adjustment = -0.3;
    d->distance_km = 0;
    EXPECT_VALID(&ev);
    vtev_event_clear(&ev);
}
END_TEST

START_TEST(test_typed_validators) {
    vtev_event_t ev;
    char err[128];
    fx_position(&ev);
    ck_assert_int_eq(vtev_position_validate(&ev.u.position, err, sizeof(err)), VTEV_ERR_OK);
    ev.u.position.data.lat = 100;
    ck_assert_int_eq(vtev_position_validate(&ev.u.position, err, sizeof(err)), VTEV_ERR_INVALID);
    ck_assert_str_eq(err, "data.lat: 100 is outside [-90, 90]");
    ck_assert_int_eq(vtev_position_validate(NULL, err, sizeof(err)), VTEV_ERR_INVALID_ARG);
    ck_assert_int_eq(vtev_request_validate(NULL, err, sizeof(err)), VTEV_ERR_INVALID_ARG);
    ck_assert_int_eq(vtev_result_validate(NULL, err, sizeof(err)), VTEV_ERR_INVALID_ARG);
    /* a NULL errstr is allowed */
    ck_assert_int_eq(vtev_position_validate(&ev.u.position, NULL, 0), VTEV_ERR_INVALID);
    vtev_event_clear(&ev);
}
END_TEST

int main(void) {
    Suite *s = suite_create("validate");
    TCase *tc = tcase_create("validate");
    tcase_add_test(tc, test_fixtures_valid);
    tcase_add_test(tc, test_fresh_init_is_invalid);
    tcase_add_test(tc, test_envelope_rules);
    tcase_add_test(tc, test_metadata_rules);
    tcase_add_test(tc, test_metadata_validator);
    tcase_add_test(tc, test_position_rules);
    tcase_add_test(tc, test_request_rules);
    tcase_add_test(tc, test_result_rules);
    tcase_add_test(tc, test_typed_validators);
    suite_add_tcase(s, tc);
    return vtev_test_run(s);
}
