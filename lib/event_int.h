/*
 * event_int.h - internals shared by the event, metadata, validation, JSON,
 * schema and codec files. Never installed.
 */
#ifndef VTEV_EVENT_INT_H
#define VTEV_EVENT_INT_H

#include <avro.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <vtevents/event.h>
#include <vtevents/avro_direct.h>

/* Embedded .avsc texts (generated from schemas/avro by scripts/embed_schemas.py). */
extern const char vtev__schema_position[];
extern const size_t vtev__schema_position_len;
extern const char vtev__schema_request[];
extern const size_t vtev__schema_request_len;
extern const char vtev__schema_result[];
extern const size_t vtev__schema_result_len;

struct vtev_schema_s {
    atomic_int refcnt;   /* ignored for the static compiled-in schemas */
    bool is_static;
    uint64_t uid;        /* unique for the life of the process (cache key) */
    avro_schema_t avro;  /* one reference owned */
    char *json;          /* the text as given, NUL-terminated */
    char *fullname;
    char *canonical;      /* Parsing Canonical Form */
    uint64_t fingerprint; /* CRC-64-AVRO of canonical */
};

/* Allocates a new unique schema id. */
uint64_t vtev__schema_next_uid(void);

/* Timestamps (timestamp.c). */
#include "timestamp.h"

/* Random ids (event.c). */
int vtev__uuid4(char out[VTEV_UUID_LEN + 1]);
bool vtev__uuid_valid(const char *s);

/* Offset of the first byte that is not valid UTF-8 (RFC 3629), or -1. */
long vtev__utf8_bad(const char *s, size_t n);

/* The JSON writer of both JSON forms (avro_direct.c): append n bytes
 * (memory running out sets w->oom), and a newline plus indentation when
 * w->pretty. */
void vtev__jw_put(vtev_rt_jw_t *w, const char *s, size_t n);
void vtev__jw_newline(vtev_rt_jw_t *w);

/* Shortest round-trippable rendering of a double into buf. */
const char *vtev__dtoa(double d, char *buf, size_t size);

/* Metadata (metadata.c): the value checks shared by setters and parsers.
 * Returns NULL when ok, else a static reason. */
const char *vtev__meta_key_problem(const char *key);

/* A map for n entries whose keys and string values (bytes in total,
 * NULs included) share one allocation: *arenap receives that space.  Fill
 * with vtev__metadata_push(): no checks, keys must be unique, n at most. */
vtev_metadata_t *vtev__metadata_new_bulk(size_t n, size_t bytes, char **arenap);
void vtev__metadata_push(vtev_metadata_t *md, char *key, const vtev_meta_value_t *v);

/* Generic Avro decode through the per-thread resolver cache (serde_avro.c).
 * Decodes bytes written with writer (NULL: the reader) as reader, under
 * the limits lim (NULL: the defaults).  When *outp is not NULL on entry it
 * must be a value of reader, and the datum is read into it; otherwise the
 * result is a value owned by the cache (valid until the next decode on this
 * thread with the same pair), returned in *outp.  A set-up that failed is
 * cached and fails again with the same error. */
struct vtev__avro_limits_s;
vtev_err_t vtev__avro_decode_cached(const vtev_schema_t *reader, const vtev_schema_t *writer,
                                    const void *buf, size_t len, const struct vtev__avro_limits_s *lim,
                                    avro_value_t **outp, char *errstr, size_t errstr_size);
/* vtev_schema_new() under the limits lim (NULL: the defaults); *errp (may
 * be NULL) receives the error code (VTEV_ERR_SCHEMA, VTEV_ERR_LIMIT, ...). */
vtev_schema_t *vtev__schema_new(const char *json, size_t len, const struct vtev__avro_limits_s *lim,
                                vtev_err_t *errp, char *errstr, size_t errstr_size);
/* vtev_event_decode() under the limits lim (NULL: the defaults). */
vtev_err_t vtev__event_decode(vtev_event_t *ev, vtev_event_type_t type, const vtev_schema_t *writer,
                              const void *avro, size_t len, const struct vtev__avro_limits_s *lim,
                              char *errstr, size_t errstr_size);
/* Bounds check of Avro bytes against a writer schema compiled once
 * (avro_scan.c): every length, index and count must fit the input, and
 * nothing may trail. */
typedef struct vtev__scanner_s vtev__scanner_t;
vtev__scanner_t *vtev__scanner_new(avro_schema_t schema);
void vtev__scanner_destroy(vtev__scanner_t *s);
vtev_err_t vtev__scanner_check(const vtev__scanner_t *s, const void *buf, size_t len, char *errstr,
                               size_t errstr_size);

/* serde_avro.c internals used by codec.c */
avro_value_t *vtev__encode_value(vtev_event_type_t type);
vtev_err_t vtev__avro_write(avro_value_t *value, int32_t schema_id, void **bufp, size_t *lenp,
                            char *errstr, size_t errstr_size);


#endif
