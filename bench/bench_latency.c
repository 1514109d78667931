/*
 * bench_latency - end-to-end latency publish -> handler.
 *
 *   bench_latency [-R rate] [-d seconds] [-r runs] [-P profile] [-p partitions]
 *
 * One process: a typed consumer (own thread, vtev_consumer_run) and a typed
 * producer publishing vessel.position.updated at a fixed rate (-R events/s,
 * paced on an absolute schedule) or, with -R 0, one event at a time waiting
 * for its handler before the next (the way Kafka's EndToEndLatency tool
 * works). The event's timestamp is set right before publish; the handler
 * takes wall clock - timestamp. Each run has its own vessel id, so events of
 * the warm-up or of an earlier run are ignored. Reports p50/p99/p99.9 (ms)
 * per run, the achieved rate and lost events.
 */
#include "bench_common.h"
#include <pthread.h>
#include <vtevents/consumer.h>
#include <vtevents/producer.h>

static double rate = 1000;
static double secs = 3;
static int runs = 5;
static int partitions = 1;
static const char *profile = "default";
static char topic[256];

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static char tag[32] = "warm";
static double *lat;
static size_t lat_n, lat_cap;
static long seen_warm;

static vtev_verdict_t on_event(vtev_consumer_t *c, const vtev_event_t *ev,
                               const vtev_msg_info_t *info, void *opaque) {
    int64_t now = bc_wall_us();
    (void)c;
    (void)info;
    (void)opaque;
    pthread_mutex_lock(&lock);
    if (!strcmp(ev->u.env.vessel_id, tag)) {
        if (!strcmp(tag, "warm"))
            seen_warm++;
        else if (lat_n < lat_cap)
            lat[lat_n++] = (double)(now - ev->u.env.timestamp_us) / 1000.0;
        pthread_cond_broadcast(&cond);
    }
    pthread_mutex_unlock(&lock);
    return VTEV_VERDICT_OK;
}

static void *consumer_main(void *arg) {
    char e[512];
    if (vtev_consumer_run(arg, e, sizeof(e)))
        bc_die("consumer: %s", e);
    return NULL;
}

static void publish(vtev_producer_t *p, vtev_event_t *ev) {
    char e[512];
    vtev_err_t err;
    ev->u.env.timestamp_us = bc_wall_us();
    while ((err = vtev_producer_publish(p, ev, NULL, e, sizeof(e))) == VTEV_ERR_QUEUE_FULL)
        ;
    if (err)
        bc_die("publish: %s", e);
}

static size_t wait_count(size_t want, double timeout_s) {
    struct timespec ts;
    size_t n;
    double end = bc_now() + timeout_s;
    pthread_mutex_lock(&lock);
    while (lat_n < want && bc_now() < end) {
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 2000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&cond, &lock, &ts);
    }
    n = lat_n;
    pthread_mutex_unlock(&lock);
    return n;
}

int main(int argc, char **argv) {
    char e[512], group[128], kase[64];
    vtev_conf_t *pc, *cc;
    vtev_producer_t *p;
    vtev_consumer_t *c;
    pthread_t thr;
    vtev_event_t ev;
    int i, run;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            bc_die("%s needs a value", a);
        if (!strcmp(a, "-R"))
            rate = atof(v);
        else if (!strcmp(a, "-d"))
            secs = atof(v);
        else if (!strcmp(a, "-r"))
            runs = atoi(v);
        else if (!strcmp(a, "-P"))
            profile = v;
        else if (!strcmp(a, "-p"))
            partitions = atoi(v);
        else
            bc_die("unknown option %s", a);
        i++;
    }
    snprintf(topic, sizeof(topic), "bench-latency-%d", (int)getpid());
    bc_topic(topic, partitions);
    lat_cap = (size_t)(rate > 0 ? rate * secs * 1.1 + 16 : 200000);
    if (!(lat = malloc(lat_cap * sizeof(*lat))))
        bc_die("out of memory");

    cc = bc_conf();
    snprintf(group, sizeof(group), "bench-latency-%d", (int)getpid());
    bc_set(cc, "group.id", group);
    bc_set(cc, "consumer.offset.reset", "latest");
    if (!(c = vtev_consumer_new(cc, e, sizeof(e))))
        bc_die("vtev_consumer_new: %s", e);
    if (vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, topic, on_event, NULL, e, sizeof(e)))
        bc_die("subscribe: %s", e);
    if (pthread_create(&thr, NULL, consumer_main, c))
        bc_die("pthread_create");

    pc = bc_conf();
    bc_set(pc, "producer.profile", profile);
    bc_set(pc, "topic.position", topic);
    if (!(p = vtev_producer_new(pc, e, sizeof(e))))
        bc_die("vtev_producer_new: %s", e);
    bc_event(&ev, VTEV_EVENT_POSITION, "warm");

    /* Warm-up: until the consumer has its assignment and sees events. */
    {
        double end = bc_now() + 60;
        long want;
        for (;;) {
            publish(p, &ev);
            bc_sleep_us(100000);
            pthread_mutex_lock(&lock);
            want = seen_warm;
            pthread_mutex_unlock(&lock);
            if (want >= 5)
                break;
            if (bc_now() > end)
                bc_die("warm-up: the consumer saw no event in 60 s");
        }
        vtev_producer_flush(p, 10000);
        bc_sleep_us(500000);
    }

    if (rate > 0)
        snprintf(kase, sizeof(kase), "%.0f/s %s", rate, profile);
    else
        snprintf(kase, sizeof(kase), "one at a time %s", profile);
    for (run = 0; run < runs; run++) {
        size_t sent = 0, got;
        double t0, t1;
        pthread_mutex_lock(&lock);
        snprintf(tag, sizeof(tag), "run-%d", run);
        lat_n = 0;
        pthread_mutex_unlock(&lock);
        memcpy(ev.u.env.vessel_id, tag, strlen(tag) + 1);
        t0 = bc_now();
        if (rate > 0) {
            struct timespec start, next;
            clock_gettime(CLOCK_MONOTONIC, &start);
            for (;;) {
                double off = (double)sent / rate;
                int64_t ns;
                if (off >= secs)
                    break;
                ns = (int64_t)start.tv_nsec + (int64_t)(off * 1e9);
                next.tv_sec = start.tv_sec + (time_t)(ns / 1000000000);
                next.tv_nsec = (long)(ns % 1000000000);
                clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
                publish(p, &ev);
                sent++;
            }
        } else {
            while (bc_now() - t0 < secs && sent < lat_cap) {
                publish(p, &ev);
                sent++;
                if (wait_count(sent, 10) < sent)
                    bc_die("one-at-a-time: event %zu not seen in 10 s", sent);
            }
        }
        t1 = bc_now();
        got = wait_count(sent, 15);
        pthread_mutex_lock(&lock);
        qsort(lat, got, sizeof(*lat), bc_cmp_double);
        {
            double sum = 0;
            size_t j;
            for (j = 0; j < got; j++)
                sum += lat[j];
            bc_result("latency", kase, "typed", "avg_ms", got ? sum / (double)got : 0);
        }
        bc_result("latency", kase, "typed", "p50_ms", bc_pct(lat, got, 50));
        bc_result("latency", kase, "typed", "p99_ms", bc_pct(lat, got, 99));
        bc_result("latency", kase, "typed", "p999_ms", bc_pct(lat, got, 99.9));
        bc_result("latency", kase, "typed", "max_ms", got ? lat[got - 1] : 0);
        bc_result("latency", kase, "typed", "rate", (double)sent / (t1 - t0));
        bc_result("latency", kase, "typed", "lost", (double)(sent - got));
        pthread_mutex_unlock(&lock);
    }
    vtev_consumer_stop(c);
    pthread_join(thr, NULL);
    vtev_consumer_destroy(c);
    vtev_producer_destroy(p);
    vtev_event_clear(&ev);
    free(lat);
    return 0;
}
