/**
 * @file consumer.h
 * @brief Typed consuming for a consumer group: one handler per event type,
 *        at-least-once delivery, retries with backoff and dead letters.
 *
 * A ::vtev_consumer_t joins the consumer group `group.id`, subscribes to the
 * topics of the event types it has handlers for (and to raw topics whose
 * events are dispatched by the writer schema's type), decodes every message
 * (Confluent wire format, Schema Registry), validates it and calls the
 * handler of its type.  The handler's verdict decides what happens next:
 *
 * - ::VTEV_VERDICT_OK: the offset is stored and committed on the next commit.
 * - ::VTEV_VERDICT_RETRY: the partition is paused (other partitions keep
 *   flowing) and the same message is handed to the handler again after a
 *   jittered exponential backoff (`consumer.retry.backoff.ms`, doubling up to
 *   `consumer.retry.backoff.max.ms`).  After `consumer.retry.max.attempts`
 *   attempts it is dead-lettered.
 *   With `consumer.retry.tiers` N > 0 (opt-in per topic with
 *   `consumer.retry.tier.topics`) the retry does not block: the message is
 *   moved to `<topic>.retry.1` ... `.retry.N`, each after its delay
 *   (`consumer.retry.tier.*`), then dead-lettered; per-key order is given
 *   up for it (doc/consumer.md).
 * - ::VTEV_VERDICT_REJECT: dead-lettered at once.
 * - ::VTEV_VERDICT_RETRY_ENV: like RETRY, but without attempt limit (an
 *   environment failure such as a database outage; never dead-lettered).
 *
 * A handler whose outputs are published asynchronously defers its verdict
 * with vtev_consumer_defer() until the delivery reports arrive.
 *
 * Poison messages (short buffer, wrong magic byte, schema id the registry does
 * not know, undecodable bytes, events that fail validation, events of a type
 * without handler) are dead-lettered at once to `<topic><dlq.suffix>` with
 * their original key, value and headers plus `vtev.error.code`,
 * `vtev.error.message`, `vtev.original.topic`, `vtev.original.partition`,
 * `vtev.original.offset`, `vtev.attempts` and `vtev.dlq.time`.  Registry
 * trouble is about the environment, not the message (unreachable, timeouts,
 * 429, 5xx, 401/403, TLS failures, redirects, a proxy's error page: see
 * vtev_err_is_retriable()): the partition is paused and the message retried
 * with a growing backoff, without attempt limit, never dead-lettered, and
 * each failure is reported through the error callback
 * (vtev_consumer_set_error_cb()).  A schema id the registry does not know is
 * re-checked the same way for `consumer.schema.not.found.retry.ms` (a
 * replica may lag) and only then dead-lettered.  A registry call never holds
 * the poll thread longer than `schema.registry.call.timeout.ms`, which the
 * consumer caps at half of `kafka.max.poll.interval.ms`.  doc/consumer.md
 * has the whole story (commit cadence, rebalances, offset reset).
 *
 * @remark Thread safety: a consumer is driven by one thread at a time
 *         (vtev_consumer_run(), vtev_consumer_poll(), subscribe, close).
 *         vtev_consumer_stop() may be called from any thread and from a
 *         signal handler.  vtev_consumer_stats() and vtev_consumer_lag() may
 *         be called from any thread while another one polls.  Handlers run on
 *         the polling thread; they may call vtev_consumer_stop(),
 *         vtev_consumer_stats(), vtev_consumer_lag() and
 *         vtev_consumer_defer() but not poll, run, close or destroy.
 *         vtev_pending_done() may be called from any thread.
 */
#ifndef VTEVENTS_CONSUMER_H
#define VTEVENTS_CONSUMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vtevents/export.h>
#include <vtevents/error.h>
#include <vtevents/conf.h>
#include <vtevents/event.h>
#include <vtevents/producer.h>
#include <vtevents/type.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Opaque consumer handle. */
typedef struct vtev_consumer_s vtev_consumer_t;

/** @brief What a handler decided about a message. */
typedef enum vtev_verdict_e {
    VTEV_VERDICT_OK = 0,     /**< Handled: the offset may move past it. */
    VTEV_VERDICT_RETRY = 1,  /**< Try again later (backoff); dead-lettered after the last attempt. */
    VTEV_VERDICT_REJECT = 2, /**< Never processable: dead-letter it now. */
    /** The environment failed, not the message (a database that is down, a
     *  service that does not answer): pause the partition and hand the same
     *  message again after the backoff (growing up to
     *  `consumer.retry.backoff.max.ms`), without limit and without using up
     *  `consumer.retry.max.attempts` (vtev_msg_info_t::attempt does not
     *  advance).  Never dead-lettered.  Counted in
     *  vtev_consumer_stats_t::retried.  @since 0.2.0 */
    VTEV_VERDICT_RETRY_ENV = 3
} vtev_verdict_t;

/**
 * @brief A handler's verdict left open until its outputs are stored (see
 *        vtev_consumer_defer()).  Opaque.
 */
typedef struct vtev_pending_s vtev_pending_t;

/**
 * @brief Where a message came from, handed to a handler with the event.
 *
 * Every pointer is borrowed and valid only during the handler call.
 */
typedef struct vtev_msg_info_s {
    const char *topic;             /**< Topic the message was read from. */
    int32_t partition;             /**< Partition. */
    int64_t offset;                /**< Offset. */
    const void *key;               /**< Message key (NULL when none), not NUL-terminated. */
    size_t key_len;                /**< Key size in bytes. */
    int64_t timestamp_ms;          /**< Kafka message timestamp (ms since epoch), -1 if none. */
    const vtev_header_t *headers;  /**< Message headers in order (NULL when none; ::vtev_header_t is in producer.h). */
    size_t header_cnt;             /**< Number of headers. */
    int32_t schema_id;             /**< Registry id of the writer schema. */
    int attempt;                   /**< 1 on first delivery, 2 on the first retry, ... */
    /** The message's W3C `traceparent` (normalised, NUL-terminated), or NULL
     *  when it carries none that parses (see <vtevents/trace.h>).  @since 0.2.0 */
    const char *traceparent;
    /** Its `tracestate`, or NULL when none.  @since 0.2.0 */
    const char *tracestate;
} vtev_msg_info_t;

/**
 * @brief A handler of one event type.
 * @param c      the consumer.
 * @param ev     the decoded, validated event (borrowed; valid during the call;
 *               copy it with vtev_event_copy() to keep it).
 * @param info   where the message came from (borrowed, valid during the call).
 * @param opaque the pointer given at subscription.
 * @returns the verdict.
 * @remark Called on the thread that runs vtev_consumer_run() or
 *         vtev_consumer_poll().  It may call vtev_consumer_stop(); it must not
 *         call vtev_consumer_poll(), _run(), _close() or _destroy().
 */
typedef vtev_verdict_t (vtev_handler_t)(vtev_consumer_t *c, const vtev_event_t *ev,
                                        const vtev_msg_info_t *info, void *opaque);

/**
 * @brief A handler of a generated event type (see vtev_consumer_subscribe_type()).
 * @param c      the consumer.
 * @param type   the event's type (the descriptor given at subscription).
 * @param ev     the decoded, validated event: a pointer to @p type's struct
 *               (borrowed; valid during the call; copy it with
 *               type->copy() to keep it).
 * @param info   where the message came from (borrowed, valid during the call).
 * @param opaque the pointer given at subscription.
 * @returns the verdict.
 * @remark Called on the polling thread, as ::vtev_handler_t.
 * @since 0.2.0
 */
typedef vtev_verdict_t (vtev_type_handler_t)(vtev_consumer_t *c, const vtev_type_t *type,
                                             const void *ev, const vtev_msg_info_t *info,
                                             void *opaque);

/**
 * @brief Error callback: an error of the environment (the registry) held up
 *        a message, which will be retried.
 * @param c      the consumer.
 * @param err    why: a code for which vtev_err_is_retriable() is true,
 *               ::VTEV_ERR_REGISTRY (an unexpected registry answer), or
 *               ::VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND while the id is re-checked
 *               (`consumer.schema.not.found.retry.ms`).
 * @param reason the text (names the topic, schema id and registry answer),
 *               valid only during the call.
 * @param info   the held-up message: topic, partition, offset, key,
 *               timestamp_ms and schema_id are set, headers are not;
 *               attempt counts the environment failures of this message
 *               (1, 2, ...).  Valid only during the call.
 * @param opaque the opaque given to vtev_consumer_set_error_cb().
 * @remark Called on the polling thread, after the partition was paused and
 *         the retry scheduled.  It may call vtev_consumer_stop(),
 *         vtev_consumer_stats() and vtev_consumer_lag(), not poll, run,
 *         close or destroy.
 */
typedef void (vtev_consumer_error_cb_t)(vtev_consumer_t *c, vtev_err_t err, const char *reason,
                                        const vtev_msg_info_t *info, void *opaque);

/**
 * @brief Unhandled callback of a read-only consumer (`consumer.read.only`):
 *        a message the consumer could not hand to a handler, which a group
 *        consumer would dead-letter.
 * @param c         the consumer.
 * @param err       why: ::VTEV_ERR_SHORT_BUFFER, ::VTEV_ERR_BAD_MAGIC (not in
 *                  the wire format, also an empty value),
 *                  ::VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND, ::VTEV_ERR_DECODE,
 *                  ::VTEV_ERR_SCHEMA / ::VTEV_ERR_SCHEMA_MISMATCH (a writer
 *                  schema that is not the expected type's; on a topic read
 *                  with vtev_consumer_subscribe_topic(): a schema that is not
 *                  one of the platform events), ::VTEV_ERR_INVALID (failed
 *                  validation), ::VTEV_ERR_NOT_FOUND (no handler for its
 *                  type), ::VTEV_ERR_REJECTED or ::VTEV_ERR_RETRIES_EXHAUSTED
 *                  (the handler's verdicts).
 * @param reason    the text, naming the topic, offset or field; valid only
 *                  during the call.
 * @param value     the message's value bytes as read (NULL for an empty
 *                  value); borrowed, valid only during the call.
 * @param value_len size of @p value in bytes.
 * @param info      where it came from: everything is set, headers included;
 *                  schema_id is -1 when the value has no wire-format header.
 *                  Valid only during the call.
 * @param opaque    the opaque given to vtev_consumer_set_unhandled_cb().
 * @returns ::VTEV_VERDICT_RETRY_ENV to hold the message (its partition is
 *          paused and the same message comes again after the backoff, its
 *          offset not stored: e.g. when the caller could not write it out);
 *          any other verdict moves past it (its offset is stored, and with a
 *          group committed).
 * @remark Called on the polling thread, like a handler, with the same rules.
 * @since 0.2.0
 */
typedef vtev_verdict_t (vtev_consumer_unhandled_cb_t)(vtev_consumer_t *c, vtev_err_t err,
                                                      const char *reason, const void *value,
                                                      size_t value_len,
                                                      const vtev_msg_info_t *info, void *opaque);

/**
 * @brief End-of-partition callback: the consumer has handled every message
 *        of a partition up to its end (the log end offset when it was
 *        fetched).  More messages may come later.
 * @param c          the consumer.
 * @param topic      the topic (valid only during the call).
 * @param partition  the partition.
 * @param offset     the end offset (the next message's offset).
 * @param all_at_end true when every partition assigned to @p c is at its
 *                   end now (what `vt-tail -e` waits for).
 * @param opaque     the opaque given to vtev_consumer_set_eof_cb().
 * @remark Called on the polling thread; it may call vtev_consumer_stop(),
 *         not poll, run, close or destroy.  Called again each time the
 *         partition reaches its end after new messages.  Needs librdkafka's
 *         `enable.partition.eof`, which the consumer turns on unless
 *         `kafka.enable.partition.eof` says otherwise.
 * @since 0.2.0
 */
typedef void (vtev_consumer_eof_cb_t)(vtev_consumer_t *c, const char *topic, int32_t partition,
                                      int64_t offset, bool all_at_end, void *opaque);

/** @brief Counters of one event type (see vtev_consumer_stats()). */
typedef struct vtev_consumer_stats_s {
    uint64_t consumed;         /**< Deliveries seen (retries count again). */
    uint64_t ok;               /**< Handler returned ::VTEV_VERDICT_OK. */
    uint64_t retried;          /**< Retries scheduled (handler RETRY or environment errors). */
    uint64_t rejected;         /**< Handler returned ::VTEV_VERDICT_REJECT. */
    uint64_t dead_lettered;    /**< Messages acknowledged by the dead-letter topic. */
    uint64_t handler_time_us;  /**< Total time spent in the handler, microseconds. */
    uint64_t handler_max_us;   /**< Longest handler call, microseconds. */
} vtev_consumer_stats_t;

/** @brief Consumer lag of one assigned partition (see vtev_consumer_lag()). */
typedef struct vtev_partition_lag_s {
    char topic[256];       /**< Topic name. */
    int32_t partition;     /**< Partition. */
    int64_t position;      /**< Next offset to handle (handled + 1, else committed, else low watermark). */
    int64_t high_watermark;/**< Log end offset. */
    int64_t lag;           /**< high_watermark - position (>= 0). */
} vtev_partition_lag_t;

/**
 * @name Life cycle
 * @{
 */
/**
 * @brief Creates a consumer for the group `group.id`, or a reader.
 *
 * Reads `bootstrap.servers` (`mock://NAME`: the embedded cluster),
 * `schema.registry.url`, `group.id` (required), `topic.*`, `dlq.suffix`,
 * `consumer.*` and every `kafka.*` key.  The librdkafka consumer is created
 * with `enable.auto.offset.store=false`, `auto.offset.reset` =
 * `consumer.offset.reset` (default `earliest`), `auto.commit.interval.ms` =
 * `consumer.commit.interval.ms` and the `roundrobin` assignment strategy
 * unless `kafka.partition.assignment.strategy` says otherwise.  With
 * `consumer.dlq.enable=true` it also creates the dead-letter producer
 * (idempotent, `acks=all`).
 *
 * With `consumer.read.only=true` it is a reader that never writes to Kafka:
 * no dead-letter producer, and what would be dead-lettered goes to the
 * unhandled callback (vtev_consumer_set_unhandled_cb()).  A reader needs no
 * `group.id`: without one it assigns itself every partition of each topic
 * at subscription, starting at `consumer.start.offset`, and commits
 * nothing; with one it joins that group and commits as any consumer does.
 * A reader's subscription to a topic that does not exist fails with
 * ::VTEV_ERR_NOT_FOUND.
 *
 * @param conf        configuration; ownership passes to the consumer on
 *                    success only (on failure the caller still owns it).
 * @param errstr      receives a message naming the key or cause on failure.
 * @param errstr_size size of @p errstr.
 * @returns the consumer (destroy with vtev_consumer_destroy()), or NULL.
 * @remark Thread safety: may be called from any thread; the thread that
 *         then drives the consumer need not be the one that created it.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_consumer_t *vtev_consumer_new(vtev_conf_t *conf, char *errstr,
                                               size_t errstr_size);

/**
 * @brief Closes (when not yet closed) and frees @p c and the configuration
 *        it owns.  NULL is ignored.
 * @param c the consumer, or NULL.  Handles from vtev_consumer_defer() that
 *          are still pending stay valid (see vtev_pending_done()).
 * @remark Must not be called from a handler or while another thread polls:
 *         call it from the thread that drives the consumer, as its last call.
 * @since 0.1.0
 */
VTEV_EXPORT void vtev_consumer_destroy(vtev_consumer_t *c);

/**
 * @brief Leaves the group: commits the stored offsets synchronously, then
 *        closes the librdkafka consumer (revoking the assignment, which
 *        commits again).  Later polls return ::VTEV_ERR_STATE.
 * @param c           the consumer.
 * @param errstr      receives the reason on failure.
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK, or ::VTEV_ERR_KAFKA when the final commit or the
 *          close failed (the consumer is closed anyway).
 * @remark From the thread that drives the consumer (not from a handler),
 *         not concurrently with poll or run.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_consumer_close(vtev_consumer_t *c, char *errstr,
                                           size_t errstr_size);
/** @} */

/**
 * @name Subscriptions
 * Subscriptions accumulate: each call adds to the set and re-subscribes the
 * consumer to the whole set.  Call them before polling (a change while
 * running triggers a rebalance).
 * @{
 */
/**
 * @brief Handles events of @p type with @p handler, reading them from
 *        @p topic (NULL: `topic.position`, `topic.request` or `topic.result`).
 * @param c           the consumer.
 * @param type        event type (not ::VTEV_EVENT_NONE).
 * @param topic       topic name (copied), or NULL for the configured one.
 * @param handler     the handler (replaces an earlier handler of @p type).
 * @param opaque      passed to the handler; not owned (it must stay valid
 *                    while the consumer lives).
 * @param errstr      receives the reason on failure.
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_INVALID_ARG, ::VTEV_ERR_NOMEM or
 *          ::VTEV_ERR_KAFKA (subscribe refused); for a reader
 *          (`consumer.read.only`), which reads the topic's metadata here,
 *          also ::VTEV_ERR_NOT_FOUND (no such topic) and ::VTEV_ERR_FATAL
 *          (the brokers refused the credentials: the message names the
 *          settings to check).
 * @remark From the thread that drives the consumer (before polling, or
 *         between polls), not concurrently with poll or run.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_consumer_subscribe(vtev_consumer_t *c, vtev_event_type_t type,
                                               const char *topic, vtev_handler_t *handler,
                                               void *opaque, char *errstr,
                                               size_t errstr_size);

/**
 * @brief Reads a topic whose events may be of any type: each message's type
 *        comes from its writer schema and it goes to the handler of that type
 *        (set with vtev_consumer_set_handler() or vtev_consumer_subscribe()).
 *        A message of a type without a handler is dead-lettered
 *        (::VTEV_ERR_NOT_FOUND).
 * @param c           the consumer.
 * @param topic       topic name (copied).
 * @param errstr      receives the reason on failure.
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_INVALID_ARG, ::VTEV_ERR_NOMEM or ::VTEV_ERR_KAFKA.
 * @remark From the thread that drives the consumer (before polling, or
 *         between polls), not concurrently with poll or run.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_consumer_subscribe_topic(vtev_consumer_t *c, const char *topic,
                                                     char *errstr, size_t errstr_size);

/**
 * @brief Sets (or with NULL removes) the handler of @p type without
 *        subscribing to a topic.
 * @param c       the consumer.
 * @param type    event type (not ::VTEV_EVENT_NONE).
 * @param handler the handler, or NULL to remove it.
 * @param opaque  passed to the handler; not owned (it must stay valid while
 *                the consumer lives).
 * @returns ::VTEV_ERR_OK or ::VTEV_ERR_INVALID_ARG (NULL @p c, bad @p type).
 * @remark From the thread that drives the consumer (before polling, or
 *         between polls), not concurrently with poll or run.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_consumer_set_handler(vtev_consumer_t *c, vtev_event_type_t type,
                                                 vtev_handler_t *handler, void *opaque);

/**
 * @brief Handles events of a generated type (vt-codegen, see doc/codegen.md)
 *        read from @p topic with @p handler.
 *
 * Each message is decoded into the type's struct: directly when its writer
 * schema is the type's own (same canonical-form fingerprint), else through
 * Avro schema resolution (see vtev_serde_deserialize_type()), then checked
 * with the type's constraints (a violation is dead-lettered with
 * ::VTEV_ERR_INVALID).  When one topic carries several types (several
 * calls with one topic, or with vtev_consumer_subscribe() on it too), each
 * message goes to the subscription whose type has the writer schema's full
 * name; a message of no subscribed type is dead-lettered
 * (::VTEV_ERR_NOT_FOUND) unless the three events' handlers take it.
 * Retries, dead letters, deferred verdicts and offsets work as for the
 * three events.
 *
 * @param c           the consumer.
 * @param type        the descriptor (e.g. `&vtev_vessel_position_updated_type`);
 *                    it must outlive the consumer.
 * @param topic       the topic (copied).
 * @param handler     the handler (replaces an earlier one of the same type
 *                    and topic).
 * @param opaque      passed to the handler; not owned (it must stay valid
 *                    while the consumer lives).
 * @param errstr      receives the reason on failure.
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_INVALID_ARG (also a descriptor of another
 *          ::VTEV_TYPE_ABI_VERSION), ::VTEV_ERR_STATE (closed),
 *          ::VTEV_ERR_NOMEM or ::VTEV_ERR_KAFKA (subscribe refused).
 * @remark Call it from the polling thread, or before polling starts.
 * @since 0.2.0
 */
VTEV_EXPORT vtev_err_t vtev_consumer_subscribe_type(vtev_consumer_t *c, const vtev_type_t *type,
                                                    const char *topic,
                                                    vtev_type_handler_t *handler, void *opaque,
                                                    char *errstr, size_t errstr_size);

/**
 * @brief Sets (or with NULL removes) the error callback, which reports each
 *        time an environment error held up a message (see
 *        ::vtev_consumer_error_cb_t).  Without one, the errors are only logged.
 * @param c        the consumer (NULL is ignored).
 * @param error_cb the callback, or NULL.
 * @param opaque   passed to the callback; not owned (it must stay valid
 *                 while the consumer lives).
 * @remark Call it from the polling thread, or before polling starts; the
 *         callback then runs on the polling thread.
 * @since 0.2.0
 */
VTEV_EXPORT void vtev_consumer_set_error_cb(vtev_consumer_t *c,
                                            vtev_consumer_error_cb_t *error_cb, void *opaque);

/**
 * @brief Sets (or with NULL removes) the unhandled callback of a read-only
 *        consumer (see ::vtev_consumer_unhandled_cb_t).  Without one, such a
 *        message is logged (level 4) and the consumer moves past it.
 * @param c            the consumer (NULL is ignored).
 * @param unhandled_cb the callback, or NULL.
 * @param opaque       passed to the callback; not owned (it must stay valid
 *                     while the consumer lives).
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_INVALID_ARG when @p c is NULL, or
 *          ::VTEV_ERR_STATE when @p c is not read-only (a group consumer
 *          dead-letters such messages; `consumer.read.only=true` makes a
 *          reader).
 * @remark Call it from the polling thread, or before polling starts; the
 *         callback then runs on the polling thread.
 * @since 0.2.0
 */
VTEV_EXPORT vtev_err_t vtev_consumer_set_unhandled_cb(vtev_consumer_t *c,
                                                      vtev_consumer_unhandled_cb_t *unhandled_cb,
                                                      void *opaque);

/**
 * @brief Sets (or with NULL removes) the end-of-partition callback (see
 *        ::vtev_consumer_eof_cb_t).
 * @param c      the consumer (NULL is ignored).
 * @param eof_cb the callback, or NULL.
 * @param opaque passed to the callback; not owned.
 * @remark Call it from the polling thread, or before polling starts.
 * @since 0.2.0
 */
VTEV_EXPORT void vtev_consumer_set_eof_cb(vtev_consumer_t *c, vtev_consumer_eof_cb_t *eof_cb,
                                          void *opaque);
/** @} */

/**
 * @name Running
 * @{
 */
/**
 * @brief Serves the consumer for up to @p timeout_ms: rebalances, resumes
 *        partitions whose retry backoff expired, and handles at most one
 *        message (its handler, retry scheduling or dead letter).
 * @param c           the consumer.
 * @param timeout_ms  how long to wait for a message (0: do not wait).
 * @param errstr      receives the reason on failure.
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK (also when nothing arrived), ::VTEV_ERR_STATE
 *          (closed, or stopped on an earlier error), ::VTEV_ERR_FATAL
 *          (librdkafka fatal error, or the brokers refused the credentials:
 *          the message names the settings to check, doc/security.md; the
 *          consumer stops), or the dead-letter error when
 *          `consumer.dlq.enable=false` and a message had to be dead-lettered
 *          (the consumer then stops; its offset is not stored), or
 *          ::VTEV_ERR_KAFKA when the brokers refused access to a topic or the
 *          group (authorization: waiting does not mend it), or, for a
 *          reader, a subscribed topic no longer exists (the consumer stops).
 * @remark The calling thread becomes the polling thread: handlers and
 *         callbacks run on it, inside this call.  One thread at a time;
 *         not from a handler.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_consumer_poll(vtev_consumer_t *c, int timeout_ms, char *errstr,
                                          size_t errstr_size);

/**
 * @brief Polls until vtev_consumer_stop() is called or an error stops the
 *        consumer, then closes it (finishes the current handler, commits the
 *        stored offsets, leaves the group).
 * @param c           the consumer.
 * @param errstr      receives the reason on failure.
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK after a stop, else the error of vtev_consumer_poll()
 *          or vtev_consumer_close().
 * @remark The calling thread becomes the polling thread (as for
 *         vtev_consumer_poll()); not from a handler.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_consumer_run(vtev_consumer_t *c, char *errstr, size_t errstr_size);

/**
 * @brief Asks vtev_consumer_run() to return (within about 100 ms once the
 *        current handler finished).
 * @param c the consumer, or NULL (ignored).
 * @remark Async-signal-safe and thread-safe: it only sets an atomic flag (no
 *         locks, no allocation); callable from any thread, a signal handler
 *         or a handler.
 * @since 0.1.0
 */
VTEV_EXPORT void vtev_consumer_stop(vtev_consumer_t *c);
/** @} */

/**
 * @name Observing
 * @{
 */
/**
 * @brief Copies the counters of @p type into @p out.  ::VTEV_EVENT_NONE gives
 *        the counters of messages whose type could not be determined (poison
 *        on raw topics).
 * @param c    the consumer.
 * @param type the event type, or ::VTEV_EVENT_NONE.
 * @param out  receives the counters (caller-owned).
 * @returns ::VTEV_ERR_OK or ::VTEV_ERR_INVALID_ARG (NULL argument, bad @p type).
 * @remark Thread-safe: from any thread, also while another one polls.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_consumer_stats(vtev_consumer_t *c, vtev_event_type_t type,
                                           vtev_consumer_stats_t *out);

/**
 * @brief Copies the counters of the generated type @p type (summed over its
 *        subscriptions) into @p out.
 * @param c    the consumer.
 * @param type the descriptor given to vtev_consumer_subscribe_type().
 * @param out  receives the counters (zeroed when @p type is not subscribed).
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_NOT_FOUND (not subscribed) or
 *          ::VTEV_ERR_INVALID_ARG.
 * @remark Thread-safe.
 * @since 0.2.0
 */
VTEV_EXPORT vtev_err_t vtev_consumer_type_stats(vtev_consumer_t *c, const vtev_type_t *type,
                                                vtev_consumer_stats_t *out);

/**
 * @brief Lag of every partition assigned to @p c (queries the brokers'
 *        high watermarks).
 * @param c           the consumer.
 * @param lagsp       receives an array the caller frees with vtev_free()
 *                    (NULL when nothing is assigned).
 * @param cntp        receives the number of entries.
 * @param timeout_ms  per-broker-query timeout.
 * @param errstr      receives the reason on failure.
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_NOMEM or ::VTEV_ERR_KAFKA.
 * @remark Thread-safe; blocks up to a few times @p timeout_ms.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_consumer_lag(vtev_consumer_t *c, vtev_partition_lag_t **lagsp,
                                         size_t *cntp, int timeout_ms, char *errstr,
                                         size_t errstr_size);
/** @} */

/**
 * @name Exactly-once
 * @{
 */
/**
 * @brief Adds the consumer's positions (the offset after each handled
 *        message of the current assignment, including the message whose
 *        handler is running when called from a handler) and group metadata
 *        to the open
 *        transaction of the transactional producer @p p
 *        (rd_kafka_send_offsets_to_transaction()).
 * @param c           the consumer (its group).
 * @param p           a transactional producer with an open transaction.
 * @param timeout_ms  maximum time to block.
 * @param errstr      receives the reason on failure.
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK (also when nothing was handled yet),
 *          ::VTEV_ERR_TXN_RETRIABLE (call again), ::VTEV_ERR_TXN_ABORTABLE
 *          (abort the transaction), ::VTEV_ERR_FATAL (destroy the producer),
 *          ::VTEV_ERR_STATE (closed, or a reader without `group.id`: no
 *          group to commit to), ::VTEV_ERR_INVALID_ARG or ::VTEV_ERR_KAFKA.
 * @remark Call it from the polling thread (e.g. in a handler).
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_consumer_txn_send_offsets(vtev_consumer_t *c, vtev_producer_t *p,
                                                      int timeout_ms, char *errstr,
                                                      size_t errstr_size);
/** @} */

/**
 * @name Deferred verdicts
 * At-least-once for consume-transform-produce without transactions: the
 * input's offset must not be stored before the outputs it caused are
 * stored by the broker.  A handler that publishes calls vtev_consumer_defer()
 * and passes the returned handle as the publish's `msg_opaque`; its delivery
 * report calls vtev_pending_done().  The consumer then stores a partition's
 * offset only when this message and every earlier message of the partition
 * are done (in order per partition, whatever order the reports come in).  A
 * failed output re-delivers the input: the partition is paused and sought
 * back to the first message whose outputs failed, and that message and
 * every later one of the partition are handed to the handler again after
 * the backoff (without limit and without using up attempts; the outputs of
 * the later ones may then be published twice, as at-least-once allows).
 * Messages that are never done (a crash, a revoke before the reports came)
 * are not committed and are redelivered to the group.
 *
 * Flush the producer before vtev_consumer_close() so that the last reports
 * arrive first; close stores what is done and commits it.
 * @{
 */
/**
 * @brief From a handler: leaves the current message's offset unstored until
 *        vtev_pending_done() was called @p count times on the returned handle.
 *
 * The handler then returns ::VTEV_VERDICT_OK as usual.  Any other verdict
 * cancels the deferral (the handle stays valid and its vtev_pending_done()
 * calls are still required, but ignored).  Called again during the same
 * handler call, it adds @p count and returns the same handle.
 *
 * @param c     the consumer whose handler is running.
 * @param count the number of vtev_pending_done() calls to wait for (one per
 *              output), at least 1.
 * @returns the handle, or NULL when not called from a handler of @p c, when
 *          @p count is 0 or when out of memory (then nothing is deferred:
 *          publish nothing and return ::VTEV_VERDICT_RETRY_ENV).
 * @remark Polling thread only (inside a handler).  The handle is owned
 *         jointly by the consumer and the @p count pending calls; it is freed
 *         by whichever comes last, so it may outlive the consumer.
 * @since 0.2.0
 */
VTEV_EXPORT vtev_pending_t *vtev_consumer_defer(vtev_consumer_t *c, unsigned int count);

/**
 * @brief Reports one output of a deferred message: stored (::VTEV_ERR_OK)
 *        or failed (any other code; the first failure is kept).
 *
 * Typically called from a producer's delivery report callback
 * (::vtev_producer_dr_cb_t, with the handle as `msg_opaque`), or at once when
 * a publish call failed after vtev_consumer_defer() counted it.  The
 * consumer acts on it on its next poll.
 *
 * @param pd  a handle from vtev_consumer_defer() (NULL is ignored).  After
 *            the last of its `count` calls the handle must not be used again
 *            (it may have been freed).  Calling it more often than `count`
 *            times is undefined.
 * @param err ::VTEV_ERR_OK, or why the output was not stored.
 * @remark Thread-safe and lock-free: callable from any thread, e.g. a
 *         producer's poll thread, also after vtev_consumer_close() and
 *         vtev_consumer_destroy() (then it only frees the handle).  It never
 *         blocks and never calls back.
 * @since 0.2.0
 */
VTEV_EXPORT void vtev_pending_done(vtev_pending_t *pd, vtev_err_t err);
/** @} */

#ifdef __cplusplus
}
#endif

#endif /* VTEVENTS_CONSUMER_H */
