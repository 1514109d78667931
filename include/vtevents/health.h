/**
 * @file health.h
 * @brief Liveness and readiness of producers, consumers and the process,
 *        with the reasons.
 *
 * A handle is **live** unless it is broken for good: a fatal librdkafka
 * error, a consumer stopped by an error, or a consumer that has not been
 * polled for longer than `kafka.max.poll.interval.ms` (the application is
 * stuck: the group has evicted it).  A live handle is **ready** when it can
 * do its work now: it has a connection to at least one broker, the schema
 * registry answered its last call, a consumer has partitions assigned and
 * its dead-letter producer is not failing, a producer's deliveries are not
 * failing.  Each failed check adds a reason (the check's name and a text
 * that names the setting or the error), so that `/readyz` can say why.
 *
 * Broker connections are read from librdkafka's statistics, which the
 * handles request every `health.stats.interval.ms` unless
 * `kafka.statistics.interval.ms` is set.
 *
 * @remark Thread safety: every function here may be called from any thread
 *         while other threads use the handles (an HTTP server's thread).
 */
#ifndef VTEVENTS_HEALTH_H
#define VTEVENTS_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <vtevents/export.h>
#include <vtevents/error.h>
#include <vtevents/consumer.h>
#include <vtevents/producer.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Most reasons one report holds (more are counted, not kept). */
#define VTEV_HEALTH_REASONS_MAX 16

/** @brief One failed check. */
typedef struct vtev_health_reason_s {
    char check[24];    /**< "fatal", "stopped", "poll", "brokers", "registry", "assignment",
                            "dlq", "deliveries", "closed". */
    char handle[64];   /**< Which handle: "consumer GROUP", "reader", "producer CLIENT.ID". */
    char text[256];    /**< What is wrong, naming the setting or the error. */
    bool liveness;     /**< The check is a liveness one (the handle is not live). */
} vtev_health_reason_t;

/** @brief A health report.  Plain data, allocated by the caller; fixed size. */
typedef struct vtev_health_s {
    bool live;                 /**< No liveness check failed. */
    bool ready;                /**< Live, and no readiness check failed. */
    size_t handles;            /**< Handles looked at. */
    size_t reason_cnt;         /**< Failed checks (may exceed ::VTEV_HEALTH_REASONS_MAX). */
    vtev_health_reason_t reasons[VTEV_HEALTH_REASONS_MAX]; /**< The first failed checks. */
} vtev_health_t;

/**
 * @brief The health of one consumer.
 * @param c   the consumer.
 * @param out receives the report (cleared first).
 * @returns ::VTEV_ERR_OK, or ::VTEV_ERR_INVALID_ARG for NULL arguments.
 * @remark Thread-safe: any thread, while another polls.
 * @since 0.2.0
 */
VTEV_EXPORT vtev_err_t vtev_consumer_health(vtev_consumer_t *c, vtev_health_t *out);

/**
 * @brief The health of one producer.
 * @param p   the producer.
 * @param out receives the report (cleared first).
 * @returns ::VTEV_ERR_OK, or ::VTEV_ERR_INVALID_ARG for NULL arguments.
 * @remark Thread-safe: any thread, while others publish.
 * @since 0.2.0
 */
VTEV_EXPORT vtev_err_t vtev_producer_health(vtev_producer_t *p, vtev_health_t *out);

/**
 * @brief The health of the process: every producer and consumer that exists
 *        now, together.  A process with no handle is live and ready.
 * @param out receives the report (cleared first).
 * @returns ::VTEV_ERR_OK, or ::VTEV_ERR_INVALID_ARG when @p out is NULL.
 * @remark Thread-safe: any thread.  Handles being created or destroyed
 *         meanwhile are either in the report or not.
 * @since 0.2.0
 */
VTEV_EXPORT vtev_err_t vtev_health_process(vtev_health_t *out);

/**
 * @brief A report as JSON: `{"live": BOOL, "ready": BOOL, "handles": N,
 *        "reasons": [{"check", "handle", "reason", "liveness"}, ...]}`.
 * @param h     the report.
 * @param jsonp receives the text (NUL-terminated; caller frees with vtev_free()).
 * @param lenp  receives its length (may be NULL).
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_INVALID_ARG or ::VTEV_ERR_NOMEM.
 * @remark Thread-safe: any thread (no shared state).
 * @since 0.2.0
 */
VTEV_EXPORT vtev_err_t vtev_health_json(const vtev_health_t *h, char **jsonp, size_t *lenp);

#ifdef __cplusplus
}
#endif

#endif
