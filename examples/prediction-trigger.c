/*
 * prediction-trigger - consumes vessel positions (group prediction-triggers)
 * and publishes a prediction.analysis.requested event for a vessel when its
 * state changed meaningfully since its last request (moved far enough,
 * turned, changed speed or status) or when too long passed.  The
 * correlation id of the position is carried over (a new one is made when the
 * position has none).
 *
 * At-least-once: a position's offset is stored only once its request was
 * stored by the broker (vtev_consumer_defer(); the delivery report calls
 * vtev_pending_done()).  A request that is not delivered re-delivers its
 * position, and the trigger remembers that position so that it publishes
 * its request again, whatever its vessel's state is by then.
 */
#include "common.h"
#include "http.h"

#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TRACKED 4096

typedef struct tracked_s {
    char vessel_id[VTEV_ID_MAX + 1];
    vtev_vessel_state_t last; /* state at the last request */
    int64_t last_us;          /* event time of the last request */
} tracked_t;

typedef struct trigger_s {
    ex_trigger_opts_t o;
    ex_stats_t *st;
    vtev_producer_t *prod;
    tracked_t *t;
    size_t cnt;
    /* positions whose request was not delivered: they request again when
     * redelivered (written by the delivery reports, read by the handler) */
    pthread_mutex_t redo_lock;
    char (*redo)[VTEV_UUID_LEN + 1];
    size_t redo_cnt, redo_cap;
} trigger_t;

/* One publish in flight: its msg_opaque. */
typedef struct req_ctx_s {
    trigger_t *tr;
    vtev_pending_t *pd;
    char position_id[VTEV_UUID_LEN + 1];
} req_ctx_t;

static void redo_add(trigger_t *tr, const char *position_id) {
    pthread_mutex_lock(&tr->redo_lock);
    if (tr->redo_cnt == tr->redo_cap) {
        size_t cap = tr->redo_cap ? tr->redo_cap * 2 : 64;
        void *n = realloc(tr->redo, cap * sizeof(*tr->redo));
        if (n) {
            tr->redo = n;
            tr->redo_cap = cap;
        }
    }
    if (tr->redo_cnt < tr->redo_cap)
        snprintf(tr->redo[tr->redo_cnt++], sizeof(tr->redo[0]), "%s", position_id);
    else
        fprintf(stderr, "prediction-trigger: out of memory: position %s may not request again\n",
                position_id);
    pthread_mutex_unlock(&tr->redo_lock);
}

/* Whether @p position_id's request must be published again (forgets it). */
static bool redo_take(trigger_t *tr, const char *position_id) {
    bool found = false;
    size_t i;
    pthread_mutex_lock(&tr->redo_lock);
    for (i = 0; i < tr->redo_cnt; i++)
        if (!strcmp(tr->redo[i], position_id)) {
            memmove(tr->redo[i], tr->redo[--tr->redo_cnt], sizeof(tr->redo[0]));
            found = true;
            break;
        }
    pthread_mutex_unlock(&tr->redo_lock);
    return found;
}

void ex_trigger_defaults(ex_trigger_opts_t *o) {
    o->min_distance_km = 2.0;
    o->min_heading_deg = 10.0;
    o->min_speed_kn = 2.0;
    o->max_interval_s = 30.0;
}

static tracked_t *lookup(trigger_t *tr, const char *vessel_id, bool *fresh) {
    size_t i;
    *fresh = false;
    for (i = 0; i < tr->cnt; i++)
        if (!strcmp(tr->t[i].vessel_id, vessel_id))
            return &tr->t[i];
    if (tr->cnt == MAX_TRACKED) /* forget the oldest slot */
        i = 0;
    else
        i = tr->cnt++;
    memset(&tr->t[i], 0, sizeof(tr->t[i]));
    snprintf(tr->t[i].vessel_id, sizeof(tr->t[i].vessel_id), "%s", vessel_id);
    *fresh = true;
    return &tr->t[i];
}

/* Why a request is due now, or NULL. */
static const char *reason(const trigger_t *tr, const tracked_t *t, bool fresh,
                          const vtev_position_event_t *p) {
    const vtev_vessel_state_t *now = &p->data, *was = &t->last;
    if (fresh)
        return "first_position";
    if (strcmp(now->status, was->status))
        return "status_changed";
    if (ex_haversine_km(now->lat, now->lon, was->lat, was->lon) >= tr->o.min_distance_km)
        return "moved";
    if (now->speed >= 0.5 && ex_angle_diff(now->heading, was->heading) >= tr->o.min_heading_deg)
        return "heading_changed";
    if (fabs(now->speed - was->speed) >= tr->o.min_speed_kn)
        return "speed_changed";
    if (tr->o.max_interval_s > 0 &&
        p->env.timestamp_us - t->last_us >= (int64_t)(tr->o.max_interval_s * 1e6))
        return "interval";
    return NULL;
}

static vtev_verdict_t on_position(vtev_consumer_t *c, const vtev_event_t *ev,
                                  const vtev_msg_info_t *info, void *opaque) {
    trigger_t *tr = opaque;
    const vtev_position_event_t *p = &ev->u.position;
    vtev_request_event_t req;
    vtev_metadata_t *md;
    const char *why, *corr;
    char newcorr[64], errstr[512];
    tracked_t *t;
    bool fresh;
    vtev_err_t err;
    req_ctx_t *ctx;
    (void)info;

    atomic_fetch_add(&tr->st->consumed, 1);
    t = lookup(tr, p->env.vessel_id, &fresh);
    why = reason(tr, t, fresh, p);
    if (redo_take(tr, p->env.event_id) && !why)
        why = "redelivered";
    if (!why)
        return VTEV_VERDICT_OK;
    if (vtev_request_init(&req) != VTEV_ERR_OK)
        return VTEV_VERDICT_RETRY;
    snprintf(req.env.vessel_id, sizeof(req.env.vessel_id), "%s", p->env.vessel_id);
    req.data.vessel_snapshot = p->data;
    /* a vessel in the approach (slow, not moored) gets priority */
    req.data.priority = (p->data.speed < 10.0 && strcmp(p->data.status, "moored"))
                            ? VTEV_PRIORITY_HIGH
                            : VTEV_PRIORITY_NORMAL;
    if (!(corr = vtev_envelope_correlation_id(&p->env))) {
        ex_new_correlation_id(newcorr, sizeof(newcorr));
        corr = newcorr;
    }
    if (!(md = vtev_envelope_metadata(&req.env)) ||
        vtev_metadata_set_string(md, "correlation_id", corr) ||
        vtev_metadata_set_string(md, "source", "prediction-trigger") ||
        vtev_metadata_set_string(md, "triggered_by", why) ||
        vtev_metadata_set_string(md, "position_event_id", p->env.event_id) ||
        vtev_metadata_set_int(md, "position_timestamp_us", p->env.timestamp_us)) {
        vtev_request_clear(&req);
        return VTEV_VERDICT_RETRY;
    }
    /* the position's offset waits for the request's delivery report */
    if (!(ctx = calloc(1, sizeof(*ctx))) || !(ctx->pd = vtev_consumer_defer(c, 1))) {
        free(ctx);
        vtev_request_clear(&req);
        return VTEV_VERDICT_RETRY_ENV;
    }
    ctx->tr = tr;
    snprintf(ctx->position_id, sizeof(ctx->position_id), "%s", p->env.event_id);
    err = vtev_producer_publish_request(tr->prod, &req, ctx, errstr, sizeof(errstr));
    vtev_request_clear(&req);
    if (err != VTEV_ERR_OK) {
        vtev_pending_done(ctx->pd, err); /* no report will come */
        free(ctx);
    }
    if (err == VTEV_ERR_INVALID) {
        fprintf(stderr, "prediction-trigger: %s: %s\n", p->env.vessel_id, errstr);
        return VTEV_VERDICT_REJECT;
    }
    if (err != VTEV_ERR_OK) {
        fprintf(stderr, "prediction-trigger: publish: %s: %s (retrying)\n", vtev_err2name(err),
                errstr);
        return VTEV_VERDICT_RETRY;
    }
    atomic_fetch_add(&tr->st->published, 1);
    t->last = p->data;
    t->last_us = p->env.timestamp_us;
    return VTEV_VERDICT_OK;
}

/* On the producer's poll thread. */
static void req_dr(vtev_producer_t *p, const vtev_delivery_report_t *dr, void *opaque) {
    ex_stats_t *st = opaque;
    req_ctx_t *ctx = dr->msg_opaque;
    (void)p;
    if (dr->err == VTEV_ERR_OK)
        atomic_fetch_add(&st->delivered, 1);
    else {
        atomic_fetch_add(&st->failed, 1);
        fprintf(stderr, "prediction-trigger: request %s not delivered: %s (its position is "
                        "redelivered)\n", dr->event_id, dr->errstr);
        if (ctx)
            redo_add(ctx->tr, ctx->position_id);
    }
    if (ctx) {
        vtev_pending_done(ctx->pd, dr->err);
        free(ctx);
    }
}

int ex_trigger_run(vtev_conf_t *conf, const ex_trigger_opts_t *o, ex_stats_t *st,
                   atomic_int *stop) {
    char errstr[512], group[256];
    trigger_t tr;
    vtev_conf_t *pconf = NULL;
    vtev_consumer_t *c = NULL;
    int rc = 0;

    memset(&tr, 0, sizeof(tr));
    tr.o = *o;
    tr.st = st;
    pthread_mutex_init(&tr.redo_lock, NULL);
    ex_conf_str(conf, "group.id", group, sizeof(group));
    if (!group[0] && ex_conf_set(conf, "group.id", "prediction-triggers", errstr, sizeof(errstr)))
        goto fail;
    if (!(tr.t = calloc(MAX_TRACKED, sizeof(*tr.t))) || !(pconf = vtev_conf_dup(conf))) {
        snprintf(errstr, sizeof(errstr), "out of memory");
        goto fail;
    }
    if (ex_prefer_low_latency(pconf, errstr, sizeof(errstr)))
        goto fail;
    if (!(tr.prod = vtev_producer_new(pconf, errstr, sizeof(errstr))))
        goto fail;
    pconf = NULL;
    vtev_producer_set_dr_cb(tr.prod, req_dr, st);
    if (ex_consumer_conf(conf, errstr, sizeof(errstr)))
        goto fail;
    if (!(c = vtev_consumer_new(conf, errstr, sizeof(errstr))))
        goto fail;
    conf = NULL;
    if (vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, NULL, on_position, &tr, errstr,
                                sizeof(errstr)) != VTEV_ERR_OK)
        goto fail;
    rc = ex_consume_loop("prediction-trigger", c, st, stop);
    /* requests first, then the positions' offsets */
    if (vtev_producer_flush(tr.prod, 10000) != VTEV_ERR_OK)
        rc = 1;
    if (vtev_consumer_close(c, errstr, sizeof(errstr)) != VTEV_ERR_OK) {
        fprintf(stderr, "prediction-trigger: close: %s\n", errstr);
        rc = 1;
    }
    atomic_store(&st->dead_letters, ex_dead_letters(c));
    vtev_consumer_destroy(c);
    if (vtev_producer_close(tr.prod, NULL) != VTEV_ERR_OK)
        rc = 1;
    free(tr.t);
    free(tr.redo);
    pthread_mutex_destroy(&tr.redo_lock);
    return rc;
fail:
    fprintf(stderr, "prediction-trigger: %s\n", errstr);
    vtev_consumer_destroy(c);
    vtev_producer_destroy(tr.prod);
    vtev_conf_destroy(pconf);
    vtev_conf_destroy(conf);
    free(tr.t);
    free(tr.redo);
    pthread_mutex_destroy(&tr.redo_lock);
    return 1;
}

#ifndef EX_NO_MAIN
static const char usage[] =
    "usage: prediction-trigger [OPTIONS]\n"
    "Consumes vessel positions (group prediction-triggers unless -X group.id=...) and\n"
    "publishes a prediction request per vessel when its state changed meaningfully.\n\n"
    "  --min-distance KM   moved at least KM since the last request (default 2)\n"
    "  --min-heading DEG   turned at least DEG (default 10)\n"
    "  --min-speed KN      speed changed at least KN (default 2)\n"
    "  --max-interval S    a request at least every S seconds of event time (default 30; 0: never)\n"
    "  --stats-file F      write the counters to F at exit\n"
    "  --ready-file F        create F once the consumer has its partitions\n"
    "  --consumer-X KEY=VALUE  a configuration key for the consumer only (not its producer)\n" EX_COMMON_USAGE;

int main(int argc, char **argv) {
    static const struct option longopts[] = {
        EX_HTTP_LONGOPT,
        {"min-distance", required_argument, NULL, 1000},
        {"min-heading", required_argument, NULL, 1001},
        {"min-speed", required_argument, NULL, 1002},
        {"max-interval", required_argument, NULL, 1003},
        {"stats-file", required_argument, NULL, 1004},
        {"ready-file", required_argument, NULL, 1099},
        {"consumer-X", required_argument, NULL, 1098},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    ex_cli_t cli = {0};
    ex_http_t *http = NULL;
    ex_trigger_opts_t o;
    ex_stats_t st = {0};
    const char *stats_file = NULL;
    char errstr[512], *end;
    vtev_conf_t *conf;
    double *dst;
    int c, r;

    ex_trigger_defaults(&o);
    while ((c = getopt_long(argc, argv, EX_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if ((r = ex_cli_opt(&cli, c, optarg, "prediction-trigger", usage)) == 1)
            continue;
        if (r < 0)
            return 2;
        switch (c) {
        case 1000: dst = &o.min_distance_km; break;
        case 1001: dst = &o.min_heading_deg; break;
        case 1002: dst = &o.min_speed_kn; break;
        case 1003: dst = &o.max_interval_s; break;
        case 1004: stats_file = optarg; continue;
        case 1099: ex_ready_file = optarg; continue;
        case 1098:
            if (!strchr(optarg, '=') || ex_consumer_x_cnt == 16) {
                fprintf(stderr, "--consumer-X %s: expected KEY=VALUE (at most 16)\n", optarg);
                return 2;
            }
            ex_consumer_x[ex_consumer_x_cnt++] = optarg;
            continue;
        default: fputs(usage, stderr); return 2;
        }
        *dst = strtod(optarg, &end);
        if (*end || end == optarg || *dst < 0) {
            fprintf(stderr, "prediction-trigger: %s: not a number >= 0\n", optarg);
            return 2;
        }
    }
    if (!(conf = ex_cli_conf(&cli, errstr, sizeof(errstr)))) {
        fprintf(stderr, "prediction-trigger: %s\n", errstr);
        return 2;
    }
    ex_stop_on_signals();
    if (ex_http_begin(cli.http, "prediction-trigger", &st, &http) != 0) {
        vtev_conf_destroy(conf);
        return 1;
    }
    st.rc = ex_trigger_run(conf, &o, &st, &ex_interrupted);
    ex_http_stop(http);
    if (cli.verbosity >= 0)
        fprintf(stderr, "prediction-trigger: %" PRIu64 " positions, %" PRIu64
                        " requests delivered, %" PRIu64 " dead letters\n",
                (uint64_t)atomic_load(&st.consumed), (uint64_t)atomic_load(&st.delivered),
                (uint64_t)atomic_load(&st.dead_letters));
    if (stats_file && ex_stats_write(&st, stats_file))
        fprintf(stderr, "prediction-trigger: cannot write %s\n", stats_file);
    return st.rc;
}
#endif
