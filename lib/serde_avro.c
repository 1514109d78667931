/*
 * serde_avro.c - the generic Avro path: encode any avro_value_t (optionally
 * framed), decode bytes written with a writer schema into a reader schema
 * through avro-c's resolved reader, with a per-thread cache of resolvers and
 * buffers so that the steady state parses no schema and allocates nothing
 * but the output buffer.
 *
 * avro-c's resolved reader cannot supply reader defaults for fields the
 * writer lacks.  For such pairs the reader schema is pruned of those fields
 * (recursively, through records, arrays and maps), the writer is resolved
 * into the pruned schema, and the result is copied into a value of the full
 * reader schema with the defaults of the reader's JSON filled in.
 */
#include "event_int.h"
#include "internal.h"

#include <vtevents/serde_avro.h>

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SCRATCH_INITIAL 4096
#define SCRATCH_MAX ((size_t)256 * 1024 * 1024)
#define RES_CACHE_MAX 32
#define SCAN_MAX_DEPTH 128

/* ---------------------------------------------------------------------- */
/* Reader defaults for fields the writer lacks.                           */

/* Finds the JSON definition (object) of the named record fullname in j. */
static json_t *find_record_json(json_t *j, const char *ns, const char *fullname, int depth) {
    if (depth > 64)
        return NULL;
    if (json_is_array(j)) {
        size_t i;
        json_t *x, *r;
        json_array_foreach(j, i, x) {
            if ((r = find_record_json(x, ns, fullname, depth + 1)))
                return r;
        }
        return NULL;
    }
    if (json_is_object(j)) {
        const char *type = json_string_value(json_object_get(j, "type"));
        const char *name = json_string_value(json_object_get(j, "name"));
        const char *jns = json_string_value(json_object_get(j, "namespace"));
        char full[512], nsbuf[512];
        json_t *x, *r;
        const char *cur_ns = ns;
        if (name && type && (!strcmp(type, "record") || !strcmp(type, "error") ||
                             !strcmp(type, "enum") || !strcmp(type, "fixed"))) {
            if (strchr(name, '.')) {
                snprintf(full, sizeof(full), "%s", name);
                cur_ns = NULL;
            } else {
                if (jns)
                    cur_ns = jns;
                if (cur_ns && *cur_ns)
                    snprintf(full, sizeof(full), "%s.%s", cur_ns, name);
                else
                    snprintf(full, sizeof(full), "%s", name);
            }
            if (!strcmp(full, fullname) && !strcmp(type, "record"))
                return j;
            if (strchr(name, '.')) {
                /* namespace of a dotted name is its prefix */
                const char *dot = strrchr(name, '.');
                snprintf(nsbuf, sizeof(nsbuf), "%.*s", (int)(dot - name), name);
                cur_ns = nsbuf;
            }
        }
        if ((x = json_object_get(j, "fields")) && (r = find_record_json(x, cur_ns, fullname, depth + 1)))
            return r;
        if ((x = json_object_get(j, "type")) && !json_is_string(x) &&
            (r = find_record_json(x, cur_ns, fullname, depth + 1)))
            return r;
        if ((x = json_object_get(j, "items")) && (r = find_record_json(x, cur_ns, fullname, depth + 1)))
            return r;
        if ((x = json_object_get(j, "values")) && (r = find_record_json(x, cur_ns, fullname, depth + 1)))
            return r;
    }
    return NULL;
}

static char *schema_fullname(avro_schema_t s, char *buf, size_t size) {
    const char *ns = avro_schema_namespace(s);
    if (ns && *ns)
        snprintf(buf, size, "%s.%s", ns, avro_schema_name(s));
    else
        snprintf(buf, size, "%s", avro_schema_name(s));
    return buf;
}

static json_t *field_default(json_t *rjson, avro_schema_t rec, const char *field) {
    char full[512];
    json_t *def = find_record_json(rjson, NULL, schema_fullname(rec, full, sizeof(full)), 0), *f;
    size_t i;
    if (!def)
        return NULL;
    json_array_foreach(json_object_get(def, "fields"), i, f) {
        const char *n = json_string_value(json_object_get(f, "name"));
        if (n && !strcmp(n, field))
            return json_object_get(f, "default");
    }
    return NULL;
}

static avro_schema_t unlink_schema(avro_schema_t s) {
    while (s && avro_typeof(s) == AVRO_LINK)
        s = avro_schema_link_target(s);
    return s;
}

/* Sets dst (reader schema sch) from a JSON default. */
static int set_default(avro_value_t *dst, avro_schema_t sch, json_t *def, json_t *rjson, int depth) {
    sch = unlink_schema(sch);
    if (depth > 64)
        return EINVAL;
    switch (avro_typeof(sch)) {
    case AVRO_NULL: return avro_value_set_null(dst);
    case AVRO_BOOLEAN: return json_is_boolean(def) ? avro_value_set_boolean(dst, json_is_true(def)) : EINVAL;
    case AVRO_INT32: return json_is_integer(def) ? avro_value_set_int(dst, (int32_t)json_integer_value(def)) : EINVAL;
    case AVRO_INT64: return json_is_integer(def) ? avro_value_set_long(dst, json_integer_value(def)) : EINVAL;
    case AVRO_FLOAT: return json_is_number(def) ? avro_value_set_float(dst, (float)json_number_value(def)) : EINVAL;
    case AVRO_DOUBLE: return json_is_number(def) ? avro_value_set_double(dst, json_number_value(def)) : EINVAL;
    case AVRO_STRING:
        return json_is_string(def) ? avro_value_set_string_len(dst, json_string_value(def),
                                                                json_string_length(def) + 1)
                                   : EINVAL;
    case AVRO_BYTES:
    case AVRO_FIXED: {
        /* JSON default of bytes: code points 0-255, one per byte */
        const unsigned char *p = (const unsigned char *)json_string_value(def);
        size_t n = json_string_length(def), o = 0, i;
        unsigned char *b;
        int rc;
        if (!p)
            return EINVAL;
        if (!(b = malloc(n + 1)))
            return ENOMEM;
        for (i = 0; i < n; i++) {
            if (p[i] < 0x80)
                b[o++] = p[i];
            else if ((p[i] & 0xe0) == 0xc0 && i + 1 < n && p[i] <= 0xc3)
                b[o++] = (unsigned char)(((p[i] & 0x1f) << 6) | (p[i + 1] & 0x3f)), i++;
            else {
                free(b);
                return EINVAL;
            }
        }
        rc = avro_typeof(sch) == AVRO_BYTES ? avro_value_set_bytes(dst, b, o)
             : (int64_t)o == avro_schema_fixed_size(sch) ? avro_value_set_fixed(dst, b, o)
                                                          : EINVAL;
        free(b);
        return rc;
    }
    case AVRO_ENUM: {
        int idx = json_is_string(def) ? avro_schema_enum_get_by_name(sch, json_string_value(def)) : -1;
        return idx < 0 ? EINVAL : avro_value_set_enum(dst, idx);
    }
    case AVRO_UNION: {
        avro_value_t br;
        int rc = avro_value_set_branch(dst, 0, &br);
        return rc ? rc : set_default(&br, avro_schema_union_branch(sch, 0), def, rjson, depth + 1);
    }
    case AVRO_RECORD: {
        size_t i, n = avro_schema_record_size(sch);
        if (!json_is_object(def))
            return EINVAL;
        for (i = 0; i < n; i++) {
            const char *fname = avro_schema_record_field_name(sch, (int)i);
            json_t *fd = json_object_get(def, fname);
            avro_value_t ch;
            int rc;
            if (!fd)
                fd = field_default(rjson, sch, fname);
            if (!fd)
                return EINVAL;
            if ((rc = avro_value_get_by_index(dst, i, &ch, NULL)) ||
                (rc = set_default(&ch, avro_schema_record_field_get_by_index(sch, (int)i), fd, rjson,
                                  depth + 1)))
                return rc;
        }
        return 0;
    }
    case AVRO_ARRAY: {
        size_t i;
        json_t *x;
        if (!json_is_array(def))
            return EINVAL;
        json_array_foreach(def, i, x) {
            avro_value_t el;
            int rc;
            if ((rc = avro_value_append(dst, &el, NULL)) ||
                (rc = set_default(&el, avro_schema_array_items(sch), x, rjson, depth + 1)))
                return rc;
        }
        return 0;
    }
    case AVRO_MAP: {
        const char *k;
        json_t *x;
        if (!json_is_object(def))
            return EINVAL;
        json_object_foreach(def, k, x) {
            avro_value_t el;
            int rc;
            if ((rc = avro_value_add(dst, k, &el, NULL, NULL)) ||
                (rc = set_default(&el, avro_schema_map_values(sch), x, rjson, depth + 1)))
                return rc;
        }
        return 0;
    }
    default:
        return EINVAL;
    }
}

/* Copies src (a resolved value of the pruned reader schema) into dst (a value
 * of the full reader schema), filling fields src lacks from the defaults. */
static int copy_fill(avro_value_t *dst, avro_value_t *src, json_t *rjson, int depth) {
    avro_schema_t dsch = unlink_schema(avro_value_get_schema(dst));
    int rc;
    if (depth > SCAN_MAX_DEPTH)
        return EINVAL;
    switch (avro_typeof(dsch)) {
    case AVRO_RECORD: {
        avro_schema_t ssch = unlink_schema(avro_value_get_schema(src));
        size_t i, n = avro_schema_record_size(dsch);
        for (i = 0; i < n; i++) {
            const char *fname = avro_schema_record_field_name(dsch, (int)i);
            avro_value_t dch, sch;
            if ((rc = avro_value_get_by_index(dst, i, &dch, NULL)))
                return rc;
            if (avro_schema_record_field_get_index(ssch, fname) >= 0) {
                if ((rc = avro_value_get_by_name(src, fname, &sch, NULL)) ||
                    (rc = copy_fill(&dch, &sch, rjson, depth + 1)))
                    return rc;
            } else {
                json_t *def = field_default(rjson, dsch, fname);
                if (!def) {
                    avro_set_error("Reader field %s has no default", fname);
                    return EINVAL;
                }
                if ((rc = set_default(&dch, avro_schema_record_field_get_by_index(dsch, (int)i), def,
                                      rjson, depth + 1))) {
                    avro_set_error("Default of reader field %s does not fit its type", fname);
                    return rc;
                }
            }
        }
        return 0;
    }
    case AVRO_UNION: {
        int disc;
        avro_value_t sb, db;
        if ((rc = avro_value_get_discriminant(src, &disc)) ||
            (rc = avro_value_get_current_branch(src, &sb)) ||
            (rc = avro_value_set_branch(dst, disc, &db)))
            return rc;
        return copy_fill(&db, &sb, rjson, depth + 1);
    }
    case AVRO_ARRAY: {
        size_t i, n;
        if ((rc = avro_value_get_size(src, &n)))
            return rc;
        for (i = 0; i < n; i++) {
            avro_value_t se, de;
            if ((rc = avro_value_get_by_index(src, i, &se, NULL)) ||
                (rc = avro_value_append(dst, &de, NULL)) || (rc = copy_fill(&de, &se, rjson, depth + 1)))
                return rc;
        }
        return 0;
    }
    case AVRO_MAP: {
        size_t i, n;
        if ((rc = avro_value_get_size(src, &n)))
            return rc;
        for (i = 0; i < n; i++) {
            avro_value_t se, de;
            const char *key;
            if ((rc = avro_value_get_by_index(src, i, &se, &key)) ||
                (rc = avro_value_add(dst, key, &de, NULL, NULL)) ||
                (rc = copy_fill(&de, &se, rjson, depth + 1)))
                return rc;
        }
        return 0;
    }
    default:
        /* primitives, enums, fixed: the generic copy does the right thing */
        return avro_value_copy_fast(dst, src);
    }
}

/* Removes from the reader JSON record definitions the fields the writer
 * lacks and that have a default.  Returns the number removed, -1 on error. */
static int prune(json_t *rj, avro_schema_t w, avro_schema_t r, int depth) {
    int removed = 0;
    w = unlink_schema(w);
    r = unlink_schema(r);
    if (depth > 64 || !w || !r)
        return 0;
    if (avro_typeof(r) == AVRO_RECORD && avro_typeof(w) == AVRO_RECORD &&
        !strcmp(avro_schema_name(r), avro_schema_name(w))) {
        char full[512];
        json_t *def = find_record_json(rj, NULL, schema_fullname(r, full, sizeof(full)), 0);
        json_t *fields = def ? json_object_get(def, "fields") : NULL;
        size_t i, n = avro_schema_record_size(r);
        if (!json_is_array(fields))
            return 0;
        for (i = 0; i < n; i++) {
            const char *fname = avro_schema_record_field_name(r, (int)i);
            int wi = avro_schema_record_field_get_index(w, fname);
            if (wi < 0) {
                size_t k;
                json_t *f;
                json_array_foreach(fields, k, f) {
                    const char *nm = json_string_value(json_object_get(f, "name"));
                    if (nm && !strcmp(nm, fname) && json_object_get(f, "default")) {
                        json_array_remove(fields, k);
                        removed++;
                        break;
                    }
                }
            } else {
                int sub = prune(rj, avro_schema_record_field_get_by_index(w, wi),
                                avro_schema_record_field_get_by_index(r, (int)i), depth + 1);
                if (sub < 0)
                    return -1;
                removed += sub;
            }
        }
        return removed;
    }
    if (avro_typeof(r) == AVRO_ARRAY && avro_typeof(w) == AVRO_ARRAY)
        return prune(rj, avro_schema_array_items(w), avro_schema_array_items(r), depth + 1);
    if (avro_typeof(r) == AVRO_MAP && avro_typeof(w) == AVRO_MAP)
        return prune(rj, avro_schema_map_values(w), avro_schema_map_values(r), depth + 1);
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Per-thread state.                                                       */

typedef struct res_entry_s {
    struct res_entry_s *next;
    uint64_t wuid, ruid;
    avro_schema_t wschema, rschema, pruned; /* references */
    vtev__scanner_t *scanner;       /* bounds check for the writer's bytes */
    avro_value_iface_t *wclass;
    avro_value_t wvalue;            /* writer value; the result when direct */
    avro_value_iface_t *resolver;   /* NULL when writer == reader */
    avro_value_t resolved;          /* reader (or pruned reader) view of wvalue */
    json_t *rjson;                  /* reader JSON, when defaults are needed */
    avro_value_iface_t *rclass;     /* full reader value, when defaults are needed */
    avro_value_t rvalue;
} res_entry_t;

typedef struct tls_s {
    struct tls_s *prev, *next; /* all live thread states (keeps them reachable) */
    avro_reader_t reader;
    avro_writer_t writer;
    char *scratch;
    size_t scratch_size;
    res_entry_t *res;
    size_t nres;
    avro_value_iface_t *enc_class[4];
    avro_value_t enc_value[4];
} tls_t;

static pthread_key_t tls_key;
static pthread_mutex_t tls_list_lock = PTHREAD_MUTEX_INITIALIZER;
static tls_t *tls_list;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static bool tls_key_ok;
static __thread tls_t *tls_cur;

static void entry_free(res_entry_t *e) {
    if (!e)
        return;
    if (e->rclass) {
        avro_value_decref(&e->rvalue);
        avro_value_iface_decref(e->rclass);
    }
    if (e->resolver) {
        avro_value_decref(&e->resolved);
        avro_value_iface_decref(e->resolver);
    }
    if (e->wclass) {
        avro_value_decref(&e->wvalue);
        avro_value_iface_decref(e->wclass);
    }
    if (e->rjson)
        json_decref(e->rjson);
    if (e->pruned)
        avro_schema_decref(e->pruned);
    vtev__scanner_destroy(e->scanner);
    if (e->wschema)
        avro_schema_decref(e->wschema);
    if (e->rschema)
        avro_schema_decref(e->rschema);
    free(e);
}

static void tls_free(void *p) {
    tls_t *t = p;
    int i;
    if (!t)
        return;
    pthread_mutex_lock(&tls_list_lock);
    if (t->prev)
        t->prev->next = t->next;
    else if (tls_list == t)
        tls_list = t->next;
    if (t->next)
        t->next->prev = t->prev;
    pthread_mutex_unlock(&tls_list_lock);
    while (t->res) {
        res_entry_t *n = t->res->next;
        entry_free(t->res);
        t->res = n;
    }
    for (i = 0; i < 4; i++) {
        if (t->enc_class[i]) {
            avro_value_decref(&t->enc_value[i]);
            avro_value_iface_decref(t->enc_class[i]);
        }
    }
    if (t->reader)
        avro_reader_free(t->reader);
    if (t->writer)
        avro_writer_free(t->writer);
    free(t->scratch);
    free(t);
    if (tls_cur == t)
        tls_cur = NULL;
}

static void tls_key_init(void) {
    tls_key_ok = pthread_key_create(&tls_key, tls_free) == 0;
}

/* At exit (or dlclose) free the exiting thread's state: pthread key
 * destructors do not run for the main thread.  Another thread's state stays
 * (it may still be running). */
#if defined(__GNUC__)
__attribute__((destructor)) static void tls_at_exit(void) {
    tls_t *t = tls_cur;
    if (t && tls_key_ok) {
        pthread_setspecific(tls_key, NULL);
        tls_free(t);
    }
}
#endif

static tls_t *tls_get(void) {
    tls_t *t = tls_cur;
    if (t)
        return t;
    pthread_once(&tls_once, tls_key_init);
    if (!tls_key_ok || !(t = calloc(1, sizeof(*t))))
        return NULL;
    t->scratch_size = SCRATCH_INITIAL;
    if (!(t->scratch = malloc(t->scratch_size)) ||
        !(t->reader = avro_reader_memory(t->scratch, 0)) ||
        !(t->writer = avro_writer_memory(t->scratch, (int64_t)t->scratch_size)) ||
        pthread_setspecific(tls_key, t) != 0) {
        tls_free(t);
        return NULL;
    }
    pthread_mutex_lock(&tls_list_lock);
    t->next = tls_list;
    if (tls_list)
        tls_list->prev = t;
    tls_list = t;
    pthread_mutex_unlock(&tls_list_lock);
    tls_cur = t;
    return t;
}

avro_value_t *vtev__encode_value(vtev_event_type_t type) {
    tls_t *t = tls_get();
    const vtev_schema_t *s;
    if (!t || type < VTEV_EVENT_POSITION || type > VTEV_EVENT_RESULT)
        return NULL;
    if (t->enc_class[type])
        return &t->enc_value[type];
    if (!(s = vtev_event_schema(type)) || !(t->enc_class[type] = avro_generic_class_from_schema(s->avro)))
        return NULL;
    if (avro_generic_value_new(t->enc_class[type], &t->enc_value[type]) != 0) {
        avro_value_iface_decref(t->enc_class[type]);
        t->enc_class[type] = NULL;
        return NULL;
    }
    return &t->enc_value[type];
}

vtev_err_t vtev__avro_write(avro_value_t *value, int32_t schema_id, void **bufp, size_t *lenp,
                            char *errstr, size_t errstr_size) {
    tls_t *t = tls_get();
    size_t hdr = schema_id >= 0 ? VTEV_FRAME_HEADER_SIZE : 0, n;
    unsigned char *out;
    if (!t)
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
    for (;;) {
        size_t need = 0;
        avro_writer_memory_set_dest(t->writer, t->scratch, (int64_t)t->scratch_size);
        if (avro_value_write(t->writer, value) == 0)
            break;
        if (avro_value_sizeof(value, &need) != 0 || need <= t->scratch_size)
            return vtev__fail(VTEV_ERR_ENCODE, errstr, errstr_size, "Avro encoding: %s", avro_strerror());
        if (need > SCRATCH_MAX)
            return vtev__fail(VTEV_ERR_ENCODE, errstr, errstr_size,
                              "Avro encoding: %zu bytes exceed the limit of %zu", need, SCRATCH_MAX);
        {
            char *ns = malloc(need);
            if (!ns)
                return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
            free(t->scratch);
            t->scratch = ns;
            t->scratch_size = need;
        }
    }
    n = (size_t)avro_writer_tell(t->writer);
    if (!(out = malloc(hdr + n + 1)))
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
    if (hdr)
        vtev_frame_write_header(out, schema_id);
    memcpy(out + hdr, t->scratch, n);
    *bufp = out;
    if (lenp)
        *lenp = hdr + n;
    return VTEV_ERR_OK;
}

static vtev_err_t entry_new(res_entry_t **ep, const vtev_schema_t *reader, const vtev_schema_t *writer,
                            char *errstr, size_t errstr_size) {
    res_entry_t *e = calloc(1, sizeof(*e));
    if (!e)
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
    e->wuid = writer->uid;
    e->ruid = reader->uid;
    e->wschema = avro_schema_incref(writer->avro);
    e->rschema = avro_schema_incref(reader->avro);
    if (!(e->scanner = vtev__scanner_new(writer->avro))) {
        entry_free(e);
        return vtev__fail(VTEV_ERR_SCHEMA, errstr, errstr_size, "writer schema %s: unsupported or out of memory",
                          writer->fullname);
    }
    if (!(e->wclass = avro_generic_class_from_schema(writer->avro)))
        goto nomem;
    if (avro_generic_value_new(e->wclass, &e->wvalue) != 0) {
        avro_value_iface_decref(e->wclass);
        e->wclass = NULL;
        goto nomem;
    }
    if (writer->uid != reader->uid && !avro_schema_equal(writer->avro, reader->avro)) {
        avro_schema_t target = reader->avro;
        json_error_t jerr;
        json_t *rj = json_loads(reader->json, 0, &jerr); /* keeps the defaults */
        json_t *pj = rj ? json_deep_copy(rj) : NULL;     /* pruned */
        int removed = pj ? prune(pj, writer->avro, reader->avro, 0) : 0;
        if (removed > 0) {
            char *txt = json_dumps(pj, JSON_COMPACT);
            int rc = txt ? avro_schema_from_json_length(txt, strlen(txt), &e->pruned) : ENOMEM;
            free(txt);
            json_decref(pj);
            if (rc != 0) {
                json_decref(rj);
                entry_free(e);
                return vtev__fail(VTEV_ERR_SCHEMA_MISMATCH, errstr, errstr_size,
                                  "schema resolution: %s", avro_strerror());
            }
            target = e->pruned;
            e->rjson = rj;
            if (!(e->rclass = avro_generic_class_from_schema(reader->avro)))
                goto nomem;
            if (avro_generic_value_new(e->rclass, &e->rvalue) != 0) {
                avro_value_iface_decref(e->rclass);
                e->rclass = NULL;
                goto nomem;
            }
        } else {
            json_decref(pj);
            json_decref(rj);
        }
        if (!(e->resolver = avro_resolved_reader_new(writer->avro, target))) {
            vtev__seterr(errstr, errstr_size, "writer schema %s cannot be read as %s: %s",
                         writer->fullname, reader->fullname, avro_strerror());
            entry_free(e);
            return VTEV_ERR_SCHEMA_MISMATCH;
        }
        if (avro_resolved_reader_new_value(e->resolver, &e->resolved) != 0) {
            avro_value_iface_decref(e->resolver);
            e->resolver = NULL;
            goto nomem;
        }
        avro_resolved_reader_set_source(&e->resolved, &e->wvalue);
    }
    *ep = e;
    return VTEV_ERR_OK;
nomem:
    entry_free(e);
    return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
}

vtev_err_t vtev__avro_decode_cached(const vtev_schema_t *reader, const vtev_schema_t *writer,
                                    const void *buf, size_t len, avro_value_t **outp, char *errstr,
                                    size_t errstr_size) {
    tls_t *t = tls_get();
    res_entry_t *e, *prev = NULL;
    vtev_err_t err;
    if (!t)
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
    if (!writer)
        writer = reader;
    for (e = t->res; e; prev = e, e = e->next)
        if (e->wuid == writer->uid && e->ruid == reader->uid)
            break;
    if (e && prev) { /* move to front */
        prev->next = e->next;
        e->next = t->res;
        t->res = e;
    } else if (!e) {
        if ((err = entry_new(&e, reader, writer, errstr, errstr_size)) != VTEV_ERR_OK)
            return err;
        e->next = t->res;
        t->res = e;
        if (++t->nres > RES_CACHE_MAX) {
            res_entry_t *x = t->res;
            while (x->next && x->next->next)
                x = x->next;
            entry_free(x->next);
            x->next = NULL;
            t->nres--;
        }
    }
    if ((err = vtev__scanner_check(e->scanner, buf, len, errstr, errstr_size)) != VTEV_ERR_OK)
        return err;
    avro_reader_memory_set_source(t->reader, buf, (int64_t)len);
    if (!e->resolver && *outp) { /* same schema: straight into the caller's value */
        if (avro_value_read(t->reader, *outp) != 0)
            return vtev__fail(VTEV_ERR_DECODE, errstr, errstr_size, "Avro data: %s", avro_strerror());
        return VTEV_ERR_OK;
    }
    if (avro_value_read(t->reader, &e->wvalue) != 0)
        return vtev__fail(VTEV_ERR_DECODE, errstr, errstr_size, "Avro data: %s", avro_strerror());
    if (!e->resolver) {
        *outp = &e->wvalue;
    } else if (!e->rclass) {
        *outp = &e->resolved;
    } else {
        avro_value_reset(&e->rvalue);
        if (copy_fill(&e->rvalue, &e->resolved, e->rjson, 0) != 0)
            return vtev__fail(VTEV_ERR_DECODE, errstr, errstr_size, "Avro data: %s", avro_strerror());
        *outp = &e->rvalue;
    }
    return VTEV_ERR_OK;
}

/* ---------------------------------------------------------------------- */
/* Public generic API.                                                     */

vtev_err_t vtev_avro_value_new(const vtev_schema_t *schema, avro_value_t *value) {
    avro_value_iface_t *cls;
    int rc;
    if (!schema || !value)
        return VTEV_ERR_INVALID_ARG;
    if (!(cls = avro_generic_class_from_schema(schema->avro)))
        return VTEV_ERR_NOMEM;
    rc = avro_generic_value_new(cls, value);
    avro_value_iface_decref(cls); /* the value keeps its own reference */
    return rc == 0 ? VTEV_ERR_OK : VTEV_ERR_NOMEM;
}

vtev_err_t vtev_avro_encode(avro_value_t *value, int32_t schema_id, void **bufp, size_t *lenp,
                            char *errstr, size_t errstr_size) {
    if (!value || !bufp)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, "NULL value or output");
    return vtev__avro_write(value, schema_id, bufp, lenp, errstr, errstr_size);
}

vtev_err_t vtev_avro_decode(const vtev_schema_t *reader, const vtev_schema_t *writer,
                            const void *avro, size_t len, avro_value_t *out, char *errstr,
                            size_t errstr_size) {
    avro_value_t *v;
    vtev_err_t err;
    if (!reader || !out || (!avro && len))
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, "NULL reader schema, input or output");
    if (!avro_schema_equal(avro_value_get_schema(out), reader->avro))
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "the output value is not an instance of the reader schema %s", reader->fullname);
    v = out; /* read into out directly when no resolution is needed */
    err = vtev__avro_decode_cached(reader, writer, avro, len, &v, errstr, errstr_size);
    if (err != VTEV_ERR_OK)
        return err;
    if (v == out)
        return VTEV_ERR_OK;
    avro_value_reset(out);
    if (avro_value_copy_fast(out, v) != 0)
        return vtev__fail(VTEV_ERR_DECODE, errstr, errstr_size, "Avro data: %s", avro_strerror());
    return VTEV_ERR_OK;
}

vtev_err_t vtev_avro_decode_framed(const vtev_schema_t *reader, const vtev_schema_t *writer,
                                   const void *buf, size_t len, int32_t *schema_idp,
                                   avro_value_t *out, char *errstr, size_t errstr_size) {
    const void *payload;
    size_t plen;
    int32_t id;
    vtev_err_t err = vtev_frame_parse(buf, len, &id, &payload, &plen, errstr, errstr_size);
    if (err != VTEV_ERR_OK)
        return err;
    if (schema_idp)
        *schema_idp = id;
    return vtev_avro_decode(reader, writer, payload, plen, out, errstr, errstr_size);
}
