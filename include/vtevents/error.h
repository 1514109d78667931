/**
 * @file error.h
 * @brief The single error enum of libvtevents.
 *
 * Every function that can fail returns a ::vtev_err_t (or NULL plus an
 * errstr).  Codes are only ever appended: a value never changes meaning.
 *
 * @remark Thread safety: all functions here are thread-safe and return
 *         static strings.
 */
#ifndef VTEVENTS_ERROR_H
#define VTEVENTS_ERROR_H

#include <vtevents/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Error codes. ::VTEV_ERR_OK is 0; new codes are only appended. */
typedef enum vtev_err_e {
    VTEV_ERR_OK = 0,                  /**< Success. */
    VTEV_ERR_INVALID_ARG,             /**< A NULL or otherwise unusable argument to an API call. */
    VTEV_ERR_NOMEM,                   /**< Memory allocation failed. */
    VTEV_ERR_INVALID,                 /**< An event failed validation; errstr names the field. */
    VTEV_ERR_PARSE,                   /**< Malformed input (JSON, properties file, flag). */
    VTEV_ERR_BAD_MAGIC,               /**< Framed payload does not start with magic byte 0. */
    VTEV_ERR_SHORT_BUFFER,            /**< Framed payload shorter than the 5-byte header. */
    VTEV_ERR_DECODE,                  /**< Avro bytes do not decode with the writer schema. */
    VTEV_ERR_ENCODE,                  /**< An Avro value could not be encoded. */
    VTEV_ERR_SCHEMA,                  /**< A schema does not parse or is not usable. */
    VTEV_ERR_SCHEMA_MISMATCH,         /**< Writer and reader schemas cannot be resolved. */
    VTEV_ERR_REGISTRY_UNAVAILABLE,    /**< Registry unreachable, timed out or 5xx after all retries. */
    VTEV_ERR_REGISTRY_SUBJECT_NOT_FOUND, /**< Registry error 40401. */
    VTEV_ERR_REGISTRY_VERSION_NOT_FOUND, /**< Registry error 40402. */
    VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND,  /**< Registry error 40403 (unknown schema id or schema). */
    VTEV_ERR_REGISTRY_INCOMPATIBLE,   /**< Registry error 409: schema incompatible with the subject. */
    VTEV_ERR_REGISTRY_INVALID_SCHEMA, /**< Registry error 42201: schema rejected as invalid. */
    VTEV_ERR_REGISTRY_AUTH,           /**< Registry answered 401 or 403. */
    VTEV_ERR_REGISTRY_TLS,            /**< TLS handshake or certificate verification failed. */
    VTEV_ERR_REGISTRY,                /**< Any other registry error; errstr has the server's message. */
    VTEV_ERR_KAFKA,                   /**< An error reported by librdkafka; errstr has its text. */
    VTEV_ERR_QUEUE_FULL,              /**< The local producer queue stayed full for the configured time. */
    VTEV_ERR_TIMED_OUT,               /**< An operation or a message timed out. */
    VTEV_ERR_FATAL,                   /**< A fatal client error: the handle must be destroyed. */
    VTEV_ERR_TXN_RETRIABLE,           /**< A transactional call failed but may be retried. */
    VTEV_ERR_TXN_ABORTABLE,           /**< The current transaction must be aborted. */
    VTEV_ERR_NOT_FOUND,               /**< The requested item does not exist. */
    VTEV_ERR_STATE,                   /**< The call is not allowed in the handle's current state. */
    VTEV_ERR_IO,                      /**< A file or system call failed; errstr has errno's text. */
    VTEV_ERR_UNSUPPORTED,             /**< Not supported by this build or the linked librdkafka. */
    VTEV_ERR_PURGED,                  /**< A message was purged before delivery (destroy/abort). */
    VTEV_ERR_MSG_TOO_LARGE,           /**< A message exceeds the configured maximum size. */
    VTEV_ERR_REJECTED,                /**< A consumer handler rejected the message (dead-lettered). */
    VTEV_ERR_RETRIES_EXHAUSTED,       /**< A consumer handler asked for a retry after the last attempt. */
    VTEV_ERR_LIMIT,                   /**< Input over a configured limit (avro.max.*); errstr names the limit. */
    VTEV_ERR_REGISTRY_PROTOCOL,       /**< The registry's URL answered something that is not a
                                           registry answer: a redirect (3xx), an error status
                                           without a registry error code (e.g. a proxy's 400 or
                                           404 page), a body that is not the expected JSON.
                                           @since 0.2.0 */
    VTEV_ERR__END                     /**< Not an error: one past the last code. */
} vtev_err_t;

/**
 * @brief A human-readable description of @p err.
 * @param err any value; unknown values give "Unknown error".
 * @returns a static string (never NULL, never freed).
 * @remark Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT const char *vtev_err2str(vtev_err_t err);

/**
 * @brief The enum name of @p err without prefix, e.g. "QUEUE_FULL".
 * @param err any value; unknown values give "UNKNOWN".
 * @returns a static string (never NULL, never freed).
 * @remark Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT const char *vtev_err2name(vtev_err_t err);

/**
 * @brief Whether @p err is about the environment rather than the input: the
 *        same call may succeed later without any change to its arguments.
 *
 * True for ::VTEV_ERR_REGISTRY_UNAVAILABLE (no answer, timeouts, 429, 5xx),
 * ::VTEV_ERR_REGISTRY_AUTH (401/403, e.g. a credential being rotated),
 * ::VTEV_ERR_REGISTRY_TLS, ::VTEV_ERR_REGISTRY_PROTOCOL (3xx, a misbehaving
 * proxy), ::VTEV_ERR_TIMED_OUT, ::VTEV_ERR_NOMEM, ::VTEV_ERR_QUEUE_FULL and
 * ::VTEV_ERR_TXN_RETRIABLE.  False for everything else, including
 * ::VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND: an unknown schema id may be a replica
 * that lags, which the consumer re-checks for a bounded time
 * (`consumer.schema.not.found.retry.ms`, doc/consumer.md) before it
 * dead-letters the message.  The consumer never dead-letters a message for
 * an error this function calls retriable.
 * @param err any value.
 * @returns 1 when retriable, else 0.
 * @remark Thread-safe.
 * @since 0.2.0
 */
VTEV_EXPORT int vtev_err_is_retriable(vtev_err_t err);

/**
 * @brief Frees memory that the library handed to the caller (JSON text,
 *        encoded buffers, schema strings). NULL is ignored.
 * @param ptr memory the library documents as "caller frees with vtev_free()"
 *            (ownership passes back to the library), or NULL.
 * @remark Such memory comes from malloc(), so free() works too; this function
 *         exists for callers whose C runtime differs from the library's.
 * @remark Thread-safe: any thread may free memory allocated on another.
 * @since 0.1.0
 */
VTEV_EXPORT void vtev_free(void *ptr);

#ifdef __cplusplus
}
#endif

#endif /* VTEVENTS_ERROR_H */
