/*
 * registry_transport.h - the transport interface of the Schema Registry
 * client: one exchange (method, path, body) with one endpoint, answered by an
 * HTTP status and a body, or by the reason no answer came.
 *
 * Two implementations: libcurl for http(s):// URLs (registry_http.c) and the
 * in-process mock://NAME registries (registry_mock.c). Retries, backoff,
 * failover across endpoints and the time bound of a call live above them,
 * once, in registry_call.c. A transport never sees vtev_registry_t.
 * Never installed.
 */
#ifndef VTEV_REGISTRY_TRANSPORT_H
#define VTEV_REGISTRY_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vtevents/conf.h>
#include <vtevents/error.h>

#include "internal.h"

/** A response: HTTP status and body (malloc'd, NUL-terminated, may be NULL). */
typedef struct vtev__reg_resp_s {
    int status;
    char *body;
    size_t len;
} vtev__reg_resp_t;

void vtev__reg_resp_clear(vtev__reg_resp_t *resp);

/** What one exchange gave. */
typedef enum vtev__tx_rc_e {
    VTEV__TX_OK = 0,    /**< a response arrived (any HTTP status) */
    VTEV__TX_AGAIN,     /**< no response (refused, reset, timed out, DNS): try again,
                         *   on this or another endpoint */
    VTEV__TX_TLS_AGAIN, /**< the TLS handshake broke off, as a server going down does:
                         *   tried again, reported as a TLS error if it persists */
    VTEV__TX_TLS,       /**< TLS set-up or verification failed: final for the call */
    VTEV__TX_NOMEM      /**< out of memory */
} vtev__tx_rc_t;

typedef struct vtev__transport_s vtev__transport_t;

typedef struct vtev__transport_ops_s {
    /** One exchange with endpoint idx (< nendpoints) taking at most
     *  timeout_ms (> 0). Fills resp on VTEV__TX_OK; otherwise writes the reason
     *  (without the endpoint's name) into why. Adds the connections it opened
     *  to *connectsp. Thread-safe. */
    vtev__tx_rc_t (*exchange)(vtev__transport_t *t, size_t idx, const char *method,
                              const char *path, const char *body, int64_t timeout_ms,
                              vtev__reg_resp_t *resp, uint64_t *connectsp, char *why,
                              size_t why_size);
    void (*destroy)(vtev__transport_t *t);
} vtev__transport_ops_t;

/** The common head of every transport. */
struct vtev__transport_s {
    const vtev__transport_ops_t *ops;
    size_t nendpoints;           /**< >= 1 */
    const char *const *names;    /**< endpoint names for messages (URLs, mock://NAME) */
    bool backoff;                /**< false: retries are not slept (mock://) */
};

static inline void vtev__transport_destroy(vtev__transport_t *t) {
    if (t)
        t->ops->destroy(t);
}

/** libcurl transport for the comma-separated http(s):// URLs, with the
 *  authentication, TLS and timeout keys of conf (copied). NULL with errstr
 *  naming the key on failure. */
vtev__transport_t *vtev__http_transport_new(const vtev_conf_t *conf, const char *urls,
                                            char *errstr, size_t errstr_size);

/* ---- mock:// (registry_mock.c) ---- */

typedef struct vtev__mock_reg_s vtev__mock_reg_t;

/** Transport to the process-wide mock registry NAME. NULL on ENOMEM. */
vtev__transport_t *vtev__mock_transport_new(const char *name);
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
/** Like vtev__mock_registry_inject() with body as the answer, byte for byte
 *  (e.g. a proxy's HTML page); NULL: an empty body. */
void vtev__mock_registry_inject_raw(const char *name, int cnt, int status, const char *body);

/* ---- text helpers shared by the client and the mock (registry_text.c) ---- */

/** Canonical form of a schema for comparisons: compact JSON with sorted keys.
 *  Malloc'd; when the text is not JSON, a copy of it. NULL on ENOMEM. */
char *vtev__schema_canonical(const char *schema_json);
/** Copies the text of an HTML <title> (or the start of the body, at most 200
 *  bytes, line breaks as spaces) into out. */
void vtev__reg_body_excerpt(const char *body, char *out, size_t out_size);

#endif
