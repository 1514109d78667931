/*
 * bench_gencodec.c - nanoseconds per encode and per decode of the code
 * vt-codegen generates (schemas/avro, prefix vtev) against avro-c's generic
 * value API on the same struct, and against the library's current codec,
 * for each platform event.  One process, the sides take turns (the order
 * rotates every round), median of the rounds.
 *
 *   bench_gencodec [-n ITERATIONS] [-r ROUNDS] [-e position|request|result]
 *
 * -n: operations per side and round (200000), -r: rounds (11), -e: only
 * that event (scripts/bench.sh profiles one event at a time with callgrind).
 *
 * Sides (each encodes into a buffer it reuses, each decode frees what it made):
 *   generated  the descriptor's encode / decode + clear (vtev_X_type.encode,
 *              .decode, .clear: bytes straight from and into the struct);
 *   avro-c     what a user of avro-c writes for that same generated struct:
 *              one generic value and one memory writer reused for every
 *              record, the value filled from the struct field by field (by
 *              index), avro_value_write(); decoding: avro_value_read() into a
 *              reused generic value, then every field read out into the
 *              struct (strings and map entries allocated as the generated
 *              decoder does), then the struct cleared;
 *   library    vtev_event_encode / vtev_event_decode + vtev_event_clear on the
 *              library's own event struct (lib/codec.c: avro-c's generic
 *              values, a per-thread cached value; encode returns a malloc'd
 *              buffer).
 * Before timing, every side's bytes are checked equal, and the avro-c
 * read-out is checked to give the struct the generated decoder gives.
 *
 * Output: one line per round and side,
 *   R<TAB>gencodec<TAB><event> <op><TAB><side><TAB>ns_op<TAB><value>
 * plus the encoded size (metric "bytes"), then a summary on stderr.
 */
#include <avro.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vtevents/avro_direct.h>
#include <vtevents/type.h>

#include "bench_gencodec.h"
#include "prediction_analysis_completed.h"
#include "prediction_analysis_requested.h"
#include "vessel_position_updated.h"

#define MAX_ROUNDS 101

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *detail) {
    fprintf(stderr, "bench_gencodec: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

/* ---------------------------------------------------------------------- */
/* avro-c: fill a generic value from the generated struct                  */

static int s_str(avro_value_t *r, size_t i, const char *s) {
    avro_value_t f;
    return avro_value_get_by_index(r, i, &f, NULL) || avro_value_set_string(&f, s ? s : "");
}
static int s_dbl(avro_value_t *r, size_t i, double d) {
    avro_value_t f;
    return avro_value_get_by_index(r, i, &f, NULL) || avro_value_set_double(&f, d);
}
static int s_long(avro_value_t *r, size_t i, int64_t l) {
    avro_value_t f;
    return avro_value_get_by_index(r, i, &f, NULL) || avro_value_set_long(&f, l);
}
static int s_snapshot(avro_value_t *r, const vtev_vessel_snapshot_t *s) {
    return s_dbl(r, 0, s->lat) || s_dbl(r, 1, s->lon) || s_dbl(r, 2, s->speed) || s_dbl(r, 3, s->heading) ||
           s_str(r, 4, s->status);
}

/* The three schemas' metadata maps are distinct C types of the same shape. */
#define FILL_META(rec, idx, md)                                                                \
    do {                                                                                       \
        avro_value_t map_;                                                                     \
        size_t i_, n_;                                                                         \
        if (avro_value_get_by_index(rec, idx, &map_, NULL) || avro_value_get_size(&map_, &n_)) \
            return -1;                                                                         \
        if (n_ && avro_value_reset(&map_))                                                     \
            return -1;                                                                         \
        for (i_ = 0; i_ < (md)->len; i_++) {                                                   \
            avro_value_t el_, br_;                                                             \
            const char *k_ = (md)->entries[i_].key;                                            \
            int rc_;                                                                           \
            if (avro_value_add(&map_, k_ ? k_ : "", &el_, NULL, NULL) ||                       \
                avro_value_set_branch(&el_, (int)(md)->entries[i_].value.which, &br_))         \
                return -1;                                                                     \
            switch ((int)(md)->entries[i_].value.which) {                                      \
            case 0: rc_ = avro_value_set_null(&br_); break;                                    \
            case 1: {                                                                          \
                const char *s_ = (md)->entries[i_].value.u.v_string;                           \
                rc_ = avro_value_set_string(&br_, s_ ? s_ : "");                               \
                break;                                                                         \
            }                                                                                  \
            case 2: rc_ = avro_value_set_long(&br_, (md)->entries[i_].value.u.v_long); break;  \
            case 3: rc_ = avro_value_set_double(&br_, (md)->entries[i_].value.u.v_double); break; \
            case 4: rc_ = avro_value_set_boolean(&br_, (md)->entries[i_].value.u.v_boolean); break; \
            default: rc_ = -1; break;                                                          \
            }                                                                                  \
            if (rc_)                                                                           \
                return -1;                                                                     \
        }                                                                                      \
    } while (0)

static int fill_position(avro_value_t *root, const void *p) {
    const vtev_vessel_position_updated_t *ev = (const vtev_vessel_position_updated_t *)p;
    avro_value_t data;
    if (s_str(root, 0, ev->event_id) || s_str(root, 1, ev->event_type) || s_long(root, 2, ev->timestamp) ||
        s_str(root, 3, ev->vessel_id) || avro_value_get_by_index(root, 4, &data, NULL))
        return -1;
    if (s_dbl(&data, 0, ev->data.lat) || s_dbl(&data, 1, ev->data.lon) || s_dbl(&data, 2, ev->data.speed) ||
        s_dbl(&data, 3, ev->data.heading) || s_str(&data, 4, ev->data.status))
        return -1;
    FILL_META(root, 5, &ev->metadata);
    return 0;
}

static int fill_request(avro_value_t *root, const void *p) {
    const vtev_prediction_analysis_requested_t *ev = (const vtev_prediction_analysis_requested_t *)p;
    avro_value_t data, sub, br;
    if (s_str(root, 0, ev->event_id) || s_str(root, 1, ev->event_type) || s_long(root, 2, ev->timestamp) ||
        s_str(root, 3, ev->vessel_id) || s_str(root, 4, ev->request_id) ||
        avro_value_get_by_index(root, 5, &data, NULL))
        return -1;
    if (avro_value_get_by_index(&data, 0, &sub, NULL) || s_snapshot(&sub, &ev->data.vessel_snapshot))
        return -1;
    if (avro_value_get_by_index(&data, 1, &sub, NULL))
        return -1;
    if (ev->data.has_terminal_filter) {
        if (avro_value_set_branch(&sub, 1, &br) || avro_value_set_long(&br, ev->data.terminal_filter))
            return -1;
    } else if (avro_value_set_branch(&sub, 0, &br) || avro_value_set_null(&br)) {
        return -1;
    }
    if (avro_value_get_by_index(&data, 2, &sub, NULL) || avro_value_set_enum(&sub, (int)ev->data.priority))
        return -1;
    FILL_META(root, 6, &ev->metadata);
    return 0;
}

static int fill_result(avro_value_t *root, const void *p) {
    const vtev_prediction_analysis_completed_t *ev = (const vtev_prediction_analysis_completed_t *)p;
    const vtev_prediction_result_data_t *d = &ev->data;
    avro_value_t data, sub, br;
    if (s_str(root, 0, ev->event_id) || s_str(root, 1, ev->event_type) || s_long(root, 2, ev->timestamp) ||
        s_str(root, 3, ev->vessel_id) || s_str(root, 4, ev->request_id) ||
        avro_value_get_by_index(root, 5, &data, NULL))
        return -1;
    if (s_str(&data, 0, d->prediction_id) || s_long(&data, 1, d->terminal_id) ||
        s_str(&data, 2, d->terminal_name) || s_dbl(&data, 3, d->confidence_score) ||
        avro_value_get_by_index(&data, 4, &sub, NULL))
        return -1;
    if (s_dbl(&sub, 0, d->scores.proximity) || s_dbl(&sub, 1, d->scores.speed) ||
        s_dbl(&sub, 2, d->scores.heading) || s_dbl(&sub, 3, d->scores.rag_boost) ||
        s_dbl(&sub, 4, d->scores.ai_adjustment) || s_dbl(&data, 5, d->distance_km) ||
        avro_value_get_by_index(&data, 6, &sub, NULL))
        return -1;
    if (d->has_eta_hours) {
        if (avro_value_set_branch(&sub, 1, &br) || avro_value_set_double(&br, d->eta_hours))
            return -1;
    } else if (avro_value_set_branch(&sub, 0, &br) || avro_value_set_null(&br)) {
        return -1;
    }
    if (s_str(&data, 7, d->ai_reasoning) || avro_value_get_by_index(&data, 8, &sub, NULL) ||
        s_snapshot(&sub, &d->vessel_snapshot))
        return -1;
    FILL_META(root, 6, &ev->metadata);
    return 0;
}

/* ---------------------------------------------------------------------- */
/* avro-c: read a generic value out into the generated struct              */

/* avro-c's sizes count the NUL; "" becomes NULL as in the generated decoder. */
static int dup_str(char **d, const char *s, size_t size) {
    *d = NULL;
    if (size <= 1)
        return 0;
    if (!(*d = (char *)malloc(size)))
        return -1;
    memcpy(*d, s, size - 1);
    (*d)[size - 1] = '\0';
    return 0;
}
static int g_str(avro_value_t *r, size_t i, char **d) {
    avro_value_t f;
    const char *s;
    size_t size;
    return avro_value_get_by_index(r, i, &f, NULL) || avro_value_get_string(&f, &s, &size) || dup_str(d, s, size);
}
static int g_dbl(avro_value_t *r, size_t i, double *d) {
    avro_value_t f;
    return avro_value_get_by_index(r, i, &f, NULL) || avro_value_get_double(&f, d);
}
static int g_long(avro_value_t *r, size_t i, int64_t *l) {
    avro_value_t f;
    return avro_value_get_by_index(r, i, &f, NULL) || avro_value_get_long(&f, l);
}
static int g_snapshot(avro_value_t *r, vtev_vessel_snapshot_t *s) {
    return g_dbl(r, 0, &s->lat) || g_dbl(r, 1, &s->lon) || g_dbl(r, 2, &s->speed) || g_dbl(r, 3, &s->heading) ||
           g_str(r, 4, &s->status);
}
/* An optional field ["null", T]: whether it is set, and its branch. */
static int g_opt(avro_value_t *r, size_t i, bool *has, avro_value_t *br) {
    avro_value_t f;
    int disc;
    if (avro_value_get_by_index(r, i, &f, NULL) || avro_value_get_discriminant(&f, &disc) ||
        avro_value_get_current_branch(&f, br))
        return -1;
    *has = disc == 1;
    return 0;
}

#define READ_META(rec, idx, md, ENTRY_T, WHICH_T)                                                 \
    do {                                                                                          \
        avro_value_t map_;                                                                        \
        size_t i_, n_;                                                                            \
        if (avro_value_get_by_index(rec, idx, &map_, NULL) || avro_value_get_size(&map_, &n_))    \
            return -1;                                                                            \
        if (n_ && !((md)->entries = (ENTRY_T *)calloc(n_, sizeof(ENTRY_T))))                      \
            return -1;                                                                            \
        for (i_ = 0; i_ < n_; i_++) {                                                             \
            ENTRY_T *e_ = &(md)->entries[i_];                                                     \
            avro_value_t el_, br_;                                                                \
            const char *k_, *s_;                                                                  \
            size_t sz_;                                                                           \
            int disc_, b_, rc_;                                                                   \
            (md)->len = i_ + 1;                                                                   \
            if (avro_value_get_by_index(&map_, i_, &el_, &k_) ||                                  \
                avro_value_get_discriminant(&el_, &disc_) ||                                      \
                avro_value_get_current_branch(&el_, &br_) || dup_str(&e_->key, k_, strlen(k_) + 1)) \
                return -1;                                                                        \
            switch (disc_) {                                                                      \
            case 0: rc_ = 0; break;                                                               \
            case 1:                                                                               \
                rc_ = avro_value_get_string(&br_, &s_, &sz_) || dup_str(&e_->value.u.v_string, s_, sz_); \
                break;                                                                            \
            case 2: rc_ = avro_value_get_long(&br_, &e_->value.u.v_long); break;                  \
            case 3: rc_ = avro_value_get_double(&br_, &e_->value.u.v_double); break;              \
            case 4:                                                                               \
                rc_ = avro_value_get_boolean(&br_, &b_);                                          \
                e_->value.u.v_boolean = b_ != 0;                                                  \
                break;                                                                            \
            default: rc_ = -1; break;                                                             \
            }                                                                                     \
            if (rc_)                                                                              \
                return -1;                                                                        \
            /* which is set last: clear() frees v_string only once it is the branch */           \
            e_->value.which = (WHICH_T)disc_;                                                     \
        }                                                                                         \
    } while (0)

static int read_position(avro_value_t *root, void *p) {
    vtev_vessel_position_updated_t *ev = (vtev_vessel_position_updated_t *)p;
    avro_value_t data;
    memset(ev, 0, sizeof(*ev));
    if (g_str(root, 0, &ev->event_id) || g_str(root, 1, &ev->event_type) || g_long(root, 2, &ev->timestamp) ||
        g_str(root, 3, &ev->vessel_id) || avro_value_get_by_index(root, 4, &data, NULL))
        return -1;
    if (g_dbl(&data, 0, &ev->data.lat) || g_dbl(&data, 1, &ev->data.lon) || g_dbl(&data, 2, &ev->data.speed) ||
        g_dbl(&data, 3, &ev->data.heading) || g_str(&data, 4, &ev->data.status))
        return -1;
    READ_META(root, 5, &ev->metadata, vtev_vessel_position_updated_metadata_entry_t,
              vtev_vessel_position_updated_metadata_value_branch_t);
    return 0;
}

static int read_request(avro_value_t *root, void *p) {
    vtev_prediction_analysis_requested_t *ev = (vtev_prediction_analysis_requested_t *)p;
    avro_value_t data, sub, br;
    int prio;
    memset(ev, 0, sizeof(*ev));
    if (g_str(root, 0, &ev->event_id) || g_str(root, 1, &ev->event_type) || g_long(root, 2, &ev->timestamp) ||
        g_str(root, 3, &ev->vessel_id) || g_str(root, 4, &ev->request_id) ||
        avro_value_get_by_index(root, 5, &data, NULL))
        return -1;
    if (avro_value_get_by_index(&data, 0, &sub, NULL) || g_snapshot(&sub, &ev->data.vessel_snapshot) ||
        g_opt(&data, 1, &ev->data.has_terminal_filter, &br))
        return -1;
    if (ev->data.has_terminal_filter && avro_value_get_long(&br, &ev->data.terminal_filter))
        return -1;
    if (avro_value_get_by_index(&data, 2, &sub, NULL) || avro_value_get_enum(&sub, &prio) || prio < 0 || prio > 2)
        return -1;
    ev->data.priority = (vtev_request_priority_t)prio;
    READ_META(root, 6, &ev->metadata, vtev_prediction_analysis_requested_metadata_entry_t,
              vtev_prediction_analysis_requested_metadata_value_branch_t);
    return 0;
}

static int read_result(avro_value_t *root, void *p) {
    vtev_prediction_analysis_completed_t *ev = (vtev_prediction_analysis_completed_t *)p;
    vtev_prediction_result_data_t *d = &ev->data;
    avro_value_t data, sub, br;
    memset(ev, 0, sizeof(*ev));
    if (g_str(root, 0, &ev->event_id) || g_str(root, 1, &ev->event_type) || g_long(root, 2, &ev->timestamp) ||
        g_str(root, 3, &ev->vessel_id) || g_str(root, 4, &ev->request_id) ||
        avro_value_get_by_index(root, 5, &data, NULL))
        return -1;
    if (g_str(&data, 0, &d->prediction_id) || g_long(&data, 1, &d->terminal_id) ||
        g_str(&data, 2, &d->terminal_name) || g_dbl(&data, 3, &d->confidence_score) ||
        avro_value_get_by_index(&data, 4, &sub, NULL))
        return -1;
    if (g_dbl(&sub, 0, &d->scores.proximity) || g_dbl(&sub, 1, &d->scores.speed) ||
        g_dbl(&sub, 2, &d->scores.heading) || g_dbl(&sub, 3, &d->scores.rag_boost) ||
        g_dbl(&sub, 4, &d->scores.ai_adjustment) || g_dbl(&data, 5, &d->distance_km) ||
        g_opt(&data, 6, &d->has_eta_hours, &br))
        return -1;
    if (d->has_eta_hours && avro_value_get_double(&br, &d->eta_hours))
        return -1;
    if (g_str(&data, 7, &d->ai_reasoning) || avro_value_get_by_index(&data, 8, &sub, NULL) ||
        g_snapshot(&sub, &d->vessel_snapshot))
        return -1;
    READ_META(root, 6, &ev->metadata, vtev_prediction_analysis_completed_metadata_entry_t,
              vtev_prediction_analysis_completed_metadata_value_branch_t);
    return 0;
}

/* ---------------------------------------------------------------------- */
/* The sides                                                               */

typedef struct gc_event_s {
    const char *short_name; /* -e */
    int lib_type;           /* vtev_event_type_t of the library */
    const vtev_type_t *gt;
    int (*fill)(avro_value_t *root, const void *ev);
    int (*read)(avro_value_t *root, void *ev);
} gc_event_t;

static const gc_event_t EVENTS[] = {
    {"position", 1, &vtev_vessel_position_updated_type, fill_position, read_position},
    {"request", 2, &vtev_prediction_analysis_requested_type, fill_request, read_request},
    {"result", 3, &vtev_prediction_analysis_completed_type, fill_result, read_result},
};

typedef struct gc_ctx_s {
    const gc_event_t *e;
    void *ev;              /* the generated struct with the fixture's contents */
    void *tmp;             /* decode target */
    const unsigned char *bytes;
    size_t len;
    vtev_buf_t buf;        /* generated encoder output, reused */
    avro_value_iface_t *cls;
    avro_value_t root;     /* encode */
    avro_value_t droot;    /* decode */
    avro_writer_t w;
    avro_reader_t r;
    char scratch[16384];
} gc_ctx_t;

static volatile unsigned sink;

static double gen_encode(gc_ctx_t *c, long n) {
    double t0 = now_s();
    long i;
    for (i = 0; i < n; i++) {
        c->buf.len = 0;
        if (c->e->gt->encode(c->ev, &c->buf, NULL, 0) != VTEV_ERR_OK)
            die("generated encode failed", NULL);
        sink += c->buf.data[c->buf.len - 1];
    }
    return now_s() - t0;
}

static double gen_decode(gc_ctx_t *c, long n) {
    double t0 = now_s();
    long i;
    for (i = 0; i < n; i++) {
        if (c->e->gt->decode(c->tmp, c->bytes, c->len, NULL, 0) != VTEV_ERR_OK)
            die("generated decode failed", NULL);
        sink += *(const unsigned char *)c->tmp;
        c->e->gt->clear(c->tmp);
    }
    return now_s() - t0;
}

static double avro_encode(gc_ctx_t *c, long n) {
    double t0 = now_s();
    long i;
    for (i = 0; i < n; i++) {
        int64_t len;
        if (c->e->fill(&c->root, c->ev))
            die("filling the generic value failed", avro_strerror());
        avro_writer_memory_set_dest(c->w, c->scratch, (int64_t)sizeof(c->scratch));
        if (avro_value_write(c->w, &c->root))
            die("avro_value_write", avro_strerror());
        len = avro_writer_tell(c->w);
        sink += (unsigned char)c->scratch[len - 1];
    }
    return now_s() - t0;
}

static double avro_decode(gc_ctx_t *c, long n) {
    double t0 = now_s();
    long i;
    for (i = 0; i < n; i++) {
        avro_reader_memory_set_source(c->r, (const char *)c->bytes, (int64_t)c->len);
        if (avro_value_read(c->r, &c->droot))
            die("avro_value_read", avro_strerror());
        if (c->e->read(&c->droot, c->tmp))
            die("reading the generic value failed", avro_strerror());
        sink += *(const unsigned char *)c->tmp;
        c->e->gt->clear(c->tmp);
    }
    return now_s() - t0;
}

static double lib_encode(gc_ctx_t *c, long n) {
    return gcl_encode(c->e->lib_type, n);
}

static double lib_decode(gc_ctx_t *c, long n) {
    return gcl_decode(c->e->lib_type, c->bytes, c->len, n);
}

enum { SIDE_GEN, SIDE_AVRO, SIDE_LIB, NSIDES };
static const char *const SIDE_NAME[NSIDES] = {"generated", "avro-c", "library"};
static double (*const ENCODE[NSIDES])(gc_ctx_t *, long) = {gen_encode, avro_encode, lib_encode};
static double (*const DECODE[NSIDES])(gc_ctx_t *, long) = {gen_decode, avro_decode, lib_decode};

/* ---------------------------------------------------------------------- */
/* Checks before timing                                                    */

static void same_bytes(const char *who, const void *a, size_t alen, const gc_ctx_t *c) {
    if (alen != c->len || memcmp(a, c->bytes, alen) != 0) {
        fprintf(stderr, "bench_gencodec: %s: %s wrote %zu bytes that differ from the library's %zu\n",
                c->e->gt->full_name, who, alen, c->len);
        exit(1);
    }
}

static void check(gc_ctx_t *c) {
    char e[256];
    char *j1 = NULL, *j2 = NULL;
    /* the generated decoder reads the library's bytes: that is the fixture */
    if (c->e->gt->decode(c->ev, c->bytes, c->len, e, sizeof(e)) != VTEV_ERR_OK)
        die("the generated decoder refuses the library's bytes", e);
    if (c->e->gt->validate(c->ev, e, sizeof(e)) != VTEV_ERR_OK)
        die("the fixture is not valid", e);
    /* generated, avro-c and library encoders agree */
    c->buf.len = 0;
    if (c->e->gt->encode(c->ev, &c->buf, e, sizeof(e)) != VTEV_ERR_OK)
        die("generated encode", e);
    same_bytes("the generated encoder", c->buf.data, c->buf.len, c);
    if (c->e->fill(&c->root, c->ev))
        die("filling the generic value", avro_strerror());
    avro_writer_memory_set_dest(c->w, c->scratch, (int64_t)sizeof(c->scratch));
    if (avro_value_write(c->w, &c->root))
        die("avro_value_write", avro_strerror());
    same_bytes("avro-c", c->scratch, (size_t)avro_writer_tell(c->w), c);
    /* the avro-c read-out gives what the generated decoder gives */
    avro_reader_memory_set_source(c->r, (const char *)c->bytes, (int64_t)c->len);
    if (avro_value_read(c->r, &c->droot) || c->e->read(&c->droot, c->tmp))
        die("avro-c decode", avro_strerror());
    if (c->e->gt->to_json(c->ev, 0, &j1, NULL) != VTEV_ERR_OK ||
        c->e->gt->to_json(c->tmp, 0, &j2, NULL) != VTEV_ERR_OK || strcmp(j1, j2) != 0)
        die("the avro-c read-out differs from the generated decoder's", j2);
    free(j1);
    free(j2);
    c->e->gt->clear(c->tmp);
    gcl_decode(c->e->lib_type, c->bytes, c->len, 1);
}

/* ---------------------------------------------------------------------- */

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *v, int n) {
    double s[MAX_ROUNDS];
    memcpy(s, v, (size_t)n * sizeof(*v));
    qsort(s, (size_t)n, sizeof(*s), cmp_dbl);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static void usage(void) {
    fprintf(stderr, "usage: bench_gencodec [-n ITERATIONS] [-r ROUNDS (1-%d)] [-e position|request|result]\n",
            MAX_ROUNDS);
    exit(2);
}

int main(int argc, char **argv) {
    long iters = 200000;
    int rounds = 11, i;
    const char *only = NULL;
    size_t k;
    double summary[3][2][NSIDES];
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc)
            iters = atol(argv[++i]);
        else if (!strcmp(argv[i], "-r") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-e") && i + 1 < argc)
            only = argv[++i];
        else
            usage();
    }
    if (rounds < 1 || rounds > MAX_ROUNDS || iters < 1)
        usage();
    if (only) {
        for (k = 0; k < sizeof(EVENTS) / sizeof(EVENTS[0]) && strcmp(EVENTS[k].short_name, only); k++)
            ;
        if (k == sizeof(EVENTS) / sizeof(EVENTS[0]))
            usage();
    }
    fprintf(stderr, "bench_gencodec: %ld per round, median of %d rounds (ns/op; ratios: how many times faster)\n",
            iters, rounds);
    fprintf(stderr, "%-32s %6s %10s %10s %10s %12s %12s\n", "event", "op", "generated", "avro-c", "library",
            "avro-c/gen", "library/gen");
    for (k = 0; k < sizeof(EVENTS) / sizeof(EVENTS[0]); k++) {
        gc_ctx_t *c;
        const char *name;
        double ns[2][NSIDES][MAX_ROUNDS];
        avro_schema_t schema;
        int op, s;
        char kase[2][128];
        if (only && strcmp(EVENTS[k].short_name, only))
            continue;
        if (!(c = (gc_ctx_t *)calloc(1, sizeof(*c))))
            die("out of memory", NULL);
        c->e = &EVENTS[k];
        if (!(c->ev = calloc(1, c->e->gt->size)) || !(c->tmp = calloc(1, c->e->gt->size)))
            die("out of memory", NULL);
        c->bytes = (const unsigned char *)gcl_fixture(c->e->lib_type, &c->len);
        if (avro_schema_from_json_length(c->e->gt->canonical_json, strlen(c->e->gt->canonical_json), &schema))
            die("avro-c refuses the schema", avro_strerror());
        if (!(c->cls = avro_generic_class_from_schema(schema)) || avro_generic_value_new(c->cls, &c->root) ||
            avro_generic_value_new(c->cls, &c->droot))
            die("avro-c generic value", avro_strerror());
        avro_schema_decref(schema);
        c->w = avro_writer_memory(c->scratch, sizeof(c->scratch));
        c->r = avro_reader_memory(c->scratch, 0);
        if (!c->w || !c->r)
            die("out of memory", NULL);
        check(c);
        /* event_type holds the stream's name, e.g. "vessel.position.updated" */
        name = ((const vtev_vessel_position_updated_t *)c->ev)->event_type;
        snprintf(kase[0], sizeof(kase[0]), "%s encode", name);
        snprintf(kase[1], sizeof(kase[1]), "%s decode", name);
        printf("R\tgencodec\t%s\tgenerated\tbytes\t%zu\n", kase[0], c->len);
        for (s = 0; s < NSIDES; s++) { /* warm-up */
            ENCODE[s](c, iters / 10 + 1);
            DECODE[s](c, iters / 10 + 1);
        }
        for (i = 0; i < rounds; i++) {
            for (op = 0; op < 2; op++) {
                int j;
                for (j = 0; j < NSIDES; j++) {
                    s = (i + j) % NSIDES; /* the order rotates every round */
                    ns[op][s][i] = (op ? DECODE : ENCODE)[s](c, iters) * 1e9 / (double)iters;
                }
            }
            for (op = 0; op < 2; op++)
                for (s = 0; s < NSIDES; s++)
                    printf("R\tgencodec\t%s\t%s\tns_op\t%.2f\n", kase[op], SIDE_NAME[s], ns[op][s][i]);
            fflush(stdout);
        }
        for (op = 0; op < 2; op++)
            for (s = 0; s < NSIDES; s++)
                summary[k][op][s] = median(ns[op][s], rounds);
        for (op = 0; op < 2; op++)
            fprintf(stderr, "%-32s %6s %10.1f %10.1f %10.1f %11.2fx %11.2fx\n", op ? "" : name,
                    op ? "decode" : "encode", summary[k][op][SIDE_GEN], summary[k][op][SIDE_AVRO],
                    summary[k][op][SIDE_LIB], summary[k][op][SIDE_AVRO] / summary[k][op][SIDE_GEN],
                    summary[k][op][SIDE_LIB] / summary[k][op][SIDE_GEN]);
        c->e->gt->clear(c->ev);
        free(c->ev);
        free(c->tmp);
        free((void *)c->bytes);
        vtev_buf_free(&c->buf);
        avro_reader_free(c->r);
        avro_writer_free(c->w);
        avro_value_decref(&c->root);
        avro_value_decref(&c->droot);
        avro_value_iface_decref(c->cls);
        free(c);
    }
    gcl_done();
    return 0;
}
