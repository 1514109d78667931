/*
 * registry_call.c - the one retry and failover loop of the Schema Registry
 * client, over any transport (registry_transport.h).
 *
 * A logical request is tried on the endpoint that answered last, then on the
 * others in order; a round that got no usable answer (no response, 429, 5xx)
 * is followed by a full-jitter exponential backoff and another round, up to
 * schema.registry.max.retries extra rounds. The whole call, backoffs
 * included, never takes longer than schema.registry.call.timeout.ms: each
 * exchange gets at most the time that is left, and the loop gives up when
 * none is left. That bounds how long a consumer's poll thread can be held.
 */
#include "metrics_int.h"
#include "registry_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* vtev_registry_requests_total{outcome}: each exchange with an endpoint. */
enum { RQ_OK, RQ_CLIENT_ERROR, RQ_UNAVAILABLE, RQ_TRANSPORT_ERROR, RQ__CNT };
static const char *const rq_names[RQ__CNT] = {"ok", "client_error", "unavailable",
                                              "transport_error"};
static _Atomic(vtev__series_t *) rq_series[RQ__CNT];

static void request_metric(int outcome) {
    vtev__series_t *s = atomic_load_explicit(&rq_series[outcome], memory_order_acquire);
    if (!s) { /* once per process (a race looks up twice, stores the same) */
        s = vtev__metric_series(VTEV__M_REGISTRY_REQUESTS, rq_names[outcome], NULL);
        atomic_store_explicit(&rq_series[outcome], s, memory_order_release);
    }
    vtev__counter_add(s, 1);
}

static void sleep_ms(int64_t ms) {
    struct timespec ts;
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

static vtev_err_t reg_call(vtev_registry_t *reg, const char *method, const char *path,
                           const char *body, vtev__reg_resp_t *resp, char *errstr,
                           size_t errstr_size) {
    vtev__transport_t *t = reg->tx;
    size_t n = t->nendpoints, k, start = atomic_load(&reg->preferred) % n;
    int64_t deadline_us = vtev__now_mono_us() + reg->call_timeout_ms * 1000;
    char why[384], last[640] = "";
    uint64_t sent = 0;
    bool last_tls = false, out_of_time = false;
    int round;
    memset(resp, 0, sizeof(*resp));
    for (round = 0; round <= reg->max_retries && !out_of_time; round++) {
        if (round > 0 && t->backoff) {
            int64_t ms = vtev__backoff_ms(round, reg->backoff_ms, reg->backoff_max_ms,
                                          VTEV__JITTER_FULL);
            if (vtev__now_mono_us() + ms * 1000 >= deadline_us) {
                out_of_time = true;
                break;
            }
            vtev__log(reg->conf, 7, "REGISTRY", "%s %s: retry %d in %lld ms (%s)", method, path,
                      round, (long long)ms, last);
            sleep_ms(ms);
        }
        for (k = 0; k < n; k++) {
            size_t idx = (start + k) % n;
            int64_t left_ms = (deadline_us - vtev__now_mono_us()) / 1000;
            uint64_t conns = 0;
            vtev__tx_rc_t rc;
            if (left_ms <= 0) {
                out_of_time = true;
                break;
            }
            atomic_fetch_add(&reg->requests, 1);
            if (sent++ > 0)
                atomic_fetch_add(&reg->retries, 1);
            why[0] = '\0';
            rc = t->ops->exchange(t, idx, method, path, body, left_ms, resp, &conns, why,
                                  sizeof(why));
            if (conns)
                atomic_fetch_add(&reg->connects, (uint_fast64_t)conns);
            if (rc != VTEV__TX_OK)
                request_metric(RQ_TRANSPORT_ERROR);
            else if (resp->status == 429 || resp->status >= 500)
                request_metric(RQ_UNAVAILABLE);
            else
                request_metric(resp->status >= 400 ? RQ_CLIENT_ERROR : RQ_OK);
            switch (rc) {
            case VTEV__TX_OK:
                if (resp->status == 429 || resp->status >= 500) {
                    char ex[256];
                    vtev__reg_body_excerpt(resp->body, ex, sizeof(ex));
                    snprintf(last, sizeof(last), "%s: HTTP %d: %s", t->names[idx], resp->status,
                             ex);
                    last_tls = false;
                    vtev__reg_resp_clear(resp);
                    continue;
                }
                atomic_store(&reg->preferred, idx);
                return VTEV_ERR_OK;
            case VTEV__TX_NOMEM:
                return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "%s %s: out of memory",
                                  method, path);
            case VTEV__TX_TLS:
                return vtev__fail(VTEV_ERR_REGISTRY_TLS, errstr, errstr_size,
                                  "%s %s: TLS with registry %s failed: %s", method, path,
                                  t->names[idx], why);
            case VTEV__TX_TLS_AGAIN:
            case VTEV__TX_AGAIN:
            default:
                snprintf(last, sizeof(last), "%s: %s", t->names[idx], why);
                last_tls = rc == VTEV__TX_TLS_AGAIN;
                break;
            }
        }
    }
    if (out_of_time)
        return vtev__fail(VTEV_ERR_REGISTRY_UNAVAILABLE, errstr, errstr_size,
                          "%s %s: registry %s gave no usable answer within "
                          "schema.registry.call.timeout.ms=%lld (%llu attempt(s) on %zu URL(s)); "
                          "last error: %s",
                          method, path, reg->url_desc, (long long)reg->call_timeout_ms,
                          (unsigned long long)sent, n, last[0] ? last : "none");
    if (last_tls)
        return vtev__fail(VTEV_ERR_REGISTRY_TLS, errstr, errstr_size,
                          "%s %s: TLS handshake failed after %llu attempt(s): %s", method, path,
                          (unsigned long long)sent, last);
    return vtev__fail(VTEV_ERR_REGISTRY_UNAVAILABLE, errstr, errstr_size,
                      "%s %s: registry %s unavailable after %llu attempt(s) on %zu URL(s) "
                      "(schema.registry.max.retries=%d); last error: %s",
                      method, path, reg->url_desc, (unsigned long long)sent, n, reg->max_retries,
                      last);
}

/* The outcome for health.h: an answer that is not the registry's trouble,
 * or no usable answer (also 401/403: the registry is there but refuses us). */
static void note_outcome(vtev_registry_t *reg, vtev_err_t err, const vtev__reg_resp_t *resp,
                         const char *method, const char *path, const char *errstr) {
    int64_t now = vtev__now_mono_us();
    bool refused = err == VTEV_ERR_OK && (resp->status == 401 || resp->status == 403);
    if (err != VTEV_ERR_OK && err != VTEV_ERR_REGISTRY_UNAVAILABLE &&
        err != VTEV_ERR_REGISTRY_TLS)
        return; /* out of memory: says nothing about the registry */
    pthread_mutex_lock(&reg->hlock);
    if (err == VTEV_ERR_OK && !refused) {
        reg->h_ok_us = now;
    } else {
        reg->h_fail_us = now;
        if (refused)
            snprintf(reg->h_fail, sizeof(reg->h_fail),
                     "%s %s: registry %s answered HTTP %d (check basic.auth.user.info or "
                     "bearer.auth.token)",
                     method, path, reg->url_desc, resp->status);
        else
            vtev__seterr(reg->h_fail, sizeof(reg->h_fail), "%s", errstr ? errstr : "unavailable");
    }
    pthread_mutex_unlock(&reg->hlock);
}

vtev_err_t vtev__reg_call(vtev_registry_t *reg, const char *method, const char *path,
                          const char *body, vtev__reg_resp_t *resp, char *errstr,
                          size_t errstr_size) {
    char e[640];
    vtev_err_t err = reg_call(reg, method, path, body, resp, e, sizeof(e));
    note_outcome(reg, err, resp, method, path, e);
    if (err != VTEV_ERR_OK)
        vtev__seterr(errstr, errstr_size, "%s", e);
    return err;
}

bool vtev__reg_reachable(vtev_registry_t *reg, char *why, size_t why_size) {
    bool ok;
    pthread_mutex_lock(&reg->hlock);
    ok = reg->h_fail_us == 0 || reg->h_ok_us > reg->h_fail_us;
    if (!ok)
        snprintf(why, why_size, "%s", reg->h_fail);
    pthread_mutex_unlock(&reg->hlock);
    return ok;
}
