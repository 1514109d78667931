/*
 * validate.c - every constraint of the platform's event definitions.
 *
 * Messages name the field path and the offending value:
 *   data.lat: 91 is outside [-90, 90]
 */
#include "event_int.h"
#include "internal.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The shortest decimal that reads back as d, laid out as Python's repr()
 * does (fixed notation for exponents -4..15, else d.ddde+XX), but without
 * repr's ".0" on integral values.  For up to 15 significant digits the
 * correctly rounded %.15e is the shortest (two 15-digit decimals never fall
 * within one double's rounding interval); otherwise 16 or 17 digits.
 * Subnormals have fewer digits of precision and are searched from one. */
const char *vtev__dtoa(double d, char *buf, size_t size) {
    char e[40], digits[20];
    int prec, exp, nd = 0, decpt, i;
    size_t n = 0;
    const char *p;
    if (isnan(d)) {
        snprintf(buf, size, "NaN");
        return buf;
    }
    if (isinf(d)) {
        snprintf(buf, size, d < 0 ? "-inf" : "inf");
        return buf;
    }
    if (d == 0) {
        snprintf(buf, size, signbit(d) ? "-0" : "0");
        return buf;
    }
    /* subnormals carry fewer digits: search from one */
    for (prec = fabs(d) < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
        snprintf(e, sizeof(e), "%.*e", prec - 1, d);
        if (prec == 17 || strtod(e, NULL) == d)
            break;
    }
    /* e: [-]D.DDDDe[+-]XX -> digits without trailing zeros, exponent */
    for (p = e; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    exp = atoi(p + 1);
    decpt = exp + 1;
    if (size < 32) {
        if (size)
            buf[0] = 0;
        return buf;
    }
#define PUT(c) (buf[n++] = (c))
    if (d < 0)
        PUT('-');
    if (exp >= -4 && exp < 16) {
        if (decpt <= 0) {
            PUT('0');
            PUT('.');
            for (i = 0; i < -decpt; i++)
                PUT('0');
            for (i = 0; i < nd; i++)
                PUT(digits[i]);
        } else {
            for (i = 0; i < decpt || i < nd; i++) {
                if (i == decpt)
                    PUT('.');
                PUT(i < nd ? digits[i] : '0');
            }
        }
        buf[n] = 0;
    } else {
        PUT(digits[0]);
        if (nd > 1) {
            PUT('.');
            for (i = 1; i < nd; i++)
                PUT(digits[i]);
        }
        snprintf(buf + n, size - n, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    }
#undef PUT
    return buf;
}

long vtev__utf8_bad(const char *str, size_t n) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, len;
    while (i < n) {
        /* ASCII, the common case, eight bytes at a time */
        while (n - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & UINT64_C(0x8080808080808080))
                break;
            i += 8;
        }
        if (i >= n)
            break;
        if (!(len = vtev__utf8_seq(s + i, n - i)))
            return (long)i;
        i += len;
    }
    return -1;
}

/* Checks lo <= v <= hi (or v < hi when hi_open). */
static vtev_err_t range(const char *prefix, const char *field, double v, double lo, double hi,
                        bool hi_open, char *errstr, size_t errstr_size) {
    char b[40];
    if (!isfinite(v))
        return vtev__fail(VTEV_ERR_INVALID, errstr, errstr_size, "%s%s: %s is not a finite number",
                          prefix, field, vtev__dtoa(v, b, sizeof(b)));
    if (v < lo || (hi_open ? v >= hi : v > hi)) {
        char lb[40], hb[40];
        return vtev__fail(VTEV_ERR_INVALID, errstr, errstr_size, "%s%s: %s is outside [%s, %s%c",
                          prefix, field, vtev__dtoa(v, b, sizeof(b)), vtev__dtoa(lo, lb, sizeof(lb)),
                          vtev__dtoa(hi, hb, sizeof(hb)), hi_open ? ')' : ']');
    }
    return VTEV_ERR_OK;
}

static vtev_err_t min0(const char *prefix, const char *field, double v, char *errstr,
                       size_t errstr_size) {
    char b[40];
    if (!isfinite(v))
        return vtev__fail(VTEV_ERR_INVALID, errstr, errstr_size, "%s%s: %s is not a finite number",
                          prefix, field, vtev__dtoa(v, b, sizeof(b)));
    if (v < 0)
        return vtev__fail(VTEV_ERR_INVALID, errstr, errstr_size, "%s%s: %s is negative", prefix,
                          field, vtev__dtoa(v, b, sizeof(b)));
    return VTEV_ERR_OK;
}

/* A NUL-terminated string of at most max bytes, non-empty unless allow_empty. */
static vtev_err_t str(const char *prefix, const char *field, const char *s, size_t max,
                      bool allow_empty, char *errstr, size_t errstr_size) {
    size_t n = strnlen(s, max + 1);
    long bad;
    if (n > max)
        return vtev__fail(VTEV_ERR_INVALID, errstr, errstr_size,
                          "%s%s: \"%.20s...\" is longer than %zu bytes (or not NUL-terminated)",
                          prefix, field, s, max);
    if (n == 0 && !allow_empty)
        return vtev__fail(VTEV_ERR_INVALID, errstr, errstr_size, "%s%s: \"\" must not be empty",
                          prefix, field);
    if ((bad = vtev__utf8_bad(s, n)) >= 0)
        return vtev__fail(VTEV_ERR_INVALID, errstr, errstr_size,
                          "%s%s: byte 0x%02x at offset %ld is not valid UTF-8", prefix, field,
                          (unsigned char)s[bad], bad);
    return VTEV_ERR_OK;
}

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        vtev_err_t err_ = (x);                                                                     \
        if (err_ != VTEV_ERR_OK)                                                                   \
            return err_;                                                                           \
    } while (0)

static vtev_err_t validate_metadata(const vtev_metadata_t *md, char *errstr, size_t errstr_size) {
    size_t i, n = vtev_metadata_count(md);
    if (n > VTEV_META_MAX_ENTRIES)
        return vtev__fail(VTEV_ERR_INVALID, errstr, errstr_size,
                          "metadata: %zu entries exceed the limit of %d", n, VTEV_META_MAX_ENTRIES);
    for (i = 0; i < n; i++) {
        vtev_meta_value_t v;
        const char *key = vtev_metadata_entry(md, i, &v);
        const char *why = vtev__meta_key_problem(key);
        char b[40];
        if (why)
            return vtev__fail(VTEV_ERR_INVALID, errstr, errstr_size, "metadata: \"%.*s\": %s",
                              VTEV_META_KEY_MAX, key ? key : "", why);
        if (vtev__utf8_bad(key, strlen(key)) >= 0)
            return vtev__fail(VTEV_ERR_INVALID, errstr, errstr_size, "metadata: key is not valid UTF-8");
        switch (v.type) {
        case VTEV_META_NULL:
        case VTEV_META_INT:
        case VTEV_META_BOOL:
            break;
        case VTEV_META_STRING:
            if (!v.s || strnlen(v.s, VTEV_META_STRING_MAX + 1) > VTEV_META_STRING_MAX)
                return vtev__fail(VTEV_ERR_INVALID, errstr, errstr_size,
                                  "metadata.%s: string is longer than %d bytes", key,
                                  VTEV_META_STRING_MAX);
            if (vtev__utf8_bad(v.s, strlen(v.s)) >= 0)
                return vtev__fail(VTEV_ERR_INVALID, errstr, errstr_size,
                                  "metadata.%s: string is not valid UTF-8", key);
            break;
        case VTEV_META_DOUBLE:
            if (!isfinite(v.d))
                return vtev__fail(VTEV_ERR_INVALID, errstr, errstr_size,
                                  "metadata.%s: %s is not a finite number", key,
                                  vtev__dtoa(v.d, b, sizeof(b)));
            break;
        default:
            return vtev__fail(VTEV_ERR_INVALID, errstr, errstr_size,
                              "metadata.%s: %d is not a metadata type", key, (int)v.type);
        }
    }
    return VTEV_ERR_OK;
}

static vtev_err_t validate_env(const vtev_envelope_t *env, char *errstr, size_t errstr_size) {
    if (strnlen(env->event_id, VTEV_UUID_LEN + 1) > VTEV_UUID_LEN || !vtev__uuid_valid(env->event_id))
        return vtev__fail(VTEV_ERR_INVALID, errstr, errstr_size,
                          "event_id: \"%.*s\" is not a UUID (8-4-4-4-12 hex digits)", VTEV_UUID_LEN,
                          env->event_id);
    if (env->timestamp_us <= 0 || env->timestamp_us > VTEV__TS_MAX_US)
        return vtev__fail(VTEV_ERR_INVALID, errstr, errstr_size,
                          "timestamp: %lld is outside (0, %lld] microseconds since the epoch",
                          (long long)env->timestamp_us, (long long)VTEV__TS_MAX_US);
    CHECK(str("", "vessel_id", env->vessel_id, VTEV_ID_MAX, false, errstr, errstr_size));
    return validate_metadata(env->metadata, errstr, errstr_size);
}

static vtev_err_t validate_state(const char *p, const vtev_vessel_state_t *s, char *errstr,
                                 size_t errstr_size) {
    CHECK(range(p, "lat", s->lat, -90, 90, false, errstr, errstr_size));
    CHECK(range(p, "lon", s->lon, -180, 180, false, errstr, errstr_size));
    CHECK(min0(p, "speed", s->speed, errstr, errstr_size));
    CHECK(range(p, "heading", s->heading, 0, 360, true, errstr, errstr_size));
    return str(p, "status", s->status, VTEV_STATUS_MAX, false, errstr, errstr_size);
}

vtev_err_t vtev_position_validate(const vtev_position_event_t *ev, char *errstr, size_t errstr_size) {
    if (!ev)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, "event is NULL");
    CHECK(validate_env(&ev->env, errstr, errstr_size));
    return validate_state("data.", &ev->data, errstr, errstr_size);
}

vtev_err_t vtev_request_validate(const vtev_request_event_t *ev, char *errstr, size_t errstr_size) {
    if (!ev)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, "event is NULL");
    CHECK(validate_env(&ev->env, errstr, errstr_size));
    CHECK(str("", "request_id", ev->request_id, VTEV_ID_MAX, false, errstr, errstr_size));
    CHECK(validate_state("data.vessel_snapshot.", &ev->data.vessel_snapshot, errstr, errstr_size));
    if (!vtev_priority_name(ev->data.priority))
        return vtev__fail(VTEV_ERR_INVALID, errstr, errstr_size,
                          "data.priority: %d is not one of low, normal, high", (int)ev->data.priority);
    return VTEV_ERR_OK;
}

vtev_err_t vtev_result_validate(const vtev_result_event_t *ev, char *errstr, size_t errstr_size) {
    const vtev_result_data_t *d;
    if (!ev)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, "event is NULL");
    d = &ev->data;
    CHECK(validate_env(&ev->env, errstr, errstr_size));
    CHECK(str("", "request_id", ev->request_id, VTEV_ID_MAX, false, errstr, errstr_size));
    CHECK(str("data.", "prediction_id", d->prediction_id, VTEV_ID_MAX, false, errstr, errstr_size));
    CHECK(str("data.", "terminal_name", d->terminal_name, VTEV_NAME_MAX, false, errstr, errstr_size));
    CHECK(range("data.", "confidence_score", d->confidence_score, 0, 1, false, errstr, errstr_size));
    CHECK(range("data.scores.", "proximity", d->scores.proximity, 0, 1, false, errstr, errstr_size));
    CHECK(range("data.scores.", "speed", d->scores.speed, 0, 1, false, errstr, errstr_size));
    CHECK(range("data.scores.", "heading", d->scores.heading, 0, 1, false, errstr, errstr_size));
    CHECK(range("data.scores.", "rag_boost", d->scores.rag_boost, 0, 0.3, false, errstr, errstr_size));
    CHECK(range("data.scores.", "ai_adjustment", d->scores.ai_adjustment, -0.3, 0.3, false, errstr,
                errstr_size));
    CHECK(min0("data.", "distance_km", d->distance_km, errstr, errstr_size));
    if (d->has_eta_hours)
        CHECK(min0("data.", "eta_hours", d->eta_hours, errstr, errstr_size));
    CHECK(str("data.", "ai_reasoning", d->ai_reasoning, VTEV_TEXT_MAX, true, errstr, errstr_size));
    return validate_state("data.vessel_snapshot.", &d->vessel_snapshot, errstr, errstr_size);
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
