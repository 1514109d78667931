/**
 * @file type.h
 * @brief Event type descriptors: what `vt-codegen` generates for each record
 *        schema, and the output buffer its encoders append to.
 *
 * Every schema given to `vt-codegen` yields a C struct, functions over it and
 * one constant ::vtev_type_t that names them, so that code which does not know
 * the struct (producer, consumer, serde, tools) can work on any generated type
 * through the descriptor.  See doc/codegen.md.
 *
 * @remark Thread safety: descriptors are immutable constants and may be used
 *         from any thread.  The functions they point to are reentrant; an
 *         event is plain data without locking (functions taking a const event
 *         may run concurrently on the same event).  A ::vtev_buf_t must not be
 *         shared between threads without external locking.
 */
#ifndef VTEVENTS_TYPE_H
#define VTEVENTS_TYPE_H

#include <stddef.h>
#include <stdint.h>
#include <vtevents/export.h>
#include <vtevents/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Version of the ::vtev_type_t layout; in vtev_type_t::abi_version. @since 0.2.0 */
#define VTEV_TYPE_ABI_VERSION 1

/** @brief to_json() flag: indent with two spaces, one member per line. @since 0.2.0 */
#define VTEV_TYPE_JSON_PRETTY 0x1

/** @brief A byte string (Avro `bytes`, `decimal` on bytes). @since 0.2.0 */
typedef struct vtev_bytes_s {
    unsigned char *data; /**< Owned by the event; NULL when @c len is 0. */
    size_t len;          /**< Number of bytes. */
} vtev_bytes_t;

/**
 * @brief A growable byte buffer that encoders append to.
 *
 * Start from `{0}` (or reuse one: set @c len to 0 to keep the memory).  The
 * memory is owned by the buffer and freed with vtev_buf_free().
 * @since 0.2.0
 */
typedef struct vtev_buf_s {
    unsigned char *data; /**< The bytes (NULL while nothing was allocated). */
    size_t len;          /**< Bytes in use. */
    size_t cap;          /**< Bytes allocated. */
} vtev_buf_t;

/**
 * @brief Make room for at least @p extra more bytes after @c len.
 * @param buf The buffer (not NULL); its memory stays owned by the buffer.
 * @param extra Bytes needed beyond @c buf->len.
 * @returns 0, or -1 when memory is exhausted (or the size overflows); the
 *          buffer is unchanged then.
 * @remark Not thread-safe on the same buffer.
 * @since 0.2.0
 */
VTEV_EXPORT int vtev_buf_reserve(vtev_buf_t *buf, size_t extra);

/**
 * @brief Free the buffer's memory and reset it to `{0}`. Accepts NULL.
 * @param buf The buffer, or NULL.  The struct itself is the caller's (it is
 *            not freed) and may be used again.
 * @remark Not thread-safe on the same buffer; any thread.
 * @since 0.2.0
 */
VTEV_EXPORT void vtev_buf_free(vtev_buf_t *buf);

/**
 * @brief Descriptor of a generated event type (one per top-level record).
 *
 * Generated as `const vtev_type_t PREFIX_NAME_type`.  The pointers are never
 * NULL.  `void *` arguments are pointers to the generated struct.
 * @since 0.2.0
 */
typedef struct vtev_type_s {
    int abi_version;             /**< ::VTEV_TYPE_ABI_VERSION of the generator. */
    const char *name;            /**< The record's name, e.g. "VesselPositionUpdated". */
    const char *full_name;       /**< With its namespace, e.g. "com.vesseltrack.events.VesselPositionUpdated". */
    const char *schema_json;     /**< The schema as written (compact JSON: docs, defaults and vt.* attributes kept). */
    const char *canonical_json;  /**< The Avro Parsing Canonical Form of the schema. */
    uint64_t fingerprint;        /**< CRC-64-AVRO (Rabin) fingerprint of @c canonical_json. */
    size_t size;                 /**< sizeof the generated struct. */

    /** Initialise @p ev (any contents overwritten): schema defaults, a fresh
     *  UUID in each `uuid` field, the current time in a field marked
     *  `"vt.default": "now"`.  @returns ::VTEV_ERR_OK, ::VTEV_ERR_NOMEM or
     *  ::VTEV_ERR_IO (no randomness); @p ev is then zeroed. */
    vtev_err_t (*init)(void *ev);
    /** Free what @p ev owns and zero it.  Accepts NULL and zeroed events. */
    void (*clear)(void *ev);
    /** Deep copy: @p dst (contents overwritten, not freed) becomes a copy of
     *  @p src.  @returns ::VTEV_ERR_OK or ::VTEV_ERR_NOMEM (@p dst zeroed). */
    vtev_err_t (*copy)(void *dst, const void *src);
    /** Check the schema's constraints.  @returns ::VTEV_ERR_OK,
     *  ::VTEV_ERR_INVALID (errstr: "field.path: value and rule") or
     *  ::VTEV_ERR_INVALID_ARG (NULL event). */
    vtev_err_t (*validate)(const void *ev, char *errstr, size_t errstr_size);
    /** The JSON form (doc/codegen.md) in a NUL-terminated string the caller
     *  frees with free(); @p lenp (may be NULL) gets its length.  @p flags:
     *  ::VTEV_TYPE_JSON_PRETTY.  @returns ::VTEV_ERR_OK, ::VTEV_ERR_NOMEM or
     *  ::VTEV_ERR_INVALID_ARG (NULL argument, enum or union tag out of range). */
    vtev_err_t (*to_json)(const void *ev, int flags, char **jsonp, size_t *lenp);
    /** Parse the JSON form into @p ev (contents overwritten; absent fields take
     *  their init value).  @returns ::VTEV_ERR_OK or ::VTEV_ERR_PARSE (errstr
     *  names the field; @p ev zeroed), ::VTEV_ERR_NOMEM. */
    vtev_err_t (*from_json)(void *ev, const char *json, size_t len, char *errstr,
                            size_t errstr_size);
    /** Append the Avro binary encoding of @p ev to @p out (no framing).
     *  @returns ::VTEV_ERR_OK, ::VTEV_ERR_NOMEM (@p out's length unchanged) or
     *  ::VTEV_ERR_ENCODE (enum or union tag out of range; errstr names it). */
    vtev_err_t (*encode)(const void *ev, vtev_buf_t *out, char *errstr, size_t errstr_size);
    /** Decode exactly @p len bytes written with this schema into @p ev
     *  (contents overwritten).  Safe on hostile input.  @returns ::VTEV_ERR_OK,
     *  ::VTEV_ERR_DECODE (errstr names the field; @p ev zeroed) or
     *  ::VTEV_ERR_NOMEM. */
    vtev_err_t (*decode)(void *ev, const void *data, size_t len, char *errstr,
                         size_t errstr_size);
    /** Name of the top-level string field marked `"vt.key": true` (the
     *  Kafka message key of a typed publish), or NULL when the schema has
     *  none. */
    const char *key_field;
    /** The message key of @p ev: the @c key_field's value (borrowed from
     *  @p ev, "" for a NULL string) and its length in *@p lenp; NULL with
     *  *@p lenp = 0 when the type has no key field. */
    const char *(*key)(const void *ev, size_t *lenp);
} vtev_type_t;

#ifdef __cplusplus
}
#endif

#endif /* VTEVENTS_TYPE_H */
