/*
 * bench_memory - resident memory of a producer or a consumer over a run.
 *
 *   bench_memory -m producer|consumer|both [-R rate] [-d seconds] [-T topic]
 *                [-i sample_interval_s]
 *
 * producer: publishes vessel.position.updated to TOPIC at RATE events/s.
 * consumer: reads TOPIC from the earliest offset with a no-op handler (use a
 *           fresh topic).
 * both:     both in one process (for valgrind: short runs, low rates).
 * Samples VmRSS every interval and prints "S <mode> <t> <rss_kb>" lines, then
 * R lines: peak (VmHWM), steady (median RSS of the second half of the run),
 * growth from the end of the first quarter to the end, and the event count.
 * Exits 0 after releasing everything (valgrind's leak check runs then).
 */
#include "bench_common.h"
#include <pthread.h>
#include <vtevents/consumer.h>
#include <vtevents/producer.h>

static double rate = 5000, secs = 30, interval = 1;
static const char *mode = "producer";
static char topic[256] = "bench-memory";
static long consumed;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static vtev_verdict_t on_event(vtev_consumer_t *c, const vtev_event_t *ev,
                               const vtev_msg_info_t *info, void *opaque) {
    (void)c, (void)ev, (void)info, (void)opaque;
    pthread_mutex_lock(&lock);
    consumed++;
    pthread_mutex_unlock(&lock);
    return VTEV_VERDICT_OK;
}

static void *consumer_main(void *arg) {
    char e[512];
    if (vtev_consumer_run(arg, e, sizeof(e)))
        bc_die("consumer: %s", e);
    return NULL;
}

int main(int argc, char **argv) {
    char e[512], group[128];
    vtev_producer_t *p = NULL;
    vtev_consumer_t *c = NULL;
    pthread_t thr;
    vtev_event_t ev;
    double *samples;
    size_t ns = 0, cap;
    long sent = 0, rss, hwm;
    struct timespec start;
    double next_sample;
    int i, prod, cons;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            bc_die("%s needs a value", a);
        if (!strcmp(a, "-m"))
            mode = v;
        else if (!strcmp(a, "-R"))
            rate = atof(v);
        else if (!strcmp(a, "-d"))
            secs = atof(v);
        else if (!strcmp(a, "-i"))
            interval = atof(v);
        else if (!strcmp(a, "-T"))
            snprintf(topic, sizeof(topic), "%s", v);
        else
            bc_die("unknown option %s", a);
        i++;
    }
    prod = !strcmp(mode, "producer") || !strcmp(mode, "both");
    cons = !strcmp(mode, "consumer") || !strcmp(mode, "both");
    if (!prod && !cons)
        bc_die("-m producer|consumer|both");
    cap = (size_t)(secs / interval) + 4;
    if (!(samples = calloc(cap, sizeof(*samples))))
        bc_die("out of memory");
    bc_topic(topic, 1);
    bc_event(&ev, VTEV_EVENT_POSITION, "lng-001");

    if (cons) {
        vtev_conf_t *cc = bc_conf();
        snprintf(group, sizeof(group), "bench-memory-%d", (int)getpid());
        bc_set(cc, "group.id", group);
        if (!(c = vtev_consumer_new(cc, e, sizeof(e))))
            bc_die("vtev_consumer_new: %s", e);
        if (vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, topic, on_event, NULL, e, sizeof(e)))
            bc_die("subscribe: %s", e);
        if (pthread_create(&thr, NULL, consumer_main, c))
            bc_die("pthread_create");
    }
    if (prod) {
        vtev_conf_t *pc = bc_conf();
        bc_set(pc, "topic.position", topic);
        if (!(p = vtev_producer_new(pc, e, sizeof(e))))
            bc_die("vtev_producer_new: %s", e);
    }

    clock_gettime(CLOCK_MONOTONIC, &start);
    next_sample = interval;
    for (;;) {
        struct timespec now;
        double t;
        clock_gettime(CLOCK_MONOTONIC, &now);
        t = (double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9;
        if (t >= next_sample) {
            bc_rss(&rss, &hwm);
            if (ns < cap)
                samples[ns++] = (double)rss;
            printf("S\t%s\t%.1f\t%ld\n", mode, t, rss);
            fflush(stdout);
            next_sample += interval;
        }
        if (t >= secs)
            break;
        if (prod && (double)sent < t * rate) {
            vtev_err_t err;
            ev.u.env.timestamp_us = bc_wall_us();
            while ((err = vtev_producer_publish(p, &ev, NULL, e, sizeof(e))) ==
                   VTEV_ERR_QUEUE_FULL)
                ;
            if (err)
                bc_die("publish: %s", e);
            sent++;
            continue;
        }
        bc_sleep_us(prod && rate > 1000 ? 200 : 1000);
    }
    bc_rss(&rss, &hwm);
    {
        double *half = samples + ns / 2, steady, q1;
        size_t nh = ns - ns / 2;
        q1 = ns >= 4 ? samples[ns / 4] : samples[0];
        qsort(half, nh, sizeof(*half), bc_cmp_double);
        steady = nh ? half[nh / 2] : (double)rss;
        bc_result("memory", mode, "typed", "peak_kb", (double)hwm);
        bc_result("memory", mode, "typed", "steady_kb", steady);
        bc_result("memory", mode, "typed", "growth_kb", (double)rss - q1);
    }
    if (p) {
        vtev_producer_flush(p, 10000);
        bc_result("memory", mode, "typed", "published", (double)sent);
        vtev_producer_destroy(p);
    }
    if (c) {
        bc_sleep_us(500000);
        vtev_consumer_stop(c);
        pthread_join(thr, NULL);
        pthread_mutex_lock(&lock);
        bc_result("memory", mode, "typed", "consumed", (double)consumed);
        pthread_mutex_unlock(&lock);
        vtev_consumer_destroy(c);
    }
    vtev_event_clear(&ev);
    free(samples);
    return 0;
}
