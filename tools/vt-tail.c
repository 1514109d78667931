/*
 * vt-tail - read the platform's events, or the events of any schema in the
 * registry, from Kafka and print them as JSON lines.
 *
 *   vt-tail position                       # new position events, as they come
 *   vt-tail -o beginning -e --events-only request | vt-publish --json
 *
 * The tool is the library's read-only consumer (consumer.read.only, see
 * doc/consumer.md): without -g it assigns itself every partition of the
 * topics and reads without a consumer group (nothing is committed).  With
 * -g GROUP it joins the group, and the offset of every message it has
 * printed is committed (automatically every consumer.commit.interval.ms, and
 * on exit); a handler reports a message done only once its line was written
 * and flushed, and a write error holds the message and ends the tool after
 * committing what was written.  On a topic given with -t, a message whose
 * writer schema (fetched by its id) is not one of the platform's three is
 * printed in the JSON form of its own schema (<vtevents/avro_json.h>,
 * doc/codegen.md).  A message that cannot be decoded reaches the unhandled
 * callback, is printed as a JSON error object, and tailing goes on: a reader
 * never dead-letters.
 */
#include "common.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#define TOOL "vt-tail"

#define OPT_EVENTS_ONLY 900
#define OPT_PRETTY 901

/* Writer schemas of -t topics remembered by id (then forgotten all at once). */
#define SCHEMA_CACHE_MAX 256

typedef struct topic_s {
    char *name;
    vtev_event_type_t type; /* expected type, VTEV_EVENT_NONE for --topic */
} topic_t;

/* What a schema id of a -t topic is: a platform event (the serde decodes
 * it), another schema (its converter), or an unusable schema (why). */
typedef struct sid_s {
    int32_t id;
    bool platform;
    vtev_avro_json_t *codec;
    char *why;
} sid_t;

typedef struct tail_s {
    vt_common_t common;
    topic_t *topics;
    size_t topic_cnt;
    const char *offset_arg;
    const char *group;
    long long count;
    bool exit_eof;
    bool events_only;
    bool pretty;
    unsigned long printed;
    unsigned long undecodable;
    bool failed;
    bool write_failed; /* stdout could not be written: stop, commit what was printed */
    vtev_consumer_t *c;
    vtev_registry_t *reg;  /* writer schemas of -t topics, by id */
    const vtev_conf_t *conf;
    sid_t *sids;
    size_t sid_cnt;
} tail_t;

static void usage(FILE *out) {
    fprintf(out,
            "usage: " TOOL " [options] [position|request|result ...] [-t TOPIC ...]\n"
            "Prints the events of the given types (default: all three) or topics as JSON\n"
            "lines: {topic, partition, offset, key, timestamp, headers, schema_id, event}.\n"
            "\n"
            "  -t, --topic NAME          read topic NAME; each message's type comes from its\n"
            "                            writer schema: a platform event, or any other\n"
            "                            schema in the registry, printed in its JSON form\n"
            "                            (doc/codegen.md) (repeatable)\n"
            "  -o, --offset beginning|end|N|-N\n"
            "                            where to start in every partition: the first\n"
            "                            retained message, the end (default without -g),\n"
            "                            offset N, or N messages before the end. With -g,\n"
            "                            beginning|end only say where a group without a\n"
            "                            committed offset starts (default: beginning)\n"
            "  -g, --group GROUP         read as consumer group GROUP and commit the offset\n"
            "                            of every printed message; without -g nothing is\n"
            "                            committed\n"
            "  -c, --count N             exit after N messages\n"
            "  -e, --exit                exit when every partition is at its end\n"
            "      --events-only         print only the event (its JSON form), so that\n"
            "                            `" TOOL " --events-only ... | vt-publish --json`\n"
            "                            republishes the events unchanged\n"
            "      --pretty              indented, multi-line JSON for people\n"
            "\n"
            "A message that cannot be decoded is printed on stdout as\n"
            "  {\"error\": CODE, \"reason\": TEXT, \"topic\", \"partition\", \"offset\"}\n"
            "and tailing goes on; their number is printed on stderr at exit.\n"
            "\n" VT_COMMON_HELP
            "\n"
            "Exit status: 0 stopped (end reached with -e, count reached with -c, SIGINT or\n"
            "SIGTERM), also when some messages could not be decoded; 1 runtime failure\n"
            "(broker, unknown topic, stdout cannot be written: the offsets of the lines\n"
            "written are committed, no others); 2 usage or invalid configuration.\n"
            "See vt-tail(1).\n");
}

/* ---- output -------------------------------------------------------------- */

/* Writes @p len bytes of @p s and a newline to stdout and flushes: the line
 * is out of the process when this returns 0, and only then may its offset be
 * stored.  A write error (EPIPE once the reader has gone, ENOSPC, ...) is
 * reported once, stops the tool and returns -1. */
static int emit_line(tail_t *t, const char *s, size_t len) {
    if (t->write_failed)
        return -1;
    errno = 0;
    if (fwrite(s, 1, len, stdout) != len || fputc('\n', stdout) == EOF ||
        fflush(stdout) == EOF) {
        vt_err(&t->common, "cannot write to standard output: %s; stopping after %lu messages",
               errno ? strerror(errno) : "write error", t->printed);
        t->write_failed = true;
        t->failed = true;
        vt_stop = 1;
        return -1;
    }
    return 0;
}

/* 0 written, -1 not (write error or out of memory: the tool stops). */
static int print_json(tail_t *t, json_t *o) {
    char *s = json_dumps(o, JSON_PRESERVE_ORDER | (t->pretty ? JSON_INDENT(2) : 0));
    int rc;
    if (!s) {
        vt_err(&t->common, "out of memory");
        t->failed = true;
        vt_stop = 1;
        return -1;
    }
    rc = emit_line(t, s, strlen(s));
    free(s);
    return rc;
}

static int print_undecodable(tail_t *t, const vtev_msg_info_t *info, vtev_err_t err,
                             const char *reason) {
    json_t *o = json_object();
    int rc;
    t->undecodable++;
    if (!o) {
        vt_err(&t->common, "out of memory");
        t->failed = true;
        vt_stop = 1;
        return -1;
    }
    json_object_set_new(o, "error", json_string(vtev_err2name(err)));
    {
        json_t *r = json_string(reason);
        json_object_set_new(o, "reason", r ? r : json_string("(reason not UTF-8)"));
    }
    json_object_set_new(o, "topic", json_string(info->topic));
    json_object_set_new(o, "partition", json_integer(info->partition));
    json_object_set_new(o, "offset", json_integer(info->offset));
    rc = print_json(t, o);
    json_decref(o);
    return rc;
}

static vtev_event_type_t expected_type(const tail_t *t, const char *topic) {
    size_t i;
    for (i = 0; i < t->topic_cnt; i++)
        if (strcmp(t->topics[i].name, topic) == 0)
            return t->topics[i].type;
    return VTEV_EVENT_NONE;
}

/* The envelope {topic, partition, offset, key, timestamp, headers, schema_id}
 * of a message, as a JSON object (NULL when out of memory).  Headers are
 * data: whatever their names and values, they stay inside "headers". */
static json_t *envelope_json(const vtev_msg_info_t *info) {
    json_t *o = json_object(), *hdrs = json_object();
    size_t idx;
    if (!o || !hdrs) {
        json_decref(o);
        json_decref(hdrs);
        return NULL;
    }
    json_object_set_new(o, "topic", json_string(info->topic));
    json_object_set_new(o, "partition", json_integer(info->partition));
    json_object_set_new(o, "offset", json_integer(info->offset));
    json_object_set_new(o, "key", vt_bytes_json(info->key, info->key_len));
    json_object_set_new(o, "timestamp",
                        info->timestamp_ms >= 0 ? json_integer(info->timestamp_ms) : json_null());
    for (idx = 0; idx < info->header_cnt; idx++) {
        const vtev_header_t *h = &info->headers[idx];
        json_t *v = vt_bytes_json(h->value, h->value_len), *prev = json_object_get(hdrs, h->name);
        if (!v)
            goto nomem;
        if (prev && json_is_array(prev)) {
            json_array_append_new(prev, v);
        } else if (prev) {
            /* a repeated header becomes an array of its values */
            json_t *arr = json_array();
            if (!arr) {
                json_decref(v);
                goto nomem;
            }
            json_array_append(arr, prev);
            json_array_append_new(arr, v);
            json_object_set_new(hdrs, h->name, arr);
        } else {
            json_object_set_new(hdrs, h->name, v);
        }
    }
    json_object_set_new(o, "headers", hdrs);
    json_object_set_new(o, "schema_id", json_integer(info->schema_id));
    return o;
nomem:
    json_decref(hdrs);
    json_decref(o);
    return NULL;
}

/* Prints {topic, partition, offset, key, timestamp, headers, schema_id, event}.
 * The envelope is a JSON object serialised by jansson; the event is the
 * library's own JSON text (so numbers keep the library's shortest round-trip
 * form, which jansson's "%.17g" would not), appended as the object's last
 * member at the position where jansson's text of the object ends: nothing in
 * the envelope's values is searched.  0 written, -1 not. */
static int print_envelope(tail_t *t, const vtev_msg_info_t *info, const char *ejson) {
    json_t *o = envelope_json(info);
    char *line = NULL;
    size_t n = 0;
    int rc = -1;
    if (!o || !(line = vt_json_with_event(o, ejson, t->pretty, &n))) {
        vt_err(&t->common, "out of memory");
        t->failed = true;
        vt_stop = 1;
    } else {
        rc = emit_line(t, line, n);
    }
    free(line);
    json_decref(o);
    return rc;
}

static void sids_clear(tail_t *t) {
    size_t i;
    for (i = 0; i < t->sid_cnt; i++) {
        vtev_avro_json_destroy(t->sids[i].codec);
        free(t->sids[i].why);
    }
    free(t->sids);
    t->sids = NULL;
    t->sid_cnt = 0;
}

/* Whether the schema text is one of the platform's events (by its full
 * name, as the serde decides; an evolved version resolves into it). */
static bool is_platform_schema(const char *text) {
    json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
    const char *name = json_string_value(json_object_get(j, "name")),
               *ns = json_string_value(json_object_get(j, "namespace"));
    char full[512];
    bool yes = false;
    int i;
    if (name) {
        if (strchr(name, '.') || !ns || !*ns)
            snprintf(full, sizeof(full), "%s", name);
        else
            snprintf(full, sizeof(full), "%s.%s", ns, name);
        for (i = VTEV_EVENT_POSITION; i <= VTEV_EVENT_RESULT; i++)
            if (!strcmp(full, vtev_schema_fullname(vtev_event_schema((vtev_event_type_t)i))))
                yes = true;
    }
    json_decref(j);
    return yes;
}

/* The entry of schema id (fetched from the registry the first time); NULL
 * with err and errstr set when the registry did not give it (not
 * remembered: a transient failure is retried with the next message). */
static const sid_t *sid_get(tail_t *t, int32_t id, vtev_err_t *err, char *errstr, size_t errstr_size) {
    char *text = NULL, why[1024];
    sid_t *ns, e;
    size_t i;
    for (i = 0; i < t->sid_cnt; i++)
        if (t->sids[i].id == id)
            return &t->sids[i];
    if ((*err = vtev_registry_get_schema(t->reg, id, &text, errstr, errstr_size)) != VTEV_ERR_OK)
        return NULL;
    memset(&e, 0, sizeof(e));
    e.id = id;
    e.platform = is_platform_schema(text);
    if (!e.platform && !(e.codec = vtev_avro_json_new(text, t->conf, why, sizeof(why))) &&
        !(e.why = strdup(why))) {
        vtev_free(text);
        *err = VTEV_ERR_NOMEM;
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    vtev_free(text);
    if (t->sid_cnt == SCHEMA_CACHE_MAX)
        sids_clear(t);
    if (!(ns = realloc(t->sids, (t->sid_cnt + 1) * sizeof(*ns)))) {
        vtev_avro_json_destroy(e.codec);
        free(e.why);
        *err = VTEV_ERR_NOMEM;
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    t->sids = ns;
    t->sids[t->sid_cnt] = e;
    return &t->sids[t->sid_cnt++];
}

/* Prints the JSON text of an event, alone or in its envelope. */
static int print_event(tail_t *t, const vtev_msg_info_t *info, const char *ejson) {
    if (t->events_only)
        return emit_line(t, ejson, strlen(ejson));
    return print_envelope(t, info, ejson);
}

/* A line was written for a message: its offset may be stored now. */
static vtev_verdict_t printed(tail_t *t) {
    t->printed++;
    if (t->count > 0 && (long long)t->printed >= t->count)
        vt_stop = 1;
    return VTEV_VERDICT_OK;
}

/* The handler of the platform's events. */
static vtev_verdict_t on_event(vtev_consumer_t *c, const vtev_event_t *ev,
                               const vtev_msg_info_t *info, void *opaque) {
    tail_t *t = opaque;
    char *ejson = NULL;
    int rc;
    (void)c;
    if (vtev_event_to_json(ev, t->pretty ? VTEV_JSON_PRETTY : 0, &ejson, NULL) != VTEV_ERR_OK)
        rc = print_undecodable(t, info, VTEV_ERR_NOMEM, "cannot write the event as JSON");
    else
        rc = print_event(t, info, ejson);
    vtev_free(ejson);
    /* not written: hold it (its offset is not stored) while the tool stops */
    return rc == 0 ? printed(t) : VTEV_VERDICT_RETRY_ENV;
}

/* A message of a -t topic whose writer schema is not a platform event,
 * printed in its schema's JSON form.  1 when the schema is a platform one
 * (the library's reason stands), 0 written, -1 not written, -2 registry
 * trouble (hold the message). */
static int print_generic(tail_t *t, const void *value, size_t len, const vtev_msg_info_t *info) {
    const void *payload;
    size_t plen;
    int32_t id;
    char errstr[1024];
    vtev_err_t err;
    const sid_t *sid;
    char *ejson = NULL;
    int rc;
    if (vtev_frame_parse(value, len, &id, &payload, &plen, errstr, sizeof(errstr)) != VTEV_ERR_OK)
        return 1;
    if (!(sid = sid_get(t, id, &err, errstr, sizeof(errstr)))) {
        if (vtev_err_is_retriable(err) || err == VTEV_ERR_REGISTRY) {
            vt_err(&t->common, "%s [%d] offset %lld: schema registry: %s (retrying)", info->topic,
                   (int)info->partition, (long long)info->offset, errstr);
            return -2;
        }
        return print_undecodable(t, info, err, errstr);
    }
    if (sid->platform)
        return 1;
    if (!sid->codec) {
        snprintf(errstr, sizeof(errstr), "writer schema %d: %s", (int)id, sid->why);
        return print_undecodable(t, info, VTEV_ERR_SCHEMA, errstr);
    }
    err = vtev_avro_json_from_avro(sid->codec, payload, plen, t->pretty ? VTEV_AVRO_JSON_PRETTY : 0,
                                   &ejson, NULL, errstr, sizeof(errstr));
    if (err != VTEV_ERR_OK)
        return print_undecodable(t, info, err, errstr);
    rc = print_event(t, info, ejson); /* info->schema_id is this id */
    vtev_free(ejson);
    return rc;
}

/* What the library could not decode (or, on a -t topic, could not decode as
 * a platform event): printed in its schema's form or as an error object. */
static vtev_verdict_t on_unhandled(vtev_consumer_t *c, vtev_err_t err, const char *reason,
                                   const void *value, size_t value_len,
                                   const vtev_msg_info_t *info, void *opaque) {
    tail_t *t = opaque;
    int rc = 1;
    (void)c;
    if (expected_type(t, info->topic) == VTEV_EVENT_NONE && t->reg && value &&
        err != VTEV_ERR_BAD_MAGIC && err != VTEV_ERR_SHORT_BUFFER)
        rc = print_generic(t, value, value_len, info);
    if (rc == -2)
        return VTEV_VERDICT_RETRY_ENV; /* the registry's trouble: the message comes again */
    if (rc == 1) {
        rc = print_undecodable(t, info, err, value ? reason : "empty (null) value");
    }
    return rc == 0 ? printed(t) : VTEV_VERDICT_RETRY_ENV;
}

/* -e: stop once every assigned partition is at its end. */
static void on_eof(vtev_consumer_t *c, const char *topic, int32_t partition, int64_t offset,
                   bool all_at_end, void *opaque) {
    tail_t *t = opaque;
    (void)c;
    if (t->common.verbosity >= 2)
        vt_err(&t->common, "%s [%d]: at the end (offset %lld)", topic, (int)partition,
               (long long)offset);
    if (t->exit_eof && all_at_end)
        vt_stop = 1;
}

/* Registry trouble that holds a message (retried by the library). */
static void on_env_error(vtev_consumer_t *c, vtev_err_t err, const char *reason,
                         const vtev_msg_info_t *info, void *opaque) {
    tail_t *t = opaque;
    (void)c;
    if (info->attempt == 1 || info->attempt % 10 == 0 || t->common.verbosity >= 2)
        vt_err(&t->common, "%s: %s (retry %d)", vtev_err2name(err), reason, info->attempt);
}

/* Validates -o: beginning, end, N or -N. */
static int valid_offset(const char *s) {
    long long n;
    return !strcmp(s, "beginning") || !strcmp(s, "end") ||
           (vt_parse_int64(s, &n) == 0 && !(n == 0 && *s == '-'));
}

static int add_topic(tail_t *t, char *name, vtev_event_type_t type) {
    topic_t *nt;
    size_t i;
    for (i = 0; i < t->topic_cnt; i++)
        if (strcmp(t->topics[i].name, name) == 0) {
            if (t->topics[i].type != type)
                t->topics[i].type = VTEV_EVENT_NONE;
            free(name);
            return 0;
        }
    nt = realloc(t->topics, (t->topic_cnt + 1) * sizeof(*nt));
    if (!nt) {
        free(name);
        return -1;
    }
    t->topics = nt;
    t->topics[t->topic_cnt].name = name;
    t->topics[t->topic_cnt].type = type;
    t->topic_cnt++;
    return 0;
}

int main(int argc, char **argv) {
    static tail_t t;
    static const struct option longopts[] = {
        VT_COMMON_LONGOPTS,
        {"topic", required_argument, NULL, 't'},
        {"offset", required_argument, NULL, 'o'},
        {"group", required_argument, NULL, 'g'},
        {"count", required_argument, NULL, 'c'},
        {"exit", no_argument, NULL, 'e'},
        {"events-only", no_argument, NULL, OPT_EVENTS_ONLY},
        {"pretty", no_argument, NULL, OPT_PRETTY},
        {NULL, 0, NULL, 0},
    };
    const char **topic_args = NULL;
    size_t topic_arg_cnt = 0, i;
    vtev_event_type_t types[3];
    size_t type_cnt = 0;
    vtev_conf_t *conf = NULL, *cconf = NULL, *sconf;
    char errstr[1024];
    int opt, rc = VT_EXIT_OK;
    bool need_reg = false;
    vtev_err_t err;

    vt_common_init(&t.common, TOOL);
    t.count = -1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, VT_COMMON_SHORTOPTS "t:o:g:c:e", longopts, NULL)) !=
           -1) {
        int r = vt_common_opt(&t.common, opt, optarg);
        if (r < 0) {
            vt_err(&t.common, "out of memory");
            return VT_EXIT_FAIL;
        }
        if (r > 0)
            continue;
        switch (opt) {
        case 't': {
            const char **na = realloc(topic_args, (topic_arg_cnt + 1) * sizeof(*na));
            if (!na) {
                vt_err(&t.common, "out of memory");
                return VT_EXIT_FAIL;
            }
            topic_args = na;
            topic_args[topic_arg_cnt++] = optarg;
            break;
        }
        case 'o':
            if (!valid_offset(optarg)) {
                vt_err(&t.common, "-o: \"%s\" is not beginning, end or an offset", optarg);
                return VT_EXIT_USAGE;
            }
            t.offset_arg = optarg;
            break;
        case 'g':
            if (!*optarg) {
                vt_err(&t.common, "-g: the group name must not be empty");
                return VT_EXIT_USAGE;
            }
            t.group = optarg;
            break;
        case 'c':
            if (vt_parse_int64(optarg, &t.count) != 0 || t.count < 1) {
                vt_err(&t.common, "-c: \"%s\" is not a positive integer", optarg);
                return VT_EXIT_USAGE;
            }
            break;
        case 'e':
            t.exit_eof = true;
            break;
        case OPT_EVENTS_ONLY:
            t.events_only = true;
            break;
        case OPT_PRETTY:
            t.pretty = true;
            break;
        case ':':
            vt_err(&t.common, "%s: needs a value (see --help)", argv[optind - 1]);
            return VT_EXIT_USAGE;
        default:
            vt_err(&t.common, "%s: unknown option (see --help)", argv[optind - 1]);
            return VT_EXIT_USAGE;
        }
    }
    if (t.common.want_help) {
        usage(stdout);
        return VT_EXIT_OK;
    }
    if (t.common.want_version) {
        vt_common_print_version(&t.common);
        return VT_EXIT_OK;
    }
    for (; optind < argc; optind++) {
        vtev_event_type_t ty = vt_type_from_arg(argv[optind]);
        if (ty == VTEV_EVENT_NONE) {
            vt_err(&t.common, "%s: not an event type (position, request, result); "
                              "use -t for a topic", argv[optind]);
            return VT_EXIT_USAGE;
        }
        if (type_cnt < 3)
            types[type_cnt++] = ty;
    }
    if (t.group && t.offset_arg && strcmp(t.offset_arg, "beginning") != 0 &&
        strcmp(t.offset_arg, "end") != 0) {
        vt_err(&t.common, "-o %s: with -g only beginning or end (where a group without "
                          "committed offsets starts)", t.offset_arg);
        return VT_EXIT_USAGE;
    }

    conf = vt_common_conf(&t.common, &rc);
    if (!conf)
        return rc;
    if (type_cnt == 0 && topic_arg_cnt == 0) {
        types[0] = VTEV_EVENT_POSITION;
        types[1] = VTEV_EVENT_REQUEST;
        types[2] = VTEV_EVENT_RESULT;
        type_cnt = 3;
    }
    for (i = 0; i < type_cnt; i++) {
        char *name = vt_topic_of(conf, types[i]);
        if (!name || add_topic(&t, name, types[i]) != 0) {
            vt_err(&t.common, "out of memory");
            rc = VT_EXIT_FAIL;
            goto out;
        }
    }
    for (i = 0; i < topic_arg_cnt; i++) {
        char *name = strdup(topic_args[i]);
        if (!name || add_topic(&t, name, VTEV_EVENT_NONE) != 0) {
            vt_err(&t.common, "out of memory");
            rc = VT_EXIT_FAIL;
            goto out;
        }
    }

    if (vt_real_brokers(conf, errstr, sizeof(errstr)) != 0) {
        vt_err(&t.common, "%s", errstr);
        rc = VT_EXIT_USAGE;
        goto out;
    }
    t.conf = conf;
    for (i = 0; i < t.topic_cnt && !need_reg; i++)
        need_reg = t.topics[i].type == VTEV_EVENT_NONE;
    if (need_reg) { /* the writer schemas of topics of no one type (-t), by id */
        if (!(sconf = vtev_conf_dup(conf))) {
            vt_err(&t.common, "out of memory");
            rc = VT_EXIT_FAIL;
            goto out;
        }
        t.reg = vtev_registry_new(sconf, errstr, sizeof(errstr));
        if (!t.reg) {
            vtev_conf_destroy(sconf);
            vt_err(&t.common, "schema registry: %s", errstr);
            rc = VT_EXIT_USAGE;
            goto out;
        }
    }

    /* the library's reader: never dead-letters, commits only with -g */
    if (!(cconf = vtev_conf_dup(conf))) {
        vt_err(&t.common, "out of memory");
        rc = VT_EXIT_FAIL;
        goto out;
    }
#define CSET(k, v)                                                                            \
    do {                                                                                      \
        if (vtev_conf_set(cconf, k, v, errstr, sizeof(errstr)) != VTEV_CONF_OK) {             \
            vt_err(&t.common, "%s", errstr);                                                  \
            rc = VT_EXIT_USAGE;                                                               \
            goto out;                                                                         \
        }                                                                                     \
    } while (0)
    CSET("consumer.read.only", "true");
    /* an unknown schema id is reported at once, not re-checked first */
    if (!vtev_conf_is_set(conf, "consumer.schema.not.found.retry.ms"))
        CSET("consumer.schema.not.found.retry.ms", "0");
    if (t.group) {
        CSET("group.id", t.group);
        if (t.offset_arg)
            CSET("consumer.offset.reset", strcmp(t.offset_arg, "end") == 0 ? "latest" : "earliest");
    } else {
        CSET("group.id", "");
        CSET("consumer.start.offset", t.offset_arg ? t.offset_arg : "end");
    }
#undef CSET
    if (!(t.c = vtev_consumer_new(cconf, errstr, sizeof(errstr)))) {
        vt_err(&t.common, "%s", errstr);
        rc = VT_EXIT_USAGE;
        goto out;
    }
    cconf = NULL; /* owned by the consumer */
    vtev_consumer_set_unhandled_cb(t.c, on_unhandled, &t);
    vtev_consumer_set_eof_cb(t.c, on_eof, &t);
    vtev_consumer_set_error_cb(t.c, on_env_error, &t);
    vt_signals_install();

    for (i = 0; i < t.topic_cnt; i++) {
        if (t.topics[i].type != VTEV_EVENT_NONE)
            err = vtev_consumer_subscribe(t.c, t.topics[i].type, t.topics[i].name, on_event, &t,
                                          errstr, sizeof(errstr));
        else
            err = vtev_consumer_subscribe_topic(t.c, t.topics[i].name, errstr, sizeof(errstr));
        if (err != VTEV_ERR_OK) {
            vt_err(&t.common, "%s", errstr);
            rc = err == VTEV_ERR_INVALID_ARG ? VT_EXIT_USAGE : VT_EXIT_FAIL;
            goto close;
        }
    }
    /* a topic read with -t may carry any of the three events */
    for (i = VTEV_EVENT_POSITION; i <= VTEV_EVENT_RESULT; i++)
        vtev_consumer_set_handler(t.c, (vtev_event_type_t)i, on_event, &t);

    while (!vt_stop) {
        if ((err = vtev_consumer_poll(t.c, 200, errstr, sizeof(errstr))) != VTEV_ERR_OK) {
            vt_err(&t.common, "%s", errstr);
            t.failed = true;
            break;
        }
    }
    fflush(stdout);

close:
    /* commits the offsets of the lines written (with -g) and leaves the group */
    if (vtev_consumer_close(t.c, errstr, sizeof(errstr)) != VTEV_ERR_OK) {
        vt_err(&t.common, "%s", errstr);
        t.failed = true;
    }
    if (t.undecodable)
        vt_err(&t.common, "%lu messages could not be decoded", t.undecodable);
    if (t.common.verbosity >= 2)
        vt_err(&t.common, "%lu messages", t.printed);
    if (t.failed && rc == VT_EXIT_OK)
        rc = VT_EXIT_FAIL;
out:
    vtev_consumer_destroy(t.c);
    vtev_conf_destroy(cconf);
    sids_clear(&t);
    vtev_registry_destroy(t.reg);
    vtev_conf_destroy(conf);
    for (i = 0; i < t.topic_cnt; i++)
        free(t.topics[i].name);
    free(t.topics);
    free(topic_args);
    vt_common_clear(&t.common);
    return rc;
}
