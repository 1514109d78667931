/*
 * bench_hostile.c - what a hostile writer schema costs one decode: time per
 * message and peak RSS, for the cases of the [defects] report:
 *   wide-115  the position schema plus an array of records of 10,000 null
 *             fields; a ~115-byte message with 1,000 such items
 *   wide-2k   the same schema; a ~2 KB message of 1,000 one-item blocks
 *   wide5k-115 as wide-115 with 5,000 null fields (under the type limit)
 *   types-20k a writer schema with 20,000 named records
 * Only the public API is used, so the same binary runs against another
 * build of the library (LD_LIBRARY_PATH) for a before/after comparison.
 * Usage: bench_hostile CASE [ITERATIONS]   (one case per process: peak RSS)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <vtevents/vtevents.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t put_long(unsigned char *p, int64_t v) {
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 0;
    while (z >= 0x80) {
        p[n++] = (unsigned char)(z | 0x80);
        z >>= 7;
    }
    p[n++] = (unsigned char)z;
    return n;
}

/* The position schema with one more top-level field (extra: JSON type). */
static char *with_extra_field(const char *extra) {
    const char *pos = vtev_schema_json(vtev_event_schema(VTEV_EVENT_POSITION));
    const char *end = strrchr(pos, ']');
    size_t n = (size_t)(end - pos), cap = strlen(pos) + strlen(extra) + 64;
    char *s = malloc(cap);
    memcpy(s, pos, n);
    snprintf(s + n, cap - n, ",{\"name\":\"extra\",\"type\":%s}%s", extra, end);
    return s;
}

static char *wide_type(int nfields) {
    size_t cap = (size_t)nfields * 40 + 256, n = 0;
    char *s = malloc(cap);
    int i;
    n += (size_t)snprintf(s + n, cap - n, "{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"W\",\"fields\":[");
    for (i = 0; i < nfields; i++)
        n += (size_t)snprintf(s + n, cap - n, "%s{\"name\":\"n%d\",\"type\":\"null\"}", i ? "," : "", i);
    snprintf(s + n, cap - n, "]}}");
    return s;
}

static char *many_types(int nrec) {
    size_t cap = (size_t)nrec * 80 + 256, n = 0;
    char *s = malloc(cap);
    int i;
    /* an array of records with nrec fields, each of its own (empty) record type */
    n += (size_t)snprintf(s + n, cap - n, "{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"M\",\"fields\":[");
    for (i = 0; i < nrec; i++)
        n += (size_t)snprintf(s + n, cap - n, "%s{\"name\":\"f%d\",\"type\":{\"type\":\"record\",\"name\":\"T%d\",\"fields\":[]}}",
                              i ? "," : "", i, i);
    snprintf(s + n, cap - n, "]}}");
    return s;
}

int main(int argc, char **argv) {
    const char *which = argc > 1 ? argv[1] : "wide-115";
    int iters = argc > 2 ? atoi(argv[2]) : 20;
    char err[512] = "", *schema_json, *type;
    vtev_schema_t *ws;
    vtev_event_t ev;
    void *enc = NULL;
    size_t enc_len = 0, len, k;
    unsigned char *msg;
    double t0, t1;
    struct rusage ru;
    vtev_err_t rc = VTEV_ERR_OK;
    int i;
    if (!strcmp(which, "types-20k"))
        type = many_types(20000);
    else if (!strncmp(which, "wide5k", 6))
        type = wide_type(5000); /* under avro.max.schema.types: avro.max.values applies */
    else
        type = wide_type(10000);
    schema_json = with_extra_field(type);
    t0 = now_s();
    ws = vtev_schema_new(schema_json, strlen(schema_json), err, sizeof(err));
    t1 = now_s();
    if (!ws) {
        printf("%s: writer schema refused by vtev_schema_new (%.1f ms): %s\n", which, (t1 - t0) * 1e3, err);
        return 0;
    }
    vtev_position_init(&ev.u.position);
    ev.type = VTEV_EVENT_POSITION;
    vtev_event_encode(&ev, -1, &enc, &enc_len, err, sizeof(err));
    vtev_event_clear(&ev);
    msg = malloc(enc_len + 4096);
    memcpy(msg, enc, enc_len);
    len = enc_len;
    vtev_free(enc);
    if (!strcmp(which, "wide-115") || !strcmp(which, "wide5k-115")) {
        len += put_long(msg + len, 1000);
        msg[len++] = 0;
    } else if (!strcmp(which, "wide-2k")) {
        for (k = 0; k < 1000; k++)
            len += put_long(msg + len, 1);
        msg[len++] = 0;
    } else { /* types-20k: one item (its records have no fields: no bytes) */
        len += put_long(msg + len, 1);
        msg[len++] = 0;
    }
    /* the first decode sets up (and caches) the resolution; then the steady state */
    t0 = now_s();
    rc = vtev_event_decode(&ev, VTEV_EVENT_POSITION, ws, msg, len, err, sizeof(err));
    if (rc == VTEV_ERR_OK)
        vtev_event_clear(&ev);
    t1 = now_s();
    printf("%-10s first message %.1f ms\n", which, (t1 - t0) * 1e3);
    t0 = now_s();
    for (i = 0; i < iters; i++) {
        rc = vtev_event_decode(&ev, VTEV_EVENT_POSITION, ws, msg, len, err, sizeof(err));
        if (rc == VTEV_ERR_OK)
            vtev_event_clear(&ev);
    }
    t1 = now_s();
    getrusage(RUSAGE_SELF, &ru);
    printf("%-10s %5zu B  %-12s %10.3f ms/msg  peak RSS %6.1f MB  (%s)\n", which, len, vtev_err2str(rc) ? vtev_err2str(rc) : "?",
           (t1 - t0) * 1e3 / iters, (double)ru.ru_maxrss / 1024.0, rc ? err : "decoded");
    vtev_schema_destroy(ws);
    free(msg);
    free(schema_json);
    free(type);
    return 0;
}
