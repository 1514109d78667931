/*
 * bench_publish - publish throughput: typed publish (validate + encode + frame
 * + produce) through the 0.1 API (vtev_producer_publish: side "typed") and
 * through the generated type (vtev_producer_publish_type with the
 * vt-codegen descriptor: side "gen"), next to a plain librdkafka producer that
 * sends pre-encoded bytes of the same size, with the same key, headers and
 * librdkafka configuration (the library's defaults: idempotent, acks=all,
 * gzip, linger.ms=5, nagle off, murmur2_random).
 *
 *   bench_publish [-t position|request|result] [-p partitions] [-n events]
 *                 [-r runs] [-s typed,gen,plain] [--fresh-ids] [--json]
 *
 * --fresh-ids (side gen only): every event gets a new event_id (UUID v4), in
 * its bytes and its event_id header, as real events do; without it the same
 * event is sent N times, which a compressed batch shrinks unrealistically
 * well (bench.sh's observability part compares trace ids on and off with
 * it, since a random traceparent is the only changing part otherwise).
 *
 * Runs alternate the sides (odd runs start with plain). Each run: create a
 * producer, publish one warm-up event and flush (connection, schema
 * registration), then time N publishes + flush (every event acknowledged).
 * --json prints the sample event as JSON (for the Python benchmark) and exits.
 */
#include "bench_common.h"
#include <librdkafka/rdkafka.h>

static vtev_event_type_t type = VTEV_EVENT_POSITION;
static int partitions = 1;
static long n_events = 100000;
static int runs = 5;
static int do_typed = 1, do_plain = 1, do_gen = 1;
static int fresh_ids;
static char topic[256];

static void run_typed(const vtev_event_t *ev, int run, const char *kase) {
    char e[512];
    vtev_conf_t *c = bc_conf();
    vtev_producer_t *p;
    vtev_producer_stats_t st;
    double t0, t1;
    long i;
    size_t bytes;

    bc_set(c, bc_topic_key(type), topic);
    if (!(p = vtev_producer_new(c, e, sizeof(e))))
        bc_die("vtev_producer_new: %s", e);
    if (vtev_producer_publish(p, ev, NULL, e, sizeof(e)) || vtev_producer_flush(p, 30000))
        bc_die("warm-up publish: %s", e);
    t0 = bc_now();
    for (i = 0; i < n_events; i++) {
        vtev_err_t err;
        while ((err = vtev_producer_publish(p, ev, NULL, e, sizeof(e))) == VTEV_ERR_QUEUE_FULL)
            ;
        if (err)
            bc_die("publish: %s", e);
    }
    if (vtev_producer_flush(p, 120000))
        bc_die("flush timed out");
    t1 = bc_now();
    vtev_producer_stats(p, type, &st);
    if (st.failed)
        bc_die("%llu deliveries failed", (unsigned long long)st.failed);
    bytes = st.delivered ? (size_t)(st.bytes / st.delivered) : 0;
    bc_result("publish", kase, "typed", "eps", (double)n_events / (t1 - t0));
    bc_result("publish", kase, "typed", "MBps", (double)n_events * (double)bytes / (t1 - t0) / 1e6);
    bc_result("publish", kase, "typed", "bytes", (double)bytes);
    (void)run;
    vtev_producer_destroy(p);
}

/* The generated type's publish, with the same three headers as the others. */
static void run_gen(const vtev_event_t *ev, const void *gev, int run, const char *kase) {
    char e[512];
    const vtev_type_t *gt = bc_gen_type(type);
    vtev_conf_t *c = bc_conf();
    vtev_producer_t *p;
    vtev_producer_stats_t st;
    vtev_header_t h[3];
    size_t hn = 2;
    const char *corr = vtev_envelope_correlation_id(&ev->u.env);
    double t0, t1;
    long i;
    size_t bytes;

    h[0].name = "event_type";
    h[0].value = vtev_event_type_name(type);
    h[0].value_len = strlen(h[0].value);
    h[1].name = "event_id";
    h[1].value = ev->u.env.event_id;
    h[1].value_len = strlen(ev->u.env.event_id);
    if (corr) {
        h[2].name = "correlation_id";
        h[2].value = corr;
        h[2].value_len = strlen(corr);
        hn = 3;
    }
    if (!(p = vtev_producer_new(c, e, sizeof(e))))
        bc_die("vtev_producer_new: %s", e);
    if (vtev_producer_publish_type(p, gt, topic, gev, NULL, 0, h, hn, NULL, e, sizeof(e)) ||
        vtev_producer_flush(p, 30000))
        bc_die("warm-up publish: %s", e);
    t0 = bc_now();
    /* every generated event struct starts with its event_id (char *) */
    if (fresh_ids)
        h[1].value = *(char *const *)gev;
    for (i = 0; i < n_events; i++) {
        vtev_err_t err;
        if (fresh_ids)
            vtev_rt_uuid4(*(char **)gev); /* 36 characters, as the one there */
        while ((err = vtev_producer_publish_type(p, gt, topic, gev, NULL, 0, h, hn, NULL, e,
                                                 sizeof(e))) == VTEV_ERR_QUEUE_FULL)
            ;
        if (err)
            bc_die("publish_type: %s", e);
    }
    if (vtev_producer_flush(p, 120000))
        bc_die("flush timed out");
    t1 = bc_now();
    vtev_producer_stats(p, VTEV_EVENT_NONE, &st);
    if (st.failed)
        bc_die("%llu deliveries failed", (unsigned long long)st.failed);
    bytes = st.delivered ? (size_t)(st.bytes / st.delivered) : 0;
    bc_result("publish", kase, "gen", "eps", (double)n_events / (t1 - t0));
    bc_result("publish", kase, "gen", "MBps", (double)n_events * (double)bytes / (t1 - t0) / 1e6);
    bc_result("publish", kase, "gen", "bytes", (double)bytes);
    (void)run;
    vtev_producer_destroy(p);
}

static long plain_failed;
static void plain_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    (void)opaque;
    if (m->err)
        plain_failed++;
}

static void kset(rd_kafka_conf_t *rc, const char *k, const char *v) {
    char e[512];
    if (rd_kafka_conf_set(rc, k, v, e, sizeof(e)) != RD_KAFKA_CONF_OK)
        bc_die("%s: %s", k, e);
}

static int kset_v(void *rc, const char *k, const char *v) {
    kset(rc, k, v);
    return 0;
}

static void run_plain(const vtev_event_t *ev, const void *val, size_t len, int run,
                      const char *kase) {
    char e[512];
    rd_kafka_conf_t *rc = rd_kafka_conf_new();
    rd_kafka_t *rk;
    rd_kafka_headers_t *hdrs = rd_kafka_headers_new(3);
    const char *corr = vtev_envelope_correlation_id(&ev->u.env);
    const char *key = ev->u.env.vessel_id;
    double t0 = 0, t1;
    long i;

    /* The library's producer defaults (lib/producer.c), profile "default". */
    bc_plain_bootstrap(rc, kset_v);
    kset(rc, "enable.idempotence", "true");
    kset(rc, "acks", "all");
    kset(rc, "socket.nagle.disable", "true");
    kset(rc, "compression.codec", "gzip");
    kset(rc, "partitioner", "murmur2_random");
    kset(rc, "linger.ms", "5");
    rd_kafka_conf_set_dr_msg_cb(rc, plain_dr);
    if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, rc, e, sizeof(e))))
        bc_die("rd_kafka_new: %s", e);
    rd_kafka_header_add(hdrs, "event_type", -1, vtev_event_type_name(type), -1);
    rd_kafka_header_add(hdrs, "event_id", -1, ev->u.env.event_id, -1);
    if (corr)
        rd_kafka_header_add(hdrs, "correlation_id", -1, corr, -1);
    plain_failed = 0;
    for (i = -1; i < n_events; i++) {
        rd_kafka_resp_err_t err;
        if (i == 0) {
            if (rd_kafka_flush(rk, 30000))
                bc_die("warm-up flush timed out");
            t0 = bc_now();
        }
        for (;;) {
            err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_VALUE((void *)val, len),
                                    RD_KAFKA_V_KEY(key, strlen(key)),
                                    RD_KAFKA_V_HEADERS(rd_kafka_headers_copy(hdrs)),
                                    RD_KAFKA_V_END);
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                break;
            rd_kafka_poll(rk, 10);
        }
        if (err)
            bc_die("produce: %s", rd_kafka_err2str(err));
        rd_kafka_poll(rk, 0);
    }
    if (rd_kafka_flush(rk, 120000))
        bc_die("flush timed out");
    t1 = bc_now();
    if (plain_failed)
        bc_die("%ld deliveries failed", plain_failed);
    bc_result("publish", kase, "plain", "eps", (double)n_events / (t1 - t0));
    bc_result("publish", kase, "plain", "MBps", (double)n_events * (double)len / (t1 - t0) / 1e6);
    bc_result("publish", kase, "plain", "bytes", (double)len);
    (void)run;
    rd_kafka_headers_destroy(hdrs);
    rd_kafka_destroy(rk);
}

int main(int argc, char **argv) {
    vtev_event_t ev;
    void *val = NULL, *gev;
    size_t len = 0;
    char e[512], kase[64];
    int i, json = 0;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json"))
            json = 1;
        else if (!strcmp(a, "--fresh-ids"))
            fresh_ids = 1;
        else if (!v)
            bc_die("%s needs a value", a);
        else if (!strcmp(a, "-t"))
            type = bc_type_parse(v), i++;
        else if (!strcmp(a, "-p"))
            partitions = atoi(v), i++;
        else if (!strcmp(a, "-n"))
            n_events = atol(v), i++;
        else if (!strcmp(a, "-r"))
            runs = atoi(v), i++;
        else if (!strcmp(a, "-s")) {
            do_typed = strstr(v, "typed") != NULL;
            do_plain = strstr(v, "plain") != NULL;
            do_gen = strstr(v, "gen") != NULL;
            i++;
        } else
            bc_die("unknown option %s", a);
    }
    bc_event(&ev, type, "lng-001");
    if (json) {
        char *js;
        if (vtev_event_to_json(&ev, 0, &js, NULL))
            bc_die("to_json failed");
        printf("%s\n", js);
        vtev_free(js);
        vtev_event_clear(&ev);
        return 0;
    }
    /* Pre-encoded framed bytes for the plain side (schema id 1: same size). */
    if (vtev_event_encode(&ev, 1, &val, &len, e, sizeof(e)))
        bc_die("encode: %s", e);
    snprintf(topic, sizeof(topic), "bench-%s-p%d", bc_type_short(type), partitions);
    bc_topic(topic, partitions);
    snprintf(kase, sizeof(kase), "%s p=%d", bc_type_short(type), partitions);
    gev = calloc(1, bc_gen_type(type)->size);
    if (!gev)
        bc_die("out of memory");
    bc_gen_event(&ev, bc_gen_type(type), gev);
    for (i = 0; i < runs; i++) {
        /* the three sides in a rotating order: each starts a run in turn */
        int k;
        for (k = 0; k < 3; k++) {
            int side = (i + k) % 3;
            if (side == 0 && do_typed)
                run_typed(&ev, i, kase);
            else if (side == 1 && do_plain)
                run_plain(&ev, val, len, i, kase);
            else if (side == 2 && do_gen)
                run_gen(&ev, gev, i, kase);
        }
    }
    bc_gen_type(type)->clear(gev);
    free(gev);
    vtev_free(val);
    vtev_event_clear(&ev);
    return 0;
}
