/*
 * chaos_produce - the producer side of the chaos cases (tests/chaos/chaos.sh).
 *
 *   chaos_produce N RATE REPORT_TSV [TYPE]
 *
 * Publishes N events (TYPE position, the default, request or result) through the
 * library's default producer (idempotent, acks=all) at RATE events/s (0: as
 * fast as it goes), to the configured topic, with the configuration from the
 * environment (KAFKA_BOOTSTRAP_SERVERS, SCHEMA_REGISTRY_URL, VTEV_*).  Every
 * delivery report becomes one line of REPORT_TSV:
 *
 *   event_id <TAB> ok|error name <TAB> partition <TAB> offset <TAB> ms since start <TAB> i
 *
 * where i is the event's number (0 .. N-1): request i has request_id
 * "req-chaos-i", result i has prediction_id "pred-chaos-i" (and request_id
 * "req-chaos-i"), so that a reader of the events can name what it misses.
 * A publish call refused for a retriable reason (vtev_err_is_retriable(): a
 * full queue, the registry away for a schema not cached yet) is retried
 * until it is accepted, and counted; the program ends when every accepted
 * event has its report (close with a 5-minute bound).  Exit 0 when every
 * event got a report, 1 otherwise.  On stderr at the end:
 *   published N ok K failed F refused_calls R max_gap_ms G
 * where max_gap_ms is the longest time without a successful report once the
 * first one came (how long the failure held deliveries up).
 */
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <vtevents/vtevents.h>

static FILE *out;
static int64_t t0_us, last_ok_us, max_gap_us;
static uint64_t n_ok, n_failed;

static int64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* msg_opaque: the event's number + 1 */
static void on_dr(vtev_producer_t *p, const vtev_delivery_report_t *dr, void *opaque) {
    int64_t now = now_us();
    (void)p;
    (void)opaque;
    if (dr->err == VTEV_ERR_OK) {
        n_ok++;
        if (last_ok_us && now - last_ok_us > max_gap_us)
            max_gap_us = now - last_ok_us;
        last_ok_us = now;
    } else {
        n_failed++;
    }
    fprintf(out, "%s\t%s\t%" PRId32 "\t%" PRId64 "\t%.1f\t%ld\n", dr->event_id,
            dr->err == VTEV_ERR_OK ? "ok" : vtev_err2name(dr->err), dr->partition, dr->offset,
            (double)(now - t0_us) / 1000.0, (long)((intptr_t)dr->msg_opaque - 1));
}

/* Event number @p i of @p type ("position", "request", "result"). */
static vtev_err_t fill(const char *type, long i, vtev_event_t *ev) {
    vtev_vessel_state_t *v;
    vtev_err_t err;
    memset(ev, 0, sizeof(*ev));
    if (!strcmp(type, "request")) {
        ev->type = VTEV_EVENT_REQUEST;
        err = vtev_request_init(&ev->u.request);
        snprintf(ev->u.request.request_id, sizeof(ev->u.request.request_id), "req-chaos-%ld", i);
        v = &ev->u.request.data.vessel_snapshot;
    } else if (!strcmp(type, "result")) {
        vtev_result_data_t *d = &ev->u.result.data;
        ev->type = VTEV_EVENT_RESULT;
        err = vtev_result_init(&ev->u.result);
        snprintf(ev->u.result.request_id, sizeof(ev->u.result.request_id), "req-chaos-%ld", i);
        snprintf(d->prediction_id, sizeof(d->prediction_id), "pred-chaos-%ld", i);
        d->terminal_id = 1 + i % 5;
        snprintf(d->terminal_name, sizeof(d->terminal_name), "terminal %ld", 1 + i % 5);
        d->confidence_score = 0.5;
        d->distance_km = 10.0;
        v = &d->vessel_snapshot;
    } else {
        ev->type = VTEV_EVENT_POSITION;
        err = vtev_position_init(&ev->u.position);
        v = &ev->u.position.data;
    }
    snprintf(ev->u.env.vessel_id, sizeof(ev->u.env.vessel_id), "IMO%07ld", 9000000 + i % 50);
    v->lat = ev->type == VTEV_EVENT_POSITION ? 28.5 + (double)(i % 100) / 100.0 : 28.5;
    v->lon = -94.0;
    v->speed = 12.0;
    v->heading = 10.0;
    snprintf(v->status, sizeof(v->status), "underway");
    return err;
}

int main(int argc, char **argv) {
    char errstr[512];
    vtev_conf_t *conf;
    vtev_producer_t *p;
    long n, i;
    double rate;
    uint64_t refused = 0;
    size_t undelivered = 0;
    const char *type;
    int rc = 0;

    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: chaos_produce N RATE REPORT_TSV [position|request|result]\n");
        return 2;
    }
    n = atol(argv[1]);
    rate = atof(argv[2]);
    type = argc == 5 ? argv[4] : "position";
    if (strcmp(type, "position") && strcmp(type, "request") && strcmp(type, "result")) {
        fprintf(stderr, "chaos_produce: TYPE %s: expected position, request or result\n", type);
        return 2;
    }
    if (n <= 0 || rate < 0 || !(out = fopen(argv[3], "w"))) {
        fprintf(stderr, "chaos_produce: bad arguments\n");
        return 2;
    }
    if (!(conf = vtev_conf_new()) || vtev_conf_load_env(conf, errstr, sizeof(errstr)) != VTEV_ERR_OK ||
        /* every accepted event gets its real outcome before the program ends */
        vtev_conf_set(conf, "producer.close.timeout.ms", "300000", errstr, sizeof(errstr)) !=
            VTEV_CONF_OK) {
        fprintf(stderr, "chaos_produce: %s\n", conf ? errstr : "out of memory");
        return 2;
    }
    if (!(p = vtev_producer_new(conf, errstr, sizeof(errstr)))) {
        fprintf(stderr, "chaos_produce: %s\n", errstr);
        vtev_conf_destroy(conf);
        return 1;
    }
    vtev_producer_set_dr_cb(p, on_dr, NULL);
    t0_us = now_us();
    for (i = 0; i < n; i++) {
        vtev_event_t ev;
        vtev_err_t err;
        if (rate > 0) {
            int64_t due = t0_us + (int64_t)((double)i * 1e6 / rate), w = due - now_us();
            if (w > 0)
                usleep((useconds_t)w);
        }
        if ((err = fill(type, i, &ev)) != VTEV_ERR_OK) {
            fprintf(stderr, "chaos_produce: event %ld: %s\n", i, vtev_err2str(err));
            rc = 1;
            break;
        }
        while ((err = vtev_producer_publish(p, &ev, (void *)(intptr_t)(i + 1), errstr,
                                            sizeof(errstr))) &&
               vtev_err_is_retriable(err)) {
            refused++;
            vtev_producer_flush(p, 100);
        }
        vtev_event_clear(&ev);
        if (err != VTEV_ERR_OK) {
            fprintf(stderr, "chaos_produce: event %ld: %s: %s\n", i, vtev_err2name(err), errstr);
            rc = 1;
            break;
        }
    }
    /* frees the producer */
    if (vtev_producer_close(p, &undelivered) != VTEV_ERR_OK || undelivered) {
        fprintf(stderr, "chaos_produce: %zu events undelivered at close (reported as purged)\n",
                undelivered);
        rc = 1;
    }
    fclose(out);
    fprintf(stderr, "published %ld ok %" PRIu64 " failed %" PRIu64 " refused_calls %" PRIu64
                    " max_gap_ms %.0f\n",
            i, n_ok, n_failed, refused, (double)max_gap_us / 1000.0);
    if (n_ok + n_failed != (uint64_t)i)
        rc = 1;
    return rc;
}
