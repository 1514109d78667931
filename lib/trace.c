/*
 * trace.c - W3C Trace Context: parsing and writing traceparent, random ids,
 * the per-thread current context, the tracer hooks, and the two places the
 * data path uses them (vtev__trace_outgoing on publish, vtev__trace_incoming
 * on consume).
 *
 * Written by hand: the format is one fixed-width line, and the libraries that
 * implement it are tracing SDKs (OpenTelemetry C++), which a C event library
 * must not pull in.
 */
#include <stdio.h>
#include <string.h>

#include <vtevents/trace.h>

#include "internal.h"
#include "trace_int.h"

static _Thread_local vtev_trace_ctx_t cur;
static _Thread_local bool cur_set;

/* Random bytes from a per-thread pool refilled from the kernel (one
 * getrandom call per 256 bytes, not one per id). */
static _Thread_local unsigned char pool[256];
static _Thread_local size_t pool_left;

static void rand_bytes(uint8_t *out, size_t n) {
    while (n > 0) {
        size_t k;
        if (pool_left == 0) {
            if (vtev__random_bytes(pool, sizeof(pool)) != 0) {
                /* no kernel randomness: the clock, mixed; ids stay unique
                 * enough to tell spans apart */
                uint64_t x = (uint64_t)vtev__now_wall_us() ^ ((uint64_t)(uintptr_t)out << 17);
                size_t i;
                for (i = 0; i < sizeof(pool); i++) {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    pool[i] = (unsigned char)x;
                }
            }
            pool_left = sizeof(pool);
        }
        k = n < pool_left ? n : pool_left;
        memcpy(out, pool + sizeof(pool) - pool_left, k);
        pool_left -= k;
        out += k;
        n -= k;
    }
}

static bool all_zero(const uint8_t *p, size_t n) {
    size_t i;
    for (i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static void rand_id(uint8_t *out, size_t n) {
    do
        rand_bytes(out, n);
    while (all_zero(out, n));
}

static int hexval(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1; /* uppercase is invalid in traceparent */
}

/* n bytes from 2n lowercase hex digits at s; -1 with the bad offset. */
static int unhex(const char *s, uint8_t *out, size_t n, size_t *bad) {
    size_t i;
    for (i = 0; i < 2 * n; i++) {
        int v = hexval(s[i]);
        if (v < 0) {
            *bad = i;
            return -1;
        }
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(v << 4);
        else
            out[i / 2] |= (uint8_t)v;
    }
    return 0;
}

static char *hex(char *o, const uint8_t *p, size_t n) {
    static const char d[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < n; i++) {
        *o++ = d[p[i] >> 4];
        *o++ = d[p[i] & 15];
    }
    return o;
}

vtev_err_t vtev_trace_parse(const char *tp, size_t len, const char *ts, size_t ts_len,
                            vtev_trace_ctx_t *out, char *errstr, size_t errstr_size) {
    /* the ids into a small local, then into out: no copy of the whole
     * context (its tracestate buffer) per message */
    struct {
        uint8_t trace_id[16], span_id[8], flags;
    } c;
    uint8_t ver;
    size_t bad = 0, i;
    if (!tp || !out)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "traceparent: value and output are required");
    /* version "-" trace-id "-" parent-id "-" flags; a later version may
     * append "-..." fields, which are ignored */
    if (len < VTEV_TRACEPARENT_LEN)
        return vtev__fail(VTEV_ERR_PARSE, errstr, errstr_size,
                          "traceparent: %zu characters, a version-00 value has 55", len);
    if (unhex(tp, &ver, 1, &bad))
        return vtev__fail(VTEV_ERR_PARSE, errstr, errstr_size,
                          "traceparent: character %zu: the version is not 2 lowercase hex digits",
                          bad + 1);
    if (ver == 0xff)
        return vtev__fail(VTEV_ERR_PARSE, errstr, errstr_size,
                          "traceparent: version ff is invalid");
    if ((ver == 0 && len != VTEV_TRACEPARENT_LEN) ||
        (ver != 0 && len > VTEV_TRACEPARENT_LEN && tp[VTEV_TRACEPARENT_LEN] != '-'))
        return vtev__fail(VTEV_ERR_PARSE, errstr, errstr_size,
                          "traceparent: %zu characters, a version-%02x value has 55", len, ver);
    if (tp[2] != '-' || tp[35] != '-' || tp[52] != '-')
        return vtev__fail(VTEV_ERR_PARSE, errstr, errstr_size,
                          "traceparent: characters 3, 36 and 53 must be '-'");
    if (unhex(tp + 3, c.trace_id, 16, &bad))
        return vtev__fail(VTEV_ERR_PARSE, errstr, errstr_size,
                          "traceparent: character %zu: the trace id is not lowercase hex",
                          bad + 4);
    if (unhex(tp + 36, c.span_id, 8, &bad))
        return vtev__fail(VTEV_ERR_PARSE, errstr, errstr_size,
                          "traceparent: character %zu: the parent id is not lowercase hex",
                          bad + 37);
    if (unhex(tp + 53, &c.flags, 1, &bad))
        return vtev__fail(VTEV_ERR_PARSE, errstr, errstr_size,
                          "traceparent: character %zu: the flags are not lowercase hex",
                          bad + 54);
    if (all_zero(c.trace_id, 16))
        return vtev__fail(VTEV_ERR_PARSE, errstr, errstr_size,
                          "traceparent: the trace id is all zeros");
    if (all_zero(c.span_id, 8))
        return vtev__fail(VTEV_ERR_PARSE, errstr, errstr_size,
                          "traceparent: the parent id is all zeros");
    memcpy(out->trace_id, c.trace_id, sizeof(c.trace_id));
    memcpy(out->span_id, c.span_id, sizeof(c.span_id));
    out->flags = c.flags;
    out->tracestate[0] = '\0';
    if (ts && ts_len <= VTEV_TRACESTATE_MAX) {
        for (i = 0; i < ts_len; i++)
            if (ts[i] < 0x20 || ts[i] > 0x7e)
                break;
        if (i == ts_len) {
            memcpy(out->tracestate, ts, ts_len);
            out->tracestate[ts_len] = '\0';
        }
    }
    return VTEV_ERR_OK;
}

void vtev_trace_format(const vtev_trace_ctx_t *ctx, char out[VTEV_TRACEPARENT_LEN + 1]) {
    char *o = out;
    *o++ = '0';
    *o++ = '0';
    *o++ = '-';
    o = hex(o, ctx->trace_id, 16);
    *o++ = '-';
    o = hex(o, ctx->span_id, 8);
    *o++ = '-';
    o = hex(o, &ctx->flags, 1);
    *o = '\0';
}

void vtev_trace_id_hex(const vtev_trace_ctx_t *ctx, char out[33]) {
    *hex(out, ctx->trace_id, 16) = '\0';
}

void vtev_trace_new(vtev_trace_ctx_t *out) {
    rand_id(out->trace_id, sizeof(out->trace_id));
    rand_id(out->span_id, sizeof(out->span_id));
    out->flags = VTEV_TRACE_FLAG_SAMPLED;
    out->tracestate[0] = '\0';
}

void vtev_trace_child(const vtev_trace_ctx_t *parent, vtev_trace_ctx_t *out) {
    if (out != parent)
        *out = *parent;
    rand_id(out->span_id, sizeof(out->span_id));
}

void vtev_trace_set_current(const vtev_trace_ctx_t *ctx) {
    if (ctx)
        cur = *ctx;
    cur_set = ctx != NULL;
}

bool vtev_trace_get_current(vtev_trace_ctx_t *out) {
    if (cur_set && out)
        *out = cur;
    return cur_set;
}

/* ---- hooks ---- */

static vtev_trace_publish_hook_t *hook_publish;
static vtev_trace_consume_hook_t *hook_consume;
static void *hook_opaque;

void vtev_trace_set_hooks(vtev_trace_publish_hook_t *on_publish,
                          vtev_trace_consume_hook_t *on_consume, void *opaque) {
    hook_publish = on_publish;
    hook_consume = on_consume;
    hook_opaque = opaque;
}

/* ---- the data path ---- */

bool vtev__trace_outgoing(const char *topic, char tp[VTEV_TRACEPARENT_LEN + 1],
                          const char **tracestate) {
    static _Thread_local vtev_trace_ctx_t out;
    const vtev_trace_ctx_t *parent = cur_set ? &cur : NULL;
    if (parent)
        vtev_trace_child(parent, &out);
    else
        vtev_trace_new(&out);
    if (hook_publish)
        hook_publish(topic, parent, &out, hook_opaque);
    vtev_trace_format(&out, tp);
    *tracestate = out.tracestate[0] ? out.tracestate : NULL;
    return true;
}

void vtev__trace_incoming_begin(vtev__trace_scope_t *s, const char *topic, const char *tp,
                                size_t tp_len, const char *ts, size_t ts_len) {
    s->had_prev = cur_set;
    if (cur_set)
        s->prev = cur; /* an application's context around polling: rare */
    /* parsed straight into the thread's current context (a bad header
     * leaves it as it was and is then not used) */
    s->has_ctx = tp && vtev_trace_parse(tp, tp_len, ts, ts_len, &cur, NULL, 0) == VTEV_ERR_OK;
    s->topic = topic;
    if (s->has_ctx) {
        /* a version-00 header that parsed is its normalised form */
        if (tp[0] == '0' && tp[1] == '0') {
            memcpy(s->traceparent, tp, VTEV_TRACEPARENT_LEN);
            s->traceparent[VTEV_TRACEPARENT_LEN] = '\0';
        } else {
            vtev_trace_format(&cur, s->traceparent);
        }
        s->ctx_ptr = &cur;
        cur_set = true;
    } else {
        s->traceparent[0] = '\0';
        cur_set = false; /* publishes in the handler start their own trace */
    }
    if (hook_consume)
        hook_consume(topic, s->has_ctx ? &cur : NULL, true, 0, hook_opaque);
}

void vtev__trace_incoming_end(vtev__trace_scope_t *s, int verdict) {
    if (hook_consume)
        hook_consume(s->topic, s->has_ctx ? &cur : NULL, false, verdict, hook_opaque);
    cur_set = s->had_prev;
    if (s->had_prev)
        cur = s->prev;
}
