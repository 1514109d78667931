/*
 * live_load - WebSocket clients for the live-broadcaster benchmark.
 *
 * Opens N connections (libwebsockets' client, one thread) to
 * ws://HOST:PORT/ws (subprotocol vt-live), prints "connected N" once all are
 * open, then records, for every position message each client receives (a
 * frame holds one or more, one per line), the
 * time from the event's timestamp (set when the simulator published it) to
 * its arrival here.  On SIGINT/SIGTERM or after --duration it prints one
 * line of figures:
 *
 *   R live clients N received M p50_ms X p99_ms Y p999_ms Z max_ms W errors E min_per_client A max_per_client B
 *
 * where received counts position messages over all clients (after each
 * client's snapshot, which ends with {"type": "live"}) and
 * min/max_per_client the positions of the client that got the fewest/most.
 *
 * Written in C rather than Python: 200 clients at 500 positions/s are
 * 100,000 messages a second, which a Python client could not read without
 * its own backlog becoming the latency it measures.
 */
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct conn_s {
    struct lws *wsi;
    long received;  /* position messages since every client was connected */
    int open;
    int live;       /* its snapshot is over ({"type": "live"} seen) */
    char *buf;      /* the frame being reassembled from its fragments */
    size_t len, cap;
} conn_t;

static conn_t *conns;
static int nconns, nopen, errors;
static double *lat;
static size_t nlat, caplat;
static volatile sig_atomic_t stop;

static void on_sig(int s) {
    (void)s;
    stop = 1;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* "2026-12-04T02:05:07.710798Z" -> ms since the epoch; -1 when not one. */
static double iso_ms(const char *s) {
    struct tm tm;
    int y, mo, d, h, mi, sec, n = 0;
    double frac = 0, scale = 0.1;
    memset(&tm, 0, sizeof(tm));
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
        return -1;
    s += n;
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9'; s++, scale /= 10)
            frac += (*s - '0') * scale;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    return (double)timegm(&tm) * 1e3 + frac * 1e3;
}

static void record_one(conn_t *c, const char *msg) {
    const char *t;
    double ts;
    if (!strncmp(msg, "{\"type\": \"live\"", 15)) {
        c->live = 1;
        return;
    }
    /* the snapshot (each vessel's last positions, sent first) is history: not counted */
    if (!c->live || strncmp(msg, "{\"type\": \"position\"", 19))
        return;
    c->received++;
    if (!(t = strstr(msg, "\"timestamp\": \"")) || (ts = iso_ms(t + 14)) < 0) {
        errors++; /* a position without its timestamp: a broken frame */
        return;
    }
    if (nlat == caplat) {
        size_t nc = caplat ? caplat * 2 : 1 << 16;
        double *n = realloc(lat, nc * sizeof(*n));
        if (!n)
            return;
        lat = n;
        caplat = nc;
    }
    lat[nlat++] = now_ms() - ts;
}

/* A frame holds one or more messages, one per line. */
static void record(conn_t *c, char *frame) {
    char *line = frame, *nl;
    for (;;) {
        if ((nl = strchr(line, '\n')))
            *nl = '\0';
        record_one(c, line);
        if (!nl)
            break;
        line = nl + 1;
    }
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len) {
    conn_t *c = NULL;
    int i;
    (void)user;
    for (i = 0; i < nconns; i++)
        if (conns[i].wsi == wsi) {
            c = &conns[i];
            break;
        }
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (c && !c->open) {
            c->open = 1;
            nopen++;
        }
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (!c)
            break;
        if (lws_is_first_fragment(wsi))
            c->len = 0;
        /* A frame holds every message queued for the client (the
         * broadcaster's limit is 256 KiB): the buffer grows to the frame,
         * as a fixed one would cut a big frame and lose its tail unseen. */
        if (c->len + len + 1 > c->cap) {
            size_t nc = c->cap ? c->cap : 16384;
            char *nb;
            while (nc < c->len + len + 1)
                nc *= 2;
            if (!(nb = realloc(c->buf, nc))) {
                fprintf(stderr, "live_load: out of memory for a %zu-byte frame\n", nc);
                exit(1);
            }
            c->buf = nb;
            c->cap = nc;
        }
        memcpy(c->buf + c->len, in, len);
        c->len += len;
        if (lws_is_final_fragment(wsi)) {
            c->buf[c->len] = '\0';
            record(c, c->buf);
        }
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    case LWS_CALLBACK_CLIENT_CLOSED:
        errors++;
        if (c) {
            if (c->open)
                nopen--;
            c->open = 0;
            c->wsi = NULL;
        }
        break;
    default:
        break;
    }
    return 0;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double p) {
    size_t i;
    if (!nlat)
        return 0;
    i = (size_t)(p / 100.0 * (double)(nlat - 1) + 0.5);
    return lat[i];
}

int main(int argc, char **argv) {
    static struct lws_protocols protocols[] = {{"vt-live", callback, 0, 16384, 0, NULL, 0},
                                               {NULL, NULL, 0, 0, 0, NULL, 0}};
    struct lws_context_creation_info info;
    struct lws_context *ctx;
    const char *host;
    int port, i, announced = 0;
    double duration, t0;
    long mn = -1, mx = 0;

    if (argc != 5) {
        fprintf(stderr, "usage: live_load HOST PORT CLIENTS DURATION_S\n");
        return 2;
    }
    host = argv[1];
    port = atoi(argv[2]);
    nconns = atoi(argv[3]);
    duration = atof(argv[4]);
    if (port <= 0 || nconns <= 0 || duration <= 0) {
        fprintf(stderr, "live_load: bad arguments\n");
        return 2;
    }
    signal(SIGINT, on_sig);
    signal(SIGTERM, on_sig);
    lws_set_log_level(LLL_ERR, NULL);
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.fd_limit_per_thread = (unsigned int)nconns + 16;
    if (!(ctx = lws_create_context(&info)) || !(conns = calloc((size_t)nconns, sizeof(*conns)))) {
        fprintf(stderr, "live_load: cannot create the client context\n");
        return 1;
    }
    for (i = 0; i < nconns; i++) {
        struct lws_client_connect_info cc;
        memset(&cc, 0, sizeof(cc));
        cc.context = ctx;
        cc.address = host;
        cc.port = port;
        cc.path = "/ws";
        cc.host = host;
        cc.origin = host;
        cc.protocol = "vt-live";
        cc.pwsi = &conns[i].wsi;
        if (!lws_client_connect_via_info(&cc))
            errors++;
        if (i % 20 == 19)
            lws_service(ctx, 0);
    }
    t0 = now_ms();
    while (!stop) {
        lws_service(ctx, 0);
        if (!announced && nopen == nconns) {
            printf("connected %d\n", nopen);
            fflush(stdout);
            announced = 1;
            t0 = now_ms();
            nlat = 0;
            for (i = 0; i < nconns; i++)
                conns[i].received = 0;
        }
        if (!announced && now_ms() - t0 > 30000) {
            fprintf(stderr, "live_load: only %d of %d clients connected\n", nopen, nconns);
            return 1;
        }
        if (announced && now_ms() - t0 > duration * 1e3)
            break;
    }
    for (i = 0; i < nconns; i++) {
        if (mn < 0 || conns[i].received < mn)
            mn = conns[i].received;
        if (conns[i].received > mx)
            mx = conns[i].received;
    }
    qsort(lat, nlat, sizeof(*lat), cmp);
    printf("R live clients %d received %zu p50_ms %.2f p99_ms %.2f p999_ms %.2f max_ms %.2f "
           "errors %d min_per_client %ld max_per_client %ld\n",
           nconns, nlat, pct(50), pct(99), pct(99.9), nlat ? lat[nlat - 1] : 0.0, errors, mn, mx);
    lws_context_destroy(ctx);
    for (i = 0; i < nconns; i++)
        free(conns[i].buf);
    free(conns);
    free(lat);
    return 0;
}
