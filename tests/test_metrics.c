/*
 * test_metrics.c - the metric store and its Prometheus text (metrics.c):
 * HELP/TYPE lines, escaping, cumulative histogram buckets, grouping by name,
 * reset; and the library's own counting on the embedded mock cluster and the
 * mock:// registry (producers, consumers, registry caches), several handles
 * adding to one series.  CK_RUN_CASE selects one case (tests/meson.build).
 */
#include <check.h>
#include <time.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <vtevents/vtevents.h>

#include "consumer_testutil.h"
#include "internal.h"
#include "metrics_int.h"
#include "mock_cluster.h"
#include "producer_fixtures.h"
#include "testutil.h"

/* a before b, both found */
#define ck_assert_before(a, b)                                                   \
    do {                                                                         \
        const char *a_ = (a), *b_ = (b);                                         \
        ck_assert_ptr_nonnull(a_);                                               \
        ck_assert_ptr_nonnull(b_);                                               \
        ck_assert_msg(a_ < b_, "%.40s is not before %.40s", a_, b_);             \
    } while (0)

/* The whole text (caller frees). */
static char *metrics_text(void) {
    char *t = NULL, e[256];
    size_t len = 0;
    ck_assert_msg(vtev_metrics_write(&t, &len, e, sizeof(e)) == VTEV_ERR_OK, "%s", e);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(strlen(t), len);
    return t;
}

/* How many lines start with exactly `series ` (name and labels). */
static int series_lines(const char *text, const char *series) {
    size_t n = strlen(series);
    int cnt = 0;
    const char *l = text;
    while (l && *l) {
        if (!strncmp(l, series, n) && l[n] == ' ')
            cnt++;
        l = strchr(l, '\n');
        if (l)
            l++;
    }
    return cnt;
}

/* The value of the one line of `series`; -1 when absent (values here are >= 0). */
static double series_value(const char *text, const char *series) {
    size_t n = strlen(series);
    const char *l = text;
    while (l && *l) {
        if (!strncmp(l, series, n) && l[n] == ' ')
            return strtod(l + n + 1, NULL);
        l = strchr(l, '\n');
        if (l)
            l++;
    }
    return -1;
}

static double value_now(const char *series) {
    char *t = metrics_text();
    double v = series_value(t, series);
    free(t);
    return v;
}

/* The value, 0 when the series does not exist (yet). */
static double count_now(const char *series) {
    double v = value_now(series);
    return v < 0 ? 0 : v;
}

/* ------------------------------------------------------------ text format */

START_TEST(test_help_type) {
    static const char *const fams[][2] = {
        {"vtev_producer_messages_total", "counter"}, {"vtev_producer_delivery_seconds", "histogram"},
        {"vtev_consumer_messages_total", "counter"}, {"vtev_consumer_handler_seconds", "histogram"},
        {"vtev_consumer_lag_messages", "gauge"},     {"vtev_event_age_seconds", "histogram"},
        {"vtev_dead_letters_total", "counter"},      {"vtev_registry_requests_total", "counter"},
        {"vtev_registry_cache_total", "counter"}};
    char *t, line[160];
    size_t i;
    vtev_metrics_reset();
    vtev__counter_add(vtev__metric_series(VTEV__M_REGISTRY_REQUESTS, "ok", NULL), 3);
    t = metrics_text();
    for (i = 0; i < VTEV_ARRAY_SIZE(fams); i++) {
        const char *help, *type;
        snprintf(line, sizeof(line), "# HELP %s ", fams[i][0]);
        help = strstr(t, line);
        ck_assert_msg(help != NULL, "no %s", line);
        ck_assert_msg(help == t || help[-1] == '\n', "%s is not at a line start", line);
        ck_assert_ptr_null(strstr(help + 1, line)); /* once */
        snprintf(line, sizeof(line), "# TYPE %s %s\n", fams[i][0], fams[i][1]);
        type = strstr(t, line);
        ck_assert_msg(type != NULL, "no %s", line);
        ck_assert_ptr_eq(strchr(help, '\n') + 1, type); /* TYPE right after HELP */
    }
    /* a sample comes after its TYPE line */
    ck_assert_before(strstr(t, "# TYPE vtev_registry_requests_total"),
                     strstr(t, "vtev_registry_requests_total{outcome=\"ok\"} 3\n"));
    ck_assert_int_eq(series_lines(t, "vtev_registry_requests_total{outcome=\"ok\"}"), 1);
    /* the registry's series exist from the start, at 0 */
    ck_assert_double_eq(
        series_value(t, "vtev_registry_requests_total{outcome=\"transport_error\"}"), 0);
    ck_assert_double_eq(
        series_value(t, "vtev_registry_cache_total{cache=\"missing\",result=\"miss\"}"), 0);
    ck_assert(t[strlen(t) - 1] == '\n');
    free(t);
    {
        char e[128] = "";
        ck_assert_int_eq(vtev_metrics_write(NULL, NULL, e, sizeof(e)), VTEV_ERR_INVALID_ARG);
        ck_assert_str_contains(e, "textp");
    }
}
END_TEST

START_TEST(test_escaping) {
    char *t;
    vtev_metrics_reset();
    vtev__counter_add(vtev__metric_series(VTEV__M_DEAD_LETTERS, "a\"b\\c\nd", "INVALID"), 2);
    vtev__counter_add(vtev__metric_series(VTEV__M_DEAD_LETTERS, "plain", NULL), 1);
    t = metrics_text();
    ck_assert_int_eq(
        series_lines(t, "vtev_dead_letters_total{topic=\"a\\\"b\\\\c\\nd\",reason=\"INVALID\"}"), 1);
    ck_assert_double_eq(
        series_value(t, "vtev_dead_letters_total{topic=\"a\\\"b\\\\c\\nd\",reason=\"INVALID\"}"), 2);
    /* a NULL label value is the empty string */
    ck_assert_double_eq(series_value(t, "vtev_dead_letters_total{topic=\"plain\",reason=\"\"}"), 1);
    /* no raw newline inside a sample line: every line is a comment or starts with vtev_ */
    {
        const char *l = t;
        while (*l) {
            ck_assert_msg(l[0] == '#' || !strncmp(l, "vtev_", 5), "bad line: %.40s", l);
            l = strchr(l, '\n') + 1;
        }
    }
    free(t);
}
END_TEST

START_TEST(test_histogram_buckets) {
    static const char *const les[] = {"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
                                      "0.1",   "0.25",   "0.5",   "1",    "2.5",   "5",
                                      "10",    "30",     "60",    "120",  "300",   "+Inf"};
    vtev__series_t *s;
    char *t, name[160];
    double prev = 0, v;
    size_t i;
    vtev_metrics_reset();
    s = vtev__metric_series(VTEV__M_CONSUMER_HANDLER, "h1", NULL);
    ck_assert_ptr_nonnull(s);
    ck_assert_ptr_eq(vtev__metric_series(VTEV__M_CONSUMER_HANDLER, "h1", NULL), s); /* same */
    vtev__hist_observe_us(s, 500);        /* le 0.001 */
    vtev__hist_observe_us(s, 1000);       /* exactly 0.001: le is inclusive */
    vtev__hist_observe_us(s, 3000);       /* le 0.005 */
    vtev__hist_observe_us(s, 400000000);  /* 400 s: only +Inf */
    vtev__hist_observe_us(s, -5);         /* negative counts as 0 */
    t = metrics_text();
    for (i = 0; i < VTEV_ARRAY_SIZE(les); i++) {
        snprintf(name, sizeof(name), "vtev_consumer_handler_seconds_bucket{topic=\"h1\",le=\"%s\"}",
                 les[i]);
        ck_assert_int_eq(series_lines(t, name), 1);
        v = series_value(t, name);
        ck_assert_msg(v >= prev, "%s: %g after %g: not cumulative", name, v, prev);
        prev = v;
    }
    ck_assert_double_eq(series_value(t, "vtev_consumer_handler_seconds_bucket{topic=\"h1\",le=\"0.001\"}"), 3);
    ck_assert_double_eq(series_value(t, "vtev_consumer_handler_seconds_bucket{topic=\"h1\",le=\"0.0025\"}"), 3);
    ck_assert_double_eq(series_value(t, "vtev_consumer_handler_seconds_bucket{topic=\"h1\",le=\"0.005\"}"), 4);
    ck_assert_double_eq(series_value(t, "vtev_consumer_handler_seconds_bucket{topic=\"h1\",le=\"300\"}"), 4);
    ck_assert_double_eq(series_value(t, "vtev_consumer_handler_seconds_bucket{topic=\"h1\",le=\"+Inf\"}"), 5);
    ck_assert_double_eq(series_value(t, "vtev_consumer_handler_seconds_count{topic=\"h1\"}"), 5);
    ck_assert_str_contains(t, "vtev_consumer_handler_seconds_sum{topic=\"h1\"} 400.004500\n");
    /* the order of one histogram: buckets, then _sum, then _count */
    ck_assert_before(strstr(t, "le=\"+Inf\"}"), strstr(t, "vtev_consumer_handler_seconds_sum{"));
    ck_assert_before(strstr(t, "vtev_consumer_handler_seconds_sum{"),
                     strstr(t, "vtev_consumer_handler_seconds_count{"));
    free(t);
}
END_TEST

/* The base name of a sample line (histogram suffixes removed). */
static void base_name(const char *line, char *out, size_t size) {
    size_t n = strcspn(line, "{ ");
    static const char *const sfx[] = {"_bucket", "_sum", "_count"};
    size_t i;
    if (n >= size)
        n = size - 1;
    memcpy(out, line, n);
    out[n] = '\0';
    if (strstr(out, "_seconds"))
        for (i = 0; i < VTEV_ARRAY_SIZE(sfx); i++) {
            size_t k = strlen(sfx[i]);
            if (n > k && !strcmp(out + n - k, sfx[i])) {
                out[n - k] = '\0';
                break;
            }
        }
}

START_TEST(test_grouping) {
    char *t, names[64][96], cur[96] = "";
    int nnames = 0, i;
    const char *l;
    vtev_metrics_reset();
    /* created interleaved across families */
    vtev__counter_add(vtev__metric_series(VTEV__M_PRODUCER_MESSAGES, "g1", "queued"), 1);
    vtev__gauge_set(vtev__metric_series(VTEV__M_CONSUMER_LAG, "g1", "0"), 7);
    vtev__counter_add(vtev__metric_series(VTEV__M_PRODUCER_MESSAGES, "g2", "queued"), 2);
    vtev__hist_observe_us(vtev__metric_series(VTEV__M_PRODUCER_DELIVERY, "g1", NULL), 10);
    vtev__gauge_set(vtev__metric_series(VTEV__M_CONSUMER_LAG, "g1", "1"), 2.5);
    vtev__counter_add(vtev__metric_series(VTEV__M_PRODUCER_MESSAGES, "g1", "delivered"), 1);
    vtev__hist_observe_us(vtev__metric_series(VTEV__M_PRODUCER_DELIVERY, "g2", NULL), 10);
    t = metrics_text();
    for (l = t; *l; l = strchr(l, '\n') + 1) {
        char b[96];
        if (l[0] == '#') {
            /* HELP/TYPE name the family that follows */
            sscanf(l, "# %*s %95s", b);
        } else {
            base_name(l, b, sizeof(b));
        }
        if (strcmp(b, cur)) {
            for (i = 0; i < nnames; i++)
                ck_assert_msg(strcmp(names[i], b), "%s appears in two places", b);
            ck_assert_int_lt(nnames, 64);
            snprintf(names[nnames++], sizeof(names[0]), "%s", b);
            snprintf(cur, sizeof(cur), "%s", b);
        }
    }
    ck_assert_int_eq(nnames, VTEV__M__CNT);
    ck_assert_double_eq(series_value(t, "vtev_consumer_lag_messages{topic=\"g1\",partition=\"0\"}"), 7);
    ck_assert_double_eq(series_value(t, "vtev_consumer_lag_messages{topic=\"g1\",partition=\"1\"}"), 2.5);
    ck_assert_double_eq(series_value(t, "vtev_producer_messages_total{topic=\"g2\",outcome=\"queued\"}"), 2);
    free(t);
}
END_TEST

START_TEST(test_reset) {
    vtev__series_t *s = vtev__metric_series(VTEV__M_REGISTRY_CACHE, "subject", "hit");
    vtev__counter_add(s, 5);
    ck_assert_double_eq(value_now("vtev_registry_cache_total{cache=\"subject\",result=\"hit\"}"), 5);
    vtev_metrics_reset();
    /* the series stays, at 0, and counts on */
    ck_assert_double_eq(value_now("vtev_registry_cache_total{cache=\"subject\",result=\"hit\"}"), 0);
    vtev__counter_add(s, 1);
    ck_assert_double_eq(value_now("vtev_registry_cache_total{cache=\"subject\",result=\"hit\"}"), 1);
}
END_TEST


/* ------------------------------------------------------------ producers */

#define PTOPIC "vessel-position-updates"
#define PQ(outcome) "vtev_producer_messages_total{topic=\"" PTOPIC "\",outcome=\"" outcome "\"}"
#define CQ(outcome) "vtev_consumer_messages_total{topic=\"" PTOPIC "\",outcome=\"" outcome "\"}"

/* conf for the mock cluster and mock registry `name` (created when new). */
static vtev_conf_t *mock_conf(const char *name) {
    char e[512], url[256];
    vtev_conf_t *c = vtev_conf_new();
    ck_assert_ptr_nonnull(c);
    snprintf(url, sizeof(url), "mock://%s", name);
    ck_assert_int_eq(vtev_conf_set(c, "bootstrap.servers", url, e, sizeof(e)), VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_set(c, "schema.registry.url", url, e, sizeof(e)), VTEV_CONF_OK);
    ck_assert_int_eq(vtev_conf_set(c, "log.level", "3", e, sizeof(e)), VTEV_CONF_OK);
    return c;
}

static vtev_producer_t *mock_producer(vtev_conf_t *c) {
    char e[512];
    vtev_producer_t *p = vtev_producer_new(c, e, sizeof(e));
    ck_assert_msg(p != NULL, "%s", e);
    return p;
}

static void publish_n(vtev_producer_t *p, int n, int from) {
    char e[512];
    int i;
    for (i = 0; i < n; i++) {
        vtev_event_t ev;
        fx_position(&ev, "V1", from + i);
        ck_assert_msg(vtev_producer_publish(p, &ev, NULL, e, sizeof(e)) == VTEV_ERR_OK, "%s", e);
        vtev_event_clear(&ev);
    }
}

/* queued at publish, delivered at the report, one delivery time per message. */
START_TEST(test_producer_counts) {
    char name[96], e[256];
    vtev_producer_t *p;
    char *t;
    fx_unique(name, sizeof(name), "met-prod");
    ck_assert_ptr_nonnull(vtev__mock_cluster_bootstraps(name, e, sizeof(e)));
    vtev_metrics_reset();
    p = mock_producer(mock_conf(name));
    publish_n(p, 7, 0);
    ck_assert_int_eq(vtev_producer_flush(p, 20000), VTEV_ERR_OK);
    t = metrics_text();
    ck_assert_double_eq(series_value(t, PQ("queued")), 7);
    ck_assert_double_eq(series_value(t, PQ("delivered")), 7);
    ck_assert_double_eq(series_value(t, PQ("failed")), 0);
    ck_assert_double_eq(
        series_value(t, "vtev_producer_delivery_seconds_count{topic=\"" PTOPIC "\"}"), 7);
    /* delivered on a local mock cluster: well under 30 s each */
    ck_assert_double_eq(
        series_value(t, "vtev_producer_delivery_seconds_bucket{topic=\"" PTOPIC "\",le=\"30\"}"), 7);
    free(t);
    vtev_producer_destroy(p);
}
END_TEST

static vtev_verdict_t ok_handler(vtev_consumer_t *c, const vtev_event_t *ev,
                                 const vtev_msg_info_t *info, void *opaque) {
    (void)c;
    (void)ev;
    (void)info;
    ++*(int *)opaque;
    return VTEV_VERDICT_OK;
}

static int handled3(void *arg) {
    return *(int *)arg >= 3;
}

/* metrics.enable=false: the handles count nothing into the store (their
 * own counters still count), beside a handle that does. */
START_TEST(test_metrics_disabled) {
    char name[96], e[512], url[128];
    vtev_producer_t *off, *on;
    vtev_conf_t *conf;
    vtev_consumer_t *c;
    vtev_producer_stats_t st;
    int handled = 0;
    char *t;
    fx_unique(name, sizeof(name), "met-off");
    ck_assert_ptr_nonnull(vtev__mock_cluster_bootstraps(name, e, sizeof(e)));
    vtev_metrics_reset();
    conf = mock_conf(name);
    ck_assert_int_eq(vtev_conf_set(conf, "metrics.enable", "false", e, sizeof(e)), VTEV_CONF_OK);
    off = mock_producer(conf);
    publish_n(off, 3, 0);
    ck_assert_int_eq(vtev_producer_flush(off, 20000), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_producer_stats(off, VTEV_EVENT_POSITION, &st), VTEV_ERR_OK);
    ck_assert_uint_eq(st.delivered, 3);
    on = mock_producer(mock_conf(name));
    publish_n(on, 2, 3);
    ck_assert_int_eq(vtev_producer_flush(on, 20000), VTEV_ERR_OK);
    t = metrics_text();
    ck_assert_double_eq(series_value(t, PQ("queued")), 2);
    ck_assert_double_eq(series_value(t, PQ("delivered")), 2);
    free(t);

    snprintf(url, sizeof(url), "mock://%s", name);
    conf = ctu_conf(url, url, "g-met-off");
    ctu_set(conf, "metrics.enable", "false");
    ctu_set(conf, "consumer.offset.reset", "earliest");
    c = vtev_consumer_new(conf, e, sizeof(e));
    ck_assert_msg(c != NULL, "%s", e);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, NULL, ok_handler, &handled,
                                             e, sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert(ctu_poll_until(c, handled3, &handled, 30000));
    t = metrics_text();
    ck_assert_double_eq(series_value(t, CQ("ok")), -1); /* no series at all */
    ck_assert_ptr_null(strstr(t, "vtev_consumer_handler_seconds_count{"));
    free(t);
    vtev_consumer_destroy(c);
    vtev_producer_destroy(on);
    vtev_producer_destroy(off);
}
END_TEST

/* Two producers to one topic: one series each, with the sum. */
START_TEST(test_producers_aggregate) {
    char name[96], e[256];
    vtev_producer_t *a, *b;
    char *t;
    fx_unique(name, sizeof(name), "met-agg");
    ck_assert_ptr_nonnull(vtev__mock_cluster_bootstraps(name, e, sizeof(e)));
    vtev_metrics_reset();
    a = mock_producer(mock_conf(name));
    b = mock_producer(mock_conf(name));
    publish_n(a, 3, 0);
    publish_n(b, 4, 10);
    ck_assert_int_eq(vtev_producer_flush(a, 20000), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_producer_flush(b, 20000), VTEV_ERR_OK);
    t = metrics_text();
    ck_assert_int_eq(series_lines(t, PQ("queued")), 1);
    ck_assert_int_eq(series_lines(t, PQ("delivered")), 1);
    ck_assert_double_eq(series_value(t, PQ("queued")), 7);
    ck_assert_double_eq(series_value(t, PQ("delivered")), 7);
    ck_assert_int_eq(series_lines(t, "vtev_producer_delivery_seconds_count{topic=\"" PTOPIC "\"}"), 1);
    ck_assert_double_eq(
        series_value(t, "vtev_producer_delivery_seconds_count{topic=\"" PTOPIC "\"}"), 7);
    free(t);
    vtev_producer_destroy(a);
    /* a producer created after the first is gone counts into the same series */
    a = mock_producer(mock_conf(name));
    publish_n(a, 2, 20);
    ck_assert_int_eq(vtev_producer_flush(a, 20000), VTEV_ERR_OK);
    ck_assert_double_eq(value_now(PQ("delivered")), 9);
    vtev_producer_destroy(a);
    vtev_producer_destroy(b);
}
END_TEST

/* Messages purged at close (brokers down) count as failed, with a delivery time. */
START_TEST(test_producer_failed) {
    char name[96], e[256];
    vtev_conf_t *c;
    vtev_producer_t *p;
    rd_kafka_mock_cluster_t *mc;
    size_t undelivered = 0;
    int b;
    char *t;
    fx_unique(name, sizeof(name), "met-fail");
    ck_assert_ptr_nonnull(vtev__mock_cluster_bootstraps(name, e, sizeof(e)));
    ck_assert_ptr_nonnull(mc = vtev__mock_cluster_get(name));
    vtev_metrics_reset();
    c = mock_conf(name);
    ck_assert_int_eq(vtev_conf_set(c, "producer.close.timeout.ms", "300", e, sizeof(e)),
                     VTEV_CONF_OK);
    p = mock_producer(c);
    for (b = 1; b <= 3; b++)
        rd_kafka_mock_broker_set_down(mc, b);
    publish_n(p, 3, 0);
    ck_assert_int_eq(vtev_producer_close(p, &undelivered), VTEV_ERR_TIMED_OUT);
    ck_assert_uint_eq(undelivered, 3);
    t = metrics_text();
    ck_assert_double_eq(series_value(t, PQ("queued")), 3);
    ck_assert_double_eq(series_value(t, PQ("failed")), 3);
    ck_assert_double_eq(series_value(t, PQ("delivered")), 0);
    ck_assert_double_eq(
        series_value(t, "vtev_producer_delivery_seconds_count{topic=\"" PTOPIC "\"}"), 3);
    free(t);
}
END_TEST


/* ------------------------------------------------------------ consumers */


typedef struct {
    char retry_id[VTEV_UUID_LEN + 1];  /* RETRY forever: dead-lettered after the attempts */
    char reject_id[VTEV_UUID_LEN + 1]; /* REJECT: dead-lettered */
    int calls, ok;
    int32_t partition;
    double lag_at_first; /* the lag gauge while the handler of offset 0 runs */
} mctx_t;

static vtev_verdict_t metrics_handler(vtev_consumer_t *c, const vtev_event_t *ev,
                                      const vtev_msg_info_t *info, void *opaque) {
    mctx_t *h = opaque;
    (void)c;
    h->calls++;
    h->partition = info->partition;
    if (info->offset == 0 && info->attempt == 1) {
        char series[160];
        snprintf(series, sizeof(series),
                 "vtev_consumer_lag_messages{topic=\"%s\",partition=\"%" PRId32 "\"}",
                 info->topic, info->partition);
        h->lag_at_first = value_now(series);
    }
    if (!strcmp(ev->u.env.event_id, h->retry_id))
        return VTEV_VERDICT_RETRY;
    if (!strcmp(ev->u.env.event_id, h->reject_id))
        return VTEV_VERDICT_REJECT;
    h->ok++;
    return VTEV_VERDICT_OK;
}

static int all_seen(void *arg) {
    mctx_t *h = arg;
    return h->ok >= 4 && value_now(CQ("dead_letter")) >= 2;
}

/* ok, retry, reject and dead_letter counted per message; dead letters by
 * reason; handler time, event age and lag. */
START_TEST(test_consumer_outcomes) {
    char mock[128], e[512], series[160];
    const char *bs;
    ctu_pub_t *pub;
    vtev_conf_t *conf;
    vtev_consumer_t *c;
    mctx_t h;
    char ids[6][VTEV_UUID_LEN + 1];
    char *t;
    int i;

    memset(&h, 0, sizeof(h));
    h.lag_at_first = -2;
    snprintf(mock, sizeof(mock), "mock://met-cons-%d", (int)getpid());
    ck_assert_msg((bs = vtev__mock_cluster_bootstraps(mock + 7, e, sizeof(e))) != NULL, "%s", e);
    vtev_metrics_reset();
    conf = vtev_conf_new();
    ctu_set(conf, "schema.registry.url", mock);
    pub = ctu_pub_new(bs, conf);
    for (i = 0; i < 6; i++) { /* one key: one partition, offsets 0-5 */
        vtev_event_t ev;
        ctu_position(&ev, "v0");
        snprintf(ids[i], sizeof(ids[i]), "%s", ev.u.env.event_id);
        ctu_publish(pub, PTOPIC, &ev);
        vtev_event_clear(&ev);
    }
    snprintf(h.retry_id, sizeof(h.retry_id), "%s", ids[1]);
    snprintf(h.reject_id, sizeof(h.reject_id), "%s", ids[3]);
    conf = ctu_conf(mock, mock, "g-metrics");
    ctu_set(conf, "consumer.retry.max.attempts", "3");
    ck_assert_msg((c = vtev_consumer_new(conf, e, sizeof(e))) != NULL, "%s", e);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, NULL, metrics_handler, &h,
                                             e, sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert_msg(ctu_poll_until(c, all_seen, &h, 60000), "ok %d, calls %d", h.ok, h.calls);
    ctu_poll_for(c, 300);
    t = metrics_text();
    ck_assert_double_eq(series_value(t, CQ("ok")), 4);
    ck_assert_double_eq(series_value(t, CQ("retry")), 2);  /* attempts 1 and 2 of 3 */
    ck_assert_double_eq(series_value(t, CQ("reject")), 1);
    ck_assert_double_eq(series_value(t, CQ("dead_letter")), 2);
    ck_assert_double_eq(series_value(t, "vtev_dead_letters_total{topic=\"" PTOPIC
                                        "\",reason=\"RETRIES_EXHAUSTED\"}"), 1);
    ck_assert_double_eq(
        series_value(t, "vtev_dead_letters_total{topic=\"" PTOPIC "\",reason=\"REJECTED\"}"), 1);
    /* every handler call timed; every event's age (its envelope timestamp,
     * set at publish a moment ago: under a minute) */
    ck_assert_int_eq(h.calls, 8);
    ck_assert_double_eq(
        series_value(t, "vtev_consumer_handler_seconds_count{topic=\"" PTOPIC "\"}"), 8);
    ck_assert_double_eq(series_value(t, "vtev_event_age_seconds_count{topic=\"" PTOPIC "\"}"), 8);
    ck_assert_double_eq(
        series_value(t, "vtev_event_age_seconds_bucket{topic=\"" PTOPIC "\",le=\"60\"}"), 8);
    /* lag: 5 behind while offset 0 was handled, none at the end */
    ck_assert_double_eq(h.lag_at_first, 5);
    snprintf(series, sizeof(series),
             "vtev_consumer_lag_messages{topic=\"" PTOPIC "\",partition=\"%" PRId32 "\"}",
             h.partition);
    ck_assert_double_eq(series_value(t, series), 0);
    free(t);
    vtev_consumer_destroy(c);
    ctu_pub_destroy(pub);
}
END_TEST


/* ------------------------------------------------------------ registry */

#define RC(cache, result) "vtev_registry_cache_total{cache=\"" cache "\",result=\"" result "\"}"
#define RQ(outcome) "vtev_registry_requests_total{outcome=\"" outcome "\"}"
#define RSCHEMA "{\"type\":\"record\",\"name\":\"M\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}"

static vtev_registry_t *mock_registry(const char *name) {
    char e[512], url[128];
    vtev_conf_t *conf = vtev_conf_new();
    vtev_registry_t *reg;
    snprintf(url, sizeof(url), "mock://%s", name);
    ck_assert_int_eq(vtev_conf_set(conf, "schema.registry.url", url, e, sizeof(e)), VTEV_CONF_OK);
    ck_assert_msg((reg = vtev_registry_new(conf, e, sizeof(e))) != NULL, "%s", e);
    return reg;
}

/* Each cache: a miss (and a request) the first time, a hit (no request) the
 * second; an answer 404 is a client error; two clients count together. */
START_TEST(test_registry_cache) {
    char name[96], e[512], *schema = NULL;
    vtev_registry_t *w, *r;
    int32_t id = 0, id2 = 0;
    int ver = 0;
    fx_unique(name, sizeof(name), "met-reg");
    w = mock_registry(name);
    ck_assert_msg(vtev_registry_register(w, "m-value", RSCHEMA, &id, e, sizeof(e)) == VTEV_ERR_OK,
                  "%s", e);
    r = mock_registry(name); /* a second client: caches of its own, the same series */
    vtev_metrics_reset();

    ck_assert_int_eq(vtev_registry_get_schema(r, id, &schema, e, sizeof(e)), VTEV_ERR_OK);
    vtev_free(schema);
    ck_assert_double_eq(value_now(RC("schema_id", "miss")), 1);
    ck_assert_double_eq(count_now(RC("schema_id", "hit")), 0);
    ck_assert_double_eq(value_now(RQ("ok")), 1);
    ck_assert_int_eq(vtev_registry_get_schema(r, id, &schema, e, sizeof(e)), VTEV_ERR_OK);
    vtev_free(schema);
    ck_assert_double_eq(value_now(RC("schema_id", "miss")), 1);
    ck_assert_double_eq(value_now(RC("schema_id", "hit")), 1);
    ck_assert_double_eq(value_now(RQ("ok")), 1); /* answered from the cache */
    /* the first client's cache is its own: a miss there too, into the same series */
    ck_assert_int_eq(vtev_registry_get_schema(w, id, &schema, e, sizeof(e)), VTEV_ERR_OK);
    vtev_free(schema);
    ck_assert_double_eq(value_now(RC("schema_id", "miss")), 2);

    ck_assert_int_eq(vtev_registry_lookup(r, "m-value", RSCHEMA, &id2, &ver, e, sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(id2, id);
    ck_assert_double_eq(value_now(RC("subject", "miss")), 1);
    ck_assert_int_eq(vtev_registry_lookup(r, "m-value", RSCHEMA, &id2, &ver, e, sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert_double_eq(value_now(RC("subject", "hit")), 1);
    ck_assert_double_eq(value_now(RC("subject", "miss")), 1);

    ck_assert_int_eq(vtev_registry_get_version(r, "m-value", 1, &id2, &ver, NULL, e, sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(vtev_registry_get_version(r, "m-value", 1, &id2, &ver, NULL, e, sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert_double_eq(value_now(RC("version", "miss")), 1);
    ck_assert_double_eq(value_now(RC("version", "hit")), 1);

    ck_assert_double_eq(count_now(RQ("client_error")), 0);
    ck_assert_int_eq(vtev_registry_get_version(r, "no-such-subject", -1, NULL, NULL, NULL, e,
                                               sizeof(e)),
                     VTEV_ERR_REGISTRY_SUBJECT_NOT_FOUND);
    ck_assert_double_eq(value_now(RC("latest", "miss")), 1);
    ck_assert_double_eq(value_now(RQ("client_error")), 1);
    ck_assert_double_eq(count_now(RQ("transport_error")), 0);
    vtev_registry_destroy(r);
    vtev_registry_destroy(w);
    {
        /* no answer at all (a port nobody listens on, no retry) */
        vtev_conf_t *conf = vtev_conf_new();
        ck_assert_int_eq(vtev_conf_set(conf, "schema.registry.url", "http://127.0.0.1:1", e,
                                       sizeof(e)),
                         VTEV_CONF_OK);
        ck_assert_int_eq(vtev_conf_set(conf, "schema.registry.max.retries", "0", e, sizeof(e)),
                         VTEV_CONF_OK);
        ck_assert_msg((r = vtev_registry_new(conf, e, sizeof(e))) != NULL, "%s", e);
        ck_assert_int_eq(vtev_registry_get_schema(r, 12345, &schema, e, sizeof(e)),
                         VTEV_ERR_REGISTRY_UNAVAILABLE);
        ck_assert_double_eq(value_now(RQ("transport_error")), 1);
        vtev_registry_destroy(r);
    }
}
END_TEST

/* promtool (Debian package prometheus) accepts the text. */
START_TEST(test_promtool) {
    char *t, path[] = "/tmp/vtev-metrics-XXXXXX", cmd[256];
    FILE *f;
    int fd, rc;
    vtev_metrics_reset();
    vtev__counter_add(vtev__metric_series(VTEV__M_PRODUCER_MESSAGES, "p\"t", "queued"), 1);
    vtev__hist_observe_us(vtev__metric_series(VTEV__M_PRODUCER_DELIVERY, "p\"t", NULL), 1234);
    vtev__gauge_set(vtev__metric_series(VTEV__M_CONSUMER_LAG, "p\"t", "3"), 4);
    t = metrics_text();
    ck_assert_int_ge(fd = mkstemp(path), 0);
    ck_assert_ptr_nonnull(f = fdopen(fd, "w"));
    ck_assert_int_eq(fputs(t, f) >= 0, 1);
    ck_assert_int_eq(fclose(f), 0);
    free(t);
    snprintf(cmd, sizeof(cmd), "promtool check metrics < %s", path);
    rc = system(cmd);
    unlink(path);
    ck_assert_msg(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "promtool check metrics failed (%d)", rc);
}
END_TEST

#define ADD(name)                                  \
    do {                                           \
        TCase *tc = tcase_create(#name);           \
        tcase_set_timeout(tc, 120);                \
        tcase_add_test(tc, test_##name);           \
        suite_add_tcase(s, tc);                    \
    } while (0)

int main(void) {
    Suite *s = suite_create("metrics");
    const char *only = getenv("CK_RUN_CASE");
    if (only && !strcmp(only, "promtool") && system("command -v promtool >/dev/null 2>&1") != 0) {
        fprintf(stderr, "promtool is not installed (Debian package prometheus): skipped\n");
        return 77;
    }
    ADD(help_type);
    ADD(escaping);
    ADD(histogram_buckets);
    ADD(grouping);
    ADD(reset);
    ADD(promtool);
    ADD(producer_counts);
    ADD(producers_aggregate);
    ADD(producer_failed);
    ADD(consumer_outcomes);
    ADD(registry_cache);
    ADD(metrics_disabled);
    return vtev_test_run(s);
}
