/*
 * dlq.c - the consumer's dead-letter producer.
 *
 * A dead letter is the original message (key, value and headers unchanged)
 * produced to <topic><dlq.suffix> with headers that say why. The producer is
 * idempotent with acks=all; vtev__dlq_send() waits for the delivery report,
 * so the caller moves the offset on only once the dead letter is stored.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer_int.h"
#include "internal.h"
#include "rdkafka_int.h"
#include "timestamp.h"

typedef struct dlq_wait_s {
    int done;
    rd_kafka_resp_err_t err;
} dlq_wait_t;

static void dlq_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    dlq_wait_t *w = m->_private;
    (void)rk;
    (void)opaque;
    if (w) {
        w->err = m->err;
        w->done = 1;
    }
}

vtev_err_t vtev__dlq_new(vtev_consumer_t *c, rd_kafka_conf_t *base, char *errstr,
                         size_t errstr_size) {
    char rkerr[512];
    char tmo[32];
    size_t tmo_size = sizeof(tmo);
    rd_kafka_conf_t *conf = rd_kafka_conf_dup(base);
    vtev_err_t err;

    if (!conf)
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "dead-letter producer: out of memory");
    /* the library's producer guarantees, over the consumer's kafka.* keys;
     * no batching: the poll thread waits for each dead letter */
    if ((err = vtev__rdkafka_safe_producer(conf, "dead-letter producer", errstr, errstr_size)) ||
        rd_kafka_conf_set(conf, "linger.ms", "0", rkerr, sizeof(rkerr)) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        return err ? err
                   : vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                                "dead-letter producer: linger.ms: %s", rkerr);
    }
    /* The poll thread waits for the delivery report: keep that well below
     * max.poll.interval.ms (300 s) unless the user chose a timeout. */
    if (!vtev__conf_is_set(c->conf, "kafka.message.timeout.ms") &&
        rd_kafka_conf_set(conf, "message.timeout.ms", "30000", rkerr, sizeof(rkerr)) !=
            RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "dead-letter producer: message.timeout.ms: %s", rkerr);
    }
    rd_kafka_conf_set_dr_msg_cb(conf, dlq_dr_cb);
    if (rd_kafka_conf_get(conf, "message.timeout.ms", tmo, &tmo_size) == RD_KAFKA_CONF_OK)
        c->dlq_timeout_ms = atoi(tmo);
    if (c->dlq_timeout_ms <= 0)
        c->dlq_timeout_ms = 300000;
    if (!(c->dlq_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, rkerr, sizeof(rkerr)))) {
        rd_kafka_conf_destroy(conf);
        return vtev__fail(VTEV_ERR_KAFKA, errstr, errstr_size, "dead-letter producer: %s",
                          rkerr);
    }
    return VTEV_ERR_OK;
}

bool vtev__dlq_reserved_header(const char *name) {
    return !strncmp(name, "vtev.error.", 11) || !strncmp(name, "vtev.original.", 14) ||
           !strncmp(name, "vtev.dlq.", 9) || !strcmp(name, "vtev.attempts") ||
           !strcmp(name, "vtev.consumer.group") || !strncmp(name, "vtev.retry.", 11);
}

void vtev__msg_timestamp_str(const rd_kafka_message_t *m, char *ts, size_t ts_size, char *type,
                             size_t type_size) {
    rd_kafka_timestamp_type_t tst;
    int64_t v = rd_kafka_message_timestamp(m, &tst);
    ts[0] = type[0] = '\0';
    if (v < 0 || tst == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE)
        return;
    vtev__format_time(v, 1000, ts, ts_size); /* milliseconds */
    snprintf(type, type_size, "%s",
             tst == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ? "LogAppendTime" : "CreateTime");
}

const char *vtev__msg_header_str(const rd_kafka_message_t *m, const char *name, char *buf,
                                 size_t size) {
    rd_kafka_headers_t *h = NULL;
    const void *v = NULL;
    size_t n = 0;
    buf[0] = '\0';
    if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR && h &&
        rd_kafka_header_get_last(h, name, &v, &n) == RD_KAFKA_RESP_ERR_NO_ERROR && v)
        snprintf(buf, size, "%.*s", (int)(n < size ? n : size - 1), (const char *)v);
    return buf;
}

vtev_err_t vtev__dlq_produce_wait(vtev_consumer_t *c, const char *topic,
                                  const rd_kafka_message_t *m, rd_kafka_headers_t *hdrs,
                                  char *errstr, size_t errstr_size) {
    rd_kafka_resp_err_t err;
    dlq_wait_t w = {0, RD_KAFKA_RESP_ERR_NO_ERROR};
    int64_t deadline;

    err = rd_kafka_producev(c->dlq_rk, RD_KAFKA_V_TOPIC(topic),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_KEY(m->key, m->key_len),
                            RD_KAFKA_V_VALUE(m->payload, m->len),
                            RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(&w), RD_KAFKA_V_END);
    if (err) {
        rd_kafka_headers_destroy(hdrs); /* not owned by librdkafka on failure */
        return vtev__fail(vtev__kafka_err(err), errstr, errstr_size, "%s: produce failed: %s",
                          topic, rd_kafka_err2str(err));
    }
    /* Wait for the delivery report: the message times out after
     * message.timeout.ms at the latest, so this loop ends. */
    deadline = vtev__now_mono_us() + ((int64_t)c->dlq_timeout_ms + 5000) * 1000;
    while (!w.done && vtev__now_mono_us() < deadline)
        rd_kafka_poll(c->dlq_rk, 50);
    if (!w.done) {
        /* Should not happen; purge so the report cannot touch &w later. */
        rd_kafka_purge(c->dlq_rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        while (!w.done)
            rd_kafka_poll(c->dlq_rk, 50);
        return vtev__fail(VTEV_ERR_TIMED_OUT, errstr, errstr_size,
                          "%s: no delivery report in time", topic);
    }
    if (w.err)
        return vtev__fail(vtev__kafka_err(w.err), errstr, errstr_size, "%s: delivery failed: %s",
                          topic, rd_kafka_err2str(w.err));
    return VTEV_ERR_OK;
}

vtev_err_t vtev__dlq_send(vtev_consumer_t *c, const rd_kafka_message_t *m, vtev_err_t why,
                          const char *why_msg, int attempts, char *errstr,
                          size_t errstr_size) {
    const char *topic = rd_kafka_topic_name(m->rkt);
    char dlq_topic[512], base[256], opart[32] = "", ooff[32] = "";
    char num[32], when[40], ots[40] = "", otst[32] = "";
    rd_kafka_headers_t *hdrs = NULL, *orig = NULL;

    if (!c->dlq_rk || !c->dlq_enable)
        return vtev__fail(VTEV_ERR_STATE, errstr, errstr_size, "dead letters are disabled");
    /* a retry tier's copy is dead-lettered as the message of its original
     * topic: to that topic's DLQ, with its original partition and offset */
    if (vtev__consumer_tier_of(c, topic, base, sizeof(base)) > 0) {
        topic = base;
        vtev__msg_header_str(m, "vtev.retry.original.partition", opart, sizeof(opart));
        vtev__msg_header_str(m, "vtev.retry.original.offset", ooff, sizeof(ooff));
        /* the original message's time, not the tier copy's */
        vtev__msg_header_str(m, "vtev.retry.original.timestamp", ots, sizeof(ots));
        vtev__msg_header_str(m, "vtev.retry.original.timestamp.type", otst, sizeof(otst));
    } else
        vtev__msg_timestamp_str(m, ots, sizeof(ots), otst, sizeof(otst));
    snprintf(dlq_topic, sizeof(dlq_topic), "%s%s", topic, c->dlq_suffix);

    /* The original headers, except any that claim a name of the dead-letter
     * record: a producer must not be able to plant a reason, an origin or a
     * time that readers of the DLQ would trust. */
    hdrs = rd_kafka_headers_new(16);
    if (!hdrs)
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "%s: out of memory", dlq_topic);
    if (rd_kafka_message_headers(m, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR && orig) {
        size_t i;
        const char *name;
        const void *val;
        size_t vlen;
        for (i = 0; rd_kafka_header_get_all(orig, i, &name, &val, &vlen) == RD_KAFKA_RESP_ERR_NO_ERROR; i++)
            if (!vtev__dlq_reserved_header(name))
                rd_kafka_header_add(hdrs, name, -1, val, val ? (ssize_t)vlen : -1);
    }
    {
        char safe[1024];
        vtev__escape(why_msg ? why_msg : "", safe, sizeof(safe)); /* a handler's reason too */
        rd_kafka_header_add(hdrs, "vtev.error.code", -1, vtev_err2name(why), -1);
        rd_kafka_header_add(hdrs, "vtev.error.message", -1, safe, -1);
    }
    rd_kafka_header_add(hdrs, "vtev.original.topic", -1, topic, -1);
    {
        const char *gid = vtev__conf_str(c->conf, "group.id");
        if (gid && *gid)
            rd_kafka_header_add(hdrs, "vtev.consumer.group", -1, gid, -1);
    }
    if (*ots) {
        rd_kafka_header_add(hdrs, "vtev.original.timestamp", -1, ots, -1);
        if (*otst)
            rd_kafka_header_add(hdrs, "vtev.original.timestamp.type", -1, otst, -1);
    }
    snprintf(num, sizeof(num), "%" PRId32, m->partition);
    rd_kafka_header_add(hdrs, "vtev.original.partition", -1, opart[0] ? opart : num, -1);
    snprintf(num, sizeof(num), "%" PRId64, m->offset);
    rd_kafka_header_add(hdrs, "vtev.original.offset", -1, ooff[0] ? ooff : num, -1);
    snprintf(num, sizeof(num), "%d", attempts);
    rd_kafka_header_add(hdrs, "vtev.attempts", -1, num, -1);
    vtev__format_time(vtev__now_wall_us() / 1000, 1000, when, sizeof(when));
    rd_kafka_header_add(hdrs, "vtev.dlq.time", -1, when, -1);

    return vtev__dlq_produce_wait(c, dlq_topic, m, hdrs, errstr, errstr_size);
}
