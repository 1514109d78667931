/*
 * json.c - the JSON form of the events (jansson for parsing; a small
 * emitter for output so that numbers print in their shortest exact form).
 */
#include "event_int.h"
#include "internal.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* Output                                                                  */

/* The generated code's writer (lib/avro_direct.c): one emitter for both
 * JSON forms, so that escaping, U+FFFD for bytes that are not UTF-8 and the
 * indentation are the same. */
typedef vtev_rt_jw_t out_t;

static void put_double(out_t *o, double d) {
    char b[48];
    if (!isfinite(d)) { /* not JSON; Python's json module writes and reads these tokens */
        vtev_rt_jw_raw(o, isnan(d) ? "NaN" : d < 0 ? "-Infinity" : "Infinity");
        return;
    }
    vtev__dtoa(d, b, sizeof(b) - 2);
    if (!strpbrk(b, ".eE")) /* keep it a JSON float: 275 -> 275.0 */
        memcpy(b + strlen(b), ".0", 3);
    vtev_rt_jw_raw(o, b);
}

static void put_int(out_t *o, int64_t v) {
    char b[32];
    snprintf(b, sizeof(b), "%lld", (long long)v);
    vtev_rt_jw_raw(o, b);
}

/* Object helpers: key() writes the separator, indentation and the key. */
static void obj_open(out_t *o, int *first) {
    vtev__jw_put(o, "{", 1);
    o->depth++;
    *first = 1;
}

static void key(out_t *o, int *first, const char *k) {
    if (!*first)
        vtev__jw_put(o, ",", 1);
    if (!o->pretty && !*first)
        vtev__jw_put(o, " ", 1);
    *first = 0;
    vtev__jw_newline(o);
    vtev_rt_jw_str(o, k);
    vtev__jw_put(o, ": ", 2);
}

static void obj_close(out_t *o, int first) {
    o->depth--;
    if (!first)
        vtev__jw_newline(o);
    vtev__jw_put(o, "}", 1);
}

static void put_state(out_t *o, const vtev_vessel_state_t *s) {
    int f;
    obj_open(o, &f);
    key(o, &f, "lat"); put_double(o, s->lat);
    key(o, &f, "lon"); put_double(o, s->lon);
    key(o, &f, "speed"); put_double(o, s->speed);
    key(o, &f, "heading"); put_double(o, s->heading);
    key(o, &f, "status"); vtev_rt_jw_str(o, s->status);
    obj_close(o, f);
}

static void put_metadata(out_t *o, const vtev_metadata_t *md) {
    size_t i, n = vtev_metadata_count(md);
    int f;
    obj_open(o, &f);
    for (i = 0; i < n; i++) {
        vtev_meta_value_t v;
        const char *k = vtev_metadata_entry(md, i, &v);
        key(o, &f, k);
        switch (v.type) {
        case VTEV_META_STRING: vtev_rt_jw_str(o, v.s); break;
        case VTEV_META_INT: put_int(o, v.i); break;
        case VTEV_META_DOUBLE: put_double(o, v.d); break;
        case VTEV_META_BOOL: vtev_rt_jw_raw(o, v.b ? "true" : "false"); break;
        default: vtev_rt_jw_raw(o, "null"); break;
        }
    }
    obj_close(o, f);
}

vtev_err_t vtev_event_to_json(const vtev_event_t *ev, int flags, char **jsonp, size_t *lenp) {
    out_t o = {0};
    const vtev_envelope_t *env;
    char ts[48];
    int f, fd;
    if (!ev || !jsonp || !vtev_event_type_name(ev->type))
        return VTEV_ERR_INVALID_ARG;
    if (ev->type == VTEV_EVENT_REQUEST && !vtev_priority_name(ev->u.request.data.priority))
        return VTEV_ERR_INVALID_ARG;
    env = &ev->u.env;
    o.pretty = (flags & VTEV_JSON_PRETTY) != 0;
    obj_open(&o, &f);
    key(&o, &f, "event_id"); vtev_rt_jw_str(&o, env->event_id);
    key(&o, &f, "event_type"); vtev_rt_jw_str(&o, vtev_event_type_name(ev->type));
    vtev__format_timestamp(env->timestamp_us, ts, sizeof(ts));
    key(&o, &f, "timestamp"); vtev_rt_jw_str(&o, ts);
    key(&o, &f, "vessel_id"); vtev_rt_jw_str(&o, env->vessel_id);
    switch (ev->type) {
    case VTEV_EVENT_POSITION:
        key(&o, &f, "data");
        put_state(&o, &ev->u.position.data);
        break;
    case VTEV_EVENT_REQUEST: {
        const vtev_request_data_t *d = &ev->u.request.data;
        key(&o, &f, "request_id"); vtev_rt_jw_str(&o, ev->u.request.request_id);
        key(&o, &f, "data");
        obj_open(&o, &fd);
        key(&o, &fd, "vessel_snapshot"); put_state(&o, &d->vessel_snapshot);
        key(&o, &fd, "terminal_filter");
        if (d->has_terminal_filter)
            put_int(&o, d->terminal_filter);
        else
            vtev_rt_jw_raw(&o, "null");
        key(&o, &fd, "priority"); vtev_rt_jw_str(&o, vtev_priority_name(d->priority));
        obj_close(&o, fd);
        break;
    }
    default: {
        const vtev_result_data_t *d = &ev->u.result.data;
        int fs;
        key(&o, &f, "request_id"); vtev_rt_jw_str(&o, ev->u.result.request_id);
        key(&o, &f, "data");
        obj_open(&o, &fd);
        key(&o, &fd, "prediction_id"); vtev_rt_jw_str(&o, d->prediction_id);
        key(&o, &fd, "terminal_id"); put_int(&o, d->terminal_id);
        key(&o, &fd, "terminal_name"); vtev_rt_jw_str(&o, d->terminal_name);
        key(&o, &fd, "confidence_score"); put_double(&o, d->confidence_score);
        key(&o, &fd, "scores");
        obj_open(&o, &fs);
        key(&o, &fs, "proximity"); put_double(&o, d->scores.proximity);
        key(&o, &fs, "speed"); put_double(&o, d->scores.speed);
        key(&o, &fs, "heading"); put_double(&o, d->scores.heading);
        key(&o, &fs, "rag_boost"); put_double(&o, d->scores.rag_boost);
        key(&o, &fs, "ai_adjustment"); put_double(&o, d->scores.ai_adjustment);
        obj_close(&o, fs);
        key(&o, &fd, "distance_km"); put_double(&o, d->distance_km);
        key(&o, &fd, "eta_hours");
        if (d->has_eta_hours)
            put_double(&o, d->eta_hours);
        else
            vtev_rt_jw_raw(&o, "null");
        key(&o, &fd, "ai_reasoning"); vtev_rt_jw_str(&o, d->ai_reasoning);
        key(&o, &fd, "vessel_snapshot"); put_state(&o, &d->vessel_snapshot);
        obj_close(&o, fd);
        break;
    }
    }
    key(&o, &f, "metadata");
    put_metadata(&o, env->metadata);
    obj_close(&o, f);
    if (o.oom) {
        free(o.buf);
        return VTEV_ERR_NOMEM;
    }
    *jsonp = o.buf;
    if (lenp)
        *lenp = o.len;
    return VTEV_ERR_OK;
}

/* ---------------------------------------------------------------------- */
/* Parsing                                                                 */

typedef struct pctx_s {
    char *errstr;
    size_t errstr_size;
} pctx_t;

#define PERR(c, ...) vtev__fail(VTEV_ERR_PARSE, (c)->errstr, (c)->errstr_size, __VA_ARGS__)

#define TRY(x)                                                                                     \
    do {                                                                                           \
        vtev_err_t e_ = (x);                                                                       \
        if (e_ != VTEV_ERR_OK)                                                                     \
            return e_;                                                                             \
    } while (0)

static const char *jtype(const json_t *j) {
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

/* Rejects keys of obj not in allowed (NULL-terminated). */
static vtev_err_t only(pctx_t *c, json_t *obj, const char *prefix, const char *const *allowed) {
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        const char *const *a;
        for (a = allowed; *a; a++)
            if (!strcmp(*a, k))
                break;
        if (!*a)
            return PERR(c, "%s%s: unknown field", prefix, k);
    }
    return VTEV_ERR_OK;
}

static vtev_err_t need(pctx_t *c, json_t *obj, const char *prefix, const char *name, json_t **out) {
    if (!(*out = json_object_get(obj, name)))
        return PERR(c, "%s%s: missing required field", prefix, name);
    return VTEV_ERR_OK;
}

static vtev_err_t str_into(pctx_t *c, json_t *j, const char *prefix, const char *name, char *dst,
                           size_t max) {
    size_t n;
    if (!json_is_string(j))
        return PERR(c, "%s%s: expected a string, got %s", prefix, name, jtype(j));
    n = json_string_length(j);
    if (n > max)
        return PERR(c, "%s%s: string of %zu bytes exceeds the limit of %zu", prefix, name, n, max);
    memcpy(dst, json_string_value(j), n);
    dst[n] = '\0';
    return VTEV_ERR_OK;
}

static vtev_err_t req_str(pctx_t *c, json_t *obj, const char *prefix, const char *name, char *dst,
                          size_t max) {
    json_t *j;
    TRY(need(c, obj, prefix, name, &j));
    return str_into(c, j, prefix, name, dst, max);
}

static vtev_err_t num(pctx_t *c, json_t *j, const char *prefix, const char *name, double *d) {
    if (!json_is_number(j))
        return PERR(c, "%s%s: expected a number, got %s", prefix, name, jtype(j));
    *d = json_number_value(j);
    return VTEV_ERR_OK;
}

static vtev_err_t req_num(pctx_t *c, json_t *obj, const char *prefix, const char *name, double *d) {
    json_t *j;
    TRY(need(c, obj, prefix, name, &j));
    return num(c, j, prefix, name, d);
}

static vtev_err_t req_obj(pctx_t *c, json_t *obj, const char *prefix, const char *name, json_t **out) {
    TRY(need(c, obj, prefix, name, out));
    if (!json_is_object(*out))
        return PERR(c, "%s%s: expected an object, got %s", prefix, name, jtype(*out));
    return VTEV_ERR_OK;
}

static vtev_err_t parse_state(pctx_t *c, json_t *o, const char *prefix, vtev_vessel_state_t *s) {
    static const char *const keys[] = {"lat", "lon", "speed", "heading", "status", NULL};
    TRY(only(c, o, prefix, keys));
    TRY(req_num(c, o, prefix, "lat", &s->lat));
    TRY(req_num(c, o, prefix, "lon", &s->lon));
    TRY(req_num(c, o, prefix, "speed", &s->speed));
    TRY(req_num(c, o, prefix, "heading", &s->heading));
    return req_str(c, o, prefix, "status", s->status, VTEV_STATUS_MAX);
}

static vtev_err_t parse_metadata(pctx_t *c, json_t *j, vtev_envelope_t *env) {
    const char *k;
    json_t *v;
    if (json_is_null(j))
        return VTEV_ERR_OK;
    if (!json_is_object(j))
        return PERR(c, "metadata: expected an object, got %s", jtype(j));
    if (json_object_size(j) == 0)
        return VTEV_ERR_OK;
    if (json_object_size(j) > VTEV_META_MAX_ENTRIES)
        return PERR(c, "metadata: %zu entries exceed the limit of %d", json_object_size(j),
                    VTEV_META_MAX_ENTRIES);
    if (!vtev_envelope_metadata(env))
        return vtev__fail(VTEV_ERR_NOMEM, c->errstr, c->errstr_size, "out of memory");
    json_object_foreach(j, k, v) {
        const char *why = vtev__meta_key_problem(k);
        vtev_err_t err;
        if (why)
            return PERR(c, "metadata: \"%.64s\": %s", k, why);
        switch (json_typeof(v)) {
        case JSON_NULL: err = vtev_metadata_set_null(env->metadata, k); break;
        case JSON_TRUE:
        case JSON_FALSE: err = vtev_metadata_set_bool(env->metadata, k, json_is_true(v)); break;
        case JSON_INTEGER: err = vtev_metadata_set_int(env->metadata, k, json_integer_value(v)); break;
        case JSON_REAL: err = vtev_metadata_set_double(env->metadata, k, json_real_value(v)); break;
        case JSON_STRING:
            if (json_string_length(v) > VTEV_META_STRING_MAX)
                return PERR(c, "metadata.%s: string of %zu bytes exceeds the limit of %d", k,
                            json_string_length(v), VTEV_META_STRING_MAX);
            err = vtev_metadata_set_string(env->metadata, k, json_string_value(v));
            break;
        default:
            return PERR(c, "metadata.%s: expected a string, number, boolean or null, got %s", k,
                        jtype(v));
        }
        if (err == VTEV_ERR_NOMEM)
            return vtev__fail(VTEV_ERR_NOMEM, c->errstr, c->errstr_size, "out of memory");
        if (err != VTEV_ERR_OK)
            return PERR(c, "metadata.%s: %s", k, vtev_err2str(err));
    }
    return VTEV_ERR_OK;
}

static vtev_err_t parse_env(pctx_t *c, json_t *root, vtev_envelope_t *env) {
    json_t *j;
    if ((j = json_object_get(root, "event_id")))
        TRY(str_into(c, j, "", "event_id", env->event_id, VTEV_UUID_LEN));
    if ((j = json_object_get(root, "timestamp"))) {
        if (!json_is_string(j))
            return PERR(c, "timestamp: expected an ISO-8601 string, got %s", jtype(j));
        if (vtev__parse_timestamp(json_string_value(j), &env->timestamp_us) != 0)
            return PERR(c, "timestamp: \"%.64s\" is not an ISO-8601 UTC time like 2026-01-10T15:30:00.000Z",
                        json_string_value(j));
    }
    TRY(req_str(c, root, "", "vessel_id", env->vessel_id, VTEV_ID_MAX));
    if ((j = json_object_get(root, "metadata")))
        TRY(parse_metadata(c, j, env));
    return VTEV_ERR_OK;
}

static vtev_err_t parse_event(pctx_t *c, json_t *root, vtev_event_t *ev) {
    static const char *const pos_keys[] = {"event_id", "event_type", "timestamp", "vessel_id",
                                           "data", "metadata", NULL};
    static const char *const req_keys[] = {"event_id", "event_type", "timestamp", "vessel_id",
                                           "request_id", "data", "metadata", NULL};
    json_t *data, *j;
    switch (ev->type) {
    case VTEV_EVENT_POSITION:
        TRY(only(c, root, "", pos_keys));
        TRY(parse_env(c, root, &ev->u.env));
        TRY(req_obj(c, root, "", "data", &data));
        return parse_state(c, data, "data.", &ev->u.position.data);
    case VTEV_EVENT_REQUEST: {
        static const char *const keys[] = {"vessel_snapshot", "terminal_filter", "priority", NULL};
        vtev_request_event_t *r = &ev->u.request;
        TRY(only(c, root, "", req_keys));
        TRY(parse_env(c, root, &r->env));
        if ((j = json_object_get(root, "request_id")))
            TRY(str_into(c, j, "", "request_id", r->request_id, VTEV_ID_MAX));
        TRY(req_obj(c, root, "", "data", &data));
        TRY(only(c, data, "data.", keys));
        TRY(req_obj(c, data, "data.", "vessel_snapshot", &j));
        TRY(parse_state(c, j, "data.vessel_snapshot.", &r->data.vessel_snapshot));
        if ((j = json_object_get(data, "terminal_filter")) && !json_is_null(j)) {
            if (!json_is_integer(j))
                return PERR(c, "data.terminal_filter: expected an integer, got %s", jtype(j));
            r->data.has_terminal_filter = true;
            r->data.terminal_filter = json_integer_value(j);
        }
        if ((j = json_object_get(data, "priority"))) {
            const char *p = json_string_value(j);
            if (!p)
                return PERR(c, "data.priority: expected a string, got %s", jtype(j));
            if (!strcmp(p, "low"))
                r->data.priority = VTEV_PRIORITY_LOW;
            else if (!strcmp(p, "normal"))
                r->data.priority = VTEV_PRIORITY_NORMAL;
            else if (!strcmp(p, "high"))
                r->data.priority = VTEV_PRIORITY_HIGH;
            else
                return PERR(c, "data.priority: \"%.32s\" is not one of low, normal, high", p);
        }
        return VTEV_ERR_OK;
    }
    default: {
        static const char *const keys[] = {"prediction_id", "terminal_id", "terminal_name",
                                           "confidence_score", "scores", "distance_km", "eta_hours",
                                           "ai_reasoning", "vessel_snapshot", NULL};
        static const char *const skeys[] = {"proximity", "speed", "heading", "rag_boost",
                                            "ai_adjustment", NULL};
        vtev_result_event_t *r = &ev->u.result;
        vtev_result_data_t *d = &r->data;
        TRY(only(c, root, "", req_keys));
        TRY(parse_env(c, root, &r->env));
        if ((j = json_object_get(root, "request_id")))
            TRY(str_into(c, j, "", "request_id", r->request_id, VTEV_ID_MAX));
        TRY(req_obj(c, root, "", "data", &data));
        TRY(only(c, data, "data.", keys));
        TRY(req_str(c, data, "data.", "prediction_id", d->prediction_id, VTEV_ID_MAX));
        TRY(need(c, data, "data.", "terminal_id", &j));
        if (!json_is_integer(j))
            return PERR(c, "data.terminal_id: expected an integer, got %s", jtype(j));
        d->terminal_id = json_integer_value(j);
        TRY(req_str(c, data, "data.", "terminal_name", d->terminal_name, VTEV_NAME_MAX));
        TRY(req_num(c, data, "data.", "confidence_score", &d->confidence_score));
        TRY(req_obj(c, data, "data.", "scores", &j));
        TRY(only(c, j, "data.scores.", skeys));
        TRY(req_num(c, j, "data.scores.", "proximity", &d->scores.proximity));
        TRY(req_num(c, j, "data.scores.", "speed", &d->scores.speed));
        TRY(req_num(c, j, "data.scores.", "heading", &d->scores.heading));
        TRY(req_num(c, j, "data.scores.", "rag_boost", &d->scores.rag_boost));
        TRY(req_num(c, j, "data.scores.", "ai_adjustment", &d->scores.ai_adjustment));
        TRY(req_num(c, data, "data.", "distance_km", &d->distance_km));
        if ((j = json_object_get(data, "eta_hours")) && !json_is_null(j)) {
            TRY(num(c, j, "data.", "eta_hours", &d->eta_hours));
            d->has_eta_hours = true;
        }
        if ((j = json_object_get(data, "ai_reasoning")))
            TRY(str_into(c, j, "data.", "ai_reasoning", d->ai_reasoning, VTEV_TEXT_MAX));
        TRY(req_obj(c, data, "data.", "vessel_snapshot", &j));
        return parse_state(c, j, "data.vessel_snapshot.", &d->vessel_snapshot);
    }
    }
}

vtev_err_t vtev_event_from_json(vtev_event_t *ev, const char *json, size_t len, char *errstr,
                                size_t errstr_size) {
    pctx_t c = {errstr, errstr_size};
    json_error_t jerr;
    json_t *root, *t;
    vtev_event_type_t type;
    vtev_err_t err;
    if (!ev || (!json && len > 0))
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, "NULL event or input");
    memset(ev, 0, sizeof(*ev));
    if (!(root = json_loadb(json ? json : "", len, JSON_REJECT_DUPLICATES, &jerr)))
        return PERR(&c, "line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
    if (!json_is_object(root)) {
        err = PERR(&c, "expected a JSON object, got %s", jtype(root));
        goto out;
    }
    if (!(t = json_object_get(root, "event_type"))) {
        err = PERR(&c, "event_type: missing required field");
        goto out;
    }
    if (!json_is_string(t)) {
        err = PERR(&c, "event_type: expected a string, got %s", jtype(t));
        goto out;
    }
    if ((type = vtev_event_type_from_name(json_string_value(t))) == VTEV_EVENT_NONE) {
        err = PERR(&c, "event_type: \"%.64s\" is not one of vessel.position.updated, "
                       "prediction.analysis.requested, prediction.analysis.completed",
                   json_string_value(t));
        goto out;
    }
    if ((err = vtev_event_init(ev, type)) != VTEV_ERR_OK) {
        vtev__seterr(errstr, errstr_size, "cannot initialise the event: %s", vtev_err2str(err));
        goto out;
    }
    if ((err = parse_event(&c, root, ev)) != VTEV_ERR_OK)
        vtev_event_clear(ev);
out:
    json_decref(root);
    if (err != VTEV_ERR_OK)
        memset(ev, 0, sizeof(*ev));
    return err;
}
