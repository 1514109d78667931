/*
 * dlq_replay.c - replaying dead letters (<vtevents/dlq.h>).
 *
 * A run reads the dead-letter topic from the committed offsets of the
 * replay's group up to the end it had when the run started (dlq_read.c).
 * Every message read becomes a slot of the current batch, in order: one
 * that is not selected or is refused is done at once; a selected one is
 * produced (key, value bytes, its original headers without the dead-letter
 * ones, plus vtev.replay.count and vtev.replayed.at) and done when its
 * delivery report arrives.  At the end of a batch the producer is flushed
 * and, per partition, the offset after the last slot before the first
 * failed delivery is committed synchronously: progress never runs ahead of
 * what the brokers acknowledged.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vtevents/rdkafka_ext.h>

#include "conf_int.h"
#include "consumer_int.h"
#include "dlq_int.h"
#include "internal.h"
#include "rdkafka_int.h"
#include "timestamp.h"

#define BATCH_MS 200

typedef struct slot_s {
    rd_kafka_message_t *m; /* the dead letter (owned) */
    bool produced;         /* waiting for / got a delivery report */
    bool dr;               /* the report arrived */
    rd_kafka_resp_err_t err;
    const char *to;        /* borrowed: r->to or the message's original topic copy */
    char *to_own;
} slot_t;

struct vtev_dlq_replay_s {
    vtev_conf_t *conf;
    char *topic, *group, *to;
    int64_t max_count, rate, batch;
    bool dry;
    vtev_dlq_filter_t *filter;
    rd_kafka_t *prod;
    int64_t timeout_ms; /* of a delivery */
    atomic_int stop;
    bool running;
    vtev_dlq_replay_stats_t st;
    slot_t *slots;
    size_t slot_cnt;
    vtev__dlq_parsed_t parsed;
};

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    slot_t *s = m->_private;
    (void)rk;
    (void)opaque;
    if (s) {
        s->err = m->err;
        s->dr = true;
    }
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    const vtev_dlq_replay_t *r = rd_kafka_opaque(rk);
    char f[64];
    snprintf(f, sizeof(f), "RDKAFKA-%s", fac);
    vtev__log(r ? r->conf : NULL, level, f, "%s", buf);
}

vtev_dlq_replay_t *vtev_dlq_replay_new(const vtev_conf_t *conf, const char *topic,
                                       const vtev_dlq_filter_t *filter, char *errstr,
                                       size_t errstr_size) {
    vtev_dlq_replay_t *r;
    const char *g, *to;
    char gbuf[300], rkerr[512], tmo[32];
    size_t tmo_size = sizeof(tmo);
    bool ok;
    rd_kafka_conf_t *pc = NULL;

    if (!conf || !topic || !*topic || strlen(topic) > 249) {
        vtev__seterr(errstr, errstr_size, "topic: must be 1 to 249 characters");
        return NULL;
    }
    if (!(r = calloc(1, sizeof(*r)))) {
        vtev__seterr(errstr, errstr_size, "out of memory");
        return NULL;
    }
    atomic_init(&r->stop, 0);
    g = vtev__conf_str(conf, "dlq.replay.group");
    if (!g || !*g) {
        snprintf(gbuf, sizeof(gbuf), "vtev-dlq-replay.%s", topic);
        g = gbuf;
    }
    to = vtev__conf_str(conf, "dlq.replay.to");
    r->max_count = vtev__conf_int(conf, "dlq.replay.max.count");
    r->rate = vtev__conf_int(conf, "dlq.replay.rate");
    r->batch = vtev__conf_int(conf, "dlq.replay.batch");
    r->dry = vtev__conf_bool(conf, "dlq.replay.dry.run");
    r->filter = vtev__dlq_filter_dup(filter, &ok);
    if (!ok || !(r->conf = vtev_conf_dup(conf)) || !(r->topic = vtev__strdup(topic)) ||
        !(r->group = vtev__strdup(g)) || (to && *to && !(r->to = vtev__strdup(to))) ||
        !(r->slots = calloc((size_t)r->batch, sizeof(*r->slots)))) {
        vtev__seterr(errstr, errstr_size, "out of memory");
        goto fail;
    }
    if (r->to && strlen(r->to) > 249) {
        vtev__seterr(errstr, errstr_size, "dlq.replay.to: must be 1 to 249 characters");
        goto fail;
    }
    if (!r->dry) {
        if (!(pc = vtev_conf_to_rdkafka(conf, RD_KAFKA_PRODUCER, errstr, errstr_size)))
            goto fail;
        rd_kafka_conf_set_dr_msg_cb(pc, dr_cb);
        rd_kafka_conf_set_opaque(pc, r);
        rd_kafka_conf_set_log_cb(pc, log_cb);
        if (rd_kafka_conf_get(pc, "message.timeout.ms", tmo, &tmo_size) == RD_KAFKA_CONF_OK)
            r->timeout_ms = atoll(tmo);
        if (r->timeout_ms <= 0)
            r->timeout_ms = 300000;
        if (!(r->prod = rd_kafka_new(RD_KAFKA_PRODUCER, pc, rkerr, sizeof(rkerr)))) {
            rd_kafka_conf_destroy(pc);
            vtev__seterr(errstr, errstr_size, "replay producer: %s", rkerr);
            goto fail;
        }
    }
    {
        /* the topic must exist: check it now, not at the first run */
        vtev__dlq_scan_t s;
        if (vtev__dlq_scan_open(&s, conf, topic, NULL, errstr, errstr_size) != VTEV_ERR_OK)
            goto fail;
        vtev__dlq_scan_close(&s);
    }
    return r;
fail:
    vtev_dlq_replay_destroy(r);
    return NULL;
}

void vtev_dlq_replay_stop(vtev_dlq_replay_t *r) {
    if (r)
        atomic_store(&r->stop, 1);
}

vtev_err_t vtev_dlq_replay_stats(const vtev_dlq_replay_t *r, vtev_dlq_replay_stats_t *out) {
    if (!r || !out)
        return VTEV_ERR_INVALID_ARG;
    *out = r->st;
    return VTEV_ERR_OK;
}

void vtev_dlq_replay_destroy(vtev_dlq_replay_t *r) {
    size_t i;
    if (!r)
        return;
    if (r->prod) {
        rd_kafka_flush(r->prod, 10000);
        rd_kafka_destroy(r->prod);
    }
    for (i = 0; i < r->slot_cnt; i++) {
        rd_kafka_message_destroy(r->slots[i].m);
        free(r->slots[i].to_own);
    }
    free(r->slots);
    vtev__dlq_parsed_clear(&r->parsed);
    vtev_dlq_filter_destroy(r->filter);
    vtev_conf_destroy(r->conf);
    free(r->topic);
    free(r->group);
    free(r->to);
    free(r);
}

/* Produces the dead letter of slot s to s->to. */
static vtev_err_t produce(vtev_dlq_replay_t *r, slot_t *s, const vtev_dead_letter_t *dl,
                          char *errstr, size_t errstr_size) {
    rd_kafka_headers_t *h = rd_kafka_headers_new(dl->header_cnt + 2);
    rd_kafka_resp_err_t err;
    char num[32], when[40];
    size_t i;
    if (!h)
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
    for (i = 0; i < dl->header_cnt; i++) {
        const vtev_header_t *x = &dl->headers[i];
        if (vtev__dlq_reserved_header(x->name) || !strcmp(x->name, "vtev.replay.count") ||
            !strcmp(x->name, "vtev.replayed.at"))
            continue;
        rd_kafka_header_add(h, x->name, -1, x->value, x->value ? (ssize_t)x->value_len : -1);
    }
    snprintf(num, sizeof(num), "%d", dl->replay_count + 1);
    rd_kafka_header_add(h, "vtev.replay.count", -1, num, -1);
    vtev__format_time(vtev__now_wall_us() / 1000, 1000, when, sizeof(when));
    rd_kafka_header_add(h, "vtev.replayed.at", -1, when, -1);
    for (;;) {
        err = rd_kafka_producev(r->prod, RD_KAFKA_V_TOPIC(s->to),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_KEY(dl->key, dl->key_len),
                                RD_KAFKA_V_VALUE((void *)dl->value, dl->value_len),
                                RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(s), RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            break;
        rd_kafka_poll(r->prod, 100);
    }
    if (err) {
        rd_kafka_headers_destroy(h);
        return vtev__fail(vtev__kafka_err(err), errstr, errstr_size,
                          "%s [%" PRId32 "] offset %" PRId64 " -> %s: %s", r->topic,
                          dl->partition, dl->offset, s->to, rd_kafka_err2str(err));
    }
    s->produced = true;
    return VTEV_ERR_OK;
}

/* Waits for every report of the batch, reports the delivered ones to the
 * callback, commits what is safe to commit, empties the batch. */
static vtev_err_t finish_batch(vtev_dlq_replay_t *r, vtev__dlq_scan_t *scan,
                               vtev_dlq_replay_cb_t *cb, void *opaque, char *errstr,
                               size_t errstr_size) {
    rd_kafka_topic_partition_list_t *l = NULL;
    vtev_err_t err = VTEV_ERR_OK;
    size_t i;
    int pi;
    int64_t *next = NULL;
    bool *blocked = NULL;

    if (r->slot_cnt == 0)
        return VTEV_ERR_OK;
    if (r->prod) {
        int64_t deadline = vtev__now_mono_us() + (r->timeout_ms + 5000) * 1000;
        while (rd_kafka_outq_len(r->prod) > 0 && vtev__now_mono_us() < deadline)
            rd_kafka_flush(r->prod, 100);
        for (i = 0; i < r->slot_cnt; i++)
            if (r->slots[i].produced && !r->slots[i].dr) {
                /* cannot happen after message.timeout.ms; purge so no report
                 * touches the slots later */
                rd_kafka_purge(r->prod, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
                while (rd_kafka_outq_len(r->prod) > 0)
                    rd_kafka_poll(r->prod, 50);
                break;
            }
    }
    next = calloc((size_t)scan->part_cnt, sizeof(*next));
    blocked = calloc((size_t)scan->part_cnt, sizeof(*blocked));
    if (!next || !blocked) {
        err = vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
        goto out;
    }
    for (pi = 0; pi < scan->part_cnt; pi++)
        next[pi] = -1;
    for (i = 0; i < r->slot_cnt; i++) {
        slot_t *s = &r->slots[i];
        int idx = (int)(vtev__dlq_scan_part(scan, s->m->partition) - scan->parts);
        if (blocked[idx])
            continue;
        if (s->produced && (!s->dr || s->err)) {
            blocked[idx] = true;
            if (!err)
                err = vtev__fail(s->dr ? vtev__kafka_err(s->err) : VTEV_ERR_TIMED_OUT, errstr,
                                 errstr_size,
                                 "%s [%" PRId32 "] offset %" PRId64 " -> %s: delivery failed: %s",
                                 r->topic, s->m->partition, s->m->offset, s->to,
                                 s->dr ? rd_kafka_err2str(s->err) : "no delivery report");
            continue;
        }
        if (s->produced) {
            r->st.replayed++;
            if (cb && vtev__dlq_parse(&r->parsed, s->m) == VTEV_ERR_OK)
                cb(r, &r->parsed.dl, VTEV_DLQ_REPLAYED, s->to, opaque);
        }
        next[idx] = s->m->offset + 1;
    }
    if (!r->dry) {
        if (!(l = rd_kafka_topic_partition_list_new(scan->part_cnt))) {
            err = vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
            goto out;
        }
        for (pi = 0; pi < scan->part_cnt; pi++)
            if (next[pi] >= 0)
                rd_kafka_topic_partition_list_add(l, r->topic, scan->parts[pi].id)->offset =
                    next[pi];
        if (l->cnt) {
            rd_kafka_resp_err_t ce = rd_kafka_commit(scan->rk, l, 0);
            for (pi = 0; !ce && pi < l->cnt; pi++)
                ce = l->elems[pi].err;
            if (ce && !err)
                err = vtev__fail(VTEV_ERR_KAFKA, errstr, errstr_size,
                                 "%s: commit of group %s failed: %s (what was sent since the "
                                 "last commit is sent again by the next run)",
                                 r->topic, r->group, rd_kafka_err2str(ce));
        }
    }
out:
    for (i = 0; i < r->slot_cnt; i++) {
        rd_kafka_message_destroy(r->slots[i].m);
        free(r->slots[i].to_own);
    }
    memset(r->slots, 0, r->slot_cnt * sizeof(*r->slots));
    r->slot_cnt = 0;
    if (l)
        rd_kafka_topic_partition_list_destroy(l);
    free(next);
    free(blocked);
    return err;
}

/* Waits until the n-th message may go at dlq.replay.rate (serving the
 * producer meanwhile); false when stopped. */
static bool pace(vtev_dlq_replay_t *r, int64_t t0, uint64_t n) {
    int64_t due;
    if (r->rate <= 0)
        return true;
    due = t0 + (int64_t)(n * 1000000 / (uint64_t)r->rate);
    while (vtev__now_mono_us() < due) {
        int64_t left = (due - vtev__now_mono_us()) / 1000;
        if (atomic_load(&r->stop))
            return false;
        if (r->prod)
            rd_kafka_poll(r->prod, left > 50 ? 50 : (int)(left > 0 ? left : 0));
        else {
            struct timespec ts = {0, (left > 50 ? 50 : (left > 0 ? left : 0)) * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    return true;
}

vtev_err_t vtev_dlq_replay_run(vtev_dlq_replay_t *r, vtev_dlq_replay_cb_t *cb, void *opaque,
                               char *errstr, size_t errstr_size) {
    vtev__dlq_scan_t scan;
    vtev_err_t err, ferr;
    int64_t t0 = vtev__now_mono_us(), batch_start = 0;
    uint64_t sent = 0;

    if (!r)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "vtev_dlq_replay_run: NULL replay");
    if (r->running)
        return vtev__fail(VTEV_ERR_STATE, errstr, errstr_size,
                          "vtev_dlq_replay_run: already running");
    /* a dry run reads from the group's position too, but never commits */
    if ((err = vtev__dlq_scan_open(&scan, r->conf, r->topic, r->group, errstr, errstr_size)))
        return err;
    r->running = true;
    while (!atomic_load(&r->stop)) {
        rd_kafka_message_t *m = NULL;
        const vtev_dead_letter_t *dl;
        slot_t *s;
        err = vtev__dlq_scan_next(&scan, &m, BATCH_MS, errstr, errstr_size);
        if (err == VTEV_ERR_TIMED_OUT) {
            if ((err = finish_batch(r, &scan, cb, opaque, errstr, errstr_size)))
                goto out;
            continue;
        }
        if (err)
            goto out;
        if (!m)
            break; /* the end of the snapshot */
        if (r->slot_cnt == 0)
            batch_start = vtev__now_mono_us();
        s = &r->slots[r->slot_cnt++];
        s->m = m;
        if (vtev__dlq_parse(&r->parsed, m) != VTEV_ERR_OK) {
            err = vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
            goto out;
        }
        dl = &r->parsed.dl;
        r->st.read++;
        if (vtev_dlq_filter_match(r->filter, dl)) {
            r->st.selected++;
            if (r->to)
                s->to = r->to;
            else if (dl->original_topic && *dl->original_topic) {
                if (!(s->to_own = vtev__strdup(dl->original_topic))) {
                    err = vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
                    goto out;
                }
                s->to = s->to_own;
            }
            if (!s->to) {
                r->st.refused++;
                if (cb)
                    cb(r, dl, VTEV_DLQ_REFUSED_NO_TOPIC, NULL, opaque);
            } else if (dl->replay_count >= r->max_count) {
                r->st.refused++;
                if (cb)
                    cb(r, dl, VTEV_DLQ_REFUSED_LOOP, s->to, opaque);
            } else if (r->dry) {
                r->st.dry_run++;
                if (cb)
                    cb(r, dl, VTEV_DLQ_WOULD_REPLAY, s->to, opaque);
            } else {
                if (!pace(r, t0, sent)) {
                    /* stopped while waiting: this one is not sent, not committed */
                    rd_kafka_message_destroy(s->m);
                    free(s->to_own);
                    memset(s, 0, sizeof(*s));
                    r->slot_cnt--;
                    r->st.read--;
                    r->st.selected--;
                    break;
                }
                if ((err = produce(r, s, dl, errstr, errstr_size)))
                    goto out;
                sent++;
            }
        }
        if (r->prod)
            rd_kafka_poll(r->prod, 0);
        if (r->slot_cnt >= (size_t)r->batch ||
            vtev__now_mono_us() - batch_start >= (int64_t)BATCH_MS * 1000) {
            if ((err = finish_batch(r, &scan, cb, opaque, errstr, errstr_size)))
                goto out;
        }
    }
    err = VTEV_ERR_OK;
out:
    /* what was sent before an error is still committed when delivered */
    ferr = finish_batch(r, &scan, cb, opaque, err ? NULL : errstr, err ? 0 : errstr_size);
    if (!err)
        err = ferr;
    vtev__dlq_scan_close(&scan);
    r->running = false;
    return err;
}
