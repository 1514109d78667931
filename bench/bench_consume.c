/*
 * bench_consume - consume throughput: the typed consumer (poll, unframe,
 * schema lookup, decode, validate, no-op handler, offset store) through the
 * 0.1 API (side "typed") and through the generated type
 * (vtev_consumer_subscribe_type: side "gen"), next to a plain
 * librdkafka consumer (poll, no decode) with the same group settings
 * (roundrobin, earliest, auto-commit every 1000 ms).
 *
 *   bench_consume [-t position|request|result] [-p partitions] [-n events]
 *                 [-r runs] [-s typed,gen,plain] [-T topic] [--fill-only|--no-fill]
 *                 [--fresh-ids]
 *
 * --fresh-ids: the fill gives every event a new event_id (UUID v4), as real
 * events have (see bench_publish).
 *
 * The topic (default bench-consume-<type>-p<P>-<pid>) is filled once with N
 * typed events; each run then reads the N events with a fresh consumer group.
 * Time runs from the first message to the N-th (group join excluded); runs
 * alternate the sides.
 */
#include "bench_common.h"
#include <librdkafka/rdkafka.h>
#include <vtevents/consumer.h>
#include <vtevents/producer.h>

static vtev_event_type_t type = VTEV_EVENT_POSITION;
static int partitions = 1;
static long n_events = 100000;
static int runs = 5;
static int do_typed = 1, do_plain = 1, do_gen = 1;
static int fresh_ids;
static char topic[256];

static void fill(void) {
    char e[512];
    vtev_conf_t *c = bc_conf();
    vtev_producer_t *p;
    vtev_event_t ev;
    long i;

    bc_event(&ev, type, "lng-001");
    if (!(p = vtev_producer_new(c, e, sizeof(e))))
        bc_die("vtev_producer_new: %s", e);
    for (i = 0; i < n_events; i++) {
        vtev_err_t err;
        char vid[32];
        snprintf(vid, sizeof(vid), "lng-%03ld", i % 500);
        memcpy(ev.u.env.vessel_id, vid, strlen(vid) + 1);
        if (fresh_ids)
            vtev_rt_uuid4(ev.u.env.event_id);
        while ((err = vtev_producer_publish_to(p, topic, &ev, NULL, e, sizeof(e))) ==
               VTEV_ERR_QUEUE_FULL)
            ;
        if (err)
            bc_die("publish: %s", e);
    }
    if (vtev_producer_flush(p, 120000))
        bc_die("fill: flush timed out");
    vtev_producer_destroy(p);
    vtev_event_clear(&ev);
}

typedef struct {
    long count;
    double t0, t1;
} counter_t;

static vtev_verdict_t on_event(vtev_consumer_t *c, const vtev_event_t *ev,
                               const vtev_msg_info_t *info, void *opaque) {
    counter_t *k = opaque;
    (void)ev;
    (void)info;
    if (k->count++ == 0)
        k->t0 = bc_now();
    if (k->count == n_events) {
        k->t1 = bc_now();
        vtev_consumer_stop(c);
    }
    return VTEV_VERDICT_OK;
}

static void report(const char *side, const counter_t *k, double bytes) {
    char kase[64];
    double secs = k->t1 - k->t0;
    snprintf(kase, sizeof(kase), "%s p=%d", bc_type_short(type), partitions);
    if (k->count < n_events || secs <= 0)
        bc_die("%s: only %ld of %ld events", side, k->count, n_events);
    bc_result("consume", kase, side, "eps", (double)(n_events - 1) / secs);
    bc_result("consume", kase, side, "MBps", (double)(n_events - 1) * bytes / secs / 1e6);
    bc_result("consume", kase, side, "bytes", bytes);
}

static double msg_bytes;

static void run_typed(int run) {
    char e[512], group[128];
    vtev_conf_t *c = bc_conf();
    vtev_consumer_t *cons;
    counter_t k = {0, 0, 0};

    snprintf(group, sizeof(group), "bench-consume-%d-%d-typed", (int)getpid(), run);
    bc_set(c, "group.id", group);
    if (!(cons = vtev_consumer_new(c, e, sizeof(e))))
        bc_die("vtev_consumer_new: %s", e);
    if (vtev_consumer_subscribe(cons, type, topic, on_event, &k, e, sizeof(e)))
        bc_die("subscribe: %s", e);
    if (vtev_consumer_run(cons, e, sizeof(e)))
        bc_die("run: %s", e);
    vtev_consumer_destroy(cons);
    report("typed", &k, msg_bytes);
}

static vtev_verdict_t on_gen(vtev_consumer_t *c, const vtev_type_t *t, const void *ev,
                             const vtev_msg_info_t *info, void *opaque) {
    (void)t;
    (void)ev;
    return on_event(c, NULL, info, opaque);
}

static void run_gen(int run) {
    char e[512], group[128];
    vtev_conf_t *c = bc_conf();
    vtev_consumer_t *cons;
    counter_t k = {0, 0, 0};
    snprintf(group, sizeof(group), "bench-consume-%d-%d-gen", (int)getpid(), run);
    bc_set(c, "group.id", group);
    if (!(cons = vtev_consumer_new(c, e, sizeof(e))))
        bc_die("vtev_consumer_new: %s", e);
    if (vtev_consumer_subscribe_type(cons, bc_gen_type(type), topic, on_gen, &k, e, sizeof(e)))
        bc_die("subscribe_type: %s", e);
    if (vtev_consumer_run(cons, e, sizeof(e)))
        bc_die("run: %s", e);
    vtev_consumer_destroy(cons);
    report("gen", &k, msg_bytes);
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

static void run_plain(int run) {
    char e[512], group[128];
    rd_kafka_conf_t *rc = rd_kafka_conf_new();
    rd_kafka_t *rk;
    rd_kafka_topic_partition_list_t *subs;
    counter_t k = {0, 0, 0};
    double bytes = 0;

    snprintf(group, sizeof(group), "bench-consume-%d-%d-plain", (int)getpid(), run);
    bc_plain_bootstrap(rc, kset_v);
    kset(rc, "group.id", group);
    kset(rc, "partition.assignment.strategy", "roundrobin");
    kset(rc, "auto.offset.reset", "earliest");
    kset(rc, "enable.auto.commit", "true");
    kset(rc, "auto.commit.interval.ms", "1000");
    if (!(rk = rd_kafka_new(RD_KAFKA_CONSUMER, rc, e, sizeof(e))))
        bc_die("rd_kafka_new: %s", e);
    rd_kafka_poll_set_consumer(rk);
    subs = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(subs, topic, RD_KAFKA_PARTITION_UA);
    if (rd_kafka_subscribe(rk, subs))
        bc_die("subscribe failed");
    rd_kafka_topic_partition_list_destroy(subs);
    while (k.count < n_events) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (!m->err) {
            if (k.count++ == 0)
                k.t0 = bc_now();
            bytes = (double)m->len;
            if (k.count == n_events)
                k.t1 = bc_now();
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    msg_bytes = bytes;
    report("plain", &k, bytes);
}

int main(int argc, char **argv) {
    int i, fill_only = 0, no_fill = 0;
    topic[0] = '\0';
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--fill-only"))
            fill_only = 1;
        else if (!strcmp(a, "--fresh-ids"))
            fresh_ids = 1;
        else if (!strcmp(a, "--no-fill"))
            no_fill = 1;
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
        else if (!strcmp(a, "-T"))
            snprintf(topic, sizeof(topic), "%s", v), i++;
        else if (!strcmp(a, "-s")) {
            do_typed = strstr(v, "typed") != NULL;
            do_plain = strstr(v, "plain") != NULL;
            do_gen = strstr(v, "gen") != NULL;
            i++;
        } else
            bc_die("unknown option %s", a);
    }
    if (n_events < 2)
        bc_die("-n must be at least 2");
    if (!topic[0])
        snprintf(topic, sizeof(topic), "bench-consume-%s-p%d-%d", bc_type_short(type),
                 partitions, (int)getpid());
    if (!no_fill) {
        bc_topic(topic, partitions);
        fill();
    }
    if (fill_only)
        return 0;
    {
        /* the framed size, for MB/s of the typed side */
        vtev_event_t ev;
        void *buf;
        size_t len;
        char e[256];
        bc_event(&ev, type, "lng-001");
        if (vtev_event_encode(&ev, 1, &buf, &len, e, sizeof(e)))
            bc_die("encode: %s", e);
        msg_bytes = (double)len;
        vtev_free(buf);
        vtev_event_clear(&ev);
    }
    for (i = 0; i < runs; i++) {
        /* the three sides in a rotating order: each starts a run in turn */
        int k;
        for (k = 0; k < 3; k++) {
            int side = (i + k) % 3;
            if (side == 0 && do_typed)
                run_typed(i);
            else if (side == 1 && do_plain)
                run_plain(i);
            else if (side == 2 && do_gen)
                run_gen(i);
        }
    }
    return 0;
}
