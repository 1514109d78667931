/*
 * schema.c - vtev_schema_t: a parsed Avro schema with its JSON text, and the
 * compiled-in schemas of the three events (embedded from schemas/avro).
 */
#include "avro_canon.h"
#include "avro_resolve.h"
#include "event_int.h"
#include "internal.h"

#include <vtevents/serde_avro.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_uint_fast64_t next_uid = 1;

uint64_t vtev__schema_next_uid(void) {
    return (uint64_t)atomic_fetch_add(&next_uid, 1);
}

static char *fullname_of(avro_schema_t s) {
    const char *name, *ns;
    char *out;
    size_t n;
    switch (avro_typeof(s)) {
    case AVRO_RECORD:
    case AVRO_ENUM:
    case AVRO_FIXED:
        name = avro_schema_name(s);
        ns = avro_schema_namespace(s);
        if (ns && *ns) {
            n = strlen(ns) + strlen(name) + 2;
            if ((out = malloc(n)))
                snprintf(out, n, "%s.%s", ns, name);
            return out;
        }
        return vtev__strdup(name);
    default:
        return vtev__strdup(avro_schema_type_name(s));
    }
}

/* Fills s from json text; returns 0 or -1 with errstr set. */
static vtev_err_t schema_init(vtev_schema_t *s, const char *json, size_t len, const vtev__avro_limits_t *lim,
                              char *errstr, size_t errstr_size) {
    vtev_err_t err;
    memset(s, 0, sizeof(*s));
    atomic_init(&s->refcnt, 1);
    if (!(s->json = malloc(len + 1)))
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
    memcpy(s->json, json, len);
    s->json[len] = '\0';
    /* Our own check says what is wrong (thread-safe, with limits); avro-c's
     * error text is one buffer shared by all threads, so it is not used. */
    if (strlen(s->json) != len) {
        free(s->json);
        s->json = NULL;
        return vtev__fail(VTEV_ERR_SCHEMA, errstr, errstr_size, "schema: the text contains a NUL byte");
    }
    if ((err = vtev__avro_schema_check(s->json, lim, errstr, errstr_size)) != VTEV_ERR_OK ||
        avro_schema_from_json_length(s->json, len, &s->avro) != 0) {
        if (err == VTEV_ERR_OK) {
            err = VTEV_ERR_SCHEMA;
            vtev__seterr(errstr, errstr_size, "schema: avro-c cannot parse it");
        }
        free(s->json);
        s->json = NULL;
        return err;
    }
    if (!(s->fullname = fullname_of(s->avro))) {
        avro_schema_decref(s->avro);
        free(s->json);
        s->json = NULL;
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    if ((err = vtev__avro_canonical(s->json, &s->canonical, errstr, errstr_size)) != VTEV_ERR_OK) {
        avro_schema_decref(s->avro);
        free(s->fullname);
        free(s->json);
        s->json = NULL;
        return err;
    }
    s->fingerprint = vtev__avro_rabin(s->canonical, strlen(s->canonical));
    s->uid = vtev__schema_next_uid();
    return VTEV_ERR_OK;
}

vtev_schema_t *vtev_schema_new(const char *json, size_t len, char *errstr, size_t errstr_size) {
    return vtev__schema_new(json, len, NULL, NULL, errstr, errstr_size);
}

vtev_schema_t *vtev__schema_new(const char *json, size_t len, const vtev__avro_limits_t *lim, vtev_err_t *errp,
                                char *errstr, size_t errstr_size) {
    vtev_schema_t *s;
    vtev_err_t err;
    if (errp)
        *errp = VTEV_ERR_INVALID_ARG;
    if (!json) {
        vtev__seterr(errstr, errstr_size, "schema: NULL JSON text");
        return NULL;
    }
    if (errp)
        *errp = VTEV_ERR_NOMEM;
    if (!(s = malloc(sizeof(*s)))) {
        vtev__seterr(errstr, errstr_size, "out of memory");
        return NULL;
    }
    if ((err = schema_init(s, json, len, lim, errstr, errstr_size)) != VTEV_ERR_OK) {
        if (errp)
            *errp = err;
        free(s);
        return NULL;
    }
    if (errp)
        *errp = VTEV_ERR_OK;
    return s;
}

vtev_schema_t *vtev_schema_ref(vtev_schema_t *schema) {
    if (schema && !schema->is_static)
        atomic_fetch_add(&schema->refcnt, 1);
    return schema;
}

void vtev_schema_destroy(vtev_schema_t *schema) {
    if (!schema || schema->is_static)
        return;
    if (atomic_fetch_sub(&schema->refcnt, 1) != 1)
        return;
    avro_schema_decref(schema->avro);
    free(schema->json);
    free(schema->fullname);
    free(schema->canonical);
    free(schema);
}

const char *vtev_schema_json(const vtev_schema_t *schema) {
    return schema ? schema->json : NULL;
}

const char *vtev_schema_fullname(const vtev_schema_t *schema) {
    return schema ? schema->fullname : NULL;
}

const char *vtev_schema_canonical_form(const vtev_schema_t *schema) {
    return schema ? schema->canonical : NULL;
}

uint64_t vtev_schema_fingerprint(const vtev_schema_t *schema) {
    return schema ? schema->fingerprint : 0;
}

avro_schema_t vtev_schema_avro(const vtev_schema_t *schema) {
    return schema ? schema->avro : NULL;
}

/* The compiled-in schemas: parsed once, never freed. */
static vtev_schema_t builtin[4];
static bool builtin_ok;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

static void builtin_init(void) {
    const char *texts[4] = {NULL, vtev__schema_position, vtev__schema_request, vtev__schema_result};
    size_t lens[4] = {0, vtev__schema_position_len, vtev__schema_request_len, vtev__schema_result_len};
    int t;
    for (t = 1; t <= 3; t++) {
        if (schema_init(&builtin[t], texts[t], lens[t], NULL, NULL, 0) != VTEV_ERR_OK)
            return;
        builtin[t].is_static = true;
    }
    builtin_ok = true;
}

const vtev_schema_t *vtev_event_schema(vtev_event_type_t type) {
    if (type < VTEV_EVENT_POSITION || type > VTEV_EVENT_RESULT)
        return NULL;
    pthread_once(&builtin_once, builtin_init);
    return builtin_ok ? &builtin[type] : NULL;
}
