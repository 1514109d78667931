/*
 * dlq_replay.c - replaying dead letters (<vtevents/dlq.h>).
 *
 * A run reads the dead-letter topic from the committed offsets of the
 * replay's group up to the end it had when the run started (dlq_read.c).
 * Every message read becomes a slot of the current batch, in order: one
 * that is not selected or is refused is done at once; a selected one is
 * produced (key, value bytes, its original headers without the dead-letter
 * ones, plus vtev.replay.count and vtev.replayed.at).  A batch is one Kafka
 * transaction of a producer whose transactional.id is derived from the
 * group: the messages it sent and the group's offsets after its last slot
 * (send_offsets_to_transaction) commit together, or neither does.  A run
 * that dies with a transaction open (SIGKILL) leaves it to the next one,
 * whose init_transactions() with the same transactional.id aborts it before
 * the committed offsets are read: read_committed readers of the target see
 * each replayed dead letter once.
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
#define TXN_INIT_MS 30000 /* init_transactions: also waits for a zombie's abort */
#define TXN_TRIES 5       /* calls of a transactional step that failed retriably */

typedef struct slot_s {
    rd_kafka_message_t *m; /* the dead letter (owned) */
    bool produced;         /* sent in the open transaction */
    bool dr;               /* the report arrived */
    rd_kafka_resp_err_t err;
    const char *to;        /* borrowed: r->to or the message's original topic copy */
    char *to_own;
} slot_t;

struct vtev_dlq_replay_s {
    vtev_conf_t *conf;
    char *topic, *group, *to, *txn_id;
    int64_t max_count, rate, batch;
    bool dry;
    vtev_dlq_filter_t *filter;
    rd_kafka_t *prod;   /* transactional (transactional.id txn_id); NULL in a dry run */
    bool in_txn;        /* a transaction is open */
    bool fatal;         /* the producer is unusable (fenced by another run, ...) */
    atomic_int stop;
    bool running;
    vtev_dlq_replay_stats_t st;
    slot_t *slots;
    size_t slot_cnt;
    vtev__dlq_parsed_t parsed;   /* the dead letter in hand */
    vtev__dlq_parsed_t cbparsed; /* the ones reported when their batch commits */
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
    char gbuf[300], rkerr[512];
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
    {
        /* the topic must exist: check it now, not at the first run */
        vtev__dlq_scan_t sc;
        if (vtev__dlq_scan_open(&sc, conf, topic, NULL, errstr, errstr_size) != VTEV_ERR_OK)
            goto fail;
        vtev__dlq_scan_close(&sc);
    }
    if (!r->dry) {
        rd_kafka_error_t *te;
        /* one transactional.id per group: a run fences (and aborts the open
         * transaction of) any earlier run of the same group */
        size_t tlen = strlen(r->group) + sizeof(".txn");
        if (!(r->txn_id = malloc(tlen)) ||
            snprintf(r->txn_id, tlen, "%s.txn", r->group) != (int)tlen - 1) {
            vtev__seterr(errstr, errstr_size, "out of memory");
            goto fail;
        }
        if (!(pc = vtev_conf_to_rdkafka(conf, RD_KAFKA_PRODUCER, errstr, errstr_size)))
            goto fail;
        if (rd_kafka_conf_set(pc, "transactional.id", r->txn_id, rkerr, sizeof(rkerr)) !=
            RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(pc);
            vtev__seterr(errstr, errstr_size, "replay producer: transactional.id %s: %s",
                         r->txn_id, rkerr);
            goto fail;
        }
        rd_kafka_conf_set_dr_msg_cb(pc, dr_cb);
        rd_kafka_conf_set_opaque(pc, r);
        rd_kafka_conf_set_log_cb(pc, log_cb);
        if (!(r->prod = rd_kafka_new(RD_KAFKA_PRODUCER, pc, rkerr, sizeof(rkerr)))) {
            rd_kafka_conf_destroy(pc);
            vtev__seterr(errstr, errstr_size, "replay producer: %s", rkerr);
            goto fail;
        }
        if ((te = rd_kafka_init_transactions(r->prod, TXN_INIT_MS))) {
            vtev__seterr(errstr, errstr_size,
                         "replay producer: init_transactions (transactional.id %s): %s (%s)",
                         r->txn_id, rd_kafka_error_string(te), rd_kafka_error_name(te));
            rd_kafka_error_destroy(te);
            goto fail;
        }
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
        /* vtev_dlq_replay_run() leaves no transaction open; nothing to flush */
        rd_kafka_flush(r->prod, 10000);
        rd_kafka_destroy(r->prod);
    }
    for (i = 0; i < r->slot_cnt; i++) {
        rd_kafka_message_destroy(r->slots[i].m);
        free(r->slots[i].to_own);
    }
    free(r->slots);
    vtev__dlq_parsed_clear(&r->parsed);
    vtev__dlq_parsed_clear(&r->cbparsed);
    vtev_dlq_filter_destroy(r->filter);
    vtev_conf_destroy(r->conf);
    free(r->topic);
    free(r->group);
    free(r->to);
    free(r->txn_id);
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

/* Empties the batch. */
static void clear_slots(vtev_dlq_replay_t *r) {
    size_t i;
    for (i = 0; i < r->slot_cnt; i++) {
        rd_kafka_message_destroy(r->slots[i].m);
        free(r->slots[i].to_own);
    }
    memset(r->slots, 0, r->slot_cnt * sizeof(*r->slots));
    r->slot_cnt = 0;
}

/* The reason of a failed transactional step, with what it means for the
 * batch; marks the replay fatal when the producer is unusable. */
static vtev_err_t txn_fail(vtev_dlq_replay_t *r, rd_kafka_error_t *te, const char *what,
                           char *errstr, size_t errstr_size) {
    vtev_err_t err = vtev__kafka_error(te);
    if (err == VTEV_ERR_FATAL) {
        r->fatal = true;
        vtev__seterr(errstr, errstr_size,
                     "%s: %s of transactional.id %s: %s (%s)%s", r->topic, what, r->txn_id,
                     rd_kafka_error_string(te), rd_kafka_error_name(te),
                     rd_kafka_error_code(te) == RD_KAFKA_RESP_ERR__FENCED
                         ? "; another replay of the same group took over"
                         : "");
    } else
        vtev__seterr(errstr, errstr_size, "%s: %s: %s (%s)", r->topic, what,
                     rd_kafka_error_string(te), rd_kafka_error_name(te));
    rd_kafka_error_destroy(te);
    return err;
}

/* Serves the producer until it holds no message, so that no delivery
 * report touches the slots of a later batch (after a commit or an abort
 * that is at once; a producer that failed for good gets 10 s, then its
 * messages are purged). */
static void drain(vtev_dlq_replay_t *r) {
    int64_t deadline = vtev__now_mono_us() + 10000000;
    bool purged = false;
    while (rd_kafka_outq_len(r->prod) > 0) {
        if (vtev__now_mono_us() >= deadline) {
            if (purged)
                break;
            rd_kafka_purge(r->prod, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
            purged = true;
            deadline = vtev__now_mono_us() + 5000000;
        }
        rd_kafka_poll(r->prod, 50);
    }
    rd_kafka_poll(r->prod, 0);
}

/* Aborts the open transaction (its messages are never visible to
 * read_committed readers, its offsets never committed). */
static void txn_abort(vtev_dlq_replay_t *r) {
    rd_kafka_error_t *te;
    int tries = 0;
    while ((te = rd_kafka_abort_transaction(r->prod, -1)) && !rd_kafka_error_is_fatal(te) &&
           rd_kafka_error_is_retriable(te) && ++tries < TXN_TRIES)
        rd_kafka_error_destroy(te);
    if (te) {
        vtev__log(r->conf, 3, "DLQ", "%s: abort_transaction: %s (the broker aborts it after "
                  "transaction.timeout.ms, or the next run of group %s does)",
                  r->topic, rd_kafka_error_string(te), r->group);
        if (rd_kafka_error_is_fatal(te))
            r->fatal = true;
        rd_kafka_error_destroy(te);
    }
    r->in_txn = false;
    drain(r);
}

/* Commits the batch's transaction: the messages sent and, in the same
 * transaction, the group's offsets after the batch. */
static vtev_err_t txn_commit(vtev_dlq_replay_t *r, vtev__dlq_scan_t *scan, char *errstr,
                             size_t errstr_size) {
    rd_kafka_topic_partition_list_t *l;
    rd_kafka_consumer_group_metadata_t *cgmd;
    rd_kafka_error_t *te;
    size_t i;
    int tries;
    int64_t t = vtev__now_mono_us();

    if (!(l = rd_kafka_topic_partition_list_new(scan->part_cnt)))
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
    for (i = 0; i < r->slot_cnt; i++) { /* in order: the last one per partition wins */
        rd_kafka_topic_partition_t *tp =
            rd_kafka_topic_partition_list_find(l, r->topic, r->slots[i].m->partition);
        if (!tp)
            tp = rd_kafka_topic_partition_list_add(l, r->topic, r->slots[i].m->partition);
        tp->offset = r->slots[i].m->offset + 1;
    }
    if (!(cgmd = rd_kafka_consumer_group_metadata(scan->rk))) {
        rd_kafka_topic_partition_list_destroy(l);
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    tries = 0;
    while ((te = rd_kafka_send_offsets_to_transaction(r->prod, l, cgmd, -1)) &&
           rd_kafka_error_is_retriable(te) && ++tries < TXN_TRIES)
        rd_kafka_error_destroy(te);
    rd_kafka_consumer_group_metadata_destroy(cgmd);
    rd_kafka_topic_partition_list_destroy(l);
    if (te)
        return txn_fail(r, te, "send_offsets_to_transaction", errstr, errstr_size);
    /* flushes: every delivery report has come when it returns */
    tries = 0;
    while ((te = rd_kafka_commit_transaction(r->prod, -1)) && rd_kafka_error_is_retriable(te) &&
           ++tries < TXN_TRIES)
        rd_kafka_error_destroy(te);
    if (te)
        return txn_fail(r, te, "commit_transaction", errstr, errstr_size);
    r->in_txn = false;
    drain(r);
    vtev__log(r->conf, 7, "DLQ", "%s: transaction of %zu dead letters committed in %" PRId64 " ms",
              r->topic, r->slot_cnt, (vtev__now_mono_us() - t) / 1000);
    return VTEV_ERR_OK;
}

/* Ends the batch: commits its transaction (or aborts it), then reports the
 * replayed ones to the callback, empties the batch. */
static vtev_err_t finish_batch(vtev_dlq_replay_t *r, vtev__dlq_scan_t *scan,
                               vtev_dlq_replay_cb_t *cb, void *opaque, char *errstr,
                               size_t errstr_size) {
    vtev_err_t err = VTEV_ERR_OK;
    size_t i;

    if (r->slot_cnt == 0)
        return VTEV_ERR_OK;
    if (r->dry) { /* reported as they were read; nothing to commit */
        clear_slots(r);
        return VTEV_ERR_OK;
    }
    if ((err = txn_commit(r, scan, errstr, errstr_size))) {
        if (!r->fatal && r->in_txn)
            txn_abort(r); /* the delivery reports have all come after it */
        /* a failed delivery is the reason to give, not the abort it causes */
        for (i = 0; i < r->slot_cnt; i++) {
            const slot_t *s = &r->slots[i];
            if (s->produced && s->dr && s->err && s->err != RD_KAFKA_RESP_ERR__PURGE_QUEUE &&
                s->err != RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
                err = vtev__fail(vtev__kafka_err(s->err), errstr, errstr_size,
                                 "%s [%" PRId32 "] offset %" PRId64
                                 " -> %s: delivery failed: %s (the batch's transaction is "
                                 "aborted: the next run sends it again)",
                                 r->topic, s->m->partition, s->m->offset, s->to,
                                 rd_kafka_err2str(s->err));
                break;
            }
        }
        clear_slots(r);
        return err;
    }
    for (i = 0; i < r->slot_cnt; i++) {
        const slot_t *s = &r->slots[i];
        if (!s->produced)
            continue;
        r->st.replayed++;
        if (cb && vtev__dlq_parse(&r->cbparsed, s->m) == VTEV_ERR_OK)
            cb(r, &r->cbparsed.dl, VTEV_DLQ_REPLAYED, s->to, opaque);
    }
    clear_slots(r);
    return VTEV_ERR_OK;
}

/* Waits until due (a monotonic time, us) serving the producer meanwhile;
 * false when stopped. */
static bool pace(vtev_dlq_replay_t *r, int64_t due) {
    int64_t now;
    while ((now = vtev__now_mono_us()) < due) {
        int64_t left = (due - now) / 1000;
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
    if (r->fatal)
        return vtev__fail(VTEV_ERR_FATAL, errstr, errstr_size,
                          "%s: the replay's producer (transactional.id %s) failed for good "
                          "earlier: destroy the replay and create another",
                          r->topic, r->txn_id);
    /* a dry run reads from the group's position too, but never commits;
     * the committed offsets are read after init_transactions() (in
     * vtev_dlq_replay_new()) aborted what an earlier run left open */
    if ((err = vtev__dlq_scan_open(&scan, r->conf, r->topic, r->group, errstr, errstr_size)))
        return err;
    r->running = true;
    while (!atomic_load(&r->stop)) {
        rd_kafka_message_t *m = NULL;
        const vtev_dead_letter_t *dl;
        const char *to = NULL;
        vtev_dlq_action_t action = VTEV_DLQ_REPLAYED;
        bool selected;
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
        if (vtev__dlq_parse(&r->parsed, m) != VTEV_ERR_OK) {
            rd_kafka_message_destroy(m);
            err = vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
            goto out;
        }
        dl = &r->parsed.dl;
        if ((selected = vtev_dlq_filter_match(r->filter, dl))) {
            to = r->to ? r->to
                       : dl->original_topic && *dl->original_topic ? dl->original_topic : NULL;
            action = !to                              ? VTEV_DLQ_REFUSED_NO_TOPIC
                     : dl->replay_count >= r->max_count ? VTEV_DLQ_REFUSED_LOOP
                     : r->dry                          ? VTEV_DLQ_WOULD_REPLAY
                                                       : VTEV_DLQ_REPLAYED;
        }
        if (selected && action == VTEV_DLQ_REPLAYED && r->rate > 0) {
            int64_t due = t0 + (int64_t)(sent * 1000000 / (uint64_t)r->rate);
            int64_t now = vtev__now_mono_us();
            if (due < now - (int64_t)BATCH_MS * 1000) {
                /* behind (a slow commit): no burst above the rate to catch up */
                t0 += now - due;
                due = now;
            }
            /* no transaction stays open across a long wait: commit first */
            if (r->slot_cnt > 0 && due > batch_start + (int64_t)BATCH_MS * 1000 &&
                (err = finish_batch(r, &scan, cb, opaque, errstr, errstr_size))) {
                rd_kafka_message_destroy(m);
                goto out;
            }
            if (!pace(r, due)) {
                /* stopped while waiting: this one is not sent, not committed */
                rd_kafka_message_destroy(m);
                break;
            }
        }
        if (r->slot_cnt == 0) {
            rd_kafka_error_t *te;
            batch_start = vtev__now_mono_us();
            if (r->prod && !r->in_txn) {
                if ((te = rd_kafka_begin_transaction(r->prod))) {
                    rd_kafka_message_destroy(m);
                    err = txn_fail(r, te, "begin_transaction", errstr, errstr_size);
                    goto out;
                }
                r->in_txn = true;
            }
        }
        s = &r->slots[r->slot_cnt++];
        s->m = m;
        r->st.read++;
        if (selected) {
            r->st.selected++;
            if (action == VTEV_DLQ_REFUSED_NO_TOPIC || action == VTEV_DLQ_REFUSED_LOOP) {
                r->st.refused++;
                if (cb)
                    cb(r, dl, action, to, opaque);
            } else if (action == VTEV_DLQ_WOULD_REPLAY) {
                r->st.dry_run++;
                if (cb)
                    cb(r, dl, action, to, opaque);
            } else {
                if (to == r->to)
                    s->to = r->to;
                else if (!(s->to = s->to_own = vtev__strdup(to))) {
                    err = vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
                    goto unread;
                }
                if ((err = produce(r, s, dl, errstr, errstr_size)))
                    goto unread;
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
        continue;
    unread:
        /* not sent: not committed either, the next run starts with it */
        r->slot_cnt--;
        rd_kafka_message_destroy(s->m);
        free(s->to_own);
        memset(s, 0, sizeof(*s));
        r->st.read--;
        r->st.selected--;
        goto out;
    }
    err = VTEV_ERR_OK;
out:
    /* what was sent before an error is still committed */
    if (!r->fatal)
        ferr = finish_batch(r, &scan, cb, opaque, err ? NULL : errstr, err ? 0 : errstr_size);
    else {
        clear_slots(r);
        ferr = VTEV_ERR_OK;
    }
    if (!err)
        err = ferr;
    if (r->prod && r->in_txn && !r->fatal) /* an empty batch's transaction */
        txn_abort(r);
    vtev__dlq_scan_close(&scan);
    r->running = false;
    return err;
}
