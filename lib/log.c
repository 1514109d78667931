/*
 * log.c - the one writer of log lines: text or JSON (log.format), with the
 * thread's log context (log.h).  vtev__log() (conf.c) and vtev_log() end
 * here when no log callback is set.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <vtevents/log.h>

#include "conf_int.h"
#include "internal.h"
#include "log_int.h"
#include "timestamp.h"

/* The context, copied into buffers of the thread. */
static _Thread_local vtev__log_state_t lctx;

void vtev__log_push(vtev__log_state_t *saved, const vtev_log_ctx_t *ctx) {
    /* usually nothing is set outside a handler: then only the flags */
    if (lctx.set[0] || lctx.set[1] || lctx.set[2] || lctx.set[3])
        *saved = lctx;
    else
        memset(saved->set, 0, sizeof(saved->set));
    vtev_log_context_set(ctx);
}

void vtev__log_pop(const vtev__log_state_t *saved) {
    if (saved->set[0] || saved->set[1] || saved->set[2] || saved->set[3])
        lctx = *saved;
    else
        memset(lctx.set, 0, sizeof(lctx.set));
}

static void put(char *dst, size_t size, bool *set, const char *v) {
    size_t n;
    *set = v && *v;
    if (!*set)
        return;
    n = strnlen(v, size - 1);
    memcpy(dst, v, n);
    dst[n] = '\0';
}

void vtev_log_context_set(const vtev_log_ctx_t *ctx) {
    put(lctx.topic, sizeof(lctx.topic), &lctx.set[0], ctx ? ctx->topic : NULL);
    put(lctx.event_id, sizeof(lctx.event_id), &lctx.set[1], ctx ? ctx->event_id : NULL);
    put(lctx.correlation_id, sizeof(lctx.correlation_id), &lctx.set[2],
        ctx ? ctx->correlation_id : NULL);
    put(lctx.trace_id, sizeof(lctx.trace_id), &lctx.set[3], ctx ? ctx->trace_id : NULL);
}

void vtev_log_context_get(vtev_log_ctx_t *out) {
    if (!out)
        return;
    out->topic = lctx.set[0] ? lctx.topic : NULL;
    out->event_id = lctx.set[1] ? lctx.event_id : NULL;
    out->correlation_id = lctx.set[2] ? lctx.correlation_id : NULL;
    out->trace_id = lctx.set[3] ? lctx.trace_id : NULL;
}

static const char *level_name(int level) {
    static const char *const names[] = {"emerg", "alert",  "crit", "error",
                                        "warning", "notice", "info", "debug"};
    return level >= 0 && level <= 7 ? names[level] : "debug";
}

/* One JSON line with jansson (a log line is not a hot path); the text form
 * when even that cannot be built. */
static void write_json(int level, const char *fac, const char *msg) {
    char ts[40];
    json_t *o = json_object();
    char *s = NULL;
    vtev__format_timestamp(vtev__now_wall_us(), ts, sizeof(ts));
    if (o) {
        json_object_set_new(o, "time", json_string(ts));
        json_object_set_new(o, "level", json_string(level_name(level)));
        json_object_set_new(o, "component", json_string(fac));
        json_object_set_new(o, "message", json_string(msg));
        if (lctx.set[0])
            json_object_set_new(o, "topic", json_string(lctx.topic));
        if (lctx.set[1])
            json_object_set_new(o, "event_id", json_string(lctx.event_id));
        if (lctx.set[2])
            json_object_set_new(o, "correlation_id", json_string(lctx.correlation_id));
        if (lctx.set[3])
            json_object_set_new(o, "trace_id", json_string(lctx.trace_id));
        s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(o);
    }
    if (s) {
        fprintf(stderr, "%s\n", s);
        free(s);
    } else {
        fprintf(stderr, "%%vtevents|%d|%s| %s\n", level, fac, msg);
    }
}

void vtev__log_default(const vtev_conf_t *conf, int level, const char *fac, const char *msg) {
    const char *format = conf ? vtev__conf_str(conf, "log.format") : NULL;
    if (level > (conf ? vtev__conf_int(conf, "log.level") : 6))
        return;
    if (format && !strcmp(format, "json"))
        write_json(level, fac, msg);
    else
        fprintf(stderr, "%%vtevents|%d|%s| %s\n", level, fac, msg);
}

void vtev_log(const vtev_conf_t *conf, int level, const char *component, const char *fmt, ...) {
    char raw[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    vtev__log(conf, level, component ? component : "APP", "%s", raw);
}
