/*
 * bench_producer.c - typed publish throughput: validate + encode + frame +
 * enqueue on the calling thread, and events/s until the last delivery
 * report, per producer.profile.
 *
 * usage: bench_producer [EVENTS]   (KAFKA_BOOTSTRAP_SERVERS and
 * SCHEMA_REGISTRY_URL from the environment; unset: the embedded mock cluster
 * and mock:// registry)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <vtevents/vtevents.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double thread_cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fill(vtev_event_t *ev, int i) {
    vtev_position_event_t *p = &ev->u.position;
    vtev_event_init(ev, VTEV_EVENT_POSITION);
    snprintf(p->env.vessel_id, sizeof(p->env.vessel_id), "IMO9%06d", (i * 7919) % 400);
    vtev_metadata_set_string(vtev_envelope_metadata(&p->env), "source", "ais-gateway");
    p->data.lat = 51.9 + (double)(i % 1000) / 3333.0;
    p->data.lon = 4.0 + (double)(i % 777) / 2777.0;
    p->data.speed = (double)(i % 220) / 10.0;
    p->data.heading = (double)(i % 3600) / 10.0;
    snprintf(p->data.status, sizeof(p->data.status), "underway");
}

int main(int argc, char **argv) {
    static const char *profiles[] = {"default", "low-latency", "throughput"};
    int n = argc > 1 ? atoi(argv[1]) : 100000, pi, i;
    char topic[128];
    snprintf(topic, sizeof(topic), "bench-producer-%d", (int)getpid());
    printf("%d position events per run, topic %s (%s)\n", n, topic,
           getenv("KAFKA_BOOTSTRAP_SERVERS") ? getenv("KAFKA_BOOTSTRAP_SERVERS") : "mock://");
    printf("%-12s %14s %16s %12s\n", "profile", "publish us/ev", "publish ev/s", "e2e ev/s");
    for (pi = 0; pi < 3; pi++) {
        char e[512];
        vtev_conf_t *c = vtev_conf_new();
        vtev_producer_t *p;
        vtev_producer_stats_t st;
        vtev_event_t ev;
        double t0, t1, t2, c0, c1;
        if (vtev_conf_load_env(c, e, sizeof(e)) ||
            vtev_conf_set(c, "producer.profile", profiles[pi], e, sizeof(e)) ||
            vtev_conf_set(c, "topic.position", topic, e, sizeof(e)) ||
            vtev_conf_set(c, "producer.queue.block.ms", "60000", e, sizeof(e)) ||
            !(p = vtev_producer_new(c, e, sizeof(e)))) {
            fprintf(stderr, "%s\n", e);
            return 1;
        }
        fill(&ev, 0);
        vtev_producer_publish(p, &ev, NULL, e, sizeof(e)); /* warm: schema id, metadata */
        vtev_producer_flush(p, 30000);
        vtev_event_clear(&ev);
        t0 = now_s();
        c0 = thread_cpu_s();
        for (i = 0; i < n; i++) {
            fill(&ev, i); /* fresh event_id and timestamp each time */
            if (vtev_producer_publish(p, &ev, NULL, e, sizeof(e))) {
                fprintf(stderr, "publish: %s\n", e);
                return 1;
            }
            vtev_event_clear(&ev);
        }
        c1 = thread_cpu_s();
        t1 = now_s();
        vtev_producer_flush(p, 120000);
        t2 = now_s();
        vtev_producer_stats(p, VTEV_EVENT_POSITION, &st);
        printf("%-12s %14.2f %16.0f %12.0f   (delivered %llu)\n", profiles[pi],
               (c1 - c0) * 1e6 / n, n / (t1 - t0), n / (t2 - t0),
               (unsigned long long)st.delivered);
        vtev_producer_destroy(p);
    }
    return 0;
}
