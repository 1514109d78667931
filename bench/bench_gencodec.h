/*
 * bench_gencodec.h - the two halves of bench_gencodec: the library's 0.1
 * codec (the "library" side) is timed in bench_gencodec_lib.c, the
 * generated and generic avro-c sides in bench_gencodec.c, each file on one
 * API only.
 */
#ifndef VTEV_BENCH_GENCODEC_H
#define VTEV_BENCH_GENCODEC_H

#include <stddef.h>

/* Event types 1 (position), 2 (request), 3 (result), as vtev_event_type_t. */

/* The Avro binary (no framing) of the realistic event of @p type (the
 * fixture of bench_common.h); malloc'd, the caller frees it. Exits on failure. */
void *gcl_fixture(int type, size_t *len);

/* n vtev_event_encode() calls of that event (output freed each time);
 * returns the seconds taken. */
double gcl_encode(int type, long n);

/* n vtev_event_decode() + vtev_event_clear() of @p bytes; returns the
 * seconds taken. Exits on a decode failure. */
double gcl_decode(int type, const void *bytes, size_t len, long n);

/* Frees the fixtures. */
void gcl_done(void);

#endif /* VTEV_BENCH_GENCODEC_H */
