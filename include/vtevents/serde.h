/**
 * @file serde.h
 * @brief Event <-> framed bytes: Avro encoding with the Confluent wire
 *        format (magic byte 0 + 4-byte big-endian schema id), using the
 *        schema registry for schema ids and writer schemas.
 *
 * A ::vtev_serde_t owns a registry client (created from its configuration:
 * `schema.registry.url`, `subject.name.strategy`, `auto.register.schemas`,
 * `use.latest.version`, ...) and a bounded cache of parsed writer schemas by
 * id.  After warm-up (one registry lookup per schema id and per
 * topic/event type) no registry call is made per message.
 *
 * @remark Thread safety: a ::vtev_serde_t is thread-safe: any number of
 *         threads may serialize and deserialize with the same handle at
 *         once.  vtev_serde_destroy() must not race with any other call on
 *         the handle.
 */
#ifndef VTEVENTS_SERDE_H
#define VTEVENTS_SERDE_H

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

/** @brief Opaque serializer/deserializer handle. */
typedef struct vtev_serde_s vtev_serde_t;

/**
 * @brief Creates a serde and its registry client from @p conf.
 * @param conf        the configuration; the serde takes ownership of it on
 *                    success only (on failure the caller still owns it).
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns the handle (destroy with vtev_serde_destroy()), or NULL on
 *          failure (bad registry configuration, out of memory).
 * @remark Thread safety: may be called from any thread.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_serde_t *vtev_serde_new(vtev_conf_t *conf, char *errstr,
                                         size_t errstr_size);

/**
 * @brief Destroys @p serde, its registry client, caches and configuration.
 *        NULL is ignored.
 * @param serde the handle, or NULL.
 * @remark Thread safety: any thread, but it must not run concurrently with
 *         other calls on the same handle, and none may follow.
 * @since 0.1.0
 */
VTEV_EXPORT void vtev_serde_destroy(vtev_serde_t *serde);

/**
 * @brief Encodes @p ev in Avro and frames it with the schema id of its event
 *        type's compiled-in schema under the subject for @p topic (per
 *        `subject.name.strategy`), registering the schema when
 *        `auto.register.schemas` says so (or using the subject's latest
 *        version with `use.latest.version`).
 *
 * The event is NOT validated here (call vtev_event_validate() first).
 *
 * @param serde       the handle.
 * @param topic       the topic the bytes are for (names the subject).
 * @param ev          the event (borrowed for the call).
 * @param bufp        receives the framed bytes; the caller frees them with
 *                    vtev_free() (malloc'd, so librdkafka may take them with
 *                    RD_KAFKA_MSG_F_FREE).
 * @param lenp        receives the length of *@p bufp.
 * @param schema_idp  receives the schema id used (may be NULL).
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_INVALID_ARG, ::VTEV_ERR_ENCODE,
 *          ::VTEV_ERR_NOMEM, or a registry error
 *          (::VTEV_ERR_REGISTRY_UNAVAILABLE is transient; the others, e.g.
 *          ::VTEV_ERR_REGISTRY_INCOMPATIBLE, are not).
 * @remark Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_serde_serialize(vtev_serde_t *serde, const char *topic,
                                            const vtev_event_t *ev, void **bufp,
                                            size_t *lenp, int32_t *schema_idp,
                                            char *errstr, size_t errstr_size);

/**
 * @brief Unframes @p buf, finds the writer schema by its id (cache, else the
 *        registry) and decodes the Avro payload resolved into the reader
 *        (compiled-in) schema of @p expected.
 *
 * @param serde       the handle.
 * @param topic       the topic the bytes came from (for messages; may be NULL).
 * @param expected    the event type to decode into, or ::VTEV_EVENT_NONE to
 *                    decide from the writer schema's full name.
 * @param buf         the framed bytes (borrowed for the call).
 * @param len         their length.
 * @param ev          initialised by the call; on success the caller clears it
 *                    with vtev_event_clear(); on failure it holds nothing.
 * @param schema_idp  receives the schema id from the frame when the frame
 *                    header was readable (may be NULL).
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK; ::VTEV_ERR_SHORT_BUFFER, ::VTEV_ERR_BAD_MAGIC (not
 *          framed); ::VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND (unknown schema id:
 *          permanent unless a registry replica lags); registry errors for
 *          which vtev_err_is_retriable() is true, e.g.
 *          ::VTEV_ERR_REGISTRY_UNAVAILABLE or ::VTEV_ERR_REGISTRY_AUTH
 *          (transient: retry later); ::VTEV_ERR_DECODE (bytes do not match the writer schema);
 *          ::VTEV_ERR_SCHEMA_MISMATCH (writer schema not resolvable into the
 *          reader schema, or not one of the three event schemas).
 * @remark Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_serde_deserialize(vtev_serde_t *serde, const char *topic,
                                              vtev_event_type_t expected,
                                              const void *buf, size_t len,
                                              vtev_event_t *ev, int32_t *schema_idp,
                                              char *errstr, size_t errstr_size);

/**
 * @name Generated types (vt-codegen, see doc/codegen.md)
 * @{
 */
/**
 * @brief Encodes @p ev, an event of the generated type @p type, with the
 *        type's direct encoder, framed with the schema id of the type's
 *        schema under the subject for @p topic (per `subject.name.strategy`;
 *        registered per `auto.register.schemas`, or the subject's latest
 *        version with `use.latest.version`; cached per (topic, type) after
 *        the first call).
 *
 * The event is NOT validated here (call type->validate() first).
 *
 * @param serde       the handle.
 * @param topic       the topic the bytes are for (names the subject).
 * @param type        the type's descriptor (e.g. `&vtev_vessel_position_updated_type`).
 * @param ev          the event, a pointer to the type's struct (borrowed).
 * @param out         receives the framed bytes (its contents are replaced;
 *                    its memory is reused; free it with vtev_buf_free()).
 * @param schema_idp  receives the schema id used (may be NULL).
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_INVALID_ARG (also a descriptor of
 *          another ::VTEV_TYPE_ABI_VERSION), ::VTEV_ERR_ENCODE,
 *          ::VTEV_ERR_NOMEM, or a registry error.  On failure out->len is 0.
 * @remark Thread-safe (each thread with its own @p out).
 * @since 0.2.0
 */
VTEV_EXPORT vtev_err_t vtev_serde_serialize_type(vtev_serde_t *serde, const char *topic,
                                                 const vtev_type_t *type, const void *ev,
                                                 vtev_buf_t *out, int32_t *schema_idp,
                                                 char *errstr, size_t errstr_size);

/**
 * @brief Unframes @p buf, finds the writer schema by its id (cache, else
 *        the registry) and decodes the payload into @p ev, an event of the
 *        generated type @p type.
 *
 * Two paths, chosen once per (schema id, type) and cached:
 * - the **fast path** when the writer schema is the type's own schema
 *   (equal fingerprints of the Parsing Canonical Form, or the same binary
 *   layout): the generated decoder reads the bytes directly;
 * - the **resolving path** for every other writer schema: Avro's schema
 *   resolution (enums by symbol with the reader's enum default, reader
 *   defaults filled, unknown writer fields skipped, int→long→float→double and
 *   string↔bytes promoted, unions and aliases) turns the writer's bytes into
 *   the type's, which the generated decoder then reads.
 *
 * The event is NOT validated here (call type->validate()).
 *
 * @param serde       the handle.
 * @param topic       the topic the bytes came from (for messages; may be NULL).
 * @param type        the type to decode into.
 * @param buf         the framed bytes (borrowed for the call).
 * @param len         their length.
 * @param ev          a struct of @p type (type->size bytes): zeroed, then
 *                    filled; on success the caller frees it with
 *                    type->clear(); on failure it holds nothing.
 * @param schema_idp  receives the schema id from the frame (may be NULL).
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK; ::VTEV_ERR_SHORT_BUFFER, ::VTEV_ERR_BAD_MAGIC (not
 *          framed); ::VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND; registry errors
 *          for which vtev_err_is_retriable() is true (transient);
 *          ::VTEV_ERR_SCHEMA_MISMATCH (the writer schema cannot be read as
 *          @p type: the message names the field); ::VTEV_ERR_DECODE (the
 *          bytes do not match the writer schema, or carry an enum symbol or
 *          union branch the type cannot take); ::VTEV_ERR_LIMIT (`avro.max.*`);
 *          ::VTEV_ERR_NOMEM; ::VTEV_ERR_INVALID_ARG.
 * @remark Thread-safe.
 * @since 0.2.0
 */
VTEV_EXPORT vtev_err_t vtev_serde_deserialize_type(vtev_serde_t *serde, const char *topic,
                                                   const vtev_type_t *type, const void *buf,
                                                   size_t len, void *ev, int32_t *schema_idp,
                                                   char *errstr, size_t errstr_size);
/** @} */

#ifdef __cplusplus
}
#endif

#endif /* VTEVENTS_SERDE_H */
