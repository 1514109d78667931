/*
 * consumer_int.h - internals of the typed consumer (consumer.c, consumer_retry.c,
 * dlq.c). Never installed.
 */
#ifndef VTEV_CONSUMER_INT_H
#define VTEV_CONSUMER_INT_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <librdkafka/rdkafka.h>
#include <vtevents/consumer.h>
#include <vtevents/serde.h>

#include "conf_int.h"
#include "health_int.h"

/* A message whose offset waits (consumer_defer.c): deferred by its handler,
 * or finished but behind a deferred one of its partition. Owned by the
 * consumer (1 reference while queued or in the handler) and by the
 * vtev_pending_done() calls still due (remaining); the last one frees it. */
struct vtev_pending_s {
    atomic_int refs;
    atomic_int remaining; /* vtev_pending_done() calls still due */
    atomic_int err;       /* first failure, VTEV_ERR_OK */
    int64_t offset;       /* the message's offset */
    struct vtev_pending_s *next;
};

/* State of one assigned partition. */
typedef struct vtev_cpart_s {
    char *topic;
    int32_t partition;
    int64_t next_offset;  /* offset after the last finished message, -1 unknown */
    /* retry state: the message at retry_offset is redelivered after resume_at_us */
    bool retry_active;
    bool paused;
    int64_t retry_offset;
    int attempts;         /* handler attempts made on retry_offset */
    int reseeks;          /* seeks back after a later offset came instead */
    rd_kafka_message_t *retry_msg; /* the retried message, kept: dead-lettered if retention removes it */
    int64_t resume_at_us; /* monotonic */
    /* environment failures (registry trouble, RETRY_ENV verdicts, failed
     * outputs of deferred messages) since the partition last finished a
     * message: retried without limit, never dead-lettered; the count only
     * grows the backoff */
    int env_failures;
    int64_t missing_since_us; /* first "schema id not found" on retry_offset, 0: none */
    /* the message at retry_offset must be dead-lettered (earlier DLQ produce failed) */
    bool pending_dlq;
    vtev_err_t dlq_err;
    char dlq_msg[512];
    bool eof;             /* at the partition's end (enable.partition.eof) */
    /* messages handled but not yet stored, oldest first (consumer_defer.c) */
    vtev_pending_t *pend_head, *pend_tail;
    /* the topic's and the partition's metric series (metrics.c: process-wide,
     * never freed), looked up at the partition's first message */
    struct vtev__ctopic_met_s *met;
    struct vtev__series_s *lag;
} vtev_cpart_t;

/* A subscribed topic and the type its messages must have (NONE: any). */
typedef struct vtev_csub_s {
    char *topic;
    vtev_event_type_t expected;
    bool legacy; /* subscribed for the three events (vtev_event_t handlers) too */
} vtev_csub_t;

typedef struct vtev_chandler_s {
    vtev_handler_t *fn;
    void *opaque;
} vtev_chandler_t;

/* A subscription of a generated type (vtev_consumer_subscribe_type). */
typedef struct vtev_ctyped_s {
    char *topic;
    const vtev_type_t *type;
    vtev_type_handler_t *fn;
    void *opaque;
    vtev_consumer_stats_t stats; /* guarded by the consumer's lock */
} vtev_ctyped_t;

struct vtev_consumer_s {
    vtev_conf_t *conf;
    rd_kafka_t *rk;
    rd_kafka_t *dlq_rk; /* NULL when consumer.dlq.enable=false */
    vtev_serde_t *serde;

    vtev_chandler_t handlers[4]; /* by vtev_event_type_t */
    vtev_csub_t *subs;
    size_t sub_cnt;
    vtev_ctyped_t *typed; /* generated-type subscriptions (realloc'd under lock) */
    size_t typed_cnt;

    /* settings */
    int max_attempts;
    int64_t backoff_ms;
    int64_t backoff_max_ms;
    int64_t commit_interval_ms;
    bool dlq_enable;
    char dlq_suffix[64];
    int dlq_timeout_ms;
    int64_t schema_nf_window_ms; /* consumer.schema.not.found.retry.ms */
    /* non-blocking retries (consumer_tiers.c): 0 = blocking */
    int tiers;
    vtev__tier_backoff_t tier_backoff;
    int64_t tier_delay_ms, tier_delay_max_ms;

    /* consumer.read.only: never writes to Kafka; has_group false: assigns
     * itself every partition (start_offset) and never commits */
    bool read_only;
    bool metrics; /* metrics.enable */
    bool has_group;
    int64_t start_offset; /* librdkafka offset (RD_KAFKA_OFFSET_BEGINNING, _END, _TAIL(n), n) */
    vtev_consumer_unhandled_cb_t *unhandled_cb;
    void *unhandled_opaque;
    vtev_consumer_eof_cb_t *eof_cb;
    void *eof_opaque;

    /* reports environment errors (vtev_consumer_set_error_cb) */
    vtev_consumer_error_cb_t *error_cb;
    void *error_opaque;

    /* partitions: guarded by lock (read by vtev_consumer_lag from other threads) */
    pthread_mutex_t lock;
    vtev_cpart_t *parts;
    size_t part_cnt;
    size_t part_cap;

    /* counters by type: guarded by lock */
    vtev_consumer_stats_t stats[4];

    /* the message whose handler is running (for txn_send_offsets) */
    const char *cur_topic;
    int32_t cur_partition;
    int64_t cur_offset;
    vtev_pending_t *cur_pending; /* vtev_consumer_defer() in the running handler */

    /* health.h */
    _Atomic int64_t last_poll_us; /* monotonic: vtev_consumer_poll() entered */
    int64_t max_poll_ms;          /* kafka.max.poll.interval.ms */
    vtev__brokers_t brokers;
    char name[64];                /* "consumer GROUP" or "reader" */

    atomic_int stop;
    bool closed;
    vtev_err_t stopped_err; /* an error that stopped the consumer, else OK */
    char stopped_msg[512];
    bool cooperative;
};

/* consumer_retry.c */
/* Pauses the message's partition and seeks it back to the message, to be
 * redelivered after the backoff. */
void vtev__consumer_schedule_retry(vtev_consumer_t *c, vtev_cpart_t *p,
                                   const rd_kafka_message_t *m, int attempts);
/* Resumes paused partitions whose backoff expired. */
void vtev__consumer_resume_due(vtev_consumer_t *c);

/* Pauses p and seeks it back to offset, resumed after delay_ms (a retry
 * tier's message that is not due yet); attempts stays as given. */
void vtev__consumer_schedule_delay(vtev_consumer_t *c, vtev_cpart_t *p, int64_t offset,
                                   int attempts, int64_t delay_ms);

/* Like vtev__consumer_schedule_retry(), by topic/partition/offset. */
void vtev__consumer_schedule_retry_at(vtev_consumer_t *c, vtev_cpart_t *p, int64_t offset,
                                      int attempts);
/* An environment failure at @p offset (not the message's fault): retry it
 * after a backoff that grows with p->env_failures (counted here, reset when
 * the partition finishes a message), without using up attempts (the
 * message's attempt count stays @p attempts_made).  Returns the count. */
int vtev__consumer_retry_env(vtev_consumer_t *c, vtev_cpart_t *p, int64_t offset, int attempts_made);

/* consumer_defer.c */
/* The message at @p offset is finished: stores offset + 1 now, or queues it
 * behind the partition's deferred messages. */
void vtev__consumer_offset_done(vtev_consumer_t *c, vtev_cpart_t *p, int64_t offset);
/* After the handler returned: queues c->cur_pending when @p ok, else drops
 * it; clears c->cur_pending. Returns true when the message was queued. */
bool vtev__consumer_defer_finish(vtev_consumer_t *c, vtev_cpart_t *p, bool ok);
/* Stores the offsets of every partition whose oldest waiting messages are
 * done; a failed one is scheduled for redelivery. Polling thread. */
void vtev__consumer_reap(vtev_consumer_t *c);
/* Forgets the waiting messages of @p p (revoke, close, destroy). */
void vtev__consumer_pending_drop(vtev_cpart_t *p);

/* consumer.c */
vtev_cpart_t *vtev__consumer_part(vtev_consumer_t *c, const char *topic, int32_t partition,
                                  bool create);

/* consumer_tiers.c */
/* The tier n of topic when it is "<base>.retry.<n>" of a subscribed topic
 * that uses the tiers (base receives it), else 0. */
int vtev__consumer_tier_of(vtev_consumer_t *c, const char *topic, char *base, size_t size);
/* Moves m (read from base's partition, or from tier n - 1) to
 * <base>.retry.<n> and waits for the delivery report. */
vtev_err_t vtev__consumer_tier_send(vtev_consumer_t *c, const rd_kafka_message_t *m,
                                    const char *base, int n, int attempts, char *errstr,
                                    size_t errstr_size);
/* Asks the brokers for topic's metadata on the producer of the tiers, so
 * that the first message moved there does not wait for it (bounded, 5 s). */
void vtev__consumer_tier_warm(vtev_consumer_t *c, const char *topic);
/* The wall-clock time (ms) at which a message of a retry tier is due, from
 * its vtev.retry.due header; -1 without one. */
int64_t vtev__consumer_tier_due_ms(const rd_kafka_message_t *m);

/* dlq.c */
/* The last value of header name of m as a string in buf ("" when absent,
 * truncated to size - 1 bytes); returns buf. */
const char *vtev__msg_header_str(const rd_kafka_message_t *m, const char *name, char *buf,
                                 size_t size);
/* m's Kafka timestamp as the headers write it: ISO-8601 UTC with
 * milliseconds in ts, "CreateTime" or "LogAppendTime" in type; both ""
 * when m has none. */
void vtev__msg_timestamp_str(const rd_kafka_message_t *m, char *ts, size_t ts_size, char *type,
                             size_t type_size);
/* Produces m's key and value to topic with hdrs (taken over, also on
 * failure) on the dead-letter producer and waits for the delivery report. */
vtev_err_t vtev__dlq_produce_wait(vtev_consumer_t *c, const char *topic,
                                  const rd_kafka_message_t *m, rd_kafka_headers_t *hdrs,
                                  char *errstr, size_t errstr_size);
/* Creates the dead-letter producer (idempotent, acks=all). */
vtev_err_t vtev__dlq_new(vtev_consumer_t *c, rd_kafka_conf_t *base, char *errstr,
                         size_t errstr_size);
/* Produces @m unchanged to <topic><suffix> with the vtev.* headers and waits
 * for its delivery report. VTEV_ERR_OK once the broker stored it. */
/* Whether an original header's name is one the dead-letter record sets
 * (vtev.error.*, vtev.original.*, vtev.dlq.*, vtev.attempts,
 * vtev.consumer.group) or a retry tier sets (vtev.retry.*): such headers are
 * not copied into a dead letter or a retry tier's copy. */
bool vtev__dlq_reserved_header(const char *name);

vtev_err_t vtev__dlq_send(vtev_consumer_t *c, const rd_kafka_message_t *m, vtev_err_t why,
                          const char *why_msg, int attempts, char *errstr,
                          size_t errstr_size);

#endif
