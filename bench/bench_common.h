/*
 * bench_common.h - helpers shared by the benchmark programs (timing, sample
 * events, configuration from the environment, topic creation, result lines).
 *
 * Every program prints one line per measurement:
 *   R <table> <case> <side> <metric> <value>
 * (tab-separated); bench/report.py turns them into the tables of
 * doc/PERFORMANCE.md (median, min, max of the runs, ratio of the sides).
 */
#ifndef VTEV_BENCH_COMMON_H
#define VTEV_BENCH_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <vtevents/vtevents.h>
#include <vtevents/avro_direct.h> /* vtev_rt_uuid4() */

static inline double bc_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline int64_t bc_wall_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline void bc_sleep_us(int64_t us) {
    struct timespec ts;
    if (us <= 0)
        return;
    ts.tv_sec = (time_t)(us / 1000000);
    ts.tv_nsec = (long)(us % 1000000) * 1000;
    nanosleep(&ts, NULL);
}

static inline void bc_die(const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "bench: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    exit(1);
}

static inline void bc_result(const char *table, const char *kase, const char *side,
                             const char *metric, double value) {
    printf("R\t%s\t%s\t%s\t%s\t%.6g\n", table, kase, side, metric, value);
    fflush(stdout);
}

static inline const char *bc_env(const char *name, const char *def) {
    const char *v = getenv(name);
    return v && *v ? v : def;
}

static inline const char *bc_bootstrap(void) {
    return bc_env("KAFKA_BOOTSTRAP_SERVERS", "mock://bench");
}

static inline const char *bc_registry(void) {
    return bc_env("SCHEMA_REGISTRY_URL", "mock://bench");
}

/* bootstrap.servers for a plain librdkafka handle: with mock:// the handle
 * gets its own one-broker mock cluster (smoke runs only: not shared with the
 * library's mock cluster of the same name). */
static inline int bc_plain_bootstrap(void *rk_conf,
                                     int (*set)(void *, const char *, const char *)) {
    if (!strncmp(bc_bootstrap(), "mock://", 7))
        return set(rk_conf, "test.mock.num.brokers", "1");
    return set(rk_conf, "bootstrap.servers", bc_bootstrap());
}

static inline void bc_set(vtev_conf_t *c, const char *k, const char *v) {
    char e[512];
    if (vtev_conf_set(c, k, v, e, sizeof(e)) != VTEV_CONF_OK)
        bc_die("%s=%s: %s", k, v, e);
}

/* A configuration for the stack named by the environment (or mock://). */
static inline vtev_conf_t *bc_conf(void) {
    vtev_conf_t *c = vtev_conf_new();
    if (!c)
        bc_die("out of memory");
    bc_set(c, "bootstrap.servers", bc_bootstrap());
    bc_set(c, "schema.registry.url", bc_registry());
    bc_set(c, "log.level", "3");
    /* VTEV_BENCH_X="key=value;key=value": settings of a variant (bench.sh's
     * observability part: metrics.enable, trace.propagation) */
    {
        const char *x = getenv("VTEV_BENCH_X");
        char buf[512], *save = NULL, *kv;
        if (x && *x) {
            snprintf(buf, sizeof(buf), "%s", x);
            for (kv = strtok_r(buf, ";", &save); kv; kv = strtok_r(NULL, ";", &save)) {
                char *eq = strchr(kv, '=');
                if (!eq)
                    bc_die("VTEV_BENCH_X: \"%s\" is not key=value", kv);
                *eq = '\0';
                bc_set(c, kv, eq + 1);
            }
        }
    }
    return c;
}

static inline const char *bc_type_short(vtev_event_type_t t) {
    return t == VTEV_EVENT_POSITION ? "position" : t == VTEV_EVENT_REQUEST ? "request" : "result";
}

static inline vtev_event_type_t bc_type_parse(const char *s) {
    if (!strcmp(s, "position"))
        return VTEV_EVENT_POSITION;
    if (!strcmp(s, "request"))
        return VTEV_EVENT_REQUEST;
    if (!strcmp(s, "result"))
        return VTEV_EVENT_RESULT;
    bc_die("unknown event type %s (position|request|result)", s);
    return VTEV_EVENT_NONE;
}

static inline const char *bc_topic_key(vtev_event_type_t t) {
    return t == VTEV_EVENT_POSITION ? "topic.position"
           : t == VTEV_EVENT_REQUEST ? "topic.request"
                                     : "topic.result";
}

static inline void bc_state(vtev_vessel_state_t *s, double lat, double lon, const char *status) {
    s->lat = lat;
    s->lon = lon;
    s->speed = 12.5;
    s->heading = 275.0;
    snprintf(s->status, sizeof(s->status), "%s", status);
}

/* A realistic event of each type (same content as the Python side's). */
static inline void bc_event(vtev_event_t *ev, vtev_event_type_t type, const char *vessel) {
    vtev_metadata_t *md;
    if (vtev_event_init(ev, type))
        bc_die("vtev_event_init failed");
    snprintf(ev->u.env.vessel_id, sizeof(ev->u.env.vessel_id), "%s", vessel);
    md = vtev_envelope_metadata(&ev->u.env);
    if (!md)
        bc_die("out of memory");
    if (type == VTEV_EVENT_POSITION) {
        bc_state(&ev->u.position.data, 29.76, -95.37, "underway");
        vtev_metadata_set_string(md, "source", "ais");
    } else if (type == VTEV_EVENT_REQUEST) {
        bc_state(&ev->u.request.data.vessel_snapshot, -33.9, 151.2, "at anchor");
        ev->u.request.data.has_terminal_filter = true;
        ev->u.request.data.terminal_filter = 7;
        ev->u.request.data.priority = VTEV_PRIORITY_HIGH;
        vtev_metadata_set_string(md, "correlation_id", "corr-0001");
        vtev_metadata_set_string(md, "triggered_by", "position");
    } else {
        vtev_result_data_t *d = &ev->u.result.data;
        snprintf(ev->u.result.request_id, sizeof(ev->u.result.request_id), "req-0a1b2c3d");
        snprintf(d->prediction_id, sizeof(d->prediction_id), "pred-0a1b2c3d-12");
        d->terminal_id = 12;
        snprintf(d->terminal_name, sizeof(d->terminal_name), "Sabine Pass LNG");
        d->confidence_score = 0.87;
        d->scores.proximity = 0.9;
        d->scores.speed = 0.5;
        d->scores.heading = 1.0;
        d->scores.rag_boost = 0.1;
        d->scores.ai_adjustment = -0.05;
        d->distance_km = 14.25;
        d->has_eta_hours = true;
        d->eta_hours = 3.5;
        snprintf(d->ai_reasoning, sizeof(d->ai_reasoning),
                 "Vessel is heading towards the terminal at 12.5 kn and is 14 km away; "
                 "berth availability and historical patterns support the prediction.");
        bc_state(&d->vessel_snapshot, 29.73, -93.87, "underway");
        vtev_metadata_set_string(md, "correlation_id", "corr-0001");
        vtev_metadata_set_string(md, "model_version", "v1.2");
        vtev_metadata_set_int(md, "processing_time_ms", 42);
    }
}

/* The generated type (vt-codegen, in the library) of an event type. */
static inline const vtev_type_t *bc_gen_type(vtev_event_type_t t) {
    return t == VTEV_EVENT_POSITION  ? &vtev_vessel_position_updated_type
           : t == VTEV_EVENT_REQUEST ? &vtev_prediction_analysis_requested_type
                                     : &vtev_prediction_analysis_completed_type;
}

/* The same event as a generated struct (through the JSON form both share);
 * out has gt->size bytes; free it with gt->clear(). */
static inline void bc_gen_event(const vtev_event_t *ev, const vtev_type_t *gt, void *out) {
    char *js, e[512];
    size_t n;
    if (vtev_event_to_json(ev, 0, &js, &n))
        bc_die("to_json failed");
    if (gt->from_json(out, js, n, e, sizeof(e)))
        bc_die("%s from_json: %s", gt->name, e);
    vtev_free(js);
}

/* Creates @p topic with @p partitions (no-op when it exists). The mock
 * cluster (mock://) creates topics on first use instead. */
static inline void bc_topic(const char *topic, int partitions) {
    char e[512];
    if (!strncmp(bc_bootstrap(), "mock://", 7))
        return;
    vtev_conf_t *c = bc_conf();
    vtev_admin_t *a = vtev_admin_new(c, e, sizeof(e));
    vtev_topic_spec_t spec;
    vtev_topic_result_t res;
    if (!a)
        bc_die("admin: %s", e);
    memset(&spec, 0, sizeof(spec));
    snprintf(spec.name, sizeof(spec.name), "%.*s", VTEV_TOPIC_MAX, topic);
    spec.partitions = partitions;
    spec.retention_ms = 3600000;
    snprintf(spec.compression, sizeof(spec.compression), "gzip");
    if (vtev_admin_create_topics(a, &spec, 1, 1, &res, 30000, e, sizeof(e)))
        bc_die("create topic %s: %s", topic, e);
    if (res.status == VTEV_TOPIC_FAILED)
        bc_die("create topic %s: %s", topic, res.detail);
    vtev_admin_destroy(a);
}

static inline int bc_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Percentile (0..100) of a sorted array, nearest-rank. */
static inline double bc_pct(const double *sorted, size_t n, double p) {
    size_t k;
    if (!n)
        return 0;
    k = (size_t)((p / 100.0) * (double)n + 0.999999);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return sorted[k - 1];
}

/* Resident set size (VmRSS) and its peak (VmHWM) in KiB. */
static inline void bc_rss(long *rss_kb, long *hwm_kb) {
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");
    *rss_kb = *hwm_kb = -1;
    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        if (!strncmp(line, "VmRSS:", 6))
            *rss_kb = strtol(line + 6, NULL, 10);
        else if (!strncmp(line, "VmHWM:", 6))
            *hwm_kb = strtol(line + 6, NULL, 10);
    }
    fclose(f);
}

#endif /* VTEV_BENCH_COMMON_H */
