/*
 * rdkafka_conf.c - the librdkafka properties the library gives its handles
 * (rdkafka_int.h): the producers' defaults and profiles, the consumer's
 * mapping of library keys, and vtev_conf_to_rdkafka() (<vtevents/rdkafka_ext.h>),
 * which the library's producer is built with too.
 */
#include <vtevents/rdkafka_ext.h>

#include <string.h>
#include <strings.h>

#include "conf_int.h"
#include "rdkafka_int.h"

typedef struct {
    const char *k, *v;
} kv_t;

/* What every producer of the library has, the dead-letter producer too. */
static const kv_t safe[] = {
    {"enable.idempotence", "true"},
    {"acks", "all"},
};

/* The platform's defaults (doc/producer.md) on top of those. */
static const kv_t defaults[] = {
    {"socket.nagle.disable", "true"},
    /* The platform's topics are compression.type=gzip: a gzip batch is stored
     * as it is, any other codec is recompressed by the broker (doc/producer.md
     * has the measurement). */
    {"compression.codec", VTEV__PLATFORM_COMPRESSION},
    {"partitioner", "murmur2_random"},
};

static const kv_t profile_default[] = {
    {"linger.ms", "5"},
};

static const kv_t profile_low_latency[] = {
    {"linger.ms", "0"},
    {"batch.num.messages", "1000"},
    {"retry.backoff.ms", "20"},
};

static const kv_t profile_throughput[] = {
    {"linger.ms", "50"},
    {"batch.num.messages", "100000"},
    {"batch.size", "1000000"},
    {"queue.buffering.max.messages", "1000000"},
    {"queue.buffering.max.kbytes", "1048576"},
};

static vtev_err_t apply_kvs(rd_kafka_conf_t *rc, const kv_t *kvs, size_t n, const char *what,
                            char *errstr, size_t errstr_size) {
    size_t i;
    char e[512];
    for (i = 0; i < n; i++)
        if (rd_kafka_conf_set(rc, kvs[i].k, kvs[i].v, e, sizeof(e)) != RD_KAFKA_CONF_OK)
            return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, "%s: kafka.%s=%s: %s",
                              what, kvs[i].k, kvs[i].v, e);
    return VTEV_ERR_OK;
}

vtev_err_t vtev__rdkafka_safe_producer(rd_kafka_conf_t *rc, const char *what, char *errstr,
                                       size_t errstr_size) {
    return apply_kvs(rc, safe, VTEV_ARRAY_SIZE(safe), what, errstr, errstr_size);
}

vtev_err_t vtev__rdkafka_producer_defaults(const vtev_conf_t *conf, rd_kafka_conf_t *rc,
                                           char *errstr, size_t errstr_size) {
    const char *profile = vtev__conf_str(conf, "producer.profile");
    vtev_err_t err;
    if ((err = apply_kvs(rc, safe, VTEV_ARRAY_SIZE(safe), "defaults", errstr, errstr_size)) ||
        (err = apply_kvs(rc, defaults, VTEV_ARRAY_SIZE(defaults), "defaults", errstr, errstr_size)))
        return err;
    if (!strcmp(profile, "low-latency"))
        return apply_kvs(rc, profile_low_latency, VTEV_ARRAY_SIZE(profile_low_latency),
                         "producer.profile=low-latency", errstr, errstr_size);
    if (!strcmp(profile, "throughput"))
        return apply_kvs(rc, profile_throughput, VTEV_ARRAY_SIZE(profile_throughput),
                         "producer.profile=throughput", errstr, errstr_size);
    return apply_kvs(rc, profile_default, VTEV_ARRAY_SIZE(profile_default),
                     "producer.profile=default", errstr, errstr_size);
}

const char *vtev__rdkafka_auth_hint(const vtev_conf_t *conf) {
    const char *proto = vtev__conf_str(conf, "kafka.security.protocol");
    const char *mech = vtev__conf_str(conf, "kafka.sasl.mechanisms");
    if (proto && (!strncmp(proto, "SASL", 4) || !strncmp(proto, "sasl", 4))) {
        /* librdkafka before 2.6.1 repeats the client nonce in SCRAM's final
         * message, which Kafka refuses since 3.8.1/3.9 (CVE-2024-56128): the
         * right password fails too, so the hint must not only blame it. The
         * version is the one loaded at run time, not the one built against. */
        if (mech && !strncasecmp(mech, "SCRAM", 5) && rd_kafka_version() < 0x020601ff)
            return "authentication failed: check kafka.sasl.username and kafka.sasl.password; "
                   "also, this librdkafka (before 2.6.1) cannot log in with SCRAM to Kafka "
                   "3.8.1 or newer whatever the password (its SCRAM nonce bug): use "
                   "kafka.sasl.mechanisms=PLAIN over SASL_SSL, or librdkafka 2.6.1+ "
                   "(doc/security.md)";
        return "authentication failed: check kafka.sasl.username and kafka.sasl.password "
               "(and kafka.sasl.mechanisms)";
    }
    return "authentication failed: check kafka.security.protocol and the client certificate "
           "(kafka.ssl.certificate.location, kafka.ssl.key.location)";
}

vtev_err_t vtev__rdkafka_consumer_props(const vtev_conf_t *conf, rd_kafka_conf_t *rc,
                                        char *errstr, size_t errstr_size) {
    const char *group = vtev__conf_str(conf, "group.id");
    char rkerr[512];
    if (group && *group &&
        rd_kafka_conf_set(rc, "group.id", group, rkerr, sizeof(rkerr)) != RD_KAFKA_CONF_OK)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, "group.id: %s", rkerr);
    if (!vtev__conf_is_set(conf, "kafka.auto.offset.reset") &&
        rd_kafka_conf_set(rc, "auto.offset.reset", vtev__conf_str(conf, "consumer.offset.reset"),
                          rkerr, sizeof(rkerr)) != RD_KAFKA_CONF_OK)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, "auto.offset.reset: %s",
                          rkerr);
    return VTEV_ERR_OK;
}

rd_kafka_conf_t *vtev_conf_to_rdkafka(const vtev_conf_t *conf, rd_kafka_type_t type,
                                      char *errstr, size_t errstr_size) {
    rd_kafka_conf_t *rc;
    if (!conf || (type != RD_KAFKA_PRODUCER && type != RD_KAFKA_CONSUMER)) {
        vtev__seterr(errstr, errstr_size,
                     "vtev_conf_to_rdkafka: conf must not be NULL and type must be "
                     "RD_KAFKA_PRODUCER or RD_KAFKA_CONSUMER");
        return NULL;
    }
    if (!(rc = rd_kafka_conf_new())) {
        vtev__seterr(errstr, errstr_size, "out of memory");
        return NULL;
    }
    if ((type == RD_KAFKA_PRODUCER &&
         vtev__rdkafka_producer_defaults(conf, rc, errstr, errstr_size) != VTEV_ERR_OK) ||
        vtev__conf_apply_kafka(conf, rc, errstr, errstr_size) != VTEV_ERR_OK ||
        (type == RD_KAFKA_CONSUMER &&
         vtev__rdkafka_consumer_props(conf, rc, errstr, errstr_size) != VTEV_ERR_OK)) {
        rd_kafka_conf_destroy(rc);
        return NULL;
    }
    return rc;
}
