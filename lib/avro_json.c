/*
 * avro_json.c - JSON text <-> Avro binary for any schema, in the JSON form
 * of doc/codegen.md (include/vtevents/avro_json.h).
 *
 * The schema is the library's model (avro_model.h), annotated once at set-up
 * with what the JSON form needs: logical types, the vt.* constraints, which
 * record fields are optionals, pre-encoded field defaults, the branch labels
 * of unions.  Conversions then go straight from the parsed JSON (jansson) to
 * the bytes, and from the bytes to the text, with the runtime of the
 * generated code (avro_direct.c) reading, writing, formatting and parsing
 * every value: that is what makes the text and the bytes those of the code
 * vt-codegen generates (tests/codegen/test_avro_json.c compares them).
 */
#include "avro_model.h"
#include "conf_int.h"
#include "internal.h"

#include <vtevents/avro_direct.h>
#include <vtevents/avro_json.h>

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* The annotated schema                                                    */

enum { LT_NONE, LT_UUID, LT_TS_MILLIS, LT_TS_MICROS, LT_DATE, LT_DECIMAL };

/* The vt.* constraints of one type (doc/codegen.md, section 4). */
typedef struct {
    bool has_lo, has_hi, lo_excl, hi_excl, finite, non_empty, uuid, key_non_empty;
    double lo, hi;       /* the bounds of floats and doubles */
    int64_t lo_i, hi_i;  /* the bounds of ints and longs */
    char lo_txt[48], hi_txt[48];
    long min_len, max_len, min_items, max_items, key_max_len; /* -1: none */
} cons_t;

typedef struct {
    int logical;         /* LT_* */
    int scale;           /* decimal */
    cons_t c;
    bool counts;         /* array or map: an item count constraint */
    bool bare;           /* union of scalars: the bare value */
    int null_branch;     /* union: the index of null, or -1 */
    char *names;         /* union: its labels, enum: its symbols, ", "-separated (owned) */
    size_t min_size;     /* the fewest bytes a value takes */
    int min_state;       /* 0 not computed, 1 being computed, 2 done */
    bool seen;           /* set-up done */
} ninfo_t;

typedef struct {
    int opt;             /* ["null", T] / [T, "null"]: the index of null; -1 otherwise */
    uint32_t inner;      /* T of an optional */
    bool now;            /* "vt.default": "now" */
    bool has_def;
    size_t def_off, def_len; /* the default, pre-encoded in defs */
} finfo_t;

struct vtev_avro_json_s {
    amodel_t *m;
    ninfo_t *ni;         /* per node */
    finfo_t **fi;        /* per record node: one per field */
    vtev_buf_t defs;
    vtev__avro_limits_t lim;
    bool any_checks;     /* some constraint or UUID or string to check */
};

static bool is_num(int k) {
    return k == K_INT || k == K_LONG || k == K_FLOAT || k == K_DOUBLE;
}

static bool is_intlike(int k) {
    return k == K_INT || k == K_LONG;
}

/* The JSON label of a union branch: the full name of a named type, else the
 * type's Avro name. */
static const char *label(const amodel_t *m, uint32_t id) {
    const anode_t *n = &m->nodes[id];
    return n->fullname ? n->fullname : vtev__akind_name(n->kind);
}

/* "PATH: message" into errstr; returns err. */
VTEV_PRINTF(5, 6)
static vtev_err_t sfail(vtev_err_t err, char *e, size_t es, const char *path, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (path && *path)
        vtev__seterr(e, es, "%s: %s", path, msg);
    else
        vtev__seterr(e, es, "%s", msg);
    return err;
}

static char *join_path(const char *path, const char *sep, const char *seg) {
    size_t n = strlen(path) + strlen(sep) + strlen(seg) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s%s", path, *path || *sep != '.' ? sep : "", seg);
    return s;
}

/* Appends "a, b, c" names to a malloc'd list. */
static int list_add(char **list, const char *name) {
    size_t old = *list ? strlen(*list) : 0, n = old + (old ? 2 : 0) + strlen(name) + 1;
    char *s = realloc(*list, n);
    if (!s)
        return -1;
    snprintf(s + old, n - old, "%s%s", old ? ", " : "", name);
    *list = s;
    return 0;
}

static void num_txt(bool intlike, json_t *v, char *b, size_t n) {
    double d = json_number_value(v);
    if (json_is_integer(v)) {
        snprintf(b, n, "%lld", (long long)json_integer_value(v));
    } else if (intlike) {
        snprintf(b, n, "%lld", (long long)d);
    } else {
        snprintf(b, n, "%.15g", d);
        if (strtod(b, NULL) != d)
            snprintf(b, n, "%.17g", d);
    }
}

static vtev_err_t get_count(char *e, size_t es, const char *path, const char *key, json_t *v, long *out) {
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT32_MAX)
        return sfail(VTEV_ERR_SCHEMA, e, es, path, "constraint %s: expected a non-negative integer, got %s", key,
                     json_is_integer(v) ? "a negative or too large integer" : "another JSON type");
    *out = (long)json_integer_value(v);
    return VTEV_ERR_OK;
}

static vtev_err_t get_true(char *e, size_t es, const char *path, const char *key, json_t *v, bool *out) {
    if (!json_is_boolean(v))
        return sfail(VTEV_ERR_SCHEMA, e, es, path, "constraint %s: expected true or false", key);
    *out = json_is_true(v);
    return VTEV_ERR_OK;
}

/* The vt.* attributes of obj (a type object, or a field's object when f is
 * not NULL) applied to node id, as vt-codegen applies them. */
static vtev_err_t apply_constraints(vtev_avro_json_t *c, const char *path, json_t *obj, uint32_t id, finfo_t *f,
                                    char *e, size_t es) {
    const anode_t *n = &c->m->nodes[id];
    ninfo_t *ni = &c->ni[id];
    cons_t *k = &ni->c;
    const char *key, *kind = vtev__akind_name(n->kind);
    json_t *v;
    vtev_err_t err = VTEV_ERR_OK;
    json_object_foreach(obj, key, v) {
        if (strncmp(key, "vt.", 3))
            continue;
        if (!strcmp(key, "vt.min") || !strcmp(key, "vt.max") || !strcmp(key, "vt.exclusiveMin") ||
            !strcmp(key, "vt.exclusiveMax")) {
            bool lo = !strcmp(key, "vt.min") || !strcmp(key, "vt.exclusiveMin");
            double d;
            if (!is_num(n->kind))
                return sfail(VTEV_ERR_SCHEMA, e, es, path, "constraint %s applies to numbers, not to %s", key, kind);
            if (!json_is_number(v))
                return sfail(VTEV_ERR_SCHEMA, e, es, path, "constraint %s: expected a number", key);
            d = json_number_value(v);
            if (is_intlike(n->kind) &&
                (!json_is_integer(v) || (n->kind == K_INT && (d < INT32_MIN || d > INT32_MAX))))
                return sfail(VTEV_ERR_SCHEMA, e, es, path, "constraint %s: %s is not a value of type %s", key,
                             json_is_integer(v) ? "the bound" : "a fractional bound", kind);
            if (lo) {
                if (k->has_lo)
                    return sfail(VTEV_ERR_SCHEMA, e, es, path, "constraint %s: a lower bound is already set", key);
                k->has_lo = true;
                k->lo = d;
                k->lo_i = json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
                k->lo_excl = key[3] == 'e';
                num_txt(is_intlike(n->kind), v, k->lo_txt, sizeof(k->lo_txt));
            } else {
                if (k->has_hi)
                    return sfail(VTEV_ERR_SCHEMA, e, es, path, "constraint %s: an upper bound is already set", key);
                k->has_hi = true;
                k->hi = d;
                k->hi_i = json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
                k->hi_excl = key[3] == 'e';
                num_txt(is_intlike(n->kind), v, k->hi_txt, sizeof(k->hi_txt));
            }
        } else if (!strcmp(key, "vt.finite")) {
            if (n->kind != K_FLOAT && n->kind != K_DOUBLE)
                return sfail(VTEV_ERR_SCHEMA, e, es, path, "constraint %s applies to float and double, not to %s",
                             key, kind);
            err = get_true(e, es, path, key, v, &k->finite);
        } else if (!strcmp(key, "vt.minLength") || !strcmp(key, "vt.maxLength")) {
            if (n->kind != K_STRING && n->kind != K_BYTES)
                return sfail(VTEV_ERR_SCHEMA, e, es, path, "constraint %s applies to string and bytes, not to %s",
                             key, kind);
            err = get_count(e, es, path, key, v, key[4] == 'i' ? &k->min_len : &k->max_len);
        } else if (!strcmp(key, "vt.nonEmpty")) {
            if (n->kind != K_STRING && n->kind != K_BYTES && n->kind != K_ARRAY && n->kind != K_MAP)
                return sfail(VTEV_ERR_SCHEMA, e, es, path,
                             "constraint %s applies to string, bytes, array and map, not to %s", key, kind);
            err = get_true(e, es, path, key, v, &k->non_empty);
        } else if (!strcmp(key, "vt.format")) {
            if (!json_is_string(v) || strcmp(json_string_value(v), "uuid"))
                return sfail(VTEV_ERR_SCHEMA, e, es, path, "constraint %s: the only format is \"uuid\"", key);
            if (n->kind != K_STRING)
                return sfail(VTEV_ERR_SCHEMA, e, es, path, "constraint %s applies to string, not to %s", key, kind);
            k->uuid = true;
        } else if (!strcmp(key, "vt.minItems") || !strcmp(key, "vt.maxItems")) {
            if (n->kind != K_ARRAY && n->kind != K_MAP)
                return sfail(VTEV_ERR_SCHEMA, e, es, path, "constraint %s applies to array and map, not to %s", key,
                             kind);
            err = get_count(e, es, path, key, v, key[4] == 'i' ? &k->min_items : &k->max_items);
        } else if (!strcmp(key, "vt.keyMaxLength") || !strcmp(key, "vt.keyNonEmpty")) {
            if (n->kind != K_MAP)
                return sfail(VTEV_ERR_SCHEMA, e, es, path, "constraint %s applies to map, not to %s", key, kind);
            if (!strcmp(key, "vt.keyMaxLength"))
                err = get_count(e, es, path, key, v, &k->key_max_len);
            else
                err = get_true(e, es, path, key, v, &k->key_non_empty);
        } else if (!strcmp(key, "vt.default")) {
            if (!f)
                return sfail(VTEV_ERR_SCHEMA, e, es, path, "%s belongs on a field, not on a type", key);
            if (!json_is_string(v) || strcmp(json_string_value(v), "now"))
                return sfail(VTEV_ERR_SCHEMA, e, es, path, "%s: the only value is \"now\"", key);
            if (ni->logical != LT_TS_MILLIS && ni->logical != LT_TS_MICROS)
                return sfail(VTEV_ERR_SCHEMA, e, es, path,
                             "%s \"now\" applies to timestamp-millis and timestamp-micros fields", key);
            f->now = true;
        } else if (!strcmp(key, "vt.key") || !strcmp(key, "vt.cname")) {
            /* the message key and the C name (doc/codegen.md): no effect on the JSON form */
        } else {
            return sfail(VTEV_ERR_SCHEMA, e, es, path, "unknown constraint %s", key);
        }
        if (err)
            return err;
    }
    if (k->has_lo && k->has_hi && (k->lo > k->hi || (k->lo == k->hi && (k->lo_excl || k->hi_excl))))
        return sfail(VTEV_ERR_SCHEMA, e, es, path, "constraint: the range [%s, %s] is empty", k->lo_txt, k->hi_txt);
    if (k->min_len >= 0 && k->max_len >= 0 && k->min_len > k->max_len)
        return sfail(VTEV_ERR_SCHEMA, e, es, path, "constraint: vt.minLength %ld exceeds vt.maxLength %ld", k->min_len,
                     k->max_len);
    if (k->min_items >= 0 && k->max_items >= 0 && k->min_items > k->max_items)
        return sfail(VTEV_ERR_SCHEMA, e, es, path, "constraint: vt.minItems %ld exceeds vt.maxItems %ld",
                     k->min_items, k->max_items);
    ni->counts = k->max_items >= 0 || k->min_items > 0 || k->non_empty;
    if (k->has_lo || k->has_hi || k->finite || k->min_len >= 0 || k->max_len >= 0 || k->non_empty || k->uuid ||
        ni->counts || k->key_max_len >= 0 || k->key_non_empty)
        c->any_checks = true;
    return VTEV_ERR_OK;
}

/* The logical types of the JSON form; any other, or one with invalid
 * attributes, leaves the underlying type (the Avro specification's rule). */
static void parse_logical(vtev_avro_json_t *c, uint32_t id) {
    const anode_t *n = &c->m->nodes[id];
    ninfo_t *ni = &c->ni[id];
    const char *s = json_is_object(n->src) ? json_string_value(json_object_get(n->src, "logicalType")) : NULL;
    if (!s)
        return;
    if (!strcmp(s, "uuid") && n->kind == K_STRING) {
        ni->logical = LT_UUID;
        ni->c.uuid = true;
        c->any_checks = true;
    } else if (!strcmp(s, "timestamp-millis") && n->kind == K_LONG) {
        ni->logical = LT_TS_MILLIS;
    } else if (!strcmp(s, "timestamp-micros") && n->kind == K_LONG) {
        ni->logical = LT_TS_MICROS;
    } else if (!strcmp(s, "date") && n->kind == K_INT) {
        ni->logical = LT_DATE;
    } else if (!strcmp(s, "decimal") && (n->kind == K_BYTES || n->kind == K_FIXED)) {
        json_t *p = json_object_get(n->src, "precision"), *sc = json_object_get(n->src, "scale");
        json_int_t prec = json_integer_value(p), scale = sc ? json_integer_value(sc) : 0;
        if (!json_is_integer(p) || prec < 1 || prec > 1000 || (sc && !json_is_integer(sc)) || scale < 0 ||
            scale > prec)
            return;
        if (n->kind == K_FIXED && (double)prec > floor(log10(pow(2, 8.0 * (double)n->size - 1) - 1)))
            return;
        ni->logical = LT_DECIMAL;
        ni->scale = (int)scale;
    }
}

static vtev_err_t enc_default(vtev_avro_json_t *c, uint32_t id, json_t *d, vtev_buf_t *b, const char *path,
                              int depth, char *e, size_t es);

static vtev_err_t setup(vtev_avro_json_t *c, uint32_t id, const char *path, int depth, char *e, size_t es);

static vtev_err_t setup_record(vtev_avro_json_t *c, uint32_t id, const char *path, int depth, char *e,
                               size_t es) {
    const anode_t *n = &c->m->nodes[id];
    uint32_t i;
    vtev_err_t err;
    if (n->n && !(c->fi[id] = calloc(n->n, sizeof(finfo_t))))
        return sfail(VTEV_ERR_NOMEM, e, es, NULL, "out of memory");
    for (i = 0; i < n->n; i++) {
        const afield_t *fl = &n->fields[i];
        const anode_t *t = &c->m->nodes[fl->type];
        finfo_t *f = &c->fi[id][i];
        uint32_t target = fl->type;
        char *fp = join_path(path, ".", fl->name);
        const char *k;
        json_t *v;
        bool any = false;
        if (!fp)
            return sfail(VTEV_ERR_NOMEM, e, es, NULL, "out of memory");
        if ((err = setup(c, fl->type, fp, depth + 1, e, es))) {
            free(fp);
            return err;
        }
        f->opt = -1;
        if (t->kind == K_UNION && t->n == 2 &&
            (c->m->nodes[t->branches[0]].kind == K_NULL) != (c->m->nodes[t->branches[1]].kind == K_NULL)) {
            f->opt = c->m->nodes[t->branches[0]].kind == K_NULL ? 0 : 1;
            f->inner = target = t->branches[1 - f->opt];
        }
        json_object_foreach(fl->obj, k, v) {
            if (!strncmp(k, "vt.", 3))
                any = true;
        }
        if (any) {
            const anode_t *tn = &c->m->nodes[target];
            if (tn->fullname || tn->kind == K_UNION) {
                err = sfail(VTEV_ERR_SCHEMA, e, es, fp,
                            "constraints on a field of type %s belong in the type's own definition",
                            tn->fullname ? tn->fullname : "union");
                free(fp);
                return err;
            }
            if ((err = apply_constraints(c, fp, fl->obj, target, f, e, es))) {
                free(fp);
                return err;
            }
        }
        if (fl->def) {
            size_t mark = c->defs.len;
            if ((err = enc_default(c, fl->type, fl->def, &c->defs, fp, 0, e, es))) {
                free(fp);
                return err;
            }
            f->has_def = true;
            f->def_off = mark;
            f->def_len = c->defs.len - mark;
        }
        free(fp);
    }
    return VTEV_ERR_OK;
}

static vtev_err_t setup_union(vtev_avro_json_t *c, uint32_t id, const char *path, int depth, char *e, size_t es) {
    const anode_t *n = &c->m->nodes[id];
    ninfo_t *ni = &c->ni[id];
    int ints = 0, floats = 0;
    uint32_t i, k;
    vtev_err_t err;
    ni->null_branch = -1;
    ni->bare = true;
    if (!n->n)
        return sfail(VTEV_ERR_SCHEMA, e, es, path, "an empty union");
    for (i = 0; i < n->n; i++) {
        uint32_t b = n->branches[i];
        char seg[32], *bp;
        snprintf(seg, sizeof(seg), "<%u>", (unsigned)i);
        if (!(bp = join_path(path, "", seg)))
            return sfail(VTEV_ERR_NOMEM, e, es, NULL, "out of memory");
        err = setup(c, b, bp, depth + 1, e, es);
        for (k = 0; !err && k < i; k++)
            if (!strcmp(label(c->m, n->branches[k]), label(c->m, b)))
                err = sfail(VTEV_ERR_SCHEMA, e, es, bp, "the union holds %s twice", label(c->m, b));
        free(bp);
        if (err)
            return err;
        if (list_add(&ni->names, label(c->m, b)))
            return sfail(VTEV_ERR_NOMEM, e, es, NULL, "out of memory");
        switch (c->m->nodes[b].kind) {
        case K_NULL: ni->null_branch = (int)i; break;
        case K_BOOL:
        case K_STRING: break;
        case K_INT:
        case K_LONG: ints++; break;
        case K_FLOAT:
        case K_DOUBLE: floats++; break;
        default: ni->bare = false;
        }
        if (c->ni[b].logical != LT_NONE)
            ni->bare = false;
    }
    if (ints > 1 || floats > 1)
        ni->bare = false;
    return VTEV_ERR_OK;
}

static vtev_err_t setup(vtev_avro_json_t *c, uint32_t id, const char *path, int depth, char *e, size_t es) {
    const anode_t *n = &c->m->nodes[id];
    ninfo_t *ni = &c->ni[id];
    vtev_err_t err;
    uint32_t i;
    char *ip;
    if (ni->seen)
        return VTEV_ERR_OK;
    ni->seen = true;
    ni->c.min_len = ni->c.max_len = ni->c.min_items = ni->c.max_items = ni->c.key_max_len = -1;
    if (depth > c->lim.max_depth)
        return sfail(VTEV_ERR_LIMIT, e, es, path, "the schema nests deeper than avro.max.depth (%d)",
                     c->lim.max_depth);
    parse_logical(c, id);
    if (json_is_object(n->src) && (err = apply_constraints(c, path, n->src, id, NULL, e, es)))
        return err;
    switch (n->kind) {
    case K_STRING: c->any_checks = true; break; /* UTF-8 */
    case K_RECORD: return setup_record(c, id, path, depth, e, es);
    case K_UNION: return setup_union(c, id, path, depth, e, es);
    case K_ENUM:
        for (i = 0; i < n->n; i++)
            if (list_add(&ni->names, n->symbols[i]))
                return sfail(VTEV_ERR_NOMEM, e, es, NULL, "out of memory");
        break;
    case K_ARRAY:
    case K_MAP:
        if (!(ip = join_path(path, "", n->kind == K_ARRAY ? "[]" : ".*")))
            return sfail(VTEV_ERR_NOMEM, e, es, NULL, "out of memory");
        err = setup(c, n->item, ip, depth + 1, e, es);
        free(ip);
        return err;
    default: break;
    }
    return VTEV_ERR_OK;
}

/* The fewest bytes a value of node id takes (a recursive reference counts 0). */
static size_t min_size(vtev_avro_json_t *c, uint32_t id) {
    const anode_t *n = &c->m->nodes[id];
    ninfo_t *ni = &c->ni[id];
    size_t s = 0;
    uint32_t i;
    if (ni->min_state == 2)
        return ni->min_size;
    if (ni->min_state == 1)
        return 0;
    ni->min_state = 1;
    switch (n->kind) {
    case K_NULL: s = 0; break;
    case K_FLOAT: s = 4; break;
    case K_DOUBLE: s = 8; break;
    case K_FIXED: s = (size_t)n->size; break;
    case K_RECORD:
        for (i = 0; i < n->n; i++)
            s += min_size(c, n->fields[i].type);
        break;
    case K_ARRAY:
    case K_MAP: min_size(c, n->item); s = 1; break;
    case K_UNION:
        for (i = 0; i < n->n; i++)
            min_size(c, n->branches[i]);
        s = 1;
        break;
    default: s = 1;
    }
    ni->min_size = s;
    ni->min_state = 2;
    return s;
}

/* A field default (Avro's JSON encoding of it: bytes as code points 0-255, a
 * union's of its first branch) into b. */
static vtev_err_t enc_default(vtev_avro_json_t *c, uint32_t id, json_t *d, vtev_buf_t *b, const char *path,
                              int depth, char *e, size_t es) {
    const anode_t *n = &c->m->nodes[id];
    int rc = 0;
    size_t i;
    vtev_err_t err;
    if (depth > c->lim.max_depth)
        return sfail(VTEV_ERR_LIMIT, e, es, path, "default: nested deeper than avro.max.depth (%d)", c->lim.max_depth);
    switch (n->kind) {
    case K_NULL:
        if (!json_is_null(d))
            return sfail(VTEV_ERR_SCHEMA, e, es, path, "default: expected null");
        return VTEV_ERR_OK;
    case K_BOOL:
        if (!json_is_boolean(d))
            return sfail(VTEV_ERR_SCHEMA, e, es, path, "default: expected true or false");
        rc = vtev_rt_put_bool(b, json_is_true(d));
        break;
    case K_INT:
    case K_LONG:
        if (!json_is_integer(d) ||
            (n->kind == K_INT && (json_integer_value(d) < INT32_MIN || json_integer_value(d) > INT32_MAX)))
            return sfail(VTEV_ERR_SCHEMA, e, es, path, "default: expected a value of type %s",
                         vtev__akind_name(n->kind));
        rc = vtev_rt_put_long(b, (int64_t)json_integer_value(d));
        break;
    case K_FLOAT:
    case K_DOUBLE:
        if (!json_is_number(d))
            return sfail(VTEV_ERR_SCHEMA, e, es, path, "default: expected a number");
        rc = n->kind == K_FLOAT ? vtev_rt_put_float(b, (float)json_number_value(d))
                                : vtev_rt_put_double(b, json_number_value(d));
        break;
    case K_STRING:
        if (!json_is_string(d) || strlen(json_string_value(d)) != json_string_length(d))
            return sfail(VTEV_ERR_SCHEMA, e, es, path, "default: expected a string without NUL bytes");
        rc = vtev_rt_put_bytes(b, json_string_value(d), json_string_length(d));
        break;
    case K_BYTES:
    case K_FIXED: {
        const unsigned char *s = (const unsigned char *)json_string_value(d);
        size_t len = json_string_length(d), cnt = 0;
        unsigned char *raw;
        if (!s)
            return sfail(VTEV_ERR_SCHEMA, e, es, path, "default: expected a string (bytes as code points 0-255)");
        if (!(raw = malloc(len + 1)))
            return sfail(VTEV_ERR_NOMEM, e, es, NULL, "out of memory");
        for (i = 0; i < len;) {
            if (s[i] >= 0xc4 || (s[i] >= 0x80 && s[i] < 0xc2)) {
                free(raw);
                return sfail(VTEV_ERR_SCHEMA, e, es, path, "default: code point above U+00FF");
            }
            if (s[i] >= 0xc2) {
                raw[cnt++] = (unsigned char)(((s[i] & 0x1f) << 6) | (s[i + 1] & 0x3f));
                i += 2;
            } else {
                raw[cnt++] = s[i++];
            }
        }
        if (n->kind == K_FIXED && cnt != (size_t)n->size) {
            free(raw);
            return sfail(VTEV_ERR_SCHEMA, e, es, path, "default: expected %lld bytes, got %zu", (long long)n->size,
                         cnt);
        }
        rc = n->kind == K_FIXED ? vtev_rt_put_raw(b, raw, cnt) : vtev_rt_put_bytes(b, raw, cnt);
        free(raw);
        break;
    }
    case K_ENUM: {
        json_t *at = json_is_string(d) ? json_object_get(n->index, json_string_value(d)) : NULL;
        if (!at)
            return sfail(VTEV_ERR_SCHEMA, e, es, path, "default: expected one of the enum's symbols");
        rc = vtev_rt_put_long(b, (int64_t)json_integer_value(at));
        break;
    }
    case K_ARRAY:
    case K_MAP: {
        const char *k;
        json_t *v;
        if (n->kind == K_ARRAY ? !json_is_array(d) : !json_is_object(d))
            return sfail(VTEV_ERR_SCHEMA, e, es, path, "default: expected an %s",
                         n->kind == K_ARRAY ? "array" : "object");
        if (json_is_array(d) ? json_array_size(d) : json_object_size(d)) {
            if (vtev_rt_put_long(b, (int64_t)(json_is_array(d) ? json_array_size(d) : json_object_size(d))))
                goto nomem;
            if (json_is_array(d)) {
                json_array_foreach(d, i, v) {
                    if ((err = enc_default(c, n->item, v, b, path, depth + 1, e, es)))
                        return err;
                }
            } else {
                json_object_foreach(d, k, v) {
                    if (vtev_rt_put_str(b, k))
                        goto nomem;
                    if ((err = enc_default(c, n->item, v, b, path, depth + 1, e, es)))
                        return err;
                }
            }
        }
        rc = vtev_rt_put_long(b, 0);
        break;
    }
    case K_RECORD: {
        const char *k;
        json_t *v;
        if (!json_is_object(d))
            return sfail(VTEV_ERR_SCHEMA, e, es, path, "default: expected an object");
        json_object_foreach(d, k, v) {
            if (!json_object_get(n->index, k))
                return sfail(VTEV_ERR_SCHEMA, e, es, path, "default: %s is not a field of %s", k, n->fullname);
        }
        for (i = 0; i < n->n; i++) {
            json_t *fv = json_object_get(d, n->fields[i].name);
            if (!fv && !(fv = n->fields[i].def))
                return sfail(VTEV_ERR_SCHEMA, e, es, path, "default: the field %s has no value and no default",
                             n->fields[i].name);
            if ((err = enc_default(c, n->fields[i].type, fv, b, path, depth + 1, e, es)))
                return err;
        }
        break;
    }
    case K_UNION:
        if (vtev_rt_put_long(b, 0))
            goto nomem;
        return enc_default(c, n->branches[0], d, b, path, depth + 1, e, es);
    default: break;
    }
    if (rc)
        goto nomem;
    return VTEV_ERR_OK;
nomem:
    return sfail(VTEV_ERR_NOMEM, e, es, NULL, "out of memory");
}

vtev_avro_json_t *vtev_avro_json_new(const char *schema_json, const vtev_conf_t *conf, char *errstr,
                                     size_t errstr_size) {
    vtev_avro_json_t *c;
    size_t i;
    if (errstr && errstr_size)
        errstr[0] = '\0';
    if (!schema_json) {
        vtev__seterr(errstr, errstr_size, "vtev_avro_json_new: the schema is required");
        return NULL;
    }
    if (!(c = calloc(1, sizeof(*c)))) {
        vtev__seterr(errstr, errstr_size, "out of memory");
        return NULL;
    }
    vtev__avro_limits_default(&c->lim);
    if (conf) {
        c->lim.max_depth = (int)vtev__conf_int(conf, "avro.max.depth");
        c->lim.max_values = vtev__conf_int(conf, "avro.max.values");
        c->lim.max_bytes = (size_t)vtev__conf_int(conf, "avro.max.bytes");
        c->lim.max_types = (int)vtev__conf_int(conf, "avro.max.schema.types");
    }
    if (vtev__amodel_parse(schema_json, &c->lim, &c->m, errstr, errstr_size) != VTEV_ERR_OK)
        goto fail;
    if (!(c->ni = calloc(c->m->nn, sizeof(*c->ni))) || !(c->fi = calloc(c->m->nn, sizeof(*c->fi)))) {
        vtev__seterr(errstr, errstr_size, "out of memory");
        goto fail;
    }
    if (setup(c, c->m->top, "", 0, errstr, errstr_size) != VTEV_ERR_OK)
        goto fail;
    for (i = 0; i < c->m->nn; i++)
        min_size(c, (uint32_t)i);
    return c;
fail:
    vtev_avro_json_destroy(c);
    return NULL;
}

void vtev_avro_json_destroy(vtev_avro_json_t *c) {
    size_t i;
    if (!c)
        return;
    if (c->m) {
        for (i = 0; i < c->m->nn; i++) {
            if (c->ni)
                free(c->ni[i].names);
            if (c->fi)
                free(c->fi[i]);
        }
    }
    free(c->ni);
    free(c->fi);
    vtev_buf_free(&c->defs);
    vtev__amodel_free(c->m);
    free(c);
}

/* ---------------------------------------------------------------------- */
/* JSON -> Avro binary                                                     */

typedef struct {
    const vtev_avro_json_t *c;
    vtev_buf_t *out;
    int depth;
    char *e;
    size_t es;
} ectx_t;

#define EFAIL(x, err, ...) vtev_rt_fail((err), (x)->e, (x)->es, __VA_ARGS__)
#define PUT(x, call)                                                                                              \
    do {                                                                                                          \
        if (call)                                                                                                 \
            return EFAIL(x, VTEV_ERR_NOMEM, ": out of memory");                                                   \
    } while (0)

static vtev_err_t enc(ectx_t *x, uint32_t id, json_t *j);

/* enc() with seg in front of its message. */
static vtev_err_t enc_at(ectx_t *x, uint32_t id, json_t *j, const char *seg) {
    vtev_err_t err = enc(x, id, j);
    if (err)
        vtev_rt_err_prefix(x->e, x->es, seg);
    return err;
}

static vtev_err_t enc_record(ectx_t *x, uint32_t id, json_t *j) {
    const anode_t *n = &x->c->m->nodes[id];
    const char *k;
    json_t *v;
    uint32_t i;
    vtev_err_t err;
    if (!json_is_object(j))
        return EFAIL(x, VTEV_ERR_PARSE, ": expected an object, got %s", vtev_rt_json_kind(j));
    json_object_foreach(j, k, v) {
        if (!json_object_get(n->index, k))
            return EFAIL(x, VTEV_ERR_PARSE, "%.128s: unknown field", k);
    }
    for (i = 0; i < n->n; i++) {
        const afield_t *fl = &n->fields[i];
        const finfo_t *f = &x->c->fi[id][i];
        const anode_t *t = &x->c->m->nodes[fl->type];
        if ((v = json_object_get(j, fl->name))) {
            if (f->opt >= 0 && json_is_null(v)) {
                PUT(x, vtev_rt_put_long(x->out, f->opt));
            } else if (f->opt >= 0) {
                PUT(x, vtev_rt_put_long(x->out, 1 - f->opt));
                if ((err = enc_at(x, f->inner, v, fl->name)))
                    return err;
            } else if ((err = enc_at(x, fl->type, v, fl->name))) {
                return err;
            }
        } else if (f->has_def) {
            PUT(x, vtev_rt_put_raw(x->out, x->c->defs.data + f->def_off, f->def_len));
        } else if (f->opt >= 0) {
            PUT(x, vtev_rt_put_long(x->out, f->opt));
        } else if (t->kind == K_STRING && x->c->ni[fl->type].c.uuid) {
            char u[VTEV_RT_UUID_LEN + 1];
            if (vtev_rt_uuid4(u))
                return EFAIL(x, VTEV_ERR_IO, "%s: no randomness for a UUID", fl->name);
            PUT(x, vtev_rt_put_str(x->out, u));
        } else if (f->now) {
            int64_t now = vtev_rt_now_us();
            PUT(x, vtev_rt_put_long(x->out, x->c->ni[fl->type].logical == LT_TS_MILLIS ? now / 1000 : now));
        } else if (t->kind != K_NULL) {
            return EFAIL(x, VTEV_ERR_PARSE, "%s: missing required field", fl->name);
        }
    }
    return VTEV_ERR_OK;
}

static vtev_err_t enc_union(ectx_t *x, uint32_t id, json_t *j) {
    const anode_t *n = &x->c->m->nodes[id];
    const ninfo_t *ni = &x->c->ni[id];
    const char *k;
    json_t *v;
    uint32_t i;
    if (ni->null_branch >= 0 && json_is_null(j)) {
        PUT(x, vtev_rt_put_long(x->out, ni->null_branch));
        return VTEV_ERR_OK;
    }
    if (ni->bare) {
        bool has_int = false;
        for (i = 0; i < n->n; i++)
            if (is_intlike(x->c->m->nodes[n->branches[i]].kind))
                has_int = true;
        for (i = 0; i < n->n; i++) {
            bool match = false;
            switch (x->c->m->nodes[n->branches[i]].kind) {
            case K_BOOL: match = json_is_boolean(j); break;
            case K_STRING: match = json_is_string(j); break;
            case K_INT:
            case K_LONG: match = json_is_integer(j); break;
            case K_FLOAT:
            case K_DOUBLE: match = has_int ? json_is_real(j) : json_is_number(j); break;
            default: break;
            }
            if (match) {
                PUT(x, vtev_rt_put_long(x->out, i));
                return enc(x, n->branches[i], j);
            }
        }
        return EFAIL(x, VTEV_ERR_PARSE, ": expected one of %s, got %s", ni->names, vtev_rt_json_kind(j));
    }
    if (!json_is_object(j) || json_object_size(j) != 1)
        return EFAIL(x, VTEV_ERR_PARSE, ": expected %san object with one member named by its type (%s)",
                     ni->null_branch >= 0 ? "null or " : "", ni->names);
    json_object_foreach(j, k, v) {
        for (i = 0; i < n->n; i++) {
            uint32_t b = n->branches[i];
            if (x->c->m->nodes[b].kind != K_NULL && !strcmp(k, label(x->c->m, b))) {
                PUT(x, vtev_rt_put_long(x->out, i));
                return enc_at(x, b, v, k);
            }
        }
        return EFAIL(x, VTEV_ERR_PARSE, ": \"%.64s\" is not a type of the union (%s)", k, ni->names);
    }
    return VTEV_ERR_OK;
}

static vtev_err_t enc_bytes(ectx_t *x, const anode_t *n, const ninfo_t *ni, json_t *j) {
    vtev_bytes_t b;
    int rc;
    size_t fixed = n->kind == K_FIXED ? (size_t)n->size : 0;
    if (ni->logical == LT_DECIMAL) {
        if (!json_is_string(j))
            return EFAIL(x, VTEV_ERR_PARSE, ": expected a decimal string, got %s", vtev_rt_json_kind(j));
        if ((rc = vtev_rt_parse_decimal(json_string_value(j), ni->scale, fixed, &b)) == -2)
            return EFAIL(x, VTEV_ERR_NOMEM, ": out of memory");
        if (rc)
            return EFAIL(x, VTEV_ERR_PARSE, ": \"%.40s\" is not a decimal with at most %d digits after the point%s",
                         json_string_value(j), ni->scale, fixed ? " that fits the fixed size" : "");
    } else {
        if (!json_is_string(j))
            return EFAIL(x, VTEV_ERR_PARSE, ": expected a base64 string, got %s", vtev_rt_json_kind(j));
        if ((rc = vtev_rt_parse_base64(json_string_value(j), json_string_length(j), &b)) == -2)
            return EFAIL(x, VTEV_ERR_NOMEM, ": out of memory");
        if (rc)
            return EFAIL(x, VTEV_ERR_PARSE, ": \"%.32s\" is not base64", json_string_value(j));
        if (fixed && b.len != fixed) {
            free(b.data);
            return EFAIL(x, VTEV_ERR_PARSE, ": expected %zu bytes, got %zu", fixed, b.len);
        }
    }
    rc = fixed ? vtev_rt_put_raw(x->out, b.data, b.len) : vtev_rt_put_bytes(x->out, b.data, b.len);
    free(b.data);
    if (rc)
        return EFAIL(x, VTEV_ERR_NOMEM, ": out of memory");
    return VTEV_ERR_OK;
}

static vtev_err_t enc(ectx_t *x, uint32_t id, json_t *j) {
    const anode_t *n = &x->c->m->nodes[id];
    const ninfo_t *ni = &x->c->ni[id];
    vtev_err_t err = VTEV_ERR_OK;
    size_t i;
    switch (n->kind) {
    case K_NULL:
        if (!json_is_null(j))
            return EFAIL(x, VTEV_ERR_PARSE, ": expected null, got %s", vtev_rt_json_kind(j));
        return VTEV_ERR_OK;
    case K_BOOL:
        if (!json_is_boolean(j))
            return EFAIL(x, VTEV_ERR_PARSE, ": expected a boolean, got %s", vtev_rt_json_kind(j));
        PUT(x, vtev_rt_put_bool(x->out, json_is_true(j)));
        return VTEV_ERR_OK;
    case K_INT:
        if (ni->logical == LT_DATE) {
            int32_t days;
            if (!json_is_string(j))
                return EFAIL(x, VTEV_ERR_PARSE, ": expected a date string, got %s", vtev_rt_json_kind(j));
            if (vtev_rt_parse_date(json_string_value(j), &days))
                return EFAIL(x, VTEV_ERR_PARSE, ": \"%.32s\" is not a date like 2026-01-10", json_string_value(j));
            PUT(x, vtev_rt_put_long(x->out, days));
            return VTEV_ERR_OK;
        }
        if (!json_is_integer(j))
            return EFAIL(x, VTEV_ERR_PARSE, ": expected an integer, got %s", vtev_rt_json_kind(j));
        if (json_integer_value(j) < INT32_MIN || json_integer_value(j) > INT32_MAX)
            return EFAIL(x, VTEV_ERR_PARSE, ": %lld is outside the int range", (long long)json_integer_value(j));
        PUT(x, vtev_rt_put_long(x->out, (int64_t)json_integer_value(j)));
        return VTEV_ERR_OK;
    case K_LONG:
        if (ni->logical == LT_TS_MILLIS || ni->logical == LT_TS_MICROS) {
            int64_t v;
            if (!json_is_string(j))
                return EFAIL(x, VTEV_ERR_PARSE, ": expected an ISO-8601 string, got %s", vtev_rt_json_kind(j));
            if (vtev_rt_parse_timestamp(json_string_value(j), ni->logical == LT_TS_MILLIS ? 1000 : 1000000, &v))
                return EFAIL(x, VTEV_ERR_PARSE,
                             ": \"%.64s\" is not an ISO-8601 UTC time like 2026-01-10T15:30:00.000Z",
                             json_string_value(j));
            PUT(x, vtev_rt_put_long(x->out, v));
            return VTEV_ERR_OK;
        }
        if (!json_is_integer(j))
            return EFAIL(x, VTEV_ERR_PARSE, ": expected an integer, got %s", vtev_rt_json_kind(j));
        PUT(x, vtev_rt_put_long(x->out, (int64_t)json_integer_value(j)));
        return VTEV_ERR_OK;
    case K_FLOAT:
    case K_DOUBLE:
        if (!json_is_number(j))
            return EFAIL(x, VTEV_ERR_PARSE, ": expected a number, got %s", vtev_rt_json_kind(j));
        PUT(x, n->kind == K_FLOAT ? vtev_rt_put_float(x->out, (float)json_number_value(j))
                                  : vtev_rt_put_double(x->out, json_number_value(j)));
        return VTEV_ERR_OK;
    case K_STRING:
        if (!json_is_string(j))
            return EFAIL(x, VTEV_ERR_PARSE, ": expected a string, got %s", vtev_rt_json_kind(j));
        if (strlen(json_string_value(j)) != json_string_length(j))
            return EFAIL(x, VTEV_ERR_PARSE, ": the string holds a NUL character");
        PUT(x, vtev_rt_put_bytes(x->out, json_string_value(j), json_string_length(j)));
        return VTEV_ERR_OK;
    case K_BYTES:
    case K_FIXED: return enc_bytes(x, n, ni, j);
    case K_ENUM: {
        json_t *at;
        if (!json_is_string(j))
            return EFAIL(x, VTEV_ERR_PARSE, ": expected a string, got %s", vtev_rt_json_kind(j));
        if (!(at = json_object_get(n->index, json_string_value(j))))
            return EFAIL(x, VTEV_ERR_PARSE, ": \"%.32s\" is not one of %s", json_string_value(j), ni->names);
        PUT(x, vtev_rt_put_long(x->out, (int64_t)json_integer_value(at)));
        return VTEV_ERR_OK;
    }
    default: break;
    }
    /* composites */
    if (++x->depth > x->c->lim.max_depth)
        return EFAIL(x, VTEV_ERR_LIMIT, ": nesting is deeper than avro.max.depth (%d)", x->c->lim.max_depth);
    switch (n->kind) {
    case K_RECORD: err = enc_record(x, id, j); break;
    case K_UNION: err = enc_union(x, id, j); break;
    case K_ARRAY: {
        json_t *v;
        char seg[32];
        if (!json_is_array(j))
            return EFAIL(x, VTEV_ERR_PARSE, ": expected an array, got %s", vtev_rt_json_kind(j));
        if (json_array_size(j)) {
            PUT(x, vtev_rt_put_long(x->out, (int64_t)json_array_size(j)));
            json_array_foreach(j, i, v) {
                snprintf(seg, sizeof(seg), "[%zu]", i);
                if ((err = enc_at(x, n->item, v, seg)))
                    return err;
            }
        }
        PUT(x, vtev_rt_put_long(x->out, 0));
        break;
    }
    case K_MAP: {
        const char *k;
        json_t *v;
        if (!json_is_object(j))
            return EFAIL(x, VTEV_ERR_PARSE, ": expected an object, got %s", vtev_rt_json_kind(j));
        if (json_object_size(j)) {
            PUT(x, vtev_rt_put_long(x->out, (int64_t)json_object_size(j)));
            json_object_foreach(j, k, v) {
                PUT(x, vtev_rt_put_str(x->out, k));
                if ((err = enc_at(x, n->item, v, k)))
                    return err;
            }
        }
        PUT(x, vtev_rt_put_long(x->out, 0));
        break;
    }
    default: break;
    }
    x->depth--;
    return err;
}

/* ---------------------------------------------------------------------- */
/* Avro binary -> JSON, and the constraints on Avro binary                 */

typedef struct {
    const vtev_avro_json_t *c;
    vtev_rt_rd_t r;
    vtev_rt_jw_t *w;     /* NULL: no output */
    bool check;          /* check the constraints */
    int depth;
    int64_t values;
    char *s;             /* the last string read, NUL-terminated */
    size_t scap;
    char *e;
    size_t es;
} dctx_t;

#define DFAIL(x, err, ...) vtev_rt_fail((err), (x)->e, (x)->es, __VA_ARGS__)

/* The reader's failure as ": reason". */
static vtev_err_t rd_err(dctx_t *x) {
    return DFAIL(x, x->r.status == VTEV_RT_RD_NOMEM ? VTEV_ERR_NOMEM : VTEV_ERR_DECODE, ": %s",
                 vtev_rt_rd_strerror(x->r.status));
}

/* Reads a string or bytes of length n in place: p points at it. */
static int rd_bytes(dctx_t *x, const unsigned char **p, size_t *n) {
    int st = vtev_rt_get_len(&x->r, n);
    if (st)
        return st;
    *p = x->r.p;
    x->r.p += *n;
    return 0;
}

/* Reads a string into x->s (NUL-terminated; a NUL inside is refused). */
static int rd_str(dctx_t *x, size_t *n) {
    const unsigned char *p;
    int st = rd_bytes(x, &p, n);
    if (st)
        return st;
    if (memchr(p, 0, *n)) {
        x->r.p = p;
        return vtev_rt_rd_fail(&x->r, VTEV_RT_RD_NUL);
    }
    if (*n + 1 > x->scap) {
        size_t cap = x->scap ? x->scap : 64;
        char *ns;
        while (cap < *n + 1)
            cap *= 2;
        if (!(ns = realloc(x->s, cap)))
            return vtev_rt_rd_fail(&x->r, VTEV_RT_RD_NOMEM);
        x->s = ns;
        x->scap = cap;
    }
    memcpy(x->s, p, *n);
    x->s[*n] = '\0';
    return 0;
}

static vtev_err_t walk(dctx_t *x, uint32_t id);

static vtev_err_t walk_at(dctx_t *x, uint32_t id, const char *seg) {
    vtev_err_t err = walk(x, id);
    if (err)
        vtev_rt_err_prefix(x->e, x->es, seg);
    return err;
}

/* The checks of vt-codegen's validate() on one number. */
static vtev_err_t check_num(dctx_t *x, const anode_t *n, const ninfo_t *ni, int64_t iv, double dv) {
    const cons_t *c = &ni->c;
    char nb[40], vb[48];
    bool out;
    const char *unit = ni->logical == LT_TS_MILLIS   ? " milliseconds since the epoch"
                       : ni->logical == LT_TS_MICROS ? " microseconds since the epoch"
                       : ni->logical == LT_DATE      ? " days since 1970-01-01"
                                                     : "";
    if (is_intlike(n->kind)) {
        if (!c->has_lo && !c->has_hi)
            return VTEV_ERR_OK;
        out = (c->has_lo && (c->lo_excl ? iv <= c->lo_i : iv < c->lo_i)) ||
              (c->has_hi && (c->hi_excl ? iv >= c->hi_i : iv > c->hi_i));
        snprintf(vb, sizeof(vb), "%lld", (long long)iv);
    } else {
        if (!c->has_lo && !c->has_hi && !c->finite)
            return VTEV_ERR_OK;
        if (!isfinite(dv))
            return DFAIL(x, VTEV_ERR_INVALID, ": %s is not a finite number", vtev_rt_dtoa(dv, nb, sizeof(nb)));
        out = (c->has_lo && (c->lo_excl ? dv <= c->lo : dv < c->lo)) ||
              (c->has_hi && (c->hi_excl ? dv >= c->hi : dv > c->hi));
        snprintf(vb, sizeof(vb), "%s", vtev_rt_dtoa(dv, nb, sizeof(nb)));
    }
    if (!out)
        return VTEV_ERR_OK;
    if (c->has_lo && !c->has_hi && !c->lo_excl && c->lo == 0)
        return DFAIL(x, VTEV_ERR_INVALID, ": %s is negative", vb);
    return DFAIL(x, VTEV_ERR_INVALID, ": %s is outside %c%s, %s%c%s", vb, c->has_lo && !c->lo_excl ? '[' : '(',
                 c->has_lo ? c->lo_txt : "-inf", c->has_hi ? c->hi_txt : "inf", c->has_hi && !c->hi_excl ? ']' : ')',
                 unit);
}

/* cg_vstr(): strings (and their UTF-8) are always checked. */
static vtev_err_t check_str(dctx_t *x, const cons_t *c, const char *s, size_t n) {
    size_t maxl = c->max_len >= 0 ? (size_t)c->max_len : SIZE_MAX, minl = c->min_len > 0 ? (size_t)c->min_len : 0;
    long bad;
    if (c->uuid && !vtev_rt_uuid_valid(s))
        return DFAIL(x, VTEV_ERR_INVALID, ": \"%.36s\" is not a UUID (8-4-4-4-12 hex digits)", s);
    if (n > maxl)
        return DFAIL(x, VTEV_ERR_INVALID, ": \"%.20s...\" is longer than %zu bytes", s, maxl);
    if (n == 0 && c->non_empty)
        return DFAIL(x, VTEV_ERR_INVALID, ": \"\" must not be empty");
    if (n < minl)
        return DFAIL(x, VTEV_ERR_INVALID, ": \"%s\" is shorter than %zu bytes", s, minl);
    if ((bad = vtev_rt_utf8_bad(s, n)) >= 0)
        return DFAIL(x, VTEV_ERR_INVALID, ": byte 0x%02x at offset %ld is not valid UTF-8", (unsigned char)s[bad],
                     bad);
    return VTEV_ERR_OK;
}

static vtev_err_t check_bytes(dctx_t *x, const cons_t *c, size_t n) {
    size_t maxl = c->max_len >= 0 ? (size_t)c->max_len : SIZE_MAX, minl = c->min_len > 0 ? (size_t)c->min_len : 0;
    if (n > maxl)
        return DFAIL(x, VTEV_ERR_INVALID, ": %zu bytes exceed the limit of %zu", n, maxl);
    if (n == 0 && c->non_empty)
        return DFAIL(x, VTEV_ERR_INVALID, ": must not be empty");
    if (n < minl)
        return DFAIL(x, VTEV_ERR_INVALID, ": %zu bytes are fewer than %zu", n, minl);
    return VTEV_ERR_OK;
}

/* Items of an array or entries of a map, without output or checks: the count
 * that the count constraints need before the items are checked. */
static vtev_err_t count_items(dctx_t *x, uint32_t id, size_t *cnt) {
    const anode_t *n = &x->c->m->nodes[id];
    dctx_t save = *x;
    size_t i, k, total = 0;
    size_t min = x->c->ni[n->item].min_size + (n->kind == K_MAP ? 1 : 0);
    vtev_err_t err = VTEV_ERR_OK;
    x->w = NULL;
    x->check = false;
    for (;;) {
        if (vtev_rt_get_block(&x->r, min, total, &k)) {
            err = rd_err(x);
            break;
        }
        if (!k)
            break;
        for (i = 0; i < k && !err; i++) {
            size_t kl;
            if (n->kind == K_MAP && rd_str(x, &kl))
                err = rd_err(x);
            else
                err = walk(x, n->item);
        }
        if (err)
            break;
        total += k;
    }
    *cnt = total;
    x->r = save.r;
    x->w = save.w;
    x->check = save.check;
    x->values = save.values;
    x->depth = save.depth;
    return err;
}

/* The keys of one map being read (duplicates are refused, as the generated
 * decoders refuse them). */
typedef struct {
    char **k;
    size_t n, cap;
} keys_t;

static vtev_err_t walk_items_in(dctx_t *x, uint32_t id, keys_t *keys);

static vtev_err_t walk_items(dctx_t *x, uint32_t id) {
    keys_t keys = {NULL, 0, 0};
    vtev_err_t err = walk_items_in(x, id, &keys);
    size_t i, d1, d2;
    if (err == VTEV_ERR_OK && keys.n > 1) {
        int dr = vtev_rt_map_dup(keys.k, keys.n, sizeof(char *), &d1, &d2);
        if (dr < 0)
            err = DFAIL(x, VTEV_ERR_NOMEM, ": out of memory");
        else if (dr)
            err = DFAIL(x, VTEV_ERR_DECODE, ": entries %zu and %zu have the same key", d1, d2);
    }
    for (i = 0; i < keys.n; i++)
        free(keys.k[i]);
    free(keys.k);
    return err;
}

static vtev_err_t walk_items_in(dctx_t *x, uint32_t id, keys_t *keys) {
    const anode_t *n = &x->c->m->nodes[id];
    const ninfo_t *ni = &x->c->ni[id];
    bool map = n->kind == K_MAP;
    size_t i, k, total = 0, min = x->c->ni[n->item].min_size + (map ? 1 : 0);
    int first = 1;
    vtev_err_t err;
    if (x->check && ni->counts) {
        const char *what = map ? "entries" : "items";
        if ((err = count_items(x, id, &total)))
            return err;
        if (ni->c.max_items >= 0 && total > (size_t)ni->c.max_items)
            return DFAIL(x, VTEV_ERR_INVALID, ": %zu %s exceed the limit of %ld", total, what, ni->c.max_items);
        if (ni->c.non_empty && total == 0)
            return DFAIL(x, VTEV_ERR_INVALID, ": %s must not be empty", map ? "{}" : "[]");
        if (ni->c.min_items > 0 && total < (size_t)ni->c.min_items)
            return DFAIL(x, VTEV_ERR_INVALID, ": %zu %s are fewer than %ld", total, what, ni->c.min_items);
        total = 0;
    }
    if (x->w)
        vtev_rt_jw_open(x->w, &first, map ? '{' : '[');
    for (;;) {
        if (vtev_rt_get_block(&x->r, min, total, &k))
            return rd_err(x);
        if (!k)
            break;
        for (i = total; i < total + k; i++) {
            if (map) {
                const unsigned char *kp;
                size_t kn;
                char seg[160];
                if (rd_str(x, &kn))
                    return rd_err(x);
                kp = x->r.p - kn;
                if (x->check) {
                    if (ni->c.key_non_empty && kn == 0)
                        return DFAIL(x, VTEV_ERR_INVALID, ": \"\": key is empty");
                    if (ni->c.key_max_len >= 0 && kn > (size_t)ni->c.key_max_len)
                        return DFAIL(x, VTEV_ERR_INVALID, ": \"%.*s\": key is longer than %ld bytes",
                                     (int)ni->c.key_max_len, x->s, ni->c.key_max_len);
                    if (vtev_rt_utf8_bad(x->s, kn) >= 0)
                        return DFAIL(x, VTEV_ERR_INVALID, ": key is not valid UTF-8");
                }
                if (keys->n == keys->cap) {
                    size_t cap = keys->cap ? keys->cap * 2 : 8;
                    char **nk = realloc(keys->k, cap * sizeof(*nk));
                    if (!nk)
                        return DFAIL(x, VTEV_ERR_NOMEM, ": out of memory");
                    keys->k = nk;
                    keys->cap = cap;
                }
                if (!(keys->k[keys->n] = strndup((const char *)kp, kn)))
                    return DFAIL(x, VTEV_ERR_NOMEM, ": out of memory");
                keys->n++;
                if (x->w)
                    vtev_rt_jw_key(x->w, &first, x->s);
                if ((err = walk(x, n->item))) {
                    snprintf(seg, sizeof(seg), "%.*s", kn < sizeof(seg) ? (int)kn : (int)sizeof(seg) - 1,
                             (const char *)kp);
                    vtev_rt_err_prefix(x->e, x->es, seg);
                    return err;
                }
            } else {
                char seg[32];
                if (x->w)
                    vtev_rt_jw_key(x->w, &first, NULL);
                snprintf(seg, sizeof(seg), "[%zu]", i);
                if ((err = walk_at(x, n->item, seg)))
                    return err;
            }
        }
        total += k;
    }
    if (x->w)
        vtev_rt_jw_close(x->w, first, map ? '}' : ']');
    return VTEV_ERR_OK;
}

static vtev_err_t walk_record(dctx_t *x, uint32_t id) {
    const anode_t *n = &x->c->m->nodes[id];
    int first = 1;
    uint32_t i;
    vtev_err_t err;
    if (x->w)
        vtev_rt_jw_open(x->w, &first, '{');
    for (i = 0; i < n->n; i++) {
        const afield_t *fl = &n->fields[i];
        const finfo_t *f = &x->c->fi[id][i];
        if (x->w)
            vtev_rt_jw_key(x->w, &first, fl->name);
        if (f->opt >= 0) { /* an optional field: its branch inline, as the generated decoder reads it */
            int64_t bi;
            if (vtev_rt_get_long(&x->r, &bi)) {
                rd_err(x);
                vtev_rt_err_prefix(x->e, x->es, fl->name);
                return x->r.status == VTEV_RT_RD_NOMEM ? VTEV_ERR_NOMEM : VTEV_ERR_DECODE;
            }
            if (bi == f->opt) {
                if (x->w)
                    vtev_rt_jw_raw(x->w, "null");
                continue;
            }
            if (bi != 1 - f->opt) {
                DFAIL(x, VTEV_ERR_DECODE, ": union branch %lld is out of range", (long long)bi);
                vtev_rt_err_prefix(x->e, x->es, fl->name);
                return VTEV_ERR_DECODE;
            }
            if ((err = walk_at(x, f->inner, fl->name)))
                return err;
        } else if ((err = walk_at(x, fl->type, fl->name))) {
            return err;
        }
    }
    if (x->w)
        vtev_rt_jw_close(x->w, first, '}');
    return VTEV_ERR_OK;
}

static vtev_err_t walk_union(dctx_t *x, uint32_t id) {
    const anode_t *n = &x->c->m->nodes[id];
    const ninfo_t *ni = &x->c->ni[id];
    int64_t bi;
    uint32_t b;
    int first = 1;
    vtev_err_t err;
    if (vtev_rt_get_long(&x->r, &bi))
        return rd_err(x);
    if (bi < 0 || bi >= (int64_t)n->n)
        return DFAIL(x, VTEV_ERR_DECODE, ": union branch %lld is out of range", (long long)bi);
    b = n->branches[bi];
    if (ni->bare || x->c->m->nodes[b].kind == K_NULL || !x->w)
        return walk(x, b);
    vtev_rt_jw_open(x->w, &first, '{');
    vtev_rt_jw_key(x->w, &first, label(x->c->m, b));
    if ((err = walk(x, b)))
        return err;
    vtev_rt_jw_close(x->w, first, '}');
    return VTEV_ERR_OK;
}

static vtev_err_t walk(dctx_t *x, uint32_t id) {
    const anode_t *n = &x->c->m->nodes[id];
    const ninfo_t *ni = &x->c->ni[id];
    vtev_err_t err = VTEV_ERR_OK;
    if (++x->values > x->c->lim.max_values)
        return DFAIL(x, VTEV_ERR_LIMIT, ": more than avro.max.values (%lld) values in one message",
                     (long long)x->c->lim.max_values);
    switch (n->kind) {
    case K_NULL:
        if (x->w)
            vtev_rt_jw_raw(x->w, "null");
        return VTEV_ERR_OK;
    case K_BOOL: {
        bool v;
        if (vtev_rt_get_bool(&x->r, &v))
            return rd_err(x);
        if (x->w)
            vtev_rt_jw_raw(x->w, v ? "true" : "false");
        return VTEV_ERR_OK;
    }
    case K_INT: {
        int32_t v;
        if (vtev_rt_get_int(&x->r, &v))
            return rd_err(x);
        if (x->w && ni->logical == LT_DATE)
            vtev_rt_jw_date(x->w, v);
        else if (x->w)
            vtev_rt_jw_int(x->w, v);
        return x->check ? check_num(x, n, ni, v, 0) : VTEV_ERR_OK;
    }
    case K_LONG: {
        int64_t v;
        if (vtev_rt_get_long(&x->r, &v))
            return rd_err(x);
        if (x->w && (ni->logical == LT_TS_MILLIS || ni->logical == LT_TS_MICROS))
            vtev_rt_jw_timestamp(x->w, v, ni->logical == LT_TS_MILLIS ? 1000 : 1000000);
        else if (x->w)
            vtev_rt_jw_int(x->w, v);
        return x->check ? check_num(x, n, ni, v, 0) : VTEV_ERR_OK;
    }
    case K_FLOAT: {
        float v;
        if (vtev_rt_get_float(&x->r, &v))
            return rd_err(x);
        if (x->w)
            vtev_rt_jw_float(x->w, v);
        return x->check ? check_num(x, n, ni, 0, (double)v) : VTEV_ERR_OK;
    }
    case K_DOUBLE: {
        double v;
        if (vtev_rt_get_double(&x->r, &v))
            return rd_err(x);
        if (x->w)
            vtev_rt_jw_double(x->w, v);
        return x->check ? check_num(x, n, ni, 0, v) : VTEV_ERR_OK;
    }
    case K_STRING: {
        size_t len;
        if (rd_str(x, &len))
            return rd_err(x);
        if (x->w)
            vtev_rt_jw_str(x->w, x->s);
        return x->check ? check_str(x, &ni->c, x->s, len) : VTEV_ERR_OK;
    }
    case K_BYTES:
    case K_FIXED: {
        const unsigned char *p;
        size_t len = (size_t)n->size;
        static const unsigned char none[1] = {0};
        if (n->kind == K_BYTES) {
            if (rd_bytes(x, &p, &len))
                return rd_err(x);
        } else {
            if (vtev_rt_rd_left(&x->r) < len) {
                vtev_rt_rd_fail(&x->r, VTEV_RT_RD_TRUNCATED);
                return rd_err(x);
            }
            p = x->r.p;
            x->r.p += len;
        }
        if (!len)
            p = none;
        if (x->w && ni->logical == LT_DECIMAL)
            vtev_rt_jw_decimal(x->w, p, len, ni->scale);
        else if (x->w)
            vtev_rt_jw_base64(x->w, p, len);
        return x->check && n->kind == K_BYTES ? check_bytes(x, &ni->c, len) : VTEV_ERR_OK;
    }
    case K_ENUM: {
        int32_t v;
        if (vtev_rt_get_int(&x->r, &v))
            return rd_err(x);
        if (v < 0 || (uint32_t)v >= n->n)
            return DFAIL(x, VTEV_ERR_DECODE, ": %d is not a symbol index of %s", (int)v, n->fullname);
        if (x->w)
            vtev_rt_jw_str(x->w, n->symbols[v]);
        return VTEV_ERR_OK;
    }
    default: break;
    }
    /* composites */
    if (++x->depth > x->c->lim.max_depth)
        return DFAIL(x, VTEV_ERR_LIMIT, ": nesting is deeper than avro.max.depth (%d)", x->c->lim.max_depth);
    switch (n->kind) {
    case K_RECORD: err = walk_record(x, id); break;
    case K_UNION: err = walk_union(x, id); break;
    case K_ARRAY:
    case K_MAP: err = walk_items(x, id); break;
    default: break;
    }
    x->depth--;
    return err;
}

/* Messages of the top level read "reason", not ": reason". */
static void top_message(char *e, size_t es) {
    if (e && es && e[0] == ':' && e[1] == ' ')
        memmove(e, e + 2, strlen(e + 2) + 1);
}

/* Walks exactly the len bytes at p: with output into w, or checking. */
static vtev_err_t walk_all(const vtev_avro_json_t *c, const void *p, size_t len, vtev_rt_jw_t *w, bool check,
                           char *e, size_t es) {
    dctx_t x;
    vtev_err_t err;
    memset(&x, 0, sizeof(x));
    x.c = c;
    x.r.p = p;
    x.r.end = x.r.p + len;
    x.w = w;
    x.check = check;
    x.e = e;
    x.es = es;
    err = walk(&x, c->m->top);
    free(x.s);
    if (err == VTEV_ERR_OK && x.r.p != x.r.end)
        err = vtev_rt_fail(VTEV_ERR_DECODE, e, es, "%zu bytes left after the %s", (size_t)(x.r.end - x.r.p),
                           c->m->nodes[c->m->top].kind == K_RECORD ? "record" : "value");
    if (err)
        top_message(e, es);
    return err;
}

vtev_err_t vtev_avro_json_from_avro(const vtev_avro_json_t *c, const void *avro, size_t len, int flags,
                                    char **jsonp, size_t *lenp, char *errstr, size_t errstr_size) {
    vtev_rt_jw_t w;
    vtev_err_t err;
    if (jsonp)
        *jsonp = NULL;
    if (lenp)
        *lenp = 0;
    if (!c || !jsonp || (!avro && len))
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "vtev_avro_json_from_avro: the converter, the bytes and jsonp are required");
    if (len > c->lim.max_bytes)
        return vtev__fail(VTEV_ERR_LIMIT, errstr, errstr_size, "%zu bytes over avro.max.bytes (%zu)", len,
                          c->lim.max_bytes);
    memset(&w, 0, sizeof(w));
    w.pretty = (flags & VTEV_AVRO_JSON_PRETTY) != 0;
    if ((err = walk_all(c, avro ? avro : "", len, &w, false, errstr, errstr_size))) {
        free(w.buf);
        return err;
    }
    if (w.oom) {
        free(w.buf);
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    if (!w.buf) /* nothing written cannot happen: every value writes something */
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
    return vtev_rt_jw_finish(&w, jsonp, lenp);
}

vtev_err_t vtev_avro_json_to_avro(const vtev_avro_json_t *c, const char *json, size_t len, int flags,
                                  vtev_buf_t *out, char *errstr, size_t errstr_size) {
    json_error_t jerr;
    json_t *root;
    ectx_t x;
    size_t mark;
    int top;
    vtev_err_t err;
    if (!c || !out || (!json && len))
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "vtev_avro_json_to_avro: the converter, the text and out are required");
    /* a scalar at the top only where the schema's top is one (then jansson's
     * messages are those of the generated from_json()) */
    top = c->m->nodes[c->m->top].kind;
    if (!(root = json_loadb(json ? json : "", json ? len : 0,
                            JSON_REJECT_DUPLICATES |
                                (top == K_RECORD || top == K_ARRAY || top == K_MAP ? 0 : JSON_DECODE_ANY),
                            &jerr)))
        return vtev__fail(VTEV_ERR_PARSE, errstr, errstr_size, "line %d, column %d: %s", jerr.line, jerr.column,
                          jerr.text);
    mark = out->len;
    memset(&x, 0, sizeof(x));
    x.c = c;
    x.out = out;
    x.e = errstr;
    x.es = errstr_size;
    if (top == K_RECORD && !json_is_object(root))
        err = vtev_rt_fail(VTEV_ERR_PARSE, errstr, errstr_size, "expected a JSON object, got %s",
                           vtev_rt_json_kind(root));
    else
        err = enc(&x, c->m->top, root);
    json_decref(root);
    if (err == VTEV_ERR_OK && !(flags & VTEV_AVRO_JSON_NO_CONSTRAINTS) && c->any_checks)
        err = walk_all(c, out->data ? out->data + mark : (const unsigned char *)"", out->len - mark, NULL, true,
                       errstr, errstr_size);
    if (err) {
        top_message(errstr, errstr_size);
        out->len = mark;
    }
    return err;
}
