/**
 * @file registry.h
 * @brief Schema Registry client (Confluent REST API) with caches, auth, TLS,
 *        retries and failover, and the in-process `mock://NAME` registry.
 *
 * A ::vtev_registry_t talks to a Confluent-compatible Schema Registry
 * (Confluent, or Apicurio's `/apis/ccompat/v7`) given by
 * `schema.registry.url`, or to an in-process registry when the URL is
 * `mock://NAME` (shared by every client of that NAME in the process; the
 * embedded default and the unit tests' registry).  See doc/registry.md.
 *
 * Errors: the registry's error codes map to distinct ::vtev_err_t values
 * (40401 ::VTEV_ERR_REGISTRY_SUBJECT_NOT_FOUND, 40402
 * ::VTEV_ERR_REGISTRY_VERSION_NOT_FOUND, 40403
 * ::VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND, 409 ::VTEV_ERR_REGISTRY_INCOMPATIBLE,
 * 42201 ::VTEV_ERR_REGISTRY_INVALID_SCHEMA, 401/403 ::VTEV_ERR_REGISTRY_AUTH,
 * TLS failures ::VTEV_ERR_REGISTRY_TLS, transport errors / 429 / 5xx after all
 * retries and URLs, or `schema.registry.call.timeout.ms` used up,
 * ::VTEV_ERR_REGISTRY_UNAVAILABLE, redirects and answers that are not a
 * registry's (a proxy's error page) ::VTEV_ERR_REGISTRY_PROTOCOL, anything
 * else ::VTEV_ERR_REGISTRY); errstr then holds the server's message.
 * vtev_err_is_retriable() tells which of them are about the environment.
 *
 * @remark Thread safety: a ::vtev_registry_t is thread-safe: any number of
 *         threads may call any function on the same handle at once (caches
 *         are mutex-guarded, HTTP connections come from a pool), except
 *         vtev_registry_destroy(), which must be the last call.
 */
#ifndef VTEVENTS_REGISTRY_H
#define VTEVENTS_REGISTRY_H

#include <stddef.h>
#include <stdint.h>
#include <vtevents/export.h>
#include <vtevents/error.h>
#include <vtevents/conf.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Opaque Schema Registry client handle. */
typedef struct vtev_registry_s vtev_registry_t;

/** @brief Compatibility levels of a registry (global or per subject). */
typedef enum vtev_compat_level_e {
    VTEV_COMPAT_NONE = 0,            /**< No check. */
    VTEV_COMPAT_BACKWARD,            /**< The new schema reads data of the latest version. */
    VTEV_COMPAT_BACKWARD_TRANSITIVE, /**< The new schema reads data of every version. */
    VTEV_COMPAT_FORWARD,             /**< The latest version reads data of the new schema. */
    VTEV_COMPAT_FORWARD_TRANSITIVE,  /**< Every version reads data of the new schema. */
    VTEV_COMPAT_FULL,                /**< BACKWARD and FORWARD against the latest version. */
    VTEV_COMPAT_FULL_TRANSITIVE,     /**< BACKWARD and FORWARD against every version. */
    VTEV_COMPAT__CNT                 /**< Not a level: the number of levels. */
} vtev_compat_level_t;

/**
 * @name Create and destroy
 * @{
 */

/**
 * @brief Creates a registry client from @p conf.
 *
 * Reads `schema.registry.url` (one URL, a comma-separated list for failover,
 * or `mock://NAME`), `basic.auth.user.info`, `bearer.auth.token`, every
 * `schema.registry.*` key (TLS files, timeouts, retries, cache sizes),
 * `auto.register.schemas`, `use.latest.version` and `subject.name.strategy`
 * (doc/CONFIGURATION.md).  No request is made here.
 *
 * @param conf        the configuration; ownership passes to the client
 *                    **only on success** (on failure the caller still owns it).
 * @param errstr      receives a message naming the key on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns the client (destroy with vtev_registry_destroy()), or NULL on
 *          failure (bad URL, unreadable TLS file, out of memory).
 * @remark Thread safety: may be called from any thread.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_registry_t *vtev_registry_new(vtev_conf_t *conf, char *errstr,
                                               size_t errstr_size);

/**
 * @brief Destroys the client, its caches, connections and conf.
 *        NULL is accepted and ignored.
 * @param reg the client, or NULL.
 * @remark Thread safety: any thread, but no other call on @p reg may be
 *         running or follow. A `mock://` registry's contents outlive its
 *         clients (they live as long as the process).
 * @since 0.1.0
 */
VTEV_EXPORT void vtev_registry_destroy(vtev_registry_t *reg);

/** @} */

/**
 * @name Schemas
 * @{
 */

/**
 * @brief Registers an Avro schema under @p subject (idempotent: an already
 *        registered schema returns its id).
 * @param reg         the client.
 * @param subject     the subject, e.g. "vessel-position-updates-value".
 * @param schema_json the Avro schema as JSON text.
 * @param idp         receives the schema id.
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_REGISTRY_INCOMPATIBLE (409),
 *          ::VTEV_ERR_REGISTRY_INVALID_SCHEMA (42201), or another registry error.
 * @remark Cached: the same (subject, schema) is registered over HTTP once.
 *         Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_registry_register(vtev_registry_t *reg, const char *subject,
                                              const char *schema_json, int32_t *idp,
                                              char *errstr, size_t errstr_size);

/**
 * @brief Looks up the id and version of @p schema_json under @p subject
 *        (without registering it).
 * @param reg         the client.
 * @param subject     the subject.
 * @param schema_json the Avro schema (compared after normalisation: whitespace
 *                    and key order do not matter).
 * @param idp         receives the schema id (may be NULL).
 * @param versionp    receives the version within the subject (may be NULL).
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_REGISTRY_SUBJECT_NOT_FOUND,
 *          ::VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND, or another registry error.
 * @remark Cached. Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_registry_lookup(vtev_registry_t *reg, const char *subject,
                                            const char *schema_json, int32_t *idp,
                                            int *versionp, char *errstr, size_t errstr_size);

/**
 * @brief Fetches the schema with id @p id.
 * @param reg          the client.
 * @param id           the schema id (from a framed message).
 * @param schema_jsonp receives the schema JSON text; the caller frees it with
 *                     vtev_free().
 * @param errstr       receives the reason on failure (may be NULL).
 * @param errstr_size  size of @p errstr.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND (40403), or
 *          another registry error.
 * @remark Cached (ids never change meaning): one request per id per client.
 *         Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_registry_get_schema(vtev_registry_t *reg, int32_t id,
                                                char **schema_jsonp, char *errstr,
                                                size_t errstr_size);

/**
 * @brief Fetches version @p version (or the latest) of @p subject.
 * @param reg          the client.
 * @param subject      the subject.
 * @param version      a version number >= 1, or -1 for the latest.
 * @param idp          receives the schema id (may be NULL).
 * @param versionp     receives the version number (may be NULL).
 * @param schema_jsonp receives the schema text, freed by the caller with
 *                     vtev_free() (may be NULL).
 * @param errstr       receives the reason on failure (may be NULL).
 * @param errstr_size  size of @p errstr.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_REGISTRY_SUBJECT_NOT_FOUND,
 *          ::VTEV_ERR_REGISTRY_VERSION_NOT_FOUND, or another registry error.
 * @remark The latest version is cached for `schema.registry.latest.cache.ttl.sec`;
 *         explicit versions are cached until deleted through this client.
 *         Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_registry_get_version(vtev_registry_t *reg, const char *subject,
                                                 int version, int32_t *idp, int *versionp,
                                                 char **schema_jsonp, char *errstr,
                                                 size_t errstr_size);

/**
 * @brief The schema id a serializer uses for @p schema_json under @p subject.
 *
 * Behaves like Confluent's serializers: with `use.latest.version=true` the
 * id of the subject's latest version; else with `auto.register.schemas=true`
 * (the default) the id from registering the schema (idempotent); else the id
 * found by looking the schema up.
 *
 * @param reg         the client.
 * @param subject     the subject (see vtev_registry_subject_name()).
 * @param schema_json the writer's Avro schema.
 * @param idp         receives the id.
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK or a registry error.
 * @remark Cached: after the first call for a (subject, schema) no request is
 *         made (with use.latest.version: until the latest TTL expires).
 *         Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_registry_schema_id_for(vtev_registry_t *reg, const char *subject,
                                                   const char *schema_json, int32_t *idp,
                                                   char *errstr, size_t errstr_size);

/**
 * @brief The subject for @p topic and a record per `subject.name.strategy`:
 *        topic: "<topic>-value", record: "<fullname>",
 *        topic-record: "<topic>-<fullname>".
 * @param reg             the client (its strategy is used).
 * @param topic           the topic (required for topic and topic-record).
 * @param record_fullname the record's full name "namespace.Name" (required
 *                        for record and topic-record; may be NULL for topic).
 * @param out             receives the NUL-terminated subject.
 * @param out_size        size of @p out.
 * @returns ::VTEV_ERR_OK, or ::VTEV_ERR_INVALID_ARG when an input the strategy
 *          needs is missing or @p out is too small.
 * @remark Makes no request. Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_registry_subject_name(const vtev_registry_t *reg, const char *topic,
                                                  const char *record_fullname, char *out,
                                                  size_t out_size);

/** @} */

/**
 * @name Subjects, versions and deletion
 * @{
 */

/**
 * @brief Lists the registry's subjects (not soft-deleted ones).
 * @param reg         the client.
 * @param subjectsp   receives an array of @p *cntp strings, freed by the caller
 *                    with vtev_registry_strings_free() (NULL when empty).
 * @param cntp        receives the number of subjects.
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK or a registry error.
 * @remark Never cached. Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_registry_list_subjects(vtev_registry_t *reg, char ***subjectsp,
                                                   size_t *cntp, char *errstr,
                                                   size_t errstr_size);

/**
 * @brief Frees an array of strings returned by this module. NULL is ignored.
 * @param arr the array (ownership returns to the library), or NULL.
 * @param cnt its number of strings.
 * @remark Thread-safe: any thread may free an array (each array once).
 * @since 0.1.0
 */
VTEV_EXPORT void vtev_registry_strings_free(char **arr, size_t cnt);

/**
 * @brief Lists the versions of @p subject in increasing order.
 * @param reg         the client.
 * @param subject     the subject.
 * @param versionsp   receives an array of @p *cntp version numbers, freed by
 *                    the caller with vtev_free().
 * @param cntp        receives the number of versions.
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_REGISTRY_SUBJECT_NOT_FOUND or another
 *          registry error.
 * @remark Never cached. Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_registry_list_versions(vtev_registry_t *reg, const char *subject,
                                                   int **versionsp, size_t *cntp,
                                                   char *errstr, size_t errstr_size);

/**
 * @brief Deletes one version of @p subject.
 *
 * A soft delete hides the version; a permanent delete (allowed only after a
 * soft delete, as in Confluent) removes it.
 *
 * @param reg         the client.
 * @param subject     the subject.
 * @param version     the version (>= 1), or -1 for the latest.
 * @param permanent   0 for a soft delete, non-zero for a permanent one.
 * @param deletedp    receives the deleted version number (may be NULL).
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_REGISTRY_SUBJECT_NOT_FOUND,
 *          ::VTEV_ERR_REGISTRY_VERSION_NOT_FOUND or another registry error.
 * @remark Clears this client's subject caches. Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_registry_delete_version(vtev_registry_t *reg, const char *subject,
                                                    int version, int permanent, int *deletedp,
                                                    char *errstr, size_t errstr_size);

/**
 * @brief Deletes @p subject (soft or, after a soft delete, permanent).
 * @param reg         the client.
 * @param subject     the subject.
 * @param permanent   0 for a soft delete, non-zero for a permanent one.
 * @param versionsp   receives the deleted versions, freed with vtev_free()
 *                    (may be NULL).
 * @param cntp        receives their number (may be NULL).
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_REGISTRY_SUBJECT_NOT_FOUND or another
 *          registry error.
 * @remark Clears this client's subject caches. Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_registry_delete_subject(vtev_registry_t *reg, const char *subject,
                                                    int permanent, int **versionsp,
                                                    size_t *cntp, char *errstr,
                                                    size_t errstr_size);

/** @} */

/**
 * @name Compatibility
 * @{
 */

/**
 * @brief Tests whether @p schema_json is compatible with a version of
 *        @p subject under the subject's compatibility level.
 * @param reg          the client.
 * @param subject      the subject.
 * @param schema_json  the candidate schema.
 * @param version      the version to test against (>= 1), or -1 for latest.
 * @param compatiblep  receives 1 when compatible, 0 when not.
 * @param errstr       on ::VTEV_ERR_OK with *compatiblep == 0: the reason
 *                     when the registry gives one (else empty); on failure:
 *                     the error (may be NULL).
 * @param errstr_size  size of @p errstr.
 * @returns ::VTEV_ERR_OK (the answer is in *compatiblep),
 *          ::VTEV_ERR_REGISTRY_SUBJECT_NOT_FOUND,
 *          ::VTEV_ERR_REGISTRY_VERSION_NOT_FOUND,
 *          ::VTEV_ERR_REGISTRY_INVALID_SCHEMA or another registry error.
 * @remark Never cached. Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_registry_test_compatibility(vtev_registry_t *reg,
                                                        const char *subject,
                                                        const char *schema_json, int version,
                                                        int *compatiblep, char *errstr,
                                                        size_t errstr_size);

/**
 * @brief Reads the compatibility level of @p subject, or the global one.
 * @param reg         the client.
 * @param subject     the subject, or NULL for the global level. A subject
 *                    without its own level reports the global level.
 * @param levelp      receives the level.
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK or a registry error.
 * @remark Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_registry_get_compatibility(vtev_registry_t *reg,
                                                       const char *subject,
                                                       vtev_compat_level_t *levelp,
                                                       char *errstr, size_t errstr_size);

/**
 * @brief Sets the compatibility level of @p subject, or the global one.
 * @param reg         the client.
 * @param subject     the subject, or NULL for the global level.
 * @param level       the new level.
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_INVALID_ARG (bad level) or a registry error.
 * @remark Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_registry_set_compatibility(vtev_registry_t *reg,
                                                       const char *subject,
                                                       vtev_compat_level_t level,
                                                       char *errstr, size_t errstr_size);

/**
 * @brief The name of @p level as the registry spells it ("BACKWARD", ...).
 * @param level the level.
 * @returns a static string (never freed), or "UNKNOWN" for an invalid value.
 * @remark Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT const char *vtev_compat_level_name(vtev_compat_level_t level);

/**
 * @brief Parses a level name ("BACKWARD", "full_transitive", ...; case-insensitive).
 * @param name   the name.
 * @param levelp receives the level.
 * @returns ::VTEV_ERR_OK or ::VTEV_ERR_INVALID_ARG.
 * @remark Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_compat_level_parse(const char *name, vtev_compat_level_t *levelp);

/** @} */

/**
 * @name Statistics and caches
 * @{
 */

/**
 * @brief Counters of this client since it was created. Any pointer may be NULL.
 * @param reg           the client.
 * @param requestsp     requests sent (HTTP requests including retries and
 *                      failover attempts; for `mock://`, operations performed
 *                      against the in-process registry).
 * @param cache_hitsp   calls answered from a cache without a request.
 * @param cache_missesp calls that had to make a request.
 * @param retriesp      requests that were retries or failovers after a
 *                      transport error, 429 or 5xx.
 * @remark Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT void vtev_registry_stats(const vtev_registry_t *reg, uint64_t *requestsp,
                                     uint64_t *cache_hitsp, uint64_t *cache_missesp,
                                     uint64_t *retriesp);

/**
 * @brief Empties every cache of this client (the next calls make requests).
 * @param reg the client.
 * @remark Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT void vtev_registry_clear_caches(vtev_registry_t *reg);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* VTEVENTS_REGISTRY_H */
