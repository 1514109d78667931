/*
 * vt-dlq - inspect and replay dead letters (<vtevents/dlq.h>).
 *
 *   vt-dlq stats                                  # counts of every DLQ of the platform
 *   vt-dlq list --error-code DECODE position-updates.dlq
 *   vt-dlq show --event-id 6f0c...
 *   vt-dlq replay --dry-run --since 2026-01-10T15:00:00Z vessel-position-updates.dlq
 *
 * Without topics, the dead-letter topics of the three platform events
 * (topic.* + dlq.suffix) that exist.  list and show print the decoded event
 * where the value decodes (a platform event through the serde, any other
 * schema of the registry in its JSON form) and the value in base64 where it
 * does not.  replay is the library's replay: progress is the committed
 * offsets of a consumer group, committed in one transaction with what each
 * batch sent (exactly once for read_committed readers).
 */
#include "common.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <vtevents/dlq.h>

#define TOOL "vt-dlq"

enum {
    OPT_JSON = 900,
    OPT_SINCE,
    OPT_UNTIL,
    OPT_CODE,
    OPT_KEY,
    OPT_OTOPIC,
    OPT_PART,
    OPT_OFF,
    OPT_EVID,
    OPT_DRY,
    OPT_RATE,
    OPT_TO,
    OPT_MAXR,
    OPT_GROUP
};

typedef enum { CMD_STATS, CMD_LIST, CMD_SHOW, CMD_REPLAY } cmd_t;

/* Writer schemas that are not a platform event, by id. */
#define SCHEMA_CACHE_MAX 64
typedef struct sid_s {
    int32_t id;
    vtev_avro_json_t *codec; /* NULL: unusable */
} sid_t;

typedef struct dlq_s {
    vt_common_t common;
    cmd_t cmd;
    bool json;
    const vtev_conf_t *conf;
    vtev_dlq_filter_t *filter;
    vtev_serde_t *serde;
    vtev_registry_t *reg;
    sid_t sids[SCHEMA_CACHE_MAX];
    size_t sid_cnt;
    bool write_failed;
    unsigned long shown;
} dlq_t;

static void usage(FILE *out) {
    fprintf(out,
            "usage: " TOOL " [options] stats|list|show|replay [TOPIC.dlq ...]\n"
            "Inspects and replays dead letters. Without topics: the dead-letter topics of the\n"
            "three platform events (topic.* + dlq.suffix) that exist.\n"
            "\n"
            "Commands:\n"
            "  stats    counts by original topic, error code and reason, the oldest and\n"
            "           newest dead letter, counts per hour\n"
            "  list     one line per dead letter (text; JSON lines with --json, with its\n"
            "           headers and the decoded event, or the value in base64)\n"
            "  show     each dead letter as an indented JSON object with its headers, the\n"
            "           decoded event, or the value in base64 where it does not decode\n"
            "  replay   sends the selected dead letters back to their original topic (or\n"
            "           --to) with key, value bytes and original headers, adding\n"
            "           vtev.replay.count and vtev.replayed.at; one JSON line per dead letter\n"
            "\n"
            "Options:\n"
            "      --json                stats and list: JSON instead of text\n"
            "Filters (list, show, replay; stats too):\n"
            "      --since TIME          dead-lettered at or after TIME (ISO-8601 UTC)\n"
            "      --until TIME          dead-lettered before TIME\n"
            "      --error-code CODE     vtev.error.code, e.g. DECODE, REJECTED, RETRIES_EXHAUSTED\n"
            "      --key KEY             message key (the vessel id), exactly\n"
            "      --original-topic T    vtev.original.topic\n"
            "      --partition N         original partition\n"
            "      --offset N            original offset\n"
            "      --event-id ID         the event_id header\n"
            "Replay:\n"
            "      --dry-run             send nothing, commit nothing: print what would be sent\n"
            "      --rate N/s            at most N dead letters per second\n"
            "      --to TOPIC            send to TOPIC instead of each original topic\n"
            "      --max-replays N       refuse a dead letter already replayed N times\n"
            "                            (default 3, dlq.replay.max.count)\n"
            "      --group GROUP         the consumer group that keeps the progress (default\n"
            "                            vtev-dlq-replay.TOPIC; one per selection)\n"
            "\n" VT_COMMON_HELP
            "\n"
            "A replay sends exactly once for read_committed readers: each batch and the\n"
            "group's progress commit in one transaction (transactional.id GROUP.txn); a run\n"
            "after SIGKILL aborts what the killed one left open and continues.\n"
            "\n"
            "Exit status: 0 done (also after SIGINT or SIGTERM: a replay commits its open\n"
            "transaction; refused dead letters are reported, not errors); 1 runtime failure\n"
            "(broker, unknown topic, a delivery or transaction that failed, stdout cannot be\n"
            "written); 2 usage or invalid input. See vt-dlq(1).\n");
}

/* ---- output ------------------------------------------------------------- */

static json_t *str_or_null(const char *s) {
    json_t *j;
    if (!s)
        return json_null();
    j = json_string(s);
    return j ? j : json_string("(not UTF-8)");
}

static json_t *time_json(int64_t ms) {
    char buf[64];
    time_t t;
    struct tm tm;
    if (ms < 0)
        return json_null();
    t = (time_t)(ms / 1000);
    if (!gmtime_r(&t, &tm))
        return json_null();
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ".%03dZ", (int)(ms % 1000));
    return json_string(buf);
}

static int emit(dlq_t *d, const char *s, size_t len) {
    if (d->write_failed)
        return -1;
    errno = 0;
    if (fwrite(s, 1, len, stdout) != len || fputc('\n', stdout) == EOF || fflush(stdout) == EOF) {
        vt_err(&d->common, "cannot write to standard output: %s",
               errno ? strerror(errno) : "write error");
        d->write_failed = true;
        vt_stop = 1;
        return -1;
    }
    return 0;
}

static int emit_json(dlq_t *d, json_t *o, size_t flags) {
    char *s = o ? json_dumps(o, JSON_PRESERVE_ORDER | flags) : NULL;
    int rc;
    if (!s) {
        vt_err(&d->common, "out of memory");
        d->write_failed = true;
        vt_stop = 1;
        return -1;
    }
    rc = emit(d, s, strlen(s));
    free(s);
    return rc;
}

/* The dead letter's envelope (no event) as a JSON object. */
static json_t *letter_json(const vtev_dead_letter_t *dl) {
    json_t *o = json_object(), *h = json_object();
    size_t i;
    if (!o || !h) {
        json_decref(o);
        json_decref(h);
        return NULL;
    }
    json_object_set_new(o, "topic", str_or_null(dl->topic));
    json_object_set_new(o, "partition", json_integer(dl->partition));
    json_object_set_new(o, "offset", json_integer(dl->offset));
    json_object_set_new(o, "dlq_time", time_json(dl->dlq_time_ms));
    json_object_set_new(o, "original_topic", str_or_null(dl->original_topic));
    json_object_set_new(o, "original_partition",
                        dl->original_partition >= 0 ? json_integer(dl->original_partition)
                                                    : json_null());
    json_object_set_new(o, "original_offset",
                        dl->original_offset >= 0 ? json_integer(dl->original_offset) : json_null());
    json_object_set_new(o, "original_timestamp", time_json(dl->original_timestamp_ms));
    json_object_set_new(o, "error_code", str_or_null(dl->error_code));
    json_object_set_new(o, "reason", str_or_null(dl->error_message));
    json_object_set_new(o, "attempts", dl->attempts >= 0 ? json_integer(dl->attempts) : json_null());
    json_object_set_new(o, "consumer_group", str_or_null(dl->consumer_group));
    json_object_set_new(o, "event_id", str_or_null(dl->event_id));
    json_object_set_new(o, "traceparent", str_or_null(dl->traceparent));
    json_object_set_new(o, "replay_count", json_integer(dl->replay_count));
    json_object_set_new(o, "replayed_at", time_json(dl->replayed_at_ms));
    json_object_set_new(o, "key", vt_bytes_json(dl->key, dl->key_len));
    for (i = 0; i < dl->header_cnt; i++) {
        const vtev_header_t *x = &dl->headers[i];
        json_t *v = vt_bytes_json(x->value, x->value_len), *prev = json_object_get(h, x->name);
        if (!v)
            continue;
        if (prev && json_is_array(prev))
            json_array_append_new(prev, v);
        else if (prev) {
            json_t *arr = json_array();
            json_array_append(arr, prev);
            json_array_append_new(arr, v);
            json_object_set_new(h, x->name, arr);
        } else
            json_object_set_new(h, x->name, v);
    }
    json_object_set_new(o, "headers", h);
    return o;
}

static const sid_t *sid_get(dlq_t *d, int32_t id, char *errstr, size_t errstr_size) {
    size_t i;
    char *text = NULL;
    sid_t *e;
    for (i = 0; i < d->sid_cnt; i++)
        if (d->sids[i].id == id)
            return &d->sids[i];
    if (vtev_registry_get_schema(d->reg, id, &text, errstr, errstr_size) != VTEV_ERR_OK)
        return NULL; /* not remembered: a transient failure may pass */
    if (d->sid_cnt == SCHEMA_CACHE_MAX) {
        for (i = 0; i < d->sid_cnt; i++)
            vtev_avro_json_destroy(d->sids[i].codec);
        d->sid_cnt = 0;
    }
    e = &d->sids[d->sid_cnt++];
    e->id = id;
    e->codec = vtev_avro_json_new(text, d->conf, errstr, errstr_size);
    vtev_free(text);
    return e;
}

/* The event's JSON text (caller frees with vtev_free()), or NULL with why
 * set.  A platform event through the serde, else its schema's JSON form. */
static char *decode(dlq_t *d, const vtev_dead_letter_t *dl, bool pretty, int32_t *sidp,
                    char *why, size_t why_size) {
    vtev_event_t ev;
    char *text = NULL;
    vtev_err_t err;
    const void *payload;
    size_t plen;
    const sid_t *sid;
    *sidp = -1;
    if (!dl->value) {
        snprintf(why, why_size, "empty (null) value");
        return NULL;
    }
    err = vtev_serde_deserialize(d->serde, dl->original_topic, VTEV_EVENT_NONE, dl->value,
                                 dl->value_len, &ev, sidp, why, why_size);
    if (err == VTEV_ERR_OK) {
        if (vtev_event_to_json(&ev, pretty ? VTEV_JSON_PRETTY : 0, &text, NULL) != VTEV_ERR_OK) {
            snprintf(why, why_size, "cannot write the event as JSON");
            text = NULL;
        }
        vtev_event_clear(&ev);
        return text;
    }
    if (err != VTEV_ERR_SCHEMA_MISMATCH && err != VTEV_ERR_SCHEMA)
        return NULL;
    /* not a platform event: its own schema's JSON form */
    if (vtev_frame_parse(dl->value, dl->value_len, sidp, &payload, &plen, why, why_size) ||
        !(sid = sid_get(d, *sidp, why, why_size)))
        return NULL;
    if (!sid->codec) {
        snprintf(why, why_size, "writer schema %d cannot be read", (int)*sidp);
        return NULL;
    }
    if (vtev_avro_json_from_avro(sid->codec, payload, plen, pretty ? VTEV_AVRO_JSON_PRETTY : 0,
                                 &text, NULL, why, why_size) != VTEV_ERR_OK)
        return NULL;
    return text;
}

/* Prints the envelope with "event" (the library's JSON text, appended so
 * that its numbers keep their form) or "value_base64" + "decode_error". */
static int print_full(dlq_t *d, const vtev_dead_letter_t *dl, bool pretty) {
    json_t *o = letter_json(dl);
    char why[1024] = "";
    int32_t sid;
    char *ev = decode(d, dl, pretty, &sid, why, sizeof(why));
    char *line = NULL;
    size_t n;
    int rc = -1;

    if (!o)
        goto nomem;
    json_object_set_new(o, "schema_id", sid >= 0 ? json_integer(sid) : json_null());
    if (!ev) {
        char *b = dl->value ? vt_base64(dl->value, dl->value_len) : NULL;
        json_object_set_new(o, "decode_error", json_string(why[0] ? why : "does not decode"));
        json_object_set_new(o, "value_base64", b ? json_string(b) : json_null());
        free(b);
        rc = emit_json(d, o, pretty ? JSON_INDENT(2) : 0);
        goto out;
    }
    if (!(line = vt_json_with_event(o, ev, pretty, &n)))
        goto nomem;
    rc = emit(d, line, n);
    goto out;
nomem:
    vt_err(&d->common, "out of memory");
    d->write_failed = true;
    vt_stop = 1;
out:
    free(line);
    vtev_free(ev);
    json_decref(o);
    return rc;
}

/* One text line of list. */
static int print_line(dlq_t *d, const vtev_dead_letter_t *dl) {
    json_t *t = time_json(dl->dlq_time_ms);
    char buf[2048], key[256];
    size_t i, k = 0;
    for (i = 0; dl->key && i < dl->key_len && k + 5 < sizeof(key); i++) {
        unsigned char c = ((const unsigned char *)dl->key)[i];
        if (c >= 0x20 && c < 0x7f)
            key[k++] = (char)c;
        else
            k += (size_t)snprintf(key + k, sizeof(key) - k, "\\x%02x", c);
    }
    key[k] = '\0';
    snprintf(buf, sizeof(buf),
             "%s [%" PRId32 "] @%" PRId64 "  %s  %s  from %s [%" PRId32 "] @%" PRId64
             "  key=%s  event_id=%s  attempts=%d  replays=%d  %s",
             dl->topic, dl->partition, dl->offset,
             json_string_value(t) ? json_string_value(t) : "-", dl->error_code ? dl->error_code : "-",
             dl->original_topic ? dl->original_topic : "-", dl->original_partition,
             dl->original_offset, dl->key ? key : "-", dl->event_id ? dl->event_id : "-",
             dl->attempts, dl->replay_count, dl->error_message ? dl->error_message : "");
    json_decref(t);
    return emit(d, buf, strlen(buf));
}

/* ---- stats -------------------------------------------------------------- */

typedef struct stats_s {
    json_t *by_topic, *by_otopic, *by_code, *by_reason, *per_hour;
    uint64_t count;
    int64_t oldest, newest;
} stats_t;

static void bump(json_t *obj, const char *k) {
    json_t *v = json_object_get(obj, k ? k : "(none)");
    if (v)
        json_integer_set(v, json_integer_value(v) + 1);
    else
        json_object_set_new(obj, k ? k : "(none)", json_integer(1));
}

static void stats_add(stats_t *s, const vtev_dead_letter_t *dl) {
    char hour[40];
    s->count++;
    bump(s->by_topic, dl->topic);
    bump(s->by_otopic, dl->original_topic);
    bump(s->by_code, dl->error_code);
    {
        /* a JSON key must be UTF-8 (the library escapes what is not; a
         * producer of synthetic dead letters may not) */
        json_t *utf8 = dl->error_message ? json_string(dl->error_message) : NULL;
        bump(s->by_reason, utf8 ? dl->error_message : dl->error_message ? "(not UTF-8)" : NULL);
        json_decref(utf8);
    }
    if (dl->dlq_time_ms >= 0) {
        time_t t = (time_t)(dl->dlq_time_ms / 1000);
        struct tm tm;
        if (s->oldest < 0 || dl->dlq_time_ms < s->oldest)
            s->oldest = dl->dlq_time_ms;
        if (dl->dlq_time_ms > s->newest)
            s->newest = dl->dlq_time_ms;
        if (gmtime_r(&t, &tm)) {
            strftime(hour, sizeof(hour), "%Y-%m-%dT%H:00:00Z", &tm);
            bump(s->per_hour, hour);
        }
    }
}

typedef struct kv_s {
    const char *k;
    json_int_t v;
} kv_t;

static int kv_cmp_count(const void *a, const void *b) {
    const kv_t *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? 1 : -1;
    return strcmp(x->k, y->k);
}

static int kv_cmp_key(const void *a, const void *b) {
    return strcmp(((const kv_t *)a)->k, ((const kv_t *)b)->k);
}

/* Prints "title" and the object's entries (by count, or by key), at most max. */
static int print_counts(dlq_t *d, const char *title, json_t *obj, bool by_key, size_t max) {
    size_t n = json_object_size(obj), i = 0;
    kv_t *a = malloc((n ? n : 1) * sizeof(*a));
    const char *k;
    json_t *v;
    char line[1200];
    int rc = 0;
    if (!a)
        return -1;
    json_object_foreach(obj, k, v) {
        a[i].k = k;
        a[i++].v = json_integer_value(v);
    }
    qsort(a, n, sizeof(*a), by_key ? kv_cmp_key : kv_cmp_count);
    snprintf(line, sizeof(line), "%s:", title);
    rc |= emit(d, line, strlen(line));
    for (i = 0; i < n && i < max; i++) {
        snprintf(line, sizeof(line), "  %8" JSON_INTEGER_FORMAT "  %.1000s", a[i].v, a[i].k);
        rc |= emit(d, line, strlen(line));
    }
    if (n > max) {
        snprintf(line, sizeof(line), "  ... %zu more", n - max);
        rc |= emit(d, line, strlen(line));
    }
    free(a);
    return rc;
}

static int print_stats(dlq_t *d, stats_t *s) {
    json_t *o, *oldest = time_json(s->oldest), *newest = time_json(s->newest);
    int rc;
    if (d->json) {
        o = json_pack("{s:I, s:o, s:o, s:O, s:O, s:O, s:O, s:O}", "count", (json_int_t)s->count,
                      "oldest", oldest, "newest", newest, "by_topic", s->by_topic,
                      "by_original_topic", s->by_otopic, "by_error_code", s->by_code,
                      "by_reason", s->by_reason, "per_hour", s->per_hour);
        rc = emit_json(d, o, 0);
        json_decref(o);
        return rc;
    }
    {
        char line[256];
        snprintf(line, sizeof(line), "dead letters: %" PRIu64, s->count);
        rc = emit(d, line, strlen(line));
        snprintf(line, sizeof(line), "oldest: %s", json_string_value(oldest) ? json_string_value(oldest) : "-");
        rc |= emit(d, line, strlen(line));
        snprintf(line, sizeof(line), "newest: %s", json_string_value(newest) ? json_string_value(newest) : "-");
        rc |= emit(d, line, strlen(line));
    }
    json_decref(oldest);
    json_decref(newest);
    rc |= print_counts(d, "by dead-letter topic", s->by_topic, false, SIZE_MAX);
    rc |= print_counts(d, "by original topic", s->by_otopic, false, SIZE_MAX);
    rc |= print_counts(d, "by error code", s->by_code, false, SIZE_MAX);
    rc |= print_counts(d, "by reason", s->by_reason, false, 20);
    rc |= print_counts(d, "per hour", s->per_hour, true, SIZE_MAX);
    return rc ? -1 : 0;
}

/* ---- replay ------------------------------------------------------------- */

static void on_replay(vtev_dlq_replay_t *r, const vtev_dead_letter_t *dl, vtev_dlq_action_t action,
                      const char *to, void *opaque) {
    dlq_t *d = opaque;
    static const char *const names[] = {"replayed", "would_replay", "refused_loop",
                                        "refused_no_topic"};
    json_t *o = json_object();
    if (o) {
        json_object_set_new(o, "action", json_string(names[action]));
        json_object_set_new(o, "topic", str_or_null(dl->topic));
        json_object_set_new(o, "partition", json_integer(dl->partition));
        json_object_set_new(o, "offset", json_integer(dl->offset));
        json_object_set_new(o, "to", str_or_null(to));
        json_object_set_new(o, "key", vt_bytes_json(dl->key, dl->key_len));
        json_object_set_new(o, "event_id", str_or_null(dl->event_id));
        json_object_set_new(o, "error_code", str_or_null(dl->error_code));
        json_object_set_new(o, "replay_count", json_integer(dl->replay_count));
    }
    if (emit_json(d, o, 0) != 0)
        vtev_dlq_replay_stop(r);
    json_decref(o);
    if (vt_stop)
        vtev_dlq_replay_stop(r);
}

/* ---- signals ------------------------------------------------------------ */

/* The replay running now: SIGINT/SIGTERM stop it at once (an atomic flag),
 * also while it waits for --rate or reads dead letters it does not select. */
static vtev_dlq_replay_t *volatile running_replay;

static void on_stop_signal(int sig) {
    int saved = errno;
    vtev_dlq_replay_t *r = running_replay;
    (void)sig;
    vt_stop = 1;
    if (r)
        vtev_dlq_replay_stop(r);
    errno = saved;
}

static void signals_install(void) {
    struct sigaction sa;
    vt_signals_install(); /* SIGPIPE ignored */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* ---- main --------------------------------------------------------------- */

static int filter_set(dlq_t *d, const char *name, const char *value, const char *opt) {
    char errstr[512];
    if (vtev_dlq_filter_set(d->filter, name, value, errstr, sizeof(errstr)) != VTEV_ERR_OK) {
        vt_err(&d->common, "%s: %s", opt, errstr);
        return -1;
    }
    return 0;
}

/* One topic: 0 done, 1 runtime failure, 3 the topic does not exist. */
static int do_topic(dlq_t *d, const char *topic, stats_t *st, bool named) {
    char errstr[1024];
    vtev_err_t err;
    if (d->cmd == CMD_REPLAY) {
        vtev_dlq_replay_t *r = vtev_dlq_replay_new(d->conf, topic, d->filter, errstr, sizeof(errstr));
        vtev_dlq_replay_stats_t rs;
        int rc = 0;
        if (!r) {
            if (!named && strstr(errstr, "Unknown topic"))
                return 3;
            vt_err(&d->common, "%s", errstr);
            return 1;
        }
        running_replay = r;
        if (vt_stop) { /* a signal before running_replay was set */
            running_replay = NULL;
            vtev_dlq_replay_destroy(r);
            return 0;
        }
        err = vtev_dlq_replay_run(r, on_replay, d, errstr, sizeof(errstr));
        running_replay = NULL;
        if (err) {
            vt_err(&d->common, "%s", errstr);
            rc = 1;
        }
        vtev_dlq_replay_stats(r, &rs);
        if (d->common.verbosity >= 1)
            fprintf(stderr,
                    TOOL ": %s: read %" PRIu64 ", selected %" PRIu64 ", replayed %" PRIu64
                         ", would replay %" PRIu64 ", refused %" PRIu64 "\n",
                    topic, rs.read, rs.selected, rs.replayed, rs.dry_run, rs.refused);
        vtev_dlq_replay_destroy(r);
        return rc;
    }
    {
        vtev_dlq_reader_t *rd = vtev_dlq_reader_new(d->conf, topic, errstr, sizeof(errstr));
        const vtev_dead_letter_t *dl;
        if (!rd) {
            if (!named && strstr(errstr, "Unknown topic"))
                return 3;
            vt_err(&d->common, "%s", errstr);
            return 1;
        }
        while (!vt_stop) {
            err = vtev_dlq_reader_next(rd, &dl, 1000, errstr, sizeof(errstr));
            if (err == VTEV_ERR_TIMED_OUT)
                continue;
            if (err) {
                vt_err(&d->common, "%s", errstr);
                vtev_dlq_reader_destroy(rd);
                return 1;
            }
            if (!dl)
                break;
            if (!vtev_dlq_filter_match(d->filter, dl))
                continue;
            d->shown++;
            if (d->cmd == CMD_STATS)
                stats_add(st, dl);
            else if (d->cmd == CMD_SHOW)
                print_full(d, dl, true);
            else if (d->json)
                print_full(d, dl, false);
            else
                print_line(d, dl);
        }
        vtev_dlq_reader_destroy(rd);
        return d->write_failed ? 1 : 0;
    }
}

int main(int argc, char **argv) {
    static dlq_t d;
    static const struct option longopts[] = {
        VT_COMMON_LONGOPTS,
        {"json", no_argument, NULL, OPT_JSON},
        {"since", required_argument, NULL, OPT_SINCE},
        {"until", required_argument, NULL, OPT_UNTIL},
        {"error-code", required_argument, NULL, OPT_CODE},
        {"key", required_argument, NULL, OPT_KEY},
        {"original-topic", required_argument, NULL, OPT_OTOPIC},
        {"partition", required_argument, NULL, OPT_PART},
        {"offset", required_argument, NULL, OPT_OFF},
        {"event-id", required_argument, NULL, OPT_EVID},
        {"dry-run", no_argument, NULL, OPT_DRY},
        {"rate", required_argument, NULL, OPT_RATE},
        {"to", required_argument, NULL, OPT_TO},
        {"max-replays", required_argument, NULL, OPT_MAXR},
        {"group", required_argument, NULL, OPT_GROUP},
        {NULL, 0, NULL, 0},
    };
    const char *rate = NULL, *to = NULL, *maxr = NULL, *group = NULL, *cmd;
    bool dry = false;
    vtev_conf_t *conf = NULL;
    char errstr[1024], num[32];
    int opt, rc = VT_EXIT_OK, r;
    stats_t st = {0};
    size_t i;

    vt_common_init(&d.common, TOOL);
    if (!(d.filter = vtev_dlq_filter_new())) {
        vt_err(&d.common, "out of memory");
        return VT_EXIT_FAIL;
    }
    opterr = 0;
    while ((opt = getopt_long(argc, argv, VT_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        r = vt_common_opt(&d.common, opt, optarg);
        if (r < 0) {
            vt_err(&d.common, "out of memory");
            rc = VT_EXIT_FAIL;
            goto out;
        }
        if (r > 0)
            continue;
        switch (opt) {
        case OPT_JSON: d.json = true; break;
        case OPT_SINCE: r = filter_set(&d, "since", optarg, "--since"); break;
        case OPT_UNTIL: r = filter_set(&d, "until", optarg, "--until"); break;
        case OPT_CODE: r = filter_set(&d, "error.code", optarg, "--error-code"); break;
        case OPT_KEY: r = filter_set(&d, "key", optarg, "--key"); break;
        case OPT_OTOPIC: r = filter_set(&d, "original.topic", optarg, "--original-topic"); break;
        case OPT_PART: r = filter_set(&d, "original.partition", optarg, "--partition"); break;
        case OPT_OFF: r = filter_set(&d, "original.offset", optarg, "--offset"); break;
        case OPT_EVID: r = filter_set(&d, "event.id", optarg, "--event-id"); break;
        case OPT_DRY: dry = true; break;
        case OPT_RATE: rate = optarg; break;
        case OPT_TO: to = optarg; break;
        case OPT_MAXR: maxr = optarg; break;
        case OPT_GROUP: group = optarg; break;
        case ':':
            vt_err(&d.common, "%s: needs a value (see --help)", argv[optind - 1]);
            rc = VT_EXIT_USAGE;
            goto out;
        default:
            vt_err(&d.common, "%s: unknown option (see --help)", argv[optind - 1]);
            rc = VT_EXIT_USAGE;
            goto out;
        }
        if (r < 0) {
            rc = VT_EXIT_USAGE;
            goto out;
        }
    }
    if (d.common.want_help) {
        usage(stdout);
        goto out;
    }
    if (d.common.want_version) {
        vt_common_print_version(&d.common);
        goto out;
    }
    if (optind >= argc) {
        vt_err(&d.common, "a command is needed: stats, list, show or replay (see --help)");
        rc = VT_EXIT_USAGE;
        goto out;
    }
    cmd = argv[optind++];
    if (!strcmp(cmd, "stats"))
        d.cmd = CMD_STATS;
    else if (!strcmp(cmd, "list"))
        d.cmd = CMD_LIST;
    else if (!strcmp(cmd, "show"))
        d.cmd = CMD_SHOW;
    else if (!strcmp(cmd, "replay"))
        d.cmd = CMD_REPLAY;
    else {
        vt_err(&d.common, "%s: not a command (stats, list, show, replay)", cmd);
        rc = VT_EXIT_USAGE;
        goto out;
    }
    if (d.cmd != CMD_REPLAY && (dry || rate || to || maxr || group)) {
        vt_err(&d.common, "--dry-run, --rate, --to, --max-replays and --group are for replay");
        rc = VT_EXIT_USAGE;
        goto out;
    }
    if (d.json && d.cmd != CMD_STATS && d.cmd != CMD_LIST) {
        vt_err(&d.common, "--json is for stats and list (show and replay always print JSON)");
        rc = VT_EXIT_USAGE;
        goto out;
    }
    for (i = (size_t)optind; i < (size_t)argc; i++)
        if (!*argv[i] || strlen(argv[i]) > 249) {
            vt_err(&d.common, "topic \"%s\": must be 1 to 249 characters", argv[i]);
            rc = VT_EXIT_USAGE;
            goto out;
        }

    if (!(conf = vt_common_conf(&d.common, &rc)))
        goto out;
    rc = VT_EXIT_OK;
#define CSET(k, v, opt)                                                                        \
    do {                                                                                       \
        if (vtev_conf_set(conf, k, v, errstr, sizeof(errstr)) != VTEV_CONF_OK) {               \
            vt_err(&d.common, "%s: %s", opt, errstr);                                          \
            rc = VT_EXIT_USAGE;                                                                \
            goto out;                                                                          \
        }                                                                                      \
    } while (0)
    if (rate) {
        long long n;
        char buf[32];
        const char *slash = strchr(rate, '/');
        size_t len = slash ? (size_t)(slash - rate) : strlen(rate);
        if (len == 0 || len >= sizeof(buf) || (slash && strcmp(slash, "/s"))) {
            vt_err(&d.common, "--rate: \"%s\" is not N or N/s", rate);
            rc = VT_EXIT_USAGE;
            goto out;
        }
        memcpy(buf, rate, len);
        buf[len] = '\0';
        if (vt_parse_int64(buf, &n) || n < 1) {
            vt_err(&d.common, "--rate: \"%s\" is not a positive number per second", rate);
            rc = VT_EXIT_USAGE;
            goto out;
        }
        snprintf(num, sizeof(num), "%lld", n);
        CSET("dlq.replay.rate", num, "--rate");
    }
    if (maxr)
        CSET("dlq.replay.max.count", maxr, "--max-replays");
    if (to)
        CSET("dlq.replay.to", to, "--to");
    if (group)
        CSET("dlq.replay.group", group, "--group");
    if (dry)
        CSET("dlq.replay.dry.run", "true", "--dry-run");
#undef CSET
    if (vt_real_brokers(conf, errstr, sizeof(errstr)) != 0) {
        vt_err(&d.common, "%s", errstr);
        rc = VT_EXIT_USAGE;
        goto out;
    }
    d.conf = conf;
    if (d.cmd == CMD_SHOW || (d.cmd == CMD_LIST && d.json)) {
        vtev_conf_t *c1 = vtev_conf_dup(conf), *c2 = vtev_conf_dup(conf);
        if (!c1 || !c2 || !(d.serde = vtev_serde_new(c1, errstr, sizeof(errstr)))) {
            vtev_conf_destroy(c1);
            vtev_conf_destroy(c2);
            vt_err(&d.common, "schema registry: %s", c1 && c2 ? errstr : "out of memory");
            rc = VT_EXIT_USAGE;
            goto out;
        }
        if (!(d.reg = vtev_registry_new(c2, errstr, sizeof(errstr)))) {
            vtev_conf_destroy(c2);
            vt_err(&d.common, "schema registry: %s", errstr);
            rc = VT_EXIT_USAGE;
            goto out;
        }
    }
    if (d.cmd == CMD_STATS) {
        st.by_topic = json_object();
        st.by_otopic = json_object();
        st.by_code = json_object();
        st.by_reason = json_object();
        st.per_hour = json_object();
        st.oldest = st.newest = -1;
        if (!st.by_topic || !st.by_otopic || !st.by_code || !st.by_reason || !st.per_hour) {
            vt_err(&d.common, "out of memory");
            rc = VT_EXIT_FAIL;
            goto out;
        }
    }
    signals_install();
    if (optind < argc) {
        for (i = (size_t)optind; i < (size_t)argc && !vt_stop; i++)
            if (do_topic(&d, argv[i], &st, true))
                rc = VT_EXIT_FAIL;
    } else {
        vtev_event_type_t t;
        for (t = VTEV_EVENT_POSITION; t <= VTEV_EVENT_RESULT && !vt_stop; t++) {
            char *base = vt_topic_of(conf, t), *suffix = vt_conf_str(conf, "dlq.suffix"), name[600];
            if (!base || !suffix) {
                free(base);
                free(suffix);
                vt_err(&d.common, "out of memory");
                rc = VT_EXIT_FAIL;
                break;
            }
            snprintf(name, sizeof(name), "%s%s", base, suffix);
            free(base);
            free(suffix);
            r = do_topic(&d, name, &st, false);
            if (r == 3 && d.common.verbosity >= 2)
                vt_err(&d.common, "%s does not exist: skipped", name);
            else if (r == 1)
                rc = VT_EXIT_FAIL;
        }
    }
    if (d.cmd == CMD_STATS && rc == VT_EXIT_OK && print_stats(&d, &st) != 0)
        rc = VT_EXIT_FAIL;
    if (d.write_failed)
        rc = VT_EXIT_FAIL;
    if ((d.cmd == CMD_LIST || d.cmd == CMD_SHOW) && d.common.verbosity >= 2)
        vt_err(&d.common, "%lu dead letters", d.shown);
out:
    json_decref(st.by_topic);
    json_decref(st.by_otopic);
    json_decref(st.by_code);
    json_decref(st.by_reason);
    json_decref(st.per_hour);
    for (i = 0; i < d.sid_cnt; i++)
        vtev_avro_json_destroy(d.sids[i].codec);
    vtev_registry_destroy(d.reg);
    vtev_serde_destroy(d.serde);
    vtev_dlq_filter_destroy(d.filter);
    vtev_conf_destroy(conf);
    vt_common_clear(&d.common);
    return rc;
}
