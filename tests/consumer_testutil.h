/*
 * consumer_testutil.h - helpers for the consumer tests: publish typed events
 * and raw bytes with a plain librdkafka producer plus the serde, read a
 * dead-letter topic, and record which events a handler saw.
 */
#ifndef VTEV_CONSUMER_TESTUTIL_H
#define VTEV_CONSUMER_TESTUTIL_H

#include <check.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <librdkafka/rdkafka.h>
#include <vtevents/vtevents.h>
#include <vtevents/consumer.h>
#include <vtevents/serde.h>

static inline int64_t ctu_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void ctu_set(vtev_conf_t *conf, const char *k, const char *v) {
    char e[512];
    ck_assert_msg(vtev_conf_set(conf, k, v, e, sizeof(e)) == VTEV_CONF_OK, "%s=%s: %s", k, v, e);
}

/* A consumer conf with fast settings for tests. */
static inline vtev_conf_t *ctu_conf(const char *bootstrap, const char *registry, const char *group) {
    vtev_conf_t *conf = vtev_conf_new();
    ck_assert_ptr_nonnull(conf);
    ctu_set(conf, "bootstrap.servers", bootstrap);
    ctu_set(conf, "schema.registry.url", registry);
    if (group)
        ctu_set(conf, "group.id", group);
    ctu_set(conf, "consumer.retry.backoff.ms", "50");
    ctu_set(conf, "consumer.retry.backoff.max.ms", "200");
    ctu_set(conf, "consumer.commit.interval.ms", "200");
    ctu_set(conf, "kafka.session.timeout.ms", "6000");
    ctu_set(conf, "kafka.heartbeat.interval.ms", "500");
    ctu_set(conf, "kafka.topic.metadata.refresh.interval.ms", "1000");
    ctu_set(conf, "log.level", getenv("CTU_LOG") ? getenv("CTU_LOG") : "4");
    return conf;
}

/* ------------------------------------------------------------ environment */

/* One test's own embedded cluster and registry, "mock://PREFIX-NAME-PID",
 * and a group "g-NAME".  Needs mock_cluster.h (lib/). */
typedef struct ctu_env_s {
    char mock[128]; /* "mock://..." */
    const char *bootstraps;
    char group[64];
} ctu_env_t;

#define CTU_ENV_INIT(env, prefix, name)                                                       \
    do {                                                                                      \
        char ctu_e_[512];                                                                     \
        snprintf((env)->mock, sizeof((env)->mock), "mock://%s-%s-%d", (prefix), (name),      \
                 (int)getpid());                                                              \
        (env)->bootstraps =                                                                   \
            vtev__mock_cluster_bootstraps((env)->mock + 7, ctu_e_, sizeof(ctu_e_));           \
        ck_assert_msg((env)->bootstraps != NULL, "%s", ctu_e_);                               \
        snprintf((env)->group, sizeof((env)->group), "g-%s", (name));                         \
    } while (0)

/* ------------------------------------------------------------ publishing */

typedef struct ctu_pub_s {
    rd_kafka_t *rk;
    vtev_serde_t *serde;
} ctu_pub_t;

static inline ctu_pub_t *ctu_pub_new(const char *bootstraps, vtev_conf_t *serde_conf) {
    ctu_pub_t *p = calloc(1, sizeof(*p));
    rd_kafka_conf_t *rkc = rd_kafka_conf_new();
    char e[512];
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(rd_kafka_conf_set(rkc, "bootstrap.servers", bootstraps, e, sizeof(e)),
                     RD_KAFKA_CONF_OK);
    rd_kafka_conf_set(rkc, "enable.idempotence", "true", e, sizeof(e));
    rd_kafka_conf_set(rkc, "linger.ms", "0", e, sizeof(e));
    rd_kafka_conf_set(rkc, "log_level", "3", e, sizeof(e));
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, rkc, e, sizeof(e));
    ck_assert_msg(p->rk != NULL, "producer: %s", e);
    p->serde = vtev_serde_new(serde_conf, e, sizeof(e));
    ck_assert_msg(p->serde != NULL, "serde: %s", e);
    return p;
}

static inline void ctu_pub_destroy(ctu_pub_t *p) {
    rd_kafka_flush(p->rk, 10000);
    rd_kafka_destroy(p->rk);
    vtev_serde_destroy(p->serde);
    free(p);
}

static inline void ctu_publish_raw(ctu_pub_t *p, const char *topic, const char *key,
                                   const void *val, size_t len) {
    rd_kafka_resp_err_t err = rd_kafka_producev(
        p->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(key, key ? strlen(key) : 0), RD_KAFKA_V_VALUE((void *)val, len),
        RD_KAFKA_V_HEADER("test-header", "h1", 2), RD_KAFKA_V_END);
    ck_assert_msg(!err, "produce: %s", rd_kafka_err2str(err));
    ck_assert_int_eq(rd_kafka_flush(p->rk, 20000), RD_KAFKA_RESP_ERR_NO_ERROR);
}

static inline void ctu_publish(ctu_pub_t *p, const char *topic, const vtev_event_t *ev) {
    void *buf = NULL;
    size_t len = 0;
    char e[512];
    ck_assert_msg(vtev_serde_serialize(p->serde, topic, ev, &buf, &len, NULL, e, sizeof(e)) ==
                      VTEV_ERR_OK,
                  "serialize: %s", e);
    ctu_publish_raw(p, topic, ev->u.env.vessel_id, buf, len);
    vtev_free(buf);
}

static inline void ctu_position(vtev_event_t *ev, const char *vessel) {
    ck_assert_int_eq(vtev_event_init(ev, VTEV_EVENT_POSITION), VTEV_ERR_OK);
    snprintf(ev->u.position.env.vessel_id, sizeof(ev->u.position.env.vessel_id), "%s", vessel);
    ev->u.position.data.lat = 51.95;
    ev->u.position.data.lon = 4.05;
    ev->u.position.data.speed = 12.5;
    ev->u.position.data.heading = 90.0;
    snprintf(ev->u.position.data.status, sizeof(ev->u.position.data.status), "underway");
}

static inline void ctu_request(vtev_event_t *ev, const char *vessel) {
    ck_assert_int_eq(vtev_event_init(ev, VTEV_EVENT_REQUEST), VTEV_ERR_OK);
    snprintf(ev->u.request.env.vessel_id, sizeof(ev->u.request.env.vessel_id), "%s", vessel);
    ev->u.request.data.vessel_snapshot.lat = 10.0;
    ev->u.request.data.vessel_snapshot.lon = 20.0;
    ev->u.request.data.vessel_snapshot.speed = 3.0;
    ev->u.request.data.vessel_snapshot.heading = 180.0;
    snprintf(ev->u.request.data.vessel_snapshot.status,
             sizeof(ev->u.request.data.vessel_snapshot.status), "moored");
}

/* ------------------------------------------------------------ recording */

#define CTU_MAX_IDS 4096

typedef struct ctu_rec_s {
    pthread_mutex_t lock;
    char ids[CTU_MAX_IDS][VTEV_UUID_LEN + 1];
    int counts[CTU_MAX_IDS];
    int last_attempt[CTU_MAX_IDS];
    size_t n;
    size_t total;
} ctu_rec_t;

static inline void ctu_rec_init(ctu_rec_t *r) {
    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&r->lock, NULL);
}

static inline int ctu_rec_add(ctu_rec_t *r, const char *id, int attempt) {
    size_t i;
    int cnt;
    pthread_mutex_lock(&r->lock);
    for (i = 0; i < r->n; i++)
        if (!strcmp(r->ids[i], id))
            break;
    if (i == r->n && r->n < CTU_MAX_IDS) {
        snprintf(r->ids[i], sizeof(r->ids[i]), "%s", id);
        r->n++;
    }
    cnt = ++r->counts[i];
    r->last_attempt[i] = attempt;
    r->total++;
    pthread_mutex_unlock(&r->lock);
    return cnt;
}

static inline int ctu_rec_count(ctu_rec_t *r, const char *id) {
    size_t i;
    int cnt = 0;
    pthread_mutex_lock(&r->lock);
    for (i = 0; i < r->n; i++)
        if (!strcmp(r->ids[i], id))
            cnt = r->counts[i];
    pthread_mutex_unlock(&r->lock);
    return cnt;
}

static inline size_t ctu_rec_distinct(ctu_rec_t *r) {
    size_t n;
    pthread_mutex_lock(&r->lock);
    n = r->n;
    pthread_mutex_unlock(&r->lock);
    return n;
}

/* Polls until cond(arg) or the deadline; returns whether cond became true. */
static inline int ctu_poll_until(vtev_consumer_t *c, int (*cond)(void *), void *arg,
                                 int timeout_ms) {
    int64_t end = ctu_now_ms() + timeout_ms;
    char e[512];
    while (ctu_now_ms() < end) {
        vtev_err_t err = vtev_consumer_poll(c, 100, e, sizeof(e));
        ck_assert_msg(err == VTEV_ERR_OK, "poll: %s: %s", vtev_err2name(err), e);
        if (cond(arg))
            return 1;
    }
    return cond(arg);
}

/* Polls for ms milliseconds. */
static inline void ctu_poll_for(vtev_consumer_t *c, int ms) {
    int64_t end = ctu_now_ms() + ms;
    char e[512];
    while (ctu_now_ms() < end)
        ck_assert_int_eq(vtev_consumer_poll(c, 50, e, sizeof(e)), VTEV_ERR_OK);
}

/* ------------------------------------------------------------ dead letters */

typedef struct ctu_dlq_msg_s {
    char *key;
    size_t key_len;
    char *value;
    size_t len;
    rd_kafka_headers_t *hdrs;
    int64_t timestamp_ms; /* the message's timestamp, -1 if none */
} ctu_dlq_msg_t;

/* Reads up to max messages (all partitions) of topic from the beginning, for
 * at most timeout_ms, stopping early once max were read, as a consumer of
 * isolation.level isolation ("read_committed": what committed transactions
 * wrote, and non-transactional messages; "read_uncommitted": every message
 * written, aborted ones too).  out NULL: only counts.  Returns the count. */
static inline size_t ctu_read_topic_iso(const char *bootstraps, const char *topic,
                                        ctu_dlq_msg_t *out, size_t max, int timeout_ms,
                                        const char *isolation) {
    rd_kafka_conf_t *rkc = rd_kafka_conf_new();
    rd_kafka_t *rk;
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_topic_partition_list_t *l;
    rd_kafka_topic_t *rkt;
    char e[512];
    size_t n = 0;
    int i, parts = 0, eofs = 0;
    int64_t end = ctu_now_ms() + timeout_ms;
    rd_kafka_conf_set(rkc, "bootstrap.servers", bootstraps, e, sizeof(e));
    rd_kafka_conf_set(rkc, "group.id", "ctu-reader", e, sizeof(e));
    rd_kafka_conf_set(rkc, "enable.auto.commit", "false", e, sizeof(e));
    rd_kafka_conf_set(rkc, "log_level", "3", e, sizeof(e));
    rd_kafka_conf_set(rkc, "enable.partition.eof", "true", e, sizeof(e));
    ck_assert_int_eq(rd_kafka_conf_set(rkc, "isolation.level", isolation, e, sizeof(e)),
                     RD_KAFKA_CONF_OK);
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, rkc, e, sizeof(e));
    ck_assert_ptr_nonnull(rk);
    rkt = rd_kafka_topic_new(rk, topic, NULL);
    ck_assert_int_eq(rd_kafka_metadata(rk, 0, rkt, &md, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    l = rd_kafka_topic_partition_list_new(4);
    for (i = 0; md->topic_cnt == 1 && i < md->topics[0].partition_cnt; i++)
        rd_kafka_topic_partition_list_add(l, topic, md->topics[0].partitions[i].id)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    parts = l->cnt;
    rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    while (n < max && ctu_now_ms() < end) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        rd_kafka_headers_t *h = NULL;
        if (!m)
            continue;
        if (m->err) {
            /* every partition read to its end: done (the caller waited for
             * the consumer to finish, so everything is written) */
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF && ++eofs >= parts) {
                rd_kafka_message_destroy(m);
                break;
            }
            rd_kafka_message_destroy(m);
            continue;
        }
        if (!out) {
            n++;
            rd_kafka_message_destroy(m);
            continue;
        }
        out[n].key = m->key ? malloc(m->key_len + 1) : NULL;
        if (out[n].key) {
            memcpy(out[n].key, m->key, m->key_len);
            out[n].key[m->key_len] = '\0';
        }
        out[n].key_len = m->key_len;
        out[n].value = malloc(m->len + 1);
        memcpy(out[n].value, m->payload ? m->payload : "", m->len);
        out[n].value[m->len] = '\0';
        out[n].len = m->len;
        out[n].hdrs = NULL;
        if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR && h)
            out[n].hdrs = rd_kafka_headers_copy(h);
        {
            rd_kafka_timestamp_type_t tst;
            out[n].timestamp_ms = rd_kafka_message_timestamp(m, &tst);
            if (tst == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE)
                out[n].timestamp_ms = -1;
        }
        n++;
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return n;
}

/* ctu_read_topic_iso() as a read_committed consumer (librdkafka's default). */
static inline size_t ctu_read_topic(const char *bootstraps, const char *topic, ctu_dlq_msg_t *out,
                                    size_t max, int timeout_ms) {
    return ctu_read_topic_iso(bootstraps, topic, out, max, timeout_ms, "read_committed");
}

/* The messages a read_committed consumer sees in topic (unlike
 * ctu_topic_count(), transaction markers and aborted messages are not
 * counted). */
static inline size_t ctu_count_topic(const char *bootstraps, const char *topic, int timeout_ms) {
    return ctu_read_topic_iso(bootstraps, topic, NULL, (size_t)-1, timeout_ms, "read_committed");
}

static inline void ctu_dlq_free(ctu_dlq_msg_t *m, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        free(m[i].key);
        free(m[i].value);
        if (m[i].hdrs)
            rd_kafka_headers_destroy(m[i].hdrs);
    }
}

/* The last value of header name as a NUL-terminated string in buf ("" if absent). */
static inline const char *ctu_hdr(const ctu_dlq_msg_t *m, const char *name, char *buf,
                                  size_t size) {
    const void *v = NULL;
    size_t sz = 0;
    buf[0] = '\0';
    if (m->hdrs && rd_kafka_header_get_last(m->hdrs, name, &v, &sz) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        v)
        snprintf(buf, size, "%.*s", (int)sz, (const char *)v);
    return buf;
}

/* The offsets written to topic (all partitions, from the low watermarks),
 * as a read_committed handle is told: up to the first open transaction of
 * each partition, markers of transactions included (ctu_count_topic()
 * counts messages). */
static inline int64_t ctu_topic_count(const char *bootstraps, const char *topic, int partitions) {
    rd_kafka_conf_t *rkc = rd_kafka_conf_new();
    rd_kafka_t *rk;
    char e[512];
    int64_t sum = 0;
    int i;
    rd_kafka_conf_set(rkc, "bootstrap.servers", bootstraps, e, sizeof(e));
    rd_kafka_conf_set(rkc, "log_level", "3", e, sizeof(e));
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, rkc, e, sizeof(e));
    ck_assert_ptr_nonnull(rk);
    for (i = 0; i < partitions; i++) {
        int64_t lo = 0, hi = 0;
        rd_kafka_resp_err_t err =
            rd_kafka_query_watermark_offsets(rk, topic, i, &lo, &hi, 10000);
        ck_assert_msg(!err, "%s [%d]: %s", topic, i, rd_kafka_err2str(err));
        sum += hi - lo;
    }
    rd_kafka_destroy(rk);
    return sum;
}

/* Creates topic with partitions (replication 1) and its ".dlq" (1 partition)
 * on a real broker; an existing topic is fine. */
static inline void ctu_create_topic(const char *bootstraps, const char *topic, int partitions) {
    rd_kafka_conf_t *rkc = rd_kafka_conf_new();
    rd_kafka_t *rk;
    rd_kafka_NewTopic_t *nt[2];
    rd_kafka_queue_t *q;
    rd_kafka_event_t *ev;
    char e[512], dlq[300];
    int i;
    snprintf(dlq, sizeof(dlq), "%s.dlq", topic);
    rd_kafka_conf_set(rkc, "bootstrap.servers", bootstraps, e, sizeof(e));
    rd_kafka_conf_set(rkc, "log_level", "3", e, sizeof(e));
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, rkc, e, sizeof(e));
    ck_assert_ptr_nonnull(rk);
    nt[0] = rd_kafka_NewTopic_new(topic, partitions, 1, e, sizeof(e));
    nt[1] = rd_kafka_NewTopic_new(dlq, 1, 1, e, sizeof(e));
    q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, nt, 2, NULL, q);
    ev = rd_kafka_queue_poll(q, 30000);
    ck_assert_ptr_nonnull(ev);
    {
        const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
        size_t cnt = 0;
        const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &cnt);
        ck_assert_msg(!rd_kafka_event_error(ev), "CreateTopics: %s", rd_kafka_event_error_string(ev));
        for (i = 0; i < (int)cnt; i++) {
            rd_kafka_resp_err_t te = rd_kafka_topic_result_error(tr[i]);
            ck_assert_msg(!te || te == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS, "%s: %s",
                          rd_kafka_topic_result_name(tr[i]), rd_kafka_err2str(te));
        }
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt[0]);
    rd_kafka_NewTopic_destroy(nt[1]);
    rd_kafka_destroy(rk);
}

#endif
