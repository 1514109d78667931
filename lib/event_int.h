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
};

/* Allocates a new unique schema id. */
uint64_t vtev__schema_next_uid(void);

/* Timestamps (json.c). */
#define VTEV__TS_MAX_US INT64_C(253402300799999999) /* 9999-12-31T23:59:59.999999Z */
/* Formats us as ISO-8601 UTC: milliseconds, or microseconds when needed.
 * buf needs >= 40 bytes. Returns the length. */
size_t vtev__format_timestamp(int64_t us, char *buf, size_t size);
/* Parses ISO-8601; returns 0 or -1. */
int vtev__parse_timestamp(const char *s, int64_t *usp);

/* Random ids (event.c). */
int vtev__uuid4(char out[VTEV_UUID_LEN + 1]);
bool vtev__uuid_valid(const char *s);

/* Shortest round-trippable rendering of a double into buf. */
const char *vtev__dtoa(double d, char *buf, size_t size);

/* Metadata (metadata.c): the value checks shared by setters and parsers.
 * Returns NULL when ok, else a static reason. */
const char *vtev__meta_key_problem(const char *key);

/* Generic Avro decode through the per-thread resolver cache (serde_avro.c).
 * Decodes bytes written with writer into a value of reader that stays owned
 * by the cache (valid until the next decode on this thread with the same
 * pair) and returns it in *outp. */
vtev_err_t vtev__avro_decode_cached(const vtev_schema_t *reader, const vtev_schema_t *writer,
                                    const void *buf, size_t len, avro_value_t **outp,
                                    char *errstr, size_t errstr_size);

/* Walks Avro bytes against a schema without allocating: checks that every
 * length, index and count fits the input and that nothing trails. */
vtev_err_t vtev__avro_check(avro_schema_t schema, const void *buf, size_t len,
                            char *errstr, size_t errstr_size);

/* serde_avro.c internals used by codec.c */
avro_value_t *vtev__encode_value(vtev_event_type_t type);
vtev_err_t vtev__avro_write(avro_value_t *value, int32_t schema_id, void **bufp, size_t *lenp,
                            char *errstr, size_t errstr_size);


#endif
