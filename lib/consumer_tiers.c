/*
 * consumer_tiers.c - non-blocking retries through retry topics
 * (consumer.retry.tiers, doc/consumer.md).
 *
 * A message of a topic T that uses the tiers, whose handler asks for a
 * retry, is copied to T.retry.1 (same key, value and headers, plus
 * vtev.retry.tier, vtev.retry.due, vtev.retry.attempts and where it came
 * from, vtev.retry.original.*: topic, partition, offset, and the original
 * message's timestamp, which the copies do not keep) and its offset moves on once the copy is
 * acknowledged: T's partition keeps flowing.  The consumer reads the retry
 * topics too; a copy that is not due yet pauses its retry partition until
 * it is (every copy of a tier has the same delay, so the partition's head is
 * always the first one due).  A retry on tier n goes to tier n + 1; after
 * the last tier the message is dead-lettered to T's dead-letter topic, as
 * T's message (dlq.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer_int.h"
#include "internal.h"
#include "timestamp.h"

int vtev__consumer_tier_of(vtev_consumer_t *c, const char *topic, char *base, size_t size) {
    const char *r = NULL, *q;
    char *end;
    long n;
    size_t blen;
    char b[256];
    if (c->tiers <= 0 || !topic)
        return 0;
    for (q = strstr(topic, ".retry."); q; q = strstr(q + 1, ".retry."))
        r = q; /* the last one */
    if (!r || !r[7] || r[7] < '1' || r[7] > '9')
        return 0;
    n = strtol(r + 7, &end, 10);
    if (*end || n < 1 || n > c->tiers)
        return 0;
    blen = (size_t)(r - topic);
    if (blen == 0 || blen >= sizeof(b))
        return 0;
    memcpy(b, topic, blen);
    b[blen] = '\0';
    if (!vtev__consumer_tiered_topic(c->conf, b))
        return 0;
    if (base && size)
        snprintf(base, size, "%s", b);
    return (int)n;
}

void vtev__consumer_tier_warm(vtev_consumer_t *c, const char *topic) {
    rd_kafka_topic_t *rkt;
    const struct rd_kafka_metadata *md = NULL;
    if (!c->dlq_rk || !(rkt = rd_kafka_topic_new(c->dlq_rk, topic, NULL)))
        return;
    if (rd_kafka_metadata(c->dlq_rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
}

int64_t vtev__consumer_tier_due_ms(const rd_kafka_message_t *m) {
    char buf[64];
    int64_t us;
    if (!*vtev__msg_header_str(m, "vtev.retry.due", buf, sizeof(buf)) ||
        vtev__parse_timestamp(buf, &us) != 0)
        return -1;
    return us / 1000;
}

vtev_err_t vtev__consumer_tier_send(vtev_consumer_t *c, const rd_kafka_message_t *m,
                                    const char *base, int n, int attempts, char *errstr,
                                    size_t errstr_size) {
    char to[300], num[32], when[40], opart[32], ooff[32], ots[40], otst[32];
    rd_kafka_headers_t *hdrs, *orig = NULL;
    int64_t delay = vtev__tier_delay_ms(c->tier_backoff, n, c->tier_delay_ms,
                                        c->tier_delay_max_ms);
    bool from_tier = vtev__consumer_tier_of(c, rd_kafka_topic_name(m->rkt), NULL, 0) > 0;

    if (!c->dlq_rk)
        return vtev__fail(VTEV_ERR_STATE, errstr, errstr_size, "no producer for the retry tiers");
    snprintf(to, sizeof(to), "%s.retry.%d", base, n);
    if (!(hdrs = rd_kafka_headers_new(16)))
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "%s: out of memory", to);
    if (from_tier) {
        vtev__msg_header_str(m, "vtev.retry.original.partition", opart, sizeof(opart));
        vtev__msg_header_str(m, "vtev.retry.original.offset", ooff, sizeof(ooff));
        vtev__msg_header_str(m, "vtev.retry.original.timestamp", ots, sizeof(ots));
        vtev__msg_header_str(m, "vtev.retry.original.timestamp.type", otst, sizeof(otst));
    } else {
        snprintf(opart, sizeof(opart), "%" PRId32, m->partition);
        snprintf(ooff, sizeof(ooff), "%" PRId64, m->offset);
        vtev__msg_timestamp_str(m, ots, sizeof(ots), otst, sizeof(otst));
    }
    /* the original headers, without the ones a tier or a dead letter sets */
    if (rd_kafka_message_headers(m, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR && orig) {
        size_t i;
        const char *name;
        const void *val;
        size_t vlen;
        for (i = 0; rd_kafka_header_get_all(orig, i, &name, &val, &vlen) ==
                    RD_KAFKA_RESP_ERR_NO_ERROR;
             i++)
            if (!vtev__dlq_reserved_header(name))
                rd_kafka_header_add(hdrs, name, -1, val, val ? (ssize_t)vlen : -1);
    }
    snprintf(num, sizeof(num), "%d", n);
    rd_kafka_header_add(hdrs, "vtev.retry.tier", -1, num, -1);
    vtev__format_time(vtev__now_wall_us() / 1000 + delay, 1000, when, sizeof(when));
    rd_kafka_header_add(hdrs, "vtev.retry.due", -1, when, -1);
    snprintf(num, sizeof(num), "%d", attempts);
    rd_kafka_header_add(hdrs, "vtev.retry.attempts", -1, num, -1);
    rd_kafka_header_add(hdrs, "vtev.retry.original.topic", -1, base, -1);
    if (*opart)
        rd_kafka_header_add(hdrs, "vtev.retry.original.partition", -1, opart, -1);
    if (*ooff)
        rd_kafka_header_add(hdrs, "vtev.retry.original.offset", -1, ooff, -1);
    if (*ots) {
        rd_kafka_header_add(hdrs, "vtev.retry.original.timestamp", -1, ots, -1);
        if (*otst)
            rd_kafka_header_add(hdrs, "vtev.retry.original.timestamp.type", -1, otst, -1);
    }
    vtev__log(c->conf, 7, "CONSUMER", "%s [%" PRId32 "] offset %" PRId64 ": to %s, due in %" PRId64 " ms",
              rd_kafka_topic_name(m->rkt), m->partition, m->offset, to, delay);
    return vtev__dlq_produce_wait(c, to, m, hdrs, errstr, errstr_size);
}
