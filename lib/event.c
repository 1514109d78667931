/*
 * event.c - event types, defaults (init), clear and copy.
 */
#include "event_int.h"
#include "internal.h"

#include <stdio.h>
#include <string.h>

static const char *const type_names[] = {
    [VTEV_EVENT_POSITION] = "vessel.position.updated",
    [VTEV_EVENT_REQUEST] = "prediction.analysis.requested",
    [VTEV_EVENT_RESULT] = "prediction.analysis.completed",
};

static const char *const priority_names[] = {
    [VTEV_PRIORITY_LOW] = "low",
    [VTEV_PRIORITY_NORMAL] = "normal",
    [VTEV_PRIORITY_HIGH] = "high",
};

const char *vtev_event_type_name(vtev_event_type_t type) {
    if (type < VTEV_EVENT_POSITION || type > VTEV_EVENT_RESULT)
        return NULL;
    return type_names[type];
}

vtev_event_type_t vtev_event_type_from_name(const char *name) {
    int t;
    if (!name)
        return VTEV_EVENT_NONE;
    for (t = VTEV_EVENT_POSITION; t <= VTEV_EVENT_RESULT; t++)
        if (!strcmp(name, type_names[t]))
            return (vtev_event_type_t)t;
    return VTEV_EVENT_NONE;
}

const char *vtev_priority_name(vtev_priority_t priority) {
    if ((int)priority < VTEV_PRIORITY_LOW || priority > VTEV_PRIORITY_HIGH)
        return NULL;
    return priority_names[priority];
}

static const char hexdig[] = "0123456789abcdef";

int vtev__uuid4(char out[VTEV_UUID_LEN + 1]) {
    unsigned char r[16];
    size_t i, o = 0;
    if (vtev__random_bytes(r, sizeof(r)) != 0)
        return -1;
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hexdig[r[i] >> 4];
        out[o++] = hexdig[r[i] & 0xf];
    }
    out[o] = '\0';
    return 0;
}

/* 1 for the hex digits (a table: this runs for every event validated). */
static const unsigned char hex_digit[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
};

bool vtev__uuid_valid(const char *s) {
    const unsigned char *u = (const unsigned char *)s;
    unsigned ok = 1;
    size_t i;
    if (strnlen(s, VTEV_UUID_LEN + 1) != VTEV_UUID_LEN) /* nothing read past the NUL */
        return false;
    if (u[8] != '-' || u[13] != '-' || u[18] != '-' || u[23] != '-')
        return false;
    for (i = 0; i < 8; i++)
        ok &= hex_digit[u[i]];
    for (i = 9; i < 13; i++)
        ok &= hex_digit[u[i]];
    for (i = 14; i < 18; i++)
        ok &= hex_digit[u[i]];
    for (i = 19; i < 23; i++)
        ok &= hex_digit[u[i]];
    for (i = 24; i < VTEV_UUID_LEN; i++)
        ok &= hex_digit[u[i]];
    return ok != 0;
}

static vtev_err_t env_init(vtev_envelope_t *env) {
    memset(env, 0, sizeof(*env));
    if (vtev__uuid4(env->event_id) != 0)
        return VTEV_ERR_IO;
    env->timestamp_us = vtev__now_wall_us();
    return VTEV_ERR_OK;
}

vtev_err_t vtev_position_init(vtev_position_event_t *ev) {
    if (!ev)
        return VTEV_ERR_INVALID_ARG;
    memset(ev, 0, sizeof(*ev));
    return env_init(&ev->env);
}

vtev_err_t vtev_request_init(vtev_request_event_t *ev) {
    unsigned char r[4];
    size_t i;
    vtev_err_t err;
    if (!ev)
        return VTEV_ERR_INVALID_ARG;
    memset(ev, 0, sizeof(*ev));
    if ((err = env_init(&ev->env)) != VTEV_ERR_OK)
        return err;
    if (vtev__random_bytes(r, sizeof(r)) != 0)
        return VTEV_ERR_IO;
    memcpy(ev->request_id, "req-", 4);
    for (i = 0; i < 4; i++) {
        ev->request_id[4 + 2 * i] = hexdig[r[i] >> 4];
        ev->request_id[5 + 2 * i] = hexdig[r[i] & 0xf];
    }
    ev->request_id[12] = '\0';
    ev->data.priority = VTEV_PRIORITY_NORMAL;
    return VTEV_ERR_OK;
}

vtev_err_t vtev_result_init(vtev_result_event_t *ev) {
    if (!ev)
        return VTEV_ERR_INVALID_ARG;
    memset(ev, 0, sizeof(*ev));
    return env_init(&ev->env);
}

vtev_err_t vtev_event_init(vtev_event_t *ev, vtev_event_type_t type) {
    vtev_err_t err;
    if (!ev)
        return VTEV_ERR_INVALID_ARG;
    switch (type) {
    case VTEV_EVENT_POSITION: err = vtev_position_init(&ev->u.position); break;
    case VTEV_EVENT_REQUEST: err = vtev_request_init(&ev->u.request); break;
    case VTEV_EVENT_RESULT: err = vtev_result_init(&ev->u.result); break;
    default: return VTEV_ERR_INVALID_ARG;
    }
    ev->type = err == VTEV_ERR_OK ? type : VTEV_EVENT_NONE;
    return err;
}

static void env_clear(vtev_envelope_t *env) {
    vtev_metadata_destroy(env->metadata);
    env->metadata = NULL;
}

void vtev_position_clear(vtev_position_event_t *ev) {
    if (ev)
        env_clear(&ev->env);
}

void vtev_request_clear(vtev_request_event_t *ev) {
    if (ev)
        env_clear(&ev->env);
}

void vtev_result_clear(vtev_result_event_t *ev) {
    if (ev)
        env_clear(&ev->env);
}

void vtev_event_clear(vtev_event_t *ev) {
    if (!ev)
        return;
    if (ev->type >= VTEV_EVENT_POSITION && ev->type <= VTEV_EVENT_RESULT)
        env_clear(&ev->u.env);
    ev->type = VTEV_EVENT_NONE;
}

vtev_err_t vtev_event_copy(vtev_event_t *dst, const vtev_event_t *src) {
    if (!dst || !src || dst == src)
        return VTEV_ERR_INVALID_ARG;
    *dst = *src;
    if (src->type < VTEV_EVENT_POSITION || src->type > VTEV_EVENT_RESULT) {
        dst->type = VTEV_EVENT_NONE;
        return VTEV_ERR_INVALID_ARG;
    }
    dst->u.env.metadata = NULL;
    if (src->u.env.metadata && vtev_metadata_count(src->u.env.metadata) > 0) {
        dst->u.env.metadata = vtev_metadata_dup(src->u.env.metadata);
        if (!dst->u.env.metadata) {
            memset(dst, 0, sizeof(*dst));
            return VTEV_ERR_NOMEM;
        }
    }
    return VTEV_ERR_OK;
}
