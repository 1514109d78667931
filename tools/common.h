/*
 * common.h - what vt-publish, vt-tail and vt-topics share: the common
 * options (-b, -r, -X, -F, -q, -v, -V, --help), the configuration order
 * (defaults, file, environment, -b, -r, -X), exit codes, messages and
 * SIGINT/SIGTERM handling.  Not installed; linked into each tool.
 */
#ifndef VT_TOOLS_COMMON_H
#define VT_TOOLS_COMMON_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <librdkafka/rdkafka.h>
#include <vtevents/rdkafka_ext.h>
#include <jansson.h>
#include <vtevents/vtevents.h>

/* Exit codes, the same for every tool (their man pages in doc/ list them). */
#define VT_EXIT_OK 0
#define VT_EXIT_FAIL 1  /* runtime failure: delivery, broker, registry */
#define VT_EXIT_USAGE 2 /* usage or invalid input */

/* getopt_long value of --help (no short form besides -h). */
#define VT_OPT_HELP 'h'

/* The short options every tool accepts. */
#define VT_COMMON_SHORTOPTS "b:r:X:F:qvVh"

/* The long options every tool accepts (put them in the tool's table). */
#define VT_COMMON_LONGOPTS                                   \
    {"brokers", required_argument, NULL, 'b'},               \
    {"registry", required_argument, NULL, 'r'},              \
    {"property", required_argument, NULL, 'X'},              \
    {"config", required_argument, NULL, 'F'},                \
    {"quiet", no_argument, NULL, 'q'},                       \
    {"verbose", no_argument, NULL, 'v'},                     \
    {"version", no_argument, NULL, 'V'},                     \
    {"help", no_argument, NULL, VT_OPT_HELP}

/* Help text of the common options (for the tools' --help). */
#define VT_COMMON_HELP                                                                    \
    "Common options:\n"                                                                   \
    "  -b, --brokers HOST:PORT,...  Kafka bootstrap servers (bootstrap.servers)\n"       \
    "  -r, --registry URL           schema registry URL (schema.registry.url)\n"         \
    "  -X, --property KEY=VALUE     any configuration key (doc/CONFIGURATION.md);\n"     \
    "                               kafka.* keys go to librdkafka (repeatable)\n"        \
    "  -F, --config FILE            properties file (default: $VTEV_CONFIG, else\n"      \
    "                               ~/.config/vtevents.conf when it exists)\n"           \
    "  -q, --quiet                  less output on stderr: errors and warnings only\n"   \
    "  -v, --verbose                more output on stderr (library debug log)\n"         \
    "  -V, --version                print the tool, library and librdkafka versions\n"   \
    "  -h, --help                   this text\n"                                          \
    "Configuration is read in this order, later wins: defaults, the properties file,\n"  \
    "the environment (KAFKA_BOOTSTRAP_SERVERS, SCHEMA_REGISTRY_URL, VTEV_*), -b, -r, -X.\n"

/* State of the common options. */
typedef struct vt_common_s {
    const char *tool;     /* program name for messages */
    int verbosity;        /* 0 quiet, 1 normal, 2 verbose */
    const char *brokers;  /* -b */
    const char *registry; /* -r */
    const char *conf_file;/* -F */
    const char **props;   /* -X values, in order */
    size_t prop_cnt;
    bool want_version;    /* -V */
    bool want_help;       /* -h */
} vt_common_t;

/* Set when SIGINT or SIGTERM arrived. */
extern volatile sig_atomic_t vt_stop;

/* Initialises @p c for tool @p tool. */
void vt_common_init(vt_common_t *c, const char *tool);
/* Frees what vt_common_opt() collected. */
void vt_common_clear(vt_common_t *c);

/* Handles one common option (from getopt_long). Returns 1 if @p opt was a
 * common option, 0 otherwise, -1 on an allocation failure. */
int vt_common_opt(vt_common_t *c, int opt, const char *arg);

/* Prints the version lines (-V) to stdout. */
void vt_common_print_version(const vt_common_t *c);

/* Builds the configuration: defaults (log.level=3 for tools: errors only), the properties
 * file, the environment, then -b, -r and -X.  On failure prints the reason
 * on stderr and returns NULL; *exitp receives the exit code. */
vtev_conf_t *vt_common_conf(vt_common_t *c, int *exitp);

/* Prints one warning on stderr, also with -q, when bootstrap.servers or
 * schema.registry.url fall back to the embedded mock:// default because
 * nothing configured them (vtev_conf_embedded_defaults()).  Called by
 * vt_common_conf(). */
void vt_warn_embedded_defaults(const vt_common_t *c, const vtev_conf_t *conf);

/* Installs SIGINT/SIGTERM handlers that set vt_stop (no SA_RESTART, so
 * blocking reads return EINTR).  Call it from the main thread: a signal that
 * lands on another thread is passed on to it.  SIGPIPE is ignored (a write
 * to a closed pipe fails with EPIPE instead). */
void vt_signals_install(void);

/* "TOOL: message" on stderr. */
void vt_err(const vt_common_t *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* "TOOL: message" on stderr unless quiet. */
void vt_info(const vt_common_t *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The value of @p key in @p conf as a new string (caller frees), or NULL. */
char *vt_conf_str(const vtev_conf_t *conf, const char *key);

/* 0 when @p conf names brokers another process can reach; -1 with @p
 * errstr set when bootstrap.servers is unset or a mock:// cluster (which
 * exists only inside the process that made it) and kafka.bootstrap.servers
 * does not override it. */
int vt_real_brokers(const vtev_conf_t *conf, char *errstr, size_t errstr_size);

/* The topic of @p type per the configuration (caller frees), or NULL. */
char *vt_topic_of(const vtev_conf_t *conf, vtev_event_type_t type);

/* Parses a type name given on a command line: "position", "request",
 * "result" or a full event_type name.  VTEV_EVENT_NONE when unknown. */
vtev_event_type_t vt_type_from_arg(const char *arg);

/* Strict number parsing: whole string, finite. 0 ok, -1 bad. */
/* The standard base64 of n bytes (RFC 4648, padded), NUL-terminated; the
 * caller frees it with free().  NULL when out of memory. */
char *vt_base64(const unsigned char *p, size_t n);

/* Bytes as JSON: a string when they are UTF-8, else {"base64": "..."}; null
 * for NULL.  A new reference; NULL when out of memory. */
json_t *vt_bytes_json(const void *p, size_t n);

/* o serialised by jansson (compact, or indented with pretty) with
 * "event": event_json appended as its last member, where jansson's text of
 * the object ends (nothing in the object's values is searched); the event is
 * the library's own JSON text, so its numbers keep the library's shortest
 * round-trip form.  A NUL-terminated line of *lenp bytes the caller frees with
 * free(); NULL when out of memory. */
char *vt_json_with_event(json_t *o, const char *event_json, bool pretty, size_t *lenp);

int vt_parse_double(const char *s, double *out);
int vt_parse_int64(const char *s, long long *out);

#endif /* VT_TOOLS_COMMON_H */
