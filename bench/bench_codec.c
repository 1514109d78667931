/*
 * bench_codec.c - events per second of the typed codec against plain avro-c
 * generic encoding/decoding of the same records, in the same process,
 * alternating, median of several runs.
 *
 *   bench_codec [-n ITERATIONS] [-r RUNS]
 *
 * "avro-c" is the best a careful avro-c user does by hand: one generic value
 * and one memory writer reused for every record, fields set by index, the
 * output copied into a fresh malloc'd buffer (what vtev_event_encode returns).
 * Decoding: one memory reader and one generic value reused, every field read
 * out of the value (the typed decode copies them into the struct).
 */
#include <avro.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vtevents/serde_avro.h>
#include <vtevents/vtevents.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what) {
    fprintf(stderr, "bench_codec: %s\n", what);
    exit(1);
}

/* ---- sample events ---------------------------------------------------- */

static void state(vtev_vessel_state_t *s) {
    s->lat = 29.76;
    s->lon = -95.37;
    s->speed = 12.5;
    s->heading = 275.0;
    snprintf(s->status, sizeof(s->status), "underway");
}

static void sample(vtev_event_t *ev, vtev_event_type_t t) {
    vtev_metadata_t *md;
    if (vtev_event_init(ev, t) != VTEV_ERR_OK)
        die("init");
    snprintf(ev->u.env.vessel_id, sizeof(ev->u.env.vessel_id), "lng-001");
    md = vtev_envelope_metadata(&ev->u.env);
    vtev_metadata_set_string(md, "correlation_id", "c0ffee00-1234");
    vtev_metadata_set_string(md, "source", "ais");
    if (t == VTEV_EVENT_POSITION) {
        state(&ev->u.position.data);
    } else if (t == VTEV_EVENT_REQUEST) {
        state(&ev->u.request.data.vessel_snapshot);
        ev->u.request.data.has_terminal_filter = true;
        ev->u.request.data.terminal_filter = 4;
        vtev_metadata_set_string(md, "triggered_by", "position-threshold");
    } else {
        vtev_result_data_t *d = &ev->u.result.data;
        snprintf(ev->u.result.request_id, sizeof(ev->u.result.request_id), "req-0a1b2c3d");
        snprintf(d->prediction_id, sizeof(d->prediction_id), "pred-0001");
        d->terminal_id = 12;
        snprintf(d->terminal_name, sizeof(d->terminal_name), "Sabine Pass LNG");
        d->confidence_score = 0.87;
        d->scores.proximity = 0.9;
        d->scores.speed = 0.7;
        d->scores.heading = 0.8;
        d->scores.rag_boost = 0.1;
        d->scores.ai_adjustment = -0.05;
        d->distance_km = 14.2;
        d->has_eta_hours = true;
        d->eta_hours = 1.5;
        snprintf(d->ai_reasoning, sizeof(d->ai_reasoning),
                 "The vessel is 14 km from the terminal, heading towards it at 12.5 knots; "
                 "historical arrivals of LNG carriers of this class agree.");
        state(&d->vessel_snapshot);
        vtev_metadata_set_int(md, "processing_time_ms", 42);
        vtev_metadata_set_string(md, "model_version", "v1.2.0");
    }
}

/* ---- plain avro-c: fill a generic value by hand ------------------------ */

static void s_str(avro_value_t *r, size_t i, const char *s) {
    avro_value_t f;
    avro_value_get_by_index(r, i, &f, NULL);
    avro_value_set_string(&f, s);
}
static void s_dbl(avro_value_t *r, size_t i, double d) {
    avro_value_t f;
    avro_value_get_by_index(r, i, &f, NULL);
    avro_value_set_double(&f, d);
}
static void s_long(avro_value_t *r, size_t i, int64_t l) {
    avro_value_t f;
    avro_value_get_by_index(r, i, &f, NULL);
    avro_value_set_long(&f, l);
}
static void s_state(avro_value_t *r, const vtev_vessel_state_t *s) {
    s_dbl(r, 0, s->lat);
    s_dbl(r, 1, s->lon);
    s_dbl(r, 2, s->speed);
    s_dbl(r, 3, s->heading);
    s_str(r, 4, s->status);
}
static void s_meta(avro_value_t *map, const vtev_metadata_t *md) {
    size_t i, n;
    avro_value_get_size(map, &n);
    if (n)
        avro_value_reset(map);
    for (i = 0; i < vtev_metadata_count(md); i++) {
        vtev_meta_value_t v;
        const char *k = vtev_metadata_entry(md, i, &v);
        avro_value_t el, br;
        avro_value_add(map, k, &el, NULL, NULL);
        if (v.type == VTEV_META_STRING) {
            avro_value_set_branch(&el, 1, &br);
            avro_value_set_string(&br, v.s);
        } else {
            avro_value_set_branch(&el, 2, &br);
            avro_value_set_long(&br, v.i);
        }
    }
}

static void fill_plain(avro_value_t *root, const vtev_event_t *ev) {
    avro_value_t data, sub, br;
    const vtev_envelope_t *env = &ev->u.env;
    s_str(root, 0, env->event_id);
    s_str(root, 1, vtev_event_type_name(ev->type));
    s_long(root, 2, env->timestamp_us);
    s_str(root, 3, env->vessel_id);
    if (ev->type == VTEV_EVENT_POSITION) {
        avro_value_get_by_index(root, 4, &data, NULL);
        s_state(&data, &ev->u.position.data);
        avro_value_get_by_index(root, 5, &sub, NULL);
        s_meta(&sub, env->metadata);
    } else if (ev->type == VTEV_EVENT_REQUEST) {
        const vtev_request_data_t *d = &ev->u.request.data;
        s_str(root, 4, ev->u.request.request_id);
        avro_value_get_by_index(root, 5, &data, NULL);
        avro_value_get_by_index(&data, 0, &sub, NULL);
        s_state(&sub, &d->vessel_snapshot);
        avro_value_get_by_index(&data, 1, &sub, NULL);
        avro_value_set_branch(&sub, 1, &br);
        avro_value_set_long(&br, d->terminal_filter);
        avro_value_get_by_index(&data, 2, &sub, NULL);
        avro_value_set_enum(&sub, (int)d->priority);
        avro_value_get_by_index(root, 6, &sub, NULL);
        s_meta(&sub, env->metadata);
    } else {
        const vtev_result_data_t *d = &ev->u.result.data;
        s_str(root, 4, ev->u.result.request_id);
        avro_value_get_by_index(root, 5, &data, NULL);
        s_str(&data, 0, d->prediction_id);
        s_long(&data, 1, d->terminal_id);
        s_str(&data, 2, d->terminal_name);
        s_dbl(&data, 3, d->confidence_score);
        avro_value_get_by_index(&data, 4, &sub, NULL);
        s_dbl(&sub, 0, d->scores.proximity);
        s_dbl(&sub, 1, d->scores.speed);
        s_dbl(&sub, 2, d->scores.heading);
        s_dbl(&sub, 3, d->scores.rag_boost);
        s_dbl(&sub, 4, d->scores.ai_adjustment);
        s_dbl(&data, 5, d->distance_km);
        avro_value_get_by_index(&data, 6, &sub, NULL);
        avro_value_set_branch(&sub, 1, &br);
        avro_value_set_double(&br, d->eta_hours);
        s_str(&data, 7, d->ai_reasoning);
        avro_value_get_by_index(&data, 8, &sub, NULL);
        s_state(&sub, &d->vessel_snapshot);
        avro_value_get_by_index(root, 6, &sub, NULL);
        s_meta(&sub, env->metadata);
    }
}

/* Reads every leaf of a value (what extracting the fields costs). */
static double touch(avro_value_t *v) {
    double acc = 0;
    size_t i, n;
    switch (avro_value_get_type(v)) {
    case AVRO_RECORD:
    case AVRO_MAP:
        avro_value_get_size(v, &n);
        for (i = 0; i < n; i++) {
            avro_value_t c;
            const char *k = NULL;
            avro_value_get_by_index(v, i, &c, &k);
            acc += touch(&c) + (k ? (double)k[0] : 0);
        }
        return acc;
    case AVRO_UNION: {
        avro_value_t b;
        avro_value_get_current_branch(v, &b);
        return touch(&b);
    }
    case AVRO_STRING: {
        const char *s;
        size_t sz;
        char tmp[VTEV_TEXT_MAX + 1];
        avro_value_get_string(v, &s, &sz);
        memcpy(tmp, s, sz < sizeof(tmp) ? sz : sizeof(tmp));
        return (double)tmp[0] + (double)sz;
    }
    case AVRO_DOUBLE: {
        double d;
        avro_value_get_double(v, &d);
        return d;
    }
    case AVRO_INT64: {
        int64_t l;
        avro_value_get_long(v, &l);
        return (double)l;
    }
    case AVRO_ENUM: {
        int e;
        avro_value_get_enum(v, &e);
        return e;
    }
    case AVRO_BOOLEAN: {
        int b;
        avro_value_get_boolean(v, &b);
        return b;
    }
    default:
        return 0;
    }
}

/* ---- the runs ---------------------------------------------------------- */

static volatile double sink;

static double run_ours_encode(const vtev_event_t *ev, long n) {
    double t0 = now_s();
    long i;
    for (i = 0; i < n; i++) {
        void *buf;
        size_t len;
        if (vtev_event_encode(ev, 1, &buf, &len, NULL, 0) != VTEV_ERR_OK)
            die("encode");
        sink += ((unsigned char *)buf)[len - 1];
        vtev_free(buf);
    }
    return (double)n / (now_s() - t0);
}

static double run_plain_encode(const vtev_event_t *ev, avro_value_t *root, avro_writer_t w, char *scratch,
                               size_t scratch_size, long n) {
    double t0 = now_s();
    long i;
    for (i = 0; i < n; i++) {
        size_t len;
        unsigned char *out;
        fill_plain(root, ev);
        avro_writer_memory_set_dest(w, scratch, (int64_t)scratch_size);
        if (avro_value_write(w, root) != 0)
            die("avro_value_write");
        len = (size_t)avro_writer_tell(w);
        if (!(out = malloc(len + 5)))
            die("malloc");
        vtev_frame_write_header(out, 1);
        memcpy(out + 5, scratch, len);
        sink += out[len + 4];
        free(out);
    }
    return (double)n / (now_s() - t0);
}

static double run_ours_decode(vtev_event_type_t t, const void *buf, size_t len, long n) {
    double t0 = now_s();
    long i;
    for (i = 0; i < n; i++) {
        vtev_event_t ev;
        if (vtev_event_decode(&ev, t, NULL, buf, len, NULL, 0) != VTEV_ERR_OK)
            die("decode");
        sink += ev.u.env.timestamp_us;
        vtev_event_clear(&ev);
    }
    return (double)n / (now_s() - t0);
}

static double run_plain_decode(avro_value_t *root, avro_reader_t r, const void *buf, size_t len, long n) {
    double t0 = now_s();
    long i;
    for (i = 0; i < n; i++) {
        avro_reader_memory_set_source(r, buf, (int64_t)len);
        if (avro_value_read(r, root) != 0)
            die("avro_value_read");
        sink += touch(root);
    }
    return (double)n / (now_s() - t0);
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof(*v), cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv) {
    long iters = 200000;
    int runs = 7, i, t;
    for (i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "-n"))
            iters = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "-r"))
            runs = atoi(argv[i + 1]);
    }
    if (runs < 1 || runs > 101 || iters < 1)
        die("usage: bench_codec [-n ITERATIONS] [-r RUNS]");
    printf("bench_codec: %ld events per run, median of %d runs, alternating (events/s, higher is better)\n",
           iters, runs);
    printf("%-32s %8s %14s %14s %7s\n", "event", "op", "vtevents", "avro-c", "ratio");
    for (t = VTEV_EVENT_POSITION; t <= VTEV_EVENT_RESULT; t++) {
        vtev_event_t ev;
        avro_value_iface_t *cls;
        avro_value_t root;
        avro_writer_t w;
        avro_reader_t r;
        char scratch[16384];
        double oe[101], pe[101], od[101], pd[101];
        void *enc;
        size_t enclen;
        sample(&ev, (vtev_event_type_t)t);
        cls = avro_generic_class_from_schema(vtev_schema_avro(vtev_event_schema((vtev_event_type_t)t)));
        if (!cls || avro_generic_value_new(cls, &root) != 0)
            die("avro value");
        w = avro_writer_memory(scratch, sizeof(scratch));
        r = avro_reader_memory(scratch, 0);
        if (vtev_event_encode(&ev, -1, &enc, &enclen, NULL, 0) != VTEV_ERR_OK)
            die("encode");
        /* both encoders produce the same bytes */
        fill_plain(&root, &ev);
        avro_writer_memory_set_dest(w, scratch, sizeof(scratch));
        avro_value_write(w, &root);
        if ((size_t)avro_writer_tell(w) != enclen || memcmp(scratch, enc, enclen) != 0)
            die("the two encoders disagree");
        /* warm-up */
        run_ours_encode(&ev, iters / 10 + 1);
        run_plain_encode(&ev, &root, w, scratch, sizeof(scratch), iters / 10 + 1);
        run_ours_decode((vtev_event_type_t)t, enc, enclen, iters / 10 + 1);
        run_plain_decode(&root, r, enc, enclen, iters / 10 + 1);
        for (i = 0; i < runs; i++) {
            oe[i] = run_ours_encode(&ev, iters);
            pe[i] = run_plain_encode(&ev, &root, w, scratch, sizeof(scratch), iters);
            od[i] = run_ours_decode((vtev_event_type_t)t, enc, enclen, iters);
            pd[i] = run_plain_decode(&root, r, enc, enclen, iters);
        }
        {
            double a = median(oe, runs), b = median(pe, runs), c = median(od, runs), d = median(pd, runs);
            printf("%-32s %8s %14.0f %14.0f %6.2fx\n", vtev_event_type_name((vtev_event_type_t)t), "encode", a, b,
                   a / b);
            printf("%-32s %8s %14.0f %14.0f %6.2fx\n", "", "decode", c, d, c / d);
            printf("%-32s %8s %14zu\n", "", "bytes", enclen);
        }
        vtev_free(enc);
        avro_reader_free(r);
        avro_writer_free(w);
        avro_value_decref(&root);
        avro_value_iface_decref(cls);
        vtev_event_clear(&ev);
    }
    return 0;
}
