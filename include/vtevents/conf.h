/**
 * @file conf.h
 * @brief The configuration object: library keys, `kafka.*` pass-through,
 *        properties files and the environment.
 *
 * A ::vtev_conf_t holds string properties.  Library keys (documented in
 * doc/CONFIGURATION.md) are checked when set; keys prefixed `kafka.` are
 * handed to librdkafka unchanged (without the prefix) and are checked by
 * librdkafka at set time, so a misspelt key is reported, never ignored.
 *
 * @remark Thread safety: a ::vtev_conf_t is not thread-safe; it may be read
 *         (get, dup) from several threads at once only while nobody sets it.
 *         Constructors (producer, consumer, registry) copy what they need and
 *         take ownership of the conf only when they succeed.
 */
#ifndef VTEVENTS_CONF_H
#define VTEVENTS_CONF_H

#include <stddef.h>
#include <vtevents/export.h>
#include <vtevents/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Opaque configuration object. */
typedef struct vtev_conf_s vtev_conf_t;

/** @brief Result of setting or getting a property. */
typedef enum vtev_conf_res_e {
    VTEV_CONF_UNKNOWN = -2, /**< No such property (library or librdkafka). */
    VTEV_CONF_INVALID = -1, /**< The value is not valid for the property. */
    VTEV_CONF_OK = 0        /**< Success. */
} vtev_conf_res_t;

/**
 * @brief A log callback.
 * @param level    syslog level (3 = error, 4 = warning, 6 = info, 7 = debug).
 * @param facility short subsystem name ("CONF", "REGISTRY", "PRODUCER", ...).
 * @param message  the line, valid only during the call.
 * @param opaque   the pointer given to vtev_conf_set_log_cb().
 * @remark Called from any of the library's threads (application threads and
 *         librdkafka's background threads); it must not call back into the
 *         handle that logs.
 */
typedef void (vtev_log_cb_t)(int level, const char *facility,
                             const char *message, void *opaque);

/**
 * @name Create, copy and destroy
 * @{
 */

/**
 * @brief A new configuration with every property at its default.
 * @returns the conf (caller destroys with vtev_conf_destroy() unless a
 *          constructor took ownership), or NULL when out of memory.
 * @remark Thread-safe: may be called from any thread.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_conf_t *vtev_conf_new(void);

/**
 * @brief A deep copy of @p conf (properties and log callback).
 * @param conf the configuration to copy (borrowed for the call), or NULL.
 * @returns the copy (caller destroys it with vtev_conf_destroy()), or NULL
 *          when out of memory or @p conf is NULL.
 * @remark Thread safety: may run on several threads at once on the same
 *         @p conf, but not while another thread modifies it.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_conf_t *vtev_conf_dup(const vtev_conf_t *conf);

/**
 * @brief Frees @p conf. NULL is accepted and ignored.
 * @param conf a configuration the caller owns (not one a constructor took
 *             ownership of), or NULL.
 * @remark Thread safety: no other call on @p conf may run or follow.
 * @since 0.1.0
 */
VTEV_EXPORT void vtev_conf_destroy(vtev_conf_t *conf);

/** @} */

/**
 * @name Properties
 * @{
 */

/**
 * @brief Sets property @p name to @p value.
 *
 * Library keys are validated by type (integer ranges, booleans
 * `true/false/1/0`, enumerations).  Keys starting with `kafka.` are checked
 * by librdkafka (without the prefix).
 *
 * @param conf        the configuration.
 * @param name        property name, e.g. "schema.registry.url" or "kafka.linger.ms".
 * @param value       new value; NULL resets the property to its default.
 *                    The string is copied.
 * @param errstr      receives a message naming the key on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_CONF_OK, ::VTEV_CONF_UNKNOWN or ::VTEV_CONF_INVALID (also
 *          for a NULL @p conf or @p name, and when out of memory).
 * @remark Not thread-safe: needs exclusive access to @p conf.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_conf_res_t vtev_conf_set(vtev_conf_t *conf, const char *name,
                                          const char *value, char *errstr,
                                          size_t errstr_size);

/**
 * @brief Reads the value of property @p name (the default when unset).
 *
 * Works like rd_kafka_conf_get(): when @p dest is NULL or too small,
 * *@p dest_size is set to the size needed (including the NUL).
 * For `kafka.*` keys that were never set, librdkafka's default is returned.
 *
 * @param conf      the configuration (borrowed for the call).
 * @param name      property name.
 * @param dest      buffer to receive the NUL-terminated value, or NULL.
 * @param dest_size in: size of @p dest; out: size needed.
 * @returns ::VTEV_CONF_OK, or ::VTEV_CONF_UNKNOWN for an unknown key (or a
 *          `kafka.*` key with no value and no default, or a NULL argument).
 * @remark Thread safety: may run on several threads at once on the same
 *         @p conf, but not while another thread modifies it.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_conf_res_t vtev_conf_get(const vtev_conf_t *conf,
                                          const char *name, char *dest,
                                          size_t *dest_size);

/**
 * @brief Loads a Java-style properties file: `key=value` (or `key: value`)
 *        lines, `#` and `!` comments, blank lines ignored, whitespace around
 *        key and value trimmed.
 *
 * All-or-nothing: when any line is bad, @p conf is left unchanged.
 *
 * @param conf        the configuration.
 * @param path        the file (read during the call only).
 * @param errstr      receives "PATH:LINE: key: reason" on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_IO (cannot read), ::VTEV_ERR_PARSE
 *          (bad line, unknown key or invalid value), or
 *          ::VTEV_ERR_INVALID_ARG (NULL @p conf or @p path).
 * @remark Not thread-safe: needs exclusive access to @p conf.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_conf_load_file(vtev_conf_t *conf, const char *path,
                                           char *errstr, size_t errstr_size);

/**
 * @brief Applies configuration from the environment.
 *
 * `KAFKA_BOOTSTRAP_SERVERS` sets `bootstrap.servers` and
 * `SCHEMA_REGISTRY_URL` sets `schema.registry.url`.  Every library key can be
 * set as `VTEV_` + the key in upper case with `.` and `-` written `_`
 * (`VTEV_SCHEMA_REGISTRY_REQUEST_TIMEOUT_MS`); `VTEV_` names win over the
 * two aliases.  `VTEV_KAFKA_LINGER_MS=5` sets `kafka.linger.ms`.
 * All-or-nothing: when any variable is invalid, @p conf is left unchanged.
 *
 * @param conf        the configuration.
 * @param errstr      receives "VARIABLE: key: reason" on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK or ::VTEV_ERR_PARSE.
 * @remark Not thread-safe: needs exclusive access to @p conf, and no other
 *         thread may change the environment (setenv()) during the call.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_conf_load_env(vtev_conf_t *conf, char *errstr,
                                          size_t errstr_size);

/**
 * @brief Lists the properties that were explicitly set, as name/value pairs.
 * @param conf the configuration (borrowed for the call).
 * @param cntp receives the number of strings (twice the number of pairs).
 * @returns an array of 2 * n strings (name, value, name, value, ...), copies
 *          owned by the caller, who frees them with vtev_conf_dump_free();
 *          NULL when out of memory or an argument is NULL.
 *          Secrets (passwords, tokens, user info) are shown as `[redacted]`.
 * @remark Thread safety: may run on several threads at once on the same
 *         @p conf, but not while another thread modifies it.
 * @since 0.1.0
 */
VTEV_EXPORT const char **vtev_conf_dump(const vtev_conf_t *conf, size_t *cntp);

/**
 * @brief Frees an array returned by vtev_conf_dump(). NULL is ignored.
 * @param arr the array (ownership returns to the library), or NULL.
 * @param cnt the count vtev_conf_dump() gave in *cntp.
 * @remark Thread-safe: any thread may free an array (each array once).
 * @since 0.1.0
 */
VTEV_EXPORT void vtev_conf_dump_free(const char **arr, size_t cnt);

/**
 * @brief Whether property @p name was set explicitly (by vtev_conf_set(), a
 *        properties file or the environment) rather than left at its default.
 *
 * Setting a property to NULL with vtev_conf_set() makes it unset again.
 *
 * @param conf the configuration (NULL is treated as empty).
 * @param name property name (library key or `kafka.*`).
 * @returns 1 when set, 0 when at its default (also for unknown names).
 * @remark Thread safety: like vtev_conf_get().
 * @since 0.2.0
 */
VTEV_EXPORT int vtev_conf_is_set(const vtev_conf_t *conf, const char *name);

/**
 * @brief Reports the connection properties that fall back to the embedded
 *        `mock://` defaults because nothing configured them.
 *
 * `bootstrap.servers` and `schema.registry.url` default to `mock://default`,
 * an in-process mock cluster and registry: events published there vanish
 * when the process exits, and the schema ids it assigns mean nothing to other
 * processes.  A misspelt environment variable (`KAFKA_BOOTSTRAP_SERVER`)
 * silently leads there.  Programs call this once after building their
 * configuration and print @p msg as a warning when it returns non-zero.
 *
 * A property is reported when it was not set (vtev_conf_is_set()) and its
 * default is a `mock://` URL.  Nothing is reported when either property was
 * set to a `mock://` URL explicitly: choosing the embedded cluster or
 * registry chooses the embedded world.
 *
 * @param conf     the configuration.
 * @param msg      receives one line naming the properties and the embedded
 *                 default in use ("" when nothing is reported); may be NULL.
 * @param msg_size size of @p msg.
 * @returns the number of properties reported: 0, 1 or 2.
 * @remark Thread safety: like vtev_conf_get().
 * @since 0.2.0
 */
VTEV_EXPORT int vtev_conf_embedded_defaults(const vtev_conf_t *conf, char *msg,
                                            size_t msg_size);

/**
 * @brief Sets the log callback used by every handle created from @p conf.
 *
 * Default: lines of level <= `log.level` go to stderr as
 * "%vtevents|LEVEL|FACILITY| message".
 *
 * @param conf   the configuration (NULL is ignored).
 * @param log_cb the callback, or NULL for the default.
 * @param opaque passed to the callback; not owned (it must stay valid as
 *               long as a handle created from @p conf lives).
 * @remark Not thread-safe: needs exclusive access to @p conf.  The callback
 *         itself is called from any of the library's threads (see
 *         ::vtev_log_cb_t).
 * @since 0.1.0
 */
VTEV_EXPORT void vtev_conf_set_log_cb(vtev_conf_t *conf, vtev_log_cb_t *log_cb,
                                      void *opaque);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* VTEVENTS_CONF_H */
