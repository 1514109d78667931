/*
 * log_int.h - the default log output (log.c). Never installed.
 */
#ifndef VTEV_LOG_INT_H
#define VTEV_LOG_INT_H

#include <stdbool.h>
#include <vtevents/conf.h>
#include <vtevents/log.h>

/* A thread's log context (log.c). */
typedef struct vtev__log_state_s {
    bool set[4];
    char topic[256];
    char event_id[64];
    char correlation_id[256];
    char trace_id[33];
} vtev__log_state_t;

/* Around a handler call: saves the thread's context and sets ctx; _pop
 * puts the saved one back. */
void vtev__log_push(vtev__log_state_t *saved, const vtev_log_ctx_t *ctx);
void vtev__log_pop(const vtev__log_state_t *saved);

/* Writes an (escaped) line to stderr in log.format when level <= log.level. */
void vtev__log_default(const vtev_conf_t *conf, int level, const char *fac, const char *msg);

#endif
