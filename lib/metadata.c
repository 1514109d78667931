/*
 * metadata.c - the insertion-ordered, string-keyed metadata map.
 *
 * At most VTEV_META_MAX_ENTRIES entries, so a linear search is the fastest
 * lookup there is at this size.
 */
#include "event_int.h"
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct meta_entry_s {
    char *key;
    vtev_meta_value_t v; /* v.s points into owned memory for strings */
} meta_entry_t;

struct vtev_metadata_s {
    meta_entry_t *e;
    size_t n, cap;
};

vtev_metadata_t *vtev_metadata_new(void) {
    return calloc(1, sizeof(vtev_metadata_t));
}

static void entry_free(meta_entry_t *e) {
    free(e->key);
    if (e->v.type == VTEV_META_STRING)
        free((char *)e->v.s);
}

void vtev_metadata_destroy(vtev_metadata_t *md) {
    size_t i;
    if (!md)
        return;
    for (i = 0; i < md->n; i++)
        entry_free(&md->e[i]);
    free(md->e);
    free(md);
}

vtev_metadata_t *vtev_metadata_dup(const vtev_metadata_t *md) {
    vtev_metadata_t *d;
    size_t i;
    if (!md)
        return NULL;
    if (!(d = vtev_metadata_new()))
        return NULL;
    if (md->n > 0) {
        d->e = calloc(md->n, sizeof(*d->e));
        if (!d->e)
            goto fail;
        d->cap = md->n;
    }
    for (i = 0; i < md->n; i++) {
        meta_entry_t *s = &md->e[i], *t = &d->e[i];
        t->v = s->v;
        t->key = vtev__strdup(s->key);
        if (s->v.type == VTEV_META_STRING) {
            t->v.s = vtev__strdup(s->v.s);
            if (!t->v.s) {
                free(t->key);
                goto fail;
            }
        }
        if (!t->key) {
            if (s->v.type == VTEV_META_STRING)
                free((char *)t->v.s);
            goto fail;
        }
        d->n++;
    }
    return d;
fail:
    vtev_metadata_destroy(d);
    return NULL;
}

vtev_metadata_t *vtev_envelope_metadata(vtev_envelope_t *env) {
    if (!env)
        return NULL;
    if (!env->metadata)
        env->metadata = vtev_metadata_new();
    return env->metadata;
}

const char *vtev__meta_key_problem(const char *key) {
    size_t n;
    if (!key)
        return "key is NULL";
    n = strnlen(key, VTEV_META_KEY_MAX + 1);
    if (n == 0)
        return "key is empty";
    if (n > VTEV_META_KEY_MAX)
        return "key is longer than 64 bytes";
    return NULL;
}

static meta_entry_t *find(const vtev_metadata_t *md, const char *key) {
    size_t i;
    for (i = 0; i < md->n; i++)
        if (!strcmp(md->e[i].key, key))
            return &md->e[i];
    return NULL;
}

/* Sets key to v (v.s copied when a string). */
static vtev_err_t set(vtev_metadata_t *md, const char *key, const vtev_meta_value_t *v) {
    meta_entry_t *e;
    char *s = NULL;
    if (!md || vtev__meta_key_problem(key))
        return VTEV_ERR_INVALID_ARG;
    if (v->type == VTEV_META_STRING) {
        if (!v->s || strnlen(v->s, VTEV_META_STRING_MAX + 1) > VTEV_META_STRING_MAX)
            return VTEV_ERR_INVALID_ARG;
        if (!(s = vtev__strdup(v->s)))
            return VTEV_ERR_NOMEM;
    }
    e = find(md, key);
    if (!e) {
        if (md->n >= VTEV_META_MAX_ENTRIES) {
            free(s);
            return VTEV_ERR_INVALID_ARG;
        }
        if (md->n == md->cap) {
            size_t ncap = md->cap ? md->cap * 2 : 4;
            meta_entry_t *ne;
            if (ncap > VTEV_META_MAX_ENTRIES)
                ncap = VTEV_META_MAX_ENTRIES;
            ne = realloc(md->e, ncap * sizeof(*ne));
            if (!ne) {
                free(s);
                return VTEV_ERR_NOMEM;
            }
            md->e = ne;
            md->cap = ncap;
        }
        e = &md->e[md->n];
        memset(e, 0, sizeof(*e));
        if (!(e->key = vtev__strdup(key))) {
            free(s);
            return VTEV_ERR_NOMEM;
        }
        md->n++;
    } else if (e->v.type == VTEV_META_STRING) {
        free((char *)e->v.s);
    }
    memset(&e->v, 0, sizeof(e->v));
    e->v.type = v->type;
    switch (v->type) {
    case VTEV_META_STRING: e->v.s = s; break;
    case VTEV_META_INT: e->v.i = v->i; break;
    case VTEV_META_DOUBLE: e->v.d = v->d; break;
    case VTEV_META_BOOL: e->v.b = v->b; break;
    default: break;
    }
    return VTEV_ERR_OK;
}

vtev_err_t vtev_metadata_set_string(vtev_metadata_t *md, const char *key, const char *value) {
    vtev_meta_value_t v = {.type = VTEV_META_STRING, .s = value};
    return set(md, key, &v);
}

vtev_err_t vtev_metadata_set_int(vtev_metadata_t *md, const char *key, int64_t value) {
    vtev_meta_value_t v = {.type = VTEV_META_INT, .i = value};
    return set(md, key, &v);
}

vtev_err_t vtev_metadata_set_double(vtev_metadata_t *md, const char *key, double value) {
    vtev_meta_value_t v = {.type = VTEV_META_DOUBLE, .d = value};
    if (!isfinite(value))
        return VTEV_ERR_INVALID_ARG;
    return set(md, key, &v);
}

vtev_err_t vtev_metadata_set_bool(vtev_metadata_t *md, const char *key, bool value) {
    vtev_meta_value_t v = {.type = VTEV_META_BOOL, .b = value};
    return set(md, key, &v);
}

vtev_err_t vtev_metadata_set_null(vtev_metadata_t *md, const char *key) {
    vtev_meta_value_t v = {.type = VTEV_META_NULL};
    return set(md, key, &v);
}

vtev_err_t vtev_metadata_remove(vtev_metadata_t *md, const char *key) {
    meta_entry_t *e;
    size_t idx;
    if (!md || !key)
        return VTEV_ERR_INVALID_ARG;
    if (!(e = find(md, key)))
        return VTEV_ERR_NOT_FOUND;
    idx = (size_t)(e - md->e);
    entry_free(e);
    memmove(&md->e[idx], &md->e[idx + 1], (md->n - idx - 1) * sizeof(*e));
    md->n--;
    return VTEV_ERR_OK;
}

bool vtev_metadata_get(const vtev_metadata_t *md, const char *key, vtev_meta_value_t *out) {
    const meta_entry_t *e;
    if (!md || !key || !(e = find(md, key)))
        return false;
    if (out)
        *out = e->v;
    return true;
}

size_t vtev_metadata_count(const vtev_metadata_t *md) {
    return md ? md->n : 0;
}

const char *vtev_metadata_entry(const vtev_metadata_t *md, size_t idx, vtev_meta_value_t *out) {
    if (!md || idx >= md->n)
        return NULL;
    if (out)
        *out = md->e[idx].v;
    return md->e[idx].key;
}

const char *vtev_envelope_correlation_id(const vtev_envelope_t *env) {
    vtev_meta_value_t v;
    if (!env || !vtev_metadata_get(env->metadata, "correlation_id", &v) ||
        v.type != VTEV_META_STRING)
        return NULL;
    return v.s;
}
