/*
 * producer.c - typed publishing over a librdkafka producer.
 *
 * Delivery reports and errors are librdkafka events (RD_KAFKA_EVENT_DR |
 * RD_KAFKA_EVENT_ERROR) on the main queue, served by one background thread
 * per producer.  In event mode rd_kafka_flush() (ours, and the one inside
 * rd_kafka_commit_transaction()) only waits: no other thread ever runs a
 * delivery report.  Every accepted message carries a small heap record (event type,
 * event_id, caller's opaque, its topic's metric series and publish time)
 * freed in its delivery report, so the caller's strings may be freed as soon
 * as publish returns.  Metrics (metrics.c) cost a publish a few strcmp()s in
 * the producer's topic cache and an atomic add; the report thread reads the
 * clock once per batch.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vtevents/producer.h>
#include <vtevents/rdkafka_ext.h>
#include <vtevents/serde.h>

#include "conf_int.h"
#include "internal.h"
#include "metrics_int.h"
#include "producer_int.h"
#include "rdkafka_int.h"
#include "serde_int.h"
#include "health_int.h"
#include "trace_int.h"

enum { ST_PUBLISHED, ST_DELIVERED, ST_FAILED, ST_BYTES, ST__CNT };
#define NTYPES 4 /* NONE (generic), POSITION, REQUEST, RESULT */

typedef struct pmsg_s {
    vtev_event_type_t type;
    char event_id[VTEV_UUID_LEN + 1];
    void *opaque;
    vtev__ptopic_met_t *met; /* the topic's series (metrics.c), NULL when out of memory */
    int64_t t0_us;           /* publish time (monotonic), for vtev_producer_delivery_seconds */
} pmsg_t;

/* Topics whose series a producer keeps at hand: a publish finds its topic's
 * series with at most this many strcmp()s and no lock; a producer that
 * publishes to more topics looks the others up in the store (a mutex). */
#define MET_CACHE 8

struct vtev_producer_s {
    vtev_conf_t *conf;
    rd_kafka_t *rk;
    vtev_serde_t *serde;
    char *topics[NTYPES];
    rd_kafka_topic_t *rkt[NTYPES]; /* held so their metadata is fetched at creation */
    int64_t queue_block_ms;
    bool trace; /* trace.propagation */
    bool metrics; /* metrics.enable */
    int64_t close_timeout_ms;
    bool transactional;

    rd_kafka_queue_t *mainq;
    pthread_t poll_thr;
    atomic_bool run;

    pthread_mutex_t lock; /* guards cond waits and the callback pointers */
    pthread_cond_t cond;  /* signalled on every delivery report */
    pthread_mutex_t cb_lock; /* recursive: user callbacks one at a time */

    vtev_producer_dr_cb_t *dr_cb;
    void *dr_opaque;
    vtev_producer_error_cb_t *err_cb;
    void *err_opaque;

    atomic_bool fatal;
    atomic_bool fatal_reported;
    char fatal_reason[512]; /* written once before fatal is set */
    atomic_bool closing;

    atomic_size_t outstanding;
    _Atomic uint64_t stats[NTYPES][ST__CNT];

    /* health.h */
    vtev__brokers_t brokers;
    _Atomic uint64_t dr_fail_mark;        /* delivered_total() + 1 at the last failed report */
    pthread_mutex_t hlock;                /* dr_fail */
    char dr_fail[256];
    char name[64];                        /* "producer CLIENT.ID" */

    /* metrics: filled in order, never changed once set (a slot is claimed by CAS) */
    _Atomic(vtev__ptopic_met_t *) met_cache[MET_CACHE];
};

/* The process-wide series of topic, through the producer's cache. */
static vtev__ptopic_met_t *topic_met(vtev_producer_t *p, const char *topic) {
    vtev__ptopic_met_t *m;
    int i;
    if (!p->metrics)
        return NULL; /* metrics.enable=false: nothing is counted */
    for (i = 0; i < MET_CACHE; i++) {
        m = atomic_load_explicit(&p->met_cache[i], memory_order_acquire);
        if (!m)
            break;
        if (!strcmp(m->topic, topic))
            return m;
    }
    if (!(m = vtev__ptopic_met(topic)))
        return NULL;
    for (; i < MET_CACHE; i++) {
        vtev__ptopic_met_t *expected = NULL;
        if (atomic_compare_exchange_strong_explicit(&p->met_cache[i], &expected, m,
                                                    memory_order_release, memory_order_acquire))
            break;
        if (expected == m)
            break; /* another thread cached it */
    }
    return m;
}

rd_kafka_t *vtev__producer_rk(vtev_producer_t *p) {
    return p ? p->rk : NULL;
}

vtev_serde_t *vtev__producer_serde(vtev_producer_t *p) {
    return p ? p->serde : NULL;
}

/* ---- fatal errors ---- */

static void set_fatal(vtev_producer_t *p, const char *reason) {
    vtev_producer_error_cb_t *cb;
    void *op;
    bool expected = false;
    if (!atomic_compare_exchange_strong(&p->fatal_reported, &expected, true))
        return; /* reported once */
    snprintf(p->fatal_reason, sizeof(p->fatal_reason), "%s", reason);
    atomic_store(&p->fatal, true);
    vtev__log(p->conf, 3, "PRODUCER", "fatal error: %s", reason);
    pthread_mutex_lock(&p->lock);
    cb = p->err_cb;
    op = p->err_opaque;
    pthread_mutex_unlock(&p->lock);
    if (cb) {
        pthread_mutex_lock(&p->cb_lock);
        cb(p, VTEV_ERR_FATAL, reason, op);
        pthread_mutex_unlock(&p->cb_lock);
    }
}

/* Reads librdkafka's fatal error into the producer (once). */
static void check_fatal(vtev_producer_t *p) {
    char reason[512];
    rd_kafka_resp_err_t ferr;
    if (atomic_load(&p->fatal_reported))
        return;
    ferr = rd_kafka_fatal_error(p->rk, reason, sizeof(reason));
    if (ferr) {
        char full[600];
        snprintf(full, sizeof(full), "%s: %s", rd_kafka_err2name(ferr), reason);
        set_fatal(p, full);
    }
}

static vtev_err_t fatal_fail(vtev_producer_t *p, char *errstr, size_t errstr_size) {
    return vtev__fail(VTEV_ERR_FATAL, errstr, errstr_size,
                      "the producer had a fatal error and must be destroyed: %s",
                      p->fatal_reason);
}

/* ---- librdkafka callbacks ---- */

static void on_error(vtev_producer_t *p, rd_kafka_resp_err_t err, bool fatal,
                     const char *reason) {
    vtev_producer_error_cb_t *cb;
    void *op;
    if (fatal || err == RD_KAFKA_RESP_ERR__FATAL) {
        check_fatal(p);
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION) {
        /* Wrong credentials do not mend by retrying: librdkafka would retry every message
         * until message.timeout.ms. The producer fails at once instead: fatal, and what is
         * queued is purged (each report carries this reason). */
        char full[768];
        snprintf(full, sizeof(full), "%s: %s", vtev__rdkafka_auth_hint(p->conf), reason);
        set_fatal(p, full);
        rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        return;
    }
    vtev__log(p->conf, 4, "PRODUCER", "%s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err),
              reason);
    pthread_mutex_lock(&p->lock);
    cb = p->err_cb;
    op = p->err_opaque;
    pthread_mutex_unlock(&p->lock);
    if (cb) {
        pthread_mutex_lock(&p->cb_lock);
        cb(p, VTEV_ERR_KAFKA, reason, op);
        pthread_mutex_unlock(&p->cb_lock);
    }
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    vtev_producer_t *p = rd_kafka_opaque(rk);
    char f[64];
    snprintf(f, sizeof(f), "RDKAFKA-%s", fac);
    vtev__log(p ? p->conf : NULL, level, f, "%s", buf);
}

/* One delivery report, copied out of librdkafka's message so that the
 * event (and the queue slots its messages hold) can be released before the
 * user's callback runs: a callback that publishes into a full queue then
 * finds room instead of waiting on the very messages it reports. */
typedef struct dr_item_s {
    pmsg_t *pm;
    rd_kafka_resp_err_t err;
    int32_t partition;
    int64_t offset;
    size_t len;
    char topic[256];
} dr_item_t;

static void dr_item_fill(dr_item_t *it, const rd_kafka_message_t *m) {
    it->pm = m->_private;
    it->err = m->err;
    it->partition = m->partition;
    it->offset = m->offset;
    it->len = m->len;
    {
        const char *name = rd_kafka_topic_name(m->rkt);
        size_t n = strlen(name);
        if (n >= sizeof(it->topic))
            n = sizeof(it->topic) - 1; /* Kafka topic names have at most 249 */
        memcpy(it->topic, name, n);
        it->topic[n] = '\0';
    }
}

/* Messages delivered so far, every type. */
static uint64_t delivered_total(vtev_producer_t *p) {
    uint64_t n = 0;
    int t;
    for (t = 0; t < NTYPES; t++)
        n += atomic_load(&p->stats[t][ST_DELIVERED]);
    return n;
}

/* One delivery report: counters, then the application's callback (cb, read
 * once per batch by the caller).  Returns 1 for a message of ours (counted
 * in p->outstanding; the caller subtracts a batch at once), else 0. */

static int on_delivery(vtev_producer_t *p, const dr_item_t *it, vtev_producer_dr_cb_t *cb,
                       void *op, int64_t now_us) {
    pmsg_t *pm = it->pm;
    vtev_delivery_report_t dr;
    int t;
    if (!pm) /* not ours */
        return 0;
    t = (int)pm->type;
    memset(&dr, 0, sizeof(dr));
    dr.event_id = pm->event_id;
    dr.type = pm->type;
    dr.topic = it->topic;
    dr.kafka_err = (int)it->err;
    dr.err = vtev__kafka_err(it->err);
    dr.errstr = it->err ? rd_kafka_err2str(it->err) : "";
    if ((it->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
         it->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) &&
        atomic_load(&p->fatal)) {
        dr.err = VTEV_ERR_FATAL; /* purged because of the fatal error: say which */
        dr.errstr = p->fatal_reason;
    }
    dr.partition = it->partition >= 0 ? it->partition : -1;
    dr.offset = it->err ? -1 : it->offset;
    dr.value_len = it->len;
    dr.msg_opaque = pm->opaque;
    if (pm->met) {
        vtev__counter_add(it->err ? pm->met->failed : pm->met->delivered, 1);
        vtev__hist_observe_us(pm->met->delivery, now_us - pm->t0_us);
    }
    if (it->err) {
        atomic_fetch_add(&p->stats[t][ST_FAILED], 1);
        if (it->err == RD_KAFKA_RESP_ERR__FATAL)
            check_fatal(p);
        if (it->err != RD_KAFKA_RESP_ERR__PURGE_QUEUE &&
            it->err != RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
            pthread_mutex_lock(&p->hlock);
            vtev__seterr(p->dr_fail, sizeof(p->dr_fail), "%s: %s (%s)", it->topic,
                         rd_kafka_err2str(it->err), rd_kafka_err2name(it->err));
            pthread_mutex_unlock(&p->hlock);
            /* deliveries so far + 1: health sees whether any came after it */
            atomic_store(&p->dr_fail_mark, delivered_total(p) + 1);
        }
    } else {
        atomic_fetch_add(&p->stats[t][ST_DELIVERED], 1);
        atomic_fetch_add(&p->stats[t][ST_BYTES], it->len);
    }
    if (cb) {
        pthread_mutex_lock(&p->cb_lock);
        cb(p, &dr, op);
        pthread_mutex_unlock(&p->cb_lock);
    }
    free(pm);
    return 1;
}

/* n reports of ours are done: flush(), close() and a blocked publish wake. */
static void reports_done(vtev_producer_t *p, size_t n) {
    if (!n)
        return;
    pthread_mutex_lock(&p->lock);
    atomic_fetch_sub(&p->outstanding, n);
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

static void serve_dr(vtev_producer_t *p, rd_kafka_event_t *ev) {
    size_t cnt = rd_kafka_event_message_count(ev), n = 0, i, ours = 0;
    dr_item_t *items = cnt ? calloc(cnt, sizeof(*items)) : NULL;
    const rd_kafka_message_t *m;
    vtev_producer_dr_cb_t *cb;
    void *op;
    int64_t now_us = vtev__now_mono_us(); /* one clock read per batch */
    pthread_mutex_lock(&p->lock);
    cb = p->dr_cb;
    op = p->dr_opaque;
    pthread_mutex_unlock(&p->lock);
    if (!items) {
        /* out of memory: report in place, one at a time */
        dr_item_t one;
        while ((m = rd_kafka_event_message_next(ev))) {
            dr_item_fill(&one, m);
            reports_done(p, (size_t)on_delivery(p, &one, cb, op, now_us));
        }
        rd_kafka_event_destroy(ev);
        return;
    }
    while (n < cnt && (m = rd_kafka_event_message_next(ev)))
        dr_item_fill(&items[n++], m);
    rd_kafka_event_destroy(ev); /* frees the queue slots */
    for (i = 0; i < n; i++)
        ours += (size_t)on_delivery(p, &items[i], cb, op, now_us);
    free(items);
    reports_done(p, ours);
}

/* Serves at most one event from the main queue. */
static void serve_one(vtev_producer_t *p, int timeout_ms) {
    rd_kafka_event_t *ev = rd_kafka_queue_poll(p->mainq, timeout_ms);
    if (!ev)
        return;
    switch (rd_kafka_event_type(ev)) {
    case RD_KAFKA_EVENT_DR:
        serve_dr(p, ev);
        return;
    case RD_KAFKA_EVENT_STATS: {
        const char *js = rd_kafka_event_stats(ev);
        if (js)
            vtev__brokers_from_stats(&p->brokers, js, strlen(js));
        break;
    }
    case RD_KAFKA_EVENT_ERROR:
        on_error(p, rd_kafka_event_error(ev), rd_kafka_event_error_is_fatal(ev),
                 rd_kafka_event_error_string(ev));
        break;
    default:
        break;
    }
    rd_kafka_event_destroy(ev);
}

/* The producer whose poll thread this is (NULL on other threads). */
static _Thread_local vtev_producer_t *tls_serving;

static void *poll_main(void *arg) {
    vtev_producer_t *p = arg;
    tls_serving = p;
    while (atomic_load(&p->run))
        serve_one(p, 100);
    return NULL;
}

static bool on_poll_thread(vtev_producer_t *p) {
    return tls_serving == p;
}

/* ---- creation ---- */

static void producer_free(vtev_producer_t *p) {
    int i;
    if (!p)
        return;
    vtev_serde_destroy(p->serde);
    for (i = 0; i < NTYPES; i++)
        free(p->topics[i]);
    pthread_mutex_destroy(&p->lock);
    pthread_mutex_destroy(&p->hlock);
    pthread_mutex_destroy(&p->cb_lock);
    pthread_cond_destroy(&p->cond);
    free(p);
}

vtev_producer_t *vtev_producer_new(vtev_conf_t *conf, char *errstr, size_t errstr_size) {
    vtev_producer_t *p;
    rd_kafka_conf_t *rc = NULL;
    vtev_conf_t *sconf = NULL;
    const char *profile;
    pthread_mutexattr_t ma;
    char e[512];
    size_t bsz = 0;

    if (!conf) {
        vtev__seterr(errstr, errstr_size, "vtev_producer_new: conf must not be NULL");
        return NULL;
    }
    if (!(p = calloc(1, sizeof(*p)))) {
        vtev__seterr(errstr, errstr_size, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_mutex_init(&p->hlock, NULL);
    pthread_cond_init(&p->cond, NULL);
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&p->cb_lock, &ma);
    pthread_mutexattr_destroy(&ma);
    atomic_init(&p->run, false);
    atomic_init(&p->fatal, false);
    atomic_init(&p->fatal_reported, false);
    atomic_init(&p->closing, false);
    atomic_init(&p->outstanding, 0);
    {
        int i;
        for (i = 0; i < MET_CACHE; i++)
            atomic_init(&p->met_cache[i], NULL);
    }

    p->conf = conf; /* borrowed until success (for logging), owned after */
    p->queue_block_ms = vtev__conf_int(conf, "producer.queue.block.ms");
    p->trace = vtev__conf_bool(conf, "trace.propagation");
    p->metrics = vtev__conf_bool(conf, "metrics.enable");
    vtev__brokers_init(&p->brokers, p->metrics);
    atomic_init(&p->dr_fail_mark, 0);
    snprintf(p->name, sizeof(p->name), "producer %s", vtev__conf_str(conf, "client.id"));
    p->close_timeout_ms = vtev__conf_int(conf, "producer.close.timeout.ms");
    p->topics[VTEV_EVENT_POSITION] = vtev__strdup(vtev__conf_str(conf, "topic.position"));
    p->topics[VTEV_EVENT_REQUEST] = vtev__strdup(vtev__conf_str(conf, "topic.request"));
    p->topics[VTEV_EVENT_RESULT] = vtev__strdup(vtev__conf_str(conf, "topic.result"));
    if (!p->topics[1] || !p->topics[2] || !p->topics[3]) {
        vtev__seterr(errstr, errstr_size, "out of memory");
        goto fail;
    }

    if (!(sconf = vtev_conf_dup(conf))) {
        vtev__seterr(errstr, errstr_size, "out of memory");
        goto fail;
    }
    if (!(p->serde = vtev_serde_new(sconf, errstr, errstr_size))) {
        vtev_conf_destroy(sconf);
        goto fail;
    }

    /* the defaults and producer.profile (doc/producer.md), then bootstrap.servers,
     * client.id and the kafka.* keys: the mapping of <vtevents/rdkafka_ext.h> */
    profile = vtev__conf_str(conf, "producer.profile");
    if (!(rc = vtev_conf_to_rdkafka(conf, RD_KAFKA_PRODUCER, errstr, errstr_size)))
        goto fail;
    p->transactional =
        rd_kafka_conf_get(rc, "transactional.id", NULL, &bsz) == RD_KAFKA_CONF_OK && bsz > 1;
    rd_kafka_conf_set_opaque(rc, p);
    rd_kafka_conf_set_events(rc, RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR | RD_KAFKA_EVENT_STATS);
    if (vtev__health_stats_interval(conf, rc, errstr, errstr_size))
        goto fail;
    rd_kafka_conf_set_log_cb(rc, on_log);

    if (!(p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, rc, e, sizeof(e)))) {
        vtev__seterr(errstr, errstr_size, "cannot create the Kafka producer: %s", e);
        goto fail;
    }
    rc = NULL; /* owned by rk */
    if (!(p->mainq = rd_kafka_queue_get_main(p->rk))) {
        vtev__seterr(errstr, errstr_size, "cannot get the producer's event queue");
        rd_kafka_destroy(p->rk);
        p->rk = NULL;
        goto fail;
    }

    atomic_store(&p->run, true);
    if (vtev__thread_create(&p->poll_thr, poll_main, p)) {
        atomic_store(&p->run, false);
        vtev__seterr(errstr, errstr_size, "cannot start the producer's poll thread");
        rd_kafka_queue_destroy(p->mainq);
        rd_kafka_destroy(p->rk);
        p->rk = NULL;
        goto fail;
    }
    /* Look the platform topics up now: without a topic handle librdkafka only
     * learns a topic's leaders on the first publish, and that publish then
     * waits for the next metadata round (about a second). */
    {
        int i;
        for (i = 0; i < NTYPES; i++)
            if (p->topics[i] && *p->topics[i])
                p->rkt[i] = rd_kafka_topic_new(p->rk, p->topics[i], NULL);
    }
    vtev__log(conf, 7, "PRODUCER", "created (profile %s, %s)", profile,
              p->transactional ? "transactional" : "idempotent");
    vtev__health_track_producer(p, true);
    return p;

fail:
    if (rc)
        rd_kafka_conf_destroy(rc);
    producer_free(p);
    return NULL;
}

void vtev_producer_set_dr_cb(vtev_producer_t *p, vtev_producer_dr_cb_t *cb, void *opaque) {
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->dr_cb = cb;
    p->dr_opaque = opaque;
    pthread_mutex_unlock(&p->lock);
}

void vtev_producer_set_error_cb(vtev_producer_t *p, vtev_producer_error_cb_t *cb,
                                void *opaque) {
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->err_cb = cb;
    p->err_opaque = opaque;
    pthread_mutex_unlock(&p->lock);
}

/* ---- flush, counters ---- */

static void abs_deadline(struct timespec *ts, int64_t ms) {
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Waits for outstanding == 0 up to timeout_ms (-1: forever). */
static bool wait_outstanding(vtev_producer_t *p, int64_t timeout_ms) {
    int64_t end = timeout_ms < 0 ? INT64_MAX : vtev__now_mono_us() + timeout_ms * 1000;
    if (on_poll_thread(p)) {
        while (atomic_load(&p->outstanding) > 0 && vtev__now_mono_us() < end)
            serve_one(p, 10);
        return atomic_load(&p->outstanding) == 0;
    }
    pthread_mutex_lock(&p->lock);
    while (atomic_load(&p->outstanding) > 0) {
        struct timespec ts;
        int64_t left = end - vtev__now_mono_us();
        if (left <= 0)
            break;
        abs_deadline(&ts, left > 100000 ? 100 : (left + 999) / 1000);
        pthread_cond_timedwait(&p->cond, &p->lock, &ts);
    }
    pthread_mutex_unlock(&p->lock);
    return atomic_load(&p->outstanding) == 0;
}

/* rd_kafka_flush() in event mode waits (linger ignored) until librdkafka
 * released every message, while the poll thread serves; the reports copied
 * out of the released events may still be running, so then wait for our own
 * count. */
static bool flush_wait(vtev_producer_t *p, int64_t timeout_ms) {
    int64_t end = vtev__now_mono_us() + (timeout_ms < 0 ? 0 : timeout_ms * 1000);
    int64_t left;
    rd_kafka_flush(p->rk, timeout_ms < 0 ? -1 : (int)timeout_ms);
    if (timeout_ms < 0)
        return wait_outstanding(p, -1);
    left = (end - vtev__now_mono_us()) / 1000;
    return wait_outstanding(p, left > 0 ? left : 0);
}

vtev_err_t vtev_producer_flush(vtev_producer_t *p, int timeout_ms) {
    if (!p)
        return VTEV_ERR_INVALID_ARG;
    if (on_poll_thread(p)) /* from a callback: nothing else serves reports */
        return wait_outstanding(p, timeout_ms) ? VTEV_ERR_OK : VTEV_ERR_TIMED_OUT;
    return flush_wait(p, timeout_ms) ? VTEV_ERR_OK : VTEV_ERR_TIMED_OUT;
}

size_t vtev_producer_outstanding(vtev_producer_t *p) {
    return p ? atomic_load(&p->outstanding) : 0;
}

vtev_err_t vtev_producer_stats(vtev_producer_t *p, vtev_event_type_t type,
                               vtev_producer_stats_t *out) {
    int t = (int)type;
    if (!p || !out || t < 0 || t >= NTYPES)
        return VTEV_ERR_INVALID_ARG;
    out->published = atomic_load(&p->stats[t][ST_PUBLISHED]);
    out->delivered = atomic_load(&p->stats[t][ST_DELIVERED]);
    out->failed = atomic_load(&p->stats[t][ST_FAILED]);
    out->bytes = atomic_load(&p->stats[t][ST_BYTES]);
    return VTEV_ERR_OK;
}

/* ---- enqueue ---- */

/* The trace context of a message (trace.h): a traceparent the caller put
 * in *hdrsp is checked and kept; else one is added (headers created when
 * *hdrsp is NULL: *ownp tells the caller to destroy them if the message is
 * not enqueued). */
static vtev_err_t trace_headers(const char *topic, rd_kafka_headers_t **hdrsp, bool *ownp,
                                char *errstr, size_t errstr_size) {
    const void *v;
    size_t vs;
    char tp[VTEV_TRACEPARENT_LEN + 1], e[256];
    const char *ts;
    vtev_trace_ctx_t given;
    *ownp = false;
    if (!*hdrsp) {
        if (!(*hdrsp = rd_kafka_headers_new(2)))
            return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
        *ownp = true;
    } else if (rd_kafka_header_get_last(*hdrsp, "traceparent", &v, &vs) ==
               RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (!v || vtev_trace_parse(v, vs, NULL, 0, &given, e, sizeof(e)) != VTEV_ERR_OK)
            return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, "headers: %s",
                              v ? e : "traceparent: null value");
        return VTEV_ERR_OK; /* the caller's */
    }
    vtev__trace_outgoing(topic, tp, &ts);
    if (rd_kafka_header_add(*hdrsp, "traceparent", 11, tp, VTEV_TRACEPARENT_LEN) ||
        (ts && rd_kafka_header_add(*hdrsp, "tracestate", 10, ts, -1))) {
        if (*ownp) {
            rd_kafka_headers_destroy(*hdrsp);
            *hdrsp = NULL;
            *ownp = false;
        }
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    return VTEV_ERR_OK;
}

/* Enqueues value (taking it on success when `take`, else copied). headers is
 * taken on success. */
static vtev_err_t enqueue(vtev_producer_t *p, const char *topic, vtev_event_type_t type,
                          const char *event_id, void *value, size_t value_len, bool take,
                          const void *key, size_t key_len, rd_kafka_headers_t *hdrs,
                          void *msg_opaque, char *errstr, size_t errstr_size) {
    pmsg_t *pm;
    int64_t now = vtev__now_mono_us(), end = now + p->queue_block_ms * 1000;
    rd_kafka_resp_err_t kerr;
    vtev__ptopic_met_t *met;
    bool own_hdrs = false;
    vtev_err_t terr;

    if (p->trace && (terr = trace_headers(topic, &hdrs, &own_hdrs, errstr, errstr_size)))
        return terr;
    if (!(pm = calloc(1, sizeof(*pm)))) {
        if (own_hdrs)
            rd_kafka_headers_destroy(hdrs);
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    pm->type = type;
    pm->opaque = msg_opaque;
    pm->met = met = topic_met(p, topic); /* pm is the report's once enqueued */
    pm->t0_us = now;
    if (event_id)
        snprintf(pm->event_id, sizeof(pm->event_id), "%s", event_id);

    for (;;) {
        atomic_fetch_add(&p->outstanding, 1);
        kerr = rd_kafka_producev(
            p->rk, RD_KAFKA_V_TOPIC(topic),
            RD_KAFKA_V_MSGFLAGS(take ? RD_KAFKA_MSG_F_FREE : RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_VALUE(value, value_len), RD_KAFKA_V_KEY(key, key_len),
            RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(pm), RD_KAFKA_V_END);
        if (!kerr) {
            atomic_fetch_add(&p->stats[type][ST_PUBLISHED], 1);
            if (met)
                vtev__counter_add(met->queued, 1);
            return VTEV_ERR_OK;
        }
        /* not enqueued: no report will come */
        pthread_mutex_lock(&p->lock);
        atomic_fetch_sub(&p->outstanding, 1);
        pthread_cond_broadcast(&p->cond);
        pthread_mutex_unlock(&p->lock);
        if (kerr != RD_KAFKA_RESP_ERR__QUEUE_FULL || atomic_load(&p->fatal))
            break;
        if (vtev__now_mono_us() >= end)
            break;
        /* Wait for room: a delivery report frees a slot. */
        if (on_poll_thread(p)) {
            serve_one(p, 10);
        } else {
            struct timespec ts;
            int64_t left = end - vtev__now_mono_us();
            pthread_mutex_lock(&p->lock);
            abs_deadline(&ts, left > 10000 ? 10 : (left + 999) / 1000);
            pthread_cond_timedwait(&p->cond, &p->lock, &ts);
            pthread_mutex_unlock(&p->lock);
        }
    }
    free(pm);
    if (own_hdrs)
        rd_kafka_headers_destroy(hdrs); /* not the caller's to destroy */
    if (kerr == RD_KAFKA_RESP_ERR__FATAL || atomic_load(&p->fatal)) {
        check_fatal(p);
        return fatal_fail(p, errstr, errstr_size);
    }
    if (kerr == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        return vtev__fail(VTEV_ERR_QUEUE_FULL, errstr, errstr_size,
                          "%s: the local queue stayed full for %lld ms "
                          "(producer.queue.block.ms); nothing was enqueued",
                          topic, (long long)p->queue_block_ms);
    if (kerr == RD_KAFKA_RESP_ERR__STATE && p->transactional)
        return vtev__fail(VTEV_ERR_STATE, errstr, errstr_size,
                          "%s: a transactional producer publishes only inside a transaction "
                          "(%s)",
                          topic, rd_kafka_err2str(kerr));
    return vtev__fail(vtev__kafka_err(kerr), errstr, errstr_size, "%s: %s", topic,
                      rd_kafka_err2str(kerr));
}

static vtev_err_t check_usable(vtev_producer_t *p, char *errstr, size_t errstr_size) {
    if (atomic_load(&p->fatal))
        return fatal_fail(p, errstr, errstr_size);
    if (atomic_load(&p->closing))
        return vtev__fail(VTEV_ERR_STATE, errstr, errstr_size, "the producer is closing");
    return VTEV_ERR_OK;
}

static vtev_err_t add_header(rd_kafka_headers_t *h, const char *name, const void *v,
                             ssize_t len, char *errstr, size_t errstr_size) {
    if (rd_kafka_header_add(h, name, -1, v, len))
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "header %s: out of memory",
                          name);
    return VTEV_ERR_OK;
}

vtev_err_t vtev_producer_publish_to(vtev_producer_t *p, const char *topic, const vtev_event_t *ev,
                                    void *msg_opaque, char *errstr, size_t errstr_size) {
    void *buf = NULL;
    size_t len = 0;
    rd_kafka_headers_t *h;
    const char *corr, *tname;
    vtev_err_t err;

    if (!p || !ev || !topic || !*topic)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "publish: producer, event and topic are required");
    if ((err = check_usable(p, errstr, errstr_size)))
        return err;
    if (!(tname = vtev_event_type_name(ev->type)))
        return vtev__fail(VTEV_ERR_INVALID, errstr, errstr_size,
                          "event_type: %d is not an event type", (int)ev->type);
    if ((err = vtev_event_validate(ev, errstr, errstr_size)))
        return err;
    if ((err = vtev_serde_serialize(p->serde, topic, ev, &buf, &len, NULL, errstr,
                                    errstr_size)))
        return err;
    if (!(h = rd_kafka_headers_new(3))) {
        vtev_free(buf);
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    corr = vtev_envelope_correlation_id(&ev->u.env);
    if ((err = add_header(h, "event_type", tname, -1, errstr, errstr_size)) ||
        (err = add_header(h, "event_id", ev->u.env.event_id, -1, errstr, errstr_size)) ||
        (corr && (err = add_header(h, "correlation_id", corr, -1, errstr, errstr_size)))) {
        rd_kafka_headers_destroy(h);
        vtev_free(buf);
        return err;
    }
    err = enqueue(p, topic, ev->type, ev->u.env.event_id, buf, len, true, ev->u.env.vessel_id,
                  strlen(ev->u.env.vessel_id), h, msg_opaque, errstr, errstr_size);
    if (err) {
        rd_kafka_headers_destroy(h);
        vtev_free(buf);
    }
    return err;
}

vtev_err_t vtev_producer_publish(vtev_producer_t *p, const vtev_event_t *ev, void *msg_opaque,
                                 char *errstr, size_t errstr_size) {
    if (!p || !ev)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "publish: producer and event are required");
    if (ev->type < VTEV_EVENT_POSITION || ev->type > VTEV_EVENT_RESULT)
        return vtev__fail(VTEV_ERR_INVALID, errstr, errstr_size,
                          "event_type: %d is not an event type", (int)ev->type);
    return vtev_producer_publish_to(p, p->topics[ev->type], ev, msg_opaque, errstr,
                                    errstr_size);
}

/* The typed calls wrap the struct in a vtev_event_t without copying the
 * metadata map (the wrapper is only read). */
#define TYPED_PUBLISH(fn, ctype, TYPE, member)                                                \
    vtev_err_t fn(vtev_producer_t *p, const ctype *ev, void *msg_opaque, char *errstr,         \
                  size_t errstr_size) {                                                       \
        vtev_event_t *w;                                                                      \
        vtev_err_t err;                                                                       \
        if (!p || !ev)                                                                        \
            return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,                      \
                              #fn ": producer and event are required");                       \
        if (!(w = malloc(sizeof(*w))))                                                        \
            return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");          \
        w->type = TYPE;                                                                       \
        memcpy(&w->u.member, ev, sizeof(*ev));                                                \
        err = vtev_producer_publish_to(p, p->topics[TYPE], w, msg_opaque, errstr,            \
                                       errstr_size);                                          \
        free(w);                                                                              \
        return err;                                                                           \
    }

TYPED_PUBLISH(vtev_producer_publish_position, vtev_position_event_t, VTEV_EVENT_POSITION,
              position)
TYPED_PUBLISH(vtev_producer_publish_request, vtev_request_event_t, VTEV_EVENT_REQUEST, request)
TYPED_PUBLISH(vtev_producer_publish_result, vtev_result_event_t, VTEV_EVENT_RESULT, result)

static vtev_err_t make_headers(const vtev_header_t *headers, size_t cnt,
                               rd_kafka_headers_t **hp, char *errstr, size_t errstr_size) {
    size_t i;
    rd_kafka_headers_t *h;
    if (cnt && !headers)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "headers: NULL with a count of %zu", cnt);
    if (!(h = rd_kafka_headers_new(cnt ? cnt : 1)))
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
    for (i = 0; i < cnt; i++) {
        if (!headers[i].name || !*headers[i].name) {
            rd_kafka_headers_destroy(h);
            return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                              "headers[%zu].name: must be a non-empty string", i);
        }
        if (rd_kafka_header_add(h, headers[i].name, -1, headers[i].value,
                                headers[i].value ? (ssize_t)headers[i].value_len : 0)) {
            rd_kafka_headers_destroy(h);
            return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
    }
    *hp = h;
    return VTEV_ERR_OK;
}

vtev_err_t vtev_producer_publish_raw(vtev_producer_t *p, const char *topic, const void *value,
                                     size_t value_len, const void *key, size_t key_len,
                                     const vtev_header_t *headers, size_t header_cnt,
                                     void *msg_opaque, char *errstr, size_t errstr_size) {
    rd_kafka_headers_t *h = NULL;
    vtev_err_t err;
    if (!p || !topic || !*topic || (!value && value_len) || (!key && key_len))
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "publish_raw: producer and topic are required");
    if ((err = check_usable(p, errstr, errstr_size)))
        return err;
    if ((err = make_headers(headers, header_cnt, &h, errstr, errstr_size)))
        return err;
    err = enqueue(p, topic, VTEV_EVENT_NONE, NULL, (void *)(uintptr_t)value, value_len, false,
                  key, key_len, h, msg_opaque, errstr, errstr_size);
    if (err)
        rd_kafka_headers_destroy(h);
    return err;
}

/* The encode buffer of typed publishes, one per thread and reused: a
 * publish allocates nothing of its own for the bytes, which librdkafka
 * copies into its message (RD_KAFKA_MSG_F_COPY, one allocation, as a plain
 * producer's).  Freed by the key's destructor when a thread exits; a buffer
 * grown past ENC_KEEP by a large event is freed after that publish. */
#define ENC_KEEP (64 * 1024)
static pthread_key_t enc_key;
static pthread_once_t enc_once = PTHREAD_ONCE_INIT;
static bool enc_key_ok;

static void enc_free(void *b) {
    vtev_buf_free(b);
    free(b);
}

static void enc_init(void) {
    enc_key_ok = pthread_key_create(&enc_key, enc_free) == 0;
}

static vtev_buf_t *enc_buf(void) {
    vtev_buf_t *b;
    pthread_once(&enc_once, enc_init);
    if (!enc_key_ok)
        return NULL;
    if ((b = pthread_getspecific(enc_key)))
        return b;
    if (!(b = calloc(1, sizeof(*b))))
        return NULL;
    if (pthread_setspecific(enc_key, b)) {
        free(b);
        return NULL;
    }
    return b;
}

vtev_err_t vtev_producer_publish_type(vtev_producer_t *p, const vtev_type_t *type,
                                      const char *topic, const void *ev, const void *key,
                                      size_t key_len, const vtev_header_t *headers,
                                      size_t header_cnt, void *msg_opaque, char *errstr,
                                      size_t errstr_size) {
    rd_kafka_headers_t *h = NULL;
    vtev_buf_t *buf;
    vtev_err_t err;
    if (!p || !type || !topic || !*topic || !ev)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "publish_type: producer, type, topic and event are required");
    if (!(buf = enc_buf()))
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
    if ((err = check_usable(p, errstr, errstr_size)))
        return err;
    if (VTEV__TYPE_ABI_OK(type) &&
        (err = type->validate(ev, errstr, errstr_size)))
        return err;
    /* the ABI version is checked by the serde */
    if ((err = vtev_serde_serialize_type(p->serde, topic, type, ev, buf, NULL, errstr,
                                         errstr_size)))
        return err;
    if (!key)
        key = type->key(ev, &key_len);
    if (header_cnt && (err = make_headers(headers, header_cnt, &h, errstr, errstr_size)))
        return err;
    err = enqueue(p, topic, VTEV_EVENT_NONE, NULL, buf->data, buf->len, false, key,
                  key ? key_len : 0, h, msg_opaque, errstr, errstr_size);
    if (err && h)
        rd_kafka_headers_destroy(h);
    if (buf->cap > ENC_KEEP)
        vtev_buf_free(buf);
    return err;
}

vtev_err_t vtev_producer_publish_avro(vtev_producer_t *p, const char *topic,
                                      const char *schema_json, const void *avro,
                                      size_t avro_len, const void *key, size_t key_len,
                                      const vtev_header_t *headers, size_t header_cnt,
                                      void *msg_opaque, char *errstr, size_t errstr_size) {
    rd_kafka_headers_t *h = NULL;
    unsigned char *buf;
    int32_t id;
    vtev_err_t err;
    if (!p || !topic || !*topic || !schema_json || (!avro && avro_len) || (!key && key_len))
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "publish_avro: producer, topic and schema are required");
    if ((err = check_usable(p, errstr, errstr_size)))
        return err;
    if ((err = vtev__serde_schema_id_json(p->serde, topic, schema_json, &id, errstr,
                                          errstr_size)))
        return err;
    if (!(buf = malloc(VTEV_FRAME_HEADER_SIZE + avro_len)))
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
    vtev_frame_write_header(buf, id);
    if (avro_len)
        memcpy(buf + VTEV_FRAME_HEADER_SIZE, avro, avro_len);
    if ((err = make_headers(headers, header_cnt, &h, errstr, errstr_size))) {
        free(buf);
        return err;
    }
    err = enqueue(p, topic, VTEV_EVENT_NONE, NULL, buf, VTEV_FRAME_HEADER_SIZE + avro_len, true,
                  key, key_len, h, msg_opaque, errstr, errstr_size);
    if (err) {
        rd_kafka_headers_destroy(h);
        free(buf);
    }
    return err;
}

/* ---- close ---- */

vtev_err_t vtev_producer_close(vtev_producer_t *p, size_t *undeliveredp) {
    size_t undelivered;
    if (undeliveredp)
        *undeliveredp = 0;
    if (!p)
        return VTEV_ERR_OK;
    vtev__health_track_producer(p, false);
    atomic_store(&p->closing, true);
    flush_wait(p, p->close_timeout_ms);
    undelivered = atomic_load(&p->outstanding);
    if (undelivered) {
        vtev__log(p->conf, 4, "PRODUCER",
                  "%zu message(s) not delivered within producer.close.timeout.ms=%lld: purging",
                  undelivered, (long long)p->close_timeout_ms);
        rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        /* Every purged message gets its report (VTEV_ERR_PURGED) through the
         * poll thread; wait for all of them, however long the application's
         * callbacks take: one report per publish, none lost at close. */
        while (!wait_outstanding(p, 10000))
            vtev__log(p->conf, 4, "PRODUCER", "close: waiting for %zu delivery report(s) after the purge",
                      (size_t)atomic_load(&p->outstanding));
    }
    atomic_store(&p->run, false);
    pthread_join(p->poll_thr, NULL);
    rd_kafka_queue_destroy(p->mainq);
    {
        int i;
        for (i = 0; i < NTYPES; i++)
            if (p->rkt[i])
                rd_kafka_topic_destroy(p->rkt[i]);
    }
    rd_kafka_destroy(p->rk);
    vtev_conf_destroy(p->conf);
    producer_free(p);
    if (undeliveredp)
        *undeliveredp = undelivered;
    return undelivered ? VTEV_ERR_TIMED_OUT : VTEV_ERR_OK;
}

void vtev_producer_destroy(vtev_producer_t *p) {
    vtev_producer_close(p, NULL);
}

/* ---- transactions ---- */

vtev_err_t vtev__producer_txn_error(vtev_producer_t *p, rd_kafka_error_t *error,
                                    const char *what, char *errstr, size_t errstr_size) {
    vtev_err_t err;
    if (!error)
        return VTEV_ERR_OK;
    if ((err = vtev__kafka_error(error)) == VTEV_ERR_FATAL && p) {
        char reason[600];
        snprintf(reason, sizeof(reason), "%s: %s", what, rd_kafka_error_string(error));
        set_fatal(p, reason);
    }
    vtev__seterr(errstr, errstr_size, "%s: %s (%s)", what, rd_kafka_error_string(error),
                 rd_kafka_error_name(error));
    rd_kafka_error_destroy(error);
    return err;
}

static vtev_err_t txn_check(vtev_producer_t *p, const char *what, char *errstr,
                            size_t errstr_size) {
    if (!p)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, "%s: producer is NULL",
                          what);
    if (atomic_load(&p->fatal))
        return fatal_fail(p, errstr, errstr_size);
    if (!p->transactional)
        return vtev__fail(VTEV_ERR_STATE, errstr, errstr_size,
                          "%s: the producer is not transactional (set kafka.transactional.id)",
                          what);
    return VTEV_ERR_OK;
}

vtev_err_t vtev_producer_init_transactions(vtev_producer_t *p, int timeout_ms, char *errstr,
                                           size_t errstr_size) {
    vtev_err_t err;
    if ((err = txn_check(p, "init_transactions", errstr, errstr_size)))
        return err;
    return vtev__producer_txn_error(p, rd_kafka_init_transactions(p->rk, timeout_ms),
                                    "init_transactions", errstr, errstr_size);
}

vtev_err_t vtev_producer_begin_transaction(vtev_producer_t *p, char *errstr,
                                           size_t errstr_size) {
    vtev_err_t err;
    if ((err = txn_check(p, "begin_transaction", errstr, errstr_size)))
        return err;
    return vtev__producer_txn_error(p, rd_kafka_begin_transaction(p->rk), "begin_transaction",
                                    errstr, errstr_size);
}

vtev_err_t vtev_producer_commit_transaction(vtev_producer_t *p, int timeout_ms, char *errstr,
                                            size_t errstr_size) {
    vtev_err_t err;
    if ((err = txn_check(p, "commit_transaction", errstr, errstr_size)))
        return err;
    err = vtev__producer_txn_error(p, rd_kafka_commit_transaction(p->rk, timeout_ms),
                                   "commit_transaction", errstr, errstr_size);
    /* every report of the transaction has run when commit returns */
    if (!err)
        wait_outstanding(p, timeout_ms < 0 ? -1 : timeout_ms);
    return err;
}

vtev_err_t vtev_producer_abort_transaction(vtev_producer_t *p, int timeout_ms, char *errstr,
                                           size_t errstr_size) {
    vtev_err_t err;
    if ((err = txn_check(p, "abort_transaction", errstr, errstr_size)))
        return err;
    err = vtev__producer_txn_error(p, rd_kafka_abort_transaction(p->rk, timeout_ms),
                                   "abort_transaction", errstr, errstr_size);
    if (!err) /* the purged messages' reports have run when abort returns */
        wait_outstanding(p, timeout_ms < 0 ? -1 : timeout_ms);
    return err;
}

/* ---- health ---- */

vtev_err_t vtev_producer_health(vtev_producer_t *p, vtev_health_t *out) {
    uint64_t mark;
    if (!p || !out)
        return VTEV_ERR_INVALID_ARG;
    memset(out, 0, sizeof(*out));
    out->live = out->ready = true;
    out->handles = 1;
    if (atomic_load(&p->fatal))
        vtev__health_add(out, "fatal", p->name, true, "fatal error: %s", p->fatal_reason);
    if (atomic_load(&p->closing))
        vtev__health_add(out, "closed", p->name, false, "the producer is closing");
    vtev__health_brokers(&p->brokers, out, p->name);
    vtev__health_registry(vtev__serde_registry(p->serde), out, p->name);
    mark = atomic_load(&p->dr_fail_mark);
    if (mark && delivered_total(p) + 1 == mark) {
        char why[256];
        pthread_mutex_lock(&p->hlock);
        snprintf(why, sizeof(why), "%s", p->dr_fail);
        pthread_mutex_unlock(&p->hlock);
        vtev__health_add(out, "deliveries", p->name, false,
                         "the last delivery report failed, none succeeded since: %s", why);
    }
    return VTEV_ERR_OK;
}
