/*
 * common.c - options, configuration, messages and signals shared by the
 * vt-* tools.  See common.h.
 */
#include "common.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

volatile sig_atomic_t vt_stop = 0;

void vt_common_init(vt_common_t *c, const char *tool) {
    memset(c, 0, sizeof(*c));
    c->tool = tool;
    c->verbosity = 1;
}

void vt_common_clear(vt_common_t *c) {
    free(c->props);
    c->props = NULL;
    c->prop_cnt = 0;
}

int vt_common_opt(vt_common_t *c, int opt, const char *arg) {
    switch (opt) {
    case 'b':
        c->brokers = arg;
        return 1;
    case 'r':
        c->registry = arg;
        return 1;
    case 'F':
        c->conf_file = arg;
        return 1;
    case 'X': {
        const char **np = realloc(c->props, (c->prop_cnt + 1) * sizeof(*np));
        if (!np)
            return -1;
        c->props = np;
        c->props[c->prop_cnt++] = arg;
        return 1;
    }
    case 'q':
        c->verbosity = 0;
        return 1;
    case 'v':
        c->verbosity = 2;
        return 1;
    case 'V':
        c->want_version = true;
        return 1;
    case VT_OPT_HELP:
        c->want_help = true;
        return 1;
    default:
        return 0;
    }
}

void vt_common_print_version(const vt_common_t *c) {
    printf("%s %s\nlibvtevents %s\nlibrdkafka %s\n", c->tool, VTEV_VERSION_STR,
           vtev_version_str(), vtev_rdkafka_version_str());
}

static void vvt_msg(const vt_common_t *c, const char *fmt, va_list ap) {
    char buf[4096];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    fprintf(stderr, "%s: %s\n", c->tool, buf);
}

void vt_err(const vt_common_t *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vvt_msg(c, fmt, ap);
    va_end(ap);
}

void vt_info(const vt_common_t *c, const char *fmt, ...) {
    va_list ap;
    if (c->verbosity < 1)
        return;
    va_start(ap, fmt);
    vvt_msg(c, fmt, ap);
    va_end(ap);
}

void vt_warn_embedded_defaults(const vt_common_t *c, const vtev_conf_t *conf) {
    char msg[512];
    /* not subject to -q: nothing else tells the user that the events go nowhere */
    if (vtev_conf_embedded_defaults(conf, msg, sizeof(msg)) > 0)
        fprintf(stderr,
                "%s: warning: %s; give real ones with -b/-r, KAFKA_BOOTSTRAP_SERVERS/"
                "SCHEMA_REGISTRY_URL or a properties file (-F)\n",
                c->tool, msg);
}

static bool file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

vtev_conf_t *vt_common_conf(vt_common_t *c, int *exitp) {
    char errstr[512];
    char home_conf[4096];
    const char *file = c->conf_file;
    vtev_conf_t *conf = vtev_conf_new();
    size_t i;

    *exitp = VT_EXIT_USAGE;
    if (!conf) {
        vt_err(c, "out of memory");
        *exitp = VT_EXIT_FAIL;
        return NULL;
    }
    /* Tools are quiet by default: errors only (librdkafka's transient
     * warnings, e.g. retries, are shown with -v). */
    vtev_conf_set(conf, "log.level", "3", NULL, 0);

    if (!file) {
        const char *env = getenv("VTEV_CONFIG");
        if (env && *env) {
            file = env;
        } else {
            const char *home = getenv("HOME");
            if (home && *home) {
                snprintf(home_conf, sizeof(home_conf), "%s/.config/vtevents.conf", home);
                if (file_exists(home_conf))
                    file = home_conf;
            }
        }
    }
    if (file && vtev_conf_load_file(conf, file, errstr, sizeof(errstr)) != VTEV_ERR_OK) {
        vt_err(c, "%s", errstr);
        goto fail;
    }
    if (vtev_conf_load_env(conf, errstr, sizeof(errstr)) != VTEV_ERR_OK) {
        vt_err(c, "environment: %s", errstr);
        goto fail;
    }
    if (c->brokers &&
        vtev_conf_set(conf, "bootstrap.servers", c->brokers, errstr, sizeof(errstr)) != VTEV_CONF_OK) {
        vt_err(c, "-b: %s", errstr);
        goto fail;
    }
    if (c->registry &&
        vtev_conf_set(conf, "schema.registry.url", c->registry, errstr, sizeof(errstr)) !=
            VTEV_CONF_OK) {
        vt_err(c, "-r: %s", errstr);
        goto fail;
    }
    for (i = 0; i < c->prop_cnt; i++) {
        const char *p = c->props[i];
        const char *eq = strchr(p, '=');
        char key[256];
        size_t klen;
        if (!eq || eq == p) {
            vt_err(c, "-X %s: expected KEY=VALUE", p);
            goto fail;
        }
        klen = (size_t)(eq - p);
        if (klen >= sizeof(key)) {
            vt_err(c, "-X %.40s...: key too long", p);
            goto fail;
        }
        memcpy(key, p, klen);
        key[klen] = '\0';
        if (vtev_conf_set(conf, key, eq + 1, errstr, sizeof(errstr)) != VTEV_CONF_OK) {
            vt_err(c, "-X %s: %s", key, errstr);
            goto fail;
        }
    }
    if (c->verbosity >= 2)
        vtev_conf_set(conf, "log.level", "7", NULL, 0);
    vt_warn_embedded_defaults(c, conf);
    *exitp = VT_EXIT_OK;
    return conf;
fail:
    vtev_conf_destroy(conf);
    return NULL;
}

static pthread_t main_thread;

static void on_signal(int sig) {
    int saved = errno;
    vt_stop = 1;
    /* A signal handled on another thread (one a library started without
     * blocking signals) would not interrupt the main thread's blocking read:
     * hand it on, so that the read returns EINTR. */
    if (!pthread_equal(pthread_self(), main_thread))
        pthread_kill(main_thread, sig);
    errno = saved;
}

void vt_signals_install(void) {
    struct sigaction sa;
    main_thread = pthread_self();
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: blocking reads return EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

char *vt_conf_str(const vtev_conf_t *conf, const char *key) {
    size_t sz = 0;
    char *buf;
    if (vtev_conf_get(conf, key, NULL, &sz) != VTEV_CONF_OK || sz == 0)
        return NULL;
    buf = malloc(sz);
    if (!buf)
        return NULL;
    if (vtev_conf_get(conf, key, buf, &sz) != VTEV_CONF_OK) {
        free(buf);
        return NULL;
    }
    return buf;
}

int vt_real_brokers(const vtev_conf_t *conf, char *errstr, size_t errstr_size) {
    /* kafka.bootstrap.servers, when set, wins over bootstrap.servers */
    if (!vtev_conf_is_set(conf, "kafka.bootstrap.servers")) {
        char *bs = vt_conf_str(conf, "bootstrap.servers");
        if (!bs || !*bs) {
            snprintf(errstr, errstr_size, "bootstrap.servers is not set");
            free(bs);
            return -1;
        }
        if (strncmp(bs, "mock://", 7) == 0) {
            snprintf(errstr, errstr_size,
                     "bootstrap.servers=%s: the embedded mock cluster exists only inside one "
                     "process; give real brokers with -b HOST:PORT (or KAFKA_BOOTSTRAP_SERVERS)",
                     bs);
            free(bs);
            return -1;
        }
        free(bs);
    }
    return 0;
}

char *vt_topic_of(const vtev_conf_t *conf, vtev_event_type_t type) {
    switch (type) {
    case VTEV_EVENT_POSITION:
        return vt_conf_str(conf, "topic.position");
    case VTEV_EVENT_REQUEST:
        return vt_conf_str(conf, "topic.request");
    case VTEV_EVENT_RESULT:
        return vt_conf_str(conf, "topic.result");
    default:
        return NULL;
    }
}

vtev_event_type_t vt_type_from_arg(const char *arg) {
    if (strcmp(arg, "position") == 0)
        return VTEV_EVENT_POSITION;
    if (strcmp(arg, "request") == 0)
        return VTEV_EVENT_REQUEST;
    if (strcmp(arg, "result") == 0)
        return VTEV_EVENT_RESULT;
    return vtev_event_type_from_name(arg);
}

int vt_parse_double(const char *s, double *out) {
    char *end;
    double v;
    if (!s || !*s)
        return -1;
    errno = 0;
    v = strtod(s, &end);
    if (*end || errno == ERANGE || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int vt_parse_int64(const char *s, long long *out) {
    char *end;
    long long v;
    if (!s || !*s)
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (*end || errno)
        return -1;
    *out = v;
    return 0;
}

/* ---- bytes in JSON ---- */

/* Written here rather than taken from a library: base64 is a dozen lines,
 * and the libraries that have it (glib, OpenSSL's BIO chains) would be a
 * dependency of every tool for them. */
char *vt_base64(const unsigned char *p, size_t n) {
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t olen = 4 * ((n + 2) / 3), i, o = 0;
    char *out = malloc(olen + 1);
    if (!out)
        return NULL;
    for (i = 0; i + 2 < n; i += 3) {
        unsigned v = ((unsigned)p[i] << 16) | ((unsigned)p[i + 1] << 8) | p[i + 2];
        out[o++] = tbl[(v >> 18) & 63];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = tbl[(v >> 6) & 63];
        out[o++] = tbl[v & 63];
    }
    if (i < n) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        out[o++] = tbl[(v >> 18) & 63];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return out;
}

json_t *vt_bytes_json(const void *p, size_t n) {
    json_t *s;
    char *b;
    if (!p)
        return json_null();
    if ((s = json_stringn(p, n)))
        return s;
    if (!(b = vt_base64(p, n)))
        return NULL;
    s = json_pack("{s:s}", "base64", b);
    free(b);
    return s;
}

char *vt_json_with_event(json_t *o, const char *event_json, bool pretty, size_t *lenp) {
    const char *sep = pretty ? ",\n  \"event\": " : ", \"event\": ";
    const char *close = pretty ? "\n}" : "}";
    size_t elen, n, cap, i;
    char *env, *line;
    if (!(env = json_dumps(o, JSON_PRESERVE_ORDER | (pretty ? JSON_INDENT(2) : 0))))
        return NULL;
    elen = strlen(env);
    /* jansson ends a non-empty object with "}" (compact) or "\n}" (indented) */
    if (elen < strlen(close) || strcmp(env + elen - strlen(close), close) != 0) {
        free(env);
        return NULL;
    }
    elen -= strlen(close);
    /* the pretty event is indented one level deeper: 2 more bytes per line */
    cap = elen + strlen(sep) + strlen(close) + 1;
    for (i = 0; event_json[i]; i++)
        cap += event_json[i] == '\n' && pretty ? 3 : 1;
    if (!(line = malloc(cap))) {
        free(env);
        return NULL;
    }
    memcpy(line, env, elen);
    n = elen;
    free(env);
    memcpy(line + n, sep, strlen(sep));
    n += strlen(sep);
    for (i = 0; event_json[i]; i++) {
        line[n++] = event_json[i];
        if (event_json[i] == '\n' && pretty) {
            line[n++] = ' ';
            line[n++] = ' ';
        }
    }
    memcpy(line + n, close, strlen(close));
    n += strlen(close);
    line[n] = '\0';
    *lenp = n;
    return line;
}
