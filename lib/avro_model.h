/*
 * avro_model.h - the library's model of an Avro schema: its JSON parsed
 * (jansson) into a flat table of nodes, one per type occurrence (a named
 * type is one node, referenced by index; a primitive is a node per use).
 * Built by avro_resolve.c, which resolves schemas on it; avro_json.c
 * converts between the JSON form and Avro binary on it.  Never installed.
 *
 * Threading: a model is immutable once parsed and may be read from several
 * threads at once.
 */
#ifndef VTEV_AVRO_MODEL_H
#define VTEV_AVRO_MODEL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <vtevents/error.h>

#include "avro_resolve.h"

/* Node kinds (anode_t.kind). */
enum { K_NULL, K_BOOL, K_INT, K_LONG, K_FLOAT, K_DOUBLE, K_BYTES, K_STRING, K_FIXED, K_ENUM,
       K_RECORD, K_ARRAY, K_MAP, K_UNION };

typedef struct {
    const char *name;    /* borrowed from the model's JSON */
    json_t *aliases;     /* array of strings, or NULL (borrowed) */
    json_t *def;         /* default, or NULL (borrowed) */
    json_t *obj;         /* the field's JSON object (borrowed) */
    uint32_t type;       /* node */
} afield_t;

typedef struct {
    int kind;
    json_t *src;         /* the JSON the node was parsed from: a string or an object (borrowed) */
    char *fullname;      /* named types (owned) */
    char **aliases;      /* full names (owned), naliases of them */
    size_t naliases;
    uint32_t n;          /* fields, symbols, branches */
    afield_t *fields;    /* record */
    const char **symbols; /* enum (borrowed) */
    int32_t enum_default; /* enum: index of the default symbol, -1 = none */
    uint32_t *branches;  /* union */
    uint32_t item;       /* array items, map values */
    int64_t size;        /* fixed */
    json_t *index;       /* record: field name -> index; enum: symbol -> index (owned) */
} anode_t;

typedef struct {
    json_t *root;        /* the parsed JSON (owns every borrowed string) */
    anode_t *nodes;
    size_t nn, ncap;
    uint32_t top;
    json_t *names;       /* full name -> node index */
    int max_types, max_depth;
} amodel_t;

/* Parses json (NUL-terminated) within lim->max_types and max_depth (lim may
 * be NULL: the defaults).  Errors: VTEV_ERR_SCHEMA (errstr names the place),
 * VTEV_ERR_LIMIT, VTEV_ERR_NOMEM; *mp is then NULL.  Free with
 * vtev__amodel_free(). */
vtev_err_t vtev__amodel_parse(const char *json, const vtev__avro_limits_t *lim, amodel_t **mp, char *errstr,
                              size_t errstr_size);

/* Frees a model (NULL is ignored). */
void vtev__amodel_free(amodel_t *m);

/* "null", "boolean", ..., "union": the Avro name of a kind. */
const char *vtev__akind_name(int kind);

#endif
