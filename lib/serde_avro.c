/*
 * serde_avro.c - the generic Avro path: encode any avro_value_t (optionally
 * framed), decode bytes written with a writer schema into a reader schema
 * with a per-thread cache of resolvers and buffers so that the steady state
 * parses no schema and allocates nothing but the output buffer.
 *
 * When the writer schema has the reader's binary layout, the bytes are
 * bounds-checked (avro_scan.c) and read by avro-c directly.  Otherwise
 * avro_resolve.c turns them into the reader's bytes (Avro's resolution
 * rules, with limits), which avro-c then reads into a reader value.  A
 * set-up that fails is cached too, so a bad writer schema costs one attempt.
 * The resolver cache is the library's LRU map (lru.h), one per thread.
 */
#include "avro_resolve.h"
#include "event_int.h"
#include "internal.h"
#include "lru.h"

#include <vtevents/serde_avro.h>

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SCRATCH_INITIAL 4096
#define SCRATCH_MAX ((size_t)256 * 1024 * 1024)
#define RES_CACHE_MAX 32

/* ---------------------------------------------------------------------- */
/* Per-thread state.                                                       */

/* The resolver cache's key: the pair of schemas and the limits the set-up
 * was made with. */
typedef struct {
    uint64_t wuid, ruid;
    int32_t max_depth, max_types;
} res_key_t;

typedef struct res_entry_s {
    vtev_err_t err;                 /* a failed set-up (cached), with its message */
    char *errmsg;
    vtev__scanner_t *scanner;       /* identity: bounds check for the writer's bytes */
    vtev__resolver_t *resolver;     /* otherwise: writer bytes -> reader bytes */
    avro_value_iface_t *rclass;     /* a reader value the result is read into */
    avro_value_t rvalue;
} res_entry_t;

typedef struct tls_s {
    struct tls_s *prev, *next; /* all live thread states (keeps them reachable) */
    avro_reader_t reader;
    avro_writer_t writer;
    char *scratch;
    size_t scratch_size;
    vtev__lru_t *res; /* res_key_t -> res_entry_t * */
    avro_value_iface_t *enc_class[4];
    avro_value_t enc_value[4];
    vtev__abuf_t resolved;    /* the reader's bytes of the last resolved datum */
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
    vtev__resolver_destroy(e->resolver);
    vtev__scanner_destroy(e->scanner);
    free(e->errmsg);
    free(e);
}

static void res_value_free(void *v) {
    entry_free(*(res_entry_t **)v);
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
    vtev__lru_destroy(t->res);
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
    free(t->resolved.data);
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
        !(t->res = vtev__lru_new(RES_CACHE_MAX, sizeof(res_entry_t *), res_value_free)) ||
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
            return vtev__fail(VTEV_ERR_ENCODE, errstr, errstr_size,
                              "Avro encoding: avro-c cannot write the value (a value outside its schema, "
                              "or out of memory)");
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

/* Sets up the decoding of writer's bytes as reader.  A failure is kept in
 * the entry (err, errmsg) and returned by every decode with this pair. */
static res_entry_t *entry_new(const vtev_schema_t *reader, const vtev_schema_t *writer,
                              const vtev__avro_limits_t *lim) {
    res_entry_t *e = calloc(1, sizeof(*e));
    char msg[512] = "";
    if (!e)
        return NULL;
    if (writer->uid == reader->uid) {
        if (!(e->scanner = vtev__scanner_new(writer->avro)))
            goto nomem;
        return e;
    }
    e->err = vtev__resolver_new(writer->json, reader->json, VTEV__RESOLVE_DECODE, lim, &e->resolver, msg,
                                sizeof(msg));
    if (e->err != VTEV_ERR_OK) {
        if (e->err == VTEV_ERR_NOMEM) {
            entry_free(e);
            return NULL;
        }
        if (!(e->errmsg = strdup(msg)))
            goto nomem;
        return e;
    }
    if (vtev__resolver_is_identity(e->resolver)) { /* same bytes: no resolution needed */
        vtev__resolver_destroy(e->resolver);
        e->resolver = NULL;
        if (!(e->scanner = vtev__scanner_new(reader->avro)))
            goto nomem;
        return e;
    }
    if (!(e->rclass = avro_generic_class_from_schema(reader->avro)))
        goto nomem;
    if (avro_generic_value_new(e->rclass, &e->rvalue) != 0) {
        avro_value_iface_decref(e->rclass);
        e->rclass = NULL;
        goto nomem;
    }
    return e;
nomem:
    entry_free(e);
    return NULL;
}

vtev_err_t vtev__avro_decode_cached(const vtev_schema_t *reader, const vtev_schema_t *writer,
                                    const void *buf, size_t len, const vtev__avro_limits_t *lim,
                                    avro_value_t **outp, char *errstr, size_t errstr_size) {
    tls_t *t = tls_get();
    res_entry_t *e, **slot;
    res_key_t key;
    vtev__avro_limits_t dl;
    avro_value_t *dst;
    vtev_err_t err;
    if (!t)
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
    if (!lim) {
        vtev__avro_limits_default(&dl);
        lim = &dl;
    }
    if (!writer)
        writer = reader;
    if (len > lim->max_bytes)
        return vtev__fail(VTEV_ERR_LIMIT, errstr, errstr_size, "Avro data: %zu bytes over avro.max.bytes (%zu)",
                          len, lim->max_bytes);
    memset(&key, 0, sizeof(key));
    key.wuid = writer->uid;
    key.ruid = reader->uid;
    key.max_depth = lim->max_depth;
    key.max_types = lim->max_types;
    if ((slot = vtev__lru_get(t->res, &key, sizeof(key)))) {
        e = *slot;
    } else {
        if (!(e = entry_new(reader, writer, lim)))
            return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
        if (!vtev__lru_put(t->res, &key, sizeof(key), &e)) { /* evicts the least recently used */
            entry_free(e);
            return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
    }
    if (e->err != VTEV_ERR_OK)
        return vtev__fail(e->err, errstr, errstr_size, "%s", e->errmsg);
    if (e->scanner) {
        if ((err = vtev__scanner_check(e->scanner, buf, len, errstr, errstr_size)) != VTEV_ERR_OK)
            return err;
        avro_reader_memory_set_source(t->reader, buf, (int64_t)len);
    } else {
        if ((err = vtev__resolver_run(e->resolver, buf, len, lim, &t->resolved, errstr, errstr_size)) !=
            VTEV_ERR_OK)
            return err;
        avro_reader_memory_set_source(t->reader, (const char *)t->resolved.data, (int64_t)t->resolved.len);
    }
    /* The reader's bytes now: into the caller's value when given. */
    dst = *outp ? *outp : &e->rvalue;
    if (!*outp && !e->rclass) {
        if (!(e->rclass = avro_generic_class_from_schema(reader->avro)))
            return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
        if (avro_generic_value_new(e->rclass, &e->rvalue) != 0) {
            avro_value_iface_decref(e->rclass);
            e->rclass = NULL;
            return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
    }
    if (avro_value_read(t->reader, dst) != 0)
        return vtev__fail(VTEV_ERR_DECODE, errstr, errstr_size,
                          "Avro data: avro-c cannot read the checked bytes (out of memory?)");
    *outp = dst;
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
    v = out; /* the reader's bytes are read into out itself */
    err = vtev__avro_decode_cached(reader, writer, avro ? avro : "", len, NULL, &v, errstr, errstr_size);
    return err;
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
