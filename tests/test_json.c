/*
 * test_json.c - the JSON form: exact output, lossless round trips, the
 * older Python services' lines, defaults and every kind of parse error.
 */
#include "event_fixtures.h"
#include "testutil.h"

#include <float.h>

static vtev_err_t parse(vtev_event_t *ev, const char *json, char *err, size_t errsz) {
    return vtev_event_from_json(ev, json, strlen(json), err, errsz);
}

static void roundtrip(const vtev_event_t *in, int flags) {
    char *json = NULL, err[256] = "";
    size_t len = 0;
    vtev_event_t out;
    ck_assert_int_eq(vtev_event_to_json(in, flags, &json, &len), VTEV_ERR_OK);
    ck_assert_uint_eq(strlen(json), len);
    ck_assert_msg(vtev_event_from_json(&out, json, len, err, sizeof(err)) == VTEV_ERR_OK, "%s: %s", err, json);
    fx_assert_event_eq(in, &out);
    vtev_event_clear(&out);
    vtev_free(json);
}

START_TEST(test_legacy_python_line) {
    const char *line =
        "{\"event_id\": \"6f1d3c1e-8c1a-4c53-9b3e-2f1f0c9a7d11\", \"event_type\": \"vessel.position.updated\", "
        "\"timestamp\": \"2026-01-10T15:30:00.000Z\", \"vessel_id\": \"lng-001\", \"data\": {\"lat\": 29.76, "
        "\"lon\": -95.37, \"speed\": 12.5, \"heading\": 275.0, \"status\": \"underway\"}, \"metadata\": "
        "{\"correlation_id\": \"abc\", \"source\": \"ais\"}}";
    vtev_event_t ev;
    char err[256] = "", *json;
    ck_assert_msg(parse(&ev, line, err, sizeof(err)) == VTEV_ERR_OK, "%s", err);
    ck_assert_int_eq(ev.type, VTEV_EVENT_POSITION);
    ck_assert_str_eq(ev.u.env.event_id, "6f1d3c1e-8c1a-4c53-9b3e-2f1f0c9a7d11");
    ck_assert_int_eq(ev.u.env.timestamp_us, INT64_C(1768059000000000));
    ck_assert_str_eq(ev.u.env.vessel_id, "lng-001");
    ck_assert(ev.u.position.data.lat == 29.76);
    ck_assert(ev.u.position.data.lon == -95.37);
    ck_assert(ev.u.position.data.heading == 275.0);
    ck_assert_str_eq(ev.u.position.data.status, "underway");
    ck_assert_str_eq(vtev_envelope_correlation_id(&ev.u.env), "abc");
    ck_assert_int_eq(vtev_event_validate(&ev, err, sizeof(err)), VTEV_ERR_OK);
    /* and we write exactly the same line back */
    ck_assert_int_eq(vtev_event_to_json(&ev, 0, &json, NULL), VTEV_ERR_OK);
    ck_assert_str_eq(json, line);
    vtev_free(json);
    vtev_event_clear(&ev);
}
END_TEST

START_TEST(test_integers_for_doubles) {
    vtev_event_t ev;
    char err[256] = "";
    ck_assert_msg(parse(&ev,
                        "{\"event_type\": \"vessel.position.updated\", \"vessel_id\": \"v\", \"data\": {\"lat\": 29, "
                        "\"lon\": -95, \"speed\": 0, \"heading\": 275, \"status\": \"moored\"}}",
                        err, sizeof(err)) == VTEV_ERR_OK,
                  "%s", err);
    ck_assert(ev.u.position.data.heading == 275.0);
    ck_assert(ev.u.position.data.lat == 29.0);
    vtev_event_clear(&ev);
}
END_TEST

START_TEST(test_defaults_when_absent) {
    vtev_event_t ev;
    char err[256] = "";
    ck_assert_msg(parse(&ev,
                        "{\"event_type\": \"prediction.analysis.requested\", \"vessel_id\": \"v\", \"data\": "
                        "{\"vessel_snapshot\": {\"lat\": 1, \"lon\": 2, \"speed\": 3, \"heading\": 4, \"status\": "
                        "\"underway\"}}}",
                        err, sizeof(err)) == VTEV_ERR_OK,
                  "%s", err);
    ck_assert_int_eq(ev.type, VTEV_EVENT_REQUEST);
    ck_assert_uint_eq(strlen(ev.u.env.event_id), 36);
    ck_assert_int_gt(ev.u.env.timestamp_us, INT64_C(1700000000000000));
    ck_assert_int_eq(strncmp(ev.u.request.request_id, "req-", 4), 0);
    ck_assert_int_eq(ev.u.request.data.priority, VTEV_PRIORITY_NORMAL);
    ck_assert_int_eq(ev.u.request.data.has_terminal_filter, 0);
    ck_assert_uint_eq(vtev_metadata_count(ev.u.env.metadata), 0);
    ck_assert_int_eq(vtev_event_validate(&ev, err, sizeof(err)), VTEV_ERR_OK);
    vtev_event_clear(&ev);
    /* explicit nulls for the optional values */
    ck_assert_msg(parse(&ev,
                        "{\"event_type\": \"prediction.analysis.completed\", \"vessel_id\": \"v\", \"request_id\": "
                        "\"r\", \"metadata\": null, \"data\": {\"prediction_id\": \"p\", \"terminal_id\": 3, "
                        "\"terminal_name\": \"T\", \"confidence_score\": 1, \"scores\": {\"proximity\": 0, \"speed\": "
                        "0, \"heading\": 0, \"rag_boost\": 0, \"ai_adjustment\": 0}, \"distance_km\": 0, "
                        "\"eta_hours\": null, \"vessel_snapshot\": {\"lat\": 1, \"lon\": 2, \"speed\": 3, "
                        "\"heading\": 4, \"status\": \"underway\"}}}",
                        err, sizeof(err)) == VTEV_ERR_OK,
                  "%s", err);
    ck_assert_int_eq(ev.u.result.data.has_eta_hours, 0);
    ck_assert_str_eq(ev.u.result.data.ai_reasoning, "");
    ck_assert_int_eq(vtev_event_validate(&ev, err, sizeof(err)), VTEV_ERR_OK);
    vtev_event_clear(&ev);
}
END_TEST

START_TEST(test_roundtrips) {
    vtev_event_t ev;
    char *json;
    fx_position(&ev);
    roundtrip(&ev, 0);
    roundtrip(&ev, VTEV_JSON_PRETTY);
    /* edge values */
    ev.u.position.data.lat = -90;
    ev.u.position.data.lon = 0.1 + 0.2; /* needs 17 digits */
    ev.u.position.data.speed = DBL_MIN;
    ev.u.position.data.heading = nextafter(360.0, 0.0);
    ev.u.env.timestamp_us = 1;
    snprintf(ev.u.env.vessel_id, sizeof(ev.u.env.vessel_id), "\xe8\x88\xb9 \"q\" \\ \x01\x1f\x7f /");
    roundtrip(&ev, 0);
    ck_assert_int_eq(vtev_metadata_set_double(ev.u.env.metadata, "whole", 3.0), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_metadata_set_int(ev.u.env.metadata, "big", INT64_MAX), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_metadata_set_int(ev.u.env.metadata, "small", INT64_MIN), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_metadata_set_double(ev.u.env.metadata, "tiny", -4.9e-324), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_metadata_set_bool(ev.u.env.metadata, "f", false), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_metadata_set_null(ev.u.env.metadata, "n"), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_metadata_set_string(ev.u.env.metadata, "u", "\xf0\x9f\x9a\xa2\n"), VTEV_ERR_OK);
    roundtrip(&ev, 0);
    roundtrip(&ev, VTEV_JSON_PRETTY);
    /* a whole double stays a double (3.0), an integer stays an integer */
    ck_assert_int_eq(vtev_event_to_json(&ev, 0, &json, NULL), VTEV_ERR_OK);
    ck_assert_str_contains(json, "\"whole\": 3.0");
    ck_assert_str_contains(json, "\"big\": 9223372036854775807");
    ck_assert_str_contains(json, "\"lat\": -90.0");
    ck_assert_str_contains(json, "\"lon\": 0.30000000000000004");
    ck_assert_str_contains(json, "\\u0001");
    vtev_free(json);
    vtev_metadata_destroy(ev.u.env.metadata);
    ev.u.env.metadata = NULL;
    roundtrip(&ev, 0);
    /* bytes that are not UTF-8 (a decoded event can hold them; validation
     * refuses them) still give JSON: U+FFFD */
    snprintf(ev.u.env.vessel_id, sizeof(ev.u.env.vessel_id), "a\xff\xe8\x88" "b");
    ck_assert_int_eq(vtev_event_to_json(&ev, 0, &json, NULL), VTEV_ERR_OK);
    ck_assert_str_contains(json, "\"vessel_id\": \"a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "b\"");
    vtev_free(json);
    vtev_event_clear(&ev);

    fx_request(&ev);
    roundtrip(&ev, 0);
    ev.u.request.data.has_terminal_filter = false;
    ev.u.request.data.priority = VTEV_PRIORITY_LOW;
    roundtrip(&ev, VTEV_JSON_PRETTY);
    vtev_event_clear(&ev);

    fx_result(&ev);
    roundtrip(&ev, 0);
    ev.u.result.data.has_eta_hours = false;
    ev.u.result.data.ai_reasoning[0] = '\0';
    roundtrip(&ev, 0);
    memset(ev.u.result.data.ai_reasoning, 'a', VTEV_TEXT_MAX);
    ev.u.result.data.ai_reasoning[VTEV_TEXT_MAX] = '\0';
    roundtrip(&ev, 0);
    vtev_event_clear(&ev);
}
END_TEST

START_TEST(test_exact_form) {
    vtev_event_t ev;
    char *json;
    ck_assert_int_eq(vtev_event_init(&ev, VTEV_EVENT_RESULT), VTEV_ERR_OK);
    snprintf(ev.u.env.event_id, sizeof(ev.u.env.event_id), "00000000-0000-4000-8000-000000000000");
    ev.u.env.timestamp_us = INT64_C(1768059000123000);
    snprintf(ev.u.env.vessel_id, sizeof(ev.u.env.vessel_id), "v1");
    snprintf(ev.u.result.request_id, sizeof(ev.u.result.request_id), "req-00000001");
    ck_assert_int_eq(vtev_event_to_json(&ev, 0, &json, NULL), VTEV_ERR_OK);
    ck_assert_str_eq(json,
                     "{\"event_id\": \"00000000-0000-4000-8000-000000000000\", \"event_type\": "
                     "\"prediction.analysis.completed\", \"timestamp\": \"2026-01-10T15:30:00.123Z\", "
                     "\"vessel_id\": \"v1\", \"request_id\": \"req-00000001\", \"data\": {\"prediction_id\": "
                     "\"\", \"terminal_id\": 0, \"terminal_name\": \"\", \"confidence_score\": 0.0, \"scores\": "
                     "{\"proximity\": 0.0, \"speed\": 0.0, \"heading\": 0.0, \"rag_boost\": 0.0, "
                     "\"ai_adjustment\": 0.0}, \"distance_km\": 0.0, \"eta_hours\": null, \"ai_reasoning\": \"\", "
                     "\"vessel_snapshot\": {\"lat\": 0.0, \"lon\": 0.0, \"speed\": 0.0, \"heading\": 0.0, "
                     "\"status\": \"\"}}, \"metadata\": {}}");
    vtev_free(json);
    ck_assert_int_eq(vtev_event_to_json(&ev, VTEV_JSON_PRETTY, &json, NULL), VTEV_ERR_OK);
    ck_assert_str_contains(json, "{\n  \"event_id\": \"00000000-0000-4000-8000-000000000000\",\n  \"event_type\"");
    ck_assert_str_contains(json, "\n  \"data\": {\n    \"prediction_id\": \"\",\n");
    ck_assert_str_contains(json, "\n  \"metadata\": {}\n}");
    vtev_free(json);
    ck_assert_int_eq(vtev_event_to_json(NULL, 0, &json, NULL), VTEV_ERR_INVALID_ARG);
    vtev_event_clear(&ev);
}
END_TEST

static int64_t ts_of(const char *ts) {
    char buf[512], err[256] = "";
    vtev_event_t ev;
    int64_t v;
    snprintf(buf, sizeof(buf),
             "{\"event_type\": \"vessel.position.updated\", \"timestamp\": \"%s\", \"vessel_id\": \"v\", \"data\": "
             "{\"lat\": 1, \"lon\": 2, \"speed\": 3, \"heading\": 4, \"status\": \"s\"}}",
             ts);
    if (parse(&ev, buf, err, sizeof(err)) != VTEV_ERR_OK)
        return -1;
    v = ev.u.env.timestamp_us;
    vtev_event_clear(&ev);
    return v;
}

static const char *ts_str(int64_t us, char *out, size_t size) {
    vtev_event_t ev;
    char *json, *p;
    fx_position(&ev);
    ev.u.env.timestamp_us = us;
    ck_assert_int_eq(vtev_event_to_json(&ev, 0, &json, NULL), VTEV_ERR_OK);
    p = strstr(json, "\"timestamp\": \"") + 14;
    snprintf(out, size, "%.*s", (int)(strchr(p, '"') - p), p);
    vtev_free(json);
    vtev_event_clear(&ev);
    return out;
}

START_TEST(test_timestamps) {
    const int64_t base = INT64_C(1768059000000000);
    char b[64];
    ck_assert_int_eq(ts_of("2026-01-10T15:30:00.000Z"), base);
    ck_assert_int_eq(ts_of("2026-01-10T15:30:00Z"), base);
    ck_assert_int_eq(ts_of("2026-01-10T15:30:00.5Z"), base + 500000);
    ck_assert_int_eq(ts_of("2026-01-10T15:30:00.123456Z"), base + 123456);
    ck_assert_int_eq(ts_of("2026-01-10T15:30:00.123456789Z"), base + 123456);
    ck_assert_int_eq(ts_of("2026-01-10T15:30:00.000+00:00"), base);
    ck_assert_int_eq(ts_of("2026-01-10T15:30:00.000000+00:00"), base);
    ck_assert_int_eq(ts_of("2026-01-10T17:30:00+02:00"), base);
    ck_assert_int_eq(ts_of("2026-01-10T10:30:00-0500"), base);
    ck_assert_int_eq(ts_of("2026-01-10T15:30:00"), base); /* naive: UTC */
    ck_assert_int_eq(ts_of("2024-02-29T00:00:00Z"), INT64_C(1709164800000000));
    ck_assert_int_eq(ts_of("1970-01-01T00:00:00Z"), 0);
    ck_assert_int_eq(ts_of("2026-02-29T00:00:00Z"), -1);
    ck_assert_int_eq(ts_of("2026-13-01T00:00:00Z"), -1);
    ck_assert_int_eq(ts_of("2026-01-10T24:00:00Z"), -1);
    ck_assert_int_eq(ts_of("2026-01-10T15:30:00.Z"), -1);
    ck_assert_int_eq(ts_of("2026-01-10 15:30:00Zjunk"), -1);
    ck_assert_int_eq(ts_of("26-01-10T15:30:00Z"), -1);
    ck_assert_int_eq(ts_of(""), -1);
    ck_assert_str_eq(ts_str(base, b, sizeof(b)), "2026-01-10T15:30:00.000Z");
    ck_assert_str_eq(ts_str(base + 123000, b, sizeof(b)), "2026-01-10T15:30:00.123Z");
    ck_assert_str_eq(ts_str(base + 123456, b, sizeof(b)), "2026-01-10T15:30:00.123456Z");
    ck_assert_str_eq(ts_str(base + 1, b, sizeof(b)), "2026-01-10T15:30:00.000001Z");
    ck_assert_str_eq(ts_str(1, b, sizeof(b)), "1970-01-01T00:00:00.000001Z");
    ck_assert_str_eq(ts_str(INT64_C(253402300799999999), b, sizeof(b)), "9999-12-31T23:59:59.999999Z");
    ck_assert_str_eq(ts_str(-1, b, sizeof(b)), "1969-12-31T23:59:59.999999Z");
}
END_TEST

#define EXPECT_PARSE_ERR(json, msg)                                                                \
    do {                                                                                           \
        vtev_event_t ev_;                                                                          \
        char err_[256] = "";                                                                       \
        ck_assert_int_eq(parse(&ev_, (json), err_, sizeof(err_)), VTEV_ERR_PARSE);                 \
        ck_assert_str_contains(err_, (msg));                                                       \
        ck_assert_int_eq(ev_.type, VTEV_EVENT_NONE);                                               \
        ck_assert_ptr_null(ev_.u.env.metadata);                                                    \
    } while (0)

#define POS_HEAD "{\"event_type\": \"vessel.position.updated\", \"vessel_id\": \"v\", "
#define STATE "{\"lat\": 1, \"lon\": 2, \"speed\": 3, \"heading\": 4, \"status\": \"s\"}"
#define REQ_HEAD "{\"event_type\": \"prediction.analysis.requested\", \"vessel_id\": \"v\", "
#define RES_HEAD "{\"event_type\": \"prediction.analysis.completed\", \"vessel_id\": \"v\", \"request_id\": \"r\", "
#define SCORES "{\"proximity\": 0, \"speed\": 0, \"heading\": 0, \"rag_boost\": 0, \"ai_adjustment\": 0}"
#define RES_DATA(extra)                                                                            \
    "\"data\": {\"prediction_id\": \"p\", \"terminal_id\": 3, \"terminal_name\": \"T\", "           \
    "\"confidence_score\": 1, \"scores\": " SCORES ", \"distance_km\": 0, \"vessel_snapshot\": " STATE extra "}}"

START_TEST(test_parse_errors) {
    /* malformed JSON: line and column */
    EXPECT_PARSE_ERR("{\"event_type\": \"vessel.position.updated\",\n  \"vessel_id\": v}", "line 2, column");
    EXPECT_PARSE_ERR("", "line 1, column 0");
    EXPECT_PARSE_ERR("{} {}", "line 1, column");
    EXPECT_PARSE_ERR("[1]", "expected a JSON object, got an array");
    EXPECT_PARSE_ERR("{\"event_type\": \"x\", \"event_type\": \"y\"}", "duplicate");
    /* event_type */
    EXPECT_PARSE_ERR("{}", "event_type: missing required field");
    EXPECT_PARSE_ERR("{\"event_type\": 5}", "event_type: expected a string, got an integer");
    EXPECT_PARSE_ERR("{\"event_type\": \"vessel.position\"}", "event_type: \"vessel.position\" is not one of");
    /* missing required fields */
    EXPECT_PARSE_ERR("{\"event_type\": \"vessel.position.updated\", \"data\": " STATE "}",
                     "vessel_id: missing required field");
    EXPECT_PARSE_ERR(POS_HEAD "\"metadata\": {}}", "data: missing required field");
    EXPECT_PARSE_ERR(POS_HEAD "\"data\": {\"lat\": 1, \"lon\": 2, \"speed\": 3, \"status\": \"s\"}}",
                     "data.heading: missing required field");
    EXPECT_PARSE_ERR(REQ_HEAD "\"data\": {}}", "data.vessel_snapshot: missing required field");
    EXPECT_PARSE_ERR(REQ_HEAD "\"data\": {\"vessel_snapshot\": {\"lat\": 1, \"lon\": 2, \"speed\": 3, \"heading\": 4}}}",
                     "data.vessel_snapshot.status: missing required field");
    EXPECT_PARSE_ERR(RES_HEAD "\"data\": {\"prediction_id\": \"p\"}}", "data.terminal_id: missing required field");
    EXPECT_PARSE_ERR(RES_HEAD "\"data\": {\"prediction_id\": \"p\", \"terminal_id\": 3, \"terminal_name\": \"T\", "
                              "\"confidence_score\": 1, \"scores\": {\"proximity\": 0}}}",
                     "data.scores.speed: missing required field");
    /* wrong types */
    EXPECT_PARSE_ERR(POS_HEAD "\"data\": {\"lat\": \"1\", \"lon\": 2, \"speed\": 3, \"heading\": 4, \"status\": \"s\"}}",
                     "data.lat: expected a number, got a string");
    EXPECT_PARSE_ERR(POS_HEAD "\"data\": {\"lat\": 1, \"lon\": 2, \"speed\": 3, \"heading\": 4, \"status\": 7}}",
                     "data.status: expected a string, got an integer");
    EXPECT_PARSE_ERR(POS_HEAD "\"data\": []}", "data: expected an object, got an array");
    EXPECT_PARSE_ERR("{\"event_type\": \"vessel.position.updated\", \"vessel_id\": null, \"data\": " STATE "}",
                     "vessel_id: expected a string, got null");
    EXPECT_PARSE_ERR(POS_HEAD "\"event_id\": 1, \"data\": " STATE "}", "event_id: expected a string, got an integer");
    EXPECT_PARSE_ERR(POS_HEAD "\"timestamp\": 1768059000000, \"data\": " STATE "}",
                     "timestamp: expected an ISO-8601 string, got an integer");
    EXPECT_PARSE_ERR(POS_HEAD "\"timestamp\": \"yesterday\", \"data\": " STATE "}",
                     "timestamp: \"yesterday\" is not an ISO-8601 UTC time");
    EXPECT_PARSE_ERR(POS_HEAD "\"metadata\": [], \"data\": " STATE "}", "metadata: expected an object, got an array");
    EXPECT_PARSE_ERR(POS_HEAD "\"metadata\": {\"a\": {\"b\": 1}}, \"data\": " STATE "}",
                     "metadata.a: expected a string, number, boolean or null, got an object");
    EXPECT_PARSE_ERR(POS_HEAD "\"metadata\": {\"\": 1}, \"data\": " STATE "}", "metadata: \"\": key is empty");
    EXPECT_PARSE_ERR(REQ_HEAD "\"data\": {\"vessel_snapshot\": " STATE ", \"terminal_filter\": 1.5}}",
                     "data.terminal_filter: expected an integer, got a number");
    EXPECT_PARSE_ERR(REQ_HEAD "\"data\": {\"vessel_snapshot\": " STATE ", \"priority\": \"urgent\"}}",
                     "data.priority: \"urgent\" is not one of low, normal, high");
    EXPECT_PARSE_ERR(REQ_HEAD "\"data\": {\"vessel_snapshot\": " STATE ", \"priority\": 2}}",
                     "data.priority: expected a string, got an integer");
    EXPECT_PARSE_ERR(REQ_HEAD "\"request_id\": 5, \"data\": {\"vessel_snapshot\": " STATE "}}",
                     "request_id: expected a string, got an integer");
    EXPECT_PARSE_ERR(RES_HEAD "\"data\": {\"prediction_id\": \"p\", \"terminal_id\": 3.5}}",
                     "data.terminal_id: expected an integer, got a number");
    EXPECT_PARSE_ERR(RES_HEAD RES_DATA(", \"eta_hours\": \"soon\""), "data.eta_hours: expected a number, got a string");
    EXPECT_PARSE_ERR(RES_HEAD RES_DATA(", \"ai_reasoning\": false"),
                     "data.ai_reasoning: expected a string, got a boolean");
    /* unknown fields at every level */
    EXPECT_PARSE_ERR(POS_HEAD "\"vesel_id\": \"x\", \"data\": " STATE "}", "vesel_id: unknown field");
    EXPECT_PARSE_ERR(POS_HEAD "\"request_id\": \"x\", \"data\": " STATE "}", "request_id: unknown field");
    EXPECT_PARSE_ERR(POS_HEAD "\"data\": {\"lat\": 1, \"lon\": 2, \"speed\": 3, \"heading\": 4, \"status\": \"s\", "
                              "\"course\": 5}}",
                     "data.course: unknown field");
    EXPECT_PARSE_ERR(REQ_HEAD "\"data\": {\"vessel_snapshot\": " STATE ", \"prio\": \"low\"}}",
                     "data.prio: unknown field");
    EXPECT_PARSE_ERR(REQ_HEAD "\"data\": {\"vessel_snapshot\": {\"lat\": 1, \"lon\": 2, \"speed\": 3, \"heading\": 4, "
                              "\"status\": \"s\", \"x\": 1}}}",
                     "data.vessel_snapshot.x: unknown field");
    EXPECT_PARSE_ERR(RES_HEAD "\"data\": {\"prediction_id\": \"p\", \"terminal_id\": 3, \"terminal_name\": \"T\", "
                              "\"confidence_score\": 1, \"scores\": {\"proximity\": 0, \"speeed\": 1}}}",
                     "data.scores.speeed: unknown field");
    EXPECT_PARSE_ERR(RES_HEAD RES_DATA(", \"eta\": 1"), "data.eta: unknown field");
    /* limits: refused, never truncated */
    EXPECT_PARSE_ERR(POS_HEAD "\"event_id\": \"0123456789012345678901234567890123456\", \"data\": " STATE "}",
                     "event_id: string of 37 bytes exceeds the limit of 36");
    EXPECT_PARSE_ERR("{\"event_type\": \"vessel.position.updated\", \"vessel_id\": "
                     "\"01234567890123456789012345678901234567890123456789012345678901234\", \"data\": " STATE "}",
                     "vessel_id: string of 65 bytes exceeds the limit of 64");
    EXPECT_PARSE_ERR(POS_HEAD "\"data\": {\"lat\": 1, \"lon\": 2, \"speed\": 3, \"heading\": 4, \"status\": "
                              "\"012345678901234567890123456789012\"}}",
                     "data.status: string of 33 bytes exceeds the limit of 32");
    EXPECT_PARSE_ERR(POS_HEAD "\"metadata\": {\"k\": \"\\u0000\"}, \"data\": " STATE "}", "line 1");
}
END_TEST

START_TEST(test_parse_metadata_limits) {
    char buf[8192], err[256];
    size_t n;
    int i;
    vtev_event_t ev;
    /* 65 entries */
    n = (size_t)snprintf(buf, sizeof(buf), POS_HEAD "\"data\": " STATE ", \"metadata\": {");
    for (i = 0; i < 65; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s\"k%d\": %d", i ? ", " : "", i, i);
    snprintf(buf + n, sizeof(buf) - n, "}}");
    ck_assert_int_eq(parse(&ev, buf, err, sizeof(err)), VTEV_ERR_PARSE);
    ck_assert_str_contains(err, "metadata: 65 entries exceed the limit of 64");
    /* long key, long string */
    n = (size_t)snprintf(buf, sizeof(buf), POS_HEAD "\"data\": " STATE ", \"metadata\": {\"");
    for (i = 0; i < 65; i++)
        buf[n++] = 'k';
    snprintf(buf + n, sizeof(buf) - n, "\": 1}}");
    ck_assert_int_eq(parse(&ev, buf, err, sizeof(err)), VTEV_ERR_PARSE);
    ck_assert_str_contains(err, "key is longer than 64 bytes");
    n = (size_t)snprintf(buf, sizeof(buf), POS_HEAD "\"data\": " STATE ", \"metadata\": {\"s\": \"");
    for (i = 0; i < 1025; i++)
        buf[n++] = 's';
    snprintf(buf + n, sizeof(buf) - n, "\"}}");
    ck_assert_int_eq(parse(&ev, buf, err, sizeof(err)), VTEV_ERR_PARSE);
    ck_assert_str_contains(err, "metadata.s: string of 1025 bytes exceeds the limit of 1024");
    /* types kept: 1 -> int, 1.0 -> double, 1e3 -> double */
    ck_assert_int_eq(parse(&ev, POS_HEAD "\"data\": " STATE ", \"metadata\": {\"i\": 1, \"d\": 1.0, \"e\": 1e3, \"b\": "
                                         "true, \"n\": null}}",
                           err, sizeof(err)),
                     VTEV_ERR_OK);
    {
        vtev_meta_value_t v;
        ck_assert(vtev_metadata_get(ev.u.env.metadata, "i", &v) && v.type == VTEV_META_INT && v.i == 1);
        ck_assert(vtev_metadata_get(ev.u.env.metadata, "d", &v) && v.type == VTEV_META_DOUBLE && v.d == 1.0);
        ck_assert(vtev_metadata_get(ev.u.env.metadata, "e", &v) && v.type == VTEV_META_DOUBLE && v.d == 1000.0);
        ck_assert(vtev_metadata_get(ev.u.env.metadata, "b", &v) && v.type == VTEV_META_BOOL && v.b);
        ck_assert(vtev_metadata_get(ev.u.env.metadata, "n", &v) && v.type == VTEV_META_NULL);
        ck_assert_str_eq(vtev_metadata_entry(ev.u.env.metadata, 0, &v), "i"); /* document order */
        ck_assert_str_eq(vtev_metadata_entry(ev.u.env.metadata, 4, &v), "n");
    }
    vtev_event_clear(&ev);
}
END_TEST

int main(void) {
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("json");
    tcase_add_test(tc, test_legacy_python_line);
    tcase_add_test(tc, test_integers_for_doubles);
    tcase_add_test(tc, test_defaults_when_absent);
    tcase_add_test(tc, test_roundtrips);
    tcase_add_test(tc, test_exact_form);
    tcase_add_test(tc, test_timestamps);
    tcase_add_test(tc, test_parse_errors);
    tcase_add_test(tc, test_parse_metadata_limits);
    suite_add_tcase(s, tc);
    return vtev_test_run(s);
}
