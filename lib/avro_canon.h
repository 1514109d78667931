/*
 * avro_canon.h - the Parsing Canonical Form of an Avro schema and its
 * CRC-64-AVRO (Rabin) fingerprint, as the Avro specification defines them.
 * The fast decode path compares a writer schema's fingerprint with a
 * generated type's (vtev_type_t::fingerprint).  Never installed.
 */
#ifndef VTEV_AVRO_CANON_H
#define VTEV_AVRO_CANON_H

#include <stddef.h>
#include <stdint.h>
#include <vtevents/error.h>

/* The Parsing Canonical Form of the schema text json (NUL-terminated), in
 * *canonp (caller frees with free()).  Errors: VTEV_ERR_SCHEMA (not a schema
 * this function can put in canonical form: errstr names the place),
 * VTEV_ERR_NOMEM.  The text should have passed vtev__avro_schema_check(). */
vtev_err_t vtev__avro_canonical(const char *json, char **canonp, char *errstr, size_t errstr_size);

/* CRC-64-AVRO of n bytes. */
uint64_t vtev__avro_rabin(const void *data, size_t n);

#endif
