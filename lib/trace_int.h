/*
 * trace_int.h - the trace context on the data path (trace.c). Never installed.
 */
#ifndef VTEV_TRACE_INT_H
#define VTEV_TRACE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <vtevents/trace.h>

#include "log_int.h"

/* The traceparent (and tracestate, NULL when none) of a message published
 * now on this thread: a child of the thread's current context, else a new
 * trace; the publish hook may rewrite it. */
bool vtev__trace_outgoing(const char *topic, char tp[VTEV_TRACEPARENT_LEN + 1],
                          const char **tracestate);

/* Around one handler call: the message's context becomes the thread's
 * current one (none when the message has no valid traceparent), the consume
 * hook is told, and _end restores what was current before. */
typedef struct vtev__trace_scope_s {
    const vtev_trace_ctx_t *ctx_ptr; /* the message's context (the thread's current one) */
    bool has_ctx;
    char traceparent[VTEV_TRACEPARENT_LEN + 1]; /* "" when none */
    vtev_trace_ctx_t prev;
    bool had_prev;
    const char *topic;
    vtev__log_state_t log_saved; /* the thread's log context before */
} vtev__trace_scope_t;

void vtev__trace_incoming_begin(vtev__trace_scope_t *s, const char *topic, const char *tp,
                                size_t tp_len, const char *ts, size_t ts_len);
void vtev__trace_incoming_end(vtev__trace_scope_t *s, int verdict);

#endif
