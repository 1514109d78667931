/*
 * registry_int.h - internals of the Schema Registry client: the handle, the
 * transports (libcurl HTTP and the in-process mock://), and the caches.
 * Never installed.
 */
#ifndef VTEV_REGISTRY_INT_H
#define VTEV_REGISTRY_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vtevents/registry.h>

#include "conf_int.h"

/* ---- bounded LRU cache with optional TTL (registry_cache.c) ---- */

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

/* ---- transport ---- */

/** A response: HTTP status and body (malloc'd, NUL-terminated, may be NULL). */
typedef struct vtev__reg_resp_s {
    int status;
    char *body;
    size_t len;
} vtev__reg_resp_t;

void vtev__reg_resp_clear(vtev__reg_resp_t *resp);

typedef struct vtev__http_s vtev__http_t;
typedef struct vtev__mock_reg_s vtev__mock_reg_t;

struct vtev_registry_s {
    vtev_conf_t *conf;
    vtev__mock_reg_t *mock; /* mock://NAME (borrowed, process-wide) or NULL */
    vtev__http_t *http;     /* otherwise */
    char *url_desc;         /* for messages: the URL list or mock://NAME */
    vtev__cache_t *ids;     /* "id" -> schema */
    vtev__cache_t *subj;    /* "subject\n" canonical schema -> id, version */
    vtev__cache_t *vers;    /* "subject\n" version -> id, version, schema */
    vtev__cache_t *latest;  /* "subject\n" -> id, version, schema (TTL) */
    int strategy;           /* 0 topic, 1 record, 2 topic-record */
    bool auto_register;
    bool use_latest;
    atomic_uint_fast64_t requests, hits, misses, retries;
    atomic_uint_fast64_t connects; /* new TCP connections opened (HTTP only) */
};

/** Performs one logical request (retries and failover included) through the
 *  handle's transport. VTEV_ERR_OK when a response that is not retriable was
 *  received (any status, e.g. 404: the caller maps it); otherwise
 *  VTEV_ERR_REGISTRY_UNAVAILABLE / _TLS / _NOMEM with errstr set. */
vtev_err_t vtev__reg_transport(vtev_registry_t *reg, const char *method, const char *path,
                               const char *body, vtev__reg_resp_t *resp, char *errstr,
                               size_t errstr_size);

/* HTTP transport (registry_http.c). */
vtev__http_t *vtev__http_new(const vtev_conf_t *conf, const char *urls, char *errstr,
                             size_t errstr_size);
void vtev__http_destroy(vtev__http_t *h);
vtev_err_t vtev__http_request(vtev_registry_t *reg, const char *method, const char *path,
                              const char *body, vtev__reg_resp_t *resp, char *errstr,
                              size_t errstr_size);
/** Full-jitter exponential backoff for retry number attempt (1-based), ms. */
int64_t vtev__backoff_ms(int attempt, int64_t base_ms, int64_t max_ms);

/* mock:// transport (registry_mock.c). */
/** The process-wide mock registry NAME, created on first use; lives until the
 *  process exits. NULL when out of memory. */
vtev__mock_reg_t *vtev__mock_registry_get(const char *name);
/** Answers one Confluent REST request like a registry would (status + JSON
 *  body). Returns VTEV_ERR_OK, or VTEV_ERR_NOMEM. */
vtev_err_t vtev__mock_registry_request(vtev__mock_reg_t *m, const char *method,
                                       const char *path, const char *body,
                                       vtev__reg_resp_t *resp);
/** Fault injection for tests: the next cnt requests to mock registry NAME
 *  answer HTTP status (e.g. 503 or 429) with a JSON error body. */
void vtev__mock_registry_inject(const char *name, int cnt, int status);

/* ---- helpers (registry.c) ---- */

/** Canonical form of a schema for comparisons: compact JSON with sorted keys.
 *  Malloc'd; when the text is not JSON, a copy of it. NULL on ENOMEM. */
char *vtev__schema_canonical(const char *schema_json);
/** Percent-encodes s for a URL path segment. Malloc'd or NULL. */
char *vtev__url_escape(const char *s);
/** Decodes percent-encoding in place. */
void vtev__url_unescape(char *s);

#endif
