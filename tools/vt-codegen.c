/*
 * vt-codegen - C types, validation, JSON and a direct Avro codec generated
 * from Avro record schemas (doc/codegen.md, doc/vt-codegen.1).
 *
 *   vt-codegen [-o DIR] [--prefix NAME] SCHEMA.avsc...
 *
 * Writes DIR/BASE.h and DIR/BASE.c per schema (BASE: the file name without
 * .avsc, dots and dashes as '_').  Errors name the file and the field path
 * and exit 2.  Output is deterministic: the same schema gives the same bytes.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vtevents/type.h>
#include <vtevents/version.h>

#define MAX_NEST 60

/* ---------------------------------------------------------------------- */
/* Errors                                                                  */

static const char *g_file = "";

__attribute__((noreturn, format(printf, 2, 3))) static void die(const char *path, const char *fmt,
                                                                 ...) {
    va_list ap;
    fprintf(stderr, "vt-codegen: %s: %s%s", g_file, path && *path ? path : "",
            path && *path ? ": " : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

/* The generator is a one-shot process: what it allocates stays listed here
 * (reachable, so leak checkers stay quiet) until exit() releases it. */
static void **g_arena;
static size_t g_narena, g_carena;

static void oom(void) {
    fprintf(stderr, "vt-codegen: out of memory\n");
    exit(1);
}

static void arena_add(void *p) {
    if (g_narena == g_carena) {
        size_t nc = g_carena ? g_carena * 2 : 1024;
        void **na = realloc(g_arena, nc * sizeof(*na));
        if (!na)
            oom();
        g_arena = na;
        g_carena = nc;
    }
    g_arena[g_narena++] = p;
}

static void *xmalloc(size_t n) {
    void *p = calloc(1, n ? n : 1);
    if (!p)
        oom();
    arena_add(p);
    return p;
}

static void *xrealloc(void *old, size_t n) {
    size_t i;
    void *p;
    if (!old)
        return xmalloc(n);
    if (!(p = realloc(old, n ? n : 1)))
        oom();
    for (i = g_narena; i-- > 0;) {
        if (g_arena[i] == old) {
            g_arena[i] = p;
            return p;
        }
    }
    arena_add(p);
    return p;
}

static char *xstrdup(const char *s) {
    char *d = xmalloc(strlen(s) + 1);
    memcpy(d, s, strlen(s) + 1);
    return d;
}

__attribute__((format(printf, 1, 2))) static char *fmt(const char *f, ...) {
    va_list ap;
    int n;
    char *s;
    va_start(ap, f);
    n = vsnprintf(NULL, 0, f, ap);
    va_end(ap);
    s = xmalloc((size_t)n + 1);
    va_start(ap, f);
    vsnprintf(s, (size_t)n + 1, f, ap);
    va_end(ap);
    return s;
}

/* ---------------------------------------------------------------------- */
/* The schema model                                                        */

typedef enum {
    K_NULL, K_BOOL, K_INT, K_LONG, K_FLOAT, K_DOUBLE, K_BYTES, K_STRING,
    K_RECORD, K_ENUM, K_ARRAY, K_MAP, K_FIXED, K_UNION
} kind_t;

static const char *const kind_names[] = {"null", "boolean", "int", "long", "float", "double",
                                         "bytes", "string", "record", "enum", "array", "map",
                                         "fixed", "union"};

typedef enum { L_NONE, L_UUID, L_TS_MILLIS, L_TS_MICROS, L_DATE, L_DECIMAL } logical_t;

typedef struct cons_s {
    bool has_lo, has_hi, lo_excl, hi_excl, finite;
    double lo, hi;
    char *lo_txt, *hi_txt; /* as printed in messages */
    long min_len, max_len; /* -1: none */
    bool non_empty, uuid;
    long min_items, max_items;
    long key_max_len;
    bool key_non_empty;
} cons_t;

struct field_s;

typedef struct type_s {
    kind_t kind;
    logical_t logical;
    int precision, scale;
    /* named types */
    char *name, *full_name, *space, *doc, *cname; /* cname: C base name, e.g. vtev_position_data */
    /* record */
    struct field_s *fields;
    size_t nfields;
    /* enum */
    char **symbols;
    size_t nsym;
    int enum_default;
    /* array items / map values */
    struct type_s *items;
    /* fixed */
    size_t size;
    /* union */
    struct type_s **br;
    size_t nbr;
    cons_t cons;
    bool defined, emitted, in_progress;
    char *canon; /* Parsing Canonical Form of a named type's definition */
    const char *path; /* where it is declared, for messages */
} type_t;

typedef struct field_s {
    char *name, *doc;
    type_t *type;
    json_t *def; /* borrowed from the schema document */
    bool now; /* "vt.default": "now" */
    bool key; /* "vt.key": true: the Kafka message key */
    int opt; /* optional ["null", T] / [T, "null"]: index of null (0/1); -1 otherwise */
    type_t *inner; /* T of an optional */
} field_t;

/* Named types of the whole run, for references and clash checks. */
typedef struct named_s {
    type_t *t;
    const char *file;
} named_t;
static named_t *g_named;
static size_t g_nnamed;

/* Every global C identifier generated in this run. */
typedef struct ident_s {
    char *id, *what, *file;
    const char *canon; /* same canon: the same shared definition, no clash */
} ident_t;
static ident_t *g_ids;
static size_t g_nids;

static const char *const c_keywords[] = {
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum",
    "extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return",
    "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void",
    "volatile", "while", "_Alignas", "_Alignof", "_Atomic", "_Bool", "_Complex", "_Generic",
    "_Imaginary", "_Noreturn", "_Static_assert", "_Thread_local", "bool", "true", "false",
    /* C++, since the headers compile as C++ */
    "alignas", "alignof", "and", "and_eq", "asm", "bitand", "bitor", "catch", "char16_t", "char32_t",
    "char8_t", "class", "compl", "concept", "consteval", "constexpr", "constinit", "const_cast",
    "co_await", "co_return", "co_yield", "decltype", "delete", "dynamic_cast", "explicit", "export",
    "friend", "mutable", "namespace", "new", "noexcept", "not", "not_eq", "nullptr", "operator", "or",
    "or_eq", "private", "protected", "public", "reinterpret_cast", "requires", "static_assert",
    "static_cast", "template", "this", "thread_local", "throw", "try", "typeid", "typename", "using",
    "virtual", "wchar_t", "xor", "xor_eq", NULL};

static bool is_keyword(const char *s) {
    const char *const *k;
    for (k = c_keywords; *k; k++)
        if (!strcmp(*k, s))
            return true;
    return false;
}

static bool valid_avro_name(const char *s) {
    const char *p = s;
    if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == '_'))
        return false;
    for (p++; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            return false;
    return true;
}

/* A member name used as is: an Avro name that is neither a keyword nor reserved. */
static void check_member(const char *path, const char *name, const char *what) {
    if (!valid_avro_name(name))
        die(path, "%s \"%s\" is not a valid Avro name ([A-Za-z_][A-Za-z0-9_]*)", what, name);
    if (is_keyword(name))
        die(path, "%s \"%s\" clashes with a C or C++ keyword", what, name);
    if (name[0] == '_' && (name[1] == '_' || (name[1] >= 'A' && name[1] <= 'Z')))
        die(path, "%s \"%s\" is a reserved C identifier (leading underscore)", what, name);
}

static void add_ident(const char *path, const char *id, const char *what, const char *canon) {
    size_t i;
    for (i = 0; i < g_nids; i++) {
        if (strcmp(g_ids[i].id, id))
            continue;
        if (canon && g_ids[i].canon && !strcmp(canon, g_ids[i].canon))
            return; /* the same definition, shared */
        die(path, "the generated name %s of %s clashes with the one of %s (%s)", id, what,
            g_ids[i].what, g_ids[i].file);
    }
    g_ids = xrealloc(g_ids, (g_nids + 1) * sizeof(*g_ids));
    if (!g_ids)
        exit(1);
    g_ids[g_nids].id = xstrdup(id);
    g_ids[g_nids].what = xstrdup(what);
    g_ids[g_nids].file = xstrdup(g_file);
    g_ids[g_nids].canon = canon;
    g_nids++;
}

/* VesselPositionUpdated -> vessel_position_updated; HTTPCode -> http_code. */
static char *snake(const char *s) {
    size_t n = strlen(s), i, o = 0;
    char *d = xmalloc(n * 2 + 1);
    for (i = 0; i < n; i++) {
        char c = s[i];
        bool up = c >= 'A' && c <= 'Z';
        if (up && i > 0 && s[i - 1] != '_' &&
            ((s[i - 1] >= 'a' && s[i - 1] <= 'z') || (s[i - 1] >= '0' && s[i - 1] <= '9') ||
             (i + 1 < n && s[i + 1] >= 'a' && s[i + 1] <= 'z' && s[i - 1] >= 'A' && s[i - 1] <= 'Z')))
            d[o++] = '_';
        d[o++] = up ? (char)(c - 'A' + 'a') : c;
    }
    d[o] = '\0';
    return d;
}

static char *upper(const char *s) {
    char *d = xstrdup(s), *p;
    for (p = d; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    return d;
}

static const char *g_prefix = "";

static char *cname_of(const char *name) {
    char *s = snake(name), *r = fmt("%s%s%s", g_prefix, *g_prefix ? "_" : "", s);
    free(s);
    return r;
}

/* ---------------------------------------------------------------------- */
/* Parsing                                                                 */

static bool is_num(const type_t *t) {
    return t->kind == K_INT || t->kind == K_LONG || t->kind == K_FLOAT || t->kind == K_DOUBLE;
}

static bool is_intlike(const type_t *t) {
    return t->kind == K_INT || t->kind == K_LONG;
}

static char *num_txt(const type_t *t, double v) {
    char b[40];
    if (is_intlike(t))
        return fmt("%lld", (long long)v);
    snprintf(b, sizeof(b), "%.15g", v);
    if (strtod(b, NULL) != v)
        snprintf(b, sizeof(b), "%.17g", v);
    return xstrdup(b);
}

static long get_count(const char *path, const char *key, json_t *v) {
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT32_MAX)
        die(path, "constraint %s: expected a non-negative integer, got %s", key,
            json_is_integer(v) ? "a negative or too large integer" : "another JSON type");
    return (long)json_integer_value(v);
}

static bool get_true(const char *path, const char *key, json_t *v) {
    if (!json_is_boolean(v))
        die(path, "constraint %s: expected true or false", key);
    return json_is_true(v);
}

/* Applies the vt.* attributes of obj (a field or a type object) to t. */
static void apply_constraints(const char *path, json_t *obj, type_t *t, field_t *f) {
    const char *k;
    json_t *v;
    cons_t *c = &t->cons;
    json_object_foreach(obj, k, v) {
        bool numk;
        if (strncmp(k, "vt.", 3))
            continue;
        numk = !strcmp(k, "vt.min") || !strcmp(k, "vt.max") || !strcmp(k, "vt.exclusiveMin") ||
               !strcmp(k, "vt.exclusiveMax");
        if (numk) {
            double d;
            bool lo = !strcmp(k, "vt.min") || !strcmp(k, "vt.exclusiveMin");
            if (!is_num(t))
                die(path, "constraint %s applies to numbers, not to %s", k, kind_names[t->kind]);
            if (!json_is_number(v))
                die(path, "constraint %s: expected a number", k);
            d = json_number_value(v);
            if (is_intlike(t) && (!json_is_integer(v) ||
                                  (t->kind == K_INT && (d < INT32_MIN || d > INT32_MAX))))
                die(path, "constraint %s: %s is not a value of type %s", k,
                    json_is_integer(v) ? "the bound" : "a fractional bound", kind_names[t->kind]);
            if (lo) {
                if (c->has_lo)
                    die(path, "constraint %s: a lower bound is already set", k);
                c->has_lo = true;
                c->lo = d;
                c->lo_excl = k[3] == 'e';
                c->lo_txt = json_is_integer(v) ? fmt("%lld", (long long)json_integer_value(v)) : num_txt(t, d);
            } else {
                if (c->has_hi)
                    die(path, "constraint %s: an upper bound is already set", k);
                c->has_hi = true;
                c->hi = d;
                c->hi_excl = k[3] == 'e';
                c->hi_txt = json_is_integer(v) ? fmt("%lld", (long long)json_integer_value(v)) : num_txt(t, d);
            }
        } else if (!strcmp(k, "vt.finite")) {
            if (t->kind != K_FLOAT && t->kind != K_DOUBLE)
                die(path, "constraint %s applies to float and double, not to %s", k,
                    kind_names[t->kind]);
            c->finite = get_true(path, k, v);
        } else if (!strcmp(k, "vt.minLength") || !strcmp(k, "vt.maxLength")) {
            if (t->kind != K_STRING && t->kind != K_BYTES)
                die(path, "constraint %s applies to string and bytes, not to %s", k,
                    kind_names[t->kind]);
            if (k[4] == 'i')
                c->min_len = get_count(path, k, v);
            else
                c->max_len = get_count(path, k, v);
        } else if (!strcmp(k, "vt.nonEmpty")) {
            if (t->kind != K_STRING && t->kind != K_BYTES && t->kind != K_ARRAY && t->kind != K_MAP)
                die(path, "constraint %s applies to string, bytes, array and map, not to %s", k,
                    kind_names[t->kind]);
            c->non_empty = get_true(path, k, v);
        } else if (!strcmp(k, "vt.format")) {
            if (!json_is_string(v) || strcmp(json_string_value(v), "uuid"))
                die(path, "constraint %s: the only format is \"uuid\"", k);
            if (t->kind != K_STRING)
                die(path, "constraint %s applies to string, not to %s", k, kind_names[t->kind]);
            c->uuid = true;
        } else if (!strcmp(k, "vt.minItems") || !strcmp(k, "vt.maxItems")) {
            if (t->kind != K_ARRAY && t->kind != K_MAP)
                die(path, "constraint %s applies to array and map, not to %s", k,
                    kind_names[t->kind]);
            if (k[4] == 'i')
                c->min_items = get_count(path, k, v);
            else
                c->max_items = get_count(path, k, v);
        } else if (!strcmp(k, "vt.keyMaxLength") || !strcmp(k, "vt.keyNonEmpty")) {
            if (t->kind != K_MAP)
                die(path, "constraint %s applies to map, not to %s", k, kind_names[t->kind]);
            if (!strcmp(k, "vt.keyMaxLength"))
                c->key_max_len = get_count(path, k, v);
            else
                c->key_non_empty = get_true(path, k, v);
        } else if (!strcmp(k, "vt.cname")) {
            if (f || !t->full_name)
                die(path, "%s belongs on a named type (record, enum, fixed)", k);
        } else if (!strcmp(k, "vt.key")) {
            if (!f)
                die(path, "%s belongs on a field, not on a type", k);
            if (strchr(path, '.'))
                die(path, "%s belongs on a field of the top-level record", k);
            if (t->kind != K_STRING || f->opt >= 0)
                die(path, "%s applies to string fields (not optional), not to %s", k,
                    f->opt >= 0 ? "an optional" : kind_names[t->kind]);
            f->key = get_true(path, k, v);
        } else if (!strcmp(k, "vt.default")) {
            if (!f)
                die(path, "%s belongs on a field, not on a type", k);
            if (!json_is_string(v) || strcmp(json_string_value(v), "now"))
                die(path, "%s: the only value is \"now\"", k);
            if (t->logical != L_TS_MILLIS && t->logical != L_TS_MICROS)
                die(path, "%s \"now\" applies to timestamp-millis and timestamp-micros fields", k);
            f->now = true;
        } else {
            die(path, "unknown constraint %s", k);
        }
    }
    if (c->has_lo && c->has_hi && (c->lo > c->hi || (c->lo == c->hi && (c->lo_excl || c->hi_excl))))
        die(path, "constraint: the range [%s, %s] is empty", c->lo_txt, c->hi_txt);
    if (c->min_len >= 0 && c->max_len >= 0 && c->min_len > c->max_len)
        die(path, "constraint: vt.minLength %ld exceeds vt.maxLength %ld", c->min_len, c->max_len);
    if (c->min_items >= 0 && c->max_items >= 0 && c->min_items > c->max_items)
        die(path, "constraint: vt.minItems %ld exceeds vt.maxItems %ld", c->min_items, c->max_items);
}

static type_t *new_type(kind_t k, const char *path) {
    type_t *t = xmalloc(sizeof(*t));
    t->kind = k;
    t->enum_default = -1;
    t->cons.min_len = t->cons.max_len = t->cons.min_items = t->cons.max_items = -1;
    t->cons.key_max_len = -1;
    t->path = xstrdup(path);
    return t;
}

static kind_t prim_kind(const char *s, bool *ok) {
    int i;
    *ok = true;
    for (i = K_NULL; i <= K_STRING; i++)
        if (!strcmp(s, kind_names[i]))
            return (kind_t)i;
    *ok = false;
    return K_NULL;
}

static char *full_name(const char *name, const char *space) {
    if (strchr(name, '.') || !space || !*space)
        return xstrdup(name);
    return fmt("%s.%s", space, name);
}

static type_t *lookup(const char *full) {
    size_t i;
    for (i = 0; i < g_nnamed; i++)
        if (!strcmp(g_named[i].t->full_name, full))
            return g_named[i].t;
    return NULL;
}

static type_t *parse_type(json_t *j, const char *space, const char *path, int depth);

static void check_default(const char *path, type_t *t, json_t *d, int depth);

static void parse_logical(json_t *j, type_t *t, const char *path) {
    json_t *lt = json_object_get(j, "logicalType");
    const char *s;
    if (!lt)
        return;
    if (!json_is_string(lt))
        die(path, "logicalType: expected a string");
    s = json_string_value(lt);
    if (!strcmp(s, "uuid")) {
        if (t->kind != K_STRING)
            die(path, "logical type uuid needs a string, not %s", kind_names[t->kind]);
        t->logical = L_UUID;
        t->cons.uuid = true;
    } else if (!strcmp(s, "timestamp-millis") || !strcmp(s, "timestamp-micros")) {
        if (t->kind != K_LONG)
            die(path, "logical type %s needs a long, not %s", s, kind_names[t->kind]);
        t->logical = !strcmp(s, "timestamp-millis") ? L_TS_MILLIS : L_TS_MICROS;
    } else if (!strcmp(s, "date")) {
        if (t->kind != K_INT)
            die(path, "logical type date needs an int, not %s", kind_names[t->kind]);
        t->logical = L_DATE;
    } else if (!strcmp(s, "decimal")) {
        json_t *p = json_object_get(j, "precision"), *sc = json_object_get(j, "scale");
        if (t->kind != K_BYTES && t->kind != K_FIXED)
            die(path, "logical type decimal needs bytes or fixed, not %s", kind_names[t->kind]);
        if (!json_is_integer(p) || json_integer_value(p) < 1 || json_integer_value(p) > 1000)
            die(path, "decimal: precision must be an integer in [1, 1000]");
        if (sc && (!json_is_integer(sc) || json_integer_value(sc) < 0 ||
                   json_integer_value(sc) > json_integer_value(p)))
            die(path, "decimal: scale must be an integer in [0, precision]");
        t->precision = (int)json_integer_value(p);
        t->scale = sc ? (int)json_integer_value(sc) : 0;
        if (t->kind == K_FIXED &&
            (double)t->precision > floor(log10(pow(2, 8.0 * (double)t->size - 1) - 1)))
            die(path, "decimal: precision %d does not fit in fixed of %zu bytes", t->precision,
                t->size);
        t->logical = L_DECIMAL;
    } else {
        die(path, "unsupported logical type \"%s\" (supported: uuid, timestamp-millis, "
                  "timestamp-micros, date, decimal)", s);
    }
}

static void register_named(type_t *t, const char *path) {
    type_t *old = lookup(t->full_name);
    if (old)
        die(path, "the type %s is defined twice", t->full_name);
    g_named = xrealloc(g_named, (g_nnamed + 1) * sizeof(*g_named));
    if (!g_named)
        exit(1);
    g_named[g_nnamed].t = t;
    g_named[g_nnamed].file = g_file;
    g_nnamed++;
}

static void parse_named_head(json_t *j, type_t *t, const char *space, const char *path) {
    json_t *n = json_object_get(j, "name"), *ns = json_object_get(j, "namespace"),
           *doc = json_object_get(j, "doc"), *cn;
    const char *last;
    if (!json_is_string(n))
        die(path, "a %s needs a \"name\"", kind_names[t->kind]);
    if (ns && !json_is_string(ns) && !json_is_null(ns))
        die(path, "namespace: expected a string");
    t->full_name = full_name(json_string_value(n), json_is_string(ns) ? json_string_value(ns) : space);
    last = strrchr(t->full_name, '.');
    t->name = xstrdup(last ? last + 1 : t->full_name);
    t->space = last ? fmt("%.*s", (int)(last - t->full_name), t->full_name) : xstrdup("");
    if (!valid_avro_name(t->name))
        die(path, "the name \"%s\" is not a valid Avro name", t->name);
    t->doc = json_is_string(doc) ? xstrdup(json_string_value(doc)) : NULL;
    t->cname = cname_of(t->name);
    if ((cn = json_object_get(j, "vt.cname"))) {
        const char *c = json_is_string(cn) ? json_string_value(cn) : "";
        size_t i;
        bool ok = *c && !isdigit((unsigned char)*c);
        for (i = 0; c[i]; i++)
            ok = ok && (islower((unsigned char)c[i]) || isdigit((unsigned char)c[i]) || c[i] == '_');
        if (!ok)
            die(path, "vt.cname: expected a C name in lower case (letters, digits, '_')");
        free(t->cname);
        t->cname = cname_of(c);
    }
}

static type_t *parse_type(json_t *j, const char *space, const char *path, int depth) {
    type_t *t;
    const char *ts;
    json_t *tj;
    bool ok;
    if (depth > MAX_NEST)
        die(path, "the schema nests deeper than %d levels", MAX_NEST);
    if (json_is_string(j)) {
        char *full;
        kind_t k = prim_kind(json_string_value(j), &ok);
        if (ok)
            return new_type(k, path);
        full = full_name(json_string_value(j), space);
        t = lookup(full);
        if (!t && strcmp(full, json_string_value(j)))
            t = lookup(json_string_value(j));
        if (!t)
            die(path, "unknown type \"%s\"", json_string_value(j));
        if (t->in_progress)
            die(path, "the recursive type %s is not supported", t->full_name);
        free(full);
        return t;
    }
    if (json_is_array(j)) {
        size_t i, k;
        t = new_type(K_UNION, path);
        t->nbr = json_array_size(j);
        if (t->nbr == 0)
            die(path, "an empty union");
        t->br = xmalloc(t->nbr * sizeof(*t->br));
        for (i = 0; i < t->nbr; i++) {
            char *bp = fmt("%s<%zu>", path, i);
            t->br[i] = parse_type(json_array_get(j, i), space, bp, depth + 1);
            if (t->br[i]->kind == K_UNION)
                die(bp, "a union may not contain a union");
            for (k = 0; k < i; k++) {
                bool named = t->br[i]->full_name != NULL;
                if (t->br[k]->kind == t->br[i]->kind &&
                    (!named || !strcmp(t->br[k]->full_name, t->br[i]->full_name)))
                    die(bp, "the union holds %s twice", named ? t->br[i]->full_name
                                                              : kind_names[t->br[i]->kind]);
                if (named && t->br[k]->full_name && !strcmp(t->br[k]->name, t->br[i]->name))
                    die(bp, "the union's branches %s and %s have the same short name",
                        t->br[k]->full_name, t->br[i]->full_name);
            }
            free(bp);
        }
        return t;
    }
    if (!json_is_object(j))
        die(path, "a type must be a string, an object or an array");
    tj = json_object_get(j, "type");
    if (json_is_array(tj) || json_is_object(tj))
        return parse_type(tj, space, path, depth + 1); /* {"type": [..]} wrapper */
    if (!json_is_string(tj))
        die(path, "\"type\" must be a string");
    ts = json_string_value(tj);
    {
        kind_t k = prim_kind(ts, &ok);
        if (ok) {
            t = new_type(k, path);
            parse_logical(j, t, path);
            apply_constraints(path, j, t, NULL);
            return t;
        }
    }
    if (!strcmp(ts, "record") || !strcmp(ts, "error")) {
        json_t *fs = json_object_get(j, "fields");
        size_t i, k;
        t = new_type(K_RECORD, path);
        parse_named_head(j, t, space, path);
        if (!json_is_array(fs))
            die(path, "a record needs a \"fields\" array");
        register_named(t, path);
        t->in_progress = true;
        t->nfields = json_array_size(fs);
        t->fields = xmalloc((t->nfields ? t->nfields : 1) * sizeof(field_t));
        for (i = 0; i < t->nfields; i++) {
            json_t *fj = json_array_get(fs, i), *fn = json_object_get(fj, "name"),
                   *fd = json_object_get(fj, "doc");
            field_t *f = &t->fields[i];
            char *fp;
            type_t *target;
            if (!json_is_object(fj) || !json_is_string(fn))
                die(path, "field %zu needs a \"name\"", i);
            f->name = xstrdup(json_string_value(fn));
            fp = *path ? fmt("%s.%s", path, f->name) : xstrdup(f->name);
            check_member(fp, f->name, "the field name");
            for (k = 0; k < i; k++) {
                if (!strcmp(t->fields[k].name, f->name))
                    die(fp, "the field is defined twice");
            }
            f->doc = json_is_string(fd) ? xstrdup(json_string_value(fd)) : NULL;
            if (!json_object_get(fj, "type"))
                die(fp, "the field needs a \"type\"");
            f->type = parse_type(json_object_get(fj, "type"), t->space, fp, depth + 1);
            f->opt = -1;
            if (f->type->kind == K_UNION && f->type->nbr == 2 &&
                (f->type->br[0]->kind == K_NULL) != (f->type->br[1]->kind == K_NULL)) {
                f->opt = f->type->br[0]->kind == K_NULL ? 0 : 1;
                f->inner = f->type->br[1 - f->opt];
            }
            target = f->opt >= 0 ? f->inner : f->type;
            {
                const char *ck;
                json_t *cv;
                bool any = false;
                json_object_foreach(fj, ck, cv) {
                    if (!strncmp(ck, "vt.", 3))
                        any = true;
                }
                if (any) {
                    if (target->full_name || target->kind == K_UNION)
                        die(fp, "constraints on a field of type %s belong in the type's own "
                                "definition", target->full_name ? target->full_name : "union");
                    apply_constraints(fp, fj, target, f);
                }
            }
            f->def = json_object_get(fj, "default");
            if (f->def)
                check_default(fp, f->type, f->def, 0);
            free(fp);
        }
        t->in_progress = false;
        t->defined = true;
        apply_constraints(path, j, t, NULL);
        return t;
    }
    if (!strcmp(ts, "enum")) {
        json_t *sy = json_object_get(j, "symbols"), *d = json_object_get(j, "default");
        size_t i, k;
        t = new_type(K_ENUM, path);
        parse_named_head(j, t, space, path);
        if (!json_is_array(sy) || json_array_size(sy) == 0)
            die(path, "an enum needs a non-empty \"symbols\" array");
        t->nsym = json_array_size(sy);
        t->symbols = xmalloc(t->nsym * sizeof(char *));
        for (i = 0; i < t->nsym; i++) {
            json_t *s = json_array_get(sy, i);
            char *u;
            if (!json_is_string(s) || !valid_avro_name(json_string_value(s)))
                die(path, "enum symbol %zu is not a valid Avro name", i);
            t->symbols[i] = xstrdup(json_string_value(s));
            u = upper(t->symbols[i]);
            for (k = 0; k < i; k++) {
                char *v = upper(t->symbols[k]);
                if (!strcmp(u, v))
                    die(path, "the enum symbols %s and %s give the same C constant", t->symbols[k],
                        t->symbols[i]);
                free(v);
            }
            free(u);
        }
        if (d) {
            if (!json_is_string(d))
                die(path, "the enum default must be a symbol");
            for (i = 0; i < t->nsym; i++)
                if (!strcmp(t->symbols[i], json_string_value(d)))
                    t->enum_default = (int)i;
            if (t->enum_default < 0)
                die(path, "the enum default \"%s\" is not a symbol", json_string_value(d));
        }
        register_named(t, path);
        t->defined = true;
        apply_constraints(path, j, t, NULL);
        return t;
    }
    if (!strcmp(ts, "fixed")) {
        json_t *sz = json_object_get(j, "size");
        t = new_type(K_FIXED, path);
        parse_named_head(j, t, space, path);
        if (!json_is_integer(sz) || json_integer_value(sz) < 1 || json_integer_value(sz) > 65536)
            die(path, "a fixed needs a \"size\" in [1, 65536]");
        t->size = (size_t)json_integer_value(sz);
        parse_logical(j, t, path);
        register_named(t, path);
        t->defined = true;
        apply_constraints(path, j, t, NULL);
        return t;
    }
    if (!strcmp(ts, "array") || !strcmp(ts, "map")) {
        json_t *it = json_object_get(j, ts[0] == 'a' ? "items" : "values");
        char *ip = fmt("%s%s", path, ts[0] == 'a' ? "[]" : ".*");
        t = new_type(ts[0] == 'a' ? K_ARRAY : K_MAP, path);
        if (!it)
            die(path, "an %s needs \"%s\"", ts, ts[0] == 'a' ? "items" : "values");
        t->items = parse_type(it, space, ip, depth + 1);
        free(ip);
        apply_constraints(path, j, t, NULL);
        return t;
    }
    die(path, "unsupported type \"%s\"", ts);
}

/* Checks that a default fits its type (Avro rules: a union's default is of its first branch). */
static void check_default(const char *path, type_t *t, json_t *d, int depth) {
    size_t i;
    if (depth > MAX_NEST)
        die(path, "default: nested too deeply");
    switch (t->kind) {
    case K_NULL:
        if (!json_is_null(d))
            die(path, "default: expected null");
        return;
    case K_BOOL:
        if (!json_is_boolean(d))
            die(path, "default: expected true or false");
        return;
    case K_INT:
    case K_LONG:
        if (!json_is_integer(d) ||
            (t->kind == K_INT && (json_integer_value(d) < INT32_MIN || json_integer_value(d) > INT32_MAX)))
            die(path, "default: expected a value of type %s", kind_names[t->kind]);
        return;
    case K_FLOAT:
    case K_DOUBLE:
        if (!json_is_number(d))
            die(path, "default: expected a number");
        return;
    case K_STRING:
        if (!json_is_string(d) || strlen(json_string_value(d)) != json_string_length(d))
            die(path, "default: expected a string without NUL bytes");
        return;
    case K_BYTES:
    case K_FIXED: {
        const unsigned char *s = (const unsigned char *)json_string_value(d);
        size_t n = 0;
        if (!s)
            die(path, "default: expected a string (bytes as code points 0-255)");
        for (i = 0; s[i]; i++) { /* code points above U+00FF are not bytes */
            if (s[i] >= 0xc4)
                die(path, "default: code point above U+00FF");
            if ((s[i] & 0xc0) != 0x80)
                n++;
        }
        if (t->kind == K_FIXED && n != t->size)
            die(path, "default: expected %zu bytes, got %zu", t->size, n);
        return;
    }
    case K_ENUM:
        if (json_is_string(d))
            for (i = 0; i < t->nsym; i++)
                if (!strcmp(t->symbols[i], json_string_value(d)))
                    return;
        die(path, "default: expected one of the enum's symbols");
    case K_ARRAY:
        if (!json_is_array(d))
            die(path, "default: expected an array");
        for (i = 0; i < json_array_size(d); i++)
            check_default(path, t->items, json_array_get(d, i), depth + 1);
        return;
    case K_MAP: {
        const char *k;
        json_t *v;
        if (!json_is_object(d))
            die(path, "default: expected an object");
        json_object_foreach(d, k, v) {
            check_default(path, t->items, v, depth + 1);
        }
        return;
    }
    case K_RECORD: {
        const char *k;
        json_t *v;
        if (!json_is_object(d))
            die(path, "default: expected an object");
        json_object_foreach(d, k, v) {
            for (i = 0; i < t->nfields; i++)
                if (!strcmp(t->fields[i].name, k))
                    break;
            if (i == t->nfields)
                die(path, "default: %s is not a field of %s", k, t->full_name);
            check_default(path, t->fields[i].type, v, depth + 1);
        }
        for (i = 0; i < t->nfields; i++)
            if (!json_object_get(d, t->fields[i].name) && !t->fields[i].def)
                die(path, "default: the field %s has no value and no default", t->fields[i].name);
        return;
    }
    case K_UNION:
        check_default(path, t->br[0], d, depth + 1);
        return;
    }
}

/* ---------------------------------------------------------------------- */
/* Canonical form and fingerprint                                          */

typedef struct sb_s {
    char *s;
    size_t len, cap;
} sb_t;

static void sb_put(sb_t *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 1024;
        while (nc < b->len + n + 1)
            nc *= 2;
        b->s = xrealloc(b->s, nc);
        if (!b->s)
            exit(1);
        b->cap = nc;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

__attribute__((format(printf, 2, 3))) static void sb_printf(sb_t *b, const char *f, ...) {
    va_list ap;
    int n;
    char stack[512], *p = stack;
    va_start(ap, f);
    n = vsnprintf(stack, sizeof(stack), f, ap);
    va_end(ap);
    if ((size_t)n >= sizeof(stack)) {
        p = xmalloc((size_t)n + 1);
        va_start(ap, f);
        vsnprintf(p, (size_t)n + 1, f, ap);
        va_end(ap);
    }
    sb_put(b, p, (size_t)n);
    if (p != stack)
        free(p);
}

typedef struct seen_s {
    const type_t **t;
    size_t n;
} seen_t;

static bool seen_has(seen_t *s, const type_t *t) {
    size_t i;
    for (i = 0; i < s->n; i++)
        if (s->t[i] == t)
            return true;
    s->t = xrealloc(s->t, (s->n + 1) * sizeof(*s->t));
    if (!s->t)
        exit(1);
    s->t[s->n++] = t;
    return false;
}

static void canon(sb_t *b, const type_t *t, seen_t *seen) {
    size_t i;
    if (t->full_name && seen_has(seen, t)) {
        sb_printf(b, "\"%s\"", t->full_name);
        return;
    }
    switch (t->kind) {
    case K_RECORD:
        sb_printf(b, "{\"name\":\"%s\",\"type\":\"record\",\"fields\":[", t->full_name);
        for (i = 0; i < t->nfields; i++) {
            sb_printf(b, "%s{\"name\":\"%s\",\"type\":", i ? "," : "", t->fields[i].name);
            canon(b, t->fields[i].type, seen);
            sb_put(b, "}", 1);
        }
        sb_put(b, "]}", 2);
        return;
    case K_ENUM:
        sb_printf(b, "{\"name\":\"%s\",\"type\":\"enum\",\"symbols\":[", t->full_name);
        for (i = 0; i < t->nsym; i++)
            sb_printf(b, "%s\"%s\"", i ? "," : "", t->symbols[i]);
        sb_put(b, "]}", 2);
        return;
    case K_FIXED:
        sb_printf(b, "{\"name\":\"%s\",\"type\":\"fixed\",\"size\":%zu}", t->full_name, t->size);
        return;
    case K_ARRAY:
        sb_put(b, "{\"type\":\"array\",\"items\":", 24);
        canon(b, t->items, seen);
        sb_put(b, "}", 1);
        return;
    case K_MAP:
        sb_put(b, "{\"type\":\"map\",\"values\":", 23);
        canon(b, t->items, seen);
        sb_put(b, "}", 1);
        return;
    case K_UNION:
        sb_put(b, "[", 1);
        for (i = 0; i < t->nbr; i++) {
            if (i)
                sb_put(b, ",", 1);
            canon(b, t->br[i], seen);
        }
        sb_put(b, "]", 1);
        return;
    default:
        sb_printf(b, "\"%s\"", kind_names[t->kind]);
    }
}

static char *canonical(const type_t *t) {
    sb_t b = {0};
    seen_t s = {0};
    canon(&b, t, &s);
    free(s.t);
    return b.s;
}

static uint64_t rabin(const char *s) {
    static uint64_t table[256];
    const uint64_t empty = UINT64_C(0xc15d213aa4d7a795);
    uint64_t fp = empty;
    int i, j;
    if (!table[1]) {
        for (i = 0; i < 256; i++) {
            uint64_t f = (uint64_t)i;
            for (j = 0; j < 8; j++)
                f = (f >> 1) ^ (empty & (0 - (f & 1)));
            table[i] = f;
        }
    }
    for (; *s; s++)
        fp = (fp >> 8) ^ table[(fp ^ (unsigned char)*s) & 0xff];
    return fp;
}

/* ---------------------------------------------------------------------- */
/* C names                                                                 */

static bool owns(const type_t *t) {
    size_t i;
    switch (t->kind) {
    case K_STRING:
    case K_BYTES:
    case K_ARRAY:
    case K_MAP:
        return true;
    case K_RECORD:
        for (i = 0; i < t->nfields; i++)
            if (owns(t->fields[i].type))
                return true;
        return false;
    case K_UNION:
        for (i = 0; i < t->nbr; i++)
            if (owns(t->br[i]))
                return true;
        return false;
    default:
        return false;
    }
}

static bool composite(const type_t *t) {
    return t->kind == K_RECORD || t->kind == K_ARRAY || t->kind == K_MAP || t->kind == K_UNION;
}

static const char *label(const type_t *t) {
    if (t->full_name)
        return snake(t->name);
    return kind_names[t->kind];
}

static const char *json_label(const type_t *t) {
    return t->full_name ? t->full_name : kind_names[t->kind];
}

static char *ctype(const type_t *t) {
    switch (t->kind) {
    case K_BOOL: return "bool";
    case K_INT: return "int32_t";
    case K_LONG: return "int64_t";
    case K_FLOAT: return "float";
    case K_DOUBLE: return "double";
    case K_STRING: return "char *";
    case K_BYTES: return "vtev_bytes_t";
    default: return fmt("%s_t", t->cname);
    }
}

/* The names of anonymous composites follow their position: record_field[_item|_value|_label]. */
static void name_anon(type_t *t, const char *base, const char *canon_key) {
    size_t i;
    if (t->full_name)
        return;
    if (t->kind == K_NULL && strstr(base, "_item") + 5 == base + strlen(base))
        die(t->path, "an array of null is not supported");
    switch (t->kind) {
    case K_ARRAY:
    case K_MAP:
        if (t->items->kind == K_NULL)
            die(t->path, "an %s of null is not supported", kind_names[t->kind]);
        t->cname = xstrdup(base);
        t->canon = xstrdup(canon_key);
        add_ident(t->path, fmt("%s_t", base), fmt("the %s at %s", kind_names[t->kind], t->path), canon_key);
        if (t->kind == K_MAP)
            add_ident(t->path, fmt("%s_entry_t", base), fmt("the map at %s", t->path), canon_key);
        name_anon(t->items, fmt("%s_%s", base, t->kind == K_ARRAY ? "item" : "value"), canon_key);
        return;
    case K_UNION:
        t->cname = xstrdup(base);
        t->canon = xstrdup(canon_key);
        add_ident(t->path, fmt("%s_t", base), fmt("the union at %s", t->path), canon_key);
        add_ident(t->path, fmt("%s_branch_t", base), fmt("the union at %s", t->path), canon_key);
        for (i = 0; i < t->nbr; i++) {
            add_ident(t->path, upper(fmt("%s_%s", base, label(t->br[i]))),
                      fmt("a branch of the union at %s", t->path), canon_key);
            name_anon(t->br[i], fmt("%s_%s", base, label(t->br[i])), canon_key);
        }
        return;
    default:
        return;
    }
}

static void name_named(type_t *t) {
    size_t i;
    char *guard;
    if (t->canon)
        return;
    t->canon = canonical(t);
    add_ident(t->path, fmt("%s_t", t->cname), fmt("the type %s", t->full_name), t->canon);
    guard = upper(fmt("%s", t->cname));
    add_ident(t->path, fmt("%s_s", t->cname), fmt("the type %s", t->full_name), t->canon);
    free(guard);
    if (t->kind == K_ENUM)
        for (i = 0; i < t->nsym; i++)
            add_ident(t->path, upper(fmt("%s_%s", t->cname, t->symbols[i])),
                      fmt("the symbol %s of %s", t->symbols[i], t->full_name), t->canon);
    if (t->kind == K_RECORD) {
        for (i = 0; i < t->nfields; i++) {
            field_t *f = &t->fields[i];
            size_t k;
            if (f->opt >= 0)
                for (k = 0; k < t->nfields; k++)
                    if (!strcmp(t->fields[k].name, fmt("has_%s", f->name)))
                        die(t->path, "the field has_%s clashes with the presence flag of %s",
                            f->name, f->name);
            name_anon(f->opt >= 0 ? f->inner : f->type, fmt("%s_%s", t->cname, f->name), t->canon);
        }
    }
}

/* Post-order list of every type the top record reaches (named ones once). */
static type_t **g_list;
static size_t g_nlist;

static void collect(type_t *t) {
    size_t i;
    if (t->emitted)
        return;
    if (t->full_name) {
        t->emitted = true;
        name_named(t);
    }
    switch (t->kind) {
    case K_RECORD:
        for (i = 0; i < t->nfields; i++)
            collect(t->fields[i].opt >= 0 ? t->fields[i].inner : t->fields[i].type);
        break;
    case K_ARRAY:
    case K_MAP:
        collect(t->items);
        break;
    case K_UNION:
        for (i = 0; i < t->nbr; i++)
            collect(t->br[i]);
        break;
    default:
        break;
    }
    if (t->full_name || composite(t)) {
        t->emitted = true;
        g_list = xrealloc(g_list, (g_nlist + 1) * sizeof(*g_list));
        if (!g_list)
            exit(1);
        g_list[g_nlist++] = t;
    }
}

/* ---------------------------------------------------------------------- */
/* Emission helpers                                                        */

static void c_string(sb_t *b, const char *s) {
    sb_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            sb_printf(b, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f || c == '?')
            sb_printf(b, "\\%03o", c);
        else
            sb_put(b, (const char *)&c, 1);
    }
    sb_put(b, "\"", 1);
}

static char *c_lit(const char *s) {
    sb_t b = {0};
    c_string(&b, s);
    return b.s;
}

/* A doc comment (no comment terminators inside). */
static void doc(sb_t *b, const char *ind, const char *text) {
    const char *p;
    if (!text)
        return;
    sb_printf(b, "%s/** ", ind);
    for (p = text; *p; p++) {
        if (p[0] == '*' && p[1] == '/')
            sb_put(b, "* /", 3), p++;
        else if (*p == '\n')
            sb_printf(b, "\n%s *  ", ind);
        else
            sb_put(b, p, 1);
    }
    sb_put(b, " */\n", 4);
}

/* Helpers emitted once per .c, only when used. */
enum {
    H_STRCPY, H_VSTR, H_VBYTES, H_IDX, H_RDERR, H_KNOWN, H_JBOOL, H_JINT, H_JLONG, H_JFLOAT,
    H_JDOUBLE, H_JSTR, H_JBYTES, H_JFIXED, H_JTS, H_JDATE, H_JDEC, H_JNULL, H_N
};
static bool g_used[H_N];

static bool bare_union(const type_t *t) {
    size_t i;
    int ints = 0, floats = 0;
    for (i = 0; i < t->nbr; i++) {
        const type_t *b = t->br[i];
        if (b->logical != L_NONE)
            return false;
        switch (b->kind) {
        case K_NULL:
        case K_BOOL:
        case K_STRING: break;
        case K_INT:
        case K_LONG: ints++; break;
        case K_FLOAT:
        case K_DOUBLE: floats++; break;
        default: return false;
        }
    }
    return ints <= 1 && floats <= 1;
}

static size_t min_size(const type_t *t) {
    size_t i, n = 0;
    switch (t->kind) {
    case K_NULL: return 0;
    case K_FLOAT: return 4;
    case K_DOUBLE: return 8;
    case K_FIXED: return t->size;
    case K_RECORD:
        for (i = 0; i < t->nfields; i++)
            n += min_size(t->fields[i].type);
        return n;
    default: return 1;
    }
}

static const char *per_second(const type_t *t) {
    return t->logical == L_TS_MILLIS ? "1000" : "1000000";
}

/* ---------------------------------------------------------------------- */
/* clear / copy                                                            */

static void e_clear(sb_t *b, const char *ind, const type_t *t, const char *lv) {
    if (!owns(t))
        return;
    if (t->kind == K_STRING)
        sb_printf(b, "%sfree(%s);\n", ind, lv);
    else if (t->kind == K_BYTES)
        sb_printf(b, "%sfree(%s.data);\n", ind, lv);
    else
        sb_printf(b, "%scg_%s_clear(&%s);\n", ind, t->cname, lv);
}

static void e_copy(sb_t *b, const char *ind, const type_t *t, const char *d, const char *s) {
    if (!owns(t)) {
        sb_printf(b, "%s%s = %s;\n", ind, d, s);
    } else if (t->kind == K_STRING) {
        g_used[H_STRCPY] = true;
        sb_printf(b, "%sif (cg_strcpy(&%s, %s))\n%s    return -1;\n", ind, d, s, ind);
    } else if (t->kind == K_BYTES) {
        sb_printf(b, "%sif (vtev_rt_bytes_copy(&%s, &%s))\n%s    return -1;\n", ind, d, s, ind);
    } else {
        sb_printf(b, "%sif (cg_%s_copy(&%s, &%s))\n%s    return -1;\n", ind, t->cname, d, s, ind);
    }
}

static void gen_clear_copy(sb_t *b, const type_t *t) {
    size_t i;
    const char *n = t->cname;
    if (!owns(t))
        return;
    sb_printf(b, "static void cg_%s_clear(%s_t *v) {\n", n, n);
    switch (t->kind) {
    case K_RECORD:
        for (i = 0; i < t->nfields; i++) {
            const field_t *f = &t->fields[i];
            e_clear(b, "    ", f->opt >= 0 ? f->inner : f->type, fmt("v->%s", f->name));
        }
        break;
    case K_ARRAY:
        if (owns(t->items)) {
            sb_printf(b, "    size_t i;\n    for (i = 0; i < v->len; i++) {\n");
            e_clear(b, "        ", t->items, "v->items[i]");
            sb_printf(b, "    }\n");
        }
        sb_printf(b, "    free(v->items);\n    v->items = NULL;\n    v->len = 0;\n");
        break;
    case K_MAP:
        sb_printf(b, "    size_t i;\n    for (i = 0; i < v->len; i++) {\n        free(v->entries[i].key);\n");
        e_clear(b, "        ", t->items, "v->entries[i].value");
        sb_printf(b, "    }\n    free(v->entries);\n    v->entries = NULL;\n    v->len = 0;\n");
        break;
    case K_UNION:
        sb_printf(b, "    switch ((int)v->which) {\n");
        for (i = 0; i < t->nbr; i++) {
            if (!owns(t->br[i]))
                continue;
            sb_printf(b, "    case %zu:\n", i);
            e_clear(b, "        ", t->br[i], fmt("v->u.v_%s", label(t->br[i])));
            sb_printf(b, "        break;\n");
        }
        sb_printf(b, "    default:\n        break;\n    }\n    memset(v, 0, sizeof(*v));\n");
        break;
    default:
        break;
    }
    sb_printf(b, "}\n\n");

    sb_printf(b, "static int cg_%s_copy(%s_t *d, const %s_t *s) {\n", n, n, n);
    switch (t->kind) {
    case K_RECORD:
        sb_printf(b, "    memset(d, 0, sizeof(*d));\n");
        for (i = 0; i < t->nfields; i++) {
            const field_t *f = &t->fields[i];
            if (f->type->kind == K_NULL)
                continue;
            if (f->opt >= 0) {
                sb_printf(b, "    d->has_%s = s->has_%s;\n    if (s->has_%s) {\n", f->name, f->name,
                          f->name);
                e_copy(b, "        ", f->inner, fmt("d->%s", f->name), fmt("s->%s", f->name));
                sb_printf(b, "    }\n");
            } else {
                e_copy(b, "    ", f->type, fmt("d->%s", f->name), fmt("s->%s", f->name));
            }
        }
        break;
    case K_ARRAY:
        sb_printf(b, "    memset(d, 0, sizeof(*d));\n    if (!s->len)\n        return 0;\n"
                     "    if (!(d->items = (%s *)calloc(s->len, sizeof(*d->items))))\n        return -1;\n"
                     "    d->len = s->len;\n",
                  ctype(t->items));
        if (owns(t->items)) {
            sb_printf(b, "    {\n        size_t i;\n        for (i = 0; i < s->len; i++) {\n");
            e_copy(b, "            ", t->items, "d->items[i]", "s->items[i]");
            sb_printf(b, "        }\n    }\n");
        } else {
            sb_printf(b, "    memcpy(d->items, s->items, s->len * sizeof(*d->items));\n");
        }
        break;
    case K_MAP:
        g_used[H_STRCPY] = true;
        sb_printf(b, "    size_t i;\n    memset(d, 0, sizeof(*d));\n    if (!s->len)\n        return 0;\n"
                     "    if (!(d->entries = (%s_entry_t *)calloc(s->len, sizeof(*d->entries))))\n"
                     "        return -1;\n    d->len = s->len;\n    for (i = 0; i < s->len; i++) {\n"
                     "        if (cg_strcpy(&d->entries[i].key, s->entries[i].key))\n            return -1;\n",
                  n);
        e_copy(b, "        ", t->items, "d->entries[i].value", "s->entries[i].value");
        sb_printf(b, "    }\n");
        break;
    case K_UNION:
        sb_printf(b, "    memset(d, 0, sizeof(*d));\n    d->which = s->which;\n    switch ((int)s->which) {\n");
        for (i = 0; i < t->nbr; i++) {
            const char *l = label(t->br[i]);
            if (t->br[i]->kind == K_NULL)
                continue;
            sb_printf(b, "    case %zu:\n", i);
            e_copy(b, "        ", t->br[i], fmt("d->u.v_%s", l), fmt("s->u.v_%s", l));
            sb_printf(b, "        break;\n");
        }
        sb_printf(b, "    default:\n        break;\n    }\n");
        break;
    default:
        break;
    }
    sb_printf(b, "    return 0;\n}\n\n");
}

/* ---------------------------------------------------------------------- */
/* init (defaults)                                                         */

static void e_default(sb_t *b, const char *ind, const type_t *t, json_t *d, const char *lv);

static void e_bytes_lit(sb_t *b, json_t *d, char **lit, size_t *n) {
    /* Avro: a bytes default is a string whose code points 0-255 are the bytes */
    const unsigned char *s = (const unsigned char *)json_string_value(d);
    sb_t o = {0};
    size_t cnt = 0;
    (void)b;
    sb_put(&o, "\"", 1);
    while (*s) {
        unsigned cp = *s;
        if (cp >= 0xc0) {
            cp = ((cp & 0x1f) << 6) | (s[1] & 0x3f);
            s += 2;
        } else {
            s++;
        }
        sb_printf(&o, "\\%03o", cp);
        cnt++;
    }
    sb_put(&o, "\"", 1);
    *lit = o.s;
    *n = cnt;
}

static void e_default(sb_t *b, const char *ind, const type_t *t, json_t *d, const char *lv) {
    size_t i;
    char *in2 = fmt("%s    ", ind);
    switch (t->kind) {
    case K_NULL: break;
    case K_BOOL: sb_printf(b, "%s%s = %s;\n", ind, lv, json_is_true(d) ? "true" : "false"); break;
    case K_INT: sb_printf(b, "%s%s = %" PRId64 ";\n", ind, lv, (int64_t)json_integer_value(d)); break;
    case K_LONG: sb_printf(b, "%s%s = INT64_C(%" PRId64 ");\n", ind, lv, (int64_t)json_integer_value(d)); break;
    case K_FLOAT:
    case K_DOUBLE:
        sb_printf(b, "%s%s = (%s)%.17g;\n", ind, lv, ctype(t), json_number_value(d));
        break;
    case K_STRING:
        sb_printf(b, "%sfree(%s);\n%s%s = NULL;\n", ind, lv, ind, lv);
        if (*json_string_value(d)) {
            g_used[H_STRCPY] = true;
            sb_printf(b, "%sif (cg_strcpy(&%s, %s))\n%s    return -1;\n", ind, lv,
                      c_lit(json_string_value(d)), ind);
        }
        break;
    case K_BYTES:
    case K_FIXED: {
        char *lit;
        size_t n;
        e_bytes_lit(b, d, &lit, &n);
        if (t->kind == K_FIXED) {
            sb_printf(b, "%smemcpy(%s.bytes, %s, %zu);\n", ind, lv, lit, n);
        } else {
            sb_printf(b, "%sfree(%s.data);\n%s%s.data = NULL;\n%s%s.len = 0;\n", ind, lv, ind, lv, ind, lv);
            if (n)
                sb_printf(b, "%sif (!(%s.data = (unsigned char *)malloc(%zu)))\n%s    return -1;\n"
                             "%smemcpy(%s.data, %s, %zu);\n%s%s.len = %zu;\n",
                          ind, lv, n, ind, ind, lv, lit, n, ind, lv, n);
        }
        break;
    }
    case K_ENUM:
        for (i = 0; i < t->nsym; i++)
            if (!strcmp(t->symbols[i], json_string_value(d)))
                sb_printf(b, "%s%s = %s;\n", ind, lv, upper(fmt("%s_%s", t->cname, t->symbols[i])));
        break;
    case K_ARRAY:
        e_clear(b, ind, t, lv);
        if (json_array_size(d)) {
            sb_printf(b, "%sif (!(%s.items = (%s *)calloc(%zu, sizeof(*%s.items))))\n%s    return -1;\n"
                         "%s%s.len = %zu;\n",
                      ind, lv, ctype(t->items), json_array_size(d), lv, ind, ind, lv, json_array_size(d));
            for (i = 0; i < json_array_size(d); i++)
                e_default(b, ind, t->items, json_array_get(d, i), fmt("%s.items[%zu]", lv, i));
        }
        break;
    case K_MAP:
        e_clear(b, ind, t, lv);
        if (json_object_size(d)) {
            const char *k;
            json_t *v;
            i = 0;
            g_used[H_STRCPY] = true;
            sb_printf(b, "%sif (!(%s.entries = (%s_entry_t *)calloc(%zu, sizeof(*%s.entries))))\n"
                         "%s    return -1;\n%s%s.len = %zu;\n",
                      ind, lv, t->cname, json_object_size(d), lv, ind, ind, lv, json_object_size(d));
            json_object_foreach(d, k, v) {
                sb_printf(b, "%sif (cg_strcpy(&%s.entries[%zu].key, %s))\n%s    return -1;\n", ind, lv,
                          i, c_lit(k), ind);
                e_default(b, ind, t->items, v, fmt("%s.entries[%zu].value", lv, i));
                i++;
            }
        }
        break;
    case K_RECORD:
        e_clear(b, ind, t, lv);
        sb_printf(b, "%s{\n%s    int rc_ = cg_%s_init(&%s);\n%s    if (rc_)\n%s        return rc_;\n%s}\n",
                  ind, ind, t->cname, lv, ind, ind, ind);
        for (i = 0; i < t->nfields; i++) {
            const field_t *f = &t->fields[i];
            json_t *v = json_object_get(d, f->name);
            if (!v)
                continue;
            if (f->opt >= 0) {
                if (json_is_null(v)) {
                    sb_printf(b, "%s%s.has_%s = false;\n", ind, lv, f->name);
                } else {
                    sb_printf(b, "%s%s.has_%s = true;\n", ind, lv, f->name);
                    e_default(b, ind, f->inner, v, fmt("%s.%s", lv, f->name));
                }
            } else {
                e_default(b, ind, f->type, v, fmt("%s.%s", lv, f->name));
            }
        }
        break;
    case K_UNION:
        e_clear(b, ind, t, lv);
        sb_printf(b, "%s%s.which = (%s_branch_t)0;\n", ind, lv, t->cname);
        e_default(b, ind, t->br[0], d, fmt("%s.u.v_%s", lv, label(t->br[0])));
        break;
    }
    free(in2);
}

static void gen_init(sb_t *b, const type_t *t) {
    size_t i;
    sb_printf(b, "static int cg_%s_init(%s_t *v) {\n    memset(v, 0, sizeof(*v));\n", t->cname, t->cname);
    for (i = 0; i < t->nfields; i++) {
        const field_t *f = &t->fields[i];
        const type_t *ft = f->opt >= 0 ? f->inner : f->type;
        char *lv = fmt("v->%s", f->name);
        if (f->def) {
            if (f->opt >= 0) {
                if (!json_is_null(f->def)) {
                    sb_printf(b, "    v->has_%s = true;\n", f->name);
                    e_default(b, "    ", ft, f->def, lv);
                }
            } else {
                e_default(b, "    ", ft, f->def, lv);
            }
        } else if (f->opt >= 0) {
            continue;
        } else if (ft->kind == K_STRING && ft->cons.uuid) {
            sb_printf(b, "    if (!(%s = (char *)malloc(VTEV_RT_UUID_LEN + 1)))\n        return -1;\n"
                         "    if (vtev_rt_uuid4(%s))\n        return -2;\n",
                      lv, lv);
        } else if (f->now) {
            sb_printf(b, "    %s = vtev_rt_now_us()%s;\n", lv, ft->logical == L_TS_MILLIS ? " / 1000" : "");
        } else if (ft->kind == K_RECORD) {
            sb_printf(b, "    {\n        int rc_ = cg_%s_init(&%s);\n        if (rc_)\n            return rc_;\n    }\n",
                      ft->cname, lv);
        } else if (ft->kind == K_ENUM && ft->enum_default >= 0) {
            sb_printf(b, "    %s = %s;\n", lv, upper(fmt("%s_%s", ft->cname, ft->symbols[ft->enum_default])));
        }
        free(lv);
    }
    sb_printf(b, "    return 0;\n}\n\n");
}

/* ---------------------------------------------------------------------- */
/* validate                                                                */

static const char *unit_suffix(const type_t *t) {
    switch (t->logical) {
    case L_TS_MILLIS: return " milliseconds since the epoch";
    case L_TS_MICROS: return " microseconds since the epoch";
    case L_DATE: return " days since 1970-01-01";
    default: return "";
    }
}

static char *symbol_list(const type_t *t) {
    sb_t b = {0};
    size_t i;
    for (i = 0; i < t->nsym; i++)
        sb_printf(&b, "%s%s", i ? ", " : "", t->symbols[i]);
    return b.s;
}

/* A timestamp or date outside the years 0000-9999 has no text form (the
 * JSON reader takes four-digit years): always refused, after the schema's
 * own constraints (whose messages are more precise). */
static void e_text_range(sb_t *b, const char *ind, const type_t *t, const char *lv, const char *seg) {
    const char *lo, *hi;
    switch (t->logical) {
    case L_TS_MILLIS: lo = "-62167219200000"; hi = "253402300799999"; break;
    case L_TS_MICROS: lo = "-62167219200000000"; hi = "253402300799999999"; break;
    case L_DATE: lo = "-719528"; hi = "2932896"; break;
    default: return;
    }
    if (t->cons.has_lo && t->cons.has_hi) { /* the schema's range may already be narrower */
        char *le, *he;
        long long l, h;
        errno = 0;
        l = strtoll(t->cons.lo_txt, &le, 10);
        h = strtoll(t->cons.hi_txt, &he, 10);
        if (!errno && !*le && !*he && l >= strtoll(lo, NULL, 10) && h <= strtoll(hi, NULL, 10))
            return;
    }
    sb_printf(b, "%sif (%s < INT64_C(%s) || %s > INT64_C(%s))\n"
                 "%s    return CG_FAIL(%s, \": %%lld is outside [%s, %s]%s (the years 0000 to 9999)\", (long long)%s);\n",
              ind, lv, lo, lv, hi, ind, seg, lo, hi, unit_suffix(t), lv);
}

/* Statements that check lv of type t; on failure they return with seg in front. */
static void e_validate(sb_t *b, const char *ind, const type_t *t, const char *lv, const char *seg) {
    const cons_t *c = &t->cons;
    if (is_num(t) && (c->has_lo || c->has_hi || c->finite)) {
        bool fl = t->kind == K_FLOAT || t->kind == K_DOUBLE;
        const char *vf = fl ? "%s" : "%lld";
        char *va = fl ? fmt("vtev_rt_dtoa((double)%s, nb, sizeof(nb))", lv) : fmt("(long long)%s", lv);
        char *cond = xstrdup("0"), *msg;
        sb_printf(b, "%s{\n", ind);
        if (fl)
            sb_printf(b, "%s    char nb[40];\n%s    if (!isfinite(%s))\n"
                         "%s        return CG_FAIL(%s, \": %%s is not a finite number\", %s);\n",
                      ind, ind, lv, ind, seg, va);
        if (c->has_lo || c->has_hi) {
            if (c->has_lo && c->has_hi)
                cond = fmt("%s %s %s || %s %s %s", lv, c->lo_excl ? "<=" : "<", c->lo_txt, lv,
                           c->hi_excl ? ">=" : ">", c->hi_txt);
            else if (c->has_lo)
                cond = fmt("%s %s %s", lv, c->lo_excl ? "<=" : "<", c->lo_txt);
            else
                cond = fmt("%s %s %s", lv, c->hi_excl ? ">=" : ">", c->hi_txt);
            if (c->has_lo && !c->has_hi && !c->lo_excl && c->lo == 0)
                msg = fmt(": %s is negative", vf);
            else
                msg = fmt(": %s is outside %c%s, %s%c%s", vf, c->has_lo && !c->lo_excl ? '[' : '(',
                          c->has_lo ? c->lo_txt : "-inf", c->has_hi ? c->hi_txt : "inf",
                          c->has_hi && !c->hi_excl ? ']' : ')', unit_suffix(t));
            sb_printf(b, "%s    if (%s)\n%s        return CG_FAIL(%s, %s, %s);\n", ind, cond, ind, seg,
                      c_lit(msg), va);
        }
        sb_printf(b, "%s}\n", ind);
        e_text_range(b, ind, t, lv, seg);
        return;
    }
    switch (t->kind) {
    case K_STRING:
        g_used[H_VSTR] = true;
        sb_printf(b, "%sCG_TRY(cg_vstr(%s, %ld, %s, %d, %d, e, es), %s);\n", ind, lv,
                  c->min_len > 0 ? c->min_len : 0,
                  c->max_len >= 0 ? fmt("%ld", c->max_len) : "SIZE_MAX", c->non_empty, c->uuid, seg);
        break;
    case K_BYTES:
        if (c->min_len >= 0 || c->max_len >= 0 || c->non_empty) {
            g_used[H_VBYTES] = true;
            sb_printf(b, "%sCG_TRY(cg_vbytes(%s.len, %ld, %s, %d, e, es), %s);\n", ind, lv,
                      c->min_len > 0 ? c->min_len : 0,
                      c->max_len >= 0 ? fmt("%ld", c->max_len) : "SIZE_MAX", c->non_empty, seg);
        }
        break;
    case K_ENUM:
        sb_printf(b, "%sif ((unsigned)%s >= %zuu)\n%s    return CG_FAIL(%s, \": %%d is not one of %s\", (int)%s);\n",
                  ind, lv, t->nsym, ind, seg, symbol_list(t), lv);
        break;
    case K_RECORD:
    case K_ARRAY:
    case K_MAP:
    case K_UNION:
        sb_printf(b, "%sCG_TRY(cg_%s_validate(&%s, e, es), %s);\n", ind, t->cname, lv, seg);
        break;
    default:
        e_text_range(b, ind, t, lv, seg);
        break;
    }
}

static void e_count_checks(sb_t *b, const type_t *t, const char *what) {
    const cons_t *c = &t->cons;
    if (c->max_items >= 0)
        sb_printf(b, "    if (v->len > %ldu)\n        return CG_FAIL(\"\", \": %%zu %s exceed the limit of %ld\", v->len);\n",
                  c->max_items, what, c->max_items);
    if (c->non_empty)
        sb_printf(b, "    if (v->len == 0)\n        return CG_FAIL(\"\", \": %s must not be empty\");\n",
                  t->kind == K_ARRAY ? "[]" : "{}");
    if (c->min_items > 0)
        sb_printf(b, "    if (v->len < %ldu)\n        return CG_FAIL(\"\", \": %%zu %s are fewer than %ld\", v->len);\n",
                  c->min_items, what, c->min_items);
}

static void gen_validate(sb_t *b, const type_t *t) {
    size_t i;
    const char *n = t->cname;
    if (t->kind == K_ENUM || t->kind == K_FIXED)
        return;
    sb_printf(b, "static vtev_err_t cg_%s_validate(const %s_t *v, char *e, size_t es) {\n", n, n);
    switch (t->kind) {
    case K_RECORD:
        for (i = 0; i < t->nfields; i++) {
            const field_t *f = &t->fields[i];
            char *seg = c_lit(f->name), *lv = fmt("v->%s", f->name);
            if (f->opt >= 0) {
                sb_printf(b, "    if (v->has_%s) {\n", f->name);
                e_validate(b, "        ", f->inner, lv, seg);
                sb_printf(b, "    }\n");
            } else {
                e_validate(b, "    ", f->type, lv, seg);
            }
        }
        break;
    case K_ARRAY:
        g_used[H_IDX] = true;
        sb_printf(b, "    size_t i;\n    char ib[32];\n    (void)ib;\n");
        e_count_checks(b, t, "items");
        sb_printf(b, "    for (i = 0; i < v->len; i++) {\n");
        e_validate(b, "        ", t->items, "v->items[i]", "cg_idx(ib, sizeof(ib), i)");
        sb_printf(b, "    }\n");
        break;
    case K_MAP: {
        const cons_t *c = &t->cons;
        sb_printf(b, "    size_t i;\n");
        e_count_checks(b, t, "entries");
        sb_printf(b, "    for (i = 0; i < v->len; i++) {\n"
                     "        const char *k = v->entries[i].key ? v->entries[i].key : \"\";\n"
                     "        size_t kn = strlen(k);\n");
        if (c->key_non_empty)
            sb_printf(b, "        if (kn == 0)\n            return CG_FAIL(\"\", \": \\\"\\\": key is empty\");\n");
        if (c->key_max_len >= 0)
            sb_printf(b, "        if (kn > %ldu)\n            return CG_FAIL(\"\", \": \\\"%%.%lds\\\": key is longer than %ld bytes\", k);\n",
                      c->key_max_len, c->key_max_len, c->key_max_len);
        sb_printf(b, "        if (vtev_rt_utf8_bad(k, kn) >= 0)\n"
                     "            return CG_FAIL(\"\", \": key is not valid UTF-8\");\n");
        e_validate(b, "        ", t->items, "v->entries[i].value", "k");
        sb_printf(b, "    }\n");
        break;
    }
    case K_UNION:
        sb_printf(b, "    switch ((int)v->which) {\n");
        for (i = 0; i < t->nbr; i++) {
            sb_printf(b, "    case %zu:\n", i);
            e_validate(b, "        ", t->br[i], fmt("v->u.v_%s", label(t->br[i])), "\"\"");
            sb_printf(b, "        break;\n");
        }
        sb_printf(b, "    default:\n        return CG_FAIL(\"\", \": %%d is not a branch of the union\", (int)v->which);\n    }\n");
        break;
    default:
        break;
    }
    sb_printf(b, "    (void)e;\n    (void)es;\n    (void)v;\n    return VTEV_ERR_OK;\n}\n\n");
}

/* ---------------------------------------------------------------------- */
/* JSON out                                                                */

static void e_tojson(sb_t *b, const char *ind, const type_t *t, const char *lv) {
    switch (t->kind) {
    case K_NULL: sb_printf(b, "%svtev_rt_jw_raw(w, \"null\");\n", ind); break;
    case K_BOOL: sb_printf(b, "%svtev_rt_jw_raw(w, %s ? \"true\" : \"false\");\n", ind, lv); break;
    case K_INT:
        if (t->logical == L_DATE)
            sb_printf(b, "%svtev_rt_jw_date(w, %s);\n", ind, lv);
        else
            sb_printf(b, "%svtev_rt_jw_int(w, %s);\n", ind, lv);
        break;
    case K_LONG:
        if (t->logical == L_TS_MILLIS || t->logical == L_TS_MICROS)
            sb_printf(b, "%svtev_rt_jw_timestamp(w, %s, %s);\n", ind, lv, per_second(t));
        else
            sb_printf(b, "%svtev_rt_jw_int(w, %s);\n", ind, lv);
        break;
    case K_FLOAT: sb_printf(b, "%svtev_rt_jw_float(w, %s);\n", ind, lv); break;
    case K_DOUBLE: sb_printf(b, "%svtev_rt_jw_double(w, %s);\n", ind, lv); break;
    case K_STRING: sb_printf(b, "%svtev_rt_jw_str(w, %s);\n", ind, lv); break;
    case K_BYTES:
        if (t->logical == L_DECIMAL)
            sb_printf(b, "%svtev_rt_jw_decimal(w, %s.data, %s.len, %d);\n", ind, lv, lv, t->scale);
        else
            sb_printf(b, "%svtev_rt_jw_base64(w, %s.data, %s.len);\n", ind, lv, lv);
        break;
    case K_FIXED:
        if (t->logical == L_DECIMAL)
            sb_printf(b, "%svtev_rt_jw_decimal(w, %s.bytes, %zu, %d);\n", ind, lv, t->size, t->scale);
        else
            sb_printf(b, "%svtev_rt_jw_base64(w, %s.bytes, %zu);\n", ind, lv, t->size);
        break;
    case K_ENUM:
        sb_printf(b, "%sif ((unsigned)%s >= %zuu)\n%s    return -1;\n%svtev_rt_jw_str(w, cg_%s_names[%s]);\n",
                  ind, lv, t->nsym, ind, ind, t->cname, lv);
        break;
    default:
        sb_printf(b, "%sif (cg_%s_to_json(w, &%s))\n%s    return -1;\n", ind, t->cname, lv, ind);
    }
}

static void gen_tojson(sb_t *b, const type_t *t) {
    size_t i;
    const char *n = t->cname;
    if (t->kind == K_ENUM) {
        sb_printf(b, "static const char *const cg_%s_names[] = {", n);
        for (i = 0; i < t->nsym; i++)
            sb_printf(b, "%s\"%s\"", i ? ", " : "", t->symbols[i]);
        sb_printf(b, "};\n\n");
        return;
    }
    if (t->kind == K_FIXED)
        return;
    sb_printf(b, "static int cg_%s_to_json(vtev_rt_jw_t *w, const %s_t *v) {\n    int f;\n", n, n);
    switch (t->kind) {
    case K_RECORD:
        sb_printf(b, "    vtev_rt_jw_open(w, &f, '{');\n");
        for (i = 0; i < t->nfields; i++) {
            const field_t *fl = &t->fields[i];
            char *lv = fmt("v->%s", fl->name);
            sb_printf(b, "    vtev_rt_jw_key(w, &f, \"%s\");\n", fl->name);
            if (fl->opt >= 0) {
                sb_printf(b, "    if (!v->has_%s) {\n        vtev_rt_jw_raw(w, \"null\");\n    } else {\n", fl->name);
                e_tojson(b, "        ", fl->inner, lv);
                sb_printf(b, "    }\n");
            } else {
                e_tojson(b, "    ", fl->type, lv);
            }
        }
        sb_printf(b, "    vtev_rt_jw_close(w, f, '}');\n");
        break;
    case K_ARRAY:
        sb_printf(b, "    size_t i;\n    vtev_rt_jw_open(w, &f, '[');\n    for (i = 0; i < v->len; i++) {\n"
                     "        vtev_rt_jw_key(w, &f, NULL);\n");
        e_tojson(b, "        ", t->items, "v->items[i]");
        sb_printf(b, "    }\n    vtev_rt_jw_close(w, f, ']');\n");
        break;
    case K_MAP:
        sb_printf(b, "    size_t i;\n    vtev_rt_jw_open(w, &f, '{');\n    for (i = 0; i < v->len; i++) {\n"
                     "        vtev_rt_jw_key(w, &f, v->entries[i].key ? v->entries[i].key : \"\");\n");
        e_tojson(b, "        ", t->items, "v->entries[i].value");
        sb_printf(b, "    }\n    vtev_rt_jw_close(w, f, '}');\n");
        break;
    case K_UNION: {
        bool bare = bare_union(t);
        sb_printf(b, "    (void)f;\n    switch ((int)v->which) {\n");
        for (i = 0; i < t->nbr; i++) {
            const type_t *br = t->br[i];
            char *lv = fmt("v->u.v_%s", label(br));
            sb_printf(b, "    case %zu:\n", i);
            if (bare || br->kind == K_NULL) {
                e_tojson(b, "        ", br, lv);
            } else {
                sb_printf(b, "        vtev_rt_jw_open(w, &f, '{');\n        vtev_rt_jw_key(w, &f, \"%s\");\n",
                          json_label(br));
                e_tojson(b, "        ", br, lv);
                sb_printf(b, "        vtev_rt_jw_close(w, f, '}');\n");
            }
            sb_printf(b, "        break;\n");
        }
        sb_printf(b, "    default:\n        return -1;\n    }\n");
        break;
    }
    default:
        break;
    }
    sb_printf(b, "    return 0;\n}\n\n");
}

/* ---------------------------------------------------------------------- */
/* JSON in                                                                 */

static void e_fromjson(sb_t *b, const char *ind, const type_t *t, const char *lv, const char *j,
                       const char *seg) {
    const char *call = NULL;
    switch (t->kind) {
    case K_NULL: g_used[H_JNULL] = true; call = fmt("cg_jnull(%s, e, es)", j); break;
    case K_BOOL: g_used[H_JBOOL] = true; call = fmt("cg_jbool(&%s, %s, e, es)", lv, j); break;
    case K_INT:
        if (t->logical == L_DATE) {
            g_used[H_JDATE] = true;
            call = fmt("cg_jdate(&%s, %s, e, es)", lv, j);
        } else {
            g_used[H_JINT] = true;
            call = fmt("cg_jint(&%s, %s, e, es)", lv, j);
        }
        break;
    case K_LONG:
        if (t->logical == L_TS_MILLIS || t->logical == L_TS_MICROS) {
            g_used[H_JTS] = true;
            call = fmt("cg_jts(&%s, %s, %s, e, es)", lv, per_second(t), j);
        } else {
            g_used[H_JLONG] = true;
            call = fmt("cg_jlong(&%s, %s, e, es)", lv, j);
        }
        break;
    case K_FLOAT: g_used[H_JFLOAT] = true; call = fmt("cg_jfloat(&%s, %s, e, es)", lv, j); break;
    case K_DOUBLE: g_used[H_JDOUBLE] = true; call = fmt("cg_jdouble(&%s, %s, e, es)", lv, j); break;
    case K_STRING: g_used[H_JSTR] = true; call = fmt("cg_jstr(&%s, %s, e, es)", lv, j); break;
    case K_BYTES:
        if (t->logical == L_DECIMAL) {
            g_used[H_JDEC] = true;
            call = fmt("cg_jdec(&%s, NULL, 0, %d, %s, e, es)", lv, t->scale, j);
        } else {
            g_used[H_JBYTES] = true;
            call = fmt("cg_jbytes(&%s, %s, e, es)", lv, j);
        }
        break;
    case K_FIXED:
        if (t->logical == L_DECIMAL) {
            g_used[H_JDEC] = true;
            call = fmt("cg_jdec(NULL, %s.bytes, %zu, %d, %s, e, es)", lv, t->size, t->scale, j);
        } else {
            g_used[H_JFIXED] = true;
            call = fmt("cg_jfixed(%s.bytes, %zu, %s, e, es)", lv, t->size, j);
        }
        break;
    default:
        call = fmt("cg_%s_from_json(&%s, %s, e, es)", t->cname, lv, j);
    }
    sb_printf(b, "%sCG_TRY(%s, %s);\n", ind, call, seg);
}

/* Records reached through arrays, maps and unions start from their init values. */
static void e_init_elem(sb_t *b, const char *ind, const type_t *t, const char *lv) {
    if (t->kind == K_RECORD)
        sb_printf(b, "%sif (cg_%s_init(&%s))\n%s    return vtev_rt_fail(VTEV_ERR_NOMEM, e, es, \": out of memory\");\n",
                  ind, t->cname, lv, ind);
}

static void gen_fromjson(sb_t *b, const type_t *t) {
    size_t i;
    const char *n = t->cname;
    if (t->kind == K_FIXED)
        return;
    if (t->kind == K_ENUM) {
        sb_printf(b, "static vtev_err_t cg_%s_from_json(%s_t *v, json_t *j, char *e, size_t es) {\n"
                     "    const char *s = json_string_value(j);\n    unsigned i;\n"
                     "    if (!s)\n        return vtev_rt_fail(VTEV_ERR_PARSE, e, es, \": expected a string, got %%s\", vtev_rt_json_kind(j));\n"
                     "    for (i = 0; i < %zuu; i++) {\n        if (!strcmp(s, cg_%s_names[i])) {\n"
                     "            *v = (%s_t)i;\n            return VTEV_ERR_OK;\n        }\n    }\n"
                     "    return vtev_rt_fail(VTEV_ERR_PARSE, e, es, \": \\\"%%.32s\\\" is not one of %s\", s);\n}\n\n",
                  n, n, t->nsym, n, n, symbol_list(t));
        return;
    }
    sb_printf(b, "static vtev_err_t cg_%s_from_json(%s_t *v, json_t *j, char *e, size_t es) {\n", n, n);
    switch (t->kind) {
    case K_RECORD:
        g_used[H_KNOWN] = true;
        sb_printf(b, "    static const char *const keys[] = {");
        for (i = 0; i < t->nfields; i++)
            sb_printf(b, "\"%s\", ", t->fields[i].name);
        sb_printf(b, "NULL};\n    const char *k;\n    json_t *x;\n"
                     "    if (!json_is_object(j))\n        return vtev_rt_fail(VTEV_ERR_PARSE, e, es, \": expected an object, got %%s\", vtev_rt_json_kind(j));\n"
                     "    json_object_foreach(j, k, x) {\n        if (!cg_known(keys, k))\n"
                     "            return vtev_rt_fail(VTEV_ERR_PARSE, e, es, \"%%.128s: unknown field\", k);\n    }\n");
        for (i = 0; i < t->nfields; i++) {
            const field_t *f = &t->fields[i];
            const type_t *ft = f->opt >= 0 ? f->inner : f->type;
            bool required = !f->def && f->opt < 0 && !f->now && !(ft->kind == K_STRING && ft->cons.uuid) &&
                            f->type->kind != K_NULL;
            char *seg = c_lit(f->name), *lv = fmt("v->%s", f->name);
            sb_printf(b, "    if ((x = json_object_get(j, %s))) {\n", seg);
            if (f->opt >= 0) {
                sb_printf(b, "        if (json_is_null(x)) {\n            v->has_%s = false;\n", f->name);
                sb_printf(b, "        } else {\n            v->has_%s = true;\n", f->name);
                e_fromjson(b, "            ", ft, lv, "x", seg);
                sb_printf(b, "        }\n");
            } else {
                e_fromjson(b, "        ", ft, lv, "x", seg);
            }
            sb_printf(b, "    }");
            if (required)
                sb_printf(b, " else {\n        return vtev_rt_fail(VTEV_ERR_PARSE, e, es, \"%s: missing required field\");\n    }", f->name);
            sb_printf(b, "\n");
        }
        break;
    case K_ARRAY:
        sb_printf(b, "    size_t i, n;\n    char ib[32];\n    (void)ib;\n");
        e_clear(b, "    ", t, "*v");
        g_used[H_IDX] = true;
        sb_printf(b, "    if (!json_is_array(j))\n        return vtev_rt_fail(VTEV_ERR_PARSE, e, es, \": expected an array, got %%s\", vtev_rt_json_kind(j));\n"
                     "    if (!(n = json_array_size(j)))\n        return VTEV_ERR_OK;\n"
                     "    if (!(v->items = (%s *)calloc(n, sizeof(*v->items))))\n"
                     "        return vtev_rt_fail(VTEV_ERR_NOMEM, e, es, \": out of memory\");\n"
                     "    for (i = 0; i < n; i++) {\n        v->len = i + 1;\n",
                  ctype(t->items));
        e_init_elem(b, "        ", t->items, "v->items[i]");
        e_fromjson(b, "        ", t->items, "v->items[i]", "json_array_get(j, i)", "cg_idx(ib, sizeof(ib), i)");
        sb_printf(b, "    }\n");
        break;
    case K_MAP:
        g_used[H_STRCPY] = true;
        sb_printf(b, "    size_t i = 0, n;\n    const char *k;\n    json_t *x;\n");
        e_clear(b, "    ", t, "*v");
        sb_printf(b, "    if (!json_is_object(j))\n        return vtev_rt_fail(VTEV_ERR_PARSE, e, es, \": expected an object, got %%s\", vtev_rt_json_kind(j));\n"
                     "    if (!(n = json_object_size(j)))\n        return VTEV_ERR_OK;\n"
                     "    if (!(v->entries = (%s_entry_t *)calloc(n, sizeof(*v->entries))))\n"
                     "        return vtev_rt_fail(VTEV_ERR_NOMEM, e, es, \": out of memory\");\n"
                     "    json_object_foreach(j, k, x) {\n        v->len = i + 1;\n"
                     "        if (cg_strcpy(&v->entries[i].key, k))\n"
                     "            return vtev_rt_fail(VTEV_ERR_NOMEM, e, es, \": out of memory\");\n",
                  n);
        e_init_elem(b, "        ", t->items, "v->entries[i].value");
        e_fromjson(b, "        ", t->items, "v->entries[i].value", "x", "k");
        sb_printf(b, "        i++;\n    }\n");
        break;
    case K_UNION: {
        sb_t names = {0};
        int inull = -1;
        for (i = 0; i < t->nbr; i++) {
            sb_printf(&names, "%s%s", i ? ", " : "", json_label(t->br[i]));
            if (t->br[i]->kind == K_NULL)
                inull = (int)i;
        }
        e_clear(b, "    ", t, "*v");
        sb_printf(b, "    memset(v, 0, sizeof(*v));\n");
        if (inull >= 0)
            sb_printf(b, "    if (json_is_null(j)) {\n        v->which = (%s_branch_t)%d;\n        return VTEV_ERR_OK;\n    }\n",
                      n, inull);
        if (bare_union(t)) {
            for (i = 0; i < t->nbr; i++) {
                const type_t *br = t->br[i];
                const char *test = NULL;
                size_t k;
                bool has_int = false;
                for (k = 0; k < t->nbr; k++)
                    if (is_intlike(t->br[k]))
                        has_int = true;
                switch (br->kind) {
                case K_BOOL: test = "json_is_boolean(j)"; break;
                case K_STRING: test = "json_is_string(j)"; break;
                case K_INT:
                case K_LONG: test = "json_is_integer(j)"; break;
                case K_FLOAT:
                case K_DOUBLE: test = has_int ? "json_is_real(j)" : "json_is_number(j)"; break;
                default: break;
                }
                if (!test)
                    continue;
                sb_printf(b, "    if (%s) {\n        v->which = (%s_branch_t)%zu;\n", test, n, i);
                e_fromjson(b, "        ", br, fmt("v->u.v_%s", label(br)), "j", "\"\"");
                sb_printf(b, "        return VTEV_ERR_OK;\n    }\n");
            }
            sb_printf(b, "    return vtev_rt_fail(VTEV_ERR_PARSE, e, es, \": expected one of %s, got %%s\", vtev_rt_json_kind(j));\n",
                      names.s);
        } else {
            sb_printf(b, "    {\n        const char *k;\n        json_t *x;\n"
                         "        if (!json_is_object(j) || json_object_size(j) != 1)\n"
                         "            return vtev_rt_fail(VTEV_ERR_PARSE, e, es, \": expected %san object with one member named by its type (%s)\");\n"
                         "        json_object_foreach(j, k, x) {\n",
                      inull >= 0 ? "null or " : "", names.s);
            for (i = 0; i < t->nbr; i++) {
                const type_t *br = t->br[i];
                if (br->kind == K_NULL)
                    continue;
                sb_printf(b, "            if (!strcmp(k, \"%s\")) {\n                v->which = (%s_branch_t)%zu;\n",
                          json_label(br), n, i);
                e_init_elem(b, "                ", br, fmt("v->u.v_%s", label(br)));
                e_fromjson(b, "                ", br, fmt("v->u.v_%s", label(br)), "x", "k");
                sb_printf(b, "                return VTEV_ERR_OK;\n            }\n");
            }
            sb_printf(b, "            return vtev_rt_fail(VTEV_ERR_PARSE, e, es, \": \\\"%%.64s\\\" is not a type of the union (%s)\", k);\n"
                         "        }\n    }\n",
                      names.s);
        }
        free(names.s);
        sb_printf(b, "    return VTEV_ERR_OK;\n}\n\n");
        return;
    }
    default:
        break;
    }
    sb_printf(b, "    return VTEV_ERR_OK;\n}\n\n");
}

/* ---------------------------------------------------------------------- */
/* Avro binary                                                             */

#define NOMEM_RET "return VTEV_ERR_NOMEM;"

static void e_encode(sb_t *b, const char *ind, const type_t *t, const char *lv, const char *seg) {
    switch (t->kind) {
    case K_NULL: break;
    case K_BOOL: sb_printf(b, "%sif (vtev_rt_put_bool(b, %s))\n%s    " NOMEM_RET "\n", ind, lv, ind); break;
    case K_INT:
    case K_LONG: sb_printf(b, "%sif (vtev_rt_put_long(b, %s))\n%s    " NOMEM_RET "\n", ind, lv, ind); break;
    case K_FLOAT: sb_printf(b, "%sif (vtev_rt_put_float(b, %s))\n%s    " NOMEM_RET "\n", ind, lv, ind); break;
    case K_DOUBLE: sb_printf(b, "%sif (vtev_rt_put_double(b, %s))\n%s    " NOMEM_RET "\n", ind, lv, ind); break;
    case K_STRING: sb_printf(b, "%sif (vtev_rt_put_str(b, %s))\n%s    " NOMEM_RET "\n", ind, lv, ind); break;
    case K_BYTES:
        sb_printf(b, "%sif (vtev_rt_put_bytes(b, %s.data, %s.len))\n%s    " NOMEM_RET "\n", ind, lv, lv, ind);
        break;
    case K_FIXED:
        sb_printf(b, "%sif (vtev_rt_put_raw(b, %s.bytes, %zu))\n%s    " NOMEM_RET "\n", ind, lv, t->size, ind);
        break;
    case K_ENUM:
        sb_printf(b, "%sif ((unsigned)%s >= %zuu)\n%s    return CG_EFAIL(%s, \": %%d is not one of %s\", (int)%s);\n"
                     "%sif (vtev_rt_put_long(b, (int64_t)%s))\n%s    " NOMEM_RET "\n",
                  ind, lv, t->nsym, ind, seg, symbol_list(t), lv, ind, lv, ind);
        break;
    default:
        sb_printf(b, "%sCG_TRY(cg_%s_encode(b, &%s, e, es), %s);\n", ind, t->cname, lv, seg);
    }
}

static void gen_encode(sb_t *b, const type_t *t) {
    size_t i;
    const char *n = t->cname;
    if (!composite(t))
        return;
    sb_printf(b, "static vtev_err_t cg_%s_encode(vtev_buf_t *b, const %s_t *v, char *e, size_t es) {\n", n, n);
    switch (t->kind) {
    case K_RECORD:
        for (i = 0; i < t->nfields; i++) {
            const field_t *f = &t->fields[i];
            char *seg = c_lit(f->name), *lv = fmt("v->%s", f->name);
            if (f->opt >= 0) {
                sb_printf(b, "    if (v->has_%s) {\n        if (vtev_rt_put_long(b, %d))\n            " NOMEM_RET "\n",
                          f->name, 1 - f->opt);
                e_encode(b, "        ", f->inner, lv, seg);
                sb_printf(b, "    } else if (vtev_rt_put_long(b, %d)) {\n        " NOMEM_RET "\n    }\n", f->opt);
            } else {
                e_encode(b, "    ", f->type, lv, seg);
            }
        }
        break;
    case K_ARRAY:
        g_used[H_IDX] = true;
        sb_printf(b, "    size_t i;\n    char ib[32];\n    (void)ib;\n    if (v->len) {\n"
                     "        if (vtev_rt_put_long(b, (int64_t)v->len))\n            " NOMEM_RET "\n"
                     "        for (i = 0; i < v->len; i++) {\n");
        e_encode(b, "            ", t->items, "v->items[i]", "cg_idx(ib, sizeof(ib), i)");
        sb_printf(b, "        }\n    }\n    if (vtev_rt_put_long(b, 0))\n        " NOMEM_RET "\n");
        break;
    case K_MAP:
        sb_printf(b, "    size_t i;\n    if (v->len) {\n"
                     "        if (vtev_rt_put_long(b, (int64_t)v->len))\n            " NOMEM_RET "\n"
                     "        for (i = 0; i < v->len; i++) {\n"
                     "            const char *k = v->entries[i].key ? v->entries[i].key : \"\";\n"
                     "            if (vtev_rt_put_str(b, k))\n                " NOMEM_RET "\n");
        e_encode(b, "            ", t->items, "v->entries[i].value", "k");
        sb_printf(b, "        }\n    }\n    if (vtev_rt_put_long(b, 0))\n        " NOMEM_RET "\n");
        break;
    case K_UNION:
        sb_printf(b, "    if ((unsigned)v->which >= %zuu)\n        return CG_EFAIL(\"\", \": %%d is not a branch of the union\", (int)v->which);\n"
                     "    if (vtev_rt_put_long(b, (int64_t)v->which))\n        " NOMEM_RET "\n    switch ((int)v->which) {\n",
                  t->nbr);
        for (i = 0; i < t->nbr; i++) {
            if (t->br[i]->kind == K_NULL)
                continue;
            sb_printf(b, "    case %zu:\n", i);
            e_encode(b, "        ", t->br[i], fmt("v->u.v_%s", label(t->br[i])), "\"\"");
            sb_printf(b, "        break;\n");
        }
        sb_printf(b, "    default:\n        break;\n    }\n");
        break;
    default:
        break;
    }
    sb_printf(b, "    (void)e;\n    (void)es;\n    return VTEV_ERR_OK;\n}\n\n");
}

static void e_decode(sb_t *b, const char *ind, const type_t *t, const char *lv, const char *seg) {
    const char *call = NULL;
    g_used[H_RDERR] = true;
    switch (t->kind) {
    case K_NULL: return;
    case K_BOOL: call = fmt("vtev_rt_get_bool(r, &%s)", lv); break;
    case K_INT: call = fmt("vtev_rt_get_int(r, &%s)", lv); break;
    case K_LONG: call = fmt("vtev_rt_get_long(r, &%s)", lv); break;
    case K_FLOAT: call = fmt("vtev_rt_get_float(r, &%s)", lv); break;
    case K_DOUBLE: call = fmt("vtev_rt_get_double(r, &%s)", lv); break;
    case K_STRING: call = fmt("vtev_rt_get_str(r, &%s)", lv); break;
    case K_BYTES: call = fmt("vtev_rt_get_bytes(r, &%s)", lv); break;
    case K_FIXED: call = fmt("vtev_rt_get_fixed(r, %s.bytes, %zu)", lv, t->size); break;
    case K_ENUM:
        sb_printf(b, "%s{\n%s    int32_t x_;\n%s    if (vtev_rt_get_int(r, &x_))\n%s        return cg_rderr(r, e, es, %s);\n"
                     "%s    if (x_ < 0 || x_ >= %zu)\n%s        return CG_DFAIL(%s, \": %%d is not a symbol index of %s\", (int)x_);\n"
                     "%s    %s = (%s_t)x_;\n%s}\n",
                  ind, ind, ind, ind, seg, ind, t->nsym, ind, seg, t->full_name, ind, lv, t->cname, ind);
        return;
    default:
        sb_printf(b, "%sCG_TRY(cg_%s_decode(r, &%s, e, es), %s);\n", ind, t->cname, lv, seg);
        return;
    }
    sb_printf(b, "%sif (%s)\n%s    return cg_rderr(r, e, es, %s);\n", ind, call, ind, seg);
}

static void gen_decode(sb_t *b, const type_t *t) {
    size_t i;
    const char *n = t->cname;
    if (!composite(t))
        return;
    g_used[H_RDERR] = true;
    sb_printf(b, "static vtev_err_t cg_%s_decode(vtev_rt_rd_t *r, %s_t *v, char *e, size_t es) {\n", n, n);
    if (t->kind == K_ARRAY || t->kind == K_MAP)
        sb_printf(b, "    size_t i, n, total = 0;\n");
    if (t->kind == K_ARRAY) {
        g_used[H_IDX] = true;
        sb_printf(b, "    char ib[32];\n    (void)ib;\n");
    }
    sb_printf(b, "    if (++r->depth > VTEV_RT_MAX_DEPTH) {\n        vtev_rt_rd_fail(r, VTEV_RT_RD_DEPTH);\n"
                 "        return cg_rderr(r, e, es, \"\");\n    }\n");
    switch (t->kind) {
    case K_RECORD:
        for (i = 0; i < t->nfields; i++) {
            const field_t *f = &t->fields[i];
            char *seg = c_lit(f->name), *lv = fmt("v->%s", f->name);
            if (f->opt >= 0) {
                sb_printf(b, "    {\n        int64_t bi_;\n        if (vtev_rt_get_long(r, &bi_))\n"
                             "            return cg_rderr(r, e, es, %s);\n        if (bi_ == %d) {\n"
                             "            v->has_%s = true;\n",
                          seg, 1 - f->opt, f->name);
                e_decode(b, "            ", f->inner, lv, seg);
                sb_printf(b, "        } else if (bi_ != %d) {\n"
                             "            return CG_DFAIL(%s, \": union branch %%lld is out of range\", (long long)bi_);\n"
                             "        }\n    }\n",
                          f->opt, seg);
            } else {
                e_decode(b, "    ", f->type, lv, seg);
            }
        }
        break;
    case K_ARRAY:
    case K_MAP: {
        bool arr = t->kind == K_ARRAY;
        const char *el = arr ? "items" : "entries";
        char *ety = arr ? ctype(t->items) : fmt("%s_entry_t", n);
        sb_printf(b, "    for (;;) {\n        void *nb;\n"
                     "        if (vtev_rt_get_block(r, %zu, total, &n))\n            return cg_rderr(r, e, es, \"\");\n"
                     "        if (!n)\n            break;\n"
                     "        if (!(nb = realloc(v->%s, (total + n) * sizeof(%s)))) {\n"
                     "            vtev_rt_rd_fail(r, VTEV_RT_RD_NOMEM);\n            return cg_rderr(r, e, es, \"\");\n        }\n"
                     "        v->%s = (%s *)nb;\n        memset(v->%s + total, 0, n * sizeof(%s));\n"
                     "        v->len = total + n;\n        for (i = total; i < total + n; i++) {\n",
                  min_size(t->items) + (arr ? 0 : 1), el, ety, el, ety, el, ety);
        if (arr) {
            e_decode(b, "            ", t->items, "v->items[i]", "cg_idx(ib, sizeof(ib), i)");
        } else {
            sb_printf(b, "            if (vtev_rt_get_str(r, &v->entries[i].key))\n                return cg_rderr(r, e, es, \"\");\n");
            e_decode(b, "            ", t->items, "v->entries[i].value",
                     "(v->entries[i].key ? v->entries[i].key : \"\")");
        }
        sb_printf(b, "        }\n        total += n;\n    }\n");
        if (!arr) /* a key twice: refused, as the JSON form refuses it */
            sb_printf(b, "    {\n        size_t d1_, d2_;\n"
                         "        int dr_ = vtev_rt_map_dup(v->entries, v->len, sizeof(%s), &d1_, &d2_);\n"
                         "        if (dr_ < 0) {\n            vtev_rt_rd_fail(r, VTEV_RT_RD_NOMEM);\n"
                         "            return cg_rderr(r, e, es, \"\");\n        }\n"
                         "        if (dr_)\n"
                         "            return CG_DFAIL(\"\", \": entries %%zu and %%zu have the same key\", d1_, d2_);\n"
                         "    }\n",
                      ety);
        break;
    }
    case K_UNION:
        sb_printf(b, "    {\n        int64_t bi_;\n        if (vtev_rt_get_long(r, &bi_))\n            return cg_rderr(r, e, es, \"\");\n"
                     "        if (bi_ < 0 || bi_ >= %zu)\n"
                     "            return CG_DFAIL(\"\", \": union branch %%lld is out of range\", (long long)bi_);\n"
                     "        v->which = (%s_branch_t)bi_;\n    }\n    switch ((int)v->which) {\n",
                  t->nbr, n);
        for (i = 0; i < t->nbr; i++) {
            if (t->br[i]->kind == K_NULL)
                continue;
            sb_printf(b, "    case %zu:\n", i);
            e_decode(b, "        ", t->br[i], fmt("v->u.v_%s", label(t->br[i])), "\"\"");
            sb_printf(b, "        break;\n");
        }
        sb_printf(b, "    default:\n        break;\n    }\n");
        break;
    default:
        break;
    }
    sb_printf(b, "    r->depth--;\n    return VTEV_ERR_OK;\n}\n\n");
}

/* ---------------------------------------------------------------------- */
/* Shared helpers of one generated file                                    */

static const char *const helper_src[H_N] = {
    /* H_STRCPY */
    "static int cg_strcpy(char **d, const char *s) {\n"
    "    size_t n;\n    *d = NULL;\n    if (!s || !*s)\n        return 0;\n    n = strlen(s) + 1;\n"
    "    if (!(*d = (char *)malloc(n)))\n        return -1;\n    memcpy(*d, s, n);\n    return 0;\n}\n\n",
    /* H_VSTR */
    "static vtev_err_t cg_vstr(const char *s, size_t minl, size_t maxl, int nonempty, int uuid, char *e,\n"
    "                          size_t es) {\n"
    "    size_t n;\n    long bad;\n    if (!s)\n        s = \"\";\n"
    "    if (uuid && !vtev_rt_uuid_valid(s))\n"
    "        return vtev_rt_fail(VTEV_ERR_INVALID, e, es, \": \\\"%.36s\\\" is not a UUID (8-4-4-4-12 hex digits)\", s);\n"
    "    n = strlen(s);\n"
    "    if (n > maxl)\n"
    "        return vtev_rt_fail(VTEV_ERR_INVALID, e, es, \": \\\"%.20s...\\\" is longer than %zu bytes\", s, maxl);\n"
    "    if (n == 0 && nonempty)\n"
    "        return vtev_rt_fail(VTEV_ERR_INVALID, e, es, \": \\\"\\\" must not be empty\");\n"
    "    if (n < minl)\n"
    "        return vtev_rt_fail(VTEV_ERR_INVALID, e, es, \": \\\"%s\\\" is shorter than %zu bytes\", s, minl);\n"
    "    if ((bad = vtev_rt_utf8_bad(s, n)) >= 0)\n"
    "        return vtev_rt_fail(VTEV_ERR_INVALID, e, es, \": byte 0x%02x at offset %ld is not valid UTF-8\",\n"
    "                            (unsigned char)s[bad], bad);\n"
    "    return VTEV_ERR_OK;\n}\n\n",
    /* H_VBYTES */
    "static vtev_err_t cg_vbytes(size_t n, size_t minl, size_t maxl, int nonempty, char *e, size_t es) {\n"
    "    if (n > maxl)\n        return vtev_rt_fail(VTEV_ERR_INVALID, e, es, \": %zu bytes exceed the limit of %zu\", n, maxl);\n"
    "    if (n == 0 && nonempty)\n        return vtev_rt_fail(VTEV_ERR_INVALID, e, es, \": must not be empty\");\n"
    "    if (n < minl)\n        return vtev_rt_fail(VTEV_ERR_INVALID, e, es, \": %zu bytes are fewer than %zu\", n, minl);\n"
    "    return VTEV_ERR_OK;\n}\n\n",
    /* H_IDX */
    "static const char *cg_idx(char *b, size_t n, size_t i) {\n"
    "    snprintf(b, n, \"[%zu]\", i);\n    return b;\n}\n\n",
    /* H_RDERR */
    "static vtev_err_t cg_rderr(const vtev_rt_rd_t *r, char *e, size_t es, const char *seg) {\n"
    "    return vtev_rt_fail(r->status == VTEV_RT_RD_NOMEM ? VTEV_ERR_NOMEM : VTEV_ERR_DECODE, e, es, \"%s: %s\",\n"
    "                        seg, vtev_rt_rd_strerror(r->status));\n}\n\n",
    /* H_KNOWN */
    "static int cg_known(const char *const *keys, const char *k) {\n"
    "    for (; *keys; keys++)\n        if (!strcmp(*keys, k))\n            return 1;\n    return 0;\n}\n\n",
    /* H_JBOOL */
    "static vtev_err_t cg_jbool(bool *o, json_t *j, char *e, size_t es) {\n"
    "    if (!json_is_boolean(j))\n"
    "        return vtev_rt_fail(VTEV_ERR_PARSE, e, es, \": expected a boolean, got %s\", vtev_rt_json_kind(j));\n"
    "    *o = json_is_true(j);\n    return VTEV_ERR_OK;\n}\n\n",
    /* H_JINT */
    "static vtev_err_t cg_jint(int32_t *o, json_t *j, char *e, size_t es) {\n"
    "    json_int_t v;\n    if (!json_is_integer(j))\n"
    "        return vtev_rt_fail(VTEV_ERR_PARSE, e, es, \": expected an integer, got %s\", vtev_rt_json_kind(j));\n"
    "    v = json_integer_value(j);\n    if (v < INT32_MIN || v > INT32_MAX)\n"
    "        return vtev_rt_fail(VTEV_ERR_PARSE, e, es, \": %lld is outside the int range\", (long long)v);\n"
    "    *o = (int32_t)v;\n    return VTEV_ERR_OK;\n}\n\n",
    /* H_JLONG */
    "static vtev_err_t cg_jlong(int64_t *o, json_t *j, char *e, size_t es) {\n"
    "    if (!json_is_integer(j))\n"
    "        return vtev_rt_fail(VTEV_ERR_PARSE, e, es, \": expected an integer, got %s\", vtev_rt_json_kind(j));\n"
    "    *o = (int64_t)json_integer_value(j);\n    return VTEV_ERR_OK;\n}\n\n",
    /* H_JFLOAT */
    "static vtev_err_t cg_jfloat(float *o, json_t *j, char *e, size_t es) {\n"
    "    if (!json_is_number(j))\n"
    "        return vtev_rt_fail(VTEV_ERR_PARSE, e, es, \": expected a number, got %s\", vtev_rt_json_kind(j));\n"
    "    *o = (float)json_number_value(j);\n    return VTEV_ERR_OK;\n}\n\n",
    /* H_JDOUBLE */
    "static vtev_err_t cg_jdouble(double *o, json_t *j, char *e, size_t es) {\n"
    "    if (!json_is_number(j))\n"
    "        return vtev_rt_fail(VTEV_ERR_PARSE, e, es, \": expected a number, got %s\", vtev_rt_json_kind(j));\n"
    "    *o = json_number_value(j);\n    return VTEV_ERR_OK;\n}\n\n",
    /* H_JSTR */
    "static vtev_err_t cg_jstr(char **o, json_t *j, char *e, size_t es) {\n"
    "    if (!json_is_string(j))\n"
    "        return vtev_rt_fail(VTEV_ERR_PARSE, e, es, \": expected a string, got %s\", vtev_rt_json_kind(j));\n"
    "    if (strlen(json_string_value(j)) != json_string_length(j))\n"
    "        return vtev_rt_fail(VTEV_ERR_PARSE, e, es, \": the string holds a NUL character\");\n"
    "    free(*o);\n    *o = NULL;\n    if (json_string_length(j) == 0)\n        return VTEV_ERR_OK;\n"
    "    if (!(*o = (char *)malloc(json_string_length(j) + 1)))\n"
    "        return vtev_rt_fail(VTEV_ERR_NOMEM, e, es, \": out of memory\");\n"
    "    memcpy(*o, json_string_value(j), json_string_length(j) + 1);\n    return VTEV_ERR_OK;\n}\n\n",
    /* H_JBYTES */
    "static vtev_err_t cg_jbytes(vtev_bytes_t *o, json_t *j, char *e, size_t es) {\n"
    "    int rc;\n    if (!json_is_string(j))\n"
    "        return vtev_rt_fail(VTEV_ERR_PARSE, e, es, \": expected a base64 string, got %s\", vtev_rt_json_kind(j));\n"
    "    free(o->data);\n    o->data = NULL;\n    o->len = 0;\n"
    "    if ((rc = vtev_rt_parse_base64(json_string_value(j), json_string_length(j), o)) == -2)\n"
    "        return vtev_rt_fail(VTEV_ERR_NOMEM, e, es, \": out of memory\");\n"
    "    if (rc)\n        return vtev_rt_fail(VTEV_ERR_PARSE, e, es, \": \\\"%.32s\\\" is not base64\", json_string_value(j));\n"
    "    return VTEV_ERR_OK;\n}\n\n",
    /* H_JFIXED */
    "static vtev_err_t cg_jfixed(unsigned char *o, size_t n, json_t *j, char *e, size_t es) {\n"
    "    vtev_bytes_t b;\n    int rc;\n    if (!json_is_string(j))\n"
    "        return vtev_rt_fail(VTEV_ERR_PARSE, e, es, \": expected a base64 string, got %s\", vtev_rt_json_kind(j));\n"
    "    if ((rc = vtev_rt_parse_base64(json_string_value(j), json_string_length(j), &b)) == -2)\n"
    "        return vtev_rt_fail(VTEV_ERR_NOMEM, e, es, \": out of memory\");\n"
    "    if (rc)\n        return vtev_rt_fail(VTEV_ERR_PARSE, e, es, \": \\\"%.32s\\\" is not base64\", json_string_value(j));\n"
    "    if (b.len != n) {\n        free(b.data);\n"
    "        return vtev_rt_fail(VTEV_ERR_PARSE, e, es, \": expected %zu bytes, got %zu\", n, b.len);\n    }\n"
    "    memcpy(o, b.data, n);\n    free(b.data);\n    return VTEV_ERR_OK;\n}\n\n",
    /* H_JTS */
    "static vtev_err_t cg_jts(int64_t *o, int64_t per_second, json_t *j, char *e, size_t es) {\n"
    "    if (!json_is_string(j))\n"
    "        return vtev_rt_fail(VTEV_ERR_PARSE, e, es, \": expected an ISO-8601 string, got %s\", vtev_rt_json_kind(j));\n"
    "    if (vtev_rt_parse_timestamp(json_string_value(j), per_second, o))\n"
    "        return vtev_rt_fail(VTEV_ERR_PARSE, e, es, \": \\\"%.64s\\\" is not an ISO-8601 UTC time like 2026-01-10T15:30:00.000Z\",\n"
    "                            json_string_value(j));\n    return VTEV_ERR_OK;\n}\n\n",
    /* H_JDATE */
    "static vtev_err_t cg_jdate(int32_t *o, json_t *j, char *e, size_t es) {\n"
    "    if (!json_is_string(j))\n"
    "        return vtev_rt_fail(VTEV_ERR_PARSE, e, es, \": expected a date string, got %s\", vtev_rt_json_kind(j));\n"
    "    if (vtev_rt_parse_date(json_string_value(j), o))\n"
    "        return vtev_rt_fail(VTEV_ERR_PARSE, e, es, \": \\\"%.32s\\\" is not a date like 2026-01-10\", json_string_value(j));\n"
    "    return VTEV_ERR_OK;\n}\n\n",
    /* H_JDEC */
    "static vtev_err_t cg_jdec(vtev_bytes_t *ob, unsigned char *of, size_t n, int scale, json_t *j, char *e,\n"
    "                          size_t es) {\n"
    "    vtev_bytes_t b;\n    int rc;\n    if (!json_is_string(j))\n"
    "        return vtev_rt_fail(VTEV_ERR_PARSE, e, es, \": expected a decimal string, got %s\", vtev_rt_json_kind(j));\n"
    "    if ((rc = vtev_rt_parse_decimal(json_string_value(j), scale, n, &b)) == -2)\n"
    "        return vtev_rt_fail(VTEV_ERR_NOMEM, e, es, \": out of memory\");\n"
    "    if (rc)\n        return vtev_rt_fail(VTEV_ERR_PARSE, e, es,\n"
    "                            \": \\\"%.40s\\\" is not a decimal with at most %d digits after the point%s\",\n"
    "                            json_string_value(j), scale, n ? \" that fits the fixed size\" : \"\");\n"
    "    if (of) {\n        memcpy(of, b.data, n);\n        free(b.data);\n    } else {\n"
    "        free(ob->data);\n        *ob = b;\n    }\n    return VTEV_ERR_OK;\n}\n\n",
    /* H_JNULL */
    "static vtev_err_t cg_jnull(json_t *j, char *e, size_t es) {\n"
    "    if (!json_is_null(j))\n"
    "        return vtev_rt_fail(VTEV_ERR_PARSE, e, es, \": expected null, got %s\", vtev_rt_json_kind(j));\n"
    "    return VTEV_ERR_OK;\n}\n\n",
};

/* ---------------------------------------------------------------------- */
/* Header and source                                                       */

static void decl(sb_t *b, const char *ind, const type_t *t, const char *name) {
    const char *ct = ctype(t);
    if (t->kind == K_STRING)
        sb_printf(b, "%schar *%s;\n", ind, name);
    else
        sb_printf(b, "%s%s %s;\n", ind, ct, name);
}

static char *guard_of(const type_t *t) {
    char *k = fmt("%s|%s", t->canon, t->cname);
    char *g = fmt("VTEV_GEN_%s_%016" PRIx64, upper(t->cname), rabin(k));
    free(k);
    return g;
}

static void gen_typedef(sb_t *h, const type_t *t) {
    size_t i;
    const char *n = t->cname;
    char *g = guard_of(t);
    sb_printf(h, "#ifndef %s\n#define %s\n", g, g);
    switch (t->kind) {
    case K_ENUM:
        doc(h, "", t->doc ? t->doc : fmt("The enum %s.", t->full_name));
        sb_printf(h, "typedef enum %s_e {\n", n);
        for (i = 0; i < t->nsym; i++)
            sb_printf(h, "    %s = %zu,%s\n", upper(fmt("%s_%s", n, t->symbols[i])), i,
                      (int)i == t->enum_default ? " /**< The enum's default. */" : "");
        sb_printf(h, "} %s_t;\n", n);
        break;
    case K_FIXED:
        doc(h, "", t->doc ? t->doc : fmt("The fixed %s (%zu bytes).", t->full_name, t->size));
        sb_printf(h, "typedef struct %s_s {\n    unsigned char bytes[%zu]; /**< The bytes%s. */\n} %s_t;\n", n,
                  t->size, t->logical == L_DECIMAL ? fmt(" (decimal: big-endian two's complement, scale %d)", t->scale) : "",
                  n);
        break;
    case K_RECORD: {
        bool any = false;
        doc(h, "", t->doc ? fmt("%s\n(Avro record %s.)", t->doc, t->full_name) : fmt("The record %s.", t->full_name));
        sb_printf(h, "typedef struct %s_s {\n", n);
        for (i = 0; i < t->nfields; i++) {
            const field_t *f = &t->fields[i];
            const type_t *ft = f->opt >= 0 ? f->inner : f->type;
            sb_t d = {0};
            if (f->type->kind == K_NULL)
                continue;
            any = true;
            sb_printf(&d, "%s", f->doc ? f->doc : f->name);
            if (ft->kind == K_STRING)
                sb_printf(&d, " (owned; NULL reads as \"\")");
            if (ft->logical == L_TS_MICROS || ft->logical == L_TS_MILLIS)
                sb_printf(&d, " (%s since the Unix epoch)", ft->logical == L_TS_MICROS ? "microseconds" : "milliseconds");
            if (ft->logical == L_DATE)
                sb_printf(&d, " (days since 1970-01-01)");
            if (ft->logical == L_DECIMAL)
                sb_printf(&d, " (decimal, scale %d: big-endian two's complement unscaled value)", ft->scale);
            if (f->opt >= 0) {
                sb_printf(h, "    bool has_%s; /**< Whether %s is set (not null). */\n", f->name, f->name);
                sb_printf(&d, " Valid when has_%s.", f->name);
            }
            doc(h, "    ", d.s);
            decl(h, "    ", ft, f->name);
            free(d.s);
        }
        if (!any)
            sb_printf(h, "    unsigned char vtev_empty_; /**< A record without stored fields. */\n");
        sb_printf(h, "} %s_t;\n", n);
        break;
    }
    case K_ARRAY:
        sb_printf(h, "/** The array at %s. */\ntypedef struct %s_s {\n", t->path, n);
        if (t->items->kind == K_STRING)
            sb_printf(h, "    char **items; /**< len items (owned). */\n");
        else
            sb_printf(h, "    %s *items; /**< len items (owned). */\n", ctype(t->items));
        sb_printf(h, "    size_t len; /**< Number of items. */\n} %s_t;\n", n);
        break;
    case K_MAP:
        sb_printf(h, "/** An entry of the map at %s. */\ntypedef struct %s_entry_s {\n"
                     "    char *key; /**< The key (owned; NULL reads as \"\"). */\n", t->path, n);
        doc(h, "    ", "The value.");
        decl(h, "    ", t->items, "value");
        sb_printf(h, "} %s_entry_t;\n/** The map at %s, in insertion order. */\ntypedef struct %s_s {\n"
                     "    %s_entry_t *entries; /**< len entries (owned). */\n    size_t len; /**< Number of entries. */\n} %s_t;\n",
                  n, t->path, n, n, n);
        break;
    case K_UNION: {
        bool any = false;
        sb_printf(h, "/** The branches of the union at %s. */\ntypedef enum %s_branch_e {\n", t->path, n);
        for (i = 0; i < t->nbr; i++)
            sb_printf(h, "    %s = %zu, /**< %s */\n", upper(fmt("%s_%s", n, label(t->br[i]))), i, json_label(t->br[i]));
        sb_printf(h, "} %s_branch_t;\n/** The union at %s. */\ntypedef struct %s_s {\n"
                     "    %s_branch_t which; /**< The branch that is set. */\n",
                  n, t->path, n, n);
        for (i = 0; i < t->nbr; i++)
            if (t->br[i]->kind != K_NULL)
                any = true;
        if (any) {
            sb_printf(h, "    /** The value of the branch @c which. */\n    union {\n");
            for (i = 0; i < t->nbr; i++) {
                if (t->br[i]->kind == K_NULL)
                    continue;
                sb_printf(h, "        /** Branch %s. */\n", json_label(t->br[i]));
                decl(h, "        ", t->br[i], fmt("v_%s", label(t->br[i])));
            }
            sb_printf(h, "    } u;\n");
        }
        sb_printf(h, "} %s_t;\n", n);
        break;
    }
    default:
        break;
    }
    sb_printf(h, "#endif\n\n");
    free(g);
}

static void c_array(sb_t *b, const char *name, const char *s) {
    size_t i, n = strlen(s);
    sb_printf(b, "static const unsigned char %s[%zu] = {", name, n + 1);
    for (i = 0; i <= n; i++)
        sb_printf(b, "%s%d", i == 0 ? "\n    " : i % 20 ? ", " : ",\n    ", (unsigned char)s[i]);
    sb_printf(b, "};\n\n");
}

typedef struct out_s {
    char *hpath, *cpath;
    sb_t h, c;
} out_t;

static char *base_of(const char *path) {
    const char *s = strrchr(path, '/');
    char *b = xstrdup(s ? s + 1 : path), *p;
    size_t n = strlen(b);
    if (n > 5 && !strcmp(b + n - 5, ".avsc"))
        b[n - 5] = '\0';
    for (p = b; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
            *p = '_';
    return b;
}

/* The schema's file name without its directory: named in the generated files'
 * first comment (the directory is left out, so that the output does not
 * depend on where the build runs). */
static const char *file_name_of(const char *path) {
    const char *s;
    if (!path) /* never, but gcc's -Wformat-overflow under UBSan cannot tell */
        return "";
    s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static void generate(const char *file, json_t *root, const char *dir, out_t *o) {
    type_t *top;
    size_t i;
    sb_t body = {0};
    char *n, *base = base_of(file), *hguard, *canon_txt, *schema_txt;
    uint64_t fp;
    const field_t *key;
    static const char *const api[] = {"init", "clear", "copy", "validate", "to_json", "from_json",
                                      "encode", "decode", "type"};
    g_nnamed = 0;
    g_nlist = 0;
    memset(g_used, 0, sizeof(g_used));
    if (!json_is_object(root) || !json_is_string(json_object_get(root, "type")) ||
        strcmp(json_string_value(json_object_get(root, "type")), "record"))
        die("", "the schema must be a record");
    top = parse_type(root, "", "", 0);
    collect(top);
    n = top->cname;
    for (i = 0; i < sizeof(api) / sizeof(api[0]); i++)
        add_ident("", fmt("%s_%s", n, api[i]), fmt("the API of %s", top->full_name), NULL);
    canon_txt = canonical(top);
    fp = rabin(canon_txt);
    schema_txt = json_dumps(root, JSON_COMPACT);

    o->hpath = fmt("%s/%s.h", dir, base);
    o->cpath = fmt("%s/%s.c", dir, base);
    hguard = upper(fmt("%s_%s_gen_h", *g_prefix ? g_prefix : "vtev", base));

    /* header */
    sb_printf(&o->h, "/* Generated by vt-codegen %s from %s. Do not edit. */\n", VTEV_VERSION_STR, file_name_of(file));
    sb_printf(&o->h, "/**\n * @file %s.h\n * @brief C types and functions for the Avro record %s (from %s).\n"
                     " *\n * Strings are owned NUL-terminated UTF-8 (NULL reads as \"\"); bytes, arrays and\n"
                     " * maps are owned heap blocks; all of it is freed by %s_clear().\n"
                     " * See doc/codegen.md for the JSON form and the constraints.\n *\n"
                     " * @remark Thread safety: the functions are reentrant and may be called from any\n"
                     " *         thread; an event is plain data without locking (functions taking a const\n"
                     " *         event may run concurrently on the same event).\n */\n",
              base, top->full_name, file_name_of(file), n);
    sb_printf(&o->h, "#ifndef %s\n#define %s\n\n#include <stdbool.h>\n#include <stddef.h>\n#include <stdint.h>\n"
                     "#include <vtevents/type.h>\n\n#ifndef VTEV_GEN_API\n/** Decorates the generated functions (e.g. with VTEV_EXPORT). */\n#define VTEV_GEN_API\n#endif\n\n"
                     "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n",
              hguard, hguard);
    for (i = 0; i < g_nlist; i++)
        gen_typedef(&o->h, g_list[i]);
    sb_printf(&o->h,
              "/**\n"
              " * @brief Initialise @p ev (contents overwritten, not freed): defaults, fresh UUIDs, the time where marked.\n"
              " * @param ev The event (caller-owned memory).\n"
              " * @returns ::VTEV_ERR_OK, ::VTEV_ERR_NOMEM or ::VTEV_ERR_IO (no randomness); @p ev is zeroed on failure.\n"
              " * @remark Reentrant: any thread; needs exclusive access to @p ev.\n"
              " */\n"
              "VTEV_GEN_API vtev_err_t %s_init(%s_t *ev);\n"
              "/**\n"
              " * @brief Free what @p ev owns (strings, bytes, arrays, maps) and zero it.\n"
              " * @param ev The event, or NULL; the struct itself stays the caller's.\n"
              " * @remark Reentrant: any thread; needs exclusive access to @p ev.\n"
              " */\n"
              "VTEV_GEN_API void %s_clear(%s_t *ev);\n"
              "/**\n"
              " * @brief Deep copy: @p dst gets its own copy of everything @p src owns.\n"
              " * @param dst Overwritten (not freed first); the caller frees it with %s_clear().\n"
              " * @param src The source (borrowed for the call).\n"
              " * @returns ::VTEV_ERR_OK or ::VTEV_ERR_NOMEM (@p dst zeroed).\n"
              " * @remark Reentrant: any thread; needs exclusive access to @p dst, @p src may be read concurrently.\n"
              " */\n"
              "VTEV_GEN_API vtev_err_t %s_copy(%s_t *dst, const %s_t *src);\n"
              "/**\n"
              " * @brief Check the schema's constraints.\n"
              " * @param ev The event (borrowed for the call).\n"
              " * @param errstr Receives \"field.path: value and rule\" (may be NULL).\n"
              " * @param errstr_size Its size.\n"
              " * @returns ::VTEV_ERR_OK, ::VTEV_ERR_INVALID or ::VTEV_ERR_INVALID_ARG.\n"
              " * @remark Reentrant: any thread; reads @p ev only.\n"
              " */\n"
              "VTEV_GEN_API vtev_err_t %s_validate(const %s_t *ev, char *errstr, size_t errstr_size);\n"
              "/**\n"
              " * @brief The JSON form.\n"
              " * @param ev The event (borrowed for the call).\n"
              " * @param flags ::VTEV_TYPE_JSON_PRETTY or 0.\n"
              " * @param jsonp Receives the NUL-terminated text (caller frees with free()).\n"
              " * @param lenp Receives its length (may be NULL).\n"
              " * @returns ::VTEV_ERR_OK, ::VTEV_ERR_NOMEM or ::VTEV_ERR_INVALID_ARG (enum or union tag out of range).\n"
              " * @remark Reentrant: any thread; reads @p ev only.\n"
              " */\n"
              "VTEV_GEN_API vtev_err_t %s_to_json(const %s_t *ev, int flags, char **jsonp, size_t *lenp);\n"
              "/**\n"
              " * @brief Parse the JSON form (absent fields keep their init value).\n"
              " * @param ev Overwritten (not freed first); on success the caller frees it with %s_clear().\n"
              " * @param json The text (borrowed for the call; need not be NUL-terminated).\n"
              " * @param len Its length.\n"
              " * @param errstr Receives \"field.path: reason\" (may be NULL).\n"
              " * @param errstr_size Its size.\n"
              " * @returns ::VTEV_ERR_OK, ::VTEV_ERR_PARSE (@p ev zeroed) or ::VTEV_ERR_NOMEM.\n"
              " * @remark Reentrant: any thread; needs exclusive access to @p ev.\n"
              " */\n"
              "VTEV_GEN_API vtev_err_t %s_from_json(%s_t *ev, const char *json, size_t len, char *errstr, size_t errstr_size);\n"
              "/**\n"
              " * @brief Append the Avro binary encoding to @p out.\n"
              " * @param ev The event (borrowed for the call).\n"
              " * @param out The buffer (its memory stays owned by the buffer; see vtev_buf_free()).\n"
              " * @param errstr Receives the field of a bad tag (may be NULL).\n"
              " * @param errstr_size Its size.\n"
              " * @returns ::VTEV_ERR_OK, ::VTEV_ERR_NOMEM or ::VTEV_ERR_ENCODE (@p out unchanged then).\n"
              " * @remark Reentrant: any thread; reads @p ev only; @p out must not be shared between threads.\n"
              " */\n"
              "VTEV_GEN_API vtev_err_t %s_encode(const %s_t *ev, vtev_buf_t *out, char *errstr, size_t errstr_size);\n"
              "/**\n"
              " * @brief Decode exactly @p len bytes written with this schema. Safe on hostile input.\n"
              " * @param ev Overwritten (not freed first); on success the caller frees it with %s_clear().\n"
              " * @param data The bytes (borrowed for the call).\n"
              " * @param len Their count.\n"
              " * @param errstr Receives \"field.path: reason\" (may be NULL).\n"
              " * @param errstr_size Its size.\n"
              " * @returns ::VTEV_ERR_OK, ::VTEV_ERR_DECODE (@p ev zeroed) or ::VTEV_ERR_NOMEM.\n"
              " * @remark Reentrant: any thread; needs exclusive access to @p ev.\n"
              " */\n"
              "VTEV_GEN_API vtev_err_t %s_decode(%s_t *ev, const void *data, size_t len, char *errstr, size_t errstr_size);\n"
              "/** @brief The type descriptor of %s (fingerprint 0x%016" PRIx64 "): an immutable constant, usable from any thread. */\n"
              "extern VTEV_GEN_API const vtev_type_t %s_type;\n\n"
              "#ifdef __cplusplus\n}\n#endif\n\n#endif\n",
              n, n, n, n, n, n, n, n, n, n, n, n, n, n, n, n, n, n, n, n, top->full_name, fp, n);

    /* source body */
    for (i = 0; i < g_nlist; i++) {
        const type_t *t = g_list[i];
        const char *tn = t->cname;
        if (owns(t))
            sb_printf(&body, "static void cg_%s_clear(%s_t *v);\nstatic int cg_%s_copy(%s_t *d, const %s_t *s);\n",
                      tn, tn, tn, tn, tn);
        if (t->kind == K_RECORD)
            sb_printf(&body, "static int cg_%s_init(%s_t *v);\n", tn, tn);
        if (composite(t))
            sb_printf(&body,
                      "static vtev_err_t cg_%s_validate(const %s_t *v, char *e, size_t es);\n"
                      "static int cg_%s_to_json(vtev_rt_jw_t *w, const %s_t *v);\n"
                      "static vtev_err_t cg_%s_from_json(%s_t *v, json_t *j, char *e, size_t es);\n"
                      "static vtev_err_t cg_%s_encode(vtev_buf_t *b, const %s_t *v, char *e, size_t es);\n"
                      "static vtev_err_t cg_%s_decode(vtev_rt_rd_t *r, %s_t *v, char *e, size_t es);\n",
                      tn, tn, tn, tn, tn, tn, tn, tn, tn, tn);
    }
    sb_put(&body, "\n", 1);
    for (i = 0; i < g_nlist; i++)
        if (g_list[i]->kind == K_ENUM)
            gen_tojson(&body, g_list[i]);
    for (i = 0; i < g_nlist; i++) {
        const type_t *t = g_list[i];
        gen_clear_copy(&body, t);
        if (t->kind == K_RECORD)
            gen_init(&body, t);
        gen_validate(&body, t);
        if (t->kind != K_ENUM)
            gen_tojson(&body, t);
        gen_fromjson(&body, t);
        gen_encode(&body, t);
        gen_decode(&body, t);
    }
    /* public API */
    sb_printf(&body,
              "vtev_err_t %s_init(%s_t *ev) {\n    int rc;\n    if (!ev)\n        return VTEV_ERR_INVALID_ARG;\n"
              "    if ((rc = cg_%s_init(ev)) != 0) {\n        %s_clear(ev);\n        return rc == -2 ? VTEV_ERR_IO : VTEV_ERR_NOMEM;\n    }\n"
              "    return VTEV_ERR_OK;\n}\n\n",
              n, n, n, n);
    sb_printf(&body, "void %s_clear(%s_t *ev) {\n    if (!ev)\n        return;\n%s    memset(ev, 0, sizeof(*ev));\n}\n\n", n, n,
              owns(top) ? fmt("    cg_%s_clear(ev);\n", n) : "");
    if (owns(top))
        sb_printf(&body, "vtev_err_t %s_copy(%s_t *dst, const %s_t *src) {\n    if (!dst || !src)\n        return VTEV_ERR_INVALID_ARG;\n"
                         "    if (cg_%s_copy(dst, src)) {\n        %s_clear(dst);\n        return VTEV_ERR_NOMEM;\n    }\n    return VTEV_ERR_OK;\n}\n\n",
                  n, n, n, n, n);
    else
        sb_printf(&body, "vtev_err_t %s_copy(%s_t *dst, const %s_t *src) {\n    if (!dst || !src)\n        return VTEV_ERR_INVALID_ARG;\n"
                         "    *dst = *src;\n    return VTEV_ERR_OK;\n}\n\n", n, n, n);
    sb_printf(&body,
              "vtev_err_t %s_validate(const %s_t *ev, char *errstr, size_t errstr_size) {\n"
              "    if (!ev)\n        return vtev_rt_fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, \"event is NULL\");\n"
              "    return cg_%s_validate(ev, errstr, errstr_size);\n}\n\n",
              n, n, n);
    sb_printf(&body,
              "vtev_err_t %s_to_json(const %s_t *ev, int flags, char **jsonp, size_t *lenp) {\n"
              "    vtev_rt_jw_t w;\n    if (!ev || !jsonp)\n        return VTEV_ERR_INVALID_ARG;\n"
              "    memset(&w, 0, sizeof(w));\n    w.pretty = (flags & VTEV_TYPE_JSON_PRETTY) != 0;\n"
              "    if (cg_%s_to_json(&w, ev)) {\n        free(w.buf);\n        return VTEV_ERR_INVALID_ARG;\n    }\n"
              "    return vtev_rt_jw_finish(&w, jsonp, lenp);\n}\n\n",
              n, n, n);
    sb_printf(&body,
              "vtev_err_t %s_from_json(%s_t *ev, const char *json, size_t len, char *errstr, size_t errstr_size) {\n"
              "    json_t *root;\n    vtev_err_t err;\n    int rc;\n"
              "    if (!ev || (!json && len > 0))\n        return vtev_rt_fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, \"NULL event or input\");\n"
              "    memset(ev, 0, sizeof(*ev));\n"
              "    if (!(root = vtev_rt_json_load(json, len, errstr, errstr_size)))\n        return VTEV_ERR_PARSE;\n"
              "    if (!json_is_object(root))\n"
              "        err = vtev_rt_fail(VTEV_ERR_PARSE, errstr, errstr_size, \"expected a JSON object, got %%s\", vtev_rt_json_kind(root));\n"
              "    else if ((rc = cg_%s_init(ev)) != 0)\n"
              "        err = vtev_rt_fail(rc == -2 ? VTEV_ERR_IO : VTEV_ERR_NOMEM, errstr, errstr_size, \"cannot initialise the event\");\n"
              "    else\n        err = cg_%s_from_json(ev, root, errstr, errstr_size);\n"
              "    json_decref(root);\n    if (err != VTEV_ERR_OK)\n        %s_clear(ev);\n    return err;\n}\n\n",
              n, n, n, n, n);
    sb_printf(&body,
              "vtev_err_t %s_encode(const %s_t *ev, vtev_buf_t *out, char *errstr, size_t errstr_size) {\n"
              "    size_t mark;\n    vtev_err_t err;\n    if (!ev || !out)\n        return VTEV_ERR_INVALID_ARG;\n"
              "    mark = out->len;\n    if ((err = cg_%s_encode(out, ev, errstr, errstr_size)) != VTEV_ERR_OK)\n        out->len = mark;\n"
              "    return err;\n}\n\n",
              n, n, n);
    sb_printf(&body,
              "vtev_err_t %s_decode(%s_t *ev, const void *data, size_t len, char *errstr, size_t errstr_size) {\n"
              "    vtev_rt_rd_t r;\n    vtev_err_t err;\n"
              "    if (!ev || (!data && len > 0))\n        return vtev_rt_fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, \"NULL event or input\");\n"
              "    memset(ev, 0, sizeof(*ev));\n    r.p = (const unsigned char *)data;\n    r.end = r.p + len;\n    r.depth = 0;\n    r.status = 0;\n"
              "    err = cg_%s_decode(&r, ev, errstr, errstr_size);\n"
              "    if (err == VTEV_ERR_OK && r.p != r.end)\n"
              "        err = vtev_rt_fail(VTEV_ERR_DECODE, errstr, errstr_size, \"%%zu bytes left after the record\", (size_t)(r.end - r.p));\n"
              "    if (err != VTEV_ERR_OK)\n        %s_clear(ev);\n    return err;\n}\n\n",
              n, n, n, n);
    /* descriptor */
    key = NULL;
    for (i = 0; i < top->nfields; i++) {
        if (!top->fields[i].key)
            continue;
        if (key)
            die(top->fields[i].name, "vt.key: the field %s is already the key", key->name);
        key = &top->fields[i];
    }
    if (key)
        sb_printf(&body,
                  "static const char *cg_d_key(const void *ev, size_t *lenp) {\n"
                  "    const char *k = ((const %s_t *)ev)->%s;\n    if (!k)\n        k = \"\";\n"
                  "    *lenp = strlen(k);\n    return k;\n}\n",
                  n, key->name);
    else
        sb_printf(&body, "static const char *cg_d_key(const void *ev, size_t *lenp) {\n"
                         "    (void)ev;\n    *lenp = 0;\n    return NULL;\n}\n");
    c_array(&body, "cg_schema_json", schema_txt);
    c_array(&body, "cg_canonical_json", canon_txt);
    sb_printf(&body,
              "static vtev_err_t cg_d_init(void *ev) {\n    return %s_init((%s_t *)ev);\n}\n"
              "static void cg_d_clear(void *ev) {\n    %s_clear((%s_t *)ev);\n}\n"
              "static vtev_err_t cg_d_copy(void *d, const void *s) {\n    return %s_copy((%s_t *)d, (const %s_t *)s);\n}\n"
              "static vtev_err_t cg_d_validate(const void *ev, char *e, size_t es) {\n    return %s_validate((const %s_t *)ev, e, es);\n}\n"
              "static vtev_err_t cg_d_to_json(const void *ev, int flags, char **jsonp, size_t *lenp) {\n"
              "    return %s_to_json((const %s_t *)ev, flags, jsonp, lenp);\n}\n"
              "static vtev_err_t cg_d_from_json(void *ev, const char *json, size_t len, char *e, size_t es) {\n"
              "    return %s_from_json((%s_t *)ev, json, len, e, es);\n}\n"
              "static vtev_err_t cg_d_encode(const void *ev, vtev_buf_t *out, char *e, size_t es) {\n"
              "    return %s_encode((const %s_t *)ev, out, e, es);\n}\n"
              "static vtev_err_t cg_d_decode(void *ev, const void *data, size_t len, char *e, size_t es) {\n"
              "    return %s_decode((%s_t *)ev, data, len, e, es);\n}\n\n"
              "const vtev_type_t %s_type = {\n    VTEV_TYPE_ABI_VERSION,\n    \"%s\",\n    \"%s\",\n"
              "    (const char *)cg_schema_json,\n    (const char *)cg_canonical_json,\n    UINT64_C(0x%016" PRIx64 "),\n    sizeof(%s_t),\n"
              "    cg_d_init,\n    cg_d_clear,\n    cg_d_copy,\n    cg_d_validate,\n    cg_d_to_json,\n"
              "    cg_d_from_json,\n    cg_d_encode,\n    cg_d_decode,\n    %s,\n    cg_d_key,\n};\n",
              n, n, n, n, n, n, n, n, n, n, n, n, n, n, n, n, n, n, top->name, top->full_name, fp, n,
              key ? fmt("\"%s\"", key->name) : "NULL");

    /* source */
    sb_printf(&o->c, "/* Generated by vt-codegen %s from %s. Do not edit. */\n", VTEV_VERSION_STR, file_name_of(file));
    sb_printf(&o->c, "#include \"%s.h\"\n\n#include <vtevents/avro_direct.h>\n\n#include <math.h>\n#include <stdio.h>\n"
                     "#include <stdlib.h>\n#include <string.h>\n\n"
                     "#define CG_FAIL(seg, ...) (vtev_rt_fail(VTEV_ERR_INVALID, e, es, __VA_ARGS__), vtev_rt_err_prefix(e, es, (seg)), VTEV_ERR_INVALID)\n"
                     "#define CG_EFAIL(seg, ...) (vtev_rt_fail(VTEV_ERR_ENCODE, e, es, __VA_ARGS__), vtev_rt_err_prefix(e, es, (seg)), VTEV_ERR_ENCODE)\n"
                     "#define CG_DFAIL(seg, ...) (vtev_rt_fail(VTEV_ERR_DECODE, e, es, __VA_ARGS__), vtev_rt_err_prefix(e, es, (seg)), VTEV_ERR_DECODE)\n"
                     "#define CG_TRY(call, seg)                                                                  \\\n"
                     "    do {                                                                                   \\\n"
                     "        vtev_err_t err_ = (call);                                                          \\\n"
                     "        if (err_ != VTEV_ERR_OK) {                                                         \\\n"
                     "            vtev_rt_err_prefix(e, es, (seg));                                              \\\n"
                     "            return err_;                                                                   \\\n"
                     "        }                                                                                  \\\n"
                     "    } while (0)\n\n",
              base);
    for (i = 0; i < H_N; i++)
        if (g_used[i])
            sb_printf(&o->c, "%s", helper_src[i]);
    sb_put(&o->c, body.s, body.len);
    free(body.s);
    free(schema_txt);
    free(canon_txt);
}

static void write_file(const char *path, const sb_t *b) {
    FILE *f = fopen(path, "w");
    if (!f || fwrite(b->s, 1, b->len, f) != b->len || fclose(f) != 0) {
        fprintf(stderr, "vt-codegen: %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

static void usage(FILE *f) {
    fprintf(f, "Usage: vt-codegen [-o DIR] [--prefix NAME] SCHEMA.avsc...\n"
               "Generate C types, validation, JSON and a direct Avro codec from record schemas.\n\n"
               "  -o, --output DIR   write BASE.h and BASE.c into DIR (default .)\n"
               "  -p, --prefix NAME  prefix of every generated C name (e.g. vtev)\n"
               "  -V, --version      print the version\n"
               "  -h, --help         this help\n\n"
               "Exit status: 0 ok, 1 I/O failure, 2 usage or schema error (file and field named).\n");
}

int main(int argc, char **argv) {
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                          {"prefix", required_argument, NULL, 'p'},
                                          {"version", no_argument, NULL, 'V'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    const char *dir = ".";
    out_t *outs;
    int c, i, n;
    while ((c = getopt_long(argc, argv, "o:p:Vh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': dir = optarg; break;
        case 'p':
            g_prefix = optarg;
            if (*g_prefix && !valid_avro_name(g_prefix)) {
                fprintf(stderr, "vt-codegen: --prefix %s: not a C identifier\n", g_prefix);
                return 2;
            }
            break;
        case 'V': printf("vt-codegen %s\n", VTEV_VERSION_STR); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    n = argc - optind;
    if (n < 1) {
        usage(stderr);
        return 2;
    }
    outs = xmalloc((size_t)n * sizeof(*outs));
    for (i = 0; i < n; i++) { /* everything is checked before anything is written */
        json_error_t jerr;
        json_t *root;
        g_file = argv[optind + i];
        if (!(root = json_load_file(g_file, JSON_REJECT_DUPLICATES, &jerr)))
            die("", "line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
        arena_add(root); /* fields borrow their defaults from it */
        generate(g_file, root, dir, &outs[i]);
    }
    for (i = 0; i < n; i++) {
        write_file(outs[i].hpath, &outs[i].h);
        write_file(outs[i].cpath, &outs[i].c);
    }
    return 0;
}
