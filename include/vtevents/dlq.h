/**
 * @file dlq.h
 * @brief Dead letters: reading a dead-letter topic, selecting dead letters
 *        and replaying them to their original topic (or another one).
 *
 * A consumer dead-letters a message to `<topic><dlq.suffix>` (see
 * <vtevents/consumer.h>) with its key, value bytes and headers unchanged,
 * plus the headers that say why: `vtev.error.code`, `vtev.error.message`,
 * `vtev.original.topic`, `vtev.original.partition`, `vtev.original.offset`,
 * `vtev.original.timestamp`, `vtev.consumer.group`, `vtev.attempts` and
 * `vtev.dlq.time`.  This header reads them back:
 *
 * - a ::vtev_dlq_reader_t reads every dead letter of one topic, from the
 *   first retained one up to the end the topic had when the reader was
 *   created, without a consumer group (it commits nothing);
 * - a ::vtev_dlq_filter_t selects dead letters by time range, error code,
 *   key, original topic, partition and offset, and event_id;
 * - a ::vtev_dlq_replay_t sends the selected ones back to their original
 *   topic, or to `dlq.replay.to`: same key, same value bytes, the original
 *   headers (the dead-letter headers above removed), plus
 *   `vtev.replay.count` (how often it was replayed, this time included) and
 *   `vtev.replayed.at` (ISO-8601 UTC).  A dead letter that was already
 *   replayed `dlq.replay.max.count` times is refused (the loop guard: a
 *   message that fails again is dead-lettered again with its
 *   `vtev.replay.count`).
 *
 * Exactly once: a replay sends in Kafka transactions, one per batch
 * (`dlq.replay.batch` messages or 200 ms).  The messages of a batch and the
 * offsets of the consumer group `dlq.replay.group` on the dead-letter topic
 * after it commit together (send_offsets_to_transaction), or neither does.
 * The producer's `transactional.id` is the group followed by `.txn` (a
 * `kafka.transactional.id` does not apply to the replay): a replay of the
 * same group, run again after a stop (vtev_dlq_replay_stop(), SIGINT in
 * `vt-dlq`), a failed delivery or a crash of the process (SIGKILL), first
 * aborts what the earlier run left open, then resumes from the committed
 * offsets.  A reader of the target with `isolation.level=read_committed`
 * (librdkafka's default, so the library's consumer's unless
 * `kafka.isolation.level` says otherwise) sees each replayed dead letter
 * once, and nothing is left out.  A `read_uncommitted` reader also sees the
 * messages of aborted transactions: after a failed delivery or a crash, the
 * last batch (at most `dlq.replay.batch` messages) twice.  A transaction
 * that a crashed run left open holds back read_committed readers of the
 * partitions it wrote to until the replay runs again or the broker aborts
 * it (`transaction.timeout.ms`, 60 s unless `kafka.transaction.timeout.ms`
 * is set).  The brokers must allow transactions (a `transactional.id`,
 * `transaction.state.log.*` that the cluster can satisfy, and with ACLs
 * WRITE on the TransactionalId `<group>.txn`).  Two replays of one group at
 * once fence each other: the older one fails with ::VTEV_ERR_FATAL.
 *
 * `vt-dlq` (doc/vt-dlq.1) is the command-line face of this API.
 *
 * @remark Thread safety: a reader, a filter and a replay are each used by
 *         one thread at a time.  A filter may be shared by several threads
 *         once it is set up (vtev_dlq_filter_match() only reads it).
 *         vtev_dlq_replay_stop() may be called from any thread and from a
 *         signal handler.  The replay's callback runs on the thread that
 *         called vtev_dlq_replay_run().
 * @since 0.2.0
 */
#ifndef VTEVENTS_DLQ_H
#define VTEVENTS_DLQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vtevents/export.h>
#include <vtevents/error.h>
#include <vtevents/conf.h>
#include <vtevents/producer.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief One dead letter as read from the dead-letter topic.
 *
 * Every pointer is borrowed from the reader (or replay) that returned it and
 * valid until its next call or its destruction.  The strings are
 * NUL-terminated copies of the headers (NULL when the header is absent);
 * key, value and the header values are the bytes as stored.
 */
typedef struct vtev_dead_letter_s {
    const char *topic;             /**< The dead-letter topic. */
    int32_t partition;             /**< Its partition. */
    int64_t offset;                /**< Its offset. */
    int64_t timestamp_ms;          /**< Kafka timestamp of the dead letter (ms), -1 if none. */
    const char *original_topic;    /**< `vtev.original.topic`. */
    int32_t original_partition;    /**< `vtev.original.partition`, -1 when absent. */
    int64_t original_offset;       /**< `vtev.original.offset`, -1 when absent. */
    int64_t original_timestamp_ms; /**< `vtev.original.timestamp` (ms), -1 when absent. */
    const char *error_code;        /**< `vtev.error.code`: a vtev_err2name() name such as "DECODE". */
    const char *error_message;     /**< `vtev.error.message`: the reason. */
    const char *consumer_group;    /**< `vtev.consumer.group`. */
    int attempts;                  /**< `vtev.attempts`, -1 when absent. */
    /** `vtev.dlq.time` (ms since the epoch); the Kafka timestamp when the
     *  header is absent or does not parse; -1 when neither exists. */
    int64_t dlq_time_ms;
    const char *event_id;          /**< The `event_id` header. */
    const char *traceparent;       /**< The `traceparent` header (W3C trace context). */
    const char *tracestate;        /**< The `tracestate` header. */
    int replay_count;              /**< `vtev.replay.count`: earlier replays, 0 when absent. */
    int64_t replayed_at_ms;        /**< `vtev.replayed.at` (ms), -1 when absent. */
    const void *key;               /**< Key bytes (NULL when none). */
    size_t key_len;                /**< Key size. */
    const void *value;             /**< Value bytes as dead-lettered (NULL when empty). */
    size_t value_len;              /**< Value size. */
    const vtev_header_t *headers;  /**< Every header of the dead letter, in order. */
    size_t header_cnt;             /**< Number of headers. */
} vtev_dead_letter_t;

/** @brief Opaque selection of dead letters (see vtev_dlq_filter_set()). */
typedef struct vtev_dlq_filter_s vtev_dlq_filter_t;
/** @brief Opaque reader of one dead-letter topic. */
typedef struct vtev_dlq_reader_s vtev_dlq_reader_t;
/** @brief Opaque replay of one dead-letter topic. */
typedef struct vtev_dlq_replay_s vtev_dlq_replay_t;

/**
 * @name Filters
 * @{
 */
/**
 * @brief Creates a filter that selects every dead letter.
 * @returns the filter (caller destroys it with vtev_dlq_filter_destroy()),
 *          or NULL when out of memory.
 * @remark Thread-safe.
 * @since 0.2.0
 */
VTEV_EXPORT vtev_dlq_filter_t *vtev_dlq_filter_new(void);

/**
 * @brief Destroys a filter.
 * @param f the filter, or NULL (ignored).
 * @remark Not while another thread uses @p f.
 * @since 0.2.0
 */
VTEV_EXPORT void vtev_dlq_filter_destroy(vtev_dlq_filter_t *f);

/**
 * @brief Adds a condition: a dead letter is selected when it meets every
 *        condition set.  Setting a name again replaces its condition.
 *
 * Names and values:
 * - `since`, `until`: ISO-8601 UTC times (`2026-01-10T15:30:00Z`); the
 *   dead letter's vtev_dead_letter_t::dlq_time_ms must be at or after
 *   `since` and before `until`.
 * - `error.code`: an error name as written in `vtev.error.code` (e.g.
 *   `DECODE`, `REJECTED`, `RETRIES_EXHAUSTED`; see vtev_err2name()).
 * - `key`: the key's bytes, exactly (the vessel id of the platform events).
 * - `original.topic`, `original.partition` (integer >= 0),
 *   `original.offset` (integer >= 0).
 * - `event.id`: the `event_id` header, exactly.
 *
 * @param f           the filter.
 * @param name        the condition's name (above).
 * @param value       its value (copied).
 * @param errstr      receives the reason on failure, naming @p name.
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK; ::VTEV_ERR_NOT_FOUND (unknown name; the filter is
 *          unchanged), ::VTEV_ERR_PARSE (a value that does not parse; the
 *          filter is unchanged), ::VTEV_ERR_INVALID_ARG (NULL argument) or
 *          ::VTEV_ERR_NOMEM.
 * @remark One thread at a time per filter.
 * @since 0.2.0
 */
VTEV_EXPORT vtev_err_t vtev_dlq_filter_set(vtev_dlq_filter_t *f, const char *name,
                                           const char *value, char *errstr, size_t errstr_size);

/**
 * @brief Whether @p dl meets every condition of @p f.
 * @param f  the filter; NULL selects everything.
 * @param dl the dead letter.
 * @returns true when selected.
 * @remark Thread-safe (reads @p f only).
 * @since 0.2.0
 */
VTEV_EXPORT bool vtev_dlq_filter_match(const vtev_dlq_filter_t *f, const vtev_dead_letter_t *dl);
/** @} */

/**
 * @name Reading
 * @{
 */
/**
 * @brief Creates a reader of the dead-letter topic @p topic: every dead
 *        letter from the first retained one up to the end of each
 *        partition at this call.
 *
 * Reads `bootstrap.servers` and the `kafka.*` keys of @p conf; it joins no
 * group and commits nothing.
 *
 * @param conf        configuration (borrowed for the call).
 * @param topic       the dead-letter topic (copied), e.g. `vessel-position-updates.dlq`.
 * @param errstr      receives the reason on failure.
 * @param errstr_size size of @p errstr.
 * @returns the reader (destroy it with vtev_dlq_reader_destroy()), or NULL:
 *          the topic does not exist, the brokers did not answer in time,
 *          or a `kafka.*` key was refused.
 * @remark Thread-safe; blocks for the metadata and watermark queries.
 * @since 0.2.0
 */
VTEV_EXPORT vtev_dlq_reader_t *vtev_dlq_reader_new(const vtev_conf_t *conf, const char *topic,
                                                   char *errstr, size_t errstr_size);

/**
 * @brief The next dead letter, in order per partition (partitions
 *        interleave).
 * @param r           the reader.
 * @param dlp         receives the dead letter (valid until the next call
 *                    or vtev_dlq_reader_destroy()), or NULL once every
 *                    partition reached the end it had when @p r was made.
 * @param timeout_ms  how long to wait for the brokers.
 * @param errstr      receives the reason on failure.
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK (also at the end), ::VTEV_ERR_TIMED_OUT (nothing
 *          arrived in @p timeout_ms: call again), ::VTEV_ERR_KAFKA (a
 *          broker error that reading cannot get past) or
 *          ::VTEV_ERR_INVALID_ARG.
 * @remark One thread at a time per reader.
 * @since 0.2.0
 */
VTEV_EXPORT vtev_err_t vtev_dlq_reader_next(vtev_dlq_reader_t *r, const vtev_dead_letter_t **dlp,
                                            int timeout_ms, char *errstr, size_t errstr_size);

/**
 * @brief Destroys a reader.
 * @param r the reader, or NULL (ignored).
 * @remark Not while another thread uses @p r.
 * @since 0.2.0
 */
VTEV_EXPORT void vtev_dlq_reader_destroy(vtev_dlq_reader_t *r);
/** @} */

/**
 * @name Replaying
 * @{
 */
/** @brief What a replay did with one selected dead letter. */
typedef enum vtev_dlq_action_e {
    VTEV_DLQ_REPLAYED = 0,      /**< Sent, in a transaction that committed. */
    VTEV_DLQ_WOULD_REPLAY = 1,  /**< `dlq.replay.dry.run`: would have been sent. */
    VTEV_DLQ_REFUSED_LOOP = 2,  /**< Already replayed `dlq.replay.max.count` times. */
    VTEV_DLQ_REFUSED_NO_TOPIC = 3 /**< No `vtev.original.topic` and no `dlq.replay.to`. */
} vtev_dlq_action_t;

/** @brief Counters of a replay (see vtev_dlq_replay_stats()). */
typedef struct vtev_dlq_replay_stats_s {
    uint64_t read;     /**< Dead letters read. */
    uint64_t selected; /**< Of those, selected by the filter. */
    uint64_t replayed; /**< Sent in a transaction that committed. */
    uint64_t dry_run;  /**< Would have been sent (dry run). */
    uint64_t refused;  /**< Refused (loop guard, or no topic to send to). */
} vtev_dlq_replay_stats_t;

/**
 * @brief Called once for each selected dead letter.
 * @param r      the replay.
 * @param dl     the dead letter (borrowed, valid only during the call).
 * @param action what was done with it.
 * @param to     the topic it was (or would have been) sent to; NULL for
 *               ::VTEV_DLQ_REFUSED_NO_TOPIC.  Valid only during the call.
 * @param opaque the pointer given to vtev_dlq_replay_run().
 * @remark Called on the thread of vtev_dlq_replay_run(); for
 *         ::VTEV_DLQ_REPLAYED once the transaction that sent it committed
 *         (the others as they are read).  It may call vtev_dlq_replay_stop() and
 *         vtev_dlq_replay_stats(), not vtev_dlq_replay_run() or _destroy().
 */
typedef void (vtev_dlq_replay_cb_t)(vtev_dlq_replay_t *r, const vtev_dead_letter_t *dl,
                                    vtev_dlq_action_t action, const char *to, void *opaque);

/**
 * @brief Prepares a replay of the dead letters of @p topic that @p filter
 *        selects.
 *
 * Reads `bootstrap.servers`, the `kafka.*` keys and `dlq.replay.group`
 * (default `vtev-dlq-replay.<topic>`: one selection per group, give each
 * selection its own), `dlq.replay.to`, `dlq.replay.max.count`,
 * `dlq.replay.rate`, `dlq.replay.batch` and `dlq.replay.dry.run`.  Unless
 * it is a dry run, it creates the transactional producer and registers its
 * `transactional.id` (init_transactions, up to 30 s), which aborts the
 * transaction an earlier run of the group left open.  A dry run creates no
 * producer and commits nothing.
 *
 * @param conf        configuration (borrowed for the call).
 * @param topic       the dead-letter topic (copied).
 * @param filter      the selection (copied; NULL: every dead letter).
 * @param errstr      receives the reason on failure.
 * @param errstr_size size of @p errstr.
 * @returns the replay (destroy it with vtev_dlq_replay_destroy()), or NULL:
 *          a bad key, a topic that does not exist, brokers that do not
 *          answer or refuse the transactional id.
 * @remark Thread-safe; blocks for the metadata queries and init_transactions.
 * @since 0.2.0
 */
VTEV_EXPORT vtev_dlq_replay_t *vtev_dlq_replay_new(const vtev_conf_t *conf, const char *topic,
                                                   const vtev_dlq_filter_t *filter, char *errstr,
                                                   size_t errstr_size);

/**
 * @brief Replays from the group's committed position (else the first
 *        retained dead letter) up to the end each partition had when the
 *        call started, or until vtev_dlq_replay_stop().
 *
 * Each selected dead letter is sent (at most `dlq.replay.rate` per second
 * when that is above 0) in the batch's transaction; after every
 * `dlq.replay.batch` messages, every 200 ms, before a wait for the rate
 * that would keep a transaction open longer, and before returning, the
 * offsets of everything the batch read are added to the transaction and it
 * is committed (which waits for every delivery report).  When a delivery
 * fails, the batch's transaction is aborted and the call returns the error:
 * nothing of that batch was sent for read_committed readers, nothing of it
 * committed, and the next run sends it again.
 *
 * @param r           the replay.
 * @param cb          called for each selected dead letter (may be NULL).
 * @param opaque      passed to @p cb.
 * @param errstr      receives the reason on failure.
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK (done, or stopped), ::VTEV_ERR_KAFKA,
 *          ::VTEV_ERR_TIMED_OUT (a delivery or commit did not complete),
 *          ::VTEV_ERR_MSG_TOO_LARGE or another delivery error,
 *          ::VTEV_ERR_TXN_ABORTABLE (the transaction was aborted),
 *          ::VTEV_ERR_FATAL (the producer is unusable, e.g. fenced by
 *          another replay of the same group: destroy the replay; later runs
 *          return it at once), ::VTEV_ERR_NOMEM, ::VTEV_ERR_STATE (called
 *          from its callback).
 * @remark One thread at a time; the callback runs on it.  It may be called
 *         again after it returned: it continues from the committed position
 *         (after vtev_dlq_replay_stop(), every later run returns at once).
 * @since 0.2.0
 */
VTEV_EXPORT vtev_err_t vtev_dlq_replay_run(vtev_dlq_replay_t *r, vtev_dlq_replay_cb_t *cb,
                                           void *opaque, char *errstr, size_t errstr_size);

/**
 * @brief Asks vtev_dlq_replay_run() to return after the message in hand:
 *        it commits the open transaction and returns ::VTEV_ERR_OK.
 * @param r the replay, or NULL (ignored).
 * @remark Async-signal-safe and thread-safe (sets an atomic flag).
 * @since 0.2.0
 */
VTEV_EXPORT void vtev_dlq_replay_stop(vtev_dlq_replay_t *r);

/**
 * @brief Copies the counters of the replay into @p out.
 * @param r   the replay.
 * @param out receives the counters.
 * @returns ::VTEV_ERR_OK or ::VTEV_ERR_INVALID_ARG.
 * @remark From the thread of vtev_dlq_replay_run() (also its callback) or
 *         when no run is in progress.
 * @since 0.2.0
 */
VTEV_EXPORT vtev_err_t vtev_dlq_replay_stats(const vtev_dlq_replay_t *r,
                                             vtev_dlq_replay_stats_t *out);

/**
 * @brief Destroys a replay and its producer (vtev_dlq_replay_run() left no
 *        transaction open).
 * @param r the replay, or NULL (ignored).
 * @remark Any thread, but not while vtev_dlq_replay_run() runs.
 * @since 0.2.0
 */
VTEV_EXPORT void vtev_dlq_replay_destroy(vtev_dlq_replay_t *r);
/** @} */

#ifdef __cplusplus
}
#endif

#endif /* VTEVENTS_DLQ_H */
