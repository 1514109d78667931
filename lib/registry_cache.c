/*
 * registry_cache.c - the registry client's caches: the library's LRU map
 * (lru.h) behind a mutex, with an optional TTL.
 */
#include "lru.h"
#include "registry_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int32_t id;
    int version;
    char *str;
    int64_t stored_us;
} cvalue_t;

struct vtev__cache_s {
    pthread_mutex_t lock;
    int64_t ttl_us;
    vtev__lru_t *lru;
};

static void cvalue_free(void *v) {
    free(((cvalue_t *)v)->str);
}

vtev__cache_t *vtev__cache_new(size_t capacity, int64_t ttl_us) {
    vtev__cache_t *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->ttl_us = ttl_us;
    if (!(c->lru = vtev__lru_new(capacity, sizeof(cvalue_t), cvalue_free))) {
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

void vtev__cache_clear(vtev__cache_t *c) {
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    vtev__lru_clear(c->lru);
    pthread_mutex_unlock(&c->lock);
}

void vtev__cache_destroy(vtev__cache_t *c) {
    if (!c)
        return;
    vtev__lru_destroy(c->lru);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

int vtev__cache_get(vtev__cache_t *c, const char *key, int32_t *idp, int *versionp,
                    char **strp) {
    size_t klen = strlen(key);
    cvalue_t *v;
    int r = 0;
    if (strp)
        *strp = NULL;
    pthread_mutex_lock(&c->lock);
    v = vtev__lru_get(c->lru, key, klen);
    if (v && c->ttl_us > 0 && vtev__now_mono_us() - v->stored_us >= c->ttl_us) {
        vtev__lru_remove(c->lru, key, klen);
        v = NULL;
    }
    if (v) {
        if (strp && v->str && !(*strp = vtev__strdup(v->str))) {
            r = -1;
        } else {
            if (idp)
                *idp = v->id;
            if (versionp)
                *versionp = v->version;
            r = 1;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return r;
}

int vtev__cache_put(vtev__cache_t *c, const char *key, int32_t id, int version,
                    const char *str) {
    cvalue_t v;
    void *stored;
    v.id = id;
    v.version = version;
    v.str = NULL;
    if (str && !(v.str = vtev__strdup(str)))
        return -1;
    pthread_mutex_lock(&c->lock);
    v.stored_us = vtev__now_mono_us();
    stored = vtev__lru_put(c->lru, key, strlen(key), &v);
    pthread_mutex_unlock(&c->lock);
    if (!stored) {
        free(v.str);
        return -1;
    }
    return 0;
}

void vtev__cache_remove(vtev__cache_t *c, const char *key) {
    pthread_mutex_lock(&c->lock);
    vtev__lru_remove(c->lru, key, strlen(key));
    pthread_mutex_unlock(&c->lock);
}

void vtev__cache_remove_prefix(vtev__cache_t *c, const char *prefix) {
    pthread_mutex_lock(&c->lock);
    vtev__lru_remove_prefix(c->lru, prefix, strlen(prefix));
    pthread_mutex_unlock(&c->lock);
}

size_t vtev__cache_count(vtev__cache_t *c) {
    size_t n;
    pthread_mutex_lock(&c->lock);
    n = vtev__lru_count(c->lru);
    pthread_mutex_unlock(&c->lock);
    return n;
}

uint64_t vtev__cache_evictions(vtev__cache_t *c) {
    uint64_t n;
    pthread_mutex_lock(&c->lock);
    n = vtev__lru_evictions(c->lru);
    pthread_mutex_unlock(&c->lock);
    return n;
}
