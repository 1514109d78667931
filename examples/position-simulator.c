/*
 * position-simulator - publishes vessel.position.updated events: the tracks
 * of a handful of LNG carriers approaching the Gulf Coast LNG terminals of
 * examples/data/terminals.csv.  Deterministic for a given --seed: the same
 * seed gives the same vessels, tracks and statuses (event ids and
 * timestamps are, of course, new).
 *
 * Each carrier starts 80-220 km offshore of a terminal, steams in at 14-18
 * knots with a wandering heading, slows down in the approach, sometimes
 * waits at anchor, berths ("moored"), then sails out to sea and picks the
 * next terminal.
 */
#include "common.h"
#include "http.h"

#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

static const char *const carrier_names[] = {
    "Gulf Aurora",   "Sabine Star",   "Calcasieu Spirit", "Texas Meridian", "Bayou Crystal",
    "Pelican Arrow", "Lone Star Gas", "Delta Sapphire",  "Coastal Breeze", "Magnolia LNG",
    "Port Neches",   "Galveston Sun", "Mariner Dawn",    "Seabrook Pearl", "Cypress Wind",
    "Laguna Frost"};
#define MAX_VESSELS ((int)(sizeof(carrier_names) / sizeof(carrier_names[0])))

enum phase { P_INBOUND, P_ANCHOR, P_MOORED, P_OUTBOUND };

typedef struct vessel_s {
    char id[32];
    const char *name;
    double lat, lon, speed, heading;
    double cruise;          /* knots */
    double wander;          /* degrees off the ideal course */
    size_t target;          /* terminal index */
    double wp_lat, wp_lon;  /* outbound waypoint */
    enum phase phase;
    int timer;              /* steps left at anchor / alongside */
    bool anchored_once;
} vessel_t;

struct ex_sim_s {
    const ex_terminals_t *tt;
    ex_sim_opts_t o;
    uint64_t rng;
    vessel_t v[16];
    int n;
    int next;
};

void ex_sim_defaults(ex_sim_opts_t *o) {
    memset(o, 0, sizeof(*o));
    o->seed = 42;
    o->vessels = 5;
    o->rate = 50;
    o->sim_step_s = 120;
}

static uint64_t rnd(ex_sim_t *s) { /* xorshift64* */
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    return s->rng * 2685821657736338717ULL;
}
static double urand(ex_sim_t *s) { return (double)(rnd(s) >> 11) / 9007199254740992.0; }
static double uniform(ex_sim_t *s, double a, double b) { return a + (b - a) * urand(s); }

/* The point @p km away from (lat, lon) on bearing @p brg. */
static void destination(double lat, double lon, double brg, double km, double *olat,
                        double *olon) {
    double d = km / EX_EARTH_RADIUS_KM, b = brg * PI / 180.0;
    double p1 = lat * PI / 180.0, l1 = lon * PI / 180.0;
    double p2 = asin(sin(p1) * cos(d) + cos(p1) * sin(d) * cos(b));
    double l2 = l1 + atan2(sin(b) * sin(d) * cos(p1), cos(d) - sin(p1) * sin(p2));
    *olat = p2 * 180.0 / PI;
    *olon = fmod(l2 * 180.0 / PI + 540.0, 360.0) - 180.0;
}

/* Open water lies in this bearing range from a terminal (south of the
 * Louisiana/Mississippi coast, south-east off Freeport, east off Corpus
 * Christi). */
static void seaward(const ex_terminal_t *t, double *lo, double *hi) {
    if (t->lon < -96.5) {
        *lo = 95;
        *hi = 140;
    } else if (t->lon < -94.5) {
        *lo = 120;
        *hi = 180;
    } else {
        *lo = 160;
        *hi = 205;
    }
}

static void offshore_point(ex_sim_t *s, const ex_terminal_t *t, double kmlo, double kmhi,
                           double *lat, double *lon) {
    double lo, hi;
    seaward(t, &lo, &hi);
    destination(t->lat, t->lon, uniform(s, lo, hi), uniform(s, kmlo, kmhi), lat, lon);
}

static void imo(ex_sim_t *s, char *buf, size_t size) {
    /* six digits of a modern ship (920000-989999) and the IMO check digit */
    uint64_t x = 920000 + rnd(s) % 70000;
    int d[6], i, sum = 0;
    for (i = 5; i >= 0; i--) {
        d[i] = (int)(x % 10);
        x /= 10;
    }
    for (i = 0; i < 6; i++)
        sum += d[i] * (7 - i);
    snprintf(buf, size, "IMO%d%d%d%d%d%d%d", d[0], d[1], d[2], d[3], d[4], d[5], sum % 10);
}

ex_sim_t *ex_sim_new(const ex_terminals_t *tt, const ex_sim_opts_t *o) {
    ex_sim_t *s = calloc(1, sizeof(*s));
    int i;
    if (!s)
        return NULL;
    s->tt = tt;
    s->o = *o;
    s->rng = o->seed * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL;
    if (!s->rng)
        s->rng = 1;
    s->n = o->vessels < 1 ? 1 : o->vessels > MAX_VESSELS ? MAX_VESSELS : o->vessels;
    for (i = 0; i < s->n; i++) {
        vessel_t *v = &s->v[i];
        const ex_terminal_t *t;
        imo(s, v->id, sizeof(v->id));
        v->name = carrier_names[i];
        v->target = (size_t)(rnd(s) % tt->cnt);
        t = &tt->t[v->target];
        offshore_point(s, t, 80, 220, &v->lat, &v->lon);
        v->cruise = uniform(s, 14.0, 18.0);
        v->speed = v->cruise + uniform(s, -1.0, 1.0);
        v->heading = ex_bearing_deg(v->lat, v->lon, t->lat, t->lon);
        v->wander = uniform(s, -8, 8);
        v->phase = P_INBOUND;
    }
    return s;
}

void ex_sim_destroy(ex_sim_t *s) { free(s); }

static double turn_towards(double from, double to, double max) {
    double d = fmod(to - from + 540.0, 360.0) - 180.0;
    if (d > max)
        d = max;
    if (d < -max)
        d = -max;
    return fmod(from + d + 360.0, 360.0);
}

static double approach(double from, double to, double max) {
    return from + (to - from > max ? max : to - from < -max ? -max : to - from);
}

static void step(ex_sim_t *s, vessel_t *v) {
    const ex_terminal_t *t = &s->tt->t[v->target];
    double dt_h = s->o.sim_step_s / 3600.0, want_speed, want_heading, tlat, tlon, km;
    switch (v->phase) {
    case P_MOORED:
        v->speed = 0.0;
        if (--v->timer <= 0) { /* cast off: out to sea, then the next terminal */
            v->phase = P_OUTBOUND;
            offshore_point(s, t, 60, 120, &v->wp_lat, &v->wp_lon);
            v->speed = 3.0;
        }
        return;
    case P_ANCHOR:
        v->speed = uniform(s, 0.0, 0.4);
        v->heading = fmod(v->heading + uniform(s, -6, 6) + 360.0, 360.0);
        if (--v->timer <= 0) {
            v->phase = P_INBOUND;
            v->speed = 4.0;
        }
        break;
    case P_INBOUND:
    case P_OUTBOUND:
        break;
    }
    if (v->phase == P_OUTBOUND) {
        tlat = v->wp_lat;
        tlon = v->wp_lon;
    } else {
        tlat = t->lat;
        tlon = t->lon;
    }
    km = ex_haversine_km(v->lat, v->lon, tlat, tlon);
    if (v->phase == P_INBOUND) {
        if (km < 0.8) { /* alongside */
            v->phase = P_MOORED;
            v->lat = t->lat;
            v->lon = t->lon;
            v->speed = 0.0;
            v->timer = 20 + (int)(rnd(s) % 40);
            return;
        }
        if (km < 30.0 && !v->anchored_once && urand(s) < 0.05) {
            v->anchored_once = true; /* waits for a berth */
            v->phase = P_ANCHOR;
            v->timer = 8 + (int)(rnd(s) % 20);
            v->speed = 0.2;
            return;
        }
    } else if (v->phase == P_OUTBOUND && km < 2.0) {
        size_t next = (size_t)(rnd(s) % s->tt->cnt);
        if (s->tt->cnt > 1 && next == v->target)
            next = (next + 1) % s->tt->cnt;
        v->target = next;
        v->phase = P_INBOUND;
        v->anchored_once = false;
        return;
    }
    if (v->phase == P_ANCHOR) {
        want_speed = v->speed;
    } else if (v->phase == P_INBOUND && km < 3.0) {
        want_speed = 3.0 + km;
    } else if (v->phase == P_INBOUND && km < 25.0) {
        want_speed = 6.0 + (v->cruise - 6.0) * (km - 3.0) / 22.0;
    } else {
        want_speed = v->cruise;
    }
    if (v->phase != P_ANCHOR) {
        /* the wander is a bounded random walk, smaller close in */
        v->wander += uniform(s, -3, 3);
        if (v->wander > 12)
            v->wander = 12;
        if (v->wander < -12)
            v->wander = -12;
        want_heading = ex_bearing_deg(v->lat, v->lon, tlat, tlon) +
                       v->wander * (km < 25.0 ? km / 25.0 : 1.0);
        v->heading = turn_towards(v->heading, fmod(want_heading + 360.0, 360.0), 15.0);
        v->speed = approach(v->speed, want_speed + uniform(s, -0.3, 0.3), 1.5);
        if (v->speed < 0)
            v->speed = 0;
    }
    destination(v->lat, v->lon, v->heading, v->speed * EX_KNOT_KMH * dt_h, &v->lat, &v->lon);
}

void ex_sim_next(ex_sim_t *s, char *vessel_id, size_t id_size, vtev_vessel_state_t *st) {
    vessel_t *v = &s->v[s->next];
    s->next = (s->next + 1) % s->n;
    step(s, v);
    snprintf(vessel_id, id_size, "%s", v->id);
    st->lat = round(v->lat * 1e6) / 1e6;
    st->lon = round(v->lon * 1e6) / 1e6;
    st->speed = round(v->speed * 10) / 10;
    if (st->speed < 0)
        st->speed = 0;
    st->heading = round(v->heading * 10) / 10;
    if (st->heading >= 360.0)
        st->heading = 0.0;
    snprintf(st->status, sizeof(st->status), "%s",
             v->phase == P_MOORED   ? "moored"
             : v->phase == P_ANCHOR ? "at anchor"
                                    : "underway");
}

/* ------------------------------------------------------------------ service */

static void sim_dr(vtev_producer_t *p, const vtev_delivery_report_t *dr, void *opaque) {
    ex_stats_t *st = opaque;
    (void)p;
    if (dr->err == VTEV_ERR_OK)
        atomic_fetch_add(&st->delivered, 1);
    else
        atomic_fetch_add(&st->failed, 1);
}

int ex_sim_run(vtev_conf_t *conf, const ex_sim_opts_t *o, ex_stats_t *st, atomic_int *stop) {
    char errstr[512], vid[64];
    ex_terminals_t tt;
    ex_sim_t *sim = NULL;
    vtev_producer_t *prod;
    int64_t start = ex_now_us(), seq = 0;
    int rc = 0;

    if (ex_terminals_load(&tt, ex_terminals_default_path(), errstr, sizeof(errstr))) {
        fprintf(stderr, "position-simulator: %s\n", errstr);
        vtev_conf_destroy(conf);
        return 1;
    }
    if (ex_prefer_low_latency(conf, errstr, sizeof(errstr)) ||
        !(prod = vtev_producer_new(conf, errstr, sizeof(errstr)))) {
        fprintf(stderr, "position-simulator: %s\n", errstr);
        vtev_conf_destroy(conf);
        return 1;
    }
    vtev_producer_set_dr_cb(prod, sim_dr, st);
    if (!(sim = ex_sim_new(&tt, o))) {
        fprintf(stderr, "position-simulator: out of memory\n");
        vtev_producer_destroy(prod);
        return 1;
    }
    atomic_store(&st->ready, 1);
    while (!atomic_load(stop)) {
        vtev_position_event_t ev;
        vtev_metadata_t *md;
        char corr[64];
        vtev_err_t err;
        int64_t due;
        if (o->count > 0 && seq >= o->count)
            break;
        if (o->duration_s > 0 && ex_now_us() - start >= (int64_t)(o->duration_s * 1e6))
            break;
        if (o->rate > 0) { /* pace: position seq is due at start + seq/rate */
            due = start + (int64_t)((double)seq * 1e6 / o->rate);
            while (!atomic_load(stop) && ex_now_us() < due) {
                int64_t left = (due - ex_now_us()) / 1000;
                ex_sleep_ms(left > 50 ? 50 : left < 1 ? 1 : (int)left);
            }
        }
        if (vtev_position_init(&ev) != VTEV_ERR_OK) {
            fprintf(stderr, "position-simulator: no random source\n");
            rc = 1;
            break;
        }
        ex_sim_next(sim, vid, sizeof(vid), &ev.data);
        snprintf(ev.env.vessel_id, sizeof(ev.env.vessel_id), "%s", vid);
        ex_new_correlation_id(corr, sizeof(corr));
        if (!(md = vtev_envelope_metadata(&ev.env)) ||
            vtev_metadata_set_string(md, "correlation_id", corr) ||
            vtev_metadata_set_string(md, "source", "position-simulator") ||
            vtev_metadata_set_int(md, "sim_seq", seq)) {
            fprintf(stderr, "position-simulator: out of memory\n");
            vtev_position_clear(&ev);
            rc = 1;
            break;
        }
        if (o->print) {
            vtev_event_t e;
            char *json = NULL;
            e.type = VTEV_EVENT_POSITION;
            e.u.position = ev;
            if (vtev_event_to_json(&e, 0, &json, NULL) == VTEV_ERR_OK) {
                printf("%s\n", json);
                fflush(stdout);
            }
            vtev_free(json);
        }
        err = vtev_producer_publish_position(prod, &ev, NULL, errstr, sizeof(errstr));
        vtev_position_clear(&ev);
        if (err == VTEV_ERR_QUEUE_FULL || err == VTEV_ERR_REGISTRY_UNAVAILABLE) {
            ex_sleep_ms(100);
            continue; /* same seq again: the track already moved on, fine */
        }
        if (err != VTEV_ERR_OK) {
            fprintf(stderr, "position-simulator: publish: %s: %s\n", vtev_err2name(err), errstr);
            atomic_fetch_add(&st->failed, 1);
            rc = 1;
            break;
        }
        atomic_fetch_add(&st->published, 1);
        seq++;
    }
    ex_sim_destroy(sim);
    {
        size_t undelivered = 0;
        if (vtev_producer_close(prod, &undelivered) != VTEV_ERR_OK) {
            fprintf(stderr, "position-simulator: %zu positions not delivered\n", undelivered);
            rc = 1;
        }
    }
    if (atomic_load(&st->failed))
        rc = 1;
    return rc;
}

#ifndef EX_NO_MAIN
static const char usage[] =
    "usage: position-simulator [OPTIONS]\n"
    "Publishes vessel.position.updated events of LNG carriers approaching the Gulf Coast\n"
    "LNG terminals (examples/data/terminals.csv; $VTEV_TERMINALS overrides).\n\n"
    "  --seed N          track seed (default 42): same seed, same tracks\n"
    "  --vessels N       number of carriers, 1-16 (default 5)\n"
    "  --rate R          positions per second, all vessels (default 50; 0: as fast as possible)\n"
    "  --count N         stop after N positions (default: no limit)\n"
    "  --duration S      stop after S seconds (default: no limit)\n"
    "  --step S          simulated seconds between two fixes of a vessel (default 120)\n"
    "  --print           also print each position as JSON on stdout\n"
    "  --stats-file F    write the counters to F at exit\n"
    "  --linger          with --http: after the last position, keep serving /metrics\n"
    "                    until SIGINT or SIGTERM (so that a scraper reads the totals)\n" EX_COMMON_USAGE;

int main(int argc, char **argv) {
    static const struct option longopts[] = {
        EX_HTTP_LONGOPT,
        {"seed", required_argument, NULL, 1000},   {"vessels", required_argument, NULL, 1001},
        {"rate", required_argument, NULL, 1002},   {"count", required_argument, NULL, 1003},
        {"duration", required_argument, NULL, 1004}, {"step", required_argument, NULL, 1005},
        {"print", no_argument, NULL, 1006},        {"stats-file", required_argument, NULL, 1007},
        {"linger", no_argument, NULL, 1008},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    bool linger = false;
    ex_cli_t cli = {0};
    ex_http_t *http = NULL;
    ex_sim_opts_t o;
    ex_stats_t st = {0};
    const char *stats_file = NULL;
    char errstr[512], *end;
    vtev_conf_t *conf;
    int c, r;

    ex_sim_defaults(&o);
    while ((c = getopt_long(argc, argv, EX_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if ((r = ex_cli_opt(&cli, c, optarg, "position-simulator", usage)) == 1)
            continue;
        if (r < 0)
            return 2;
        switch (c) {
        case 1000: o.seed = strtoull(optarg, &end, 10); break;
        case 1001: o.vessels = (int)strtol(optarg, &end, 10); break;
        case 1002: o.rate = strtod(optarg, &end); break;
        case 1003: o.count = strtoll(optarg, &end, 10); break;
        case 1004: o.duration_s = strtod(optarg, &end); break;
        case 1005: o.sim_step_s = strtod(optarg, &end); break;
        case 1006: o.print = true; continue;
        case 1007: stats_file = optarg; continue;
        case 1008: linger = true; continue;
        default: fputs(usage, stderr); return 2;
        }
        if (*end || end == optarg) {
            fprintf(stderr, "position-simulator: %s: not a number\n", optarg);
            return 2;
        }
    }
    if (o.vessels < 1 || o.vessels > MAX_VESSELS || o.rate < 0 || o.count < 0 ||
        o.duration_s < 0 || o.sim_step_s <= 0) {
        fprintf(stderr, "position-simulator: --vessels 1-%d, --rate/--count/--duration >= 0, "
                        "--step > 0\n", MAX_VESSELS);
        return 2;
    }
    if (!(conf = ex_cli_conf(&cli, errstr, sizeof(errstr)))) {
        fprintf(stderr, "position-simulator: %s\n", errstr);
        return 2;
    }
    ex_stop_on_signals();
    if (ex_http_begin(cli.http, "position-simulator", &st, &http) != 0) {
        vtev_conf_destroy(conf);
        return 1;
    }
    st.rc = ex_sim_run(conf, &o, &st, &ex_interrupted);
    /* --linger: the counters stay served (and scraped) until a signal */
    while (linger && http && !atomic_load(&ex_interrupted))
        ex_sleep_ms(100);
    ex_http_stop(http);
    if (cli.verbosity >= 0)
        fprintf(stderr, "position-simulator: %" PRIu64 " positions published, %" PRIu64
                        " delivered\n",
                (uint64_t)atomic_load(&st.published), (uint64_t)atomic_load(&st.delivered));
    if (stats_file && ex_stats_write(&st, stats_file))
        fprintf(stderr, "position-simulator: cannot write %s\n", stats_file);
    return st.rc;
}
#endif
