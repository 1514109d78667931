/*
 * codec.c - the 0.1 API's hand-written events <-> Avro binary (avro-c
 * generic values, through serde_avro.c).  Framing is frame.c's; generated
 * types have their own generated codec.
 *
 * Field positions below follow the schemas/avro files; the codec tests round
 * trip every field and check the bytes against fastavro, so a schema edit
 * that moves a field fails the build's tests.
 */
#include "avro_resolve.h"
#include "event_int.h"
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* avro-c's error text (avro_strerror) is one buffer for all threads in
 * Debian's build, so decode errors carry their own text, never avro-c's. */
#define AVRO_SHAPE "the Avro value does not have the reader schema's shape, or out of memory"

/* ---------------------------------------------------------------------- */
/* Encoding                                                                */

enum { MD_NULL = 0, MD_STRING = 1, MD_LONG = 2, MD_DOUBLE = 3, MD_BOOL = 4 };

static int field(avro_value_t *rec, size_t idx, avro_value_t *out) {
    return avro_value_get_by_index(rec, idx, out, NULL);
}

static int put_string(avro_value_t *rec, size_t idx, const char *s) {
    avro_value_t f;
    int rc = field(rec, idx, &f);
    return rc ? rc : avro_value_set_string(&f, s);
}

static int put_double(avro_value_t *rec, size_t idx, double d) {
    avro_value_t f;
    int rc = field(rec, idx, &f);
    return rc ? rc : avro_value_set_double(&f, d);
}

static int put_long(avro_value_t *rec, size_t idx, int64_t l) {
    avro_value_t f;
    int rc = field(rec, idx, &f);
    return rc ? rc : avro_value_set_long(&f, l);
}

static int put_state(avro_value_t *rec, const vtev_vessel_state_t *s) {
    int rc;
    if ((rc = put_double(rec, 0, s->lat)) || (rc = put_double(rec, 1, s->lon)) ||
        (rc = put_double(rec, 2, s->speed)) || (rc = put_double(rec, 3, s->heading)))
        return rc;
    return put_string(rec, 4, s->status);
}

static int put_metadata(avro_value_t *map, const vtev_metadata_t *md) {
    size_t i, n = 0, cnt = vtev_metadata_count(md);
    int rc;
    if ((rc = avro_value_get_size(map, &n)))
        return rc;
    if (n > 0 && (rc = avro_value_reset(map)))
        return rc;
    for (i = 0; i < cnt; i++) {
        vtev_meta_value_t v;
        const char *key = vtev_metadata_entry(md, i, &v);
        avro_value_t el, br;
        if ((rc = avro_value_add(map, key, &el, NULL, NULL)))
            return rc;
        switch (v.type) {
        case VTEV_META_NULL:
            rc = avro_value_set_branch(&el, MD_NULL, &br);
            if (!rc)
                rc = avro_value_set_null(&br);
            break;
        case VTEV_META_STRING:
            rc = avro_value_set_branch(&el, MD_STRING, &br);
            if (!rc)
                rc = avro_value_set_string(&br, v.s);
            break;
        case VTEV_META_INT:
            rc = avro_value_set_branch(&el, MD_LONG, &br);
            if (!rc)
                rc = avro_value_set_long(&br, v.i);
            break;
        case VTEV_META_DOUBLE:
            rc = avro_value_set_branch(&el, MD_DOUBLE, &br);
            if (!rc)
                rc = avro_value_set_double(&br, v.d);
            break;
        case VTEV_META_BOOL:
            rc = avro_value_set_branch(&el, MD_BOOL, &br);
            if (!rc)
                rc = avro_value_set_boolean(&br, v.b);
            break;
        default:
            return EINVAL;
        }
        if (rc)
            return rc;
    }
    return 0;
}

static int put_env(avro_value_t *root, const vtev_envelope_t *env, vtev_event_type_t type,
                   size_t md_idx) {
    avro_value_t f;
    int rc;
    if ((rc = put_string(root, 0, env->event_id)) ||
        (rc = put_string(root, 1, vtev_event_type_name(type))) ||
        (rc = put_long(root, 2, env->timestamp_us)) || (rc = put_string(root, 3, env->vessel_id)) ||
        (rc = field(root, md_idx, &f)))
        return rc;
    return put_metadata(&f, env->metadata);
}

/* Copies an event into the avro value of its type. */
static int event_to_value(const vtev_event_t *ev, avro_value_t *root) {
    avro_value_t data, sub, br;
    int rc;
    switch (ev->type) {
    case VTEV_EVENT_POSITION: {
        const vtev_position_event_t *p = &ev->u.position;
        if ((rc = put_env(root, &p->env, ev->type, 5)) || (rc = field(root, 4, &data)))
            return rc;
        return put_state(&data, &p->data);
    }
    case VTEV_EVENT_REQUEST: {
        const vtev_request_event_t *r = &ev->u.request;
        if ((rc = put_env(root, &r->env, ev->type, 6)) || (rc = put_string(root, 4, r->request_id)) ||
            (rc = field(root, 5, &data)) || (rc = field(&data, 0, &sub)) ||
            (rc = put_state(&sub, &r->data.vessel_snapshot)) || (rc = field(&data, 1, &sub)))
            return rc;
        if (r->data.has_terminal_filter) {
            if ((rc = avro_value_set_branch(&sub, 1, &br)) ||
                (rc = avro_value_set_long(&br, r->data.terminal_filter)))
                return rc;
        } else if ((rc = avro_value_set_branch(&sub, 0, &br)) || (rc = avro_value_set_null(&br))) {
            return rc;
        }
        if (!vtev_priority_name(r->data.priority))
            return EINVAL;
        if ((rc = field(&data, 2, &sub)))
            return rc;
        return avro_value_set_enum(&sub, (int)r->data.priority);
    }
    case VTEV_EVENT_RESULT: {
        const vtev_result_event_t *r = &ev->u.result;
        const vtev_result_data_t *d = &r->data;
        if ((rc = put_env(root, &r->env, ev->type, 6)) || (rc = put_string(root, 4, r->request_id)) ||
            (rc = field(root, 5, &data)) || (rc = put_string(&data, 0, d->prediction_id)) ||
            (rc = put_long(&data, 1, d->terminal_id)) || (rc = put_string(&data, 2, d->terminal_name)) ||
            (rc = put_double(&data, 3, d->confidence_score)) || (rc = field(&data, 4, &sub)) ||
            (rc = put_double(&sub, 0, d->scores.proximity)) || (rc = put_double(&sub, 1, d->scores.speed)) ||
            (rc = put_double(&sub, 2, d->scores.heading)) ||
            (rc = put_double(&sub, 3, d->scores.rag_boost)) ||
            (rc = put_double(&sub, 4, d->scores.ai_adjustment)) ||
            (rc = put_double(&data, 5, d->distance_km)) || (rc = field(&data, 6, &sub)))
            return rc;
        if (d->has_eta_hours) {
            if ((rc = avro_value_set_branch(&sub, 1, &br)) || (rc = avro_value_set_double(&br, d->eta_hours)))
                return rc;
        } else if ((rc = avro_value_set_branch(&sub, 0, &br)) || (rc = avro_value_set_null(&br))) {
            return rc;
        }
        if ((rc = put_string(&data, 7, d->ai_reasoning)) || (rc = field(&data, 8, &sub)))
            return rc;
        return put_state(&sub, &d->vessel_snapshot);
    }
    default:
        return EINVAL;
    }
}

vtev_err_t vtev_event_encode(const vtev_event_t *ev, int32_t schema_id, void **bufp, size_t *lenp,
                             char *errstr, size_t errstr_size) {
    avro_value_t *root;
    if (!ev || !bufp)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, "NULL event or output");
    if (!vtev_event_type_name(ev->type))
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, "event_type: %d is not an event type",
                          (int)ev->type);
    if (!(root = vtev__encode_value(ev->type)))
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
    if (event_to_value(ev, root) != 0)
        return vtev__fail(VTEV_ERR_ENCODE, errstr, errstr_size, "Avro encoding of %s: %s",
                          vtev_event_type_name(ev->type),
                          ev->type == VTEV_EVENT_REQUEST && !vtev_priority_name(ev->u.request.data.priority)
                              ? "data.priority is not low, normal or high"
                              : "a value avro-c refused (out of memory, or a string that is too long)");
    return vtev__avro_write(root, schema_id, bufp, lenp, errstr, errstr_size);
}

/* ---------------------------------------------------------------------- */
/* Decoding                                                                */

typedef struct dctx_s {
    char *errstr;
    size_t errstr_size;
} dctx_t;

static vtev_err_t derr(dctx_t *c, const char *path, const char *what) {
    return vtev__fail(VTEV_ERR_DECODE, c->errstr, c->errstr_size, "%s: %s", path, what);
}

static vtev_err_t get_string(dctx_t *c, avro_value_t *rec, size_t idx, const char *path, char *dst,
                             size_t max) {
    avro_value_t f;
    const char *s = NULL;
    size_t size = 0, n;
    if (field(rec, idx, &f) || avro_value_get_string(&f, &s, &size))
        return derr(c, path, AVRO_SHAPE);
    n = size > 0 ? size - 1 : 0;
    if (n > max)
        return vtev__fail(VTEV_ERR_DECODE, c->errstr, c->errstr_size,
                          "%s: string of %zu bytes exceeds the limit of %zu", path, n, max);
    if (n > 0 && memchr(s, '\0', n))
        return derr(c, path, "string contains a NUL byte");
    memcpy(dst, s, n);
    dst[n] = '\0';
    return VTEV_ERR_OK;
}

static vtev_err_t get_double(dctx_t *c, avro_value_t *rec, size_t idx, const char *path, double *d) {
    avro_value_t f;
    if (field(rec, idx, &f) || avro_value_get_double(&f, d))
        return derr(c, path, AVRO_SHAPE);
    return VTEV_ERR_OK;
}

static vtev_err_t get_long(dctx_t *c, avro_value_t *rec, size_t idx, const char *path, int64_t *l) {
    avro_value_t f;
    if (field(rec, idx, &f) || avro_value_get_long(&f, l))
        return derr(c, path, AVRO_SHAPE);
    return VTEV_ERR_OK;
}

/* Reads an optional (["null", T]) field: *has false for null. */
static vtev_err_t get_opt(dctx_t *c, avro_value_t *rec, size_t idx, const char *path, bool *has,
                          avro_value_t *branch) {
    avro_value_t f;
    int disc;
    if (field(rec, idx, &f) || avro_value_get_discriminant(&f, &disc) ||
        avro_value_get_current_branch(&f, branch))
        return derr(c, path, AVRO_SHAPE);
    *has = disc != 0;
    return VTEV_ERR_OK;
}

#define TRY(x)                                                                                     \
    do {                                                                                           \
        vtev_err_t e_ = (x);                                                                       \
        if (e_ != VTEV_ERR_OK)                                                                     \
            return e_;                                                                             \
    } while (0)

static vtev_err_t get_state(dctx_t *c, avro_value_t *rec, int nested, vtev_vessel_state_t *s) {
    static const char *const paths[2][5] = {
        {"data.lat", "data.lon", "data.speed", "data.heading", "data.status"},
        {"data.vessel_snapshot.lat", "data.vessel_snapshot.lon", "data.vessel_snapshot.speed",
         "data.vessel_snapshot.heading", "data.vessel_snapshot.status"}};
    TRY(get_double(c, rec, 0, paths[nested][0], &s->lat));
    TRY(get_double(c, rec, 1, paths[nested][1], &s->lon));
    TRY(get_double(c, rec, 2, paths[nested][2], &s->speed));
    TRY(get_double(c, rec, 3, paths[nested][3], &s->heading));
    return get_string(c, rec, 4, paths[nested][4], s->status, VTEV_STATUS_MAX);
}

static vtev_err_t get_metadata(dctx_t *c, avro_value_t *map, vtev_envelope_t *env) {
    size_t i, n, bytes = 0;
    char *arena;
    if (avro_value_get_size(map, &n))
        return derr(c, "metadata", AVRO_SHAPE);
    if (n == 0)
        return VTEV_ERR_OK;
    if (n > VTEV_META_MAX_ENTRIES)
        return vtev__fail(VTEV_ERR_DECODE, c->errstr, c->errstr_size,
                          "metadata: %zu entries exceed the limit of %d", n, VTEV_META_MAX_ENTRIES);
    /* pass 1: check everything and size the single allocation */
    for (i = 0; i < n; i++) {
        avro_value_t el, br;
        const char *key = NULL, *why, *s;
        size_t size;
        int disc;
        if (avro_value_get_by_index(map, i, &el, &key) || avro_value_get_discriminant(&el, &disc) ||
            avro_value_get_current_branch(&el, &br))
            return derr(c, "metadata", AVRO_SHAPE);
        if ((why = vtev__meta_key_problem(key)))
            return vtev__fail(VTEV_ERR_DECODE, c->errstr, c->errstr_size, "metadata: \"%.64s\": %s",
                              key ? key : "", why);
        bytes += strlen(key) + 1;
        switch (disc) {
        case MD_STRING:
            if (avro_value_get_string(&br, &s, &size) || size == 0)
                return derr(c, "metadata", AVRO_SHAPE);
            if (size - 1 > VTEV_META_STRING_MAX)
                return vtev__fail(VTEV_ERR_DECODE, c->errstr, c->errstr_size,
                                  "metadata.%s: string of %zu bytes exceeds the limit of %d", key, size - 1,
                                  VTEV_META_STRING_MAX);
            if (memchr(s, '\0', size - 1))
                return vtev__fail(VTEV_ERR_DECODE, c->errstr, c->errstr_size,
                                  "metadata.%s: string contains a NUL byte", key);
            bytes += size;
            break;
        case MD_DOUBLE: {
            double d = 0;
            if (avro_value_get_double(&br, &d))
                return derr(c, "metadata", AVRO_SHAPE);
            if (!isfinite(d))
                return vtev__fail(VTEV_ERR_DECODE, c->errstr, c->errstr_size, "metadata.%s: not a finite number",
                                  key);
            break;
        }
        case MD_NULL:
        case MD_LONG:
        case MD_BOOL:
            break;
        default:
            return vtev__fail(VTEV_ERR_DECODE, c->errstr, c->errstr_size,
                              "metadata.%s: union branch %d is not a metadata type", key, disc);
        }
    }
    if (!(env->metadata = vtev__metadata_new_bulk(n, bytes, &arena)))
        return vtev__fail(VTEV_ERR_NOMEM, c->errstr, c->errstr_size, "out of memory");
    /* pass 2: copy (the values were checked above) */
    for (i = 0; i < n; i++) {
        avro_value_t el, br;
        const char *key = NULL, *s;
        size_t klen, size;
        int disc, b = 0;
        vtev_meta_value_t v;
        char *kcopy = arena;
        memset(&v, 0, sizeof(v));
        avro_value_get_by_index(map, i, &el, &key);
        avro_value_get_discriminant(&el, &disc);
        avro_value_get_current_branch(&el, &br);
        klen = strlen(key) + 1;
        memcpy(arena, key, klen);
        arena += klen;
        switch (disc) {
        case MD_STRING:
            avro_value_get_string(&br, &s, &size);
            memcpy(arena, s, size);
            v.type = VTEV_META_STRING;
            v.s = arena;
            arena += size;
            break;
        case MD_LONG:
            v.type = VTEV_META_INT;
            avro_value_get_long(&br, &v.i);
            break;
        case MD_DOUBLE:
            v.type = VTEV_META_DOUBLE;
            avro_value_get_double(&br, &v.d);
            break;
        case MD_BOOL:
            v.type = VTEV_META_BOOL;
            avro_value_get_boolean(&br, &b);
            v.b = b != 0;
            break;
        default:
            v.type = VTEV_META_NULL;
            break;
        }
        vtev__metadata_push(env->metadata, kcopy, &v);
    }
    return VTEV_ERR_OK;
}

static vtev_err_t get_env(dctx_t *c, avro_value_t *root, vtev_envelope_t *env, vtev_event_type_t type,
                          size_t md_idx) {
    char etype[64];
    avro_value_t f;
    const char *want = vtev_event_type_name(type);
    TRY(get_string(c, root, 0, "event_id", env->event_id, VTEV_UUID_LEN));
    {
        avro_value_t t;
        const char *s = NULL;
        size_t size = 0;
        if (field(root, 1, &t) || avro_value_get_string(&t, &s, &size))
            return derr(c, "event_type", AVRO_SHAPE);
        if (size - 1 != strlen(want) || memcmp(s, want, size - 1) != 0) {
            snprintf(etype, sizeof(etype), "%s", s);
            return vtev__fail(VTEV_ERR_DECODE, c->errstr, c->errstr_size,
                              "event_type: \"%s\" is not \"%s\"", etype, want);
        }
    }
    TRY(get_long(c, root, 2, "timestamp", &env->timestamp_us));
    TRY(get_string(c, root, 3, "vessel_id", env->vessel_id, VTEV_ID_MAX));
    if (field(root, md_idx, &f))
        return derr(c, "metadata", AVRO_SHAPE);
    return get_metadata(c, &f, env);
}

static vtev_err_t value_to_event(dctx_t *c, avro_value_t *root, vtev_event_t *ev) {
    avro_value_t data, sub, br;
    bool has;
    switch (ev->type) {
    case VTEV_EVENT_POSITION: {
        vtev_position_event_t *p = &ev->u.position;
        TRY(get_env(c, root, &p->env, ev->type, 5));
        if (field(root, 4, &data))
            return derr(c, "data", AVRO_SHAPE);
        return get_state(c, &data, 0, &p->data);
    }
    case VTEV_EVENT_REQUEST: {
        vtev_request_event_t *r = &ev->u.request;
        int prio;
        TRY(get_env(c, root, &r->env, ev->type, 6));
        TRY(get_string(c, root, 4, "request_id", r->request_id, VTEV_ID_MAX));
        if (field(root, 5, &data) || field(&data, 0, &sub))
            return derr(c, "data", AVRO_SHAPE);
        TRY(get_state(c, &sub, 1, &r->data.vessel_snapshot));
        TRY(get_opt(c, &data, 1, "data.terminal_filter", &has, &br));
        r->data.has_terminal_filter = has;
        r->data.terminal_filter = 0;
        if (has && avro_value_get_long(&br, &r->data.terminal_filter))
            return derr(c, "data.terminal_filter", AVRO_SHAPE);
        if (field(&data, 2, &sub) || avro_value_get_enum(&sub, &prio))
            return derr(c, "data.priority", AVRO_SHAPE);
        if (prio < VTEV_PRIORITY_LOW || prio > VTEV_PRIORITY_HIGH)
            return derr(c, "data.priority", "not low, normal or high");
        r->data.priority = (vtev_priority_t)prio;
        return VTEV_ERR_OK;
    }
    case VTEV_EVENT_RESULT: {
        vtev_result_event_t *r = &ev->u.result;
        vtev_result_data_t *d = &r->data;
        TRY(get_env(c, root, &r->env, ev->type, 6));
        TRY(get_string(c, root, 4, "request_id", r->request_id, VTEV_ID_MAX));
        if (field(root, 5, &data))
            return derr(c, "data", AVRO_SHAPE);
        TRY(get_string(c, &data, 0, "data.prediction_id", d->prediction_id, VTEV_ID_MAX));
        TRY(get_long(c, &data, 1, "data.terminal_id", &d->terminal_id));
        TRY(get_string(c, &data, 2, "data.terminal_name", d->terminal_name, VTEV_NAME_MAX));
        TRY(get_double(c, &data, 3, "data.confidence_score", &d->confidence_score));
        if (field(&data, 4, &sub))
            return derr(c, "data.scores", AVRO_SHAPE);
        TRY(get_double(c, &sub, 0, "data.scores.proximity", &d->scores.proximity));
        TRY(get_double(c, &sub, 1, "data.scores.speed", &d->scores.speed));
        TRY(get_double(c, &sub, 2, "data.scores.heading", &d->scores.heading));
        TRY(get_double(c, &sub, 3, "data.scores.rag_boost", &d->scores.rag_boost));
        TRY(get_double(c, &sub, 4, "data.scores.ai_adjustment", &d->scores.ai_adjustment));
        TRY(get_double(c, &data, 5, "data.distance_km", &d->distance_km));
        TRY(get_opt(c, &data, 6, "data.eta_hours", &has, &br));
        d->has_eta_hours = has;
        d->eta_hours = 0;
        if (has && avro_value_get_double(&br, &d->eta_hours))
            return derr(c, "data.eta_hours", AVRO_SHAPE);
        TRY(get_string(c, &data, 7, "data.ai_reasoning", d->ai_reasoning, VTEV_TEXT_MAX));
        if (field(&data, 8, &sub))
            return derr(c, "data.vessel_snapshot", AVRO_SHAPE);
        return get_state(c, &sub, 1, &d->vessel_snapshot);
    }
    default:
        return VTEV_ERR_INVALID_ARG;
    }
}

vtev_err_t vtev_event_decode(vtev_event_t *ev, vtev_event_type_t type, const vtev_schema_t *writer,
                             const void *avro, size_t len, char *errstr, size_t errstr_size) {
    return vtev__event_decode(ev, type, writer, avro, len, NULL, errstr, errstr_size);
}

vtev_err_t vtev__event_decode(vtev_event_t *ev, vtev_event_type_t type, const vtev_schema_t *writer,
                              const void *avro, size_t len, const vtev__avro_limits_t *lim, char *errstr,
                              size_t errstr_size) {
    const vtev_schema_t *reader;
    avro_value_t *root = NULL;
    dctx_t c = {errstr, errstr_size};
    vtev_err_t err;
    if (!ev)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, "NULL event");
    /* every member is written by value_to_event(); no need to clear ~5 KB */
    ev->type = VTEV_EVENT_NONE;
    ev->u.env.metadata = NULL;
    if (!vtev_event_type_name(type))
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, "%d is not an event type", (int)type);
    if (!avro && len > 0)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, "NULL input");
    if (!(reader = vtev_event_schema(type)))
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
    err = vtev__avro_decode_cached(reader, writer, avro ? avro : "", len, lim, &root, errstr, errstr_size);
    if (err != VTEV_ERR_OK)
        return err;
    ev->type = type;
    err = value_to_event(&c, root, ev);
    if (err != VTEV_ERR_OK)
        vtev_event_clear(ev);
    return err;
}
