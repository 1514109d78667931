/*
 * event_fixtures.h - filled-in events and a deep equality check, shared by
 * the event, codec, JSON and evolution tests.
 */
#ifndef VTEV_EVENT_FIXTURES_H
#define VTEV_EVENT_FIXTURES_H

#include <check.h>
#include <stdio.h>
#include <math.h>
#include <string.h>
#include <vtevents/vtevents.h>

static inline void fx_state(vtev_vessel_state_t *s, double lat, double lon, const char *status) {
    s->lat = lat;
    s->lon = lon;
    s->speed = 12.5;
    s->heading = 275.0;
    snprintf(s->status, sizeof(s->status), "%s", status);
}

static inline void fx_position(vtev_event_t *ev) {
    ck_assert_int_eq(vtev_event_init(ev, VTEV_EVENT_POSITION), VTEV_ERR_OK);
    snprintf(ev->u.env.vessel_id, sizeof(ev->u.env.vessel_id), "lng-001");
    fx_state(&ev->u.position.data, 29.76, -95.37, "underway");
    ck_assert_int_eq(vtev_metadata_set_string(vtev_envelope_metadata(&ev->u.env), "correlation_id", "abc"),
                     VTEV_ERR_OK);
    ck_assert_int_eq(vtev_metadata_set_string(vtev_envelope_metadata(&ev->u.env), "source", "ais"),
                     VTEV_ERR_OK);
}

static inline void fx_request(vtev_event_t *ev) {
    ck_assert_int_eq(vtev_event_init(ev, VTEV_EVENT_REQUEST), VTEV_ERR_OK);
    snprintf(ev->u.env.vessel_id, sizeof(ev->u.env.vessel_id), "lng-002");
    fx_state(&ev->u.request.data.vessel_snapshot, -33.9, 151.2, "at anchor");
    ev->u.request.data.has_terminal_filter = true;
    ev->u.request.data.terminal_filter = 7;
    ev->u.request.data.priority = VTEV_PRIORITY_HIGH;
    ck_assert_int_eq(vtev_metadata_set_int(vtev_envelope_metadata(&ev->u.env), "processing_time_ms", 42),
                     VTEV_ERR_OK);
    ck_assert_int_eq(vtev_metadata_set_bool(vtev_envelope_metadata(&ev->u.env), "retry", true), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_metadata_set_null(vtev_envelope_metadata(&ev->u.env), "triggered_by"), VTEV_ERR_OK);
}

static inline void fx_result(vtev_event_t *ev) {
    vtev_result_data_t *d;
    ck_assert_int_eq(vtev_event_init(ev, VTEV_EVENT_RESULT), VTEV_ERR_OK);
    d = &ev->u.result.data;
    snprintf(ev->u.env.vessel_id, sizeof(ev->u.env.vessel_id), "lng-003");
    snprintf(ev->u.result.request_id, sizeof(ev->u.result.request_id), "req-0a1b2c3d");
    snprintf(d->prediction_id, sizeof(d->prediction_id), "pred-1");
    d->terminal_id = 12;
    snprintf(d->terminal_name, sizeof(d->terminal_name), "Sabine Pass LNG \xc3\xa9\xe2\x9b\xb4");
    d->confidence_score = 0.87;
    d->scores.proximity = 0.9;
    d->scores.speed = 0.5;
    d->scores.heading = 1.0;
    d->scores.rag_boost = 0.3;
    d->scores.ai_adjustment = -0.3;
    d->distance_km = 14.25;
    d->has_eta_hours = true;
    d->eta_hours = 3.5;
    snprintf(d->ai_reasoning, sizeof(d->ai_reasoning), "Heading \"towards\" the terminal\n\tat 12 kn.");
    fx_state(&d->vessel_snapshot, 90, 180, "moored");
    ck_assert_int_eq(vtev_metadata_set_double(vtev_envelope_metadata(&ev->u.env), "score", 0.25), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_metadata_set_string(vtev_envelope_metadata(&ev->u.env), "model_version", "v1.2"),
                     VTEV_ERR_OK);
}

/* Same bits for doubles (so -0.0 != 0.0 and NaN == NaN would show). */
static inline int fx_deq(double a, double b) {
    return memcmp(&a, &b, sizeof(a)) == 0;
}

static inline void fx_assert_state_eq(const vtev_vessel_state_t *a, const vtev_vessel_state_t *b) {
    ck_assert(fx_deq(a->lat, b->lat));
    ck_assert(fx_deq(a->lon, b->lon));
    ck_assert(fx_deq(a->speed, b->speed));
    ck_assert(fx_deq(a->heading, b->heading));
    ck_assert_str_eq(a->status, b->status);
}

static inline void fx_assert_md_eq(const vtev_metadata_t *a, const vtev_metadata_t *b) {
    size_t i, n = vtev_metadata_count(a);
    ck_assert_uint_eq(n, vtev_metadata_count(b));
    for (i = 0; i < n; i++) {
        vtev_meta_value_t va, vb;
        const char *ka = vtev_metadata_entry(a, i, &va);
        ck_assert_msg(vtev_metadata_get(b, ka, &vb), "metadata key %s missing", ka);
        ck_assert_int_eq(va.type, vb.type);
        switch (va.type) {
        case VTEV_META_STRING: ck_assert_str_eq(va.s, vb.s); break;
        case VTEV_META_INT: ck_assert_int_eq(va.i, vb.i); break;
        case VTEV_META_DOUBLE: ck_assert(fx_deq(va.d, vb.d)); break;
        case VTEV_META_BOOL: ck_assert_int_eq(va.b, vb.b); break;
        default: break;
        }
    }
}

static inline void fx_assert_event_eq(const vtev_event_t *a, const vtev_event_t *b) {
    ck_assert_int_eq(a->type, b->type);
    ck_assert_str_eq(a->u.env.event_id, b->u.env.event_id);
    ck_assert_int_eq(a->u.env.timestamp_us, b->u.env.timestamp_us);
    ck_assert_str_eq(a->u.env.vessel_id, b->u.env.vessel_id);
    fx_assert_md_eq(a->u.env.metadata, b->u.env.metadata);
    switch (a->type) {
    case VTEV_EVENT_POSITION:
        fx_assert_state_eq(&a->u.position.data, &b->u.position.data);
        break;
    case VTEV_EVENT_REQUEST: {
        const vtev_request_event_t *x = &a->u.request, *y = &b->u.request;
        ck_assert_str_eq(x->request_id, y->request_id);
        fx_assert_state_eq(&x->data.vessel_snapshot, &y->data.vessel_snapshot);
        ck_assert_int_eq(x->data.has_terminal_filter, y->data.has_terminal_filter);
        if (x->data.has_terminal_filter)
            ck_assert_int_eq(x->data.terminal_filter, y->data.terminal_filter);
        ck_assert_int_eq(x->data.priority, y->data.priority);
        break;
    }
    case VTEV_EVENT_RESULT: {
        const vtev_result_event_t *x = &a->u.result, *y = &b->u.result;
        ck_assert_str_eq(x->request_id, y->request_id);
        ck_assert_str_eq(x->data.prediction_id, y->data.prediction_id);
        ck_assert_int_eq(x->data.terminal_id, y->data.terminal_id);
        ck_assert_str_eq(x->data.terminal_name, y->data.terminal_name);
        ck_assert(fx_deq(x->data.confidence_score, y->data.confidence_score));
        ck_assert(fx_deq(x->data.scores.proximity, y->data.scores.proximity));
        ck_assert(fx_deq(x->data.scores.speed, y->data.scores.speed));
        ck_assert(fx_deq(x->data.scores.heading, y->data.scores.heading));
        ck_assert(fx_deq(x->data.scores.rag_boost, y->data.scores.rag_boost));
        ck_assert(fx_deq(x->data.scores.ai_adjustment, y->data.scores.ai_adjustment));
        ck_assert(fx_deq(x->data.distance_km, y->data.distance_km));
        ck_assert_int_eq(x->data.has_eta_hours, y->data.has_eta_hours);
        if (x->data.has_eta_hours)
            ck_assert(fx_deq(x->data.eta_hours, y->data.eta_hours));
        ck_assert_str_eq(x->data.ai_reasoning, y->data.ai_reasoning);
        fx_assert_state_eq(&x->data.vessel_snapshot, &y->data.vessel_snapshot);
        break;
    }
    default:
        ck_abort_msg("bad type");
    }
}

#endif
