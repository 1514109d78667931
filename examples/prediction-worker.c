/*
 * prediction-worker - consumes prediction requests (group prediction-workers)
 * and publishes prediction.analysis.completed results for the best three
 * terminals of examples/data/terminals.csv.  The engine is deterministic
 * (common.c): haversine distance, proximity, speed and heading scores,
 * confidence and ETA; no model is called (rag_boost = ai_adjustment = 0).
 *
 * --exactly-once: each request is handled in a Kafka transaction
 * (consume-transform-produce): begin, publish the results, add the
 * consumer's offsets to the transaction, commit.  An abortable error aborts
 * the transaction and the request is redelivered (handler verdict RETRY);
 * read_committed readers see each request's result set exactly once, also
 * when the worker is killed and restarted.
 *
 * Without --exactly-once (at-least-once): the request's offset is stored
 * only once all its results were stored by the broker
 * (vtev_consumer_defer(); each result's delivery report calls
 * vtev_pending_done()).  A result that is not delivered re-delivers its
 * request; result ids are deterministic, so the persister's upsert keeps
 * one row per result.
 */
#include "common.h"
#include "http.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct worker_s {
    ex_worker_opts_t o;
    ex_terminals_t tt;
    ex_stats_t *st;
    vtev_producer_t *prod;
    atomic_int *stop;
    bool fatal;
} worker_t;

static int build_result(const vtev_request_event_t *req, const ex_prediction_t *p, int rank,
                        double ms, const char *corr, vtev_result_event_t *res) {
    vtev_metadata_t *md;
    int64_t pos_ts;
    if (vtev_result_init(res) != VTEV_ERR_OK)
        return -1;
    snprintf(res->env.vessel_id, sizeof(res->env.vessel_id), "%s", req->env.vessel_id);
    snprintf(res->request_id, sizeof(res->request_id), "%s", req->request_id);
    ex_prediction_id(req->request_id, p->terminal->id, res->data.prediction_id,
                     sizeof(res->data.prediction_id));
    res->data.terminal_id = p->terminal->id;
    snprintf(res->data.terminal_name, sizeof(res->data.terminal_name), "%s", p->terminal->name);
    res->data.confidence_score = p->confidence;
    res->data.scores.proximity = p->proximity;
    res->data.scores.speed = p->speed;
    res->data.scores.heading = p->heading;
    res->data.scores.rag_boost = 0.0;
    res->data.scores.ai_adjustment = 0.0;
    res->data.distance_km = p->distance_km;
    res->data.has_eta_hours = p->has_eta;
    res->data.eta_hours = p->eta_hours;
    ex_reasoning(p, &req->data.vessel_snapshot, res->data.ai_reasoning,
                 sizeof(res->data.ai_reasoning));
    res->data.vessel_snapshot = req->data.vessel_snapshot;
    pos_ts = ex_meta_int(&req->env, "position_timestamp_us", -1);
    if (!(md = vtev_envelope_metadata(&res->env)) ||
        vtev_metadata_set_string(md, "correlation_id", corr) ||
        vtev_metadata_set_string(md, "source", "prediction-worker") ||
        vtev_metadata_set_string(md, "model_version", "deterministic-1") ||
        vtev_metadata_set_double(md, "processing_time_ms", ms) ||
        vtev_metadata_set_int(md, "rank", rank) ||
        vtev_metadata_set_int(md, "request_timestamp_us", req->env.timestamp_us) ||
        (pos_ts >= 0 && vtev_metadata_set_int(md, "position_timestamp_us", pos_ts))) {
        vtev_result_clear(res);
        return -1;
    }
    return 0;
}

/* Publishes the results; VTEV_ERR_OK or the first error.  With @p c
 * (at-least-once), the request's offset waits for the results' delivery
 * reports. */
static vtev_err_t publish_all(worker_t *w, vtev_consumer_t *c, const vtev_request_event_t *req,
                              char *errstr, size_t errstr_size) {
    vtev_pending_t *pd = NULL;
    ex_prediction_t preds[8];
    const char *corr = vtev_envelope_correlation_id(&req->env);
    char newcorr[64];
    size_t n, i;
    int64_t t0 = ex_now_us();
    double ms;
    if (!corr) {
        ex_new_correlation_id(newcorr, sizeof(newcorr));
        corr = newcorr;
    }
    n = ex_predict(&w->tt, &req->data.vessel_snapshot, req->data.has_terminal_filter,
                   req->data.terminal_filter, preds, (size_t)w->o.max_results);
    ms = (double)(ex_now_us() - t0) / 1000.0;
    if (c && n > 0 && !(pd = vtev_consumer_defer(c, (unsigned)n))) {
        snprintf(errstr, errstr_size, "out of memory");
        return VTEV_ERR_NOMEM;
    }
    for (i = 0; i < n; i++) {
        vtev_result_event_t res;
        vtev_err_t err;
        if (build_result(req, &preds[i], (int)i + 1, ms, corr, &res)) {
            snprintf(errstr, errstr_size, "out of memory");
            err = VTEV_ERR_NOMEM;
        } else {
            err = vtev_producer_publish_result(w->prod, &res, pd, errstr, errstr_size);
            vtev_result_clear(&res);
        }
        if (err != VTEV_ERR_OK) {
            for (; pd && i < n; i++) /* the results that will get no report */
                vtev_pending_done(pd, err);
            return err;
        }
        atomic_fetch_add(&w->st->published, 1);
    }
    return VTEV_ERR_OK;
}

static vtev_verdict_t txn_failed(worker_t *w, vtev_err_t err, const char *what,
                                 const char *errstr) {
    char e2[512];
    if (err == VTEV_ERR_FATAL) {
        fprintf(stderr, "prediction-worker: %s: fatal: %s\n", what, errstr);
        w->fatal = true;
        atomic_store(w->stop, 1);
        return VTEV_VERDICT_RETRY;
    }
    fprintf(stderr, "prediction-worker: %s: %s: %s (aborting; the request is redelivered)\n",
            what, vtev_err2name(err), errstr);
    atomic_fetch_add(&w->st->aborts, 1);
    if (vtev_producer_abort_transaction(w->prod, 30000, e2, sizeof(e2)) != VTEV_ERR_OK) {
        fprintf(stderr, "prediction-worker: abort: %s\n", e2);
        w->fatal = true;
        atomic_store(w->stop, 1);
    }
    return VTEV_VERDICT_RETRY;
}

static vtev_verdict_t on_request(vtev_consumer_t *c, const vtev_event_t *ev,
                                 const vtev_msg_info_t *info, void *opaque) {
    worker_t *w = opaque;
    const vtev_request_event_t *req = &ev->u.request;
    char errstr[512];
    vtev_err_t err;
    int tries;
    (void)info;

    atomic_fetch_add(&w->st->consumed, 1);
    if (w->fatal)
        return VTEV_VERDICT_RETRY;
    if (!w->o.exactly_once) {
        err = publish_all(w, c, req, errstr, sizeof(errstr));
        if (err == VTEV_ERR_OK)
            return VTEV_VERDICT_OK;
        fprintf(stderr, "prediction-worker: %s: %s: %s\n", req->request_id, vtev_err2name(err),
                errstr);
        return err == VTEV_ERR_INVALID ? VTEV_VERDICT_REJECT : VTEV_VERDICT_RETRY;
    }
    if ((err = vtev_producer_begin_transaction(w->prod, errstr, sizeof(errstr))) != VTEV_ERR_OK)
        return txn_failed(w, err, "begin_transaction", errstr);
    if ((err = publish_all(w, NULL, req, errstr, sizeof(errstr))) != VTEV_ERR_OK)
        return txn_failed(w, err, "publish", errstr);
    for (tries = 0;; tries++) {
        err = vtev_consumer_txn_send_offsets(c, w->prod, 30000, errstr, sizeof(errstr));
        if (err != VTEV_ERR_TXN_RETRIABLE || tries == 5)
            break;
    }
    if (err != VTEV_ERR_OK)
        return txn_failed(w, err, "send_offsets", errstr);
    for (tries = 0;; tries++) {
        err = vtev_producer_commit_transaction(w->prod, 30000, errstr, sizeof(errstr));
        if ((err != VTEV_ERR_TXN_RETRIABLE && err != VTEV_ERR_TIMED_OUT) || tries == 5)
            break;
    }
    if (err != VTEV_ERR_OK)
        return txn_failed(w, err, "commit_transaction", errstr);
    return VTEV_VERDICT_OK;
}

/* On the producer's poll thread.  msg_opaque: the request's pending
 * verdict (NULL with --exactly-once). */
static void res_dr(vtev_producer_t *p, const vtev_delivery_report_t *dr, void *opaque) {
    ex_stats_t *st = opaque;
    (void)p;
    if (dr->err == VTEV_ERR_OK)
        atomic_fetch_add(&st->delivered, 1);
    else if (dr->err != VTEV_ERR_PURGED || dr->msg_opaque) { /* purged in EOS: an abort */
        atomic_fetch_add(&st->failed, 1);
        fprintf(stderr, "prediction-worker: result %s not delivered: %s (its request is "
                        "redelivered)\n", dr->event_id, dr->errstr);
    }
    vtev_pending_done(dr->msg_opaque, dr->err);
}

int ex_worker_run(vtev_conf_t *conf, const ex_worker_opts_t *o, ex_stats_t *st,
                  atomic_int *stop) {
    char errstr[512], buf[256];
    worker_t w;
    vtev_conf_t *pconf = NULL;
    vtev_consumer_t *c = NULL;
    int rc = 0;

    memset(&w, 0, sizeof(w));
    w.o = *o;
    if (w.o.max_results < 1 || w.o.max_results > 8)
        w.o.max_results = 3;
    w.st = st;
    w.stop = stop;
    if (ex_terminals_load(&w.tt, o->terminals_path ? o->terminals_path
                                                   : ex_terminals_default_path(),
                          errstr, sizeof(errstr)))
        goto fail;
    ex_conf_str(conf, "group.id", buf, sizeof(buf));
    if (!buf[0] && ex_conf_set(conf, "group.id", "prediction-workers", errstr, sizeof(errstr)))
        goto fail;
    if (!(pconf = vtev_conf_dup(conf))) {
        snprintf(errstr, sizeof(errstr), "out of memory");
        goto fail;
    }
    if (o->exactly_once) {
        ex_conf_str(pconf, "kafka.transactional.id", buf, sizeof(buf));
        if (!buf[0] && ex_conf_set(pconf, "kafka.transactional.id", "prediction-worker-0", errstr,
                                   sizeof(errstr)))
            goto fail;
        /* offsets are committed by the transactions, not by the consumer */
        if (ex_conf_set(conf, "kafka.enable.auto.commit", "false", errstr, sizeof(errstr)) ||
            ex_conf_set(conf, "kafka.isolation.level", "read_committed", errstr, sizeof(errstr)))
            goto fail;
    } else {
        ex_conf_str(pconf, "kafka.transactional.id", buf, sizeof(buf));
        if (buf[0]) {
            snprintf(errstr, sizeof(errstr),
                     "kafka.transactional.id is set: use --exactly-once");
            goto fail;
        }
    }
    if (ex_prefer_low_latency(pconf, errstr, sizeof(errstr)))
        goto fail;
    if (!(w.prod = vtev_producer_new(pconf, errstr, sizeof(errstr))))
        goto fail;
    pconf = NULL;
    vtev_producer_set_dr_cb(w.prod, res_dr, st);
    if (o->exactly_once &&
        vtev_producer_init_transactions(w.prod, 60000, errstr, sizeof(errstr)) != VTEV_ERR_OK)
        goto fail;
    if (ex_consumer_conf(conf, errstr, sizeof(errstr)))
        goto fail;
    if (!(c = vtev_consumer_new(conf, errstr, sizeof(errstr))))
        goto fail;
    conf = NULL;
    if (vtev_consumer_subscribe(c, VTEV_EVENT_REQUEST, NULL, on_request, &w, errstr,
                                sizeof(errstr)) != VTEV_ERR_OK)
        goto fail;
    rc = ex_consume_loop("prediction-worker", c, st, stop);
    if (w.fatal) {
        /* Leave without committing anything: the uncommitted requests are
         * redelivered to the next worker. */
        fprintf(stderr, "prediction-worker: stopping after a fatal transaction error\n");
        _Exit(1);
    }
    if (!o->exactly_once && vtev_producer_flush(w.prod, 10000) != VTEV_ERR_OK)
        rc = 1;
    if (vtev_consumer_close(c, errstr, sizeof(errstr)) != VTEV_ERR_OK) {
        fprintf(stderr, "prediction-worker: close: %s\n", errstr);
        rc = 1;
    }
    atomic_store(&st->dead_letters, ex_dead_letters(c));
    vtev_consumer_destroy(c);
    if (vtev_producer_close(w.prod, NULL) != VTEV_ERR_OK)
        rc = 1;
    return rc;
fail:
    fprintf(stderr, "prediction-worker: %s\n", errstr);
    vtev_consumer_destroy(c);
    vtev_producer_destroy(w.prod);
    vtev_conf_destroy(pconf);
    vtev_conf_destroy(conf);
    return 1;
}

#ifndef EX_NO_MAIN
static const char usage[] =
    "usage: prediction-worker [OPTIONS]\n"
    "Consumes prediction requests (group prediction-workers unless -X group.id=...) and\n"
    "publishes results for the best three terminals (deterministic engine).\n\n"
    "  --exactly-once          consume-transform-produce in Kafka transactions\n"
    "  --transactional-id ID   kafka.transactional.id for --exactly-once (default\n"
    "                          prediction-worker-0; one per worker instance)\n"
    "  --terminals FILE        terminals CSV (default examples/data/terminals.csv)\n"
    "  --stats-file F          write the counters to F at exit\n"
    "  --ready-file F        create F once the consumer has its partitions\n"
    "  --consumer-X KEY=VALUE  a configuration key for the consumer only (not its producer)\n" EX_COMMON_USAGE;

int main(int argc, char **argv) {
    static const struct option longopts[] = {
        EX_HTTP_LONGOPT,
        {"exactly-once", no_argument, NULL, 1000},
        {"transactional-id", required_argument, NULL, 1001},
        {"terminals", required_argument, NULL, 1002},
        {"stats-file", required_argument, NULL, 1003},
        {"ready-file", required_argument, NULL, 1099},
        {"consumer-X", required_argument, NULL, 1098},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    ex_cli_t cli = {0};
    ex_http_t *http = NULL;
    ex_worker_opts_t o = {0};
    ex_stats_t st = {0};
    const char *stats_file = NULL, *txn_id = NULL;
    char errstr[512];
    vtev_conf_t *conf;
    int c, r;

    o.max_results = 3;
    while ((c = getopt_long(argc, argv, EX_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if ((r = ex_cli_opt(&cli, c, optarg, "prediction-worker", usage)) == 1)
            continue;
        if (r < 0)
            return 2;
        switch (c) {
        case 1000: o.exactly_once = true; break;
        case 1001: txn_id = optarg; break;
        case 1002: o.terminals_path = optarg; break;
        case 1003: stats_file = optarg; break;
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
    }
    if (txn_id && !o.exactly_once) {
        fprintf(stderr, "prediction-worker: --transactional-id needs --exactly-once\n");
        return 2;
    }
    if (!(conf = ex_cli_conf(&cli, errstr, sizeof(errstr)))) {
        fprintf(stderr, "prediction-worker: %s\n", errstr);
        return 2;
    }
    if (txn_id && ex_conf_set(conf, "kafka.transactional.id", txn_id, errstr, sizeof(errstr))) {
        fprintf(stderr, "prediction-worker: %s\n", errstr);
        vtev_conf_destroy(conf);
        return 2;
    }
    ex_stop_on_signals();
    if (ex_http_begin(cli.http, "prediction-worker", &st, &http) != 0) {
        vtev_conf_destroy(conf);
        return 1;
    }
    st.rc = ex_worker_run(conf, &o, &st, &ex_interrupted);
    ex_http_stop(http);
    if (cli.verbosity >= 0)
        fprintf(stderr, "prediction-worker: %" PRIu64 " requests, %" PRIu64
                        " results delivered, %" PRIu64 " aborted transactions, %" PRIu64
                        " dead letters\n",
                (uint64_t)atomic_load(&st.consumed), (uint64_t)atomic_load(&st.delivered),
                (uint64_t)atomic_load(&st.aborts), (uint64_t)atomic_load(&st.dead_letters));
    if (stats_file && ex_stats_write(&st, stats_file))
        fprintf(stderr, "prediction-worker: cannot write %s\n", stats_file);
    return st.rc;
}
#endif
