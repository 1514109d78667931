/*
 * lru.h - the library's one bounded least-recently-used map: byte-string
 * keys, fixed-size values stored in the entry. Never installed.
 *
 * Used by the registry client's caches (registry_cache.c, which adds a lock
 * and a TTL), the serde's writer-schema and schema-id caches (serde.c) and
 * the per-thread resolver cache of the generic Avro path (serde_avro.c).
 *
 * Not thread-safe: the owner locks it, or keeps it to one thread.
 */
#ifndef VTEV_LRU_H
#define VTEV_LRU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct vtev__lru_s vtev__lru_t;

/** Frees what a value owns (not the value's own bytes, which the map keeps). */
typedef void(vtev__lru_free_cb_t)(void *value);

/** A map of at most capacity entries (0 is taken as 1) whose values are
 *  value_size bytes; free_value (may be NULL) is called on a value when its
 *  entry is evicted, replaced, removed or cleared. NULL when out of memory. */
vtev__lru_t *vtev__lru_new(size_t capacity, size_t value_size, vtev__lru_free_cb_t *free_value);

/** Frees every entry (free_value on each value) and the map. NULL is ignored. */
void vtev__lru_destroy(vtev__lru_t *l);

/** The value stored for key, which becomes the most recently used entry, or
 *  NULL. The pointer is valid until the entry is evicted, replaced, removed
 *  or cleared (any put may evict the least recently used entry). */
void *vtev__lru_get(vtev__lru_t *l, const void *key, size_t key_len);

/** Stores value_size bytes from value under key as the most recently used
 *  entry. A key already present has its old value freed (free_value) and
 *  replaced; a new key evicts the least recently used entry when the map is
 *  full. Returns the stored value, or NULL when out of memory, in which case
 *  nothing changed and what value refers to still belongs to the caller. */
void *vtev__lru_put(vtev__lru_t *l, const void *key, size_t key_len, const void *value);

/** Removes key (free_value on its value). True when it was there. */
bool vtev__lru_remove(vtev__lru_t *l, const void *key, size_t key_len);

/** Removes every entry whose key starts with the prefix_len bytes of prefix. */
void vtev__lru_remove_prefix(vtev__lru_t *l, const void *prefix, size_t prefix_len);

/** Removes every entry. */
void vtev__lru_clear(vtev__lru_t *l);

/** Number of entries. */
size_t vtev__lru_count(const vtev__lru_t *l);

/** Entries evicted because the map was full (not removed or replaced ones). */
uint64_t vtev__lru_evictions(const vtev__lru_t *l);

#endif
