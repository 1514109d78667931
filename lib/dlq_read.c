/*
 * dlq_read.c - reading a dead-letter topic: the snapshot scan shared by the
 * reader and the replay (dlq_int.h), the parsing of a dead letter's
 * headers, and the public reader of <vtevents/dlq.h>.
 *
 * The scan is a plain librdkafka consumer with assign(): it never joins a
 * group (no rebalances, no member), and commits only when the replay asks
 * it to, as the group whose offsets record the replay's progress.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vtevents/rdkafka_ext.h>

#include "dlq_int.h"
#include "conf_int.h"
#include "internal.h"
#include "rdkafka_int.h"
#include "timestamp.h"

static vtev_err_t set_rk(rd_kafka_conf_t *rc, const char *k, const char *v, char *errstr,
                         size_t errstr_size) {
    char e[512];
    if (rd_kafka_conf_set(rc, k, v, e, sizeof(e)) != RD_KAFKA_CONF_OK)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, "kafka.%s=%s: %s", k, v, e);
    return VTEV_ERR_OK;
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    const vtev__dlq_scan_t *s = rd_kafka_opaque(rk);
    char f[64];
    snprintf(f, sizeof(f), "RDKAFKA-%s", fac);
    vtev__log(s ? s->conf : NULL, level, f, "%s", buf);
}

vtev__dlq_part_t *vtev__dlq_scan_part(vtev__dlq_scan_t *s, int32_t id) {
    int i;
    for (i = 0; i < s->part_cnt; i++)
        if (s->parts[i].id == id)
            return &s->parts[i];
    return NULL;
}

void vtev__dlq_scan_close(vtev__dlq_scan_t *s) {
    if (s->rk) {
        rd_kafka_assign(s->rk, NULL);
        rd_kafka_consumer_close(s->rk);
        rd_kafka_destroy(s->rk);
    }
    free(s->parts);
    free(s->topic);
    vtev_conf_destroy(s->conf);
    memset(s, 0, sizeof(*s));
}

vtev_err_t vtev__dlq_scan_open(vtev__dlq_scan_t *s, const vtev_conf_t *conf, const char *topic,
                               const char *group, char *errstr, size_t errstr_size) {
    char rkerr[512], gid[300];
    rd_kafka_conf_t *rc;
    rd_kafka_topic_t *rkt = NULL;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_partition_list_t *l = NULL;
    rd_kafka_resp_err_t rerr;
    vtev_err_t err = VTEV_ERR_OK;
    int i;

    memset(s, 0, sizeof(*s));
    if (!conf || !topic || !*topic || strlen(topic) > 249)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "topic: must be 1 to 249 characters");
    if (!(s->conf = vtev_conf_dup(conf)))
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "%s: out of memory", topic);
    if (!(rc = vtev_conf_to_rdkafka(conf, RD_KAFKA_CONSUMER, errstr, errstr_size))) {
        vtev__dlq_scan_close(s);
        return VTEV_ERR_INVALID_ARG;
    }
    if (group)
        snprintf(gid, sizeof(gid), "%s", group);
    else /* librdkafka wants a group.id even for assign(); this one commits nothing */
        snprintf(gid, sizeof(gid), "vtev-dlq-reader-%ld-%p", (long)getpid(), (void *)s);
    if ((err = set_rk(rc, "group.id", gid, errstr, errstr_size)) ||
        (err = set_rk(rc, "enable.auto.commit", "false", errstr, errstr_size)) ||
        (err = set_rk(rc, "enable.auto.offset.store", "false", errstr, errstr_size)) ||
        (err = set_rk(rc, "enable.partition.eof", "true", errstr, errstr_size)) ||
        (err = set_rk(rc, "auto.offset.reset", "earliest", errstr, errstr_size))) {
        rd_kafka_conf_destroy(rc);
        vtev__dlq_scan_close(s);
        return err;
    }
    rd_kafka_conf_set_opaque(rc, s);
    rd_kafka_conf_set_log_cb(rc, log_cb);
    if (!(s->rk = rd_kafka_new(RD_KAFKA_CONSUMER, rc, rkerr, sizeof(rkerr)))) {
        rd_kafka_conf_destroy(rc);
        vtev__dlq_scan_close(s);
        return vtev__fail(VTEV_ERR_KAFKA, errstr, errstr_size, "%s: %s", topic, rkerr);
    }
    rd_kafka_poll_set_consumer(s->rk);
    if (!(s->topic = vtev__strdup(topic))) {
        err = vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "%s: out of memory", topic);
        goto fail;
    }
    if (!(rkt = rd_kafka_topic_new(s->rk, topic, NULL))) {
        err = vtev__fail(VTEV_ERR_KAFKA, errstr, errstr_size, "%s: %s", topic,
                         rd_kafka_err2str(rd_kafka_last_error()));
        goto fail;
    }
    rerr = rd_kafka_metadata(s->rk, 0, rkt, &md, 10000);
    rd_kafka_topic_destroy(rkt);
    if (rerr) {
        err = vtev__fail(vtev__kafka_err(rerr), errstr, errstr_size,
                         "%s: cannot read its metadata: %s", topic, rd_kafka_err2str(rerr));
        goto fail;
    }
    if (md->topic_cnt < 1 || md->topics[0].err || md->topics[0].partition_cnt < 1) {
        rerr = md->topic_cnt < 1 || !md->topics[0].err ? RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
                                                       : md->topics[0].err;
        err = vtev__fail(rerr == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ? VTEV_ERR_NOT_FOUND
                                                                         : VTEV_ERR_KAFKA,
                         errstr, errstr_size, "%s: %s", topic, rd_kafka_err2str(rerr));
        goto fail;
    }
    s->part_cnt = md->topics[0].partition_cnt;
    if (!(s->parts = calloc((size_t)s->part_cnt, sizeof(*s->parts))) ||
        !(l = rd_kafka_topic_partition_list_new(s->part_cnt))) {
        err = vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "%s: out of memory", topic);
        goto fail;
    }
    for (i = 0; i < s->part_cnt; i++) {
        s->parts[i].id = md->topics[0].partitions[i].id;
        rd_kafka_topic_partition_list_add(l, topic, s->parts[i].id)->offset =
            RD_KAFKA_OFFSET_INVALID;
    }
    if (group && (rerr = rd_kafka_committed(s->rk, l, 10000))) {
        err = vtev__fail(VTEV_ERR_KAFKA, errstr, errstr_size,
                         "%s: cannot read the committed offsets of group %s: %s", topic, group,
                         rd_kafka_err2str(rerr));
        goto fail;
    }
    for (i = 0; i < l->cnt; i++) {
        int64_t lo, hi, start;
        vtev__dlq_part_t *p = vtev__dlq_scan_part(s, l->elems[i].partition);
        if ((rerr = rd_kafka_query_watermark_offsets(s->rk, topic, p->id, &lo, &hi, 10000))) {
            err = vtev__fail(VTEV_ERR_KAFKA, errstr, errstr_size,
                             "%s [%" PRId32 "]: cannot read its watermarks: %s", topic, p->id,
                             rd_kafka_err2str(rerr));
            goto fail;
        }
        start = l->elems[i].offset >= 0 && !l->elems[i].err ? l->elems[i].offset : lo;
        if (start < lo)
            start = lo; /* the committed ones were deleted by retention */
        p->end = hi;
        p->done = start >= hi;
        if (!p->done)
            s->remaining++;
        l->elems[i].offset = start;
    }
    if ((rerr = rd_kafka_assign(s->rk, l))) {
        err = vtev__fail(VTEV_ERR_KAFKA, errstr, errstr_size, "%s: assign: %s", topic,
                         rd_kafka_err2str(rerr));
        goto fail;
    }
    /* partitions with nothing to read fetch nothing */
    {
        rd_kafka_topic_partition_list_t *idle = rd_kafka_topic_partition_list_new(s->part_cnt);
        if (idle) {
            for (i = 0; i < s->part_cnt; i++)
                if (s->parts[i].done)
                    rd_kafka_topic_partition_list_add(idle, topic, s->parts[i].id);
            if (idle->cnt)
                rd_kafka_pause_partitions(s->rk, idle);
            rd_kafka_topic_partition_list_destroy(idle);
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_metadata_destroy(md);
    return VTEV_ERR_OK;
fail:
    if (l)
        rd_kafka_topic_partition_list_destroy(l);
    if (md)
        rd_kafka_metadata_destroy(md);
    vtev__dlq_scan_close(s);
    return err;
}

static void part_finished(vtev__dlq_scan_t *s, vtev__dlq_part_t *p) {
    rd_kafka_topic_partition_list_t *l;
    if (p->done)
        return;
    p->done = true;
    s->remaining--;
    /* stop fetching what came after the snapshot */
    if ((l = rd_kafka_topic_partition_list_new(1))) {
        rd_kafka_topic_partition_list_add(l, s->topic, p->id);
        rd_kafka_pause_partitions(s->rk, l);
        rd_kafka_topic_partition_list_destroy(l);
    }
}

vtev_err_t vtev__dlq_scan_next(vtev__dlq_scan_t *s, rd_kafka_message_t **mp, int timeout_ms,
                               char *errstr, size_t errstr_size) {
    int64_t deadline = vtev__now_mono_us() + (int64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000;
    *mp = NULL;
    while (s->remaining > 0) {
        int64_t left = (deadline - vtev__now_mono_us()) / 1000;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(s->rk, left > 0 ? (int)left : 0);
        vtev__dlq_part_t *p;
        if (!m) {
            if (left <= 0)
                return vtev__fail(VTEV_ERR_TIMED_OUT, errstr, errstr_size,
                                  "%s: nothing arrived in %d ms", s->topic, timeout_ms);
            continue;
        }
        p = m->rkt && !strcmp(rd_kafka_topic_name(m->rkt), s->topic)
                ? vtev__dlq_scan_part(s, m->partition)
                : NULL;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (p && m->offset >= p->end)
                part_finished(s, p);
            rd_kafka_message_destroy(m);
            continue;
        }
        if (m->err) {
            rd_kafka_resp_err_t e = m->err;
            if (e == RD_KAFKA_RESP_ERR__FATAL || e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                e == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC || e == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION ||
                e == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
                e == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED) {
                vtev__seterr(errstr, errstr_size, "%s: %s", s->topic, rd_kafka_message_errstr(m));
                rd_kafka_message_destroy(m);
                return VTEV_ERR_KAFKA;
            }
            rd_kafka_message_destroy(m); /* transient: librdkafka retries */
            continue;
        }
        if (!p || p->done || m->offset >= p->end) {
            if (p)
                part_finished(s, p);
            rd_kafka_message_destroy(m);
            continue;
        }
        if (m->offset + 1 >= p->end)
            part_finished(s, p);
        *mp = m;
        return VTEV_ERR_OK;
    }
    return VTEV_ERR_OK;
}

/* ---- parsing ------------------------------------------------------------ */

enum { F_OTOPIC, F_OPART, F_OOFF, F_OTS, F_CODE, F_MSG, F_GROUP, F_ATT, F_TIME, F_EVID,
       F_TP, F_TS, F_RCOUNT, F_RAT, F__N };
static const char *const field_names[F__N] = {
    "vtev.original.topic", "vtev.original.partition", "vtev.original.offset",
    "vtev.original.timestamp", "vtev.error.code", "vtev.error.message", "vtev.consumer.group",
    "vtev.attempts", "vtev.dlq.time", "event_id", "traceparent", "tracestate",
    "vtev.replay.count", "vtev.replayed.at"};

static int64_t parse_int(const char *s, int64_t dflt) {
    char *end;
    long long v;
    if (!s || !*s)
        return dflt;
    v = strtoll(s, &end, 10);
    return *end || v < 0 ? dflt : (int64_t)v;
}

static int64_t parse_ms(const char *s) {
    int64_t us;
    if (!s || vtev__parse_timestamp(s, &us) != 0)
        return -1;
    return us / 1000;
}

vtev_err_t vtev__dlq_parse(vtev__dlq_parsed_t *p, const rd_kafka_message_t *m) {
    rd_kafka_headers_t *hdrs = NULL;
    const char *name;
    const void *val;
    size_t vlen, i, n = 0, need = 0, at = 0;
    const void *fv[F__N];
    size_t fl[F__N];
    const char *fs[F__N];
    vtev_dead_letter_t *dl = &p->dl;
    rd_kafka_timestamp_type_t tst;
    int f;

    memset(fv, 0, sizeof(fv));
    memset(fl, 0, sizeof(fl));
    memset(fs, 0, sizeof(fs));
    if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
        hdrs = NULL;
    if (hdrs)
        n = rd_kafka_header_cnt(hdrs);
    if (n > p->hdr_cap) {
        vtev_header_t *nh = realloc(p->hdrs, n * sizeof(*nh));
        if (!nh)
            return VTEV_ERR_NOMEM;
        p->hdrs = nh;
        p->hdr_cap = n;
    }
    for (i = 0; i < n && rd_kafka_header_get_all(hdrs, i, &name, &val, &vlen) == 0; i++) {
        p->hdrs[i].name = name;
        p->hdrs[i].value = val;
        p->hdrs[i].value_len = val ? vlen : 0;
        for (f = 0; f < F__N; f++)
            if (val && !strcmp(name, field_names[f])) { /* the last one counts */
                fv[f] = val;
                fl[f] = vlen;
            }
    }
    n = i;
    for (f = 0; f < F__N; f++)
        if (fv[f])
            need += fl[f] + 1;
    if (need > p->strs_cap) {
        char *ns = realloc(p->strs, need);
        if (!ns)
            return VTEV_ERR_NOMEM;
        p->strs = ns;
        p->strs_cap = need;
    }
    for (f = 0; f < F__N; f++)
        if (fv[f]) {
            /* a value with a NUL inside is cut there */
            memcpy(p->strs + at, fv[f], fl[f]);
            p->strs[at + fl[f]] = '\0';
            fs[f] = p->strs + at;
            at += fl[f] + 1;
        }
    memset(dl, 0, sizeof(*dl));
    dl->topic = m->rkt ? rd_kafka_topic_name(m->rkt) : NULL;
    dl->partition = m->partition;
    dl->offset = m->offset;
    dl->timestamp_ms = rd_kafka_message_timestamp(m, &tst);
    if (tst == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE)
        dl->timestamp_ms = -1;
    dl->original_topic = fs[F_OTOPIC];
    dl->original_partition = (int32_t)parse_int(fs[F_OPART], -1);
    if (dl->original_partition != parse_int(fs[F_OPART], -1))
        dl->original_partition = -1;
    dl->original_offset = parse_int(fs[F_OOFF], -1);
    dl->original_timestamp_ms = parse_ms(fs[F_OTS]);
    dl->error_code = fs[F_CODE];
    dl->error_message = fs[F_MSG];
    dl->consumer_group = fs[F_GROUP];
    dl->attempts = (int)parse_int(fs[F_ATT], -1);
    dl->dlq_time_ms = parse_ms(fs[F_TIME]);
    if (dl->dlq_time_ms < 0)
        dl->dlq_time_ms = dl->timestamp_ms;
    dl->event_id = fs[F_EVID];
    dl->traceparent = fs[F_TP];
    dl->tracestate = fs[F_TS];
    {
        int64_t rc = parse_int(fs[F_RCOUNT], 0);
        dl->replay_count = rc > 1000000000 ? 1000000000 : (int)rc;
    }
    dl->replayed_at_ms = parse_ms(fs[F_RAT]);
    dl->key = m->key;
    dl->key_len = m->key ? m->key_len : 0;
    dl->value = m->len ? m->payload : NULL;
    dl->value_len = m->len;
    dl->headers = n ? p->hdrs : NULL;
    dl->header_cnt = n;
    return VTEV_ERR_OK;
}

void vtev__dlq_parsed_clear(vtev__dlq_parsed_t *p) {
    free(p->hdrs);
    free(p->strs);
    memset(p, 0, sizeof(*p));
}

/* ---- the public reader -------------------------------------------------- */

struct vtev_dlq_reader_s {
    vtev__dlq_scan_t scan;
    rd_kafka_message_t *msg; /* the one handed out last */
    vtev__dlq_parsed_t parsed;
};

vtev_dlq_reader_t *vtev_dlq_reader_new(const vtev_conf_t *conf, const char *topic, char *errstr,
                                       size_t errstr_size) {
    vtev_dlq_reader_t *r = calloc(1, sizeof(*r));
    if (!r) {
        vtev__seterr(errstr, errstr_size, "out of memory");
        return NULL;
    }
    if (vtev__dlq_scan_open(&r->scan, conf, topic, NULL, errstr, errstr_size) != VTEV_ERR_OK) {
        free(r);
        return NULL;
    }
    return r;
}

vtev_err_t vtev_dlq_reader_next(vtev_dlq_reader_t *r, const vtev_dead_letter_t **dlp,
                                int timeout_ms, char *errstr, size_t errstr_size) {
    vtev_err_t err;
    if (!r || !dlp)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "vtev_dlq_reader_next: NULL argument");
    *dlp = NULL;
    if (r->msg) {
        rd_kafka_message_destroy(r->msg);
        r->msg = NULL;
    }
    if ((err = vtev__dlq_scan_next(&r->scan, &r->msg, timeout_ms, errstr, errstr_size)) ||
        !r->msg)
        return err;
    if (vtev__dlq_parse(&r->parsed, r->msg) != VTEV_ERR_OK) {
        rd_kafka_message_destroy(r->msg);
        r->msg = NULL;
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    *dlp = &r->parsed.dl;
    return VTEV_ERR_OK;
}

void vtev_dlq_reader_destroy(vtev_dlq_reader_t *r) {
    if (!r)
        return;
    if (r->msg)
        rd_kafka_message_destroy(r->msg);
    vtev__dlq_parsed_clear(&r->parsed);
    vtev__dlq_scan_close(&r->scan);
    free(r);
}
