/*
 * common.h - what the example services share: the terminals table, the
 * deterministic prediction engine, command-line configuration, counters,
 * the prediction store (SQLite or PostgreSQL) and the four services as
 * functions, so that each runs as its own program or as a thread of vt-demo.
 *
 * Only the public API of libvtevents is used (<vtevents/vtevents.h>).
 */
#ifndef EXAMPLES_COMMON_H
#define EXAMPLES_COMMON_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vtevents/vtevents.h>

/* ------------------------------------------------------------------ terminals */

#define EX_MAX_TERMINALS 64

typedef struct ex_terminal_s {
    int64_t id;
    char name[VTEV_NAME_MAX + 1];
    double lat, lon;
} ex_terminal_t;

typedef struct ex_terminals_s {
    ex_terminal_t t[EX_MAX_TERMINALS];
    size_t cnt;
} ex_terminals_t;

/* The default terminals file (examples/data/terminals.csv, installed copy or
 * source tree); $VTEV_TERMINALS wins. */
const char *ex_terminals_default_path(void);
/* Loads "id,name,lat,lon" lines (a header line is skipped). 0 or -1 with errstr. */
int ex_terminals_load(ex_terminals_t *tt, const char *path, char *errstr, size_t errstr_size);

/* ------------------------------------------------------------------ engine */

#define EX_EARTH_RADIUS_KM 6371.0
#define EX_KNOT_KMH 1.852

/* Great-circle distance in km (haversine). */
double ex_haversine_km(double lat1, double lon1, double lat2, double lon2);
/* Initial bearing from point 1 to point 2, degrees [0, 360). */
double ex_bearing_deg(double lat1, double lon1, double lat2, double lon2);
/* Smallest absolute angle between two headings, [0, 180]. */
double ex_angle_diff(double a, double b);

typedef struct ex_prediction_s {
    const ex_terminal_t *terminal;
    double distance_km, bearing_deg;
    double proximity, speed, heading, confidence;
    bool has_eta;
    double eta_hours;
} ex_prediction_t;

/* Scores one terminal for a vessel state. Pure and deterministic. */
void ex_predict_one(const vtev_vessel_state_t *v, const ex_terminal_t *t, ex_prediction_t *out);
/* The best @p max terminals (confidence, then distance), only @p filter when
 * has_filter. Returns how many were written. */
size_t ex_predict(const ex_terminals_t *tt, const vtev_vessel_state_t *v, bool has_filter,
                  int64_t filter, ex_prediction_t *out, size_t max);
/* The result's words: why these scores. */
void ex_reasoning(const ex_prediction_t *p, const vtev_vessel_state_t *v, char *buf, size_t size);
/* Deterministic prediction id for (request_id, terminal). */
void ex_prediction_id(const char *request_id, int64_t terminal_id, char *buf, size_t size);

/* ------------------------------------------------------------------ misc */

int64_t ex_now_us(void);
void ex_sleep_ms(int ms);
/* A UUID-ish correlation id "corr-" + 16 hex digits (random). */
void ex_new_correlation_id(char *buf, size_t size);
/* Integer metadata value (int or double), or @p def. */
int64_t ex_meta_int(const vtev_envelope_t *env, const char *key, int64_t def);
/* p-th percentile (0..100) of @p n values (sorted in place). */
double ex_percentile(double *v, size_t n, double p);

/* ------------------------------------------------------------------ configuration */

/* Common flags of the example programs (kcat style). */
#define EX_COMMON_SHORTOPTS "b:r:X:F:qvVh"
/* The long option --http HOST:PORT, in each service's option table. */
#define EX_OPT_HTTP 1097
#define EX_HTTP_LONGOPT {"http", required_argument, NULL, EX_OPT_HTTP}
#define EX_COMMON_USAGE \
    "  -b BROKERS        bootstrap.servers (default: $KAFKA_BOOTSTRAP_SERVERS or mock://default)\n" \
    "  -r URL            schema.registry.url (default: $SCHEMA_REGISTRY_URL or mock://default)\n" \
    "  -X KEY=VALUE      any configuration key (doc/CONFIGURATION.md); repeatable\n" \
    "  -F FILE           properties file (else $VTEV_CONFIG)\n" \
    "  --http HOST:PORT  serve /metrics, /healthz and /readyz (PORT alone: 127.0.0.1)\n" \
    "  -q / -v           quieter / more verbose\n" \
    "  -V                versions\n" \
    "  -h, --help        this text\n"

typedef struct ex_cli_s {
    const char *file;
    const char *brokers;
    const char *registry;
    const char *x[64];
    size_t x_cnt;
    int verbosity; /* 0 normal, <0 quiet, >0 verbose */
    const char *http; /* --http HOST:PORT, NULL: no HTTP endpoints */
    /* The program itself chooses mock:// after ex_cli_conf() (vt-demo without
     * --real): no warning about the embedded default. */
    bool embedded_by_choice;
} ex_cli_t;

/* Handles one common option. Returns 1 when handled, 0 when not a common
 * option, -1 on a usage error (message printed). -V and -h exit. */
int ex_cli_opt(ex_cli_t *cli, int opt, const char *arg, const char *prog, const char *usage);
/* Builds the configuration: defaults, -F file (or $VTEV_CONFIG), environment,
 * -b, -r, -X. NULL with errstr on failure.  When bootstrap.servers or
 * schema.registry.url fall back to the embedded mock:// default because
 * nothing configured them, says so once on stderr, also with -q (unless
 * cli->embedded_by_choice). */
vtev_conf_t *ex_cli_conf(const ex_cli_t *cli, char *errstr, size_t errstr_size);
/* Sets a key, reporting failures into errstr. 0 or -1. */
int ex_conf_set(vtev_conf_t *conf, const char *key, const char *value, char *errstr,
                size_t errstr_size);
/* producer.profile=low-latency unless another profile than "default" is
 * configured: the pipeline is about latency (each hop would wait linger.ms). */
int ex_prefer_low_latency(vtev_conf_t *conf, char *errstr, size_t errstr_size);
/* Copies a string key's value into buf ("" when unset). */
void ex_conf_str(const vtev_conf_t *conf, const char *key, char *buf, size_t size);

/* ------------------------------------------------------------------ counters */

typedef struct ex_stats_s {
    atomic_uint_fast64_t consumed;      /* events handed to the handler */
    atomic_uint_fast64_t published;     /* publish calls accepted */
    atomic_uint_fast64_t delivered;     /* delivery reports OK */
    atomic_uint_fast64_t failed;        /* delivery reports failed, publish errors */
    atomic_uint_fast64_t dead_letters;  /* consumer dead letters */
    atomic_uint_fast64_t rows;          /* rows upserted (persister) */
    atomic_uint_fast64_t aborts;        /* aborted transactions (worker) */
    atomic_uint_fast64_t db_retries;    /* database unavailable, retried (persister) */
    atomic_int ready;                   /* the service is up (consumer created) */
    atomic_int assigned;                /* its consumer has partitions */
    atomic_int done;                    /* the service returned */
    int rc;                             /* its exit status */
} ex_stats_t;

/* When set, ex_check_assigned() creates this file once the consumer has its
 * partitions (vt-demo waits for it before it starts the simulator). */
extern const char *ex_ready_file;
/* When set, kafka.fetch.wait.max.ms of the services' consumers only (vt-demo
 * on the mock cluster, which answers a fetch only after that time). */
extern const char *ex_consumer_fetch_wait_ms;
/* KEY=VALUE settings for the services' consumers only (--consumer-X). */
extern const char *ex_consumer_x[16];
extern size_t ex_consumer_x_cnt;
/* Applies ex_consumer_fetch_wait_ms and ex_consumer_x to a consumer's conf. 0 or -1. */
int ex_consumer_conf(vtev_conf_t *conf, char *errstr, size_t errstr_size);
/* Sets st->assigned once the consumer has partitions (checked every 200 ms). */
void ex_check_assigned(vtev_consumer_t *c, ex_stats_t *st, int64_t *last_check_us);
/* Dead letters of every type of @p c. */
uint64_t ex_dead_letters(vtev_consumer_t *c);
/* Set to 1 by SIGINT or SIGTERM once ex_stop_on_signals() has run. */
extern atomic_int ex_interrupted;
/* Installs the SIGINT/SIGTERM handler that sets ex_interrupted (async-signal-safe). */
void ex_stop_on_signals(void);
/* The services' poll loop: marks st ready, then polls @p c until *stop is set,
 * keeping st->assigned and st->dead_letters current. A poll error is printed
 * with @p name and ends the loop. Returns 0, or 1 after a poll error. */
int ex_consume_loop(const char *name, vtev_consumer_t *c, ex_stats_t *st, atomic_int *stop);

/* Writes the counters as "key=value" lines (for vt-demo); 0 or -1. */
int ex_stats_write(const ex_stats_t *st, const char *path);
/* Reads a counter from such a file; -1 when absent. */
int64_t ex_stats_read(const char *path, const char *key);

/* ------------------------------------------------------------------ services */

typedef struct ex_sim_opts_s {
    uint64_t seed;
    int vessels;          /* number of LNG carriers (1..16) */
    double rate;          /* positions per second, all vessels together */
    int64_t count;        /* stop after this many positions (0: no limit) */
    double duration_s;    /* stop after this long (0: no limit) */
    double sim_step_s;    /* simulated seconds between two fixes of a vessel */
    bool print;           /* one JSON line per position on stdout */
} ex_sim_opts_t;
void ex_sim_defaults(ex_sim_opts_t *o);

/* The simulated track, without Kafka: deterministic for a seed. */
typedef struct ex_sim_s ex_sim_t;
ex_sim_t *ex_sim_new(const ex_terminals_t *tt, const ex_sim_opts_t *o);
/* Fills the next position (vessel id and state; envelope defaults untouched). */
void ex_sim_next(ex_sim_t *s, char *vessel_id, size_t id_size, vtev_vessel_state_t *state);
void ex_sim_destroy(ex_sim_t *s);

typedef struct ex_trigger_opts_s {
    double min_distance_km;  /* moved at least this far since the last request */
    double min_heading_deg;  /* turned at least this much */
    double min_speed_kn;     /* speed changed at least this much */
    double max_interval_s;   /* a request at least this often (event time) */
} ex_trigger_opts_t;
void ex_trigger_defaults(ex_trigger_opts_t *o);

typedef struct ex_worker_opts_s {
    bool exactly_once;
    const char *terminals_path;
    int max_results;         /* 3 */
} ex_worker_opts_t;

typedef struct ex_persister_opts_s {
    const char *db;          /* sqlite file path, sqlite:PATH, or postgresql://... */
    const char *table;       /* default "predictions" */
    bool print;              /* one readable line per prediction on stdout */
} ex_persister_opts_t;

/* Each takes ownership of @p conf (always), runs until *stop is set (the
 * simulator also until its count/duration), and returns 0 or 1. */
/* live-broadcaster (live-broadcaster.c, doc/live-broadcaster.1). */
typedef struct ex_live_opts_s {
    const char *http;       /* HOST:PORT (port 0: any free one) */
    const char *web_root;   /* the page's files */
    const char *vendor_dir; /* its npm packages */
    const char *terminals;  /* the terminals CSV, NULL: the default */
    const char *port_file;  /* the port it listens on is written there (NULL: not) */
    int client_queue;       /* events queued per client */
    size_t client_bytes;    /* ... and their bytes */
    int stall_ms;           /* a full client accepting nothing this long is disconnected */
    int track;              /* positions per vessel sent to a new client first */
    int history;            /* start this many messages back per partition (0: the end) */
    int flush_ms;           /* a client's events of this long go out in one frame */
    bool verbose, announce; /* log disconnects; print the map's URL */
    atomic_int *bound_port; /* set to the port once listening (may be NULL) */
} ex_live_opts_t;
void ex_live_defaults(ex_live_opts_t *o);
int ex_sim_run(vtev_conf_t *conf, const ex_sim_opts_t *o, ex_stats_t *st, atomic_int *stop);
int ex_trigger_run(vtev_conf_t *conf, const ex_trigger_opts_t *o, ex_stats_t *st,
                   atomic_int *stop);
int ex_worker_run(vtev_conf_t *conf, const ex_worker_opts_t *o, ex_stats_t *st,
                  atomic_int *stop);
/* Serves until *stop is set (the calling thread runs the HTTP/WebSocket loop;
 * the consumer polls on a thread of its own).  Takes conf. */
int ex_live_run(vtev_conf_t *conf, const ex_live_opts_t *o, ex_stats_t *st, atomic_int *stop);
int ex_persister_run(vtev_conf_t *conf, const ex_persister_opts_t *o, ex_stats_t *st,
                     atomic_int *stop);

/* ------------------------------------------------------------------ store */

typedef struct ex_store_s ex_store_t;
/* Whether this build has the database back end @p db needs (NULL: the
 * default, an SQLite file): 0, or -1 with errstr naming the meson option
 * that left it out ("this build has no PostgreSQL support (meson option
 * examples_postgres)").  ex_store_open() refuses such a @p db the same way. */
int ex_store_check(const char *db, char *errstr, size_t errstr_size);
ex_store_t *ex_store_open(const char *db, const char *table, char *errstr, size_t errstr_size);
/* Idempotent upsert by prediction_id. latency_ms < 0: unknown.
 * 0, EX_STORE_ENV (the database failed: retry later) or EX_STORE_BAD (the
 * row itself was refused: PostgreSQL SQLSTATE class 22 data exception or 23
 * integrity violation, SQLite CONSTRAINT, MISMATCH, TOOBIG or RANGE). */
#define EX_STORE_ENV (-1)
#define EX_STORE_BAD (-2)
int ex_store_upsert(ex_store_t *s, const vtev_result_event_t *r, double latency_ms,
                    char *errstr, size_t errstr_size);
/* Row count, distinct request count; -1 on error. */
int64_t ex_store_count(ex_store_t *s, bool distinct_requests, char *errstr, size_t errstr_size);
/* Every non-negative latency (caller frees). Returns count, -1 on error. */
long ex_store_latencies(ex_store_t *s, double **outp, char *errstr, size_t errstr_size);
/* Requests that do not have exactly @p per_request rows, -1 on error. */
int64_t ex_store_incomplete(ex_store_t *s, int per_request, char *errstr, size_t errstr_size);
void ex_store_close(ex_store_t *s);
/* The predictions table's name. */
const char *ex_store_table(const ex_store_t *s);
/* Whether the store is PostgreSQL (else SQLite): for the SQL that differs. */
bool ex_store_is_pg(const ex_store_t *s);
/* Any statement on the store's connection (vessel-api's tables): see
 * ex_db_ops_t.exec in db.h.  Rows returned, rows changed, or EX_STORE_ENV /
 * EX_STORE_BAD with errstr.  Not thread-safe: one caller at a time. */
long ex_store_exec(ex_store_t *s, const char *sql, int nparams, const char *const *values,
                   void (*row)(int ncols, const char *const *cols, void *opaque), void *opaque,
                   char *errstr, size_t errstr_size);
/* A parameter of ex_store_exec_typed(). */
typedef enum ex_param_type_e { EX_P_NULL, EX_P_TEXT, EX_P_REAL, EX_P_INT } ex_param_type_t;
typedef struct ex_param_s {
    ex_param_type_t type;
    const char *text; /* EX_P_TEXT (borrowed for the call) */
    double real;      /* EX_P_REAL */
    int64_t i;        /* EX_P_INT */
} ex_param_t;
/* ex_store_exec() with typed parameters: SQLite binds them as they are (no
 * number printed and parsed again); PostgreSQL gets them as text (%.17g). */
long ex_store_exec_typed(ex_store_t *s, const char *sql, int nparams, const ex_param_t *params,
                         void (*row)(int ncols, const char *const *cols, void *opaque),
                         void *opaque, char *errstr, size_t errstr_size);

#endif
