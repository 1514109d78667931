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

/* An entry owns one block holding its key and, for strings, the value:
 * "key\0value\0".  v.s points into that block. */
typedef struct meta_entry_s {
    char *key;
    vtev_meta_value_t v;
    bool owned; /* key block malloc'd on its own (else in the map's arena) */
} meta_entry_t;

#define META_INLINE 4

struct vtev_metadata_s {
    meta_entry_t *e; /* inline_e, or in the same allocation (bulk), or malloc'd */
    size_t n, cap;
    bool e_owned;    /* e was malloc'd on its own */
    meta_entry_t inline_e[META_INLINE];
};

vtev_metadata_t *vtev_metadata_new(void) {
    vtev_metadata_t *md = malloc(sizeof(*md));
    if (md) {
        md->e = md->inline_e;
        md->n = 0;
        md->cap = META_INLINE;
        md->e_owned = false;
    }
    return md;
}

vtev_metadata_t *vtev__metadata_new_bulk(size_t n, size_t bytes, char **arenap) {
    size_t extra = n > META_INLINE ? n * sizeof(meta_entry_t) : 0;
    vtev_metadata_t *md = malloc(sizeof(*md) + extra + bytes);
    if (!md)
        return NULL;
    md->n = 0;
    md->e_owned = false;
    if (extra) {
        md->e = (meta_entry_t *)(void *)(md + 1);
        md->cap = n;
    } else {
        md->e = md->inline_e;
        md->cap = META_INLINE;
    }
    *arenap = (char *)(md + 1) + extra;
    return md;
}

void vtev__metadata_push(vtev_metadata_t *md, char *key, const vtev_meta_value_t *v) {
    meta_entry_t *e = &md->e[md->n++];
    e->key = key;
    e->v = *v;
    e->owned = false;
}

void vtev_metadata_destroy(vtev_metadata_t *md) {
    size_t i;
    if (!md)
        return;
    for (i = 0; i < md->n; i++)
        if (md->e[i].owned)
            free(md->e[i].key);
    if (md->e_owned)
        free(md->e);
    free(md);
}

/* A block "key\0[value\0]"; returns NULL on ENOMEM. */
static char *entry_block(const char *key, size_t klen, const char *s, size_t slen, const char **sp) {
    char *b = malloc(klen + 1 + (s ? slen + 1 : 0));
    if (!b)
        return NULL;
    memcpy(b, key, klen + 1);
    if (s) {
        memcpy(b + klen + 1, s, slen + 1);
        *sp = b + klen + 1;
    }
    return b;
}

static bool grow(vtev_metadata_t *md, size_t need) {
    size_t ncap;
    meta_entry_t *ne;
    if (need <= md->cap)
        return true;
    ncap = md->cap * 2 < need ? need : md->cap * 2;
    if (ncap > VTEV_META_MAX_ENTRIES)
        ncap = VTEV_META_MAX_ENTRIES;
    if (!md->e_owned) {
        if (!(ne = malloc(ncap * sizeof(*ne))))
            return false;
        memcpy(ne, md->e, md->n * sizeof(*ne));
    } else if (!(ne = realloc(md->e, ncap * sizeof(*ne)))) {
        return false;
    }
    md->e = ne;
    md->e_owned = true;
    md->cap = ncap;
    return true;
}

vtev_metadata_t *vtev_metadata_dup(const vtev_metadata_t *md) {
    vtev_metadata_t *d;
    size_t i;
    if (!md)
        return NULL;
    if (!(d = vtev_metadata_new()))
        return NULL;
    if (!grow(d, md->n))
        goto fail;
    for (i = 0; i < md->n; i++) {
        const meta_entry_t *s = &md->e[i];
        meta_entry_t *t = &d->e[i];
        const char *sv = NULL;
        t->v = s->v;
        t->key = entry_block(s->key, strlen(s->key), s->v.type == VTEV_META_STRING ? s->v.s : NULL,
                             s->v.type == VTEV_META_STRING ? strlen(s->v.s) : 0, &sv);
        if (!t->key)
            goto fail;
        t->owned = true;
        if (s->v.type == VTEV_META_STRING)
            t->v.s = sv;
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
    char *block;
    const char *sv = NULL;
    size_t klen, slen = 0;
    if (!md || vtev__meta_key_problem(key))
        return VTEV_ERR_INVALID_ARG;
    if (v->type == VTEV_META_STRING) {
        if (!v->s || (slen = strnlen(v->s, VTEV_META_STRING_MAX + 1)) > VTEV_META_STRING_MAX)
            return VTEV_ERR_INVALID_ARG;
    } else if (v->type < VTEV_META_NULL || v->type > VTEV_META_BOOL) {
        return VTEV_ERR_INVALID_ARG;
    }
    e = find(md, key);
    if (!e && md->n >= VTEV_META_MAX_ENTRIES)
        return VTEV_ERR_INVALID_ARG;
    if (!e && !grow(md, md->n + 1))
        return VTEV_ERR_NOMEM;
    klen = strlen(key);
    if (!(block = entry_block(key, klen, v->type == VTEV_META_STRING ? v->s : NULL, slen, &sv)))
        return VTEV_ERR_NOMEM;
    if (e) {
        if (e->owned)
            free(e->key);
    } else {
        e = &md->e[md->n++];
    }
    e->key = block;
    e->owned = true;
    e->v = *v;
    if (v->type == VTEV_META_STRING)
        e->v.s = sv;
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
    if (e->owned)
        free(e->key);
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
