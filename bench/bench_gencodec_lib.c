/*
 * bench_gencodec_lib.c - the "library" side of bench_gencodec: the event
 * layer's current codec (vtev_event_encode / vtev_event_decode, lib/codec.c,
 * avro-c's generic value API underneath) on the fixtures of bench_common.h.
 */
#include "bench_common.h"
#include "bench_gencodec.h"

static vtev_event_t g_ev[4];
static int g_ready[4];

static volatile unsigned g_sink;

static vtev_event_t *fixture(int type) {
    if (type < VTEV_EVENT_POSITION || type > VTEV_EVENT_RESULT)
        bc_die("gencodec: event type %d", type);
    if (!g_ready[type]) {
        bc_event(&g_ev[type], (vtev_event_type_t)type, "lng-001");
        g_ready[type] = 1;
    }
    return &g_ev[type];
}

void *gcl_fixture(int type, size_t *len) {
    void *buf, *copy;
    char e[256];
    if (vtev_event_encode(fixture(type), -1, &buf, len, e, sizeof(e)) != VTEV_ERR_OK)
        bc_die("vtev_event_encode: %s", e);
    if (!(copy = malloc(*len)))
        bc_die("out of memory");
    memcpy(copy, buf, *len);
    vtev_free(buf);
    return copy;
}

double gcl_encode(int type, long n) {
    const vtev_event_t *ev = fixture(type);
    double t0 = bc_now();
    long i;
    for (i = 0; i < n; i++) {
        void *buf;
        size_t len;
        if (vtev_event_encode(ev, -1, &buf, &len, NULL, 0) != VTEV_ERR_OK)
            bc_die("vtev_event_encode failed");
        g_sink += ((unsigned char *)buf)[len - 1];
        vtev_free(buf);
    }
    return bc_now() - t0;
}

double gcl_decode(int type, const void *bytes, size_t len, long n) {
    double t0 = bc_now();
    long i;
    for (i = 0; i < n; i++) {
        vtev_event_t ev;
        char e[256];
        if (vtev_event_decode(&ev, (vtev_event_type_t)type, NULL, bytes, len, e, sizeof(e)) != VTEV_ERR_OK)
            bc_die("vtev_event_decode: %s", e);
        g_sink += (unsigned)ev.u.env.timestamp_us;
        vtev_event_clear(&ev);
    }
    return bc_now() - t0;
}

void gcl_done(void) {
    int t;
    for (t = 0; t < 4; t++)
        if (g_ready[t]) {
            vtev_event_clear(&g_ev[t]);
            g_ready[t] = 0;
        }
}
