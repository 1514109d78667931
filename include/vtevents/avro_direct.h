/**
 * @file avro_direct.h
 * @brief Runtime support for the code that `vt-codegen` generates: Avro
 *        binary primitives, JSON output and the text forms of logical types.
 *
 * Generated `.c` files include this header; applications normally do not
 * need it.  It includes `<jansson.h>` (the generated JSON parsers use jansson),
 * so it is not part of the umbrella header.  The inline readers never read
 * past @c end and never allocate; lengths are checked against the bytes that
 * remain.  See doc/codegen.md.
 *
 * @remark Thread safety: every function is reentrant; a writer or reader
 *         object must not be shared between threads.
 */
#ifndef VTEVENTS_AVRO_DIRECT_H
#define VTEVENTS_AVRO_DIRECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <jansson.h>
#include <vtevents/export.h>
#include <vtevents/error.h>
#include <vtevents/type.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Maximum nesting of records, arrays, maps and unions a decoder follows. @since 0.2.0 */
#define VTEV_RT_MAX_DEPTH 64

/** @brief Longest text of a UUID, without the NUL. @since 0.2.0 */
#define VTEV_RT_UUID_LEN 36


/* ------------------------------------------------------------------------ */
/** @name Avro binary writing (inline; append to a vtev_buf_t)
 * Each returns 0, or -1 when memory is exhausted.
 * @{ */

/** @brief Append @p n bytes. @param b Buffer. @param p Bytes. @param n Count. @returns 0 or -1. @since 0.2.0 */
static inline int vtev_rt_put_raw(vtev_buf_t *b, const void *p, size_t n) {
    if (b->cap - b->len < n && vtev_buf_reserve(b, n) != 0)
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

/** @brief Append a zig-zag varint (Avro int and long). @param b Buffer. @param v Value. @returns 0 or -1. @since 0.2.0 */
static inline int vtev_rt_put_long(vtev_buf_t *b, int64_t v) {
    uint64_t u = (uint64_t)v, n = (u << 1) ^ (0 - (u >> 63));
    unsigned char *p;
    if (b->cap - b->len < 10 && vtev_buf_reserve(b, 10) != 0)
        return -1;
    p = b->data + b->len;
    while (n > 0x7f) {
        *p++ = (unsigned char)(n | 0x80);
        n >>= 7;
    }
    *p++ = (unsigned char)n;
    b->len = (size_t)(p - b->data);
    return 0;
}

/** @brief Append a boolean (one byte 0 or 1). @param b Buffer. @param v Value. @returns 0 or -1. @since 0.2.0 */
static inline int vtev_rt_put_bool(vtev_buf_t *b, bool v) {
    unsigned char c = v ? 1 : 0;
    return vtev_rt_put_raw(b, &c, 1);
}

/** @brief Append a float (4 bytes little-endian). @param b Buffer. @param v Value. @returns 0 or -1. @since 0.2.0 */
static inline int vtev_rt_put_float(vtev_buf_t *b, float v) {
    uint32_t u;
    unsigned char c[4];
    memcpy(&u, &v, 4);
    c[0] = (unsigned char)u;
    c[1] = (unsigned char)(u >> 8);
    c[2] = (unsigned char)(u >> 16);
    c[3] = (unsigned char)(u >> 24);
    return vtev_rt_put_raw(b, c, 4);
}

/** @brief Append a double (8 bytes little-endian). @param b Buffer. @param v Value. @returns 0 or -1. @since 0.2.0 */
static inline int vtev_rt_put_double(vtev_buf_t *b, double v) {
    uint64_t u;
    unsigned char c[8];
    int i;
    memcpy(&u, &v, 8);
    for (i = 0; i < 8; i++)
        c[i] = (unsigned char)(u >> (8 * i));
    return vtev_rt_put_raw(b, c, 8);
}

/** @brief Append a length-prefixed byte string. @param b Buffer. @param p Bytes (may be NULL when @p n is 0). @param n Length. @returns 0 or -1. @since 0.2.0 */
static inline int vtev_rt_put_bytes(vtev_buf_t *b, const void *p, size_t n) {
    if (vtev_rt_put_long(b, (int64_t)n) != 0)
        return -1;
    return vtev_rt_put_raw(b, p, n);
}

/** @brief Append a string (NULL is the empty string). @param b Buffer. @param s NUL-terminated text or NULL. @returns 0 or -1. @since 0.2.0 */
static inline int vtev_rt_put_str(vtev_buf_t *b, const char *s) {
    return vtev_rt_put_bytes(b, s, s ? strlen(s) : 0);
}
/** @} */

/* ------------------------------------------------------------------------ */
/** @name Avro binary reading (inline)
 * Each returns 0, or a nonzero ::vtev_rt_rd_status_t (also kept in @c status).
 * @{ */

/** @brief Why a read failed. @since 0.2.0 */
typedef enum vtev_rt_rd_status_e {
    VTEV_RT_RD_OK = 0,       /**< No failure. */
    VTEV_RT_RD_TRUNCATED,    /**< The input ends inside the value. */
    VTEV_RT_RD_VARINT,       /**< A varint longer than 10 bytes or out of range. */
    VTEV_RT_RD_LENGTH,       /**< A negative length, or longer than the rest of the input. */
    VTEV_RT_RD_BOOL,         /**< A boolean byte other than 0 and 1. */
    VTEV_RT_RD_DEPTH,        /**< Nesting deeper than ::VTEV_RT_MAX_DEPTH. */
    VTEV_RT_RD_NUL,          /**< A string holds a NUL byte. */
    VTEV_RT_RD_NOMEM         /**< Memory exhausted. */
} vtev_rt_rd_status_t;

/** @brief A reader over a borrowed byte range. @since 0.2.0 */
typedef struct vtev_rt_rd_s {
    const unsigned char *p;   /**< Next byte. */
    const unsigned char *end; /**< One past the last byte. */
    int depth;                /**< Current nesting. */
    int status;               /**< The last failure (::vtev_rt_rd_status_t). */
} vtev_rt_rd_t;

/** @brief Record a failure. @param r Reader. @param st Status. @returns @p st. @since 0.2.0 */
static inline int vtev_rt_rd_fail(vtev_rt_rd_t *r, int st) {
    r->status = st;
    return st;
}

/** @brief Bytes left. @param r Reader. @returns The count. @since 0.2.0 */
static inline size_t vtev_rt_rd_left(const vtev_rt_rd_t *r) {
    return (size_t)(r->end - r->p);
}

/** @brief Read a zig-zag varint long. @param r Reader. @param out Value. @returns 0 or a status. @since 0.2.0 */
static inline int vtev_rt_get_long(vtev_rt_rd_t *r, int64_t *out) {
    uint64_t n = 0;
    unsigned shift = 0;
    for (;;) {
        unsigned b;
        if (r->p >= r->end)
            return vtev_rt_rd_fail(r, VTEV_RT_RD_TRUNCATED);
        b = *r->p++;
        if (shift == 63 && (b & 0xfe))
            return vtev_rt_rd_fail(r, VTEV_RT_RD_VARINT);
        n |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
        shift += 7;
    }
    *out = (int64_t)((n >> 1) ^ (0 - (n & 1)));
    return 0;
}

/** @brief Read a zig-zag varint int (must fit 32 bits). @param r Reader. @param out Value. @returns 0 or a status. @since 0.2.0 */
static inline int vtev_rt_get_int(vtev_rt_rd_t *r, int32_t *out) {
    int64_t v;
    int st = vtev_rt_get_long(r, &v);
    if (st)
        return st;
    if (v < INT32_MIN || v > INT32_MAX)
        return vtev_rt_rd_fail(r, VTEV_RT_RD_VARINT);
    *out = (int32_t)v;
    return 0;
}

/** @brief Read a boolean. @param r Reader. @param out Value. @returns 0 or a status. @since 0.2.0 */
static inline int vtev_rt_get_bool(vtev_rt_rd_t *r, bool *out) {
    if (r->p >= r->end)
        return vtev_rt_rd_fail(r, VTEV_RT_RD_TRUNCATED);
    if (*r->p > 1)
        return vtev_rt_rd_fail(r, VTEV_RT_RD_BOOL);
    *out = *r->p++ != 0;
    return 0;
}

/** @brief Read a float. @param r Reader. @param out Value. @returns 0 or a status. @since 0.2.0 */
static inline int vtev_rt_get_float(vtev_rt_rd_t *r, float *out) {
    uint32_t u;
    if (vtev_rt_rd_left(r) < 4)
        return vtev_rt_rd_fail(r, VTEV_RT_RD_TRUNCATED);
    u = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
    memcpy(out, &u, 4);
    r->p += 4;
    return 0;
}

/** @brief Read a double. @param r Reader. @param out Value. @returns 0 or a status. @since 0.2.0 */
static inline int vtev_rt_get_double(vtev_rt_rd_t *r, double *out) {
    uint64_t u = 0;
    int i;
    if (vtev_rt_rd_left(r) < 8)
        return vtev_rt_rd_fail(r, VTEV_RT_RD_TRUNCATED);
    for (i = 7; i >= 0; i--)
        u = u << 8 | r->p[i];
    memcpy(out, &u, 8);
    r->p += 8;
    return 0;
}

/** @brief Read a length prefix (0 <= n <= bytes left). @param r Reader. @param out Length. @returns 0 or a status. @since 0.2.0 */
static inline int vtev_rt_get_len(vtev_rt_rd_t *r, size_t *out) {
    int64_t n;
    int st = vtev_rt_get_long(r, &n);
    if (st)
        return st;
    if (n < 0 || (uint64_t)n > (uint64_t)vtev_rt_rd_left(r))
        return vtev_rt_rd_fail(r, VTEV_RT_RD_LENGTH);
    *out = (size_t)n;
    return 0;
}

/**
 * @brief Read an array or map block header.
 * @param r Reader.
 * @param min_item Fewest bytes one item takes (0 for items that may be empty).
 * @param total Items read so far in earlier blocks (for the overall cap).
 * @param out Items in this block (0: the end).
 * @returns 0 or a status.  The count is refused when it exceeds the bytes
 *          left divided by @p min_item (or 2^20 items in all when @p min_item is 0).
 * @remark Reentrant: any thread; @p r must not be shared between threads.
 * @since 0.2.0
 */
VTEV_EXPORT int vtev_rt_get_block(vtev_rt_rd_t *r, size_t min_item, size_t total, size_t *out);

/**
 * @brief Read a string into a new NUL-terminated allocation.
 * @param r Reader.
 * @param out Receives the string (caller frees it with free()), or NULL for "".
 * @returns 0 or a status (NUL inside the string, truncation, memory).
 * @remark Reentrant: any thread; @p r must not be shared between threads.
 * @since 0.2.0
 */
VTEV_EXPORT int vtev_rt_get_str(vtev_rt_rd_t *r, char **out);

/**
 * @brief Read length-prefixed bytes into a new allocation.
 * @param r Reader.
 * @param out Receives the bytes (caller frees @c data with free(); NULL when empty).
 * @returns 0 or a status.
 * @remark Reentrant: any thread; @p r must not be shared between threads.
 * @since 0.2.0
 */
VTEV_EXPORT int vtev_rt_get_bytes(vtev_rt_rd_t *r, vtev_bytes_t *out);

/**
 * @brief Find two entries of a decoded map with the same key.
 *
 * Avro readers keep one value per key, and the JSON form refuses a key
 * twice, so the generated decoders refuse such a map.
 * @param entries The entries; each one starts with its `char *key` (NULL reads as "").
 * @param n Number of entries.
 * @param stride Size of one entry.
 * @param first Receives the index of the earlier entry of a pair found.
 * @param second Receives the index of the later one.
 * @returns 0 when all keys differ, 1 when a pair was found, -1 when memory
 *          is exhausted.  Linear in @p n (a hash table beyond a few entries).
 * @remark Thread-safe (reentrant; reads only @p entries).
 * @since 0.2.0
 */
VTEV_EXPORT int vtev_rt_map_dup(const void *entries, size_t n, size_t stride, size_t *first, size_t *second);

/** @brief Read @p n raw bytes (Avro fixed). @param r Reader. @param dst Destination. @param n Count. @returns 0 or a status. @since 0.2.0 */
static inline int vtev_rt_get_fixed(vtev_rt_rd_t *r, unsigned char *dst, size_t n) {
    if (vtev_rt_rd_left(r) < n)
        return vtev_rt_rd_fail(r, VTEV_RT_RD_TRUNCATED);
    memcpy(dst, r->p, n);
    r->p += n;
    return 0;
}

/** @brief The text of a read failure. @param status A ::vtev_rt_rd_status_t. @returns A static string. @remark Thread-safe. @since 0.2.0 */
VTEV_EXPORT const char *vtev_rt_rd_strerror(int status);
/** @} */

/* ------------------------------------------------------------------------ */
/** @name Errors and small helpers
 * @{ */

/**
 * @brief Format a message into errstr (when not NULL) and return @p err.
 * @param err The code to return.
 * @param errstr Buffer or NULL.
 * @param errstr_size Its size.
 * @param fmt printf format.
 * @param ... the format's arguments.
 * @returns @p err.
 * @remark Thread-safe (writes only @p errstr).
 * @since 0.2.0
 */
VTEV_EXPORT vtev_err_t vtev_rt_fail(vtev_err_t err, char *errstr, size_t errstr_size,
                                    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/**
 * @brief Put a path segment in front of the message in errstr.
 *
 * Messages read "path: text".  @p seg goes first, followed by '.' unless the
 * message starts with ':' or '[' (so "lat: ..." under "data" becomes
 * "data.lat: ...", and "[2]: ..." under "tags" becomes "tags[2]: ...").
 * The result is truncated to @p errstr_size.
 * @param errstr Buffer or NULL (then nothing happens).
 * @param errstr_size Its size.
 * @param seg The segment (a field name, "[3]", a map key).
 * @remark Thread-safe (writes only @p errstr).
 * @since 0.2.0
 */
VTEV_EXPORT void vtev_rt_err_prefix(char *errstr, size_t errstr_size, const char *seg);

/** @brief Duplicate a string (NULL for NULL). @param s Text or NULL. @param ok Set to false when memory ran out (not touched otherwise). @returns The copy (caller frees it with free()) or NULL. @remark Thread-safe. @since 0.2.0 */
VTEV_EXPORT char *vtev_rt_strdup(const char *s, bool *ok);

/** @brief Deep-copy bytes. @param dst Destination (overwritten, not freed; the caller frees @c dst->data with free()). @param src Source (borrowed). @returns 0 or -1 (memory; @p dst empty). @remark Thread-safe. @since 0.2.0 */
VTEV_EXPORT int vtev_rt_bytes_copy(vtev_bytes_t *dst, const vtev_bytes_t *src);

/** @brief Write a fresh random (version 4) UUID. @param out 37 bytes. @returns 0, or -1 when the kernel gives no randomness. @remark Thread-safe. @since 0.2.0 */
VTEV_EXPORT int vtev_rt_uuid4(char out[VTEV_RT_UUID_LEN + 1]);

/** @brief Whether @p s is a UUID in 8-4-4-4-12 hex form. @param s Text or NULL. @returns true or false. @remark Thread-safe. @since 0.2.0 */
VTEV_EXPORT bool vtev_rt_uuid_valid(const char *s);

/** @brief The wall clock in microseconds since the Unix epoch. @returns The time. @remark Thread-safe. @since 0.2.0 */
VTEV_EXPORT int64_t vtev_rt_now_us(void);

/** @brief Shortest text that reads back as @p d ("%.15g" or "%.17g"; "NaN", "inf", "-inf"). @param d Value. @param buf Output. @param size Its size (40 is enough). @returns @p buf. @remark Thread-safe. @since 0.2.0 */
VTEV_EXPORT const char *vtev_rt_dtoa(double d, char *buf, size_t size);

/** @brief Offset of the first byte that is not UTF-8, or -1. @param s Bytes. @param n Count. @returns The offset or -1. @remark Thread-safe. @since 0.2.0 */
VTEV_EXPORT long vtev_rt_utf8_bad(const char *s, size_t n);
/** @} */

/* ------------------------------------------------------------------------ */
/** @name JSON output
 * @{ */

/** @brief A JSON writer (start from `{0}`; set @c pretty for indentation). @since 0.2.0 */
typedef struct vtev_rt_jw_s {
    char *buf;   /**< The text so far (NUL-terminated). */
    size_t len;  /**< Its length. */
    size_t cap;  /**< Allocated. */
    int pretty;  /**< Nonzero: two-space indentation. */
    int depth;   /**< Current nesting. */
    int oom;     /**< Memory ran out (the text is incomplete). */
} vtev_rt_jw_t;

/** @brief Append raw text. @param w Writer. @param s Text. @remark Reentrant: any thread; @p w must not be shared between threads. @since 0.2.0 */
VTEV_EXPORT void vtev_rt_jw_raw(vtev_rt_jw_t *w, const char *s);
/** @brief Append a JSON string (NULL is ""; bytes that are not UTF-8 become U+FFFD). @param w Writer. @param s Text or NULL. @remark Reentrant: any thread; @p w must not be shared between threads. @since 0.2.0 */
VTEV_EXPORT void vtev_rt_jw_str(vtev_rt_jw_t *w, const char *s);
/** @brief Append an integer. @param w Writer. @param v Value. @remark Reentrant: any thread; @p w must not be shared between threads. @since 0.2.0 */
VTEV_EXPORT void vtev_rt_jw_int(vtev_rt_jw_t *w, int64_t v);
/** @brief Append a double, shortest exact form, always with a '.' or exponent. @param w Writer. @param d Value. @remark Reentrant: any thread; @p w must not be shared between threads. @since 0.2.0 */
VTEV_EXPORT void vtev_rt_jw_double(vtev_rt_jw_t *w, double d);
/** @brief Append a float, shortest form that reads back as the same float. @param w Writer. @param f Value. @remark Reentrant: any thread; @p w must not be shared between threads. @since 0.2.0 */
VTEV_EXPORT void vtev_rt_jw_float(vtev_rt_jw_t *w, float f);
/** @brief Open an object or array. @param w Writer. @param first Set to 1 (the first-member flag). @param ch '{' or '['. @remark Reentrant: any thread; @p w must not be shared between threads. @since 0.2.0 */
VTEV_EXPORT void vtev_rt_jw_open(vtev_rt_jw_t *w, int *first, char ch);
/** @brief Write the separator before a member; then its key when @p key is not NULL. @param w Writer. @param first The flag from vtev_rt_jw_open(). @param key Object key, or NULL in arrays. @remark Reentrant: any thread; @p w must not be shared between threads. @since 0.2.0 */
VTEV_EXPORT void vtev_rt_jw_key(vtev_rt_jw_t *w, int *first, const char *key);
/** @brief Close an object or array. @param w Writer. @param first The flag. @param ch '}' or ']'. @remark Reentrant: any thread; @p w must not be shared between threads. @since 0.2.0 */
VTEV_EXPORT void vtev_rt_jw_close(vtev_rt_jw_t *w, int first, char ch);
/** @brief Append a timestamp as an ISO-8601 UTC string. @param w Writer. @param v Value. @param per_second 1000 (millis) or 1000000 (micros). @remark Reentrant: any thread; @p w must not be shared between threads. @since 0.2.0 */
VTEV_EXPORT void vtev_rt_jw_timestamp(vtev_rt_jw_t *w, int64_t v, int64_t per_second);
/** @brief Append a date (days since 1970-01-01) as "YYYY-MM-DD". @param w Writer. @param days Value. @remark Reentrant: any thread; @p w must not be shared between threads. @since 0.2.0 */
VTEV_EXPORT void vtev_rt_jw_date(vtev_rt_jw_t *w, int32_t days);
/** @brief Append bytes as a base64 string (RFC 4648, padded). @param w Writer. @param p Bytes. @param n Count. @remark Reentrant: any thread; @p w must not be shared between threads. @since 0.2.0 */
VTEV_EXPORT void vtev_rt_jw_base64(vtev_rt_jw_t *w, const unsigned char *p, size_t n);
/** @brief Append a decimal (big-endian two's complement unscaled value) as a string such as "-12.34". @param w Writer. @param p Bytes. @param n Count. @param scale Digits after the point. @remark Reentrant: any thread; @p w must not be shared between threads. @since 0.2.0 */
VTEV_EXPORT void vtev_rt_jw_decimal(vtev_rt_jw_t *w, const unsigned char *p, size_t n, int scale);
/**
 * @brief Hand the text over.
 * @param w Writer (emptied: its memory is handed over, or freed on
 *          ::VTEV_ERR_NOMEM; call this also to release a writer after an error).
 * @param jsonp Receives the text (caller frees with free()).
 * @param lenp Receives its length (may be NULL).
 * @returns ::VTEV_ERR_OK, or ::VTEV_ERR_NOMEM (nothing handed over).
 * @remark Reentrant: any thread; @p w must not be shared between threads.
 * @since 0.2.0
 */
VTEV_EXPORT vtev_err_t vtev_rt_jw_finish(vtev_rt_jw_t *w, char **jsonp, size_t *lenp);
/** @} */

/* ------------------------------------------------------------------------ */
/** @name JSON input
 * @{ */

/**
 * @brief Parse JSON text (duplicate keys refused).
 * @param json Text. @param len Its length.
 * @param errstr Buffer for "line L, column C: reason". @param errstr_size Its size.
 * @returns A new reference (caller json_decref()s), or NULL on a parse error.
 * @remark Thread-safe.
 * @since 0.2.0
 */
VTEV_EXPORT json_t *vtev_rt_json_load(const char *json, size_t len, char *errstr, size_t errstr_size);
/** @brief "an object", "a string", ... for messages. @param j Value. @returns A static string. @remark Thread-safe. @since 0.2.0 */
VTEV_EXPORT const char *vtev_rt_json_kind(const json_t *j);
/** @brief Parse an ISO-8601 time ("Z", an offset or none for UTC). @param s Text. @param per_second 1000 or 1000000. @param out Value. @returns 0, or -1 (bad text, or not representable). @remark Thread-safe. @since 0.2.0 */
VTEV_EXPORT int vtev_rt_parse_timestamp(const char *s, int64_t per_second, int64_t *out);
/** @brief Parse "YYYY-MM-DD". @param s Text. @param out Days since 1970-01-01. @returns 0 or -1. @remark Thread-safe. @since 0.2.0 */
VTEV_EXPORT int vtev_rt_parse_date(const char *s, int32_t *out);
/** @brief Decode base64 (RFC 4648, padding optional). @param s Text. @param n Its length. @param out Receives the bytes (caller frees @c data with free()). @returns 0, -1 (not base64) or -2 (memory). @remark Thread-safe. @since 0.2.0 */
VTEV_EXPORT int vtev_rt_parse_base64(const char *s, size_t n, vtev_bytes_t *out);
/**
 * @brief Parse a decimal number such as "-12.340" into its unscaled two's complement bytes.
 * @param s Text: optional '-', digits, optionally '.' and at most @p scale digits.
 * @param scale The schema's scale.
 * @param size 0: the shortest encoding (bytes); N: exactly N bytes (fixed), -1 if it does not fit.
 * @param out Receives the bytes (caller frees @c data with free()).
 * @returns 0, -1 (not a decimal of this scale or size) or -2 (memory).
 * @remark Thread-safe.
 * @since 0.2.0
 */
VTEV_EXPORT int vtev_rt_parse_decimal(const char *s, int scale, size_t size, vtev_bytes_t *out);
/** @} */

#ifdef __cplusplus
}
#endif

#endif /* VTEVENTS_AVRO_DIRECT_H */
