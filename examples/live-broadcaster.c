/*
 * live-broadcaster - fans vessel positions and prediction results out to
 * browsers over WebSocket, and serves the live map page that shows them.
 *
 * Every instance receives every event: its consumer is a read-only reader
 * (consumer.read.only=true, no group, nothing committed) that starts at the
 * end of the positions and results topics (--history N: N messages back per
 * partition).  Two instances never share the stream the way a group would.
 *
 * libwebsockets (Debian) serves the HTTP and the WebSocket on one port and
 * runs on the calling thread; the consumer polls on a thread of its own and
 * hands each event, as its JSON form, to that loop (lws_cancel_service).
 * Each client has a bounded queue (--client-queue messages, --client-bytes):
 * when it is full the
 * oldest position is dropped first, results are never dropped before
 * positions, every drop is counted and told to the page, and a client that
 * accepts nothing for --stall-ms while its queue is full (or whose queue is
 * full of results) is disconnected.  So a slow client never slows the
 * consumer, and one that never reads costs at most its queue.
 */
#include "common.h"
#include "http.h"

#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LIVE "live-broadcaster"

/* The page: installed beside the terminals (EX_DATA_DIR/live), else the
 * source tree's examples/live (a build that is not installed). */
#ifndef EX_DATA_DIR
#define EX_DATA_DIR "."
#endif
#ifndef EX_SRC_LIVE_DIR
#define EX_SRC_LIVE_DIR EX_DATA_DIR "/live"
#endif
#define VESSEL_MAX (VTEV_ID_MAX + 1)
#define MAX_VESSELS 10000

enum { K_POSITION, K_RESULT, K_MARK }; /* K_MARK: the end of a new client's snapshot */

/* One event as sent: LWS_PRE bytes of headroom, then its JSON message.
 * Shared by every client queue holding it; referenced and freed on the
 * service thread only (the consumer thread creates it). */
typedef struct msg_s {
    int ref;
    int kind;
    struct msg_s *next; /* in the inbox */
    char vessel[VESSEL_MAX];
    char request_id[VTEV_ID_MAX + 1];
    size_t len;
    unsigned char buf[]; /* LWS_PRE + len + 1 */
} msg_t;

typedef struct client_s {
    struct lws *wsi;
    struct client_s *next;
    msg_t **q;
    int head, cnt;
    size_t qbytes; /* the queued messages' bytes */
    bool full;     /* its bound was reached since the last send */
    uint64_t dropped, dropped_told, sent;
    int64_t last_write_us;
    unsigned char *out; /* LWS_PRE + the frame being sent: queued messages, one per line */
    size_t out_cap;
    char vessel[VESSEL_MAX]; /* "" = all */
    bool closing;
} client_t;

/* What a new page gets first: each vessel's last positions and its latest
 * request's results. */
typedef struct vstate_s {
    char vessel[VESSEL_MAX];
    msg_t **track;
    int head, cnt;
    msg_t *results[8];
    int nres;
} vstate_t;

typedef struct http_pss_s {
    unsigned char *body; /* LWS_PRE + len */
    size_t len;
} http_pss_t;

typedef struct live_s {
    ex_live_opts_t o;
    ex_stats_t *st;
    struct lws_context *ctx;
    client_t *clients;
    pthread_mutex_t lock; /* the inbox */
    msg_t *in_head, *in_tail;
    size_t in_cnt;
    vstate_t *vs;
    size_t nvs;
    msg_t *mark; /* {"type": "live"} */
    char *terminals_json;
    size_t terminals_len;
    atomic_uint_fast64_t sent[3], dropped[3], disconnects_stall, disconnects_full, clients_total,
        inbox_dropped;
    atomic_int nclients;
    int64_t now_us;
} live_t;

/* ------------------------------------------------------------------ messages */

static void msg_unref(msg_t *m) {
    if (m && --m->ref == 0)
        free(m);
}

static msg_t *msg_new(int kind, const vtev_event_t *ev) {
    char *j = NULL;
    size_t jl = 0;
    msg_t *m;
    const char *type = kind == K_POSITION ? "position" : "result";
    int n;
    if (vtev_event_to_json(ev, 0, &j, &jl) != VTEV_ERR_OK)
        return NULL;
    /* {"type": "position", "event": {...}} */
    if (!(m = malloc(sizeof(*m) + LWS_PRE + jl + 40))) {
        vtev_free(j);
        return NULL;
    }
    n = snprintf((char *)m->buf + LWS_PRE, jl + 40, "{\"type\": \"%s\", \"event\": %s}", type, j);
    vtev_free(j);
    m->ref = 1;
    m->kind = kind;
    m->next = NULL;
    m->len = (size_t)n;
    snprintf(m->vessel, sizeof(m->vessel), "%s",
             kind == K_POSITION ? ev->u.position.env.vessel_id : ev->u.result.env.vessel_id);
    snprintf(m->request_id, sizeof(m->request_id), "%s",
             kind == K_RESULT ? ev->u.result.request_id : "");
    return m;
}

/* ------------------------------------------------------------------ consumer */

typedef struct reader_s {
    live_t *L;
    vtev_consumer_t *c;
    atomic_int *stop;
    pthread_t th;
    int rc;
    bool pending; /* events in the inbox the service loop was not woken for */
} reader_t;

/* The inbox's bound: events the service loop has not fanned out yet.  Only
 * reached when the loop itself stalls; the oldest positions go first there
 * too, counted in vt_live_inbox_dropped_total. */
#define INBOX_MAX 100000

static void inbox_push(live_t *L, msg_t *m) {
    pthread_mutex_lock(&L->lock);
    if (L->in_cnt >= INBOX_MAX && m->kind == K_POSITION) {
        pthread_mutex_unlock(&L->lock);
        atomic_fetch_add(&L->inbox_dropped, 1);
        free(m);
        return;
    }
    if (L->in_tail)
        L->in_tail->next = m;
    else
        L->in_head = m;
    L->in_tail = m;
    L->in_cnt++;
    pthread_mutex_unlock(&L->lock);
}

static vtev_verdict_t on_event(vtev_consumer_t *c, const vtev_event_t *ev,
                               const vtev_msg_info_t *info, void *opaque) {
    reader_t *r = opaque;
    msg_t *m = msg_new(ev->type == VTEV_EVENT_POSITION ? K_POSITION : K_RESULT, ev);
    (void)c;
    (void)info;
    atomic_fetch_add(&r->L->st->consumed, 1);
    if (m) {
        inbox_push(r->L, m);
        r->pending = true;
    }
    return VTEV_VERDICT_OK;
}

/* Polls; wakes the service loop (lws_cancel_service) at most every
 * --flush-ms while events wait, so that each client's events of that time go
 * out in one frame (one send instead of one per event and client), and at
 * least every 100 ms for the stall check and the stop flag. */
static void *reader_main(void *arg) {
    reader_t *r = arg;
    char errstr[512];
    int64_t last_check = 0, last_wake = 0, flush_us = (int64_t)r->L->o.flush_ms * 1000;
    while (!atomic_load(r->stop)) {
        vtev_err_t err;
        int64_t now = ex_now_us();
        int wait = 100;
        if (r->pending) {
            int64_t left = flush_us - (now - last_wake);
            if (left <= 0) {
                lws_cancel_service(r->L->ctx);
                last_wake = now;
                r->pending = false;
            } else {
                wait = (int)((left + 999) / 1000);
            }
        } else if (now - last_wake > 100000) {
            lws_cancel_service(r->L->ctx);
            last_wake = now;
        }
        ex_check_assigned(r->c, r->L->st, &last_check);
        if ((err = vtev_consumer_poll(r->c, wait, errstr, sizeof(errstr))) != VTEV_ERR_OK) {
            fprintf(stderr, LIVE ": poll: %s: %s\n", vtev_err2name(err), errstr);
            r->rc = 1;
            atomic_store(r->stop, 1);
        }
    }
    lws_cancel_service(r->L->ctx);
    return NULL;
}

/* ------------------------------------------------------------------ clients */

static void client_drop_at(live_t *L, client_t *c, int i) {
    int cap = L->o.client_queue, k;
    msg_t *m = c->q[(c->head + i) % cap];
    for (k = i; k + 1 < c->cnt; k++)
        c->q[(c->head + k) % cap] = c->q[(c->head + k + 1) % cap];
    c->cnt--;
    c->qbytes -= m->len;
    c->dropped++;
    atomic_fetch_add(&L->dropped[m->kind], 1);
    msg_unref(m);
}

static void client_close(live_t *L, client_t *c, bool stalled) {
    if (c->closing)
        return;
    c->closing = true;
    atomic_fetch_add(stalled ? &L->disconnects_stall : &L->disconnects_full, 1);
    if (L->o.verbose)
        fprintf(stderr, LIVE ": disconnecting a client: %s (%" PRIu64 " dropped)\n",
                stalled ? "it accepted nothing while its queue was full" : "its queue is full of results",
                c->dropped);
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
}

/* Queues m for c under the drop policy (service thread): while the queue
 * is at its bound (--client-queue messages or --client-bytes), the oldest
 * position goes; with none left, a new position is dropped, and a new
 * result closes the client. */
static void client_push(live_t *L, client_t *c, msg_t *m) {
    int cap = L->o.client_queue, i;
    if (c->closing || (c->vessel[0] && m->kind != K_MARK && strcmp(c->vessel, m->vessel)))
        return;
    while (c->cnt == cap || (c->cnt > 0 && c->qbytes + m->len > L->o.client_bytes)) {
        c->full = true;
        for (i = 0; i < c->cnt; i++)
            if (c->q[(c->head + i) % cap]->kind == K_POSITION)
                break;
        if (i < c->cnt) {
            client_drop_at(L, c, i); /* the oldest position */
        } else if (m->kind == K_POSITION) {
            c->full = true;
            c->dropped++;
            atomic_fetch_add(&L->dropped[K_POSITION], 1);
            lws_callback_on_writable(c->wsi); /* to tell it */
            return;
        } else {
            client_close(L, c, false);
            return;
        }
    }
    m->ref++;
    c->q[(c->head + c->cnt) % cap] = m;
    c->cnt++;
    c->qbytes += m->len;
    lws_callback_on_writable(c->wsi);
}

/* ------------------------------------------------------------------ snapshot */

static vstate_t *vstate(live_t *L, const char *vessel) {
    size_t i;
    vstate_t *v;
    for (i = 0; i < L->nvs; i++)
        if (!strcmp(L->vs[i].vessel, vessel))
            return &L->vs[i];
    if (L->nvs == MAX_VESSELS || !L->o.track)
        return NULL;
    if (!(L->nvs % 64)) {
        vstate_t *n = realloc(L->vs, (L->nvs + 64) * sizeof(*n));
        if (!n)
            return NULL;
        L->vs = n;
    }
    v = &L->vs[L->nvs];
    memset(v, 0, sizeof(*v));
    if (!(v->track = calloc((size_t)L->o.track, sizeof(*v->track))))
        return NULL;
    L->nvs++;
    snprintf(v->vessel, sizeof(v->vessel), "%s", vessel);
    return v;
}

static void snapshot_add(live_t *L, msg_t *m) {
    vstate_t *v = vstate(L, m->vessel);
    int i;
    if (!v)
        return;
    if (m->kind == K_POSITION) {
        if (v->cnt == L->o.track) {
            msg_unref(v->track[v->head]);
            v->head = (v->head + 1) % L->o.track;
            v->cnt--;
        }
        v->track[(v->head + v->cnt) % L->o.track] = m;
        v->cnt++;
        m->ref++;
        return;
    }
    /* a new request's results replace the previous ones */
    if (v->nres && strcmp(v->results[0]->request_id, m->request_id)) {
        for (i = 0; i < v->nres; i++)
            msg_unref(v->results[i]);
        v->nres = 0;
    }
    if (v->nres < (int)(sizeof(v->results) / sizeof(v->results[0]))) {
        v->results[v->nres++] = m;
        m->ref++;
    }
}

static void snapshot_send(live_t *L, client_t *c) {
    size_t i;
    int k;
    for (i = 0; i < L->nvs; i++) {
        vstate_t *v = &L->vs[i];
        for (k = 0; k < v->cnt; k++)
            client_push(L, c, v->track[(v->head + k) % L->o.track]);
        for (k = 0; k < v->nres; k++)
            client_push(L, c, v->results[k]);
    }
    /* what follows is live (the page measures latencies from there) */
    client_push(L, c, L->mark);
}

/* Fans the inbox out (service thread) and checks for stalled clients. */
static void fan_out(live_t *L) {
    msg_t *m, *next;
    client_t *c;
    int64_t now = ex_now_us();
    pthread_mutex_lock(&L->lock);
    m = L->in_head;
    L->in_head = L->in_tail = NULL;
    L->in_cnt = 0;
    pthread_mutex_unlock(&L->lock);
    for (; m; m = next) {
        next = m->next;
        for (c = L->clients; c; c = c->next)
            client_push(L, c, m);
        snapshot_add(L, m);
        msg_unref(m);
    }
    for (c = L->clients; c; c = c->next)
        if (!c->closing && c->full && now - c->last_write_us > (int64_t)L->o.stall_ms * 1000)
            client_close(L, c, true);
}

/* ------------------------------------------------------------------ lws */

static int send_text(struct lws *wsi, unsigned char *p, size_t len) {
    return lws_write(wsi, p, len, LWS_WRITE_TEXT) < (int)len ? -1 : 0;
}

/* The frame limit: queued messages beyond it wait for the next writable. */
#define FRAME_MAX (256 * 1024)

/* c->out holds at least need bytes; 0 or -1 (out of memory). */
static int out_reserve(client_t *c, size_t need) {
    size_t nc = c->out_cap ? c->out_cap : 4096;
    unsigned char *n;
    if (need <= c->out_cap)
        return 0;
    while (nc < need)
        nc *= 2;
    if (!(n = realloc(c->out, nc)))
        return -1;
    c->out = n;
    c->out_cap = nc;
    return 0;
}

static int client_writable(live_t *L, client_t *c) {
    size_t len = 0;
    int taken = 0;
    if (c->closing)
        return 0;
    /* every queued message (up to FRAME_MAX) in one frame, one per line;
     * the drop count first when it changed */
    if (c->dropped != c->dropped_told) {
        if (out_reserve(c, LWS_PRE + 128))
            return -1;
        len = (size_t)snprintf((char *)c->out + LWS_PRE, 128,
                               "{\"type\": \"drops\", \"dropped\": %" PRIu64 ", \"queue\": %d}",
                               c->dropped, L->o.client_queue);
        c->dropped_told = c->dropped;
    }
    while (taken < c->cnt) {
        msg_t *m = c->q[(c->head + taken) % L->o.client_queue];
        size_t need = LWS_PRE + len + 1 + m->len;
        if (len && need - LWS_PRE > FRAME_MAX)
            break;
        if (out_reserve(c, need))
            return -1;
        if (len)
            c->out[LWS_PRE + len++] = '\n';
        memcpy(c->out + LWS_PRE + len, m->buf + LWS_PRE, m->len);
        len += m->len;
        taken++;
    }
    if (len) {
        if (send_text(c->wsi, c->out + LWS_PRE, len))
            return -1;
        c->last_write_us = ex_now_us();
        c->full = false;
    }
    while (taken-- > 0) {
        msg_t *m = c->q[c->head];
        c->head = (c->head + 1) % L->o.client_queue;
        c->cnt--;
        c->qbytes -= m->len;
        atomic_fetch_add(&L->sent[m->kind], 1);
        c->sent++;
        msg_unref(m);
    }
    /* a big frame may stay in lws's buffer: only one frame at a time */
    if (c->cnt > 0 || c->dropped != c->dropped_told)
        lws_callback_on_writable(c->wsi);
    if (c->out_cap > 4 * FRAME_MAX) { /* after a burst: give the memory back */
        free(c->out);
        c->out = NULL;
        c->out_cap = 0;
    }
    return 0;
}

/* {"vessel": "IMO..."} subscribes to one vessel, {"vessel": null} or "*" to all. */
static void client_receive(live_t *L, client_t *c, const char *in, size_t len) {
    json_error_t je;
    json_t *j = json_loadb(in, len, 0, &je), *v;
    (void)L;
    if (!j)
        return;
    v = json_object_get(j, "vessel");
    if (json_is_string(v) && strcmp(json_string_value(v), "*"))
        snprintf(c->vessel, sizeof(c->vessel), "%s", json_string_value(v));
    else if (v && (json_is_null(v) || json_is_string(v)))
        c->vessel[0] = '\0';
    json_decref(j);
}

static int live_metrics(char **b, size_t *len, size_t *cap, void *opaque) {
    live_t *L = opaque;
    return ex_http_appendf(
        b, len, cap,
        "# HELP vt_live_clients WebSocket clients connected now.\n"
        "# TYPE vt_live_clients gauge\n"
        "vt_live_clients %d\n"
        "# HELP vt_live_clients_total WebSocket clients accepted since start.\n"
        "# TYPE vt_live_clients_total counter\n"
        "vt_live_clients_total %llu\n"
        "# HELP vt_live_messages_total Events sent to clients, or dropped from a full client queue.\n"
        "# TYPE vt_live_messages_total counter\n"
        "vt_live_messages_total{kind=\"position\",outcome=\"sent\"} %llu\n"
        "vt_live_messages_total{kind=\"result\",outcome=\"sent\"} %llu\n"
        "vt_live_messages_total{kind=\"position\",outcome=\"dropped\"} %llu\n"
        "vt_live_messages_total{kind=\"result\",outcome=\"dropped\"} %llu\n"
        "# HELP vt_live_disconnects_total Clients disconnected by the broadcaster.\n"
        "# TYPE vt_live_disconnects_total counter\n"
        "vt_live_disconnects_total{reason=\"stalled\"} %llu\n"
        "vt_live_disconnects_total{reason=\"results_full\"} %llu\n"
        "# HELP vt_live_events_total Events consumed from Kafka.\n"
        "# TYPE vt_live_events_total counter\n"
        "vt_live_events_total %llu\n",
        atomic_load(&L->nclients), (unsigned long long)atomic_load(&L->clients_total),
        (unsigned long long)atomic_load(&L->sent[K_POSITION]),
        (unsigned long long)atomic_load(&L->sent[K_RESULT]),
        (unsigned long long)atomic_load(&L->dropped[K_POSITION]),
        (unsigned long long)atomic_load(&L->dropped[K_RESULT]),
        (unsigned long long)atomic_load(&L->disconnects_stall),
        (unsigned long long)atomic_load(&L->disconnects_full),
        (unsigned long long)atomic_load(&L->st->consumed));
}

static int http_reply(struct lws *wsi, http_pss_t *pss, unsigned int status, const char *ctype,
                      const char *body, size_t len) {
    unsigned char hb[LWS_PRE + 512], *start = hb + LWS_PRE, *p = start, *end = hb + sizeof(hb) - 1;
    if (!(pss->body = malloc(LWS_PRE + len + 1)))
        return -1;
    memcpy(pss->body + LWS_PRE, body, len);
    pss->len = len;
    if (lws_add_http_common_headers(wsi, status, ctype, (lws_filepos_t)len, &p, end) ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                     (const unsigned char *)"no-store", 8, &p, end) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    lws_callback_on_writable(wsi);
    return 0;
}

static int on_http(live_t *L, struct lws *wsi, http_pss_t *pss) {
    char uri[256];
    unsigned int status;
    const char *ctype;
    char *body = NULL;
    size_t len = 0;
    int rc;
    if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) < 0)
        uri[0] = '\0';
    if (!strcmp(uri, "/terminals.json"))
        return http_reply(wsi, pss, 200, "application/json", L->terminals_json,
                          L->terminals_len);
    if ((rc = ex_http_render(LIVE, uri, live_metrics, L, &status, &ctype, &body, &len)) == 0) {
        rc = http_reply(wsi, pss, status, ctype, body, len);
        free(body);
        return rc;
    }
    {
        static const char nf[] = "{\"error\": \"NOT_FOUND\", \"field\": \"path\", \"reason\": "
                                 "\"served: /, /ws, /terminals.json, /metrics, /healthz, /readyz\"}\n";
        return http_reply(wsi, pss, rc < 0 ? 500 : 404, "application/json", nf, sizeof(nf) - 1);
    }
}

/* One protocol for everything: the page's WebSocket ("vt-live"), the
 * callback mounts (dynamic HTTP) and, through lws_callback_http_dummy, the
 * file mounts.  The per-session data is a client_t or an http_pss_t. */
static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len) {
    live_t *L = lws_context_user(lws_get_context(wsi));
    client_t *c = user;
    http_pss_t *hp = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        if (on_http(L, wsi, hp))
            return -1;
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!hp || !hp->body)
            break;
        if (lws_write(wsi, hp->body + LWS_PRE, hp->len, LWS_WRITE_HTTP_FINAL) < (int)hp->len) {
            free(hp->body);
            hp->body = NULL;
            return -1;
        }
        free(hp->body);
        hp->body = NULL;
        if (lws_http_transaction_completed(wsi))
            return -1;
        return 0;
    case LWS_CALLBACK_CLOSED_HTTP:
        if (hp) {
            free(hp->body);
            hp->body = NULL;
        }
        break;
    case LWS_CALLBACK_ESTABLISHED: {
        char v[VESSEL_MAX];
        memset(c, 0, sizeof(*c));
        c->wsi = wsi;
        c->last_write_us = ex_now_us();
        if (!(c->q = calloc((size_t)L->o.client_queue, sizeof(*c->q))))
            return -1;
        if (lws_get_urlarg_by_name(wsi, "vessel=", v, sizeof(v)) && strcmp(v, "*"))
            snprintf(c->vessel, sizeof(c->vessel), "%s", v);
        c->next = L->clients;
        L->clients = c;
        atomic_fetch_add(&L->nclients, 1);
        atomic_fetch_add(&L->clients_total, 1);
        {
            unsigned char b[LWS_PRE + 256];
            int n = snprintf((char *)b + LWS_PRE, 256,
                             "{\"type\": \"hello\", \"service\": \"" LIVE "\", \"queue\": %d, "
                             "\"stall_ms\": %d, \"vessel\": \"%s\"}",
                             L->o.client_queue, L->o.stall_ms, c->vessel[0] ? c->vessel : "*");
            /* the first write of a connection: the socket has room */
            if (send_text(wsi, b + LWS_PRE, (size_t)n))
                return -1;
        }
        snapshot_send(L, c);
        return 0;
    }
    case LWS_CALLBACK_RECEIVE:
        client_receive(L, c, in, len);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return client_writable(L, c);
    case LWS_CALLBACK_CLOSED: {
        client_t **pp;
        for (pp = &L->clients; *pp; pp = &(*pp)->next)
            if (*pp == c) {
                *pp = c->next;
                atomic_fetch_sub(&L->nclients, 1);
                break;
            }
        while (c->cnt > 0) {
            msg_unref(c->q[c->head]);
            c->head = (c->head + 1) % L->o.client_queue;
            c->cnt--;
        }
        free(c->q);
        c->q = NULL;
        free(c->out);
        c->out = NULL;
        return 0;
    }
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        fan_out(L);
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* ------------------------------------------------------------------ set-up */

static int load_terminals(live_t *L, char *errstr, size_t errstr_size) {
    ex_terminals_t tt;
    json_t *a;
    const char *path = L->o.terminals ? L->o.terminals : ex_terminals_default_path();
    size_t i;
    if (ex_terminals_load(&tt, path, errstr, errstr_size))
        return -1;
    if (!(a = json_array()))
        return -1;
    for (i = 0; i < tt.cnt; i++)
        json_array_append_new(a, json_pack("{s:I, s:s, s:f, s:f}", "id", (json_int_t)tt.t[i].id,
                                           "name", tt.t[i].name, "lat", tt.t[i].lat, "lon",
                                           tt.t[i].lon));
    L->terminals_json = json_dumps(a, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(a);
    if (!L->terminals_json) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    L->terminals_len = strlen(L->terminals_json);
    return 0;
}

void ex_live_defaults(ex_live_opts_t *o) {
    bool installed = access(EX_DATA_DIR "/live/index.html", R_OK) == 0;
    memset(o, 0, sizeof(*o));
    o->http = "127.0.0.1:8090";
    o->web_root = installed ? EX_DATA_DIR "/live" : EX_SRC_LIVE_DIR;
    o->vendor_dir = installed ? EX_DATA_DIR "/live/node_modules" : EX_SRC_LIVE_DIR "/node_modules";
    o->client_queue = 256;
    o->stall_ms = 5000;
    o->track = 20;
    o->history = 0;
    o->flush_ms = 10;
    o->client_bytes = 1024 * 1024;
}

int ex_live_run(vtev_conf_t *conf, const ex_live_opts_t *o, ex_stats_t *st, atomic_int *stop) {
    char errstr[512], host[256], hist[32], probe[1100];
    live_t *L = calloc(1, sizeof(*L));
    reader_t r = {0};
    struct lws_context_creation_info info;
    struct lws_http_mount mounts[6];
    static const struct lws_protocol_vhost_options json_mime = {NULL, NULL, ".json",
                                                                "application/json"};
    static const char *const dyn[] = {"/terminals.json", "/metrics", "/healthz", "/readyz"};
    struct lws_protocols protocols[2];
    int port, rc = 0, i;
    bool thread = false;
    FILE *f;

    if (!L) {
        vtev_conf_destroy(conf);
        return 1;
    }
    L->o = *o;
    L->st = st;
    pthread_mutex_init(&L->lock, NULL);
    if (L->o.client_queue < 1 || L->o.client_bytes < 1 || L->o.stall_ms < 1 || L->o.track < 0 ||
        L->o.flush_ms < 0) {
        snprintf(errstr, sizeof(errstr), "--client-queue, --client-bytes and --stall-ms must be positive, "
                                         "--track and --flush-ms not negative");
        goto fail;
    }
    if (!(L->mark = malloc(sizeof(*L->mark) + LWS_PRE + 32))) {
        snprintf(errstr, sizeof(errstr), "out of memory");
        goto fail;
    }
    memset(L->mark, 0, sizeof(*L->mark));
    L->mark->ref = 1;
    L->mark->kind = K_MARK;
    L->mark->len = (size_t)snprintf((char *)L->mark->buf + LWS_PRE, 32, "{\"type\": \"live\"}");
    if (ex_http_parse(o->http, host, sizeof(host), &port, errstr, sizeof(errstr)) ||
        load_terminals(L, errstr, sizeof(errstr)))
        goto fail;
    snprintf(probe, sizeof(probe), "%s/index.html", o->web_root);
    if (!(f = fopen(probe, "r"))) {
        snprintf(errstr, sizeof(errstr), "--web-root %s: no index.html there", o->web_root);
        goto fail;
    }
    fclose(f);
    snprintf(probe, sizeof(probe), "%s/world-atlas/land-10m.json", o->vendor_dir);
    if (!(f = fopen(probe, "r")))
        fprintf(stderr, LIVE ": warning: %s is missing: the map has no coastline (install the "
                        "page's packages: npm ci --prefix examples/live, which ./run deps does)\n",
                probe);
    else
        fclose(f);

    /* the consumer: a reader of both topics, no group */
    snprintf(hist, sizeof(hist), o->history > 0 ? "-%d" : "end", o->history);
    if (ex_conf_set(conf, "consumer.read.only", "true", errstr, sizeof(errstr)) ||
        ex_conf_set(conf, "consumer.start.offset", hist, errstr, sizeof(errstr)) ||
        ex_consumer_conf(conf, errstr, sizeof(errstr)))
        goto fail;
    if (!(r.c = vtev_consumer_new(conf, errstr, sizeof(errstr))))
        goto fail;
    conf = NULL;
    if (vtev_consumer_subscribe(r.c, VTEV_EVENT_POSITION, NULL, on_event, &r, errstr,
                                sizeof(errstr)) != VTEV_ERR_OK ||
        vtev_consumer_subscribe(r.c, VTEV_EVENT_RESULT, NULL, on_event, &r, errstr,
                                sizeof(errstr)) != VTEV_ERR_OK)
        goto fail;

    memset(protocols, 0, sizeof(protocols));
    protocols[0].name = "vt-live";
    protocols[0].callback = callback;
    protocols[0].per_session_data_size =
        sizeof(client_t) > sizeof(http_pss_t) ? sizeof(client_t) : sizeof(http_pss_t);
    protocols[0].rx_buffer_size = 4096;
    memset(mounts, 0, sizeof(mounts));
    for (i = 0; i < 4; i++) {
        mounts[i].mount_next = &mounts[i + 1];
        mounts[i].mountpoint = dyn[i];
        mounts[i].mountpoint_len = (unsigned char)strlen(dyn[i]);
        mounts[i].origin = "vt-live";
        mounts[i].origin_protocol = LWSMPRO_CALLBACK;
    }
    mounts[4].mount_next = &mounts[5];
    mounts[4].mountpoint = "/vendor";
    mounts[4].mountpoint_len = 7;
    mounts[4].origin = o->vendor_dir;
    mounts[4].origin_protocol = LWSMPRO_FILE;
    mounts[4].extra_mimetypes = &json_mime;
    mounts[5].mountpoint = "/";
    mounts[5].mountpoint_len = 1;
    mounts[5].origin = o->web_root;
    mounts[5].def = "index.html";
    mounts[5].origin_protocol = LWSMPRO_FILE;
    mounts[5].extra_mimetypes = &json_mime;

    lws_set_log_level(o->verbose ? LLL_ERR | LLL_WARN : LLL_ERR, NULL);
    memset(&info, 0, sizeof(info));
    info.port = port;
    info.iface = host;
    info.protocols = protocols;
    info.mounts = mounts;
    info.user = L;
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6;
    if (!(L->ctx = lws_create_context(&info))) {
        snprintf(errstr, sizeof(errstr), "--http %s: cannot listen on %s port %d (in use?)",
                 o->http, host, port);
        goto fail;
    }
    {
        struct lws_vhost *vh = lws_get_vhost_by_name(L->ctx, "default");
        if (vh && lws_get_vhost_listen_port(vh) > 0)
            port = lws_get_vhost_listen_port(vh);
    }
    if (o->bound_port)
        atomic_store(o->bound_port, port);
    if (o->port_file && !(f = fopen(o->port_file, "w"))) {
        snprintf(errstr, sizeof(errstr), "--port-file %s: cannot write it", o->port_file);
        goto fail;
    } else if (o->port_file) {
        fprintf(f, "%d\n", port);
        fclose(f);
    }
    r.L = L;
    r.stop = stop;
    if (pthread_create(&r.th, NULL, reader_main, &r) != 0) {
        snprintf(errstr, sizeof(errstr), "cannot start the consumer thread");
        goto fail;
    }
    thread = true;
    atomic_store(&st->ready, 1);
    if (o->announce)
        fprintf(stderr, LIVE ": the live map is at http://%s:%d/\n", host, port);
    while (!atomic_load(stop))
        if (lws_service(L->ctx, 0) < 0)
            break;
    atomic_store(stop, 1);
    pthread_join(r.th, NULL);
    thread = false;
    rc = r.rc;
    if (vtev_consumer_close(r.c, errstr, sizeof(errstr)) != VTEV_ERR_OK) {
        fprintf(stderr, LIVE ": close: %s\n", errstr);
        rc = 1;
    }
    goto out;
fail:
    fprintf(stderr, LIVE ": %s\n", errstr);
    rc = 1;
out:
    if (thread) {
        atomic_store(stop, 1);
        pthread_join(r.th, NULL);
    }
    if (L->ctx)
        lws_context_destroy(L->ctx); /* closes every client (LWS_CALLBACK_CLOSED) */
    vtev_consumer_destroy(r.c);
    vtev_conf_destroy(conf);
    {
        msg_t *m, *n;
        size_t k;
        for (m = L->in_head; m; m = n) {
            n = m->next;
            free(m);
        }
        for (k = 0; k < L->nvs; k++) {
            int j;
            for (j = 0; j < L->vs[k].cnt; j++)
                msg_unref(L->vs[k].track[(L->vs[k].head + j) % L->o.track]);
            for (j = 0; j < L->vs[k].nres; j++)
                msg_unref(L->vs[k].results[j]);
            free(L->vs[k].track);
        }
        free(L->vs);
    }
    msg_unref(L->mark);
    free(L->terminals_json);
    pthread_mutex_destroy(&L->lock);
    free(L);
    return rc;
}

#ifndef EX_NO_MAIN
static const char usage[] =
    "usage: live-broadcaster [OPTIONS]\n"
    "Serves the live map and fans every position and prediction result out to the\n"
    "browsers connected to it over WebSocket (ws://HOST:PORT/ws, subprotocol vt-live).\n"
    "A reader without group: every instance receives every event.\n\n"
    "  --http HOST:PORT      where to serve (default 127.0.0.1:8090; PORT alone: 127.0.0.1);\n"
    "                        also /metrics, /healthz, /readyz\n"
    "  --client-queue N      events queued per client before positions are dropped (256)\n"
    "  --client-bytes N      ... or bytes queued per client (1048576)\n"
    "  --stall-ms MS         disconnect a client that accepts nothing this long while its\n"
    "                        queue is full (5000)\n"
    "  --track N             positions per vessel a new page receives first (20; 0: none)\n"
    "  --history N           start N messages back in each partition (default: the end)\n"
    "  --flush-ms MS         gather each client's events for up to MS ms into one\n"
    "                        WebSocket message, one per line (10; 0: each at once)\n"
    "  --terminals FILE      the terminals CSV (default: the installed data)\n"
    "  --web-root DIR        the page's files (default: the installed ones, else the\n"
    "                        source tree's examples/live)\n"
    "  --vendor-dir DIR      its npm packages (default: WEB-ROOT/node_modules)\n"
    "  --port-file F         write the port it listens on to F (useful with port 0)\n"
    "  -b BROKERS        bootstrap.servers (default: $KAFKA_BOOTSTRAP_SERVERS or mock://default)\n"
    "  -r URL            schema.registry.url (default: $SCHEMA_REGISTRY_URL or mock://default)\n"
    "  -X KEY=VALUE      any configuration key (doc/CONFIGURATION.md); repeatable\n"
    "  -F FILE           properties file (else $VTEV_CONFIG)\n"
    "  -q / -v           quieter / more verbose\n"
    "  -V                versions\n"
    "  -h, --help        this text\n";

int main(int argc, char **argv) {
    static const struct option longopts[] = {
        EX_HTTP_LONGOPT,
        {"client-queue", required_argument, NULL, 1000},
        {"stall-ms", required_argument, NULL, 1001},
        {"track", required_argument, NULL, 1002},
        {"history", required_argument, NULL, 1003},
        {"terminals", required_argument, NULL, 1004},
        {"web-root", required_argument, NULL, 1005},
        {"vendor-dir", required_argument, NULL, 1006},
        {"port-file", required_argument, NULL, 1007},
        {"flush-ms", required_argument, NULL, 1008},
        {"client-bytes", required_argument, NULL, 1009},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    ex_cli_t cli = {0};
    ex_live_opts_t o;
    ex_stats_t st = {0};
    atomic_int port = 0;
    char errstr[512], vendor[1024];
    vtev_conf_t *conf;
    bool vendor_set = false;
    int c, r;

    ex_live_defaults(&o);
    while ((c = getopt_long(argc, argv, EX_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if (c == EX_OPT_HTTP) {
            o.http = optarg;
            continue;
        }
        if ((r = ex_cli_opt(&cli, c, optarg, LIVE, usage)) == 1)
            continue;
        if (r < 0)
            return 2;
        switch (c) {
        case 1000:
        case 1001:
        case 1002:
        case 1003:
        case 1008:
        case 1009: {
            char *end;
            long v = strtol(optarg, &end, 10);
            bool zero_ok = c == 1002 || c == 1003 || c == 1008;
            if (*end || end == optarg || v < (zero_ok ? 0 : 1) || v > 1000000000) {
                fprintf(stderr, LIVE ": --%s %s: expected a %s integer\n",
                        longopts[c - 1000 + 1].name, optarg, zero_ok ? "non-negative" : "positive");
                return 2;
            }
            if (c == 1000)
                o.client_queue = (int)v;
            else if (c == 1001)
                o.stall_ms = (int)v;
            else if (c == 1002)
                o.track = (int)v;
            else if (c == 1003)
                o.history = (int)v;
            else if (c == 1008)
                o.flush_ms = (int)v;
            else
                o.client_bytes = (size_t)v;
            break;
        }
        case 1004:
            o.terminals = optarg;
            break;
        case 1005:
            o.web_root = optarg;
            break;
        case 1006:
            o.vendor_dir = optarg;
            vendor_set = true;
            break;
        case 1007:
            o.port_file = optarg;
            break;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, LIVE ": unexpected argument %s\n", argv[optind]);
        return 2;
    }
    if (!vendor_set) {
        snprintf(vendor, sizeof(vendor), "%s/node_modules", o.web_root);
        o.vendor_dir = vendor;
    }
    o.verbose = cli.verbosity > 0;
    o.announce = cli.verbosity >= 0;
    o.bound_port = &port;
    if (!(conf = ex_cli_conf(&cli, errstr, sizeof(errstr)))) {
        fprintf(stderr, LIVE ": %s\n", errstr);
        return 2;
    }
    ex_stop_on_signals();
    return ex_live_run(conf, &o, &st, &ex_interrupted);
}
#endif
