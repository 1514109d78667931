/*
 * registry_cache.c - bounded LRU cache with an optional TTL, thread-safe.
 *
 * A hash table (chained, grown by doubling) indexes entries that also sit on
 * a doubly-linked recency list; the tail is evicted when the cache is full.
 * One mutex guards each cache.
 */
#include "registry_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct centry_s {
    char *key;
    uint64_t hash;
    int32_t id;
    int version;
    char *str;
    int64_t stored_us;
    struct centry_s *hnext;        /* hash chain */
    struct centry_s *prev, *next;  /* recency list: head = most recent */
} centry_t;

struct vtev__cache_s {
    pthread_mutex_t lock;
    size_t capacity;
    int64_t ttl_us;
    centry_t **buckets;
    size_t nbuckets;
    size_t cnt;
    centry_t *head, *tail;
    uint64_t evictions;
};

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

vtev__cache_t *vtev__cache_new(size_t capacity, int64_t ttl_us) {
    vtev__cache_t *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->capacity = capacity ? capacity : 1;
    c->ttl_us = ttl_us;
    c->nbuckets = 16;
    if (!(c->buckets = calloc(c->nbuckets, sizeof(*c->buckets)))) {
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

static void entry_free(centry_t *e) {
    free(e->key);
    free(e->str);
    free(e);
}

static void list_unlink(vtev__cache_t *c, centry_t *e) {
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void list_push_front(vtev__cache_t *c, centry_t *e) {
    e->prev = NULL;
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
}

/* Unlinks e from its hash chain and the list, and frees it. */
static void entry_delete(vtev__cache_t *c, centry_t *e) {
    centry_t **pp = &c->buckets[e->hash % c->nbuckets];
    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = e->hnext;
    list_unlink(c, e);
    entry_free(e);
    c->cnt--;
}

static centry_t *find_locked(vtev__cache_t *c, const char *key, uint64_t h) {
    centry_t *e;
    for (e = c->buckets[h % c->nbuckets]; e; e = e->hnext)
        if (e->hash == h && !strcmp(e->key, key))
            return e;
    return NULL;
}

static void grow_locked(vtev__cache_t *c) {
    size_t nb = c->nbuckets * 2, i;
    centry_t **b = calloc(nb, sizeof(*b));
    if (!b)
        return; /* keep the old table: slower, still correct */
    for (i = 0; i < c->nbuckets; i++) {
        centry_t *e = c->buckets[i], *n;
        for (; e; e = n) {
            n = e->hnext;
            e->hnext = b[e->hash % nb];
            b[e->hash % nb] = e;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = nb;
}

void vtev__cache_clear(vtev__cache_t *c) {
    centry_t *e, *n;
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    for (e = c->head; e; e = n) {
        n = e->next;
        entry_free(e);
    }
    memset(c->buckets, 0, c->nbuckets * sizeof(*c->buckets));
    c->head = c->tail = NULL;
    c->cnt = 0;
    pthread_mutex_unlock(&c->lock);
}

void vtev__cache_destroy(vtev__cache_t *c) {
    if (!c)
        return;
    vtev__cache_clear(c);
    pthread_mutex_destroy(&c->lock);
    free(c->buckets);
    free(c);
}

int vtev__cache_get(vtev__cache_t *c, const char *key, int32_t *idp, int *versionp,
                    char **strp) {
    uint64_t h = hash_str(key);
    centry_t *e;
    int r = 0;
    if (strp)
        *strp = NULL;
    pthread_mutex_lock(&c->lock);
    e = find_locked(c, key, h);
    if (e && c->ttl_us > 0 && vtev__now_mono_us() - e->stored_us >= c->ttl_us) {
        entry_delete(c, e);
        e = NULL;
    }
    if (e) {
        if (strp && e->str && !(*strp = vtev__strdup(e->str))) {
            r = -1;
        } else {
            if (idp)
                *idp = e->id;
            if (versionp)
                *versionp = e->version;
            list_unlink(c, e);
            list_push_front(c, e);
            r = 1;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return r;
}

int vtev__cache_put(vtev__cache_t *c, const char *key, int32_t id, int version,
                    const char *str) {
    uint64_t h = hash_str(key);
    centry_t *e;
    char *s = NULL;
    if (str && !(s = vtev__strdup(str)))
        return -1;
    pthread_mutex_lock(&c->lock);
    e = find_locked(c, key, h);
    if (e) {
        free(e->str);
        e->str = s;
        e->id = id;
        e->version = version;
        e->stored_us = vtev__now_mono_us();
        list_unlink(c, e);
        list_push_front(c, e);
        pthread_mutex_unlock(&c->lock);
        return 0;
    }
    if (!(e = calloc(1, sizeof(*e))) || !(e->key = vtev__strdup(key))) {
        free(e);
        free(s);
        pthread_mutex_unlock(&c->lock);
        return -1;
    }
    e->hash = h;
    e->id = id;
    e->version = version;
    e->str = s;
    e->stored_us = vtev__now_mono_us();
    while (c->cnt >= c->capacity && c->tail) {
        entry_delete(c, c->tail);
        c->evictions++;
    }
    if (c->cnt + 1 > c->nbuckets && c->nbuckets < ((size_t)1 << 26))
        grow_locked(c);
    e->hnext = c->buckets[h % c->nbuckets];
    c->buckets[h % c->nbuckets] = e;
    list_push_front(c, e);
    c->cnt++;
    pthread_mutex_unlock(&c->lock);
    return 0;
}

void vtev__cache_remove(vtev__cache_t *c, const char *key) {
    centry_t *e;
    pthread_mutex_lock(&c->lock);
    if ((e = find_locked(c, key, hash_str(key))))
        entry_delete(c, e);
    pthread_mutex_unlock(&c->lock);
}

void vtev__cache_remove_prefix(vtev__cache_t *c, const char *prefix) {
    centry_t *e, *n;
    size_t plen = strlen(prefix);
    pthread_mutex_lock(&c->lock);
    for (e = c->head; e; e = n) {
        n = e->next;
        if (!strncmp(e->key, prefix, plen))
            entry_delete(c, e);
    }
    pthread_mutex_unlock(&c->lock);
}

size_t vtev__cache_count(vtev__cache_t *c) {
    size_t n;
    pthread_mutex_lock(&c->lock);
    n = c->cnt;
    pthread_mutex_unlock(&c->lock);
    return n;
}

uint64_t vtev__cache_evictions(vtev__cache_t *c) {
    uint64_t n;
    pthread_mutex_lock(&c->lock);
    n = c->evictions;
    pthread_mutex_unlock(&c->lock);
    return n;
}
