/*
 * http.h - the example services' HTTP endpoints (--http HOST:PORT):
 * GET /metrics (Prometheus text 0.0.4: the library's metrics and the
 * service's own), /healthz (liveness) and /readyz (readiness: 200 or 503,
 * the reasons as JSON).  libmicrohttpd serves them on its own thread.
 */
#ifndef EXAMPLES_HTTP_H
#define EXAMPLES_HTTP_H

#include <stddef.h>

typedef struct ex_http_s ex_http_t;

/* Appends the service's own metrics (Prometheus text, complete lines) to
 * *buf (realloc'd; *len bytes used, *cap allocated). 0, or -1 when out of
 * memory. Called on the HTTP thread. */
typedef int (ex_http_metrics_fn)(char **buf, size_t *len, size_t *cap, void *opaque);

/* Parses "HOST:PORT", "PORT" (127.0.0.1) or "[V6]:PORT". 0, or -1 with errstr
 * naming the value. */
int ex_http_parse(const char *arg, char *host, size_t host_size, int *port, char *errstr,
                  size_t errstr_size);

/* Starts serving on arg (see ex_http_parse). NULL with errstr on failure
 * (the address in use, a bad value). */
ex_http_t *ex_http_start(const char *arg, const char *service, ex_http_metrics_fn *extra,
                         void *opaque, char *errstr, size_t errstr_size);

/* The port it listens on (useful with port 0). */
int ex_http_port(const ex_http_t *h);

/* Stops serving and frees h (NULL is ignored). */
void ex_http_stop(ex_http_t *h);

/* A service of its own on the same port (vessel-api): every request whose
 * path is not /metrics, /healthz or /readyz goes to @c handle, called with
 * libmicrohttpd's access handler arguments (its return value is an
 * enum MHD_Result); it must set *req_cls to its own non-NULL state on the
 * first call, which @c done frees when the request ends (also when the
 * client went away).  Both are called on the HTTP threads, @c threads of
 * them (0 or 1: one). */
struct MHD_Connection;
typedef struct ex_http_app_s {
    int (*handle)(void *app, struct MHD_Connection *conn, const char *url, const char *method,
                  const char *upload_data, size_t *upload_data_size, void **req_cls);
    void (*done)(void *app, void *req);
    void *app;
    unsigned int threads;
    /* When set (and @c threads is 0 or 1): one HTTP thread of ex_http's own
     * runs libmicrohttpd's event loop (MHD_run_wait) and calls @c round_end
     * after every round of it, on that thread.  A request whose handler
     * queued no response on its final call is called again in the next
     * round (libmicrohttpd's documented behaviour), so an application can
     * gather the work of one round (vessel-api: one database transaction)
     * and answer each request after @c round_end has finished it. */
    void (*round_end)(void *app);
} ex_http_app_t;

/* ex_http_start() with an application (@p app copied; NULL: none). */
ex_http_t *ex_http_start_app(const char *arg, const char *service, ex_http_metrics_fn *extra,
                             void *opaque, const ex_http_app_t *app, char *errstr,
                             size_t errstr_size);

struct ex_stats_s;
/* For a service's main: with arg NULL nothing is started (*hp = NULL, 0);
 * else serves on arg with the service's counters (st) as its own metrics.
 * 0, or -1 after printing why on stderr. */
int ex_http_begin(const char *arg, const char *service, const struct ex_stats_s *st,
                  ex_http_t **hp);

/* The reply to GET @p path (/metrics, /healthz or /readyz) as ex_http_start()
 * serves it, for a program that serves HTTP itself (live-broadcaster):
 * *status (200, or 503 for a failing health check), *ctype (static) and the
 * body in *bodyp (caller frees with free()) of *lenp bytes.  0; 1 when path is
 * none of the three; -1 when the report could not be made (out of memory). */
int ex_http_render(const char *service, const char *path, ex_http_metrics_fn *extra,
                   void *opaque, unsigned int *status, const char **ctype, char **bodyp,
                   size_t *lenp);

/* Appends printf-formatted text to a buffer as ex_http_metrics_fn does. */
int ex_http_appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

#endif
