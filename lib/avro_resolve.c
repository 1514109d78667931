/*
 * avro_resolve.c - Avro schema resolution on the bytes.
 *
 * Written by hand because no packaged C library does it right: avro-c's
 * resolved reader matches enums by position, cannot fill reader defaults,
 * ignores aliases and enum defaults, and has no limits for hostile schemas.
 *
 * A schema's JSON is parsed (jansson) into a flat table of nodes; names are
 * looked up through a hash (a jansson object), so a schema of many types
 * costs linear time.  A (writer node, reader node) pair compiles once into a
 * plan; plans of recursive types refer to each other by index.  Running a
 * plan reads the writer's bytes (every length and count checked against the
 * input) and writes the reader's bytes: enums map by symbol (an unknown
 * symbol takes the reader's enum default), reader fields the writer lacks
 * get their default (pre-encoded at compile time), writer-only fields are
 * skipped, fields are re-ordered, numbers and string/bytes are promoted,
 * and unions resolve on either side.
 */
#include "avro_resolve.h"
#include "avro_model.h"
#include "internal.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vtev__avro_limits_default(vtev__avro_limits_t *lim) {
    lim->max_depth = 64;
    lim->max_values = 2000000;
    lim->max_bytes = (size_t)16 * 1024 * 1024;
    lim->max_types = 10000;
}

/* ---------------------------------------------------------------------- */
/* The schema model (its types are in avro_model.h).                      */

static const char *const kind_names[] = {"null",   "boolean", "int",   "long",   "float",
                                         "double", "bytes",   "string", "fixed", "enum",
                                         "record", "array",   "map",   "union"};

static void model_free(amodel_t *m) {
    size_t i, k;
    if (!m)
        return;
    for (i = 0; i < m->nn; i++) {
        anode_t *n = &m->nodes[i];
        free(n->fullname);
        for (k = 0; k < n->naliases; k++)
            free(n->aliases[k]);
        free(n->aliases);
        free(n->fields);
        free(n->symbols);
        free(n->branches);
        json_decref(n->index);
    }
    free(m->nodes);
    json_decref(m->names);
    json_decref(m->root);
    free(m);
}

typedef struct {
    char *errstr;
    size_t errstr_size;
} errbuf_t;

static vtev_err_t set_err(errbuf_t *eb, vtev_err_t err, const char *fmt, ...) {
    va_list ap;
    if (eb->errstr && eb->errstr_size) {
        va_start(ap, fmt);
        vsnprintf(eb->errstr, eb->errstr_size, fmt, ap);
        va_end(ap);
    }
    return err;
}

static long node_add(amodel_t *m, int kind, json_t *src, errbuf_t *eb, vtev_err_t *errp) {
    if (m->nn >= (size_t)m->max_types) {
        *errp = set_err(eb, VTEV_ERR_LIMIT, "schema has more than avro.max.schema.types (%d) types",
                        m->max_types);
        return -1;
    }
    if (m->nn == m->ncap) {
        size_t ncap = m->ncap ? m->ncap * 2 : 16;
        anode_t *nn = realloc(m->nodes, ncap * sizeof(*nn));
        if (!nn) {
            *errp = set_err(eb, VTEV_ERR_NOMEM, "out of memory");
            return -1;
        }
        m->nodes = nn;
        m->ncap = ncap;
    }
    memset(&m->nodes[m->nn], 0, sizeof(anode_t));
    m->nodes[m->nn].kind = kind;
    m->nodes[m->nn].src = src;
    m->nodes[m->nn].enum_default = -1;
    return (long)m->nn++;
}

static int primitive_kind(const char *s) {
    int k;
    for (k = K_NULL; k <= K_STRING; k++)
        if (!strcmp(s, kind_names[k]))
            return k;
    return -1;
}

/* name relative to ns -> full name (malloc'd). */
static char *full_name(const char *name, const char *ns) {
    size_t nl = strlen(name), sl = ns ? strlen(ns) : 0;
    char *out;
    if (strchr(name, '.') || !sl)
        return strdup(name);
    if (!(out = malloc(sl + 1 + nl + 1)))
        return NULL;
    memcpy(out, ns, sl);
    out[sl] = '.';
    memcpy(out + sl + 1, name, nl + 1);
    return out;
}

static bool valid_name_part(const char *s, size_t n) {
    size_t i;
    if (!n || !(s[0] == '_' || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
        return false;
    for (i = 1; i < n; i++)
        if (!(s[i] == '_' || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9')))
            return false;
    return true;
}

static bool valid_full_name(const char *s) {
    const char *p = s, *dot;
    while ((dot = strchr(p, '.'))) {
        if (!valid_name_part(p, (size_t)(dot - p)))
            return false;
        p = dot + 1;
    }
    return valid_name_part(p, strlen(p));
}

#define PATH(p) (*(p) ? (p) : "top level")

static long parse_type(amodel_t *m, json_t *j, const char *ns, const char *path, int depth, errbuf_t *eb,
                       vtev_err_t *errp);

static long lookup_name(amodel_t *m, const char *name, const char *ns) {
    char *fn = full_name(name, ns);
    json_t *v = fn ? json_object_get(m->names, fn) : NULL;
    free(fn);
    if (!v && ns && !strchr(name, '.'))
        v = json_object_get(m->names, name); /* a name of the null namespace */
    return v ? (long)json_integer_value(v) : -1;
}

static int define_name(amodel_t *m, long id, json_t *j, const char *ns, const char **nsp, const char *path,
                       errbuf_t *eb, vtev_err_t *errp) {
    const char *name = json_string_value(json_object_get(j, "name"));
    json_t *jns = json_object_get(j, "namespace"), *al = json_object_get(j, "aliases");
    anode_t *n = &m->nodes[id];
    const char *dot;
    size_t i;
    json_t *a;
    if (!name || !*name) {
        *errp = set_err(eb, VTEV_ERR_SCHEMA, "%s: a %s needs a \"name\"", PATH(path), kind_names[n->kind]);
        return -1;
    }
    if (json_is_string(jns))
        ns = json_string_value(jns);
    else if (jns && !json_is_null(jns)) {
        *errp = set_err(eb, VTEV_ERR_SCHEMA, "%s: \"namespace\" must be a string", PATH(path));
        return -1;
    }
    if (!(n->fullname = full_name(name, ns)) || !valid_full_name(n->fullname)) {
        *errp = set_err(eb, n->fullname ? VTEV_ERR_SCHEMA : VTEV_ERR_NOMEM, "%s: invalid name \"%s\"", PATH(path), name);
        return -1;
    }
    if (json_object_get(m->names, n->fullname) || primitive_kind(n->fullname) >= 0) {
        *errp = set_err(eb, VTEV_ERR_SCHEMA, "%s: the name %s is defined twice", PATH(path), n->fullname);
        return -1;
    }
    if (json_object_set_new(m->names, n->fullname, json_integer(id)) != 0) {
        *errp = set_err(eb, VTEV_ERR_NOMEM, "out of memory");
        return -1;
    }
    /* the namespace of the definition's own children */
    dot = strrchr(n->fullname, '.');
    if (dot) {
        json_t *nsj = json_stringn(n->fullname, (size_t)(dot - n->fullname));
        if (!nsj || json_array_append_new(json_object_get(m->root, "\x01nss"), nsj) != 0) {
            *errp = set_err(eb, VTEV_ERR_NOMEM, "out of memory");
            return -1;
        }
        *nsp = json_string_value(nsj);
    } else {
        *nsp = NULL;
    }
    if (json_is_array(al) && json_array_size(al)) {
        if (!(n->aliases = calloc(json_array_size(al), sizeof(char *)))) {
            *errp = set_err(eb, VTEV_ERR_NOMEM, "out of memory");
            return -1;
        }
        json_array_foreach(al, i, a) {
            if (!json_is_string(a)) {
                *errp = set_err(eb, VTEV_ERR_SCHEMA, "%s: aliases must be strings", PATH(path));
                return -1;
            }
            if (!(n->aliases[n->naliases++] = full_name(json_string_value(a), *nsp))) {
                *errp = set_err(eb, VTEV_ERR_NOMEM, "out of memory");
                return -1;
            }
        }
    }
    return 0;
}

static long parse_record(amodel_t *m, json_t *j, const char *ns, const char *path, int depth, errbuf_t *eb,
                         vtev_err_t *errp) {
    long id = node_add(m, K_RECORD, j, eb, errp);
    json_t *fields = json_object_get(j, "fields"), *f, *seen;
    const char *cns;
    size_t i;
    if (id < 0 || define_name(m, id, j, ns, &cns, path, eb, errp) < 0)
        return -1;
    if (!json_is_array(fields)) {
        *errp = set_err(eb, VTEV_ERR_SCHEMA, "%s: record %s needs a \"fields\" array", PATH(path),
                        m->nodes[id].fullname);
        return -1;
    }
    if (json_array_size(fields) &&
        !(m->nodes[id].fields = calloc(json_array_size(fields), sizeof(afield_t)))) {
        *errp = set_err(eb, VTEV_ERR_NOMEM, "out of memory");
        return -1;
    }
    if (!(seen = json_object())) { /* field names: a hash, so wide records cost linear time */
        *errp = set_err(eb, VTEV_ERR_NOMEM, "out of memory");
        return -1;
    }
    json_array_foreach(fields, i, f) {
        const char *fname = json_string_value(json_object_get(f, "name"));
        char sub[256];
        long t;
        json_t *al = json_object_get(f, "aliases");
        if (!fname || !valid_name_part(fname, strlen(fname))) {
            *errp = set_err(eb, VTEV_ERR_SCHEMA, "%s: field %zu of %s has no valid \"name\"", PATH(path), i,
                            m->nodes[id].fullname);
            json_decref(seen);
            return -1;
        }
        if (json_object_get(seen, fname)) {
            json_decref(seen);
            *errp = set_err(eb, VTEV_ERR_SCHEMA, "%s.%s: the field is defined twice", PATH(path), fname);
            return -1;
        }
        if (json_object_set_new(seen, fname, json_integer((json_int_t)i)) != 0) {
            json_decref(seen);
            *errp = set_err(eb, VTEV_ERR_NOMEM, "out of memory");
            return -1;
        }
        snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", fname);
        if ((t = parse_type(m, json_object_get(f, "type"), cns, sub, depth + 1, eb, errp)) < 0) {
            json_decref(seen);
            return -1;
        }
        /* m->nodes may have moved */
        m->nodes[id].fields[i].name = fname;
        m->nodes[id].fields[i].obj = f;
        m->nodes[id].fields[i].type = (uint32_t)t;
        m->nodes[id].fields[i].def = json_object_get(f, "default");
        m->nodes[id].fields[i].aliases = json_is_array(al) ? al : NULL;
        m->nodes[id].n = (uint32_t)i + 1;
    }
    m->nodes[id].index = seen;
    return id;
}

static long parse_enum(amodel_t *m, json_t *j, const char *ns, const char *path, errbuf_t *eb, vtev_err_t *errp) {
    long id = node_add(m, K_ENUM, j, eb, errp);
    json_t *syms = json_object_get(j, "symbols"), *s, *def = json_object_get(j, "default"), *seen = NULL;
    const char *cns;
    anode_t *n;
    size_t i;
    if (id < 0 || define_name(m, id, j, ns, &cns, path, eb, errp) < 0)
        return -1;
    n = &m->nodes[id];
    if (!json_is_array(syms) || !json_array_size(syms)) {
        *errp = set_err(eb, VTEV_ERR_SCHEMA, "%s: enum %s needs a non-empty \"symbols\" array", PATH(path), n->fullname);
        return -1;
    }
    if (!(n->symbols = calloc(json_array_size(syms), sizeof(char *))) || !(seen = json_object())) {
        *errp = set_err(eb, VTEV_ERR_NOMEM, "out of memory");
        return -1;
    }
    json_array_foreach(syms, i, s) {
        const char *sv = json_string_value(s);
        if (!sv || !valid_name_part(sv, strlen(sv))) {
            json_decref(seen);
            *errp = set_err(eb, VTEV_ERR_SCHEMA, "%s: enum %s: symbol %zu is not a valid name", PATH(path), n->fullname, i);
            return -1;
        }
        if (json_object_get(seen, sv) || json_object_set_new(seen, sv, json_integer((json_int_t)i)) != 0) {
            json_decref(seen);
            *errp = set_err(eb, VTEV_ERR_SCHEMA, "%s: enum %s: symbol %s appears twice", PATH(path), n->fullname, sv);
            return -1;
        }
        n->symbols[i] = sv;
        n->n = (uint32_t)i + 1;
    }
    if (def) {
        const char *dv = json_string_value(def);
        json_t *at = dv ? json_object_get(seen, dv) : NULL;
        if (at)
            n->enum_default = (int32_t)json_integer_value(at);
        if (n->enum_default < 0) {
            json_decref(seen);
            *errp = set_err(eb, VTEV_ERR_SCHEMA, "%s: enum %s: the default is not one of its symbols", PATH(path),
                            n->fullname);
            return -1;
        }
    }
    n->index = seen;
    return id;
}

static long parse_type(amodel_t *m, json_t *j, const char *ns, const char *path, int depth, errbuf_t *eb,
                       vtev_err_t *errp) {
    long id, t;
    const char *type;
    if (depth > m->max_depth) {
        *errp = set_err(eb, VTEV_ERR_LIMIT, "%s: schema nested deeper than avro.max.depth (%d)", PATH(path), m->max_depth);
        return -1;
    }
    if (!j) {
        *errp = set_err(eb, VTEV_ERR_SCHEMA, "%s: no type", PATH(path));
        return -1;
    }
    if (json_is_string(j)) {
        const char *s = json_string_value(j);
        int k = primitive_kind(s);
        if (k >= 0)
            return node_add(m, k, j, eb, errp);
        if ((id = lookup_name(m, s, ns)) < 0)
            *errp = set_err(eb, VTEV_ERR_SCHEMA, "%s: unknown type \"%s\"", PATH(path), s);
        return id;
    }
    if (json_is_array(j)) {
        size_t i, nb = json_array_size(j);
        json_t *b;
        if ((id = node_add(m, K_UNION, j, eb, errp)) < 0)
            return -1;
        if (nb && !(m->nodes[id].branches = calloc(nb, sizeof(uint32_t)))) {
            *errp = set_err(eb, VTEV_ERR_NOMEM, "out of memory");
            return -1;
        }
        json_array_foreach(j, i, b) {
            char sub[256];
            snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
            if (json_is_array(b)) {
                *errp = set_err(eb, VTEV_ERR_SCHEMA, "%s: a union may not contain a union", sub);
                return -1;
            }
            if ((t = parse_type(m, b, ns, sub, depth + 1, eb, errp)) < 0)
                return -1;
            m->nodes[id].branches[i] = (uint32_t)t;
            m->nodes[id].n = (uint32_t)i + 1;
        }
        return id;
    }
    if (!json_is_object(j)) {
        *errp = set_err(eb, VTEV_ERR_SCHEMA, "%s: a type must be a string, an array or an object", PATH(path));
        return -1;
    }
    if (!json_is_string(json_object_get(j, "type")))
        return parse_type(m, json_object_get(j, "type"), ns, path, depth + 1, eb, errp);
    type = json_string_value(json_object_get(j, "type"));
    if (!strcmp(type, "record") || !strcmp(type, "error"))
        return parse_record(m, j, ns, path, depth, eb, errp);
    if (!strcmp(type, "enum"))
        return parse_enum(m, j, ns, path, eb, errp);
    if (!strcmp(type, "array") || !strcmp(type, "map")) {
        int kind = type[0] == 'a' ? K_ARRAY : K_MAP;
        char sub[256];
        if ((id = node_add(m, kind, j, eb, errp)) < 0)
            return -1;
        snprintf(sub, sizeof(sub), "%s%s", path, kind == K_ARRAY ? "[]" : "{}");
        if ((t = parse_type(m, json_object_get(j, kind == K_ARRAY ? "items" : "values"), ns, sub, depth + 1, eb,
                            errp)) < 0)
            return -1;
        m->nodes[id].item = (uint32_t)t;
        return id;
    }
    if (!strcmp(type, "fixed")) {
        json_t *size = json_object_get(j, "size");
        const char *cns;
        if ((id = node_add(m, K_FIXED, j, eb, errp)) < 0 || define_name(m, id, j, ns, &cns, path, eb, errp) < 0)
            return -1;
        if (!json_is_integer(size) || json_integer_value(size) < 0 || json_integer_value(size) > INT32_MAX) {
            *errp = set_err(eb, VTEV_ERR_SCHEMA, "%s: fixed %s needs a non-negative \"size\"", PATH(path),
                            m->nodes[id].fullname);
            return -1;
        }
        m->nodes[id].size = json_integer_value(size);
        return id;
    }
    {
        int k = primitive_kind(type); /* a primitive, maybe with a logicalType */
        if (k >= 0)
            return node_add(m, k, j, eb, errp);
        if ((id = lookup_name(m, type, ns)) < 0)
            *errp = set_err(eb, VTEV_ERR_SCHEMA, "%s: unknown type \"%s\"", PATH(path), type);
        return id;
    }
}

static vtev_err_t model_parse(const char *text, const vtev__avro_limits_t *lim, const char *what, amodel_t **mp,
                              errbuf_t *eb) {
    amodel_t *m = calloc(1, sizeof(*m));
    json_error_t jerr;
    vtev_err_t err = VTEV_ERR_OK;
    long top;
    if (!m)
        return set_err(eb, VTEV_ERR_NOMEM, "out of memory");
    m->max_types = lim->max_types;
    m->max_depth = lim->max_depth;
    if (!text || !(m->root = json_loads(text, JSON_DECODE_ANY, &jerr))) {
        model_free(m);
        if (text && json_error_code(&jerr) == json_error_out_of_memory)
            return set_err(eb, VTEV_ERR_NOMEM, "out of memory");
        return set_err(eb, VTEV_ERR_SCHEMA, "%s schema: invalid JSON: %s (line %d, column %d)", what,
                       text ? jerr.text : "no text", text ? jerr.line : 0, text ? jerr.column : 0);
    }
    /* A holder for the namespace strings of the definitions: kept in an
     * object wrapping the root so that their lifetime is the model's. */
    {
        json_t *wrap = json_object();
        if (!wrap)
            json_decref(m->root); /* set_new() below takes it, also when it fails */
        if (!wrap || json_object_set_new(wrap, "\x01root", m->root) != 0 ||
            json_object_set_new(wrap, "\x01nss", json_array()) != 0 || !(m->names = json_object())) {
            json_decref(wrap);
            m->root = NULL;
            model_free(m);
            return set_err(eb, VTEV_ERR_NOMEM, "out of memory");
        }
        m->root = wrap;
    }
    top = parse_type(m, json_object_get(m->root, "\x01root"), NULL, "", 0, eb, &err);
    if (top < 0) {
        model_free(m);
        if (eb->errstr && eb->errstr_size) {
            char tmp[512];
            snprintf(tmp, sizeof(tmp), "%s", eb->errstr);
            snprintf(eb->errstr, eb->errstr_size, "%s schema: %s", what, tmp);
        }
        return err ? err : VTEV_ERR_SCHEMA;
    }
    m->top = (uint32_t)top;
    *mp = m;
    return VTEV_ERR_OK;
}

vtev_err_t vtev__avro_schema_check(const char *json, const vtev__avro_limits_t *lim, char *errstr,
                                   size_t errstr_size) {
    vtev__avro_limits_t dl;
    errbuf_t eb = {errstr, errstr_size};
    amodel_t *m = NULL;
    vtev_err_t err;
    if (!lim) {
        vtev__avro_limits_default(&dl);
        lim = &dl;
    }
    err = model_parse(json, lim, "the", &m, &eb);
    model_free(m);
    return err;
}

vtev_err_t vtev__amodel_parse(const char *json, const vtev__avro_limits_t *lim, amodel_t **mp, char *errstr,
                              size_t errstr_size) {
    vtev__avro_limits_t dl;
    errbuf_t eb = {errstr, errstr_size};
    *mp = NULL;
    if (!lim) {
        vtev__avro_limits_default(&dl);
        lim = &dl;
    }
    return model_parse(json, lim, "the", mp, &eb);
}

void vtev__amodel_free(amodel_t *m) {
    model_free(m);
}

const char *vtev__akind_name(int kind) {
    return kind >= K_NULL && kind <= K_UNION ? kind_names[kind] : "?";
}

/* ---------------------------------------------------------------------- */
/* Output bytes.                                                           */

static int buf_reserve(vtev__abuf_t *b, size_t more) {
    size_t cap;
    unsigned char *nd;
    if (b->cap - b->len >= more)
        return 0;
    if (more > SIZE_MAX / 2 - b->len)
        return -1;
    cap = b->cap ? b->cap : 256;
    while (cap - b->len < more)
        cap *= 2;
    if (!(nd = realloc(b->data, cap)))
        return -1;
    b->data = nd;
    b->cap = cap;
    return 0;
}

static int buf_put(vtev__abuf_t *b, const void *p, size_t n) {
    if (buf_reserve(b, n) != 0)
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

static int buf_long(vtev__abuf_t *b, int64_t v) {
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    unsigned char tmp[10];
    size_t n = 0;
    do {
        unsigned char c = z & 0x7f;
        z >>= 7;
        tmp[n++] = (unsigned char)(c | (z ? 0x80 : 0));
    } while (z);
    return buf_put(b, tmp, n);
}

static int buf_float(vtev__abuf_t *b, float f) {
    uint32_t u;
    unsigned char tmp[4];
    int i;
    memcpy(&u, &f, 4);
    for (i = 0; i < 4; i++)
        tmp[i] = (unsigned char)(u >> (8 * i));
    return buf_put(b, tmp, 4);
}

static int buf_double(vtev__abuf_t *b, double d) {
    uint64_t u;
    unsigned char tmp[8];
    int i;
    memcpy(&u, &d, 8);
    for (i = 0; i < 8; i++)
        tmp[i] = (unsigned char)(u >> (8 * i));
    return buf_put(b, tmp, 8);
}

/* ---------------------------------------------------------------------- */
/* Plans.                                                                  */

enum {
    OP_SKIP,     /* writer-only value: read and drop */
    OP_SAME,     /* same primitive: check and copy */
    OP_PROMOTE,  /* int/long/float -> long/float/double, string <-> bytes */
    OP_ENUM,
    OP_FIXED,
    OP_RECORD,
    OP_ARRAY,
    OP_MAP,
    OP_WUNION,   /* writer union: a plan per writer branch */
    OP_TORUNION, /* writer non-union into a reader union branch */
    OP_FAIL      /* never readable (DECODE mode: only fails data that gets here) */
};

typedef struct {
    int op;
    uint32_t w, r;         /* nodes */
    int32_t *map;          /* ENUM: writer symbol -> reader symbol (-1: none); RECORD: writer field -> reader field */
    uint32_t *sub;         /* RECORD: writer field -> plan; WUNION: writer branch -> plan (UINT32_MAX: fail) */
    int32_t *defs;         /* RECORD: reader field -> offset of its default in the defaults blob, -1: from writer */
    uint32_t *deflen;
    bool inorder;          /* RECORD: writer fields map to reader fields 0..n-1 in order */
    uint32_t inner;        /* ARRAY, MAP, TORUNION */
    int64_t rbranch;       /* TORUNION */
    char *why;             /* FAIL, and ENUM/WUNION data failures */
} plan_t;

struct vtev__resolver_s {
    amodel_t *wm, *rm;
    plan_t *plans;
    size_t np, pcap;
    uint64_t *memo_key;    /* open addressing: (w << 32 | r) + 1, 0 = empty */
    uint32_t *memo_val;
    size_t memo_cap, memo_n;
    vtev__abuf_t defaults;
    uint32_t top;
    bool identity;
    vtev__resolve_mode_t mode;
};

void vtev__resolver_destroy(vtev__resolver_t *r) {
    size_t i;
    if (!r)
        return;
    for (i = 0; i < r->np; i++) {
        free(r->plans[i].map);
        free(r->plans[i].sub);
        free(r->plans[i].defs);
        free(r->plans[i].deflen);
        free(r->plans[i].why);
    }
    free(r->plans);
    free(r->memo_key);
    free(r->memo_val);
    free(r->defaults.data);
    model_free(r->wm);
    model_free(r->rm);
    free(r);
}

bool vtev__resolver_is_identity(const vtev__resolver_t *r) {
    return r->identity;
}

static long memo_find(const vtev__resolver_t *r, uint32_t w, uint32_t rn) {
    uint64_t key = (((uint64_t)w << 32) | rn) + 1;
    size_t i;
    if (!r->memo_cap)
        return -1;
    for (i = (size_t)(key * 0x9E3779B97F4A7C15ull) & (r->memo_cap - 1); r->memo_key[i];
         i = (i + 1) & (r->memo_cap - 1))
        if (r->memo_key[i] == key)
            return r->memo_val[i];
    return -1;
}

static int memo_put(vtev__resolver_t *r, uint32_t w, uint32_t rn, uint32_t plan) {
    uint64_t key = (((uint64_t)w << 32) | rn) + 1;
    size_t i;
    if ((r->memo_n + 1) * 2 > r->memo_cap) {
        size_t ncap = r->memo_cap ? r->memo_cap * 2 : 64, k;
        uint64_t *nk = calloc(ncap, sizeof(*nk));
        uint32_t *nv = calloc(ncap, sizeof(*nv));
        if (!nk || !nv) {
            free(nk);
            free(nv);
            return -1;
        }
        for (k = 0; k < r->memo_cap; k++) {
            if (!r->memo_key[k])
                continue;
            for (i = (size_t)(r->memo_key[k] * 0x9E3779B97F4A7C15ull) & (ncap - 1); nk[i]; i = (i + 1) & (ncap - 1))
                ;
            nk[i] = r->memo_key[k];
            nv[i] = r->memo_val[k];
        }
        free(r->memo_key);
        free(r->memo_val);
        r->memo_key = nk;
        r->memo_val = nv;
        r->memo_cap = ncap;
    }
    for (i = (size_t)(key * 0x9E3779B97F4A7C15ull) & (r->memo_cap - 1); r->memo_key[i]; i = (i + 1) & (r->memo_cap - 1))
        ;
    r->memo_key[i] = key;
    r->memo_val[i] = plan;
    r->memo_n++;
    return 0;
}

static long plan_add(vtev__resolver_t *r, int op, uint32_t w, uint32_t rn) {
    if (r->np == r->pcap) {
        size_t ncap = r->pcap ? r->pcap * 2 : 32;
        plan_t *np = realloc(r->plans, ncap * sizeof(*np));
        if (!np)
            return -1;
        r->plans = np;
        r->pcap = ncap;
    }
    memset(&r->plans[r->np], 0, sizeof(plan_t));
    r->plans[r->np].op = op;
    r->plans[r->np].w = w;
    r->plans[r->np].r = rn;
    return (long)r->np++;
}

static bool names_match(const anode_t *w, const anode_t *rd) {
    size_t i;
    if (!strcmp(w->fullname, rd->fullname))
        return true;
    for (i = 0; i < rd->naliases; i++)
        if (!strcmp(rd->aliases[i], w->fullname))
            return true;
    return false;
}

static bool promotable(int wk, int rk) {
    return (wk == K_INT && (rk == K_LONG || rk == K_FLOAT || rk == K_DOUBLE)) ||
           (wk == K_LONG && (rk == K_FLOAT || rk == K_DOUBLE)) || (wk == K_FLOAT && rk == K_DOUBLE) ||
           (wk == K_STRING && rk == K_BYTES) || (wk == K_BYTES && rk == K_STRING);
}

/* Whether writer node w and reader node rn "match" (the first step of
 * resolution, without looking inside): same kind and, for named types, the
 * same full name or a reader alias; or a promotion. exact: no promotion. */
static bool shallow_match(const vtev__resolver_t *r, uint32_t w, uint32_t rn, bool exact) {
    const anode_t *a = &r->wm->nodes[w], *b = &r->rm->nodes[rn];
    if (a->kind == b->kind) {
        if (a->kind == K_RECORD || a->kind == K_ENUM || a->kind == K_FIXED)
            return names_match(a, b) && (a->kind != K_FIXED || a->size == b->size);
        return true;
    }
    return !exact && promotable(a->kind, b->kind);
}

static const char *node_desc(const amodel_t *m, uint32_t n, char *buf, size_t size) {
    const anode_t *x = &m->nodes[n];
    if (x->fullname)
        snprintf(buf, size, "%s %s", kind_names[x->kind], x->fullname);
    else
        snprintf(buf, size, "%s", kind_names[x->kind]);
    return buf;
}

typedef struct {
    vtev__resolver_t *r;
    errbuf_t *eb;
    vtev_err_t err;
    int wunion; /* > 0 inside a writer union's branch: failures depend on the data */
} cctx_t;

static long compile(cctx_t *c, uint32_t w, uint32_t rn, const char *path, int depth);

static int encode_default(cctx_t *c, uint32_t rn, json_t *d, vtev__abuf_t *b, const char *path, int depth);

/* A plan that fails data reaching it (DECODE mode), or the whole set-up
 * (STRICT mode, or when the failure is not data-dependent: strict=true). */
static long fail_plan(cctx_t *c, uint32_t w, uint32_t rn, bool data_dependent, const char *path, const char *fmt,
                      ...) {
    char msg[384];
    va_list ap;
    long id;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!data_dependent || c->r->mode == VTEV__RESOLVE_STRICT) {
        c->err = set_err(c->eb, VTEV_ERR_SCHEMA_MISMATCH, "%s: %s", PATH(path), msg);
        return -1;
    }
    if ((id = plan_add(c->r, OP_FAIL, w, rn)) < 0 ||
        !(c->r->plans[id].why = malloc(strlen(PATH(path)) + 2 + strlen(msg) + 1))) {
        c->err = set_err(c->eb, VTEV_ERR_NOMEM, "out of memory");
        return -1;
    }
    sprintf(c->r->plans[id].why, "%s: %s", PATH(path), msg);
    return id;
}

static long compile_record(cctx_t *c, long id, uint32_t w, uint32_t rn, const char *path, int depth) {
    vtev__resolver_t *r = c->r;
    const anode_t *a = &r->wm->nodes[w], *b = &r->rm->nodes[rn];
    uint32_t nw = a->n, nr = b->n, i, j;
    int32_t *map = nw ? malloc(nw * sizeof(int32_t)) : NULL;
    uint32_t *sub = nw ? malloc(nw * sizeof(uint32_t)) : NULL;
    int32_t *defs = nr ? malloc(nr * sizeof(int32_t)) : NULL;
    uint32_t *deflen = nr ? calloc(nr, sizeof(uint32_t)) : NULL;
    bool inorder = nw == nr;
    if ((nw && (!map || !sub)) || (nr && (!defs || !deflen))) {
        free(map), free(sub), free(defs), free(deflen);
        c->err = set_err(c->eb, VTEV_ERR_NOMEM, "out of memory");
        return -1;
    }
    r->plans[id].map = map;
    r->plans[id].sub = sub;
    r->plans[id].defs = defs;
    r->plans[id].deflen = deflen;
    for (j = 0; j < nw; j++)
        map[j] = -1;
    for (i = 0; i < nr; i++) {
        const afield_t *rf = &b->fields[i];
        long found = -1;
        defs[i] = -1;
        json_t *at = json_object_get(a->index, rf->name);
        if (at)
            found = (long)json_integer_value(at);
        if (found < 0 && rf->aliases) {
            size_t k;
            json_t *al;
            json_array_foreach(rf->aliases, k, al) {
                if (json_is_string(al) && (at = json_object_get(a->index, json_string_value(al)))) {
                    found = (long)json_integer_value(at);
                    break;
                }
            }
        }
        if (found >= 0 && map[found] >= 0)
            found = -1; /* two reader fields for one writer field: the second gets its default */
        if (found >= 0) {
            map[found] = (int32_t)i;
            if ((uint32_t)found != i)
                inorder = false;
        } else {
            char sub_path[256];
            size_t start = r->defaults.len;
            snprintf(sub_path, sizeof(sub_path), "%s%s%s", path, *path ? "." : "", rf->name);
            inorder = false;
            if (!rf->def) {
                c->err = set_err(c->eb, VTEV_ERR_SCHEMA_MISMATCH,
                                 "%s: the reader's field has no default and the writer (%s) lacks it", sub_path,
                                 a->fullname);
                return -1;
            }
            if (encode_default(c, rf->type, rf->def, &r->defaults, sub_path, depth + 1) < 0)
                return -1;
            if (r->defaults.len - start > INT32_MAX) {
                c->err = set_err(c->eb, VTEV_ERR_LIMIT, "%s: default too large", sub_path);
                return -1;
            }
            defs[i] = (int32_t)start;
            deflen[i] = (uint32_t)(r->defaults.len - start);
        }
    }
    for (j = 0; j < nw; j++) {
        char sub_path[256];
        long p;
        snprintf(sub_path, sizeof(sub_path), "%s%s%s", path, *path ? "." : "",
                 map[j] >= 0 ? b->fields[map[j]].name : a->fields[j].name);
        if (map[j] < 0) {
            if ((p = plan_add(r, OP_SKIP, a->fields[j].type, 0)) < 0) {
                c->err = set_err(c->eb, VTEV_ERR_NOMEM, "out of memory");
                return -1;
            }
        } else if ((p = compile(c, a->fields[j].type, b->fields[map[j]].type, sub_path, depth + 1)) < 0) {
            return -1;
        }
        r->plans[id].sub[j] = (uint32_t)p;
    }
    r->plans[id].inorder = inorder;
    return id;
}

static long compile(cctx_t *c, uint32_t w, uint32_t rn, const char *path, int depth) {
    vtev__resolver_t *r = c->r;
    const anode_t *a = &r->wm->nodes[w], *b = &r->rm->nodes[rn];
    char d1[300], d2[300], sub_path[256];
    long id, p;
    uint32_t i;
    if (depth > r->rm->max_depth) {
        c->err = set_err(c->eb, VTEV_ERR_LIMIT, "%s: nested deeper than avro.max.depth (%d)", PATH(path),
                         r->rm->max_depth);
        return -1;
    }
    if ((id = memo_find(r, w, rn)) >= 0)
        return id;
    if (a->kind == K_UNION) {
        if ((id = plan_add(r, OP_WUNION, w, rn)) < 0 || memo_put(r, w, rn, (uint32_t)id) < 0 ||
            (a->n && !(r->plans[id].sub = malloc(a->n * sizeof(uint32_t))))) {
            c->err = set_err(c->eb, VTEV_ERR_NOMEM, "out of memory");
            return -1;
        }
        c->wunion++;
        for (i = 0; i < a->n; i++) {
            if ((p = compile(c, a->branches[i], rn, path, depth + 1)) < 0) {
                c->wunion--;
                return -1;
            }
            r->plans[id].sub[i] = (uint32_t)p;
        }
        c->wunion--;
        return id;
    }
    if (b->kind == K_UNION) {
        long pick = -1;
        for (i = 0; i < b->n && pick < 0; i++)
            if (shallow_match(r, w, b->branches[i], true))
                pick = i;
        for (i = 0; i < b->n && pick < 0; i++)
            if (shallow_match(r, w, b->branches[i], false))
                pick = i;
        if (pick < 0)
            return fail_plan(c, w, rn, c->wunion > 0, path, "the writer's %s is in no branch of the reader's union",
                             node_desc(r->wm, w, d1, sizeof(d1)));
        if ((id = plan_add(r, OP_TORUNION, w, rn)) < 0 || memo_put(r, w, rn, (uint32_t)id) < 0) {
            c->err = set_err(c->eb, VTEV_ERR_NOMEM, "out of memory");
            return -1;
        }
        r->plans[id].rbranch = pick;
        if ((p = compile(c, w, b->branches[pick], path, depth + 1)) < 0)
            return -1;
        r->plans[id].inner = (uint32_t)p;
        return id;
    }
    if (!shallow_match(r, w, rn, false))
        return fail_plan(c, w, rn, c->wunion > 0, path, "the writer's %s cannot be read as the reader's %s",
                         node_desc(r->wm, w, d1, sizeof(d1)), node_desc(r->rm, rn, d2, sizeof(d2)));
    if (a->kind != b->kind) {
        if ((id = plan_add(r, OP_PROMOTE, w, rn)) < 0 || memo_put(r, w, rn, (uint32_t)id) < 0)
            goto nomem;
        return id;
    }
    switch (a->kind) {
    case K_ENUM: {
        bool any_missing = false;
        if ((id = plan_add(r, OP_ENUM, w, rn)) < 0 || memo_put(r, w, rn, (uint32_t)id) < 0 ||
            !(r->plans[id].map = malloc(a->n * sizeof(int32_t))))
            goto nomem;
        for (i = 0; i < a->n; i++) {
            json_t *at = json_object_get(b->index, a->symbols[i]);
            r->plans[id].map[i] = at ? (int32_t)json_integer_value(at) : b->enum_default;
            if (r->plans[id].map[i] < 0)
                any_missing = true;
        }
        if (any_missing) {
            for (i = 0; i < a->n && r->plans[id].map[i] >= 0; i++)
                ;
            if (r->mode == VTEV__RESOLVE_STRICT) {
                c->err = set_err(c->eb, VTEV_ERR_SCHEMA_MISMATCH,
                                 "%s: the writer's symbol %s is not in the reader's enum %s, which has no default",
                                 PATH(path), a->symbols[i], b->fullname);
                return -1;
            }
            snprintf(d1, sizeof(d1), "%s", path);
            if (!(r->plans[id].why = strdup(d1)))
                goto nomem;
        }
        return id;
    }
    case K_FIXED:
        if ((id = plan_add(r, OP_FIXED, w, rn)) < 0 || memo_put(r, w, rn, (uint32_t)id) < 0)
            goto nomem;
        return id;
    case K_RECORD:
        if ((id = plan_add(r, OP_RECORD, w, rn)) < 0 || memo_put(r, w, rn, (uint32_t)id) < 0)
            goto nomem;
        return compile_record(c, id, w, rn, path, depth);
    case K_ARRAY:
    case K_MAP:
        if ((id = plan_add(r, a->kind == K_ARRAY ? OP_ARRAY : OP_MAP, w, rn)) < 0 ||
            memo_put(r, w, rn, (uint32_t)id) < 0)
            goto nomem;
        snprintf(sub_path, sizeof(sub_path), "%s%s", path, a->kind == K_ARRAY ? "[]" : "{}");
        if ((p = compile(c, a->item, b->item, sub_path, depth + 1)) < 0)
            return -1;
        r->plans[id].inner = (uint32_t)p;
        return id;
    default:
        if ((id = plan_add(r, OP_SAME, w, rn)) < 0 || memo_put(r, w, rn, (uint32_t)id) < 0)
            goto nomem;
        return id;
    }
nomem:
    c->err = set_err(c->eb, VTEV_ERR_NOMEM, "out of memory");
    return -1;
}

/* Encodes a field default (Avro's JSON encoding of it) as the reader's bytes. */
static int encode_default(cctx_t *c, uint32_t rn, json_t *d, vtev__abuf_t *b, const char *path, int depth) {
    const amodel_t *m = c->r->rm;
    const anode_t *n = &m->nodes[rn];
    int rc = 0;
    size_t i;
    if (depth > m->max_depth) {
        c->err = set_err(c->eb, VTEV_ERR_LIMIT, "%s: default nested deeper than avro.max.depth", PATH(path));
        return -1;
    }
    switch (n->kind) {
    case K_NULL:
        if (!json_is_null(d))
            goto bad;
        return 0;
    case K_BOOL:
        if (!json_is_boolean(d))
            goto bad;
        rc = buf_put(b, json_is_true(d) ? "\x01" : "\x00", 1);
        break;
    case K_INT:
    case K_LONG:
        if (!json_is_integer(d) ||
            (n->kind == K_INT && (json_integer_value(d) < INT32_MIN || json_integer_value(d) > INT32_MAX)))
            goto bad;
        rc = buf_long(b, json_integer_value(d));
        break;
    case K_FLOAT:
        if (!json_is_number(d))
            goto bad;
        rc = buf_float(b, (float)json_number_value(d));
        break;
    case K_DOUBLE:
        if (!json_is_number(d))
            goto bad;
        rc = buf_double(b, json_number_value(d));
        break;
    case K_STRING:
        if (!json_is_string(d))
            goto bad;
        rc = buf_long(b, (int64_t)json_string_length(d)) || buf_put(b, json_string_value(d), json_string_length(d));
        break;
    case K_BYTES:
    case K_FIXED: {
        /* Avro's JSON form of bytes: each code point 0-255 is one byte. */
        const unsigned char *s = (const unsigned char *)json_string_value(d);
        size_t len = json_string_length(d), nbytes = 0;
        size_t start;
        if (!s)
            goto bad;
        if (n->kind == K_BYTES && buf_reserve(b, 10) != 0)
            goto nomem;
        start = b->len;
        for (i = 0; i < len; i++, nbytes++) {
            unsigned v = s[i];
            if (v >= 0x80) {
                if ((v & 0xE0) != 0xC0 || i + 1 >= len)
                    goto bad;
                v = ((v & 0x1F) << 6) | (s[i + 1] & 0x3F);
                i++;
                if (v > 0xFF)
                    goto bad;
            }
            if (buf_put(b, &(unsigned char){(unsigned char)v}, 1) != 0)
                goto nomem;
        }
        if (n->kind == K_FIXED) {
            if ((int64_t)nbytes != n->size)
                goto bad;
        } else { /* the length goes first */
            unsigned char tmp[10];
            vtev__abuf_t t = {tmp, 0, sizeof(tmp)};
            buf_long(&t, (int64_t)nbytes);
            if (buf_reserve(b, t.len) != 0)
                goto nomem;
            memmove(b->data + start + t.len, b->data + start, nbytes);
            memcpy(b->data + start, tmp, t.len);
            b->len += t.len;
        }
        break;
    }
    case K_ENUM: {
        const char *s = json_string_value(d);
        for (i = 0; s && i < n->n; i++)
            if (!strcmp(n->symbols[i], s))
                break;
        if (!s || i == n->n)
            goto bad;
        rc = buf_long(b, (int64_t)i);
        break;
    }
    case K_ARRAY: {
        json_t *v;
        if (!json_is_array(d))
            goto bad;
        if (json_array_size(d) && buf_long(b, (int64_t)json_array_size(d)) != 0)
            goto nomem;
        json_array_foreach(d, i, v) if (encode_default(c, n->item, v, b, path, depth + 1) < 0) return -1;
        rc = buf_long(b, 0);
        break;
    }
    case K_MAP: {
        const char *key;
        json_t *v;
        if (!json_is_object(d))
            goto bad;
        if (json_object_size(d) && buf_long(b, (int64_t)json_object_size(d)) != 0)
            goto nomem;
        json_object_foreach(d, key, v) {
            if (buf_long(b, (int64_t)strlen(key)) != 0 || buf_put(b, key, strlen(key)) != 0)
                goto nomem;
            if (encode_default(c, n->item, v, b, path, depth + 1) < 0)
                return -1;
        }
        rc = buf_long(b, 0);
        break;
    }
    case K_RECORD: {
        if (!json_is_object(d))
            goto bad;
        for (i = 0; i < n->n; i++) {
            json_t *v = json_object_get(d, n->fields[i].name);
            if (!v)
                v = n->fields[i].def;
            if (!v)
                goto bad;
            if (encode_default(c, n->fields[i].type, v, b, path, depth + 1) < 0)
                return -1;
        }
        break;
    }
    case K_UNION: /* the first branch's type (Avro 1.11; a null default also picks "null") */
        if (!n->n)
            goto bad;
        for (i = 0; i < n->n; i++) {
            size_t mark = b->len;
            errbuf_t quiet = {NULL, 0}, *save = c->eb;
            int ok;
            if (buf_long(b, (int64_t)i) != 0)
                goto nomem;
            c->eb = &quiet;
            ok = encode_default(c, n->branches[i], d, b, path, depth + 1);
            c->eb = save;
            if (ok == 0)
                return 0;
            if (c->err == VTEV_ERR_NOMEM)
                return -1;
            b->len = mark;
            if (!json_is_null(d) || i > 0)
                break; /* only the first branch may be the default's type (null: any, as common writers do) */
        }
        goto bad;
    default:
        goto bad;
    }
    if (rc != 0)
        goto nomem;
    return 0;
bad:
    c->err = set_err(c->eb, VTEV_ERR_SCHEMA, "%s: the reader's default does not match its type %s", PATH(path),
                     kind_names[n->kind]);
    return -1;
nomem:
    c->err = set_err(c->eb, VTEV_ERR_NOMEM, "out of memory");
    return -1;
}

/* Whether both models are the same binary layout (the same kinds, order,
 * symbols and sizes; names and defaults do not matter to the bytes). */
static bool same_layout(const amodel_t *a, uint32_t x, const amodel_t *b, uint32_t y, int depth, uint8_t *seen) {
    const anode_t *p = &a->nodes[x], *q = &b->nodes[y];
    uint32_t i;
    if (depth > a->max_depth || p->kind != q->kind || p->n != q->n)
        return false;
    if (p->kind == K_RECORD) {
        if (seen[x])
            return true; /* recursion: already being compared */
        seen[x] = 1;
    }
    switch (p->kind) {
    case K_FIXED:
        return p->size == q->size;
    case K_ENUM:
        for (i = 0; i < p->n; i++)
            if (strcmp(p->symbols[i], q->symbols[i]))
                return false;
        return true;
    case K_RECORD:
        for (i = 0; i < p->n; i++)
            if (strcmp(p->fields[i].name, q->fields[i].name) ||
                !same_layout(a, p->fields[i].type, b, q->fields[i].type, depth + 1, seen))
                return false;
        return true;
    case K_UNION:
        for (i = 0; i < p->n; i++)
            if (!same_layout(a, p->branches[i], b, q->branches[i], depth + 1, seen))
                return false;
        return true;
    case K_ARRAY:
    case K_MAP:
        return same_layout(a, p->item, b, q->item, depth + 1, seen);
    default:
        return true;
    }
}

vtev_err_t vtev__resolver_new(const char *writer_json, const char *reader_json, vtev__resolve_mode_t mode,
                              const vtev__avro_limits_t *lim, vtev__resolver_t **rp, char *errstr,
                              size_t errstr_size) {
    vtev__avro_limits_t dl;
    errbuf_t eb = {errstr, errstr_size};
    vtev__resolver_t *r;
    vtev_err_t err;
    cctx_t c;
    long top;
    if (!lim) {
        vtev__avro_limits_default(&dl);
        lim = &dl;
    }
    if (!(r = calloc(1, sizeof(*r))))
        return set_err(&eb, VTEV_ERR_NOMEM, "out of memory");
    r->mode = mode;
    if ((err = model_parse(writer_json, lim, "writer", &r->wm, &eb)) != VTEV_ERR_OK ||
        (err = model_parse(reader_json, lim, "reader", &r->rm, &eb)) != VTEV_ERR_OK) {
        vtev__resolver_destroy(r);
        return err;
    }
    c.r = r;
    c.eb = &eb;
    c.err = VTEV_ERR_OK;
    c.wunion = 0;
    if ((top = compile(&c, r->wm->top, r->rm->top, "", 0)) < 0) {
        vtev__resolver_destroy(r);
        if (errstr && errstr_size && c.err == VTEV_ERR_SCHEMA_MISMATCH) {
            char tmp[512];
            snprintf(tmp, sizeof(tmp), "%s", errstr);
            snprintf(errstr, errstr_size, "the writer schema cannot be read as the reader schema: %s", tmp);
        }
        return c.err ? c.err : VTEV_ERR_SCHEMA_MISMATCH;
    }
    r->top = (uint32_t)top;
    {
        uint8_t *seen = calloc(r->wm->nn ? r->wm->nn : 1, 1);
        if (!seen) {
            vtev__resolver_destroy(r);
            return set_err(&eb, VTEV_ERR_NOMEM, "out of memory");
        }
        r->identity = same_layout(r->wm, r->wm->top, r->rm, r->rm->top, 0, seen);
        free(seen);
    }
    *rp = r;
    return VTEV_ERR_OK;
}

bool vtev__avro_can_read(const char *writer_json, const char *reader_json, char *why, size_t why_size) {
    vtev__resolver_t *r = NULL;
    char tmp[512];
    vtev_err_t err = vtev__resolver_new(writer_json, reader_json, VTEV__RESOLVE_STRICT, NULL, &r,
                                        why ? why : tmp, why ? why_size : sizeof(tmp));
    vtev__resolver_destroy(r);
    return err == VTEV_ERR_OK;
}

/* ---------------------------------------------------------------------- */
/* Running a plan.                                                         */

typedef struct {
    const vtev__resolver_t *r;
    const unsigned char *p, *end;
    vtev__abuf_t *out;
    const vtev__avro_limits_t *lim;
    int64_t values;
    int depth;
    size_t *stack;         /* record segments */
    size_t nstack, scap;
    errbuf_t *eb;
} rctx_t;

#define RFAIL(x, ...) (set_err((x)->eb, VTEV_ERR_DECODE, __VA_ARGS__), VTEV_ERR_DECODE)

static vtev_err_t read_long(rctx_t *x, int64_t *v, bool is_int) {
    uint64_t z = 0;
    int shift = 0;
    for (;;) {
        unsigned char b;
        if (x->p >= x->end)
            return RFAIL(x, "Avro data: truncated number");
        b = *x->p++;
        if (shift == 63 && (b & 0x7e))
            return RFAIL(x, "Avro data: number too long");
        z |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
        shift += 7;
        if (shift > 63)
            return RFAIL(x, "Avro data: number too long");
    }
    *v = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
    if (is_int && (*v < INT32_MIN || *v > INT32_MAX))
        return RFAIL(x, "Avro data: int out of range");
    return VTEV_ERR_OK;
}

static vtev_err_t count_value(rctx_t *x) {
    if (++x->values > x->lim->max_values)
        return set_err(x->eb, VTEV_ERR_LIMIT, "Avro data: more than avro.max.values (%lld) values in one message",
                       (long long)x->lim->max_values);
    return VTEV_ERR_OK;
}

static vtev_err_t out_check(rctx_t *x, int rc) {
    if (rc != 0)
        return set_err(x->eb, VTEV_ERR_NOMEM, "out of memory");
    if (x->out->len > x->lim->max_bytes)
        return set_err(x->eb, VTEV_ERR_LIMIT, "Avro data: resolved datum over avro.max.bytes (%zu)",
                       x->lim->max_bytes);
    return VTEV_ERR_OK;
}

static vtev_err_t need(rctx_t *x, int64_t n) {
    if (n < 0 || n > x->end - x->p)
        return RFAIL(x, "Avro data: a length or size runs past the end of the input");
    return VTEV_ERR_OK;
}

/* Reads (and copies when out) one value of writer node w. */
static vtev_err_t walk_writer(rctx_t *x, uint32_t w, bool copy);

static vtev_err_t blocks(rctx_t *x, uint32_t plan_or_node, bool is_map, bool plan, bool copy);

static vtev_err_t run(rctx_t *x, uint32_t pi);

static vtev_err_t prim(rctx_t *x, int kind, bool copy) {
    const unsigned char *s = x->p;
    int64_t v;
    vtev_err_t err;
    if ((err = count_value(x)) != VTEV_ERR_OK)
        return err;
    switch (kind) {
    case K_NULL:
        return VTEV_ERR_OK;
    case K_BOOL:
        if ((err = need(x, 1)) != VTEV_ERR_OK)
            return err;
        if (*x->p > 1)
            return RFAIL(x, "Avro data: boolean byte %u", *x->p);
        x->p++;
        break;
    case K_INT:
    case K_LONG:
        if ((err = read_long(x, &v, kind == K_INT)) != VTEV_ERR_OK)
            return err;
        break;
    case K_FLOAT:
    case K_DOUBLE:
        if ((err = need(x, kind == K_FLOAT ? 4 : 8)) != VTEV_ERR_OK)
            return err;
        x->p += kind == K_FLOAT ? 4 : 8;
        break;
    case K_BYTES:
    case K_STRING:
        if ((err = read_long(x, &v, false)) != VTEV_ERR_OK || (err = need(x, v)) != VTEV_ERR_OK)
            return err;
        x->p += v;
        break;
    default:
        return RFAIL(x, "internal: not a primitive");
    }
    return copy ? out_check(x, buf_put(x->out, s, (size_t)(x->p - s))) : VTEV_ERR_OK;
}

static vtev_err_t walk_writer(rctx_t *x, uint32_t w, bool copy) {
    const anode_t *n = &x->r->wm->nodes[w];
    vtev_err_t err = VTEV_ERR_OK;
    int64_t v;
    uint32_t i;
    if (n->kind <= K_STRING)
        return prim(x, n->kind, copy);
    if (++x->depth > x->lim->max_depth)
        return set_err(x->eb, VTEV_ERR_LIMIT, "Avro data: nested deeper than avro.max.depth (%d)", x->lim->max_depth);
    switch (n->kind) {
    case K_FIXED:
        if ((err = count_value(x)) == VTEV_ERR_OK && (err = need(x, n->size)) == VTEV_ERR_OK) {
            if (copy)
                err = out_check(x, buf_put(x->out, x->p, (size_t)n->size));
            x->p += n->size;
        }
        break;
    case K_ENUM:
        if ((err = count_value(x)) == VTEV_ERR_OK && (err = read_long(x, &v, true)) == VTEV_ERR_OK) {
            if (v < 0 || v >= n->n)
                err = RFAIL(x, "Avro data: enum index %lld out of range", (long long)v);
            else if (copy)
                err = out_check(x, buf_long(x->out, v));
        }
        break;
    case K_UNION:
        if ((err = count_value(x)) == VTEV_ERR_OK && (err = read_long(x, &v, false)) == VTEV_ERR_OK) {
            if (v < 0 || v >= n->n)
                err = RFAIL(x, "Avro data: union branch %lld out of range", (long long)v);
            else if (!copy || (err = out_check(x, buf_long(x->out, v))) == VTEV_ERR_OK)
                err = walk_writer(x, n->branches[v], copy);
        }
        break;
    case K_RECORD:
        for (i = 0; i < n->n && err == VTEV_ERR_OK; i++)
            err = walk_writer(x, n->fields[i].type, copy);
        break;
    case K_ARRAY:
    case K_MAP:
        err = blocks(x, n->item, n->kind == K_MAP, false, copy);
        break;
    default:
        err = RFAIL(x, "internal: bad node");
    }
    x->depth--;
    return err;
}

/* Array or map blocks: each item through plan (plan=true) or walked as
 * writer node (plan=false).  Written out as one block per writer block,
 * with a positive count (the byte-size form is not kept). */
static vtev_err_t blocks(rctx_t *x, uint32_t what, bool is_map, bool plan, bool copy) {
    vtev_err_t err;
    for (;;) {
        int64_t count, i;
        if ((err = count_value(x)) != VTEV_ERR_OK || (err = read_long(x, &count, false)) != VTEV_ERR_OK)
            return err;
        if (count == 0)
            break;
        if (count < 0) {
            int64_t bytes;
            if (count == INT64_MIN)
                return RFAIL(x, "Avro data: bad block count");
            count = -count;
            if ((err = read_long(x, &bytes, false)) != VTEV_ERR_OK || (err = need(x, bytes)) != VTEV_ERR_OK)
                return err;
        }
        if (count > x->lim->max_values - x->values)
            return set_err(x->eb, VTEV_ERR_LIMIT,
                           "Avro data: more than avro.max.values (%lld) values in one message",
                           (long long)x->lim->max_values);
        if (copy && (err = out_check(x, buf_long(x->out, count))) != VTEV_ERR_OK)
            return err;
        for (i = 0; i < count; i++) {
            if (is_map && (err = prim(x, K_STRING, copy)) != VTEV_ERR_OK)
                return err;
            if ((err = plan ? run(x, what) : walk_writer(x, what, copy)) != VTEV_ERR_OK)
                return err;
        }
    }
    return copy ? out_check(x, buf_long(x->out, 0)) : VTEV_ERR_OK;
}

static vtev_err_t stack_push(rctx_t *x, size_t n, size_t *at) {
    if (x->nstack + n > x->scap) {
        size_t ncap = x->scap ? x->scap : 64;
        size_t *ns;
        while (ncap < x->nstack + n)
            ncap *= 2;
        if (!(ns = realloc(x->stack, ncap * sizeof(size_t))))
            return set_err(x->eb, VTEV_ERR_NOMEM, "out of memory");
        x->stack = ns;
        x->scap = ncap;
    }
    *at = x->nstack;
    x->nstack += n;
    return VTEV_ERR_OK;
}

static vtev_err_t run_record(rctx_t *x, const plan_t *pl) {
    const anode_t *a = &x->r->wm->nodes[pl->w], *b = &x->r->rm->nodes[pl->r];
    vtev_err_t err = VTEV_ERR_OK;
    size_t seg = 0, start, end, i;
    uint32_t j;
    if (pl->inorder) {
        for (j = 0; j < a->n && err == VTEV_ERR_OK; j++)
            err = run(x, pl->sub[j]);
        return err;
    }
    /* The writer's fields in its order, each resolved into the output;
     * then the reader's fields, in its order, appended from those segments
     * and the defaults, and moved down over them. */
    if ((err = stack_push(x, (size_t)b->n * 2, &seg)) != VTEV_ERR_OK)
        return err;
    start = x->out->len;
    for (j = 0; j < a->n && err == VTEV_ERR_OK; j++) {
        size_t s = x->out->len;
        err = run(x, pl->sub[j]);
        if (pl->map[j] >= 0) {
            x->stack[seg + 2 * (size_t)pl->map[j]] = s;
            x->stack[seg + 2 * (size_t)pl->map[j] + 1] = x->out->len - s;
        }
    }
    end = x->out->len;
    for (i = 0; i < b->n && err == VTEV_ERR_OK; i++) {
        if (pl->defs[i] >= 0)
            err = out_check(x, buf_put(x->out, x->r->defaults.data + pl->defs[i], pl->deflen[i]));
        else if ((err = out_check(x, buf_reserve(x->out, x->stack[seg + 2 * i + 1]))) == VTEV_ERR_OK) {
            memcpy(x->out->data + x->out->len, x->out->data + x->stack[seg + 2 * i], x->stack[seg + 2 * i + 1]);
            x->out->len += x->stack[seg + 2 * i + 1];
        }
    }
    if (err == VTEV_ERR_OK) {
        memmove(x->out->data + start, x->out->data + end, x->out->len - end);
        x->out->len = start + (x->out->len - end);
    }
    x->nstack = seg;
    return err;
}

static vtev_err_t run(rctx_t *x, uint32_t pi) {
    const plan_t *pl = &x->r->plans[pi];
    const anode_t *a = &x->r->wm->nodes[pl->w];
    vtev_err_t err = VTEV_ERR_OK;
    int64_t v;
    if (pl->op == OP_SKIP)
        return walk_writer(x, pl->w, false);
    if (pl->op == OP_SAME)
        return prim(x, a->kind, true);
    if (++x->depth > x->lim->max_depth)
        return set_err(x->eb, VTEV_ERR_LIMIT, "Avro data: nested deeper than avro.max.depth (%d)", x->lim->max_depth);
    switch (pl->op) {
    case OP_PROMOTE: {
        int rk = x->r->rm->nodes[pl->r].kind;
        if ((err = count_value(x)) != VTEV_ERR_OK)
            break;
        if (a->kind == K_STRING || a->kind == K_BYTES) {
            x->values--;
            err = prim(x, a->kind, true); /* the same bytes */
        } else if (a->kind == K_FLOAT) {
            float f;
            if ((err = need(x, 4)) == VTEV_ERR_OK) {
                uint32_t u = (uint32_t)x->p[0] | (uint32_t)x->p[1] << 8 | (uint32_t)x->p[2] << 16 |
                             (uint32_t)x->p[3] << 24;
                memcpy(&f, &u, 4);
                x->p += 4;
                err = out_check(x, buf_double(x->out, (double)f));
            }
        } else if ((err = read_long(x, &v, a->kind == K_INT)) == VTEV_ERR_OK) {
            err = out_check(x, rk == K_LONG    ? buf_long(x->out, v)
                               : rk == K_FLOAT ? buf_float(x->out, (float)v)
                                               : buf_double(x->out, (double)v));
        }
        break;
    }
    case OP_ENUM:
        if ((err = count_value(x)) == VTEV_ERR_OK && (err = read_long(x, &v, true)) == VTEV_ERR_OK) {
            if (v < 0 || v >= a->n)
                err = RFAIL(x, "Avro data: enum index %lld out of range", (long long)v);
            else if (pl->map[v] < 0)
                err = RFAIL(x, "%s: the writer's symbol %s is not in the reader's enum %s, which has no default",
                            PATH(pl->why ? pl->why : ""), a->symbols[v], x->r->rm->nodes[pl->r].fullname);
            else
                err = out_check(x, buf_long(x->out, pl->map[v]));
        }
        break;
    case OP_FIXED:
        x->depth--;
        return walk_writer(x, pl->w, true);
    case OP_RECORD:
        err = run_record(x, pl);
        break;
    case OP_ARRAY:
    case OP_MAP:
        err = blocks(x, pl->inner, pl->op == OP_MAP, true, true);
        break;
    case OP_WUNION:
        if ((err = count_value(x)) == VTEV_ERR_OK && (err = read_long(x, &v, false)) == VTEV_ERR_OK) {
            if (v < 0 || v >= a->n)
                err = RFAIL(x, "Avro data: union branch %lld out of range", (long long)v);
            else
                err = run(x, pl->sub[v]);
        }
        break;
    case OP_TORUNION:
        if ((err = out_check(x, buf_long(x->out, pl->rbranch))) == VTEV_ERR_OK)
            err = run(x, pl->inner);
        break;
    case OP_FAIL:
        err = RFAIL(x, "Avro data does not resolve: %s", pl->why);
        break;
    default:
        err = RFAIL(x, "internal: bad plan");
    }
    x->depth--;
    return err;
}

vtev_err_t vtev__resolver_run(const vtev__resolver_t *r, const void *buf, size_t len,
                              const vtev__avro_limits_t *lim, vtev__abuf_t *out, char *errstr,
                              size_t errstr_size) {
    vtev__avro_limits_t dl;
    errbuf_t eb = {errstr, errstr_size};
    rctx_t x;
    vtev_err_t err;
    if (!lim) {
        vtev__avro_limits_default(&dl);
        lim = &dl;
    }
    if (len > lim->max_bytes)
        return set_err(&eb, VTEV_ERR_LIMIT, "Avro data: %zu bytes over avro.max.bytes (%zu)", len, lim->max_bytes);
    memset(&x, 0, sizeof(x));
    x.r = r;
    x.p = buf;
    x.end = x.p + len;
    x.out = out;
    x.lim = lim;
    x.eb = &eb;
    out->len = 0;
    err = run(&x, r->top);
    free(x.stack);
    if (err == VTEV_ERR_OK && x.p != x.end)
        err = set_err(&eb, VTEV_ERR_DECODE, "Avro data: %zu trailing bytes", (size_t)(x.end - x.p));
    return err;
}
