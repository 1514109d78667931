/*
 * consumer_defer.c - deferred verdicts: a handler's message is finished only
 * when its outputs were stored (vtev_consumer_defer(), vtev_pending_done()),
 * and a partition's offset moves only past messages that are all finished.
 *
 * Each partition keeps a FIFO of the messages handled but not yet stored
 * (vtev_cpart_t.pend_head). Only the polling thread touches the FIFO;
 * vtev_pending_done() (any thread, typically a producer's delivery report)
 * only changes the atomics of one entry. On each poll vtev__consumer_reap()
 * pops the finished entries at the head of every FIFO and stores the offset
 * after the last one. A failed entry at the head re-delivers: the FIFO is
 * dropped and the partition sought back to that message (consumer_retry.c).
 * A message finished while the FIFO is empty is stored at once, as before.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "consumer_int.h"
#include "internal.h"

static void pending_release(vtev_pending_t *pd) {
    if (atomic_fetch_sub(&pd->refs, 1) == 1)
        free(pd);
}

static vtev_pending_t *pending_new(int64_t offset, int count) {
    vtev_pending_t *pd = malloc(sizeof(*pd));
    if (!pd)
        return NULL;
    atomic_init(&pd->refs, 1 + count);
    atomic_init(&pd->remaining, count);
    atomic_init(&pd->err, VTEV_ERR_OK);
    pd->offset = offset;
    pd->next = NULL;
    return pd;
}

vtev_pending_t *vtev_consumer_defer(vtev_consumer_t *c, unsigned int count) {
    vtev_pending_t *pd;
    if (!c || !c->cur_topic || count == 0 || count > 1u << 20)
        return NULL;
    if ((pd = c->cur_pending)) {
        /* the consumer's reference keeps it alive while the handler runs */
        atomic_fetch_add(&pd->refs, (int)count);
        atomic_fetch_add(&pd->remaining, (int)count);
        return pd;
    }
    if (!(pd = pending_new(c->cur_offset, (int)count)))
        return NULL;
    c->cur_pending = pd;
    return pd;
}

void vtev_pending_done(vtev_pending_t *pd, vtev_err_t err) {
    int ok = VTEV_ERR_OK;
    if (!pd)
        return;
    if (err != VTEV_ERR_OK)
        atomic_compare_exchange_strong(&pd->err, &ok, (int)err);
    atomic_fetch_sub(&pd->remaining, 1);
    pending_release(pd);
}

static void enqueue(vtev_cpart_t *p, vtev_pending_t *pd) {
    if (p->pend_tail)
        p->pend_tail->next = pd;
    else
        p->pend_head = pd;
    p->pend_tail = pd;
}

static void store_offset(vtev_consumer_t *c, vtev_cpart_t *p, int64_t next) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__FAIL;
    if (l) {
        rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset = next;
        err = rd_kafka_offsets_store(c->rk, l);
        if (!err)
            err = l->elems[0].err;
        rd_kafka_topic_partition_list_destroy(l);
    }
    if (err)
        vtev__log(c->conf, 4, "CONSUMER", "%s [%" PRId32 "]: storing offset %" PRId64 ": %s",
                  p->topic, p->partition, next, rd_kafka_err2str(err));
    pthread_mutex_lock(&c->lock);
    p->next_offset = next;
    pthread_mutex_unlock(&c->lock);
    if (c->commit_interval_ms == 0)
        rd_kafka_commit(c->rk, NULL, 1);
}

void vtev__consumer_offset_done(vtev_consumer_t *c, vtev_cpart_t *p, int64_t offset) {
    vtev_pending_t *pd;
    if (!p->pend_head) {
        store_offset(c, p, offset + 1);
        return;
    }
    if (!(pd = pending_new(offset, 0))) {
        /* cannot queue it: leave it unstored; a later store or the next
         * owner covers it (at-least-once) */
        vtev__log(c->conf, 4, "CONSUMER", "%s [%" PRId32 "] offset %" PRId64
                  ": out of memory, offset not stored", p->topic, p->partition, offset);
        return;
    }
    enqueue(p, pd);
}

bool vtev__consumer_defer_finish(vtev_consumer_t *c, vtev_cpart_t *p, bool ok) {
    vtev_pending_t *pd = c->cur_pending;
    c->cur_pending = NULL;
    if (!pd)
        return false;
    if (!ok) {
        pending_release(pd);
        return false;
    }
    enqueue(p, pd);
    return true;
}

void vtev__consumer_pending_drop(vtev_cpart_t *p) {
    vtev_pending_t *pd = p->pend_head, *next;
    for (; pd; pd = next) {
        next = pd->next;
        pending_release(pd);
    }
    p->pend_head = p->pend_tail = NULL;
}

void vtev__consumer_reap(vtev_consumer_t *c) {
    size_t i;
    for (i = 0; i < c->part_cnt; i++) {
        vtev_cpart_t *p = &c->parts[i];
        int64_t last = -1;
        while (p->pend_head && atomic_load(&p->pend_head->remaining) <= 0) {
            vtev_pending_t *pd = p->pend_head;
            vtev_err_t err = (vtev_err_t)atomic_load(&pd->err);
            if (err != VTEV_ERR_OK) {
                int64_t off = pd->offset;
                if (last >= 0)
                    store_offset(c, p, last + 1);
                last = -1;
                vtev__log(c->conf, 4, "CONSUMER",
                          "%s [%" PRId32 "] offset %" PRId64
                          ": an output was not stored (%s); redelivering from here",
                          p->topic, p->partition, off, vtev_err2name(err));
                vtev__consumer_pending_drop(p);
                pthread_mutex_lock(&c->lock);
                p->pending_dlq = false;
                p->reseeks = 0;
                pthread_mutex_unlock(&c->lock);
                vtev__consumer_retry_env(c, p, off, 0);
                break;
            }
            last = pd->offset;
            p->pend_head = pd->next;
            if (!p->pend_head)
                p->pend_tail = NULL;
            pending_release(pd);
        }
        if (last >= 0)
            store_offset(c, p, last + 1);
    }
}
