/**
 * @file log.h
 * @brief The library's log lines, for applications too: one format (text or
 *        JSON lines, `log.format`), with the context of the message being
 *        handled.
 *
 * Every line the library logs goes to the log callback of its handle's
 * configuration (vtev_conf_set_log_cb()) or, without one, to standard error
 * when its level is at most `log.level`, as
 *
 *     %vtevents|4|CONSUMER| text                       (log.format=text)
 *     {"time":"2026-12-03T14:05:00.000123Z","level":"warning","component":"CONSUMER",
 *      "message":"text","topic":"...","event_id":"...","correlation_id":"...",
 *      "trace_id":"..."}                                (log.format=json, one line)
 *
 * The last four members come from the thread's log context, present when
 * set: while a consumer's handler runs it is the handled message's (topic,
 * its `event_id` and `correlation_id` headers, its trace id), so a handler's
 * own lines written with vtev_log() carry the same correlation as the
 * library's.
 *
 * @remark Thread safety: vtev_log() is thread-safe; the context is per
 *         thread.
 */
#ifndef VTEVENTS_LOG_H
#define VTEVENTS_LOG_H

#include <vtevents/export.h>
#include <vtevents/conf.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief The log context of a thread (see vtev_log_context_get()). */
typedef struct vtev_log_ctx_s {
    const char *topic;          /**< Topic of the message being handled, or NULL. */
    const char *event_id;       /**< Its event id, or NULL. */
    const char *correlation_id; /**< Its correlation id, or NULL. */
    const char *trace_id;       /**< Its trace id (32 hex digits), or NULL. */
} vtev_log_ctx_t;

/**
 * @brief Logs one line the way the library does: through @p conf's log
 *        callback, else to standard error in `log.format` when @p level is
 *        at most `log.level`, with the thread's log context.
 * @param conf      the configuration whose callback and settings apply (NULL:
 *                  the defaults: text, level 6).
 * @param level     syslog level (3 error, 4 warning, 6 info, 7 debug).
 * @param component short name of the subsystem or service ("WORKER").
 * @param fmt       printf format of the message.
 * @remark Thread-safe: any thread.  Control characters and invalid UTF-8 in
 *         the message are written as \\xNN, so that data cannot forge lines.
 * @since 0.2.0
 */
VTEV_EXPORT void vtev_log(const vtev_conf_t *conf, int level, const char *component,
                          const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/**
 * @brief Sets the calling thread's log context (copied; NULL members are
 *        absent), or with NULL clears it.
 * @param ctx the context, or NULL.
 * @remark Per thread.  A consumer sets the handled message's context around
 *         each handler call and restores the previous one afterwards.
 * @since 0.2.0
 */
VTEV_EXPORT void vtev_log_context_set(const vtev_log_ctx_t *ctx);

/**
 * @brief The calling thread's log context (for a log callback that writes
 *        its own format).
 * @param out receives pointers valid until the thread's context changes.
 * @remark Per thread: the calling thread's context only.
 * @since 0.2.0
 */
VTEV_EXPORT void vtev_log_context_get(vtev_log_ctx_t *out);

#ifdef __cplusplus
}
#endif

#endif
