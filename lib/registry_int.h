/*
 * registry_int.h - internals of the Schema Registry client: the handle, the
 * call loop over a transport (registry_transport.h), and the caches.
 * Never installed.
 */
#ifndef VTEV_REGISTRY_INT_H
#define VTEV_REGISTRY_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vtevents/registry.h>

#include "conf_int.h"
#include "registry_transport.h"

/* ---- bounded LRU cache with optional TTL, thread-safe (registry_cache.c:
 * the library's LRU map, lru.h, behind a mutex) ---- */

typedef struct vtev__cache_s vtev__cache_t;

/** A cache of at most capacity entries (>= 1); ttl_us > 0 expires entries
 *  that many microseconds after they were stored (0 = never). NULL on ENOMEM. */
vtev__cache_t *vtev__cache_new(size_t capacity, int64_t ttl_us);
void vtev__cache_destroy(vtev__cache_t *c);
/** 1 on a hit (fills idp/versionp/strp when non-NULL; *strp is a malloc'd
 *  copy or NULL when the entry has no string), 0 on a miss or expired entry,
 *  -1 when out of memory. A hit makes the entry most recently used. */
int vtev__cache_get(vtev__cache_t *c, const char *key, int32_t *idp, int *versionp,
                    char **strp);
/** Inserts or replaces key; evicts the least recently used entry when full.
 *  0 or -1 (ENOMEM). str may be NULL. */
int vtev__cache_put(vtev__cache_t *c, const char *key, int32_t id, int version,
                    const char *str);
void vtev__cache_remove(vtev__cache_t *c, const char *key);
/** Removes every entry whose key starts with prefix. */
void vtev__cache_remove_prefix(vtev__cache_t *c, const char *prefix);
void vtev__cache_clear(vtev__cache_t *c);
size_t vtev__cache_count(vtev__cache_t *c);
uint64_t vtev__cache_evictions(vtev__cache_t *c);

/* ---- the handle ---- */

struct vtev_registry_s {
    vtev_conf_t *conf;
    vtev__transport_t *tx;  /* HTTP or mock:// */
    char *url_desc;         /* for messages: the URL list or mock://NAME */
    vtev__cache_t *ids;     /* "id" -> schema */
    vtev__cache_t *subj;    /* "subject\n" canonical schema -> id, version */
    vtev__cache_t *vers;    /* "subject\n" version -> id, version, schema */
    vtev__cache_t *latest;  /* "subject\n" -> id, version, schema (TTL) */
    vtev__cache_t *missing; /* "subject\n" raw schema -> error of a lookup that found
                             * nothing (TTL schema.registry.missing.schema.cache.ttl.sec) */
    bool missing_ttl;       /* false: TTL 0, misses are not cached */
    int strategy;           /* 0 topic, 1 record, 2 topic-record */
    bool auto_register;
    bool use_latest;
    /* retry policy of one call (registry_call.c) */
    int max_retries;
    int64_t backoff_ms, backoff_max_ms;
    int64_t call_timeout_ms;
    atomic_size_t preferred; /* endpoint that last answered */
    atomic_uint_fast64_t requests, hits, misses, retries;
    atomic_uint_fast64_t connects; /* new TCP connections opened (HTTP only) */
    /* the last outcome of a call, for health.h (registry_call.c) */
    pthread_mutex_t hlock;
    int64_t h_ok_us, h_fail_us; /* monotonic; 0: never */
    char h_fail[256];
};

/* ---- one logical request (registry_call.c) ---- */

/** Whether the registry gave a usable answer to its last call (true before
 *  any call); when not, why names the URL and the error. */
bool vtev__reg_reachable(vtev_registry_t *reg, char *why, size_t why_size);

/** Performs one logical request through the handle's transport: retries on
 *  no answer, 429 and 5xx with full-jitter exponential backoff, fails over
 *  across the endpoints, and gives up once schema.registry.call.timeout.ms
 *  has passed. VTEV_ERR_OK when a response that is not retriable was received
 *  (any status, e.g. 404: the caller maps it); otherwise
 *  VTEV_ERR_REGISTRY_UNAVAILABLE / _TLS / _NOMEM with errstr set. */
vtev_err_t vtev__reg_call(vtev_registry_t *reg, const char *method, const char *path,
                          const char *body, vtev__reg_resp_t *resp, char *errstr,
                          size_t errstr_size);

#endif
