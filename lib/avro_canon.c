/*
 * avro_canon.c - Parsing Canonical Form (PCF) and CRC-64-AVRO.
 *
 * Written here because neither avro-c nor jansson provides it: avro-c 1.11
 * has no canonical form, and avro_schema_to_json() keeps attributes and
 * spacing.  The rules (Avro specification, "Parsing Canonical Form for
 * Schemas"): primitives as plain names; full names for named types
 * (namespaces resolved, the "namespace" attribute dropped); only the
 * attributes name, type, fields, symbols, items, values, size, in that order;
 * no whitespace; a named type defined once, later uses by full name.
 */
#include "avro_canon.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct {
    char *s;
    size_t len, cap;
    bool oom;
    /* full names already defined (a reference writes the name only) */
    char **names;
    size_t nnames, capnames;
    char *err;
    size_t err_size;
    vtev_err_t fail;
} canon_t;

static void put(canon_t *c, const char *p, size_t n) {
    if (c->oom)
        return;
    if (c->len + n + 1 > c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        char *ns;
        while (cap < c->len + n + 1)
            cap *= 2;
        if (!(ns = realloc(c->s, cap))) {
            c->oom = true;
            return;
        }
        c->s = ns;
        c->cap = cap;
    }
    memcpy(c->s + c->len, p, n);
    c->len += n;
    c->s[c->len] = '\0';
}

static void puts_(canon_t *c, const char *p) {
    put(c, p, strlen(p));
}

/* A JSON string literal: UTF-8 as it is, only '"', '\\' and control
 * characters escaped ([STRINGS]). */
static void put_str(canon_t *c, const char *s) {
    char esc[8];
    put(c, "\"", 1);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            esc[0] = '\\';
            esc[1] = (char)ch;
            put(c, esc, 2);
        } else if (ch < 0x20) {
            snprintf(esc, sizeof(esc), "\\u%04x", ch);
            put(c, esc, 6);
        } else {
            put(c, s, 1);
        }
    }
    put(c, "\"", 1);
}

static int fail(canon_t *c, const char *path, const char *what) {
    if (c->fail == VTEV_ERR_OK) {
        c->fail = VTEV_ERR_SCHEMA;
        vtev__seterr(c->err, c->err_size, "schema%s%s: %s", *path ? " at " : "", path, what);
    }
    return -1;
}

static bool is_primitive(const char *t) {
    static const char *const prim[] = {"null", "boolean", "int", "long", "float", "double",
                                       "bytes", "string"};
    size_t i;
    for (i = 0; i < sizeof(prim) / sizeof(prim[0]); i++)
        if (!strcmp(t, prim[i]))
            return true;
    return false;
}

/* Full name of name in namespace ns (a dotted name is already full). */
static char *full_name(const char *name, const char *ns) {
    size_t n;
    char *out;
    if (strchr(name, '.') || !ns || !*ns)
        return vtev__strdup(name);
    n = strlen(ns) + strlen(name) + 2;
    if ((out = malloc(n)))
        snprintf(out, n, "%s.%s", ns, name);
    return out;
}

static bool defined(const canon_t *c, const char *fn) {
    size_t i;
    for (i = 0; i < c->nnames; i++)
        if (!strcmp(c->names[i], fn))
            return true;
    return false;
}

static int define(canon_t *c, char *fn) {
    if (c->nnames == c->capnames) {
        size_t cap = c->capnames ? c->capnames * 2 : 16;
        char **nn = realloc(c->names, cap * sizeof(*nn));
        if (!nn) {
            c->oom = true;
            free(fn);
            return -1;
        }
        c->names = nn;
        c->capnames = cap;
    }
    c->names[c->nnames++] = fn;
    return 0;
}

static int emit(canon_t *c, json_t *j, const char *ns, const char *path, int depth);

static int emit_named(canon_t *c, json_t *j, const char *type, const char *ns, const char *path,
                      int depth) {
    json_t *name = json_object_get(j, "name"), *jns = json_object_get(j, "namespace");
    char *fn;
    const char *inner_ns;
    if (!json_is_string(name))
        return fail(c, path, "a named type needs a \"name\"");
    if (json_is_string(jns) && !strchr(json_string_value(name), '.'))
        ns = json_string_value(jns);
    if (!(fn = full_name(json_string_value(name), ns))) {
        c->oom = true;
        return -1;
    }
    if (defined(c, fn)) {
        /* a second definition is an error elsewhere; here write the name */
        put_str(c, fn);
        free(fn);
        return 0;
    }
    if (define(c, fn))
        return -1;
    /* the namespace of the types inside: the one of the full name */
    {
        const char *dot = strrchr(fn, '.');
        static const char empty[] = "";
        char *nsbuf = NULL;
        int rc = 0;
        if (dot) {
            nsbuf = malloc((size_t)(dot - fn) + 1);
            if (!nsbuf) {
                c->oom = true;
                return -1;
            }
            memcpy(nsbuf, fn, (size_t)(dot - fn));
            nsbuf[dot - fn] = '\0';
        }
        inner_ns = nsbuf ? nsbuf : empty;
        puts_(c, "{\"name\":");
        put_str(c, fn);
        puts_(c, ",\"type\":");
        put_str(c, type);
        if (!strcmp(type, "record") || !strcmp(type, "error")) {
            json_t *fs = json_object_get(j, "fields");
            size_t i;
            if (!json_is_array(fs)) {
                free(nsbuf);
                return fail(c, path, "a record needs \"fields\"");
            }
            puts_(c, ",\"fields\":[");
            for (i = 0; i < json_array_size(fs) && rc == 0; i++) {
                json_t *f = json_array_get(fs, i), *fnm = json_object_get(f, "name");
                if (!json_is_string(fnm) || !json_object_get(f, "type")) {
                    rc = fail(c, path, "a field needs a \"name\" and a \"type\"");
                    break;
                }
                if (i)
                    put(c, ",", 1);
                puts_(c, "{\"name\":");
                put_str(c, json_string_value(fnm));
                puts_(c, ",\"type\":");
                rc = emit(c, json_object_get(f, "type"), inner_ns, json_string_value(fnm), depth + 1);
                put(c, "}", 1);
            }
            put(c, "]", 1);
        } else if (!strcmp(type, "enum")) {
            json_t *sy = json_object_get(j, "symbols");
            size_t i;
            if (!json_is_array(sy)) {
                free(nsbuf);
                return fail(c, path, "an enum needs \"symbols\"");
            }
            puts_(c, ",\"symbols\":[");
            for (i = 0; i < json_array_size(sy); i++) {
                json_t *s = json_array_get(sy, i);
                if (!json_is_string(s)) {
                    rc = fail(c, path, "an enum symbol is not a string");
                    break;
                }
                if (i)
                    put(c, ",", 1);
                put_str(c, json_string_value(s));
            }
            put(c, "]", 1);
        } else { /* fixed */
            json_t *sz = json_object_get(j, "size");
            char num[32];
            if (!json_is_integer(sz) || json_integer_value(sz) < 0) {
                free(nsbuf);
                return fail(c, path, "a fixed needs a non-negative \"size\"");
            }
            snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(sz));
            puts_(c, ",\"size\":");
            puts_(c, num);
        }
        put(c, "}", 1);
        free(nsbuf);
        return rc;
    }
}

static int emit(canon_t *c, json_t *j, const char *ns, const char *path, int depth) {
    if (depth > 256)
        return fail(c, path, "nested too deeply");
    if (json_is_string(j)) {
        const char *t = json_string_value(j);
        char *fn;
        if (is_primitive(t)) {
            put_str(c, t);
            return 0;
        }
        if (!(fn = full_name(t, ns))) {
            c->oom = true;
            return -1;
        }
        put_str(c, fn);
        free(fn);
        return 0;
    }
    if (json_is_array(j)) {
        size_t i;
        int rc = 0;
        put(c, "[", 1);
        for (i = 0; i < json_array_size(j) && rc == 0; i++) {
            if (i)
                put(c, ",", 1);
            rc = emit(c, json_array_get(j, i), ns, path, depth + 1);
        }
        put(c, "]", 1);
        return rc;
    }
    if (json_is_object(j)) {
        json_t *tj = json_object_get(j, "type");
        const char *t;
        int rc;
        if (!tj)
            return fail(c, path, "an object without \"type\"");
        if (!json_is_string(tj))
            return emit(c, tj, ns, path, depth + 1); /* {"type": {...}} */
        t = json_string_value(tj);
        if (is_primitive(t)) {
            put_str(c, t); /* [PRIMITIVES]: logicalType and the rest dropped */
            return 0;
        }
        if (!strcmp(t, "array") || !strcmp(t, "map")) {
            bool arr = t[0] == 'a';
            json_t *in = json_object_get(j, arr ? "items" : "values");
            if (!in)
                return fail(c, path, arr ? "an array needs \"items\"" : "a map needs \"values\"");
            puts_(c, arr ? "{\"type\":\"array\",\"items\":" : "{\"type\":\"map\",\"values\":");
            rc = emit(c, in, ns, path, depth + 1);
            put(c, "}", 1);
            return rc;
        }
        if (!strcmp(t, "record") || !strcmp(t, "error") || !strcmp(t, "enum") || !strcmp(t, "fixed"))
            return emit_named(c, j, t, ns, path, depth);
        /* a reference written as {"type": "Name"} */
        return emit(c, tj, ns, path, depth + 1);
    }
    return fail(c, path, "not a schema (expected a string, an array or an object)");
}

vtev_err_t vtev__avro_canonical(const char *json, char **canonp, char *errstr, size_t errstr_size) {
    canon_t c;
    json_error_t jerr;
    json_t *root;
    size_t i;
    int rc;
    *canonp = NULL;
    memset(&c, 0, sizeof(c));
    c.err = errstr;
    c.err_size = errstr_size;
    if (!(root = json_loads(json, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr)))
        return vtev__fail(VTEV_ERR_SCHEMA, errstr, errstr_size, "schema: line %d, column %d: %s",
                          jerr.line, jerr.column, jerr.text);
    rc = emit(&c, root, "", "", 0);
    json_decref(root);
    for (i = 0; i < c.nnames; i++)
        free(c.names[i]);
    free(c.names);
    if (c.oom) {
        free(c.s);
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    if (rc != 0) {
        free(c.s);
        return c.fail;
    }
    *canonp = c.s;
    return VTEV_ERR_OK;
}

#define RABIN_EMPTY UINT64_C(0xc15d213aa4d7a795)

static uint64_t rabin_table[256];
static pthread_once_t rabin_once = PTHREAD_ONCE_INIT;

static void rabin_init(void) {
    int i, k;
    for (i = 0; i < 256; i++) {
        uint64_t fp = (uint64_t)i;
        for (k = 0; k < 8; k++)
            fp = (fp >> 1) ^ (RABIN_EMPTY & (0 - (fp & 1)));
        rabin_table[i] = fp;
    }
}

uint64_t vtev__avro_rabin(const void *data, size_t n) {
    const unsigned char *p = data;
    uint64_t fp = RABIN_EMPTY;
    size_t i;
    pthread_once(&rabin_once, rabin_init);
    for (i = 0; i < n; i++)
        fp = (fp >> 8) ^ rabin_table[(fp ^ p[i]) & 0xff];
    return fp;
}
