/*
 * prediction-persister - consumes prediction results (group
 * prediction-db-writers) and upserts them by prediction_id into SQLite (the
 * default: a file) or PostgreSQL (--db postgresql://...).  Upserts are
 * idempotent, so a redelivered result (at-least-once) leaves one row; the
 * row keeps the latency of the result's first arrival.
 *
 * A database that fails (down, restarting, busy, disk full) is the
 * environment, not the result: the persister logs it, counts it
 * (db_retries) and answers VTEV_VERDICT_RETRY_ENV, so the partition pauses
 * and the result is retried after a growing backoff, without limit, and is
 * never dead-lettered.  Only a row the database refuses for its content
 * (ex_store_upsert() == EX_STORE_BAD) is dead-lettered.
 *
 * The store and its database back ends are store.c, db_sqlite.c and db_pg.c.
 */
#include "common.h"
#include "http.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ service */

typedef struct persister_s {
    ex_persister_opts_t o;
    ex_store_t *store;
    ex_stats_t *st;
    bool retrying; /* the last upsert failed on the database */
} persister_t;

static vtev_verdict_t on_result(vtev_consumer_t *c, const vtev_event_t *ev,
                                const vtev_msg_info_t *info, void *opaque) {
    persister_t *ps = opaque;
    const vtev_result_event_t *r = &ev->u.result;
    int64_t pos_ts = ex_meta_int(&r->env, "position_timestamp_us", -1);
    double latency = pos_ts > 0 ? (double)(ex_now_us() - pos_ts) / 1000.0 : -1.0;
    char errstr[512];
    int rc;
    (void)c;
    (void)info;
    if ((rc = ex_store_upsert(ps->store, r, latency, errstr, sizeof(errstr))) == EX_STORE_BAD) {
        fprintf(stderr, "prediction-persister: %s: %s (dead-lettering it)\n",
                r->data.prediction_id, errstr);
        ps->retrying = false;
        atomic_fetch_add(&ps->st->consumed, 1);
        return VTEV_VERDICT_REJECT;
    }
    if (rc) {
        uint64_t n = atomic_fetch_add(&ps->st->db_retries, 1) + 1;
        fprintf(stderr, "prediction-persister: database unavailable: %s (pausing; retry %" PRIu64
                        ")\n", errstr, n);
        ps->retrying = true; /* for the log line once it works again */
        return VTEV_VERDICT_RETRY_ENV;
    }
    if (ps->retrying) {
        fprintf(stderr, "prediction-persister: database available again\n");
        ps->retrying = false;
    }
    /* counted once it is finished (not on each retry) */
    atomic_fetch_add(&ps->st->consumed, 1);
    atomic_fetch_add(&ps->st->rows, 1);
    if (getenv("EX_DEBUG_LATENCY"))
        fprintf(stderr, "hops: position->request %.1f ms, request->result %.1f ms, result->persisted %.1f ms\n",
                (double)(ex_meta_int(&r->env, "request_timestamp_us", 0) - pos_ts) / 1000.0,
                (double)(r->env.timestamp_us - ex_meta_int(&r->env, "request_timestamp_us", 0)) / 1000.0,
                (double)(ex_now_us() - r->env.timestamp_us) / 1000.0);
    if (ps->o.print) {
        char eta[32];
        if (r->data.has_eta_hours)
            snprintf(eta, sizeof(eta), "ETA %5.1f h", r->data.eta_hours);
        else
            snprintf(eta, sizeof(eta), "ETA    -   ");
        printf("%-10s %-9s %5.1f kn -> %-20s conf %.2f  %6.1f km  %s  (prox %.2f speed %.2f "
               "heading %.2f)  %s  %.0f ms\n",
               r->env.vessel_id, r->data.vessel_snapshot.status, r->data.vessel_snapshot.speed,
               r->data.terminal_name, r->data.confidence_score, r->data.distance_km, eta,
               r->data.scores.proximity, r->data.scores.speed, r->data.scores.heading,
               r->request_id, latency);
        fflush(stdout);
    }
    return VTEV_VERDICT_OK;
}

int ex_persister_run(vtev_conf_t *conf, const ex_persister_opts_t *o, ex_stats_t *st,
                     atomic_int *stop) {
    char errstr[512], buf[256];
    persister_t ps;
    vtev_consumer_t *c = NULL;
    int rc = 0;

    memset(&ps, 0, sizeof(ps));
    ps.o = *o;
    ps.st = st;
    if (!(ps.store = ex_store_open(o->db, o->table, errstr, sizeof(errstr))))
        goto fail;
    ex_conf_str(conf, "group.id", buf, sizeof(buf));
    if (!buf[0] &&
        ex_conf_set(conf, "group.id", "prediction-db-writers", errstr, sizeof(errstr)))
        goto fail;
    ex_conf_str(conf, "kafka.isolation.level", buf, sizeof(buf));
    if (!buf[0] &&
        ex_conf_set(conf, "kafka.isolation.level", "read_committed", errstr, sizeof(errstr)))
        goto fail;
    if (ex_consumer_conf(conf, errstr, sizeof(errstr)))
        goto fail;
    if (!(c = vtev_consumer_new(conf, errstr, sizeof(errstr))))
        goto fail;
    conf = NULL;
    if (vtev_consumer_subscribe(c, VTEV_EVENT_RESULT, NULL, on_result, &ps, errstr,
                                sizeof(errstr)) != VTEV_ERR_OK)
        goto fail;
    rc = ex_consume_loop("prediction-persister", c, st, stop);
    if (vtev_consumer_close(c, errstr, sizeof(errstr)) != VTEV_ERR_OK) {
        fprintf(stderr, "prediction-persister: close: %s\n", errstr);
        rc = 1;
    }
    atomic_store(&st->dead_letters, ex_dead_letters(c));
    vtev_consumer_destroy(c);
    ex_store_close(ps.store);
    return rc;
fail:
    fprintf(stderr, "prediction-persister: %s\n", errstr);
    vtev_consumer_destroy(c);
    vtev_conf_destroy(conf);
    ex_store_close(ps.store);
    return 1;
}

#ifndef EX_NO_MAIN
static const char usage[] =
    "usage: prediction-persister [OPTIONS]\n"
    "Consumes prediction results (group prediction-db-writers unless -X group.id=...) and\n"
    "upserts them by prediction_id.\n\n"
    "  --db DB           SQLite file (default predictions.db; also sqlite:PATH) or\n"
    "                    postgresql://user@host:port/dbname\n"
    "  --table NAME      table (default predictions; created when missing)\n"
    "  --print           one line per prediction on stdout\n"
    "  --stats-file F    write the counters to F at exit\n"
    "  --ready-file F        create F once the consumer has its partitions\n"
    "  --consumer-X KEY=VALUE  a configuration key for the consumer only (not its producer)\n" EX_COMMON_USAGE;

int main(int argc, char **argv) {
    static const struct option longopts[] = {
        EX_HTTP_LONGOPT,
        {"db", required_argument, NULL, 1000},    {"table", required_argument, NULL, 1001},
        {"print", no_argument, NULL, 1002},       {"stats-file", required_argument, NULL, 1003},
        {"ready-file", required_argument, NULL, 1099},
        {"consumer-X", required_argument, NULL, 1098},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    ex_cli_t cli = {0};
    ex_http_t *http = NULL;
    ex_persister_opts_t o = {0};
    ex_stats_t st = {0};
    const char *stats_file = NULL;
    char errstr[512];
    vtev_conf_t *conf;
    int c, r;

    while ((c = getopt_long(argc, argv, EX_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if ((r = ex_cli_opt(&cli, c, optarg, "prediction-persister", usage)) == 1)
            continue;
        if (r < 0)
            return 2;
        switch (c) {
        case 1000: o.db = optarg; break;
        case 1001: o.table = optarg; break;
        case 1002: o.print = true; break;
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
    /* a --db of a kind this build left out is a usage error (the value is
     * not repeated: a URL may hold a password) */
    if (ex_store_check(o.db, errstr, sizeof(errstr))) {
        fprintf(stderr, "prediction-persister: %s: %s\n",
                o.db && *o.db ? "--db" : "the default --db predictions.db", errstr);
        return 2;
    }
    if (!(conf = ex_cli_conf(&cli, errstr, sizeof(errstr)))) {
        fprintf(stderr, "prediction-persister: %s\n", errstr);
        return 2;
    }
    ex_stop_on_signals();
    if (ex_http_begin(cli.http, "prediction-persister", &st, &http) != 0) {
        vtev_conf_destroy(conf);
        return 1;
    }
    st.rc = ex_persister_run(conf, &o, &st, &ex_interrupted);
    ex_http_stop(http);
    if (cli.verbosity >= 0)
        fprintf(stderr, "prediction-persister: %" PRIu64 " results, %" PRIu64 " upserts, %" PRIu64
                        " dead letters\n",
                (uint64_t)atomic_load(&st.consumed), (uint64_t)atomic_load(&st.rows),
                (uint64_t)atomic_load(&st.dead_letters));
    if (stats_file && ex_stats_write(&st, stats_file))
        fprintf(stderr, "prediction-persister: cannot write %s\n", stats_file);
    return st.rc;
}
#endif
