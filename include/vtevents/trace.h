/**
 * @file trace.h
 * @brief W3C Trace Context (`traceparent`, `tracestate`) on every message,
 *        without a tracing SDK.
 *
 * Every publish carries a `traceparent` header (unless `trace.propagation`
 * is false): the caller's when it gives one (a `traceparent` header of its
 * own in the calls that take headers, or the thread's current context set
 * with vtev_trace_set_current()), otherwise a child of the thread's current
 * context, otherwise a new trace.  While a consumer's handler runs, the
 * thread's current context is the handled message's, so that everything the
 * handler publishes continues the message's trace: a position, the request
 * it triggers and the results of that request share one trace id.  Dead
 * letters keep the original headers and so the trace.  The consumer hands
 * the message's context to handlers in vtev_msg_info_t::traceparent and
 * vtev_msg_info_t::tracestate.
 *
 * An application with a tracer of its own (OpenTelemetry or another) binds
 * it with vtev_trace_set_hooks(): the publish hook may replace the span id
 * the library chose with its span's, the consume hooks open and close a span
 * around each handler call.
 *
 * The format is the W3C recommendation's, version `00`:
 * `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`, lowercase; an
 * all-zero trace or parent id is invalid.  A header that does not parse is
 * treated as absent on consume (a new trace starts, as the recommendation
 * asks) and refused on publish (::VTEV_ERR_INVALID_ARG naming the header).
 *
 * @remark Thread safety: every function is thread-safe.  The current context
 *         is per thread.  vtev_trace_set_hooks() should be called once,
 *         before handles are created.
 */
#ifndef VTEVENTS_TRACE_H
#define VTEVENTS_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vtevents/export.h>
#include <vtevents/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Length of a version-00 `traceparent` value (without the NUL). */
#define VTEV_TRACEPARENT_LEN 55
/** @brief Longest `tracestate` kept (W3C: at least 512 characters must be propagated). */
#define VTEV_TRACESTATE_MAX 512

/** @brief Flag bit "sampled" of `traceparent`. */
#define VTEV_TRACE_FLAG_SAMPLED 0x01

/**
 * @brief One trace context: a trace, the current span in it, and the
 *        vendors' `tracestate`.  Plain data, allocated by the caller; its
 *        size is fixed for the soname.
 */
typedef struct vtev_trace_ctx_s {
    uint8_t trace_id[16];                      /**< Trace id (never all zero when valid). */
    uint8_t span_id[8];                        /**< Span (parent) id (never all zero when valid). */
    uint8_t flags;                             /**< Trace flags (::VTEV_TRACE_FLAG_SAMPLED). */
    char tracestate[VTEV_TRACESTATE_MAX + 1];  /**< `tracestate` value, "" when none. */
} vtev_trace_ctx_t;

/**
 * @brief Parses a `traceparent` value (and optionally a `tracestate`).
 * @param traceparent the header value (need not be NUL-terminated).
 * @param len         its length in bytes.
 * @param tracestate  the `tracestate` value, or NULL; kept as is when it is
 *                    printable ASCII of at most ::VTEV_TRACESTATE_MAX bytes,
 *                    else dropped (the trace goes on without it).
 * @param tracestate_len its length in bytes.
 * @param out         receives the context (unchanged on failure).
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK, or ::VTEV_ERR_PARSE with the position of the fault
 *          (version `ff`, wrong length, non-hex or uppercase digits, missing
 *          dashes, all-zero ids), or ::VTEV_ERR_INVALID_ARG for NULL arguments.
 * @remark Thread-safe: any thread (no shared state).
 * @since 0.2.0
 */
VTEV_EXPORT vtev_err_t vtev_trace_parse(const char *traceparent, size_t len,
                                        const char *tracestate, size_t tracestate_len,
                                        vtev_trace_ctx_t *out, char *errstr,
                                        size_t errstr_size);

/**
 * @brief Writes the `traceparent` value of @p ctx (version 00).
 * @param ctx the context.
 * @param out receives ::VTEV_TRACEPARENT_LEN characters and a NUL.
 * @remark Thread-safe: any thread (no shared state).
 * @since 0.2.0
 */
VTEV_EXPORT void vtev_trace_format(const vtev_trace_ctx_t *ctx,
                                   char out[VTEV_TRACEPARENT_LEN + 1]);

/**
 * @brief Writes the trace id of @p ctx as 32 lowercase hex digits (for logs).
 * @param ctx the context.
 * @param out receives 32 characters and a NUL.
 * @remark Thread-safe: any thread (no shared state).
 * @since 0.2.0
 */
VTEV_EXPORT void vtev_trace_id_hex(const vtev_trace_ctx_t *ctx, char out[33]);

/**
 * @brief A new trace: random trace and span ids (the kernel's random
 *        source), flags sampled, no tracestate.
 * @param out receives the context.
 * @remark Thread-safe: any thread (the random pool is per thread).
 * @since 0.2.0
 */
VTEV_EXPORT void vtev_trace_new(vtev_trace_ctx_t *out);

/**
 * @brief A child of @p parent: the same trace id, flags and tracestate, a
 *        new random span id.
 * @param parent the parent context.
 * @param out    receives the child (may be @p parent itself).
 * @remark Thread-safe: any thread (the random pool is per thread).
 * @since 0.2.0
 */
VTEV_EXPORT void vtev_trace_child(const vtev_trace_ctx_t *parent, vtev_trace_ctx_t *out);

/**
 * @brief Sets (or with NULL clears) the calling thread's current context:
 *        publishes from this thread continue it (each message gets a child
 *        span of it).
 * @param ctx the context (copied), or NULL.
 * @remark Per thread.  While a consumer's handler runs, the consumer sets
 *         the handled message's context and restores the previous one
 *         afterwards.
 * @since 0.2.0
 */
VTEV_EXPORT void vtev_trace_set_current(const vtev_trace_ctx_t *ctx);

/**
 * @brief Copies the calling thread's current context.
 * @param out receives it when there is one.
 * @returns true when the thread has a current context.
 * @remark Per thread: the calling thread's context only.
 * @since 0.2.0
 */
VTEV_EXPORT bool vtev_trace_get_current(vtev_trace_ctx_t *out);

/**
 * @brief Publish hook: a message is about to be published.
 * @param topic  the topic.
 * @param parent the context it continues (the caller's current one), or
 *               NULL for a new trace.
 * @param ctx    the context the message will carry, chosen by the library
 *               (a child of @p parent, or a new trace); the hook may rewrite
 *               its span id (its own span's) and flags.
 * @param opaque the opaque given to vtev_trace_set_hooks().
 * @remark Called on the publishing thread, inside the publish call; it must
 *         not publish.  Not called when the caller gave a `traceparent`
 *         header of its own.
 */
typedef void (vtev_trace_publish_hook_t)(const char *topic, const vtev_trace_ctx_t *parent,
                                         vtev_trace_ctx_t *ctx, void *opaque);

/**
 * @brief Consume hook: a handler is about to run (@p begin true) or has
 *        returned (@p begin false, with its verdict).
 * @param topic   the topic.
 * @param ctx     the message's context, or NULL when it carries none.
 * @param begin   true before the handler, false after it.
 * @param verdict the handler's verdict (a ::vtev_verdict_t value) when
 *                @p begin is false, else 0.
 * @param opaque  the opaque given to vtev_trace_set_hooks().
 * @remark Called on the polling thread.
 */
typedef void (vtev_trace_consume_hook_t)(const char *topic, const vtev_trace_ctx_t *ctx,
                                         bool begin, int verdict, void *opaque);

/**
 * @brief Binds an application's tracer (either hook may be NULL; both NULL
 *        unbinds).
 * @param on_publish the publish hook.
 * @param on_consume the consume hook.
 * @param opaque     passed to both; not owned.
 * @remark Process-wide.  Call it once, before producers and consumers are
 *         used, not while other threads publish or consume.
 * @since 0.2.0
 */
VTEV_EXPORT void vtev_trace_set_hooks(vtev_trace_publish_hook_t *on_publish,
                                      vtev_trace_consume_hook_t *on_consume, void *opaque);

#ifdef __cplusplus
}
#endif

#endif
