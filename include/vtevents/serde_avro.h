/**
 * @file serde_avro.h
 * @brief The generic Avro path: encode and decode any avro-c value with the
 *        same machinery (framing, schema resolution, per-thread caches) as
 *        the library's own events.
 *
 * This header includes `<avro.h>` and is therefore not part of the umbrella
 * `<vtevents/vtevents.h>`; include it explicitly.
 *
 * @remark Thread safety: every function here may be called concurrently from
 *         any number of threads, also with the same schemas.  Each thread
 *         keeps its own cache of resolvers and buffers (freed when the thread
 *         exits).  An avro_value_t is not thread-safe: do not share one
 *         between threads without locking.
 */
#ifndef VTEVENTS_SERDE_AVRO_H
#define VTEVENTS_SERDE_AVRO_H

#include <avro.h>
#include <stddef.h>
#include <stdint.h>
#include <vtevents/error.h>
#include <vtevents/event.h>
#include <vtevents/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief The avro-c schema inside @p schema.
 * @param schema a schema from vtev_schema_new() or vtev_event_schema().
 * @returns a borrowed reference, valid while @p schema lives (call
 *          avro_schema_incref() to keep it longer); NULL for NULL.
 * @remark Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT avro_schema_t vtev_schema_avro(const vtev_schema_t *schema);

/**
 * @brief Create an empty avro-c generic value of @p schema, suitable as the
 *        output of vtev_avro_decode() or the input of vtev_avro_encode().
 * @param schema the schema.
 * @param value receives the value; the caller releases it with
 *        avro_value_decref().
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_INVALID_ARG, ::VTEV_ERR_NOMEM.
 * @remark Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_avro_value_new(const vtev_schema_t *schema, avro_value_t *value);

/**
 * @brief Avro-encode @p value (binary encoding of its own schema).
 * @param value any avro-c value (generic or custom implementation).
 * @param schema_id with a value >= 0 the output is framed in the Confluent
 *        wire format (::VTEV_FRAME_HEADER_SIZE bytes of header, then Avro);
 *        a negative value gives plain Avro.
 * @param bufp receives a malloc'd buffer the caller frees with vtev_free().
 * @param lenp receives its length.
 * @param errstr receives the reason on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_INVALID_ARG, ::VTEV_ERR_ENCODE or ::VTEV_ERR_NOMEM.
 * @remark Thread-safe; uses a per-thread scratch buffer.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_avro_encode(avro_value_t *value, int32_t schema_id, void **bufp,
                                        size_t *lenp, char *errstr, size_t errstr_size);

/**
 * @brief Decode plain Avro bytes written with @p writer into @p out, an
 *        instance of @p reader, applying Avro's schema-resolution rules
 *        (fields added in the reader get their defaults, fields removed are
 *        skipped, promotions int->long->float->double, union and enum
 *        resolution).
 * @param reader the schema @p out is an instance of.
 * @param writer the schema the bytes were written with; NULL means @p reader.
 * @param avro the Avro bytes (unframed; see vtev_avro_decode_framed()).
 * @param len their length; trailing bytes after the value are an error.
 * @param out a value created with vtev_avro_value_new(@p reader) (or any
 *        avro-c generic value of that schema); it is reset first.
 * @param errstr receives the reason on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_INVALID_ARG, ::VTEV_ERR_DECODE (bad bytes),
 *          ::VTEV_ERR_SCHEMA_MISMATCH (the schemas cannot be resolved),
 *          ::VTEV_ERR_NOMEM.
 * @remark Thread-safe.  The resolver for a (writer, reader) pair is built on
 *         the first call in each thread and cached (32 pairs per thread).
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_avro_decode(const vtev_schema_t *reader, const vtev_schema_t *writer,
                                        const void *avro, size_t len, avro_value_t *out,
                                        char *errstr, size_t errstr_size);

/**
 * @brief Like vtev_avro_decode() for a framed payload (Confluent wire format).
 * @param reader the schema @p out is an instance of.
 * @param writer the schema the payload was written with; NULL means @p reader.
 * @param buf the framed bytes (borrowed for the call).
 * @param len their length.
 * @param schema_idp receives the schema id of the frame (may be NULL); the
 *        caller is responsible for @p writer being that schema.
 * @param out a value of @p reader, as for vtev_avro_decode(); it is reset first.
 * @param errstr receives the reason on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns as vtev_avro_decode(), plus ::VTEV_ERR_SHORT_BUFFER and ::VTEV_ERR_BAD_MAGIC.
 * @remark Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_avro_decode_framed(const vtev_schema_t *reader,
                                               const vtev_schema_t *writer, const void *buf,
                                               size_t len, int32_t *schema_idp, avro_value_t *out,
                                               char *errstr, size_t errstr_size);

#ifdef __cplusplus
}
#endif

#endif /* VTEVENTS_SERDE_AVRO_H */
