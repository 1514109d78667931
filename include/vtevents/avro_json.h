/**
 * @file avro_json.h
 * @brief The JSON form of any Avro schema: JSON text <-> Avro binary,
 *        driven by the schema alone (no generated code, no avro-c values).
 *
 * A ::vtev_avro_json_t is built from one schema's JSON text.  It turns a
 * JSON document into the Avro binary encoding of the schema and Avro binary
 * back into JSON, in the JSON form that the code `vt-codegen` generates
 * reads and writes (doc/codegen.md, section 2): optionals `["null", T]` as
 * the plain value or `null`, other unions as `{"type": value}` (unions of
 * scalars as the bare value), enums as their symbol, bytes and fixed as
 * base64, `date` as `"YYYY-MM-DD"`, `timestamp-millis` and
 * `timestamp-micros` as ISO-8601 UTC text, `decimal` as a decimal string,
 * doubles in their shortest exact form.  For a schema that `vt-codegen`
 * accepts the text is byte for byte the generated `to_json()` text and the
 * bytes are those of the generated encoder.
 *
 * Beyond what the generator accepts, any valid Avro schema works: the top
 * level may be any type, recursive types are followed up to
 * `avro.max.depth`, and a logical type the JSON form does not define (or one
 * with invalid attributes) is read as its underlying type, as the Avro
 * specification says.  The schema's `vt.*` constraints (doc/codegen.md,
 * section 4) are checked when JSON is converted, with the generated
 * `validate()`'s messages.
 *
 * This is what `vt-publish --schema` and `vt-tail -t` use for events of
 * schemas other than the platform's three.
 *
 * @remark Thread safety: a ::vtev_avro_json_t is immutable once created: any
 *         number of threads may convert with the same handle at once.
 *         vtev_avro_json_destroy() must not race with any other call on it.
 */
#ifndef VTEVENTS_AVRO_JSON_H
#define VTEVENTS_AVRO_JSON_H

#include <stddef.h>
#include <vtevents/export.h>
#include <vtevents/error.h>
#include <vtevents/conf.h>
#include <vtevents/type.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Opaque converter between the JSON form and Avro binary of one schema. @since 0.2.0 */
typedef struct vtev_avro_json_s vtev_avro_json_t;

/**
 * @name Flags
 * @{
 */
/** @brief vtev_avro_json_from_avro(): indent with two spaces, one member per
 *  line (as ::VTEV_TYPE_JSON_PRETTY). @since 0.2.0 */
#define VTEV_AVRO_JSON_PRETTY 0x1
/** @brief vtev_avro_json_to_avro(): skip the `vt.*` constraints and the UUID
 *  check of `uuid` strings (the types are still checked), as the generated
 *  `from_json()` does without `validate()`. @since 0.2.0 */
#define VTEV_AVRO_JSON_NO_CONSTRAINTS 0x2
/** @} */

/**
 * @name Create and destroy
 * @{
 */

/**
 * @brief Builds a converter for the Avro schema @p schema_json.
 *
 * The schema is checked as the registry and the library check schemas, and
 * more: every field default must be a value of its type (a union's default
 * one of its first branch), union branches must be distinct, and `vt.*`
 * attributes must be the constraints of doc/codegen.md applied to types they
 * fit.
 *
 * @param schema_json the schema (Avro JSON, NUL-terminated); borrowed for the call.
 * @param conf        where `avro.max.depth`, `avro.max.values`,
 *                    `avro.max.bytes` and `avro.max.schema.types` are read
 *                    (doc/CONFIGURATION.md); borrowed for the call; NULL for
 *                    the defaults.
 * @param errstr      receives the reason on failure, naming the place in the
 *                    schema (e.g. `"data.lat: constraint vt.min: expected a
 *                    number"`); may be NULL.
 * @param errstr_size size of @p errstr.
 * @returns the converter (destroy with vtev_avro_json_destroy()), or NULL
 *          when the schema is not valid, over a limit, or memory ran out.
 * @remark Thread safety: may be called from any thread.
 * @since 0.2.0
 */
VTEV_EXPORT vtev_avro_json_t *vtev_avro_json_new(const char *schema_json, const vtev_conf_t *conf,
                                                 char *errstr, size_t errstr_size);

/**
 * @brief Frees the converter.  NULL is ignored.
 * @param codec the converter, or NULL.
 * @remark Any thread, but not concurrently with other calls on @p codec.
 * @since 0.2.0
 */
VTEV_EXPORT void vtev_avro_json_destroy(vtev_avro_json_t *codec);
/** @} */

/**
 * @name Convert
 * @{
 */

/**
 * @brief Converts one JSON document into the Avro binary encoding (no framing).
 *
 * As the generated `from_json()` reads: a record's members may come in any
 * order, unknown members are refused, and an absent member takes the field's
 * default, `null` for an optional, a fresh random UUID for a `uuid` string,
 * the current time for a field marked `"vt.default": "now"`; any other
 * absent member is an error.  Then the constraints are checked (unless
 * ::VTEV_AVRO_JSON_NO_CONSTRAINTS).
 *
 * @param codec       the converter.
 * @param json        the JSON text (need not be NUL-terminated); borrowed.
 * @param len         its length in bytes.
 * @param flags       0 or ::VTEV_AVRO_JSON_NO_CONSTRAINTS.
 * @param out         the bytes are appended here (vtev_buf_t starts as `{0}`;
 *                    the caller frees it with vtev_buf_free()); on failure
 *                    its length is what it was.
 * @param errstr      receives `"field.path: reason"` on failure, e.g.
 *                    `"data.lat: expected a number, got a string"`, or
 *                    `"line 1, column 9: ..."` for text that is not JSON;
 *                    may be NULL.
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK; ::VTEV_ERR_PARSE (not JSON, or not a value of the
 *          schema: a wrong type, an unknown or missing field, an int out of
 *          range, bad base64, date, time or decimal text, a symbol that is
 *          not the enum's); ::VTEV_ERR_INVALID (a constraint, or a UUID that
 *          is not one); ::VTEV_ERR_LIMIT (nesting deeper than
 *          `avro.max.depth`); ::VTEV_ERR_INVALID_ARG; ::VTEV_ERR_NOMEM;
 *          ::VTEV_ERR_IO (no randomness for a UUID).
 * @remark Thread-safe.
 * @since 0.2.0
 */
VTEV_EXPORT vtev_err_t vtev_avro_json_to_avro(const vtev_avro_json_t *codec, const char *json,
                                              size_t len, int flags, vtev_buf_t *out, char *errstr,
                                              size_t errstr_size);

/**
 * @brief Converts Avro binary data (one datum of the schema, no framing)
 *        into its JSON form.
 *
 * Safe on hostile input: every length and count is checked against the bytes
 * that remain, nesting is limited by `avro.max.depth`, the values of one
 * datum by `avro.max.values` and its size by `avro.max.bytes`; trailing bytes
 * are refused.  Strings that are not UTF-8 are written with U+FFFD in place
 * of the bad bytes.  Constraints are not checked.
 *
 * @param codec       the converter.
 * @param avro        the bytes; borrowed.
 * @param len         their number.
 * @param flags       0 or ::VTEV_AVRO_JSON_PRETTY.
 * @param jsonp       receives the NUL-terminated text on success; the caller
 *                    frees it with vtev_free().
 * @param lenp        receives its length (may be NULL).
 * @param errstr      receives `"field.path: reason"` on failure, e.g.
 *                    `"data.lat: the input ends inside the value"`; may be NULL.
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK; ::VTEV_ERR_DECODE (bytes that are not a datum of
 *          the schema); ::VTEV_ERR_LIMIT; ::VTEV_ERR_INVALID_ARG;
 *          ::VTEV_ERR_NOMEM.
 * @remark Thread-safe.
 * @since 0.2.0
 */
VTEV_EXPORT vtev_err_t vtev_avro_json_from_avro(const vtev_avro_json_t *codec, const void *avro,
                                                size_t len, int flags, char **jsonp, size_t *lenp,
                                                char *errstr, size_t errstr_size);
/** @} */

#ifdef __cplusplus
}
#endif

#endif /* VTEVENTS_AVRO_JSON_H */
