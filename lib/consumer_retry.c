/*
 * consumer_retry.c - retry scheduling: jittered exponential backoff, pausing
 * a partition while its message waits, and resuming it when the time comes.
 *
 * Choice (doc/consumer.md): the retried message is not kept in memory. The
 * partition is paused and seeked back to the message's offset at once (which
 * also discards whatever librdkafka had prefetched for it); when the backoff
 * expires the partition is resumed and librdkafka fetches the message again.
 * Other partitions keep flowing meanwhile.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "consumer_int.h"
#include "internal.h"

static void pause_resume(vtev_consumer_t *c, vtev_cpart_t *p, bool pause) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_resp_err_t err;
    if (!l)
        return;
    rd_kafka_topic_partition_list_add(l, p->topic, p->partition);
    err = pause ? rd_kafka_pause_partitions(c->rk, l) : rd_kafka_resume_partitions(c->rk, l);
    if (err || l->elems[0].err)
        vtev__log(c->conf, 4, "CONSUMER", "%s [%" PRId32 "]: %s failed: %s", p->topic,
                  p->partition, pause ? "pause" : "resume",
                  rd_kafka_err2str(err ? err : l->elems[0].err));
    rd_kafka_topic_partition_list_destroy(l);
    p->paused = pause;
}

/* Pauses p, seeks it back to offset, and resumes it after a backoff that
 * grows with backoff_n; attempts is what the message has used so far. */
static void schedule_delay(vtev_consumer_t *c, vtev_cpart_t *p, int64_t offset, int attempts,
                           int64_t delay) {
    rd_kafka_topic_partition_list_t *l;
    rd_kafka_error_t *error = NULL;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__FAIL;
    pthread_mutex_lock(&c->lock);
    p->retry_active = true;
    p->retry_offset = offset;
    p->attempts = attempts;
    p->resume_at_us = vtev__now_mono_us() + delay * 1000;
    pthread_mutex_unlock(&c->lock);
    pause_resume(c, p, true);
    if ((l = rd_kafka_topic_partition_list_new(1))) {
        rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset = offset;
        error = rd_kafka_seek_partitions(c->rk, l, 0);
        err = error ? rd_kafka_error_code(error) : l->elems[0].err;
        if (error)
            rd_kafka_error_destroy(error);
        rd_kafka_topic_partition_list_destroy(l);
    }
    if (err && err != RD_KAFKA_RESP_ERR__IN_PROGRESS) /* asynchronous seek: started */
        vtev__log(c->conf, 4, "CONSUMER", "%s [%" PRId32 "]: seek to %" PRId64 " failed: %s",
                  p->topic, p->partition, offset, rd_kafka_err2str(err));
    vtev__log(c->conf, 7, "CONSUMER",
              "%s [%" PRId32 "] offset %" PRId64 ": retry after %" PRId64 " ms (attempts so far %d)",
              p->topic, p->partition, offset, delay, attempts);
}

static void schedule_at(vtev_consumer_t *c, vtev_cpart_t *p, int64_t offset, int attempts,
                        int backoff_n) {
    schedule_delay(c, p, offset, attempts,
                   vtev__backoff_ms(backoff_n, c->backoff_ms, c->backoff_max_ms,
                                    VTEV__JITTER_EQUAL));
}

void vtev__consumer_schedule_delay(vtev_consumer_t *c, vtev_cpart_t *p, int64_t offset,
                                   int attempts, int64_t delay_ms) {
    schedule_delay(c, p, offset, attempts, delay_ms > 0 ? delay_ms : 0);
}

void vtev__consumer_schedule_retry_at(vtev_consumer_t *c, vtev_cpart_t *p, int64_t offset,
                                      int attempts) {
    schedule_at(c, p, offset, attempts, attempts);
}

void vtev__consumer_schedule_retry(vtev_consumer_t *c, vtev_cpart_t *p,
                                   const rd_kafka_message_t *m, int attempts) {
    schedule_at(c, p, m->offset, attempts, attempts);
}

int vtev__consumer_retry_env(vtev_consumer_t *c, vtev_cpart_t *p, int64_t offset, int attempts_made) {
    int n;
    pthread_mutex_lock(&c->lock);
    if (p->env_failures < 64)
        p->env_failures++;
    n = p->env_failures;
    pthread_mutex_unlock(&c->lock);
    schedule_at(c, p, offset, attempts_made, n);
    return n;
}

void vtev__consumer_resume_due(vtev_consumer_t *c) {
    int64_t now = vtev__now_mono_us();
    size_t i;
    for (i = 0; i < c->part_cnt; i++) {
        vtev_cpart_t *p = &c->parts[i];
        if (p->retry_active && p->paused && now >= p->resume_at_us)
            pause_resume(c, p, false);
    }
}
