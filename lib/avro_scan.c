/*
 * avro_scan.c - bounds check of untrusted Avro bytes before avro-c reads
 * them.  avro-c allocates a string's buffer from the length prefix before it
 * checks that the bytes are there, and loops over block counts without
 * limit; this walk (no allocation) rejects such input first and also finds
 * trailing bytes.  The writer schema is compiled once into a flat program so
 * that the walk costs little next to the decode itself.
 */
#include "event_int.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define SCAN_MAX_DEPTH 128

enum { K_NULL, K_BOOL, K_INT, K_LONG, K_FLOAT, K_DOUBLE, K_BYTES, K_FIXED, K_ENUM, K_UNION, K_RECORD,
       K_ARRAY, K_MAP };

typedef struct snode_s {
    int kind;
    uint32_t n;     /* record fields, union branches, enum symbols */
    uint32_t kids;  /* index into kids[] (record, union), or child node (array, map) */
    int64_t size;   /* fixed */
} snode_t;

struct vtev__scanner_s {
    snode_t *nodes;
    size_t nn, ncap;
    uint32_t *kids;
    size_t nk, kcap;
    avro_schema_t *named; /* named schema of node i (for recursion), or NULL */
};

static long add_node(vtev__scanner_t *s, int kind, avro_schema_t named) {
    if (s->nn == s->ncap) {
        size_t ncap = s->ncap ? s->ncap * 2 : 16;
        snode_t *nn = realloc(s->nodes, ncap * sizeof(*nn));
        avro_schema_t *nm;
        if (!nn)
            return -1;
        s->nodes = nn;
        nm = realloc(s->named, ncap * sizeof(*nm));
        if (!nm)
            return -1;
        s->named = nm;
        s->ncap = ncap;
    }
    memset(&s->nodes[s->nn], 0, sizeof(snode_t));
    s->nodes[s->nn].kind = kind;
    s->named[s->nn] = named;
    return (long)s->nn++;
}

static long add_kids(vtev__scanner_t *s, size_t n) {
    size_t at = s->nk;
    if (s->nk + n > s->kcap) {
        size_t kcap = s->kcap ? s->kcap : 16;
        uint32_t *nk;
        while (kcap < s->nk + n)
            kcap *= 2;
        if (!(nk = realloc(s->kids, kcap * sizeof(*nk))))
            return -1;
        s->kids = nk;
        s->kcap = kcap;
    }
    s->nk += n;
    return (long)at;
}

static long compile(vtev__scanner_t *s, avro_schema_t sch, int depth) {
    long id, k;
    size_t i, n;
    if (depth > SCAN_MAX_DEPTH)
        return -1;
    while (sch && avro_typeof(sch) == AVRO_LINK)
        sch = avro_schema_link_target(sch);
    if (!sch)
        return -1;
    switch (avro_typeof(sch)) {
    case AVRO_NULL: return add_node(s, K_NULL, NULL);
    case AVRO_BOOLEAN: return add_node(s, K_BOOL, NULL);
    case AVRO_INT32: return add_node(s, K_INT, NULL);
    case AVRO_INT64: return add_node(s, K_LONG, NULL);
    case AVRO_FLOAT: return add_node(s, K_FLOAT, NULL);
    case AVRO_DOUBLE: return add_node(s, K_DOUBLE, NULL);
    case AVRO_STRING:
    case AVRO_BYTES: return add_node(s, K_BYTES, NULL);
    case AVRO_FIXED:
        if ((id = add_node(s, K_FIXED, NULL)) >= 0)
            s->nodes[id].size = avro_schema_fixed_size(sch);
        return id;
    case AVRO_ENUM:
        if ((id = add_node(s, K_ENUM, NULL)) >= 0)
            s->nodes[id].n = (uint32_t)avro_schema_enum_number_of_symbols(sch);
        return id;
    case AVRO_RECORD:
        /* a record seen before (recursive or reused type) is the same node */
        for (i = 0; i < s->nn; i++)
            if (s->named[i] == sch)
                return (long)i;
        n = avro_schema_record_size(sch);
        if ((id = add_node(s, K_RECORD, sch)) < 0 || (k = add_kids(s, n)) < 0)
            return -1;
        s->nodes[id].n = (uint32_t)n;
        s->nodes[id].kids = (uint32_t)k;
        for (i = 0; i < n; i++) {
            long c = compile(s, avro_schema_record_field_get_by_index(sch, (int)i), depth + 1);
            if (c < 0)
                return -1;
            s->kids[k + (long)i] = (uint32_t)c;
        }
        return id;
    case AVRO_UNION:
        n = avro_schema_union_size(sch);
        if ((id = add_node(s, K_UNION, NULL)) < 0 || (k = add_kids(s, n)) < 0)
            return -1;
        s->nodes[id].n = (uint32_t)n;
        s->nodes[id].kids = (uint32_t)k;
        for (i = 0; i < n; i++) {
            long c = compile(s, avro_schema_union_branch(sch, (int)i), depth + 1);
            if (c < 0)
                return -1;
            s->kids[k + (long)i] = (uint32_t)c;
        }
        return id;
    case AVRO_ARRAY:
    case AVRO_MAP: {
        bool is_map = avro_typeof(sch) == AVRO_MAP;
        long c;
        if ((id = add_node(s, is_map ? K_MAP : K_ARRAY, NULL)) < 0)
            return -1;
        c = compile(s, is_map ? avro_schema_map_values(sch) : avro_schema_array_items(sch), depth + 1);
        if (c < 0)
            return -1;
        s->nodes[id].kids = (uint32_t)c;
        return id;
    }
    default:
        return -1;
    }
}

void vtev__scanner_destroy(vtev__scanner_t *s) {
    if (!s)
        return;
    free(s->nodes);
    free(s->kids);
    free(s->named);
    free(s);
}

vtev__scanner_t *vtev__scanner_new(avro_schema_t schema) {
    vtev__scanner_t *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    /* the root is node 0 */
    if (compile(s, schema, 0) != 0) {
        vtev__scanner_destroy(s);
        return NULL;
    }
    return s;
}

typedef struct scan_s {
    const unsigned char *p, *end;
    uint64_t items, max_items;
    const char *why;
    const vtev__scanner_t *prog;
} scan_t;

static inline int varint(scan_t *s, int64_t *v, int maxbytes) {
    uint64_t u = 0;
    int shift = 0, i;
    for (i = 0; i < maxbytes; i++) {
        unsigned char b;
        if (s->p >= s->end) {
            s->why = "truncated number";
            return -1;
        }
        b = *s->p++;
        u |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = (int64_t)((u >> 1) ^ (~(u & 1) + 1));
            return 0;
        }
        shift += 7;
    }
    s->why = "varint too long";
    return -1;
}

static inline int length(scan_t *s, int64_t *n) {
    if (varint(s, n, 10))
        return -1;
    if (*n < 0) {
        s->why = "negative length";
        return -1;
    }
    if (*n > (int64_t)(s->end - s->p)) {
        s->why = "length beyond the end of the data";
        return -1;
    }
    return 0;
}

static int walk(scan_t *s, uint32_t id, int depth) {
    const snode_t *nd = &s->prog->nodes[id];
    int64_t v;
    if (depth > SCAN_MAX_DEPTH) {
        s->why = "nesting too deep";
        return -1;
    }
    switch (nd->kind) {
    case K_NULL:
        return 0;
    case K_BOOL:
        if (s->p >= s->end || *s->p > 1) {
            s->why = s->p >= s->end ? "truncated boolean" : "invalid boolean";
            return -1;
        }
        s->p++;
        return 0;
    case K_INT:
        if (varint(s, &v, 5))
            return -1;
        if (v < INT32_MIN || v > INT32_MAX) {
            s->why = "int out of range";
            return -1;
        }
        return 0;
    case K_LONG:
        return varint(s, &v, 10);
    case K_FLOAT:
    case K_DOUBLE: {
        size_t n = nd->kind == K_FLOAT ? 4 : 8;
        if ((size_t)(s->end - s->p) < n) {
            s->why = "truncated floating-point number";
            return -1;
        }
        s->p += n;
        return 0;
    }
    case K_BYTES:
        if (length(s, &v))
            return -1;
        s->p += v;
        return 0;
    case K_FIXED:
        if (nd->size < 0 || nd->size > (int64_t)(s->end - s->p)) {
            s->why = "truncated fixed";
            return -1;
        }
        s->p += nd->size;
        return 0;
    case K_ENUM:
        if (varint(s, &v, 10))
            return -1;
        if (v < 0 || v >= (int64_t)nd->n) {
            s->why = "enum index out of range";
            return -1;
        }
        return 0;
    case K_UNION:
        if (varint(s, &v, 10))
            return -1;
        if (v < 0 || v >= (int64_t)nd->n) {
            s->why = "union branch index out of range";
            return -1;
        }
        return walk(s, s->prog->kids[nd->kids + (uint32_t)v], depth + 1);
    case K_RECORD: {
        uint32_t i;
        for (i = 0; i < nd->n; i++)
            if (walk(s, s->prog->kids[nd->kids + i], depth + 1))
                return -1;
        return 0;
    }
    case K_ARRAY:
    case K_MAP:
        for (;;) {
            int64_t count, i;
            if (varint(s, &count, 10))
                return -1;
            if (count == 0)
                return 0;
            if (count < 0) {
                int64_t bytes;
                if (count == INT64_MIN) {
                    s->why = "invalid block count";
                    return -1;
                }
                count = -count;
                if (length(s, &bytes))
                    return -1;
            }
            if ((uint64_t)count > s->max_items - s->items) {
                s->why = "too many collection items for the data size";
                return -1;
            }
            s->items += (uint64_t)count;
            for (i = 0; i < count; i++) {
                if (nd->kind == K_MAP) {
                    if (length(s, &v))
                        return -1;
                    s->p += v;
                }
                if (walk(s, nd->kids, depth + 1))
                    return -1;
            }
        }
    default:
        s->why = "unsupported schema type";
        return -1;
    }
}

vtev_err_t vtev__scanner_check(const vtev__scanner_t *prog, const void *buf, size_t len, char *errstr,
                               size_t errstr_size) {
    scan_t s;
    if (!buf && len > 0)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, "NULL buffer");
    s.p = buf;
    s.end = s.p + len;
    s.items = 0;
    s.max_items = (uint64_t)len + 1024;
    s.why = NULL;
    s.prog = prog;
    if (walk(&s, 0, 0) != 0)
        return vtev__fail(VTEV_ERR_DECODE, errstr, errstr_size, "Avro data: %s at byte %zu", s.why,
                          (size_t)(s.p - (const unsigned char *)buf));
    if (s.p != s.end)
        return vtev__fail(VTEV_ERR_DECODE, errstr, errstr_size, "Avro data: %zu trailing bytes after the value",
                          (size_t)(s.end - s.p));
    return VTEV_ERR_OK;
}
