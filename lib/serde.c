/*
 * serde.c - event <-> framed bytes (Confluent wire format) using the codec
 * (event.h) and the schema registry client (registry.h).
 *
 * Two caches (the library's LRU map, lru.h), each guarded by the serde's
 * mutex:
 *  - writer schemas by id (parsed, refcounted vtev_schema_t), bounded by
 *    schema.registry.cache.capacity, least recently used evicted;
 *  - schema ids by (topic, event type) and by (topic, schema text), so that
 *    serializing needs neither a subject name nor a registry cache lookup
 *    per message.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vtevents/registry.h>
#include <vtevents/serde.h>

#include "avro_resolve.h"
#include "conf_int.h"
#include "event_int.h"
#include "internal.h"
#include "lru.h"
#include "serde_int.h"

/* The writer schema cache's value; the key is the schema id. */
typedef struct wschema_s {
    vtev_schema_t *schema; /* NULL: the registry's text for id is not a usable schema */
    vtev_err_t err;        /* ... with this error and message (cached: parsed once) */
    char *errmsg;
} wschema_t;

static void wschema_free(void *v) {
    wschema_t *w = v;
    vtev_schema_destroy(w->schema);
    free(w->errmsg);
}

/* How bytes of writer schema `id` are decoded into generated type `type`. */
typedef enum { PLAN_FAST, PLAN_RESOLVE, PLAN_FAIL } plan_kind_t;
typedef struct tplan_s {
    int32_t id;
    const vtev_type_t *type;
    plan_kind_t kind;
    vtev__resolver_t *resolver; /* PLAN_RESOLVE: writer bytes -> the type's bytes */
    vtev_err_t err;             /* PLAN_FAIL */
    char *errmsg;
} tplan_t;

/* Bound of the plan cache; beyond it set-ups are made per message (correct,
 * slower): plans are never evicted, so a running decode never loses one. */
#define TPLAN_MAX 256

struct vtev_serde_s {
    vtev_conf_t *conf;
    tplan_t *plans;
    size_t nplans;
    vtev_registry_t *reg;
    pthread_mutex_t lock;
    vtev__lru_t *ws;  /* schema id -> wschema_t */
    vtev__lru_t *ids; /* ids_key() -> int32_t schema id */
    bool use_latest;
    vtev__avro_limits_t limits; /* avro.max.* */
    uint64_t serial;            /* unique per serde of the process (id_memo) */
};

/* The last (serde, topic, generated type) -> schema id a thread looked up:
 * a publishing thread sends one type to one topic most of the time, and this
 * skips the id cache's lock and hashing then.  Safe without invalidation: an
 * id, once the registry gave it for a schema under a subject, does not change,
 * and the serial (never reused, unlike an address) tells serdes apart. */
static atomic_uint_fast64_t serde_serials;
static _Thread_local struct {
    uint64_t serial;
    const vtev_type_t *type;
    int32_t id;
    char topic[256];
} id_memo;

/* Id cache bound: beyond it the least recently used entries are dropped
 * (the registry client keeps its own bounded cache behind this one). */
#define IDCACHE_MAX 256

vtev_serde_t *vtev_serde_new(vtev_conf_t *conf, char *errstr, size_t errstr_size) {
    vtev_serde_t *s;
    int64_t cap;
    if (!conf) {
        vtev__seterr(errstr, errstr_size, "vtev_serde_new: conf must not be NULL");
        return NULL;
    }
    if (!(s = calloc(1, sizeof(*s)))) {
        vtev__seterr(errstr, errstr_size, "out of memory");
        return NULL;
    }
    s->serial = atomic_fetch_add(&serde_serials, 1) + 1;
    s->limits.max_depth = (int)vtev__conf_int(conf, "avro.max.depth");
    s->limits.max_values = vtev__conf_int(conf, "avro.max.values");
    s->limits.max_bytes = (size_t)vtev__conf_int(conf, "avro.max.bytes");
    s->limits.max_types = (int)vtev__conf_int(conf, "avro.max.schema.types");
    cap = vtev__conf_int(conf, "schema.registry.cache.capacity");
    if (!(s->ws = vtev__lru_new(cap > 0 ? (size_t)cap : 1000, sizeof(wschema_t), wschema_free)) ||
        !(s->ids = vtev__lru_new(IDCACHE_MAX, sizeof(int32_t), NULL))) {
        vtev__lru_destroy(s->ws);
        vtev__seterr(errstr, errstr_size, "out of memory");
        free(s);
        return NULL;
    }
    /* The registry client owns the conf it is given: hand it a copy and keep
     * ours, which the producer and the consumer read. */
    {
        vtev_conf_t *rconf = vtev_conf_dup(conf);
        if (!rconf) {
            vtev__seterr(errstr, errstr_size, "out of memory");
            vtev__lru_destroy(s->ws);
            vtev__lru_destroy(s->ids);
            free(s);
            return NULL;
        }
        if (!(s->reg = vtev_registry_new(rconf, errstr, errstr_size))) {
            vtev_conf_destroy(rconf);
            vtev__lru_destroy(s->ws);
            vtev__lru_destroy(s->ids);
            free(s);
            return NULL;
        }
    }
    pthread_mutex_init(&s->lock, NULL);
    s->use_latest = vtev__conf_bool(conf, "use.latest.version");
    s->conf = conf;
    return s;
}

void vtev_serde_destroy(vtev_serde_t *s) {
    size_t i;
    if (!s)
        return;
    vtev__lru_destroy(s->ws);
    vtev__lru_destroy(s->ids);
    for (i = 0; i < s->nplans; i++) {
        vtev__resolver_destroy(s->plans[i].resolver);
        free(s->plans[i].errmsg);
    }
    free(s->plans);
    vtev_registry_destroy(s->reg);
    vtev_conf_destroy(s->conf);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

vtev_registry_t *vtev__serde_registry(vtev_serde_t *s) {
    return s ? s->reg : NULL;
}

const vtev_conf_t *vtev__serde_conf(const vtev_serde_t *s) {
    return s->conf;
}

/* The id cache's key: the event type, the generated type (a descriptor, by
 * address), the topic and, when neither type is given, the schema text. */
typedef struct {
    char *p;
    size_t len;
    char buf[256];
} idkey_t;

static bool ids_key(idkey_t *k, const char *topic, vtev_event_type_t type,
                    const vtev_type_t *gtype, const char *json) {
    int32_t t = (int32_t)type;
    size_t tlen = strlen(topic) + 1, jlen = type == VTEV_EVENT_NONE && !gtype ? strlen(json) : 0;
    k->len = sizeof(t) + sizeof(gtype) + tlen + jlen;
    if (!(k->p = k->len <= sizeof(k->buf) ? k->buf : malloc(k->len)))
        return false;
    memcpy(k->p, &t, sizeof(t));
    memcpy(k->p + sizeof(t), &gtype, sizeof(gtype));
    memcpy(k->p + sizeof(t) + sizeof(gtype), topic, tlen);
    if (jlen)
        memcpy(k->p + sizeof(t) + sizeof(gtype) + tlen, json, jlen);
    return true;
}

static void ids_key_free(idkey_t *k) {
    if (k->p != k->buf)
        free(k->p);
}

/* The cached id of (topic, type), (topic, gtype) or (topic, json), or NULL.
 * Caller holds the lock. */
static int32_t *ids_find(vtev_serde_t *s, const char *topic, vtev_event_type_t type,
                         const vtev_type_t *gtype, const char *json) {
    idkey_t k;
    int32_t *c;
    if (!ids_key(&k, topic, type, gtype, json))
        return NULL;
    c = vtev__lru_get(s->ids, k.p, k.len);
    ids_key_free(&k);
    return c;
}

static void ids_put(vtev_serde_t *s, const char *topic, vtev_event_type_t type,
                    const vtev_type_t *gtype, const char *json, int32_t id) {
    idkey_t k;
    if (!ids_key(&k, topic, type, gtype, json))
        return; /* not cached: correct, slower */
    pthread_mutex_lock(&s->lock);
    vtev__lru_put(s->ids, k.p, k.len, &id);
    pthread_mutex_unlock(&s->lock);
    ids_key_free(&k);
}

/* use.latest.version: the subject's latest id, which must be the id of the
 * schema the bytes are written with (the compiled-in one): framing them with
 * the id of another (evolved) schema would make every reader misread them.
 * Not cached here: the registry client caches both answers (latest with its
 * TTL), so a new latest version is noticed. */
static vtev_err_t latest_id_for(vtev_serde_t *s, const char *subject, const char *json,
                                int32_t *idp, char *errstr, size_t errstr_size) {
    int32_t latest = -1, mine = -1;
    vtev_err_t err;
    if ((err = vtev_registry_schema_id_for(s->reg, subject, json, &latest, errstr,
                                           errstr_size)))
        return err;
    err = vtev_registry_lookup(s->reg, subject, json, &mine, NULL, errstr, errstr_size);
    if (err == VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND || err == VTEV_ERR_REGISTRY_SUBJECT_NOT_FOUND ||
        (!err && mine != latest))
        return vtev__fail(VTEV_ERR_SCHEMA_MISMATCH, errstr, errstr_size,
                          "%s: use.latest.version: the latest schema (id %d) is not this "
                          "library's schema (%s); events are written with the library's "
                          "schema only",
                          subject, (int)latest, err ? "not registered" : "another id");
    if (err)
        return err;
    *idp = latest;
    return VTEV_ERR_OK;
}

/* Schema id of `schema` under the subject for topic. */
static vtev_err_t schema_id_for(vtev_serde_t *s, const char *topic, vtev_event_type_t type,
                                const vtev_schema_t *schema, int32_t *idp, char *errstr,
                                size_t errstr_size) {
    char subject[512];
    const char *json = vtev_schema_json(schema);
    int32_t *c;
    vtev_err_t err;
    if (s->use_latest) {
        err = vtev_registry_subject_name(s->reg, topic, vtev_schema_fullname(schema), subject,
                                         sizeof(subject));
        if (err)
            return vtev__fail(err, errstr, errstr_size, "%s: cannot name the subject", topic);
        return latest_id_for(s, subject, json, idp, errstr, errstr_size);
    }
    pthread_mutex_lock(&s->lock);
    c = ids_find(s, topic, type, NULL, json);
    if (c) {
        *idp = *c;
        pthread_mutex_unlock(&s->lock);
        return VTEV_ERR_OK;
    }
    pthread_mutex_unlock(&s->lock);
    err = vtev_registry_subject_name(s->reg, topic, vtev_schema_fullname(schema), subject,
                                     sizeof(subject));
    if (err)
        return vtev__fail(err, errstr, errstr_size, "%s: cannot name the subject (%s)", topic,
                          vtev_err2str(err));
    if ((err = vtev_registry_schema_id_for(s->reg, subject, json, idp, errstr, errstr_size)))
        return err;
    ids_put(s, topic, type, NULL, json, *idp);
    return VTEV_ERR_OK;
}

vtev_err_t vtev__serde_schema_id_json(vtev_serde_t *s, const char *topic,
                                      const char *schema_json, int32_t *idp, char *errstr,
                                      size_t errstr_size) {
    vtev_schema_t *schema;
    int32_t *c;
    vtev_err_t err;
    pthread_mutex_lock(&s->lock);
    c = ids_find(s, topic, VTEV_EVENT_NONE, NULL, schema_json);
    if (c) {
        *idp = *c;
        pthread_mutex_unlock(&s->lock);
        return VTEV_ERR_OK;
    }
    pthread_mutex_unlock(&s->lock);
    if (!(schema = vtev_schema_new(schema_json, strlen(schema_json), errstr, errstr_size)))
        return VTEV_ERR_SCHEMA;
    {
        char subject[512];
        err = vtev_registry_subject_name(s->reg, topic, vtev_schema_fullname(schema), subject,
                                         sizeof(subject));
        if (err) {
            vtev__seterr(errstr, errstr_size, "%s: cannot name the subject (%s)", topic,
                         vtev_err2str(err));
        } else if (s->use_latest) {
            err = latest_id_for(s, subject, schema_json, idp, errstr, errstr_size);
        } else if (!(err = vtev_registry_schema_id_for(s->reg, subject, schema_json, idp, errstr,
                                                       errstr_size))) {
            ids_put(s, topic, VTEV_EVENT_NONE, NULL, schema_json, *idp);
        }
    }
    vtev_schema_destroy(schema);
    return err;
}

vtev_err_t vtev_serde_serialize(vtev_serde_t *s, const char *topic, const vtev_event_t *ev,
                                void **bufp, size_t *lenp, int32_t *schema_idp, char *errstr,
                                size_t errstr_size) {
    const vtev_schema_t *schema;
    int32_t id;
    vtev_err_t err;
    if (!s || !topic || !*topic || !ev || !bufp || !lenp)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "vtev_serde_serialize: serde, topic, ev, bufp and lenp are required");
    if (!(schema = vtev_event_schema(ev->type)))
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "event_type: %d is not an event type", (int)ev->type);
    if ((err = schema_id_for(s, topic, ev->type, schema, &id, errstr, errstr_size)))
        return err;
    if ((err = vtev_event_encode(ev, id, bufp, lenp, errstr, errstr_size)))
        return err;
    if (schema_idp)
        *schema_idp = id;
    return VTEV_ERR_OK;
}

/* A referenced writer schema for id: cache, else registry. */
static vtev_err_t writer_schema(vtev_serde_t *s, int32_t id, vtev_schema_t **out,
                                char *errstr, size_t errstr_size) {
    wschema_t *w, nw;
    char *json = NULL;
    vtev_schema_t *schema;
    vtev_err_t err;

    pthread_mutex_lock(&s->lock);
    if ((w = vtev__lru_get(s->ws, &id, sizeof(id)))) {
        if (!w->schema) {
            err = w->err;
            vtev__seterr(errstr, errstr_size, "%s", w->errmsg ? w->errmsg : "unusable schema");
            pthread_mutex_unlock(&s->lock);
            return err;
        }
        *out = vtev_schema_ref(w->schema);
        pthread_mutex_unlock(&s->lock);
        return VTEV_ERR_OK;
    }
    pthread_mutex_unlock(&s->lock);

    if ((err = vtev_registry_get_schema(s->reg, id, &json, errstr, errstr_size)))
        return err;
    schema = vtev__schema_new(json, strlen(json), &s->limits, &err, errstr, errstr_size);
    vtev_free(json);
    if (!schema && err == VTEV_ERR_NOMEM)
        return err;
    if (!schema && err == VTEV_ERR_SCHEMA)
        err = VTEV_ERR_SCHEMA_MISMATCH; /* as before: not readable as an event */

    pthread_mutex_lock(&s->lock);
    if ((w = vtev__lru_get(s->ws, &id, sizeof(id)))) { /* another thread was faster */
        vtev_schema_destroy(schema);
        if (!w->schema) {
            pthread_mutex_unlock(&s->lock);
            return err;
        }
        *out = vtev_schema_ref(w->schema);
        pthread_mutex_unlock(&s->lock);
        return VTEV_ERR_OK;
    }
    nw.schema = schema;
    nw.err = err;
    nw.errmsg = schema ? NULL : vtev__strdup(errstr ? errstr : "");
    if (!vtev__lru_put(s->ws, &id, sizeof(id), &nw)) { /* evicts the least recently used */
        pthread_mutex_unlock(&s->lock);
        free(nw.errmsg);
        if (!schema)
            return err;
        *out = schema; /* usable, just not cached */
        return VTEV_ERR_OK;
    }
    if (schema)
        *out = vtev_schema_ref(schema); /* under the lock: another thread may evict it next */
    pthread_mutex_unlock(&s->lock);
    return schema ? VTEV_ERR_OK : err;
}

static vtev_event_type_t type_of_fullname(const char *fullname) {
    int t;
    for (t = VTEV_EVENT_POSITION; t <= VTEV_EVENT_RESULT; t++) {
        const vtev_schema_t *sc = vtev_event_schema((vtev_event_type_t)t);
        if (sc && fullname && !strcmp(vtev_schema_fullname(sc), fullname))
            return (vtev_event_type_t)t;
    }
    return VTEV_EVENT_NONE;
}

vtev_err_t vtev_serde_deserialize(vtev_serde_t *s, const char *topic, vtev_event_type_t expected,
                                  const void *buf, size_t len, vtev_event_t *ev,
                                  int32_t *schema_idp, char *errstr, size_t errstr_size) {
    int32_t id;
    const void *payload;
    size_t plen;
    vtev_schema_t *writer = NULL;
    vtev_event_type_t type = expected;
    vtev_err_t err;
    char e[512];

    if (ev)
        memset(ev, 0, sizeof(*ev));
    if (!s || !ev || (!buf && len))
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "vtev_serde_deserialize: serde, buf and ev are required");
    if (expected != VTEV_EVENT_NONE && !vtev_event_schema(expected))
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "expected: %d is not an event type", (int)expected);
    if ((err = vtev_frame_parse(buf, len, &id, &payload, &plen, errstr, errstr_size)))
        return err;
    if (schema_idp)
        *schema_idp = id;
    if ((err = writer_schema(s, id, &writer, e, sizeof(e))))
        return vtev__fail(err, errstr, errstr_size, "%s%sschema id %d: %s", topic ? topic : "",
                          topic ? ": " : "", (int)id, e);
    if (type == VTEV_EVENT_NONE &&
        (type = type_of_fullname(vtev_schema_fullname(writer))) == VTEV_EVENT_NONE) {
        err = vtev__fail(VTEV_ERR_SCHEMA_MISMATCH, errstr, errstr_size,
                         "schema id %d: writer schema %s is not one of the event schemas",
                         (int)id, vtev_schema_fullname(writer));
        vtev_schema_destroy(writer);
        return err;
    }
    if (expected != VTEV_EVENT_NONE) {
        /* a writer that is another of the three events is never resolvable */
        vtev_event_type_t wt = type_of_fullname(vtev_schema_fullname(writer));
        if (wt != VTEV_EVENT_NONE && wt != expected) {
            err = vtev__fail(VTEV_ERR_SCHEMA_MISMATCH, errstr, errstr_size,
                             "schema id %d: writer schema %s is a %s event, expected %s",
                             (int)id, vtev_schema_fullname(writer), vtev_event_type_name(wt),
                             vtev_event_type_name(expected));
            vtev_schema_destroy(writer);
            return err;
        }
    }
    err = vtev__event_decode(ev, type, writer, payload, plen, &s->limits, errstr, errstr_size);
    vtev_schema_destroy(writer);
    return err;
}

/* ------------------------------------------------------------ generated types */

static vtev_err_t type_check(const vtev_type_t *type, char *errstr, size_t errstr_size) {
    if (!VTEV__TYPE_ABI_OK(type))
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "type %s: descriptor ABI version %d, this library reads 1 to %d (regenerate "
                          "the code with this release's vt-codegen)",
                          type->full_name ? type->full_name : "?", type->abi_version,
                          VTEV_TYPE_ABI_VERSION);
    return VTEV_ERR_OK;
}

static void id_memo_put(const vtev_serde_t *s, const char *topic, const vtev_type_t *type,
                        int32_t id) {
    size_t n = strlen(topic);
    if (n >= sizeof(id_memo.topic))
        return; /* longer than a Kafka topic name: not kept */
    memcpy(id_memo.topic, topic, n + 1);
    id_memo.type = type;
    id_memo.id = id;
    id_memo.serial = s->serial;
}

vtev_err_t vtev__serde_type_id(vtev_serde_t *s, const char *topic, const vtev_type_t *type,
                               int32_t *idp, char *errstr, size_t errstr_size) {
    char subject[512];
    int32_t *c;
    vtev_err_t err;
    if (!s->use_latest) {
        if (id_memo.serial == s->serial && id_memo.type == type && !strcmp(id_memo.topic, topic)) {
            *idp = id_memo.id;
            return VTEV_ERR_OK;
        }
        pthread_mutex_lock(&s->lock);
        if ((c = ids_find(s, topic, VTEV_EVENT_NONE, type, NULL))) {
            *idp = *c;
            pthread_mutex_unlock(&s->lock);
            id_memo_put(s, topic, type, *idp);
            return VTEV_ERR_OK;
        }
        pthread_mutex_unlock(&s->lock);
    }
    if ((err = vtev_registry_subject_name(s->reg, topic, type->full_name, subject, sizeof(subject))))
        return vtev__fail(err, errstr, errstr_size, "%s: cannot name the subject (%s)", topic,
                          vtev_err2str(err));
    if (s->use_latest)
        return latest_id_for(s, subject, type->schema_json, idp, errstr, errstr_size);
    if ((err = vtev_registry_schema_id_for(s->reg, subject, type->schema_json, idp, errstr,
                                           errstr_size)))
        return err;
    ids_put(s, topic, VTEV_EVENT_NONE, type, NULL, *idp);
    id_memo_put(s, topic, type, *idp);
    return VTEV_ERR_OK;
}

vtev_err_t vtev_serde_serialize_type(vtev_serde_t *s, const char *topic, const vtev_type_t *type,
                                     const void *ev, vtev_buf_t *out, int32_t *schema_idp,
                                     char *errstr, size_t errstr_size) {
    int32_t id;
    vtev_err_t err;
    if (!s || !topic || !*topic || !type || !ev || !out)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "vtev_serde_serialize_type: serde, topic, type, ev and out are required");
    if ((err = type_check(type, errstr, errstr_size)))
        return err;
    if ((err = vtev__serde_type_id(s, topic, type, &id, errstr, errstr_size)))
        return err;
    out->len = 0;
    if (vtev_buf_reserve(out, VTEV_FRAME_HEADER_SIZE + 512)) /* most events fit */
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
    vtev_frame_write_header(out->data, id);
    out->len = VTEV_FRAME_HEADER_SIZE;
    if ((err = type->encode(ev, out, errstr, errstr_size))) {
        out->len = 0;
        return err;
    }
    if (schema_idp)
        *schema_idp = id;
    return VTEV_ERR_OK;
}

/* The plan for (id, type): cached, else made from the writer schema.  On
 * success *planp is a copy of the entry (the resolver stays the cache's, or
 * *ownedp when the cache is full).  Registry errors are not cached. */
static vtev_err_t type_plan(vtev_serde_t *s, int32_t id, const vtev_type_t *type, tplan_t *planp,
                            vtev__resolver_t **ownedp, char *errstr, size_t errstr_size) {
    size_t i;
    vtev_schema_t *writer = NULL;
    tplan_t pl;
    vtev_err_t err;
    char e[512];

    *ownedp = NULL;
    pthread_mutex_lock(&s->lock);
    for (i = 0; i < s->nplans; i++) {
        if (s->plans[i].id == id && s->plans[i].type == type) {
            *planp = s->plans[i];
            pthread_mutex_unlock(&s->lock);
            if (planp->kind == PLAN_FAIL)
                return vtev__fail(planp->err, errstr, errstr_size, "%s", planp->errmsg);
            return VTEV_ERR_OK;
        }
    }
    pthread_mutex_unlock(&s->lock);

    if ((err = writer_schema(s, id, &writer, e, sizeof(e))))
        return vtev__fail(err, errstr, errstr_size, "schema id %d: %s", (int)id, e);
    memset(&pl, 0, sizeof(pl));
    pl.id = id;
    pl.type = type;
    if (vtev_schema_fingerprint(writer) == type->fingerprint) {
        pl.kind = PLAN_FAST; /* the generated schema itself (canonical form) */
    } else {
        err = vtev__resolver_new(vtev_schema_json(writer), type->schema_json, VTEV__RESOLVE_DECODE,
                                 &s->limits, &pl.resolver, e, sizeof(e));
        if (err == VTEV_ERR_NOMEM) {
            vtev_schema_destroy(writer);
            return vtev__fail(err, errstr, errstr_size, "out of memory");
        }
        if (err) {
            pl.kind = PLAN_FAIL;
            pl.err = err == VTEV_ERR_SCHEMA ? VTEV_ERR_SCHEMA_MISMATCH : err;
            {
                char m[768];
                snprintf(m, sizeof(m), "schema id %d: writer schema %s cannot be read as %s: %s",
                         (int)id, vtev_schema_fullname(writer), type->full_name, e);
                pl.errmsg = vtev__strdup(m);
            }
        } else if (vtev__resolver_is_identity(pl.resolver)) {
            vtev__resolver_destroy(pl.resolver); /* same layout, other names or attributes */
            pl.resolver = NULL;
            pl.kind = PLAN_FAST;
        } else {
            pl.kind = PLAN_RESOLVE;
        }
    }
    vtev_schema_destroy(writer);

    pthread_mutex_lock(&s->lock);
    for (i = 0; i < s->nplans; i++) {
        if (s->plans[i].id == id && s->plans[i].type == type) { /* another thread was faster */
            vtev__resolver_destroy(pl.resolver);
            free(pl.errmsg);
            pl = s->plans[i];
            goto done;
        }
    }
    if (s->nplans < TPLAN_MAX && (pl.kind != PLAN_FAIL || pl.errmsg)) {
        if (s->nplans % 8 == 0) {
            tplan_t *n = realloc(s->plans, (s->nplans + 8) * sizeof(*n));
            if (n)
                s->plans = n;
            else
                goto uncached;
        }
        s->plans[s->nplans++] = pl;
        goto done;
    }
uncached:
    *ownedp = pl.resolver;
    if (pl.kind == PLAN_FAIL) {
        pthread_mutex_unlock(&s->lock);
        err = vtev__fail(pl.err, errstr, errstr_size, "%s",
                         pl.errmsg ? pl.errmsg : "the writer schema cannot be read as this type");
        free(pl.errmsg);
        return err;
    }
done:
    pthread_mutex_unlock(&s->lock);
    *planp = pl;
    if (pl.kind == PLAN_FAIL)
        return vtev__fail(pl.err, errstr, errstr_size, "%s", pl.errmsg);
    return VTEV_ERR_OK;
}

vtev_err_t vtev_serde_deserialize_type(vtev_serde_t *s, const char *topic, const vtev_type_t *type,
                                       const void *buf, size_t len, void *ev, int32_t *schema_idp,
                                       char *errstr, size_t errstr_size) {
    int32_t id;
    const void *payload;
    size_t plen;
    tplan_t pl;
    vtev__resolver_t *owned = NULL;
    vtev_err_t err;
    char e[640];

    if (!s || !type || !ev || (!buf && len))
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "vtev_serde_deserialize_type: serde, type, buf and ev are required");
    if ((err = type_check(type, errstr, errstr_size)))
        return err;
    memset(&pl, 0, sizeof(pl));
    memset(ev, 0, type->size);
    if ((err = vtev_frame_parse(buf, len, &id, &payload, &plen, errstr, errstr_size)))
        return err;
    if (schema_idp)
        *schema_idp = id;
    if (plen > s->limits.max_bytes)
        return vtev__fail(VTEV_ERR_LIMIT, errstr, errstr_size,
                          "%s%s%zu bytes exceed avro.max.bytes=%zu", topic ? topic : "",
                          topic ? ": " : "", plen, s->limits.max_bytes);
    if ((err = type_plan(s, id, type, &pl, &owned, e, sizeof(e))))
        return vtev__fail(err, errstr, errstr_size, "%s%s%s", topic ? topic : "", topic ? ": " : "",
                          e);
    if (pl.kind == PLAN_FAST) {
        err = type->decode(ev, payload, plen, e, sizeof(e));
    } else {
        vtev__abuf_t rb = {0};
        err = vtev__resolver_run(pl.resolver, payload, plen, &s->limits, &rb, e, sizeof(e));
        if (err == VTEV_ERR_OK)
            err = type->decode(ev, rb.data, rb.len, e, sizeof(e));
        free(rb.data);
    }
    vtev__resolver_destroy(owned);
    if (err)
        return vtev__fail(err, errstr, errstr_size, "%s%sschema id %d: %s", topic ? topic : "",
                          topic ? ": " : "", (int)id, e);
    return VTEV_ERR_OK;
}

vtev_err_t vtev__serde_writer_fullname(vtev_serde_t *s, const void *buf, size_t len, char *name,
                                       size_t name_size, char *errstr, size_t errstr_size) {
    int32_t id;
    vtev_schema_t *w = NULL;
    vtev_err_t err;
    if ((err = vtev_frame_parse(buf, len, &id, NULL, NULL, errstr, errstr_size)))
        return err;
    if ((err = writer_schema(s, id, &w, errstr, errstr_size)))
        return err;
    snprintf(name, name_size, "%s", vtev_schema_fullname(w));
    vtev_schema_destroy(w);
    return VTEV_ERR_OK;
}
