/**
 * @file producer.h
 * @brief Typed publishing of the platform's events over a librdkafka
 *        producer: validate, Avro-encode, frame with the schema id, enqueue
 *        with key = vessel_id and headers, and report every delivery.
 *
 * Defaults (each overridable with a `kafka.*` key, see doc/producer.md):
 * `enable.idempotence=true`, `acks=all`, `socket.nagle.disable=true`,
 * `compression.codec=gzip` (the platform's topic-level codec: no broker
 * recompression; see doc/producer.md for the measurement), `partitioner=murmur2_random` (the partition
 * of a vessel is the one the Java client and kafka-python pick), and the
 * knobs of the `producer.profile` (`default`, `low-latency`,
 * `throughput`).
 *
 * @remark Thread safety: a ::vtev_producer_t is thread-safe: any number of
 *         threads may publish, flush and read counters at once.  The
 *         callbacks run on the producer's own background thread (see
 *         ::vtev_producer_dr_cb_t).  vtev_producer_close() /
 *         vtev_producer_destroy() must not race with other calls on the
 *         handle and must not be called from a callback.
 */
#ifndef VTEVENTS_PRODUCER_H
#define VTEVENTS_PRODUCER_H

#include <stddef.h>
#include <stdint.h>
#include <vtevents/export.h>
#include <vtevents/error.h>
#include <vtevents/conf.h>
#include <vtevents/event.h>
#include <vtevents/type.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Opaque producer handle. */
typedef struct vtev_producer_s vtev_producer_t;

/** @brief What the delivery report callback receives for one message. */
typedef struct vtev_delivery_report_s {
    const char *event_id;   /**< The event's id ("" for raw publishes without one); valid during the callback. */
    vtev_event_type_t type; /**< The event type; ::VTEV_EVENT_NONE for the generic paths. */
    const char *topic;      /**< Topic; valid during the callback. */
    int32_t partition;      /**< Partition, or -1 when unknown (not delivered). */
    int64_t offset;         /**< Offset, or -1 when unknown (not delivered). */
    vtev_err_t err;         /**< ::VTEV_ERR_OK when stored (acks=all); ::VTEV_ERR_TIMED_OUT
                                 (message.timeout.ms), ::VTEV_ERR_PURGED (close timeout,
                                 aborted transaction), ::VTEV_ERR_MSG_TOO_LARGE,
                                 ::VTEV_ERR_FATAL or ::VTEV_ERR_KAFKA otherwise. */
    const char *errstr;     /**< "" on success, else librdkafka's text (for a message purged
                                 after a fatal error: that error's text); valid during the
                                 callback. */
    int kafka_err;          /**< librdkafka's rd_kafka_resp_err_t value (0 on success). */
    size_t value_len;       /**< Size of the framed value in bytes. */
    void *msg_opaque;       /**< The per-message opaque given to the publish call. */
} vtev_delivery_report_t;

/**
 * @brief Delivery report callback: called exactly once per message that a
 *        publish call accepted (::VTEV_ERR_OK), successful or not.
 * @param producer the producer.
 * @param dr       the report, valid only during the call.
 * @param opaque   the opaque given to vtev_producer_set_dr_cb().
 * @remark Called from the producer's background poll thread (never from the
 *         publishing thread), one call at a time.  It may publish (a full
 *         queue is then served inline), read counters and flush with a zero
 *         timeout; it must not call vtev_producer_close() or
 *         vtev_producer_destroy(), nor block for long: delivery of every
 *         other message waits for it.
 */
typedef void (vtev_producer_dr_cb_t)(vtev_producer_t *producer,
                                     const vtev_delivery_report_t *dr, void *opaque);

/**
 * @brief Error callback: client-level errors.
 * @param producer the producer.
 * @param err      ::VTEV_ERR_FATAL for a fatal error (reported once; the
 *                 producer must then be destroyed), else ::VTEV_ERR_KAFKA for
 *                 an informational error librdkafka recovers from (e.g. all
 *                 brokers down).  A failed authentication (a wrong
 *                 `kafka.sasl.password`, doc/security.md) is fatal: the
 *                 reason names the settings to check, and the queued
 *                 messages are purged at once, each report with
 *                 ::VTEV_ERR_FATAL and that reason.
 * @param reason   the text, valid only during the call.
 * @param opaque   the opaque given to vtev_producer_set_error_cb().
 * @remark Called from the producer's background poll thread, with the same
 *         restrictions as ::vtev_producer_dr_cb_t.
 */
typedef void (vtev_producer_error_cb_t)(vtev_producer_t *producer, vtev_err_t err,
                                        const char *reason, void *opaque);

/** @brief Per-event-type counters (vtev_producer_stats()). */
typedef struct vtev_producer_stats_s {
    uint64_t published; /**< Accepted by a publish call (enqueued). */
    uint64_t delivered; /**< Delivery reported successful. */
    uint64_t failed;    /**< Delivery reported failed (each also came through the callback). */
    uint64_t bytes;     /**< Framed value bytes of the delivered messages. */
} vtev_producer_stats_t;

/** @brief One message header for the generic paths. */
typedef struct vtev_header_s {
    const char *name;  /**< Header name (NUL-terminated). */
    const void *value; /**< Value bytes (may be NULL for a null header). */
    size_t value_len;  /**< Length of @c value. */
} vtev_header_t;

/**
 * @name Create and destroy
 * @{
 */

/**
 * @brief Creates a producer from @p conf.
 *
 * Reads `bootstrap.servers` (`mock://NAME` is the embedded mock cluster),
 * `producer.profile`, `producer.queue.block.ms`, `producer.close.timeout.ms`,
 * `topic.position`, `topic.request`, `topic.result`, the schema registry keys
 * and every `kafka.*` key (these win over the defaults and the profile).
 * With `kafka.transactional.id` set, call vtev_producer_init_transactions()
 * before publishing.
 *
 * @param conf        the configuration; the producer takes ownership on
 *                    success only.
 * @param errstr      receives the reason on failure (names the key).
 * @param errstr_size size of @p errstr.
 * @returns the producer (destroy with vtev_producer_destroy() or
 *          vtev_producer_close()), or NULL.
 * @remark Thread safety: may be called from any thread.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_producer_t *vtev_producer_new(vtev_conf_t *conf, char *errstr,
                                               size_t errstr_size);

/**
 * @brief Sets the delivery report callback. Call it before the first publish.
 * @param producer the producer.
 * @param dr_cb    the callback, or NULL for none (the counters still count).
 * @param opaque   passed to the callback; not owned (it must stay valid
 *                 while the callback may be called).
 * @remark Thread-safe, but messages already enqueued may be reported to the
 *         previous callback.  The callback runs on the producer's background
 *         thread (see ::vtev_producer_dr_cb_t).
 * @since 0.1.0
 */
VTEV_EXPORT void vtev_producer_set_dr_cb(vtev_producer_t *producer,
                                         vtev_producer_dr_cb_t *dr_cb, void *opaque);

/**
 * @brief Sets the error callback (fatal errors are reported once through it;
 *        without one they are logged).
 * @param producer the producer (NULL is ignored).
 * @param error_cb the callback, or NULL for none.
 * @param opaque   passed to the callback; not owned (it must stay valid
 *                 while the callback may be called).
 * @remark Thread-safe. Set it right after vtev_producer_new().  The callback
 *         runs on the producer's background thread (see
 *         ::vtev_producer_error_cb_t).
 * @since 0.1.0
 */
VTEV_EXPORT void vtev_producer_set_error_cb(vtev_producer_t *producer,
                                            vtev_producer_error_cb_t *error_cb, void *opaque);

/**
 * @brief Flushes for up to `producer.close.timeout.ms`, purges what is still
 *        undelivered (each such message is reported through the delivery
 *        callback with ::VTEV_ERR_PURGED before this returns), then frees the
 *        producer.
 * @param producer    the producer; NULL is ignored.
 * @param undeliveredp receives how many messages were not delivered when
 *                    the timeout expired (0 when everything was delivered);
 *                    may be NULL.
 * @returns ::VTEV_ERR_OK when everything was delivered, else
 *          ::VTEV_ERR_TIMED_OUT.
 * @remark Must not be called from a callback or concurrently with other
 *         calls on the producer; any other thread.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_producer_close(vtev_producer_t *producer, size_t *undeliveredp);

/**
 * @brief vtev_producer_close() without the count: flushes up to
 *        `producer.close.timeout.ms` (undelivered messages are reported
 *        through the delivery callback and logged), frees the producer and
 *        the configuration it owns. NULL is ignored.
 * @param producer the producer, or NULL.
 * @remark Must not be called from a callback or concurrently with other
 *         calls on the producer; any other thread.
 * @since 0.1.0
 */
VTEV_EXPORT void vtev_producer_destroy(vtev_producer_t *producer);

/** @} */

/**
 * @name Typed publish
 * Each call validates the event (::VTEV_ERR_INVALID with the field path in
 * @p errstr, nothing enqueued), Avro-encodes it, frames it with the schema id
 * of the subject for the type's topic (registered or looked up once, then
 * cached), and enqueues it with key = `vessel_id` and headers `event_type`,
 * `event_id` and `correlation_id` (when the metadata has one).
 * The event is copied: the caller may free or reuse it when the call returns.
 * On a full local queue the call waits up to `producer.queue.block.ms` for
 * room, then returns ::VTEV_ERR_QUEUE_FULL (nothing enqueued).
 * When a call returns ::VTEV_ERR_OK the delivery callback will be called
 * exactly once for the message; otherwise never.
 * Errors: ::VTEV_ERR_INVALID, ::VTEV_ERR_INVALID_ARG, ::VTEV_ERR_QUEUE_FULL,
 * ::VTEV_ERR_FATAL (after a fatal error), ::VTEV_ERR_MSG_TOO_LARGE,
 * ::VTEV_ERR_STATE (transactional producer outside a transaction, or closing),
 * ::VTEV_ERR_ENCODE, ::VTEV_ERR_NOMEM, registry errors
 * (::VTEV_ERR_REGISTRY_UNAVAILABLE is transient), ::VTEV_ERR_KAFKA.
 * Thread-safe.
 * @{
 */

/**
 * @brief Publishes a `vessel.position.updated` event to `topic.position`.
 * @param producer    the producer.
 * @param ev          the event (borrowed for the call: it is copied).
 * @param msg_opaque  handed back in the delivery report (not owned, not
 *                    dereferenced).
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size its size.
 * @returns ::VTEV_ERR_OK when enqueued, else one of the errors listed for
 *          this group (nothing enqueued).
 * @remark Thread-safe; also from the producer's callbacks.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_producer_publish_position(vtev_producer_t *producer,
                                                      const vtev_position_event_t *ev,
                                                      void *msg_opaque, char *errstr,
                                                      size_t errstr_size);

/**
 * @brief Publishes a `prediction.analysis.requested` event to `topic.request`.
 * @param producer    the producer.
 * @param ev          the event (borrowed for the call: it is copied).
 * @param msg_opaque  handed back in the delivery report (not owned, not
 *                    dereferenced).
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size its size.
 * @returns ::VTEV_ERR_OK when enqueued, else one of the errors listed for
 *          this group (nothing enqueued).
 * @remark Thread-safe; also from the producer's callbacks.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_producer_publish_request(vtev_producer_t *producer,
                                                     const vtev_request_event_t *ev,
                                                     void *msg_opaque, char *errstr,
                                                     size_t errstr_size);

/**
 * @brief Publishes a `prediction.analysis.completed` event to `topic.result`.
 * @param producer    the producer.
 * @param ev          the event (borrowed for the call: it is copied).
 * @param msg_opaque  handed back in the delivery report (not owned, not
 *                    dereferenced).
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size its size.
 * @returns ::VTEV_ERR_OK when enqueued, else one of the errors listed for
 *          this group (nothing enqueued).
 * @remark Thread-safe; also from the producer's callbacks.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_producer_publish_result(vtev_producer_t *producer,
                                                    const vtev_result_event_t *ev,
                                                    void *msg_opaque, char *errstr,
                                                    size_t errstr_size);

/**
 * @brief Publishes any of the three events to its type's topic
 *        (`topic.position`, `topic.request` or `topic.result`).
 * @param producer    the producer.
 * @param ev          the event (borrowed for the call: it is copied).
 * @param msg_opaque  handed back in the delivery report (not owned, not
 *                    dereferenced).
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size its size.
 * @returns ::VTEV_ERR_OK when enqueued, else one of the errors listed for
 *          this group (nothing enqueued); ::VTEV_ERR_INVALID for an event of
 *          no type.
 * @remark Thread-safe; also from the producer's callbacks.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_producer_publish(vtev_producer_t *producer, const vtev_event_t *ev,
                                             void *msg_opaque, char *errstr,
                                             size_t errstr_size);

/**
 * @brief Publishes an event to an explicit @p topic (e.g. a dead-letter or
 *        test topic) instead of its type's configured topic; otherwise as
 *        vtev_producer_publish().
 * @param producer    the producer.
 * @param topic       the topic (non-empty; copied).
 * @param ev          the event (borrowed for the call: it is copied).
 * @param msg_opaque  handed back in the delivery report (not owned, not
 *                    dereferenced).
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size its size.
 * @returns ::VTEV_ERR_OK when enqueued, else one of the errors listed for
 *          this group (nothing enqueued).
 * @remark Thread-safe; also from the producer's callbacks.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_producer_publish_to(vtev_producer_t *producer, const char *topic,
                                                const vtev_event_t *ev, void *msg_opaque,
                                                char *errstr, size_t errstr_size);
/** @} */

/**
 * @brief Publishes @p ev, an event of a generated type (vt-codegen, see
 *        doc/codegen.md), to @p topic: validates it with the type's
 *        constraints (::VTEV_ERR_INVALID, the field path in @p errstr,
 *        nothing enqueued), encodes it with the type's direct encoder and
 *        frames it with the schema id of the type's schema under the subject
 *        for @p topic (registered or looked up once, then cached per
 *        (topic, type)).
 * @param producer    the producer.
 * @param type        the type's descriptor (e.g. `&vtev_vessel_position_updated_type`).
 * @param topic       the topic.
 * @param ev          the event, a pointer to the type's struct (borrowed for
 *                    the call: the bytes are copied).
 * @param key         the message key, or NULL for the value of the type's
 *                    `"vt.key": true` field (no key when it has none).
 * @param key_len     its length (ignored when @p key is NULL).
 * @param headers     @p header_cnt headers (copied; may be NULL when 0).
 * @param header_cnt  number of headers.
 * @param msg_opaque  handed back in the delivery report (which carries
 *                    ::VTEV_EVENT_NONE and an empty event_id; counters count
 *                    under ::VTEV_EVENT_NONE).
 * @param errstr      receives the reason on failure.
 * @param errstr_size its size.
 * @returns as the typed publish calls above; ::VTEV_ERR_INVALID_ARG also for
 *          a descriptor of another ::VTEV_TYPE_ABI_VERSION.
 * @remark Thread-safe; also from the producer's callbacks.
 * @since 0.2.0
 */
VTEV_EXPORT vtev_err_t vtev_producer_publish_type(vtev_producer_t *producer,
                                                  const vtev_type_t *type, const char *topic,
                                                  const void *ev, const void *key,
                                                  size_t key_len, const vtev_header_t *headers,
                                                  size_t header_cnt, void *msg_opaque,
                                                  char *errstr, size_t errstr_size);

/**
 * @name Generic publish (any Avro schema, or bytes as they are)
 * No validation: the caller encodes.  Delivery reports carry
 * ::VTEV_EVENT_NONE and an empty event_id; counters count under
 * ::VTEV_EVENT_NONE.  Key, value and headers are copied.
 * @{
 */

/**
 * @brief Publishes Avro binary data written with @p schema_json to @p topic,
 *        framed with the schema's id under the subject for @p topic
 *        (per `subject.name.strategy`; registered per `auto.register.schemas`,
 *        cached per (topic, schema text) after the first call).
 * @param producer    the producer.
 * @param topic       the topic.
 * @param schema_json the writer schema (Avro JSON).
 * @param avro        Avro binary encoding of one datum (not framed).
 * @param avro_len    its length.
 * @param key         message key bytes, or NULL for none.
 * @param key_len     its length.
 * @param headers     @p header_cnt headers (may be NULL when 0).
 * @param header_cnt  number of headers.
 * @param msg_opaque  handed back in the delivery report.
 * @param errstr      receives the reason on failure.
 * @param errstr_size its size.
 * @returns as the typed publish calls, plus ::VTEV_ERR_SCHEMA when
 *          @p schema_json does not parse.
 * @remark Thread-safe; also from the producer's callbacks.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_producer_publish_avro(vtev_producer_t *producer, const char *topic,
                                                  const char *schema_json, const void *avro,
                                                  size_t avro_len, const void *key,
                                                  size_t key_len, const vtev_header_t *headers,
                                                  size_t header_cnt, void *msg_opaque,
                                                  char *errstr, size_t errstr_size);

/**
 * @brief Publishes @p value as it is (e.g. bytes already framed, or a
 *        dead-letter copy) to @p topic.
 * @param producer    the producer.
 * @param topic       the topic (non-empty).
 * @param value       the message value (copied), or NULL with @p value_len 0.
 * @param value_len   its length.
 * @param key         message key bytes (copied), or NULL for none.
 * @param key_len     its length.
 * @param headers     @p header_cnt headers (copied; may be NULL when 0).
 * @param header_cnt  number of headers.
 * @param msg_opaque  handed back in the delivery report.
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size its size.
 * @returns as the typed publish calls (there is no validation, encoding or
 *          registry step).
 * @remark Thread-safe; also from the producer's callbacks.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_producer_publish_raw(vtev_producer_t *producer, const char *topic,
                                                 const void *value, size_t value_len,
                                                 const void *key, size_t key_len,
                                                 const vtev_header_t *headers, size_t header_cnt,
                                                 void *msg_opaque, char *errstr,
                                                 size_t errstr_size);
/** @} */

/**
 * @name Flush and counters
 * @{
 */

/**
 * @brief Waits until every enqueued message was reported (delivered or
 *        failed), up to @p timeout_ms.
 * @param producer   the producer.
 * @param timeout_ms the bound in milliseconds (0: just check; -1: no bound).
 * @returns ::VTEV_ERR_OK when nothing is outstanding, else
 *          ::VTEV_ERR_TIMED_OUT.
 * @remark Thread-safe.  From the delivery callback only with 0.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_producer_flush(vtev_producer_t *producer, int timeout_ms);

/**
 * @brief Number of messages enqueued and not yet reported.
 * @param producer the producer (NULL gives 0).
 * @returns the count of accepted messages whose delivery callback has not
 *          run yet.
 * @remark Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT size_t vtev_producer_outstanding(vtev_producer_t *producer);

/**
 * @brief Reads the counters of @p type (::VTEV_EVENT_NONE: the generic paths).
 * @param producer the producer.
 * @param type     the event type.
 * @param out      receives the counters (a consistent snapshot per field).
 * @returns ::VTEV_ERR_OK, or ::VTEV_ERR_INVALID_ARG for a bad type or NULL.
 * @remark Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_producer_stats(vtev_producer_t *producer, vtev_event_type_t type,
                                           vtev_producer_stats_t *out);

/** @} */

/**
 * @name Transactions
 * Need `kafka.transactional.id`.  Error classes, from librdkafka:
 * ::VTEV_ERR_TXN_RETRIABLE (call again), ::VTEV_ERR_TXN_ABORTABLE (call
 * vtev_producer_abort_transaction() and start over), ::VTEV_ERR_FATAL (the
 * producer is unusable: destroy it), ::VTEV_ERR_STATE (not transactional or
 * wrong state), ::VTEV_ERR_TIMED_OUT, ::VTEV_ERR_KAFKA (other).
 * A consumer adds its offsets to the current transaction with the consumer
 * API (see consumer.h).  Not to be called from a callback.
 * @{
 */

/**
 * @brief Registers the transactional id with the coordinator (once, first).
 * @param producer    the producer.
 * @param timeout_ms  bound in milliseconds (-1: no bound).
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size its size.
 * @returns ::VTEV_ERR_OK or one of the error classes above.
 * @remark One transactional call at a time per producer, from any thread
 *         but not from a callback.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_producer_init_transactions(vtev_producer_t *producer, int timeout_ms,
                                                       char *errstr, size_t errstr_size);
/**
 * @brief Begins a transaction.
 * @param producer    the producer.
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size its size.
 * @returns ::VTEV_ERR_OK or one of the error classes above.
 * @remark One transactional call at a time per producer, from any thread
 *         but not from a callback.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_producer_begin_transaction(vtev_producer_t *producer, char *errstr,
                                                       size_t errstr_size);
/**
 * @brief Flushes and commits the current transaction (retriable on
 *        ::VTEV_ERR_TXN_RETRIABLE / ::VTEV_ERR_TIMED_OUT).  On success every
 *        delivery report of the transaction has run when it returns.
 * @param producer    the producer.
 * @param timeout_ms  bound in milliseconds (-1: no bound).
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size its size.
 * @returns ::VTEV_ERR_OK or one of the error classes above.
 * @remark One transactional call at a time per producer, from any thread
 *         but not from a callback.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_producer_commit_transaction(vtev_producer_t *producer,
                                                        int timeout_ms, char *errstr,
                                                        size_t errstr_size);
/**
 * @brief Aborts the current transaction: its messages are purged (reported
 *        with ::VTEV_ERR_PURGED) or marked aborted, invisible to
 *        read_committed consumers.  On success their delivery reports have
 *        run when it returns.
 * @param producer    the producer.
 * @param timeout_ms  bound in milliseconds (-1: no bound).
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size its size.
 * @returns ::VTEV_ERR_OK or one of the error classes above.
 * @remark One transactional call at a time per producer, from any thread
 *         but not from a callback.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_producer_abort_transaction(vtev_producer_t *producer,
                                                       int timeout_ms, char *errstr,
                                                       size_t errstr_size);
/** @} */

#ifdef __cplusplus
}
#endif

#endif /* VTEVENTS_PRODUCER_H */
