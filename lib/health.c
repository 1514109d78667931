/*
 * health.c - health reports: the checks the handles share (brokers from
 * librdkafka's statistics, the registry's last answer), the process-wide
 * list of handles, and the JSON form.  The handle-specific checks are in
 * consumer.c and producer.c (vtev_consumer_health, vtev_producer_health).
 *
 * Global state: the list of live producers and consumers, guarded by
 * `track_lock` (documented in health.h: vtev_health_process()).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <vtevents/health.h>

#include "health_int.h"
#include "internal.h"
#include "metrics_int.h"
#include "registry_int.h"

void vtev__brokers_init(vtev__brokers_t *b, bool metrics) {
    atomic_init(&b->known, -1);
    atomic_init(&b->up, 0);
    b->metrics = metrics;
    b->last_tx = b->last_rx = 0;
}

/* A total of the handle (monotonic in librdkafka) into a counter shared by
 * every handle of the client id: the growth since the last statistics. */
static void add_delta(vtev__metric_t m, const char *client, json_t *v, int64_t *last) {
    int64_t now = json_integer_value(v);
    if (!json_is_integer(v) || now < *last)
        return;
    if (now > *last)
        vtev__counter_add(vtev__metric_series(m, client, NULL), (uint64_t)(now - *last));
    *last = now;
}

void vtev__brokers_from_stats(vtev__brokers_t *b, const char *text, size_t len) {
    json_t *root = json_loadb(text, len, 0, NULL), *brokers, *br;
    const char *name, *handle, *client;
    int known = 0, up = 0;
    if (!root)
        return;
    handle = json_string_value(json_object_get(root, "name"));
    client = json_string_value(json_object_get(root, "client_id"));
    brokers = json_object_get(root, "brokers");
    json_object_foreach(brokers, name, br) {
        const char *state = json_string_value(json_object_get(br, "state"));
        const char *source = json_string_value(json_object_get(br, "source"));
        /* bootstrap entries have node id -1; the coordinator's is a
         * "logical" broker (a second connection to a real one) */
        if (json_integer_value(json_object_get(br, "nodeid")) < 0 ||
            (source && (!strcmp(source, "logical") || !strcmp(source, "internal"))))
            continue;
        known++;
        if (state && !strcmp(state, "UP"))
            up++;
        if (b->metrics && handle) {
            json_t *rtt = json_object_get(json_object_get(br, "rtt"), "avg");
            if (json_is_integer(rtt) && json_integer_value(rtt) > 0)
                vtev__gauge_set(vtev__metric_series(VTEV__M_KAFKA_RTT, handle, name),
                                (double)json_integer_value(rtt) / 1e6);
        }
    }
    atomic_store(&b->up, up);
    atomic_store(&b->known, known);
    if (b->metrics && handle && client) {
        json_t *q = json_object_get(root, "msg_cnt");
        add_delta(VTEV__M_KAFKA_TX_BYTES, client, json_object_get(root, "tx_bytes"), &b->last_tx);
        add_delta(VTEV__M_KAFKA_RX_BYTES, client, json_object_get(root, "rx_bytes"), &b->last_rx);
        if (json_is_integer(q))
            vtev__gauge_set(vtev__metric_series(VTEV__M_KAFKA_QUEUE, handle, NULL),
                            (double)json_integer_value(q));
    }
    json_decref(root);
}

vtev_err_t vtev__health_stats_interval(const vtev_conf_t *conf, rd_kafka_conf_t *rkc,
                                       char *errstr, size_t errstr_size) {
    char num[32], rkerr[256];
    if (vtev__conf_is_set(conf, "kafka.statistics.interval.ms"))
        return VTEV_ERR_OK;
    snprintf(num, sizeof(num), "%lld", (long long)vtev__conf_int(conf, "health.stats.interval.ms"));
    if (rd_kafka_conf_set(rkc, "statistics.interval.ms", num, rkerr, sizeof(rkerr)) !=
        RD_KAFKA_CONF_OK)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "health.stats.interval.ms: %s", rkerr);
    return VTEV_ERR_OK;
}

void vtev__health_add(vtev_health_t *h, const char *check, const char *handle, bool liveness,
                      const char *fmt, ...) {
    va_list ap;
    if (liveness)
        h->live = false;
    h->ready = false;
    if (h->reason_cnt < VTEV_HEALTH_REASONS_MAX) {
        vtev_health_reason_t *r = &h->reasons[h->reason_cnt];
        snprintf(r->check, sizeof(r->check), "%s", check);
        snprintf(r->handle, sizeof(r->handle), "%s", handle);
        r->liveness = liveness;
        va_start(ap, fmt);
        vsnprintf(r->text, sizeof(r->text), fmt, ap);
        va_end(ap);
    }
    h->reason_cnt++;
}

void vtev__health_brokers(const vtev__brokers_t *b, vtev_health_t *h, const char *handle) {
    int known = atomic_load(&b->known), up = atomic_load(&b->up);
    if (known < 0)
        vtev__health_add(h, "brokers", handle, false,
                         "not connected yet (no statistics from librdkafka so far; "
                         "health.stats.interval.ms)");
    else if (up == 0)
        vtev__health_add(h, "brokers", handle, false,
                         "no connection to any broker (%d known, 0 up)", known);
}

void vtev__health_registry(struct vtev_registry_s *reg, vtev_health_t *h, const char *handle) {
    char why[256];
    if (reg && !vtev__reg_reachable(reg, why, sizeof(why)))
        vtev__health_add(h, "registry", handle, false, "%s", why);
}

/* ---- the process ---- */

static pthread_mutex_t track_lock = PTHREAD_MUTEX_INITIALIZER;
static vtev_consumer_t **t_cons;
static size_t t_ncons, t_capcons;
static vtev_producer_t **t_prods;
static size_t t_nprods, t_capprods;

/* Adds or removes x; an allocation failure leaves the handle out of the
 * process report (logged by nobody: the report then has one handle less). */
static void track(void ***arr, size_t *n, size_t *cap, void *x, bool add) {
    size_t i;
    pthread_mutex_lock(&track_lock);
    if (add) {
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 8;
            void **na = realloc(*arr, nc * sizeof(*na));
            if (na) {
                *arr = na;
                *cap = nc;
            }
        }
        if (*n < *cap)
            (*arr)[(*n)++] = x;
    } else {
        for (i = 0; i < *n; i++) {
            if ((*arr)[i] == x) {
                (*arr)[i] = (*arr)[--*n];
                break;
            }
        }
        if (*n == 0) {
            free(*arr);
            *arr = NULL;
            *cap = 0;
        }
    }
    pthread_mutex_unlock(&track_lock);
}

void vtev__health_track_consumer(vtev_consumer_t *c, bool add) {
    track((void ***)&t_cons, &t_ncons, &t_capcons, c, add);
}

void vtev__health_track_producer(vtev_producer_t *p, bool add) {
    track((void ***)&t_prods, &t_nprods, &t_capprods, p, add);
}

static void merge(vtev_health_t *into, const vtev_health_t *h) {
    size_t i;
    into->live &= h->live;
    into->ready &= h->ready;
    into->handles += h->handles;
    for (i = 0; i < h->reason_cnt && i < VTEV_HEALTH_REASONS_MAX; i++)
        if (into->reason_cnt < VTEV_HEALTH_REASONS_MAX)
            into->reasons[into->reason_cnt++] = h->reasons[i];
        else
            into->reason_cnt++;
    if (h->reason_cnt > VTEV_HEALTH_REASONS_MAX)
        into->reason_cnt += h->reason_cnt - VTEV_HEALTH_REASONS_MAX;
}

vtev_err_t vtev_health_process(vtev_health_t *out) {
    vtev_health_t *h;
    size_t i;
    if (!out)
        return VTEV_ERR_INVALID_ARG;
    memset(out, 0, sizeof(*out));
    out->live = out->ready = true;
    if (!(h = malloc(sizeof(*h))))
        return VTEV_ERR_NOMEM;
    pthread_mutex_lock(&track_lock); /* destroy waits for it: the handles stay valid */
    for (i = 0; i < t_ncons; i++)
        if (vtev_consumer_health(t_cons[i], h) == VTEV_ERR_OK)
            merge(out, h);
    for (i = 0; i < t_nprods; i++)
        if (vtev_producer_health(t_prods[i], h) == VTEV_ERR_OK)
            merge(out, h);
    pthread_mutex_unlock(&track_lock);
    free(h);
    return VTEV_ERR_OK;
}

vtev_err_t vtev_health_json(const vtev_health_t *h, char **jsonp, size_t *lenp) {
    json_t *o, *arr;
    char *s;
    size_t i;
    if (!h || !jsonp)
        return VTEV_ERR_INVALID_ARG;
    *jsonp = NULL;
    if (!(o = json_object()) || !(arr = json_array())) {
        json_decref(o);
        return VTEV_ERR_NOMEM;
    }
    json_object_set_new(o, "live", json_boolean(h->live));
    json_object_set_new(o, "ready", json_boolean(h->ready));
    json_object_set_new(o, "handles", json_integer((json_int_t)h->handles));
    for (i = 0; i < h->reason_cnt && i < VTEV_HEALTH_REASONS_MAX; i++) {
        const vtev_health_reason_t *r = &h->reasons[i];
        json_t *e = json_pack("{s:s, s:s, s:s, s:b}", "check", r->check, "handle", r->handle,
                              "reason", r->text, "liveness", (int)r->liveness);
        if (!e || json_array_append_new(arr, e)) {
            json_decref(arr);
            json_decref(o);
            return VTEV_ERR_NOMEM;
        }
    }
    if (h->reason_cnt > VTEV_HEALTH_REASONS_MAX)
        json_object_set_new(o, "more_reasons",
                            json_integer((json_int_t)(h->reason_cnt - VTEV_HEALTH_REASONS_MAX)));
    json_object_set_new(o, "reasons", arr);
    s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!s)
        return VTEV_ERR_NOMEM;
    /* jansson's allocator is the library's malloc: vtev_free() frees it */
    *jsonp = s;
    if (lenp)
        *lenp = strlen(s);
    return VTEV_ERR_OK;
}
