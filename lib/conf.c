/*
 * conf.c - vtev_conf_t: library keys, kafka.* pass-through, files, environment.
 */
#include "conf_int.h"
#include "log_int.h"
#include "mock_cluster.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T_STR VTEV__PROP_STR
#define T_INT VTEV__PROP_INT
#define T_BOOL VTEV__PROP_BOOL
#define T_ENUM VTEV__PROP_ENUM
typedef vtev__prop_t prop_t;

/* Every library key: the one source of doc/CONFIGURATION.md too, which
 * doc/conf_doc.c writes from this table (name, type, default, range,
 * description) and doc/CONFIGURATION.md.in; the configuration_doc test
 * fails when the committed file is stale. Descriptions are Markdown. */
#define S_GENERAL "General"
#define S_REGISTRY "Schema registry"
#define S_LIMITS "Decoding untrusted data"
#define S_PRODUCER "Producer"
#define S_CONSUMER "Consumer"
static const prop_t props[] = {
    {"bootstrap.servers", T_STR, "mock://default", 0, 0, NULL, false, S_GENERAL,
     "Kafka brokers `host:port,...`. `mock://NAME` is the embedded in-process mock cluster "
     "(librdkafka's), shared by every handle of that name in the process: zero-setup default "
     "for demos and tests."},
    {"client.id", T_STR, "vtevents", 0, 0, NULL, false, S_GENERAL,
     "client id sent to the brokers"},
    {"log.level", T_INT, "6", 0, 7, NULL, false, S_GENERAL,
     "syslog level: lines at or below it go to the log callback, else to stderr"},
    {"log.format", T_ENUM, "text", 0, 0, "|text|json|", false, S_GENERAL,
     "default log output (without a log callback): `text` lines "
     "`%vtevents|LEVEL|COMPONENT| message`, or `json` lines with time, level, component, "
     "message and the handled message's topic, event_id, correlation_id and trace_id "
     "(include/vtevents/log.h)"},
    {"topic.position", T_STR, "vessel-position-updates", 0, 0, NULL, false, S_GENERAL,
     "topic of `vessel.position.updated`"},
    {"topic.request", T_STR, "prediction-requests", 0, 0, NULL, false, S_GENERAL,
     "topic of `prediction.analysis.requested`"},
    {"topic.result", T_STR, "prediction-results", 0, 0, NULL, false, S_GENERAL,
     "topic of `prediction.analysis.completed`"},
    {"dlq.suffix", T_STR, ".dlq", 0, 0, NULL, false, S_GENERAL,
     "dead-letter topic = topic + suffix"},
    {"dlq.replay.group", T_STR, NULL, 0, 0, NULL, false, S_GENERAL,
     "consumer group whose committed offsets on the dead-letter topic record how far a replay "
     "(`vtev_dlq_replay_run()`, `vt-dlq replay`) has gone; unset: `vtev-dlq-replay.<dlq "
     "topic>`. The replay's producer has the `transactional.id` `<group>.txn`: its messages and "
     "these offsets commit in one transaction, and a run fences an earlier one of the group. "
     "Give each selection (filter, target) its own group. See include/vtevents/dlq.h"},
    {"dlq.replay.to", T_STR, NULL, 0, 0, NULL, false, S_GENERAL,
     "topic a replay sends the dead letters to; unset: each one's `vtev.original.topic`"},
    {"dlq.replay.max.count", T_INT, "3", 0, 1000000, NULL, false, S_GENERAL,
     "loop guard: a replay refuses a dead letter whose `vtev.replay.count` is already this "
     "high (it was replayed that often and failed again)"},
    {"dlq.replay.rate", T_INT, "0", 0, 1000000, NULL, false, S_GENERAL,
     "at most this many dead letters replayed per second; `0`: no limit"},
    {"dlq.replay.batch", T_INT, "500", 1, 100000, NULL, false, S_GENERAL,
     "a replay commits its transaction (the messages sent and its progress) after this many "
     "messages (and every 200 ms); at most this many are sent again after a failed delivery "
     "or a crash, and only `read_uncommitted` readers see them twice"},
    {"dlq.replay.dry.run", T_BOOL, "false", 0, 0, NULL, false, S_GENERAL,
     "a replay sends nothing and commits nothing; it only reports what it would send"},
    {"schema.registry.url", T_STR, "mock://default", 0, 0, NULL, false, S_REGISTRY,
     "one URL or a comma-separated list (failover in order). `mock://NAME`: in-process "
     "registry shared by every client of that name."},
    {"basic.auth.user.info", T_STR, NULL, 0, 0, NULL, true, S_REGISTRY,
     "`user:password`; the password may contain any character (sent as a header, never in the "
     "URL)"},
    {"bearer.auth.token", T_STR, NULL, 0, 0, NULL, true, S_REGISTRY,
     "sent as `Authorization: Bearer ...`"},
    {"schema.registry.ssl.ca.location", T_STR, NULL, 0, 0, NULL, false, S_REGISTRY,
     "CA bundle (PEM) to verify the registry; unset: the system's CAs"},
    {"schema.registry.ssl.certificate.location", T_STR, NULL, 0, 0, NULL, false, S_REGISTRY,
     "client certificate (PEM) for mutual TLS"},
    {"schema.registry.ssl.key.location", T_STR, NULL, 0, 0, NULL, false, S_REGISTRY,
     "client private key (PEM)"},
    {"schema.registry.ssl.key.password", T_STR, NULL, 0, 0, NULL, true, S_REGISTRY,
     "password of the private key"},
    {"schema.registry.ssl.verify", T_BOOL, "true", 0, 0, NULL, false, S_REGISTRY,
     "verify the server certificate and host name"},
    {"schema.registry.connect.timeout.ms", T_INT, "5000", 1, 3600000, NULL, false, S_REGISTRY,
     "TCP+TLS connect timeout per attempt"},
    {"schema.registry.request.timeout.ms", T_INT, "10000", 1, 3600000, NULL, false, S_REGISTRY,
     "whole-request timeout per attempt"},
    {"schema.registry.max.retries", T_INT, "3", 0, 100, NULL, false, S_REGISTRY,
     "retries after the first attempt, on transport errors, 429 and 5xx (never on other 4xx)"},
    {"schema.registry.retry.backoff.ms", T_INT, "100", 0, 600000, NULL, false, S_REGISTRY,
     "first backoff; doubles per retry, with full jitter"},
    {"schema.registry.retry.backoff.max.ms", T_INT, "2000", 0, 3600000, NULL, false, S_REGISTRY,
     "backoff ceiling"},
    {"schema.registry.call.timeout.ms", T_INT, "30000", 1, 3600000, NULL, false, S_REGISTRY,
     "bound on one whole call: every attempt on every URL and the backoffs between them. A "
     "consumer caps it at half of `kafka.max.poll.interval.ms` (default 300000), so a registry "
     "call never holds its poll thread long enough to be evicted from the group"},
    {"schema.registry.cache.capacity", T_INT, "1000", 1, 10000000, NULL, false, S_REGISTRY,
     "entries per cache (id → schema, subject+schema → id), LRU"},
    {"schema.registry.latest.cache.ttl.sec", T_INT, "300", 0, 86400 * 365, NULL, false, S_REGISTRY,
     "how long a `latest` lookup is cached"},
    {"schema.registry.missing.schema.cache.ttl.sec", T_INT, "10", 0, 86400, NULL, false, S_REGISTRY,
     "how long a lookup that found nothing (schema or subject not registered, e.g. with "
     "`auto.register.schemas=false`) is remembered, so a publish of that schema costs no "
     "request meanwhile; registering through the same client forgets it at once; `0`: not "
     "remembered"},
    {"auto.register.schemas", T_BOOL, "true", 0, 0, NULL, false, S_REGISTRY,
     "producers register their schema if the subject lacks it"},
    {"use.latest.version", T_BOOL, "false", 0, 0, NULL, false, S_REGISTRY,
     "producers use the subject's latest schema instead of registering"},
    {"subject.name.strategy", T_ENUM, "topic", 0, 0, "|topic|record|topic-record|", false,
     S_REGISTRY,
     "`topic` (`<topic>-value`), `record` (`<namespace>.<name>`), `topic-record` "
     "(`<topic>-<namespace>.<name>`)"},
    {"avro.max.depth", T_INT, "64", 1, 1000, NULL, false, S_LIMITS,
     "nesting of records, arrays, maps and unions, in a schema and in a datum"},
    {"avro.max.values", T_INT, "2000000", 1, INT64_C(1000000000000), NULL, false, S_LIMITS,
     "values read from one message (fields, items, map entries, ...), counted also for "
     "writer-only fields that are skipped"},
    {"avro.max.bytes", T_INT, "16777216", 1, INT64_C(2147483647), NULL, false, S_LIMITS,
     "bytes of one message, and of its resolved form"},
    {"avro.max.schema.types", T_INT, "10000", 1, 10000000, NULL, false, S_LIMITS,
     "types in one writer schema (every node: records, fields' types, branches)"},
    {"producer.profile", T_ENUM, "default", 0, 0, "|default|low-latency|throughput|", false,
     S_PRODUCER,
     "sets librdkafka knobs together (doc/producer.md; explicit `kafka.*` keys win)"},
    {"producer.queue.block.ms", T_INT, "1000", 0, 3600000, NULL, false, S_PRODUCER,
     "how long a publish waits for room in a full local queue before `VTEV_ERR_QUEUE_FULL`"},
    {"metrics.enable", T_BOOL, "true", 0, 0, NULL, false, S_GENERAL,
     "count the handle's messages into the process's metrics (`vtev_metrics_write()`, "
     "doc/monitoring.md); `false`: the handle counts nothing there (its own counters, "
     "`vtev_*_stats()`, stay)"},
    {"health.stats.interval.ms", T_INT, "3000", 100, 86400000, NULL, false, S_GENERAL,
     "how often each handle asks librdkafka for statistics (broker connections for "
     "`vtev_*_health()`); `kafka.statistics.interval.ms` wins when set"},
    {"trace.propagation", T_BOOL, "true", 0, 0, NULL, false, S_PRODUCER,
     "set a W3C `traceparent` header (and `tracestate`) on every message: the caller's, a "
     "child of the thread's current context (inside a handler: the handled message's), or a "
     "new trace. See include/vtevents/trace.h"},
    {"producer.close.timeout.ms", T_INT, "10000", 0, 3600000, NULL, false, S_PRODUCER,
     "how long destroy flushes before giving up"},
    {"group.id", T_STR, NULL, 0, 0, NULL, false, S_CONSUMER,
     "consumer group (required for a consumer, except a read-only one: "
     "`consumer.read.only`)"},
    {"consumer.retry.max.attempts", T_INT, "5", 1, 1000000, NULL, false, S_CONSUMER,
     "handler attempts per message before it is dead-lettered"},
    {"consumer.retry.backoff.ms", T_INT, "200", 0, 3600000, NULL, false, S_CONSUMER,
     "first retry delay; doubles per attempt, with jitter"},
    {"consumer.retry.backoff.max.ms", T_INT, "10000", 0, 86400000, NULL, false, S_CONSUMER,
     "retry delay ceiling"},
    {"consumer.retry.tiers", T_INT, "0", 0, 10, NULL, false, S_CONSUMER,
     "non-blocking retries: a message whose handler asks for a retry is moved to "
     "`<topic>.retry.1`, then `.retry.2`, ... up to this tier, each after its delay "
     "(`consumer.retry.tier.*`), then dead-lettered; its partition keeps flowing meanwhile, "
     "so per-key order is given up for retried messages. `0`: the blocking retry (the "
     "partition waits; `consumer.retry.max.attempts`). See doc/consumer.md"},
    {"consumer.retry.tier.topics", T_STR, NULL, 0, 0, NULL, false, S_CONSUMER,
     "comma-separated subscribed topics that use the retry tiers (opt-in per "
     "subscription); unset: every subscribed topic when `consumer.retry.tiers` > 0"},
    {"consumer.retry.tier.backoff", T_ENUM, "exponential", 0, 0, "|exponential|fixed|linear|",
     false, S_CONSUMER,
     "delay of tier n: `exponential` delay * 2^(n-1), `fixed` delay, `linear` delay * n, "
     "capped at `consumer.retry.tier.delay.max.ms`"},
    {"consumer.retry.tier.delay.ms", T_INT, "1000", 0, 86400000, NULL, false, S_CONSUMER,
     "delay of the first retry tier"},
    {"consumer.retry.tier.delay.max.ms", T_INT, "3600000", 0, 604800000, NULL, false,
     S_CONSUMER, "ceiling of a retry tier's delay"},
    {"consumer.commit.interval.ms", T_INT, "1000", 0, 3600000, NULL, false, S_CONSUMER,
     "how often stored offsets are committed (also synchronously on revoke and close); `0`: "
     "commit after every finished message. See doc/consumer.md"},
    {"consumer.dlq.enable", T_BOOL, "true", 0, 0, NULL, false, S_CONSUMER,
     "dead-letter rejected and poison messages to `<topic><dlq.suffix>` (else: the consumer "
     "stops with the message's error and does not move past it)"},
    {"consumer.offset.reset", T_ENUM, "earliest", 0, 0, "|earliest|latest|", false, S_CONSUMER,
     "where a new group starts: `earliest` never skips events published before it joined"},
    {"consumer.read.only", T_BOOL, "false", 0, 0, NULL, false, S_CONSUMER,
     "a reader that never writes to Kafka: no dead-letter producer; a message it cannot hand "
     "to a handler (undecodable, invalid, without handler, rejected, retries used up) goes "
     "to the unhandled callback (`vtev_consumer_set_unhandled_cb()`) and the consumer moves "
     "past it. Without `group.id` it assigns itself every partition of its topics "
     "(`consumer.start.offset`) and commits nothing; with `group.id` it joins the group and "
     "commits what its handlers finished. A topic that does not exist is an error at "
     "subscription. See doc/consumer.md"},
    {"consumer.start.offset", T_STR, NULL, 0, 0, NULL, false, S_CONSUMER,
     "where a read-only consumer without `group.id` starts in every partition: `beginning`, "
     "`end`, an offset `N`, or `-N` (N messages before the end); unset: "
     "`consumer.offset.reset` (`earliest` is `beginning`). A group starts from its committed "
     "offsets, so with `group.id` this key is refused"},
    {"consumer.schema.not.found.retry.ms", T_INT, "30000", 0, 86400000, NULL, false, S_CONSUMER,
     "how long a message whose schema id the registry does not know (40403) is re-checked, "
     "paused and with backoff, before it is dead-lettered: a registry replica may lag behind "
     "the producer's. `0`: dead-letter at once. Registry errors about the environment "
     "(unreachable, 401/403, TLS, 3xx, a proxy's error page, 429, 5xx) are retried without "
     "limit instead. See doc/consumer.md"},
};

typedef struct {
    char *name;
    char *value;
} entry_t;

struct vtev_conf_s {
    entry_t *entries;
    size_t cnt, cap;
    vtev_log_cb_t *log_cb;
    void *log_opaque;
};

const vtev__prop_t *vtev__conf_props(size_t *cntp) {
    *cntp = VTEV_ARRAY_SIZE(props);
    return props;
}

static const prop_t *prop_find(const char *name) {
    size_t i;
    for (i = 0; i < VTEV_ARRAY_SIZE(props); i++)
        if (!strcmp(props[i].name, name))
            return &props[i];
    return NULL;
}

static bool is_kafka_key(const char *name) {
    return !strncmp(name, "kafka.", 6) && name[6] != '\0';
}

static entry_t *entry_find(const vtev_conf_t *conf, const char *name) {
    size_t i;
    for (i = 0; i < conf->cnt; i++)
        if (!strcmp(conf->entries[i].name, name))
            return &conf->entries[i];
    return NULL;
}

vtev_conf_t *vtev_conf_new(void) {
    return calloc(1, sizeof(vtev_conf_t));
}

static bool is_secret(const char *name);
static void scrub(char *s);

void vtev_conf_destroy(vtev_conf_t *conf) {
    size_t i;
    if (!conf)
        return;
    for (i = 0; i < conf->cnt; i++) {
        if (is_secret(conf->entries[i].name))
            scrub(conf->entries[i].value);
        free(conf->entries[i].name);
        free(conf->entries[i].value);
    }
    free(conf->entries);
    free(conf);
}

/* Stores name=value (value NULL removes). Returns 0 or -1 on ENOMEM. */
static int entry_put(vtev_conf_t *conf, const char *name, const char *value) {
    entry_t *e = entry_find(conf, name);
    char *v;
    if (!value) {
        if (e) {
            if (is_secret(e->name))
                scrub(e->value);
            free(e->name);
            free(e->value);
            *e = conf->entries[--conf->cnt];
        }
        return 0;
    }
    if (!(v = vtev__strdup(value)))
        return -1;
    if (e) {
        if (is_secret(name))
            scrub(e->value);
        free(e->value);
        e->value = v;
        return 0;
    }
    if (conf->cnt == conf->cap) {
        size_t ncap = conf->cap ? conf->cap * 2 : 16;
        entry_t *n = realloc(conf->entries, ncap * sizeof(*n));
        if (!n) {
            free(v);
            return -1;
        }
        conf->entries = n;
        conf->cap = ncap;
    }
    if (!(conf->entries[conf->cnt].name = vtev__strdup(name))) {
        free(v);
        return -1;
    }
    conf->entries[conf->cnt].value = v;
    conf->cnt++;
    return 0;
}

vtev_conf_t *vtev_conf_dup(const vtev_conf_t *conf) {
    vtev_conf_t *d;
    size_t i;
    if (!conf || !(d = vtev_conf_new()))
        return NULL;
    for (i = 0; i < conf->cnt; i++) {
        if (entry_put(d, conf->entries[i].name, conf->entries[i].value) == -1) {
            vtev_conf_destroy(d);
            return NULL;
        }
    }
    d->log_cb = conf->log_cb;
    d->log_opaque = conf->log_opaque;
    return d;
}

static int parse_bool(const char *v) {
    if (!strcmp(v, "true") || !strcmp(v, "1"))
        return 1;
    if (!strcmp(v, "false") || !strcmp(v, "0"))
        return 0;
    return -1;
}

static bool parse_int(const char *v, int64_t *out) {
    char *end;
    long long n;
    if (!*v || isspace((unsigned char)*v))
        return false;
    errno = 0;
    n = strtoll(v, &end, 10);
    if (errno || *end)
        return false;
    *out = n;
    return true;
}

static vtev_conf_res_t check_value(const prop_t *p, const char *value,
                                   char *errstr, size_t errstr_size) {
    int64_t n;
    char needle[128];
    switch (p->type) {
    case T_STR:
        return VTEV_CONF_OK;
    case T_BOOL:
        if (parse_bool(value) < 0) {
            vtev__seterr(errstr, errstr_size,
                         "%s: \"%s\" is not a boolean (expected true, false, 1 or 0)",
                         p->name, value);
            return VTEV_CONF_INVALID;
        }
        return VTEV_CONF_OK;
    case T_INT:
        if (!parse_int(value, &n)) {
            vtev__seterr(errstr, errstr_size, "%s: \"%s\" is not an integer", p->name, value);
            return VTEV_CONF_INVALID;
        }
        if (n < p->min || n > p->max) {
            vtev__seterr(errstr, errstr_size, "%s: %lld is outside [%lld, %lld]", p->name,
                         (long long)n, (long long)p->min, (long long)p->max);
            return VTEV_CONF_INVALID;
        }
        return VTEV_CONF_OK;
    case T_ENUM:
        if (strlen(value) + 3 > sizeof(needle) || strchr(value, '|'))
            goto bad_enum;
        snprintf(needle, sizeof(needle), "|%s|", value);
        if (strstr(p->enums, needle))
            return VTEV_CONF_OK;
    bad_enum: {
        /* "|a|b|" -> "a, b" */
        char list[256];
        size_t i, j = 0;
        for (i = 1; p->enums[i] && j + 3 < sizeof(list); i++) {
            if (p->enums[i] == '|') {
                if (p->enums[i + 1]) {
                    list[j++] = ',';
                    list[j++] = ' ';
                }
            } else {
                list[j++] = p->enums[i];
            }
        }
        list[j] = '\0';
        vtev__seterr(errstr, errstr_size, "%s: \"%s\" is not one of: %s", p->name, value, list);
        return VTEV_CONF_INVALID;
    }
    }
    return VTEV_CONF_INVALID;
}

/* Validates a kafka.* key with librdkafka itself. */
static vtev_conf_res_t check_kafka(const char *name, const char *value, char *errstr,
                                   size_t errstr_size) {
    rd_kafka_conf_t *rk = rd_kafka_conf_new();
    char rkerr[512];
    rd_kafka_conf_res_t r;
    if (!rk) {
        vtev__seterr(errstr, errstr_size, "%s: out of memory", name);
        return VTEV_CONF_INVALID;
    }
    r = rd_kafka_conf_set(rk, name + 6, value, rkerr, sizeof(rkerr));
    rd_kafka_conf_destroy(rk);
    if (r == RD_KAFKA_CONF_OK)
        return VTEV_CONF_OK;
    vtev__seterr(errstr, errstr_size, "%s: %s", name, rkerr);
    return r == RD_KAFKA_CONF_UNKNOWN ? VTEV_CONF_UNKNOWN : VTEV_CONF_INVALID;
}

vtev_conf_res_t vtev_conf_set(vtev_conf_t *conf, const char *name, const char *value,
                              char *errstr, size_t errstr_size) {
    const prop_t *p;
    vtev_conf_res_t r;
    if (!conf || !name) {
        vtev__seterr(errstr, errstr_size, "vtev_conf_set: conf and name must not be NULL");
        return VTEV_CONF_INVALID;
    }
    if (is_kafka_key(name)) {
        if (value && (r = check_kafka(name, value, errstr, errstr_size)) != VTEV_CONF_OK)
            return r;
    } else if ((p = prop_find(name))) {
        if (value && (r = check_value(p, value, errstr, errstr_size)) != VTEV_CONF_OK)
            return r;
    } else {
        vtev__seterr(errstr, errstr_size,
                     "%s: unknown configuration property (librdkafka properties take the "
                     "\"kafka.\" prefix)",
                     name);
        return VTEV_CONF_UNKNOWN;
    }
    if (entry_put(conf, name, value) == -1) {
        vtev__seterr(errstr, errstr_size, "%s: out of memory", name);
        return VTEV_CONF_INVALID;
    }
    return VTEV_CONF_OK;
}

static vtev_conf_res_t copy_out(const char *v, char *dest, size_t *dest_size) {
    size_t need = strlen(v) + 1;
    if (dest && *dest_size >= need)
        memcpy(dest, v, need);
    else if (dest && *dest_size > 0)
        dest[0] = '\0';
    *dest_size = need;
    return VTEV_CONF_OK;
}

vtev_conf_res_t vtev_conf_get(const vtev_conf_t *conf, const char *name, char *dest,
                              size_t *dest_size) {
    const entry_t *e;
    const prop_t *p;
    if (!conf || !name || !dest_size)
        return VTEV_CONF_UNKNOWN;
    if ((e = entry_find(conf, name)))
        return copy_out(e->value, dest, dest_size);
    if (is_kafka_key(name)) {
        rd_kafka_conf_t *rk = rd_kafka_conf_new();
        char buf[4096];
        size_t sz = sizeof(buf);
        rd_kafka_conf_res_t r = rd_kafka_conf_get(rk, name + 6, buf, &sz);
        if (r != RD_KAFKA_CONF_OK) {
            /* Topic-level properties live in the default topic conf. */
            rd_kafka_topic_conf_t *tc = rd_kafka_topic_conf_new();
            sz = sizeof(buf);
            r = rd_kafka_topic_conf_get(tc, name + 6, buf, &sz);
            rd_kafka_topic_conf_destroy(tc);
        }
        rd_kafka_conf_destroy(rk);
        if (r != RD_KAFKA_CONF_OK)
            return VTEV_CONF_UNKNOWN;
        return copy_out(buf, dest, dest_size);
    }
    if (!(p = prop_find(name)) || !p->def)
        return VTEV_CONF_UNKNOWN;
    return copy_out(p->def, dest, dest_size);
}

const char *vtev__conf_str(const vtev_conf_t *conf, const char *name) {
    const entry_t *e = conf ? entry_find(conf, name) : NULL;
    const prop_t *p;
    if (e)
        return e->value;
    p = prop_find(name);
    return p ? p->def : NULL;
}

int64_t vtev__conf_int(const vtev_conf_t *conf, const char *name) {
    const char *v = vtev__conf_str(conf, name);
    int64_t n = 0;
    if (v)
        parse_int(v, &n);
    return n;
}

bool vtev__conf_bool(const vtev_conf_t *conf, const char *name) {
    const char *v = vtev__conf_str(conf, name);
    return v && parse_bool(v) == 1;
}

bool vtev__conf_is_set(const vtev_conf_t *conf, const char *name) {
    return entry_find(conf, name) != NULL;
}

int vtev_conf_is_set(const vtev_conf_t *conf, const char *name) {
    return conf && name && entry_find(conf, name) != NULL;
}

/* The connection keys whose defaults are the embedded mock:// world. */
static const struct {
    const char *key, *what;
} embedded_keys[] = {
    {"bootstrap.servers", "mock cluster"},
    {"schema.registry.url", "registry"},
};

int vtev_conf_embedded_defaults(const vtev_conf_t *conf, char *msg, size_t msg_size) {
    const char *names[VTEV_ARRAY_SIZE(embedded_keys)], *whats[VTEV_ARRAY_SIZE(embedded_keys)];
    const char *value = NULL;
    int n = 0;
    size_t i;
    if (msg && msg_size)
        msg[0] = '\0';
    if (!conf)
        return 0;
    for (i = 0; i < VTEV_ARRAY_SIZE(embedded_keys); i++) {
        const char *v = vtev__conf_str(conf, embedded_keys[i].key);
        bool is_mock = v && !strncmp(v, "mock://", 7);
        if (vtev__conf_is_set(conf, embedded_keys[i].key)) {
            if (is_mock)
                return 0; /* the embedded world was chosen */
            continue;
        }
        if (!is_mock)
            continue;
        names[n] = embedded_keys[i].key;
        whats[n] = embedded_keys[i].what;
        value = v;
        n++;
    }
    if (n && msg && msg_size) {
        if (n == 1)
            snprintf(msg, msg_size,
                     "%s is not configured: using the embedded %s %s, which exists only "
                     "inside this process (%s)",
                     names[0], whats[0], value,
                     !strcmp(names[0], "bootstrap.servers")
                         ? "events published to it are lost when the process exits"
                         : "the schema ids it assigns mean nothing to other processes");
        else
            snprintf(msg, msg_size,
                     "%s and %s are not configured: using the embedded mock cluster and "
                     "registry %s, which exist only inside this process (events published "
                     "to them are lost when the process exits)",
                     names[0], names[1], value);
    }
    return n;
}

const char *vtev__conf_mock_cluster(const vtev_conf_t *conf) {
    const char *b = vtev__conf_str(conf, "bootstrap.servers");
    if (!b || strncmp(b, "mock://", 7))
        return NULL;
    return b[7] ? b + 7 : "default";
}

vtev_err_t vtev__conf_apply_kafka(const vtev_conf_t *conf, rd_kafka_conf_t *rk_conf,
                                  char *errstr, size_t errstr_size) {
    char rkerr[512];
    size_t i;
    const char *mock = vtev__conf_mock_cluster(conf);
    const char *brokers = vtev__conf_str(conf, "bootstrap.servers");
    if (mock) {
        char merr[256];
        if (!(brokers = vtev__mock_cluster_bootstraps(mock, merr, sizeof(merr))))
            return vtev__fail(VTEV_ERR_KAFKA, errstr, errstr_size, "bootstrap.servers: %s",
                              merr);
    }
    if (rd_kafka_conf_set(rk_conf, "bootstrap.servers", brokers, rkerr, sizeof(rkerr)) !=
        RD_KAFKA_CONF_OK)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, "bootstrap.servers: %s",
                          rkerr);
    if (rd_kafka_conf_set(rk_conf, "client.id", vtev__conf_str(conf, "client.id"), rkerr,
                          sizeof(rkerr)) != RD_KAFKA_CONF_OK)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, "client.id: %s", rkerr);
    for (i = 0; i < conf->cnt; i++) {
        const entry_t *e = &conf->entries[i];
        if (!is_kafka_key(e->name))
            continue;
        if (rd_kafka_conf_set(rk_conf, e->name + 6, e->value, rkerr, sizeof(rkerr)) !=
            RD_KAFKA_CONF_OK)
            return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, "%s: %s", e->name,
                              rkerr);
    }
    return VTEV_ERR_OK;
}

static char *trim(char *s) {
    char *end;
    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

vtev_err_t vtev_conf_load_file(vtev_conf_t *conf, const char *path, char *errstr,
                               size_t errstr_size) {
    FILE *fp;
    char *line = NULL;
    size_t linecap = 0;
    ssize_t len;
    int lineno = 0;
    vtev_conf_t *tmp;
    vtev_err_t err = VTEV_ERR_OK;

    if (!conf || !path)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "vtev_conf_load_file: conf and path must not be NULL");
    if (!(fp = fopen(path, "r")))
        return vtev__fail(VTEV_ERR_IO, errstr, errstr_size, "%s: %s", path, strerror(errno));
    if (!(tmp = vtev_conf_dup(conf))) {
        fclose(fp);
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "%s: out of memory", path);
    }
    while ((len = getline(&line, &linecap, fp)) != -1) {
        char *s, *sep, *key, *val;
        char e[512];
        lineno++;
        if ((size_t)len != strlen(line)) {
            err = vtev__fail(VTEV_ERR_PARSE, errstr, errstr_size, "%s:%d: NUL byte in line",
                             path, lineno);
            break;
        }
        s = trim(line);
        if (!*s || *s == '#' || *s == '!')
            continue;
        sep = strpbrk(s, "=:");
        if (!sep) {
            err = vtev__fail(VTEV_ERR_PARSE, errstr, errstr_size,
                             "%s:%d: expected key=value, got \"%s\"", path, lineno, s);
            break;
        }
        *sep = '\0';
        key = trim(s);
        val = trim(sep + 1);
        if (!*key) {
            err = vtev__fail(VTEV_ERR_PARSE, errstr, errstr_size, "%s:%d: empty key", path,
                             lineno);
            break;
        }
        if (vtev_conf_set(tmp, key, val, e, sizeof(e)) != VTEV_CONF_OK) {
            err = vtev__fail(VTEV_ERR_PARSE, errstr, errstr_size, "%s:%d: %s", path, lineno, e);
            break;
        }
    }
    /* getline() returns -1 for an allocation failure too: only the end of
     * the file ends the file (else its later lines were silently lost) */
    if (!err && (ferror(fp) || !feof(fp)))
        err = errno == ENOMEM
                  ? vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "%s:%d: out of memory", path,
                               lineno + 1)
                  : vtev__fail(VTEV_ERR_IO, errstr, errstr_size, "%s:%d: read error: %s", path,
                               lineno + 1, strerror(errno));
    free(line);
    fclose(fp);
    if (!err) {
        /* Swap contents: conf takes tmp's entries. */
        vtev_conf_t swap = *conf;
        *conf = *tmp;
        *tmp = swap;
    }
    vtev_conf_destroy(tmp);
    return err;
}

/* "schema.registry.url" -> "VTEV_SCHEMA_REGISTRY_URL" */
static void env_name(const char *key, char *out, size_t out_size) {
    size_t j = 0, i;
    const char *pfx = "VTEV_";
    for (i = 0; pfx[i] && j + 1 < out_size; i++)
        out[j++] = pfx[i];
    for (i = 0; key[i] && j + 1 < out_size; i++) {
        char c = key[i];
        out[j++] = (c == '.' || c == '-') ? '_' : (char)toupper((unsigned char)c);
    }
    out[j] = '\0';
}

extern char **environ;

vtev_err_t vtev_conf_load_env(vtev_conf_t *conf, char *errstr, size_t errstr_size) {
    static const struct {
        const char *var, *key;
    } aliases[] = {
        {"KAFKA_BOOTSTRAP_SERVERS", "bootstrap.servers"},
        {"SCHEMA_REGISTRY_URL", "schema.registry.url"},
    };
    vtev_conf_t *tmp;
    char e[512], var[256];
    size_t i;
    char **envp;
    vtev_err_t err = VTEV_ERR_OK;

    if (!conf)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "vtev_conf_load_env: conf must not be NULL");
    if (!(tmp = vtev_conf_dup(conf)))
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");

    for (i = 0; i < VTEV_ARRAY_SIZE(aliases) && !err; i++) {
        const char *v = getenv(aliases[i].var);
        if (v && *v && vtev_conf_set(tmp, aliases[i].key, v, e, sizeof(e)) != VTEV_CONF_OK)
            err = vtev__fail(VTEV_ERR_PARSE, errstr, errstr_size, "%s: %s", aliases[i].var, e);
    }
    for (i = 0; i < VTEV_ARRAY_SIZE(props) && !err; i++) {
        const char *v;
        env_name(props[i].name, var, sizeof(var));
        if ((v = getenv(var)) &&
            vtev_conf_set(tmp, props[i].name, v, e, sizeof(e)) != VTEV_CONF_OK)
            err = vtev__fail(VTEV_ERR_PARSE, errstr, errstr_size, "%s: %s", var, e);
    }
    /* VTEV_KAFKA_X_Y=v -> kafka.x.y=v */
    for (envp = environ; envp && *envp && !err; envp++) {
        const char *s = *envp, *eq;
        char key[256];
        size_t j = 0, k;
        if (strncmp(s, "VTEV_KAFKA_", 11) || !(eq = strchr(s, '=')))
            continue;
        memcpy(key, "kafka.", 6);
        j = 6;
        for (k = 11; s + k < eq && j + 1 < sizeof(key); k++)
            key[j++] = s[k] == '_' ? '.' : (char)tolower((unsigned char)s[k]);
        key[j] = '\0';
        if (vtev_conf_set(tmp, key, eq + 1, e, sizeof(e)) != VTEV_CONF_OK)
            err = vtev__fail(VTEV_ERR_PARSE, errstr, errstr_size, "%.*s: %s", (int)(eq - s), s,
                             e);
    }
    if (!err) {
        vtev_conf_t swap = *conf;
        *conf = *tmp;
        *tmp = swap;
    }
    vtev_conf_destroy(tmp);
    return err;
}

/* The properties librdkafka documents as sensitive, reached as kafka.<name>. */
static const char *const kafka_secrets[] = {
    "sasl.password", "sasl.oauthbearer.config", "sasl.oauthbearer.client.secret", "ssl.key.password",
    "ssl.key.pem", "ssl_key", "ssl.keystore.password", NULL};

static bool is_secret(const char *name) {
    const prop_t *p = prop_find(name);
    size_t i;
    if (p)
        return p->secret;
    if (!strncmp(name, "kafka.", 6))
        for (i = 0; kafka_secrets[i]; i++)
            if (!strcmp(name + 6, kafka_secrets[i]))
                return true;
    /* anything else that looks like one (e.g. a newer librdkafka's key) */
    return strstr(name, "password") || strstr(name, "secret") || strstr(name, "token") ||
           strstr(name, "key.pem") || strstr(name, "user.info") || strstr(name, "oauthbearer.config");
}

/* Overwrites a secret before its memory is freed. */
static void scrub(char *s) {
    if (s) {
        volatile char *v = s;
        while (*v)
            *v++ = 0;
    }
}

const char **vtev_conf_dump(const vtev_conf_t *conf, size_t *cntp) {
    const char **arr;
    size_t i;
    if (!conf || !cntp)
        return NULL;
    if (!(arr = calloc(conf->cnt * 2 + 1, sizeof(*arr))))
        return NULL;
    for (i = 0; i < conf->cnt; i++) {
        arr[2 * i] = vtev__strdup(conf->entries[i].name);
        arr[2 * i + 1] =
            vtev__strdup(is_secret(conf->entries[i].name) ? "[redacted]" : conf->entries[i].value);
        if (!arr[2 * i] || !arr[2 * i + 1]) {
            vtev_conf_dump_free(arr, 2 * i + 2);
            return NULL;
        }
    }
    *cntp = conf->cnt * 2;
    return arr;
}

void vtev_conf_dump_free(const char **arr, size_t cnt) {
    size_t i;
    if (!arr)
        return;
    for (i = 0; i < cnt; i++)
        free((char *)arr[i]);
    free(arr);
}

void vtev_conf_set_log_cb(vtev_conf_t *conf, vtev_log_cb_t *log_cb, void *opaque) {
    if (!conf)
        return;
    conf->log_cb = log_cb;
    conf->log_opaque = opaque;
}

void vtev__log(const vtev_conf_t *conf, int level, const char *fac, const char *fmt, ...) {
    char raw[1024], msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    vtev__escape(raw, msg, sizeof(msg)); /* data in a log line cannot forge lines or drive a terminal */
    if (conf && conf->log_cb) {
        conf->log_cb(level, fac, msg, conf->log_opaque);
        return;
    }
    vtev__log_default(conf, level, fac, msg);
}

bool vtev__consumer_tiered_topic(const vtev_conf_t *conf, const char *topic) {
    const char *list, *p;
    size_t tl;
    if (!conf || !topic || vtev__conf_int(conf, "consumer.retry.tiers") <= 0)
        return false;
    if (!(list = vtev__conf_str(conf, "consumer.retry.tier.topics")) || !*list)
        return true;
    tl = strlen(topic);
    for (p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        while (n && *p == ' ') {
            p++;
            n--;
        }
        while (n && p[n - 1] == ' ')
            n--;
        if (n == tl && !strncmp(p, topic, n))
            return true;
        if (!e)
            break;
        p = e + 1;
    }
    return false;
}
