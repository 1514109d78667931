/*
 * serde_int.h - internal access to vtev_serde_t (producer's generic path).
 * Never installed.
 */
#ifndef VTEV_SERDE_INT_H
#define VTEV_SERDE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <vtevents/serde.h>

/** The schema id for an arbitrary Avro schema (JSON text) under the subject
 *  for topic (per subject.name.strategy), registering per configuration.
 *  Cached per (topic, schema text): no registry call after the first. */
vtev_err_t vtev__serde_schema_id_json(vtev_serde_t *serde, const char *topic,
                                      const char *schema_json, int32_t *idp,
                                      char *errstr, size_t errstr_size);

/** The schema id of a generated type's schema under the subject for topic
 *  (cached per (topic, type)). */
vtev_err_t vtev__serde_type_id(vtev_serde_t *serde, const char *topic, const vtev_type_t *type,
                               int32_t *idp, char *errstr, size_t errstr_size);

/** The full name of the writer schema of framed bytes (registry errors as
 *  vtev_serde_deserialize()). */
vtev_err_t vtev__serde_writer_fullname(vtev_serde_t *serde, const void *buf, size_t len,
                                       char *name, size_t name_size, char *errstr,
                                       size_t errstr_size);

/** The serde's registry client (borrowed, valid until the serde is destroyed). */
struct vtev_registry_s *vtev__serde_registry(vtev_serde_t *serde);

/** The configuration the serde owns (borrowed). */
const vtev_conf_t *vtev__serde_conf(const vtev_serde_t *serde);

#endif
