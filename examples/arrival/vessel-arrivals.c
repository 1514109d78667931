/*
 * vessel-arrivals - records vessel arrivals at terminals and scores the
 * terminal predictions against them (the platform's learning feedback).
 *
 * The stream vessel.arrival.recorded is defined outside libvtevents, the way
 * any service would define its own: vessel.arrival.recorded.avsc next to this
 * file is the single source of the event (fields, defaults, constraints), and
 * the build runs vt-codegen on it (--prefix acme), which writes
 * vessel_arrival_recorded.h/.c with the struct acme_vessel_arrival_recorded_t
 * and its descriptor acme_vessel_arrival_recorded_type.  This program uses
 * nothing else than that generated code and the library's public API:
 * vtev_producer_publish_type() and vtev_consumer_subscribe_type().
 *
 *   vessel-arrivals record   publish arrivals: --count N made up (seeded), or
 *                            --input FILE of JSON lines (the event's JSON form)
 *   vessel-arrivals report   consume them (typed), print each one and how
 *                            well the predictions did
 *   vessel-arrivals demo     both in one process: record, then read back the
 *                            arrivals of this run (what works on the embedded
 *                            mock:// cluster and registry, which live in the
 *                            process)
 *
 * The common flags are those of the platform's example programs (-b -r -X -F
 * -q -v -V -h, see examples/common.c); they are written out again here, as
 * the program builds on its own with pkg-config (Makefile, meson.build).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* getopt_long, getline, gmtime_r */
#endif

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vtevents/vtevents.h>

#include "vessel_arrival_recorded.h"

#define PROG "vessel-arrivals"
#define ARRIVAL (&acme_vessel_arrival_recorded_type)
#define DEFAULT_TOPIC "vessel-arrivals"
#define DEFAULT_GROUP "arrival-feedback"
#define N_OUTCOMES (ACME_ARRIVAL_OUTCOME_UNKNOWN + 1) /* the reader's symbols */

typedef acme_vessel_arrival_recorded_t arrival_t;

static atomic_int g_stop;

static void on_signal(int sig) {
    (void)sig;
    atomic_store(&g_stop, 1);
}

/* ------------------------------------------------------------------ options */

typedef struct opts_s {
    /* common */
    const char *file, *brokers, *registry;
    const char *x[64];
    size_t x_cnt;
    int verbosity;
    /* record */
    long count;
    bool count_given;
    uint64_t seed;
    const char *input;
    bool print;
    /* report */
    long expect;
    double timeout_s;
    const char *group;
    bool quiet_arrivals;
    /* both */
    const char *topic;
} opts_t;

static const char usage_text[] =
    "Usage: " PROG " record [--count N] [--seed S] [--input FILE] [--print] [COMMON]\n"
    "       " PROG " report [--expect N] [--timeout S] [--group G] [COMMON]\n"
    "       " PROG " demo   [--count N | --input FILE] [--seed S] [--timeout S] [COMMON]\n"
    "Records vessel arrivals (vessel.arrival.recorded) and scores the terminal\n"
    "predictions against them.\n\n"
    "  record: publishes --count made-up arrivals (default 10, deterministic for\n"
    "          --seed, default 42), or one per line of --input FILE ('-' for\n"
    "          stdin), each line the event's JSON form; absent fields take their\n"
    "          defaults, an absent outcome is derived from predicted_terminal_id.\n"
    "          A line that breaks the schema's constraints is refused (the field\n"
    "          is named), the others are published; exit 2 when any was refused.\n"
    "  report: consumes the arrivals (group " DEFAULT_GROUP "), prints one line per\n"
    "          arrival and, at the end, the share of predictions that named the\n"
    "          right terminal and the ETA error; stops after --expect N arrivals\n"
    "          (exit 1 when --timeout S passes first) or on SIGINT/SIGTERM.\n"
    "  demo:   record, then report the arrivals of this run, in one process:\n"
    "          on the embedded mock:// cluster and registry (the default), both\n"
    "          live in the process.\n\n"
    "  --topic T         the topic (default " DEFAULT_TOPIC ")\n"
    "  --print           record: each published event's JSON form on stdout\n"
    "  --quiet-arrivals  report: only the summary\n"
    "  -b BROKERS        bootstrap.servers (default: $KAFKA_BOOTSTRAP_SERVERS or mock://default)\n"
    "  -r URL            schema.registry.url (default: $SCHEMA_REGISTRY_URL or mock://default)\n"
    "  -X KEY=VALUE      any libvtevents configuration key; repeatable\n"
    "  -F FILE           properties file (else $VTEV_CONFIG)\n"
    "  -q / -v           quieter / more verbose\n"
    "  -V                versions\n"
    "  -h, --help        this text\n\n"
    "Exit status: 0 ok, 1 runtime failure (delivery, broker, registry, not every\n"
    "arrival read back in time), 2 usage or a refused arrival.\n";

enum { OPT_COUNT = 256, OPT_SEED, OPT_INPUT, OPT_PRINT, OPT_EXPECT, OPT_TIMEOUT, OPT_GROUP,
       OPT_TOPIC, OPT_QUIET_ARRIVALS };

static int parse_long(const char *opt, const char *arg, long min, long *out) {
    char *end;
    long v;
    errno = 0;
    v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v < min) {
        fprintf(stderr, PROG ": %s %s: expected an integer >= %ld\n", opt, arg, min);
        return -1;
    }
    *out = v;
    return 0;
}

static void print_version(void) {
    printf(PROG " (libvtevents examples)\nlibvtevents %s\nlibrdkafka %s\n", vtev_version_str(),
           vtev_rdkafka_version_str());
}

/* Parses argv after the command.  0, or 2 on a usage error (message printed). */
static int parse_opts(int argc, char **argv, opts_t *o) {
    static const struct option lopts[] = {
        {"count", required_argument, NULL, OPT_COUNT},
        {"seed", required_argument, NULL, OPT_SEED},
        {"input", required_argument, NULL, OPT_INPUT},
        {"print", no_argument, NULL, OPT_PRINT},
        {"expect", required_argument, NULL, OPT_EXPECT},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"group", required_argument, NULL, OPT_GROUP},
        {"topic", required_argument, NULL, OPT_TOPIC},
        {"quiet-arrivals", no_argument, NULL, OPT_QUIET_ARRIVALS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;
    long v;
    char *end;
    while ((c = getopt_long(argc, argv, "b:r:X:F:qvVh", lopts, NULL)) != -1) {
        switch (c) {
        case 'b': o->brokers = optarg; break;
        case 'r': o->registry = optarg; break;
        case 'F': o->file = optarg; break;
        case 'X':
            if (!strchr(optarg, '=') || optarg[0] == '=') {
                fprintf(stderr, PROG ": -X %s: expected KEY=VALUE\n", optarg);
                return 2;
            }
            if (o->x_cnt == sizeof(o->x) / sizeof(o->x[0])) {
                fprintf(stderr, PROG ": too many -X options\n");
                return 2;
            }
            o->x[o->x_cnt++] = optarg;
            break;
        case 'q': o->verbosity--; break;
        case 'v': o->verbosity++; break;
        case 'V': print_version(); exit(0);
        case 'h': fputs(usage_text, stdout); exit(0);
        case OPT_COUNT:
            if (parse_long("--count", optarg, 0, &o->count))
                return 2;
            o->count_given = true;
            break;
        case OPT_SEED:
            errno = 0;
            o->seed = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end) {
                fprintf(stderr, PROG ": --seed %s: expected an unsigned integer\n", optarg);
                return 2;
            }
            break;
        case OPT_INPUT: o->input = optarg; break;
        case OPT_PRINT: o->print = true; break;
        case OPT_EXPECT:
            if (parse_long("--expect", optarg, 0, &v))
                return 2;
            o->expect = v;
            break;
        case OPT_TIMEOUT:
            o->timeout_s = strtod(optarg, &end);
            if (end == optarg || *end || !(o->timeout_s >= 0)) {
                fprintf(stderr, PROG ": --timeout %s: expected seconds >= 0\n", optarg);
                return 2;
            }
            break;
        case OPT_GROUP: o->group = optarg; break;
        case OPT_TOPIC:
            if (!*optarg) {
                fprintf(stderr, PROG ": --topic: must not be empty\n");
                return 2;
            }
            o->topic = optarg;
            break;
        case OPT_QUIET_ARRIVALS: o->quiet_arrivals = true; break;
        default: fprintf(stderr, "Try '" PROG " --help'.\n"); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (o->input && o->count_given) {
        fprintf(stderr, PROG ": --count and --input exclude each other\n");
        return 2;
    }
    return 0;
}

/* The configuration: -F file (else $VTEV_CONFIG), the environment, -q/-v,
 * -b, -r, -X.  Says once on stderr when the embedded mock:// default is in
 * use because nothing configured a broker or registry. */
static vtev_conf_t *make_conf(const opts_t *o, char *errstr, size_t errstr_size) {
    vtev_conf_t *conf = vtev_conf_new();
    const char *file = o->file;
    char msg[512];
    size_t i;
    if (!conf) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    if (!file && getenv("VTEV_CONFIG") && *getenv("VTEV_CONFIG"))
        file = getenv("VTEV_CONFIG");
    if (file && vtev_conf_load_file(conf, file, errstr, errstr_size) != VTEV_ERR_OK)
        goto fail;
    if (vtev_conf_load_env(conf, errstr, errstr_size) != VTEV_ERR_OK)
        goto fail;
    if (o->verbosity &&
        vtev_conf_set(conf, "log.level", o->verbosity < 0 ? "3" : "7", errstr, errstr_size) !=
            VTEV_CONF_OK)
        goto fail;
    if (o->brokers &&
        vtev_conf_set(conf, "bootstrap.servers", o->brokers, errstr, errstr_size) != VTEV_CONF_OK)
        goto fail;
    if (o->registry && vtev_conf_set(conf, "schema.registry.url", o->registry, errstr,
                                     errstr_size) != VTEV_CONF_OK)
        goto fail;
    for (i = 0; i < o->x_cnt; i++) {
        char key[256];
        const char *eq = strchr(o->x[i], '=');
        size_t kl = (size_t)(eq - o->x[i]);
        if (kl >= sizeof(key)) {
            snprintf(errstr, errstr_size, "-X %s: key too long", o->x[i]);
            goto fail;
        }
        memcpy(key, o->x[i], kl);
        key[kl] = '\0';
        if (vtev_conf_set(conf, key, eq + 1, errstr, errstr_size) != VTEV_CONF_OK)
            goto fail;
    }
    /* even with -q: nothing else tells the user that the events go nowhere */
    if (vtev_conf_embedded_defaults(conf, msg, sizeof(msg)) > 0)
        fprintf(stderr,
                PROG ": warning: %s; give real ones with -b/-r, KAFKA_BOOTSTRAP_SERVERS/"
                     "SCHEMA_REGISTRY_URL or a properties file (-F)\n",
                msg);
    return conf;
fail:
    vtev_conf_destroy(conf);
    return NULL;
}

/* ------------------------------------------------------------------ helpers */

static int64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* "2026-01-10T15:30:00.000Z" from milliseconds since the epoch. */
static void fmt_ms(int64_t ms, char *buf, size_t size) {
    time_t s = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm;
    int frac = (int)(ms - (int64_t)s * 1000);
    char secs[48];
    if (!gmtime_r(&s, &tm)) {
        snprintf(buf, size, "%" PRId64 " ms", ms);
        return;
    }
    if (!strftime(secs, sizeof(secs), "%Y-%m-%dT%H:%M:%S", &tm))
        secs[0] = '\0';
    snprintf(buf, size, "%s.%03dZ", secs, frac);
}

/* The string value of metadata key @p key, or NULL. */
static const char *meta_str(const arrival_t *a, const char *key) {
    size_t i;
    for (i = 0; i < a->metadata.len; i++)
        if (a->metadata.entries[i].key && !strcmp(a->metadata.entries[i].key, key))
            return a->metadata.entries[i].value.which ==
                           ACME_VESSEL_ARRIVAL_RECORDED_METADATA_VALUE_STRING
                       ? a->metadata.entries[i].value.u.v_string
                       : NULL;
    return NULL;
}

/* Adds metadata key=value (a string) unless the key is there.  0 or -1 (memory). */
static int meta_add_str(arrival_t *a, const char *key, const char *value) {
    acme_vessel_arrival_recorded_metadata_entry_t *e;
    size_t i;
    for (i = 0; i < a->metadata.len; i++)
        if (a->metadata.entries[i].key && !strcmp(a->metadata.entries[i].key, key))
            return 0;
    e = realloc(a->metadata.entries, (a->metadata.len + 1) * sizeof(*e));
    if (!e)
        return -1;
    a->metadata.entries = e;
    e = &e[a->metadata.len];
    memset(e, 0, sizeof(*e));
    e->value.which = ACME_VESSEL_ARRIVAL_RECORDED_METADATA_VALUE_STRING;
    if (!(e->key = strdup(key)) || !(e->value.u.v_string = strdup(value))) {
        free(e->key);
        return -1;
    }
    a->metadata.len++;
    return 0;
}

static const char *outcome_name(acme_arrival_outcome_t o) {
    switch (o) {
    case ACME_ARRIVAL_OUTCOME_MATCHED: return "matched";
    case ACME_ARRIVAL_OUTCOME_OTHER_TERMINAL: return "other_terminal";
    case ACME_ARRIVAL_OUTCOME_UNKNOWN: return "unknown";
    }
    return "?";
}

/* ------------------------------------------------------------------ made-up arrivals */

/* The LNG terminals of the US Gulf Coast (the ids and names of the platform's
 * examples/data/terminals.csv). */
static const struct {
    int64_t id;
    const char *name;
} terminals[] = {
    {1, "Sabine Pass LNG"},   {2, "Golden Pass LNG"},    {3, "Cameron LNG"},
    {4, "Calcasieu Pass LNG"}, {5, "Lake Charles LNG"},  {6, "Freeport LNG"},
    {7, "Corpus Christi LNG"}, {8, "Gulf LNG Pascagoula"}, {9, "Plaquemines LNG"},
};
#define N_TERMINALS (sizeof(terminals) / sizeof(terminals[0]))

static uint64_t splitmix(uint64_t *s) {
    uint64_t x = (*s += 0x9E3779B97F4A7C15ULL);
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

static double unit(uint64_t *s) { return (double)(splitmix(s) >> 11) / 9007199254740992.0; }

/* Arrival @p i of a seeded run: a vessel (IMO number with its check digit) at
 * a terminal, at 40-minute steps from 2026-01-10T00:00Z, each up to 10 minutes
 * late; 7 in 10 were predicted right (ETA error roughly normal, sd 1.5 h),
 * 2 in 10 predicted for another terminal, 1 in 10 without a prediction.
 * Fills the fields init() leaves open.  0 or -1 (memory). */
static int made_up(arrival_t *a, uint64_t seed, long i) {
    uint64_t s = seed * 1000003u + (uint64_t)i;
    unsigned d[6], sum = 0, k, n = 100000 + (unsigned)(splitmix(&s) % 900000);
    size_t t = (size_t)(splitmix(&s) % N_TERMINALS);
    double r = unit(&s);
    char buf[64];
    for (k = 6; k-- > 0; n /= 10)
        d[k] = n % 10;
    for (k = 0; k < 6; k++)
        sum += d[k] * (7 - k);
    snprintf(buf, sizeof(buf), "IMO%u%u%u%u%u%u%u", d[0], d[1], d[2], d[3], d[4], d[5], sum % 10);
    if (!(a->vessel_id = strdup(buf)) || !(a->data.terminal_name = strdup(terminals[t].name)))
        return -1;
    a->data.terminal_id = terminals[t].id;
    a->data.arrived_at = INT64_C(1768003200000) + (int64_t)i * 2400000 +
                         (int64_t)(unit(&s) * 600000.0);
    if (r < 0.9) {
        snprintf(buf, sizeof(buf), "pred-%016" PRIx64 "-%ld", splitmix(&s), i);
        if (!(a->data.prediction_id = strdup(buf)))
            return -1;
        a->data.has_prediction_id = true;
        a->data.has_predicted_terminal_id = true;
        a->data.has_confidence_score = true;
        if (r < 0.7) {
            /* the sum of four uniforms: roughly normal, sd 1.5 h */
            double e = unit(&s);
            e += unit(&s);
            e += unit(&s);
            e += unit(&s);
            e = (e - 2.0) * 2.6;
            a->data.predicted_terminal_id = terminals[t].id;
            a->data.confidence_score = floor((0.6 + 0.35 * unit(&s)) * 100.0) / 100.0;
            a->data.has_eta_error_hours = true;
            a->data.eta_error_hours = round(e * 100.0) / 100.0;
        } else {
            a->data.predicted_terminal_id = terminals[(t + 1 + splitmix(&s) % (N_TERMINALS - 1)) %
                                                      N_TERMINALS].id;
            a->data.confidence_score = floor((0.35 + 0.35 * unit(&s)) * 100.0) / 100.0;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ record */

typedef struct recorded_s {
    long published, refused;
} recorded_t;

/* The outcome follows from the prediction when the input leaves it unknown;
 * one that contradicts the prediction is refused.  0, or -1 with errstr. */
static int derive_outcome(arrival_t *a, char *errstr, size_t errstr_size) {
    acme_vessel_arrival_data_t *d = &a->data;
    if (!d->has_predicted_terminal_id) {
        if (d->outcome != ACME_ARRIVAL_OUTCOME_UNKNOWN) {
            snprintf(errstr, errstr_size,
                     "data.outcome: %s needs data.predicted_terminal_id (no prediction: unknown)",
                     outcome_name(d->outcome));
            return -1;
        }
        return 0;
    }
    if (d->outcome == ACME_ARRIVAL_OUTCOME_UNKNOWN)
        d->outcome = d->predicted_terminal_id == d->terminal_id
                         ? ACME_ARRIVAL_OUTCOME_MATCHED
                         : ACME_ARRIVAL_OUTCOME_OTHER_TERMINAL;
    else if ((d->outcome == ACME_ARRIVAL_OUTCOME_MATCHED) !=
             (d->predicted_terminal_id == d->terminal_id)) {
        snprintf(errstr, errstr_size,
                 "data.outcome: %s, but the prediction named terminal %" PRId64
                 " and the vessel arrived at %" PRId64,
                 outcome_name(d->outcome), d->predicted_terminal_id, d->terminal_id);
        return -1;
    }
    return 0;
}

/* Publishes one arrival.  0 published, 1 refused (message printed), -1 a
 * runtime failure (message printed). */
static int publish_one(vtev_producer_t *p, const opts_t *o, arrival_t *a, const char *where,
                       const char *run_id) {
    char errstr[512];
    vtev_err_t err;
    if (derive_outcome(a, errstr, sizeof(errstr))) {
        fprintf(stderr, PROG ": %s: refused: %s\n", where, errstr);
        return 1;
    }
    if (meta_add_str(a, "source", PROG) || (run_id && meta_add_str(a, "run_id", run_id))) {
        fprintf(stderr, PROG ": out of memory\n");
        return -1;
    }
    /* validates against the schema's constraints, encodes, frames with the
     * schema id (registered once), keys the message by vessel_id (vt.key) */
    err = vtev_producer_publish_type(p, ARRIVAL, o->topic, a, NULL, 0, NULL, 0, NULL, errstr,
                                     sizeof(errstr));
    if (err == VTEV_ERR_INVALID) {
        fprintf(stderr, PROG ": %s: refused: %s\n", where, errstr);
        return 1;
    }
    if (err != VTEV_ERR_OK) {
        fprintf(stderr, PROG ": %s: publish: %s: %s\n", where, vtev_err2name(err), errstr);
        return -1;
    }
    if (o->print) {
        char *json;
        if (ARRIVAL->to_json(a, 0, &json, NULL) == VTEV_ERR_OK) {
            puts(json);
            free(json);
        }
    }
    return 0;
}

/* Reads JSON lines from @p path ('-': stdin).  Returns 0, -1 after a
 * runtime failure or -2 when the input cannot be read; rec counts what was
 * published and refused. */
static int record_input(vtev_producer_t *p, const opts_t *o, const char *run_id, recorded_t *rec) {
    FILE *f = strcmp(o->input, "-") ? fopen(o->input, "r") : stdin;
    const char *name = strcmp(o->input, "-") ? o->input : "stdin";
    char *line = NULL, where[512], errstr[512];
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    int rc = 0;
    if (!f) {
        fprintf(stderr, PROG ": %s: %s\n", o->input, strerror(errno));
        return -2;
    }
    while (!atomic_load(&g_stop) && (len = getline(&line, &cap, f)) >= 0) {
        arrival_t a;
        vtev_err_t err;
        int r;
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        snprintf(where, sizeof(where), "%s:%ld", name, lineno);
        /* absent fields take their init value: a fresh event_id, the time now,
         * the defaults of the schema */
        err = ARRIVAL->from_json(&a, line, (size_t)len, errstr, sizeof(errstr));
        if (err == VTEV_ERR_NOMEM) {
            fprintf(stderr, PROG ": out of memory\n");
            rc = -1;
            break;
        }
        if (err != VTEV_ERR_OK) {
            fprintf(stderr, PROG ": %s: refused: %s\n", where, errstr);
            rec->refused++;
            continue;
        }
        r = publish_one(p, o, &a, where, run_id);
        ARRIVAL->clear(&a);
        if (r < 0) {
            rc = -1;
            break;
        }
        if (r > 0)
            rec->refused++;
        else
            rec->published++;
    }
    if (rc == 0 && ferror(f)) {
        fprintf(stderr, PROG ": %s: %s\n", name, strerror(errno));
        rc = -2;
    }
    free(line);
    if (f != stdin)
        fclose(f);
    return rc;
}

static int record_made_up(vtev_producer_t *p, const opts_t *o, const char *run_id,
                          recorded_t *rec) {
    long i;
    for (i = 0; i < o->count && !atomic_load(&g_stop); i++) {
        arrival_t a;
        char where[64];
        int r;
        if (ARRIVAL->init(&a) != VTEV_ERR_OK || made_up(&a, o->seed, i)) {
            fprintf(stderr, PROG ": out of memory\n");
            ARRIVAL->clear(&a);
            return -1;
        }
        snprintf(where, sizeof(where), "arrival %ld", i + 1);
        r = publish_one(p, o, &a, where, run_id);
        ARRIVAL->clear(&a);
        if (r < 0)
            return -1;
        if (r > 0)
            rec->refused++;
        else
            rec->published++;
    }
    return 0;
}

/* record: 0, 1 (runtime failure) or 2 (an arrival was refused). */
static int cmd_record(vtev_conf_t *conf, const opts_t *o, const char *run_id, recorded_t *rec) {
    char errstr[512];
    vtev_producer_t *p = vtev_producer_new(conf, errstr, sizeof(errstr));
    vtev_producer_stats_t st;
    vtev_err_t err;
    int rc;
    if (!p) {
        fprintf(stderr, PROG ": producer: %s\n", errstr);
        vtev_conf_destroy(conf);
        return 1;
    }
    rc = o->input ? record_input(p, o, run_id, rec) : record_made_up(p, o, run_id, rec);
    if ((err = vtev_producer_flush(p, 30000)) != VTEV_ERR_OK)
        fprintf(stderr, PROG ": flush: %s\n", vtev_err2name(err));
    /* typed publishes count under VTEV_EVENT_NONE */
    memset(&st, 0, sizeof(st));
    vtev_producer_stats(p, VTEV_EVENT_NONE, &st);
    vtev_producer_destroy(p);
    if (o->verbosity >= 0)
        fprintf(stderr,
                PROG ": recorded %ld arrivals on %s (%" PRIu64 " delivered, %" PRIu64
                     " failed), %ld refused\n",
                rec->published, o->topic, st.delivered, st.failed, rec->refused);
    if (rc == -1 || err != VTEV_ERR_OK || st.delivered != (uint64_t)rec->published)
        return 1;
    return rc == -2 || rec->refused ? 2 : 0;
}

/* ------------------------------------------------------------------ report */

typedef struct report_s {
    const opts_t *o;
    const char *run_id;   /* demo: only this run's arrivals */
    long seen, skipped;   /* arrivals counted; other runs' arrivals (demo) */
    long outcome[N_OUTCOMES]; /* by acme_arrival_outcome_t */
    long eta_n;
    double eta_sum, eta_abs_sum;
    double conf_sum[N_OUTCOMES]; /* summed confidence of the predictions, by outcome */
    long conf_n[N_OUTCOMES];     /* how many of them had a confidence */
} report_t;

/* The handler: called on the polling thread with each decoded arrival that
 * passed the schema's constraints (the consumer dead-letters the others). */
static vtev_verdict_t on_arrival(vtev_consumer_t *c, const vtev_type_t *type, const void *ev,
                                 const vtev_msg_info_t *info, void *opaque) {
    const arrival_t *a = ev;
    const acme_vessel_arrival_data_t *d = &a->data;
    report_t *r = opaque;
    char at[40], eta[48] = "", conf[32] = "";
    const char *run = meta_str(a, "run_id");
    (void)c, (void)type, (void)info;
    if (r->run_id && (!run || strcmp(run, r->run_id))) {
        r->skipped++;
        return VTEV_VERDICT_OK;
    }
    r->seen++;
    r->outcome[d->outcome]++;
    if (d->has_confidence_score) {
        r->conf_sum[d->outcome] += d->confidence_score;
        r->conf_n[d->outcome]++;
        snprintf(conf, sizeof(conf), "conf %.2f", d->confidence_score);
    }
    if (d->has_eta_error_hours) {
        r->eta_n++;
        r->eta_sum += d->eta_error_hours;
        r->eta_abs_sum += fabs(d->eta_error_hours);
        snprintf(eta, sizeof(eta), "ETA error %+.2f h", d->eta_error_hours);
    }
    fmt_ms(d->arrived_at, at, sizeof(at));
    if (!r->o->quiet_arrivals) {
        char pred[96] = "no prediction";
        if (d->has_predicted_terminal_id)
            snprintf(pred, sizeof(pred), "predicted %" PRId64 "%s%s", d->predicted_terminal_id,
                     d->has_prediction_id ? " " : "", d->has_prediction_id ? d->prediction_id : "");
        printf("%-11s %-20s (%" PRId64 ")  %s  %-14s  %-9s  %-18s  %s\n", a->vessel_id,
               d->terminal_name, d->terminal_id, at, outcome_name(d->outcome), conf, eta, pred);
        fflush(stdout);
    }
    return VTEV_VERDICT_OK;
}

static void print_summary(const report_t *r, const vtev_consumer_stats_t *st) {
    long predicted = r->outcome[ACME_ARRIVAL_OUTCOME_MATCHED] +
                     r->outcome[ACME_ARRIVAL_OUTCOME_OTHER_TERMINAL];
    printf("summary: arrivals %ld, predicted %ld: matched %ld, other terminal %ld; "
           "no prediction %ld\n",
           r->seen, predicted, r->outcome[ACME_ARRIVAL_OUTCOME_MATCHED],
           r->outcome[ACME_ARRIVAL_OUTCOME_OTHER_TERMINAL],
           r->outcome[ACME_ARRIVAL_OUTCOME_UNKNOWN]);
    if (predicted > 0) {
        int m = ACME_ARRIVAL_OUTCOME_MATCHED, x = ACME_ARRIVAL_OUTCOME_OTHER_TERMINAL;
        printf("accuracy: %.1f%% of the predictions named the terminal reached",
               100.0 * (double)r->outcome[m] / (double)predicted);
        if (r->conf_n[m] > 0 || r->conf_n[x] > 0)
            printf("; mean confidence");
        if (r->conf_n[m] > 0)
            printf(" %.2f when right", r->conf_sum[m] / (double)r->conf_n[m]);
        if (r->conf_n[x] > 0)
            printf("%s %.2f when wrong", r->conf_n[m] > 0 ? "," : "",
                   r->conf_sum[x] / (double)r->conf_n[x]);
        printf("\n");
    }
    if (r->eta_n > 0)
        printf("eta: mean error %+.2f h, mean absolute error %.2f h (%ld arrival%s)\n",
               r->eta_sum / (double)r->eta_n, r->eta_abs_sum / (double)r->eta_n, r->eta_n,
               r->eta_n == 1 ? "" : "s");
    printf("consumer: consumed %" PRIu64 ", ok %" PRIu64 ", dead letters %" PRIu64 "%s\n",
           st->consumed, st->ok, st->dead_lettered,
           r->skipped ? " (includes arrivals of other runs)" : "");
}

/* report: 0, 1 (runtime failure, or --expect not reached in time). */
static int cmd_report(vtev_conf_t *conf, const opts_t *o, const char *run_id) {
    char errstr[512];
    vtev_consumer_t *c;
    vtev_consumer_stats_t st;
    report_t r;
    int64_t deadline = o->timeout_s > 0 ? now_us() + (int64_t)(o->timeout_s * 1e6) : 0;
    int rc = 0;
    memset(&r, 0, sizeof(r));
    r.o = o;
    r.run_id = run_id;
    if (!vtev_conf_is_set(conf, "group.id") &&
        vtev_conf_set(conf, "group.id", o->group ? o->group : DEFAULT_GROUP, errstr,
                      sizeof(errstr)) != VTEV_CONF_OK) {
        fprintf(stderr, PROG ": group.id: %s\n", errstr);
        vtev_conf_destroy(conf);
        return 1;
    }
    if (!(c = vtev_consumer_new(conf, errstr, sizeof(errstr)))) {
        fprintf(stderr, PROG ": consumer: %s\n", errstr);
        vtev_conf_destroy(conf);
        return 1;
    }
    /* decoded into the generated struct (the fast path for this schema, Avro
     * schema resolution for other versions of it), checked against the
     * constraints, then handed to on_arrival */
    if (vtev_consumer_subscribe_type(c, ARRIVAL, o->topic, on_arrival, &r, errstr,
                                     sizeof(errstr)) != VTEV_ERR_OK) {
        fprintf(stderr, PROG ": subscribe %s: %s\n", o->topic, errstr);
        vtev_consumer_destroy(c);
        return 1;
    }
    while (!atomic_load(&g_stop) && !(o->expect > 0 && r.seen >= o->expect)) {
        vtev_err_t err = vtev_consumer_poll(c, 100, errstr, sizeof(errstr));
        if (err != VTEV_ERR_OK) {
            fprintf(stderr, PROG ": poll: %s: %s\n", vtev_err2name(err), errstr);
            rc = 1;
            break;
        }
        if (deadline && now_us() > deadline) {
            if (o->expect > 0) {
                fprintf(stderr, PROG ": %ld of %ld arrivals after %.0f s\n", r.seen, o->expect,
                        o->timeout_s);
                rc = 1;
            }
            break;
        }
    }
    memset(&st, 0, sizeof(st));
    vtev_consumer_type_stats(c, ARRIVAL, &st);
    if (vtev_consumer_close(c, errstr, sizeof(errstr)) != VTEV_ERR_OK) {
        fprintf(stderr, PROG ": close: %s\n", errstr);
        rc = 1;
    }
    vtev_consumer_destroy(c);
    print_summary(&r, &st);
    return rc;
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv) {
    opts_t o;
    const char *cmd;
    char errstr[512], run_id[64];
    vtev_conf_t *conf;
    int rc;
    memset(&o, 0, sizeof(o));
    o.count = 10;
    o.seed = 42;
    o.topic = DEFAULT_TOPIC;
    if (argc < 2) {
        fputs(usage_text, stderr);
        return 2;
    }
    cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
        print_version();
        return 0;
    }
    if (strcmp(cmd, "record") && strcmp(cmd, "report") && strcmp(cmd, "demo")) {
        fprintf(stderr, PROG ": unknown command '%s' (record, report or demo)\n", cmd);
        return 2;
    }
    if ((rc = parse_opts(argc - 1, argv + 1, &o)) != 0)
        return rc;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if (!(conf = make_conf(&o, errstr, sizeof(errstr)))) {
        fprintf(stderr, PROG ": %s\n", errstr);
        return 2;
    }
    if (!strcmp(cmd, "record")) {
        recorded_t rec = {0, 0};
        return cmd_record(conf, &o, NULL, &rec);
    }
    if (!strcmp(cmd, "report"))
        return cmd_report(conf, &o, NULL);
    /* demo: record with a run id in the metadata, then read back exactly the
     * arrivals of this run, in a group of its own */
    {
        recorded_t rec = {0, 0};
        vtev_conf_t *cconf = vtev_conf_dup(conf);
        char group[128];
        int rrc;
        if (!cconf) {
            fprintf(stderr, PROG ": out of memory\n");
            vtev_conf_destroy(conf);
            return 1;
        }
        snprintf(run_id, sizeof(run_id), "run-%" PRIx64 "-%ld", (uint64_t)now_us(),
                 (long)getpid());
        rc = cmd_record(conf, &o, run_id, &rec);
        if (rc == 1 || atomic_load(&g_stop)) {
            vtev_conf_destroy(cconf);
            return rc ? rc : 1;
        }
        snprintf(group, sizeof(group), "%s-%s", o.group ? o.group : DEFAULT_GROUP, run_id);
        o.group = group;
        o.expect = rec.published;
        if (o.timeout_s == 0)
            o.timeout_s = 60;
        if (rec.published == 0) {
            vtev_conf_destroy(cconf);
            return rc;
        }
        rrc = cmd_report(cconf, &o, run_id);
        return rrc ? rrc : rc;
    }
}
