/*
 * dlq_filter.c - selecting dead letters (<vtevents/dlq.h>): time range,
 * error code, key, original topic/partition/offset and event_id.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dlq_int.h"
#include "internal.h"
#include "timestamp.h"

struct vtev_dlq_filter_s {
    bool has_since, has_until;
    int64_t since_ms, until_ms;
    char *error_code;
    char *key;
    size_t key_len;
    char *original_topic;
    int32_t original_partition; /* -1: any */
    int64_t original_offset;    /* -1: any */
    char *event_id;
};

vtev_dlq_filter_t *vtev_dlq_filter_new(void) {
    vtev_dlq_filter_t *f = calloc(1, sizeof(*f));
    if (f) {
        f->original_partition = -1;
        f->original_offset = -1;
    }
    return f;
}

void vtev_dlq_filter_destroy(vtev_dlq_filter_t *f) {
    if (!f)
        return;
    free(f->error_code);
    free(f->key);
    free(f->original_topic);
    free(f->event_id);
    free(f);
}

vtev_dlq_filter_t *vtev__dlq_filter_dup(const vtev_dlq_filter_t *f, bool *okp) {
    vtev_dlq_filter_t *d;
    *okp = true;
    if (!f)
        return NULL;
    if (!(d = malloc(sizeof(*d)))) {
        *okp = false;
        return NULL;
    }
    *d = *f;
    d->error_code = vtev__strdup(f->error_code);
    d->key = NULL;
    if (f->key && (d->key = malloc(f->key_len + 1)))
        memcpy(d->key, f->key, f->key_len + 1);
    d->original_topic = vtev__strdup(f->original_topic);
    d->event_id = vtev__strdup(f->event_id);
    if ((f->error_code && !d->error_code) || (f->key && !d->key) ||
        (f->original_topic && !d->original_topic) || (f->event_id && !d->event_id)) {
        vtev_dlq_filter_destroy(d);
        *okp = false;
        return NULL;
    }
    return d;
}

static int parse_nonneg(const char *s, int64_t max, int64_t *out) {
    char *end;
    long long v;
    if (!*s || *s == '-' || *s == '+' || *s == ' ')
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end || v < 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

static vtev_err_t set_str(char **slot, const char *value, const char *name, char *errstr,
                          size_t errstr_size) {
    char *d;
    if (!*value)
        return vtev__fail(VTEV_ERR_PARSE, errstr, errstr_size, "%s: must not be empty", name);
    if (!(d = vtev__strdup(value)))
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "%s: out of memory", name);
    free(*slot);
    *slot = d;
    return VTEV_ERR_OK;
}

vtev_err_t vtev_dlq_filter_set(vtev_dlq_filter_t *f, const char *name, const char *value,
                               char *errstr, size_t errstr_size) {
    int64_t v;
    if (!f || !name || !value)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "vtev_dlq_filter_set: NULL argument");
    if (!strcmp(name, "since") || !strcmp(name, "until")) {
        int64_t us;
        if (vtev__parse_timestamp(value, &us) != 0)
            return vtev__fail(VTEV_ERR_PARSE, errstr, errstr_size,
                              "%s: \"%s\" is not an ISO-8601 UTC time such as "
                              "2026-01-10T15:30:00Z",
                              name, value);
        if (name[0] == 's') {
            f->has_since = true;
            f->since_ms = us / 1000;
        } else {
            f->has_until = true;
            f->until_ms = us / 1000;
        }
        return VTEV_ERR_OK;
    }
    if (!strcmp(name, "error.code")) {
        size_t i;
        for (i = 0; value[i]; i++)
            if (!((value[i] >= 'A' && value[i] <= 'Z') || value[i] == '_' ||
                  (value[i] >= '0' && value[i] <= '9')))
                return vtev__fail(VTEV_ERR_PARSE, errstr, errstr_size,
                                  "error.code: \"%s\" is not an error name such as DECODE or "
                                  "REJECTED",
                                  value);
        return set_str(&f->error_code, value, name, errstr, errstr_size);
    }
    if (!strcmp(name, "key")) {
        vtev_err_t err = set_str(&f->key, value, name, errstr, errstr_size);
        if (!err)
            f->key_len = strlen(value);
        return err;
    }
    if (!strcmp(name, "original.topic"))
        return set_str(&f->original_topic, value, name, errstr, errstr_size);
    if (!strcmp(name, "event.id"))
        return set_str(&f->event_id, value, name, errstr, errstr_size);
    if (!strcmp(name, "original.partition")) {
        if (parse_nonneg(value, INT32_MAX, &v))
            return vtev__fail(VTEV_ERR_PARSE, errstr, errstr_size,
                              "original.partition: \"%s\" is not an integer >= 0", value);
        f->original_partition = (int32_t)v;
        return VTEV_ERR_OK;
    }
    if (!strcmp(name, "original.offset")) {
        if (parse_nonneg(value, INT64_MAX, &v))
            return vtev__fail(VTEV_ERR_PARSE, errstr, errstr_size,
                              "original.offset: \"%s\" is not an integer >= 0", value);
        f->original_offset = v;
        return VTEV_ERR_OK;
    }
    return vtev__fail(VTEV_ERR_NOT_FOUND, errstr, errstr_size,
                      "%s: unknown filter (since, until, error.code, key, original.topic, "
                      "original.partition, original.offset, event.id)",
                      name);
}

static bool str_eq(const char *want, const char *have) {
    return !want || (have && !strcmp(want, have));
}

bool vtev_dlq_filter_match(const vtev_dlq_filter_t *f, const vtev_dead_letter_t *dl) {
    if (!dl)
        return false;
    if (!f)
        return true;
    if (f->has_since && (dl->dlq_time_ms < 0 || dl->dlq_time_ms < f->since_ms))
        return false;
    if (f->has_until && (dl->dlq_time_ms < 0 || dl->dlq_time_ms >= f->until_ms))
        return false;
    if (!str_eq(f->error_code, dl->error_code) || !str_eq(f->original_topic, dl->original_topic) ||
        !str_eq(f->event_id, dl->event_id))
        return false;
    if (f->key && (!dl->key || dl->key_len != f->key_len || memcmp(dl->key, f->key, f->key_len)))
        return false;
    if (f->original_partition >= 0 && dl->original_partition != f->original_partition)
        return false;
    if (f->original_offset >= 0 && dl->original_offset != f->original_offset)
        return false;
    return true;
}
