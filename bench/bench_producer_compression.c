/*
 * bench_producer_compression.c - which compression codec for the platform's
 * producers?  Publishes the same realistic mix of framed Avro events (1/3
 * positions, requests, results) with each librdkafka codec to a real broker,
 * on topics with compression.type=gzip (the platform's setting) and
 * compression.type=producer, with the library's producer defaults
 * (idempotence, acks=all, linger.ms=5).  Reports per run: events/s until
 * every delivery report arrived, producer CPU per event, bytes on the wire
 * per event (librdkafka statistics), broker CPU per event when
 * VTEV_BENCH_BROKER_PID names the Kafka process, and the topic's log size
 * on disk when VTEV_BENCH_LOG_DIR names the broker's log.dirs.
 *
 * usage: producer_compression BOOTSTRAP [EVENTS]
 */
#include <dirent.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <vtevents/vtevents.h>

static int64_t tx_bytes;

static int stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque) {
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je), *v;
    (void)rk;
    (void)opaque;
    if (root && (v = json_object_get(root, "tx_bytes")))
        tx_bytes = json_integer_value(v);
    json_decref(root);
    return 0;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double broker_cpu_s(void) {
    const char *pid = getenv("VTEV_BENCH_BROKER_PID");
    char path[64], buf[4096], *p;
    unsigned long ut = 0, st = 0;
    FILE *fp;
    size_t n;
    int i;
    if (!pid)
        return -1;
    snprintf(path, sizeof(path), "/proc/%s/stat", pid);
    if (!(fp = fopen(path, "r")))
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    if (!(p = strrchr(buf, ')')))
        return -1;
    /* fields after ")": state(3) ... utime(14) stime(15) */
    for (i = 3, p += 2; i < 14 && p; i++)
        p = strchr(p, ' ') ? strchr(p, ' ') + 1 : NULL;
    if (!p || sscanf(p, "%lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static long long dir_bytes(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *de;
    long long sum = 0;
    if (!d)
        return -1;
    while ((de = readdir(d))) {
        char p[1400];
        struct stat st;
        if (!strstr(de->d_name, ".log"))
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        if (!stat(p, &st))
            sum += (long long)st.st_size;
    }
    closedir(d);
    return sum;
}

static long long topic_disk_bytes(const char *topic, int parts) {
    const char *ld = getenv("VTEV_BENCH_LOG_DIR");
    long long sum = 0;
    int i;
    if (!ld)
        return -1;
    for (i = 0; i < parts; i++) {
        char d[1024];
        long long b;
        snprintf(d, sizeof(d), "%s/%s-%d", ld, topic, i);
        if ((b = dir_bytes(d)) < 0)
            return -1;
        sum += b;
    }
    return sum;
}

static void create_topic(rd_kafka_t *rk, const char *topic, int parts, const char *ctype) {
    char e[256];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, parts, 1, e, sizeof(e));
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_event_t *ev;
    rd_kafka_NewTopic_set_config(nt, "compression.type", ctype);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    ev = rd_kafka_queue_poll(q, 30000);
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
}

static void make_event(vtev_event_t *ev, int i) {
    char vessel[32];
    vtev_event_type_t t = (vtev_event_type_t)(1 + i % 3);
    vtev_metadata_t *md;
    char corr[48];
    vtev_event_init(ev, t);
    snprintf(vessel, sizeof(vessel), "IMO9%06d", (i * 7919) % 400);
    snprintf(ev->u.env.vessel_id, sizeof(ev->u.env.vessel_id), "%s", vessel);
    md = vtev_envelope_metadata(&ev->u.env);
    snprintf(corr, sizeof(corr), "corr-%08x", (unsigned)i * 2654435761u);
    vtev_metadata_set_string(md, "correlation_id", corr);
    vtev_metadata_set_string(md, "source", i % 2 ? "ais-gateway" : "prediction-worker");
    vtev_vessel_state_t *s = t == VTEV_EVENT_POSITION  ? &ev->u.position.data
                             : t == VTEV_EVENT_REQUEST ? &ev->u.request.data.vessel_snapshot
                                                       : &ev->u.result.data.vessel_snapshot;
    s->lat = 51.9 + (double)((i * 31) % 1000) / 3333.0;
    s->lon = 4.0 + (double)((i * 17) % 1000) / 2777.0;
    s->speed = (double)((i * 13) % 220) / 10.0;
    s->heading = (double)((i * 37) % 3600) / 10.0;
    snprintf(s->status, sizeof(s->status), "%s", i % 5 ? "underway" : "moored");
    if (t == VTEV_EVENT_REQUEST) {
        ev->u.request.data.priority = (vtev_priority_t)(i % 3);
    } else if (t == VTEV_EVENT_RESULT) {
        vtev_result_data_t *d = &ev->u.result.data;
        snprintf(ev->u.result.request_id, sizeof(ev->u.result.request_id), "req-%08x",
                 (unsigned)i * 40503u);
        snprintf(d->prediction_id, sizeof(d->prediction_id), "pred-%08x", (unsigned)i * 7u);
        d->terminal_id = 1 + i % 12;
        snprintf(d->terminal_name, sizeof(d->terminal_name), "Terminal %d", 1 + i % 12);
        d->confidence_score = (double)(i % 100) / 100.0;
        d->scores.proximity = 0.5;
        d->scores.speed = 0.25;
        d->scores.heading = 0.75;
        d->scores.rag_boost = 0.1;
        d->scores.ai_adjustment = 0.05;
        d->distance_km = (double)(i % 500) / 7.0;
        d->has_eta_hours = true;
        d->eta_hours = (double)(i % 48) / 3.0;
        snprintf(d->ai_reasoning, sizeof(d->ai_reasoning),
                 "The vessel is %.1f km from terminal %d at %.1f knots on heading %.0f. "
                 "Historical calls of this vessel class favour this terminal; berth "
                 "availability confirmed for the estimated arrival window.",
                 d->distance_km, 1 + i % 12, s->speed, s->heading);
    }
}

int main(int argc, char **argv) {
    static const char *codecs[] = {"none", "gzip", "snappy", "lz4", "zstd"};
    static const char *ctypes[] = {"gzip", "producer"};
    const char *bs = argc > 1 ? argv[1] : getenv("KAFKA_BOOTSTRAP_SERVERS");
    int n = argc > 2 ? atoi(argv[2]) : 60000;
    void **bufs;
    size_t *lens, total_raw = 0;
    char **keys;
    int i, ci, ti;
    if (!bs) {
        fprintf(stderr, "usage: %s BOOTSTRAP [EVENTS]\n", argv[0]);
        return 2;
    }
    bufs = calloc((size_t)n, sizeof(*bufs));
    lens = calloc((size_t)n, sizeof(*lens));
    keys = calloc((size_t)n, sizeof(*keys));
    for (i = 0; i < n; i++) {
        vtev_event_t ev;
        char e[256];
        make_event(&ev, i);
        if (vtev_event_encode(&ev, 1 + i % 3, &bufs[i], &lens[i], e, sizeof(e))) {
            fprintf(stderr, "encode: %s\n", e);
            return 1;
        }
        keys[i] = strdup(ev.u.env.vessel_id);
        total_raw += lens[i];
        vtev_event_clear(&ev);
    }
    printf("events: %d, mean framed Avro size %.1f bytes\n", n, (double)total_raw / n);
    printf("%-9s %-6s %10s %12s %12s %12s %12s\n", "topic", "codec", "events/s", "prod us/ev",
           "wire B/ev", "broker us/ev", "disk B/ev");
    for (ti = 0; ti < 2; ti++) {
        for (ci = 0; ci < 5; ci++) {
            char e[512], topic[128];
            rd_kafka_conf_t *c = rd_kafka_conf_new();
            rd_kafka_t *rk;
            double t0, c0, b0, t1, c1, b1;
            snprintf(topic, sizeof(topic), "bench-compr-%s-%s-%d", ctypes[ti], codecs[ci],
                     (int)getpid());
            rd_kafka_conf_set(c, "bootstrap.servers", bs, e, sizeof(e));
            rd_kafka_conf_set(c, "enable.idempotence", "true", e, sizeof(e));
            rd_kafka_conf_set(c, "acks", "all", e, sizeof(e));
            rd_kafka_conf_set(c, "linger.ms", "5", e, sizeof(e));
            rd_kafka_conf_set(c, "socket.nagle.disable", "true", e, sizeof(e));
            rd_kafka_conf_set(c, "partitioner", "murmur2_random", e, sizeof(e));
            rd_kafka_conf_set(c, "compression.codec", codecs[ci], e, sizeof(e));
            rd_kafka_conf_set(c, "queue.buffering.max.messages", "1000000", e, sizeof(e));
            rd_kafka_conf_set(c, "statistics.interval.ms", "100", e, sizeof(e));
            rd_kafka_conf_set_stats_cb(c, stats_cb);
            rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, e, sizeof(e));
            if (!rk) {
                fprintf(stderr, "%s\n", e);
                return 1;
            }
            create_topic(rk, topic, 3, ctypes[ti]);
            /* warm: metadata, producer id */
            rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(bufs[0], lens[0]),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            rd_kafka_flush(rk, 30000);
            rd_kafka_poll(rk, 300);
            tx_bytes = 0;
            rd_kafka_poll(rk, 250);
            {
                int64_t tx0 = tx_bytes;
                t0 = now_s();
                c0 = cpu_s();
                b0 = broker_cpu_s();
                for (i = 0; i < n; i++) {
                    rd_kafka_resp_err_t err;
                    while ((err = rd_kafka_producev(
                                rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(bufs[i], lens[i]),
                                RD_KAFKA_V_KEY(keys[i], strlen(keys[i])),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
                           RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        rd_kafka_poll(rk, 5);
                    rd_kafka_poll(rk, 0);
                }
                rd_kafka_flush(rk, 60000);
                t1 = now_s();
                c1 = cpu_s();
                b1 = broker_cpu_s();
                rd_kafka_poll(rk, 300); /* a last statistics report */
                {
                    long long disk;
                    struct timespec ts = {1, 0};
                    nanosleep(&ts, NULL);
                    disk = topic_disk_bytes(topic, 3);
                    printf("%-9s %-6s %10.0f %12.2f %12.1f %12.2f %12.1f\n", ctypes[ti],
                           codecs[ci], n / (t1 - t0), (c1 - c0) * 1e6 / n,
                           (double)(tx_bytes - tx0) / n,
                           b0 >= 0 ? (b1 - b0) * 1e6 / n : -1.0,
                           disk >= 0 ? (double)disk / n : -1.0);
                    fflush(stdout);
                }
            }
            rd_kafka_destroy(rk);
        }
    }
    for (i = 0; i < n; i++) {
        vtev_free(bufs[i]);
        free(keys[i]);
    }
    free(bufs);
    free(lens);
    free(keys);
    return 0;
}
