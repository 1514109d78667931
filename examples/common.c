/*
 * common.c - terminals, the deterministic prediction engine, CLI
 * configuration and small helpers shared by the example services.
 */
#include "common.h"
#include "http.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef EX_DATA_DIR
#define EX_DATA_DIR "."
#endif
#ifndef EX_SRC_DATA_DIR
#define EX_SRC_DATA_DIR EX_DATA_DIR
#endif

#define PI 3.14159265358979323846
#define RAD(d) ((d) * PI / 180.0)
#define DEG(r) ((r) * 180.0 / PI)

/* ------------------------------------------------------------------ terminals */

const char *ex_terminals_default_path(void) {
    const char *env = getenv("VTEV_TERMINALS");
    if (env && *env)
        return env;
    if (access(EX_DATA_DIR "/terminals.csv", R_OK) == 0)
        return EX_DATA_DIR "/terminals.csv";
    return EX_SRC_DATA_DIR "/terminals.csv";
}

int ex_terminals_load(ex_terminals_t *tt, const char *path, char *errstr, size_t errstr_size) {
    FILE *f = fopen(path, "r");
    char line[512];
    int lineno = 0;
    memset(tt, 0, sizeof(*tt));
    if (!f) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        char *fields[4], *p = line, *end;
        int n = 0;
        ex_terminal_t *t;
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#' || (lineno == 1 && !strncmp(line, "id,", 3)))
            continue;
        while (n < 4) {
            fields[n++] = p;
            if (!(p = strchr(p, ',')))
                break;
            *p++ = '\0';
        }
        if (n != 4 || p) {
            snprintf(errstr, errstr_size, "%s:%d: expected id,name,lat,lon", path, lineno);
            goto fail;
        }
        if (tt->cnt == EX_MAX_TERMINALS) {
            snprintf(errstr, errstr_size, "%s:%d: more than %d terminals", path, lineno,
                     EX_MAX_TERMINALS);
            goto fail;
        }
        t = &tt->t[tt->cnt];
        errno = 0;
        t->id = strtoll(fields[0], &end, 10);
        if (errno || end == fields[0] || *end) {
            snprintf(errstr, errstr_size, "%s:%d: id: \"%s\" is not an integer", path, lineno,
                     fields[0]);
            goto fail;
        }
        if (!fields[1][0] || strlen(fields[1]) > VTEV_NAME_MAX) {
            snprintf(errstr, errstr_size, "%s:%d: name: empty or too long", path, lineno);
            goto fail;
        }
        snprintf(t->name, sizeof(t->name), "%s", fields[1]);
        t->lat = strtod(fields[2], &end);
        if (end == fields[2] || *end || t->lat < -90 || t->lat > 90) {
            snprintf(errstr, errstr_size, "%s:%d: lat: \"%s\" is not in [-90, 90]", path, lineno,
                     fields[2]);
            goto fail;
        }
        t->lon = strtod(fields[3], &end);
        if (end == fields[3] || *end || t->lon < -180 || t->lon > 180) {
            snprintf(errstr, errstr_size, "%s:%d: lon: \"%s\" is not in [-180, 180]", path,
                     lineno, fields[3]);
            goto fail;
        }
        tt->cnt++;
    }
    fclose(f);
    if (tt->cnt == 0) {
        snprintf(errstr, errstr_size, "%s: no terminals", path);
        return -1;
    }
    return 0;
fail:
    fclose(f);
    return -1;
}

/* ------------------------------------------------------------------ engine */

double ex_haversine_km(double lat1, double lon1, double lat2, double lon2) {
    double dlat = RAD(lat2 - lat1), dlon = RAD(lon2 - lon1);
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(RAD(lat1)) * cos(RAD(lat2)) * sin(dlon / 2) * sin(dlon / 2);
    if (a > 1)
        a = 1;
    return 2 * EX_EARTH_RADIUS_KM * asin(sqrt(a));
}

double ex_bearing_deg(double lat1, double lon1, double lat2, double lon2) {
    double y = sin(RAD(lon2 - lon1)) * cos(RAD(lat2));
    double x = cos(RAD(lat1)) * sin(RAD(lat2)) -
               sin(RAD(lat1)) * cos(RAD(lat2)) * cos(RAD(lon2 - lon1));
    double b = fmod(DEG(atan2(y, x)) + 360.0, 360.0);
    return b >= 360.0 ? 0.0 : b;
}

double ex_angle_diff(double a, double b) {
    double d = fmod(fabs(a - b), 360.0);
    return d > 180.0 ? 360.0 - d : d;
}

static double clamp01(double x) { return x < 0 ? 0 : x > 1 ? 1 : x; }

/* Proximity: 1 at the terminal, 0.37 at 100 km, 0.05 at 300 km. */
static double proximity_score(double km) { return clamp01(exp(-km / 100.0)); }

/* Speed: an LNG carrier on passage makes 12-19 kn; inside ~25 km it slows
 * for the pilot and the channel (2-10 kn); alongside it is stopped. The
 * score is 1 inside the band that fits the distance and falls 0.1 per knot
 * outside it. */
static double speed_score(double km, double kn) {
    double lo, hi;
    if (km < 3.0) {
        lo = 0.0;
        hi = 6.0;
    } else if (km < 25.0) {
        lo = 2.0;
        hi = 10.0;
    } else {
        lo = 10.0;
        hi = 19.5;
    }
    if (kn < lo)
        return clamp01(1.0 - 0.1 * (lo - kn));
    if (kn > hi)
        return clamp01(1.0 - 0.1 * (kn - hi));
    return 1.0;
}

/* Heading: 1 when steering straight for the terminal, 0.5 abeam, 0 away.
 * A stopped vessel's heading says nothing (0.5), unless it is alongside. */
static double heading_score(double km, double kn, double heading, double bearing) {
    if (km < 3.0)
        return 1.0;
    if (kn < 0.5)
        return 0.5;
    return clamp01((1.0 + cos(RAD(ex_angle_diff(heading, bearing)))) / 2.0);
}

void ex_predict_one(const vtev_vessel_state_t *v, const ex_terminal_t *t, ex_prediction_t *out) {
    memset(out, 0, sizeof(*out));
    out->terminal = t;
    out->distance_km = ex_haversine_km(v->lat, v->lon, t->lat, t->lon);
    out->bearing_deg = ex_bearing_deg(v->lat, v->lon, t->lat, t->lon);
    out->proximity = proximity_score(out->distance_km);
    out->speed = speed_score(out->distance_km, v->speed);
    out->heading = heading_score(out->distance_km, v->speed, v->heading, out->bearing_deg);
    out->confidence = clamp01(0.5 * out->proximity + 0.2 * out->speed + 0.3 * out->heading);
    if (out->distance_km < 0.5) {
        out->has_eta = true;
        out->eta_hours = 0.0;
    } else if (v->speed >= 0.5) {
        out->has_eta = true;
        out->eta_hours = out->distance_km / (v->speed * EX_KNOT_KMH);
    }
}

static int better(const ex_prediction_t *a, const ex_prediction_t *b) {
    if (a->confidence != b->confidence)
        return a->confidence > b->confidence;
    if (a->distance_km != b->distance_km)
        return a->distance_km < b->distance_km;
    return a->terminal->id < b->terminal->id;
}

size_t ex_predict(const ex_terminals_t *tt, const vtev_vessel_state_t *v, bool has_filter,
                  int64_t filter, ex_prediction_t *out, size_t max) {
    size_t i, n = 0;
    for (i = 0; i < tt->cnt; i++) {
        ex_prediction_t p;
        size_t j;
        if (has_filter && tt->t[i].id != filter)
            continue;
        ex_predict_one(v, &tt->t[i], &p);
        /* insertion into the sorted top-max list */
        for (j = n; j > 0 && better(&p, &out[j - 1]); j--)
            if (j < max)
                out[j] = out[j - 1];
        if (j < max) {
            out[j] = p;
            if (n < max)
                n++;
        }
    }
    return n;
}

static const char *compass(double deg) {
    static const char *const pts[] = {"N", "NE", "E", "SE", "S", "SW", "W", "NW"};
    return pts[(int)floor(fmod(deg + 22.5, 360.0) / 45.0) % 8];
}

void ex_reasoning(const ex_prediction_t *p, const vtev_vessel_state_t *v, char *buf,
                  size_t size) {
    char eta[64], head[192];
    const char *speedw;
    double off = ex_angle_diff(v->heading, p->bearing_deg);
    if (p->has_eta)
        snprintf(eta, sizeof(eta), "ETA %.1f h at the current speed", p->eta_hours);
    else
        snprintf(eta, sizeof(eta), "no ETA while stopped");
    if (p->distance_km < 3.0)
        snprintf(head, sizeof(head), "alongside or in the approach channel (heading 1.00)");
    else if (v->speed < 0.5)
        snprintf(head, sizeof(head), "stopped, so the heading says nothing (heading 0.50)");
    else
        snprintf(head, sizeof(head),
                 "the terminal bears %.0f deg (%s) and the vessel heads %.0f deg, %.0f deg off "
                 "(heading %.2f: %s)",
                 p->bearing_deg, compass(p->bearing_deg), v->heading, off, p->heading,
                 off < 20 ? "steering for it" : off < 60 ? "roughly towards it"
                                        : off < 120 ? "passing abeam" : "moving away");
    if (p->speed >= 0.99)
        speedw = "fits";
    else if (p->speed >= 0.5)
        speedw = "roughly fits";
    else
        speedw = "does not fit";
    snprintf(buf, size,
             "%s is %.1f km away (proximity %.2f); %s; %.1f kn %s an approach from this "
             "distance (speed %.2f); %s. Confidence %.2f = 0.5 x proximity + 0.2 x speed + "
             "0.3 x heading; no retrieval or model adjustment (rag_boost 0, ai_adjustment 0).",
             p->terminal->name, p->distance_km, p->proximity, head, v->speed, speedw, p->speed,
             eta, p->confidence);
}

void ex_prediction_id(const char *request_id, int64_t terminal_id, char *buf, size_t size) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a 64 */
    const unsigned char *p;
    for (p = (const unsigned char *)request_id; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    snprintf(buf, size, "pred-%016" PRIx64 "-%" PRId64, h, terminal_id);
}

/* ------------------------------------------------------------------ misc */

int64_t ex_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void ex_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

void ex_new_correlation_id(char *buf, size_t size) {
    static _Atomic uint64_t counter;
    uint64_t x = (uint64_t)ex_now_us() ^ ((uint64_t)getpid() << 40) ^
                 (atomic_fetch_add(&counter, 1) * 0x9E3779B97F4A7C15ULL);
    /* splitmix64 finaliser */
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBULL;
    x ^= x >> 31;
    snprintf(buf, size, "corr-%016" PRIx64, x);
}

int64_t ex_meta_int(const vtev_envelope_t *env, const char *key, int64_t def) {
    vtev_meta_value_t v;
    if (!vtev_metadata_get(env->metadata, key, &v))
        return def;
    if (v.type == VTEV_META_INT)
        return v.i;
    if (v.type == VTEV_META_DOUBLE)
        return (int64_t)v.d;
    if (v.type == VTEV_META_STRING && v.s)
        return strtoll(v.s, NULL, 10);
    return def;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double ex_percentile(double *v, size_t n, double p) {
    size_t idx;
    if (n == 0)
        return 0.0;
    qsort(v, n, sizeof(*v), cmp_double);
    idx = (size_t)ceil(p / 100.0 * (double)n);
    if (idx > 0)
        idx--;
    if (idx >= n)
        idx = n - 1;
    return v[idx];
}

/* ------------------------------------------------------------------ configuration */

int ex_cli_opt(ex_cli_t *cli, int opt, const char *arg, const char *prog, const char *usage) {
    switch (opt) {
    case 'b':
        cli->brokers = arg;
        return 1;
    case 'r':
        cli->registry = arg;
        return 1;
    case 'F':
        cli->file = arg;
        return 1;
    case 'X':
        if (!strchr(arg, '=')) {
            fprintf(stderr, "%s: -X %s: expected KEY=VALUE\n", prog, arg);
            return -1;
        }
        if (cli->x_cnt == sizeof(cli->x) / sizeof(cli->x[0])) {
            fprintf(stderr, "%s: too many -X options\n", prog);
            return -1;
        }
        cli->x[cli->x_cnt++] = arg;
        return 1;
    case EX_OPT_HTTP: {
        char host[256], e[256];
        int port;
        if (ex_http_parse(arg, host, sizeof(host), &port, e, sizeof(e))) {
            fprintf(stderr, "%s: %s\n", prog, e);
            return -1;
        }
        cli->http = arg;
        return 1;
    }
    case 'q':
        cli->verbosity--;
        return 1;
    case 'v':
        cli->verbosity++;
        return 1;
    case 'V':
        printf("%s (libvtevents examples)\nlibvtevents %s\n", prog, vtev_version_str());
        exit(0);
    case 'h':
        fputs(usage, stdout);
        exit(0);
    default:
        return 0;
    }
}

int ex_conf_set(vtev_conf_t *conf, const char *key, const char *value, char *errstr,
                size_t errstr_size) {
    char e[512];
    if (vtev_conf_set(conf, key, value, e, sizeof(e)) != VTEV_CONF_OK) {
        snprintf(errstr, errstr_size, "%s", e);
        return -1;
    }
    return 0;
}

void ex_conf_str(const vtev_conf_t *conf, const char *key, char *buf, size_t size) {
    size_t sz = size;
    if (vtev_conf_get(conf, key, buf, &sz) != VTEV_CONF_OK)
        buf[0] = '\0';
}

int ex_prefer_low_latency(vtev_conf_t *conf, char *errstr, size_t errstr_size) {
    char buf[64];
    ex_conf_str(conf, "producer.profile", buf, sizeof(buf));
    if (buf[0] && strcmp(buf, "default"))
        return 0;
    return ex_conf_set(conf, "producer.profile", "low-latency", errstr, errstr_size);
}

vtev_conf_t *ex_cli_conf(const ex_cli_t *cli, char *errstr, size_t errstr_size) {
    vtev_conf_t *conf = vtev_conf_new();
    const char *file = cli->file;
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
    if (cli->verbosity < 0 && ex_conf_set(conf, "log.level", "3", errstr, errstr_size))
        goto fail;
    if (cli->verbosity > 0 && ex_conf_set(conf, "log.level", "7", errstr, errstr_size))
        goto fail;
    if (cli->brokers && ex_conf_set(conf, "bootstrap.servers", cli->brokers, errstr, errstr_size))
        goto fail;
    if (cli->registry &&
        ex_conf_set(conf, "schema.registry.url", cli->registry, errstr, errstr_size))
        goto fail;
    for (i = 0; i < cli->x_cnt; i++) {
        char key[256];
        const char *eq = strchr(cli->x[i], '=');
        size_t kl = (size_t)(eq - cli->x[i]);
        if (kl >= sizeof(key)) {
            snprintf(errstr, errstr_size, "-X %s: key too long", cli->x[i]);
            goto fail;
        }
        memcpy(key, cli->x[i], kl);
        key[kl] = '\0';
        if (ex_conf_set(conf, key, eq + 1, errstr, errstr_size))
            goto fail;
    }
    if (!cli->embedded_by_choice) {
        char msg[512];
        /* even with -q: nothing else tells the user that the events go nowhere */
        if (vtev_conf_embedded_defaults(conf, msg, sizeof(msg)) > 0)
            fprintf(stderr,
                    "%s: warning: %s; give real ones with -b/-r, KAFKA_BOOTSTRAP_SERVERS/"
                    "SCHEMA_REGISTRY_URL or a properties file (-F)\n",
                    program_invocation_short_name, msg);
    }
    return conf;
fail:
    vtev_conf_destroy(conf);
    return NULL;
}

/* ------------------------------------------------------------------ counters */

const char *ex_ready_file;
const char *ex_consumer_fetch_wait_ms;
const char *ex_consumer_x[16];
size_t ex_consumer_x_cnt;

int ex_consumer_conf(vtev_conf_t *conf, char *errstr, size_t errstr_size) {
    size_t i;
    if (ex_consumer_fetch_wait_ms && ex_conf_set(conf, "kafka.fetch.wait.max.ms",
                                                 ex_consumer_fetch_wait_ms, errstr, errstr_size))
        return -1;
    for (i = 0; i < ex_consumer_x_cnt; i++) {
        char key[256];
        const char *eq = strchr(ex_consumer_x[i], '=');
        size_t kl = eq ? (size_t)(eq - ex_consumer_x[i]) : 0;
        if (!eq || kl >= sizeof(key)) {
            snprintf(errstr, errstr_size, "--consumer-X %s: expected KEY=VALUE", ex_consumer_x[i]);
            return -1;
        }
        memcpy(key, ex_consumer_x[i], kl);
        key[kl] = '\0';
        if (ex_conf_set(conf, key, eq + 1, errstr, errstr_size))
            return -1;
    }
    return 0;
}

atomic_int ex_interrupted;

static void on_stop_signal(int sig) {
    (void)sig;
    atomic_store(&ex_interrupted, 1);
}

void ex_stop_on_signals(void) {
    signal(SIGINT, on_stop_signal);
    signal(SIGTERM, on_stop_signal);
}

int ex_consume_loop(const char *name, vtev_consumer_t *c, ex_stats_t *st, atomic_int *stop) {
    char errstr[512];
    int64_t last_check = 0;
    atomic_store(&st->ready, 1);
    while (!atomic_load(stop)) {
        vtev_err_t err;
        ex_check_assigned(c, st, &last_check);
        if ((err = vtev_consumer_poll(c, 100, errstr, sizeof(errstr))) != VTEV_ERR_OK) {
            fprintf(stderr, "%s: poll: %s: %s\n", name, vtev_err2name(err), errstr);
            return 1;
        }
        atomic_store(&st->dead_letters, ex_dead_letters(c));
    }
    return 0;
}

void ex_check_assigned(vtev_consumer_t *c, ex_stats_t *st, int64_t *last_check_us) {
    vtev_partition_lag_t *lags = NULL;
    size_t cnt = 0;
    char errstr[256];
    int64_t now;
    if (atomic_load(&st->assigned))
        return;
    now = ex_now_us();
    if (now - *last_check_us < 200000)
        return;
    *last_check_us = now;
    if (vtev_consumer_lag(c, &lags, &cnt, 1000, errstr, sizeof(errstr)) == VTEV_ERR_OK &&
        cnt > 0) {
        atomic_store(&st->assigned, 1);
        if (ex_ready_file) {
            FILE *f = fopen(ex_ready_file, "w");
            if (f)
                fclose(f);
        }
    }
    vtev_free(lags);
}

uint64_t ex_dead_letters(vtev_consumer_t *c) {
    vtev_consumer_stats_t s;
    uint64_t n = 0;
    int t;
    for (t = VTEV_EVENT_NONE; t <= VTEV_EVENT_RESULT; t++)
        if (vtev_consumer_stats(c, (vtev_event_type_t)t, &s) == VTEV_ERR_OK)
            n += s.dead_lettered;
    return n;
}

int ex_stats_write(const ex_stats_t *st, const char *path) {
    char tmp[4096];
    FILE *f;
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if (!(f = fopen(tmp, "w")))
        return -1;
    fprintf(f,
            "consumed=%" PRIu64 "\npublished=%" PRIu64 "\ndelivered=%" PRIu64
            "\nfailed=%" PRIu64 "\ndead_letters=%" PRIu64 "\nrows=%" PRIu64
            "\naborts=%" PRIu64 "\ndb_retries=%" PRIu64 "\nrc=%d\n",
            (uint64_t)atomic_load(&st->consumed), (uint64_t)atomic_load(&st->published),
            (uint64_t)atomic_load(&st->delivered), (uint64_t)atomic_load(&st->failed),
            (uint64_t)atomic_load(&st->dead_letters), (uint64_t)atomic_load(&st->rows),
            (uint64_t)atomic_load(&st->aborts), (uint64_t)atomic_load(&st->db_retries), st->rc);
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

int64_t ex_stats_read(const char *path, const char *key) {
    FILE *f = fopen(path, "r");
    char line[256];
    size_t kl = strlen(key);
    int64_t v = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (!strncmp(line, key, kl) && line[kl] == '=') {
            v = strtoll(line + kl + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}
