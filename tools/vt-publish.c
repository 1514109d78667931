/*
 * vt-publish - publish the platform's events, Avro-encoded in the Confluent
 * wire format, from command-line flags or from JSON lines; or JSON lines of
 * any Avro schema (--schema FILE -t TOPIC), as Confluent's console producer.
 *
 *   vt-publish position --vessel lng-001 --lat 29.7604 --lon -95.3698 \
 *              --speed 12.5 --heading 275
 *   vt-tail --events-only -e position | vt-publish --json
 *   vt-publish --schema arrival.avsc -t arrivals --json -f arrivals.jsonl
 *
 * Flags are turned into the event's JSON form and go through the same
 * parser and validation as --json input, so both report errors the same way
 * (a flag's error names the flag instead of the field path).
 */
#include "common.h"

#include <errno.h>
#include <getopt.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#define TOOL "vt-publish"

/* ---- flags of the three event types ------------------------------------ */

enum flag_kind { K_STR, K_NUM, K_INT };

#define T_POS (1u << VTEV_EVENT_POSITION)
#define T_REQ (1u << VTEV_EVENT_REQUEST)
#define T_RES (1u << VTEV_EVENT_RESULT)
#define T_ALL (T_POS | T_REQ | T_RES)

typedef struct flag_def_s {
    const char *name;     /* without the leading -- */
    enum flag_kind kind;
    unsigned types;       /* T_* mask of the types that take it */
    const char *path[4];  /* JSON path per type (index = vtev_event_type_t) */
    const char *help;
} flag_def_t;

#define SNAP(f) {NULL, "data." f, "data.vessel_snapshot." f, "data.vessel_snapshot." f}

static const flag_def_t flags[] = {
    {"vessel", K_STR, T_ALL, {NULL, "vessel_id", "vessel_id", "vessel_id"}, "vessel id (the Kafka key)"},
    {"event-id", K_STR, T_ALL, {NULL, "event_id", "event_id", "event_id"}, "UUID (default: a new UUID v4)"},
    {"timestamp", K_STR, T_ALL, {NULL, "timestamp", "timestamp", "timestamp"}, "ISO-8601 UTC time (default: now)"},
    {"correlation-id", K_STR, T_ALL,
     {NULL, "metadata.correlation_id", "metadata.correlation_id", "metadata.correlation_id"},
     "metadata correlation_id"},
    {"lat", K_NUM, T_ALL, SNAP("lat"), "latitude, [-90, 90]"},
    {"lon", K_NUM, T_ALL, SNAP("lon"), "longitude, [-180, 180]"},
    {"speed", K_NUM, T_ALL, SNAP("speed"), "speed in knots, >= 0"},
    {"heading", K_NUM, T_ALL, SNAP("heading"), "heading in degrees, [0, 360)"},
    {"status", K_STR, T_ALL, SNAP("status"), "vessel status (default: underway)"},
    {"request-id", K_STR, T_REQ | T_RES, {NULL, NULL, "request_id", "request_id"},
     "request id (request default: req- + 8 hex digits)"},
    {"terminal-filter", K_INT, T_REQ, {NULL, NULL, "data.terminal_filter", NULL},
     "only this terminal id (optional)"},
    {"priority", K_STR, T_REQ, {NULL, NULL, "data.priority", NULL}, "low, normal (default) or high"},
    {"prediction-id", K_STR, T_RES, {NULL, NULL, NULL, "data.prediction_id"}, "prediction id"},
    {"terminal-id", K_INT, T_RES, {NULL, NULL, NULL, "data.terminal_id"}, "terminal number"},
    {"terminal-name", K_STR, T_RES, {NULL, NULL, NULL, "data.terminal_name"}, "terminal name"},
    {"confidence-score", K_NUM, T_RES, {NULL, NULL, NULL, "data.confidence_score"}, "[0, 1]"},
    {"proximity", K_NUM, T_RES, {NULL, NULL, NULL, "data.scores.proximity"}, "score, [0, 1]"},
    {"speed-score", K_NUM, T_RES, {NULL, NULL, NULL, "data.scores.speed"}, "score, [0, 1]"},
    {"heading-score", K_NUM, T_RES, {NULL, NULL, NULL, "data.scores.heading"}, "score, [0, 1]"},
    {"rag-boost", K_NUM, T_RES, {NULL, NULL, NULL, "data.scores.rag_boost"}, "score, [0, 0.3]"},
    {"ai-adjustment", K_NUM, T_RES, {NULL, NULL, NULL, "data.scores.ai_adjustment"}, "score, [-0.3, 0.3]"},
    {"distance-km", K_NUM, T_RES, {NULL, NULL, NULL, "data.distance_km"}, ">= 0"},
    {"eta-hours", K_NUM, T_RES, {NULL, NULL, NULL, "data.eta_hours"}, ">= 0 (optional)"},
    {"ai-reasoning", K_STR, T_RES, {NULL, NULL, NULL, "data.ai_reasoning"}, "free text (default: empty)"},
};
#define FLAG_CNT (sizeof(flags) / sizeof(flags[0]))

/* getopt values */
#define OPT_FLAG_BASE 1000
#define OPT_META 900
#define OPT_JSON 901
#define OPT_OUTPUT 902
#define OPT_SKIP 903
#define OPT_SCHEMA 904

/* The largest schema file read (a schema is far smaller). */
#define SCHEMA_FILE_MAX (16 * 1024 * 1024)

/* ---- state ------------------------------------------------------------- */

typedef struct pub_s {
    vt_common_t common;
    bool output_json;
    atomic_ulong delivered;
    atomic_ulong failed;
    FILE *out;
    /* --schema: the lines are JSON of this schema, published to topic */
    const char *topic;
    char *schema_text;
    vtev_avro_json_t *codec;
    vtev_buf_t avro; /* the last line's Avro bytes */
} pub_t;

static void usage(FILE *out) {
    size_t i;
    fprintf(out,
            "usage: " TOOL " [options] position|request|result --FLAG VALUE ...\n"
            "       " TOOL " [options] --json [-f FILE]\n"
            "       " TOOL " [options] --schema FILE.avsc -t TOPIC [--json] [-f FILE]\n"
            "Publishes events to Kafka, Avro-encoded in the Confluent wire format (schema\n"
            "ids from the schema registry), key = vessel_id, and waits for every delivery\n"
            "report. Prints one line per delivered event: EVENT_ID TOPIC PARTITION OFFSET.\n"
            "\n"
            "Event flags (each FLAG VALUE may also be written --FLAG=VALUE):\n");
    for (i = 0; i < FLAG_CNT; i++) {
        char types[32] = "";
        if (flags[i].types == T_ALL)
            snprintf(types, sizeof(types), "all");
        else
            snprintf(types, sizeof(types), "%s%s%s", (flags[i].types & T_POS) ? "position " : "",
                     (flags[i].types & T_REQ) ? "request " : "",
                     (flags[i].types & T_RES) ? "result" : "");
        fprintf(out, "  --%-18s %-9s %s [%s]\n", flags[i].name,
                flags[i].kind == K_STR ? "TEXT" : flags[i].kind == K_INT ? "INTEGER" : "NUMBER",
                flags[i].help, types);
    }
    fprintf(out,
            "  --meta KEY=VALUE                metadata entry, a string (repeatable) [all]\n"
            "  position needs --vessel --lat --lon --speed --heading; request the same;\n"
            "  result also --request-id --prediction-id --terminal-id --terminal-name\n"
            "  --confidence-score --proximity --speed-score --heading-score --rag-boost\n"
            "  --ai-adjustment --distance-km.\n"
            "\n"
            "Input and output:\n"
            "  --json                 read JSON events, one per line, from stdin (or -f);\n"
            "                         the type comes from each event's \"event_type\"; blank\n"
            "                         lines are ignored\n"
            "  --schema FILE.avsc     the lines are JSON of this Avro schema (any schema;\n"
            "                         the JSON form of doc/codegen.md), published to -t\n"
            "                         TOPIC, framed with the schema's id under the topic's\n"
            "                         subject (registered per auto.register.schemas);\n"
            "                         implies --json. Absent fields take their default\n"
            "  -t, --topic TOPIC      the topic of --schema events\n"
            "  -f, --file FILE        read the JSON lines from FILE instead of stdin\n"
            "  --skip-invalid         publish the valid lines, report and skip the others\n"
            "  -o, --output text|json one line per delivered event as text (default) or as\n"
            "                         a JSON object {line, event_id, topic, partition, offset};\n"
            "                         with --schema the text line starts with the input\n"
            "                         line number and the object has no event_id\n"
            "\n"
            "Invalid input:\n"
            "  Every bad line or flag is reported on stderr as `line N: FIELD: reason`\n"
            "  (`--FLAG: reason` for flags). By default (strict) ALL input is read and\n"
            "  validated first, and NOTHING is published when any line is bad: neither the\n"
            "  lines before nor the lines after it (exit 2). With --skip-invalid each bad\n"
            "  line is reported and skipped, every valid line (before and after it) is\n"
            "  published, the number of skipped lines is printed at the end, and the exit\n"
            "  status is 2 when any line was skipped. Nothing is dropped without a message.\n"
            "  For an endless input stream use --skip-invalid (strict mode publishes only\n"
            "  once the input has ended).\n"
            "\n" VT_COMMON_HELP
            "\n"
            "Exit status: 0 every event delivered; 1 runtime failure (a delivery failed,\n"
            "broker or registry unreachable, interrupted); 2 usage or invalid input.\n"
            "See vt-publish(1).\n");
}

/* ---- JSON building from flags -------------------------------------------- */

/* Sets @p value at dotted @p path in @p root, creating objects on the way. */
static int json_set_path(json_t *root, const char *path, json_t *value) {
    char buf[256];
    char *seg, *dot;
    json_t *cur = root;
    snprintf(buf, sizeof(buf), "%s", path);
    seg = buf;
    while ((dot = strchr(seg, '.')) != NULL) {
        json_t *next;
        *dot = '\0';
        next = json_object_get(cur, seg);
        if (!next) {
            next = json_object();
            if (!next || json_object_set_new(cur, seg, next) != 0) {
                json_decref(value);
                return -1;
            }
        }
        cur = next;
        seg = dot + 1;
    }
    return json_object_set_new(cur, seg, value);
}

/* Rewrites "PATH: reason" from the library into "--FLAG: reason". */
static void flag_message(vtev_event_type_t type, const char *msg, char *out, size_t out_size) {
    const char *colon = strstr(msg, ": ");
    size_t i, plen;
    if (!colon) {
        snprintf(out, out_size, "%s", msg);
        return;
    }
    plen = (size_t)(colon - msg);
    for (i = 0; i < FLAG_CNT; i++) {
        const char *p = flags[i].path[type];
        if (p && strlen(p) == plen && strncmp(p, msg, plen) == 0) {
            snprintf(out, out_size, "--%s: %s", flags[i].name, colon + 2);
            return;
        }
    }
    if (plen > 9 && strncmp(msg, "metadata.", 9) == 0) {
        snprintf(out, out_size, "--meta %.*s: %s", (int)(plen - 9), msg + 9, colon + 2);
        return;
    }
    snprintf(out, out_size, "%s", msg);
}

/* ---- delivery reports ---------------------------------------------------- */

static void on_delivery(vtev_producer_t *p, const vtev_delivery_report_t *dr, void *opaque) {
    pub_t *st = opaque;
    unsigned long line = (unsigned long)(uintptr_t)dr->msg_opaque;
    (void)p;
    if (dr->err != VTEV_ERR_OK) {
        atomic_fetch_add(&st->failed, 1);
        if (line && !dr->event_id[0])
            fprintf(stderr, TOOL ": line %lu: not delivered to %s: %s\n", line, dr->topic,
                    dr->errstr[0] ? dr->errstr : vtev_err2str(dr->err));
        else if (line)
            fprintf(stderr, TOOL ": line %lu: event %s: not delivered to %s: %s\n", line,
                    dr->event_id, dr->topic, dr->errstr[0] ? dr->errstr : vtev_err2str(dr->err));
        else
            fprintf(stderr, TOOL ": event %s: not delivered to %s: %s\n", dr->event_id, dr->topic,
                    dr->errstr[0] ? dr->errstr : vtev_err2str(dr->err));
        return;
    }
    atomic_fetch_add(&st->delivered, 1);
    /* data, not a message: printed also with -q (which quiets stderr only) */
    if (st->output_json) {
        json_t *o = json_object();
        char *s;
        if (!o)
            return;
        if (line)
            json_object_set_new(o, "line", json_integer((json_int_t)line));
        if (dr->event_id && dr->event_id[0])
            json_object_set_new(o, "event_id", json_string(dr->event_id));
        json_object_set_new(o, "topic", json_string(dr->topic));
        json_object_set_new(o, "partition", json_integer(dr->partition));
        json_object_set_new(o, "offset", json_integer(dr->offset));
        s = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT);
        if (s) {
            fprintf(st->out, "%s\n", s);
            free(s);
        }
        json_decref(o);
    } else if (dr->event_id && dr->event_id[0]) {
        fprintf(st->out, "%s %s %d %lld\n", dr->event_id, dr->topic, (int)dr->partition,
                (long long)dr->offset);
    } else { /* --schema: no event id of the library's; the input line instead */
        fprintf(st->out, "%lu %s %d %lld\n", line, dr->topic, (int)dr->partition,
                (long long)dr->offset);
    }
}

static void on_error(vtev_producer_t *p, vtev_err_t err, const char *reason, void *opaque) {
    pub_t *st = opaque;
    (void)p;
    if (err == VTEV_ERR_FATAL || st->common.verbosity >= 1)
        fprintf(stderr, TOOL ": %s: %s\n", err == VTEV_ERR_FATAL ? "fatal" : "kafka", reason);
}

/* Publishes one event (with --schema: the Avro bytes of the last line
 * parsed), waiting while the local queue is full.
 * Returns VTEV_ERR_OK or the error (message in errstr). */
static vtev_err_t publish_one(pub_t *st, vtev_producer_t *p, const vtev_event_t *ev,
                              unsigned long line, char *errstr, size_t errstr_size) {
    vtev_err_t err;
    do {
        if (st->codec)
            err = vtev_producer_publish_avro(p, st->topic, st->schema_text, st->avro.data,
                                             st->avro.len, NULL, 0, NULL, 0,
                                             (void *)(uintptr_t)line, errstr, errstr_size);
        else
            err = vtev_producer_publish(p, ev, (void *)(uintptr_t)line, errstr, errstr_size);
    } while (err == VTEV_ERR_QUEUE_FULL && !vt_stop);
    return err;
}

/* Frees what a parsed line holds. */
static void line_clear(pub_t *st, vtev_event_t *ev) {
    if (!st->codec)
        vtev_event_clear(ev);
}

/* Waits for every outstanding delivery report, then closes the producer.
 * Returns the number of messages that were not delivered. */
static unsigned long finish(pub_t *st, vtev_producer_t *p) {
    size_t undelivered = 0;
    while (!vt_stop && vtev_producer_flush(p, 200) == VTEV_ERR_TIMED_OUT)
        ;
    vtev_producer_close(p, &undelivered);
    fflush(st->out);
    return (unsigned long)atomic_load(&st->failed);
}

/* ---- --json -------------------------------------------------------------- */

/* Parses and validates one line. Returns 0 with @p ev filled (caller
 * clears with line_clear()), or with --schema the line's Avro bytes in
 * st->avro; 1 for a blank line, -1 with @p msg set for a bad line. */
static int parse_line(pub_t *st, const char *line, size_t len, unsigned long lineno,
                      vtev_event_t *ev, char *msg, size_t msg_size) {
    char errstr[1024];
    size_t i;
    int jl, jc, n = 0;
    for (i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '\n')
            break;
    if (i == len)
        return 1;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (st->codec) {
        st->avro.len = 0;
        if (vtev_avro_json_to_avro(st->codec, line, len, 0, &st->avro, errstr, sizeof(errstr)) ==
            VTEV_ERR_OK)
            return 0;
    } else if (vtev_event_from_json(ev, line, len, errstr, sizeof(errstr)) == VTEV_ERR_OK) {
        if (vtev_event_validate(ev, errstr, sizeof(errstr)) == VTEV_ERR_OK)
            return 0;
        vtev_event_clear(ev);
        snprintf(msg, msg_size, "line %lu: %s", lineno, errstr);
        return -1;
    }
    {
        /* jansson's "line 1, column C: ..." becomes "line N: column C: malformed JSON: ..." */
        if (sscanf(errstr, "line %d, column %d: %n", &jl, &jc, &n) == 2 && n > 0)
            snprintf(msg, msg_size, "line %lu: column %d: malformed JSON: %s", lineno, jc,
                     errstr + n);
        else
            snprintf(msg, msg_size, "line %lu: %s", lineno, errstr);
        return -1;
    }
}

/* Reads the JSON lines and publishes them.  Strict mode reads the input once:
 * the validating pass copies every line to an unlinked temporary file, and
 * the events are published from that copy, so what is published is exactly
 * what was validated, even when the input file grows meanwhile. */
static int run_json(pub_t *st, vtev_conf_t *conf, const char *path, bool skip_invalid) {
    FILE *in = stdin, *spool = NULL, *src;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned long lineno = 0, bad = 0, good = 0, published = 0;
    char msg[1200], errstr[1024];
    vtev_producer_t *p = NULL;
    int rc = VT_EXIT_OK;
    bool stopped_early = false, interrupted = false;

    if (path && strcmp(path, "-") != 0) {
        in = fopen(path, "r");
        if (!in) {
            vt_err(&st->common, "%s: %s", path, strerror(errno));
            vtev_conf_destroy(conf);
            return VT_EXIT_USAGE;
        }
    }

    if (!skip_invalid) {
        /* Pass 1: validate everything; publish nothing if a line is bad. The
         * lines go to a private copy (never re-read the input: a file that is
         * appended to would publish lines that were not validated). */
        spool = tmpfile();
        if (!spool) {
            vt_err(&st->common, "cannot create a temporary file: %s", strerror(errno));
            rc = VT_EXIT_FAIL;
            goto out;
        }
        while (!vt_stop && (len = getline(&line, &cap, in)) >= 0) {
            vtev_event_t ev;
            int r;
            lineno++;
            if (fwrite(line, 1, (size_t)len, spool) != (size_t)len) {
                vt_err(&st->common, "temporary file: %s", strerror(errno));
                rc = VT_EXIT_FAIL;
                goto out;
            }
            r = parse_line(st, line, (size_t)len, lineno, &ev, msg, sizeof(msg));
            if (r == 0) {
                line_clear(st, &ev);
                good++;
            } else if (r < 0) {
                fprintf(stderr, "%s\n", msg);
                bad++;
            }
        }
        if (vt_stop) {
            vt_err(&st->common, "interrupted while reading line %lu: nothing was published",
                   lineno + 1);
            rc = VT_EXIT_FAIL;
            goto out;
        }
        if (ferror(in)) {
            vt_err(&st->common, "%s: read error: %s", path ? path : "stdin", strerror(errno));
            rc = VT_EXIT_FAIL;
            goto out;
        }
        if (bad) {
            vt_err(&st->common,
                   "%lu of %lu lines invalid: nothing was published (strict mode; "
                   "--skip-invalid publishes the valid lines)",
                   bad, lineno);
            rc = VT_EXIT_USAGE;
            goto out;
        }
        src = spool;
        if (fflush(spool) != 0 || fseeko(src, 0, SEEK_SET) != 0) {
            vt_err(&st->common, "temporary file: %s", strerror(errno));
            rc = VT_EXIT_FAIL;
            goto out;
        }
        clearerr(src);
    } else {
        src = in;
    }

    p = vtev_producer_new(conf, errstr, sizeof(errstr));
    if (!p) {
        vt_err(&st->common, "cannot create the producer: %s", errstr);
        vtev_conf_destroy(conf);
        conf = NULL;
        rc = VT_EXIT_FAIL;
        goto out;
    }
    conf = NULL; /* owned by the producer */
    vtev_producer_set_dr_cb(p, on_delivery, st);
    vtev_producer_set_error_cb(p, on_error, st);

    lineno = 0;
    while ((len = getline(&line, &cap, src)) >= 0) {
        vtev_event_t ev;
        int r;
        vtev_err_t err;
        if (vt_stop) {
            interrupted = true;
            break;
        }
        lineno++;
        r = parse_line(st, line, (size_t)len, lineno, &ev, msg, sizeof(msg));
        if (r > 0)
            continue;
        if (r < 0) {
            /* Only with --skip-invalid (strict mode validated everything). */
            fprintf(stderr, "%s\n", msg);
            bad++;
            continue;
        }
        err = publish_one(st, p, &ev, lineno, errstr, sizeof(errstr));
        line_clear(st, &ev);
        if (err == VTEV_ERR_QUEUE_FULL && vt_stop) {
            interrupted = true;
            break;
        }
        if (err == VTEV_ERR_INVALID) {
            fprintf(stderr, "line %lu: %s\n", lineno, errstr);
            bad++;
            continue;
        }
        if (err != VTEV_ERR_OK) {
            vt_err(&st->common, "line %lu: cannot publish: %s", lineno, errstr);
            stopped_early = true;
            break;
        }
        published++;
    }
    if (!interrupted && !stopped_early && vt_stop)
        interrupted = true;
    if (!interrupted && !stopped_early && ferror(src)) {
        vt_err(&st->common, "read error: %s", strerror(errno));
        stopped_early = true;
    }
    finish(st, p);
    p = NULL;
    if (stopped_early) {
        vt_err(&st->common, "stopped after line %lu: the lines after it were not published",
               lineno);
        rc = VT_EXIT_FAIL;
    }
    if (interrupted) {
        vt_err(&st->common, "interrupted: lines after %lu were not published", lineno);
        rc = VT_EXIT_FAIL;
    }
    if (atomic_load(&st->failed)) {
        vt_err(&st->common, "%lu of %lu events were not delivered",
               (unsigned long)atomic_load(&st->failed), published);
        rc = VT_EXIT_FAIL;
    }
    if (bad) {
        vt_err(&st->common, "%lu invalid lines skipped", bad);
        if (rc == VT_EXIT_OK)
            rc = VT_EXIT_USAGE;
    }
    if (st->common.verbosity >= 2)
        vt_err(&st->common, "%lu events delivered", (unsigned long)atomic_load(&st->delivered));
    (void)good;
out:
    if (p)
        finish(st, p);
    vtev_conf_destroy(conf);
    free(line);
    if (spool)
        fclose(spool);
    if (in != stdin)
        fclose(in);
    return rc;
}

/* ---- flags mode ---------------------------------------------------------- */

static int run_flags(pub_t *st, vtev_conf_t *conf, vtev_event_type_t type, const char **values,
                     const char **metas, size_t meta_cnt) {
    json_t *root = json_object();
    char *text = NULL;
    char errstr[1024], msg[1200];
    vtev_event_t ev;
    vtev_producer_t *p;
    size_t i;
    int rc = VT_EXIT_OK;
    bool has_ev = false;

    if (!root)
        goto nomem;
    json_object_set_new(root, "event_type", json_string(vtev_event_type_name(type)));
    for (i = 0; i < FLAG_CNT; i++) {
        const char *v = values[i];
        json_t *jv;
        if (!v) {
            if (strcmp(flags[i].name, "status") == 0)
                v = "underway";
            else if (strcmp(flags[i].name, "ai-reasoning") == 0 && type == VTEV_EVENT_RESULT)
                v = "";
            else
                continue;
        }
        if (!(flags[i].types & (1u << type))) {
            vt_err(&st->common, "--%s: not a flag of '%s' events", flags[i].name,
                   type == VTEV_EVENT_POSITION ? "position"
                   : type == VTEV_EVENT_REQUEST ? "request" : "result");
            rc = VT_EXIT_USAGE;
            goto out;
        }
        if (flags[i].kind == K_NUM) {
            double d;
            if (vt_parse_double(v, &d) != 0) {
                vt_err(&st->common, "--%s: \"%s\" is not a finite number", flags[i].name, v);
                rc = VT_EXIT_USAGE;
                goto out;
            }
            jv = json_real(d);
        } else if (flags[i].kind == K_INT) {
            long long n;
            if (vt_parse_int64(v, &n) != 0) {
                vt_err(&st->common, "--%s: \"%s\" is not an integer", flags[i].name, v);
                rc = VT_EXIT_USAGE;
                goto out;
            }
            jv = json_integer((json_int_t)n);
        } else {
            jv = json_string(v);
            if (!jv) {
                vt_err(&st->common, "--%s: not valid UTF-8", flags[i].name);
                rc = VT_EXIT_USAGE;
                goto out;
            }
        }
        if (!jv || json_set_path(root, flags[i].path[type], jv) != 0)
            goto nomem;
    }
    for (i = 0; i < meta_cnt; i++) {
        const char *eq = strchr(metas[i], '=');
        json_t *md, *jv;
        char key[VTEV_META_KEY_MAX + 2];
        size_t klen;
        if (!eq || eq == metas[i]) {
            vt_err(&st->common, "--meta %s: expected KEY=VALUE", metas[i]);
            rc = VT_EXIT_USAGE;
            goto out;
        }
        klen = (size_t)(eq - metas[i]);
        if (klen > VTEV_META_KEY_MAX) {
            vt_err(&st->common, "--meta %.*s...: key longer than %d bytes", 20, metas[i],
                   VTEV_META_KEY_MAX);
            rc = VT_EXIT_USAGE;
            goto out;
        }
        memcpy(key, metas[i], klen);
        key[klen] = '\0';
        md = json_object_get(root, "metadata");
        if (!md) {
            md = json_object();
            if (!md || json_object_set_new(root, "metadata", md) != 0)
                goto nomem;
        }
        jv = json_string(eq + 1);
        if (!jv) {
            vt_err(&st->common, "--meta %s: value is not valid UTF-8", key);
            rc = VT_EXIT_USAGE;
            goto out;
        }
        json_object_set_new(md, key, jv);
    }
    text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!text)
        goto nomem;
    if (st->common.verbosity >= 2)
        vt_err(&st->common, "event: %s", text);
    if (vtev_event_from_json(&ev, text, strlen(text), errstr, sizeof(errstr)) != VTEV_ERR_OK) {
        flag_message(type, errstr, msg, sizeof(msg));
        vt_err(&st->common, "%s", msg);
        rc = VT_EXIT_USAGE;
        goto out;
    }
    has_ev = true;
    if (vtev_event_validate(&ev, errstr, sizeof(errstr)) != VTEV_ERR_OK) {
        flag_message(type, errstr, msg, sizeof(msg));
        vt_err(&st->common, "%s", msg);
        rc = VT_EXIT_USAGE;
        goto out;
    }
    p = vtev_producer_new(conf, errstr, sizeof(errstr));
    if (!p) {
        vt_err(&st->common, "cannot create the producer: %s", errstr);
        rc = VT_EXIT_FAIL;
        goto out;
    }
    conf = NULL;
    vtev_producer_set_dr_cb(p, on_delivery, st);
    vtev_producer_set_error_cb(p, on_error, st);
    if (publish_one(st, p, &ev, 0, errstr, sizeof(errstr)) != VTEV_ERR_OK) {
        vt_err(&st->common, "cannot publish: %s", errstr);
        rc = VT_EXIT_FAIL;
    }
    finish(st, p);
    if (rc == VT_EXIT_OK && atomic_load(&st->delivered) != 1) {
        if (vt_stop && !atomic_load(&st->failed))
            vt_err(&st->common, "interrupted before the delivery report");
        rc = VT_EXIT_FAIL;
    }
out:
    if (has_ev)
        vtev_event_clear(&ev);
    free(text);
    json_decref(root);
    vtev_conf_destroy(conf);
    return rc;
nomem:
    vt_err(&st->common, "out of memory");
    rc = VT_EXIT_FAIL;
    goto out;
}

/* ---- --schema ------------------------------------------------------------ */

/* Reads the schema file and builds its converter (st->schema_text,
 * st->codec).  Returns VT_EXIT_OK, or the exit code after a message. */
static int load_schema(pub_t *st, const char *path, const vtev_conf_t *conf) {
    FILE *f = fopen(path, "rb");
    char errstr[1024], *text = NULL;
    size_t n = 0, cap = 0, got;
    if (!f) {
        vt_err(&st->common, "--schema %s: %s", path, strerror(errno));
        return VT_EXIT_USAGE;
    }
    do {
        if (n == cap) {
            char *nt = cap < SCHEMA_FILE_MAX ? realloc(text, (cap ? cap * 2 : 4096) + 1) : NULL;
            if (!nt) {
                bool big = cap >= SCHEMA_FILE_MAX;
                if (big)
                    vt_err(&st->common, "--schema %s: larger than 16 MiB", path);
                else
                    vt_err(&st->common, "out of memory");
                fclose(f);
                free(text);
                return big ? VT_EXIT_USAGE : VT_EXIT_FAIL;
            }
            text = nt;
            cap = cap ? cap * 2 : 4096;
        }
        got = fread(text + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    if (ferror(f)) {
        vt_err(&st->common, "--schema %s: %s", path, strerror(errno));
        fclose(f);
        free(text);
        return VT_EXIT_USAGE;
    }
    fclose(f);
    text[n] = '\0';
    if (strlen(text) != n) {
        vt_err(&st->common, "--schema %s: the file holds a NUL byte", path);
        free(text);
        return VT_EXIT_USAGE;
    }
    st->codec = vtev_avro_json_new(text, conf, errstr, sizeof(errstr));
    if (!st->codec) {
        vt_err(&st->common, "--schema %s: %s", path, errstr);
        free(text);
        return VT_EXIT_USAGE;
    }
    st->schema_text = text;
    if (st->common.verbosity >= 2)
        vt_err(&st->common, "--schema %s: events go to %s", path, st->topic);
    return VT_EXIT_OK;
}

/* ---- main ---------------------------------------------------------------- */

int main(int argc, char **argv) {
    static pub_t st;
    struct option *longopts;
    size_t nlong = 0, i;
    const char *values[FLAG_CNT];
    const char **metas = NULL;
    size_t meta_cnt = 0;
    bool json_mode = false, skip_invalid = false;
    const char *file = NULL, *schema_file = NULL;
    vtev_conf_t *conf;
    vtev_event_type_t type = VTEV_EVENT_NONE;
    int opt, rc = VT_EXIT_OK;
    static const struct option fixed[] = {
        VT_COMMON_LONGOPTS,
        {"json", no_argument, NULL, OPT_JSON},
        {"file", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"skip-invalid", no_argument, NULL, OPT_SKIP},
        {"meta", required_argument, NULL, OPT_META},
        {"schema", required_argument, NULL, OPT_SCHEMA},
        {"topic", required_argument, NULL, 't'},
    };
    const size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);

    vt_common_init(&st.common, TOOL);
    st.out = stdout;
    atomic_init(&st.delivered, 0);
    atomic_init(&st.failed, 0);
    memset(values, 0, sizeof(values));

    longopts = calloc(nfixed + FLAG_CNT + 1, sizeof(*longopts));
    if (!longopts) {
        vt_err(&st.common, "out of memory");
        { rc = VT_EXIT_FAIL; goto out; }
    }
    for (i = 0; i < nfixed; i++)
        longopts[nlong++] = fixed[i];
    for (i = 0; i < FLAG_CNT; i++) {
        longopts[nlong].name = flags[i].name;
        longopts[nlong].has_arg = required_argument;
        longopts[nlong].flag = NULL;
        longopts[nlong].val = OPT_FLAG_BASE + (int)i;
        nlong++;
    }

    opterr = 0;
    while ((opt = getopt_long(argc, argv, VT_COMMON_SHORTOPTS "f:o:t:", longopts, NULL)) != -1) {
        int r = vt_common_opt(&st.common, opt, optarg);
        if (r < 0) {
            vt_err(&st.common, "out of memory");
            { rc = VT_EXIT_FAIL; goto out; }
        }
        if (r > 0)
            continue;
        if (opt >= OPT_FLAG_BASE && opt < OPT_FLAG_BASE + (int)FLAG_CNT) {
            values[opt - OPT_FLAG_BASE] = optarg;
            continue;
        }
        switch (opt) {
        case OPT_JSON:
            json_mode = true;
            break;
        case 'f':
            file = optarg;
            break;
        case OPT_SCHEMA:
            schema_file = optarg;
            json_mode = true; /* the lines are JSON of the schema */
            break;
        case 't':
            if (!*optarg) {
                vt_err(&st.common, "-t: the topic name must not be empty");
                { rc = VT_EXIT_USAGE; goto out; }
            }
            st.topic = optarg;
            break;
        case 'o':
            if (strcmp(optarg, "json") == 0)
                st.output_json = true;
            else if (strcmp(optarg, "text") == 0)
                st.output_json = false;
            else {
                vt_err(&st.common, "--output: \"%s\" is not one of text, json", optarg);
                { rc = VT_EXIT_USAGE; goto out; }
            }
            break;
        case OPT_SKIP:
            skip_invalid = true;
            break;
        case OPT_META: {
            const char **nm = realloc(metas, (meta_cnt + 1) * sizeof(*nm));
            if (!nm) {
                vt_err(&st.common, "out of memory");
                { rc = VT_EXIT_FAIL; goto out; }
            }
            metas = nm;
            metas[meta_cnt++] = optarg;
            break;
        }
        case ':':
            vt_err(&st.common, "%s: needs a value (see --help)", argv[optind - 1]);
            { rc = VT_EXIT_USAGE; goto out; }
        default:
            vt_err(&st.common, "%s: unknown option (see --help)", argv[optind - 1]);
            { rc = VT_EXIT_USAGE; goto out; }
        }
    }
    free(longopts);
    longopts = NULL;
    if (st.common.want_help) {
        usage(stdout);
        { rc = VT_EXIT_OK; goto out; }
    }
    if (st.common.want_version) {
        vt_common_print_version(&st.common);
        { rc = VT_EXIT_OK; goto out; }
    }

    if (schema_file && !st.topic) {
        vt_err(&st.common, "--schema: give the topic with -t TOPIC");
        { rc = VT_EXIT_USAGE; goto out; }
    }
    if (st.topic && !schema_file) {
        vt_err(&st.common, "-t: only with --schema (the platform's events go to their "
                           "type's topic: -X topic.position=..., ...)");
        { rc = VT_EXIT_USAGE; goto out; }
    }
    if (json_mode) {
        if (optind < argc) {
            vt_err(&st.common, "%s: unexpected argument with --json", argv[optind]);
            { rc = VT_EXIT_USAGE; goto out; }
        }
        for (i = 0; i < FLAG_CNT; i++)
            if (values[i]) {
                vt_err(&st.common, "--%s: event flags cannot be combined with --json",
                       flags[i].name);
                { rc = VT_EXIT_USAGE; goto out; }
            }
        if (meta_cnt) {
            vt_err(&st.common, "--meta: event flags cannot be combined with --json");
            { rc = VT_EXIT_USAGE; goto out; }
        }
    } else {
        if (optind >= argc) {
            vt_err(&st.common, "give an event type (position, request, result) or --json; "
                               "see --help");
            { rc = VT_EXIT_USAGE; goto out; }
        }
        type = vt_type_from_arg(argv[optind]);
        if (type == VTEV_EVENT_NONE) {
            vt_err(&st.common, "%s: not an event type (position, request, result)",
                   argv[optind]);
            { rc = VT_EXIT_USAGE; goto out; }
        }
        if (optind + 1 < argc) {
            vt_err(&st.common, "%s: unexpected argument", argv[optind + 1]);
            { rc = VT_EXIT_USAGE; goto out; }
        }
        if (file || skip_invalid) {
            vt_err(&st.common, "%s: only with --json", file ? "--file" : "--skip-invalid");
            { rc = VT_EXIT_USAGE; goto out; }
        }
    }

    conf = vt_common_conf(&st.common, &rc);
    if (!conf)
        goto out;
    if (schema_file && (rc = load_schema(&st, schema_file, conf)) != VT_EXIT_OK) {
        vtev_conf_destroy(conf);
        goto out;
    }
    vt_signals_install();
    if (json_mode)
        rc = run_json(&st, conf, file, skip_invalid);
    else
        rc = run_flags(&st, conf, type, values, metas, meta_cnt);
out:
    free(longopts);
    free(metas);
    vtev_avro_json_destroy(st.codec);
    free(st.schema_text);
    vtev_buf_free(&st.avro);
    vt_common_clear(&st.common);
    return rc;
}
