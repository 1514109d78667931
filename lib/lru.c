/*
 * lru.c - bounded least-recently-used map (lru.h).
 *
 * A hash table (chained, grown by doubling) indexes entries that also sit on
 * a doubly-linked recency list; the tail is evicted when the map is full.
 * Each entry is one allocation: the links, then the value, then the key.
 */
#include "lru.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

typedef struct node_s {
    struct node_s *hnext;      /* hash chain */
    struct node_s *prev, *next; /* recency list: head = most recent */
    uint64_t hash;
    size_t key_len;
    alignas(max_align_t) unsigned char data[]; /* value, then key */
} node_t;

struct vtev__lru_s {
    size_t capacity;
    size_t value_size, key_off; /* key_off: value_size rounded up */
    vtev__lru_free_cb_t *free_value;
    node_t **buckets;
    size_t nbuckets;
    size_t cnt;
    node_t *head, *tail;
    uint64_t evictions;
};

#define MAX_BUCKETS ((size_t)1 << 26)

static uint64_t hash_bytes(const void *key, size_t len) {
    const unsigned char *p = key;
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    size_t i;
    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static unsigned char *node_key(const vtev__lru_t *l, node_t *n) {
    return n->data + l->key_off;
}

vtev__lru_t *vtev__lru_new(size_t capacity, size_t value_size, vtev__lru_free_cb_t *free_value) {
    vtev__lru_t *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->capacity = capacity ? capacity : 1;
    l->value_size = value_size;
    l->key_off = (value_size + alignof(max_align_t) - 1) / alignof(max_align_t) * alignof(max_align_t);
    l->free_value = free_value;
    l->nbuckets = 16;
    if (!(l->buckets = calloc(l->nbuckets, sizeof(*l->buckets)))) {
        free(l);
        return NULL;
    }
    return l;
}

static void list_unlink(vtev__lru_t *l, node_t *n) {
    if (n->prev)
        n->prev->next = n->next;
    else
        l->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        l->tail = n->prev;
    n->prev = n->next = NULL;
}

static void list_push_front(vtev__lru_t *l, node_t *n) {
    n->prev = NULL;
    n->next = l->head;
    if (l->head)
        l->head->prev = n;
    l->head = n;
    if (!l->tail)
        l->tail = n;
}

static void value_free(vtev__lru_t *l, node_t *n) {
    if (l->free_value)
        l->free_value(n->data);
}

/* Unlinks n from its hash chain and the list, and frees it. */
static void node_delete(vtev__lru_t *l, node_t *n) {
    node_t **pp = &l->buckets[n->hash % l->nbuckets];
    while (*pp && *pp != n)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = n->hnext;
    list_unlink(l, n);
    value_free(l, n);
    free(n);
    l->cnt--;
}

static node_t *find(vtev__lru_t *l, const void *key, size_t len, uint64_t h) {
    node_t *n;
    for (n = l->buckets[h % l->nbuckets]; n; n = n->hnext)
        if (n->hash == h && n->key_len == len && !memcmp(node_key(l, n), key, len))
            return n;
    return NULL;
}

static void grow(vtev__lru_t *l) {
    size_t nb = l->nbuckets * 2, i;
    node_t **b = calloc(nb, sizeof(*b));
    if (!b)
        return; /* keep the old table: slower, still correct */
    for (i = 0; i < l->nbuckets; i++) {
        node_t *n = l->buckets[i], *next;
        for (; n; n = next) {
            next = n->hnext;
            n->hnext = b[n->hash % nb];
            b[n->hash % nb] = n;
        }
    }
    free(l->buckets);
    l->buckets = b;
    l->nbuckets = nb;
}

void vtev__lru_clear(vtev__lru_t *l) {
    node_t *n, *next;
    if (!l)
        return;
    for (n = l->head; n; n = next) {
        next = n->next;
        value_free(l, n);
        free(n);
    }
    memset(l->buckets, 0, l->nbuckets * sizeof(*l->buckets));
    l->head = l->tail = NULL;
    l->cnt = 0;
}

void vtev__lru_destroy(vtev__lru_t *l) {
    if (!l)
        return;
    vtev__lru_clear(l);
    free(l->buckets);
    free(l);
}

void *vtev__lru_get(vtev__lru_t *l, const void *key, size_t key_len) {
    node_t *n = find(l, key, key_len, hash_bytes(key, key_len));
    if (!n)
        return NULL;
    if (n != l->head) {
        list_unlink(l, n);
        list_push_front(l, n);
    }
    return n->data;
}

void *vtev__lru_put(vtev__lru_t *l, const void *key, size_t key_len, const void *value) {
    uint64_t h = hash_bytes(key, key_len);
    node_t *n = find(l, key, key_len, h);
    if (n) {
        value_free(l, n);
        memcpy(n->data, value, l->value_size);
        if (n != l->head) {
            list_unlink(l, n);
            list_push_front(l, n);
        }
        return n->data;
    }
    if (key_len > SIZE_MAX - sizeof(*n) - l->key_off ||
        !(n = malloc(sizeof(*n) + l->key_off + key_len)))
        return NULL;
    n->hash = h;
    n->key_len = key_len;
    n->prev = n->next = NULL;
    memcpy(n->data, value, l->value_size);
    if (key_len)
        memcpy(node_key(l, n), key, key_len);
    while (l->cnt >= l->capacity && l->tail) {
        node_delete(l, l->tail);
        l->evictions++;
    }
    if (l->cnt + 1 > l->nbuckets && l->nbuckets < MAX_BUCKETS)
        grow(l);
    n->hnext = l->buckets[h % l->nbuckets];
    l->buckets[h % l->nbuckets] = n;
    list_push_front(l, n);
    l->cnt++;
    return n->data;
}

bool vtev__lru_remove(vtev__lru_t *l, const void *key, size_t key_len) {
    node_t *n = find(l, key, key_len, hash_bytes(key, key_len));
    if (!n)
        return false;
    node_delete(l, n);
    return true;
}

void vtev__lru_remove_prefix(vtev__lru_t *l, const void *prefix, size_t prefix_len) {
    node_t *n, *next;
    for (n = l->head; n; n = next) {
        next = n->next;
        if (n->key_len >= prefix_len && !memcmp(node_key(l, n), prefix, prefix_len))
            node_delete(l, n);
    }
}

size_t vtev__lru_count(const vtev__lru_t *l) {
    return l->cnt;
}

uint64_t vtev__lru_evictions(const vtev__lru_t *l) {
    return l->evictions;
}
