/*
 * producer_fixtures.h - realistic events and a plain librdkafka reader for
 * the serde and producer tests.
 */
#ifndef VTEV_PRODUCER_FIXTURES_H
#define VTEV_PRODUCER_FIXTURES_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <librdkafka/rdkafka.h>
#include <vtevents/vtevents.h>

static inline void fx_state(vtev_vessel_state_t *s, int i) {
    s->lat = 51.95 + (double)(i % 100) * 0.001;
    s->lon = 4.05 - (double)(i % 50) * 0.002;
    s->speed = 11.5 + (double)(i % 7);
    s->heading = (double)((i * 37) % 360);
    snprintf(s->status, sizeof(s->status), "%s", i % 3 ? "underway" : "at anchor");
}

static inline void fx_meta(vtev_envelope_t *env, int i) {
    vtev_metadata_t *md = vtev_envelope_metadata(env);
    char corr[64];
    ck_assert_ptr_nonnull(md);
    snprintf(corr, sizeof(corr), "corr-%06d", i);
    ck_assert_int_eq(vtev_metadata_set_string(md, "correlation_id", corr), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_metadata_set_string(md, "source", "ais-gateway"), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_metadata_set_int(md, "processing_time_ms", 12 + i), VTEV_ERR_OK);
}

static inline void fx_position(vtev_event_t *ev, const char *vessel, int i) {
    ck_assert_int_eq(vtev_event_init(ev, VTEV_EVENT_POSITION), VTEV_ERR_OK);
    snprintf(ev->u.position.env.vessel_id, sizeof(ev->u.position.env.vessel_id), "%s", vessel);
    fx_state(&ev->u.position.data, i);
    fx_meta(&ev->u.env, i);
}

static inline void fx_request(vtev_event_t *ev, const char *vessel, int i) {
    ck_assert_int_eq(vtev_event_init(ev, VTEV_EVENT_REQUEST), VTEV_ERR_OK);
    snprintf(ev->u.request.env.vessel_id, sizeof(ev->u.request.env.vessel_id), "%s", vessel);
    fx_state(&ev->u.request.data.vessel_snapshot, i);
    ev->u.request.data.has_terminal_filter = (i % 2) == 0;
    ev->u.request.data.terminal_filter = ev->u.request.data.has_terminal_filter ? 7 : 0;
    ev->u.request.data.priority = i % 3 == 0 ? VTEV_PRIORITY_HIGH : VTEV_PRIORITY_NORMAL;
    fx_meta(&ev->u.env, i);
}

static inline void fx_result(vtev_event_t *ev, const char *vessel, int i) {
    vtev_result_data_t *d;
    ck_assert_int_eq(vtev_event_init(ev, VTEV_EVENT_RESULT), VTEV_ERR_OK);
    d = &ev->u.result.data;
    snprintf(ev->u.result.env.vessel_id, sizeof(ev->u.result.env.vessel_id), "%s", vessel);
    snprintf(ev->u.result.request_id, sizeof(ev->u.result.request_id), "req-%08x",
             (unsigned)(0xabc00000u + (unsigned)i));
    snprintf(d->prediction_id, sizeof(d->prediction_id), "pred-%d", i);
    d->terminal_id = 3 + i % 4;
    snprintf(d->terminal_name, sizeof(d->terminal_name), "Maasvlakte II terminal %d", i % 4);
    d->confidence_score = 0.87;
    d->scores.proximity = 0.9;
    d->scores.speed = 0.75;
    d->scores.heading = 0.8;
    d->scores.rag_boost = 0.12;
    d->scores.ai_adjustment = -0.05;
    d->distance_km = 12.4 + i;
    d->has_eta_hours = (i % 2) == 1;
    d->eta_hours = d->has_eta_hours ? 1.75 : 0;
    snprintf(d->ai_reasoning, sizeof(d->ai_reasoning),
             "Vessel is %d km out on heading %d, slowing; berth schedule and the historical "
             "pattern of this operator favour the container terminal.",
             12 + i, (i * 37) % 360);
    fx_state(&d->vessel_snapshot, i);
    fx_meta(&ev->u.env, i);
}

static inline void fx_make(vtev_event_t *ev, vtev_event_type_t t, const char *vessel, int i) {
    if (t == VTEV_EVENT_POSITION)
        fx_position(ev, vessel, i);
    else if (t == VTEV_EVENT_REQUEST)
        fx_request(ev, vessel, i);
    else
        fx_result(ev, vessel, i);
}

/* Asserts two events are equal through their JSON form (every field). */
static inline void fx_assert_equal(const vtev_event_t *a, const vtev_event_t *b) {
    char *ja = NULL, *jb = NULL;
    ck_assert_int_eq(vtev_event_to_json(a, 0, &ja, NULL), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_event_to_json(b, 0, &jb, NULL), VTEV_ERR_OK);
    ck_assert_str_eq(ja, jb);
    vtev_free(ja);
    vtev_free(jb);
}

/* A unique name for mock clusters, registries and topics. */
static inline void fx_unique(char *buf, size_t size, const char *prefix) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(buf, size, "%s-%d-%ld%06ld", prefix, (int)getpid(), (long)ts.tv_sec,
             ts.tv_nsec / 1000);
}

/* A plain librdkafka consumer assigned to every partition of topic from the
 * beginning. isolation: "read_committed" or "read_uncommitted". */
static inline rd_kafka_t *fx_reader(const char *bootstraps, const char *topic, int partitions,
                                    const char *isolation) {
    char e[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_t *rk;
    rd_kafka_topic_partition_list_t *l;
    int i;
    ck_assert_int_eq(rd_kafka_conf_set(c, "bootstrap.servers", bootstraps, e, sizeof(e)),
                     RD_KAFKA_CONF_OK);
    rd_kafka_conf_set(c, "group.id", "fx-reader", NULL, 0);
    rd_kafka_conf_set(c, "enable.auto.commit", "false", NULL, 0);
    rd_kafka_conf_set(c, "isolation.level", isolation, NULL, 0);
    rd_kafka_conf_set(c, "log_level", "3", NULL, 0);
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, e, sizeof(e));
    ck_assert_msg(rk != NULL, "%s", e);
    rd_kafka_poll_set_consumer(rk);
    l = rd_kafka_topic_partition_list_new(partitions);
    for (i = 0; i < partitions; i++)
        rd_kafka_topic_partition_list_add(l, topic, i)->offset = RD_KAFKA_OFFSET_BEGINNING;
    ck_assert_int_eq(rd_kafka_assign(rk, l), 0);
    rd_kafka_topic_partition_list_destroy(l);
    return rk;
}

/* Reads up to max messages (stops at max, or idle_ms after the last one once
 * one arrived, or at total_ms). Returns the count; msgs[] are owned by the
 * caller. */
static inline int fx_read(rd_kafka_t *rk, rd_kafka_message_t **msgs, int max, int idle_ms,
                          int total_ms) {
    int n = 0;
    struct timespec t0, t1, tl;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    tl = t0;
    while (n < max) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (m && !m->err) {
            msgs[n++] = m;
            tl = t1;
            continue;
        }
        if (m)
            rd_kafka_message_destroy(m);
        if (n > 0 &&
            (t1.tv_sec - tl.tv_sec) * 1000 + (t1.tv_nsec - tl.tv_nsec) / 1000000 > idle_ms)
            break;
        if ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 > total_ms)
            break;
    }
    return n;
}

/* Counts (and drops) the messages that arrive within ms: none expected. */
static inline int fx_extra(rd_kafka_t *rk, int ms) {
    int n = 0, waited = 0;
    while (waited < ms) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        waited += 100;
        if (!m)
            continue;
        if (!m->err)
            n++;
        rd_kafka_message_destroy(m);
    }
    return n;
}

/* The value of header name as a NUL-terminated copy in buf ("" when absent:
 * returns 0). */
static inline int fx_header(const rd_kafka_message_t *m, const char *name, char *buf,
                            size_t size) {
    rd_kafka_headers_t *h = NULL;
    const void *v;
    size_t len;
    buf[0] = '\0';
    if (rd_kafka_message_headers(m, &h) || !h)
        return 0;
    if (rd_kafka_header_get_last(h, name, &v, &len))
        return 0;
    if (len >= size)
        len = size - 1;
    memcpy(buf, v, len);
    buf[len] = '\0';
    return 1;
}

/* Sum of high watermarks over partitions (messages ever written). */
static inline int64_t fx_topic_count(const char *bootstraps, const char *topic, int partitions) {
    char e[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_t *rk;
    int64_t sum = 0;
    int i;
    rd_kafka_conf_set(c, "bootstrap.servers", bootstraps, e, sizeof(e));
    rd_kafka_conf_set(c, "log_level", "3", NULL, 0);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, e, sizeof(e));
    ck_assert_msg(rk != NULL, "%s", e);
    for (i = 0; i < partitions; i++) {
        int64_t lo = 0, hi = 0;
        rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk, topic, i, &lo, &hi, 10000);
        ck_assert_msg(err == 0, "%s [%d]: %s", topic, i, rd_kafka_err2str(err));
        sum += hi;
    }
    rd_kafka_destroy(rk);
    return sum;
}

#endif
