/*
 * http.c - /metrics, /healthz and /readyz of the example services, on
 * libmicrohttpd (its internal polling thread; these read no request body).
 * A service with an API of its own (vessel-api, ex_http_start_app()) gets
 * every other path on the same port, bodies included; with a round_end
 * hook (http.h) its event loop runs on a thread of this file's instead.
 */
#include "http.h"
#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>
#include <vtevents/vtevents.h>

struct ex_http_s {
    struct MHD_Daemon *d;
    char service[64];
    ex_http_metrics_fn *extra;
    void *opaque;
    int port;
    ex_http_app_t app; /* app.handle NULL: none */
    /* app.round_end: the event loop runs on this thread of ours */
    pthread_t loop;
    bool loop_started;
    atomic_int stop;
};

int ex_http_appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...) {
    va_list ap;
    int n;
    for (;;) {
        size_t room = *cap - *len;
        va_start(ap, fmt);
        n = vsnprintf(*buf ? *buf + *len : NULL, *buf ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            return -1;
        if (*buf && (size_t)n < room) {
            *len += (size_t)n;
            return 0;
        }
        {
            size_t nc = (*cap ? *cap : 1024);
            char *nb;
            while (nc < *len + (size_t)n + 1)
                nc *= 2;
            if (!(nb = realloc(*buf, nc)))
                return -1;
            *buf = nb;
            *cap = nc;
        }
    }
}

int ex_http_parse(const char *arg, char *host, size_t host_size, int *port, char *errstr,
                  size_t errstr_size) {
    const char *colon, *p;
    char *end;
    long v;
    if (!arg || !*arg) {
        snprintf(errstr, errstr_size, "--http: empty; expected HOST:PORT or PORT");
        return -1;
    }
    if (arg[0] == '[') {
        const char *rb = strchr(arg, ']');
        if (!rb || rb[1] != ':') {
            snprintf(errstr, errstr_size, "--http %s: expected [IPV6]:PORT", arg);
            return -1;
        }
        snprintf(host, host_size, "%.*s", (int)(rb - arg - 1), arg + 1);
        p = rb + 2;
    } else if ((colon = strrchr(arg, ':'))) {
        snprintf(host, host_size, "%.*s", (int)(colon - arg), arg);
        p = colon + 1;
    } else {
        snprintf(host, host_size, "127.0.0.1");
        p = arg;
    }
    v = strtol(p, &end, 10);
    if (!*p || *end || v < 0 || v > 65535) {
        snprintf(errstr, errstr_size, "--http %s: the port \"%s\" is not a number 0-65535", arg,
                 p);
        return -1;
    }
    if (!*host) {
        snprintf(errstr, errstr_size, "--http %s: the host is empty", arg);
        return -1;
    }
    *port = (int)v;
    return 0;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status,
                             const char *type, char *body, size_t len) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    enum MHD_Result rc;
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

/* {"error": CODE, "field": PATH, "reason": TEXT}, as the services answer errors. */
static enum MHD_Result reply_error(struct MHD_Connection *conn, unsigned int status,
                                   const char *code, const char *field, const char *reason) {
    char *b = NULL;
    size_t len = 0, cap = 0;
    /* the values are fixed strings of this file: no escaping needed */
    if (ex_http_appendf(&b, &len, &cap, "{\"error\": \"%s\", \"field\": \"%s\", \"reason\": \"%s\"}\n",
                        code, field, reason))
        return MHD_NO;
    return reply(conn, status, "application/json", b, len);
}

/* vtev_process_live / vtev_process_ready: the process's health as gauges
 * (the alert rules' "not ready"). */
static int health_gauges(char **b, size_t *len, size_t *cap) {
    vtev_health_t *hr = malloc(sizeof(*hr));
    int rc;
    if (!hr || vtev_health_process(hr) != VTEV_ERR_OK) {
        free(hr);
        return -1;
    }
    rc = ex_http_appendf(b, len, cap,
                         "# HELP vtev_process_live 1 when no liveness check fails (/healthz).\n"
                         "# TYPE vtev_process_live gauge\n"
                         "vtev_process_live %d\n"
                         "# HELP vtev_process_ready 1 when the process is ready (/readyz).\n"
                         "# TYPE vtev_process_ready gauge\n"
                         "vtev_process_ready %d\n",
                         hr->live ? 1 : 0, hr->ready ? 1 : 0);
    free(hr);
    return rc;
}

static int render_metrics(ex_http_metrics_fn *extra, void *opaque, char **bodyp,
                          size_t *lenp) {
    char *lib = NULL, *b = NULL;
    size_t lib_len = 0, len = 0, cap = 0;
    char e[256];
    if (vtev_metrics_write(&lib, &lib_len, e, sizeof(e)) != VTEV_ERR_OK)
        return -1;
    if (ex_http_appendf(&b, &len, &cap, "%.*s", (int)lib_len, lib) ||
        health_gauges(&b, &len, &cap) || (extra && extra(&b, &len, &cap, opaque))) {
        vtev_free(lib);
        free(b);
        return -1;
    }
    vtev_free(lib);
    *bodyp = b;
    *lenp = len;
    return 0;
}

static int render_health(const char *service, bool ready, unsigned int *status, char **bodyp,
                         size_t *lenp) {
    vtev_health_t *hr = malloc(sizeof(*hr));
    char *j = NULL, *b = NULL;
    size_t jl = 0, len = 0, cap = 0;
    bool ok;
    if (!hr || vtev_health_process(hr) != VTEV_ERR_OK || vtev_health_json(hr, &j, &jl)) {
        free(hr);
        return -1;
    }
    ok = ready ? hr->ready : hr->live;
    free(hr);
    /* the library's report plus the service's name */
    if (ex_http_appendf(&b, &len, &cap, "{\"service\": \"%s\", \"status\": \"%s\", \"health\": %s}\n",
                        service, ok ? "ok" : (ready ? "not ready" : "not live"), j)) {
        vtev_free(j);
        return -1;
    }
    vtev_free(j);
    *status = ok ? 200 : 503;
    *bodyp = b;
    *lenp = len;
    return 0;
}

int ex_http_render(const char *service, const char *path, ex_http_metrics_fn *extra,
                   void *opaque, unsigned int *status, const char **ctype, char **bodyp,
                   size_t *lenp) {
    if (!strcmp(path, "/metrics")) {
        *status = 200;
        *ctype = "text/plain; version=0.0.4; charset=utf-8";
        return render_metrics(extra, opaque, bodyp, lenp);
    }
    if (!strcmp(path, "/healthz") || !strcmp(path, "/readyz")) {
        *ctype = "application/json";
        return render_health(service, path[1] == 'r', status, bodyp, lenp);
    }
    return 1;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls) {
    ex_http_t *h = cls;
    (void)version;
    if (h->app.handle && *req_cls != h &&
        (*req_cls || (strcmp(url, "/metrics") && strcmp(url, "/healthz") && strcmp(url, "/readyz"))))
        return (enum MHD_Result)h->app.handle(h->app.app, conn, url, method, upload_data,
                                              upload_data_size, req_cls);
    if (!*req_cls) { /* first call: headers only */
        *req_cls = h;
        return MHD_YES;
    }
    if (*upload_data_size) { /* a body is not read: these endpoints take none */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return reply_error(conn, 405, "METHOD_NOT_ALLOWED", "method",
                           "only GET and HEAD are served");
    {
        unsigned int status;
        const char *ctype;
        char *body;
        size_t len;
        int rc = ex_http_render(h->service, url, h->extra, h->opaque, &status, &ctype, &body,
                                &len);
        if (rc < 0)
            return !strcmp(url, "/metrics")
                       ? reply_error(conn, 500, "METRICS", "metrics",
                                     "the metrics could not be written")
                       : MHD_NO;
        if (rc == 0)
            return reply(conn, status, ctype, body, len);
    }
    return reply_error(conn, 404, "NOT_FOUND", "path",
                       "served: /metrics, /healthz, /readyz");
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe) {
    ex_http_t *h = cls;
    (void)conn;
    (void)toe;
    if (*req_cls && *req_cls != h && h->app.done)
        h->app.done(h->app.app, *req_cls);
    *req_cls = NULL;
}

/* The event loop of an application with a round_end hook: each round
 * (MHD_run_wait: the sockets that are ready, every request that can go on)
 * is followed by the hook.  At the stop, a few rounds more without waiting
 * send the answers the last hooks finished. */
static void *loop_main(void *arg) {
    ex_http_t *h = arg;
    int i;
    while (!atomic_load(&h->stop)) {
        if (MHD_run_wait(h->d, 100) != MHD_YES)
            ex_sleep_ms(10); /* logged by libmicrohttpd (MHD_USE_ERROR_LOG) */
        h->app.round_end(h->app.app);
    }
    for (i = 0; i < 4; i++) {
        MHD_run_wait(h->d, 0);
        h->app.round_end(h->app.app);
    }
    return NULL;
}

ex_http_t *ex_http_start(const char *arg, const char *service, ex_http_metrics_fn *extra,
                         void *opaque, char *errstr, size_t errstr_size) {
    return ex_http_start_app(arg, service, extra, opaque, NULL, errstr, errstr_size);
}

ex_http_t *ex_http_start_app(const char *arg, const char *service, ex_http_metrics_fn *extra,
                             void *opaque, const ex_http_app_t *app, char *errstr,
                             size_t errstr_size) {
    char host[256];
    int port;
    struct sockaddr_storage ss;
    socklen_t sl;
    ex_http_t *h;
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    const union MHD_DaemonInfo *di;
    bool own_loop = app && app->handle && app->round_end && app->threads <= 1;

    if (ex_http_parse(arg, host, sizeof(host), &port, errstr, errstr_size))
        return NULL;
    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
        ((struct sockaddr_in *)&ss)->sin_family = AF_INET;
        ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
        sl = sizeof(struct sockaddr_in);
    } else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
        ((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
        sl = sizeof(struct sockaddr_in6);
        flags |= MHD_USE_IPv6;
    } else {
        snprintf(errstr, errstr_size, "--http %s: \"%s\" is not an IP address", arg, host);
        return NULL;
    }
    (void)sl;
    if (!(h = calloc(1, sizeof(*h)))) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    snprintf(h->service, sizeof(h->service), "%s", service);
    h->extra = extra;
    h->opaque = opaque;
    if (app)
        h->app = *app;
    {
        struct MHD_OptionItem opts[] = {
            {MHD_OPTION_SOCK_ADDR, 0, &ss},
            {MHD_OPTION_CONNECTION_TIMEOUT, 10, NULL},
            /* libmicrohttpd zeroes a connection's whole memory pool (32 KiB
             * by default) for every request; 8 KiB (nginx's default for a
             * request line and headers) holds any request an API expects:
             * bodies are handed over in pieces */
            {app ? MHD_OPTION_CONNECTION_MEMORY_LIMIT : MHD_OPTION_END, 8 * 1024, NULL},
            {MHD_OPTION_END, 0, NULL},
            {MHD_OPTION_END, 0, NULL},
        };
        if (own_loop) /* epoll, driven by loop_main() */
            flags = (flags & ~(unsigned int)MHD_USE_INTERNAL_POLLING_THREAD) | MHD_USE_EPOLL;
        else if (app) /* epoll on Linux: no FD_SETSIZE limit on the connections */
            flags |= MHD_USE_AUTO;
        if (app && app->threads > 1) {
            opts[3].option = MHD_OPTION_THREAD_POOL_SIZE;
            opts[3].value = (intptr_t)app->threads;
        }
        h->d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, h,
                                MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                                MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    }
    if (!h->d) {
        snprintf(errstr, errstr_size, "--http %s: cannot listen on %s port %d (in use?)", arg,
                 host, port);
        free(h);
        return NULL;
    }
    di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? (int)di->port : port;
    if (own_loop) {
        if (pthread_create(&h->loop, NULL, loop_main, h)) {
            snprintf(errstr, errstr_size, "--http %s: cannot start the HTTP thread", arg);
            MHD_stop_daemon(h->d);
            free(h);
            return NULL;
        }
        h->loop_started = true;
    }
    return h;
}

int ex_http_port(const ex_http_t *h) {
    return h ? h->port : -1;
}

void ex_http_stop(ex_http_t *h) {
    if (!h)
        return;
    if (h->loop_started) {
        atomic_store(&h->stop, 1);
        pthread_join(h->loop, NULL);
    }
    MHD_stop_daemon(h->d);
    free(h);
}

/* ---- a service's own counters ---- */

typedef struct svc_s {
    const ex_stats_t *st;
    char service[64];
} svc_t;

static int stats_metrics(char **b, size_t *len, size_t *cap, void *opaque) {
    const svc_t *sv = opaque;
    const ex_stats_t *st = sv->st;
    static const char *const names[] = {"consumed", "published", "delivered", "failed",
                                        "dead_letters", "rows", "aborts", "db_retries"};
    uint64_t v[8];
    size_t i;
    v[0] = atomic_load(&st->consumed);
    v[1] = atomic_load(&st->published);
    v[2] = atomic_load(&st->delivered);
    v[3] = atomic_load(&st->failed);
    v[4] = atomic_load(&st->dead_letters);
    v[5] = atomic_load(&st->rows);
    v[6] = atomic_load(&st->aborts);
    v[7] = atomic_load(&st->db_retries);
    if (ex_http_appendf(b, len, cap,
                        "# HELP vt_service_events_total What the example service did: events "
                        "consumed, published, delivered, failed, dead-lettered, rows stored, "
                        "aborted transactions, database retries.\n"
                        "# TYPE vt_service_events_total counter\n"))
        return -1;
    for (i = 0; i < 8; i++)
        if (ex_http_appendf(b, len, cap, "vt_service_events_total{service=\"%s\",kind=\"%s\"} %llu\n",
                            sv->service, names[i], (unsigned long long)v[i]))
            return -1;
    return ex_http_appendf(b, len, cap,
                           "# HELP vt_service_assigned 1 once the service's consumer has "
                           "partitions.\n"
                           "# TYPE vt_service_assigned gauge\n"
                           "vt_service_assigned{service=\"%s\"} %d\n",
                           sv->service, atomic_load(&st->assigned) ? 1 : 0);
}

static svc_t svc; /* one service per process */

int ex_http_begin(const char *arg, const char *service, const struct ex_stats_s *st,
                  ex_http_t **hp) {
    char errstr[512];
    *hp = NULL;
    if (!arg)
        return 0;
    svc.st = st;
    snprintf(svc.service, sizeof(svc.service), "%s", service);
    if (!(*hp = ex_http_start(arg, service, st ? stats_metrics : NULL, &svc, errstr,
                              sizeof(errstr)))) {
        fprintf(stderr, "%s: %s\n", service, errstr);
        return -1;
    }
    return 0;
}
