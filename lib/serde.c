/*
 * serde.c - event <-> framed bytes (Confluent wire format) using the codec
 * (event.h) and the schema registry client (registry.h).
 *
 * Two caches, each guarded by the serde's mutex:
 *  - writer schemas by id (parsed, refcounted vtev_schema_t), bounded by
 *    schema.registry.cache.capacity, least recently used evicted;
 *  - schema ids by (topic, event type) and by (topic, schema text), so that
 *    serializing needs neither a subject name nor a registry cache lookup
 *    per message.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vtevents/registry.h>
#include <vtevents/serde.h>

#include "avro_resolve.h"
#include "conf_int.h"
#include "event_int.h"
#include "internal.h"
#include "serde_int.h"

typedef struct wschema_s {
    int32_t id;
    vtev_schema_t *schema; /* NULL: the registry's text for id is not a usable schema */
    vtev_err_t err;        /* ... with this error and message (cached: parsed once) */
    char *errmsg;
    uint64_t used; /* LRU tick */
} wschema_t;

typedef struct idcache_s {
    char *topic;
    vtev_event_type_t type; /* NONE: keyed by json */
    char *json;
    int32_t id;
    struct idcache_s *next;
} idcache_t;

struct vtev_serde_s {
    vtev_conf_t *conf;
    vtev_registry_t *reg;
    pthread_mutex_t lock;
    wschema_t *ws;
    size_t ws_cnt, ws_cap;
    uint64_t tick;
    idcache_t *ids;
    size_t ids_cnt;
    bool use_latest;
    vtev__avro_limits_t limits; /* avro.max.* */
};

/* Id cache bound: beyond it the oldest entries are dropped (the registry
 * client keeps its own bounded cache behind this one). */
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
    s->limits.max_depth = (int)vtev__conf_int(conf, "avro.max.depth");
    s->limits.max_values = vtev__conf_int(conf, "avro.max.values");
    s->limits.max_bytes = (size_t)vtev__conf_int(conf, "avro.max.bytes");
    s->limits.max_types = (int)vtev__conf_int(conf, "avro.max.schema.types");
    cap = vtev__conf_int(conf, "schema.registry.cache.capacity");
    s->ws_cap = cap > 0 ? (size_t)cap : 1000;
    /* The registry client owns the conf it is given: hand it a copy and keep
     * ours, which the producer and the consumer read. */
    {
        vtev_conf_t *rconf = vtev_conf_dup(conf);
        if (!rconf) {
            vtev__seterr(errstr, errstr_size, "out of memory");
            free(s);
            return NULL;
        }
        if (!(s->reg = vtev_registry_new(rconf, errstr, errstr_size))) {
            vtev_conf_destroy(rconf);
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
    idcache_t *c, *n;
    if (!s)
        return;
    for (i = 0; i < s->ws_cnt; i++) {
        vtev_schema_destroy(s->ws[i].schema);
        free(s->ws[i].errmsg);
    }
    free(s->ws);
    for (c = s->ids; c; c = n) {
        n = c->next;
        free(c->topic);
        free(c->json);
        free(c);
    }
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

/* Looks up (topic, type) or (topic, json). Caller holds the lock. */
static idcache_t *ids_find(vtev_serde_t *s, const char *topic, vtev_event_type_t type,
                           const char *json) {
    idcache_t *c;
    for (c = s->ids; c; c = c->next) {
        if (c->type != type || strcmp(c->topic, topic))
            continue;
        if (type == VTEV_EVENT_NONE && strcmp(c->json, json))
            continue;
        return c;
    }
    return NULL;
}

static void ids_put(vtev_serde_t *s, const char *topic, vtev_event_type_t type,
                    const char *json, int32_t id) {
    idcache_t *c;
    pthread_mutex_lock(&s->lock);
    if ((c = ids_find(s, topic, type, json))) {
        c->id = id;
        pthread_mutex_unlock(&s->lock);
        return;
    }
    if (s->ids_cnt >= IDCACHE_MAX) {
        /* drop the last (oldest) entry */
        idcache_t **pp = &s->ids;
        while ((*pp)->next)
            pp = &(*pp)->next;
        free((*pp)->topic);
        free((*pp)->json);
        free(*pp);
        *pp = NULL;
        s->ids_cnt--;
    }
    if ((c = calloc(1, sizeof(*c)))) {
        c->topic = vtev__strdup(topic);
        c->json = type == VTEV_EVENT_NONE ? vtev__strdup(json) : NULL;
        c->type = type;
        c->id = id;
        if (!c->topic || (type == VTEV_EVENT_NONE && !c->json)) {
            free(c->topic);
            free(c->json);
            free(c);
        } else {
            c->next = s->ids;
            s->ids = c;
            s->ids_cnt++;
        }
    }
    pthread_mutex_unlock(&s->lock);
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
    idcache_t *c;
    vtev_err_t err;
    if (s->use_latest) {
        err = vtev_registry_subject_name(s->reg, topic, vtev_schema_fullname(schema), subject,
                                         sizeof(subject));
        if (err)
            return vtev__fail(err, errstr, errstr_size, "%s: cannot name the subject", topic);
        return latest_id_for(s, subject, json, idp, errstr, errstr_size);
    }
    pthread_mutex_lock(&s->lock);
    c = ids_find(s, topic, type, json);
    if (c) {
        *idp = c->id;
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
    ids_put(s, topic, type, json, *idp);
    return VTEV_ERR_OK;
}

vtev_err_t vtev__serde_schema_id_json(vtev_serde_t *s, const char *topic,
                                      const char *schema_json, int32_t *idp, char *errstr,
                                      size_t errstr_size) {
    vtev_schema_t *schema;
    idcache_t *c;
    vtev_err_t err;
    pthread_mutex_lock(&s->lock);
    c = ids_find(s, topic, VTEV_EVENT_NONE, schema_json);
    if (c) {
        *idp = c->id;
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
            ids_put(s, topic, VTEV_EVENT_NONE, schema_json, *idp);
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
    size_t i, victim = 0;
    char *json = NULL;
    vtev_schema_t *schema;
    vtev_err_t err;

    pthread_mutex_lock(&s->lock);
    for (i = 0; i < s->ws_cnt; i++) {
        if (s->ws[i].id == id) {
            s->ws[i].used = ++s->tick;
            if (!s->ws[i].schema) {
                err = s->ws[i].err;
                vtev__seterr(errstr, errstr_size, "%s", s->ws[i].errmsg ? s->ws[i].errmsg : "unusable schema");
                pthread_mutex_unlock(&s->lock);
                return err;
            }
            *out = vtev_schema_ref(s->ws[i].schema);
            pthread_mutex_unlock(&s->lock);
            return VTEV_ERR_OK;
        }
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
    for (i = 0; i < s->ws_cnt; i++) {
        if (s->ws[i].id == id) { /* another thread was faster */
            vtev_schema_destroy(schema);
            if (!s->ws[i].schema) {
                pthread_mutex_unlock(&s->lock);
                return err;
            }
            *out = vtev_schema_ref(s->ws[i].schema);
            pthread_mutex_unlock(&s->lock);
            return VTEV_ERR_OK;
        }
    }
    if (s->ws_cnt < s->ws_cap) {
        if (s->ws_cnt % 16 == 0) {
            wschema_t *n = realloc(s->ws, (s->ws_cnt + 16) * sizeof(*n));
            if (!n) {
                pthread_mutex_unlock(&s->lock);
                if (!schema)
                    return err;
                *out = schema; /* usable, just not cached */
                return VTEV_ERR_OK;
            }
            s->ws = n;
        }
        victim = s->ws_cnt++;
    } else {
        for (i = 1; i < s->ws_cnt; i++)
            if (s->ws[i].used < s->ws[victim].used)
                victim = i;
        vtev_schema_destroy(s->ws[victim].schema);
        free(s->ws[victim].errmsg);
    }
    s->ws[victim].id = id;
    s->ws[victim].schema = schema;
    s->ws[victim].err = err;
    s->ws[victim].errmsg = schema ? NULL : vtev__strdup(errstr ? errstr : "");
    s->ws[victim].used = ++s->tick;
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
