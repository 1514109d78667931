/*
 * validate.c - the 0.1 API's events checked against the platform schemas.
 *
 * The rules live in one place, the schemas (the .avsc files in schemas/avro, their vt.*
 * attributes), and are enforced by the validators vt-codegen generates from
 * them.  An event of the 0.1 API is viewed as the generated type (pointers
 * into the event, nothing copied) and handed to that validator.  Checked
 * here only is what belongs to the 0.1 C representation rather than to the
 * schema: fixed-size buffers must hold a NUL, metadata values must carry a
 * known type tag, the tagged union a known event type.
 *
 * Messages name the field path and the offending value:
 *   data.lat: 91 is outside [-90, 90]
 */
#include "event_int.h"
#include "internal.h"

#include <vtevents/prediction_analysis_completed.h>
#include <vtevents/prediction_analysis_requested.h>
#include <vtevents/vessel_position_updated.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A fixed buffer of size bytes must hold a NUL (else it is longer than the
 * schema's maximum, which is size - 1). */
#define FIXED(prefix, field, buf)                                                                  \
    do {                                                                                           \
        if (!memchr((buf), '\0', sizeof(buf)))                                                     \
            return vtev__fail(VTEV_ERR_INVALID, errstr, errstr_size,                               \
                              "%s%s: \"%.20s...\" is longer than %zu bytes (or not NUL-terminated)", \
                              (prefix), (field), (buf), sizeof(buf) - 1);                          \
    } while (0)

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        vtev_err_t err_ = (x);                                                                     \
        if (err_ != VTEV_ERR_OK)                                                                   \
            return err_;                                                                           \
    } while (0)

/* What the schema cannot say about the envelope's C form. */
static vtev_err_t env_repr(const vtev_envelope_t *env, size_t *np, char *errstr,
                           size_t errstr_size) {
    size_t i, n = vtev_metadata_count(env->metadata);
    if (!memchr(env->event_id, '\0', sizeof(env->event_id)))
        return vtev__fail(VTEV_ERR_INVALID, errstr, errstr_size,
                          "event_id: \"%.*s\" is not a UUID (8-4-4-4-12 hex digits)", VTEV_UUID_LEN,
                          env->event_id);
    FIXED("", "vessel_id", env->vessel_id);
    for (i = 0; i < n; i++) {
        vtev_meta_value_t v;
        const char *key = vtev_metadata_entry(env->metadata, i, &v);
        if (v.type < VTEV_META_NULL || v.type > VTEV_META_BOOL)
            return vtev__fail(VTEV_ERR_INVALID, errstr, errstr_size,
                              "metadata.%s: %d is not a metadata type", key ? key : "",
                              (int)v.type);
    }
    *np = n;
    return VTEV_ERR_OK;
}

static vtev_err_t state_repr(const char *p, const vtev_vessel_state_t *s, char *errstr,
                             size_t errstr_size) {
    FIXED(p, "status", s->status);
    return VTEV_ERR_OK;
}

/* Fills the generated metadata view (entries: n slots) from the 0.1 map.
 * The generated types of the three schemas are distinct C types of one
 * shape: one definition per type. */
#define METADATA_VIEW(fn, ENTRY, BR)                                                               \
    static void fn(const vtev_metadata_t *md, ENTRY *e, size_t n) {                                \
        size_t i;                                                                                  \
        for (i = 0; i < n; i++) {                                                                  \
            vtev_meta_value_t v;                                                                   \
            e[i].key = (char *)(uintptr_t)vtev_metadata_entry(md, i, &v);                          \
            switch (v.type) {                                                                      \
            case VTEV_META_STRING:                                                                 \
                e[i].value.which = BR##_STRING;                                                    \
                e[i].value.u.v_string = (char *)(uintptr_t)v.s;                                    \
                break;                                                                             \
            case VTEV_META_INT:                                                                    \
                e[i].value.which = BR##_LONG;                                                      \
                e[i].value.u.v_long = v.i;                                                         \
                break;                                                                             \
            case VTEV_META_DOUBLE:                                                                 \
                e[i].value.which = BR##_DOUBLE;                                                    \
                e[i].value.u.v_double = v.d;                                                       \
                break;                                                                             \
            case VTEV_META_BOOL:                                                                   \
                e[i].value.which = BR##_BOOLEAN;                                                   \
                e[i].value.u.v_boolean = v.b;                                                      \
                break;                                                                             \
            default:                                                                               \
                e[i].value.which = BR##_NULL;                                                      \
                break;                                                                             \
            }                                                                                      \
        }                                                                                          \
    }

METADATA_VIEW(pos_metadata, vtev_vessel_position_updated_metadata_entry_t,
              VTEV_VESSEL_POSITION_UPDATED_METADATA_VALUE)
METADATA_VIEW(req_metadata, vtev_prediction_analysis_requested_metadata_entry_t,
              VTEV_PREDICTION_ANALYSIS_REQUESTED_METADATA_VALUE)
METADATA_VIEW(res_metadata, vtev_prediction_analysis_completed_metadata_entry_t,
              VTEV_PREDICTION_ANALYSIS_COMPLETED_METADATA_VALUE)

/* Entries on the stack up to this many (the schemas allow 64). */
#define MD_STACK 16

#define S(x) ((char *)(uintptr_t)(x))

static void state_view(const vtev_vessel_state_t *s, double *lat, double *lon, double *speed,
                       double *heading, char **status) {
    *lat = s->lat;
    *lon = s->lon;
    *speed = s->speed;
    *heading = s->heading;
    *status = S(s->status);
}

/* Runs the generated validator V on view g of type T whose metadata has n
 * entries of type ENTRY, filled by FILL. */
#define RUN_VIEW(T, ENTRY, FILL, V, md, n)                                                         \
    do {                                                                                           \
        ENTRY stack_[MD_STACK], *e_ = stack_;                                                      \
        vtev_err_t err_;                                                                           \
        if ((n) > MD_STACK && !(e_ = malloc((n) * sizeof(*e_))))                                   \
            return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");               \
        FILL((md), e_, (n));                                                                       \
        g.metadata.entries = e_;                                                                   \
        g.metadata.len = (n);                                                                      \
        err_ = V(&g, errstr, errstr_size);                                                         \
        if (e_ != stack_)                                                                          \
            free(e_);                                                                              \
        return err_;                                                                               \
    } while (0)

vtev_err_t vtev_position_validate(const vtev_position_event_t *ev, char *errstr, size_t errstr_size) {
    vtev_vessel_position_updated_t g;
    size_t n;
    if (!ev)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, "event is NULL");
    CHECK(env_repr(&ev->env, &n, errstr, errstr_size));
    CHECK(state_repr("data.", &ev->data, errstr, errstr_size));
    memset(&g, 0, sizeof(g));
    g.event_id = S(ev->env.event_id);
    g.event_type = S("vessel.position.updated");
    g.timestamp = ev->env.timestamp_us;
    g.vessel_id = S(ev->env.vessel_id);
    state_view(&ev->data, &g.data.lat, &g.data.lon, &g.data.speed, &g.data.heading, &g.data.status);
    RUN_VIEW(vtev_vessel_position_updated_t, vtev_vessel_position_updated_metadata_entry_t,
             pos_metadata, vtev_vessel_position_updated_validate, ev->env.metadata, n);
}

vtev_err_t vtev_request_validate(const vtev_request_event_t *ev, char *errstr, size_t errstr_size) {
    vtev_prediction_analysis_requested_t g;
    const vtev_vessel_state_t *vs;
    size_t n;
    if (!ev)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, "event is NULL");
    vs = &ev->data.vessel_snapshot;
    CHECK(env_repr(&ev->env, &n, errstr, errstr_size));
    FIXED("", "request_id", ev->request_id);
    CHECK(state_repr("data.vessel_snapshot.", vs, errstr, errstr_size));
    memset(&g, 0, sizeof(g));
    g.event_id = S(ev->env.event_id);
    g.event_type = S("prediction.analysis.requested");
    g.timestamp = ev->env.timestamp_us;
    g.vessel_id = S(ev->env.vessel_id);
    g.request_id = S(ev->request_id);
    state_view(vs, &g.data.vessel_snapshot.lat, &g.data.vessel_snapshot.lon,
               &g.data.vessel_snapshot.speed, &g.data.vessel_snapshot.heading,
               &g.data.vessel_snapshot.status);
    g.data.has_terminal_filter = ev->data.has_terminal_filter;
    g.data.terminal_filter = ev->data.terminal_filter;
    /* the 0.1 enum numbers the symbols as the schema orders them */
    g.data.priority = (vtev_request_priority_t)ev->data.priority;
    RUN_VIEW(vtev_prediction_analysis_requested_t, vtev_prediction_analysis_requested_metadata_entry_t,
             req_metadata, vtev_prediction_analysis_requested_validate, ev->env.metadata, n);
}

vtev_err_t vtev_result_validate(const vtev_result_event_t *ev, char *errstr, size_t errstr_size) {
    vtev_prediction_analysis_completed_t g;
    const vtev_result_data_t *d;
    size_t n;
    if (!ev)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, "event is NULL");
    d = &ev->data;
    CHECK(env_repr(&ev->env, &n, errstr, errstr_size));
    FIXED("", "request_id", ev->request_id);
    FIXED("data.", "prediction_id", d->prediction_id);
    FIXED("data.", "terminal_name", d->terminal_name);
    FIXED("data.", "ai_reasoning", d->ai_reasoning);
    CHECK(state_repr("data.vessel_snapshot.", &d->vessel_snapshot, errstr, errstr_size));
    memset(&g, 0, sizeof(g));
    g.event_id = S(ev->env.event_id);
    g.event_type = S("prediction.analysis.completed");
    g.timestamp = ev->env.timestamp_us;
    g.vessel_id = S(ev->env.vessel_id);
    g.request_id = S(ev->request_id);
    g.data.prediction_id = S(d->prediction_id);
    g.data.terminal_id = d->terminal_id;
    g.data.terminal_name = S(d->terminal_name);
    g.data.confidence_score = d->confidence_score;
    g.data.scores.proximity = d->scores.proximity;
    g.data.scores.speed = d->scores.speed;
    g.data.scores.heading = d->scores.heading;
    g.data.scores.rag_boost = d->scores.rag_boost;
    g.data.scores.ai_adjustment = d->scores.ai_adjustment;
    g.data.distance_km = d->distance_km;
    g.data.has_eta_hours = d->has_eta_hours;
    g.data.eta_hours = d->eta_hours;
    g.data.ai_reasoning = S(d->ai_reasoning);
    state_view(&d->vessel_snapshot, &g.data.vessel_snapshot.lat, &g.data.vessel_snapshot.lon,
               &g.data.vessel_snapshot.speed, &g.data.vessel_snapshot.heading,
               &g.data.vessel_snapshot.status);
    RUN_VIEW(vtev_prediction_analysis_completed_t, vtev_prediction_analysis_completed_metadata_entry_t,
             res_metadata, vtev_prediction_analysis_completed_validate, ev->env.metadata, n);
}

vtev_err_t vtev_event_validate(const vtev_event_t *ev, char *errstr, size_t errstr_size) {
    if (!ev)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, "event is NULL");
    switch (ev->type) {
    case VTEV_EVENT_POSITION: return vtev_position_validate(&ev->u.position, errstr, errstr_size);
    case VTEV_EVENT_REQUEST: return vtev_request_validate(&ev->u.request, errstr, errstr_size);
    case VTEV_EVENT_RESULT: return vtev_result_validate(&ev->u.result, errstr, errstr_size);
    default:
        return vtev__fail(VTEV_ERR_INVALID, errstr, errstr_size, "event_type: %d is not an event type",
                          (int)ev->type);
    }
}
