/*
 * avro_resolve.h - Avro schema resolution (writer schema -> reader schema)
 * as the Avro specification defines it, done on the bytes: the resolver
 * turns bytes written with the writer schema into bytes of the reader
 * schema, which the reader's own decoder then reads.  One module serves the
 * decoders and the mock:// registry's compatibility checks.  Never installed.
 *
 * Threading: a resolver is immutable once built; vtev__resolver_run() may be
 * called from several threads at once, each with its own output buffer.
 */
#ifndef VTEV_AVRO_RESOLVE_H
#define VTEV_AVRO_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vtevents/error.h>

/* What one message (and one writer schema) may cost.  Going over any of
 * them fails with VTEV_ERR_LIMIT and a message naming the configuration key. */
typedef struct vtev__avro_limits_s {
    int max_depth;       /* avro.max.depth: nesting of records, arrays, maps, unions */
    int64_t max_values;  /* avro.max.values: values read from one message (items, fields, ...) */
    size_t max_bytes;    /* avro.max.bytes: input and resolved output of one message */
    int max_types;       /* avro.max.schema.types: types (nodes) in one schema */
} vtev__avro_limits_t;

/* The defaults: depth 64, 2,000,000 values, 16 MiB, 10,000 types. */
void vtev__avro_limits_default(vtev__avro_limits_t *lim);

/* A growable output buffer.  Zero-initialise; free data with free(). */
typedef struct vtev__abuf_s {
    unsigned char *data;
    size_t len, cap;
} vtev__abuf_t;

typedef struct vtev__resolver_s vtev__resolver_t;

typedef enum {
    /* Data-dependent failures (a writer enum symbol the reader lacks and has
     * no default for, a writer union branch the reader cannot take) fail only
     * the messages that carry them, as the specification says. */
    VTEV__RESOLVE_DECODE,
    /* Every possible failure fails the set-up: "can every message written
     * with the writer be read by the reader?" (compatibility checks). */
    VTEV__RESOLVE_STRICT
} vtev__resolve_mode_t;

/* Builds a resolver from the two schemas' JSON texts.  Errors:
 * VTEV_ERR_SCHEMA (a text is not a valid Avro schema), VTEV_ERR_SCHEMA_MISMATCH
 * (the writer cannot be read as the reader; errstr names the field path),
 * VTEV_ERR_LIMIT (a schema over lim->max_types or max_depth), VTEV_ERR_NOMEM.
 * lim may be NULL (defaults). */
vtev_err_t vtev__resolver_new(const char *writer_json, const char *reader_json, vtev__resolve_mode_t mode,
                              const vtev__avro_limits_t *lim, vtev__resolver_t **rp, char *errstr,
                              size_t errstr_size);

void vtev__resolver_destroy(vtev__resolver_t *r);

/* True when the writer and the reader schema have the same binary layout:
 * the writer's bytes can be read by the reader's decoder unchanged. */
bool vtev__resolver_is_identity(const vtev__resolver_t *r);

/* Resolves one datum: the writer's bytes in (buf, len) become the reader's
 * bytes, appended to out (out->len is reset to 0 first).  Every length,
 * count, index and value is checked against the input; nothing may trail.
 * Errors: VTEV_ERR_DECODE (malformed or unresolvable data; errstr names the
 * reader field path), VTEV_ERR_LIMIT, VTEV_ERR_NOMEM.  lim may be NULL. */
vtev_err_t vtev__resolver_run(const vtev__resolver_t *r, const void *buf, size_t len,
                              const vtev__avro_limits_t *lim, vtev__abuf_t *out, char *errstr,
                              size_t errstr_size);

/* Checks that json (NUL-terminated) is a valid Avro schema within lim
 * (NULL: defaults).  Errors: VTEV_ERR_SCHEMA (errstr names the place),
 * VTEV_ERR_LIMIT, VTEV_ERR_NOMEM.  Thread-safe: this, not avro-c (whose
 * error text is one buffer for all threads), is what reports a bad schema. */
vtev_err_t vtev__avro_schema_check(const char *json, const vtev__avro_limits_t *lim, char *errstr,
                                   size_t errstr_size);

/* Whether every datum written with writer_json can be read with reader_json
 * (Avro schema resolution, full names and aliases).  On false, why (may be
 * NULL) says which field or type does not resolve. */
bool vtev__avro_can_read(const char *writer_json, const char *reader_json, char *why, size_t why_size);

#endif
