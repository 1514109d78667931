/*
 * metrics.c - the process-wide metric store and its Prometheus text
 * exposition (format 0.0.4).
 *
 * Written by hand: Debian packages no Prometheus client library for C, and
 * the text format is small.  Global state, documented in <vtevents/metrics.h>:
 * one mutex guards the creation of series and the topic tables; values are
 * atomics, so the counting paths take no lock.  Series and the topic tables
 * are never freed (their number is bounded by the topics, partitions and
 * error names a process meets); memory still held at exit is reachable
 * through the static lists.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vtevents/metrics.h>

#include "internal.h"
#include "metrics_int.h"

typedef enum { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM } kind_t;

typedef struct {
    const char *name;
    const char *help;
    kind_t kind;
    int nlabels;
    const char *labels[2];
} family_t;

static const family_t families[VTEV__M__CNT] = {
    [VTEV__M_PRODUCER_MESSAGES] = {"vtev_producer_messages_total",
                                   "Messages of the library's producers by outcome: queued "
                                   "(accepted by the local queue), delivered, failed (delivery "
                                   "report with an error).",
                                   KIND_COUNTER, 2, {"topic", "outcome"}},
    [VTEV__M_PRODUCER_DELIVERY] = {"vtev_producer_delivery_seconds",
                                   "Time from a publish call to its delivery report, delivered "
                                   "or failed.",
                                   KIND_HISTOGRAM, 1, {"topic", NULL}},
    [VTEV__M_CONSUMER_MESSAGES] = {"vtev_consumer_messages_total",
                                   "Messages handled by the library's consumers by outcome: ok, "
                                   "retry (to be redelivered), reject (by the handler), "
                                   "dead_letter (written to the dead-letter topic).",
                                   KIND_COUNTER, 2, {"topic", "outcome"}},
    [VTEV__M_CONSUMER_HANDLER] = {"vtev_consumer_handler_seconds",
                                  "Time spent in the application's handler per message.",
                                  KIND_HISTOGRAM, 1, {"topic", NULL}},
    [VTEV__M_CONSUMER_LAG] = {"vtev_consumer_lag_messages",
                              "Messages behind the partition's high watermark (last known) "
                              "after the message last handled.",
                              KIND_GAUGE, 2, {"topic", "partition"}},
    [VTEV__M_EVENT_AGE] = {"vtev_event_age_seconds",
                           "Age of an event when it is handled: now minus the event's "
                           "timestamp (the envelope's, else the Kafka message's).",
                           KIND_HISTOGRAM, 1, {"topic", NULL}},
    [VTEV__M_DEAD_LETTERS] = {"vtev_dead_letters_total",
                              "Messages written to a dead-letter topic, by source topic and "
                              "reason (the error's name).",
                              KIND_COUNTER, 2, {"topic", "reason"}},
    [VTEV__M_REGISTRY_REQUESTS] = {"vtev_registry_requests_total",
                                   "Schema Registry requests (each attempt) by outcome: ok "
                                   "(2xx/3xx), client_error (4xx but 429), unavailable (429, "
                                   "5xx), transport_error (no answer: connection, timeout, TLS).",
                                   KIND_COUNTER, 1, {"outcome", NULL}},
    [VTEV__M_REGISTRY_CACHE] = {"vtev_registry_cache_total",
                                "Lookups in the registry client's caches by cache and result "
                                "(hit, miss).",
                                KIND_COUNTER, 2, {"cache", "result"}},
    [VTEV__M_KAFKA_TX_BYTES] = {"vtev_kafka_tx_bytes_total",
                                "Bytes sent to the brokers by the library's librdkafka handles "
                                "(their statistics), by client.id.",
                                KIND_COUNTER, 1, {"client", NULL}},
    [VTEV__M_KAFKA_RX_BYTES] = {"vtev_kafka_rx_bytes_total",
                                "Bytes received from the brokers by the library's librdkafka "
                                "handles (their statistics), by client.id.",
                                KIND_COUNTER, 1, {"client", NULL}},
    [VTEV__M_KAFKA_QUEUE] = {"vtev_kafka_queue_messages",
                             "Messages in a librdkafka handle's queues (a producer's: waiting "
                             "to be sent or acknowledged), by handle (librdkafka's name).",
                             KIND_GAUGE, 1, {"handle", NULL}},
    [VTEV__M_KAFKA_RTT] = {"vtev_kafka_broker_rtt_seconds",
                           "Average round-trip time of requests to a broker over the last "
                           "statistics interval, by handle and broker.",
                           KIND_GAUGE, 2, {"handle", "broker"}},
};

/* Histogram bounds in microseconds, and the same as the text of `le`. */
static const int64_t bounds_us[] = {1000,    2500,    5000,     10000,    25000,    50000,
                                    100000,  250000,  500000,   1000000,  2500000,  5000000,
                                    10000000, 30000000, 60000000, 120000000, 300000000};
static const char *const bounds_txt[] = {"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
                                         "0.1",   "0.25",   "0.5",   "1",    "2.5",   "5",
                                         "10",    "30",     "60",    "120",  "300"};
#define NBOUNDS ((int)VTEV_ARRAY_SIZE(bounds_us))
#define NBUCKETS (NBOUNDS + 1) /* + Inf */

struct vtev__series_s {
    vtev__metric_t family;
    const char *values[2]; /* heap copies, or literals for the fixed series */
    struct vtev__series_s *next; /* of the family, in creation order */
    _Atomic uint64_t counter;    /* counter value, or the gauge's double bits */
    _Atomic uint64_t buckets[NBUCKETS]; /* histogram: not cumulative */
    _Atomic uint64_t sum_us;
};

typedef struct ptopic_node_s {
    vtev__ptopic_met_t met;
    struct ptopic_node_s *next;
} ptopic_node_t;

typedef struct ctopic_node_s {
    vtev__ctopic_met_t met;
    struct ctopic_node_s *next;
} ctopic_node_t;

static pthread_mutex_t store_lock = PTHREAD_MUTEX_INITIALIZER;
static vtev__series_t *heads[VTEV__M__CNT], *tails[VTEV__M__CNT];
static ptopic_node_t *ptopics;
static ctopic_node_t *ctopics;

/* The series whose labels are known in advance (the registry's) live in
 * static storage and are in the store from its first use: counting them
 * never allocates, so a registry call that fails for want of memory does
 * not leave new blocks behind (tests/test_alloc.c checks that), and they are
 * written (at 0) before anything happened. */
static const char *const fixed_requests[] = {"ok", "client_error", "unavailable",
                                             "transport_error"};
static const char *const fixed_caches[] = {"subject", "schema_id", "version", "latest",
                                           "missing"};
#define NFIXED_REQ VTEV_ARRAY_SIZE(fixed_requests)
#define NFIXED_CACHE (VTEV_ARRAY_SIZE(fixed_caches) * 2)
static vtev__series_t fixed[NFIXED_REQ + NFIXED_CACHE];
static bool fixed_linked; /* guarded by store_lock */

static void link_series(vtev__series_t *s) {
    if (tails[s->family])
        tails[s->family]->next = s;
    else
        heads[s->family] = s;
    tails[s->family] = s;
}

/* Caller holds store_lock. */
static void link_fixed(void) {
    size_t i, k = 0;
    if (fixed_linked)
        return;
    fixed_linked = true;
    for (i = 0; i < NFIXED_REQ; i++, k++) {
        fixed[k].family = VTEV__M_REGISTRY_REQUESTS;
        fixed[k].values[0] = fixed_requests[i];
        link_series(&fixed[k]);
    }
    for (i = 0; i < NFIXED_CACHE; i++, k++) {
        fixed[k].family = VTEV__M_REGISTRY_CACHE;
        fixed[k].values[0] = fixed_caches[i / 2];
        fixed[k].values[1] = i % 2 ? "miss" : "hit";
        link_series(&fixed[k]);
    }
}

static bool label_eq(const char *a, const char *b) {
    return !strcmp(a ? a : "", b ? b : "");
}

/* Caller holds store_lock. */
static vtev__series_t *series_locked(vtev__metric_t m, const char *v1, const char *v2) {
    const family_t *f;
    vtev__series_t *s;
    const char *v[2];
    int i;
    if ((int)m < 0 || m >= VTEV__M__CNT)
        return NULL;
    link_fixed();
    f = &families[m];
    v[0] = v1;
    v[1] = f->nlabels > 1 ? v2 : NULL;
    for (s = heads[m]; s; s = s->next)
        if (label_eq(s->values[0], v[0]) && label_eq(s->values[1], v[1]))
            return s;
    if (!(s = calloc(1, sizeof(*s))))
        return NULL;
    s->family = m;
    for (i = 0; i < f->nlabels; i++) {
        if (!(s->values[i] = vtev__strdup(v[i] ? v[i] : ""))) {
            free((void *)(uintptr_t)s->values[0]);
            free(s);
            return NULL;
        }
    }
    link_series(s);
    return s;
}

vtev__series_t *vtev__metric_series(vtev__metric_t m, const char *v1, const char *v2) {
    vtev__series_t *s;
    pthread_mutex_lock(&store_lock);
    s = series_locked(m, v1, v2);
    pthread_mutex_unlock(&store_lock);
    return s;
}

void vtev__counter_add(vtev__series_t *s, uint64_t n) {
    if (s)
        atomic_fetch_add_explicit(&s->counter, n, memory_order_relaxed);
}

void vtev__gauge_set(vtev__series_t *s, double v) {
    uint64_t bits;
    if (!s)
        return;
    memcpy(&bits, &v, sizeof(bits));
    atomic_store_explicit(&s->counter, bits, memory_order_relaxed);
}

void vtev__hist_observe_us(vtev__series_t *s, int64_t us) {
    int lo = 0, hi = NBOUNDS; /* the first bound >= us, NBOUNDS for +Inf */
    if (!s)
        return;
    if (us < 0)
        us = 0;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (bounds_us[mid] >= us)
            hi = mid;
        else
            lo = mid + 1;
    }
    atomic_fetch_add_explicit(&s->buckets[lo], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->sum_us, (uint64_t)us, memory_order_relaxed);
}

vtev__ptopic_met_t *vtev__ptopic_met(const char *topic) {
    ptopic_node_t *n;
    vtev__ptopic_met_t *m = NULL;
    if (!topic)
        return NULL;
    pthread_mutex_lock(&store_lock);
    for (n = ptopics; n; n = n->next)
        if (!strcmp(n->met.topic, topic)) {
            m = &n->met;
            goto out;
        }
    if (!(n = calloc(1, sizeof(*n))))
        goto out;
    if (!(n->met.topic = vtev__strdup(topic))) {
        free(n);
        goto out;
    }
    /* a series that cannot be allocated stays NULL: its updates are lost */
    n->met.queued = series_locked(VTEV__M_PRODUCER_MESSAGES, topic, "queued");
    n->met.delivered = series_locked(VTEV__M_PRODUCER_MESSAGES, topic, "delivered");
    n->met.failed = series_locked(VTEV__M_PRODUCER_MESSAGES, topic, "failed");
    n->met.delivery = series_locked(VTEV__M_PRODUCER_DELIVERY, topic, NULL);
    n->next = ptopics;
    ptopics = n;
    m = &n->met;
out:
    pthread_mutex_unlock(&store_lock);
    return m;
}

vtev__ctopic_met_t *vtev__ctopic_met(const char *topic) {
    ctopic_node_t *n;
    vtev__ctopic_met_t *m = NULL;
    if (!topic)
        return NULL;
    pthread_mutex_lock(&store_lock);
    for (n = ctopics; n; n = n->next)
        if (!strcmp(n->met.topic, topic)) {
            m = &n->met;
            goto out;
        }
    if (!(n = calloc(1, sizeof(*n))))
        goto out;
    if (!(n->met.topic = vtev__strdup(topic))) {
        free(n);
        goto out;
    }
    n->met.ok = series_locked(VTEV__M_CONSUMER_MESSAGES, topic, "ok");
    n->met.retry = series_locked(VTEV__M_CONSUMER_MESSAGES, topic, "retry");
    n->met.reject = series_locked(VTEV__M_CONSUMER_MESSAGES, topic, "reject");
    n->met.dead_letter = series_locked(VTEV__M_CONSUMER_MESSAGES, topic, "dead_letter");
    n->met.handler = series_locked(VTEV__M_CONSUMER_HANDLER, topic, NULL);
    n->met.age = series_locked(VTEV__M_EVENT_AGE, topic, NULL);
    n->next = ctopics;
    ctopics = n;
    m = &n->met;
out:
    pthread_mutex_unlock(&store_lock);
    return m;
}

void vtev_metrics_reset(void) {
    int m, i;
    vtev__series_t *s;
    pthread_mutex_lock(&store_lock);
    for (m = 0; m < VTEV__M__CNT; m++) {
        for (s = heads[m]; s; s = s->next) {
            atomic_store(&s->counter, 0);
            for (i = 0; i < NBUCKETS; i++)
                atomic_store(&s->buckets[i], 0);
            atomic_store(&s->sum_us, 0);
        }
    }
    pthread_mutex_unlock(&store_lock);
}

/* ---- exposition ---- */

typedef struct {
    char *p;
    size_t len, cap;
    bool oom;
} out_t;

static bool out_reserve(out_t *o, size_t n) {
    size_t ncap;
    char *np;
    if (o->oom)
        return false;
    if (o->len + n + 1 <= o->cap)
        return true;
    ncap = o->cap ? o->cap : 4096;
    while (ncap < o->len + n + 1)
        ncap *= 2;
    if (!(np = realloc(o->p, ncap))) {
        o->oom = true;
        return false;
    }
    o->p = np;
    o->cap = ncap;
    return true;
}

static void out_mem(out_t *o, const char *s, size_t n) {
    if (!out_reserve(o, n))
        return;
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static void out_str(out_t *o, const char *s) {
    out_mem(o, s, strlen(s));
}

static void out_fmt(out_t *o, const char *fmt, ...) VTEV_PRINTF(2, 3);
static void out_fmt(out_t *o, const char *fmt, ...) {
    char buf[128];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(buf))
        n = (int)sizeof(buf) - 1; /* numbers only: never this long */
    out_mem(o, buf, (size_t)n);
}

/* Text with backslash and newline escaped, and the double quote too when
 * quote (label values; HELP text escapes only the first two). */
static void out_escaped(out_t *o, const char *s, bool quote) {
    const char *run = s;
    for (; *s; s++) {
        const char *rep = NULL;
        if (*s == '\\')
            rep = "\\\\";
        else if (*s == '\n')
            rep = "\\n";
        else if (*s == '"' && quote)
            rep = "\\\"";
        if (rep) {
            out_mem(o, run, (size_t)(s - run));
            out_str(o, rep);
            run = s + 1;
        }
    }
    out_mem(o, run, (size_t)(s - run));
}

/* {a="x",b="y"} with an optional extra label (le) last; nothing when there
 * are no labels at all. */
static void out_labels(out_t *o, const family_t *f, const vtev__series_t *s, const char *le) {
    int i;
    bool any = false;
    for (i = 0; i < f->nlabels; i++) {
        out_str(o, any ? ",": "{");
        out_str(o, f->labels[i]);
        out_str(o, "=\"");
        out_escaped(o, s->values[i], true);
        out_str(o, "\"");
        any = true;
    }
    if (le) {
        out_str(o, any ? "," : "{");
        out_str(o, "le=\"");
        out_str(o, le);
        out_str(o, "\"");
        any = true;
    }
    if (any)
        out_str(o, "}");
}

static void out_gauge_value(out_t *o, uint64_t bits) {
    double v;
    memcpy(&v, &bits, sizeof(v));
    if (v != v)
        out_str(o, "NaN");
    else if (v > 1.7976931348623157e308)
        out_str(o, "+Inf");
    else if (v < -1.7976931348623157e308)
        out_str(o, "-Inf");
    else
        out_fmt(o, "%.17g", v);
}

static void write_family(out_t *o, vtev__metric_t m) {
    const family_t *f = &families[m];
    static const char *const kinds[] = {"counter", "gauge", "histogram"};
    const vtev__series_t *s;
    int i;
    out_str(o, "# HELP ");
    out_str(o, f->name);
    out_str(o, " ");
    out_escaped(o, f->help, false);
    out_str(o, "\n# TYPE ");
    out_str(o, f->name);
    out_str(o, " ");
    out_str(o, kinds[f->kind]);
    out_str(o, "\n");
    for (s = heads[m]; s; s = s->next) {
        if (f->kind != KIND_HISTOGRAM) {
            uint64_t v = atomic_load_explicit(&s->counter, memory_order_relaxed);
            out_str(o, f->name);
            out_labels(o, f, s, NULL);
            out_str(o, " ");
            if (f->kind == KIND_GAUGE)
                out_gauge_value(o, v);
            else
                out_fmt(o, "%" PRIu64, v);
            out_str(o, "\n");
            continue;
        }
        {
            uint64_t cum = 0, sum = atomic_load_explicit(&s->sum_us, memory_order_relaxed);
            for (i = 0; i < NBUCKETS; i++) {
                cum += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
                out_str(o, f->name);
                out_str(o, "_bucket");
                out_labels(o, f, s, i < NBOUNDS ? bounds_txt[i] : "+Inf");
                out_fmt(o, " %" PRIu64 "\n", cum);
            }
            out_str(o, f->name);
            out_str(o, "_sum");
            out_labels(o, f, s, NULL);
            out_fmt(o, " %" PRIu64 ".%06" PRIu64 "\n", sum / 1000000, sum % 1000000);
            out_str(o, f->name);
            out_str(o, "_count");
            out_labels(o, f, s, NULL);
            out_fmt(o, " %" PRIu64 "\n", cum);
        }
    }
}

vtev_err_t vtev_metrics_write(char **textp, size_t *lenp, char *errstr, size_t errstr_size) {
    out_t o = {NULL, 0, 0, false};
    int m;
    if (lenp)
        *lenp = 0;
    if (!textp)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "vtev_metrics_write: textp must not be NULL");
    *textp = NULL;
    out_reserve(&o, 0);
    pthread_mutex_lock(&store_lock);
    link_fixed();
    for (m = 0; m < VTEV__M__CNT; m++)
        write_family(&o, (vtev__metric_t)m);
    pthread_mutex_unlock(&store_lock);
    if (o.oom) {
        free(o.p);
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size,
                          "vtev_metrics_write: out of memory");
    }
    *textp = o.p;
    if (lenp)
        *lenp = o.len;
    return VTEV_ERR_OK;
}
