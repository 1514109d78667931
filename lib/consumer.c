/*
 * consumer.c - typed consuming: subscriptions, the poll/run loop, verdicts,
 * at-least-once offset storage, rebalances, counters and lag.
 *
 * Offsets: enable.auto.offset.store=false; an offset (message + 1) is stored
 * only after its message was handled OK or its dead letter was acknowledged.
 * Messages of one partition are processed strictly in order: a retried
 * message pauses its partition (consumer_retry.c), so no later offset of that
 * partition can be stored before it is finished. A handler may defer its
 * message until its outputs are stored (consumer_defer.c): then the offsets of
 * the partition wait in order behind it. librdkafka's auto-commit
 * commits the stored offsets every consumer.commit.interval.ms; revokes and
 * close commit synchronously.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "consumer_int.h"
#include "internal.h"
#include "metrics_int.h"
#include "producer_int.h"
#include "rdkafka_int.h"
#include "serde_int.h"
#include "trace_int.h"

#define TYPE_IDX(t) (((int)(t) >= 1 && (int)(t) <= 3) ? (int)(t) : 0)

/* Counters by index: 0-3 the event types (vtev_event_type_t), 4 + i the
 * generated-type subscription i.  Caller holds the lock. */
static vtev_consumer_stats_t *stats_at(vtev_consumer_t *c, int idx) {
    return idx >= 4 ? &c->typed[idx - 4].stats : &c->stats[idx];
}

static void stat_add(vtev_consumer_t *c, int idx, size_t field_off) {
    pthread_mutex_lock(&c->lock);
    *(uint64_t *)((char *)stats_at(c, idx) + field_off) += 1;
    pthread_mutex_unlock(&c->lock);
}
#define STAT_INC(c, idx, field) stat_add((c), (idx), offsetof(vtev_consumer_stats_t, field))

/* ---------------------------------------------------------------- partitions */

vtev_cpart_t *vtev__consumer_part(vtev_consumer_t *c, const char *topic, int32_t partition,
                                  bool create) {
    size_t i;
    vtev_cpart_t *p;
    for (i = 0; i < c->part_cnt; i++)
        if (c->parts[i].partition == partition && !strcmp(c->parts[i].topic, topic))
            return &c->parts[i];
    if (!create)
        return NULL;
    pthread_mutex_lock(&c->lock);
    if (c->part_cnt == c->part_cap) {
        size_t ncap = c->part_cap ? c->part_cap * 2 : 16;
        vtev_cpart_t *np = realloc(c->parts, ncap * sizeof(*np));
        if (!np) {
            pthread_mutex_unlock(&c->lock);
            return NULL;
        }
        c->parts = np;
        c->part_cap = ncap;
    }
    p = &c->parts[c->part_cnt];
    memset(p, 0, sizeof(*p));
    if (!(p->topic = vtev__strdup(topic))) {
        pthread_mutex_unlock(&c->lock);
        return NULL;
    }
    p->partition = partition;
    p->next_offset = -1;
    c->part_cnt++;
    pthread_mutex_unlock(&c->lock);
    return p;
}

/* Frees what a partition's state holds (not the slot itself). */
static void part_clear(vtev_cpart_t *p) {
    vtev__consumer_pending_drop(p);
    if (p->retry_msg)
        rd_kafka_message_destroy(p->retry_msg);
    p->retry_msg = NULL;
    free(p->topic);
}

static void part_remove(vtev_consumer_t *c, const char *topic, int32_t partition) {
    size_t i;
    pthread_mutex_lock(&c->lock);
    for (i = 0; i < c->part_cnt; i++) {
        if (c->parts[i].partition == partition && !strcmp(c->parts[i].topic, topic)) {
            part_clear(&c->parts[i]);
            c->parts[i] = c->parts[c->part_cnt - 1];
            c->part_cnt--;
            break;
        }
    }
    pthread_mutex_unlock(&c->lock);
}

/* ---------------------------------------------------------------- callbacks */

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    vtev_consumer_t *c = rd_kafka_opaque(rk);
    char f[64];
    snprintf(f, sizeof(f), "RDKAFKA-%s", fac);
    /* kafka.* keys go to the dead-letter producer too: consumer-only
     * properties there are expected, not worth a warning */
    if (!strcmp(fac, "CONFWARN") && strstr(buf, "is a consumer property"))
        level = 7;
    vtev__log(c ? c->conf : NULL, level, f, "%s", buf);
}

static int stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque) {
    vtev_consumer_t *c = opaque;
    (void)rk;
    vtev__brokers_from_stats(&c->brokers, json, len);
    return 0; /* librdkafka frees json */
}

/* librdkafka's client errors (served on the thread that polls). Logged as librdkafka logs
 * them without an error callback; an authentication failure stops the consumer: wrong
 * credentials do not mend by retrying (vtev_consumer_poll() returns it at once). */
static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    vtev_consumer_t *c = opaque;
    (void)rk;
    vtev__log(c->conf, 3, "RDKAFKA-ERROR", "%s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err),
              reason);
    if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION && !c->stopped_err) {
        snprintf(c->stopped_msg, sizeof(c->stopped_msg), "%s: %s",
                 vtev__rdkafka_auth_hint(c->conf), reason);
        c->stopped_err = VTEV_ERR_FATAL;
    }
}

static void commit_sync(vtev_consumer_t *c, const char *why) {
    rd_kafka_resp_err_t err = rd_kafka_commit(c->rk, NULL, 0);
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        vtev__log(c->conf, 4, "CONSUMER", "commit on %s failed: %s", why, rd_kafka_err2str(err));
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
    vtev_consumer_t *c = opaque;
    /* from the configured strategy, not rd_kafka_rebalance_protocol(): that
     * asks the group thread and waits without a bound, and this callback
     * also runs inside rd_kafka_consumer_close() while the group terminates */
    bool coop = c->cooperative;
    int i;

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rd_kafka_error_t *e = NULL;
        rd_kafka_resp_err_t aerr = RD_KAFKA_RESP_ERR_NO_ERROR;
        if (coop)
            e = rd_kafka_incremental_assign(rk, parts);
        else
            aerr = rd_kafka_assign(rk, parts);
        if (e || aerr) {
            vtev__log(c->conf, 3, "CONSUMER", "assign failed: %s",
                      e ? rd_kafka_error_string(e) : rd_kafka_err2str(aerr));
            if (e)
                rd_kafka_error_destroy(e);
        }
        for (i = 0; i < parts->cnt; i++) {
            vtev_cpart_t *p;
            part_remove(c, parts->elems[i].topic, parts->elems[i].partition);
            p = vtev__consumer_part(c, parts->elems[i].topic, parts->elems[i].partition, true);
            (void)p;
        }
        /* a partition paused for a retry by an earlier owner-epoch must flow */
        rd_kafka_resume_partitions(rk, parts);
        vtev__log(c->conf, 6, "CONSUMER", "assigned %d partition(s)", parts->cnt);
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        /* Commit what was finished; pending retries are dropped and will be
         * redelivered to the next owner from the committed offset, and so
         * are messages whose deferred outputs are not stored yet. */
        vtev__consumer_reap(c);
        commit_sync(c, "revoke");
        for (i = 0; i < parts->cnt; i++)
            part_remove(c, parts->elems[i].topic, parts->elems[i].partition);
        if (coop) {
            rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
            if (e)
                rd_kafka_error_destroy(e);
        } else {
            rd_kafka_assign(rk, NULL);
        }
        vtev__log(c->conf, 6, "CONSUMER", "revoked %d partition(s)", parts->cnt);
    } else {
        vtev__log(c->conf, 3, "CONSUMER", "rebalance error: %s", rd_kafka_err2str(err));
        if (coop) {
            rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
            if (e)
                rd_kafka_error_destroy(e);
        } else {
            rd_kafka_assign(rk, NULL);
        }
        pthread_mutex_lock(&c->lock);
        for (i = 0; i < (int)c->part_cnt; i++) {
            part_clear(&c->parts[i]);
        }
        c->part_cnt = 0;
        pthread_mutex_unlock(&c->lock);
    }
}

/* ---------------------------------------------------------------- life cycle */

static vtev_err_t set_rk(rd_kafka_conf_t *rkc, const char *name, const char *value,
                         char *errstr, size_t errstr_size) {
    char rkerr[512];
    if (rd_kafka_conf_set(rkc, name, value, rkerr, sizeof(rkerr)) != RD_KAFKA_CONF_OK)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, "%s: %s", name, rkerr);
    return VTEV_ERR_OK;
}

/* consumer.start.offset (NULL: from consumer.offset.reset) as a librdkafka
 * offset. */
static vtev_err_t parse_start_offset(const vtev_conf_t *conf, const char *s, int64_t *out,
                                     char *errstr, size_t errstr_size) {
    char *end;
    long long n;
    if (!s) {
        const char *reset = vtev__conf_str(conf, "consumer.offset.reset");
        *out = reset && !strcmp(reset, "latest") ? RD_KAFKA_OFFSET_END
                                                  : RD_KAFKA_OFFSET_BEGINNING;
        return VTEV_ERR_OK;
    }
    if (!strcmp(s, "beginning")) {
        *out = RD_KAFKA_OFFSET_BEGINNING;
        return VTEV_ERR_OK;
    }
    if (!strcmp(s, "end")) {
        *out = RD_KAFKA_OFFSET_END;
        return VTEV_ERR_OK;
    }
    errno = 0;
    n = strtoll(s, &end, 10);
    if (!*s || *end || errno || (*s == '-' && n == 0) || n == LLONG_MIN ||
        (n < 0 && -n > INT64_MAX + RD_KAFKA_OFFSET_TAIL_BASE))
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "consumer.start.offset: \"%s\" is not beginning, end, an offset N or "
                          "-N (N messages before the end)",
                          s);
    *out = n >= 0 ? (int64_t)n : RD_KAFKA_OFFSET_TAIL(-n);
    return VTEV_ERR_OK;
}

static void consumer_free(vtev_consumer_t *c) {
    size_t i;
    if (c->rk)
        rd_kafka_destroy(c->rk);
    if (c->dlq_rk) {
        rd_kafka_flush(c->dlq_rk, 5000);
        rd_kafka_destroy(c->dlq_rk);
    }
    vtev_serde_destroy(c->serde);
    for (i = 0; i < c->sub_cnt; i++)
        free(c->subs[i].topic);
    free(c->subs);
    for (i = 0; i < c->typed_cnt; i++)
        free(c->typed[i].topic);
    free(c->typed);
    for (i = 0; i < c->part_cnt; i++) {
        part_clear(&c->parts[i]);
    }
    free(c->parts);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

vtev_consumer_t *vtev_consumer_new(vtev_conf_t *conf, char *errstr, size_t errstr_size) {
    vtev_consumer_t *c;
    rd_kafka_conf_t *rkc = NULL;
    const char *group, *suffix, *start;
    char rkerr[512], num[32];
    vtev_conf_t *serde_conf;
    int64_t call_timeout_cap_ms = 150000, start_offset = RD_KAFKA_OFFSET_BEGINNING;
    bool read_only;

    if (!conf) {
        vtev__seterr(errstr, errstr_size, "vtev_consumer_new: conf must not be NULL");
        return NULL;
    }
    group = vtev__conf_str(conf, "group.id");
    if (group && !*group)
        group = NULL;
    read_only = vtev__conf_bool(conf, "consumer.read.only");
    if (!group && !read_only) {
        vtev__seterr(errstr, errstr_size,
                     "group.id: required for a consumer (the consumer group to join; a reader "
                     "without a group: consumer.read.only=true)");
        return NULL;
    }
    start = vtev__conf_str(conf, "consumer.start.offset");
    if (start && (group || !read_only)) {
        vtev__seterr(errstr, errstr_size,
                     "consumer.start.offset: only for a read-only consumer without group.id "
                     "(a group starts from its committed offsets; consumer.offset.reset says "
                     "where a new group starts)");
        return NULL;
    }
    if (parse_start_offset(conf, start, &start_offset, errstr, errstr_size) != VTEV_ERR_OK)
        return NULL;
    suffix = vtev__conf_str(conf, "dlq.suffix");
    if (!suffix || !*suffix || strlen(suffix) >= 64) {
        vtev__seterr(errstr, errstr_size, "dlq.suffix: must be 1 to 63 characters");
        return NULL;
    }
    if (!(c = calloc(1, sizeof(*c)))) {
        vtev__seterr(errstr, errstr_size, "vtev_consumer_new: out of memory");
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    atomic_init(&c->stop, 0);
    c->conf = conf; /* borrowed until success */
    c->read_only = read_only;
    c->metrics = vtev__conf_bool(conf, "metrics.enable");
    c->has_group = group != NULL;
    c->start_offset = start_offset;
    vtev__brokers_init(&c->brokers, c->metrics);
    atomic_init(&c->last_poll_us, vtev__now_mono_us());
    if (group)
        snprintf(c->name, sizeof(c->name), "consumer %s", group);
    else
        snprintf(c->name, sizeof(c->name), "reader");
    c->max_attempts = (int)vtev__conf_int(conf, "consumer.retry.max.attempts");
    c->backoff_ms = vtev__conf_int(conf, "consumer.retry.backoff.ms");
    c->backoff_max_ms = vtev__conf_int(conf, "consumer.retry.backoff.max.ms");
    if (c->backoff_max_ms < c->backoff_ms)
        c->backoff_max_ms = c->backoff_ms;
    c->commit_interval_ms = vtev__conf_int(conf, "consumer.commit.interval.ms");
    c->dlq_enable = vtev__conf_bool(conf, "consumer.dlq.enable");
    c->schema_nf_window_ms = vtev__conf_int(conf, "consumer.schema.not.found.retry.ms");
    /* a reader never writes to Kafka: it has no retry tiers */
    c->tiers = read_only ? 0 : (int)vtev__conf_int(conf, "consumer.retry.tiers");
    {
        const char *how = vtev__conf_str(conf, "consumer.retry.tier.backoff");
        c->tier_backoff = !strcmp(how, "fixed")    ? VTEV__TIER_FIXED
                          : !strcmp(how, "linear") ? VTEV__TIER_LINEAR
                                                   : VTEV__TIER_EXPONENTIAL;
    }
    c->tier_delay_ms = vtev__conf_int(conf, "consumer.retry.tier.delay.ms");
    c->tier_delay_max_ms = vtev__conf_int(conf, "consumer.retry.tier.delay.max.ms");
    snprintf(c->dlq_suffix, sizeof(c->dlq_suffix), "%s", suffix);

    if (!(rkc = rd_kafka_conf_new()))
        goto nomem;
    if (vtev__conf_apply_kafka(conf, rkc, errstr, errstr_size) != VTEV_ERR_OK)
        goto fail;
    rd_kafka_conf_set_opaque(rkc, c);
    rd_kafka_conf_set_log_cb(rkc, log_cb);

    /* the dead-letter producer also moves messages to the retry tiers */
    if ((c->dlq_enable || c->tiers > 0) && !c->read_only &&
        vtev__dlq_new(c, rkc, errstr, errstr_size) != VTEV_ERR_OK)
        goto fail;

    /* consumer properties (group.id and auto.offset.reset: rdkafka_conf.c);
     * explicit kafka.* keys win where that is safe */
    if (vtev__rdkafka_consumer_props(conf, rkc, errstr, errstr_size) ||
        set_rk(rkc, "enable.auto.offset.store", "false", errstr, errstr_size))
        goto fail;
    if (!vtev__conf_is_set(conf, "kafka.partition.assignment.strategy") &&
        set_rk(rkc, "partition.assignment.strategy", "roundrobin", errstr, errstr_size))
        goto fail;
    {
        /* librdkafka refuses a list that mixes cooperative and eager
         * assignors, so one cooperative name makes the protocol COOPERATIVE */
        char strat[256];
        size_t ssz = sizeof(strat);
        c->cooperative = rd_kafka_conf_get(rkc, "partition.assignment.strategy", strat, &ssz) ==
                             RD_KAFKA_CONF_OK &&
                         strstr(strat, "cooperative") != NULL;
        /* the library that runs, not the headers built against */
        if (c->cooperative && rd_kafka_version() < 0x020200ff)
            vtev__log(conf, 4, "CONSUMER",
                      "partition.assignment.strategy %s with librdkafka %s: before 2.2.0 a member "
                      "of a cooperative group can abort in "
                      "rd_kafka_sticky_assignor_state_destroy() when it is closed or destroyed "
                      "(librdkafka issue #4312); prefer roundrobin or range here",
                      strat, rd_kafka_version_str());
    }
    if (!vtev__conf_is_set(conf, "kafka.enable.partition.eof") &&
        set_rk(rkc, "enable.partition.eof", "true", errstr, errstr_size))
        goto fail;
    if (!c->has_group) {
        /* librdkafka wants a group.id even for assign(); this one never
         * joins a group and never commits */
        char gid[96];
        snprintf(gid, sizeof(gid), "vtev-reader-%ld-%p", (long)getpid(), (void *)c);
        if (set_rk(rkc, "group.id", gid, errstr, errstr_size) ||
            set_rk(rkc, "enable.auto.commit", "false", errstr, errstr_size))
            goto fail;
    } else if (!vtev__conf_is_set(conf, "kafka.enable.auto.commit")) {
        snprintf(num, sizeof(num), "%" PRId64,
                 c->commit_interval_ms > 0 ? c->commit_interval_ms : 1000);
        if (set_rk(rkc, "enable.auto.commit", c->commit_interval_ms > 0 ? "true" : "false",
                   errstr, errstr_size) ||
            set_rk(rkc, "auto.commit.interval.ms", num, errstr, errstr_size))
            goto fail;
    }
    rd_kafka_conf_set_rebalance_cb(rkc, rebalance_cb);
    rd_kafka_conf_set_stats_cb(rkc, stats_cb);
    rd_kafka_conf_set_error_cb(rkc, error_cb);
    if (vtev__health_stats_interval(conf, rkc, errstr, errstr_size))
        goto fail;
    {
        /* a registry call runs on the poll thread: bound it well below
         * max.poll.interval.ms, or the group would evict the consumer */
        char mpi[32];
        size_t mpisz = sizeof(mpi);
        int64_t cap = 300000 / 2;
        c->max_poll_ms = 300000;
        if (rd_kafka_conf_get(rkc, "max.poll.interval.ms", mpi, &mpisz) == RD_KAFKA_CONF_OK) {
            c->max_poll_ms = strtoll(mpi, NULL, 10);
            cap = c->max_poll_ms / 2;
        }
        if (cap < 1)
            cap = 1;
        call_timeout_cap_ms = cap;
    }

    if (!(c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, rkc, rkerr, sizeof(rkerr)))) {
        vtev__seterr(errstr, errstr_size, "consumer: %s", rkerr);
        goto fail;
    }
    rkc = NULL; /* owned by rk */
    rd_kafka_poll_set_consumer(c->rk);

    if (!(serde_conf = vtev_conf_dup(conf)))
        goto nomem;
    if (vtev__conf_int(conf, "schema.registry.call.timeout.ms") > call_timeout_cap_ms) {
        snprintf(num, sizeof(num), "%" PRId64, call_timeout_cap_ms);
        vtev__log(conf, 6, "CONSUMER",
                  "schema.registry.call.timeout.ms capped at %s (half of max.poll.interval.ms)",
                  num);
        if (vtev_conf_set(serde_conf, "schema.registry.call.timeout.ms", num, NULL, 0) !=
            VTEV_CONF_OK) {
            vtev_conf_destroy(serde_conf);
            goto nomem;
        }
    }
    if (!(c->serde = vtev_serde_new(serde_conf, errstr, errstr_size))) {
        vtev_conf_destroy(serde_conf);
        goto fail;
    }
    vtev__health_track_consumer(c, true);
    return c; /* c->conf now owned */

nomem:
    vtev__seterr(errstr, errstr_size, "vtev_consumer_new: out of memory");
fail:
    if (rkc)
        rd_kafka_conf_destroy(rkc);
    c->conf = NULL; /* not ours */
    consumer_free(c);
    return NULL;
}

vtev_err_t vtev_consumer_close(vtev_consumer_t *c, char *errstr, size_t errstr_size) {
    rd_kafka_resp_err_t err, cerr;
    if (!c)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "vtev_consumer_close: consumer must not be NULL");
    if (c->closed)
        return VTEV_ERR_OK;
    c->closed = true;
    vtev__consumer_reap(c); /* deferred messages whose outputs are stored by now */
    err = c->has_group ? rd_kafka_commit(c->rk, NULL, 0) : RD_KAFKA_RESP_ERR_NO_ERROR;
    if (err == RD_KAFKA_RESP_ERR__NO_OFFSET)
        err = RD_KAFKA_RESP_ERR_NO_ERROR;
    cerr = rd_kafka_consumer_close(c->rk);
    if (err)
        return vtev__fail(VTEV_ERR_KAFKA, errstr, errstr_size, "final commit failed: %s",
                          rd_kafka_err2str(err));
    if (cerr)
        return vtev__fail(VTEV_ERR_KAFKA, errstr, errstr_size, "close failed: %s",
                          rd_kafka_err2str(cerr));
    return VTEV_ERR_OK;
}

void vtev_consumer_destroy(vtev_consumer_t *c) {
    vtev_conf_t *conf;
    if (!c)
        return;
    vtev__health_track_consumer(c, false);
    if (!c->closed) {
        char e[256];
        if (vtev_consumer_close(c, e, sizeof(e)) != VTEV_ERR_OK)
            vtev__log(c->conf, 4, "CONSUMER", "close: %s", e);
    }
    conf = c->conf;
    consumer_free(c);
    vtev_conf_destroy(conf);
}

/* ---------------------------------------------------------------- subscriptions */

static vtev_err_t resubscribe(vtev_consumer_t *c, char *errstr, size_t errstr_size) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)c->sub_cnt);
    rd_kafka_resp_err_t err;
    size_t i;
    if (!l)
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "subscribe: out of memory");
    for (i = 0; i < c->sub_cnt; i++)
        rd_kafka_topic_partition_list_add(l, c->subs[i].topic, RD_KAFKA_PARTITION_UA);
    err = rd_kafka_subscribe(c->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (err)
        return vtev__fail(VTEV_ERR_KAFKA, errstr, errstr_size, "subscribe: %s",
                          rd_kafka_err2str(err));
    return VTEV_ERR_OK;
}

/* The metadata of rkt, asked for during up to 10 s in attempts of at most 500 ms. While
 * nothing is assigned yet, polling the consumer queue returns no message of a partition, it
 * only serves errors: an authentication failure (error_cb()) ends the wait at once (returned,
 * with errstr naming the settings) instead of after the 10 s. */
static rd_kafka_resp_err_t reader_metadata(vtev_consumer_t *c, rd_kafka_topic_t *rkt,
                                           const struct rd_kafka_metadata **mdp, char *errstr,
                                           size_t errstr_size) {
    static const struct timespec pause = {0, 100 * 1000 * 1000};
    int64_t end = vtev__now_mono_us() + 10000 * 1000;
    rd_kafka_resp_err_t rerr;
    for (;;) {
        int64_t t0 = vtev__now_mono_us(), left_ms = (end - t0) / 1000;
        rd_kafka_message_t *m;
        bool quick;
        rerr = rd_kafka_metadata(c->rk, 0, rkt, mdp, left_ms < 500 ? (int)left_ms + 1 : 500);
        if (rerr == RD_KAFKA_RESP_ERR_NO_ERROR)
            return rerr;
        if (vtev__now_mono_us() >= end)
            return rerr;
        quick = vtev__now_mono_us() - t0 < 100 * 1000; /* failed at once: no busy loop */
        if (c->part_cnt > 0) {
            if (quick)
                nanosleep(&pause, NULL);
            continue;
        }
        while ((m = rd_kafka_consumer_poll(c->rk, quick ? 100 : 0))) { /* serves error_cb() */
            if (m->err)
                vtev__log(c->conf, 4, "CONSUMER", "%s", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
        }
        if (c->stopped_err == VTEV_ERR_FATAL) {
            vtev__seterr(errstr, errstr_size, "%s", c->stopped_msg);
            return RD_KAFKA_RESP_ERR__AUTHENTICATION;
        }
    }
}

/* A reader's new topic: it must exist; without a group every partition of
 * it is assigned at consumer.start.offset (the partitions already assigned
 * keep their positions). */
static vtev_err_t reader_topic(vtev_consumer_t *c, const char *topic, char *errstr,
                               size_t errstr_size) {
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_partition_list_t *l = NULL;
    rd_kafka_topic_t *rkt;
    rd_kafka_resp_err_t rerr;
    rd_kafka_error_t *e;
    vtev_err_t err = VTEV_ERR_OK;
    int i;

    if (!(rkt = rd_kafka_topic_new(c->rk, topic, NULL)))
        return vtev__fail(VTEV_ERR_KAFKA, errstr, errstr_size, "topic %s: %s", topic,
                          rd_kafka_err2str(rd_kafka_last_error()));
    rerr = reader_metadata(c, rkt, &md, errstr, errstr_size);
    rd_kafka_topic_destroy(rkt);
    if (rerr == RD_KAFKA_RESP_ERR__AUTHENTICATION)
        return VTEV_ERR_FATAL; /* errstr says which settings */
    if (rerr)
        return vtev__fail(VTEV_ERR_KAFKA, errstr, errstr_size,
                          "topic %s: cannot read its metadata: %s", topic, rd_kafka_err2str(rerr));
    if (md->topic_cnt < 1 || md->topics[0].err) {
        rerr = md->topic_cnt < 1 ? RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART : md->topics[0].err;
        err = vtev__fail(rerr == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ? VTEV_ERR_NOT_FOUND
                                                                         : VTEV_ERR_KAFKA,
                         errstr, errstr_size, "topic %s: %s", topic, rd_kafka_err2str(rerr));
        goto out;
    }
    if (c->has_group)
        goto out;
    if (!(l = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt))) {
        err = vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "subscribe: out of memory");
        goto out;
    }
    for (i = 0; i < md->topics[0].partition_cnt; i++) {
        rd_kafka_topic_partition_list_add(l, topic, md->topics[0].partitions[i].id)->offset =
            c->start_offset;
        if (!vtev__consumer_part(c, topic, md->topics[0].partitions[i].id, true)) {
            err = vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "subscribe: out of memory");
            goto out;
        }
    }
    /* incremental: the topics assigned before keep their positions */
    if ((e = rd_kafka_incremental_assign(c->rk, l))) {
        err = vtev__fail(VTEV_ERR_KAFKA, errstr, errstr_size, "topic %s: assign: %s", topic,
                         rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        goto out;
    }
    vtev__log(c->conf, 6, "CONSUMER", "reading %d partition(s) of %s without a group",
              l->cnt, topic);
out:
    if (err != VTEV_ERR_OK && !c->has_group && md && md->topic_cnt >= 1)
        for (i = 0; i < md->topics[0].partition_cnt; i++)
            part_remove(c, topic, md->topics[0].partitions[i].id);
    if (l)
        rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_metadata_destroy(md);
    return err;
}

static vtev_err_t add_sub_one(vtev_consumer_t *c, const char *topic, vtev_event_type_t expected,
                              bool legacy, char *errstr, size_t errstr_size);

/* A subscription to topic, and with retry tiers to its retry topics. */
static vtev_err_t add_sub(vtev_consumer_t *c, const char *topic, vtev_event_type_t expected,
                          bool legacy, char *errstr, size_t errstr_size) {
    vtev_err_t err;
    int n;
    if (!topic || !*topic || strlen(topic) > 249)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "topic: must be 1 to 249 characters");
    if ((err = add_sub_one(c, topic, expected, legacy, errstr, errstr_size)))
        return err;
    if (c->tiers > 0 && vtev__consumer_tiered_topic(c->conf, topic) &&
        !vtev__consumer_tier_of(c, topic, NULL, 0)) {
        if (strlen(topic) + 10 > 249)
            return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                              "%s: too long for its retry topics (%s.retry.N)", topic, topic);
        for (n = 1; n <= c->tiers; n++) {
            char rt[300];
            snprintf(rt, sizeof(rt), "%s.retry.%d", topic, n);
            if ((err = add_sub_one(c, rt, expected, legacy, errstr, errstr_size)))
                return err;
            vtev__consumer_tier_warm(c, rt);
        }
    }
    return c->has_group ? resubscribe(c, errstr, errstr_size) : VTEV_ERR_OK;
}

static vtev_err_t add_sub_one(vtev_consumer_t *c, const char *topic, vtev_event_type_t expected,
                              bool legacy, char *errstr, size_t errstr_size) {
    size_t i;
    vtev_csub_t *ns;
    vtev_err_t err;
    for (i = 0; i < c->sub_cnt; i++) {
        if (!strcmp(c->subs[i].topic, topic)) {
            if (c->subs[i].expected != expected)
                c->subs[i].expected = VTEV_EVENT_NONE; /* several types: by writer schema */
            c->subs[i].legacy |= legacy;
            return VTEV_ERR_OK;
        }
    }
    if (!(ns = realloc(c->subs, (c->sub_cnt + 1) * sizeof(*ns))))
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "subscribe: out of memory");
    c->subs = ns;
    if (!(ns[c->sub_cnt].topic = vtev__strdup(topic)))
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "subscribe: out of memory");
    if (c->read_only && (err = reader_topic(c, topic, errstr, errstr_size)) != VTEV_ERR_OK) {
        free(ns[c->sub_cnt].topic);
        return err;
    }
    ns[c->sub_cnt].expected = expected;
    ns[c->sub_cnt].legacy = legacy;
    c->sub_cnt++;
    return VTEV_ERR_OK;
}

vtev_err_t vtev_consumer_set_handler(vtev_consumer_t *c, vtev_event_type_t type,
                                     vtev_handler_t *handler, void *opaque) {
    if (!c || TYPE_IDX(type) == 0)
        return VTEV_ERR_INVALID_ARG;
    c->handlers[type].fn = handler;
    c->handlers[type].opaque = opaque;
    return VTEV_ERR_OK;
}

vtev_err_t vtev_consumer_subscribe(vtev_consumer_t *c, vtev_event_type_t type,
                                   const char *topic, vtev_handler_t *handler, void *opaque,
                                   char *errstr, size_t errstr_size) {
    static const char *const topic_keys[4] = {NULL, "topic.position", "topic.request",
                                              "topic.result"};
    if (!c || !handler)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "vtev_consumer_subscribe: consumer and handler must not be NULL");
    if (TYPE_IDX(type) == 0)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "vtev_consumer_subscribe: type: %d is not an event type", (int)type);
    if (c->closed)
        return vtev__fail(VTEV_ERR_STATE, errstr, errstr_size, "consumer is closed");
    if (!topic)
        topic = vtev__conf_str(c->conf, topic_keys[type]);
    vtev_consumer_set_handler(c, type, handler, opaque);
    return add_sub(c, topic, type, true, errstr, errstr_size);
}

vtev_err_t vtev_consumer_subscribe_topic(vtev_consumer_t *c, const char *topic, char *errstr,
                                         size_t errstr_size) {
    if (!c)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "vtev_consumer_subscribe_topic: consumer must not be NULL");
    if (c->closed)
        return vtev__fail(VTEV_ERR_STATE, errstr, errstr_size, "consumer is closed");
    return add_sub(c, topic, VTEV_EVENT_NONE, true, errstr, errstr_size);
}

vtev_err_t vtev_consumer_subscribe_type(vtev_consumer_t *c, const vtev_type_t *type,
                                        const char *topic, vtev_type_handler_t *handler,
                                        void *opaque, char *errstr, size_t errstr_size) {
    size_t i;
    vtev_ctyped_t *nt;
    char *t;
    vtev_err_t err;
    if (!c || !type || !topic || !handler)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "vtev_consumer_subscribe_type: consumer, type, topic and handler are "
                          "required");
    if (!VTEV__TYPE_ABI_OK(type))
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "type %s: descriptor ABI version %d, this library reads 1 to %d",
                          type->full_name ? type->full_name : "?", type->abi_version,
                          VTEV_TYPE_ABI_VERSION);
    if (c->closed)
        return vtev__fail(VTEV_ERR_STATE, errstr, errstr_size, "consumer is closed");
    for (i = 0; i < c->typed_cnt; i++) {
        if (c->typed[i].type == type && !strcmp(c->typed[i].topic, topic)) {
            c->typed[i].fn = handler; /* replaces the earlier handler */
            c->typed[i].opaque = opaque;
            return VTEV_ERR_OK;
        }
    }
    if (!(t = vtev__strdup(topic)))
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "subscribe: out of memory");
    pthread_mutex_lock(&c->lock);
    nt = realloc(c->typed, (c->typed_cnt + 1) * sizeof(*nt));
    if (!nt) {
        pthread_mutex_unlock(&c->lock);
        free(t);
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "subscribe: out of memory");
    }
    c->typed = nt;
    memset(&nt[c->typed_cnt], 0, sizeof(*nt));
    nt[c->typed_cnt].topic = t;
    nt[c->typed_cnt].type = type;
    nt[c->typed_cnt].fn = handler;
    nt[c->typed_cnt].opaque = opaque;
    c->typed_cnt++;
    pthread_mutex_unlock(&c->lock);
    if ((err = add_sub(c, topic, VTEV_EVENT_NONE, false, errstr, errstr_size)) != VTEV_ERR_OK) {
        pthread_mutex_lock(&c->lock); /* not subscribed: forget it */
        c->typed_cnt--;
        pthread_mutex_unlock(&c->lock);
        free(t);
    }
    return err;
}

vtev_err_t vtev_consumer_type_stats(vtev_consumer_t *c, const vtev_type_t *type,
                                    vtev_consumer_stats_t *out) {
    size_t i;
    bool found = false;
    if (!c || !type || !out)
        return VTEV_ERR_INVALID_ARG;
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&c->lock);
    for (i = 0; i < c->typed_cnt; i++) {
        const vtev_consumer_stats_t *st = &c->typed[i].stats;
        if (c->typed[i].type != type)
            continue;
        found = true;
        out->consumed += st->consumed;
        out->ok += st->ok;
        out->retried += st->retried;
        out->rejected += st->rejected;
        out->dead_lettered += st->dead_lettered;
        out->handler_time_us += st->handler_time_us;
        if (st->handler_max_us > out->handler_max_us)
            out->handler_max_us = st->handler_max_us;
    }
    pthread_mutex_unlock(&c->lock);
    return found ? VTEV_ERR_OK : VTEV_ERR_NOT_FOUND;
}

static vtev_event_type_t expected_type(vtev_consumer_t *c, const char *topic) {
    size_t i;
    for (i = 0; i < c->sub_cnt; i++)
        if (!strcmp(c->subs[i].topic, topic))
            return c->subs[i].expected;
    return VTEV_EVENT_NONE;
}

static bool topic_legacy(vtev_consumer_t *c, const char *topic) {
    size_t i;
    for (i = 0; i < c->sub_cnt; i++)
        if (!strcmp(c->subs[i].topic, topic))
            return c->subs[i].legacy;
    return false;
}

/* The generated-type subscription that reads m: *tip = its index, or -1 for
 * the three events' path.  One typed subscription on a topic without others
 * takes every message (resolution decides); otherwise the writer schema's
 * full name picks it, which needs the writer schema (registry errors are
 * returned as vtev_serde_deserialize() returns them). */
static vtev_err_t pick_typed(vtev_consumer_t *c, const char *topic, const rd_kafka_message_t *m,
                             int *tip, char *errstr, size_t errstr_size) {
    size_t i, n = 0;
    int only = -1;
    bool legacy;
    char name[512];
    vtev_err_t err;
    *tip = -1;
    for (i = 0; i < c->typed_cnt; i++) {
        if (!strcmp(c->typed[i].topic, topic)) {
            n++;
            only = (int)i;
        }
    }
    if (n == 0)
        return VTEV_ERR_OK;
    legacy = topic_legacy(c, topic);
    if (n == 1 && !legacy) {
        *tip = only;
        return VTEV_ERR_OK;
    }
    if ((err = vtev__serde_writer_fullname(c->serde, m->payload, m->len, name, sizeof(name), errstr,
                                           errstr_size)))
        return err;
    for (i = 0; i < c->typed_cnt; i++) {
        if (!strcmp(c->typed[i].topic, topic) && !strcmp(c->typed[i].type->full_name, name)) {
            *tip = (int)i;
            return VTEV_ERR_OK;
        }
    }
    if (legacy)
        return VTEV_ERR_OK; /* perhaps one of the three events */
    return vtev__fail(VTEV_ERR_NOT_FOUND, errstr, errstr_size,
                      "no subscription on topic %s for writer schema %s", topic, name);
}

/* The counters' index of messages of topic whose type is not known yet. */
static int topic_stats_idx(vtev_consumer_t *c, const char *topic) {
    size_t i, n = 0;
    int only = 0;
    for (i = 0; i < c->typed_cnt; i++) {
        if (!strcmp(c->typed[i].topic, topic)) {
            n++;
            only = 4 + (int)i;
        }
    }
    if (n == 1 && !topic_legacy(c, topic))
        return only;
    return TYPE_IDX(expected_type(c, topic));
}

/* ---------------------------------------------------------------- processing */

/* The message is finished with: no retry pending for it. */
static void finish_msg(vtev_consumer_t *c, vtev_cpart_t *p) {
    rd_kafka_message_t *kept;
    pthread_mutex_lock(&c->lock);
    kept = p->retry_msg;
    p->retry_msg = NULL;
    p->retry_active = false;
    p->pending_dlq = false;
    p->attempts = 0;
    p->env_failures = 0;
    p->missing_since_us = 0;
    pthread_mutex_unlock(&c->lock);
    if (kept)
        rd_kafka_message_destroy(kept);
}

/* Finished, and its offset may be stored (once the earlier ones are). */
static void mark_done(vtev_consumer_t *c, vtev_cpart_t *p, const rd_kafka_message_t *m) {
    finish_msg(c, p);
    vtev__consumer_offset_done(c, p, m->offset);
}

static void msg_info_init(vtev_msg_info_t *info, const char *topic, const rd_kafka_message_t *m,
                          int32_t schema_id, int attempt);
static void trace_begin(vtev__trace_scope_t *s, vtev_msg_info_t *info);
static void trace_end(vtev__trace_scope_t *s, vtev_verdict_t verdict);

/* The headers of m in order into info (headers NULL when none): in hstack
 * when they fit (hn entries), else in an array the caller frees (*hvp !=
 * hstack).  false when out of memory. */
static bool msg_headers(const rd_kafka_message_t *m, vtev_header_t *hstack, size_t hn,
                        vtev_header_t **hvp, vtev_msg_info_t *info) {
    rd_kafka_headers_t *hdrs = NULL;
    vtev_header_t *hv = hstack;
    size_t n, i;
    *hvp = hstack;
    info->headers = NULL;
    info->header_cnt = 0;
    if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR || !hdrs)
        return true;
    n = rd_kafka_header_cnt(hdrs);
    if (n > hn && !(hv = malloc(n * sizeof(*hv))))
        return false;
    for (i = 0; i < n; i++)
        if (rd_kafka_header_get_all(hdrs, i, &hv[i].name, &hv[i].value, &hv[i].value_len))
            break;
    *hvp = hv;
    info->headers = i ? hv : NULL;
    info->header_cnt = i;
    return true;
}

/* A read-only consumer's poison message: to the unhandled callback (or the
 * log) instead of a dead-letter topic; it moves past the message unless the
 * callback holds it. */
static vtev_err_t unhandled(vtev_consumer_t *c, vtev_cpart_t *p, const rd_kafka_message_t *m,
                            vtev_err_t why, const char *why_msg, int attempts) {
    vtev_verdict_t v = VTEV_VERDICT_OK;
    if (c->unhandled_cb) {
        vtev_msg_info_t info;
        vtev_header_t hstack[16], *hv;
        vtev__trace_scope_t tscope;
        int32_t schema_id = -1;
        if (vtev_frame_parse(m->payload, m->len, &schema_id, NULL, NULL, NULL, 0) != VTEV_ERR_OK)
            schema_id = -1;
        msg_info_init(&info, p->topic, m, schema_id, attempts);
        if (!msg_headers(m, hstack, VTEV_ARRAY_SIZE(hstack), &hv, &info)) {
            vtev__consumer_retry_env(c, p, m->offset, attempts - 1);
            return VTEV_ERR_OK;
        }
        trace_begin(&tscope, &info);
        v = c->unhandled_cb(c, why, why_msg, m->payload, m->len, &info, c->unhandled_opaque);
        trace_end(&tscope, v);
        if (hv != hstack)
            free(hv);
    } else {
        vtev__log(c->conf, 4, "CONSUMER",
                  "%s [%" PRId32 "] offset %" PRId64 " skipped (read-only): %s: %s", p->topic,
                  p->partition, m->offset, vtev_err2name(why), why_msg);
    }
    if (v == VTEV_VERDICT_RETRY_ENV) {
        vtev__consumer_retry_env(c, p, m->offset, attempts - 1);
        return VTEV_ERR_OK;
    }
    mark_done(c, p, m);
    return VTEV_ERR_OK;
}

static vtev_err_t dead_letter(vtev_consumer_t *c, vtev_cpart_t *p, const rd_kafka_message_t *m,
                              vtev_err_t why, const char *why_msg, int attempts, int tidx,
                              char *errstr, size_t errstr_size) {
    char e[512];
    vtev_err_t err;
    if (c->read_only)
        return unhandled(c, p, m, why, why_msg, attempts);
    if (!c->dlq_enable) {
        c->stopped_err = why;
        snprintf(c->stopped_msg, sizeof(c->stopped_msg),
                 "%s [%" PRId32 "] offset %" PRId64
                 ": %s (consumer.dlq.enable=false: stopping instead of dead-lettering)",
                 p->topic, p->partition, m->offset, why_msg);
        return vtev__fail(why, errstr, errstr_size, "%s", c->stopped_msg);
    }
    err = vtev__dlq_send(c, m, why, why_msg, attempts, e, sizeof(e));
    if (err == VTEV_ERR_OK) {
        vtev__log(c->conf, 5, "CONSUMER",
                  "%s [%" PRId32 "] offset %" PRId64 " dead-lettered: %s: %s", p->topic,
                  p->partition, m->offset, vtev_err2name(why), why_msg);
        STAT_INC(c, tidx, dead_lettered);
        if (p->met)
            vtev__counter_add(p->met->dead_letter, 1);
        /* rare: the (topic, reason) series is looked up in the store */
        if (c->metrics)
            vtev__counter_add(
                vtev__metric_series(VTEV__M_DEAD_LETTERS, p->topic, vtev_err2name(why)), 1);
        mark_done(c, p, m);
        return VTEV_ERR_OK;
    }
    /* Do not advance: redeliver later and dead-letter again. */
    vtev__log(c->conf, 4, "CONSUMER", "%s [%" PRId32 "] offset %" PRId64 ": dead letter: %s",
              p->topic, p->partition, m->offset, e);
    pthread_mutex_lock(&c->lock);
    p->pending_dlq = true;
    p->dlq_err = why;
    snprintf(p->dlq_msg, sizeof(p->dlq_msg), "%s", why_msg);
    pthread_mutex_unlock(&c->lock);
    vtev__consumer_schedule_retry(c, p, m, attempts);
    return VTEV_ERR_OK;
}

/* Where m came from, without its headers. */
static void msg_info_init(vtev_msg_info_t *info, const char *topic, const rd_kafka_message_t *m,
                          int32_t schema_id, int attempt) {
    memset(info, 0, sizeof(*info));
    info->topic = topic;
    info->partition = m->partition;
    info->offset = m->offset;
    info->key = m->key;
    info->key_len = m->key_len;
    info->timestamp_ms = rd_kafka_message_timestamp(m, NULL);
    info->schema_id = schema_id;
    info->attempt = attempt;
}

/*
 * Errors of decoding that are about the environment, not the message: never
 * dead-lettered. On this path the registry is only asked for a writer schema
 * by id, so any registry answer but "not found" (vtev_err_is_retriable(), and
 * an unexpected error answer) is the registry's trouble.
 */
static bool environment_error(vtev_err_t err) {
    return vtev_err_is_retriable(err) || err == VTEV_ERR_REGISTRY;
}

/* Pauses the partition, seeks back to m and retries it after a backoff that
 * grows with the failures, without limit and without using up handler
 * attempts; reports err through the error callback. */
static void environment_retry(vtev_consumer_t *c, vtev_cpart_t *p, const rd_kafka_message_t *m,
                              int attempt, int tidx, int32_t schema_id, vtev_err_t err,
                              const char *why) {
    int failures;
    STAT_INC(c, tidx, retried);
    if (p->met)
        vtev__counter_add(p->met->retry, 1);
    failures = vtev__consumer_retry_env(c, p, m->offset, attempt - 1);
    vtev__log(c->conf, 4, "CONSUMER",
              "%s [%" PRId32 "] offset %" PRId64 ": %s: %s (not the message's fault: paused, "
              "retry %d)",
              p->topic, p->partition, m->offset, vtev_err2name(err), why, failures);
    if (c->error_cb) {
        vtev_msg_info_t info;
        msg_info_init(&info, p->topic, m, schema_id, failures);
        c->error_cb(c, err, why, &info, c->error_opaque);
    }
}

void vtev_consumer_set_error_cb(vtev_consumer_t *c, vtev_consumer_error_cb_t *error_cb,
                                void *opaque) {
    if (!c)
        return;
    c->error_cb = error_cb;
    c->error_opaque = opaque;
}

vtev_err_t vtev_consumer_set_unhandled_cb(vtev_consumer_t *c,
                                          vtev_consumer_unhandled_cb_t *unhandled_cb,
                                          void *opaque) {
    if (!c)
        return VTEV_ERR_INVALID_ARG;
    if (!c->read_only)
        return VTEV_ERR_STATE;
    c->unhandled_cb = unhandled_cb;
    c->unhandled_opaque = opaque;
    return VTEV_ERR_OK;
}

void vtev_consumer_set_eof_cb(vtev_consumer_t *c, vtev_consumer_eof_cb_t *eof_cb, void *opaque) {
    if (!c)
        return;
    c->eof_cb = eof_cb;
    c->eof_opaque = opaque;
}

/* Whether the log of p no longer holds p->retry_offset: the partition's
 * low watermark, asked of its leader (this runs only when a later offset
 * came while retrying).  Unknown counts as "still there". */
static bool retried_offset_gone(vtev_consumer_t *c, const vtev_cpart_t *p) {
    int64_t lo = -1, hi = -1;
    if (rd_kafka_query_watermark_offsets(c->rk, p->topic, p->partition, &lo, &hi, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return false;
    return lo > p->retry_offset;
}

/* vtev_consumer_lag_messages{topic,partition}: the high watermark that
 * librdkafka last learnt (cached, no request) minus the offset after m.
 * The partition's series are looked up at its first message (m NULL: only
 * that). */
static void update_metrics_lag(vtev_consumer_t *c, vtev_cpart_t *p, const rd_kafka_message_t *m) {
    int64_t lo = -1, hi = -1;
    if (!c->metrics)
        return; /* metrics.enable=false: p->met stays NULL, nothing is counted */
    if (!p->met) {
        char part[16];
        snprintf(part, sizeof(part), "%" PRId32, p->partition);
        p->met = vtev__ctopic_met(p->topic);
        p->lag = vtev__metric_series(VTEV__M_CONSUMER_LAG, p->topic, part);
    }
    if (!m)
        return; /* only the lookup */
    if (p->lag &&
        rd_kafka_get_watermark_offsets(c->rk, p->topic, p->partition, &lo, &hi) ==
            RD_KAFKA_RESP_ERR_NO_ERROR &&
        hi >= 0)
        vtev__gauge_set(p->lag, hi > m->offset + 1 ? (double)(hi - (m->offset + 1)) : 0.0);
}

/* vtev_event_age_seconds: now minus the event's time, the envelope's
 * timestamp for the three platform events (ev), else the Kafka message's
 * timestamp (generated types: the producer's CreateTime, or the broker's
 * LogAppendTime). */
static void observe_age(vtev_cpart_t *p, const rd_kafka_message_t *m, const vtev_event_t *ev) {
    int64_t ts_us = -1;
    if (!p->met || !p->met->age)
        return;
    if (ev)
        ts_us = ev->u.env.timestamp_us;
    else {
        rd_kafka_timestamp_type_t tt;
        int64_t ms = rd_kafka_message_timestamp(m, &tt);
        if (ms >= 0 && tt != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE)
            ts_us = ms * 1000;
    }
    if (ts_us > 0)
        vtev__hist_observe_us(p->met->age, vtev__now_wall_us() - ts_us);
}

/* A header's value as a string (truncated to size - 1), "" when absent. */
static void header_str(const vtev_header_t *h, char *buf, size_t size) {
    size_t n = h && h->value ? (h->value_len < size ? h->value_len : size - 1) : 0;
    if (n)
        memcpy(buf, h->value, n);
    buf[n] = '\0';
}

/* The message's trace context becomes the thread's current one for the
 * handler (trace.h), and its topic, event_id, correlation_id and trace id
 * the thread's log context (log.h); info gets the traceparent and
 * tracestate.  trace_end() undoes both. */
static void trace_begin(vtev__trace_scope_t *s, vtev_msg_info_t *info) {
    const vtev_header_t *tp = NULL, *ts = NULL, *eid = NULL, *cid = NULL;
    char eid_s[64], cid_s[256], tid_s[33];
    vtev_log_ctx_t lc;
    size_t i;
    for (i = 0; i < info->header_cnt; i++) {
        const char *n = info->headers[i].name;
        if (!strcmp(n, "traceparent"))
            tp = &info->headers[i];
        else if (!strcmp(n, "tracestate"))
            ts = &info->headers[i];
        else if (!strcmp(n, "event_id"))
            eid = &info->headers[i];
        else if (!strcmp(n, "correlation_id"))
            cid = &info->headers[i];
    }
    vtev__trace_incoming_begin(s, info->topic, tp ? tp->value : NULL, tp ? tp->value_len : 0,
                               ts ? ts->value : NULL, ts ? ts->value_len : 0);
    info->traceparent = s->has_ctx ? s->traceparent : NULL;
    info->tracestate = s->has_ctx && s->ctx_ptr->tracestate[0] ? s->ctx_ptr->tracestate : NULL;
    header_str(eid, eid_s, sizeof(eid_s));
    header_str(cid, cid_s, sizeof(cid_s));
    if (s->has_ctx)
        vtev_trace_id_hex(s->ctx_ptr, tid_s);
    lc.topic = info->topic;
    lc.event_id = eid_s;
    lc.correlation_id = cid_s;
    lc.trace_id = s->has_ctx ? tid_s : NULL;
    vtev__log_push(&s->log_saved, &lc);
}

static void trace_end(vtev__trace_scope_t *s, vtev_verdict_t verdict) {
    vtev__trace_incoming_end(s, (int)verdict);
    vtev__log_pop(&s->log_saved);
}

static vtev_err_t handle_message(vtev_consumer_t *c, const rd_kafka_message_t *m,
                                 char *errstr, size_t errstr_size) {
    const char *topic = rd_kafka_topic_name(m->rkt);
    vtev_cpart_t *p;
    vtev_event_t ev;
    vtev_event_type_t expected;
    int32_t schema_id = -1;
    int attempt = 1, tidx;
    char emsg[512];
    vtev_err_t err;
    vtev_chandler_t *h = NULL;
    vtev_msg_info_t info;
    vtev_header_t hstack[16], *hv = hstack;
    vtev__trace_scope_t tscope;
    vtev_verdict_t verdict;
    int64_t t0, dt;
    bool deferred;
    int ti = -1;
    const vtev_type_t *gtype = NULL;
    const char *tname = NULL;
    union {
        max_align_t align;
        unsigned char b[2048];
    } tstack;
    void *tev = &tstack;
    char base[256];
    int tier = 0;
    const char *dtopic = topic; /* the subscription's topic (a retry tier's base) */

    if (!(p = vtev__consumer_part(c, topic, m->partition, true)))
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
    p->eof = false;
    update_metrics_lag(c, p, NULL);
    if (p->retry_active) {
        /* prefetched copies of later messages, or the retried one too early */
        if (p->paused)
            return VTEV_ERR_OK;
        if (m->offset != p->retry_offset) {
            /* Fetched from the wrong place (a prefetched later message, an
             * offset reset): go back to the retried message, as often as it
             * takes, unless the log itself no longer holds it. */
            if (m->offset < p->retry_offset || !retried_offset_gone(c, p)) {
                p->reseeks++;
                vtev__log(c->conf, p->reseeks % 100 == 1 ? 7 : 4, "CONSUMER",
                          "%s [%" PRId32 "]: offset %" PRId64 " while retrying %" PRId64
                          ": seeking back (%d)",
                          topic, m->partition, m->offset, p->retry_offset, p->reseeks);
                vtev__consumer_schedule_retry_at(c, p, p->retry_offset, p->attempts);
                return VTEV_ERR_OK;
            }
            /* Removed by retention while it waited: dead-letter the copy kept
             * when its retry began, then go on with this message. */
            vtev__log(c->conf, 3, "CONSUMER",
                      "%s [%" PRId32 "]: retried offset %" PRId64
                      " is no longer in the log (next is %" PRId64 "): dead-lettering the copy kept",
                      topic, m->partition, p->retry_offset, m->offset);
            if (p->retry_msg && p->retry_msg->offset == p->retry_offset) {
                rd_kafka_message_t *kept = p->retry_msg;
                char gone[256];
                vtev_err_t derr;
                p->retry_msg = NULL; /* ours while it is dead-lettered */
                snprintf(gone, sizeof(gone),
                         "offset %" PRId64 " was removed from the log (retention) while it was retried"
                         " (%d attempts)", p->retry_offset, p->attempts);
                derr = dead_letter(c, p, kept, VTEV_ERR_NOT_FOUND, gone, p->attempts,
                                   topic_stats_idx(c, topic), errstr, errstr_size);
                if (p->retry_active && p->retry_offset == kept->offset && !p->retry_msg)
                    p->retry_msg = kept; /* its dead letter is retried: keep the copy */
                else
                    rd_kafka_message_destroy(kept);
                if (derr != VTEV_ERR_OK || p->retry_active)
                    return derr; /* stopped (no DLQ), or the dead letter is retried first */
            } else {
                finish_msg(c, p);
            }
        } else {
            p->reseeks = 0;
            attempt = p->attempts + 1;
        }
    }
    if (p->retry_active) {
        if (p->pending_dlq) {
            char msg[512];
            snprintf(msg, sizeof(msg), "%s", p->dlq_msg);
            return dead_letter(c, p, m, p->dlq_err, msg, p->attempts,
                               topic_stats_idx(c, topic), errstr, errstr_size);
        }
    }

    if (c->tiers > 0 && (tier = vtev__consumer_tier_of(c, topic, base, sizeof(base))) > 0) {
        /* a retry tier: wait (partition paused) until the message is due */
        int64_t due = vtev__consumer_tier_due_ms(m), now = vtev__now_wall_us() / 1000;
        dtopic = base;
        if (due > now) {
            vtev__consumer_schedule_delay(c, p, m->offset, 0, due - now);
            return VTEV_ERR_OK;
        }
    }

    update_metrics_lag(c, p, m); /* the message is handled now */
    expected = expected_type(c, dtopic);
    memset(&ev, 0, sizeof(ev));
    emsg[0] = '\0';
    if ((err = pick_typed(c, dtopic, m, &ti, emsg, sizeof(emsg))) != VTEV_ERR_OK) {
        tidx = topic_stats_idx(c, dtopic);
        vtev_frame_parse(m->payload, m->len, &schema_id, NULL, NULL, NULL, 0);
    } else if (ti >= 0) {
        /* a generated type: its struct on the stack when it fits */
        gtype = c->typed[ti].type;
        if (gtype->size > sizeof(tstack) && !(tev = malloc(gtype->size))) {
            vtev__consumer_schedule_retry(c, p, m, attempt - 1);
            return VTEV_ERR_OK;
        }
        err = vtev_serde_deserialize_type(c->serde, dtopic, gtype, m->payload, m->len, tev,
                                          &schema_id, emsg, sizeof(emsg));
        tidx = 4 + ti;
    } else {
        err = vtev_serde_deserialize(c->serde, dtopic, expected, m->payload, m->len, &ev,
                                     &schema_id, emsg, sizeof(emsg));
        tidx = TYPE_IDX(err == VTEV_ERR_OK ? ev.type : expected);
    }
    STAT_INC(c, tidx, consumed);
    if (err == VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND && c->schema_nf_window_ms > 0) {
        /* a replica of the registry may lag behind the producer's: re-check
         * for a bounded time, then dead-letter */
        int64_t now = vtev__now_mono_us(), since;
        pthread_mutex_lock(&c->lock);
        if (!p->missing_since_us)
            p->missing_since_us = now;
        since = p->missing_since_us;
        pthread_mutex_unlock(&c->lock);
        if (now - since < c->schema_nf_window_ms * 1000) {
            size_t n = strlen(emsg);
            snprintf(emsg + n, sizeof(emsg) - n,
                     " (re-checked for consumer.schema.not.found.retry.ms=%" PRId64 ")",
                     c->schema_nf_window_ms);
            environment_retry(c, p, m, attempt, tidx, schema_id, err, emsg);
            return VTEV_ERR_OK;
        }
        {
            size_t n = strlen(emsg);
            snprintf(emsg + n, sizeof(emsg) - n,
                     " (still unknown after consumer.schema.not.found.retry.ms=%" PRId64 ")",
                     c->schema_nf_window_ms);
        }
    }
    if (err != VTEV_ERR_OK) {
        if (tev != (void *)&tstack)
            free(tev);
        if (environment_error(err)) {
            environment_retry(c, p, m, attempt, tidx, schema_id, err, emsg);
            return VTEV_ERR_OK;
        }
        return dead_letter(c, p, m, err, emsg, attempt, tidx, errstr, errstr_size);
    }
    if (gtype) {
        tname = gtype->full_name;
        if (gtype->validate(tev, emsg, sizeof(emsg)) != VTEV_ERR_OK) {
            gtype->clear(tev);
            if (tev != (void *)&tstack)
                free(tev);
            return dead_letter(c, p, m, VTEV_ERR_INVALID, emsg, attempt, tidx, errstr,
                               errstr_size);
        }
    } else {
        tname = vtev_event_type_name(ev.type);
        if (vtev_event_validate(&ev, emsg, sizeof(emsg)) != VTEV_ERR_OK) {
            vtev_event_clear(&ev);
            return dead_letter(c, p, m, VTEV_ERR_INVALID, emsg, attempt, tidx, errstr,
                               errstr_size);
        }
        h = &c->handlers[TYPE_IDX(ev.type)];
        if (!h->fn) {
            snprintf(emsg, sizeof(emsg), "no handler for event type %s on topic %s",
                     vtev_event_type_name(ev.type), topic);
            vtev_event_clear(&ev);
            return dead_letter(c, p, m, VTEV_ERR_NOT_FOUND, emsg, attempt, tidx, errstr,
                               errstr_size);
        }
    }

    /* on a retry tier n the message had n attempts before this one */
    msg_info_init(&info, topic, m, schema_id, attempt + tier);
    if (!msg_headers(m, hstack, VTEV_ARRAY_SIZE(hstack), &hv, &info)) {
        if (gtype) {
            gtype->clear(tev);
            if (tev != (void *)&tstack)
                free(tev);
        }
        vtev_event_clear(&ev);
        vtev__consumer_schedule_retry(c, p, m, attempt - 1);
        return VTEV_ERR_OK;
    }
    trace_begin(&tscope, &info);

    c->cur_topic = topic;
    c->cur_partition = m->partition;
    c->cur_offset = m->offset;
    observe_age(p, m, gtype ? NULL : &ev);
    t0 = vtev__now_mono_us();
    if (gtype)
        verdict = c->typed[ti].fn(c, gtype, tev, &info, c->typed[ti].opaque);
    else
        verdict = h->fn(c, &ev, &info, h->opaque);
    dt = vtev__now_mono_us() - t0;
    trace_end(&tscope, verdict);
    c->cur_topic = NULL;
    if (p->met)
        vtev__hist_observe_us(p->met->handler, dt);
    deferred = vtev__consumer_defer_finish(c, p, verdict == VTEV_VERDICT_OK);
    if (hv != hstack)
        free(hv);
    if (gtype) {
        gtype->clear(tev);
        if (tev != (void *)&tstack)
            free(tev);
    }
    vtev_event_clear(&ev);

    pthread_mutex_lock(&c->lock);
    {
        vtev_consumer_stats_t *st = stats_at(c, tidx);
        st->handler_time_us += (uint64_t)dt;
        if ((uint64_t)dt > st->handler_max_us)
            st->handler_max_us = (uint64_t)dt;
    }
    pthread_mutex_unlock(&c->lock);

    switch (verdict) {
    case VTEV_VERDICT_OK:
        STAT_INC(c, tidx, ok);
        if (p->met)
            vtev__counter_add(p->met->ok, 1);
        if (deferred)
            finish_msg(c, p); /* its offset waits for vtev_pending_done() */
        else
            mark_done(c, p, m);
        return VTEV_ERR_OK;
    case VTEV_VERDICT_RETRY_ENV:
        /* the environment failed, not the message: no attempt is used up */
        STAT_INC(c, tidx, retried);
        if (p->met)
            vtev__counter_add(p->met->retry, 1);
        vtev__consumer_retry_env(c, p, m->offset, attempt - 1);
        return VTEV_ERR_OK;
    case VTEV_VERDICT_RETRY:
        if (tier > 0 || (c->tiers > 0 && vtev__consumer_tiered_topic(c->conf, dtopic))) {
            /* non-blocking: on to the next tier, the partition flows on */
            char e[512];
            if (tier >= c->tiers) {
                snprintf(emsg, sizeof(emsg),
                         "handler asked to retry on retry tier %d of %d (consumer.retry.tiers)",
                         tier, c->tiers);
                return dead_letter(c, p, m, VTEV_ERR_RETRIES_EXHAUSTED, emsg, attempt + tier,
                                   tidx, errstr, errstr_size);
            }
            STAT_INC(c, tidx, retried);
            if (p->met)
                vtev__counter_add(p->met->retry, 1);
            if ((err = vtev__consumer_tier_send(c, m, dtopic, tier + 1, attempt + tier, e,
                                                sizeof(e))) == VTEV_ERR_OK) {
                mark_done(c, p, m);
                return VTEV_ERR_OK;
            }
            /* not moved: the handler sees it again here after the backoff */
            vtev__log(c->conf, 4, "CONSUMER", "%s [%" PRId32 "] offset %" PRId64 ": %s",
                      topic, m->partition, m->offset, e);
            vtev__consumer_retry_env(c, p, m->offset, attempt - 1);
            return VTEV_ERR_OK;
        }
        if (attempt >= c->max_attempts) {
            snprintf(emsg, sizeof(emsg),
                     "handler asked to retry on attempt %d of %d (consumer.retry.max.attempts)",
                     attempt, c->max_attempts);
            return dead_letter(c, p, m, VTEV_ERR_RETRIES_EXHAUSTED, emsg, attempt, tidx, errstr,
                               errstr_size);
        }
        STAT_INC(c, tidx, retried);
        if (p->met)
            vtev__counter_add(p->met->retry, 1);
        vtev__consumer_schedule_retry(c, p, m, attempt);
        return VTEV_ERR_OK;
    case VTEV_VERDICT_REJECT:
    default:
        STAT_INC(c, tidx, rejected);
        if (p->met)
            vtev__counter_add(p->met->reject, 1);
        snprintf(emsg, sizeof(emsg), "rejected by the handler of %s on attempt %d",
                 tname ? tname : "?", attempt);
        return dead_letter(c, p, m, VTEV_ERR_REJECTED, emsg, attempt, tidx, errstr, errstr_size);
    }
}

/* ---------------------------------------------------------------- running */

static bool all_at_end(vtev_consumer_t *c) {
    size_t i;
    bool all = c->part_cnt > 0;
    for (i = 0; i < c->part_cnt && all; i++)
        all = c->parts[i].eof;
    return all;
}

/* A partition reached its end (not while a message of it waits for a retry:
 * its fetch goes back). */
static void partition_eof(vtev_consumer_t *c, const rd_kafka_message_t *m) {
    const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : NULL;
    vtev_cpart_t *p = topic ? vtev__consumer_part(c, topic, m->partition, false) : NULL;
    bool all;
    if (!p)
        return;
    pthread_mutex_lock(&c->lock);
    p->eof = !p->retry_active;
    all = all_at_end(c);
    pthread_mutex_unlock(&c->lock);
    if (p->eof && c->eof_cb)
        c->eof_cb(c, topic, m->partition, m->offset, all, c->eof_opaque);
}

/* A consumer error event: logged; access refused (and, for a reader, a
 * topic that does not exist) stops the consumer, since waiting does not
 * mend it. */
static vtev_err_t consumer_error(vtev_consumer_t *c, const rd_kafka_message_t *m, char *errstr,
                                 size_t errstr_size) {
    const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : NULL;
    bool stop = m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
                m->err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED ||
                (c->read_only && (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                                  m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC));
    if (!c->has_group && m->err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED) {
        /* a reader's private group.id (librdkafka wants one for assign()): under ACLs its
         * coordinator lookup is refused, which costs nothing, since it never joins a group
         * nor commits */
        vtev__log(c->conf, 7, "CONSUMER", "reader: %s (its group is never used)",
                  rd_kafka_message_errstr(m));
        return VTEV_ERR_OK;
    }
    if (!stop) {
        vtev__log(c->conf, 4, "CONSUMER", "%s%s%s", topic ? topic : "", topic ? ": " : "",
                  rd_kafka_message_errstr(m));
        return VTEV_ERR_OK;
    }
    c->stopped_err = VTEV_ERR_KAFKA;
    snprintf(c->stopped_msg, sizeof(c->stopped_msg), "%s%s%s%s (%s)", topic ? "topic " : "",
             topic ? topic : "", topic ? ": " : "", rd_kafka_message_errstr(m),
             rd_kafka_err2name(m->err));
    return vtev__fail(VTEV_ERR_KAFKA, errstr, errstr_size, "%s", c->stopped_msg);
}

vtev_err_t vtev_consumer_poll(vtev_consumer_t *c, int timeout_ms, char *errstr,
                              size_t errstr_size) {
    rd_kafka_message_t *m;
    vtev_err_t err;
    char fe[400];
    size_t i;
    int64_t now;

    if (!c)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "vtev_consumer_poll: consumer must not be NULL");
    if (c->closed)
        return vtev__fail(VTEV_ERR_STATE, errstr, errstr_size, "consumer is closed");
    atomic_store(&c->last_poll_us, vtev__now_mono_us());
    if (c->stopped_err)
        return vtev__fail(VTEV_ERR_STATE, errstr, errstr_size, "consumer stopped: %s",
                          c->stopped_msg);
    if (rd_kafka_fatal_error(c->rk, fe, sizeof(fe))) {
        c->stopped_err = VTEV_ERR_FATAL;
        snprintf(c->stopped_msg, sizeof(c->stopped_msg), "fatal: %s", fe);
        return vtev__fail(VTEV_ERR_FATAL, errstr, errstr_size, "%s", c->stopped_msg);
    }
    vtev__consumer_reap(c);
    vtev__consumer_resume_due(c);
    /* do not sleep past the next resume */
    now = vtev__now_mono_us();
    for (i = 0; i < c->part_cnt; i++) {
        if (c->parts[i].retry_active && c->parts[i].paused) {
            int64_t left = (c->parts[i].resume_at_us - now) / 1000 + 1;
            if (left < timeout_ms)
                timeout_ms = left < 0 ? 0 : (int)left;
        }
    }
    m = rd_kafka_consumer_poll(c->rk, timeout_ms);
    if (!m && c->stopped_err) /* error_cb() */
        return vtev__fail(c->stopped_err, errstr, errstr_size, "%s", c->stopped_msg);
    if (!m)
        return VTEV_ERR_OK;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        partition_eof(c, m);
        rd_kafka_message_destroy(m);
        return VTEV_ERR_OK;
    }
    if (m->err) {
        err = consumer_error(c, m, errstr, errstr_size);
        rd_kafka_message_destroy(m);
        return err;
    }
    err = handle_message(c, m, errstr, errstr_size);
    {
        /* A message whose retry is now scheduled is kept (one per partition),
         * so that it can still be dead-lettered if retention removes it. */
        vtev_cpart_t *p = vtev__consumer_part(c, rd_kafka_topic_name(m->rkt), m->partition, false);
        if (p && p->retry_active && p->retry_offset == m->offset &&
            (!p->retry_msg || p->retry_msg->offset != m->offset)) {
            if (p->retry_msg)
                rd_kafka_message_destroy(p->retry_msg);
            p->retry_msg = m;
            return err;
        }
    }
    rd_kafka_message_destroy(m);
    return err;
}

vtev_err_t vtev_consumer_run(vtev_consumer_t *c, char *errstr, size_t errstr_size) {
    vtev_err_t err = VTEV_ERR_OK, cerr;
    char ce[512];
    if (!c)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "vtev_consumer_run: consumer must not be NULL");
    while (!atomic_load(&c->stop)) {
        if ((err = vtev_consumer_poll(c, 100, errstr, errstr_size)) != VTEV_ERR_OK)
            break;
    }
    cerr = vtev_consumer_close(c, ce, sizeof(ce));
    if (err)
        return err;
    if (cerr)
        return vtev__fail(cerr, errstr, errstr_size, "%s", ce);
    return VTEV_ERR_OK;
}

void vtev_consumer_stop(vtev_consumer_t *c) {
    if (c)
        atomic_store(&c->stop, 1);
}

/* ---------------------------------------------------------------- observing */

vtev_err_t vtev_consumer_stats(vtev_consumer_t *c, vtev_event_type_t type,
                               vtev_consumer_stats_t *out) {
    if (!c || !out || (int)type < 0 || (int)type > 3)
        return VTEV_ERR_INVALID_ARG;
    pthread_mutex_lock(&c->lock);
    *out = c->stats[type];
    pthread_mutex_unlock(&c->lock);
    return VTEV_ERR_OK;
}

vtev_err_t vtev_consumer_lag(vtev_consumer_t *c, vtev_partition_lag_t **lagsp, size_t *cntp,
                             int timeout_ms, char *errstr, size_t errstr_size) {
    rd_kafka_topic_partition_list_t *asg = NULL, *unknown = NULL;
    rd_kafka_resp_err_t err;
    vtev_partition_lag_t *lags = NULL;
    int i, n;

    if (!c || !lagsp || !cntp)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "vtev_consumer_lag: arguments must not be NULL");
    *lagsp = NULL;
    *cntp = 0;
    if ((err = rd_kafka_assignment(c->rk, &asg)))
        return vtev__fail(VTEV_ERR_KAFKA, errstr, errstr_size, "assignment: %s",
                          rd_kafka_err2str(err));
    n = asg->cnt;
    if (n == 0) {
        rd_kafka_topic_partition_list_destroy(asg);
        return VTEV_ERR_OK;
    }
    if (!(lags = calloc((size_t)n, sizeof(*lags))) ||
        !(unknown = rd_kafka_topic_partition_list_new(n))) {
        free(lags);
        rd_kafka_topic_partition_list_destroy(asg);
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "lag: out of memory");
    }
    pthread_mutex_lock(&c->lock);
    for (i = 0; i < n; i++) {
        size_t j;
        snprintf(lags[i].topic, sizeof(lags[i].topic), "%s", asg->elems[i].topic);
        lags[i].partition = asg->elems[i].partition;
        lags[i].position = -1;
        for (j = 0; j < c->part_cnt; j++)
            if (c->parts[j].partition == lags[i].partition &&
                !strcmp(c->parts[j].topic, lags[i].topic))
                lags[i].position = c->parts[j].next_offset;
        if (lags[i].position < 0)
            rd_kafka_topic_partition_list_add(unknown, lags[i].topic, lags[i].partition);
    }
    pthread_mutex_unlock(&c->lock);
    if (unknown->cnt > 0 && rd_kafka_committed(c->rk, unknown, timeout_ms) == 0) {
        for (i = 0; i < unknown->cnt; i++) {
            int k;
            for (k = 0; k < n; k++)
                if (lags[k].partition == unknown->elems[i].partition &&
                    !strcmp(lags[k].topic, unknown->elems[i].topic) && unknown->elems[i].offset >= 0)
                    lags[k].position = unknown->elems[i].offset;
        }
    }
    rd_kafka_topic_partition_list_destroy(unknown);
    for (i = 0; i < n; i++) {
        int64_t lo = -1, hi = -1;
        err = rd_kafka_query_watermark_offsets(c->rk, lags[i].topic, lags[i].partition, &lo, &hi,
                                               timeout_ms);
        if (err) {
            vtev__seterr(errstr, errstr_size, "%s [%" PRId32 "]: watermarks: %s", lags[i].topic,
                         lags[i].partition, rd_kafka_err2str(err));
            free(lags);
            rd_kafka_topic_partition_list_destroy(asg);
            return VTEV_ERR_KAFKA;
        }
        if (lags[i].position < 0)
            lags[i].position = lo;
        lags[i].high_watermark = hi;
        lags[i].lag = hi > lags[i].position ? hi - lags[i].position : 0;
    }
    rd_kafka_topic_partition_list_destroy(asg);
    *lagsp = lags;
    *cntp = (size_t)n;
    return VTEV_ERR_OK;
}

/* ---------------------------------------------------------------- transactions */

vtev_err_t vtev_consumer_txn_send_offsets(vtev_consumer_t *c, vtev_producer_t *p,
                                          int timeout_ms, char *errstr, size_t errstr_size) {
    rd_kafka_topic_partition_list_t *l;
    rd_kafka_consumer_group_metadata_t *cgmd;
    rd_kafka_t *prk;
    rd_kafka_error_t *error;
    size_t i;

    if (!c || !p)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "vtev_consumer_txn_send_offsets: consumer and producer must not be NULL");
    if (c->closed)
        return vtev__fail(VTEV_ERR_STATE, errstr, errstr_size, "consumer is closed");
    if (!c->has_group)
        return vtev__fail(VTEV_ERR_STATE, errstr, errstr_size,
                          "a reader without group.id has no offsets to commit");
    if (!(prk = vtev__producer_rk(p)))
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, "producer has no handle");
    if (!(l = rd_kafka_topic_partition_list_new((int)c->part_cnt + 1)))
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "send_offsets: out of memory");
    for (i = 0; i < c->part_cnt; i++) {
        int64_t off = c->parts[i].next_offset;
        if (c->cur_topic && c->parts[i].partition == c->cur_partition &&
            !strcmp(c->parts[i].topic, c->cur_topic))
            off = c->cur_offset + 1;
        if (off >= 0)
            rd_kafka_topic_partition_list_add(l, c->parts[i].topic, c->parts[i].partition)
                ->offset = off;
    }
    if (l->cnt == 0) {
        rd_kafka_topic_partition_list_destroy(l);
        return VTEV_ERR_OK;
    }
    if (!(cgmd = rd_kafka_consumer_group_metadata(c->rk))) {
        rd_kafka_topic_partition_list_destroy(l);
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "send_offsets: out of memory");
    }
    error = rd_kafka_send_offsets_to_transaction(prk, l, cgmd, timeout_ms);
    rd_kafka_consumer_group_metadata_destroy(cgmd);
    rd_kafka_topic_partition_list_destroy(l);
    return vtev__producer_txn_error(p, error, "send_offsets_to_transaction", errstr, errstr_size);
}

/* ---------------------------------------------------------------- health */

vtev_err_t vtev_consumer_health(vtev_consumer_t *c, vtev_health_t *out) {
    char fe[256];
    int64_t idle_ms;
    size_t i, parts, pending_dlq = 0;
    char dlq_msg[512] = "";
    if (!c || !out)
        return VTEV_ERR_INVALID_ARG;
    memset(out, 0, sizeof(*out));
    out->live = out->ready = true;
    out->handles = 1;
    /* liveness: broken for good, or not polled */
    if (rd_kafka_fatal_error(c->rk, fe, sizeof(fe)))
        vtev__health_add(out, "fatal", c->name, true, "fatal librdkafka error: %s", fe);
    if (c->stopped_err)
        vtev__health_add(out, "stopped", c->name, true, "%s: %s", vtev_err2name(c->stopped_err),
                         c->stopped_msg);
    if (c->closed) {
        vtev__health_add(out, "closed", c->name, false, "the consumer is closed");
        return VTEV_ERR_OK;
    }
    idle_ms = (vtev__now_mono_us() - atomic_load(&c->last_poll_us)) / 1000;
    if (idle_ms > c->max_poll_ms)
        vtev__health_add(out, "poll", c->name, true,
                         "not polled for %lld ms, longer than kafka.max.poll.interval.ms=%lld "
                         "(the application is stuck; the group has given its partitions away)",
                         (long long)idle_ms, (long long)c->max_poll_ms);
    /* readiness */
    vtev__health_brokers(&c->brokers, out, c->name);
    vtev__health_registry(vtev__serde_registry(c->serde), out, c->name);
    pthread_mutex_lock(&c->lock);
    parts = c->part_cnt;
    for (i = 0; i < c->part_cnt; i++) {
        if (c->parts[i].pending_dlq) {
            if (!pending_dlq++)
                snprintf(dlq_msg, sizeof(dlq_msg), "%s [%d]", c->parts[i].topic,
                         (int)c->parts[i].partition);
        }
    }
    pthread_mutex_unlock(&c->lock);
    if (parts == 0)
        vtev__health_add(out, "assignment", c->name, false,
                         c->has_group ? "no partitions assigned (joining the group, or more "
                                        "members than partitions)"
                                      : "no partitions (nothing subscribed yet)");
    if (pending_dlq)
        vtev__health_add(out, "dlq", c->name, false,
                         "the dead-letter producer could not write %zu dead letter(s) (first: "
                         "%s); they are retried",
                         pending_dlq, dlq_msg);
    if (c->dlq_rk && rd_kafka_fatal_error(c->dlq_rk, fe, sizeof(fe)))
        vtev__health_add(out, "dlq", c->name, true, "dead-letter producer: fatal error: %s", fe);
    return VTEV_ERR_OK;
}
